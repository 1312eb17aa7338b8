#!/usr/bin/python3
"""Writes synthetic monitor history: day files samples-YYYY-MM-DD.jsonl in the format of
src/host/mon_history.c (one compact JSON line per sample, "v":1), for the tests and the
benchmark of `cloudya monitor report`.

The host it pretends to be is a small web server: a daily rhythm of CPU and network (busy
in the afternoon, quiet at night), a nightly backup at 02:00 (disk reads, network send, a
`tar` process), memory that creeps up (a leak) until a restart each few days, a data disk
filling slowly, a few CPU spikes, and the monitor itself not always running (sessions of a
few hours separated by gaps) unless --continuous.

  /usr/bin/python3 tests/host_history_gen.py --home /tmp/h --days 7
  /usr/bin/python3 tests/host_history_gen.py --dir /tmp/h/monitor --days 35 --interval 5 \
      --continuous --end 1763700000

Options:
  --home H        write into H/monitor (created 0700)
  --dir D         write into D (created)
  --days N        days of history ending at --end (default 7)
  --end T         unix time of the last sample (default: now)
  --interval S    seconds between recorded samples (default 60)
  --continuous    no gaps: the monitor ran the whole time
  --seed N        random seed (default 1): the same arguments give the same files
  --host NAME     the host name (default web-1)
  --hostile       add names that must be escaped (a process named <script>, a mount with
                  '&' and quotes) and a few lines that are not samples
Standard library only.
"""
import argparse
import json
import math
import os
import random
import sys
import time

GIB = 1024 ** 3

PROCS = [
    # name, base cpu %, base mem %
    ("nginx", 6.0, 0.4),
    ("php-fpm8.2", 9.0, 2.5),
    ("postgres", 5.0, 6.0),
    ("node", 4.0, 4.5),
    ("redis-server", 1.5, 1.2),
    ("dockerd", 0.8, 1.8),
    ("sshd", 0.1, 0.1),
    ("cron", 0.05, 0.05),
]


def fmt(v, prec):
    return "%.*f" % (prec, v)


def jstr(s):
    return json.dumps(s, ensure_ascii=False)


def day_name(t):
    return time.strftime("samples-%Y-%m-%d.jsonl", time.gmtime(t))


class Host:
    def __init__(self, rng, args):
        self.rng = rng
        self.args = args
        self.ncpu = 4
        self.mem_total = 8 * GIB
        self.swap_total = 2 * GIB
        self.data_total = 200 * GIB
        self.root_total = 40 * GIB
        self.data_used = 120 * GIB
        self.leak = 0.0
        self.last_restart = None
        self.spikes = []

    def daily(self, t):
        """0..1: the day's rhythm in local afternoon terms (UTC here)."""
        h = (t % 86400) / 3600.0
        return max(0.0, math.sin((h - 7.0) / 24.0 * 2 * math.pi)) ** 1.5

    def sample(self, t, elapsed):
        rng = self.rng
        a = self.args
        day = self.daily(t)
        hour = (t % 86400) / 3600.0
        backup = 2.0 <= hour < 2.75
        weekly = int(t // 86400) % 7
        # CPU: rhythm, noise, rare spikes lasting a few minutes
        if rng.random() < 0.0004:
            self.spikes.append((t, t + rng.uniform(120, 900), rng.uniform(70, 99)))
        spike = max([s[2] for s in self.spikes if s[0] <= t <= s[1]] or [0])
        self.spikes = [s for s in self.spikes if s[1] >= t]
        cpu = 4 + 38 * day + rng.gauss(0, 3) + (25 if backup else 0)
        cpu = max(cpu, spike + rng.gauss(0, 1.5))
        cpu = min(100.0, max(0.3, cpu))
        user = cpu * 0.68
        system = cpu * 0.22
        iowait = (6.0 if backup else 0.4) + abs(rng.gauss(0, 0.3))
        load1 = max(0.0, cpu / 100 * self.ncpu * rng.uniform(0.8, 1.3) + (1.2 if backup else 0))
        # memory: a leak restarted every ~3 days
        if self.last_restart is None or t - self.last_restart > 3 * 86400 + weekly * 3600:
            self.last_restart = t
            self.leak = 0.0
        self.leak = min(0.45, self.leak + elapsed / (3 * 86400) * 0.40)
        used_pct = min(97.0, 31 + 10 * day + 100 * self.leak + rng.gauss(0, 0.6))
        used = self.mem_total * used_pct / 100
        swap_used = max(0.0, (used_pct - 80) / 20 * 0.6 * self.swap_total)
        # disks: the data disk fills, the backup writes to it
        self.data_used += elapsed * (2500 + (90000 if backup else 0))
        if self.data_used > self.data_total * 0.985:
            self.data_used = self.data_total * 0.70  # someone cleaned up
        disks = [
            ("/", 0.52 * self.root_total, self.root_total, 11.0),
            ("/srv/data", self.data_used, self.data_total, 2.0 + 60 * self.data_used / self.data_total / 2),
            ("/boot", 0.31 * GIB, 0.95 * GIB, 0.4),
        ]
        if a.hostile:
            disks.append(("/mnt/a&b \"q\" <x>", 0.5 * GIB, 1.0 * GIB, 1.0))
        read = 120e3 * day + rng.expovariate(1 / 40e3) + (95e6 if backup else 0)
        write = 450e3 * day + rng.expovariate(1 / 90e3) + (12e6 if backup else 0)
        rx = 2.5e6 * day + rng.expovariate(1 / 150e3)
        tx = 6.0e6 * day + rng.expovariate(1 / 300e3) + (40e6 if backup else 0)
        # top processes
        top = []
        for name, c, m in PROCS:
            top.append((name, max(0.0, c * (0.3 + 1.4 * day) + rng.gauss(0, 1)),
                        m + (self.leak * 80 if name == "node" else 0)))
        if backup:
            top.append(("tar", 60 + rng.gauss(0, 5), 0.3))
        if spike > 0:
            top.append(("python3", spike * self.ncpu * 0.9, 3.0))
        if a.hostile:
            top.append(("<script>", 250.0, 0.1))
        top.sort(key=lambda p: (-p[1], -p[2]))
        pid0 = 1000
        return {
            "t": t, "elapsed": elapsed, "cpu": (cpu, user, system, iowait, 0.0),
            "load": (load1, load1 * 0.9 + 0.1, load1 * 0.8 + 0.2),
            "mem": (used_pct, used, self.mem_total, self.mem_total - used, swap_used,
                    self.swap_total, 100 * swap_used / self.swap_total),
            "disks": disks, "io": [("vda", read, write)],
            "net": [("eth0", rx, tx), ("docker0", rx * 0.05, tx * 0.04)],
            "procs": (210 + int(40 * day), 1 + int(3 * day), 1 if backup else 0, 0,
                      620 + int(200 * day)),
            "top": [(pid0 + 17 * i, n, c, m) for i, (n, c, m) in enumerate(top[:3])],
        }


def line(s, host, ncpu):
    out = ['{"v":1,"t":%s' % fmt(s["t"], 3), '"host":%s' % jstr(host),
           '"elapsed":%s' % fmt(s["elapsed"], 2), '"ncpu":%d' % ncpu]
    c = s["cpu"]
    out.append('"cpu":{"total":%s,"user":%s,"system":%s,"iowait":%s,"steal":%s}'
               % tuple(fmt(v, 1) for v in c))
    out.append('"load":[%s]' % ",".join(fmt(v, 2) for v in s["load"]))
    m = s["mem"]
    out.append('"mem":{"used_pct":%s,"used":%s,"total":%s,"available":%s,"swap_used":%s,'
               '"swap_total":%s,"swap_pct":%s}'
               % (fmt(m[0], 1), fmt(m[1], 0), fmt(m[2], 0), fmt(m[3], 0), fmt(m[4], 0),
                  fmt(m[5], 0), fmt(m[6], 1)))
    disks = []
    for mount, used, total, inodes in s["disks"]:
        avail = total - used
        disks.append('{"mount":%s,"used_pct":%s,"avail":%s,"total":%s,"inodes_pct":%s}'
                     % (jstr(mount), fmt(100 * used / total, 1), fmt(avail, 0), fmt(total, 0),
                        fmt(inodes, 1)))
    out.append('"disks":[%s]' % ",".join(disks))
    out.append('"io":[%s]' % ",".join('{"device":%s,"read_bps":%s,"write_bps":%s}'
                                      % (jstr(d), fmt(r, 0), fmt(w, 0)) for d, r, w in s["io"]))
    out.append('"net":[%s]' % ",".join('{"iface":%s,"rx_bps":%s,"tx_bps":%s}'
                                       % (jstr(i), fmt(r, 0), fmt(t, 0)) for i, r, t in s["net"]))
    p = s["procs"]
    out.append('"procs":{"total":%d,"running":%d,"blocked":%d,"zombie":%d,"threads":%d}' % p)
    out.append('"top":[%s]' % ",".join('{"pid":%d,"name":%s,"cpu":%s,"mem_pct":%s}'
                                       % (pid, jstr(n), fmt(c, 1), fmt(mm, 2))
                                       for pid, n, c, mm in s["top"]))
    return ",".join(out) + "}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home")
    ap.add_argument("--dir")
    ap.add_argument("--days", type=float, default=7)
    ap.add_argument("--end", type=float, default=None)
    ap.add_argument("--interval", type=float, default=60)
    ap.add_argument("--continuous", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--host", default="web-1")
    ap.add_argument("--hostile", action="store_true")
    a = ap.parse_args()
    if (a.home is None) == (a.dir is None):
        ap.error("give exactly one of --home and --dir")
    if a.interval <= 0 or a.days <= 0:
        ap.error("--interval and --days must be positive")
    d = a.dir if a.dir else os.path.join(a.home, "monitor")
    os.makedirs(d, mode=0o700, exist_ok=True)
    rng = random.Random(a.seed)
    end = a.end if a.end is not None else time.time()
    t = end - a.days * 86400
    host = Host(rng, a)
    files = {}
    lines = 0
    session_end = t + rng.uniform(4, 30) * 3600
    try:
        while t <= end:
            if not a.continuous and t > session_end:
                t += rng.uniform(0.5, 10) * 3600  # the monitor was not running
                session_end = t + rng.uniform(4, 30) * 3600
                continue
            name = day_name(t)
            f = files.get(name)
            if f is None:
                f = files[name] = open(os.path.join(d, name), "a", encoding="utf-8")
                os.chmod(os.path.join(d, name), 0o600)
            f.write(line(host.sample(t, a.interval), a.host, host.ncpu))
            lines += 1
            if a.hostile and lines % 997 == 0:
                f.write('{"v":1,"t":"not a time"}\nnot json at all\n{"v":2,"t":%s}\n' % fmt(t, 3))
            t += a.interval
    finally:
        for f in files.values():
            f.close()
    print("%d samples in %d files under %s" % (lines, len(files), d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
