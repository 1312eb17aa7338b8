// A container's logs: the last 100 lines, then every new line as it is written (the live
// channel's logs topic). Follows the end unless the reader scrolls up or pauses; stderr lines
// are marked. Without the live channel, the last lines come from GET .../logs.

import { api } from '../api.js';
import { h, icon } from '../dom.js';
import { live } from '../live.js';

const MAX_LINES = 2000;
// ANSI escape sequences (colours, cursor moves) are dropped, not rendered
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-_]/g;

/** opts: { containerId, running(): bool }. Returns { el, restart(), stop(), destroy() }. */
export function logsPanel({ containerId, running }) {
  const lines = h('div', {
    class: 'log-lines',
    role: 'log',
    'aria-live': 'off',
    'aria-label': 'Log lines',
    tabindex: '0',
    'data-empty': 'No lines yet. New lines appear here as the container writes them.',
  });
  const state = h('span', { class: 'log-state muted small', role: 'status' });
  const followBtn = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'true' },
    icon('pause'), h('span', null, 'Pause'));
  const clearBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Clear');
  const streamSel = h('select', { class: 'select-small', 'aria-label': 'Streams' },
    h('option', { value: 'all' }, 'stdout and stderr'),
    h('option', { value: 'stdout' }, 'stdout only'),
    h('option', { value: 'stderr' }, 'stderr only'));
  const jump = h('button', { type: 'button', class: 'btn btn-small log-jump', hidden: true }, icon('down'), h('span', null, 'Latest'));
  const el = h('section', { class: 'card logs', 'aria-labelledby': 'logs-title' },
    h('div', { class: 'card-head' },
      h('h2', { class: 'card-title', id: 'logs-title' }, 'Logs'),
      state,
      h('div', { class: 'toolbar' }, streamSel, followBtn, clearBtn)),
    h('div', { class: 'log-box' }, lines, jump));

  let follow = true;
  let paused = false;
  let unsub = null;
  let pending = [];
  let raf = 0;
  let count = 0;
  let fallbackTimer = null;
  let gotLive = false;
  let destroyed = false;

  function setState(text) {
    state.textContent = text;
  }

  function atBottom() {
    return lines.scrollHeight - lines.scrollTop - lines.clientHeight < 24;
  }

  function addLine(stream, text) {
    pending.push([stream, text]);
    if (!raf) raf = requestAnimationFrame(flush);
  }

  function flush() {
    raf = 0;
    if (!pending.length) return;
    const stick = follow && !paused && atBottom();
    const frag = document.createDocumentFragment();
    for (const [stream, text] of pending) {
      const clean = String(text).replace(ANSI, '');
      const row = h('div', { class: `log-line log-${stream === 'stderr' ? 'stderr' : 'stdout'}`, dataset: { stream } },
        stream === 'stderr' ? h('span', { class: 'log-tag' }, 'err') : null, clean);
      frag.append(row);
      count += 1;
    }
    pending = [];
    lines.append(frag);
    while (count > MAX_LINES && lines.firstChild) {
      lines.firstChild.remove();
      count -= 1;
    }
    if (stick || (follow && !paused && lines.dataset.fresh === '1')) {
      lines.scrollTop = lines.scrollHeight;
      lines.dataset.fresh = '';
    } else {
      jump.hidden = false;
    }
  }

  function clear() {
    lines.replaceChildren();
    count = 0;
    pending = [];
    lines.dataset.fresh = '1';
  }

  lines.addEventListener('scroll', () => {
    if (atBottom()) jump.hidden = true;
  });
  jump.addEventListener('click', () => {
    lines.scrollTop = lines.scrollHeight;
    jump.hidden = true;
    lines.focus();
  });
  clearBtn.addEventListener('click', clear);
  followBtn.addEventListener('click', () => {
    paused = !paused;
    followBtn.setAttribute('aria-pressed', String(!paused));
    followBtn.replaceChildren(icon(paused ? 'play' : 'pause'), h('span', null, paused ? 'Follow' : 'Pause'));
    if (!paused) {
      lines.scrollTop = lines.scrollHeight;
      jump.hidden = true;
    }
    describe();
  });
  streamSel.addEventListener('change', () => {
    lines.dataset.show = streamSel.value;
  });

  const offMsg = live.on((m) => {
    // the server's errors carry no container: one about log streams is this panel's
    if (m.type === 'error' && unsub && m.code !== 'not_subscribed' && /\blogs?\b/i.test(m.error || '')) {
      setState(`Logs: ${m.error}`);
      return;
    }
    if (m.containerId !== containerId) return;
    if (m.type === 'log') {
      gotLive = true;
      addLine(m.stream, m.line);
      describe();
    }
  });
  const offState = live.onState((s) => {
    if (s === 'open' && unsub && count) {
      // after a reconnection the subscription was sent again asking for the last 100 lines:
      // start over rather than show lines twice
      clear();
    }
    describe();
  });

  function describe() {
    if (!running()) setState('Not running: the last lines it wrote');
    else if (live.state !== 'open') setState('Reconnecting…');
    else if (paused) setState('Paused');
    else setState('Following live');
  }

  async function fetchTail() {
    try {
      const r = await api.logs(containerId, 200);
      if (destroyed || gotLive) return;
      clear();
      for (const l of r.lines || []) addLine('stdout', l);
      if (!(r.lines || []).length) setState(running() ? 'No output yet' : 'This container wrote nothing');
    } catch (e) {
      if (destroyed) return;
      setState(`Could not load the logs: ${e.message}`);
    }
  }

  /** (Re)starts following: tail 100 lines the first time, only new lines after a restart. */
  function start(tail = 100) {
    stop();
    gotLive = false;
    if (running()) {
      if (tail) clear();
      unsub = live.subscribe('logs', containerId, { tail }, { tail: 100 });
      // no live line within 3 s (no channel, or a quiet container): show the last lines
      fallbackTimer = setTimeout(() => { if (!gotLive && !count) fetchTail(); }, 3000);
    } else {
      fetchTail();
    }
    describe();
  }

  function stop() {
    clearTimeout(fallbackTimer);
    if (unsub) {
      unsub();
      unsub = null;
    }
    describe();
  }

  lines.dataset.fresh = '1';
  lines.dataset.show = 'all';
  start();

  return {
    el,
    restart: (tail) => start(tail),
    stop,
    destroy() {
      destroyed = true;
      stop();
      offMsg();
      offState();
      cancelAnimationFrame(raf);
    },
  };
}
