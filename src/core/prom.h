/* Prometheus text exposition format 0.0.4 for GET /metrics, and the thread-safe metric types
 * the daemon keeps (histograms, labelled counter and histogram sets).
 *
 * Writers append to a buf and never leave half a line: when a line does not fit in the
 * buf's maximum, or a metric or label name is invalid, the line is left out entirely and
 * b->failed is set, so a handler writes the whole document and checks b->failed once.
 * Numbers are written with the C locale's '.' (the daemon never calls setlocale). The
 * caller writes each family's header (prom_family) before its samples. */
#ifndef CLOUDYA_PROM_H
#define CLOUDYA_PROM_H
#include <stddef.h>

#include "buf.h"

#define PROM_LABELS_MAX 8            /* label pairs on one sample (plus "le" for buckets) */
#define PROM_LABEL_VALUE_MAX 256     /* bytes of one label value kept by the sets */
#define PROM_BUCKETS_MAX 64          /* bounds of one histogram */
#define PROM_SERIES_MAX 65536        /* capacity of one set */
#define PROM_OTHER "other"           /* the label value of the folded series */

/* --- writer ----------------------------------------------------------------------------- */

/* Writes "# HELP name help" (help's backslashes and newlines escaped; no HELP line when help
 * is NULL) and "# TYPE name type". type must be counter, gauge, histogram, summary or
 * untyped, and name valid, or nothing is written and b->failed is set. */
void prom_family(buf *b, const char *name, const char *type, const char *help);

/* Writes one sample line: name{k1="v1",...} value. labels is a NULL-terminated list of key,
 * value pairs (may be NULL; at most PROM_LABELS_MAX pairs). Label values are escaped (\\,
 * \", \n) and invalid UTF-8 in them is replaced by U+FFFD so any input yields a valid
 * document. Values: +Inf, -Inf, NaN when not finite; integers without exponent or decimal
 * point; others in the shortest form that reads back exactly. */
void prom_sample(buf *b, const char *name, const char *const *labels, double value);

/* 1 when name is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), else 0. */
int prom_name_valid(const char *name);

/* 1 when name is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", which
 * Prometheus reserves), else 0. */
int prom_label_name_valid(const char *name);

/* --- histogram -------------------------------------------------------------------------- */

/* Fixed buckets (upper bounds, in seconds for durations) with a count and a sum. Observing
 * is lock-free (C11 atomics); writing may run concurrently with observers. */
typedef struct prom_histogram prom_histogram;

/* A histogram with n bounds (copied), which must be finite and strictly increasing, n at
 * most PROM_BUCKETS_MAX (n may be 0: only +Inf). Returns NULL when the bounds are invalid. */
prom_histogram *prom_histogram_new(const double *bounds, size_t n);

/* Counts v in the first bucket whose bound is >= v (or +Inf) and adds it to the sum. A NaN
 * is ignored, since it would make the sum useless forever. Lock-free. */
void prom_histogram_observe(prom_histogram *h, double v);

/* Writes name_bucket{labels...,le="bound"} with cumulative counts, le="+Inf", name_sum and
 * name_count (labels as for prom_sample, at most PROM_LABELS_MAX pairs, none called "le").
 * The +Inf bucket always equals _count; _sum may include an observation that the buckets,
 * read a moment earlier, do not. */
void prom_histogram_write(buf *b, const char *name, const char *const *labels,
                          const prom_histogram *h);

void prom_histogram_free(prom_histogram *h);

/* --- labelled sets ---------------------------------------------------------------------- */

/* Counters keyed by a tuple of nlabels strings (for example method, route, status). At most
 * capacity distinct tuples get their own series; later new tuples, tuples with a NULL value
 * or a value longer than PROM_LABEL_VALUE_MAX are folded into one series whose every label
 * value is PROM_OTHER (written only once used), so outside input cannot grow memory
 * without bound. Adding is lock-free: a compare-and-swap on an open-addressed table (the
 * first add of a tuple allocates its series once). Near capacity, two threads inserting at
 * the same moment may fold one tuple early; totals are always exact. */
typedef struct prom_counter_set prom_counter_set;

/* A set with label_names (copied; nlabels in 1..PROM_LABELS_MAX, each valid and distinct,
 * none "le") and capacity in 1..PROM_SERIES_MAX. Returns NULL when an argument is invalid. */
prom_counter_set *prom_counter_set_new(size_t nlabels, const char *const *label_names,
                                       size_t capacity);

/* Adds delta (finite and >= 0, or ignored: counters only go up) to the series of values
 * (nlabels strings). */
void prom_counter_set_add(prom_counter_set *s, const char *const *values, double delta);

/* Writes one sample per series, sorted by label values, under name. */
void prom_counter_set_write(buf *b, const char *name, const prom_counter_set *s);

void prom_counter_set_free(prom_counter_set *s);

/* A histogram per tuple (for example a latency histogram per route), with the same
 * capacity and folding rules as prom_counter_set and the bounds of prom_histogram_new. */
typedef struct prom_histogram_set prom_histogram_set;

/* Returns NULL when an argument is invalid (as for prom_counter_set_new and
 * prom_histogram_new). */
prom_histogram_set *prom_histogram_set_new(size_t nlabels, const char *const *label_names,
                                           size_t capacity, const double *bounds, size_t n);

/* Observes v in the histogram of values' series. Lock-free as prom_counter_set_add. */
void prom_histogram_set_observe(prom_histogram_set *s, const char *const *values, double v);

/* Writes every series' buckets, sum and count (as prom_histogram_write), sorted by values. */
void prom_histogram_set_write(buf *b, const char *name, const prom_histogram_set *s);

void prom_histogram_set_free(prom_histogram_set *s);

#endif
