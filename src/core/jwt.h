/* HS256-only JSON Web Tokens (RFC 7519) with libsodium's HMAC-SHA256.
 * The header's alg is never trusted: a token verifies only if its header is exactly an
 * HS256 JWT header and its signature matches. */
#ifndef CLOUDYA_JWT_H
#define CLOUDYA_JWT_H
#include <stddef.h>
#include <stdint.h>

#define JWT_MAX_TOKEN 2048 /* longer tokens are refused before any decoding */
#define JWT_CLAIM_MAX 64   /* sub, clientId and jti, NUL included */
#define JWT_ROLE_MAX 16
#define JWT_LEEWAY_S 60 /* tolerated clock skew for iat in the future */

typedef struct jwt_claims {
    char sub[JWT_CLAIM_MAX];       /* user id */
    char role[JWT_ROLE_MAX];       /* "admin" | "client" */
    char client_id[JWT_CLAIM_MAX]; /* claim name "clientId" */
    char jti[JWT_CLAIM_MAX];       /* token id, for revocation */
    int64_t iat;                   /* unix seconds */
    int64_t exp;                   /* unix seconds */
} jwt_claims;

/* Signs the claims with key into out as header.payload.signature (NUL-terminated).
 * Returns 0, -EINVAL for an empty key or a claim that is empty or too long,
 * -ENOSPC when out is too small. */
int jwt_sign(const unsigned char *key, size_t keylen, const jwt_claims *c, char *out,
             size_t outlen);

/* Verifies token (len bytes, need not be NUL-terminated) against key at time now.
 * Returns 0 and fills out, or:
 *   -EMSGSIZE  token longer than JWT_MAX_TOKEN
 *   -EBADMSG   not three base64url parts, bad base64url, bad JSON, wrong claim types
 *   -EPERM     alg is not HS256 (none, HS512, ...), or the signature does not match
 *   -ETIME     expired (exp <= now) or issued in the future (iat > now + JWT_LEEWAY_S)
 *   -EINVAL    a required claim (sub, role, clientId, jti, iat, exp) is missing
 * The signature is compared in constant time before the payload is parsed. */
int jwt_verify(const unsigned char *key, size_t keylen, const char *token, size_t len,
               int64_t now, jwt_claims *out);

/* A short English reason for a jwt_verify() result, for logs (never sent to clients). */
const char *jwt_strerror(int rc);

#endif
