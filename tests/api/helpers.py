"""Shared helpers for the black-box API tests of cloudyad.

Everything here talks to the daemon only through its public surface: HTTP on a TCP port,
its command line, its stderr log, and (where the contract allows it) the SQLite file in its
data dir. Only the standard library and requests are used.
"""
import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import select
import signal
import socket
import sqlite3
import subprocess
import time
import uuid
import weakref

import requests

# Programs under test get the interrupt, quit and hang-up signals at their defaults, as from
# a terminal, even when the suite itself was started with them ignored (a background job of a
# non-interactive shell ignores SIGINT and SIGQUIT; nohup ignores SIGHUP), since an ignored
# signal stays ignored across exec. Python's own handlers are reset to the default by exec.
signal.signal(signal.SIGINT, signal.default_int_handler)
for _sig in (signal.SIGQUIT, signal.SIGHUP):
    signal.signal(_sig, signal.SIG_DFL)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("CLOUDYA_BUILD") or os.path.join(REPO, "build")
BINARY = os.path.join(BUILD, "cloudyad")
# The fast catalog: every service type on the tiny busybox image (scripts/images.sh test).
TEST_CATALOG = os.path.join(REPO, "tests", "api", "catalog.test.yaml")
OFFLINE_CATALOG = os.path.join(REPO, "catalog", "catalog.offline.yaml")
KNOWLEDGE_DIR = os.path.join(REPO, "knowledge")
DOCKER_SOCKET = "/var/run/docker.sock"
# The backend the daemons use: "sqlite" (default) or "pg" (scripts/test.sh runs the suite
# once with each). With "pg", CLOUDYA_TEST_PG_URL names a server whose role may create
# databases; each data dir gets a database of its own (see db_url_for).
BACKEND = os.environ.get("CLOUDYA_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("CLOUDYA_TEST_PG_URL", "")
PG_DIR = os.environ.get("CLOUDYA_TEST_PG_DIR", "")

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 15.0

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

# Environment variables the daemon reads; they are removed from the inherited environment
# so that the developer's shell can never leak into a test.
_DAEMON_VARS = (
    "PORT", "HOST", "DATABASE_URL", "JWT_SECRET", "DOCKER_SOCKET", "LOG_LEVEL", "LOG_FORMAT",
)

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
RFC3339_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


def binary_or_fail():
    """The daemon binary's path; fails the calling test loudly when it is missing."""
    import pytest

    if not os.path.isfile(BINARY) or not os.access(BINARY, os.X_OK):
        pytest.fail(
            "cloudyad binary not found or not executable at %s "
            "(build it with `make`, or point CLOUDYA_BUILD at a build directory)" % BINARY,
            pytrace=False,
        )
    return BINARY


def base_env():
    """The inherited environment minus every variable the daemon would read."""
    env = {}
    for k, v in os.environ.items():
        if k in _DAEMON_VARS:
            continue
        if k.startswith("CLOUDYA_") and k != "CLOUDYA_BUILD":
            continue
        env[k] = v
    env["CLOUDYA_CATALOG"] = TEST_CATALOG
    env["CLOUDYA_KNOWLEDGE_DIR"] = KNOWLEDGE_DIR
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    return env


def random_secret(n=48):
    return secrets.token_urlsafe(n)[:n]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sanitizer_findings(text):
    return [m for m in SANITIZER_MARKERS if m in text]


def unique_email(prefix="user", domain="example.test"):
    return "%s-%s@%s" % (prefix, uuid.uuid4().hex[:12], domain)


def run_cloudyad(args, env, input=None, timeout=20, cwd=None):
    """Runs the binary with args and a full environment; returns CompletedProcess (text).
    Fails the test if a sanitizer reported anything."""
    import pytest

    binary = binary_or_fail()
    try:
        cp = subprocess.run(
            [binary] + list(args), env=env, input=input, capture_output=True, text=True,
            timeout=timeout, cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("`cloudyad %s` did not finish within %ss" % (" ".join(args), timeout))
    found = sanitizer_findings(cp.stderr)
    if found:
        pytest.fail("sanitizer findings %s in `cloudyad %s`:\n%s" % (found, " ".join(args), cp.stderr[-8000:]))
    return cp


# ---------------------------------------------------------------------------------------------
# HTTP


def http(method, url, **kw):
    """One request on a fresh, proxy-free session."""
    kw.setdefault("timeout", HTTP_TIMEOUT)
    kw.setdefault("allow_redirects", False)
    with requests.Session() as s:
        s.trust_env = False
        return s.request(method, url, **kw)


def auth(token):
    return {"Authorization": "Bearer " + token}


def assert_error(r, status, code, field=None):
    """Asserts the JSON error contract: status, Content-Type, {"error": sentence, "code": code}."""
    body = r.text[:500]
    assert r.status_code == status, "expected %d %s, got %d: %s" % (status, code, r.status_code, body)
    ctype = r.headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), "error Content-Type is %r (body %s)" % (ctype, body)
    try:
        j = r.json()
    except ValueError:
        raise AssertionError("error body is not JSON: %r" % body)
    assert isinstance(j, dict), "error body is not an object: %r" % body
    assert isinstance(j.get("error"), str) and j["error"].strip(), "missing error sentence: %r" % body
    assert j.get("code") == code, "expected code %r, got %r (%s)" % (code, j.get("code"), body)
    assert "X-Request-Id" in r.headers, "error response without X-Request-Id"
    if field is not None:
        assert field.lower() in j["error"].lower(), "error sentence does not name field %r: %r" % (field, j["error"])
    return j


# ---------------------------------------------------------------------------------------------
# Raw sockets, for what requests cannot send


def raw_connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


_leftover = weakref.WeakKeyDictionary()  # bytes read past one response, for pipelining


def read_response(sock, timeout=5.0):
    """Reads one HTTP/1.x response. Returns (status, headers{lowercase: value}, body bytes),
    or (None, {}, b"") when the peer closed without answering. Raises socket.timeout.
    Bytes received past the response are kept for the next call on the same socket."""
    result, rest = _read_response(sock, timeout, _leftover.pop(sock, b""))
    if rest:
        _leftover[sock] = rest
    return result


def _read_response(sock, timeout, buf):
    deadline = time.monotonic() + timeout

    def recv_more():
        nonlocal buf
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("no complete response within %ss" % timeout)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        buf += chunk
        return bool(chunk)

    while b"\r\n\r\n" not in buf:
        if not recv_more():
            if not buf:
                return (None, {}, b""), b""
            raise AssertionError("connection closed inside the response head: %r" % buf[:300])
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    assert m, "bad status line %r" % lines[0]
    status = int(m.group(1))
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    buf = rest
    if status in (204, 304) or 100 <= status < 200:
        return (status, headers, b""), buf
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            while b"\r\n" not in buf:
                if not recv_more():
                    return (status, headers, body), b""
            size_line, _, buf = buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                _, _, buf = buf.partition(b"\r\n")
                return (status, headers, body), buf
            while len(buf) < size + 2:
                if not recv_more():
                    return (status, headers, body + buf), b""
            body += buf[:size]
            buf = buf[size + 2:]
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < n:
            if not recv_more():
                break
        return (status, headers, buf[:n]), buf[n:]
    while recv_more():
        pass
    return (status, headers, buf), b""


def raw_request(port, data, timeout=5.0):
    """Sends raw bytes on a fresh connection and reads one response."""
    s = raw_connect(port, timeout)
    try:
        s.sendall(data)
        return read_response(s, timeout)
    finally:
        s.close()


def send_watching(sock, chunks):
    """Sends chunks one by one, stopping as soon as the peer has answered (readable) or
    closed the connection. Returns the number of bytes sent."""
    sent = 0
    for c in chunks:
        r, _, _ = select.select([sock], [], [], 0)
        if r:
            break
        try:
            sock.sendall(c)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(c)
    return sent


def parse_json_body(body):
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise AssertionError("body is not JSON: %r" % body[:300])


# ---------------------------------------------------------------------------------------------
# JWT, built by hand to attack the daemon's verifier


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    s = s + "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s.encode("ascii"))


def jwt_parts(token):
    parts = token.split(".")
    assert len(parts) == 3, "token is not three dot-separated parts: %r" % token
    return parts


def jwt_header(token):
    return json.loads(b64url_decode(jwt_parts(token)[0]))


def jwt_payload(token):
    return json.loads(b64url_decode(jwt_parts(token)[1]))


def jwt_sign(header_b64, claims, key, digest=hashlib.sha256):
    """Signs claims with key under an already-encoded header segment."""
    payload_b64 = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = ("%s.%s" % (header_b64, payload_b64)).encode("ascii")
    sig = hmac.new(key if isinstance(key, bytes) else key.encode(), signing_input, digest).digest()
    return "%s.%s.%s" % (header_b64, payload_b64, b64url(sig))


def jwt_encode_header(header):
    return b64url(json.dumps(header, separators=(",", ":")).encode())


# ---------------------------------------------------------------------------------------------
# The daemon under test


class Daemon:
    """One running cloudyad: base url, data dir, env, log path, process."""

    def __init__(self, proc, port, data_dir, env, log_path, args):
        self.proc = proc
        self.port = port
        self.base = "http://127.0.0.1:%d" % port
        self.data_dir = data_dir
        self.env = env
        self.log_path = log_path
        self.args = args
        self.returncode = None
        self.expect_exit_code = 0

    @property
    def pid(self):
        return self.proc.pid

    @property
    def jwt_secret(self):
        s = self.env.get("JWT_SECRET")
        if s is None:
            with open(os.path.join(self.data_dir, "jwt_secret"), "rb") as f:
                return f.read().strip()
        return s.encode()

    @property
    def db_path(self):
        url = self.env.get("DATABASE_URL")
        if url:
            assert url.startswith("sqlite://")
            return url[len("sqlite://"):]
        return os.path.join(self.data_dir, "cloudya.db")

    def url(self, path):
        return self.base + path

    def request(self, method, path, token=None, headers=None, **kw):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        return http(method, self.url(path), headers=h, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def log_tail(self, n=4000):
        return self.log()[-n:]

    def alive(self):
        return self.proc.poll() is None

    def assert_alive(self):
        assert self.alive(), "cloudyad exited with status %s; log tail:\n%s" % (
            self.proc.returncode, self.log_tail())
        r = self.get("/api/health", timeout=5)
        assert r.status_code in (200, 503), "health answered %d: %s" % (r.status_code, r.text[:300])

    @property
    def on_pg(self):
        return self.env.get("DATABASE_URL", "").startswith(("postgresql://", "postgres://"))

    def db(self):
        """A DB-API connection to the daemon's database (sqlite3, or psycopg2 behind the same
        execute(sql with ?, params) call)."""
        if self.on_pg:
            return PgConnection(self.env["DATABASE_URL"])
        con = sqlite3.connect(self.db_path, timeout=10, isolation_level=None)
        con.execute("PRAGMA busy_timeout=10000")
        return con

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Signals the daemon and waits; returns its exit status (None if it had to be killed)."""
        if self.returncode is not None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = "killed after %ss without exiting on %s" % (timeout, signal.Signals(sig).name)
                return self.returncode
        self.returncode = self.proc.returncode
        return self.returncode

    def instance_id(self):
        """This daemon's instance id (it labels its containers on the Engine)."""
        con = self.db()
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'instance_id'").fetchone()
        except sqlite3.Error:
            return None
        finally:
            con.close()
        return row[0] if row else None

    def check_clean_exit(self):
        """Stops the daemon if needed and returns a list of problems (empty when clean).
        Also removes from the Engine whatever containers, networks and volumes it created."""
        rc = self.stop()
        try:
            engine_cleanup(self.instance_id())
        except Exception as e:  # cleanup must never hide the real result
            print("engine cleanup failed: %s" % e)
        problems = []
        if rc != self.expect_exit_code:
            problems.append("exit status %r, expected %r" % (rc, self.expect_exit_code))
        found = sanitizer_findings(self.log())
        if found:
            problems.append("sanitizer findings %s" % found)
        return problems

    # -- convenience for auth flows ---------------------------------------------------------

    def register(self, email=None, password=None, name="Test User", expect=201):
        email = email or unique_email()
        password = password or ("pw-" + secrets.token_hex(8))
        r = self.post("/api/auth/register", json={"email": email, "password": password, "name": name})
        if expect is not None:
            assert r.status_code == expect, "register %s: expected %d, got %d %s" % (
                email, expect, r.status_code, r.text[:300])
        return r, email, password

    def new_user(self, **kw):
        """Registers a fresh user; returns a dict with email, password, token, user."""
        r, email, password = self.register(**kw)
        j = r.json()
        return {"email": email, "password": password, "token": j["token"], "user": j["user"]}

    def login(self, email, password, **kw):
        return self.post("/api/auth/login", json={"email": email, "password": password}, **kw)


def start_daemon_process(data_dir, env_extra=None, args=(), port=None, log_dir=None,
                         jwt_secret=True, admin=None, log_level="debug"):
    """Starts cloudyad and waits until /api/health answers. Returns a Daemon.

    env_extra values of None remove the variable. jwt_secret=True sets a random one,
    False leaves it unset (the daemon then generates one in the data dir), a str sets it."""
    import pytest

    binary = binary_or_fail()
    os.makedirs(data_dir, exist_ok=True)
    log_dir = log_dir or data_dir
    attempts = 3 if port is None else 1
    last_problem = ""
    for attempt in range(attempts):
        p = port or free_port()
        env = base_env()
        env.update({
            "PORT": str(p),
            "HOST": "127.0.0.1",
            "CLOUDYA_DATA_DIR": data_dir,
            "LOG_LEVEL": log_level,
            "CLOUDYA_LOGIN_MAX_FAILURES_IP": "1000",
        })
        if jwt_secret is True:
            env["JWT_SECRET"] = random_secret()
        elif isinstance(jwt_secret, str):
            env["JWT_SECRET"] = jwt_secret
        if admin:
            env["CLOUDYA_ADMIN_EMAIL"], env["CLOUDYA_ADMIN_PASSWORD"] = admin
        if BACKEND == "pg" and "DATABASE_URL" not in (env_extra or {}):
            env["DATABASE_URL"] = db_url_for(data_dir)
        for k, v in (env_extra or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        if "PORT" in (env_extra or {}) and env_extra["PORT"] is not None:
            p = int(env_extra["PORT"])
        log_path = os.path.join(log_dir, "cloudyad-%d-%d.log" % (p, int(time.time() * 1000)))
        logf = open(log_path, "wb")
        outf = open(log_path + ".stdout", "wb")
        proc = subprocess.Popen([binary] + list(args), env=env, stdout=outf, stderr=logf,
                                stdin=subprocess.DEVNULL, cwd=data_dir)
        logf.close()
        outf.close()
        d = Daemon(proc, p, data_dir, env, log_path, list(args))
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                http("GET", d.url("/api/health"), timeout=0.5)
                return d
            except requests.RequestException:
                time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            pytest.fail("cloudyad did not answer GET /api/health within %ss on port %d; log:\n%s"
                        % (READY_TIMEOUT, p, d.log_tail()), pytrace=False)
        last_problem = "cloudyad exited with status %s before becoming ready; log:\n%s" % (
            proc.returncode, d.log_tail())
        if "in use" not in d.log().lower():
            break
    pytest.fail(last_problem, pytrace=False)


@contextlib.contextmanager
def module_daemon(tmp_path_factory, name, **kw):
    """A daemon of a test module's own, with a first admin (d.admin_token ready), checked for
    a clean exit when the module is done. Use in a module-scoped fixture:
    `with helpers.module_daemon(tmp_path_factory, "ws") as d: yield d`."""
    root = str(tmp_path_factory.mktemp(name))
    admin = ("admin@%s.test" % name, "admin-pw-" + random_secret(10))
    d = start_daemon_process(root + "/data", log_dir=root, admin=admin, **kw)
    d.admin_email, d.admin_password = admin
    d.admin_token = d.login(*admin).json()["token"]
    yield d
    problems = d.check_clean_exit()
    assert not problems, "%s\n%s" % (problems, d.log_tail())


def wait_exit(proc, timeout):
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def post_raw(port, path, body, headers=None, chunk=64 * 1024, timeout=10.0):
    """POSTs body with a Content-Length on a raw socket, stopping the upload as soon as the
    daemon answers (it may refuse early), then reads the answer.
    Returns (status, headers, body bytes)."""
    h = {"Host": "127.0.0.1", "Content-Type": "application/json", "Connection": "close"}
    h.update(headers or {})
    head = "POST %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % kv for kv in h.items())
    head += "Content-Length: %d\r\n\r\n" % len(body)
    s = raw_connect(port, timeout)
    try:
        s.sendall(head.encode("latin-1"))
        send_watching(s, [body[i:i + chunk] for i in range(0, len(body), chunk)])
        return read_response(s, timeout)
    finally:
        s.close()


# ---------------------------------------------------------------------------------------------
# The Docker Engine, seen directly (to check what cloudyad did, never to do its work)


def docker(*args, check=True, timeout=60, input=None):
    """Runs the docker CLI; returns stdout (text)."""
    cp = subprocess.run(["docker"] + list(args), capture_output=True, text=True, timeout=timeout,
                        input=input)
    if check and cp.returncode != 0:
        raise AssertionError("docker %s failed (%d): %s" % (" ".join(args), cp.returncode, cp.stderr))
    return cp.stdout


def docker_inspect(ref, kind="container"):
    """docker inspect as a dict, or None when the object does not exist."""
    cp = subprocess.run(["docker", kind, "inspect", ref], capture_output=True, text=True, timeout=30)
    if cp.returncode != 0:
        return None
    return json.loads(cp.stdout)[0]


def engine_containers(instance_id):
    """{container id: labels} of every container carrying this instance's label."""
    if not instance_id:
        return {}
    ids = docker("ps", "-aq", "--no-trunc", "--filter", "label=com.cloudya.instance=" + instance_id).split()
    out = {}
    for i in ids:
        j = docker_inspect(i)
        if j is not None:
            out[i] = j
    return out


def engine_cleanup(instance_id):
    """Removes the containers, volumes and networks an instance created."""
    if not instance_id:
        return
    label = "label=com.cloudya.instance=" + instance_id
    ids = docker("ps", "-aq", "--filter", label, check=False).split()
    if ids:
        docker("rm", "-f", "-v", *ids, check=False)
    vols = docker("volume", "ls", "-q", "--filter", label, check=False).split()
    if vols:
        docker("volume", "rm", "-f", *vols, check=False)
    nets = docker("network", "ls", "-q", "--filter", label, check=False).split()
    if nets:
        docker("network", "rm", *nets, check=False)


def wait_for(pred, timeout=10.0, interval=0.1, what="condition"):
    """Polls pred() until it returns a truthy value; returns it, or fails after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))


# ---------------------------------------------------------------------------------------------
# PostgreSQL


class PgConnection:
    """psycopg2 in autocommit mode with sqlite3's con.execute(sql, params) and "?" markers."""

    def __init__(self, url):
        import psycopg2

        self.con = psycopg2.connect(url, connect_timeout=10)
        self.con.autocommit = True

    def execute(self, sql, params=()):
        cur = self.con.cursor()
        cur.execute(sql.replace("?", "%s"), tuple(params))
        return cur

    def close(self):
        self.con.close()


def _pg_url_with_db(url, dbname):
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(url)
    return urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment))


def db_url_for(data_dir):
    """The PostgreSQL database of a data dir: one per dir, made on first use, so that a
    restart on the same data dir finds its data again, as with SQLite."""
    import psycopg2

    assert PG_URL, "CLOUDYA_TEST_BACKEND=pg needs CLOUDYA_TEST_PG_URL"
    name = "cy_" + hashlib.sha1(os.path.abspath(data_dir).encode()).hexdigest()[:20]
    con = psycopg2.connect(PG_URL, connect_timeout=10)
    con.autocommit = True
    try:
        cur = con.cursor()
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            try:
                cur.execute('CREATE DATABASE "%s"' % name)
            except psycopg2.errors.DuplicateDatabase:
                pass
    finally:
        con.close()
    return _pg_url_with_db(PG_URL, name)


def new_pg_database():
    """A fresh, empty database on the test server; returns its URL."""
    return db_url_for("/fresh/" + uuid.uuid4().hex)
