/* Unit tests for the admin PATCH body parsers of src/api/api_admin.c: what each accepts,
 * the field each refusal names, the size limit applied before parsing, and that every
 * refusal's sentence is valid UTF-8 (it goes out inside a JSON answer). */
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

#include "api.h"
#include "str.h"

static int client(const char *body, api_client_patch *p, json_err *e)
{
    memset(e, 0, sizeof *e);
    return api_admin_client_patch_parse(body, strlen(body), p, e);
}

static int user(const char *body, api_user_patch *p, json_err *e)
{
    memset(e, 0, sizeof *e);
    return api_admin_user_patch_parse(body, strlen(body), p, e);
}

/* Appends s to buf (cap bytes), cut when full. */
static void append(char *buf, size_t cap, const char *s)
{
    size_t len = strlen(buf);
    snprintf(buf + len, cap - len, "%s", s);
}

static void check_sentence(const json_err *e)
{
    size_t n = strnlen(e->msg, sizeof e->msg);
    assert_true(n > 0 && n < sizeof e->msg);
    if (!str_is_utf8(e->msg, n)) fail_msg("not UTF-8: %s", e->msg);
}

/* Asserts that body is refused by the client parser with code and a sentence containing
 * want; the patch is left empty. */
static void client_refused(const char *body, const char *code, const char *want)
{
    api_client_patch p;
    json_err e;
    static const api_client_patch empty;
    int rc = client(body, &p, &e);
    if (rc != -EINVAL) fail_msg("rc %d for %.200s", rc, body);
    if (strcmp(e.code, code) != 0) fail_msg("code %s, expected %s, for %.200s", e.code, code, body);
    if (strstr(e.msg, want) == NULL) fail_msg("\"%s\" lacks \"%s\" (%.200s)", e.msg, want, body);
    check_sentence(&e);
    assert_memory_equal(&p, &empty, sizeof p);
}

static void user_refused(const char *body, const char *code, const char *want)
{
    api_user_patch p;
    json_err e;
    int rc = user(body, &p, &e);
    if (rc != -EINVAL) fail_msg("rc %d for %.200s", rc, body);
    if (strcmp(e.code, code) != 0) fail_msg("code %s, expected %s, for %.200s", e.code, code, body);
    if (strstr(e.msg, want) == NULL) fail_msg("\"%s\" lacks \"%s\" (%.200s)", e.msg, want, body);
    check_sentence(&e);
    assert_string_equal(p.role, "");
    assert_int_equal(p.disabled, -1);
}

static void test_client_accepted(void **state)
{
    (void)state;
    api_client_patch p;
    json_err e;
    assert_int_equal(client("{\"plan\": \"pro\", \"name\": \"Acme \\u00e9\", \"quota\": "
                            "{\"containers\": 10, \"memoryMb\": 4096, \"cpus\": 2.5}}",
                            &p, &e),
                     0);
    assert_true(p.has_name && p.has_plan && p.has_containers && p.has_memory_mb && p.has_cpus);
    assert_string_equal(p.name, "Acme \xc3\xa9");
    assert_string_equal(p.plan, "pro");
    assert_int_equal(p.containers, 10);
    assert_int_equal(p.memory_mb, 4096);
    assert_true(p.cpus == 2.5);

    assert_int_equal(client("{\"quota\": {\"cpus\": 1}}", &p, &e), 0); /* an integer is a number */
    assert_true(p.has_cpus && p.cpus == 1.0);
    assert_false(p.has_name || p.has_plan || p.has_containers || p.has_memory_mb);

    assert_int_equal(
        client("{\"quota\": {\"containers\": 0, \"memoryMb\": 0, \"cpus\": 0}}", &p, &e), 0);
    assert_true(p.has_containers && p.has_memory_mb && p.has_cpus);
    assert_int_equal(client("{\"quota\": {\"containers\": 100000, \"memoryMb\": 16777216, "
                            "\"cpus\": 4096}}",
                            &p, &e),
                     0);
    assert_int_equal(p.memory_mb, API_QUOTA_MEMORY_MB_MAX);
    const char *plans[] = {"free", "starter", "pro", "enterprise"};
    for (size_t i = 0; i < 4; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"plan\": \"%s\"}", plans[i]);
        assert_int_equal(client(body, &p, &e), 0);
        assert_string_equal(p.plan, plans[i]);
        assert_false(p.has_name);
    }
}

static void test_client_refused(void **state)
{
    (void)state;
    client_refused("{}", "invalid_field", "at least one of name, plan, quota, creditTokens");
    client_refused("{\"creditTokens\": 0}", "invalid_field",
                   "creditTokens must be an integer from 1 to 10000000");
    client_refused("{\"plan\": \"pro\", \"creditTokens\": -5}", "invalid_field",
                   "creditTokens must be an integer");
    client_refused("{\"creditTokens\": \"5\"}", "invalid_field", "creditTokens must be");
    client_refused("{\"plan\": \"pro\", \"bogus\": 1}", "invalid_field", "unknown field \"bogus\"");
    client_refused("{\"quota\": {\"disk\": 1}}", "invalid_field", "unknown field \"quota.disk\"");
    client_refused("{\"quota\": {\"creditTokens\": 1}}", "invalid_field",
                   "unknown field \"quota.creditTokens\"");
    client_refused("{\"plan\": \"gold\"}", "invalid_field", "plan must be one of");
    client_refused("{\"plan\": \"pro\\u0000\"}", "invalid_field", "plan must be one of");
    client_refused("{\"plan\": null}", "invalid_field", "plan must be one of");
    client_refused("{\"quota\": {}}", "invalid_field", "quota must name at least one");
    client_refused("{\"quota\": []}", "invalid_field", "quota must be an object");
    client_refused("{\"quota\": {\"containers\": 100001}}", "invalid_field", "quota.containers");
    client_refused("{\"quota\": {\"containers\": 2.0}}", "invalid_field", "quota.containers");
    client_refused("{\"quota\": {\"containers\": -1}}", "invalid_field", "quota.containers");
    client_refused("{\"quota\": {\"memoryMb\": 16777217}}", "invalid_field", "quota.memoryMb");
    client_refused("{\"quota\": {\"memoryMb\": \"1\"}}", "invalid_field", "quota.memoryMb");
    client_refused("{\"quota\": {\"cpus\": 4096.001}}", "invalid_field", "quota.cpus");
    client_refused("{\"quota\": {\"cpus\": false}}", "invalid_field", "quota.cpus");
    client_refused("{\"quota\": {\"cpus\": null}}", "invalid_field", "quota.cpus");
    client_refused("{\"name\": \"\"}", "invalid_field", "name must not be empty");
    client_refused("{\"name\": \"a\\tb\"}", "invalid_field", "name must not contain control");
    client_refused("{\"name\": null}", "invalid_field", "name must be a string");
    /* name, plan, quota: the first bad one is named */
    client_refused("{\"quota\": {\"cpus\": -1}, \"plan\": \"x\", \"name\": 1}", "invalid_field",
                   "name");
    client_refused("{\"quota\": {\"cpus\": -1}, \"plan\": \"x\"}", "invalid_field", "plan");

    char name[1024];
    memset(name, 0, sizeof name);
    snprintf(name, sizeof name, "{\"name\": \"");
    for (int i = 0; i < 129; i++)
        append(name, sizeof name, "\\u00e9");
    append(name, sizeof name, "\"}");
    client_refused(name, "invalid_field", "at most 128 characters");
}

/* The body limit holds before parsing: 4096 bytes are parsed, 4097 are not. */
static void test_size_limit(void **state)
{
    (void)state;
    char body[API_ADMIN_BODY_MAX + 2];
    api_client_patch p;
    api_user_patch u;
    json_err e;
    const char *json = "{\"plan\": \"pro\"}";
    memset(body, ' ', sizeof body);
    memcpy(body, json, strlen(json));
    body[API_ADMIN_BODY_MAX] = '\0';
    assert_int_equal(client(body, &p, &e), 0);
    body[API_ADMIN_BODY_MAX] = ' ';
    body[API_ADMIN_BODY_MAX + 1] = '\0';
    assert_int_equal(client(body, &p, &e), -EMSGSIZE);
    assert_string_equal(e.code, "too_large");
    assert_int_equal(user(body, &u, &e), -EMSGSIZE);
    assert_string_equal(e.code, "too_large");
    assert_int_equal(u.disabled, -1);
}

/* An unknown key is quoted at most 48 bytes long, cut between characters, with its control
 * characters shown as '?'. */
static void test_unknown_key_quoted_safely(void **state)
{
    (void)state;
    char body[256] = "{\"a";
    api_client_patch p;
    json_err e;
    for (int i = 0; i < 40; i++)
        append(body, sizeof body, "\xc3\xa9"); /* é: 2 bytes each */
    append(body, sizeof body, "\": 1}");
    assert_int_equal(client(body, &p, &e), -EINVAL);
    check_sentence(&e);
    const char *q = strchr(e.msg, '"');
    assert_non_null(q);
    const char *end = strchr(q + 1, '"');
    assert_non_null(end);
    assert_int_equal(end - (q + 1), 47); /* "a" and 23 é: the 24th would split at byte 48 */

    assert_int_equal(client("{\"x\\u0001\\u007fy\": 1}", &p, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "\"x??y\""));
}

/* jansson's "near '...'" can cut a character of the input in two; the sentence is repaired
 * (a fuzzer find: the error answer was "null" instead of the error object). */
static void test_invalid_json_sentence_is_utf8(void **state)
{
    (void)state;
    api_client_patch p;
    api_user_patch u;
    json_err e;
    const char *bodies[] = {"{\"name\": \"\\u0\xc3\xa9\xc3\xa9\"}", "{\"name\": tru\xc3\xa9}",
                            "{\"plan\": \"pro\",}", "[]", "", "{\"name\": \"\xff\"}",
                            "{\"a\": 1, \"a\": 2}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        assert_int_equal(client(bodies[i], &p, &e), -EINVAL);
        assert_string_equal(e.code, "invalid_json");
        check_sentence(&e);
        assert_int_equal(user(bodies[i], &u, &e), -EINVAL);
        assert_string_equal(e.code, "invalid_json");
        check_sentence(&e);
    }
}

static void test_user(void **state)
{
    (void)state;
    api_user_patch p;
    json_err e;
    assert_int_equal(user("{\"role\": \"admin\"}", &p, &e), 0);
    assert_string_equal(p.role, "admin");
    assert_int_equal(p.disabled, -1);
    assert_int_equal(user("{\"disabled\": true}", &p, &e), 0);
    assert_string_equal(p.role, "");
    assert_int_equal(p.disabled, 1);
    assert_int_equal(user("{\"disabled\": false, \"role\": \"client\"}", &p, &e), 0);
    assert_string_equal(p.role, "client");
    assert_int_equal(p.disabled, 0);

    user_refused("{}", "invalid_field", "at least one of role, disabled");
    user_refused("{\"role\": \"root\"}", "invalid_field", "role must be");
    user_refused("{\"role\": \"admin\\u0000\"}", "invalid_field", "role must be");
    user_refused("{\"role\": \"ADMIN\"}", "invalid_field", "role must be");
    user_refused("{\"role\": null}", "invalid_field", "role must be");
    user_refused("{\"disabled\": 1}", "invalid_field", "disabled must be true or false");
    user_refused("{\"disabled\": \"true\"}", "invalid_field", "disabled must be true or false");
    user_refused("{\"role\": \"admin\", \"email\": \"x\"}", "invalid_field",
                 "unknown field \"email\"");
    /* creditTokens has no special meaning here */
    user_refused("{\"creditTokens\": 1}", "invalid_field", "unknown field \"creditTokens\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_accepted),
        cmocka_unit_test(test_client_refused),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_unknown_key_quoted_safely),
        cmocka_unit_test(test_invalid_json_sentence_is_utf8),
        cmocka_unit_test(test_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
