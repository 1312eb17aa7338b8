"""Real things on this machine for the tests of `cloudya monitor` and `cloudya diagnose`:
an nginx of the test's own (Debian's package: its own config, port, pid file and logs in the
test's folder) and a small tmpfs the test fills. Nothing here is faked: the commands under
test read /proc, statvfs and the logs as they would on any host."""
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """\
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "hello from the test\\n"; }}
    }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def nginx_pids():
    """The pids of every nginx process on the machine (by /proc/<pid>/comm)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/comm" % d) as f:
                    if f.read().strip() == "nginx":
                        pids.append(int(d))
            except OSError:
                pass
    return pids


class Nginx:
    """nginx -c <dir>/nginx.conf, listening on 127.0.0.1:<port>."""

    def __init__(self, tmp_path):
        if not os.access(NGINX, os.X_OK):
            pytest.fail("nginx is not installed (scripts/deps.sh test installs it)",
                        pytrace=False)
        self.dir = str(tmp_path / "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.error_log = os.path.join(self.dir, "error.log")
        self.write_config()

    def write_config(self, extra=""):
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(dir=self.dir, port=self.port) + extra)

    def start(self):
        p = subprocess.run([NGINX, "-c", self.conf], capture_output=True, text=True, timeout=20)
        assert p.returncode == 0, p.stderr
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        pytest.fail("nginx did not listen on %d" % self.port, pytrace=False)

    def master_pid(self):
        try:
            with open(os.path.join(self.dir, "nginx.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.master_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists("/proc/%d" % pid):
            time.sleep(0.05)

    def break_config(self):
        """An unknown directive on a known line of the config (the running nginx keeps the
        old one). Returns that line's number."""
        text = open(self.conf).read().rstrip("\n").split("\n")
        text.insert(3, "no_such_directive on;")
        with open(self.conf, "w") as f:
            f.write("\n".join(text) + "\n")
        return 4


@pytest.fixture
def nginx(tmp_path):
    n = Nginx(tmp_path)
    yield n
    n.stop()


def no_foreign_nginx(mine=None):
    """Skips the test when an nginx that is not the test's runs: the machine's own nginx
    would rightly be reported as running."""
    mine = set(mine or [])
    other = [p for p in nginx_pids() if p not in mine]
    if other:
        pytest.skip("an nginx not started by this test runs here (pids %s)" % other)


@pytest.fixture
def full_tmpfs(tmp_path):
    """A 4 MiB tmpfs mounted in the test's folder and filled to the last block; root only."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = str(tmp_path / "full-fs")
    os.makedirs(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % p.stderr.strip())
    try:
        subprocess.run(["dd", "if=/dev/zero", "of=" + os.path.join(mnt, "fill"), "bs=64k"],
                       capture_output=True)
        yield mnt
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
