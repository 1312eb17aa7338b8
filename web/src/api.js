// The HTTP API, same origin only. The session lives in an HttpOnly cookie the server sets;
// this file never sees a token. Every request carries X-Requested-With, the server's CSRF
// guard for cookie-authenticated requests.

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

const listeners = new Set();

/** fn(err) is called for every 401 outside the auth calls (the session ended). */
export function onUnauthenticated(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const TIMEOUT_MS = 20000;

export async function request(method, path, body, { quiet401 = false, signal } = {}) {
  const headers = { 'X-Requested-With': 'cloudya', Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
  if (signal) signal.addEventListener('abort', () => ctrl.abort(), { once: true });
  init.signal = ctrl.signal;
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    if (signal && signal.aborted) throw e;
    throw new ApiError(0, 'network', ctrl.signal.aborted
      ? 'Cloudya did not answer in time. Check your connection and try again.'
      : 'Cannot reach Cloudya. Check your connection and try again.');
  } finally {
    clearTimeout(timer);
  }
  if (r.status === 204) return null;
  const text = await r.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!r.ok) {
    const code = (data && data.code) || httpCode(r.status);
    let msg = (data && data.error) || defaultMessage(r.status);
    if (r.status === 429) {
      const after = Number(r.headers.get('Retry-After'));
      if (after > 0 && !/\d+ ?s/.test(msg)) msg += ` Try again in ${after} s.`;
    }
    const err = new ApiError(r.status, code, msg, data);
    if (r.status === 401 && !quiet401) for (const fn of listeners) fn(err);
    throw err;
  }
  if (data === null && text) {
    throw new ApiError(r.status, 'bad_response', 'Cloudya sent an answer this page cannot read.');
  }
  return data;
}

function httpCode(status) {
  return { 400: 'invalid_field', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found',
    409: 'conflict', 429: 'rate_limited', 503: 'unavailable' }[status] || 'http_' + status;
}

function defaultMessage(status) {
  if (status === 404) return 'Not found.';
  if (status === 401) return 'Your session has ended. Log in again.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status >= 500) return `Cloudya could not answer (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

const get = (p, o) => request('GET', p, undefined, o);
const post = (p, b, o) => request('POST', p, b, o);
const enc = encodeURIComponent;

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

export const api = {
  // session
  me: () => get('/api/auth/me', { quiet401: true }),
  login: (email, password) => post('/api/auth/session', { email, password }, { quiet401: true }),
  register: (email, password, name) =>
    post('/api/auth/register', { email, password, name }, { quiet401: true }),
  logout: () => post('/api/auth/logout', undefined, { quiet401: true }),

  // containers
  catalog: () => get('/api/catalog'),
  containers: (params) => get('/api/containers' + query({ stats: 1, ...params })),
  container: (id) => get('/api/containers/' + enc(id)),
  create: (body) => post('/api/containers/create', body),
  action: (id, what) => post(`/api/containers/${enc(id)}/${what}`),
  remove: (id) => request('DELETE', '/api/containers/' + enc(id)),
  logs: (id, tail = 100) => get(`/api/containers/${enc(id)}/logs?tail=${tail}`),
  stats: (id) => get(`/api/containers/${enc(id)}/stats`),
  history: (id, range) => get(`/api/containers/${enc(id)}/stats/history?range=${enc(range)}`),
  tenantHistory: (range, clientId) => get('/api/stats/history' + query({ range, clientId })),

  // admin
  adminStats: () => get('/api/admin/stats'),
  adminClients: () => get('/api/admin/clients'),
  patchClient: (id, body) => request('PATCH', '/api/admin/clients/' + enc(id), body),
  adminUsers: () => get('/api/admin/users'),
  patchUser: (id, body) => request('PATCH', '/api/admin/users/' + enc(id), body),
  audit: (params) => get('/api/admin/audit' + query(params)),
};
