/* Unit tests for src/host/procs.c: a fake proc tree in a temporary directory (names with
 * spaces, parentheses and newlines, a zombie, a kernel thread, a process that vanished
 * between listing and reading, command lines with NULs and invalid UTF-8, entries that are
 * no processes), the stat/status/cmdline parsers on their own with real and malformed
 * texts, CPU shares between two tables, and the real /proc (this test finds itself). */
#define _GNU_SOURCE
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
#include <sys/stat.h>
#include <unistd.h>

#include "procs.h"

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
    snprintf(root, sizeof(root), "/tmp/prtest.XXXXXX");
    return mkdtemp(root) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* Writes len bytes of data to root/dir/name, creating dir. */
static void put_bytes(const char *dir, const char *name, const char *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", root, dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void put(const char *dir, const char *name, const char *text)
{
    put_bytes(dir, name, text, strlen(text));
}

/* A stat line of a real kernel (6.1) with the pid, name, state, ppid, flags, utime, stime,
 * threads, start time and rss pages given. */
static void stat_line(char *buf, size_t cap, int pid, const char *name, char state, int ppid,
                      unsigned flags, unsigned long ut, unsigned long st, int threads,
                      unsigned long start, unsigned long rss)
{
    snprintf(buf, cap,
             "%d (%s) %c %d %d %d 0 -1 %u 1234 0 5 0 %lu %lu 0 0 20 0 %d 0 %lu 12345678 %lu "
             "18446744073709551615 1 1 0 0 0 0 0 4096 17415 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 "
             "0 0 0\n",
             pid, name, state, ppid, pid, pid, flags, ut, st, threads, start, rss);
}

static void put_proc(int pid, const char *name, char state, int ppid, unsigned flags,
                     unsigned long ticks, unsigned long rss, unsigned uid, const char *cmd,
                     size_t cmdlen)
{
    char dir[32], buf[1024];
    snprintf(dir, sizeof(dir), "%d", pid);
    stat_line(buf, sizeof(buf), pid, name, state, ppid, flags, ticks, 1, 3, 500 + (unsigned)pid,
              rss);
    put(dir, "stat", buf);
    snprintf(buf, sizeof(buf),
             "Name:\t%.15s\nUmask:\t0022\nState:\t%c (sleeping)\nTgid:\t%d\nNgid:\t0\n"
             "Pid:\t%d\nPPid:\t%d\nTracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\n"
             "Gid:\t0\t0\t0\t0\nFDSize:\t64\n",
             name, state, pid, pid, ppid, uid, uid + 1, uid, uid);
    put(dir, "status", buf);
    put_bytes(dir, "cmdline", cmd, cmdlen);
}

/* ---- the fake tree ------------------------------------------------------------------ */

static void test_fake_tree(void **state)
{
    (void)state;
    struct proc_table t = {0};
    put_proc(1, "systemd", 'S', 0, 0x400100, 500, 3000, 0, "/sbin/init\0splash\0", 18);
    put_proc(2, "kthreadd", 'S', 0, 0x208040, 0, 0, 0, "", 0);
    put_proc(45, "kworker/0:1-events", 'I', 2, 0x4208060, 7, 0, 0, "", 0);
    /* a name with spaces and a ')' and a newline, and a cmdline with NULs and bad UTF-8 */
    put_proc(1000, "we) ird\n) name", 'R', 1, 0x400000, 250, 100, 1000,
             "python3\0-c\0print(1)\0\xff\xfe\0\0\0", 25);
    put_proc(1001, "defunct", 'Z', 1000, 0x40040c, 3, 0, 1000, "", 0);
    put_proc(999, "nginx", 'S', 1, 0x400140, 10, 200, 33, "nginx: worker process\0\0\0\0", 25);
    /* vanished: listed, but its files are gone */
    char path[128];
    snprintf(path, sizeof(path), "%s/1234", root);
    assert_int_equal(mkdir(path, 0700), 0);
    /* a stat naming another pid, entries that are no processes */
    put_proc(77, "liar", 'S', 1, 0, 0, 0, 0, "x", 1);
    char buf[1024];
    stat_line(buf, sizeof(buf), 78, "liar", 'S', 1, 0, 0, 0, 1, 1, 1);
    put("77", "stat", buf);
    put("self", "stat", "1 (x) S 0");
    put("net", "dev", "");
    put("12ab", "stat", "12 (x) S 0");

    assert_int_equal(procs_read(root, &t), 0);
    assert_int_equal(t.n, 6);
    assert_int_equal(t.truncated, 0);
    int want[] = {1, 2, 45, 999, 1000, 1001};
    for (size_t i = 0; i < t.n; i++)
        assert_int_equal(t.p[i].pid, want[i]);

    long page = sysconf(_SC_PAGESIZE);
    const struct proc_info *p = procs_find(&t, 1);
    assert_non_null(p);
    assert_string_equal(p->comm, "systemd");
    assert_string_equal(p->cmd, "/sbin/init splash");
    assert_int_equal(p->kernel, 0);
    assert_int_equal(p->uid, 0);
    assert_int_equal(p->rss, 3000 * (uint64_t)page);
    assert_int_equal(p->cpu_ticks, 501);
    assert_int_equal(p->start_ticks, 501);
    assert_int_equal(p->threads, 3);
    assert_int_equal(p->state, 'S');

    p = procs_find(&t, 2);
    assert_int_equal(p->kernel, 1);
    p = procs_find(&t, 45);
    assert_int_equal(p->kernel, 1);
    assert_int_equal(p->ppid, 2);
    assert_string_equal(p->comm, "kworker/0:1-events");
    assert_string_equal(p->cmd, "");

    p = procs_find(&t, 1000);
    assert_string_equal(p->comm, "we) ird?) name");
    assert_string_equal(p->cmd, "python3 -c print(1) ??");
    assert_int_equal(p->uid, 1000);
    assert_int_equal(p->state, 'R');
    assert_int_equal(p->kernel, 0);

    p = procs_find(&t, 1001);
    assert_int_equal(p->state, 'Z');
    assert_string_equal(p->cmd, "");
    assert_int_equal(p->ppid, 1000);
    assert_int_equal(p->kernel, 0);

    p = procs_find(&t, 999);
    assert_string_equal(p->cmd, "nginx: worker process");
    assert_int_equal(p->uid, 33);

    assert_null(procs_find(&t, 1234));
    assert_null(procs_find(&t, 77));
    assert_null(procs_find(&t, 0));
    assert_null(procs_find(&t, 100000));
    procs_free(&t);
    assert_null(t.p);
    assert_int_equal(t.n, 0);
    procs_free(&t); /* twice is fine */

    snprintf(path, sizeof(path), "%s/nope", root);
    assert_int_equal(procs_read(path, &t), -ENOENT);
    assert_int_equal(t.n, 0);
}

static void test_long_cmdline(void **state)
{
    (void)state;
    struct proc_table t = {0};
    char cmd[3000];
    for (size_t i = 0; i < sizeof(cmd); i++)
        cmd[i] = i % 10 == 9 ? '\0' : (char)('a' + i % 10);
    /* a multi-byte character straddling the cut */
    memcpy(cmd + PROCS_CMD_MAX - 2, "\xc3\xa9\xc3\xa9", 4);
    put_proc(10, "java", 'S', 1, 0, 0, 0, 0, cmd, sizeof(cmd));
    assert_int_equal(procs_read(root, &t), 0);
    assert_int_equal(t.n, 1);
    size_t len = strlen(t.p[0].cmd);
    assert_true(len < PROCS_CMD_MAX);
    assert_true(len >= PROCS_CMD_MAX - 8);
    assert_memory_equal(t.p[0].cmd, "abcdefghi abcdefghi ", 20);
    assert_null(strchr(t.p[0].cmd, '?')); /* cut at a character boundary */
    procs_free(&t);
}

static void test_many(void **state)
{
    (void)state;
    struct proc_table t = {0};
    for (int pid = 700; pid > 0; pid -= 1) /* more than the first allocation, in reverse */
        put_proc(pid, "sh", 'S', 1, 0, (unsigned long)pid, 1, 0, "sh\0", 3);
    assert_int_equal(procs_read(root, &t), 0);
    assert_int_equal(t.n, 700);
    for (size_t i = 0; i < t.n; i++)
        assert_int_equal(t.p[i].pid, (int)i + 1);
    for (int pid = 1; pid <= 700; pid++)
        assert_int_equal(procs_find(&t, pid)->pid, pid);
    procs_free(&t);
}

/* ---- parsers ------------------------------------------------------------------------ */

static void test_parse_stat(void **state)
{
    (void)state;
    struct proc_info p;
    const char *real = "1234 (cat) R 1200 1234 1200 34816 1234 4194304 103 0 0 0 7 3 0 0 20 0 1"
                       " 0 8123456 5672960 231 18446744073709551615 94000000000000 "
                       "94000000020000 140720000000000 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0 "
                       "94000000100000 94000000101000 94000001000000 140720000001000 "
                       "140720000001020 140720000001020 140720000004000 0\n";
    assert_int_equal(procs_parse_stat(real, 4096, &p), 0);
    assert_int_equal(p.pid, 1234);
    assert_int_equal(p.ppid, 1200);
    assert_string_equal(p.comm, "cat");
    assert_int_equal(p.state, 'R');
    assert_int_equal(p.cpu_ticks, 10);
    assert_int_equal(p.start_ticks, 8123456);
    assert_int_equal(p.rss, 231 * 4096);
    assert_int_equal(p.threads, 1);
    assert_int_equal(p.kernel, 0);

    /* an old kernel stops after rss; a real-time process has a negative priority */
    assert_int_equal(procs_parse_stat("5 (rt) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 -100 0 4 0 9 0 7",
                                      4096, &p), 0);
    assert_int_equal(p.cpu_ticks, 3);
    assert_int_equal(p.threads, 4);
    assert_int_equal(p.rss, 7 * 4096);
    assert_int_equal(procs_parse_stat("5 () S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 -100 0 4 0 9 0 7",
                                      4096, &p), 0);
    assert_string_equal(p.comm, "");
    /* PF_KTHREAD */
    assert_int_equal(procs_parse_stat("9 (kw) I 0 0 0 0 -1 2097152 0 0 0 0 0 0 0 0 20 0 1 0 "
                                      "9 0 0", 4096, &p), 0);
    assert_int_equal(p.kernel, 1);
    /* saturating rss */
    assert_int_equal(procs_parse_stat("5 (a) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 "
                                      "18446744073709551615", 4096, &p), 0);
    assert_int_equal(p.rss, UINT64_MAX);

    static const char *const bad[] = {
        "",
        "1234",
        "1234 (cat",
        "1234 cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
        "(cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
        "0 (cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
        "-5 (cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
        "99999999999 (cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
        "12  (cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
        "1234 (cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0",  /* no rss */
        "1234 (cat) R -1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7", /* negative ppid */
        "1234 (cat) R 1 1 1 0 -1 0 0 0 0 0 -1 2 0 0 20 0 4 0 9 0 7", /* negative utime */
        "1234 (cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7x",
        "1234 (cat) R 1  1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
        "1234 (cat)  1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
        "1234 (cat)R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
        "1234 (cat) R 4294967296 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
        "1234 (cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 99999999999999999999",
        "1234 (cat) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7\nmore",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&p, 0x5a, sizeof(p));
        if (procs_parse_stat(bad[i], 4096, &p) != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(p.pid, 0);
        assert_int_equal(p.comm[0], '\0');
        assert_int_equal(p.rss, 0);
    }

    /* a name longer than the field is cut */
    char longname[300], line[600];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    snprintf(line, sizeof(line), "3 (%s) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 4 0 9 0 7",
             longname);
    assert_int_equal(procs_parse_stat(line, 4096, &p), 0);
    assert_int_equal(strlen(p.comm), PROCS_COMM_MAX - 1);
}

static void test_parse_status_cmdline(void **state)
{
    (void)state;
    uid_t u = 77;
    assert_int_equal(procs_parse_status_uid("Name:\tbash\nUid:\t1000\t1000\t1000\t1000\n", &u),
                     0);
    assert_int_equal(u, 1000);
    assert_int_equal(procs_parse_status_uid("Uid:\t0\t0\t0\t0", &u), 0);
    assert_int_equal(u, 0);
    u = 77;
    assert_int_equal(procs_parse_status_uid("Name:\tbash\n", &u), -ENOENT);
    assert_int_equal(procs_parse_status_uid("", &u), -ENOENT);
    assert_int_equal(procs_parse_status_uid("Uid:\tx\n", &u), -EINVAL);
    assert_int_equal(procs_parse_status_uid("Uid:\t4294967296\t0\n", &u), -EINVAL);
    assert_int_equal(procs_parse_status_uid("Uid:\t12a\t0\n", &u), -EINVAL);
    assert_int_equal(u, 77);

    char out[16];
    procs_cmdline_join("a\0b\0c\0", 6, out, sizeof(out));
    assert_string_equal(out, "a b c");
    procs_cmdline_join("a\0\0b", 4, out, sizeof(out));
    assert_string_equal(out, "a  b");
    procs_cmdline_join("\0\0\0", 3, out, sizeof(out));
    assert_string_equal(out, "");
    procs_cmdline_join("", 0, out, sizeof(out));
    assert_string_equal(out, "");
    procs_cmdline_join("0123456789abcdefghij", 20, out, sizeof(out));
    assert_string_equal(out, "0123456789abcde");
    procs_cmdline_join("tab\there\nnl\x1b[2J", 16, out, sizeof(out));
    assert_string_equal(out, "tab?here?nl?[2J");
    procs_cmdline_join("x", 1, out, 1);
    assert_string_equal(out, "");
}

/* ---- CPU shares --------------------------------------------------------------------- */

static void test_cpu_percent(void **state)
{
    (void)state;
    struct proc_table a = {0}, b = {0};
    put_proc(5, "busy", 'R', 1, 0, 100, 1, 0, "busy", 4);
    put_proc(6, "reused", 'S', 1, 0, 100, 1, 0, "r", 1);
    put_proc(7, "back", 'S', 1, 0, 100, 1, 0, "b", 1);
    assert_int_equal(procs_read(root, &a), 0);
    long hz = sysconf(_SC_CLK_TCK);
    char buf[1024];
    /* two seconds later pid 5 used 2*hz more ticks: 100 % of a core */
    stat_line(buf, sizeof(buf), 5, "busy", 'R', 1, 0, 100 + 2 * (unsigned long)hz, 1, 3, 505,
              1);
    put("5", "stat", buf);
    stat_line(buf, sizeof(buf), 6, "reused", 'S', 1, 0, 500, 1, 3, 9999, 1); /* new start */
    put("6", "stat", buf);
    stat_line(buf, sizeof(buf), 7, "back", 'S', 1, 0, 10, 1, 3, 507, 1); /* backwards */
    put("7", "stat", buf);
    put_proc(8, "new", 'S', 1, 0, 100, 1, 0, "n", 1);
    assert_int_equal(procs_read(root, &b), 0);
    double pct = procs_cpu_percent(&a, procs_find(&b, 5), 2.0);
    assert_true(pct > 99.9 && pct < 100.1);
    assert_true(procs_cpu_percent(&a, procs_find(&b, 5), 0.0) == 0.0);
    assert_true(procs_cpu_percent(&a, procs_find(&b, 6), 2.0) == 0.0);
    assert_true(procs_cpu_percent(&a, procs_find(&b, 7), 2.0) == 0.0);
    assert_true(procs_cpu_percent(&a, procs_find(&b, 8), 2.0) == 0.0);
    assert_true(procs_cpu_percent(NULL, procs_find(&b, 5), 2.0) == 0.0);
    double s = procs_start_seconds(procs_find(&b, 6));
    assert_true(s > 9999.0 / (double)hz - 0.001 && s < 9999.0 / (double)hz + 0.001);
    procs_free(&a);
    procs_free(&b);
}

/* ---- the real /proc ----------------------------------------------------------------- */

static void test_real_proc(void **state)
{
    (void)state;
    struct proc_table t = {0};
    assert_int_equal(procs_read("/proc", &t), 0);
    assert_true(t.n >= 2);
    const struct proc_info *me = procs_find(&t, (int)getpid());
    assert_non_null(me);
    assert_int_equal(me->ppid, (int)getppid());
    assert_int_equal(me->uid, getuid());
    assert_int_equal(me->kernel, 0);
    assert_true(me->rss > 0);
    assert_true(me->threads >= 1);
    assert_true(me->state == 'R');
    char comm[64] = "";
    FILE *f = fopen("/proc/self/comm", "r");
    assert_non_null(f);
    assert_non_null(fgets(comm, sizeof(comm), f));
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    assert_string_equal(me->comm, comm);
    /* the command line starts with argv[0] as the kernel has it */
    char argv0[PROCS_CMD_MAX] = "";
    f = fopen("/proc/self/cmdline", "r");
    assert_non_null(f);
    size_t got = fread(argv0, 1, sizeof(argv0) - 1, f);
    fclose(f);
    assert_true(got > 0);
    assert_true(strlen(argv0) > 0);
    assert_memory_equal(me->cmd, argv0, strlen(argv0));
    for (size_t i = 1; i < t.n; i++)
        assert_true(t.p[i - 1].pid < t.p[i].pid);
    const struct proc_info *one = procs_find(&t, 1);
    assert_non_null(one);
    assert_int_equal(one->kernel, 0);
    procs_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fake_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_cmdline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many, setup, teardown),
        cmocka_unit_test(test_parse_stat),
        cmocka_unit_test(test_parse_status_cmdline),
        cmocka_unit_test_setup_teardown(test_cpu_percent, setup, teardown),
        cmocka_unit_test(test_real_proc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
