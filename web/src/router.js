// History routing: real paths (/containers/abc, /admin/clients), so links can be opened in a
// new tab, bookmarked and reloaded (the server answers index.html for any path that is not a
// file and not under /api/). Same-origin <a href> clicks are handled here.

const routes = []; // { pattern, keys, view }
const changeListeners = new Set();
let resolver = null;

/** Adds a route: pattern like '/containers/:id'. */
export function route(path, view) {
  const keys = [];
  const re = path
    .split('/')
    .map((part) => {
      if (part.startsWith(':')) {
        keys.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  routes.push({ pattern: new RegExp('^' + re + '/?$'), keys, view });
}

export function match(pathname) {
  for (const r of routes) {
    const m = r.pattern.exec(pathname);
    if (m) {
      const params = {};
      r.keys.forEach((k, i) => {
        try {
          params[k] = decodeURIComponent(m[i + 1]);
        } catch {
          params[k] = m[i + 1];
        }
      });
      return { view: r.view, params };
    }
  }
  return null;
}

/** fn(location) runs on every navigation (the app renders the matching view). */
export function onNavigate(fn) {
  resolver = fn;
}

export function onChange(fn) {
  changeListeners.add(fn);
  return () => changeListeners.delete(fn);
}

export function navigate(to, { replace = false, state = null } = {}) {
  const url = new URL(to, location.href);
  if (url.origin !== location.origin) {
    location.assign(url.href);
    return;
  }
  const same = url.pathname + url.search === location.pathname + location.search;
  if (replace || same) history.replaceState(state, '', url.pathname + url.search + url.hash);
  else history.pushState(state, '', url.pathname + url.search + url.hash);
  fire();
}

/** Updates the query string without a new history entry or a re-render (filters). */
export function setQuery(params) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  history.replaceState(history.state, '', location.pathname + (s ? '?' + s : ''));
}

function fire() {
  for (const fn of changeListeners) fn(location);
  if (resolver) resolver(location);
}

export function start() {
  window.addEventListener('popstate', fire);
  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0) return;
    if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = ev.target.closest && ev.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download') || a.dataset.external !== undefined) return;
    if ((a.getAttribute('href') || '').startsWith('#')) return; // in-page (the skip link)
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    ev.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  fire();
}
