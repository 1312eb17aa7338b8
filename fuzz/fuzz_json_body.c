/* libFuzzer target for src/core/json.c: json_nesting_depth, json_body_object,
 * json_field_str, json_field_int and json_dump_compact.
 *
 * Besides crashes and sanitizer reports it checks properties, aborting when one fails:
 *   - a refused body says "invalid_json" with a message; an accepted one is an object
 *     whose nesting is within JSON_BODY_MAX_DEPTH by the pre-scan;
 *   - the pre-scan never reports more than max + 1 and is monotonic in the limit;
 *   - each field reader returns 0, 1 (only when optional) or -EINVAL with
 *     "invalid_field", and a value it returns honours the requested bounds (length,
 *     control characters, valid UTF-8, no NUL; integer range);
 *   - an accepted object dumps compactly and that text is accepted again as an equal
 *     object (no duplicate keys, same depth, valid UTF-8).
 * Seeds: fuzz/corpus/json_body/. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fields[] = {"email", "password",  "name", "image", "id",
                                     "count", "memory_mb", "",     "a"};
#define NFIELDS (sizeof fields / sizeof fields[0])

static void check_field_err(const json_err *e)
{
    if (e->code == NULL || strcmp(e->code, "invalid_field") != 0 || e->msg[0] == '\0') abort();
}

static void check_str(json_t *o, const char *field, int required, size_t minlen, size_t maxlen,
                      int no_control)
{
    const char *s = (const char *)1;
    json_err e = {0};
    int rc = json_field_str(o, field, required, minlen, maxlen, no_control, &s, &e);

    if (rc == 0) {
        if (s == NULL) abort();
        size_t n = strlen(s);
        if (n < minlen || n > maxlen || n != json_string_length(json_object_get(o, field))) abort();
        if (no_control && str_has_control(s, n)) abort();
        if (!str_is_utf8(s, n)) abort();
    } else if (rc == 1) {
        if (required || s != NULL) abort();
        json_t *v = json_object_get(o, field);
        if (v != NULL && !json_is_null(v)) abort();
    } else if (rc == -EINVAL) {
        if (s != NULL) abort();
        check_field_err(&e);
    } else {
        abort();
    }
}

static void check_int(json_t *o, const char *field, int required, int64_t min, int64_t max)
{
    int64_t v = 0;
    json_err e = {0};
    int rc = json_field_int(o, field, required, min, max, &v, &e);

    if (rc == 0) {
        json_t *j = json_object_get(o, field);
        if (v < min || v > max || !json_is_integer(j) || json_integer_value(j) != v) abort();
    } else if (rc == 1) {
        if (required) abort();
    } else if (rc == -EINVAL) {
        check_field_err(&e);
    } else {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    json_err e;

    /* the pre-scan on its own */
    int d32 = json_nesting_depth(body, size, JSON_BODY_MAX_DEPTH);
    int d4 = json_nesting_depth(body, size, 4);
    if (d32 < 0 || d32 > JSON_BODY_MAX_DEPTH + 1 || d4 < 0 || d4 > 5) abort();
    if ((d32 <= 4 && d4 != d32) || (d32 > 4 && d4 != 5)) abort();

    memset(&e, 0, sizeof e);
    json_t *o = json_body_object(body, size, &e);
    if (o == NULL) {
        if (e.code == NULL || strcmp(e.code, "invalid_json") != 0 || e.msg[0] == '\0' ||
            memchr(e.msg, '\0', sizeof e.msg) == NULL)
            abort();
        return 0;
    }
    if (!json_is_object(o) || d32 > JSON_BODY_MAX_DEPTH) abort();

    for (size_t i = 0; i < NFIELDS; i++) {
        check_str(o, fields[i], 1, 1, 254, 1);
        check_str(o, fields[i], 0, 0, 16, 0);
        check_str(o, fields[i], 1, 8, 1024, 0);
        check_int(o, fields[i], 1, 0, 100000);
        check_int(o, fields[i], 0, INT64_MIN, INT64_MAX);
        check_int(o, fields[i], 1, -5, -5);
    }

    size_t len = 0;
    char *dump = json_dump_compact(o, &len);
    if (dump == NULL || len != strlen(dump)) abort();
    json_err e2 = {0};
    json_t *again = json_body_object(dump, len, &e2);
    if (again == NULL || !json_equal(o, again)) abort();
    if (json_nesting_depth(dump, len, JSON_BODY_MAX_DEPTH) != d32) abort();
    json_decref(again);
    free(dump);
    json_decref(o);
    return 0;
}
