// Cloudya's dashboard: boot, the page frame (header, navigation, the user), and the routes.

import './styles/base.css';
import './styles/layout.css';
import './styles/components.css';
import './styles/views.css';

import { onUnauthenticated } from './api.js';
import { h, icon, replace } from './dom.js';
import { live } from './live.js';
import { match, navigate, onNavigate, route, start } from './router.js';
import { session } from './session.js';
import { errorBox, toast } from './ui.js';
import { adminAuditView } from './views/admin-audit.js';
import { adminClientsView } from './views/admin-clients.js';
import { adminContainersView } from './views/admin-containers.js';
import { adminOverviewView } from './views/admin-overview.js';
import { adminUsersView } from './views/admin-users.js';
import { containerView } from './views/container.js';
import { containersView, planName } from './views/containers.js';
import { loginView, registerView } from './views/login.js';

const PUBLIC = { public: true };
const ADMIN = { admin: true };

route('/login', { make: loginView, ...PUBLIC });
route('/register', { make: registerView, ...PUBLIC });
route('/', { make: containersView, nav: '/' });
route('/containers', { make: containersView, nav: '/' });
route('/containers/:id', { make: containerView, nav: '/' });
route('/admin', { make: adminOverviewView, nav: '/admin', ...ADMIN });
route('/admin/clients', { make: adminClientsView, nav: '/admin/clients', ...ADMIN });
route('/admin/users', { make: adminUsersView, nav: '/admin/users', ...ADMIN });
route('/admin/containers', { make: adminContainersView, nav: '/admin/containers', ...ADMIN });
route('/admin/audit', { make: adminAuditView, nav: '/admin/audit', ...ADMIN });

const app = document.getElementById('app');
let current = null; // { view, destroy }
let frame = null; // { el, main, nav, setActive }
let renders = 0;
let loggingOut = false; // a logout the user asked for (not an expired session)

// --- the frame ------------------------------------------------------------------------------

function liveIndicator() {
  const dot = h('span', { class: 'live-dot', 'aria-hidden': 'true' });
  const text = h('span', { class: 'live-text' });
  const btn = h('button', { type: 'button', class: 'live', title: 'The live channel brings figures, logs and events as they happen' }, dot, text);
  const paint = (s) => {
    btn.dataset.state = s;
    text.textContent = s === 'open' ? 'Live' : s === 'connecting' ? 'Connecting…' : s === 'closed' ? 'Reconnecting…' : 'Offline';
    btn.setAttribute('aria-label', s === 'open' ? 'Live updates on' : 'Live updates interrupted: reconnect now');
  };
  btn.addEventListener('click', () => live.retry());
  paint(live.state);
  live.onState(paint);
  return btn;
}

function buildFrame() {
  const u = session.user;
  const c = session.client;
  const links = [['/', session.isAdmin ? 'My containers' : 'Containers']];
  if (session.isAdmin) {
    links.push(['/admin', 'Platform'], ['/admin/clients', 'Clients'], ['/admin/users', 'Users'],
      ['/admin/containers', 'All containers'], ['/admin/audit', 'Audit log']);
  }
  const navLinks = links.map(([href, label]) => h('a', { href, class: 'nav-link', dataset: { nav: href } }, label));
  const nav = h('nav', { class: 'nav', 'aria-label': 'Main' }, navLinks);
  const logout = h('button', { type: 'button', class: 'btn btn-small btn-ghost', dataset: { test: 'logout' } }, 'Log out');
  logout.addEventListener('click', async () => {
    logout.disabled = true;
    loggingOut = true;
    try {
      await session.logout();
    } catch (e) {
      toast(`Logging out failed: ${e.message}`, 'error');
    } finally {
      loggingOut = false;
      logout.disabled = false;
    }
  });
  const userBox = h('div', { class: 'user' },
    h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(u && (u.name || u.email))),
    h('span', { class: 'user-text' },
      h('span', { class: 'user-name', dataset: { test: 'user-name' } }, (u && (u.name || u.email)) || ''),
      h('span', { class: 'user-sub muted' },
        u && u.role === 'admin' ? `Administrator · ${u.email}` : c ? `${c.name} · ${planName(c.plan)}` : (u && u.email) || '')),
    logout);
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const header = h('header', { class: 'topbar' },
    h('div', { class: 'topbar-inner' },
      h('a', { href: session.isAdmin ? '/admin' : '/', class: 'brand' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, icon('cloud')), 'Cloudya'),
      nav,
      h('div', { class: 'topbar-end' }, liveIndicator(), userBox)));
  const el = h('div', { class: 'frame' }, header, main);
  return {
    el,
    main,
    key: `${u && u.id}|${u && u.role}|${u && u.name}|${c && c.plan}|${c && c.name}`,
    setActive(navKey) {
      for (const a of navLinks) {
        if (a.dataset.nav === navKey) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    },
  };
}

function initials(s) {
  const parts = String(s || '?').replace(/@.*/, '').split(/[\s._-]+/).filter(Boolean);
  return ((parts[0] || '?')[0] + (parts[1] ? parts[1][0] : '')).toUpperCase();
}

// --- rendering ------------------------------------------------------------------------------

function render(loc) {
  const m = match(loc.pathname);
  const query = new URLSearchParams(loc.search);
  const here = loc.pathname + loc.search;
  if (!m) {
    mount({ make: notFoundView, nav: null }, {}, query);
    return;
  }
  const r = m.view;
  if (!r.public && !session.me) {
    navigate('/login' + (here !== '/' ? '?next=' + encodeURIComponent(here) : ''), { replace: true });
    return;
  }
  if (r.public && session.me) {
    navigate(session.isAdmin ? '/admin' : '/', { replace: true });
    return;
  }
  if (r.admin && !session.isAdmin) {
    mount({ make: forbiddenView, nav: null }, m.params, query);
    return;
  }
  mount(r, m.params, query);
}

function mount(r, params, query) {
  if (current && current.destroy) {
    try {
      current.destroy();
    } catch (e) {
      console.error(e); // eslint-disable-line no-console
    }
  }
  current = null;
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  let view;
  try {
    view = r.make({ params, query });
  } catch (e) {
    console.error(e); // eslint-disable-line no-console
    view = { el: h('div', { class: 'page' }, errorBox(new Error(`This page failed to open: ${e.message}`), () => location.reload())), title: 'Error' };
  }
  current = view;
  document.title = view.title ? `${view.title} · Cloudya` : 'Cloudya';
  if (view.bare || !session.me) {
    frame = null;
    replace(app, h('main', { id: 'main', class: 'main main-bare', tabindex: '-1' }, view.el));
  } else {
    const want = buildFrameKey();
    if (!frame || frame.key !== want || !frame.el.isConnected) {
      frame = buildFrame();
      replace(app, frame.el);
    }
    frame.setActive(r.nav);
    replace(frame.main, view.el);
  }
  renders += 1;
  if (renders > 1) {
    // move focus to the new page's heading, as a full page load would put it at the top
    const t = app.querySelector('main h1[tabindex]');
    if (t && !app.contains(document.activeElement.closest && document.activeElement.closest('dialog'))) {
      if (!(view.bare && document.activeElement && document.activeElement.tagName === 'INPUT')) t.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }
}

function buildFrameKey() {
  const u = session.user;
  const c = session.client;
  return `${u && u.id}|${u && u.role}|${u && u.name}|${c && c.plan}|${c && c.name}`;
}

function notFoundView() {
  return {
    title: 'Not found',
    bare: !session.me,
    el: h('div', { class: 'page empty' },
      h('h1', { class: 'page-title', tabindex: '-1' }, 'There is no such page'),
      h('p', { class: 'muted' }, `Nothing lives at ${location.pathname}.`),
      h('a', { href: '/', class: 'btn btn-primary' }, session.me ? 'Go to your containers' : 'Log in')),
  };
}

function forbiddenView() {
  return {
    title: 'Administrators only',
    el: h('div', { class: 'page empty' },
      h('h1', { class: 'page-title', tabindex: '-1' }, 'Administrators only'),
      h('p', { class: 'muted' }, 'This page is for the platform’s administrators. Your account is a client account.'),
      h('a', { href: '/', class: 'btn btn-primary' }, 'Go to your containers')),
  };
}

// --- boot -----------------------------------------------------------------------------------

let wasLoggedIn = false;
session.onChange((me) => {
  if (me && !wasLoggedIn) {
    wasLoggedIn = true;
    live.start();
  } else if (!me && wasLoggedIn) {
    wasLoggedIn = false;
    live.stop();
    frame = null;
    const here = location.pathname + location.search;
    const onAuth = location.pathname === '/login' || location.pathname === '/register';
    if (!onAuth) navigate(expiredTarget(here), { replace: true });
    return;
  }
  if (me && frame && frame.key !== buildFrameKey()) {
    // name, plan or role changed: rebuild the header around the current page
    const main = frame.main;
    const nf = buildFrame();
    nf.main.replaceWith(main);
    nf.main = main;
    replace(app, nf.el);
    const m = match(location.pathname);
    nf.setActive(m && m.view.nav);
    frame = nf;
  }
});

function expiredTarget(here) {
  if (loggingOut) return '/login';
  return '/login?' + new URLSearchParams({ expired: '1', ...(here !== '/' ? { next: here } : {}) }).toString();
}

onUnauthenticated(() => session.expire());

// the skip link moves focus to the page's content, without a #main in the address
const skip = document.querySelector('.skip-link');
if (skip) {
  skip.addEventListener('click', (ev) => {
    const m = document.getElementById('main');
    if (!m) return;
    ev.preventDefault();
    m.focus();
    m.scrollIntoView();
  });
}

window.addEventListener('unhandledrejection', (ev) => {
  const msg = ev.reason && ev.reason.message ? ev.reason.message : String(ev.reason);
  toast(`Something went wrong: ${msg}`, 'error');
});

async function boot() {
  try {
    await session.load();
  } catch (e) {
    replace(app, h('main', { id: 'main', class: 'main main-bare' },
      h('div', { class: 'page boot-error' },
        h('h1', { class: 'page-title' }, 'Cloudya is not answering'),
        errorBox(e, () => {
          replace(app, h('p', { class: 'boot', role: 'status' }, 'Loading Cloudya…'));
          boot();
        }))));
    return;
  }
  onNavigate(render);
  start();
}

boot();
