// The containers table, for a tenant's list and the admin's list of every container. Live
// figures (CPU, memory, network) are written into their cells in place, once a second, so
// nothing else in the row moves.

import { h, icon } from '../dom.js';
import { bytes, percent } from '../format.js';
import { isRunning, pill } from '../status.js';
import { dataTable } from '../table.js';
import { timeAgo } from '../ui.js';
import { actionButtons } from './actions.js';

export function shortId(id) {
  return String(id || '').slice(0, 12);
}

export function containerPath(c) {
  return '/containers/' + encodeURIComponent(shortId(c.id) || c.name);
}

/** A clickable service URL (opens in a new tab), or a dash. */
export function urlLink(c) {
  if (!c.url) return h('span', { class: 'muted' }, '—');
  let text = c.url;
  try {
    const u = new URL(c.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return h('span', null, c.url);
    text = u.host;
  } catch {
    return h('span', null, c.url);
  }
  if (!isRunning(c.status)) {
    return h('span', { class: 'url url-off', title: `${c.url} answers once the container runs` }, text);
  }
  return h('a', {
    href: c.url,
    target: '_blank',
    rel: 'noopener noreferrer',
    class: 'url',
    dataset: { external: '' },
    title: `Open ${c.url} in a new tab`,
  }, text, icon('external'));
}

function cpuText(s) {
  return s && s.cpu ? percent(s.cpu.usage) : '—';
}

function memNode(s) {
  if (!s || !s.memory) return ['—'];
  return [bytes(s.memory.usage), h('span', { class: 'muted' }, ' / ' + bytes(s.memory.limit))];
}

function netNode(s) {
  if (!s || !s.network) return ['—'];
  return [
    h('span', { title: 'received since start' }, '↓ ' + bytes(s.network.rxBytes)),
    ' ',
    h('span', { title: 'sent since start' }, '↑ ' + bytes(s.network.txBytes)),
  ];
}

/**
 * options: { showClient, clientName(id), onChange(kind, c, status), linkQuery }
 * Returns { el, update(list), stats(containerId, data) }.
 */
export function containerTable({ showClient = false, clientName, onChange, linkQuery = '' }) {
  const current = new Map();
  const columns = [
    {
      label: 'Name',
      className: 'col-name',
      hideLabel: true,
      cell: (c) => h('div', { class: 'name-cell' },
        h('a', { href: containerPath(c) + linkQuery, class: 'name-link', dataset: { fkey: 'name' } }, c.name),
        h('span', { class: 'muted small mono' }, shortId(c.id))),
    },
    { label: 'Status', className: 'col-status', cell: (c) => pill(c.status) },
    ...(showClient ? [{
      label: 'Client',
      className: 'col-client',
      cell: (c) => h('a', { href: '/admin/containers?clientId=' + encodeURIComponent(c.clientId), class: 'subtle-link' },
        clientName ? clientName(c.clientId) : c.clientId),
    }] : []),
    { label: 'Service', className: 'col-service', cell: (c) => h('span', { class: 'tag' }, c.serviceType) },
    { label: 'URL', className: 'col-url', cell: (c) => urlLink(c) },
    { label: 'CPU', className: 'col-cpu', numeric: true, cell: (c) => cpuText(c.stats) },
    { label: 'Memory', className: 'col-mem', numeric: true, cell: (c) => memNode(c.stats) },
    { label: 'Network', className: 'col-net', numeric: true, cell: (c) => netNode(c.stats) },
    { label: 'Age', className: 'col-age', cell: (c) => timeAgo(c.createdAt, { bare: true }) },
    {
      label: 'Actions',
      className: 'col-actions',
      hideLabel: true,
      cell: (c) => actionButtons(c, (kind, status) => onChange && onChange(kind, c, status)),
    },
  ];
  const t = dataTable({
    columns,
    rows: [],
    rowKey: (c) => c.id,
    caption: 'Containers',
    rowClass: (c) => (isRunning(c.status) ? 'is-running' : 'is-idle'),
  });

  function update(list) {
    current.clear();
    for (const c of list) current.set(c.id, c);
    t.update(list);
  }

  function stats(id, data) {
    const c = current.get(id);
    if (!c) return false;
    c.stats = data;
    const tr = t.rowFor(id);
    if (!tr) return false;
    const cpu = tr.querySelector('td.col-cpu');
    const mem = tr.querySelector('td.col-mem');
    const net = tr.querySelector('td.col-net');
    if (cpu) cpu.replaceChildren(cpuText(data));
    if (mem) mem.replaceChildren(...memNode(data));
    if (net) net.replaceChildren(...netNode(data));
    return true;
  }

  return { el: t.el, update, stats, get: (id) => current.get(id) };
}
