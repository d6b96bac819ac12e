// Loads one consumer app in headless Chromium and checks what the SDK did
// there (shared/checks.js). Run by `cargo xtask consumers` from the app's
// folder (a copy under target/consumers/NAME) with:
//   MODE     `static` (serve ./dist, as built), `dev` (the app's Vite or
//            Next.js dev server) or `dev-no-exclude` (Vite dev server without
//            optimizeDeps.exclude: init() must reject with the fix named)
//   PORT     the port to serve on (the emulator allows exactly this origin)
//   EMU, TOKEN  the emulator's URL and partner token
//   CHROMIUM, PLAYWRIGHT  Chromium's path and playwright-core's index.mjs
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';

const { MODE, PORT, EMU, TOKEN, CHROMIUM, PLAYWRIGHT } = process.env;
const { chromium } = await import(pathToFileURL(PLAYWRIGHT).href);
const NAME = process.cwd().split('/').pop();
const origin = `http://127.0.0.1:${PORT}`;
const TYPES = {
  '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.html': 'text/html', '.css': 'text/css', '.json': 'application/json',
};

class Failure extends Error {}
const expect = (cond, what) => { if (!cond) throw new Failure(`${NAME} (${MODE}): ${what}`); };

async function files(dir) {
  const found = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) found.push(join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
  }
  return found;
}

// A plain static server of ./dist: a missing file is a 404, as on a CDN.
async function serveDist() {
  const root = join(process.cwd(), 'dist');
  const built = await files(root);
  console.error(`${NAME}: dist holds ${built.join(', ')}`);
  expect(built.some((f) => f.endsWith('.wasm')),
    'the build emitted no .wasm file into dist/: the bundler did not pick up peliqan_embed_bg.wasm '
    + "(packaging regression? the package must keep `new URL('peliqan_embed_bg.wasm', import.meta.url)` literally)");
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, origin).pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((ok) => server.listen(Number(PORT), '127.0.0.1', ok));
  return async () => server.close();
}

// The app's own dev server: Vite (--force: optimize the freshly installed
// tarball again instead of reusing node_modules/.vite) or Next.js. In its
// own process group, so that stopping it stops its workers too.
async function serveDev() {
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  if (MODE === 'dev-no-exclude') env.CONSUMER_NO_EXCLUDE = '1';
  else delete env.CONSUMER_NO_EXCLUDE;
  const [bin, args] = existsSync('node_modules/.bin/next')
    ? ['next', ['dev', '--port', PORT, '--hostname', '127.0.0.1']]
    : ['vite', ['--port', PORT, '--strictPort', '--host', '127.0.0.1', '--force']];
  const child = spawn(`node_modules/.bin/${bin}`, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => process.stderr.write(`${bin}: ${d}`));
  child.stderr.on('data', (d) => process.stderr.write(`${bin}: ${d}`));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((ok) => child.once('exit', ok));
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    await exited;
  };
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      expect(child.exitCode === null, `${bin} dev server exited (${child.exitCode})`);
      expect(Date.now() < deadline, `${bin} dev server did not answer within 60 s`);
      try {
        if ((await fetch(`${origin}/`)).ok) break;
      } catch { /* not listening yet */ }
      await new Promise((ok) => setTimeout(ok, 200));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return stop;
}

const isPeliqanError = (r, code) => r && typeof r === 'object' && r.peliqanError && r.error && r.code === code;

function check(r) {
  expect(isPeliqanError(r.beforeInit, 'invalid_config') && r.beforeInit.message.includes('await init()'),
    `new PeliqanEmbed() before init() must throw PeliqanError invalid_config naming init(); got ${JSON.stringify(r.beforeInit)}`);
  const [missing, html] = r.badUrls;
  expect(isPeliqanError(missing, 'invalid_config') && missing.message.includes('/no-such-dir/peliqan_embed_bg.wasm')
    // A Vite dev server answers its index.html for any unknown path.
    && (missing.message.includes('404') || (MODE !== 'static' && missing.message.includes('text/html')))
    && missing.message.includes('optimizeDeps') && missing.message.includes('--loader:.wasm=file'),
  `init() with a .wasm URL answering 404 must reject with PeliqanError naming the URL and the fixes; got ${JSON.stringify(missing)}`);
  expect(isPeliqanError(html, 'invalid_config') && html.message.includes('text/html'),
    `init() with a .wasm URL answering HTML must reject with PeliqanError naming text/html; got ${JSON.stringify(html)}`);
  if (MODE === 'dev-no-exclude') {
    expect(isPeliqanError(r.init, 'invalid_config') && r.init.message.includes('optimizeDeps'),
      `without optimizeDeps.exclude, init() should reject with PeliqanError naming optimizeDeps; got ${JSON.stringify(r.init)}`);
    return;
  }
  expect(r.init === 'ok', `init() failed, so the app does not get peliqan_embed_bg.wasm from its bundler: ${JSON.stringify(r.init)}`);
  expect(!r.failure, `the SDK failed after init(): ${JSON.stringify(r.failure)}`);
  expect(isPeliqanError(r.invalidOptions, 'invalid_config'),
    `wrong options must throw the package's PeliqanError class (same class as the wasm throws); got ${JSON.stringify(r.invalidOptions)}`);
  expect(r.instanceOf === true, 'new PeliqanEmbed(...) instanceof PeliqanEmbed');
  expect(r.connectors?.includes('pipedrive'), `connectors() from the emulator; got ${JSON.stringify(r.connectors)}`);
  expect(r.connected === 'connected', `an API-key connection goes live; got ${JSON.stringify(r.connected)}`);
  expect(isPeliqanError(r.validation, 'validation'), `a missing field is a validation PeliqanError; got ${JSON.stringify(r.validation)}`);
}

let stop;
try {
  stop = MODE === 'static' ? await serveDist() : await serveDev();
} catch (e) {
  console.error(e instanceof Failure ? `FAILED: ${e.message}` : e);
  process.exit(1);
}
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  const log = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e}`));
  page.on('response', (res) => {
    if (res.url().includes('.wasm')) log.push(`fetched ${res.url()} -> ${res.status()} ${res.headers()['content-type']}`);
  });
  const url = `${origin}/?emu=${encodeURIComponent(EMU)}&token=${encodeURIComponent(TOKEN)}`;
  await page.goto(url);
  let result;
  try {
    result = await page.waitForFunction(() => window.__result, null, { timeout: 60_000 }).then((h) => h.jsonValue());
  } catch (e) {
    for (const line of log) console.error(`  ${line}`);
    throw new Failure(`${NAME} (${MODE}): the page never reported (${e.message.split('\n')[0]}); the SDK or the bundle did not load`);
  }
  try {
    check(result);
  } catch (e) {
    for (const line of log) console.error(`  ${line}`);
    console.error(`${NAME} (${MODE}): the page reported ${JSON.stringify(result)}`);
    throw e;
  }
  for (const line of log.filter((l) => l.startsWith('fetched'))) console.error(`  ${line}`);
  console.log(`${NAME} (${MODE}): ok`);
} catch (e) {
  console.error(e instanceof Failure ? `FAILED: ${e.message}` : e);
  process.exitCode = 1;
} finally {
  await browser.close();
  await stop();
}
