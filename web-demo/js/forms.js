// Generating an HTML form from a connect form (GET /v1/connectors), reading
// it back, and showing per-field errors. The SDK validates the values
// against the same connect form before any request and reports errors per
// field (`err.details.fields`); Peliqan's own 400 field errors arrive the
// same way, so one renderer covers both.

import { h } from './dom.js';

const INPUT_TYPES = { password: 'password', integer: 'number', url: 'url', email: 'email' };

/** One labelled input for a connect-form field. */
export function fieldInput(field, idPrefix) {
  const id = `${idPrefix}-${field.name}`;
  const common = { id, name: field.name, 'aria-describedby': `${id}-error` };
  let input;
  if (field.type === 'select') {
    input = h('select', common, field.required ? null : h('option', { value: '' }, '—'),
      (field.choices ?? []).map((c) => h('option', { value: c, selected: c === field.default }, c)));
  } else if (field.type === 'boolean') {
    input = h('select', common, h('option', { value: 'true' }, 'Yes'), h('option', { value: 'false' }, 'No'));
    if (field.default === false) input.value = 'false';
  } else {
    input = h('input', { ...common, type: INPUT_TYPES[field.type] ?? 'text',
      placeholder: field.placeholder ?? '', autocomplete: field.type === 'password' ? 'off' : undefined });
    if (field.default !== undefined && field.default !== null) input.value = String(field.default);
  }
  return h('div', { class: 'field', 'data-field': field.name },
    h('label', { for: id }, field.label ?? field.name, field.required ? h('span', { class: 'req' }, ' *') : null),
    input,
    field.help ? h('p', { class: 'help' }, field.help) : null,
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
}

/** The form's values by field name, as strings (the SDK normalises types). */
export function readValues(form) {
  const values = {};
  for (const el of form.querySelectorAll('[name]')) {
    if (el.value.trim() !== '') values[el.name] = el.value;
  }
  return values;
}

/** Shows `errors` ({field: message}) next to their inputs; clears the rest. */
export function showFieldErrors(form, errors = {}) {
  let first = null;
  for (const field of form.querySelectorAll('.field[data-field]')) {
    const msg = errors[field.dataset.field];
    const out = field.querySelector('.field-error');
    const input = field.querySelector('[name]');
    field.toggleAttribute('data-invalid', Boolean(msg));
    input?.setAttribute('aria-invalid', msg ? 'true' : 'false');
    out.hidden = !msg;
    out.textContent = msg ? (Array.isArray(msg) ? msg.join(' ') : msg) : '';
    if (msg && !first) first = input;
  }
  first?.focus();
  // Errors for fields the form does not show (should not happen) are not lost.
  const unknown = Object.keys(errors).filter((k) => !form.querySelector(`[data-field="${CSS.escape(k)}"]`));
  return unknown.map((k) => `${k}: ${errors[k]}`);
}
