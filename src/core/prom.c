#define _POSIX_C_SOURCE 200809L
#include "prom.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define NUM_MAX 40 /* a formatted double: "%.17g" needs at most 24 bytes */
#define SAMPLE_LABELS_MAX (PROM_LABELS_MAX + 1) /* the caller's pairs and "le" */

/* ---- names and numbers -------------------------------------------------------------- */

static int name_char(char c, int first, int colon)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
        return 1;
    if (c == ':')
        return colon;
    return !first && c >= '0' && c <= '9';
}

/* A grammar check only; no length limit beyond the string's. */
int prom_name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return 0;
    for (size_t i = 0; name[i] != '\0'; i++)
        if (!name_char(name[i], i == 0, 1))
            return 0;
    return 1;
}

/* The metric name grammar without ':' and with the reserved "__" prefix refused. */
int prom_label_name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0' || (name[0] == '_' && name[1] == '_'))
        return 0;
    for (size_t i = 0; name[i] != '\0'; i++)
        if (!name_char(name[i], i == 0, 0))
            return 0;
    return 1;
}

/* Formats v as the exposition format wants it (see prom.h) into out (NUM_MAX bytes). */
static void format_value(char *out, double v)
{
    if (isnan(v)) {
        snprintf(out, NUM_MAX, "NaN");
    } else if (isinf(v)) {
        snprintf(out, NUM_MAX, "%s", v > 0 ? "+Inf" : "-Inf");
    } else if (v == trunc(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0) {
        snprintf(out, NUM_MAX, "%" PRId64, (int64_t)v);
    } else {
        /* The shortest of 15, 16 or 17 significant digits that reads back exactly. */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(out, NUM_MAX, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
}

/* ---- escaping ----------------------------------------------------------------------- */

/* The length (1-4) of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid:
 * overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Appends s escaped: backslash and newline always, the double quote when quotes is set
 * (label values; HELP text keeps its quotes), invalid UTF-8 bytes as U+FFFD. */
static int put_escaped(buf *b, const char *s, int quotes)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), run = 0; /* bytes of p before i that need no escaping */
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        const char *rep = NULL;
        size_t seq = 1;
        if (p[i] == '\\')
            rep = "\\\\";
        else if (p[i] == '\n')
            rep = "\\n";
        else if (p[i] == '"' && quotes)
            rep = "\\\"";
        else if ((seq = utf8_seq(p + i, n - i)) == 0)
            rep = "\xef\xbf\xbd", seq = 1;
        if (rep == NULL) {
            i += seq;
            run += seq;
            continue;
        }
        rc = buf_append(b, p + i - run, run);
        if (rc == 0)
            rc = buf_puts(b, rep);
        run = 0;
        i += seq;
    }
    if (rc == 0)
        rc = buf_append(b, p + n - run, run);
    return rc;
}

/* ---- lines -------------------------------------------------------------------------- */

/* Undoes a partly written line, so a document never holds half a line, and marks b. */
static void rollback(buf *b, size_t mark)
{
    if (b->data != NULL && mark <= b->len) {
        b->len = mark;
        b->data[mark] = '\0';
    }
    b->failed = 1;
}

/* Writes name+suffix{keys[i]="vals[i]",...} value. Returns 0, -EINVAL (bad name: nothing
 * written) or -ENOBUFS (nothing written). */
static int put_sample(buf *b, const char *name, const char *suffix, const char *const *keys,
                      const char *const *vals, size_t n, double value)
{
    size_t mark = b->len;
    if (!prom_name_valid(name))
        goto bad;
    for (size_t i = 0; i < n; i++)
        if (!prom_label_name_valid(keys[i]) || vals[i] == NULL)
            goto bad;
    char num[NUM_MAX];
    format_value(num, value);
    int rc = buf_puts(b, name);
    if (rc == 0)
        rc = buf_puts(b, suffix);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = buf_printf(b, "%s%s=\"", i == 0 ? "{" : ",", keys[i]);
        if (rc == 0)
            rc = put_escaped(b, vals[i], 1);
        if (rc == 0)
            rc = buf_puts(b, "\"");
    }
    if (rc == 0 && n > 0)
        rc = buf_puts(b, "}");
    if (rc == 0)
        rc = buf_printf(b, " %s\n", num);
    if (rc != 0)
        rollback(b, mark);
    return rc;
bad:
    b->failed = 1;
    return -EINVAL;
}

/* Splits a NULL-terminated key, value list into arrays (room for SAMPLE_LABELS_MAX).
 * Returns the number of pairs, or -EINVAL when there are more than max or one is odd. */
static int split_pairs(const char *const *labels, size_t max, const char **keys,
                       const char **vals)
{
    size_t n = 0;
    for (; labels != NULL && labels[2 * n] != NULL; n++) {
        if (n == max || labels[2 * n + 1] == NULL)
            return -EINVAL;
        keys[n] = labels[2 * n];
        vals[n] = labels[2 * n + 1];
    }
    return (int)n;
}

/* HELP and TYPE are written as one unit: both or neither. */
void prom_family(buf *b, const char *name, const char *type, const char *help)
{
    static const char *const types[] = {"counter", "gauge", "histogram", "summary",
                                        "untyped"};
    int known = 0;
    for (size_t i = 0; type != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        known |= strcmp(type, types[i]) == 0;
    if (!known || !prom_name_valid(name)) {
        b->failed = 1;
        return;
    }
    size_t mark = b->len;
    int rc = 0;
    if (help != NULL) {
        rc = buf_printf(b, "# HELP %s ", name);
        if (rc == 0)
            rc = put_escaped(b, help, 0);
        if (rc == 0)
            rc = buf_puts(b, "\n");
    }
    if (rc == 0)
        rc = buf_printf(b, "# TYPE %s %s\n", name, type);
    if (rc != 0)
        rollback(b, mark);
}

/* The public form of put_sample, with the caller's NULL-terminated pairs. */
void prom_sample(buf *b, const char *name, const char *const *labels, double value)
{
    const char *keys[SAMPLE_LABELS_MAX], *vals[SAMPLE_LABELS_MAX];
    int n = split_pairs(labels, PROM_LABELS_MAX, keys, vals);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    put_sample(b, name, "", keys, vals, (size_t)n, value);
}

/* ---- atomics for doubles ------------------------------------------------------------ */

static double bits_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static uint64_t double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

/* A lock-free add on a double kept as its bits (C11 has no atomic floating add). */
static void atomic_add_double(_Atomic uint64_t *a, double delta)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, double_bits(bits_double(old) + delta),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* ---- histogram ---------------------------------------------------------------------- */

struct prom_histogram {
    size_t n;
    double bounds[PROM_BUCKETS_MAX];
    _Atomic uint64_t counts[PROM_BUCKETS_MAX + 1]; /* per bucket, not cumulative; [n]: +Inf */
    _Atomic uint64_t sum;                          /* bits of a double */
};

static int bounds_valid(const double *bounds, size_t n)
{
    if (n > PROM_BUCKETS_MAX || (n > 0 && bounds == NULL))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
            return 0;
    return 1;
}

/* Validates before allocating, so NULL means only "invalid bounds" (allocation aborts). */
prom_histogram *prom_histogram_new(const double *bounds, size_t n)
{
    if (!bounds_valid(bounds, n))
        return NULL;
    prom_histogram *h = xcalloc(1, sizeof(*h));
    h->n = n;
    if (n > 0)
        memcpy(h->bounds, bounds, n * sizeof(*bounds));
    for (size_t i = 0; i <= n; i++)
        atomic_init(&h->counts[i], 0);
    atomic_init(&h->sum, double_bits(0.0));
    return h;
}

/* A binary search for the first bound >= v, then two relaxed atomic updates. */
void prom_histogram_observe(prom_histogram *h, double v)
{
    if (h == NULL || isnan(v))
        return;
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v <= h->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&h->counts[lo], 1, memory_order_relaxed);
    atomic_add_double(&h->sum, v);
}

/* Writes the buckets of h with the given label arrays (room for one more, "le"). */
static int put_histogram(buf *b, const char *name, const char **keys, const char **vals,
                         size_t n, const prom_histogram *h)
{
    uint64_t counts[PROM_BUCKETS_MAX + 1], total = 0;
    for (size_t i = 0; i <= h->n; i++)
        counts[i] = atomic_load_explicit(&h->counts[i], memory_order_relaxed);
    double sum = bits_double(atomic_load_explicit(&h->sum, memory_order_relaxed));
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], "le") == 0) {
            b->failed = 1;
            return -EINVAL;
        }
    size_t mark = b->len;
    int rc = 0;
    keys[n] = "le";
    for (size_t i = 0; i <= h->n && rc == 0; i++) {
        char le[NUM_MAX];
        if (i < h->n)
            format_value(le, h->bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        total += counts[i];
        vals[n] = le;
        rc = put_sample(b, name, "_bucket", keys, vals, n + 1, (double)total);
    }
    if (rc == 0)
        rc = put_sample(b, name, "_sum", keys, vals, n, sum);
    if (rc == 0)
        rc = put_sample(b, name, "_count", keys, vals, n, (double)total);
    if (rc != 0)
        rollback(b, mark); /* the whole histogram or none of it */
    return rc;
}

void prom_histogram_write(buf *b, const char *name, const char *const *labels,
                          const prom_histogram *h)
{
    const char *keys[SAMPLE_LABELS_MAX], *vals[SAMPLE_LABELS_MAX];
    int n = split_pairs(labels, PROM_LABELS_MAX, keys, vals);
    if (n < 0 || h == NULL) {
        b->failed = 1;
        return;
    }
    put_histogram(b, name, keys, vals, (size_t)n, h);
}

void prom_histogram_free(prom_histogram *h)
{
    free(h);
}

/* ---- sets: an insert-only open-addressed table of series ---------------------------- */

struct series {
    uint64_t hash;
    _Atomic uint64_t value; /* counter sets: bits of a double */
    prom_histogram *h;      /* histogram sets */
    const char *vals[PROM_LABELS_MAX]; /* into text; "" past the set's nlabels */
    char text[];                        /* the values, each NUL-terminated */
};

/* Series are only ever added (until the set is freed), so a reader holding a pointer from
 * the table never sees it freed: no reclamation scheme is needed. */
struct table {
    size_t nlabels, capacity, mask;
    char *names[PROM_LABELS_MAX];
    _Atomic(struct series *) *slots;
    atomic_size_t count; /* series reserved or inserted, the folded one excluded */
    struct series *other;
    atomic_int other_used;
    double bounds[PROM_BUCKETS_MAX]; /* histogram sets */
    size_t nbounds;
    int histograms;
};

struct prom_counter_set {
    struct table t;
};

struct prom_histogram_set {
    struct table t;
};

/* FNV-1a over the values, each followed by a 0xff byte (which UTF-8 never holds), so
 * ("ab","c") and ("a","bc") differ. */
static uint64_t tuple_hash(const char *const *vals, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)vals[i]; *p != '\0'; p++)
            h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return h;
}

static struct series *series_new(const struct table *t, const char *const *vals,
                                 uint64_t hash)
{
    size_t lens[PROM_LABELS_MAX], total = 0;
    for (size_t i = 0; i < t->nlabels; i++) {
        lens[i] = strlen(vals[i]);
        total += lens[i] + 1;
    }
    struct series *s = xcalloc(1, sizeof(*s) + total);
    s->hash = hash;
    atomic_init(&s->value, double_bits(0.0));
    char *p = s->text;
    for (size_t i = 0; i < t->nlabels; i++) {
        memcpy(p, vals[i], lens[i] + 1);
        s->vals[i] = p;
        p += lens[i] + 1;
    }
    for (size_t i = t->nlabels; i < PROM_LABELS_MAX; i++)
        s->vals[i] = "";
    if (t->histograms)
        s->h = prom_histogram_new(t->bounds, t->nbounds); /* bounds checked at creation */
    return s;
}

static void series_free(struct series *s)
{
    if (s != NULL)
        prom_histogram_free(s->h);
    free(s);
}

static int series_equal(const struct table *t, const struct series *s,
                        const char *const *vals, uint64_t hash)
{
    if (s->hash != hash)
        return 0;
    for (size_t i = 0; i < t->nlabels; i++)
        if (strcmp(s->vals[i], vals[i]) != 0)
            return 0;
    return 1;
}

/* Probes from the hash's slot; an empty slot ends the search and is claimed (CAS) for a new
 * series unless the capacity is used up. Returns the series to update, never NULL. */
static struct series *table_find(struct table *t, const char *const *vals)
{
    if (vals == NULL)
        goto other;
    for (size_t i = 0; i < t->nlabels; i++)
        if (vals[i] == NULL || strnlen(vals[i], PROM_LABEL_VALUE_MAX + 1) > PROM_LABEL_VALUE_MAX)
            goto other;
    uint64_t hash = tuple_hash(vals, t->nlabels);
    for (size_t probe = 0, i = hash & t->mask; probe <= t->mask; probe++, i = (i + 1) & t->mask) {
        struct series *s = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (s == NULL) {
            if (atomic_fetch_add(&t->count, 1) >= t->capacity) {
                atomic_fetch_sub(&t->count, 1);
                goto other;
            }
            struct series *mine = series_new(t, vals, hash);
            if (atomic_compare_exchange_strong_explicit(&t->slots[i], &s, mine,
                                                        memory_order_acq_rel,
                                                        memory_order_acquire))
                return mine;
            series_free(mine); /* another thread filled the slot first: s is theirs */
            atomic_fetch_sub(&t->count, 1);
        }
        if (series_equal(t, s, vals, hash)) {
            if (s == t->other && !atomic_load_explicit(&t->other_used, memory_order_relaxed))
                atomic_store_explicit(&t->other_used, 1, memory_order_relaxed);
            return s;
        }
    }
other:
    if (!atomic_load_explicit(&t->other_used, memory_order_relaxed))
        atomic_store_explicit(&t->other_used, 1, memory_order_relaxed);
    return t->other;
}

/* Places the folded series in the table, so a tuple of all PROM_OTHER finds it and the
 * output never holds two series with the same labels. */
static void table_put_other(struct table *t)
{
    const char *vals[PROM_LABELS_MAX];
    for (size_t i = 0; i < t->nlabels; i++)
        vals[i] = PROM_OTHER;
    uint64_t hash = tuple_hash(vals, t->nlabels);
    t->other = series_new(t, vals, hash);
    size_t i = hash & t->mask;
    while (atomic_load_explicit(&t->slots[i], memory_order_relaxed) != NULL)
        i = (i + 1) & t->mask;
    atomic_store_explicit(&t->slots[i], t->other, memory_order_relaxed);
}

static int table_init(struct table *t, size_t nlabels, const char *const *names,
                      size_t capacity)
{
    if (nlabels == 0 || nlabels > PROM_LABELS_MAX || names == NULL || capacity == 0 ||
        capacity > PROM_SERIES_MAX)
        return -EINVAL;
    for (size_t i = 0; i < nlabels; i++) {
        if (!prom_label_name_valid(names[i]) || strcmp(names[i], "le") == 0)
            return -EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return -EINVAL;
    }
    t->nlabels = nlabels;
    t->capacity = capacity;
    for (size_t i = 0; i < nlabels; i++)
        t->names[i] = xstrdup(names[i]);
    size_t size = 4; /* at least twice the series (capacity + the folded one): short probes */
    while (size < 2 * (capacity + 1))
        size *= 2;
    t->mask = size - 1;
    t->slots = xcalloc(size, sizeof(*t->slots));
    for (size_t i = 0; i < size; i++)
        atomic_init(&t->slots[i], NULL);
    atomic_init(&t->count, 0);
    atomic_init(&t->other_used, 0);
    table_put_other(t);
    return 0;
}

static void table_fini(struct table *t)
{
    for (size_t i = 0; i <= t->mask; i++)
        series_free(atomic_load_explicit(&t->slots[i], memory_order_relaxed));
    free(t->slots);
    for (size_t i = 0; i < t->nlabels; i++)
        free(t->names[i]);
}

/* Unused value slots hold "", so comparing all PROM_LABELS_MAX needs no label count (qsort
 * has no context argument). */
static int series_cmp(const void *a, const void *b)
{
    const struct series *x = *(const struct series *const *)a;
    const struct series *y = *(const struct series *const *)b;
    for (size_t i = 0; i < PROM_LABELS_MAX; i++) {
        int c = strcmp(x->vals[i], y->vals[i]);
        if (c != 0)
            return c;
    }
    return 0;
}

/* The series to write, sorted by values (the folded one only when used). The caller frees
 * the array; *n receives its length. */
static struct series **table_snapshot(const struct table *t, size_t *n)
{
    struct series **v = xcalloc(t->mask + 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i <= t->mask; i++) {
        struct series *s = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (s != NULL && (s != t->other || atomic_load(&t->other_used)))
            v[k++] = s;
    }
    qsort(v, k, sizeof(*v), series_cmp);
    *n = k;
    return v;
}

/* Writes every series: one sample each for counter sets, buckets, sum and count for
 * histogram sets. A series that does not fit is left out whole (b->failed set). */
static void table_write(buf *b, const char *name, const struct table *t)
{
    size_t n = 0;
    struct series **v = table_snapshot(t, &n);
    const char *keys[SAMPLE_LABELS_MAX], *vals[SAMPLE_LABELS_MAX];
    for (size_t i = 0; i < t->nlabels; i++)
        keys[i] = t->names[i];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < t->nlabels; j++)
            vals[j] = v[i]->vals[j];
        if (t->histograms)
            put_histogram(b, name, keys, vals, t->nlabels, v[i]->h);
        else
            put_sample(b, name, "", keys, vals, t->nlabels,
                       bits_double(atomic_load_explicit(&v[i]->value, memory_order_relaxed)));
    }
    free(v);
}

/* ---- counter set -------------------------------------------------------------------- */

/* Validates everything before allocating, so NULL only means invalid arguments. */
prom_counter_set *prom_counter_set_new(size_t nlabels, const char *const *label_names,
                                       size_t capacity)
{
    prom_counter_set *s = xcalloc(1, sizeof(*s));
    if (table_init(&s->t, nlabels, label_names, capacity) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* One table probe (usually a single slot) and a CAS add. */
void prom_counter_set_add(prom_counter_set *s, const char *const *values, double delta)
{
    if (s == NULL || !isfinite(delta) || delta < 0)
        return;
    atomic_add_double(&table_find(&s->t, values)->value, delta);
}

void prom_counter_set_write(buf *b, const char *name, const prom_counter_set *s)
{
    if (s == NULL) {
        b->failed = 1;
        return;
    }
    table_write(b, name, &s->t);
}

void prom_counter_set_free(prom_counter_set *s)
{
    if (s == NULL)
        return;
    table_fini(&s->t);
    free(s);
}

/* ---- histogram set ------------------------------------------------------------------ */

/* As prom_counter_set_new, with the bounds checked once here for every later series. */
prom_histogram_set *prom_histogram_set_new(size_t nlabels, const char *const *label_names,
                                           size_t capacity, const double *bounds, size_t n)
{
    if (!bounds_valid(bounds, n))
        return NULL;
    prom_histogram_set *s = xcalloc(1, sizeof(*s));
    s->t.histograms = 1;
    s->t.nbounds = n;
    if (n > 0)
        memcpy(s->t.bounds, bounds, n * sizeof(*bounds));
    if (table_init(&s->t, nlabels, label_names, capacity) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void prom_histogram_set_observe(prom_histogram_set *s, const char *const *values, double v)
{
    if (s == NULL || isnan(v))
        return;
    prom_histogram_observe(table_find(&s->t, values)->h, v);
}

void prom_histogram_set_write(buf *b, const char *name, const prom_histogram_set *s)
{
    if (s == NULL) {
        b->failed = 1;
        return;
    }
    table_write(b, name, &s->t);
}

void prom_histogram_set_free(prom_histogram_set *s)
{
    if (s == NULL)
        return;
    table_fini(&s->t);
    free(s);
}
