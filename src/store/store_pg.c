/* The PostgreSQL backend of store.h, over libpq.
 *
 * A pool of up to pool_size sessions (the first opened by store_pg_open, the others when
 * every open one is busy), handed to one thread at a time under a mutex and condition
 * variable as in the SQLite backend. Every statement is fixed text in this file or in
 * store_pg_containers.c, prepared once per session on first use (and again after a
 * reconnection, which starts a new session); values only ever travel as parameters.
 *
 * Failures. A store function is a body run by pg_run on one session. Each statement records
 * on the session why it failed: the connection (broken socket, server shutting down: SQLSTATE
 * class 08 and 57P0x), a serialization failure or deadlock (40001, 40P01), or an answer
 * (23505 is -EEXIST; a lock wait beyond lock_timeout is -EBUSY; anything else -EIO, logged
 * once without parameter values). pg_run then
 *  - reruns a body that lost a serialization race, a few times, then answers -EBUSY;
 *  - reruns once, on a fresh session, a body whose connection broke, when that is safe: reads
 *    always, idempotent writes always, other writes only when nothing can have been applied
 *    (the failure came before any write was sent outside a transaction, or inside a
 *    transaction before its COMMIT, which the server then rolls back);
 *  - otherwise answers -EIO (the API's 503 database_unavailable).
 * A session is checked before each use without a round trip: a server that restarted has
 * already told an idle session so (a FATAL notice, then end of file on the socket), so the
 * first call after a restart usually just reconnects. A session left inside a transaction is
 * rolled back, or reset when that fails, before it goes back to the pool.
 *
 * Connecting: the URL goes to libpq unchanged (sslmode and every other parameter), with
 * connect_timeout=5 added when it sets none, so that a ping on a dead server fails promptly,
 * and lock_timeout 5 s per session, PostgreSQL's counterpart of SQLite's busy_timeout. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "migrations.h"
#include "store_backend.h"
#include "store_pg_int.h"

#define CONNECT_TIMEOUT_S "5"
#define SERIAL_TRIES 5         /* runs of a body that keeps losing serialization races */
#define SCRUB_MIN 4            /* shorter passwords are common substrings: not scrubbed */
/* pg_advisory_xact_lock's key for migrations ("cloudya1" as 8 bytes). Advisory locks are per
 * database, so daemons on other databases of the cluster never wait for it. */
#define MIGRATE_LOCK_KEY "7164867432497047857"
#define SESSION_SETUP "SELECT set_config('lock_timeout', '5s', false)"

#define USER_COLS "id, email, name, role, client_id, password_hash, disabled, created_at"
#define CLIENT_COLS "id, name, plan, quota_containers, quota_memory_mb, quota_cpus, created_at"
#define AUDIT_COLS "id, time, actor, client_id, action, target, ip, result, detail"
/* What a user list reads: the hash column is never selected, so it cannot leak from a list. */
#define USER_LIST_COLS "id, email, name, role, client_id, '' AS password_hash, disabled, created_at"
/* Serializes every guarded change of a role or disabled flag across sessions and daemons:
 * without it two admins demoting each other at once would each still see the other. */
#define ADMINS_LOCK_KEY "7164867432497047858" /* MIGRATE_LOCK_KEY + 1 */

enum {
    S_PING, S_VERSION, S_RECORD_VERSION, S_CLIENT_INSERT, S_CLIENT_GET, S_USER_INSERT,
    S_USER_GET, S_SESSION_USER, S_USER_BY_EMAIL, S_COUNT_ADMINS, S_CLIENT_COUNT, S_USER_DELETE,
    S_TOKEN_REVOKE, S_TOKEN_IS_REVOKED, S_TOKEN_PURGE, S_AUDIT_ADD, S_AUDIT_LIST,
    S_AUDIT_LIST_CLIENT, S_AUDIT_LIST_ACTION, S_AUDIT_LIST_BOTH, S_ADMINS_LOCK,
    S_SET_ACCESS, S_USER_EXISTS, S_USER_LIST, S_USER_LIST_CLIENT, S_CLIENT_LIST,
    S_CLIENT_UPDATE, S_COUNT
};

_Static_assert(S_COUNT <= PG_CTR_SLOT, "raise PG_CTR_SLOT");

#define Q(id, text) [id] = {(id), text}
#define AUDIT_SELECT "SELECT " AUDIT_COLS " FROM audit_log "

/* One statement per audit filter combination, so that each uses its own index. */
static const struct pg_sql sql[S_COUNT] = {
    Q(S_PING, "SELECT 1"),
    Q(S_VERSION, "SELECT coalesce(max(version), 0) FROM schema_version"),
    Q(S_RECORD_VERSION,
      "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)"),
    Q(S_CLIENT_INSERT, "INSERT INTO clients (" CLIENT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)"),
    Q(S_CLIENT_GET, "SELECT " CLIENT_COLS " FROM clients WHERE id = $1"),
    Q(S_USER_INSERT, "INSERT INTO users (" USER_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
    Q(S_USER_GET, "SELECT " USER_COLS " FROM users WHERE id = $1"),
    Q(S_SESSION_USER, "SELECT " USER_COLS ", EXISTS (SELECT 1 FROM revoked_tokens "
                      "WHERE jti = $2)::int FROM users WHERE id = $1"),
    Q(S_USER_BY_EMAIL, "SELECT " USER_COLS " FROM users WHERE email = $1"),
    Q(S_COUNT_ADMINS, "SELECT count(*) FROM users WHERE role = 'admin'"),
    Q(S_CLIENT_COUNT, "SELECT count(*) FROM clients"),
    Q(S_USER_DELETE, "DELETE FROM users WHERE id = $1"),
    Q(S_TOKEN_REVOKE, "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) "
                      "ON CONFLICT (jti) DO UPDATE SET "
                      "expires_at = greatest(revoked_tokens.expires_at, excluded.expires_at)"),
    Q(S_TOKEN_IS_REVOKED, "SELECT 1 FROM revoked_tokens WHERE jti = $1"),
    Q(S_TOKEN_PURGE, "DELETE FROM revoked_tokens WHERE expires_at < $1"),
    Q(S_AUDIT_ADD, "INSERT INTO audit_log (time, actor, client_id, action, target, ip, result, "
                   "detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
    Q(S_AUDIT_LIST, AUDIT_SELECT "ORDER BY id DESC LIMIT $1"),
    Q(S_AUDIT_LIST_CLIENT, AUDIT_SELECT "WHERE client_id = $1 ORDER BY id DESC LIMIT $2"),
    Q(S_AUDIT_LIST_ACTION, AUDIT_SELECT "WHERE action = $1 ORDER BY id DESC LIMIT $2"),
    Q(S_AUDIT_LIST_BOTH,
      AUDIT_SELECT "WHERE client_id = $1 AND action = $2 ORDER BY id DESC LIMIT $3"),
    Q(S_ADMINS_LOCK, "SELECT pg_advisory_xact_lock(" ADMINS_LOCK_KEY ")"),
    /* $2: the new role or "" (unchanged); $3: the new disabled flag or -1 (unchanged). The
     * row is written unless it is an enabled admin that would stop being one while no other
     * enabled admin exists (checked under S_ADMINS_LOCK, taken first). */
    Q(S_SET_ACCESS,
      "UPDATE users SET role = coalesce(nullif($2::text, ''), role), "
      "disabled = CASE WHEN $3::int < 0 THEN disabled ELSE $3::int END WHERE id = $1 AND ("
      "role <> 'admin' OR disabled <> 0 OR ($2::text <> 'client' AND $3::int <> 1) OR EXISTS ("
      "SELECT 1 FROM users o WHERE o.role = 'admin' AND o.disabled = 0 AND o.id <> $1))"),
    Q(S_USER_EXISTS, "SELECT 1 FROM users WHERE id = $1"),
    Q(S_USER_LIST, "SELECT " USER_LIST_COLS " FROM users ORDER BY created_at, id LIMIT $1"),
    Q(S_USER_LIST_CLIENT, "SELECT " USER_LIST_COLS " FROM users WHERE client_id = $1 "
                          "ORDER BY created_at, id LIMIT $2"),
    Q(S_CLIENT_LIST, "SELECT " CLIENT_COLS " FROM clients ORDER BY created_at, id LIMIT $1"),
    Q(S_CLIENT_UPDATE, "UPDATE clients SET name = $2, plan = $3, quota_containers = $4, "
                       "quota_memory_mb = $5, quota_cpus = $6 WHERE id = $1"),
};

struct pg_store {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sync_ready;      /* mu and cv were initialised */
    struct pgc *conns;   /* size slots; the first `opened` have been handed out */
    unsigned size, opened;
    struct pgc *free_list;
    const char *keys[4]; /* PQconnectdbParams' keywords and values, NULL-terminated */
    const char *vals[4];
    char *url;
    char *password;      /* the URL's, only to scrub it from messages; "" when none */
};

/* ---- messages ------------------------------------------------------------------------------ */

/* Makes a libpq message one line (it ends in a newline and indents its hints with tabs) with
 * no double quotes (log lines quote their message), and masks the password, should it ever
 * appear: libpq does not print it, this is a second guard for whatever the server echoes. */
static void tidy(char *s, const char *password)
{
    size_t pwlen = strlen(password);
    if (pwlen >= SCRUB_MIN)
        for (char *p = strstr(s, password); p; p = strstr(p + pwlen, password))
            memset(p, '*', pwlen);
    char *w = s;
    for (const char *r = s; *r; r++) {
        char ch = (*r == '\n' || *r == '\t' || *r == '\r') ? ' ' : *r == '"' ? '\'' : *r;
        if (ch == ' ' && (w == s || w[-1] == ' ')) continue;
        *w++ = ch;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
}

static void set_errmsg(struct pgc *c, const char *sqlstate, const char *msg)
{
    snprintf(c->errmsg, sizeof c->errmsg, "%s%s%s", sqlstate ? sqlstate : "",
             sqlstate ? " " : "", msg ? msg : "no message");
    tidy(c->errmsg, c->ps->password);
}

/* libpq hands errors that arrive while a session is idle (a server shutting down says
 * "terminating connection due to administrator command" to every client) to the notice
 * receiver. A FATAL one means the session is gone; the rest are dropped, not printed. */
static void on_notice(void *arg, const PGresult *r)
{
    struct pgc *c = arg;
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0)) c->broken = 1;
}

/* ---- statements -------------------------------------------------------------------------- */

/* Collects every result of the query in flight (libpq requires it before the next one),
 * keeping the first error if there is one, else the last result. */
static PGresult *drain(PGconn *pg)
{
    PGresult *keep = NULL, *r;
    while ((r = PQgetResult(pg)) != NULL) {
        if (!keep || (PQresultStatus(r) == PGRES_FATAL_ERROR &&
                      PQresultStatus(keep) != PGRES_FATAL_ERROR)) {
            PQclear(keep);
            keep = r;
        } else {
            PQclear(r);
        }
    }
    return keep;
}

static int is_state(const char *state, const char *want)
{
    return strcmp(state, want) == 0;
}

/* Maps a failed result (NULL: none came) to the store.h contract and records why on c. */
static int classify(struct pgc *c, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg) msg = PQerrorMessage(c->pg);
    set_errmsg(c, state, msg);
    if (PQstatus(c->pg) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P0", 4) == 0) {
        c->fail = PG_FAIL_CONN;
        c->broken = 1;
        return -EIO;
    }
    if (is_state(state, "40001") || is_state(state, "40P01")) {
        c->fail = PG_FAIL_SERIAL;
        return -EBUSY;
    }
    c->fail = PG_FAIL_OTHER;
    if (is_state(state, "23505")) return -EEXIST;
    if (is_state(state, "23503")) return -ENOENT; /* a foreign key: the row referred to is missing */
    if (is_state(state, "55P03") || is_state(state, "57014")) {
        STORE_LOG_ERR("%s: database busy (lock wait beyond lock_timeout): %s", c->op, c->errmsg);
        return -EBUSY;
    }
    STORE_LOG_ERR("%s: postgresql error %s", c->op, c->errmsg);
    return -EIO;
}

/* Takes ownership of r: hands it to *out on success (when out is not NULL), else frees it. */
static int check(struct pgc *c, PGresult *r, PGresult **out)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = r;
        else
            PQclear(r);
        return 0;
    }
    int ret = classify(c, r);
    PQclear(r);
    return ret;
}

/* Nothing reached the server: the statement cannot have been applied. */
static int send_failed(struct pgc *c)
{
    c->fail = PG_FAIL_CONN;
    c->broken = 1;
    set_errmsg(c, NULL, PQerrorMessage(c->pg));
    return -EIO;
}

/* Once a write is on the wire outside a transaction it may commit whatever we hear back. */
static void sent(struct pgc *c)
{
    if (c->kind != PG_READ && !c->in_tx) c->risky = 1;
}

/* Runs fixed SQL without parameters (transaction control, migrations: several statements
 * are allowed); *out as in pg_exec. */
static int exec_text(struct pgc *c, const char *text, PGresult **out)
{
    if (out) *out = NULL;
    if (!PQsendQuery(c->pg, text)) return send_failed(c);
    sent(c);
    return check(c, drain(c->pg), out);
}

/* See store_pg_int.h. Parameters go in text form: integers in decimal, doubles with 17
 * significant digits, which read back as the same double. */
int pg_exec(struct pgc *c, const struct pg_sql *q, const struct pg_arg *args, size_t nargs,
            PGresult **res)
{
    char num[PG_ARGS_MAX][32], name[16];
    const char *vals[PG_ARGS_MAX];
    if (res) *res = NULL;
    if (nargs > PG_ARGS_MAX || q->slot < 0 || q->slot >= PG_SLOTS) {
        STORE_LOG_ERR("%s: statement slot %d with %zu parameters is out of range", c->op,
                      q->slot, nargs);
        return -EINVAL;
    }
    for (size_t i = 0; i < nargs; i++) {
        const struct pg_arg *a = &args[i];
        vals[i] = num[i];
        switch (a->kind) {
        case PA_TEXT:
            vals[i] = a->s;
            break;
        case PA_TEXT_NULL:
            vals[i] = a->s[0] ? a->s : NULL;
            break;
        case PA_INT_NULL:
            if (!a->i) vals[i] = NULL;
            /* fall through */
        case PA_INT:
            snprintf(num[i], sizeof num[i], "%lld", (long long)a->i);
            break;
        case PA_REAL:
            snprintf(num[i], sizeof num[i], "%.17g", a->d);
            break;
        }
    }
    snprintf(name, sizeof name, "s%d", q->slot);
    if (!c->prepared[q->slot]) {
        int ret = check(c, PQprepare(c->pg, name, q->sql, 0, NULL), NULL);
        if (ret < 0) return ret;
        c->prepared[q->slot] = 1;
    }
    if (!PQsendQueryPrepared(c->pg, name, (int)nargs, vals, NULL, NULL, 0))
        return send_failed(c);
    sent(c);
    return check(c, drain(c->pg), res);
}

/* PQcmdTuples is "" for statements that touch no rows by nature. */
int64_t pg_changes(PGresult *res)
{
    return strtoll(PQcmdTuples(res), NULL, 10);
}

/* in_tx is set first: BEGIN itself applies nothing, whatever happens to it. */
int pg_begin(struct pgc *c)
{
    c->in_tx = 1;
    return exec_text(c, "BEGIN ISOLATION LEVEL READ COMMITTED", NULL);
}

/* in_tx is cleared first: from here on the transaction may commit even if we never hear. */
int pg_commit(struct pgc *c)
{
    c->in_tx = 0;
    return exec_text(c, "COMMIT", NULL);
}

/* ---- sessions and the pool --------------------------------------------------------------- */

/* Connects c (again), forgetting the statements of its previous session. */
static int session_open(struct pgc *c)
{
    struct pg_store *ps = c->ps;
    if (c->pg)
        PQreset(c->pg);
    else
        c->pg = PQconnectdbParams(ps->keys, ps->vals, 1);
    memset(c->prepared, 0, sizeof c->prepared);
    c->broken = 0;
    if (!c->pg) {
        snprintf(c->errmsg, sizeof c->errmsg, "%s", "out of memory in libpq");
        c->fail = PG_FAIL_CONN;
        return -ENOMEM;
    }
    PQsetNoticeReceiver(c->pg, on_notice, c);
    if (PQstatus(c->pg) != CONNECTION_OK) return send_failed(c);
    int ret = exec_text(c, SESSION_SETUP, NULL);
    if (ret < 0) c->broken = 1; /* never serve without lock_timeout: connect again next time */
    return ret;
}

/* 1 when c can serve a call as it is. A session that has something to read while idle has
 * been told it is ending (or has already been closed): reading it says which. */
static int alive(struct pgc *c)
{
    if (!c->pg || c->broken || PQstatus(c->pg) != CONNECTION_OK) return 0;
    for (int i = 0; i < 4; i++) {
        struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
        if (p.fd < 0) return 0;
        if (poll(&p, 1, 0) <= 0) break;
        if (!PQconsumeInput(c->pg) || c->broken || PQstatus(c->pg) != CONNECTION_OK) return 0;
    }
    return !c->broken && PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

/* Blocks until a session is free or a new one may be opened (preferring the free ones). op
 * and kind describe the caller for logs and retries. */
static struct pgc *acquire(struct pg_store *ps, const char *op, enum pg_kind kind)
{
    struct pgc *c;
    pthread_mutex_lock(&ps->mu);
    while (!ps->free_list && ps->opened == ps->size)
        pthread_cond_wait(&ps->cv, &ps->mu);
    if (ps->free_list) {
        c = ps->free_list;
        ps->free_list = c->next;
    } else {
        c = &ps->conns[ps->opened++];
    }
    pthread_mutex_unlock(&ps->mu);
    c->next = NULL;
    c->op = op;
    c->kind = kind;
    c->fail = PG_OK;
    c->in_tx = 0;
    c->risky = 0;
    c->errmsg[0] = '\0';
    return c;
}

/* Ends whatever transaction a body left open; a session that cannot be brought back to idle
 * is reset before its next use. */
static void settle(struct pgc *c)
{
    c->in_tx = 0;
    if (!c->pg || c->broken || PQstatus(c->pg) != CONNECTION_OK) return;
    if (PQtransactionStatus(c->pg) == PQTRANS_IDLE) return;
    PQclear(PQexec(c->pg, "ROLLBACK"));
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) c->broken = 1;
}

static void release(struct pg_store *ps, struct pgc *c)
{
    settle(c);
    pthread_mutex_lock(&ps->mu);
    c->next = ps->free_list;
    ps->free_list = c;
    pthread_cond_signal(&ps->cv);
    pthread_mutex_unlock(&ps->mu);
}

/* A short pause before rerunning a transaction that lost a race, longer each time. */
static void backoff(int attempt)
{
    struct timespec ts = {0, (long)attempt * 5 * 1000000L};
    nanosleep(&ts, NULL);
}

/* See the comment at the top of this file. A session that cannot be (re)connected answers
 * -EIO at once: the reconnection was the retry. */
int pg_run(struct pg_store *ps, const char *op, enum pg_kind kind, pg_body body, void *ctx)
{
    int replayed = 0;
    for (int serial = 1;; serial++) {
        struct pgc *c = acquire(ps, op, kind);
        int ret = 0, again = 0;
        if (!alive(c) && (ret = session_open(c)) < 0) {
            STORE_LOG_ERR("%s: the database is unavailable: %s", op, c->errmsg);
            release(ps, c);
            return ret == -ENOMEM ? ret : -EIO;
        }
        ret = body(c, ctx);
        settle(c);
        if (ret < 0 && c->fail == PG_FAIL_SERIAL) {
            again = serial < SERIAL_TRIES;
            if (!again)
                STORE_LOG_ERR("%s: still conflicting after %d attempts: %s", op, serial,
                              c->errmsg);
        } else if (ret < 0 && c->fail == PG_FAIL_CONN) {
            again = !replayed && (kind != PG_WRITE || !c->risky);
            if (!again)
                STORE_LOG_ERR("%s: the database connection failed%s: %s", op,
                              replayed ? " again" : " after the write was sent", c->errmsg);
        }
        enum pg_fail fail = c->fail; /* c is another caller's once released */
        release(ps, c);
        if (!again) return ret;
        if (fail == PG_FAIL_CONN)
            replayed = 1;
        else
            backoff(serial);
    }
}

/* The first column of the first row of q as an integer; -EIO when there is no row. */
static int64_t scalar(struct pgc *c, const struct pg_sql *q, int *ret)
{
    PGresult *r = NULL;
    int64_t v = 0;
    *ret = pg_exec(c, q, NULL, 0, &r);
    if (*ret == 0 && PQntuples(r) < 1) *ret = -EIO;
    if (*ret == 0) *ret = pg_i64(c, r, 0, 0, &v);
    PQclear(r);
    return v;
}

/* ---- rows ---------------------------------------------------------------------------------- */

#define COL_TEXT(col, field) pg_text(c, r, row, (col), (field), sizeof(field))

static int read_user(struct pgc *c, const PGresult *r, int row, void *out)
{
    store_user *u = out;
    int ret;
    int64_t disabled;
    memset(u, 0, sizeof *u);
    if ((ret = COL_TEXT(0, u->id)) < 0 || (ret = COL_TEXT(1, u->email)) < 0 ||
        (ret = COL_TEXT(2, u->name)) < 0 || (ret = COL_TEXT(3, u->role)) < 0 ||
        (ret = COL_TEXT(4, u->client_id)) < 0 || (ret = COL_TEXT(5, u->password_hash)) < 0 ||
        (ret = pg_i64(c, r, row, 6, &disabled)) < 0 ||
        (ret = pg_i64(c, r, row, 7, &u->created_at)) < 0)
        return ret;
    u->disabled = disabled ? 1 : 0;
    return 0;
}

static int read_client(struct pgc *c, const PGresult *r, int row, void *out)
{
    store_client *cl = out;
    int ret;
    memset(cl, 0, sizeof *cl);
    if ((ret = COL_TEXT(0, cl->id)) < 0 || (ret = COL_TEXT(1, cl->name)) < 0 ||
        (ret = COL_TEXT(2, cl->plan)) < 0 || (ret = pg_int(c, r, row, 3, &cl->quota_containers)) < 0 ||
        (ret = pg_int(c, r, row, 4, &cl->quota_memory_mb)) < 0 ||
        (ret = pg_real(c, r, row, 5, &cl->quota_cpus)) < 0 ||
        (ret = pg_i64(c, r, row, 6, &cl->created_at)) < 0)
        return ret;
    return 0;
}

static int read_audit(struct pgc *c, const PGresult *r, int row, void *out)
{
    store_audit *a = out;
    int ret;
    memset(a, 0, sizeof *a);
    if ((ret = pg_i64(c, r, row, 0, &a->id)) < 0 || (ret = pg_i64(c, r, row, 1, &a->time)) < 0 ||
        (ret = COL_TEXT(2, a->actor)) < 0 || (ret = COL_TEXT(3, a->client_id)) < 0 ||
        (ret = COL_TEXT(4, a->action)) < 0 || (ret = COL_TEXT(5, a->target)) < 0 ||
        (ret = COL_TEXT(6, a->ip)) < 0 || (ret = COL_TEXT(7, a->result)) < 0 ||
        (ret = COL_TEXT(8, a->detail)) < 0)
        return ret;
    return 0;
}

/* ---- the operations ---------------------------------------------------------------------- */

static int ping_body(struct pgc *c, void *ctx)
{
    (void)ctx;
    int ret;
    int64_t one = scalar(c, &sql[S_PING], &ret);
    return ret < 0 ? ret : (one == 1 ? 0 : -EIO);
}

static int ping(void *impl)
{
    return pg_run(impl, __func__, PG_READ, ping_body, NULL);
}

static int version_body(struct pgc *c, void *ctx)
{
    (void)ctx;
    int ret;
    int64_t v = scalar(c, &sql[S_VERSION], &ret);
    if (ret < 0) return ret;
    return v >= 0 && v <= INT_MAX ? (int)v : -EIO;
}

static int schema_version(void *impl)
{
    return pg_run(impl, __func__, PG_READ, version_body, NULL);
}

struct pair {
    const store_client *cl;
    const store_user *u;
};

static int client_user_body(struct pgc *c, void *ctx)
{
    const struct pair *p = ctx;
    const store_client *cl = p->cl;
    const store_user *u = p->u;
    int ret = pg_begin(c);
    if (ret == 0)
        ret = pg_exec(c, &sql[S_CLIENT_INSERT],
                      PARAMS(PT(cl->id), PT(cl->name), PT(cl->plan), PI(cl->quota_containers),
                             PI(cl->quota_memory_mb), PR(cl->quota_cpus), PI(cl->created_at)),
                      NULL);
    if (ret == 0)
        ret = pg_exec(c, &sql[S_USER_INSERT],
                      PARAMS(PT(u->id), PT(u->email), PT(u->name), PT(u->role),
                             PT(u->client_id), PT(u->password_hash), PI(u->disabled),
                             PI(u->created_at)),
                      NULL);
    if (ret == 0) ret = pg_commit(c);
    return ret;
}

/* Both rows or neither, in one transaction: a taken email rolls the client back. */
static int client_user_create(void *impl, store_client *cl, store_user *u)
{
    struct pair p = {cl, u};
    cl->created_at = u->created_at = (int64_t)time(NULL);
    return pg_run(impl, __func__, PG_WRITE, client_user_body, &p);
}

static int user_get(void *impl, const char *id, store_user *out)
{
    return pg_get(impl, __func__, &sql[S_USER_GET], PARAMS(PT(id)), read_user, out);
}

struct session {
    const char *user_id, *jti;
    store_user *out;
};

static int session_body(struct pgc *c, void *ctx)
{
    struct session *x = ctx;
    PGresult *r = NULL;
    int64_t revoked = 0;
    int ret = pg_exec(c, &sql[S_SESSION_USER], PARAMS(PT(x->user_id), PT(x->jti)), &r);
    if (ret == 0) ret = pg_read_one(c, r, read_user, x->out);
    if (ret == 0) ret = pg_i64(c, r, 0, 8, &revoked);
    if (ret == 0 && revoked) ret = -EKEYREVOKED;
    PQclear(r);
    return ret;
}

static int session_user(void *impl, const char *user_id, const char *jti, store_user *out)
{
    struct session x = {user_id, jti, out};
    return pg_run(impl, __func__, PG_READ, session_body, &x);
}

static int user_get_by_email(void *impl, const char *email, store_user *out)
{
    return pg_get(impl, __func__, &sql[S_USER_BY_EMAIL], PARAMS(PT(email)), read_user, out);
}

struct count_ctx {
    int stmt;
    int64_t n;
};

static int count_body(struct pgc *c, void *ctx)
{
    struct count_ctx *x = ctx;
    int ret;
    x->n = scalar(c, &sql[x->stmt], &ret);
    return ret;
}

/* One count(*) statement's answer. */
static int count_rows(void *impl, int stmt, const char *who, int64_t *n)
{
    struct count_ctx x = {stmt, 0};
    int ret = pg_run(impl, who, PG_READ, count_body, &x);
    if (ret == 0) *n = x.n;
    return ret;
}

static int user_count_admins(void *impl, int64_t *n)
{
    return count_rows(impl, S_COUNT_ADMINS, __func__, n);
}

static int client_count(void *impl, int64_t *n)
{
    return count_rows(impl, S_CLIENT_COUNT, __func__, n);
}

struct access {
    const char *id, *role;
    int disabled;
};

/* The lock, the guarded UPDATE and, when it touched nothing, whether the user exists
 * (-EPERM: the last enabled admin) or not (-ENOENT), in one transaction. */
static int access_body(struct pgc *c, void *ctx)
{
    const struct access *x = ctx;
    PGresult *r = NULL;
    int ret = pg_begin(c);
    if (ret == 0) ret = pg_exec(c, &sql[S_ADMINS_LOCK], NULL, 0, NULL);
    if (ret == 0)
        ret = pg_exec(c, &sql[S_SET_ACCESS], PARAMS(PT(x->id), PT(x->role), PI(x->disabled)),
                      &r);
    if (ret == 0 && pg_changes(r) == 0) {
        PQclear(r);
        r = NULL;
        ret = pg_exec(c, &sql[S_USER_EXISTS], PARAMS(PT(x->id)), &r);
        if (ret == 0) ret = PQntuples(r) > 0 ? -EPERM : -ENOENT;
    }
    if (ret == 0) ret = pg_commit(c);
    PQclear(r);
    return ret;
}

/* Idempotent: a replay after a lost COMMIT finds the user already changed, which the guard
 * lets through (it is no longer an enabled admin, or still is one), and answers 0 again. */
static int user_set_access(void *impl, const char *id, const char *role, int disabled)
{
    struct access x = {id, role, disabled};
    return pg_run(impl, __func__, PG_IDEMPOTENT, access_body, &x);
}

/* The list cap is the limit: LIMIT holds it, pg_list enforces it on memory. */
static int client_list(void *impl, int limit, store_client **out, size_t *n)
{
    void *rows = NULL;
    int ret = pg_list(impl, __func__, &sql[S_CLIENT_LIST], PARAMS(PI(limit)), sizeof **out,
                      (size_t)limit, read_client, &rows, n);
    if (ret == 0) *out = rows;
    return ret;
}

static int user_list(void *impl, const char *client_id, int limit, store_user **out, size_t *n)
{
    void *rows = NULL;
    int ret;
    if (client_id[0])
        ret = pg_list(impl, __func__, &sql[S_USER_LIST_CLIENT], PARAMS(PT(client_id), PI(limit)),
                      sizeof **out, (size_t)limit, read_user, &rows, n);
    else
        ret = pg_list(impl, __func__, &sql[S_USER_LIST], PARAMS(PI(limit)), sizeof **out,
                      (size_t)limit, read_user, &rows, n);
    if (ret == 0) *out = rows;
    return ret;
}

/* Replaying it writes the same values to the same row. PostgreSQL's row count is the rows
 * the WHERE matched, also when no value changed. */
static int client_update(void *impl, const store_client *cl)
{
    return pg_write(impl, __func__, PG_IDEMPOTENT, 1, &sql[S_CLIENT_UPDATE],
                    PARAMS(PT(cl->id), PT(cl->name), PT(cl->plan), PI(cl->quota_containers),
                           PI(cl->quota_memory_mb), PR(cl->quota_cpus)));
}

/* Not idempotent: a replay after a lost answer would say -ENOENT. */
static int user_delete(void *impl, const char *id)
{
    return pg_write(impl, __func__, PG_WRITE, 1, &sql[S_USER_DELETE], PARAMS(PT(id)));
}

static int client_get(void *impl, const char *id, store_client *out)
{
    return pg_get(impl, __func__, &sql[S_CLIENT_GET], PARAMS(PT(id)), read_client, out);
}

/* An upsert that keeps the later expiry: the same row whether it runs once or twice. */
static int token_revoke(void *impl, const char *jti, int64_t expires_at)
{
    return pg_write(impl, __func__, PG_IDEMPOTENT, 0, &sql[S_TOKEN_REVOKE],
                    PARAMS(PT(jti), PI(expires_at)));
}

static int revoked_body(struct pgc *c, void *ctx)
{
    PGresult *r = NULL;
    int ret = pg_exec(c, &sql[S_TOKEN_IS_REVOKED], PARAMS(PT(ctx)), &r);
    if (ret == 0) ret = PQntuples(r) > 0 ? 1 : 0;
    PQclear(r);
    return ret;
}

static int token_is_revoked(void *impl, const char *jti)
{
    return pg_run(impl, __func__, PG_READ, revoked_body, (void *)jti);
}

static int token_purge_expired(void *impl, int64_t now)
{
    return pg_write(impl, __func__, PG_IDEMPOTENT, 0, &sql[S_TOKEN_PURGE], PARAMS(PI(now)));
}

/* Not idempotent (a replay would add a second row), so retried only when surely not sent. */
static int audit_add(void *impl, const store_audit *a)
{
    int64_t t = a->time ? a->time : (int64_t)time(NULL);
    return pg_write(impl, __func__, PG_WRITE, 0, &sql[S_AUDIT_ADD],
                    PARAMS(PI(t), PT(a->actor), PT(a->client_id), PT(a->action), PT(a->target),
                           PT(a->ip), PT(a->result), PT(a->detail)));
}

/* pg_list caps the rows at limit too: LIMIT holds it, but is never trusted with memory.
 * A prepared statement takes exactly the parameters it names, hence one list per filter. */
static int audit_list(void *impl, const char *client_id, const char *action, int limit,
                      store_audit **out, size_t *n)
{
    void *rows = NULL;
    size_t count = 0, max = (size_t)limit;
    int ret;
    if (client_id[0] && action[0])
        ret = pg_list(impl, __func__, &sql[S_AUDIT_LIST_BOTH],
                      PARAMS(PT(client_id), PT(action), PI(limit)), sizeof **out, max,
                      read_audit, &rows, &count);
    else if (client_id[0] || action[0])
        ret = pg_list(impl, __func__,
                      &sql[client_id[0] ? S_AUDIT_LIST_CLIENT : S_AUDIT_LIST_ACTION],
                      PARAMS(PT(client_id[0] ? client_id : action), PI(limit)), sizeof **out,
                      max, read_audit, &rows, &count);
    else
        ret = pg_list(impl, __func__, &sql[S_AUDIT_LIST], PARAMS(PI(limit)), sizeof **out, max,
                      read_audit, &rows, &count);
    if (ret == 0) {
        *out = rows;
        *n = count;
    }
    return ret;
}

/* ---- migrations ---------------------------------------------------------------------------- */

/* The highest applied version; 0 before 0001 made the schema_version table. */
static int applied_version(struct pgc *c, int64_t *v)
{
    PGresult *r = NULL;
    *v = 0;
    int ret = exec_text(c, "SELECT to_regclass('schema_version') IS NOT NULL", &r);
    int exists = ret == 0 && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (ret < 0 || !exists) return ret;
    *v = scalar(c, &sql[S_VERSION], &ret);
    return ret;
}

/* Applies every built-in migration above the recorded version, one transaction each. Each
 * transaction first takes the migration advisory lock and only then reads the version, so
 * daemons starting together on one database queue there and each migration runs once. A
 * database newer than this binary is refused (-EPROTO) untouched. */
static int migrate(struct pgc *c, char *err, size_t errlen)
{
    const struct store_migration *migs = store_pg_migrations;
    size_t n = store_pg_migrations_count;
    int known = n ? migs[n - 1].version : 0;
    int ret;
    for (;;) {
        const struct store_migration *next = NULL;
        int64_t cur = 0;
        if ((ret = pg_begin(c)) < 0 ||
            (ret = exec_text(c, "SET LOCAL lock_timeout = '60s'", NULL)) < 0 ||
            (ret = exec_text(c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", NULL)) < 0 ||
            (ret = applied_version(c, &cur)) < 0) {
            store_set_err(err, errlen, "cannot read the database's schema version: %s",
                          c->errmsg);
            break;
        }
        if (cur > known) {
            store_set_err(err, errlen,
                          "the database schema is at version %lld but this cloudyad knows only "
                          "versions up to %d: run a newer cloudyad",
                          (long long)cur, known);
            ret = -EPROTO;
            break;
        }
        for (size_t i = 0; i < n && !next; i++)
            if (migs[i].version > cur) next = &migs[i];
        if (!next) {
            if ((ret = pg_commit(c)) < 0)
                store_set_err(err, errlen, "cannot read the database's schema version: %s",
                              c->errmsg);
            break;
        }
        if ((ret = exec_text(c, next->sql, NULL)) < 0) {
            store_set_err(err, errlen, "database migration %04d_%s failed: %s", next->version,
                          next->name, c->errmsg);
            break;
        }
        if ((ret = pg_exec(c, &sql[S_RECORD_VERSION],
                           PARAMS(PI(next->version), PT(next->name), PI((int64_t)time(NULL))),
                           NULL)) < 0 ||
            (ret = pg_commit(c)) < 0) {
            store_set_err(err, errlen, "cannot record database migration %04d_%s: %s",
                          next->version, next->name, c->errmsg);
            break;
        }
    }
    settle(c);
    return ret;
}

/* ---- opening and closing ----------------------------------------------------------------- */

/* Ends every session opened so far. No caller may still hold one (store_close's contract). */
static void destroy(void *impl)
{
    struct pg_store *ps = impl;
    if (!ps) return;
    for (unsigned i = 0; i < ps->opened; i++)
        PQfinish(ps->conns[i].pg);
    if (ps->sync_ready) {
        pthread_cond_destroy(&ps->cv);
        pthread_mutex_destroy(&ps->mu);
    }
    if (ps->password) memset(ps->password, 0, strlen(ps->password));
    if (ps->url) memset(ps->url, 0, strlen(ps->url));
    free(ps->password);
    free(ps->url);
    free(ps->conns);
    free(ps);
}

static const struct store_ops pg_ops = {
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
    .container_reserve = pg_container_reserve,
    .container_get = pg_container_get,
    .container_find = pg_container_find,
    .container_list = pg_container_list,
    .container_update = pg_container_update,
    .container_set_state = pg_container_set_state,
    .container_delete = pg_container_delete,
    .container_usage = pg_container_usage,
    .instance_id = pg_instance_id,
    .tokens_account = pg_tokens_account,
    .tokens_add = pg_tokens_add,
    .command_add = pg_command_add,
    .command_get = pg_command_get,
    .command_claim = pg_command_claim,
    .command_release = pg_command_release,
};

/* Reads what the URL says about the password (kept to scrub messages) and connect_timeout.
 * libpq's own parse errors may quote the URL, so they are not repeated. */
static int parse_url(struct pg_store *ps, const char *url, char *err, size_t errlen)
{
    char *msg = NULL;
    int has_timeout = 0;
    PQconninfoOption *opts = PQconninfoParse(url, &msg);
    if (!opts) {
        PQfreemem(msg);
        store_set_err(err, errlen,
                      "the PostgreSQL URL cannot be parsed: write it as postgresql://user:"
                      "password@host:port/dbname?param=value, with special characters "
                      "percent-encoded");
        return -EINVAL;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val) continue;
        if (strcmp(o->keyword, "password") == 0 && !ps->password) ps->password = strdup(o->val);
        if (strcmp(o->keyword, "connect_timeout") == 0 && o->val[0]) has_timeout = 1;
    }
    PQconninfoFree(opts);
    if (!ps->password) ps->password = strdup("");
    ps->url = strdup(url);
    if (!ps->password || !ps->url) {
        store_set_err(err, errlen, "out of memory opening the database");
        return -ENOMEM;
    }
    /* expand_dbname: the URL stands for all its parameters; later keywords only add. */
    size_t k = 0;
    ps->keys[k] = "dbname";
    ps->vals[k++] = ps->url;
    ps->keys[k] = "fallback_application_name";
    ps->vals[k++] = "cloudyad";
    if (!has_timeout) {
        ps->keys[k] = "connect_timeout";
        ps->vals[k++] = CONNECT_TIMEOUT_S;
    }
    ps->keys[k] = ps->vals[k] = NULL;
    return 0;
}

static const char *or_default(const char *s)
{
    return s && s[0] ? s : "(default)";
}

/* See store_backend.h (store.c has checked pool_size: 1..64). The first session is opened
 * (and the schema migrated on it) here, so that a wrong URL or an unreachable server fails at
 * start-up; the others open on demand. */
int store_pg_open(const char *url, unsigned pool_size, const struct store_ops **ops,
                  void **impl, char *err, size_t errlen)
{
    struct pg_store *ps = NULL;
    int ret = -ENOMEM;
    for (size_t i = 1; i < store_pg_migrations_count; i++) {
        if (store_pg_migrations[i].version <= store_pg_migrations[i - 1].version) {
            store_set_err(err, errlen, "the built-in PostgreSQL migrations are out of order");
            return -EINVAL;
        }
    }
    if (!(ps = calloc(1, sizeof *ps)) || !(ps->conns = calloc(pool_size, sizeof *ps->conns)))
        goto nomem;
    ps->size = pool_size;
    for (unsigned i = 0; i < pool_size; i++)
        ps->conns[i].ps = ps;
    if (pthread_mutex_init(&ps->mu, NULL) != 0) goto nomem;
    if (pthread_cond_init(&ps->cv, NULL) != 0) {
        pthread_mutex_destroy(&ps->mu);
        goto nomem;
    }
    ps->sync_ready = 1;
    if ((ret = parse_url(ps, url, err, errlen)) < 0) goto out;

    struct pgc *c = acquire(ps, "store_open", PG_WRITE);
    if ((ret = session_open(c)) < 0) {
        store_set_err(err, errlen,
                      "cannot connect to PostgreSQL (host %s, port %s, database %s): %s",
                      or_default(c->pg ? PQhost(c->pg) : NULL),
                      or_default(c->pg ? PQport(c->pg) : NULL),
                      or_default(c->pg ? PQdb(c->pg) : NULL), c->errmsg);
        if (ret != -ENOMEM) ret = -EIO;
        goto out;
    }
    if ((ret = migrate(c, err, errlen)) < 0) goto out;
    release(ps, c);
    *ops = &pg_ops;
    *impl = ps;
    return 0;
nomem:
    store_set_err(err, errlen, "out of memory opening the database");
out:
    destroy(ps);
    return ret;
}
