/* Private to the PostgreSQL backend: what store_pg.c (the pool, the retry runner, users,
 * tokens, audit, migrations) shares with store_pg_containers.c (the containers section of
 * store.h). Nothing outside src/store/store_pg*.c includes this file.
 *
 * The model: every store function is a body (a function run on one pooled connection)
 * handed to pg_run, which takes a connection, makes sure it is alive, runs the body, and
 * decides from what the body's statements recorded on the connection whether a failure may
 * be retried (see pg_run). Bodies never retry anything themselves. */
#ifndef CLOUDYA_STORE_PG_INT_H
#define CLOUDYA_STORE_PG_INT_H
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_backend.h"

/* Prepared-statement slots per connection: store_pg.c uses 0..PG_CTR_SLOT-1 and
 * store_pg_containers.c PG_CTR_SLOT..PG_SLOTS-1 (each checks at compile time that its
 * statements fit). */
#define PG_SLOTS 64
#define PG_CTR_SLOT 32
#define PG_TOK_SLOT 52 /* store_pg_assistant.c's: PG_TOK_SLOT..PG_SLOTS-1 */
#define PG_ARGS_MAX 16 /* parameters of one statement */

/* What a store function does to the database, which decides when pg_run may run it again
 * after the connection broke under it. */
enum pg_kind {
    PG_READ,       /* reads only: always safe to run again */
    PG_IDEMPOTENT, /* writes whose replay leaves the same rows and gives the same answer */
    PG_WRITE,      /* anything else: run again only if nothing can have been applied */
};

/* Why the last statement on a connection failed, for pg_run. */
enum pg_fail {
    PG_OK,
    PG_FAIL_CONN,   /* the connection broke or the server went away */
    PG_FAIL_SERIAL, /* serialization failure or deadlock: the transaction was rolled back */
    PG_FAIL_OTHER,  /* an answer (constraint, missing table, ...) already mapped and logged */
};

struct pg_store;

struct pgc {
    PGconn *pg;                    /* NULL until first used */
    struct pg_store *ps;
    unsigned char prepared[PG_SLOTS]; /* statement slot i exists on this session */
    const char *op;                /* the store function holding the connection, for logs */
    enum pg_kind kind;             /* of that function */
    enum pg_fail fail;             /* of its last failed statement */
    int broken;                    /* reset the session before the next use */
    int in_tx;                     /* a BEGIN was sent and no COMMIT/ROLLBACK yet */
    int risky;                     /* a write was sent that may have been applied on its own */
    char errmsg[320];              /* one line describing the last failure, for pg_run's log */
    struct pgc *next;              /* free list link */
};

/* A store function's work on one connection: 0 (or a positive answer) or a negative errno. */
typedef int (*pg_body)(struct pgc *c, void *ctx);

/* Runs body on a pooled connection, retrying as pg_kind allows; see store_pg.c. */
int pg_run(struct pg_store *ps, const char *op, enum pg_kind kind, pg_body body, void *ctx);

/* ---- parameters --------------------------------------------------------------------------
 * Every value reaches PostgreSQL as a parameter of a prepared statement, in text form. */
enum pg_arg_kind { PA_TEXT, PA_TEXT_NULL, PA_INT, PA_INT_NULL, PA_REAL };

struct pg_arg {
    enum pg_arg_kind kind;
    const char *s;
    int64_t i;
    double d;
};

/* One parameter each; the _NULL forms send SQL NULL for "" and 0 ("none" in the schema). */
#define PT(v) ((struct pg_arg){.kind = PA_TEXT, .s = (v)})
#define PTN(v) ((struct pg_arg){.kind = PA_TEXT_NULL, .s = (v)})
#define PI(v) ((struct pg_arg){.kind = PA_INT, .i = (v)})
#define PIN(v) ((struct pg_arg){.kind = PA_INT_NULL, .i = (v)})
#define PR(v) ((struct pg_arg){.kind = PA_REAL, .d = (v)})
/* The parameter list of one call, $1, $2, ... in order: PARAMS(PT(id), PI(now)). */
#define PARAMS(...)                                                                                \
    (const struct pg_arg[]){__VA_ARGS__},                                                          \
        sizeof((const struct pg_arg[]){__VA_ARGS__}) / sizeof(struct pg_arg)

/* A statement: its slot on every connection and its fixed SQL text. */
struct pg_sql {
    int slot;
    const char *sql;
};

/* ---- statements (inside a body) ---------------------------------------------------------- */

/* Runs statement q with args (prepared on first use on this session). On success *res (when
 * res is not NULL) holds the result, to PQclear; on failure the errno is mapped and the
 * connection's fail/errmsg are set. */
int pg_exec(struct pgc *c, const struct pg_sql *q, const struct pg_arg *args, size_t nargs,
            PGresult **res);
/* Rows a write statement touched; the number PostgreSQL reports. */
int64_t pg_changes(PGresult *res);

/* A READ COMMITTED transaction (whatever the database's default, so that every statement
 * sees what committed before it ran) and its end. pg_run rolls back what a body left open. */
int pg_begin(struct pgc *c);
int pg_commit(struct pgc *c);

/* ---- reading results ----------------------------------------------------------------------
 * Small enough to be inline here, so that both files read rows the same way. */

/* Copies a text column into a fixed buffer; NULL reads "". store.c keeps longer values out,
 * so a value that does not fit was written behind our back: -EIO, never a truncation. */
static inline int pg_text(struct pgc *c, const PGresult *r, int row, int col, char *dst,
                          size_t size)
{
    dst[0] = '\0';
    if (PQgetisnull(r, row, col)) return 0;
    size_t len = (size_t)PQgetlength(r, row, col);
    if (len >= size) {
        STORE_LOG_ERR("%s: column %s holds %zu bytes, more than the %zu the API allows", c->op,
                      PQfname(r, col), len, size - 1);
        return -EIO;
    }
    memcpy(dst, PQgetvalue(r, row, col), len);
    dst[len] = '\0';
    return 0;
}

/* An integer column, in decimal text (NULL reads 0); anything else means a column changed
 * type under us. */
static inline int pg_i64(struct pgc *c, const PGresult *r, int row, int col, int64_t *out)
{
    char *end;
    *out = 0;
    if (PQgetisnull(r, row, col)) return 0;
    const char *v = PQgetvalue(r, row, col);
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end) {
        STORE_LOG_ERR("%s: column %s is not an integer", c->op, PQfname(r, col));
        return -EIO;
    }
    *out = x;
    return 0;
}

/* The same, for what store.h holds in an int. */
static inline int pg_int(struct pgc *c, const PGresult *r, int row, int col, int *out)
{
    int64_t v;
    int ret = pg_i64(c, r, row, col, &v);
    *out = 0;
    if (ret < 0) return ret;
    if (v < INT_MIN || v > INT_MAX) {
        STORE_LOG_ERR("%s: column %s holds %lld, outside an int", c->op, PQfname(r, col),
                      (long long)v);
        return -EIO;
    }
    *out = (int)v;
    return 0;
}

/* A double column (NULL reads 0). PostgreSQL prints doubles in their shortest exact form, so
 * strtod gets back the stored value. */
static inline int pg_real(struct pgc *c, const PGresult *r, int row, int col, double *out)
{
    char *end;
    *out = 0;
    if (PQgetisnull(r, row, col)) return 0;
    const char *v = PQgetvalue(r, row, col);
    double x = strtod(v, &end);
    if (end == v || *end) {
        STORE_LOG_ERR("%s: column %s is not a number", c->op, PQfname(r, col));
        return -EIO;
    }
    *out = x;
    return 0;
}

/* Fills the struct at out (a store_user, store_container, ...) from row of r. */
typedef int (*pg_row_reader)(struct pgc *c, const PGresult *r, int row, void *out);

/* Reads the one row of r (a lookup) with read; -ENOENT when r has none. */
static inline int pg_read_one(struct pgc *c, const PGresult *r, pg_row_reader read, void *out)
{
    if (PQntuples(r) < 1) return -ENOENT;
    return read(c, r, 0, out);
}

/* ---- one-statement calls ------------------------------------------------------------------- */

/* The arguments of one single-statement call, for the bodies below. */
struct pg_one {
    const struct pg_sql *q;
    const struct pg_arg *args;
    size_t nargs;
    pg_row_reader read;
    void *out;
    int need_row;         /* pg_write_body: -ENOENT when no row was touched */
    size_t row_size, max; /* pg_list_body */
    void **rows;
    size_t *n;
};

/* Runs q on c and reads its one row into out (-ENOENT when none); usable inside any body. */
static inline int pg_lookup(struct pgc *c, const struct pg_sql *q, const struct pg_arg *args,
                            size_t nargs, pg_row_reader read, void *out)
{
    PGresult *r = NULL;
    int ret = pg_exec(c, q, args, nargs, &r);
    if (ret == 0) ret = pg_read_one(c, r, read, out);
    PQclear(r);
    return ret;
}

static inline int pg_get_body(struct pgc *c, void *ctx)
{
    struct pg_one *o = ctx;
    return pg_lookup(c, o->q, o->args, o->nargs, o->read, o->out);
}

static inline int pg_write_body(struct pgc *c, void *ctx)
{
    struct pg_one *o = ctx;
    PGresult *r = NULL;
    int ret = pg_exec(c, o->q, o->args, o->nargs, &r);
    if (ret == 0 && o->need_row && pg_changes(r) == 0) ret = -ENOENT;
    PQclear(r);
    return ret;
}

/* Sized from the answer, so a small answer to a large maximum costs little; *rows and *n are
 * written only on success, so a body run twice never leaks the first run's array. */
static inline int pg_list_body(struct pgc *c, void *ctx)
{
    struct pg_one *o = ctx;
    PGresult *r = NULL;
    unsigned char *rows = NULL;
    int ret = pg_exec(c, o->q, o->args, o->nargs, &r);
    if (ret < 0) goto out;
    size_t count = (size_t)PQntuples(r);
    if (count > o->max) count = o->max;
    if (count > 0 && !(rows = calloc(count, o->row_size))) {
        STORE_LOG_ERR("%s: out of memory for %zu rows", c->op, count);
        ret = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < count; i++)
        if ((ret = o->read(c, r, (int)i, rows + i * o->row_size)) < 0) goto out;
    *o->rows = rows;
    *o->n = count;
    rows = NULL;
out:
    free(rows);
    PQclear(r);
    return ret;
}

/* A lookup of at most one row into out, on a session of its own; -ENOENT when none. */
static inline int pg_get(struct pg_store *ps, const char *op, const struct pg_sql *q,
                         const struct pg_arg *args, size_t nargs, pg_row_reader read, void *out)
{
    struct pg_one o = {.q = q, .args = args, .nargs = nargs, .read = read, .out = out};
    return pg_run(ps, op, PG_READ, pg_get_body, &o);
}

/* A one-statement write; with need_row, -ENOENT when it touched no row. */
static inline int pg_write(struct pg_store *ps, const char *op, enum pg_kind kind, int need_row,
                           const struct pg_sql *q, const struct pg_arg *args, size_t nargs)
{
    struct pg_one o = {.q = q, .args = args, .nargs = nargs, .need_row = need_row};
    return pg_run(ps, op, kind, pg_write_body, &o);
}

/* Every row of q, at most max, into a malloc'ed array of row_size-byte structs (*out NULL
 * when there is none). */
static inline int pg_list(struct pg_store *ps, const char *op, const struct pg_sql *q,
                          const struct pg_arg *args, size_t nargs, size_t row_size, size_t max,
                          pg_row_reader read, void **out, size_t *n)
{
    struct pg_one o = {.q = q, .args = args, .nargs = nargs, .read = read,
                       .row_size = row_size, .max = max, .rows = out, .n = n};
    return pg_run(ps, op, PG_READ, pg_list_body, &o);
}

/* store_pg_containers.c: the ops entries of the containers section (see store.h). */
int pg_container_reserve(void *impl, store_container *c, enum store_quota_hit *hit);
int pg_container_get(void *impl, const char *id, store_container *out);
int pg_container_find(void *impl, const char *client_id, const char *name_client_id,
                      const char *ref, store_container *out);
int pg_container_list(void *impl, const char *client_id, const char *state,
                      store_container **out, size_t *n);
int pg_container_update(void *impl, const store_container *c);
int pg_container_set_state(void *impl, const char *id, const char *from, const char *state);
int pg_container_delete(void *impl, const char *id);
int pg_container_usage(void *impl, const char *client_id, int *count, int *running,
                       int *memory_mb, double *cpus);
int pg_instance_id(void *impl, char out[STORE_ID_MAX]);

/* store_pg_assistant.c: the ops entries of the assistant's section (see store.h). */
int pg_tokens_account(void *impl, const char *client_id, int64_t allowance, int64_t rollover_max,
                      int64_t now, int64_t period_start, int64_t period_end, store_tokens *out);
int pg_tokens_add(void *impl, const char *client_id, int64_t delta, int64_t need,
                  const char *kind, const char *ref, const char *note, int64_t now,
                  store_tokens *out);
int pg_command_add(void *impl, const store_command *c);
int pg_command_get(void *impl, const char *client_id, const char *id, store_command *out);
int pg_command_claim(void *impl, const char *client_id, const char *id, int64_t now);
int pg_command_release(void *impl, const char *client_id, const char *id, int64_t claimed_at);

#endif
