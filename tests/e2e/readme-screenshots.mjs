// Takes the README's screenshots of the drop-in UI's dialog, in light and
// dark, on the demo page: `node readme-screenshots.mjs` in this folder
// (after `cargo xtask npm`). Not a test: it writes into docs/.

import { fileURLToPath } from 'node:url';
import { launchBrowser, login, openDemo, startDemo } from './harness.mjs';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

const demo = await startDemo({ name: 'screenshots' });
const browser = await launchBrowser();
try {
  for (const theme of ['light', 'dark']) {
    const page = await openDemo(browser, demo.config, { width: 1100, height: 760 });
    await login(page, 'alice', 'wood_123');
    await page.click('#tab-dropin');
    // The dialog, opened on Pipedrive's form and submitted empty: the
    // per-field errors show what the UI does for the user.
    await page.evaluate(async (theme) => {
      const { openConnect } = await import('peliqan-embed/ui');
      const { session } = await import('/js/state.js');
      openConnect(session.embed, { theme, connector: theme === 'light' ? undefined : 'pipedrive' });
    }, theme);
    const dialog = page.locator('body > peliqan-connect');
    if (theme === 'light') {
      await dialog.locator('[data-view="catalogue"] button[data-connector]').first().waitFor();
    } else {
      await dialog.locator('form[data-connector="pipedrive"]').waitFor();
      await dialog.locator('form[data-connector="pipedrive"] button[type="submit"]').click();
      await dialog.locator('[aria-invalid="true"]').first().waitFor();
    }
    await page.screenshot({ path: `${DOCS}ui-dialog-${theme}.png` });
    await page.context().close();
    console.log(`wrote docs/ui-dialog-${theme}.png`);
  }
} finally {
  await browser.close();
  await demo.stop();
}
