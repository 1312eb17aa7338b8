#!/usr/bin/python3
"""`cloudya monitor` and `cloudya diagnose` benchmark: what watching this machine costs.
  1. One sample: `monitor --count N --interval 0.2 --no-record --output json` with N=1 and
     N=51; the CPU time of a sample is the difference of the two medians over the 50 extra
     samples. Again with BENCH_IDLE (1000) extra `sleep 600` processes on the machine, to
     show how the cost grows with the process table.
  2. `monitor --service nginx --count 5 --interval 0.2 --no-record` (against --count 1)
     with an nginx of the script's own (its config, a free port on 127.0.0.1, `nginx -c`).
  3. `diagnose system --output json` (the Docker Engine answers here) and
     `diagnose service nginx` with that nginx running: wall time, CPU, peak RSS.
  4. `monitor report --days 14` (text, `--output json`, `--output r.html`) over 14 days of
     history at one sample every 5 s (tests/host_history_gen.py --continuous, ~240k lines),
     then over 7 days at 60 s: wall time, CPU, peak RSS, the HTML size, the folder's size.
  5. The recording: `monitor --count 51 --interval 0.2` with and without `--no-record`.
CPU is user + system time of the process and the processes it waited for (os.wait4). Peak
RSS is GNU time's %M: a command started by this Python would inherit Python's own high-water
mark, a command forked by GNU time only GNU time's (about 2 MiB). The monitor runs go through
GNU time (its own start, under 1 ms of CPU, is in their CPU figure and cancels out of the
per-sample differences); the one-shot commands are timed directly, their RSS taken from
separate runs under GNU time. Figures are medians over the runs.
Writes the section between <!-- monitor:begin --> and <!-- monitor:end --> of bench/RESULTS.md.
Kills every process it started (the idle sleepers, its nginx), however it exits.
Env: CLOUDYA_BUILD (default <repo>/build), BENCH_RUNS (default 5: the 10 s monitor runs),
BENCH_SHORT_RUNS (default 11: the commands under 2 s), BENCH_IDLE (default 1000),
BENCH_RESULTS.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

sys.path.insert(0, os.path.join(ROOT, "tests"))
from nginx_local import LocalNginx, nginx_pids  # noqa: E402

BUILD = os.environ.get("CLOUDYA_BUILD", os.path.join(ROOT, "build"))
CLI = os.path.join(BUILD, "cloudya")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SHORT = int(os.environ.get("BENCH_SHORT_RUNS", "11"))
NIDLE = int(os.environ.get("BENCH_IDLE", "1000"))
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(HERE, "RESULTS.md"))
HISTGEN = os.path.join(ROOT, "tests", "host_history_gen.py")
GNU_TIME = "/usr/bin/time"
SECTION = "monitor"
BIG = 51  # samples of the long monitor runs: 50 more than the one-sample run

def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2.0


def spawn(argv, env, out=None, rss=False, ok=(0,)):
    """One run of argv (stdout to `out` or /dev/null, stderr to /dev/null). Returns wall ms,
    CPU ms (user + sys from wait4), peak RSS in KiB (when rss: GNU time's %M) and the exit
    code, which must be one of `ok`."""
    tfile = None
    if rss:
        fd, tfile = tempfile.mkstemp(prefix="cloudya-bench-mon-time.")
        os.close(fd)
        argv = [GNU_TIME, "-f", "%M", "-o", tfile] + argv
    acts = [(os.POSIX_SPAWN_OPEN, 1, out or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
             0o600),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=acts)
    _, status, ru = os.wait4(pid, 0)
    wall = (time.perf_counter() - t0) * 1000
    code = os.waitstatus_to_exitcode(status)
    peak = None
    if tfile:
        text = open(tfile).read().split()
        os.unlink(tfile)
        peak = int(text[-1]) if text and text[-1].isdigit() else None
    if code not in ok:
        sys.exit("%s exited with %d" % (" ".join(argv), code))
    return {"wall": wall, "cpu": (ru.ru_utime + ru.ru_stime) * 1000, "sys": ru.ru_stime * 1000,
            "rss": peak, "rc": code}


def last_json(path):
    """The last JSON line of a command's output, or {}."""
    lines = [ln for ln in open(path).read().splitlines() if ln.strip()]
    try:
        return json.loads(lines[-1]) if lines else {}
    except ValueError:
        return {}


def make_env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDYA_")}
    env.update({"CLOUDYA_HOME": home, "NO_COLOR": "1"})
    return env


def count_procs():
    return sum(1 for d in os.listdir("/proc") if d.isdigit())


def one_shot(argv, env, runs, ok=(0,), out=None):
    """A command that ends by itself: `runs` direct runs (wall, CPU), then 3 under GNU time
    (the largest peak RSS). Medians, and the last exit code."""
    direct = [spawn(argv, env, out=out, ok=ok) for _ in range(runs)]
    peak = max(spawn(argv, env, out=out, rss=True, ok=ok)["rss"] or 0 for _ in range(3))
    return {"wall": median([r["wall"] for r in direct]), "cpu": median([r["cpu"] for r in direct]),
            "rss": peak, "rc": direct[-1]["rc"]}


def monitor_runs(env, tmp, runs, record_home=None):
    """The one-sample and the 51-sample runs of `monitor --output json`, alternated (and, with
    record_home, a 51-sample run that records, in that home). Returns per-sample CPU, medians,
    the process count the monitor saw and the lines recorded."""
    base = [CLI, "monitor", "--interval", "0.2", "--output", "json"]
    out = os.path.join(tmp, "monitor.out")
    one, big, rec, procs = [], [], [], []
    for _ in range(runs):
        one.append(spawn(base + ["--count", "1", "--no-record"], env, out=out, rss=True))
        procs.append(last_json(out).get("procs", {}).get("total", 0))
        big.append(spawn(base + ["--count", str(BIG), "--no-record"], env, out=out, rss=True))
        procs.append(last_json(out).get("procs", {}).get("total", 0))
        if record_home:
            rec.append(spawn(base + ["--count", str(BIG)], make_env(record_home), out=out,
                             rss=True))
    res = {"cpu1": median([r["cpu"] for r in one]), "cpu51": median([r["cpu"] for r in big]),
           "rss1": median([r["rss"] for r in one]), "rss51": median([r["rss"] for r in big]),
           "wall51": median([r["wall"] for r in big]), "procs": median(procs),
           "spread51": max(r["cpu"] for r in big) - min(r["cpu"] for r in big),
           "sys51": median([r["sys"] / r["cpu"] * 100 for r in big if r["cpu"] > 0])}
    res["per_sample"] = (res["cpu51"] - res["cpu1"]) / (BIG - 1)
    if record_home:
        res["cpu_rec"] = median([r["cpu"] for r in rec])
        res["rss_rec"] = median([r["rss"] for r in rec])
        mdir = os.path.join(record_home, "monitor")
        lines = 0
        if os.path.isdir(mdir):
            for f in os.listdir(mdir):
                lines += open(os.path.join(mdir, f), "rb").read().count(b"\n")
        res["recorded"] = lines / float(runs)
    return res


class Nginx(LocalNginx):
    """The tests' nginx (tests/nginx_local.py); a failure to start ends the benchmark."""

    def start(self):
        try:
            super().start()
        except RuntimeError as e:
            sys.exit(str(e))


def folder_size(path):
    """Apparent bytes and bytes allocated on disk of the files under path."""
    size = blocks = 0
    for d, _, files in os.walk(path):
        for f in files:
            st = os.stat(os.path.join(d, f))
            size += st.st_size
            blocks += st.st_blocks * 512
    return size, blocks


def history(tmp, days, interval):
    """Writes `days` of history at `interval` s, then times the three kinds of report."""
    home = os.path.join(tmp, "hist-%dd-%ds" % (days, interval))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, HISTGEN, "--home", home, "--days", str(days),
                    "--interval", str(interval), "--continuous"], check=True,
                   stdout=subprocess.DEVNULL)
    gen_s = time.perf_counter() - t0
    mdir = os.path.join(home, "monitor")
    size, alloc = folder_size(mdir)
    lines = sum(open(os.path.join(mdir, f), "rb").read().count(b"\n") for f in os.listdir(mdir))
    env = make_env(home)
    rep = [CLI, "monitor", "report", "--days", str(days)]
    runs = max(3, SHORT // 2)
    res = {"days": days, "interval": interval, "lines": lines, "files": len(os.listdir(mdir)),
           "size": size, "alloc": alloc, "gen_s": gen_s, "runs": runs}
    res["text"] = one_shot(rep, env, runs)
    res["json"] = one_shot(rep + ["--output", "json"], env, runs)
    cwd = os.getcwd()
    os.chdir(home)  # `--output r.html` as a user types it, in the home
    try:
        res["html"] = one_shot(rep + ["--output", "r.html"], env, runs)
        res["html_size"] = os.path.getsize(os.path.join(home, "r.html"))
    finally:
        os.chdir(cwd)
    shutil.rmtree(home, ignore_errors=True)
    return res


def start_idle(n, pids):
    """Starts n children `sleep 600` without a shell, appending each pid to pids as it goes
    (so that an interruption leaves none behind)."""
    sleep = shutil.which("sleep") or "/bin/sleep"
    acts = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
    for _ in range(n):
        pids.append(os.posix_spawn(sleep, [sleep, "600"], os.environ, file_actions=acts))


def stop_idle(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def ms(v):
    return "%.1f ms" % v if v >= 10 else "%.2f ms" % v


def mib(kib):
    return "%.1f MiB" % (kib / 1024.0)


def main():
    if not os.access(CLI, os.X_OK):
        sys.exit("no cloudya binary at %s: build first (make)" % CLI)
    if not os.access(GNU_TIME, os.X_OK):
        sys.exit("no GNU time at %s (apt-get install time)" % GNU_TIME)
    tmp = tempfile.mkdtemp(prefix="cloudya-bench-monitor.")
    env = make_env(os.path.join(tmp, "home"))
    os.makedirs(os.path.join(tmp, "home"))
    load_before = open("/proc/loadavg").read().split()[:3]
    idle, ng = [], None
    rows, notes = [], {}
    try:
        # 1 and 5: one sample, and the recording, on the machine as it is
        base = monitor_runs(env, tmp, RUNS, record_home=os.path.join(tmp, "rec"))
        print("monitor:", base)
        # 1: with the idle processes
        start_idle(NIDLE, idle)
        time.sleep(0.5)
        crowd = monitor_runs(env, tmp, RUNS)
        print("monitor with %d idle:" % NIDLE, crowd)
        stop_idle(idle)
        del idle[:]
        # 2 and 3: nginx
        foreign = nginx_pids()
        ng = Nginx(tmp)
        ng.start()
        nproc_ng = len(nginx_pids()) - len(foreign)
        svc = [CLI, "monitor", "--service", "nginx", "--interval", "0.2", "--no-record"]
        s1, s5 = [], []
        for _ in range(SHORT):
            s1.append(spawn(svc + ["--count", "1"], env, rss=True))
            s5.append(spawn(svc + ["--count", "5"], env, rss=True))
        nginx_mon = {"cpu1": median([r["cpu"] for r in s1]), "cpu5": median([r["cpu"] for r in s5]),
                     "rss5": median([r["rss"] for r in s5])}
        nginx_mon["per_sample"] = (nginx_mon["cpu5"] - nginx_mon["cpu1"]) / 4
        print("monitor --service nginx:", nginx_mon)
        diag_svc = one_shot([CLI, "diagnose", "service", "nginx"], env, SHORT, ok=(0, 1))
        print("diagnose service nginx:", diag_svc)
        ng.stop()
        ng = None
        dout = os.path.join(tmp, "diag.json")
        diag_sys = one_shot([CLI, "diagnose", "system", "--output", "json"], env, SHORT, ok=(0, 1),
                            out=dout)
        try:
            dj = json.load(open(dout))
        except ValueError:
            dj = {}
        docker = next((c for c in dj.get("checks", []) if c.get("id") == "docker"), {})
        print("diagnose system:", diag_sys, docker.get("status"))
        # 4: history
        h14 = history(tmp, 14, 5)
        print("history 14 d:", h14)
        h7 = history(tmp, 7, 60)
        print("history 7 d:", h7)
    finally:
        stop_idle(idle)
        if ng is not None:
            ng.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = open("/proc/loadavg").read().split()[:3]

    P, Pc = base["procs"], crowd["procs"]
    per_proc_us = ((crowd["per_sample"] - base["per_sample"]) * 1000 / (Pc - P)) if Pc > P else 0
    rows.append(("one sample (`monitor --output json --no-record`)",
                 "%d processes on the machine" % P,
                 ms(base["per_sample"]) + " per sample (%s for 1 sample, %s for %d)" % (
                     ms(base["cpu1"]), ms(base["cpu51"]), BIG),
                 "%s (1 sample), %s (%d)" % (mib(base["rss1"]), mib(base["rss51"]), BIG)))
    rows.append(("one sample (`monitor --output json --no-record`)",
                 "%d processes (+%d `sleep 600`)" % (Pc, NIDLE),
                 ms(crowd["per_sample"]) + " per sample (%s for 1 sample, %s for %d)" % (
                     ms(crowd["cpu1"]), ms(crowd["cpu51"]), BIG),
                 "%s (1 sample), %s (%d)" % (mib(crowd["rss1"]), mib(crowd["rss51"]), BIG)))
    rows.append(("recording (`monitor --count %d --interval 0.2`, %.1f s)" % (BIG,
                                                                               base["wall51"] / 1000),
                 "with `--no-record` / recording (%.0f lines written per run)" % base["recorded"],
                 "%s / %s in all (%+.2f ms)" % (ms(base["cpu51"]), ms(base["cpu_rec"]),
                                                base["cpu_rec"] - base["cpu51"]),
                 "%s / %s" % (mib(base["rss51"]), mib(base["rss_rec"]))))
    rows.append(("`monitor --service nginx --count 5 --interval 0.2 --no-record`",
                 "nginx -c (master + 2 workers: %d processes)%s" % (
                     nproc_ng, ", %d other nginx processes" % len(foreign) if foreign else ""),
                 ms(nginx_mon["per_sample"]) + " per sample (%s for 1, %s for 5)" % (
                     ms(nginx_mon["cpu1"]), ms(nginx_mon["cpu5"])),
                 mib(nginx_mon["rss5"])))
    rows.append(("`diagnose system --output json`",
                 "Docker check: %s; overall %s (exit %d)%s" % (
                     docker.get("status", "?"), dj.get("status", "?"), diag_sys["rc"],
                     "".join("; %s: %s" % (c.get("status"), c.get("id"))
                             for c in dj.get("checks", []) if c.get("status") in ("warn", "fail"))),
                 "%s wall, %s CPU" % (ms(diag_sys["wall"]), ms(diag_sys["cpu"])),
                 mib(diag_sys["rss"])))
    rows.append(("`diagnose service nginx`", "nginx running (exit %d); with `nginx -t`" %
                 diag_svc["rc"],
                 "%s wall, %s CPU" % (ms(diag_svc["wall"]), ms(diag_svc["cpu"])),
                 mib(diag_svc["rss"]) + " (with `nginx -t`)"))
    for h in (h14, h7):
        what = "%d days at %d s: %d lines, %d files, %.1f MiB (%.1f MiB on disk)" % (
            h["days"], h["interval"], h["lines"], h["files"], h["size"] / 1048576.0,
            h["alloc"] / 1048576.0)
        for kind, label in (("text", "`monitor report --days %d`" % h["days"]),
                            ("json", "`... --output json`"),
                            ("html", "`... --output r.html` (%.0f KiB)" % (h["html_size"] / 1024.0))):
            r = h[kind]
            rows.append((label, what, "%s wall, %s CPU" % (ms(r["wall"]), ms(r["cpu"])),
                         mib(r["rss"])))
            what = "the same"
    for r in rows:
        print(r)

    model = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    share2 = base["per_sample"] / 2000 * 100
    lines = ["<!-- %s:begin -->" % SECTION, "## Monitoring and diagnosis: `bench/monitor.py`", "",
             "Recorded %s on %d CPUs (%s); Linux %s; load average %s before, %s after. CPU is "
             "user + system time from `wait4` (the command and what it ran); peak RSS is GNU "
             "time's `%%M`; medians of %d runs for the %d-sample monitor runs, %d for the "
             "others (reports: %d), RSS of the one-shot commands the largest of 3." % (
                 time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), model, os.uname().release,
                 " ".join(load_before), " ".join(load_after), RUNS, BIG, SHORT, h14["runs"]), "",
             "| what | conditions | CPU / time | peak RSS |", "|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %s | %s |" % r)
    per_line = 0.0
    if h14["lines"] > h7["lines"]:
        per_line = (h14["text"]["rss"] - h7["text"]["rss"]) * 1024.0 / (h14["lines"] - h7["lines"])
    lines += ["",
              "A sample costs %.2f ms of CPU with %d processes on the machine and %.2f ms with "
              "%d, about %.1f µs more per extra process: each sample reads every process's "
              "`/proc/<pid>/stat`, `status` and `cmdline`, and %.0f %% (%.0f %% with %d) of the "
              "CPU is system time (in the kernel, which writes those files). At the default 2 s "
              "interval "
              "that is %.2f %% of one core with %d processes and %.2f %% with %d. A run of "
              "one sample costs %s in all (start-up included); the peak RSS is %s after one "
              "sample and %s after %d. Watching one service (nginx, %d processes) costs %.2f ms "
              "per sample. Recording changes the CPU of a %d-sample run by %+.2f ms "
              "(%.0f lines written: at most one every 5 s), %s the %.1f ms that runs of "
              "the same command differ by. `diagnose system` takes %s wall, "
              "the Docker Engine's answers included, and `diagnose service nginx` %s, its "
              "`nginx -t` included. The 14-day report reads %d lines (%.0f MiB) in %.2f s "
              "with a peak RSS of %s, against %s for %d lines over 7 days: about %.0f bytes of "
              "memory per recorded sample." % (
                  base["per_sample"], P, crowd["per_sample"], Pc, per_proc_us, base["sys51"],
                  crowd["sys51"], Pc, share2, P, crowd["per_sample"] / 2000 * 100, Pc,
                  ms(base["cpu1"]), mib(base["rss1"]), mib(base["rss51"]), BIG, nproc_ng,
                  nginx_mon["per_sample"], BIG, base["cpu_rec"] - base["cpu51"],
                  base["recorded"],
                  "within" if abs(base["cpu_rec"] - base["cpu51"]) <= base["spread51"] else "beyond",
                  base["spread51"], ms(diag_sys["wall"]), ms(diag_svc["wall"]), h14["lines"],
                  h14["size"] / 1048576.0, h14["text"]["wall"] / 1000, mib(h14["text"]["rss"]),
                  mib(h7["text"]["rss"]), h7["lines"], per_line)]
    lines.append("<!-- %s:end -->" % SECTION)
    sec = tempfile.NamedTemporaryFile("w", delete=False, suffix=".md")
    sec.write("\n".join(lines) + "\n")
    sec.close()
    subprocess.run(["bash", "-c", '. "%s/lib.sh"; write_section "$1" "$2" "$3"' % HERE, "x",
                    RESULTS, SECTION, sec.name], check=True)
    os.unlink(sec.name)


if __name__ == "__main__":
    main()
