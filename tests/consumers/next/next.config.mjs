// Static export (`out/`), so the same static server as the other apps
// serves it. Nothing SDK-specific: Turbopack emits the `.wasm` it finds in
// the package's `new URL('peliqan_embed_bg.wasm', import.meta.url)`.
export default { output: 'export' };
