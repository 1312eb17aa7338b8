/* Metrics history in memory: fixed rings of points at four resolutions, so a graph of the
 * last 15 minutes, hour, day or week is one read and memory never grows with uptime.
 *
 *   tier  step   points  covers
 *   0     1 s    900     15 minutes
 *   1     10 s   360     1 hour
 *   2     60 s   1440    24 hours
 *   3     300 s  2016    7 days
 *
 * A point is four floats (16 bytes): CPU percent and memory bytes averaged over the step,
 * network bytes received and sent during the step (summed). A series is therefore
 * HISTORY_BYTES (~74 KiB), allocated once; the sampler keeps one per container and one per
 * tenant. Slots with no sample (the container was stopped, the daemon was down) hold NaN and
 * are left out of answers.
 *
 * Time is wall-clock unix seconds, as the points are shown. A sample older than the newest
 * one already stored in a tier (the clock went back) is ignored by that tier until time
 * catches up. Not thread-safe: the owner locks. */
#ifndef CLOUDYA_HISTORY_H
#define CLOUDYA_HISTORY_H
#include <stddef.h>
#include <stdint.h>

#define HISTORY_TIERS 4
#define HISTORY_POINTS_MAX 2016 /* the largest tier: what one answer can hold */

typedef struct history_point {
    float cpu; /* percent, 100 = one core (NaN = no sample) */
    float mem; /* bytes */
    float rx;  /* bytes received during the step */
    float tx;  /* bytes sent during the step */
} history_point;

typedef struct history history;

#define HISTORY_BYTES (sizeof(history_point) * (900 + 360 + 1440 + 2016))

/* A new, empty series (never NULL: allocation failure aborts). */
history *history_new(void);
void history_free(history *h);

/* Adds the sample taken at t (unix seconds): cpu percent, memory bytes, and the bytes
 * received and sent since the previous sample. Samples that fall in one step merge: cpu and
 * memory are averaged, bytes add up. A NaN cpu or memory is ignored. */
void history_add(history *h, int64_t t, float cpu, float mem, float rx, float tx);

/* The tier that serves a range of range_s seconds: the finest whose span covers it (the
 * coarsest for anything longer). *step_s receives its step. */
int history_tier_for(int64_t range_s, int *step_s);

/* Calls fn for every stored point of tier with a second of its step in (now - range_s, now], oldest
 * first (t is the start of the point's step). Returns the number of points given to fn. The
 * step in progress is given with what it holds so far. */
size_t history_each(const history *h, int tier, int64_t now, int64_t range_s,
                     void (*fn)(void *ctx, int64_t t, const history_point *p), void *ctx);

#endif
