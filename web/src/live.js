// The live channel: one WebSocket to /api/ws for the whole page, authenticated by the
// session cookie. Views subscribe to topics (stats, events, logs of one container) and get
// the server's messages; subscriptions are counted, resent after every reconnection, and the
// socket reconnects with a growing, jittered delay (1 s to 30 s) for as long as someone
// listens.

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;

let ws = null;
let state = 'idle'; // idle | connecting | open | closed
let delay = MIN_DELAY;
let timer = null;
let enabled = false;
const subs = new Map(); // key -> { msg, count }
const handlers = new Set(); // fn(msg)
const stateListeners = new Set();

function key(topic, containerId) {
  return containerId ? `${topic}:${containerId}` : topic;
}

function setState(s) {
  if (state === s) return;
  state = s;
  for (const fn of stateListeners) fn(s);
}

function send(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
}

function connect() {
  if (!enabled || ws) return;
  clearTimeout(timer);
  timer = null;
  const url = (location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host + '/api/ws';
  setState('connecting');
  let sock;
  try {
    sock = new WebSocket(url);
  } catch {
    scheduleReconnect();
    return;
  }
  ws = sock;
  sock.addEventListener('open', () => {
    if (ws !== sock) return;
    delay = MIN_DELAY;
    for (const s of subs.values()) send(s.resend ? { ...s.msg, ...s.resend } : s.msg);
    setState('open');
  });
  sock.addEventListener('message', (ev) => {
    if (ws !== sock || typeof ev.data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    for (const fn of [...handlers]) {
      try {
        fn(msg);
      } catch (e) {
        console.error('live handler failed', e); // eslint-disable-line no-console
      }
    }
  });
  sock.addEventListener('close', () => {
    if (ws !== sock) return;
    ws = null;
    setState('closed');
    scheduleReconnect();
  });
  sock.addEventListener('error', () => {
    // 'close' follows and reconnects
  });
}

function scheduleReconnect() {
  if (!enabled || timer) return;
  const wait = Math.min(MAX_DELAY, delay) * (0.75 + Math.random() * 0.5);
  delay = Math.min(MAX_DELAY, delay * 2);
  timer = setTimeout(() => {
    timer = null;
    connect();
  }, wait);
}

export const live = {
  /** Opens the socket (after logging in). */
  start() {
    enabled = true;
    connect();
  },

  /** Closes the socket and forgets every subscription (on logout). */
  stop() {
    enabled = false;
    clearTimeout(timer);
    timer = null;
    subs.clear();
    if (ws) {
      const s = ws;
      ws = null;
      s.close(1000, 'logout');
    }
    setState('idle');
  },

  /** Reconnects now (a "retry" button), skipping the back-off. */
  retry() {
    delay = MIN_DELAY;
    if (!ws) connect();
  },

  get state() {
    return state;
  },

  onState(fn) {
    stateListeners.add(fn);
    return () => stateListeners.delete(fn);
  },

  /** Receives every server message; returns the function that stops it. */
  on(fn) {
    handlers.add(fn);
    return () => handlers.delete(fn);
  },

  /**
   * Subscribes to topic ("stats" | "events" | "logs"), optionally for one container; returns
   * the function that unsubscribes. extra (e.g. {tail: 100}) goes into the subscribe message;
   * resend (e.g. {tail: 100}) replaces it in the messages sent again after a reconnection
   * (state listeners hear 'open' just after those were sent).
   */
  subscribe(topic, containerId, extra, resend) {
    const k = key(topic, containerId);
    let s = subs.get(k);
    if (!s || extra) {
      const msg = { type: 'subscribe', topic, ...(containerId ? { containerId } : {}), ...(extra || {}) };
      if (s) {
        s.msg = msg;
        s.resend = resend || null;
        s.count += 1;
      } else {
        s = { msg, resend: resend || null, count: 1 };
        subs.set(k, s);
      }
      send(msg);
    } else {
      s.count += 1;
    }
    connect();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const cur = subs.get(k);
      if (!cur) return;
      cur.count -= 1;
      if (cur.count <= 0) {
        subs.delete(k);
        send({ type: 'unsubscribe', topic, ...(containerId ? { containerId } : {}) });
      }
    };
  },
};
