/* Splitting and checking `--params`. */
#define _GNU_SOURCE
#include "params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "xalloc.h"

int params_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 9;
    int d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c)
                c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c)
                c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb] > 9 ? 9 : d[la][lb];
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int params_parse(const char *text, json_t *obj, char *err, size_t errlen)
{
    size_t len = strlen(text);
    if (len > PARAMS_TEXT_MAX) {
        str_fmt(err, errlen, "--params is longer than %d bytes", PARAMS_TEXT_MAX);
        return -EINVAL;
    }
    /* Unescape into pieces: each piece ends at an unescaped comma. */
    char *buf = xmalloc(len + 1);
    int rc = 0, pairs = 0;
    char last[PARAM_NAME_MAX + 1] = "";
    const char *p = text;
    for (;;) {
        size_t n = 0;
        while (*p && *p != ',') {
            if (*p == '\\' && (p[1] == ',' || p[1] == '\\')) {
                buf[n++] = p[1];
                p += 2;
                continue;
            }
            buf[n++] = *p++;
        }
        buf[n] = '\0';
        char *eq = strchr(buf, '=');
        int named = eq != NULL && eq > buf;
        for (char *q = buf; named && q < eq; q++)
            if (!name_char(*q))
                named = 0;
        if (!named) {
            if (last[0] != '\0' && n > 0 && eq == NULL) {
                /* continues the previous value: "zones=a,b" */
                json_t *prev = json_object_get(obj, last);
                char *joined = NULL;
                if (asprintf(&joined, "%s,%s", json_string_value(prev), buf) < 0)
                    abort();
                json_t *val = json_string(joined); /* NULL when not UTF-8 */
                free(joined);
                if (val == NULL) {
                    str_fmt(err, errlen, "--params: the value of \"%s\" is not UTF-8 text", last);
                    rc = -EINVAL;
                    break;
                }
                json_object_set_new(obj, last, val);
            } else if (n == 0) {
                str_fmt(err, errlen, "--params has an empty piece (two commas in a row, or a "
                                     "comma at an end)");
                rc = -EINVAL;
                break;
            } else if (eq != NULL && eq > buf) {
                *eq = '\0';
                str_fmt(err, errlen, "--params: \"%.80s\" is not a parameter name (letters, digits "
                                     "and '_')", buf);
                rc = -EINVAL;
                break;
            } else {
                str_fmt(err, errlen, "--params: \"%.80s\" is not name=value", buf);
                rc = -EINVAL;
                break;
            }
        } else {
            *eq = '\0';
            if (strlen(buf) > PARAM_NAME_MAX) {
                str_fmt(err, errlen, "--params: the name \"%.40s...\" is too long", buf);
                rc = -EINVAL;
                break;
            }
            if (json_object_get(obj, buf) != NULL) {
                str_fmt(err, errlen, "--params gives \"%s\" twice", buf);
                rc = -EINVAL;
                break;
            }
            if (++pairs > PARAMS_MAX_PAIRS) {
                str_fmt(err, errlen, "--params has more than %d parameters", PARAMS_MAX_PAIRS);
                rc = -EINVAL;
                break;
            }
            json_t *val = json_string(eq + 1); /* NULL when not UTF-8 */
            if (val == NULL) {
                str_fmt(err, errlen, "--params: the value of \"%s\" is not UTF-8 text", buf);
                rc = -EINVAL;
                break;
            }
            json_object_set_new(obj, buf, val);
            str_copy(last, sizeof(last), buf);
        }
        if (*p == '\0')
            break;
        p++; /* the comma */
    }
    free(buf);
    return rc;
}

static void list_names(const struct dv_manifest *m, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = '\0';
    for (int i = 0; i < m->nparams && off < cap; i++) {
        int n = snprintf(out + off, cap - off, "%s%s", i ? ", " : "", m->params[i].name);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    if (m->nparams == 0)
        str_copy(out, cap, "(none)");
}

static void list_allowed(const json_t *allowed, char *out, size_t cap)
{
    size_t off = 0, i;
    json_t *a;
    out[0] = '\0';
    json_array_foreach(allowed, i, a)
    {
        char *s = json_is_string(a) ? xstrdup(json_string_value(a))
                                    : json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
        int n = snprintf(out + off, off < cap ? cap - off : 0, "%s%s", i ? ", " : "", s ? s : "?");
        free(s);
        if (n < 0 || off + (size_t)n >= cap)
            break;
        off += (size_t)n;
    }
}

static int allowed_has(const json_t *allowed, const json_t *v)
{
    size_t i;
    json_t *a;
    json_array_foreach(allowed, i, a)
    {
        if (json_equal(a, v))
            return 1;
        if (json_is_number(a) && json_is_number(v) && json_number_value(a) == json_number_value(v))
            return 1;
    }
    return 0;
}

int params_resolve(const struct dv_manifest *m, const char *what, const json_t *given,
                   json_t **values, char *err, size_t errlen)
{
    *values = NULL;
    char names[2048];
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)given, key, v)
    {
        if (manifest_param(m, key) != NULL)
            continue;
        const char *best = NULL;
        int bestd = 3;
        for (int i = 0; i < m->nparams; i++) {
            int d = params_distance(key, m->params[i].name);
            if (d < bestd) {
                bestd = d;
                best = m->params[i].name;
            }
        }
        list_names(m, names, sizeof(names));
        if (best != NULL)
            str_fmt(err, errlen, "%s has no parameter \"%s\" (did you mean \"%s\"?); its parameters: %s",
                    what, key, best, names);
        else
            str_fmt(err, errlen, "%s has no parameter \"%s\"; its parameters: %s", what, key, names);
        return -EINVAL;
    }
    json_t *out = json_object();
    for (int i = 0; i < m->nparams; i++) {
        const struct dv_param *p = &m->params[i];
        json_t *g = json_object_get(given, p->name);
        json_t *val = NULL;
        if (g != NULL) {
            char why[512];
            if (param_convert(p->type, json_string_value(g), &val, why, sizeof(why)) != 0) {
                if (p->secret) /* why may quote the value */
                    str_fmt(err, errlen, "parameter %s of %s: the value given is not a valid %s "
                                         "(it is secret, so it is not shown)",
                            p->name, what, manifest_type_name(p->type));
                else
                    str_fmt(err, errlen, "parameter %s of %s: %s", p->name, what, why);
                json_decref(out);
                return -EINVAL;
            }
            if (p->type == PT_STRING && p->required && json_string_length(val) == 0) {
                str_fmt(err, errlen, "parameter %s of %s is required and cannot be empty", p->name,
                        what);
                json_decref(val);
                json_decref(out);
                return -EINVAL;
            }
        } else if (p->def != NULL) {
            val = json_incref(p->def);
        } else if (p->required) {
            str_fmt(err, errlen, "%s needs the parameter %s%s%s%s: add %s=... to the parameters",
                    what, p->name, p->description[0] ? " (" : "", p->description,
                    p->description[0] ? ")" : "", p->name);
            json_decref(out);
            return -EINVAL;
        } else {
            continue;
        }
        if (p->allowed != NULL && !allowed_has(p->allowed, val)) {
            char al[1024];
            list_allowed(p->allowed, al, sizeof(al));
            if (g != NULL)
                str_fmt(err, errlen, "parameter %s of %s cannot be \"%s\"; allowed: %s", p->name,
                        what, p->secret ? "********" : json_string_value(g), al);
            else
                str_fmt(err, errlen, "the default of %s in %s is not among its allowed values: %s",
                        p->name, what, al);
            json_decref(val);
            json_decref(out);
            return -EINVAL;
        }
        json_object_set_new(out, p->name, val);
    }
    *values = out;
    return 0;
}

json_t *params_masked(const struct dv_manifest *m, const json_t *values)
{
    json_t *out = json_deep_copy(values);
    for (int i = 0; i < m->nparams; i++)
        if (m->params[i].secret && json_object_get(out, m->params[i].name) != NULL)
            json_object_set_new(out, m->params[i].name, json_string("********"));
    return out;
}
