#define _POSIX_C_SOURCE 200809L
/* Readings of the host and rates between two of them (see hostprobe.h).
 *
 * A reading takes its clocks first, then the CPU counters and the process table one after
 * the other, so that the shares computed from two readings cover nearly the same span as
 * their elapsed time; the slower parts (file systems, devices, interfaces) come after. A
 * part that fails is left out rather than failing the reading: a monitor in a container
 * without /proc/diskstats should still show the CPU. */
#include "hostprobe.h"
#include "textscan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PATH_LEN 512 /* a root plus a file name */

/* ---- reading ------------------------------------------------------------------------ */

/* A clock in seconds, 0 when it cannot be read. */
static double clock_s(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the head of root/name (cap bytes, heap) and drops a line cut off at its end. Returns
 * the buffer (free it) with *rc 0, or NULL with *rc a negative errno. */
static char *read_head(const char *root, const char *name, size_t cap, int *rc)
{
    char path[PATH_LEN];
    int n = snprintf(path, sizeof(path), "%s/%s", root, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        *rc = -ENAMETOOLONG;
        return NULL;
    }
    char *buf = malloc(cap);
    if (buf == NULL) {
        *rc = -ENOMEM;
        return NULL;
    }
    if ((*rc = text_read_file(path, buf, cap, 0)) != 0) {
        free(buf);
        return NULL;
    }
    if (strlen(buf) == cap - 1) {
        char *nl = strrchr(buf, '\n');
        if (nl != NULL)
            nl[1] = '\0';
        else
            buf[0] = '\0';
    }
    return buf;
}

/* How whole block devices are told from partitions. */
struct disk_filter {
    char block_dir[PATH_LEN]; /* sys_root/block, "" to go by names */
};

/* Keeps whole devices that did I/O or are not virtual. Returns 1 to keep. */
static int keep_disk(const struct host_diskstat *d, void *ctx)
{
    const struct disk_filter *f = ctx;
    if (host_blockdev_is_idle_virtual(d))
        return 0;
    if (f->block_dir[0] == '\0')
        return !host_blockdev_is_partition_name(d->name);
    char name[HOST_BLOCKDEV_NAME_MAX], path[PATH_LEN + HOST_BLOCKDEV_NAME_MAX + 2];
    size_t i = 0;
    for (; d->name[i] != '\0' && i < sizeof(name) - 1; i++) /* cciss/c0d0 is cciss!c0d0 */
        name[i] = d->name[i] == '/' ? '!' : d->name[i];
    name[i] = '\0';
    int n = snprintf(path, sizeof(path), "%s/%s", f->block_dir, name);
    return n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0;
}

/* Returns 0 or a negative errno; r->ndisks counts what was kept. */
static int read_disks(const char *proc_root, const char *sys_root, struct host_reading *r)
{
    struct disk_filter f = {""};
    int rc;
    if (sys_root != NULL) {
        int n = snprintf(f.block_dir, sizeof(f.block_dir), "%s/block", sys_root);
        if (n < 0 || (size_t)n >= sizeof(f.block_dir) || access(f.block_dir, F_OK) != 0)
            f.block_dir[0] = '\0';
    }
    char *buf = read_head(proc_root, "diskstats", HOST_DISKSTATS_MAX, &rc);
    if (buf == NULL)
        return rc;
    rc = host_parse_diskstats(buf, r->disks, HOST_BLOCKDEVS_MAX, &r->ndisks, keep_disk, &f);
    free(buf);
    return rc;
}

/* Returns 0 or a negative errno. */
static int read_net(const char *proc_root, struct host_reading *r)
{
    int rc;
    char *buf = read_head(proc_root, "net/dev", HOST_NETDEV_MAX, &rc);
    if (buf == NULL)
        return rc;
    rc = host_parse_netdev(buf, r->net, HOST_IFACES_MAX, &r->nnet);
    free(buf);
    return rc;
}

/* calloc: the struct is too large for a stack. Returns it or NULL. */
struct host_reading *host_reading_new(void)
{
    return calloc(1, sizeof(struct host_reading));
}

/* Sets bit in r->have when rc is 0; remembers -ENOMEM in *nomem. */
static void mark(struct host_reading *r, unsigned bit, int rc, int *nomem)
{
    if (rc == 0)
        r->have |= bit;
    else if (rc == -ENOMEM)
        *nomem = 1;
}

/* Every part is tried; see hostprobe.h for the returns. */
int host_read_at(const char *proc_root, const char *sys_root, struct host_reading *r)
{
    int nomem = 0;
    memset(r, 0, sizeof(*r));
    r->mono = clock_s(CLOCK_MONOTONIC);
    r->wall = clock_s(CLOCK_REALTIME);
    mark(r, HOST_HAVE_CPU, sysload_stat_read(proc_root, &r->stat), &nomem);
    mark(r, HOST_HAVE_PROCS, procs_read(proc_root, &r->procs), &nomem);
    mark(r, HOST_HAVE_MEM, sysload_meminfo_read(proc_root, &r->mem), &nomem);
    mark(r, HOST_HAVE_LOAD, sysload_loadavg(proc_root, r->load), &nomem);
    mark(r, HOST_HAVE_UPTIME, sysload_uptime(proc_root, &r->uptime), &nomem);
    mark(r, HOST_HAVE_MOUNTS,
         host_mounts_read(proc_root, r->mounts, HOST_MOUNTS_MAX, &r->nmounts), &nomem);
    mark(r, HOST_HAVE_DISKSTATS, read_disks(proc_root, sys_root, r), &nomem);
    mark(r, HOST_HAVE_NET, read_net(proc_root, r), &nomem);
    int n = sysload_ncpu();
    r->ncpu = n > 0 ? n : (r->stat.ncore > 0 ? (int)r->stat.ncore : 1);
    if (gethostname(r->host, sizeof(r->host)) != 0)
        r->host[0] = '\0';
    r->host[sizeof(r->host) - 1] = '\0';
    if (nomem)
        return -ENOMEM;
    return (r->have & HOST_HAVE_CPU) ? 0 : -ENODATA;
}

/* The real host takes /sys with the real /proc; a fake proc tree goes by device names. */
int host_read(const char *proc_root, struct host_reading *r)
{
    return host_read_at(proc_root, strcmp(proc_root, "/proc") == 0 ? "/sys" : NULL, r);
}

/* Only the process table is allocated. */
void host_reading_free(struct host_reading *r)
{
    if (r == NULL)
        return;
    procs_free(&r->procs);
    memset(r, 0, sizeof(*r));
}

/* ---- rates -------------------------------------------------------------------------- */

/* Returns the rate, 0 for a counter that went backwards or no time. */
double host_rate(uint64_t a, uint64_t b, double elapsed)
{
    if (b < a || !(elapsed > 0))
        return 0.0;
    return (double)(b - a) / elapsed;
}

/* The step of a counter, 0 when it went backwards. */
static uint64_t step(uint64_t a, uint64_t b)
{
    return b > a ? b - a : 0;
}

/* Sectors are 512 bytes in diskstats; busy is the share of the time with I/O in flight,
 * capped at 100 (the kernel's accounting can overshoot a little). */
void host_io_rates(const struct host_diskstat *prev, const struct host_diskstat *cur,
                   double elapsed, struct host_io_rates *out)
{
    memset(out, 0, sizeof(*out));
    if (prev == NULL || cur == NULL || !(elapsed > 0))
        return;
    out->read_bps = host_rate(prev->read_sectors, cur->read_sectors, elapsed) * HOST_SECTOR_SIZE;
    out->write_bps =
        host_rate(prev->write_sectors, cur->write_sectors, elapsed) * HOST_SECTOR_SIZE;
    out->reads_ps = host_rate(prev->reads, cur->reads, elapsed);
    out->writes_ps = host_rate(prev->writes, cur->writes, elapsed);
    out->busy_pct = host_rate(prev->io_ms, cur->io_ms, elapsed) / 1000.0 * 100.0;
    if (out->busy_pct > 100.0)
        out->busy_pct = 100.0;
}

/* Errors and drops are counts since prev, 0 when their counters went backwards. */
void host_net_rates(const struct host_netdev *prev, const struct host_netdev *cur,
                    double elapsed, struct host_net_rates *out)
{
    memset(out, 0, sizeof(*out));
    if (prev == NULL || cur == NULL || !(elapsed > 0))
        return;
    out->rx_bps = host_rate(prev->rx_bytes, cur->rx_bytes, elapsed);
    out->tx_bps = host_rate(prev->tx_bytes, cur->tx_bytes, elapsed);
    out->rx_pps = host_rate(prev->rx_packets, cur->rx_packets, elapsed);
    out->tx_pps = host_rate(prev->tx_packets, cur->tx_packets, elapsed);
    out->rx_errs = step(prev->rx_errs, cur->rx_errs);
    out->tx_errs = step(prev->tx_errs, cur->tx_errs);
    out->rx_drop = step(prev->rx_drop, cur->rx_drop);
    out->tx_drop = step(prev->tx_drop, cur->tx_drop);
}

/* Linear: at most HOST_BLOCKDEVS_MAX entries. Returns the entry or NULL. */
const struct host_diskstat *host_reading_disk(const struct host_reading *r, const char *name)
{
    if (r == NULL)
        return NULL;
    for (size_t i = 0; i < r->ndisks; i++)
        if (strcmp(r->disks[i].name, name) == 0)
            return &r->disks[i];
    return NULL;
}

/* Linear: at most HOST_IFACES_MAX entries. Returns the entry or NULL. */
const struct host_netdev *host_reading_net(const struct host_reading *r, const char *name)
{
    if (r == NULL)
        return NULL;
    for (size_t i = 0; i < r->nnet; i++)
        if (strcmp(r->net[i].name, name) == 0)
            return &r->net[i];
    return NULL;
}
