/* Private to src/store/: the table of functions every storage backend provides. store.c
 * validates arguments and dispatches through it, so adding the PostgreSQL backend means one
 * more store_<backend>_open() and one more ops table; no caller of store.h changes.
 *
 * A backend function receives its own impl pointer and arguments that store.c has already
 * checked (non-NULL, NUL-terminated within their buffers, lengths and enumerations valid). */
#ifndef CLOUDYA_STORE_BACKEND_H
#define CLOUDYA_STORE_BACKEND_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* The one place store code logs; the lead swaps in the project's log module here later.
 * fmt must be a string literal and at least one argument must follow it. */
#define STORE_LOG_ERR(fmt, ...)                                                                    \
    fprintf(stderr, "level=error func=%s msg=\"" fmt "\"\n", __func__, __VA_ARGS__)

/* One entry per store.h function except store_open (which creates the object and so cannot
 * be reached through it) and store_backend (which reads store.backend). */
struct store_ops {
    void (*close)(void *impl);
    int (*ping)(void *impl);
    int (*schema_version)(void *impl);
    int (*client_user_create)(void *impl, store_client *c, store_user *u);
    int (*user_get)(void *impl, const char *id, store_user *out);
    int (*session_user)(void *impl, const char *user_id, const char *jti, store_user *out);
    int (*user_get_by_email)(void *impl, const char *email, store_user *out);
    int (*user_count_admins)(void *impl, int64_t *n);
    int (*client_count)(void *impl, int64_t *n);
    /* role is "" (unchanged), "admin" or "client"; disabled is -1 (unchanged), 0 or 1. The
     * backend refuses (-EPERM) what would leave no enabled admin, atomically. */
    int (*user_set_access)(void *impl, const char *id, const char *role, int disabled);
    int (*user_delete)(void *impl, const char *id);
    int (*client_get)(void *impl, const char *id, store_client *out);
    /* limit is 1..STORE_LIST_MAX; client_id is never NULL ("" means every tenant). */
    int (*client_list)(void *impl, int limit, store_client **out, size_t *n);
    int (*client_update)(void *impl, const store_client *c);
    int (*user_list)(void *impl, const char *client_id, int limit, store_user **out, size_t *n);
    int (*token_revoke)(void *impl, const char *jti, int64_t expires_at);
    int (*token_is_revoked)(void *impl, const char *jti);
    int (*token_purge_expired)(void *impl, int64_t now);
    int (*audit_add)(void *impl, const store_audit *a);
    /* client_id and action are never NULL here ("" means no filter); limit is 1..1000. */
    int (*audit_list)(void *impl, const char *client_id, const char *action, int limit,
                      store_audit **out, size_t *n);
    /* Containers. store.c has checked every field of c; hit is never NULL here. */
    int (*container_reserve)(void *impl, store_container *c, enum store_quota_hit *hit);
    int (*container_get)(void *impl, const char *id, store_container *out);
    /* client_id and name_client_id are never NULL; ref is 1..64 bytes. */
    int (*container_find)(void *impl, const char *client_id, const char *name_client_id,
                          const char *ref, store_container *out);
    /* client_id and state are never NULL ("" means no filter); state is a valid state. */
    int (*container_list)(void *impl, const char *client_id, const char *state,
                          store_container **out, size_t *n);
    int (*container_update)(void *impl, const store_container *c);
    /* from is never NULL ("" means any) and lists valid states only. */
    int (*container_set_state)(void *impl, const char *id, const char *from, const char *state);
    int (*container_delete)(void *impl, const char *id);
    /* Every output pointer is non-NULL here. */
    int (*container_usage)(void *impl, const char *client_id, int *count, int *running,
                           int *memory_mb, double *cpus);
    int (*instance_id)(void *impl, char out[STORE_ID_MAX]);
    /* The assistant's section; store.c has checked every argument. */
    int (*tokens_account)(void *impl, const char *client_id, int64_t allowance,
                          int64_t rollover_max, int64_t now, int64_t period_start,
                          int64_t period_end, store_tokens *out);
    int (*tokens_add)(void *impl, const char *client_id, int64_t delta, int64_t need,
                      const char *kind, const char *ref, const char *note, int64_t now,
                      store_tokens *out);
    int (*command_add)(void *impl, const store_command *c);
    int (*command_get)(void *impl, const char *client_id, const char *id, store_command *out);
    int (*command_claim)(void *impl, const char *client_id, const char *id, int64_t now);
    int (*command_release)(void *impl, const char *client_id, const char *id,
                           int64_t claimed_at);
};

/* The backends' store_exclusive (not in the ops table: it takes a callback). */
int sqlite_exclusive(void *impl, const char *key, int (*fn)(void *ctx), void *ctx);
int pg_exclusive(void *impl, const char *key, int (*fn)(void *ctx), void *ctx);

struct store {
    const struct store_ops *ops;
    void *impl;
    char backend[16]; /* "sqlite" | "postgresql" */
    _Atomic uint64_t container_gen; /* bumped after every container write */
};

/* Fills err (when err is non-NULL and errlen > 0) with a formatted sentence. */
void store_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Opens the SQLite database at path (the URL with "sqlite://" stripped) with pool_size
 * connections and migrates it. Returns 0 with *ops and *impl set, or a negative errno with a
 * sentence in err. */
int store_sqlite_open(const char *path, unsigned pool_size, const struct store_ops **ops,
                      void **impl, char *err, size_t errlen);

/* Opens the PostgreSQL database at url (a libpq connection URI, "postgresql://" or
 * "postgres://", with its parameters such as sslmode) with up to pool_size connections and
 * migrates it (under an advisory lock, so several daemons may start at once). Returns 0 with
 * *ops and *impl set, or a negative errno with a sentence in err that never contains the
 * password. */
int store_pg_open(const char *url, unsigned pool_size, const struct store_ops **ops,
                  void **impl, char *err, size_t errlen);

/* The arithmetic of the token accounts, shared by the backends (store.c), which run it inside
 * their transactions. store_tokens_renew brings account t up to date as store_tokens_account
 * describes: returns 1 when it changed t (*delta and *kind then say what to write to the
 * ledger), 0 when t is current. store_tokens_apply adds delta to t as store_tokens_add
 * describes: 0 with *applied set to what was really added, or -ENOSPC. */
int store_tokens_renew(store_tokens *t, int64_t allowance, int64_t rollover_max, int64_t now,
                       int64_t period_start, int64_t period_end, int64_t *delta,
                       const char **kind);
int store_tokens_apply(store_tokens *t, int64_t delta, int64_t need, int64_t *applied);

#endif
