/* Unit tests for src/host/mon_history.c and mon_history_line.c: the compact line (what is
 * kept, what is left out, names cleaned, a round trip), the fast reader against jansson on
 * tricky lines, recording in a mkdtemp home (the gap between samples, day files, the cap
 * of a day, pruning by age and by total size with files that are not ours left alone),
 * two processes appending at once, and a write cut short by a full disk. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h" /* CHECK() */
#include "json.h"
#include "mon_history.h"

#define PATH_BUF 512
#define DAY 86400.0

static char home[256];
static char mondir[300];
static struct mon_sample sa, sb; /* large: kept off the stack */
static char line_a[MON_HISTORY_LINE_MAX + 2], line_b[MON_HISTORY_LINE_MAX + 2];

/* A full sample as the monitor makes it (host_conv.md), at time t with CPU cpu. */
static const char *const SAMPLE =
    "{\"t\": 1, \"host\": \"web-1\", \"elapsed\": 2.0, \"ncpu\": 2, \"uptime\": 86400.5,"
    " \"cpu\": {\"total\": 12.5, \"user\": 8.0, \"system\": 3.5, \"iowait\": 0.5,"
    "  \"steal\": 0.0, \"cores\": [10.1, 15.0]},"
    " \"load\": [0.52, 0.58, 0.59],"
    " \"mem\": {\"total\": 25000000000, \"available\": 20000000000, \"used\": 5000000000,"
    "  \"used_pct\": 20.0, \"buffers\": 1, \"cached\": 2, \"swap_total\": 0, \"swap_used\": 0,"
    "  \"swap_pct\": 0.0},"
    " \"disks\": [{\"mount\": \"/\", \"device\": \"overlay\", \"fstype\": \"overlay\","
    "  \"total\": 1000, \"used\": 421, \"avail\": 579, \"used_pct\": 42.1,"
    "  \"inodes_total\": 1, \"inodes_used\": 1, \"inodes_pct\": 3.2, \"readonly\": false},"
    "  {\"mount\": \"/var/lib/docker/overlay2/x/merged\", \"total\": 1000, \"avail\": 579,"
    "  \"used_pct\": 42.1, \"inodes_pct\": 3.2},"
    "  {\"mount\": \"/data\", \"total\": 2000, \"avail\": 100, \"used_pct\": 95.0,"
    "  \"inodes_pct\": 1.0}],"
    " \"io\": [{\"device\": \"sda\", \"read_bps\": 0.0, \"write_bps\": 4096.0,"
    "  \"reads_ps\": 0.0, \"writes_ps\": 1.0, \"busy_pct\": 0.3}],"
    " \"net\": [{\"iface\": \"eth0\", \"rx_bps\": 100.0, \"tx_bps\": 50.0, \"rx_pps\": 1.0,"
    "  \"tx_pps\": 1.0, \"rx_errs\": 0, \"tx_errs\": 0, \"rx_drop\": 0, \"tx_drop\": 0},"
    "  {\"iface\": \"lo\", \"rx_bps\": 9.0, \"tx_bps\": 9.0}],"
    " \"procs\": {\"total\": 250, \"running\": 2, \"blocked\": 0, \"zombie\": 0,"
    "  \"threads\": 900},"
    " \"top\": [{\"pid\": 1234, \"name\": \"nginx\", \"user\": \"www-data\", \"cpu\": 12.0,"
    "  \"mem_pct\": 0.5, \"rss\": 1, \"state\": \"S\", \"cmd\": \"nginx: worker process\"},"
    "  {\"pid\": 2, \"name\": \"b\", \"cpu\": 1.0, \"mem_pct\": 0.1},"
    "  {\"pid\": 3, \"name\": \"c\", \"cpu\": 0.5, \"mem_pct\": 0.1},"
    "  {\"pid\": 4, \"name\": \"d\", \"cpu\": 0.1, \"mem_pct\": 0.1}]}";

static json_t *sample_at(double t, double cpu)
{
    json_error_t e;
    json_t *v = json_loads(SAMPLE, 0, &e);
    CHECK(v != NULL);
    json_object_set_new(v, "t", json_real(t));
    json_object_set_new(json_object_get(v, "cpu"), "total", json_real(cpu));
    return v;
}

static int setup(void **state)
{
    (void)state;
    snprintf(home, sizeof(home), "/tmp/cloudya-history-XXXXXX");
    if (mkdtemp(home) == NULL)
        return -1;
    snprintf(mondir, sizeof(mondir), "%s/monitor", home);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_BUF];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *at(const char *rel)
{
    static char bufs[4][PATH_BUF];
    static int slot;
    char *b = bufs[slot++ % 4];
    snprintf(b, PATH_BUF, "%s/%s", mondir, rel);
    return b;
}

static int64_t today(void)
{
    return (int64_t)floor((double)time(NULL) / DAY);
}

static const char *day_path(int64_t day)
{
    char name[MON_HISTORY_NAME_LEN + 1];
    assert_int_equal(mon_history_day_name(day, name, sizeof(name)), 0);
    return at(name);
}

static void write_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc(i % 64 == 63 ? '\n' : 'x', f);
    assert_int_equal(fclose(f), 0);
}

/* Lines of path: how many, and how many parse as samples. */
static size_t count_lines(const char *path, size_t *good)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    *good = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        n++;
        if (line[len - 1] == '\n')
            len--;
        if (mon_history_parse_line(line, (size_t)len, &sa) == 0)
            (*good)++;
    }
    free(line);
    fclose(f);
    return n;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* ---- the line ------------------------------------------------------------------------ */

static void test_line_compact(void **state)
{
    (void)state;
    json_t *v = sample_at(1763700000.25, 12.5);
    size_t len;
    assert_int_equal(mon_sample_from_json(v, &sa), 0);
    assert_int_equal(mon_sample_format(&sa, line_a, sizeof(line_a), &len), 0);
    json_decref(v);
    assert_true(len > 0 && line_a[len - 1] == '\n');
    assert_null(memchr(line_a, '\n', len - 1));
    line_a[len] = '\0';
    /* kept */
    assert_non_null(strstr(line_a, "{\"v\":1,\"t\":1763700000.250,\"host\":\"web-1\""));
    assert_non_null(strstr(line_a, "\"cpu\":{\"total\":12.5,\"user\":8.0,\"system\":3.5,"
                                   "\"iowait\":0.5,\"steal\":0.0}"));
    assert_non_null(strstr(line_a, "\"load\":[0.52,0.58,0.59]"));
    assert_non_null(strstr(line_a, "\"mem\":{\"used_pct\":20.0,\"used\":5000000000,"
                                   "\"total\":25000000000,\"available\":20000000000,"
                                   "\"swap_used\":0,\"swap_total\":0,\"swap_pct\":0.0}"));
    assert_non_null(strstr(line_a, "\"disks\":[{\"mount\":\"/\",\"used_pct\":42.1,"
                                   "\"avail\":579,\"total\":1000,\"inodes_pct\":3.2},"
                                   "{\"mount\":\"/data\""));
    assert_non_null(strstr(line_a, "\"io\":[{\"device\":\"sda\",\"read_bps\":0,"
                                   "\"write_bps\":4096}]"));
    assert_non_null(strstr(line_a, "\"net\":[{\"iface\":\"eth0\",\"rx_bps\":100,"
                                   "\"tx_bps\":50}]"));
    assert_non_null(strstr(line_a, "\"procs\":{\"total\":250,\"running\":2,\"blocked\":0,"
                                   "\"zombie\":0,\"threads\":900}"));
    assert_non_null(strstr(line_a, "{\"pid\":3,\"name\":\"c\",\"cpu\":0.5,\"mem_pct\":0.10}]"));
    /* left out: per-core CPU, devices and fstypes, lo, the docker overlay (same file system
     * as /), users and command lines, a fourth top process */
    assert_null(strstr(line_a, "cores"));
    assert_null(strstr(line_a, "overlay"));
    assert_null(strstr(line_a, "\"lo\""));
    assert_null(strstr(line_a, "www-data"));
    assert_null(strstr(line_a, "worker process"));
    assert_null(strstr(line_a, "\"name\":\"d\""));
    assert_null(strstr(line_a, "uptime"));
    assert_int_equal(sa.ndisks, 2);
    assert_int_equal(sa.nnet, 1);
    assert_int_equal(sa.ntop, 3);

    /* a round trip: the line reads back to the same line */
    assert_int_equal(mon_history_parse_line(line_a, len - 1, &sb), 0);
    size_t len2;
    assert_int_equal(mon_sample_format(&sb, line_b, sizeof(line_b), &len2), 0);
    assert_int_equal(len2, len);
    assert_memory_equal(line_a, line_b, len);
    assert_true(sb.t == 1763700000.25);
    assert_int_equal(sb.ncpu, 2);
    assert_string_equal(sb.top[0].name, "nginx");
    assert_int_equal(sb.top[0].pid, 1234);
}

static void test_line_names_and_ranges(void **state)
{
    (void)state;
    char longname[400];
    memset(longname, 'a', sizeof(longname));
    memcpy(longname + MON_NAME_MAX - 2, "\xc3\xa9", 2); /* é across the cut */
    longname[sizeof(longname) - 1] = '\0';
    json_t *v = json_pack("{s:f,s:s,s:f,s:{s:f,s:s},s:[f,s,f],s:{s:f,s:f},"
                          "s:[{s:s,s:f},{s:s,s:f},{s:i}],s:[{s:s,s:f},i,{s:s,s:f}]}",
                          "t", 1000.0, "host", "h\"q\\b\x01", "elapsed", -1.0, "cpu", "total",
                          150.0, "user", "x", "load", 1.5, "x", 2e9, "mem", "used_pct", 20.0,
                          "used", 1e30, "disks", "mount", longname, "used_pct", 5.0, "mount",
                          "", "used_pct", 1.0, "x", 1, "top", "name", "<script>", "cpu", 250.0,
                          7, "name", "", "cpu", 1.0);
    assert_non_null(v);
    assert_int_equal(mon_sample_from_json(v, &sa), 0);
    json_decref(v);
    assert_string_equal(sa.host, "h\"q\\b?"); /* control character made '?' */
    assert_true(isnan(sa.elapsed));            /* negative: not believed */
    assert_true(isnan(sa.cpu));                /* above 100 % */
    assert_true(isnan(sa.cpu_user));           /* not a number */
    assert_true(sa.load[0] == 1.5 && isnan(sa.load[1]) && isnan(sa.load[2]));
    assert_true(isnan(sa.mem_used));
    assert_int_equal(sa.ndisks, 1); /* no mount: not a disk */
    assert_int_equal(strlen(sa.disks[0].mount), MON_NAME_MAX - 2); /* cut before the é */
    assert_int_equal(sa.ntop, 2);
    assert_string_equal(sa.top[0].name, "<script>");
    assert_true(sa.top[0].cpu == 250.0);
    assert_int_equal(sa.top[0].pid, -1);
    assert_string_equal(sa.top[1].name, "?");

    size_t len;
    assert_int_equal(mon_sample_format(&sa, line_a, sizeof(line_a), &len), 0);
    line_a[len] = '\0';
    assert_non_null(strstr(line_a, "\"host\":\"h\\\"q\\\\b?\""));
    assert_null(strstr(line_a, "elapsed"));
    assert_non_null(strstr(line_a, "\"load\":[1.50,null,null]"));
    assert_int_equal(mon_history_parse_line(line_a, len - 1, &sb), 0);
    assert_string_equal(sb.host, sa.host);
    assert_true(isnan(sb.load[1]));
    assert_string_equal(sb.disks[0].mount, sa.disks[0].mount);

    /* no time, or a time out of range: not a sample */
    v = json_pack("{s:f}", "cpu", 1.0);
    assert_int_equal(mon_sample_from_json(v, &sa), -EINVAL);
    json_decref(v);
    v = json_pack("{s:f}", "t", 2e11);
    assert_int_equal(mon_sample_from_json(v, &sa), -EINVAL);
    json_decref(v);
    assert_int_equal(mon_sample_from_json(NULL, &sa), -EINVAL);
}

/* What jansson then mon_sample_from_json make of a line, as a formatted line ("" when
 * refused) - the reference for the fast reader. */
static void reference(const char *line, char *out)
{
    out[0] = '\0';
    size_t len = strlen(line), n;
    if (json_nesting_depth(line, len, 4) > 4)
        return;
    json_error_t e;
    json_t *v = json_loadb(line, len, JSON_DECODE_INT_AS_REAL, &e);
    if (v == NULL)
        return;
    const json_t *ver = json_object_get(v, "v");
    if (json_is_number(ver) && json_number_value(ver) == 1 && mon_sample_from_json(v, &sb) == 0 &&
        mon_sample_format(&sb, out, MON_HISTORY_LINE_MAX + 2, &n) == 0)
        out[n] = '\0';
    json_decref(v);
}

static void test_parse_like_jansson(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "{\"v\":1,\"t\":5}",
        "  {\"v\":1,\"t\":5}  \r",
        "{\"v\":1,\"t\":5,\"t\":6,\"cpu\":{\"total\":1,\"user\":2},\"cpu\":{\"total\":3}}",
        "{\"v\":1,\"t\":5,\"cpu\":{\"total\":1},\"cpu\":7}",
        "{\"v\":1,\"t\":5,\"disks\":[{\"mount\":\"/\",\"used_pct\":1}],\"disks\":[]}",
        "{\"v\":1,\"t\":5,\"disks\":[{\"mount\":\"/\",\"mount\":5}]}",
        "{\"v\":1,\"t\":5,\"host\":\"\\u00e9\\ud83d\\ude00\\/\\t\"}",
        "{\"v\":1,\"t\":5,\"host\":\"\\u0000\"}",
        "{\"v\":1,\"t\":5,\"host\":\"\\udc00\"}",
        "{\"v\":1,\"t\":5,\"host\":\"\\ud800x\"}",
        "{\"v\":1,\"t\":5,\"host\":\"\xc0\xaf\"}",
        "{\"v\":1,\"t\":5,\"host\":\"\xed\xa0\x80\"}",
        "{\"v\":1,\"t\":5,\"host\":\"a\tb\"}",
        "{\"v\":1,\"t\":5e0,\"elapsed\":-0,\"ncpu\":2.7}",
        "{\"v\":1,\"t\":05}",
        "{\"v\":1,\"t\":5.}",
        "{\"v\":1,\"t\":-5}",
        "{\"v\":1,\"t\":1e400}",
        "{\"v\":1,\"t\":5,\"x\":1e-400}",
        "{\"v\":1.0,\"t\":5,\"load\":[1,\"x\",null,4]}",
        "{\"v\":1,\"t\":5,\"load\":{\"0\":1}}",
        "{\"v\":2,\"t\":5}",
        "{\"v\":\"1\",\"t\":5}",
        "{\"t\":5}",
        "[{\"v\":1,\"t\":5}]",
        "{\"v\":1,\"t\":5}x",
        "{\"v\":1,\"t\":5,}",
        "{\"v\":1,\"t\":5,\"a\":[[[[1]]]]}",
        "{\"v\":1,\"t\":5,\"a\":[[[1]]]}",
        "{\"v\":1,\"t\":5,\"top\":[1,{\"pid\":3.9},{\"name\":\"x\",\"pid\":-1},{}]}",
        "{\"v\":1,\"t\":5,\"net\":[{\"iface\":\"lo\"},{\"iface\":\"e\",\"rx_bps\":true}]}",
        "{\"v\":1,\"t\":5,\"averyveryverylongkeyname\":{\"t\":9}}",
        "{\"v\":1,\"t\":5,\"tru\":tru}",
        "{\"v\":1,\"t\":5,\"n\":[true,false,null]}",
        "{\"v\":1,\"t\":5,\"io\":[{\"device\":\"sda\",\"read_bps\":1,\"read_bps\":\"x\"}]}",
    };
    static char want[MON_HISTORY_LINE_MAX + 2];
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        reference(lines[i], want);
        int rc = mon_history_parse_line(lines[i], strlen(lines[i]), &sa);
        size_t n = 0;
        if (rc == 0) {
            assert_int_equal(mon_sample_format(&sa, line_a, sizeof(line_a), &n), 0);
        }
        line_a[n] = '\0';
        /* these must be samples, the rest of the first 7 too */
        if (i <= 6 || i == 13 || i == 19 || i == 29)
            assert_true(rc == 0);
        if (i >= 7 && i <= 12)
            assert_true(rc == -EINVAL);
        if (strcmp(want, line_a) != 0)
            fail_msg("line %zu: %s\n  jansson: %s\n  ours:    %s", i, lines[i], want, line_a);
    }
    /* limits: too long, empty, NULL */
    char *big = malloc(MON_HISTORY_LINE_MAX + 10);
    assert_non_null(big);
    memset(big, ' ', MON_HISTORY_LINE_MAX + 10);
    memcpy(big, "{\"v\":1,\"t\":5}", 13);
    assert_int_equal(mon_history_parse_line(big, MON_HISTORY_LINE_MAX, &sa), 0);
    assert_int_equal(mon_history_parse_line(big, MON_HISTORY_LINE_MAX + 1, &sa), -EINVAL);
    free(big);
    assert_int_equal(mon_history_parse_line("", 0, &sa), -EINVAL);
    assert_int_equal(mon_history_parse_line(NULL, 3, &sa), -EINVAL);
    /* not NUL-terminated: only len bytes are read */
    assert_int_equal(mon_history_parse_line("{\"v\":1,\"t\":5}garbage", 13, &sa), 0);
}

static void test_names(void **state)
{
    (void)state;
    char name[MON_HISTORY_NAME_LEN + 1];
    int64_t day;
    assert_int_equal(mon_history_day_name(0, name, sizeof(name)), 0);
    assert_string_equal(name, "samples-1970-01-01.jsonl");
    assert_int_equal(mon_history_day_name(20413, name, sizeof(name)), 0);
    assert_string_equal(name, "samples-2025-11-21.jsonl");
    assert_int_equal(mon_history_name_day(name, &day), 0);
    assert_int_equal(day, 20413);
    assert_int_equal(mon_history_day_name(-1, name, sizeof(name)), -ERANGE);
    assert_int_equal(mon_history_day_name(0, name, 10), -ENOSPC);
    assert_int_equal(mon_history_name_day("samples-2024-02-29.jsonl", &day), 0);
    for (int64_t d = 0; d < 40000; d += 37) { /* both ways agree */
        int64_t back;
        assert_int_equal(mon_history_day_name(d, name, sizeof(name)), 0);
        assert_int_equal(mon_history_name_day(name, &back), 0);
        assert_int_equal(back, d);
    }
    static const char *const bad[] = {
        "samples-2025-02-29.jsonl", "samples-2025-04-31.jsonl", "samples-2025-13-01.jsonl",
        "samples-2025-00-10.jsonl", "samples-1969-12-31.jsonl", "samples-2025-1-01.jsonl",
        "samples-2025-01-01.jsonl.bak", "samples-2025-01-01.json", "xsamples-2025-01-01.jsonl",
        "samples-2025-01-0a.jsonl", "samples-2025+01-01.jsonl", "notes.txt", "", NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(mon_history_name_day(bad[i], &day), -EINVAL);
    char dir[64];
    assert_int_equal(mon_history_dir("/h", dir, sizeof(dir)), 0);
    assert_string_equal(dir, "/h/monitor");
    assert_int_equal(mon_history_dir("/h", dir, 5), -ENAMETOOLONG);
}

/* ---- recording ----------------------------------------------------------------------- */

static int add_at(struct mon_history *h, double t, double cpu)
{
    char err[256];
    json_t *v = sample_at(t, cpu);
    int rc = mon_history_add(h, v, err, sizeof(err));
    json_decref(v);
    return rc;
}

static void test_gap_and_modes(void **state)
{
    (void)state;
    struct mon_history *h;
    char err[256];
    assert_int_equal(mon_history_open(home, NULL, &h, err, sizeof(err)), 0);
    double t0 = (double)today() * DAY + 3600;
    assert_int_equal(add_at(h, t0, 1), MON_HISTORY_RECORDED);
    assert_int_equal(add_at(h, t0 + 1, 2), MON_HISTORY_SKIPPED);
    assert_int_equal(add_at(h, t0 + 4.9, 3), MON_HISTORY_SKIPPED);
    assert_int_equal(add_at(h, t0 + 5, 4), MON_HISTORY_RECORDED);
    assert_int_equal(add_at(h, t0 + 6, 5), MON_HISTORY_SKIPPED);
    assert_int_equal(add_at(h, t0 + 10.5, 6), MON_HISTORY_RECORDED);
    /* a monitor refreshing every second records one sample in five */
    int recorded = 0;
    for (int i = 1; i <= 100; i++)
        recorded += add_at(h, t0 + 10.5 + i, 7) == MON_HISTORY_RECORDED;
    assert_int_equal(recorded, 20);
    /* not a sample */
    json_t *bad = json_pack("{s:s}", "t", "soon");
    assert_int_equal(mon_history_add(h, bad, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "time"));
    json_decref(bad);
    mon_history_close(h);

    size_t good, n = count_lines(day_path(today()), &good);
    assert_int_equal(n, 23);
    assert_int_equal(good, 23);
    struct stat st;
    assert_int_equal(stat(mondir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(day_path(today()), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* a second handle has its own last sample: it records at once */
    assert_int_equal(mon_history_open(home, NULL, &h, err, sizeof(err)), 0);
    assert_int_equal(add_at(h, t0 + 200, 1), MON_HISTORY_RECORDED);
    mon_history_close(h);
    mon_history_close(NULL);
}

static void test_day_rotation_and_cap(void **state)
{
    (void)state;
    struct mon_history *h;
    char err[256];
    int64_t d = today();
    struct mon_history_limits lim = mon_history_limits_default();
    assert_true(lim.min_gap_s == 5 && lim.max_days == 35);
    assert_int_equal(lim.max_day_bytes, 32u << 20);
    assert_int_equal(lim.max_total_bytes, 256u << 20);
    lim.min_gap_s = 0;
    assert_int_equal(mon_history_open(home, &lim, &h, err, sizeof(err)), 0);
    assert_int_equal(add_at(h, (double)d * DAY - 2, 1), MON_HISTORY_RECORDED);
    assert_int_equal(add_at(h, (double)d * DAY + 5, 2), MON_HISTORY_RECORDED);
    mon_history_close(h);
    size_t good;
    assert_int_equal(count_lines(day_path(d - 1), &good), 1);
    assert_int_equal(count_lines(day_path(d), &good), 1);

    /* the cap of a day: a few lines, then said once, then silent; the next day records */
    struct stat st;
    assert_int_equal(stat(day_path(d), &st), 0);
    lim.max_day_bytes = (size_t)st.st_size * 3 + 10; /* three lines and a bit */
    assert_int_equal(mon_history_open(home, &lim, &h, err, sizeof(err)), 0);
    assert_int_equal(add_at(h, (double)d * DAY + 10, 1), MON_HISTORY_RECORDED);
    assert_int_equal(add_at(h, (double)d * DAY + 20, 1), MON_HISTORY_RECORDED);
    assert_int_equal(add_at(h, (double)d * DAY + 30, 1), MON_HISTORY_DAY_FULL);
    assert_int_equal(add_at(h, (double)d * DAY + 40, 1), MON_HISTORY_SKIPPED);
    assert_int_equal(add_at(h, (double)d * DAY + 50, 1), MON_HISTORY_SKIPPED);
    assert_int_equal(add_at(h, (double)(d + 1) * DAY + 1, 1), MON_HISTORY_RECORDED);
    mon_history_close(h);
    assert_int_equal(count_lines(day_path(d), &good), 3);
    assert_int_equal(stat(day_path(d), &st), 0);
    assert_true((size_t)st.st_size <= lim.max_day_bytes);
    assert_int_equal(count_lines(day_path(d + 1), &good), 1);

    /* bad limits */
    lim = mon_history_limits_default();
    lim.max_days = 0;
    assert_int_equal(mon_history_open(home, &lim, &h, err, sizeof(err)), -EINVAL);
    lim = mon_history_limits_default();
    lim.min_gap_s = NAN;
    assert_int_equal(mon_history_open(home, &lim, &h, err, sizeof(err)), -EINVAL);
    lim = mon_history_limits_default();
    lim.max_total_bytes = 0;
    assert_int_equal(mon_history_open(home, &lim, &h, err, sizeof(err)), -EINVAL);
    assert_null(h);
}

static void test_prune(void **state)
{
    (void)state;
    struct mon_history *h;
    char err[256];
    int64_t d = today();
    assert_int_equal(mkdir(mondir, 0700), 0);
    for (int64_t k = 0; k <= 40; k++)
        write_file(day_path(d - k), 1000);
    /* not ours, or not plain files: left alone even though they look old */
    write_file(at("notes.txt"), 10);
    write_file(at("samples-2000-01-01.jsonl.bak"), 10);
    write_file(at("samples-2000-02-30.jsonl"), 10);
    char old[PATH_BUF];
    snprintf(old, sizeof(old), "%s", day_path(d - 100));
    assert_int_equal(mkdir(old, 0700), 0);
    assert_int_equal(symlink("/etc/hostname", day_path(d - 101)), 0);

    assert_int_equal(mon_history_open(home, NULL, &h, err, sizeof(err)), 0);
    mon_history_close(h);
    for (int64_t k = 0; k <= 40; k++)
        assert_int_equal(exists(day_path(d - k)), k < 35);
    assert_true(exists(at("notes.txt")));
    assert_true(exists(at("samples-2000-01-01.jsonl.bak")));
    assert_true(exists(at("samples-2000-02-30.jsonl")));
    assert_true(exists(old));
    assert_true(exists(day_path(d - 101)));

    /* by total size: the oldest go first until under the cap */
    struct mon_history_limits lim = mon_history_limits_default();
    lim.max_total_bytes = 10500; /* ten files of 1000 bytes and a bit */
    assert_int_equal(mon_history_open(home, &lim, &h, err, sizeof(err)), 0);
    mon_history_close(h);
    for (int64_t k = 0; k <= 34; k++)
        assert_int_equal(exists(day_path(d - k)), k < 10);
    assert_true(exists(at("notes.txt")));

    /* today is kept even when it alone is over the cap */
    write_file(day_path(d), 20000);
    assert_int_equal(mon_history_open(home, &lim, &h, err, sizeof(err)), 0);
    mon_history_close(h);
    assert_true(exists(day_path(d)));
    assert_false(exists(day_path(d - 1)));
    assert_false(exists(day_path(d - 9)));

    /* a change of day prunes again: with one day kept, recording into d + 1 removes d - 1
     * (older than today by the clock) and keeps d (today) and d + 1 (being written) */
    write_file(day_path(d - 1), 100);
    lim = mon_history_limits_default();
    lim.max_days = 1;
    write_file(day_path(d + 1), 10); /* opening keeps today only: d + 1 is not older */
    assert_int_equal(mon_history_open(home, &lim, &h, err, sizeof(err)), 0);
    assert_false(exists(day_path(d - 1)));
    write_file(day_path(d - 1), 100);
    assert_int_equal(add_at(h, (double)(d + 1) * DAY + 60, 1), MON_HISTORY_RECORDED);
    mon_history_close(h);
    assert_false(exists(day_path(d - 1)));
    assert_true(exists(day_path(d)));
    assert_true(exists(day_path(d + 1)));

    /* a sample dated far ahead does not age the folder out */
    lim.max_days = 3;
    write_file(day_path(d - 1), 100);
    assert_int_equal(mon_history_open(home, &lim, &h, err, sizeof(err)), 0);
    assert_int_equal(add_at(h, (double)(d + 4000) * DAY, 1), MON_HISTORY_RECORDED);
    mon_history_close(h);
    assert_true(exists(day_path(d - 1)));
    assert_true(exists(day_path(d)));
    assert_true(exists(day_path(d + 4000)));
}

static void test_concurrent_appends(void **state)
{
    (void)state;
    enum { PER_CHILD = 300 };
    double t0 = (double)today() * DAY + 7200;
    for (int c = 0; c < 2; c++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid != 0)
            continue;
        /* big lines (many disks with long names), so that a torn write would show */
        json_t *v = sample_at(t0, 1);
        json_t *disks = json_array();
        for (int i = 0; i < MON_DISKS_MAX; i++) {
            char mount[MON_NAME_MAX];
            memset(mount, 'a' + c, sizeof(mount) - 1);
            mount[0] = '/';
            mount[sizeof(mount) - 1] = '\0';
            snprintf(mount + 1, 8, "%d-%02d", c, i);
            mount[strlen(mount)] = 'z';
            json_array_append_new(disks, json_pack("{s:s,s:f,s:i,s:i}", "mount", mount,
                                                   "used_pct", (double)i, "total", 1000 + i,
                                                   "avail", i));
        }
        json_object_set_new(v, "disks", disks);
        struct mon_history_limits lim = mon_history_limits_default();
        lim.min_gap_s = 0;
        struct mon_history *h;
        char err[256];
        CHECK(mon_history_open(home, &lim, &h, err, sizeof(err)) == 0);
        for (int i = 0; i < PER_CHILD; i++) {
            json_object_set_new(v, "t", json_real(t0 + i * 2 + c));
            CHECK(mon_history_add(h, v, err, sizeof(err)) == MON_HISTORY_RECORDED);
        }
        mon_history_close(h);
        json_decref(v);
        _exit(0);
    }
    for (int c = 0; c < 2; c++) {
        int status;
        assert_true(wait(&status) > 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    size_t good, n = count_lines(day_path(today()), &good);
    assert_int_equal(n, 2 * PER_CHILD);
    assert_int_equal(good, 2 * PER_CHILD);
}

/* A full disk (here: a file size limit) cuts a line short: the error is returned, the
 * handle goes on, and the next line starts on a line of its own. */
static void test_write_error(void **state)
{
    (void)state;
    double t0 = (double)today() * DAY + 600;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct mon_history *h;
        char err[256];
        CHECK(mon_history_open(home, NULL, &h, err, sizeof(err)) == 0);
        json_t *v = sample_at(t0, 1);
        CHECK(mon_history_add(h, v, err, sizeof(err)) == MON_HISTORY_RECORDED);
        struct stat st;
        char path[PATH_BUF];
        snprintf(path, sizeof(path), "%s", day_path(today()));
        CHECK(stat(path, &st) == 0);
        struct rlimit old, lim;
        CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
        lim = old;
        lim.rlim_cur = (rlim_t)st.st_size + (rlim_t)st.st_size / 2;
        CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
        json_object_set_new(v, "t", json_real(t0 + 10));
        CHECK(mon_history_add(h, v, err, sizeof(err)) == -ENOSPC); /* cut short */
        CHECK(strstr(err, "cannot write") != NULL);
        json_object_set_new(v, "t", json_real(t0 + 20));
        CHECK(mon_history_add(h, v, err, sizeof(err)) == -EFBIG); /* nothing written */
        CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
        json_object_set_new(v, "t", json_real(t0 + 30));
        CHECK(mon_history_add(h, v, err, sizeof(err)) == MON_HISTORY_RECORDED);
        json_object_set_new(v, "t", json_real(t0 + 40));
        CHECK(mon_history_add(h, v, err, sizeof(err)) == MON_HISTORY_RECORDED);
        mon_history_close(h);
        json_decref(v);
        _exit(0);
    }
    int status;
    assert_true(waitpid(pid, &status, 0) == pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    size_t good, n = count_lines(day_path(today()), &good);
    assert_int_equal(n, 4); /* whole, cut, whole, whole */
    assert_int_equal(good, 3);

    /* a file that ends in the middle of a line (a crash): the next writer starts anew */
    int fd = open(day_path(today()), O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"v\":1,\"t\":", 11), 11);
    close(fd);
    struct mon_history *h;
    char err[256];
    assert_int_equal(mon_history_open(home, NULL, &h, err, sizeof(err)), 0);
    assert_int_equal(add_at(h, t0 + 100, 1), MON_HISTORY_RECORDED);
    mon_history_close(h);
    n = count_lines(day_path(today()), &good);
    assert_int_equal(n, 6); /* the four, the broken one on its own, the new one */
    assert_int_equal(good, 4);
}

/* Something that is not a file where the day file should be: an error, never a hang. */
static void test_not_a_file(void **state)
{
    (void)state;
    struct mon_history *h;
    char err[256];
    assert_int_equal(mkdir(mondir, 0700), 0);
    assert_int_equal(mkfifo(day_path(today()), 0600), 0);
    assert_int_equal(mon_history_open(home, NULL, &h, err, sizeof(err)), 0);
    int rc = add_at(h, (double)today() * DAY + 60, 1); /* a FIFO without reader: ENXIO */
    assert_true(rc < 0);
    mon_history_close(h);
    assert_int_equal(unlink(day_path(today())), 0);
    assert_int_equal(symlink("/etc/hostname", day_path(today())), 0);
    assert_int_equal(mon_history_open(home, NULL, &h, err, sizeof(err)), 0);
    rc = add_at(h, (double)today() * DAY + 60, 1);
    assert_int_equal(rc, -ELOOP);
    mon_history_close(h);
    /* a home that cannot hold the folder */
    char file_home[PATH_BUF];
    snprintf(file_home, sizeof(file_home), "%s/plain", home);
    write_file(file_home, 1);
    assert_true(mon_history_open(file_home, NULL, &h, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "cannot create"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_compact),
        cmocka_unit_test(test_line_names_and_ranges),
        cmocka_unit_test(test_parse_like_jansson),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_gap_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day_rotation_and_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
