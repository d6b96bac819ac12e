// The OAuth flow against a provider that sends Cross-Origin-Opener-Policy
// (the emulator's --coop mode). COOP severs the popup from its opener, so
// `popup.closed` reads true while the user is still on the consent page.
// The SDK must treat that as a hint only: the page ends "connected", and
// never passes through "cancelled".

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { flowStates, launchBrowser, login, openDemo, row, startDemo, startOAuth, unique } from './harness.mjs';

let demo;
let browser;

before(async () => {
  demo = await startDemo({ coop: true, name: 'demo-coop' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test('with COOP on the consent page, approving still ends connected, never cancelled', async () => {
  assert.equal(demo.config.coop, true);
  const page = await openDemo(browser, demo.config);
  await login(page, 'bruno', 'acme_456');
  const name = unique('HubSpot COOP');
  const popup = await startOAuth(page, 'hubspot', name);
  // The lie itself: the SDK sees `closed` and starts its grace period while
  // the consent page is still open, waiting for the user.
  await page.waitForSelector('#flow-log li[data-state="confirming"]');
  assert.equal(popup.isClosed(), false);
  await popup.click('#approve');
  await page.waitForSelector('#flow[data-state="connected"]');
  await row(page, name).and(page.locator('[data-status="connected"]')).waitFor();
  const states = await flowStates(page);
  assert.ok(!states.includes('cancelled'), `states: ${states.join(' > ')}`);
  await page.context().close();
});
