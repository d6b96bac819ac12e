// Turns a PeliqanError (the SDK's one error class, with a stable `code`)
// into what an end-customer should read, and shows it. Branching on `code`,
// never on message text, is the point of the SDK's error design.

import { showAlert, setHealth } from './dom.js';

/** Where the demo's servers are, for messages; set once by main.js. */
let where = { tokenServiceUrl: 'the token service', peliqanUrl: 'Peliqan' };
export function setEndpoints(config) {
  where = config;
}

/** `{key, title, detail}` for an error, or null for errors shown inline. */
export function explain(err) {
  const code = err?.code ?? 'unknown';
  const msg = err?.message ?? String(err);
  switch (code) {
    case 'token_service':
      setHealth('token', false);
      return { key: 'token', title: 'The token service refused or failed.',
        detail: `${msg} (token service at ${where.tokenServiceUrl}). Log in again, or check its log.` };
    case 'network':
    case 'cors':
      return networkError(err, code, msg);
    case 'unauthorized':
    case 'forbidden':
      return { key: 'auth', title: 'Peliqan refused the tenant token.', detail: msg };
    case 'popup_blocked':
      return { key: 'popup', title: 'Your browser blocked the sign-in window.',
        detail: 'Allow pop-ups for this site (look for the icon in the address bar), then click Connect again.' };
    case 'upstream':
      return { key: 'peliqan', title: 'Peliqan answered with an error.', detail: msg };
    case 'invalid_config':
      return { key: 'config', title: 'The SDK is configured wrongly.', detail: msg };
    default:
      return { key: code, title: 'Something went wrong.', detail: `${msg} (${code})` };
  }
}

// A network or CORS failure names the server it could not reach (the SDK's
// message carries the URL and the likely causes); say which one it was.
function networkError(err, code, msg) {
  const detail = `${msg} [${code}]`;
  if (where.tokenServiceUrl && msg.includes(where.tokenServiceUrl)) {
    setHealth('token', false);
    return { key: 'token', title: 'The token service is unreachable.', detail };
  }
  setHealth('peliqan', false);
  return { key: 'peliqan', title: 'Peliqan is unreachable.', detail };
}

/** Shows `err` as a banner and logs it for developers. */
export function report(err, context) {
  console.error(context, err);
  const e = explain(err);
  if (e) showAlert(e.key, `${context}: ${e.title}`, e.detail);
}
