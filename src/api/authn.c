#define _POSIX_C_SOURCE 200809L
#include "authn.h"

#include "log.h"
#include "response.h"
#include "str.h"
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int unauthenticated(http_req *q, const char *why)
{
    http_resp_header(q, "WWW-Authenticate", "Bearer");
    http_error(q, 401, "unauthenticated", "%s", why);
    return -EPERM;
}

/* Every refusal gets the same kind of answer, except database trouble, which is not the
 * caller's fault and must not look like a bad token. */
int api_token_check(app *a, const char *tok, size_t len, caller *c, const char **why)
{
    *why = "the token is invalid";
    if (len == 0)
        return -EPERM;
    int rc = jwt_verify(a->jwt_key, a->jwt_key_len, tok, len, time_now(), &c->claims);
    if (rc != 0) {
        log_debug("token refused: %s", jwt_strerror(rc));
        if (rc == -ETIME)
            *why = "the token has expired; log in again";
        return -EPERM;
    }
    /* Claims longer than any id we issue cannot name an account. */
    if (strlen(c->claims.sub) >= STORE_ID_MAX || strlen(c->claims.client_id) >= STORE_ID_MAX)
        return -EPERM;
    rc = store_session_user(a->st, c->claims.sub, c->claims.jti, &c->user);
    if (rc == -EKEYREVOKED) {
        *why = "the token has been revoked; log in again";
        return -EPERM;
    }
    if (rc == -ENOENT) {
        *why = "the token's account no longer exists";
        return -EPERM;
    }
    if (rc != 0) {
        log_warnx("authentication failed on a database error (%d)", rc);
        *why = "the database is unavailable; try again";
        return rc == -EPERM ? -EIO : rc;
    }
    if (c->user.disabled) {
        *why = "the token's account is disabled";
        return -EPERM;
    }
    if (strcmp(c->user.client_id, c->claims.client_id) != 0) {
        *why = "the token does not match its account; log in again";
        return -EPERM;
    }
    return 0;
}

const char *api_session_cookie(http_req *q, size_t *len)
{
    return str_cookie_value(http_req_header(q, "Cookie"), API_SESSION_COOKIE, len);
}

/* Secure when the dashboard is reached over https (directly or through a proxy that says
 * so), so that the cookie never travels in clear text there. */
static const char *secure_attr(http_req *q)
{
    const char *proto = http_req_header(q, "X-Forwarded-Proto");
    return proto != NULL && strcasecmp(proto, "https") == 0 ? "; Secure" : "";
}

void api_session_cookie_set(http_req *q, const char *token, int max_age)
{
    char v[JWT_MAX_TOKEN + 160];
    snprintf(v, sizeof(v), API_SESSION_COOKIE "=%s; Path=/api; HttpOnly; SameSite=Strict; Max-Age=%d%s",
             token, max_age, secure_attr(q));
    http_resp_header(q, "Set-Cookie", v);
}

void api_session_cookie_clear(http_req *q)
{
    size_t len;
    if (api_session_cookie(q, &len) == NULL)
        return;
    char v[160];
    snprintf(v, sizeof(v), API_SESSION_COOKIE "=; Path=/api; HttpOnly; SameSite=Strict; Max-Age=0%s",
             secure_attr(q));
    http_resp_header(q, "Set-Cookie", v);
}

/* The session cookie of the dashboard. A browser sends it with every same-site request,
 * so requests that change something must also carry X-Requested-With: cloudya, which a
 * page of another site cannot add without a CORS preflight that this server never grants. */
static int cookie_authenticate(http_req *q, caller *c, const char *tok, size_t len)
{
    const char *m = http_req_method(q);
    const char *xrw = http_req_header(q, "X-Requested-With");
    if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 &&
        (xrw == NULL || strcmp(xrw, "cloudya") != 0)) {
        http_error(q, 403, "forbidden",
                   "a request authenticated by the session cookie must send X-Requested-With: cloudya");
        return -EPERM;
    }
    const char *why;
    int rc = api_token_check(http_req_app(q), tok, len, c, &why);
    if (rc == -EPERM)
        return unauthenticated(q, why);
    if (rc != 0)
        http_error(q, 503, "database_unavailable", "%s", why);
    return rc;
}

int api_authenticate(http_req *q, caller *c)
{
    app *a = http_req_app(q);
    const char *h = http_req_header(q, "Authorization");
    size_t clen;
    const char *ctok = h == NULL ? api_session_cookie(q, &clen) : NULL;
    if (ctok != NULL)
        return cookie_authenticate(q, c, ctok, clen);
    if (h == NULL)
        return unauthenticated(q, "authentication required: send Authorization: Bearer <token>");
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return unauthenticated(q, "the Authorization header must be: Bearer <token>");
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    size_t len = strlen(tok);
    if (len == 0)
        return unauthenticated(q, "the Authorization header must be: Bearer <token>");
    const char *why;
    int rc = api_token_check(a, tok, len, c, &why);
    if (rc == -EPERM)
        return unauthenticated(q, why);
    if (rc != 0)
        http_error(q, 503, "database_unavailable", "%s", why);
    return rc;
}

/* 24-hour HS256 tokens with a random jti, so that each can be revoked on its own. */
int api_token_issue(const app *a, const store_user *u, char *out, size_t cap)
{
    jwt_claims cl;
    memset(&cl, 0, sizeof(cl));
    str_copy(cl.sub, sizeof(cl.sub), u->id);
    str_copy(cl.role, sizeof(cl.role), u->role);
    str_copy(cl.client_id, sizeof(cl.client_id), u->client_id);
    str_random_hex(cl.jti, 16);
    cl.iat = time_now();
    cl.exp = cl.iat + a->cfg.token_ttl;
    return jwt_sign(a->jwt_key, a->jwt_key_len, &cl, out, cap);
}

json_t *api_user_json(const store_user *u)
{
    char created[TIME_RFC3339_LEN];
    time_rfc3339(u->created_at, created, sizeof(created));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", u->id, "email", u->email, "name",
                     u->name, "role", u->role, "clientId", u->client_id, "createdAt", created);
}
