/* The host's own figures for the admin stats: CPU busy share, memory, disk and load, read
 * from proc files (under a configurable root, so tests can fake them) and statvfs. Reads use
 * open/read/close into stack buffers of SYSLOAD_READ_MAX bytes: no allocation, no stdio.
 *
 * The parsers are exported for the tests and the fuzzer; each takes a NUL-terminated text,
 * never reads past it, and leaves its outputs zero when it fails. */
#ifndef CLOUDYA_SYSLOAD_H
#define CLOUDYA_SYSLOAD_H
#include <stddef.h>
#include <stdint.h>

#define SYSLOAD_READ_MAX 16384 /* meminfo and loadavg in whole; of /proc/stat only the head */
#define SYSLOAD_PATH_MAX 256   /* proc_root plus a file name */

/* Jiffies from the "cpu " line of /proc/stat. busy = user + nice + system + irq + softirq +
 * steal; total = busy + idle + iowait (guest time is already inside user and nice). */
typedef struct sysload_cpu {
    uint64_t busy, total;
} sysload_cpu;

/* Reads proc_root/stat (proc_root normally "/proc"). Returns 0, -EINVAL (no well-formed "cpu"
 * first line), -ERANGE, -ENAMETOOLONG, or a negative errno of open/read. */
int sysload_cpu_read(const char *proc_root, sysload_cpu *out);

/* The share of the whole host that was busy between two readings, 0..100. 0 when no time
 * passed or a counter went backwards. */
double sysload_cpu_percent(const sysload_cpu *prev, const sysload_cpu *cur);

/* MemTotal and MemAvailable of proc_root/meminfo in bytes (MemAvailable from MemFree +
 * Buffers + Cached on kernels before 3.14), and the used share (total - available) / total
 * in percent. Returns 0, -EINVAL (MemTotal missing or zero, malformed values), -ERANGE, or a
 * negative errno of open/read. On failure the outputs are 0. */
int sysload_memory(const char *proc_root, uint64_t *total, uint64_t *available,
                   double *percent_used);

/* The file system holding path, like df: total and available-to-users bytes, and the used
 * share used / (used + available) in percent, where used = total - free. Returns 0 or the
 * negative errno of statvfs. On failure the outputs are 0. */
int sysload_disk(const char *path, uint64_t *total, uint64_t *avail, double *percent_used);

/* The 1, 5 and 15 minute load averages of proc_root/loadavg. Returns 0, -EINVAL, -ERANGE,
 * or a negative errno of open/read. On failure load[] is 0. */
int sysload_loadavg(const char *proc_root, double load[3]);

/* The number of online CPUs (at least 1), or a negative errno. */
int sysload_ncpu(void);

/* ---- the whole of /proc/stat, per core ---------------------------------------------- */

#define SYSLOAD_CPUS_MAX 1024            /* per-core lines kept; more are left out */
#define SYSLOAD_STAT_MAX (512 * 1024)    /* of /proc/stat at most this head is read (heap) */

/* The eight counters of one "cpu" line of /proc/stat, in clock ticks. Guest time is already
 * inside user and nice, so it is not kept apart. */
typedef struct sysload_cpu_times {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
} sysload_cpu_times;

/* One "cpuN" line: the CPU number N and its counters (offline CPUs have no line). */
typedef struct sysload_core {
    unsigned id;
    sysload_cpu_times t;
} sysload_core;

/* What /proc/stat says about CPUs and tasks. About 72 KiB: not for the stack. */
typedef struct sysload_stat {
    sysload_cpu_times all;             /* the "cpu " line */
    sysload_core core[SYSLOAD_CPUS_MAX];
    size_t ncore;                      /* lines kept in core[] */
    int cores_truncated;               /* 1 when more than SYSLOAD_CPUS_MAX were there */
    uint64_t procs_running, procs_blocked; /* runnable and I/O-blocked tasks, 0 if absent */
    uint64_t btime;                    /* boot time, Unix seconds; 0 if absent */
} sysload_stat;

/* The shares of the time between two readings of one CPU line, in percent (0..100): total
 * busy (as sysload_cpu: everything but idle and iowait), user (user + nice), system (system
 * + irq + softirq), iowait, steal and idle. */
typedef struct sysload_shares {
    double total, user, system, iowait, steal, idle;
} sysload_shares;

/* Parses a /proc/stat text: the "cpu " line (required, first), the "cpuN" lines, and
 * "procs_running", "procs_blocked", "btime" when present; other lines are skipped. Returns
 * 0, -EINVAL (no first "cpu " line, a malformed cpu line or value), -ERANGE; out is zeroed
 * on failure. */
int sysload_parse_stat(const char *text, sysload_stat *out);

/* Reads proc_root/stat (the head of SYSLOAD_STAT_MAX bytes, into a heap buffer; a line cut
 * off at its end is dropped) into out. Returns 0, the parser's errors, -ENOMEM,
 * -ENAMETOOLONG or a negative errno of open/read; out is zeroed on failure. */
int sysload_stat_read(const char *proc_root, sysload_stat *out);

/* The shares of the time from prev to cur. A counter that went backwards (iowait does on
 * some kernels) counts as 0; all shares are 0 when no time passed. */
void sysload_cpu_shares(const sysload_cpu_times *prev, const sysload_cpu_times *cur,
                        sysload_shares *out);

/* ---- meminfo in full, uptime -------------------------------------------------------- */

/* The meminfo figures a monitor shows, in bytes. available is estimated as in
 * sysload_parse_meminfo on kernels before 3.14. */
typedef struct sysload_meminfo {
    uint64_t total, free, available, buffers, cached, swap_total, swap_free;
} sysload_meminfo;

/* Parses a meminfo text: MemTotal required, the others 0 when absent. Returns 0, -EINVAL
 * (MemTotal missing or zero, a malformed value of a line used), -ERANGE; out is zeroed on
 * failure. */
int sysload_parse_meminfo_full(const char *text, sysload_meminfo *out);

/* Reads proc_root/meminfo into out. Returns 0, the parser's errors, -EFBIG, -ENAMETOOLONG
 * or a negative errno of open/read; out is zeroed on failure. */
int sysload_meminfo_read(const char *proc_root, sysload_meminfo *out);

/* Parses a /proc/uptime text ("38890.61 49278.37"): the first number, seconds since boot.
 * Returns 0, -EINVAL, -ERANGE; *up is 0 on failure. */
int sysload_parse_uptime(const char *text, double *up);

/* Reads proc_root/uptime. Returns 0, the parser's errors, or a negative errno; *up is 0 on
 * failure. */
int sysload_uptime(const char *proc_root, double *up);

/* ---- pure parsers ------------------------------------------------------------------- */

/* The first line of a /proc/stat text ("cpu" then 4 to 10 or more numbers; beyond the
 * tenth they are checked, not used). Returns 0, -EINVAL, -ERANGE. */
int sysload_parse_cpu(const char *text, sysload_cpu *out);

/* A meminfo text ("Key:  N kB" lines). Returns like sysload_memory, without the percent. */
int sysload_parse_meminfo(const char *text, uint64_t *total, uint64_t *available);

/* A loadavg text ("0.52 0.58 0.59 1/1027 12345"): the first three numbers (digits with an
 * optional fraction). Returns 0, -EINVAL, -ERANGE. */
int sysload_parse_loadavg(const char *text, double load[3]);

#endif
