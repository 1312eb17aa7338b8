/* The HTTP API: one file per resource, one route table (routes.c). */
#ifndef CLOUDYA_API_H
#define CLOUDYA_API_H
#include "http_server.h"
#include "router.h"

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
