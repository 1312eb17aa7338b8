// Phone width (375 px) and the keyboard: nothing overflows sideways, every control has a name,
// focus is visible, dialogs open and close from the keyboard (Escape) and give focus back.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  useDaemonAndBrowser, openPage, screenshot, uiLogin, waitFor,
} from './helpers.mjs';

const T = { timeout: 120000 };

async function noSidewaysScroll(page, what) {
  const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(sw <= w, `${what}: the page is ${sw} px wide in a ${w} px window`);
}

/** Every visible control has an accessible name; every field a label. */
async function namedControls(page, what) {
  const bad = await page.evaluate(() => {
    const out = [];
    const visible = (el) => el.getClientRects().length > 0;
    for (const el of document.querySelectorAll('button, a[href], input, select, textarea')) {
      if (!visible(el) || el.type === 'hidden') continue;
      const name = (el.getAttribute('aria-label') || '').trim()
        || (el.labels && [...el.labels].map((l) => l.textContent).join('').trim())
        || (el.tagName === 'BUTTON' || el.tagName === 'A' ? el.textContent.trim() : '')
        || (el.getAttribute('title') || '').trim();
      if (!name) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  });
  assert.deepEqual(bad, [], `${what}: controls without a name`);
}

describe('phone width and keyboard', () => {
  let d;
  let browser;
  let user;
  let ct;

  const env = useDaemonAndBrowser('access', async (e) => {
    ({ d, browser } = e);
    user = await d.register('erin', 'Erin Okafor');
    ct = await d.create(user.token, 'logger', 'phone-app');
  });

  it('works at 375 px: login, list, container, create', T, async () => {
    const s = await openPage(browser, d, { width: 375, height: 740 });
    const { page } = s;
    await page.goto('/login');
    await noSidewaysScroll(page, 'login');
    await namedControls(page, 'login');
    await screenshot(page, 'phone-login');
    await uiLogin(page, user.email, user.password);
    const row = page.locator('tbody tr', { hasText: 'phone-app' });
    await row.locator('.pill', { hasText: 'Running' }).waitFor();
    await waitFor(async () => /%/.test(await row.locator('td.col-cpu').innerText()), { what: 'live CPU' });
    await noSidewaysScroll(page, 'containers');
    await namedControls(page, 'containers');
    await screenshot(page, 'phone-containers');
    await row.getByRole('link', { name: 'phone-app' }).click();
    await page.locator('main h1', { hasText: 'phone-app' }).waitFor();
    await waitFor(async () => Number(await page.locator('[data-chart=cpu]').getAttribute('data-points')) > 1, { what: 'graph points' });
    await page.getByRole('log').getByText(/out \d+/).first().waitFor();
    await noSidewaysScroll(page, 'container');
    await namedControls(page, 'container');
    await screenshot(page, 'phone-container');
    await page.goto('/');
    await page.getByRole('button', { name: 'New container' }).click();
    await page.getByRole('dialog', { name: 'New container' }).waitFor();
    await noSidewaysScroll(page, 'create dialog');
    await namedControls(page, 'create dialog');
    await screenshot(page, 'phone-create', { fullPage: false });
    s.assertClean();
    await s.context.close();
  });

  it('is usable from the keyboard, with visible focus', T, async () => {
    const s = await openPage(browser, d);
    const { page } = s;
    await uiLogin(page, user.email, user.password);
    // after a navigation focus is on the page's heading (for screen readers); on a fresh load
    // the first Tab reaches the skip link, which takes focus to the content
    await page.reload();
    await page.locator('tbody tr', { hasText: 'phone-app' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
    // Tab on to "New container": it shows a focus ring
    let found = false;
    for (let i = 0; i < 40 && !found; i += 1) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement.textContent.trim() === 'New container');
    }
    assert.ok(found, 'New container is reachable with Tab');
    const outline = await page.evaluate(() => {
      const cs = getComputedStyle(document.activeElement);
      return [cs.outlineStyle, cs.outlineWidth];
    });
    assert.notEqual(outline[0], 'none', 'focus is visible');
    assert.notEqual(outline[1], '0px', 'focus is visible');
    // Enter opens the dialog with focus inside; Escape closes it and focus comes back
    await page.keyboard.press('Enter');
    const dlg = page.getByRole('dialog', { name: 'New container' });
    await dlg.waitFor();
    await waitFor(() => page.evaluate(() => document.activeElement.getAttribute('name') === 'name' && Boolean(document.activeElement.closest('dialog'))), { what: 'focus on the name field in the dialog' });
    // the service choice is a real radio group: one Tab stop, arrows move the choice
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement.type), 'radio');
    await page.keyboard.press('ArrowRight');
    assert.equal(await dlg.getByRole('radio', { name: /^node\b/ }).isChecked(), true);
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'New container');
    // keyboard all the way: open, type a name, submit with Enter
    await page.keyboard.press('Enter');
    await dlg.waitFor();
    await waitFor(() => page.evaluate(() => document.activeElement.getAttribute('name') === 'name'), { what: 'focus on the name' });
    await page.keyboard.type('kbd-made');
    await page.keyboard.press('Enter');
    await dlg.waitFor({ state: 'detached' });
    await page.locator('tbody tr', { hasText: 'kbd-made' }).locator('.pill', { hasText: 'Running' }).waitFor();
    // a row's actions are buttons with names that say which container
    await page.getByRole('button', { name: 'Stop kbd-made' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('tbody tr', { hasText: 'kbd-made' }).locator('.pill', { hasText: 'Stopped' }).waitFor();
    // focus stays on the row's toggle, now Start
    await waitFor(() => page.evaluate(() => document.activeElement.getAttribute('aria-label') === 'Start kbd-made'), { what: 'focus kept on the toggle' });
    s.assertClean();
    await s.context.close();
  });

  it('a session that ends sends you to log in, then back where you were', T, async () => {
    const s = await openPage(browser, d);
    const { page } = s;
    await uiLogin(page, user.email, user.password);
    await page.goto('/containers/phone-app');
    await page.locator('main h1', { hasText: 'phone-app' }).waitFor();
    // the cookie goes away (expired, or logged out elsewhere): the next action says so
    await s.context.clearCookies();
    await page.getByRole('button', { name: 'Restart', exact: true }).click();
    await page.waitForURL(/\/login\?expired=1&next=%2Fcontainers%2Fphone-app/);
    await page.getByText('Your session ended. Log in again to continue.').waitFor();
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/containers/phone-app');
    await page.locator('main h1', { hasText: 'phone-app' }).waitFor();
    s.assertClean();
    await s.context.close();
  });

  it('the container id in the address works as well as the name', T, async () => {
    const s = await openPage(browser, d);
    await uiLogin(s.page, user.email, user.password);
    await s.page.goto(`/containers/${ct.containerId}`);
    await s.page.locator('main h1', { hasText: 'phone-app' }).waitFor();
    await s.page.goto('/containers/phone-app');
    await s.page.locator('main h1', { hasText: 'phone-app' }).waitFor();
    s.assertClean();
    await s.context.close();
  });

  it('cloudyad stops cleanly: exit status 0, no sanitizer report', T, async () => {
    await env.finish();
  });
});
