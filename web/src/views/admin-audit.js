// The audit log (admins): who did what, to what, from where, with which result; filtered by
// client, action and result, newest first.

import { api } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { setQuery } from '../router.js';
import { dataTable } from '../table.js';
import { emptyState, errorBox, loading, pageHead, timeAgo } from '../ui.js';

const KNOWN_ACTIONS = [
  'auth.login', 'auth.logout', 'auth.register',
  'container.create', 'container.start', 'container.stop', 'container.restart', 'container.delete',
  'admin.client.update', 'admin.user.update',
];

function resultPill(r) {
  const s = String(r || '');
  const tone = s === 'success' || s === 'ok' ? 'ok' : s === 'failure' || s === 'denied' || s === 'error' ? 'bad' : 'idle';
  return h('span', { class: `pill pill-${tone}` }, h('span', { class: 'pill-dot', 'aria-hidden': 'true' }), s || '—');
}

/** The audit rows as a table; names: { users: Map(id -> label), clients: Map(id -> name) }. */
export function auditTable(rows, { users, clients }) {
  const who = (id) => (users && users.get(id)) || id || '—';
  const client = (id) => (clients && clients.get(id)) || id || '—';
  return dataTable({
    caption: 'Audit log',
    rowKey: (r) => String(r.id ?? `${r.time}|${r.action}|${r.target}`),
    rows,
    columns: [
      { label: 'When', className: 'col-when', cell: (r) => timeAgo(r.time) },
      { label: 'Action', className: 'col-action', cell: (r) => h('span', { class: 'mono' }, r.action || '—') },
      { label: 'Result', cell: (r) => resultPill(r.result) },
      { label: 'Target', cell: (r) => h('span', { class: 'clip', title: r.target || '' }, r.target || '—') },
      { label: 'Actor', cell: (r) => h('span', { class: 'clip', title: r.actor || '' }, who(r.actor)) },
      { label: 'Client', cell: (r) => h('span', { class: 'clip', title: r.clientId || '' }, client(r.clientId)) },
      { label: 'IP', className: 'mono', cell: (r) => r.ip || '—' },
      { label: 'Detail', className: 'col-detail', cell: (r) => h('span', { class: 'detail-text', title: r.detail || '' }, r.detail || '') },
    ],
  });
}

export function adminAuditView({ query }) {
  const f = {
    clientId: query.get('clientId') || '',
    action: query.get('action') || '',
    result: query.get('result') || '',
    limit: query.get('limit') || '100',
  };
  const body = h('div', null, loading('Loading the audit log…'));
  const clientSel = h('select', { id: uid('f'), name: 'clientId' }, h('option', { value: '' }, 'All clients'));
  const actionSel = h('select', { id: uid('f'), name: 'action' }, h('option', { value: '' }, 'All actions'),
    KNOWN_ACTIONS.map((a) => h('option', { value: a }, a)));
  const resultSel = h('select', { id: uid('f'), name: 'result' },
    h('option', { value: '' }, 'Any result'), h('option', { value: 'success' }, 'success'), h('option', { value: 'failure' }, 'failure'), h('option', { value: 'denied' }, 'denied'));
  const limitSel = h('select', { id: uid('f'), name: 'limit' }, ['50', '100', '200', '500'].map((n) => h('option', { value: n }, n)));
  const lbl = (sel, text) => h('div', { class: 'filter' }, h('label', { for: sel.id }, text), sel);
  const count = h('span', { class: 'muted small', role: 'status' });
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit log' },
    lbl(clientSel, 'Client'), lbl(actionSel, 'Action'), lbl(resultSel, 'Result'), lbl(limitSel, 'Rows'),
    h('div', { class: 'filter filter-end' }, count));
  const refreshBtn = h('button', { type: 'button', class: 'btn' }, 'Refresh');
  const el = h('div', { class: 'page' },
    pageHead('Audit log', 'Every sign-in and every change, newest first.', refreshBtn),
    h('section', { class: 'card card-flush' }, filters, body));

  let stopped = false;
  const names = { users: new Map(), clients: new Map() };
  let seq = 0;

  function setSelect(sel, v) {
    if (v && ![...sel.options].some((o) => o.value === v)) sel.append(h('option', { value: v }, v));
    sel.value = v;
  }

  async function loadNames() {
    const [cl, us] = await Promise.allSettled([api.adminClients(), api.adminUsers()]);
    if (cl.status === 'fulfilled') {
      for (const c of cl.value) {
        names.clients.set(c.id, c.name);
        if (![...clientSel.options].some((o) => o.value === c.id)) clientSel.append(h('option', { value: c.id }, c.name));
      }
    }
    if (us.status === 'fulfilled') for (const u of us.value) names.users.set(u.id, u.email || u.name);
    setSelect(clientSel, f.clientId);
  }

  async function load() {
    const my = ++seq;
    try {
      let rows = await api.audit({ clientId: f.clientId, action: f.action, limit: f.limit });
      if (stopped || my !== seq) return;
      for (const r of rows) if (r.action) setSelectOption(actionSel, r.action);
      if (f.result) rows = rows.filter((r) => r.result === f.result);
      count.textContent = `${rows.length} ${rows.length === 1 ? 'entry' : 'entries'}`;
      if (!rows.length) {
        replace(body, emptyState('No entries', f.clientId || f.action || f.result
          ? 'Nothing matches these filters. Widen them to see more.'
          : 'Nothing has been recorded yet.'));
      } else {
        replace(body, auditTable(rows, names).el);
      }
    } catch (e) {
      if (!stopped && my === seq) replace(body, h('div', { class: 'pad' }, errorBox(e, load)));
    }
  }

  function setSelectOption(sel, v) {
    if (![...sel.options].some((o) => o.value === v)) sel.append(h('option', { value: v }, v));
  }

  setSelect(clientSel, f.clientId);
  setSelect(actionSel, f.action);
  setSelect(resultSel, f.result);
  setSelect(limitSel, f.limit);
  filters.addEventListener('change', () => {
    f.clientId = clientSel.value;
    f.action = actionSel.value;
    f.result = resultSel.value;
    f.limit = limitSel.value;
    setQuery({ clientId: f.clientId, action: f.action, result: f.result, limit: f.limit === '100' ? '' : f.limit });
    load();
  });
  filters.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  refreshBtn.addEventListener('click', load);

  loadNames().then(() => { if (!stopped) load(); });

  return {
    el,
    title: 'Audit log',
    destroy() {
      stopped = true;
    },
  };
}
