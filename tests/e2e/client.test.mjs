// A client's day in the dashboard, against the real daemon and Docker Engine: sign up, create
// a container from the catalog (with the API's validation messages on the way), watch it run
// (live figures, a moving graph, logs that follow), stop it, delete it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  useDaemonAndBrowser, heading, openPage, publishScreenshot, screenshot, sleep, uniqueEmail, waitFor,
} from './helpers.mjs';

const T = { timeout: 120000 };

describe('client dashboard', () => {
  let d;
  let browser;
  let s; // { page, context, problems }
  const me = { name: 'Ada Lovelace', email: uniqueEmail('ada'), password: 'correct-horse-' + Date.now() };

  const env = useDaemonAndBrowser('client', async (e) => {
    ({ d, browser } = e);
    s = await openPage(browser, d);
  });

  it('signs up through the page and shows the user by name, with an empty list that says what to do', T, async () => {
    const { page } = s;
    await page.goto('/');
    await page.waitForURL('**/login');
    assert.equal(await heading(page), 'Log in');
    await screenshot(page, 'login');
    // a wrong password is said where it happened
    await page.getByLabel('Email').fill(me.email);
    await page.getByLabel('Password').fill('nope-nope-nope');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL('**/register');
    await page.getByLabel('Your name').fill(me.name);
    await page.getByLabel('Email').fill(me.email);
    await page.getByLabel('Password').fill(me.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    assert.equal(await page.locator('[data-test=user-name]').innerText(), me.name);
    await page.getByText('No containers yet').waitFor();
    await page.getByRole('button', { name: 'Create your first container' }).waitFor();
    // the quota line, as the issue writes it
    await page.getByText(/^0 of \d+ containers$/).waitFor();
    await page.getByText(/^0 of [\d.]+ GiB memory$/).waitFor();
    // the session is an HttpOnly cookie, invisible to scripts; nothing is kept in storage
    const cookies = await s.context.cookies();
    assert.ok(cookies.length >= 1, 'a session cookie');
    for (const c of cookies) {
      assert.equal(c.httpOnly, true, `${c.name} is HttpOnly`);
      assert.equal(c.sameSite, 'Strict', `${c.name} is SameSite=Strict`);
    }
    const seen = await page.evaluate(() => [document.cookie, localStorage.length, sessionStorage.length]);
    assert.deepEqual(seen, ['', 0, 0]);
    await screenshot(page, 'containers-empty');
  });

  it('creates a container from the catalog, showing the API\'s messages next to the name field', T, async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'New container' }).click();
    const dialog = page.getByRole('dialog', { name: 'New container' });
    await dialog.waitFor();
    // the catalog, as the daemon serves it
    for (const svc of ['nginx', 'logger', 'postgres']) await dialog.getByRole('radio', { name: new RegExp(`^${svc}\\b`) }).waitFor();
    await screenshot(page, 'create-dialog', { fullPage: false });
    await dialog.getByRole('radio', { name: /^logger\b/ }).check();
    const name = dialog.getByLabel('Name');
    // an invalid name: the API's sentence, next to the field
    await name.fill('Not_A_DNS_Label');
    s.expect((r) => r.status() === 400 && r.url().endsWith('/api/containers/create'));
    await dialog.getByRole('button', { name: 'Create container' }).click();
    const fieldErr = dialog.locator('.field-error:not([hidden])');
    await fieldErr.waitFor();
    assert.match(await fieldErr.innerText(), /name/i);
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    // a good one
    await name.fill('web-logs');
    await dialog.getByRole('button', { name: 'Create container' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator('tbody tr', { hasText: 'web-logs' });
    await row.waitFor();
    await row.locator('.pill', { hasText: 'Running' }).waitFor();
    await page.getByText(/^1 of \d+ containers$/).waitFor();
    // the URL is a link that opens the service
    const link = row.locator('a.url');
    const href = await link.getAttribute('href');
    assert.match(href, /^http:\/\/[^/]+:\d+/);
    assert.equal(await link.getAttribute('target'), '_blank');
    // live figures arrive in the row
    await waitFor(async () => /%$/.test((await row.locator('td.col-cpu').innerText()).trim()), { what: 'a CPU figure in the row' });
    await waitFor(async () => /iB|B/.test(await row.locator('td.col-mem').innerText()), { what: 'a memory figure' });
    // the age renders as words, with the full date on hover
    const age = row.locator('td.col-age time');
    assert.match(await age.innerText(), /just now|second|minute/);
    assert.ok(!/Invalid|NaN/.test(await age.getAttribute('title')), 'the full date renders');

    // the same name again: 409, said next to the name field
    await page.getByRole('button', { name: 'New container' }).click();
    await dialog.waitFor();
    await dialog.getByRole('radio', { name: /^nginx\b/ }).check();
    await dialog.getByLabel('Name').fill('web-logs');
    s.expect((r) => r.status() === 409 && r.url().endsWith('/api/containers/create'));
    await dialog.getByRole('button', { name: 'Create container' }).click();
    await dialog.locator('.field-error:not([hidden])').waitFor();
    // Escape closes the dialog
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('shows a generated password once', T, async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'New container' }).click();
    const dialog = page.getByRole('dialog', { name: 'New container' });
    await dialog.getByRole('radio', { name: /^postgres\b/ }).check();
    await dialog.getByLabel('Name').fill('db');
    await dialog.getByRole('button', { name: 'Create container' }).click();
    const pw = dialog.getByLabel('Password');
    await pw.waitFor();
    assert.ok((await pw.inputValue()).length >= 12, 'a generated password is shown');
    await dialog.getByRole('button', { name: 'I saved it' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('tbody tr', { hasText: 'db' }).locator('.pill', { hasText: 'Running' }).waitFor();
  });

  it('opens the container: live figures, a graph that moves, ranges, logs that follow', T, async () => {
    const { page } = s;
    await page.locator('tbody tr', { hasText: 'web-logs' }).getByRole('link', { name: 'web-logs' }).click();
    await page.waitForURL('**/containers/*');
    await page.locator('main h1', { hasText: 'web-logs' }).waitFor();
    await page.locator('main h1 .pill', { hasText: 'Running' }).waitFor();
    // figures
    await waitFor(async () => /%/.test(await page.locator('[data-stat=cpu]').innerText()), { what: 'the CPU figure' });
    await waitFor(async () => /B/.test(await page.locator('[data-stat=memory]').innerText()), { what: 'the memory figure' });
    // the graph moves: more points every second
    const points = async () => Number(await page.locator('[data-chart=cpu]').getAttribute('data-points'));
    const first = await waitFor(points, { what: 'a first point in the CPU graph' });
    await waitFor(async () => (await points()) >= first + 2, { timeout: 15000, what: 'the CPU graph to grow' });
    assert.ok(await page.locator('[data-chart=cpu] canvas').count(), 'the graph is drawn');
    // logs follow: the logger writes "out N" every 0.2 s
    const logs = page.getByRole('log', { name: 'Log lines' });
    const lastN = async () => {
      const t = await logs.innerText();
      const m = [...t.matchAll(/out (\d+)/g)];
      return m.length ? Number(m[m.length - 1][1]) : -1;
    };
    const n0 = await waitFor(async () => { const n = await lastN(); return n >= 0 ? n + 1 : 0; }, { what: 'log lines' }) - 1;
    await waitFor(async () => (await lastN()) >= n0 + 5, { timeout: 15000, what: 'new log lines to follow' });
    await page.getByText('Following live').waitFor();
    assert.ok(await logs.locator('.log-stderr').count(), 'stderr lines are marked');
    // pause stops the scrolling, follow resumes
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('Paused', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Follow' }).click();
    await screenshot(page, 'container-detail');
    // the history ranges
    for (const r of ['1 hour', '24 hours', '7 days', '15 min']) {
      const b = page.getByRole('button', { name: r, exact: true });
      await b.click();
      assert.equal(await b.getAttribute('aria-pressed'), 'true');
      await waitFor(async () => !/Loading/.test(await page.locator('.chart-note').innerText()), { what: `the ${r} history` });
      assert.ok(!/Could not/.test(await page.locator('.chart-note').innerText()), `the ${r} history loads`);
    }
  });

  it('stops it: stopped everywhere, counted as stopped', T, async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.locator('main h1 .pill', { hasText: 'Stopped' }).waitFor();
    await page.getByText('Not running: the last lines it wrote').waitFor();
    await page.getByRole('button', { name: 'Start', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Containers' }).first().click();
    await page.waitForURL((u) => u.pathname === '/');
    const row = page.locator('tbody tr', { hasText: 'web-logs' });
    await row.locator('.pill', { hasText: 'Stopped' }).waitFor();
    await page.getByText(/2 containers · 1 running · 1 stopped/).waitFor();
    // the dashboard, with a busy container next to them, for the README
    await d.create(await d.token(me.email, me.password), 'busy', 'cruncher');
    const busyRow = page.locator('tbody tr', { hasText: 'cruncher' });
    await busyRow.waitFor();
    await waitFor(async () => parseFloat(await busyRow.locator('td.col-cpu').innerText()) > 20, { timeout: 15000, what: 'the busy container\'s CPU' });
    await sleep(300);
    const shot = await screenshot(page, 'dashboard', { fullPage: false });
    publishScreenshot(shot);
  });

  it('restarts from the list and deletes with a confirmation (Escape cancels)', T, async () => {
    const { page } = s;
    const row = page.locator('tbody tr', { hasText: 'web-logs' });
    await row.getByRole('button', { name: 'Start web-logs', exact: true }).click();
    await row.locator('.pill', { hasText: 'Running' }).waitFor();
    await row.getByRole('button', { name: 'Restart web-logs' }).click();
    await page.getByText('web-logs restarted.').waitFor();
    // Escape closes the confirmation and nothing is deleted; focus goes back to the button
    const del = row.getByRole('button', { name: 'Delete web-logs' });
    await del.click();
    const confirm = page.getByRole('dialog', { name: 'Delete web-logs?' });
    await confirm.waitFor();
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Delete web-logs');
    await row.waitFor();
    // confirmed: gone, here and in the API
    await del.click();
    await confirm.getByRole('button', { name: 'Delete container' }).click();
    await row.waitFor({ state: 'detached' });
    await page.getByText('web-logs deleted.').waitFor();
    const token = await d.token(me.email, me.password);
    const r = await d.api('GET', '/api/containers', { token });
    assert.deepEqual(r.body.map((c) => c.name).sort(), ['cruncher', 'db']);
    for (const n of ['db', 'cruncher']) {
      const rr = page.locator('tbody tr', { hasText: n });
      await rr.getByRole('button', { name: `Delete ${n}` }).click();
      await page.getByRole('dialog', { name: `Delete ${n}?` }).getByRole('button', { name: 'Delete container' }).click();
      await rr.waitFor({ state: 'detached' });
    }
    await page.getByText('No containers yet').waitFor();
    await page.getByText(/^0 of \d+ containers$/).waitFor();
  });

  it('shows errors where they happen, never a blank page', T, async () => {
    const { page } = s;
    s.expect((r) => r.status() === 503);
    const list = (url) => url.pathname === '/api/containers';
    await page.route(list, (route) => route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({ error: 'The Docker Engine does not answer.', code: 'engine_unavailable' }),
    }));
    await page.goto('/');
    const alert = page.getByRole('alert').filter({ hasText: 'The Docker Engine does not answer.' });
    await alert.waitFor();
    await alert.getByRole('button', { name: 'Try again' }).waitFor();
    await page.unroute(list);
    await alert.getByRole('button', { name: 'Try again' }).click();
    await page.getByText('No containers yet').waitFor();
    // an unknown container
    s.expect((r) => r.status() === 404);
    await page.goto('/containers/0123456789ab');
    await page.getByText('Container not found').waitFor();
    await page.goto('/no/such/page');
    await page.getByText('There is no such page').waitFor();
  });

  it('logs out: the cookie is gone and the pages ask to log in', T, async () => {
    const { page } = s;
    await page.goto('/');
    await page.locator('[data-test=logout]').click();
    await page.waitForURL('**/login');
    await page.goto('/containers/abc');
    await page.waitForURL(/\/login\?next=/);
    s.assertClean();
  });

  it('cloudyad stops cleanly: exit status 0, no sanitizer report', T, async () => {
    await env.finish();
  });
});
