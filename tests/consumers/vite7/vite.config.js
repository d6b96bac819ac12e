// The README's Vite 7 config.
import { defineConfig } from 'vite';

export default defineConfig({
  // The dependency optimizer would move the glue into node_modules/.vite/deps,
  // away from peliqan_embed_bg.wasm. (Vite 7's default build target has
  // top-level await, so no build.target is needed, unlike Vite 6.)
  optimizeDeps: { exclude: ['peliqan-embed'] },
});
