/* GET /api/health and GET /health: the seed's shape, with a real database round trip and
 * the Engine probe's latest result (see probe.c). */
#define _POSIX_C_SOURCE 200809L
#include "api.h"
#include "app.h"
#include "probe.h"
#include "response.h"
#include "timeutil.h"

void api_health(http_req *q)
{
    app *a = http_req_app(q);
    int db_ok = store_ping(a->st) == 0;
    int docker_ok = probe_engine_ok(a);
    const char *status = !db_ok ? "unhealthy" : docker_ok ? "healthy" : "degraded";
    char ts[TIME_RFC3339_LEN];
    time_rfc3339(time_now(), ts, sizeof(ts));
    http_json(q, db_ok && docker_ok ? 200 : 503,
              json_pack("{s:s, s:s, s:{s:s, s:s}, s:s}", "status", status, "timestamp", ts,
                        "services", "database", db_ok ? "connected" : "error", "docker",
                        docker_ok ? "available" : "unavailable", "version", APP_VERSION));
}
