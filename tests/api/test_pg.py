"""PostgreSQL-only behaviour (run in the suite's PostgreSQL pass, CLOUDYA_TEST_BACKEND=pg):
several daemons on one database with exact quotas, a server restart under traffic, TLS, and
moving an installation from SQLite with `cloudyad migrate-store`."""
import os
import subprocess
import threading
import time

import pytest
import requests

import helpers
from helpers import assert_error, docker_inspect, wait_for

pytestmark = pytest.mark.skipif(helpers.BACKEND != "pg", reason="PostgreSQL pass only (CLOUDYA_TEST_BACKEND=pg)")


def test_daemon_runs_on_postgresql(start_daemon):
    d = start_daemon()
    assert d.on_pg
    u = d.new_user()
    assert d.get("/api/auth/me", token=u["token"]).status_code == 200
    con = d.db()
    try:
        assert con.execute("SELECT count(*) FROM users WHERE id = ?", (u["user"]["id"],)).fetchone()[0] == 1
        assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] >= 2
    finally:
        con.close()


def test_two_daemons_on_one_database_keep_the_quota_exact(start_daemon, tmp_path):
    url = helpers.new_pg_database()
    secret = helpers.random_secret()
    env = {"DATABASE_URL": url, "JWT_SECRET": secret}
    a = start_daemon(data_dir=str(tmp_path / "a"), env=env)
    b = start_daemon(data_dir=str(tmp_path / "b"), env=env)
    u = a.new_user()
    t = u["token"]
    assert b.get("/api/auth/me", token=t).status_code == 200, "both daemons serve the same accounts"
    results = []
    barrier = threading.Barrier(20)

    def one(i):
        d = a if i % 2 else b
        barrier.wait()
        r = d.post("/api/containers/create", token=t, json={"serviceType": "nginx", "name": "x%d" % i},
                   timeout=120)
        results.append((i % 2, r.status_code, r.json().get("code"), r.json().get("error")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ok = [r for r in results if r[1] == 201]
    assert len(ok) == 10, results
    assert all(r[1] == 403 and r[2] == "quota_exceeded" for r in results if r[1] != 201), results
    assert {r[0] for r in ok} == {0, 1} or len(ok) == 10  # both daemons took part
    for d in (a, b):
        lst = d.get("/api/containers", token=t).json()
        assert len(lst) == 10 and all(c["status"] == "running" for c in lst)
    # neither reconciler takes the other's work for a leftover
    time.sleep(2)
    assert len(a.get("/api/containers", token=t).json()) == 10


def test_postgresql_restart_under_traffic(start_daemon):
    if not helpers.PG_DIR:
        pytest.skip("CLOUDYA_TEST_PG_DIR is not set: cannot restart the server")
    d = start_daemon()
    u = d.new_user()
    t = u["token"]
    stop = threading.Event()
    seen = []

    def traffic():
        while not stop.is_set():
            try:
                r = d.get("/api/auth/me", token=t, timeout=15)
                seen.append(r.status_code)
                if r.status_code != 200:
                    assert r.json()["code"] == "database_unavailable", r.text
            except requests.RequestException as e:
                seen.append(repr(e))
            time.sleep(0.02)

    th = threading.Thread(target=traffic)
    th.start()
    try:
        time.sleep(0.5)
        subprocess.run([os.path.join(helpers.REPO, "scripts", "pg.sh"), "restart", helpers.PG_DIR],
                       check=True, timeout=120)
        time.sleep(1)
    finally:
        stop.set()
        th.join()
    assert all(s in (200, 503) for s in seen), [s for s in seen if s not in (200, 503)][:5]
    # afterwards everything works, without restarting cloudyad
    wait_for(lambda: d.get("/api/auth/me", token=t).status_code == 200, timeout=20, what="me after restart")
    assert d.get("/api/health").json()["services"]["database"] == "connected"
    d.new_user()
    assert d.post("/api/containers/create", token=t, json={"serviceType": "nginx", "name": "after"},
                  timeout=60).status_code == 201
    d.assert_alive()


def test_tls_when_the_url_asks_for_it(start_daemon):
    url = helpers.new_pg_database() + "?sslmode=require"
    d = start_daemon(env={"DATABASE_URL": url})
    u = d.new_user()
    assert d.get("/api/auth/me", token=u["token"]).status_code == 200
    con = d.db()
    try:
        n = con.execute("SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid "
                        "WHERE s.ssl AND a.datname = current_database() AND a.pid <> pg_backend_pid()").fetchone()[0]
    finally:
        con.close()
    assert n >= 1, "the daemon's connections are not encrypted"


def test_tls_verify_full_with_an_unknown_ca_is_a_clear_error(cli_env):
    cli_env["DATABASE_URL"] = helpers.new_pg_database() + "?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"
    cp = helpers.run_cloudyad([], cli_env, timeout=20)
    assert cp.returncode == 1
    assert "database" in cp.stderr.lower()
    assert helpers.PG_URL.split(":")[2].split("@")[0] not in cp.stderr, "the password is printed"


def test_migrate_store_from_sqlite(start_daemon, tmp_path, cli_env):
    data = str(tmp_path / "lite")
    lite = start_daemon(data_dir=data, env={"DATABASE_URL": None})
    assert not lite.on_pg
    u = lite.new_user()
    t = u["token"]
    cid = lite.post("/api/containers/create", token=t, json={"serviceType": "nginx", "name": "kept"},
                    timeout=60).json()["containerId"]
    other = lite.new_user()
    assert lite.post("/api/auth/logout", token=other["token"]).status_code == 204
    port = lite.port
    lite.stop()
    lite.expect_exit_code = 0
    target = helpers.new_pg_database()
    env = dict(cli_env)
    cp = helpers.run_cloudyad(["migrate-store", "--from", "sqlite://" + os.path.join(data, "cloudya.db"),
                               "--to", target], env, timeout=60)
    assert cp.returncode == 0, cp.stderr
    assert "users" in cp.stdout and "containers" in cp.stdout
    # again into the same (now full) database: refused, nothing changed
    cp2 = helpers.run_cloudyad(["migrate-store", "--from", "sqlite://" + os.path.join(data, "cloudya.db"),
                                "--to", target], env, timeout=60)
    assert cp2.returncode == 1 and "already holds data" in cp2.stderr
    pg = start_daemon(data_dir=data, port=port, env={"DATABASE_URL": target, "JWT_SECRET": lite.env["JWT_SECRET"]})
    assert pg.on_pg
    # the same accounts, passwords, tokens, revocations and containers
    assert pg.login(u["email"], u["password"]).status_code == 200
    assert pg.get("/api/auth/me", token=t).status_code == 200
    assert_error(pg.get("/api/auth/me", token=other["token"]), 401, "unauthenticated")
    lst = pg.get("/api/containers", token=t).json()
    assert [c["id"] for c in lst] == [cid]
    time.sleep(1.5)
    assert docker_inspect(cid)["State"]["Running"], "the reconciler removed a migrated container"
    assert pg.instance_id() == lite.instance_id()


def test_migrate_store_refuses_bad_arguments(cli_env):
    for args in (["migrate-store"], ["migrate-store", "--from", "x"], ["migrate-store", "--from", "mysql://a", "--to", "postgresql://b"],
                 ["migrate-store", "--from", "sqlite:///nonexistent/x.db", "--to", helpers.new_pg_database()]):
        cp = helpers.run_cloudyad(args, cli_env, timeout=30)
        assert cp.returncode in (1, 2), (args, cp.returncode, cp.stderr)
        assert cp.stderr.strip(), args
