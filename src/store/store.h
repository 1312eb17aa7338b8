/* The domain-level storage interface. Callers speak of users, clients (tenants), revoked
 * tokens and audit rows, never of SQL; each backend (SQLite now, PostgreSQL later) sits
 * behind the same functions. Every function returns 0 or a negative errno:
 *   -ENOENT not found, -EEXIST unique constraint (email taken, name taken), -EBUSY database
 *   busy beyond busy_timeout, -EIO any other database error (logged), -EINVAL bad argument.
 * All functions are safe to call from many threads at once. */
#ifndef CLOUDYA_STORE_H
#define CLOUDYA_STORE_H
#include <stddef.h>
#include <stdint.h>

#define STORE_ID_MAX 40
#define STORE_EMAIL_MAX 254
#define STORE_NAME_MAX 512 /* bytes: 128 characters of up to 4 UTF-8 bytes */
#define STORE_HASH_MAX 160
#define STORE_ROLE_MAX 16
#define STORE_PLAN_MAX 24

typedef struct store store;

typedef struct store_user {
    char id[STORE_ID_MAX];
    char email[STORE_EMAIL_MAX + 1]; /* stored lowercase; unique */
    char name[STORE_NAME_MAX + 1];
    char role[STORE_ROLE_MAX];       /* "admin" | "client" */
    char client_id[STORE_ID_MAX];
    char password_hash[STORE_HASH_MAX]; /* libsodium crypto_pwhash_str (Argon2id) */
    int disabled;
    int64_t created_at; /* unix seconds */
} store_user;

typedef struct store_client {
    char id[STORE_ID_MAX];
    char name[STORE_NAME_MAX + 1];
    char plan[STORE_PLAN_MAX]; /* "free", "starter", "pro", "enterprise" */
    int quota_containers;
    int quota_memory_mb;
    double quota_cpus;
    int64_t created_at;
} store_client;

typedef struct store_audit {
    int64_t id;   /* assigned by the store */
    int64_t time; /* unix seconds */
    char actor[STORE_ID_MAX];         /* user id, "" when unknown */
    char client_id[STORE_ID_MAX];     /* tenant, "" when unknown */
    char action[48];                  /* e.g. "auth.login" */
    char target[STORE_EMAIL_MAX + 1]; /* what was acted on, e.g. the email tried */
    char ip[64];
    char result[16];                  /* "success" | "failure" | "denied" */
    char detail[256];
} store_audit;

/* Opens the database named by url ("sqlite:///abs/path.db", "sqlite://./rel/path.db") with
 * up to pool_size connections, and applies pending migrations. "postgresql://" and
 * "postgres://" URLs (libpq connection URIs, sslmode and all) open the PostgreSQL backend.
 * Any other failure fills err (errlen bytes) with a human sentence.
 * Also: -EINVAL for another scheme, a URL naming no file, or pool_size 0 (more than 64
 * is served by 64 connections);
 * -EPROTO when the database's schema is newer than this binary knows (it is not touched).
 * The file's parent directory is created 0700 when missing and the file is kept 0600. */
int store_open(const char *url, unsigned pool_size, store **out, char *err, size_t errlen);

/* Closes every connection; waits for none (callers stop using the store first). */
void store_close(store *s);

/* A real round trip to the database (SELECT 1). */
int store_ping(store *s);

/* "sqlite" or "postgresql". */
const char *store_backend(const store *s);

/* The highest applied migration version, or a negative errno. */
int store_schema_version(store *s);

/* Creates a client and its first user in one transaction. The caller fills every field
 * but created_at, which the store sets in both. -EEXIST when the email is taken. */
int store_client_user_create(store *s, store_client *c, store_user *u);

int store_user_get(store *s, const char *id, store_user *out);
/* The per-request token check in one round trip: fills out with the user of a token and
 * returns 0, -ENOENT when the user does not exist, or -EKEYREVOKED when jti is revoked. */
int store_session_user(store *s, const char *user_id, const char *jti, store_user *out);
int store_user_get_by_email(store *s, const char *email, store_user *out);
int store_user_count_admins(store *s, int64_t *n);
/* Every client (tenant), for the admin stats. */
int store_client_count(store *s, int64_t *n);
/* Any non-zero disabled is stored as 1. -ENOENT when no such user exists; -EPERM (nothing
 * written) when the user is the last enabled admin: see store_user_set_access. */
int store_user_set_disabled(store *s, const char *id, int disabled);
int store_user_delete(store *s, const char *id); /* revokes nothing itself */

int store_client_get(store *s, const char *id, store_client *out);

/* --- administration --------------------------------------------------------------------- */
#define STORE_LIST_MAX 1000 /* the largest limit the admin lists take */

/* Clients (tenants), oldest first (created_at, then id), at most limit (1..STORE_LIST_MAX).
 * *out is malloc'ed (free() it); when there is none it is NULL and *n is 0. */
int store_client_list(store *s, int limit, store_client **out, size_t *n);

/* Writes name, plan, quota_containers, quota_memory_mb and quota_cpus of client c->id (id
 * and created_at are not written). A quota below what the tenant already uses is accepted:
 * its containers stay, and store_container_reserve refuses new ones until usage is under it
 * again. -ENOENT when the client does not exist; -EINVAL for an empty plan or a negative or
 * non-finite quota. */
int store_client_update(store *s, const store_client *c);

/* Users, oldest first (created_at, then id), of tenant client_id ("" or NULL: of every
 * tenant), at most limit (1..STORE_LIST_MAX). password_hash is "" in every row: a list never
 * carries a hash out of the database. *out as in store_client_list. */
int store_user_list(store *s, const char *client_id, int limit, store_user **out, size_t *n);

/* Sets the role ("admin" or "client"; NULL or "": unchanged) and the disabled flag (0 or 1;
 * negative: unchanged) of user id in one atomic step, which never leaves the platform
 * without an enabled admin: when the user is the last enabled admin and the change would
 * demote or disable it, nothing is written and the answer is -EPERM, also when two such
 * changes race (across processes sharing the database too). -ENOENT when no such user
 * exists; -EINVAL for another role. A change to what is already there is 0. */
int store_user_set_access(store *s, const char *id, const char *role, int disabled);

/* store_user_set_access(s, id, role, -1): role is required here ("admin" or "client"). */
int store_user_set_role(store *s, const char *id, const char *role);

/* Records that token jti is revoked until expires_at (after which it is dead anyway). */
int store_token_revoke(store *s, const char *jti, int64_t expires_at);
/* 1 when revoked, 0 when not, negative errno on error. */
int store_token_is_revoked(store *s, const char *jti);
/* Deletes revocations whose token has expired before now. */
int store_token_purge_expired(store *s, int64_t now);

/* Appends one audit row (a->id and, when 0, a->time are set by the store). */
/* (a is const: the id and time are set on the stored row, not in *a.) */
int store_audit_add(store *s, const store_audit *a);
/* Newest first; client_id and action filter when non-empty; limit 1..1000.
 * *out is malloc'ed (free() it), *n rows. */
int store_audit_list(store *s, const char *client_id, const char *action, int limit,
                     store_audit **out, size_t *n);

/* --- containers ------------------------------------------------------------------------
 * One row per container the platform creates. The row is written (state "creating") before
 * the Engine is asked for anything, so a crash at any moment leaves a row that the
 * reconciler can finish or roll back. States: creating, created, running, stopped, exited,
 * removing, removed (gone from the Engine behind the platform's back), error. Every state
 * but "removed" counts against the tenant's quota. */
#define STORE_DOCKER_ID_MAX 65 /* 64 hex + NUL */
#define STORE_CNAME_MAX 64     /* a DNS label: 63 chars + NUL */
#define STORE_STYPE_MAX 32
#define STORE_IMAGE_MAX 256
#define STORE_STATE_MAX 16
#define STORE_URL_MAX 512
#define STORE_CONTAINERS_MAX 100000 /* list answers are capped here */

typedef struct store_container {
    char id[STORE_ID_MAX];            /* ours ("ctr" + 12 hex); the Docker name derives from it */
    char client_id[STORE_ID_MAX];
    char name[STORE_CNAME_MAX];       /* unique within the tenant among non-removed rows */
    char service_type[STORE_STYPE_MAX];
    char image[STORE_IMAGE_MAX];
    char docker_id[STORE_DOCKER_ID_MAX]; /* "" until the Engine has created it */
    char state[STORE_STATE_MAX];
    int host_port;                    /* 0 when none */
    char url[STORE_URL_MAX];          /* "" when none */
    int memory_mb;
    double cpus;
    int64_t created_at;               /* unix seconds; set by the store on reserve */
    int64_t updated_at;               /* set by the store on every write */
    int64_t expires_at;               /* 0 = never */
    char owner[STORE_ID_MAX];         /* the daemon that made the row (reserve sets it from
                                       * the caller's value); "" when unknown */
} store_container;

/* Which quota a reservation hit. */
enum store_quota_hit { STORE_QUOTA_NONE, STORE_QUOTA_CONTAINERS, STORE_QUOTA_MEMORY, STORE_QUOTA_CPUS };

/* Inserts c (state forced to "creating") if and only if the tenant c->client_id stays within
 * its quota (count of rows not "removed" < quota_containers, sum of memory_mb + c->memory_mb
 * <= quota_memory_mb, sum of cpus + c->cpus <= quota_cpus + 1e-9), atomically: concurrent
 * reservations never overshoot. A "removed" row with the same name is deleted first (the name
 * is free again). Returns 0; -EDQUOT with *hit set; -EEXIST when the name is taken; -ENOENT
 * when the client does not exist. The caller fills id, client_id, name, service_type, image,
 * memory_mb, cpus, expires_at and owner. */
int store_container_reserve(store *s, store_container *c, enum store_quota_hit *hit);

/* By our row id. */
int store_container_get(store *s, const char *id, store_container *out);

/* Resolves an API reference: a full Docker id, a prefix of at least 12 lowercase hex chars of
 * one (-ENOENT when it matches several), or a container name. client_id restricts the search
 * to one tenant; "" searches every tenant for ids and prefixes (admins) but names are always
 * looked up in name_client_id's tenant. Rows in state "creating" without a Docker id are
 * found by name only. */
int store_container_find(store *s, const char *client_id, const char *name_client_id,
                         const char *ref, store_container *out);

/* Rows of one tenant (client_id "" = all tenants), oldest first, at most
 * STORE_CONTAINERS_MAX; state "" = any state. *out is malloc'ed (free() it). */
int store_container_list(store *s, const char *client_id, const char *state,
                         store_container **out, size_t *n);

/* Writes docker_id, state, host_port, url and expires_at of the row c->id (updated_at is
 * set by the store). -ENOENT when the row is gone. */
int store_container_update(store *s, const store_container *c);

/* Sets the state of the row id, only when its current state is one of from ("" or NULL:
 * any), a comma-separated list such as "running,created". Returns 0, -ENOENT (no such row)
 * or -EAGAIN (the row's state is not in from). */
int store_container_set_state(store *s, const char *id, const char *from, const char *state);

int store_container_delete(store *s, const char *id);

/* What a tenant uses: rows not "removed" (count, memory, cpus) and running ones. */
int store_container_usage(store *s, const char *client_id, int *count, int *running,
                          int *memory_mb, double *cpus);

/* Runs fn(ctx) while holding a lock named key that every process sharing the database
 * respects (PostgreSQL: a transaction-level advisory lock; SQLite, which is not shared
 * between processes, runs fn directly). For short Engine-side work that must not race across
 * daemons, such as creating a tenant's network. fn must not call the store; it may run twice
 * if the connection breaks (make it idempotent). Returns fn's value, or a negative errno
 * when the lock cannot be taken. */
int store_exclusive(store *s, const char *key, int (*fn)(void *ctx), void *ctx);

/* Calls that failed on the database's side (I/O, busy, connection lost) since start, in this
 * process, for /metrics. */
uint64_t store_error_count(void);

/* A number that changes after every container write made through s (reserve, update,
 * set_state, delete): callers cache what they derive from container rows under it. */
uint64_t store_container_generation(store *s);

/* This database's instance id ("ins" + 12 hex), made on first call and stable after. It
 * tells this platform's containers from another platform's on a shared Engine. */
int store_instance_id(store *s, char out[STORE_ID_MAX]);

/* --- the assistant: token accounts and the commands it showed ----------------------------
 * A tenant's tokens pay for assistant requests. The account is made on first use; each change
 * of its balance is a row of the tenant's ledger written in the same transaction. */
#define STORE_TOKEN_KIND_MAX 16
#define STORE_REF_MAX 64
#define STORE_NOTE_MAX 256
#define STORE_REQUEST_MAX 16000 /* bytes: 4000 characters of up to 4 UTF-8 bytes */
#define STORE_ACTION_MAX 4096
#define STORE_RISK_MAX 16

typedef struct store_tokens {
    int64_t balance;      /* what is left to spend, never negative */
    int64_t allowance;    /* the plan's monthly tokens */
    int64_t used;         /* spent in the current period */
    int64_t period_start; /* unix seconds; the period is [start, end) */
    int64_t period_end;
} store_tokens;

/* The token account of client_id as of now, brought up to date in one transaction:
 *   - made on first use with balance = allowance and the period [period_start, period_end)
 *     (ledger kind "open");
 *   - when now >= its stored period_end, a new period starts: the given period, used = 0 and
 *     balance = allowance + min(balance left, rollover_max) (ledger kind "period");
 *   - when its allowance differs from allowance (the plan changed), the allowance is written
 *     and a larger allowance raises the balance by the difference (ledger kind "plan").
 * The caller passes the calendar period that contains now. -ENOENT when the client does not
 * exist; -EINVAL for a negative allowance or rollover or an empty period. */
int store_tokens_account(store *s, const char *client_id, int64_t allowance, int64_t rollover_max,
                         int64_t now, int64_t period_start, int64_t period_end,
                         store_tokens *out);

/* Adds delta to the balance of an existing account, atomically, with a ledger row (kind, ref
 * and note, which may be ""). A charge (delta < 0) is made only when the balance is at least
 * need (else -ENOSPC and nothing is written); it takes at most what is left (the balance never
 * goes under 0) and adds what it took to used. out (may be NULL) receives the account after.
 * -ENOENT when there is no account (see store_tokens_account). */
int store_tokens_add(store *s, const char *client_id, int64_t delta, int64_t need,
                     const char *kind, const char *ref, const char *note, int64_t now,
                     store_tokens *out);

typedef struct store_command {
    char id[STORE_ID_MAX];
    char client_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char risk[STORE_RISK_MAX];            /* "safe", "warning", "dangerous", "forbidden" */
    int64_t created_at;
    int64_t executed_at;                  /* 0 until it ran */
    char request[STORE_REQUEST_MAX + 1];
    char action[STORE_ACTION_MAX + 1];
} store_command;

/* Records a command the assistant showed (executed_at is stored as "not yet"). */
int store_command_add(store *s, const store_command *c);
/* Command id of tenant client_id; another tenant's is -ENOENT, like a missing one. */
int store_command_get(store *s, const char *client_id, const char *id, store_command *out);
/* Marks command id of client_id as executed at now, once: -EALREADY when it already ran,
 * -ENOENT when there is no such command in that tenant. */
int store_command_claim(store *s, const char *client_id, const char *id, int64_t now);
/* Undoes the claim made at claimed_at (the run could not start: every sandbox busy, the Engine
 * away), so that the command can be run again; a claim made at another time is left alone.
 * -ENOENT when no such claim exists. */
int store_command_release(store *s, const char *client_id, const char *id, int64_t claimed_at);

#endif
