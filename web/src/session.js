// Who is logged in: GET /api/auth/me, refreshed after every change the user makes (so the
// quota line stays true). null means "show the login page".

import { api, ApiError } from './api.js';

let me = null; // { user, client }
const listeners = new Set();

function set(v) {
  me = v;
  for (const fn of listeners) fn(me);
}

export const session = {
  get me() {
    return me;
  },
  get user() {
    return me ? me.user : null;
  },
  get client() {
    return me ? me.client : null;
  },
  get isAdmin() {
    return Boolean(me && me.user && me.user.role === 'admin');
  },

  onChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },

  /** Loads the session; resolves to it, or null when logged out. Other errors propagate. */
  async load() {
    try {
      const v = await api.me();
      set(v);
      return v;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        set(null);
        return null;
      }
      throw e;
    }
  },

  /** Refreshes quietly (usage after a create or delete); errors are ignored. */
  async refresh() {
    try {
      set(await api.me());
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) set(null);
    }
  },

  async login(email, password) {
    await api.login(email, password);
    return session.load();
  },

  async register(email, password, name) {
    // The answer's token is not kept: the cookie session below is the only credential.
    await api.register(email, password, name);
    return session.login(email, password);
  },

  async logout() {
    try {
      await api.logout();
    } catch (e) {
      // already logged out elsewhere is fine; anything else leaves the session as it is
      if (!(e instanceof ApiError && e.status === 401)) throw e;
    }
    set(null);
  },

  /** The session ended elsewhere (401): forget it. */
  expire() {
    if (me) set(null);
  },
};
