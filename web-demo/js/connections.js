// The tenant's connections (GET /api/servers, straight from the browser to
// Peliqan with the tenant token) with their status and, on demand, logs.

import { $, h, setHealth } from './dom.js';
import { report } from './errors.js';
import { isActive } from './state.js';

/** Connector titles by servertype id, for display; set after loading the catalogue. */
let titles = new Map();
export function setConnectorTitles(connectors) {
  titles = new Map(connectors.map((c) => [c.id, c.title ?? c.name]));
}

/** Reloads the list for `embed`. */
export async function showConnections(embed) {
  const list = $('connections');
  list.setAttribute('aria-busy', 'true');
  let servers;
  try {
    servers = await embed.connections();
  } catch (err) {
    if (!isActive(embed)) return;
    list.replaceChildren(h('li', { class: 'empty' }, 'Connections could not be loaded.'));
    report(err, 'Loading connections');
    return;
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
  setHealth('peliqan', true);
  // A tenant switch while loading: never show one tenant's list to another.
  if (!isActive(embed)) return;
  if (servers.length === 0) {
    list.replaceChildren(h('li', { class: 'empty', id: 'no-connections' },
      'No connections yet. Connect a data source above.'));
    return;
  }
  servers.sort((a, b) => b.id - a.id);
  list.replaceChildren(...servers.map((s) => row(embed, s)));
}

function row(embed, server) {
  const logs = h('ul', { class: 'logs', hidden: true, 'aria-label': 'Connection log' });
  const toggle = h('button', { type: 'button', class: 'ghost', 'aria-expanded': 'false',
    onclick: () => toggleLogs(embed, server.id, logs, toggle) }, 'Logs');
  const connector = titles.get(server.servertype_id) ?? `connector ${server.servertype_id ?? '?'}`;
  return h('li', { class: 'connection', 'data-id': server.id, 'data-status': server.status },
    h('div', { class: 'connection-row' },
      h('span', { class: 'name' }, server.name ?? `Connection ${server.id}`),
      h('span', { class: 'muted' }, connector),
      h('span', { class: 'badge', 'data-status': server.status }, server.status),
      toggle),
    server.status_message ? h('p', { class: 'muted' }, server.status_message) : null,
    logs);
}

async function toggleLogs(embed, id, logs, toggle) {
  const opening = logs.hidden;
  logs.hidden = !opening;
  toggle.setAttribute('aria-expanded', String(opening));
  if (!opening) return;
  logs.replaceChildren(h('li', {}, 'Loading…'));
  try {
    const lines = await embed.connectionLogs(id);
    logs.replaceChildren(...(lines.length ? lines.map((l) => h('li', { 'data-level': l.level },
      `${l.timestamp} ${l.level.toUpperCase()} ${l.message}`)) : [h('li', {}, 'No log lines.')]));
  } catch (err) {
    logs.replaceChildren(h('li', { 'data-level': 'error' }, `Logs could not be loaded: ${err.message}`));
    report(err, 'Loading logs');
  }
}
