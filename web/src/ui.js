// Small shared pieces: error and empty states, relative times, meters, toasts.

import { h, icon, replace } from './dom.js';
import { fullDate, relative } from './format.js';

/** An error where it happened, with an optional retry. role=alert so it is announced. */
export function errorBox(err, retry) {
  const msg = (err && err.message) || String(err);
  return h('div', { class: 'callout callout-error', role: 'alert' },
    icon('alert'),
    h('div', { class: 'callout-text' },
      h('p', null, msg),
      err && err.code && err.code !== 'network' ? h('p', { class: 'muted small' }, `Code: ${err.code}`) : null),
    retry ? h('button', { type: 'button', class: 'btn btn-small', onclick: retry }, 'Try again') : null);
}

/** An empty state with a next step. */
export function emptyState(title, text, action) {
  return h('div', { class: 'empty' },
    h('div', { class: 'empty-art', 'aria-hidden': 'true' }, icon('cloud')),
    h('h2', { class: 'empty-title' }, title),
    text ? h('p', { class: 'muted' }, text) : null,
    action || null);
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

/** <time> with "3 minutes ago" and the full date as its title; kept fresh by tickTimes(). */
export function timeAgo(iso, { bare = false } = {}) {
  const el = h('time', { class: 'reltime', datetime: iso || '', title: iso ? fullDate(iso) : null });
  el.dataset.bare = bare ? '1' : '';
  el.textContent = text(iso, bare);
  return el;
}

function text(iso, bare) {
  if (!iso) return '—';
  const r = relative(iso);
  return bare && r.endsWith(' ago') ? r.slice(0, -4) : r;
}

setInterval(() => {
  for (const el of document.querySelectorAll('time.reltime')) {
    const iso = el.getAttribute('datetime');
    if (iso) el.textContent = text(iso, el.dataset.bare === '1');
  }
}, 15000);

/** A labelled usage bar: "6 of 10 containers". value/max numbers; label text. */
export function meter(value, max, label, { warnAt = 0.8 } = {}) {
  const ratio = max > 0 ? Math.min(1, value / max) : 0;
  const bar = h('span', { class: 'meter-fill' });
  bar.style.width = (ratio * 100).toFixed(1) + '%';
  const tone = ratio >= 1 ? 'full' : ratio >= warnAt ? 'warn' : 'ok';
  return h('div', { class: `meter meter-${tone}` },
    h('div', { class: 'meter-label' }, label),
    h('span', {
      class: 'meter-track',
      role: 'meter',
      'aria-valuemin': '0',
      'aria-valuemax': String(max),
      'aria-valuenow': String(Math.min(value, max)),
      'aria-label': label,
    }, bar));
}

// --- toasts -------------------------------------------------------------------------------

let region = null;
function toastRegion() {
  if (!region || !region.isConnected) {
    region = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  return region;
}

/** A short message at the bottom of the screen; tone: ok | error | info. */
export function toast(message, tone = 'ok', ms = 4000) {
  const el = h('div', { class: `toast toast-${tone}` },
    h('span', null, message),
    h('button', { type: 'button', class: 'btn btn-icon btn-ghost', 'aria-label': 'Dismiss', onclick: () => el.remove() }, icon('close')));
  toastRegion().append(el);
  setTimeout(() => el.remove(), tone === 'error' ? ms * 2 : ms);
  return el;
}

/** Marks a button busy (or not) without disabling it, so it keeps the keyboard focus. */
export function setBusy(button, on) {
  if (on) {
    button.dataset.busy = '1';
    button.setAttribute('aria-disabled', 'true');
    button.setAttribute('aria-busy', 'true');
  } else {
    delete button.dataset.busy;
    button.removeAttribute('aria-disabled');
    button.removeAttribute('aria-busy');
  }
}

export const isBusy = (button) => button.dataset.busy === '1';

/** Runs fn while button shows busy state; errors go to onError (default: a toast). */
export async function busy(button, fn, onError) {
  // aria-disabled, not disabled: a disabled button would drop the keyboard focus
  if (button.disabled || isBusy(button)) return undefined;
  setBusy(button, true);
  try {
    return await fn();
  } catch (e) {
    if (onError) onError(e);
    else toast(e.message || String(e), 'error');
    return undefined;
  } finally {
    setBusy(button, false);
  }
}

/** A page heading block: title (focus target after navigation), subtitle, actions. */
export function pageHead(title, subtitle, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', { class: 'page-head-text' },
      h('h1', { class: 'page-title', tabindex: '-1' }, title),
      subtitle ? h('p', { class: 'page-sub muted' }, subtitle) : null),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

/** A definition list from [label, value] pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) =>
    h('div', { class: 'fact' }, h('dt', null, k), h('dd', null, v))));
}

export { replace };
