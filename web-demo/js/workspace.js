// Creating a query table (POST /table) and a scheduled Python script
// (POST /interface) in the tenant's account, from templates. A partner
// ships such templates so end-customers get a working pipeline in a click;
// the templates here are examples.

import { $, h } from './dom.js';
import { fieldInput, readValues, showFieldErrors } from './forms.js';
import { report } from './errors.js';
import { isActive } from './state.js';

const TABLE_TEMPLATES = {
  'Open deals by stage': 'SELECT stage, COUNT(*) AS deals, SUM(value) AS total\nFROM pipedrive.deals\nWHERE status = \'open\'\nGROUP BY stage',
  'New contacts this month': 'SELECT *\nFROM hubspot.contacts\nWHERE createdate >= date_trunc(\'month\', now())',
};

const SCRIPT_TEMPLATES = {
  'Daily deal digest': [
    '# Sends a summary of yesterday\'s won deals. Runs in Peliqan.',
    'dbconn = pq.dbconnect(pq.DW_NAME)',
    'won = dbconn.fetch(pq.DW_NAME, \'pipedrive\', \'deals\', where="status = \'won\'")',
    'print(f"{len(won)} deals won")',
  ].join('\n'),
  'Sync contacts to CRM': [
    '# Pushes new contacts to the CRM every hour.',
    'contacts = pq.dbconnect(pq.DW_NAME).fetch(pq.DW_NAME, \'hubspot\', \'contacts\')',
    'for c in contacts:',
    '    print(c[\'email\'])',
  ].join('\n'),
};

const SCHEDULES = [['3600', 'Every hour'], ['86400', 'Every day'], ['604800', 'Every week']];

/** Renders both forms for `embed` (called again on a tenant switch). */
export function showWorkspace(embed) {
  $('created').replaceChildren();
  build(embed, $('table-form'), {
    title: 'Create a query table',
    templates: TABLE_TEMPLATES,
    codeField: 'query',
    fields: [
      { name: 'name', label: 'Table name', required: true },
      { name: 'query', label: 'SQL query', required: true },
    ],
    create: (v) => embed.createTable({ name: v.name, query: v.query }),
    describe: (t) => `Table “${t.name ?? '?'}” created (id ${t.id}).`,
  });
  build(embed, $('script-form'), {
    title: 'Schedule a Python script',
    templates: SCRIPT_TEMPLATES,
    codeField: 'rawCode',
    fields: [
      { name: 'name', label: 'Script name', required: true },
      { name: 'rawCode', label: 'Python code', required: true },
      { name: 'schedule', label: 'Run', type: 'select', required: true, choices: SCHEDULES.map((s) => s[0]) },
    ],
    create: (v) => embed.addScheduledScript({ name: v.name, rawCode: v.rawCode, schedule: Number(v.schedule) }),
    describe: (s) => `Script “${s.name ?? '?'}” scheduled every ${s.schedule ?? '?'} s (id ${s.id}).`,
  });
}

function build(embed, form, { title, templates, codeField, fields, create, describe }) {
  const prefix = form.id;
  const names = Object.keys(templates);
  const picker = h('select', { id: `${prefix}-template`, 'aria-label': 'Template' },
    names.map((n) => h('option', { value: n }, n)));
  form.replaceChildren(h('h3', {}, title),
    h('div', { class: 'field' }, h('label', { for: picker.id }, 'Template'), picker),
    ...fields.map((f) => fieldInput(f, prefix)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create')));
  // The code field is a textarea; the schedule shows words, not seconds.
  const code = form.querySelector(`[name="${codeField}"]`);
  const area = h('textarea', { id: code.id, name: codeField, rows: 6, 'aria-describedby': `${code.id}-error` });
  code.replaceWith(area);
  for (const opt of form.querySelectorAll('[name="schedule"] option')) {
    opt.textContent = SCHEDULES.find((s) => s[0] === opt.value)?.[1] ?? opt.value;
  }
  const apply = () => {
    form.querySelector('[name="name"]').value = picker.value;
    area.value = templates[picker.value];
  };
  picker.addEventListener('change', apply);
  apply();
  form.onsubmit = async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    showFieldErrors(form, {});
    try {
      const created = await create(readValues(form));
      // Not into the next user's page if the user switched meanwhile.
      if (isActive(embed)) $('created').prepend(h('li', {}, describe(created)));
    } catch (err) {
      if (!isActive(embed)) return;
      if (err?.code === 'validation') showFieldErrors(form, err.details?.fields ?? {});
      else report(err, title);
    } finally {
      button.disabled = false;
    }
  };
}
