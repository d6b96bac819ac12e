// Entry point of the npm package `peliqan-embed`: the wasm-bindgen glue
// (init + the PeliqanEmbed class) and the SDK's one error class.
// `cargo xtask npm` rewrites the error module's path to where wasm-bindgen
// put it, so `instanceof PeliqanError` matches the errors the SDK throws.
export { default, initSync, PeliqanEmbed } from './peliqan_embed.js';
export { PeliqanError } from './peliqan-error.js';
