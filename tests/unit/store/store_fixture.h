/* The fixture the SQLite store tests share: each test gets a fresh database file in its own
 * temporary directory, removed again afterwards, plus raw access to that file from outside
 * the store (what store_contract.h asks of a backend's fixture). Header-only (static
 * functions) because every test file is an executable of its own. The includer defines
 * _XOPEN_SOURCE 700 (mkdtemp, nftw) before any header, and writes its own setup() around
 * store_fix_setup(); teardown() is the same for all. */
#ifndef CLOUDYA_TEST_STORE_FIXTURE_H
#define CLOUDYA_TEST_STORE_FIXTURE_H
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

struct fix {
    char dir[64];   /* the temporary directory */
    char path[128]; /* the database file, somewhere below dir */
    char url[160];  /* "sqlite://" path, as store_open takes it */
    store *s;       /* open on url with a pool of 4 */
};

static inline int rm_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(p);
}

/* Makes a directory from tmpl ("/tmp/name-XXXXXX") and opens the store on file db_name
 * inside it (a relative path, whose parents store_open must create). For cmocka's setup. */
static inline int store_fix_setup(void **state, const char *tmpl, const char *db_name)
{
    struct fix *f = calloc(1, sizeof *f);
    char err[256];
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "%s", tmpl);
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, db_name);
    snprintf(f->url, sizeof f->url, "sqlite://%s", f->path);
    int ret = store_open(f->url, 4, &f->s, err, sizeof err);
    if (ret != 0) {
        fprintf(stderr, "store_open: %d %s\n", ret, err);
        return -1;
    }
    *state = f;
    return 0;
}

/* Closes the store and removes the directory with all that the test left in it. */
static inline int teardown(void **state)
{
    struct fix *f = *state;
    store_close(f->s);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

#define STORE_BACKEND_NAME "sqlite"

/* Runs one SQL text directly on the file, outside the store. */
static inline void raw_exec(struct fix *f, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* The first column of the first row of sql, read directly from the file; -1 for no row. */
static inline int64_t raw_count(struct fix *f, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#endif
