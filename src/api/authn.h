/* Bearer-token authentication for handlers, and token issuance. The token is never
 * trusted alone: its jti must not be revoked and its user must exist and be enabled. */
#ifndef CLOUDYA_AUTHN_H
#define CLOUDYA_AUTHN_H
#include "app.h"
#include "http_server.h"
#include "jwt.h"
#include <jansson.h>
#include "store.h"

typedef struct caller {
    store_user user; /* fresh from the store */
    jwt_claims claims;
} caller;

/* Checks a token (len bytes) as every request does: signature, expiry, revocation, the
 * account existing, enabled and still in the token's tenant. Returns 0 with c filled;
 * -EPERM with *why saying why it is refused; another negative errno (with *why) when the
 * database fails. For callers that get the token outside a header (the live channel). */
int api_token_check(app *a, const char *tok, size_t len, caller *c, const char **why);

/* Authenticates q: its bearer token, or else the dashboard's session cookie (which needs
 * X-Requested-With: cloudya on anything but GET and HEAD: 403 otherwise). Returns 0 with
 * c filled; otherwise has answered 401 (403, or 503 when the database fails) and returns
 * a negative errno. */
int api_authenticate(http_req *q, caller *c);

#define API_SESSION_COOKIE "cloudya_session"

/* The token in q's session cookie (*len bytes, not NUL-terminated), or NULL. */
const char *api_session_cookie(http_req *q, size_t *len);
/* Sets the session cookie: HttpOnly, SameSite=Strict, Path=/api, Max-Age max_age, and
 * Secure when the request came over https (X-Forwarded-Proto). */
void api_session_cookie_set(http_req *q, const char *token, int max_age);
/* Expires the session cookie when the request carried one (logout). */
void api_session_cookie_clear(http_req *q);

/* Signs a new token for u into out (cap >= JWT_MAX_TOKEN). Returns 0 or negative errno. */
int api_token_issue(const app *a, const store_user *u, char *out, size_t cap);

/* {id, email, name, role, clientId}: the user as the API shows it. */
json_t *api_user_json(const store_user *u);

#endif
