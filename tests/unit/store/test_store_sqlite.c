/* Unit tests of store.h over the SQLite backend, each against a fresh database file in its own
 * temporary directory: the backend-neutral contract (store_contract.h) and what is SQLite's
 * own (file modes, URLs). */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <limits.h>
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
#include <sqlite3.h>

#include "store.h"
#include "store_fixture.h"
/* after the fixture, which it builds on */
#include "store_contract.h"
#include "store_contract_assistant.h"

/* "sub" does not exist yet: store_open must create it. */
static int setup(void **state)
{
    return store_fix_setup(state, "/tmp/cloudya-store-test-XXXXXX", "sub/cloudya.db");
}

static void test_file_modes(void **state)
{
    struct fix *f = *state;
    struct stat sb;
    char dir[160];
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    snprintf(dir, sizeof dir, "%s/sub", f->dir);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);
    assert_int_equal(
        raw_count(f, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"),
        1);
}

/* The PostgreSQL backend is built in: a server that cannot be reached is an error with a
 * sentence that names where it looked and never the password. */
static void test_postgres_unreachable(void **state)
{
    (void)state;
    const char *urls[] = {"postgresql://u:secret@127.0.0.1:1/cloudya?connect_timeout=1",
                          "postgres://u:secret@127.0.0.1:1/x"};
    for (size_t i = 0; i < 2; i++) {
        char err[512] = "";
        static int dummy;
        store *s = (store *)&dummy; /* store_open must reset it to NULL */
        int ret = store_open(urls[i], 4, &s, err, sizeof err);
        assert_true(ret < 0);
        assert_null(s);
        assert_non_null(strstr(err, "127.0.0.1"));
        assert_null(strstr(err, "secret"));
    }
}

static void test_bad_urls(void **state)
{
    (void)state;
    const char *urls[] = {"mysql://u:secret@host/db",
                          "",
                          "sqlite:/tmp/x.db",
                          "/tmp/x.db",
                          "sqlite://",
                          "sqlite:///tmp/",
                          "sqlite://:memory:"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char err[256] = "";
        store *s = NULL;
        assert_int_equal(store_open(urls[i], 4, &s, err, sizeof err), -EINVAL);
        assert_null(s);
        assert_non_null(strstr(err, "sqlite://"));
        assert_null(strstr(err, "secret")); /* never echo a password */
    }
    char err[256] = "";
    store *s = NULL;
    assert_int_equal(store_open("sqlite:///tmp/x.db", 0, &s, err, sizeof err), -EINVAL);
    assert_int_equal(store_open("sqlite:///tmp/x.db", 4, NULL, err, sizeof err), -EINVAL);
    assert_int_equal(store_open(NULL, 4, &s, NULL, 0), -EINVAL);
}

static void test_relative_urls(void **state)
{
    struct fix *f = *state;
    char cwd[PATH_MAX], err[256];
    struct stat sb;
    store *s = NULL;
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    assert_int_equal(store_open("sqlite://./rel/a.db", 1, &s, err, sizeof err), 0);
    store_close(s);
    s = NULL;
    assert_int_equal(store_open("sqlite://rel2/deeper/b.db", 1, &s, err, sizeof err), 0);
    store_close(s);
    s = NULL;
    assert_int_equal(store_open("sqlite://c.db", 1, &s, err, sizeof err), 0);
    assert_int_equal(store_schema_version(s), 3);
    store_close(s);
    s = NULL;
    /* A pool larger than the cap is served by the cap, not refused. */
    assert_int_equal(store_open("sqlite://c.db", 1000, &s, err, sizeof err), 0);
    assert_int_equal(store_ping(s), 0);
    store_close(s);
    assert_int_equal(stat("rel/a.db", &sb), 0);
    assert_int_equal(stat("rel2/deeper/b.db", &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(stat("c.db", &sb), 0);
    assert_int_equal(chdir(cwd), 0);
}

/* A database error that is neither "taken" nor "busy" answers -EIO (and is logged). */
int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_CONTRACT_TESTS(setup, teardown),
        STORE_ASSISTANT_TESTS(setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_modes, setup, teardown),
        cmocka_unit_test(test_postgres_unreachable),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test_setup_teardown(test_relative_urls, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
