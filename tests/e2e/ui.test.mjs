// The drop-in UI (`peliqan-embed/ui`) end to end, by keyboard only: the
// page web-demo/ui-only.html holds nothing but <peliqan-connect> (and the
// demo login's bearer token), against the real emulator, token service and
// demo server. Every state is checked with axe-core, in light and dark.
// No mouse: page.keyboard only (Tab, Shift+Tab, Enter, Space, Escape, typing).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { ARTIFACTS, launchBrowser, startDemo, unique } from './harness.mjs';

// A key that makes the pop-up close itself (its form answers and the page
// calls `window.close()`): the close can land between the key's down and
// up events, which Playwright reports as an error although the key worked.
async function pressClosing(popup, key) {
  try {
    await popup.keyboard.press(key);
  } catch (e) {
    if (!popup.isClosed()) throw e;
  }
}

// axe-core is a dev dependency next to playwright-core; a node_modules from
// before it was added needs `npm ci` here once.
const AXE = (() => {
  try {
    return createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  } catch {
    throw new Error('axe-core is not installed in tests/e2e: run `npm ci` there');
  }
})();

let demo;
let browser;

before(async () => {
  demo = await startDemo({ name: 'ui' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** A fresh page on ui-only.html, catalogue loaded, axe injected, UI events recorded. */
async function openUi(user = 'alice', viewport = { width: 1024, height: 800 }, setup = async () => {}) {
  const context = await browser.newContext({ viewport });
  await setup(context);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  // What went wrong, if the catalogue never shows (a package mid-rebuild answers 404).
  const trouble = [];
  page.on('response', (r) => r.status() >= 400 && trouble.push(`${r.status()} ${r.url()}`));
  page.on('console', (m) => m.type() === 'error' && trouble.push(m.text()));
  await page.addInitScript(() => {
    window.uiEvents = [];
    for (const type of ['peliqan-connected', 'peliqan-error', 'peliqan-close']) {
      document.addEventListener(type, (e) => window.uiEvents.push({
        type, code: e.detail.error?.code, name: e.detail.connection?.name ?? null, phase: e.detail.phase,
      }));
    }
  });
  await page.goto(`${demo.config.url}/ui-only.html?user=${user}`);
  await page.addScriptTag({ path: AXE });
  try {
    await page.locator('peliqan-connect [data-view="catalogue"] button[data-connector]').first().waitFor();
  } catch (err) {
    const shown = await page.evaluate(() => document.querySelector('peliqan-connect')?.shadowRoot?.textContent);
    throw new Error(`the catalogue did not load: ${err.message}; shown: ${shown}; ${trouble.join('; ')}; ${page.errors.join('; ')}`);
  }
  return page;
}

const inView = (page, name) => page.locator(`peliqan-connect [data-view="${name}"]`).waitFor();

/** Whether the focused element (looking into shadow roots) matches `selector`. */
const focusedMatches = (page, selector) => page.evaluate((sel) => {
  let a = document.activeElement;
  while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
  return Boolean(a?.matches?.(sel));
}, selector);

/** Presses Tab (or Shift+Tab) until the focused element matches `selector`. */
async function tabTo(page, selector, { back = false, max = 40 } = {}) {
  for (let i = 0; i < max; i++) {
    if (i > 0 || !(await focusedMatches(page, selector))) await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if (await focusedMatches(page, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** Replaces the focused field's text by typing. */
async function retype(page, text) {
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  if (text) await page.keyboard.type(text);
}

// Every state audited, by name and theme; checked for completeness at the end.
const audited = new Set();

/** axe-core over one <peliqan-connect> (its shadow DOM included), light then dark. */
async function audit(page, state, host = 'peliqan-connect') {
  for (const theme of ['light', 'dark']) {
    const violations = await page.evaluate(async ({ host, theme }) => {
      const el = [...document.querySelectorAll(host)].pop();
      el.setAttribute('theme', theme);
      const result = await window.axe.run(el, { resultTypes: ['violations'] });
      return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' > ')).join(', ')}`);
    }, { host, theme });
    assert.deepEqual(violations, [], `axe in state "${state}", ${theme} theme`);
    audited.add(`${state}/${theme}`);
  }
  await page.evaluate((host) => [...document.querySelectorAll(host)].pop().setAttribute('theme', 'light'), host);
}

const connectionRow = (page, name) => page.locator('peliqan-connect li[part="connection"]')
  .filter({ has: page.locator('.name', { hasText: name }) });

test('keyboard only: API-key and OAuth connects, errors, failure, connections and logs; axe in every state', async () => {
  const page = await openUi('alice');
  await audit(page, 'catalogue');

  // Search, then open Pipedrive's form.
  await tabTo(page, 'input#search');
  await page.keyboard.type('pipe');
  await page.locator('peliqan-connect button[data-connector="hubspot"]').waitFor({ state: 'detached' });
  await tabTo(page, 'button[data-connector="pipedrive"]');
  await page.keyboard.press('Enter');
  await inView(page, 'form');
  assert.ok(await focusedMatches(page, 'input#f-name'), 'the form opens with focus on its first field');
  await audit(page, 'form');

  // Submitting without the required API token: the SDK's `validation` error, shown on the field.
  const bad = unique('Pipedrive refused');
  await retype(page, bad);
  await page.keyboard.press('Enter');
  const token = page.locator('peliqan-connect [data-field="api_token"] input');
  await page.locator('peliqan-connect [data-field="api_token"] input[aria-invalid="true"]').waitFor();
  const described = await token.getAttribute('aria-describedby');
  const errorText = await page.locator(`peliqan-connect #${described.split(' ')[0]}`).textContent();
  assert.equal(errorText, 'This field is required.');
  assert.ok(await focusedMatches(page, '[name="api_token"]'), 'focus moves to the first invalid field');
  assert.equal(await page.locator('peliqan-connect [data-field="company_domain"] [aria-invalid]').count(), 0);
  await audit(page, 'form-errors');

  // A refused key: the failure state carries the reason from the connection's logs.
  await page.keyboard.type('wrong');
  await page.keyboard.press('Enter');
  await inView(page, 'failure');
  const reason = page.locator('peliqan-connect [data-view="failure"] [part~="result"]');
  assert.equal(await reason.getAttribute('data-code'), 'connection_failed');
  assert.ok((await reason.textContent()).length > 10, await reason.textContent());
  await audit(page, 'failure');

  // Try again: the same form, values kept; a good key this time.
  await tabTo(page, 'button.primary');
  await page.keyboard.press('Enter');
  await inView(page, 'form');
  const good = unique('Pipedrive live');
  await retype(page, good);
  await tabTo(page, '[name="api_token"]');
  await retype(page, 'demo-api-token-123');
  await page.keyboard.press('Enter');
  await inView(page, 'success');
  assert.match(await page.locator('peliqan-connect #view-title').textContent(), /is connected/);
  await audit(page, 'success');

  // OAuth: HubSpot, through the "Powered by Peliqan" step, popup opened by Enter on Continue.
  await tabTo(page, 'button[data-key="tab-catalogue"]', { back: true });
  await page.keyboard.press('Enter');
  await inView(page, 'catalogue');
  assert.ok(await focusedMatches(page, 'input#search'));
  await retype(page, 'hub');
  await tabTo(page, 'button[data-connector="hubspot"]');
  await page.keyboard.press('Enter');
  await inView(page, 'form');
  const hub = unique('HubSpot live');
  await retype(page, hub);
  await page.keyboard.press('Enter');
  await inView(page, 'consent');
  assert.match(await page.locator('peliqan-connect [part="consent"]').textContent(), /Powered by Peliqan/);
  assert.ok(await focusedMatches(page, 'button.primary'), 'Continue has focus');
  await audit(page, 'consent');
  const popupOpened = page.waitForEvent('popup');
  await page.keyboard.press('Enter');
  const popup = await popupOpened;
  await inView(page, 'progress');
  await page.locator('peliqan-connect [part="progress"] li[data-state="authorizing"]').waitFor();
  // Progress is announced through the live region.
  await page.locator('peliqan-connect [role="status"][aria-live="polite"]', { hasText: 'allow access in the pop-up' }).waitFor();
  await audit(page, 'progress');
  // The emulator's consent page, by keyboard too.
  await popup.waitForSelector('#approve');
  const closed = popup.waitForEvent('close');
  for (let i = 0; i < 10 && await popup.evaluate(() => document.activeElement?.id) !== 'approve'; i++) {
    await popup.keyboard.press('Tab');
  }
  await pressClosing(popup, 'Enter');
  await closed;
  await inView(page, 'success');

  // The tenant's connections: all three, live or failed.
  await tabTo(page, 'button[data-key="tab-connections"]', { back: true });
  await page.keyboard.press('Enter');
  await inView(page, 'connections');
  await connectionRow(page, good).and(page.locator('[data-status="connected"]')).waitFor();
  await connectionRow(page, hub).and(page.locator('[data-status="connected"]')).waitFor();
  await connectionRow(page, bad).and(page.locator('[data-status="failed"]')).waitFor();
  await audit(page, 'connections');

  // Logs of the API-key connection, then of the OAuth one.
  await tabTo(page, `button[aria-label="Logs: ${good}"]`);
  await page.keyboard.press('Enter');
  await inView(page, 'logs');
  await page.locator('peliqan-connect [part="logs"] li').first().waitFor();
  await audit(page, 'logs');
  await tabTo(page, 'button');
  assert.equal(await page.evaluate(() => {
    let a = document.activeElement;
    while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
    return a.textContent;
  }), 'Back');
  await page.keyboard.press('Enter');
  await connectionRow(page, hub).waitFor();
  await tabTo(page, `button[aria-label="Logs: ${hub}"]`);
  await page.keyboard.press('Space');
  await page.locator('peliqan-connect [part="logs"] li', { hasText: /approved/i }).waitFor();

  // "Try again" on the failed one re-opens Pipedrive's form.
  await tabTo(page, 'button[data-key="tab-connections"]', { back: true });
  await page.keyboard.press('Enter');
  await connectionRow(page, bad).waitFor();
  await tabTo(page, `button[aria-label="Try again: ${bad}"]`);
  await page.keyboard.press('Enter');
  await page.locator('peliqan-connect form[data-connector="pipedrive"]').waitFor();
  assert.equal(await page.locator('peliqan-connect input#f-name').inputValue(), bad);

  // The element's own DOM events reached the document (bubbling, composed).
  const events = await page.evaluate(() => window.uiEvents);
  assert.deepEqual(events.filter((e) => e.type === 'peliqan-connected').map((e) => e.name), [good, hub]);
  assert.ok(events.some((e) => e.type === 'peliqan-error' && e.code === 'validation'));
  assert.ok(events.some((e) => e.type === 'peliqan-error' && e.code === 'connection_failed'));
  await page.screenshot({ path: `${ARTIFACTS}/ui-connections.png`, fullPage: true });
  assert.deepEqual(page.errors, []);

  const states = ['catalogue', 'form', 'form-errors', 'consent', 'progress', 'success', 'failure', 'connections', 'logs'];
  for (const s of states) for (const theme of ['light', 'dark']) assert.ok(audited.has(`${s}/${theme}`), `${s}/${theme} audited`);
  await page.context().close();
});

test('strings follow lang (en, nl, fr, de), per-key overrides win, theme auto follows the system', async () => {
  const page = await openUi('bruno');
  const texts = () => page.evaluate(() => {
    const root = document.querySelector('peliqan-connect').shadowRoot;
    return [root.querySelector('h2').textContent, ...[...root.querySelectorAll('nav button')].map((b) => b.textContent),
      root.querySelector('label span').textContent];
  });
  const seen = {};
  for (const lang of ['en', 'nl', 'fr', 'de']) {
    await page.evaluate((l) => document.querySelector('peliqan-connect').setAttribute('lang', l), lang);
    seen[lang] = await texts();
  }
  assert.deepEqual(seen.en, ['Connect a data source', 'Add a connection', 'Your connections', 'Search connectors']);
  assert.deepEqual(seen.nl, ['Koppel een gegevensbron', 'Koppeling toevoegen', 'Uw koppelingen', 'Connectors zoeken']);
  assert.deepEqual(seen.fr, ['Connecter une source de données', 'Ajouter une connexion', 'Vos connexions', 'Rechercher un connecteur']);
  assert.deepEqual(seen.de, ['Datenquelle verbinden', 'Verbindung hinzufügen', 'Ihre Verbindungen', 'Konnektoren suchen']);
  // Without a lang attribute: the page's language.
  await page.evaluate(() => {
    document.documentElement.lang = 'fr-BE';
    const el = document.querySelector('peliqan-connect');
    el.removeAttribute('lang');
    el.strings = { tabConnections: 'Mes intégrations' };
  });
  assert.deepEqual(await texts(), ['Connecter une source de données', 'Ajouter une connexion', 'Mes intégrations', 'Rechercher un connecteur']);
  // A form in German, by keyboard, with its required-field message.
  await page.evaluate(() => document.querySelector('peliqan-connect').setAttribute('lang', 'de'));
  await tabTo(page, 'button[data-connector="postgresql"]');
  await page.keyboard.press('Enter');
  await inView(page, 'form');
  await tabTo(page, '[name="host"]');
  await page.keyboard.type('db.example.com');
  await page.keyboard.press('Enter');
  await page.locator('peliqan-connect [data-field="database"] .err', { hasText: 'Dieses Feld ist erforderlich.' }).waitFor();
  assert.equal(await page.locator('peliqan-connect [data-field="host"] [aria-invalid]').count(), 0);
  // theme="auto" follows prefers-color-scheme.
  const bg = () => page.evaluate(() => getComputedStyle(document.querySelector('peliqan-connect').shadowRoot.querySelector('.panel')).backgroundColor);
  await page.evaluate(() => document.querySelector('peliqan-connect').setAttribute('theme', 'auto'));
  await page.emulateMedia({ colorScheme: 'light' });
  assert.equal(await bg(), 'rgb(255, 255, 255)');
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.equal(await bg(), 'rgb(17, 24, 39)');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('openConnect modal: focus trapped, Escape closes and returns focus, closing cancels an OAuth connect', async () => {
  const page = await openUi('chloe');
  // A partner's own "Add integration" button, first on the page, opening the modal with the element's embed.
  await page.evaluate(async () => {
    const { openConnect } = await import('/pkg/peliqan-embed/ui/index.js');
    const inline = document.querySelector('peliqan-connect');
    const button = document.createElement('button');
    button.id = 'opener';
    button.textContent = 'Add integration';
    // The SDK's own event for the cancelled connect (the UI ignores an attempt it abandoned).
    inline.embed.on('cancelled', (e) => { window.sdkCancelled = e.error.code; });
    button.onclick = () => {
      window.modalResult = 'pending';
      openConnect(inline.embed, { lang: 'en' }).then((c) => { window.modalResult = c; });
    };
    document.body.prepend(button);
  });
  const modal = 'peliqan-connect:nth-of-type(2)';
  const insideModal = () => page.evaluate(() => {
    const host = document.querySelectorAll('peliqan-connect')[1];
    return Boolean(host && document.activeElement === host && host.shadowRoot.activeElement);
  });
  for (let round = 0; round < 2; round++) {
    await tabTo(page, '#opener', { back: true });
    await page.keyboard.press('Enter');
    await page.locator(`${modal} dialog[open] [data-view="catalogue"] button[data-connector]`).first().waitFor();
    assert.ok(await insideModal(), 'focus moves into the dialog');
    if (round === 1) break;
    // Tab and Shift+Tab never leave the dialog.
    for (let i = 0; i < 16; i++) {
      await page.keyboard.press('Tab');
      assert.ok(await insideModal(), `Tab ${i + 1} stays in the dialog`);
    }
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Shift+Tab');
      assert.ok(await insideModal(), `Shift+Tab ${i + 1} stays in the dialog`);
    }
    await audit(page, 'modal', modal);
    await page.keyboard.press('Escape');
    await page.locator(modal).waitFor({ state: 'detached' });
    assert.ok(await focusedMatches(page, '#opener'), 'focus returns to the opener');
    assert.equal(await page.evaluate(() => window.modalResult), null);
  }

  // Round two: start an OAuth connect, then close the dialog while the popup waits.
  await tabTo(page, 'input#search');
  await page.keyboard.type('sales');
  await tabTo(page, 'button[data-connector="salesforce"]');
  await page.keyboard.press('Enter');
  await page.locator(`${modal} [data-view="form"]`).waitFor();
  assert.ok(await focusedMatches(page, 'input#f-name'));
  await page.keyboard.press('Enter');
  await page.locator(`${modal} [data-view="consent"]`).waitFor();
  const popupOpened = page.waitForEvent('popup');
  await page.keyboard.press('Enter');
  const popup = await popupOpened;
  await page.locator(`${modal} [part="progress"] li[data-state="authorizing"]`).waitFor();
  const popupClosed = popup.isClosed() ? null : popup.waitForEvent('close');
  await page.keyboard.press('Escape');
  await page.locator(modal).waitFor({ state: 'detached' });
  assert.ok(await focusedMatches(page, '#opener'));
  assert.equal(await page.evaluate(() => window.modalResult), null);
  // The dialog's AbortSignal cancelled the connect: the SDK closed the popup and rejected with `cancelled`.
  await popupClosed;
  await page.waitForFunction(() => window.sdkCancelled === 'cancelled');
  const closes = (await page.evaluate(() => window.uiEvents)).filter((e) => e.type === 'peliqan-close');
  assert.equal(closes.length, 2);
  // The inline element's embed (passed in) still works after the dialog went.
  await tabTo(page, 'button[data-key="tab-connections"]');
  await page.keyboard.press('Enter');
  await inView(page, 'connections');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('openConnect without an embed: its own from tokenUrl, on one connector, poweredByNotice false, resolves with the connection', async () => {
  const page = await openUi('alice');
  await page.evaluate(async () => {
    const { openConnect } = await import('/pkg/peliqan-embed/ui/index.js');
    const inline = document.querySelector('peliqan-connect');
    const button = document.createElement('button');
    button.id = 'opener';
    button.textContent = 'Connect HubSpot';
    button.onclick = () => {
      openConnect(null, {
        tokenUrl: inline.getAttribute('token-url'),
        connectorsUrl: inline.getAttribute('connectors-url'),
        embedOptions: inline.options,
        connector: 'hubspot',
        poweredByNotice: false,
        theme: 'dark',
        lang: 'de',
      }).then((c) => { window.modalResult = c; });
    };
    document.body.prepend(button);
  });
  const modal = 'peliqan-connect:nth-of-type(2)';
  await tabTo(page, '#opener', { back: true });
  await page.keyboard.press('Enter');
  await page.locator(`${modal} dialog[open] form[data-connector="hubspot"]`).waitFor();
  assert.ok(await focusedMatches(page, 'input#f-name'));
  const name = unique('HubSpot modal');
  await retype(page, name);
  // No consent screen: Enter in the form opens the popup.
  const popupOpened = page.waitForEvent('popup');
  await page.keyboard.press('Enter');
  const popup = await popupOpened;
  await popup.waitForSelector('#approve');
  await popup.keyboard.press('Tab');
  while (await popup.evaluate(() => document.activeElement?.id) !== 'approve') await popup.keyboard.press('Tab');
  await pressClosing(popup, 'Enter');
  await page.locator(`${modal} [data-view="success"]`).waitFor();
  await audit(page, 'modal-success', modal);
  await tabTo(page, 'button.primary');
  assert.equal(await page.locator(`${modal} button.primary`).textContent(), 'Fertig');
  await page.keyboard.press('Enter');
  await page.locator(modal).waitFor({ state: 'detached' });
  assert.ok(await focusedMatches(page, '#opener'));
  const result = await page.evaluate(() => window.modalResult);
  assert.equal(result.name, name);
  assert.equal(result.status, 'connected');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('properties set before the module defines the element still apply (upgrade)', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${demo.config.url}/demo/config.json`);
  const title = await page.evaluate(async () => {
    const el = document.createElement('peliqan-connect');
    el.strings = { title: 'Integrations' };
    el.setAttribute('lang', 'nl');
    document.body.append(el);
    await import('/pkg/peliqan-embed/ui/index.js');
    return el.shadowRoot.querySelector('h2').textContent + ' / ' + el.shadowRoot.querySelector('nav button').textContent;
  });
  assert.equal(title, 'Integrations / Koppeling toevoegen');
  await context.close();
});

test('the token service unreachable: the catalogue says so, peliqan-error, Retry by keyboard recovers', async () => {
  const page = await openUi('chloe');
  // A new tenant token is needed once the element is given fresh options; the token service is down.
  await page.route(`${demo.config.tokenServiceUrl}/**`, (route) => route.abort('connectionrefused'));
  await page.evaluate(() => {
    const el = document.querySelector('peliqan-connect');
    el.options = { ...el.options };
  });
  await page.locator('peliqan-connect [data-view="catalogue"] [role="alert"]', { hasText: 'Could not load' }).waitFor();
  await audit(page, 'catalogue-error');
  const errors = (await page.evaluate(() => window.uiEvents)).filter((e) => e.type === 'peliqan-error');
  assert.deepEqual(errors.map((e) => [e.phase, e.code]), [['connectors', 'network']]);
  await page.unroute(`${demo.config.tokenServiceUrl}/**`);
  await tabTo(page, 'button[part="button"]');
  await page.keyboard.press('Enter');
  await page.locator('peliqan-connect [data-view="catalogue"] button[data-connector]').first().waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('logos from logo_url with a letter fallback; at 360 px wide nothing overflows sideways', async () => {
  // The emulator's connectors have no logos: give two of them one, one of which fails to load.
  const page = await openUi('bruno', { width: 360, height: 740 }, async (ctx) => {
    await ctx.route(demo.config.connectorsUrl, async (route) => {
      const response = await route.fetch();
      const list = await response.json();
      list.find((c) => c.name === 'pipedrive').logo_url = `${demo.config.url}/logos/pipedrive.svg`;
      list.find((c) => c.name === 'hubspot').logo_url = `${demo.config.url}/logos/missing.svg`;
      await route.fulfill({ response, json: list });
    });
    await ctx.route(`${demo.config.url}/logos/pipedrive.svg`, (route) => route.fulfill({
      contentType: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="green"/></svg>',
    }));
  });
  await page.locator('peliqan-connect button[data-connector="pipedrive"] img[part="logo"]').waitFor();
  await page.locator('peliqan-connect button[data-connector="hubspot"] span[part="logo"]', { hasText: 'H' }).waitFor();
  assert.equal(await page.locator('peliqan-connect button[data-connector="hubspot"] img').count(), 0);
  await audit(page, 'catalogue-logos');
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(await overflow() <= 0, 'catalogue fits');
  await tabTo(page, 'button[data-connector="sftp"]');
  await page.keyboard.press('Enter');
  await inView(page, 'form');
  assert.ok(await overflow() <= 0, 'form fits');
  await page.screenshot({ path: `${ARTIFACTS}/ui-phone.png`, fullPage: true });
  await page.context().close();
});
