"""`cloudya monitor` and `cloudya monitor report` against this machine: the samples are
compared with what /proc and df say at the same time, a busy process of the test's own shows
up at the top, a real nginx (Debian's) is watched with --service, the full screen runs in a
real terminal (tmux), and the HTML report of recorded data is opened in headless Chromium
and photographed. No daemon is needed: these commands read the local machine."""
import glob
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import base_cli_env, cli_binary, run_cli, wait_for
from hostfix import Nginx, full_tmpfs, nginx  # noqa: F401 (fixtures)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GEN = os.path.join(ROOT, "tests", "host_history_gen.py")


@pytest.fixture
def env(tmp_path):
    home = str(tmp_path / "home")
    os.makedirs(home)
    e = base_cli_env(home)
    e["HOME"] = home
    return e


def samples(env, *args, timeout=60):
    p = run_cli(env, "monitor", *args, timeout=timeout)
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stdout.split("\n") if l.strip()]
    return [json.loads(l) for l in lines]


def meminfo():
    out = {}
    for line in open("/proc/meminfo"):
        k, v = line.split(":", 1)
        out[k] = int(v.split()[0]) * 1024
    return out


def df():
    """{mount: (size, avail)} from df -B1."""
    p = subprocess.run(["df", "-B1", "--output=target,size,avail"], capture_output=True,
                       text=True)
    out = {}
    for line in p.stdout.split("\n")[1:]:
        w = line.split()
        if len(w) == 3 and w[1].isdigit():
            out[w[0]] = (int(w[1]), int(w[2]))
    return out


# ---- samples against /proc and df ---------------------------------------------------------------

def test_json_lines_agree_with_proc_and_df(env):
    s = samples(env, "--count", "2", "--interval", "0.5", "--output", "json")
    assert len(s) == 2
    a, b = s
    for k in ("t", "host", "elapsed", "ncpu", "uptime", "cpu", "load", "mem", "disks", "io",
              "net", "procs", "top"):
        assert k in b, k
    assert 0.4 <= b["elapsed"] <= 1.5 and b["t"] > a["t"]
    assert b["ncpu"] == len(b["cpu"]["cores"]) == os.cpu_count()
    assert 0 <= b["cpu"]["total"] <= 100
    assert all(0 <= c <= 100 for c in b["cpu"]["cores"])
    m = meminfo()
    assert b["mem"]["total"] == m["MemTotal"]
    assert abs(b["mem"]["available"] - m["MemAvailable"]) < 512 << 20
    assert b["mem"]["swap_total"] == m["SwapTotal"]
    assert abs(b["uptime"] - float(open("/proc/uptime").read().split()[0])) < 10
    load = [float(x) for x in open("/proc/loadavg").read().split()[:3]]
    assert all(abs(x - y) < 1.5 for x, y in zip(b["load"], load))
    assert b["host"] == os.uname().nodename
    # every file system df shows with a size is there, with df's figures
    mine = {d["mount"]: d for d in b["disks"]}
    seen = df()
    assert "/" in mine
    size, avail = seen["/"]
    assert mine["/"]["total"] == size
    assert abs(mine["/"]["avail"] - avail) < 256 << 20
    # interfaces are /proc/net/dev's
    ifaces = {l.split(":")[0].strip() for l in open("/proc/net/dev").read().split("\n")[2:] if ":" in l}
    assert {n["iface"] for n in b["net"]} == ifaces
    nprocs = len([d for d in os.listdir("/proc") if d.isdigit()])
    assert abs(b["procs"]["total"] - nprocs) <= max(20, nprocs // 5)
    assert 1 <= len(b["top"]) <= 10


def test_non_terminal_prints_json_lines_too(env):
    s = samples(env, "--count", "1", "--interval", "0.3")
    assert len(s) == 1 and "cpu" in s[0]


def test_busy_process_is_at_the_top(env):
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        s = samples(env, "--count", "2", "--interval", "1", "--output", "json")
        top = s[-1]["top"]
        mine = [p for p in top if p["pid"] == burner.pid]
        assert mine, top
        assert mine[0]["cpu"] > 50, mine
        assert top[0]["cpu"] >= mine[0]["cpu"] - 0.01
        assert s[-1]["cpu"]["total"] >= 100.0 / os.cpu_count() * 0.6
    finally:
        burner.kill()
        burner.wait()


def test_network_rates_follow_real_traffic(env):
    """Bytes pushed over loopback during the sample show in lo's rates."""
    import socket
    import threading
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    stop = threading.Event()

    def sink():
        c, _ = srv.accept()
        while c.recv(1 << 16):
            pass

    def pump():
        c = socket.create_connection(srv.getsockname())
        chunk = b"x" * (1 << 16)
        while not stop.is_set():
            c.sendall(chunk)
        c.close()
    threading.Thread(target=sink, daemon=True).start()
    t = threading.Thread(target=pump, daemon=True)
    t.start()
    try:
        s = samples(env, "--count", "2", "--interval", "0.5", "--output", "json")
    finally:
        stop.set()
        t.join(5)
        srv.close()
    lo = [n for n in s[-1]["net"] if n["iface"] == "lo"]
    assert lo and lo[0]["rx_bps"] > 1 << 20, lo


def test_filled_tmpfs_shows_full(env, full_tmpfs):
    s = samples(env, "--count", "1", "--interval", "0.3", "--output", "json")
    d = [d for d in s[0]["disks"] if d["mount"] == full_tmpfs]
    assert d, [x["mount"] for x in s[0]["disks"]]
    assert d[0]["fstype"] == "tmpfs" and d[0]["used_pct"] > 99 and d[0]["avail"] == 0


def test_bad_input(env):
    for args, words in ((["--interval", "0"], "--interval"), (["--interval", "abc"], "--interval"),
                        (["--count", "0"], "--count"), (["--count", "-3"], "--count"),
                        (["--count", "1.5"], "--count"), (["--bogus"], "--bogus"),
                        (["extra"], "extra")):
        p = run_cli(env, "monitor", *args)
        assert p.returncode == 2, (args, p.stderr)
        assert words in p.stderr, p.stderr
    p = run_cli(env, "monitor", "report", "--days", "0")
    assert p.returncode == 2 and "--days" in p.stderr
    p = run_cli(env, "monitor", "--service", "bad name;rm")
    assert p.returncode == 2, p.stderr


# ---- the history ----------------------------------------------------------------------------------

def history_lines(home):
    files = sorted(glob.glob(os.path.join(home, "monitor", "samples-*.jsonl")))
    return files, [json.loads(l) for f in files for l in open(f) if l.strip()]


def test_every_run_records_its_samples(env):
    samples(env, "--count", "3", "--interval", "0.3", "--output", "json")
    files, lines = history_lines(env["CLOUDYA_HOME"])
    assert len(files) == 1 and os.path.basename(files[0]).startswith("samples-20")
    assert os.stat(files[0]).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(files[0])).st_mode & 0o777 == 0o700
    # one sample in 5 s at most is recorded: three taken in a second make one line
    assert len(lines) == 1
    assert lines[0]["v"] == 1 and 0 <= lines[0]["cpu"]["total"] <= 100
    samples(env, "--count", "1", "--interval", "0.3", "--no-record", "--output", "json")
    assert len(history_lines(env["CLOUDYA_HOME"])[1]) == 1


def test_unwritable_history_warns_and_goes_on(env):
    os.makedirs(os.path.join(env["CLOUDYA_HOME"], "monitor"))
    # a folder where the day's file should be: the write fails even as root
    from datetime import datetime, timezone
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    os.makedirs(os.path.join(env["CLOUDYA_HOME"], "monitor", "samples-%s.jsonl" % day))
    p = run_cli(env, "monitor", "--count", "2", "--interval", "0.3", "--output", "json")
    assert p.returncode == 0, p.stderr
    assert len([l for l in p.stdout.split("\n") if l.strip()]) == 2
    assert p.stderr.count("warning") == 1, p.stderr


# ---- the report -----------------------------------------------------------------------------------

def generate(home, days=7, every=60):
    p = subprocess.run(["/usr/bin/python3", GEN, "--home", home, "--days", str(days),
                        "--interval", str(every), "--continuous", "--seed", "7"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_report_text_json_and_html(env, tmp_path):
    generate(env["CLOUDYA_HOME"])
    p = run_cli(env, "monitor", "report", "--days", "7")
    assert p.returncode == 0, p.stderr
    for word in ("CPU", "p95", "max", "avg", "min"):
        assert word in p.stdout, p.stdout
    r = json.loads(run_cli(env, "monitor", "report", "--days", "7", "--output", "json").stdout)
    assert r["coverage"]["samples"] > 1000, r["coverage"]
    out = str(tmp_path / "rapport.html")
    p = run_cli(env, "monitor", "report", "--days", "7", "--output", out)
    assert p.returncode == 0, p.stderr
    assert "rapport.html" in p.stdout
    html = open(out).read()
    assert html.count("<svg") >= 4
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "<script" not in html


def test_report_renders_in_chromium(env, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed (scripts/deps.sh test installs it)", pytrace=False)
    generate(env["CLOUDYA_HOME"], days=3, every=120)
    out = str(tmp_path / "rapport.html")
    assert run_cli(env, "monitor", "report", "--days", "3", "--output", out).returncode == 0
    shot = str(tmp_path / "report.png")
    p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--user-data-dir=" + str(tmp_path / "chrome"),
                        "--screenshot=" + shot, "--window-size=1280,2000", "file://" + out],
                       capture_output=True, text=True, timeout=120)
    assert os.path.exists(shot), p.stderr
    png = open(shot, "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 30000, len(png)
    keep = os.environ.get("CLOUDYA_ARTIFACTS")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, os.path.join(keep, "monitor-report.png"))


def test_report_without_data_says_so(env, tmp_path):
    p = run_cli(env, "monitor", "report", "--days", "7")
    assert p.returncode == 1
    assert "no samples" in p.stderr and "cloudya monitor" in p.stderr


def test_report_skips_damaged_lines(env, tmp_path):
    generate(env["CLOUDYA_HOME"], days=1, every=300)
    f = sorted(glob.glob(os.path.join(env["CLOUDYA_HOME"], "monitor", "samples-*.jsonl")))[-1]
    with open(f, "a") as fh:
        fh.write("{not json\n" + "x" * 100000 + "\n")
    p = run_cli(env, "monitor", "report", "--days", "2", "--output", "json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["read"]["skipped"] >= 2


# ---- --service ------------------------------------------------------------------------------------

def test_service_nginx(env, nginx):
    nginx.start()
    s = samples(env, "--service", "nginx", "--count", "2", "--interval", "0.5", "--output", "json")
    info = s[-1]
    assert info["found"] is True and info["name"] == "nginx"
    pids = {p["pid"] for p in info["processes"]}
    assert nginx.master_pid() in pids
    assert len(pids) >= 3  # the master and two workers
    ports = {(l["address"], l["port"]) for l in info["listening"]}
    assert ("127.0.0.1", nginx.port) in ports, info["listening"]
    assert info["uptime"] >= 0
    assert any("start" in line for line in info["logs"]), info["logs"]
    assert all("cpu" in p and "rss" in p for p in info["processes"])


def test_service_that_does_not_exist(env):
    p = run_cli(env, "monitor", "--service", "no-such-service-xyz", "--count", "1")
    assert p.returncode == 1
    assert "no-such-service-xyz" in p.stderr and "no service" in p.stderr, p.stderr


# ---- the full screen ------------------------------------------------------------------------------

def test_full_screen(env, tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (scripts/deps.sh test installs it)", pytrace=False)
    from test_top import Tmux
    t = Tmux(tmp_path)
    try:
        status = tmp_path / "status"
        t.start(env, "%s monitor --interval 0.5 2>%s; echo $? > %s" % (
            cli_binary(), tmp_path / "err", status))
        screen = wait_for(lambda: (lambda s: s if "FILE SYSTEM" in s and "PID" in s else None)(
            t.screen()), 20, "the monitor screen", t.screen)
        for word in ("CPU", "Mem", "Swap", "load", "NETWORK", "PROCESSES"):
            assert word in screen, screen
        t.keys("m")
        time.sleep(0.5)
        t.keys("q")
        wait_for(lambda: status.exists() and status.read_text().strip() != "", 10, "monitor to end")
        assert status.read_text().strip() == "0", (tmp_path / "err").read_text()
    finally:
        t.close()
