#!/usr/bin/python3
"""Live-metrics benchmark of cloudyad on the real Docker Engine (Debian's python3 with
python3-requests and python3-websocket; wrk for the latency part).

  1. Sampler cost: the sampler thread's CPU time (cloudya_sampler_cpu_seconds_total) over
     BENCH_WINDOW seconds with 200 and then 500 running containers, as percent of one core,
     and the wall time of one tick.
  2. GET /api/containers/:id/stats under wrk (p50/p99, req/s), next to one Engine stats call
     (GET /containers/ID/stats?stream=false), which is what the seed's implementation does.
  3. WebSocket fan-out: 100 subscribers to the stats of one tenant's 10 containers; delivery
     delay (arrival minus the sample's timestamp) and the daemon's RSS before and after.

Writes the section between <!-- stats:begin --> and <!-- stats:end --> of bench/RESULTS.md
(stats-pg with BENCH_SUFFIX=-pg).
Removes every container, volume and network it made, however it exits.

Env: CLOUDYA_BUILD (default <repo>/build), BENCH_STEPS (default "200,500"), BENCH_WINDOW
(seconds, default 30), BENCH_DURATION (wrk, default 10s), BENCH_SUBSCRIBERS (default 100),
BENCH_RESULTS (default bench/RESULTS.md), BENCH_DB_URL (a PostgreSQL URL; default SQLite).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
import websocket

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(os.environ.get("CLOUDYA_BUILD", os.path.join(ROOT, "build")), "cloudyad")
STEPS = [int(x) for x in os.environ.get("BENCH_STEPS", "200,500").split(",")]
WINDOW = float(os.environ.get("BENCH_WINDOW", "30"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "100"))
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(HERE, "RESULTS.md"))
SOCK = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")
SECTION = "stats" + os.environ.get("BENCH_SUFFIX", "")
PER_TENANT = 200
S = requests.Session()
S.trust_env = False


def die(msg):
    print("stats.py: " + msg, file=sys.stderr)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def metric(base, name):
    text = S.get(base + "/metrics", timeout=30).text
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Bench:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="cloudya-bench-stats.")
        self.proc = None
        self.instance = None
        self.base = None

    def start(self):
        port = free_port()
        self.base = "http://127.0.0.1:%d" % port
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("CLOUDYA_") and k not in ("DATABASE_URL", "LOG_FORMAT")}
        env.update({
            "PORT": str(port), "HOST": "127.0.0.1", "CLOUDYA_DATA_DIR": self.tmp + "/data",
            "JWT_SECRET": os.urandom(32).hex(), "LOG_LEVEL": "warn",
            "CLOUDYA_CATALOG": os.path.join(ROOT, "tests", "api", "catalog.test.yaml"),
            "CLOUDYA_QUOTA_CONTAINERS": "1000", "CLOUDYA_QUOTA_MEMORY_MB": "100000",
            "CLOUDYA_QUOTA_CPUS": "1000", "DOCKER_SOCKET": SOCK,
        })
        if os.environ.get("BENCH_DB_URL"):
            env["DATABASE_URL"] = os.environ["BENCH_DB_URL"]
        self.log = open(self.tmp + "/cloudyad.log", "wb")
        self.proc = subprocess.Popen([BIN], env=env, stdout=subprocess.DEVNULL, stderr=self.log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        for _ in range(100):
            try:
                S.get(self.base + "/api/health", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            die("cloudyad did not start: " + open(self.tmp + "/cloudyad.log").read()[-2000:])

    def user(self, n):
        r = S.post(self.base + "/api/auth/register", json={
            "email": "bench-stats-%d-%d@example.test" % (n, os.getpid()),
            "password": "bench-password-1", "name": "Bench %d" % n}, timeout=30)
        if r.status_code != 201:
            die("register: %d %s" % (r.status_code, r.text))
        return r.json()["token"]

    def create(self, token, name):
        r = S.post(self.base + "/api/containers/create", json={"serviceType": "nginx", "name": name},
                   headers={"Authorization": "Bearer " + token}, timeout=120)
        if r.status_code != 201:
            die("create %s: %d %s" % (name, r.status_code, r.text))
        return r.json()["containerId"]

    def create_many(self, token, prefix, first, n, par=4):
        with ThreadPoolExecutor(par) as ex:
            return list(ex.map(lambda i: self.create(token, "%s%d" % (prefix, i)), range(first, first + n)))

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.instance:
            def q(*args):
                return subprocess.run(["docker"] + list(args), capture_output=True, text=True).stdout.split()
            ids = q("ps", "-aq", "--filter", "label=com.cloudya.instance=" + self.instance)
            for i in range(0, len(ids), 50):
                subprocess.run(["docker", "rm", "-f", "-v"] + ids[i:i + 50], capture_output=True)
            for v in q("volume", "ls", "-q", "--filter", "label=com.cloudya.instance=" + self.instance):
                subprocess.run(["docker", "volume", "rm", "-f", v], capture_output=True)
            for n in q("network", "ls", "-q", "--filter", "label=com.cloudya.instance=" + self.instance):
                subprocess.run(["docker", "network", "rm", n], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def sampler_cost(b, n):
    # Let it settle: every container found and sampled.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (metric(b.base, "cloudya_sampler_sampled") or 0) < n:
        time.sleep(1)
    sampled = metric(b.base, "cloudya_sampler_sampled")
    c0, t0 = metric(b.base, "cloudya_sampler_cpu_seconds_total"), time.monotonic()
    ticks0 = metric(b.base, "cloudya_sampler_ticks_total")
    tick_walls = []
    while time.monotonic() - t0 < WINDOW:
        time.sleep(1)
        tick_walls.append(metric(b.base, "cloudya_sampler_tick_seconds"))
    c1, t1 = metric(b.base, "cloudya_sampler_cpu_seconds_total"), time.monotonic()
    ticks1 = metric(b.base, "cloudya_sampler_ticks_total")
    pct = 100.0 * (c1 - c0) / (t1 - t0)
    tick_walls.sort()
    return {"n": n, "sampled": int(sampled or 0), "pct": pct, "per1000": pct * 1000.0 / n,
            "tick_ms_p50": 1000 * tick_walls[len(tick_walls) // 2],
            "tick_ms_max": 1000 * tick_walls[-1], "ticks": int(ticks1 - ticks0),
            "hist_mb": metric(b.base, "cloudya_sampler_memory_bytes") / 1048576.0}


def wrk_latency(b, token, cid, threads=2, conns=16):
    lua = os.path.join(HERE, "wrk_auth.lua")
    p = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d" + DURATION, "--latency", "-s", lua,
                        "%s/api/containers/%s/stats" % (b.base, cid)],
                       env=dict(os.environ, CLOUDYA_TOKEN=token), capture_output=True, text=True)
    out = p.stdout

    def lat(pct):
        m = re.search(r"^\s+%s%%\s+([0-9.]+)(us|ms|s)\s*$" % pct, out, re.M)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50": lat(50), "p99": lat(99), "rps": rps, "non2xx": int(non2xx.group(1)) if non2xx else 0}


def engine_stats_call(cid):
    t = []
    for _ in range(3):
        t0 = time.monotonic()
        subprocess.run(["curl", "-sS", "--unix-socket", SOCK, "-o", "/dev/null",
                        "http://docker/v1.41/containers/%s/stats?stream=false" % cid], check=True)
        t.append(time.monotonic() - t0)
    return sorted(t)[1] * 1000


def fan_out(b, token, ids):
    rss0 = rss_kib(b.proc.pid)
    delays, lock = [], threading.Lock()
    stop = threading.Event()
    conns = []
    for _ in range(SUBSCRIBERS):
        ws = websocket.create_connection("ws://%s/api/ws" % b.base[7:], timeout=10,
                                         header=["Authorization: Bearer " + token])
        ws.send(json.dumps({"type": "subscribe", "topic": "stats"}))
        conns.append(ws)

    got = []

    def reader(ws):
        # Only the arrival time is taken here; parsing waits until the end, so the Python
        # clients' own work (100 threads, one interpreter lock) weighs as little as it can.
        ws.settimeout(2)
        while not stop.is_set():
            try:
                m = ws.recv()
            except Exception:
                continue
            with lock:
                got.append((time.time(), m))
    threads = [threading.Thread(target=reader, args=(ws,)) for ws in conns]
    for t in threads:
        t.start()
    time.sleep(3)
    with lock:
        got.clear()
    time.sleep(WINDOW / 2)
    rss1 = rss_kib(b.proc.pid)
    slow = metric(b.base, "cloudya_ws_slow_disconnects_total")
    stop.set()
    for t in threads:
        t.join()
    for ws in conns:
        ws.close()
    for now, m in got:
        j = json.loads(m)
        if j.get("type") != "stats":
            continue
        ts = j["data"]["timestamp"]
        sent = time.mktime(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + int(ts[20:23]) / 1000.0
        delays.append((now - sent) * 1000)
    d = sorted(delays)
    expected = SUBSCRIBERS * len(ids) * (WINDOW / 2)
    return {"n": len(d), "expected": int(expected), "p50": d[len(d) // 2], "p99": d[int(len(d) * 0.99)],
            "max": d[-1], "rss0": rss0 / 1024.0, "rss1": rss1 / 1024.0, "slow": int(slow or 0)}


def main():
    if not os.access(BIN, os.X_OK):
        die(BIN + " not found (run make first)")
    if shutil.which("wrk") is None:
        die("wrk is not installed")
    b = Bench()
    try:
        b.start()
        backend = "PostgreSQL" if os.environ.get("BENCH_DB_URL") else "SQLite"
        load_start = open("/proc/loadavg").read().split()[:3]
        # A tenant's network is a /24: 200 containers per tenant, as many tenants as needed.
        toks = []
        costs = []
        made = 0
        for n in STEPS:
            ids = []
            while made < n:
                if made % PER_TENANT == 0:
                    toks.append(b.user(100 + len(toks)))
                k = min(n - made, PER_TENANT - made % PER_TENANT)
                ids += b.create_many(toks[-1], "c", made, k)
                made += k
            if not costs and ids:
                b.instance = subprocess.run(["docker", "inspect", "-f", '{{index .Config.Labels "com.cloudya.instance"}}', ids[0]],
                                            capture_output=True, text=True).stdout.strip()
                first = ids[0]
            print("== %d running containers: sampler cost over %.0f s" % (n, WINDOW), flush=True)
            costs.append(sampler_cost(b, n))
            print(costs[-1], flush=True)
        print("== GET /api/containers/:id/stats under wrk", flush=True)
        lat = wrk_latency(b, toks[0], first)
        lat1 = wrk_latency(b, toks[0], first, 1, 1)
        eng = engine_stats_call(first)
        print(lat, lat1, "engine call %.0f ms" % eng, flush=True)
        print("== fan-out to %d subscribers" % SUBSCRIBERS, flush=True)
        tok2 = b.user(2)
        ids2 = b.create_many(tok2, "f", 0, 10)
        time.sleep(3)
        fo = fan_out(b, tok2, ids2)
        print(fo, flush=True)
        load_end = open("/proc/loadavg").read().split()[:3]
    finally:
        b.cleanup()

    cpus = os.cpu_count()
    model = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    lines = ["<!-- %s:begin -->" % SECTION, "## Live metrics (%s)" % backend, "",
             "Recorded %s by `bench/stats.py` on %d CPUs (%s); load average %s before, %s after. "
             "Containers are `cloudya/busybox:test` running busybox httpd, created through the API; "
             "the sampler reads their cgroup files (v1, cgroupfs driver on this machine) and network "
             "namespaces once a second." % (time.strftime("%Y-%m-%d %H:%M"), cpus, model,
                                             " ".join(load_start), " ".join(load_end)), "",
             "### Sampler cost at 1 Hz (aim: at most 2% of one core per 1,000 containers)", "",
             "| running containers | sampled per tick | sampler CPU, % of one core | per 1,000 containers | tick wall time p50 / max | history memory |",
             "|---|---|---|---|---|---|"]
    for c in costs:
        lines.append("| %d | %d | %.2f %% | %.2f %% | %.1f / %.1f ms | %.1f MiB |" % (
            c["n"], c["sampled"], c["pct"], c["per1000"], c["tick_ms_p50"], c["tick_ms_max"], c["hist_mb"]))
    lines += ["", "### GET /api/containers/:id/stats (aim: p99 < 2 ms; the seed's implementation takes 2.0 s)", "",
              "| wrk, %s, 500 containers sampled meanwhile | req/s | p50 | p99 | non-2xx |" % DURATION,
              "|---|---|---|---|---|",
              "| cloudyad, 1 connection (latency of one client) | %.0f | %.3f ms | %.3f ms | %d |" % (lat1["rps"], lat1["p50"], lat1["p99"], lat1["non2xx"]),
              "| cloudyad, 16 connections, 2 wrk threads (both CPUs saturated) | %.0f | %.3f ms | %.3f ms | %d |" % (lat["rps"], lat["p50"], lat["p99"], lat["non2xx"]),
              "| one Engine call `GET /containers/ID/stats?stream=false` (curl, median of 3) | — | %.0f ms | — | — |" % eng,
              "", "### WebSocket fan-out", "",
              "%d subscribers (Python websocket-client threads on the same 2 CPUs), each subscribed to the "
              "stats of one tenant's 10 containers: %d messages received in %.0f s (%d expected). "
              "Delivery delay = arrival time minus the sample's timestamp (which is taken when its "
              "cgroup files are read, so it includes the rest of the tick)." % (
                  SUBSCRIBERS, fo["n"], WINDOW / 2, fo["expected"]), "",
              "| delay p50 | delay p99 | delay max | daemon RSS before → with subscribers | slow consumers cut |",
              "|---|---|---|---|---|",
              "| %.1f ms | %.1f ms | %.1f ms | %.1f → %.1f MiB | %d |" % (
                  fo["p50"], fo["p99"], fo["max"], fo["rss0"], fo["rss1"], fo["slow"]),
              "<!-- %s:end -->" % SECTION]
    sec = tempfile.NamedTemporaryFile("w", delete=False, suffix=".md")
    sec.write("\n".join(lines) + "\n")
    sec.close()
    subprocess.run(["bash", "-c", '. "%s/lib.sh"; write_section "$1" "$2" "$3"' % HERE, "x",
                    RESULTS, SECTION, sec.name], check=True)
    os.unlink(sec.name)


if __name__ == "__main__":
    main()
