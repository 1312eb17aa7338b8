/* The host as `cloudya monitor` sees it: readings of /proc and statvfs at one instant, and
 * the sample (one JSON object, the contract between the monitor screen, its history and its
 * report) computed from two readings: CPU shares per core, memory and swap, file systems,
 * block device and network rates, process counts and the top processes.
 *
 * Everything is read under a proc root (normally "/proc") so tests can hand in a fake tree;
 * file systems come from <proc_root>/self/mountinfo and statvfs of their mount points. Every
 * list has a named maximum and every text is parsed with limits; the parsers are exported
 * for the tests and the fuzzer, each takes a NUL-terminated text and never reads past it.
 *
 * Files: host_disks.c (mountinfo, statvfs, diskstats), host_net.c (/proc/net/dev),
 * hostprobe.c (readings and rates), sample_json.c (the sample). */
#ifndef CLOUDYA_HOST_HOSTPROBE_H
#define CLOUDYA_HOST_HOSTPROBE_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "procs.h"
#include "sysload.h"

/* ---- file systems (host_disks.c) ------------------------------------------------------- */

#define HOST_MOUNTS_MAX 256
#define HOST_PATH_MAX 512         /* a mount point or a mount's root, decoded */
#define HOST_DEVICE_MAX 256       /* a mount's source ("/dev/vda1", "server:/export") */
#define HOST_FSTYPE_MAX 32        /* "ext4", "fuse.sshfs" */
#define HOST_MOUNTINFO_MAX (1024 * 1024) /* of mountinfo at most this head is read */
#define HOST_MOUNT_LINES_MAX 4096 /* real file system lines considered before choosing */

struct host_mount {
    char mount[512], device[256], fstype[32];
    uint64_t total, used, avail;            /* bytes, as df -B1 */
    double used_pct;                        /* used/(used+avail)*100 */
    uint64_t inodes_total, inodes_used;     /* 0 when the file system has no inode count */
    double inodes_pct;
    int readonly;
};

/* fills up to max mounts; returns 0 or a negative errno */
int host_mounts_read(const char *proc_root, struct host_mount *m, size_t max, size_t *n);

/* One line of mountinfo, decoded (octal escapes such as \040 turned back into bytes). */
struct host_mountinfo {
    unsigned major, minor;          /* the file system's device number */
    char root[HOST_PATH_MAX];       /* what of the file system is mounted: "/" unless a bind */
    char mount[HOST_PATH_MAX];      /* where */
    char device[HOST_DEVICE_MAX];   /* the source */
    char fstype[HOST_FSTYPE_MAX];
    int readonly;                   /* "ro" in the mount's or the super block's options */
};

/* Parses the first line of text (up to its '\n' or NUL) as a mountinfo line: "36 35 98:0
 * /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue". Returns 0, -EINVAL
 * (malformed: missing fields, no " - " separator, a bad escape or device number), or
 * -ENAMETOOLONG (a field does not fit its buffer); out is zeroed on failure. */
int host_parse_mountinfo_line(const char *text, struct host_mountinfo *out);

/* 1 when fstype is a kernel pseudo file system that df does not list (proc, sysfs, cgroup,
 * devpts, autofs, ...), else 0. Mounts of these are never passed to statvfs (an autofs
 * mount point would be mounted by it). */
int host_fstype_is_pseudo(const char *fstype);

/* The df figures of the file system mounted at path, into m's number fields (m's names are
 * left alone). Returns 0, -ENODATA when it has no blocks (a pseudo file system df hides), or
 * the negative errno of statvfs. */
int host_mount_statvfs(const char *path, struct host_mount *m);

/* ---- block devices (host_disks.c) --------------------------------------------------- */

#define HOST_BLOCKDEVS_MAX 256
#define HOST_BLOCKDEV_NAME_MAX 64 /* the kernel's limit is 32 */
#define HOST_DISKSTATS_MAX (512 * 1024) /* of /proc/diskstats at most this head is read */
#define HOST_SECTOR_SIZE 512      /* diskstats counts 512-byte sectors whatever the device */

struct host_diskstat {
    char name[HOST_BLOCKDEV_NAME_MAX];
    unsigned major, minor;
    uint64_t reads, read_sectors, writes, write_sectors; /* completed I/Os, sectors */
    uint64_t io_ms;                                      /* time spent doing I/O */
};

/* Decides per line whether a parsed device is kept; returns 1 to keep it. */
typedef int (*host_diskstat_keep_fn)(const struct host_diskstat *d, void *ctx);

/* Parses a /proc/diskstats text ("   8       0 sda 1 2 3 4 5 6 7 8 9 10 11 ..." with at
 * least 11 numbers after the name, as since Linux 2.6) into d (at most max entries; when
 * keep is not NULL only the entries it accepts, in file order; blank lines are skipped).
 * Returns 0, or -EINVAL or -ERANGE on a malformed line, with *n 0 then (entries already
 * written to d are to be ignored). */
int host_parse_diskstats(const char *text, struct host_diskstat *d, size_t max, size_t *n,
                         host_diskstat_keep_fn keep, void *ctx);

/* 1 when name looks like a partition by the kernel's naming (sda1, vdb2, xvda1, hda3,
 * nvme0n1p1, mmcblk0p2, loop0p1), else 0. Used when /sys/block cannot be consulted. */
int host_blockdev_is_partition_name(const char *name);

/* 1 for loop, ram and zram devices that never did any I/O, which a monitor should not list,
 * else 0. */
int host_blockdev_is_idle_virtual(const struct host_diskstat *d);

/* ---- network interfaces (host_net.c) ------------------------------------------------ */

#define HOST_IFACES_MAX 256
#define HOST_IFACE_NAME_MAX 32   /* the kernel's limit is 16 with the NUL */
#define HOST_NETDEV_MAX (256 * 1024) /* of /proc/net/dev at most this head is read */

struct host_netdev {
    char name[HOST_IFACE_NAME_MAX];
    uint64_t rx_bytes, rx_packets, rx_errs, rx_drop;
    uint64_t tx_bytes, tx_packets, tx_errs, tx_drop;
};

/* Parses a /proc/net/dev text (two header lines with '|', then "name: 16 numbers" per
 * interface, the first number possibly glued to the ':') into d (at most max entries; more
 * are left out). The loopback interface "lo" is moved to the end. Returns 0, -EINVAL or
 * -ERANGE on a malformed text (then *n is 0). */
int host_parse_netdev(const char *text, struct host_netdev *d, size_t max, size_t *n);

/* ---- a reading (hostprobe.c) -------------------------------------------------------- */

#define HOST_NAME_LEN 256 /* the host name */

/* Which parts of a reading were read; a part that failed keeps zeros and its bit unset. */
enum {
    HOST_HAVE_CPU = 1 << 0,
    HOST_HAVE_MEM = 1 << 1,
    HOST_HAVE_LOAD = 1 << 2,
    HOST_HAVE_UPTIME = 1 << 3,
    HOST_HAVE_MOUNTS = 1 << 4,
    HOST_HAVE_DISKSTATS = 1 << 5,
    HOST_HAVE_NET = 1 << 6,
    HOST_HAVE_PROCS = 1 << 7,
};

/* Everything read at one instant. About 350 KiB: allocate it with calloc (or
 * host_reading_new), never on the stack. */
struct host_reading {
    double mono;                   /* CLOCK_MONOTONIC seconds, for rates */
    double wall;                   /* CLOCK_REALTIME, Unix seconds */
    double uptime;                 /* seconds since boot */
    int ncpu;                      /* online CPUs (sysconf) */
    char host[HOST_NAME_LEN];
    unsigned have;                 /* HOST_HAVE_* bits */
    sysload_stat stat;             /* CPU counters, total and per core */
    sysload_meminfo mem;
    double load[3];
    struct host_diskstat disks[HOST_BLOCKDEVS_MAX]; /* whole devices only */
    size_t ndisks;
    struct host_netdev net[HOST_IFACES_MAX];        /* "lo" last */
    size_t nnet;
    struct host_mount mounts[HOST_MOUNTS_MAX];
    size_t nmounts;
    struct proc_table procs;
};

/* A zeroed reading on the heap, or NULL when out of memory. Free it with host_reading_free
 * and then free(). */
struct host_reading *host_reading_new(void);

/* Reads every part under proc_root ("/proc" for the real host; whole block devices are then
 * told by /sys/block, else by their names). r must be zeroed or released before. A part
 * that cannot be read is left out (its HOST_HAVE_ bit unset): the monitor shows what it
 * can. Returns 0, or -ENOMEM, or -ENODATA when not even the CPU counters could be read. */
int host_read(const char *proc_root, struct host_reading *r);

/* Like host_read with whole block devices told by sys_root/block/<name> ("/sys"), or by
 * their names when sys_root is NULL. Same returns. */
int host_read_at(const char *proc_root, const char *sys_root, struct host_reading *r);

/* Releases what host_read allocated (the process table) and zeroes r; r itself stays. Safe
 * on a zeroed reading. */
void host_reading_free(struct host_reading *r);

/* ---- rates (hostprobe.c) ------------------------------------------------------------ */

/* The per-second rate of a counter that went from a to b in elapsed seconds: 0 when it went
 * backwards (an interface reset, a device replaced) or no time passed. */
double host_rate(uint64_t a, uint64_t b, double elapsed);

/* The I/O figures of block device cur since prev (the same device in the previous reading,
 * or NULL for zeros). */
struct host_io_rates {
    double read_bps, write_bps, reads_ps, writes_ps, busy_pct;
};
void host_io_rates(const struct host_diskstat *prev, const struct host_diskstat *cur,
                   double elapsed, struct host_io_rates *out);

/* The network figures of interface cur since prev (NULL for zeros); the error and drop
 * fields are counts since prev. */
struct host_net_rates {
    double rx_bps, tx_bps, rx_pps, tx_pps;
    uint64_t rx_errs, tx_errs, rx_drop, tx_drop;
};
void host_net_rates(const struct host_netdev *prev, const struct host_netdev *cur,
                    double elapsed, struct host_net_rates *out);

/* The entry named name in a reading's devices or interfaces, or NULL. */
const struct host_diskstat *host_reading_disk(const struct host_reading *r, const char *name);
const struct host_netdev *host_reading_net(const struct host_reading *r, const char *name);

/* ---- the sample (sample_json.c) ----------------------------------------------------- */

#define HOST_TOP_MAX 100 /* top processes at most in a sample */

/* The sample of cur, the contract between the monitor screen, its history and its report:
 *   "t" (wall clock, Unix s), "host", "elapsed" (s since prev), "ncpu", "uptime" (s),
 *   "cpu": {"total","user","system","iowait","steal" (%), "cores": [% busy per core]},
 *   "load": [1, 5, 15 min],
 *   "mem": {"total","available","used","used_pct","free","buffers","cached",
 *           "swap_total","swap_used","swap_pct"},
 *   "disks": [{"mount","device","fstype","total","used","avail","used_pct",
 *              "inodes_total","inodes_used","inodes_pct","readonly"}],
 *   "io": [{"device","read_bps","write_bps","reads_ps","writes_ps","busy_pct"}],
 *   "net": [{"iface","rx_bps","tx_bps","rx_pps","tx_pps","rx_errs","tx_errs","rx_drop",
 *            "tx_drop"}] (errors and drops counted since prev; "lo" last),
 *   "procs": {"total","running","blocked","zombie","threads"},
 *   "top": [{"pid","ppid","name","user","uid","cpu" (% of one core),"mem_pct","rss",
 *            "threads","state","cmd" ("[name]" for kernel threads and zombies)}].
 * Sizes in bytes, rates per second, shares in percent rounded to one decimal. Rates are
 * over cur - prev; prev may be NULL (or not older than cur): rates and shares are then 0
 * and "elapsed" 0. top_n processes (clamped to 0..HOST_TOP_MAX) sorted by CPU, then
 * resident memory. Returns a new reference, or NULL when out of memory. */
json_t *host_sample_json(const struct host_reading *prev, const struct host_reading *cur,
                         int top_n);

#endif
