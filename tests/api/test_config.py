"""Configuration: `cloudyad -n`, `--version`, `-c FILE`, the JWT secret, storage, logging."""
import hashlib
import hmac
import json
import os
import re
import socket
import stat
import subprocess
import time

import pytest

import helpers
from helpers import assert_error


def check(env, *args):
    return helpers.run_cloudyad(["-n"] + list(args), env)


def test_version(cli_env):
    cp = helpers.run_cloudyad(["--version"], cli_env)
    assert cp.returncode == 0, cp.stderr
    assert re.match(r"^cloudyad \S+\n?$", cp.stdout), "--version printed %r" % cp.stdout


def test_check_ok(cli_env):
    cp = check(cli_env)
    assert cp.returncode == 0, "cloudyad -n failed: %s" % cp.stderr
    assert "configuration OK" in cp.stdout, cp.stdout


def test_check_ok_without_jwt_secret(cli_env):
    del cli_env["JWT_SECRET"]
    cp = check(cli_env)
    assert cp.returncode == 0, cp.stderr
    assert "configuration OK" in cp.stdout


def test_check_ok_with_32_char_secret(cli_env):
    cli_env["JWT_SECRET"] = "s" * 32
    cp = check(cli_env)
    assert cp.returncode == 0, cp.stderr


@pytest.mark.parametrize("var,value,expect", [
    ("PORT", "abc", "port"),
    ("PORT", "70000", "port"),
    ("PORT", "65536", "port"),
    ("PORT", "-1", "port"),
    ("PORT", "5000x", "port"),
    ("PORT", "99999999999999999999", "port"),
    ("JWT_SECRET", "s" * 31, "jwt_secret"),
    ("JWT_SECRET", "short", "jwt_secret"),
    ("DATABASE_URL", "mysql://x", "database_url"),
    ("DATABASE_URL", "nonsense", "database_url"),
    ("LOG_LEVEL", "verbose", "log_level"),
    ("LOG_FORMAT", "xml", "log_format"),
    ("CLOUDYA_LOGIN_MAX_FAILURES", "abc", "cloudya_login_max_failures"),
    ("CLOUDYA_LOGIN_MAX_FAILURES_IP", "abc", "cloudya_login_max_failures_ip"),
    ("CLOUDYA_LOGIN_WINDOW", "abc", "cloudya_login_window"),
    ("CLOUDYA_QUOTA_CONTAINERS", "abc", "cloudya_quota_containers"),
    ("CLOUDYA_QUOTA_MEMORY_MB", "abc", "cloudya_quota_memory_mb"),
    ("CLOUDYA_QUOTA_CPUS", "abc", "cloudya_quota_cpus"),
])
def test_check_rejects(cli_env, var, value, expect):
    cli_env[var] = value
    cp = check(cli_env)
    assert cp.returncode == 1, "%s=%r: exit %d, stdout %r, stderr %r" % (var, value, cp.returncode, cp.stdout, cp.stderr)
    assert "configuration OK" not in cp.stdout
    assert expect in cp.stderr.lower(), "%s=%r: stderr does not say %r: %r" % (var, value, expect, cp.stderr)
    if var == "JWT_SECRET" and len(value) >= 16:
        assert value not in cp.stderr, "the rejected secret is echoed to stderr"


def test_unreachable_postgres_at_start_is_a_clear_error_not_a_crash(cli_env):
    # nothing listens on this port: a sentence naming the problem, never the password
    cli_env["DATABASE_URL"] = "postgresql://cloudya:s3cretpw@127.0.0.1:%d/cloudya?connect_timeout=2" % helpers.free_port()
    cp = helpers.run_cloudyad([], cli_env, timeout=20)
    assert cp.returncode == 1, (cp.returncode, cp.stderr)
    assert "database" in cp.stderr.lower()
    assert "s3cretpw" not in cp.stderr, "the database password is printed"


def test_unknown_option_fails(cli_env):
    cp = helpers.run_cloudyad(["--no-such-option"], cli_env)
    assert cp.returncode != 0
    assert cp.stderr.strip(), "no usage or reason on stderr"


# ---------------------------------------------------------------------------------------------
# -c FILE


def test_check_unreadable_config_file(cli_env, tmp_path):
    missing = str(tmp_path / "no-such.ini")
    cp = check(cli_env, "-c", missing)
    assert cp.returncode == 1, cp.stdout
    assert "no-such.ini" in cp.stderr, cp.stderr
    cp = check(cli_env, "-c", str(tmp_path))  # a directory
    assert cp.returncode == 1, cp.stdout


def test_check_config_file_bad_value(cli_env, tmp_path):
    f = tmp_path / "bad.ini"
    f.write_text("[server]\nport = abc\n")
    del cli_env["PORT"]
    cp = check(cli_env, "-c", str(f))
    assert cp.returncode == 1, cp.stdout
    assert "port" in cp.stderr.lower()


def test_check_config_file_short_secret(cli_env, tmp_path):
    f = tmp_path / "bad.ini"
    f.write_text("jwt_secret = tooshort\n")
    del cli_env["JWT_SECRET"]
    cp = check(cli_env, "-c", str(f))
    assert cp.returncode == 1, cp.stdout
    assert "jwt_secret" in cp.stderr.lower()


def _ini(path, port, data_dir, secret, extra=""):
    path.write_text(
        "; Cloudya agent configuration\n"
        "# comments in both styles\n"
        "[server]\n"
        "Port = %d\n"
        "HOST = 127.0.0.1\n"
        "\n"
        "[storage]\n"
        "cloudya_data_dir = %s\n"
        "\n"
        "[auth]\n"
        "jwt_secret = %s\n"
        "Cloudya_Login_Max_Failures_IP = 1000\n"
        "%s" % (port, data_dir, secret, extra))
    return str(path)


def test_daemon_reads_config_file(start_daemon, tmp_path):
    port = helpers.free_port()
    data = tmp_path / "fromfile"
    secret = helpers.random_secret()
    ini = _ini(tmp_path / "cloudya.ini", port, data, secret, "[quota]\ncloudya_quota_containers = 7\n")
    d = start_daemon(args=["-c", ini], port=port, data_dir=str(tmp_path / "cwd"),
                     env={"PORT": None, "HOST": None, "CLOUDYA_DATA_DIR": None, "JWT_SECRET": None,
                          "CLOUDYA_LOGIN_MAX_FAILURES_IP": None,
                          "DATABASE_URL": None})  # the default: SQLite in the file's data dir
    u = d.new_user()
    me = d.get("/api/auth/me", token=u["token"]).json()
    assert me["client"]["quota"]["containers"] == 7, me
    assert os.path.exists(os.path.join(str(data), "cloudya.db")), "database not in the file's data dir"
    # the token is signed with the file's secret
    h, pl, sig = helpers.jwt_parts(u["token"])
    want = helpers.b64url(hmac.new(secret.encode(), ("%s.%s" % (h, pl)).encode(), hashlib.sha256).digest())
    assert sig == want, "token not signed with the jwt_secret from the file"


def test_environment_wins_over_config_file(start_daemon, tmp_path):
    file_port = helpers.free_port()
    ini = _ini(tmp_path / "cloudya.ini", file_port, tmp_path / "filedata", helpers.random_secret(),
               "[quota]\nCLOUDYA_QUOTA_CONTAINERS = 7\n")
    d = start_daemon(args=["-c", ini], env={"CLOUDYA_QUOTA_CONTAINERS": "4"})
    assert d.port != file_port
    u = d.new_user()
    assert d.get("/api/auth/me", token=u["token"]).json()["client"]["quota"]["containers"] == 4
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", file_port), timeout=1).close()


# ---------------------------------------------------------------------------------------------
# the JWT secret, persistence


def test_generated_jwt_secret_file(start_daemon, tmp_path):
    data = str(tmp_path / "gen")
    d = start_daemon(data_dir=data, jwt_secret=False)
    path = os.path.join(data, "jwt_secret")
    assert os.path.isfile(path), "no jwt_secret generated in the data dir"
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, "jwt_secret has mode %o" % mode
    with open(path, "rb") as f:
        content = f.read()
    assert len(content.strip()) >= 32, "generated secret is too short (%d bytes)" % len(content.strip())
    u = d.new_user()
    assert d.stop() == 0
    d2 = start_daemon(data_dir=data, jwt_secret=False)
    with open(path, "rb") as f:
        assert f.read() == content, "the secret changed across restarts"
    r = d2.get("/api/auth/me", token=u["token"])
    assert r.status_code == 200, "token from before the restart: %d %s" % (r.status_code, r.text)
    assert content.strip().decode("latin-1") not in d2.log() + d.log(), "the generated secret is logged"


def test_two_data_dirs_get_different_secrets(start_daemon, tmp_path):
    start_daemon(data_dir=str(tmp_path / "a"), jwt_secret=False)
    start_daemon(data_dir=str(tmp_path / "b"), jwt_secret=False)
    with open(tmp_path / "a" / "jwt_secret", "rb") as fa, open(tmp_path / "b" / "jwt_secret", "rb") as fb:
        assert fa.read() != fb.read()


def test_changed_secret_invalidates_tokens(start_daemon, tmp_path):
    data = str(tmp_path / "d")
    d = start_daemon(data_dir=data, jwt_secret=helpers.random_secret())
    u = d.new_user()
    assert d.stop() == 0
    d2 = start_daemon(data_dir=data, jwt_secret=helpers.random_secret())
    assert_error(d2.get("/api/auth/me", token=u["token"]), 401, "unauthenticated")
    assert d2.login(u["email"], u["password"]).status_code == 200, "users did not persist"


def test_revocation_and_users_persist_across_restart(start_daemon, tmp_path):
    data = str(tmp_path / "p")
    secret = helpers.random_secret()
    d = start_daemon(data_dir=data, jwt_secret=secret)
    u = d.new_user()
    other = d.login(u["email"], u["password"]).json()["token"]
    assert d.post("/api/auth/logout", token=u["token"]).status_code == 204
    assert d.stop() == 0
    d2 = start_daemon(data_dir=data, jwt_secret=secret)
    assert_error(d2.get("/api/auth/me", token=u["token"]), 401, "unauthenticated")
    assert d2.get("/api/auth/me", token=other).status_code == 200
    assert d2.login(u["email"], u["password"]).status_code == 200


def test_first_admin_created_once(start_daemon, tmp_path):
    data = str(tmp_path / "adm")
    d = start_daemon(data_dir=data, admin=("Boss@Example.test", "first-password"))
    r = d.login("boss@example.test", "first-password")
    assert r.status_code == 200 and r.json()["user"]["role"] == "admin", r.text
    assert d.stop() == 0
    d2 = start_daemon(data_dir=data, admin=("boss@example.test", "second-password"))
    assert d2.login("boss@example.test", "first-password").status_code == 200
    assert_error(d2.login("boss@example.test", "second-password"), 401, "unauthenticated")
    env = dict(d2.env)
    cp = helpers.run_cloudyad(["admin", "count"], env)
    assert cp.returncode == 0 and cp.stdout.strip() == "1", (cp.stdout, cp.stderr)
    assert "first-password" not in d.log() + d2.log()


# ---------------------------------------------------------------------------------------------
# storage


def test_default_database_in_data_dir_wal_and_migrations(start_daemon, tmp_path):
    data = str(tmp_path / "db")
    d = start_daemon(data_dir=data, env={"DATABASE_URL": None})
    d.new_user()
    path = os.path.join(data, "cloudya.db")
    assert os.path.isfile(path)
    con = d.db()
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for t in ("users", "audit_log", "schema_version"):
            assert t in tables, "table %s missing: %s" % (t, sorted(tables))
        assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] >= 1
    finally:
        con.close()


def test_explicit_sqlite_url(start_daemon, tmp_path):
    data = str(tmp_path / "dd")
    other = str(tmp_path / "elsewhere" / "x.db")
    os.makedirs(os.path.dirname(other))
    d = start_daemon(data_dir=data, env={"DATABASE_URL": "sqlite://" + other})
    u = d.new_user()
    assert os.path.isfile(other)
    assert not os.path.exists(os.path.join(data, "cloudya.db"))
    con = d.db()
    try:
        assert con.execute("SELECT count(*) FROM users WHERE id=?", (u["user"]["id"],)).fetchone()[0] == 1
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# process behaviour, logging


def test_port_in_use_fails_fast(cli_env, cloudyad_binary):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    cli_env["PORT"] = str(s.getsockname()[1])
    try:
        p = subprocess.Popen([cloudyad_binary], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            pytest.fail("cloudyad kept running with its port taken")
    finally:
        s.close()
    assert p.returncode != 0
    assert err.strip(), "no reason on stderr"
    assert not helpers.sanitizer_findings(err), err


def test_json_log_lines(start_daemon):
    d = start_daemon(env={"LOG_FORMAT": "json"})
    u = d.new_user()
    d.login(u["email"], "wrong-password")
    d.get("/api/nope")
    assert d.stop() == 0
    lines = [l for l in d.log().splitlines() if l.strip()]
    assert lines, "no log lines at LOG_LEVEL=debug"
    for l in lines:
        try:
            assert isinstance(json.loads(l), dict)
        except (ValueError, AssertionError):
            pytest.fail("log line is not a JSON object: %r" % l)


def test_logfmt_log_lines(start_daemon):
    d = start_daemon(env={"LOG_FORMAT": "logfmt"})
    d.get("/api/nope")
    assert d.stop() == 0
    lines = [l for l in d.log().splitlines() if l.strip()]
    assert lines
    for l in lines:
        assert re.search(r"(^|\s)[A-Za-z_][A-Za-z0-9_.]*=", l), "not a logfmt line: %r" % l


def test_log_level_error_is_quieter_than_debug(start_daemon):
    counts = {}
    for level in ("debug", "error"):
        d = start_daemon(log_level=level)
        u = d.new_user()
        d.login(u["email"], "wrong-password")
        d.get("/api/nope")
        assert d.stop() == 0
        counts[level] = len([l for l in d.log().splitlines() if l.strip()])
    assert counts["error"] < counts["debug"], counts


def test_request_id_in_log_lines(daemon):
    rid = "trace-" + helpers.random_secret(10).replace("-", "x").replace("_", "y")
    daemon.post("/api/auth/login", json={"email": helpers.unique_email("trace"), "password": "wrong-password"},
                headers={"X-Request-Id": rid})
    time.sleep(0.2)
    assert rid in daemon.log(), "request id %s not found in the debug log" % rid
