// The connector catalogue and the connect flow.
//
// The one rule that matters here: `embed.connect()` is called synchronously
// inside the submit handler, with no `await` before it, because for OAuth
// connectors the SDK opens the popup right there, and browsers block
// popups opened after an await (see the SDK's README).

import { $, h, clearAlert } from './dom.js';
import { fieldInput, readValues, showFieldErrors } from './forms.js';
import { report } from './errors.js';
import { isActive } from './state.js';

const AUTH_LABELS = { api_key: 'API key', basic: 'Login', database: 'Database', oauth2: 'OAuth' };
const STATE_TEXT = {
  starting: 'Starting…',
  creating: 'Creating the connection…',
  authorizing: 'Waiting for you to grant access in the pop-up window…',
  checking: 'Checking the credentials…',
  confirming: 'The pop-up closed; confirming with Peliqan…',
  connected: 'Connected: the connection is live.',
  failed: 'The connection failed.',
  cancelled: 'Cancelled: the pop-up was closed before access was granted.',
  timeout: 'Timed out: the connection did not become live in time.',
  error: 'The connection could not be added.',
};

/** Renders the catalogue for `embed`; `onConnected` runs after each success. */
export async function showCatalogue(embed, onConnected) {
  const grid = $('catalogue');
  grid.setAttribute('aria-busy', 'true');
  grid.replaceChildren(h('p', { class: 'empty' }, 'Loading connectors…'));
  $('connect-panel').hidden = true;
  let connectors;
  try {
    connectors = await embed.connectors();
  } catch (err) {
    if (!isActive(embed)) return [];
    grid.replaceChildren(h('p', { class: 'empty' }, 'Connectors could not be loaded.'));
    report(err, 'Loading connectors');
    return [];
  }
  // A tenant switch while loading: this answer belongs to the old tenant.
  if (!isActive(embed)) return [];
  const cards = connectors.map((st) => h('article', {
    class: 'connector', 'data-connector': st.name, 'data-auth': st.auth,
  },
  h('span', { class: 'title' }, st.title ?? st.name),
  h('span', {}, h('span', { class: 'tag' }, st.category ?? 'Other'), ' ',
    // "Database · Database" says nothing twice.
    st.category === AUTH_LABELS[st.auth] ? null : h('span', { class: 'tag' }, AUTH_LABELS[st.auth] ?? st.auth)),
  h('button', { type: 'button', class: 'ghost', onclick: () => openForm(embed, st, onConnected) }, 'Connect')));
  grid.replaceChildren(...(cards.length ? cards : [h('p', { class: 'empty' }, 'No connectors offered.')]));
  grid.setAttribute('aria-busy', 'false');
  return connectors;
}

function openForm(embed, st, onConnected) {
  for (const card of $('catalogue').children) {
    card.setAttribute('aria-current', String(card.dataset.connector === st.name));
  }
  const title = st.title ?? st.name;
  const oauth = st.auth === 'oauth2';
  const fields = st.connect_form?.fields ?? [];
  const form = h('form', { class: 'stack', id: 'connect-form', 'data-connector': st.name, novalidate: true },
    h('h3', {}, `Connect ${title}`),
    h('div', { class: 'field', 'data-field': 'name' },
      h('label', { for: 'connect-name' }, 'Connection name'),
      h('input', { id: 'connect-name', name: 'name', value: `${title} (${new Date().toLocaleDateString()})` }),
      h('p', { class: 'field-error', hidden: true })),
    fields.map((f) => fieldInput(f, 'connect')),
    oauth ? h('p', { class: 'powered', id: 'powered-by' }, 'Powered by ', h('strong', {}, 'Peliqan'),
      `. A window opens where ${title} asks you to allow Peliqan to access your data.`) : null,
    h('p', { class: 'field-error', id: 'connect-other-errors', hidden: true }),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', id: 'connect-submit' }, oauth ? `Continue to ${title}` : `Connect ${title}`),
      h('button', { type: 'button', class: 'ghost', onclick: closeForm }, 'Close')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit(embed, st, form, onConnected);
  });
  const panel = $('connect-panel');
  panel.replaceChildren(form);
  panel.hidden = false;
  // On a phone the form is far below the card that opened it.
  form.scrollIntoView({ block: 'nearest' });
  form.querySelector('input, select')?.focus({ preventScroll: true });
}

function closeForm() {
  $('connect-panel').hidden = true;
  for (const card of $('catalogue').children) card.setAttribute('aria-current', 'false');
}

// Synchronous up to embed.connect(): see the note at the top of the file.
function submit(embed, st, form, onConnected) {
  const { name, ...fields } = readValues(form);
  showFieldErrors(form, {});
  const button = form.querySelector('#connect-submit');
  button.disabled = true;
  flowStart(st);
  const onStatus = (s) => isActive(embed) && flowStatus(s);
  const attempt = embed.connect(st.id, fields, { name, onStatus });
  attempt.then(
    (server) => {
      if (!isActive(embed)) return;
      flowEnd('connected', `${server.name ?? 'The connection'} is live.`);
      closeForm();
      onConnected(server);
    },
    (err) => {
      if (!isActive(embed)) return;
      flowFailure(err, form);
      if (err?.details?.connectionId !== undefined) onConnected(null);
    },
  ).finally(() => { button.disabled = false; });
}

function flowStart(st) {
  const flow = $('flow');
  flow.hidden = false;
  $('flow-title').textContent = `Connecting ${st.title ?? st.name}`;
  $('flow-log').replaceChildren();
  flowStatus({ state: 'starting' });
  clearAlert('popup');
}

function flowStatus({ state, message }) {
  const flow = $('flow');
  flow.dataset.state = state;
  $('flow-badge').textContent = state;
  $('flow-message').textContent = message ?? STATE_TEXT[state] ?? '';
  $('flow-log').append(h('li', { 'data-state': state }, `${new Date().toLocaleTimeString()} · ${state}`));
}

function flowEnd(state, message) {
  // onStatus already reported the final state; repeat it only if it did not.
  if ($('flow').dataset.state !== state) flowStatus({ state, message });
  else $('flow-message').textContent = message ?? STATE_TEXT[state];
}

// Each SDK error code gets its own visible ending; never a silent one.
function flowFailure(err, form) {
  switch (err?.code) {
    case 'validation': {
      const other = showFieldErrors(form, err.details?.fields ?? {});
      const out = form.querySelector('#connect-other-errors');
      out.hidden = other.length === 0;
      out.textContent = other.join(' ');
      flowEnd('error', 'Fix the highlighted fields and try again.');
      return;
    }
    case 'connection_failed': return flowEnd('failed', `The connection failed: ${err.message}`);
    case 'cancelled': return flowEnd('cancelled', STATE_TEXT.cancelled);
    case 'timeout': return flowEnd('timeout', STATE_TEXT.timeout);
    default:
      flowEnd('error', `${STATE_TEXT.error} ${err?.message ?? err}`);
      report(err, 'Connecting');
  }
}
