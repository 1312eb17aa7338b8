"""Fixtures that start the real cloudyad binary for black-box API tests.

- `daemon`: one session-wide daemon (random JWT_SECRET, a first admin, LOG_LEVEL=debug,
  per-IP login limit 1000, per-email limit at its default of 5). Each test that uses it
  checks afterwards that the daemon is still alive.
- `start_daemon(**options)`: a factory for daemons with their own environment, stopped at
  the end of the test; see helpers.start_daemon_process for the options.
Every daemon is stopped with SIGTERM at teardown; it must exit with status 0 and its log
must hold no sanitizer report.
"""
import os
import shutil
import tempfile

import pytest

import helpers
from helpers import Daemon  # noqa: F401  (re-exported for tests)

ADMIN_EMAIL = "admin@cloudya.test"
ADMIN_PASSWORD = "admin-password-" + helpers.random_secret(12)


class _Pool:
    def __init__(self, root):
        self.root = root
        self.daemons = []
        self.n = 0

    def start(self, env=None, args=(), data_dir=None, port=None, jwt_secret=True, admin=None,
              log_level="debug"):
        if data_dir is None:
            self.n += 1
            data_dir = os.path.join(self.root, "data%d" % self.n)
        d = helpers.start_daemon_process(data_dir, env_extra=env, args=args, port=port,
                                         log_dir=self.root, jwt_secret=jwt_secret, admin=admin,
                                         log_level=log_level)
        self.daemons.append(d)
        return d

    def finish(self):
        problems = []
        for d in self.daemons:
            for p in d.check_clean_exit():
                problems.append("daemon on port %d (log %s): %s\n%s" % (d.port, d.log_path, p, d.log_tail(3000)))
        return problems


@pytest.fixture(scope="session")
def cloudyad_binary():
    return helpers.binary_or_fail()


@pytest.fixture(scope="session")
def _session_daemon(cloudyad_binary):
    root = tempfile.mkdtemp(prefix="cloudya-api-")
    pool = _Pool(root)
    d = pool.start(admin=(ADMIN_EMAIL, ADMIN_PASSWORD))
    d.admin_email, d.admin_password = ADMIN_EMAIL, ADMIN_PASSWORD
    yield d
    problems = pool.finish()
    if problems:
        pytest.fail("session daemon did not shut down cleanly:\n" + "\n".join(problems), pytrace=False)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def daemon(_session_daemon):
    yield _session_daemon
    assert _session_daemon.alive(), "the session daemon died during this test (status %s); log tail:\n%s" % (
        _session_daemon.proc.returncode, _session_daemon.log_tail())


@pytest.fixture
def start_daemon(cloudyad_binary, tmp_path):
    pool = _Pool(str(tmp_path))
    yield pool.start
    problems = pool.finish()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def user(daemon):
    """A freshly registered client user on the session daemon."""
    return daemon.new_user()


@pytest.fixture
def cli_env(tmp_path):
    """An environment for running `cloudyad` subcommands against a fresh data dir."""
    data = tmp_path / "data"
    data.mkdir()
    env = helpers.base_env()
    env.update({
        "CLOUDYA_DATA_DIR": str(data),
        "HOST": "127.0.0.1",
        "PORT": str(helpers.free_port()),
        "JWT_SECRET": helpers.random_secret(),
        "LOG_LEVEL": "info",
    })
    if helpers.BACKEND == "pg":
        env["DATABASE_URL"] = helpers.db_url_for(str(data))
    return env
