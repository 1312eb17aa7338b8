"""Fixtures for the black-box tests of the `cloudya` command line: the real binary (from
CLOUDYA_BUILD, the sanitizer build in `make test`) against a real cloudyad and the real
Docker Engine. Every run of the binary is checked for sanitizer reports.

- `cd`: a daemon of the session's own (tests/api/catalog.test.yaml: busybox containers).
- `cli_bin`: the cloudya binary's path.
- `cli_env`: an environment with a fresh CLOUDYA_HOME, the daemon's URL configured and a
  fresh user logged in (`cli_env.user` has email, password, token).
- `cli`: runs `cloudya ARGS` in that environment: cli("ps", "--output", "json").
- `make_container(name)`: creates a running container for the logged-in user via the API.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))

import helpers  # noqa: E402

CLI_TIMEOUT = 60


def cli_binary():
    path = os.path.join(helpers.BUILD, "cloudya")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("no cloudya binary at %s: build first (make)" % path, pytrace=False)
    return path


class CliEnv(dict):
    """The environment of one CLI user; .home, .user, .daemon."""


def base_cli_env(home):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CLOUDYA_") and k not in ("NO_COLOR", "COLUMNS")}
    env["CLOUDYA_HOME"] = home
    env["HOME"] = home
    env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
    return env


def wait_for(pred, timeout=20.0, what="condition", dump=None):
    """pred()'s first true value, polled every 0.1 s; fails the test after timeout seconds,
    with dump()'s text (a screen, a log) when given."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    pytest.fail("timed out waiting for %s%s" % (what, ("\n" + dump()) if dump else ""),
                pytrace=False)


def run_cli(env, *args, input=None, timeout=CLI_TIMEOUT, check_sanitizer=True):
    """Runs the binary; returns the CompletedProcess (text). Fails on a sanitizer report."""
    p = subprocess.run([cli_binary()] + [str(a) for a in args], env=env, input=input,
                       capture_output=True, text=True, timeout=timeout)
    if check_sanitizer:
        found = helpers.sanitizer_findings(p.stderr)
        assert not found, "sanitizer report from cloudya %s:\n%s" % (" ".join(args), p.stderr)
    return p


@pytest.fixture(scope="session")
def cli_bin():
    return cli_binary()


@pytest.fixture(scope="session")
def cd(tmp_path_factory):
    helpers.binary_or_fail()
    with helpers.module_daemon(tmp_path_factory, "cli") as d:
        yield d


@pytest.fixture
def start_daemon(tmp_path):
    """A factory for daemons of a test's own (helpers.start_daemon_process options), each
    stopped, checked for a clean exit and cleaned from the Engine at the end of the test."""
    started = []

    def start(env=None):
        d = helpers.start_daemon_process(str(tmp_path / ("data%d" % len(started))), env_extra=env,
                                         log_dir=str(tmp_path))
        started.append(d)
        return d

    yield start
    problems = []
    for d in started:
        problems += ["%s: %s\n%s" % (d.base, p, d.log_tail()) for p in d.check_clean_exit()]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def fresh_env(d, tmp_path_factory):
    home = str(tmp_path_factory.mktemp("home"))
    env = CliEnv(base_cli_env(home))
    env.home = home
    env.daemon = d
    return env


@pytest.fixture
def anon_env(cd, tmp_path_factory):
    """A fresh CLOUDYA_HOME with the URL configured, nobody logged in."""
    env = fresh_env(cd, tmp_path_factory)
    p = run_cli(env, "configure", "--api-url", cd.base)
    assert p.returncode == 0, p.stderr
    env.user = None
    return env


@pytest.fixture
def cli_env(anon_env):
    """anon_env with a fresh user registered (over the API) and logged in (over the CLI)."""
    d = anon_env.daemon
    u = d.new_user(name="Cli User")
    p = run_cli(anon_env, "login", "--email", u["email"], "--password-stdin", input=u["password"] + "\n")
    assert p.returncode == 0, p.stderr
    u["token"] = read_config(anon_env.home)["auth"]["token"]
    anon_env.user = u
    return anon_env


@pytest.fixture
def cli(cli_env):
    def run(*args, **kw):
        return run_cli(cli_env, *args, **kw)
    return run


@pytest.fixture
def make_container(cli_env):
    made = []

    def make(name, service="nginx"):
        d = cli_env.daemon
        r = d.post("/api/containers/create", token=cli_env.user["token"],
                   json={"serviceType": service, "name": name}, timeout=60)
        assert r.status_code == 201, r.text
        made.append(r.json()["containerId"])
        return r.json()

    yield make
    for cid in made:
        cli_env.daemon.request("DELETE", "/api/containers/" + cid, token=cli_env.user["token"], timeout=60)


def read_config(home):
    """config.ini as {section: {key: value}} (configparser, independent of the binary)."""
    import configparser
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(os.path.join(home, "config.ini"))
    return {s: dict(cp[s]) for s in cp.sections()}
