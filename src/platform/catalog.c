#define _POSIX_C_SOURCE 200809L
#include "catalog.h"

#include "str.h"
#include "xalloc.h"
#include "yaml_load.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATALOG_FILE_MAX (256 * 1024)
#define ARG_MAX_BYTES 4096
#define ENV_VALUE_MAX 4096
#define DEFAULT_MEMORY_MB 256
#define DEFAULT_CPUS 0.5

static const char *const service_keys[] = {
    "image", "port", "description", "memoryMb", "cpus", "env", "command", "user", "volume",
    "passwordEnv",
};

/* What a validation step needs to write its sentence. */
struct ctx {
    const char *path;
    const char *service;
    char *err;
    size_t errlen;
};

static int bad(const struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every sentence names the file, then the service when there is one. */
static int bad(const struct ctx *c, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err != NULL && c->errlen > 0) {
        if (c->service != NULL)
            snprintf(c->err, c->errlen, "%s: service \"%s\": %s", c->path, c->service, msg);
        else
            snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
    }
    return -EINVAL;
}

static int is_lower(char ch)
{
    return ch >= 'a' && ch <= 'z';
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int type_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CATALOG_TYPE_MAX || !is_lower(s[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-')
            return 0;
    return 1;
}

static int env_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CATALOG_ENV_NAME_MAX || is_digit(s[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '_' && !(s[i] >= 'A' && s[i] <= 'Z'))
            return 0;
    return 1;
}

/* A string value that is UTF-8 text (the YAML loader already refuses NULs). */
static const char *string_of(json_t *v, size_t *n)
{
    if (!json_is_string(v))
        return NULL;
    *n = json_string_length(v);
    return json_string_value(v);
}

static int get_text(const struct ctx *c, json_t *v, const char *key, char *dst, size_t cap,
                    int allow_empty)
{
    size_t n = 0;
    const char *s = string_of(v, &n);
    if (s == NULL)
        return bad(c, "%s must be a string", key);
    if (n == 0 && !allow_empty)
        return bad(c, "%s must not be empty", key);
    if (n >= cap)
        return bad(c, "%s is too long (at most %zu bytes)", key, cap - 1);
    if (str_has_control(s, n))
        return bad(c, "%s must not contain control characters", key);
    return str_copy(dst, cap, s) == 0 ? 0 : bad(c, "%s is too long", key);
}

static int get_image(const struct ctx *c, json_t *v, catalog_service *svc)
{
    size_t n = 0;
    const char *s = string_of(v, &n);
    int ok = s != NULL && n > 0 && n < CATALOG_IMAGE_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = s[i] > 0x20 && s[i] < 0x7f; /* printable ASCII, no space */
    if (!ok)
        return bad(c,
                   "image must be an image reference of 1 to %d printable ASCII characters "
                   "without spaces",
                   CATALOG_IMAGE_MAX - 1);
    return str_copy(svc->image, sizeof svc->image, s);
}

static int get_int(const struct ctx *c, json_t *v, const char *key, int min, int max, int *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return bad(c, "%s must be an integer between %d and %d", key, min, max);
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_cpus(const struct ctx *c, json_t *v, double *out)
{
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= 0.05 && d <= 64))
        return bad(c, "cpus must be a number between 0.05 and 64");
    *out = d;
    return 0;
}

/* The shortest decimal text that reads back as d, so 0.1 stays "0.1". */
static void real_text(char *dst, size_t cap, double d)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(dst, cap, "%.*g", prec, d);
        if (strtod(dst, NULL) == d)
            return;
    }
}

static int get_env(const struct ctx *c, json_t *v, catalog_service *svc)
{
    const char *name;
    json_t *val;

    if (!json_is_object(v))
        return bad(c, "env must be a mapping of variable names to values");
    if (json_object_size(v) > CATALOG_MAX_ENV)
        return bad(c, "env has more than %d variables", CATALOG_MAX_ENV);
    json_object_foreach(v, name, val) {
        char num[32];
        const char *s = NULL;
        size_t n = 0;
        if (!env_name_valid(name))
            return bad(c,
                       "env: \"%.64s\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*, "
                       "at most %d characters)",
                       name, CATALOG_ENV_NAME_MAX - 1);
        if (json_is_string(val)) {
            s = string_of(val, &n);
        } else if (json_is_integer(val)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(val));
            s = num;
        } else if (json_is_real(val)) {
            real_text(num, sizeof num, json_real_value(val));
            s = num;
        } else if (json_is_boolean(val)) {
            s = json_is_true(val) ? "true" : "false";
        } else {
            return bad(c, "env: %s must be a string, a number or a boolean", name);
        }
        n = strlen(s);
        if (n > ENV_VALUE_MAX)
            return bad(c, "env: %s is too long (at most %d bytes)", name, ENV_VALUE_MAX);
        json_object_set_new(svc->env, name, json_string(s));
    }
    return 0;
}

static int get_command(const struct ctx *c, json_t *v, catalog_service *svc)
{
    size_t i;
    json_t *arg;

    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > CATALOG_MAX_ARGS)
        return bad(c, "command must be a list of 1 to %d strings", CATALOG_MAX_ARGS);
    json_array_foreach(v, i, arg) {
        size_t n = 0;
        if (string_of(arg, &n) == NULL || n == 0 || n > ARG_MAX_BYTES)
            return bad(c, "command[%zu] must be a non-empty string of at most %d bytes", i,
                       ARG_MAX_BYTES);
    }
    svc->command = json_deep_copy(v);
    return 0;
}

/* A user name, or a numeric uid with an optional numeric gid. */
static int user_valid(const char *s)
{
    if (is_lower(s[0]) || s[0] == '_') {
        for (const char *p = s; *p != '\0'; p++)
            if (!is_lower(*p) && !is_digit(*p) && *p != '_' && *p != '-')
                return 0;
        return 1;
    }
    char part[16];
    const char *colon = strchr(s, ':');
    for (int k = 0; k < 2; k++) {
        const char *start = k == 0 ? s : colon + 1;
        size_t n = k == 0 && colon != NULL ? (size_t)(colon - s) : strlen(start);
        int64_t id;
        if (n == 0 || n >= sizeof part)
            return 0;
        memcpy(part, start, n);
        part[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if (!is_digit(part[i]))
                return 0;
        if (str_to_int64(part, 0, 4294967294LL, &id) != 0)
            return 0;
        if (colon == NULL)
            break;
    }
    return 1;
}

static int get_user(const struct ctx *c, json_t *v, catalog_service *svc)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        snprintf(svc->user, sizeof svc->user, "%lld", (long long)json_integer_value(v));
    else if (get_text(c, v, "user", svc->user, sizeof svc->user, 0) != 0)
        return -EINVAL;
    if (!user_valid(svc->user))
        return bad(c, "user must be a user name ([a-z_][a-z0-9_-]*) or a numeric uid[:gid]");
    return 0;
}

static int get_volume(const struct ctx *c, json_t *v, catalog_service *svc)
{
    int rc = get_text(c, v, "volume", svc->volume, sizeof svc->volume, 0);
    if (rc != 0)
        return rc;
    const char *p = svc->volume;
    int ok = p[0] == '/' && p[1] != '\0' && strchr(p, ':') == NULL;
    for (const char *s = p; ok && *s != '\0'; s++)
        if (s[0] == '/' && s[1] == '.' && s[2] == '.' && (s[3] == '/' || s[3] == '\0'))
            ok = 0;
    if (!ok)
        return bad(c, "volume must be an absolute path other than / without \"..\" or \":\"");
    return 0;
}

static int known_key(const char *key)
{
    for (size_t i = 0; i < sizeof service_keys / sizeof service_keys[0]; i++)
        if (strcmp(key, service_keys[i]) == 0)
            return 1;
    return 0;
}

static int load_service(const struct ctx *c, json_t *def, catalog_service *svc)
{
    const char *key;
    json_t *v;
    int rc = 0;

    svc->memory_mb = DEFAULT_MEMORY_MB;
    svc->cpus = DEFAULT_CPUS;
    svc->env = json_object();
    if (!json_is_object(def))
        return bad(c, "must be a mapping of keys (image, port, ...)");
    json_object_foreach(def, key, v) {
        if (!known_key(key))
            return bad(c, "unknown key \"%.64s\"", key);
    }
    if (json_object_get(def, "image") == NULL)
        return bad(c, "image is required");
    if (json_object_get(def, "port") == NULL)
        return bad(c, "port is required");
    json_object_foreach(def, key, v) {
        if (strcmp(key, "image") == 0)
            rc = get_image(c, v, svc);
        else if (strcmp(key, "port") == 0)
            rc = get_int(c, v, "port", 1, 65535, &svc->port);
        else if (strcmp(key, "description") == 0)
            rc = get_text(c, v, "description", svc->description, sizeof svc->description, 1);
        else if (strcmp(key, "memoryMb") == 0)
            rc = get_int(c, v, "memoryMb", 16, 65536, &svc->memory_mb);
        else if (strcmp(key, "cpus") == 0)
            rc = get_cpus(c, v, &svc->cpus);
        else if (strcmp(key, "env") == 0)
            rc = get_env(c, v, svc);
        else if (strcmp(key, "command") == 0)
            rc = get_command(c, v, svc);
        else if (strcmp(key, "user") == 0)
            rc = get_user(c, v, svc);
        else if (strcmp(key, "volume") == 0)
            rc = get_volume(c, v, svc);
        else if (strcmp(key, "passwordEnv") == 0)
            rc = get_text(c, v, "passwordEnv", svc->password_env, sizeof svc->password_env, 0);
        if (rc != 0)
            return rc;
    }
    if (svc->password_env[0] != '\0' && !env_name_valid(svc->password_env))
        return bad(c, "passwordEnv must be a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    if (svc->password_env[0] != '\0' && json_object_get(svc->env, svc->password_env) != NULL)
        return bad(c, "env sets %s, which passwordEnv generates", svc->password_env);
    return 0;
}

/* The only way a catalog is made, so every service the daemon sees was validated. */
int catalog_load(const char *path, catalog **out, char *err, size_t errlen)
{
    const yaml_limits lim = {CATALOG_FILE_MAX, 0, 0};
    struct ctx c = {path, NULL, err, errlen};
    json_t *root = NULL, *services, *def;
    const char *key;
    catalog *cat = NULL;
    int rc;

    *out = NULL;
    rc = yaml_load_file(path, &lim, &root, err, errlen);
    if (rc != 0)
        goto out;
    if (!json_is_object(root)) {
        rc = bad(&c, "the top level must be a mapping with a \"services\" key");
        goto out;
    }
    json_object_foreach(root, key, def) {
        if (strcmp(key, "services") != 0) {
            rc = bad(&c, "unknown top-level key \"%.64s\"", key);
            goto out;
        }
    }
    services = json_object_get(root, "services");
    if (!json_is_object(services) || json_object_size(services) == 0) {
        rc = bad(&c, "services must be a mapping of at least one service");
        goto out;
    }
    if (json_object_size(services) > CATALOG_MAX_SERVICES) {
        rc = bad(&c, "more than %d services", CATALOG_MAX_SERVICES);
        goto out;
    }
    cat = xcalloc(1, sizeof *cat);
    json_object_foreach(services, key, def) {
        catalog_service *svc = &cat->svc[cat->n++];
        if (!type_valid(key)) {
            rc = bad(&c,
                     "service name \"%.64s\" must be 1 to %d characters of a-z, 0-9 and '-', "
                     "starting with a letter",
                     key, CATALOG_TYPE_MAX - 1);
            goto out;
        }
        str_copy(svc->type, sizeof svc->type, key);
        c.service = svc->type;
        if ((rc = load_service(&c, def, svc)) != 0)
            goto out;
    }
    *out = cat;
    cat = NULL;
out:
    catalog_free(cat);
    json_decref(root);
    return rc;
}

/* Releases the per-service JSON as well as the catalog. */
void catalog_free(catalog *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        json_decref(c->svc[i].env);
        json_decref(c->svc[i].command);
    }
    free(c);
}

/* Lookup by the type a request names; a linear scan over at most 64 entries. */
const catalog_service *catalog_find(const catalog *c, const char *type)
{
    if (c == NULL || type == NULL)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->svc[i].type, type) == 0)
            return &c->svc[i];
    return NULL;
}

/* Only what a client needs to choose a service; env, command and user stay server-side. */
json_t *catalog_to_json(const catalog *c)
{
    json_t *arr = json_array();
    for (size_t i = 0; c != NULL && i < c->n; i++) {
        const catalog_service *s = &c->svc[i];
        json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:s, s:i, s:f}", "serviceType",
                                             s->type, "image", s->image, "port", s->port,
                                             "description", s->description, "memoryMb",
                                             s->memory_mb, "cpus", s->cpus));
    }
    return arr;
}
