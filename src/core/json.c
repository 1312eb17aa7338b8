#define _POSIX_C_SOURCE 200809L
#include "json.h"

#include "str.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void seterr(json_err *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(json_err *e, const char *code, const char *fmt, ...)
{
    if (e == NULL)
        return;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

/* A linear scan that tracks brackets outside strings, so that hostile nesting is refused
 * before jansson's recursive parser is asked to descend. */
int json_nesting_depth(const char *text, size_t len, int max_depth)
{
    int depth = 0, deepest = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > max_depth)
                    return max_depth + 1;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return deepest;
}

/* The one entry point for request bodies, so every endpoint gets the same limits. */
json_t *json_body_object(const char *body, size_t len, json_err *e)
{
    if (body == NULL || len == 0) {
        seterr(e, "invalid_json", "the request body must be a JSON object");
        return NULL;
    }
    if (json_nesting_depth(body, len, JSON_BODY_MAX_DEPTH) > JSON_BODY_MAX_DEPTH) {
        seterr(e, "invalid_json", "the request body is nested deeper than %d levels",
               JSON_BODY_MAX_DEPTH);
        return NULL;
    }
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len || body[i] != '{') {
        seterr(e, "invalid_json", "the request body must be a JSON object");
        return NULL;
    }
    json_error_t jerr;
    /* NULs are allowed through so the field readers can name the field they are in. */
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (v == NULL) {
        seterr(e, "invalid_json", "the request body is not valid JSON: %s (line %d, column %d)",
               jerr.text, jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        seterr(e, "invalid_json", "the request body must be a JSON object");
        return NULL;
    }
    return v;
}

/* The shared start of the field readers: 0 with *v set, 1 when optional and absent (or
 * null), -EINVAL when required and absent. */
static int field_get(json_t *obj, const char *field, int required, json_t **v, json_err *e)
{
    *v = json_object_get(obj, field);
    if (*v != NULL && !(json_is_null(*v) && !required))
        return 0;
    if (!required)
        return 1;
    seterr(e, "invalid_field", "%s is required", field);
    return -EINVAL;
}

/* Typed string access with the API's validation sentences. */
int json_field_str(json_t *obj, const char *field, int required, size_t minlen, size_t maxlen,
                   int no_control, const char **out, json_err *e)
{
    *out = NULL;
    json_t *v;
    int rc = field_get(obj, field, required, &v, e);
    if (rc != 0)
        return rc;
    if (!json_is_string(v)) {
        seterr(e, "invalid_field", "%s must be a string", field);
        return -EINVAL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n) {
        seterr(e, "invalid_field", "%s must not contain NUL characters", field);
        return -EINVAL;
    }
    if (n < minlen) {
        if (minlen <= 1)
            seterr(e, "invalid_field", "%s must not be empty", field);
        else
            seterr(e, "invalid_field", "%s must be at least %zu characters", field, minlen);
        return -EINVAL;
    }
    if (n > maxlen) {
        seterr(e, "invalid_field", "%s is too long (at most %zu bytes)", field, maxlen);
        return -EINVAL;
    }
    if (no_control && str_has_control(s, n)) {
        seterr(e, "invalid_field", "%s must not contain control characters", field);
        return -EINVAL;
    }
    *out = s;
    return 0;
}

/* Typed integer access; reals and strings are refused rather than converted. */
int json_field_int(json_t *obj, const char *field, int required, int64_t min, int64_t max,
                   int64_t *out, json_err *e)
{
    json_t *v;
    int rc = field_get(obj, field, required, &v, e);
    if (rc != 0)
        return rc;
    if (!json_is_integer(v)) {
        seterr(e, "invalid_field", "%s must be an integer", field);
        return -EINVAL;
    }
    json_int_t n = json_integer_value(v);
    if (n < min || n > max) {
        seterr(e, "invalid_field", "%s must be between %lld and %lld", field, (long long)min,
               (long long)max);
        return -EINVAL;
    }
    *out = (int64_t)n;
    return 0;
}

static char *dump(const json_t *v, size_t *len, size_t flags)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | flags);
    if (s == NULL)
        s = xstrdup("null");
    if (len != NULL)
        *len = strlen(s);
    return s;
}

/* Compact and lossless: parsing the result gives back an equal tree. */
char *json_dump_compact(const json_t *v, size_t *len)
{
    return dump(v, len, 0);
}

/* For answers people read: reals with 15 significant digits, so 0.1 CPUs reads "0.1" rather
 * than "0.10000000000000001" (17 digits, jansson's default, round-trips exactly). */
char *json_dump_response(const json_t *v, size_t *len)
{
    return dump(v, len, JSON_REAL_PRECISION(15));
}
