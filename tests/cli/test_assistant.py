"""The assistant on the command line end to end: `cloudya ask`, `cloudya tokens info` and both
chats, the real binary against a real cloudyad (its offline knowledge base, its token
accounting, its sandbox on the real Docker Engine). Answers in French and English, rendered
for a terminal (colours) and for a pipe (plain, wrapped to COLUMNS), --output json, nothing
matched (exit 1), the request from standard input, usage errors that spend nothing,
`ask -e` answered y and n on a pseudo-terminal (a Pro tenant), --yes without a terminal,
the plan gate for a free tenant, a dangerous action never offered, an empty balance; the
plain chat driven through standard input (two requests, a follow-up using the context,
`clear`, `quit`) and on a pseudo-terminal (history file of mode 0600 recalled with the
arrow, Ctrl+C cancelling a line); the full-screen chat in tmux (a request and its action,
a follow-up, execution with -e, Escape, a resize, Ctrl+L clearing, Ctrl+C quitting with the
terminal restored)."""
import fcntl
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import termios
import time
import uuid

import pytest

import helpers
from conftest import run_cli
from conftest import wait_for as conftest_wait_for

ESC = "\x1b["
KERNEL = "show the kernel version"  # a safe action (uname) the sandbox can run
FR = "Créer un bucket S3 sécurisé"
EN = "list running docker containers"
NOTHING = "xq zzv plorf"
SCALE = "scale my deployment web to 5 replicas"
FOLLOWUP = "and with 10 replicas?"
DANGEROUS = "destroy all my terraform infrastructure"


def ok(p):
    assert p.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr)
    return p


def fails(p, code, *words):
    assert p.returncode == code, "expected exit %d, got %d\nstdout: %s\nstderr: %s" % (
        code, p.returncode, p.stdout, p.stderr)
    for w in words:
        assert w in p.stderr, "%r not in stderr: %s" % (w, p.stderr)
    return p


def api_tokens(env):
    r = env.daemon.get("/api/tokens/info", token=env.user["token"])
    assert r.status_code == 200, r.text
    return r.json()


def set_plan(env, plan):
    d = env.daemon
    r = d.request("PATCH", "/api/admin/clients/" + env.user["user"]["clientId"],
                  token=d.admin_token, json={"plan": plan})
    assert r.status_code == 200, r.text


@pytest.fixture
def pro_env(cli_env):
    set_plan(cli_env, "pro")
    return cli_env


# ---- a pseudo-terminal --------------------------------------------------------------------------

class Pty:
    """cloudya on a pseudo-terminal of 100x30: read_until a text, send keys, wait for the end."""

    def __init__(self, env, args, cols=100, rows=30):
        self.out = b""
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            env = dict(env)
            env.setdefault("TERM", "xterm")
            os.execve(helpers.BUILD + "/cloudya", ["cloudya"] + list(args), env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.status = None

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        self.out += chunk
        return True

    def text(self):
        return self.out.decode(errors="replace")

    def read_until(self, what, timeout=30.0, start=0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if what in self.text()[start:]:
                return self.text()
            if not self._read(0.1):
                break
        if what in self.text()[start:]:
            return self.text()
        pytest.fail("timed out waiting for %r on the terminal:\n%s" % (what, self.text()),
                    pytrace=False)

    def send(self, s):
        os.write(self.fd, s.encode())

    def wait(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                while self._read(0.05) and select.select([self.fd], [], [], 0)[0]:
                    pass
                self.status = os.waitstatus_to_exitcode(st)
                os.close(self.fd)
                found = helpers.sanitizer_findings(self.text())
                assert not found, "sanitizer report:\n%s" % self.text()
                return self.status
            self._read(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        pytest.fail("cloudya did not end:\n%s" % self.text(), pytrace=False)


# ---- ask ------------------------------------------------------------------------------------------

def test_ask_in_french_and_english(cli, cli_env):
    for text, words, practice in ((FR, ["aws s3"], "Bonne pratique"),
                                  (EN, ["docker ps"], "Best practice")):
        p = ok(cli("ask", text))
        lines = p.stdout.splitlines()
        for w in words:
            assert w in lines[0], p.stdout  # the action comes first, alone on its line
        assert practice in p.stdout, p.stdout
        assert ESC not in p.stdout and "**" not in p.stdout, p.stdout  # plain in a pipe
        assert re.search(r"^tokens: \d+ used \(\d+ prompt \+ \d+ completion\), \d+ left",
                         p.stdout, re.M), p.stdout
        assert p.stderr == "", p.stderr
    assert api_tokens(cli_env)["used_this_period"] > 0


def test_ask_words_are_joined_and_stdin_is_read(cli):
    p = ok(cli("ask", "list", "running", "docker", "containers"))
    assert "docker ps" in p.stdout.splitlines()[0]
    p = ok(cli("ask", "-", input=EN + "\n"))
    assert "docker ps" in p.stdout.splitlines()[0]


def test_ask_json_is_the_servers_answer(cli, cli_env):
    j = json.loads(ok(cli("ask", EN, "--output", "json")).stdout)
    assert j["matched"] is True and "docker ps" in j["action"], j
    assert j["command_id"].startswith("c_") and j["execution_status"] == "dry_run"
    assert set(j["token_usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens",
                                     "remaining_balance"}
    assert j["token_usage"]["remaining_balance"] == api_tokens(cli_env)["balance"]
    j = json.loads(ok(cli("ask", FR, "-o", "json", "--lang", "en")).stdout)
    assert j["lang"] == "en" and "Best practice" in j["explanation"], j


def test_explanation_wrapped_to_columns(cli_env):
    env = dict(cli_env)
    env["COLUMNS"] = "44"
    p = ok(run_cli(env, "ask", FR))
    lines = p.stdout.splitlines()
    assert len(lines) > 4
    for line in lines[1:]:  # the action is never cut, so that it can be copied
        assert len(line) <= 44, (line, p.stdout)


def test_nothing_matched_exits_1_with_the_explanation(cli):
    p = cli("ask", NOTHING)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stdout.strip() and "tokens:" in p.stdout, p.stdout
    p = cli("ask", NOTHING, "-o", "json")
    assert p.returncode == 1
    j = json.loads(p.stdout)
    assert j["matched"] is False and j["action"] == "" and j["explanation"]


def test_usage_errors_spend_nothing(cli, cli_env):
    fails(cli("ask", "   "), 2, "empty")
    fails(cli("ask", "é" * 4001), 2, "4000")
    fails(cli("ask", "-", input="a" * 20000), 2, "4000")
    fails(cli("ask", EN, "--lang", "de"), 2, "--lang")
    fails(cli("ask", EN, "--yes"), 2, "--execute")
    fails(cli("ask"), 2, "<request>")
    # -e needs a terminal to ask, or --yes (the test has no terminal: a new session)
    p = subprocess.run([helpers.BUILD + "/cloudya", "ask", "-e", KERNEL], env=dict(cli_env),
                       capture_output=True, text=True, timeout=60, start_new_session=True,
                       stdin=subprocess.DEVNULL)
    fails(p, 2, "--yes")
    assert api_tokens(cli_env)["used_this_period"] == 0


def test_not_logged_in(anon_env):
    fails(run_cli(anon_env, "ask", EN), 1, "cloudya login")
    fails(run_cli(anon_env, "tokens", "info"), 1, "cloudya login")
    fails(run_cli(anon_env, "chat", "--no-graphics", input="quit\n"), 1, "cloudya login")


def test_colour_on_a_terminal_only(cli_env):
    t = Pty(cli_env, ["ask", EN])
    assert t.wait() == 0
    screen = t.text()
    assert ESC + "1;36m" in screen and "docker ps" in screen, screen  # the action: bold cyan
    assert ESC + "2mtokens:" in screen, screen  # the usage line: dim
    env = dict(cli_env)
    env["NO_COLOR"] = "1"
    t = Pty(env, ["ask", EN])
    assert t.wait() == 0
    assert "docker ps" in t.text() and "\x1b[1;36m" not in t.text()


# ---- tokens info ----------------------------------------------------------------------------

def test_tokens_info(cli, cli_env):
    p = ok(cli("tokens", "info"))
    out = p.stdout
    assert re.search(r"^plan\s+free$", out, re.M), out
    assert re.search(r"^balance\s+1000 / 1000 tokens$", out, re.M), out
    assert re.search(r"^used this period\s+0 tokens$", out, re.M), out
    assert re.search(r"^period ends\s+1 \w{3} \d{4} \(in (\d+ days?|\d+ hours?|\d+ minutes?)\)$",
                     out, re.M), out
    assert re.search(r"^execution\s+not allowed", out, re.M), out
    j = json.loads(ok(cli("tokens", "info", "-o", "json")).stdout)
    assert j == api_tokens(cli_env)
    ok(cli("ask", EN))
    after = json.loads(ok(cli("tokens", "info", "-o", "json")).stdout)
    assert after["used_this_period"] > 0 and after["balance"] == 1000 - after["used_this_period"]
    set_plan(cli_env, "pro")
    out = ok(cli("tokens", "info")).stdout
    assert re.search(r"^plan\s+pro$", out, re.M) and re.search(r"^execution\s+allowed", out, re.M)


# ---- ask -e ---------------------------------------------------------------------------------

def test_ask_execute_answered_yes_and_no_on_a_terminal(pro_env):
    t = Pty(pro_env, ["ask", "-e", KERNEL])
    t.read_until("Execute? [y/N]")
    t.send("y\n")
    assert t.wait(90) == 0, t.text()
    screen = t.text()
    assert "uname" in screen and "Linux" in screen and "exit code 0" in screen, screen

    before = api_tokens(pro_env)["used_this_period"]
    t = Pty(pro_env, ["ask", "-e", KERNEL])
    t.read_until("Execute? [y/N]")
    t.send("n\n")
    assert t.wait() == 0
    assert "not executed" in t.text() and "exit code" not in t.text(), t.text()
    # one dry run was charged, nothing was run
    rows = pro_env.daemon.get("/api/admin/audit", token=pro_env.daemon.admin_token,
                              params={"clientId": pro_env.user["user"]["clientId"],
                                      "action": "assistant.command"}).json()
    assert sum("status=executed" in (a["detail"] or "") for a in rows) == 1, rows
    assert api_tokens(pro_env)["used_this_period"] > before


def test_ask_execute_with_yes_and_a_failing_command(pro_env):
    p = ok(run_cli(pro_env, "ask", "-e", "--yes", KERNEL, timeout=90))
    assert "Linux" in p.stdout and "exit code 0" in p.stdout, p.stdout
    assert "Execute?" not in p.stdout + p.stderr
    j = json.loads(ok(run_cli(pro_env, "ask", "-e", "-y", KERNEL, "-o", "json",
                              timeout=90)).stdout)
    assert j["execution_status"] == "executed" and j["exit_code"] == 0 and j["output"], j
    # a safe action that fails in the sandbox (no such file; no credentials, no network):
    # its exit code is shown and `ask` exits 1
    for text in ("show the contents of the file /etc/nonexistent-file", "list my s3 buckets",
                 "list my ec2 instances in eu-west-3"):
        r = pro_env.daemon.post("/api/command", token=pro_env.user["token"],
                                json={"user_input": text})
        assert r.status_code == 200, r.text
        if r.json()["risk"] != "safe":
            continue
        p = run_cli(pro_env, "ask", "--execute", "--yes", text, timeout=90)
        code = re.search(r"^exit code (\d+)$", p.stdout, re.M)
        assert code, (p.stdout, p.stderr)
        assert (p.returncode == 0) == (code.group(1) == "0"), (p.returncode, p.stdout)
        if p.returncode == 1:
            assert ESC not in p.stdout
            return
    pytest.fail("none of the candidate requests gave a safe action that fails in the sandbox")


def test_execution_needs_the_pro_plan(cli):
    p = fails(cli("ask", "-e", "--yes", KERNEL), 1,
              "running commands needs the Pro plan or above (your plan: free)")
    assert "uname" in p.stdout  # the answer itself was shown


def test_a_dangerous_action_is_not_offered(pro_env):
    p = fails(run_cli(pro_env, "ask", "-e", "--yes", DANGEROUS), 1, "not offered for execution")
    assert "terraform destroy" in p.stdout
    assert re.search(r"^(dangerous|forbidden): \S", p.stdout, re.M), p.stdout
    t = Pty(pro_env, ["ask", "-e", DANGEROUS])
    assert t.wait() == 1
    assert "Execute?" not in t.text() and ESC + "1;31m" in t.text(), t.text()


def test_an_empty_balance(cli, cli_env):
    d, token = cli_env.daemon, cli_env.user["token"]
    for _ in range(300):
        r = d.post("/api/command", token=token,
                   json={"user_input": "explain how to configure an s3 backend for terraform state"})
        if r.status_code == 402:
            break
        assert r.status_code == 200, r.text
    else:
        pytest.fail("the balance never ran out")
    fails(cli("ask", EN), 1, "you have no tokens left:")
    p = ok(cli("tokens", "info"))
    assert re.search(r"^balance\s+0 / 1000 tokens$", p.stdout, re.M), p.stdout


# ---- the plain chat ---------------------------------------------------------------------------

def test_plain_chat_through_stdin_with_a_followup(cli):
    p = ok(cli("chat", "--no-graphics",
               input="%s\n%s\n\nquit\n%s\n" % (SCALE, FOLLOWUP, EN)))
    out = p.stdout
    assert "--replicas=5" in out and "--replicas=10" in out, out
    tenth = [l for l in out.splitlines() if "--replicas=10" in l]
    assert "web" in tenth[0], out  # the follow-up knew the deployment from the context
    assert "docker ps" not in out  # nothing after quit
    assert out.count("tokens: ") == 2
    assert ESC not in out and p.stderr == "", p.stderr


def test_plain_chat_clear_and_end_of_input(cli):
    p = ok(cli("chat", "--no-graphics", input="%s\nclear\n%s\n" % (SCALE, EN)))
    assert "(conversation cleared)" in p.stdout and "docker ps" in p.stdout
    p = ok(cli("chat", "--no-graphics", input=""))
    assert p.stdout == ""
    p = ok(cli("chat", "--no-graphics", input="%s\nexit\n" % NOTHING))
    assert "tokens:" in p.stdout


def test_plain_chat_execute_through_stdin(pro_env):
    p = ok(run_cli(pro_env, "chat", "--no-graphics", "-e",
                   input="%s\ny\n%s\nn\nq\n" % (KERNEL, KERNEL), timeout=120))
    out = p.stdout
    assert out.count("Execute? [y/N]") == 2, out
    assert "exit code 0" in out and "Linux" in out and "not executed" in out, out


def at_prompt(t, start=0):
    """Waits for the prompt, then a moment: libedit sets the terminal up for editing just
    after printing it, and keys typed before would be taken by the terminal's own line
    discipline (a Ctrl+D there is not seen as one)."""
    t.read_until("you> ", start=start)
    time.sleep(0.3)


def test_plain_chat_on_a_terminal_keeps_a_private_history(cli_env):
    t = Pty(cli_env, ["chat", "--no-graphics"])
    at_prompt(t)
    t.send("half a line")
    t.read_until("half a line")
    t.send("\x03")  # Ctrl+C: the line goes, the chat stays
    t.read_until("^C")
    at_prompt(t, start=t.text().index("^C"))
    t.send(EN + "\r")
    t.read_until("docker ps")
    at_prompt(t, start=t.text().index("docker ps"))
    t.send("quit\r")
    assert t.wait() == 0, t.text()
    path = os.path.join(cli_env.home, "chat_history")
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    text = open(path, encoding="utf-8").read()
    assert "list\\040running\\040docker\\040containers" in text, text
    assert "half" not in text

    # the next chat recalls it with the up arrow
    t = Pty(cli_env, ["chat", "--no-graphics"])
    at_prompt(t)
    t.send("\x1b[A")
    t.read_until(EN)
    t.send("\r")
    mark = len(t.text())
    t.read_until("docker ps", start=mark)
    at_prompt(t, start=t.text().index("docker ps", mark))
    t.send("\x04")  # Ctrl+D leaves
    assert t.wait() == 0, t.text()


# ---- the full-screen chat in tmux -------------------------------------------------------------

class Tmux:
    """One tmux server of our own (-L), one 100x30 session running a shell script."""

    def __init__(self, tmp_path):
        self.sock = "cloudya-chat-" + uuid.uuid4().hex[:8]
        self.dir = tmp_path

    def tmux(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.sock] + list(args), capture_output=True,
                              text=True, check=check, timeout=10)

    def start(self, env, command):
        script = self.dir / ("run-%s.sh" % uuid.uuid4().hex[:6])
        lines = ["#!/bin/sh"]
        for k, v in env.items():
            if k in ("TMUX", "TMUX_PANE", "TERM", "COLUMNS", "LINES") or \
                    not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k):
                continue
            lines.append("export %s=%s" % (k, shlex.quote(v)))
        lines.append("export LANG=C.UTF-8")
        lines.append(command)
        script.write_text("\n".join(lines) + "\n")
        script.chmod(0o700)
        self.tmux("-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30", "-s", "chat",
                  str(script))
        self.tmux("set-option", "-t", "chat", "remain-on-exit", "on")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "chat", check=False).stdout

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "chat", *keys)

    def typed(self, text):
        self.tmux("send-keys", "-t", "chat", "-l", text)

    def close(self):
        self.tmux("kill-server", check=False)


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    t = Tmux(tmp_path)
    yield t
    t.close()


def wait_for(pred, timeout=30.0, what="condition", dump=None):
    return conftest_wait_for(pred, timeout, what, dump)


def chat_command(tmp_path, args=""):
    return "%s chat %s 2>%s; echo $? >%s; stty -a >%s" % (
        shlex.quote(helpers.BUILD + "/cloudya"), args, shlex.quote(str(tmp_path / "chat.err")),
        shlex.quote(str(tmp_path / "chat.status")), shlex.quote(str(tmp_path / "stty")))


def chat_status(tmp_path, timeout=15.0):
    path = tmp_path / "chat.status"
    wait_for(lambda: path.exists() and path.read_text().strip() != "", timeout, "the chat to end")
    err = (tmp_path / "chat.err").read_text()
    assert not helpers.sanitizer_findings(err), err
    return int(path.read_text().strip())


def test_tui_chat_request_followup_clear_and_quit(cli_env, tmux, tmp_path):
    tmux.start(cli_env, chat_command(tmp_path))
    s = wait_for(lambda: "cloudya chat" in tmux.screen() and tmux.screen(), 20, "the chat",
                 tmux.screen)
    first = s.splitlines()[0]
    assert "plan free" in first and "1000 tokens" in first, s
    assert "Ctrl+C quit" in s

    tmux.typed(SCALE)
    tmux.keys("Enter")
    wait_for(lambda: "--replicas=5" in tmux.screen(), 20, "the action", tmux.screen)
    s = tmux.screen()
    assert "you: " + SCALE in s and "tokens: " in s, s
    assert "1000 tokens" not in s.splitlines()[0]  # the balance follows the answers

    tmux.typed(FOLLOWUP)
    tmux.keys("Enter")
    wait_for(lambda: "--replicas=10" in tmux.screen(), 20, "the follow-up's action", tmux.screen)
    line = [l for l in tmux.screen().splitlines() if "--replicas=10" in l][0]
    assert "web" in line, tmux.screen()

    # the input line edits and recalls: Up brings the last request back, Ctrl+U empties it
    tmux.keys("Up")
    wait_for(lambda: tmux.screen().splitlines()[-1].startswith("> " + FOLLOWUP), 5,
             "the recalled line", tmux.screen)
    tmux.keys("C-u")
    wait_for(lambda: tmux.screen().splitlines()[-1].strip() == ">", 5, "an empty input",
             tmux.screen)

    # a narrower terminal: the conversation is laid out again, nothing runs over
    tmux.tmux("resize-window", "-t", "chat", "-x", "60", "-y", "24")
    wait_for(lambda: "--replicas=10" in tmux.screen() and
             all(len(l.rstrip()) <= 60 for l in tmux.screen().splitlines()), 10, "the resize",
             tmux.screen)

    tmux.keys("C-l")
    wait_for(lambda: "--replicas" not in tmux.screen() and "cloudya chat" in tmux.screen(), 5,
             "the cleared conversation", tmux.screen)
    tmux.keys("C-c")
    assert chat_status(tmp_path) == 0
    wait_for(lambda: (tmp_path / "stty").exists() and (tmp_path / "stty").read_text(), 5, "stty")
    stty = (tmp_path / "stty").read_text().split()
    assert "echo" in stty and "icanon" in stty and "-echo" not in stty, stty
    assert "Ctrl+C quit" not in tmux.screen()  # the alternate screen is gone


def test_tui_chat_execute_and_escape(pro_env, tmux, tmp_path):
    tmux.start(pro_env, chat_command(tmp_path, "-e"))
    wait_for(lambda: "execution on" in tmux.screen(), 20, "the chat", tmux.screen)
    tmux.typed(KERNEL)
    tmux.keys("Enter")
    wait_for(lambda: "Execute? [y/N]" in tmux.screen(), 20, "the question", tmux.screen)
    assert "uname" in tmux.screen()
    tmux.typed("y")
    tmux.keys("Enter")
    wait_for(lambda: "exit code 0" in tmux.screen(), 90, "the sandbox's answer", tmux.screen)
    assert "Linux" in tmux.screen()

    tmux.typed(KERNEL)
    tmux.keys("Enter")
    wait_for(lambda: tmux.screen().splitlines()[-1].startswith("Execute? [y/N]"), 20,
             "the second question", tmux.screen)
    tmux.keys("Escape")
    wait_for(lambda: "not executed" in tmux.screen(), 5, "the cancelled execution", tmux.screen)
    assert tmux.screen().splitlines()[-1].startswith(">")
    tmux.keys("C-c")
    assert chat_status(tmp_path) == 0


def test_tui_chat_sigterm_restores_the_terminal(cli_env, tmux, tmp_path):
    tmux.start(cli_env, chat_command(tmp_path))
    wait_for(lambda: "cloudya chat" in tmux.screen(), 20, "the chat", tmux.screen)
    shell = int(tmux.tmux("display-message", "-p", "-t", "chat", "#{pane_pid}").stdout)
    kids = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True).stdout.split()
    assert len(kids) == 1, kids
    os.kill(int(kids[0]), signal.SIGTERM)
    assert chat_status(tmp_path) == 130
    wait_for(lambda: (tmp_path / "stty").exists() and (tmp_path / "stty").read_text(), 5, "stty")
    stty = (tmp_path / "stty").read_text().split()
    assert "echo" in stty and "icanon" in stty, stty


# ---- help and completion --------------------------------------------------------------------

def test_help_and_completion_know_the_assistant(anon_env):
    out = ok(run_cli(anon_env, "--help")).stdout
    for c in ("ask <request>", "chat", "tokens info"):
        assert re.search(r"^  %s(\s|$)" % re.escape(c), out, re.M), out
    page = ok(run_cli(anon_env, "ask", "--help")).stdout
    assert "--execute" in page and "examples:" in page and "cloudya ask -e" in page
    page = ok(run_cli(anon_env, "chat", "--help")).stdout
    assert "--no-graphics" in page and "Ctrl+L" in page
    script = ok(run_cli(anon_env, "completion", "bash")).stdout
    path = os.path.join(anon_env.home, "completion.bash")
    with open(path, "w") as f:
        f.write(script)

    def complete(line):
        words = line.split(" ")
        prog = ('source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _cloudya; printf "%%s\\n" "${COMPREPLY[@]}"'
                % (path, " ".join("'%s'" % w for w in words), len(words) - 1))
        return subprocess.run(["bash", "-c", prog], capture_output=True, text=True,
                              timeout=30).stdout.split()

    assert "ask" in complete("cloudya a")
    assert "--no-graphics" in complete("cloudya chat --n")
    assert set(complete("cloudya ask --l")) == {"--lang"}
    assert complete("cloudya ask --lang ") == ["fr", "en"]
