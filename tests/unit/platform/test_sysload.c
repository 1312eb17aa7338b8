/* Unit tests for src/platform/sysload.c: fake /proc/stat, meminfo, loadavg and uptime files
 * in a temporary directory (normal, old-kernel, empty, truncated, garbage and huge-number
 * content), the parsers on their own (the whole of /proc/stat with per-core lines, offline
 * CPUs and heads cut off, meminfo in full), CPU shares with counters going backwards,
 * statvfs of "/" against a direct statvfs, and the real /proc for plausibility. */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "sysload.h"

static char root[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/sltest.XXXXXX");
    return mkdtemp(root) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static void put(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", root, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* ---- CPU ---------------------------------------------------------------------------- */

static void test_cpu_read(void **state)
{
    (void)state;
    sysload_cpu a, b;
    /* user nice system idle iowait irq softirq steal guest guest_nice */
    put("stat", "cpu  100 20 30 1000 50 5 6 7 40 10\ncpu0 50 10 15 500 25 2 3 3 20 5\n"
                "intr 12345 0 0 0\nctxt 99\n");
    assert_int_equal(sysload_cpu_read(root, &a), 0);
    assert_int_equal(a.busy, 100 + 20 + 30 + 5 + 6 + 7); /* guest not counted twice */
    assert_int_equal(a.total, 168 + 1000 + 50);
    put("stat", "cpu  150 20 30 1100 50 5 6 7 40 10\n");
    assert_int_equal(sysload_cpu_read(root, &b), 0);
    assert_true(sysload_cpu_percent(&a, &b) > 33.3 && sysload_cpu_percent(&a, &b) < 33.4);
    assert_true(sysload_cpu_percent(&a, &a) == 0.0);
    assert_true(sysload_cpu_percent(&b, &a) == 0.0); /* backwards */

    /* an old kernel with four fields */
    put("stat", "cpu 1 2 3 4\n");
    assert_int_equal(sysload_cpu_read(root, &a), 0);
    assert_int_equal(a.busy, 6);
    assert_int_equal(a.total, 10);
    /* a future kernel with an eleventh field: checked, not counted */
    put("stat", "cpu 1 2 3 4 5 6 7 8 9 10 11\n");
    assert_int_equal(sysload_cpu_read(root, &a), 0);
    assert_int_equal(a.total, 36);

    /* a first line longer than the buffer */
    char *big = malloc(SYSLOAD_READ_MAX + 100);
    assert_non_null(big);
    size_t n = (size_t)snprintf(big, SYSLOAD_READ_MAX + 100, "cpu");
    while (n < SYSLOAD_READ_MAX + 50)
        n += (size_t)snprintf(big + n, SYSLOAD_READ_MAX + 100 - n, " 1");
    put("stat", big);
    free(big);
    assert_int_equal(sysload_cpu_read(root, &a), -EINVAL);
    assert_int_equal(a.total, 0);

    char missing[96];
    snprintf(missing, sizeof(missing), "%s/nope", root);
    assert_int_equal(sysload_cpu_read(missing, &a), -ENOENT);
}

static void test_parse_cpu(void **state)
{
    (void)state;
    sysload_cpu c;
    assert_int_equal(sysload_parse_cpu("cpu  1 2 3 4 5 6 7 8 9 10", &c), 0); /* no newline */
    assert_int_equal(c.busy, 1 + 2 + 3 + 6 + 7 + 8);
    assert_int_equal(sysload_parse_cpu("", &c), -EINVAL);
    assert_int_equal(sysload_parse_cpu("cpu 1 2 3\n", &c), -EINVAL); /* truncated */
    assert_int_equal(sysload_parse_cpu("cpu\n", &c), -EINVAL);
    assert_int_equal(sysload_parse_cpu("cpu0 1 2 3 4\n", &c), -EINVAL);
    assert_int_equal(sysload_parse_cpu("intr 1 2 3 4\ncpu 1 2 3 4\n", &c), -EINVAL);
    assert_int_equal(sysload_parse_cpu("cpu 1 2 x 4\n", &c), -EINVAL);
    assert_int_equal(sysload_parse_cpu("cpu 1 2 3 4x\n", &c), -EINVAL);
    assert_int_equal(sysload_parse_cpu("cpu 1 2 3 99999999999999999999\n", &c), -ERANGE);
    assert_int_equal(c.busy, 0);
    assert_int_equal(sysload_parse_cpu("cpu 18446744073709551615 1 0 1\n", &c), 0);
    assert_int_equal(c.busy, UINT64_MAX); /* sums saturate */
    assert_int_equal(c.total, UINT64_MAX);
}

/* ---- memory ------------------------------------------------------------------------- */

static void test_memory(void **state)
{
    (void)state;
    uint64_t t, a;
    double pct;
    put("meminfo", "MemTotal:       16000000 kB\nMemFree:         1000000 kB\n"
                   "MemAvailable:    4000000 kB\nBuffers:          100 kB\n");
    assert_int_equal(sysload_memory(root, &t, &a, &pct), 0);
    assert_int_equal(t, 16000000ull * 1024);
    assert_int_equal(a, 4000000ull * 1024);
    assert_true(pct == 75.0);
    /* before Linux 3.14: MemFree + Buffers + Cached */
    put("meminfo", "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n"
                   "SwapCached: 999 kB\n");
    assert_int_equal(sysload_memory(root, &t, &a, &pct), 0);
    assert_int_equal(a, 400 * 1024);
    assert_true(pct == 60.0);
    put("meminfo", "MemFree: 100 kB\n");
    assert_int_equal(sysload_memory(root, &t, &a, &pct), -EINVAL);
    assert_int_equal(t, 0);
    assert_true(pct == 0.0);
    put("meminfo", "");
    assert_int_equal(sysload_memory(root, &t, &a, &pct), -EINVAL);
}

static void test_parse_meminfo(void **state)
{
    (void)state;
    uint64_t t, a;
    assert_int_equal(sysload_parse_meminfo("MemTotal: 10 kB\nMemAvailable: 20 kB", &t, &a), 0);
    assert_int_equal(a, 20 * 1024); /* more available than total is passed on as it is */
    assert_int_equal(sysload_parse_meminfo("MemTotal: 0 kB\n", &t, &a), -EINVAL);
    assert_int_equal(sysload_parse_meminfo("MemTotal: 10\n", &t, &a), -EINVAL); /* no unit */
    assert_int_equal(sysload_parse_meminfo("MemTotal: 10 MB\n", &t, &a), -EINVAL);
    assert_int_equal(sysload_parse_meminfo("MemTotal:", &t, &a), -EINVAL); /* truncated */
    assert_int_equal(sysload_parse_meminfo("MemTotal: 10 kB\nMemAvailable: x kB\n", &t, &a),
                     -EINVAL);
    assert_int_equal(t, 0);
    assert_int_equal(sysload_parse_meminfo("MemTotalX: 10 kB\n", &t, &a), -EINVAL);
    assert_int_equal(sysload_parse_meminfo("\xff\xfe garbage\n", &t, &a), -EINVAL);
    assert_int_equal(sysload_parse_meminfo("MemTotal: 18446744073709551615 kB\n", &t, &a),
                     -ERANGE); /* bytes would not fit */
    assert_int_equal(sysload_parse_meminfo("MemTotal: 99999999999999999999 kB\n", &t, &a),
                     -ERANGE);
}


/* ---- /proc/stat in full ------------------------------------------------------------- */

/* A real 4-CPU /proc/stat (Linux 6.1) with CPU 2 offline. */
static const char stat_text[] =
    "cpu  46931 312 17804 7551234 2301 0 1432 55 0 0\n"
    "cpu0 11841 80 4523 1887431 612 0 1012 14 0 0\n"
    "cpu1 11765 71 4402 1888120 540 0 210 13 0 0\n"
    "cpu3 11655 85 4431 1888020 591 0 98 15 0 0\n"
    "intr 2412312 0 9 0 0 0 0 0 0 0 0 0 0 156 0 0 0 0 0 0 0 0 0 0\n"
    "ctxt 5043211\n"
    "btime 1763600000\n"
    "processes 23456\n"
    "procs_running 3\n"
    "procs_blocked 1\n"
    "softirq 1234567 0 234567 12 45678 23456 0 345 123456 0 456789\n";

static void test_parse_stat(void **state)
{
    (void)state;
    sysload_stat *st = malloc(sizeof(*st));
    assert_non_null(st);
    assert_int_equal(sysload_parse_stat(stat_text, st), 0);
    assert_int_equal(st->all.user, 46931);
    assert_int_equal(st->all.nice, 312);
    assert_int_equal(st->all.system, 17804);
    assert_int_equal(st->all.idle, 7551234);
    assert_int_equal(st->all.iowait, 2301);
    assert_int_equal(st->all.softirq, 1432);
    assert_int_equal(st->all.steal, 55);
    assert_int_equal(st->ncore, 3);
    assert_int_equal(st->cores_truncated, 0);
    assert_int_equal(st->core[0].id, 0);
    assert_int_equal(st->core[1].id, 1);
    assert_int_equal(st->core[2].id, 3);
    assert_int_equal(st->core[2].t.user, 11655);
    assert_int_equal(st->core[2].t.steal, 15);
    assert_int_equal(st->procs_running, 3);
    assert_int_equal(st->procs_blocked, 1);
    assert_int_equal(st->btime, 1763600000);

    /* an old kernel: four fields, no procs lines */
    assert_int_equal(sysload_parse_stat("cpu 1 2 3 4\ncpu0 1 2 3 4\npage 5 6\n", st), 0);
    assert_int_equal(st->ncore, 1);
    assert_int_equal(st->core[0].t.idle, 4);
    assert_int_equal(st->procs_running, 0);
    assert_int_equal(sysload_parse_stat("cpu 1 2 3 4", st), 0); /* no newline, no cores */
    assert_int_equal(st->ncore, 0);

    static const char *const bad[] = {
        "",
        "cpu0 1 2 3 4\n",                       /* no aggregate line first */
        "intr 1\ncpu 1 2 3 4\n",
        "cpu 1 2 3\n",
        "cpu 1 2 3 4\ncpu0 1 2 3\n",            /* a short core line */
        "cpu 1 2 3 4\ncpu0 1 2 x 4\n",
        "cpu 1 2 3 4\ncpu 1 2 3 4\n",           /* a second aggregate line */
        "cpu 1 2 3 4\ncpux 1 2 3 4\n",
        "cpu 1 2 3 4\ncpu0  \n",
        "cpu 1 2 3 4\nprocs_running x\n",
        "cpu 1 2 3 4\nprocs_running 3 4\n",
        "cpu 1 2 3 4\nbtime\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(st, 0x5a, sizeof(*st));
        assert_int_equal(sysload_parse_stat(bad[i], st), -EINVAL);
        assert_int_equal(st->ncore, 0);
        assert_int_equal(st->all.user, 0);
    }
    assert_int_equal(sysload_parse_stat("cpu 1 2 3 4\ncpu99999999999 1 2 3 4\n", st), -ERANGE);
    assert_int_equal(sysload_parse_stat("cpu 1 2 3 99999999999999999999\n", st), -ERANGE);
    assert_int_equal(sysload_parse_stat("cpu 1 2 3 4\nbtime 99999999999999999999\n", st),
                     -ERANGE);
    /* "cpu" words inside other lines and keys as prefixes are not theirs */
    assert_int_equal(sysload_parse_stat("cpu 1 2 3 4\nprocs_runningx 5\nbtimes 1\n", st), 0);
    assert_int_equal(st->procs_running, 0);
    assert_int_equal(st->btime, 0);
    free(st);
}

static void test_stat_read(void **state)
{
    (void)state;
    sysload_stat *st = malloc(sizeof(*st));
    assert_non_null(st);
    put("stat", stat_text);
    assert_int_equal(sysload_stat_read(root, st), 0);
    assert_int_equal(st->ncore, 3);
    assert_int_equal(st->procs_blocked, 1);

    /* more cores than kept, then an intr line that runs past the head */
    size_t cap = SYSLOAD_STAT_MAX + 64 * 1024, n = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    n += (size_t)snprintf(big + n, cap - n, "cpu 1 2 3 4 5 6 7 8 0 0\n");
    for (unsigned c = 0; c < SYSLOAD_CPUS_MAX + 10; c++)
        n += (size_t)snprintf(big + n, cap - n, "cpu%u %u 0 1 2 3 4 5 6 0 0\n", c, c);
    n += (size_t)snprintf(big + n, cap - n, "procs_running 7\nintr 1");
    while (n < cap - 100)
        n += (size_t)snprintf(big + n, cap - n, " 0");
    snprintf(big + n, cap - n, "\nprocs_blocked 9\n");
    put("stat", big);
    assert_int_equal(sysload_stat_read(root, st), 0);
    assert_int_equal(st->ncore, SYSLOAD_CPUS_MAX);
    assert_int_equal(st->cores_truncated, 1);
    assert_int_equal(st->core[SYSLOAD_CPUS_MAX - 1].t.user, SYSLOAD_CPUS_MAX - 1);
    assert_int_equal(st->procs_running, 7);
    assert_int_equal(st->procs_blocked, 0); /* beyond the head */

    /* a first line longer than the head */
    n = (size_t)snprintf(big, cap, "cpu");
    while (n < cap - 100)
        n += (size_t)snprintf(big + n, cap - n, " 1");
    put("stat", big);
    assert_int_equal(sysload_stat_read(root, st), -EINVAL);
    assert_int_equal(st->ncore, 0);
    free(big);

    put("stat", "garbage\n");
    assert_int_equal(sysload_stat_read(root, st), -EINVAL);
    char missing[96];
    snprintf(missing, sizeof(missing), "%s/nope", root);
    assert_int_equal(sysload_stat_read(missing, st), -ENOENT);
    free(st);
}

static int near(double a, double b)
{
    return a - b < 0.001 && b - a < 0.001;
}

static void test_cpu_shares(void **state)
{
    (void)state;
    sysload_cpu_times a = {100, 0, 50, 1000, 10, 0, 0, 0};
    /* 100 ticks: user 40 + nice 10, system 10 + irq 5 + softirq 5, iowait 10, steal 5,
     * idle 15 */
    sysload_cpu_times b = {140, 10, 60, 1015, 20, 5, 5, 5};
    sysload_shares s;
    sysload_cpu_shares(&a, &b, &s);
    assert_true(near(s.user, 50.0));
    assert_true(near(s.system, 20.0));
    assert_true(near(s.iowait, 10.0));
    assert_true(near(s.steal, 5.0));
    assert_true(near(s.idle, 15.0));
    assert_true(near(s.total, 75.0));
    /* the same busy share as sysload_cpu_percent */
    sysload_cpu pa = {150, 1160}, pb = {225, 1260};
    assert_true(near(sysload_cpu_percent(&pa, &pb), s.total));

    sysload_cpu_shares(&a, &a, &s); /* no time */
    assert_true(s.total == 0.0 && s.idle == 0.0 && s.user == 0.0);
    /* iowait going backwards counts as 0, the rest stays within 100 */
    sysload_cpu_times c = b;
    c.iowait = 0;
    c.idle = 1025;
    sysload_cpu_shares(&b, &c, &s);
    assert_true(near(s.idle, 100.0));
    assert_true(s.iowait == 0.0 && s.total == 0.0);
    sysload_cpu_shares(&b, &a, &s); /* everything backwards */
    assert_true(s.total == 0.0 && s.idle == 0.0);
}

/* ---- meminfo in full, uptime -------------------------------------------------------- */

static const char meminfo_text[] =
    "MemTotal:       24684084 kB\n"
    "MemFree:        23136252 kB\n"
    "MemAvailable:   24125656 kB\n"
    "Buffers:           10348 kB\n"
    "Cached:           631904 kB\n"
    "SwapCached:            0 kB\n"
    "Active:           322508 kB\n"
    "SwapTotal:       2097148 kB\n"
    "SwapFree:        1048574 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

static void test_meminfo_full(void **state)
{
    (void)state;
    sysload_meminfo m;
    assert_int_equal(sysload_parse_meminfo_full(meminfo_text, &m), 0);
    assert_int_equal(m.total, 24684084ull * 1024);
    assert_int_equal(m.free, 23136252ull * 1024);
    assert_int_equal(m.available, 24125656ull * 1024);
    assert_int_equal(m.buffers, 10348ull * 1024);
    assert_int_equal(m.cached, 631904ull * 1024);
    assert_int_equal(m.swap_total, 2097148ull * 1024);
    assert_int_equal(m.swap_free, 1048574ull * 1024);
    put("meminfo", meminfo_text);
    memset(&m, 0, sizeof(m));
    assert_int_equal(sysload_meminfo_read(root, &m), 0);
    assert_int_equal(m.swap_free, 1048574ull * 1024);

    /* optional lines absent: zeros */
    assert_int_equal(sysload_parse_meminfo_full("MemTotal: 100 kB\nMemAvailable: 50 kB\n", &m),
                     0);
    assert_int_equal(m.total, 102400);
    assert_int_equal(m.swap_total, 0);
    assert_int_equal(m.cached, 0);
    /* "SwapCached" is not "Cached", nor "MemFreeX" "MemFree" */
    assert_int_equal(sysload_parse_meminfo_full("MemTotal: 1 kB\nSwapCached: 7 kB\n"
                                                "MemFreeX: 3 kB\n", &m), 0);
    assert_int_equal(m.cached, 0);
    assert_int_equal(m.free, 0);
    /* a malformed optional line fails the text */
    assert_int_equal(sysload_parse_meminfo_full("MemTotal: 1 kB\nSwapFree: 1 MB\n", &m),
                     -EINVAL);
    assert_int_equal(m.total, 0);
    assert_int_equal(sysload_parse_meminfo_full("MemTotal: 1 kB\nCached: "
                                                "99999999999999999999 kB\n", &m), -ERANGE);
    assert_int_equal(sysload_parse_meminfo_full("SwapTotal: 1 kB\n", &m), -EINVAL);
    put("meminfo", "");
    assert_int_equal(sysload_meminfo_read(root, &m), -EINVAL);
}

static void test_uptime(void **state)
{
    (void)state;
    double up;
    assert_int_equal(sysload_parse_uptime("38890.61 49278.37\n", &up), 0);
    assert_true(near(up, 38890.61));
    assert_int_equal(sysload_parse_uptime("12", &up), 0);
    assert_true(up == 12.0);
    assert_int_equal(sysload_parse_uptime("", &up), -EINVAL);
    assert_int_equal(sysload_parse_uptime(" 1.0 2.0", &up), -EINVAL);
    assert_int_equal(sysload_parse_uptime("1.0x 2.0", &up), -EINVAL);
    assert_int_equal(sysload_parse_uptime("-1.0 2.0", &up), -EINVAL);
    assert_int_equal(sysload_parse_uptime("99999999999 2.0", &up), -ERANGE);
    assert_true(up == 0.0);
    put("uptime", "100.50 3.25\n");
    assert_int_equal(sysload_uptime(root, &up), 0);
    assert_true(near(up, 100.5));
}

/* ---- disk, load, CPUs --------------------------------------------------------------- */

static void test_disk(void **state)
{
    (void)state;
    uint64_t t, a;
    double pct;
    struct statvfs v;
    assert_int_equal(sysload_disk("/", &t, &a, &pct), 0);
    assert_int_equal(statvfs("/", &v), 0);
    uint64_t unit = v.f_frsize ? v.f_frsize : v.f_bsize;
    assert_int_equal(t, (uint64_t)v.f_blocks * unit);
    /* the root file system may change a little between the two calls */
    double diff = (double)a - (double)v.f_bavail * (double)unit;
    assert_true(diff < 64.0 * 1024 * 1024 && diff > -64.0 * 1024 * 1024);
    assert_true(pct >= 0.0 && pct <= 100.0);
    assert_true(a <= t);
    double used = (double)(v.f_blocks - v.f_bfree);
    double want = used / (used + (double)v.f_bavail) * 100.0;
    assert_true(pct - want < 1.0 && want - pct < 1.0);
    assert_int_equal(sysload_disk("/no/such/dir", &t, &a, &pct), -ENOENT);
    assert_int_equal(t, 0);
}

static void test_loadavg(void **state)
{
    (void)state;
    double l[3];
    put("loadavg", "0.52 1.58 12.00 3/1027 12345\n");
    assert_int_equal(sysload_loadavg(root, l), 0);
    assert_true(l[0] > 0.519 && l[0] < 0.521);
    assert_true(l[1] > 1.579 && l[1] < 1.581);
    assert_true(l[2] == 12.0);
    put("loadavg", "0.52 1.58\n");
    assert_int_equal(sysload_loadavg(root, l), -EINVAL);
    assert_true(l[0] == 0.0);
}

static void test_parse_loadavg(void **state)
{
    (void)state;
    double l[3];
    assert_int_equal(sysload_parse_loadavg("1 2 3", l), 0);
    assert_true(l[0] == 1.0 && l[1] == 2.0 && l[2] == 3.0);
    assert_int_equal(sysload_parse_loadavg("0.00000000000000000000001 0.1 0.2\n", l), 0);
    assert_true(l[0] >= 0.0 && l[0] < 1e-14);
    assert_int_equal(sysload_parse_loadavg("", l), -EINVAL);
    assert_int_equal(sysload_parse_loadavg("1.0 2.0", l), -EINVAL);   /* truncated */
    assert_int_equal(sysload_parse_loadavg("1. 2.0 3.0\n", l), -EINVAL);
    assert_int_equal(sysload_parse_loadavg("1,5 2.0 3.0\n", l), -EINVAL);
    assert_int_equal(sysload_parse_loadavg("-1 2.0 3.0\n", l), -EINVAL);
    assert_int_equal(sysload_parse_loadavg("nan inf 3\n", l), -EINVAL);
    assert_int_equal(sysload_parse_loadavg("99999999999999999999 1 1\n", l), -ERANGE);
    assert_true(l[0] == 0.0 && l[1] == 0.0 && l[2] == 0.0);
}

static void test_ncpu(void **state)
{
    (void)state;
    int n = sysload_ncpu();
    assert_true(n >= 1);
    assert_int_equal(n, (int)sysconf(_SC_NPROCESSORS_ONLN));
}

/* The real /proc: plausible figures. */
static void test_real_proc(void **state)
{
    (void)state;
    sysload_cpu a, b;
    uint64_t t, av;
    double pct, l[3];
    assert_int_equal(sysload_cpu_read("/proc", &a), 0);
    assert_true(a.total > 0 && a.busy <= a.total);
    struct timespec pause = {0, 200000000};
    nanosleep(&pause, NULL);
    assert_int_equal(sysload_cpu_read("/proc", &b), 0);
    assert_true(b.total >= a.total);
    pct = sysload_cpu_percent(&a, &b);
    assert_true(pct >= 0.0 && pct <= 100.0);
    assert_int_equal(sysload_memory("/proc", &t, &av, &pct), 0);
    assert_true(t > 0 && av <= t && pct > 0.0 && pct < 100.0);
    assert_int_equal(sysload_loadavg("/proc", l), 0);
    assert_true(l[0] >= 0.0 && l[1] >= 0.0 && l[2] >= 0.0);

    sysload_stat *st = malloc(sizeof(*st));
    assert_non_null(st);
    assert_int_equal(sysload_stat_read("/proc", st), 0);
    assert_int_equal(st->ncore, (size_t)sysconf(_SC_NPROCESSORS_ONLN));
    assert_true(st->procs_running >= 1); /* this test is running */
    assert_true(st->btime > 1000000000);
    uint64_t sum = 0;
    for (size_t i = 0; i < st->ncore; i++)
        sum += st->core[i].t.user;
    assert_true(sum <= st->all.user + 10 * st->ncore); /* the cores add up to the total */
    free(st);
    sysload_meminfo m;
    assert_int_equal(sysload_meminfo_read("/proc", &m), 0);
    assert_int_equal(m.total, t);
    assert_true(m.free <= m.total && m.swap_free <= m.swap_total);
    double up;
    assert_int_equal(sysload_uptime("/proc", &up), 0);
    assert_true(up > 0.0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_cpu_read),
        cmocka_unit_test(test_parse_cpu),
        cmocka_unit_test(test_parse_stat),
        T(test_stat_read),
        cmocka_unit_test(test_cpu_shares),
        T(test_meminfo_full),
        T(test_uptime),
        T(test_memory),
        cmocka_unit_test(test_parse_meminfo),
        cmocka_unit_test(test_disk),
        T(test_loadavg),
        cmocka_unit_test(test_parse_loadavg),
        cmocka_unit_test(test_ncpu),
        cmocka_unit_test(test_real_proc),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
