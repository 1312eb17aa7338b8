/* The monitor's history: every `cloudya monitor` run records what it samples under
 * <home>/monitor/ (home is ~/.cloudya or CLOUDYA_HOME), so that `cloudya monitor report` can
 * tell what the host did over the last days.
 *
 * One file per UTC day, samples-YYYY-MM-DD.jsonl (the day of the sample's own time), mode
 * 0600 in a 0700 folder, one compact JSON line per recorded sample. A line is written with a
 * single write(2) on an O_APPEND descriptor, so two monitors running at once never interleave
 * their lines. A line holds a compact form of the monitor's sample (per-core CPU, device
 * names, process users and command lines are left out):
 *
 *   {"v":1,"t":1763700000.250,"host":"web-1","elapsed":2.00,"ncpu":2,
 *    "cpu":{"total":12.5,"user":8.0,"system":3.5,"iowait":0.5,"steal":0.0},
 *    "load":[0.52,0.58,0.59],
 *    "mem":{"used_pct":20.0,"used":5000000000,"total":25000000000,"available":20000000000,
 *           "swap_used":0,"swap_total":0,"swap_pct":0.0},
 *    "disks":[{"mount":"/","used_pct":42.1,"avail":1,"total":1,"inodes_pct":3.2}],
 *    "io":[{"device":"sda","read_bps":0,"write_bps":4096}],
 *    "net":[{"iface":"eth0","rx_bps":100,"tx_bps":50}],
 *    "procs":{"total":250,"running":2,"blocked":0,"zombie":0,"threads":900},
 *    "top":[{"pid":1234,"name":"nginx","cpu":12.0,"mem_pct":0.50}]}
 *
 * A number the sample did not have (or that was out of its sane range) is left out of its
 * object, or written null in the load array. The loopback interface is not recorded; a file
 * system seen twice in one sample (same size, free space and usage: a container's overlay on
 * the disk it lives on) is recorded once, under its first mount.
 *
 * Bounded: a sample closer than min_gap_s to the last one this handle recorded is skipped (a
 * monitor refreshing every second records one sample in five with the default of 5 s); a day
 * file at max_day_bytes takes no more lines that day; opening the history and every change of
 * day prune the folder: day files older than max_days, then the oldest day files until the
 * total is under max_total_bytes (the day being written is never removed). Only regular
 * files whose name is exactly samples-YYYY-MM-DD.jsonl are ever removed; anything else in
 * the folder is left alone. Between two prunes the folder may exceed max_total_bytes by at
 * most one day file. */
#ifndef CLOUDYA_HOST_MON_HISTORY_H
#define CLOUDYA_HOST_MON_HISTORY_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MON_HISTORY_VERSION 1
#define MON_HISTORY_DIR "monitor"            /* under the Cloudya home */
#define MON_HISTORY_LINE_MAX (64 * 1024)     /* a longer line is not ours: skipped */
#define MON_HISTORY_NAME_LEN 24              /* "samples-YYYY-MM-DD.jsonl" */
#define MON_HISTORY_FILES_MAX 4096           /* day files a prune looks at */
#define MON_HISTORY_MIN_GAP_DEFAULT 5.0      /* seconds */
#define MON_HISTORY_DAY_BYTES_DEFAULT ((size_t)32 * 1024 * 1024)
#define MON_HISTORY_TOTAL_BYTES_DEFAULT ((size_t)256 * 1024 * 1024)
#define MON_HISTORY_DAYS_DEFAULT 35

#define MON_NAME_MAX 128 /* bytes kept of a host, mount, device, interface or process name */
#define MON_DISKS_MAX 32 /* file systems kept per sample */
#define MON_IO_MAX 32    /* block devices kept per sample */
#define MON_NET_MAX 32   /* interfaces kept per sample */
#define MON_TOP_MAX 3    /* top processes kept per sample */
#define MON_SAMPLE_T_MAX 1e11 /* a sample's time is in (0, this) */

/* mon_history_add's answers besides a negative errno. */
#define MON_HISTORY_SKIPPED 0  /* too close to the last recorded sample, or the day is full */
#define MON_HISTORY_RECORDED 1
#define MON_HISTORY_DAY_FULL 2 /* the day file reached its cap: said once per day, not written */

struct mon_history_limits {
    double min_gap_s;       /* 5: samples closer than this to the last recorded are skipped */
    size_t max_day_bytes;   /* 32 MiB per day file */
    size_t max_total_bytes; /* 256 MiB for the folder */
    int max_days;           /* 35: day files kept, today included */
};

/* One sample as recorded. Numbers are NaN when unknown; names are NUL-terminated UTF-8
 * without control characters (cut at MON_NAME_MAX - 1 bytes). */
struct mon_disk {
    char mount[MON_NAME_MAX];
    double used_pct, avail, total, inodes_pct;
};
struct mon_io {
    char device[MON_NAME_MAX];
    double read_bps, write_bps;
};
struct mon_net {
    char iface[MON_NAME_MAX];
    double rx_bps, tx_bps;
};
struct mon_top {
    int pid; /* -1 when unknown */
    char name[MON_NAME_MAX];
    double cpu, mem_pct; /* cpu: percent of one core, like top */
};
struct mon_sample {
    double t; /* unix seconds, always set */
    double elapsed;
    int ncpu; /* 0 when unknown */
    char host[MON_NAME_MAX];
    double cpu, cpu_user, cpu_system, cpu_iowait, cpu_steal;
    double load[3];
    double mem_used_pct, mem_used, mem_total, mem_available;
    double swap_used, swap_total, swap_pct;
    double procs_total, procs_running, procs_blocked, procs_zombie, procs_threads;
    struct mon_disk disks[MON_DISKS_MAX];
    struct mon_io io[MON_IO_MAX];
    struct mon_net net[MON_NET_MAX];
    struct mon_top top[MON_TOP_MAX];
    size_t ndisks, nio, nnet, ntop;
};

struct mon_history;

/* The defaults above: 5 s, 32 MiB, 256 MiB, 35 days. */
struct mon_history_limits mon_history_limits_default(void);

/* Opens the history under home (creating home/monitor with mode 0700) and prunes it as the
 * limits say; limits NULL means the defaults. Returns 0 with *out (free it with
 * mon_history_close), -EINVAL for limits out of range (a negative or non-finite gap, a zero
 * cap, fewer than one day), or another negative errno when the folder cannot be created or
 * opened, each with a sentence in err. */
int mon_history_open(const char *home, const struct mon_history_limits *limits,
                     struct mon_history **out, char *err, size_t errlen);

/* Records the monitor's sample (the JSON object of one sample, see host_conv.md): returns
 * MON_HISTORY_RECORDED when a line was written, MON_HISTORY_SKIPPED when the sample came
 * less than min_gap_s after the last one recorded through h or the day file is full,
 * MON_HISTORY_DAY_FULL the first time a sample is refused because its day file reached
 * max_day_bytes (once per day, so the caller can say it once), -EINVAL when the sample has
 * no valid "t", or a negative errno when the day file cannot be opened or written (disk
 * full: -ENOSPC), with a sentence in err. A write error leaves h usable: the monitor goes
 * on, warns once, and the next line starts on a line of its own. */
int mon_history_add(struct mon_history *h, const json_t *sample, char *err, size_t errlen);

/* Closes the day file and frees h. NULL is fine. */
void mon_history_close(struct mon_history *h);

/* Fills out with home/monitor. Returns 0 or -ENAMETOOLONG. */
int mon_history_dir(const char *home, char *out, size_t cap);

/* Fills out (at least MON_HISTORY_NAME_LEN + 1 bytes) with the file name of the UTC day
 * number day (days since 1970-01-01). Returns 0, -ENOSPC when out is too small, or -ERANGE
 * for a day outside the years 1970..9999. */
int mon_history_day_name(int64_t day, char *out, size_t cap);

/* Parses a file name: returns 0 with *day when name is exactly samples-YYYY-MM-DD.jsonl with
 * a real date in 1970..9999, else -EINVAL (the file is not ours). */
int mon_history_name_day(const char *name, int64_t *day);

/* Reads a sample object (the monitor's full sample or one of our lines) into out, keeping
 * the compact form described above: unknown keys ignored, each number checked against a
 * sane range (NaN when absent or out of range), names cut and cleaned, arrays cut at their
 * maximum, the loopback interface and repeated file systems left out. Returns 0, or -EINVAL
 * when v is not an object or has no "t" in (0, 1e11). */
int mon_sample_from_json(const json_t *v, struct mon_sample *out);

/* Writes s as one line (ending with '\n', no other newline, at most MON_HISTORY_LINE_MAX
 * bytes) into buf. Returns 0 with *len, or -E2BIG when cap is too small (every sample read
 * by mon_sample_from_json fits in MON_HISTORY_LINE_MAX + 1 bytes). */
int mon_sample_format(const struct mon_sample *s, char *buf, size_t cap, size_t *len);

/* Parses one line of a day file (len bytes, without its '\n'; need not be NUL-terminated)
 * into out, with the same result as json_loadb (JSON_DECODE_INT_AS_REAL) then
 * mon_sample_from_json would give, about ten times faster and without allocating: the line
 * is walked once and only our fields are kept. Returns 0, or -EINVAL when it is longer than
 * MON_HISTORY_LINE_MAX, not one JSON object (strict RFC 8259: UTF-8, no "\u0000"), nested
 * deeper than 4, of another version than MON_HISTORY_VERSION ("v"), or without a valid time.
 * Exported for the report and the fuzzer. */
int mon_history_parse_line(const char *line, size_t len, struct mon_sample *out);

#endif
