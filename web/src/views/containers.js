// The tenant's containers: quota usage, the list with live figures, create, start, stop,
// restart, delete. Lifecycle events from the live channel reload the list; without the live
// channel it is reloaded every 5 s.

import { api } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { count, cpus, trim } from '../format.js';
import { live } from '../live.js';
import { session } from '../session.js';
import { tally } from '../status.js';
import { emptyState, errorBox, loading, meter, pageHead } from '../ui.js';
import { containerTable } from './container-table.js';
import { openCreate } from './create.js';

/** "1.5 of 2 GiB": both sizes in the larger one's unit. */
export function sizePair(usedMb, maxMb) {
  const max = Number(maxMb) || 0;
  const used = Number(usedMb) || 0;
  if (max < 1024) return `${trim(used)} of ${trim(max)} MiB`;
  if (used === 0 || used >= 1024) return `${trim(used / 1024)} of ${trim(max / 1024)} GiB`;
  return `${trim(used)} MiB of ${trim(max / 1024)} GiB`;
}

export function quotaPanel(client) {
  if (!client || !client.quota) return h('div');
  const q = client.quota;
  const u = client.usage || { containers: 0, running: 0, memoryMb: 0, cpus: 0 };
  return h('section', { class: 'quota card', 'aria-label': 'Plan usage' },
    h('div', { class: 'quota-head' },
      h('h2', { class: 'card-title' }, 'Plan usage'),
      h('span', { class: 'tag tag-plan' }, planName(client.plan))),
    h('div', { class: 'quota-meters' },
      meter(u.containers, q.containers, `${u.containers} of ${q.containers} containers`),
      meter(u.memoryMb, q.memoryMb, `${sizePair(u.memoryMb, q.memoryMb)} memory`),
      meter(u.cpus, q.cpus, `${trim(Number(u.cpus) || 0)} of ${cpus(q.cpus)}`)));
}

export function planName(p) {
  const s = String(p || 'free');
  return s[0].toUpperCase() + s.slice(1) + ' plan';
}

export function containersView() {
  const quota = h('div');
  const summary = h('p', { class: 'muted summary', 'aria-live': 'polite' });
  const body = h('div', { class: 'list-body' }, loading('Loading your containers…'));
  const newBtn = h('button', { type: 'button', class: 'btn btn-primary', dataset: { test: 'new-container' } },
    icon('plus'), h('span', null, 'New container'));
  const client = session.client;
  const el = h('div', { class: 'page' },
    pageHead('Containers', client ? `${client.name} · ${planName(client.plan)}` : null, newBtn),
    quota,
    h('section', { class: 'card card-flush', 'aria-labelledby': 'list-title' },
      h('div', { class: 'card-head' }, h('h2', { class: 'card-title', id: 'list-title' }, 'Your containers'), summary),
      body));

  let list = null;
  let table = null;
  let stopped = false;
  let reloadTimer = null;
  let pollTimer = null;
  let loadSeq = 0;
  let lastLoad = 0;

  const renderQuota = () => replace(quota, quotaPanel(session.client));
  renderQuota();
  const offSession = session.onChange(renderQuota);

  async function create() {
    const r = await openCreate();
    if (r) {
      await reload();
      const row = table && table.get(r.containerId);
      if (row) highlight(r.containerId);
    }
  }
  newBtn.addEventListener('click', create);

  function highlight(id) {
    const tr = body.querySelector(`tr[data-key="${CSS.escape(id)}"]`);
    if (tr) {
      tr.classList.add('flash');
      setTimeout(() => tr.classList.remove('flash'), 2000);
    }
  }

  function render() {
    const t = tally(list);
    summary.textContent = list.length
      ? `${count(t.total, 'container')} · ${t.running} running · ${t.stopped} stopped${t.other ? ` · ${t.other} other` : ''}`
      : '';
    if (!list.length) {
      table = null;
      replace(body, emptyState('No containers yet',
        'Create one from the catalog: a web server, a Node or Python app, or a Postgres database. It gets its own URL at once.',
        h('button', { type: 'button', class: 'btn btn-primary', onclick: create }, icon('plus'), h('span', null, 'Create your first container'))));
      return;
    }
    if (!table) {
      table = containerTable({
        onChange: (kind) => {
          if (kind === 'deleted' || kind === 'status') reload();
        },
      });
      replace(body, table.el);
    }
    table.update(list);
  }

  async function reload() {
    const seq = ++loadSeq;
    lastLoad = Date.now();
    try {
      const l = await api.containers();
      if (stopped || seq !== loadSeq) return;
      list = l;
      render();
    } catch (e) {
      if (stopped || seq !== loadSeq) return;
      if (list === null) {
        table = null;
        replace(body, errorBox(e, () => { replace(body, loading()); reload(); }));
      } else {
        // keep the rows; say why they may be old
        summary.textContent = `Could not refresh: ${e.message}`;
      }
    }
  }

  function reloadSoon() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => {
      reload();
      session.refresh();
    }, 250);
  }

  const offMsg = live.on((m) => {
    if (m.type === 'stats' && table) {
      if (!table.stats(m.containerId, m.data) && list) reloadSoon();
    } else if (m.type === 'event') {
      reloadSoon();
    }
  });
  const unsubStats = live.subscribe('stats');
  const unsubEvents = live.subscribe('events');
  const offState = live.onState((s) => {
    if (s === 'open') reloadSoon(); // missed events while away
  });
  // a safety net: every 30 s, and every 5 s while the live channel is down
  const poll = () => {
    pollTimer = setTimeout(() => {
      const stale = Date.now() - lastLoad > (live.state === 'open' ? 30000 : 5000);
      if (document.visibilityState === 'visible' && stale) reload();
      poll();
    }, 5000);
  };
  poll();
  reload();

  return {
    el,
    title: 'Containers',
    destroy() {
      stopped = true;
      clearTimeout(reloadTimer);
      clearTimeout(pollTimer);
      offMsg();
      offState();
      offSession();
      unsubStats();
      unsubEvents();
    },
  };
}
