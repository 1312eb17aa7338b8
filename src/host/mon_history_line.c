/* The line format of the monitor's history: the rules a sample's fields follow, a sample
 * from the monitor's JSON, and a sample as one compact line (see mon_history.h; the fast
 * reader of those lines is mon_history_parse.c). */
#define _GNU_SOURCE
#include "mon_history.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mon_history_rules.h"
#include "str.h"

/* ---- a sample from JSON -------------------------------------------------------------- */

/* Rules first (mon_history_rules.h says what each returns). */
double mon_rule_in_range(double x, double lo, double hi)
{
    return isfinite(x) && x >= lo && x <= hi ? x + 0.0 : NAN;
}

static double num_in(const json_t *o, const char *key, double lo, double hi)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? mon_rule_in_range(json_number_value(v), lo, hi) : NAN;
}

/* Copies a name: cut at a character boundary below MON_NAME_MAX, invalid UTF-8 and control
 * characters turned into '?'. Only the first MON_NAME_MAX bytes of src are looked at. */
void mon_rule_name_copy(char *dst, const char *src)
{
    size_t n = strnlen(src, MON_NAME_MAX);
    if (n == MON_NAME_MAX) {
        n = MON_NAME_MAX - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    str_utf8_repair(dst, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
            dst[i] = '?';
}

/* A name field ("" when absent or not a string). */
static void name_in(const json_t *o, const char *key, char *dst)
{
    const char *s = json_string_value(json_object_get(o, key));
    dst[0] = '\0';
    if (s != NULL)
        mon_rule_name_copy(dst, s);
}

static int same_fs(const struct mon_disk *a, const struct mon_disk *b)
{
    return a->total == b->total && a->avail == b->avail && a->used_pct == b->used_pct &&
           a->inodes_pct == b->inodes_pct; /* NaN is never equal: unknown is not "same" */
}

void mon_rule_take_disk(struct mon_sample *s, const struct mon_disk *d)
{
    if (s->ndisks == MON_DISKS_MAX || d->mount[0] == '\0')
        return;
    for (size_t k = 0; k < s->ndisks; k++)
        if (same_fs(&s->disks[k], d))
            return;
    s->disks[s->ndisks++] = *d;
}

void mon_rule_take_io(struct mon_sample *s, const struct mon_io *d)
{
    if (s->nio < MON_IO_MAX && d->device[0] != '\0')
        s->io[s->nio++] = *d;
}

void mon_rule_take_net(struct mon_sample *s, const struct mon_net *d)
{
    if (s->nnet < MON_NET_MAX && d->iface[0] != '\0' && strcmp(d->iface, "lo") != 0)
        s->net[s->nnet++] = *d;
}

void mon_rule_take_top(struct mon_sample *s, struct mon_top *p, double pid)
{
    if (s->ntop == MON_TOP_MAX)
        return;
    p->pid = isnan(pid) ? -1 : (int)pid;
    if (p->name[0] == '\0')
        str_copy(p->name, sizeof(p->name), "?");
    s->top[s->ntop++] = *p;
}

static void disks_from_json(const json_t *arr, struct mon_sample *s)
{
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (!json_is_object(e))
            continue;
        struct mon_disk d;
        memset(&d, 0, sizeof(d));
        name_in(e, "mount", d.mount);
        d.used_pct = num_in(e, "used_pct", 0, PCT_MAX);
        d.avail = num_in(e, "avail", 0, BYTES_MAX);
        d.total = num_in(e, "total", 0, BYTES_MAX);
        d.inodes_pct = num_in(e, "inodes_pct", 0, PCT_MAX);
        mon_rule_take_disk(s, &d);
    }
}

static void io_from_json(const json_t *arr, struct mon_sample *s)
{
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (!json_is_object(e))
            continue;
        struct mon_io d;
        memset(&d, 0, sizeof(d));
        name_in(e, "device", d.device);
        d.read_bps = num_in(e, "read_bps", 0, RATE_MAX);
        d.write_bps = num_in(e, "write_bps", 0, RATE_MAX);
        mon_rule_take_io(s, &d);
    }
}

static void net_from_json(const json_t *arr, struct mon_sample *s)
{
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (!json_is_object(e))
            continue;
        struct mon_net d;
        memset(&d, 0, sizeof(d));
        name_in(e, "iface", d.iface);
        d.rx_bps = num_in(e, "rx_bps", 0, RATE_MAX);
        d.tx_bps = num_in(e, "tx_bps", 0, RATE_MAX);
        mon_rule_take_net(s, &d);
    }
}

static void top_from_json(const json_t *arr, struct mon_sample *s)
{
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (!json_is_object(e))
            continue;
        struct mon_top p;
        memset(&p, 0, sizeof(p));
        name_in(e, "name", p.name);
        p.cpu = num_in(e, "cpu", 0, PROC_CPU_MAX);
        p.mem_pct = num_in(e, "mem_pct", 0, PCT_MAX);
        mon_rule_take_top(s, &p, num_in(e, "pid", 0, PID_MAX));
    }
}

int mon_sample_from_json(const json_t *v, struct mon_sample *s)
{
    if (!json_is_object(v))
        return -EINVAL;
    double t = num_in(v, "t", 0, MON_SAMPLE_T_MAX);
    if (!(t > 0 && t < MON_SAMPLE_T_MAX))
        return -EINVAL;
    memset(s, 0, sizeof(*s));
    s->t = t;
    s->elapsed = num_in(v, "elapsed", 0, ELAPSED_MAX);
    double ncpu = num_in(v, "ncpu", 1, NCPU_MAX);
    s->ncpu = isnan(ncpu) ? 0 : (int)ncpu;
    name_in(v, "host", s->host);

    const json_t *cpu = json_object_get(v, "cpu");
    s->cpu = num_in(cpu, "total", 0, PCT_MAX);
    s->cpu_user = num_in(cpu, "user", 0, PCT_MAX);
    s->cpu_system = num_in(cpu, "system", 0, PCT_MAX);
    s->cpu_iowait = num_in(cpu, "iowait", 0, PCT_MAX);
    s->cpu_steal = num_in(cpu, "steal", 0, PCT_MAX);

    const json_t *load = json_object_get(v, "load");
    for (size_t i = 0; i < 3; i++) {
        const json_t *l = json_array_get(load, i);
        s->load[i] = json_is_number(l) ? mon_rule_in_range(json_number_value(l), 0, LOAD_MAX) : NAN;
    }

    const json_t *mem = json_object_get(v, "mem");
    s->mem_used_pct = num_in(mem, "used_pct", 0, PCT_MAX);
    s->mem_used = num_in(mem, "used", 0, BYTES_MAX);
    s->mem_total = num_in(mem, "total", 0, BYTES_MAX);
    s->mem_available = num_in(mem, "available", 0, BYTES_MAX);
    s->swap_used = num_in(mem, "swap_used", 0, BYTES_MAX);
    s->swap_total = num_in(mem, "swap_total", 0, BYTES_MAX);
    s->swap_pct = num_in(mem, "swap_pct", 0, PCT_MAX);

    const json_t *procs = json_object_get(v, "procs");
    s->procs_total = num_in(procs, "total", 0, COUNT_MAX);
    s->procs_running = num_in(procs, "running", 0, COUNT_MAX);
    s->procs_blocked = num_in(procs, "blocked", 0, COUNT_MAX);
    s->procs_zombie = num_in(procs, "zombie", 0, COUNT_MAX);
    s->procs_threads = num_in(procs, "threads", 0, COUNT_MAX);

    disks_from_json(json_object_get(v, "disks"), s);
    io_from_json(json_object_get(v, "io"), s);
    net_from_json(json_object_get(v, "net"), s);
    top_from_json(json_object_get(v, "top"), s);
    return 0;
}

/* ---- the line ------------------------------------------------------------------------ */

struct wr {
    char *p;
    size_t cap, len;
    int over;
};

static void wr_put(struct wr *w, const char *s, size_t n)
{
    if (w->over || n > w->cap - w->len) {
        w->over = 1;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void wr_fmt(struct wr *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wr_fmt(struct wr *w, const char *fmt, ...)
{
    if (w->over)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) {
        w->over = 1;
        return;
    }
    w->len += (size_t)n;
}

static void wr_str(struct wr *w, const char *s)
{
    wr_put(w, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', *p};
            wr_put(w, esc, 2);
        } else if ((unsigned char)*p < 0x20) {
            wr_fmt(w, "\\u%04x", (unsigned)(unsigned char)*p);
        } else {
            wr_put(w, p, 1);
        }
    }
    wr_put(w, "\"", 1);
}

/* A "key":value member, with a comma unless it is the first of its object; nothing for NaN. */
static void wr_num(struct wr *w, int *first, const char *key, double v, int prec)
{
    if (isnan(v))
        return;
    wr_fmt(w, "%s\"%s\":%.*f", *first ? "" : ",", key, prec, v);
    *first = 0;
}

static void wr_name(struct wr *w, int *first, const char *key, const char *v)
{
    wr_fmt(w, "%s\"%s\":", *first ? "" : ",", key);
    wr_str(w, v);
    *first = 0;
}

static int any_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            return 1;
    return 0;
}

static void wr_cpu_mem(struct wr *w, const struct mon_sample *s)
{
    const double cpu[] = {s->cpu, s->cpu_user, s->cpu_system, s->cpu_iowait, s->cpu_steal};
    if (any_finite(cpu, 5)) {
        int f = 1;
        wr_put(w, ",\"cpu\":{", 8);
        wr_num(w, &f, "total", s->cpu, 1);
        wr_num(w, &f, "user", s->cpu_user, 1);
        wr_num(w, &f, "system", s->cpu_system, 1);
        wr_num(w, &f, "iowait", s->cpu_iowait, 1);
        wr_num(w, &f, "steal", s->cpu_steal, 1);
        wr_put(w, "}", 1);
    }
    if (any_finite(s->load, 3)) {
        wr_put(w, ",\"load\":[", 9);
        for (int i = 0; i < 3; i++) {
            if (i > 0)
                wr_put(w, ",", 1);
            if (isnan(s->load[i]))
                wr_put(w, "null", 4);
            else
                wr_fmt(w, "%.2f", s->load[i]);
        }
        wr_put(w, "]", 1);
    }
    const double mem[] = {s->mem_used_pct, s->mem_used,  s->mem_total, s->mem_available,
                          s->swap_used,    s->swap_total, s->swap_pct};
    if (any_finite(mem, 7)) {
        int f = 1;
        wr_put(w, ",\"mem\":{", 8);
        wr_num(w, &f, "used_pct", s->mem_used_pct, 1);
        wr_num(w, &f, "used", s->mem_used, 0);
        wr_num(w, &f, "total", s->mem_total, 0);
        wr_num(w, &f, "available", s->mem_available, 0);
        wr_num(w, &f, "swap_used", s->swap_used, 0);
        wr_num(w, &f, "swap_total", s->swap_total, 0);
        wr_num(w, &f, "swap_pct", s->swap_pct, 1);
        wr_put(w, "}", 1);
    }
}

static void wr_lists(struct wr *w, const struct mon_sample *s)
{
    if (s->ndisks > 0) {
        wr_put(w, ",\"disks\":[", 10);
        for (size_t i = 0; i < s->ndisks; i++) {
            const struct mon_disk *d = &s->disks[i];
            int f = 1;
            wr_put(w, i > 0 ? ",{" : "{", i > 0 ? 2 : 1);
            wr_name(w, &f, "mount", d->mount);
            wr_num(w, &f, "used_pct", d->used_pct, 1);
            wr_num(w, &f, "avail", d->avail, 0);
            wr_num(w, &f, "total", d->total, 0);
            wr_num(w, &f, "inodes_pct", d->inodes_pct, 1);
            wr_put(w, "}", 1);
        }
        wr_put(w, "]", 1);
    }
    if (s->nio > 0) {
        wr_put(w, ",\"io\":[", 7);
        for (size_t i = 0; i < s->nio; i++) {
            int f = 1;
            wr_put(w, i > 0 ? ",{" : "{", i > 0 ? 2 : 1);
            wr_name(w, &f, "device", s->io[i].device);
            wr_num(w, &f, "read_bps", s->io[i].read_bps, 0);
            wr_num(w, &f, "write_bps", s->io[i].write_bps, 0);
            wr_put(w, "}", 1);
        }
        wr_put(w, "]", 1);
    }
    if (s->nnet > 0) {
        wr_put(w, ",\"net\":[", 8);
        for (size_t i = 0; i < s->nnet; i++) {
            int f = 1;
            wr_put(w, i > 0 ? ",{" : "{", i > 0 ? 2 : 1);
            wr_name(w, &f, "iface", s->net[i].iface);
            wr_num(w, &f, "rx_bps", s->net[i].rx_bps, 0);
            wr_num(w, &f, "tx_bps", s->net[i].tx_bps, 0);
            wr_put(w, "}", 1);
        }
        wr_put(w, "]", 1);
    }
}

int mon_sample_format(const struct mon_sample *s, char *buf, size_t cap, size_t *len)
{
    struct wr w = {.p = buf, .cap = cap};
    wr_fmt(&w, "{\"v\":%d,\"t\":%.3f", MON_HISTORY_VERSION, s->t);
    int f = 0;
    if (s->host[0] != '\0')
        wr_name(&w, &f, "host", s->host);
    wr_num(&w, &f, "elapsed", s->elapsed, 2);
    if (s->ncpu > 0)
        wr_fmt(&w, ",\"ncpu\":%d", s->ncpu);
    wr_cpu_mem(&w, s);
    wr_lists(&w, s);
    const double procs[] = {s->procs_total, s->procs_running, s->procs_blocked,
                            s->procs_zombie, s->procs_threads};
    if (any_finite(procs, 5)) {
        int pf = 1;
        wr_put(&w, ",\"procs\":{", 10);
        wr_num(&w, &pf, "total", s->procs_total, 0);
        wr_num(&w, &pf, "running", s->procs_running, 0);
        wr_num(&w, &pf, "blocked", s->procs_blocked, 0);
        wr_num(&w, &pf, "zombie", s->procs_zombie, 0);
        wr_num(&w, &pf, "threads", s->procs_threads, 0);
        wr_put(&w, "}", 1);
    }
    if (s->ntop > 0) {
        wr_put(&w, ",\"top\":[", 8);
        for (size_t i = 0; i < s->ntop; i++) {
            const struct mon_top *p = &s->top[i];
            int tf = 1;
            wr_put(&w, i > 0 ? ",{" : "{", i > 0 ? 2 : 1);
            if (p->pid >= 0) {
                wr_fmt(&w, "\"pid\":%d", p->pid);
                tf = 0;
            }
            wr_name(&w, &tf, "name", p->name);
            wr_num(&w, &tf, "cpu", p->cpu, 1);
            wr_num(&w, &tf, "mem_pct", p->mem_pct, 2);
            wr_put(&w, "}", 1);
        }
        wr_put(&w, "]", 1);
    }
    wr_put(&w, "}\n", 2);
    if (w.over || w.len > MON_HISTORY_LINE_MAX)
        return -E2BIG;
    *len = w.len;
    return 0;
}
