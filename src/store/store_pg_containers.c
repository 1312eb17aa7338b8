/* The containers section of store.h over PostgreSQL: quota-checked reservations, lookups by
 * id, Docker id, Docker id prefix or name, state changes, usage sums and the instance id.
 *
 * It runs on store_pg.c's pool and retry runner (store_pg_int.h) and keeps its statements in
 * the upper prepared-statement slots of each session. Every value is a parameter. Empty
 * strings and zero ports or expiries are stored as NULL, which is what the schema means by
 * "none" (and what lets many rows lack a Docker id under its unique index); they read back
 * as "" and 0, as in the SQLite backend.
 *
 * Quotas hold across processes: a reservation locks its tenant's clients row (SELECT ... FOR
 * UPDATE) before it sums the tenant's rows, so the reservations of one tenant run one after
 * another whichever daemon makes them, and each sees the rows of those before it (READ
 * COMMITTED: every statement reads what committed before it started). Other tenants are not
 * held up. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "str.h"
#include "store_backend.h"
#include "store_pg_int.h"

#define DOCKER_ID_LEN 64
#define DOCKER_PREFIX_MIN 12
#define CPU_EPSILON 1e-9
#define INSTANCE_KEY "instance_id"
#define INSTANCE_PREFIX "ins"

enum {
    C_GET, C_BY_DOCKER_ID, C_BY_PREFIX, C_BY_NAME, C_LIST, C_LIST_CLIENT, C_LIST_STATE,
    C_LIST_BOTH, C_QUOTA_LOCK, C_USAGE, C_DELETE_REMOVED, C_INSERT, C_UPDATE, C_SET_STATE,
    C_EXISTS, C_DELETE, C_META_GET, C_META_INSERT, C_LOCK, C_COUNT
};

_Static_assert(PG_CTR_SLOT + C_COUNT <= PG_TOK_SLOT, "raise PG_TOK_SLOT");

#define CTR_COLS                                                                                   \
    "id, client_id, name, service_type, image, docker_id, state, host_port, url, memory_mb, "      \
    "cpus, created_at, updated_at, expires_at, owner"
#define CTR_SELECT "SELECT " CTR_COLS " FROM containers "
#define CTR_ORDER " ORDER BY created_at, id LIMIT "
#define CQ(id, text) [id] = {PG_CTR_SLOT + (id), text}

/* One statement per list filter, so that each can use its own index. In the lookups, a
 * tenant parameter '' means "every tenant" (an admin's search). */
static const struct pg_sql cq[C_COUNT] = {
    /* Held until the transaction ends; keyed per database, like every advisory lock. */
    CQ(C_LOCK, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"),
    CQ(C_GET, CTR_SELECT "WHERE id = $1"),
    CQ(C_BY_DOCKER_ID, CTR_SELECT "WHERE docker_id = $1 AND ($2::text = '' OR client_id = $2)"),
    /* [$1, $2) in byte order is every string that starts with $1 ($2 is $1 with its last
     * character raised by one); ~>=~ and ~<~ are the byte-order operators that the
     * text_pattern_ops index on docker_id serves, also in a generic plan. Two rows are enough
     * to tell unique from ambiguous. */
    CQ(C_BY_PREFIX, CTR_SELECT "WHERE docker_id ~>=~ $1 AND docker_id ~<~ $2 "
                               "AND ($3::text = '' OR client_id = $3) LIMIT 2"),
    CQ(C_BY_NAME, CTR_SELECT "WHERE client_id = $1 AND name = $2"),
    CQ(C_LIST, CTR_SELECT CTR_ORDER "$1"),
    CQ(C_LIST_CLIENT, CTR_SELECT "WHERE client_id = $1" CTR_ORDER "$2"),
    CQ(C_LIST_STATE, CTR_SELECT "WHERE state = $1" CTR_ORDER "$2"),
    CQ(C_LIST_BOTH, CTR_SELECT "WHERE client_id = $1 AND state = $2" CTR_ORDER "$3"),
    CQ(C_QUOTA_LOCK, "SELECT quota_containers, quota_memory_mb, quota_cpus FROM clients "
                     "WHERE id = $1 FOR UPDATE"),
    /* Rows that hold quota: every state but "removed". */
    CQ(C_USAGE, "SELECT count(*), count(*) FILTER (WHERE state = 'running'), "
                "coalesce(sum(memory_mb), 0), coalesce(sum(cpus), 0) FROM containers "
                "WHERE client_id = $1 AND state <> 'removed'"),
    CQ(C_DELETE_REMOVED,
       "DELETE FROM containers WHERE client_id = $1 AND name = $2 AND state = 'removed'"),
    CQ(C_INSERT, "INSERT INTO containers (" CTR_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, "
                 "$8, $9, $10, $11, $12, $13, $14, $15)"),
    CQ(C_UPDATE, "UPDATE containers SET docker_id = $2, state = $3, host_port = $4, url = $5, "
                 "expires_at = $6, updated_at = $7 WHERE id = $1"),
    /* $4 is '' (any state) or a list such as 'running,created', compared element by
     * element. */
    CQ(C_SET_STATE, "UPDATE containers SET state = $2, updated_at = $3 WHERE id = $1 "
                    "AND ($4::text = '' OR state = ANY (string_to_array($4, ',')))"),
    CQ(C_EXISTS, "SELECT 1 FROM containers WHERE id = $1"),
    CQ(C_DELETE, "DELETE FROM containers WHERE id = $1"),
    CQ(C_META_GET, "SELECT value FROM meta WHERE key = $1"),
    CQ(C_META_INSERT, "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"),
};

/* ---- rows ---------------------------------------------------------------------------------- */

#define TEXT_COL(col, field) pg_text(c, r, row, (col), o->field, sizeof o->field)

/* Fills the store_container at out from a row of CTR_COLS, in column order. */
static int read_container(struct pgc *c, const PGresult *r, int row, void *out)
{
    store_container *o = out;
    int ret;
    memset(o, 0, sizeof *o);
    if ((ret = TEXT_COL(0, id)) < 0 || (ret = TEXT_COL(1, client_id)) < 0 ||
        (ret = TEXT_COL(2, name)) < 0 || (ret = TEXT_COL(3, service_type)) < 0 ||
        (ret = TEXT_COL(4, image)) < 0 || (ret = TEXT_COL(5, docker_id)) < 0 ||
        (ret = TEXT_COL(6, state)) < 0 || (ret = pg_int(c, r, row, 7, &o->host_port)) < 0 ||
        (ret = TEXT_COL(8, url)) < 0 || (ret = pg_int(c, r, row, 9, &o->memory_mb)) < 0 ||
        (ret = pg_real(c, r, row, 10, &o->cpus)) < 0 ||
        (ret = pg_i64(c, r, row, 11, &o->created_at)) < 0 ||
        (ret = pg_i64(c, r, row, 12, &o->updated_at)) < 0 ||
        (ret = pg_i64(c, r, row, 13, &o->expires_at)) < 0 || (ret = TEXT_COL(14, owner)) < 0)
        return ret;
    return 0;
}

struct usage {
    int64_t count, running, memory_mb;
    double cpus;
};

/* What client_id's rows not "removed" hold; the reservation reads it inside its transaction,
 * with the tenant locked. */
static int read_usage(struct pgc *c, const char *client_id, struct usage *u)
{
    PGresult *r = NULL;
    int ret = pg_exec(c, &cq[C_USAGE], PARAMS(PT(client_id)), &r);
    if (ret == 0 && PQntuples(r) != 1) {
        STORE_LOG_ERR("%s: an aggregate returned no row", c->op);
        ret = -EIO;
    }
    if (ret == 0) ret = pg_i64(c, r, 0, 0, &u->count);
    if (ret == 0) ret = pg_i64(c, r, 0, 1, &u->running);
    if (ret == 0) ret = pg_i64(c, r, 0, 2, &u->memory_mb);
    if (ret == 0) ret = pg_real(c, r, 0, 3, &u->cpus);
    PQclear(r);
    return ret;
}

/* ---- reservations ---------------------------------------------------------------------------- */

struct reserve {
    const store_container *row;
    enum store_quota_hit *hit;
};

/* Which quota row would break, given the tenant's quotas in r and its usage u. */
static enum store_quota_hit quota_hit(struct pgc *c, const PGresult *r, const struct usage *u,
                                      const store_container *row, int *ret)
{
    int64_t containers, memory_mb;
    double cpus;
    if ((*ret = pg_i64(c, r, 0, 0, &containers)) < 0 || (*ret = pg_i64(c, r, 0, 1, &memory_mb)) < 0 ||
        (*ret = pg_real(c, r, 0, 2, &cpus)) < 0)
        return STORE_QUOTA_NONE;
    if (u->count >= containers) return STORE_QUOTA_CONTAINERS;
    if (u->memory_mb + row->memory_mb > memory_mb) return STORE_QUOTA_MEMORY;
    if (u->cpus + row->cpus > cpus + CPU_EPSILON) return STORE_QUOTA_CPUS;
    return STORE_QUOTA_NONE;
}

/* BEGIN; lock the tenant; sum; free a "removed" row's name; insert; COMMIT. Any failure
 * leaves nothing behind: pg_run rolls back what is left open. */
static int reserve_body(struct pgc *c, void *ctx)
{
    struct reserve *x = ctx;
    const store_container *row = x->row;
    PGresult *r = NULL;
    struct usage u;
    *x->hit = STORE_QUOTA_NONE;
    int ret = pg_begin(c);
    if (ret < 0 || (ret = pg_exec(c, &cq[C_QUOTA_LOCK], PARAMS(PT(row->client_id)), &r)) < 0)
        goto out;
    if (PQntuples(r) < 1) {
        ret = -ENOENT;
        goto out;
    }
    if ((ret = read_usage(c, row->client_id, &u)) < 0) goto out;
    *x->hit = quota_hit(c, r, &u, row, &ret);
    if (ret < 0) goto out;
    if (*x->hit != STORE_QUOTA_NONE) {
        ret = -EDQUOT;
        goto out;
    }
    if ((ret = pg_exec(c, &cq[C_DELETE_REMOVED], PARAMS(PT(row->client_id), PT(row->name)),
                       NULL)) < 0 ||
        (ret = pg_exec(c, &cq[C_INSERT],
                       PARAMS(PT(row->id), PT(row->client_id), PT(row->name),
                              PT(row->service_type), PT(row->image), PTN(row->docker_id),
                              PT(row->state), PIN(row->host_port), PTN(row->url),
                              PI(row->memory_mb), PR(row->cpus), PI(row->created_at),
                              PI(row->updated_at), PIN(row->expires_at), PT(row->owner)),
                       NULL)) < 0)
        goto out;
    ret = pg_commit(c);
out:
    PQclear(r);
    return ret;
}

/* See the top of this file. ct is written only on success, with the row as stored. A lock
 * wait beyond lock_timeout (another transaction holding the tenant) is -EBUSY. */
int pg_container_reserve(void *impl, store_container *ct, enum store_quota_hit *hit)
{
    store_container row = *ct;
    struct reserve x = {&row, hit};
    row.docker_id[0] = '\0';
    row.url[0] = '\0';
    row.host_port = 0;
    snprintf(row.state, sizeof row.state, "%s", "creating");
    row.created_at = row.updated_at = (int64_t)time(NULL);
    int ret = pg_run(impl, __func__, PG_WRITE, reserve_body, &x);
    if (ret == 0) *ct = row;
    return ret;
}

/* ---- lookups ------------------------------------------------------------------------------- */

/* By primary key, on a session of its own. */
int pg_container_get(void *impl, const char *id, store_container *out)
{
    return pg_get(impl, __func__, &cq[C_GET], PARAMS(PT(id)), read_container, out);
}

/* Docker ids and their prefixes are lowercase hex: anything else is not one (and so never
 * reaches a comparison as a pattern). */
static int lower_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* The one row whose Docker id starts with prefix (12..63 lowercase hex digits, checked by the
 * caller, so no character is special) within client_id ("" = any tenant); -ENOENT when none
 * or several match. */
static int find_prefix(struct pgc *c, const char *client_id, const char *prefix, size_t len,
                       store_container *out)
{
    char upper[STORE_DOCKER_ID_MAX];
    PGresult *r = NULL;
    memcpy(upper, prefix, len + 1);
    upper[len - 1]++; /* the next byte: ':' after '9', 'g' after 'f', both above any hex digit */
    int ret = pg_exec(c, &cq[C_BY_PREFIX], PARAMS(PT(prefix), PT(upper), PT(client_id)), &r);
    if (ret == 0) ret = PQntuples(r) == 1 ? read_container(c, r, 0, out) : -ENOENT;
    PQclear(r);
    return ret;
}

struct find {
    const char *client_id, *name_client_id, *ref;
    store_container *out;
};

static int find_body(struct pgc *c, void *ctx)
{
    const struct find *x = ctx;
    size_t len = strlen(x->ref);
    int ret = -ENOENT;
    if (len >= DOCKER_PREFIX_MIN && lower_hex(x->ref, len)) {
        if (len == DOCKER_ID_LEN)
            ret = pg_lookup(c, &cq[C_BY_DOCKER_ID], PARAMS(PT(x->ref), PT(x->client_id)),
                            read_container, x->out);
        else
            ret = find_prefix(c, x->client_id, x->ref, len, x->out);
        if (ret != -ENOENT) return ret;
    }
    if (len < STORE_CNAME_MAX && x->name_client_id[0] &&
        (!x->client_id[0] || strcmp(x->client_id, x->name_client_id) == 0))
        ret = pg_lookup(c, &cq[C_BY_NAME], PARAMS(PT(x->name_client_id), PT(x->ref)),
                        read_container, x->out);
    return ret;
}

/* The SQLite backend's order: a full id, then a prefix, and a reference they do not resolve
 * (no match, or an ambiguous prefix) is tried as a name, since 12+ hex digits make a valid
 * DNS label too. Names are looked up only in name_client_id's tenant, and only when that
 * tenant is inside the search, so no tenant reaches another's container by any reference. */
int pg_container_find(void *impl, const char *client_id, const char *name_client_id,
                      const char *ref, store_container *out)
{
    struct find x = {client_id, name_client_id, ref, out};
    return pg_run(impl, __func__, PG_READ, find_body, &x);
}

/* Oldest first, then by id (byte order: the column is COLLATE "C"), at most
 * STORE_CONTAINERS_MAX rows whatever LIMIT did. */
int pg_container_list(void *impl, const char *client_id, const char *state,
                      store_container **out, size_t *n)
{
    void *rows = NULL;
    size_t count = 0;
    const int64_t max = STORE_CONTAINERS_MAX;
    int ret;
    if (client_id[0] && state[0])
        ret = pg_list(impl, __func__, &cq[C_LIST_BOTH], PARAMS(PT(client_id), PT(state), PI(max)),
                      sizeof **out, (size_t)max, read_container, &rows, &count);
    else if (client_id[0] || state[0])
        ret = pg_list(impl, __func__, &cq[client_id[0] ? C_LIST_CLIENT : C_LIST_STATE],
                      PARAMS(PT(client_id[0] ? client_id : state), PI(max)), sizeof **out,
                      (size_t)max, read_container, &rows, &count);
    else
        ret = pg_list(impl, __func__, &cq[C_LIST], PARAMS(PI(max)), sizeof **out, (size_t)max,
                      read_container, &rows, &count);
    if (ret == 0) {
        *out = rows;
        *n = count;
    }
    return ret;
}

/* ---- writes -------------------------------------------------------------------------------- */

/* One statement: the fields the lifecycle changes, and updated_at. A Docker id another row
 * already holds is -EEXIST (the unique index). Replaying it writes the same values, so it
 * is retried after a lost connection like a read. */
int pg_container_update(void *impl, const store_container *ct)
{
    return pg_write(impl, __func__, PG_IDEMPOTENT, 1, &cq[C_UPDATE],
                    PARAMS(PT(ct->id), PTN(ct->docker_id), PT(ct->state), PIN(ct->host_port),
                           PTN(ct->url), PIN(ct->expires_at), PI((int64_t)time(NULL))));
}

struct set_state {
    const char *id, *from, *state;
};

static int set_state_body(struct pgc *c, void *ctx)
{
    const struct set_state *x = ctx;
    PGresult *r = NULL;
    int ret = pg_exec(c, &cq[C_SET_STATE],
                      PARAMS(PT(x->id), PT(x->state), PI((int64_t)time(NULL)), PT(x->from)), &r);
    if (ret < 0 || pg_changes(r) > 0) goto out;
    PQclear(r);
    r = NULL;
    if ((ret = pg_exec(c, &cq[C_EXISTS], PARAMS(PT(x->id)), &r)) == 0)
        ret = PQntuples(r) > 0 ? -EAGAIN : -ENOENT;
out:
    PQclear(r);
    return ret;
}

/* The compare and the set are one UPDATE (the row lock makes a second racer re-check the
 * state that the first one wrote), so two callers racing for the same transition cannot both
 * win. When nothing was written, a second look tells a missing row (-ENOENT) from a state
 * outside from (-EAGAIN). Not replayed after a lost answer: the replay would say -EAGAIN. */
int pg_container_set_state(void *impl, const char *id, const char *from, const char *state)
{
    struct set_state x = {id, from, state};
    return pg_run(impl, __func__, PG_WRITE, set_state_body, &x);
}

/* Whatever the state: by now the Engine no longer has the container (the caller saw to it). */
int pg_container_delete(void *impl, const char *id)
{
    return pg_write(impl, __func__, PG_WRITE, 1, &cq[C_DELETE], PARAMS(PT(id)));
}

/* ---- usage and the instance id ------------------------------------------------------------- */

struct usage_call {
    const char *client_id;
    struct usage u;
};

static int usage_body(struct pgc *c, void *ctx)
{
    struct usage_call *x = ctx;
    return read_usage(c, x->client_id, &x->u);
}

/* read_usage, the query the reservation checks quotas with: usage shown and usage enforced
 * cannot disagree. */
int pg_container_usage(void *impl, const char *client_id, int *count, int *running,
                       int *memory_mb, double *cpus)
{
    struct usage_call x = {.client_id = client_id};
    int ret = pg_run(impl, __func__, PG_READ, usage_body, &x);
    if (ret < 0) return ret;
    if (x.u.count > INT_MAX || x.u.running > INT_MAX || x.u.memory_mb > INT_MAX) {
        STORE_LOG_ERR("%s: usage of %s does not fit an int", __func__, client_id);
        return -EIO;
    }
    *count = (int)x.u.count;
    *running = (int)x.u.running;
    *memory_mb = (int)x.u.memory_mb;
    *cpus = x.u.cpus;
    return 0;
}

static int read_value(struct pgc *c, const PGresult *r, int row, void *out)
{
    return pg_text(c, r, row, 0, out, STORE_ID_MAX);
}

/* Usually one SELECT. Only while there is no id yet is one made and offered with ON CONFLICT
 * DO NOTHING; whoever loses that race (another thread, another daemon) keeps nothing of its
 * own and answers the row that won, read back afterwards. */
static int instance_body(struct pgc *c, void *out)
{
    char fresh[STORE_ID_MAX];
    int ret = pg_lookup(c, &cq[C_META_GET], PARAMS(PT(INSTANCE_KEY)), read_value, out);
    if (ret != -ENOENT) return ret;
    str_new_id(fresh, sizeof fresh, INSTANCE_PREFIX);
    if ((ret = pg_exec(c, &cq[C_META_INSERT], PARAMS(PT(INSTANCE_KEY), PT(fresh)), NULL)) < 0)
        return ret;
    ret = pg_lookup(c, &cq[C_META_GET], PARAMS(PT(INSTANCE_KEY)), read_value, out);
    if (ret == -ENOENT) {
        STORE_LOG_ERR("%s: the instance id vanished right after it was written", c->op);
        ret = -EIO;
    }
    return ret;
}

/* Idempotent: a replay finds the row the first run wrote. out is "" on error. */
int pg_instance_id(void *impl, char out[STORE_ID_MAX])
{
    int ret = pg_run(impl, __func__, PG_IDEMPOTENT, instance_body, out);
    if (ret < 0) out[0] = '\0';
    return ret;
}

struct exclusive {
    const char *key;
    int (*fn)(void *ctx);
    void *ctx;
};

static int exclusive_body(struct pgc *c, void *ctx)
{
    struct exclusive *x = ctx;
    PGresult *r = NULL;
    int ret = pg_begin(c);
    if (ret == 0) ret = pg_exec(c, &cq[C_LOCK], PARAMS(PT(x->key)), &r);
    PQclear(r);
    if (ret < 0) return ret;
    int answer = x->fn(x->ctx);
    ret = pg_commit(c);
    return ret < 0 ? ret : answer;
}

/* The lock lives as long as a transaction that does nothing else, so a daemon that dies
 * releases it with its connection. */
int pg_exclusive(void *impl, const char *key, int (*fn)(void *ctx), void *ctx)
{
    struct exclusive x = {key, fn, ctx};
    return pg_run(impl, __func__, PG_IDEMPOTENT, exclusive_body, &x);
}
