// The drop-in UI's views after a connector was chosen (consent, progress,
// success, failure), the tenant's connections and a connection's logs: plain functions of a "kit"
// (strings, the view's context and the element's actions), so they hold
// no state of their own.

import { h, titleOf } from './dom.js';

/** The pieces every view uses: its title, a "back" button, a load failure with retry. */
export function viewHelpers(t, go) {
  return {
    title: (text) => h('h3', { id: 'view-title', tabindex: '-1' }, text),
    back: (label = t('back'), to = 'catalogue') => h('button', { type: 'button', onclick: () => go(to) }, label),
    failed: (err, retry) => h('div', { role: 'alert' },
      h('p', { class: 'err', part: 'error' }, t('loadFailed', { reason: err?.message ?? String(err) })),
      h('button', { type: 'button', onclick: retry }, t('retry'))),
  };
}

/** consent, progress, success, failure, logs and connections, by view name. */
export function flowViews(kit) {
  const { t, ctx, title, back, failed } = kit;
  return {
    consent: () => {
      const c = ctx.connector;
      return [title(t('connectTo', { name: titleOf(c) })),
        h('div', { class: 'consent', part: 'consent' },
          h('p', { class: 'brand' }, t('poweredBy')),
          h('p', {}, t('consentText', { name: titleOf(c) })),
          h('p', { class: 'muted' }, t('consentPopup'))),
        h('div', { class: 'actions' },
          // The popup opens in this click: connect() runs synchronously here.
          h('button', { type: 'button', class: 'primary', part: 'button primary', 'data-autofocus': true,
            onclick: () => kit.connect() }, t('continue')),
          h('button', { type: 'button', onclick: () => kit.go('form', ctx) }, t('back')))];
    },
    progress: () => {
      const states = ctx.states ?? [];
      const now = states[states.length - 1];
      return [title(t('connecting', { name: titleOf(ctx.connector) })),
        now ? null : h('p', { part: 'status' }, t('loading')),
        h('ol', { class: 'steps', part: 'progress' }, states.map((s) => h('li', {
          'data-state': s, 'aria-current': s === now ? 'step' : null,
        }, t(`state_${s}`)))),
        h('div', { class: 'actions' }, h('button', { type: 'button', 'data-key': 'cancel', onclick: () => kit.cancel() }, t('cancel')))];
    },
    success: () => {
      const name = ctx.connection?.name || titleOf(ctx.connector);
      return [title(t('successTitle', { name })),
        h('p', { class: 'ok', part: 'result' }, t('successText')),
        h('div', { class: 'actions' },
          kit.modal ? h('button', { type: 'button', class: 'primary', part: 'button primary', onclick: () => kit.close() }, t('done')) : null,
          h('button', { type: 'button', onclick: () => kit.go('connections') }, t('viewConnections')),
          back(t('connectAnother')))];
    },
    failure: () => [title(t('failedTitle', { name: titleOf(ctx.connector) })),
      h('p', { class: 'err', part: 'result error', 'data-code': ctx.error?.code ?? '' }, kit.reason(ctx.error)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', part: 'button primary',
          onclick: () => kit.form(ctx.connector, { values: ctx.values }) }, t('tryAgain')),
        back())],
    logs: () => {
      const lines = ctx.lines;
      const name = ctx.connection.name || `#${ctx.connection.id}`;
      let body;
      if (!lines) body = h('p', { 'aria-busy': 'true' }, t('loading'));
      else if (lines instanceof Error || !Array.isArray(lines)) body = failed(lines, () => kit.logs(ctx.connection));
      else if (!lines.length) body = h('p', { class: 'muted' }, t('noLogs'));
      else {
        body = h('ul', { class: 'logs', part: 'logs', 'aria-labelledby': 'view-title' }, lines.map((l) => h('li', { 'data-level': l.level },
          `${l.timestamp} · ${String(l.level).toUpperCase()} · ${l.message}`)));
      }
      return [title(t('logsOf', { name })), body, h('div', { class: 'actions' }, back(t('back'), 'connections'))];
    },
    connections: () => {
      const list = kit.connections;
      const head = h('div', { class: 'bar' }, title(t('tabConnections')),
        h('button', { type: 'button', 'data-key': 'refresh', onclick: () => kit.go('connections') }, t('refresh')));
      if (kit.loadError) return [head, failed(kit.loadError, () => kit.go('connections'))];
      if (!list) return [head, h('p', { 'aria-busy': 'true' }, t('loading'))];
      if (!list.length) return [head, h('p', { class: 'muted' }, t('noConnections'))];
      return [head, h('ul', { class: 'rows', part: 'connections', 'aria-labelledby': 'view-title' },
        list.map((s) => connectionRow(kit, s)))];
    },
  };
}

/** One row of the tenant's connections: status, logs, and "try again" when failed. */
function connectionRow(kit, s) {
  const { t } = kit;
  const connector = kit.connectors?.find((c) => c.id === s.servertype_id);
  const name = s.name || `#${s.id}`;
  return h('li', { part: 'connection', 'data-id': s.id, 'data-status': s.status },
    h('span', { class: 'name' }, name, connector ? h('small', { class: 'muted' }, ` · ${titleOf(connector)}`) : null),
    h('span', { class: 'badge', part: 'badge', 'data-status': s.status }, t(`status_${s.status}`).replace(/^status_/, '')),
    h('button', { type: 'button', 'data-action': 'logs', 'data-key': `logs-${s.id}`, 'aria-label': `${t('logs')}: ${name}`, onclick: () => kit.logs(s) }, t('logs')),
    s.status === 'failed' && connector ? h('button', { type: 'button', 'data-action': 'retry', 'aria-label': `${t('tryAgain')}: ${name}`,
      onclick: () => kit.form(connector, { values: { 'peliqan-name': s.name ?? '' } }) }, t('tryAgain')) : null,
    s.status_message ? h('p', { class: 'muted' }, s.status_message) : null);
}
