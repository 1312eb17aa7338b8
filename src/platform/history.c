/* Rings of metrics points at four resolutions (see history.h). */
#define _POSIX_C_SOURCE 200809L
#include "history.h"

#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int tier_step[HISTORY_TIERS] = {1, 10, 60, 300};
static const size_t tier_cap[HISTORY_TIERS] = {900, 360, 1440, 2016};

/* One tier: its ring and the step being filled. The ring slot of step index i is i % cap. */
struct tier {
    history_point *ring;
    int64_t last; /* index (t / step) of the newest step written; -1 when empty */
    double cpu_sum, mem_sum, rx, tx;
    unsigned n;   /* samples in the step being filled */
};

struct history {
    struct tier t[HISTORY_TIERS];
    history_point store[900 + 360 + 1440 + 2016];
};

/* Every slot starts empty (NaN), so a gap is told from a zero. */
history *history_new(void)
{
    history *h = xmalloc(sizeof(*h));
    history_point empty = {NAN, NAN, NAN, NAN};
    size_t off = 0;
    for (int k = 0; k < HISTORY_TIERS; k++) {
        h->t[k] = (struct tier){.ring = h->store + off, .last = -1};
        for (size_t i = 0; i < tier_cap[k]; i++)
            h->t[k].ring[i] = empty;
        off += tier_cap[k];
    }
    return h;
}

void history_free(history *h)
{
    free(h);
}

static void tier_add(struct tier *t, size_t cap, int64_t idx, float cpu, float mem, float rx,
                     float tx)
{
    if (idx < t->last)
        return; /* the clock went back: wait until it catches up */
    if (idx > t->last) {
        /* Steps between the last one written and this one had no sample. */
        history_point empty = {NAN, NAN, NAN, NAN};
        int64_t from = t->last < 0 || idx - t->last > (int64_t)cap ? idx - (int64_t)cap + 1
                                                                    : t->last + 1;
        for (int64_t i = from < 0 ? 0 : from; i < idx; i++)
            t->ring[i % (int64_t)cap] = empty;
        t->last = idx;
        t->cpu_sum = t->mem_sum = t->rx = t->tx = 0;
        t->n = 0;
    }
    t->cpu_sum += cpu;
    t->mem_sum += mem;
    t->rx += rx;
    t->tx += tx;
    t->n++;
    /* Written through, so the step in progress is visible at once with what it has so far. */
    t->ring[idx % (int64_t)cap] = (history_point){(float)(t->cpu_sum / t->n),
                                                  (float)(t->mem_sum / t->n), (float)t->rx,
                                                  (float)t->tx};
}

/* Every tier sees every sample: a coarse step is the average (cpu, memory) or the sum
 * (network bytes) of the samples that fell in it. */
void history_add(history *h, int64_t t, float cpu, float mem, float rx, float tx)
{
    if (t < 0 || isnan(cpu) || isnan(mem))
        return;
    for (int k = 0; k < HISTORY_TIERS; k++)
        tier_add(&h->t[k], tier_cap[k], t / tier_step[k], cpu, mem, rx, tx);
}

/* The finest tier whose span covers the range; anything longer than a week gets the week. */
int history_tier_for(int64_t range_s, int *step_s)
{
    int k = 0;
    while (k < HISTORY_TIERS - 1 && (int64_t)tier_cap[k] * tier_step[k] < range_s)
        k++;
    if (step_s != NULL)
        *step_s = tier_step[k];
    return k;
}

size_t history_each(const history *h, int tier, int64_t now, int64_t range_s,
                     void (*fn)(void *ctx, int64_t t, const history_point *p), void *ctx)
{
    if (tier < 0 || tier >= HISTORY_TIERS || h->t[tier].last < 0)
        return 0;
    const struct tier *t = &h->t[tier];
    int64_t cap = (int64_t)tier_cap[tier], step = tier_step[tier];
    int64_t first = t->last - cap + 1;
    if (first < 0)
        first = 0;
    size_t n = 0;
    for (int64_t i = first; i <= t->last; i++) {
        int64_t at = i * step;
        if (at + step - 1 <= now - range_s || at > now)
            continue;
        const history_point *p = &t->ring[i % cap];
        if (isnan(p->cpu))
            continue;
        fn(ctx, at, p);
        n++;
    }
    return n;
}
