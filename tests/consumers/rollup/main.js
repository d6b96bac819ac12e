import init, { PeliqanEmbed, PeliqanError } from 'peliqan-embed';
import { before, after, initFailed } from './checks.js';

const sdk = { init, PeliqanEmbed, PeliqanError };
const out = await before(sdk);
try {
  await init(); // the `.wasm` was copied next to the bundle (package.json's build script)
} catch (e) {
  initFailed(out, e, sdk);
  throw e;
}
await after(out, sdk);
