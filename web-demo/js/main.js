// The demo page's entry point: demo login, one PeliqanEmbed per signed-in
// end-customer, and the three panels (catalogue, connections, workspace).
//
// How a partner's app would do the same: its own login gives the browser a
// user JWT (here: POST /demo/login, which exists only in `cargo xtask
// demo`); the SDK sends it to the partner's token service as a bearer
// token and gets back a short-lived Peliqan token for that user's tenant.
// In the cookie-session variant (`cargo xtask demo --session`) the login sets
// an HttpOnly session cookie instead; the SDK sends it with
// `credentials: 'include'` plus the CSRF header the token service requires,
// and the token service asks the demo's who-am-I endpoint whose cookie it is.

import init, { PeliqanEmbed } from 'peliqan-embed';
import { $, h, clearAlert, setHealth, showAlert } from './dom.js';
import { report, setEndpoints } from './errors.js';
import { showCatalogue } from './catalogue.js';
import { setConnectorTitles, showConnections } from './connections.js';
import { showWorkspace } from './workspace.js';
import { firstTab, selectTab, setUpTabs, showDropIn } from './tabs.js';
import { session } from './state.js';

// Only the demo user's *name* survives a reload; tokens live in memory only.
const REMEMBER = 'peliqan-demo-user';
const HEALTH_EVERY_MS = 10_000;

async function boot() {
  let config;
  try {
    config = await (await fetch('/demo/config.json')).json();
  } catch (err) {
    showAlert('demo', 'The demo server is not answering.', 'Restart `cargo xtask demo` and reload.');
    return;
  }
  setEndpoints(config);
  $('mode').textContent = (config.emulated
    ? `Peliqan emulator at ${config.peliqanUrl}${config.coop ? ' (COOP consent page)' : ''}`
    : `Peliqan at ${config.peliqanUrl}`) + (config.session ? ' · cookie session' : '');
  try {
    await init();
  } catch (err) {
    showAlert('sdk', 'The peliqan-embed package could not be loaded.', `${err} (run \`cargo xtask npm\`).`);
    return;
  }
  renderUsers(config);
  $('logout').onclick = () => logout(config);
  $('refresh-connections').onclick = () => session.embed && showConnections(session.embed);
  setUpTabs();
  selectTab(firstTab());
  watchHealth(config);
  const remembered = sessionStorage.getItem(REMEMBER);
  if (remembered && config.users.some((u) => u.user === remembered)) await login(config, remembered);
  else logout(config);
}

function renderUsers(config) {
  $('users').replaceChildren(...config.users.map((u) => h('button', {
    type: 'button', class: 'user', id: `login-${u.user}`, onclick: () => login(config, u.user),
  }, h('strong', {}, `${u.given_name} ${u.family_name}`), h('span', { class: 'muted' }, u.company_name),
  h('br'), h('span', { class: 'muted' }, `tenant ${u.external_id}`))));
}

async function login(config, user) {
  let answer;
  try {
    const res = await fetch('/demo/login', { method: 'POST', body: JSON.stringify({ user }),
      headers: { 'Content-Type': 'application/json' } });
    answer = await res.json();
    if (!res.ok) throw new Error(answer.error ?? res.statusText);
  } catch (err) {
    showAlert('login', 'Demo login failed.', String(err.message ?? err));
    return;
  }
  clearAlert('login');
  sessionStorage.setItem(REMEMBER, user);
  session.user = answer.user;
  session.embed = new PeliqanEmbed({
    peliqanUrl: config.peliqanUrl,
    tokenUrl: config.tokenUrl,
    connectorsUrl: config.connectorsUrl,
    ...(config.session
      // The session cookie rides along; the custom header proves the call
      // comes from this page's script, not a cross-site form.
      ? { credentials: 'include', headers: { [config.session.csrfHeader]: 'peliqan-embed' } }
      // The partner's own login token; the token service reads the tenant from it.
      : { headers: { Authorization: `Bearer ${answer.jwt}` } }),
  });
  showSession(answer.user);
  const embed = session.embed;
  showDropIn(embed);
  showWorkspace(embed);
  // Titles first, so the connection list can name each connection's connector.
  const connectors = await showCatalogue(embed, () => showConnections(embed));
  setConnectorTitles(connectors);
  if (connectors.length) setHealth('token', true);
  await showConnections(embed);
  // The tenant's token exists by now, so a new tenant has been hydrated.
  await showBlueprint(config, answer.user.external_id);
}

// What the token service's blueprint created in a new customer's account.
// Peliqan's API cannot list tables, so the demo asks the emulator, which
// records them (GET /__emulator/assets); with a real Peliqan this is hidden.
async function showBlueprint(config, externalId) {
  const box = $('blueprint');
  if (!config.blueprint) return;
  try {
    const url = `${config.peliqanUrl}/__emulator/assets?external_id=${encodeURIComponent(externalId)}`;
    const res = await fetch(url, { cache: 'no-store' });
    if (!res.ok) return;
    const account = (await res.json()).accounts?.[0];
    if (!account) return;
    $('blueprint-assets').replaceChildren(
      ...account.tables.map((t) => h('li', { class: 'blueprint-table' }, `Table “${t.name}” (id ${t.id})`)),
      ...account.scripts.map((s) => h('li', { class: 'blueprint-script' },
        `Script “${s.name}”, ${every(s.schedule)} (id ${s.id})`)));
    box.hidden = account.tables.length + account.scripts.length === 0;
  } catch {
    box.hidden = true;
  }
}

function every(seconds) {
  const named = { 3600: 'every hour', 86400: 'every day', 604800: 'every week' };
  return named[seconds] ?? `every ${seconds} s`;
}

function showSession(user) {
  const tenant = $('active-tenant');
  tenant.textContent = user.company_name;
  tenant.dataset.externalId = user.external_id;
  $('active-user').textContent = `${user.given_name} ${user.family_name} · ${user.email}`;
  $('session').hidden = false;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('flow').hidden = true;
  document.title = `Integrations · ${user.company_name}`;
}

async function logout(config) {
  // The cookie-session demo ends its server-side session too, before the
  // login view shows (a next login's cookie must not race the clearing one).
  if (config?.session && session.user) await fetch('/demo/logout', { method: 'POST' }).catch(() => {});
  // Dropping the instance drops its tenant token with it; destroy() first
  // cancels a connect still running (its popup closes).
  showDropIn(null);
  session.embed?.destroy?.();
  session.embed?.free?.();
  session.embed = null;
  session.user = null;
  sessionStorage.removeItem(REMEMBER);
  $('alerts').replaceChildren();
  for (const id of ['catalogue', 'connections', 'created', 'connect-panel', 'blueprint-assets']) $(id).replaceChildren();
  $('blueprint').hidden = true;
  // Busy until the next tenant's lists have loaded (tests wait on this too).
  for (const id of ['catalogue', 'connections']) $(id).setAttribute('aria-busy', 'true');
  $('session').hidden = true;
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  document.title = 'Integrations · Acme Analytics (peliqan-embed demo)';
}

// The token service's /healthz is probed every few seconds, so a stopped
// token service shows before anyone clicks. Peliqan's health is judged from
// the SDK's own calls instead (errors.js, connections.js): probing it would
// need an endpoint that answers CORS without a token.
function watchHealth(config) {
  const url = `${config.tokenServiceUrl}/healthz`;
  const probe = async () => {
    let ok = true;
    try {
      ok = (await fetch(url, { cache: 'no-store' })).ok;
    } catch {
      ok = false;
    }
    const was = $('health-token').dataset.ok;
    setHealth('token', ok);
    if (!ok && was !== 'false') {
      showAlert('token', 'The token service is unreachable.', `Nothing answers at ${url}. Is it running?`);
    } else if (ok && was === 'false') {
      clearAlert('token');
    }
  };
  probe();
  setInterval(probe, HEALTH_EVERY_MS);
}

boot().catch((err) => report(err, 'Starting the demo'));
