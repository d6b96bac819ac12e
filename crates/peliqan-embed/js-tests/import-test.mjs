// The packed npm package, installed in a scratch folder, imported from a
// plain <script type="module"> page in headless Chromium: init, the error
// class, a connector list and an API-key connection against the emulator.
// Run by `cargo xtask test` from the scratch folder (cwd) with PORT,
// CHROMIUM, PELIQAN_EMULATOR_URL and PELIQAN_PARTNER_TOKEN set.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

const { PORT, CHROMIUM, PELIQAN_EMULATOR_URL: EMU, PELIQAN_PARTNER_TOKEN: PARTNER } = process.env;
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

const PAGE = `<!doctype html><meta charset="utf-8">
<script type="importmap">{"imports": {"peliqan-embed": "/node_modules/peliqan-embed/index.js"}}</script>
<script type="module">
import init, { PeliqanEmbed, PeliqanError } from 'peliqan-embed';
const EMU = ${JSON.stringify(EMU)}, AUTH = 'JWT ' + ${JSON.stringify(PARTNER)};
const out = {};
try {
  await init();
  try { new PeliqanEmbed({ tokenUrl: '/t', dialect: 'v9' }); } catch (e) {
    out.invalid = [e instanceof PeliqanError, e instanceof Error, e.code];
  }
  const tenant = 'npm' + Math.random().toString(36).slice(2);
  const partner = { Authorization: AUTH, 'Content-Type': 'application/json' };
  await fetch(EMU + '/api/subaccount', { method: 'POST', headers: partner, body: JSON.stringify({ external_id: tenant }) });
  const getToken = async () => {
    const r = await fetch(EMU + '/api/subaccount/token?external_id=' + tenant, { headers: partner });
    return { token: (await r.json()).token };
  };
  const embed = new PeliqanEmbed({ peliqanUrl: EMU, getToken, connectorsUrl: EMU + '/api/servertypes', headers: { Authorization: AUTH } });
  out.connectors = (await embed.connectors()).map((c) => c.name);
  out.status = (await embed.connect(123, { api_token: 'from-npm' })).status;
  try { await embed.connect(123, {}); } catch (e) { out.validation = [e.code, Object.keys(e.details.fields)]; }
} catch (e) {
  out.error = String(e) + ' ' + (e && e.code);
}
window.__result = out;
</script>`;

const server = createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/') return res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
  const file = normalize(join(process.cwd(), path));
  if (!file.startsWith(process.cwd())) return res.writeHead(403).end();
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(Number(PORT), '127.0.0.1', ok));

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
let failed = true;
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error('page:', m.text()));
  await page.goto(`http://127.0.0.1:${PORT}/`);
  const result = await page.waitForFunction(() => window.__result, null, { timeout: 60_000 }).then((h) => h.jsonValue());
  console.log('npm import test result:', JSON.stringify(result));
  const expect = (cond, what) => { if (!cond) throw new Error('npm import test: ' + what); };
  expect(!result.error, result.error);
  expect(JSON.stringify(result.invalid) === '[true,true,"invalid_config"]', 'PeliqanError class for invalid options');
  expect(result.connectors.includes('pipedrive'), 'connectors listed');
  expect(result.status === 'connected', 'API-key connection live');
  expect(JSON.stringify(result.validation) === '["validation",["api_token"]]', 'per-field validation');
  failed = false;
  console.log('npm import test: ok');
} finally {
  await browser.close();
  server.close();
  process.exitCode = failed ? 1 : 0;
}
