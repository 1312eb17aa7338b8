"""`cloudya top` end to end: the real binary in a real terminal (tmux, a server of the test's
own on its own socket) against a real cloudyad and the real Docker Engine. The live screen
shows every container with figures, follows the keys (sort by CPU, memory, name, reverse),
sees a container created and removed elsewhere at once (the live channel's events), quits
on q with status 0 and gives the terminal back as it found it, also after SIGTERM or
SIGQUIT; a session ended elsewhere (logout) ends top with the usual sentence. Without a
terminal it prints one snapshot (table or JSON)."""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import wait_for

import helpers
from conftest import run_cli

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

WIDTH, HEIGHT = 160, 40
FIGURE = re.compile(r"\b\d+\.\d\b")  # a CPU% or MEM% figure


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:6])


class Tmux:
    """One tmux server of our own (-L), one session running a shell script."""

    def __init__(self, tmp_path):
        self.sock = "cloudya-top-" + uuid.uuid4().hex[:8]
        self.name = "top"
        self.dir = tmp_path

    def tmux(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.sock] + list(args), capture_output=True,
                              text=True, check=check, timeout=10)

    def start(self, env, command):
        """Runs command (a shell line) with env in a 160x40 pane; the pane stays after the
        command so its screen can still be read."""
        script = self.dir / ("run-%s.sh" % uuid.uuid4().hex[:6])
        lines = ["#!/bin/sh"]
        for k, v in env.items():
            if k in ("TMUX", "TMUX_PANE", "TERM", "COLUMNS", "LINES") or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k):
                continue
            lines.append("export %s=%s" % (k, shlex.quote(v)))
        lines.append("ulimit -c 0")
        lines.append(command)
        script.write_text("\n".join(lines) + "\n")
        script.chmod(0o700)
        self.tmux("-f", "/dev/null", "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT),
                  "-s", self.name, str(script))
        self.tmux("set-option", "-t", self.name, "remain-on-exit", "on")

    def screen(self):
        p = self.tmux("capture-pane", "-p", "-t", self.name, check=False)
        return p.stdout

    def keys(self, *keys):
        self.tmux("send-keys", "-t", self.name, *keys)

    def alive(self):
        p = self.tmux("list-panes", "-t", self.name, "-F", "#{pane_dead}", check=False)
        return p.returncode == 0 and p.stdout.strip() == "0"

    def pane_pid(self):
        return int(self.tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").stdout)

    def close(self):
        self.tmux("kill-server", check=False)


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(tmp_path)
    yield t
    t.close()


def data_rows(screen, names):
    """The names in the order the screen lists them."""
    order = []
    for line in screen.splitlines()[2:]:
        w = line.split()
        if w and w[0] in names:
            order.append(w[0])
    return order


def top_command(cli_bin, tmp_path, after=""):
    """cloudya top; its exit status and sanitizer output land in files; `after` runs next
    in the same terminal."""
    return "%s top 2>%s; echo $? >%s; %s" % (
        shlex.quote(cli_bin), shlex.quote(str(tmp_path / "top.err")),
        shlex.quote(str(tmp_path / "top.status")), after)


def exit_status(tmp_path, timeout=15.0):
    path = tmp_path / "top.status"
    wait_for(lambda: path.exists() and path.read_text().strip() != "", timeout, "top to end")
    return int(path.read_text().strip())


def no_sanitizer_report(tmp_path):
    err = (tmp_path / "top.err").read_text()
    assert not helpers.sanitizer_findings(err), err
    return err


def running_with_figures(cli, names, timeout=30.0):
    """Waits until the daemon has a sample for every one of names (the snapshot shows it)."""
    def ready():
        p = cli("top", "--output", "json")
        if p.returncode != 0:
            return False
        rows = {r["name"]: r for r in json.loads(p.stdout)}
        return all(n in rows and rows[n]["stats"] is not None for n in names)
    wait_for(ready, timeout, "figures for %s" % names)


# ---- one snapshot without a terminal ---------------------------------------------------------

def test_snapshot_table_and_json(cli, make_container):
    a, b = unique("snap-a"), unique("snap-b")
    make_container(a)
    make_container(b)
    running_with_figures(cli, [a, b])
    p = cli("top")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert re.match(r"^NAME\s+STATUS\s+CPU%\s+MEM USAGE / LIMIT\s+MEM%\s+NET RX / TX\s+PIDS$",
                    lines[0]), p.stdout
    for n in (a, b):
        row = [l for l in lines if l.startswith(n + " ")]
        assert row, p.stdout
        assert "running" in row[0] and re.search(r"\d+\.\d%", row[0]) and " / " in row[0], row
    assert "\x1b[" not in p.stdout  # no colour on a pipe

    rows = json.loads(cli("top", "--output", "json").stdout)
    mine = [r for r in rows if r["name"] in (a, b)]
    assert len(mine) == 2
    for r in mine:
        assert set(r) == {"id", "name", "status", "stats"}
        assert r["status"] == "running"
        assert r["stats"]["memory"]["limit"] > 0 and "usage" in r["stats"]["cpu"]


def test_snapshot_without_containers(cli):
    p = cli("top")
    assert p.returncode == 0, p.stderr
    assert "no containers yet" in p.stdout
    assert json.loads(cli("top", "-o", "json").stdout) == []


def test_snapshot_not_logged_in(anon_env):
    p = run_cli(anon_env, "top")
    assert p.returncode == 1
    assert "cloudya login" in p.stderr


# ---- the live screen -----------------------------------------------------------------------------

def test_live_screen_keys_and_quit(cli, cli_env, cli_bin, make_container, tmux, tmp_path):
    names = [unique("top-a"), unique("top-b"), unique("top-c")]
    for n in names:
        make_container(n)
    running_with_figures(cli, names)
    tmux.start(cli_env, top_command(cli_bin, tmp_path, "stty -a >%s" % shlex.quote(str(tmp_path / "stty"))))

    def shows_all():
        s = tmux.screen()
        return s if all(n in s for n in names) and FIGURE.search(s) and "cloudya top" in s else None
    s = wait_for(shows_all, 20, "the containers and their figures", tmux.screen)
    head = s.splitlines()[0]
    assert cli_env.daemon.base in head and "3 containers, 3 running" in head, head
    assert re.search(r"\d\d:\d\d:\d\d", head)
    assert re.search(r"NAME\s+STATUS\s+CPU%\s+MEM\s+MEM%\s+NET RX\s+NET TX\s+PIDS\s+SERVICE",
                     s.splitlines()[1]), s
    assert "q quit" in s.splitlines()[-1] or "q quit" in s

    tmux.keys("n")
    wait_for(lambda: data_rows(tmux.screen(), names) == sorted(names), 5, "sorted by name",
             tmux.screen)
    tmux.keys("r")
    wait_for(lambda: data_rows(tmux.screen(), names) == sorted(names, reverse=True), 5,
             "reversed", tmux.screen)
    tmux.keys("c")
    tmux.keys("m")
    wait_for(lambda: len(data_rows(tmux.screen(), names)) == 3, 5, "rows after c and m",
             tmux.screen)
    tmux.keys("Down", "Up", "NPage", "PPage")
    time.sleep(0.3)
    tmux.keys("q")
    assert exit_status(tmp_path) == 0
    no_sanitizer_report(tmp_path)
    wait_for(lambda: (tmp_path / "stty").exists() and (tmp_path / "stty").read_text(), 5, "stty")
    stty = (tmp_path / "stty").read_text().split()
    assert "echo" in stty and "icanon" in stty, stty
    # the alternate screen is gone: the shell's screen is back, without top's table on it
    assert "NET RX" not in tmux.screen()


def test_live_follows_create_and_remove(cli, cli_env, cli_bin, make_container, tmux, tmp_path):
    first = unique("live-a")
    make_container(first)
    running_with_figures(cli, [first])
    tmux.start(cli_env, top_command(cli_bin, tmp_path))
    wait_for(lambda: first in tmux.screen(), 20, "the first container", tmux.screen)

    second = unique("live-b")
    made = make_container(second)
    wait_for(lambda: second in tmux.screen(), 10, "the new container on the screen", tmux.screen)
    d = cli_env.daemon
    r = d.request("DELETE", "/api/containers/" + made["containerId"], token=cli_env.user["token"],
                  timeout=60)
    assert r.status_code in (200, 204), r.text
    wait_for(lambda: second not in tmux.screen(), 10, "the removed container gone", tmux.screen)
    assert "live channel lost" not in tmux.screen()
    tmux.keys("q")
    assert exit_status(tmp_path) == 0
    no_sanitizer_report(tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP])
def test_terminal_restored_after_signal(cli, cli_env, cli_bin, make_container, tmux, tmp_path, sig):
    name = unique("sig")
    make_container(name)
    stty_file = tmp_path / "stty"
    tmux.start(cli_env, top_command(cli_bin, tmp_path, "stty -a >%s" % shlex.quote(str(stty_file))))
    wait_for(lambda: name in tmux.screen(), 20, "top on the screen", tmux.screen)
    shell = tmux.pane_pid()
    kids = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True).stdout.split()
    assert len(kids) == 1, kids
    os.kill(int(kids[0]), sig)
    status = exit_status(tmp_path)
    if sig == signal.SIGTERM:
        assert status == 130  # a flag, then top's own way out
    else:
        assert status == 128 + sig  # killed by the signal, after the terminal was restored
    wait_for(lambda: stty_file.exists() and stty_file.read_text(), 5, "stty")
    stty = stty_file.read_text().split()
    assert "echo" in stty and "icanon" in stty and "-echo" not in stty, stty
    assert "NET RX" not in tmux.screen()
    if sig == signal.SIGTERM:
        no_sanitizer_report(tmp_path)


def test_logout_elsewhere_ends_top(cli_env, cli_bin, tmux, tmp_path):
    # no container: after the logout the fixture could not remove it
    tmux.start(cli_env, top_command(cli_bin, tmp_path))
    wait_for(lambda: "no containers yet" in tmux.screen(), 20, "top on the screen", tmux.screen)
    r = cli_env.daemon.post("/api/auth/logout", token=cli_env.user["token"])
    assert r.status_code in (200, 204), r.text
    assert exit_status(tmp_path, timeout=20) == 1
    err = no_sanitizer_report(tmp_path)
    assert "cloudya login" in err, err
