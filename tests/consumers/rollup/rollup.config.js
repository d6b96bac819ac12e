// Rollup leaves `new URL('peliqan_embed_bg.wasm', import.meta.url)` as it
// is, so the build script copies the file next to the bundle (dist/).
import { nodeResolve } from '@rollup/plugin-node-resolve';

export default {
  input: 'main.js',
  output: { dir: 'dist', format: 'es' },
  plugins: [nodeResolve({ browser: true })],
};
