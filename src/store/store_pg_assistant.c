/* The assistant's section of store.h over PostgreSQL: token accounts with their ledger, and
 * the commands the assistant showed.
 *
 * Each balance change runs in one transaction that first locks the tenant's account row
 * (SELECT ... FOR UPDATE), so the balance and its ledger row change together and concurrent
 * charges of one tenant, from any daemon, never overspend. The arithmetic is store.c's
 * (store_tokens_renew, store_tokens_apply), shared with the SQLite backend. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_backend.h"
#include "store_pg_int.h"

enum {
    T_OPEN, T_LOCK, T_SET, T_LEDGER, T_CMD_INSERT, T_CMD_GET, T_CMD_CLAIM, T_CMD_EXISTS,
    T_CMD_RELEASE, T_COUNT
};

_Static_assert(PG_TOK_SLOT + T_COUNT <= PG_SLOTS, "raise PG_SLOTS");

#define CMD_COLS "id, client_id, user_id, risk, created_at, executed_at, request, action"
#define TQ(id, text) [id] = {PG_TOK_SLOT + (id), text}

static const struct pg_sql tq[T_COUNT] = {
    /* A missing client fails the foreign key (-ENOENT). */
    TQ(T_OPEN, "INSERT INTO token_accounts (client_id, balance, allowance, used, period_start, "
               "period_end) VALUES ($1, $2, $2, 0, $3, $4) ON CONFLICT (client_id) DO NOTHING"),
    TQ(T_LOCK, "SELECT balance, allowance, used, period_start, period_end FROM token_accounts "
               "WHERE client_id = $1 FOR UPDATE"),
    TQ(T_SET, "UPDATE token_accounts SET balance = $2, allowance = $3, used = $4, "
              "period_start = $5, period_end = $6 WHERE client_id = $1"),
    TQ(T_LEDGER, "INSERT INTO token_ledger (client_id, time, delta, balance, kind, ref, note) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7)"),
    TQ(T_CMD_INSERT, "INSERT INTO assistant_commands (" CMD_COLS ") "
                     "VALUES ($1, $2, $3, $4, $5, NULL, $6, $7)"),
    TQ(T_CMD_GET, "SELECT " CMD_COLS " FROM assistant_commands WHERE id = $1 AND client_id = $2"),
    TQ(T_CMD_CLAIM, "UPDATE assistant_commands SET executed_at = $3 "
                    "WHERE id = $1 AND client_id = $2 AND executed_at IS NULL"),
    TQ(T_CMD_EXISTS, "SELECT 1 FROM assistant_commands WHERE id = $1 AND client_id = $2"),
    TQ(T_CMD_RELEASE, "UPDATE assistant_commands SET executed_at = NULL "
                      "WHERE id = $1 AND client_id = $2 AND executed_at = $3"),
};

static int read_tokens(struct pgc *c, const PGresult *r, int row, void *out)
{
    store_tokens *t = out;
    int ret;
    if ((ret = pg_i64(c, r, row, 0, &t->balance)) < 0 ||
        (ret = pg_i64(c, r, row, 1, &t->allowance)) < 0 ||
        (ret = pg_i64(c, r, row, 2, &t->used)) < 0 ||
        (ret = pg_i64(c, r, row, 3, &t->period_start)) < 0)
        return ret;
    return pg_i64(c, r, row, 4, &t->period_end);
}

static int set_account(struct pgc *c, const char *client_id, const store_tokens *t)
{
    return pg_exec(c, &tq[T_SET],
                   PARAMS(PT(client_id), PI(t->balance), PI(t->allowance), PI(t->used),
                          PI(t->period_start), PI(t->period_end)),
                   NULL);
}

static int ledger(struct pgc *c, const char *client_id, int64_t now, int64_t delta,
                  int64_t balance, const char *kind, const char *ref, const char *note)
{
    return pg_exec(c, &tq[T_LEDGER],
                   PARAMS(PT(client_id), PI(now), PI(delta), PI(balance), PT(kind), PT(ref),
                          PT(note)),
                   NULL);
}

struct tok_call {
    const char *client_id;
    int64_t allowance, rollover_max, now, period_start, period_end; /* account */
    int64_t delta, need;                                             /* add */
    const char *kind, *ref, *note;
    store_tokens *out;
};

static int account_body(struct pgc *c, void *ctx)
{
    struct tok_call *x = ctx;
    store_tokens t = {0};
    PGresult *r = NULL;
    int64_t delta;
    const char *kind;
    int ret = pg_begin(c);
    if (ret < 0 ||
        (ret = pg_exec(c, &tq[T_OPEN],
                       PARAMS(PT(x->client_id), PI(x->allowance), PI(x->period_start),
                              PI(x->period_end)),
                       &r)) < 0)
        goto out;
    if (pg_changes(r) == 1 && (ret = ledger(c, x->client_id, x->now, x->allowance, x->allowance,
                                            "open", "", "")) < 0)
        goto out;
    if ((ret = pg_lookup(c, &tq[T_LOCK], PARAMS(PT(x->client_id)), read_tokens, &t)) < 0) goto out;
    if (store_tokens_renew(&t, x->allowance, x->rollover_max, x->now, x->period_start,
                           x->period_end, &delta, &kind) &&
        ((ret = ledger(c, x->client_id, x->now, delta, t.balance, kind, "", "")) < 0 ||
         (ret = set_account(c, x->client_id, &t)) < 0))
        goto out;
    if ((ret = pg_commit(c)) == 0) *x->out = t;
out:
    PQclear(r);
    return ret;
}

int pg_tokens_account(void *impl, const char *client_id, int64_t allowance, int64_t rollover_max,
                      int64_t now, int64_t period_start, int64_t period_end, store_tokens *out)
{
    struct tok_call x = {.client_id = client_id, .allowance = allowance,
                         .rollover_max = rollover_max, .now = now, .period_start = period_start,
                         .period_end = period_end, .out = out};
    return pg_run(impl, __func__, PG_WRITE, account_body, &x);
}

static int add_body(struct pgc *c, void *ctx)
{
    struct tok_call *x = ctx;
    store_tokens t = {0};
    int64_t applied;
    int ret = pg_begin(c);
    if (ret < 0 ||
        (ret = pg_lookup(c, &tq[T_LOCK], PARAMS(PT(x->client_id)), read_tokens, &t)) < 0 ||
        (ret = store_tokens_apply(&t, x->delta, x->need, &applied)) < 0 ||
        (ret = set_account(c, x->client_id, &t)) < 0 ||
        (ret = ledger(c, x->client_id, x->now, applied, t.balance, x->kind, x->ref, x->note)) < 0)
        return ret;
    if ((ret = pg_commit(c)) == 0) *x->out = t;
    return ret;
}

int pg_tokens_add(void *impl, const char *client_id, int64_t delta, int64_t need,
                  const char *kind, const char *ref, const char *note, int64_t now,
                  store_tokens *out)
{
    struct tok_call x = {.client_id = client_id, .delta = delta, .need = need, .kind = kind,
                         .ref = ref, .note = note, .now = now, .out = out};
    return pg_run(impl, __func__, PG_WRITE, add_body, &x);
}

int pg_command_add(void *impl, const store_command *m)
{
    return pg_write(impl, __func__, PG_WRITE, 0, &tq[T_CMD_INSERT],
                    PARAMS(PT(m->id), PT(m->client_id), PT(m->user_id), PT(m->risk),
                           PI(m->created_at), PT(m->request), PT(m->action)));
}

static int read_command(struct pgc *c, const PGresult *r, int row, void *out)
{
    store_command *m = out;
    int ret;
    if ((ret = pg_text(c, r, row, 0, m->id, sizeof m->id)) < 0 ||
        (ret = pg_text(c, r, row, 1, m->client_id, sizeof m->client_id)) < 0 ||
        (ret = pg_text(c, r, row, 2, m->user_id, sizeof m->user_id)) < 0 ||
        (ret = pg_text(c, r, row, 3, m->risk, sizeof m->risk)) < 0 ||
        (ret = pg_i64(c, r, row, 4, &m->created_at)) < 0 ||
        (ret = pg_i64(c, r, row, 5, &m->executed_at)) < 0 ||
        (ret = pg_text(c, r, row, 6, m->request, sizeof m->request)) < 0)
        return ret;
    return pg_text(c, r, row, 7, m->action, sizeof m->action);
}

int pg_command_get(void *impl, const char *client_id, const char *id, store_command *out)
{
    return pg_get(impl, __func__, &tq[T_CMD_GET], PARAMS(PT(id), PT(client_id)), read_command,
                  out);
}

struct claim_call {
    const char *client_id, *id;
    int64_t now;
};

/* One UPDATE that only an unexecuted row passes: two claims racing never both win. */
static int claim_body(struct pgc *c, void *ctx)
{
    struct claim_call *x = ctx;
    PGresult *r = NULL;
    int ret = pg_exec(c, &tq[T_CMD_CLAIM], PARAMS(PT(x->id), PT(x->client_id), PI(x->now)), &r);
    if (ret == 0 && pg_changes(r) == 0) {
        PQclear(r);
        r = NULL;
        ret = pg_exec(c, &tq[T_CMD_EXISTS], PARAMS(PT(x->id), PT(x->client_id)), &r);
        if (ret == 0) ret = PQntuples(r) > 0 ? -EALREADY : -ENOENT;
    }
    PQclear(r);
    return ret;
}

int pg_command_claim(void *impl, const char *client_id, const char *id, int64_t now)
{
    struct claim_call x = {client_id, id, now};
    return pg_run(impl, __func__, PG_WRITE, claim_body, &x);
}

/* Idempotent: replayed after a broken connection, it finds the row already released. */
int pg_command_release(void *impl, const char *client_id, const char *id, int64_t claimed_at)
{
    return pg_write(impl, __func__, PG_IDEMPOTENT, 1, &tq[T_CMD_RELEASE],
                    PARAMS(PT(id), PT(client_id), PI(claimed_at)));
}
