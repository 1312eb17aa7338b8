/* The process table of the host, read from /proc/<pid>/{stat,status,cmdline}: what
 * `cloudya monitor` shows as top processes, what `monitor --service` and `diagnose service`
 * find a service's processes in, and where `diagnose system` counts zombies. The proc root is
 * a parameter so that tests can hand in a fake tree.
 *
 * A process that ends while the table is read is skipped, never an error: /proc changes under
 * the reader. Reading allocates the table; procs_free releases it. */
#ifndef CLOUDYA_HOST_PROCS_H
#define CLOUDYA_HOST_PROCS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCS_COMM_MAX 64  /* the kernel's name (15 bytes) and then some */
#define PROCS_CMD_MAX 512  /* the command line, arguments joined by spaces, cut there */
#define PROCS_MAX 65536    /* processes read at most; more are left out */
#define PROCS_STAT_MAX 4096 /* /proc/<pid>/stat is read whole into this */

struct proc_info {
    int pid, ppid;
    char state;                 /* R S D Z T t I X ... as /proc/<pid>/stat says */
    char comm[PROCS_COMM_MAX];  /* the kernel's name of the process (/proc/<pid>/stat) */
    char cmd[PROCS_CMD_MAX];    /* argv joined by spaces; "" for kernel threads */
    uid_t uid;                  /* the real uid (/proc/<pid>/status) */
    uint64_t cpu_ticks;         /* utime + stime, in clock ticks (sysconf(_SC_CLK_TCK)) */
    uint64_t start_ticks;       /* when it started, clock ticks after boot */
    uint64_t rss;               /* resident memory, bytes */
    int threads;
    int kernel;                 /* 1 for a kernel thread (ppid 2 or pid 2, empty cmdline) */
};

struct proc_table {
    struct proc_info *p; /* sorted by pid */
    size_t n, cap;
    int truncated;       /* 1 when more than PROCS_MAX processes were there */
};

/* Reads every process under proc_root (normally "/proc") into t, which must be zeroed or
 * freed before. Returns 0, or a negative errno when proc_root itself cannot be listed
 * (-ENOMEM on allocation failure). Processes that vanish or cannot be read are skipped. */
int procs_read(const char *proc_root, struct proc_table *t);

/* Releases what procs_read allocated and zeroes t. Safe on a zeroed table. */
void procs_free(struct proc_table *t);

/* The process pid of t, or NULL (binary search). */
const struct proc_info *procs_find(const struct proc_table *t, int pid);

/* The CPU share of cur over the elapsed_s seconds since the table prev was read, in percent
 * of one core (like top: a process busy on two cores shows 200). 0 when cur was not in prev
 * (same pid and same start time), when elapsed_s <= 0 or when its counter went backwards. */
double procs_cpu_percent(const struct proc_table *prev, const struct proc_info *cur,
                         double elapsed_s);

/* Seconds since boot at which process p started (start_ticks over the clock rate). */
double procs_start_seconds(const struct proc_info *p);

/* Parses the text of a /proc/<pid>/stat file (NUL-terminated; the name in parentheses may
 * hold spaces and parentheses, the last ')' ends it) into pid, comm, state, ppid, cpu_ticks,
 * start_ticks, threads and rss (pages times page_size). Returns 0 or -EINVAL; never reads
 * past the NUL. Exported for the tests and the fuzzer. */
int procs_parse_stat(const char *text, size_t page_size, struct proc_info *out);

/* The real uid, the first number of the "Uid:" line of a /proc/<pid>/status text
 * (NUL-terminated). Returns 0, -ENOENT (no such line) or -EINVAL (malformed, or above
 * UINT32_MAX); *uid is left alone on failure. Exported for the tests and the fuzzer. */
int procs_parse_status_uid(const char *text, uid_t *uid);

/* Joins a raw /proc/<pid>/cmdline (len bytes of NUL-separated arguments, possibly cut off)
 * into out (cap bytes, always NUL-terminated when cap > 0): NULs between arguments become
 * spaces, trailing NULs are dropped, the text is cut at a character boundary, made valid
 * UTF-8 and control characters become '?'. Exported for the tests and the fuzzer. */
void procs_cmdline_join(const char *raw, size_t len, char *out, size_t cap);

#endif
