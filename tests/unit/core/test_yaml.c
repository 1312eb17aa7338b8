/* Unit tests for src/core/yaml.c: the core-schema typing of scalars, nesting, every refusal
 * (aliases, anchors, tags, duplicate and non-scalar keys, limits, documents, syntax) with
 * the line and column it names, and the file checks of yaml_load_file. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "yaml_load.h"

static char tmpdir[64];
static char file_path[128];
static char err[512];
static json_t *last_doc; /* the document scalar() parsed last */

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cloudya-test-yaml-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(file_path, sizeof file_path, "%s/doc.yaml", tmpdir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    json_decref(last_doc);
    last_doc = NULL;
    unlink(file_path);
    rmdir(tmpdir);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    err[0] = '\0';
    unlink(file_path);
    return 0;
}

static json_t *load_lim(const char *text, const yaml_limits *lim)
{
    json_t *v = (json_t *)1;
    int rc = yaml_load_buf(text, strlen(text), lim, &v, err, sizeof err);
    if (rc != 0)
        fail_msg("yaml_load_buf failed: %d: %s\n--- input:\n%s", rc, err, text);
    assert_non_null(v);
    return v;
}

static json_t *load(const char *text)
{
    return load_lim(text, NULL);
}

/* The load must fail with rc, leave *out NULL and say each of the given words. */
static void refused_lim(const char *text, const yaml_limits *lim, int rc_want, const char *want1,
                        const char *want2)
{
    json_t *v = (json_t *)1;
    int rc = yaml_load_buf(text, strlen(text), lim, &v, err, sizeof err);
    if (rc != rc_want)
        fail_msg("yaml_load_buf returned %d (%s), expected %d\n--- input:\n%s", rc, err, rc_want,
                 text);
    assert_null(v);
    if (want1 != NULL && strstr(err, want1) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, want1);
    if (want2 != NULL && strstr(err, want2) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, want2);
}

static void refused(const char *text, const char *want1, const char *want2)
{
    refused_lim(text, NULL, -EINVAL, want1, want2);
}

/* The value of "v" in the one-key document "v: <text>". */
static json_t *scalar(const char *text)
{
    char buf[256];
    json_decref(last_doc);
    snprintf(buf, sizeof buf, "v: %s\n", text);
    last_doc = load(buf);
    json_t *v = json_object_get(last_doc, "v");
    assert_non_null(v);
    return v;
}

static void write_file(const char *text)
{
    FILE *f = fopen(file_path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* ---- typing ------------------------------------------------------------------------ */

static void test_nulls(void **state)
{
    (void)state;
    assert_true(json_is_null(scalar("")));
    assert_true(json_is_null(scalar("~")));
    assert_true(json_is_null(scalar("null")));
    assert_true(json_is_null(scalar("Null")));
    assert_true(json_is_null(scalar("NULL")));
    assert_true(json_is_string(scalar("nULL")));
    assert_string_equal(json_string_value(scalar("\"null\"")), "null");
    assert_string_equal(json_string_value(scalar("'~'")), "~");
}

static void test_booleans(void **state)
{
    (void)state;
    assert_true(json_is_true(scalar("true")));
    assert_true(json_is_true(scalar("True")));
    assert_true(json_is_true(scalar("TRUE")));
    assert_true(json_is_false(scalar("false")));
    assert_true(json_is_false(scalar("False")));
    assert_true(json_is_false(scalar("FALSE")));
    /* YAML 1.1's yes/no/on/off are plain strings in the core schema */
    assert_string_equal(json_string_value(scalar("yes")), "yes");
    assert_string_equal(json_string_value(scalar("off")), "off");
    assert_string_equal(json_string_value(scalar("tRUE")), "tRUE");
    assert_string_equal(json_string_value(scalar("'true'")), "true");
}

static void test_integers(void **state)
{
    (void)state;
    assert_int_equal(json_integer_value(scalar("0")), 0);
    assert_int_equal(json_integer_value(scalar("42")), 42);
    assert_int_equal(json_integer_value(scalar("+7")), 7);
    assert_int_equal(json_integer_value(scalar("-12")), -12);
    assert_int_equal(json_integer_value(scalar("007")), 7);
    assert_true(json_integer_value(scalar("9223372036854775807")) == INT64_MAX);
    assert_true(json_integer_value(scalar("-9223372036854775808")) == INT64_MIN);
    assert_true(json_is_integer(scalar("65535")));
    /* only decimal: hex, octal and separators stay strings */
    assert_string_equal(json_string_value(scalar("0x1F")), "0x1F");
    assert_string_equal(json_string_value(scalar("0o17")), "0o17");
    assert_string_equal(json_string_value(scalar("1_000")), "1_000");
    assert_string_equal(json_string_value(scalar("12abc")), "12abc");
    assert_string_equal(json_string_value(scalar("\"80\"")), "80");
}

static void test_integer_out_of_range(void **state)
{
    (void)state;
    refused("v: 9223372036854775808\n", "line 1, column 4", "64 bits");
    refused("v: -9223372036854775809\n", "9223372036854775809", NULL);
    refused("a: 1\nb: 99999999999999999999999\n", "line 2, column 4", NULL);
}

static void test_floats(void **state)
{
    (void)state;
    assert_true(json_real_value(scalar("1.5")) == 1.5);
    assert_true(json_real_value(scalar(".5")) == 0.5);
    assert_true(json_real_value(scalar("-.5")) == -0.5);
    assert_true(json_real_value(scalar("1.")) == 1.0);
    assert_true(json_real_value(scalar("1e3")) == 1000.0);
    assert_true(json_real_value(scalar("2.5E-1")) == 0.25);
    assert_true(json_real_value(scalar("+1.25e+2")) == 125.0);
    assert_true(json_is_real(scalar("0.0")));
    assert_string_equal(json_string_value(scalar("1e")), "1e");
    assert_string_equal(json_string_value(scalar(".")), ".");
    assert_string_equal(json_string_value(scalar("1.2.3")), "1.2.3");
    assert_string_equal(json_string_value(scalar("e3")), "e3");
    assert_string_equal(json_string_value(scalar("'1.5'")), "1.5");
}

static void test_nonfinite_refused(void **state)
{
    (void)state;
    refused("v: .inf\n", ".inf", "JSON");
    refused("v: -.Inf\n", "line 1, column 4", NULL);
    refused("v: +.INF\n", "JSON", NULL);
    refused("v: .nan\n", ".nan", NULL);
    refused("v: .NaN\n", NULL, NULL);
    refused("v: 1e999\n", "too large", NULL);
    /* quoted, they are strings */
    assert_string_equal(json_string_value(scalar("\".inf\"")), ".inf");
    assert_string_equal(json_string_value(scalar("'.nan'")), ".nan");
}

static void test_strings(void **state)
{
    json_t *doc;

    (void)state;
    assert_string_equal(json_string_value(scalar("hello world")), "hello world");
    assert_string_equal(json_string_value(scalar("nginx:alpine")), "nginx:alpine");
    assert_string_equal(json_string_value(scalar("\"tab\\there\"")), "tab\there");
    assert_string_equal(json_string_value(scalar("\"caf\\u00e9\"")), "caf\xc3\xa9");
    assert_string_equal(json_string_value(scalar("'it''s'")), "it's");
    assert_string_equal(json_string_value(scalar("d\xc3\xa9j\xc3\xa0 vu")), "d\xc3\xa9j\xc3\xa0 vu");

    doc = load("lit: |\n  a\n  b\nfold: >-\n  c\n  d\n");
    assert_string_equal(json_string_value(json_object_get(doc, "lit")), "a\nb\n");
    assert_string_equal(json_string_value(json_object_get(doc, "fold")), "c d");
    json_decref(doc);
}

static void test_core_tags(void **state)
{
    (void)state;
    assert_string_equal(json_string_value(scalar("!!str 123")), "123");
    assert_string_equal(json_string_value(scalar("!!str true")), "true");
    assert_string_equal(json_string_value(scalar("! 12")), "12");
    assert_int_equal(json_integer_value(scalar("!!int \"12\"")), 12);
    assert_true(json_real_value(scalar("!!float 2")) == 2.0);
    assert_true(json_is_real(scalar("!!float 2")));
    assert_true(json_is_true(scalar("!!bool true")));
    assert_true(json_is_null(scalar("!!null ''")));
    assert_true(json_is_array(scalar("!!seq [1]")));
    assert_true(json_is_object(scalar("!!map {a: 1}")));
    refused("v: !!int abc\n", "!!int", "line 1, column 4");
    refused("v: !!bool yes\n", "!!bool", NULL);
    refused("v: !!null x\n", "!!null", NULL);
    refused("v: !!float 0x10\n", "!!float", NULL);
}

static void test_empty_documents(void **state)
{
    json_t *v;

    (void)state;
    v = load("");
    assert_true(json_is_null(v));
    json_decref(v);
    v = load("# only a comment\n");
    assert_true(json_is_null(v));
    json_decref(v);
    v = load("---\n...\n");
    assert_true(json_is_null(v));
    json_decref(v);
    v = load("just text");
    assert_string_equal(json_string_value(v), "just text");
    json_decref(v);
}

/* ---- structure --------------------------------------------------------------------- */

static void test_nesting(void **state)
{
    json_t *doc, *v;

    (void)state;
    doc = load("%YAML 1.2\n"
               "---\n"
               "services:\n"
               "  web:\n"
               "    ports: [80, 443]\n"
               "    env: {A: b, C: 1}\n"
               "    list:\n"
               "      - x\n"
               "      - - nested\n"
               "        - 2.5\n"
               "      - {k: ~}\n"
               "      -\n"
               "  empty_map: {}\n"
               "  empty_seq: []\n"
               "...\n");
    assert_true(json_is_object(doc));
    v = json_object_get(json_object_get(doc, "services"), "web");
    assert_true(json_is_object(v));
    assert_int_equal(json_array_size(json_object_get(v, "ports")), 2);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(v, "ports"), 1)), 443);
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "env"), "A")), "b");
    json_t *list = json_object_get(v, "list");
    assert_int_equal(json_array_size(list), 4);
    assert_string_equal(json_string_value(json_array_get(list, 0)), "x");
    assert_true(json_real_value(json_array_get(json_array_get(list, 1), 1)) == 2.5);
    assert_true(json_is_null(json_object_get(json_array_get(list, 2), "k")));
    assert_true(json_is_null(json_array_get(list, 3)));
    assert_int_equal(json_object_size(json_object_get(json_object_get(doc, "services"),
                                                      "empty_map")), 0);
    json_decref(doc);

    /* key order is the file's */
    doc = load("z: 1\na: 2\nm: 3\n");
    const char *keys[3], *k;
    size_t i = 0;
    json_object_foreach(doc, k, v) keys[i++] = k;
    assert_string_equal(keys[0], "z");
    assert_string_equal(keys[1], "a");
    assert_string_equal(keys[2], "m");
    json_decref(doc);

    /* keys are their text: an integer-looking key is the string "1" */
    doc = load("1: one\nnull: x\n");
    assert_string_equal(json_string_value(json_object_get(doc, "1")), "one");
    assert_string_equal(json_string_value(json_object_get(doc, "null")), "x");
    json_decref(doc);
}

/* ---- refusals ---------------------------------------------------------------------- */

static void test_alias_and_anchor_refused(void **state)
{
    (void)state;
    refused("a: &x 1\nb: *x\n", "anchors", "line 1, column 4");
    refused("a: &big [1, 2]\n", "&big", NULL);
    refused("base: &b {x: 1}\nother:\n  <<: *b\n", "anchors", NULL);
    refused("- *nothing\n", "aliases", "line 1, column 3");
    refused("&root\nk: v\n", "anchors", NULL);
    /* billion laughs never gets past the first anchor */
    refused("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n", "line 1", NULL);
}

static void test_tags_refused(void **state)
{
    (void)state;
    refused("v: !!python/object:os.system echo\n", "python/object", "not allowed");
    refused("v: !foo bar\n", "!foo", "line 1, column 4");
    refused("v: !!binary aGVsbG8=\n", "binary", NULL);
    refused("v: !!timestamp 2001-12-14\n", "timestamp", NULL);
    refused("v: !<tag:example.com,2000:x> 1\n", "tag:example.com", NULL);
    refused("%TAG !! tag:example.com,2000:\n---\nv: !!str x\n", "tag:example.com", NULL);
    refused("v: !!set {a: ~}\n", "set", NULL);
    refused("v: !!omap [a: 1]\n", "omap", NULL);
    refused("v: !custom [1]\n", "!custom", NULL);
    refused("v: !!map [1]\n", "not allowed on a sequence", NULL);
    refused("v: !!seq x\n", "!!seq", NULL);
    refused("!!python/name:k : v\n", "python", NULL);
}

static void test_duplicate_key_refused(void **state)
{
    (void)state;
    refused("a: 1\nb: 2\na: 3\n", "duplicate key \"a\"", "line 3, column 1");
    refused("x:\n  k: 1\n  k: 2\n", "duplicate key \"k\"", "line 3, column 3");
    refused("{a: 1, a: 2}\n", "duplicate", NULL);
    refused("1: a\n\"1\": b\n", "duplicate key \"1\"", NULL);
    /* the same key in two different mappings is fine */
    json_decref(load("a: {k: 1}\nb: {k: 2}\n"));
}

static void test_non_scalar_key_refused(void **state)
{
    (void)state;
    refused("? [a, b]\n: v\n", "key must be a scalar", "sequence");
    refused("? {a: 1}\n: v\n", "key must be a scalar", "mapping");
    refused("{[1]: x}\n", "key must be a scalar", NULL);
}

static void test_nul_refused(void **state)
{
    (void)state;
    refused("v: \"a\\0b\"\n", "NUL", "line 1, column 4");
    refused("\"k\\0\": 1\n", "NUL", NULL);
}

static void test_multiple_documents_refused(void **state)
{
    (void)state;
    refused("a: 1\n---\nb: 2\n", "one document", "line 2, column 1");
    refused("--- 1\n--- 2\n", "one document", NULL);
    refused("a: 1\n...\n---\n", "one document", NULL);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    refused("a: 1\nb: [1, 2\n", "line 3", NULL);
    refused("a: 1\n  b: 2\n", "line 2", "mapping values are not allowed");
    refused("a: 'unterminated\n", "line 2", NULL);
    refused("a:\n\t- tab\n", "line 2", NULL);
    refused("ok: 1\nbad: \"\\q\"\n", "line 2", "escape");
    refused("v: \xff\xfe\n", "line 1", NULL); /* invalid UTF-8 */
    refused("key: [\n", "line", NULL);
    assert_non_null(strstr(err, "column"));
}

/* ---- limits ------------------------------------------------------------------------ */

static void test_depth_limit(void **state)
{
    const yaml_limits lim = {0, 3, 0};
    char deep[200];

    (void)state;
    json_decref(load_lim("a: {b: [1]}\n", &lim)); /* 3 levels */
    refused_lim("a: {b: [[1]]}\n", &lim, -E2BIG, "deeper than 3", "line 1, column 9");
    refused_lim("a:\n  b:\n    c:\n      d: 1\n", &lim, -E2BIG, "line 4", NULL);

    /* the default is 32 */
    memset(deep, '[', 32);
    memset(deep + 32, ']', 32);
    deep[64] = '\0';
    json_decref(load(deep));
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    deep[66] = '\0';
    refused_lim(deep, NULL, -E2BIG, "deeper than 32", NULL);
}

static void test_deep_flow_input_stops_early(void **state)
{
    size_t n = 512 * 1024;
    char *deep = malloc(n + 1);
    json_t *v = (json_t *)1;

    (void)state;
    assert_non_null(deep);
    memset(deep, '[', n);
    deep[n] = '\0';
    assert_int_equal(yaml_load_buf(deep, n, NULL, &v, err, sizeof err), -E2BIG);
    assert_null(v);
    assert_non_null(strstr(err, "deeper"));
    free(deep);
}

static void test_node_limit(void **state)
{
    const yaml_limits lim = {0, 0, 5};

    (void)state;
    json_decref(load_lim("[1, 2, 3, 4]\n", &lim)); /* the sequence and 4 scalars */
    refused_lim("[1, 2, 3, 4, 5]\n", &lim, -E2BIG, "more than 5 nodes", "line 1, column 14");
    refused_lim("{a: 1, b: 2, c: 3}\n", &lim, -E2BIG, "nodes", NULL); /* keys count */
}

static void test_byte_limit(void **state)
{
    const yaml_limits lim = {10, 0, 0};

    (void)state;
    json_decref(load_lim("a: 1234567", &lim)); /* exactly 10 bytes */
    refused_lim("a: 12345678", &lim, -E2BIG, "11 bytes", "limit of 10");
}

static void test_err_may_be_null(void **state)
{
    json_t *v = (json_t *)1;

    (void)state;
    assert_int_equal(yaml_load_buf("a: *x", 5, NULL, &v, NULL, 0), -EINVAL);
    assert_null(v);
    assert_int_equal(yaml_load_buf("a: 1", 4, NULL, &v, NULL, 0), 0);
    json_decref(v);
}

/* ---- files ------------------------------------------------------------------------- */

static void test_file_ok(void **state)
{
    json_t *v = NULL;

    (void)state;
    write_file("name: demo\nport: 8080\n");
    assert_int_equal(yaml_load_file(file_path, NULL, &v, err, sizeof err), 0);
    assert_int_equal(json_integer_value(json_object_get(v, "port")), 8080);
    json_decref(v);

    write_file("");
    assert_int_equal(yaml_load_file(file_path, NULL, &v, err, sizeof err), 0);
    assert_true(json_is_null(v));
    json_decref(v);
}

static void test_file_errors_name_the_file(void **state)
{
    json_t *v = (json_t *)1;

    (void)state;
    write_file("a: 1\na: 2\n");
    assert_int_equal(yaml_load_file(file_path, NULL, &v, err, sizeof err), -EINVAL);
    assert_null(v);
    assert_non_null(strstr(err, file_path));
    assert_non_null(strstr(err, "line 2, column 1"));
    assert_non_null(strstr(err, "duplicate key"));
}

static void test_file_too_large(void **state)
{
    const yaml_limits lim = {16, 0, 0};
    json_t *v = (json_t *)1;

    (void)state;
    write_file("a: 1\nb: 2\nc: 3\nd: 4\n"); /* 20 bytes */
    assert_int_equal(yaml_load_file(file_path, &lim, &v, err, sizeof err), -E2BIG);
    assert_null(v);
    assert_non_null(strstr(err, file_path));
    assert_non_null(strstr(err, "20 bytes"));
}

static void test_file_directory_refused(void **state)
{
    json_t *v = (json_t *)1;

    (void)state;
    assert_int_equal(yaml_load_file(tmpdir, NULL, &v, err, sizeof err), -EISDIR);
    assert_null(v);
    assert_non_null(strstr(err, tmpdir));
    assert_non_null(strstr(err, "directory"));
}

static void test_file_device_refused(void **state)
{
    json_t *v = (json_t *)1;

    (void)state;
    assert_int_equal(yaml_load_file("/dev/zero", NULL, &v, err, sizeof err), -EINVAL);
    assert_null(v);
    assert_non_null(strstr(err, "/dev/zero"));
    assert_non_null(strstr(err, "not a regular file"));
}

static void test_file_fifo_refused_without_blocking(void **state)
{
    char fifo[160];
    json_t *v = (json_t *)1;

    (void)state;
    snprintf(fifo, sizeof fifo, "%s/fifo", tmpdir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int rc = yaml_load_file(fifo, NULL, &v, err, sizeof err);
    unlink(fifo);
    assert_int_equal(rc, -EINVAL);
    assert_null(v);
    assert_non_null(strstr(err, "not a regular file"));
}

static void test_file_missing(void **state)
{
    char missing[160];
    json_t *v = (json_t *)1;

    (void)state;
    snprintf(missing, sizeof missing, "%s/nope.yaml", tmpdir);
    assert_int_equal(yaml_load_file(missing, NULL, &v, err, sizeof err), -ENOENT);
    assert_null(v);
    assert_non_null(strstr(err, missing));
    assert_non_null(strstr(err, "No such file"));
}

static void test_file_unreadable(void **state)
{
    json_t *v = (json_t *)1;

    (void)state;
    if (geteuid() == 0)
        skip(); /* root reads through permissions */
    write_file("a: 1\n");
    assert_int_equal(chmod(file_path, 0), 0);
    assert_int_equal(yaml_load_file(file_path, NULL, &v, err, sizeof err), -EACCES);
    assert_null(v);
    assert_non_null(strstr(err, file_path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_nulls, setup),
        cmocka_unit_test_setup(test_booleans, setup),
        cmocka_unit_test_setup(test_integers, setup),
        cmocka_unit_test_setup(test_integer_out_of_range, setup),
        cmocka_unit_test_setup(test_floats, setup),
        cmocka_unit_test_setup(test_nonfinite_refused, setup),
        cmocka_unit_test_setup(test_strings, setup),
        cmocka_unit_test_setup(test_core_tags, setup),
        cmocka_unit_test_setup(test_empty_documents, setup),
        cmocka_unit_test_setup(test_nesting, setup),
        cmocka_unit_test_setup(test_alias_and_anchor_refused, setup),
        cmocka_unit_test_setup(test_tags_refused, setup),
        cmocka_unit_test_setup(test_duplicate_key_refused, setup),
        cmocka_unit_test_setup(test_non_scalar_key_refused, setup),
        cmocka_unit_test_setup(test_nul_refused, setup),
        cmocka_unit_test_setup(test_multiple_documents_refused, setup),
        cmocka_unit_test_setup(test_syntax_errors, setup),
        cmocka_unit_test_setup(test_depth_limit, setup),
        cmocka_unit_test_setup(test_deep_flow_input_stops_early, setup),
        cmocka_unit_test_setup(test_node_limit, setup),
        cmocka_unit_test_setup(test_byte_limit, setup),
        cmocka_unit_test_setup(test_err_may_be_null, setup),
        cmocka_unit_test_setup(test_file_ok, setup),
        cmocka_unit_test_setup(test_file_errors_name_the_file, setup),
        cmocka_unit_test_setup(test_file_too_large, setup),
        cmocka_unit_test_setup(test_file_directory_refused, setup),
        cmocka_unit_test_setup(test_file_device_refused, setup),
        cmocka_unit_test_setup(test_file_fifo_refused_without_blocking, setup),
        cmocka_unit_test_setup(test_file_missing, setup),
        cmocka_unit_test_setup(test_file_unreadable, setup),
    };
    return cmocka_run_group_tests_name("yaml", tests, group_setup, group_teardown);
}
