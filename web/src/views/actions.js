// Start, stop, restart and delete, shared by the lists and the detail page.

import { api } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { h, icon } from '../dom.js';
import { session } from '../session.js';
import { isRunning, stateOf } from '../status.js';
import { busy, toast } from '../ui.js';

const PAST = { start: 'started', stop: 'stopped', restart: 'restarted' };

/** Runs start|stop|restart on container c; resolves to the new status or undefined. */
export function act(button, c, what, onDone) {
  return busy(button, async () => {
    const r = await api.action(c.id, what);
    toast(`${c.name} ${PAST[what]}.`);
    if (onDone) onDone(r && r.status);
    session.refresh();
    return r;
  }, (e) => toast(`Could not ${what} ${c.name}: ${e.message}`, 'error'));
}

/** Asks, then deletes container c; resolves true when it is gone. */
export async function remove(button, c, onDone) {
  const ok = await confirmDialog({
    title: `Delete ${c.name}?`,
    message: `This removes the container ${c.name}, its data volume and its logs. It cannot be undone.`,
    confirmLabel: 'Delete container',
    danger: true,
  });
  if (!ok) return false;
  const r = await busy(button, async () => {
    await api.remove(c.id);
    toast(`${c.name} deleted.`);
    session.refresh();
    if (onDone) onDone();
    return true;
  }, (e) => toast(`Could not delete ${c.name}: ${e.message}`, 'error'));
  return r === true;
}

/**
 * The row of buttons for container c. onChange(kind) is called after a change
 * ('status' with the new status, or 'deleted').
 */
export function actionButtons(c, onChange, { compact = true } = {}) {
  const running = isRunning(c.status);
  const st = stateOf(c.status);
  const transient = st.tone === 'busy' && !running;
  const mk = (what, label, ic, extra = {}) => {
    const b = h('button', {
      type: 'button',
      class: ['btn', compact ? 'btn-icon' : null, extra.danger ? 'btn-danger-ghost' : null],
      'aria-label': compact ? `${label} ${c.name}` : null,
      title: compact ? label : null,
      dataset: { fkey: extra.fkey || what, action: what },
      disabled: extra.disabled || null,
    }, icon(ic), compact ? null : h('span', null, label));
    return b;
  };
  const toggle = running
    ? mk('stop', 'Stop', 'stop', { fkey: 'toggle', disabled: transient })
    : mk('start', 'Start', 'play', { fkey: 'toggle', disabled: transient || c.status === 'removed' });
  toggle.addEventListener('click', () =>
    act(toggle, c, running ? 'stop' : 'start', (s) => onChange && onChange('status', s)));
  const restart = mk('restart', 'Restart', 'restart', { disabled: transient || c.status === 'removed' });
  restart.addEventListener('click', () => act(restart, c, 'restart', (s) => onChange && onChange('status', s)));
  const del = mk('delete', 'Delete', 'trash', { danger: true });
  del.addEventListener('click', () => remove(del, c, () => onChange && onChange('deleted')));
  return h('div', { class: 'actions' }, toggle, restart, del);
}
