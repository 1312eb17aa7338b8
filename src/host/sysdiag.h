/* `cloudya diagnose system`: a checklist of the host, like `brew doctor`. Each check reads
 * the real system (proc files, statvfs, resolv.conf, the Docker Engine's socket, systemctl)
 * into a reading, and a pure evaluator turns the reading into a check with a status, a
 * one-line message with the numbers and a one-line hint with a command to run. The
 * evaluators are exported so that the tests can hand them fake readings for every threshold.
 *
 * The checks, in this order: disk_space, inodes, memory, oom_kills, load, swap,
 * systemd_failed, zombies, time_sync, dns, open_files, docker, docker_disk. Nothing sends a
 * packet off the machine, nothing changes it, and a whole run is bounded in time
 * (SYSDIAG_BUDGET_MS). */
#ifndef CLOUDYA_HOST_SYSDIAG_H
#define CLOUDYA_HOST_SYSDIAG_H
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "docker_probe.h"
#include "hostprobe.h"
#include "procs.h"
#include "resolvconf.h"

#define SYSDIAG_PATH_MAX 512
#define SYSDIAG_NAME_MAX 64          /* a process or unit name in a message */
#define SYSDIAG_BUDGET_MS 25000L     /* a whole run stays under this, docker included */
#define SYSDIAG_DOCKER_PING_MS 5000L /* the Engine must answer /_ping within this */
#define SYSDIAG_DOCKER_CALL_MS 5000L /* /version and /info */
#define SYSDIAG_DOCKER_DF_MS 20000L  /* /system/df walks every layer: it may be slow */
#define SYSDIAG_SYSTEMCTL_MS 5000L   /* systemctl --failed */
#define SYSDIAG_KMSG_RECORDS 100000  /* kernel log records looked at for the OOM victim */
#define SYSDIAG_SYSTEMD_DIR "/run/systemd/system" /* exists when systemd runs the machine */

/* Default thresholds (shares in percent). */
#define SYSDIAG_DISK_WARN_PCT 85.0
#define SYSDIAG_DISK_FAIL_PCT 95.0
#define SYSDIAG_DISK_FAIL_FREE (100ull << 20) /* less free than this on a writable mount */
#define SYSDIAG_INODE_WARN_PCT 85.0
#define SYSDIAG_INODE_FAIL_PCT 95.0
#define SYSDIAG_MEM_WARN_AVAIL_PCT 10.0 /* MemAvailable below this share of MemTotal */
#define SYSDIAG_MEM_FAIL_AVAIL_PCT 5.0
#define SYSDIAG_PSI_WARN 10.0 /* /proc/pressure/memory "some avg60" above this */
#define SYSDIAG_PSI_FAIL 40.0
#define SYSDIAG_LOAD_WARN 1.0 /* load5 per core */
#define SYSDIAG_LOAD_FAIL 2.0
#define SYSDIAG_SWAP_WARN_PCT 50.0
#define SYSDIAG_SWAP_FAIL_PCT 80.0
#define SYSDIAG_ZOMBIES_FAIL 100
#define SYSDIAG_NOFILE_SOFT_MIN 1024ull
#define SYSDIAG_FILES_WARN_PCT 70.0 /* file-nr used over file-max */
#define SYSDIAG_FILES_FAIL_PCT 90.0
#define SYSDIAG_DOCKER_RECLAIM_WARN (5ull << 30)

struct sysdiag_thresholds {
    double disk_warn_pct, disk_fail_pct;
    uint64_t disk_fail_free;
    double inode_warn_pct, inode_fail_pct;
    double mem_warn_avail_pct, mem_fail_avail_pct;
    double psi_warn, psi_fail;
    double load_warn, load_fail;
    double swap_warn_pct, swap_fail_pct;
    long zombies_fail;
    uint64_t nofile_soft_min;
    double files_warn_pct, files_fail_pct;
    uint64_t docker_reclaim_warn;
};

struct sysdiag_opts {
    const char *proc_root;       /* "/proc" */
    const char *etc_root;        /* "/etc" */
    const char *docker_socket;   /* NULL: DOCKER_HOST's unix:// path, else the default */
    const char *dockerd_program; /* looked up in PATH to tell "not installed"; NULL: "dockerd" */
    const char *systemd_dir;     /* NULL: CLOUDYA_SYSTEMD_DIR, else SYSDIAG_SYSTEMD_DIR */
    const char *kmsg_path;       /* NULL: "/dev/kmsg"; "": the kernel log is not read */
    struct sysdiag_thresholds th;
};

/* Fills o with the real machine's paths (NULLs: resolved at run time) and the default
 * thresholds. */
void sysdiag_opts_default(struct sysdiag_opts *o);

/* Runs every check, in the order above, into l (subject "system"; l is cleared first), then
 * sets l->cause and l->advice from the first failed check (else the first warning; "" when
 * all is well). Returns 0; a check that cannot read what it needs says so as a warning or a
 * skip, never as an error of the run. */
int sysdiag_run(const struct sysdiag_opts *o, struct check_list *l);

/* ---- readings and pure evaluators (sysdiag_eval.c) ---------------------------------- */

struct sysdiag_memory {
    int ok; /* meminfo was read */
    uint64_t total, available, swap_total, swap_free;
    int psi; /* 1 when /proc/pressure/memory was read */
    double psi_some_avg60;
};

struct sysdiag_oom {
    int ok;                        /* /proc/vmstat had oom_kill */
    uint64_t kills;                /* since boot */
    char victim[SYSDIAG_NAME_MAX]; /* "1234 (java)" of the latest kill in the kernel log, or "" */
    int log_read;                  /* 1 when the kernel log could be read */
};

struct sysdiag_systemd {
    int running;                 /* the systemd directory exists */
    char pid1[SYSDIAG_NAME_MAX]; /* the name of process 1 */
    int ran;                     /* systemctl could be started */
    int timed_out, status;
    const char *output; /* systemctl --failed --no-legend --plain, or NULL */
    const char *errors; /* its standard error, or NULL */
};

struct sysdiag_time {
    int ok;                        /* adjtimex answered */
    int state;                     /* its return: TIME_OK ... TIME_ERROR */
    int unsynced;                  /* STA_UNSYNC is set */
    long esterror_us;              /* the estimated error */
    char daemon[SYSDIAG_NAME_MAX]; /* a running chronyd, ntpd, systemd-timesyncd..., or "" */
    int systemd;                   /* systemd runs the machine (for the hint) */
};

struct sysdiag_dns {
    int resolv_rc; /* 0, or the negative errno of reading resolv.conf */
    char resolv_path[SYSDIAG_PATH_MAX];
    struct resolvconf conf;
    int listening[RESOLVCONF_NS_MAX]; /* per loopback nameserver: 1 yes, 0 no, -1 unknown */
    int nsswitch_rc;                  /* 0, or the negative errno of reading nsswitch.conf */
    int nsswitch_hosts;               /* a "hosts:" line is there */
    char nsswitch_line[256];
    int hosts_rc;        /* 0, or the negative errno of reading /etc/hosts */
    int hosts_localhost; /* a line maps "localhost" */
};

struct sysdiag_files {
    int rlimit_ok;
    uint64_t soft, hard; /* RLIMIT_NOFILE; UINT64_MAX for unlimited */
    int nr_ok;           /* /proc/sys/fs/file-nr was read */
    uint64_t allocated, unused, max;
};

struct sysdiag_docker {
    int installed; /* the socket exists or a dockerd program is on PATH */
    int systemd;   /* for the hint on starting it */
    int socket_rc; /* 0, or -EPROTONOSUPPORT when DOCKER_HOST is not a unix socket */
    char docker_host[SYSDIAG_PATH_MAX];
    struct docker_probe probe;
    int root_ok; /* statvfs of DockerRootDir worked */
    uint64_t root_total, root_avail;
    double root_used_pct;
};

/* The evaluators: each appends its one check to l (never fails: a list that is full reuses
 * its last slot) from a reading alone; they read no file and no clock. */

/* disk_space: ✗ a writable mount at disk_fail_pct or more, or under disk_fail_free free on
 * a file system of 1 GiB or more; ! at disk_warn_pct; the worst mounts named, fullest first,
 * every mount in the detail; read-only mounts listed but never judged. */
void sysdiag_eval_disks(const struct host_mount *m, size_t n, const struct sysdiag_thresholds *t,
                        struct check_list *l);

/* inodes: the same on inode shares; file systems without an inode count are left out. */
void sysdiag_eval_inodes(const struct host_mount *m, size_t n, const struct sysdiag_thresholds *t,
                         struct check_list *l);

/* memory: ✗ MemAvailable under mem_fail_avail_pct of MemTotal or PSI "some avg60" above
 * psi_fail; ! under mem_warn_avail_pct or above psi_warn. */
void sysdiag_eval_memory(const struct sysdiag_memory *r, const struct sysdiag_thresholds *t,
                         struct check_list *l);

/* oom_kills: ! when the kernel killed processes since boot (with the latest victim when the
 * kernel log named it), ✓ none, - when the kernel does not count them. */
void sysdiag_eval_oom(const struct sysdiag_oom *r, struct check_list *l);

/* load: load5 per core (ncpu, at least 1) above load_fail ✗, above load_warn !; load holds
 * the 1, 5 and 15 minute averages, ok 0 when they could not be read (!). */
void sysdiag_eval_load(int ok, const double load[3], int ncpu, const struct sysdiag_thresholds *t,
                       struct check_list *l);

/* swap: no swap ✓ (! when memory is short too); used above swap_fail_pct ✗, swap_warn_pct !. */
void sysdiag_eval_swap(const struct sysdiag_memory *r, const struct sysdiag_thresholds *t,
                       struct check_list *l);

/* systemd_failed: - when systemd does not run the machine; ✗ naming the failed units of
 * systemctl's output (first word of each line), ✓ none, ! when systemctl could not answer. */
void sysdiag_eval_systemd(const struct sysdiag_systemd *r, struct check_list *l);

/* zombies: processes in state Z of pt (or NULL with rc the negative errno of reading it:
 * !); ! with the count and the parents that do not reap them, ✗ at zombies_fail. */
void sysdiag_eval_zombies(const struct proc_table *pt, int rc, const struct sysdiag_thresholds *t,
                          struct check_list *l);

/* time_sync: ✓ synchronized (state not TIME_ERROR, no STA_UNSYNC), else ! saying whether a
 * time daemon runs, with the command that fits. */
void sysdiag_eval_time(const struct sysdiag_time *r, struct check_list *l);

/* dns: ✗ no readable resolv.conf, no nameserver, or a loopback nameserver nothing listens
 * on; ! a nameserver that is not an address, more than the C library uses, no hosts: line in
 * nsswitch.conf (or one without dns), no localhost in /etc/hosts. */
void sysdiag_eval_dns(const struct sysdiag_dns *r, struct check_list *l);

/* open_files: ! a soft RLIMIT_NOFILE under nofile_soft_min; file handles of the system in
 * use above files_fail_pct of file-max ✗, above files_warn_pct !. */
void sysdiag_eval_files(const struct sysdiag_files *r, const struct sysdiag_thresholds *t,
                        struct check_list *l);

/* docker: - not installed (or DOCKER_HOST not a unix socket); ✗ installed but no socket, or
 * no answer to /_ping; ✓ with the version, data root and containers. */
void sysdiag_eval_docker(const struct sysdiag_docker *r, struct check_list *l);

/* docker_disk: - without a reachable Engine; the file system of DockerRootDir against the
 * disk thresholds; ! when more than docker_reclaim_warn is reclaimable, the hint naming what
 * each prune command would free. */
void sysdiag_eval_docker_disk(const struct sysdiag_docker *r, const struct sysdiag_thresholds *t,
                              struct check_list *l);

/* Sets l->cause and l->advice from the first failed check, else the first warning, else
 * leaves them "". */
void sysdiag_conclude(struct check_list *l);

/* Writes size as "310 MiB", "1.5 GiB", "512 B" (binary units; one decimal below 10). */
void sysdiag_format_bytes(uint64_t size, char *out, size_t cap);

/* Parses one kernel log record (a /dev/kmsg line "6,1234,567,-;text" or a plain dmesg line)
 * for an OOM kill: "Out of memory: Killed process 1234 (java)", "Memory cgroup out of
 * memory: Killed process ...", or the "oom-kill:...,task=java,pid=1234" summary. Returns 1
 * with "1234 (java)" in victim, else 0. Exported for the tests. */
int sysdiag_oom_victim(const char *line, size_t len, char *victim, size_t cap);

#endif
