/* The stats collector: one thread that reads, once a second, the kernel's figures for every
 * running container this platform manages (cgroup files and the container's network
 * namespace: see cgroup.h), keeps the latest sample and a history per container and per
 * tenant (history.h), and hands each sample to a publisher (the live channel). Answers to
 * the API are copies taken under a read lock: they never wait for the Engine.
 *
 * Source: "cgroup" reads the files (the default when they are readable); "engine" asks the
 * Engine's one-shot stats for each container instead (a remote Engine, or cgroup files out
 * of reach), which costs an Engine call per container per tick. CLOUDYA_STATS_SOURCE=auto
 * picks per container; health says which is in use.
 *
 * Which containers: every record with a Docker id, re-read from the store every few seconds
 * and at once when an Engine event says a container started or stopped. A container's
 * history lives as long as its record. */
#ifndef CLOUDYA_SAMPLER_H
#define CLOUDYA_SAMPLER_H
#include "app.h"
#include "history.h"

#include <jansson.h>
#include <stdint.h>

#define SAMPLER_REFRESH_S 5 /* the store is re-read this often */

/* One sample, as the API shows it. */
typedef struct sampler_stats {
    int64_t time_ms;        /* wall clock when it was read */
    double cpu;             /* percent, 100 = one core busy (as `docker stats`) */
    uint64_t mem_usage;     /* bytes, without inactive file cache (as `docker stats`) */
    uint64_t mem_limit;     /* bytes; the host's memory when unlimited */
    uint64_t rx, tx;        /* network bytes since the container started */
    uint64_t blk_read, blk_write;
    uint64_t pids, pids_limit;
} sampler_stats;

/* What the sampler knows of one container, for /metrics. */
typedef struct sampler_view {
    const char *docker_id;
    const char *client_id;
    const char *name;
    const char *service_type;
    const sampler_stats *stats;
} sampler_view;

/* Called on the sampler thread after every sample of a running container. */
typedef void (*sampler_publish_fn)(void *ctx, const char *docker_id, const char *client_id,
                                   const sampler_stats *s);

/* Starts the thread (the first samples arrive within about two seconds). publish may be
 * NULL. Returns 0 or a negative errno. */
int sampler_start(app *a, sampler_publish_fn publish, void *ctx);
void sampler_stop(void);

/* The latest sample of a container. Returns 0; -ENOENT when there is none (not running, or
 * started less than a tick ago); -EAGAIN when the sampler is not running. */
int sampler_latest(const char *docker_id, sampler_stats *out);

/* The container's (or, with sampler_tenant_history, the tenant's summed) history over the
 * last range_s seconds: *points is a new array of {t, cpu, memory, rxBytes, txBytes} (t an
 * RFC 3339 time, bytes during the step) and *step_s the resolution. Returns 0 (an empty array
 * when nothing was recorded) or -ENOENT when the sampler does not know the container. */
int sampler_history(const char *docker_id, int64_t range_s, json_t **points, int *step_s);
int sampler_tenant_history(const char *client_id, int64_t range_s, json_t **points,
                           int *step_s);

/* The seed's stats shape: {cpu: {usage, cores}, memory: {usage, limit, percent,
 * usageFormatted, limitFormatted}, network: {rxBytes, txBytes, rxFormatted, txFormatted},
 * blockIO: {readBytes, writeBytes}, pids: {current, limit}, timestamp}. New reference. */
json_t *sampler_stats_json(const sampler_stats *s);

/* "128 MB" as the seed writes sizes: binary units, no decimals from 10 up, one below. */
void sampler_format_bytes(uint64_t n, char *out, size_t cap);

/* Calls fn for every container with a sample, under the read lock (fn must be quick and
 * must not call the sampler). */
void sampler_each(void (*fn)(void *ctx, const sampler_view *v), void *ctx);

/* The host: CPU busy percent over the last tick, and the number of online CPUs. */
int sampler_host_cpu(double *percent, int *ncpu);

/* A container started, stopped or went away (from the Engine's events): it is re-read on
 * the next tick instead of within SAMPLER_REFRESH_S. */
void sampler_notify(const char *docker_id);

/* For health and /metrics. */
typedef struct sampler_info {
    int running;              /* the thread is up */
    const char *source;       /* "cgroup", "engine", "mixed", or "none" yet */
    size_t tracked;           /* containers known */
    size_t sampled;           /* sampled in the last tick */
    size_t from_engine;       /* of which through the Engine */
    uint64_t ticks;
    double last_tick_s;       /* wall time the last tick took */
    double cpu_s;             /* CPU time the sampler thread used since start */
    int64_t last_tick_ms;     /* wall clock of the last tick, 0 = none */
    size_t memory_bytes;      /* history and tables */
} sampler_info;
void sampler_info_get(sampler_info *out);

#endif
