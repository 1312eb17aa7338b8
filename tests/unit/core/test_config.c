/* Unit tests for src/core/config.c: defaults, environment overrides, the INI file, the
 * precedence between them and the validation sentences. Every test starts from an
 * environment with none of the configuration variables set. */
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
#include <unistd.h>

#include "config.h"

static const char *const env_keys[] = {
    "HOST",
    "PORT",
    "CLOUDYA_DATA_DIR",
    "DATABASE_URL",
    "JWT_SECRET",
    "DOCKER_SOCKET",
    "CLOUDYA_ADMIN_EMAIL",
    "CLOUDYA_ADMIN_PASSWORD",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "CLOUDYA_HTTP_THREADS",
    "CLOUDYA_HTTP_WORKERS",
    "CLOUDYA_MAX_CONNECTIONS",
    "CLOUDYA_MAX_CONNECTIONS_PER_IP",
    "CLOUDYA_CONNECTION_TIMEOUT",
    "CLOUDYA_QUOTA_CONTAINERS",
    "CLOUDYA_QUOTA_MEMORY_MB",
    "CLOUDYA_QUOTA_CPUS",
    "CLOUDYA_LOGIN_MAX_FAILURES",
    "CLOUDYA_LOGIN_MAX_FAILURES_IP",
    "CLOUDYA_LOGIN_WINDOW",
    "CLOUDYA_HASH_CONCURRENCY",
    "CLOUDYA_TOKEN_TTL",
};

static char tmpdir[64];
static char ini_path[128];
static config cfg;
static char err[512];

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cloudya-test-config-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) return -1;
    snprintf(ini_path, sizeof ini_path, "%s/cloudyad.ini", tmpdir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(ini_path);
    rmdir(tmpdir);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof env_keys / sizeof env_keys[0]; i++)
        unsetenv(env_keys[i]);
    memset(&cfg, 0xa5, sizeof cfg);
    err[0] = '\0';
    unlink(ini_path);
    return 0;
}

static void write_ini(const char *text)
{
    FILE *f = fopen(ini_path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void load_ok(const char *ini)
{
    int rc = config_load(&cfg, ini, err, sizeof err);
    if (rc != 0) fail_msg("config_load failed: %d: %s", rc, err);
}

/* config_load must fail with -EINVAL and a message containing each of the given words. */
static void load_fails(const char *ini, const char *want1, const char *want2)
{
    int rc = config_load(&cfg, ini, err, sizeof err);
    if (rc != -EINVAL) fail_msg("config_load returned %d, expected -EINVAL", rc);
    if (want1 != NULL && strstr(err, want1) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, want1);
    if (want2 != NULL && strstr(err, want2) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, want2);
}

static void env(const char *k, const char *v)
{
    assert_int_equal(setenv(k, v, 1), 0);
}

/* ---- defaults ---------------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    load_ok(NULL);
    assert_int_equal(cfg.port, 5000);
    assert_string_equal(cfg.host, "0.0.0.0");
    assert_string_equal(cfg.data_dir, "./data");
    assert_string_equal(cfg.database_url, "sqlite://./data/cloudya.db");
    assert_string_equal(cfg.jwt_secret, "");
    assert_string_equal(cfg.docker_socket, "/var/run/docker.sock");
    assert_string_equal(cfg.admin_email, "");
    assert_string_equal(cfg.admin_password, "");
    assert_string_equal(cfg.log_level, "info");
    assert_string_equal(cfg.log_format, "logfmt");
    assert_int_equal(cfg.http_threads, 0);
    assert_int_equal(cfg.http_workers, 8);
    assert_int_equal(cfg.max_connections, 4096);
    assert_int_equal(cfg.max_connections_per_ip, 512);
    assert_int_equal(cfg.connection_timeout, 60);
    assert_int_equal(cfg.quota_containers, 10);
    assert_int_equal(cfg.quota_memory_mb, 2048);
    assert_true(cfg.quota_cpus == 2.0);
    assert_int_equal(cfg.login_max_failures, 5);
    assert_int_equal(cfg.login_max_failures_ip, 20);
    assert_int_equal(cfg.login_window, 900);
    assert_int_equal(cfg.hash_concurrency, 0);
    assert_int_equal(cfg.token_ttl, 86400);
}

static void test_database_url_derived_from_data_dir(void **state)
{
    (void)state;
    env("CLOUDYA_DATA_DIR", "/srv/cloudya");
    load_ok(NULL);
    assert_string_equal(cfg.data_dir, "/srv/cloudya");
    assert_string_equal(cfg.database_url, "sqlite:///srv/cloudya/cloudya.db");

    /* an explicit DATABASE_URL is not overwritten */
    env("DATABASE_URL", "sqlite:///var/lib/other.db");
    load_ok(NULL);
    assert_string_equal(cfg.database_url, "sqlite:///var/lib/other.db");
}

static void test_data_dir_too_long_for_url(void **state)
{
    char dir[1100];

    (void)state;
    memset(dir, 'd', sizeof dir - 1);
    dir[0] = '/';
    dir[sizeof dir - 1] = '\0';
    env("CLOUDYA_DATA_DIR", dir);
    load_fails(NULL, "CLOUDYA_DATA_DIR", NULL);
}

/* ---- environment ------------------------------------------------------------------- */

static void test_env_overrides(void **state)
{
    (void)state;
    env("PORT", "8080");
    env("HOST", "127.0.0.1");
    env("LOG_LEVEL", "debug");
    env("LOG_FORMAT", "json");
    env("DOCKER_SOCKET", "/run/podman/podman.sock");
    env("CLOUDYA_TOKEN_TTL", "3600");
    env("CLOUDYA_HTTP_WORKERS", "4");
    env("CLOUDYA_LOGIN_MAX_FAILURES", "3");
    env("JWT_SECRET", "0123456789abcdef0123456789abcdef");
    load_ok(NULL);
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.host, "127.0.0.1");
    assert_string_equal(cfg.log_level, "debug");
    assert_string_equal(cfg.log_format, "json");
    assert_string_equal(cfg.docker_socket, "/run/podman/podman.sock");
    assert_int_equal(cfg.token_ttl, 3600);
    assert_int_equal(cfg.http_workers, 4);
    assert_int_equal(cfg.login_max_failures, 3);
    assert_string_equal(cfg.jwt_secret, "0123456789abcdef0123456789abcdef");
}

static void test_port_errors(void **state)
{
    (void)state;
    env("PORT", "abc");
    load_fails(NULL, "PORT", "number");
    env("PORT", "0");
    load_fails(NULL, "PORT must be between 1 and 65535", NULL);
    env("PORT", "70000");
    load_fails(NULL, "PORT must be between 1 and 65535", "70000");
    env("PORT", "");
    load_fails(NULL, "PORT", NULL);
    env("PORT", "80 ");
    load_fails(NULL, "PORT", NULL);
    env("PORT", "-1");
    load_fails(NULL, "PORT", NULL);
    env("PORT", "65535");
    load_ok(NULL);
    assert_int_equal(cfg.port, 65535);
    env("PORT", "1");
    load_ok(NULL);
    assert_int_equal(cfg.port, 1);
}

static void test_jwt_secret_length(void **state)
{
    char s[CONFIG_SECRET_MAX + 2];

    (void)state;
    env("JWT_SECRET", "0123456789abcdef0123456789abcde"); /* 31 */
    load_fails(NULL, "JWT_SECRET", "too short");
    env("JWT_SECRET", "short");
    load_fails(NULL, "JWT_SECRET", NULL);

    env("JWT_SECRET", "0123456789abcdef0123456789abcdef"); /* 32 */
    load_ok(NULL);
    assert_int_equal(strlen(cfg.jwt_secret), 32);

    memset(s, 'k', CONFIG_SECRET_MAX);
    s[CONFIG_SECRET_MAX] = '\0';
    env("JWT_SECRET", s);
    load_ok(NULL);
    assert_int_equal(strlen(cfg.jwt_secret), CONFIG_SECRET_MAX);

    s[CONFIG_SECRET_MAX] = 'k';
    s[CONFIG_SECRET_MAX + 1] = '\0';
    env("JWT_SECRET", s);
    load_fails(NULL, "JWT_SECRET", "too long");

    /* empty means "generate one" */
    env("JWT_SECRET", "");
    load_ok(NULL);
    assert_string_equal(cfg.jwt_secret, "");
}

static void test_database_url_backends(void **state)
{
    (void)state;
    env("DATABASE_URL", "postgresql://cloudya:pw@db:5432/cloudya");
    load_ok(NULL);
    assert_string_equal(cfg.database_url, "postgresql://cloudya:pw@db:5432/cloudya");
    env("DATABASE_URL", "postgres://cloudya@db/cloudya?sslmode=verify-full");
    load_ok(NULL);
    env("DATABASE_URL", "mysql://cloudya:pw@db/cloudya");
    load_fails(NULL, "DATABASE_URL", "sqlite://");
    env("DATABASE_URL", "sqlite://");
    load_fails(NULL, "DATABASE_URL", NULL);
    env("DATABASE_URL", "/var/lib/cloudya.db");
    load_fails(NULL, "DATABASE_URL", NULL);
    env("DATABASE_URL", "sqlite://./x.db");
    load_ok(NULL);
    assert_string_equal(cfg.database_url, "sqlite://./x.db");
}

static void test_log_level_and_format(void **state)
{
    (void)state;
    env("LOG_LEVEL", "verbose");
    load_fails(NULL, "LOG_LEVEL", "verbose");
    env("LOG_LEVEL", "");
    load_fails(NULL, "LOG_LEVEL", NULL);
    env("LOG_LEVEL", "warn");
    load_ok(NULL);
    env("LOG_LEVEL", "ERROR");
    load_ok(NULL);
    unsetenv("LOG_LEVEL");

    env("LOG_FORMAT", "xml");
    load_fails(NULL, "LOG_FORMAT", "xml");
    env("LOG_FORMAT", "");
    load_fails(NULL, "LOG_FORMAT", NULL);
    env("LOG_FORMAT", "json");
    load_ok(NULL);
    env("LOG_FORMAT", "logfmt");
    load_ok(NULL);
}

static void test_quota_cpus(void **state)
{
    (void)state;
    env("CLOUDYA_QUOTA_CPUS", "1.5");
    load_ok(NULL);
    assert_true(cfg.quota_cpus == 1.5);
    env("CLOUDYA_QUOTA_CPUS", "0.25");
    load_ok(NULL);
    assert_true(cfg.quota_cpus == 0.25);
    env("CLOUDYA_QUOTA_CPUS", "nan");
    load_fails(NULL, "CLOUDYA_QUOTA_CPUS", NULL);
    env("CLOUDYA_QUOTA_CPUS", "inf");
    load_fails(NULL, "CLOUDYA_QUOTA_CPUS", NULL);
    env("CLOUDYA_QUOTA_CPUS", "-1");
    load_fails(NULL, "CLOUDYA_QUOTA_CPUS", NULL);
    env("CLOUDYA_QUOTA_CPUS", "4097");
    load_fails(NULL, "CLOUDYA_QUOTA_CPUS", NULL);
    env("CLOUDYA_QUOTA_CPUS", "two");
    load_fails(NULL, "CLOUDYA_QUOTA_CPUS", NULL);
}

static void test_int_bounds(void **state)
{
    (void)state;
    env("CLOUDYA_TOKEN_TTL", "59");
    load_fails(NULL, "CLOUDYA_TOKEN_TTL", NULL);
    unsetenv("CLOUDYA_TOKEN_TTL");
    env("CLOUDYA_HASH_CONCURRENCY", "65");
    load_fails(NULL, "CLOUDYA_HASH_CONCURRENCY", NULL);
    unsetenv("CLOUDYA_HASH_CONCURRENCY");
    env("CLOUDYA_LOGIN_WINDOW", "0");
    load_fails(NULL, "CLOUDYA_LOGIN_WINDOW", NULL);
    unsetenv("CLOUDYA_LOGIN_WINDOW");
    env("CLOUDYA_HTTP_WORKERS", "99999999999999999999");
    load_fails(NULL, "CLOUDYA_HTTP_WORKERS", NULL);
}

static void test_admin_password(void **state)
{
    (void)state;
    env("CLOUDYA_ADMIN_EMAIL", "admin@example.com");
    env("CLOUDYA_ADMIN_PASSWORD", "1234567");
    load_fails(NULL, "CLOUDYA_ADMIN_PASSWORD", NULL);
    env("CLOUDYA_ADMIN_PASSWORD", "12345678");
    load_ok(NULL);
    assert_string_equal(cfg.admin_email, "admin@example.com");
    assert_string_equal(cfg.admin_password, "12345678");
}

static void test_empty_required_strings(void **state)
{
    (void)state;
    env("HOST", "");
    load_fails(NULL, "HOST", NULL);
    unsetenv("HOST");
    env("CLOUDYA_DATA_DIR", "");
    load_fails(NULL, "CLOUDYA_DATA_DIR", NULL);
    unsetenv("CLOUDYA_DATA_DIR");
    env("DOCKER_SOCKET", "");
    load_fails(NULL, "DOCKER_SOCKET", NULL);
}

/* ---- INI file ---------------------------------------------------------------------- */

static void test_ini_basic(void **state)
{
    (void)state;
    write_ini("; Cloudya configuration\n"
              "PORT = 6001\n"
              "[server]\n"
              "host=::1\n"
              "Log_Level = warn\n"
              "[anything]\n"
              "# another comment\n"
              "cloudya_data_dir = /var/lib/cloudya\n"
              "CLOUDYA_QUOTA_CPUS = 0.5\n"
              "jwt_secret = abcdefghijklmnopqrstuvwxyz0123456789\n");
    load_ok(ini_path);
    assert_int_equal(cfg.port, 6001);
    assert_string_equal(cfg.host, "::1");
    assert_string_equal(cfg.log_level, "warn");
    assert_string_equal(cfg.data_dir, "/var/lib/cloudya");
    assert_string_equal(cfg.database_url, "sqlite:///var/lib/cloudya/cloudya.db");
    assert_true(cfg.quota_cpus == 0.5);
    assert_string_equal(cfg.jwt_secret, "abcdefghijklmnopqrstuvwxyz0123456789");
    /* untouched keys keep their defaults */
    assert_string_equal(cfg.log_format, "logfmt");
    assert_int_equal(cfg.token_ttl, 86400);
}

static void test_ini_empty_file(void **state)
{
    (void)state;
    write_ini("");
    load_ok(ini_path);
    assert_int_equal(cfg.port, 5000);
}

static void test_env_wins_over_file(void **state)
{
    (void)state;
    write_ini("PORT = 6001\nHOST = 10.0.0.1\nLOG_FORMAT = json\n");
    env("PORT", "7001");
    env("LOG_FORMAT", "logfmt");
    load_ok(ini_path);
    assert_int_equal(cfg.port, 7001);
    assert_string_equal(cfg.log_format, "logfmt");
    assert_string_equal(cfg.host, "10.0.0.1"); /* from the file, not in the environment */

    /* an invalid file value is still an error even when the environment would override */
    write_ini("PORT = nope\n");
    load_fails(ini_path, "PORT", NULL);
}

static void test_ini_unknown_key(void **state)
{
    (void)state;
    write_ini("PORT = 6001\n[x]\nFrobnicate = 1\n");
    load_fails(ini_path, "Frobnicate", "unknown key");
    assert_non_null(strstr(err, ini_path));
    assert_non_null(strstr(err, "line 3"));
}

static void test_ini_bad_value(void **state)
{
    (void)state;
    write_ini("\n\nport = 99999\n");
    load_fails(ini_path, "PORT must be between 1 and 65535", "line 3");
    assert_non_null(strstr(err, ini_path));
}

static void test_ini_syntax_error(void **state)
{
    (void)state;
    write_ini("PORT = 6001\nthis line has no equals sign\n");
    load_fails(ini_path, "syntax error", "line 2");
    assert_non_null(strstr(err, ini_path));

    write_ini("[unclosed\nPORT = 6001\n");
    load_fails(ini_path, "line 1", NULL);
}

static void test_ini_unreadable(void **state)
{
    char missing[160];

    (void)state;
    snprintf(missing, sizeof missing, "%s/does-not-exist.ini", tmpdir);
    load_fails(missing, "cannot read", missing);
    assert_non_null(strstr(err, "No such file"));
}

/* A directory opens for reading on Linux but every read fails with EISDIR; it must not be
 * taken for an empty configuration (fail closed). */
static void test_ini_directory_refused(void **state)
{
    (void)state;
    int rc = config_load(&cfg, tmpdir, err, sizeof err);
    if (rc == 0) fail_msg("config_load(\"%s\") on a directory succeeded with the defaults", tmpdir);
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(err, tmpdir));
}

/* inih reads a line into a 200-byte buffer and parses whatever does not fit as the next
 * line. A value of 300 characters must therefore be read whole or refused with an error
 * that points at the line (and key) the user wrote, not at a line 2 that does not exist. */
static void test_ini_long_value_error_names_line(void **state)
{
    char text[400], secret[301];

    (void)state;
    memset(secret, 's', 300);
    secret[300] = '\0';
    snprintf(text, sizeof text, "JWT_SECRET = %s\n", secret);
    write_ini(text);
    int rc = config_load(&cfg, ini_path, err, sizeof err);
    if (rc == 0 && strcmp(cfg.jwt_secret, secret) != 0)
        fail_msg("JWT_SECRET from the file was cut to %zu characters without an error",
                 strlen(cfg.jwt_secret));
    if (rc != 0 && strstr(err, "line 1") == NULL)
        fail_msg("a one-line file was refused with: %s", err);
}

/* Worse, when the cut falls on a space the tail is taken as a continuation line and
 * replaces the value, and when it falls on ';' or '#' the tail is taken as a comment: in
 * both cases config_load succeeds with a JWT_SECRET that is not the one in the file.
 * "JWT_SECRET = " is 13 characters, so the secret's character 186 is where the cut falls. */
static void test_ini_long_value_never_silently_changed(void **state)
{
    static const char seps[] = {' ', ';', '#', '\t'};
    char text[400], secret[260];

    char report[512] = "";
    size_t used = 0;

    (void)state;
    for (size_t i = 0; i < sizeof seps; i++) {
        memset(secret, 'a', 186);
        secret[186] = seps[i];
        memset(secret + 187, 'b', 40);
        secret[227] = '\0';
        snprintf(text, sizeof text, "JWT_SECRET = %s\n", secret);
        write_ini(text);
        int rc = config_load(&cfg, ini_path, err, sizeof err);
        if (rc == 0 && strcmp(cfg.jwt_secret, secret) != 0 && used < sizeof report) {
            int n = snprintf(report + used, sizeof report - used,
                             " [0x%02x at offset 186: loaded a %zu-character secret]",
                             (unsigned)seps[i], strlen(cfg.jwt_secret));
            if (n > 0) used += (size_t)n;
        }
    }
    if (used > 0)
        fail_msg("a 227-character JWT_SECRET in the file was silently changed:%s", report);
}

/* ---- config_set -------------------------------------------------------------------- */

static void test_config_set(void **state)
{
    (void)state;
    load_ok(NULL);
    assert_int_equal(config_set(&cfg, "NO_SUCH_KEY", "1", err, sizeof err), 1);
    assert_int_equal(config_set(&cfg, "", "1", err, sizeof err), 1);
    assert_int_equal(config_set(&cfg, "PORT", "1234", err, sizeof err), 0);
    assert_int_equal(cfg.port, 1234);
    assert_int_equal(config_set(&cfg, "port", "4321", err, sizeof err), 0);
    assert_int_equal(cfg.port, 4321);
    assert_int_equal(config_set(&cfg, "PORT", "x", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "PORT"));
    assert_int_equal(cfg.port, 4321);
    assert_int_equal(config_set(&cfg, "HOST", "example.org", err, sizeof err), 0);
    assert_string_equal(cfg.host, "example.org");
    assert_int_equal(config_set(&cfg, "CLOUDYA_QUOTA_CPUS", "3.5", err, sizeof err), 0);
    assert_true(cfg.quota_cpus == 3.5);

    char longhost[300];
    memset(longhost, 'h', sizeof longhost - 1);
    longhost[sizeof longhost - 1] = '\0';
    assert_int_equal(config_set(&cfg, "HOST", longhost, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "HOST is too long"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_database_url_derived_from_data_dir, setup),
        cmocka_unit_test_setup(test_data_dir_too_long_for_url, setup),
        cmocka_unit_test_setup(test_env_overrides, setup),
        cmocka_unit_test_setup(test_port_errors, setup),
        cmocka_unit_test_setup(test_jwt_secret_length, setup),
        cmocka_unit_test_setup(test_database_url_backends, setup),
        cmocka_unit_test_setup(test_log_level_and_format, setup),
        cmocka_unit_test_setup(test_quota_cpus, setup),
        cmocka_unit_test_setup(test_int_bounds, setup),
        cmocka_unit_test_setup(test_admin_password, setup),
        cmocka_unit_test_setup(test_empty_required_strings, setup),
        cmocka_unit_test_setup(test_ini_basic, setup),
        cmocka_unit_test_setup(test_ini_empty_file, setup),
        cmocka_unit_test_setup(test_env_wins_over_file, setup),
        cmocka_unit_test_setup(test_ini_unknown_key, setup),
        cmocka_unit_test_setup(test_ini_bad_value, setup),
        cmocka_unit_test_setup(test_ini_syntax_error, setup),
        cmocka_unit_test_setup(test_ini_unreadable, setup),
        cmocka_unit_test_setup(test_ini_directory_refused, setup),
        cmocka_unit_test_setup(test_ini_long_value_error_names_line, setup),
        cmocka_unit_test_setup(test_ini_long_value_never_silently_changed, setup),
        cmocka_unit_test_setup(test_config_set, setup),
    };
    return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
