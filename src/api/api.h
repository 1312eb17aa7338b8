/* The HTTP API: one file per resource, one route table (routes.c). */
#ifndef CLOUDYA_API_H
#define CLOUDYA_API_H
#include "http_server.h"
#include "json.h"
#include "router.h"
#include "store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Registers every endpoint on r. Returns 0 or a negative errno (a programming error). */
int api_routes(router *r);

void api_auth_register(http_req *q);
void api_auth_login(http_req *q);
void api_auth_session(http_req *q);
void api_auth_logout(http_req *q);
void api_auth_me(http_req *q);
void api_health(http_req *q);
/* The dashboard's files for any GET no route matches (JSON 404 under /api/). */
void api_web(http_req *q);
void api_catalog(http_req *q);
void api_containers_list(http_req *q);
void api_containers_create(http_req *q);
void api_containers_get(http_req *q);
void api_containers_start(http_req *q);
void api_containers_stop(http_req *q);
void api_containers_restart(http_req *q);
void api_containers_delete(http_req *q);
void api_containers_logs(http_req *q);
void api_admin_unrecorded(http_req *q);
void api_containers_stats(http_req *q);
void api_containers_stats_history(http_req *q);
void api_tenant_stats_history(http_req *q);
void api_admin_stats(http_req *q);

/* --- administration (api_admin.c): tenants, users and the audit log, for admins only ------
 * Every handler answers 401 without a valid token, 403 forbidden for a client's token and
 * 503 database_unavailable when the store fails; the lists take ?limit= (1..1000, else 400).
 * GET /api/admin/clients: [{id, name, plan, quota, usage, createdAt}], oldest first
 * (?limit= default 500). */
void api_admin_clients_list(http_req *q);
/* GET /api/admin/clients/:id: one client in the list's shape; 404 not_found. */
void api_admin_clients_get(http_req *q);
/* PATCH /api/admin/clients/:id {name?, plan?, quota?: {containers?, memoryMb?, cpus?}}:
 * the updated client; 400 for a bad body (413 over API_ADMIN_BODY_MAX), 404 not_found.
 * Audited as admin.client.update with the changes. */
void api_admin_clients_update(http_req *q);
/* GET /api/admin/users[?clientId=]: [{id, email, name, role, clientId, disabled,
 * createdAt}], oldest first (?limit= default 500); never a password hash. */
void api_admin_users_list(http_req *q);
/* PATCH /api/admin/users/:id {role?, disabled?}: the updated user; 409 conflict for the
 * caller's own demotion or disabling and for the platform's last enabled admin; 404.
 * Audited as admin.user.update (refusals too, as "denied"). */
void api_admin_users_update(http_req *q);
/* GET /api/admin/audit[?clientId=&action=]: the audit log, newest first (?limit= default
 * 100): [{id, time, actor, clientId, action, target, ip, result, detail}]. */
void api_admin_audit_list(http_req *q);

/* The admin PATCH bodies, parsed apart from HTTP so that the fuzzer can drive them. */
#define API_ADMIN_BODY_MAX 4096 /* bytes: the largest valid body is well under 1 KiB */
#define API_QUOTA_CONTAINERS_MAX 100000
#define API_QUOTA_MEMORY_MB_MAX 16777216
#define API_QUOTA_CPUS_MAX 4096

typedef struct api_client_patch {
    int has_name, has_plan, has_containers, has_memory_mb, has_cpus; /* what changes */
    char name[STORE_NAME_MAX + 1]; /* 1..128 characters, no control characters */
    char plan[STORE_PLAN_MAX];     /* free | starter | pro | enterprise */
    int containers;                /* 0..API_QUOTA_CONTAINERS_MAX */
    int memory_mb;                 /* 0..API_QUOTA_MEMORY_MB_MAX */
    double cpus;                   /* 0..API_QUOTA_CPUS_MAX, finite */
    int64_t credit_tokens;         /* 0 (none) or 1..BILLING_CREDIT_MAX tokens to add */
} api_client_patch;

typedef struct api_user_patch {
    char role[STORE_ROLE_MAX]; /* "" (unchanged), "admin" or "client" */
    int disabled;              /* -1 (unchanged), 0 or 1 */
} api_user_patch;

/* Parses a PATCH /api/admin/clients/:id body: one JSON object naming at least one of name,
 * plan, quota (which names at least one of its three) and creditTokens, nothing else. Returns 0 with p
 * filled; -EINVAL with e's code (invalid_json or invalid_field) and a sentence naming the
 * field; -EMSGSIZE (code too_large) for more than API_ADMIN_BODY_MAX bytes, before parsing. */
int api_admin_client_patch_parse(const char *body, size_t len, api_client_patch *p,
                                 json_err *e);
/* The same for PATCH /api/admin/users/:id: {role?, disabled?}, at least one. */
int api_admin_user_patch_parse(const char *body, size_t len, api_user_patch *p, json_err *e);

/* The assistant (api_assistant.c). */
void api_command(http_req *q);
void api_tokens_info(http_req *q);

void api_ws(http_req *q);
void api_ws_ticket(http_req *q);
void api_metrics(http_req *q);

/* Adds "stats" (the latest sample or null) to every row of a container list. */
void api_stats_attach(json_t *rows);

/* The live channel's machinery: the Engine events follower, the stats sampler and the
 * sessions' housekeeping. api_live_start needs the app ready (store, Engine, instance id).
 * Returns 0 or a negative errno. */
struct app;
int api_live_start(struct app *a);
void api_live_stop(void);
/* Closes the open live sessions of token jti (called by logout). */
void api_live_revoked(const char *jti);

typedef struct api_live_stats {
    size_t sessions;
    size_t log_followers;
    uint64_t slow_closed;   /* sessions cut off because they did not read */
    uint64_t messages_sent;
    uint64_t bad_messages;  /* error messages sent back */
    int events_connected;
} api_live_stats;
void api_live_info(api_live_stats *out);

/* The observe hook of the HTTP server (see http_server_opts): counts answers for /metrics. */
void api_metrics_observe(void *ctx, const char *method, const char *pattern, int status,
                         int64_t usec);

/* Waits up to timeout_ms for log followers to notice their streams closed. */
void api_containers_shutdown(int timeout_ms);

#endif
