/* Unit tests for src/cli/cli_config.c (the user's config.ini) and the pure helpers of
 * src/cli/client.c (secret masking for CLOUDYA_DEBUG, URL escaping). Files are made in a
 * fresh temporary folder per test. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_config.h"
#include "client.h"

/* cmd_*.c are not linked here; the table the library's parser refers to is empty. */
const struct cli_command *const cli_groups[] = {NULL};

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/cloudya-cfg-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *name, const char *text)
{
    char p[400];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *name)
{
    static char out[8192];
    char p[400];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

static void test_home_from_env(void **state)
{
    (void)state;
    char out[256], err[256];
    setenv("CLOUDYA_HOME", "/x/y", 1);
    assert_int_equal(cli_config_home(out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "/x/y");
    setenv("CLOUDYA_HOME", "", 1);
    setenv("HOME", "/home/u", 1);
    assert_int_equal(cli_config_home(out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "/home/u/.cloudya");
    unsetenv("HOME");
    unsetenv("CLOUDYA_HOME");
    assert_int_equal(cli_config_home(out, sizeof(out), err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "HOME"));
    setenv("CLOUDYA_HOME", "/a/very/long/path/indeed", 1);
    assert_int_equal(cli_config_home(out, 8, err, sizeof(err)), -ENAMETOOLONG);
    unsetenv("CLOUDYA_HOME");
}

static void test_load_missing_file_is_empty(void **state)
{
    (void)state;
    char url[64] = "x", token[64] = "y", err[256];
    assert_int_equal(cli_config_load(dir, url, sizeof(url), token, sizeof(token), err, sizeof(err)), 0);
    assert_string_equal(url, "");
    assert_string_equal(token, "");
}

static void test_set_creates_private_file_and_load_reads_it(void **state)
{
    (void)state;
    char home[300], err[256], url[128], token[128];
    snprintf(home, sizeof(home), "%s/home", dir);
    assert_int_equal(cli_config_set(home, "api", "url", "http://h:5000", err, sizeof(err)), 0);
    assert_int_equal(cli_config_set(home, "auth", "token", "abc.def.ghi", err, sizeof(err)), 0);
    struct stat st;
    assert_int_equal(stat(home, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char p[400];
    snprintf(p, sizeof(p), "%s/config.ini", home);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(cli_config_load(home, url, sizeof(url), token, sizeof(token), err, sizeof(err)), 0);
    assert_string_equal(url, "http://h:5000");
    assert_string_equal(token, "abc.def.ghi");
    /* replace, then remove */
    assert_int_equal(cli_config_set(home, "api", "url", "https://other", err, sizeof(err)), 0);
    assert_int_equal(cli_config_set(home, "auth", "token", NULL, err, sizeof(err)), 0);
    assert_int_equal(cli_config_load(home, url, sizeof(url), token, sizeof(token), err, sizeof(err)), 0);
    assert_string_equal(url, "https://other");
    assert_string_equal(token, "");
}

static void test_set_keeps_comments_sections_and_other_keys(void **state)
{
    (void)state;
    char err[256];
    write_text("config.ini", "; mine\n[api]\n# note\nurl = http://old\ntimeout = 5\n\n"
                             "[other]\nk = v\n");
    assert_int_equal(cli_config_set(dir, "api", "url", "http://new", err, sizeof(err)), 0);
    assert_string_equal(read_text("config.ini"), "; mine\n[api]\n# note\nurl = http://new\n"
                                                 "timeout = 5\n\n[other]\nk = v\n");
    /* a key the section lacks goes after its last line; a new section at the end */
    assert_int_equal(cli_config_set(dir, "other", "z", "1", err, sizeof(err)), 0);
    assert_int_equal(cli_config_set(dir, "auth", "token", "t", err, sizeof(err)), 0);
    assert_string_equal(read_text("config.ini"), "; mine\n[api]\n# note\nurl = http://new\n"
                                                 "timeout = 5\n\n[other]\nk = v\nz = 1\n\n"
                                                 "[auth]\ntoken = t\n");
    assert_int_equal(cli_config_set(dir, "api", "timeout", NULL, err, sizeof(err)), 0);
    assert_null(strstr(read_text("config.ini"), "timeout"));
}

static void test_set_inserts_into_an_existing_section(void **state)
{
    (void)state;
    char err[256];
    write_text("config.ini", "[auth]\ntoken = a\n\n[api]\n");
    assert_int_equal(cli_config_set(dir, "api", "url", "http://u", err, sizeof(err)), 0);
    assert_string_equal(read_text("config.ini"), "[auth]\ntoken = a\n\n[api]\nurl = http://u\n");
}

static void test_bad_files_are_named(void **state)
{
    (void)state;
    char url[64], token[64], err[256];
    write_text("config.ini", "[api]\nurl = x\n[broken\n");
    assert_int_equal(cli_config_load(dir, url, sizeof(url), token, sizeof(token), err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "line 3"));
    /* a value longer than the caller's buffer is an error, not a truncated URL */
    write_text("config.ini", "[api]\nurl = http://0123456789012345678901234567890123456789012345678901234567890123456789\n");
    assert_int_equal(cli_config_load(dir, url, sizeof(url), token, sizeof(token), err, sizeof(err)),
                     -EINVAL);
    /* too large: refused before parsing */
    char p[400];
    snprintf(p, sizeof(p), "%s/config.ini", dir);
    FILE *f = fopen(p, "w");
    for (unsigned i = 0; i < CLI_CONFIG_MAX / 16 + 10; i++)
        fputs("; padding .....\n", f);
    fclose(f);
    assert_int_equal(cli_config_load(dir, url, sizeof(url), token, sizeof(token), err, sizeof(err)),
                     -EFBIG);
    assert_non_null(strstr(err, "larger than"));
    /* values with line breaks cannot be stored */
    assert_int_equal(cli_config_set(dir, "api", "url", "a\nb", err, sizeof(err)), -EINVAL);
}

static void test_mask_secrets(void **state)
{
    (void)state;
    const char *in = "{\"email\":\"a@b\",\"password\":\"hunter2\",\"token\" : \"x.y.z\","
                     "\"user\":{\"name\":\"token\"},\"ticket\":\"t\\\"q\"}";
    char *m = client_mask_secrets(in, strlen(in));
    assert_string_equal(m, "{\"email\":\"a@b\",\"password\":\"***\",\"token\" : \"***\","
                           "\"user\":{\"name\":\"token\"},\"ticket\":\"***\"}");
    free(m);
    const char *h = "Authorization: Bearer secret\r\nAccept: x";
    m = client_mask_secrets(h, strlen(h));
    assert_string_equal(m, "Authorization: ***\r\nAccept: x");
    free(m);
    /* a cut body: no overrun */
    const char *cut = "{\"password\":\"abc";
    m = client_mask_secrets(cut, strlen(cut));
    assert_string_equal(m, "{\"password\":\"***\"");
    free(m);
}

static void test_url_escape(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(url_escape("site-1_a.b~", out, sizeof(out)), 0);
    assert_string_equal(out, "site-1_a.b~");
    assert_int_equal(url_escape("a/b?c d%", out, sizeof(out)), 0);
    assert_string_equal(out, "a%2Fb%3Fc%20d%25");
    assert_int_equal(url_escape("\xc3\xa9", out, sizeof(out)), 0);
    assert_string_equal(out, "%C3%A9");
    assert_int_equal(url_escape("abcd", out, 4), -ENOSPC);
    assert_int_equal(url_escape("abc", out, 4), 0);
    assert_int_equal(url_escape("//", out, 6), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_home_from_env),
        cmocka_unit_test_setup_teardown(test_load_missing_file_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_creates_private_file_and_load_reads_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_keeps_comments_sections_and_other_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_inserts_into_an_existing_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files_are_named, setup, teardown),
        cmocka_unit_test(test_mask_secrets),
        cmocka_unit_test(test_url_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
