/* The SQLite backend of store.h.
 *
 * A fixed pool of connections, each used by one thread at a time (hence SQLITE_OPEN_NOMUTEX):
 * a caller takes a connection from the free list (waiting on a condition variable when all
 * are busy), runs its statements and gives it back. Each connection keeps its own prepared
 * statements, prepared on first use with SQLITE_PREPARE_PERSISTENT; all SQL is fixed text in
 * this file (and store_sqlite_containers.c, which shares the pool through
 * store_sqlite_int.h), and input only ever reaches SQLite through bind parameters.
 *
 * WAL lets readers run beside the single writer; busy_timeout makes writers queue for up to
 * five seconds before a call answers -EBUSY. Multi-statement writes start with
 * BEGIN IMMEDIATE so that they take the write lock up front and cannot deadlock on an
 * upgrade from a read lock. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "migrations.h"
#include "store_backend.h"
#include "store_sqlite_int.h"

#define BUSY_TIMEOUT_MS 5000
#define MIN_SQLITE_VERSION 3037000 /* STRICT tables */
#define MIN_SQLITE_TEXT "3.37"

#define USER_COLS "id, email, name, role, client_id, password_hash, disabled, created_at"
#define CLIENT_COLS "id, name, plan, quota_containers, quota_memory_mb, quota_cpus, created_at"
#define AUDIT_COLS "id, time, actor, client_id, action, target, ip, result, detail"
/* What a user list reads: the hash column is never selected, so it cannot leak from a list. */
#define USER_LIST_COLS "id, email, name, role, client_id, '' AS password_hash, disabled, created_at"

/* One statement per filter combination, so that each uses its own index. */
static const char *const stmt_sql[ST_COUNT] = {
    [ST_PING] = "SELECT 1",
    [ST_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_version",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_CLIENT_INSERT] =
        "INSERT INTO clients (" CLIENT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_CLIENT_GET] = "SELECT " CLIENT_COLS " FROM clients WHERE id = ?1",
    [ST_USER_INSERT] = "INSERT INTO users (" USER_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [ST_SESSION_USER] = "SELECT " USER_COLS ", EXISTS (SELECT 1 FROM revoked_tokens "
                        "WHERE jti = ?2) FROM users WHERE id = ?1",
    [ST_USER_GET_BY_EMAIL] = "SELECT " USER_COLS " FROM users WHERE email = ?1",
    [ST_USER_COUNT_ADMINS] = "SELECT count(*) FROM users WHERE role = 'admin'",
    [ST_CLIENT_COUNT] = "SELECT count(*) FROM clients",
    /* ?2 is the new role or "" (unchanged), ?3 the new disabled flag or -1 (unchanged). The
     * row is written unless it is an enabled admin that would stop being one while no other
     * enabled admin exists; the caller holds the write lock (BEGIN IMMEDIATE), so the check
     * and the write are one step. */
    [ST_USER_SET_ACCESS] =
        "UPDATE users SET role = coalesce(nullif(?2, ''), role), "
        "disabled = CASE WHEN ?3 < 0 THEN disabled ELSE ?3 END WHERE id = ?1 AND ("
        "role <> 'admin' OR disabled <> 0 OR (?2 <> 'client' AND ?3 <> 1) OR EXISTS ("
        "SELECT 1 FROM users o WHERE o.role = 'admin' AND o.disabled = 0 AND o.id <> ?1))",
    [ST_USER_EXISTS] = "SELECT 1 FROM users WHERE id = ?1",
    [ST_USER_LIST] = "SELECT " USER_LIST_COLS " FROM users ORDER BY created_at, id LIMIT ?2",
    [ST_USER_LIST_CLIENT] = "SELECT " USER_LIST_COLS " FROM users WHERE client_id = ?1 "
                            "ORDER BY created_at, id LIMIT ?2",
    [ST_CLIENT_LIST] = "SELECT " CLIENT_COLS " FROM clients ORDER BY created_at, id LIMIT ?2",
    [ST_CLIENT_UPDATE] = "UPDATE clients SET name = ?2, plan = ?3, quota_containers = ?4, "
                         "quota_memory_mb = ?5, quota_cpus = ?6 WHERE id = ?1",
    [ST_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
    [ST_TOKEN_REVOKE] = "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?1, ?2) "
                        "ON CONFLICT (jti) DO UPDATE SET "
                        "expires_at = max(expires_at, excluded.expires_at)",
    [ST_TOKEN_IS_REVOKED] = "SELECT 1 FROM revoked_tokens WHERE jti = ?1",
    [ST_TOKEN_PURGE] = "DELETE FROM revoked_tokens WHERE expires_at < ?1",
    [ST_AUDIT_ADD] = "INSERT INTO audit_log (time, actor, client_id, action, target, ip, result, "
                     "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit_log ORDER BY id DESC LIMIT ?3",
    [ST_AUDIT_LIST_CLIENT] = "SELECT " AUDIT_COLS " FROM audit_log WHERE client_id = ?1 "
                             "ORDER BY id DESC LIMIT ?3",
    [ST_AUDIT_LIST_ACTION] = "SELECT " AUDIT_COLS " FROM audit_log WHERE action = ?2 "
                             "ORDER BY id DESC LIMIT ?3",
    [ST_AUDIT_LIST_BOTH] = "SELECT " AUDIT_COLS " FROM audit_log WHERE client_id = ?1 "
                           "AND action = ?2 ORDER BY id DESC LIMIT ?3",
};

struct sqlite_store {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sync_ready; /* mu and cv were initialised */
    struct conn *free_list;
    struct conn *conns;
    unsigned nconns;
};

/* ---- the pool ---------------------------------------------------------------------------- */

/* Blocks until a connection is free. op names the caller in log lines. Shared with the
 * containers file so that both draw on the one pool. */
struct conn *sqlite_conn_acquire(struct sqlite_store *ss, const char *op)
{
    pthread_mutex_lock(&ss->mu);
    while (!ss->free_list)
        pthread_cond_wait(&ss->cv, &ss->mu);
    struct conn *c = ss->free_list;
    ss->free_list = c->next;
    pthread_mutex_unlock(&ss->mu);
    c->next = NULL;
    c->op = op;
    return c;
}

/* Gives c back to the pool and wakes one waiter; every acquire ends here. */
void sqlite_conn_release(struct sqlite_store *ss, struct conn *c)
{
    pthread_mutex_lock(&ss->mu);
    c->next = ss->free_list;
    ss->free_list = c;
    pthread_cond_signal(&ss->cv);
    pthread_mutex_unlock(&ss->mu);
}

/* ---- statements and errors --------------------------------------------------------------- */

/* Maps a failed SQLite result to the store.h contract, logging what is not an expected
 * answer. Extended result codes are on, so rc tells the kind of constraint. Shared so that
 * every file of the backend answers the same errno for the same failure. */
int sqlite_db_err(struct conn *c, int rc)
{
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) return -EEXIST;
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return -ENOENT; /* the row referred to is missing */
    /* SQLITE_LOCKED cannot happen without shared cache; if it does, it is "try later" too. */
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        STORE_LOG_ERR("%s: database busy beyond %d ms: %s", c->op, BUSY_TIMEOUT_MS,
                      sqlite3_errmsg(c->db));
        return -EBUSY;
    }
    STORE_LOG_ERR("%s: sqlite error %d: %s", c->op, rc, sqlite3_errmsg(c->db));
    return -EIO;
}

/* Prepares sql into the connection's cache slot on first use and hands the cached statement
 * out after; the containers file keeps its statements in slots of the same connection so
 * that conn_close finalizes them all. */
int sqlite_prepare_cached(struct conn *c, sqlite3_stmt **slot, const char *sql,
                          sqlite3_stmt **out)
{
    if (!*slot) {
        int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
        if (rc != SQLITE_OK) return sqlite_db_err(c, rc);
    }
    *out = *slot;
    return 0;
}

static int prep(struct conn *c, enum stmt_id id, sqlite3_stmt **out)
{
    return sqlite_prepare_cached(c, &c->stmt[id], stmt_sql[id], out);
}

/* Makes a cached statement ready for its next use and drops references to bound strings
 * (which are bound SQLITE_STATIC, so must not outlive the call). */
void sqlite_done(sqlite3_stmt *st)
{
    if (!st) return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static int bind_text(struct conn *c, sqlite3_stmt *st, int i, const char *v)
{
    int rc = sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    return rc == SQLITE_OK ? 0 : sqlite_db_err(c, rc);
}

static int bind_i64(struct conn *c, sqlite3_stmt *st, int i, int64_t v)
{
    int rc = sqlite3_bind_int64(st, i, v);
    return rc == SQLITE_OK ? 0 : sqlite_db_err(c, rc);
}

static int bind_dbl(struct conn *c, sqlite3_stmt *st, int i, double v)
{
    int rc = sqlite3_bind_double(st, i, v);
    return rc == SQLITE_OK ? 0 : sqlite_db_err(c, rc);
}

/* 1 for a row, 0 when the statement is done, or a negative errno: the one place a step
 * result is mapped. */
int sqlite_step(struct conn *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_DONE) return 0;
    return sqlite_db_err(c, rc);
}

/* Runs a cached statement that takes no parameters and returns no rows (BEGIN, COMMIT);
 * the transactions of both files go through it. */
int sqlite_exec_stmt(struct conn *c, enum stmt_id id)
{
    sqlite3_stmt *st = NULL;
    int ret = prep(c, id, &st);
    if (ret < 0) return ret;
    ret = sqlite_step(c, st);
    sqlite_done(st);
    return ret < 0 ? ret : 0;
}

/* Undoes an open transaction, if any; its own failure only gets logged. Safe on every error
 * path, so that no connection goes back to the pool inside a transaction. */
void sqlite_rollback(struct conn *c)
{
    if (!sqlite3_get_autocommit(c->db)) sqlite_exec_stmt(c, ST_ROLLBACK);
}

/* Copies a TEXT column into a fixed buffer. A value that does not fit is an error, never a
 * silent truncation: store.c keeps longer values out, so this means the data was changed
 * behind our back. NULL reads as "". */
int sqlite_col_text(struct conn *c, sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    if (!t) {
        if (sqlite3_errcode(c->db) == SQLITE_NOMEM) return sqlite_db_err(c, SQLITE_NOMEM);
        dst[0] = '\0';
        return 0;
    }
    if (len >= size) {
        STORE_LOG_ERR("%s: column %s holds %zu bytes, more than the %zu the API allows", c->op,
                      sqlite3_column_name(st, col), len, size - 1);
        dst[0] = '\0';
        return -EIO;
    }
    memcpy(dst, t, len);
    dst[len] = '\0';
    return 0;
}

/* Steps a lookup that yields at most one row into row: -ENOENT when it yields none. Shared
 * so that every get of both files maps "no row" the same way. */
int sqlite_read_one(struct conn *c, sqlite3_stmt *st, sqlite_row_reader read_row, void *row)
{
    int ret = sqlite_step(c, st);
    if (ret == 1) return read_row(c, st, row);
    return ret == 0 ? -ENOENT : ret;
}

/* Reads every row of st, and never more than max of them whatever the statement's LIMIT
 * did, into a malloc'ed array of row_size-byte structs that grows as rows arrive (a small
 * answer to a large maximum costs little). *out (NULL for no rows) and *n are written only on
 * success; on failure nothing is left allocated. Shared by the lists of both files. */
int sqlite_collect(struct conn *c, sqlite3_stmt *st, size_t row_size, size_t max,
                   sqlite_row_reader read_row, void **out, size_t *n)
{
    unsigned char *rows = NULL;
    size_t count = 0, cap = 0;
    int ret = 0;
    while (count < max && (ret = sqlite_step(c, st)) == 1) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            if (ncap > max) ncap = max;
            unsigned char *nr = ncap <= SIZE_MAX / row_size ? realloc(rows, ncap * row_size) : NULL;
            if (!nr) {
                STORE_LOG_ERR("%s: out of memory for %zu rows", c->op, ncap);
                ret = -ENOMEM;
                goto fail;
            }
            rows = nr;
            cap = ncap;
        }
        if ((ret = read_row(c, st, rows + count * row_size)) < 0) goto fail;
        count++;
    }
    if (ret < 0) goto fail;
    *out = rows;
    *n = count;
    return 0;
fail:
    free(rows);
    return ret;
}

#define COL_TEXT(col, field) sqlite_col_text(c, st, (col), (field), sizeof(field))

static int read_user(struct conn *c, sqlite3_stmt *st, void *row)
{
    store_user *u = row;
    int ret;
    memset(u, 0, sizeof *u);
    if ((ret = COL_TEXT(0, u->id)) < 0 || (ret = COL_TEXT(1, u->email)) < 0 ||
        (ret = COL_TEXT(2, u->name)) < 0 || (ret = COL_TEXT(3, u->role)) < 0 ||
        (ret = COL_TEXT(4, u->client_id)) < 0 || (ret = COL_TEXT(5, u->password_hash)) < 0)
        return ret;
    u->disabled = sqlite3_column_int(st, 6) ? 1 : 0;
    u->created_at = sqlite3_column_int64(st, 7);
    return 0;
}

static int read_client(struct conn *c, sqlite3_stmt *st, void *row)
{
    store_client *cl = row;
    int ret;
    memset(cl, 0, sizeof *cl);
    if ((ret = COL_TEXT(0, cl->id)) < 0 || (ret = COL_TEXT(1, cl->name)) < 0 ||
        (ret = COL_TEXT(2, cl->plan)) < 0)
        return ret;
    cl->quota_containers = sqlite3_column_int(st, 3);
    cl->quota_memory_mb = sqlite3_column_int(st, 4);
    cl->quota_cpus = sqlite3_column_double(st, 5);
    cl->created_at = sqlite3_column_int64(st, 6);
    return 0;
}

static int read_audit(struct conn *c, sqlite3_stmt *st, void *row)
{
    store_audit *a = row;
    int ret;
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    a->time = sqlite3_column_int64(st, 1);
    if ((ret = COL_TEXT(2, a->actor)) < 0 || (ret = COL_TEXT(3, a->client_id)) < 0 ||
        (ret = COL_TEXT(4, a->action)) < 0 || (ret = COL_TEXT(5, a->target)) < 0 ||
        (ret = COL_TEXT(6, a->ip)) < 0 || (ret = COL_TEXT(7, a->result)) < 0 ||
        (ret = COL_TEXT(8, a->detail)) < 0)
        return ret;
    return 0;
}

/* ---- the operations ---------------------------------------------------------------------- */

static int ping(void *impl)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_PING, &st);
    if (ret < 0) goto out;
    ret = sqlite_step(c, st);
    if (ret == 0) {
        STORE_LOG_ERR("%s: SELECT 1 returned no row", c->op);
        ret = -EIO;
    }
    if (ret == 1) ret = 0;
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int schema_version(void *impl)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_VERSION, &st);
    if (ret < 0) goto out;
    ret = sqlite_step(c, st);
    if (ret == 1) {
        sqlite3_int64 v = sqlite3_column_int64(st, 0);
        ret = v >= 0 && v <= INT_MAX ? (int)v : -EIO;
    } else if (ret == 0) {
        ret = -EIO;
    }
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int insert_client(struct conn *c, const store_client *cl)
{
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_CLIENT_INSERT, &st);
    if (ret < 0) return ret;
    if ((ret = bind_text(c, st, 1, cl->id)) < 0 || (ret = bind_text(c, st, 2, cl->name)) < 0 ||
        (ret = bind_text(c, st, 3, cl->plan)) < 0 ||
        (ret = bind_i64(c, st, 4, cl->quota_containers)) < 0 ||
        (ret = bind_i64(c, st, 5, cl->quota_memory_mb)) < 0 ||
        (ret = bind_dbl(c, st, 6, cl->quota_cpus)) < 0 ||
        (ret = bind_i64(c, st, 7, cl->created_at)) < 0)
        goto out;
    ret = sqlite_step(c, st);
out:
    sqlite_done(st);
    return ret < 0 ? ret : 0;
}

static int insert_user(struct conn *c, const store_user *u)
{
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_USER_INSERT, &st);
    if (ret < 0) return ret;
    if ((ret = bind_text(c, st, 1, u->id)) < 0 || (ret = bind_text(c, st, 2, u->email)) < 0 ||
        (ret = bind_text(c, st, 3, u->name)) < 0 || (ret = bind_text(c, st, 4, u->role)) < 0 ||
        (ret = bind_text(c, st, 5, u->client_id)) < 0 ||
        (ret = bind_text(c, st, 6, u->password_hash)) < 0 ||
        (ret = bind_i64(c, st, 7, u->disabled)) < 0 ||
        (ret = bind_i64(c, st, 8, u->created_at)) < 0)
        goto out;
    ret = sqlite_step(c, st);
out:
    sqlite_done(st);
    return ret < 0 ? ret : 0;
}

/* Both rows or neither: any failure (a taken email most often) rolls the client back. */
static int client_user_create(void *impl, store_client *cl, store_user *u)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    cl->created_at = u->created_at = (int64_t)time(NULL);
    int ret = sqlite_exec_stmt(c, ST_BEGIN);
    if (ret < 0) goto out;
    if ((ret = insert_client(c, cl)) < 0 || (ret = insert_user(c, u)) < 0) goto out;
    ret = sqlite_exec_stmt(c, ST_COMMIT);
out:
    if (ret < 0) sqlite_rollback(c);
    sqlite_conn_release(ss, c);
    return ret;
}

/* Runs a one-row lookup keyed by a single text parameter; -ENOENT for no row. */
static int get_user(void *impl, enum stmt_id id, const char *key, store_user *out, const char *op)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, op);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, id, &st);
    if (ret < 0 || (ret = bind_text(c, st, 1, key)) < 0) goto out;
    ret = sqlite_read_one(c, st, read_user, out);
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int user_get(void *impl, const char *id, store_user *out)
{
    return get_user(impl, ST_USER_GET, id, out, __func__);
}

static int session_user(void *impl, const char *user_id, const char *jti, store_user *out)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_SESSION_USER, &st);
    if (ret < 0 || (ret = bind_text(c, st, 1, user_id)) < 0 ||
        (ret = bind_text(c, st, 2, jti)) < 0)
        goto out;
    ret = sqlite_read_one(c, st, read_user, out);
    if (ret == 0 && sqlite3_column_int(st, 8) != 0) ret = -EKEYREVOKED;
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int user_get_by_email(void *impl, const char *email, store_user *out)
{
    return get_user(impl, ST_USER_GET_BY_EMAIL, email, out, __func__);
}

/* One count(*) statement's answer. */
static int count_rows(struct sqlite_store *ss, int stmt, const char *who, int64_t *n)
{
    struct conn *c = sqlite_conn_acquire(ss, who);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, stmt, &st);
    if (ret < 0) goto out;
    ret = sqlite_step(c, st);
    if (ret == 1) {
        *n = sqlite3_column_int64(st, 0);
        ret = 0;
    } else if (ret == 0) {
        ret = -EIO;
    }
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int user_count_admins(void *impl, int64_t *n)
{
    return count_rows(impl, ST_USER_COUNT_ADMINS, __func__, n);
}

static int client_count(void *impl, int64_t *n)
{
    return count_rows(impl, ST_CLIENT_COUNT, __func__, n);
}

/* One write transaction: the guarded UPDATE, and when it touched nothing, whether the user
 * exists (-EPERM: the last enabled admin) or not (-ENOENT). */
static int user_set_access(void *impl, const char *id, const char *role, int disabled)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int changed = 0;
    int ret = sqlite_exec_stmt(c, ST_BEGIN);
    if (ret < 0 || (ret = prep(c, ST_USER_SET_ACCESS, &st)) < 0 ||
        (ret = bind_text(c, st, 1, id)) < 0 || (ret = bind_text(c, st, 2, role)) < 0 ||
        (ret = bind_i64(c, st, 3, disabled)) < 0 || (ret = sqlite_step(c, st)) < 0)
        goto out;
    changed = sqlite3_changes(c->db) > 0;
    sqlite_done(st);
    st = NULL;
    if (changed) {
        ret = sqlite_exec_stmt(c, ST_COMMIT);
        goto out;
    }
    if ((ret = prep(c, ST_USER_EXISTS, &st)) < 0 || (ret = bind_text(c, st, 1, id)) < 0 ||
        (ret = sqlite_step(c, st)) < 0)
        goto out;
    ret = ret == 1 ? -EPERM : -ENOENT;
out:
    sqlite_done(st);
    if (ret < 0) sqlite_rollback(c);
    sqlite_conn_release(ss, c);
    return ret;
}

static int user_delete(void *impl, const char *id)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_USER_DELETE, &st);
    if (ret < 0 || (ret = bind_text(c, st, 1, id)) < 0 || (ret = sqlite_step(c, st)) < 0) goto out;
    ret = sqlite3_changes(c->db) > 0 ? 0 : -ENOENT;
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int client_get(void *impl, const char *id, store_client *out)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_CLIENT_GET, &st);
    if (ret < 0 || (ret = bind_text(c, st, 1, id)) < 0) goto out;
    ret = sqlite_read_one(c, st, read_client, out);
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int token_revoke(void *impl, const char *jti, int64_t expires_at)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_TOKEN_REVOKE, &st);
    if (ret < 0 || (ret = bind_text(c, st, 1, jti)) < 0 ||
        (ret = bind_i64(c, st, 2, expires_at)) < 0 || (ret = sqlite_step(c, st)) < 0)
        goto out;
    ret = 0;
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int token_is_revoked(void *impl, const char *jti)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_TOKEN_IS_REVOKED, &st);
    if (ret < 0 || (ret = bind_text(c, st, 1, jti)) < 0) goto out;
    ret = sqlite_step(c, st); /* 1 row: revoked, 0: not, negative: error */
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int token_purge_expired(void *impl, int64_t now)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_TOKEN_PURGE, &st);
    if (ret < 0 || (ret = bind_i64(c, st, 1, now)) < 0 || (ret = sqlite_step(c, st)) < 0) goto out;
    ret = 0;
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int audit_add(void *impl, const store_audit *a)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int64_t t = a->time ? a->time : (int64_t)time(NULL);
    int ret = prep(c, ST_AUDIT_ADD, &st);
    if (ret < 0) goto out;
    if ((ret = bind_i64(c, st, 1, t)) < 0 || (ret = bind_text(c, st, 2, a->actor)) < 0 ||
        (ret = bind_text(c, st, 3, a->client_id)) < 0 ||
        (ret = bind_text(c, st, 4, a->action)) < 0 || (ret = bind_text(c, st, 5, a->target)) < 0 ||
        (ret = bind_text(c, st, 6, a->ip)) < 0 || (ret = bind_text(c, st, 7, a->result)) < 0 ||
        (ret = bind_text(c, st, 8, a->detail)) < 0 || (ret = sqlite_step(c, st)) < 0)
        goto out;
    ret = 0;
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

/* sqlite_collect caps the rows at limit too: LIMIT holds it, but is never trusted with
 * memory. store.c keeps limit within 1..1000. */
static int audit_list(void *impl, const char *client_id, const char *action, int limit,
                      store_audit **out, size_t *n)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    void *rows = NULL;
    enum stmt_id id = client_id[0] ? (action[0] ? ST_AUDIT_LIST_BOTH : ST_AUDIT_LIST_CLIENT)
                                   : (action[0] ? ST_AUDIT_LIST_ACTION : ST_AUDIT_LIST);
    int ret = prep(c, id, &st);
    if (ret < 0) goto out;
    /* Parameters a statement does not use are simply never read. */
    if ((client_id[0] && (ret = bind_text(c, st, 1, client_id)) < 0) ||
        (action[0] && (ret = bind_text(c, st, 2, action)) < 0) ||
        (ret = bind_i64(c, st, 3, limit)) < 0)
        goto out;
    ret = sqlite_collect(c, st, sizeof **out, (size_t)limit, read_audit, &rows, n);
    if (ret == 0) *out = rows;
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

/* Runs list statement id (key in ?1 when not NULL, the limit in ?2) into at most limit rows
 * of row_size bytes: the clients and users lists. */
static int list_rows(struct sqlite_store *ss, const char *op, enum stmt_id id, const char *key,
                     int limit, size_t row_size, sqlite_row_reader read_row, void **out,
                     size_t *n)
{
    struct conn *c = sqlite_conn_acquire(ss, op);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, id, &st);
    if (ret < 0 || (key && (ret = bind_text(c, st, 1, key)) < 0) ||
        (ret = bind_i64(c, st, 2, limit)) < 0)
        goto out;
    ret = sqlite_collect(c, st, row_size, (size_t)limit, read_row, out, n);
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

static int client_list(void *impl, int limit, store_client **out, size_t *n)
{
    void *rows = NULL;
    int ret = list_rows(impl, __func__, ST_CLIENT_LIST, NULL, limit, sizeof **out, read_client,
                        &rows, n);
    if (ret == 0) *out = rows;
    return ret;
}

static int user_list(void *impl, const char *client_id, int limit, store_user **out, size_t *n)
{
    void *rows = NULL;
    int ret = list_rows(impl, __func__, client_id[0] ? ST_USER_LIST_CLIENT : ST_USER_LIST,
                        client_id[0] ? client_id : NULL, limit, sizeof **out, read_user, &rows,
                        n);
    if (ret == 0) *out = rows;
    return ret;
}

/* sqlite3_changes counts the rows the WHERE matched, also when no value changed. */
static int client_update(void *impl, const store_client *cl)
{
    struct sqlite_store *ss = impl;
    struct conn *c = sqlite_conn_acquire(ss, __func__);
    sqlite3_stmt *st = NULL;
    int ret = prep(c, ST_CLIENT_UPDATE, &st);
    if (ret < 0 || (ret = bind_text(c, st, 1, cl->id)) < 0 ||
        (ret = bind_text(c, st, 2, cl->name)) < 0 || (ret = bind_text(c, st, 3, cl->plan)) < 0 ||
        (ret = bind_i64(c, st, 4, cl->quota_containers)) < 0 ||
        (ret = bind_i64(c, st, 5, cl->quota_memory_mb)) < 0 ||
        (ret = bind_dbl(c, st, 6, cl->quota_cpus)) < 0 || (ret = sqlite_step(c, st)) < 0)
        goto out;
    ret = sqlite3_changes(c->db) > 0 ? 0 : -ENOENT;
out:
    sqlite_done(st);
    sqlite_conn_release(ss, c);
    return ret;
}

/* ---- opening, migrating, closing --------------------------------------------------------- */

static void conn_close(struct conn *c)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(c->stmt[i]);
        c->stmt[i] = NULL;
    }
    for (int i = 0; i < SQLITE_CTR_STMT_MAX; i++) {
        sqlite3_finalize(c->ctr_stmt[i]);
        c->ctr_stmt[i] = NULL;
    }
    for (int i = 0; i < SQLITE_TOK_STMT_MAX; i++) {
        sqlite3_finalize(c->tok_stmt[i]);
        c->tok_stmt[i] = NULL;
    }
    if (c->db && sqlite3_close(c->db) != SQLITE_OK)
        STORE_LOG_ERR("closing a connection failed: %s", sqlite3_errmsg(c->db));
    c->db = NULL;
}

/* Waits for nobody: store_close's contract says callers have stopped using the store. */
static void destroy(void *impl)
{
    struct sqlite_store *ss = impl;
    if (!ss) return;
    for (unsigned i = 0; i < ss->nconns; i++)
        conn_close(&ss->conns[i]);
    if (ss->sync_ready) {
        pthread_cond_destroy(&ss->cv);
        pthread_mutex_destroy(&ss->mu);
    }
    free(ss->conns);
    free(ss);
}

/* Runs one fixed SQL text (a pragma or a query against the catalog) that yields at most one
 * row, and returns its first column as an integer (0 for no row) or as text. */
static int query_one(struct conn *c, const char *sql, int64_t *num, char *text, size_t textlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return sqlite_db_err(c, rc);
    int ret = sqlite_step(c, st);
    if (num) *num = ret == 1 ? sqlite3_column_int64(st, 0) : 0;
    if (text && textlen) {
        text[0] = '\0';
        if (ret == 1) ret = sqlite_col_text(c, st, 0, text, textlen);
    }
    sqlite3_finalize(st);
    return ret < 0 ? ret : 0;
}

/* Opens one connection and sets it up the same way every time. Fails closed when SQLite
 * does not honour WAL or foreign keys rather than running with weaker guarantees. */
static int conn_open(struct conn *c, const char *path, char *err, size_t errlen)
{
    static const char *const setup[] = {
        "PRAGMA busy_timeout = 5000",
        "PRAGMA foreign_keys = ON",
        "PRAGMA synchronous = NORMAL",
    };
    char mode[16];
    int64_t fk = 0;
    c->op = "store_open";
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                 SQLITE_OPEN_EXRESCODE,
                             NULL);
    if (rc != SQLITE_OK) {
        store_set_err(err, errlen, "cannot open the database %s: %s", path,
                      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        return (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) {
        int ret = query_one(c, setup[i], NULL, NULL, 0);
        if (ret < 0) {
            store_set_err(err, errlen, "cannot set up the database %s (%s): %s", path, setup[i],
                          sqlite3_errmsg(c->db));
            return ret;
        }
    }
    int ret = query_one(c, "PRAGMA journal_mode = WAL", NULL, mode, sizeof mode);
    if (ret == 0 && strcmp(mode, "wal") != 0) ret = -EIO;
    if (ret < 0) {
        store_set_err(err, errlen,
                      "cannot put the database %s in WAL mode (is it on a network file "
                      "system?): %s",
                      path, sqlite3_errmsg(c->db));
        return ret;
    }
    ret = query_one(c, "PRAGMA foreign_keys", &fk, NULL, 0);
    if (ret == 0 && fk != 1) ret = -EIO;
    if (ret < 0) {
        store_set_err(err, errlen, "this SQLite library does not enforce foreign keys");
        return ret;
    }
    return 0;
}

/* The highest applied version; 0 for a database with no schema_version table yet. */
static int current_version(struct conn *c, int64_t *v)
{
    int64_t exists = 0;
    int ret = query_one(c,
                        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                        "name = 'schema_version'",
                        &exists, NULL, 0);
    if (ret < 0) return ret;
    *v = 0;
    if (!exists) return 0;
    return query_one(c, "SELECT coalesce(max(version), 0) FROM schema_version", v, NULL, 0);
}

static int record_version(struct conn *c, const struct store_migration *m)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db,
                                "INSERT INTO schema_version (version, name, applied_at) "
                                "VALUES (?1, ?2, ?3)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) return sqlite_db_err(c, rc);
    int ret;
    if ((ret = bind_i64(c, st, 1, m->version)) < 0 || (ret = bind_text(c, st, 2, m->name)) < 0 ||
        (ret = bind_i64(c, st, 3, (int64_t)time(NULL))) < 0)
        goto out;
    ret = sqlite_step(c, st);
out:
    sqlite3_finalize(st);
    return ret < 0 ? ret : 0;
}

/* Applies, one transaction each, every built-in migration above the recorded version. The
 * version is read again inside each BEGIN IMMEDIATE, so two daemons starting at once on the
 * same file apply each migration exactly once. A database newer than this binary is refused
 * (-EPROTO): running old code on a new schema could corrupt it. */
static int migrate(struct conn *c, char *err, size_t errlen)
{
    const struct store_migration *migs = store_sqlite_migrations;
    size_t n = store_sqlite_migrations_count;
    int known = n ? migs[n - 1].version : 0;
    for (;;) {
        int64_t cur = 0;
        const struct store_migration *next = NULL;
        char *msg = NULL;
        int ret = sqlite_exec_stmt(c, ST_BEGIN);
        if (ret < 0 || (ret = current_version(c, &cur)) < 0) {
            store_set_err(err, errlen, "cannot read the database's schema version: %s",
                          sqlite3_errmsg(c->db));
            sqlite_rollback(c);
            return ret;
        }
        if (cur > known) {
            store_set_err(err, errlen,
                          "the database schema is at version %lld but this cloudyad knows only "
                          "versions up to %d: run a newer cloudyad",
                          (long long)cur, known);
            sqlite_rollback(c);
            return -EPROTO;
        }
        for (size_t i = 0; i < n && !next; i++)
            if (migs[i].version > cur) next = &migs[i];
        if (!next) return sqlite_exec_stmt(c, ST_COMMIT);
        if (sqlite3_exec(c->db, next->sql, NULL, NULL, &msg) != SQLITE_OK) {
            store_set_err(err, errlen, "database migration %04d_%s failed: %s", next->version,
                          next->name, msg ? msg : sqlite3_errmsg(c->db));
            STORE_LOG_ERR("migration %04d_%s failed: %s", next->version, next->name,
                          msg ? msg : sqlite3_errmsg(c->db));
            sqlite3_free(msg);
            sqlite_rollback(c);
            return -EIO;
        }
        if ((ret = record_version(c, next)) < 0 || (ret = sqlite_exec_stmt(c, ST_COMMIT)) < 0) {
            store_set_err(err, errlen, "cannot record database migration %04d_%s: %s",
                          next->version, next->name, sqlite3_errmsg(c->db));
            sqlite_rollback(c);
            return ret;
        }
    }
}

/* mkdir -p of path's parent directory with mode 0700 for what it creates. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof buf) {
        store_set_err(err, errlen, "the database path is longer than %d bytes", PATH_MAX - 1);
        return -ENAMETOOLONG;
    }
    memcpy(buf, path, len + 1);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return 0;
    *slash = '\0';
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            store_set_err(err, errlen, "cannot create the database directory %s: %s", buf,
                          strerror(e));
            return -e;
        }
        if (saved == '\0') return 0;
        *p = saved;
    }
}

/* Creates the file ourselves so that it is born 0600 whatever the umask allows more of, and
 * tightens an existing file: it holds password hashes. SQLite gives the -wal and -shm files
 * the database file's mode. */
static int make_db_file(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    int ret = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        ret = -errno;
        store_set_err(err, errlen, "cannot open the database file %s: %s", path, strerror(-ret));
        return ret;
    }
    if (fstat(fd, &sb) != 0) {
        ret = -errno;
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        ret = -EINVAL;
        store_set_err(err, errlen, "the database path %s is not a regular file", path);
        goto out;
    }
    if ((sb.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
        ret = -errno;
        goto fail;
    }
    goto out;
fail:
    store_set_err(err, errlen, "cannot set up the database file %s: %s", path, strerror(-ret));
out:
    close(fd);
    return ret;
}

static const struct store_ops sqlite_ops = {
    .close = destroy,
    .ping = ping,
    .schema_version = schema_version,
    .client_user_create = client_user_create,
    .user_get = user_get,
    .session_user = session_user,
    .user_get_by_email = user_get_by_email,
    .user_count_admins = user_count_admins,
    .client_count = client_count,
    .user_set_access = user_set_access,
    .user_delete = user_delete,
    .client_get = client_get,
    .client_list = client_list,
    .client_update = client_update,
    .user_list = user_list,
    .token_revoke = token_revoke,
    .token_is_revoked = token_is_revoked,
    .token_purge_expired = token_purge_expired,
    .audit_add = audit_add,
    .audit_list = audit_list,
    .container_reserve = sqlite_container_reserve,
    .container_get = sqlite_container_get,
    .container_find = sqlite_container_find,
    .container_list = sqlite_container_list,
    .container_update = sqlite_container_update,
    .container_set_state = sqlite_container_set_state,
    .container_delete = sqlite_container_delete,
    .container_usage = sqlite_container_usage,
    .instance_id = sqlite_instance_id,
    .tokens_account = sqlite_tokens_account,
    .tokens_add = sqlite_tokens_add,
    .command_add = sqlite_command_add,
    .command_get = sqlite_command_get,
    .command_claim = sqlite_command_claim,
    .command_release = sqlite_command_release,
};

/* See store_backend.h. Every connection is opened up front, so that a bad path or a locked
 * file fails at start-up and not on the first request; migrations run on the first. */
int store_sqlite_open(const char *path, unsigned pool_size, const struct store_ops **ops,
                      void **impl, char *err, size_t errlen)
{
    struct sqlite_store *ss = NULL;
    size_t plen = strlen(path);
    int ret;

    if (sqlite3_libversion_number() < MIN_SQLITE_VERSION || !sqlite3_threadsafe()) {
        store_set_err(err, errlen,
                      "SQLite %s is unusable: cloudyad needs %s or newer, built thread-safe",
                      sqlite3_libversion(), MIN_SQLITE_TEXT);
        return -ENOTSUP;
    }
    if (plen == 0 || path[plen - 1] == '/' || path[0] == ':' || pool_size == 0) {
        store_set_err(err, errlen,
                      "the SQLite URL must name a file, as in sqlite:///var/lib/cloudya/"
                      "cloudya.db or sqlite://data/cloudya.db");
        return -EINVAL;
    }
    for (size_t i = 1; i < store_sqlite_migrations_count; i++) {
        if (store_sqlite_migrations[i].version <= store_sqlite_migrations[i - 1].version) {
            store_set_err(err, errlen, "the built-in SQLite migrations are out of order");
            return -EINVAL;
        }
    }
    if ((ret = make_parent_dirs(path, err, errlen)) < 0 ||
        (ret = make_db_file(path, err, errlen)) < 0)
        return ret;

    ret = -ENOMEM;
    ss = calloc(1, sizeof *ss);
    if (!ss) goto nomem;
    ss->conns = calloc(pool_size, sizeof *ss->conns);
    if (!ss->conns) goto nomem;
    ss->nconns = pool_size;
    if (pthread_mutex_init(&ss->mu, NULL) != 0) goto nomem;
    if (pthread_cond_init(&ss->cv, NULL) != 0) {
        pthread_mutex_destroy(&ss->mu);
        goto nomem;
    }
    ss->sync_ready = 1;
    for (unsigned i = 0; i < pool_size; i++) {
        if ((ret = conn_open(&ss->conns[i], path, err, errlen)) < 0) goto out;
        if (i == 0 && (ret = migrate(&ss->conns[0], err, errlen)) < 0) goto out;
    }
    for (unsigned i = pool_size; i-- > 0;) {
        ss->conns[i].next = ss->free_list;
        ss->free_list = &ss->conns[i];
    }
    *ops = &sqlite_ops;
    *impl = ss;
    return 0;
nomem:
    store_set_err(err, errlen, "out of memory opening the database");
out:
    destroy(ss);
    return ret;
}
