/* libFuzzer target for src/core/jwt.c and src/core/b64url.c.
 *
 * A random input almost never carries a valid HMAC, so verifying it as-is only reaches the
 * code before the signature check. The target therefore also treats the input as the
 * "header.payload" part of a token, appends the correct signature under the fuzz key and
 * verifies that, which drives the header and claims parsers with arbitrary JSON. Besides
 * crashes it checks properties, aborting when one fails:
 *   - every result is one of the documented codes;
 *   - an accepted token re-signs and re-verifies to the same claims;
 *   - b64url decoding is canonical: re-encoding what decoded gives back the input;
 *   - b64url encoding round-trips.
 * Build: clang-14 -fsanitize=fuzzer,address,undefined -Isrc/core src/core/b64url.c
 *        src/core/jwt.c fuzz/fuzz_jwt.c $(pkg-config --cflags --libs libsodium jansson)
 * Seeds: fuzz/corpus/jwt/ (tokens and "header.payload" prefixes signed with key below). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "b64url.h"
#include "jwt.h"

#define NOW INT64_C(1700000000)
#define SIG_CHARS 43 /* base64url of a 32-byte MAC */

static const unsigned char key[] = "cloudya-fuzz-key";
#define KEYLEN (sizeof key - 1)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0) abort();
    return 0;
}

static void check_code(int rc)
{
    switch (rc) {
    case 0:
    case -EMSGSIZE:
    case -EBADMSG:
    case -EPERM:
    case -ETIME:
    case -EINVAL:
    case -ENOMEM:
        break;
    default:
        abort();
    }
    if (jwt_strerror(rc) == NULL) abort();
}

/* Verifies tok; when it is accepted, signs the claims again and checks that the new token
 * verifies to identical claims. */
static void verify_and_resign(const char *tok, size_t len)
{
    static char again[JWT_MAX_TOKEN + 1];
    jwt_claims c, c2;
    int rc;

    rc = jwt_verify(key, KEYLEN, tok, len, NOW, &c);
    check_code(rc);
    if (rc != 0) return;
    if (jwt_sign(key, KEYLEN, &c, again, sizeof again) != 0) abort();
    if (jwt_verify(key, KEYLEN, again, strlen(again), NOW, &c2) != 0) abort();
    if (memcmp(&c, &c2, sizeof c) != 0) abort();
}

static void fuzz_b64url(const uint8_t *data, size_t size)
{
    static unsigned char dec[JWT_MAX_TOKEN];
    static char enc[B64URL_ENCODED_LEN(JWT_MAX_TOKEN) + 1];
    unsigned char small[4];
    int n, e;

    if (size > JWT_MAX_TOKEN) size = JWT_MAX_TOKEN;

    n = b64url_decode((const char *)data, size, dec, sizeof dec);
    if (n >= 0) {
        e = b64url_encode(dec, (size_t)n, enc, sizeof enc);
        if (e < 0 || (size_t)e != size || memcmp(enc, data, size) != 0) abort();
    } else if (n != -EBADMSG) {
        abort();
    }
    /* the same input into a buffer that is usually too small */
    e = b64url_decode((const char *)data, size, small, sizeof small);
    if (e != n && !(n > (int)sizeof small && e == -ENOSPC)) abort();

    e = b64url_encode(data, size, enc, sizeof enc);
    if (e < 0) abort();
    n = b64url_decode(enc, (size_t)e, dec, sizeof dec);
    if (n < 0 || (size_t)n != size || memcmp(dec, data, size) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char tok[JWT_MAX_TOKEN + SIG_CHARS + 2];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;

    /* the input as a whole token */
    verify_and_resign((const char *)data, size);

    /* the input as "header.payload", correctly signed */
    if (size + 1 + SIG_CHARS <= JWT_MAX_TOKEN) {
        crypto_auth_hmacsha256_init(&st, key, KEYLEN);
        crypto_auth_hmacsha256_update(&st, data, size);
        crypto_auth_hmacsha256_final(&st, mac);
        if (size > 0) memcpy(tok, data, size);
        tok[size] = '.';
        if (b64url_encode(mac, sizeof mac, tok + size + 1, sizeof tok - size - 1) != SIG_CHARS)
            abort();
        verify_and_resign(tok, size + 1 + SIG_CHARS);
    }

    fuzz_b64url(data, size);
    return 0;
}
