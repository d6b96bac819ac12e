import init, { PeliqanEmbed, PeliqanError } from 'peliqan-embed';
import { before, after, initFailed } from './checks.js';

const sdk = { init, PeliqanEmbed, PeliqanError };
const out = await before(sdk);
try {
  await init(); // the README's line: the `.wasm` comes from the bundler's `new URL` handling
} catch (e) {
  initFailed(out, e, sdk);
  throw e;
}
await after(out, sdk);
