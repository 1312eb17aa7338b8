"""An nginx of our own (Debian's package) for the tests and benchmarks of `cloudya monitor`
and `cloudya diagnose`: its config, pid file, logs and temp folders in a folder of the
caller's, listening on a free port of 127.0.0.1. Standard library only, so that both
tests/cli/hostfix.py (pytest) and bench/monitor.py use it."""
import os
import shutil
import signal
import socket
import subprocess
import time

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
        location / {{ return 200 "hello from cloudya's checks\\n"; }}
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


class LocalNginx:
    """nginx -c <folder>/nginx/nginx.conf, listening on 127.0.0.1:<port>."""

    def __init__(self, folder):
        self.dir = os.path.join(str(folder), "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.error_log = os.path.join(self.dir, "error.log")
        self.write_config()

    def write_config(self, extra=""):
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(dir=self.dir, port=self.port) + extra)

    def start(self):
        """Starts it and waits until it accepts connections; RuntimeError when it does not."""
        p = subprocess.run([NGINX, "-c", self.conf], capture_output=True, text=True, timeout=20)
        if p.returncode != 0:
            raise RuntimeError("nginx -c %s failed: %s" % (self.conf, p.stderr.strip()))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                if self.master_pid() is not None:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("nginx did not listen on %d" % self.port)

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
        """An unknown directive on a known line of the config (a running nginx keeps the old
        one). Returns that line's number."""
        text = open(self.conf).read().rstrip("\n").split("\n")
        text.insert(3, "no_such_directive on;")
        with open(self.conf, "w") as f:
            f.write("\n".join(text) + "\n")
        return 4
