"""The live channel (GET /api/ws) end to end with Debian's python3-websocket: the three ways
to authenticate, stats / events / logs subscriptions on real containers, tenancy (nothing of
another tenant ever arrives), bad messages, Origin checks, and a client that stops reading
being cut off while the others go on.
"""
import json
import socket
import threading
import time

import pytest
import websocket

import helpers
from helpers import assert_error, wait_for


@pytest.fixture(scope="module")
def wd(tmp_path_factory, cloudyad_binary):
    with helpers.module_daemon(tmp_path_factory, "ws") as d:
        yield d


def ws_url(d, query=""):
    return "ws://127.0.0.1:%d/api/ws%s" % (d.port, query)


def connect(d, token=None, query="", **kw):
    header = ["Authorization: Bearer " + token] if token else []
    return websocket.create_connection(ws_url(d, query), header=header, timeout=10, **kw)


def name():
    return "w" + helpers.random_secret(8).lower().replace("_", "x").replace("-", "x")


def create(d, token, service="nginx"):
    r = d.post("/api/containers/create", token=token,
               json={"serviceType": service, "name": name()}, timeout=60)
    assert r.status_code == 201, r.text
    return r.json()["containerId"]


def send(ws, **msg):
    ws.send(json.dumps(msg))


def sync(ws):
    """Messages are handled in order: an unknown type's error answer means every earlier
    message was handled."""
    send(ws, type="sync-" + helpers.random_secret(4))
    return until(ws, lambda m: m["type"] == "error" and "type must be" in m["error"], what="the sync error")


def until(ws, pred, timeout=10.0, what="a message", seen=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            m = json.loads(ws.recv())
        except websocket.WebSocketTimeoutException:
            break
        if seen is not None:
            seen.append(m)
        if pred(m):
            return m
    raise AssertionError("no %s within %.0f s" % (what, timeout))


def drain(ws, seconds):
    got = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ws.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            got.append(json.loads(ws.recv()))
        except websocket.WebSocketTimeoutException:
            break
    return got


def test_stats_by_header_token(wd):
    u = wd.new_user()
    cid = create(wd, u["token"])
    ws = connect(wd, u["token"])
    send(ws, type="subscribe", topic="stats")
    m = until(ws, lambda m: m["type"] == "stats", what="a stats message")
    assert m["containerId"] == cid
    assert set(m["data"]) >= {"cpu", "memory", "network", "timestamp"}
    assert m["data"]["memory"]["limitFormatted"] == "64 MB"
    # About one per second per container.
    got = drain(ws, 3.2)
    n = len([x for x in got if x["type"] == "stats"])
    assert 2 <= n <= 5, got
    send(ws, type="unsubscribe", topic="stats")
    sync(ws)
    assert [x for x in drain(ws, 1.5) if x["type"] == "stats"] == []
    ws.close()


def test_first_message_auth_and_ticket(wd):
    u = wd.new_user()
    cid = create(wd, u["token"])
    # First message.
    ws = connect(wd)
    send(ws, type="subscribe", topic="stats")
    m = until(ws, lambda m: m["type"] == "error", what="an error before auth")
    assert m["code"] == "unauthenticated"
    ws2 = connect(wd)
    send(ws2, type="auth", token=u["token"])
    send(ws2, type="subscribe", topic="stats", containerId=cid)
    assert until(ws2, lambda m: m["type"] == "stats")["containerId"] == cid
    ws2.close()
    # Ticket: single use, bound to the caller.
    r = wd.post("/api/ws/ticket", token=u["token"])
    assert r.status_code == 201
    t = r.json()
    assert len(t["ticket"]) == 64 and 0 < t["expiresIn"] <= 30
    ws3 = connect(wd, query="?ticket=" + t["ticket"])
    send(ws3, type="subscribe", topic="stats", containerId=cid)
    assert until(ws3, lambda m: m["type"] == "stats")["containerId"] == cid
    ws3.close()
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        connect(wd, query="?ticket=" + t["ticket"])
    assert e.value.status_code == 401
    assert_error(wd.post("/api/ws/ticket"), 401, "unauthenticated")
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        connect(wd, token="not-a-token")
    assert e.value.status_code == 401


def test_bad_auth_message_closes(wd):
    ws = connect(wd)
    send(ws, type="auth", token="nope")
    m = until(ws, lambda m: m["type"] == "error")
    assert m["code"] == "unauthenticated"
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
        for _ in range(5):
            ws.recv()


def test_events_and_tenancy(wd):
    a, b = wd.new_user(), wd.new_user()
    wa, wb = connect(wd, a["token"]), connect(wd, b["token"])
    for w in (wa, wb):
        send(w, type="subscribe", topic="events")
        send(w, type="subscribe", topic="stats")
        sync(w)
    cid = create(wd, a["token"])
    seen = []
    until(wa, lambda m: m["type"] == "event" and m["action"] == "start" and m["containerId"] == cid,
          what="the start event", seen=seen)
    actions = [m["action"] for m in seen if m["type"] == "event"]
    assert "create" in actions, actions
    ev = [m for m in seen if m["type"] == "event"][-1]
    assert ev["time"].endswith("Z") and ev.get("name")
    r = wd.post("/api/containers/%s/stop" % cid, token=a["token"], timeout=30)
    assert r.status_code == 200
    until(wa, lambda m: m["type"] == "event" and m["action"] == "die", what="the die event")
    # Tenant b subscribed to everything of its own: it got nothing of a's.
    got = drain(wb, 1.0)
    assert [m for m in got if m.get("containerId") == cid] == [], got
    assert all(m["type"] != "event" for m in got), got
    # Naming a's container is "not found" for b, exactly as on REST.
    send(wb, type="subscribe", topic="stats", containerId=cid)
    m = until(wb, lambda m: m["type"] == "error")
    assert m["code"] == "not_found"
    send(wb, type="subscribe", topic="logs", containerId=cid)
    assert until(wb, lambda m: m["type"] == "error")["code"] == "not_found"
    # An admin's "all" covers every tenant.
    wad = connect(wd, wd.admin_token)
    send(wad, type="subscribe", topic="events")
    sync(wad)
    wd.post("/api/containers/%s/start" % cid, token=a["token"], timeout=30)
    until(wad, lambda m: m["type"] == "event" and m["containerId"] == cid and m["action"] == "start",
          what="the admin's view of the start")
    for w in (wa, wb, wad):
        w.close()


def test_logs_follow(wd):
    u = wd.new_user()
    cid = create(wd, u["token"], "logger")
    ws = connect(wd, u["token"])
    send(ws, type="subscribe", topic="logs", containerId=cid, tail=0)
    m = until(ws, lambda m: m["type"] == "log", what="a log line")
    assert m["containerId"] == cid and m["stream"] in ("stdout", "stderr")
    seen = []
    until(ws, lambda m: m["type"] == "log" and m["stream"] == "stderr", seen=seen)
    until(ws, lambda m: m["type"] == "log" and m["stream"] == "stdout", seen=seen)
    lines = [m["line"] for m in seen if m["type"] == "log" and m["stream"] == "stdout"]
    assert all(l.startswith("out ") for l in lines), lines
    send(ws, type="subscribe", topic="logs")
    assert until(ws, lambda m: m["type"] == "error")["code"] == "bad_message"
    send(ws, type="unsubscribe", topic="logs", containerId=cid)
    sync(ws)
    time.sleep(1.5)
    drain(ws, 0.3)
    assert [m for m in drain(ws, 1.0) if m["type"] == "log"] == []
    ws.close()


def test_logs_stream_that_ends_then_resubscribe(wd):
    """A followed container that stops ends its log stream on the server's side; unsubscribing
    and subscribing again afterwards must work (it once read the ended stream's freed
    record). The daemon's sanitizer build checks the memory at teardown."""
    u = wd.new_user()
    cid = create(wd, u["token"], "logger")
    ws = connect(wd, u["token"])
    send(ws, type="subscribe", topic="logs", containerId=cid, tail=0)
    until(ws, lambda m: m["type"] == "log", what="a log line")
    r = wd.post("/api/containers/%s/stop" % cid, token=u["token"], timeout=60)
    assert r.status_code == 200, r.text
    time.sleep(1.5)  # the stream ends with the container
    drain(ws, 0.3)
    send(ws, type="unsubscribe", topic="logs", containerId=cid)
    send(ws, type="subscribe", topic="logs", containerId=cid, tail=1)
    sync(ws)
    assert wd.post("/api/containers/%s/start" % cid, token=u["token"], timeout=60).status_code == 200
    send(ws, type="unsubscribe", topic="logs", containerId=cid)
    send(ws, type="subscribe", topic="logs", containerId=cid, tail=0)
    until(ws, lambda m: m["type"] == "log", what="a log line after the restart")
    ws.close()
    assert wd.alive()


@pytest.mark.parametrize("msg,code", [
    ("not json", "bad_message"),
    ("[1,2]", "bad_message"),
    ('{"type": 5}', "bad_message"),
    ('{"type":"subscribe"}', "bad_message"),
    ('{"type":"subscribe","topic":"weather"}', "bad_message"),
    ('{"type":"subscribe","topic":"stats","containerId":7}', "bad_message"),
    ('{"type":"subscribe","topic":"stats","containerId":"nope"}', "not_found"),
    ('{"type":"subscribe","topic":"logs","containerId":"x","tail":-1}', "bad_message"),
    ('{"type":"unsubscribe","topic":"events"}', "not_subscribed"),
    ('{"type":"subscribe","type":"subscribe"}', "bad_message"),
    ('{"a":' * 100 + "1" + "}" * 100, "bad_message"),
])
def test_bad_messages_get_an_error_and_the_connection_stays(wd, msg, code):
    u = wd.new_user()
    ws = connect(wd, u["token"])
    ws.send(msg)
    m = until(ws, lambda m: m["type"] == "error")
    assert m["code"] == code, m
    assert isinstance(m["error"], str) and m["error"]
    sync(ws)  # still answering
    ws.close()
    wd.assert_alive()


def test_oversized_message_closes_1009(wd):
    u = wd.new_user()
    ws = connect(wd, u["token"])
    ws.send("x" * (70 * 1024))
    op, data = ws.recv_data(control_frame=True)
    assert op == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(data[:2], "big") == 1009
    wd.assert_alive()


def test_origin_checked(wd):
    u = wd.new_user()
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        connect(wd, u["token"], origin="http://evil.example")
    assert e.value.status_code == 403
    ws = connect(wd, u["token"], origin="http://127.0.0.1:%d" % wd.port)
    sync(ws)
    ws.close()


def test_plain_get_is_not_an_upgrade(wd):
    u = wd.new_user()
    r = wd.get("/api/ws", token=u["token"])
    assert r.status_code in (400, 426)
    assert r.json()["code"]


def test_slow_reader_is_cut_off_others_continue(wd):
    u = wd.new_user()
    chatty = create(wd, u["token"], "chatty")
    quiet = create(wd, u["token"])
    good = connect(wd, u["token"])
    send(good, type="subscribe", topic="stats", containerId=quiet)
    until(good, lambda m: m["type"] == "stats")
    # A reader with a tiny receive buffer that never reads.
    slow = connect(wd, u["token"], sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    send(slow, type="subscribe", topic="logs", containerId=chatty, tail=0)

    def cut():
        m = wd.get("/metrics").text
        for line in m.splitlines():
            if line.startswith("cloudya_ws_slow_disconnects_total "):
                return float(line.split()[1]) >= 1
        return False
    wait_for(cut, timeout=30, what="the slow reader to be cut off")
    assert "does not read its messages" in wd.log()
    # The good client still gets its stats every second.
    got = drain(good, 2.5)
    assert len([m for m in got if m["type"] == "stats"]) >= 1
    good.close()
    slow.close()
    wd.post("/api/containers/%s/stop" % chatty, token=u["token"], timeout=30)


def test_many_subscribers_fan_out(wd):
    u = wd.new_user()
    cid = create(wd, u["token"])
    clients = [connect(wd, u["token"]) for _ in range(30)]
    for c in clients:
        send(c, type="subscribe", topic="stats", containerId=cid)
    results = []

    def read(c):
        try:
            results.append(until(c, lambda m: m["type"] == "stats", timeout=10))
        except AssertionError:
            pass
    ts = [threading.Thread(target=read, args=(c,)) for c in clients]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(results) == 30
    for c in clients:
        c.close()


def test_logout_ends_open_sessions(wd):
    u = wd.new_user()
    cid = create(wd, u["token"])
    ws = connect(wd, u["token"])
    send(ws, type="subscribe", topic="stats", containerId=cid)
    until(ws, lambda m: m["type"] == "stats")
    other = wd.login(u["email"], u["password"]).json()["token"]  # a second token, same user
    ws2 = connect(wd, other)
    sync(ws2)
    assert wd.post("/api/auth/logout", token=u["token"]).status_code == 204
    ws.settimeout(5)
    code = None
    for _ in range(20):
        op, data = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big")
            assert b"revoked" in data[2:]
            break
    assert code == 1008
    sync(ws2)  # the other token's session goes on
    ws2.close()
