/* Unit tests for src/core/b64url.c: RFC 4648 vectors (converted to the URL alphabet without
 * padding), the strictness rules of the decoder and the buffer-size contract. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "b64url.h"

struct vector {
    const char *plain;
    const char *encoded;
};

/* RFC 4648 §10, with the '=' padding removed as base64url for JWTs requires. */
static const struct vector rfc4648[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_encode(void **state)
{
    char out[16];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        size_t n = strlen(rfc4648[i].plain);
        int rc = b64url_encode((const unsigned char *)rfc4648[i].plain, n, out, sizeof out);
        assert_int_equal(rc, (int)strlen(rfc4648[i].encoded));
        assert_string_equal(out, rfc4648[i].encoded);
    }
}

static void test_rfc4648_decode(void **state)
{
    unsigned char out[16];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *e = rfc4648[i].encoded;
        int rc = b64url_decode(e, strlen(e), out, sizeof out);
        assert_int_equal(rc, (int)strlen(rfc4648[i].plain));
        assert_memory_equal(out, rfc4648[i].plain, (size_t)rc);
    }
}

/* The two characters that differ from standard base64: 62 is '-' and 63 is '_'. */
static void test_url_alphabet(void **state)
{
    static const unsigned char all62[] = {0xfb, 0xef, 0xbe};
    static const unsigned char all63[] = {0xff, 0xff, 0xff};
    static const unsigned char two[] = {0xfb, 0xff};
    unsigned char dec[8];
    char out[8];

    (void)state;
    assert_int_equal(b64url_encode(all62, sizeof all62, out, sizeof out), 4);
    assert_string_equal(out, "----");
    assert_int_equal(b64url_encode(all63, sizeof all63, out, sizeof out), 4);
    assert_string_equal(out, "____");
    assert_int_equal(b64url_encode(two, sizeof two, out, sizeof out), 3);
    assert_string_equal(out, "-_8");
    assert_int_equal(b64url_decode("-_8", 3, dec, sizeof dec), 2);
    assert_memory_equal(dec, two, 2);
    assert_int_equal(b64url_decode("____", 4, dec, sizeof dec), 3);
    assert_memory_equal(dec, all63, 3);
}

/* Every length from 0 to 300 with every byte value round-trips, and the encoded length is
 * the unpadded one. */
static void test_round_trip(void **state)
{
    unsigned char in[300], dec[300];
    char enc[B64URL_ENCODED_LEN(300) + 1];
    size_t n, i;

    (void)state;
    for (i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 151 + 7);
    for (n = 0; n <= sizeof in; n++) {
        int e = b64url_encode(in, n, enc, sizeof enc);
        assert_int_equal(e, (int)((n * 4 + 2) / 3));
        assert_true((size_t)e <= B64URL_ENCODED_LEN(n));
        assert_int_equal(strlen(enc), (size_t)e);
        assert_null(strchr(enc, '='));
        assert_int_equal(b64url_decode(enc, (size_t)e, dec, n), (int)n);
        assert_memory_equal(dec, in, n);
    }
}

static void test_encode_nospace(void **state)
{
    const unsigned char *in = (const unsigned char *)"foobar";
    char out[16];

    (void)state;
    memset(out, 'x', sizeof out);
    assert_int_equal(b64url_encode(in, 6, out, 8), -ENOSPC); /* needs 8 + NUL */
    assert_int_equal(out[0], 'x');                           /* nothing written */
    assert_int_equal(b64url_encode(in, 6, out, 9), 8);
    assert_int_equal(b64url_encode(in, 1, out, 2), -ENOSPC); /* "Zg" + NUL */
    assert_int_equal(b64url_encode(in, 1, out, 3), 2);
    assert_int_equal(b64url_encode(in, 0, out, 0), -ENOSPC); /* no room for the NUL */
    assert_int_equal(b64url_encode(in, 0, out, 1), 0);
    assert_string_equal(out, "");
    assert_int_equal(b64url_encode(in, 1, NULL, 0), -ENOSPC);
}

static void test_decode_nospace(void **state)
{
    unsigned char out[8];

    (void)state;
    assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 5), -ENOSPC);
    assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 6), 6);
    assert_int_equal(b64url_decode("Zm8", 3, out, 1), -ENOSPC);
    assert_int_equal(b64url_decode("", 0, NULL, 0), 0);
}

static void test_reject_padding(void **state)
{
    unsigned char out[16];

    (void)state;
    assert_int_equal(b64url_decode("Zg==", 4, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zm8=", 4, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zm9vYg==", 8, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zg=", 3, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("====", 4, out, sizeof out), -EBADMSG);
}

static void test_reject_bad_chars(void **state)
{
    static const char *bad[] = {"Zm9+", "Zm9/", "Zm 9", "Zm9\n", "Zm.9", "Zm9*", "Zm\"9"};
    static const char nul[] = {'Z', 'm', '\0', 'v'};
    static const char high[] = {'Z', 'm', (char)0xc3, (char)0xa9};
    static const char ff[] = {'Z', 'm', '9', (char)0xff};
    unsigned char out[16];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(b64url_decode(bad[i], strlen(bad[i]), out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode(nul, sizeof nul, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode(high, sizeof high, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode(ff, sizeof ff, out, sizeof out), -EBADMSG);
}

static void test_reject_impossible_length(void **state)
{
    unsigned char out[16];

    (void)state;
    assert_int_equal(b64url_decode("Z", 1, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zm9vY", 5, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zm9vYmFyZ", 9, out, sizeof out), -EBADMSG);
}

/* "Zg" is the only encoding of "f"; "Zh".."Zv" decode to the same byte with non-zero
 * unused bits and must be refused, likewise for two-byte groups. */
static void test_reject_trailing_bits(void **state)
{
    unsigned char out[16];

    (void)state;
    assert_int_equal(b64url_decode("Zg", 2, out, sizeof out), 1);
    assert_int_equal(b64url_decode("Zh", 2, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zv", 2, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zm9vYh", 6, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zm8", 3, out, sizeof out), 2);
    assert_int_equal(b64url_decode("Zm9", 3, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zm-", 3, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zm_", 3, out, sizeof out), -EBADMSG);
}

/* Malformed input is -EBADMSG even when out is also too small, and out is not touched. */
static void test_bad_input_wins_over_nospace(void **state)
{
    unsigned char out[2] = {0xaa, 0xaa};

    (void)state;
    assert_int_equal(b64url_decode("Zm9vYm+y", 8, out, sizeof out), -EBADMSG);
    assert_int_equal(b64url_decode("Zm9vYh", 6, out, sizeof out), -EBADMSG);
    assert_int_equal(out[0], 0xaa);
    assert_int_equal(out[1], 0xaa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_encode),
        cmocka_unit_test(test_rfc4648_decode),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_encode_nospace),
        cmocka_unit_test(test_decode_nospace),
        cmocka_unit_test(test_reject_padding),
        cmocka_unit_test(test_reject_bad_chars),
        cmocka_unit_test(test_reject_impossible_length),
        cmocka_unit_test(test_reject_trailing_bits),
        cmocka_unit_test(test_bad_input_wins_over_nospace),
    };
    return cmocka_run_group_tests_name("b64url", tests, NULL, NULL);
}
