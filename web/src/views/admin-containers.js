// Every container on the platform (admins), filtered by client (on the server), status,
// service type and name; refreshed every 5 s.

import { api } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { count } from '../format.js';
import { setQuery } from '../router.js';
import { stateOf, tally } from '../status.js';
import { emptyState, errorBox, loading, pageHead } from '../ui.js';
import { containerTable } from './container-table.js';

export function adminContainersView({ query }) {
  const f = {
    clientId: query.get('clientId') || '',
    status: query.get('status') || '',
    service: query.get('service') || '',
    q: query.get('q') || '',
  };
  const clientSel = h('select', { id: uid('f') }, h('option', { value: '' }, 'All clients'));
  const statusSel = h('select', { id: uid('f') },
    h('option', { value: '' }, 'Any status'),
    h('option', { value: 'running' }, 'Running'),
    h('option', { value: 'stopped' }, 'Stopped or exited'),
    h('option', { value: 'other' }, 'Other'));
  const serviceSel = h('select', { id: uid('f') }, h('option', { value: '' }, 'Any service'));
  const searchId = uid('s');
  const search = h('input', { id: searchId, type: 'search', placeholder: 'Container name', autocomplete: 'off', value: f.q });
  const summary = h('span', { class: 'muted small', role: 'status' });
  const lbl = (sel, text) => h('div', { class: 'filter' }, h('label', { for: sel.id }, text), sel);
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter containers' },
    h('div', { class: 'filter filter-grow' }, h('label', { for: searchId }, 'Name'), search),
    lbl(clientSel, 'Client'), lbl(statusSel, 'Status'), lbl(serviceSel, 'Service'),
    h('div', { class: 'filter filter-end' }, summary));
  const body = h('div', null, loading('Loading containers…'));
  const el = h('div', { class: 'page' },
    pageHead('All containers', 'Every client’s containers, with live figures.'),
    h('section', { class: 'card card-flush' }, filters, body));

  let stopped = false;
  let list = [];
  let table = null;
  const clients = new Map();
  let timer = null;
  let seq = 0;

  function addOption(sel, value, label) {
    if (value && ![...sel.options].some((o) => o.value === value)) sel.append(h('option', { value }, label || value));
  }

  function visible() {
    const q = f.q.trim().toLowerCase();
    return list.filter((c) => (!f.status || stateOf(c.status).group === f.status)
      && (!f.service || c.serviceType === f.service)
      && (!q || c.name.toLowerCase().includes(q) || c.id.startsWith(q)));
  }

  function render() {
    const v = visible();
    const t = tally(list);
    summary.textContent = `${v.length} shown · ${count(t.total, 'container')}: ${t.running} running, ${t.stopped} stopped`;
    if (!list.length) {
      table = null;
      replace(body, emptyState('No containers', f.clientId ? 'This client has no containers.' : 'No client has created a container yet.'));
      return;
    }
    if (!table) {
      table = containerTable({
        showClient: true,
        linkQuery: '?from=admin',
        clientName: (id) => clients.get(id) || id,
        onChange: () => load(),
      });
      replace(body, table.el, noMatch);
    }
    table.update(v);
    noMatch.hidden = v.length > 0;
  }
  const noMatch = h('p', { class: 'muted pad', hidden: true }, 'No container matches these filters.');

  async function load() {
    const my = ++seq;
    clearTimeout(timer);
    try {
      const l = await api.containers({ clientId: f.clientId });
      if (stopped || my !== seq) return;
      list = l;
      for (const c of list) addOption(serviceSel, c.serviceType);
      for (const c of list) if (!clients.has(c.clientId)) addOption(clientSel, c.clientId);
      render();
    } catch (e) {
      if (stopped || my !== seq) return;
      table = null;
      replace(body, h('div', { class: 'pad' }, errorBox(e, load)));
    }
    if (!stopped) timer = setTimeout(tick, 5000);
  }

  function tick() {
    if (document.visibilityState === 'visible' && !document.querySelector('dialog[open]')) load();
    else timer = setTimeout(tick, 5000);
  }

  async function loadClients() {
    try {
      const cl = await api.adminClients();
      for (const c of cl) {
        clients.set(c.id, c.name);
        const existing = [...clientSel.options].find((o) => o.value === c.id);
        if (existing) existing.textContent = c.name;
        else addOption(clientSel, c.id, c.name);
      }
      if (table) table.update(visible());
    } catch {
      // names are a nicety: ids are shown without them
    }
  }

  addOption(clientSel, f.clientId);
  clientSel.value = f.clientId;
  addOption(statusSel, f.status);
  statusSel.value = f.status;
  addOption(serviceSel, f.service);
  serviceSel.value = f.service;

  function sync() {
    setQuery({ clientId: f.clientId, status: f.status, service: f.service, q: f.q });
  }
  clientSel.addEventListener('change', () => { f.clientId = clientSel.value; sync(); table = null; replace(body, loading()); load(); });
  statusSel.addEventListener('change', () => { f.status = statusSel.value; sync(); render(); });
  serviceSel.addEventListener('change', () => { f.service = serviceSel.value; sync(); render(); });
  search.addEventListener('input', () => { f.q = search.value; sync(); render(); });
  filters.addEventListener('submit', (ev) => ev.preventDefault());

  loadClients().then(() => { if (table) render(); });
  load();
  return {
    el,
    title: 'All containers',
    destroy() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
