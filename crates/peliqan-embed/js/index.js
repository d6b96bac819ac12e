// Entry of `peliqan-embed`: init(), which checks the .wasm answer, and
// PeliqanEmbed (sdk.js's class over the wasm Core), which waits for it
// (README "Bundlers"). `cargo xtask npm` rewrites './peliqan-error.js' to
// wasm-bindgen's copy and bundles this file with the glue and sdk.js.
import glueInit, { initSync as glueSync, Core } from './peliqan_embed.js';
import { PeliqanError } from './peliqan-error.js';
import { Sdk } from './sdk.js';

export { PeliqanError };

let ready, pending;
const fail = (m) => new PeliqanError('invalid_config', 'peliqan-embed: ' + m);
const HINT = ' instead of WebAssembly: the bundler or server did not put peliqan_embed_bg.wasm there.'
  + " Vite: optimizeDeps: { exclude: ['peliqan-embed'] }; esbuild: --loader:.wasm=file and"
  + " init({ module_or_path: url }) with url imported from 'peliqan-embed/peliqan_embed_bg.wasm',"
  + ' or copy the file next to the bundle. See "Bundlers" in the README.';
const plain = (x) => x != null && Object.getPrototypeOf(x) === Object.prototype;
const head = (b) => b instanceof ArrayBuffer ? new Uint8Array(b, 0, Math.min(4, b.byteLength))
  : ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, Math.min(4, b.byteLength)) : null;
const notWasm = (b) => b && (b.length < 4 || b[0] || b[1] !== 97 || b[2] !== 115 || b[3] !== 109);

// application/wasm: the Response (streamed); else its bytes, once checked.
async function checked(res, url) {
  const type = res.headers.get('Content-Type') || '';
  if (!res.ok) throw fail(`${url} answered ${res.status} ${res.statusText}` + HINT);
  if (/^application\/wasm\b/i.test(type)) return res;
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (notWasm(bytes)) {
    const text = new TextDecoder().decode(bytes.subarray(0, 15)).replace(/\s+/g, ' ');
    throw fail(`${url} answered ${type || 'no Content-Type'} ("${text}...")` + HINT);
  }
  return bytes;
}

async function load(input) {
  let src = await (plain(input) ? input.module_or_path : input);
  // Literal, so that Vite, webpack and Turbopack emit the file.
  if (src === undefined) src = new URL('peliqan_embed_bg.wasm', import.meta.url);
  const req = typeof Request == 'function' && src instanceof Request;
  if (req || typeof src == 'string' || src instanceof URL) {
    const url = req ? src.url : String(src);
    let res;
    try {
      res = await fetch(src);
    } catch (e) {
      throw new PeliqanError('network', `peliqan-embed: could not fetch ${url}: ${e && e.message}`);
    }
    src = await checked(res, url);
  } else if (typeof Response == 'function' && src instanceof Response) {
    src = await checked(src, src.url || 'the Response');
  } else if (notWasm(head(src))) {
    throw fail('the bytes given to init() are not WebAssembly');
  }
  const out = await glueInit({ module_or_path: src });
  ready = true;
  return out;
}

export default function init(input) {
  if (ready) return glueInit();
  if (!pending) (pending = load(input)).catch(() => { pending = undefined; });
  return pending;
}

export function initSync(input) {
  const src = plain(input) ? input.module : input;
  if (notWasm(head(src))) throw fail('the bytes given to initSync() are not WebAssembly');
  const out = glueSync({ module: src });
  ready = true;
  return out;
}

export class PeliqanEmbed extends Sdk {
  constructor(options) {
    if (!ready) throw fail('call `await init()` before `new PeliqanEmbed(...)`: the WebAssembly module is not loaded yet');
    super(options, new Core(options));
  }
}
