// Pure DOM building blocks of the drop-in UI: no state, no SDK calls.

const INPUT_TYPES = { password: 'password', integer: 'number', url: 'url', email: 'email' };

/** What can take focus inside the dialog (for its Tab trap). */
export const FOCUSABLE = 'button,input,select,textarea,a[href],[tabindex]:not([tabindex="-1"])';

/** Creates an element: h('p', {class: 'x'}, 'text', child...). Text never goes through innerHTML. */
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  if (tag === 'button' && !el.hasAttribute('part')) el.setAttribute('part', 'button');
  el.append(...kids.flat(9).filter((c) => c != null && c !== false));
  return el;
}

/** The element that has focus, looking into shadow roots. */
export function deepActive() {
  let a = document.activeElement;
  while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
  return a;
}

/** A connector's display name. */
export const titleOf = (c) => c?.title || c?.name || '';

/** A connector's logo from `logo_url` (https or http only), else its first letter. */
export function logo(c) {
  const letter = h('span', { class: 'logo', part: 'logo', 'aria-hidden': 'true' }, titleOf(c).charAt(0).toUpperCase());
  if (!/^https?:\/\//i.test(c.logo_url ?? '')) return letter;
  const img = h('img', { class: 'logo', part: 'logo', src: c.logo_url, alt: '', loading: 'lazy',
    onerror: () => img.replaceWith(letter) });
  return img;
}

/** A connector's button in the catalogue; `open` shows its form. */
export function card(c, open) {
  return h('button', { type: 'button', class: 'card', part: 'connector', 'data-connector': c.name, onclick: open },
    logo(c), h('span', { class: 'txt' }, titleOf(c), c.category ? h('small', {}, c.category) : null));
}

/**
 * One connect-form field: label, input (by its type), help and error,
 * with the error tied to the input (`aria-describedby`, `aria-invalid`).
 */
export function field(f, values, errors, key) {
  const id = `f-${key}`;
  const help = f.help ? `${id}-help` : null;
  const error = errors[f.name];
  const errId = error ? `${id}-error` : null;
  const value = f.name in values ? values[f.name] : f.default;
  const common = {
    id, name: f.name, part: 'input',
    'aria-describedby': [errId, help].filter(Boolean).join(' ') || null,
    'aria-invalid': error ? 'true' : null,
    'aria-required': f.required ? 'true' : null,
    'data-autofocus': error ? true : key === 'name' && !Object.keys(errors).length ? true : null,
  };
  const label = h('label', { for: id, part: 'label' }, f.label || f.name, f.required ? h('span', { 'aria-hidden': 'true', style: 'display:inline' }, ' *') : null);
  let input;
  if (f.type === 'boolean') {
    input = h('input', { ...common, type: 'checkbox', checked: value === true || value === 'true' });
    return h('div', { class: 'field', part: 'field', 'data-field': f.name },
      h('div', { class: 'check' }, input, label),
      help ? h('p', { id: help, class: 'muted', part: 'help' }, f.help) : null,
      error ? h('p', { id: errId, class: 'err', part: 'error' }, error) : null);
  }
  if (f.type === 'select') {
    input = h('select', common, f.required ? null : h('option', { value: '' }, '—'),
      (f.choices ?? []).map((c) => h('option', { value: c, selected: String(value) === c }, c)));
  } else {
    input = h('input', { ...common, type: INPUT_TYPES[f.type] ?? 'text', placeholder: f.placeholder || null,
      autocomplete: f.type === 'password' ? 'new-password' : 'off', value: value == null ? '' : String(value) });
  }
  return h('div', { class: 'field', part: 'field', 'data-field': f.name, 'data-invalid': Boolean(error) },
    label, input,
    help ? h('p', { id: help, class: 'muted', part: 'help' }, f.help) : null,
    error ? h('p', { id: errId, class: 'err', part: 'error' }, error) : null);
}
