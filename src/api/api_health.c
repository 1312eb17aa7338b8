/* GET /api/health and GET /health: the seed's shape, with a real database round trip and
 * the Engine probe's latest result (see probe.c). */
#define _POSIX_C_SOURCE 200809L
#include "api.h"
#include "app.h"
#include "probe.h"
#include "sampler.h"
#include "response.h"
#include "timeutil.h"
#include "xalloc.h"

#include <stdio.h>

/* Health is what load balancers poll, so its body is formatted directly rather than
 * through jansson (a tenth of the request's CPU time): every value is one of our own
 * constants or a timestamp, so nothing needs escaping. */
void api_health(http_req *q)
{
    app *a = http_req_app(q);
    int db_ok = store_ping(a->st) == 0;
    int docker_ok = probe_engine_ok(a);
    const char *status = !db_ok ? "unhealthy" : docker_ok ? "healthy" : "degraded";
    char ts[TIME_RFC3339_LEN];
    time_rfc3339(time_now(), ts, sizeof(ts));
    sampler_info si;
    sampler_info_get(&si);
    char *body = xmalloc(320);
    int n = snprintf(body, 320,
                     "{\"status\":\"%s\",\"timestamp\":\"%s\",\"services\":{\"database\":\"%s\","
                     "\"docker\":\"%s\",\"stats\":\"%s\"},\"version\":\"%s\"}",
                     status, ts, db_ok ? "connected" : "error",
                     docker_ok ? "available" : "unavailable", si.source, APP_VERSION);
    http_respond(q, db_ok && docker_ok ? 200 : 503, "application/json; charset=utf-8", body,
                 (size_t)n);
}
