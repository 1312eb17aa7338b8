/* The assistant's section of store.h over SQLite: token accounts with their ledger, and the
 * commands the assistant showed.
 *
 * Each write runs in one BEGIN IMMEDIATE transaction, so the balance and its ledger row
 * change together and concurrent charges of one tenant never overspend: the write lock is
 * taken before the balance is read. Statements live in each connection's tok_stmt slots;
 * input reaches SQLite only through bind parameters (store_sqlite_int.h's argument lists). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>

#include <sqlite3.h>

#include "store_backend.h"
#include "store_sqlite_int.h"

enum tst {
    TST_ACCOUNT,
    TST_OPEN,
    TST_SET,
    TST_LEDGER,
    TST_CMD_INSERT,
    TST_CMD_GET,
    TST_CMD_CLAIM,
    TST_CMD_EXECUTED,
    TST_CMD_RELEASE,
    TST_COUNT
};

_Static_assert(TST_COUNT <= SQLITE_TOK_STMT_MAX, "raise SQLITE_TOK_STMT_MAX");

#define CMD_COLS "id, client_id, user_id, risk, created_at, executed_at, request, action"

static const char *const tst_sql[TST_COUNT] = {
    [TST_ACCOUNT] = "SELECT balance, allowance, used, period_start, period_end FROM token_accounts "
                    "WHERE client_id = ?1",
    /* The client must exist: the foreign key refuses another (-ENOENT). */
    [TST_OPEN] = "INSERT INTO token_accounts (client_id, balance, allowance, used, period_start, "
                 "period_end) VALUES (?1, ?2, ?2, 0, ?3, ?4)",
    [TST_SET] = "UPDATE token_accounts SET balance = ?2, allowance = ?3, used = ?4, "
                "period_start = ?5, period_end = ?6 WHERE client_id = ?1",
    [TST_LEDGER] = "INSERT INTO token_ledger (client_id, time, delta, balance, kind, ref, note) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [TST_CMD_INSERT] = "INSERT INTO assistant_commands (" CMD_COLS ") "
                       "VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7)",
    [TST_CMD_GET] = "SELECT " CMD_COLS " FROM assistant_commands WHERE id = ?1 AND client_id = ?2",
    [TST_CMD_CLAIM] = "UPDATE assistant_commands SET executed_at = ?3 "
                      "WHERE id = ?1 AND client_id = ?2 AND executed_at IS NULL",
    [TST_CMD_EXECUTED] = "SELECT 1 FROM assistant_commands WHERE id = ?1 AND client_id = ?2",
    [TST_CMD_RELEASE] = "UPDATE assistant_commands SET executed_at = NULL "
                        "WHERE id = ?1 AND client_id = ?2 AND executed_at = ?3",
};

static int start(struct conn *c, enum tst id, const struct arg *args, size_t nargs,
                 sqlite3_stmt **st)
{
    return sqlite_bind_start(c, &c->tok_stmt[id], tst_sql[id], args, nargs, st);
}

static int run(struct conn *c, enum tst id, const struct arg *args, size_t nargs, int *changes)
{
    return sqlite_bind_run(c, &c->tok_stmt[id], tst_sql[id], args, nargs, changes);
}

static int read_tokens(struct conn *c, sqlite3_stmt *st, void *row)
{
    (void)c;
    store_tokens *t = row;
    t->balance = sqlite3_column_int64(st, 0);
    t->allowance = sqlite3_column_int64(st, 1);
    t->used = sqlite3_column_int64(st, 2);
    t->period_start = sqlite3_column_int64(st, 3);
    t->period_end = sqlite3_column_int64(st, 4);
    return 0;
}

/* The account row of client_id; -ENOENT when there is none. */
static int get_account(struct conn *c, const char *client_id, store_tokens *t)
{
    sqlite3_stmt *st = NULL;
    int ret = start(c, TST_ACCOUNT, ARGS(A_TEXT(client_id)), &st);
    if (ret == 0) ret = sqlite_read_one(c, st, read_tokens, t);
    sqlite_done(st);
    return ret;
}

static int set_account(struct conn *c, const char *client_id, const store_tokens *t)
{
    return run(c, TST_SET,
               ARGS(A_TEXT(client_id), A_INT(t->balance), A_INT(t->allowance), A_INT(t->used),
                    A_INT(t->period_start), A_INT(t->period_end)),
               NULL);
}

static int ledger(struct conn *c, const char *client_id, int64_t now, int64_t delta,
                  int64_t balance, const char *kind, const char *ref, const char *note)
{
    return run(c, TST_LEDGER,
               ARGS(A_TEXT(client_id), A_INT(now), A_INT(delta), A_INT(balance), A_TEXT(kind),
                    A_TEXT(ref), A_TEXT(note)),
               NULL);
}

/* Opens, renews or re-plans the account inside the caller's transaction (see store.h). */
static int bring_up_to_date(struct conn *c, const char *client_id, int64_t allowance,
                            int64_t rollover_max, int64_t now, int64_t period_start,
                            int64_t period_end, store_tokens *t)
{
    int ret = get_account(c, client_id, t);
    if (ret == -ENOENT) {
        ret = run(c, TST_OPEN,
                  ARGS(A_TEXT(client_id), A_INT(allowance), A_INT(period_start), A_INT(period_end)),
                  NULL);
        if (ret < 0) return ret;
        *t = (store_tokens){allowance, allowance, 0, period_start, period_end};
        return ledger(c, client_id, now, allowance, allowance, "open", "", "");
    }
    if (ret < 0) return ret;
    int64_t delta;
    const char *kind;
    if (!store_tokens_renew(t, allowance, rollover_max, now, period_start, period_end, &delta,
                            &kind))
        return 0;
    if ((ret = ledger(c, client_id, now, delta, t->balance, kind, "", "")) < 0) return ret;
    return set_account(c, client_id, t);
}

int sqlite_tokens_account(void *impl, const char *client_id, int64_t allowance,
                          int64_t rollover_max, int64_t now, int64_t period_start,
                          int64_t period_end, store_tokens *out)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    store_tokens t = {0};
    int ret = sqlite_exec_stmt(c, ST_BEGIN);
    if (ret == 0)
        ret = bring_up_to_date(c, client_id, allowance, rollover_max, now, period_start,
                               period_end, &t);
    if (ret == 0) ret = sqlite_exec_stmt(c, ST_COMMIT);
    if (ret < 0)
        sqlite_rollback(c);
    else
        *out = t;
    sqlite_conn_release(impl, c);
    return ret;
}

int sqlite_tokens_add(void *impl, const char *client_id, int64_t delta, int64_t need,
                      const char *kind, const char *ref, const char *note, int64_t now,
                      store_tokens *out)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    store_tokens t = {0};
    int64_t applied = 0;
    int ret = sqlite_exec_stmt(c, ST_BEGIN);
    if (ret == 0) ret = get_account(c, client_id, &t);
    if (ret < 0 || (ret = store_tokens_apply(&t, delta, need, &applied)) < 0) goto out;
    if ((ret = set_account(c, client_id, &t)) < 0 ||
        (ret = ledger(c, client_id, now, applied, t.balance, kind, ref, note)) < 0 ||
        (ret = sqlite_exec_stmt(c, ST_COMMIT)) < 0)
        goto out;
    *out = t;
out:
    if (ret < 0) sqlite_rollback(c);
    sqlite_conn_release(impl, c);
    return ret;
}

int sqlite_command_add(void *impl, const store_command *cmd)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    int ret = run(c, TST_CMD_INSERT,
                  ARGS(A_TEXT(cmd->id), A_TEXT(cmd->client_id), A_TEXT(cmd->user_id),
                       A_TEXT(cmd->risk), A_INT(cmd->created_at), A_TEXT(cmd->request),
                       A_TEXT(cmd->action)),
                  NULL);
    sqlite_conn_release(impl, c);
    return ret;
}

#define COL_TEXT(col, field) sqlite_col_text(c, st, (col), (field), sizeof(field))

static int read_command(struct conn *c, sqlite3_stmt *st, void *row)
{
    store_command *m = row;
    int ret;
    if ((ret = COL_TEXT(0, m->id)) < 0 || (ret = COL_TEXT(1, m->client_id)) < 0 ||
        (ret = COL_TEXT(2, m->user_id)) < 0 || (ret = COL_TEXT(3, m->risk)) < 0 ||
        (ret = COL_TEXT(6, m->request)) < 0 || (ret = COL_TEXT(7, m->action)) < 0)
        return ret;
    m->created_at = sqlite3_column_int64(st, 4);
    m->executed_at = sqlite3_column_int64(st, 5); /* NULL reads 0 */
    return 0;
}

int sqlite_command_get(void *impl, const char *client_id, const char *id, store_command *out)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    sqlite3_stmt *st = NULL;
    int ret = start(c, TST_CMD_GET, ARGS(A_TEXT(id), A_TEXT(client_id)), &st);
    if (ret == 0) ret = sqlite_read_one(c, st, read_command, out);
    sqlite_done(st);
    sqlite_conn_release(impl, c);
    return ret;
}

/* One UPDATE that only an unexecuted row passes: two claims racing never both win. */
int sqlite_command_claim(void *impl, const char *client_id, const char *id, int64_t now)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    sqlite3_stmt *st = NULL;
    int changes = 0;
    int ret = run(c, TST_CMD_CLAIM, ARGS(A_TEXT(id), A_TEXT(client_id), A_INT(now)), &changes);
    if (ret == 0 && changes == 0) {
        ret = start(c, TST_CMD_EXECUTED, ARGS(A_TEXT(id), A_TEXT(client_id)), &st);
        if (ret == 0) ret = sqlite_step(c, st);
        ret = ret == 1 ? -EALREADY : ret == 0 ? -ENOENT : ret;
    }
    sqlite_done(st);
    sqlite_conn_release(impl, c);
    return ret;
}

int sqlite_command_release(void *impl, const char *client_id, const char *id, int64_t claimed_at)
{
    struct conn *c = sqlite_conn_acquire(impl, __func__);
    int changes = 0;
    int ret = run(c, TST_CMD_RELEASE, ARGS(A_TEXT(id), A_TEXT(client_id), A_INT(claimed_at)),
                  &changes);
    sqlite_conn_release(impl, c);
    return ret == 0 && changes == 0 ? -ENOENT : ret;
}
