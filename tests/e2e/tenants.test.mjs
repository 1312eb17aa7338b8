// Two tenants in two browser contexts: the second never sees the first one's containers, in
// the list, by address, or on the live channel.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  useDaemonAndBrowser, openPage, screenshot, sleep, uiLogin, waitFor,
} from './helpers.mjs';

const T = { timeout: 120000 };

describe('tenant isolation in the browser', () => {
  let d;
  let browser;
  let a;
  let b;
  let alice;
  let bob;
  let secretCt;

  const env = useDaemonAndBrowser('tenants', async (e) => {
    ({ d, browser } = e);
    alice = await d.register('alice', 'Alice Martin');
    bob = await d.register('bob', 'Bob Stone');
    secretCt = await d.create(alice.token, 'logger', 'alice-secret');
    a = await openPage(browser, d);
    b = await openPage(browser, d);
  });

  it('the first tenant sees its container running, with live figures', T, async () => {
    await uiLogin(a.page, alice.email, alice.password);
    const row = a.page.locator('tbody tr', { hasText: 'alice-secret' });
    await row.locator('.pill', { hasText: 'Running' }).waitFor();
    await waitFor(async () => /%$/.test((await row.locator('td.col-cpu').innerText()).trim()), { what: 'live CPU' });
    assert.equal(await a.page.locator('[data-test=user-name]').innerText(), 'Alice Martin');
  });

  it('the second tenant, in another browser context, sees none of it', T, async () => {
    const { page } = b;
    // bob's live channel gets nothing of alice's: watch every frame it receives
    const frames = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
    await uiLogin(page, bob.email, bob.password);
    assert.equal(await page.locator('[data-test=user-name]').innerText(), 'Bob Stone');
    await page.getByText('No containers yet').waitFor();
    // while alice's container writes logs and figures, and gets restarted
    await d.api('POST', `/api/containers/${secretCt.containerId}/restart`, { token: alice.token });
    await sleep(3000);
    assert.equal(await page.locator('tbody tr').count(), 0);
    const body = await page.locator('body').innerText();
    assert.ok(!body.includes('alice-secret'), 'no trace of the other tenant\'s container');
    const leaked = frames.filter((f) => f.includes(secretCt.containerId) || f.includes('alice-secret'));
    assert.deepEqual(leaked, [], 'no live message about the other tenant\'s container');
    // by address: the same "not found" as for a container that never existed
    b.expect((r) => r.status() === 404);
    await page.goto(`/containers/${secretCt.containerId.slice(0, 12)}`);
    await page.getByText('Container not found').waitFor();
    await page.goto('/containers/alice-secret');
    await page.getByText('Container not found').waitFor();
    // nor the admin pages
    await page.goto('/admin/containers');
    await page.getByText('Administrators only').waitFor();
    await screenshot(page, 'tenant-b-forbidden');
    // and alice's session was never touched by bob's
    await a.page.reload();
    await a.page.locator('tbody tr', { hasText: 'alice-secret' }).waitFor();
    a.assertClean();
    b.assertClean();
  });

  it('cloudyad stops cleanly: exit status 0, no sanitizer report', T, async () => {
    await env.finish();
  });
});
