// The admin's pages with real data: platform figures, clients with quotas (edited here, and
// the client then meets the new quota), users and roles, every container with filters, the
// audit log with filters.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  useDaemonAndBrowser, heading, openPage, screenshot, uiLogin, waitFor,
} from './helpers.mjs';

const T = { timeout: 120000 };

describe('admin dashboard', () => {
  let d;
  let browser;
  let s;
  let carol;
  let dave;

  const env = useDaemonAndBrowser('admin', async (e) => {
    ({ d, browser } = e);
    carol = await d.register('carol', 'Carol Jones');
    dave = await d.register('dave', 'Dave Brown');
    await d.create(carol.token, 'nginx', 'carol-web');
    await d.create(carol.token, 'logger', 'carol-worker');
    await d.create(dave.token, 'busy', 'dave-batch');
    const stopped = await d.create(dave.token, 'nginx', 'dave-old');
    const r = await d.api('POST', `/api/containers/${stopped.containerId}/stop`, { token: dave.token });
    assert.equal(r.status, 200);
    s = await openPage(browser, d);
  });

  it('the platform page shows the seed\'s admin figures, live', T, async () => {
    const { page } = s;
    await uiLogin(page, d.admin.email, d.admin.password);
    await page.waitForURL('**/admin');
    assert.equal(await heading(page), 'Platform');
    const token = await d.adminToken();
    const st = (await d.api('GET', '/api/admin/stats', { token })).body;
    const kpi = (k) => page.locator(`[data-kpi=${k}] .kpi-value`);
    await waitFor(async () => (await kpi('containers').innerText()) === String(st.totalContainers), { what: 'total containers' });
    assert.equal(await kpi('running').innerText(), String(st.runningContainers));
    assert.equal(await kpi('clients').innerText(), String(st.totalClients));
    assert.equal(await kpi('active').innerText(), String(st.activeClients));
    assert.equal(st.totalContainers, 4);
    assert.equal(st.runningContainers, 3);
    await page.getByText(/^CPU [\d.]+ %/).waitFor();
    // live: the load graph gains points
    const pts = async () => Number(await page.locator('[data-chart=load]').getAttribute('data-points'));
    const p0 = await waitFor(pts, { what: 'a load point' });
    await waitFor(async () => (await pts()) > p0, { timeout: 10000, what: 'the load graph to grow' });
    // the recent activity comes from the audit log
    await page.locator('section', { hasText: 'Recent activity' }).locator('tbody tr').first().waitFor();
    await screenshot(page, 'admin-platform');
  });

  it('clients: plan, quotas and usage; a quota edited here binds the client', T, async () => {
    const { page } = s;
    await page.getByRole('link', { name: 'Clients' }).click();
    await page.waitForURL('**/admin/clients');
    const row = page.locator('tbody tr', { hasText: 'Carol Jones' });
    await row.waitFor();
    await row.getByText(/^2 of \d+ · 2 running$/).waitFor();
    await row.getByText('Free plan').waitFor();
    await screenshot(page, 'admin-clients');
    await row.getByRole('button', { name: /Edit plan and quotas of Carol Jones/ }).click();
    const dlg = page.getByRole('dialog', { name: /Plan and quotas of Carol Jones/ });
    await dlg.getByLabel('Plan').selectOption('pro');
    await dlg.getByLabel('Containers').fill('2');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.waitFor({ state: 'detached' });
    await row.getByText('Pro plan').waitFor();
    await row.getByText(/^2 of 2 · 2 running$/).waitFor();
    // the API agrees, and carol now meets her quota in her own dashboard
    const me = await d.api('GET', '/api/auth/me', { token: carol.token });
    assert.equal(me.body.client.plan, 'pro');
    assert.equal(me.body.client.quota.containers, 2);
    const c = await openPage(browser, d);
    await uiLogin(c.page, carol.email, carol.password);
    await c.page.getByText('2 of 2 containers').waitFor();
    await c.page.getByRole('button', { name: 'New container' }).click();
    const dialog = c.page.getByRole('dialog', { name: 'New container' });
    await dialog.getByLabel('Name').fill('one-too-many');
    c.expect((r) => r.status() === 403);
    await dialog.getByRole('button', { name: 'Create container' }).click();
    const err = dialog.locator('.form-error:not([hidden])');
    await err.waitFor();
    assert.match(await err.innerText(), /quota|limit|2/i);
    c.assertClean();
    await c.context.close();
  });

  it('users and roles', T, async () => {
    const { page } = s;
    await page.getByRole('link', { name: 'Users' }).click();
    await page.waitForURL('**/admin/users');
    const row = page.locator('tbody tr', { hasText: dave.email });
    await row.waitFor();
    await row.getByText('Client', { exact: true }).waitFor();
    await page.locator('tbody tr', { hasText: d.admin.email }).getByText('(you)').waitFor();
    await screenshot(page, 'admin-users');
    await row.getByRole('button', { name: 'Make admin' }).click();
    await row.getByText('Admin', { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Make client' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Make client' }).click();
    await row.getByText('Client', { exact: true }).waitFor();
    // the search filters the table
    await page.getByLabel('Search').fill('carol');
    await page.locator('tbody tr', { hasText: dave.email }).waitFor({ state: 'hidden' });
    await page.locator('tbody tr', { hasText: carol.email }).waitFor();
  });

  it('every container, with filters by client, status and name', T, async () => {
    const { page } = s;
    await page.getByRole('link', { name: 'All containers' }).click();
    await page.waitForURL('**/admin/containers');
    const rows = page.locator('tbody tr');
    await waitFor(async () => (await rows.count()) === 4, { what: 'four containers' });
    await page.locator('tbody tr', { hasText: 'dave-old' }).locator('.pill', { hasText: 'Stopped' }).waitFor();
    await page.getByText(/4 containers: 3 running, 1 stopped/).waitFor();
    await page.locator('tbody tr', { hasText: 'carol-web' }).getByText('Carol Jones').waitFor();
    await screenshot(page, 'admin-containers');
    await page.getByLabel('Status').selectOption('stopped');
    await waitFor(async () => (await rows.count()) === 1, { what: 'one stopped container' });
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Client').selectOption({ label: 'Dave Brown' });
    await waitFor(async () => (await rows.count()) === 2 && (await page.locator('tbody').innerText()).includes('dave-batch'), { what: 'dave\'s two containers' });
    assert.match(page.url(), /clientId=/);
    await page.getByLabel('Name').fill('batch');
    await waitFor(async () => (await rows.count()) === 1, { what: 'the name filter' });
    // an admin may open another tenant's container and see its figures
    await page.locator('tbody tr', { hasText: 'dave-batch' }).getByRole('link', { name: 'dave-batch' }).click();
    await page.locator('main h1', { hasText: 'dave-batch' }).waitFor();
    await waitFor(async () => parseFloat(await page.locator('[data-stat=cpu]').innerText()) > 10, { timeout: 15000, what: 'the busy container\'s CPU' });
    await page.getByRole('link', { name: 'All containers' }).first().click();
    await page.waitForURL('**/admin/containers');
  });

  it('the audit log, filtered by action and client', T, async () => {
    const { page } = s;
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL('**/admin/audit');
    const rows = page.locator('tbody tr');
    await rows.first().waitFor();
    await page.locator('tbody tr', { hasText: 'container.create' }).first().waitFor();
    await screenshot(page, 'admin-audit');
    await page.getByLabel('Action').selectOption('container.stop');
    await waitFor(async () => {
      const n = await rows.count();
      if (n < 1) return false;
      const texts = await rows.allInnerTexts();
      return texts.every((t) => t.includes('container.stop'));
    }, { what: 'only container.stop rows' });
    await page.locator('tbody tr', { hasText: 'dave-old' }).waitFor();
    assert.match(page.url(), /action=container\.stop/);
    await page.getByLabel('Action').selectOption('');
    await page.getByLabel('Client', { exact: true }).selectOption({ label: 'Carol Jones' });
    await waitFor(async () => {
      const texts = await rows.allInnerTexts();
      return texts.length > 0 && texts.every((t) => !t.includes('dave-'));
    }, { what: 'only carol\'s rows' });
    s.assertClean();
  });

  it('cloudyad stops cleanly: exit status 0, no sanitizer report', T, async () => {
    await env.finish();
  });
});
