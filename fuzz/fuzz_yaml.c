/* libFuzzer target for src/core/yaml.c: yaml_load_buf over libyaml.
 *
 * The input is parsed with small limits (16 KiB, depth 8, 500 nodes) so that the limit
 * paths are reached often. Besides crashes, leaks and sanitizer reports it checks
 * properties, aborting when one fails:
 *   - the result is 0, -EINVAL or -E2BIG; a refusal leaves *out NULL and writes a
 *     NUL-terminated sentence that starts with "line " (or names the byte limit);
 *   - an accepted tree is within the limits (depth, nodes counted as the loader does),
 *     holds no NUL in any string or key, and serializes to JSON (no NaN or infinity);
 *   - what the small limits accept, the default limits accept as an equal tree;
 *   - JSON is YAML: the compact dump of an accepted tree parses back to an equal tree
 *     (checked when the dump is printable ASCII and no line is near libyaml's 1024-char
 *     limit on simple keys).
 * Seeds: fuzz/corpus/yaml/. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yaml_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const yaml_limits small = {16 * 1024, 8, 500};

/* Nodes as the loader counts them (keys included); the deepest collection nesting. */
static void measure(json_t *v, int level, size_t *nodes, int *depth)
{
    const char *key;
    json_t *child;
    size_t i;

    (*nodes)++;
    if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
        abort();
    if (!json_is_object(v) && !json_is_array(v))
        return;
    if (level + 1 > *depth)
        *depth = level + 1;
    if (json_is_object(v)) {
        json_object_foreach(v, key, child) {
            (*nodes)++;
            measure(child, level + 1, nodes, depth);
        }
    } else {
        json_array_foreach(v, i, child) measure(child, level + 1, nodes, depth);
    }
}

static int round_trippable(const char *s)
{
    size_t line = 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x7f || (c < 0x20 && c != '\n'))
            return 0;
        line = c == '\n' ? 0 : line + 1;
        if (line > 1000)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    json_t *v = (json_t *)1, *again = (json_t *)1;
    char err[256];

    memset(err, 'x', sizeof err);
    int rc = yaml_load_buf(buf, size, &small, &v, err, sizeof err);
    if (rc != 0) {
        if ((rc != -EINVAL && rc != -E2BIG) || v != NULL || memchr(err, '\0', sizeof err) == NULL)
            abort();
        if (strncmp(err, "line ", 5) != 0 && !(rc == -E2BIG && size > small.max_bytes))
            abort();
        return 0;
    }
    if (v == NULL || size > small.max_bytes)
        abort();

    size_t nodes = 0;
    int depth = 0;
    measure(v, 0, &nodes, &depth);
    if (nodes > small.max_nodes || depth > small.max_depth)
        abort();

    /* wider limits never change the answer */
    if (yaml_load_buf(buf, size, NULL, &again, err, sizeof err) != 0 || !json_equal(v, again))
        abort();
    json_decref(again);

    char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_INDENT(1));
    if (dump == NULL)
        abort();
    if (round_trippable(dump)) {
        again = (json_t *)1;
        if (yaml_load_buf(dump, strlen(dump), NULL, &again, err, sizeof err) != 0 ||
            !json_equal(v, again))
            abort();
        json_decref(again);
    }
    free(dump);
    json_decref(v);
    return 0;
}
