/* Unit tests for src/host/mon_report*.c: statistics exact on known data (min, avg, max, p95
 * by nearest rank, when the max happened), sums over devices, coverage and gaps, the worst
 * moments, lines that are not samples skipped (also across read chunks), the period read,
 * memory bounded by dropping the oldest, no data said clearly, and the three outputs: the
 * text summary, JSON, and the HTML page (its charts, escaping, determinism, no URL and no
 * script). Times are shown in TZ, set here to UTC. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mon_report.h"

#define PATH_BUF 512
#define T0 1763596800.0 /* 2025-11-20 00:00:00 UTC */

static char home[256];
static char mondir[300];
static struct mon_sample smp;
static char line[MON_HISTORY_LINE_MAX + 2];

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(home, sizeof(home), "/tmp/cloudya-report-XXXXXX");
    if (mkdtemp(home) == NULL)
        return -1;
    snprintf(mondir, sizeof(mondir), "%s/monitor", home);
    return mkdir(mondir, 0700);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_BUF];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
    return system(cmd) == 0 ? 0 : -1;
}

/* A sample at t with nothing known but the time, the host and an elapsed of 5 s. */
static struct mon_sample *blank(double t)
{
    struct mon_sample *s = &smp;
    memset(s, 0, sizeof(*s));
    s->t = t;
    s->elapsed = 5;
    s->ncpu = 4;
    snprintf(s->host, sizeof(s->host), "web-1");
    s->cpu = s->cpu_user = s->cpu_system = s->cpu_iowait = s->cpu_steal = NAN;
    s->load[0] = s->load[1] = s->load[2] = NAN;
    s->mem_used_pct = s->mem_used = s->mem_total = s->mem_available = NAN;
    s->swap_used = s->swap_total = s->swap_pct = NAN;
    s->procs_total = s->procs_running = s->procs_blocked = s->procs_zombie = NAN;
    s->procs_threads = NAN;
    return s;
}

static void add_top(struct mon_sample *s, int pid, const char *name, double cpu, double mem)
{
    struct mon_top *p = &s->top[s->ntop++];
    p->pid = pid;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->cpu = cpu;
    p->mem_pct = mem;
}

static void add_disk(struct mon_sample *s, const char *mount, double pct, double inodes)
{
    struct mon_disk *d = &s->disks[s->ndisks++];
    snprintf(d->mount, sizeof(d->mount), "%s", mount);
    d->used_pct = pct;
    d->inodes_pct = inodes;
    d->total = 1000.0 * 1024 * 1024 * 1024;
    d->avail = d->total * (100 - pct) / 100;
}

static const char *day_file(double t)
{
    static char path[PATH_BUF];
    char name[MON_HISTORY_NAME_LEN + 1];
    assert_int_equal(mon_history_day_name((int64_t)floor(t / 86400), name, sizeof(name)), 0);
    snprintf(path, sizeof(path), "%s/%s", mondir, name);
    return path;
}

static void append(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* Records s in the day file of its time, as the monitor does. */
static void put(const struct mon_sample *s)
{
    size_t len;
    assert_int_equal(mon_sample_format(s, line, sizeof(line), &len), 0);
    append(day_file(s->t), line, len);
}

static struct mon_report *load(double since, double until)
{
    struct mon_report *r;
    char err[512];
    int rc = mon_report_load(home, since, until, &r, err, sizeof(err));
    if (rc != 0)
        fail_msg("load: %d %s", rc, err);
    return r;
}

/* Renders r into a malloc'd string with fn. */
static char *render(const struct mon_report *r, int which)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int rc = which == 0 ? mon_report_text(r, f, 0)
             : which == 1 ? mon_report_text(r, f, 1)
                          : mon_report_html(r, f);
    assert_int_equal(rc, 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- statistics ---------------------------------------------------------------------- */

/* 100 samples, CPU 1..100 in a scrambled order, written newest first. */
static void test_stats_exact(void **state)
{
    (void)state;
    for (int i = 99; i >= 0; i--) {
        int cpu = (i * 37) % 100 + 1; /* a permutation of 1..100 */
        struct mon_sample *s = blank(T0 + 5.0 * i);
        s->cpu = cpu;
        s->load[0] = cpu / 100.0;
        s->mem_used_pct = 10.0 * (i % 10);
        s->swap_pct = 0;
        s->mem_total = 8.0 * 1024 * 1024 * 1024;
        s->nio = 2;
        snprintf(s->io[0].device, MON_NAME_MAX, "sda");
        snprintf(s->io[1].device, MON_NAME_MAX, "sdb");
        s->io[0].read_bps = 100;
        s->io[1].read_bps = i;
        s->io[0].write_bps = s->io[1].write_bps = NAN; /* unknown: no write series at all */
        s->nnet = 2;
        snprintf(s->net[0].iface, MON_NAME_MAX, "eth0");
        snprintf(s->net[1].iface, MON_NAME_MAX, "lo"); /* never counted */
        s->net[0].rx_bps = 2.0 * i;
        s->net[0].tx_bps = 1;
        s->net[1].rx_bps = s->net[1].tx_bps = 1e9;
        add_disk(s, "/", 50 + i / 10.0, 3);
        add_disk(s, "/data", 90, 40 + (i % 4));
        add_top(s, 10 + cpu, cpu == 100 ? "burner" : "idle", cpu, 1);
        put(s);
    }
    struct mon_report *r = load(T0 - 60, T0 + 3600);
    assert_int_equal(mon_report_count(r), 100);
    assert_int_equal(r->files, 1);
    assert_int_equal(r->skipped, 0);
    for (size_t i = 1; i < r->n; i++)
        assert_true(r->p[i - 1].t < r->p[i].t); /* sorted */
    const struct mon_stat *c = &r->stat[MON_CPU];
    assert_int_equal(c->n, 100);
    assert_true(c->min == 1 && c->max == 100 && c->avg == 50.5 && c->p95 == 95);
    /* cpu 100 is at i with 37 i = 99 (mod 100): i = 27 */
    assert_true(c->t_max == T0 + 5.0 * 27);
    const struct mon_stat *m = &r->stat[MON_MEM];
    assert_true(m->min == 0 && m->max == 90 && m->avg == 45 && m->p95 == 90);
    assert_true(m->t_max == T0 + 5.0 * 9); /* the first of the maxima */
    const struct mon_stat *rd = &r->stat[MON_IO_READ];
    assert_true(rd->min == 100 && rd->max == 199 && rd->avg == 149.5 && rd->p95 == 194);
    assert_int_equal(r->stat[MON_IO_WRITE].n, 0);
    const struct mon_stat *rx = &r->stat[MON_NET_RX];
    assert_true(rx->min == 0 && rx->max == 198 && rx->avg == 99);
    assert_true(r->stat[MON_NET_TX].max == 1); /* lo left out */
    assert_true(fabs(r->stat[MON_LOAD1].max - 1.0) < 1e-6);
    assert_int_equal(r->nmounts, 2);
    assert_string_equal(r->mounts[0].name, "/");
    assert_true(fabs(r->mounts[0].used.min - 50.0) < 1e-4);
    assert_true(fabs(r->mounts[0].used.max - 59.9) < 1e-4);
    assert_true(r->mounts[0].used.t_max == T0 + 5.0 * 99);
    assert_true(r->mounts[1].inodes.min == 40 && r->mounts[1].inodes.max == 43 &&
                r->mounts[1].inodes.avg == 41.5);
    size_t idx[4];
    assert_int_equal(mon_report_fullest(r, idx, 4), 2);
    assert_int_equal(idx[0], 1); /* /data is fuller */
    /* the worst CPU moment is the burner, and its top process says so */
    assert_int_equal(r->nworst_cpu, 5); /* distinct moments: at least a minute apart */
    for (size_t i = 0; i < 5; i++)
        for (size_t k = 0; k < i; k++)
            assert_true(fabs(r->p[r->worst_cpu[i]].t - r->p[r->worst_cpu[k]].t) >= 60);
    const struct mon_point *w = &r->p[r->worst_cpu[0]];
    assert_true(w->v[MON_CPU] == 100);
    assert_string_equal(mon_report_name(r, w->top[0].name), "burner");
    assert_int_equal(w->top[0].pid, 110);

    /* the same in JSON */
    json_t *j = mon_report_json(r);
    assert_non_null(j);
    json_t *cpu = json_object_get(json_object_get(j, "stats"), "cpu");
    assert_true(json_real_value(json_object_get(cpu, "p95")) == 95);
    assert_true(json_real_value(json_object_get(cpu, "avg")) == 50.5);
    assert_true(json_real_value(json_object_get(cpu, "max_at")) == T0 + 135);
    assert_string_equal(json_string_value(json_object_get(cpu, "max_at_utc")),
                        "2025-11-20T00:02:15Z");
    assert_true(json_is_null(json_object_get(json_object_get(j, "stats"), "io_write_bps")));
    json_t *disks = json_object_get(j, "disks");
    assert_int_equal(json_array_size(disks), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 1), "mount")),
                        "/data");
    json_t *wc = json_array_get(json_object_get(json_object_get(j, "worst"), "cpu"), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(wc, "top"), 0), "name")),
        "burner");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "coverage"),
                                                        "samples")),
                     100);
    json_decref(j);
    mon_report_free(r);
}

static void test_p95_nearest_rank(void **state)
{
    (void)state;
    static const struct {
        int n;
        double p95;
    } cases[] = {{1, 1}, {2, 2}, {19, 19}, {20, 19}, {21, 20}, {40, 38}, {1000, 950}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct mon_report *r = mon_report_new(0, 0);
        for (int i = cases[c].n; i >= 1; i--) {
            struct mon_sample *s = blank(T0 + i);
            s->cpu = i;
            assert_int_equal(mon_report_add_sample(r, s), 1);
        }
        mon_report_finish(r);
        if (r->stat[MON_CPU].p95 != cases[c].p95)
            fail_msg("n=%d: p95 %g, want %g", cases[c].n, r->stat[MON_CPU].p95, cases[c].p95);
        assert_true(r->stat[MON_CPU].min == 1 && r->stat[MON_CPU].max == cases[c].n);
        mon_report_free(r);
    }
}

static void test_coverage_and_gaps(void **state)
{
    (void)state;
    /* a monitor refreshing every second (so recording every 5 s) for 10 minutes, not
     * running for an hour, then again for 10 minutes */
    for (int block = 0; block < 2; block++) {
        double start = T0 + 1800 + block * (595 + 3600);
        for (int i = 0; i < 120; i++) {
            struct mon_sample *s = blank(start + 5.0 * i);
            s->elapsed = 1;
            s->cpu = 5;
            put(s);
        }
    }
    struct mon_report *r = load(T0, T0 + 7200);
    assert_int_equal(r->n, 240);
    assert_int_equal(r->gaps, 1);
    assert_true(r->longest_gap_s == 3600);
    assert_true(r->longest_gap_at == T0 + 1800 + 595);
    assert_true(r->recorded_s == 2 * 595);
    assert_true(r->first == T0 + 1800 && r->last == T0 + 1800 + 595 + 3600 + 595);
    assert_true(r->start == T0 && r->end == T0 + 7200);
    assert_false(mon_report_gap_before(r, 119));
    assert_true(mon_report_gap_before(r, 120));
    assert_false(mon_report_gap_before(r, 0));
    char *text = render(r, 0);
    assert_non_null(strstr(text, "240 samples from 2025-11-20 00:30 to 2025-11-20 01:49: 19m "
                                 "recorded (17% of the period), 1 gap (longest 1h 0m from "
                                 "2025-11-20 00:39)"));
    free(text);
    char *html = render(r, 2);
    assert_true(count(html, "<rect class=\"gap\"") >= 3 * 2); /* before, between, after */
    free(html);
    mon_report_free(r);
}

static void test_worst_moments(void **state)
{
    (void)state;
    static const struct {
        int minute;
        double cpu;
    } spikes[] = {{180, 95}, {181, 90}, {540, 85}, {720, 80}, {900, 75},
                  {1080, 70}, {1260, 65}, {1262, 99.5}};
    for (int m = 0; m < 24 * 60; m++) {
        struct mon_sample *s = blank(T0 + 60.0 * m);
        s->elapsed = 60;
        s->cpu = 10;
        s->mem_used_pct = 30 + (m == 600 ? 60 : 0) + (m == 601 ? 59 : 0) + (m == 1200 ? 40 : 0);
        for (size_t k = 0; k < sizeof(spikes) / sizeof(spikes[0]); k++)
            if (spikes[k].minute == m)
                s->cpu = spikes[k].cpu;
        add_disk(s, "/", 40, 1);
        add_disk(s, "/data", m == 840 ? 99.5 : 70 + m / 100.0, 1);
        s->nnet = 1;
        snprintf(s->net[0].iface, MON_NAME_MAX, "eth0");
        s->net[0].rx_bps = m == 300 ? 1e6 : 1000;
        s->net[0].tx_bps = m == 301 ? 9e5 : 1000;
        s->nio = 1;
        snprintf(s->io[0].device, MON_NAME_MAX, "vda");
        s->io[0].read_bps = m == 120 ? 5e7 : 0;
        s->io[0].write_bps = 10;
        add_top(s, 100 + m, s->cpu > 50 ? "burner" : "sshd", s->cpu, 1);
        put(s);
    }
    struct mon_report *r = load(T0, T0 + 86400);
    assert_int_equal(r->n, 1440);
    /* distinct moments at least a 50th of the span apart (here ~29 minutes) */
    assert_int_equal(r->nworst_cpu, 5);
    static const double want_cpu[] = {99.5, 95, 85, 80, 75};
    static const int want_min[] = {1262, 180, 540, 720, 900};
    for (int i = 0; i < 5; i++) {
        const struct mon_point *p = &r->p[r->worst_cpu[i]];
        assert_true(p->v[MON_CPU] == (float)want_cpu[i]);
        assert_true(p->t == T0 + 60.0 * want_min[i]);
        assert_string_equal(mon_report_name(r, p->top[0].name), "burner");
    }
    assert_true(r->p[r->worst_mem[0]].t == T0 + 600 * 60);
    assert_true(r->p[r->worst_mem[1]].t == T0 + 1200 * 60); /* 601 is too close to 600 */
    assert_true(r->worst_disk != MON_REPORT_NONE);
    assert_string_equal(r->mounts[r->d[r->worst_disk].mount].name, "/data");
    assert_true(r->p[r->worst_disk_point].t == T0 + 840 * 60);
    assert_true(r->p[r->worst_net].t == T0 + 300 * 60);
    assert_true(r->p[r->worst_io].t == T0 + 120 * 60);

    char *text = render(r, 0);
    assert_non_null(strstr(text, "\n  CPU       99.5%      2025-11-20 21:02  burner 99.5%\n"));
    assert_non_null(strstr(text, "\n  Memory    90.0%      2025-11-20 10:00  sshd 1.0% mem\n"));
    assert_non_null(strstr(text, "99.5% full: /data (5.00 GiB free) at 2025-11-20 14:00"));
    assert_non_null(strstr(text, "\n  Network   978 KiB/s  2025-11-20 05:00"));
    assert_non_null(strstr(text, "\n  Disk I/O  47.7 MiB/s 2025-11-20 02:00"));
    free(text);
    mon_report_free(r);
}

/* ---- reading ------------------------------------------------------------------------- */

static void test_bad_lines_skipped(void **state)
{
    (void)state;
    size_t len;
    struct mon_sample *s = blank(T0 + 10);
    s->cpu = 1;
    const char *path = day_file(T0);
    put(s);
    append(path, "garbage\n", 8);
    size_t big = 100 * 1024;
    char *long_line = malloc(big + 1);
    assert_non_null(long_line);
    memset(long_line, 'x', big);
    long_line[big] = '\n';
    append(path, long_line, big + 1);
    blank(T0 + 20)->cpu = 2;
    put(&smp);
    append(path, "{\"v\":2,\"t\":1763596830}\n\n", 24);
    blank(T0 + 40)->cpu = 3;
    assert_int_equal(mon_sample_format(&smp, line, sizeof(line), &len), 0);
    append(path, line, len - 1); /* the last line without its newline */
    struct mon_report *r = load(T0, T0 + 86400);
    assert_int_equal(r->n, 3);
    assert_int_equal(r->skipped, 3);
    assert_int_equal(r->lines, 6);
    assert_true(r->stat[MON_CPU].max == 3);
    char *text = render(r, 0);
    assert_non_null(strstr(text, "3 unreadable lines skipped"));
    free(text);
    mon_report_free(r);

    /* many lines across the reader's chunks, a huge line in the middle */
    unlink(path);
    for (int i = 0; i < 600; i++) {
        s = blank(T0 + 5.0 * i);
        s->cpu = i % 100;
        add_disk(s, "/srv/a-rather-long-mount-point-name-to-make-lines-longer", 50, 1);
        add_disk(s, "/srv/another-rather-long-mount-point-name-for-the-same", 51, 1);
        put(s);
        if (i == 300)
            append(path, long_line, big + 1);
    }
    free(long_line);
    r = load(T0, T0 + 86400);
    assert_int_equal(r->n, 600);
    assert_int_equal(r->skipped, 1);
    mon_report_free(r);
}

static void test_period(void **state)
{
    (void)state;
    for (int d = -1; d <= 1; d++)
        for (int h = 0; h < 24; h++) {
            struct mon_sample *s = blank(T0 + d * 86400.0 + h * 3600.0);
            s->cpu = 10 + d;
            put(s);
        }
    /* 2025-11-20 06:00 to 18:00: one file read, its other hours counted as outside */
    struct mon_report *r = load(T0 + 6 * 3600, T0 + 18 * 3600);
    assert_int_equal(r->files, 1);
    assert_int_equal(r->n, 13);
    assert_int_equal(r->out_of_period, 11);
    assert_true(r->stat[MON_CPU].max == 10);
    mon_report_free(r);
    r = load(0, 0); /* everything */
    assert_int_equal(r->files, 3);
    assert_int_equal(r->n, 72);
    assert_true(r->start == r->first && r->end == r->last);
    mon_report_free(r);
    /* files that are not ours are not read */
    append(day_file(T0 - 5 * 86400.0), "x\n", 2);
    char other[PATH_BUF];
    snprintf(other, sizeof(other), "%s/samples-2025-11-20.jsonl.bak", mondir);
    append(other, "garbage\n", 8);
    r = load(0, 0);
    assert_int_equal(r->files, 4);
    assert_int_equal(r->skipped, 1);
    mon_report_free(r);
}

static void test_no_data(void **state)
{
    (void)state;
    rmdir(mondir);
    struct mon_report *r = load(T0, T0 + 7 * 86400);
    assert_int_equal(mon_report_count(r), 0);
    assert_string_equal(mon_report_empty_reason(r),
                        "no samples recorded between 2025-11-20 00:00 and 2025-11-27 00:00 "
                        "(UTC); run `cloudya monitor` (it records while it runs)");
    char *text = render(r, 0);
    assert_non_null(strstr(text, "no samples recorded between"));
    free(text);
    char *html = render(r, 2);
    assert_non_null(strstr(html, "no samples recorded between"));
    assert_null(strstr(html, "<svg"));
    free(html);
    json_t *j = mon_report_json(r);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "coverage"),
                                                        "samples")),
                     0);
    json_decref(j);
    mon_report_free(r);
    /* the folder exists, but nothing in the period */
    assert_int_equal(mkdir(mondir, 0700), 0);
    blank(T0 - 86400 * 30)->cpu = 1;
    put(&smp);
    r = load(T0, T0 + 7 * 86400);
    assert_int_equal(mon_report_count(r), 0);
    assert_non_null(strstr(mon_report_empty_reason(r), "cloudya monitor"));
    mon_report_free(r);
}

static void test_memory_bound(void **state)
{
    (void)state;
    struct mon_report *r = mon_report_new(0, 0);
    r->max_samples = 80;
    for (int i = 0; i < 200; i++) {
        struct mon_sample *s = blank(T0 + i);
        s->cpu = i % 100;
        add_disk(s, "/", i, 0);
        assert_int_equal(mon_report_add_sample(r, s), 1);
    }
    mon_report_finish(r);
    assert_true(r->n <= 80 && r->n >= 70);
    assert_int_equal(r->dropped + r->n, 200);
    assert_true(r->last == T0 + 199);
    assert_true(r->first == r->dropped_until + 1);
    /* each point still has its own disk */
    for (size_t i = 0; i < r->n; i++)
        assert_true(r->d[r->p[i].disk_off].used_pct == (float)(r->p[i].t - T0));
    char *text = render(r, 0);
    assert_non_null(strstr(text, "older samples (until"));
    free(text);
    mon_report_free(r);
}

/* ---- outputs ------------------------------------------------------------------------- */

static void hostile_data(int n)
{
    for (int i = 0; i < n; i++) {
        struct mon_sample *s = blank(T0 + 30.0 * i + (i >= n / 2 ? 7200 : 0));
        snprintf(s->host, sizeof(s->host), "<h1>evil & co</h1>");
        s->elapsed = 30;
        s->cpu = 20 + 20 * sin(i / 50.0) + (i == 100 ? 60 : 0);
        s->load[0] = s->cpu / 25;
        s->mem_used_pct = 40 + i % 7;
        s->swap_pct = 1;
        s->mem_total = 4.0 * 1024 * 1024 * 1024;
        add_disk(s, "/a&b\"<x>'", 60, 2);
        add_disk(s, "/", 30, 2);
        s->nnet = 1;
        snprintf(s->net[0].iface, MON_NAME_MAX, "eth0");
        s->net[0].rx_bps = 1000.0 * i;
        s->net[0].tx_bps = 50;
        s->nio = 1;
        snprintf(s->io[0].device, MON_NAME_MAX, "vda");
        s->io[0].read_bps = 1e5;
        s->io[0].write_bps = 2e5;
        add_top(s, 666, "<script>alert(1)</script>", 90, 1);
        add_top(s, 7, "a&b", 1, 1);
        put(s);
    }
}

static void test_html(void **state)
{
    (void)state;
    hostile_data(5000);
    struct mon_report *r = load(T0, T0 + 30 * 5000 + 7200);
    char *html = render(r, 2);
    char *again = render(r, 2);
    assert_string_equal(html, again); /* deterministic */
    free(again);
    assert_int_equal(strncmp(html, "<!DOCTYPE html>", 15), 0);
    assert_non_null(strstr(html, "</html>\n"));
    /* self-contained and script-free, with every outside text escaped */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "url("));
    assert_null(strstr(html, "<h1>evil"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "/a&amp;b&quot;&lt;x&gt;&#39;"));
    assert_non_null(strstr(html, "<h1>&lt;h1&gt;evil &amp; co&lt;/h1&gt;</h1>"));
    /* the charts: coverage strip + CPU, memory, disk, I/O, network */
    assert_int_equal(count(html, "<svg"), 6);
    assert_int_equal(count(html, "</svg>"), 6);
    assert_true(count(html, "<path class=\"line ") == 2 + 2 + 2 + 2 + 2);
    /* bands (avg to max) for CPU, memory, swap, I/O and network, each in two runs */
    assert_int_equal(count(html, "<path class=\"band "), 2 * 7);
    assert_true(count(html, "<rect class=\"gap\"") >= 1); /* the two hours off */
    assert_non_null(strstr(html, "times in UTC"));
    assert_non_null(strstr(html, ">100%</text>"));
    /* at most 800 points per series: count the pen moves of the CPU line */
    const char *cpu = strstr(html, "<path class=\"line c0\" d=\"");
    assert_non_null(cpu);
    const char *end = strchr(cpu + 25, '"');
    size_t pts = 0;
    for (const char *p = cpu + 25; p < end; p++)
        pts += *p == 'L' || *p == 'M';
    assert_true(pts > 400 && pts <= 800);
    /* a break where the monitor was off: the CPU line has two runs */
    size_t moves = 0;
    for (const char *p = cpu + 25; p < end; p++)
        moves += *p == 'M';
    assert_int_equal(moves, 2);
    /* tables */
    assert_non_null(strstr(html, "<h2>Statistics</h2>"));
    assert_non_null(strstr(html, "<h2>Worst moments</h2>"));
    assert_non_null(strstr(html, "<td>CPU</td><td class=\"val hot\">")); /* the spike */
    free(html);
    mon_report_free(r);

    /* one sample only: still a page, a dot instead of a line */
    teardown(state);
    setup(state);
    hostile_data(1); /* at T0 + 2 h */
    r = load(T0, T0 + 3 * 3600);
    assert_int_equal(r->n, 1);
    html = render(r, 2);
    assert_non_null(strstr(html, "<circle class=\"dot c0\""));
    assert_null(strstr(html, "<script"));
    free(html);
    mon_report_free(r);
}

static void test_text(void **state)
{
    (void)state;
    hostile_data(200);
    struct mon_report *r = load(T0, T0 + 86400);
    char *text = render(r, 0);
    assert_int_equal(strncmp(text, "Monitor report for <h1>evil & co</h1>\n"
                                   "Period    2025-11-20 00:00 to 2025-11-21 00:00 "
                                   "(1d 0h; times in UTC)\n",
                             strlen("Monitor report for <h1>evil & co</h1>\nPeriod    "
                                    "2025-11-20 00:00 to 2025-11-21 00:00 (1d 0h; times "
                                    "in UTC)\n")),
                     0);
    assert_non_null(strstr(text, "\n                            min        avg        max"
                                 "        p95  max at\n"));
    assert_non_null(strstr(text, "\nCPU      "));
    assert_non_null(strstr(text, "\nLoad (1 min)"));
    assert_non_null(strstr(text, "\nMemory used "));
    assert_non_null(strstr(text, "\nDisk /a&b\"<x>'  "));
    assert_non_null(strstr(text, "\nNet receive "));
    assert_non_null(strstr(text, "\nWorst moments\n"));
    assert_non_null(strstr(text, "<script>alert(1)</script> 90.0%"));
    assert_null(strstr(text, "\033["));
    assert_true(count(text, "\n") <= 30);
    free(text);
    char *colored = render(r, 1);
    assert_non_null(strstr(colored, "\033[1mMonitor report"));
    free(colored);
    mon_report_free(r);
}

static void test_formats(void **state)
{
    (void)state;
    char b[64];
    static const struct {
        double v;
        const char *want;
    } bytes[] = {{0, "0 B"},           {1023, "1023 B"},     {1024, "1.00 KiB"},
                 {1536, "1.50 KiB"},   {10485760, "10.0 MiB"}, {214748364800.0, "200 GiB"},
                 {NAN, "-"},           {-1, "-"}};
    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        mon_report_fmt_bytes(bytes[i].v, b, sizeof(b));
        assert_string_equal(b, bytes[i].want);
    }
    mon_report_fmt_value(MON_NET_RX, 2048, b, sizeof(b));
    assert_string_equal(b, "2.00 KiB/s");
    mon_report_fmt_value(MON_CPU, 12.34, b, sizeof(b));
    assert_string_equal(b, "12.3%");
    mon_report_fmt_value(MON_LOAD1, 0.5, b, sizeof(b));
    assert_string_equal(b, "0.50");
    mon_report_fmt_value(MON_MEM, NAN, b, sizeof(b));
    assert_string_equal(b, "-");
    static const struct {
        double s;
        const char *want;
    } durs[] = {{45, "45s"}, {720, "12m"}, {12000, "3h 20m"}, {442800, "5d 3h"}, {-3, "0s"}};
    for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
        mon_report_fmt_duration(durs[i].s, b, sizeof(b));
        assert_string_equal(b, durs[i].want);
    }
    mon_report_fmt_time(T0 + 3600 * 14 + 5 * 60 + 59, b, sizeof(b));
    assert_string_equal(b, "2025-11-20 14:05");
    mon_report_fmt_zone(T0, b, sizeof(b));
    assert_string_equal(b, "UTC");
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    mon_report_fmt_zone(T0, b, sizeof(b));
    assert_string_equal(b, "CET, UTC+01:00");
    mon_report_fmt_time(T0, b, sizeof(b));
    assert_string_equal(b, "2025-11-20 01:00");
    setenv("TZ", "America/St_Johns", 1);
    tzset();
    mon_report_fmt_zone(T0, b, sizeof(b));
    assert_string_equal(b, "NST, UTC-03:30");
    setenv("TZ", "UTC", 1);
    tzset();
    assert_string_equal(mon_series_key(MON_NET_TX), "net_tx_bps");
    assert_string_equal(mon_series_label(MON_CPU), "CPU");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stats_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_p95_nearest_rank, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coverage_and_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worst_moments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_lines_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formats, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
