/* Unit tests for src/host/redact.c: what `diagnose --explain` masks before the findings
 * leave the machine, and what it leaves alone so the explanation still has the facts. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

/* Redacts a copy of in and checks it equals want; returns the count. */
static size_t check(const char *in, const char *want, const char *const *lit, size_t n)
{
    char buf[2048];
    snprintf(buf, sizeof(buf), "%s", in);
    size_t c = redact_text(buf, lit, n);
    if (strcmp(buf, want) != 0)
        fail_msg("redact(\"%s\") = \"%s\", want \"%s\"", in, buf, want);
    assert_true(strlen(buf) <= strlen(in));
    return c;
}

static void test_key_values(void **state)
{
    (void)state;
    assert_int_equal(check("password=hunter22 user=bob", "password=*** user=bob", NULL, 0), 1);
    check("DB_PASSWORD: s3cr3t!", "DB_PASSWORD: ***", NULL, 0);
    check("{\"client_secret\": \"abc def\"}", "{\"client_secret\": \"***\"}", NULL, 0);
    check("api_key='xyz123', next", "api_key='***', next", NULL, 0);
    check("X-Auth-Token: 0123abcd", "X-Auth-Token: ***", NULL, 0);
    check("aws_secret_access_key = wJalrXUtnFEMI", "aws_secret_access_key = ***", NULL, 0);
    check("pw=ab", "pw=ab", NULL, 0); /* "pw" is not a secret word */
    check("pass=ab", "pass=**", NULL, 0); /* shorter values never grow the text */
}

static void test_left_alone(void **state)
{
    (void)state;
    const char *keep[] = {
        "nginx: [emerg] unknown directive \"foo\" in /tmp/x/nginx.conf:12",
        "Authentication failed for user bob",
        "/ is 97% full (310 MiB free)",
        "load 0.52 0.58 0.59 on 2 cores",
        "Error: Invalid value for variable \"instance_type\"",
        "token",
        "",
    };
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        assert_int_equal(check(keep[i], keep[i], NULL, 0), 0);
}

static void test_shapes(void **state)
{
    (void)state;
    check("https://admin:pa55@db.example:5432/x ok", "https://***@db.example:5432/x ok", NULL, 0);
    check("git clone https://github.com/x/y", "git clone https://github.com/x/y", NULL, 0);
    check("key AKIAIOSFODNN7EXAMPLE used", "key *** used", NULL, 0);
    check("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "Authorization: Bearer ***", NULL,
          0);
    /* long hex ids look like keys: masked too (the explanation does not need them) */
    check("/var/lib/docker/overlay2/3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e/merged",
          "/var/lib/docker/overlay2/***/merged", NULL, 0);
    check("id 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 end",
          "id *** end", NULL, 0);
    check("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\n",
          "-----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY-----\n", NULL, 0);
}

static void test_literals(void **state)
{
    (void)state;
    const char *lit[] = {"Tr0ub4dor&3", "abc", NULL, "pve-token-uuid"};
    assert_int_equal(check("login Tr0ub4dor&3 failed; again Tr0ub4dor&3",
                           "login *** failed; again ***", lit, 4),
                     2);
    check("abc is too short to search", "abc is too short to search", lit, 4);
    check("id=pve-token-uuid", "id=***", lit, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_values),
        cmocka_unit_test(test_left_alone),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
