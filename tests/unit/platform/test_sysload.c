/* Unit tests for src/platform/sysload.c: fake /proc/stat, meminfo and loadavg files in a
 * temporary directory (normal, old-kernel, empty, truncated, garbage and huge-number
 * content), the parsers on their own, statvfs of "/" against a direct statvfs, and the real
 * /proc for plausibility. */
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
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_cpu_read),
        cmocka_unit_test(test_parse_cpu),
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
