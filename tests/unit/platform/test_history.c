/* The metrics history rings: tiers, gaps, merging, wrap-around and the clock going back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "history.h"

#define MAXP 4096

struct got {
    size_t n;
    int64_t t[MAXP];
    history_point p[MAXP];
};

static void collect(void *ctx, int64_t t, const history_point *p)
{
    struct got *g = ctx;
    if (g->n < MAXP) {
        g->t[g->n] = t;
        g->p[g->n] = *p;
        g->n++;
    }
}

static void test_tier_for(void **state)
{
    (void)state;
    int step = 0;
    assert_int_equal(history_tier_for(900, &step), 0);
    assert_int_equal(step, 1);
    assert_int_equal(history_tier_for(901, &step), 1);
    assert_int_equal(step, 10);
    assert_int_equal(history_tier_for(3600, &step), 1);
    assert_int_equal(history_tier_for(86400, &step), 2);
    assert_int_equal(step, 60);
    assert_int_equal(history_tier_for(7 * 86400, &step), 3);
    assert_int_equal(step, 300);
    assert_int_equal(history_tier_for(30 * 86400, &step), 3);
}

static void test_empty(void **state)
{
    (void)state;
    history *h = history_new();
    struct got g = {0};
    for (int k = 0; k < HISTORY_TIERS; k++)
        assert_int_equal(history_each(h, k, 1000000, 900, collect, &g), 0);
    assert_int_equal(history_each(h, 9, 1000000, 900, collect, &g), 0);
    history_free(h);
}

static void test_seconds_and_aggregates(void **state)
{
    (void)state;
    history *h = history_new();
    const int64_t t0 = 1800000000; /* a multiple of 300 */
    for (int i = 0; i < 120; i++)
        history_add(h, t0 + i, (float)i, 1000.0f * (float)i, 10, 20);
    static struct got g;
    g.n = 0;
    assert_int_equal(history_each(h, 0, t0 + 119, 900, collect, &g), 120);
    assert_int_equal(g.t[0], t0);
    assert_int_equal(g.t[119], t0 + 119);
    assert_true(g.p[5].cpu == 5.0f && g.p[5].mem == 5000.0f && g.p[5].rx == 10.0f);
    /* 10 s steps: the average of 10 samples, bytes summed. */
    g.n = 0;
    assert_int_equal(history_each(h, 1, t0 + 119, 3600, collect, &g), 12);
    assert_int_equal(g.t[1], t0 + 10);
    assert_true(fabsf(g.p[1].cpu - 14.5f) < 1e-4f);
    assert_true(g.p[1].rx == 100.0f && g.p[1].tx == 200.0f);
    /* 60 s steps: two complete. */
    g.n = 0;
    assert_int_equal(history_each(h, 2, t0 + 119, 86400, collect, &g), 2);
    assert_true(fabsf(g.p[0].cpu - 29.5f) < 1e-4f);
    assert_true(g.p[0].rx == 600.0f);
    /* 300 s: one step in progress, given with what it has. */
    g.n = 0;
    assert_int_equal(history_each(h, 3, t0 + 119, 7 * 86400, collect, &g), 1);
    assert_true(fabsf(g.p[0].cpu - 59.5f) < 1e-4f);
    assert_true(g.p[0].tx == 2400.0f);
    /* A shorter range keeps only the newest points. */
    g.n = 0;
    assert_int_equal(history_each(h, 0, t0 + 119, 10, collect, &g), 10);
    assert_int_equal(g.t[0], t0 + 110);
    history_free(h);
}

static void test_merge_within_second(void **state)
{
    (void)state;
    history *h = history_new();
    history_add(h, 5000, 10, 100, 1, 2);
    history_add(h, 5000, 30, 300, 3, 4);
    static struct got g;
    g.n = 0;
    assert_int_equal(history_each(h, 0, 5000, 60, collect, &g), 1);
    assert_true(g.p[0].cpu == 20.0f && g.p[0].mem == 200.0f);
    assert_true(g.p[0].rx == 4.0f && g.p[0].tx == 6.0f);
    history_free(h);
}

static void test_gaps_and_wrap(void **state)
{
    (void)state;
    history *h = history_new();
    int64_t t0 = 2000000000;
    history_add(h, t0, 1, 1, 0, 0);
    history_add(h, t0 + 5, 2, 2, 0, 0); /* 4 seconds without a sample */
    static struct got g;
    g.n = 0;
    assert_int_equal(history_each(h, 0, t0 + 5, 900, collect, &g), 2);
    assert_int_equal(g.t[1], t0 + 5);
    /* 2,000 seconds of samples wrap the 900-slot ring: the newest 900 remain. */
    for (int i = 6; i < 2006; i++)
        history_add(h, t0 + i, (float)i, 0, 0, 0);
    g.n = 0;
    assert_int_equal(history_each(h, 0, t0 + 2005, 900, collect, &g), 900);
    assert_int_equal(g.t[0], t0 + 1106);
    assert_true(g.p[899].cpu == 2005.0f);
    /* A long silence (more than a ring) leaves only the new sample. */
    history_add(h, t0 + 100000, 7, 7, 0, 0);
    g.n = 0;
    assert_int_equal(history_each(h, 0, t0 + 100000, 900, collect, &g), 1);
    history_free(h);
}

static void test_clock_back_and_nan(void **state)
{
    (void)state;
    history *h = history_new();
    history_add(h, 3000, 1, 1, 0, 0);
    history_add(h, 2990, 50, 50, 0, 0); /* ignored by the 1 s tier */
    history_add(h, 3001, NAN, 1, 0, 0);  /* ignored */
    history_add(h, -5, 1, 1, 0, 0);      /* ignored */
    static struct got g;
    g.n = 0;
    assert_int_equal(history_each(h, 0, 3001, 900, collect, &g), 1);
    assert_true(g.p[0].cpu == 1.0f);
    history_free(h);
}

static void test_size(void **state)
{
    (void)state;
    assert_int_equal(HISTORY_BYTES, 16 * 4716);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tier_for),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_seconds_and_aggregates),
        cmocka_unit_test(test_merge_within_second),
        cmocka_unit_test(test_gaps_and_wrap),
        cmocka_unit_test(test_clock_back_and_nan),
        cmocka_unit_test(test_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
