// Modal dialogs on the native <dialog>: focus stays inside, Escape closes, focus returns to
// the element that opened it.

import { h, icon, uid } from './dom.js';

/**
 * Opens a modal. content: Node(s) for the body. Returns { el, body, close(result), closed }
 * where closed is a promise of the result (undefined when dismissed).
 */
export function openDialog({ title, description, content, wide = false, onClose } = {}) {
  const opener = document.activeElement;
  const titleId = uid('dlg-title');
  const descId = description ? uid('dlg-desc') : null;
  const body = h('div', { class: 'dialog-body' }, content);
  let result;
  const dlg = h('dialog', {
    class: ['dialog', wide && 'dialog-wide'],
    'aria-labelledby': titleId,
    'aria-describedby': descId,
  },
  h('div', { class: 'dialog-head' },
    h('h2', { id: titleId, class: 'dialog-title' }, title),
    h('button', { type: 'button', class: 'btn btn-icon btn-ghost', 'aria-label': 'Close', onclick: () => close() },
      icon('close'))),
  description ? h('p', { id: descId, class: 'dialog-desc' }, description) : null,
  body);
  let resolveClosed;
  const closed = new Promise((r) => { resolveClosed = r; });
  function close(value) {
    result = value;
    if (dlg.open) dlg.close();
  }
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (onClose) onClose(result);
    resolveClosed(result);
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
  });
  // a click on the backdrop (the dialog box itself, outside its content) dismisses
  dlg.addEventListener('mousedown', (ev) => {
    if (ev.target !== dlg) return;
    const r = dlg.getBoundingClientRect();
    const inside = ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom;
    if (!inside) close();
  });
  document.body.append(dlg);
  dlg.showModal();
  const first = body.querySelector('[autofocus], input:not([type=hidden]), select, textarea');
  if (first) first.focus();
  return { el: dlg, body, close, closed };
}

/** Asks a yes/no question; resolves true when confirmed. */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false }) {
  const cancel = h('button', { type: 'button', class: 'btn', autofocus: true }, 'Cancel');
  const ok = h('button', { type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'] }, confirmLabel);
  const d = openDialog({
    title,
    content: [
      h('p', { class: 'dialog-message' }, message),
      h('div', { class: 'dialog-actions' }, cancel, ok),
    ],
  });
  cancel.addEventListener('click', () => d.close(false));
  ok.addEventListener('click', () => d.close(true));
  cancel.focus();
  return d.closed.then((v) => v === true);
}
