import init, { PeliqanEmbed, PeliqanError } from 'peliqan-embed';
import { before, after, initFailed } from './checks.js';

const sdk = { init, PeliqanEmbed, PeliqanError };
const out = await before(sdk);
try {
  await init(); // webpack 5 emits the `.wasm` it finds in `new URL(..., import.meta.url)`
} catch (e) {
  initFailed(out, e, sdk);
  throw e;
}
await after(out, sdk);
