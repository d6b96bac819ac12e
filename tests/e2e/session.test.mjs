// The cookie-session variant of the demo (`cargo xtask demo --session`), in
// headless Chromium: the demo login sets an HttpOnly session cookie, the SDK
// calls the token service with `credentials: 'include'` and the CSRF header,
// and the token service checks the cookie through the demo's who-am-I
// endpoint. No JWT exists anywhere in this flow.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, login, openConnector, openDemo, row, startDemo, unique } from './harness.mjs';

let demo;
let browser;

before(async () => {
  demo = await startDemo({ session: true, name: 'demo-session' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test('a cookie session gets its tenant token and adds a live connection', async () => {
  const { config } = demo;
  assert.equal(config.session.csrfHeader, 'X-Requested-With');
  const page = await openDemo(browser, config);
  // Every call to the token service, as the browser sent it.
  const calls = [];
  page.on('request', (req) => {
    if (req.url().startsWith(config.tokenServiceUrl) && req.method() !== 'OPTIONS'
        && !req.url().endsWith('/healthz')) calls.push(req);
  });
  await login(page, 'chloe', 'stone_789');
  assert.equal(await page.textContent('#active-tenant'), 'Stoneworks BV');
  // The cookie is HttpOnly: page scripts cannot read it.
  assert.equal(await page.evaluate(() => document.cookie), '');
  const cookies = await page.context().cookies(config.url);
  const sessionCookie = cookies.find((c) => c.name === 'demo_session');
  assert.ok(sessionCookie?.httpOnly, JSON.stringify(cookies));
  assert.equal(sessionCookie.sameSite, 'Lax');
  const name = unique('Pipedrive via cookie');
  await openConnector(page, 'pipedrive', name);
  await page.fill('[name="api_token"]', 'demo-api-token-456');
  await page.click('#connect-submit');
  await page.waitForSelector('#flow[data-state="connected"]');
  await row(page, name).and(page.locator('[data-status="connected"]')).waitFor();
  // The token and connectors calls carried the cookie and the CSRF header,
  // and no Authorization header.
  const tokenCall = calls.find((r) => r.url() === config.tokenUrl);
  assert.ok(tokenCall, calls.map((r) => r.url()).join(', '));
  for (const req of [tokenCall, calls.find((r) => r.url() === config.connectorsUrl)]) {
    // The session source answers only a request carrying the session
    // cookie, so its 200 proves the cookie went along. (Chromium reports the
    // Cookie header in a separate event that Playwright's `allHeaders()`
    // missed in full CI runs, on calls the service had answered 200.)
    const res = await req.response();
    assert.equal(res.status(), 200, req.url());
    const headers = await req.allHeaders();
    assert.equal(headers['x-requested-with'], 'peliqan-embed');
    assert.equal(headers.authorization, undefined);
  }
  const answer = await (await tokenCall.response()).json();
  assert.equal(answer.external_id, 'stone_789');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('after logout the cookie no longer buys a token', async () => {
  const { config } = demo;
  const page = await openDemo(browser, config);
  await login(page, 'bruno', 'acme_456');
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  // A call the way the SDK makes it, from the page, after the session ended.
  const status = await page.evaluate(async ({ url, header }) => {
    const res = await fetch(url, { method: 'POST', credentials: 'include', headers: { [header]: 'peliqan-embed' } });
    return [res.status, (await res.json()).code];
  }, { url: config.tokenUrl, header: config.session.csrfHeader });
  assert.deepEqual(status, [401, 'session_missing']);
  await page.context().close();
});
