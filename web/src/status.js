// Container states as people read them. The API says "stopped" (stopped through Cloudya) or
// "exited" (stopped otherwise, the Engine's word); both count as stopped. The seed's UI
// counted only "stopped" and so lost every container that had exited on its own.

import { h } from './dom.js';

const STATES = {
  running: { label: 'Running', tone: 'ok', group: 'running' },
  restarting: { label: 'Restarting', tone: 'busy', group: 'running' },
  creating: { label: 'Creating', tone: 'busy', group: 'other' },
  created: { label: 'Created', tone: 'busy', group: 'other' },
  starting: { label: 'Starting', tone: 'busy', group: 'other' },
  paused: { label: 'Paused', tone: 'idle', group: 'stopped' },
  stopped: { label: 'Stopped', tone: 'idle', group: 'stopped' },
  exited: { label: 'Exited', tone: 'idle', group: 'stopped' },
  dead: { label: 'Dead', tone: 'bad', group: 'stopped' },
  removing: { label: 'Removing', tone: 'busy', group: 'other' },
  removed: { label: 'Missing', tone: 'bad', group: 'other',
    hint: 'The container was removed outside Cloudya. Delete it here to free its quota.' },
  error: { label: 'Error', tone: 'bad', group: 'other' },
};

export function stateOf(status) {
  const s = String(status || '').toLowerCase();
  return STATES[s] || { label: s ? s[0].toUpperCase() + s.slice(1) : 'Unknown', tone: 'idle', group: 'other' };
}

export const isRunning = (status) => stateOf(status).group === 'running';
export const isStopped = (status) => stateOf(status).group === 'stopped';

/** A status pill: coloured dot plus the word (never colour alone). */
export function pill(status, extra) {
  const st = stateOf(status);
  return h('span', { class: `pill pill-${st.tone}`, title: st.hint || null, dataset: { status: String(status || '') } },
    h('span', { class: 'pill-dot', 'aria-hidden': 'true' }), st.label, extra ? ' ' + extra : null);
}

/** {running, stopped, other, total} over a list of containers. */
export function tally(list) {
  const t = { running: 0, stopped: 0, other: 0, total: list.length };
  for (const c of list) t[stateOf(c.status).group] += 1;
  return t;
}
