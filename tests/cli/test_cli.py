"""The `cloudya` command line end to end: the real binary against a real cloudyad and the
real Docker Engine. Exit status 0 on success, 1 on a failed operation, 2 on a usage error;
--output json parsed and checked; the messages say what to do."""
import json
import os
import pty
import re
import select
import signal
import stat
import subprocess
import time

import pytest

import helpers
from conftest import base_cli_env, cli_binary, read_config, run_cli

ESC = "\x1b["


def ok(p):
    assert p.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr)
    return p


def fails(p, code=1, *words):
    assert p.returncode == code, "expected exit %d, got %d\nstdout: %s\nstderr: %s" % (
        code, p.returncode, p.stdout, p.stderr)
    for w in words:
        assert w in p.stderr, "%r not in stderr: %s" % (w, p.stderr)
    assert ESC not in p.stderr, "colour on a pipe: %r" % p.stderr
    return p


def js(p):
    ok(p)
    return json.loads(p.stdout)


def unique(prefix):
    return prefix + "-" + helpers.random_secret(6).lower().replace("_", "x").replace("-", "x")


# ---- help, version, usage errors (no daemon needed) ------------------------------------------

ALL_COMMANDS = ["configure", "register", "login", "logout", "info", "version", "completion",
                "ps", "catalog", "create", "start", "stop", "restart", "rm", "logs", "stats", "top"]


def test_version_three_ways(anon_env):
    assert ok(run_cli(anon_env, "--version")).stdout.strip() == "cloudya 0.1.0"
    assert ok(run_cli(anon_env, "version")).stdout.strip() == "cloudya 0.1.0"
    assert js(run_cli(anon_env, "version", "--output", "json")) == {"version": "0.1.0"}


def test_help_lists_every_command_and_each_has_a_page(anon_env):
    out = ok(run_cli(anon_env, "--help")).stdout
    for c in ALL_COMMANDS:
        assert re.search(r"^  %s\b" % c, out, re.M), "%s missing from --help:\n%s" % (c, out)
    for c in ALL_COMMANDS:
        page = ok(run_cli(anon_env, c, "--help")).stdout
        assert page.startswith("usage: cloudya %s" % c), page
        assert "global options:" in page
    # -h works too, and --help wins over missing arguments
    assert ok(run_cli(anon_env, "logs", "-h")).stdout.startswith("usage: cloudya logs <id|name>")


def test_no_command_is_a_usage_error(anon_env):
    p = fails(run_cli(anon_env), 2)
    assert "usage: cloudya <command>" in p.stderr


@pytest.mark.parametrize("args,words", [
    (["sp"], ["unknown command \"sp\"", "did you mean \"ps\""]),
    (["ps", "--bogus"], ["unknown option --bogus for cloudya ps"]),
    (["ps", "-z"], ["unknown option -z"]),
    (["logs"], ["cloudya logs needs <id|name>", "see `cloudya logs --help`"]),
    (["logs", "a", "b"], ["unexpected argument \"b\""]),
    (["logs", "a", "--tail"], ["--tail needs a value"]),
    (["logs", "a", "--tail", "ten"], ["--tail takes a number"]),
    (["ps", "--output", "xml"], ["--output takes \"table\" or \"json\""]),
    (["create", "nginx"], ["--name is required"]),
    (["create", "nginx", "--name", "x", "--env", "NOEQUALS"], ["--env takes KEY=VALUE"]),
    (["create", "nginx", "--name", "x", "--env", "=v"], ["--env takes KEY=VALUE"]),
    (["completion", "fish"], ["only bash completion"]),
    (["configure", "--api-url", "ftp://x"], ["is not an http:// or https:// URL"]),
    (["configure", "--api-url", "http://"], ["is not an http:// or https:// URL"]),
    (["logs", "--follow=yes", "a"], ["--follow takes no value"]),
])
def test_usage_errors_exit_2_and_say_what_to_do(cli_env, args, words):
    fails(run_cli(cli_env, *args), 2, *words)


def test_commands_that_need_a_login_say_so_without_asking_the_daemon(anon_env):
    # a daemon URL that does not answer proves no request was made
    env = dict(anon_env)
    for args in (["ps"], ["info"], ["create", "nginx", "--name", "x"], ["stop", "x"], ["logs", "x"],
                 ["stats", "x"], ["top"], ["catalog"]):
        p = fails(run_cli(env, "--api-url", "http://127.0.0.1:9", *args), 1)
        assert "not logged in: run `cloudya login`" in p.stderr, p.stderr


def test_global_flags_go_before_or_after_the_command(cli):
    a = js(cli("--output", "json", "ps"))
    b = js(cli("ps", "--output=json"))
    c = js(cli("-o", "json", "ps"))
    assert a == b == c == []


# ---- configure, register, login, logout, info ----------------------------------------------

def test_configure_writes_a_private_config_and_keeps_other_content(cd, tmp_path):
    home = str(tmp_path / "h")
    env = base_cli_env(home)
    p = ok(run_cli(env, "configure", "--api-url", cd.base + "/"))
    assert "API URL set to %s" % cd.base in p.stdout
    assert "healthy" in p.stdout
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    path = os.path.join(home, "config.ini")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_config(home)["api"]["url"] == cd.base  # the trailing slash is dropped
    # the user's own comments and sections survive an update
    with open(path, "a") as f:
        f.write("; my note\n[extra]\nkey = value\n")
    j = js(run_cli(env, "configure", "--api-url", cd.base, "--output", "json"))
    assert j["apiUrl"] == cd.base and j["status"] == "healthy" and j["version"]
    text = open(path).read()
    assert "; my note" in text and "key = value" in text
    assert text.count("url =") == 1


def test_configure_to_a_daemon_that_is_down_saves_and_warns(tmp_path):
    env = base_cli_env(str(tmp_path / "h"))
    port = helpers.free_port()
    p = ok(run_cli(env, "configure", "--api-url", "http://127.0.0.1:%d" % port))
    assert "warning: cannot reach the Cloudya daemon at http://127.0.0.1:%d" % port in p.stderr


def test_register_with_password_stdin_then_info(anon_env):
    email = helpers.unique_email("reg")
    p = ok(run_cli(anon_env, "register", "--email", email, "--name", "Reg User", "--password-stdin",
                   input="a-good-password-1\n"))
    assert "Registered and logged in as Reg User <%s>" % email in p.stdout
    cfg = read_config(anon_env.home)
    token = cfg["auth"]["token"]
    assert stat.S_IMODE(os.stat(os.path.join(anon_env.home, "config.ini")).st_mode) == 0o600
    assert anon_env.daemon.get("/api/auth/me", token=token).status_code == 200
    info = js(run_cli(anon_env, "info", "--output", "json"))
    assert info["user"]["email"] == email
    assert info["client"]["quota"]["containers"] >= 1
    assert info["apiUrl"] == anon_env.daemon.base and info["daemonStatus"] == "healthy"
    assert info["tokenSource"] == "config.ini" and info["tokenExpiresAt"].endswith("Z")
    table = ok(run_cli(anon_env, "info")).stdout
    assert email in table and "Containers" in table and "0 of" in table
    # the same email again: the daemon's conflict, exit 1
    p = fails(run_cli(anon_env, "register", "--email", email, "--name", "X", "--password-stdin",
                      input="another-password-2\n"), 1)
    assert "already" in p.stderr


def test_register_json_output_has_no_token(anon_env):
    j = js(run_cli(anon_env, "register", "--email", helpers.unique_email("rj"), "--name", "J",
                   "--password-stdin", "--output", "json", input="a-good-password-1"))
    assert j["user"]["name"] == "J" and "token" not in json.dumps(j)


def test_login_wrong_password_saves_nothing(anon_env):
    u = anon_env.daemon.new_user()
    p = fails(run_cli(anon_env, "login", "--email", u["email"], "--password-stdin",
                      input="wrong-password\n"), 1, "wrong email or password")
    assert "token" not in read_config(anon_env.home).get("auth", {})
    assert "Logged in" not in p.stdout


def test_login_without_terminal_and_without_password_stdin_is_a_usage_error(anon_env):
    p = subprocess.run([cli_binary(), "login", "--email", "a@b.test"],
                       env=dict(anon_env), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=30, start_new_session=True)  # no controlling terminal
    assert p.returncode == 2, p.stderr
    assert "--password-stdin" in p.stderr


def test_logout_revokes_the_token_and_is_idempotent(cli_env):
    token = cli_env.user["token"]
    p = ok(run_cli(cli_env, "logout"))
    assert "Logged out" in p.stdout
    assert cli_env.daemon.get("/api/auth/me", token=token).status_code == 401
    assert "token" not in read_config(cli_env.home).get("auth", {})
    assert ok(run_cli(cli_env, "logout")).stdout.strip() == "not logged in"
    fails(run_cli(cli_env, "ps"), 1, "not logged in")


def test_an_expired_or_revoked_session_says_log_in_again(cli_env):
    cli_env.daemon.post("/api/auth/logout", token=cli_env.user["token"])
    fails(run_cli(cli_env, "ps"), 1, "your session has expired or was ended", "cloudya login")


def test_api_token_variable_wins_over_the_stored_token(cli_env, anon_env):
    env = dict(anon_env)
    env["CLOUDYA_API_TOKEN"] = cli_env.user["token"]
    info = js(run_cli(env, "info", "-o", "json"))
    assert info["user"]["email"] == cli_env.user["email"]
    assert info["tokenSource"] == "CLOUDYA_API_TOKEN"
    env["CLOUDYA_API_TOKEN"] = "not.a.token"
    fails(run_cli(env, "ps"), 1, "the token in CLOUDYA_API_TOKEN was refused")


def test_cloudya_home_moves_the_folder(cli_env, tmp_path):
    assert os.path.isfile(os.path.join(cli_env.home, "config.ini"))
    env = dict(cli_env)
    env["CLOUDYA_HOME"] = str(tmp_path / "elsewhere")
    fails(run_cli(env, "ps"), 1, "not logged in")


def test_a_broken_config_file_is_named(cli_env):
    with open(os.path.join(cli_env.home, "config.ini"), "w") as f:
        f.write("[api\nurl = x\n")
    p = fails(run_cli(cli_env, "ps"), 1, "config.ini, line 1")


# ---- the daemon is down or not a daemon ----------------------------------------------------

def test_a_stopped_daemon_is_named_with_its_url(cli_env):
    port = helpers.free_port()
    url = "http://127.0.0.1:%d" % port
    for args in (["ps"], ["info"], ["logs", "x", "-f"], ["stats", "x"], ["create", "nginx", "--name", "x"]):
        p = fails(run_cli(cli_env, "--api-url", url, *args), 1)
        assert "cannot reach the Cloudya daemon at %s (connection refused)" % url in p.stderr, p.stderr


def test_a_daemon_that_really_stops(start_cli_daemon):
    d, env = start_cli_daemon()
    ok(run_cli(env, "ps"))
    d.stop()
    fails(run_cli(env, "ps"), 1, "cannot reach the Cloudya daemon at %s" % d.base)


# ---- containers end to end -------------------------------------------------------------------

def test_the_whole_container_flow(cli, cli_env):
    name = unique("site")
    p = ok(cli("create", "nginx", "--name", name, "--env", "GREETING=hello world", "--env", "A=1=2"))
    assert "Created %s (nginx), running" % name in p.stdout
    assert re.search(r"url +http://", p.stdout), p.stdout
    rows = js(cli("ps", "--output", "json"))
    row = [r for r in rows if r["name"] == name][0]
    assert row["status"] == "running" and row["serviceType"] == "nginx"
    env = helpers.docker_inspect(row["id"])["Config"]["Env"]
    assert "GREETING=hello world" in env and "A=1=2" in env
    table = ok(cli("ps")).stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "SERVICE", "STATUS"]
    line = [l for l in table if l.startswith(name + " ")][0]
    assert "running" in line and row["id"][:12] in line
    assert ok(cli("ps", "-q")).stdout.split() == [r["id"] for r in rows]
    assert name in ok(cli("ps", "--names")).stdout.split()
    # stats: wait for the first sample (the command itself retries while it is pending)
    s = js(cli("stats", name, "--output", "json"))
    assert set(["cpu", "memory", "network", "timestamp"]) <= set(s)
    assert s["memory"]["limit"] == 64 * 1024 * 1024
    text = ok(cli("stats", name)).stdout
    assert "CPU" in text and "Memory" in text and "64.0 MiB" in text
    # lifecycle by name and by id prefix
    assert ok(cli("stop", name)).stdout.strip() == "Stopped %s" % name
    assert [r for r in js(cli("ps", "-o", "json")) if r["name"] == name][0]["status"] == "stopped"
    fails(cli("stats", name), 1, "%s is not running: `cloudya start %s`" % (name, name))
    j = js(cli("start", row["id"][:12], "--output", "json"))
    assert j["status"] == "running"
    assert ok(cli("restart", name)).stdout.strip() == "Restarted %s" % name
    assert ok(cli("rm", name)).stdout.strip() == "Removed %s" % name
    assert [r for r in js(cli("ps", "-o", "json")) if r["name"] == name] == []
    fails(cli("rm", name), 1, "no container \"%s\" in your account" % name)


def test_create_errors_are_one_clear_sentence(cli, make_container):
    name = unique("dup")
    make_container(name)
    fails(cli("create", "nginx", "--name", name), 1, "already exists")
    fails(cli("create", "nosuchservice", "--name", unique("x")), 1, "`cloudya catalog` lists them")
    fails(cli("create", "nginx", "--name", "Bad_Name"), 1, "DNS label")


def test_catalog_lists_the_service_types(cli):
    names = ok(cli("catalog", "--names")).stdout.split()
    assert "nginx" in names and "postgres" in names
    table = ok(cli("catalog")).stdout
    assert table.splitlines()[0].split()[:2] == ["SERVICE", "IMAGE"]
    assert any(s["serviceType"] == "nginx" for s in js(cli("catalog", "-o", "json")))


def test_quota_exceeded_names_the_numbers(start_cli_daemon):
    d, env = start_cli_daemon(env={"CLOUDYA_QUOTA_CONTAINERS": "2"})
    for i in range(2):
        ok(run_cli(env, "create", "nginx", "--name", "q%d" % i))
    p = fails(run_cli(env, "create", "nginx", "--name", "q2"), 1,
              "container quota exceeded: 2 of 2 containers")
    info = ok(run_cli(env, "info")).stdout
    assert "2 of 2" in info


def test_another_tenants_container_is_not_found(cli, cd, make_container):
    other = cd.new_user()
    r = cd.post("/api/containers/create", token=other["token"],
                json={"serviceType": "nginx", "name": unique("theirs")}, timeout=60)
    assert r.status_code == 201
    theirs = r.json()
    try:
        for verb in ("stop", "start", "rm", "stats", "logs"):
            fails(cli(verb, theirs["name"]), 1, "in your account")
            fails(cli(verb, theirs["containerId"]), 1, "in your account")
        assert helpers.docker_inspect(theirs["containerId"])["State"]["Running"]
    finally:
        cd.request("DELETE", "/api/containers/" + theirs["containerId"], token=other["token"], timeout=60)


def test_several_containers_in_one_command_and_partial_failure(cli, make_container):
    a, b = unique("a"), unique("b")
    make_container(a)
    make_container(b)
    p = fails(cli("stop", a, "nosuch", b), 1, "no container \"nosuch\"")
    assert p.stdout.split("\n")[:2] == ["Stopped " + a, "Stopped " + b]
    j = js(cli("start", a, b, "-o", "json"))
    assert [x["status"] for x in j] == ["running", "running"]


def test_logs_tail_json_and_follow(cli, cli_env, make_container):
    name = unique("log")
    make_container(name, service="logger")
    helpers.wait_for(lambda: len(js(cli("logs", name, "-o", "json"))["lines"]) >= 6, timeout=15,
                     what="six log lines")
    lines = ok(cli("logs", name, "--tail", "4")).stdout.splitlines()
    assert len(lines) == 4 and all(re.match(r"^(out|err) \d+$", l) for l in lines), lines
    ts = ok(cli("logs", name, "--tail", "2", "-t")).stdout.splitlines()
    assert len(ts) == 2 and re.match(r"^\d{4}-\d\d-\d\dT", ts[0]), ts
    # follow: new lines keep coming; Ctrl+C ends it
    proc = subprocess.Popen([cli_binary(), "logs", name, "-f", "--tail", "0"],
                            env=dict(cli_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    got = []
    deadline = time.monotonic() + 15
    while len(got) < 6 and time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], 1)
        if r:
            got.append(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGINT)
    proc.wait(10)
    err = proc.stderr.read()
    assert len(got) >= 6, (got, err)
    nums = [int(l.split()[1]) for l in got if l.startswith("out ")]
    assert nums == sorted(nums) and len(nums) >= 2, got
    assert not helpers.sanitizer_findings(err), err
    # follow with json: one object per line
    proc = subprocess.Popen([cli_binary(), "logs", name, "-f", "-o", "json", "--tail", "1"],
                            env=dict(cli_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    proc.wait(10)
    obj = json.loads(line)
    assert obj["container"] == name and re.match(r"^(out|err) \d+$", obj["line"])


def test_logs_follow_ends_when_the_output_pipe_closes(cli_env, make_container):
    name = unique("pipe")
    make_container(name, service="logger")
    p = subprocess.run("'%s' logs %s -f | head -n 3" % (cli_binary(), name),
                       shell=True, env=dict(cli_env), capture_output=True, text=True, timeout=30)
    assert len(p.stdout.splitlines()) == 3


def test_top_without_a_terminal_prints_one_snapshot(cli, make_container):
    name = unique("top")
    make_container(name)
    table = ok(cli("top")).stdout
    assert table.splitlines()[0].split()[:3] == ["NAME", "STATUS", "CPU%"]
    assert name in table
    rows = js(cli("top", "--output", "json"))
    assert any(r["name"] == name for r in rows)


# ---- debug, colour, terminal ------------------------------------------------------------------

def test_debug_shows_the_exchanges_without_secrets(anon_env):
    u = anon_env.daemon.new_user()
    env = dict(anon_env)
    env["CLOUDYA_DEBUG"] = "1"
    p = ok(run_cli(env, "login", "--email", u["email"], "--password-stdin", input=u["password"]))
    assert "> POST %s/api/auth/login" % anon_env.daemon.base in p.stderr
    assert "< HTTP 200" in p.stderr
    assert u["password"] not in p.stderr and '"password":"***"' in p.stderr
    token = read_config(anon_env.home)["auth"]["token"]
    assert token not in p.stderr and '"token":"***"' in p.stderr
    p = ok(run_cli(env, "ps"))
    assert "Authorization: Bearer ***" in p.stderr and token not in p.stderr


def run_in_pty(env, args, inputs=(), timeout=30):
    """Runs cloudya on a pseudo-terminal; sends each input after a prompt-ish pause. Returns
    (exit status, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(cli_binary(), ["cloudya"] + args, env)
    out = b""
    pending = list(inputs)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.3)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif pending:
            os.write(fd, pending.pop(0).encode())
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_password_prompt_does_not_echo(anon_env):
    u = anon_env.daemon.new_user()
    code, screen = run_in_pty(dict(anon_env), ["login"], [u["email"] + "\n", u["password"] + "\n"])
    assert code == 0, screen
    assert "Email:" in screen and "Password:" in screen and "Logged in" in screen
    assert u["email"] in screen          # echoed
    assert u["password"] not in screen   # not echoed


def test_register_asks_twice_and_retries_on_mismatch(anon_env):
    email = helpers.unique_email("tty")
    code, screen = run_in_pty(dict(anon_env), ["register"],
                              [email + "\n", "Tty User\n", "first-pass-1\n", "other-pass-2\n",
                               "right-pass-3\n", "right-pass-3\n"])
    assert code == 0, screen
    assert "the two passwords differ" in screen
    assert anon_env.daemon.login(email, "right-pass-3").status_code == 200


def test_colour_only_on_a_terminal_and_never_with_no_color(cli_env, make_container):
    make_container(unique("col"))
    code, screen = run_in_pty(dict(cli_env), ["ps"])
    assert code == 0 and ESC + "32m" in screen, screen  # running in green
    env = dict(cli_env)
    env["NO_COLOR"] = "1"
    code, screen = run_in_pty(env, ["ps"])
    assert code == 0 and ESC not in screen, screen
    assert ESC not in ok(run_cli(cli_env, "ps")).stdout


def test_completion_script_is_valid_bash_and_completes(cli_env, make_container):
    name = unique("comp")
    make_container(name)
    script = ok(run_cli(cli_env, "completion", "bash")).stdout
    path = os.path.join(cli_env.home, "completion.bash")
    with open(path, "w") as f:
        f.write(script)
    assert subprocess.run(["bash", "-n", path]).returncode == 0
    bindir = os.path.dirname(cli_binary())

    def complete(line):
        words = line.split(" ")
        prog = ('source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _cloudya; printf "%%s\\n" "${COMPREPLY[@]}"'
                % (path, " ".join("'%s'" % w for w in words), len(words) - 1))
        env = dict(cli_env)
        env["PATH"] = bindir + ":" + env.get("PATH", "")
        return subprocess.run(["bash", "-c", prog], env=env, capture_output=True, text=True,
                              timeout=30).stdout.split()

    assert set(complete("cloudya lo")) == {"login", "logout", "logs"}
    assert "--follow" in complete("cloudya logs --f")
    assert complete("cloudya ps --output ") == ["table", "json"]
    assert name in complete("cloudya stop ")
    assert "nginx" in complete("cloudya create ")
    assert complete("cloudya completion ") == ["bash"]


@pytest.fixture
def start_cli_daemon(start_daemon, tmp_path_factory):
    """A daemon of the test's own and a logged-in CLI environment for it."""
    def start(env=None):
        d = start_daemon(env=env)
        home = str(tmp_path_factory.mktemp("home"))
        cenv = base_cli_env(home)
        ok(run_cli(cenv, "configure", "--api-url", d.base))
        ok(run_cli(cenv, "register", "--email", helpers.unique_email("own"), "--name", "Own",
                   "--password-stdin", input="own-password-1"))
        return d, cenv
    return start
