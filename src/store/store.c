/* The backend-neutral half of store.h: parses the database URL, picks a backend, and checks
 * every argument once so that each backend can trust what it receives. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdatomic.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"

#define POOL_MAX 64
#define JTI_MAX 128 /* buffer size; jwt.h's tokens carry at most 63 bytes */
#define AUDIT_LIMIT_MAX 1000
#define AUDIT_ACTION_SIZE sizeof(((store_audit *)0)->action)

/* See store_backend.h. vsnprintf truncates safely; an error message never needs more. */
void store_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* 1 when s is a non-NULL string that fits in a buffer of size bytes (NUL included) and,
 * unless empty_ok, is not empty. */
static int str_ok(const char *s, size_t size, int empty_ok)
{
    if (!s) return 0;
    size_t len = strnlen(s, size);
    return len < size && (empty_ok || len > 0);
}

/* 1 when the fixed buffer buf holds a NUL-terminated string (and a non-empty one unless
 * empty_ok): a struct filled by a caller must never make us read past a field. */
static int field_ok(const char *buf, size_t size, int empty_ok)
{
    return memchr(buf, '\0', size) != NULL && (empty_ok || buf[0] != '\0');
}

#define FIELD_OK(f, empty_ok) field_ok((f), sizeof(f), (empty_ok))

/* ASCII-only on purpose: emails are compared byte for byte, never through the locale. */
static void ascii_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z') *s = (char)(*s - 'A' + 'a');
}

/* Parses the URL's scheme here so that backends only ever see their own part of the URL.
 * The PostgreSQL schemes are recognised now so that a configured DATABASE_URL fails with a
 * clear reason instead of "unknown scheme". The rejected URL is never echoed whole: it may
 * carry a password. */
int store_open(const char *url, unsigned pool_size, store **out, char *err, size_t errlen)
{
    store *s = NULL;
    int ret;

    store_set_err(err, errlen, "%s", "");
    if (!out) {
        store_set_err(err, errlen, "store_open needs somewhere to put the store");
        return -EINVAL;
    }
    *out = NULL;
    if (!url || !url[0]) {
        store_set_err(err, errlen,
                      "the database URL is empty: use sqlite:///path/to/cloudya.db or "
                      "postgresql://user@host/dbname");
        return -EINVAL;
    }
    int pg = starts_with(url, "postgresql://") || starts_with(url, "postgres://");
    if (!pg && !starts_with(url, "sqlite://")) {
        const char *colon = strchr(url, ':');
        int schemelen = colon && colon - url <= 32 ? (int)(colon - url) : 0;
        if (schemelen > 0)
            store_set_err(err, errlen,
                          "the database URL scheme \"%.*s\" is not supported: use sqlite:// "
                          "(sqlite:///abs/path.db or sqlite://rel/path.db) or postgresql:// "
                          "(also written postgres://)",
                          schemelen, url);
        else
            store_set_err(err, errlen,
                          "the database URL must start with sqlite:// (sqlite:///abs/path.db or "
                          "sqlite://rel/path.db) or postgresql:// (also written postgres://)");
        return -EINVAL;
    }
    if (pool_size == 0) {
        store_set_err(err, errlen, "the database pool size must be at least 1");
        return -EINVAL;
    }
    /* "Up to pool_size": callers size the pool from their thread count, which can exceed
     * what one database usefully serves (SQLite has a single writer anyway). */
    if (pool_size > POOL_MAX) pool_size = POOL_MAX;
    s = calloc(1, sizeof *s);
    if (!s) {
        store_set_err(err, errlen, "out of memory opening the database");
        return -ENOMEM;
    }
    if (pg)
        ret = store_pg_open(url, pool_size, &s->ops, &s->impl, err, errlen);
    else
        ret = store_sqlite_open(url + strlen("sqlite://"), pool_size, &s->ops, &s->impl, err,
                                errlen);
    if (ret < 0) goto out;
    snprintf(s->backend, sizeof s->backend, "%s", pg ? "postgresql" : "sqlite");
    *out = s;
    s = NULL;
out:
    free(s);
    return ret;
}

static atomic_ullong failures;

/* Counts the database's own failures (not the caller's: not found, taken, over quota...). */
static int counted(int rc)
{
    if (rc == -EIO || rc == -EBUSY || rc == -ETIMEDOUT || rc == -ECONNRESET ||
        rc == -ECONNREFUSED || rc == -ENOTCONN)
        atomic_fetch_add(&failures, 1);
    return rc;
}

uint64_t store_error_count(void)
{
    return atomic_load(&failures);
}

/* NULL is accepted so that cleanup paths need no check. */
void store_close(store *s)
{
    if (!s) return;
    s->ops->close(s->impl);
    free(s);
}

/* Used by health checks: a real round trip, not a look at a cached flag. */
int store_ping(store *s)
{
    if (!s) return -EINVAL;
    return counted(s->ops->ping(s->impl));
}

/* "" for NULL, so that it can always be printed. */
const char *store_backend(const store *s)
{
    return s ? s->backend : "";
}

/* Reported by /health and used by tests; the backend reads its own schema_version table. */
int store_schema_version(store *s)
{
    if (!s) return -EINVAL;
    return counted(s->ops->schema_version(s->impl));
}

/* Checks both structs completely before the backend runs its transaction, so that a bad
 * field is -EINVAL rather than a constraint failure. Two normalisations happen in place: the
 * email is lowercased (ASCII) and an empty u->client_id is set to c->id; a u->client_id that
 * names another client is -EINVAL. disabled becomes 0 or 1. */
int store_client_user_create(store *s, store_client *c, store_user *u)
{
    if (!s || !c || !u) return -EINVAL;
    if (!FIELD_OK(c->id, 0) || !FIELD_OK(c->name, 1) || !FIELD_OK(c->plan, 0)) return -EINVAL;
    if (c->quota_containers < 0 || c->quota_memory_mb < 0 || !isfinite(c->quota_cpus) ||
        c->quota_cpus < 0)
        return -EINVAL;
    if (!FIELD_OK(u->id, 0) || !FIELD_OK(u->email, 0) || !FIELD_OK(u->name, 1) ||
        !FIELD_OK(u->role, 0) || !FIELD_OK(u->client_id, 1) || !FIELD_OK(u->password_hash, 0))
        return -EINVAL;
    if (strcmp(u->role, "admin") != 0 && strcmp(u->role, "client") != 0) return -EINVAL;
    if (u->client_id[0] == '\0')
        memcpy(u->client_id, c->id, sizeof u->client_id);
    else if (strcmp(u->client_id, c->id) != 0)
        return -EINVAL;
    ascii_lower(u->email);
    u->disabled = u->disabled ? 1 : 0;
    return counted(s->ops->client_user_create(s->impl, c, u));
}

/* Looks a user up by primary key; -ENOENT when there is none. */
int store_user_get(store *s, const char *id, store_user *out)
{
    if (!s || !out || !str_ok(id, STORE_ID_MAX, 0)) return -EINVAL;
    return counted(s->ops->user_get(s->impl, id, out));
}

/* One statement for the user and the revocation of its token, so that each authenticated
 * request costs one read transaction. */
int store_session_user(store *s, const char *user_id, const char *jti, store_user *out)
{
    if (!s || !out || !str_ok(user_id, STORE_ID_MAX, 0) || !str_ok(jti, STORE_ID_MAX * 2, 0))
        return -EINVAL;
    return counted(s->ops->session_user(s->impl, user_id, jti, out));
}

/* The login path: email is lowercased (ASCII) before the lookup, as it was when stored. */
int store_user_get_by_email(store *s, const char *email, store_user *out)
{
    char lc[STORE_EMAIL_MAX + 1];
    if (!s || !out || !str_ok(email, sizeof lc, 0)) return -EINVAL;
    memcpy(lc, email, strlen(email) + 1);
    ascii_lower(lc);
    return counted(s->ops->user_get_by_email(s->impl, lc, out));
}

/* Counts every user whose role is "admin", disabled ones included. */
int store_user_count_admins(store *s, int64_t *n)
{
    if (!s || !n) return -EINVAL;
    return counted(s->ops->user_count_admins(s->impl, n));
}

int store_client_count(store *s, int64_t *n)
{
    if (!s || !n) return -EINVAL;
    return counted(s->ops->client_count(s->impl, n));
}

/* Any non-zero disabled is stored as 1. Through the guarded write of store_user_set_access,
 * so that no caller can disable the last enabled admin. */
int store_user_set_disabled(store *s, const char *id, int disabled)
{
    if (!s || !str_ok(id, STORE_ID_MAX, 0)) return -EINVAL;
    return counted(s->ops->user_set_access(s->impl, id, "", disabled ? 1 : 0));
}

/* Deletes one user row; -ENOENT when no such user exists. The client stays. */
int store_user_delete(store *s, const char *id)
{
    if (!s || !str_ok(id, STORE_ID_MAX, 0)) return -EINVAL;
    return counted(s->ops->user_delete(s->impl, id));
}

/* Looks a client (tenant) up by primary key; -ENOENT when there is none. */
int store_client_get(store *s, const char *id, store_client *out)
{
    if (!s || !out || !str_ok(id, STORE_ID_MAX, 0)) return -EINVAL;
    return counted(s->ops->client_get(s->impl, id, out));
}

/* A limit outside 1..STORE_LIST_MAX is -EINVAL, not a silently capped answer. */
int store_client_list(store *s, int limit, store_client **out, size_t *n)
{
    if (out) *out = NULL;
    if (n) *n = 0;
    if (!s || !out || !n || limit < 1 || limit > STORE_LIST_MAX) return -EINVAL;
    return counted(s->ops->client_list(s->impl, limit, out, n));
}

/* Checks the written fields as store_client_user_create does, plus a non-empty plan. */
int store_client_update(store *s, const store_client *c)
{
    if (!s || !c) return -EINVAL;
    if (!FIELD_OK(c->id, 0) || !FIELD_OK(c->name, 1) || !FIELD_OK(c->plan, 0)) return -EINVAL;
    if (c->quota_containers < 0 || c->quota_memory_mb < 0 || !isfinite(c->quota_cpus) ||
        c->quota_cpus < 0)
        return -EINVAL;
    return counted(s->ops->client_update(s->impl, c));
}

/* NULL client_id means "" (every tenant): this list is for admins only, who see all. */
int store_user_list(store *s, const char *client_id, int limit, store_user **out, size_t *n)
{
    if (out) *out = NULL;
    if (n) *n = 0;
    if (!client_id) client_id = "";
    if (!s || !out || !n || limit < 1 || limit > STORE_LIST_MAX ||
        !str_ok(client_id, STORE_ID_MAX, 1))
        return -EINVAL;
    return counted(s->ops->user_list(s->impl, client_id, limit, out, n));
}

/* role is normalised to "" for "unchanged" and disabled to -1, 0 or 1, so that backends
 * see exactly three forms of each. */
int store_user_set_access(store *s, const char *id, const char *role, int disabled)
{
    if (!role) role = "";
    if (!s || !str_ok(id, STORE_ID_MAX, 0)) return -EINVAL;
    if (role[0] && strcmp(role, "admin") != 0 && strcmp(role, "client") != 0) return -EINVAL;
    return counted(s->ops->user_set_access(s->impl, id, role, disabled < 0 ? -1 : !!disabled));
}

/* An empty or NULL role is -EINVAL here: "set the role to nothing" is a caller's mistake. */
int store_user_set_role(store *s, const char *id, const char *role)
{
    if (!role || !role[0]) return -EINVAL;
    return store_user_set_access(s, id, role, -1);
}

/* Revoking the same jti twice is not an error (a double logout): the later expiry wins. */
int store_token_revoke(store *s, const char *jti, int64_t expires_at)
{
    if (!s || !str_ok(jti, JTI_MAX, 0)) return -EINVAL;
    return counted(s->ops->token_revoke(s->impl, jti, expires_at));
}

/* Asked on every authenticated request, after the signature has been verified. */
int store_token_is_revoked(store *s, const char *jti)
{
    if (!s || !str_ok(jti, JTI_MAX, 0)) return -EINVAL;
    return counted(s->ops->token_is_revoked(s->impl, jti));
}

/* Run periodically so that the revocation table holds only tokens that could still verify. */
int store_token_purge_expired(store *s, int64_t now)
{
    if (!s) return -EINVAL;
    return counted(s->ops->token_purge_expired(s->impl, now));
}

/* Every text field must be NUL-terminated inside its buffer and action must not be empty. */
int store_audit_add(store *s, const store_audit *a)
{
    if (!s || !a) return -EINVAL;
    if (!FIELD_OK(a->actor, 1) || !FIELD_OK(a->client_id, 1) || !FIELD_OK(a->action, 0) ||
        !FIELD_OK(a->target, 1) || !FIELD_OK(a->ip, 1) || !FIELD_OK(a->result, 1) ||
        !FIELD_OK(a->detail, 1))
        return -EINVAL;
    return counted(s->ops->audit_add(s->impl, a));
}

/* NULL filters mean the same as "": no filter. A limit outside 1..1000 is -EINVAL. When no
 * row matches, *out is NULL and *n is 0. */
int store_audit_list(store *s, const char *client_id, const char *action, int limit,
                     store_audit **out, size_t *n)
{
    if (out) *out = NULL;
    if (n) *n = 0;
    if (!s || !out || !n || limit < 1 || limit > AUDIT_LIMIT_MAX) return -EINVAL;
    if (!client_id) client_id = "";
    if (!action) action = "";
    if (!str_ok(client_id, STORE_ID_MAX, 1) || !str_ok(action, AUDIT_ACTION_SIZE, 1))
        return -EINVAL;
    return counted(s->ops->audit_list(s->impl, client_id, action, limit, out, n));
}

/* --- containers ----------------------------------------------------------------------- */

#define DOCKER_ID_LEN 64
#define FROM_MAX 128 /* every state once, comma-separated, is 62 bytes */
#define PORT_MAX 65535

static const char *const container_states[] = {"creating", "created",  "running", "stopped",
                                               "exited",   "removing", "removed", "error"};

/* 1 when the len bytes at s name one of the states the containers table allows. */
static int state_known(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof container_states / sizeof container_states[0]; i++)
        if (strlen(container_states[i]) == len && memcmp(container_states[i], s, len) == 0)
            return 1;
    return 0;
}

static int state_ok(const char *s)
{
    return str_ok(s, STORE_STATE_MAX, 0) && state_known(s, strlen(s));
}

/* "" or a comma-separated list of known states with no empty element ("running,created"). */
static int from_ok(const char *from)
{
    if (!str_ok(from, FROM_MAX, 1)) return 0;
    if (!from[0]) return 1;
    for (const char *p = from;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!state_known(p, len)) return 0;
        if (!comma) return 1;
        p = comma + 1;
    }
}

/* "" or exactly 64 lowercase hex digits, the only form the Engine gives: anything else could
 * never be found again by store_container_find. */
static int docker_id_ok(const char *id)
{
    size_t len = strlen(id);
    if (len == 0) return 1;
    if (len != DOCKER_ID_LEN) return 0;
    for (size_t i = 0; i < len; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return 0;
    return 1;
}

/* After the write is committed (whatever it answered), so a reader that saw the old
 * generation before its query can never cache a list older than the new one. */
static int bump(store *s, int rc)
{
    atomic_fetch_add(&s->container_gen, 1);
    return rc;
}

/* Checks every field the caller fills (id, client_id, name, service_type, image non-empty;
 * memory_mb, cpus, expires_at non-negative and finite) and ignores what the store sets: on
 * success c reads back as the row was written (state "creating", docker_id "", host_port 0,
 * url "", created_at = updated_at = now). hit may be NULL when the caller only wants the
 * errno; when not, it is STORE_QUOTA_NONE unless the answer is -EDQUOT. */
int store_container_reserve(store *s, store_container *c, enum store_quota_hit *hit)
{
    enum store_quota_hit dummy;
    if (!hit) hit = &dummy;
    *hit = STORE_QUOTA_NONE;
    if (!s || !c) return -EINVAL;
    if (!FIELD_OK(c->id, 0) || !FIELD_OK(c->client_id, 0) || !FIELD_OK(c->name, 0) ||
        !FIELD_OK(c->service_type, 0) || !FIELD_OK(c->image, 0) || !FIELD_OK(c->owner, 1))
        return -EINVAL;
    if (c->memory_mb < 0 || !isfinite(c->cpus) || c->cpus < 0 || c->expires_at < 0)
        return -EINVAL;
    return bump(s, s->ops->container_reserve(s->impl, c, hit));
}

/* Looks a container row up by our id; -ENOENT when there is none. */
int store_container_get(store *s, const char *id, store_container *out)
{
    if (!s || !out || !str_ok(id, STORE_ID_MAX, 0)) return -EINVAL;
    return counted(s->ops->container_get(s->impl, id, out));
}

/* NULL tenants are -EINVAL rather than "every tenant": a forgotten argument must never widen
 * a search across tenants. ref is 1..64 bytes (a full Docker id is the longest form). */
int store_container_find(store *s, const char *client_id, const char *name_client_id,
                         const char *ref, store_container *out)
{
    if (!s || !out || !str_ok(client_id, STORE_ID_MAX, 1) ||
        !str_ok(name_client_id, STORE_ID_MAX, 1) || !str_ok(ref, STORE_DOCKER_ID_MAX, 0))
        return -EINVAL;
    return counted(s->ops->container_find(s->impl, client_id, name_client_id, ref, out));
}

/* client_id NULL is -EINVAL (as in store_container_find); state NULL means "". A state that
 * is not one of the known ones is -EINVAL, not an empty answer. When no row matches, *out
 * is NULL and *n is 0. */
int store_container_list(store *s, const char *client_id, const char *state,
                         store_container **out, size_t *n)
{
    if (out) *out = NULL;
    if (n) *n = 0;
    if (!s || !out || !n || !str_ok(client_id, STORE_ID_MAX, 1)) return -EINVAL;
    if (!state) state = "";
    if (state[0] && !state_ok(state)) return -EINVAL;
    return counted(s->ops->container_list(s->impl, client_id, state, out, n));
}

/* docker_id must be "" or 64 lowercase hex digits, state a known state, host_port 0..65535,
 * expires_at non-negative; the other fields of c but id are not read. */
int store_container_update(store *s, const store_container *c)
{
    if (!s || !c) return -EINVAL;
    if (!FIELD_OK(c->id, 0) || !FIELD_OK(c->docker_id, 1) || !FIELD_OK(c->state, 0) ||
        !FIELD_OK(c->url, 1))
        return -EINVAL;
    if (!docker_id_ok(c->docker_id) || !state_known(c->state, strlen(c->state)) ||
        c->host_port < 0 || c->host_port > PORT_MAX || c->expires_at < 0)
        return -EINVAL;
    return bump(s, s->ops->container_update(s->impl, c));
}

/* from and state are checked against the known states here, so that a typo in a caller is
 * -EINVAL and not a transition that can never happen (-EAGAIN forever). */
int store_container_set_state(store *s, const char *id, const char *from, const char *state)
{
    if (!from) from = "";
    if (!s || !str_ok(id, STORE_ID_MAX, 0) || !from_ok(from) || !state_ok(state)) return -EINVAL;
    return bump(s, s->ops->container_set_state(s->impl, id, from, state));
}

/* Deletes one row whatever its state; -ENOENT when there is none. */
int store_container_delete(store *s, const char *id)
{
    if (!s || !str_ok(id, STORE_ID_MAX, 0)) return -EINVAL;
    return bump(s, s->ops->container_delete(s->impl, id));
}

int store_exclusive(store *s, const char *key, int (*fn)(void *ctx), void *ctx)
{
    if (!s || !fn || !str_ok(key, 256, 0)) return -EINVAL;
    if (strcmp(s->backend, "postgresql") == 0) return pg_exclusive(s->impl, key, fn, ctx);
    return sqlite_exclusive(s->impl, key, fn, ctx);
}

uint64_t store_container_generation(store *s)
{
    return atomic_load(&s->container_gen);
}

/* Any output may be NULL when not wanted. A tenant without rows (or without a client row)
 * uses nothing: all zeros, not -ENOENT. */
int store_container_usage(store *s, const char *client_id, int *count, int *running,
                          int *memory_mb, double *cpus)
{
    int cnt, run, mem;
    double cpu;
    if (!s || !str_ok(client_id, STORE_ID_MAX, 0)) return -EINVAL;
    int ret = s->ops->container_usage(s->impl, client_id, &cnt, &run, &mem, &cpu);
    if (ret < 0) return ret;
    if (count) *count = cnt;
    if (running) *running = run;
    if (memory_mb) *memory_mb = mem;
    if (cpus) *cpus = cpu;
    return 0;
}

/* The backend makes the id on first call; out is left "" on error. */
int store_instance_id(store *s, char out[STORE_ID_MAX])
{
    if (out) out[0] = '\0';
    if (!s || !out) return -EINVAL;
    return counted(s->ops->instance_id(s->impl, out));
}

/* ---- the assistant: token accounts and commands ------------------------------------------ */

int store_tokens_renew(store_tokens *t, int64_t allowance, int64_t rollover_max, int64_t now,
                       int64_t period_start, int64_t period_end, int64_t *delta,
                       const char **kind)
{
    int64_t before = t->balance;
    if (now >= t->period_end) {
        int64_t kept = t->balance < rollover_max ? t->balance : rollover_max;
        t->balance = allowance + kept;
        t->used = 0;
        t->period_start = period_start;
        t->period_end = period_end;
        *kind = "period";
    } else if (t->allowance != allowance) {
        if (allowance > t->allowance) t->balance += allowance - t->allowance;
        *kind = "plan";
    } else {
        return 0;
    }
    t->allowance = allowance;
    *delta = t->balance - before;
    return 1;
}

int store_tokens_apply(store_tokens *t, int64_t delta, int64_t need, int64_t *applied)
{
    if (delta < 0) {
        if (t->balance < need) return -ENOSPC;
        int64_t take = -delta < t->balance ? -delta : t->balance;
        delta = -take;
        t->used += take;
    }
    t->balance += delta;
    *applied = delta;
    return 0;
}

static int risk_ok(const char *r)
{
    return r && (strcmp(r, "safe") == 0 || strcmp(r, "warning") == 0 ||
                 strcmp(r, "dangerous") == 0 || strcmp(r, "forbidden") == 0);
}

int store_tokens_account(store *s, const char *client_id, int64_t allowance, int64_t rollover_max,
                         int64_t now, int64_t period_start, int64_t period_end,
                         store_tokens *out)
{
    if (!s || !out || !str_ok(client_id, STORE_ID_MAX, 0) || allowance < 0 || rollover_max < 0 ||
        period_end <= period_start)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    return counted(s->ops->tokens_account(s->impl, client_id, allowance, rollover_max, now,
                                          period_start, period_end, out));
}

int store_tokens_add(store *s, const char *client_id, int64_t delta, int64_t need,
                     const char *kind, const char *ref, const char *note, int64_t now,
                     store_tokens *out)
{
    store_tokens tmp;
    if (!ref) ref = "";
    if (!note) note = "";
    if (!s || !str_ok(client_id, STORE_ID_MAX, 0) || !str_ok(kind, STORE_TOKEN_KIND_MAX, 0) ||
        !str_ok(ref, STORE_REF_MAX, 1) || !str_ok(note, STORE_NOTE_MAX, 1) || need < 0)
        return -EINVAL;
    if (!out) out = &tmp;
    memset(out, 0, sizeof(*out));
    return counted(s->ops->tokens_add(s->impl, client_id, delta, need, kind, ref, note, now, out));
}

/* Every field must be a terminated string; id, client_id, user_id, request and action
 * non-empty; risk one of the four levels. */
int store_command_add(store *s, const store_command *c)
{
    if (!s || !c || !FIELD_OK(c->id, 0) || !FIELD_OK(c->client_id, 0) ||
        !FIELD_OK(c->user_id, 0) || !FIELD_OK(c->request, 0) || !FIELD_OK(c->action, 0) ||
        !FIELD_OK(c->risk, 0) || !risk_ok(c->risk) || c->created_at < 0)
        return -EINVAL;
    return counted(s->ops->command_add(s->impl, c));
}

int store_command_get(store *s, const char *client_id, const char *id, store_command *out)
{
    if (!s || !out || !str_ok(client_id, STORE_ID_MAX, 0) || !str_ok(id, STORE_ID_MAX, 0))
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    return counted(s->ops->command_get(s->impl, client_id, id, out));
}

int store_command_release(store *s, const char *client_id, const char *id, int64_t claimed_at)
{
    if (!s || !str_ok(client_id, STORE_ID_MAX, 0) || !str_ok(id, STORE_ID_MAX, 0) ||
        claimed_at <= 0)
        return -EINVAL;
    return counted(s->ops->command_release(s->impl, client_id, id, claimed_at));
}

int store_command_claim(store *s, const char *client_id, const char *id, int64_t now)
{
    if (!s || !str_ok(client_id, STORE_ID_MAX, 0) || !str_ok(id, STORE_ID_MAX, 0) || now <= 0)
        return -EINVAL;
    return counted(s->ops->command_claim(s->impl, client_id, id, now));
}
