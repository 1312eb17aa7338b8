/* Unit tests for src/platform/catalog.c: the shipped catalog/catalog.yaml, defaults, every
 * validation sentence (which must name the file, the service and the key), catalog_find
 * and the shape of catalog_to_json. The shipped file is found through CLOUDYA_SOURCE_DIR
 * when set, else relative to this source file as the compiler named it (relative to the
 * build directory, where meson test runs), else relative to the current directory (a
 * test binary started from the source root). */
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

#include "catalog.h"

#define THIS_FILE "tests/unit/platform/test_catalog.c"

static char tmpdir[64];
static char cat_path[128];
static char err[512];
static catalog *cat;

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cloudya-test-catalog-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(cat_path, sizeof cat_path, "%s/catalog.yaml", tmpdir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(cat_path);
    rmdir(tmpdir);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    err[0] = '\0';
    cat = NULL;
    unlink(cat_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    catalog_free(cat);
    cat = NULL;
    return 0;
}

/* The source tree's catalog/catalog.yaml. */
static void shipped_path(char *out, size_t cap)
{
    const char *dir = getenv("CLOUDYA_SOURCE_DIR");
    if (dir != NULL && dir[0] != '\0') {
        snprintf(out, cap, "%s/catalog/catalog.yaml", dir);
        return;
    }
    const char *file = __FILE__;
    size_t n = strlen(file), tail = strlen(THIS_FILE);
    assert_true(n >= tail && strcmp(file + n - tail, THIS_FILE) == 0);
    snprintf(out, cap, "%.*scatalog/catalog.yaml", (int)(n - tail), file);
    if (access(out, F_OK) != 0)
        snprintf(out, cap, "catalog/catalog.yaml");
}

static void write_catalog(const char *text)
{
    FILE *f = fopen(cat_path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void load_ok(const char *text)
{
    catalog_free(cat);
    cat = NULL;
    write_catalog(text);
    int rc = catalog_load(cat_path, &cat, err, sizeof err);
    if (rc != 0)
        fail_msg("catalog_load failed: %d: %s\n--- file:\n%s", rc, err, text);
    assert_non_null(cat);
}

/* catalog_load must fail with -EINVAL and a sentence naming the file and saying want1 and
 * want2. */
static void load_fails(const char *text, const char *want1, const char *want2)
{
    catalog *c = (catalog *)1;
    write_catalog(text);
    int rc = catalog_load(cat_path, &c, err, sizeof err);
    if (rc != -EINVAL)
        fail_msg("catalog_load returned %d (%s), expected -EINVAL\n--- file:\n%s", rc, err, text);
    assert_null(c);
    if (strncmp(err, cat_path, strlen(cat_path)) != 0)
        fail_msg("error \"%s\" does not start with the file name", err);
    if (want1 != NULL && strstr(err, want1) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, want1);
    if (want2 != NULL && strstr(err, want2) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, want2);
}

/* A one-service catalog "web" with image and port plus the given lines (indented by the
 * caller with four spaces) must be refused naming "web" and want. */
static void web_fails(const char *extra, const char *want1, const char *want2)
{
    char text[8192];
    snprintf(text, sizeof text, "services:\n  web:\n    image: nginx:alpine\n    port: 80\n%s",
             extra);
    load_fails(text, "service \"web\": ", want1);
    if (want2 != NULL && strstr(err, want2) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, want2);
}

static const catalog_service *web_ok(const char *extra)
{
    char text[8192];
    snprintf(text, sizeof text, "services:\n  web:\n    image: nginx:alpine\n    port: 80\n%s",
             extra);
    load_ok(text);
    const catalog_service *s = catalog_find(cat, "web");
    assert_non_null(s);
    return s;
}

/* ---- the shipped catalog ----------------------------------------------------------- */

static void test_shipped_catalog(void **state)
{
    char path[1024];
    const catalog_service *s;

    (void)state;
    shipped_path(path, sizeof path);
    int rc = catalog_load(path, &cat, err, sizeof err);
    if (rc != 0)
        fail_msg("%s: %d: %s", path, rc, err);
    assert_int_equal(cat->n, 4);
    assert_string_equal(cat->svc[0].type, "nginx");
    assert_string_equal(cat->svc[1].type, "node");
    assert_string_equal(cat->svc[2].type, "python");
    assert_string_equal(cat->svc[3].type, "postgres");

    s = catalog_find(cat, "nginx");
    assert_string_equal(s->image, "nginx:alpine");
    assert_int_equal(s->port, 80);
    assert_string_equal(s->description, "Web server (nginx)");
    assert_int_equal(s->memory_mb, 256);
    assert_true(s->cpus == 0.5);
    assert_null(s->command);
    assert_int_equal(json_object_size(s->env), 0);

    s = catalog_find(cat, "node");
    assert_string_equal(s->image, "node:18-alpine");
    assert_int_equal(s->port, 3000);
    assert_non_null(s->command);
    assert_int_equal(json_array_size(s->command), 3);
    assert_string_equal(json_string_value(json_array_get(s->command, 0)), "node");
    assert_string_equal(json_string_value(json_array_get(s->command, 1)), "-e");
    const char *script = json_string_value(json_array_get(s->command, 2));
    assert_non_null(strstr(script, "Hello from node"));
    assert_non_null(strstr(script, "listen(3000)"));
    assert_null(strchr(script, '\n')); /* folded into one line */

    s = catalog_find(cat, "python");
    assert_string_equal(s->image, "python:3.11-alpine");
    assert_int_equal(s->port, 8000);
    assert_int_equal(json_array_size(s->command), 4);
    assert_string_equal(json_string_value(json_array_get(s->command, 0)), "python3");
    assert_string_equal(json_string_value(json_array_get(s->command, 3)), "8000");

    s = catalog_find(cat, "postgres");
    assert_string_equal(s->image, "postgres:15-alpine");
    assert_int_equal(s->port, 5432);
    assert_int_equal(s->memory_mb, 512);
    assert_true(s->cpus == 1.0);
    assert_string_equal(s->volume, "/var/lib/postgresql/data");
    assert_string_equal(s->password_env, "POSTGRES_PASSWORD");
    assert_string_equal(json_string_value(json_object_get(s->env, "POSTGRES_USER")), "app");
    assert_string_equal(json_string_value(json_object_get(s->env, "POSTGRES_DB")), "app");
    assert_string_equal(s->user, "");
}

/* ---- defaults and conversions ------------------------------------------------------ */

static void test_defaults(void **state)
{
    (void)state;
    const catalog_service *s = web_ok("");
    assert_string_equal(s->type, "web");
    assert_string_equal(s->description, "");
    assert_int_equal(s->memory_mb, 256);
    assert_true(s->cpus == 0.5);
    assert_non_null(s->env);
    assert_int_equal(json_object_size(s->env), 0);
    assert_null(s->command);
    assert_string_equal(s->user, "");
    assert_string_equal(s->volume, "");
    assert_string_equal(s->password_env, "");
}

static void test_env_values_become_strings(void **state)
{
    (void)state;
    const catalog_service *s = web_ok("    env:\n      PORT: 8080\n      DEBUG: true\n"
                                      "      RATIO: 0.1\n      OFF: FALSE\n      NAME: \"x y\"\n"
                                      "      _under_score9: ''\n");
    assert_int_equal(json_object_size(s->env), 6);
    assert_string_equal(json_string_value(json_object_get(s->env, "PORT")), "8080");
    assert_string_equal(json_string_value(json_object_get(s->env, "DEBUG")), "true");
    assert_string_equal(json_string_value(json_object_get(s->env, "RATIO")), "0.1");
    assert_string_equal(json_string_value(json_object_get(s->env, "OFF")), "false");
    assert_string_equal(json_string_value(json_object_get(s->env, "NAME")), "x y");
    assert_string_equal(json_string_value(json_object_get(s->env, "_under_score9")), "");
}

static void test_optional_keys(void **state)
{
    (void)state;
    const catalog_service *s = web_ok("    description: \"A web server\"\n    memoryMb: 16\n"
                                      "    cpus: 64\n    user: nginx\n    volume: /data\n"
                                      "    passwordEnv: ADMIN_PW\n    command: [sh, -c, 'x']\n");
    assert_string_equal(s->description, "A web server");
    assert_int_equal(s->memory_mb, 16);
    assert_true(s->cpus == 64.0);
    assert_string_equal(s->user, "nginx");
    assert_string_equal(s->volume, "/data");
    assert_string_equal(s->password_env, "ADMIN_PW");
    assert_int_equal(json_array_size(s->command), 3);

    s = web_ok("    memoryMb: 65536\n    cpus: 0.05\n    user: \"1000:1000\"\n");
    assert_int_equal(s->memory_mb, 65536);
    assert_true(s->cpus == 0.05);
    assert_string_equal(s->user, "1000:1000");
    s = web_ok("    user: 999\n");
    assert_string_equal(s->user, "999");
    s = web_ok("    user: _svc-1\n");
    assert_string_equal(s->user, "_svc-1");
}

/* ---- validation -------------------------------------------------------------------- */

static void test_file_level_errors(void **state)
{
    char missing[160];
    catalog *c = (catalog *)1;

    (void)state;
    load_fails("", "top level", NULL);
    load_fails("- a\n- b\n", "top level", NULL);
    load_fails("services: {}\n", "services", "at least one");
    load_fails("services: [nginx]\n", "services", NULL);
    load_fails("services:\n  web: {image: x, port: 1}\nextra: 1\n", "unknown top-level key",
               "extra");
    load_fails("services:\n  web: {image: x, port: 1}\n  web: {image: y, port: 2}\n",
               "duplicate key \"web\"", "line 3");
    load_fails("services:\n  web: &a {image: x, port: 1}\n", "anchors", NULL);
    load_fails("services:\n  Web: {image: x, port: 1}\n", "service name \"Web\"", NULL);
    load_fails("services:\n  1web: {image: x, port: 1}\n", "service name", NULL);
    load_fails("services:\n  we_b: {image: x, port: 1}\n", "service name", NULL);
    load_fails("services:\n  abcdefghijabcdefghijabcdefghijab: {image: x, port: 1}\n",
               "service name", NULL);
    load_fails("services:\n  web: nginx\n", "service \"web\"", "mapping");

    snprintf(missing, sizeof missing, "%s/none.yaml", tmpdir);
    assert_int_equal(catalog_load(missing, &c, err, sizeof err), -ENOENT);
    assert_null(c);
    assert_non_null(strstr(err, missing));
    assert_int_equal(catalog_load(tmpdir, &c, err, sizeof err), -EISDIR);
}

static void test_too_many_services(void **state)
{
    static char text[16384];
    size_t used = 0;

    (void)state;
    used += (size_t)snprintf(text, sizeof text, "services:\n");
    for (int i = 0; i < CATALOG_MAX_SERVICES; i++)
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "  s%d: {image: x, port: 1}\n", i);
    load_ok(text);
    assert_int_equal(cat->n, CATALOG_MAX_SERVICES);
    assert_non_null(catalog_find(cat, "s63"));
    snprintf(text + used, sizeof text - used, "  s%d: {image: x, port: 1}\n",
             CATALOG_MAX_SERVICES);
    load_fails(text, "more than 64 services", NULL);
}

static void test_file_too_large(void **state)
{
    size_t n = 256 * 1024 + 1;
    char *text = malloc(n + 1);

    (void)state;
    assert_non_null(text);
    memset(text, '#', n);
    text[n] = '\0';
    write_catalog(text);
    free(text);
    catalog *c = (catalog *)1;
    assert_int_equal(catalog_load(cat_path, &c, err, sizeof err), -E2BIG);
    assert_null(c);
    assert_non_null(strstr(err, cat_path));
}

static void test_unknown_key(void **state)
{
    (void)state;
    web_fails("    memory: 512\n", "unknown key \"memory\"", NULL);
    web_fails("    Image: x\n", "unknown key \"Image\"", NULL);
}

static void test_required_keys(void **state)
{
    (void)state;
    load_fails("services:\n  web:\n    port: 80\n", "service \"web\": image is required", NULL);
    load_fails("services:\n  web:\n    image: x\n", "service \"web\": port is required", NULL);
}

static void test_image(void **state)
{
    char long_image[400], text[600];

    (void)state;
    load_fails("services:\n  web: {image: '', port: 80}\n", "service \"web\": image", NULL);
    load_fails("services:\n  web: {image: 'nginx alpine', port: 80}\n", "image", "spaces");
    load_fails("services:\n  web: {image: \"nginx\\t\", port: 80}\n", "image", NULL);
    load_fails("services:\n  web: {image: 12, port: 80}\n", "image", NULL);
    load_fails("services:\n  web: {image: [x], port: 80}\n", "image", NULL);
    memset(long_image, 'a', CATALOG_IMAGE_MAX);
    long_image[CATALOG_IMAGE_MAX] = '\0';
    snprintf(text, sizeof text, "services:\n  web: {image: %s, port: 80}\n", long_image);
    load_fails(text, "image", NULL);
    long_image[CATALOG_IMAGE_MAX - 1] = '\0';
    snprintf(text, sizeof text, "services:\n  web: {image: %s, port: 80}\n", long_image);
    load_ok(text);
    assert_int_equal(strlen(catalog_find(cat, "web")->image), CATALOG_IMAGE_MAX - 1);
    load_ok("services:\n  web: {image: 'registry.local:5000/team/app@sha256:abc', port: 80}\n");
}

static void test_port(void **state)
{
    (void)state;
    load_fails("services:\n  nginx: {image: x, port: 0}\n",
               "service \"nginx\": port must be an integer between 1 and 65535", NULL);
    load_fails("services:\n  nginx: {image: x, port: 65536}\n", "port", NULL);
    load_fails("services:\n  nginx: {image: x, port: \"80\"}\n", "port", NULL);
    load_fails("services:\n  nginx: {image: x, port: 80.5}\n", "port", NULL);
    load_fails("services:\n  nginx: {image: x, port: ~}\n", "port", NULL);
}

static void test_memory_and_cpus(void **state)
{
    (void)state;
    web_fails("    memoryMb: 15\n", "memoryMb must be an integer between 16 and 65536", NULL);
    web_fails("    memoryMb: 65537\n", "memoryMb", NULL);
    web_fails("    memoryMb: 256.0\n", "memoryMb", NULL);
    web_fails("    memoryMb: '256'\n", "memoryMb", NULL);
    web_fails("    memoryMb:\n", "memoryMb", NULL); /* null is not "absent" */
    web_fails("    cpus: 0.04\n", "cpus must be a number between 0.05 and 64", NULL);
    web_fails("    cpus: 65\n", "cpus", NULL);
    web_fails("    cpus: '1'\n", "cpus", NULL);
    web_fails("    cpus: -1\n", "cpus", NULL);

    /* the sentence of the task description, word for word */
    load_fails("services:\n  nginx:\n    image: nginx:alpine\n    port: 80\n    memoryMb: 1\n",
               ": service \"nginx\": memoryMb must be an integer between 16 and 65536", NULL);
}

static void test_description(void **state)
{
    char desc[CATALOG_DESC_MAX + 1], text[CATALOG_DESC_MAX + 64];

    (void)state;
    web_fails("    description: 5\n", "description must be a string", NULL);
    web_fails("    description: \"a\\nb\"\n", "description", "control");
    memset(desc, 'd', CATALOG_DESC_MAX);
    desc[CATALOG_DESC_MAX] = '\0';
    snprintf(text, sizeof text, "    description: %s\n", desc);
    web_fails(text, "description is too long", NULL);
    desc[CATALOG_DESC_MAX - 1] = '\0';
    snprintf(text, sizeof text, "    description: %s\n", desc);
    assert_int_equal(strlen(web_ok(text)->description), CATALOG_DESC_MAX - 1);
}

static void test_env(void **state)
{
    static char text[4096];
    size_t used = 0;

    (void)state;
    web_fails("    env: [A=1]\n", "env must be a mapping", NULL);
    web_fails("    env: {1A: x}\n", "env", "\"1A\" is not a valid variable name");
    web_fails("    env: {A-B: x}\n", "A-B", NULL);
    web_fails("    env: {'': x}\n", "env", NULL);
    web_fails("    env: {\"A B\": x}\n", "env", NULL);
    web_fails("    env: {A: [1]}\n", "env: A must be a string, a number or a boolean", NULL);
    web_fails("    env: {A: {b: 1}}\n", "env: A", NULL);
    web_fails("    env: {A: ~}\n", "env: A", NULL);
    load_fails("services:\n  web:\n    image: x\n    port: 80\n    env:\n      X: 1\n"
               "      X: 2\n",
               "line 7, column 7: duplicate key \"X\"", NULL);

    used += (size_t)snprintf(text, sizeof text, "    env:\n");
    for (int i = 0; i <= CATALOG_MAX_ENV; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "      V%d: x\n", i);
    web_fails(text, "more than 32 variables", NULL);

    char name[CATALOG_ENV_NAME_MAX + 1];
    memset(name, 'N', CATALOG_ENV_NAME_MAX);
    name[CATALOG_ENV_NAME_MAX] = '\0';
    snprintf(text, sizeof text, "    env: {%s: x}\n", name);
    web_fails(text, "env", "variable name");
    name[CATALOG_ENV_NAME_MAX - 1] = '\0';
    snprintf(text, sizeof text, "    env: {%s: x}\n", name);
    assert_int_equal(json_object_size(web_ok(text)->env), 1);

    static char big[4200];
    memset(big, 'v', 4097);
    big[4097] = '\0';
    static char text2[4400];
    snprintf(text2, sizeof text2, "    env: {LONG: %s}\n", big);
    web_fails(text2, "env: LONG is too long", NULL);
}

static void test_command(void **state)
{
    static char text[8192];
    size_t used = 0;

    (void)state;
    web_fails("    command: \"nginx -g daemon off;\"\n", "command must be a list", NULL);
    web_fails("    command: []\n", "command must be a list of 1 to 32 strings", NULL);
    web_fails("    command: [nginx, 1]\n", "command[1] must be a non-empty string", NULL);
    web_fails("    command: [nginx, '']\n", "command[1]", NULL);
    web_fails("    command: [[a]]\n", "command[0]", NULL);
    web_fails("    command: {a: b}\n", "command", NULL);

    used += (size_t)snprintf(text, sizeof text, "    command:\n");
    for (int i = 0; i <= CATALOG_MAX_ARGS; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "      - a%d\n", i);
    web_fails(text, "command", NULL);

    static char arg[4200];
    memset(arg, 'a', 4097);
    arg[4097] = '\0';
    snprintf(text, sizeof text, "    command: [%s]\n", arg);
    web_fails(text, "command[0]", "4096 bytes");
    arg[4096] = '\0';
    snprintf(text, sizeof text, "    command: [%s]\n", arg);
    assert_int_equal(json_array_size(web_ok(text)->command), 1);
}

static void test_user(void **state)
{
    (void)state;
    web_fails("    user: Root\n", "user must be a user name", NULL);
    web_fails("    user: \"1000:\"\n", "user", NULL);
    web_fails("    user: \":1000\"\n", "user", NULL);
    web_fails("    user: \"1000:abc\"\n", "user", NULL);
    web_fails("    user: \"1:2:3\"\n", "user", NULL);
    web_fails("    user: \"a b\"\n", "user", NULL);
    web_fails("    user: \"\"\n", "user", NULL);
    web_fails("    user: 99999999999\n", "user", NULL);
    web_fails("    user: -1\n", "user", NULL);
    web_fails("    user: [a]\n", "user", NULL);
    web_fails("    user: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "user",
              NULL);
}

static void test_volume(void **state)
{
    (void)state;
    web_fails("    volume: data\n", "volume must be an absolute path", NULL);
    web_fails("    volume: /\n", "volume", NULL);
    web_fails("    volume: /var/../etc\n", "volume", "\"..\"");
    web_fails("    volume: /var/lib/..\n", "volume", NULL);
    web_fails("    volume: /data:/etc\n", "volume", NULL);
    web_fails("    volume: \"/da\\nta\"\n", "volume", NULL);
    web_fails("    volume: 5\n", "volume", NULL);
    assert_string_equal(web_ok("    volume: /var/..data/x\n")->volume, "/var/..data/x");
}

static void test_password_env(void **state)
{
    (void)state;
    web_fails("    passwordEnv: 9PW\n", "passwordEnv must be a variable name", NULL);
    web_fails("    passwordEnv: \"\"\n", "passwordEnv", NULL);
    web_fails("    passwordEnv: [PW]\n", "passwordEnv", NULL);
    web_fails("    passwordEnv: PW\n    env: {PW: fixed}\n", "env sets PW", NULL);
}

/* ---- lookups and JSON -------------------------------------------------------------- */

static void test_find(void **state)
{
    (void)state;
    load_ok("services:\n  a: {image: x, port: 1}\n  b-2: {image: y, port: 2}\n");
    assert_int_equal(catalog_find(cat, "a")->port, 1);
    assert_int_equal(catalog_find(cat, "b-2")->port, 2);
    assert_null(catalog_find(cat, "c"));
    assert_null(catalog_find(cat, ""));
    assert_null(catalog_find(cat, "A"));
    assert_null(catalog_find(cat, NULL));
    assert_null(catalog_find(NULL, "a"));
}

static void test_to_json(void **state)
{
    json_t *arr, *o;

    (void)state;
    load_ok("services:\n"
            "  db:\n    image: postgres:15-alpine\n    port: 5432\n    description: DB\n"
            "    memoryMb: 512\n    cpus: 1\n    env: {SECRET: s}\n    command: [postgres]\n"
            "  web: {image: nginx:alpine, port: 80}\n");
    arr = catalog_to_json(cat);
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 2);
    o = json_array_get(arr, 0);
    assert_int_equal(json_object_size(o), 6);
    assert_string_equal(json_string_value(json_object_get(o, "serviceType")), "db");
    assert_string_equal(json_string_value(json_object_get(o, "image")), "postgres:15-alpine");
    assert_int_equal(json_integer_value(json_object_get(o, "port")), 5432);
    assert_string_equal(json_string_value(json_object_get(o, "description")), "DB");
    assert_int_equal(json_integer_value(json_object_get(o, "memoryMb")), 512);
    assert_true(json_is_real(json_object_get(o, "cpus")));
    assert_true(json_real_value(json_object_get(o, "cpus")) == 1.0);
    assert_null(json_object_get(o, "env")); /* stays server-side */
    o = json_array_get(arr, 1);
    assert_string_equal(json_string_value(json_object_get(o, "serviceType")), "web");
    assert_string_equal(json_string_value(json_object_get(o, "description")), "");
    assert_true(json_real_value(json_object_get(o, "cpus")) == 0.5);
    json_decref(arr);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_shipped_catalog),
        T(test_defaults),
        T(test_env_values_become_strings),
        T(test_optional_keys),
        T(test_file_level_errors),
        T(test_too_many_services),
        T(test_file_too_large),
        T(test_unknown_key),
        T(test_required_keys),
        T(test_image),
        T(test_port),
        T(test_memory_and_cpus),
        T(test_description),
        T(test_env),
        T(test_command),
        T(test_user),
        T(test_volume),
        T(test_password_env),
        T(test_find),
        T(test_to_json),
    };
#undef T
    return cmocka_run_group_tests_name("catalog", tests, group_setup, group_teardown);
}
