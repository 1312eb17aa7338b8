// Shared pieces of the browser tests: a real cloudyad (with the dashboard from web/dist and
// the fast busybox catalog) on a free port, API calls for set-up and clean-up, Debian's
// Chromium driven by playwright-core, and watchers that fail a test on a page error, a
// Content-Security-Policy violation or any request that leaves the daemon's origin.
//
// Environment: CLOUDYA_BUILD (directory of cloudyad, default build/), CLOUDYA_TEST_OUT
// (screenshots and daemon logs, default /tmp/cloudya-e2e), CLOUDYA_CHROMIUM (default
// /usr/bin/chromium), CLOUDYA_E2E_HEADED=1 to watch, CLOUDYA_UPDATE_SCREENSHOT=1 to copy the
// dashboard's screenshot to docs/dashboard.png.

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '..', '..');
export const BUILD = resolve(REPO, process.env.CLOUDYA_BUILD || 'build');
export const BINARY = join(BUILD, 'cloudyad');
export const WEB_DIST = join(REPO, 'web', 'dist');
export const CATALOG = join(REPO, 'tests', 'api', 'catalog.test.yaml');
export const OUT = resolve(process.env.CLOUDYA_TEST_OUT || '/tmp/cloudya-e2e');
export const CHROMIUM = process.env.CLOUDYA_CHROMIUM || '/usr/bin/chromium';
const run = promisify(execFile);

mkdirSync(OUT, { recursive: true });

const { chromium } = await import(pathToFileURL(join(REPO, 'web', 'node_modules', 'playwright-core', 'index.mjs')).href);

const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer'];

// Variables the daemon reads: never inherited from the developer's shell.
const DAEMON_VARS = ['PORT', 'HOST', 'DATABASE_URL', 'JWT_SECRET', 'DOCKER_SOCKET', 'LOG_LEVEL', 'LOG_FORMAT'];

export function secret(n = 24) {
  return randomBytes(n).toString('base64url').slice(0, n);
}

export function uniqueEmail(prefix) {
  return `${prefix}-${randomBytes(6).toString('hex')}@example.test`;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value; returns it or throws after timeout ms. */
export async function waitFor(fn, { timeout = 10000, interval = 200, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last && last.message ? last.message : last})`);
    await sleep(interval);
  }
}

/**
 * Starts cloudyad with a first admin and waits for /api/health. Returns a daemon handle:
 * { base, port, admin: {email, password}, log(), api(...), token(...), stop() }.
 */
export async function startDaemon(name) {
  assert.ok(existsSync(BINARY), `cloudyad not found at ${BINARY} (run make, or set CLOUDYA_BUILD)`);
  assert.ok(existsSync(join(WEB_DIST, 'index.html')), `no ${WEB_DIST}/index.html (cd web && npm ci && node build.mjs)`);
  const root = mkdtempSync(join(OUT, `${name}-`));
  const admin = { email: `admin@${name}.test`, password: 'admin-pw-' + secret(12) };
  let lastErr = '';
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const env = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (DAEMON_VARS.includes(k) || (k.startsWith('CLOUDYA_') && k !== 'CLOUDYA_BUILD')) continue;
      env[k] = v;
    }
    Object.assign(env, {
      PORT: String(port),
      HOST: '127.0.0.1',
      CLOUDYA_DATA_DIR: join(root, 'data'),
      JWT_SECRET: secret(48),
      CLOUDYA_CATALOG: CATALOG,
      CLOUDYA_ADMIN_EMAIL: admin.email,
      CLOUDYA_ADMIN_PASSWORD: admin.password,
      CLOUDYA_WEB_DIR: WEB_DIST,
      CLOUDYA_KNOWLEDGE_DIR: join(REPO, 'knowledge'),
      CLOUDYA_LOGIN_MAX_FAILURES_IP: '1000',
      LOG_LEVEL: 'info',
    });
    const logPath = join(root, `cloudyad-${port}.log`);
    const logFile = createWriteStream(logPath);
    const proc = spawn(BINARY, [], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.pipe(logFile);
    proc.stderr.pipe(logFile);
    let exited = null;
    proc.on('exit', (code, sig) => { exited = { code, sig }; });
    const base = `http://127.0.0.1:${port}`;
    const end = Date.now() + 10000;
    let up = false;
    while (Date.now() < end && !exited) {
      try {
        const r = await fetch(base + '/api/health');
        if (r.status === 200 || r.status === 503) {
          up = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    if (up) return daemonHandle({ proc, port, base, root, logPath, admin, exitedRef: () => exited });
    if (!exited) proc.kill('SIGKILL');
    await sleep(100);
    lastErr = readFileSync(logPath, 'utf8').slice(-3000);
    if (!/in use/i.test(lastErr)) break;
  }
  throw new Error(`cloudyad did not start:\n${lastErr}`);
}

function daemonHandle({ proc, port, base, root, logPath, admin, exitedRef }) {
  const instances = new Set();
  const d = {
    proc, port, base, root, logPath, admin,
    log: () => readFileSync(logPath, 'utf8'),
    url: (p) => base + p,

    /** An API call with a bearer token; resolves to {status, body}. */
    async api(method, path, { token, body } = {}) {
      const headers = { Accept: 'application/json' };
      if (token) headers.Authorization = 'Bearer ' + token;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = text;
      }
      return { status: r.status, body: json, headers: r.headers };
    },

    async token(email, password) {
      const r = await d.api('POST', '/api/auth/login', { body: { email, password } });
      assert.equal(r.status, 200, `login ${email}: ${JSON.stringify(r.body)}`);
      return r.body.token;
    },

    async adminToken() {
      if (!d._adminToken) d._adminToken = await d.token(admin.email, admin.password);
      return d._adminToken;
    },

    /** Registers a user through the API; returns {email, password, name, token, user}. */
    async register(prefix, name) {
      const email = uniqueEmail(prefix);
      const password = 'pw-' + secret(14);
      const r = await d.api('POST', '/api/auth/register', { body: { email, password, name } });
      assert.equal(r.status, 201, `register: ${JSON.stringify(r.body)}`);
      return { email, password, name, token: r.body.token, user: r.body.user };
    },

    /** Creates a container through the API (for set-up); returns the 201 body. */
    async create(token, serviceType, name) {
      const r = await d.api('POST', '/api/containers/create', { token, body: { serviceType, name } });
      assert.equal(r.status, 201, `create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
      await d.remember(r.body.containerId);
      return r.body;
    },

    /** Notes the instance label of a container, to clean the Engine up at the end. */
    async remember(id) {
      try {
        const { stdout } = await run('docker', ['inspect', '--format', '{{index .Config.Labels "com.cloudya.instance"}}', id]);
        if (stdout.trim()) instances.add(stdout.trim());
      } catch {
        // gone already
      }
    },

    /** Deletes every container through the API, stops the daemon, removes what is left. */
    async stop() {
      try {
        const token = await d.adminToken();
        const r = await d.api('GET', '/api/containers', { token });
        if (r.status === 200) {
          for (const c of r.body) {
            await d.remember(c.id);
            await d.api('DELETE', '/api/containers/' + c.id, { token });
          }
        }
      } catch (e) {
        console.error('clean-up through the API failed:', e.message); // eslint-disable-line no-console
      }
      if (!exitedRef()) {
        proc.kill('SIGTERM');
        const end = Date.now() + 10000;
        while (!exitedRef() && Date.now() < end) await sleep(50);
        if (!exitedRef()) proc.kill('SIGKILL');
      }
      // the daemon's own record of its instance id, when the sqlite3 shell is at hand
      try {
        const { stdout } = await run('sqlite3', [join(root, 'data', 'cloudya.db'), "SELECT value FROM meta WHERE key = 'instance_id'"]);
        if (stdout.trim()) instances.add(stdout.trim());
      } catch {
        // no sqlite3, or no database: the labels noted on the way will do
      }
      for (const ins of instances) await engineCleanup(ins);
      return exitedRef();
    },

    /**
     * Stops the daemon (see stop) and returns what went wrong: an exit status other than 0
     * on SIGTERM, or a sanitizer report in its log (the ASan build).
     */
    async finish() {
      const ex = await d.stop();
      const problems = [];
      if (!ex || ex.code !== 0) problems.push(`cloudyad exited with ${ex ? (ex.code ?? ex.sig) : 'nothing (still running)'}`);
      const log = d.log();
      for (const m of SANITIZER_MARKERS) if (log.includes(m)) problems.push(`sanitizer report (${m}) in ${logPath}`);
      if (problems.length) problems.push(log.slice(-4000));
      return problems;
    },
  };
  return d;
}

async function engineCleanup(instance) {
  const label = `label=com.cloudya.instance=${instance}`;
  const q = async (args) => {
    try {
      const { stdout } = await run('docker', args);
      return stdout.split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  };
  const ids = await q(['ps', '-aq', '--filter', label]);
  if (ids.length) await q(['rm', '-f', '-v', ...ids]);
  const vols = await q(['volume', 'ls', '-q', '--filter', label]);
  if (vols.length) await q(['volume', 'rm', '-f', ...vols]);
  const nets = await q(['network', 'ls', '-q', '--filter', label]);
  if (nets.length) await q(['network', 'rm', ...nets]);
}

// --- the browser ------------------------------------------------------------------------------

export async function launchBrowser() {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: process.env.CLOUDYA_E2E_HEADED !== '1',
    args: ['--no-sandbox'],
  });
}

/**
 * A new browser context and page on the daemon, watched: page errors, console errors (but
 * the browser's own "Failed to load resource" lines for expected statuses), CSP violations
 * and requests to any other origin are collected; assertClean() fails on any of them.
 */
export async function openPage(browser, d, { width = 1280, height = 860, expectStatuses = [401] } = {}) {
  const context = await browser.newContext({
    viewport: { width, height },
    baseURL: d.base,
    reducedMotion: 'reduce',
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  const problems = [];
  const origin = new URL(d.base).origin;
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content.Security.Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    else if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (\d+)/.test(text)) {
      problems.push(`console error: ${text}`);
    }
  });
  page.on('response', (r) => {
    const s = r.status();
    // a container created through the page: note its instance label now, so that it is
    // removed from the Engine at the end even if the daemon dies before
    if (s === 201 && r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/containers/create') {
      r.json().then((b) => b && b.containerId && d.remember(b.containerId)).catch(() => {});
    }
    if (s >= 400 && !expectStatuses.includes(s) && !page._expected?.(r)) problems.push(`HTTP ${s} ${r.request().method()} ${r.url()}`);
  });
  page.on('request', (req) => {
    const u = req.url();
    if (u.startsWith('data:') || u.startsWith('blob:')) return;
    const o = new URL(u).origin;
    const wsOrigin = origin.replace(/^http/, 'ws');
    if (o !== origin && o !== wsOrigin) problems.push(`request to another origin: ${u}`);
  });
  page.on('websocket', (ws) => {
    if (!ws.url().startsWith(origin.replace(/^http/, 'ws') + '/')) problems.push(`WebSocket to another origin: ${ws.url()}`);
  });
  return {
    context,
    page,
    problems,
    /** Also accept responses for which fn(response) is true (a test provoking an error). */
    expect(fn) {
      const prev = page._expected;
      page._expected = (r) => fn(r) || (prev ? prev(r) : false);
    },
    assertClean() {
      assert.deepEqual(problems, [], 'the page reported problems');
    },
  };
}

/**
 * The last test of a file: closes the browser, stops the daemon and checks that it exited
 * with 0 and without a sanitizer report. state: { browser, d }; both are cleared.
 */
/**
 * A daemon and a browser for one test file, started in before() and then handed to
 * prepare(env) for the file's own set-up; after() closes both even when the set-up failed (or
 * the file would hang). The file's last test calls env.finish(): the clean-exit check.
 * Call it inside describe().
 */
export function useDaemonAndBrowser(name, prepare) {
  const env = { d: null, browser: null };
  const teardown = async () => {
    if (env.browser) await env.browser.close().catch(() => {});
    env.browser = null;
    if (env.d) await env.d.stop().catch(() => {});
    env.d = null;
  };
  before(async () => {
    try {
      env.d = await startDaemon(name);
      env.browser = await launchBrowser();
      await prepare(env);
    } catch (e) {
      await teardown();
      throw e;
    }
  }, { timeout: 90000 });
  after(teardown, { timeout: 60000 });
  env.finish = async () => {
    const st = { browser: env.browser, d: env.d };
    env.browser = null;
    env.d = null;
    await finishClean(st);
  };
  return env;
}

export async function finishClean(state) {
  if (state.browser) await state.browser.close();
  state.browser = null;
  const d = state.d;
  state.d = null;
  assert.ok(d, 'the daemon was started');
  const problems = await d.finish();
  assert.deepEqual(problems, [], 'cloudyad stopped cleanly');
}

/** Saves a full-page screenshot under OUT; returns its path. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  const path = join(OUT, `${name}.png`);
  // the page as it stays, without the passing notices
  await page.evaluate(() => {
    document.querySelectorAll('.toast').forEach((t) => t.remove());
    // a full-page shot of a scrolled page would draw the sticky header mid-page
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path, fullPage, animations: 'disabled' });
  return path;
}

/** With CLOUDYA_UPDATE_SCREENSHOT=1, copies a screenshot to docs/dashboard.png. */
export function publishScreenshot(path) {
  if (process.env.CLOUDYA_UPDATE_SCREENSHOT === '1') copyFileSync(path, join(REPO, 'docs', 'dashboard.png'));
}

/** Logs in through the login page and waits for the app. */
export async function uiLogin(page, email, password) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForSelector('header.topbar');
}

/** Text of the page's <h1>. */
export async function heading(page) {
  return (await page.locator('main h1').first().innerText()).trim();
}
