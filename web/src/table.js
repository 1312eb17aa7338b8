// Data tables that become stacked cards at phone width: every cell carries its column's
// label (data-label), which the narrow layout shows in front of the value.

import { h } from './dom.js';

/**
 * columns: [{ label, cell(row) -> Node|string, className, numeric, hideLabel }]
 * Returns { el, tbody, rowFor(key), update(rows) }; rows are keyed by rowKey(row); a row whose
 * key stays is re-filled in place, and a control in it that had focus (data-fkey) keeps it.
 */
export function dataTable({ columns, rows, rowKey, caption, rowClass }) {
  const tbody = h('tbody');
  const table = h('table', { class: 'table' },
    caption ? h('caption', { class: 'sr-only' }, caption) : null,
    h('thead', null, h('tr', null, columns.map((c) =>
      h('th', { scope: 'col', class: [c.className, c.numeric && 'num'] }, c.label)))),
    tbody);
  const byKey = new Map();

  function fill(tr, row) {
    const cells = columns.map((c) => {
      const v = c.cell(row);
      return h('td', { class: [c.className, c.numeric && 'num'], 'data-label': c.hideLabel ? null : c.label }, v);
    });
    tr.replaceChildren(...cells);
    tr.className = rowClass ? rowClass(row) || '' : '';
  }

  let pendingFocus = null;

  function update(list) {
    pendingFocus = null;
    const seen = new Set();
    const order = [];
    for (const row of list) {
      const k = rowKey(row);
      seen.add(k);
      let tr = byKey.get(k);
      const active = tr && tr.contains(document.activeElement) ? document.activeElement : null;
      if (!tr) {
        tr = h('tr', { dataset: { key: k } });
        byKey.set(k, tr);
      }
      fill(tr, row);
      // a control that had focus gets it back in the new row (same data-fkey)
      const fkey = active && active.dataset ? active.dataset.fkey : null;
      if (active) {
        const again = fkey ? tr.querySelector(`[data-fkey="${fkey}"]`) : null;
        pendingFocus = again || tr.querySelector('a, button:not([disabled])');
      }
      order.push(tr);
    }
    for (const [k, tr] of byKey) {
      if (!seen.has(k)) {
        tr.remove();
        byKey.delete(k);
      }
    }
    order.forEach((tr, i) => {
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    });
    if (pendingFocus && pendingFocus.isConnected) pendingFocus.focus({ preventScroll: true });
  }

  update(rows || []);
  const el = h('div', { class: 'table-wrap' }, table);
  return { el, tbody, update, rowFor: (k) => byKey.get(k) };
}
