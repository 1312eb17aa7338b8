/* Unit tests for `diagnose system` (src/host/sysdiag*.c, resolvconf.c, docker_probe.c): every
 * evaluator with made-up readings on both sides of each threshold, the resolv.conf parser,
 * the Docker answers' parsers, the OOM line parser, a whole run over a fake proc and etc
 * tree (no Docker socket, no systemd), the real run on this machine (a full list, Docker
 * reachable), and a real 1 MiB tmpfs filled up that disk_space must name. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "sysdiag.h"

/* ---- helpers ------------------------------------------------------------------------- */

static struct check_list *new_list(void)
{
    struct check_list *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    return l;
}

static const struct check *find_check(const struct check_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].id, id) == 0) return &l->items[i];
    fail_msg("no check %s", id);
    abort(); /* fail_msg does not return */
}

static struct sysdiag_thresholds th(void)
{
    struct sysdiag_opts o;
    sysdiag_opts_default(&o);
    return o.th;
}

static void assert_has(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL) fail_msg("\"%s\" not in \"%s\"", needle, text);
}

/* Asserts that check c has status s and, when want is not NULL, want in its message. */
static const struct check *want_check(const struct check *c, enum check_status s, const char *want)
{
    if (c->status != s)
        fail_msg("%s is %s, not %s: %s", c->id, check_status_word(c->status), check_status_word(s),
                 c->message);
    if (want != NULL) assert_has(c->message, want);
    return c;
}
#define want_id(l, id, s, want) want_check(find_check((l), (id)), (s), (want))
#define want_at(l, i, s, want) want_check(&(l)->items[(i)], (s), (want))

static struct host_mount mount_of(const char *at, uint64_t total, uint64_t avail, int ro)
{
    struct host_mount m;
    memset(&m, 0, sizeof(m));
    snprintf(m.mount, sizeof(m.mount), "%s", at);
    snprintf(m.device, sizeof(m.device), "/dev/test");
    snprintf(m.fstype, sizeof(m.fstype), "ext4");
    m.total = total;
    m.avail = avail;
    m.used = total - avail;
    m.used_pct = total ? (double)m.used * 100.0 / (double)(m.used + m.avail) : 0;
    m.readonly = ro;
    return m;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    char cmdir[1024];
    snprintf(cmdir, sizeof(cmdir), "%s", path);
    for (char *p = cmdir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(cmdir, 0755);
            *p = '/';
        }
    mkdir(cmdir, 0755);
    *slash = '/';
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm_tree(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

#define GiB (1ull << 30)
#define MiB (1ull << 20)

/* ---- disk space and inodes ---------------------------------------------------------- */

static void test_format_bytes(void **state)
{
    (void)state;
    static const struct {
        uint64_t v;
        const char *text;
    } cases[] = {{0, "0 B"},           {512, "512 B"},
                 {1536, "1.5 KiB"},    {310 * MiB, "310 MiB"},
                 {74 * GiB, "74 GiB"}, {UINT64_MAX, "16 EiB"}};
    char b[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sysdiag_format_bytes(cases[i].v, b, sizeof(b));
        assert_string_equal(b, cases[i].text);
    }
}

/* disk_space (inodes when inodes is set) of the n mounts m, in l cleared first. */
static const struct check *mounts(struct check_list *l, const struct host_mount *m, size_t n,
                                  int inodes)
{
    struct sysdiag_thresholds t = th();
    memset(l, 0, sizeof(*l));
    if (inodes)
        sysdiag_eval_inodes(m, n, &t, l);
    else
        sysdiag_eval_disks(m, n, &t, l);
    return &l->items[0];
}

static void test_disks(void **state)
{
    (void)state;
    struct sysdiag_thresholds t = th();
    struct check_list *l = new_list();
    struct host_mount m[5];
    m[0] = mount_of("/", 100 * GiB, 60 * GiB, 0);
    m[1] = mount_of("/snap/core", 100 * MiB, 0, 1); /* read-only and full: fine */
    m[2] = mount_of("/small", 4096, 4096, 0);       /* tiny and empty: fine */
    sysdiag_eval_disks(m, 3, &t, l);
    const struct check *c = want_id(l, "disk_space", CHECK_OK, "the fullest is / at 40%");
    assert_has(c->detail, "/snap/core");
    assert_has(c->detail, "read-only");

    m[3] = mount_of("/data", 100 * GiB, 10 * GiB, 0); /* 90%: warning */
    c = want_check(mounts(l, m, 4, 0), CHECK_WARN, "/data is 90% full (10 GiB free)");
    assert_has(c->hint, "du -xh -d 1 /data");

    m[4] = mount_of("/tmp/full", 1 * MiB, 0, 0); /* 100%: failed, named first */
    c = want_check(mounts(l, m, 5, 0), CHECK_FAIL, "/tmp/full is 100% full (0 B free)");
    assert_null(strstr(c->message, "/data")); /* only the worst status is named */
    assert_has(c->hint, "/tmp/full");

    /* less than 100 MiB free on a large file system fails even below 95% */
    m[0] = mount_of("/", 2000 * GiB, 50 * MiB, 0);
    c = want_check(mounts(l, m, 1, 0), CHECK_FAIL, "/ is 100% full (50 MiB free)");
    assert_has(c->hint, "journalctl --vacuum-size");

    /* exactly at the thresholds */
    m[0] = mount_of("/", 100 * GiB, 15 * GiB, 0); /* 85% */
    want_check(mounts(l, m, 1, 0), CHECK_WARN, NULL);
    m[0] = mount_of("/", 100 * GiB, 5 * GiB, 0); /* 95% */
    want_check(mounts(l, m, 1, 0), CHECK_FAIL, NULL);
    want_check(mounts(l, m, 0, 0), CHECK_WARN, NULL);
    free(l);
}

static void test_disks_many_named(void **state)
{
    (void)state;
    struct sysdiag_thresholds t = th();
    struct check_list *l = new_list();
    struct host_mount m[7];
    char at[32];
    for (int i = 0; i < 7; i++) {
        snprintf(at, sizeof(at), "/m%d", i);
        m[i] = mount_of(at, 100 * GiB, (uint64_t)(4 - (i % 4)) * GiB / 2, 0); /* 96..98% */
    }
    sysdiag_eval_disks(m, 7, &t, l);
    const struct check *c = want_id(l, "disk_space", CHECK_FAIL, "and 3 more");
    /* fullest first: /m3 (0.5 GiB free) leads, /m0 (2 GiB free) is among the unnamed */
    assert_true(strncmp(c->message, "/m3 is 100% full", 16) == 0);
    assert_null(strstr(c->message, "/m0"));
    free(l);
}

static void test_inodes(void **state)
{
    (void)state;
    struct sysdiag_thresholds t = th();
    struct check_list *l = new_list();
    struct host_mount m[3];
    m[0] = mount_of("/", 100 * GiB, 60 * GiB, 0);
    m[0].inodes_total = 1000;
    m[0].inodes_used = 100;
    m[0].inodes_pct = 10;
    m[1] = mount_of("/btrfs", 100 * GiB, 60 * GiB, 0); /* no inode count: left out */
    sysdiag_eval_inodes(m, 2, &t, l);
    const struct check *c = want_id(l, "inodes", CHECK_OK, NULL);
    assert_null(strstr(c->detail, "/btrfs"));
    m[2] = mount_of("/var", 100 * GiB, 60 * GiB, 0);
    m[2].inodes_total = 1000;
    m[2].inodes_used = 960;
    m[2].inodes_pct = 96;
    c = want_check(mounts(l, m, 3, 1), CHECK_FAIL, "/var uses 96% of its inodes (40 free)");
    assert_has(c->hint, "du --inodes -x -d 1 /var");
    m[2].inodes_pct = 86;
    want_check(mounts(l, m, 3, 1), CHECK_WARN, NULL);
    free(l);
}

/* ---- memory, OOM, load, swap -------------------------------------------------------- */

static enum check_status memory_status(uint64_t avail_pct, int psi, double avg60)
{
    struct sysdiag_thresholds t = th();
    struct check_list *l = new_list();
    struct sysdiag_memory r = {.ok = 1,
                               .total = 100 * GiB,
                               .available = avail_pct * GiB,
                               .psi = psi,
                               .psi_some_avg60 = avg60};
    sysdiag_eval_memory(&r, &t, l);
    enum check_status s = find_check(l, "memory")->status;
    free(l);
    return s;
}

static void test_memory(void **state)
{
    (void)state;
    assert_int_equal(memory_status(50, 0, 0), CHECK_OK);
    assert_int_equal(memory_status(9, 0, 0), CHECK_WARN);
    assert_int_equal(memory_status(4, 0, 0), CHECK_FAIL);
    assert_int_equal(memory_status(50, 1, 5.0), CHECK_OK);
    assert_int_equal(memory_status(50, 1, 15.0), CHECK_WARN);
    assert_int_equal(memory_status(50, 1, 45.0), CHECK_FAIL);
    struct sysdiag_thresholds t = th();
    struct check_list *l = new_list();
    struct sysdiag_memory r = {.ok = 1, .total = 24 * GiB, .available = 2 * GiB};
    sysdiag_eval_memory(&r, &t, l);
    const struct check *c = want_id(l, "memory", CHECK_WARN, "2.0 GiB of 24 GiB available (8%)");
    assert_has(c->hint, "ps -eo pid,comm,rss --sort=-rss");
    r.ok = 0;
    memset(l, 0, sizeof(*l));
    sysdiag_eval_memory(&r, &t, l);
    want_id(l, "memory", CHECK_WARN, NULL);
    free(l);
}

static void test_oom(void **state)
{
    (void)state;
    struct check_list *l = new_list();
    struct sysdiag_oom r = {.ok = 1, .kills = 0};
    sysdiag_eval_oom(&r, l);
    want_id(l, "oom_kills", CHECK_OK, NULL);
    r.kills = 3;
    snprintf(r.victim, sizeof(r.victim), "4242 (java)");
    sysdiag_eval_oom(&r, l);
    const struct check *c = &l->items[1];
    assert_int_equal(c->status, CHECK_WARN);
    assert_has(c->message, "3 processes killed");
    assert_has(c->message, "process 4242 (java)");
    assert_has(c->hint, "dmesg");
    r.victim[0] = '\0';
    r.log_read = 1;
    sysdiag_eval_oom(&r, l);
    assert_has(l->items[2].message, "no longer names them");
    r.ok = 0;
    sysdiag_eval_oom(&r, l);
    want_at(l, 3, CHECK_SKIP, NULL);
    free(l);
}

static void test_oom_victim(void **state)
{
    (void)state;
    char v[SYSDIAG_NAME_MAX];
    const char *kmsg = "3,1234,567890,-;Out of memory: Killed process 4242 (java) "
                       "total-vm:1000kB, anon-rss:900kB";
    assert_int_equal(sysdiag_oom_victim(kmsg, strlen(kmsg), v, sizeof(v)), 1);
    assert_string_equal(v, "4242 (java)");
    const char *dmesg = "[ 12.5] Memory cgroup out of memory: Killed process 77 (my app) uid";
    assert_int_equal(sysdiag_oom_victim(dmesg, strlen(dmesg), v, sizeof(v)), 1);
    assert_string_equal(v, "77 (my app)");
    const char *sum = "6,99,1,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),"
                      "task=postgres,pid=901,uid=105";
    assert_int_equal(sysdiag_oom_victim(sum, strlen(sum), v, sizeof(v)), 1);
    assert_string_equal(v, "901 (postgres)");
    const char *other = "6,1,1,-;eth0: link up";
    assert_int_equal(sysdiag_oom_victim(other, strlen(other), v, sizeof(v)), 0);
    /* cut short: the name never closes, the pid has no digits */
    assert_int_equal(sysdiag_oom_victim(kmsg, 48, v, sizeof(v)), 0);
    const char *nopid = "Killed process (x)";
    assert_int_equal(sysdiag_oom_victim(nopid, strlen(nopid), v, sizeof(v)), 0);
    /* a long name is cut to the buffer */
    char long_line[300];
    snprintf(long_line, sizeof(long_line), "Killed process 1 (%0200d)", 0);
    assert_int_equal(sysdiag_oom_victim(long_line, strlen(long_line), v, sizeof(v)), 1);
    assert_true(strlen(v) < sizeof(v));
}

static void test_load(void **state)
{
    (void)state;
    struct sysdiag_thresholds t = th();
    struct check_list *l = new_list();
    double a[3] = {0.52, 0.58, 0.59};
    sysdiag_eval_load(1, a, 2, &t, l);
    want_at(l, 0, CHECK_OK, NULL);
    assert_string_equal(l->items[0].message, "load 0.52 0.58 0.59 on 2 cores");
    double b[3] = {3.0, 2.5, 2.0}; /* 1.25 per core */
    sysdiag_eval_load(1, b, 2, &t, l);
    want_at(l, 1, CHECK_WARN, NULL);
    assert_has(l->items[1].hint, "ps -eo");
    double c[3] = {9.0, 4.5, 3.0}; /* 2.25 per core */
    sysdiag_eval_load(1, c, 2, &t, l);
    want_at(l, 2, CHECK_FAIL, NULL);
    double d[3] = {1.0, 2.0, 1.0}; /* exactly 2.0 on 1 core: not above */
    sysdiag_eval_load(1, d, 1, &t, l);
    want_at(l, 3, CHECK_WARN, "on 1 core");
    sysdiag_eval_load(0, d, 1, &t, l);
    want_at(l, 4, CHECK_WARN, NULL);
    free(l);
}

static void test_swap(void **state)
{
    (void)state;
    struct sysdiag_thresholds t = th();
    struct check_list *l = new_list();
    struct sysdiag_memory r = {.ok = 1, .total = 10 * GiB, .available = 5 * GiB};
    sysdiag_eval_swap(&r, &t, l);
    want_at(l, 0, CHECK_OK, NULL);
    assert_string_equal(l->items[0].message, "no swap");
    r.available = GiB / 2; /* 5%: no swap to fall back on */
    sysdiag_eval_swap(&r, &t, l);
    want_at(l, 1, CHECK_WARN, NULL);
    assert_has(l->items[1].hint, "swapon");
    r.available = 5 * GiB;
    r.swap_total = 4 * GiB;
    r.swap_free = GiB; /* 75% used */
    sysdiag_eval_swap(&r, &t, l);
    want_at(l, 2, CHECK_WARN, "3.0 GiB of 4.0 GiB swap used (75%)");
    r.swap_free = GiB / 2; /* 87.5% */
    sysdiag_eval_swap(&r, &t, l);
    want_at(l, 3, CHECK_FAIL, NULL);
    r.swap_free = 3 * GiB; /* 25% */
    sysdiag_eval_swap(&r, &t, l);
    want_at(l, 4, CHECK_OK, NULL);
    free(l);
}

/* ---- systemd, zombies, time --------------------------------------------------------- */

static void test_systemd(void **state)
{
    (void)state;
    struct check_list *l = new_list();
    struct sysdiag_systemd r = {.running = 0};
    snprintf(r.pid1, sizeof(r.pid1), "process_api");
    sysdiag_eval_systemd(&r, l);
    want_at(l, 0, CHECK_SKIP, NULL);
    assert_string_equal(l->items[0].message, "systemd is not PID 1 here (PID 1 is process_api)");
    r.running = 1;
    r.ran = 1;
    r.output = "nginx.service loaded failed failed A high performance web server\n"
               "\xe2\x97\x8f php8.2-fpm.service loaded failed failed The PHP FastCGI Manager\n";
    sysdiag_eval_systemd(&r, l);
    const struct check *c = &l->items[1];
    assert_int_equal(c->status, CHECK_FAIL);
    assert_has(c->message, "2 failed units: nginx.service, php8.2-fpm.service");
    assert_has(c->hint, "systemctl status nginx.service");
    assert_has(c->detail, "A high performance web server");
    r.output = "";
    sysdiag_eval_systemd(&r, l);
    want_at(l, 2, CHECK_OK, NULL);
    r.timed_out = 1;
    sysdiag_eval_systemd(&r, l);
    want_at(l, 3, CHECK_WARN, NULL);
    r.timed_out = 0;
    r.status = 1;
    r.errors = "System has not been booted with systemd as init system (PID 1).\nmore\n";
    sysdiag_eval_systemd(&r, l);
    want_at(l, 4, CHECK_WARN, NULL);
    assert_string_equal(l->items[4].message,
                        "systemctl --failed exited with status 1: System has "
                        "not been booted with systemd as init system (PID 1).");
    r.ran = 0;
    sysdiag_eval_systemd(&r, l);
    want_at(l, 5, CHECK_WARN, NULL);
    free(l);
}

static void add_proc(struct proc_table *t, int pid, int ppid, char state, const char *comm)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->p = realloc(t->p, t->cap * sizeof(*t->p));
        assert_non_null(t->p);
    }
    struct proc_info *p = &t->p[t->n++];
    memset(p, 0, sizeof(*p));
    p->pid = pid;
    p->ppid = ppid;
    p->state = state;
    snprintf(p->comm, sizeof(p->comm), "%s", comm);
}

static void test_zombies(void **state)
{
    (void)state;
    struct sysdiag_thresholds t = th();
    struct check_list *l = new_list();
    struct proc_table pt = {0};
    add_proc(&pt, 1, 0, 'S', "init");
    add_proc(&pt, 100, 1, 'S', "php-fpm");
    add_proc(&pt, 101, 100, 'Z', "php-fpm");
    add_proc(&pt, 102, 100, 'Z', "php-fpm");
    add_proc(&pt, 200, 1, 'S', "bash");
    add_proc(&pt, 201, 200, 'Z', "sleep");
    sysdiag_eval_zombies(&pt, 0, &t, l);
    const struct check *c = &l->items[0];
    assert_int_equal(c->status, CHECK_WARN);
    assert_has(c->message, "3 zombie processes");
    assert_has(c->message, "100 (php-fpm) with 2");
    assert_has(c->message, "200 (bash)");
    assert_has(c->hint, "kill -CHLD 100");
    assert_has(c->detail, "zombie 201 (sleep) of parent 200 (bash)");
    for (int i = 0; i < 120; i++)
        add_proc(&pt, 1000 + i, 100, 'Z', "php-fpm");
    sysdiag_eval_zombies(&pt, 0, &t, l);
    want_at(l, 1, CHECK_FAIL, NULL);
    pt.n = 2;
    sysdiag_eval_zombies(&pt, 0, &t, l);
    want_at(l, 2, CHECK_OK, NULL);
    sysdiag_eval_zombies(NULL, -EACCES, &t, l);
    want_at(l, 3, CHECK_WARN, NULL);
    free(pt.p);
    free(l);
}

static void test_time(void **state)
{
    (void)state;
    struct check_list *l = new_list();
    struct sysdiag_time r = {.ok = 1, .state = TIME_OK, .esterror_us = 500};
    snprintf(r.daemon, sizeof(r.daemon), "chronyd");
    sysdiag_eval_time(&r, l);
    want_at(l, 0, CHECK_OK, "estimated error 0.5 ms");
    r.state = TIME_ERROR;
    sysdiag_eval_time(&r, l);
    want_at(l, 1, CHECK_WARN, "chronyd runs");
    assert_has(l->items[1].hint, "chronyc sources");
    r.daemon[0] = '\0';
    r.state = TIME_OK;
    r.unsynced = 1;
    r.systemd = 1;
    sysdiag_eval_time(&r, l);
    want_at(l, 2, CHECK_WARN, NULL);
    assert_has(l->items[2].hint, "timedatectl set-ntp true");
    r.systemd = 0;
    sysdiag_eval_time(&r, l);
    assert_has(l->items[3].hint, "apt install chrony");
    r.ok = 0;
    sysdiag_eval_time(&r, l);
    want_at(l, 4, CHECK_WARN, NULL);
    free(l);
}

/* ---- resolv.conf and DNS ------------------------------------------------------------ */

static void parse(const char *text, struct resolvconf *r)
{
    assert_int_equal(resolvconf_parse(text, strlen(text), r), 0);
}

static void test_resolvconf_parse(void **state)
{
    (void)state;
    struct resolvconf r;
    parse("# comment\n; also a comment\nnameserver 10.0.0.2 # inline\n"
          "nameserver\t2001:db8::1%eth0\r\nnameserver resolver.example\n"
          "domain corp.example\nsearch a.example b.example\noptions ndots:2 timeout:3 "
          "attempts:4 rotate edns0\nsortlist 10.0.0.0/8\nnameserverX 1.1.1.1\n"
          "nameserver\nbogus line\n\n   \n",
          &r);
    assert_int_equal(r.n_ns, 3);
    assert_string_equal(r.ns[0].addr, "10.0.0.2");
    assert_int_equal(r.ns[0].family, AF_INET);
    assert_int_equal(r.ns[0].line, 3);
    assert_string_equal(r.ns[1].addr, "2001:db8::1%eth0");
    assert_int_equal(r.ns[1].family, AF_INET6);
    assert_int_equal(r.ns[2].family, 0);
    assert_int_equal(r.ns_lines, 4);
    assert_int_equal(r.ns_empty, 1);
    /* search replaces domain */
    assert_int_equal(r.n_search, 2);
    assert_string_equal(r.search[0], "a.example");
    assert_string_equal(r.search[1], "b.example");
    assert_int_equal(r.ndots, 2);
    assert_int_equal(r.timeout, 3);
    assert_int_equal(r.attempts, 4);
    assert_string_equal(r.options, "ndots:2 timeout:3 attempts:4 rotate edns0");
    assert_int_equal(r.unknown_lines, 2); /* nameserverX, bogus */
    parse("search a.example\ndomain last.example extra\n", &r);
    assert_int_equal(r.n_search, 1);
    assert_string_equal(r.search[0], "last.example");
    assert_int_equal(r.ndots, -1);
}

static void test_resolvconf_loopback_and_limits(void **state)
{
    (void)state;
    struct resolvconf r;
    parse("nameserver 127.0.0.53\nnameserver ::1\nnameserver ::ffff:127.0.0.1\n"
          "nameserver 127.1.2.3\nnameserver 128.0.0.1",
          &r);
    assert_int_equal(r.n_ns, 5);
    assert_true(r.ns[0].loopback && r.ns[1].loopback && r.ns[2].loopback && r.ns[3].loopback);
    assert_false(r.ns[4].loopback);
    /* more nameservers than kept: counted */
    char big[4096] = "";
    for (int i = 0; i < 40; i++) {
        size_t n = strlen(big);
        snprintf(big + n, sizeof(big) - n, "nameserver 10.0.0.%d\n", i);
    }
    parse(big, &r);
    assert_int_equal(r.n_ns, RESOLVCONF_NS_MAX);
    assert_int_equal(r.ns_lines, 40);
    /* NUL bytes and a long word never overflow */
    char nul[] = "nameserver 1.2\0.3.4\nsearch x\0y\n";
    assert_int_equal(resolvconf_parse(nul, sizeof(nul) - 1, &r), 0);
    assert_int_equal(r.n_ns, 1);
    assert_int_equal(r.ns[0].family, 0);
    char longw[2000] = "nameserver ";
    memset(longw + 11, 'a', 1500);
    longw[1511] = '\0';
    parse(longw, &r);
    assert_int_equal(strlen(r.ns[0].addr), RESOLVCONF_ADDR_MAX - 1);
    assert_int_equal(resolvconf_parse(NULL, 0, &r), 0);
    assert_int_equal(r.n_ns, 0);
    assert_int_equal(resolvconf_read("/nonexistent/resolv.conf", &r), -ENOENT);
}

/* A DNS reading from a resolv.conf text; everything else well. */
static struct sysdiag_dns *dns_of(const char *text)
{
    struct sysdiag_dns *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    snprintf(r->resolv_path, sizeof(r->resolv_path), "/etc/resolv.conf");
    parse(text, &r->conf);
    for (size_t i = 0; i < RESOLVCONF_NS_MAX; i++)
        r->listening[i] = -1;
    r->nsswitch_hosts = 1;
    snprintf(r->nsswitch_line, sizeof(r->nsswitch_line), "hosts: files dns");
    r->hosts_localhost = 1;
    return r;
}

static void test_dns(void **state)
{
    (void)state;
    struct check_list *l = new_list();
    struct sysdiag_dns *r = dns_of("nameserver 10.0.0.2\nsearch corp.example\n");
    sysdiag_eval_dns(r, l);
    want_at(l, 0, CHECK_OK, "nameserver 10.0.0.2; search corp.example");
    free(r);

    r = dns_of("nameserver 127.0.0.53\n");
    r->listening[0] = 0;
    sysdiag_eval_dns(r, l);
    want_at(l, 1, CHECK_FAIL, "nothing listens on 127.0.0.53 port 53");
    assert_has(l->items[1].hint, "systemd-resolved");
    r->listening[0] = 1;
    sysdiag_eval_dns(r, l);
    want_at(l, 2, CHECK_OK, NULL);
    assert_has(l->items[2].detail, "local, listening");
    free(r);

    r = dns_of("# nothing\n");
    sysdiag_eval_dns(r, l);
    want_at(l, 3, CHECK_FAIL, "names no nameserver");
    r->resolv_rc = -ENOENT;
    sysdiag_eval_dns(r, l);
    want_at(l, 4, CHECK_FAIL, "No such file or directory");
    free(r);

    r = dns_of("nameserver dns.example\nnameserver 10.0.0.1\n");
    sysdiag_eval_dns(r, l);
    want_at(l, 5, CHECK_WARN, "\"dns.example\" (line 1) is not an IP address");
    free(r);

    r = dns_of("nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n"
               "nameserver 10.0.0.4\n");
    sysdiag_eval_dns(r, l);
    want_at(l, 6, CHECK_WARN, "4 nameservers: the C library uses only the first 3");
    r->nsswitch_hosts = 0;
    r->hosts_localhost = 0;
    sysdiag_eval_dns(r, l);
    want_at(l, 7, CHECK_WARN, "and 2 more");
    assert_has(l->items[7].detail, "no hosts: line");
    assert_has(l->items[7].detail, "does not map localhost");
    free(r);

    r = dns_of("nameserver 10.0.0.1\n");
    snprintf(r->nsswitch_line, sizeof(r->nsswitch_line), "hosts: files");
    sysdiag_eval_dns(r, l);
    want_at(l, 8, CHECK_WARN, "does not use DNS");
    free(r);
    free(l);
}

/* ---- open files ----------------------------------------------------------------------- */

static void test_files(void **state)
{
    (void)state;
    struct sysdiag_thresholds t = th();
    struct check_list *l = new_list();
    struct sysdiag_files r = {.rlimit_ok = 1,
                              .soft = 1024,
                              .hard = 4096,
                              .nr_ok = 1,
                              .allocated = 1000,
                              .unused = 0,
                              .max = 100000};
    sysdiag_eval_files(&r, &t, l);
    want_at(l, 0, CHECK_OK, "1000 of 100000 file handles in use");
    r.soft = 256;
    sysdiag_eval_files(&r, &t, l);
    want_at(l, 1, CHECK_WARN, "open files limit is 256");
    assert_has(l->items[1].hint, "ulimit -n 4096");
    r.soft = UINT64_MAX;
    r.hard = UINT64_MAX;
    r.allocated = 75000;
    sysdiag_eval_files(&r, &t, l);
    want_at(l, 2, CHECK_WARN, "75000 of 100000");
    assert_has(l->items[2].hint, "fs.file-max=200000");
    r.allocated = 95000;
    sysdiag_eval_files(&r, &t, l);
    want_at(l, 3, CHECK_FAIL, NULL);
    r.rlimit_ok = r.nr_ok = 0;
    sysdiag_eval_files(&r, &t, l);
    want_at(l, 4, CHECK_WARN, NULL);
    free(l);
}

/* ---- Docker ---------------------------------------------------------------------------- */

static void test_docker_socket(void **state)
{
    (void)state;
    char s[DOCKER_PROBE_PATH_MAX];
    assert_int_equal(docker_probe_socket(NULL, s, sizeof(s)), 0);
    assert_string_equal(s, DOCKER_PROBE_SOCKET_DEFAULT);
    assert_int_equal(docker_probe_socket("", s, sizeof(s)), 0);
    assert_string_equal(s, DOCKER_PROBE_SOCKET_DEFAULT);
    assert_int_equal(docker_probe_socket("unix:///run/user/1000/docker.sock", s, sizeof(s)), 0);
    assert_string_equal(s, "/run/user/1000/docker.sock");
    assert_int_equal(docker_probe_socket("tcp://10.0.0.1:2376", s, sizeof(s)), -EPROTONOSUPPORT);
    char small[8];
    assert_int_equal(docker_probe_socket("unix:///a/long/path", small, sizeof(small)),
                     -ENAMETOOLONG);
}

static const char DF_JSON[] =
    "{\"LayersSize\": 10737418240,"
    " \"Images\": ["
    "  {\"Id\": \"a\", \"Containers\": 1, \"Size\": 3221225472, \"SharedSize\": 1073741824},"
    "  {\"Id\": \"b\", \"Containers\": 0, \"Size\": 4294967296, \"SharedSize\": 0},"
    "  {\"Id\": \"c\", \"Containers\": -1, \"Size\": -1, \"SharedSize\": -1}],"
    " \"Containers\": ["
    "  {\"Id\": \"x\", \"State\": \"running\", \"SizeRw\": 1048576},"
    "  {\"Id\": \"y\", \"State\": \"exited\", \"SizeRw\": 2097152},"
    "  {\"Id\": \"z\", \"State\": \"created\"}],"
    " \"Volumes\": ["
    "  {\"Name\": \"v1\", \"UsageData\": {\"Size\": 1000, \"RefCount\": 1}},"
    "  {\"Name\": \"v2\", \"UsageData\": {\"Size\": 5000, \"RefCount\": 0}},"
    "  {\"Name\": \"v3\", \"UsageData\": {\"Size\": -1, \"RefCount\": -1}}],"
    " \"BuildCache\": ["
    "  {\"ID\": \"k1\", \"Size\": 100, \"InUse\": true, \"Shared\": false},"
    "  {\"ID\": \"k2\", \"Size\": 200, \"InUse\": false, \"Shared\": false},"
    "  {\"ID\": \"k3\", \"Size\": 400, \"InUse\": false, \"Shared\": true}]}";

static void test_docker_parsers(void **state)
{
    (void)state;
    struct docker_probe p;
    memset(&p, 0, sizeof(p));
    assert_int_equal(docker_probe_parse_df(DF_JSON, strlen(DF_JSON), &p), 0);
    assert_true(p.df_ok);
    assert_int_equal(p.img.count, 3);
    assert_int_equal(p.img.active, 1);
    assert_int_equal(p.img.size, 10737418240ull);
    assert_int_equal(p.img.reclaimable, 10737418240ull - 2147483648ull); /* minus a's own */
    assert_int_equal(p.ctr.size, 3145728);
    assert_int_equal(p.ctr.reclaimable, 2097152);
    assert_int_equal(p.ctr.active, 1);
    assert_int_equal(p.vol.size, 6000);
    assert_int_equal(p.vol.reclaimable, 5000);
    assert_int_equal(p.cache.size, 300);
    assert_int_equal(p.cache.reclaimable, 200);
    assert_int_equal(docker_probe_parse_df("[1,2]", 5, &p), -EINVAL);
    assert_int_equal(docker_probe_parse_df("{", 1, &p), -EINVAL);
    const char *ver = "{\"Version\": \"28.2.2\", \"ApiVersion\": \"1.50\", \"Os\": \"linux\", "
                      "\"Arch\": \"amd64\"}";
    assert_int_equal(docker_probe_parse_version(ver, strlen(ver), &p), 0);
    assert_string_equal(p.version, "28.2.2");
    assert_string_equal(p.os_arch, "linux/amd64");
    const char *info = "{\"DockerRootDir\": \"/var/lib/docker\", \"Driver\": \"overlay2\", "
                       "\"Containers\": 5, \"ContainersRunning\": 2, \"ContainersStopped\": 3, "
                       "\"Images\": 7, \"ServerVersion\": 1}";
    assert_int_equal(docker_probe_parse_info(info, strlen(info), &p), 0);
    assert_string_equal(p.root_dir, "/var/lib/docker");
    assert_int_equal(p.running, 2);
    assert_int_equal(p.stopped, 3);
    assert_int_equal(docker_probe_parse_info("null", 4, &p), -EINVAL);
}

static void test_docker_eval(void **state)
{
    (void)state;
    struct sysdiag_thresholds t = th();
    struct check_list *l = new_list();
    struct sysdiag_docker *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    /* not installed: both skipped */
    snprintf(r->probe.socket, sizeof(r->probe.socket), "/nonexistent.sock");
    sysdiag_eval_docker(r, l);
    sysdiag_eval_docker_disk(r, &t, l);
    want_at(l, 0, CHECK_SKIP, NULL);
    assert_string_equal(l->items[0].message, "Docker Engine not installed");
    want_at(l, 1, CHECK_SKIP, NULL);
    /* installed, not running */
    r->installed = 1;
    r->systemd = 1;
    sysdiag_eval_docker(r, l);
    want_at(l, 2, CHECK_FAIL, "not running (no socket at /nonexistent.sock)");
    assert_has(l->items[2].hint, "systemctl start docker");
    /* a socket that refuses us */
    r->probe.socket_present = 1;
    snprintf(r->probe.error, sizeof(r->probe.error),
             "cannot connect to /var/run/docker.sock: Permission denied");
    sysdiag_eval_docker(r, l);
    want_at(l, 3, CHECK_FAIL, NULL);
    assert_has(l->items[3].hint, "usermod -aG docker");
    snprintf(r->probe.error, sizeof(r->probe.error), "no answer to GET /_ping within 5.0 s");
    r->systemd = 0;
    sysdiag_eval_docker(r, l);
    assert_has(l->items[4].hint, "dockerd");
    /* reachable */
    r->probe.reachable = 1;
    r->probe.error[0] = '\0';
    const char *ver = "{\"Version\": \"28.2.2\", \"ApiVersion\": \"1.50\"}";
    docker_probe_parse_version(ver, strlen(ver), &r->probe);
    const char *info = "{\"DockerRootDir\": \"/var/lib/docker\", \"ContainersRunning\": 2, "
                       "\"ContainersStopped\": 1, \"Images\": 7}";
    docker_probe_parse_info(info, strlen(info), &r->probe);
    docker_probe_parse_df(DF_JSON, strlen(DF_JSON), &r->probe);
    r->root_ok = 1;
    r->root_total = 100 * GiB;
    r->root_avail = 50 * GiB;
    r->root_used_pct = 50;
    sysdiag_eval_docker(r, l);
    want_at(l, 5, CHECK_OK, "Docker 28.2.2 (API 1.50)");
    assert_has(l->items[5].message, "2 running and 1 stopped container, 7 images");
    sysdiag_eval_docker_disk(r, &t, l);
    const struct check *c = &l->items[6];
    assert_int_equal(c->status, CHECK_WARN); /* 8 GiB of images nobody uses */
    assert_has(c->message, "not used by any container");
    assert_has(c->hint, "docker system prune frees the stopped containers (2.0 MiB)");
    assert_has(c->hint, "docker image prune -a the unused images (8.0 GiB)");
    assert_has(c->detail, "images: 3 (1 in use), 10 GiB, 8.0 GiB reclaimable");
    r->root_used_pct = 96;
    r->root_avail = 4 * GiB;
    sysdiag_eval_docker_disk(r, &t, l);
    want_at(l, 7, CHECK_FAIL, "/var/lib/docker is 96% full");
    r->probe.img.reclaimable = 0;
    r->root_used_pct = 20;
    sysdiag_eval_docker_disk(r, &t, l);
    want_at(l, 8, CHECK_OK, NULL);
    r->socket_rc = -EPROTONOSUPPORT;
    snprintf(r->docker_host, sizeof(r->docker_host), "tcp://10.0.0.1:2376");
    sysdiag_eval_docker(r, l);
    want_at(l, 9, CHECK_SKIP, "tcp://10.0.0.1:2376");
    free(r);
    free(l);
}

/* A stand-in Engine on a unix socket: answers GET /_ping, /version, /info and /system/df
 * with canned bodies (Connection: close), or never answers when silent. */
struct fake_engine {
    int fd;
    int silent;
    pthread_t thread;
};

static void *engine_main(void *arg)
{
    struct fake_engine *e = arg;
    for (;;) {
        int c = accept(e->fd, NULL, NULL);
        if (c < 0) return NULL;
        char req[4096];
        ssize_t n = read(c, req, sizeof(req) - 1);
        if (n <= 0 || e->silent) {
            if (e->silent) sleep(2);
            close(c);
            continue;
        }
        req[n] = '\0';
        const char *body = "{}";
        if (strncmp(req, "GET /_ping ", 11) == 0)
            body = "OK";
        else if (strncmp(req, "GET /version ", 13) == 0)
            body = "{\"Version\": \"28.2.2\", \"ApiVersion\": \"1.50\", \"Os\": \"linux\", "
                   "\"Arch\": \"amd64\"}";
        else if (strncmp(req, "GET /info ", 10) == 0)
            body = "{\"DockerRootDir\": \"/\", \"ContainersRunning\": 1, \"Images\": 2}";
        else if (strncmp(req, "GET /system/df ", 15) == 0)
            body = DF_JSON;
        char head[256];
        int hl = snprintf(head, sizeof(head),
                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                          strlen(body));
        if (write(c, head, (size_t)hl) < 0 || write(c, body, strlen(body)) < 0) {
        }
        close(c);
    }
}

static void engine_start(struct fake_engine *e, const char *path, int silent)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    e->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(e->fd >= 0);
    assert_int_equal(bind(e->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(e->fd, 8), 0);
    e->silent = silent;
    assert_int_equal(pthread_create(&e->thread, NULL, engine_main, e), 0);
}

static void engine_stop(struct fake_engine *e)
{
    shutdown(e->fd, SHUT_RDWR);
    close(e->fd);
    pthread_join(e->thread, NULL);
}

static void test_docker_probe_run(void **state)
{
    (void)state;
    char dir[] = "/tmp/sysdiag-sock-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[200];
    snprintf(path, sizeof(path), "%s/docker.sock", dir);
    struct docker_probe *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    /* nothing there */
    assert_int_equal(docker_probe_run(path, 500, 500, 500, 5000, p), 0);
    assert_false(p->socket_present);
    assert_has(p->error, "No such file or directory");
    /* a stand-in Engine: everything read and parsed */
    struct fake_engine e;
    engine_start(&e, path, 0);
    assert_int_equal(docker_probe_run(path, 2000, 2000, 2000, 10000, p), 0);
    assert_true(p->reachable);
    assert_string_equal(p->version, "28.2.2");
    assert_string_equal(p->root_dir, "/");
    assert_true(p->df_ok);
    assert_int_equal(p->vol.reclaimable, 5000);
    engine_stop(&e);
    /* a socket nobody serves any more: refused */
    assert_int_equal(docker_probe_run(path, 500, 500, 500, 5000, p), 0);
    assert_true(p->socket_present);
    assert_false(p->reachable);
    assert_has(p->error, "Connection refused");
    unlink(path);
    /* an Engine that never answers: no answer within the time given */
    engine_start(&e, path, 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(docker_probe_run(path, 600, 600, 600, 5000, p), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_false(p->reachable);
    assert_has(p->error, "no answer to GET /_ping within 0.6 s");
    assert_true(took < 1.5);
    engine_stop(&e);
    unlink(path);
    /* a file that is not a socket */
    write_file(dir, "docker.sock", "x");
    assert_int_equal(docker_probe_run(path, 500, 500, 500, 5000, p), 0);
    assert_has(p->error, "is not a socket");
    free(p);
    rm_tree(dir);
}

static void test_conclude(void **state)
{
    (void)state;
    struct check_list *l = new_list();
    check_add(l, "a", "A", CHECK_OK, NULL, "fine");
    sysdiag_conclude(l);
    assert_string_equal(l->cause, "");
    assert_string_equal(l->advice, "");
    check_add(l, "b", "B", CHECK_WARN, "do b", "b is odd");
    check_add(l, "c", "C", CHECK_FAIL, "do c", "c is broken");
    check_add(l, "d", "D", CHECK_FAIL, "do d", "d is broken");
    sysdiag_conclude(l);
    assert_string_equal(l->cause, "C: c is broken");
    assert_string_equal(l->advice, "do c");
    l->items[2].status = l->items[3].status = CHECK_OK;
    sysdiag_conclude(l);
    assert_string_equal(l->cause, "B: b is odd");
    free(l);
}

/* ---- whole runs -------------------------------------------------------------------------- */

static const char *const ORDER[] = {
    "disk_space", "inodes",    "memory", "oom_kills",  "load",   "swap",       "systemd_failed",
    "zombies",    "time_sync", "dns",    "open_files", "docker", "docker_disk"};

static void assert_order(const struct check_list *l)
{
    assert_int_equal(l->n, sizeof(ORDER) / sizeof(ORDER[0]));
    for (size_t i = 0; i < l->n; i++)
        assert_string_equal(l->items[i].id, ORDER[i]);
    assert_string_equal(l->subject, "system");
}

static void test_fake_root(void **state)
{
    (void)state;
    char root[] = "/tmp/sysdiag-fake-XXXXXX";
    assert_non_null(mkdtemp(root));
    char proc[600], etc[600], buf[2048];
    snprintf(proc, sizeof(proc), "%s/proc", root);
    snprintf(etc, sizeof(etc), "%s/etc", root);
    /* one file system: the temporary folder itself */
    snprintf(buf, sizeof(buf), "36 35 8:1 / %s rw,relatime - ext4 /dev/fake rw\n", root);
    write_file(proc, "self/mountinfo", buf);
    static const char *const stat_tail = " 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 1000 "
                                         "100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 "
                                         "0 0 0 0 0 0\n";
    static const char *const files[][2] = {
        {"proc/meminfo", "MemTotal: 1000000 kB\nMemFree: 20000 kB\nMemAvailable: 30000 kB\n"
                         "SwapTotal: 0 kB\nSwapFree: 0 kB\n"},
        {"proc/pressure/memory", "some avg10=1.00 avg60=12.50 avg300=3.00 total=1\n"
                                 "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},
        {"proc/vmstat", "nr_free_pages 100\noom_kill 2\npgfault 5\n"},
        {"proc/loadavg", "0.10 0.20 0.30 1/100 4242\n"},
        {"proc/sys/fs/file-nr", "500\t0\t1000\n"},
        {"proc/net/udp", "  sl  local_address rem_address   st tx_queue rx_queue tr\n"},
        {"proc/1/comm", "fakeinit\n"},
        {"proc/1/status", "Name:\tfakeinit\nUid:\t0\t0\t0\t0\n"},
        {"proc/1/cmdline", "fakeinit"},
        {"proc/50/status", "Name:\tworker\nUid:\t0\t0\t0\t0\n"},
        {"proc/50/cmdline", ""},
        {"etc/resolv.conf", "nameserver 127.0.0.53\noptions edns0\n"},
        {"etc/nsswitch.conf", "passwd: files\nhosts: files dns\n"},
        {"etc/hosts", "127.0.0.1 localhost\n::1 ip6-localhost\n"},
        {"kmsg", "6,1,1,-;eth0: up\n3,2,2,-;Out of memory: Killed process 777 (hog) total-vm:1kB\n"
                 "6,3,3,-;other\n"}};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        write_file(root, files[i][0], files[i][1]);
    /* process 1 sleeps, its child 50 is a zombie */
    snprintf(buf, sizeof(buf), "1 (fakeinit) S 0%s", stat_tail);
    write_file(proc, "1/stat", buf);
    snprintf(buf, sizeof(buf), "50 (worker) Z 1%s", stat_tail);
    write_file(proc, "50/stat", buf);
    char sock[700], sd[700], kmsg[700];
    snprintf(sock, sizeof(sock), "%s/no-docker.sock", root);
    snprintf(sd, sizeof(sd), "%s/no-systemd", root);
    snprintf(kmsg, sizeof(kmsg), "%s/kmsg", root);

    struct sysdiag_opts o;
    sysdiag_opts_default(&o);
    o.proc_root = proc;
    o.etc_root = etc;
    o.docker_socket = sock;
    o.dockerd_program = "no-such-dockerd-for-tests";
    o.systemd_dir = sd;
    o.kmsg_path = kmsg;
    struct check_list *l = new_list();
    assert_int_equal(sysdiag_run(&o, l), 0);
    assert_order(l);
    const struct check *c = find_check(l, "disk_space");
    assert_int_not_equal(c->status, CHECK_SKIP);
    assert_has(c->detail, root);
    c = want_id(l, "memory", CHECK_FAIL, NULL); /* 3% available */
    assert_has(c->message, "(3%)");
    assert_has(c->message, "pressure 12.50%");
    c = want_id(l, "oom_kills", CHECK_WARN, "2 processes");
    assert_has(c->message, "777 (hog)");
    want_id(l, "swap", CHECK_WARN, NULL); /* no swap, little memory */
    c = want_id(l, "systemd_failed", CHECK_SKIP, "PID 1 is fakeinit");
    c = want_id(l, "zombies", CHECK_WARN, "1 zombie process, not reaped by 1 (fakeinit)");
    c = want_id(l, "dns", CHECK_FAIL, "127.0.0.53");
    c = want_id(l, "open_files", CHECK_OK, "500 of 1000");
    want_id(l, "docker", CHECK_SKIP, NULL);
    assert_string_equal(find_check(l, "docker")->message, "Docker Engine not installed");
    want_id(l, "docker_disk", CHECK_SKIP, NULL);
    /* the first failure leads */
    assert_has(l->cause, "Memory: low memory");
    assert_has(l->advice, "ps -eo pid,comm,rss");

    /* dockerd "installed" (a program found on PATH) but no socket: failed */
    o.dockerd_program = "sh";
    assert_int_equal(sysdiag_run(&o, l), 0);
    c = want_id(l, "docker", CHECK_FAIL, sock);
    /* nothing readable at all: warnings and skips, never a crash */
    char empty[700];
    snprintf(empty, sizeof(empty), "%s/empty", root);
    mkdir(empty, 0755);
    o.proc_root = empty;
    o.etc_root = empty;
    assert_int_equal(sysdiag_run(&o, l), 0);
    assert_order(l);
    want_id(l, "dns", CHECK_FAIL, NULL);
    want_id(l, "memory", CHECK_WARN, NULL);
    free(l);
    rm_tree(root);
}

static double seconds_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void test_real_machine(void **state)
{
    (void)state;
    struct sysdiag_opts o;
    sysdiag_opts_default(&o);
    struct check_list *l = new_list();
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(sysdiag_run(&o, l), 0);
    double took = seconds_since(&t0);
    assert_true(took < 30.0);
    assert_order(l);
    for (size_t i = 0; i < l->n; i++) {
        assert_true(l->items[i].message[0] != '\0');
        if (l->items[i].status == CHECK_WARN || l->items[i].status == CHECK_FAIL)
            assert_true(l->items[i].hint[0] != '\0');
    }
    const struct check *c = find_check(l, "docker");
    if (access("/var/run/docker.sock", F_OK) == 0 && getenv("DOCKER_HOST") == NULL) {
        assert_int_equal(c->status, CHECK_OK);
        assert_has(c->message, "Docker ");
        assert_int_not_equal(find_check(l, "docker_disk")->status, CHECK_SKIP);
    }
    c = find_check(l, "disk_space");
    assert_has(c->detail, "/ (");
    json_t *j = check_list_json(l);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "checks")), l->n);
    json_decref(j);
    print_message("real run: %.3f s, cause: %s\n", took, l->cause);
    free(l);
}

/* A real 1 MiB tmpfs, filled: disk_space fails and names it (root only). */
static void test_full_tmpfs(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("not root: the tmpfs test is skipped\n");
        skip();
    }
    char dir[] = "/tmp/sysdiag-full-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(mount("tmpfs", dir, "tmpfs", 0, "size=1m"), 0);
    char path[600];
    snprintf(path, sizeof(path), "%s/fill", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    static char block[65536];
    while (write(fd, block, sizeof(block)) > 0) {
    }
    close(fd);
    struct sysdiag_opts o;
    sysdiag_opts_default(&o);
    struct check_list *l = new_list();
    int rc = sysdiag_run(&o, l);
    const struct check *c = find_check(l, "disk_space");
    int status = c->status;
    char message[CHECK_TEXT_MAX], hint[CHECK_TEXT_MAX];
    snprintf(message, sizeof(message), "%s", c->message);
    snprintf(hint, sizeof(hint), "%s", c->hint);
    int cause_named = strstr(l->cause, dir) != NULL;
    free(l);
    assert_int_equal(umount(dir), 0);
    rmdir(dir);
    assert_int_equal(rc, 0);
    assert_int_equal(status, CHECK_FAIL);
    assert_has(message, dir);
    assert_has(message, "100% full");
    assert_has(hint, dir);
    assert_true(cause_named);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_bytes),
        cmocka_unit_test(test_disks),
        cmocka_unit_test(test_disks_many_named),
        cmocka_unit_test(test_inodes),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_oom_victim),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_swap),
        cmocka_unit_test(test_systemd),
        cmocka_unit_test(test_zombies),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_resolvconf_parse),
        cmocka_unit_test(test_resolvconf_loopback_and_limits),
        cmocka_unit_test(test_dns),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_docker_socket),
        cmocka_unit_test(test_docker_parsers),
        cmocka_unit_test(test_docker_eval),
        cmocka_unit_test(test_docker_probe_run),
        cmocka_unit_test(test_conclude),
        cmocka_unit_test(test_fake_root),
        cmocka_unit_test(test_real_machine),
        cmocka_unit_test(test_full_tmpfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
