/* Unit tests of the containers section of store.h over the SQLite backend, each against a
 * fresh database file in its own temporary directory: the backend-neutral contract
 * (store_contract_containers.h) and the SQLite schema. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "store.h"
#include "store_fixture.h"
/* after the fixture, which it builds on */
#include "store_contract_containers.h"

static int setup(void **state)
{
    return store_fix_setup(state, "/tmp/cloudya-ctr-test-XXXXXX", "cloudya.db");
}

static void test_migration(void **state)
{
    struct fix *f = *state;
    assert_int_equal(store_schema_version(f->s), 3);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM schema_version"), 3);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM pragma_table_list "
                                  "WHERE name = 'meta' AND strict = 1"),
                     1);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                  "AND name IN ('containers_client_state', "
                                  "'containers_docker_id_unique')"),
                     2);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM pragma_index_list('containers') "
                                  "WHERE name = 'containers_docker_id_unique' "
                                  "AND \"unique\" = 1 AND partial = 1"),
                     1);
}

/* The contract's second database: another file in the test's directory. */
static void other_database_url(struct fix *f, char *url, size_t size)
{
    snprintf(url, size, "sqlite://%s/other.db", f->dir);
}

/* Holds the database's write lock (which every reservation needs) for hold_ms from a
 * connection of its own. */
static void *holder_run(void *arg)
{
    struct holder *h = arg;
    sqlite3 *db = NULL;
    struct timespec ts = {h->hold_ms / 1000, (long)(h->hold_ms % 1000) * 1000000L};
    h->ok = sqlite3_open_v2(h->f->path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    pthread_barrier_wait(&h->locked);
    if (h->ok) {
        nanosleep(&ts, NULL);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_close(db);
    return NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
        STORE_CONTAINER_CONTRACT_TESTS(setup, teardown),
    };
    if (sodium_init() < 0) return 1; /* str_new_id draws on libsodium's generator */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
