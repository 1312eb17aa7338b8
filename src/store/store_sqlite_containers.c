/* The containers section of store.h over SQLite: quota-checked reservations, lookups by id,
 * Docker id, Docker id prefix or name, state changes, usage sums and the instance id.
 *
 * It draws on store_sqlite.c's pool and helpers (store_sqlite_int.h) and keeps its own
 * cached statements in each connection's ctr_stmt slots. All SQL is fixed text below; input
 * reaches SQLite only through bind parameters, described per call by a small argument list
 * (struct arg) so that each operation states what it binds instead of repeating
 * prepare/bind/step/reset. Empty strings and zero ports or expiries are stored as NULL, which
 * is what the schema means by "none" (and what lets many rows lack a Docker id under its
 * unique index); they read back as "" and 0. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "str.h"
#include "store_backend.h"
#include "store_sqlite_int.h"

#define DOCKER_ID_LEN 64
#define DOCKER_PREFIX_MIN 12
#define CPU_EPSILON 1e-9
#define INSTANCE_KEY "instance_id"
#define INSTANCE_PREFIX "ins"

enum cst {
    CST_GET,
    CST_BY_DOCKER_ID,
    CST_BY_PREFIX,
    CST_BY_NAME,
    CST_LIST,
    CST_LIST_CLIENT,
    CST_LIST_STATE,
    CST_LIST_BOTH,
    CST_CLIENT_QUOTA,
    CST_USAGE,
    CST_DELETE_REMOVED,
    CST_INSERT,
    CST_UPDATE,
    CST_SET_STATE,
    CST_EXISTS,
    CST_DELETE,
    CST_META_GET,
    CST_META_INSERT,
    CST_COUNT
};

_Static_assert(CST_COUNT <= SQLITE_CTR_STMT_MAX, "raise SQLITE_CTR_STMT_MAX");

#define CTR_COLS                                                                                   \
    "id, client_id, name, service_type, image, docker_id, state, host_port, url, memory_mb, "      \
    "cpus, created_at, updated_at, expires_at, owner"
#define CTR_SELECT "SELECT " CTR_COLS " FROM containers "
#define CTR_ORDER " ORDER BY created_at, id LIMIT ?3"
/* Rows that hold quota: every state but "removed". */
#define CTR_LIVE "state <> 'removed'"

/* One statement per list filter combination, so that each can use its own index. In the
 * lookups, ?2 (or ?3) = '' means "every tenant". */
static const char *const cst_sql[CST_COUNT] = {
    [CST_GET] = CTR_SELECT "WHERE id = ?1",
    [CST_BY_DOCKER_ID] = CTR_SELECT "WHERE docker_id = ?1 AND (?2 = '' OR client_id = ?2)",
    /* [?1, ?2) is every string that starts with the prefix ?1: ?2 is ?1 with its last
     * character raised by one. Two rows are enough to tell unique from ambiguous. */
    [CST_BY_PREFIX] = CTR_SELECT "WHERE docker_id >= ?1 AND docker_id < ?2 "
                                 "AND (?3 = '' OR client_id = ?3) ORDER BY docker_id LIMIT 2",
    [CST_BY_NAME] = CTR_SELECT "WHERE client_id = ?1 AND name = ?2",
    [CST_LIST] = CTR_SELECT "WHERE 1" CTR_ORDER,
    [CST_LIST_CLIENT] = CTR_SELECT "WHERE client_id = ?1" CTR_ORDER,
    [CST_LIST_STATE] = CTR_SELECT "WHERE state = ?2" CTR_ORDER,
    [CST_LIST_BOTH] = CTR_SELECT "WHERE client_id = ?1 AND state = ?2" CTR_ORDER,
    [CST_CLIENT_QUOTA] =
        "SELECT quota_containers, quota_memory_mb, quota_cpus FROM clients WHERE id = ?1",
    [CST_USAGE] = "SELECT count(*), coalesce(sum(state = 'running'), 0), "
                  "coalesce(sum(memory_mb), 0), total(cpus) FROM containers "
                  "WHERE client_id = ?1 AND " CTR_LIVE,
    [CST_DELETE_REMOVED] =
        "DELETE FROM containers WHERE client_id = ?1 AND name = ?2 AND state = 'removed'",
    [CST_INSERT] = "INSERT INTO containers (" CTR_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                   "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [CST_UPDATE] = "UPDATE containers SET docker_id = ?2, state = ?3, host_port = ?4, url = ?5, "
                   "expires_at = ?6, updated_at = ?7 WHERE id = ?1",
    /* ?4 is "" (any state) or a list such as "running,created": the row's state must be one
     * of its elements, compared whole thanks to the commas added on both sides. */
    [CST_SET_STATE] = "UPDATE containers SET state = ?2, updated_at = ?3 WHERE id = ?1 "
                      "AND (?4 = '' OR instr(',' || ?4 || ',', ',' || state || ',') > 0)",
    [CST_EXISTS] = "SELECT 1 FROM containers WHERE id = ?1",
    [CST_DELETE] = "DELETE FROM containers WHERE id = ?1",
    [CST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [CST_META_INSERT] = "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
};

/* ---- binding and reading ----------------------------------------------------------------- */

/* Prepares statement id on c and binds args to ?1 ... ?nargs. *st is set as soon as the
 * statement exists, so the caller's sqlite_done(*st) always runs, even after a bind error. */
int sqlite_bind_start(struct conn *c, sqlite3_stmt **slot, const char *sql, const struct arg *args,
                      size_t nargs, sqlite3_stmt **st)
{
    int ret = sqlite_prepare_cached(c, slot, sql, st);
    if (ret < 0) return ret;
    for (size_t i = 0; i < nargs; i++) {
        const struct arg *a = &args[i];
        int col = (int)i + 1, rc;
        switch (a->kind) {
        case ARG_TEXT_NULL:
            if (!a->s[0]) {
                rc = sqlite3_bind_null(*st, col);
                break;
            }
            /* fall through */
        case ARG_TEXT:
            rc = sqlite3_bind_text(*st, col, a->s, -1, SQLITE_STATIC);
            break;
        case ARG_INT_NULL:
            rc = a->i ? sqlite3_bind_int64(*st, col, a->i) : sqlite3_bind_null(*st, col);
            break;
        case ARG_INT:
            rc = sqlite3_bind_int64(*st, col, a->i);
            break;
        default:
            rc = sqlite3_bind_double(*st, col, a->d);
            break;
        }
        if (rc != SQLITE_OK) return sqlite_db_err(c, rc);
    }
    return 0;
}

/* Runs a statement that returns no rows; *changes (when non-NULL) gets the rows it wrote. */
int sqlite_bind_run(struct conn *c, sqlite3_stmt **slot, const char *sql, const struct arg *args,
                    size_t nargs, int *changes)
{
    sqlite3_stmt *st = NULL;
    int ret = sqlite_bind_start(c, slot, sql, args, nargs, &st);
    if (ret == 0) ret = sqlite_step(c, st);
    if (ret >= 0 && changes) *changes = sqlite3_changes(c->db);
    sqlite_done(st);
    return ret < 0 ? ret : 0;
}

/* Prepares statement id on c and binds args (see store_sqlite_int.h). */
static int start(struct conn *c, enum cst id, const struct arg *args, size_t nargs,
                 sqlite3_stmt **st)
{
    return sqlite_bind_start(c, &c->ctr_stmt[id], cst_sql[id], args, nargs, st);
}

/* Runs a statement that returns no rows; *changes (when non-NULL) gets the rows it wrote. */
static int run(struct conn *c, enum cst id, const struct arg *args, size_t nargs, int *changes)
{
    return sqlite_bind_run(c, &c->ctr_stmt[id], cst_sql[id], args, nargs, changes);
}

/* A column that store.h holds in an int; anything wider was written behind our back. */
static int col_int(struct conn *c, sqlite3_stmt *st, int col, int *out)
{
    sqlite3_int64 v = sqlite3_column_int64(st, col);
    if (v < INT_MIN || v > INT_MAX) {
        STORE_LOG_ERR("%s: column %s holds %lld, outside an int", c->op,
                      sqlite3_column_name(st, col), (long long)v);
        return -EIO;
    }
    *out = (int)v;
    return 0;
}

/* Fills the store_container at row from a row of CTR_COLS. */
static int read_container(struct conn *c, sqlite3_stmt *st, void *row)
{
    store_container *o = row;
    const struct {
        int col;
        char *dst;
        size_t size;
    } text[] = {
        {0, o->id, sizeof o->id},       {1, o->client_id, sizeof o->client_id},
        {2, o->name, sizeof o->name},   {3, o->service_type, sizeof o->service_type},
        {4, o->image, sizeof o->image}, {5, o->docker_id, sizeof o->docker_id},
        {6, o->state, sizeof o->state}, {8, o->url, sizeof o->url},
        {14, o->owner, sizeof o->owner},
    };
    int ret;
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if ((ret = sqlite_col_text(c, st, text[i].col, text[i].dst, text[i].size)) < 0) return ret;
    if ((ret = col_int(c, st, 7, &o->host_port)) < 0 ||
        (ret = col_int(c, st, 9, &o->memory_mb)) < 0)
        return ret;
    o->cpus = sqlite3_column_double(st, 10);
    o->created_at = sqlite3_column_int64(st, 11);
    o->updated_at = sqlite3_column_int64(st, 12);
    o->expires_at = sqlite3_column_int64(st, 13);
    return 0;
}

/* Runs a lookup that yields at most one container; -ENOENT when it yields none. */
static int query_container(struct conn *c, enum cst id, const struct arg *args, size_t nargs,
                           store_container *out)
{
    sqlite3_stmt *st = NULL;
    int ret = start(c, id, args, nargs, &st);
    if (ret == 0) ret = sqlite_read_one(c, st, read_container, out);
    sqlite_done(st);
    return ret;
}

/* query_container on a connection of its own. */
static int get_container(void *impl, const char *op, enum cst id, const struct arg *args,
                         size_t nargs, store_container *out)
{
    struct conn *c = sqlite_conn_acquire(impl, op);
    int ret = query_container(c, id, args, nargs, out);
    sqlite_conn_release(impl, c);
    return ret;
}

/* run on a connection of its own, for writes to one row: -ENOENT when no row was written. */
static int write_row(void *impl, const char *op, enum cst id, const struct arg *args, size_t nargs)
{
    struct conn *c = sqlite_conn_acquire(impl, op);
    int changes = 0;
    int ret = run(c, id, args, nargs, &changes);
    if (ret == 0 && changes == 0) ret = -ENOENT;
    sqlite_conn_release(impl, c);
    return ret;
}

struct usage {
    int64_t count, running, memory_mb;
    double cpus;
};

/* What client_id's rows not "removed" hold; the reservation reads it inside its transaction. */
static int read_usage(struct conn *c, const char *client_id, struct usage *u)
{
    sqlite3_stmt *st = NULL;
    int ret = start(c, CST_USAGE, ARGS(A_TEXT(client_id)), &st);
    if (ret < 0) goto out;
    ret = sqlite_step(c, st);
    if (ret == 0) {
        STORE_LOG_ERR("%s: an aggregate returned no row", c->op);
        ret = -EIO;
    }
    if (ret < 0) goto out;
    u->count = sqlite3_column_int64(st, 0);
    u->running = sqlite3_column_int64(st, 1);
    u->memory_mb = sqlite3_column_int64(st, 2);
    u->cpus = sqlite3_column_double(st, 3);
    ret = 0;
out:
    sqlite_done(st);
    return ret;
}

struct quota {
    int64_t containers, memory_mb;
    double cpus;
};

/* The client's quotas; -ENOENT when the client does not exist. */
static int read_quota(struct conn *c, const char *client_id, struct quota *q)
{
    sqlite3_stmt *st = NULL;
    int ret = start(c, CST_CLIENT_QUOTA, ARGS(A_TEXT(client_id)), &st);
    if (ret < 0) goto out;
    ret = sqlite_step(c, st);
    if (ret == 0) ret = -ENOENT;
    if (ret < 0) goto out;
    q->containers = sqlite3_column_int64(st, 0);
    q->memory_mb = sqlite3_column_int64(st, 1);
    q->cpus = sqlite3_column_double(st, 2);
    ret = 0;
out:
    sqlite_done(st);
    return ret;
}

/* ---- the operations ---------------------------------------------------------------------- */

/* BEGIN IMMEDIATE takes the write lock before the quota is read, so reservations from any
 * connection (or process) run one after another and each sees the rows of those before it:
 * the check and the insert cannot be split by another reservation. A writer that holds the
 * lock longer than busy_timeout makes BEGIN fail with SQLITE_BUSY, which sqlite_db_err maps
 * to -EBUSY. c is written only on success, with the row as stored. */
int sqlite_container_reserve(void *impl, store_container *ct, enum store_quota_hit *hit)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    store_container row = *ct;
    struct quota q;
    struct usage u;
    int ret;

    *hit = STORE_QUOTA_NONE;
    row.docker_id[0] = '\0';
    row.url[0] = '\0';
    row.host_port = 0;
    snprintf(row.state, sizeof row.state, "%s", "creating");
    row.created_at = row.updated_at = (int64_t)time(NULL);

    if ((ret = sqlite_exec_stmt(c, ST_BEGIN)) < 0 || (ret = read_quota(c, row.client_id, &q)) < 0 ||
        (ret = read_usage(c, row.client_id, &u)) < 0)
        goto out;
    if (u.count >= q.containers)
        *hit = STORE_QUOTA_CONTAINERS;
    else if (u.memory_mb + row.memory_mb > q.memory_mb)
        *hit = STORE_QUOTA_MEMORY;
    else if (u.cpus + row.cpus > q.cpus + CPU_EPSILON)
        *hit = STORE_QUOTA_CPUS;
    if (*hit != STORE_QUOTA_NONE) {
        ret = -EDQUOT;
        goto out;
    }
    if ((ret = run(c, CST_DELETE_REMOVED, ARGS(A_TEXT(row.client_id), A_TEXT(row.name)), NULL)) < 0)
        goto out;
    ret = run(c, CST_INSERT,
              ARGS(A_TEXT(row.id), A_TEXT(row.client_id), A_TEXT(row.name),
                   A_TEXT(row.service_type), A_TEXT(row.image), A_TEXT_NULL(row.docker_id),
                   A_TEXT(row.state), A_INT_NULL(row.host_port), A_TEXT_NULL(row.url),
                   A_INT(row.memory_mb), A_REAL(row.cpus), A_INT(row.created_at),
                   A_INT(row.updated_at), A_INT_NULL(row.expires_at), A_TEXT(row.owner)),
              NULL);
    if (ret < 0 || (ret = sqlite_exec_stmt(c, ST_COMMIT)) < 0) goto out;
    *ct = row;
out:
    if (ret < 0) sqlite_rollback(c);
    sqlite_conn_release(impl, c);
    return ret;
}

/* A plain primary-key lookup. */
int sqlite_container_get(void *impl, const char *id, store_container *out)
{
    return get_container(impl, __func__, CST_GET, ARGS(A_TEXT(id)), out);
}

/* 1 when the len bytes of s are lowercase hex digits. */
static int is_lower_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* The one row whose Docker id starts with prefix (len 12..63 hex digits) within client_id
 * ("" = any tenant); -ENOENT when none or several match. A range rather than LIKE: the
 * index serves it and no character of the input is ever a pattern. */
static int find_prefix(struct conn *c, const char *client_id, const char *prefix, size_t len,
                       store_container *out)
{
    char upper[STORE_DOCKER_ID_MAX];
    sqlite3_stmt *st = NULL;
    memcpy(upper, prefix, len + 1);
    upper[len - 1]++; /* '9' + 1 is ':', 'f' + 1 is 'g': both sort after every hex digit */
    int ret = start(c, CST_BY_PREFIX, ARGS(A_TEXT(prefix), A_TEXT(upper), A_TEXT(client_id)), &st);
    if (ret < 0) goto out;
    ret = sqlite_step(c, st);
    if (ret == 0) ret = -ENOENT;
    if (ret < 0 || (ret = read_container(c, st, out)) < 0) goto out;
    ret = sqlite_step(c, st);
    if (ret == 1) {
        memset(out, 0, sizeof *out);
        ret = -ENOENT;
    }
out:
    sqlite_done(st);
    return ret;
}

/* Ids and prefixes come first; a reference they do not resolve (no match, or a prefix that
 * matches several rows) is then tried as a name, since a name of 12 or more hex digits is a
 * valid DNS label too. Names are looked up only in name_client_id's tenant, and only when
 * that tenant is inside the search (client_id "" or the same tenant), so a tenant can never
 * reach another's container by any form of reference. */
int sqlite_container_find(void *impl, const char *client_id, const char *name_client_id,
                          const char *ref, store_container *out)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    size_t len = strlen(ref);
    int ret = -ENOENT;
    if (len >= DOCKER_PREFIX_MIN && is_lower_hex(ref, len)) {
        if (len == DOCKER_ID_LEN)
            ret = query_container(c, CST_BY_DOCKER_ID, ARGS(A_TEXT(ref), A_TEXT(client_id)), out);
        else
            ret = find_prefix(c, client_id, ref, len, out);
        if (ret != -ENOENT) goto out;
    }
    if (len < STORE_CNAME_MAX && name_client_id[0] &&
        (!client_id[0] || strcmp(client_id, name_client_id) == 0))
        ret = query_container(c, CST_BY_NAME, ARGS(A_TEXT(name_client_id), A_TEXT(ref)), out);
out:
    sqlite_conn_release(impl, c);
    return ret;
}

/* sqlite_collect grows the array as rows arrive (a small answer costs little) and never
 * past STORE_CONTAINERS_MAX, whatever LIMIT did. */
int sqlite_container_list(void *impl, const char *client_id, const char *state,
                          store_container **out, size_t *n)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    sqlite3_stmt *st = NULL;
    void *rows = NULL;
    enum cst id = client_id[0] ? (state[0] ? CST_LIST_BOTH : CST_LIST_CLIENT)
                               : (state[0] ? CST_LIST_STATE : CST_LIST);
    /* Parameters a statement does not use are never read. */
    int ret =
        start(c, id, ARGS(A_TEXT(client_id), A_TEXT(state), A_INT(STORE_CONTAINERS_MAX)), &st);
    if (ret == 0)
        ret = sqlite_collect(c, st, sizeof **out, STORE_CONTAINERS_MAX, read_container, &rows, n);
    if (ret == 0) *out = rows;
    sqlite_done(st);
    sqlite_conn_release(impl, c);
    return ret;
}

/* One statement: the fields the lifecycle changes, and updated_at. A Docker id another row
 * already holds is -EEXIST (the unique index). */
int sqlite_container_update(void *impl, const store_container *ct)
{
    return write_row(impl, __func__, CST_UPDATE,
                     ARGS(A_TEXT(ct->id), A_TEXT_NULL(ct->docker_id), A_TEXT(ct->state),
                          A_INT_NULL(ct->host_port), A_TEXT_NULL(ct->url),
                          A_INT_NULL(ct->expires_at), A_INT((int64_t)time(NULL))));
}

/* The compare and the set are one UPDATE, so two callers racing for the same transition
 * (say running -> removing) cannot both win. When nothing was written, a second look tells a
 * missing row (-ENOENT) from a state outside from (-EAGAIN). */
int sqlite_container_set_state(void *impl, const char *id, const char *from, const char *state)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    sqlite3_stmt *st = NULL;
    int changes = 0;
    int ret =
        run(c, CST_SET_STATE,
            ARGS(A_TEXT(id), A_TEXT(state), A_INT((int64_t)time(NULL)), A_TEXT(from)), &changes);
    if (ret < 0 || changes > 0) goto out;
    if ((ret = start(c, CST_EXISTS, ARGS(A_TEXT(id)), &st)) < 0) goto out;
    ret = sqlite_step(c, st);
    if (ret >= 0) ret = ret == 1 ? -EAGAIN : -ENOENT;
out:
    sqlite_done(st);
    sqlite_conn_release(impl, c);
    return ret;
}

/* Deletes the row whatever its state: the caller has made sure the Engine is done with it. */
int sqlite_container_delete(void *impl, const char *id)
{
    return write_row(impl, __func__, CST_DELETE, ARGS(A_TEXT(id)));
}

/* The same sums the reservation checks, so what a tenant is shown is what it is held to. */
int sqlite_container_usage(void *impl, const char *client_id, int *count, int *running,
                           int *memory_mb, double *cpus)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    struct usage u;
    int ret = read_usage(c, client_id, &u);
    if (ret < 0) goto out;
    if (u.count > INT_MAX || u.running > INT_MAX || u.memory_mb > INT_MAX) {
        STORE_LOG_ERR("%s: usage of %s does not fit an int", c->op, client_id);
        ret = -EIO;
        goto out;
    }
    *count = (int)u.count;
    *running = (int)u.running;
    *memory_mb = (int)u.memory_mb;
    *cpus = u.cpus;
out:
    sqlite_conn_release(impl, c);
    return ret;
}

/* Reads the stored value into out; -ENOENT when there is none yet. */
static int read_instance_id(struct conn *c, char out[STORE_ID_MAX])
{
    sqlite3_stmt *st = NULL;
    int ret = start(c, CST_META_GET, ARGS(A_TEXT(INSTANCE_KEY)), &st);
    if (ret < 0) goto out;
    ret = sqlite_step(c, st);
    if (ret == 1)
        ret = sqlite_col_text(c, st, 0, out, STORE_ID_MAX);
    else if (ret == 0)
        ret = -ENOENT;
out:
    sqlite_done(st);
    return ret;
}

/* Read first, so that only the very first call makes an id; INSERT OR IGNORE makes two first
 * calls racing (two threads, or two daemons on one file) agree on whichever id was written
 * first, because both read back the stored row. */
int sqlite_instance_id(void *impl, char out[STORE_ID_MAX])
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    char fresh[STORE_ID_MAX];
    int ret = read_instance_id(c, out);
    if (ret != -ENOENT) goto out;
    str_new_id(fresh, sizeof fresh, INSTANCE_PREFIX);
    if ((ret = run(c, CST_META_INSERT, ARGS(A_TEXT(INSTANCE_KEY), A_TEXT(fresh)), NULL)) < 0)
        goto out;
    ret = read_instance_id(c, out);
    if (ret == -ENOENT) {
        STORE_LOG_ERR("%s: the instance id vanished right after it was written", c->op);
        ret = -EIO;
    }
out:
    if (ret < 0) out[0] = '\0';
    sqlite_conn_release(impl, c);
    return ret;
}

/* One process per SQLite database: the callers' own mutexes are enough. */
int sqlite_exclusive(void *impl, const char *key, int (*fn)(void *ctx), void *ctx)
{
    (void)impl;
    (void)key;
    return fn(ctx);
}
