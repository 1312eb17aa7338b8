/* The fast reader of the monitor history's lines (mon_history_parse_line, see
 * mon_history.h): a strict JSON walker over one line that keeps only our fields, with the
 * rules of mon_sample_from_json (mon_history_rules.h; the last of duplicate keys wins, a value
 * of the wrong type counts as absent) and the grammar jansson accepts: RFC 8259 numbers,
 * strings of valid UTF-8 with escapes (surrogate pairs joined, "\u0000" refused),
 * true/false/null, whitespace, nothing after the object. Numbers are read with strtod, so
 * LC_NUMERIC must be "C" (the command line never changes it), as for the writer's printf.
 * fuzz/fuzz_history.c holds it to jansson. */
#define _GNU_SOURCE
#include "mon_history.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mon_history_rules.h"

#define KEY_MAX 16     /* our longest key is "inodes_pct"; longer keys are not ours */
#define NUM_TEXT_MAX 64 /* numbers longer than this are read through the heap */

struct jp {
    const char *p, *end;
};

static void jp_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int jp_peek(struct jp *j)
{
    jp_ws(j);
    return j->p < j->end ? (unsigned char)*j->p : -1;
}

static int jp_lit(struct jp *j, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return -1;
    j->p += n;
    return 0;
}

static int hex4(struct jp *j, unsigned *out)
{
    unsigned v = 0;
    if (j->end - j->p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = *j->p++;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16)
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* The length of the valid UTF-8 character at p (first byte >= 0x80), or 0: no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], cp;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Appends bytes to a kept string (the first cap - 1 bytes are kept, NUL-terminated). */
static void keep(char *out, size_t cap, size_t *len, const char *b, size_t n)
{
    if (out == NULL)
        return;
    size_t room = *len < cap - 1 ? cap - 1 - *len : 0;
    if (n > room)
        n = room;
    memcpy(out + *len, b, n);
    *len += n;
    out[*len] = '\0';
}

/* Reads a string at j (at its '"'), keeping its first cap - 1 decoded bytes in out (NULL:
 * keep nothing) and its whole decoded length in *total. Returns 0 or -1. */
static int jp_string(struct jp *j, char *out, size_t cap, size_t *total)
{
    size_t len = 0, all = 0;
    if (out != NULL)
        out[0] = '\0';
    if (j->p >= j->end || *j->p != '"')
        return -1;
    j->p++;
    for (;;) {
        if (j->p >= j->end)
            return -1;
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            break;
        }
        if (c < 0x20)
            return -1;
        if (c >= 0x80) {
            size_t n = utf8_len((const unsigned char *)j->p, (const unsigned char *)j->end);
            if (n == 0)
                return -1;
            keep(out, cap, &len, j->p, n);
            j->p += n;
            all += n;
            continue;
        }
        j->p++;
        if (c != '\\') {
            keep(out, cap, &len, (const char *)&c, 1);
            all++;
            continue;
        }
        if (j->p >= j->end)
            return -1;
        char e = *j->p++, b[4];
        unsigned cp;
        switch (e) {
        case '"': case '\\': case '/':
            b[0] = e;
            break;
        case 'b': b[0] = '\b'; break;
        case 'f': b[0] = '\f'; break;
        case 'n': b[0] = '\n'; break;
        case 'r': b[0] = '\r'; break;
        case 't': b[0] = '\t'; break;
        case 'u':
            if (hex4(j, &cp) != 0 || cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                    return -1;
                j->p += 2;
                if (hex4(j, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return -1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            break;
        default:
            return -1;
        }
        size_t n = 1;
        if (e == 'u') {
            if (cp < 0x80) {
                b[0] = (char)cp;
            } else if (cp < 0x800) {
                b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
            } else if (cp < 0x10000) {
                b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
                b[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
            } else {
                b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
                b[2] = (char)(0x80 | (cp >> 6 & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
            }
        }
        keep(out, cap, &len, b, n);
        all += n;
    }
    if (total != NULL)
        *total = all;
    return 0;
}

static int is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* Reads a number (RFC 8259 grammar) into *out. Returns 0, or -1 for a bad number or one too
 * large for a double (which jansson refuses too). */
static int jp_number(struct jp *j, double *out)
{
    const char *s = j->p, *p = j->p, *end = j->end;
    if (p < end && *p == '-')
        p++;
    if (!is_digit(p, end))
        return -1;
    if (*p == '0')
        p++;
    else
        while (is_digit(p, end))
            p++;
    if (p < end && *p == '.') {
        p++;
        if (!is_digit(p, end))
            return -1;
        while (is_digit(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return -1;
        while (is_digit(p, end))
            p++;
    }
    size_t n = (size_t)(p - s);
    char small[NUM_TEXT_MAX + 1], *text = small;
    if (n > NUM_TEXT_MAX && (text = malloc(n + 1)) == NULL)
        return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    double v = strtod(text, NULL); /* the grammar was checked: strtod reads it all */
    if (text != small)
        free(text);
    if (isinf(v))
        return -1;
    *out = v;
    j->p = p;
    return 0;
}

/* Skips one value of any kind, at depth (the depth it has if it is an array or object). */
static int jp_skip(struct jp *j, int depth)
{
    int c = jp_peek(j);
    double d;
    if (c == '"')
        return jp_string(j, NULL, 0, NULL);
    if (c == '-' || (c >= '0' && c <= '9'))
        return jp_number(j, &d);
    if (c == 't')
        return jp_lit(j, "true");
    if (c == 'f')
        return jp_lit(j, "false");
    if (c == 'n')
        return jp_lit(j, "null");
    if (c != '{' && c != '[')
        return -1;
    if (depth > MON_LINE_DEPTH_MAX)
        return -1;
    char close = c == '{' ? '}' : ']';
    j->p++;
    if (jp_peek(j) == close) {
        j->p++;
        return 0;
    }
    for (;;) {
        if (c == '{') {
            if (jp_peek(j) != '"' || jp_string(j, NULL, 0, NULL) != 0 || jp_peek(j) != ':')
                return -1;
            j->p++;
        }
        if (jp_skip(j, depth + 1) != 0)
            return -1;
        int n = jp_peek(j);
        j->p++;
        if (n == close)
            return 0;
        if (n != ',')
            return -1;
    }
}

/* A number member in [lo, hi] (NaN when of another type or out of range). */
static int jp_num(struct jp *j, int depth, double *dst, double lo, double hi)
{
    int c = jp_peek(j);
    if (c == '-' || (c >= '0' && c <= '9')) {
        double v;
        if (jp_number(j, &v) != 0)
            return -1;
        *dst = mon_rule_in_range(v, lo, hi);
        return 0;
    }
    *dst = NAN;
    return jp_skip(j, depth + 1);
}

/* A name member: cleaned as name_copy does ("" when of another type). */
static int jp_name(struct jp *j, int depth, char *dst)
{
    char raw[MON_NAME_MAX + 1];
    dst[0] = '\0';
    if (jp_peek(j) != '"')
        return jp_skip(j, depth + 1);
    if (jp_string(j, raw, sizeof(raw), NULL) != 0)
        return -1;
    mon_rule_name_copy(dst, raw);
    return 0;
}

typedef int (*member_fn)(struct jp *j, int depth, const char *key, void *ctx);
typedef int (*element_fn)(struct jp *j, int depth, size_t i, void *ctx);

/* Walks the object at j (depth: its own), calling fn for each member with its key ("" for
 * keys that cannot be ours); fn consumes the value. When j is not at an object the value is
 * skipped and fn never called. */
static int jp_object(struct jp *j, int depth, member_fn fn, void *ctx)
{
    if (jp_peek(j) != '{')
        return jp_skip(j, depth);
    if (depth > MON_LINE_DEPTH_MAX)
        return -1;
    j->p++;
    if (jp_peek(j) == '}') {
        j->p++;
        return 0;
    }
    for (;;) {
        char key[KEY_MAX + 1];
        size_t klen;
        if (jp_peek(j) != '"' || jp_string(j, key, sizeof(key), &klen) != 0 ||
            jp_peek(j) != ':')
            return -1;
        j->p++;
        if (fn(j, depth, klen < KEY_MAX ? key : "", ctx) != 0)
            return -1;
        int c = jp_peek(j);
        j->p++;
        if (c == '}')
            return 0;
        if (c != ',')
            return -1;
    }
}

/* Walks the array at j like jp_object. */
static int jp_array(struct jp *j, int depth, element_fn fn, void *ctx)
{
    if (jp_peek(j) != '[')
        return jp_skip(j, depth);
    if (depth > MON_LINE_DEPTH_MAX)
        return -1;
    j->p++;
    if (jp_peek(j) == ']') {
        j->p++;
        return 0;
    }
    for (size_t i = 0;; i++) {
        if (fn(j, depth, i, ctx) != 0)
            return -1;
        int c = jp_peek(j);
        j->p++;
        if (c == ']')
            return 0;
        if (c != ',')
            return -1;
    }
}

/* The members of our objects, by key. */
static int cpu_member(struct jp *j, int depth, const char *key, void *ctx)
{
    struct mon_sample *s = ctx;
    double *dst = !strcmp(key, "total")    ? &s->cpu
                  : !strcmp(key, "user")   ? &s->cpu_user
                  : !strcmp(key, "system") ? &s->cpu_system
                  : !strcmp(key, "iowait") ? &s->cpu_iowait
                  : !strcmp(key, "steal")  ? &s->cpu_steal
                                           : NULL;
    return dst ? jp_num(j, depth, dst, 0, PCT_MAX) : jp_skip(j, depth + 1);
}

static int mem_member(struct jp *j, int depth, const char *key, void *ctx)
{
    struct mon_sample *s = ctx;
    if (!strcmp(key, "used_pct"))
        return jp_num(j, depth, &s->mem_used_pct, 0, PCT_MAX);
    if (!strcmp(key, "swap_pct"))
        return jp_num(j, depth, &s->swap_pct, 0, PCT_MAX);
    double *dst = !strcmp(key, "used")         ? &s->mem_used
                  : !strcmp(key, "total")      ? &s->mem_total
                  : !strcmp(key, "available")  ? &s->mem_available
                  : !strcmp(key, "swap_used")  ? &s->swap_used
                  : !strcmp(key, "swap_total") ? &s->swap_total
                                               : NULL;
    return dst ? jp_num(j, depth, dst, 0, BYTES_MAX) : jp_skip(j, depth + 1);
}

static int procs_member(struct jp *j, int depth, const char *key, void *ctx)
{
    struct mon_sample *s = ctx;
    double *dst = !strcmp(key, "total")     ? &s->procs_total
                  : !strcmp(key, "running") ? &s->procs_running
                  : !strcmp(key, "blocked") ? &s->procs_blocked
                  : !strcmp(key, "zombie")  ? &s->procs_zombie
                  : !strcmp(key, "threads") ? &s->procs_threads
                                            : NULL;
    return dst ? jp_num(j, depth, dst, 0, COUNT_MAX) : jp_skip(j, depth + 1);
}

static int load_element(struct jp *j, int depth, size_t i, void *ctx)
{
    struct mon_sample *s = ctx;
    double ignored;
    return jp_num(j, depth, i < 3 ? &s->load[i] : &ignored, 0, LOAD_MAX);
}

/* An entry of a list, read whole before the rules of *_take decide. */
struct entry {
    struct mon_sample *s;
    union {
        struct mon_disk disk;
        struct mon_io io;
        struct mon_net net;
        struct mon_top top;
    } u;
    double pid;
};

static int disk_member(struct jp *j, int depth, const char *key, void *ctx)
{
    struct mon_disk *d = &((struct entry *)ctx)->u.disk;
    if (!strcmp(key, "mount"))
        return jp_name(j, depth, d->mount);
    if (!strcmp(key, "used_pct"))
        return jp_num(j, depth, &d->used_pct, 0, PCT_MAX);
    if (!strcmp(key, "inodes_pct"))
        return jp_num(j, depth, &d->inodes_pct, 0, PCT_MAX);
    if (!strcmp(key, "avail"))
        return jp_num(j, depth, &d->avail, 0, BYTES_MAX);
    if (!strcmp(key, "total"))
        return jp_num(j, depth, &d->total, 0, BYTES_MAX);
    return jp_skip(j, depth + 1);
}

static int io_member(struct jp *j, int depth, const char *key, void *ctx)
{
    struct mon_io *d = &((struct entry *)ctx)->u.io;
    if (!strcmp(key, "device"))
        return jp_name(j, depth, d->device);
    if (!strcmp(key, "read_bps"))
        return jp_num(j, depth, &d->read_bps, 0, RATE_MAX);
    if (!strcmp(key, "write_bps"))
        return jp_num(j, depth, &d->write_bps, 0, RATE_MAX);
    return jp_skip(j, depth + 1);
}

static int net_member(struct jp *j, int depth, const char *key, void *ctx)
{
    struct mon_net *d = &((struct entry *)ctx)->u.net;
    if (!strcmp(key, "iface"))
        return jp_name(j, depth, d->iface);
    if (!strcmp(key, "rx_bps"))
        return jp_num(j, depth, &d->rx_bps, 0, RATE_MAX);
    if (!strcmp(key, "tx_bps"))
        return jp_num(j, depth, &d->tx_bps, 0, RATE_MAX);
    return jp_skip(j, depth + 1);
}

static int top_member(struct jp *j, int depth, const char *key, void *ctx)
{
    struct entry *e = ctx;
    if (!strcmp(key, "pid"))
        return jp_num(j, depth, &e->pid, 0, PID_MAX);
    if (!strcmp(key, "name"))
        return jp_name(j, depth, e->u.top.name);
    if (!strcmp(key, "cpu"))
        return jp_num(j, depth, &e->u.top.cpu, 0, PROC_CPU_MAX);
    if (!strcmp(key, "mem_pct"))
        return jp_num(j, depth, &e->u.top.mem_pct, 0, PCT_MAX);
    return jp_skip(j, depth + 1);
}

enum list { L_DISKS, L_IO, L_NET, L_TOP };

struct list_ctx {
    struct mon_sample *s;
    enum list which;
};

static int list_element(struct jp *j, int depth, size_t i, void *ctx)
{
    (void)i;
    struct list_ctx *l = ctx;
    struct entry e;
    memset(&e, 0, sizeof(e));
    e.s = l->s;
    static const member_fn fns[] = {disk_member, io_member, net_member, top_member};
    switch (l->which) {
    case L_DISKS:
        e.u.disk.used_pct = e.u.disk.avail = e.u.disk.total = e.u.disk.inodes_pct = NAN;
        break;
    case L_IO:
        e.u.io.read_bps = e.u.io.write_bps = NAN;
        break;
    case L_NET:
        e.u.net.rx_bps = e.u.net.tx_bps = NAN;
        break;
    case L_TOP:
        e.u.top.cpu = e.u.top.mem_pct = e.pid = NAN;
        break;
    }
    if (jp_peek(j) != '{')
        return jp_skip(j, depth + 1); /* not an object: not an entry */
    if (jp_object(j, depth + 1, fns[l->which], &e) != 0)
        return -1;
    switch (l->which) {
    case L_DISKS:
        mon_rule_take_disk(l->s, &e.u.disk);
        break;
    case L_IO:
        mon_rule_take_io(l->s, &e.u.io);
        break;
    case L_NET:
        mon_rule_take_net(l->s, &e.u.net);
        break;
    case L_TOP:
        mon_rule_take_top(l->s, &e.u.top, e.pid);
        break;
    }
    return 0;
}

struct line_ctx {
    struct mon_sample *s;
    double v, t, ncpu;
};

static int line_member(struct jp *j, int depth, const char *key, void *ctx)
{
    struct line_ctx *c = ctx;
    struct mon_sample *s = c->s;
    if (!strcmp(key, "v"))
        return jp_num(j, depth, &c->v, -INFINITY, INFINITY);
    if (!strcmp(key, "t"))
        return jp_num(j, depth, &c->t, 0, MON_SAMPLE_T_MAX);
    if (!strcmp(key, "host"))
        return jp_name(j, depth, s->host);
    if (!strcmp(key, "elapsed"))
        return jp_num(j, depth, &s->elapsed, 0, ELAPSED_MAX);
    if (!strcmp(key, "ncpu"))
        return jp_num(j, depth, &c->ncpu, 1, NCPU_MAX);
    if (!strcmp(key, "cpu")) { /* a repeated object replaces the first one whole */
        s->cpu = s->cpu_user = s->cpu_system = s->cpu_iowait = s->cpu_steal = NAN;
        return jp_object(j, depth + 1, cpu_member, s);
    }
    if (!strcmp(key, "mem")) {
        s->mem_used_pct = s->mem_used = s->mem_total = s->mem_available = NAN;
        s->swap_used = s->swap_total = s->swap_pct = NAN;
        return jp_object(j, depth + 1, mem_member, s);
    }
    if (!strcmp(key, "procs")) {
        s->procs_total = s->procs_running = s->procs_blocked = NAN;
        s->procs_zombie = s->procs_threads = NAN;
        return jp_object(j, depth + 1, procs_member, s);
    }
    if (!strcmp(key, "load")) {
        s->load[0] = s->load[1] = s->load[2] = NAN;
        return jp_array(j, depth + 1, load_element, s);
    }
    struct list_ctx l = {s, L_DISKS};
    if (!strcmp(key, "disks"))
        s->ndisks = 0;
    else if (!strcmp(key, "io"))
        l.which = L_IO, s->nio = 0;
    else if (!strcmp(key, "net"))
        l.which = L_NET, s->nnet = 0;
    else if (!strcmp(key, "top"))
        l.which = L_TOP, s->ntop = 0;
    else
        return jp_skip(j, depth + 1);
    return jp_array(j, depth + 1, list_element, &l);
}

int mon_history_parse_line(const char *line, size_t len, struct mon_sample *out)
{
    if (line == NULL || len == 0 || len > MON_HISTORY_LINE_MAX)
        return -EINVAL;
    struct mon_sample *s = out;
    memset(s, 0, sizeof(*s));
    s->elapsed = s->cpu = s->cpu_user = s->cpu_system = s->cpu_iowait = s->cpu_steal = NAN;
    s->load[0] = s->load[1] = s->load[2] = NAN;
    s->mem_used_pct = s->mem_used = s->mem_total = s->mem_available = NAN;
    s->swap_used = s->swap_total = s->swap_pct = NAN;
    s->procs_total = s->procs_running = s->procs_blocked = s->procs_zombie = NAN;
    s->procs_threads = NAN;
    struct line_ctx c = {s, NAN, NAN, NAN};
    struct jp j = {line, line + len};
    if (jp_peek(&j) != '{' || jp_object(&j, 1, line_member, &c) != 0 || jp_peek(&j) != -1)
        return -EINVAL;
    if (c.v != MON_HISTORY_VERSION || !(c.t > 0 && c.t < MON_SAMPLE_T_MAX))
        return -EINVAL;
    s->t = c.t;
    s->ncpu = isnan(c.ncpu) ? 0 : (int)c.ncpu;
    return 0;
}
