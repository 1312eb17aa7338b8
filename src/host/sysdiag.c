/* `diagnose system`: reading the host for each check (sysdiag.h); the verdicts are in
 * sysdiag_eval.c. */
#define _GNU_SOURCE
#include "sysdiag.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "credentials.h"
#include "sockets.h"
#include "str.h"
#include "sysload.h"
#include "textscan.h"

#define SMALL_FILE_MAX 4096    /* comm, file-nr, pressure */
#define VMSTAT_MAX (64u << 10) /* /proc/vmstat is about 5 KiB */
#define NSSWITCH_MAX (64u << 10)
#define HOSTS_MAX (256u << 10) /* of /etc/hosts the head: localhost is at the top */
#define KMSG_RECORD_MAX 8192   /* a /dev/kmsg record is at most this long (1 KiB text) */
#define KMSG_MS 1500L          /* the kernel log is scanned for at most this long */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dir/name into out; 0 or -ENAMETOOLONG. */
static int join_path(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Reads dir/name (its head, up to cap - 1 bytes) into buf. Returns 0 or a negative errno. */
static int read_at(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[SYSDIAG_PATH_MAX];
    buf[0] = '\0';
    if (join_path(path, sizeof(path), dir, name) != 0) return -ENAMETOOLONG;
    return text_read_file(path, buf, cap, 0);
}

void sysdiag_opts_default(struct sysdiag_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->proc_root = "/proc";
    o->etc_root = "/etc";
    struct sysdiag_thresholds *t = &o->th;
    t->disk_warn_pct = SYSDIAG_DISK_WARN_PCT;
    t->disk_fail_pct = SYSDIAG_DISK_FAIL_PCT;
    t->disk_fail_free = SYSDIAG_DISK_FAIL_FREE;
    t->inode_warn_pct = SYSDIAG_INODE_WARN_PCT;
    t->inode_fail_pct = SYSDIAG_INODE_FAIL_PCT;
    t->mem_warn_avail_pct = SYSDIAG_MEM_WARN_AVAIL_PCT;
    t->mem_fail_avail_pct = SYSDIAG_MEM_FAIL_AVAIL_PCT;
    t->psi_warn = SYSDIAG_PSI_WARN;
    t->psi_fail = SYSDIAG_PSI_FAIL;
    t->load_warn = SYSDIAG_LOAD_WARN;
    t->load_fail = SYSDIAG_LOAD_FAIL;
    t->swap_warn_pct = SYSDIAG_SWAP_WARN_PCT;
    t->swap_fail_pct = SYSDIAG_SWAP_FAIL_PCT;
    t->zombies_fail = SYSDIAG_ZOMBIES_FAIL;
    t->nofile_soft_min = SYSDIAG_NOFILE_SOFT_MIN;
    t->files_warn_pct = SYSDIAG_FILES_WARN_PCT;
    t->files_fail_pct = SYSDIAG_FILES_FAIL_PCT;
    t->docker_reclaim_warn = SYSDIAG_DOCKER_RECLAIM_WARN;
}

/* ---- small proc parsers ------------------------------------------------------------- */

/* A decimal "12.34" at *pp (digits, an optional fraction). Returns 0 or -EINVAL. */
static int parse_decimal(const char **pp, double *out)
{
    uint64_t ip = 0;
    if (text_parse_u64(pp, &ip) != 0) return -EINVAL;
    double v = (double)ip, scale = 0.1;
    if (**pp == '.') {
        (*pp)++;
        while (text_is_digit(**pp)) {
            v += (**pp - '0') * scale;
            scale /= 10.0;
            (*pp)++;
        }
    }
    *out = v;
    return 0;
}

/* The value of "key N" in a text of such lines (vmstat). Returns 0 or -ENOENT. */
static int line_value(const char *text, const char *key, uint64_t *out)
{
    size_t kl = strlen(key);
    for (const char *p = text; *p; p = text_next_line(text_line_end(p))) {
        if (strncmp(p, key, kl) != 0 || !text_is_blank(p[kl])) continue;
        const char *q = text_skip_blanks(p + kl);
        return text_parse_u64(&q, out) == 0 ? 0 : -ENOENT;
    }
    return -ENOENT;
}

/* "some avg10=0.00 avg60=1.50 avg300=0.00 total=0" of a pressure file. */
static int psi_some_avg60(const char *text, double *out)
{
    for (const char *p = text; *p; p = text_next_line(text_line_end(p))) {
        if (strncmp(p, "some ", 5) != 0) continue;
        const char *e = text_line_end(p);
        for (const char *q = p; q + 6 <= e; q++)
            if (memcmp(q, "avg60=", 6) == 0) {
                q += 6;
                return parse_decimal(&q, out);
            }
    }
    return -ENOENT;
}

/* Reads the decimal digits at [*pp, end) into *v (at most 10 digits). Returns 1 when there
 * was at least one. */
static int scan_pid(const char **pp, const char *end, long *v)
{
    const char *p = *pp;
    long n = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 10) {
        n = n * 10 + (*p - '0');
        p++;
        digits++;
    }
    *pp = p;
    *v = n;
    return digits > 0;
}

/* Copies [p, end) up to the first stop character into out (cap bytes) as a process name:
 * control characters become '?'. Returns 1 when the name is not empty. */
static int scan_name(const char *p, const char *end, char stop, char *out, size_t cap)
{
    size_t n = 0;
    while (p < end && *p != stop && n + 1 < cap) {
        unsigned char ch = (unsigned char)*p++;
        out[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    out[n] = '\0';
    str_utf8_repair(out, n);
    return n > 0;
}

int sysdiag_oom_victim(const char *line, size_t len, char *victim, size_t cap)
{
    const char *p = line, *end = line + len;
    char name[SYSDIAG_NAME_MAX];
    long pid = 0;
    if (cap > 0) victim[0] = '\0';
    /* /dev/kmsg: "prio,seq,usec,flags;text" */
    const char *semi = memchr(p, ';', len);
    if (semi != NULL && p < end && *p >= '0' && *p <= '9' &&
        memchr(p, ' ', (size_t)(semi - p)) == NULL)
        p = semi + 1;
    static const char killed[] = "Killed process ";
    const char *k = memmem(p, (size_t)(end - p), killed, sizeof(killed) - 1);
    if (k != NULL) {
        const char *q = k + sizeof(killed) - 1;
        if (scan_pid(&q, end, &pid) && end - q >= 2 && q[0] == ' ' && q[1] == '(' &&
            scan_name(q + 2, end, ')', name, sizeof(name))) {
            snprintf(victim, cap, "%ld (%s)", pid, name);
            return 1;
        }
    }
    static const char summary[] = "oom-kill:", task[] = ",task=", pidkey[] = ",pid=";
    const char *o = memmem(p, (size_t)(end - p), summary, sizeof(summary) - 1);
    if (o == NULL) return 0;
    const char *t = memmem(o, (size_t)(end - o), task, sizeof(task) - 1);
    const char *d = memmem(o, (size_t)(end - o), pidkey, sizeof(pidkey) - 1);
    if (t == NULL || d == NULL) return 0;
    const char *q = d + sizeof(pidkey) - 1;
    if (!scan_pid(&q, end, &pid) || !scan_name(t + sizeof(task) - 1, end, ',', name, sizeof(name)))
        return 0;
    snprintf(victim, cap, "%ld (%s)", pid, name);
    return 1;
}

/* ---- readings --------------------------------------------------------------------------- */

static void read_memory(const char *proc, struct sysdiag_memory *r)
{
    memset(r, 0, sizeof(*r));
    sysload_meminfo mi;
    if (sysload_meminfo_read(proc, &mi) == 0) {
        r->ok = 1;
        r->total = mi.total;
        r->available = mi.available;
        r->swap_total = mi.swap_total;
        r->swap_free = mi.swap_free;
    }
    char buf[SMALL_FILE_MAX];
    if (read_at(proc, "pressure/memory", buf, sizeof(buf)) == 0 &&
        psi_some_avg60(buf, &r->psi_some_avg60) == 0)
        r->psi = 1;
}

/* Scans the kernel log at path for the latest OOM kill, for at most KMSG_MS. */
static void read_oom_victim(const char *path, struct sysdiag_oom *r)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return;
    char *buf = malloc(2 * KMSG_RECORD_MAX);
    if (buf == NULL) {
        close(fd);
        return;
    }
    r->log_read = 1;
    size_t have = 0; /* bytes of an unfinished line at the start of buf */
    long long until = now_ms() + KMSG_MS;
    for (long i = 0; i < SYSDIAG_KMSG_RECORDS && now_ms() < until; i++) {
        ssize_t n = read(fd, buf + have, 2 * KMSG_RECORD_MAX - have);
        if (n < 0 && errno == EPIPE)
            continue; /* records overwritten while we read: go on with the next */
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        size_t len = have + (size_t)n, start = 0;
        for (size_t k = 0; k < len; k++) {
            if (buf[k] != '\n') continue;
            char v[SYSDIAG_NAME_MAX];
            if (sysdiag_oom_victim(buf + start, k - start, v, sizeof(v)))
                str_copy(r->victim, sizeof(r->victim), v);
            start = k + 1;
        }
        have = len - start;
        if (have >= KMSG_RECORD_MAX) /* a line longer than any record: drop it */
            have = 0;
        else if (have > 0 && start > 0)
            memmove(buf, buf + start, have);
    }
    if (have > 0) {
        char v[SYSDIAG_NAME_MAX];
        if (sysdiag_oom_victim(buf, have, v, sizeof(v))) str_copy(r->victim, sizeof(r->victim), v);
    }
    free(buf);
    close(fd);
}

static void read_oom(const char *proc, const char *kmsg, struct sysdiag_oom *r)
{
    memset(r, 0, sizeof(*r));
    char *buf = malloc(VMSTAT_MAX);
    if (buf == NULL) return;
    if (read_at(proc, "vmstat", buf, VMSTAT_MAX) == 0 &&
        line_value(buf, "oom_kill", &r->kills) == 0)
        r->ok = 1;
    free(buf);
    if (r->ok && r->kills > 0 && kmsg[0] != '\0') read_oom_victim(kmsg, r);
}

/* The first word of proc/1/comm. */
static void read_pid1(const char *proc, char *out, size_t cap)
{
    char buf[SMALL_FILE_MAX];
    out[0] = '\0';
    if (read_at(proc, "1/comm", buf, sizeof(buf)) == 0) {
        buf[strcspn(buf, "\n")] = '\0';
        str_copy(out, cap, buf);
        str_utf8_repair(out, strlen(out));
    }
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void check_systemd(const char *proc, const char *dir, struct check_list *l)
{
    struct sysdiag_systemd r = {0};
    r.running = is_dir(dir);
    read_pid1(proc, r.pid1, sizeof(r.pid1));
    struct cred_tool_run run = {0};
    if (r.running) {
        char tool[SYSDIAG_PATH_MAX];
        char *argv[] = {"systemctl", "--failed", "--no-legend", "--plain", "--no-pager", NULL};
        char *env[] = {"SYSTEMD_COLORS=0", "LC_ALL=C", NULL};
        if (cred_tool_find("systemctl", tool, sizeof(tool)) == 0 &&
            cred_tool_run(tool, argv, NULL, env, (int)SYSDIAG_SYSTEMCTL_MS, &run) == 0) {
            r.ran = 1;
            r.timed_out = run.timed_out;
            r.status = run.status;
            r.output = run.out;
            r.errors = run.err;
        }
    }
    sysdiag_eval_systemd(&r, l);
    if (r.ran) cred_tool_free(&run);
}

/* The name of a running time daemon in t, or "". */
static const char *time_daemon(const struct proc_table *t)
{
    static const struct {
        const char *comm, *name;
    } known[] = {{"chronyd", "chronyd"},
                 {"ntpd", "ntpd"},
                 {"systemd-timesyn", "systemd-timesyncd"},
                 {"openntpd", "openntpd"},
                 {"timesyncd", "timesyncd"}};
    for (size_t i = 0; t != NULL && i < t->n; i++)
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            if (strcmp(t->p[i].comm, known[k].comm) == 0 && t->p[i].state != 'Z')
                return known[k].name;
    return "";
}

static void check_time(const struct proc_table *t, int systemd, struct check_list *l)
{
    struct sysdiag_time r = {0};
    struct timex tx;
    memset(&tx, 0, sizeof(tx)); /* modes 0: read only */
    int state = ntp_adjtime(&tx);
    if (state >= 0) {
        r.ok = 1;
        r.state = state;
        r.unsynced = (tx.status & STA_UNSYNC) != 0;
        r.esterror_us = tx.esterror;
    }
    str_copy(r.daemon, sizeof(r.daemon), time_daemon(t));
    r.systemd = systemd;
    sysdiag_eval_time(&r, l);
}

/* 1 when a line of text starts (after blanks) with key followed by ':'; copies the line. */
static int find_nss_hosts(const char *text, char *line, size_t cap)
{
    for (const char *p = text; *p; p = text_next_line(text_line_end(p))) {
        const char *q = text_skip_blanks(p);
        if (strncmp(q, "hosts", 5) != 0) continue;
        const char *c = text_skip_blanks(q + 5);
        if (*c != ':') continue;
        const char *e = text_line_end(q);
        size_t len = (size_t)(e - q) < cap - 1 ? (size_t)(e - q) : cap - 1;
        memcpy(line, q, len);
        line[len] = '\0';
        for (size_t i = 0; i < len; i++)
            if (line[i] == '\t') line[i] = ' ';
        str_utf8_repair(line, len);
        return 1;
    }
    return 0;
}

/* 1 when a non-comment line of an /etc/hosts text names "localhost" after its address. */
static int hosts_has_localhost(const char *text)
{
    for (const char *p = text; *p; p = text_next_line(text_line_end(p))) {
        const char *e = text_line_end(p), *q = text_skip_blanks(p);
        const char *hash = memchr(q, '#', (size_t)(e - q));
        if (hash != NULL) e = hash;
        while (q < e && !text_is_blank(*q)) /* the address */
            q++;
        while (q < e) {
            q = text_skip_blanks(q);
            const char *w = q;
            while (q < e && !text_is_blank(*q))
                q++;
            if (q - w == 9 && memcmp(w, "localhost", 9) == 0) return 1;
        }
    }
    return 0;
}

/* 1 when sockets of t listen on port 53 of the loopback nameserver ns (or a wildcard). */
static int dns_listening(const struct socket_table *t, const struct resolvconf_ns *ns)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct socket_listen *s = &t->s[i];
        if (s->port != 53) continue;
        int v6 = s->proto == SOCKETS_TCP6 || s->proto == SOCKETS_UDP6;
        if (ns->family == AF_INET6 && !v6) continue;
        if (strcmp(s->addr, ns->addr) == 0 || strcmp(s->addr, "0.0.0.0") == 0 ||
            strcmp(s->addr, "::") == 0)
            return 1;
        char mapped[RESOLVCONF_ADDR_MAX + 8];
        snprintf(mapped, sizeof(mapped), "::ffff:%s", ns->addr);
        if (strcmp(s->addr, mapped) == 0) return 1;
    }
    return 0;
}

static void check_dns(const char *proc, const char *etc, struct check_list *l)
{
    struct sysdiag_dns *r = calloc(1, sizeof(*r));
    char *buf = malloc(HOSTS_MAX);
    if (r == NULL || buf == NULL) {
        check_add(l, "dns", "DNS configuration", CHECK_WARN, "run the diagnosis again",
                  "out of memory");
        goto out;
    }
    if (join_path(r->resolv_path, sizeof(r->resolv_path), etc, "resolv.conf") != 0)
        r->resolv_rc = -ENAMETOOLONG;
    else
        r->resolv_rc = resolvconf_read(r->resolv_path, &r->conf);
    int any_loopback = 0;
    for (size_t i = 0; i < r->conf.n_ns; i++) {
        r->listening[i] = -1;
        any_loopback |= r->conf.ns[i].loopback;
    }
    if (any_loopback) {
        struct socket_table st = {0};
        if (sockets_read(proc, &st) == 0)
            for (size_t i = 0; i < r->conf.n_ns; i++)
                if (r->conf.ns[i].loopback) r->listening[i] = dns_listening(&st, &r->conf.ns[i]);
        sockets_free(&st);
    }
    r->nsswitch_rc = read_at(etc, "nsswitch.conf", buf, NSSWITCH_MAX);
    if (r->nsswitch_rc == 0)
        r->nsswitch_hosts = find_nss_hosts(buf, r->nsswitch_line, sizeof(r->nsswitch_line));
    r->hosts_rc = read_at(etc, "hosts", buf, HOSTS_MAX);
    if (r->hosts_rc == 0) r->hosts_localhost = hosts_has_localhost(buf);
    sysdiag_eval_dns(r, l);
out:
    free(buf);
    free(r);
}

static void check_files(const char *proc, const struct sysdiag_thresholds *t, struct check_list *l)
{
    struct sysdiag_files r = {0};
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        r.rlimit_ok = 1;
        r.soft = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
        r.hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_max;
    }
    char buf[SMALL_FILE_MAX];
    if (read_at(proc, "sys/fs/file-nr", buf, sizeof(buf)) == 0) {
        const char *p = text_skip_blanks(buf);
        if (text_parse_u64(&p, &r.allocated) == 0 &&
            (p = text_skip_blanks(p), text_parse_u64(&p, &r.unused) == 0) &&
            (p = text_skip_blanks(p), text_parse_u64(&p, &r.max) == 0))
            r.nr_ok = 1;
    }
    sysdiag_eval_files(&r, t, l);
}

static void check_docker(const struct sysdiag_opts *o, int systemd, long long deadline,
                         struct check_list *l)
{
    struct sysdiag_docker *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        check_add(l, "docker", "Docker Engine", CHECK_WARN, "run the diagnosis again",
                  "out of memory");
        return;
    }
    r->systemd = systemd;
    char sock[DOCKER_PROBE_PATH_MAX];
    if (o->docker_socket != NULL) {
        r->socket_rc = str_copy(sock, sizeof(sock), o->docker_socket) == 0 ? 0 : -ENAMETOOLONG;
    } else {
        const char *dh = getenv("DOCKER_HOST");
        str_copy(r->docker_host, sizeof(r->docker_host), dh != NULL ? dh : "");
        r->socket_rc = docker_probe_socket(dh, sock, sizeof(sock));
    }
    if (r->socket_rc == 0) {
        char prog[SYSDIAG_PATH_MAX];
        r->installed = access(sock, F_OK) == 0 ||
                       cred_tool_find(o->dockerd_program ? o->dockerd_program : "dockerd", prog,
                                      sizeof(prog)) == 0;
        long left = (long)(deadline - now_ms());
        if (docker_probe_run(sock, SYSDIAG_DOCKER_PING_MS, SYSDIAG_DOCKER_CALL_MS,
                             SYSDIAG_DOCKER_DF_MS, left, &r->probe) != 0)
            str_copy(r->probe.error, sizeof(r->probe.error), "out of memory");
        if (r->probe.reachable && r->probe.root_dir[0] &&
            sysload_disk(r->probe.root_dir, &r->root_total, &r->root_avail, &r->root_used_pct) == 0)
            r->root_ok = 1;
    } else {
        str_copy(r->probe.socket, sizeof(r->probe.socket), sock);
    }
    sysdiag_eval_docker(r, l);
    sysdiag_eval_docker_disk(r, &o->th, l);
    free(r);
}

/* ---- the run ----------------------------------------------------------------------------- */

int sysdiag_run(const struct sysdiag_opts *o, struct check_list *l)
{
    long long deadline = now_ms() + SYSDIAG_BUDGET_MS;
    memset(l, 0, sizeof(*l));
    str_copy(l->subject, sizeof(l->subject), "system");
    const char *proc = o->proc_root != NULL ? o->proc_root : "/proc";
    const char *etc = o->etc_root != NULL ? o->etc_root : "/etc";
    const char *kmsg = o->kmsg_path != NULL ? o->kmsg_path : "/dev/kmsg";
    const char *sd = o->systemd_dir;
    if (sd == NULL) sd = getenv("CLOUDYA_SYSTEMD_DIR");
    if (sd == NULL || sd[0] == '\0') sd = SYSDIAG_SYSTEMD_DIR;
    int systemd = is_dir(sd);

    struct host_mount *m = calloc(HOST_MOUNTS_MAX, sizeof(*m));
    size_t nm = 0;
    int rc = m != NULL ? host_mounts_read(proc, m, HOST_MOUNTS_MAX, &nm) : -ENOMEM;
    if (rc != 0 && nm == 0) {
        check_add(l, "disk_space", "Disk space", CHECK_WARN, "df -h",
                  "the mounted file systems could not be listed (%s)", strerror(-rc));
        check_add(l, "inodes", "Inodes", CHECK_WARN, "df -i",
                  "the mounted file systems could not be listed (%s)", strerror(-rc));
    } else {
        sysdiag_eval_disks(m, nm, &o->th, l);
        sysdiag_eval_inodes(m, nm, &o->th, l);
    }
    free(m);

    struct sysdiag_memory mem;
    read_memory(proc, &mem);
    sysdiag_eval_memory(&mem, &o->th, l);
    struct sysdiag_oom oom;
    read_oom(proc, kmsg, &oom);
    sysdiag_eval_oom(&oom, l);
    double load[3] = {0, 0, 0};
    int lok = sysload_loadavg(proc, load) == 0;
    int ncpu = sysload_ncpu();
    sysdiag_eval_load(lok, load, ncpu > 0 ? ncpu : 1, &o->th, l);
    sysdiag_eval_swap(&mem, &o->th, l);
    check_systemd(proc, sd, l);

    struct proc_table pt = {0};
    rc = procs_read(proc, &pt);
    sysdiag_eval_zombies(rc == 0 ? &pt : NULL, rc, &o->th, l);
    check_time(rc == 0 ? &pt : NULL, systemd, l);
    procs_free(&pt);

    check_dns(proc, etc, l);
    check_files(proc, &o->th, l);
    check_docker(o, systemd, deadline, l);
    sysdiag_conclude(l);
    return 0;
}
