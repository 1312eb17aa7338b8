/* The concurrency part of the containers contract (store_contract_containers.h includes
 * it, after the helpers it uses): reservations racing for one tenant's quota from one store
 * and from two (as two daemons), transitions racing for one row, first instance-id calls
 * racing, and a reservation waiting on another transaction's lock.
 *
 * The includer defines, after including, holder_run(struct holder *): from a connection of
 * its own, it takes the lock that a reservation of tenant h->client_id must wait for (as
 * another daemon's reservation would hold it), passes h->locked, keeps the lock for
 * h->hold_ms and lets it go; h->ok says whether the lock was taken. */
#ifndef CLOUDYA_TEST_STORE_CONTRACT_CONCURRENCY_H
#define CLOUDYA_TEST_STORE_CONTRACT_CONCURRENCY_H
#include <pthread.h>
#include <time.h>

#define RACERS 20

enum call { CALL_RESERVE, CALL_SET_STATE, CALL_INSTANCE_ID };

/* One racing thread: it waits at a barrier with the others, then makes one call. */
struct caller {
    store *s;
    pthread_barrier_t *go;
    enum call what;
    store_container c; /* CALL_RESERVE's container */
    enum store_quota_hit hit;
    char id[STORE_ID_MAX]; /* CALL_INSTANCE_ID's answer */
    int ret;
};

static void *caller_run(void *arg)
{
    struct caller *k = arg;
    pthread_barrier_wait(k->go);
    if (k->what == CALL_RESERVE)
        k->ret = store_container_reserve(k->s, &k->c, &k->hit);
    else if (k->what == CALL_SET_STATE)
        k->ret = store_container_set_state(k->s, "ctr-1", "running", "removing");
    else
        k->ret = store_instance_id(k->s, k->id);
    return NULL;
}

/* Starts the RACERS callers k (s and what filled in) at once and waits for them all. */
static void run_callers(struct caller k[RACERS])
{
    pthread_t th[RACERS];
    pthread_barrier_t go;
    assert_int_equal(pthread_barrier_init(&go, NULL, RACERS), 0);
    for (int i = 0; i < RACERS; i++) {
        k[i].go = &go;
        assert_int_equal(pthread_create(&th[i], NULL, caller_run, &k[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&go);
}

/* RACERS reservations at once for tenant client-<n>, spread over the given stores; exactly
 * `fit` must succeed and every other one must be -EDQUOT with want_hit. */
static void race(struct fix *f, store **stores, size_t nstores, int n, int memory_mb,
                 double cpus, int fit, enum store_quota_hit want_hit)
{
    struct caller k[RACERS];
    int ok = 0, count = -1;
    char client[32], id[32], sql[128];
    snprintf(client, sizeof client, "client-%d", n);
    for (int i = 0; i < RACERS; i++) {
        k[i] = (struct caller){.s = stores[(size_t)i % nstores], .what = CALL_RESERVE};
        snprintf(id, sizeof id, "ctr-%d-%d", n, i);
        make_ctr(&k[i].c, id, client, id, memory_mb, cpus);
    }
    run_callers(k);
    for (int i = 0; i < RACERS; i++) {
        if (k[i].ret == 0) {
            ok++;
            assert_int_equal(k[i].hit, STORE_QUOTA_NONE);
        } else {
            assert_int_equal(k[i].ret, -EDQUOT);
            assert_int_equal(k[i].hit, want_hit);
        }
    }
    assert_int_equal(ok, fit);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM containers WHERE client_id = '%s'", client);
    assert_int_equal(raw_count(f, sql), fit);
    assert_int_equal(store_container_usage(stores[0], client, &count, NULL, NULL, NULL), 0);
    assert_int_equal(count, fit);
}

static void test_quota_race(void **state)
{
    struct fix *f = *state;
    char err[256];
    store *wide = NULL, *second = NULL;
    /* One connection per racer, so that the serialisation is the database's, not the pool's. */
    assert_int_equal(store_open(f->url, RACERS, &wide, err, sizeof err), 0);
    assert_int_equal(store_open(f->url, RACERS, &second, err, sizeof err), 0);
    for (int round = 0; round < 10; round++) {
        make_client(f->s, 10 + round, 10, 100000, 100);
        race(f, &wide, 1, 10 + round, 64, 0.1, 10, STORE_QUOTA_CONTAINERS);
    }
    /* Two stores on one database, as two daemons would be. */
    store *both[2] = {wide, second};
    make_client(f->s, 20, 10, 100000, 100);
    race(f, both, 2, 20, 64, 0.1, 10, STORE_QUOTA_CONTAINERS);
    /* The small default pool. */
    make_client(f->s, 21, 10, 100000, 100);
    race(f, &f->s, 1, 21, 64, 0.1, 10, STORE_QUOTA_CONTAINERS);
    /* Memory and CPUs race the same way (0.1 CPUs ten times fits 1.0 by the epsilon). */
    make_client(f->s, 22, 100, 1000, 100);
    race(f, &wide, 1, 22, 100, 0.0, 10, STORE_QUOTA_MEMORY);
    make_client(f->s, 23, 100, 100000, 1.0);
    race(f, both, 2, 23, 1, 0.1, 10, STORE_QUOTA_CPUS);
    store_close(second);
    store_close(wide);
}

/* Many callers racing for the same transition: exactly one wins, the others are told the
 * state moved. */
static void test_set_state_race(void **state)
{
    struct fix *f = *state;
    struct caller k[RACERS];
    int won = 0;
    make_client(f->s, 1, 10, 4096, 4.0);
    assert_int_equal(reserve(f->s, "ctr-1", "client-1", "web"), 0);
    assert_int_equal(store_container_set_state(f->s, "ctr-1", "creating", "running"), 0);
    for (int i = 0; i < RACERS; i++)
        k[i] = (struct caller){.s = f->s, .what = CALL_SET_STATE};
    run_callers(k);
    for (int i = 0; i < RACERS; i++) {
        if (k[i].ret == 0)
            won++;
        else
            assert_int_equal(k[i].ret, -EAGAIN);
    }
    assert_int_equal(won, 1);
}

/* First calls racing on a fresh database all agree on one id. */
static void test_instance_id_race(void **state)
{
    struct fix *f = *state;
    struct caller k[RACERS];
    for (int i = 0; i < RACERS; i++)
        k[i] = (struct caller){.s = f->s, .what = CALL_INSTANCE_ID};
    run_callers(k);
    for (int i = 0; i < RACERS; i++) {
        assert_int_equal(k[i].ret, 0);
        assert_string_equal(k[i].id, k[0].id);
    }
    assert_int_equal(raw_count(f, "SELECT count(*) FROM meta"), 1);
}

/* holder_run's instructions (see the top of this file). */
struct holder {
    struct fix *f;
    const char *client_id;
    int hold_ms;
    pthread_barrier_t locked; /* passed once the lock is held (or could not be) */
    int ok;
};

static void *holder_run(void *arg);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A writer holding the lock briefly only delays a reservation; one holding it beyond the
 * busy timeout (5 s: SQLite's busy_timeout, PostgreSQL's lock_timeout) makes it -EBUSY, and
 * not before. */
static void test_reserve_busy(void **state)
{
    struct fix *f = *state;
    pthread_t th;
    struct holder h = {.f = f, .client_id = "client-1", .hold_ms = 400};
    make_client(f->s, 1, 10, 4096, 4.0);
    assert_int_equal(pthread_barrier_init(&h.locked, NULL, 2), 0);
    assert_int_equal(pthread_create(&th, NULL, holder_run, &h), 0);
    pthread_barrier_wait(&h.locked);
    assert_true(h.ok);
    double t0 = now_s();
    assert_int_equal(reserve(f->s, "ctr-1", "client-1", "web"), 0);
    assert_true(now_s() - t0 > 0.2);
    assert_int_equal(pthread_join(th, NULL), 0);

    h.hold_ms = 6500;
    assert_int_equal(pthread_create(&th, NULL, holder_run, &h), 0);
    pthread_barrier_wait(&h.locked);
    assert_true(h.ok);
    fprintf(stderr, "(a log line about a busy database is expected next)\n");
    t0 = now_s();
    assert_int_equal(reserve(f->s, "ctr-2", "client-1", "api"), -EBUSY);
    assert_true(now_s() - t0 > 4.5);
    assert_int_equal(pthread_join(th, NULL), 0);
    pthread_barrier_destroy(&h.locked);
    /* The connection went back to the pool outside any transaction. */
    assert_int_equal(reserve(f->s, "ctr-2", "client-1", "api"), 0);
}

#define STORE_CONCURRENCY_CONTRACT_TESTS(setup, teardown)                                          \
    cmocka_unit_test_setup_teardown(test_quota_race, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(test_set_state_race, setup, teardown),                     \
        cmocka_unit_test_setup_teardown(test_instance_id_race, setup, teardown),                   \
        cmocka_unit_test_setup_teardown(test_reserve_busy, setup, teardown)

#endif
