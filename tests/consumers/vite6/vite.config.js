// The README's Vite 6/7 config. CONSUMER_NO_EXCLUDE=1 (set by
// `cargo xtask consumers` for one dev-server run) drops the exclude, to
// check the SDK's error message names this fix.
import { defineConfig } from 'vite';

export default defineConfig({
  // The dependency optimizer would move the glue into node_modules/.vite/deps,
  // away from peliqan_embed_bg.wasm.
  optimizeDeps: process.env.CONSUMER_NO_EXCLUDE ? {} : { exclude: ['peliqan-embed'] },
  // Top-level `await init()` needs es2022 (Vite 6's default target is es2020).
  build: { target: 'es2022' },
});
