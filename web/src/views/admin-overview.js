// The platform at a glance (admins): the seed's admin stats, refreshed every 2 s, a graph of
// the host's load since the page opened, and the latest audit rows.

import { api } from '../api.js';
import { Series, timeChart } from '../charts.js';
import { h, replace } from '../dom.js';
import { bytes, percent } from '../format.js';
import { errorBox, loading, meter, pageHead, timeAgo } from '../ui.js';
import { auditTable } from './admin-audit.js';

const EVERY_MS = 2000;

export function adminOverviewView() {
  const cards = h('div', { class: 'kpis' }, loading('Loading the platform figures…'));
  const load = h('section', { class: 'card', 'aria-labelledby': 'load-title' },
    h('div', { class: 'card-head' }, h('h2', { class: 'card-title', id: 'load-title' }, 'Host load')),
    h('div', { class: 'load-meters' }));
  const chartBox = h('div', { class: 'chart', dataset: { chart: 'load', points: '0' } });
  const chartCard = h('section', { class: 'card', 'aria-labelledby': 'load-chart-title' },
    h('div', { class: 'card-head' },
      h('h2', { class: 'card-title', id: 'load-chart-title' }, 'Load since you opened this page'),
      h('span', { class: 'muted small' }, 'one point every 2 s')),
    chartBox);
  const recent = h('div', null, loading());
  const updated = h('span', { class: 'muted small', role: 'status' });
  const el = h('div', { class: 'page' },
    pageHead('Platform', 'Every client, container and the host they run on.', updated),
    cards,
    h('div', { class: 'two-col' }, load, chartCard),
    h('section', { class: 'card card-flush', 'aria-labelledby': 'recent-title' },
      h('div', { class: 'card-head' },
        h('h2', { class: 'card-title', id: 'recent-title' }, 'Recent activity'),
        h('a', { href: '/admin/audit', class: 'subtle-link' }, 'Full audit log')),
      recent));

  let stopped = false;
  let timer = null;
  let failures = 0;
  const series = new Series(3, 15 * 60);
  const chart = timeChart(chartBox, {
    series: [
      { label: 'CPU', color: '--chart-1' },
      { label: 'Memory', color: '--chart-2' },
      { label: 'Disk', color: '--chart-3', fill: false },
    ],
    fmt: (v) => `${Math.round(v)} %`,
    yMax: 100,
    label: 'Host CPU, memory and disk use over time',
  });

  function kpi(label, value, sub, key) {
    return h('div', { class: 'kpi card', dataset: { kpi: key } },
      h('span', { class: 'kpi-label' }, label),
      h('span', { class: 'kpi-value' }, value),
      sub ? h('span', { class: 'kpi-sub muted' }, sub) : null);
  }

  function render(s) {
    const stopped = Math.max(0, (s.totalContainers || 0) - (s.runningContainers || 0));
    replace(cards,
      kpi('Containers', String(s.totalContainers ?? '—'), `${s.runningContainers ?? 0} running · ${stopped} not running`, 'containers'),
      kpi('Running', String(s.runningContainers ?? '—'), 'containers up right now', 'running'),
      kpi('Clients', String(s.totalClients ?? '—'), `${s.activeClients ?? 0} with a running container`, 'clients'),
      kpi('Active clients', String(s.activeClients ?? '—'), 'at least one container running', 'active'));
    const sl = s.systemLoad || {};
    const host = s.host || {};
    const m = load.querySelector('.load-meters');
    replace(m,
      meter(sl.cpu || 0, 100, `CPU ${percent(sl.cpu)}${host.cpus ? ` of ${host.cpus} cores` : ''}`),
      meter(sl.memory || 0, 100, `Memory ${percent(sl.memory)}${host.memoryTotal ? ` · ${bytes(host.memoryTotal - (host.memoryAvailable || 0))} of ${bytes(host.memoryTotal)}` : ''}`),
      meter(sl.disk || 0, 100, `Disk ${percent(sl.disk)}${host.diskTotal ? ` · ${bytes(host.diskAvailable)} free of ${bytes(host.diskTotal)}` : ''}`),
      Array.isArray(host.loadAverage)
        ? h('p', { class: 'muted small' }, `Load average ${host.loadAverage.map((x) => Number(x).toFixed(2)).join(' · ')} (1, 5, 15 min)`)
        : null);
    const t = Math.floor((Date.parse(s.timestamp) || Date.now()) / 1000);
    series.push(t, sl.cpu ?? null, sl.memory ?? null, sl.disk ?? null);
    chart.setData(series.data());
    chartBox.dataset.points = String(series.length);
    replace(updated, 'Updated ', timeAgo(s.timestamp || new Date().toISOString()));
  }

  async function tick() {
    if (stopped) return;
    if (document.visibilityState === 'visible') {
      try {
        const s = await api.adminStats();
        if (stopped) return;
        failures = 0;
        render(s);
      } catch (e) {
        if (stopped) return;
        failures += 1;
        if (!cards.querySelector('.kpi')) replace(cards, errorBox(e, () => tick()));
        else replace(updated, `Not updated: ${e.message}`);
      }
    }
    timer = setTimeout(tick, failures ? Math.min(30000, EVERY_MS * 2 ** failures) : EVERY_MS);
  }

  const names = { users: new Map(), clients: new Map() };
  let namesLoaded = 0;
  async function loadNames() {
    const [cl, us] = await Promise.allSettled([api.adminClients(), api.adminUsers()]);
    if (cl.status === 'fulfilled') for (const c of cl.value) names.clients.set(c.id, c.name);
    if (us.status === 'fulfilled') for (const u of us.value) names.users.set(u.id, u.email || u.name);
    namesLoaded = Date.now();
  }

  async function loadRecent() {
    try {
      const rows = await api.audit({ limit: 8 });
      if (stopped) return;
      const unknown = rows.some((r) => (r.actor && !names.users.has(r.actor)) || (r.clientId && !names.clients.has(r.clientId)));
      if (!namesLoaded || (unknown && Date.now() - namesLoaded > 60000)) await loadNames();
      if (stopped) return;
      if (!rows.length) replace(recent, h('p', { class: 'muted pad' }, 'Nothing has happened yet.'));
      else replace(recent, auditTable(rows, names).el);
    } catch (e) {
      if (!stopped) replace(recent, h('div', { class: 'pad' }, errorBox(e, loadRecent)));
    }
  }

  tick();
  loadRecent();
  const recentTimer = setInterval(() => { if (document.visibilityState === 'visible') loadRecent(); }, 15000);

  return {
    el,
    title: 'Platform',
    destroy() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(recentTimer);
      chart.destroy();
    },
  };
}
