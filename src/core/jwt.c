/* HS256-only JSON Web Tokens. The order of work in jwt_verify() is the security design:
 * bound the length, split, accept only our own header shape, check the MAC in constant time,
 * and only then parse the claims, so an attacker without the key never reaches the claims
 * parser. libsodium must have been initialised (sodium_init()) by the caller. */
#define _POSIX_C_SOURCE 200809L

#include "jwt.h"
#include "b64url.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#define MAC_LEN crypto_auth_hmacsha256_BYTES
/* The largest decoded header or payload a JWT_MAX_TOKEN-long token can carry. */
#define PART_MAX (JWT_MAX_TOKEN / 4 * 3 + 3)

static const char header_json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* Length of a NUL-terminated claim in a fixed buffer of size n, or 0 when it is empty or
 * fills the whole buffer without a NUL (too long to be a valid claim). */
static size_t claim_len(const char *s, size_t n)
{
    size_t l = strnlen(s, n);
    return l == n ? 0 : l;
}

/* Parses len bytes of JSON that must be one flat object (no nested objects or arrays) with
 * unique keys. Returns 0 and the object in *root, -ENOMEM when jansson ran out of memory,
 * or -EBADMSG for anything else. */
static int parse_flat_object(const unsigned char *buf, size_t len, json_t **root)
{
    json_error_t err;
    json_t *o, *v;
    const char *k;

    *root = NULL;
    o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
    if (o == NULL) return json_error_code(&err) == json_error_out_of_memory ? -ENOMEM : -EBADMSG;
    if (!json_is_object(o)) goto bad;
    json_object_foreach(o, k, v)
    {
        if (json_is_object(v) || json_is_array(v)) goto bad;
    }
    *root = o;
    return 0;
bad:
    json_decref(o);
    return -EBADMSG;
}

/* True when v is a JSON string exactly equal to want (no embedded NULs, no prefix match). */
static int string_is(const json_t *v, const char *want)
{
    size_t n = strlen(want);
    return json_is_string(v) && json_string_length(v) == n &&
           memcmp(json_string_value(v), want, n) == 0;
}

/* Accepts only the header we emit: alg exactly "HS256", typ absent or exactly "JWT", and no
 * "crit" (RFC 7515 §4.1.11 says to reject extensions we do not understand, and we
 * understand none). Other header members are ignored because nothing here ever reads them.
 * Returns 0, -EPERM for a header we refuse, -EBADMSG or -ENOMEM from parsing. */
static int check_header(const unsigned char *buf, size_t len)
{
    json_t *h = NULL, *typ;
    int rc;

    rc = parse_flat_object(buf, len, &h);
    if (rc < 0) goto out;
    rc = -EPERM;
    if (!string_is(json_object_get(h, "alg"), "HS256")) goto out;
    typ = json_object_get(h, "typ");
    if (typ != NULL && !string_is(typ, "JWT")) goto out;
    if (json_object_get(h, "crit") != NULL) goto out;
    rc = 0;
out:
    json_decref(h);
    return rc;
}

/* Copies the string claim name into dst (dstlen bytes, NUL included). Returns 0, -EINVAL
 * when it is missing or empty, -EBADMSG when it is not a string or does not fit. */
static int claim_string(json_t *root, const char *name, char *dst, size_t dstlen)
{
    json_t *v = json_object_get(root, name);
    const char *s;
    size_t n;

    if (v == NULL) return -EINVAL;
    if (!json_is_string(v)) return -EBADMSG;
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0) return -EINVAL;
    if (n >= dstlen || memchr(s, '\0', n) != NULL) return -EBADMSG;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* Reads the integer claim name into *dst. Returns 0, -EINVAL when it is missing, -EBADMSG
 * when it is not a JSON integer (reals such as 1.0 and numeric strings are refused). */
static int claim_int(json_t *root, const char *name, int64_t *dst)
{
    json_t *v = json_object_get(root, name);

    if (v == NULL) return -EINVAL;
    if (!json_is_integer(v)) return -EBADMSG;
    *dst = (int64_t)json_integer_value(v);
    return 0;
}

/* Fills c from the authenticated payload. Returns 0 or the first claim error. */
static int parse_claims(const unsigned char *buf, size_t len, jwt_claims *c)
{
    json_t *p = NULL;
    int rc;

    rc = parse_flat_object(buf, len, &p);
    if (rc < 0) goto out;
    if ((rc = claim_string(p, "sub", c->sub, sizeof c->sub)) < 0) goto out;
    if ((rc = claim_string(p, "role", c->role, sizeof c->role)) < 0) goto out;
    if ((rc = claim_string(p, "clientId", c->client_id, sizeof c->client_id)) < 0) goto out;
    if ((rc = claim_string(p, "jti", c->jti, sizeof c->jti)) < 0) goto out;
    if ((rc = claim_int(p, "iat", &c->iat)) < 0) goto out;
    rc = claim_int(p, "exp", &c->exp);
out:
    json_decref(p);
    return rc;
}

/* HMAC-SHA256 of len bytes of msg under key (any length) into mac. Returns 0 or -EINVAL. */
static int hmac(const unsigned char *key, size_t keylen, const void *msg, size_t len,
                unsigned char mac[MAC_LEN])
{
    crypto_auth_hmacsha256_state st;
    int rc = -EINVAL;

    if (crypto_auth_hmacsha256_init(&st, key, keylen) != 0) goto out;
    if (crypto_auth_hmacsha256_update(&st, msg, len) != 0) goto out;
    if (crypto_auth_hmacsha256_final(&st, mac) != 0) goto out;
    rc = 0;
out:
    sodium_memzero(&st, sizeof st);
    return rc;
}

/* Signing builds the payload with jansson so that every claim is escaped correctly, and
 * refuses claims that jwt_verify() would refuse, so we never hand out a token we would not
 * accept back. The claims are written in a fixed order with compact separators. On any
 * error out is left as an empty string (when outlen allows). Returns 0, -EINVAL for a
 * missing or empty key, an empty or unterminated claim or one that is not valid UTF-8 (or
 * when jansson runs out of memory), -ENOSPC when out is too small. */
int jwt_sign(const unsigned char *key, size_t keylen, const jwt_claims *c, char *out, size_t outlen)
{
    unsigned char mac[MAC_LEN];
    char payload[PART_MAX];
    json_t *root = NULL;
    size_t hlen, plen, penc, total, pos;
    int rc = -EINVAL;

    if (out != NULL && outlen > 0) out[0] = '\0';
    if (key == NULL || keylen == 0 || c == NULL) goto out;
    if (claim_len(c->sub, sizeof c->sub) == 0 || claim_len(c->role, sizeof c->role) == 0 ||
        claim_len(c->client_id, sizeof c->client_id) == 0 || claim_len(c->jti, sizeof c->jti) == 0)
        goto out;

    root = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "sub", c->sub, "role", c->role, "clientId",
                     c->client_id, "jti", c->jti, "iat", (json_int_t)c->iat, "exp",
                     (json_int_t)c->exp);
    if (root == NULL) goto out;
    plen = json_dumpb(root, payload, sizeof payload, JSON_COMPACT);
    if (plen == 0 || plen > sizeof payload) goto out;

    hlen = B64URL_ENCODED_LEN(sizeof header_json - 1);
    penc = B64URL_ENCODED_LEN(plen);
    /* Upper bounds (padded lengths); the exact length is known only after encoding. With
     * today's claim limits a token stays far below JWT_MAX_TOKEN; this keeps it so. */
    total = hlen + 1 + penc + 1 + B64URL_ENCODED_LEN(MAC_LEN);
    if (total > JWT_MAX_TOKEN) goto out;
    rc = -ENOSPC;
    if (out == NULL) goto out;

    rc = b64url_encode((const unsigned char *)header_json, sizeof header_json - 1, out, outlen);
    if (rc < 0) goto out;
    pos = (size_t)rc;
    rc = -ENOSPC;
    if (outlen - pos < 2) goto out;
    out[pos++] = '.';
    rc = b64url_encode((const unsigned char *)payload, plen, out + pos, outlen - pos);
    if (rc < 0) goto out;
    pos += (size_t)rc;
    rc = hmac(key, keylen, out, pos, mac);
    if (rc < 0) goto out;
    rc = -ENOSPC;
    if (outlen - pos < 2) goto out;
    out[pos++] = '.';
    rc = b64url_encode(mac, sizeof mac, out + pos, outlen - pos);
    if (rc < 0) goto out;
    rc = 0;
out:
    sodium_memzero(mac, sizeof mac);
    json_decref(root);
    if (rc < 0 && out != NULL && outlen > 0) out[0] = '\0';
    return rc;
}

/* Verification trusts nothing in the token until the MAC has matched: the header is only
 * compared with the one shape we issue, and the payload is not even decoded before the
 * signature is checked. A signature that is valid base64url but not exactly 32 bytes is a
 * signature mismatch (-EPERM). out is zeroed first and filled only on success, so a caller
 * that ignores the result still sees no claims. Besides the codes in jwt.h, -EINVAL is
 * returned for a NULL argument or an empty key, and -ENOMEM when jansson runs out of
 * memory. */
int jwt_verify(const unsigned char *key, size_t keylen, const char *token, size_t len, int64_t now,
               jwt_claims *out)
{
    unsigned char buf[PART_MAX];
    unsigned char mac[MAC_LEN], sig[MAC_LEN];
    size_t dot[2] = {0, 0}, ndots = 0, i;
    jwt_claims c;
    int rc, n;

    memset(&c, 0, sizeof c);
    if (out != NULL) memset(out, 0, sizeof *out);
    rc = -EINVAL;
    if (key == NULL || keylen == 0 || token == NULL || out == NULL) goto out;
    rc = -EMSGSIZE;
    if (len > JWT_MAX_TOKEN) goto out;

    rc = -EBADMSG;
    for (i = 0; i < len; i++) {
        if (token[i] != '.') continue;
        if (ndots == 2) goto out;
        dot[ndots++] = i;
    }
    if (ndots != 2) goto out;

    n = b64url_decode(token, dot[0], buf, sizeof buf);
    if (n < 0) goto out;
    rc = check_header(buf, (size_t)n);
    if (rc < 0) goto out;

    n = b64url_decode(token + dot[1] + 1, len - dot[1] - 1, sig, sizeof sig);
    rc = n == -EBADMSG ? -EBADMSG : -EPERM;
    if (n != (int)MAC_LEN) goto out;
    rc = hmac(key, keylen, token, dot[1], mac);
    if (rc < 0) goto out;
    rc = -EPERM;
    if (sodium_memcmp(mac, sig, sizeof mac) != 0) goto out;

    rc = -EBADMSG;
    n = b64url_decode(token + dot[0] + 1, dot[1] - dot[0] - 1, buf, sizeof buf);
    if (n < 0) goto out;
    rc = parse_claims(buf, (size_t)n, &c);
    if (rc < 0) goto out;

    rc = -ETIME;
    if (c.exp <= now) goto out;
    /* iat - now computed in uint64_t: exact for any iat > now, with no signed overflow. */
    if (c.iat > now && (uint64_t)c.iat - (uint64_t)now > JWT_LEEWAY_S) goto out;
    *out = c;
    rc = 0;
out:
    sodium_memzero(mac, sizeof mac);
    sodium_memzero(&c, sizeof c);
    return rc;
}

/* Log text for every code jwt_sign() and jwt_verify() return. Kept out of responses: the
 * difference between "expired" and "bad signature" helps an attacker more than a client. */
const char *jwt_strerror(int rc)
{
    switch (rc) {
    case 0:
        return "ok";
    case -EMSGSIZE:
        return "token too long";
    case -EBADMSG:
        return "malformed token";
    case -EPERM:
        return "algorithm not allowed or signature mismatch";
    case -ETIME:
        return "token expired or issued in the future";
    case -EINVAL:
        return "missing claim or invalid argument";
    case -ENOSPC:
        return "output buffer too small";
    case -ENOMEM:
        return "out of memory";
    default:
        return "unknown error";
    }
}
