#!/usr/bin/python3
"""A local stand-in for the private clouds' APIs that `cloudya connect` calls to verify
credentials (no Proxmox, vCenter, Prism Central or Keystone is reachable from the tests).

    cloud_standin.py [PORT] [--port N] [--host 127.0.0.1] --user U --password P
                     --token-id ID --token-secret S [--slow N]
                     [--tls-cert FILE --tls-key FILE]

It listens on 127.0.0.1 (port 0 = any free port) and prints "PORT <n>" as the first line of
stdout, flushed, once it accepts connections. Every request is logged to stderr as
"cloud_standin: <METHOD> <path> -> <status>" (never with credentials). --slow N delays every
answer by N seconds (for timeout tests). It exits by itself when the process that started it
goes away, and on SIGTERM/SIGINT.

Endpoints (the real products' paths, statuses and bodies):
  Proxmox VE       GET  /api2/json/version
                   "Authorization: PVEAPIToken=<ID>=<S>" -> 200
                   {"data":{"version":"8.1.4","release":"8.1","repoid":"ec5affc9"}};
                   otherwise 401 {"data":null}
  vSphere          POST /api/session, Basic U:P -> 201 "<session token>" (a JSON string);
                   otherwise 401 {"error_type":"UNAUTHENTICATED","messages":[]}
                   GET  /api/appliance/system/version, "vmware-api-session-id: <token>"
                   -> 200 {"version":"8.0.2","product":"VMware vCenter Server",...};
                   DELETE /api/session ends the session (204)
  Nutanix PC       POST /api/nutanix/v3/clusters/list, Basic U:P, body {"kind":"cluster"}
                   -> 200 {"api_version":"3.1","entities":[{"status":{"name":"cl1"}}],
                   "metadata":{"total_matches":1}}; otherwise 401
                   {"state":"ERROR","message_list":[{"message":"Authentication required."}]}
  OpenStack        POST /v3/auth/tokens, password auth (user name U in domain name
  Keystone v3      "Default" or id "default", password P), optionally scoped to a project
                   by name with its domain -> 201, header X-Subject-Token, body
                   {"token":{"expires_at":..., "project":{"name":...}, "user":{"name":U},
                   "catalog":[], ...}}; otherwise 401 {"error":{"code":401,"message":
                   "The request you have made requires authentication.","title":
                   "Unauthorized"}}
Anything else is 404. Standard library only (Debian's /usr/bin/python3).
"""

import argparse
import base64
import datetime
import hmac
import json
import os
import secrets
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

BODY_MAX = 1024 * 1024
PVE_VERSION = {"version": "8.1.4", "release": "8.1", "repoid": "ec5affc9"}
VC_VERSION = {"version": "8.0.2", "product": "VMware vCenter Server", "build": "22617221",
              "type": "vCenter Server with an embedded Platform Services Controller"}
KEYSTONE_401 = {"error": {"code": 401, "message": "The request you have made requires "
                          "authentication.", "title": "Unauthorized"}}
VC_401 = {"error_type": "UNAUTHENTICATED", "messages": []}
NTNX_401 = {"state": "ERROR", "message_list": [{"message": "Authentication required."}]}


def same(a, b):
    """Constant-time comparison of two strings (None never matches)."""
    if a is None or b is None:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloud-standin/1.0"
    cfg = None            # the parsed arguments
    sessions = set()      # vSphere session tokens
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        if self.cfg.slow:
            time.sleep(self.cfg.slow)
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        sys.stderr.write("cloud_standin: %s %s -> %d\n" % (self.command, self.path, status))
        sys.stderr.flush()

    def body(self):
        """The request body parsed as JSON; None when absent or not JSON."""
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > BODY_MAX:
            self.close_connection = True
            return None
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            return None

    def basic_ok(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(auth[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return same(user, self.cfg.user) and same(pw, self.cfg.password)

    def route(self):
        path = urlsplit(self.path).path.rstrip("/") or "/"
        m = self.command
        body = self.body()      # always read, so that a kept-alive connection stays in step
        if path == "/api2/json/version" and m == "GET":
            want = "PVEAPIToken=%s=%s" % (self.cfg.token_id, self.cfg.token_secret)
            if same(self.headers.get("Authorization"), want):
                return self.answer(200, {"data": PVE_VERSION})
            return self.answer(401, {"data": None})
        if path == "/api/session" and m == "POST":
            if not self.basic_ok():
                return self.answer(401, VC_401)
            token = secrets.token_hex(16)
            with self.lock:
                self.sessions.add(token)
            return self.answer(201, token)
        if path == "/api/session" and m == "DELETE":
            token = self.headers.get("vmware-api-session-id")
            with self.lock:
                known = token in self.sessions
                self.sessions.discard(token)
            return self.answer(204, None) if known else self.answer(401, VC_401)
        if path == "/api/appliance/system/version" and m == "GET":
            with self.lock:
                known = self.headers.get("vmware-api-session-id") in self.sessions
            return self.answer(200, VC_VERSION) if known else self.answer(401, VC_401)
        if path == "/api/nutanix/v3/clusters/list" and m == "POST":
            if not self.basic_ok():
                return self.answer(401, NTNX_401)
            if not isinstance(body, dict) or body.get("kind") != "cluster":
                return self.answer(422, {"api_version": "3.1", "code": 422, "state": "ERROR",
                                         "message_list": [{"message": "Request could not be "
                                                           "processed. kind is required and "
                                                           "must be cluster",
                                                           "reason": "INVALID_REQUEST"}]})
            return self.answer(200, {"api_version": "3.1",
                                     "entities": [{"status": {"name": "cl1"}}],
                                     "metadata": {"total_matches": 1, "kind": "cluster"}})
        if path == "/v3/auth/tokens" and m == "POST":
            return self.keystone(body)
        return self.answer(404, {"error": "not found", "path": path})

    def keystone(self, body):
        try:
            ident = body["auth"]["identity"]
            user = ident["password"]["user"]
            dom = user.get("domain") or {}
            ok = ("password" in ident["methods"] and same(user.get("name"), self.cfg.user)
                  and same(user.get("password"), self.cfg.password)
                  and (dom.get("name") == "Default" or dom.get("id") == "default"))
            scope = body["auth"].get("scope")
            project = None
            if scope is not None:
                p = scope["project"]
                pdom = p.get("domain") or {}
                ok = ok and isinstance(p.get("name"), str) and (
                    pdom.get("name") == "Default" or pdom.get("id") == "default")
                project = p.get("name")
        except (KeyError, TypeError, AttributeError):
            if not isinstance(body, dict):
                return self.answer(400, {"error": {"code": 400, "message": "The request body "
                                                   "is not valid JSON.", "title": "Bad Request"}})
            return self.answer(401, KEYSTONE_401)
        if not ok:
            return self.answer(401, KEYSTONE_401)
        now = datetime.datetime.now(datetime.timezone.utc)
        fmt = "%Y-%m-%dT%H:%M:%S.000000Z"
        token = {"methods": ["password"], "user": {"name": self.cfg.user, "id": "u1",
                                                   "domain": {"id": "default",
                                                              "name": "Default"}},
                 "issued_at": now.strftime(fmt),
                 "expires_at": (now + datetime.timedelta(hours=1)).strftime(fmt),
                 "catalog": []}
        if project is not None:
            token["project"] = {"name": project, "id": "p1",
                                "domain": {"id": "default", "name": "Default"}}
            token["roles"] = [{"name": "member", "id": "r1"}]
        return self.answer(201, {"token": token}, {"X-Subject-Token": secrets.token_hex(32)})

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def do_PUT(self):
        self.route()


def watch_parent(parent):
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def main():
    ap = argparse.ArgumentParser(description="cloud API stand-in for cloudya connect tests")
    ap.add_argument("port_pos", nargs="?", type=int, metavar="PORT")
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--token-id", required=True)
    ap.add_argument("--token-secret", required=True)
    ap.add_argument("--slow", type=float, default=0.0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    cfg = ap.parse_args()
    port = cfg.port if cfg.port is not None else (cfg.port_pos or 0)
    Handler.cfg = cfg
    srv = ThreadingHTTPServer((cfg.host, port), Handler)
    srv.daemon_threads = True
    if cfg.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    signal.signal(signal.SIGINT, lambda *a: os._exit(0))
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    sys.stdout.write("PORT %d\n" % srv.server_address[1])
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
