/* Unit tests for the request parsing of src/platform/containers.c: containers_parse_create
 * (the create body {serviceType, name, env?, ttl?}) and containers_parse_logs (the
 * ?tail=&since=&timestamps=&follow= query). Bodies are built with json_loads (with
 * JSON_ALLOW_NUL, as json_body_object does) or, for what JSON text cannot say, with
 * jansson's constructors. Every refusal must be -EINVAL with a 400 "invalid_field" whose
 * sentence names the field. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"

static json_t *body;
static container_create_req req;
static plat_err err;

static int setup(void **state)
{
    (void)state;
    body = NULL;
    memset(&req, 0xa5, sizeof req);
    memset(&err, 0, sizeof err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(body);
    body = NULL;
    return 0;
}

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_ALLOW_NUL, &je);
    if (v == NULL) fail_msg("bad test JSON %s: %s", text, je.text);
    return v;
}

/* Replaces the current body with text, which must parse. */
static void set_body(const char *text)
{
    json_decref(body);
    body = load(text);
}

/* A string of n copies of c (the caller frees it). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* {"serviceType":"nginx","name":"web"} plus key = v (v stolen). */
static void set_body_with(const char *key, json_t *v)
{
    set_body("{\"serviceType\":\"nginx\",\"name\":\"web\"}");
    assert_non_null(v);
    assert_int_equal(json_object_set_new(body, key, v), 0);
}

/* The body as compact JSON (cut to fit) for failure messages. */
static const char *describe(void)
{
    static char text[256];
    size_t n =
        json_dumpb(body, text, sizeof text - 1, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    text[n < sizeof text - 1 ? n : sizeof text - 1] = '\0';
    return text;
}

static void create_ok(void)
{
    memset(&req, 0xa5, sizeof req);
    memset(&err, 0, sizeof err);
    int rc = containers_parse_create(body, &req, &err);
    if (rc != 0)
        fail_msg("containers_parse_create(%s) returned %d: %d %s %s", describe(), rc, err.status,
                 err.code ? err.code : "(null)", err.msg);
    assert_non_null(req.service_type);
    assert_non_null(req.name);
}

/* The body must be refused, with a message containing field. */
static void create_fails(const char *field)
{
    memset(&req, 0xa5, sizeof req);
    memset(&err, 0, sizeof err);
    int rc = containers_parse_create(body, &req, &err);
    const char *t = describe();
    if (rc != -EINVAL) fail_msg("containers_parse_create(%s) returned %d, expected -EINVAL", t, rc);
    if (err.status != 400 || err.code == NULL || strcmp(err.code, "invalid_field") != 0)
        fail_msg("containers_parse_create(%s): status %d code %s, expected 400 invalid_field", t,
                 err.status, err.code ? err.code : "(null)");
    if (memchr(err.msg, '\0', sizeof err.msg) == NULL || strstr(err.msg, field) == NULL)
        fail_msg("containers_parse_create(%s): message \"%.511s\" does not name \"%s\"", t, err.msg,
                 field);
}

static void create_fails_text(const char *text, const char *field)
{
    set_body(text);
    create_fails(field);
}

/* ---- containers_parse_create: accepted bodies ------------------------------------------ */

static void test_create_minimal(void **state)
{
    (void)state;
    set_body("{\"serviceType\":\"nginx\",\"name\":\"web\"}");
    create_ok();
    assert_string_equal(req.service_type, "nginx");
    assert_string_equal(req.name, "web");
    /* the strings point into the body */
    assert_ptr_equal(req.service_type, json_string_value(json_object_get(body, "serviceType")));
    assert_ptr_equal(req.name, json_string_value(json_object_get(body, "name")));
    assert_null(req.env);
    assert_int_equal(req.ttl_s, 0);
}

static void test_create_null_optionals(void **state)
{
    (void)state;
    set_body("{\"name\":\"db-1\",\"env\":null,\"ttl\":null,\"serviceType\":\"postgres\"}");
    create_ok();
    assert_string_equal(req.service_type, "postgres");
    assert_string_equal(req.name, "db-1");
    assert_null(req.env);
    assert_int_equal(req.ttl_s, 0);
}

static void test_create_with_env(void **state)
{
    (void)state;
    set_body("{\"serviceType\":\"nginx\",\"name\":\"web\","
             "\"env\":{\"A\":\"1\",\"_b\":\"\",\"PATH_2\":\"x=y z\",\"lower_Case9\":\"\\u00e9\"}}");
    create_ok();
    assert_ptr_equal(req.env, json_object_get(body, "env"));
    assert_int_equal(json_object_size(req.env), 4);
    assert_string_equal(json_string_value(json_object_get(req.env, "PATH_2")), "x=y z");

    set_body("{\"serviceType\":\"nginx\",\"name\":\"web\",\"env\":{}}");
    create_ok();
    assert_ptr_equal(req.env, json_object_get(body, "env"));
    assert_int_equal(json_object_size(req.env), 0);
}

static void test_create_env_limits_accepted(void **state)
{
    (void)state;
    /* 32 variables, a 64-character name and a 4096-byte value are all allowed */
    json_t *env = json_object();
    for (int i = 0; i < CONTAINER_ENV_MAX - 1; i++) {
        char k[16];
        snprintf(k, sizeof k, "V%d", i);
        json_object_set_new(env, k, json_string("v"));
    }
    char *k64 = repeat('K', 64);
    char *v4096 = repeat('v', CONTAINER_ENV_VALUE_MAX);
    json_object_set_new(env, k64, json_string(v4096));
    set_body_with("env", env);
    create_ok();
    assert_int_equal(json_object_size(req.env), CONTAINER_ENV_MAX);
    assert_int_equal(json_string_length(json_object_get(req.env, k64)), CONTAINER_ENV_VALUE_MAX);
    free(k64);
    free(v4096);
}

static void test_create_names_accepted(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "0", "a-b", "web-1", "a--b", "123", "x9"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        set_body_with("name", json_string(names[i]));
        create_ok();
        assert_string_equal(req.name, names[i]);
    }
    char *n63 = repeat('a', 63);
    set_body_with("name", json_string(n63));
    create_ok();
    assert_int_equal(strlen(req.name), 63);
    free(n63);
}

static void test_create_service_type_lengths(void **state)
{
    (void)state;
    char *s31 = repeat('s', 31);
    set_body_with("serviceType", json_string(s31));
    create_ok();
    assert_string_equal(req.service_type, s31);
    free(s31);

    char *s32 = repeat('s', 32);
    set_body_with("serviceType", json_string(s32));
    create_fails("serviceType");
    free(s32);
}

static void test_create_ttl_accepted(void **state)
{
    (void)state;
    static const struct {
        const char *ttl;
        int64_t want;
    } cases[] = {
        {"90s", 90},
        {"30m", 1800},
        {"2h", 7200},
        {"7d", 604800},
        {"60", 60},
        {"60s", 60},
        {"1m", 60},
        {"1d", 86400},
        {"30d", 2592000},
        {"720h", 2592000},
        {"43200m", 2592000},
        {"2592000", 2592000},
        {"2592000s", 2592000},
        {"0060", 60},
        {"000000000090", 90},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        set_body_with("ttl", json_string(cases[i].ttl));
        create_ok();
        if (req.ttl_s != cases[i].want)
            fail_msg("ttl \"%s\" gave %lld, expected %lld", cases[i].ttl, (long long)req.ttl_s,
                     (long long)cases[i].want);
    }
    static const json_int_t ints[] = {60, 90, 3600, 2592000};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        set_body_with("ttl", json_integer(ints[i]));
        create_ok();
        assert_int_equal(req.ttl_s, ints[i]);
    }
}

/* ---- containers_parse_create: refusals ------------------------------------------------- */

static void test_create_unknown_field(void **state)
{
    (void)state;
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"image\":\"evil\"}", "image");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"Name\":\"x\"}", "Name");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"\":1}", "unknown field");
    /* unknown fields are reported before anything else is looked at */
    create_fails_text("{\"privileged\":true}", "privileged");
    /* a long unknown key is cut in the message, which stays a string */
    char *k = repeat('z', 1000);
    set_body_with(k, json_true());
    create_fails("zzzzzzzz");
    free(k);
}

static void test_create_service_type_refused(void **state)
{
    (void)state;
    create_fails_text("{\"name\":\"web\"}", "serviceType");
    create_fails_text("{}", "serviceType");
    create_fails_text("{\"serviceType\":\"\",\"name\":\"web\"}", "serviceType");
    create_fails_text("{\"serviceType\":null,\"name\":\"web\"}", "serviceType");
    create_fails_text("{\"serviceType\":5,\"name\":\"web\"}", "serviceType");
    create_fails_text("{\"serviceType\":true,\"name\":\"web\"}", "serviceType");
    create_fails_text("{\"serviceType\":[\"nginx\"],\"name\":\"web\"}", "serviceType");
    create_fails_text("{\"serviceType\":{\"a\":\"nginx\"},\"name\":\"web\"}", "serviceType");
}

/* A NUL inside serviceType must be refused like one inside name: otherwise "nginx\0junk"
 * reaches catalog_find as "nginx", and "\0" is a 0-byte type that passed the empty check. */
static void test_create_service_type_nul_refused(void **state)
{
    (void)state;
    set_body_with("serviceType", json_stringn("nginx\0junk", 10));
    create_fails("serviceType");
    set_body_with("serviceType", json_stringn("\0", 1));
    create_fails("serviceType");
    create_fails_text("{\"serviceType\":\"nginx\\u0000\",\"name\":\"web\"}", "serviceType");
}

static void test_create_name_refused(void **state)
{
    (void)state;
    create_fails_text("{\"serviceType\":\"nginx\"}", "name");
    static const char *const bad[] = {"",      "Web",   "WEB",  "-web", "web-", "-",
                                      "we_b",  "we.b",  "we b", " web", "web ", "w\u00e9b",
                                      "web/1", "web:1", "*",    "web\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        set_body_with("name", json_string(bad[i]));
        create_fails("name");
    }
    char *n64 = repeat('a', 64);
    set_body_with("name", json_string(n64));
    create_fails("name");
    free(n64);
    /* an embedded NUL: the C string "we" would be a valid label */
    set_body_with("name", json_stringn("we\0b", 4));
    create_fails("name");
    set_body_with("name", json_stringn("web\0", 4));
    create_fails("name");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":null}", "name");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":1}", "name");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":[\"web\"]}", "name");
}

static void test_create_env_refused(void **state)
{
    (void)state;
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"env\":[]}", "env");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"env\":[\"A=1\"]}", "env");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"env\":\"A=1\"}", "env");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"env\":1}", "env");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"env\":true}", "env");
}

static void test_create_env_too_many(void **state)
{
    (void)state;
    json_t *env = json_object();
    for (int i = 0; i < CONTAINER_ENV_MAX + 1; i++) {
        char k[16];
        snprintf(k, sizeof k, "V%d", i);
        json_object_set_new(env, k, json_string("v"));
    }
    set_body_with("env", env);
    create_fails("env");
    assert_non_null(strstr(err.msg, "32"));
}

static void test_create_env_bad_names(void **state)
{
    (void)state;
    static const char *const bad[] = {"",   "1A", "9",        "A-B", "A.B", "A B", "A=B",
                                      " A", "A ", "\xc3\xa9", "A$",  "A\n", "-A"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *env = json_object();
        json_object_set_new(env, "OK", json_string("1"));
        json_object_set_new(env, bad[i], json_string("v"));
        set_body_with("env", env);
        create_fails("env");
    }
    char *k65 = repeat('K', 65);
    json_t *env = json_object();
    json_object_set_new(env, k65, json_string("v"));
    set_body_with("env", env);
    create_fails("env");
    free(k65);
    /* the message names the variable */
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"env\":{\"1BAD\":\"v\"}}",
                      "1BAD");
}

static void test_create_env_bad_values(void **state)
{
    (void)state;
    static const char *const bad[] = {"1", "null", "true", "{}", "[]", "[\"v\"]", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        snprintf(text, sizeof text,
                 "{\"serviceType\":\"nginx\",\"name\":\"web\",\"env\":{\"KEY\":%s}}", bad[i]);
        create_fails_text(text, "env");
        assert_non_null(strstr(err.msg, "KEY"));
    }
    char *v4097 = repeat('v', CONTAINER_ENV_VALUE_MAX + 1);
    json_t *env = json_object();
    json_object_set_new(env, "BIG", json_string(v4097));
    set_body_with("env", env);
    create_fails("env");
    assert_non_null(strstr(err.msg, "BIG"));
    free(v4097);

    env = json_object();
    json_object_set_new(env, "NUL", json_stringn("a\0b", 3));
    set_body_with("env", env);
    create_fails("env");
    assert_non_null(strstr(err.msg, "NUL"));
}

static void test_create_ttl_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "59s",
        "59",
        "0",
        "0s",
        "1",
        "31d",
        "721h",
        "43201m",
        "2592001",
        "2592001s",
        "5x",
        "5M",
        "2H",
        "",
        "s",
        "m",
        "d",
        "-5m",
        "+5m",
        "-60",
        "+60",
        "1.5h",
        "1e3",
        " 5m",
        "5m ",
        "5 m",
        "5mm",
        "ms",
        "0x3c",
        "1w",
        "1y",
        "1000000000000",
        "99999999999d",
        "\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        set_body_with("ttl", json_string(bad[i]));
        create_fails("ttl");
    }
    static const json_int_t ints[] = {0, 1, 59, -60, -1, 2592001, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        set_body_with("ttl", json_integer(ints[i]));
        create_fails("ttl");
    }
    set_body_with("ttl", json_real(90.0));
    create_fails("ttl");
    set_body_with("ttl", json_real(3600.5));
    create_fails("ttl");
    set_body_with("ttl", json_true());
    create_fails("ttl");
    set_body_with("ttl", json_array());
    create_fails("ttl");
    set_body_with("ttl", json_object());
    create_fails("ttl");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"ttl\":1.5}", "ttl");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"ttl\":3600.0}", "ttl");
    create_fails_text("{\"serviceType\":\"nginx\",\"name\":\"web\",\"ttl\":-300}", "ttl");
}

/* A NUL inside ttl must be refused: "90m\0junk" is not a duration. */
static void test_create_ttl_nul_refused(void **state)
{
    (void)state;
    set_body_with("ttl", json_stringn("90m\0junk", 8));
    create_fails("ttl");
}

/* ---- containers_parse_logs ------------------------------------------------------------- */

static container_logs_req lreq;

static void logs_ok(const char *tail, const char *since, const char *ts, const char *follow)
{
    memset(&lreq, 0xa5, sizeof lreq);
    memset(&err, 0, sizeof err);
    int rc = containers_parse_logs(tail, since, ts, follow, &lreq, &err);
    if (rc != 0)
        fail_msg("containers_parse_logs(%s, %s, %s, %s) returned %d: %s", tail ? tail : "NULL",
                 since ? since : "NULL", ts ? ts : "NULL", follow ? follow : "NULL", rc, err.msg);
}

static void logs_fails(const char *tail, const char *since, const char *ts, const char *follow,
                       const char *field)
{
    memset(&err, 0, sizeof err);
    int rc = containers_parse_logs(tail, since, ts, follow, &lreq, &err);
    if (rc != -EINVAL)
        fail_msg("containers_parse_logs(%s, %s, %s, %s) returned %d, expected -EINVAL",
                 tail ? tail : "NULL", since ? since : "NULL", ts ? ts : "NULL",
                 follow ? follow : "NULL", rc);
    if (err.status != 400 || err.code == NULL || strcmp(err.code, "invalid_field") != 0)
        fail_msg("containers_parse_logs: status %d code %s, expected 400 invalid_field", err.status,
                 err.code ? err.code : "(null)");
    if (memchr(err.msg, '\0', sizeof err.msg) == NULL || strstr(err.msg, field) == NULL)
        fail_msg("containers_parse_logs: message \"%.511s\" does not name \"%s\"", err.msg, field);
}

static void test_logs_defaults(void **state)
{
    (void)state;
    logs_ok(NULL, NULL, NULL, NULL);
    assert_int_equal(lreq.tail, 100);
    assert_int_equal(lreq.since, 0);
    assert_int_equal(lreq.timestamps, 0);
    assert_int_equal(lreq.follow, 0);
}

static void test_logs_tail(void **state)
{
    (void)state;
    logs_ok("all", NULL, NULL, NULL);
    assert_int_equal(lreq.tail, -1);
    static const struct {
        const char *s;
        int want;
    } cases[] = {{"0", 0}, {"1", 1}, {"100", 100}, {"9999", 9999}, {"10000", 10000}, {"007", 7}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        logs_ok(cases[i].s, NULL, NULL, NULL);
        assert_int_equal(lreq.tail, cases[i].want);
    }
}

static void test_logs_tail_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "-1",         "+5",        "10001", "abc", "ALL",
        "All",        "all ",      " 5",    "5 ",  "1e3",
        "0x10",       "5.0",       "-0",    "+0",  "99999999999999999999",
        "2147483648", "4294967296"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        logs_fails(bad[i], NULL, NULL, NULL, "tail");
}

static void test_logs_since(void **state)
{
    (void)state;
    logs_ok(NULL, "2026-11-20T10:00:00Z", NULL, NULL);
    assert_int_equal(lreq.since, 1795168800);
    logs_ok(NULL, "2000-02-29T12:00:00.25+02:00", NULL, NULL);
    assert_int_equal(lreq.since, 951818400);
    logs_ok(NULL, "1795168800", NULL, NULL);
    assert_int_equal(lreq.since, 1795168800);
    logs_ok(NULL, "0", NULL, NULL);
    assert_int_equal(lreq.since, 0);
    logs_ok(NULL, "", NULL, NULL); /* ?since= is the same as absent */
    assert_int_equal(lreq.since, 0);
    assert_int_equal(lreq.tail, 100);
}

static void test_logs_since_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "yesterday",     "-1", "2026-11-20", "2026-11-20T10:00:00", "1969-12-31T23:59:59Z",
        "1234567890123", "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        logs_fails(NULL, bad[i], NULL, NULL, "since");
}

static void test_logs_flags(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int want;
    } cases[] = {{"1", 1}, {"true", 1}, {"yes", 1}, {"0", 0}, {"false", 0}, {"no", 0}, {"", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        logs_ok(NULL, NULL, cases[i].s, NULL);
        assert_int_equal(lreq.timestamps, cases[i].want);
        assert_int_equal(lreq.follow, 0);
        logs_ok(NULL, NULL, NULL, cases[i].s);
        assert_int_equal(lreq.follow, cases[i].want);
        assert_int_equal(lreq.timestamps, 0);
    }
    logs_ok("all", "1795168800", "yes", "true");
    assert_int_equal(lreq.tail, -1);
    assert_int_equal(lreq.since, 1795168800);
    assert_int_equal(lreq.timestamps, 1);
    assert_int_equal(lreq.follow, 1);
}

static void test_logs_flags_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"2", "-1", "TRUE", "True", "YES", "on", "off",
                                      "y", "n",  "1 ",   " 1",   " ",   "01", "truee"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        logs_fails(NULL, NULL, bad[i], NULL, "timestamps");
        logs_fails(NULL, NULL, NULL, bad[i], "follow");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_minimal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_null_optionals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_with_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_env_limits_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_names_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_service_type_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_ttl_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_unknown_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_service_type_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_service_type_nul_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_name_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_env_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_env_too_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_env_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_env_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_ttl_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_ttl_nul_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_tail_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_since_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_flags_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
