/* Unit tests for src/core/ratelimit.c: fixed windows per key, the Retry-After arithmetic,
 * reset, key independence, the bounded table under a flood of keys, and the lock. Time is
 * passed in explicitly, so no test sleeps. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

#define T0 INT64_C(1000000) /* an arbitrary monotonic start, in ms */

/* Bytes in use on the heap, where the C library can say; 0 elsewhere (and under ASan,
 * whose allocator glibc does not see), which makes the growth check below vacuous. */
static size_t heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void test_blocked_after_max(void **state)
{
    ratelimit *rl = ratelimit_new(64, 3, 60);
    int retry = -1;

    (void)state;
    assert_non_null(rl);
    assert_int_equal(ratelimit_blocked(rl, "alice@example.com", T0, &retry), 0);
    assert_int_equal(retry, -1); /* untouched when not blocked */
    ratelimit_hit(rl, "alice@example.com", T0);
    assert_int_equal(ratelimit_blocked(rl, "alice@example.com", T0, NULL), 0);
    ratelimit_hit(rl, "alice@example.com", T0 + 1000);
    assert_int_equal(ratelimit_blocked(rl, "alice@example.com", T0 + 1000, NULL), 0);
    ratelimit_hit(rl, "alice@example.com", T0 + 2000);
    assert_int_equal(ratelimit_blocked(rl, "alice@example.com", T0 + 2000, &retry), 1);
    /* NULL retry pointer is fine */
    assert_int_equal(ratelimit_blocked(rl, "alice@example.com", T0 + 2000, NULL), 1);
    /* more hits keep it blocked */
    ratelimit_hit(rl, "alice@example.com", T0 + 3000);
    assert_int_equal(ratelimit_blocked(rl, "alice@example.com", T0 + 3000, NULL), 1);
    ratelimit_free(rl);
}

/* The window is fixed from the first hit: Retry-After counts down to start + window,
 * rounded up to whole seconds, and is never 0 while blocked. */
static void test_retry_after(void **state)
{
    ratelimit *rl = ratelimit_new(64, 2, 60);
    int retry = -1;

    (void)state;
    ratelimit_hit(rl, "k", T0);
    ratelimit_hit(rl, "k", T0 + 5000);
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 5000, &retry), 1);
    assert_int_equal(retry, 55);
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 5001, &retry), 1);
    assert_int_equal(retry, 55); /* 54.999 s rounds up */
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 58999, &retry), 1);
    assert_int_equal(retry, 2);
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 59000, &retry), 1);
    assert_int_equal(retry, 1);
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 59999, &retry), 1);
    assert_int_equal(retry, 1);
    ratelimit_free(rl);
}

static void test_window_expiry_reopens(void **state)
{
    ratelimit *rl = ratelimit_new(64, 2, 60);

    (void)state;
    ratelimit_hit(rl, "k", T0);
    ratelimit_hit(rl, "k", T0 + 10);
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 59999, NULL), 1);
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 60000, NULL), 0);
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 3600000, NULL), 0);

    /* a hit after expiry starts a new window with a count of 1 */
    ratelimit_hit(rl, "k", T0 + 60000);
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 60000, NULL), 0);
    ratelimit_hit(rl, "k", T0 + 61000);
    int retry = 0;
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 61000, &retry), 1);
    assert_int_equal(retry, 59);
    ratelimit_free(rl);
}

static void test_reset(void **state)
{
    ratelimit *rl = ratelimit_new(64, 2, 60);

    (void)state;
    ratelimit_hit(rl, "k", T0);
    ratelimit_hit(rl, "k", T0);
    assert_int_equal(ratelimit_blocked(rl, "k", T0, NULL), 1);
    ratelimit_reset(rl, "k");
    assert_int_equal(ratelimit_blocked(rl, "k", T0, NULL), 0);
    /* counting starts over */
    ratelimit_hit(rl, "k", T0 + 1);
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 1, NULL), 0);
    ratelimit_hit(rl, "k", T0 + 2);
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 2, NULL), 1);
    /* resetting an unknown key, or twice, is harmless */
    ratelimit_reset(rl, "never-seen");
    ratelimit_reset(rl, "k");
    ratelimit_reset(rl, "k");
    assert_int_equal(ratelimit_blocked(rl, "k", T0 + 2, NULL), 0);
    ratelimit_free(rl);
}

static void test_keys_independent(void **state)
{
    ratelimit *rl = ratelimit_new(64, 2, 60);

    (void)state;
    ratelimit_hit(rl, "a@example.com", T0);
    ratelimit_hit(rl, "a@example.com", T0);
    ratelimit_hit(rl, "b@example.com", T0);
    assert_int_equal(ratelimit_blocked(rl, "a@example.com", T0, NULL), 1);
    assert_int_equal(ratelimit_blocked(rl, "b@example.com", T0, NULL), 0);
    assert_int_equal(ratelimit_blocked(rl, "A@example.com", T0, NULL), 0); /* exact keys */
    assert_int_equal(ratelimit_blocked(rl, "", T0, NULL), 0);
    ratelimit_reset(rl, "b@example.com");
    assert_int_equal(ratelimit_blocked(rl, "a@example.com", T0, NULL), 1);
    ratelimit_reset(rl, "a@example.com");
    ratelimit_hit(rl, "b@example.com", T0);
    ratelimit_hit(rl, "b@example.com", T0);
    assert_int_equal(ratelimit_blocked(rl, "a@example.com", T0, NULL), 0);
    assert_int_equal(ratelimit_blocked(rl, "b@example.com", T0, NULL), 1);
    ratelimit_free(rl);
}

/* Many live keys in a table that has room for them all: none disturbs another. */
static void test_many_keys_fit(void **state)
{
    ratelimit *rl = ratelimit_new(4096, 3, 60);
    char key[32];

    (void)state;
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "10.0.0.%d", i);
        for (int k = 0; k < (i % 2 ? 3 : 2); k++)
            ratelimit_hit(rl, key, T0 + i);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "10.0.0.%d", i);
        assert_int_equal(ratelimit_blocked(rl, key, T0 + 200, NULL), i % 2);
    }
    ratelimit_free(rl);
}

/* 100000 distinct keys into 64 slots: the table does not grow (the design evicts the
 * oldest windows), nothing crashes, and a key that was just hit max times is blocked. */
static void test_flood_bounded(void **state)
{
    ratelimit *rl = ratelimit_new(64, 5, 900);
    char key[48];

    (void)state;
    size_t before = heap_in_use();
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "flood-%d@example.com", i);
        ratelimit_hit(rl, key, T0 + i / 10);
        if (i % 997 == 0) (void)ratelimit_blocked(rl, key, T0 + i / 10, NULL);
    }
    size_t after = heap_in_use();
    if (after > before + 16384)
        fail_msg("the heap grew by %zu bytes during the flood", after - before);
    int64_t now = T0 + 10000;
    for (int k = 0; k < 5; k++)
        ratelimit_hit(rl, "victim@example.com", now);
    int retry = 0;
    assert_int_equal(ratelimit_blocked(rl, "victim@example.com", now, &retry), 1);
    assert_int_equal(retry, 900);

    /* and the flood continues: the most recently hit keys stay blocked meanwhile */
    for (int i = 0; i < 64 * 16; i++) {
        snprintf(key, sizeof key, "again-%d", i);
        for (int k = 0; k < 5; k++)
            ratelimit_hit(rl, key, now + 1);
        assert_int_equal(ratelimit_blocked(rl, key, now + 1, NULL), 1);
    }
    ratelimit_free(rl);
}

/* Degenerate sizes: a table of 0 slots is treated as 1, and fewer slots than the probe
 * sequence still works. */
static void test_tiny_tables(void **state)
{
    ratelimit *rl = ratelimit_new(0, 2, 10);

    (void)state;
    ratelimit_hit(rl, "a", T0);
    ratelimit_hit(rl, "a", T0);
    assert_int_equal(ratelimit_blocked(rl, "a", T0, NULL), 1);
    ratelimit_hit(rl, "b", T0 + 1); /* evicts a */
    ratelimit_hit(rl, "b", T0 + 1);
    assert_int_equal(ratelimit_blocked(rl, "b", T0 + 1, NULL), 1);
    ratelimit_free(rl);

    rl = ratelimit_new(3, 1, 10);
    ratelimit_hit(rl, "x", T0);
    ratelimit_hit(rl, "y", T0);
    ratelimit_hit(rl, "z", T0);
    assert_int_equal(ratelimit_blocked(rl, "x", T0, NULL), 1);
    assert_int_equal(ratelimit_blocked(rl, "y", T0, NULL), 1);
    assert_int_equal(ratelimit_blocked(rl, "z", T0, NULL), 1);
    ratelimit_free(rl);

    ratelimit_free(NULL);
}

#define THREADS 4
#define HITS_PER_THREAD 5000

struct worker {
    ratelimit *rl;
    int id;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    char own[32];

    snprintf(own, sizeof own, "own-%d", w->id);
    for (int i = 0; i < HITS_PER_THREAD; i++) {
        ratelimit_hit(w->rl, "shared", T0 + 1);
        ratelimit_hit(w->rl, own, T0 + 1);
        (void)ratelimit_blocked(w->rl, "shared", T0 + 1, NULL);
    }
    return NULL;
}

/* Concurrent hits are all counted: with max = total the key is blocked, with max =
 * total + 1 it is not. */
static void test_concurrent_hits_counted(void **state)
{
    const int total = THREADS * HITS_PER_THREAD;

    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        ratelimit *rl = ratelimit_new(256, total + extra, 60);
        pthread_t th[THREADS];
        struct worker w[THREADS];
        for (int i = 0; i < THREADS; i++) {
            w[i] = (struct worker){rl, i};
            assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
        }
        for (int i = 0; i < THREADS; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(ratelimit_blocked(rl, "shared", T0 + 1, NULL), extra == 0);
        ratelimit_free(rl);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_after_max),       cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_window_expiry_reopens),   cmocka_unit_test(test_reset),
        cmocka_unit_test(test_keys_independent),        cmocka_unit_test(test_many_keys_fit),
        cmocka_unit_test(test_flood_bounded),           cmocka_unit_test(test_tiny_tables),
        cmocka_unit_test(test_concurrent_hits_counted),
    };
    return cmocka_run_group_tests_name("ratelimit", tests, setup, NULL);
}
