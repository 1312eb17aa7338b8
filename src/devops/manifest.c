/* Loading and checking manifest.yaml; converting parameter values to their types. */
#define _GNU_SOURCE
#include "manifest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "str.h"
#include "xalloc.h"
#include "yaml_load.h"

static const char *const type_names[] = {"string", "integer", "number", "boolean", "list", "cidr"};

const char *manifest_type_name(enum dv_ptype t)
{
    return (unsigned)t < sizeof(type_names) / sizeof(type_names[0]) ? type_names[t] : "?";
}

static int valid_name(const char *s)
{
    if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return n < PARAM_NAME_MAX;
}

/* A network address in CIDR notation, IPv4 or IPv6, with its host bits zero. */
static int check_cidr(const char *text, char *why, size_t cap)
{
    char addr[64];
    const char *slash = strchr(text, '/');
    if (slash == NULL || (size_t)(slash - text) >= sizeof(addr)) {
        str_fmt(why, cap, "\"%s\" is not a CIDR block (like 10.0.0.0/16)", text);
        return -EINVAL;
    }
    memcpy(addr, text, (size_t)(slash - text));
    addr[slash - text] = '\0';
    unsigned char bytes[16];
    int v6 = strchr(addr, ':') != NULL;
    int bits = v6 ? 128 : 32;
    int64_t prefix;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bytes) != 1 ||
        str_to_int64(slash + 1, 0, bits, &prefix) != 0) {
        str_fmt(why, cap, "\"%s\" is not a CIDR block (like 10.0.0.0/16)", text);
        return -EINVAL;
    }
    int host_bits_set = 0;
    for (int b = (int)prefix; b < bits; b++)
        if (bytes[b / 8] & (0x80 >> (b % 8)))
            host_bits_set = 1;
    if (host_bits_set) {
        for (int b = (int)prefix; b < bits; b++)
            bytes[b / 8] &= (unsigned char)~(0x80 >> (b % 8));
        char net[64];
        inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, net, sizeof(net));
        str_fmt(why, cap, "\"%s\" has host bits set: did you mean %s/%d?", text, net, (int)prefix);
        return -EINVAL;
    }
    return 0;
}

static int has_control(const char *s)
{
    return str_has_control(s, strlen(s)) || !str_is_utf8(s, strlen(s));
}

int param_convert(enum dv_ptype t, const char *text, json_t **out, char *why, size_t cap)
{
    *out = NULL;
    if (strlen(text) >= PARAM_VALUE_MAX) {
        str_fmt(why, cap, "the value is longer than %d bytes", PARAM_VALUE_MAX - 1);
        return -EINVAL;
    }
    if (has_control(text)) {
        str_fmt(why, cap, "the value holds control characters or is not UTF-8 text");
        return -EINVAL;
    }
    switch (t) {
    case PT_STRING:
        *out = json_string(text);
        return 0;
    case PT_INTEGER: {
        int64_t v;
        if (str_to_int64(text, -(1LL << 53), 1LL << 53, &v) != 0) {
            str_fmt(why, cap, "\"%s\" is not an integer", text);
            return -EINVAL;
        }
        *out = json_integer(v);
        return 0;
    }
    case PT_NUMBER: {
        double v;
        if (str_to_double(text, -1e300, 1e300, &v) != 0) {
            str_fmt(why, cap, "\"%s\" is not a number", text);
            return -EINVAL;
        }
        *out = json_real(v);
        return 0;
    }
    case PT_BOOLEAN: {
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(text, yes[i]) == 0) {
                *out = json_true();
                return 0;
            }
            if (strcasecmp(text, no[i]) == 0) {
                *out = json_false();
                return 0;
            }
        }
        str_fmt(why, cap, "\"%s\" is not a boolean (true or false)", text);
        return -EINVAL;
    }
    case PT_LIST: {
        json_t *arr = json_array();
        const char *p = text;
        while (*p) {
            size_t n = strcspn(p, ",;");
            const char *s = p, *e = p + n;
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
            while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (e > s)
                json_array_append_new(arr, json_stringn(s, (size_t)(e - s)));
            p += n;
            if (*p)
                p++;
        }
        *out = arr;
        return 0;
    }
    case PT_CIDR:
        if (check_cidr(text, why, cap) != 0)
            return -EINVAL;
        *out = json_string(text);
        return 0;
    }
    str_fmt(why, cap, "unknown type");
    return -EINVAL;
}

int param_value_fits(enum dv_ptype t, const json_t *v)
{
    switch (t) {
    case PT_STRING:
        return json_is_string(v);
    case PT_INTEGER:
        return json_is_integer(v);
    case PT_NUMBER:
        return json_is_number(v);
    case PT_BOOLEAN:
        return json_is_boolean(v);
    case PT_LIST: {
        if (!json_is_array(v))
            return 0;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (!json_is_string(x)) return 0;
        return 1;
    }
    case PT_CIDR:
        return json_is_string(v) && check_cidr(json_string_value(v), NULL, 0) == 0;
    }
    return 0;
}

/* A value from the manifest for a parameter of type t: as is when it fits, converted when
 * it is text (a quoted "2" for an integer), else an error. Returns a new reference or NULL. */
static json_t *typed(enum dv_ptype t, json_t *v, char *why, size_t cap)
{
    if (param_value_fits(t, v))
        return json_deep_copy(v);
    if (t == PT_NUMBER && json_is_integer(v))
        return json_real((double)json_integer_value(v));
    json_t *out = NULL;
    if (json_is_string(v) && param_convert(t, json_string_value(v), &out, why, cap) == 0)
        return out;
    if (json_is_integer(v) && t == PT_STRING) {
        char b[32];
        snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(v));
        return json_string(b);
    }
    if (out == NULL && (why == NULL || why[0] == '\0' || !json_is_string(v)))
        str_fmt(why, cap, "it is not a %s", manifest_type_name(t));
    return NULL;
}

static const char *opt_string(json_t *obj, const char *key, int *bad)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v) || has_control(json_string_value(v))) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

static int opt_bool(json_t *obj, const char *key, int *bad)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        *bad = 1;
        return 0;
    }
    return json_is_true(v);
}

static int load_param(struct dv_manifest *m, json_t *p, int idx, const char *where, char *err,
                      size_t errlen)
{
    struct dv_param *d = &m->params[m->nparams];
    int bad = 0;
    if (!json_is_object(p)) {
        str_fmt(err, errlen, "%s: parameter %d is not a mapping", where, idx + 1);
        return -EINVAL;
    }
    d->name = opt_string(p, "name", &bad);
    if (!valid_name(d->name)) {
        str_fmt(err, errlen,
                "%s: parameter %d needs a name of lowercase letters, digits and '_' "
                "(starting with a letter, under %d characters)",
                where, idx + 1, PARAM_NAME_MAX);
        return -EINVAL;
    }
    if (manifest_param(m, d->name) != NULL) {
        str_fmt(err, errlen, "%s: parameter \"%s\" is declared twice", where, d->name);
        return -EINVAL;
    }
    d->description = opt_string(p, "description", &bad);
    if (d->description == NULL)
        d->description = "";
    const char *type = opt_string(p, "type", &bad);
    d->type = PT_STRING;
    if (type != NULL) {
        size_t i;
        for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
            if (strcmp(type, type_names[i]) == 0)
                break;
        if (i == sizeof(type_names) / sizeof(type_names[0])) {
            str_fmt(err, errlen,
                    "%s: parameter \"%s\" has the unknown type \"%s\" (string, integer, number, "
                    "boolean, list or cidr)",
                    where, d->name, type);
            return -EINVAL;
        }
        d->type = (enum dv_ptype)i;
    }
    d->required = opt_bool(p, "required", &bad);
    d->secret = opt_bool(p, "secret", &bad);
    if (bad) {
        str_fmt(err, errlen,
                "%s: parameter \"%s\": description and type must be text, required and secret "
                "true or false",
                where, d->name);
        return -EINVAL;
    }
    char why[256] = "";
    json_t *def = json_object_get(p, "default");
    if (def != NULL && !json_is_null(def)) {
        d->def = typed(d->type, def, why, sizeof(why));
        if (d->def == NULL) {
            str_fmt(err, errlen, "%s: the default of \"%s\" does not fit its type %s: %s", where,
                    d->name, manifest_type_name(d->type), why);
            return -EINVAL;
        }
    }
    json_t *allowed = json_object_get(p, "allowed");
    if (allowed != NULL && !json_is_null(allowed)) {
        if (!json_is_array(allowed) || json_array_size(allowed) == 0) {
            str_fmt(err, errlen, "%s: \"allowed\" of \"%s\" must be a non-empty list", where,
                    d->name);
            return -EINVAL;
        }
        d->allowed = json_array();
        size_t i;
        json_t *a;
        json_array_foreach(allowed, i, a)
        {
            json_t *v = typed(d->type, a, why, sizeof(why));
            if (v == NULL) {
                str_fmt(err, errlen, "%s: allowed value %zu of \"%s\" does not fit its type %s",
                        where, i + 1, d->name, manifest_type_name(d->type));
                return -EINVAL;
            }
            json_array_append_new(d->allowed, v);
        }
    }
    m->nparams++;
    return 0;
}

int manifest_from_json(json_t *doc, enum dv_kind kind, const char *where,
                       struct dv_manifest **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!json_is_object(doc)) {
        str_fmt(err, errlen, "%s must be a mapping (name, description, parameters, ...)", where);
        return -EINVAL;
    }
    struct dv_manifest *m = xcalloc(1, sizeof(*m));
    m->doc = json_incref(doc);
    m->kind = kind;
    int bad = 0, rc = -EINVAL;
    m->name = opt_string(doc, "name", &bad);
    m->provider = opt_string(doc, "provider", &bad);
    m->description = opt_string(doc, "description", &bad);
    const char *type = opt_string(doc, "type", &bad);
    if (bad || m->name == NULL || m->name[0] == '\0') {
        str_fmt(err, errlen, "%s: \"name\" is required, and name, provider, type and "
                             "description must be text",
                where);
        goto out;
    }
    if (m->description == NULL)
        m->description = "";
    if (type != NULL && strcmp(type, kind == DV_TERRAFORM ? "terraform" : "ansible") != 0) {
        str_fmt(err, errlen, "%s: type \"%s\" does not fit here (expected \"%s\")", where, type,
                kind == DV_TERRAFORM ? "terraform" : "ansible");
        goto out;
    }
    json_t *params = json_object_get(doc, "parameters");
    if (params != NULL && !json_is_null(params)) {
        if (!json_is_array(params)) {
            str_fmt(err, errlen, "%s: \"parameters\" must be a list", where);
            goto out;
        }
        if (json_array_size(params) > MANIFEST_MAX_PARAMS) {
            str_fmt(err, errlen, "%s: more than %d parameters", where, MANIFEST_MAX_PARAMS);
            goto out;
        }
        size_t i;
        json_t *p;
        json_array_foreach(params, i, p) if (load_param(m, p, (int)i, where, err, errlen) != 0)
            goto out;
    }
    json_t *plats = json_object_get(doc, "platforms");
    if (plats != NULL && !json_is_null(plats)) {
        if (!json_is_array(plats) || json_array_size(plats) > MANIFEST_MAX_PLATFORMS) {
            str_fmt(err, errlen, "%s: \"platforms\" must be a list of at most %d names", where,
                    MANIFEST_MAX_PLATFORMS);
            goto out;
        }
        size_t i;
        json_t *p;
        json_array_foreach(plats, i, p)
        {
            if (!valid_name(json_string_value(p))) {
                str_fmt(err, errlen, "%s: platform %zu is not a name", where, i + 1);
                goto out;
            }
            m->platforms[m->nplatforms++] = json_string_value(p);
        }
    }
    rc = 0;
out:
    if (rc != 0)
        manifest_free(m);
    else
        *out = m;
    return rc;
}

int manifest_load(const char *dir, enum dv_kind kind, struct dv_manifest **out, char *err,
                  size_t errlen)
{
    char path[1100];
    *out = NULL;
    if ((size_t)snprintf(path, sizeof(path), "%s/manifest.yaml", dir) >= sizeof(path)) {
        str_fmt(err, errlen, "the template path %s is too long", dir);
        return -ENAMETOOLONG;
    }
    yaml_limits lim = {.max_bytes = MANIFEST_MAX_BYTES, .max_depth = 8, .max_nodes = 4096};
    json_t *doc = NULL;
    char yerr[256];
    int rc = yaml_load_file(path, &lim, &doc, yerr, sizeof(yerr));
    if (rc != 0) {
        str_fmt(err, errlen, "%s", yerr);
        return rc;
    }
    rc = manifest_from_json(doc, kind, path, out, err, errlen);
    json_decref(doc);
    return rc;
}

void manifest_free(struct dv_manifest *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < m->nparams; i++) {
        json_decref(m->params[i].def);
        json_decref(m->params[i].allowed);
    }
    /* a half-loaded parameter may hold a default or allowed list too */
    if (m->nparams < MANIFEST_MAX_PARAMS) {
        json_decref(m->params[m->nparams].def);
        json_decref(m->params[m->nparams].allowed);
    }
    json_decref(m->doc);
    free(m);
}

const struct dv_param *manifest_param(const struct dv_manifest *m, const char *name)
{
    for (int i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return &m->params[i];
    return NULL;
}

int manifest_has_platform(const struct dv_manifest *m, const char *platform)
{
    if (m->nplatforms == 0)
        return 1;
    for (int i = 0; i < m->nplatforms; i++)
        if (strcmp(m->platforms[i], platform) == 0)
            return 1;
    return 0;
}
