"""`cloudyad admin create --email E [--name N] --password-stdin` and `cloudyad admin count`."""
import helpers
from helpers import assert_error


def create(env, email, password, name=None, extra=()):
    args = ["admin", "create", "--email", email]
    if name is not None:
        args += ["--name", name]
    args += ["--password-stdin"] + list(extra)
    return helpers.run_cloudyad(args, env, input=password)


def count(env):
    cp = helpers.run_cloudyad(["admin", "count"], env)
    assert cp.returncode == 0, "admin count failed: %s" % cp.stderr
    out = cp.stdout.strip()
    assert out.isdigit(), "admin count printed %r" % cp.stdout
    return int(out)


def test_count_on_fresh_database_is_zero(cli_env):
    assert count(cli_env) == 0


def test_create_then_login_as_admin(cli_env, start_daemon):
    cp = create(cli_env, "Root@Example.test", "admin-pass-1", name="Root Admin")
    assert cp.returncode == 0, "admin create failed: %s" % cp.stderr
    assert "admin-pass-1" not in cp.stdout + cp.stderr, "the password is echoed"
    assert count(cli_env) == 1
    d = start_daemon(data_dir=cli_env["CLOUDYA_DATA_DIR"])
    r = d.login("root@example.test", "admin-pass-1")
    assert r.status_code == 200, r.text
    u = r.json()["user"]
    assert u["role"] == "admin" and u["email"] == "root@example.test" and u["name"] == "Root Admin", u
    assert helpers.jwt_payload(r.json()["token"])["role"] == "admin"
    me = d.get("/api/auth/me", token=r.json()["token"])
    assert me.status_code == 200 and me.json()["user"]["role"] == "admin", me.text


def test_create_without_name(cli_env, start_daemon):
    cp = create(cli_env, "noname@example.test", "admin-pass-2")
    assert cp.returncode == 0, cp.stderr
    d = start_daemon(data_dir=cli_env["CLOUDYA_DATA_DIR"])
    r = d.login("noname@example.test", "admin-pass-2")
    assert r.status_code == 200, r.text
    assert r.json()["user"]["name"], "an admin without --name has an empty name"


def test_password_trailing_newline_is_stripped(cli_env, start_daemon):
    """`echo pw | cloudyad admin create ... --password-stdin` is the usual way to call it."""
    cp = create(cli_env, "echo@example.test", "admin-pass-3\n")
    assert cp.returncode == 0, cp.stderr
    d = start_daemon(data_dir=cli_env["CLOUDYA_DATA_DIR"])
    assert d.login("echo@example.test", "admin-pass-3").status_code == 200


def test_existing_email_fails(cli_env):
    assert create(cli_env, "dup@example.test", "admin-pass-4").returncode == 0
    for email in ("dup@example.test", "DUP@Example.Test"):
        cp = create(cli_env, email, "another-pass-4")
        assert cp.returncode == 1, "second create of %s: exit %d" % (email, cp.returncode)
        assert cp.stderr.strip(), "no message on stderr"
    assert count(cli_env) == 1


def test_existing_client_email_fails(cli_env, start_daemon):
    d = start_daemon(data_dir=cli_env["CLOUDYA_DATA_DIR"])
    u = d.new_user()
    cp = create(cli_env, u["email"], "admin-pass-5")
    assert cp.returncode == 1, cp.stdout
    assert count(cli_env) == 0, "a client user was counted or promoted"
    assert d.login(u["email"], u["password"]).json()["user"]["role"] == "client"


def test_short_password_refused(cli_env):
    for pw in ("", "\n", "1234567", "1234567\n"):
        cp = create(cli_env, "short@example.test", pw)
        assert cp.returncode != 0, "password %r accepted" % pw
        assert cp.stderr.strip()
    assert count(cli_env) == 0


def test_bad_email_refused(cli_env):
    for email in ("no-at-sign", "two@@example.test", "sp ace@example.test", ""):
        cp = create(cli_env, email, "admin-pass-6")
        assert cp.returncode != 0, "email %r accepted" % email
    assert count(cli_env) == 0


def test_usage_errors(cli_env):
    for args in (["admin"], ["admin", "create"], ["admin", "create", "--password-stdin"],
                 ["admin", "frobnicate"], ["admin", "create", "--email"]):
        cp = helpers.run_cloudyad(args, cli_env, input="admin-pass-7")
        assert cp.returncode != 0, "`cloudyad %s` exited 0" % " ".join(args)
        assert cp.stderr.strip(), "`cloudyad %s` gave no reason" % " ".join(args)
    assert count(cli_env) == 0


def test_create_while_daemon_runs(cli_env, start_daemon):
    d = start_daemon(data_dir=cli_env["CLOUDYA_DATA_DIR"])
    d.new_user()
    cp = create(cli_env, "live@example.test", "admin-pass-8")
    assert cp.returncode == 0, cp.stderr
    assert count(cli_env) == 1
    r = d.login("live@example.test", "admin-pass-8")
    assert r.status_code == 200 and r.json()["user"]["role"] == "admin", r.text


def test_count_counts_admins_only(cli_env, start_daemon):
    d = start_daemon(data_dir=cli_env["CLOUDYA_DATA_DIR"], admin=("envadmin@example.test", "env-admin-pass"))
    for _ in range(3):
        d.new_user()
    assert count(cli_env) == 1
    assert create(cli_env, "second@example.test", "admin-pass-9").returncode == 0
    assert count(cli_env) == 2


def test_admin_uses_config_file_database(cli_env, tmp_path):
    data = tmp_path / "viaini"
    ini = tmp_path / "c.ini"
    ini.write_text("[storage]\nCLOUDYA_DATA_DIR = %s\n" % data)
    env = dict(cli_env)
    del env["CLOUDYA_DATA_DIR"]
    env.pop("DATABASE_URL", None)  # the default: SQLite in the file's data dir
    cp = helpers.run_cloudyad(["-c", str(ini), "admin", "create", "--email", "ini@example.test", "--password-stdin"],
                              env, input="admin-pass-10")
    assert cp.returncode == 0, cp.stderr
    assert (data / "cloudya.db").is_file(), "admin create did not use the -c file's data dir"
    cp = helpers.run_cloudyad(["-c", str(ini), "admin", "count"], env)
    assert cp.returncode == 0 and cp.stdout.strip() == "1", (cp.stdout, cp.stderr)


def test_disabled_admin_cannot_log_in(cli_env, start_daemon):
    assert create(cli_env, "off@example.test", "admin-pass-11").returncode == 0
    d = start_daemon(data_dir=cli_env["CLOUDYA_DATA_DIR"])
    tok = d.login("off@example.test", "admin-pass-11").json()["token"]
    con = d.db()
    try:
        con.execute("UPDATE users SET disabled=1 WHERE email='off@example.test'")
    finally:
        con.close()
    assert_error(d.get("/api/auth/me", token=tok), 401, "unauthenticated")
    assert_error(d.login("off@example.test", "admin-pass-11"), 401, "unauthenticated")
