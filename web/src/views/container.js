// One container: its facts, actions, live figures, graphs (CPU, memory, network) over
// 15 min, 1 h, 24 h or 7 d, and its logs.
//
// The 15 min graphs start from the server's history (one point a second) and then grow with
// every live sample; the longer ranges are reloaded at their step (10 s, 1 min, 5 min).

import { api } from '../api.js';
import { Series, timeChart } from '../charts.js';
import { h, icon, replace } from '../dom.js';
import { bytes, cpus, mib, percent, rate } from '../format.js';
import { live } from '../live.js';
import { navigate } from '../router.js';
import { session } from '../session.js';
import { isRunning, pill } from '../status.js';
import { errorBox, facts, loading, timeAgo } from '../ui.js';
import { act, remove } from './actions.js';
import { shortId, urlLink } from './container-table.js';
import { logsPanel } from './logs.js';

export const RANGES = [
  { key: '15m', label: '15 min', seconds: 900, refresh: 0 },
  { key: '1h', label: '1 hour', seconds: 3600, refresh: 10000 },
  { key: '24h', label: '24 hours', seconds: 86400, refresh: 60000 },
  { key: '7d', label: '7 days', seconds: 7 * 86400, refresh: 300000 },
];

export function containerView({ params, query }) {
  const ref = params.id;
  const fromAdmin = query.get('from') === 'admin';
  const back = h('a', { href: fromAdmin ? '/admin/containers' : '/', class: 'back-link' },
    icon('back'), fromAdmin ? 'All containers' : 'Containers');
  const body = h('div', { class: 'stack' }, loading('Loading the container…'));
  const el = h('div', { class: 'page' }, back, body);

  let c = null;
  let destroyed = false;
  const cleanups = [];
  let logs = null;
  let charts = null;
  let statsBox = null;
  let head = null;
  let factsBox = null;

  async function load() {
    try {
      c = await api.container(ref);
      if (destroyed) return;
      render();
    } catch (e) {
      if (destroyed) return;
      if (e.status === 404) {
        replace(body, h('div', { class: 'empty' },
          h('h1', { class: 'page-title', tabindex: '-1' }, 'Container not found'),
          h('p', { class: 'muted' }, `There is no container “${ref}” in your reach. It may have been deleted.`),
          h('a', { href: '/', class: 'btn btn-primary' }, 'Back to your containers')));
      } else {
        replace(body, errorBox(e, () => { replace(body, loading()); load(); }));
      }
    }
  }

  function renderHead() {
    const running = isRunning(c.status);
    const toggle = h('button', { type: 'button', class: 'btn', dataset: { action: running ? 'stop' : 'start' } },
      icon(running ? 'stop' : 'play'), h('span', null, running ? 'Stop' : 'Start'));
    toggle.addEventListener('click', () => act(toggle, c, running ? 'stop' : 'start', refresh));
    const restart = h('button', { type: 'button', class: 'btn', dataset: { action: 'restart' } },
      icon('restart'), h('span', null, 'Restart'));
    restart.addEventListener('click', () => act(restart, c, 'restart', refresh));
    const del = h('button', { type: 'button', class: 'btn btn-danger-ghost', dataset: { action: 'delete' } },
      icon('trash'), h('span', null, 'Delete'));
    del.addEventListener('click', async () => {
      if (await remove(del, c)) navigate(fromAdmin ? '/admin/containers' : '/');
    });
    const open = c.url && running
      ? h('a', { href: c.url, target: '_blank', rel: 'noopener noreferrer', class: 'btn btn-primary', dataset: { external: '' } },
        icon('external'), h('span', null, 'Open'))
      : null;
    const focused = head && head.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    const node = h('div', { class: 'page-head' },
      h('div', { class: 'page-head-text' },
        h('h1', { class: 'page-title', tabindex: '-1' }, c.name, ' ', pill(c.status)),
        h('p', { class: 'page-sub muted' }, `${c.serviceType} · ${c.image}`)),
      h('div', { class: 'page-actions' }, open, toggle, restart, del));
    if (head) head.replaceWith(node);
    head = node;
    if (focused) {
      const again = head.querySelector(`[data-action="${focused}"]`) || head.querySelector('[data-action]');
      if (again) again.focus();
    }
    return head;
  }

  function renderFacts() {
    const lim = c.limits || {};
    const node = facts([
      ['URL', urlLink(c)],
      ['Host port', c.hostPort ? String(c.hostPort) : '—'],
      ['Created', timeAgo(c.createdAt)],
      ['Removed automatically', c.expiresAt ? timeAgo(c.expiresAt) : 'Never'],
      ['Limits', `${mib(lim.memoryMb)} · ${cpus(lim.cpus)}${lim.pidsLimit ? ` · ${lim.pidsLimit} processes` : ''}`],
      ['Container id', h('span', { class: 'mono', title: c.id }, shortId(c.id))],
      session.isAdmin ? ['Client', h('a', { href: '/admin/containers?clientId=' + encodeURIComponent(c.clientId), class: 'subtle-link' }, c.clientId)] : null,
      c.updatedAt ? ['Last change', timeAgo(c.updatedAt)] : null,
    ]);
    node.classList.add('card');
    if (factsBox) factsBox.replaceWith(node);
    factsBox = node;
    return node;
  }

  function render() {
    document.title = `${c.name} · Cloudya`;
    statsBox = statCards();
    charts = chartsSection();
    logs = logsPanel({ containerId: c.id, running: () => isRunning(c.status) });
    cleanups.push(() => logs.destroy(), () => charts.destroy(), () => statsBox.destroy());
    replace(body, renderHead(), h('div', { class: 'detail-grid' }, renderFacts(), statsBox.el), charts.el, logs.el);
    const title = head.querySelector('h1');
    if (title && document.activeElement === document.body) title.focus({ preventScroll: true });
  }

  async function refresh() {
    try {
      const prev = c.status;
      c = await api.container(c.id);
      if (destroyed) return;
      renderHead();
      renderFacts();
      const started = pendingStart;
      pendingStart = false;
      // (re)started: follow the new lines; stopped: the stream has ended
      if (isRunning(c.status) && (started || !isRunning(prev))) logs.restart(0);
      else if (!isRunning(c.status) && isRunning(prev)) logs.stop();
      if (prev !== c.status) statsBox.status();
    } catch (e) {
      if (e.status === 404 && !destroyed) {
        replace(body, h('div', { class: 'empty' },
          h('h1', { class: 'page-title', tabindex: '-1' }, `${c.name} was deleted`),
          h('a', { href: fromAdmin ? '/admin/containers' : '/', class: 'btn btn-primary' }, 'Back to the list')));
        cleanups.splice(0).forEach((f) => f());
      }
    }
  }

  // --- live figures ---------------------------------------------------------------------
  function statCards() {
    const cpuV = h('span', { class: 'stat-value', dataset: { stat: 'cpu' } }, '—');
    const cpuS = h('span', { class: 'stat-sub muted' });
    const memV = h('span', { class: 'stat-value', dataset: { stat: 'memory' } }, '—');
    const memS = h('span', { class: 'stat-sub muted' });
    const netV = h('span', { class: 'stat-value', dataset: { stat: 'network' } }, '—');
    const netS = h('span', { class: 'stat-sub muted' });
    const pidV = h('span', { class: 'stat-value', dataset: { stat: 'pids' } }, '—');
    const pidS = h('span', { class: 'stat-sub muted' });
    const note = h('p', { class: 'muted small stat-note', role: 'status' });
    const card = (label, v, s) => h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), v, s);
    const el2 = h('section', { class: 'card stats', 'aria-label': 'Current usage' },
      h('div', { class: 'stat-grid' },
        card('CPU', cpuV, cpuS), card('Memory', memV, memS), card('Network', netV, netS), card('Processes', pidV, pidS)),
      note);
    let last = 0;
    let pollTimer = null;

    function show(d) {
      last = Date.now();
      cpuV.textContent = percent(d.cpu && d.cpu.usage);
      cpuS.textContent = d.cpu && d.cpu.cores ? `of one core · ${d.cpu.cores} cores on the host` : 'of one core';
      memV.textContent = bytes(d.memory && d.memory.usage);
      memS.textContent = d.memory ? `of ${bytes(d.memory.limit)} · ${percent(d.memory.percent)}` : '';
      netV.textContent = d.network ? `↓ ${bytes(d.network.rxBytes)}` : '—';
      netS.textContent = d.network ? `↑ ${bytes(d.network.txBytes)} sent` : '';
      pidV.textContent = d.pids ? String(d.pids.current) : '—';
      pidS.textContent = d.pids && d.pids.limit ? `of ${d.pids.limit}` : '';
      note.textContent = d.blockIO ? `Disk: ${bytes(d.blockIO.readBytes)} read, ${bytes(d.blockIO.writeBytes)} written` : '';
    }

    function status() {
      if (!isRunning(c.status)) {
        for (const v of [cpuV, memV, netV, pidV]) v.textContent = '—';
        for (const v of [cpuS, memS, netS, pidS]) v.textContent = '';
        note.textContent = 'Not running: no live figures.';
      } else if (!last) {
        note.textContent = 'Waiting for the first sample…';
      }
    }

    // the live channel brings a sample a second; when it does not (no channel, or another
    // tenant's container seen by an admin), ask for it
    async function poll() {
      if (destroyed) return;
      if (isRunning(c.status) && Date.now() - last > 3000 && document.visibilityState === 'visible') {
        try {
          const d = await api.stats(c.id);
          if (!destroyed) onSample(d, true);
        } catch (e) {
          if (e.status !== 409 && e.status !== 503 && !destroyed) note.textContent = `No figures: ${e.message}`;
        }
      }
      pollTimer = setTimeout(poll, 2000);
    }
    pollTimer = setTimeout(poll, 2500);
    status();
    return { el: el2, show, status, destroy: () => clearTimeout(pollTimer) };
  }

  function onSample(d) {
    statsBox.show(d);
    charts.sample(d);
  }

  // --- graphs ---------------------------------------------------------------------------
  function chartsSection() {
    let range = RANGES[0];
    const tabs = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' });
    const note = h('p', { class: 'muted small chart-note', role: 'status' });
    const boxes = {
      cpu: h('div', { class: 'chart', dataset: { chart: 'cpu', points: '0' } }),
      memory: h('div', { class: 'chart', dataset: { chart: 'memory', points: '0' } }),
      network: h('div', { class: 'chart', dataset: { chart: 'network', points: '0' } }),
    };
    const panel = (title, box) => h('div', { class: 'chart-panel' }, h('h3', { class: 'chart-title' }, title), box);
    const section = h('section', { class: 'card charts', 'aria-labelledby': 'charts-title' },
      h('div', { class: 'card-head' }, h('h2', { class: 'card-title', id: 'charts-title' }, 'Usage'), tabs),
      note,
      h('div', { class: 'chart-grid' },
        panel('CPU (% of one core)', boxes.cpu),
        panel('Memory', boxes.memory),
        panel('Network (per second)', boxes.network)));

    const cpuChart = timeChart(boxes.cpu, { series: [{ label: 'CPU', color: '--chart-1' }], fmt: (v) => `${+v.toFixed(1)} %`, yMax: 5, label: 'CPU usage over time' });
    const memChart = timeChart(boxes.memory, { series: [{ label: 'Memory', color: '--chart-2' }], fmt: bytes, binary: true, yMax: 1024 * 1024, label: 'Memory usage over time' });
    const netChart = timeChart(boxes.network, {
      series: [{ label: 'Received', color: '--chart-3' }, { label: 'Sent', color: '--chart-4' }],
      fmt: rate,
      binary: true,
      yMax: 1024,
      label: 'Network traffic over time',
    });
    const cpuS = new Series(1, range.seconds);
    const memS = new Series(1, range.seconds);
    const netS = new Series(2, range.seconds);
    let prev = null; // last live sample: {t, rx, tx}
    let timer = null;
    let seq = 0;

    function draw() {
      cpuChart.setData(cpuS.data());
      memChart.setData(memS.data());
      netChart.setData(netS.data());
      boxes.cpu.dataset.points = String(cpuS.length);
      boxes.memory.dataset.points = String(memS.length);
      boxes.network.dataset.points = String(netS.length);
    }

    async function loadRange() {
      const my = ++seq;
      clearTimeout(timer);
      note.textContent = 'Loading…';
      try {
        const r = await api.history(c.id, range.key);
        if (destroyed || my !== seq) return;
        const step = Number(r.step) || 1;
        for (const s of [cpuS, memS, netS]) s.reset(range.seconds);
        for (const p of r.points || []) {
          const t = Math.floor(Date.parse(p.t) / 1000);
          if (!Number.isFinite(t)) continue;
          cpuS.push(t, p.cpu);
          memS.push(t, p.memory);
          netS.push(t, (p.rxBytes || 0) / step, (p.txBytes || 0) / step);
        }
        const nowSec = Date.now() / 1000;
        for (const s of [cpuS, memS, netS]) s.trim(nowSec);
        prev = null;
        draw();
        const n = (r.points || []).length;
        note.textContent = n
          ? `${range.label}: one point every ${stepText(step)}${range.refresh ? '' : ', live'}.`
          : `No figures for the last ${range.label} yet${isRunning(c.status) ? ': the graphs fill as it runs.' : '.'}`;
      } catch (e) {
        if (destroyed || my !== seq) return;
        note.textContent = `Could not load the history: ${e.message}`;
      }
      if (range.refresh) timer = setTimeout(loadRange, range.refresh);
    }

    function sample(d) {
      if (range.refresh) return; // the long ranges are reloaded at their step
      const t = Math.floor(Date.parse(d.timestamp || new Date().toISOString()) / 1000);
      if (!Number.isFinite(t)) return;
      const rx = d.network ? d.network.rxBytes : 0;
      const tx = d.network ? d.network.txBytes : 0;
      cpuS.push(t, d.cpu ? d.cpu.usage : null);
      memS.push(t, d.memory ? d.memory.usage : null);
      if (prev && t > prev.t && rx >= prev.rx && tx >= prev.tx) {
        netS.push(t, (rx - prev.rx) / (t - prev.t), (tx - prev.tx) / (t - prev.t));
      }
      if (!prev || t > prev.t) prev = { t, rx, tx };
      draw();
      if (note.textContent.startsWith('No figures')) note.textContent = `${range.label}: one point every second, live.`;
    }

    for (const r of RANGES) {
      const b = h('button', { type: 'button', class: 'seg', 'aria-pressed': String(r === range), dataset: { range: r.key } }, r.label);
      b.addEventListener('click', () => {
        if (r === range) return;
        range = r;
        for (const x of tabs.children) x.setAttribute('aria-pressed', String(x.dataset.range === r.key));
        loadRange();
      });
      tabs.append(b);
    }
    loadRange();
    return {
      el: section,
      sample,
      destroy() {
        clearTimeout(timer);
        cpuChart.destroy();
        memChart.destroy();
        netChart.destroy();
      },
    };
  }

  // --- live channel ---------------------------------------------------------------------
  let unsubStats = null;
  let unsubEvents = null;
  const offMsg = live.on((m) => {
    if (!c || m.containerId !== c.id) return;
    if (m.type === 'stats' && m.data && isRunning(c.status)) onSample(m.data);
    else if (m.type === 'event') {
      if (m.action === 'start') pendingStart = true;
      refreshSoon();
    }
  });
  let refreshTimer = null;
  let pendingStart = false;
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 200);
  }

  load().then(() => {
    if (destroyed || !c) return;
    unsubStats = live.subscribe('stats', c.id);
    unsubEvents = live.subscribe('events');
  });
  // the record may change behind our back (expiry, an admin): look again now and then
  const slow = setInterval(() => { if (c && document.visibilityState === 'visible') refresh(); }, 30000);

  return {
    el,
    title: 'Container',
    destroy() {
      destroyed = true;
      clearInterval(slow);
      clearTimeout(refreshTimer);
      offMsg();
      if (unsubStats) unsubStats();
      if (unsubEvents) unsubEvents();
      cleanups.splice(0).forEach((f) => f());
    },
  };
}

function stepText(step) {
  if (step < 60) return `${step} s`;
  if (step < 3600) return `${step / 60} min`;
  return `${step / 3600} h`;
}
