// What every consumer app does with the SDK, copied next to each app's
// main.js by `cargo xtask consumers`. The app imports `peliqan-embed` the
// way its bundler's README recipe says, then hands the imports here:
//   const out = await before(sdk);  await init(...);  await after(out, sdk);
// The result lands in `window.__result` for the driver (driver.mjs).
// The page URL carries the emulator's address: ?emu=URL&token=PARTNER_JWT.

const q = new URLSearchParams(location.search);
const describe = (e, PeliqanError) => ({
  peliqanError: e instanceof PeliqanError,
  error: e instanceof Error,
  code: e && e.code,
  message: String((e && e.message) || e),
});

/** Before `init()`: the constructor's PeliqanError, and bad `.wasm` URLs. */
export async function before({ init, PeliqanEmbed, PeliqanError }) {
  const out = { bundler: document.documentElement.dataset.bundler };
  window.__result = undefined;
  try {
    new PeliqanEmbed({ tokenUrl: '/peliqan/v1/token' });
    out.beforeInit = 'constructed';
  } catch (e) {
    out.beforeInit = describe(e, PeliqanError);
  }
  // A 404 and an HTML page where the `.wasm` should be (init() may be
  // called again after it rejected).
  out.badUrls = [];
  for (const url of ['/no-such-dir/peliqan_embed_bg.wasm', `${location.origin}/`]) {
    try {
      await init({ module_or_path: url });
      out.badUrls.push('resolved');
    } catch (e) {
      out.badUrls.push(describe(e, PeliqanError));
    }
  }
  return out;
}

/** The SDK's `init()` failed: report it. */
export function initFailed(out, e, { PeliqanError }) {
  out.init = describe(e, PeliqanError);
  window.__result = out;
}

/** After `init()`: the SDK against the emulator. */
export async function after(out, { PeliqanEmbed, PeliqanError }) {
  out.init = 'ok';
  try {
    try {
      new PeliqanEmbed({ tokenUrl: '/t', dialect: 'v9' });
    } catch (e) {
      out.invalidOptions = describe(e, PeliqanError);
    }
    const emu = q.get('emu');
    const partner = { Authorization: `JWT ${q.get('token')}`, 'Content-Type': 'application/json' };
    const tenant = `consumer-${Math.random().toString(36).slice(2)}`;
    await fetch(`${emu}/api/subaccount`, { method: 'POST', headers: partner, body: JSON.stringify({ external_id: tenant }) });
    const getToken = async () => {
      const r = await fetch(`${emu}/api/subaccount/token?external_id=${tenant}`, { headers: partner });
      return { token: (await r.json()).token };
    };
    const embed = new PeliqanEmbed({
      peliqanUrl: emu,
      getToken,
      connectorsUrl: `${emu}/api/servertypes`,
      headers: { Authorization: partner.Authorization },
    });
    out.instanceOf = embed instanceof PeliqanEmbed;
    const connectors = await embed.connectors();
    out.connectors = connectors.map((c) => c.name);
    const pipedrive = connectors.find((c) => c.name === 'pipedrive');
    out.connected = (await embed.connect(pipedrive, { api_token: 'from-a-bundler' })).status;
    try {
      await embed.connect(pipedrive, {});
    } catch (e) {
      out.validation = describe(e, PeliqanError);
    }
    embed.free();
  } catch (e) {
    out.failure = describe(e, PeliqanError);
  }
  window.__result = out;
}
