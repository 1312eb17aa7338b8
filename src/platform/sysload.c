#define _POSIX_C_SOURCE 200809L
/* The host load reader (see sysload.h).
 *
 * Rules worth knowing:
 *   - for the total CPU only the first line of /proc/stat is read (the file goes on with
 *     per-CPU lines and an "intr" line that can be tens of KiB on large hosts):
 *     SYSLOAD_READ_MAX bytes are read and the first line must end inside them; the per-core
 *     reader takes a head of SYSLOAD_STAT_MAX bytes on the heap;
 *   - meminfo values must carry the "kB" unit the kernel prints; sums saturate;
 *   - load averages are parsed by hand (digits, optional '.' and digits), which keeps them
 *     independent of the process's locale. */
#include "sysload.h"
#include "textscan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define CPU_FIELDS 10     /* user nice system idle iowait irq softirq steal guest guest_nice */
#define CPU_FIELDS_MIN 4  /* user nice system idle: every kernel has those */
#define LOAD_INT_DIGITS 9 /* a load average above 999999999 is not a load average */

/* Reads proc_root/name into buf (cap bytes) with text_read_file: with whole set a file that
 * does not fit is -EFBIG, otherwise its head is kept. Returns 0, -ENAMETOOLONG, -EFBIG, or a
 * negative errno of open/read, with buf "" on failure. */
static int read_proc(const char *proc_root, const char *name, char *buf, size_t cap, int whole)
{
    char path[SYSLOAD_PATH_MAX];
    buf[0] = '\0';
    int n = snprintf(path, sizeof(path), "%s/%s", proc_root, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    return text_read_file(path, buf, cap, whole);
}

/* ---- parsers ------------------------------------------------------------------------ */

/* The numbers of a cpu line from p (past the "cpu" or "cpuN" word) to the line's end into
 * f (CPU_FIELDS, zeroed first; numbers beyond are checked, not kept). Returns 0, -EINVAL
 * (fewer than CPU_FIELDS_MIN, a stray character) or -ERANGE. */
static int parse_cpu_fields(const char *p, uint64_t f[CPU_FIELDS])
{
    uint64_t v;
    size_t n = 0;
    int rc;
    memset(f, 0, CPU_FIELDS * sizeof(f[0]));
    if (!text_is_blank(*p))
        return -EINVAL;
    p = text_skip_blanks(p);
    while (*p != '\n' && *p != '\0') {
        if ((rc = text_parse_u64(&p, &v)) != 0)
            return rc;
        if (n < CPU_FIELDS)
            f[n] = v;
        n++;
        if (!text_is_blank(*p) && *p != '\n' && *p != '\0')
            return -EINVAL;
        p = text_skip_blanks(p);
    }
    return n < CPU_FIELDS_MIN ? -EINVAL : 0;
}

/* Only the aggregate first line counts. Returns 0, -EINVAL or -ERANGE, zeros on failure. */
int sysload_parse_cpu(const char *text, sysload_cpu *out)
{
    uint64_t f[CPU_FIELDS];
    int rc;
    out->busy = out->total = 0;
    if (strncmp(text, "cpu", 3) != 0)
        return -EINVAL;
    if ((rc = parse_cpu_fields(text + 3, f)) != 0)
        return rc;
    /* user nice system idle iowait irq softirq steal; guest and guest_nice are inside
     * user and nice already */
    uint64_t busy = text_sat_add(text_sat_add(f[0], f[1]), f[2]);
    busy = text_sat_add(text_sat_add(text_sat_add(busy, f[5]), f[6]), f[7]);
    out->busy = busy;
    out->total = text_sat_add(text_sat_add(busy, f[3]), f[4]);
    return 0;
}

/* The counters of f in their struct. */
static void times_from(const uint64_t f[CPU_FIELDS], sysload_cpu_times *t)
{
    t->user = f[0];
    t->nice = f[1];
    t->system = f[2];
    t->idle = f[3];
    t->iowait = f[4];
    t->irq = f[5];
    t->softirq = f[6];
    t->steal = f[7];
}

/* The value of "key N" at line (key followed by a blank or the line's end) into *out. Returns 1 when the line
 * is that key's (0 otherwise), with *rc 0, -EINVAL or -ERANGE. */
static int stat_value(const char *line, const char *key, uint64_t *out, int *rc)
{
    size_t k = strlen(key);
    if (strncmp(line, key, k) != 0 ||
        (!text_is_blank(line[k]) && line[k] != '\n' && line[k] != '\0'))
        return 0;
    const char *p = text_skip_blanks(line + k);
    uint64_t v;
    *rc = text_parse_u64(&p, &v);
    if (*rc == 0 && !text_rest_blank(p))
        *rc = -EINVAL;
    if (*rc == 0)
        *out = v;
    return 1;
}

/* One "cpuN" line at line (past "cpu", at the digits) into the next core slot. Returns 0,
 * -EINVAL or -ERANGE. */
static int stat_core(const char *p, sysload_stat *out)
{
    uint64_t id, f[CPU_FIELDS];
    int rc;
    if ((rc = text_parse_u64(&p, &id)) != 0)
        return rc;
    if (id > UINT32_MAX)
        return -ERANGE;
    if ((rc = parse_cpu_fields(p, f)) != 0)
        return rc;
    if (out->ncore == SYSLOAD_CPUS_MAX) {
        out->cores_truncated = 1;
        return 0;
    }
    out->core[out->ncore].id = (unsigned)id;
    times_from(f, &out->core[out->ncore].t);
    out->ncore++;
    return 0;
}

/* The first line must be the aggregate one; cpuN lines, procs_running, procs_blocked and
 * btime are taken where they are. Returns 0, -EINVAL or -ERANGE, out zeroed on failure. */
int sysload_parse_stat(const char *text, sysload_stat *out)
{
    uint64_t f[CPU_FIELDS];
    int rc;
    memset(out, 0, sizeof(*out));
    rc = -EINVAL;
    if (strncmp(text, "cpu", 3) != 0 || (rc = parse_cpu_fields(text + 3, f)) != 0)
        goto fail;
    times_from(f, &out->all);
    for (const char *line = text_next_line(text_line_end(text)); *line != '\0';) {
        const char *eol = text_line_end(line);
        rc = 0;
        if (strncmp(line, "cpu", 3) == 0)
            rc = text_is_digit(line[3]) ? stat_core(line + 3, out)
                                        : -EINVAL; /* a second aggregate line, or "cpux" */
        else if (!stat_value(line, "procs_running", &out->procs_running, &rc) &&
                 !stat_value(line, "procs_blocked", &out->procs_blocked, &rc))
            stat_value(line, "btime", &out->btime, &rc);
        if (rc != 0)
            goto fail;
        line = text_next_line(eol);
    }
    return 0;
fail:
    memset(out, 0, sizeof(*out));
    return rc;
}

/* The counter step from a to b, 0 when it went backwards. */
static uint64_t step(uint64_t a, uint64_t b)
{
    return b > a ? b - a : 0;
}

/* Shares of the sum of the steps, so that one counter going backwards cannot push the rest
 * over 100. Fills out, zeros when no time passed. */
void sysload_cpu_shares(const sysload_cpu_times *prev, const sysload_cpu_times *cur,
                        sysload_shares *out)
{
    double user = (double)step(prev->user, cur->user) + (double)step(prev->nice, cur->nice);
    double sys = (double)step(prev->system, cur->system) + (double)step(prev->irq, cur->irq) +
                 (double)step(prev->softirq, cur->softirq);
    double iowait = (double)step(prev->iowait, cur->iowait);
    double steal = (double)step(prev->steal, cur->steal);
    double idle = (double)step(prev->idle, cur->idle);
    double all = user + sys + iowait + steal + idle;
    memset(out, 0, sizeof(*out));
    if (!(all > 0))
        return;
    out->user = user / all * 100.0;
    out->system = sys / all * 100.0;
    out->iowait = iowait / all * 100.0;
    out->steal = steal / all * 100.0;
    out->idle = idle / all * 100.0;
    out->total = (user + sys + steal) / all * 100.0;
}

/* The value of the meminfo line "key: N kB" in bytes. Returns 0, -ENOENT (no such line),
 * -EINVAL (malformed), -ERANGE. */
static int meminfo_get(const char *text, const char *key, uint64_t *out)
{
    size_t klen = strlen(key);
    *out = 0;
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        if ((size_t)(eol - line) > klen && memcmp(line, key, klen) == 0 &&
            line[klen] == ':') {
            const char *p = text_skip_blanks(line + klen + 1);
            uint64_t kb;
            int rc = text_parse_u64(&p, &kb);
            if (rc != 0)
                return rc;
            p = text_skip_blanks(p);
            if (strncmp(p, "kB", 2) != 0 || !text_rest_blank(p + 2))
                return -EINVAL;
            if (kb > UINT64_MAX / 1024)
                return -ERANGE;
            *out = kb * 1024;
            return 0;
        }
        line = text_next_line(eol);
    }
    return -ENOENT;
}

/* MemTotal is required; MemAvailable is estimated on old kernels. Returns 0, -EINVAL or
 * -ERANGE, zeros on failure. */
int sysload_parse_meminfo(const char *text, uint64_t *total, uint64_t *available)
{
    uint64_t t = 0, a = 0, v;
    int rc;
    *total = *available = 0;
    if ((rc = meminfo_get(text, "MemTotal", &t)) != 0)
        return rc == -ENOENT ? -EINVAL : rc;
    if (t == 0)
        return -EINVAL;
    rc = meminfo_get(text, "MemAvailable", &a);
    if (rc == -ENOENT) { /* before Linux 3.14: an estimate like free(1) made then */
        static const char *const parts[] = {"MemFree", "Buffers", "Cached"};
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            rc = meminfo_get(text, parts[i], &v);
            if (rc == -ENOENT)
                continue;
            if (rc != 0)
                return rc;
            a = text_sat_add(a, v);
        }
        rc = 0;
    }
    if (rc != 0)
        return rc;
    *total = t;
    *available = a;
    return 0;
}

/* Every line used must be well-formed even when optional. Returns 0, -EINVAL or -ERANGE,
 * out zeroed on failure. */
int sysload_parse_meminfo_full(const char *text, sysload_meminfo *out)
{
    struct {
        const char *key;
        uint64_t *dst;
    } opt[] = {
        {"MemFree", &out->free},         {"Buffers", &out->buffers},
        {"Cached", &out->cached},        {"SwapTotal", &out->swap_total},
        {"SwapFree", &out->swap_free},
    };
    memset(out, 0, sizeof(*out));
    int rc = sysload_parse_meminfo(text, &out->total, &out->available);
    if (rc != 0)
        goto fail;
    for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
        rc = meminfo_get(text, opt[i].key, opt[i].dst);
        if (rc != 0 && rc != -ENOENT)
            goto fail;
    }
    return 0;
fail:
    memset(out, 0, sizeof(*out));
    return rc;
}

/* Parses "digits[.digits]" at *pp into a double and moves past it. */
static int parse_decimal(const char **pp, double *out)
{
    const char *p = *pp;
    uint64_t ip = 0;
    double frac = 0, scale = 1;
    size_t nd = 0;
    if (!text_is_digit(*p))
        return -EINVAL;
    for (; text_is_digit(*p); p++, nd++) {
        if (nd == LOAD_INT_DIGITS)
            return -ERANGE;
        ip = ip * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        p++;
        if (!text_is_digit(*p))
            return -EINVAL;
        for (; text_is_digit(*p); p++) {
            if (scale < 1e15) { /* digits past double precision change nothing */
                scale *= 10;
                frac += (double)(*p - '0') / scale;
            }
        }
    }
    *out = (double)ip + frac;
    *pp = p;
    return 0;
}

/* The first three fields only (the running/total and last pid fields are not needed).
 * Returns 0, -EINVAL or -ERANGE, zeros on failure. */
int sysload_parse_loadavg(const char *text, double load[3])
{
    double l[3];
    const char *p = text;
    load[0] = load[1] = load[2] = 0;
    for (int i = 0; i < 3; i++) {
        p = text_skip_blanks(p);
        int rc = parse_decimal(&p, &l[i]);
        if (rc != 0)
            return rc;
        if (!text_is_blank(*p) && *p != '\n' && *p != '\0')
            return -EINVAL;
    }
    for (int i = 0; i < 3; i++)
        load[i] = l[i];
    return 0;
}

/* The first number only (the second, idle time summed over CPUs, is not needed). Returns
 * 0, -EINVAL or -ERANGE, *up 0 on failure. */
int sysload_parse_uptime(const char *text, double *up)
{
    const char *p = text;
    double v;
    *up = 0;
    int rc = parse_decimal(&p, &v);
    if (rc != 0)
        return rc;
    if (!text_is_blank(*p) && *p != '\n' && *p != '\0')
        return -EINVAL;
    *up = v;
    return 0;
}

/* ---- readers ------------------------------------------------------------------------ */

/* Reads the head of the file only. Returns 0 or a negative errno (see sysload.h). */
int sysload_cpu_read(const char *proc_root, sysload_cpu *out)
{
    char buf[SYSLOAD_READ_MAX];
    out->busy = out->total = 0;
    int rc = read_proc(proc_root, "stat", buf, sizeof(buf), 0);
    if (rc != 0)
        return rc;
    if (strlen(buf) == sizeof(buf) - 1 && strchr(buf, '\n') == NULL)
        return -EINVAL; /* a first line longer than the buffer */
    return sysload_parse_cpu(buf, out);
}

/* /proc/stat grows with the CPUs and the interrupt lines; its head holds the cpu lines, the
 * rest of a cut-off text is dropped at its last whole line. Returns 0 or a negative errno
 * (see sysload.h), out zeroed on failure. */
int sysload_stat_read(const char *proc_root, sysload_stat *out)
{
    char *buf = malloc(SYSLOAD_STAT_MAX);
    int rc = -ENOMEM;
    memset(out, 0, sizeof(*out));
    if (buf == NULL)
        goto out;
    if ((rc = read_proc(proc_root, "stat", buf, SYSLOAD_STAT_MAX, 0)) != 0)
        goto out;
    size_t len = strlen(buf);
    if (len == SYSLOAD_STAT_MAX - 1) {
        char *nl = strrchr(buf, '\n');
        if (nl == NULL) {
            rc = -EINVAL; /* a first line longer than the buffer */
            goto out;
        }
        nl[1] = '\0';
    }
    rc = sysload_parse_stat(buf, out);
out:
    free(buf);
    return rc;
}

/* A counter that went backwards (a reset) gives 0 rather than a wrong figure. Returns 0..100. */
double sysload_cpu_percent(const sysload_cpu *prev, const sysload_cpu *cur)
{
    if (cur->total <= prev->total || cur->busy < prev->busy)
        return 0.0;
    double pct = (double)(cur->busy - prev->busy) / (double)(cur->total - prev->total) * 100.0;
    return pct > 100.0 ? 100.0 : pct;
}

/* Returns 0 or a negative errno (see sysload.h); the outputs are zero on failure. */
int sysload_memory(const char *proc_root, uint64_t *total, uint64_t *available,
                   double *percent_used)
{
    char buf[SYSLOAD_READ_MAX];
    *total = *available = 0;
    *percent_used = 0;
    int rc = read_proc(proc_root, "meminfo", buf, sizeof(buf), 1);
    if (rc == 0)
        rc = sysload_parse_meminfo(buf, total, available);
    if (rc != 0)
        return rc;
    uint64_t used = *available < *total ? *total - *available : 0;
    *percent_used = (double)used / (double)*total * 100.0;
    return 0;
}

/* Returns 0 or a negative errno (see sysload.h); out is zeroed on failure. */
int sysload_meminfo_read(const char *proc_root, sysload_meminfo *out)
{
    char buf[SYSLOAD_READ_MAX];
    memset(out, 0, sizeof(*out));
    int rc = read_proc(proc_root, "meminfo", buf, sizeof(buf), 1);
    if (rc != 0)
        return rc;
    return sysload_parse_meminfo_full(buf, out);
}

/* Returns 0 or a negative errno (see sysload.h); *up is 0 on failure. */
int sysload_uptime(const char *proc_root, double *up)
{
    char buf[SYSLOAD_READ_MAX];
    *up = 0;
    int rc = read_proc(proc_root, "uptime", buf, sizeof(buf), 1);
    if (rc != 0)
        return rc;
    return sysload_parse_uptime(buf, up);
}

/* a * b, saturating at UINT64_MAX. */
static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* Like df, blocks reserved for root count as neither used nor available. Returns 0 or the
 * negative errno of statvfs, zeros on failure. */
int sysload_disk(const char *path, uint64_t *total, uint64_t *avail, double *percent_used)
{
    struct statvfs vfs;
    *total = *avail = 0;
    *percent_used = 0;
    if (statvfs(path, &vfs) != 0)
        return -errno;
    uint64_t unit = vfs.f_frsize != 0 ? (uint64_t)vfs.f_frsize : (uint64_t)vfs.f_bsize;
    uint64_t blocks = vfs.f_blocks, bfree = vfs.f_bfree, bavail = vfs.f_bavail;
    uint64_t used_blocks = blocks > bfree ? blocks - bfree : 0;
    *total = sat_mul(blocks, unit);
    *avail = sat_mul(bavail, unit);
    if (used_blocks + bavail > 0) /* as df: reserved blocks count as neither */
        *percent_used = (double)used_blocks / ((double)used_blocks + (double)bavail) * 100.0;
    return 0;
}

/* Returns 0 or a negative errno (see sysload.h); load[] is zero on failure. */
int sysload_loadavg(const char *proc_root, double load[3])
{
    char buf[SYSLOAD_READ_MAX];
    load[0] = load[1] = load[2] = 0;
    int rc = read_proc(proc_root, "loadavg", buf, sizeof(buf), 1);
    if (rc != 0)
        return rc;
    return sysload_parse_loadavg(buf, load);
}

/* sysconf can fail or say 0 in odd containers. Returns the count (capped at 65536) or a
 * negative errno. */
int sysload_ncpu(void)
{
    errno = 0;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return errno != 0 ? -errno : -ENOSYS;
    return n > 65536 ? 65536 : (int)n;
}
