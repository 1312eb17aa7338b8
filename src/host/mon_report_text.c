/* The monitor report as a text summary and as JSON (see mon_report.h). */
#include "mon_report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "timeutil.h"

#define LABEL_COLS 20 /* the table's first column, in characters */
#define VALUE_COLS 11 /* each number column */
#define TEXT_DISKS 3  /* mount points in the text table (the fullest) */
#define TEXT_WORST_CPU 3
#define TEXT_WORST_MEM 2

#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_OFF "\033[0m"

/* ---- JSON ---------------------------------------------------------------------------- */

static json_t *jnum(double v, double scale)
{
    return isfinite(v) ? json_real(round(v * scale) / scale) : json_null();
}

static json_t *jtime(double t)
{
    return isfinite(t) && t > 0 ? json_real(round(t * 1000.0) / 1000.0) : json_null();
}

static json_t *jtime_utc(double t)
{
    char b[TIME_RFC3339_LEN];
    if (!isfinite(t) || t <= 0)
        return json_null();
    time_rfc3339((int64_t)floor(t), b, sizeof(b));
    return json_string(b);
}

static json_t *stat_json(const struct mon_stat *st)
{
    if (st->n == 0)
        return json_null();
    return json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "n", (json_int_t)st->n, "min",
                     jnum(st->min, 100), "avg", jnum(st->avg, 100), "max", jnum(st->max, 100),
                     "p95", jnum(st->p95, 100), "max_at", jtime(st->t_max), "max_at_utc",
                     jtime_utc(st->t_max));
}

static json_t *top_json(const struct mon_report *r, const struct mon_point *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->ntop; i++) {
        const struct mon_rtop *t = &p->top[i];
        json_array_append_new(a, json_pack("{s:o,s:s,s:o,s:o}", "pid",
                                           t->pid >= 0 ? json_integer(t->pid) : json_null(),
                                           "name", mon_report_name(r, t->name), "cpu",
                                           jnum(t->cpu, 10), "mem_pct", jnum(t->mem_pct, 100)));
    }
    return a;
}

static json_t *moment_json(const struct mon_report *r, size_t i, double value)
{
    const struct mon_point *p = &r->p[i];
    return json_pack("{s:o,s:o,s:o,s:o}", "t", jtime(p->t), "time_utc", jtime_utc(p->t),
                     "value", jnum(value, 100), "top", top_json(r, p));
}

static json_t *moments_json(const struct mon_report *r, const size_t *idx, size_t n,
                            enum mon_series s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, moment_json(r, idx[i], r->p[idx[i]].v[s]));
    return a;
}

static double pair_sum(const struct mon_point *p, enum mon_series a, enum mon_series b)
{
    return (isnan(p->v[a]) ? 0 : p->v[a]) + (isnan(p->v[b]) ? 0 : p->v[b]);
}

static json_t *worst_json(const struct mon_report *r)
{
    json_t *w = json_object();
    json_object_set_new(w, "cpu", moments_json(r, r->worst_cpu, r->nworst_cpu, MON_CPU));
    json_object_set_new(w, "mem", moments_json(r, r->worst_mem, r->nworst_mem, MON_MEM));
    if (r->worst_disk != MON_REPORT_NONE) {
        const struct mon_rdisk *d = &r->d[r->worst_disk];
        json_t *m = moment_json(r, r->worst_disk_point, d->used_pct);
        json_object_set_new(m, "mount", json_string(r->mounts[d->mount].name));
        json_object_set_new(m, "avail", jnum(d->avail, 1));
        json_object_set_new(m, "total", jnum(d->total, 1));
        json_object_set_new(w, "disk", m);
    } else {
        json_object_set_new(w, "disk", json_null());
    }
    if (r->worst_net != MON_REPORT_NONE) {
        const struct mon_point *p = &r->p[r->worst_net];
        json_t *m = moment_json(r, r->worst_net, pair_sum(p, MON_NET_RX, MON_NET_TX));
        json_object_set_new(m, "rx_bps", jnum(p->v[MON_NET_RX], 1));
        json_object_set_new(m, "tx_bps", jnum(p->v[MON_NET_TX], 1));
        json_object_set_new(w, "net", m);
    } else {
        json_object_set_new(w, "net", json_null());
    }
    if (r->worst_io != MON_REPORT_NONE) {
        const struct mon_point *p = &r->p[r->worst_io];
        json_t *m = moment_json(r, r->worst_io, pair_sum(p, MON_IO_READ, MON_IO_WRITE));
        json_object_set_new(m, "read_bps", jnum(p->v[MON_IO_READ], 1));
        json_object_set_new(m, "write_bps", jnum(p->v[MON_IO_WRITE], 1));
        json_object_set_new(w, "io", m);
    } else {
        json_object_set_new(w, "io", json_null());
    }
    return w;
}

json_t *mon_report_json(const struct mon_report *r)
{
    char zone[64];
    mon_report_fmt_zone(r->end, zone, sizeof(zone));
    double period = r->end > r->start ? r->end - r->start : 0;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "host", json_string(r->host));
    json_object_set_new(o, "period",
                        json_pack("{s:o,s:o,s:o,s:o,s:o,s:s}", "since", jtime(r->start),
                                  "until", jtime(r->end), "since_utc", jtime_utc(r->start),
                                  "until_utc", jtime_utc(r->end), "seconds", jnum(period, 1),
                                  "timezone", zone));
    json_object_set_new(
        o, "coverage",
        json_pack("{s:I,s:o,s:o,s:o,s:o,s:I,s:o,s:o}", "samples", (json_int_t)r->n, "first",
                  jtime(r->first), "last", jtime(r->last), "recorded_s",
                  jnum(r->recorded_s, 1), "recorded_pct",
                  jnum(period > 0 ? 100.0 * r->recorded_s / period : NAN, 10), "gaps",
                  (json_int_t)r->gaps, "longest_gap_s", jnum(r->longest_gap_s, 1),
                  "longest_gap_at", jtime(r->longest_gap_at)));
    json_t *stats = json_object();
    for (int s = 0; s < MON_SERIES_N; s++)
        json_object_set_new(stats, mon_series_key((enum mon_series)s), stat_json(&r->stat[s]));
    json_object_set_new(o, "stats", stats);
    json_t *disks = json_array();
    for (size_t m = 0; m < r->nmounts; m++) {
        const struct mon_mount *mm = &r->mounts[m];
        json_array_append_new(disks, json_pack("{s:s,s:o,s:o}", "mount", mm->name, "used_pct",
                                               stat_json(&mm->used), "inodes_pct",
                                               stat_json(&mm->inodes)));
    }
    json_object_set_new(o, "disks", disks);
    json_object_set_new(o, "worst", worst_json(r));
    json_object_set_new(
        o, "read",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "files", (json_int_t)r->files, "lines",
                  (json_int_t)r->lines, "skipped", (json_int_t)r->skipped, "out_of_period",
                  (json_int_t)r->out_of_period, "dropped", (json_int_t)r->dropped,
                  "dropped_until", jtime(r->dropped ? r->dropped_until : NAN)));
    return o;
}

/* ---- text ---------------------------------------------------------------------------- */

/* Characters (code points) of UTF-8 s. */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Writes s cut to cols characters ("…" at the cut) and padded with spaces to cols. */
static void put_cell(FILE *f, const char *s, size_t cols)
{
    size_t n = chars(s);
    if (n <= cols) {
        fputs(s, f);
        for (; n < cols; n++)
            fputc(' ', f);
        return;
    }
    size_t k = 0;
    for (const char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80 && ++k == cols)
            break; /* at the start of the last character: "…" goes there */
        fputc(*p, f);
    }
    fputs("\xe2\x80\xa6", f);
}

static const char *level(int color, double pct)
{
    if (!color || isnan(pct))
        return "";
    return pct >= 90 ? C_RED : pct >= 75 ? C_YELLOW : "";
}

static void put_row(FILE *f, int color, const char *label, enum mon_series s,
                    const struct mon_stat *st, int is_pct)
{
    char b[48];
    put_cell(f, label, LABEL_COLS);
    if (st->n == 0) {
        fprintf(f, "%*s\n", VALUE_COLS, "-");
        return;
    }
    const double v[4] = {st->min, st->avg, st->max, st->p95};
    for (int i = 0; i < 4; i++) {
        mon_report_fmt_value(s, v[i], b, sizeof(b));
        const char *c = is_pct && i == 2 ? level(color, v[i]) : "";
        fprintf(f, "%s%*s%s", c, VALUE_COLS, b, c[0] ? C_OFF : "");
    }
    mon_report_fmt_time(st->t_max, b, sizeof(b));
    fprintf(f, "  %s\n", b);
}

/* "nginx 85.0%, php-fpm 10.2%" (by CPU) or by memory when mem. */
static void put_top(FILE *f, const struct mon_report *r, const struct mon_point *p, int mem)
{
    for (size_t i = 0; i < p->ntop; i++) {
        double v = mem ? p->top[i].mem_pct : p->top[i].cpu;
        fprintf(f, "%s%s", i > 0 ? ", " : "  ", mon_report_name(r, p->top[i].name));
        if (!isnan(v))
            fprintf(f, " %.1f%%%s", v, mem ? " mem" : "");
    }
    fputc('\n', f);
}

static void put_moment(FILE *f, int color, const struct mon_report *r, const char *what,
                       const char *value, double pct, size_t i, int mem)
{
    char when[48];
    mon_report_fmt_time(r->p[i].t, when, sizeof(when));
    fputs("  ", f);
    put_cell(f, what, 10);
    const char *c = level(color, pct);
    fprintf(f, "%s%-10s%s %s", c, value, c[0] ? C_OFF : "", when);
    put_top(f, r, &r->p[i], mem);
}

static void put_head(FILE *f, const struct mon_report *r, int color)
{
    char a[48], b[48], zone[64], d[48], e[48];
    mon_report_fmt_zone(r->end, zone, sizeof(zone));
    mon_report_fmt_time(r->start, a, sizeof(a));
    mon_report_fmt_time(r->end, b, sizeof(b));
    double period = r->end > r->start ? r->end - r->start : 0;
    mon_report_fmt_duration(period, d, sizeof(d));
    fprintf(f, "%sMonitor report for %s%s\n", color ? C_BOLD : "",
            r->host[0] ? r->host : "this host", color ? C_OFF : "");
    fprintf(f, "Period    %s to %s (%s; times in %s)\n", a, b, d, zone);
    mon_report_fmt_time(r->first, a, sizeof(a));
    mon_report_fmt_time(r->last, b, sizeof(b));
    mon_report_fmt_duration(r->recorded_s, d, sizeof(d));
    fprintf(f, "Coverage  %zu sample%s from %s to %s: %s recorded", r->n, r->n == 1 ? "" : "s",
            a, b, d);
    if (period > 0)
        fprintf(f, " (%.0f%% of the period)", 100.0 * r->recorded_s / period);
    if (r->gaps > 0) {
        mon_report_fmt_duration(r->longest_gap_s, d, sizeof(d));
        mon_report_fmt_time(r->longest_gap_at, e, sizeof(e));
        fprintf(f, ", %zu gap%s (longest %s from %s)", r->gaps, r->gaps == 1 ? "" : "s", d, e);
    }
    fputc('\n', f);
    if (r->skipped > 0 || r->dropped > 0) {
        fprintf(f, "%sNote     ", color ? C_DIM : "");
        if (r->skipped > 0)
            fprintf(f, " %zu unreadable line%s skipped.", r->skipped, r->skipped == 1 ? "" : "s");
        if (r->dropped > 0) {
            mon_report_fmt_time(r->dropped_until, a, sizeof(a));
            fprintf(f, " %zu older samples (until %s) left out to bound memory.", r->dropped, a);
        }
        fprintf(f, "%s\n", color ? C_OFF : "");
    }
}

static void put_table(FILE *f, const struct mon_report *r, int color)
{
    fprintf(f, "\n%s", color ? C_BOLD : "");
    put_cell(f, "", LABEL_COLS);
    fprintf(f, "%*s%*s%*s%*s  %s%s\n", VALUE_COLS, "min", VALUE_COLS, "avg", VALUE_COLS, "max",
            VALUE_COLS, "p95", "max at", color ? C_OFF : "");
    for (int s = MON_CPU; s <= MON_SWAP; s++)
        put_row(f, color, mon_series_label((enum mon_series)s), (enum mon_series)s, &r->stat[s],
                s != MON_LOAD1);
    size_t idx[TEXT_DISKS];
    size_t nd = mon_report_fullest(r, idx, TEXT_DISKS);
    for (size_t i = 0; i < nd; i++) {
        char label[MON_NAME_MAX + 16];
        str_fmt(label, sizeof(label), "Disk %s", r->mounts[idx[i]].name);
        put_row(f, color, label, MON_MEM, &r->mounts[idx[i]].used, 1);
    }
    for (int s = MON_IO_READ; s < MON_SERIES_N; s++)
        put_row(f, color, mon_series_label((enum mon_series)s), (enum mon_series)s, &r->stat[s],
                0);
}

static void put_worst(FILE *f, const struct mon_report *r, int color)
{
    char v[96], a[48], b[48];
    fprintf(f, "\n%sWorst moments%s\n", color ? C_BOLD : "", color ? C_OFF : "");
    for (size_t i = 0; i < r->nworst_cpu && i < TEXT_WORST_CPU; i++) {
        double x = r->p[r->worst_cpu[i]].v[MON_CPU];
        mon_report_fmt_value(MON_CPU, x, v, sizeof(v));
        put_moment(f, color, r, "CPU", v, x, r->worst_cpu[i], 0);
    }
    for (size_t i = 0; i < r->nworst_mem && i < TEXT_WORST_MEM; i++) {
        double x = r->p[r->worst_mem[i]].v[MON_MEM];
        mon_report_fmt_value(MON_MEM, x, v, sizeof(v));
        put_moment(f, color, r, "Memory", v, x, r->worst_mem[i], 1);
    }
    if (r->worst_disk != MON_REPORT_NONE) {
        const struct mon_rdisk *d = &r->d[r->worst_disk];
        mon_report_fmt_bytes(d->avail, a, sizeof(a));
        mon_report_fmt_time(r->p[r->worst_disk_point].t, b, sizeof(b));
        fputs("  ", f);
        put_cell(f, "Disk", 10);
        const char *c = level(color, d->used_pct);
        fprintf(f, "%s%.1f%%%s full: %s (%s free) at %s\n", c, d->used_pct, c[0] ? C_OFF : "",
                r->mounts[d->mount].name, a, b);
    }
    if (r->worst_net != MON_REPORT_NONE) {
        const struct mon_point *p = &r->p[r->worst_net];
        mon_report_fmt_value(MON_NET_RX, pair_sum(p, MON_NET_RX, MON_NET_TX), v, sizeof(v));
        put_moment(f, 0, r, "Network", v, NAN, r->worst_net, 0);
    }
    if (r->worst_io != MON_REPORT_NONE) {
        const struct mon_point *p = &r->p[r->worst_io];
        mon_report_fmt_value(MON_IO_READ, pair_sum(p, MON_IO_READ, MON_IO_WRITE), v, sizeof(v));
        put_moment(f, 0, r, "Disk I/O", v, NAN, r->worst_io, 0);
    }
}

int mon_report_text(const struct mon_report *r, FILE *f, int color)
{
    if (r->n == 0) {
        fprintf(f, "%s\n", mon_report_empty_reason(r));
    } else {
        put_head(f, r, color);
        put_table(f, r, color);
        put_worst(f, r, color);
    }
    return ferror(f) ? -EIO : 0;
}
