/* Reading one container's resource usage straight from the kernel, the figures `docker stats`
 * shows (CPU, memory, network, block I/O, pids), without asking the Engine.
 *
 * Two steps. cgroup_locate() runs once per container: it reads the cgroup lines of the
 * container's init process (/proc/<pid>/cgroup) and maps them through the cgroup mounts of
 * our own mount namespace (/proc/self/mountinfo: mount point plus the mount's root), so
 * nothing is guessed: cgroup v1 with either Docker driver (cgroupfs: .../docker/<id>,
 * systemd: .../system.slice/docker-<id>.scope), the unified v2 hierarchy and nested mount
 * namespaces all work the same way. The cgroup path must name the container's full id,
 * which is how a recycled pid or a pid of another pid namespace (a remote Engine) is told
 * apart. cgroup_read() then runs once per sample: a handful of open/read/close calls into
 * one stack buffer, no allocation, no stdio.
 *
 * Limits: directory paths up to CGROUP_PATH_MAX bytes; at most CGROUP_READ_MAX bytes of any
 * one cgroup or proc file (a larger file is an error, never half-parsed); /proc/<pid>/cgroup
 * lines and mountinfo lines up to CGROUP_LINE_MAX bytes (longer mountinfo lines, such as
 * overlay mounts with many layers, are skipped: they are never cgroup mounts we could use);
 * mountinfo up to CGROUP_MOUNTINFO_MAX bytes in all.
 *
 * The parsers are exported for the tests and the fuzzer. Each takes a NUL-terminated text,
 * never reads past its NUL, and sets its outputs to zero (or empty strings) when it fails. */
#ifndef CLOUDYA_CGROUP_H
#define CLOUDYA_CGROUP_H
#include <stddef.h>
#include <stdint.h>

#define CGROUP_PATH_MAX 512            /* a cgroup directory, mount point or mount root */
#define CGROUP_PROC_ROOT_MAX 64        /* the proc_root prefix, normally "/proc" */
#define CGROUP_READ_MAX 65536          /* one cgroup or proc file read by a sample */
#define CGROUP_LINE_MAX 4096           /* one mountinfo or /proc/<pid>/cgroup line */
#define CGROUP_MOUNTINFO_MAX (16u << 20) /* the whole mountinfo file */
#define CGROUP_OPTIONS_MAX 256         /* a cgroup mount's super options ("rw,cpu,cpuacct") */
#define CGROUP_ID_LEN 64               /* a full Docker container id, lowercase hex */

/* The controllers a sample reads; v1 names: cpuacct, memory, blkio, pids. */
enum cgroup_ctl { CGROUP_CTL_CPU, CGROUP_CTL_MEMORY, CGROUP_CTL_BLKIO, CGROUP_CTL_PIDS,
                  CGROUP_CTL_COUNT };

/* Where one container's figures live; filled by cgroup_locate(), read by cgroup_read(). */
typedef struct cgroup_paths {
    int v2;                          /* 1: unified hierarchy (all four dirs are the same) */
    char cpu[CGROUP_PATH_MAX];       /* v1 cpuacct dir; v2 the unified dir */
    char memory[CGROUP_PATH_MAX];
    char blkio[CGROUP_PATH_MAX];     /* "" when the controller is not there (figures are 0) */
    char pids[CGROUP_PATH_MAX];      /* "" likewise */
    int pid;                         /* the init pid, for /proc/<pid>/net/dev */
    char proc_root[CGROUP_PROC_ROOT_MAX];
    uint64_t mem_total;              /* MemTotal of proc_root/meminfo in bytes, 0 unknown */
} cgroup_paths;

/* One sample. Cumulative counters: rates come from two samples (see cgroup_cpu_percent). */
typedef struct cgroup_sample {
    uint64_t cpu_ns;     /* ns of CPU time of the cgroup (v1 cpuacct.usage; v2 cpu.stat
                            usage_usec * 1000) */
    uint64_t mem_usage;  /* bytes without the inactive file cache, as the docker CLI shows it:
                            v1 usage_in_bytes - total_inactive_file, v2 memory.current -
                            inactive_file (each only when smaller than the usage) */
    uint64_t mem_limit;  /* bytes; the host's MemTotal when unlimited or above MemTotal; 0 when
                            unlimited and MemTotal is unknown */
    uint64_t net_rx, net_tx;       /* bytes over the namespace's interfaces except lo */
    uint64_t blk_read, blk_write;  /* bytes: v1 blkio.throttle.io_service_bytes_recursive,
                                      or blkio.io_service_bytes_recursive when the former is
                                      missing or all zero; v2 io.stat rbytes/wbytes */
    uint64_t pids;                 /* pids.current */
    uint64_t pids_limit;           /* pids.max; 0 = no limit */
    int have_net;                  /* 0 when /proc/<pid>/net/dev could not be read */
} cgroup_sample;

/* What the container's init process says about its cgroups (cgroup_parse_proc_cgroup). */
typedef struct cgroup_proc_info {
    int v2;  /* 1: no v1 cpuacct/memory lines, the unified "0::" line is used for all four */
    /* Per controller, the container's cgroup inside that hierarchy: the process's path cut
     * after the component that holds the id (so a child cgroup of the container still
     * yields the container's own); "" when the process has no line for that controller. */
    char path[CGROUP_CTL_COUNT][CGROUP_PATH_MAX];
} cgroup_proc_info;

/* One cgroup or cgroup2 mount, from a line of /proc/self/mountinfo. */
typedef struct cgroup_mount {
    int v2;                              /* 1: cgroup2 */
    char root[CGROUP_PATH_MAX];          /* the part of the hierarchy mounted, "/" for all */
    char point[CGROUP_PATH_MAX];         /* where, octal escapes (\040) decoded */
    char options[CGROUP_OPTIONS_MAX];    /* super options: the v1 controllers are among them */
} cgroup_mount;

/* Locates the cgroup directories of process pid, the init process of container docker_id
 * (CGROUP_ID_LEN lowercase hex), under proc_root (normally "/proc") and the mounts of
 * mountinfo_path (normally "/proc/self/mountinfo"); also notes MemTotal. Returns 0; -EINVAL
 * (bad arguments), -ESRCH (no such process, or its cgroup does not name that container: the
 * pid was recycled or lives in another pid namespace), -ENOENT (no usable cgroup mount, a
 * required controller missing, or the container's directory is already gone), -EACCES, or
 * -ENAMETOOLONG. On failure out is zeroed. */
int cgroup_locate(const char *proc_root, const char *mountinfo_path, int pid,
                  const char *docker_id, cgroup_paths *out);

/* Reads one sample. Returns 0; -ENOENT when the cgroup is gone (the container stopped);
 * -EOPNOTSUPP when the directory is there but a CPU or memory file is not (controller not
 * enabled); -EINVAL or -ERANGE for content that does not parse; other negative errnos from
 * open/read. CPU and memory are required: on any failure out is zeroed, never partial. The
 * other figures are 0 when their files are missing or do not parse. */
int cgroup_read(const cgroup_paths *p, cgroup_sample *out);

/* Descriptors of one container's files kept open between samples: a sample then costs a
 * pread(2) per file instead of an open, a read and a close (measured here: 93 µs per
 * container with open/read/close, about 15 µs with kept descriptors). Up to
 * CGROUP_FILE_SLOTS descriptors per container. The limits, which only `docker update`
 * changes, are read every CGROUP_LIMITS_EVERY samples. */
enum {
    CGROUP_FILE_CPU, CGROUP_FILE_MEM, CGROUP_FILE_MEMSTAT, CGROUP_FILE_MEMLIMIT, CGROUP_FILE_IO,
    CGROUP_FILE_IO_ALL, CGROUP_FILE_PIDS, CGROUP_FILE_PIDSMAX, CGROUP_FILE_NETDEV, CGROUP_FILE_SLOTS
};
#define CGROUP_LIMITS_EVERY 10 /* samples between two reads of the memory and pids limits */
typedef struct cgroup_files {
    int fd[CGROUP_FILE_SLOTS]; /* -1 = not open, -2 = the file does not exist here */
    unsigned reads;            /* samples taken through these descriptors */
    int have_limits;
    uint64_t mem_limit, pids_max; /* as last read (raw memory limit, shown pids limit) */
} cgroup_files;

/* Marks every slot closed (call once before the first cgroup_read_files). */
void cgroup_files_init(cgroup_files *f);
/* Closes what is open; f can be used again afterwards. */
void cgroup_files_close(cgroup_files *f);

/* cgroup_read through f's descriptors (opened on first use; when the process is out of
 * descriptors a file is read the slow way). On a failure every descriptor is closed, so a
 * stopped container's cgroup and network namespace are not held. Same returns as
 * cgroup_read. p must stay the container the descriptors were opened for: close f when it
 * is located again. */
int cgroup_read_files(const cgroup_paths *p, cgroup_files *f, cgroup_sample *out);

/* 1 when mountinfo_path lists any cgroup or cgroup2 mount, so cgroup reading can work on
 * this host; 0 otherwise (including an unreadable file). */
int cgroup_available(const char *mountinfo_path);

/* CPU use between two samples dt_ns apart, in percent of one core (100 = one core busy,
 * 200 = two, as docker stats shows it). 0 when dt_ns is 0 or the counter went backwards. */
double cgroup_cpu_percent(uint64_t prev_cpu_ns, uint64_t cpu_ns, uint64_t dt_ns);

/* ---- pure parsers ------------------------------------------------------------------- */

/* A one-value file (memory.current, cpuacct.usage, pids.max): a decimal number or "max",
 * then optional whitespace. *out is UINT64_MAX for "max". Returns 0, -EINVAL (empty or not a
 * number), -ERANGE (above 2^64-1). */
int cgroup_parse_value(const char *text, uint64_t *out);

/* Finds the line "key value" (one or more blanks between; the key must start the line and
 * match whole) in a flat keyed file (memory.stat, cpu.stat) and parses its value; the first
 * such line counts. Returns 0, -ENOENT (no such line), -EINVAL (its value is not a number),
 * -ERANGE (its value is above 2^64-1). */
int cgroup_parse_kv(const char *text, const char *key, uint64_t *out);

/* Sums the Read and Write lines ("MAJ:MIN Read N") of a v1 blkio io_service_bytes file over
 * all devices; other operations and the final "Total N" line are ignored. Sums saturate at
 * UINT64_MAX. Returns 0 (also for an empty text) or -EINVAL for a malformed line, -ERANGE
 * for a number above 2^64-1. */
int cgroup_parse_blkio_v1(const char *text, uint64_t *rd, uint64_t *wr);

/* Sums rbytes= and wbytes= of a v2 io.stat ("MAJ:MIN rbytes=N wbytes=N rios=N ...") over
 * all devices; other keys are ignored. Returns like cgroup_parse_blkio_v1. */
int cgroup_parse_io_v2(const char *text, uint64_t *rd, uint64_t *wr);

/* Sums received and transmitted bytes of /proc/<pid>/net/dev over all interfaces but lo.
 * Lines without a ':' (the two headers) are skipped. Returns 0 or -EINVAL (an interface
 * line with fewer than 9 numbers), -ERANGE. Sums saturate at UINT64_MAX. */
int cgroup_parse_netdev(const char *text, uint64_t *rx, uint64_t *tx);

/* Parses /proc/<pid>/cgroup ("N:controllers:/path" lines; v2 "0::/path") for container
 * docker_id. Returns 0; -EINVAL (malformed line or bad id), -ENAMETOOLONG, -ENOENT (neither
 * v1 cpuacct and memory lines nor a unified line), -ESRCH (a line it would use does not
 * name the container, or holds a ".." component: a cgroup outside our view). */
int cgroup_parse_proc_cgroup(const char *text, const char *docker_id, cgroup_proc_info *out);

/* Parses one mountinfo line (without or with its '\n'). Returns 0 for a cgroup or cgroup2
 * mount; -ENOENT for a mount of another type; -EINVAL for a malformed line; -ENAMETOOLONG
 * when a field of a cgroup mount does not fit. */
int cgroup_parse_mountinfo_line(const char *line, cgroup_mount *out);

#endif
