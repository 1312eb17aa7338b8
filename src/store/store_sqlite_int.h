/* Private to the SQLite backend: what store_sqlite.c (the pool, users, tokens, audit,
 * migrations) shares with store_sqlite_containers.c (the containers section of store.h).
 * Nothing outside src/store/store_sqlite*.c includes this file. */
#ifndef CLOUDYA_STORE_SQLITE_INT_H
#define CLOUDYA_STORE_SQLITE_INT_H
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/* store_sqlite.c's cached statements; their SQL is in its stmt_sql[]. */
enum stmt_id {
    ST_PING,
    ST_VERSION,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_CLIENT_INSERT,
    ST_CLIENT_GET,
    ST_USER_INSERT,
    ST_USER_GET,
    ST_SESSION_USER,
    ST_USER_GET_BY_EMAIL,
    ST_USER_COUNT_ADMINS,
    ST_CLIENT_COUNT,
    ST_USER_SET_ACCESS,
    ST_USER_EXISTS,
    ST_USER_LIST,
    ST_USER_LIST_CLIENT,
    ST_CLIENT_LIST,
    ST_CLIENT_UPDATE,
    ST_USER_DELETE,
    ST_TOKEN_REVOKE,
    ST_TOKEN_IS_REVOKED,
    ST_TOKEN_PURGE,
    ST_AUDIT_ADD,
    ST_AUDIT_LIST,
    ST_AUDIT_LIST_CLIENT,
    ST_AUDIT_LIST_ACTION,
    ST_AUDIT_LIST_BOTH,
    ST_COUNT
};

/* Slots for store_sqlite_containers.c's own cached statements (it checks at compile time
 * that its statements fit). */
#define SQLITE_CTR_STMT_MAX 24
#define SQLITE_TOK_STMT_MAX 16 /* store_sqlite_assistant.c's */

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];                /* prepared on first use, finalized on close */
    sqlite3_stmt *ctr_stmt[SQLITE_CTR_STMT_MAX]; /* the same, for the containers file */
    sqlite3_stmt *tok_stmt[SQLITE_TOK_STMT_MAX]; /* and for the assistant's file */
    const char *op;    /* the store function holding the connection, for logs */
    struct conn *next; /* free list link */
};

/* The pool; its layout is store_sqlite.c's business. */
struct sqlite_store;

struct conn *sqlite_conn_acquire(struct sqlite_store *ss, const char *op);
void sqlite_conn_release(struct sqlite_store *ss, struct conn *c);
int sqlite_db_err(struct conn *c, int rc);
int sqlite_prepare_cached(struct conn *c, sqlite3_stmt **slot, const char *sql, sqlite3_stmt **out);
void sqlite_done(sqlite3_stmt *st);
int sqlite_step(struct conn *c, sqlite3_stmt *st);
int sqlite_exec_stmt(struct conn *c, enum stmt_id id);
void sqlite_rollback(struct conn *c);
int sqlite_col_text(struct conn *c, sqlite3_stmt *st, int col, char *dst, size_t size);

/* Fills the struct at row (a store_user, store_container, ...) from st's current result row;
 * 0 or a negative errno. The row readers of both files have this type so that the two helpers
 * below can serve every lookup and list. */
typedef int (*sqlite_row_reader)(struct conn *c, sqlite3_stmt *st, void *row);

int sqlite_read_one(struct conn *c, sqlite3_stmt *st, sqlite_row_reader read_row, void *row);
int sqlite_collect(struct conn *c, sqlite3_stmt *st, size_t row_size, size_t max,
                   sqlite_row_reader read_row, void **out, size_t *n);

/* ---- binding: each call states what it binds ------------------------------------------- */
enum arg_kind {
    ARG_TEXT,      /* s, bound as is */
    ARG_TEXT_NULL, /* s, bound as NULL when "" */
    ARG_INT,       /* i */
    ARG_INT_NULL,  /* i, bound as NULL when 0 */
    ARG_REAL,      /* d */
};

struct arg {
    enum arg_kind kind;
    const char *s;
    int64_t i;
    double d;
};

#define A_TEXT(v)                                                                                  \
    {                                                                                              \
        .kind = ARG_TEXT, .s = (v)                                                                 \
    }
#define A_TEXT_NULL(v)                                                                             \
    {                                                                                              \
        .kind = ARG_TEXT_NULL, .s = (v)                                                            \
    }
#define A_INT(v)                                                                                   \
    {                                                                                              \
        .kind = ARG_INT, .i = (v)                                                                  \
    }
#define A_INT_NULL(v)                                                                              \
    {                                                                                              \
        .kind = ARG_INT_NULL, .i = (v)                                                             \
    }
#define A_REAL(v)                                                                                  \
    {                                                                                              \
        .kind = ARG_REAL, .d = (v)                                                                 \
    }
/* The argument list of one call, for ?1, ?2, ... in order: ARGS(A_TEXT(id), A_INT(now)). */
#define ARGS(...)                                                                                  \
    (const struct arg[]){__VA_ARGS__},                                                             \
        sizeof((const struct arg[]){__VA_ARGS__}) / sizeof(struct arg)

/* Prepares sql in the cached slot of c and binds args to ?1 ... ?nargs. *st is set as soon
 * as the statement exists, so the caller's sqlite_done(*st) always runs, even after a bind
 * error. */
int sqlite_bind_start(struct conn *c, sqlite3_stmt **slot, const char *sql, const struct arg *args,
                      size_t nargs, sqlite3_stmt **st);
/* Runs a statement that returns no rows; *changes (when non-NULL) gets the rows it wrote. */
int sqlite_bind_run(struct conn *c, sqlite3_stmt **slot, const char *sql, const struct arg *args,
                    size_t nargs, int *changes);

/* store_sqlite_containers.c: the ops entries of the containers section (see store.h). */
int sqlite_container_reserve(void *impl, store_container *c, enum store_quota_hit *hit);
int sqlite_container_get(void *impl, const char *id, store_container *out);
int sqlite_container_find(void *impl, const char *client_id, const char *name_client_id,
                          const char *ref, store_container *out);
int sqlite_container_list(void *impl, const char *client_id, const char *state,
                          store_container **out, size_t *n);
int sqlite_container_update(void *impl, const store_container *c);
int sqlite_container_set_state(void *impl, const char *id, const char *from, const char *state);
int sqlite_container_delete(void *impl, const char *id);
int sqlite_container_usage(void *impl, const char *client_id, int *count, int *running,
                           int *memory_mb, double *cpus);
int sqlite_instance_id(void *impl, char out[STORE_ID_MAX]);

/* store_sqlite_assistant.c: the ops entries of the assistant's section (see store.h). */
int sqlite_tokens_account(void *impl, const char *client_id, int64_t allowance,
                          int64_t rollover_max, int64_t now, int64_t period_start,
                          int64_t period_end, store_tokens *out);
int sqlite_tokens_add(void *impl, const char *client_id, int64_t delta, int64_t need,
                      const char *kind, const char *ref, const char *note, int64_t now,
                      store_tokens *out);
int sqlite_command_add(void *impl, const store_command *c);
int sqlite_command_get(void *impl, const char *client_id, const char *id, store_command *out);
int sqlite_command_claim(void *impl, const char *client_id, const char *id, int64_t now);
int sqlite_command_release(void *impl, const char *client_id, const char *id, int64_t claimed_at);

#endif
