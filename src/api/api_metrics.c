/* GET /metrics: Prometheus text exposition of the daemon (answers by route and status,
 * latency, store and Engine failures, the process) and of every running container (CPU,
 * memory, network, block I/O, pids with client_id, service_type, name and container_id
 * labels). Protected by CLOUDYA_METRICS_TOKEN (a bearer token) when set, otherwise answered
 * to loopback clients only. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"
#include "app.h"
#include "buf.h"
#include "docker.h"
#include "log.h"
#include "prom.h"
#include "response.h"
#include "sampler.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define METRICS_BODY_MAX (64 * 1024 * 1024)
#define ROUTE_SERIES_MAX 1024

static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5, 10};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static prom_counter_set *requests;
static prom_histogram_set *latency;
static time_t started;

static void init(void)
{
    static const char *const req_labels[] = {"method", "route", "status"};
    static const char *const lat_labels[] = {"route"};
    requests = prom_counter_set_new(3, req_labels, ROUTE_SERIES_MAX);
    latency = prom_histogram_set_new(1, lat_labels, ROUTE_SERIES_MAX, latency_bounds,
                                     sizeof(latency_bounds) / sizeof(latency_bounds[0]));
    started = time(NULL);
}

/* Called for every answer: the route pattern, never the raw path, keeps the series few. */
void api_metrics_observe(void *ctx, const char *method, const char *pattern, int status,
                         int64_t usec)
{
    (void)ctx;
    pthread_once(&once, init);
    char code[8];
    snprintf(code, sizeof(code), "%d", status);
    /* Only the methods we route: a client's made-up method must not make new series. */
    static const char *const known[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
                                        "OPTIONS"};
    const char *m = "other";
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(method, known[i]) == 0)
            m = known[i];
    const char *r = pattern[0] != '\0' ? pattern : "unmatched";
    const char *v[] = {m, r, code};
    prom_counter_set_add(requests, v, 1);
    const char *lv[] = {r};
    prom_histogram_set_observe(latency, lv, (double)usec / 1e6);
}

/* 1 when the peer is on this host. */
static int loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
           strncmp(ip, "::ffff:127.", 11) == 0;
}

static int allowed(http_req *q)
{
    app *a = http_req_app(q);
    const char *want = a->cfg.metrics_token;
    if (want[0] == '\0') {
        if (loopback(http_req_ip(q)))
            return 1;
        http_error(q, 403, "forbidden",
                   "/metrics answers only on this host unless CLOUDYA_METRICS_TOKEN is set");
        return 0;
    }
    const char *h = http_req_header(q, "Authorization");
    size_t n = strlen(want);
    if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0 && strlen(h + 7) == n &&
        sodium_memcmp(h + 7, want, n) == 0)
        return 1;
    http_resp_header(q, "WWW-Authenticate", "Bearer");
    http_error(q, 401, "unauthenticated", "/metrics needs Authorization: Bearer <metrics token>");
    return 0;
}

static void gauge(buf *b, const char *name, const char *help, double v)
{
    prom_family(b, name, "gauge", help);
    prom_sample(b, name, NULL, v);
}

static void counter(buf *b, const char *name, const char *help, double v)
{
    prom_family(b, name, "counter", help);
    prom_sample(b, name, NULL, v);
}

/* The containers' families, one pass over the sampler per family. */
struct cwrite {
    buf *b;
    int which;
};

static void container_sample(void *ctx, const sampler_view *v)
{
    struct cwrite *w = ctx;
    const char *labels[] = {"client_id",    v->client_id, "service_type", v->service_type,
                            "name",         v->name,      "container_id", v->docker_id,
                            NULL};
    const sampler_stats *s = v->stats;
    static const char *const names[] = {
        "cloudya_container_cpu_percent",
        "cloudya_container_memory_usage_bytes",
        "cloudya_container_memory_limit_bytes",
        "cloudya_container_network_receive_bytes_total",
        "cloudya_container_network_transmit_bytes_total",
        "cloudya_container_blkio_read_bytes_total",
        "cloudya_container_blkio_write_bytes_total",
        "cloudya_container_pids",
    };
    double val[] = {s->cpu,
                    (double)s->mem_usage,
                    (double)s->mem_limit,
                    (double)s->rx,
                    (double)s->tx,
                    (double)s->blk_read,
                    (double)s->blk_write,
                    (double)s->pids};
    prom_sample(w->b, names[w->which], labels, val[w->which]);
}

static void containers(buf *b)
{
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"cloudya_container_cpu_percent", "gauge",
         "CPU use over the last second, percent of one core (as docker stats)."},
        {"cloudya_container_memory_usage_bytes", "gauge",
         "Memory in use without inactive file cache (as docker stats)."},
        {"cloudya_container_memory_limit_bytes", "gauge", "Memory limit."},
        {"cloudya_container_network_receive_bytes_total", "counter",
         "Bytes received since the container started."},
        {"cloudya_container_network_transmit_bytes_total", "counter",
         "Bytes sent since the container started."},
        {"cloudya_container_blkio_read_bytes_total", "counter", "Bytes read from block devices."},
        {"cloudya_container_blkio_write_bytes_total", "counter",
         "Bytes written to block devices."},
        {"cloudya_container_pids", "gauge", "Processes and threads in the container."},
    };
    for (int i = 0; i < (int)(sizeof(fam) / sizeof(fam[0])); i++) {
        prom_family(b, fam[i].name, fam[i].type, fam[i].help);
        struct cwrite w = {b, i};
        sampler_each(container_sample, &w);
    }
}

static void process(buf *b)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long size = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%llu %llu", &size, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    gauge(b, "process_resident_memory_bytes", "Resident memory of cloudyad.",
          (double)rss * (double)page);
    gauge(b, "process_virtual_memory_bytes", "Virtual memory of cloudyad.",
          (double)size * (double)page);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    counter(b, "process_cpu_seconds_total", "CPU time used by cloudyad.", cpu);
    gauge(b, "process_start_time_seconds", "When cloudyad started (unix time).",
          (double)started);
}

void api_metrics(http_req *q)
{
    if (!allowed(q))
        return;
    pthread_once(&once, init);
    buf b;
    buf_init(&b, METRICS_BODY_MAX);
    prom_family(&b, "cloudya_build_info", "gauge", "The running version.");
    const char *bl[] = {"version", APP_VERSION, NULL};
    prom_sample(&b, "cloudya_build_info", bl, 1);
    prom_family(&b, "cloudya_http_requests_total", "counter",
                "Answers by method, route pattern and status.");
    prom_counter_set_write(&b, "cloudya_http_requests_total", requests);
    prom_family(&b, "cloudya_http_request_duration_seconds", "histogram",
                "Time from a request's arrival to its answer being queued, by route.");
    prom_histogram_set_write(&b, "cloudya_http_request_duration_seconds", latency);
    counter(&b, "cloudya_store_errors_total", "Database calls that failed on the database side.",
            (double)store_error_count());
    counter(&b, "cloudya_engine_errors_total",
            "Docker Engine calls that failed (unreachable, timeout, 5xx).",
            (double)docker_error_count());

    sampler_info si;
    sampler_info_get(&si);
    gauge(&b, "cloudya_sampler_containers", "Containers the stats sampler knows.",
          (double)si.tracked);
    gauge(&b, "cloudya_sampler_sampled", "Containers sampled in the last tick.",
          (double)si.sampled);
    gauge(&b, "cloudya_sampler_engine_sampled",
          "Containers sampled through the Engine (not cgroup files) in the last tick.",
          (double)si.from_engine);
    counter(&b, "cloudya_sampler_ticks_total", "Sampler ticks since start.", (double)si.ticks);
    gauge(&b, "cloudya_sampler_tick_seconds", "Wall time the last tick took.", si.last_tick_s);
    counter(&b, "cloudya_sampler_cpu_seconds_total", "CPU time of the sampler thread.",
            si.cpu_s);
    gauge(&b, "cloudya_sampler_memory_bytes", "Memory held by the stats history and tables.",
          (double)si.memory_bytes);

    api_live_stats ls;
    api_live_info(&ls);
    gauge(&b, "cloudya_ws_sessions", "Open live-channel WebSockets.", (double)ls.sessions);
    gauge(&b, "cloudya_ws_log_followers", "Log streams followed for live-channel clients.",
          (double)ls.log_followers);
    counter(&b, "cloudya_ws_slow_disconnects_total",
            "Live-channel clients cut off because they did not read.", (double)ls.slow_closed);
    counter(&b, "cloudya_ws_messages_sent_total", "Messages queued to live-channel clients.",
            (double)ls.messages_sent);
    counter(&b, "cloudya_ws_errors_sent_total", "Error messages sent to live-channel clients.",
            (double)ls.bad_messages);
    gauge(&b, "cloudya_engine_events_connected",
          "1 while the Engine's event stream is followed.", ls.events_connected);
    process(&b);
    containers(&b);
    if (b.failed) {
        buf_free(&b);
        http_error(q, 500, "internal", "the metrics are larger than %d bytes", METRICS_BODY_MAX);
        return;
    }
    size_t len;
    char *body = buf_steal(&b, &len);
    http_respond(q, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
}
