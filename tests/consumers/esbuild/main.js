import init, { PeliqanEmbed, PeliqanError } from 'peliqan-embed';
// With --loader:.wasm=file esbuild copies the file into the output folder
// and this import is its URL (with --public-path=/ : "/peliqan_embed_bg-HASH.wasm").
import wasmUrl from 'peliqan-embed/peliqan_embed_bg.wasm';
import { before, after, initFailed } from './checks.js';

const sdk = { init, PeliqanEmbed, PeliqanError };
const out = await before(sdk);
try {
  await init({ module_or_path: wasmUrl });
} catch (e) {
  initFailed(out, e, sdk);
  throw e;
}
await after(out, sdk);
