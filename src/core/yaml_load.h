/* A YAML loader that builds jansson trees (libyaml underneath), so configuration and catalog
 * files share one tree type with the rest of the code. It accepts one document of mappings,
 * sequences and scalars; limits are checked while parsing, before any tree grows:
 *   - the input size (max_bytes), the nesting depth (max_depth) and the number of nodes
 *     (max_nodes) are bounded;
 *   - aliases and anchors are refused (no "billion laughs"), as are tags other than the
 *     core schema's, duplicate mapping keys, non-scalar keys and more than one document.
 * Plain scalars follow the YAML 1.2 core schema: null/~/empty -> null, true/false -> boolean,
 * decimal integers -> integer, decimal floats -> real, everything else -> string. Quoted
 * scalars are always strings. An empty document yields a JSON null. */
#ifndef CLOUDYA_YAML_LOAD_H
#define CLOUDYA_YAML_LOAD_H
#include <jansson.h>
#include <stddef.h>

typedef struct yaml_limits {
    size_t max_bytes;  /* input size; 0 means YAML_DEFAULT_MAX_BYTES */
    int max_depth;     /* nesting of mappings/sequences; 0 means YAML_DEFAULT_MAX_DEPTH */
    size_t max_nodes;  /* scalars + collections; 0 means YAML_DEFAULT_MAX_NODES */
} yaml_limits;

#define YAML_DEFAULT_MAX_BYTES (1024 * 1024)
#define YAML_DEFAULT_MAX_DEPTH 32
#define YAML_DEFAULT_MAX_NODES 100000

/* Parses len bytes of buf (lim may be NULL for the defaults). Returns 0 with *out set (the
 * caller owns the reference), or -EINVAL with a sentence naming the line and column in err
 * (errlen bytes), or -E2BIG when a limit is exceeded (the sentence names it). */
int yaml_load_buf(const char *buf, size_t len, const yaml_limits *lim, json_t **out, char *err,
                  size_t errlen);

/* Reads and parses the regular file at path (refuses directories, devices and files larger
 * than max_bytes before reading them). Same returns as yaml_load_buf, plus -ENOENT / -EACCES
 * / -EISDIR with a sentence naming the file. */
int yaml_load_file(const char *path, const yaml_limits *lim, json_t **out, char *err,
                   size_t errlen);

#endif
