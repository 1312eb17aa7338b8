/* Unit tests for src/core/str.c: bounded copy, strict number parsing, ASCII lowercasing,
 * control-character and UTF-8 checks, and the random identifiers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "str.h"

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

/* ---- str_copy ---------------------------------------------------------------------- */

static void test_copy_fits(void **state)
{
    char buf[8];

    (void)state;
    assert_int_equal(str_copy(buf, sizeof buf, "abc"), 0);
    assert_string_equal(buf, "abc");
    /* exactly cap - 1 characters still fits */
    assert_int_equal(str_copy(buf, sizeof buf, "1234567"), 0);
    assert_string_equal(buf, "1234567");
    assert_int_equal(str_copy(buf, sizeof buf, ""), 0);
    assert_string_equal(buf, "");
}

static void test_copy_truncates(void **state)
{
    char buf[9];

    (void)state;
    memset(buf, 'X', sizeof buf);
    /* cap 8: 7 characters and the NUL; buf[8] must not be touched */
    assert_int_equal(str_copy(buf, 8, "12345678"), -ENOSPC);
    assert_string_equal(buf, "1234567");
    assert_int_equal(buf[8], 'X');

    assert_int_equal(str_copy(buf, 4, "a much longer string"), -ENOSPC);
    assert_string_equal(buf, "a m");

    assert_int_equal(str_copy(buf, 1, "x"), -ENOSPC);
    assert_string_equal(buf, "");
    assert_int_equal(str_copy(buf, 1, ""), 0);
    assert_string_equal(buf, "");
}

static void test_copy_zero_cap(void **state)
{
    char buf[2] = {'Q', 'Q'};

    (void)state;
    assert_int_equal(str_copy(buf, 0, "abc"), -ENOSPC);
    assert_int_equal(buf[0], 'Q');
    assert_int_equal(buf[1], 'Q');
}

/* ---- str_to_int64 ------------------------------------------------------------------ */

static void test_int64_valid(void **state)
{
    int64_t v = 0;

    (void)state;
    assert_int_equal(str_to_int64("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(str_to_int64("5000", 1, 65535, &v), 0);
    assert_int_equal(v, 5000);
    assert_int_equal(str_to_int64("-42", -100, 100, &v), 0);
    assert_int_equal(v, -42);
    assert_int_equal(str_to_int64("007", 0, 10, &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(str_to_int64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(str_to_int64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);
}

static void test_int64_not_a_number(void **state)
{
    static const char *const bad[] = {
        "", "abc", "-", "+", "12abc", "12 ", "1.5", "1e3", "0x10", " 5", "\t5", "5\n", "--5",
    };
    int64_t v = 123;

    (void)state;
    assert_int_equal(str_to_int64(NULL, 0, 10, &v), -EINVAL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (str_to_int64(bad[i], INT64_MIN, INT64_MAX, &v) != -EINVAL)
            fail_msg("str_to_int64(\"%s\") was not refused with -EINVAL", bad[i]);
    }
    assert_int_equal(v, 123);
}

/* The parser refuses a leading space or tab, so every other leading white-space
 * character (which strtoll would skip as well) must be refused too: a PORT of "\n5000"
 * is not a whole number. */
static void test_int64_rejects_all_leading_whitespace(void **state)
{
    static const char *const bad[] = {"\n5", "\r5", "\v5", "\f5"};
    int64_t v = 123;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (str_to_int64(bad[i], INT64_MIN, INT64_MAX, &v) != -EINVAL)
            fail_msg("str_to_int64 accepted leading white space (case %zu: 0x%02x)", i,
                     (unsigned)bad[i][0]);
    }
}

static void test_int64_bounds(void **state)
{
    int64_t v = 0;

    (void)state;
    assert_int_equal(str_to_int64("1", 1, 65535, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(str_to_int64("65535", 1, 65535, &v), 0);
    assert_int_equal(v, 65535);
    v = 99;
    assert_int_equal(str_to_int64("0", 1, 65535, &v), -ERANGE);
    assert_int_equal(str_to_int64("65536", 1, 65535, &v), -ERANGE);
    assert_int_equal(str_to_int64("-1", 0, 10, &v), -ERANGE);
    assert_int_equal(v, 99);
}

static void test_int64_overflow(void **state)
{
    int64_t v = 0;

    (void)state;
    assert_int_equal(str_to_int64("9223372036854775808", INT64_MIN, INT64_MAX, &v), -ERANGE);
    assert_int_equal(str_to_int64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), -ERANGE);
    assert_int_equal(str_to_int64("99999999999999999999999", INT64_MIN, INT64_MAX, &v), -ERANGE);
}

/* ---- str_to_double ----------------------------------------------------------------- */

static void test_double_valid(void **state)
{
    double v = 0;

    (void)state;
    assert_int_equal(str_to_double("1.5", 0, 10, &v), 0);
    assert_true(v == 1.5);
    assert_int_equal(str_to_double("2", 0, 10, &v), 0);
    assert_true(v == 2.0);
    assert_int_equal(str_to_double("0", 0, 10, &v), 0);
    assert_true(v == 0.0);
    assert_int_equal(str_to_double("-0.25", -1, 1, &v), 0);
    assert_true(v == -0.25);
    assert_int_equal(str_to_double("1e2", 0, 4096, &v), 0);
    assert_true(v == 100.0);
    assert_int_equal(str_to_double("4096", 0, 4096, &v), 0);
    assert_true(v == 4096.0);
}

static void test_double_rejects_nan_inf(void **state)
{
    static const char *const bad[] = {"nan",  "NaN", "-nan",     "nan(0x1)", "inf",
                                      "-inf", "INF", "infinity", "Infinity", "-Infinity"};
    double v = 7.0;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (str_to_double(bad[i], -1e300, 1e300, &v) != -EINVAL)
            fail_msg("str_to_double(\"%s\") was not refused with -EINVAL", bad[i]);
    }
    /* a literal that overflows to infinity is refused too, whatever the code */
    assert_true(str_to_double("1e999", -1e300, 1e300, &v) < 0);
    assert_true(v == 7.0);
}

static void test_double_not_a_number(void **state)
{
    static const char *const bad[] = {"", "abc", "1.5x", "1.5 ", " 1.5", ".", "-", "1,5"};
    double v = 7.0;

    (void)state;
    assert_int_equal(str_to_double(NULL, 0, 10, &v), -EINVAL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (str_to_double(bad[i], -1e9, 1e9, &v) != -EINVAL)
            fail_msg("str_to_double(\"%s\") was not refused with -EINVAL", bad[i]);
    }
    assert_true(v == 7.0);
}

/* Same rule as for integers: leading white space of any kind is not a whole number. */
static void test_double_rejects_all_leading_whitespace(void **state)
{
    static const char *const bad[] = {"\t1.5", "\n1.5", "\r1.5", "\v1.5", "\f1.5"};
    double v = 7.0;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (str_to_double(bad[i], -1e9, 1e9, &v) != -EINVAL)
            fail_msg("str_to_double accepted leading white space (case %zu: 0x%02x)", i,
                     (unsigned)bad[i][0]);
    }
}

/* The contract is a decimal number; strtod also reads C99 hexadecimal floats. */
static void test_double_rejects_hex(void **state)
{
    static const char *const bad[] = {"0x2", "0x1p1", "-0X1.8p0"};
    double v = 7.0;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (str_to_double(bad[i], -1e9, 1e9, &v) != -EINVAL)
            fail_msg("str_to_double(\"%s\") accepted a hexadecimal float", bad[i]);
    }
}

static void test_double_bounds(void **state)
{
    double v = 7.0;

    (void)state;
    assert_int_equal(str_to_double("-0.5", 0, 4096, &v), -ERANGE);
    assert_int_equal(str_to_double("4096.5", 0, 4096, &v), -ERANGE);
    assert_int_equal(str_to_double("1e10", 0, 4096, &v), -ERANGE);
    assert_true(v == 7.0);
}

/* ---- str_lower / str_has_control --------------------------------------------------- */

static void test_lower(void **state)
{
    char s[] = "Alice.SMITH+Tag@Example.COM";
    char u[] = "\303\234ber@X.de"; /* "Über": the non-ASCII bytes must stay as they are */
    char e[] = "";

    (void)state;
    str_lower(s);
    assert_string_equal(s, "alice.smith+tag@example.com");
    str_lower(u);
    assert_string_equal(u, "\303\234ber@x.de");
    str_lower(e);
    assert_string_equal(e, "");
}

static void test_has_control(void **state)
{
    (void)state;
    assert_int_equal(str_has_control("plain text", 10), 0);
    assert_int_equal(str_has_control("", 0), 0);
    assert_int_equal(str_has_control("\xc3\xa9t\xc3\xa9", 5), 0); /* "été" */
    assert_int_equal(str_has_control("~ !", 3), 0);
    assert_int_equal(str_has_control("a\nb", 3), 1);
    assert_int_equal(str_has_control("a\tb", 3), 1);
    assert_int_equal(str_has_control("\x1f", 1), 1);
    assert_int_equal(str_has_control("ab\x7f", 3), 1);
    assert_int_equal(str_has_control("a\0b", 3), 1); /* NUL inside len counts */
    assert_int_equal(str_has_control("ab\n", 2), 0); /* only len bytes are looked at */
}

/* ---- str_is_utf8 ------------------------------------------------------------------- */

struct u8case {
    const char *s;
    size_t len;
    int valid;
    const char *what;
};

#define U8(lit, v, what)                                                                           \
    {                                                                                              \
        lit, sizeof(lit) - 1, v, what                                                              \
    }

static const struct u8case u8cases[] = {
    U8("", 1, "empty"),
    U8("hello", 1, "ASCII"),
    U8("\xc3\xa9", 1, "U+00E9, 2 bytes"),
    U8("\xc2\x80", 1, "U+0080, smallest 2-byte"),
    U8("\xdf\xbf", 1, "U+07FF, largest 2-byte"),
    U8("\xe0\xa0\x80", 1, "U+0800, smallest 3-byte"),
    U8("\xe2\x82\xac", 1, "U+20AC euro"),
    U8("\xed\x9f\xbf", 1, "U+D7FF, just below the surrogates"),
    U8("\xee\x80\x80", 1, "U+E000, just above the surrogates"),
    U8("\xef\xbf\xbf", 1, "U+FFFF"),
    U8("\xf0\x90\x80\x80", 1, "U+10000, smallest 4-byte"),
    U8("\xf0\x9f\x98\x80", 1, "U+1F600 emoji"),
    U8("\xf4\x8f\xbf\xbf", 1, "U+10FFFF, the last code point"),
    U8("a\xc3\xa9z\xe2\x82\xac!", 1, "mixed"),
    U8("\xc0\x80", 0, "overlong NUL"),
    U8("\xc1\xbf", 0, "overlong U+007F"),
    U8("\xe0\x80\x80", 0, "overlong 3-byte NUL"),
    U8("\xe0\x9f\xbf", 0, "overlong U+07FF in 3 bytes"),
    U8("\xf0\x80\x80\x80", 0, "overlong 4-byte NUL"),
    U8("\xf0\x8f\xbf\xbf", 0, "overlong U+FFFF in 4 bytes"),
    U8("\xed\xa0\x80", 0, "surrogate U+D800"),
    U8("\xed\xbf\xbf", 0, "surrogate U+DFFF"),
    U8("\xed\xa0\xbd\xed\xb8\x80", 0, "CESU-8 surrogate pair"),
    U8("\xc3", 0, "truncated 2-byte"),
    U8("\xe2\x82", 0, "truncated 3-byte"),
    U8("\xf0\x9f\x98", 0, "truncated 4-byte"),
    U8("abc\xe2", 0, "truncated at the end after ASCII"),
    U8("\xe2\x82\x41", 0, "continuation replaced by ASCII"),
    U8("\xc3\xc3\xa9", 0, "lead byte where a continuation belongs"),
    U8("\xf4\x90\x80\x80", 0, "U+110000"),
    U8("\xf5\x80\x80\x80", 0, "lead byte F5"),
    U8("\xf7\xbf\xbf\xbf", 0, "lead byte F7"),
    U8("\xf8\x88\x80\x80\x80", 0, "5-byte form"),
    U8("\xfc\x84\x80\x80\x80\x80", 0, "6-byte form"),
    U8("\xfe", 0, "byte FE"),
    U8("\xff", 0, "byte FF"),
    U8("\x80", 0, "lone continuation"),
    U8("a\xbf", 0, "lone continuation after ASCII"),
};

static void test_utf8(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof u8cases / sizeof u8cases[0]; i++) {
        const struct u8case *c = &u8cases[i];
        if (str_is_utf8(c->s, c->len) != c->valid)
            fail_msg("str_is_utf8: %s: expected %d", c->what, c->valid);
    }
}

static void test_utf8_respects_len(void **state)
{
    (void)state;
    /* a valid sequence cut short by len is truncated... */
    assert_int_equal(str_is_utf8("\xc3\xa9", 1), 0);
    assert_int_equal(str_is_utf8("\xf0\x9f\x98\x80", 3), 0);
    /* ...and bytes past len are not looked at */
    assert_int_equal(str_is_utf8("ab\xff", 2), 1);
    /* a NUL inside len is a valid (ASCII) code point */
    assert_int_equal(str_is_utf8("a\0b", 3), 1);
}

/* ---- str_random_hex / str_new_id --------------------------------------------------- */

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static void test_random_hex_format(void **state)
{
    char a[2 * 16 + 2], b[2 * 16 + 2];

    (void)state;
    memset(a, 'Z', sizeof a);
    str_random_hex(a, 16);
    assert_int_equal(strlen(a), 32);
    assert_true(is_lower_hex(a, 32));
    assert_int_equal(a[33], 'Z'); /* exactly 2n+1 bytes written */

    str_random_hex(b, 16);
    assert_string_not_equal(a, b);

    char one[3];
    str_random_hex(one, 1);
    assert_int_equal(strlen(one), 2);
    assert_true(is_lower_hex(one, 2));

    char none[1] = {'Z'};
    str_random_hex(none, 0);
    assert_string_equal(none, "");

    char big[2 * 64 + 1];
    str_random_hex(big, 64);
    assert_int_equal(strlen(big), 128);
    assert_true(is_lower_hex(big, 128));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

#define NIDS 20000

static void test_new_id_format_and_uniqueness(void **state)
{
    char(*ids)[16] = calloc(NIDS, sizeof *ids);

    (void)state;
    assert_non_null(ids);
    for (size_t i = 0; i < NIDS; i++) {
        str_new_id(ids[i], sizeof ids[i], "u");
        assert_int_equal(strlen(ids[i]), 13);
        assert_int_equal(ids[i][0], 'u');
        assert_true(is_lower_hex(ids[i] + 1, 12));
    }
    qsort(ids, NIDS, sizeof *ids, cmp_str);
    for (size_t i = 1; i < NIDS; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0) fail_msg("duplicate id %s", ids[i]);
    free(ids);

    char id[32];
    str_new_id(id, sizeof id, "ctr_");
    assert_int_equal(strlen(id), 4 + 12);
    assert_memory_equal(id, "ctr_", 4);
    assert_true(is_lower_hex(id + 4, 12));
    str_new_id(id, sizeof id, "");
    assert_int_equal(strlen(id), 12);
    assert_true(is_lower_hex(id, 12));
}

/* A buffer too small for the id still ends up NUL-terminated and within cap. */
static void test_new_id_small_buffer(void **state)
{
    char buf[8];

    (void)state;
    memset(buf, 'Z', sizeof buf);
    str_new_id(buf, 5, "c");
    assert_int_equal(strlen(buf), 4);
    assert_int_equal(buf[0], 'c');
    assert_int_equal(buf[5], 'Z');
}

static void test_cookie_value(void **state)
{
    (void)state;
    size_t len;
    const char *v = str_cookie_value("a=1; cloudya_session=abc.def; b=2", "cloudya_session", &len);
    assert_non_null(v);
    assert_int_equal(len, 7);
    assert_memory_equal(v, "abc.def", 7);
    v = str_cookie_value("cloudya_session=x", "cloudya_session", &len);
    assert_non_null(v);
    assert_int_equal(len, 1);
    /* a longer name that starts the same, an empty value, no '=' and NULL are not it */
    assert_null(str_cookie_value("cloudya_session2=x", "cloudya_session", &len));
    assert_null(str_cookie_value("cloudya_session=; other=1", "cloudya_session", &len));
    assert_int_equal(len, 0);
    assert_null(str_cookie_value("cloudya_session", "cloudya_session", &len));
    assert_null(str_cookie_value(NULL, "cloudya_session", &len));
    assert_null(str_cookie_value("", "cloudya_session", &len));
    /* the first of duplicates; blanks and stray separators around */
    v = str_cookie_value(";;  x=1;\tcloudya_session=first; cloudya_session=second", "cloudya_session", &len);
    assert_non_null(v);
    assert_int_equal(len, 5);
    assert_memory_equal(v, "first", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_fits),
        cmocka_unit_test(test_copy_truncates),
        cmocka_unit_test(test_copy_zero_cap),
        cmocka_unit_test(test_int64_valid),
        cmocka_unit_test(test_int64_not_a_number),
        cmocka_unit_test(test_int64_rejects_all_leading_whitespace),
        cmocka_unit_test(test_int64_bounds),
        cmocka_unit_test(test_int64_overflow),
        cmocka_unit_test(test_double_valid),
        cmocka_unit_test(test_double_rejects_nan_inf),
        cmocka_unit_test(test_double_not_a_number),
        cmocka_unit_test(test_double_rejects_all_leading_whitespace),
        cmocka_unit_test(test_double_rejects_hex),
        cmocka_unit_test(test_double_bounds),
        cmocka_unit_test(test_lower),
        cmocka_unit_test(test_has_control),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_utf8_respects_len),
        cmocka_unit_test(test_random_hex_format),
        cmocka_unit_test(test_new_id_format_and_uniqueness),
        cmocka_unit_test(test_new_id_small_buffer),
        cmocka_unit_test(test_cookie_value),
    };
    return cmocka_run_group_tests_name("str", tests, setup, NULL);
}
