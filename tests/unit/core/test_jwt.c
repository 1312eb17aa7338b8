/* Unit tests for src/core/jwt.c. Tokens for the negative cases are built by hand here
 * (b64url_encode for the parts, libsodium for the MAC) rather than by jwt_sign(), so each
 * case carries exactly one defect and a correct signature over it unless the signature is
 * the defect. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "b64url.h"
#include "jwt.h"

#define NOW INT64_C(1700000000)
#define TOKEN_BUF 8192
#define HS256_HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* A well-formed payload; every negative test changes one thing relative to it. */
#define GOOD_PAYLOAD                                                                               \
    "{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\",\"jti\":\"j1\","                      \
    "\"iat\":1700000000,\"exp\":1700003600}"

static const unsigned char key[] = "unit-test-key-0123456789abcdef";
#define KEYLEN (sizeof key - 1)

static char tok[TOKEN_BUF];

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void enc(const void *in, size_t n, char *out, size_t outlen)
{
    assert_true(b64url_encode(in, n, out, outlen) >= 0);
}

static void hmac256(const unsigned char *k, size_t klen, const char *msg, size_t len,
                    unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;

    assert_int_equal(crypto_auth_hmacsha256_init(&st, k, klen), 0);
    assert_int_equal(crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len), 0);
    assert_int_equal(crypto_auth_hmacsha256_final(&st, mac), 0);
}

/* "hpart.ppart.sig" where hpart and ppart are already encoded (or deliberately malformed)
 * and sig is the correct HS256 MAC over "hpart.ppart" under k. */
static const char *sign_parts(const char *hpart, const char *ppart, const unsigned char *k,
                              size_t klen)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char sig[64];
    int n;

    n = snprintf(tok, sizeof tok, "%s.%s", hpart, ppart);
    assert_true(n > 0 && (size_t)n < sizeof tok);
    hmac256(k, klen, tok, (size_t)n, mac);
    enc(mac, sizeof mac, sig, sizeof sig);
    n = snprintf(tok + n, sizeof tok - (size_t)n, ".%s", sig);
    assert_true(n > 0);
    return tok;
}

/* B64(hdr).B64(payload).HS256 under k. */
static const char *make_token_key(const char *hdr, const char *payload, const unsigned char *k,
                                  size_t klen)
{
    static char h[TOKEN_BUF], p[TOKEN_BUF];

    enc(hdr, strlen(hdr), h, sizeof h);
    enc(payload, strlen(payload), p, sizeof p);
    return sign_parts(h, p, k, klen);
}

static const char *make_token(const char *hdr, const char *payload)
{
    return make_token_key(hdr, payload, key, KEYLEN);
}

/* B64(hdr).B64(payload).sig with sig given verbatim. */
static const char *make_token_sig(const char *hdr, const char *payload, const char *sig)
{
    char h[TOKEN_BUF], p[TOKEN_BUF];
    int n;

    enc(hdr, strlen(hdr), h, sizeof h);
    enc(payload, strlen(payload), p, sizeof p);
    n = snprintf(tok, sizeof tok, "%s.%s.%s", h, p, sig);
    assert_true(n > 0 && (size_t)n < sizeof tok);
    return tok;
}

static int verify_at(const char *t, int64_t now)
{
    jwt_claims c;
    return jwt_verify(key, KEYLEN, t, strlen(t), now, &c);
}

static int verify(const char *t)
{
    return verify_at(t, NOW);
}

/* Verifies a hand-built token whose payload is only a change of GOOD_PAYLOAD. */
static int verify_payload(const char *payload)
{
    return verify(make_token(HS256_HDR, payload));
}

static void good_claims(jwt_claims *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->sub, sizeof c->sub, "%s", "user-1");
    snprintf(c->role, sizeof c->role, "%s", "admin");
    snprintf(c->client_id, sizeof c->client_id, "%s", "client-1");
    snprintf(c->jti, sizeof c->jti, "%s", "jti-1");
    c->iat = NOW;
    c->exp = NOW + 3600;
}

static void test_round_trip(void **state)
{
    jwt_claims in, out;
    char t[1024];

    (void)state;
    good_claims(&in);
    assert_int_equal(jwt_sign(key, KEYLEN, &in, t, sizeof t), 0);
    assert_int_equal(jwt_verify(key, KEYLEN, t, strlen(t), NOW, &out), 0);
    assert_string_equal(out.sub, in.sub);
    assert_string_equal(out.role, in.role);
    assert_string_equal(out.client_id, in.client_id);
    assert_string_equal(out.jti, in.jti);
    assert_int_equal(out.iat, in.iat);
    assert_int_equal(out.exp, in.exp);
}

/* Claims at their longest, and characters JSON must escape, survive a round trip. */
static void test_round_trip_limits_and_escapes(void **state)
{
    jwt_claims in, out;
    char t[JWT_MAX_TOKEN + 1];

    (void)state;
    good_claims(&in);
    memset(in.sub, 'a', sizeof in.sub - 1);
    in.sub[sizeof in.sub - 1] = '\0';
    memset(in.role, 'r', sizeof in.role - 1);
    in.role[sizeof in.role - 1] = '\0';
    snprintf(in.client_id, sizeof in.client_id, "%s", "q\"uo\\te/\x01\t\xc3\xa9\xe2\x82\xac");
    memset(in.jti, '\x1f', sizeof in.jti - 1); /* escapes to \u001f: the longest form */
    in.jti[sizeof in.jti - 1] = '\0';
    in.iat = INT64_MIN;
    in.exp = INT64_MAX;
    assert_int_equal(jwt_sign(key, KEYLEN, &in, t, sizeof t), 0);
    assert_true(strlen(t) <= JWT_MAX_TOKEN);
    assert_int_equal(jwt_verify(key, KEYLEN, t, strlen(t), NOW, &out), 0);
    assert_memory_equal(&out, &in, sizeof in);
}

/* jwt_sign() output matches a token computed independently (Python's hmac, hashlib and
 * json.dumps with compact separators), so other JWT implementations can read ours. */
static void test_known_answer(void **state)
{
    static const unsigned char k[] = "cloudya-test-key";
    static const char want[] =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiJ1c2VyLTEiLCJyb2xlIjoiYWRtaW4iLCJjbGllbnRJZCI6ImNsaWVudC0xIiwianRpIjoianRp"
        "LTEiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0."
        "GMmdsOwf5_1emLwF7ENGzwNv4ab1a55IiZjUguI-OEU";
    jwt_claims c, out;
    char t[1024];

    (void)state;
    good_claims(&c);
    assert_int_equal(jwt_sign(k, sizeof k - 1, &c, t, sizeof t), 0);
    assert_string_equal(t, want);
    assert_int_equal(jwt_verify(k, sizeof k - 1, want, strlen(want), NOW, &out), 0);
    assert_string_equal(out.sub, "user-1");
}

/* The hand-built baseline verifies, so every negative case below fails for its one defect. */
static void test_hand_built_baseline(void **state)
{
    jwt_claims c;
    const char *t = make_token(HS256_HDR, GOOD_PAYLOAD);

    (void)state;
    assert_int_equal(jwt_verify(key, KEYLEN, t, strlen(t), NOW, &c), 0);
    assert_string_equal(c.sub, "u1");
    assert_string_equal(c.role, "client");
    assert_string_equal(c.client_id, "c1");
    assert_string_equal(c.jti, "j1");
    assert_int_equal(c.iat, NOW);
    assert_int_equal(c.exp, NOW + 3600);
    /* typ is optional, other header members and extra claims are ignored */
    assert_int_equal(verify(make_token("{\"alg\":\"HS256\"}", GOOD_PAYLOAD)), 0);
    assert_int_equal(
        verify(make_token("{\"typ\":\"JWT\",\"kid\":\"k1\",\"alg\":\"HS256\"}", GOOD_PAYLOAD)), 0);
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600,"
                                    "\"aud\":\"x\",\"n\":1.5,\"b\":true,\"z\":null}"),
                     0);
}

/* The token need not be NUL-terminated: bytes after len are never read. */
static void test_not_nul_terminated(void **state)
{
    jwt_claims c;
    char buf[TOKEN_BUF];
    size_t n;

    (void)state;
    n = strlen(make_token(HS256_HDR, GOOD_PAYLOAD));
    memcpy(buf, tok, n);
    memcpy(buf + n, ".garbage", 8);
    assert_int_equal(jwt_verify(key, KEYLEN, buf, n, NOW, &c), 0);
    assert_int_equal(jwt_verify(key, KEYLEN, buf, n + 8, NOW, &c), -EBADMSG);
}

static void test_tampered_signature(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *pos;
    char *sig;

    (void)state;
    make_token(HS256_HDR, GOOD_PAYLOAD);
    sig = strrchr(tok, '.') + 1;
    sig[0] = sig[0] == 'A' ? 'B' : 'A'; /* first char: trailing bits stay valid */
    assert_int_equal(verify(tok), -EPERM);

    /* 31 and 33 bytes of signature: well-formed base64url, wrong length */
    assert_int_equal(verify(make_token_sig(HS256_HDR, GOOD_PAYLOAD,
                                           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
                     -EPERM);
    assert_int_equal(verify(make_token_sig(HS256_HDR, GOOD_PAYLOAD,
                                           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
                     -EPERM);
    assert_int_equal(verify(make_token_sig(HS256_HDR, GOOD_PAYLOAD, "")), -EPERM);

    /* The correct MAC with the two unused bits of its last character set: a lax decoder
     * would yield the same 32 bytes and accept this second spelling of the token. */
    make_token(HS256_HDR, GOOD_PAYLOAD);
    sig = strrchr(tok, '.') + 1;
    assert_int_equal(strlen(sig), 43);
    pos = strchr(alphabet, sig[42]);
    assert_non_null(pos);
    assert_int_equal((pos - alphabet) & 3, 0);
    sig[42] = alphabet[(pos - alphabet) | 1];
    assert_int_equal(verify(tok), -EBADMSG);
}

static void test_tampered_payload(void **state)
{
    char h[128], p[512], sig[64], t[1024];
    const char *evil = "{\"sub\":\"u1\",\"role\":\"admin\",\"clientId\":\"c1\",\"jti\":\"j1\","
                       "\"iat\":1700000000,\"exp\":1700003600}";

    (void)state;
    make_token(HS256_HDR, GOOD_PAYLOAD);
    snprintf(sig, sizeof sig, "%s", strrchr(tok, '.') + 1);
    enc(HS256_HDR, strlen(HS256_HDR), h, sizeof h);
    enc(evil, strlen(evil), p, sizeof p);
    snprintf(t, sizeof t, "%s.%s.%s", h, p, sig);
    assert_int_equal(verify(t), -EPERM);
}

static void test_alg_none(void **state)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char h[128], p[512], sig[64], t[1024];
    const char *none = "{\"alg\":\"none\",\"typ\":\"JWT\"}";

    (void)state;
    /* the classic: alg none with an empty signature */
    assert_int_equal(verify(make_token_sig(none, GOOD_PAYLOAD, "")), -EPERM);
    /* alg none with a non-empty signature, even one that is the correct HS256 MAC */
    assert_int_equal(verify(make_token(none, GOOD_PAYLOAD)), -EPERM);
    assert_int_equal(verify(make_token_sig(none, GOOD_PAYLOAD, "c2ln")), -EPERM);
    assert_int_equal(verify(make_token_sig("{\"alg\":\"None\"}", GOOD_PAYLOAD, "")), -EPERM);
    assert_int_equal(verify(make_token_sig("{\"alg\":\"nOnE\"}", GOOD_PAYLOAD, "")), -EPERM);
    /* the MAC computed over a header that says HS256, then the header swapped for none */
    enc(HS256_HDR, strlen(HS256_HDR), h, sizeof h);
    enc(GOOD_PAYLOAD, strlen(GOOD_PAYLOAD), p, sizeof p);
    snprintf(t, sizeof t, "%s.%s", h, p);
    hmac256(key, KEYLEN, t, strlen(t), mac);
    enc(mac, sizeof mac, sig, sizeof sig);
    enc(none, strlen(none), h, sizeof h);
    snprintf(t, sizeof t, "%s.%s.%s", h, p, sig);
    assert_int_equal(verify(t), -EPERM);
}

static void test_alg_hs512_and_others(void **state)
{
    unsigned char mac[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_state st;
    char h[128], p[512], sig[128], t[2048];
    const char *hs512 = "{\"alg\":\"HS512\",\"typ\":\"JWT\"}";

    (void)state;
    /* a genuine HS512 token under our key */
    enc(hs512, strlen(hs512), h, sizeof h);
    enc(GOOD_PAYLOAD, strlen(GOOD_PAYLOAD), p, sizeof p);
    snprintf(t, sizeof t, "%s.%s", h, p);
    crypto_auth_hmacsha512_init(&st, key, KEYLEN);
    crypto_auth_hmacsha512_update(&st, (const unsigned char *)t, strlen(t));
    crypto_auth_hmacsha512_final(&st, mac);
    enc(mac, sizeof mac, sig, sizeof sig);
    snprintf(t + strlen(t), sizeof t - strlen(t), ".%s", sig);
    assert_int_equal(verify(t), -EPERM);
    /* an HS512 header with a correct HS256 MAC: the header alone must refuse it */
    assert_int_equal(verify(make_token(hs512, GOOD_PAYLOAD)), -EPERM);
    assert_int_equal(verify(make_token("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", GOOD_PAYLOAD)),
                     -EPERM);
    assert_int_equal(verify(make_token("{\"alg\":\"HS384\"}", GOOD_PAYLOAD)), -EPERM);
    assert_int_equal(verify(make_token("{\"alg\":\"hs256\"}", GOOD_PAYLOAD)), -EPERM);
    assert_int_equal(verify(make_token("{\"alg\":\"HS256 \"}", GOOD_PAYLOAD)), -EPERM);
    assert_int_equal(verify(make_token("{\"alg\":\"HS2560\"}", GOOD_PAYLOAD)), -EPERM);
}

static void test_alg_missing_or_wrong_type(void **state)
{
    (void)state;
    assert_int_equal(verify(make_token("{\"typ\":\"JWT\"}", GOOD_PAYLOAD)), -EPERM);
    assert_int_equal(verify(make_token("{}", GOOD_PAYLOAD)), -EPERM);
    assert_int_equal(verify(make_token("{\"alg\":256}", GOOD_PAYLOAD)), -EPERM);
    assert_int_equal(verify(make_token("{\"alg\":null}", GOOD_PAYLOAD)), -EPERM);
    assert_int_equal(verify(make_token("{\"Alg\":\"HS256\"}", GOOD_PAYLOAD)), -EPERM);
}

static void test_header_typ_and_crit(void **state)
{
    (void)state;
    assert_int_equal(verify(make_token("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", GOOD_PAYLOAD)),
                     -EPERM);
    assert_int_equal(verify(make_token("{\"alg\":\"HS256\",\"typ\":1}", GOOD_PAYLOAD)), -EPERM);
    assert_int_equal(verify(make_token("{\"alg\":\"HS256\",\"crit\":\"exp\"}", GOOD_PAYLOAD)),
                     -EPERM);
}

static void test_header_malformed(void **state)
{
    (void)state;
    assert_int_equal(verify(make_token("{\"alg\":\"HS256\"", GOOD_PAYLOAD)), -EBADMSG);
    assert_int_equal(verify(make_token("[\"HS256\"]", GOOD_PAYLOAD)), -EBADMSG);
    assert_int_equal(verify(make_token("\"HS256\"", GOOD_PAYLOAD)), -EBADMSG);
    assert_int_equal(verify(make_token("{\"alg\":\"HS256\"} x", GOOD_PAYLOAD)), -EBADMSG);
    assert_int_equal(verify(make_token("{\"alg\":\"HS256\",\"jwk\":{\"k\":\"x\"}}", GOOD_PAYLOAD)),
                     -EBADMSG);
    assert_int_equal(verify(make_token("{\"alg\":\"HS256\",\"x5c\":[]}", GOOD_PAYLOAD)), -EBADMSG);
}

static void test_expired(void **state)
{
    (void)state;
    assert_int_equal(verify_at(make_token(HS256_HDR, GOOD_PAYLOAD), NOW + 3600), -ETIME);
    assert_int_equal(verify_at(make_token(HS256_HDR, GOOD_PAYLOAD), NOW + 3601), -ETIME);
    assert_int_equal(verify_at(make_token(HS256_HDR, GOOD_PAYLOAD), NOW + 3599), 0);
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1,\"exp\":-9223372036854775808}"),
                     -ETIME);
}

static void test_iat_future(void **state)
{
    const char *t;

    (void)state;
    /* iat is NOW; verify as if the clock were behind the issuer's */
    t = make_token(HS256_HDR, GOOD_PAYLOAD);
    assert_int_equal(verify_at(t, NOW - JWT_LEEWAY_S - 1), -ETIME);
    assert_int_equal(verify_at(t, NOW - JWT_LEEWAY_S), 0);
    assert_int_equal(verify_at(t, NOW - 1), 0);
    /* extreme values must not overflow into acceptance */
    t = make_token(HS256_HDR, "{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                              "\"jti\":\"j1\",\"iat\":9223372036854775807,"
                              "\"exp\":9223372036854775807}");
    assert_int_equal(verify_at(t, NOW), -ETIME);
    assert_int_equal(verify_at(t, INT64_MIN), -ETIME);
}

/* Each part, in turn, is malformed base64url; the token is otherwise well signed. */
static void test_malformed_base64(void **state)
{
    char h[128], p[512], t[TOKEN_BUF + 8];

    (void)state;
    enc(HS256_HDR, strlen(HS256_HDR), h, sizeof h);
    enc(GOOD_PAYLOAD, strlen(GOOD_PAYLOAD), p, sizeof p);

    /* header: padding, '+' and '/', impossible length */
    assert_int_equal(verify(sign_parts("eyJhbGciOiJIUzI1NiJ9==", p, key, KEYLEN)), -EBADMSG);
    snprintf(t, sizeof t, "%s", h);
    t[5] = '+';
    assert_int_equal(verify(sign_parts(t, p, key, KEYLEN)), -EBADMSG);
    t[5] = '/';
    assert_int_equal(verify(sign_parts(t, p, key, KEYLEN)), -EBADMSG);
    snprintf(t, sizeof t, "%sA", h); /* 36 + 1 chars: len % 4 == 1 */
    assert_int_equal(strlen(t) % 4, 1);
    assert_int_equal(verify(sign_parts(t, p, key, KEYLEN)), -EBADMSG);

    /* payload, with a correct MAC over the malformed text */
    snprintf(t, sizeof t, "%s=", p);
    assert_int_equal(verify(sign_parts(h, t, key, KEYLEN)), -EBADMSG);
    snprintf(t, sizeof t, "%s", p);
    t[3] = '*';
    assert_int_equal(verify(sign_parts(h, t, key, KEYLEN)), -EBADMSG);
    snprintf(t, sizeof t, "%s", p);
    t[strlen(t) - (strlen(t) % 4)] = '\0'; /* make len % 4 == 0, then add one char */
    snprintf(t + strlen(t), sizeof t - strlen(t), "%s", "A");
    assert_int_equal(strlen(t) % 4, 1);
    assert_int_equal(verify(sign_parts(h, t, key, KEYLEN)), -EBADMSG);

    /* signature: padding, bad char, impossible length */
    make_token(HS256_HDR, GOOD_PAYLOAD);
    snprintf(t, sizeof t, "%s=", tok);
    assert_int_equal(verify(t), -EBADMSG);
    snprintf(t, sizeof t, "%s", tok);
    *(strrchr(t, '.') + 1) = '+';
    assert_int_equal(verify(t), -EBADMSG);
    snprintf(t, sizeof t, "%sAA", tok); /* 43 + 2 = 45 chars */
    assert_int_equal(verify(t), -EBADMSG);
}

static void test_wrong_number_of_dots(void **state)
{
    char t[TOKEN_BUF + 8];
    char *last;

    (void)state;
    make_token(HS256_HDR, GOOD_PAYLOAD);
    snprintf(t, sizeof t, "%s", tok);
    last = strrchr(t, '.');
    *last = '\0'; /* header.payload */
    assert_int_equal(verify(t), -EBADMSG);
    *strchr(t, '.') = '\0'; /* header only */
    assert_int_equal(verify(t), -EBADMSG);
    snprintf(t, sizeof t, "%s.", tok); /* four parts, last one empty */
    assert_int_equal(verify(t), -EBADMSG);
    snprintf(t, sizeof t, "%s.AAAA", tok);
    assert_int_equal(verify(t), -EBADMSG);
    assert_int_equal(verify(""), -EBADMSG);
    assert_int_equal(verify("."), -EBADMSG);
    assert_int_equal(verify(".."), -EBADMSG);
    assert_int_equal(verify("..."), -EBADMSG);
}

/* Appends ,"pad":"xxx" to GOOD_PAYLOAD so the signed token is exactly want characters. */
static const char *token_of_length(size_t want)
{
    char payload[TOKEN_BUF];
    size_t base = strlen(GOOD_PAYLOAD) - 1, pad;

    /* 36 header + '.' + payload + '.' + 43 signature */
    for (pad = 0; pad < TOKEN_BUF - 64; pad++) {
        size_t plen = base + strlen(",\"pad\":\"\"}") + pad;
        if (36 + 1 + (plen * 4 + 2) / 3 + 1 + 43 == want) break;
    }
    memcpy(payload, GOOD_PAYLOAD, base);
    memcpy(payload + base, ",\"pad\":\"", 8);
    memset(payload + base + 8, 'x', pad);
    memcpy(payload + base + 8 + pad, "\"}", 3);
    make_token(HS256_HDR, payload);
    assert_int_equal(strlen(tok), want);
    return tok;
}

static void test_oversize(void **state)
{
    static char big[JWT_MAX_TOKEN + 2];
    jwt_claims c;

    (void)state;
    assert_int_equal(verify(token_of_length(JWT_MAX_TOKEN)), 0);
    assert_int_equal(verify(token_of_length(JWT_MAX_TOKEN + 1)), -EMSGSIZE);
    /* refused on length alone, before any parsing */
    memset(big, '.', sizeof big);
    assert_int_equal(jwt_verify(key, KEYLEN, big, sizeof big, NOW, &c), -EMSGSIZE);
    assert_int_equal(jwt_verify(key, KEYLEN, big, SIZE_MAX, NOW, &c), -EMSGSIZE);
}

static void test_missing_claims(void **state)
{
    static const char *parts[] = {
        "\"sub\":\"u1\"", "\"role\":\"client\"", "\"clientId\":\"c1\"",
        "\"jti\":\"j1\"", "\"iat\":1700000000",  "\"exp\":1700003600",
    };
    const size_t n = sizeof parts / sizeof parts[0];
    char payload[512];
    size_t skip, i;

    (void)state;
    for (skip = 0; skip < n; skip++) {
        size_t off = 0;
        payload[off++] = '{';
        for (i = 0; i < n; i++) {
            if (i == skip) continue;
            off += (size_t)snprintf(payload + off, sizeof payload - off, "%s%s", off > 1 ? "," : "",
                                    parts[i]);
        }
        snprintf(payload + off, sizeof payload - off, "}");
        assert_int_equal(verify_payload(payload), -EINVAL);
    }
    /* "client_id" is not "clientId" */
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"client_id\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600}"),
                     -EINVAL);
    /* an empty string claim counts as missing */
    assert_int_equal(verify_payload("{\"sub\":\"\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600}"),
                     -EINVAL);
    assert_int_equal(verify_payload("{}"), -EINVAL);
}

static void test_wrong_claim_types(void **state)
{
    (void)state;
    /* number for sub */
    assert_int_equal(verify_payload("{\"sub\":1,\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600}"),
                     -EBADMSG);
    /* null / bool for string claims */
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":null,\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600}"),
                     -EBADMSG);
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":true,"
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600}"),
                     -EBADMSG);
    /* string for exp */
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":\"1700003600\"}"),
                     -EBADMSG);
    /* real for exp, even an integral one */
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600.0}"),
                     -EBADMSG);
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1.7e9}"),
                     -EBADMSG);
    /* real for iat */
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000.5,\"exp\":1700003600}"),
                     -EBADMSG);
    /* an integer beyond int64 is not an integer jansson can hold */
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,"
                                    "\"exp\":9223372036854775808}"),
                     -EBADMSG);
}

static void test_claim_lengths(void **state)
{
    char payload[1024], s63[64], s64[65];

    (void)state;
    memset(s63, 's', 63);
    s63[63] = '\0';
    memset(s64, 's', 64);
    s64[64] = '\0';
    /* sub, clientId and jti hold 63 characters; role holds 15 */
    snprintf(payload, sizeof payload,
             "{\"sub\":\"%s\",\"role\":\"%s\",\"clientId\":\"%s\",\"jti\":\"%s\","
             "\"iat\":1700000000,\"exp\":1700003600}",
             s63, "rrrrrrrrrrrrrrr", s63, s63);
    assert_int_equal(verify_payload(payload), 0);
    snprintf(payload, sizeof payload,
             "{\"sub\":\"%s\",\"role\":\"client\",\"clientId\":\"c1\",\"jti\":\"j1\","
             "\"iat\":1700000000,\"exp\":1700003600}",
             s64);
    assert_int_equal(verify_payload(payload), -EBADMSG);
    snprintf(payload, sizeof payload,
             "{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"%s\",\"jti\":\"j1\","
             "\"iat\":1700000000,\"exp\":1700003600}",
             s64);
    assert_int_equal(verify_payload(payload), -EBADMSG);
    snprintf(payload, sizeof payload,
             "{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\",\"jti\":\"%s\","
             "\"iat\":1700000000,\"exp\":1700003600}",
             s64);
    assert_int_equal(verify_payload(payload), -EBADMSG);
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"rrrrrrrrrrrrrrrr\","
                                    "\"clientId\":\"c1\",\"jti\":\"j1\",\"iat\":1700000000,"
                                    "\"exp\":1700003600}"),
                     -EBADMSG);
    /* an escaped NUL would truncate the claim; jansson refuses it */
    assert_int_equal(verify_payload("{\"sub\":\"admin\\u0000x\",\"role\":\"client\","
                                    "\"clientId\":\"c1\",\"jti\":\"j1\",\"iat\":1700000000,"
                                    "\"exp\":1700003600}"),
                     -EBADMSG);
}

static void test_nested_and_malformed_payload(void **state)
{
    (void)state;
    assert_int_equal(verify_payload("{\"sub\":{\"id\":\"u1\"},\"role\":\"client\","
                                    "\"clientId\":\"c1\",\"jti\":\"j1\",\"iat\":1700000000,"
                                    "\"exp\":1700003600}"),
                     -EBADMSG);
    /* nesting is refused even in a claim we do not read */
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600,"
                                    "\"aud\":[\"a\"]}"),
                     -EBADMSG);
    assert_int_equal(verify_payload("[1,2]"), -EBADMSG);
    assert_int_equal(verify_payload("\"sub\""), -EBADMSG);
    assert_int_equal(verify_payload(""), -EBADMSG);
    assert_int_equal(verify_payload("{\"sub\":\"u1\""), -EBADMSG);
    assert_int_equal(verify_payload(GOOD_PAYLOAD "{}"), -EBADMSG);
    assert_int_equal(verify_payload("{\"sub\":\"\xff\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600}"),
                     -EBADMSG);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    /* a second sub after the first one */
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600,"
                                    "\"sub\":\"admin\"}"),
                     -EBADMSG);
    assert_int_equal(verify_payload("{\"sub\":\"u1\",\"role\":\"client\",\"clientId\":\"c1\","
                                    "\"jti\":\"j1\",\"iat\":1700000000,\"exp\":1700003600,"
                                    "\"exp\":9999999999}"),
                     -EBADMSG);
    /* a second alg in the header, in either order */
    assert_int_equal(verify(make_token("{\"alg\":\"none\",\"alg\":\"HS256\"}", GOOD_PAYLOAD)),
                     -EBADMSG);
    assert_int_equal(verify(make_token("{\"alg\":\"HS256\",\"alg\":\"none\"}", GOOD_PAYLOAD)),
                     -EBADMSG);
}

static void test_wrong_key(void **state)
{
    static const unsigned char other[] = "unit-test-key-0123456789abcdeF";
    static const unsigned char longkey[200] = {1, 2, 3};
    jwt_claims in, out;
    char t[1024];
    const char *h;

    (void)state;
    h = make_token_key(HS256_HDR, GOOD_PAYLOAD, other, sizeof other - 1);
    assert_int_equal(verify(h), -EPERM);
    /* a prefix of the key is a different key */
    h = make_token_key(HS256_HDR, GOOD_PAYLOAD, key, KEYLEN - 1);
    assert_int_equal(verify(h), -EPERM);
    /* keys longer than the SHA-256 block size work and are distinct */
    good_claims(&in);
    assert_int_equal(jwt_sign(longkey, sizeof longkey, &in, t, sizeof t), 0);
    assert_int_equal(jwt_verify(longkey, sizeof longkey, t, strlen(t), NOW, &out), 0);
    assert_int_equal(jwt_verify(longkey, sizeof longkey - 1, t, strlen(t), NOW, &out), -EPERM);
    assert_int_equal(jwt_verify(key, KEYLEN, t, strlen(t), NOW, &out), -EPERM);
}

static void test_sign_bad_arguments(void **state)
{
    jwt_claims c;
    char t[1024];

    (void)state;
    good_claims(&c);
    memset(t, 'x', sizeof t);
    assert_int_equal(jwt_sign(key, 0, &c, t, sizeof t), -EINVAL);
    assert_int_equal(t[0], '\0');
    assert_int_equal(jwt_sign(NULL, 0, &c, t, sizeof t), -EINVAL);
    assert_int_equal(jwt_sign(NULL, 16, &c, t, sizeof t), -EINVAL);
    assert_int_equal(jwt_sign(key, KEYLEN, NULL, t, sizeof t), -EINVAL);

    c.sub[0] = '\0';
    assert_int_equal(jwt_sign(key, KEYLEN, &c, t, sizeof t), -EINVAL);
    good_claims(&c);
    c.jti[0] = '\0';
    assert_int_equal(jwt_sign(key, KEYLEN, &c, t, sizeof t), -EINVAL);
    good_claims(&c);
    memset(c.role, 'r', sizeof c.role); /* no NUL inside the buffer */
    assert_int_equal(jwt_sign(key, KEYLEN, &c, t, sizeof t), -EINVAL);
    good_claims(&c);
    memset(c.client_id, 'c', sizeof c.client_id);
    assert_int_equal(jwt_sign(key, KEYLEN, &c, t, sizeof t), -EINVAL);
    good_claims(&c);
    snprintf(c.sub, sizeof c.sub, "%s", "bad\xff utf-8");
    assert_int_equal(jwt_sign(key, KEYLEN, &c, t, sizeof t), -EINVAL);
}

static void test_sign_outlen_too_small(void **state)
{
    jwt_claims c;
    char t[1024];
    size_t need, n;

    (void)state;
    good_claims(&c);
    assert_int_equal(jwt_sign(key, KEYLEN, &c, t, sizeof t), 0);
    need = strlen(t) + 1;
    for (n = 0; n < need; n++) {
        memset(t, 'x', sizeof t);
        assert_int_equal(jwt_sign(key, KEYLEN, &c, t, n), -ENOSPC);
        if (n > 0) assert_int_equal(t[0], '\0');
        assert_int_equal(t[n], 'x'); /* never a byte past outlen */
    }
    assert_int_equal(jwt_sign(key, KEYLEN, &c, t, need), 0);
    assert_int_equal(strlen(t), need - 1);
    assert_int_equal(jwt_sign(key, KEYLEN, &c, NULL, 0), -ENOSPC);
}

static void test_verify_bad_arguments(void **state)
{
    jwt_claims c;
    const char *t = make_token(HS256_HDR, GOOD_PAYLOAD);

    (void)state;
    assert_int_equal(jwt_verify(key, 0, t, strlen(t), NOW, &c), -EINVAL);
    assert_int_equal(jwt_verify(NULL, KEYLEN, t, strlen(t), NOW, &c), -EINVAL);
    assert_int_equal(jwt_verify(key, KEYLEN, NULL, 0, NOW, &c), -EINVAL);
    assert_int_equal(jwt_verify(key, KEYLEN, t, strlen(t), NOW, NULL), -EINVAL);
}

/* A failed verification leaves no claims behind for a careless caller. */
static void test_out_cleared_on_failure(void **state)
{
    static const jwt_claims zero;
    jwt_claims c;
    const char *t;

    (void)state;
    t = make_token(HS256_HDR, GOOD_PAYLOAD);
    memset(&c, 'z', sizeof c);
    assert_int_equal(jwt_verify(key, KEYLEN, t, strlen(t), NOW + 7200, &c), -ETIME);
    assert_memory_equal(&c, &zero, sizeof c);
    memset(&c, 'z', sizeof c);
    assert_int_equal(jwt_verify(key, KEYLEN, "a.b", 3, NOW, &c), -EBADMSG);
    assert_memory_equal(&c, &zero, sizeof c);
}

static void test_strerror(void **state)
{
    static const int codes[] = {0, -EMSGSIZE, -EBADMSG, -EPERM, -ETIME, -EINVAL, -ENOSPC, -ENOMEM};
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = jwt_strerror(codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, jwt_strerror(-12345));
        for (j = 0; j < i; j++)
            assert_string_not_equal(s, jwt_strerror(codes[j]));
    }
    assert_non_null(jwt_strerror(12345));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_limits_and_escapes),
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_hand_built_baseline),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_tampered_signature),
        cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_alg_hs512_and_others),
        cmocka_unit_test(test_alg_missing_or_wrong_type),
        cmocka_unit_test(test_header_typ_and_crit),
        cmocka_unit_test(test_header_malformed),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_iat_future),
        cmocka_unit_test(test_malformed_base64),
        cmocka_unit_test(test_wrong_number_of_dots),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_missing_claims),
        cmocka_unit_test(test_wrong_claim_types),
        cmocka_unit_test(test_claim_lengths),
        cmocka_unit_test(test_nested_and_malformed_payload),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_sign_bad_arguments),
        cmocka_unit_test(test_sign_outlen_too_small),
        cmocka_unit_test(test_verify_bad_arguments),
        cmocka_unit_test(test_out_cleared_on_failure),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests_name("jwt", tests, setup, NULL);
}
