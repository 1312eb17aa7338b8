#!/usr/bin/python3
"""Command-line benchmark: how long `cloudya` takes to start and to answer, and how much
memory it uses, against a real cloudyad and the real Docker Engine (Debian's python3).
  1. Start-up: `cloudya --version`, next to `docker --version` (the Go client), and
     `python3 -c pass` (the interpreter start-up a Python CLI pays before its first line).
  2. `cloudya ps`, `ps -o json`, `top` (snapshot) and `stats` for a tenant with
     BENCH_CONTAINERS running containers, next to `docker ps` on the same host and to the
     bare HTTP request made with curl.
Each command is run BENCH_RUNS times in a row for the wall time (p50, p95), then 5 times
under GNU time for the peak RSS. Writes the section between <!-- cli:begin -->
and <!-- cli:end --> of bench/RESULTS.md. Removes every container it made, however it exits.
Env: CLOUDYA_BUILD (default <repo>/build), BENCH_CONTAINERS (default 50), BENCH_RUNS
(default 100), BENCH_RESULTS (default bench/RESULTS.md).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import stats  # noqa: E402  (its Bench starts and cleans up a daemon)

BUILD = os.environ.get("CLOUDYA_BUILD", os.path.join(stats.ROOT, "build"))
CLI = os.path.join(BUILD, "cloudya")
NCONT = int(os.environ.get("BENCH_CONTAINERS", "50"))
RUNS = int(os.environ.get("BENCH_RUNS", "100"))
SECTION = "cli"


def peak_rss_kib(argv, env, runs=5):
    """The largest peak RSS of `runs` runs, from GNU time (whose own small process forks the
    command: a child forked from this Python would start with Python's 20 MiB counted)."""
    out = tempfile.NamedTemporaryFile(delete=False)
    out.close()
    peak = 0
    for _ in range(runs):
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name] + argv, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        peak = max(peak, int(open(out.name).read().split()[-1]))
    os.unlink(out.name)
    return peak


def measure(argv, env, runs=RUNS):
    """Runs argv `runs` times; returns p50 and p95 wall ms and the peak RSS in KiB."""
    walls = []
    devnull = os.open(os.devnull, os.O_WRONLY)
    for _ in range(runs):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        _, status = os.waitpid(pid, 0)
        walls.append((time.perf_counter() - t0) * 1000)
        if os.waitstatus_to_exitcode(status) != 0:
            stats.die("%s exited with %d" % (" ".join(argv), os.waitstatus_to_exitcode(status)))
    os.close(devnull)
    walls.sort()
    return {"p50": walls[len(walls) // 2], "p95": walls[int(len(walls) * 0.95) - 1],
            "rss": peak_rss_kib(argv, env)}


def main():
    if not os.access(CLI, os.X_OK):
        stats.die("no cloudya binary at %s: build first (make)" % CLI)
    b = stats.Bench()
    home = tempfile.mkdtemp(prefix="cloudya-bench-cli.")
    rows = []
    try:
        b.start()
        token = b.user(1)
        ids = b.create_many(token, "c", 0, NCONT)
        b.instance = subprocess.run(["docker", "inspect", "-f", '{{index .Config.Labels "com.cloudya.instance"}}',
                                     ids[0]], capture_output=True, text=True).stdout.strip()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDYA_")}
        env.update({"CLOUDYA_HOME": home, "CLOUDYA_API_TOKEN": token, "NO_COLOR": "1"})
        subprocess.run([CLI, "configure", "--api-url", b.base], env=env, check=True, capture_output=True)
        # every container sampled once, so stats and top have figures
        time.sleep(2)
        py = shutil.which("python3") or "/usr/bin/python3"
        cases = [
            ("start-up", "`/bin/true` (the cost of fork and exec here)", ["/bin/true"]),
            ("start-up", "`cloudya --version`", [CLI, "--version"]),
            ("start-up", "`docker --version` (Go client)", ["docker", "--version"]),
            ("start-up", "`python3 -c pass` (interpreter start-up only)", [py, "-c", "pass"]),
            ("list %d containers" % NCONT, "`cloudya ps`", [CLI, "ps"]),
            ("list %d containers" % NCONT, "`cloudya ps -o json`", [CLI, "ps", "-o", "json"]),
            ("list %d containers" % NCONT, "`cloudya top` (snapshot, with stats)", [CLI, "top"]),
            ("list %d containers" % NCONT, "`curl` GET /api/containers (the request alone)",
             ["curl", "-sf", "-o", "/dev/null", "-H", "Authorization: Bearer " + token, b.base + "/api/containers"]),
            ("list %d containers" % NCONT, "`docker ps` (every container on the host)", ["docker", "ps"]),
            ("one container", "`cloudya stats c0`", [CLI, "stats", "c0"]),
            ("one container", "`cloudya logs c0 --tail 10`", [CLI, "logs", "c0", "--tail", "10"]),
        ]
        for group, label, argv in cases:
            m = measure(argv, env)
            rows.append((group, label, m))
            print("%-22s %-52s p50 %7.2f ms  p95 %7.2f ms  rss %6d KiB" % (group, label, m["p50"], m["p95"], m["rss"]))
        host_containers = len(subprocess.run(["docker", "ps", "-q"], capture_output=True, text=True).stdout.split())
    finally:
        b.cleanup()
        shutil.rmtree(home, ignore_errors=True)
    model = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    lines = ["<!-- %s:begin -->" % SECTION, "## Command line: `bench/cli.py`", "",
             "Recorded %s on %d CPUs (%s), SQLite backend. Each command run %d times in a row, "
             "output to /dev/null; wall time from fork to exit; peak RSS (max of 5 runs) from GNU time. The tenant has "
             "%d running busybox containers (%d running on the host in all, which is what "
             "`docker ps` lists)." % (time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), model, RUNS,
                                       NCONT, host_containers), "",
             "| what | command | p50 | p95 | peak RSS |", "|---|---|---|---|---|"]
    for group, label, m in rows:
        lines.append("| %s | %s | %.2f ms | %.2f ms | %.1f MiB |" % (group, label, m["p50"], m["p95"], m["rss"] / 1024.0))
    lines.append("<!-- %s:end -->" % SECTION)
    sec = tempfile.NamedTemporaryFile("w", delete=False, suffix=".md")
    sec.write("\n".join(lines) + "\n")
    sec.close()
    subprocess.run(["bash", "-c", '. "%s/lib.sh"; write_section "$1" "$2" "$3"' % HERE, "x",
                    stats.RESULTS, SECTION, sec.name], check=True)
    os.unlink(sec.name)


if __name__ == "__main__":
    main()
