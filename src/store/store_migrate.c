/* Moving an installation from SQLite to PostgreSQL (`cloudyad migrate-store`). Both
 * databases are first opened through store_open, so each is at the binary's schema version;
 * then every row of every table is copied, in one PostgreSQL transaction, with the same ids,
 * hashes and timestamps. The instance id moves too: the Engine's containers are labelled with
 * it, and a new one would make the reconciler take them for another platform's. */
#define _POSIX_C_SOURCE 200809L
#include "store_migrate.h"

#include "store.h"
#include "store_backend.h"

#include <errno.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 32

/* Parents before children (foreign keys); schema_version is the target's own. */
static const char *const tables[] = {"clients", "users", "revoked_tokens",
                                     "audit_log", "containers", "meta"};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static int pg_ok(PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static int pg_exec(PGconn *pg, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(pg, sql);
    int ok = pg_ok(r);
    if (!ok)
        store_set_err(err, errlen, "PostgreSQL: %s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -EIO;
}

static int64_t pg_count(PGconn *pg, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table); /* our constant names */
    PGresult *r = PQexec(pg, sql);
    int64_t n = -1;
    if (pg_ok(r) && PQntuples(r) == 1)
        n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

/* Copies one table row by row; the column list is the SQLite table's, which the PostgreSQL
 * schema mirrors name for name. Returns the number of rows, or a negative errno. */
static int64_t copy_table(sqlite3 *lite, PGconn *pg, const char *table, char *err,
                          size_t errlen)
{
    char sql[4096];
    snprintf(sql, sizeof(sql), "SELECT * FROM %s", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(lite, sql, -1, &st, NULL) != SQLITE_OK) {
        store_set_err(err, errlen, "SQLite: cannot read %s: %s", table, sqlite3_errmsg(lite));
        return -EIO;
    }
    int ncol = sqlite3_column_count(st);
    if (ncol <= 0 || ncol > MAX_COLS) {
        sqlite3_finalize(st);
        store_set_err(err, errlen, "table %s has %d columns", table, ncol);
        return -EPROTO;
    }
    size_t used = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s (", table);
    for (int i = 0; i < ncol && used < sizeof(sql); i++)
        used += (size_t)snprintf(sql + used, sizeof(sql) - used, "%s%s", i ? ", " : "",
                                 sqlite3_column_name(st, i));
    if (used < sizeof(sql))
        used += (size_t)snprintf(sql + used, sizeof(sql) - used, ") OVERRIDING SYSTEM VALUE VALUES (");
    for (int i = 0; i < ncol && used < sizeof(sql); i++)
        used += (size_t)snprintf(sql + used, sizeof(sql) - used, "%s$%d", i ? ", " : "", i + 1);
    if (used < sizeof(sql))
        used += (size_t)snprintf(sql + used, sizeof(sql) - used, ")");
    if (used >= sizeof(sql)) {
        sqlite3_finalize(st);
        store_set_err(err, errlen, "the INSERT for %s is too long", table);
        return -EPROTO;
    }
    int64_t rows = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *vals[MAX_COLS];
        for (int i = 0; i < ncol; i++)
            vals[i] = sqlite3_column_type(st, i) == SQLITE_NULL
                          ? NULL
                          : (const char *)sqlite3_column_text(st, i);
        PGresult *r = PQexecParams(pg, sql, ncol, NULL, vals, NULL, NULL, 0);
        int ok = pg_ok(r);
        if (!ok)
            store_set_err(err, errlen, "PostgreSQL: copying %s: %s", table,
                          PQresultErrorMessage(r));
        PQclear(r);
        if (!ok) {
            sqlite3_finalize(st);
            return -EIO;
        }
        rows++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_set_err(err, errlen, "SQLite: reading %s: %s", table, sqlite3_errmsg(lite));
        return -EIO;
    }
    return rows;
}

/* Brings a database to this binary's schema (creating it when new) and closes it again. */
static int prepare(const char *url, const char *which, char *err, size_t errlen)
{
    store *s = NULL;
    char e[512];
    int rc = store_open(url, 1, &s, e, sizeof(e));
    if (rc != 0) {
        store_set_err(err, errlen, "cannot open the %s database: %s", which, e);
        return rc;
    }
    store_close(s);
    return 0;
}

int store_migrate_sqlite_to_pg(const char *from, const char *to, FILE *report, char *err,
                               size_t errlen)
{
    if (from == NULL || strncmp(from, "sqlite://", 9) != 0 || from[9] == '\0') {
        store_set_err(err, errlen, "--from must be a sqlite:// URL");
        return -EINVAL;
    }
    if (to == NULL ||
        (strncmp(to, "postgresql://", 13) != 0 && strncmp(to, "postgres://", 11) != 0)) {
        store_set_err(err, errlen, "--to must be a postgresql:// URL");
        return -EINVAL;
    }
    const char *path = from + 9;
    FILE *probe = fopen(path, "rb");
    if (probe == NULL) {
        store_set_err(err, errlen, "no SQLite database at %s", path);
        return -ENOENT;
    }
    fclose(probe);
    int rc = prepare(from, "SQLite", err, errlen);
    if (rc == 0)
        rc = prepare(to, "PostgreSQL", err, errlen);
    if (rc != 0)
        return rc;
    sqlite3 *lite = NULL;
    PGconn *pg = NULL;
    int64_t counts[NTABLES] = {0};
    if (sqlite3_open_v2(path, &lite, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        store_set_err(err, errlen, "cannot read %s: %s", path, sqlite3_errmsg(lite));
        rc = -EIO;
        goto out;
    }
    sqlite3_busy_timeout(lite, 5000);
    pg = PQconnectdb(to);
    if (PQstatus(pg) != CONNECTION_OK) {
        store_set_err(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(pg));
        rc = -EIO;
        goto out;
    }
    /* One snapshot of the source, one transaction on the target: all or nothing. */
    if (sqlite3_exec(lite, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        (rc = pg_exec(pg, "BEGIN", err, errlen)) != 0) {
        rc = rc ? rc : -EIO;
        goto out;
    }
    if (pg_count(pg, "users") != 0 || pg_count(pg, "containers") != 0 ||
        pg_count(pg, "clients") != 0) {
        store_set_err(err, errlen, "the PostgreSQL database already holds data: migrate into "
                                   "an empty database");
        rc = -EEXIST;
        goto rollback;
    }
    /* The target's fresh instance id gives way to the source's. */
    if ((rc = pg_exec(pg, "DELETE FROM meta", err, errlen)) != 0)
        goto rollback;
    for (size_t i = 0; i < NTABLES; i++) {
        counts[i] = copy_table(lite, pg, tables[i], err, errlen);
        if (counts[i] < 0) {
            rc = (int)counts[i];
            goto rollback;
        }
    }
    /* New audit rows continue after the copied ones. */
    if ((rc = pg_exec(pg,
                      "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
                      "COALESCE((SELECT max(id) FROM audit_log), 0) + 1, false)",
                      err, errlen)) != 0)
        goto rollback;
    for (size_t i = 0; i < NTABLES; i++) {
        if (pg_count(pg, tables[i]) != counts[i]) {
            store_set_err(err, errlen, "row count of %s differs after the copy", tables[i]);
            rc = -EIO;
            goto rollback;
        }
    }
    if ((rc = pg_exec(pg, "COMMIT", err, errlen)) != 0)
        goto out;
    for (size_t i = 0; i < NTABLES && report != NULL; i++)
        fprintf(report, "%-15s %lld rows\n", tables[i], (long long)counts[i]);
    rc = 0;
    goto out;
rollback:
    PQclear(PQexec(pg, "ROLLBACK"));
out:
    if (lite != NULL) {
        sqlite3_exec(lite, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(lite);
    }
    PQfinish(pg);
    return rc;
}
