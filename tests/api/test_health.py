"""GET /api/health and GET /health: shape, status codes, the Docker and database checks."""
import datetime
import os
import socket
import threading
import time

import pytest

import helpers

REAL_DOCKER_SOCKET = "/var/run/docker.sock"
PATHS = ["/api/health", "/health"]


def check_shape(r):
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert "X-Request-Id" in r.headers
    j = r.json()
    assert set(j) >= {"status", "timestamp", "services", "version"}, j
    assert j["status"] in ("healthy", "degraded", "unhealthy"), j
    assert helpers.RFC3339_UTC_RE.match(j["timestamp"]), "timestamp %r is not RFC 3339 UTC" % j["timestamp"]
    ts = datetime.datetime.strptime(j["timestamp"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    assert abs(ts.timestamp() - time.time()) < 60, "timestamp %s is not now" % j["timestamp"]
    assert j["services"]["database"] in ("connected", "error"), j
    assert j["services"]["docker"] in ("available", "unavailable"), j
    assert isinstance(j["version"], str) and j["version"], j
    if r.status_code == 200:
        assert j["status"] == "healthy", j
    else:
        assert r.status_code == 503, r.status_code
        assert j["status"] != "healthy", j
    return j


class FakeDocker:
    """A unix-socket server standing in for the Docker Engine.
    mode: "ok" answers /_ping with 200 OK, "error" with 500, "hang" accepts and never answers,
    "garbage" writes nonsense and closes."""

    def __init__(self, path, mode):
        self.path, self.mode = path, mode
        self.requests = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        self.stopping = False
        self.conns = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.handle, args=(c,), daemon=True).start()

    def handle(self, c):
        try:
            c.settimeout(10)
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                self.requests.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
                if self.mode == "ok":
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                              b"Api-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK")
                elif self.mode == "error":
                    c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\nerror")
                elif self.mode == "garbage":
                    c.sendall(b"\x00\xffthis is not http\r\n\r\n")
                    c.close()
                    return
                else:  # hang
                    time.sleep(30)
                    return
        except OSError:
            pass

    def close(self):
        self.stopping = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


@pytest.fixture
def fake_docker(tmp_path):
    made = []

    def make(mode):
        f = FakeDocker(str(tmp_path / ("docker-%s.sock" % mode)), mode)
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()


@pytest.mark.parametrize("path", PATHS)
def test_health_shape(daemon, path):
    r = daemon.get(path)
    check_shape(r)


@pytest.mark.parametrize("path", PATHS)
def test_health_needs_no_auth_and_ignores_bad_tokens(daemon, path):
    plain = daemon.get(path)
    for h in ({"Authorization": "Bearer garbage"}, {"Authorization": "Basic Zm9vOmJhcg=="}):
        r = daemon.get(path, headers=h)
        assert r.status_code == plain.status_code, "health with %r answered %d" % (h, r.status_code)
        check_shape(r)


def test_health_version_matches_binary(daemon, cli_env):
    cp = helpers.run_cloudyad(["--version"], cli_env)
    assert cp.returncode == 0
    binary_version = cp.stdout.strip().split()[-1]
    assert daemon.get("/api/health").json()["version"] == binary_version


def test_health_query_string_ignored(daemon):
    r = daemon.get("/api/health?verbose=1&x=%00")
    check_shape(r)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_health_wrong_method(daemon, method):
    for path in PATHS:
        r = daemon.request(method, path)
        helpers.assert_error(r, 405, "method_not_allowed")
        allow = [m.strip() for m in r.headers.get("Allow", "").split(",")]
        assert "GET" in allow and method not in allow, "Allow: %r" % r.headers.get("Allow")


@pytest.mark.parametrize("path", PATHS)
def test_health_missing_docker_socket_degraded(start_daemon, tmp_path, path):
    d = start_daemon(env={"DOCKER_SOCKET": str(tmp_path / "no-such-docker.sock")})
    r = d.get(path)
    j = check_shape(r)
    assert r.status_code == 503, r.text
    assert j["status"] == "degraded", j
    # "stats" says where container stats come from; nothing is sampled without an Engine.
    assert j["services"] == {"database": "connected", "docker": "unavailable", "stats": "none"}, j


def test_health_fake_docker_ok_is_healthy(start_daemon, fake_docker):
    f = fake_docker("ok")
    d = start_daemon(env={"DOCKER_SOCKET": f.path})
    for path in PATHS:
        r = d.get(path)
        j = check_shape(r)
        assert r.status_code == 200, r.text
        assert j["status"] == "healthy"
        assert j["services"] == {"database": "connected", "docker": "available", "stats": "none"}, j
    assert any("/_ping" in line for line in f.requests), "the daemon never asked /_ping: %r" % f.requests


@pytest.mark.parametrize("mode", ["error", "garbage", "hang"])
def test_health_broken_docker_is_degraded_quickly(start_daemon, fake_docker, mode):
    f = fake_docker(mode)
    d = start_daemon(env={"DOCKER_SOCKET": f.path})
    t = time.monotonic()
    r = d.get("/api/health", timeout=15)
    took = time.monotonic() - t
    j = check_shape(r)
    assert r.status_code == 503 and j["status"] == "degraded", j
    assert j["services"]["docker"] == "unavailable"
    assert took < 5, "health took %.1f s against a %s docker socket (expected a short timeout)" % (took, mode)
    # other requests are not blocked by a hanging docker check
    d.assert_alive()


def test_health_recovers_when_docker_appears(start_daemon, tmp_path):
    path = str(tmp_path / "late-docker.sock")
    d = start_daemon(env={"DOCKER_SOCKET": path})
    assert d.get("/api/health").status_code == 503
    f = FakeDocker(path, "ok")
    try:
        deadline = time.monotonic() + 10
        while True:
            r = d.get("/api/health")
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.status_code == 200, "health still %d 10 s after docker came up: %s" % (r.status_code, r.text)
    finally:
        f.close()


def _real_docker_ping():
    if not os.path.exists(REAL_DOCKER_SOCKET):
        return "%s does not exist" % REAL_DOCKER_SOCKET
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(REAL_DOCKER_SOCKET)
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
    except OSError as e:
        return "%s: %s" % (REAL_DOCKER_SOCKET, e)
    if not data.startswith(b"HTTP/1.1 200") and not data.startswith(b"HTTP/1.0 200"):
        return "%s answered /_ping with %r" % (REAL_DOCKER_SOCKET, data[:80])
    return None


def test_health_real_docker_is_healthy(start_daemon):
    problem = _real_docker_ping()
    if problem:
        pytest.fail("the real Docker Engine is not answering (%s); the test scripts must start dockerd "
                    "before pytest" % problem, pytrace=False)
    d = start_daemon(env={"DOCKER_SOCKET": None})  # the default, /var/run/docker.sock
    for path in PATHS:
        r = d.get(path)
        j = check_shape(r)
        assert r.status_code == 200, r.text
        assert j == dict(j, status="healthy", services={"database": "connected", "docker": "available",
                                                        "stats": "none"})
