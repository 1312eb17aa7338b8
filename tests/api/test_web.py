"""The dashboard's side of the daemon: its files served from CLOUDYA_WEB_DIR (content types,
caching, ETags, a strict Content-Security-Policy, the app's own routes, nothing outside the
directory) and the browser session (an HttpOnly SameSite=Strict cookie, X-Requested-With on
changes, the live channel, logout). The files here are a small stand-in app written by the
test; the real app is tested in a browser by tests/e2e/."""
import json
import os

import pytest
import requests
import websocket

import helpers
from helpers import assert_error, http

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
INDEX = b"<!doctype html><title>Cloudya</title><script type=module src=/assets/app-1a2b3c.js></script>"
APP_JS = b"console.log('cloudya');\n"


@pytest.fixture(scope="module")
def webdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("web")
    (d / "assets").mkdir()
    (d / "index.html").write_bytes(INDEX)
    (d / "assets" / "app-1a2b3c.js").write_bytes(APP_JS)
    (d / "assets" / "app-1a2b3c.css").write_bytes(b"body{margin:0}\n")
    (d / "favicon.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    (d / ".hidden").write_bytes(b"secret")
    secret = tmp_path_factory.mktemp("outside") / "secret.txt"
    secret.write_bytes(b"not for the web")
    os.symlink(str(secret), str(d / "link.txt"))
    return str(d)


@pytest.fixture(scope="module")
def wd(tmp_path_factory, cloudyad_binary, webdir):
    with helpers.module_daemon(tmp_path_factory, "web", env_extra={"CLOUDYA_WEB_DIR": webdir}) as d:
        yield d


def get(d, path, **kw):
    return http("GET", d.url(path), **kw)


def test_index_with_security_headers(wd):
    r = get(wd, "/")
    assert r.status_code == 200
    assert r.content == INDEX
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.headers["ETag"].startswith('"') and len(r.headers["ETag"]) == 34
    assert get(wd, "/index.html").content == INDEX


def test_hashed_assets_are_cached_for_a_year(wd):
    r = get(wd, "/assets/app-1a2b3c.js")
    assert r.status_code == 200 and r.content == APP_JS
    assert r.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert get(wd, "/assets/app-1a2b3c.css").headers["Content-Type"] == "text/css; charset=utf-8"
    assert get(wd, "/favicon.svg").headers["Content-Type"] == "image/svg+xml"


def test_etag_revalidation(wd):
    etag = get(wd, "/").headers["ETag"]
    r = get(wd, "/", headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert get(wd, "/", headers={"If-None-Match": '"other"'}).status_code == 200


def test_head(wd):
    r = http("HEAD", wd.url("/assets/app-1a2b3c.js"))
    assert r.status_code == 200 and r.content == b""


def test_the_apps_own_routes_get_the_index(wd):
    for path in ("/containers", "/containers/web", "/admin/clients"):
        r = get(wd, path)
        assert r.status_code == 200 and r.content == INDEX, path


def test_missing_files_and_what_is_not_served(wd):
    for path in ("/assets/app-0000.js", "/missing.css", "/.hidden", "/link.txt"):
        r = get(wd, path)
        assert r.status_code == 404, path
        assert r.headers["Content-Type"].startswith("text/plain")
        assert b"secret" not in r.content and b"not for the web" not in r.content
    # a path that tries to climb out names no file: never anything outside the directory
    for raw in ("/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2fetc%2fpasswd"):
        status, _, body = helpers.raw_request(wd.port, ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % raw).encode())
        assert b"root:" not in body, raw


def test_api_paths_stay_json(wd):
    r = get(wd, "/api/nope")
    assert_error(r, 404, "not_found")
    r = http("POST", wd.url("/nope"))
    assert_error(r, 404, "not_found")
    assert get(wd, "/api/health").headers["Content-Type"].startswith("application/json")
    # the API's answers are not cached
    assert get(wd, "/api/health").headers["Cache-Control"] == "no-store"


def test_without_a_built_dashboard_the_root_says_so(start_daemon, tmp_path):
    d = start_daemon(env={"CLOUDYA_WEB_DIR": str(tmp_path / "none")})
    r = get(d, "/")
    assert_error(r, 404, "not_found")
    assert "dashboard is not installed" in r.json()["error"]
    assert get(d, "/api/health").status_code in (200, 503)


# ---- the browser session -----------------------------------------------------------------------

def session(d, email, password, **headers):
    return http("POST", d.url("/api/auth/session"), json={"email": email, "password": password},
                headers=headers)


def cookie_of(r):
    sc = r.headers.get("Set-Cookie", "")
    assert sc.startswith("cloudya_session="), sc
    return sc.split(";", 1)[0].split("=", 1)[1], sc


def test_session_cookie_login(wd):
    u = wd.new_user()
    r = session(wd, u["email"], u["password"])
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"user"} and r.json()["user"]["email"] == u["email"]
    token, sc = cookie_of(r)
    attrs = [a.strip() for a in sc.split(";")[1:]]
    assert "HttpOnly" in attrs and "SameSite=Strict" in attrs and "Path=/api" in attrs
    assert "Max-Age=86400" in attrs and "Secure" not in attrs
    me = http("GET", wd.url("/api/auth/me"), cookies={"cloudya_session": token})
    assert me.status_code == 200 and me.json()["user"]["email"] == u["email"]


def test_session_secure_behind_https(wd):
    u = wd.new_user()
    r = session(wd, u["email"], u["password"], **{"X-Forwarded-Proto": "https"})
    assert "Secure" in [a.strip() for a in r.headers["Set-Cookie"].split(";")]


def test_session_bad_password_sets_no_cookie(wd):
    u = wd.new_user()
    r = session(wd, u["email"], "wrong-password")
    assert_error(r, 401, "unauthenticated")
    assert "Set-Cookie" not in r.headers


def test_changes_by_cookie_need_x_requested_with(wd):
    u = wd.new_user()
    token, _ = cookie_of(session(wd, u["email"], u["password"]))
    jar = {"cloudya_session": token}
    body = {"serviceType": "nginx", "name": "ck" + helpers.random_secret(6).lower().replace("_", "x").replace("-", "x")}
    r = http("POST", wd.url("/api/containers/create"), json=body, cookies=jar)
    assert_error(r, 403, "forbidden")
    assert "X-Requested-With" in r.json()["error"]
    r = http("POST", wd.url("/api/containers/create"), json=body, cookies=jar,
             headers={"X-Requested-With": "cloudya"}, timeout=60)
    assert r.status_code == 201, r.text
    cid = r.json()["containerId"]
    r = http("DELETE", wd.url("/api/containers/" + cid), cookies=jar, headers={"X-Requested-With": "cloudya"}, timeout=60)
    assert r.status_code == 200
    # a bearer token needs no such header (scripts and the CLI)
    assert wd.get("/api/containers", token=u["token"]).status_code == 200


def test_live_channel_by_cookie(wd):
    u = wd.new_user()
    token, _ = cookie_of(session(wd, u["email"], u["password"]))
    ws = websocket.create_connection("ws://127.0.0.1:%d/api/ws" % wd.port, timeout=10,
                                     cookie="cloudya_session=" + token,
                                     origin="http://127.0.0.1:%d" % wd.port)
    try:
        ws.send(json.dumps({"type": "subscribe", "topic": "events"}))
        ws.send(json.dumps({"type": "bogus"}))
        m = json.loads(ws.recv())
        assert m["type"] == "error" and m["code"] != "unauthenticated", m
    finally:
        ws.close()


def test_logout_by_cookie_clears_and_revokes(wd):
    u = wd.new_user()
    token, _ = cookie_of(session(wd, u["email"], u["password"]))
    jar = {"cloudya_session": token}
    r = http("POST", wd.url("/api/auth/logout"), cookies=jar, headers={"X-Requested-With": "cloudya"})
    assert r.status_code == 204
    sc = r.headers["Set-Cookie"]
    assert sc.startswith("cloudya_session=;") and "Max-Age=0" in sc
    assert_error(http("GET", wd.url("/api/auth/me"), cookies=jar), 401, "unauthenticated")
    # a bearer logout sets no cookie
    r = wd.post("/api/auth/logout", token=u["token"])
    assert r.status_code == 204 and "Set-Cookie" not in r.headers
