/* Unit tests for src/engine/cgroup.c. Fake proc and cgroup trees in a temporary directory
 * (cgroup v1 with the cgroupfs and the systemd driver, v2, the hybrid layout, nested mount
 * roots, escaped mount points, over-long mountinfo lines) go through cgroup_locate and
 * cgroup_read; every parser gets normal, empty, truncated, garbage and huge-number input.
 * One test runs a busy container on the real Docker Engine and checks its CPU share; it is
 * skipped when not root or when docker or the test image is not usable. */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define PID 4242
#define MEMTOTAL_KB 8000000ull
#define MEMTOTAL (MEMTOTAL_KB * 1024)

static const char netdev_text[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo:  999999     100    0    0    0     0          0         0   999999     100    0 "
    "   0    0     0       0          0\n"
    "  eth0:    1000      10    0    0    0     0          0         0     2000      20    0 "
    "   0    0     0       0          0\n"
    "eth1:300 3 0 0 0 0 0 0 400 4 0 0 0 0 0 0\n";

/* ---- the fake tree ------------------------------------------------------------------ */

static char root[64]; /* the temporary directory */

static void mkdirs(const char *path)
{
    char tmp[1024];
    assert_true(strlen(path) < sizeof(tmp));
    memcpy(tmp, path, strlen(path) + 1);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        assert_true(mkdir(tmp, 0755) == 0 || errno == EEXIST);
        *p = '/';
    }
    assert_true(mkdir(tmp, 0755) == 0 || errno == EEXIST);
}

/* Writes text to root/rel (rel may name directories that do not exist yet). */
static void put(const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdirs(path);
    *slash = '/';
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* root/rel into buf. */
static const char *at(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", root, rel);
    return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *rel)
{
    char path[1024];
    nftw(at(path, sizeof(path), rel), rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/cgtest.XXXXXX");
    if (mkdtemp(root) == NULL)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* The proc side: /proc/<PID>/cgroup, net/dev and meminfo. */
static void put_proc(const char *cgroup_text)
{
    char rel[64];
    snprintf(rel, sizeof(rel), "proc/%d/cgroup", PID);
    put(rel, cgroup_text);
    snprintf(rel, sizeof(rel), "proc/%d/net/dev", PID);
    put(rel, netdev_text);
    put("proc/meminfo", "MemTotal:        8000000 kB\nMemFree:         1000000 kB\n");
}

/* A mountinfo line for a cgroup (v1 options "rw,<ctl>") or cgroup2 (ctl NULL) mount of
 * hierarchy root mroot at root/point, appended to buf. */
static void mount_line(char *buf, size_t cap, int n, const char *mroot, const char *point,
                       const char *ctl)
{
    size_t len = strlen(buf);
    if (ctl != NULL)
        snprintf(buf + len, cap - len,
                 "%d 25 0:%d %s %s/%s rw,nosuid,nodev,noexec,relatime shared:%d - cgroup "
                 "cgroup rw,%s\n",
                 30 + n, 40 + n, mroot, root, point, n, ctl);
    else
        snprintf(buf + len, cap - len,
                 "%d 25 0:%d %s %s/%s rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 "
                 "rw,nsdelegate\n",
                 30 + n, 40 + n, mroot, root, point);
}

static int locate(cgroup_paths *p)
{
    char proc[128], mi[128];
    return cgroup_locate(at(proc, sizeof(proc), "proc"), at(mi, sizeof(mi), "mountinfo"), PID,
                         ID, p);
}

/* The v1 cgroupfs layout: separate cpu and cpuacct, as on this project's build host. */
static void tree_v1_cgroupfs(void)
{
    char mi[8192] = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                    "25 22 0:23 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n";
    mount_line(mi, sizeof(mi), 1, "/", "cg/cpu", "cpu");
    mount_line(mi, sizeof(mi), 2, "/", "cg/cpuacct", "cpuacct");
    mount_line(mi, sizeof(mi), 3, "/", "cg/memory", "memory");
    mount_line(mi, sizeof(mi), 4, "/", "cg/blkio", "blkio");
    mount_line(mi, sizeof(mi), 5, "/", "cg/pids", "pids");
    mount_line(mi, sizeof(mi), 6, "/", "cg/systemd", "xattr,name=systemd");
    mount_line(mi, sizeof(mi), 7, "/", "cg/unified", NULL);
    put("mountinfo", mi);
    put_proc("12:pids:/docker/" ID "\n11:blkio:/docker/" ID "\n10:memory:/docker/" ID "\n"
             "9:cpuacct:/docker/" ID "\n8:cpu:/docker/" ID "\n1:name=systemd:/docker/" ID "\n"
             "0::/docker/" ID "\n");
    put("cg/cpuacct/docker/" ID "/cpuacct.usage", "123456789\n");
    put("cg/memory/docker/" ID "/memory.usage_in_bytes", "10485760\n");
    put("cg/memory/docker/" ID "/memory.stat",
        "cache 4096\ninactive_file 7\ntotal_cache 4096\ntotal_inactive_file 1048576\n");
    put("cg/memory/docker/" ID "/memory.limit_in_bytes", "9223372036854771712\n");
    put("cg/blkio/docker/" ID "/blkio.throttle.io_service_bytes_recursive",
        "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n"
        "8:0 Total 12288\n8:16 Read 100\n8:16 Write 1\nTotal 12389\n");
    put("cg/blkio/docker/" ID "/blkio.io_service_bytes_recursive", "8:0 Read 55\n");
    put("cg/pids/docker/" ID "/pids.current", "3\n");
    put("cg/pids/docker/" ID "/pids.max", "max\n");
}

static void test_v1_cgroupfs(void **state)
{
    (void)state;
    cgroup_paths p;
    cgroup_sample s;
    char want[1024];
    tree_v1_cgroupfs();
    assert_int_equal(locate(&p), 0);
    assert_int_equal(p.v2, 0);
    assert_string_equal(p.cpu, at(want, sizeof(want), "cg/cpuacct/docker/" ID));
    assert_string_equal(p.memory, at(want, sizeof(want), "cg/memory/docker/" ID));
    assert_string_equal(p.blkio, at(want, sizeof(want), "cg/blkio/docker/" ID));
    assert_string_equal(p.pids, at(want, sizeof(want), "cg/pids/docker/" ID));
    assert_int_equal(p.pid, PID);
    assert_int_equal(p.mem_total, MEMTOTAL);

    assert_int_equal(cgroup_read(&p, &s), 0);
    assert_int_equal(s.cpu_ns, 123456789);
    assert_int_equal(s.mem_usage, 10485760 - 1048576); /* total_inactive_file, not inactive_file */
    assert_int_equal(s.mem_limit, MEMTOTAL);            /* unlimited */
    assert_int_equal(s.blk_read, 4196);
    assert_int_equal(s.blk_write, 8193);
    assert_int_equal(s.pids, 3);
    assert_int_equal(s.pids_limit, 0);
    assert_int_equal(s.have_net, 1);
    assert_int_equal(s.net_rx, 1300); /* lo left out */
    assert_int_equal(s.net_tx, 2400);
}

/* The systemd driver on v1, cpu and cpuacct mounted together, a real memory limit, no
 * throttle figures (the other blkio file is used), a pids limit, no net/dev. */
static void test_v1_systemd(void **state)
{
    (void)state;
    cgroup_paths p;
    cgroup_sample s;
    char want[1024], rel[256];
    char mi[4096] = "";
    const char *scope = "/system.slice/docker-" ID ".scope";
    mount_line(mi, sizeof(mi), 1, "/", "cg/cpu,cpuacct", "cpu,cpuacct");
    mount_line(mi, sizeof(mi), 2, "/", "cg/memory", "memory");
    mount_line(mi, sizeof(mi), 3, "/", "cg/blkio", "blkio");
    mount_line(mi, sizeof(mi), 4, "/", "cg/pids", "pids");
    put("mountinfo", mi);
    put_proc("7:pids:/system.slice/docker-" ID ".scope\n"
             "6:blkio:/system.slice/docker-" ID ".scope\n"
             "5:memory:/system.slice/docker-" ID ".scope\n"
             "4:cpu,cpuacct:/system.slice/docker-" ID ".scope\n"
             "1:name=systemd:/system.slice/docker-" ID ".scope\n");
    snprintf(rel, sizeof(rel), "proc/%d/net/dev", PID);
    rm_tree(rel);
    char f[512];
#define FILE_IN(ctl, name) (snprintf(f, sizeof(f), "cg/%s%s/%s", ctl, scope, name), f)
    put(FILE_IN("cpu,cpuacct", "cpuacct.usage"), "42\n");
    put(FILE_IN("memory", "memory.usage_in_bytes"), "5000\n");
    put(FILE_IN("memory", "memory.stat"), "total_inactive_file 9000\n"); /* above usage */
    put(FILE_IN("memory", "memory.limit_in_bytes"), "268435456\n");
    put(FILE_IN("blkio", "blkio.throttle.io_service_bytes_recursive"), "Total 0\n");
    put(FILE_IN("blkio", "blkio.io_service_bytes_recursive"),
        "8:0 Read 11\n8:0 Write 22\nTotal 33\n");
    put(FILE_IN("pids", "pids.current"), "7\n");
    put(FILE_IN("pids", "pids.max"), "100\n");
    assert_int_equal(locate(&p), 0);
    snprintf(rel, sizeof(rel), "cg/cpu,cpuacct%s", scope);
    assert_string_equal(p.cpu, at(want, sizeof(want), rel));
    assert_int_equal(cgroup_read(&p, &s), 0);
    assert_int_equal(s.cpu_ns, 42);
    assert_int_equal(s.mem_usage, 5000); /* inactive not smaller: usage as it is */
    assert_int_equal(s.mem_limit, 268435456);
    assert_int_equal(s.blk_read, 11);
    assert_int_equal(s.blk_write, 22);
    assert_int_equal(s.pids, 7);
    assert_int_equal(s.pids_limit, 100);
    assert_int_equal(s.have_net, 0);
    assert_int_equal(s.net_rx, 0);

    /* a limit above the host's memory shows as the host's memory */
    put(FILE_IN("memory", "memory.limit_in_bytes"), "17179869184\n");
    assert_int_equal(cgroup_read(&p, &s), 0);
    assert_int_equal(s.mem_limit, MEMTOTAL);
#undef FILE_IN
}

/* Unified v2; the process sits in a child cgroup of the container's scope. */
static void tree_v2(void)
{
    char mi[4096] = "";
    mount_line(mi, sizeof(mi), 1, "/", "cg2", NULL);
    put("mountinfo", mi);
    put_proc("0::/system.slice/docker-" ID ".scope/init.scope\n");
    const char *d = "cg2/system.slice/docker-" ID ".scope/";
    char f[512];
#define FILE_IN(name) (snprintf(f, sizeof(f), "%s%s", d, name), f)
    put(FILE_IN("cpu.stat"), "usage_usec 5000000\nuser_usec 4000000\nsystem_usec 1000000\n");
    put(FILE_IN("memory.current"), "20000000\n");
    put(FILE_IN("memory.stat"), "anon 100\nfile 200\nactive_file 10\ninactive_file 4000000\n");
    put(FILE_IN("memory.max"), "max\n");
    put(FILE_IN("io.stat"), "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n"
                            "259:0 rbytes=30 wbytes=40 rios=1 wios=1 dbytes=0 dios=0\n");
    put(FILE_IN("pids.current"), "12\n");
    put(FILE_IN("pids.max"), "4096\n");
    put(FILE_IN("init.scope/cpu.stat"), "usage_usec 1\n");
#undef FILE_IN
}

static void test_v2(void **state)
{
    (void)state;
    cgroup_paths p;
    cgroup_sample s;
    char want[1024];
    tree_v2();
    assert_int_equal(locate(&p), 0);
    assert_int_equal(p.v2, 1);
    at(want, sizeof(want), "cg2/system.slice/docker-" ID ".scope");
    assert_string_equal(p.cpu, want);
    assert_string_equal(p.memory, want);
    assert_string_equal(p.blkio, want);
    assert_string_equal(p.pids, want);
    assert_int_equal(cgroup_read(&p, &s), 0);
    assert_int_equal(s.cpu_ns, 5000000000ull);
    assert_int_equal(s.mem_usage, 16000000);
    assert_int_equal(s.mem_limit, MEMTOTAL); /* "max" */
    assert_int_equal(s.blk_read, 1030);
    assert_int_equal(s.blk_write, 2040);
    assert_int_equal(s.pids, 12);
    assert_int_equal(s.pids_limit, 4096);
    assert_int_equal(s.net_rx, 1300);

    /* without meminfo an unlimited container has limit 0 (unknown) */
    rm_tree("proc/meminfo");
    assert_int_equal(locate(&p), 0);
    assert_int_equal(p.mem_total, 0);
    assert_int_equal(cgroup_read(&p, &s), 0);
    assert_int_equal(s.mem_limit, 0);
    assert_int_equal(s.mem_usage, 16000000);
}

/* Hybrid: v1 controllers and a controller-less cgroup2; v1 must be used. */
static void test_hybrid_uses_v1(void **state)
{
    (void)state;
    cgroup_paths p;
    tree_v1_cgroupfs();
    put("cg/unified/docker/" ID "/cgroup.procs", "1\n");
    assert_int_equal(locate(&p), 0);
    assert_int_equal(p.v2, 0);
    assert_non_null(strstr(p.memory, "/cg/memory/docker/"));
}

/* Nested mount roots: our namespace only sees part of each hierarchy. A mount of the same
 * hierarchy whose root does not hold the path comes first and must be passed over. An
 * over-long mountinfo line and a mount point with a space are in there too. */
static void test_nested_mount_root(void **state)
{
    (void)state;
    cgroup_paths p;
    cgroup_sample s;
    char want[1024];
    static char mi[16384];
    mi[0] = '\0';
    size_t len = (size_t)snprintf(mi, sizeof(mi), "40 22 0:50 / /var/lib/docker/overlay2/x "
                                                  "rw - overlay overlay rw,lowerdir=");
    while (len < 10000)
        mi[len++] = 'L';
    mi[len++] = '\n';
    mi[len] = '\0';
    mount_line(mi, sizeof(mi), 1, "/docker/other", "wrong/memory", "memory");
    mount_line(mi, sizeof(mi), 2, "/docker/outer", "cg/my\\040mem", "memory");
    mount_line(mi, sizeof(mi), 3, "/docker/outer", "cg/cpuacct", "cpuacct");
    put("mountinfo", mi);
    put_proc("3:memory:/docker/outer/docker/" ID "\n2:cpuacct:/docker/outer/docker/" ID "\n");
    put("cg/my mem/docker/" ID "/memory.usage_in_bytes", "100\n");
    put("cg/my mem/docker/" ID "/memory.stat", "total_inactive_file 10\n");
    put("cg/my mem/docker/" ID "/memory.limit_in_bytes", "1000\n");
    put("cg/cpuacct/docker/" ID "/cpuacct.usage", "5\n");
    assert_int_equal(locate(&p), 0);
    assert_string_equal(p.memory, at(want, sizeof(want), "cg/my mem/docker/" ID));
    assert_string_equal(p.blkio, ""); /* no blkio line: figures are 0 */
    assert_int_equal(cgroup_read(&p, &s), 0);
    assert_int_equal(s.mem_usage, 90);
    assert_int_equal(s.mem_limit, 1000);
    assert_int_equal(s.blk_read, 0);
    assert_int_equal(s.pids, 0);

    /* v2 with a nested root */
    mi[0] = '\0';
    mount_line(mi, sizeof(mi), 1, "/kube/pod1", "cg2", NULL);
    put("mountinfo", mi);
    put_proc("0::/kube/pod1/" ID "\n");
    put("cg2/" ID "/cpu.stat", "usage_usec 3\n");
    put("cg2/" ID "/memory.current", "10\n");
    put("cg2/" ID "/memory.stat", "anon 10\n");
    put("cg2/" ID "/memory.max", "100\n");
    assert_int_equal(locate(&p), 0);
    assert_string_equal(p.cpu, at(want, sizeof(want), "cg2/" ID));
    assert_int_equal(cgroup_read(&p, &s), 0);
    assert_int_equal(s.cpu_ns, 3000);
    assert_int_equal(s.mem_usage, 10); /* no inactive_file key: none */

    /* a root that is not an ancestor of the path: nothing maps */
    mi[0] = '\0';
    mount_line(mi, sizeof(mi), 1, "/kube/pod2", "cg2", NULL);
    put("mountinfo", mi);
    assert_int_equal(locate(&p), -ENOENT);
    /* "/kube/pod" is a prefix of the string but not an ancestor */
    mi[0] = '\0';
    mount_line(mi, sizeof(mi), 1, "/kube/pod", "cg2", NULL);
    put("mountinfo", mi);
    assert_int_equal(locate(&p), -ENOENT);
}

/* Pids that are not the container's init process. */
static void test_not_the_container(void **state)
{
    (void)state;
    cgroup_paths p;
    char proc[128], mi[128];
    tree_v1_cgroupfs();
    put_proc("10:memory:/user.slice/user-1000.slice/session-2.scope\n"
             "9:cpuacct:/user.slice/user-1000.slice/session-2.scope\n");
    assert_int_equal(locate(&p), -ESRCH);
    assert_string_equal(p.cpu, "");
    put_proc("10:memory:/docker/" OTHER "\n9:cpuacct:/docker/" OTHER "\n");
    assert_int_equal(locate(&p), -ESRCH);
    /* the id must be a whole component: a longer name does not count */
    put_proc("10:memory:/docker/" ID "0\n9:cpuacct:/docker/" ID "0\n");
    assert_int_equal(locate(&p), -ESRCH);
    put_proc("10:memory:/docker/x" ID "\n9:cpuacct:/docker/x" ID "\n");
    assert_int_equal(locate(&p), -ESRCH);
    /* one controller says the container, another does not */
    put_proc("10:memory:/docker/" ID "\n9:cpuacct:/\n");
    assert_int_equal(locate(&p), -ESRCH);
    /* no such process */
    rm_tree("proc/4242");
    assert_int_equal(locate(&p), -ESRCH);
    /* a pid that does not exist here (say, one of a remote Engine) */
    assert_int_equal(cgroup_locate(at(proc, sizeof(proc), "proc"),
                                   at(mi, sizeof(mi), "mountinfo"), 99999, ID, &p),
                     -ESRCH);
    /* bad arguments */
    assert_int_equal(cgroup_locate(proc, mi, PID, "0123", &p), -EINVAL);
    assert_int_equal(cgroup_locate(proc, mi, PID, OTHER "00", &p), -EINVAL);
    assert_int_equal(cgroup_locate(proc, mi, 0, ID, &p), -EINVAL);
    const char *upper = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef";
    assert_int_equal(cgroup_locate(proc, mi, PID, upper, &p), -EINVAL);
    char longroot[CGROUP_PROC_ROOT_MAX + 8];
    memset(longroot, 'x', sizeof(longroot) - 1);
    longroot[sizeof(longroot) - 1] = '\0';
    assert_int_equal(cgroup_locate(longroot, mi, PID, ID, &p), -EINVAL);
}

/* The cgroup goes away: at locate and between samples. */
static void test_gone(void **state)
{
    (void)state;
    cgroup_paths p;
    cgroup_sample s;
    tree_v1_cgroupfs();
    assert_int_equal(locate(&p), 0);
    assert_int_equal(cgroup_read(&p, &s), 0);
    rm_tree("cg/memory/docker/" ID);
    memset(&s, 0xff, sizeof(s));
    assert_int_equal(cgroup_read(&p, &s), -ENOENT);
    assert_int_equal(s.cpu_ns, 0); /* never partial */
    assert_int_equal(s.net_rx, 0);
    assert_int_equal(s.have_net, 0);
    assert_int_equal(locate(&p), -ENOENT);

    /* the directory is there but the controller's files are not */
    tree_v2();
    assert_int_equal(locate(&p), 0);
    rm_tree("cg2/system.slice/docker-" ID ".scope/memory.current");
    assert_int_equal(cgroup_read(&p, &s), -EOPNOTSUPP);
    assert_int_equal(s.cpu_ns, 0);
    rm_tree("cg2/system.slice/docker-" ID ".scope");
    assert_int_equal(cgroup_read(&p, &s), -ENOENT);

    /* garbage in a required file */
    tree_v2();
    put("cg2/system.slice/docker-" ID ".scope/memory.current", "lots\n");
    assert_int_equal(cgroup_read(&p, &s), -EINVAL);
    assert_int_equal(s.cpu_ns, 0);

    /* no cgroup mounts at all, no mountinfo */
    put("mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
    assert_int_equal(locate(&p), -ENOENT);
    rm_tree("mountinfo");
    assert_int_equal(locate(&p), -ENOENT);
}

/* A required file larger than CGROUP_READ_MAX is refused, not cut. */
static void test_file_too_big(void **state)
{
    (void)state;
    cgroup_paths p;
    cgroup_sample s;
    tree_v2();
    assert_int_equal(locate(&p), 0);
    size_t n = CGROUP_READ_MAX + 100;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = i % 20 == 19 ? '\n' : 'a';
    memcpy(big + n - 20, "inactive_file 5\n", 16);
    big[n - 4] = '\0';
    put("cg2/system.slice/docker-" ID ".scope/memory.stat", big);
    free(big);
    assert_int_equal(cgroup_read(&p, &s), -EFBIG);
}

static void test_available(void **state)
{
    (void)state;
    char mi[128];
    tree_v2();
    assert_int_equal(cgroup_available(at(mi, sizeof(mi), "mountinfo")), 1);
    put("mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n25 22 0:23 / /sys/fs/cgroup ro - "
                     "tmpfs tmpfs ro\n");
    assert_int_equal(cgroup_available(mi), 0);
    rm_tree("mountinfo");
    assert_int_equal(cgroup_available(mi), 0);
    assert_int_equal(cgroup_available("/proc/self/mountinfo"),
                     access("/sys/fs/cgroup", F_OK) == 0 ? 1 : 0);
}

/* ---- parsers ------------------------------------------------------------------------ */

static void test_parse_value(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(cgroup_parse_value("123\n", &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(cgroup_parse_value("77", &v), 0); /* no newline */
    assert_int_equal(v, 77);
    assert_int_equal(cgroup_parse_value("max\n", &v), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(cgroup_parse_value("18446744073709551615\n", &v), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(cgroup_parse_value("18446744073709551616\n", &v), -ERANGE);
    assert_int_equal(v, 0);
    assert_int_equal(cgroup_parse_value("99999999999999999999999\n", &v), -ERANGE);
    assert_int_equal(cgroup_parse_value("", &v), -EINVAL);
    assert_int_equal(cgroup_parse_value("\n", &v), -EINVAL);
    assert_int_equal(cgroup_parse_value("-1\n", &v), -EINVAL);
    assert_int_equal(cgroup_parse_value("12a\n", &v), -EINVAL);
    assert_int_equal(cgroup_parse_value("12\n13\n", &v), -EINVAL);
    assert_int_equal(cgroup_parse_value("maximum\n", &v), -EINVAL);
    assert_int_equal(v, 0);
}

static void test_parse_kv(void **state)
{
    (void)state;
    uint64_t v;
    const char *stat = "total_inactive_file 5\ninactive_file_x 6\ninactive_file 7\n"
                       "active_file\t8\n";
    assert_int_equal(cgroup_parse_kv(stat, "inactive_file", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(cgroup_parse_kv(stat, "total_inactive_file", &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(cgroup_parse_kv(stat, "active_file", &v), 0);
    assert_int_equal(v, 8);
    assert_int_equal(cgroup_parse_kv(stat, "file", &v), -ENOENT);
    assert_int_equal(cgroup_parse_kv("", "usage_usec", &v), -ENOENT);
    assert_int_equal(cgroup_parse_kv("usage_usec 9", "usage_usec", &v), 0); /* last line */
    assert_int_equal(v, 9);
    assert_int_equal(cgroup_parse_kv("usage_usec", "usage_usec", &v), -ENOENT); /* truncated */
    assert_int_equal(cgroup_parse_kv("usage_usec ", "usage_usec", &v), -EINVAL);
    assert_int_equal(cgroup_parse_kv("usage_usec x\n", "usage_usec", &v), -EINVAL);
    assert_int_equal(cgroup_parse_kv("usage_usec 1 2\n", "usage_usec", &v), -EINVAL);
    assert_int_equal(cgroup_parse_kv("usage_usec 18446744073709551615\n", "usage_usec", &v), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(cgroup_parse_kv("usage_usec 18446744073709551616\n", "usage_usec", &v),
                     -ERANGE);
    assert_int_equal(v, 0);
    assert_int_equal(cgroup_parse_kv("\x01\xff garbage\n\n\n", "usage_usec", &v), -ENOENT);
    assert_int_equal(cgroup_parse_kv("a 1\n", "", &v), -EINVAL);
}

static void test_parse_blkio_v1(void **state)
{
    (void)state;
    uint64_t r, w;
    assert_int_equal(cgroup_parse_blkio_v1("8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\n"
                                           "8:0 Total 30\n8:16 Read 1\n8:16 Write 2\nTotal 33\n",
                                           &r, &w),
                     0);
    assert_int_equal(r, 11);
    assert_int_equal(w, 22);
    assert_int_equal(cgroup_parse_blkio_v1("", &r, &w), 0);
    assert_int_equal(r + w, 0);
    assert_int_equal(cgroup_parse_blkio_v1("Total 0\n", &r, &w), 0);
    assert_int_equal(cgroup_parse_blkio_v1("8:0 Read", &r, &w), -EINVAL); /* truncated */
    assert_int_equal(cgroup_parse_blkio_v1("8:0 Read 10\n8:0 Wri", &r, &w), -EINVAL);
    assert_int_equal(r, 0);
    assert_int_equal(cgroup_parse_blkio_v1("hello world\n", &r, &w), -EINVAL);
    assert_int_equal(cgroup_parse_blkio_v1("8 Read 1\n", &r, &w), -EINVAL);
    assert_int_equal(cgroup_parse_blkio_v1("8:0 Read -1\n", &r, &w), -EINVAL);
    assert_int_equal(cgroup_parse_blkio_v1("8:0 Read 1 2\n", &r, &w), -EINVAL);
    assert_int_equal(cgroup_parse_blkio_v1("8:0 Read 99999999999999999999\n", &r, &w), -ERANGE);
    /* sums saturate */
    assert_int_equal(cgroup_parse_blkio_v1("8:0 Read 18446744073709551615\n"
                                           "8:16 Read 18446744073709551615\n",
                                           &r, &w),
                     0);
    assert_int_equal(r, UINT64_MAX);
    assert_int_equal(w, 0);
}

static void test_parse_io_v2(void **state)
{
    (void)state;
    uint64_t r, w;
    assert_int_equal(cgroup_parse_io_v2("8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"
                                        "8:16 rbytes=1 wbytes=2\n",
                                        &r, &w),
                     0);
    assert_int_equal(r, 11);
    assert_int_equal(w, 22);
    assert_int_equal(cgroup_parse_io_v2("", &r, &w), 0);
    assert_int_equal(r + w, 0);
    assert_int_equal(cgroup_parse_io_v2("8:0\n", &r, &w), 0);
    assert_int_equal(cgroup_parse_io_v2("8:0 rbytes=", &r, &w), -EINVAL); /* truncated */
    assert_int_equal(cgroup_parse_io_v2("8:0 rbytes=5 wbytes", &r, &w), -EINVAL);
    assert_int_equal(r, 0);
    assert_int_equal(cgroup_parse_io_v2("garbage\n", &r, &w), -EINVAL);
    assert_int_equal(cgroup_parse_io_v2("8:0 rbytes=1x\n", &r, &w), -EINVAL);
    assert_int_equal(cgroup_parse_io_v2("8:0 RBYTES=1\n", &r, &w), -EINVAL);
    assert_int_equal(cgroup_parse_io_v2("8:0 rbytes=18446744073709551616\n", &r, &w), -ERANGE);
    assert_int_equal(cgroup_parse_io_v2("8:0 wbytes=18446744073709551615\n"
                                        "8:1 wbytes=1\n",
                                        &r, &w),
                     0);
    assert_int_equal(w, UINT64_MAX);
}

static void test_parse_netdev(void **state)
{
    (void)state;
    uint64_t rx, tx;
    assert_int_equal(cgroup_parse_netdev(netdev_text, &rx, &tx), 0);
    assert_int_equal(rx, 1300);
    assert_int_equal(tx, 2400);
    assert_int_equal(cgroup_parse_netdev("", &rx, &tx), 0);
    assert_int_equal(rx + tx, 0);
    /* headers only: no interface */
    assert_int_equal(cgroup_parse_netdev("Inter-|   Receive |  Transmit\n face |bytes |bytes\n",
                                         &rx, &tx),
                     0);
    /* lo alone counts nothing */
    assert_int_equal(cgroup_parse_netdev("lo: 5 0 0 0 0 0 0 0 6 0 0 0 0 0 0 0\n", &rx, &tx), 0);
    assert_int_equal(rx + tx, 0);
    /* a name like lo is not lo */
    assert_int_equal(cgroup_parse_netdev("lo0: 5 0 0 0 0 0 0 0 6 0 0 0 0 0 0 0\n", &rx, &tx), 0);
    assert_int_equal(rx, 5);
    assert_int_equal(tx, 6);
    /* truncated: fewer than 9 numbers */
    assert_int_equal(cgroup_parse_netdev("eth0: 1 2 3 4 5 6 7 8\n", &rx, &tx), -EINVAL);
    assert_int_equal(cgroup_parse_netdev("eth0: 1 2 3", &rx, &tx), -EINVAL);
    assert_int_equal(rx, 0);
    assert_int_equal(cgroup_parse_netdev("eth0: a b c\n", &rx, &tx), -EINVAL);
    assert_int_equal(cgroup_parse_netdev("eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
                                         &rx, &tx),
                     -EINVAL);
    assert_int_equal(cgroup_parse_netdev("eth0: 99999999999999999999 0 0 0 0 0 0 0 1\n",
                                         &rx, &tx),
                     -ERANGE);
    assert_int_equal(cgroup_parse_netdev("a: 18446744073709551615 0 0 0 0 0 0 0 1\n"
                                         "b: 5 0 0 0 0 0 0 0 1\n",
                                         &rx, &tx),
                     0);
    assert_int_equal(rx, UINT64_MAX);
    assert_int_equal(tx, 2);
}

static void test_parse_proc_cgroup(void **state)
{
    (void)state;
    cgroup_proc_info in;
    assert_int_equal(cgroup_parse_proc_cgroup("4:cpu,cpuacct:/docker/" ID "\n"
                                              "3:memory:/docker/" ID "/sub\n"
                                              "2:pids:/docker/" ID "\n",
                                              ID, &in),
                     0);
    assert_int_equal(in.v2, 0);
    assert_string_equal(in.path[CGROUP_CTL_CPU], "/docker/" ID);
    assert_string_equal(in.path[CGROUP_CTL_MEMORY], "/docker/" ID); /* cut after the id */
    assert_string_equal(in.path[CGROUP_CTL_BLKIO], "");
    assert_string_equal(in.path[CGROUP_CTL_PIDS], "/docker/" ID);
    assert_int_equal(cgroup_parse_proc_cgroup("0::/docker/" ID, ID, &in), 0); /* no newline */
    assert_int_equal(in.v2, 1);
    assert_string_equal(in.path[CGROUP_CTL_BLKIO], "/docker/" ID);
    /* id twice: the outer one (a container cannot make cgroups above itself) */
    assert_int_equal(cgroup_parse_proc_cgroup("0::/a/docker-" ID ".scope/x/" ID "\n", ID, &in),
                     0);
    assert_string_equal(in.path[0], "/a/docker-" ID ".scope");

    assert_int_equal(cgroup_parse_proc_cgroup("", ID, &in), -ENOENT);
    assert_int_equal(cgroup_parse_proc_cgroup("1:name=systemd:/docker/" ID "\n", ID, &in),
                     -ENOENT);
    assert_int_equal(cgroup_parse_proc_cgroup("3:memory:/docker/" ID "\n0::/docker/" ID "\n",
                                              ID, &in),
                     -ENOENT); /* v1 memory without cpuacct */
    assert_int_equal(cgroup_parse_proc_cgroup("3:memory\n", ID, &in), -EINVAL); /* truncated */
    assert_int_equal(cgroup_parse_proc_cgroup("3:memory:", ID, &in), -EINVAL);
    assert_int_equal(cgroup_parse_proc_cgroup("x:memory:/a\n", ID, &in), -EINVAL);
    assert_int_equal(cgroup_parse_proc_cgroup("3:memory:relative\n", ID, &in), -EINVAL);
    assert_int_equal(cgroup_parse_proc_cgroup("99999999999999999999::/docker/" ID "\n", ID, &in),
                     -EINVAL);
    assert_int_equal(cgroup_parse_proc_cgroup("0::/../docker/" ID "\n", ID, &in), -ESRCH);
    assert_int_equal(cgroup_parse_proc_cgroup("0::/docker/..\n", ID, &in), -ESRCH);
    assert_int_equal(cgroup_parse_proc_cgroup("0::/docker/" ID "\n", "nope", &in), -EINVAL);
    /* a path that names the container but does not fit */
    char big[CGROUP_PATH_MAX + 200];
    size_t n = (size_t)snprintf(big, sizeof(big), "0::/");
    while (n < CGROUP_PATH_MAX)
        big[n++] = 'a';
    snprintf(big + n, sizeof(big) - n, "/" ID "\n");
    assert_int_equal(cgroup_parse_proc_cgroup(big, ID, &in), -ENAMETOOLONG);
    assert_string_equal(in.path[0], "");
}

static void test_parse_mountinfo_line(void **state)
{
    (void)state;
    cgroup_mount m;
    assert_int_equal(cgroup_parse_mountinfo_line(
                         "35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime "
                         "shared:16 master:3 - cgroup cgroup rw,memory\n",
                         &m),
                     0);
    assert_int_equal(m.v2, 0);
    assert_string_equal(m.root, "/");
    assert_string_equal(m.point, "/sys/fs/cgroup/memory");
    assert_string_equal(m.options, "rw,memory");
    assert_int_equal(cgroup_parse_mountinfo_line(
                         "41 31 0:38 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw", &m),
                     0);
    assert_int_equal(m.v2, 1);
    assert_string_equal(m.root, "/docker/abc");
    assert_int_equal(cgroup_parse_mountinfo_line(
                         "41 31 0:38 / /a\\040b\\134c\\011 rw - cgroup2 none rw\n", &m),
                     0);
    assert_string_equal(m.point, "/a b\\c\t");

    assert_int_equal(cgroup_parse_mountinfo_line("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", &m),
                     -ENOENT);
    assert_int_equal(cgroup_parse_mountinfo_line("22 1 8:1 / / rw - cgroup3 x rw\n", &m),
                     -ENOENT);
    assert_int_equal(cgroup_parse_mountinfo_line("", &m), -EINVAL);
    assert_int_equal(cgroup_parse_mountinfo_line("35 31 0:32 / /sys/fs/cgroup/memory rw",
                                                 &m),
                     -EINVAL); /* truncated */
    assert_int_equal(cgroup_parse_mountinfo_line("35 31 0:32 / /x rw - cgroup cgroup", &m),
                     -EINVAL);
    assert_int_equal(cgroup_parse_mountinfo_line("35 31 0:32 / /x rw - cgroup a b c\n", &m),
                     -EINVAL);
    assert_int_equal(cgroup_parse_mountinfo_line("a b c d e f - cgroup cgroup rw\n", &m),
                     -EINVAL);
    assert_int_equal(cgroup_parse_mountinfo_line("35 31 032 / /x rw - cgroup cgroup rw\n", &m),
                     -EINVAL);
    assert_int_equal(cgroup_parse_mountinfo_line("35 31 0:32 x /x rw - cgroup cgroup rw\n", &m),
                     -EINVAL);
    assert_int_equal(cgroup_parse_mountinfo_line("35 31 0:32 / /x\\04 rw - cgroup cgroup rw\n",
                                                 &m),
                     -EINVAL); /* a cut escape */
    assert_int_equal(cgroup_parse_mountinfo_line("35 31 0:32 / /x\\000 rw - cgroup c rw\n", &m),
                     -EINVAL);
    assert_int_equal(cgroup_parse_mountinfo_line("35 31 0:32 / /x\\777 rw - cgroup c rw\n", &m),
                     -EINVAL);
    assert_string_equal(m.point, "");
    /* huge numbers in the ids are malformed, not wrapped */
    assert_int_equal(cgroup_parse_mountinfo_line(
                         "99999999999999999999 31 0:32 / /x rw - cgroup cgroup rw\n", &m),
                     -EINVAL);
    char big[CGROUP_PATH_MAX + 100];
    size_t n = (size_t)snprintf(big, sizeof(big), "35 31 0:32 / /");
    while (n < CGROUP_PATH_MAX + 20)
        big[n++] = 'p';
    snprintf(big + n, sizeof(big) - n, " rw - cgroup cgroup rw\n");
    assert_int_equal(cgroup_parse_mountinfo_line(big, &m), -ENAMETOOLONG);
}

static void test_cpu_percent(void **state)
{
    (void)state;
    assert_true(cgroup_cpu_percent(0, 500000000, 1000000000) == 50.0);
    assert_true(cgroup_cpu_percent(1000, 1000 + 2000000000ull, 1000000000) == 200.0);
    assert_true(cgroup_cpu_percent(5, 5, 1000) == 0.0);
    assert_true(cgroup_cpu_percent(10, 5, 1000) == 0.0); /* restarted: counter went back */
    assert_true(cgroup_cpu_percent(0, 5, 0) == 0.0);
}

/* ---- the real Engine ---------------------------------------------------------------- */

static char real_id[CGROUP_ID_LEN + 1];

/* Runs cmd with its output into a file and reads the first line back into out. */
static int run_line(const char *cmd, char *out, size_t cap)
{
    char full[512], file[96];
    snprintf(file, sizeof(file), "%s/cmd.out", root);
    snprintf(full, sizeof(full), "%s >'%s' 2>/dev/null", cmd, file);
    if (system(full) != 0)
        return -1;
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return -1;
    int ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    out[strcspn(out, "\n")] = '\0';
    return 0;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_real_container(void **state)
{
    (void)state;
    char line[256];
    if (geteuid() != 0 || system("docker info >/dev/null 2>&1") != 0 ||
        system("docker image inspect cloudya/busybox:test >/dev/null 2>&1") != 0) {
        skip();
        return;
    }
    assert_int_equal(run_line("docker run -d --rm cloudya/busybox:test sh -c "
                              "'while :; do :; done'",
                              line, sizeof(line)),
                     0);
    assert_int_equal(strlen(line), CGROUP_ID_LEN);
    memcpy(real_id, line, sizeof(real_id));
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "docker inspect -f '{{.State.Pid}}' %s", real_id);
    assert_int_equal(run_line(cmd, line, sizeof(line)), 0);
    int pid = (int)strtol(line, NULL, 10);
    assert_true(pid > 0);

    cgroup_paths p;
    cgroup_sample a, b;
    assert_int_equal(cgroup_locate("/proc", "/proc/self/mountinfo", pid, real_id, &p), 0);
    assert_non_null(strstr(p.cpu, real_id));
    /* the wrong container's id for the same pid */
    cgroup_paths q;
    assert_int_equal(cgroup_locate("/proc", "/proc/self/mountinfo", pid, OTHER, &q), -ESRCH);
    /* our own process is not in the container */
    assert_int_equal(cgroup_locate("/proc", "/proc/self/mountinfo", (int)getpid(), real_id, &q),
                     -ESRCH);

    assert_int_equal(cgroup_read(&p, &a), 0);
    double t0 = mono_s();
    sleep(1);
    assert_int_equal(cgroup_read(&p, &b), 0);
    double t1 = mono_s();
    double pct = cgroup_cpu_percent(a.cpu_ns, b.cpu_ns, (uint64_t)((t1 - t0) * 1e9));
    print_message("real container: cpu %.1f%%, mem %llu of %llu, pids %llu, rx %llu\n", pct,
                  (unsigned long long)b.mem_usage, (unsigned long long)b.mem_limit,
                  (unsigned long long)b.pids, (unsigned long long)b.net_rx);
    assert_true(pct >= 50.0 && pct <= 110.0);
    assert_true(b.mem_usage > 0);
    assert_true(b.mem_limit > 0);
    assert_int_equal(b.mem_limit, p.mem_total); /* no limit given */
    assert_int_equal(b.have_net, 1);
    if (p.pids[0] != '\0')
        assert_true(b.pids >= 1);

    /* Kept descriptors read the same live figures. */
    cgroup_files f;
    cgroup_files_init(&f);
    assert_int_equal(cgroup_read_files(&p, &f, &a), 0);
    assert_true(f.fd[CGROUP_FILE_CPU] >= 0 && f.fd[CGROUP_FILE_MEMSTAT] >= 0);
    assert_true(f.fd[CGROUP_FILE_NETDEV] >= 0);
    t0 = mono_s();
    nanosleep(&(struct timespec){0, 500 * 1000 * 1000}, NULL);
    assert_int_equal(cgroup_read_files(&p, &f, &b), 0);
    t1 = mono_s();
    pct = cgroup_cpu_percent(a.cpu_ns, b.cpu_ns, (uint64_t)((t1 - t0) * 1e9));
    assert_true(pct >= 50.0 && pct <= 110.0);
    assert_int_equal(b.mem_limit, p.mem_total);
    assert_int_equal(b.have_net, 1);

    snprintf(cmd, sizeof(cmd), "docker rm -f %s >/dev/null 2>&1", real_id);
    assert_int_equal(system(cmd), 0);
    real_id[0] = '\0';
    assert_int_equal(cgroup_read(&p, &b), -ENOENT);
    /* The kept descriptors now fail (ENODEV): -ENOENT, and every one is let go, so the
     * container's network namespace is not held. */
    assert_int_equal(cgroup_read_files(&p, &f, &b), -ENOENT);
    for (int i = 0; i < CGROUP_FILE_SLOTS; i++)
        assert_int_equal(f.fd[i], -1);
}

/* Kept descriptors give what cgroup_read gives; the limits are read again only every
 * CGROUP_LIMITS_EVERY samples; a missing optional file is not looked up again; close lets
 * go of everything. */
static void test_kept_files(void **state)
{
    (void)state;
    cgroup_paths p;
    cgroup_sample s, k;
    cgroup_files f;
    tree_v1_cgroupfs();
    rm_tree("cg/blkio/docker/" ID "/blkio.io_service_bytes_recursive");
    put("cg/blkio/docker/" ID "/blkio.throttle.io_service_bytes_recursive", "Total 0\n");
    assert_int_equal(locate(&p), 0);
    cgroup_files_init(&f);
    assert_int_equal(cgroup_read(&p, &s), 0);
    assert_int_equal(cgroup_read_files(&p, &f, &k), 0);
    assert_memory_equal(&s, &k, sizeof(s));
    for (int i = 0; i < CGROUP_FILE_SLOTS; i++)
        assert_true(i == CGROUP_FILE_IO_ALL ? f.fd[i] == -2 : f.fd[i] >= 0);
    /* New contents through the same descriptors. */
    put("cg/cpuacct/docker/" ID "/cpuacct.usage", "999\n");
    put("cg/memory/docker/" ID "/memory.limit_in_bytes", "1048576\n");
    put("cg/memory/docker/" ID "/memory.usage_in_bytes", "524288\n");
    put("cg/memory/docker/" ID "/memory.stat", "total_inactive_file 0\n");
    put("cg/pids/docker/" ID "/pids.max", "50\n");
    assert_int_equal(cgroup_read_files(&p, &f, &k), 0);
    assert_int_equal(k.cpu_ns, 999);
    assert_int_equal(k.mem_usage, 524288);
    assert_int_equal(k.mem_limit, MEMTOTAL); /* the old limit, until it is due */
    assert_int_equal(k.pids_limit, 0);
    for (int i = 2; i < CGROUP_LIMITS_EVERY; i++)
        assert_int_equal(cgroup_read_files(&p, &f, &k), 0);
    assert_int_equal(k.mem_limit, MEMTOTAL);
    assert_int_equal(cgroup_read_files(&p, &f, &k), 0);
    assert_int_equal(k.mem_limit, 1048576);
    assert_int_equal(k.pids_limit, 50);
    cgroup_files_close(&f);
    for (int i = 0; i < CGROUP_FILE_SLOTS; i++)
        assert_int_equal(f.fd[i], -1);
    /* After close everything is read afresh, limits at once. */
    assert_int_equal(cgroup_read_files(&p, &f, &k), 0);
    assert_int_equal(k.mem_limit, 1048576);
    cgroup_files_close(&f);
}

static int real_teardown(void **state)
{
    if (real_id[0] != '\0') {
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "docker rm -f %s >/dev/null 2>&1", real_id);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove test container %s\n", real_id);
        real_id[0] = '\0';
    }
    return teardown(state);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_v1_cgroupfs),
        T(test_v1_systemd),
        T(test_v2),
        T(test_hybrid_uses_v1),
        T(test_nested_mount_root),
        T(test_not_the_container),
        T(test_gone),
        T(test_file_too_big),
        T(test_available),
        T(test_kept_files),
        cmocka_unit_test(test_parse_value),
        cmocka_unit_test(test_parse_kv),
        cmocka_unit_test(test_parse_blkio_v1),
        cmocka_unit_test(test_parse_io_v2),
        cmocka_unit_test(test_parse_netdev),
        cmocka_unit_test(test_parse_proc_cgroup),
        cmocka_unit_test(test_parse_mountinfo_line),
        cmocka_unit_test(test_cpu_percent),
        cmocka_unit_test_setup_teardown(test_real_container, setup, real_teardown),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
