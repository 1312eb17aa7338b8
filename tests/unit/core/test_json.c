/* Unit tests for src/core/json.c: the nesting pre-scan, the request-body entry point and
 * the typed field readers with their error codes and sentences. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* Parses a literal that the test knows to be valid, failing the test otherwise. */
static json_t *obj(const char *text)
{
    json_err e = {0};
    json_t *v = json_body_object(text, strlen(text), &e);
    if (v == NULL) fail_msg("fixture %s did not parse: %s", text, e.msg);
    return v;
}

/* Asserts that body is refused as invalid_json, and that msg contains want (if any). */
static void expect_invalid_json(const char *body, size_t len, const char *want)
{
    json_err e = {0};
    json_t *v = json_body_object(body, len, &e);
    if (v != NULL) {
        json_decref(v);
        fail_msg("body was accepted: %.*s", (int)(len > 80 ? 80 : len), body ? body : "");
    }
    assert_non_null(e.code);
    assert_string_equal(e.code, "invalid_json");
    assert_true(e.msg[0] != '\0');
    if (want != NULL && strstr(e.msg, want) == NULL)
        fail_msg("message \"%s\" does not contain \"%s\"", e.msg, want);
}

static void expect_field_err(int rc, const json_err *e, const char *want)
{
    assert_int_equal(rc, -EINVAL);
    assert_non_null(e->code);
    assert_string_equal(e->code, "invalid_field");
    if (strstr(e->msg, want) == NULL)
        fail_msg("message \"%s\" does not contain \"%s\"", e->msg, want);
}

/* "{\"a\":" + (depth-1) '[' + (depth-1) ']' + "}": an object nested depth levels. */
static char *nested_object(int depth, size_t *len)
{
    size_t n = 5 + 2 * (size_t)(depth - 1) + 1;
    char *s = malloc(n + 1);
    size_t k = 0;

    assert_non_null(s);
    memcpy(s, "{\"a\":", 5);
    k = 5;
    for (int i = 0; i < depth - 1; i++)
        s[k++] = '[';
    for (int i = 0; i < depth - 1; i++)
        s[k++] = ']';
    s[k++] = '}';
    s[k] = '\0';
    *len = k;
    return s;
}

/* ---- json_nesting_depth ------------------------------------------------------------ */

static void test_depth_basic(void **state)
{
    (void)state;
    assert_int_equal(json_nesting_depth(LIT(""), 32), 0);
    assert_int_equal(json_nesting_depth(LIT("42"), 32), 0);
    assert_int_equal(json_nesting_depth(LIT("{}"), 32), 1);
    assert_int_equal(json_nesting_depth(LIT("[[]]"), 32), 2);
    assert_int_equal(json_nesting_depth(LIT("[[],[],{}]"), 32), 2);
    assert_int_equal(json_nesting_depth(LIT("{\"a\":[1,{\"b\":2}],\"c\":{}}"), 32), 3);
}

static void test_depth_skips_strings(void **state)
{
    (void)state;
    /* brackets inside strings do not count */
    assert_int_equal(json_nesting_depth(LIT("[\"[[[[{{{{\"]"), 32), 1);
    assert_int_equal(json_nesting_depth(LIT("{\"[[[\":\"]]]]]]\"}"), 32), 1);
    /* an escaped quote does not end the string */
    assert_int_equal(json_nesting_depth(LIT("[\"a\\\"[[[[\"]"), 32), 1);
    assert_int_equal(json_nesting_depth(LIT("[\"\\\"\",\"\\\"[[\"]"), 32), 1);
    /* an escaped backslash does end before the quote, so what follows counts */
    assert_int_equal(json_nesting_depth(LIT("[\"\\\\\",[[]]]"), 32), 3);
    /* a string with a lot of brackets does not trip a small limit */
    assert_int_equal(json_nesting_depth(LIT("{\"k\":\"[[[[[[[[[[[[\"}"), 2), 1);
}

static void test_depth_limit(void **state)
{
    char buf[200];

    (void)state;
    memset(buf, '[', 40);
    memset(buf + 40, ']', 40);
    assert_int_equal(json_nesting_depth(buf, 80, 32), 33);
    assert_int_equal(json_nesting_depth(buf, 80, 40), 40);
    assert_int_equal(json_nesting_depth(buf, 80, 39), 40);
    assert_int_equal(json_nesting_depth(buf, 80, 0), 1);
    /* exactly at the limit is fine */
    memset(buf, '[', 32);
    memset(buf + 32, ']', 32);
    assert_int_equal(json_nesting_depth(buf, 64, 32), 32);
    /* only len bytes are scanned; unclosed brackets still count */
    assert_int_equal(json_nesting_depth(buf, 3, 32), 3);
}

static void test_depth_huge_input(void **state)
{
    size_t n = 1000000;
    char *s = malloc(n);

    (void)state;
    assert_non_null(s);
    memset(s, '[', n);
    assert_int_equal(json_nesting_depth(s, n, JSON_BODY_MAX_DEPTH), JSON_BODY_MAX_DEPTH + 1);
    free(s);
}

/* ---- json_body_object -------------------------------------------------------------- */

static void test_body_object_ok(void **state)
{
    json_err e = {0};
    json_t *v;

    (void)state;
    v = json_body_object(LIT("{}"), &e);
    assert_non_null(v);
    assert_true(json_is_object(v));
    assert_int_equal(json_object_size(v), 0);
    json_decref(v);

    v = json_body_object(LIT(" \n{\"a\":1,\"b\":\"x\",\"c\":[true,null]}\r\n "), &e);
    assert_non_null(v);
    assert_int_equal(json_object_size(v), 3);
    assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
    json_decref(v);

    /* len is honoured: what follows it is not part of the body */
    v = json_body_object("{\"a\":1}GARBAGE", 7, &e);
    assert_non_null(v);
    json_decref(v);

    /* brackets in strings are not nesting */
    v = json_body_object(LIT("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}"), &e);
    assert_non_null(v);
    json_decref(v);

    /* valid multi-byte UTF-8 is fine */
    v = json_body_object(LIT("{\"n\":\"J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80\"}"), &e);
    assert_non_null(v);
    json_decref(v);
}

static void test_body_empty(void **state)
{
    (void)state;
    expect_invalid_json(NULL, 0, "JSON object");
    expect_invalid_json("", 0, "JSON object");
    expect_invalid_json(LIT("   "), NULL);
    expect_invalid_json(LIT("\n"), NULL);
}

static void test_body_not_object(void **state)
{
    static const char *const arrays[] = {"[]", "[{}]", "[1,2]"};
    static const char *const scalars[] = {"42", "\"str\"", "null", "true", "1.5"};

    (void)state;
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        expect_invalid_json(arrays[i], strlen(arrays[i]), "must be a JSON object");
    /* jansson refuses top-level scalars itself, with its own wording */
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        expect_invalid_json(scalars[i], strlen(scalars[i]), NULL);
}

static void test_body_duplicate_keys(void **state)
{
    (void)state;
    expect_invalid_json(LIT("{\"a\":1,\"a\":2}"), NULL);
    expect_invalid_json(LIT("{\"email\":\"a@b.c\",\"password\":\"x\",\"email\":\"d@e.f\"}"), NULL);
    /* in a nested object too */
    expect_invalid_json(LIT("{\"o\":{\"k\":1,\"k\":1}}"), NULL);
    /* same key spelled with an escape is still a duplicate */
    expect_invalid_json(LIT("{\"a\":1,\"\\u0061\":2}"), NULL);
}

static void test_body_depth(void **state)
{
    json_err e = {0};
    size_t len;
    char *s;
    json_t *v;

    (void)state;
    s = nested_object(JSON_BODY_MAX_DEPTH, &len);
    assert_int_equal(json_nesting_depth(s, len, JSON_BODY_MAX_DEPTH), 32);
    v = json_body_object(s, len, &e);
    assert_non_null(v);
    json_decref(v);
    free(s);

    s = nested_object(JSON_BODY_MAX_DEPTH + 1, &len);
    assert_int_equal(json_nesting_depth(s, len, JSON_BODY_MAX_DEPTH), 33);
    expect_invalid_json(s, len, "nested deeper than 32");
    free(s);

    /* a hostile depth is refused before the recursive parser sees it */
    s = nested_object(200000, &len);
    expect_invalid_json(s, len, "nested deeper");
    free(s);
}

static void test_body_invalid_utf8(void **state)
{
    (void)state;
    expect_invalid_json(LIT("{\"a\":\"\xff\"}"), NULL);
    expect_invalid_json(LIT("{\"a\":\"\xc0\x80\"}"), NULL);     /* overlong */
    expect_invalid_json(LIT("{\"a\":\"\xed\xa0\x80\"}"), NULL); /* surrogate */
    expect_invalid_json(LIT("{\"a\":\"\xc3\"}"), NULL);         /* truncated */
    expect_invalid_json(LIT("{\"\xfe\":1}"), NULL);             /* in a key */
    expect_invalid_json(LIT("{\"a\":1}\xff"), NULL);            /* after the value */
    /* lone surrogate escapes are not valid text either */
    expect_invalid_json(LIT("{\"a\":\"\\ud800\"}"), NULL);
}

static void test_body_trailing_garbage(void **state)
{
    (void)state;
    expect_invalid_json(LIT("{\"a\":1} x"), NULL);
    expect_invalid_json(LIT("{\"a\":1}{}"), NULL);
    expect_invalid_json(LIT("{\"a\":1}]"), NULL);
    expect_invalid_json(LIT("{\"a\":1},"), NULL);
    expect_invalid_json(LIT("{\"a\":1}\0"), NULL);
}

static void test_body_syntax(void **state)
{
    (void)state;
    expect_invalid_json(LIT("{"), "not valid JSON");
    expect_invalid_json(LIT("{\"a\":}"), NULL);
    expect_invalid_json(LIT("{'a':1}"), NULL);
    expect_invalid_json(LIT("{\"a\":1,}"), NULL);
    expect_invalid_json(LIT("{\"a\":01}"), NULL);
    expect_invalid_json(LIT("{\"a\":NaN}"), NULL);
    expect_invalid_json(LIT("{\"a\":\"\x01\"}"), NULL); /* raw control in a string */
    /* integers beyond int64 are refused rather than wrapped */
    expect_invalid_json(LIT("{\"a\":9223372036854775808}"), NULL);
}

/* "\u0000" is valid JSON (RFC 8259): the body parses, and the field reader refuses the
 * string with invalid_field naming the field. */
static void test_body_nul_reaches_field_reader(void **state)
{
    (void)state;
    json_err e;
    memset(&e, 0, sizeof e);
    json_t *o = json_body_object(LIT("{\"a\":\"x\\u0000y\"}"), &e);
    assert_non_null(o);
    const char *v = "untouched";
    assert_int_equal(json_field_str(o, "a", 1, 0, 100, 0, &v, &e), -EINVAL);
    assert_null(v);
    assert_string_equal(e.code, "invalid_field");
    assert_non_null(strstr(e.msg, "a must not contain NUL"));
    json_decref(o);
}

static void test_body_null_err(void **state)
{
    (void)state;
    /* e may be NULL: failures are then just NULL */
    assert_null(json_body_object(LIT("[]"), NULL));
    assert_null(json_body_object(LIT("{"), NULL));
}

/* ---- json_field_str ---------------------------------------------------------------- */

static void test_str_ok(void **state)
{
    json_t *o = obj("{\"name\":\"Alice\",\"e\":\"\",\"u\":\"\xc3\xa9t\xc3\xa9\"}");
    json_err e = {0};
    const char *s = NULL;

    (void)state;
    assert_int_equal(json_field_str(o, "name", 1, 1, 128, 1, &s, &e), 0);
    assert_string_equal(s, "Alice");
    assert_ptr_equal(s, json_string_value(json_object_get(o, "name")));
    /* bounds are inclusive */
    assert_int_equal(json_field_str(o, "name", 1, 5, 5, 1, &s, &e), 0);
    /* minlen 0 allows the empty string */
    assert_int_equal(json_field_str(o, "e", 1, 0, 10, 1, &s, &e), 0);
    assert_string_equal(s, "");
    /* lengths are in bytes: "été" is 5 */
    assert_int_equal(json_field_str(o, "u", 1, 5, 5, 1, &s, &e), 0);
    json_decref(o);
}

static void test_str_missing(void **state)
{
    json_t *o = obj("{\"other\":\"x\",\"n\":null}");
    json_err e = {0};
    const char *s = "sentinel";

    (void)state;
    expect_field_err(json_field_str(o, "name", 1, 1, 10, 1, &s, &e), &e, "name is required");
    assert_null(s);

    s = "sentinel";
    assert_int_equal(json_field_str(o, "name", 0, 1, 10, 1, &s, &e), 1);
    assert_null(s);
    /* null counts as absent for an optional field */
    s = "sentinel";
    assert_int_equal(json_field_str(o, "n", 0, 1, 10, 1, &s, &e), 1);
    assert_null(s);
    /* but a required null is the wrong type */
    expect_field_err(json_field_str(o, "n", 1, 1, 10, 1, &s, &e), &e, "n must be a string");
    assert_null(s);
    json_decref(o);
}

static void test_str_wrong_type(void **state)
{
    json_t *o = obj("{\"i\":5,\"r\":1.5,\"b\":true,\"a\":[\"x\"],\"o\":{\"x\":\"y\"}}");
    static const char *const fields[] = {"i", "r", "b", "a", "o"};
    json_err e = {0};
    const char *s;
    char want[64];

    (void)state;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        s = "sentinel";
        snprintf(want, sizeof want, "%s must be a string", fields[i]);
        expect_field_err(json_field_str(o, fields[i], 1, 0, 10, 0, &s, &e), &e, want);
        assert_null(s);
        /* optional fields of the wrong type are an error too, not "absent" */
        expect_field_err(json_field_str(o, fields[i], 0, 0, 10, 0, &s, &e), &e, want);
    }
    json_decref(o);
}

static void test_str_length(void **state)
{
    json_t *o = obj("{\"s\":\"ab\",\"l\":\"abcde\",\"e\":\"\",\"u\":\"\xc3\xa9\xc3\xa9\"}");
    json_err e = {0};
    const char *s;

    (void)state;
    expect_field_err(json_field_str(o, "s", 1, 3, 10, 1, &s, &e), &e, "s must be at least 3");
    assert_null(s);
    expect_field_err(json_field_str(o, "e", 1, 1, 10, 1, &s, &e), &e, "e must not be empty");
    expect_field_err(json_field_str(o, "l", 1, 1, 4, 1, &s, &e), &e, "l is too long");
    assert_null(s);
    assert_non_null(strstr(e.msg, "4"));
    /* "éé" is 2 characters but 4 bytes */
    expect_field_err(json_field_str(o, "u", 1, 1, 3, 1, &s, &e), &e, "u is too long");
    json_decref(o);
}

static void test_str_control(void **state)
{
    json_t *o =
        obj("{\"nl\":\"a\\nb\",\"tab\":\"a\\tb\",\"del\":\"a\\u007fb\",\"esc\":\"\\u001b[31m\"}");
    static const char *const fields[] = {"nl", "tab", "del", "esc"};
    json_err e = {0};
    const char *s;
    char want[64];

    (void)state;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        snprintf(want, sizeof want, "%s must not contain control characters", fields[i]);
        expect_field_err(json_field_str(o, fields[i], 1, 1, 10, 1, &s, &e), &e, want);
        assert_null(s);
        /* allowed when the caller does not ask */
        assert_int_equal(json_field_str(o, fields[i], 1, 1, 10, 0, &s, &e), 0);
        assert_non_null(s);
    }
    json_decref(o);
}

/* The body parser refuses "\u0000", but the field reader must not rely on that: a string
 * with an embedded NUL (parsed with JSON_ALLOW_NUL, or built in code) is refused. */
static void test_str_embedded_nul(void **state)
{
    json_error_t jerr;
    json_t *o = json_loads("{\"p\":\"ab\\u0000cd\",\"q\":\"\\u0000\"}", JSON_ALLOW_NUL, &jerr);
    json_err e = {0};
    const char *s;

    (void)state;
    assert_non_null(o);
    expect_field_err(json_field_str(o, "p", 1, 1, 100, 0, &s, &e), &e, "p must not contain NUL");
    assert_null(s);
    expect_field_err(json_field_str(o, "q", 1, 0, 100, 0, &s, &e), &e, "q must not contain NUL");
    json_object_set_new(o, "r", json_stringn("x\0", 2));
    expect_field_err(json_field_str(o, "r", 1, 0, 100, 1, &s, &e), &e, "r must not contain NUL");
    json_decref(o);
}

/* ---- json_field_int ---------------------------------------------------------------- */

static void test_int_ok(void **state)
{
    json_t *o = obj("{\"n\":5,\"z\":0,\"neg\":-3,\"big\":9223372036854775807,"
                    "\"small\":-9223372036854775808}");
    json_err e = {0};
    int64_t v = 0;

    (void)state;
    assert_int_equal(json_field_int(o, "n", 1, 0, 10, &v, &e), 0);
    assert_int_equal(v, 5);
    assert_int_equal(json_field_int(o, "n", 1, 5, 5, &v, &e), 0);
    assert_int_equal(json_field_int(o, "z", 1, 0, 0, &v, &e), 0);
    assert_int_equal(v, 0);
    assert_int_equal(json_field_int(o, "neg", 1, -3, 0, &v, &e), 0);
    assert_int_equal(v, -3);
    assert_int_equal(json_field_int(o, "big", 1, INT64_MIN, INT64_MAX, &v, &e), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(json_field_int(o, "small", 1, INT64_MIN, INT64_MAX, &v, &e), 0);
    assert_true(v == INT64_MIN);
    json_decref(o);
}

static void test_int_bounds(void **state)
{
    json_t *o = obj("{\"n\":5,\"big\":9223372036854775807}");
    json_err e = {0};
    int64_t v = 77;

    (void)state;
    expect_field_err(json_field_int(o, "n", 1, 6, 10, &v, &e), &e, "n must be between 6 and 10");
    expect_field_err(json_field_int(o, "n", 1, 0, 4, &v, &e), &e, "n must be between 0 and 4");
    expect_field_err(json_field_int(o, "big", 1, 0, INT64_MAX - 1, &v, &e), &e, "big must be");
    assert_int_equal(v, 77);
    json_decref(o);
}

static void test_int_refuses_other_types(void **state)
{
    json_t *o = obj("{\"r\":5.0,\"r2\":1e2,\"s\":\"5\",\"b\":true,\"a\":[5],\"n\":null}");
    static const char *const fields[] = {"r", "r2", "s", "b", "a"};
    json_err e = {0};
    int64_t v = 77;
    char want[64];

    (void)state;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        snprintf(want, sizeof want, "%s must be an integer", fields[i]);
        expect_field_err(json_field_int(o, fields[i], 1, 0, 1000, &v, &e), &e, want);
        expect_field_err(json_field_int(o, fields[i], 0, 0, 1000, &v, &e), &e, want);
    }
    expect_field_err(json_field_int(o, "n", 1, 0, 1000, &v, &e), &e, "n must be an integer");
    assert_int_equal(v, 77);
    json_decref(o);
}

static void test_int_missing(void **state)
{
    json_t *o = obj("{\"n\":null}");
    json_err e = {0};
    int64_t v = 77;

    (void)state;
    expect_field_err(json_field_int(o, "count", 1, 0, 10, &v, &e), &e, "count is required");
    assert_int_equal(json_field_int(o, "count", 0, 0, 10, &v, &e), 1);
    assert_int_equal(json_field_int(o, "n", 0, 0, 10, &v, &e), 1);
    assert_int_equal(v, 77);
    json_decref(o);
}

/* ---- json_dump_compact ------------------------------------------------------------- */

static void test_dump_compact(void **state)
{
    json_t *o = obj("{ \"a\" : 1 , \"b\" : [ 1 , 2 , { } ] , \"c\" : \"x\\ny\" , \"d\" : null }");
    size_t len = 0;
    char *s;

    (void)state;
    s = json_dump_compact(o, &len);
    assert_non_null(s);
    assert_string_equal(s, "{\"a\":1,\"b\":[1,2,{}],\"c\":\"x\\ny\",\"d\":null}");
    assert_int_equal(len, strlen(s));
    free(s);
    json_decref(o);

    /* non-ASCII text is kept as UTF-8 */
    o = json_pack("{s:s}", "n", "J\xc3\xbcrgen");
    s = json_dump_compact(o, NULL);
    assert_string_equal(s, "{\"n\":\"J\xc3\xbcrgen\"}");
    free(s);
    json_decref(o);

    /* any value, not only containers */
    json_t *i = json_integer(42);
    s = json_dump_compact(i, &len);
    assert_string_equal(s, "42");
    assert_int_equal(len, 2);
    free(s);
    json_decref(i);

    json_t *str = json_string("q\"");
    s = json_dump_compact(str, &len);
    assert_string_equal(s, "\"q\\\"\"");
    free(s);
    json_decref(str);
}

/* Never NULL: a value jansson cannot encode becomes "null". */
static void test_dump_fallback(void **state)
{
    json_t *bad = json_stringn_nocheck("\xff", 1);
    size_t len = 99;
    char *s;

    (void)state;
    assert_non_null(bad);
    s = json_dump_compact(bad, &len);
    assert_non_null(s);
    assert_string_equal(s, "null");
    assert_int_equal(len, 4);
    free(s);
    json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_basic),
        cmocka_unit_test(test_depth_skips_strings),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_depth_huge_input),
        cmocka_unit_test(test_body_object_ok),
        cmocka_unit_test(test_body_empty),
        cmocka_unit_test(test_body_not_object),
        cmocka_unit_test(test_body_duplicate_keys),
        cmocka_unit_test(test_body_depth),
        cmocka_unit_test(test_body_invalid_utf8),
        cmocka_unit_test(test_body_trailing_garbage),
        cmocka_unit_test(test_body_syntax),
        cmocka_unit_test(test_body_nul_reaches_field_reader),
        cmocka_unit_test(test_body_null_err),
        cmocka_unit_test(test_str_ok),
        cmocka_unit_test(test_str_missing),
        cmocka_unit_test(test_str_wrong_type),
        cmocka_unit_test(test_str_length),
        cmocka_unit_test(test_str_control),
        cmocka_unit_test(test_str_embedded_nul),
        cmocka_unit_test(test_int_ok),
        cmocka_unit_test(test_int_bounds),
        cmocka_unit_test(test_int_refuses_other_types),
        cmocka_unit_test(test_int_missing),
        cmocka_unit_test(test_dump_compact),
        cmocka_unit_test(test_dump_fallback),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
