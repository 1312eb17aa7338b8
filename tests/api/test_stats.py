"""Live metrics end to end: real containers under real load (a busy loop, a memory hog,
HTTP traffic) on the real Docker Engine, read by the daemon's cgroup sampler; history,
the list with stats, the admin's platform stats, /metrics checked by promtool, and the
Engine fallback source.
"""
import calendar
import re
import shutil
import subprocess
import time

import pytest

import helpers
from helpers import assert_error, http, wait_for

STATS_KEYS = {"cpu", "memory", "network", "timestamp"}


@pytest.fixture(scope="module")
def sd(tmp_path_factory, cloudyad_binary):
    with helpers.module_daemon(tmp_path_factory, "stats") as d:
        yield d


def name():
    return "s" + helpers.random_secret(8).lower().replace("_", "x").replace("-", "x")


def create(d, token, service, cname=None):
    r = d.post("/api/containers/create", token=token,
               json={"serviceType": service, "name": cname or name()}, timeout=60)
    assert r.status_code == 201, r.text
    return r.json()


def stats_when(d, token, cid, pred, timeout=15.0, what="stats"):
    def attempt():
        r = d.get("/api/containers/%s/stats" % cid, token=token)
        if r.status_code != 200:
            return None
        j = r.json()
        return j if pred(j) else None
    return wait_for(attempt, timeout=timeout, what=what)


def docker_stats(cid):
    out = helpers.docker("stats", "--no-stream", "--format", "{{.CPUPerc}}|{{.MemUsage}}", cid)
    cpu, mem = out.strip().split("|")
    used = mem.split("/")[0].strip()
    m = re.match(r"([0-9.]+)([KMG]i?B|B)", used)
    mult = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "kB": 1000, "KB": 1000,
            "MB": 1000 ** 2, "GB": 1000 ** 3}[m.group(2)]
    return float(cpu.rstrip("%")), float(m.group(1)) * mult


def test_stats_shape_and_formatting(sd):
    u = sd.new_user()
    c = create(sd, u["token"], "nginx")
    j = stats_when(sd, u["token"], c["containerId"], lambda j: True, what="a first sample")
    assert set(j) >= STATS_KEYS
    assert set(j["memory"]) >= {"usage", "limit", "percent", "usageFormatted", "limitFormatted"}
    assert set(j["network"]) >= {"rxBytes", "txBytes", "rxFormatted", "txFormatted"}
    assert j["memory"]["limit"] == 64 * 1024 * 1024
    assert j["memory"]["limitFormatted"] == "64 MB"
    assert 0 < j["memory"]["usage"] < j["memory"]["limit"]
    assert re.match(r"^[0-9.]+ (B|KB|MB|GB)$", j["memory"]["usageFormatted"])
    assert abs(j["memory"]["percent"] - 100.0 * j["memory"]["usage"] / j["memory"]["limit"]) < 0.05
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", j["timestamp"])
    assert j["pids"]["current"] >= 1 and j["pids"]["limit"] > 0
    assert j["cpu"]["usage"] >= 0


def test_busy_loop_shows_up_within_two_seconds_like_docker_stats(sd):
    u = sd.new_user()
    c = create(sd, u["token"], "busy")
    first = stats_when(sd, u["token"], c["containerId"], lambda j: True, what="a first sample")
    # The first sample (two readings: the Engine's start event makes the sampler take the
    # first at once) is stamped within 2 s of the container's start, by the host's clock.
    started = helpers.docker_inspect(c["containerId"])["State"]["StartedAt"]
    start_s = calendar.timegm(time.strptime(started[:19], "%Y-%m-%dT%H:%M:%S")) + float("0." + started[20:29].rstrip("Z"))
    stamp = first["timestamp"]
    stamp_s = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + int(stamp[20:23]) / 1000.0
    print("first sample %.3f s after the start" % (stamp_s - start_s))
    assert 0 < stamp_s - start_s < 2.0, (started, stamp)
    j = stats_when(sd, u["token"], c["containerId"], lambda j: j["cpu"]["usage"] > 50,
                   what="the busy loop's CPU")
    # Compare with the Engine's own view (docker stats takes about two seconds).
    dcpu, dmem = docker_stats(c["containerId"])
    j = sd.get("/api/containers/%s/stats" % c["containerId"], token=u["token"]).json()
    assert 70 <= j["cpu"]["usage"] <= 115, j
    assert abs(j["cpu"]["usage"] - dcpu) < 25, (j["cpu"], dcpu)
    assert abs(j["memory"]["usage"] - dmem) < max(2 * 1024 * 1024, 0.2 * dmem), (j["memory"], dmem)


def test_memory_hog_and_traffic(sd):
    u = sd.new_user()
    c = create(sd, u["token"], "hog")
    j = stats_when(sd, u["token"], c["containerId"],
                   lambda j: j["memory"]["usage"] > 30 * 1024 * 1024, timeout=30,
                   what="the hog's memory")
    _, dmem = docker_stats(c["containerId"])
    j = sd.get("/api/containers/%s/stats" % c["containerId"], token=u["token"]).json()
    assert abs(j["memory"]["usage"] - dmem) < max(4 * 1024 * 1024, 0.15 * dmem), (j["memory"], dmem)
    assert j["memory"]["limit"] == 192 * 1024 * 1024
    # HTTP traffic to the container's port shows up in its network counters.
    before = j["network"]
    url = c["url"]
    wait_for(lambda: http("GET", url, timeout=2).status_code in (200, 404), timeout=10,
             what="the container to answer")
    for _ in range(50):
        http("GET", url, timeout=2)
    after = stats_when(sd, u["token"], c["containerId"],
                       lambda j: j["network"]["rxBytes"] > before["rxBytes"] + 3000
                       and j["network"]["txBytes"] > before["txBytes"] + 3000,
                       what="network counters to grow")
    assert after["network"]["rxBytes"] > 0


def test_history_fills(sd):
    u = sd.new_user()
    c = create(sd, u["token"], "busy")
    cid = c["containerId"]

    def enough():
        r = sd.get("/api/containers/%s/stats/history?range=15m" % cid, token=u["token"])
        assert r.status_code == 200
        j = r.json()
        return j if len(j["points"]) >= 4 else None
    j = wait_for(enough, timeout=15, what="four points of history")
    assert j["step"] == 1 and j["range"] == "15m" and j["containerId"] == cid
    p = j["points"][-1]
    assert set(p) == {"t", "cpu", "memory", "rxBytes", "txBytes"}
    assert p["cpu"] > 30 and p["memory"] > 0
    ts = [x["t"] for x in j["points"]]
    assert ts == sorted(ts) and len(set(ts)) == len(ts)
    for rng, step in (("1h", 10), ("24h", 60), ("7d", 300)):
        r = sd.get("/api/containers/%s/stats/history?range=%s" % (cid, rng), token=u["token"])
        assert r.status_code == 200 and r.json()["step"] == step
        assert len(r.json()["points"]) >= 1
    assert_error(sd.get("/api/containers/%s/stats/history?range=2y" % cid, token=u["token"]),
                 400, "invalid_field")
    # The tenant's history sums its containers.
    r = sd.get("/api/stats/history?range=15m", token=u["token"])
    assert r.status_code == 200
    t = r.json()
    assert t["clientId"] == u["user"]["clientId"] and t["points"]
    assert t["points"][-1]["cpu"] > 30


def test_list_with_stats(sd):
    u = sd.new_user()
    c = create(sd, u["token"], "nginx")
    stats_when(sd, u["token"], c["containerId"], lambda j: True)
    rows = sd.get("/api/containers?stats=1", token=u["token"]).json()
    assert len(rows) == 1 and rows[0]["stats"] is not None
    assert rows[0]["stats"]["memory"]["usage"] > 0
    plain = sd.get("/api/containers", token=u["token"]).json()
    assert "stats" not in plain[0]
    sd.post("/api/containers/%s/stop" % c["containerId"], token=u["token"], timeout=30)
    rows = sd.get("/api/containers?stats=1", token=u["token"]).json()
    assert rows[0]["stats"] is None


def test_stats_of_stopped_and_foreign_containers(sd):
    a, b = sd.new_user(), sd.new_user()
    c = create(sd, a["token"], "nginx")
    cid = c["containerId"]
    stats_when(sd, a["token"], cid, lambda j: True)
    for path in ("/api/containers/%s/stats", "/api/containers/%s/stats/history"):
        assert_error(sd.get(path % cid, token=b["token"]), 404, "not_found")
        assert_error(sd.get(path % cid), 401, "unauthenticated")
    assert sd.get("/api/containers/%s/stats" % cid, token=sd.admin_token).status_code == 200
    r = sd.post("/api/containers/%s/stop" % cid, token=a["token"], timeout=30)
    assert r.status_code == 200
    assert_error(sd.get("/api/containers/%s/stats" % cid, token=a["token"]), 409, "not_running")
    # History stays after the stop.
    h = sd.get("/api/containers/%s/stats/history" % cid, token=a["token"]).json()
    assert len(h["points"]) >= 1
    # And tenant b's own history is empty.
    assert sd.get("/api/stats/history", token=b["token"]).json()["points"] == []


def test_admin_stats_real_values(sd):
    u = sd.new_user()
    create(sd, u["token"], "nginx")
    assert_error(sd.get("/api/admin/stats", token=u["token"]), 403, "forbidden")
    assert_error(sd.get("/api/admin/stats"), 401, "unauthenticated")
    j = wait_for(lambda: (lambda j: j if j["systemLoad"]["cpu"] > 0 else None)(
        sd.get("/api/admin/stats", token=sd.admin_token).json()), timeout=5,
        what="a host CPU figure")
    assert set(j) >= {"totalContainers", "runningContainers", "totalClients", "activeClients",
                      "systemLoad"}
    assert j["runningContainers"] >= 1 and j["totalContainers"] >= j["runningContainers"]
    assert j["totalClients"] >= 2 and 1 <= j["activeClients"] <= j["totalClients"]
    sl = j["systemLoad"]
    assert 0 < sl["cpu"] <= 100 and 0 < sl["memory"] < 100 and 0 < sl["disk"] < 100
    # Compare with the kernel's own figures.
    mem = dict(l.split(":", 1) for l in open("/proc/meminfo").read().splitlines())
    total = int(mem["MemTotal"].split()[0])
    avail = int(mem["MemAvailable"].split()[0])
    assert abs(sl["memory"] - 100.0 * (total - avail) / total) < 5
    df = shutil.disk_usage(sd.data_dir)
    assert abs(sl["disk"] - 100.0 * df.used / (df.used + df.free)) < 2


def metrics_text(d, **kw):
    r = d.get("/metrics", **kw)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return r.text


def test_metrics_promtool_and_values(sd):
    u = sd.new_user()
    c = create(sd, u["token"], "nginx", "metric-me")
    stats_when(sd, u["token"], c["containerId"], lambda j: True)
    sd.get("/api/containers", token=u["token"])
    sd.get("/no/such/route")
    text = metrics_text(sd)
    assert 'cloudya_http_requests_total{method="GET",route="/api/containers",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "cloudya_http_request_duration_seconds_bucket{" in text
    assert re.search(r'cloudya_container_memory_usage_bytes\{client_id="%s",service_type="nginx",'
                     r'name="metric-me",container_id="%s"\} [0-9.e+]+' % (u["user"]["clientId"],
                                                                          c["containerId"]), text)
    assert "cloudya_container_cpu_percent{" in text
    assert "cloudya_container_network_receive_bytes_total{" in text
    assert re.search(r"^process_resident_memory_bytes [0-9.e+]+$", text, re.M)
    assert re.search(r"^cloudya_store_errors_total 0$", text, re.M)
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: scripts/deps.sh test installs Debian's prometheus"
    p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    # promtool prints lint advice on stdout; problems make it fail.
    assert p.returncode == 0, p.stdout + p.stderr


def test_metrics_loopback_only_or_token(start_daemon):
    d = start_daemon()
    assert d.get("/metrics").status_code == 200  # the tests reach it on 127.0.0.1
    token = helpers.random_secret(24)
    d2 = start_daemon(env={"CLOUDYA_METRICS_TOKEN": token})
    assert_error(d2.get("/metrics"), 401, "unauthenticated")
    assert_error(d2.get("/metrics", headers={"Authorization": "Bearer wrong-" + token}), 401,
                 "unauthenticated")
    assert d2.get("/metrics", headers={"Authorization": "Bearer " + token}).status_code == 200


def test_metrics_refused_off_loopback(start_daemon):
    """Reached through a non-loopback address of this host, /metrics is refused."""
    ip = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    ip = [a for a in ip if not a.startswith("127.") and ":" not in a]
    if not ip:
        pytest.skip("this host has no non-loopback IPv4 address")
    d = start_daemon(env={"HOST": "0.0.0.0"})
    r = http("GET", "http://%s:%d/metrics" % (ip[0], d.port))
    assert_error(r, 403, "forbidden")
    assert d.get("/metrics").status_code == 200


def test_engine_source_fallback(start_daemon):
    """CLOUDYA_STATS_SOURCE=engine reads the Engine's one-shot stats (what a remote Engine
    gets), and health says so."""
    d = start_daemon(env={"CLOUDYA_STATS_SOURCE": "engine"})
    u = d.new_user()
    c = create(d, u["token"], "busy")
    j = stats_when(d, u["token"], c["containerId"], lambda j: j["cpu"]["usage"] > 50,
                   what="busy CPU through the Engine")
    assert j["memory"]["limit"] == 64 * 1024 * 1024
    h = wait_for(lambda: (lambda h: h if h["services"]["stats"] == "engine" else None)(
        d.get("/api/health").json()), timeout=5, what="health to say engine")
    assert h["status"] == "healthy"
    helpers.engine_cleanup(d.instance_id())


def test_bad_stats_source_is_refused(cloudyad_binary, tmp_path):
    env = helpers.base_env()
    env.update({"CLOUDYA_DATA_DIR": str(tmp_path), "CLOUDYA_STATS_SOURCE": "guess"})
    p = helpers.run_cloudyad(["-n"], env)
    assert p.returncode == 1 and "CLOUDYA_STATS_SOURCE" in p.stderr
