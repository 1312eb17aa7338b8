/* libFuzzer target for src/devops/manifest.c and src/devops/params.c.
 *
 * The input's first line (up to the first newline or NUL byte) is a `--params` text; the
 * rest is a manifest.yaml, loaded with yaml_load_buf (the limits manifest_load uses) and
 * checked with manifest_from_json. The params text is split with params_parse, resolved
 * against the manifest with params_resolve and masked with params_masked. Besides crashes,
 * leaks and sanitizer reports it checks properties, aborting when one fails:
 *   - every function returns 0 or -EINVAL (the loader also -E2BIG); a refusal leaves its
 *     output NULL (manifest_from_json, params_resolve) and writes a terminated, non-empty
 *     sentence;
 *   - an accepted manifest: a name; at most MANIFEST_MAX_PARAMS parameters with valid, distinct
 *     names; each default and each allowed value fits its parameter's type; at most
 *     MANIFEST_MAX_PLATFORMS platforms; manifest_param finds each parameter;
 *   - params_parse: names of letters, digits and '_' (at most PARAM_NAME_MAX), string
 *     values, at most PARAMS_MAX_PAIRS of them; it accepts only UTF-8 text (a value jansson
 *     cannot hold must be refused, not dropped);
 *   - params_resolve: every value belongs to a parameter, fits its type and is among its
 *     allowed values; every required parameter has one; a given value is used over the
 *     default;
 *   - params_masked: the same keys, "********" for each secret, the rest equal;
 *   - a secret's given value never appears in params_resolve's error sentence (checked
 *     when the value holds one of "#@!^~|&$", which no fixed sentence does, and is not part
 *     of any other text the sentence could quote: the manifest's strings and its allowed
 *     lists as printed, the other given names and values).
 * Seeds: fuzz/corpus/params/ (the params line, then the manifest). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "params.h"
#include "str.h"
#include "yaml_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                           \
    do {                                                                                   \
        if (!(x)) {                                                                        \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #x);       \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* A refusal's sentence: terminated inside the buffer and not empty. */
static void check_sentence(const char *err, size_t cap)
{
    CHECK(memchr(err, '\0', cap) != NULL);
    CHECK(err[0] != '\0' && err[0] != 'x');
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PARAM_NAME_MAX)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return 0;
    return 1;
}

static void check_manifest(const struct dv_manifest *m)
{
    CHECK(m->name != NULL && m->name[0] != '\0');
    CHECK(m->description != NULL);
    CHECK(m->nparams >= 0 && m->nparams <= MANIFEST_MAX_PARAMS);
    CHECK(m->nplatforms >= 0 && m->nplatforms <= MANIFEST_MAX_PLATFORMS);
    for (int i = 0; i < m->nparams; i++) {
        const struct dv_param *p = &m->params[i];
        CHECK(p->name != NULL && p->name[0] >= 'a' && p->name[0] <= 'z');
        CHECK(strlen(p->name) < PARAM_NAME_MAX);
        CHECK(manifest_param(m, p->name) == p); /* distinct */
        CHECK(p->description != NULL);
        CHECK(strcmp(manifest_type_name(p->type), "?") != 0);
        if (p->def != NULL)
            CHECK(param_value_fits(p->type, p->def));
        if (p->allowed != NULL) {
            CHECK(json_is_array(p->allowed) && json_array_size(p->allowed) > 0);
            size_t k;
            json_t *a;
            json_array_foreach(p->allowed, k, a) CHECK(param_value_fits(p->type, a));
        }
    }
    for (int i = 0; i < m->nplatforms; i++)
        CHECK(manifest_has_platform(m, m->platforms[i]));
}

/* 1 when needle is inside any string or key of v, or its compact dump. */
static int in_tree(const json_t *v, const char *needle)
{
    if (json_is_string(v))
        return strstr(json_string_value(v), needle) != NULL;
    if (json_is_object(v)) {
        const char *key;
        json_t *c;
        json_object_foreach((json_t *)v, key, c) if (strstr(key, needle) || in_tree(c, needle))
            return 1;
        return 0;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) if (in_tree(c, needle)) return 1;
        return 0;
    }
    char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    int hit = d != NULL && strstr(d, needle) != NULL;
    free(d);
    return hit;
}

/* The secret-leak property (see the header). */
static void check_no_secret_in(const struct dv_manifest *m, const json_t *given, const char *err)
{
    for (int i = 0; i < m->nparams; i++) {
        const struct dv_param *p = &m->params[i];
        const char *v = json_string_value(json_object_get(given, p->name));
        if (!p->secret || v == NULL || strpbrk(v, "#@!^~|&$") == NULL || strlen(v) < 2)
            continue;
        if (in_tree(m->doc, v))
            continue;
        int elsewhere = 0;
        for (int j = 0; j < m->nparams; j++) {
            char *d = m->params[j].allowed != NULL
                          ? json_dumps(m->params[j].allowed, JSON_COMPACT)
                          : NULL;
            if (d != NULL && strstr(d, v) != NULL)
                elsewhere = 1;
            free(d);
        }
        const char *key;
        json_t *other;
        json_object_foreach((json_t *)given, key, other)
        {
            if (strstr(key, v) != NULL)
                elsewhere = 1;
            if (strcmp(key, p->name) != 0 && strstr(json_string_value(other), v) != NULL)
                elsewhere = 1;
        }
        if (!elsewhere && strstr(err, v) != NULL) {
            fprintf(stderr, "the secret value of %s is in the error: %s\n", p->name, err);
            abort();
        }
    }
}

static void check_values(const struct dv_manifest *m, const json_t *given, const json_t *values)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)values, key, v)
    {
        const struct dv_param *p = manifest_param(m, key);
        CHECK(p != NULL);
        CHECK(param_value_fits(p->type, v));
        if (p->allowed != NULL) {
            int found = 0;
            size_t k;
            json_t *a;
            json_array_foreach(p->allowed, k, a)
            {
                if (json_equal(a, v) ||
                    (json_is_number(a) && json_is_number(v) &&
                     json_number_value(a) == json_number_value(v)))
                    found = 1;
            }
            CHECK(found);
        }
        if (json_object_get(given, key) == NULL)
            CHECK(p->def != NULL && json_equal(p->def, v)); /* the default */
    }
    for (int i = 0; i < m->nparams; i++) {
        const struct dv_param *p = &m->params[i];
        if (p->required || json_object_get(given, p->name) != NULL || p->def != NULL)
            CHECK(json_object_get(values, p->name) != NULL);
    }
}

static void check_masked(const struct dv_manifest *m, const json_t *values)
{
    json_t *masked = params_masked(m, values);
    CHECK(masked != NULL && json_object_size(masked) == json_object_size(values));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)values, key, v)
    {
        const struct dv_param *p = manifest_param(m, key);
        json_t *mv = json_object_get(masked, key);
        CHECK(mv != NULL);
        if (p->secret)
            CHECK(json_is_string(mv) && strcmp(json_string_value(mv), "********") == 0);
        else
            CHECK(json_equal(mv, v));
    }
    json_decref(masked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cut = 0;
    while (cut < size && data[cut] != '\n' && data[cut] != '\0')
        cut++;
    char *text = malloc(cut + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, cut);
    text[cut] = '\0';
    const char *yaml = (const char *)data + (cut < size ? cut + 1 : size);
    size_t ylen = cut < size ? size - cut - 1 : 0;

    char err[512];
    json_t *doc = NULL;
    yaml_limits lim = {.max_bytes = MANIFEST_MAX_BYTES, .max_depth = 8, .max_nodes = 4096};
    int rc = yaml_load_buf(yaml, ylen, &lim, &doc, err, sizeof(err));
    CHECK(rc == 0 || rc == -EINVAL || rc == -E2BIG);
    struct dv_manifest *m = NULL;
    if (rc == 0) {
        memset(err, 'x', sizeof(err));
        enum dv_kind kind = (cut & 1) ? DV_ANSIBLE : DV_TERRAFORM;
        rc = manifest_from_json(doc, kind, "fuzz/manifest.yaml", &m, err, sizeof(err));
        CHECK(rc == 0 || rc == -EINVAL);
        if (rc != 0) {
            CHECK(m == NULL);
            check_sentence(err, sizeof(err));
        } else {
            CHECK(m != NULL && m->kind == kind);
            check_manifest(m);
        }
        json_decref(doc);
    }

    json_t *given = json_object();
    memset(err, 'x', sizeof(err));
    rc = params_parse(text, given, err, sizeof(err));
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc != 0) {
        check_sentence(err, sizeof(err));
    } else {
        CHECK(json_object_size(given) <= PARAMS_MAX_PAIRS);
        CHECK(str_is_utf8(text, cut));
        const char *key;
        json_t *v;
        json_object_foreach(given, key, v)
        {
            CHECK(name_ok(key));
            CHECK(json_is_string(v));
        }
    }

    if (rc == 0 && m != NULL) {
        json_t *values = (json_t *)1;
        memset(err, 'x', sizeof(err));
        rc = params_resolve(m, "fuzz/tpl", given, &values, err, sizeof(err));
        CHECK(rc == 0 || rc == -EINVAL);
        if (rc != 0) {
            CHECK(values == NULL);
            check_sentence(err, sizeof(err));
            check_no_secret_in(m, given, err);
        } else {
            CHECK(values != NULL);
            check_values(m, given, values);
            check_masked(m, values);
            json_decref(values);
        }
    }
    json_decref(given);
    manifest_free(m);
    free(text);
    return 0;
}
