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
 * "postgres://" answer -ENOTSUP with "the PostgreSQL backend is not built yet" in err.
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
int store_user_set_disabled(store *s, const char *id, int disabled);
int store_user_delete(store *s, const char *id); /* revokes nothing itself */

int store_client_get(store *s, const char *id, store_client *out);

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

#endif
