#define _POSIX_C_SOURCE 200809L
#include "yaml_load.h"

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include <yaml.h> /* libyaml */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CORE_TAG "tag:yaml.org,2002:"
#define SHOWN_MAX 48 /* bytes of a user's key or tag quoted back in an error */

enum kind { K_NULL, K_BOOL, K_INT, K_FLOAT, K_NONFINITE, K_STR };

struct frame {
    json_t *node; /* object or array, owned by its parent (or by the loader for the root) */
    char *key;    /* object: the key waiting for its value, else NULL */
};

struct loader {
    const char *buf;
    size_t len;
    size_t max_nodes;
    int max_depth;
    struct frame *stack;
    size_t depth, cap;
    size_t nodes;
    int docs;
    json_t *root;
    char *err;
    size_t errlen;
};


static int fail(struct loader *ld, int rc, const yaml_mark_t *mark, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Every sentence of the loader starts with the 1-based line and column it is about. */
static int fail(struct loader *ld, int rc, const yaml_mark_t *mark, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    str_fmt(ld->err, ld->errlen, "line %zu, column %zu: %s", mark->line + 1, mark->column + 1,
            msg);
    return rc;
}

/* A user's text quoted back in an error: control characters become '?', and long text is
 * cut on a UTF-8 boundary and marked with "...". */
static void shown(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0, i = 0;
    for (; i < n && o + 4 < cap && i < SHOWN_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (i < n) {
        while (o > 0 && ((unsigned char)dst[o - 1] & 0xc0) == 0x80)
            o--; /* drop a cut multi-byte sequence: continuation bytes... */
        if (o > 0 && ((unsigned char)dst[o - 1] & 0xc0) == 0xc0)
            o--; /* ...and its lead byte */
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

/* A tag as the user most likely wrote it: the core prefix shown as "!!". */
static void shown_tag(char *dst, size_t cap, const char *tag)
{
    size_t plen = strlen(CORE_TAG);
    if (strncmp(tag, CORE_TAG, plen) == 0 && cap > 2) {
        memcpy(dst, "!!", 2);
        shown(dst + 2, cap - 2, tag + plen, strlen(tag + plen));
        return;
    }
    shown(dst, cap, tag, strlen(tag));
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The YAML 1.2 core schema's resolution of a plain scalar, limited to decimal numbers. */
static enum kind detect(const char *s, size_t n)
{
    static const char *const nulls[] = {"~", "null", "Null", "NULL"};
    static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
    static const char *const infs[] = {".inf", ".Inf", ".INF"};
    static const char *const nans[] = {".nan", ".NaN", ".NAN"};

    if (n == 0)
        return K_NULL;
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (strcmp(s, nulls[i]) == 0)
            return K_NULL;
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++)
        if (strcmp(s, bools[i]) == 0)
            return K_BOOL;
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    for (size_t j = 0; j < 3; j++)
        if (strcmp(s + i, infs[j]) == 0 || strcmp(s, nans[j]) == 0)
            return K_NONFINITE;

    /* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE][-+]?[0-9]+ )? */
    size_t int_digits = 0, frac_digits = 0;
    int dot = 0;
    while (i < n && is_digit(s[i]))
        i++, int_digits++;
    if (i < n && s[i] == '.') {
        dot = 1;
        i++;
        while (i < n && is_digit(s[i]))
            i++, frac_digits++;
    }
    if (int_digits == 0 && frac_digits == 0)
        return K_STR;
    if (i == n)
        return dot ? K_FLOAT : K_INT;
    if (s[i] != 'e' && s[i] != 'E')
        return K_STR;
    i++;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    size_t exp_digits = 0;
    while (i < n && is_digit(s[i]))
        i++, exp_digits++;
    return (exp_digits > 0 && i == n) ? K_FLOAT : K_STR;
}

/* The kind a scalar's tag asks for, or -1 (with the error set) for a tag outside the core
 * schema or one that does not match the text. */
static int scalar_kind(struct loader *ld, const yaml_event_t *ev, enum kind *k)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    enum kind seen = detect(s, n);
    char t[SHOWN_MAX + 8];

    if (tag == NULL) {
        *k = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? seen : K_STR;
        return 0;
    }
    if (strcmp(tag, "!") == 0 || strcmp(tag, CORE_TAG "str") == 0) {
        *k = K_STR;
        return 0;
    }
    static const struct {
        const char *name;
        enum kind kind;
    } typed[] = {{"null", K_NULL}, {"bool", K_BOOL}, {"int", K_INT}, {"float", K_FLOAT}};
    size_t plen = strlen(CORE_TAG);
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        if (strncmp(tag, CORE_TAG, plen) != 0 || strcmp(tag + plen, typed[i].name) != 0)
            continue;
        int ok = seen == typed[i].kind || (typed[i].kind == K_FLOAT && seen == K_INT) ||
                 (typed[i].kind == K_FLOAT && seen == K_NONFINITE);
        if (!ok) {
            shown(t, sizeof t, s, n);
            return fail(ld, -1, &ev->start_mark, "\"%s\" is not a valid !!%s", t,
                        typed[i].name);
        }
        *k = seen == K_INT && typed[i].kind == K_FLOAT ? K_FLOAT : seen;
        return 0;
    }
    shown_tag(t, sizeof t, tag);
    return fail(ld, -1, &ev->start_mark,
                "the tag %s is not allowed (only the core schema's !!str, !!int, !!float, "
                "!!bool, !!null, !!seq and !!map are)",
                t);
}

/* A scalar value as a new JSON node; -EINVAL with the error set. */
static int scalar_value(struct loader *ld, const yaml_event_t *ev, json_t **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const yaml_mark_t *m = &ev->start_mark;
    char t[SHOWN_MAX + 8];
    enum kind k;

    *out = NULL;
    if (scalar_kind(ld, ev, &k) != 0)
        return -EINVAL;
    switch (k) {
    case K_NULL:
        *out = json_null();
        break;
    case K_BOOL:
        *out = json_boolean(s[0] == 't' || s[0] == 'T');
        break;
    case K_INT: {
        int64_t v;
        if (str_to_int64(s, INT64_MIN, INT64_MAX, &v) != 0) {
            shown(t, sizeof t, s, n);
            return fail(ld, -EINVAL, m, "the integer %s does not fit in 64 bits", t);
        }
        *out = json_integer((json_int_t)v);
        break;
    }
    case K_FLOAT: {
        double v = strtod(s, NULL);
        if (!isfinite(v)) {
            shown(t, sizeof t, s, n);
            return fail(ld, -EINVAL, m, "the number %s is too large", t);
        }
        *out = json_real(v);
        break;
    }
    case K_NONFINITE:
        shown(t, sizeof t, s, n);
        return fail(ld, -EINVAL, m,
                    "%s has no JSON representation (quote it to make it a string)", t);
    case K_STR:
        *out = json_stringn(s, n);
        if (*out == NULL)
            return fail(ld, -EINVAL, m, "a scalar is not valid UTF-8");
        break;
    }
    if (*out == NULL)
        fatalx("jansson: out of memory");
    return 0;
}

/* Puts a new node under the innermost open collection (or makes it the root), consuming
 * the pending key of a mapping. Takes the reference to v. */
static void attach(struct loader *ld, json_t *v)
{
    if (ld->depth == 0) {
        ld->root = v;
        return;
    }
    struct frame *f = &ld->stack[ld->depth - 1];
    int rc;
    if (json_is_array(f->node)) {
        rc = json_array_append_new(f->node, v);
    } else {
        rc = json_object_set_new(f->node, f->key, v); /* the key was checked to be UTF-8 */
        free(f->key);
        f->key = NULL;
    }
    if (rc != 0)
        fatalx("jansson: out of memory");
}

static int key_expected(const struct loader *ld)
{
    if (ld->depth == 0)
        return 0;
    const struct frame *f = &ld->stack[ld->depth - 1];
    return json_is_object(f->node) && f->key == NULL;
}

/* The checks every node goes through, in the order a reader would want them reported. */
static int node_checks(struct loader *ld, const yaml_event_t *ev, const yaml_char_t *anchor)
{
    char t[SHOWN_MAX + 8];
    if (anchor != NULL) {
        shown(t, sizeof t, (const char *)anchor, strlen((const char *)anchor));
        return fail(ld, -EINVAL, &ev->start_mark, "anchors (&%s) are not allowed", t);
    }
    if (ev->type != YAML_SCALAR_EVENT && key_expected(ld))
        return fail(ld, -EINVAL, &ev->start_mark, "a mapping key must be a scalar, not a %s",
                    ev->type == YAML_MAPPING_START_EVENT ? "mapping" : "sequence");
    if (++ld->nodes > ld->max_nodes)
        return fail(ld, -E2BIG, &ev->start_mark, "the document has more than %zu nodes",
                    ld->max_nodes);
    return 0;
}

static int on_scalar(struct loader *ld, const yaml_event_t *ev)
{
    int rc = node_checks(ld, ev, ev->data.scalar.anchor);
    if (rc != 0)
        return rc;
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (memchr(s, '\0', n) != NULL)
        return fail(ld, -EINVAL, &ev->start_mark, "a NUL character is not allowed");
    if (!key_expected(ld)) {
        json_t *v;
        rc = scalar_value(ld, ev, &v);
        if (rc == 0)
            attach(ld, v);
        return rc;
    }
    enum kind k; /* a key is kept as its text, but its tag must still be acceptable */
    if (scalar_kind(ld, ev, &k) != 0)
        return -EINVAL;
    if (!str_is_utf8(s, n))
        return fail(ld, -EINVAL, &ev->start_mark, "a key is not valid UTF-8");
    struct frame *f = &ld->stack[ld->depth - 1];
    if (json_object_get(f->node, s) != NULL) {
        char t[SHOWN_MAX + 8];
        shown(t, sizeof t, s, n);
        return fail(ld, -EINVAL, &ev->start_mark, "duplicate key \"%s\"", t);
    }
    f->key = xstrndup(s, n);
    return 0;
}

static int on_start(struct loader *ld, const yaml_event_t *ev)
{
    int map = ev->type == YAML_MAPPING_START_EVENT;
    const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    const char *tag = (const char *)(map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
    int rc = node_checks(ld, ev, anchor);
    if (rc != 0)
        return rc;
    if (ld->depth >= (size_t)ld->max_depth)
        return fail(ld, -E2BIG, &ev->start_mark, "the document is nested deeper than %d levels",
                    ld->max_depth);
    if (tag != NULL && strcmp(tag, "!") != 0 &&
        strcmp(tag, map ? CORE_TAG "map" : CORE_TAG "seq") != 0) {
        char t[SHOWN_MAX + 8];
        shown_tag(t, sizeof t, tag);
        return fail(ld, -EINVAL, &ev->start_mark, "the tag %s is not allowed on a %s", t,
                    map ? "mapping" : "sequence");
    }
    json_t *node = map ? json_object() : json_array();
    if (node == NULL)
        fatalx("jansson: out of memory");
    attach(ld, node);
    if (ld->depth == ld->cap) {
        ld->cap = ld->cap ? ld->cap * 2 : 8;
        ld->stack = xrealloc(ld->stack, ld->cap * sizeof ld->stack[0]);
    }
    ld->stack[ld->depth].node = node;
    ld->stack[ld->depth].key = NULL;
    ld->depth++;
    return 0;
}

/* One parser event; *done is set at the end of the stream. */
static int on_event(struct loader *ld, const yaml_event_t *ev, int *done)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (ld->docs++ > 0)
            return fail(ld, -EINVAL, &ev->start_mark, "only one document is allowed");
        return 0;
    case YAML_ALIAS_EVENT: {
        char t[SHOWN_MAX + 8];
        const char *a = (const char *)ev->data.alias.anchor;
        shown(t, sizeof t, a, strlen(a));
        return fail(ld, -EINVAL, &ev->start_mark, "aliases (*%s) are not allowed", t);
    }
    case YAML_SCALAR_EVENT:
        return on_scalar(ld, ev);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        return on_start(ld, ev);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        ld->depth--; /* libyaml only emits balanced events */
        return 0;
    case YAML_STREAM_END_EVENT:
        *done = 1;
        return 0;
    default:
        return 0;
    }
}

/* libyaml's own error, as a sentence with a line and column. */
static int parser_error(struct loader *ld, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        fatalx("libyaml: out of memory");
    const char *problem = p->problem != NULL ? p->problem : "syntax error";
    if (p->error == YAML_READER_ERROR) {
        /* reader errors carry a byte offset, not a mark */
        yaml_mark_t m = {0, 0, 0};
        for (size_t i = 0; i < p->problem_offset && i < ld->len; i++) {
            if (ld->buf[i] == '\n')
                m.line++, m.column = 0;
            else
                m.column++;
        }
        return fail(ld, -EINVAL, &m, "%s", problem);
    }
    if (p->context != NULL)
        return fail(ld, -EINVAL, &p->problem_mark, "%s %s", problem, p->context);
    return fail(ld, -EINVAL, &p->problem_mark, "%s", problem);
}

/* The event loop is the one place limits are enforced, so no tree outgrows them. */
int yaml_load_buf(const char *buf, size_t len, const yaml_limits *lim, json_t **out, char *err,
                  size_t errlen)
{
    struct loader ld = {0};
    yaml_parser_t p;
    int rc = 0, done = 0;
    size_t max_bytes = lim != NULL && lim->max_bytes ? lim->max_bytes : YAML_DEFAULT_MAX_BYTES;

    *out = NULL;
    ld.buf = buf;
    ld.len = len;
    ld.max_depth = lim != NULL && lim->max_depth > 0 ? lim->max_depth : YAML_DEFAULT_MAX_DEPTH;
    ld.max_nodes = lim != NULL && lim->max_nodes ? lim->max_nodes : YAML_DEFAULT_MAX_NODES;
    ld.err = err;
    ld.errlen = errlen;
    str_fmt(err, errlen, "%s", "");
    if (len > max_bytes) {
        str_fmt(err, errlen, "the document is %zu bytes, more than the limit of %zu", len,
                max_bytes);
        return -E2BIG;
    }
    if (!yaml_parser_initialize(&p))
        fatalx("libyaml: out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)(len ? buf : ""), len);
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = parser_error(&ld, &p);
            goto out;
        }
        rc = on_event(&ld, &ev, &done);
        yaml_event_delete(&ev);
        if (rc != 0)
            goto out;
    }
    *out = ld.root != NULL ? ld.root : json_null();
    ld.root = NULL;
out:
    for (size_t i = 0; i < ld.depth; i++)
        free(ld.stack[i].key);
    free(ld.stack);
    json_decref(ld.root);
    yaml_parser_delete(&p);
    return rc;
}

/* Reads at most max + 1 bytes of fd into a new buffer. Returns 0, -E2BIG or -errno. */
static int read_bounded(int fd, size_t hint, size_t max, char **out, size_t *outlen)
{
    size_t cap = hint < max ? hint + 1 : max + 1, used = 0;
    char *buf = xmalloc(cap);
    int rc = 0;

    for (;;) {
        if (used == cap) {
            if (cap > max) {
                rc = -E2BIG;
                goto out;
            }
            cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + used, cap - used);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            goto out;
        }
        if (r == 0)
            break;
        used += (size_t)r;
    }
    *out = buf;
    *outlen = used;
    buf = NULL;
out:
    free(buf);
    return rc;
}

/* Non-regular files are refused before they are opened (a FIFO would block, a device could
 * be endless), and the size is checked again on the open descriptor. */
static int check_stat(const char *path, const struct stat *st, size_t max, char *err,
                      size_t errlen)
{
    if (S_ISDIR(st->st_mode)) {
        str_fmt(err, errlen, "%s: is a directory, not a YAML file", path);
        return -EISDIR;
    }
    if (!S_ISREG(st->st_mode)) {
        str_fmt(err, errlen, "%s: is not a regular file", path);
        return -EINVAL;
    }
    if (st->st_size < 0 || (uintmax_t)st->st_size > max) {
        str_fmt(err, errlen, "%s: the file is %jd bytes, more than the limit of %zu", path,
                (intmax_t)st->st_size, max);
        return -E2BIG;
    }
    return 0;
}

/* Configuration and catalog files go through here so their errors name the file. */
int yaml_load_file(const char *path, const yaml_limits *lim, json_t **out, char *err,
                   size_t errlen)
{
    size_t max = lim != NULL && lim->max_bytes ? lim->max_bytes : YAML_DEFAULT_MAX_BYTES;
    yaml_limits l = lim != NULL ? *lim : (yaml_limits){0};
    struct stat st;
    char *buf = NULL, inner[384];
    size_t len = 0;
    int fd = -1, rc;

    *out = NULL;
    if (max > SIZE_MAX / 2)
        max = SIZE_MAX / 2;
    if (stat(path, &st) != 0) {
        rc = -errno;
        str_fmt(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    if ((rc = check_stat(path, &st, max, err, errlen)) != 0)
        goto out;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = -errno;
        str_fmt(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    if ((rc = check_stat(path, &st, max, err, errlen)) != 0)
        goto out;
    rc = read_bounded(fd, (size_t)st.st_size, max, &buf, &len);
    if (rc == -E2BIG) {
        str_fmt(err, errlen, "%s: the file grew past the limit of %zu bytes", path, max);
        goto out;
    }
    if (rc != 0) {
        str_fmt(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
        goto out;
    }
    l.max_bytes = max;
    rc = yaml_load_buf(buf, len, &l, out, inner, sizeof inner);
    if (rc != 0)
        str_fmt(err, errlen, "%s: %s", path, inner);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}
