// Starts the demo exactly as `cargo xtask demo` does (the same binary and
// code path, in its non-interactive --print-config mode), and a headless
// Chromium to drive it.
//
// The demo prints its configuration as one JSON line on stdout and stops
// everything it started when its stdin closes, so a crashed test run
// cannot leave an emulator or a token service behind.

import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS = process.env.E2E_ARTIFACTS ?? `${ROOT}target/e2e-artifacts`;
mkdirSync(ARTIFACTS, { recursive: true });

/** The Peliqan API dialect the stacks run in (`cargo xtask e2e` runs each). */
export const DIALECT = process.env.E2E_DIALECT ?? 'seed';

/**
 * Starts a demo stack; `coop` serves the consent page with COOP, `session`
 * runs the cookie-session variant.
 */
export async function startDemo({ coop = false, session = false, name = 'demo' } = {}) {
  const args = ['demo', '--no-build', '--port', '0', '--print-config', '--dialect', DIALECT,
    ...(coop ? ['--coop'] : []), ...(session ? ['--session'] : [])];
  // XTASK_BIN is set by `cargo xtask e2e`; run standalone, go through cargo.
  const [cmd, cmdArgs] = process.env.XTASK_BIN
    ? [process.env.XTASK_BIN, args]
    : ['cargo', ['run', '--quiet', '--package', 'xtask', '--', ...args]];
  const child = spawn(cmd, cmdArgs, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  // The stack's logs go to a file per stack, kept as a test artefact.
  const log = createWriteStream(`${ARTIFACTS}/${name}-${DIALECT}.log`);
  child.stderr.pipe(log);
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line),
    exited.then(([code]) => { throw new Error(`demo exited (${code}) before it was ready; see ${name}.log`); }),
  ]);
  const config = JSON.parse(first);
  return {
    config,
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGTERM'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Debian's Chromium, headless, with the flags that keep it off the network. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A fresh page (own sessionStorage) on the demo; browser errors are collected. */
export async function openDemo(browser, config, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(`${config.url}/`);
  return page;
}

/** Logs in as demo user `user`, opens the headless tab and waits until the tenant's data is shown. */
export async function login(page, user, externalId) {
  await page.click(`#login-${user}`);
  await page.waitForSelector(`#active-tenant[data-external-id="${externalId}"]`);
  // These tests drive the headless example; the drop-in tab is ui.test.mjs's.
  await page.click('#tab-headless');
  await page.waitForSelector('#catalogue .connector');
  await page.waitForSelector('#connections[aria-busy="false"]');
}

/** Opens the connect form of connector `name` (e.g. "pipedrive"). */
export async function openConnector(page, name, connectionName) {
  await page.click(`.connector[data-connector="${name}"] button`);
  await page.waitForSelector(`#connect-form[data-connector="${name}"]`);
  await page.fill('#connect-name', connectionName);
}

// Each test file runs its own stack (a fresh emulator), so a counter keeps
// connection names unique, and readable in the README's screenshot.
let named = 0;
/** A connection name unique within this test file's stack. */
export const unique = (label) => `${label} #${++named}`;

/** The row of the connection named exactly `name`. */
export const row = (page, name) => page.locator('#connections .connection')
  .filter({ has: page.locator('.name').getByText(name, { exact: true }) });

/**
 * Starts an OAuth connect (connector `name`), returns the popup once it
 * shows the emulator's consent page.
 */
export async function startOAuth(page, name, connectionName) {
  await openConnector(page, name, connectionName);
  await page.waitForSelector('#powered-by');
  const popupOpened = page.waitForEvent('popup');
  await page.click('#connect-submit');
  const popup = await popupOpened;
  await popup.waitForSelector('#approve');
  return popup;
}

/** Every state the connect flow went through, in order. */
export const flowStates = (page) =>
  page.$$eval('#flow-log li', (items) => items.map((li) => li.dataset.state));
