// Small DOM helpers, so the rest of the demo reads as what it shows.
// Text always goes in through textContent (never innerHTML): connector
// names, log lines and error messages come from servers.

/** Creates an element: h('p', {class: 'x'}, 'text', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key in el && !key.startsWith('data') && key !== 'list') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

/** Shorthand for document.getElementById. */
export const $ = (id) => document.getElementById(id);

/** Shows an error banner; `key` replaces an earlier banner of the same kind. */
export function showAlert(key, title, detail) {
  const alerts = $('alerts');
  alerts.querySelector(`[data-key="${key}"]`)?.remove();
  const close = h('button', { type: 'button', onclick: () => banner.remove() }, 'Dismiss');
  const banner = h('div', { class: 'alert', 'data-key': key },
    h('div', {}, h('strong', {}, title), detail ? h('p', {}, detail) : null), close);
  alerts.append(banner);
}

/** Removes the banner of kind `key`, if shown. */
export function clearAlert(key) {
  $('alerts').querySelector(`[data-key="${key}"]`)?.remove();
}

/** Marks a health dot in the footer as up (true) or down (false). */
export function setHealth(which, ok) {
  $(`health-${which}`).dataset.ok = String(ok);
}
