// The SDK's class and its orchestration: fetch, the token cache, events,
// the OAuth popup, connect() with its polling, cancellation and destroy().
// Every decision is asked of the Rust `Core` (src/web/core.rs), built from
// the same options: their checks, token answers and expiry, routes,
// bodies, form validation, error mapping, the polling policy, URL safety.
// The entry (index.js) exports `PeliqanEmbed`, this `Sdk` with its `Core`.
// Written in JavaScript because the same flow as Rust async functions
// compiled to large state machines: about 15 KB gzipped of wasm, against
// under 4 KB here.
import { PeliqanError } from './peliqan-error.js';

const err = (code, message, details) => new PeliqanError(code, message, details);
const invalid = (m) => err('invalid_config', m);
const isObj = (v) => typeof v == 'object' && v !== null;
const destroyed = () => invalid('this PeliqanEmbed was destroyed; create a new one');
/** A plain object of `pairs` without its undefined values. */
const obj = (pairs) => {
  const o = {};
  for (const k in pairs) if (pairs[k] !== undefined) o[k] = pairs[k];
  return o;
};
/** A short text of a thrown value (callback failures). */
const describe = (e) => e instanceof Error ? e.message : typeof e == 'string' ? e : 'unknown error';
const parse = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    throw err('upstream', 'the answer is not JSON');
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.min(Math.max(ms, 0), 2147483647)));

/** Whether the server could not be reached at all. */
export const isTransport = (e) => isObj(e) && (e.code == 'network' || e.code == 'cors');
/** Whether retrying later may succeed (used while polling). */
export function isTransient(e) {
  if (!isObj(e)) return false;
  const s = isObj(e.details) ? e.details.status : undefined;
  return e.code == 'network' || (e.code == 'upstream' && (s == null || s >= 500 || s == 429));
}

const network = (url) => err('network', 'could not reach ' + url
  + " (offline, server down, or a CORS refusal: is this page's origin allowed?)");

/**
 * One fetch: `[status, text]` of any HTTP answer. A browser reports a CORS
 * refusal and an unreachable server with the same bare TypeError, on
 * purpose; a failed request is followed by one `no-cors` probe of the same
 * URL: if that opaque request gets through, the server is up and refused
 * this origin (`cors`), else `network` with a CORS hint (on a
 * cross-origin-isolated page the probe is blocked too: its opaque answer
 * has no Cross-Origin-Resource-Policy header). A request the browser
 * cannot build (bad URL, header name or value) is `invalid_config`.
 */
export async function send(method, url, headers, credentials, body) {
  let req;
  try {
    const h = new Headers();
    h.set('Accept', 'application/json');
    for (const k in headers) h.set(k, headers[k]);
    if (body != null) h.set('Content-Type', 'application/json');
    req = new Request(url, { method, headers: h, credentials, body });
  } catch (e) {
    const why = e instanceof Error ? e.name + ': ' + e.message : typeof e == 'string' ? e : 'unknown error';
    throw invalid('bad request: ' + why);
  }
  let res;
  try {
    res = await fetch(req);
  } catch {
    let reached = false;
    try {
      await fetch(new Request(url, { mode: 'no-cors', credentials: 'omit' }));
      reached = true;
    } catch { /* unreachable */ }
    throw reached ? err('cors', url + " answered without CORS headers for this page's origin;"
      + " add the origin to the server's allow-list") : network(url);
  }
  let text;
  try {
    text = await res.text();
  } catch {
    throw network(url);
  }
  return [res.status, text];
}

/**
 * The in-memory token cache: one token, one refresh at a time. A fresh
 * cached token is returned at once; otherwise the first caller starts the
 * fetch and every caller that arrives meanwhile awaits the same Promise,
 * so five calls at start-up make one token request. After a 401,
 * `invalidate(used)` then `get()`: if another caller already replaced that
 * token nothing is fetched twice; otherwise the refresh is told which
 * token was rejected (`fetch(rejected)`), once. Errors are never cached.
 * Tokens are objects with `value` and `stale(now)`.
 */
export class Tokens {
  constructor(fetch, clock = Date.now) {
    this.fetch = fetch;
    this.clock = clock;
  }

  get() {
    const c = this.current;
    if (c && !c.stale(this.clock())) return Promise.resolve(c);
    if (!this.inflight) {
      const rejected = this.rejected;
      this.rejected = undefined;
      const done = () => { this.inflight = undefined; };
      this.inflight = Promise.resolve(rejected).then(this.fetch).then((t) => {
        done();
        return (this.current = t);
      }, (e) => {
        done();
        throw e;
      });
    }
    return this.inflight;
  }

  invalidate(used) {
    if (this.current && this.current.value === used.value) {
      this.current = undefined;
      this.rejected = used.value;
    }
  }
}

const FEATURES = 'popup,width=600,height=720';
const escape = (s) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);

/**
 * Opens the OAuth popup now (browsers allow `window.open` only in the call
 * stack of a user gesture, so never after an await), with the "Powered by
 * Peliqan" notice when `notice` names the connector.
 */
function openPopup(notice) {
  let w = null;
  try {
    w = globalThis.open('about:blank', 'peliqan_oauth', FEATURES);
  } catch { /* blocked */ }
  if (!w) throw err('popup_blocked', 'the browser blocked the OAuth popup: call connect() directly from a click handler');
  if (notice != null) {
    try {
      const doc = w.document;
      doc.title = 'Powered by Peliqan';
      if (doc.body) doc.body.innerHTML = '<div style="font:16px system-ui,sans-serif;max-width:28em;margin:20vh auto;text-align:center;color:#222">'
        + '<p style="font-size:13px;letter-spacing:.08em;text-transform:uppercase;color:#667">Powered by Peliqan</p>'
        + '<p>Connecting <b>' + escape(notice) + '</b>&hellip;</p><p style="color:#556">You will be asked to allow Peliqan to access your data.</p></div>';
    } catch { /* not ours to write */ }
  }
  return w;
}
const closePopup = (w) => { try { w.close(); } catch { /* gone */ } };
// `closed` is only a hint (see src/poll.rs); unreadable counts as open.
const isClosed = (w) => { try { return w.closed === true; } catch { return false; } };

const SERVICES = ['token_service', 'peliqan'];

export class Sdk {
  /** `core`: the Rust `Core` of the same options (it checked them). */
  constructor(options, core) {
    this.core = core;
    this.config = core.settings();
    const f = (k) => isObj(options) && typeof options[k] == 'function' ? options[k] : undefined;
    this.headersFn = f('headers');
    this.getToken = f('getToken');
    this.listeners = [];
    this.down = [false, false];
    this.cancels = new Set();
    this.tokens = new Tokens((rejected) => this.fetchToken(rejected));
  }

  /** Releases the Rust half's memory (garbage collection does it too). */
  free() {
    this.core.free();
  }

  on(type, f) {
    this.core.event(type);
    if (!this.listeners.some(([t, g]) => t == type && g === f)) this.listeners.push([type, f]);
  }

  off(type, f) {
    this.core.event(type);
    this.listeners = this.listeners.filter(([t, g]) => !(t == type && g === f));
  }

  /** Calls the listeners of `type` with `{type, ...detail}`; a throwing one breaks nothing. */
  emit(type, detail) {
    const targets = this.listeners.filter(([t]) => t == type);
    if (!targets.length) return;
    const event = obj({ type, ...detail });
    for (const [, f] of targets) {
      try {
        f.call(null, event);
      } catch { /* the partner's bug */ }
    }
  }

  /** Notes how a request to service `i` went: a transport failure sends `unreachable` once per outage. */
  observe(i, p) {
    return p.then((a) => {
      this.down[i] = false;
      return a;
    }, (e) => {
      if (!isTransport(e)) this.down[i] = false;
      else if (!this.down[i]) {
        this.down[i] = true;
        this.emit('unreachable', { service: SERVICES[i], error: e });
      }
      throw e;
    });
  }

  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const cancel of [...this.cancels]) cancel(true);
    this.cancels.clear();
  }

  alive() {
    if (this.destroyed) throw destroyed();
  }

  /** The headers of the next token-service request (`headers` may be a function). */
  async headers() {
    const f = this.headersFn;
    if (!f) return this.config.headers;
    let v;
    try {
      v = await f.call(null);
    } catch (e) {
      throw err('token_service', 'the headers function failed: ' + describe(e));
    }
    if (!isObj(v)) throw invalid('the headers function must return (a Promise of) an object of header names to strings');
    const h = {};
    for (const [k, x] of Object.entries(v)) if (typeof x == 'string') h[k] = x;
    return h;
  }

  /** One request to the partner's token service (token or connectors). */
  async partner(method, url, body) {
    const h = await this.headers();
    return this.observe(0, send(method, url, h, this.config.credentials, body));
  }

  async fetchToken(rejected) {
    const core = this.core;
    let t;
    if (this.getToken) {
      let v;
      try {
        v = await this.getToken.call(null, obj({ rejectedToken: rejected }));
      } catch (e) {
        throw err('token_service', 'getToken failed: ' + describe(e));
      }
      t = core.callbackToken(v);
    } else {
      const [status, text] = await this.partner('POST', this.config.tokenUrl, core.tokenBody(rejected));
      t = core.serviceToken(status, text);
    }
    this.emit('token-refreshed', { expiresAt: t.expiresAt });
    return t;
  }

  /**
   * Calls Peliqan's operation `op` (its name in peliqan-api) with the
   * sub-account token; answers the body text. After a 401, refreshes the
   * token once and replays once (routed anew: the new token may come with
   * another endpoint).
   */
  async call(op, id, group, body) {
    let t = await this.tokens.get();
    let [status, text] = await this.once(t, op, id, group, body);
    if (status == 401) {
      this.tokens.invalidate(t);
      t = await this.tokens.get();
      [status, text] = await this.once(t, op, id, group, body);
    }
    if (status >= 200 && status < 300) return text;
    throw this.core.peliqanError(status, text);
  }

  once(t, op, id, group, body) {
    const [method, url] = t.route(op, id, group);
    return this.observe(1, send(method, url, { Authorization: 'JWT ' + t.value }, 'omit', body));
  }

  async connectors() {
    this.alive();
    const url = this.config.connectorsUrl;
    if (!url) throw invalid('connectorsUrl is needed: it could not be derived from tokenUrl');
    const [status, text] = await this.partner('GET', url);
    if (status < 200 || status > 299) throw this.core.serviceError(status, text);
    const list = parse(text);
    this.core.setConnectors(list);
    return list;
  }

  async connections() {
    this.alive();
    return parse(await this.call('list_connections'));
  }

  async connection(id) {
    this.alive();
    return parse(await this.call('get_connection', checkId(id)));
  }

  async connectionLogs(id) {
    this.alive();
    return parse(await this.call('connection_logs', checkId(id)));
  }

  async createTable(input) {
    this.alive();
    this.core.checkTable(input);
    const t = await this.tokens.get();
    return parse(await this.call('create_table', undefined, undefined, this.core.table(input, t)));
  }

  async addScheduledScript(input) {
    this.alive();
    const core = this.core;
    core.checkScript(input);
    const t = await this.tokens.get();
    let group;
    if (t.needsGroup()) {
      group = core.inputGroup(input);
      if (group === undefined) group = core.scriptGroup(input, await this.call('list_groups'));
    }
    const body = core.script(input, await this.tokens.get());
    return parse(await this.call('create_script', undefined, group, body));
  }

  /**
   * Adds a connection and waits until it is live. The popup is opened
   * before anything is awaited, so the browser still sees the click.
   * Cancellation (the `signal`, or destroy()) settles the Promise at once
   * and stops the attempt: its polling ends at the next step, its popup
   * closes.
   */
  connect(connector, fields, options) {
    const connectorId = typeof connector == 'number' ? connector
      : isObj(connector) && typeof connector.id == 'number' ? connector.id : undefined;
    let a, signal;
    try {
      if (this.destroyed) throw destroyed();
      signal = isObj(options) ? options.signal : undefined;
      if (signal == null) signal = undefined;
      else if (!(signal instanceof AbortSignal)) throw invalid('signal must be an AbortSignal (from new AbortController())');
      const p = this.core.prepare(connector, fields, options);
      if (signal && signal.aborted) throw err('cancelled', 'connect() was cancelled: its signal was already aborted');
      const o = isObj(options) ? options : {};
      const num = (k) => typeof o[k] == 'number' ? o[k] : undefined;
      a = {
        id: p.id,
        body: p.body,
        onStatus: typeof o.onStatus == 'function' ? o.onStatus : undefined,
        graceMs: num('graceMs'),
        timeoutMs: num('timeoutMs'),
        popup: p.oauth ? openPopup(this.config.poweredByNotice ? p.title : undefined) : undefined,
      };
    } catch (e) {
      this.report(connectorId, undefined, e, false);
      return Promise.reject(e);
    }
    a.status = (state, connectionId, message) => {
      if (a.onStatus) try { a.onStatus.call(null, obj({ state, connectionId, message })); } catch { /* partner's bug */ }
    };
    a.stop = () => {
      a.stopped = true;
      if (a.popup) closePopup(a.popup);
    };
    return new Promise((resolve, reject) => {
      const settle = (ok, v) => {
        if (a.settled) return;
        a.settled = true;
        a.stop();
        if (signal) signal.removeEventListener('abort', cancel);
        this.cancels.delete(cancel);
        this.report(connectorId, a.created, v, ok);
        (ok ? resolve : reject)(v);
      };
      const cancel = (byDestroy) => {
        if (a.settled) return;
        a.status('cancelled', a.created);
        settle(false, err('cancelled', byDestroy === true ? 'connect() was cancelled: the PeliqanEmbed was destroyed'
          : 'connect() was cancelled: its signal was aborted', obj({ connectionId: a.created })));
      };
      if (signal) signal.addEventListener('abort', cancel);
      this.cancels.add(cancel);
      this.attempt(a).then((v) => settle(true, v), (e) => settle(false, e));
    });
  }

  /** Sends the outcome of one connect() as the instance's events. */
  report(connectorId, created, v, ok) {
    if (ok) return this.emit('connected', { connection: v });
    const code = isObj(v) ? v.code : undefined;
    if (code == 'connection_failed' || code == 'timeout') this.emit('connection-failed', { connectionId: created, error: v });
    else if (code == 'cancelled') this.emit('cancelled', { connectionId: created, connectorId, error: v });
    else if (code == 'popup_blocked') this.emit('popup-blocked', { connectorId, error: v });
  }

  async attempt(a) {
    const core = this.core;
    const STOP = {};
    const live = (v) => {
      if (a.stopped) throw STOP;
      return v;
    };
    const withId = (e, id) => {
      if (e instanceof PeliqanError) e.details.connectionId = id;
      return e;
    };
    a.status('creating');
    const [id, oauthUrl] = core.created(live(await this.call('add_connection', undefined, undefined, a.body)));
    a.created = id;
    this.emit('connection-created', { connectionId: id, connectorId: a.id });
    if (oauthUrl !== undefined) {
      // The connector said "not OAuth" but Peliqan wants a grant: a late popup.
      if (!a.popup) {
        try {
          a.popup = openPopup();
        } catch (e) {
          throw withId(e, id);
        }
      }
      try {
        a.popup.location.href = oauthUrl;
      } catch { /* closed meanwhile */ }
    } else if (a.popup) {
      // Not OAuth after all: the popup opened just in case goes away.
      closePopup(a.popup);
      a.popup = undefined;
    }
    const poll = core.poll(a.graceMs, a.timeoutMs ?? (oauthUrl !== undefined ? 300000 : 60000), Date.now());
    a.status(a.popup ? 'authorizing' : 'checking', id);
    for (;;) {
      let text;
      try {
        text = await this.call('get_connection', id);
      } catch (e) {
        if (!isTransient(e)) throw withId(live(e), id);
      }
      const server = live(text) === undefined ? undefined : parse(text);
      const wasInGrace = poll.inGrace;
      const step = poll.observe(Date.now(), server, !!a.popup && isClosed(a.popup));
      if (typeof step == 'number') {
        if (poll.inGrace && !wasInGrace) a.status('confirming', id);
        live(await sleep(step));
        continue;
      }
      if (step == 'connected') {
        a.status('connected', id);
        return server;
      }
      if (step == 'failed') {
        let logs;
        try {
          logs = await this.call('connection_logs', id);
        } catch { /* the reason falls back to the status message */ }
        const reason = poll.reason(live(logs));
        a.status('failed', id, reason);
        throw err('connection_failed', reason, { connectionId: id });
      }
      if (step == 'cancelled') {
        a.status('cancelled', id);
        throw err('cancelled', 'the OAuth popup was closed before access was granted', { connectionId: id });
      }
      a.status('timeout', id);
      throw err('timeout', 'the connection did not become live in time', { connectionId: id });
    }
  }
}

// As on wasm-bindgen's classes: `using embed = new PeliqanEmbed(...)` frees it.
if (typeof Symbol.dispose == 'symbol') Sdk.prototype[Symbol.dispose] = Sdk.prototype.free;

function checkId(id) {
  if (typeof id == 'number' && Number.isInteger(id) && id >= 0 && id < 9e15) return id;
  throw invalid('a connection id is a non-negative whole number');
}
