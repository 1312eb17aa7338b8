"""POST /api/auth/register, /login, /logout and GET /api/auth/me, tokens, rate limits, audit."""
import hashlib
import json
import secrets
import statistics
import threading
import time
import uuid

import pytest

import helpers
from helpers import assert_error, auth, jwt_header, jwt_parts, jwt_payload, jwt_sign, unique_email

USER_KEYS = {"id", "email", "name", "role", "clientId"}


def check_user(u, email=None, name=None, role="client"):
    assert isinstance(u, dict), u
    assert USER_KEYS <= set(u), "user lacks %s: %r" % (USER_KEYS - set(u), u)
    for k in u:
        assert "pass" not in k.lower() and "hash" not in k.lower(), "user object leaks %r" % k
    for k in USER_KEYS:
        assert isinstance(u[k], str) and u[k], "user.%s must be a non-empty string: %r" % (k, u)
    if email is not None:
        assert u["email"] == email
    if name is not None:
        assert u["name"] == name
    assert u["role"] == role


def check_token(token, user, role="client"):
    h = jwt_header(token)
    assert h.get("alg") == "HS256", h
    c = jwt_payload(token)
    for k in ("sub", "role", "clientId", "iat", "exp", "jti"):
        assert k in c, "claim %s missing from %r" % (k, c)
    assert c["sub"] == user["id"]
    assert c["role"] == role
    assert c["clientId"] == user["clientId"]
    assert isinstance(c["iat"], int) and isinstance(c["exp"], int)
    assert abs(c["iat"] - time.time()) < 120, "iat %s is not now" % c["iat"]
    assert c["exp"] - c["iat"] == 24 * 3600, "exp - iat = %s, expected 24 h" % (c["exp"] - c["iat"])
    assert isinstance(c["jti"], str) and len(c["jti"]) >= 8
    return c


# ---------------------------------------------------------------------------------------------
# register


def test_register_returns_token_and_user(daemon):
    email = unique_email("reg")
    r = daemon.post("/api/auth/register", json={"email": email, "password": "s3cret-pass", "name": "Ada Lovelace"})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    j = r.json()
    assert set(j) >= {"token", "user"}
    check_user(j["user"], email=email, name="Ada Lovelace", role="client")
    check_token(j["token"], j["user"])


def test_register_client_id_is_server_generated_and_unique(daemon):
    a = daemon.new_user(email=unique_email("tenant"))
    b = daemon.new_user(email=unique_email("tenant"))
    assert a["user"]["clientId"] != b["user"]["clientId"]
    assert a["user"]["id"] != b["user"]["id"]
    for u in (a, b):
        local, _, domain = u["email"].partition("@")
        cid = u["user"]["clientId"].lower()
        assert local not in cid and domain not in cid, "clientId %r derived from email" % cid
        assert hashlib.sha256(u["email"].encode()).hexdigest()[:12] not in cid
    assert jwt_payload(a["token"])["jti"] != jwt_payload(b["token"])["jti"]


def test_register_lowercases_email_and_login_with_lowercase(daemon):
    tag = uuid.uuid4().hex[:10]
    mixed = "Foo.%s@Example.COM" % tag
    r, _, pw = daemon.register(email=mixed)
    assert r.json()["user"]["email"] == mixed.lower()
    r = daemon.login(mixed.lower(), pw)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == daemon.get("/api/auth/me", token=r.json()["token"]).json()["user"]["id"]


def test_register_duplicate_email_conflict(daemon, user):
    r, _, _ = daemon.register(email=user["email"], expect=None)
    assert_error(r, 409, "conflict")


def test_register_duplicate_email_other_case_conflict(daemon, user):
    r, _, _ = daemon.register(email=user["email"].upper(), expect=None)
    assert_error(r, 409, "conflict")


def test_register_accepts_boundaries(daemon):
    local = "b" + uuid.uuid4().hex[:12]
    domain = "d" * (254 - len(local) - 1 - 5) + ".test"
    email254 = local + "@" + domain
    assert len(email254) == 254
    r, _, _ = daemon.register(email=email254, password="12345678", name="N" * 128)
    u = r.json()["user"]
    assert u["email"] == email254 and u["name"] == "N" * 128
    daemon.register(password="p" * 1024, name="x")


def test_register_password_limit_counts_bytes(daemon):
    # 4 x U+00E9 is 8 bytes (accepted); 512 of them are 1024 bytes (accepted); 513 are 1026.
    daemon.register(password="\u00e9" * 4)
    daemon.register(password="\u00e9" * 512)
    r, _, _ = daemon.register(password="\u00e9" * 513, expect=None)
    assert_error(r, 400, "invalid_field", "password")


def test_register_name_limit_counts_characters(daemon):
    # name is 1..128 characters: 128 two-byte characters are 256 bytes but 128 characters.
    r, _, _ = daemon.register(name="\u00e9" * 128)
    assert r.json()["user"]["name"] == "\u00e9" * 128
    r, _, _ = daemon.register(name="\u00e9" * 129, expect=None)
    assert_error(r, 400, "invalid_field", "name")


def test_register_unicode_name_round_trips(daemon):
    name = "J\u00fcrgen \u6771\u4eac \U0001F600"
    u = daemon.new_user(name=name)
    assert u["user"]["name"] == name
    assert daemon.get("/api/auth/me", token=u["token"]).json()["user"]["name"] == name


def test_register_ignores_role_and_client_in_body(daemon, user):
    """Mass assignment: a client cannot make itself admin or join another tenant."""
    email = unique_email("mass")
    r = daemon.post("/api/auth/register", json={
        "email": email, "password": "password123", "name": "Mallory", "role": "admin",
        "clientId": user["user"]["clientId"], "id": user["user"]["id"], "plan": "enterprise", "disabled": 0})
    if r.status_code == 400:
        assert r.json()["code"] == "invalid_field", r.text
        return
    assert r.status_code == 201, r.text
    u = r.json()["user"]
    assert u["role"] == "client", u
    assert u["clientId"] != user["user"]["clientId"], "registered into another tenant"
    assert u["id"] != user["user"]["id"]
    assert jwt_payload(r.json()["token"])["role"] == "client"
    me = daemon.get("/api/auth/me", token=r.json()["token"]).json()
    assert me["client"]["plan"] == "free"
    assert daemon.get("/api/auth/me", token=user["token"]).json()["user"] == user["user"]


def _valid_reg():
    return {"email": unique_email("bad"), "password": "password123", "name": "Valid Name"}


class _Sentinel:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


MISSING = _Sentinel("missing")
NULL = _Sentinel("null")

BAD_FIELDS = [
    # (field, value) -> 400 invalid_field naming the field
    ("email", MISSING), ("password", MISSING), ("name", MISSING),
    ("email", 42), ("email", NULL), ("email", True), ("email", ["a@b.c"]), ("email", {"a": 1}),
    ("password", 12345678), ("password", True), ("password", ["password123"]), ("password", {"p": 1}),
    ("name", 7), ("name", False), ("name", ["n"]), ("name", {"n": 1}),
    ("email", ""), ("email", "no-at-sign.example"), ("email", "two@@example.test"),
    ("email", "a@b@example.test"), ("email", "sp ace@example.test"), ("email", "tab\t@example.test"),
    ("email", "nl\n@example.test"), ("email", " lead@example.test"), ("email", "a@"),
    ("email", "x" * 250 + "@b.cd"),
    ("password", ""), ("password", "1234567"), ("password", "p" * 1025),
    ("name", ""), ("name", "n" * 129), ("name", "bell\x07"), ("name", "new\nline"), ("name", "tab\tname"),
    ("name", "esc\x1b[31m"), ("name", "del\x7f"), ("name", "nul\x00byte"),
]


def _bad_id(p):
    field, value = p
    return "%s-%s" % (field, repr(value)[:24])


def _apply(body, field, value):
    if value is MISSING:
        del body[field]
    elif value is NULL:
        body[field] = None
    else:
        body[field] = value
    return body


@pytest.mark.parametrize("case", BAD_FIELDS, ids=[_bad_id(p) for p in BAD_FIELDS])
def test_register_invalid_field(daemon, case):
    field, value = case
    body = _apply(_valid_reg(), field, value)
    r = daemon.post("/api/auth/register", json=body)
    assert_error(r, 400, "invalid_field", field)


LOGIN_BAD_FIELDS = [
    ("email", MISSING), ("password", MISSING), ("email", 1), ("email", NULL), ("password", 1.5),
    ("password", NULL), ("email", ["x"]), ("password", {"a": "b"}), ("password", False),
]


@pytest.mark.parametrize("case", LOGIN_BAD_FIELDS, ids=[_bad_id(p) for p in LOGIN_BAD_FIELDS])
def test_login_invalid_field(daemon, case):
    field, value = case
    body = _apply({"email": unique_email("lbad"), "password": "password123"}, field, value)
    r = daemon.post("/api/auth/login", json=body)
    assert_error(r, 400, "invalid_field", field)


def test_register_password_with_nul_is_not_truncated(daemon):
    """A password with an embedded NUL is either refused or kept whole: the prefix before
    the NUL must never log in."""
    email = unique_email("nulpw")
    r = daemon.post("/api/auth/register", json={"email": email, "password": "correct-horse\u0000battery", "name": "N"})
    if r.status_code == 201:
        r2 = daemon.login(email, "correct-horse")
        assert r2.status_code == 401, "prefix before NUL logs in: %d %s" % (r2.status_code, r2.text)
        assert daemon.login(email, "correct-horse\u0000battery").status_code == 200
    else:
        assert r.status_code == 400, r.text
        assert r.json()["code"] in ("invalid_field", "invalid_json"), r.text


def test_register_email_with_nul_is_not_truncated(daemon):
    email = "nul%s\u0000evil@example.test" % uuid.uuid4().hex[:8]
    r = daemon.post("/api/auth/register", json={"email": email, "password": "password123", "name": "N"})
    if r.status_code == 201:
        assert r.json()["user"]["email"] == email.lower(), "email was altered: %r" % r.json()["user"]["email"]
    else:
        assert r.status_code == 400, r.text
        assert r.json()["code"] in ("invalid_field", "invalid_json"), r.text


# ---------------------------------------------------------------------------------------------
# login


def test_login_success(daemon, user):
    r = daemon.login(user["email"], user["password"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    j = r.json()
    check_user(j["user"], email=user["email"], role="client")
    assert j["user"] == user["user"]
    c = check_token(j["token"], j["user"])
    assert c["jti"] != jwt_payload(user["token"])["jti"], "two logins share a jti"


def test_login_email_is_case_insensitive(daemon, user):
    r = daemon.login(user["email"].upper(), user["password"])
    assert r.status_code == 200, r.text


def test_admin_from_environment_logs_in_as_admin(daemon):
    r = daemon.login(daemon.admin_email, daemon.admin_password)
    assert r.status_code == 200, r.text
    j = r.json()
    check_user(j["user"], email=daemon.admin_email, role="admin")
    check_token(j["token"], j["user"], role="admin")
    me = daemon.get("/api/auth/me", token=j["token"])
    assert me.status_code == 200, me.text
    assert me.json()["user"]["role"] == "admin"


def test_login_wrong_password_and_unknown_email_identical(daemon, user):
    r1 = daemon.login(user["email"], "wrong-password")
    r2 = daemon.login(unique_email("ghost"), "wrong-password")
    assert_error(r1, 401, "unauthenticated")
    assert_error(r2, 401, "unauthenticated")
    assert r1.content == r2.content, "bodies differ: %r vs %r" % (r1.content, r2.content)
    h1 = {k.lower(): v for k, v in r1.headers.items() if k.lower() not in ("date", "x-request-id")}
    h2 = {k.lower(): v for k, v in r2.headers.items() if k.lower() not in ("date", "x-request-id")}
    assert h1 == h2, "headers differ: %r vs %r" % (h1, h2)


def test_login_timing_unknown_email_vs_wrong_password(daemon, user):
    wrong, unknown = [], []
    for i in range(5):  # 5 failures: exactly the per-email limit, so no 429 yet
        t = time.monotonic()
        r = daemon.login(user["email"], "wrong-password-%d" % i)
        wrong.append(time.monotonic() - t)
        assert r.status_code == 401, r.text
        t = time.monotonic()
        r = daemon.login(unique_email("ghost"), "wrong-password-%d" % i)
        unknown.append(time.monotonic() - t)
        assert r.status_code == 401, r.text
    mw, mu = statistics.median(wrong), statistics.median(unknown)
    ratio = max(mw, mu) / max(min(mw, mu), 1e-6)
    assert ratio < 3, "wrong password median %.1f ms vs unknown email median %.1f ms (ratio %.1f)" % (
        mw * 1000, mu * 1000, ratio)


def test_disabled_user_cannot_log_in_and_token_dies(daemon, user):
    assert daemon.get("/api/auth/me", token=user["token"]).status_code == 200
    con = daemon.db()
    try:
        n = con.execute("UPDATE users SET disabled=1 WHERE id=?", (user["user"]["id"],)).rowcount
        assert n == 1
    finally:
        con.close()
    assert_error(daemon.get("/api/auth/me", token=user["token"]), 401, "unauthenticated")
    r = daemon.login(user["email"], user["password"])
    ghost = daemon.login(unique_email("ghost"), user["password"])
    assert_error(r, 401, "unauthenticated")
    assert r.content == ghost.content, "disabled answer differs from unknown email: %r vs %r" % (r.content, ghost.content)


def test_deleted_user_token_dies(daemon, user):
    assert daemon.get("/api/auth/me", token=user["token"]).status_code == 200
    con = daemon.db()
    try:
        assert con.execute("DELETE FROM users WHERE id=?", (user["user"]["id"],)).rowcount == 1
    finally:
        con.close()
    assert_error(daemon.get("/api/auth/me", token=user["token"]), 401, "unauthenticated")
    assert_error(daemon.login(user["email"], user["password"]), 401, "unauthenticated")


# ---------------------------------------------------------------------------------------------
# login rate limiting


def _retry_after(r, window=900):
    ra = r.headers.get("Retry-After")
    assert ra is not None, "429 without Retry-After"
    assert ra.isdigit() and 1 <= int(ra) <= window + 1, "bad Retry-After %r" % ra
    return int(ra)


def test_login_rate_limited_per_email(daemon, user):
    for i in range(5):
        assert_error(daemon.login(user["email"], "nope-%d" % i), 401, "unauthenticated")
    r = daemon.login(user["email"], "nope-again")
    assert_error(r, 429, "rate_limited")
    _retry_after(r)
    r = daemon.login(user["email"], user["password"])
    assert_error(r, 429, "rate_limited")
    _retry_after(r)
    # other emails from the same IP are not affected, and the existing token still works
    other = daemon.new_user()
    assert daemon.login(other["email"], other["password"]).status_code == 200
    assert daemon.get("/api/auth/me", token=user["token"]).status_code == 200


def test_login_rate_limit_counts_case_insensitively(daemon, user):
    for i in range(5):
        e = user["email"].upper() if i % 2 else user["email"]
        assert daemon.login(e, "nope-%d" % i).status_code == 401
    assert_error(daemon.login(user["email"].upper(), user["password"]), 429, "rate_limited")


def test_login_rate_limited_for_unknown_email_too(daemon):
    """Otherwise the 429 would tell which emails exist."""
    ghost = unique_email("ghost")
    for i in range(5):
        assert daemon.login(ghost, "nope-%d" % i).status_code == 401
    assert_error(daemon.login(ghost, "nope"), 429, "rate_limited")


def test_successful_login_resets_email_counter(daemon, user):
    for i in range(4):
        assert daemon.login(user["email"], "nope-%d" % i).status_code == 401
    assert daemon.login(user["email"], user["password"]).status_code == 200
    for i in range(4):
        r = daemon.login(user["email"], "nope-b%d" % i)
        assert r.status_code == 401, "failure %d after reset: %d %s" % (i + 1, r.status_code, r.text)
    assert daemon.login(user["email"], user["password"]).status_code == 200


def test_login_rate_limit_window_expires(start_daemon):
    d = start_daemon(env={"CLOUDYA_LOGIN_MAX_FAILURES": "2", "CLOUDYA_LOGIN_WINDOW": "2"})
    u = d.new_user()
    for i in range(2):
        assert d.login(u["email"], "nope-%d" % i).status_code == 401
    r = d.login(u["email"], u["password"])
    assert_error(r, 429, "rate_limited")
    _retry_after(r, window=2)
    time.sleep(3.2)
    r = d.login(u["email"], u["password"])
    assert r.status_code == 200, "still limited after the window: %d %s" % (r.status_code, r.text)


def test_login_rate_limited_per_ip(start_daemon):
    d = start_daemon(env={"CLOUDYA_LOGIN_MAX_FAILURES_IP": "3", "CLOUDYA_LOGIN_MAX_FAILURES": "100"})
    u = d.new_user()
    for i in range(3):
        assert_error(d.login(unique_email("ipghost"), "nope"), 401, "unauthenticated")
    r = d.login(u["email"], u["password"])
    assert_error(r, 429, "rate_limited")
    _retry_after(r)
    # a client-supplied X-Forwarded-For must not buy a fresh budget
    r = d.login(u["email"], u["password"], headers={"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"})
    assert_error(r, 429, "rate_limited")
    # tokens already issued keep working
    assert d.get("/api/auth/me", token=u["token"]).status_code == 200


# ---------------------------------------------------------------------------------------------
# tokens


def _forge(daemon, user, **over):
    """A token signed with the daemon's own secret under the daemon's own header segment."""
    now = int(time.time())
    claims = {"sub": user["user"]["id"], "role": user["user"]["role"], "clientId": user["user"]["clientId"],
              "iat": now - 10, "exp": now + 3600, "jti": uuid.uuid4().hex}
    for k, v in over.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return jwt_sign(jwt_parts(user["token"])[0], claims, daemon.jwt_secret)


def test_self_signed_token_with_daemon_secret_is_accepted(daemon, user):
    """Control for the negative cases below: our signing matches the daemon's."""
    r = daemon.get("/api/auth/me", token=_forge(daemon, user))
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == user["user"]["id"]


def _bad_tokens(daemon, user):
    tok = user["token"]
    h, p, s = jwt_parts(tok)
    now = int(time.time())
    claims = jwt_payload(tok)
    mid = len(s) // 2
    flipped = s[:mid] + ("A" if s[mid] != "A" else "B") + s[mid + 1:]
    none_h = helpers.jwt_encode_header({"alg": "none", "typ": "JWT"})
    hs512_h = helpers.jwt_encode_header({"alg": "HS512", "typ": "JWT"})
    admin_claims = dict(claims, role="admin")
    return {
        "no-header": None,
        "bearer-empty": "Bearer",
        "bearer-space": "Bearer ",
        "basic": "Basic dXNlcjpwYXNzd29yZA==",
        "raw-token-no-scheme": tok,
        "garbage": "Bearer garbage",
        "garbage-3-parts": "Bearer abc.def.ghi",
        "two-parts": "Bearer %s.%s" % (h, p),
        "four-parts": "Bearer %s.%s.%s.%s" % (h, p, s, s),
        "signature-altered": "Bearer %s.%s.%s" % (h, p, flipped),
        "signature-empty": "Bearer %s.%s." % (h, p),
        "signature-truncated": "Bearer %s.%s.%s" % (h, p, s[:-4]),
        "payload-altered-admin": "Bearer %s.%s.%s" % (h, helpers.b64url(json.dumps(admin_claims).encode()), s),
        "alg-none-no-sig": "Bearer %s.%s." % (none_h, p),
        "alg-none-old-sig": "Bearer %s.%s.%s" % (none_h, p, s),
        "alg-hs512-real-secret": "Bearer " + jwt_sign(hs512_h, claims, daemon.jwt_secret, hashlib.sha512),
        "other-secret": "Bearer " + jwt_sign(h, claims, b"x" * 40),
        "expired": "Bearer " + _forge(daemon, user, iat=now - 2 * 86400, exp=now - 86400),
        "expired-just-now": "Bearer " + _forge(daemon, user, iat=now - 86400, exp=now - 5),
        "iat-in-future": "Bearer " + _forge(daemon, user, iat=now + 3600, exp=now + 3600 + 86400),
        "missing-jti": "Bearer " + _forge(daemon, user, jti=None),
        "missing-sub": "Bearer " + _forge(daemon, user, sub=None),
        "missing-exp": "Bearer " + _forge(daemon, user, exp=None),
        "exp-as-string": "Bearer " + _forge(daemon, user, exp=str(now + 3600)),
        "unknown-sub": "Bearer " + _forge(daemon, user, sub="u" + uuid.uuid4().hex[:12]),
        "unknown-sub-45-chars": "Bearer " + _forge(daemon, user, sub="no-such-user-" + uuid.uuid4().hex),
        "other-users-clientId": "Bearer " + _forge(daemon, user, clientId="c" + uuid.uuid4().hex[:12]),
        "oversize": "Bearer " + _forge(daemon, user, pad="x" * 3000),
        "bad-base64": "Bearer %s.%s.%s" % (h, p[:-1] + "*", s),
    }


BAD_TOKEN_CASES = [
    "no-header", "bearer-empty", "bearer-space", "basic", "raw-token-no-scheme", "garbage", "garbage-3-parts",
    "two-parts", "four-parts", "signature-altered", "signature-empty", "signature-truncated",
    "payload-altered-admin", "alg-none-no-sig", "alg-none-old-sig", "alg-hs512-real-secret", "other-secret",
    "expired", "expired-just-now", "iat-in-future", "missing-jti", "missing-sub", "missing-exp",
    "exp-as-string", "unknown-sub", "unknown-sub-45-chars", "other-users-clientId", "oversize", "bad-base64",
]


@pytest.mark.parametrize("case", BAD_TOKEN_CASES)
def test_bad_token_unauthenticated(daemon, user, case):
    value = _bad_tokens(daemon, user)[case]
    headers = {} if value is None else {"Authorization": value}
    r = daemon.get("/api/auth/me", headers=headers)
    assert_error(r, 401, "unauthenticated")
    r = daemon.post("/api/auth/logout", headers=headers)
    assert_error(r, 401, "unauthenticated")
    # the real token is unaffected
    assert daemon.get("/api/auth/me", token=user["token"]).status_code == 200


def test_token_in_query_string_is_not_accepted(daemon, user):
    assert_error(daemon.get("/api/auth/me?token=" + user["token"]), 401, "unauthenticated")
    assert_error(daemon.get("/api/auth/me?access_token=" + user["token"]), 401, "unauthenticated")


# ---------------------------------------------------------------------------------------------
# logout


def test_logout_revokes_only_that_token(daemon, user):
    second = daemon.login(user["email"], user["password"]).json()["token"]
    r = daemon.post("/api/auth/logout", token=user["token"])
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert "X-Request-Id" in r.headers
    assert_error(daemon.get("/api/auth/me", token=user["token"]), 401, "unauthenticated")
    assert_error(daemon.post("/api/auth/logout", token=user["token"]), 401, "unauthenticated")
    assert daemon.get("/api/auth/me", token=second).status_code == 200
    # logging in again still works
    assert daemon.login(user["email"], user["password"]).status_code == 200


def test_logout_ignores_a_body(daemon, user):
    r = daemon.post("/api/auth/logout", token=user["token"], data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code in (204, 400), r.text
    if r.status_code == 400:
        assert_error(r, 400, "invalid_json")


# ---------------------------------------------------------------------------------------------
# me


def test_me_shape(daemon, user):
    r = daemon.get("/api/auth/me", token=user["token"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    j = r.json()
    check_user(j["user"], email=user["email"], role="client")
    assert j["user"] == user["user"]
    c = j["client"]
    assert c["id"] == user["user"]["clientId"]
    assert isinstance(c["name"], str) and c["name"]
    assert c["plan"] == "free"
    assert c["quota"] == {"containers": 10, "memoryMb": 2048, "cpus": 2}, c["quota"]
    assert c["usage"] == {"containers": 0, "running": 0, "memoryMb": 0, "cpus": 0}, c["usage"]


def test_me_quota_from_configuration(start_daemon):
    d = start_daemon(env={"CLOUDYA_QUOTA_CONTAINERS": "3", "CLOUDYA_QUOTA_MEMORY_MB": "512",
                          "CLOUDYA_QUOTA_CPUS": "1.5"})
    u = d.new_user()
    q = d.get("/api/auth/me", token=u["token"]).json()["client"]["quota"]
    assert q == {"containers": 3, "memoryMb": 512, "cpus": 1.5}, q


# ---------------------------------------------------------------------------------------------
# concurrency, shutdown


def test_concurrent_registrations(daemon):
    results = [None] * 20
    emails = [unique_email("conc%d" % i) for i in range(20)]
    barrier = threading.Barrier(20)

    def worker(i):
        barrier.wait()
        try:
            results[i] = daemon.post("/api/auth/register",
                                     json={"email": emails[i], "password": "password-%d" % i, "name": "C%d" % i},
                                     timeout=60)
        except Exception as e:  # noqa: BLE001
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    codes = [getattr(r, "status_code", repr(r)) for r in results]
    assert codes == [201] * 20, codes
    users = [r.json()["user"] for r in results]
    assert len({u["id"] for u in users}) == 20
    assert len({u["clientId"] for u in users}) == 20
    assert sorted(u["email"] for u in users) == sorted(emails)


def test_concurrent_same_email_registers_once(daemon):
    email = unique_email("race")
    results = [None] * 8
    barrier = threading.Barrier(8)

    def worker(i):
        barrier.wait()
        results[i] = daemon.post("/api/auth/register", json={"email": email, "password": "password-x", "name": "R"},
                                 timeout=60)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 7, codes


def test_sigterm_during_login_completes_request(start_daemon):
    d = start_daemon()
    u = d.new_user()
    t = time.monotonic()
    assert d.login(u["email"], u["password"]).status_code == 200
    dt = time.monotonic() - t
    body = json.dumps({"email": u["email"], "password": u["password"]}).encode()
    req = (b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    s = helpers.raw_connect(d.port, timeout=10)
    try:
        s.sendall(req)
        time.sleep(max(0.005, dt / 3))
        d.proc.terminate()
        status, _, rbody = helpers.read_response(s, timeout=10)
    finally:
        s.close()
    assert status == 200, "in-flight login answered %r %r" % (status, rbody[:200])
    assert "token" in helpers.parse_json_body(rbody)
    rc = helpers.wait_exit(d.proc, 10)
    assert rc == 0, "exit status %r after SIGTERM; log:\n%s" % (rc, d.log_tail())


# ---------------------------------------------------------------------------------------------
# audit log


def test_audit_rows_for_register_login_logout(daemon):
    u = daemon.new_user()
    uid, cid, email = u["user"]["id"], u["user"]["clientId"], u["email"]
    assert daemon.login(email, "wrong-password").status_code == 401
    ok = daemon.login(email, u["password"])
    assert ok.status_code == 200
    ghost = unique_email("auditghost")
    assert daemon.login(ghost, "wrong-password").status_code == 401
    assert daemon.post("/api/auth/logout", token=ok.json()["token"]).status_code == 204
    time.sleep(0.2)
    con = daemon.db()
    try:
        rows = con.execute(
            "SELECT time, actor, client_id, action, target, ip, result, detail FROM audit_log "
            "WHERE actor=? OR client_id=? OR target LIKE ? OR target LIKE ? OR detail LIKE ? OR detail LIKE ?",
            (uid, cid, "%" + email + "%", "%" + ghost + "%", "%" + email + "%", "%" + ghost + "%")).fetchall()
        everything = con.execute("SELECT * FROM audit_log").fetchall()
    finally:
        con.close()
    keys = ("time", "actor", "client_id", "action", "target", "ip", "result", "detail")
    rows = [dict(zip(keys, r)) for r in rows]

    def find(action, result, who=None):
        for r in rows:
            if r["action"] != action or r["result"] != result:
                continue
            if who is None or who in (r["actor"] or "") or who in (r["target"] or "") or who in (r["detail"] or ""):
                return r
        raise AssertionError("no audit row %s/%s for %s in %r" % (action, result, who, rows))

    reg = find("auth.register", "success", uid)
    assert reg["client_id"] == cid
    for r in (reg, find("auth.login", "success", uid), find("auth.logout", "success", uid)):
        assert r["actor"] == uid, r
        assert r["ip"] == "127.0.0.1", r
        assert isinstance(r["time"], int) and abs(r["time"] - time.time()) < 300, r
    find("auth.login", "failure", email)
    gr = find("auth.login", "failure", ghost)
    assert gr["ip"] == "127.0.0.1"
    flat = repr(everything)
    assert u["password"] not in flat, "a password is stored in the audit log"
    assert ok.json()["token"] not in flat, "a token is stored in the audit log"


def test_no_secrets_in_the_log(daemon):
    u = daemon.new_user(password="Unique-Pw-" + secrets.token_hex(6))
    daemon.login(u["email"], u["password"])
    daemon.login(u["email"], u["password"] + "-wrong")
    daemon.get("/api/auth/me", token=u["token"])
    time.sleep(0.2)
    log = daemon.log()
    assert u["password"] not in log, "a password appears in the daemon's log"
    assert daemon.env["JWT_SECRET"] not in log, "JWT_SECRET appears in the daemon's log"
    assert jwt_parts(u["token"])[2] not in log, "a token signature appears in the daemon's log"
    assert daemon.admin_password not in log, "the admin password appears in the daemon's log"
