// peliqan-embed/ui: the drop-in connect UI. A custom element,
// <peliqan-connect token-url="/v1/token">, and a one-call modal,
// openConnect(embed, options). Plain ES module, no build step; it uses the
// core only through the package's public entry, so headless users of
// `peliqan-embed` download none of this.
//
// One rule shapes the connect flow: `embed.connect()` is called
// synchronously inside the click or submit handler (no await before it),
// because for OAuth connectors the SDK opens the popup right there and
// browsers block popups opened later.

import init, { PeliqanEmbed } from '../index.js';
import { CSS } from './styles.js';
import { STRINGS } from './strings.js';
import { FOCUSABLE, card, deepActive, field, h, titleOf } from './dom.js';
import { flowViews, viewHelpers } from './views.js';

export { STRINGS };
export { openConnect } from './dialog.js';

// One shared load of the WebAssembly module for every element on the page.
let loading;
const ready = () => {
  loading ??= Promise.resolve(init()).catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
};

const NO_POPUP = ['api_key', 'basic', 'database'];
const STATES = ['creating', 'authorizing', 'checking', 'confirming', 'connected', 'failed', 'cancelled', 'timeout'];
const EVENTS = ['connected', 'connection-failed', 'connection-created'];


export class PeliqanConnectElement extends HTMLElement {
  static observedAttributes = ['token-url', 'connectors-url', 'lang', 'theme'];

  #root = this.attachShadow({ mode: 'open' });
  #embed = null;
  #given = null; // an embed passed in (never destroyed by us)
  #opts = {};
  #strings = {};
  #gen = 0; // bumps whenever the embed changes: answers for an older one are dropped
  #attempt = 0; // bumps per connect: outcomes of an abandoned attempt are dropped
  #abort = null;
  #connectors = null;
  #pending = null; // the connectors request in flight
  #building = null; // the promise of the embed this element builds
  #connections = null;
  #loadError = null;
  #view = 'catalogue';
  #ctx = {};
  #query = '';
  #category = '';
  #modal = false;
  #dialog = null;
  #opener = null;
  #last = null; // the connection created most recently
  #live;
  #started = false;
  // The SDK's own events (where it has them): a connection made or failed
  // anywhere with this embed refreshes the list.
  #onEvent = () => {
    if (this.#view === 'connections') this.#loadConnections();
    else this.#connections = null;
  };

  constructor() {
    super();
    this.#live = h('p', { class: 'sr', role: 'status', 'aria-live': 'polite' });
    // Properties set before this module defined the element (a framework,
    // a late import) sit on the instance and would hide the setters.
    for (const p of ['embed', 'options', 'strings']) {
      if (Object.hasOwn(this, p)) {
        const value = this[p];
        delete this[p];
        this[p] = value;
      }
    }
  }

  /** A PeliqanEmbed to use instead of one built from `token-url` and `options`. */
  get embed() { return this.#given ?? this.#embed; }
  set embed(value) {
    if ((value ?? null) === this.#given) return;
    this.#listen(this.#given, 'off');
    this.#given = value ?? null;
    this.#reset();
  }

  /** Options of the PeliqanEmbed this element builds (headers, credentials, ...), plus `poweredByNotice`. */
  get options() { return this.#opts; }
  set options(value) {
    this.#opts = { ...(value ?? {}) };
    this.#reset();
  }

  /** Per-key overrides of the built-in strings. */
  get strings() { return this.#strings; }
  set strings(value) {
    this.#strings = { ...(value ?? {}) };
    this.#render(false);
  }

  /** The last connection created in this element, or null. */
  get connection() { return this.#last; }

  connectedCallback() {
    if (!this.hasAttribute('theme')) this.setAttribute('theme', 'light');
    if (!this.#started) {
      this.#started = true;
      // Properties set right after creation (options, embed) come first.
      queueMicrotask(() => (this.#view === 'connections' ? this.#loadConnections() : this.#loadConnectors()));
    }
  }

  disconnectedCallback() {
    // A move within the page reconnects at once; only a real removal frees.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.#abort?.abort();
      this.#listen(this.#given, 'off');
      this.#drop();
      this.#started = false;
    });
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    if (name === 'lang') this.#render(false);
    else if (name !== 'theme' && this.#started) this.#reset();
  }

  /** Shows the catalogue. */
  showCatalogue() { this.#go('catalogue'); }

  /** Shows the tenant's connections. */
  showConnections() { this.#go('connections'); }

  /** Opens the connect form of a connector (its id, name or object). */
  async openConnector(connector) {
    const list = await this.#loadConnectors();
    const found = list?.find((c) => c === connector || c.id === connector || c.name === connector);
    if (found) this.#form(found, {});
  }

  /** Shows the element as a modal dialog (focus trapped, Esc closes). */
  showModal(opener) {
    this.#modal = true;
    this.#opener = opener ?? deepActive();
    this.#render(false);
    this.#dialog.showModal();
    this.#focus();
  }

  /** Closes the modal (or ends the inline flow): cancels a connect in flight, emits `peliqan-close`. */
  close() {
    this.#attempt++;
    this.#abort?.abort();
    this.#abort = null;
    if (this.#dialog?.open) this.#dialog.close();
    this.#emit('peliqan-close', { connection: this.#last });
    if (this.#modal) {
      this.#modal = false;
      const opener = this.#opener;
      this.#opener = null;
      if (opener?.isConnected) opener.focus();
      // An element that stays in the page shows inline again.
      if (this.isConnected) this.#render(false);
    }
  }

  // ---- state -------------------------------------------------------------

  #t(key, vars) {
    const lang = this.#lang();
    const text = this.#strings[key] ?? STRINGS[lang]?.[key] ?? STRINGS.en[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (m, k) => (vars?.[k] ?? m));
  }

  #lang() {
    const tag = this.getAttribute('lang') || this.closest('[lang]')?.lang || document.documentElement.lang
      || navigator.language || 'en';
    const primary = tag.toLowerCase().split('-')[0];
    return STRINGS[primary] ? primary : 'en';
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  #drop() {
    const own = this.#embed;
    this.#embed = null;
    this.#building = null;
    if (!own) return;
    this.#listen(own, 'off');
    // destroy() cancels a connect in flight; free() releases the memory.
    own.destroy?.();
    own.free?.();
  }

  #listen(embed, how) {
    for (const type of EVENTS) {
      try {
        embed?.[how]?.(type, this.#onEvent);
      } catch { /* an SDK without this event */ }
    }
  }

  #reset() {
    this.#gen++;
    this.#attempt++;
    this.#abort?.abort();
    this.#abort = null;
    this.#drop();
    this.#connectors = null;
    this.#pending = null;
    this.#connections = null;
    this.#loadError = null;
    this.#view = 'catalogue';
    this.#ctx = {};
    this.#render(false);
    if (this.#started) this.#loadConnectors();
  }

  #getEmbed() {
    if (this.#given) {
      this.#listen(this.#given, 'on');
      return Promise.resolve(this.#given);
    }
    // One build at a time: concurrent loads share it.
    this.#building ??= this.#build().catch((err) => {
      this.#building = null;
      throw err;
    });
    return this.#building;
  }

  async #build() {
    const tokenUrl = this.getAttribute('token-url') ?? this.#opts.tokenUrl;
    if (!tokenUrl && !this.#opts.getToken) return null;
    const gen = this.#gen;
    await ready();
    if (gen !== this.#gen) return null;
    const options = { ...this.#opts };
    if (tokenUrl) options.tokenUrl = tokenUrl;
    const connectorsUrl = this.getAttribute('connectors-url');
    if (connectorsUrl) options.connectorsUrl = connectorsUrl;
    this.#embed = new PeliqanEmbed(options);
    this.#listen(this.#embed, 'on');
    return this.#embed;
  }

  #loadConnectors() {
    if (this.#connectors) return Promise.resolve(this.#connectors);
    if (!this.#pending) {
      const p = this.#fetchConnectors();
      this.#pending = p;
      p.finally(() => { if (this.#pending === p) this.#pending = null; });
    }
    return this.#pending;
  }

  async #fetchConnectors() {
    const gen = this.#gen;
    try {
      const embed = await this.#getEmbed();
      if (!embed) return null;
      const list = await embed.connectors();
      if (gen !== this.#gen) return null;
      this.#connectors = list;
      this.#loadError = null;
    } catch (err) {
      if (gen !== this.#gen) return null;
      this.#loadError = err;
      this.#emit('peliqan-error', { error: err, phase: 'connectors' });
    }
    if (this.#view === 'catalogue') this.#render(false);
    return this.#connectors;
  }

  async #loadConnections() {
    const gen = this.#gen;
    try {
      const embed = await this.#getEmbed();
      if (!embed) return;
      await this.#loadConnectors();
      const list = await embed.connections();
      if (gen !== this.#gen) return;
      this.#connections = list.sort((a, b) => b.id - a.id);
      this.#loadError = null;
    } catch (err) {
      if (gen !== this.#gen) return;
      this.#loadError = err;
      this.#emit('peliqan-error', { error: err, phase: 'connections' });
    }
    if (this.#view === 'connections') this.#render(false);
  }

  async #loadLogs(connection) {
    const gen = this.#gen;
    let lines;
    try {
      lines = await (await this.#getEmbed()).connectionLogs(connection.id);
    } catch (err) {
      lines = err;
      this.#emit('peliqan-error', { error: err, phase: 'logs' });
    }
    if (gen !== this.#gen || this.#ctx.connection !== connection) return;
    this.#ctx.lines = lines;
    if (this.#view === 'logs') this.#render(false);
  }

  #go(view, ctx = {}) {
    this.#view = view;
    this.#ctx = ctx;
    if (view === 'connections' || view === 'catalogue') this.#loadError = null;
    if (view === 'connections') this.#loadConnections();
    else if (view === 'catalogue') this.#loadConnectors();
    this.#render(true);
  }

  #form(connector, ctx) {
    this.#go('form', { connector, values: {}, errors: {}, ...ctx });
  }

  // ---- the connect flow ---------------------------------------------------

  // Reads the form into ctx.values; true when the required fields are filled.
  #read(form) {
    const { connector } = this.#ctx;
    const values = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      values[el.name] = el.type === 'checkbox' ? el.checked : el.value;
    }
    this.#ctx.values = values;
    const errors = {};
    for (const f of connector.connect_form?.fields ?? []) {
      if (f.required && f.type !== 'boolean' && String(values[f.name] ?? '').trim() === '') errors[f.name] = this.#t('required');
    }
    return errors;
  }

  #submit(form) {
    const { connector } = this.#ctx;
    const mayPopup = !NO_POPUP.includes(connector.auth);
    if (mayPopup && this.#notice()) {
      const errors = this.#read(form);
      if (Object.keys(errors).length) {
        this.#ctx.errors = errors;
        this.#render(true);
        this.#say(this.#t('fixFields'));
        return;
      }
      this.#view = 'consent';
      this.#render(true);
      return;
    }
    this.#read(form);
    this.#connect();
  }

  #notice() {
    return this.#opts.poweredByNotice !== false;
  }

  // Synchronous up to embed.connect(): see the note at the top of the file.
  #connect() {
    const ctx = this.#ctx;
    const { connector, values } = ctx;
    const embed = this.embed;
    const fields = {};
    for (const f of connector.connect_form?.fields ?? []) {
      const v = values[f.name];
      if (typeof v === 'boolean' || (v != null && String(v).trim() !== '')) fields[f.name] = v;
    }
    const name = String(values['peliqan-name'] ?? '').trim() || titleOf(connector);
    const attempt = ++this.#attempt;
    const abort = typeof AbortController === 'function' ? new AbortController() : null;
    this.#abort = abort;
    const mine = () => attempt === this.#attempt;
    ctx.states = [];
    ctx.errors = {};
    let result;
    try {
      result = embed.connect(connector, fields, {
        name,
        signal: abort?.signal,
        onStatus: (s) => mine() && this.#status(s),
      });
    } catch (err) {
      result = Promise.reject(err);
    }
    this.#view = 'progress';
    this.#render(true);
    result.then((connection) => {
      if (!mine()) return;
      this.#abort = null;
      this.#last = connection;
      this.#connections = null;
      this.#go('success', { ...ctx, connection });
      this.#say(this.#t('successTitle', { name: connection.name || titleOf(connector) }));
      this.#emit('peliqan-connected', { connection, connector });
    }, (err) => {
      if (!mine()) return;
      this.#abort = null;
      this.#emit('peliqan-error', { error: err, connector, phase: 'connect' });
      if (err?.code === 'validation') {
        const errors = {};
        const other = [];
        const shown = new Set((connector.connect_form?.fields ?? []).map((f) => f.name));
        for (const [k, v] of Object.entries(err.details?.fields ?? {})) {
          const text = Array.isArray(v) ? v.join(' ') : String(v);
          if (!shown.has(k)) other.push(`${k}: ${text}`);
          else errors[k] = String(ctx.values[k] ?? '').trim() === '' ? this.#t('required') : text;
        }
        if (other.length || !Object.keys(errors).length) errors[''] = other.join(' ') || err.message;
        this.#go('form', { ...ctx, errors });
        this.#say(this.#t('fixFields'));
        return;
      }
      if (err?.details?.connectionId !== undefined) this.#connections = null;
      this.#go('failure', { ...ctx, error: err });
      this.#say(`${this.#t('failedTitle', { name: titleOf(connector) })}. ${this.#reason(err)}`);
    });
  }

  #status(s) {
    if (!STATES.includes(s.state)) return;
    const ctx = this.#ctx;
    ctx.states = [...(ctx.states ?? []).filter((x) => x !== s.state), s.state];
    if (this.#view === 'progress') this.#render(false);
    this.#say(this.#t(`state_${s.state}`));
  }

  #reason(err) {
    const code = err?.code;
    if (code === 'popup_blocked' || code === 'cancelled' || code === 'timeout') return this.#t(`err_${code}`);
    return err?.message ?? String(err);
  }

  #cancel() {
    this.#abort?.abort();
    this.#abort = null;
    this.#attempt++;
    this.#go('failure', { ...this.#ctx, error: { code: 'cancelled' } });
  }

  #say(text) {
    // Cleared first so the same text twice is announced twice.
    this.#live.textContent = '';
    setTimeout(() => { this.#live.textContent = text; }, 50);
  }

  // ---- rendering ----------------------------------------------------------

  #render(moveFocus) {
    const t = (k, v) => this.#t(k, v);
    const view = this.#views()[this.#view]?.() ?? [];
    const tab = (name, label) => h('button', {
      type: 'button', part: 'tab', 'data-key': `tab-${name}`, 'aria-current': String(this.#view === name || (name === 'catalogue' && this.#view !== 'connections' && this.#view !== 'logs')),
      onclick: () => this.#go(name),
    }, label);
    const panel = h('div', { class: this.#modal ? 'panel modal' : 'panel', part: 'panel', 'data-view': this.#view, lang: this.#lang() },
      h('header', { part: 'header' },
        h('h2', { id: 'title', part: 'title' }, t('title')),
        h('nav', { part: 'nav', 'aria-label': t('title') },
          tab('catalogue', t('tabCatalogue')), tab('connections', t('tabConnections'))),
        this.#modal ? h('button', { type: 'button', class: 'x', part: 'close', 'data-key': 'close', 'aria-label': t('close'),
          onclick: () => this.close() }, h('span', { 'aria-hidden': 'true' }, '×')) : null),
      h('section', { part: 'view', 'aria-labelledby': 'view-title' }, view),
      this.#live);
    const style = this.#root.querySelector('style') ?? h('style', {}, CSS);
    // Re-rendering must not drop the keyboard user's place: refocus the same control.
    const had = this.#root.activeElement;
    const key = had?.id || had?.dataset.key;
    if (this.#modal) {
      if (!this.#dialog) {
        this.#dialog = h('dialog', { part: 'dialog', 'aria-labelledby': 'title',
          onkeydown: (e) => this.#trap(e),
          oncancel: (e) => { e.preventDefault(); this.close(); },
        });
      }
      this.#dialog.replaceChildren(panel);
      if (this.#dialog.parentNode !== this.#root) this.#root.replaceChildren(style, this.#dialog);
    } else {
      this.#dialog = null;
      this.#root.replaceChildren(style, panel);
    }
    if (moveFocus) this.#focus();
    else if (had && !had.isConnected) {
      const same = key && (this.#root.getElementById(key) ?? this.#root.querySelector(`[data-key="${key}"]`));
      if (same) same.focus();
      else this.#focus();
    }
  }

  #focus() {
    const target = this.#root.querySelector('[data-autofocus]') ?? this.#root.querySelector('#view-title');
    target?.focus();
  }

  // Tab and Shift+Tab cycle inside the dialog; Escape closes it.
  #trap(e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      this.close();
      return;
    }
    if (e.key !== 'Tab') return;
    const all = [...this.#root.querySelectorAll(FOCUSABLE)].filter((el) => !el.disabled && el.getClientRects().length);
    if (!all.length) return;
    const first = all[0];
    const last = all[all.length - 1];
    const at = this.#root.activeElement;
    // From a heading (tabindex -1) the browser's own order is right.
    if (e.shiftKey && (at === first || !at)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (at === last || !at)) {
      e.preventDefault();
      first.focus();
    }
  }

  #views() {
    const t = (k, v) => this.#t(k, v);
    const ctx = this.#ctx;
    const kit = {
      ...viewHelpers(t, (to) => this.#go(to)), t, ctx, modal: this.#modal,
      go: (view, c) => this.#go(view, c), form: (c, o) => this.#form(c, o), connect: () => this.#connect(),
      cancel: () => this.#cancel(), close: () => this.close(), reason: (e) => this.#reason(e), logs: (c) => this.#logs(c),
      connections: this.#connections, connectors: this.#connectors, loadError: this.#loadError,
    };
    const { title, failed, back } = kit;
    return {
      catalogue: () => {
        if (this.#loadError) return [title(t('tabCatalogue')), failed(this.#loadError, () => this.#go('catalogue'))];
        const list = this.#connectors;
        if (!list) return [title(t('tabCatalogue')), h('p', { 'aria-busy': 'true' }, t('loading'))];
        const cats = [...new Set(list.map((c) => c.category).filter(Boolean))].sort();
        const grid = h('ul', { class: 'grid', part: 'catalogue', 'aria-labelledby': 'view-title' });
        const fill = (announce) => {
          const q = this.#query.trim().toLowerCase();
          const shown = list.filter((c) => (!this.#category || c.category === this.#category)
            && (!q || `${c.title ?? ''} ${c.name}`.toLowerCase().includes(q)));
          grid.replaceChildren(...shown.map((c) => h('li', {}, card(c, () => this.#form(c, {})))));
          if (!shown.length) grid.append(h('li', { class: 'muted' }, t('noMatch')));
          if (announce) this.#say(shown.length ? t('found', { count: shown.length }) : t('noMatch'));
        };
        fill(false);
        return [title(t('tabCatalogue')),
          h('div', { class: 'bar' },
            h('label', {}, h('span', {}, t('search')), h('input', {
              type: 'search', part: 'search', id: 'search', value: this.#query, 'data-autofocus': true, autocomplete: 'off',
              oninput: (e) => { this.#query = e.target.value; fill(true); },
            })),
            cats.length > 1 ? h('label', {}, h('span', {}, t('category')), h('select', {
              part: 'category', id: 'category', onchange: (e) => { this.#category = e.target.value; fill(true); },
            }, h('option', { value: '' }, t('allCategories')),
            cats.map((c) => h('option', { value: c, selected: c === this.#category }, c)))) : null),
          grid];
      },
      form: () => {
        const c = ctx.connector;
        const fields = c.connect_form?.fields ?? [];
        const errors = ctx.errors ?? {};
        const values = ctx.values ?? {};
        const form = h('form', { part: 'form', novalidate: true, 'data-connector': c.name,
          onsubmit: (e) => { e.preventDefault(); this.#submit(form); },
          oninput: () => this.#read(form),
        },
        field({ name: 'peliqan-name', label: t('connectionName'), default: titleOf(c) }, values, errors, 'name'),
        fields.map((f, i) => field(f, values, errors, i)),
        errors[''] ? h('p', { class: 'err', part: 'error', role: 'alert' }, errors['']) : null,
        h('div', { class: 'actions' },
          h('button', { type: 'submit', class: 'primary', part: 'button primary' },
            !NO_POPUP.includes(c.auth) && this.#notice() ? t('next') : t('submit')),
          back()));
        return [title(t('connectTo', { name: titleOf(c) })), form];
      },
      ...flowViews(kit),
    };
  }

  #logs(connection) {
    this.#go('logs', { connection });
    this.#loadLogs(connection);
  }
}

if (!customElements.get('peliqan-connect')) customElements.define('peliqan-connect', PeliqanConnectElement);
