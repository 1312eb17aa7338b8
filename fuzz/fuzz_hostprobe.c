/* libFuzzer target for the pure parsers of the host probes: src/host/procs.c (stat, status,
 * cmdline), src/host/host_disks.c (mountinfo line, diskstats, partition names),
 * src/host/host_net.c (net/dev) and the per-core and full-meminfo parsers of
 * src/platform/sysload.c.
 *
 * The first input byte picks the parser (modulo their number, in the order of the enum
 * below); the rest, up to its first NUL, is the text, copied into a buffer of exactly its
 * size so that any read past the NUL is an ASan report (the cmdline joiner gets all the
 * bytes, NULs included, as the kernel hands them over). Besides crashes and sanitizer
 * reports it checks properties, aborting when one fails:
 *   - a failing parser leaves its outputs zero (or the uid untouched);
 *   - /proc/stat: at most SYSLOAD_CPUS_MAX cores, and its total line agrees with
 *     sysload_parse_cpu; meminfo agrees with sysload_parse_meminfo and has a total;
 *   - diskstats and net/dev: the text written twice gives twice the entries (up to the
 *     maximum), names are non-empty and fit, net/dev names hold no ':', lo comes last;
 *   - mountinfo: root and mount point are non-empty and fit, the fstype and source too;
 *   - names and command lines from procs are valid UTF-8 without control characters and fit
 *     their buffers; a pid is positive;
 *   - uptime is finite and not negative.
 * Seeds: fuzz/corpus/hostprobe/ (the first byte of each names its parser). */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostprobe.h"
#include "procs.h"
#include "str.h"
#include "sysload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { P_STAT, P_MEM, P_UPTIME, P_DISK, P_NET, P_MOUNT, P_PSTAT, P_STATUS, P_CMDLINE,
       P_PART, P_N };

#define LIST_MAX 64 /* entries asked of the list parsers */

static int all_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != 0)
            return 0;
    return 1;
}

/* A name or command line as procs promises it: fits, valid UTF-8, no control byte. */
static void check_clean(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap) abort();
    if (!str_is_utf8(s, n)) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) abort();
}

/* text written twice (the second time after a '\n'), malloc'd. */
static char *twice(const char *text)
{
    size_t n = strlen(text);
    char *t = malloc(2 * n + 2);
    if (t == NULL) abort();
    memcpy(t, text, n);
    t[n] = '\n';
    memcpy(t + n + 1, text, n);
    t[2 * n + 1] = '\0';
    return t;
}

static void check_stat(const char *text)
{
    sysload_stat *st = malloc(sizeof(*st));
    if (st == NULL) abort();
    int rc = sysload_parse_stat(text, st);
    if (rc != 0) {
        if (!all_zero(st, sizeof(*st))) abort();
        if (rc != -EINVAL && rc != -ERANGE) abort();
    } else {
        if (st->ncore > SYSLOAD_CPUS_MAX) abort();
        sysload_cpu c;
        if (sysload_parse_cpu(text, &c) != 0) abort();
        if (c.total < c.busy) abort();
        if (st->all.user != 0 && c.busy == 0) abort();
    }
    free(st);
}

static void check_mem(const char *text)
{
    sysload_meminfo m;
    uint64_t t, a;
    int rc = sysload_parse_meminfo_full(text, &m);
    int rc2 = sysload_parse_meminfo(text, &t, &a);
    if (rc != 0) {
        if (!all_zero(&m, sizeof(m))) abort();
        return;
    }
    if (rc2 != 0 || m.total != t || m.available != a || m.total == 0) abort();
}

static void check_disk(const char *text)
{
    struct host_diskstat d[LIST_MAX], d2[LIST_MAX];
    size_t n = 99, n2 = 99;
    int rc = host_parse_diskstats(text, d, LIST_MAX, &n, NULL, NULL);
    if (rc != 0) {
        if (n != 0) abort();
        if (rc != -EINVAL && rc != -ERANGE) abort();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strnlen(d[i].name, sizeof(d[i].name));
        if (len == 0 || len == sizeof(d[i].name)) abort();
        for (size_t k = 0; k < len; k++)
            if ((unsigned char)d[i].name[k] <= ' ') abort();
    }
    char *t = twice(text);
    if (host_parse_diskstats(t, d2, LIST_MAX, &n2, NULL, NULL) != 0) abort();
    if (n2 != (2 * n < LIST_MAX ? 2 * n : LIST_MAX)) abort();
    free(t);
}

static void check_net(const char *text)
{
    struct host_netdev d[LIST_MAX];
    size_t n = 99;
    int rc = host_parse_netdev(text, d, LIST_MAX, &n);
    if (rc != 0) {
        if (n != 0) abort();
        if (rc != -EINVAL && rc != -ERANGE) abort();
        return;
    }
    if (n > LIST_MAX) abort();
    for (size_t i = 0; i < n; i++) {
        size_t len = strnlen(d[i].name, sizeof(d[i].name));
        if (len == 0 || len == sizeof(d[i].name)) abort();
        if (memchr(d[i].name, ':', len) != NULL) abort();
        /* only the first lo is moved; a later one is an ordinary entry */
    }
    int lo_seen = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(d[i].name, "lo") == 0)
            lo_seen = 1;
    if (lo_seen && strcmp(d[n - 1].name, "lo") != 0) abort();
}

static void check_mount(const char *text)
{
    struct host_mountinfo *mi = malloc(sizeof(*mi));
    if (mi == NULL) abort();
    int rc = host_parse_mountinfo_line(text, mi);
    if (rc != 0) {
        if (!all_zero(mi, sizeof(*mi))) abort();
        if (rc != -EINVAL && rc != -ENAMETOOLONG) abort();
    } else {
        if (mi->root[0] == '\0' || mi->mount[0] == '\0') abort();
        if (mi->fstype[0] == '\0' || mi->device[0] == '\0') abort();
        if (strnlen(mi->root, sizeof(mi->root)) == sizeof(mi->root)) abort();
        if (strnlen(mi->mount, sizeof(mi->mount)) == sizeof(mi->mount)) abort();
        if (strnlen(mi->fstype, sizeof(mi->fstype)) == sizeof(mi->fstype)) abort();
        if (strnlen(mi->device, sizeof(mi->device)) == sizeof(mi->device)) abort();
        (void)host_fstype_is_pseudo(mi->fstype);
    }
    free(mi);
}

static void check_pstat(const char *text)
{
    struct proc_info p;
    int rc = procs_parse_stat(text, 4096, &p);
    if (rc != 0) {
        if (rc != -EINVAL || !all_zero(&p, sizeof(p))) abort();
        return;
    }
    if (p.pid <= 0 || p.ppid < 0 || p.threads < 0) abort();
    check_clean(p.comm, sizeof(p.comm));
    if (p.cmd[0] != '\0') abort();
}

static void check_cmdline(const uint8_t *raw, size_t len)
{
    static const size_t caps[] = {1, 2, 16, PROCS_CMD_MAX};
    char out[PROCS_CMD_MAX];
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        memset(out, 'Z', sizeof(out));
        procs_cmdline_join((const char *)raw, len, out, caps[i]);
        check_clean(out, caps[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int which = data[0] % P_N;
    if (which == P_CMDLINE) {
        uint8_t *raw = malloc(size - 1 + 1); /* exactly the bytes, at least one to malloc */
        if (raw == NULL) abort();
        memcpy(raw, data + 1, size - 1);
        check_cmdline(raw, size - 1);
        free(raw);
        return 0;
    }
    const uint8_t *nul = memchr(data + 1, 0, size - 1);
    size_t n = nul != NULL ? (size_t)(nul - (data + 1)) : size - 1;
    char *text = malloc(n + 1);
    if (text == NULL) abort();
    memcpy(text, data + 1, n);
    text[n] = '\0';

    double up;
    uid_t uid;
    int rc;
    switch (which) {
    case P_STAT:
        check_stat(text);
        break;
    case P_MEM:
        check_mem(text);
        break;
    case P_UPTIME:
        rc = sysload_parse_uptime(text, &up);
        if (!isfinite(up) || up < 0.0) abort();
        if (rc != 0 && up != 0.0) abort();
        break;
    case P_DISK:
        check_disk(text);
        break;
    case P_NET:
        check_net(text);
        break;
    case P_MOUNT:
        check_mount(text);
        break;
    case P_PSTAT:
        check_pstat(text);
        break;
    case P_STATUS:
        uid = 12345;
        rc = procs_parse_status_uid(text, &uid);
        if (rc != 0 && uid != 12345) abort();
        if (rc != 0 && rc != -EINVAL && rc != -ENOENT) abort();
        break;
    case P_PART:
        rc = host_blockdev_is_partition_name(text);
        if (rc != 0 && rc != 1) abort();
        if (rc == 1 && (n == 0 || text[n - 1] < '0' || text[n - 1] > '9')) abort();
        break;
    }
    free(text);
    return 0;
}
