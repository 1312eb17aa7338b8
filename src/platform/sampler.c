/* The stats collector (see sampler.h). The thread owns the entries' sampling state; the
 * fields the API reads (latest sample, history) change under the write lock, which is held
 * only to copy a sample in, never across a file read or an Engine call. */
#define _GNU_SOURCE /* pthread_rwlock, clock_nanosleep */
#include "sampler.h"

#include "cgroup.h"
#include "log.h"
#include "str.h"
#include "sysload.h"
#include "timeutil.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RELOCATE_S 5 /* a container whose cgroup vanished is looked up again this often */
#define APPLY_BATCH 32 /* new samples put in per hold of the write lock */

enum source { SRC_NONE, SRC_CGROUP, SRC_ENGINE };

struct entry {
    char docker_id[STORE_DOCKER_ID_MAX];
    char client_id[STORE_ID_MAX];
    char name[STORE_CNAME_MAX];
    char service_type[STORE_STYPE_MAX];
    int running;          /* the record says running */
    /* sampling state (the thread's own) */
    enum source src;
    int located;
    int64_t next_locate;  /* monotonic ms */
    cgroup_paths paths;
    cgroup_files files;   /* kept open while the container runs */
    cgroup_sample prev;
    int64_t prev_ns;      /* monotonic ns of prev; 0 = none */
    /* what readers see (under the lock) */
    int have_latest;
    sampler_stats latest;
    history *hist;
};

struct tenant {
    char client_id[STORE_ID_MAX];
    history *hist;
    double cpu, mem, rx, tx; /* this tick's sums */
    int keep;                /* refresh: still has records */
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct entry **entries; /* sorted by docker_id */
static size_t nentries;
static struct tenant **tenants; /* sorted by client_id */
static size_t ntenants;

static pthread_t thread;
static atomic_int stopping, started, refresh_wanted;
static app *the_app;
static sampler_publish_fn publisher;
static void *publisher_ctx;

/* Under lock too: */
static double host_cpu;
static int host_ncpu;
static struct {
    uint64_t ticks;
    double last_tick_s, cpu_s;
    int64_t last_tick_ms;
    size_t sampled, from_engine;
} info;

/* One tick's fresh samples, before they go in under the lock (the thread's own). */
struct fresh {
    struct entry *e;
    sampler_stats s;
    double drx, dtx;
};
static struct fresh *scratch;
static size_t scratch_cap;

static pthread_mutex_t notify_mu = PTHREAD_MUTEX_INITIALIZER;
#define NOTIFY_MAX 256
static char notified[NOTIFY_MAX][STORE_DOCKER_ID_MAX];
static size_t nnotified;

static int cmp_entry(const void *a, const void *b)
{
    return strcmp((*(struct entry *const *)a)->docker_id, (*(struct entry *const *)b)->docker_id);
}

static int cmp_tenant(const void *a, const void *b)
{
    return strcmp((*(struct tenant *const *)a)->client_id, (*(struct tenant *const *)b)->client_id);
}

/* Binary search in a table sorted by its rows' first member, a string (the Docker id of an
 * entry, the client id of a tenant). Call under the lock. */
static void *find_sorted(void *const *rows, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp((const char *)rows[mid], key);
        if (c == 0)
            return rows[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static struct entry *find_entry(const char *docker_id)
{
    return find_sorted((void *const *)entries, nentries, docker_id);
}

static struct tenant *find_tenant(const char *client_id)
{
    return find_sorted((void *const *)tenants, ntenants, client_id);
}

static void entry_free(struct entry *e)
{
    if (e != NULL) {
        cgroup_files_close(&e->files);
        history_free(e->hist);
    }
    free(e);
}

/* Re-reads the records: new containers get an entry, gone ones lose theirs (and their
 * history), every entry learns whether its record says running. The new tables are built
 * aside and swapped in under the write lock. */
static int refresh(app *a)
{
    store_container *rows = NULL;
    size_t n = 0;
    int rc = store_container_list(a->st, "", "", &rows, &n);
    if (rc != 0)
        return rc;
    struct entry **next = xcalloc(n + 1, sizeof(*next));
    size_t nn = 0;
    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < n; i++) {
        const store_container *c = &rows[i];
        if (c->docker_id[0] == '\0' || strcmp(c->state, "removed") == 0)
            continue;
        struct entry *e = find_entry(c->docker_id);
        if (e == NULL) {
            e = xcalloc(1, sizeof(*e));
            cgroup_files_init(&e->files);
            str_copy(e->docker_id, sizeof(e->docker_id), c->docker_id);
            e->hist = history_new();
        }
        next[nn++] = e;
    }
    pthread_rwlock_unlock(&lock);
    qsort(next, nn, sizeof(*next), cmp_entry);
    /* Duplicated Docker ids cannot happen (the store keeps them unique); be safe anyway. */
    size_t w = 0;
    for (size_t i = 0; i < nn; i++)
        if (w == 0 || strcmp(next[w - 1]->docker_id, next[i]->docker_id) != 0)
            next[w++] = next[i];
    nn = w;

    /* Tenants with at least one record keep (or get) their series. */
    struct tenant **tnext = xcalloc(n + 1, sizeof(*tnext));
    size_t tn = 0;
    pthread_rwlock_wrlock(&lock);
    for (size_t i = 0; i < n; i++) {
        const store_container *c = &rows[i];
        if (c->docker_id[0] == '\0' || strcmp(c->state, "removed") == 0)
            continue;
        struct entry key, *kp = &key;
        str_copy(key.docker_id, sizeof(key.docker_id), c->docker_id);
        struct entry **ep = bsearch(&kp, next, nn, sizeof(*next), cmp_entry);
        if (ep != NULL) {
            struct entry *e = *ep;
            str_copy(e->client_id, sizeof(e->client_id), c->client_id);
            str_copy(e->name, sizeof(e->name), c->name);
            str_copy(e->service_type, sizeof(e->service_type), c->service_type);
            int running = strcmp(c->state, "running") == 0;
            if (!running) {
                e->have_latest = 0;
                cgroup_files_close(&e->files); /* hold no cgroup or namespace of the stopped */
            }
            if (running && !e->running)
                e->located = 0; /* started again: its process is new */
            e->running = running;
        }
        int seen = 0;
        for (size_t k = 0; k < tn && !seen; k++)
            seen = strcmp(tnext[k]->client_id, c->client_id) == 0;
        if (!seen) {
            struct tenant *t = find_tenant(c->client_id);
            if (t == NULL) {
                t = xcalloc(1, sizeof(*t));
                str_copy(t->client_id, sizeof(t->client_id), c->client_id);
                t->hist = history_new();
            }
            t->keep = 1;
            tnext[tn++] = t;
        }
    }
    for (size_t i = 0; i < nentries; i++) {
        struct entry *kp = entries[i];
        if (bsearch(&kp, next, nn, sizeof(*next), cmp_entry) == NULL)
            entry_free(entries[i]);
    }
    for (size_t i = 0; i < ntenants; i++) {
        if (!tenants[i]->keep) {
            history_free(tenants[i]->hist);
            free(tenants[i]);
        }
    }
    for (size_t i = 0; i < tn; i++)
        tnext[i]->keep = 0;
    qsort(tnext, tn, sizeof(*tnext), cmp_tenant);
    free(entries);
    entries = next;
    nentries = nn;
    free(tenants);
    tenants = tnext;
    ntenants = tn;
    pthread_rwlock_unlock(&lock);
    free(rows);
    return 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t json_u64(json_t *j)
{
    if (json_is_integer(j) && json_integer_value(j) > 0)
        return (uint64_t)json_integer_value(j);
    return 0;
}

/* The Engine's one-shot stats mapped to a cgroup sample (the same rules as the docker CLI:
 * memory without inactive file cache, network summed over interfaces). */
static int engine_read(app *a, const char *docker_id, cgroup_sample *out)
{
    char path[160], err[DOCKER_ERR_MAX];
    snprintf(path, sizeof(path), "/containers/%s/stats?stream=false&one-shot=true", docker_id);
    json_t *j = NULL;
    int rc = docker_call(a->engine, "GET", path, NULL, &j, err, sizeof(err));
    if (rc != 0)
        return rc;
    memset(out, 0, sizeof(*out));
    json_t *cpu = json_object_get(json_object_get(j, "cpu_stats"), "cpu_usage");
    json_t *mem = json_object_get(j, "memory_stats");
    if (cpu == NULL || mem == NULL || json_object_get(mem, "usage") == NULL) {
        json_decref(j);
        return -ENOENT; /* a stopped container answers with empty figures */
    }
    out->cpu_ns = json_u64(json_object_get(cpu, "total_usage"));
    uint64_t usage = json_u64(json_object_get(mem, "usage"));
    json_t *ms = json_object_get(mem, "stats");
    uint64_t inactive = json_u64(json_object_get(ms, "total_inactive_file"));
    if (inactive == 0)
        inactive = json_u64(json_object_get(ms, "inactive_file"));
    out->mem_usage = inactive < usage ? usage - inactive : usage;
    out->mem_limit = json_u64(json_object_get(mem, "limit"));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(j, "networks"), k, v) {
        out->net_rx += json_u64(json_object_get(v, "rx_bytes"));
        out->net_tx += json_u64(json_object_get(v, "tx_bytes"));
        out->have_net = 1;
    }
    size_t i;
    json_array_foreach(json_object_get(json_object_get(j, "blkio_stats"),
                                       "io_service_bytes_recursive"), i, v) {
        const char *op = json_string_value(json_object_get(v, "op"));
        if (op == NULL)
            continue;
        if (strcasecmp(op, "read") == 0)
            out->blk_read += json_u64(json_object_get(v, "value"));
        else if (strcasecmp(op, "write") == 0)
            out->blk_write += json_u64(json_object_get(v, "value"));
    }
    out->pids = json_u64(json_object_get(json_object_get(j, "pids_stats"), "current"));
    out->pids_limit = json_u64(json_object_get(json_object_get(j, "pids_stats"), "limit"));
    json_decref(j);
    return 0;
}

/* Finds where to read e from: its init process's cgroups, unless the configuration says
 * engine or the files are out of reach (then the Engine, unless the configuration says
 * cgroup). */
static void locate(app *a, struct entry *e, int64_t now_ms)
{
    e->located = 0;
    e->prev_ns = 0;
    e->next_locate = now_ms + RELOCATE_S * 1000;
    cgroup_files_close(&e->files); /* they belong to the process found last time */
    const char *want = a->cfg.stats_source;
    if (strcmp(want, "engine") == 0) {
        e->src = SRC_ENGINE;
        e->located = 1;
        return;
    }
    char path[128], err[DOCKER_ERR_MAX];
    snprintf(path, sizeof(path), "/containers/%s/json", e->docker_id);
    json_t *j = NULL;
    if (docker_call(a->engine, "GET", path, NULL, &j, err, sizeof(err)) != 0)
        return;
    json_t *st = json_object_get(j, "State");
    int running = json_is_true(json_object_get(st, "Running"));
    int pid = (int)json_integer_value(json_object_get(st, "Pid"));
    json_decref(j);
    if (!running || pid <= 0)
        return;
    int rc = cgroup_locate("/proc", "/proc/self/mountinfo", pid, e->docker_id, &e->paths);
    if (rc == 0) {
        e->src = SRC_CGROUP;
        e->located = 1;
        return;
    }
    if (strcmp(want, "cgroup") == 0) {
        log_warnx("stats of %s: its cgroup cannot be read (%s) and CLOUDYA_STATS_SOURCE=cgroup",
                  e->docker_id, strerror(-rc));
        return;
    }
    log_debug("stats of %s through the Engine: cgroup %s", e->docker_id, strerror(-rc));
    e->src = SRC_ENGINE;
    e->located = 1;
}

/* Counter difference that survives a restart of the container (counters start again). */
static uint64_t delta(uint64_t prev, uint64_t cur)
{
    return cur >= prev ? cur - prev : cur;
}

/* Samples one running entry. Returns 1 when a new sample was stored into *out. */
static int sample(app *a, struct entry *e, int64_t now_ms, sampler_stats *out, double *drx,
                  double *dtx)
{
    if (!e->located) {
        if (now_ms < e->next_locate)
            return 0;
        locate(a, e, now_ms);
        if (!e->located)
            return 0;
    }
    cgroup_sample s;
    int rc = e->src == SRC_CGROUP ? cgroup_read_files(&e->paths, &e->files, &s)
                                  : engine_read(a, e->docker_id, &s);
    int64_t ns = mono_ns();
    if (rc != 0) {
        /* Stopped, restarted (a new process and maybe new cgroup), or the Engine is away. */
        e->located = 0;
        e->next_locate = 0;
        return 0;
    }
    if (e->prev_ns == 0) {
        e->prev = s;
        e->prev_ns = ns;
        return 0; /* CPU needs two samples */
    }
    *out = (sampler_stats){
        .time_ms = now_ms,
        .cpu = cgroup_cpu_percent(e->prev.cpu_ns, s.cpu_ns, (uint64_t)(ns - e->prev_ns)),
        .mem_usage = s.mem_usage,
        .mem_limit = s.mem_limit,
        .rx = s.net_rx,
        .tx = s.net_tx,
        .blk_read = s.blk_read,
        .blk_write = s.blk_write,
        .pids = s.pids,
        .pids_limit = s.pids_limit,
    };
    *drx = (double)delta(e->prev.net_rx, s.net_rx);
    *dtx = (double)delta(e->prev.net_tx, s.net_tx);
    e->prev = s;
    e->prev_ns = ns;
    return 1;
}

static void take_notified(void)
{
    pthread_mutex_lock(&notify_mu);
    size_t n = nnotified;
    nnotified = 0;
    char ids[NOTIFY_MAX][STORE_DOCKER_ID_MAX];
    memcpy(ids, notified, n * sizeof(ids[0]));
    pthread_mutex_unlock(&notify_mu);
    if (n == 0)
        return;
    atomic_store(&refresh_wanted, 1);
    /* Only this thread writes the sampling fields; the read lock keeps the table still. */
    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < n; i++) {
        struct entry *e = find_entry(ids[i]);
        if (e != NULL) {
            e->located = 0;
            e->next_locate = 0;
        }
    }
    pthread_rwlock_unlock(&lock);
}

/* One tick: every running container, then the tenants' sums, then the publisher. */
static void tick(app *a, sysload_cpu *host_prev)
{
    int64_t now_ms = time_mono_ms();
    struct timespec wts;
    clock_gettime(CLOCK_REALTIME, &wts);
    int64_t wall_ms = (int64_t)wts.tv_sec * 1000 + wts.tv_nsec / 1000000;
    int64_t wall_s = wts.tv_sec;

    sysload_cpu hc;
    double hcpu = -1;
    if (sysload_cpu_read("/proc", &hc) == 0) {
        if (host_prev->total != 0)
            hcpu = sysload_cpu_percent(host_prev, &hc);
        *host_prev = hc;
    }

    /* The entry list only changes on this thread (refresh), so walking it without the lock
     * is safe. Files are read first, then every new sample goes in under one write lock (a
     * lock per container cost more than the history), then the publisher runs unlocked. */
    size_t sampled = 0, from_engine = 0, stale = 0;
    if (scratch_cap < nentries) {
        free(scratch);
        scratch_cap = nentries + 64;
        scratch = xcalloc(scratch_cap, sizeof(*scratch));
    }
    for (size_t i = 0; i < nentries && !atomic_load(&stopping); i++) {
        struct entry *e = entries[i];
        if (!e->running)
            continue;
        struct fresh *f = &scratch[sampled];
        double drx = 0, dtx = 0;
        if (!sample(a, e, now_ms, &f->s, &drx, &dtx)) {
            stale += !e->located && e->have_latest;
            continue;
        }
        f->e = e;
        f->s.time_ms = wall_ms;
        f->drx = drx;
        f->dtx = dtx;
        sampled++;
        from_engine += e->src == SRC_ENGINE;
    }
    pthread_rwlock_wrlock(&lock);
    for (size_t i = 0; stale > 0 && i < nentries; i++)
        if (!entries[i]->located)
            entries[i]->have_latest = 0;
    for (size_t i = 0; i < ntenants; i++)
        tenants[i]->cpu = tenants[i]->mem = tenants[i]->rx = tenants[i]->tx = 0;
    struct tenant *t = NULL;
    for (size_t i = 0; i < sampled; i++) {
        if (i > 0 && i % APPLY_BATCH == 0) {
            /* Let waiting readers in: the lock is never held for long. */
            pthread_rwlock_unlock(&lock);
            pthread_rwlock_wrlock(&lock);
        }
        struct fresh *f = &scratch[i];
        struct entry *e = f->e;
        e->latest = f->s;
        e->have_latest = 1;
        history_add(e->hist, wall_s, (float)f->s.cpu, (float)f->s.mem_usage, (float)f->drx,
                    (float)f->dtx);
        if (t == NULL || strcmp(t->client_id, e->client_id) != 0)
            t = find_tenant(e->client_id);
        if (t != NULL) {
            t->cpu += f->s.cpu;
            t->mem += (double)f->s.mem_usage;
            t->rx += f->drx;
            t->tx += f->dtx;
        }
    }
    for (size_t i = 0; i < ntenants; i++) {
        t = tenants[i];
        history_add(t->hist, wall_s, (float)t->cpu, (float)t->mem, (float)t->rx, (float)t->tx);
    }
    if (hcpu >= 0)
        host_cpu = hcpu;
    info.ticks++;
    info.sampled = sampled;
    info.from_engine = from_engine;
    info.last_tick_ms = wall_ms;
    pthread_rwlock_unlock(&lock);
    for (size_t i = 0; publisher != NULL && i < sampled; i++)
        publisher(publisher_ctx, scratch[i].e->docker_id, scratch[i].e->client_id,
                  &scratch[i].s);
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A container just started (an Engine event): find it and take its first reading now, so
 * that its first sample (which needs two readings) comes with the next tick, about a
 * second after the start rather than two. */
static void prime_notified(app *a)
{
    take_notified();
    if (atomic_exchange(&refresh_wanted, 0) && refresh(a) != 0)
        atomic_store(&refresh_wanted, 1);
    int64_t now_ms = time_mono_ms();
    for (size_t i = 0; i < nentries; i++) {
        struct entry *e = entries[i];
        if (e->running && !e->located && e->next_locate <= now_ms) {
            sampler_stats s;
            double drx, dtx;
            (void)sample(a, e, now_ms, &s, &drx, &dtx); /* locates, keeps the reading */
        }
    }
}

static void *sampler_main(void *arg)
{
    app *a = arg;
    sysload_cpu host_prev = {0, 0};
    int64_t last_refresh = 0;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&stopping)) {
        int64_t t0 = mono_ns();
        take_notified();
        int64_t now = time_mono_ms();
        if (atomic_exchange(&refresh_wanted, 0) || now - last_refresh >= SAMPLER_REFRESH_S * 1000) {
            if (refresh(a) == 0)
                last_refresh = now;
        }
        tick(a, &host_prev);
        double took = (double)(mono_ns() - t0) / 1e9;
        double cpu = thread_cpu_s();
        pthread_rwlock_wrlock(&lock);
        info.last_tick_s = took;
        info.cpu_s = cpu;
        pthread_rwlock_unlock(&lock);
        /* The next whole second after the previous deadline; a tick that overran skips. */
        next.tv_sec += 1;
        struct timespec cur;
        clock_gettime(CLOCK_MONOTONIC, &cur);
        if (cur.tv_sec > next.tv_sec || (cur.tv_sec == next.tv_sec && cur.tv_nsec > next.tv_nsec))
            next = cur;
        /* Sleep in short slices so stop is prompt. */
        while (!atomic_load(&stopping)) {
            struct timespec slice;
            clock_gettime(CLOCK_MONOTONIC, &slice);
            int64_t left = ((int64_t)next.tv_sec - slice.tv_sec) * 1000000000 +
                           (next.tv_nsec - slice.tv_nsec);
            if (left <= 0)
                break;
            if (left > 200000000)
                left = 200000000;
            struct timespec d = {0, (long)left};
            nanosleep(&d, NULL);
            pthread_mutex_lock(&notify_mu);
            int pending = nnotified > 0;
            pthread_mutex_unlock(&notify_mu);
            if (pending)
                prime_notified(a);
        }
    }
    return NULL;
}

int sampler_start(app *a, sampler_publish_fn publish, void *ctx)
{
    the_app = a;
    publisher = publish;
    publisher_ctx = ctx;
    host_ncpu = sysload_ncpu();
    atomic_store(&stopping, 0);
    if (pthread_create(&thread, NULL, sampler_main, a) != 0)
        return -EAGAIN;
    atomic_store(&started, 1);
    log_info("stats sampler started (source %s)", a->cfg.stats_source);
    return 0;
}

void sampler_stop(void)
{
    if (!atomic_load(&started))
        return;
    atomic_store(&stopping, 1);
    pthread_join(thread, NULL);
    atomic_store(&started, 0);
    pthread_rwlock_wrlock(&lock);
    for (size_t i = 0; i < nentries; i++)
        entry_free(entries[i]);
    for (size_t i = 0; i < ntenants; i++) {
        history_free(tenants[i]->hist);
        free(tenants[i]);
    }
    free(entries);
    free(tenants);
    entries = NULL;
    tenants = NULL;
    nentries = ntenants = 0;
    free(scratch);
    scratch = NULL;
    scratch_cap = 0;
    pthread_rwlock_unlock(&lock);
}

int sampler_latest(const char *docker_id, sampler_stats *out)
{
    if (!atomic_load(&started))
        return -EAGAIN;
    int rc = -ENOENT;
    pthread_rwlock_rdlock(&lock);
    struct entry *e = find_entry(docker_id);
    if (e != NULL && e->have_latest) {
        *out = e->latest;
        rc = 0;
    }
    pthread_rwlock_unlock(&lock);
    return rc;
}

struct hist_ctx {
    json_t *arr;
};

static void add_point(void *ctx, int64_t t, const history_point *p)
{
    struct hist_ctx *h = ctx;
    char when[TIME_RFC3339_LEN];
    time_rfc3339(t, when, sizeof(when));
    json_array_append_new(h->arr, json_pack("{s:s, s:f, s:I, s:I, s:I}", "t", when, "cpu",
                                            round((double)p->cpu * 100) / 100, "memory",
                                            (json_int_t)p->mem, "rxBytes", (json_int_t)p->rx,
                                            "txBytes", (json_int_t)p->tx));
}

static int history_json(history *h, int64_t range_s, json_t **points, int *step_s)
{
    int tier = history_tier_for(range_s, step_s);
    struct hist_ctx c = {json_array()};
    history_each(h, tier, (int64_t)time(NULL), range_s, add_point, &c);
    *points = c.arr;
    return 0;
}

int sampler_history(const char *docker_id, int64_t range_s, json_t **points, int *step_s)
{
    int rc = -ENOENT;
    pthread_rwlock_rdlock(&lock);
    struct entry *e = find_entry(docker_id);
    if (e != NULL)
        rc = history_json(e->hist, range_s, points, step_s);
    pthread_rwlock_unlock(&lock);
    return rc;
}

int sampler_tenant_history(const char *client_id, int64_t range_s, json_t **points,
                           int *step_s)
{
    int rc = -ENOENT;
    pthread_rwlock_rdlock(&lock);
    struct tenant *t = find_tenant(client_id);
    if (t != NULL)
        rc = history_json(t->hist, range_s, points, step_s);
    pthread_rwlock_unlock(&lock);
    return rc;
}

void sampler_format_bytes(uint64_t n, char *out, size_t cap)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0 || v >= 10 || fabs(v - round(v)) < 0.05)
        snprintf(out, cap, "%.0f %s", v, units[u]);
    else
        snprintf(out, cap, "%.1f %s", v, units[u]);
}

json_t *sampler_stats_json(const sampler_stats *s)
{
    char usage[32], limit[32], rx[32], tx[32], when[96];
    sampler_format_bytes(s->mem_usage, usage, sizeof(usage));
    sampler_format_bytes(s->mem_limit, limit, sizeof(limit));
    sampler_format_bytes(s->rx, rx, sizeof(rx));
    sampler_format_bytes(s->tx, tx, sizeof(tx));
    time_t secs = (time_t)(s->time_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(s->time_ms % 1000));
    double pct = s->mem_limit > 0 ? (double)s->mem_usage * 100.0 / (double)s->mem_limit : 0;
    return json_pack("{s:{s:f, s:i}, s:{s:I, s:I, s:f, s:s, s:s}, s:{s:I, s:I, s:s, s:s},"
                     " s:{s:I, s:I}, s:{s:I, s:I}, s:s}",
                     "cpu", "usage", round(s->cpu * 100) / 100, "cores", host_ncpu, "memory",
                     "usage", (json_int_t)s->mem_usage, "limit", (json_int_t)s->mem_limit,
                     "percent", round(pct * 100) / 100, "usageFormatted", usage,
                     "limitFormatted", limit, "network", "rxBytes", (json_int_t)s->rx,
                     "txBytes", (json_int_t)s->tx, "rxFormatted", rx, "txFormatted", tx,
                     "blockIO", "readBytes", (json_int_t)s->blk_read, "writeBytes",
                     (json_int_t)s->blk_write, "pids", "current", (json_int_t)s->pids, "limit",
                     (json_int_t)s->pids_limit, "timestamp", when);
}

void sampler_each(void (*fn)(void *ctx, const sampler_view *v), void *ctx)
{
    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < nentries; i++) {
        struct entry *e = entries[i];
        if (!e->have_latest)
            continue;
        sampler_view v = {e->docker_id, e->client_id, e->name, e->service_type, &e->latest};
        fn(ctx, &v);
    }
    pthread_rwlock_unlock(&lock);
}

int sampler_host_cpu(double *percent, int *ncpu)
{
    pthread_rwlock_rdlock(&lock);
    *percent = host_cpu;
    *ncpu = host_ncpu;
    pthread_rwlock_unlock(&lock);
    return atomic_load(&started) ? 0 : -EAGAIN;
}

void sampler_notify(const char *docker_id)
{
    pthread_mutex_lock(&notify_mu);
    if (nnotified < NOTIFY_MAX)
        str_copy(notified[nnotified++], STORE_DOCKER_ID_MAX, docker_id);
    else
        atomic_store(&refresh_wanted, 1);
    pthread_mutex_unlock(&notify_mu);
}

void sampler_info_get(sampler_info *out)
{
    memset(out, 0, sizeof(*out));
    out->running = atomic_load(&started);
    pthread_rwlock_rdlock(&lock);
    out->tracked = nentries;
    out->sampled = info.sampled;
    out->from_engine = info.from_engine;
    out->ticks = info.ticks;
    out->last_tick_s = info.last_tick_s;
    out->cpu_s = info.cpu_s;
    out->last_tick_ms = info.last_tick_ms;
    out->memory_bytes = (nentries + ntenants) * (HISTORY_BYTES + sizeof(struct entry)) +
                        (nentries + ntenants) * sizeof(void *);
    pthread_rwlock_unlock(&lock);
    if (out->sampled == 0)
        out->source = "none";
    else if (out->from_engine == 0)
        out->source = "cgroup";
    else if (out->from_engine == out->sampled)
        out->source = "engine";
    else
        out->source = "mixed";
}
