/* POST /api/auth/register, /api/auth/login, /api/auth/logout and GET /api/auth/me. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"
#include "app.h"
#include "audit.h"
#include "auth_req.h"
#include "authn.h"
#include "log.h"
#include "password.h"
#include "response.h"
#include "str.h"
#include "tenants.h"
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void bad_request(http_req *q, const json_err *e)
{
    http_error(q, 400, e->code, "%s", e->msg);
}

static void db_unavailable(http_req *q, int rc)
{
    log_warnx("database error %d", rc);
    http_error(q, 503, "database_unavailable", "the database is unavailable; try again");
}

/* Answers {token, user} with status; a signing failure is a 503, never a 500. With
 * cookie (the dashboard's POST /api/auth/session) the token goes into an HttpOnly,
 * SameSite=Strict cookie instead, and the answer is {user} alone: no script ever sees it. */
static void answer_token(http_req *q, int status, const store_user *u, int cookie)
{
    app *a = http_req_app(q);
    char token[JWT_MAX_TOKEN];
    if (api_token_issue(a, u, token, sizeof(token)) != 0) {
        log_error("cannot sign a token for %s", u->id);
        http_error(q, 503, "unavailable", "cannot issue a token right now; try again");
        return;
    }
    if (cookie) {
        api_session_cookie_set(q, token, a->cfg.token_ttl);
        http_json(q, status, json_pack("{s:o}", "user", api_user_json(u)));
        return;
    }
    http_json(q, status, json_pack("{s:s, s:o}", "token", token, "user", api_user_json(u)));
}

/* Sign-up: a new user with a new tenant of its own on the Free plan. Runs on a worker
 * (Argon2id takes tens of milliseconds). */
void api_auth_register(http_req *q)
{
    app *a = http_req_app(q);
    size_t len;
    const char *body = http_req_body(q, &len);
    auth_req r;
    json_err e;
    if (auth_req_parse(body, len, 1, &r, &e) != 0) {
        bad_request(q, &e);
        return;
    }
    store_user u;
    store_client c;
    int rc = tenant_user_create(a->st, &a->cfg, r.email, r.name, r.password, r.password_len,
                                "client", &u, &c);
    if (rc == -EEXIST) {
        api_audit(q, NULL, NULL, "auth.register", r.email, "failure", "email taken");
        http_error(q, 409, "conflict", "an account with this email already exists");
    } else if (rc != 0) {
        db_unavailable(q, rc);
    } else {
        api_audit(q, u.id, u.client_id, "auth.register", u.email, "success", NULL);
        answer_token(q, 201, &u, 0);
    }
    auth_req_free(&r);
}

static void too_many(http_req *q, int retry_after)
{
    char s[16];
    snprintf(s, sizeof(s), "%d", retry_after > 0 ? retry_after : 1);
    http_resp_header(q, "Retry-After", s);
    http_error(q, 429, "rate_limited", "too many failed logins; try again in %s seconds", s);
}

/* Login: the same answer and about the same time for an unknown email, a wrong password
 * and a disabled account; failures are counted per email and per source IP. With cookie
 * the session goes into a cookie (POST /api/auth/session, the dashboard). */
static void login(http_req *q, int cookie)
{
    app *a = http_req_app(q);
    size_t len;
    const char *body = http_req_body(q, &len);
    auth_req r;
    json_err e;
    if (auth_req_parse(body, len, 0, &r, &e) != 0) {
        bad_request(q, &e);
        return;
    }
    int64_t now = time_mono_ms();
    int retry = 0;
    if (ratelimit_blocked(a->login_by_ip, http_req_ip(q), now, &retry) ||
        ratelimit_blocked(a->login_by_email, r.email, now, &retry)) {
        api_audit(q, NULL, NULL, "auth.login", r.email, "denied", "rate limited");
        too_many(q, retry);
        goto out;
    }
    store_user u;
    int rc = store_user_get_by_email(a->st, r.email, &u);
    int ok = 0;
    if (rc == 0) {
        ok = password_verify(u.password_hash, r.password, r.password_len) == 0 && !u.disabled;
    } else if (rc == -ENOENT) {
        password_verify_dummy(r.password, r.password_len);
    } else {
        db_unavailable(q, rc);
        goto out;
    }
    if (!ok) {
        ratelimit_hit(a->login_by_ip, http_req_ip(q), now);
        ratelimit_hit(a->login_by_email, r.email, now);
        api_audit(q, rc == 0 ? u.id : NULL, rc == 0 ? u.client_id : NULL, "auth.login", r.email,
                  "failure", rc == 0 ? (u.disabled ? "account disabled" : "wrong password")
                                     : "unknown email");
        http_error(q, 401, "unauthenticated", "invalid email or password");
        goto out;
    }
    ratelimit_reset(a->login_by_email, r.email);
    api_audit(q, u.id, u.client_id, "auth.login", u.email, "success", NULL);
    answer_token(q, 200, &u, cookie);
out:
    auth_req_free(&r);
}

void api_auth_login(http_req *q)
{
    login(q, 0);
}

/* POST /api/auth/session: the dashboard's login; the token stays in an HttpOnly cookie. */
void api_auth_session(http_req *q)
{
    login(q, 1);
}

/* Logout revokes this token's jti; the user's other sessions keep working. */
void api_auth_logout(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    if (api_authenticate(q, &c) != 0)
        return;
    int rc = store_token_revoke(a->st, c.claims.jti, c.claims.exp);
    if (rc != 0) {
        db_unavailable(q, rc);
        return;
    }
    api_audit(q, c.user.id, c.user.client_id, "auth.logout", c.user.email, "success", NULL);
    api_session_cookie_clear(q);
    api_live_revoked(c.claims.jti);
    http_no_content(q);
}

/* The caller, its tenant, the tenant's quota and what of it is used. */
void api_auth_me(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    if (api_authenticate(q, &c) != 0)
        return;
    store_client cl;
    int rc = store_client_get(a->st, c.user.client_id, &cl);
    if (rc != 0) {
        db_unavailable(q, rc);
        return;
    }
    int count = 0, running = 0, mem = 0;
    double cpus = 0;
    rc = store_container_usage(a->st, cl.id, &count, &running, &mem, &cpus);
    if (rc != 0) {
        db_unavailable(q, rc);
        return;
    }
    json_t *client = json_pack(
        "{s:s, s:s, s:s, s:{s:i, s:i, s:f}, s:{s:i, s:i, s:i, s:f}}", "id", cl.id, "name",
        cl.name, "plan", cl.plan, "quota", "containers", cl.quota_containers, "memoryMb",
        cl.quota_memory_mb, "cpus", cl.quota_cpus, "usage", "containers", count, "running",
        running, "memoryMb", mem, "cpus", cpus);
    http_json(q, 200, json_pack("{s:o, s:o}", "user", api_user_json(&c.user), "client", client));
}
