/* Request-body parsing and field validation on top of jansson, with the limits applied
 * before the parser sees the bytes. Validation failures carry the API error code and a
 * sentence naming the field. */
#ifndef CLOUDYA_JSON_H
#define CLOUDYA_JSON_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_BODY_MAX_DEPTH 32

typedef struct json_err {
    const char *code; /* "invalid_json" | "invalid_field" */
    char msg[256];
} json_err;

/* Returns the depth of the deepest array/object nesting in text (strings skipped), or
 * max_depth + 1 as soon as it is exceeded. */
int json_nesting_depth(const char *text, size_t len, int max_depth);

/* Parses a request body that must be one JSON object: no duplicate keys, nesting at most
 * JSON_BODY_MAX_DEPTH, valid UTF-8. Returns a new reference, or NULL with e filled. */
json_t *json_body_object(const char *body, size_t len, json_err *e);

/* Reads a required (or optional when !required) string field of obj whose length in bytes
 * is in [minlen, maxlen] and which holds no control characters when no_control. Returns
 * 0 with *out pointing into obj, 1 when optional and absent (*out = NULL), or -EINVAL with
 * e filled ("<field> must be a string", "<field> is required", "<field> is too long"...). */
int json_field_str(json_t *obj, const char *field, int required, size_t minlen, size_t maxlen,
                   int no_control, const char **out, json_err *e);

/* Reads an integer field in [min, max]; same returns as json_field_str. */
int json_field_int(json_t *obj, const char *field, int required, int64_t min, int64_t max,
                   int64_t *out, json_err *e);

/* Serializes compactly; the caller frees the result. Never NULL (aborts on OOM). */
char *json_dump_compact(const json_t *v, size_t *len);

/* Like json_dump_compact, with reals rounded to 15 significant digits (API answers). */
char *json_dump_response(const json_t *v, size_t *len);

#endif
