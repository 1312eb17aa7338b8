/* The host's own figures for the admin stats: CPU busy share, memory, disk and load, read
 * from proc files (under a configurable root, so tests can fake them) and statvfs. Reads use
 * open/read/close into stack buffers of SYSLOAD_READ_MAX bytes: no allocation, no stdio.
 *
 * The parsers are exported for the tests and the fuzzer; each takes a NUL-terminated text,
 * never reads past it, and leaves its outputs zero when it fails. */
#ifndef CLOUDYA_SYSLOAD_H
#define CLOUDYA_SYSLOAD_H
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
