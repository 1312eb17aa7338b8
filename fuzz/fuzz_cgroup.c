/* libFuzzer target for the pure parsers of src/engine/cgroup.c and src/platform/sysload.c.
 *
 * The first input byte picks the parser (modulo their number, in the order of the table
 * below); the rest, up to its first NUL, is the text, copied into a buffer of exactly its
 * size so that any read past the NUL is an ASan report. Besides crashes and sanitizer
 * reports it checks properties, aborting when one fails:
 *   - a failing parser leaves its outputs zero (or empty strings);
 *   - parsers that sum over lines (blkio v1, io.stat, net/dev) give twice the sums
 *     (saturating) for the text written twice, one after the other;
 *   - cgroup_parse_value and cgroup_parse_kv succeed only on text that starts with a digit
 *     or "max", or holds the key at the start of a line;
 *   - a /proc/<pid>/cgroup result names the container in every path, each path begins
 *     with '/', ends with the component holding the id and fits; v2 has four equal paths;
 *   - a mountinfo result has a root and a mount point that begin with '/' and fit;
 *   - /proc/stat gives busy <= total, meminfo a non-zero total, loadavg finite numbers >= 0.
 * Seeds: fuzz/corpus/cgroup/ (the first byte of each names its parser). */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "sysload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

enum { P_VALUE, P_KV, P_BLKIO, P_IO, P_NETDEV, P_PROC, P_MOUNT, P_CPU, P_MEM, P_LOAD, P_N };

static uint64_t dbl(uint64_t v)
{
    return v > UINT64_MAX / 2 ? UINT64_MAX : v * 2;
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

typedef int (*sum_fn)(const char *text, uint64_t *a, uint64_t *b);

static void check_sums(sum_fn fn, const char *text)
{
    uint64_t a, b, a2, b2;
    int rc = fn(text, &a, &b);
    if (rc != 0) {
        if (a != 0 || b != 0) abort();
        if (rc != -EINVAL && rc != -ERANGE) abort();
        return;
    }
    char *t = twice(text);
    if (fn(t, &a2, &b2) != 0) abort();
    if (a2 != dbl(a) || b2 != dbl(b)) abort();
    free(t);
}

/* 1 when key starts text or follows a '\n' in it, followed by a blank. */
static int key_at_line_start(const char *text, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = text; p != NULL; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, key, k) == 0 && (p[k] == ' ' || p[k] == '\t'))
            return 1;
    }
    return 0;
}

static void check_kv(const char *text)
{
    static const char *const keys[] = {"usage_usec", "inactive_file", "total_inactive_file",
                                       "a", "file"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        uint64_t v;
        int rc = cgroup_parse_kv(text, keys[i], &v);
        if (rc != 0 && v != 0) abort();
        if (rc == 0 && !key_at_line_start(text, keys[i])) abort();
        if (rc == -ENOENT && key_at_line_start(text, keys[i])) abort();
    }
}

/* 1 when the last component of path holds the id as the parser must have found it: after
 * the '/' or a '-', before the end or a '.'. */
static int id_ends(const char *path)
{
    const char *last = strrchr(path, '/') + 1;
    size_t idlen = strlen(ID);
    for (const char *id = strstr(last, ID); id != NULL; id = strstr(id + 1, ID))
        if ((id == last || id[-1] == '-') && (id[idlen] == '\0' || id[idlen] == '.'))
            return 1;
    return 0;
}

static void check_proc(const char *text)
{
    cgroup_proc_info in;
    int rc = cgroup_parse_proc_cgroup(text, ID, &in);
    if (rc != 0) {
        for (int k = 0; k < CGROUP_CTL_COUNT; k++)
            if (in.path[k][0] != '\0') abort();
        if (in.v2 != 0) abort();
        return;
    }
    if (in.path[CGROUP_CTL_CPU][0] == '\0' || in.path[CGROUP_CTL_MEMORY][0] == '\0') abort();
    for (int k = 0; k < CGROUP_CTL_COUNT; k++) {
        const char *p = in.path[k];
        size_t n = strnlen(p, CGROUP_PATH_MAX);
        if (n == CGROUP_PATH_MAX) abort();
        if (n == 0)
            continue;
        if (p[0] != '/') abort();
        if (!id_ends(p)) abort();
        if (in.v2 && strcmp(p, in.path[0]) != 0) abort();
    }
}

static void check_mount(const char *text)
{
    cgroup_mount m;
    int rc = cgroup_parse_mountinfo_line(text, &m);
    if (rc != 0) {
        if (m.root[0] != '\0' || m.point[0] != '\0' || m.options[0] != '\0' || m.v2 != 0)
            abort();
        return;
    }
    if (m.root[0] != '/' || m.point[0] != '/') abort();
    if (strnlen(m.root, CGROUP_PATH_MAX) == CGROUP_PATH_MAX) abort();
    if (strnlen(m.point, CGROUP_PATH_MAX) == CGROUP_PATH_MAX) abort();
    if (strnlen(m.options, CGROUP_OPTIONS_MAX) == CGROUP_OPTIONS_MAX) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int which = data[0] % P_N;
    const uint8_t *nul = memchr(data + 1, 0, size - 1);
    size_t n = nul != NULL ? (size_t)(nul - (data + 1)) : size - 1;
    char *text = malloc(n + 1);
    if (text == NULL) abort();
    memcpy(text, data + 1, n);
    text[n] = '\0';

    uint64_t v, a, b;
    double l[3];
    sysload_cpu c;
    int rc;
    switch (which) {
    case P_VALUE:
        rc = cgroup_parse_value(text, &v);
        if (rc != 0 && v != 0) abort();
        if (rc == 0 && !(text[0] >= '0' && text[0] <= '9') && strncmp(text, "max", 3) != 0)
            abort();
        break;
    case P_KV:
        check_kv(text);
        break;
    case P_BLKIO:
        check_sums(cgroup_parse_blkio_v1, text);
        break;
    case P_IO:
        check_sums(cgroup_parse_io_v2, text);
        break;
    case P_NETDEV:
        check_sums(cgroup_parse_netdev, text);
        break;
    case P_PROC:
        check_proc(text);
        break;
    case P_MOUNT:
        check_mount(text);
        break;
    case P_CPU:
        rc = sysload_parse_cpu(text, &c);
        if (rc != 0 && (c.busy != 0 || c.total != 0)) abort();
        if (rc == 0 && c.busy > c.total) abort();
        break;
    case P_MEM:
        rc = sysload_parse_meminfo(text, &a, &b);
        if (rc != 0 && (a != 0 || b != 0)) abort();
        if (rc == 0 && a == 0) abort();
        break;
    case P_LOAD:
        rc = sysload_parse_loadavg(text, l);
        for (int i = 0; i < 3; i++) {
            if (rc != 0 && l[i] != 0.0) abort();
            if (!isfinite(l[i]) || l[i] < 0.0) abort();
        }
        break;
    }
    free(text);
    return 0;
}
