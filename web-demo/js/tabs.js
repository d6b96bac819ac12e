// The two tabs of the signed-in page: the drop-in UI (`<peliqan-connect>`
// from `peliqan-embed/ui`) and the headless SDK example. Both use the
// session's one PeliqanEmbed, so a connection made in one shows in the other.

import { $, showAlert } from './dom.js';
import { showConnections } from './connections.js';
import { session } from './state.js';

const TABS = { dropin: 'dropin-panel', headless: 'headless-panel' };
// Like the demo user, the chosen tab survives a reload.
const REMEMBER = 'peliqan-demo-tab';

/** The tab to start on: `#headless` or `#dropin` in the URL, else the last one. */
export function firstTab() {
  const asked = location.hash.slice(1) || sessionStorage.getItem(REMEMBER);
  return asked in TABS ? asked : 'dropin';
}

/** Shows tab `name` (`dropin` or `headless`), as the ARIA tabs pattern says. */
export function selectTab(name) {
  for (const [tab, panel] of Object.entries(TABS)) {
    const on = tab === name;
    const button = $(`tab-${tab}`);
    button.setAttribute('aria-selected', String(on));
    button.tabIndex = on ? 0 : -1;
    $(panel).hidden = !on;
  }
  sessionStorage.setItem(REMEMBER, name);
  // Connections made in the drop-in tab show at once in the headless list
  // (the drop-in UI follows the shared instance's events by itself).
  if (name === 'headless' && session.embed) showConnections(session.embed);
}

// Loaded on its own, so a broken UI entry leaves the headless tab working.
const ui = import('peliqan-embed/ui').catch((err) => {
  showAlert('ui', 'The drop-in UI could not be loaded.', `${err} (run \`cargo xtask npm\`).`);
  return null;
});

/** Wires the tab buttons (click, arrow keys) and the dialog button. */
export function setUpTabs() {
  const names = Object.keys(TABS);
  for (const name of names) {
    const button = $(`tab-${name}`);
    button.onclick = () => selectTab(name);
    button.onkeydown = (e) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const next = names[(names.indexOf(name) + (e.key === 'ArrowRight' ? 1 : names.length - 1)) % names.length];
      selectTab(next);
      $(`tab-${next}`).focus();
    };
  }
  $('open-modal').onclick = async (e) => {
    const opener = e.currentTarget;
    const loaded = await ui;
    if (session.embed && loaded) loaded.openConnect(session.embed, { opener });
  };
}

/** Gives the drop-in element the signed-in user's PeliqanEmbed. */
export function showDropIn(embed) {
  $('dropin').embed = embed;
}
