// The demo page end to end: headless Chromium against the real emulator,
// token service and demo server, started the way `cargo xtask demo` does.
// No fixed sleeps: every wait is on a selector or a browser event.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ARTIFACTS, flowStates, launchBrowser, login, openConnector, openDemo, row, startDemo, startOAuth, unique,
} from './harness.mjs';

let demo;
let browser;

before(async () => {
  demo = await startDemo({ name: 'demo' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test('a user logs in, adds an API-key connection and sees it listed as live', async () => {
  const page = await openDemo(browser, demo.config);
  await login(page, 'alice', 'wood_123');
  assert.equal(await page.textContent('#active-tenant'), 'Wood Solutions Ltd');
  const name = unique('Pipedrive');
  await openConnector(page, 'pipedrive', name);
  await page.fill('[name="api_token"]', 'demo-api-token-123');
  await page.click('#connect-submit');
  await page.waitForSelector('#flow[data-state="connected"]');
  await row(page, name).and(page.locator('[data-status="connected"]')).waitFor();
  // Its log is one click away.
  await row(page, name).getByRole('button', { name: 'Logs' }).click();
  await row(page, name).locator('.logs li').first().waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('connect-form errors show next to their fields before any request', async () => {
  const page = await openDemo(browser, demo.config);
  await login(page, 'alice', 'wood_123');
  await openConnector(page, 'postgresql', unique('Warehouse'));
  await page.fill('[name="port"]', '');
  await page.fill('[name="host"]', 'db.example.com');
  await page.click('#connect-submit');
  await page.waitForSelector('.field[data-field="database"][data-invalid] .field-error:not([hidden])');
  assert.equal(await page.$('.field[data-field="host"][data-invalid]'), null);
  assert.equal(await page.getAttribute('#flow', 'data-state'), 'error');
  await page.context().close();
});

test('OAuth approve: the popup closes by itself and the connection is live', async () => {
  const page = await openDemo(browser, demo.config);
  await login(page, 'alice', 'wood_123');
  const name = unique('HubSpot');
  const popup = await startOAuth(page, 'hubspot', name);
  const closed = popup.waitForEvent('close');
  await popup.click('#approve');
  await closed;
  await page.waitForSelector('#flow[data-state="connected"]');
  await row(page, name).and(page.locator('[data-status="connected"]')).waitFor();
  assert.ok(!(await flowStates(page)).includes('cancelled'));
  // The README's screenshot: the demo right after a successful OAuth connect.
  await page.screenshot({ path: `${ARTIFACTS}/demo-oauth.png`, fullPage: true });
  await page.context().close();
});

test('OAuth deny: the page shows the connection failed, with the reason', async () => {
  const page = await openDemo(browser, demo.config);
  await login(page, 'alice', 'wood_123');
  const name = unique('Salesforce');
  const popup = await startOAuth(page, 'salesforce', name);
  const closed = popup.waitForEvent('close');
  await popup.click('#deny');
  await closed;
  await page.waitForSelector('#flow[data-state="failed"]');
  assert.match(await page.textContent('#flow-message'), /denied/i);
  await row(page, name).and(page.locator('[data-status="failed"]')).waitFor();
  await page.context().close();
});

test('closing the popup without deciding ends as cancelled after the grace period', async () => {
  const page = await openDemo(browser, demo.config);
  await login(page, 'alice', 'wood_123');
  const popup = await startOAuth(page, 'hubspot', unique('Abandoned'));
  await popup.close();
  // The SDK keeps polling for a grace period (10 s by default) first.
  await page.waitForSelector('#flow[data-state="cancelled"]', { timeout: 30_000 });
  assert.ok((await flowStates(page)).includes('confirming'));
  await page.context().close();
});

test("tenant B never sees tenant A's connections", async () => {
  const page = await openDemo(browser, demo.config);
  await login(page, 'alice', 'wood_123');
  const name = unique('Alice private');
  await openConnector(page, 'pipedrive', name);
  await page.fill('[name="api_token"]', 'alice-token');
  await page.click('#connect-submit');
  await row(page, name).waitFor();

  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  await login(page, 'bruno', 'acme_456');
  assert.equal(await page.textContent('#active-tenant'), 'Acme Bakery');
  assert.equal(await row(page, name).count(), 0);
  // Not after a reload either (the page logs the remembered user in again).
  await page.reload();
  await page.waitForSelector('#active-tenant[data-external-id="acme_456"]');
  await page.waitForSelector('#connections[aria-busy="false"]');
  assert.equal(await row(page, name).count(), 0);
  await page.context().close();
});

test('a query table and a scheduled script are created from templates', async () => {
  const page = await openDemo(browser, demo.config);
  await login(page, 'chloe', 'stone_789');
  await page.click('#table-form button[type="submit"]');
  await page.locator('#created li', { hasText: 'Table' }).waitFor();
  await page.selectOption('#script-form-template', { index: 1 });
  await page.click('#script-form button[type="submit"]');
  await page.locator('#created li', { hasText: 'Script' }).waitFor();
  await page.context().close();
});

test('a new customer finds the blueprint\'s table and script already there, once', async () => {
  const page = await openDemo(browser, demo.config);
  // Bruno's tenant creates nothing itself in these tests: all it holds came
  // from the token service's blueprint (deploy/demo-blueprint).
  await login(page, 'bruno', 'acme_456');
  await page.locator('#blueprint:not([hidden]) li.blueprint-table', { hasText: 'open_deals_acme_456' }).waitFor();
  await page.locator('#blueprint li.blueprint-script', { hasText: 'Weekly report for Acme Bakery' }).waitFor();
  assert.equal(await page.locator('#blueprint-assets li').count(), 2);
  // A later visit (a new token flight, maybe) never hydrates again.
  await page.reload();
  await page.locator('#blueprint:not([hidden]) li.blueprint-table').waitFor();
  assert.equal(await page.locator('#blueprint-assets li').count(), 2);
  await page.context().close();
});

test('a blocked popup, Peliqan unreachable and the token service down each show a clear error', async () => {
  const page = await openDemo(browser, demo.config);
  await login(page, 'chloe', 'stone_789');
  // A popup blocker makes window.open answer null.
  await page.evaluate(() => { window.open = () => null; });
  await openConnector(page, 'hubspot', unique('Blocked'));
  await page.click('#connect-submit');
  await page.locator('.alert[data-key="popup"]', { hasText: 'blocked' }).waitFor();
  assert.equal(await page.getAttribute('#flow', 'data-state'), 'error');
  // Peliqan unreachable: every call to it is refused at the network level.
  await page.route(`${demo.config.peliqanUrl}/**`, (route) => route.abort('connectionrefused'));
  await page.click('#refresh-connections');
  await page.locator('.alert[data-key="peliqan"]', { hasText: 'Peliqan is unreachable' }).waitFor();
  await page.waitForSelector('#health-peliqan[data-ok="false"]');
  // The token service down: a fresh login cannot load the connectors.
  await page.route(`${demo.config.tokenServiceUrl}/**`, (route) => route.abort('connectionrefused'));
  await page.click('#logout');
  await page.click('#login-chloe');
  await page.locator('.alert[data-key="token"]', { hasText: 'token service is unreachable' }).waitFor();
  await page.locator('#catalogue .empty', { hasText: 'could not be loaded' }).waitFor();
  await page.waitForSelector('#health-token[data-ok="false"]');
  await page.screenshot({ path: `${ARTIFACTS}/demo-errors.png` });
  await page.context().close();
});

test('at phone width nothing overflows sideways', async () => {
  const page = await openDemo(browser, demo.config, { width: 375, height: 740 });
  await login(page, 'bruno', 'acme_456');
  await openConnector(page, 'postgresql', unique('Phone'));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: `${ARTIFACTS}/demo-phone.png`, fullPage: true });
  await page.context().close();
});

test('the drop-in tab connects with <peliqan-connect>, and the headless tab lists the same connection', async () => {
  const page = await openDemo(browser, demo.config);
  // The drop-in tab is where a new visitor starts.
  await page.evaluate(() => sessionStorage.removeItem('peliqan-demo-tab'));
  await page.click('#login-bruno');
  await page.waitForSelector('#active-tenant[data-external-id="acme_456"]');
  assert.equal(await page.getAttribute('#tab-dropin', 'aria-selected'), 'true');
  const ui = (sel) => page.locator(`#dropin ${sel}`);
  await ui('button[data-connector="pipedrive"]').click();
  await ui('form[data-connector="pipedrive"]').waitFor();
  const name = unique('Drop-in Pipedrive');
  await ui('input#f-name').fill(name);
  await ui('[name="api_token"]').fill('demo-api-token-123');
  await ui('form[data-connector="pipedrive"] button[type="submit"]').click();
  await ui('[data-view="success"]').waitFor();
  // The same PeliqanEmbed serves the headless example.
  await page.click('#tab-headless');
  await row(page, name).and(page.locator('[data-status="connected"]')).waitFor();
  // And the dialog form of the same UI opens over the page, and Escape closes it.
  await page.click('#tab-dropin');
  await page.click('#open-modal');
  const dialog = page.locator('body > peliqan-connect');
  await dialog.locator('[data-view="catalogue"]').waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'open-modal');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
