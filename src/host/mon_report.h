/* `cloudya monitor report`: what the host did over a period, from the day files the monitor
 * recorded (mon_history.h). Loading reads the files that may hold the period line by line
 * (a line longer than MON_HISTORY_LINE_MAX or that does not parse is counted as skipped,
 * never fatal) into compact points sorted by time, then computes:
 *
 *   - coverage: first and last sample, how many, the time recorded against the period, and
 *     the gaps (two consecutive samples further apart than 3 x the later one's elapsed +
 *     MON_HISTORY_MIN_GAP_DEFAULT: the monitor was not running in between);
 *   - statistics per series (min, avg, max, p95 by nearest rank on the sorted values, and
 *     when the max first happened): CPU total, load (1 min), memory used %, swap used %, disk
 *     I/O read and write (summed over devices), network receive and send (summed over
 *     interfaces), and per mount point the used % and inodes used %;
 *   - the worst moments: the MON_REPORT_WORST samples with the highest CPU and those with the
 *     highest memory (distinct moments: at least MON_REPORT_SEP_MIN_S apart, more on long
 *     periods), the disk closest to full, the busiest network and disk I/O moments, each with
 *     its time and the top processes then.
 *
 * Memory is bounded: at most max_samples points (MON_REPORT_SAMPLES_MAX, ~110 bytes each plus
 * ~20 bytes per file system) are kept; past that the oldest are dropped and counted. Names
 * (mount points, process names) are kept once each, up to MON_REPORT_MOUNTS_MAX mount points
 * and MON_REPORT_NAMES_MAX process names; more are counted and left out.
 *
 * The outputs: JSON (for --output json), a text summary of ~25 lines and a self-contained
 * HTML page (inline CSS and SVG, no script, no external URL). Times are shown in the local
 * time zone (TZ), which each output names; the outputs depend only on the data and TZ. */
#ifndef CLOUDYA_HOST_MON_REPORT_H
#define CLOUDYA_HOST_MON_REPORT_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mon_history.h"

#define MON_REPORT_SAMPLES_MAX 2000000 /* points kept; older ones dropped past that */
#define MON_REPORT_MOUNTS_MAX 64       /* distinct mount points */
#define MON_REPORT_NAMES_MAX 65536     /* distinct process names */
#define MON_REPORT_WORST 5             /* worst CPU and memory moments */
#define MON_REPORT_SEP_MIN_S 60.0      /* worst moments: at least this far apart, and ... */
#define MON_REPORT_SEP_MAX_S 3600.0    /* ... a 50th of the span, up to this */
#define MON_REPORT_NO_NAME UINT32_MAX  /* a process name that was not kept */
#define MON_REPORT_NONE SIZE_MAX       /* no such moment */

enum mon_series {
    MON_CPU,      /* percent */
    MON_LOAD1,    /* load average, 1 minute */
    MON_MEM,      /* memory used, percent */
    MON_SWAP,     /* swap used, percent */
    MON_IO_READ,  /* bytes/s, all devices */
    MON_IO_WRITE, /* bytes/s */
    MON_NET_RX,   /* bytes/s, all interfaces but lo */
    MON_NET_TX,   /* bytes/s */
    MON_SERIES_N
};

struct mon_stat {
    size_t n;                       /* values seen; 0: the others are meaningless */
    double min, avg, max, p95;
    double t_max;                   /* when max first happened */
};

struct mon_rtop {
    int32_t pid;     /* -1 when unknown */
    uint32_t name;   /* index for mon_report_name */
    float cpu, mem_pct;
};

struct mon_rdisk {
    uint16_t mount; /* index in mounts[] */
    float used_pct, inodes_pct, avail, total;
};

struct mon_point {
    double t;
    float elapsed;
    float v[MON_SERIES_N]; /* NaN when the sample did not have it */
    float mem_used, mem_total;
    uint32_t disk_off;     /* its file systems: d[disk_off .. disk_off + ndisks) */
    uint16_t ndisks, ntop;
    struct mon_rtop top[MON_TOP_MAX];
};

struct mon_mount {
    char name[MON_NAME_MAX];
    struct mon_stat used, inodes; /* used % and inodes used % */
    float avail_at_max, total_at_max; /* free space and size when it was fullest */
};

struct mon_report {
    double since, until;             /* as asked; 0 = open ended */
    double start, end;               /* the period reported: as asked, else the samples' */
    char host[MON_NAME_MAX];         /* of the newest sample */
    int ncpu;                        /* the most seen */
    size_t max_samples;              /* MON_REPORT_SAMPLES_MAX unless a test lowers it */

    struct mon_point *p;             /* sorted by time after mon_report_finish */
    size_t n, cap;
    struct mon_rdisk *d;
    size_t nd, dcap;
    struct mon_mount mounts[MON_REPORT_MOUNTS_MAX];
    size_t nmounts;

    /* what reading saw */
    size_t files, lines, skipped;    /* files read, lines read, lines skipped (bad, too long) */
    size_t out_of_period;            /* good lines outside [since, until] */
    size_t dropped;                  /* oldest samples dropped past max_samples */
    double dropped_until;            /* the newest time dropped */
    size_t names_dropped, mounts_dropped;

    /* coverage (after mon_report_finish) */
    double first, last;              /* first and last sample */
    double recorded_s;               /* the time between samples, gaps left out */
    size_t gaps;
    double longest_gap_s, longest_gap_at; /* its length and where it starts */

    /* statistics and worst moments (after mon_report_finish) */
    struct mon_stat stat[MON_SERIES_N];
    size_t worst_cpu[MON_REPORT_WORST], nworst_cpu; /* point indexes, worst first */
    size_t worst_mem[MON_REPORT_WORST], nworst_mem;
    size_t worst_disk;               /* index in d, or MON_REPORT_NONE */
    size_t worst_disk_point;         /* its point */
    size_t worst_net, worst_io;      /* point indexes (highest rx+tx, read+write) or NONE */

    char empty_reason[512];          /* see mon_report_empty_reason */

    /* private */
    char **names;
    size_t nnames;
    uint32_t *slots; /* name hash table: index + 1, 0 empty */
    size_t nslots;
    uint16_t mount_hint[MON_DISKS_MAX];
    struct mon_sample *scratch;
};

/* A new, empty report for [since, until] (unix seconds; 0 leaves that end open). Never NULL
 * (allocation failure aborts). */
struct mon_report *mon_report_new(double since, double until);

/* Frees r and all it holds. NULL is fine. */
void mon_report_free(struct mon_report *r);

/* Adds one sample. Returns 1 when kept, 0 when its time is outside the period (counted), or
 * -ENOMEM (nothing changed). */
int mon_report_add_sample(struct mon_report *r, const struct mon_sample *s);

/* Adds one line of a day file (len bytes without the '\n'). Returns 1 kept, 0 outside the
 * period, -EINVAL when the line is not a sample (counted as skipped) or -ENOMEM. */
int mon_report_add_line(struct mon_report *r, const char *line, size_t len);

/* Reads a day file's lines from fd until its end, lines longer than MON_HISTORY_LINE_MAX
 * skipped and counted without ever being held whole. Returns 0, or a negative errno from
 * read(2) or -ENOMEM (the lines read until then stay added). */
int mon_report_read_fd(struct mon_report *r, int fd);

/* Sorts the points by time and computes coverage, statistics and worst moments. Call it once
 * after the last add; an empty report is fine (everything zero / NONE). */
void mon_report_finish(struct mon_report *r);

/* Loads the history of home (home/monitor) for [since_t, until_t] (unix seconds, 0 leaves
 * that end open) and finishes the report. Returns 0 with *out (free it with
 * mon_report_free), also when no sample falls in the period (never recorded, or not then):
 * mon_report_count is then 0 and mon_report_empty_reason says so. Else a negative errno with
 * a sentence in err (the folder cannot be read: -EACCES..., out of memory: -ENOMEM). */
int mon_report_load(const char *home, double since_t, double until_t, struct mon_report **out,
                    char *err, size_t errlen);

/* How many samples the report holds (0: nothing was recorded in the period). */
size_t mon_report_count(const struct mon_report *r);

/* The sentence for a report without samples, valid as long as r: "no samples recorded
 * between <start> and <end>; run `cloudya monitor` (it records while it runs)", with how
 * many lines were unreadable when some were. "" when the report has samples. */
const char *mon_report_empty_reason(const struct mon_report *r);

/* The process name of index i ("?" when it was not kept). */
const char *mon_report_name(const struct mon_report *r, uint32_t i);

/* 1 when the monitor was not running between point i - 1 and point i (see gaps above). */
int mon_report_gap_before(const struct mon_report *r, size_t i);

/* The report as JSON (a new reference; NULL only when out of memory): {"host", "period":
 * {"since","until","seconds","timezone"}, "coverage": {...}, "stats": {"<series>": {"min",
 * "avg","max","p95","max_at"}, ...}, "disks": [{"mount","used_pct":{...},"inodes_pct":{...}}],
 * "worst": {"cpu": [...], "mem": [...], "disk", "net", "io"}, "read": {...}}. Times are unix
 * seconds with an RFC 3339 twin ("max_at_utc", "time_utc"); unknown numbers are null. */
json_t *mon_report_json(const struct mon_report *r);

/* Writes the text summary (period, coverage, a min/avg/max/p95 table, the worst moments; ~25
 * lines) to f, with ANSI colours when color. Returns 0 or -EIO when f failed. */
int mon_report_text(const struct mon_report *r, FILE *f, int color);

/* Writes the report as one self-contained HTML page to f. Returns 0 or -EIO when f failed. */
int mon_report_html(const struct mon_report *r, FILE *f);

/* ---- shared by the outputs ------------------------------------------------------------ */

/* Fills idx with up to max mount indexes, the fullest (highest max used %) first, ties in
 * the order first seen; mounts without a used % are left out. Returns how many. */
size_t mon_report_fullest(const struct mon_report *r, size_t *idx, size_t max);

/* The series' key in JSON ("cpu", "load1", "mem_used_pct", ...) and its label ("CPU"). */
const char *mon_series_key(enum mon_series s);
const char *mon_series_label(enum mon_series s);

/* Formats v of series s for people: "12.5%", "0.52", "3.4 MiB/s"; "-" for NaN. */
void mon_report_fmt_value(enum mon_series s, double v, char *out, size_t cap);

/* "512 B", "3.4 KiB", "1.2 GiB" (powers of 1024); "-" for NaN or negative. */
void mon_report_fmt_bytes(double v, char *out, size_t cap);

/* Local time "2025-11-20 14:05" of unix seconds t. */
void mon_report_fmt_time(double t, char *out, size_t cap);

/* A duration for people: "45s", "12m", "3h 20m", "5d 3h". */
void mon_report_fmt_duration(double s, char *out, size_t cap);

/* The local time zone at t: "CET, UTC+01:00" (just "UTC" for UTC). */
void mon_report_fmt_zone(double t, char *out, size_t cap);

#endif
