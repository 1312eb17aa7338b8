/* Container stats and history, the tenant's history, and the admin's platform stats. Every
 * answer is a copy of what the sampler already holds: nothing here waits for the Engine. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"
#include "api_common.h"
#include "app.h"
#include "log.h"
#include "response.h"
#include "sampler.h"
#include "str.h"
#include "sysload.h"
#include "timeutil.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int64_t seconds;
} ranges[] = {{"15m", 900}, {"1h", 3600}, {"24h", 86400}, {"7d", 7 * 86400}};

/* ?range= as seconds; answers 400 itself and returns -EINVAL for anything else. */
static int parse_range(http_req *q, const char **name, int64_t *secs)
{
    const char *r = http_req_query(q, "range");
    if (r == NULL)
        r = "15m";
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (strcmp(r, ranges[i].name) == 0) {
            *name = ranges[i].name;
            *secs = ranges[i].seconds;
            return 0;
        }
    }
    http_error(q, 400, "invalid_field", "range must be one of 15m, 1h, 24h, 7d");
    return -EINVAL;
}

/* GET /api/containers/:id/stats: the latest sample, at most a second old. */
void api_containers_stats(http_req *q)
{
    caller c;
    store_container ct;
    if (api_container_target(q, &c, &ct) != 0)
        return;
    if (strcmp(ct.state, "running") != 0) {
        http_error(q, 409, "not_running", "container %s is not running (%s): start it first",
                   ct.name, ct.state);
        return;
    }
    sampler_stats s;
    int rc = sampler_latest(ct.docker_id, &s);
    if (rc != 0) {
        http_resp_header(q, "Retry-After", "1");
        http_error(q, 503, "stats_pending",
                   "no sample of container %s yet: the first one comes within two seconds of "
                   "its start",
                   ct.name);
        return;
    }
    http_json(q, 200, sampler_stats_json(&s));
}

typedef int (*history_fn)(const char *key, int64_t range_s, json_t **points, int *step_s);

/* Reads ?range=, asks fn for key's history and answers {<field>: id, range, step, points};
 * a series the sampler does not know (not sampled yet) is an empty list. */
static void answer_history(http_req *q, history_fn fn, const char *key, const char *field,
                           const char *id)
{
    const char *name;
    int64_t secs;
    if (parse_range(q, &name, &secs) != 0)
        return;
    json_t *points = NULL;
    int step = 0;
    if (key[0] == '\0' || fn(key, secs, &points, &step) != 0) {
        points = json_array();
        history_tier_for(secs, &step);
    }
    http_json(q, 200, json_pack("{s:s, s:s, s:i, s:o}", field, id, "range", name, "step", step,
                                "points", points));
}

/* GET /api/containers/:id/stats/history?range=15m|1h|24h|7d. */
void api_containers_stats_history(http_req *q)
{
    caller c;
    store_container ct;
    if (api_container_target(q, &c, &ct) == 0)
        answer_history(q, sampler_history, ct.docker_id, "containerId",
                       ct.docker_id[0] ? ct.docker_id : ct.id);
}

/* GET /api/stats/history?range=: the caller's tenant summed over its running containers
 * (an admin may name another tenant with ?clientId=). */
void api_tenant_stats_history(http_req *q)
{
    caller c;
    if (api_authenticate(q, &c) != 0)
        return;
    const char *tenant = c.user.client_id;
    const char *want = http_req_query(q, "clientId");
    if (want != NULL && strcmp(c.user.role, "admin") == 0) {
        if (strlen(want) >= STORE_ID_MAX) {
            http_error(q, 400, "invalid_field", "clientId is too long");
            return;
        }
        tenant = want;
    }
    answer_history(q, sampler_tenant_history, tenant, "clientId", tenant);
}

/* Adds "stats" (the latest sample, or null) to every row of a list answer. */
void api_stats_attach(json_t *rows)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *id = json_string_value(json_object_get(row, "id"));
        const char *status = json_string_value(json_object_get(row, "status"));
        sampler_stats s;
        if (id != NULL && status != NULL && strcmp(status, "running") == 0 &&
            sampler_latest(id, &s) == 0)
            json_object_set_new(row, "stats", sampler_stats_json(&s));
        else
            json_object_set_new(row, "stats", json_null());
    }
}

static double round2(double v)
{
    return round(v * 100) / 100;
}

/* GET /api/admin/stats: the seed's shape with the platform's real figures. activeClients
 * counts tenants with at least one running container; systemLoad is the host's CPU busy
 * percent over the last second, memory in use (MemTotal - MemAvailable) and the data
 * directory's disk, all in percent. */
void api_admin_stats(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    if (api_authenticate(q, &c) != 0)
        return;
    if (strcmp(c.user.role, "admin") != 0) {
        http_error(q, 403, "forbidden", "admin stats are for administrators");
        return;
    }
    store_container *rows = NULL;
    size_t n = 0;
    int64_t clients = 0;
    int rc = store_container_list(a->st, "", "", &rows, &n);
    if (rc == 0)
        rc = store_client_count(a->st, &clients);
    if (rc != 0) {
        free(rows);
        log_warnx("admin stats: database error %d", rc);
        http_error(q, 503, "database_unavailable", "the database is unavailable; try again");
        return;
    }
    size_t total = 0, running = 0, active = 0;
    json_t *seen = json_object();
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].state, "removed") == 0)
            continue;
        total++;
        if (strcmp(rows[i].state, "running") == 0) {
            running++;
            if (json_object_get(seen, rows[i].client_id) == NULL) {
                json_object_set_new(seen, rows[i].client_id, json_true());
                active++;
            }
        }
    }
    json_decref(seen);
    free(rows);
    double cpu = 0, mem = 0, disk = 0, load[3] = {0, 0, 0};
    int ncpu = 0;
    uint64_t mtotal = 0, mavail = 0, dtotal = 0, davail = 0;
    if (sampler_host_cpu(&cpu, &ncpu) != 0 || cpu < 0)
        cpu = 0;
    sysload_memory("/proc", &mtotal, &mavail, &mem);
    sysload_disk(a->cfg.data_dir, &dtotal, &davail, &disk);
    sysload_loadavg("/proc", load);
    char ts[TIME_RFC3339_LEN];
    time_rfc3339(time_now(), ts, sizeof(ts));
    http_json(q, 200,
              json_pack("{s:I, s:I, s:I, s:I, s:{s:f, s:f, s:f}, s:{s:i, s:[f, f, f], s:I, s:I,"
                        " s:I, s:I}, s:s}",
                        "totalContainers", (json_int_t)total, "runningContainers",
                        (json_int_t)running, "totalClients", (json_int_t)clients,
                        "activeClients", (json_int_t)active, "systemLoad", "cpu", round2(cpu),
                        "memory", round2(mem), "disk", round2(disk), "host", "cpus", ncpu,
                        "loadAverage", round2(load[0]), round2(load[1]), round2(load[2]),
                        "memoryTotal", (json_int_t)mtotal, "memoryAvailable",
                        (json_int_t)mavail, "diskTotal", (json_int_t)dtotal, "diskAvailable",
                        (json_int_t)davail, "timestamp", ts));
}
