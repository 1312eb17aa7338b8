/* Unit tests for src/host/host_disks.c, host_net.c, hostprobe.c and sample_json.c: the
 * mountinfo, diskstats and net/dev parsers with real texts and odd ones (escaped names,
 * optional fields, glued counters, partitions, old kernels, garbage), the choice of file
 * systems like df (pseudo file systems, bind mounts, stacked mounts, missing mount points),
 * rates and the sample's keys and values from two readings of a fake proc tree (counters
 * going backwards, interfaces appearing, processes ranked), and the real host against
 * /proc/meminfo, sysconf and statvfs. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "hostprobe.h"

static char root[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/hptest.XXXXXX");
    return mkdtemp(root) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* Writes text to root/name, creating the directories on the way. */
static void put(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, name);
    for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(path, 0700);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* Writes len bytes (NULs included) to root/name, whose directory exists. */
static void put_raw(const char *name, const char *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void mkdirs(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/x", root, name);
    for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(path, 0700);
        *s = '/';
    }
}

static int near(double a, double b)
{
    return fabs(a - b) < 0.051;
}

/* ---- mountinfo ---------------------------------------------------------------------- */

static void test_parse_mountinfo(void **state)
{
    (void)state;
    struct host_mountinfo mi;
    assert_int_equal(host_parse_mountinfo_line("27 1 254:0 / / rw,relatime - ext4 /dev/vda "
                                               "rw,discard,resuid=65534\n", &mi), 0);
    assert_int_equal(mi.major, 254);
    assert_int_equal(mi.minor, 0);
    assert_string_equal(mi.root, "/");
    assert_string_equal(mi.mount, "/");
    assert_string_equal(mi.fstype, "ext4");
    assert_string_equal(mi.device, "/dev/vda");
    assert_int_equal(mi.readonly, 0);

    /* optional fields, a bind mount */
    assert_int_equal(host_parse_mountinfo_line("42 27 254:0 /var/lib/docker /var/lib/docker "
                                               "rw,relatime shared:1 master:3 - ext4 /dev/vda "
                                               "rw", &mi), 0);
    assert_string_equal(mi.root, "/var/lib/docker");
    assert_string_equal(mi.device, "/dev/vda");
    /* escapes, read-only by mount options and by super options */
    assert_int_equal(host_parse_mountinfo_line("50 27 8:17 / /media/My\\040Disk\\011x\\134y "
                                               "ro,nosuid - vfat /dev/sdb1 rw,fmask=0022",
                                               &mi), 0);
    assert_string_equal(mi.mount, "/media/My Disk\tx\\y");
    assert_int_equal(mi.readonly, 1);
    assert_int_equal(host_parse_mountinfo_line("51 27 0:50 / /snap/core/1 rw - squashfs "
                                               "/dev/loop0 ro,errors=continue", &mi), 0);
    assert_int_equal(mi.readonly, 1);
    assert_int_equal(host_parse_mountinfo_line("52 27 0:51 / /mnt rw,noatime - nfs4 "
                                               "srv:/export\\040a rw,rsize=1048576", &mi), 0);
    assert_string_equal(mi.device, "srv:/export a");
    assert_int_equal(mi.readonly, 0); /* "rsize" is not "ro" */
    assert_int_equal(host_parse_mountinfo_line("93 27 0:4 net:[4026532191] /run/docker/netns/"
                                               "64e855aea5e1 rw - nsfs nsfs rw", &mi), 0);
    assert_string_equal(mi.fstype, "nsfs");

    static const char *const bad[] = {
        "",
        "27 1 254:0 / / rw,relatime",                       /* no separator */
        "27 1 254:0 / / rw,relatime - ext4",                /* no source */
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda",       /* no super options */
        "27 1 254:0 / / rw - ext4 /dev/vda rw extra",
        "27 1 254 / / rw - ext4 /dev/vda rw",
        "27 1 254:x / / rw - ext4 /dev/vda rw",
        "27 1 4294967296:0 / / rw - ext4 /dev/vda rw",
        "x 1 254:0 / / rw - ext4 /dev/vda rw",
        "27  1 254:0 / / rw - ext4 /dev/vda rw",            /* two blanks */
        "27 1 254:0 / /a\\04 rw - ext4 /dev/vda rw",        /* short escape */
        "27 1 254:0 / /a\\000 rw - ext4 /dev/vda rw",       /* escaped NUL */
        "27 1 254:0 / /a\\9xx rw - ext4 /dev/vda rw",
        "27 1 254:0 / /a\\ rw - ext4 /dev/vda rw",
        "27 1 254:0 / /\n / rw - ext4 /dev/vda rw",         /* cut by a newline */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&mi, 0x5a, sizeof(mi));
        if (host_parse_mountinfo_line(bad[i], &mi) != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(mi.mount[0], '\0');
        assert_int_equal(mi.major, 0);
    }
    /* a mount point longer than the buffer */
    char line[2048], longp[1200];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    snprintf(line, sizeof(line), "27 1 254:0 / %s rw - ext4 /dev/vda rw", longp);
    assert_int_equal(host_parse_mountinfo_line(line, &mi), -ENAMETOOLONG);
    snprintf(line, sizeof(line), "27 1 254:0 / /x rw - ext4andmoreandmoreandmoreandmore1 "
                                 "/dev/vda rw");
    assert_int_equal(host_parse_mountinfo_line(line, &mi), -ENAMETOOLONG);

    assert_int_equal(host_fstype_is_pseudo("proc"), 1);
    assert_int_equal(host_fstype_is_pseudo("cgroup2"), 1);
    assert_int_equal(host_fstype_is_pseudo("autofs"), 1);
    assert_int_equal(host_fstype_is_pseudo("tmpfs"), 0);
    assert_int_equal(host_fstype_is_pseudo("overlay"), 0);
    assert_int_equal(host_fstype_is_pseudo("ext4"), 0);
    assert_int_equal(host_fstype_is_pseudo("fuse.sshfs"), 0);
    assert_int_equal(host_fstype_is_pseudo("proc2"), 0);
}

static const struct host_mount *find_mount(const struct host_mount *m, size_t n,
                                           const char *mount)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].mount, mount) == 0)
            return &m[i];
    return NULL;
}

static void test_mounts_read(void **state)
{
    (void)state;
    char text[8192], a[128], s[128], deep[128], sp[128];
    snprintf(a, sizeof(a), "%s/a", root);
    snprintf(s, sizeof(s), "%s/s", root);
    snprintf(deep, sizeof(deep), "%s/long/deeper", root);
    snprintf(sp, sizeof(sp), "%s/with space", root);
    mkdirs("a");
    mkdirs("s");
    mkdirs("long/deeper");
    mkdirs("with space");
    snprintf(text, sizeof(text),
             "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
             "27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
             "28 27 8:1 /srv %s rw,relatime - ext4 /dev/sda1 rw\n"      /* bind into a */
             "29 27 0:50 / %s rw - tmpfs first rw\n"                    /* hidden by 31 */
             "30 27 0:60 / %s rw - tmpfs longer rw\n"                   /* same fs as 32 */
             "31 27 0:51 / %s rw - tmpfs second rw\n"
             "32 27 0:60 / %s ro - tmpfs shorter rw\n"
             "33 27 0:70 / %s/with\\040space rw - xfs /dev/md0 rw\n"
             "34 27 0:71 / %s/missing rw - ext4 /dev/sdz rw\n"          /* no such dir */
             "35 27 0:72 / %s/a rw - cgroup2 cgroup2 rw\n"              /* pseudo */
             "garbage line\n"
             "36 27 0:73 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw\n",
             a, a, deep, a, s, root, root, root);
    put("self/mountinfo", text);
    struct host_mount *m = calloc(HOST_MOUNTS_MAX, sizeof(*m));
    size_t n = 99;
    assert_non_null(m);
    assert_int_equal(host_mounts_read(root, m, HOST_MOUNTS_MAX, &n), 0);
    assert_int_equal(n, 4);
    const struct host_mount *r = find_mount(m, n, "/");
    assert_non_null(r);
    assert_string_equal(r->device, "/dev/sda1");
    assert_string_equal(r->fstype, "ext4");
    struct statvfs v;
    assert_int_equal(statvfs("/", &v), 0);
    assert_int_equal(r->total, (uint64_t)v.f_blocks * v.f_frsize);
    assert_int_equal(r->inodes_total, (uint64_t)v.f_files);
    assert_true(r->used + r->avail <= r->total);
    double want = (double)r->used / ((double)r->used + (double)r->avail) * 100.0;
    assert_true(fabs(r->used_pct - want) < 1e-9);

    r = find_mount(m, n, a);
    assert_non_null(r);
    assert_string_equal(r->device, "second"); /* the mount on top */
    r = find_mount(m, n, s);
    assert_non_null(r);
    assert_string_equal(r->device, "shorter");
    assert_int_equal(r->readonly, 1);
    assert_null(find_mount(m, n, deep));
    r = find_mount(m, n, sp);
    assert_non_null(r);
    assert_string_equal(r->fstype, "xfs");
    assert_int_equal(r->readonly, 0);
    assert_null(find_mount(m, n, "/proc"));

    /* the maximum */
    assert_int_equal(host_mounts_read(root, m, 2, &n), 0);
    assert_int_equal(n, 2);
    /* no mountinfo */
    char nope[96];
    snprintf(nope, sizeof(nope), "%s/nope", root);
    assert_int_equal(host_mounts_read(nope, m, HOST_MOUNTS_MAX, &n), -ENOENT);
    assert_int_equal(n, 0);
    put("self/mountinfo", "");
    assert_int_equal(host_mounts_read(root, m, HOST_MOUNTS_MAX, &n), 0);
    assert_int_equal(n, 0);
    free(m);

    struct host_mount one = {0};
    assert_int_equal(host_mount_statvfs("/no/such/dir", &one), -ENOENT);
    assert_int_equal(host_mount_statvfs("/proc", &one), -ENODATA); /* no blocks */
}

/* ---- diskstats ---------------------------------------------------------------------- */

static const char diskstats_text[] =
    "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "   7       1 loop1 57 0 2292 12 0 0 0 0 0 16 12 0 0 0 0 0 0\n"
    "   8       0 sda 12345 100 987654 3000 6789 50 456789 2000 0 4500 5000 0 0 0 0 10 20\n"
    "   8       1 sda1 12000 100 980000 2900 6700 50 450000 1900 0 4400 4800 0 0 0 0 0 0\n"
    " 259       0 nvme0n1 500 0 40000 100 300 0 20000 50 2 150 150 0 0 0 0 0 0\n"
    " 259       1 nvme0n1p1 400 0 30000 90 200 0 10000 40 0 120 130 0 0 0 0 0 0\n"
    " 253       0 dm-0 77 0 616 5 88 0 704 9 0 14 14\n"
    "  11       0 sr0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    " 253       1 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

static void test_parse_diskstats(void **state)
{
    (void)state;
    struct host_diskstat d[16];
    size_t n = 99;
    assert_int_equal(host_parse_diskstats(diskstats_text, d, 16, &n, NULL, NULL), 0);
    assert_int_equal(n, 9);
    assert_string_equal(d[2].name, "sda");
    assert_int_equal(d[2].major, 8);
    assert_int_equal(d[2].reads, 12345);
    assert_int_equal(d[2].read_sectors, 987654);
    assert_int_equal(d[2].writes, 6789);
    assert_int_equal(d[2].write_sectors, 456789);
    assert_int_equal(d[2].io_ms, 4500);
    assert_string_equal(d[6].name, "dm-0"); /* an old kernel's 11 numbers */
    assert_int_equal(d[6].io_ms, 14);
    assert_int_equal(host_parse_diskstats(diskstats_text, d, 3, &n, NULL, NULL), 0);
    assert_int_equal(n, 3);
    assert_int_equal(host_parse_diskstats("", d, 16, &n, NULL, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(host_parse_diskstats("\n  \n", d, 16, &n, NULL, NULL), 0);

    static const char *const bad[] = {
        "8 0 sda 1 2 3 4 5 6 7 8 9 10\n",            /* 10 numbers */
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 x\n",
        "8 sda 1 2 3 4 5 6 7 8 9 10 11\n",
        "8 0\n",
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 11x\n",
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 -11\n",
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\ngarbage\n",
        ("8 0 a0123456789012345678901234567890123456789012345678901234567890123 "
         "1 2 3 4 5 6 7 8 9 10 11\n"), /* a name longer than the buffer */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 99;
        if (host_parse_diskstats(bad[i], d, 16, &n, NULL, NULL) != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(n, 0);
    }
    assert_int_equal(host_parse_diskstats("8 0 sda 99999999999999999999 2 3 4 5 6 7 8 9 10 "
                                          "11\n", d, 16, &n, NULL, NULL), -ERANGE);
    assert_int_equal(host_parse_diskstats("4294967296 0 sda 1 2 3 4 5 6 7 8 9 10 11\n", d, 16,
                                          &n, NULL, NULL), -ERANGE);

    static const char *const parts[] = {"sda1", "sdab12", "vdb2", "xvda1", "hda3",
                                        "nvme0n1p1", "mmcblk0p2", "loop0p1", "md127p3"};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        assert_int_equal(host_blockdev_is_partition_name(parts[i]), 1);
    static const char *const whole[] = {"sda", "vdb", "nvme0n1", "mmcblk0", "loop0", "dm-0",
                                        "md127", "sr0", "zram0", "nbd3", "rbd0", "", "1"};
    for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
        assert_int_equal(host_blockdev_is_partition_name(whole[i]), 0);

    struct host_diskstat idle = {.name = "loop3"};
    assert_int_equal(host_blockdev_is_idle_virtual(&idle), 1);
    idle.writes = 1;
    assert_int_equal(host_blockdev_is_idle_virtual(&idle), 0);
    struct host_diskstat sr = {.name = "sr0"};
    assert_int_equal(host_blockdev_is_idle_virtual(&sr), 0);
}

/* ---- net/dev ------------------------------------------------------------------------ */

static const char netdev_head[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
    "errs drop fifo colls carrier compressed\n";

static void test_parse_netdev(void **state)
{
    (void)state;
    char text[4096];
    snprintf(text, sizeof(text),
             "%s    lo: 146672318164 49636847    0    0    0     0          0         0 "
             "146672318164 49636847    0    0    0     0       0          0\n"
             "  eth0:18446744073709551615 1234 5 6 0 0 0 0 987654 4321 7 8 0 0 0 0\n"
             "docker0: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
             "veth-\xc3\xa9x: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
             netdev_head);
    struct host_netdev d[8];
    size_t n = 0;
    assert_int_equal(host_parse_netdev(text, d, 8, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(d[0].name, "eth0");
    assert_int_equal(d[0].rx_bytes, UINT64_MAX);
    assert_int_equal(d[0].rx_packets, 1234);
    assert_int_equal(d[0].rx_errs, 5);
    assert_int_equal(d[0].rx_drop, 6);
    assert_int_equal(d[0].tx_bytes, 987654);
    assert_int_equal(d[0].tx_packets, 4321);
    assert_int_equal(d[0].tx_errs, 7);
    assert_int_equal(d[0].tx_drop, 8);
    assert_string_equal(d[2].name, "veth-\xc3\xa9x");
    assert_int_equal(d[2].tx_drop, 12);
    assert_string_equal(d[3].name, "lo"); /* last */
    assert_int_equal(d[3].rx_bytes, 146672318164ull);
    /* a full list still ends with lo */
    assert_int_equal(host_parse_netdev(text, d, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].name, "eth0");
    assert_string_equal(d[1].name, "lo");
    assert_int_equal(host_parse_netdev(text, d, 0, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(host_parse_netdev(netdev_head, d, 8, &n), 0); /* no interfaces */
    assert_int_equal(n, 0);

    static const char *const bad_lines[] = {
        "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",          /* 15 numbers */
        "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
        "eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
        ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
        "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n",
        "eth 0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
        "averyveryveryverylongnameindeed0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
    };
    for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        snprintf(text, sizeof(text), "%s%s", netdev_head, bad_lines[i]);
        n = 99;
        if (host_parse_netdev(text, d, 8, &n) != -EINVAL)
            fail_msg("accepted: %s", bad_lines[i]);
        assert_int_equal(n, 0);
    }
    assert_int_equal(host_parse_netdev("", d, 8, &n), -EINVAL);
    assert_int_equal(host_parse_netdev("eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", d, 8,
                                       &n), -EINVAL); /* no headers */
    snprintf(text, sizeof(text), "%seth0: 99999999999999999999 2 3 4 5 6 7 8 9 10 11 12 13 14 "
             "15 16\n", netdev_head);
    assert_int_equal(host_parse_netdev(text, d, 8, &n), -ERANGE);
}

/* ---- rates and the sample from a fake tree ------------------------------------------ */

/* A process directory; cmd is a literal whose NULs separate the arguments. */
#define put_proc(pid, comm, st, ticks, rss, uid, cmd)                                      \
    put_proc_n(pid, comm, st, ticks, rss, uid, cmd, sizeof(cmd) - 1)

static void put_proc_n(int pid, const char *comm, char st, unsigned long ticks,
                       unsigned long rss_pages, unsigned uid, const char *cmd, size_t cmdlen)
{
    char name[64], text[1024];
    snprintf(name, sizeof(name), "%d/stat", pid);
    snprintf(text, sizeof(text),
             "%d (%s) %c 1 %d %d 0 -1 4194304 100 0 0 0 %lu 0 0 0 20 0 2 0 %d 1000000 %lu "
             "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
             pid, comm, st, pid, pid, ticks, 1000 + pid, rss_pages);
    put(name, text);
    snprintf(name, sizeof(name), "%d/status", pid);
    snprintf(text, sizeof(text), "Name:\t%s\nState:\t%c\nUid:\t%u\t%u\t%u\t%u\n", comm, st, uid,
             uid, uid, uid);
    put(name, text);
    snprintf(name, sizeof(name), "%d/cmdline", pid);
    put_raw(name, cmd, cmdlen);
}

/* The first state of the fake host; then() moves it on by two seconds. */
static void fake_host(void)
{
    char text[4096];
    put("stat", "cpu  1000 0 500 8000 100 0 0 0 0 0\n"
                "cpu0 500 0 250 4000 50 0 0 0 0 0\n"
                "cpu1 500 0 250 4000 50 0 0 0 0 0\n"
                "procs_running 2\nprocs_blocked 1\n");
    put("meminfo", "MemTotal: 1000000 kB\nMemFree: 200000 kB\nMemAvailable: 600000 kB\n"
                   "Buffers: 1000 kB\nCached: 300000 kB\nSwapTotal: 500000 kB\n"
                   "SwapFree: 400000 kB\n");
    put("loadavg", "0.52 0.58 0.59 2/250 12345\n");
    put("uptime", "86400.50 1000.00\n");
    snprintf(text, sizeof(text), "27 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                                 "28 27 0:21 / /proc rw - proc proc rw\n");
    put("self/mountinfo", text);
    put("diskstats", "8 0 sda 100 0 2000 0 50 0 1000 0 0 100 0\n"
                     "8 1 sda1 100 0 2000 0 50 0 1000 0 0 100 0\n"
                     "7 0 loop0 0 0 0 0 0 0 0 0 0 0 0\n"
                     "259 0 nvme0n1 10 0 80 0 10 0 80 0 0 10 0\n");
    snprintf(text, sizeof(text),
             "%slo: 5000 50 0 0 0 0 0 0 5000 50 0 0 0 0 0 0\n"
             "eth0: 1000000 1000 1 2 0 0 0 0 500000 500 3 4 0 0 0 0\n"
             "eth1: 9000000 9000 0 0 0 0 0 0 9000000 9000 0 0 0 0 0 0\n",
             netdev_head);
    put("net/dev", text);
    put_proc(1, "init", 'S', 100, 1000, 0, "/sbin/init");
    put_proc(200, "idle", 'S', 10, 50000, 4000000, "idle\0--flag\0");
    put_proc(300, "busy", 'R', 1000, 10, 0, "busy");
    put_proc(400, "dead", 'Z', 5, 0, 0, "");
}

static void then(void)
{
    char text[4096];
    /* 200 ticks over both cores: user 60, system 20, iowait 10, steal 10, idle 100 */
    put("stat", "cpu  1060 0 520 8100 110 0 0 10 0 0\n"
                "cpu0 560 0 270 4000 60 0 0 10 0 0\n"   /* 100 % busy but iowait */
                "cpu1 500 0 250 4100 50 0 0 0 0 0\n"    /* idle */
                "procs_running 3\nprocs_blocked 0\n");
    put("meminfo", "MemTotal: 1000000 kB\nMemFree: 100000 kB\nMemAvailable: 250000 kB\n"
                   "Buffers: 1000 kB\nCached: 300000 kB\nSwapTotal: 500000 kB\n"
                   "SwapFree: 400000 kB\n");
    /* sda: 2 s, +200 sectors read, +10 writes of 1000 sectors, 500 ms busy; nvme reset */
    put("diskstats", "8 0 sda 110 0 2200 0 60 0 2000 0 0 600 0\n"
                     "8 1 sda1 110 0 2200 0 60 0 2000 0 0 600 0\n"
                     "7 0 loop0 0 0 0 0 0 0 0 0 0 0 0\n"
                     "259 0 nvme0n1 1 0 8 0 1 0 8 0 0 1 0\n");
    /* eth0 +2000 bytes in, +1000 out, errors +1; eth1 reset (backwards); eth2 new */
    snprintf(text, sizeof(text),
             "%slo: 5000 50 0 0 0 0 0 0 5000 50 0 0 0 0 0 0\n"
             "eth0: 1002000 1010 2 2 0 0 0 0 501000 505 3 6 0 0 0 0\n"
             "eth1: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n"
             "eth2: 4000 4 0 0 0 0 0 0 4000 4 0 0 0 0 0 0\n",
             netdev_head);
    put("net/dev", text);
    long hz = sysconf(_SC_CLK_TCK);
    put_proc(300, "busy", 'R', 1000 + 2 * (unsigned long)hz, 10, 0, "busy"); /* 100 % */
    put_proc(1, "init", 'S', 100 + (unsigned long)hz / 2, 1000, 0, "/sbin/init"); /* 25 % */
}

static json_t *get(json_t *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *cur = o;
    for (char *k = buf, *dot; k != NULL; k = dot) {
        dot = strchr(k, '.');
        if (dot != NULL)
            *dot++ = '\0';
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)strtoul(k, NULL, 10))
                                 : json_object_get(cur, k);
        if (cur == NULL)
            fail_msg("no %s in the sample", path);
    }
    return cur;
}

static double num(json_t *o, const char *path)
{
    json_t *v = get(o, path);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static const char *str(json_t *o, const char *path)
{
    json_t *v = get(o, path);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_sample_fake(void **state)
{
    (void)state;
    struct host_reading *a = host_reading_new(), *b = host_reading_new();
    assert_non_null(a);
    assert_non_null(b);
    fake_host();
    char sys[96];
    snprintf(sys, sizeof(sys), "%s/sys", root);
    mkdirs("sys/block/sda");
    mkdirs("sys/block/nvme0n1");
    mkdirs("sys/block/loop0");
    assert_int_equal(host_read_at(root, sys, a), 0);
    assert_int_equal(a->have, 0xff);
    assert_int_equal(a->ndisks, 2); /* sda1 is a partition, loop0 idle */
    assert_string_equal(a->disks[0].name, "sda");
    assert_string_equal(a->disks[1].name, "nvme0n1");
    assert_int_equal(a->nnet, 3);
    assert_string_equal(a->net[2].name, "lo");
    assert_int_equal(a->procs.n, 4);
    assert_int_equal(a->nmounts, 1);
    assert_true(a->uptime == 86400.5);
    assert_int_equal(a->stat.ncore, 2);
    assert_int_equal(a->mem.total, 1000000ull * 1024);
    assert_true(a->ncpu >= 1);
    assert_non_null(host_reading_disk(a, "sda"));
    assert_null(host_reading_disk(a, "sda1"));
    assert_non_null(host_reading_net(a, "eth1"));
    assert_null(host_reading_net(a, "eth9"));

    then();
    assert_int_equal(host_read_at(root, NULL, b), 0); /* by names this time */
    assert_int_equal(b->ndisks, 2);
    a->mono = 1000.0;
    b->mono = 1002.0;
    b->wall = 1763700000.25;

    json_t *j = host_sample_json(a, b, 3);
    assert_non_null(j);
    assert_true(num(j, "t") == 1763700000.25);
    assert_true(num(j, "elapsed") == 2.0);
    assert_true(num(j, "uptime") == 86400.5);
    assert_int_equal((int)num(j, "ncpu"), b->ncpu);
    char host[256] = "";
    gethostname(host, sizeof(host));
    assert_string_equal(str(j, "host"), host);
    /* CPU: 200 ticks; busy = user 60 + system 20 + steal 10 */
    assert_true(near(num(j, "cpu.total"), 45.0));
    assert_true(near(num(j, "cpu.user"), 30.0));
    assert_true(near(num(j, "cpu.system"), 10.0));
    assert_true(near(num(j, "cpu.iowait"), 5.0));
    assert_true(near(num(j, "cpu.steal"), 5.0));
    assert_int_equal(json_array_size(get(j, "cpu.cores")), 2);
    assert_true(near(num(j, "cpu.cores.0"), 90.0));
    assert_true(near(num(j, "cpu.cores.1"), 0.0));
    assert_true(near(num(j, "load.0"), 0.52));
    assert_true(near(num(j, "load.2"), 0.59));
    /* memory */
    assert_true(num(j, "mem.total") == 1024000000.0);
    assert_true(num(j, "mem.available") == 256000000.0);
    assert_true(num(j, "mem.used") == 768000000.0);
    assert_true(near(num(j, "mem.used_pct"), 75.0));
    assert_true(num(j, "mem.free") == 102400000.0);
    assert_true(num(j, "mem.buffers") == 1024000.0);
    assert_true(num(j, "mem.cached") == 307200000.0);
    assert_true(num(j, "mem.swap_total") == 512000000.0);
    assert_true(num(j, "mem.swap_used") == 102400000.0);
    assert_true(near(num(j, "mem.swap_pct"), 20.0));
    /* file systems */
    assert_int_equal(json_array_size(get(j, "disks")), 1);
    assert_string_equal(str(j, "disks.0.mount"), "/");
    assert_string_equal(str(j, "disks.0.device"), "/dev/sda1");
    assert_string_equal(str(j, "disks.0.fstype"), "ext4");
    assert_true(json_is_boolean(get(j, "disks.0.readonly")));
    struct statvfs v;
    assert_int_equal(statvfs("/", &v), 0);
    assert_true(num(j, "disks.0.total") == (double)((uint64_t)v.f_blocks * v.f_frsize));
    assert_true(num(j, "disks.0.inodes_total") == (double)v.f_files);
    (void)num(j, "disks.0.used");
    (void)num(j, "disks.0.avail");
    (void)num(j, "disks.0.used_pct");
    (void)num(j, "disks.0.inodes_used");
    (void)num(j, "disks.0.inodes_pct");
    /* block devices: sda over 2 s; nvme0n1 went backwards */
    assert_string_equal(str(j, "io.0.device"), "sda");
    assert_true(near(num(j, "io.0.read_bps"), 200 * 512 / 2.0));
    assert_true(near(num(j, "io.0.write_bps"), 1000 * 512 / 2.0));
    assert_true(near(num(j, "io.0.reads_ps"), 5.0));
    assert_true(near(num(j, "io.0.writes_ps"), 5.0));
    assert_true(near(num(j, "io.0.busy_pct"), 25.0));
    assert_string_equal(str(j, "io.1.device"), "nvme0n1");
    assert_true(num(j, "io.1.read_bps") == 0.0 && num(j, "io.1.busy_pct") == 0.0);
    assert_true(num(j, "io.1.writes_ps") == 0.0);
    /* interfaces: eth0, eth1 (reset), eth2 (new), lo last */
    assert_int_equal(json_array_size(get(j, "net")), 4);
    assert_string_equal(str(j, "net.0.iface"), "eth0");
    assert_true(near(num(j, "net.0.rx_bps"), 1000.0));
    assert_true(near(num(j, "net.0.tx_bps"), 500.0));
    assert_true(near(num(j, "net.0.rx_pps"), 5.0));
    assert_true(near(num(j, "net.0.tx_pps"), 2.5));
    assert_true(num(j, "net.0.rx_errs") == 1.0);
    assert_true(num(j, "net.0.tx_errs") == 0.0);
    assert_true(num(j, "net.0.rx_drop") == 0.0);
    assert_true(num(j, "net.0.tx_drop") == 2.0);
    assert_string_equal(str(j, "net.1.iface"), "eth1");
    assert_true(num(j, "net.1.rx_bps") == 0.0 && num(j, "net.1.tx_pps") == 0.0);
    assert_string_equal(str(j, "net.2.iface"), "eth2");
    assert_true(num(j, "net.2.rx_bps") == 0.0);
    assert_string_equal(str(j, "net.3.iface"), "lo");
    /* processes: /proc/stat's running and blocked, zombies from the table */
    assert_true(num(j, "procs.total") == 4.0);
    assert_true(num(j, "procs.running") == 3.0);
    assert_true(num(j, "procs.blocked") == 0.0);
    assert_true(num(j, "procs.zombie") == 1.0);
    assert_true(num(j, "procs.threads") == 8.0);
    /* top 3: busy (100 %), init (25 %), then by memory: idle */
    assert_int_equal(json_array_size(get(j, "top")), 3);
    assert_true(num(j, "top.0.pid") == 300.0);
    assert_string_equal(str(j, "top.0.name"), "busy");
    assert_true(near(num(j, "top.0.cpu"), 100.0));
    assert_string_equal(str(j, "top.0.state"), "R");
    assert_string_equal(str(j, "top.0.cmd"), "busy");
    assert_string_equal(str(j, "top.0.user"), "root");
    assert_true(num(j, "top.1.pid") == 1.0);
    assert_true(near(num(j, "top.1.cpu"), 25.0));
    assert_true(num(j, "top.2.pid") == 200.0);
    assert_true(num(j, "top.2.cpu") == 0.0);
    assert_string_equal(str(j, "top.2.user"), "4000000"); /* nobody has that uid */
    assert_string_equal(str(j, "top.2.cmd"), "idle --flag");
    double page = (double)sysconf(_SC_PAGESIZE);
    assert_true(num(j, "top.2.rss") == 50000 * page);
    assert_true(near(num(j, "top.2.mem_pct"), 50000 * page / 1024000000.0 * 100.0));
    json_decref(j);

    /* all of them, the zombie shown as ps does */
    j = host_sample_json(a, b, 1000);
    assert_int_equal(json_array_size(get(j, "top")), 4);
    assert_string_equal(str(j, "top.3.cmd"), "[dead]");
    json_decref(j);
    j = host_sample_json(a, b, -1);
    assert_int_equal(json_array_size(get(j, "top")), 0);
    json_decref(j);

    /* no previous reading: no rates, no elapsed time, the levels still there */
    j = host_sample_json(NULL, b, 2);
    assert_true(num(j, "elapsed") == 0.0);
    assert_true(num(j, "cpu.total") == 0.0);
    assert_true(num(j, "cpu.cores.0") == 0.0);
    assert_true(num(j, "io.0.read_bps") == 0.0);
    assert_true(num(j, "net.0.rx_bps") == 0.0);
    assert_true(num(j, "top.0.cpu") == 0.0);
    assert_true(num(j, "mem.used") == 768000000.0);
    assert_int_equal(json_array_size(get(j, "top")), 2);
    json_decref(j);
    /* a previous reading from the future: treated as none */
    a->mono = 2000.0;
    j = host_sample_json(a, b, 2);
    assert_true(num(j, "elapsed") == 0.0);
    assert_true(num(j, "net.0.rx_bps") == 0.0);
    json_decref(j);

    host_reading_free(a);
    host_reading_free(b);
    free(a);
    free(b);
}

static void test_partial(void **state)
{
    (void)state;
    struct host_reading *r = host_reading_new();
    assert_non_null(r);
    /* only /proc/stat: the rest is left out, not an error */
    put("stat", "cpu 1 2 3 4\n");
    assert_int_equal(host_read(root, r), 0);
    assert_int_equal(r->have, HOST_HAVE_CPU | HOST_HAVE_PROCS);
    json_t *j = host_sample_json(NULL, r, 5);
    assert_non_null(j);
    assert_true(num(j, "mem.total") == 0.0);
    assert_int_equal(json_array_size(get(j, "disks")), 0);
    assert_int_equal(json_array_size(get(j, "net")), 0);
    assert_int_equal(json_array_size(get(j, "top")), 0);
    json_decref(j);
    host_reading_free(r);
    /* not even that */
    char nope[96];
    snprintf(nope, sizeof(nope), "%s/nope", root);
    assert_int_equal(host_read(nope, r), -ENODATA);
    host_reading_free(r);
    host_reading_free(NULL);
    free(r);

    struct host_io_rates io;
    struct host_diskstat d1 = {.reads = 10}, d2 = {.reads = 20, .io_ms = 5000};
    host_io_rates(&d1, &d2, 1.0, &io);
    assert_true(io.reads_ps == 10.0);
    assert_true(io.busy_pct == 100.0); /* capped */
    host_io_rates(&d1, &d2, 0.0, &io);
    assert_true(io.reads_ps == 0.0);
    host_io_rates(NULL, &d2, 1.0, &io);
    assert_true(io.reads_ps == 0.0);
    assert_true(host_rate(10, 5, 1.0) == 0.0);
    assert_true(host_rate(5, 10, 2.0) == 2.5);
    assert_true(host_rate(5, 10, -1.0) == 0.0);
    assert_true(host_rate(0, UINT64_MAX, 1.0) > 1e19);
    struct host_net_rates nr;
    struct host_netdev n1 = {.rx_errs = 5}, n2 = {.rx_errs = 3, .tx_drop = 4};
    host_net_rates(&n1, &n2, 1.0, &nr);
    assert_true(nr.rx_errs == 0 && nr.tx_drop == 4);
}

/* ---- the real host ------------------------------------------------------------------ */

static void test_real_host(void **state)
{
    (void)state;
    struct host_reading *a = host_reading_new(), *b = host_reading_new();
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(host_read("/proc", a), 0);
    assert_int_equal(host_read("/proc", b), 0);
    assert_true(b->have & HOST_HAVE_MEM);
    assert_true(b->have & HOST_HAVE_MOUNTS);

    /* MemTotal as the file says */
    FILE *f = fopen("/proc/meminfo", "r");
    assert_non_null(f);
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            break;
    fclose(f);
    assert_true(kb > 0);
    assert_int_equal(b->mem.total, kb * 1024);
    assert_int_equal(b->ncpu, (int)sysconf(_SC_NPROCESSORS_ONLN));
    assert_int_equal(b->stat.ncore, (size_t)b->ncpu);
    assert_non_null(procs_find(&b->procs, (int)getpid()));

    json_t *j = host_sample_json(a, b, 5);
    assert_non_null(j);
    assert_true(num(j, "mem.total") == (double)kb * 1024);
    assert_int_equal((int)num(j, "ncpu"), (int)sysconf(_SC_NPROCESSORS_ONLN));
    assert_int_equal(json_array_size(get(j, "cpu.cores")), (size_t)b->ncpu);
    double total = num(j, "cpu.total");
    assert_true(total >= 0.0 && total <= 100.0);
    assert_true(num(j, "elapsed") > 0.0);
    /* "/" as statvfs says */
    struct statvfs v;
    assert_int_equal(statvfs("/", &v), 0);
    json_t *disks = get(j, "disks"), *d;
    size_t i;
    int found = 0;
    json_array_foreach(disks, i, d) {
        if (strcmp(json_string_value(json_object_get(d, "mount")), "/") != 0)
            continue;
        found = 1;
        assert_true(json_integer_value(json_object_get(d, "total")) ==
                    (json_int_t)((uint64_t)v.f_blocks * v.f_frsize));
        assert_true(json_integer_value(json_object_get(d, "inodes_total")) ==
                    (json_int_t)v.f_files);
    }
    assert_true(found);
    /* lo, when this namespace has it, is last */
    json_t *net = get(j, "net");
    for (i = 0; i < json_array_size(net); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(net, i), "iface")),
                   "lo") == 0)
            assert_int_equal(i, json_array_size(net) - 1);
    assert_int_equal(json_array_size(get(j, "top")), 5);
    assert_true(num(j, "procs.total") >= 2.0);
    char *dump = json_dumps(j, 0);
    assert_non_null(dump);
    free(dump);
    json_decref(j);
    host_reading_free(a);
    host_reading_free(b);
    free(a);
    free(b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_mountinfo),
        T(test_mounts_read),
        cmocka_unit_test(test_parse_diskstats),
        cmocka_unit_test(test_parse_netdev),
        T(test_sample_fake),
        T(test_partial),
        cmocka_unit_test(test_real_host),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
