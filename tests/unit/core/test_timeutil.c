/* Unit tests for src/core/timeutil.c: time_parse_rfc3339 (RFC 3339 with Z or an offset,
 * optional fraction, or plain unix seconds; everything else -EINVAL, the output untouched)
 * and time_rfc3339 (formatting, and the round trip through the parser). The expected unix
 * values were computed independently (Python's calendar.timegm). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "timeutil.h"

#define SENTINEL ((int64_t)0x5a5a5a5a5a5a)

/* s must parse to want. */
static void parses(const char *s, int64_t want)
{
    int64_t v = SENTINEL;
    int rc = time_parse_rfc3339(s, &v);
    if (rc != 0) fail_msg("time_parse_rfc3339(\"%s\") returned %d, expected 0", s, rc);
    if (v != want)
        fail_msg("time_parse_rfc3339(\"%s\") gave %lld, expected %lld", s, (long long)v,
                 (long long)want);
}

/* s must be refused with -EINVAL and leave the output alone. */
static void refused(const char *s)
{
    int64_t v = SENTINEL;
    int rc = time_parse_rfc3339(s, &v);
    if (rc != -EINVAL)
        fail_msg("time_parse_rfc3339(\"%s\") returned %d (value %lld), expected -EINVAL", s, rc,
                 (long long)v);
    if (v != SENTINEL)
        fail_msg("time_parse_rfc3339(\"%s\") wrote %lld on failure", s, (long long)v);
}

/* ---- accepted timestamps -------------------------------------------------------------- */

static void test_epoch(void **state)
{
    (void)state;
    parses("1970-01-01T00:00:00Z", 0);
    parses("1970-01-01T00:00:01Z", 1);
    parses("1970-01-02T00:00:00Z", 86400);
}

static void test_utc_z(void **state)
{
    (void)state;
    parses("2026-11-20T10:00:00Z", 1795168800);
    parses("2026-11-20T10:00:00z", 1795168800);
    parses("2026-11-20t10:00:00Z", 1795168800);
    parses("2026-11-20 10:00:00Z", 1795168800);   /* RFC 3339 §5.6 note: a space may replace T */
    parses("2038-01-19T03:14:08Z", 2147483648LL); /* past 32-bit time_t */
    parses("9999-12-31T23:59:59Z", 253402300799LL);
}

static void test_offsets(void **state)
{
    (void)state;
    parses("2000-02-29T12:00:00+02:00", 951818400);
    parses("2026-11-20T10:00:00+00:00", 1795168800);
    parses("2026-11-20T10:00:00-00:00", 1795168800);
    parses("2026-11-20T10:00:00-05:30", 1795188600); /* 15:30Z */
    parses("2026-11-20T10:00:00+05:30", 1795149000); /* 04:30Z */
    parses("2026-11-20T23:00:00-01:00", 1795219200); /* crosses into the next UTC day */
    parses("2026-11-20T10:00:00+23:59", 1795168800 - 23 * 3600 - 59 * 60);
}

static void test_leap_years(void **state)
{
    (void)state;
    parses("1972-02-29T00:00:00Z", 68169600);
    parses("2000-02-29T10:00:00Z", 951818400); /* divisible by 400: leap */
    parses("2000-03-01T00:00:00Z", 951868800);
    parses("2024-02-29T00:00:00Z", 1709164800);
    parses("2100-03-01T00:00:00Z", 4107542400LL);
    parses("1999-12-31T23:59:59Z", 946684799);
}

static void test_fraction_dropped(void **state)
{
    (void)state;
    parses("1999-12-31T23:59:59.999Z", 946684799);
    parses("1999-12-31T23:59:59.0Z", 946684799);
    parses("1999-12-31T23:59:59.123456789z", 946684799);
    parses("2000-02-29T12:00:00.5+02:00", 951818400);
}

static void test_unix_seconds(void **state)
{
    (void)state;
    parses("0", 0);
    parses("1", 1);
    parses("1795168800", 1795168800);
    parses("000000000042", 42);
    parses("999999999999", 999999999999LL); /* 12 digits, the longest plain number */
}

/* ---- refusals --------------------------------------------------------------------------- */

static void test_refuses_garbage(void **state)
{
    (void)state;
    refused("");
    refused("now");
    refused("yesterday at noon");
    refused(".");
    refused(" ");
    refused("T");
    refused("Z");
    refused("2026-11-20");
    refused("2026-11-20T10:00");
    refused("2026-11-20T10:00Z");
    refused("20261120T100000Z");
    refused("2026/11/20T10:00:00Z");
    refused("2026-11-20X10:00:00Z");
    refused("2026-11-20T10-00-00Z");
    refused("2026-1-20T10:00:00Z");
    refused("2026-11-20T10:00:00ZZZ");
    refused("2026-11-20T10:00:00\tZ");
}

static void test_refuses_missing_zone(void **state)
{
    (void)state;
    refused("2026-11-20T10:00:00");
    refused("2026-11-20T10:00:00 ");
    refused("2026-11-20T10:00:00.123");
    refused("2026-11-20T10:00:00.123 ");
    refused("2026-11-20T10:00:00UTC");
}

static void test_refuses_fields_out_of_range(void **state)
{
    (void)state;
    refused("2026-13-20T10:00:00Z"); /* month 13 */
    refused("2026-00-20T10:00:00Z"); /* month 0 */
    refused("2026-11-00T10:00:00Z"); /* day 0 */
    refused("2026-11-32T10:00:00Z"); /* day 32 */
    refused("2026-11-20T24:00:00Z"); /* hour 24 */
    refused("2026-11-20T10:60:00Z"); /* minute 60 */
    refused("2026-11-20T10:00:61Z"); /* second 61 */
    refused("2026-11-20T10:00:00+24:00");
    refused("2026-11-20T10:00:00+01:60");
}

static void test_refuses_before_1970(void **state)
{
    (void)state;
    refused("1969-12-31T23:59:59Z");
    refused("1900-01-01T00:00:00Z");
    refused("0000-01-01T00:00:00Z");
}

static void test_refuses_bad_fraction_and_offset(void **state)
{
    (void)state;
    refused("2026-11-20T10:00:00.Z"); /* a lone '.' */
    refused("2026-11-20T10:00:00.");
    refused("2026-11-20T10:00:00.+01:00");
    refused("2026-11-20T10:00:00,5Z");
    refused("2026-11-20T10:00:00+01");
    refused("2026-11-20T10:00:00+0100");
    refused("2026-11-20T10:00:00+1:00");
    refused("2026-11-20T10:00:00+01:0");
    refused("2026-11-20T10:00:00+");
    refused("2026-11-20T10:00:00-");
    refused("2026-11-20T10:00:00+ab:cd");
}

static void test_refuses_trailing_text(void **state)
{
    (void)state;
    refused("2026-11-20T10:00:00Zjunk");
    refused("2026-11-20T10:00:00Z ");
    refused("2026-11-20T10:00:00+01:00x");
    refused("2026-11-20T10:00:00+01:00Z");
    refused("2026-11-20T10:00:00.5Z.5");
    refused("1795168800 ");
    refused("1795168800s");
}

static void test_refuses_bad_numbers(void **state)
{
    (void)state;
    refused("1234567890123");        /* 13 digits */
    refused("12345678901234567890"); /* 20 digits: long enough to reach the RFC 3339 path */
    refused("123456789012345678901234");
    refused("-1");
    refused("-1795168800");
    refused("+1795168800");
    refused(" 1795168800");
    refused("0x10");
    refused("1.5");
    refused("1e9");
}

/* RFC 3339 §5.7: the day must exist in its month and year. */
static void test_refuses_impossible_days(void **state)
{
    (void)state;
    refused("2023-02-29T00:00:00Z"); /* not a leap year */
    refused("2100-02-29T00:00:00Z"); /* divisible by 100, not by 400 */
    refused("2024-02-30T00:00:00Z");
    refused("2026-02-31T00:00:00Z");
    refused("2026-04-31T00:00:00Z");
    refused("2026-11-31T00:00:00Z");
}

/* ---- formatting ------------------------------------------------------------------------- */

static void test_format(void **state)
{
    (void)state;
    char buf[TIME_RFC3339_LEN];
    time_rfc3339(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(strlen(buf), TIME_RFC3339_LEN - 1);
    time_rfc3339(1795168800, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-20T10:00:00Z");
    time_rfc3339(951818400, buf, sizeof buf);
    assert_string_equal(buf, "2000-02-29T10:00:00Z");
    time_rfc3339(946684799, buf, sizeof buf);
    assert_string_equal(buf, "1999-12-31T23:59:59Z");
    time_rfc3339(253402300799LL, buf, sizeof buf);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
}

static void test_format_truncates_to_cap(void **state)
{
    (void)state;
    char buf[TIME_RFC3339_LEN + 4];
    memset(buf, 'x', sizeof buf);
    time_rfc3339(1795168800, buf, 11);
    assert_string_equal(buf, "2026-11-20");
    assert_int_equal(buf[11], 'x');
}

static void test_round_trip(void **state)
{
    (void)state;
    static const int64_t values[] = {0,
                                     1,
                                     59,
                                     60,
                                     86399,
                                     86400,
                                     68169600,
                                     946684799,
                                     951818400,
                                     951868800,
                                     1709164800,
                                     1795168800,
                                     2147483647,
                                     2147483648LL,
                                     4107542400LL,
                                     253402300799LL};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[TIME_RFC3339_LEN];
        time_rfc3339(values[i], buf, sizeof buf);
        parses(buf, values[i]);
    }
    /* every day boundary over four years (one leap day) and a stride through 2000..2100 */
    for (int64_t t = 946684800; t < 946684800 + 4 * 366 * 86400LL; t += 86400 - 1) {
        char buf[TIME_RFC3339_LEN];
        time_rfc3339(t, buf, sizeof buf);
        parses(buf, t);
    }
    for (int64_t t = 946684800; t < 4102444800LL; t += 7777777) {
        char buf[TIME_RFC3339_LEN];
        time_rfc3339(t, buf, sizeof buf);
        parses(buf, t);
    }
}

static void test_now_and_mono(void **state)
{
    (void)state;
    int64_t now = time_now();
    assert_true(now > 1700000000);
    char buf[TIME_RFC3339_LEN];
    time_rfc3339(now, buf, sizeof buf);
    parses(buf, now);
    int64_t a = time_mono_ms();
    int64_t b = time_mono_ms();
    assert_true(a >= 0);
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoch),
        cmocka_unit_test(test_utc_z),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_fraction_dropped),
        cmocka_unit_test(test_unix_seconds),
        cmocka_unit_test(test_refuses_garbage),
        cmocka_unit_test(test_refuses_missing_zone),
        cmocka_unit_test(test_refuses_fields_out_of_range),
        cmocka_unit_test(test_refuses_before_1970),
        cmocka_unit_test(test_refuses_bad_fraction_and_offset),
        cmocka_unit_test(test_refuses_trailing_text),
        cmocka_unit_test(test_refuses_bad_numbers),
        cmocka_unit_test(test_refuses_impossible_days),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_truncates_to_cap),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_now_and_mono),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
