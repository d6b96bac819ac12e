// Nothing SDK-specific: webpack 5 turns the package's
// `new URL('peliqan_embed_bg.wasm', import.meta.url)` into an emitted asset
// (no experiments.asyncWebAssembly: the SDK fetches the file itself).
import { fileURLToPath } from 'node:url';

export default {
  entry: './main.js',
  output: { path: fileURLToPath(new URL('dist', import.meta.url)), clean: true },
  performance: { hints: false },
};
