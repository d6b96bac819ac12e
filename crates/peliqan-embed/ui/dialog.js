// openConnect(): the drop-in UI as a modal dialog, in one call.

import { deepActive } from './dom.js';

/**
 * Opens the connect UI as a modal dialog. `embed` may be null when
 * `options.tokenUrl` (and `options.embedOptions`) say how to build one.
 * Resolves, once the dialog closes, with the connection created in it
 * (the last one) or null; the promise also has `close()` and `element`.
 */
export function openConnect(embed, options = {}) {
  const el = document.createElement('peliqan-connect');
  const opener = options.opener ?? deepActive();
  if (options.lang) el.setAttribute('lang', options.lang);
  el.setAttribute('theme', options.theme ?? 'light');
  if (options.strings) el.strings = options.strings;
  el.options = { ...options.embedOptions, ...(options.poweredByNotice === false && { poweredByNotice: false }) };
  if (embed) el.embed = embed;
  else {
    if (options.tokenUrl) el.setAttribute('token-url', options.tokenUrl);
    if (options.connectorsUrl) el.setAttribute('connectors-url', options.connectorsUrl);
  }
  let done;
  const result = new Promise((resolve) => { done = resolve; });
  el.addEventListener('peliqan-close', (e) => {
    done(e.detail.connection ?? null);
    el.remove();
  }, { once: true });
  (options.container ?? document.body).append(el);
  el.showModal(opener);
  if (options.view === 'connections') el.showConnections();
  else if (options.connector != null) el.openConnector(options.connector);
  result.close = () => el.close();
  result.element = el;
  return result;
}
