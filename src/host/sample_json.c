#define _POSIX_C_SOURCE 200809L
/* The monitor sample: one JSON object from two readings (see hostprobe.h; the keys are the
 * contract between the monitor screen, its history and its report). Shares and rates are rounded to one decimal; sizes are whole bytes.
 * Every text that comes from the system (host, mount points, devices, interface and
 * process names) is made valid UTF-8 first, since jansson refuses anything else. */
#include "hostprobe.h"
#include "str.h"

#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define USER_CACHE_MAX 64   /* distinct users looked up per sample */
#define USER_NAME_MAX 64    /* a user name, or the uid in digits */
#define PW_BUF_MAX 16384    /* getpwuid_r's scratch buffer */
#define TEXT_MAX 1024       /* a repaired copy of a system text */

/* ---- small builders ----------------------------------------------------------------- */

/* Counts failed insertions, so one check at the end covers every allocation. */
struct builder {
    int bad;
};

/* Sets key of obj to v (stolen, also on failure: jansson releases a value it refuses). */
static void set(struct builder *b, json_t *obj, const char *key, json_t *v)
{
    if (v == NULL || obj == NULL) {
        json_decref(v);
        b->bad = 1;
    } else if (json_object_set_new(obj, key, v) != 0) {
        b->bad = 1;
    }
}

/* Appends v (stolen) to arr. */
static void push(struct builder *b, json_t *arr, json_t *v)
{
    if (v == NULL || arr == NULL) {
        json_decref(v);
        b->bad = 1;
    } else if (json_array_append_new(arr, v) != 0) {
        b->bad = 1;
    }
}

/* x rounded to one decimal; 0 for NaN or infinities, which JSON cannot carry. */
static json_t *real1(double x)
{
    if (!isfinite(x))
        x = 0;
    return json_real(round(x * 10.0) / 10.0);
}

/* u64 counters above INT64_MAX (json_int_t) are clamped there. */
static json_t *jsize(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* s (cut at TEXT_MAX) as valid UTF-8. */
static json_t *text(const char *s)
{
    char buf[TEXT_MAX];
    str_copy(buf, sizeof(buf), s);
    str_utf8_repair(buf, strlen(buf));
    return json_string(buf);
}

/* used / total in percent, 0 when total is 0. */
static double pct(uint64_t used, uint64_t total)
{
    return total == 0 ? 0.0 : (double)used / (double)total * 100.0;
}

/* ---- parts -------------------------------------------------------------------------- */

/* The core of prev with cur's id, or NULL. Tries the same index first. */
static const sysload_core *prev_core(const sysload_stat *prev, size_t i, unsigned id)
{
    if (i < prev->ncore && prev->core[i].id == id)
        return &prev->core[i];
    for (size_t k = 0; k < prev->ncore; k++)
        if (prev->core[k].id == id)
            return &prev->core[k];
    return NULL;
}

static json_t *cpu_json(struct builder *b, const struct host_reading *prev,
                        const struct host_reading *cur)
{
    json_t *o = json_object(), *cores = json_array();
    int both = prev != NULL && (prev->have & HOST_HAVE_CPU) && (cur->have & HOST_HAVE_CPU);
    sysload_shares s = {0};
    if (both)
        sysload_cpu_shares(&prev->stat.all, &cur->stat.all, &s);
    set(b, o, "total", real1(s.total));
    set(b, o, "user", real1(s.user));
    set(b, o, "system", real1(s.system));
    set(b, o, "iowait", real1(s.iowait));
    set(b, o, "steal", real1(s.steal));
    for (size_t i = 0; i < cur->stat.ncore; i++) {
        sysload_shares c = {0};
        const sysload_core *pc = both ? prev_core(&prev->stat, i, cur->stat.core[i].id) : NULL;
        if (pc != NULL)
            sysload_cpu_shares(&pc->t, &cur->stat.core[i].t, &c);
        push(b, cores, real1(c.total));
    }
    set(b, o, "cores", cores);
    return o;
}

static json_t *mem_json(struct builder *b, const sysload_meminfo *m)
{
    json_t *o = json_object();
    uint64_t used = m->available < m->total ? m->total - m->available : 0;
    uint64_t swap_used = m->swap_free < m->swap_total ? m->swap_total - m->swap_free : 0;
    set(b, o, "total", jsize(m->total));
    set(b, o, "available", jsize(m->available));
    set(b, o, "used", jsize(used));
    set(b, o, "used_pct", real1(pct(used, m->total)));
    set(b, o, "free", jsize(m->free));
    set(b, o, "buffers", jsize(m->buffers));
    set(b, o, "cached", jsize(m->cached));
    set(b, o, "swap_total", jsize(m->swap_total));
    set(b, o, "swap_used", jsize(swap_used));
    set(b, o, "swap_pct", real1(pct(swap_used, m->swap_total)));
    return o;
}

static json_t *disks_json(struct builder *b, const struct host_reading *cur)
{
    json_t *a = json_array();
    for (size_t i = 0; i < cur->nmounts; i++) {
        const struct host_mount *m = &cur->mounts[i];
        json_t *o = json_object();
        set(b, o, "mount", text(m->mount));
        set(b, o, "device", text(m->device));
        set(b, o, "fstype", text(m->fstype));
        set(b, o, "total", jsize(m->total));
        set(b, o, "used", jsize(m->used));
        set(b, o, "avail", jsize(m->avail));
        set(b, o, "used_pct", real1(m->used_pct));
        set(b, o, "inodes_total", jsize(m->inodes_total));
        set(b, o, "inodes_used", jsize(m->inodes_used));
        set(b, o, "inodes_pct", real1(m->inodes_pct));
        set(b, o, "readonly", json_boolean(m->readonly));
        push(b, a, o);
    }
    return a;
}

static json_t *io_json(struct builder *b, const struct host_reading *prev,
                       const struct host_reading *cur, double elapsed)
{
    json_t *a = json_array();
    for (size_t i = 0; i < cur->ndisks; i++) {
        const struct host_diskstat *d = &cur->disks[i];
        struct host_io_rates r;
        host_io_rates(host_reading_disk(prev, d->name), d, elapsed, &r);
        json_t *o = json_object();
        set(b, o, "device", text(d->name));
        set(b, o, "read_bps", real1(r.read_bps));
        set(b, o, "write_bps", real1(r.write_bps));
        set(b, o, "reads_ps", real1(r.reads_ps));
        set(b, o, "writes_ps", real1(r.writes_ps));
        set(b, o, "busy_pct", real1(r.busy_pct));
        push(b, a, o);
    }
    return a;
}

static json_t *net_json(struct builder *b, const struct host_reading *prev,
                        const struct host_reading *cur, double elapsed)
{
    json_t *a = json_array();
    for (size_t i = 0; i < cur->nnet; i++) {
        const struct host_netdev *d = &cur->net[i];
        struct host_net_rates r;
        host_net_rates(host_reading_net(prev, d->name), d, elapsed, &r);
        json_t *o = json_object();
        set(b, o, "iface", text(d->name));
        set(b, o, "rx_bps", real1(r.rx_bps));
        set(b, o, "tx_bps", real1(r.tx_bps));
        set(b, o, "rx_pps", real1(r.rx_pps));
        set(b, o, "tx_pps", real1(r.tx_pps));
        set(b, o, "rx_errs", jsize(r.rx_errs));
        set(b, o, "tx_errs", jsize(r.tx_errs));
        set(b, o, "rx_drop", jsize(r.rx_drop));
        set(b, o, "tx_drop", jsize(r.tx_drop));
        push(b, a, o);
    }
    return a;
}

/* The kernel's running and blocked task counts when /proc/stat had them, else the states
 * of the process table. */
static json_t *procs_json(struct builder *b, const struct host_reading *cur)
{
    uint64_t running = 0, blocked = 0, zombie = 0, threads = 0;
    for (size_t i = 0; i < cur->procs.n; i++) {
        const struct proc_info *p = &cur->procs.p[i];
        running += p->state == 'R';
        blocked += p->state == 'D';
        zombie += p->state == 'Z';
        threads += (uint64_t)(p->threads > 0 ? p->threads : 0);
    }
    if (cur->stat.procs_running > 0) {
        running = cur->stat.procs_running;
        blocked = cur->stat.procs_blocked;
    }
    json_t *o = json_object();
    set(b, o, "total", jsize(cur->procs.n));
    set(b, o, "running", jsize(running));
    set(b, o, "blocked", jsize(blocked));
    set(b, o, "zombie", jsize(zombie));
    set(b, o, "threads", jsize(threads));
    return o;
}

/* ---- top processes ------------------------------------------------------------------ */

struct user_cache {
    uid_t uid[USER_CACHE_MAX];
    char name[USER_CACHE_MAX][USER_NAME_MAX];
    size_t n;
};

/* The name of uid from the password database, or its digits when it has none. */
static const char *user_name(struct user_cache *c, uid_t uid, char *tmp, size_t cap)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->uid[i] == uid)
            return c->name[i];
    char buf[PW_BUF_MAX];
    struct passwd pw, *res = NULL;
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL &&
        strlen(res->pw_name) < USER_NAME_MAX)
        str_copy(tmp, cap, res->pw_name);
    else
        snprintf(tmp, cap, "%lu", (unsigned long)uid);
    if (c->n < USER_CACHE_MAX) {
        c->uid[c->n] = uid;
        str_copy(c->name[c->n], USER_NAME_MAX, tmp);
        return c->name[c->n++];
    }
    return tmp;
}

struct ranked {
    const struct proc_info *p;
    double cpu;
};

/* CPU first, then resident memory, then the lower pid. */
static int by_rank(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->cpu != y->cpu)
        return x->cpu < y->cpu ? 1 : -1;
    if (x->p->rss != y->p->rss)
        return x->p->rss < y->p->rss ? 1 : -1;
    return (x->p->pid > y->p->pid) - (x->p->pid < y->p->pid);
}

static json_t *top_json(struct builder *b, const struct host_reading *prev,
                        const struct host_reading *cur, double elapsed, int top_n)
{
    json_t *a = json_array();
    size_t n = cur->procs.n, want = top_n < 0 ? 0 : (size_t)top_n;
    if (want > HOST_TOP_MAX)
        want = HOST_TOP_MAX;
    if (n == 0 || want == 0)
        return a;
    struct ranked *v = malloc(n * sizeof(*v));
    struct user_cache *users = calloc(1, sizeof(*users));
    if (v == NULL || users == NULL) {
        b->bad = 1;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        v[i].p = &cur->procs.p[i];
        v[i].cpu = prev != NULL ? procs_cpu_percent(&prev->procs, v[i].p, elapsed) : 0.0;
    }
    qsort(v, n, sizeof(*v), by_rank);
    for (size_t i = 0; i < n && i < want; i++) {
        const struct proc_info *p = v[i].p;
        char tmp[USER_NAME_MAX], state[2] = {p->state, '\0'}, cmd[PROCS_COMM_MAX + 2];
        json_t *o = json_object();
        set(b, o, "pid", json_integer(p->pid));
        set(b, o, "ppid", json_integer(p->ppid));
        set(b, o, "name", text(p->comm));
        set(b, o, "user", text(user_name(users, p->uid, tmp, sizeof(tmp))));
        set(b, o, "uid", json_integer((json_int_t)p->uid));
        set(b, o, "cpu", real1(v[i].cpu));
        set(b, o, "mem_pct", real1(pct(p->rss, cur->mem.total)));
        set(b, o, "rss", jsize(p->rss));
        set(b, o, "threads", json_integer(p->threads));
        set(b, o, "state", text(state));
        if (p->cmd[0] == '\0') { /* kernel threads and zombies, as ps shows them */
            snprintf(cmd, sizeof(cmd), "[%s]", p->comm);
            set(b, o, "cmd", text(cmd));
        } else {
            set(b, o, "cmd", text(p->cmd));
        }
        push(b, a, o);
    }
out:
    free(v);
    free(users);
    return a;
}

/* ---- the sample --------------------------------------------------------------------- */

/* One object, keys in the contract's order. Returns it or NULL when out of memory. */
json_t *host_sample_json(const struct host_reading *prev, const struct host_reading *cur,
                         int top_n)
{
    struct builder b = {0};
    double elapsed = prev != NULL ? cur->mono - prev->mono : 0.0;
    if (!(elapsed > 0)) {
        elapsed = 0;
        prev = NULL; /* no time, or clocks from elsewhere: no rates */
    }
    json_t *o = json_object(), *load = json_array();
    if (o == NULL) {
        json_decref(load);
        return NULL;
    }
    set(&b, o, "t", json_real(isfinite(cur->wall) ? cur->wall : 0.0));
    set(&b, o, "host", text(cur->host));
    set(&b, o, "elapsed", json_real(elapsed));
    set(&b, o, "ncpu", json_integer(cur->ncpu));
    set(&b, o, "uptime", real1(cur->uptime));
    set(&b, o, "cpu", cpu_json(&b, prev, cur));
    for (int i = 0; i < 3; i++)
        push(&b, load, json_real(isfinite(cur->load[i]) ? cur->load[i] : 0.0));
    set(&b, o, "load", load);
    set(&b, o, "mem", mem_json(&b, &cur->mem));
    set(&b, o, "disks", disks_json(&b, cur));
    set(&b, o, "io", io_json(&b, prev, cur, elapsed));
    set(&b, o, "net", net_json(&b, prev, cur, elapsed));
    set(&b, o, "procs", procs_json(&b, cur));
    set(&b, o, "top", top_json(&b, prev, cur, elapsed, top_n));
    if (b.bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
