/* Unit tests for src/api/auth_req.c: the register and login bodies, email normalisation,
 * the password rules that differ between sign-up and login, and the field named in each
 * error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_req.h"

#define REGISTER 1
#define LOGIN 0

static int parse(const char *body, int with_name, auth_req *r, json_err *e)
{
    memset(e, 0, sizeof *e);
    return auth_req_parse(body, strlen(body), with_name, r, e);
}

/* Asserts that body is refused with code, and a message starting with field (when not
 * NULL) and containing want (when not NULL); the request holds nothing afterwards. */
static void expect_refused(const char *body, int with_name, const char *code, const char *field,
                           const char *want)
{
    auth_req r;
    json_err e;
    int rc = parse(body, with_name, &r, &e);

    if (rc != -EINVAL) fail_msg("accepted (rc %d): %.200s", rc, body);
    assert_non_null(e.code);
    if (strcmp(e.code, code) != 0) fail_msg("code %s, expected %s, for %.200s", e.code, code, body);
    if (field != NULL && strncmp(e.msg, field, strlen(field)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\" for %.200s", e.msg, field, body);
    if (want != NULL && strstr(e.msg, want) == NULL)
        fail_msg("message \"%s\" does not contain \"%s\"", e.msg, want);
    assert_null(r.root);
    assert_null(r.password);
    assert_null(r.name);
    auth_req_free(&r); /* safe after failure */
}

/* Builds {"email":E,"password":P[,"name":N]} with JSON-escaped values given raw. */
static char *body3(const char *email, const char *password, const char *name)
{
    json_t *o = json_object();
    if (email != NULL) json_object_set_new(o, "email", json_string(email));
    if (password != NULL) json_object_set_new(o, "password", json_string(password));
    if (name != NULL) json_object_set_new(o, "name", json_string(name));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(s);
    return s;
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_register_ok(void **state)
{
    auth_req r;
    json_err e;

    (void)state;
    assert_int_equal(parse("{\"email\":\"alice@example.com\",\"password\":\"correct horse\","
                           "\"name\":\"Alice Smith\"}",
                           REGISTER, &r, &e),
                     0);
    assert_non_null(r.root);
    assert_string_equal(r.email, "alice@example.com");
    assert_string_equal(r.password, "correct horse");
    assert_int_equal(r.password_len, 13);
    assert_string_equal(r.name, "Alice Smith");
    auth_req_free(&r);
    assert_null(r.root);
    assert_null(r.password);
    assert_null(r.name);
    auth_req_free(&r); /* twice is fine */
}

static void test_login_ok(void **state)
{
    auth_req r;
    json_err e;

    (void)state;
    assert_int_equal(
        parse("{\"password\":\"hunter22\",\"email\":\"bob@example.org\"}", LOGIN, &r, &e), 0);
    assert_string_equal(r.email, "bob@example.org");
    assert_string_equal(r.password, "hunter22");
    assert_int_equal(r.password_len, 8);
    assert_null(r.name);
    auth_req_free(&r);

    /* a name in a login body is not read (and not validated) */
    assert_int_equal(
        parse("{\"email\":\"bob@example.org\",\"password\":\"x\",\"name\":5}", LOGIN, &r, &e), 0);
    assert_null(r.name);
    auth_req_free(&r);
}

static void test_email_lowercased(void **state)
{
    auth_req r;
    json_err e;

    (void)state;
    assert_int_equal(parse("{\"email\":\"Alice.Smith+Tag@Example.COM\",\"password\":\"12345678\","
                           "\"name\":\"A\"}",
                           REGISTER, &r, &e),
                     0);
    assert_string_equal(r.email, "alice.smith+tag@example.com");
    auth_req_free(&r);

    assert_int_equal(parse("{\"email\":\"BOB@X.IO\",\"password\":\"p\"}", LOGIN, &r, &e), 0);
    assert_string_equal(r.email, "bob@x.io");
    auth_req_free(&r);
}

static void test_email_length_limits(void **state)
{
    auth_req r;
    json_err e;
    char *local, email[300], *b;

    (void)state;
    /* 254 bytes: the longest accepted */
    local = repeat('a', 249);
    snprintf(email, sizeof email, "%s@x.io", local);
    assert_int_equal(strlen(email), 254);
    b = body3(email, "password1", "N");
    assert_int_equal(parse(b, REGISTER, &r, &e), 0);
    assert_string_equal(r.email, email);
    auth_req_free(&r);
    free(b);
    free(local);

    /* 255 bytes: refused, naming the field */
    local = repeat('a', 250);
    snprintf(email, sizeof email, "%s@x.io", local);
    assert_int_equal(strlen(email), 255);
    b = body3(email, "password1", "N");
    expect_refused(b, REGISTER, "invalid_field", "email", "too long");
    expect_refused(b, LOGIN, "invalid_field", "email", "too long");
    free(b);
    free(local);

    /* the shortest shape, a@b, is accepted */
    b = body3("a@b", "password1", "N");
    assert_int_equal(parse(b, REGISTER, &r, &e), 0);
    auth_req_free(&r);
    free(b);
}

static void test_bad_emails(void **state)
{
    static const char *const bad[] = {
        "",
        "ab",
        "alice.example.com",
        "alice@@example.com",
        "a@b@example.com",
        "@example.com",
        "alice@",
        "@",
        "al ice@example.com",
        " alice@example.com",
        "alice@example.com ",
        "alice@exa mple.com",
        "alice\t@example.com",
        "alice\n@example.com",
        "alice@example.com\r",
        "ali\177ce@example.com",
        "\x1b[31m@example.com",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *b = body3(bad[i], "password1", "Name");
        expect_refused(b, REGISTER, "invalid_field", "email", NULL);
        expect_refused(b, LOGIN, "invalid_field", "email", NULL);
        free(b);
    }
    expect_refused("{\"email\":\"alice.example.com\",\"password\":\"password1\"}", LOGIN,
                   "invalid_field", "email", "not a valid email address");
}

static void test_password_lengths(void **state)
{
    auth_req r;
    json_err e;
    char *pw, *b;

    (void)state;
    /* 7 characters: too short to sign up with, but just a wrong password at login */
    b = body3("a@b.c", "1234567", "N");
    expect_refused(b, REGISTER, "invalid_field", "password", "at least 8");
    assert_int_equal(parse(b, LOGIN, &r, &e), 0);
    assert_int_equal(r.password_len, 7);
    auth_req_free(&r);
    free(b);

    b = body3("a@b.c", "12345678", "N");
    assert_int_equal(parse(b, REGISTER, &r, &e), 0);
    auth_req_free(&r);
    free(b);

    /* login accepts one character, not zero */
    b = body3("a@b.c", "x", NULL);
    assert_int_equal(parse(b, LOGIN, &r, &e), 0);
    assert_int_equal(r.password_len, 1);
    auth_req_free(&r);
    free(b);
    b = body3("a@b.c", "", "N");
    expect_refused(b, LOGIN, "invalid_field", "password", NULL);
    expect_refused(b, REGISTER, "invalid_field", "password", NULL);
    free(b);

    /* 1024 bytes is the most; 1025 is refused for both */
    pw = repeat('p', AUTH_PASSWORD_MAX);
    b = body3("a@b.c", pw, "N");
    assert_int_equal(parse(b, REGISTER, &r, &e), 0);
    assert_int_equal(r.password_len, AUTH_PASSWORD_MAX);
    auth_req_free(&r);
    assert_int_equal(parse(b, LOGIN, &r, &e), 0);
    auth_req_free(&r);
    free(b);
    free(pw);

    pw = repeat('p', AUTH_PASSWORD_MAX + 1);
    b = body3("a@b.c", pw, "N");
    expect_refused(b, REGISTER, "invalid_field", "password", "too long");
    expect_refused(b, LOGIN, "invalid_field", "password", "too long");
    free(b);
    free(pw);

    /* the limit is in bytes: 513 two-byte characters are 1026 bytes */
    pw = malloc(2 * 513 + 1);
    assert_non_null(pw);
    for (int i = 0; i < 513; i++)
        memcpy(pw + 2 * i, "\xc3\xa9", 2);
    pw[2 * 513] = '\0';
    b = body3("a@b.c", pw, "N");
    expect_refused(b, LOGIN, "invalid_field", "password", "too long");
    free(b);
    free(pw);
}

static void test_name_rules(void **state)
{
    auth_req r;
    json_err e;
    char *n, *b;

    (void)state;
    expect_refused("{\"email\":\"a@b.c\",\"password\":\"password1\"}", REGISTER, "invalid_field",
                   "name", "required");
    expect_refused("{\"email\":\"a@b.c\",\"password\":\"password1\",\"name\":null}", REGISTER,
                   "invalid_field", "name", NULL);
    expect_refused("{\"email\":\"a@b.c\",\"password\":\"password1\",\"name\":\"\"}", REGISTER,
                   "invalid_field", "name", NULL);
    expect_refused("{\"email\":\"a@b.c\",\"password\":\"password1\",\"name\":\"Al\\nice\"}",
                   REGISTER, "invalid_field", "name", "control characters");
    expect_refused("{\"email\":\"a@b.c\",\"password\":\"password1\",\"name\":\"Alice\\r\"}",
                   REGISTER, "invalid_field", "name", "control characters");

    n = repeat('n', AUTH_NAME_MAX);
    b = body3("a@b.c", "password1", n);
    assert_int_equal(parse(b, REGISTER, &r, &e), 0);
    assert_int_equal(strlen(r.name), AUTH_NAME_MAX);
    auth_req_free(&r);
    free(b);
    free(n);

    n = repeat('n', AUTH_NAME_MAX + 1);
    b = body3("a@b.c", "password1", n);
    expect_refused(b, REGISTER, "invalid_field", "name", "too long");
    free(b);
    free(n);

    /* non-ASCII names are fine */
    b = body3("a@b.c", "password1", "J\xc3\xbcrgen M\xc3\xbcller");
    assert_int_equal(parse(b, REGISTER, &r, &e), 0);
    assert_string_equal(r.name, "J\xc3\xbcrgen M\xc3\xbcller");
    auth_req_free(&r);
    free(b);
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_refused("{\"email\":42,\"password\":\"password1\",\"name\":\"N\"}", REGISTER,
                   "invalid_field", "email", "must be a string");
    expect_refused("{\"email\":[\"a@b.c\"],\"password\":\"password1\"}", LOGIN, "invalid_field",
                   "email", "must be a string");
    expect_refused("{\"email\":null,\"password\":\"password1\"}", LOGIN, "invalid_field", "email",
                   NULL);
    expect_refused("{\"email\":\"a@b.c\",\"password\":12345678,\"name\":\"N\"}", REGISTER,
                   "invalid_field", "password", "must be a string");
    expect_refused("{\"email\":\"a@b.c\",\"password\":true}", LOGIN, "invalid_field", "password",
                   "must be a string");
    expect_refused("{\"email\":\"a@b.c\",\"password\":{}}", LOGIN, "invalid_field", "password",
                   NULL);
    expect_refused("{\"email\":\"a@b.c\",\"password\":\"password1\",\"name\":[]}", REGISTER,
                   "invalid_field", "name", "must be a string");
    expect_refused("{\"email\":\"a@b.c\",\"password\":\"password1\",\"name\":1.5}", REGISTER,
                   "invalid_field", "name", "must be a string");
}

static void test_missing_fields(void **state)
{
    (void)state;
    expect_refused("{}", REGISTER, "invalid_field", "email", "required");
    expect_refused("{}", LOGIN, "invalid_field", "email", "required");
    expect_refused("{\"password\":\"password1\",\"name\":\"N\"}", REGISTER, "invalid_field",
                   "email", "required");
    expect_refused("{\"email\":\"a@b.c\",\"name\":\"N\"}", REGISTER, "invalid_field", "password",
                   "required");
    expect_refused("{\"email\":\"a@b.c\"}", LOGIN, "invalid_field", "password", "required");
    /* fields are checked in order: email first even when everything is wrong */
    expect_refused("{\"email\":1,\"password\":2,\"name\":3}", REGISTER, "invalid_field", "email",
                   NULL);
}

static void test_not_an_object(void **state)
{
    auth_req r;
    json_err e;

    (void)state;
    expect_refused("", LOGIN, "invalid_json", NULL, NULL);
    expect_refused("[]", LOGIN, "invalid_json", NULL, NULL);
    expect_refused("\"a@b.c\"", LOGIN, "invalid_json", NULL, NULL);
    expect_refused("{\"email\":\"a@b.c\",\"password\":\"p\"", LOGIN, "invalid_json", NULL, NULL);
    expect_refused("{\"email\":\"a@b.c\",\"password\":\"p\"} trailing", LOGIN, "invalid_json", NULL,
                   NULL);
    expect_refused("{\"email\":\"a@b.c\",\"email\":\"x@y.z\",\"password\":\"p\"}", LOGIN,
                   "invalid_json", NULL, NULL);
    /* a NUL is valid JSON; the field reader refuses it and names the field */
    expect_refused("{\"email\":\"a@b.c\",\"password\":\"p\\u0000q\"}", LOGIN, "invalid_field",
                   "password", "NUL");

    /* NULL body with len 0 */
    memset(&e, 0, sizeof e);
    assert_int_equal(auth_req_parse(NULL, 0, LOGIN, &r, &e), -EINVAL);
    assert_string_equal(e.code, "invalid_json");
    auth_req_free(&r);

    /* only len bytes are parsed */
    const char *b = "{\"email\":\"a@b.c\",\"password\":\"p\"}GARBAGE";
    memset(&e, 0, sizeof e);
    assert_int_equal(auth_req_parse(b, strlen(b) - 7, LOGIN, &r, &e), 0);
    auth_req_free(&r);
}

/* A failed parse clears a struct that held garbage, so freeing it is always safe. */
static void test_free_after_failure_on_dirty_struct(void **state)
{
    auth_req r;
    json_err e;

    (void)state;
    memset(&r, 0x5a, sizeof r);
    assert_int_equal(auth_req_parse("{", 1, REGISTER, &r, &e), -EINVAL);
    auth_req_free(&r);
    memset(&r, 0x5a, sizeof r);
    assert_int_equal(
        parse("{\"email\":\"a@b.c\",\"password\":\"short\",\"name\":\"N\"}", REGISTER, &r, &e),
        -EINVAL);
    assert_null(r.root);
    auth_req_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_ok),
        cmocka_unit_test(test_login_ok),
        cmocka_unit_test(test_email_lowercased),
        cmocka_unit_test(test_email_length_limits),
        cmocka_unit_test(test_bad_emails),
        cmocka_unit_test(test_password_lengths),
        cmocka_unit_test(test_name_rules),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_free_after_failure_on_dirty_struct),
    };
    return cmocka_run_group_tests_name("auth_req", tests, NULL, NULL);
}
