"""Containers end to end against the real Docker Engine: lifecycle, validation, ownership,
hardening, logs. The daemons use tests/api/catalog.test.yaml (busybox images); every
container, volume and network a daemon made is removed when it stops (helpers.engine_cleanup).
"""
import json
import re
import socket
import threading
import time

import pytest
import requests

import helpers
from helpers import assert_error, docker, docker_inspect, http, wait_for

HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def cd(tmp_path_factory, cloudyad_binary):
    """A daemon of this module's own, with a first admin."""
    root = str(tmp_path_factory.mktemp("containers"))
    admin = ("admin@containers.test", "admin-pw-" + helpers.random_secret(10))
    d = helpers.start_daemon_process(root + "/data", log_dir=root, admin=admin)
    d.admin_email, d.admin_password = admin
    d.admin_token = d.login(*admin).json()["token"]
    yield d
    problems = d.check_clean_exit()
    assert not problems, "%s\n%s" % (problems, d.log_tail())


def create(d, token, service="nginx", name=None, expect=201, **extra):
    body = {"serviceType": service, "name": name or "c-" + helpers.random_secret(6).lower().replace("_", "x").replace("-", "x")}
    body.update(extra)
    r = d.post("/api/containers/create", token=token, json=body, timeout=60)
    if expect is not None:
        assert r.status_code == expect, "create %s: %d %s" % (body, r.status_code, r.text[:500])
    return r


def get_ok(url, timeout=10.0):
    """GETs url until it answers 200 (a new container needs a moment to listen)."""
    def attempt():
        try:
            r = http("GET", url, timeout=2)
            return r if r.status_code == 200 else None
        except requests.RequestException:
            return None
    return wait_for(attempt, timeout=timeout, what="GET %s to answer 200" % url)


# --- catalog -----------------------------------------------------------------------------------


def test_catalog_lists_the_seed_services(cd):
    u = cd.new_user()
    r = cd.get("/api/catalog", token=u["token"])
    assert r.status_code == 200
    items = {s["serviceType"]: s for s in r.json()}
    for name, port in (("nginx", 80), ("node", 3000), ("python", 8000), ("postgres", 5432)):
        s = items[name]
        assert s["port"] == port
        assert set(s) >= {"serviceType", "image", "port", "description", "memoryMb", "cpus"}


def test_catalog_needs_a_token(cd):
    assert_error(cd.get("/api/catalog"), 401, "unauthenticated")


# --- lifecycle ----------------------------------------------------------------------------------


def test_lifecycle_end_to_end(cd):
    u = cd.new_user()
    t = u["token"]
    r = create(cd, t, "nginx", "web")
    j = r.json()
    assert set(j) >= {"containerId", "name", "url", "status"}
    assert HEX64.match(j["containerId"]), j
    assert j["name"] == "web" and j["status"] == "running"
    assert re.match(r"^http://[^:]+:\d+$", j["url"]), j["url"]
    cid = j["containerId"]
    port = int(j["url"].rsplit(":", 1)[1])
    page = get_ok("http://127.0.0.1:%d/" % port)
    assert "cloudya" in page.text.lower() or len(page.text) > 0

    lst = cd.get("/api/containers", token=t).json()
    assert [c["id"] for c in lst] == [cid]
    c = lst[0]
    assert c["name"] == "web" and c["serviceType"] == "nginx" and c["status"] == "running"
    assert c["hostPort"] == port and c["clientId"] == u["user"]["clientId"]
    assert helpers.RFC3339_UTC_RE.match(c["createdAt"]) and c["expiresAt"] is None
    assert c["image"]

    for ref in (cid, cid[:12], cid[:20], "web"):
        g = cd.get("/api/containers/" + ref, token=t)
        assert g.status_code == 200, (ref, g.text)
        assert g.json()["id"] == cid
    detail = cd.get("/api/containers/web", token=t).json()
    assert detail["limits"]["memoryMb"] == 64 and detail["limits"]["pidsLimit"] > 0
    assert detail["ports"][0]["containerPort"] == 80 and detail["ports"][0]["hostPort"] == port

    s = cd.post("/api/containers/%s/stop" % cid, token=t)
    assert s.status_code == 200 and s.json() == {"containerId": cid, "status": "stopped"}
    assert docker_inspect(cid)["State"]["Running"] is False
    assert cd.get("/api/containers/web", token=t).json()["status"] == "stopped"
    # stopping again is not an error
    assert cd.post("/api/containers/web/stop", token=t).status_code == 200

    s = cd.post("/api/containers/web/start", token=t)
    assert s.status_code == 200 and s.json()["status"] == "running"
    assert docker_inspect(cid)["State"]["Running"] is True
    started = docker_inspect(cid)["State"]["StartedAt"]
    s = cd.post("/api/containers/web/restart", token=t)
    assert s.status_code == 200 and s.json()["status"] == "running"
    assert docker_inspect(cid)["State"]["StartedAt"] != started
    page = get_ok(cd.get("/api/containers/web", token=t).json()["url"].replace("localhost", "127.0.0.1"))

    dl = cd.request("DELETE", "/api/containers/web", token=t)
    assert dl.status_code == 200 and dl.json() == {"containerId": cid, "deleted": True}
    assert docker_inspect(cid) is None
    assert cd.get("/api/containers", token=t).json() == []
    assert_error(cd.get("/api/containers/" + cid, token=t), 404, "not_found")
    # the name is free again
    create(cd, t, "nginx", "web")
    assert cd.request("DELETE", "/api/containers/web", token=t).status_code == 200


def test_me_reports_usage(cd):
    u = cd.new_user()
    t = u["token"]
    create(cd, t, "nginx", "a1")
    create(cd, t, "python", "a2")
    cd.post("/api/containers/a2/stop", token=t)
    me = cd.get("/api/auth/me", token=t).json()
    assert me["client"]["usage"]["containers"] == 2
    assert me["client"]["usage"]["running"] == 1
    assert me["client"]["usage"]["memoryMb"] == 128
    assert abs(me["client"]["usage"]["cpus"] - 0.2) < 1e-6


def test_every_mutation_is_audited(cd):
    u = cd.new_user()
    t = u["token"]
    create(cd, t, "nginx", "aud")
    cd.post("/api/containers/aud/stop", token=t)
    cd.post("/api/containers/aud/start", token=t)
    cd.post("/api/containers/aud/restart", token=t)
    cd.request("DELETE", "/api/containers/aud", token=t)
    create(cd, t, "nginx", "BAD", expect=400)
    con = cd.db()
    try:
        rows = con.execute("SELECT action, result, target FROM audit_log WHERE client_id = ? ORDER BY id",
                           (u["user"]["clientId"],)).fetchall()
    finally:
        con.close()
    actions = [(a, res) for a, res, tgt in rows if a.startswith("container.")]
    for a in ("container.create", "container.stop", "container.start", "container.restart",
              "container.delete"):
        assert (a, "success") in actions, rows


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "", "Web", "-web", "web-", "a" * 64, "we_b", "we.b", "we b", "wéb", "../x", "a\x00b",
])
def test_create_refuses_bad_names(cd, name):
    u = cd.new_user()
    r = create(cd, u["token"], "nginx", name=None, expect=None) if False else cd.post(
        "/api/containers/create", token=u["token"], json={"serviceType": "nginx", "name": name})
    assert_error(r, 400, "invalid_field")
    assert "name" in r.json()["error"]


@pytest.mark.parametrize("body,field", [
    ({"name": "x"}, "serviceType"),
    ({"serviceType": "nginx"}, "name"),
    ({"serviceType": "mysql", "name": "x"}, "serviceType"),
    ({"serviceType": 5, "name": "x"}, "serviceType"),
    ({"serviceType": "nginx", "name": 5}, "name"),
    ({"serviceType": "nginx", "name": "x", "env": []}, "env"),
    ({"serviceType": "nginx", "name": "x", "env": {"A": 1}}, "env"),
    ({"serviceType": "nginx", "name": "x", "env": {"1A": "v"}}, "env"),
    ({"serviceType": "nginx", "name": "x", "env": {"A-B": "v"}}, "env"),
    ({"serviceType": "nginx", "name": "x", "env": {"K%d" % i: "v" for i in range(33)}}, "env"),
    ({"serviceType": "nginx", "name": "x", "env": {"A": "v" * 5000}}, "env"),
    ({"serviceType": "nginx", "name": "x", "ttl": "soon"}, "ttl"),
    ({"serviceType": "nginx", "name": "x", "ttl": "10s"}, "ttl"),
    ({"serviceType": "nginx", "name": "x", "ttl": "99d"}, "ttl"),
    ({"serviceType": "nginx", "name": "x", "ttl": "-2h"}, "ttl"),
    ({"serviceType": "nginx", "name": "x", "privileged": True}, "privileged"),
    ({"serviceType": "nginx", "name": "x", "HostConfig": {"Binds": ["/:/host"]}}, "HostConfig"),
    ({"serviceType": "nginx", "name": "x", "image": "alpine"}, "image"),
    ({"serviceType": "postgres", "name": "x", "env": {"POSTGRES_PASSWORD": "mine"}}, "POSTGRES_PASSWORD"),
])
def test_create_refuses_bad_fields(cd, body, field):
    u = cd.new_user()
    r = cd.post("/api/containers/create", token=u["token"], json=body)
    assert_error(r, 400, "invalid_field")
    assert field in r.json()["error"], r.json()
    assert cd.get("/api/containers", token=u["token"]).json() == []


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'"x"', b"{", b'{"name":"a","name":"b"}'])
def test_create_refuses_bad_json(cd, raw):
    u = cd.new_user()
    r = cd.post("/api/containers/create", token=u["token"], data=raw,
                headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] in ("invalid_json", "invalid_field")


def test_create_needs_a_token(cd):
    assert_error(cd.post("/api/containers/create", json={"serviceType": "nginx", "name": "x"}), 401,
                 "unauthenticated")
    assert_error(cd.get("/api/containers"), 401, "unauthenticated")


def test_duplicate_name_is_a_conflict(cd):
    u = cd.new_user()
    create(cd, u["token"], "nginx", "dup")
    r = create(cd, u["token"], "python", "dup", expect=409)
    assert_error(r, 409, "conflict")
    assert len(cd.get("/api/containers", token=u["token"]).json()) == 1
    # another tenant may use the same name
    v = cd.new_user()
    create(cd, v["token"], "nginx", "dup")


def test_missing_image_is_a_clear_error_and_leaves_nothing(cd):
    u = cd.new_user()
    r = create(cd, u["token"], "broken", "nope", expect=None)
    assert_error(r, 503, "image_unavailable")
    assert "cloudya/does-not-exist:never" in r.json()["error"]
    assert cd.get("/api/containers", token=u["token"]).json() == []
    assert not [c for c in helpers.engine_containers(cd.instance_id()).values()
                if c["Config"]["Labels"].get("clientId") == u["user"]["clientId"]]
    # the quota slot was given back
    me = cd.get("/api/auth/me", token=u["token"]).json()
    assert me["client"]["usage"]["containers"] == 0


@pytest.mark.parametrize("q", ["tail=-1", "tail=abc", "tail=10001", "since=yesterday",
                               "timestamps=maybe", "follow=2"])
def test_logs_refuse_bad_parameters(cd, q):
    u = cd.new_user()
    create(cd, u["token"], "nginx", "lg")
    assert_error(cd.get("/api/containers/lg/logs?" + q, token=u["token"]), 400, "invalid_field")


@pytest.mark.parametrize("ref", ["nope", "0" * 64, "abcdef012345", "a" * 65, "..", "x%2Fy", "%00"])
def test_unknown_references_are_404(cd, ref):
    u = cd.new_user()
    for method, path in (("GET", ""), ("POST", "/start"), ("POST", "/stop"), ("POST", "/restart"),
                         ("DELETE", ""), ("GET", "/logs")):
        r = cd.request(method, "/api/containers/" + ref + path, token=u["token"])
        assert r.status_code == 404, (method, ref, path, r.status_code, r.text)


# --- quotas --------------------------------------------------------------------------------------


def test_quota_race_twenty_creates_against_ten(cd):
    u = cd.new_user()
    t = u["token"]
    results = []
    barrier = threading.Barrier(20)

    def one(i):
        barrier.wait()
        r = cd.post("/api/containers/create", token=t, json={"serviceType": "nginx", "name": "q%d" % i},
                    timeout=120)
        results.append((r.status_code, r.json().get("code")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ok = [r for r in results if r[0] == 201]
    refused = [r for r in results if r[0] == 403]
    assert len(ok) == 10 and len(refused) == 10, results
    assert all(code == "quota_exceeded" for _, code in refused)
    lst = cd.get("/api/containers", token=t).json()
    assert len(lst) == 10 and all(c["status"] == "running" for c in lst)
    mine = [c for c in helpers.engine_containers(cd.instance_id()).values()
            if c["Config"]["Labels"].get("clientId") == u["user"]["clientId"]]
    assert len(mine) == 10


def test_memory_and_cpu_quotas(start_daemon):
    d = start_daemon(env={"CLOUDYA_QUOTA_MEMORY_MB": "150", "CLOUDYA_QUOTA_CPUS": "1"})
    u = d.new_user()
    create(d, u["token"], "nginx", "m1")
    create(d, u["token"], "nginx", "m2")
    r = create(d, u["token"], "nginx", "m3", expect=403)
    assert_error(r, 403, "quota_exceeded")
    assert "memory" in r.json()["error"].lower()
    d.request("DELETE", "/api/containers/m1", token=u["token"])
    create(d, u["token"], "nginx", "m3")
    d2 = start_daemon(env={"CLOUDYA_QUOTA_CPUS": "0.15"})
    v = d2.new_user()
    create(d2, v["token"], "nginx", "c1")
    r = create(d2, v["token"], "nginx", "c2", expect=403)
    assert "cpu" in r.json()["error"].lower()


# --- ownership (BOLA) ------------------------------------------------------------------------------


def test_another_tenant_gets_404_everywhere_and_changes_nothing(cd):
    a = cd.new_user()
    b = cd.new_user()
    j = create(cd, a["token"], "nginx", "secret").json()
    cid = j["containerId"]
    before = docker_inspect(cid)["State"]["StartedAt"]
    for ref in (cid, cid[:12], cid[:30], "secret"):
        for method, path in (("GET", ""), ("POST", "/start"), ("POST", "/stop"), ("POST", "/restart"),
                             ("DELETE", ""), ("GET", "/logs"), ("GET", "/logs?follow=1")):
            r = cd.request(method, "/api/containers/" + ref + path, token=b["token"], timeout=10)
            assert_error(r, 404, "not_found")
    assert cd.get("/api/containers", token=b["token"]).json() == []
    # nothing changed for A
    st = docker_inspect(cid)["State"]
    assert st["Running"] is True and st["StartedAt"] == before
    assert cd.get("/api/containers/secret", token=a["token"]).json()["status"] == "running"
    # B may even use the same name without touching A's
    create(cd, b["token"], "nginx", "secret")
    assert cd.get("/api/containers/secret", token=a["token"]).json()["id"] == cid


def test_admin_sees_and_manages_every_managed_container(cd):
    a = cd.new_user()
    cid = create(cd, a["token"], "nginx", "adm").json()["containerId"]
    t = cd.admin_token
    all_ = cd.get("/api/containers", token=t).json()
    assert cid in [c["id"] for c in all_]
    only = cd.get("/api/containers?clientId=" + a["user"]["clientId"], token=t).json()
    assert [c["id"] for c in only] == [cid]
    assert cd.get("/api/containers?clientId=cnope", token=t).json() == []
    assert cd.post("/api/containers/%s/stop" % cid, token=t).status_code == 200
    assert cd.post("/api/containers/%s/start" % cid[:12], token=t).status_code == 200
    # a client's ?clientId= is ignored: it sees its own tenant only
    b = cd.new_user()
    assert cd.get("/api/containers?clientId=" + a["user"]["clientId"], token=b["token"]).json() == []


def test_admin_never_reaches_unmanaged_host_containers(cd):
    name = "unmanaged-" + helpers.random_secret(6).lower()
    cid = docker("run", "-d", "--name", name, "cloudya/busybox:test").strip()
    try:
        for ref in (cid, cid[:12], name):
            for method, path in (("GET", ""), ("POST", "/stop"), ("DELETE", ""), ("GET", "/logs")):
                r = cd.request(method, "/api/containers/" + ref + path, token=cd.admin_token)
                assert_error(r, 404, "not_found")
        assert docker_inspect(cid)["State"]["Running"] is True
        assert cid not in [c["id"] for c in cd.get("/api/containers", token=cd.admin_token).json()]
    finally:
        docker("rm", "-f", cid, check=False)


# --- isolation and hardening --------------------------------------------------------------------


def _ip(cid):
    nets = docker_inspect(cid)["NetworkSettings"]["Networks"]
    return list(nets.values())[0]["IPAddress"]


def _nc(from_cid, ip, port):
    cp = __import__("subprocess").run(
        ["docker", "exec", "-i", from_cid, "/bin/busybox", "nc", "-w", "2", ip, str(port)],
        input="GET / HTTP/1.0\r\n\r\n", capture_output=True, text=True, timeout=20)
    return cp.stdout


def test_tenants_cannot_reach_each_other(cd):
    a = cd.new_user()
    b = cd.new_user()
    a1 = create(cd, a["token"], "nginx", "one").json()["containerId"]
    a2 = create(cd, a["token"], "nginx", "two").json()["containerId"]
    b1 = create(cd, b["token"], "nginx", "one").json()["containerId"]
    # positive control: A's own containers talk to each other
    assert "HTTP/1." in wait_for(lambda: _nc(a2, _ip(a1), 80), timeout=10, what="A to A")
    assert _nc(a1, _ip(b1), 80) == ""
    assert _nc(b1, _ip(a1), 80) == ""
    na = list(docker_inspect(a1)["NetworkSettings"]["Networks"])
    nb = list(docker_inspect(b1)["NetworkSettings"]["Networks"])
    assert na != nb and na[0] != "bridge" and nb[0] != "bridge"


def test_hardened_settings_are_visible_in_docker_inspect(cd):
    u = cd.new_user()
    cid = create(cd, u["token"], "nginx", "hard", env={"GREETING": "hi"}).json()["containerId"]
    j = docker_inspect(cid)
    h = j["HostConfig"]
    assert h["Memory"] == 64 * 1024 * 1024
    assert h["MemorySwap"] == h["Memory"]
    assert h["NanoCpus"] == int(0.1 * 1e9)
    assert 0 < h["PidsLimit"] <= 4096
    assert "no-new-privileges" in (h["SecurityOpt"] or [])
    assert h["CapDrop"] == ["ALL"]
    assert set(h["CapAdd"] or []) <= {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID",
                                      "NET_BIND_SERVICE"}
    assert h["Privileged"] is False
    assert not h.get("Binds") and not h.get("Devices")
    for mode in ("PidMode", "IpcMode", "UTSMode", "UsernsMode", "CgroupnsMode"):
        assert h.get(mode, "") != "host"
    assert list(j["NetworkSettings"]["Networks"]) == ["cy-net-" + u["user"]["clientId"]]
    assert h["NetworkMode"] not in ("host", "bridge", "default", "none")
    assert all(m["Type"] == "volume" for m in j["Mounts"])
    labels = j["Config"]["Labels"]
    assert labels["clientId"] == u["user"]["clientId"]
    assert labels["serviceType"] == "nginx"
    assert labels["com.container-manager.managed"] == "true"
    assert labels["com.cloudya.instance"] == cd.instance_id()
    assert labels["com.cloudya.name"] == "hard"
    assert "GREETING=hi" in j["Config"]["Env"]
    ports = j["NetworkSettings"]["Ports"]["80/tcp"]
    assert ports and int(ports[0]["HostPort"]) > 0


def test_postgres_type_gets_a_volume_and_a_password_once(cd):
    u = cd.new_user()
    j = create(cd, u["token"], "postgres", "db").json()
    assert re.match(r"^[0-9a-f]{32}$", j.get("password", "")), j
    cid = j["containerId"]
    ins = docker_inspect(cid)
    assert "POSTGRES_PASSWORD=" + j["password"] in ins["Config"]["Env"]
    vols = [m for m in ins["Mounts"] if m["Type"] == "volume"]
    assert len(vols) == 1 and vols[0]["Destination"] == "/var/lib/postgresql/data"
    vol = vols[0]["Name"]
    # shown once: never again
    assert j["password"] not in cd.get("/api/containers/db", token=u["token"]).text
    assert j["password"] not in cd.get("/api/containers", token=u["token"]).text
    con = cd.db()
    try:
        dump = "\n".join(str(r) for r in con.execute("SELECT * FROM containers"))
        dump += "\n".join(str(r) for r in con.execute("SELECT * FROM audit_log"))
    finally:
        con.close()
    assert j["password"] not in dump
    assert docker_inspect(vol, "volume") is not None
    assert cd.request("DELETE", "/api/containers/db", token=u["token"]).status_code == 200
    assert docker_inspect(vol, "volume") is None


def test_ttl_sets_expiry(cd):
    u = cd.new_user()
    j = create(cd, u["token"], "nginx", "tmp", ttl="2h").json()
    assert helpers.RFC3339_UTC_RE.match(j["expiresAt"])
    c = cd.get("/api/containers/tmp", token=u["token"]).json()
    exp = time.mktime(time.strptime(c["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(exp - (time.time() + 7200)) < 60


# --- logs --------------------------------------------------------------------------------------


def test_logs_tail_timestamps_since(cd):
    u = cd.new_user()
    t = u["token"]
    create(cd, t, "logger", "lg")
    wait_for(lambda: len(cd.get("/api/containers/lg/logs", token=t).json()["lines"]) >= 6, timeout=15,
             what="log lines")
    j = cd.get("/api/containers/lg/logs?tail=4", token=t).json()
    assert len(j["lines"]) == 4 and HEX64.match(j["containerId"])
    assert any(line.startswith("out ") for line in j["lines"]) or any(line.startswith("err ") for line in j["lines"])
    ts = cd.get("/api/containers/lg/logs?tail=2&timestamps=1", token=t).json()["lines"]
    assert all(re.match(r"^\d{4}-\d{2}-\d{2}T", line) for line in ts), ts
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert cd.get("/api/containers/lg/logs?since=" + future, token=t).json()["lines"] == []
    assert len(cd.get("/api/containers/lg/logs?tail=all", token=t).json()["lines"]) >= 6
    assert cd.get("/api/containers/lg/logs?tail=0", token=t).json()["lines"] == []


def test_logs_follow_streams_until_the_client_leaves(cd):
    u = cd.new_user()
    t = u["token"]
    create(cd, t, "logger", "fl")
    with requests.get(cd.url("/api/containers/fl/logs?follow=1&tail=1"), headers=helpers.auth(t),
                      stream=True, timeout=10) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        assert r.headers.get("Transfer-Encoding") == "chunked"
        got = []
        start = time.monotonic()
        for line in r.iter_lines():
            got.append(line.decode())
            if len(got) >= 5 or time.monotonic() - start > 10:
                break
    assert len(got) >= 5, got
    nums = [int(x.split()[1]) for x in got if x.startswith("out ")]
    assert nums == sorted(nums) and len(nums) >= 2
    # the daemon is fine and serves the next request
    cd.assert_alive()
    assert cd.get("/api/containers/fl", token=t).status_code == 200


def test_many_followers_and_quick_disconnects(cd):
    u = cd.new_user()
    t = u["token"]
    create(cd, t, "logger", "mf")
    for _ in range(10):
        s = socket.create_connection(("127.0.0.1", cd.port), timeout=5)
        s.sendall(("GET /api/containers/mf/logs?follow=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % t).encode())
        s.recv(100)
        s.close()
    time.sleep(2)
    cd.assert_alive()
    assert cd.get("/api/containers/mf/logs?tail=1", token=t).status_code == 200
