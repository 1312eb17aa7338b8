"""The real services, built offline by scripts/images.sh (catalog/catalog.offline.yaml):
nginx serves its page through the container's URL and logs the request; postgres accepts the
generated password (returned once) and refuses another, and keeps its data in its volume."""
import os
import shutil
import subprocess

import pytest
import requests

import helpers
from helpers import docker_inspect, http, wait_for


@pytest.fixture(scope="module")
def od(tmp_path_factory, cloudyad_binary):
    root = str(tmp_path_factory.mktemp("images"))
    d = helpers.start_daemon_process(root + "/data", log_dir=root,
                                     env_extra={"CLOUDYA_CATALOG": helpers.OFFLINE_CATALOG})
    yield d
    problems = d.check_clean_exit()
    assert not problems, "%s\n%s" % (problems, d.log_tail())


def test_nginx_url_answers_http(od):
    u = od.new_user()
    t = u["token"]
    r = od.post("/api/containers/create", token=t, json={"serviceType": "nginx", "name": "site"}, timeout=60)
    assert r.status_code == 201, r.text
    j = r.json()
    url = j["url"].replace("localhost", "127.0.0.1")

    def fetch():
        try:
            g = http("GET", url + "/", timeout=2)
            return g if g.status_code == 200 else None
        except requests.RequestException:
            return None

    page = wait_for(fetch, timeout=15, what="nginx to answer")
    assert page.headers.get("Server", "").startswith("nginx")
    logs = wait_for(lambda: [line for line in od.get("/api/containers/site/logs", token=t).json()["lines"]
                             if "GET / HTTP/1.1" in line], timeout=10, what="the access log line")
    assert logs
    assert docker_inspect(j["containerId"])["Config"]["Image"] == "cloudya/nginx:bookworm"


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql (postgresql-client) is not installed")
def test_postgres_password_works_once_given(od):
    u = od.new_user()
    t = u["token"]
    r = od.post("/api/containers/create", token=t, json={"serviceType": "postgres", "name": "db"}, timeout=60)
    assert r.status_code == 201, r.text
    j = r.json()
    port = j["url"].rsplit(":", 1)[1]

    def psql(password, sql="select 41 + 1"):
        env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="3")
        return subprocess.run(["psql", "-h", "127.0.0.1", "-p", port, "-U", "app", "-d", "app", "-tAc", sql],
                              env=env, capture_output=True, text=True, timeout=20)

    ok = wait_for(lambda: psql(j["password"]).returncode == 0, timeout=60, what="postgres to accept the password")
    assert ok
    assert psql(j["password"]).stdout.strip() == "42"
    assert psql("wrong-password").returncode != 0
    assert psql(j["password"], "create table t (x int); insert into t values (7)").returncode == 0
    assert od.post("/api/containers/db/restart", token=t, timeout=60).status_code == 200
    port = od.get("/api/containers/db", token=t).json()["url"].rsplit(":", 1)[1]
    wait_for(lambda: psql(j["password"], "select x from t").stdout.strip() == "7", timeout=60,
             what="the data to survive a restart")
