/* The pure half of `diagnose system` (sysdiag.h): readings in, checks out. Nothing here
 * reads a file or the clock, so the tests drive every threshold with made-up readings. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timex.h>

#include "str.h"
#include "sysdiag.h"

#define ZOMBIE_PARENTS_MAX 8 /* parents named in the zombies message */
#define NAMED_MAX 4          /* mounts or units named in one message */
#define FINDINGS_MAX 16      /* problems one check collects before choosing its message */
#define DISK_FREE_RULE_MIN                                                                         \
    (1ull << 30) /* the "too little free" rule is for file systems                                 \
                  * at least this large; small ones go by share */

/* ---- helpers ------------------------------------------------------------------------- */

void sysdiag_format_bytes(uint64_t size, char *out, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)size;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%" PRIu64 " B", size);
    else if (v < 10.0)
        snprintf(out, cap, "%.1f %s", v, units[u]);
    else
        snprintf(out, cap, "%.0f %s", v, units[u]);
}

/* Appends ", text" (or text when dst is empty) to dst when it fits whole. */
static void join(char *dst, size_t cap, const char *text)
{
    size_t have = strlen(dst), len = strlen(text);
    size_t sep = have > 0 ? 2 : 0;
    if (have + sep + len + 1 > cap) return;
    if (sep) memcpy(dst + have, ", ", 2);
    memcpy(dst + have + sep, text, len + 1);
}

static double share(uint64_t part, uint64_t whole)
{
    return whole > 0 ? (double)part * 100.0 / (double)whole : 0.0;
}

/* Problems seen by one check; the check shows the worst, the others go to its detail. */
struct finding {
    enum check_status status;
    char message[CHECK_TEXT_MAX];
    char hint[CHECK_TEXT_MAX];
};
struct findings {
    struct finding f[FINDINGS_MAX];
    size_t n;
};

static int rank(enum check_status s)
{
    return s == CHECK_FAIL ? 2 : s == CHECK_WARN ? 1 : 0;
}

static void find(struct findings *fs, enum check_status status, const char *hint, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
static void find(struct findings *fs, enum check_status status, const char *hint, const char *fmt,
                 ...)
{
    if (fs->n >= FINDINGS_MAX) return;
    struct finding *f = &fs->f[fs->n++];
    f->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
    str_copy(f->hint, sizeof(f->hint), hint != NULL ? hint : "");
}

/* Adds the check for fs: its worst finding as message and hint, every finding in the
 * detail; ok_message when there is none. Returns the check so detail can be added. */
static struct check *emit(struct check_list *l, const char *id, const char *title,
                          const struct findings *fs, const char *ok_message)
{
    size_t worst = fs->n;
    for (size_t i = 0; i < fs->n; i++)
        if (worst == fs->n || rank(fs->f[i].status) > rank(fs->f[worst].status)) worst = i;
    if (worst == fs->n || fs->f[worst].status == CHECK_OK)
        return check_add(l, id, title, CHECK_OK, NULL, "%s", ok_message);
    const struct finding *w = &fs->f[worst];
    size_t others = 0;
    for (size_t i = 0; i < fs->n; i++)
        others += i != worst && fs->f[i].status != CHECK_OK;
    struct check *c;
    if (others > 0)
        c = check_add(l, id, title, w->status, w->hint, "%s (and %zu more: see the detail)",
                      w->message, others);
    else
        c = check_add(l, id, title, w->status, w->hint, "%s", w->message);
    for (size_t i = 0; i < fs->n; i++) {
        if (fs->f[i].status == CHECK_OK) continue;
        char line[CHECK_TEXT_MAX + 8];
        snprintf(line, sizeof(line), "%s %s", fs->f[i].status == CHECK_FAIL ? "✗" : "!",
                 fs->f[i].message);
        check_detail_line(c, line);
    }
    return c;
}

/* ---- disk space and inodes ------------------------------------------------------------ */

static enum check_status disk_status(const struct host_mount *m, const struct sysdiag_thresholds *t)
{
    if (m->readonly || m->total == 0) return CHECK_OK; /* a read-only image is full by design */
    if (m->used_pct >= t->disk_fail_pct ||
        (m->total >= DISK_FREE_RULE_MIN && m->avail < t->disk_fail_free))
        return CHECK_FAIL;
    if (m->used_pct >= t->disk_warn_pct) return CHECK_WARN;
    return CHECK_OK;
}

static enum check_status inode_status(const struct host_mount *m,
                                      const struct sysdiag_thresholds *t)
{
    if (m->readonly || m->inodes_total == 0) return CHECK_OK;
    if (m->inodes_pct >= t->inode_fail_pct) return CHECK_FAIL;
    if (m->inodes_pct >= t->inode_warn_pct) return CHECK_WARN;
    return CHECK_OK;
}

/* Shared by disk_space and inodes: names the mounts of the worst status, fullest first. */
static void eval_mounts(const struct host_mount *m, size_t n, const struct sysdiag_thresholds *t,
                        int inodes, struct check_list *l)
{
    const char *id = inodes ? "inodes" : "disk_space";
    const char *title = inodes ? "Inodes" : "Disk space";
    size_t judged = 0, fullest = n;
    enum check_status worst = CHECK_OK;
    for (size_t i = 0; i < n; i++) {
        if (inodes && m[i].inodes_total == 0) continue;
        enum check_status s = inodes ? inode_status(&m[i], t) : disk_status(&m[i], t);
        if (rank(s) > rank(worst)) worst = s;
        if (m[i].readonly) continue;
        judged++;
        double pct = inodes ? m[i].inodes_pct : m[i].used_pct;
        if (fullest == n || pct > (inodes ? m[fullest].inodes_pct : m[fullest].used_pct))
            fullest = i;
    }
    if (n == 0) {
        check_add(l, id, title, CHECK_WARN, "cat /proc/self/mountinfo",
                  "no file system could be read");
        return;
    }
    char named[CHECK_TEXT_MAX] = "", first[512] = "";
    size_t count = 0;
    if (worst != CHECK_OK) {
        /* the mounts of the worst status, fullest first (selection: n is small) */
        unsigned char used[HOST_MOUNTS_MAX] = {0};
        for (size_t k = 0; k < n && k < HOST_MOUNTS_MAX; k++) {
            size_t best = n;
            for (size_t i = 0; i < n && i < HOST_MOUNTS_MAX; i++) {
                if (used[i] || (inodes && m[i].inodes_total == 0)) continue;
                enum check_status s = inodes ? inode_status(&m[i], t) : disk_status(&m[i], t);
                if (s != worst) continue;
                double pi = inodes ? m[i].inodes_pct : m[i].used_pct;
                if (best == n || pi > (inodes ? m[best].inodes_pct : m[best].used_pct)) best = i;
            }
            if (best == n) break;
            used[best] = 1;
            count++;
            if (count > NAMED_MAX) continue;
            char free_s[32], item[700];
            if (inodes)
                snprintf(item, sizeof(item), "%s uses %.0f%% of its inodes (%" PRIu64 " free)",
                         m[best].mount, m[best].inodes_pct,
                         m[best].inodes_total - m[best].inodes_used);
            else {
                sysdiag_format_bytes(m[best].avail, free_s, sizeof(free_s));
                snprintf(item, sizeof(item), "%s is %.0f%% full (%s free)", m[best].mount,
                         m[best].used_pct, free_s);
            }
            join(named, sizeof(named), item);
            if (first[0] == '\0') str_copy(first, sizeof(first), m[best].mount);
        }
        if (count > NAMED_MAX) {
            char more[48];
            snprintf(more, sizeof(more), "and %zu more", count - NAMED_MAX);
            join(named, sizeof(named), more);
        }
    }
    char hint[CHECK_TEXT_MAX] = "";
    if (worst != CHECK_OK && inodes)
        snprintf(hint, sizeof(hint),
                 "find the folders with the most files: du --inodes -x -d 1 %s | sort -n | "
                 "tail -n 5",
                 first);
    else if (worst != CHECK_OK)
        snprintf(hint, sizeof(hint),
                 "find what fills it: du -xh -d 1 %s 2>/dev/null | sort -h | tail -n 5, then "
                 "remove or move it%s",
                 first,
                 strcmp(first, "/") == 0 || strncmp(first, "/var", 4) == 0
                     ? " (old logs: journalctl --vacuum-size=200M; Docker: docker system prune)"
                     : "");
    struct check *c;
    if (worst != CHECK_OK) {
        c = check_add(l, id, title, worst, hint, "%s", named);
    } else if (judged == 0) {
        c = check_add(l, id, title, CHECK_OK, NULL, "%zu file system%s, all read-only", n,
                      n == 1 ? "" : "s");
    } else if (inodes) {
        c = check_add(l, id, title, CHECK_OK, NULL,
                      "%zu writable file system%s with inodes; the most used is %s at %.0f%%",
                      judged, judged == 1 ? "" : "s", m[fullest].mount, m[fullest].inodes_pct);
    } else {
        char free_s[32];
        sysdiag_format_bytes(m[fullest].avail, free_s, sizeof(free_s));
        c = check_add(l, id, title, CHECK_OK, NULL,
                      "%zu writable file system%s; the fullest is %s at %.0f%% (%s free)", judged,
                      judged == 1 ? "" : "s", m[fullest].mount, m[fullest].used_pct, free_s);
    }
    for (size_t i = 0; i < n; i++) {
        char line[1024], total_s[32], free_s[32];
        if (inodes) {
            if (m[i].inodes_total == 0) continue;
            snprintf(line, sizeof(line), "%s (%s): %.1f%% of %" PRIu64 " inodes used%s", m[i].mount,
                     m[i].fstype, m[i].inodes_pct, m[i].inodes_total,
                     m[i].readonly ? ", read-only" : "");
        } else {
            sysdiag_format_bytes(m[i].total, total_s, sizeof(total_s));
            sysdiag_format_bytes(m[i].avail, free_s, sizeof(free_s));
            snprintf(line, sizeof(line), "%s (%s on %s): %.1f%% of %s used, %s free%s", m[i].mount,
                     m[i].fstype, m[i].device, m[i].used_pct, total_s, free_s,
                     m[i].readonly ? ", read-only" : "");
        }
        check_detail_line(c, line);
    }
}

void sysdiag_eval_disks(const struct host_mount *m, size_t n, const struct sysdiag_thresholds *t,
                        struct check_list *l)
{
    eval_mounts(m, n, t, 0, l);
}

void sysdiag_eval_inodes(const struct host_mount *m, size_t n, const struct sysdiag_thresholds *t,
                         struct check_list *l)
{
    eval_mounts(m, n, t, 1, l);
}

/* ---- memory, OOM kills, load, swap ---------------------------------------------------- */

#define TOP_MEM_HINT "ps -eo pid,comm,rss --sort=-rss | head -n 6"

void sysdiag_eval_memory(const struct sysdiag_memory *r, const struct sysdiag_thresholds *t,
                         struct check_list *l)
{
    if (!r->ok || r->total == 0) {
        check_add(l, "memory", "Memory", CHECK_WARN, "cat /proc/meminfo",
                  "/proc/meminfo could not be read");
        return;
    }
    double avail = share(r->available, r->total);
    char a[32], tot[32], psi[64] = "";
    sysdiag_format_bytes(r->available, a, sizeof(a));
    sysdiag_format_bytes(r->total, tot, sizeof(tot));
    if (r->psi) snprintf(psi, sizeof(psi), "; pressure %.2f%% (some, avg60)", r->psi_some_avg60);
    enum check_status s = CHECK_OK;
    if (avail < t->mem_fail_avail_pct || (r->psi && r->psi_some_avg60 > t->psi_fail))
        s = CHECK_FAIL;
    else if (avail < t->mem_warn_avail_pct || (r->psi && r->psi_some_avg60 > t->psi_warn))
        s = CHECK_WARN;
    const char *hint = s == CHECK_OK ? NULL
                                     : "find the largest processes: " TOP_MEM_HINT
                                       " (then stop, restart or limit them, or add memory)";
    const char *what = s == CHECK_OK                   ? ""
                       : avail < t->mem_warn_avail_pct ? "low memory: "
                                                       : "memory pressure: ";
    check_add(l, "memory", "Memory", s, hint, "%s%s of %s available (%.0f%%)%s", what, a, tot,
              avail, psi);
}

void sysdiag_eval_oom(const struct sysdiag_oom *r, struct check_list *l)
{
    if (!r->ok) {
        check_add(l, "oom_kills", "OOM kills", CHECK_SKIP, NULL,
                  "this kernel does not count OOM kills (no oom_kill in /proc/vmstat)");
        return;
    }
    if (r->kills == 0) {
        check_add(l, "oom_kills", "OOM kills", CHECK_OK, NULL, "no OOM kill since boot");
        return;
    }
    char latest[128];
    if (r->victim[0])
        snprintf(latest, sizeof(latest), "the latest: process %s", r->victim);
    else if (r->log_read)
        snprintf(latest, sizeof(latest), "the kernel log no longer names them");
    else
        snprintf(latest, sizeof(latest), "the kernel log is not readable to name them");
    check_add(l, "oom_kills", "OOM kills", CHECK_WARN,
              "see which and when: dmesg -T | grep -i 'killed process'; give the service more "
              "memory or a lower limit, or add swap",
              "%" PRIu64 " process%s killed by the kernel for lack of memory since boot (%s)",
              r->kills, r->kills == 1 ? "" : "es", latest);
}

void sysdiag_eval_load(int ok, const double load[3], int ncpu, const struct sysdiag_thresholds *t,
                       struct check_list *l)
{
    if (!ok) {
        check_add(l, "load", "Load", CHECK_WARN, "cat /proc/loadavg",
                  "/proc/loadavg could not be read");
        return;
    }
    if (ncpu < 1) ncpu = 1;
    double per = load[1] / (double)ncpu;
    enum check_status s = per > t->load_fail   ? CHECK_FAIL
                          : per > t->load_warn ? CHECK_WARN
                                               : CHECK_OK;
    check_add(l, "load", "Load", s,
              s == CHECK_OK ? NULL
                            : "see what runs: ps -eo pid,comm,pcpu,stat --sort=-pcpu | head -n 6 "
                              "(processes in state D wait for the disk: check iostat -x 2)",
              "load %.2f %.2f %.2f on %d core%s%s", load[0], load[1], load[2], ncpu,
              ncpu == 1 ? "" : "s",
              s == CHECK_FAIL   ? " (far more work than the cores can do)"
              : s == CHECK_WARN ? " (more work than the cores can do)"
                                : "");
}

void sysdiag_eval_swap(const struct sysdiag_memory *r, const struct sysdiag_thresholds *t,
                       struct check_list *l)
{
    if (!r->ok) {
        check_add(l, "swap", "Swap", CHECK_WARN, "cat /proc/meminfo",
                  "/proc/meminfo could not be read");
        return;
    }
    double avail = share(r->available, r->total);
    if (r->swap_total == 0) {
        if (r->total > 0 && avail < t->mem_warn_avail_pct)
            check_add(l, "swap", "Swap", CHECK_WARN,
                      "add a swap file: fallocate -l 2G /swapfile && chmod 600 /swapfile && "
                      "mkswap /swapfile && swapon /swapfile",
                      "no swap, and only %.0f%% of memory is available: the OOM killer is next",
                      avail);
        else
            check_add(l, "swap", "Swap", CHECK_OK, NULL, "no swap");
        return;
    }
    uint64_t used = r->swap_total > r->swap_free ? r->swap_total - r->swap_free : 0;
    double pct = share(used, r->swap_total);
    char u[32], tot[32];
    sysdiag_format_bytes(used, u, sizeof(u));
    sysdiag_format_bytes(r->swap_total, tot, sizeof(tot));
    enum check_status s = pct > t->swap_fail_pct   ? CHECK_FAIL
                          : pct > t->swap_warn_pct ? CHECK_WARN
                                                   : CHECK_OK;
    check_add(l, "swap", "Swap", s,
              s == CHECK_OK ? NULL
                            : "see who is swapped out: grep VmSwap /proc/[0-9]*/status | sort -k2 "
                              "-n | tail -n 5 (memory is short: " TOP_MEM_HINT ")",
              "%s of %s swap used (%.0f%%)", u, tot, pct);
}

/* ---- systemd, zombies, time ------------------------------------------------------------ */

void sysdiag_eval_systemd(const struct sysdiag_systemd *r, struct check_list *l)
{
    const char *id = "systemd_failed", *title = "Failed systemd units";
    if (!r->running) {
        check_add(l, id, title, CHECK_SKIP, NULL, "systemd is not PID 1 here (PID 1 is %s)",
                  r->pid1[0] ? r->pid1 : "unknown");
        return;
    }
    if (!r->ran) {
        check_add(l, id, title, CHECK_WARN, "which systemctl",
                  "systemd runs the machine but systemctl could not be started");
        return;
    }
    if (r->timed_out) {
        check_add(l, id, title, CHECK_WARN, "systemctl --failed",
                  "systemctl --failed did not answer within %.0f s",
                  (double)SYSDIAG_SYSTEMCTL_MS / 1000.0);
        return;
    }
    char units[CHECK_TEXT_MAX] = "", first[SYSDIAG_NAME_MAX * 2] = "";
    size_t count = 0;
    const char *p = r->output != NULL ? r->output : "";
    struct {
        char line[256];
    } shown[NAMED_MAX * 4]; /* the first units' lines, for the detail */
    size_t nshown = 0;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        size_t i = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        /* "●" or "*" before the unit when --plain was not honoured */
        if (i + 3 <= len && memcmp(p + i, "\xe2\x97\x8f", 3) == 0)
            i += 3;
        else if (i < len && p[i] == '*')
            i++;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t w = i;
        while (w < len && p[w] != ' ' && p[w] != '\t')
            w++;
        if (w > i) {
            char unit[SYSDIAG_NAME_MAX * 2];
            size_t ul = w - i < sizeof(unit) - 1 ? w - i : sizeof(unit) - 1;
            memcpy(unit, p + i, ul);
            unit[ul] = '\0';
            count++;
            if (count <= NAMED_MAX) join(units, sizeof(units), unit);
            if (first[0] == '\0') str_copy(first, sizeof(first), unit);
            if (nshown < sizeof(shown) / sizeof(shown[0])) {
                size_t ll =
                    len - i < sizeof(shown[0].line) - 1 ? len - i : sizeof(shown[0].line) - 1;
                memcpy(shown[nshown].line, p + i, ll);
                shown[nshown++].line[ll] = '\0';
            }
        }
        p += len + (e != NULL ? 1 : 0);
    }
    if (count == 0 && r->status != 0) {
        const char *e = r->errors != NULL ? r->errors : "";
        check_add(l, id, title, CHECK_WARN, "systemctl --failed",
                  "systemctl --failed exited with status %d%s%.*s", r->status, e[0] ? ": " : "",
                  (int)strcspn(e, "\n"), e);
        return;
    }
    if (count == 0) {
        check_add(l, id, title, CHECK_OK, NULL, "no failed units");
        return;
    }
    if (count > NAMED_MAX) {
        char more[48];
        snprintf(more, sizeof(more), "and %zu more", count - NAMED_MAX);
        join(units, sizeof(units), more);
    }
    char hint[CHECK_TEXT_MAX];
    snprintf(hint, sizeof(hint),
             "see why: systemctl status %s (and journalctl -u %s -n 50); once fixed, "
             "systemctl reset-failed",
             first, first);
    struct check *c = check_add(l, id, title, CHECK_FAIL, hint, "%zu failed unit%s: %s", count,
                                count == 1 ? "" : "s", units);
    for (size_t i = 0; i < nshown; i++)
        check_detail_line(c, shown[i].line);
}

void sysdiag_eval_zombies(const struct proc_table *pt, int rc, const struct sysdiag_thresholds *t,
                          struct check_list *l)
{
    if (pt == NULL) {
        check_add(l, "zombies", "Zombie processes", CHECK_WARN, "ls /proc",
                  "the process table could not be read (%s)", strerror(rc < 0 ? -rc : EIO));
        return;
    }
    struct {
        int pid;
        size_t count;
    } parents[ZOMBIE_PARENTS_MAX];
    size_t nparents = 0, zombies = 0, other_parents = 0;
    for (size_t i = 0; i < pt->n; i++) {
        if (pt->p[i].state != 'Z') continue;
        zombies++;
        size_t k = 0;
        while (k < nparents && parents[k].pid != pt->p[i].ppid)
            k++;
        if (k < nparents) {
            parents[k].count++;
        } else if (nparents < ZOMBIE_PARENTS_MAX) {
            parents[nparents].pid = pt->p[i].ppid;
            parents[nparents++].count = 1;
        } else {
            other_parents++;
        }
    }
    if (zombies == 0) {
        check_add(l, "zombies", "Zombie processes", CHECK_OK, NULL, "no zombie process among %zu",
                  pt->n);
        return;
    }
    char names[CHECK_TEXT_MAX] = "", hint[CHECK_TEXT_MAX] = "";
    for (size_t k = 0; k < nparents; k++) {
        const struct proc_info *pp = procs_find(pt, parents[k].pid);
        char item[SYSDIAG_NAME_MAX + 48];
        if (parents[k].count > 1)
            snprintf(item, sizeof(item), "%d (%s) with %zu", parents[k].pid,
                     pp != NULL ? pp->comm : "gone", parents[k].count);
        else
            snprintf(item, sizeof(item), "%d (%s)", parents[k].pid, pp != NULL ? pp->comm : "gone");
        join(names, sizeof(names), item);
    }
    if (other_parents > 0) {
        char more[64];
        snprintf(more, sizeof(more), "and %zu more", other_parents);
        join(names, sizeof(names), more);
    }
    /* the parent with the most zombies */
    size_t top = 0;
    for (size_t k = 1; k < nparents; k++)
        if (parents[k].count > parents[top].count) top = k;
    const struct proc_info *tp = nparents > 0 ? procs_find(pt, parents[top].pid) : NULL;
    snprintf(hint, sizeof(hint),
             "the parent does not reap its children: nudge it with kill -CHLD %d, else restart "
             "%s (its zombies go away with it)",
             nparents > 0 ? parents[top].pid : 0, tp != NULL ? tp->comm : "it");
    enum check_status s = (long)zombies >= t->zombies_fail ? CHECK_FAIL : CHECK_WARN;
    struct check *c = check_add(l, "zombies", "Zombie processes", s, hint,
                                "%zu zombie process%s, not reaped by %s", zombies,
                                zombies == 1 ? "" : "es", names);
    for (size_t i = 0; i < pt->n; i++) { /* every one, as far as the detail holds them */
        if (pt->p[i].state != 'Z') continue;
        const struct proc_info *pp = procs_find(pt, pt->p[i].ppid);
        char line[2 * SYSDIAG_NAME_MAX + 64];
        snprintf(line, sizeof(line), "zombie %d (%s) of parent %d (%s)", pt->p[i].pid,
                 pt->p[i].comm, pt->p[i].ppid, pp != NULL ? pp->comm : "gone");
        check_detail_line(c, line);
    }
}

void sysdiag_eval_time(const struct sysdiag_time *r, struct check_list *l)
{
    if (!r->ok) {
        check_add(l, "time_sync", "Time synchronization", CHECK_WARN, "timedatectl",
                  "the kernel's clock state could not be read (adjtimex)");
        return;
    }
    int synced = r->state != TIME_ERROR && !r->unsynced;
    if (synced) {
        check_add(l, "time_sync", "Time synchronization", CHECK_OK, NULL,
                  "clock synchronized (estimated error %.1f ms%s%s)",
                  (double)r->esterror_us / 1000.0, r->daemon[0] ? ", by " : "", r->daemon);
        return;
    }
    char hint[CHECK_TEXT_MAX];
    if (strcmp(r->daemon, "chronyd") == 0)
        snprintf(hint, sizeof(hint),
                 "see what chrony reaches: chronyc sources -v (and "
                 "chronyc tracking)");
    else if (strcmp(r->daemon, "ntpd") == 0)
        snprintf(hint, sizeof(hint), "see what ntpd reaches: ntpq -p");
    else if (r->daemon[0])
        snprintf(hint, sizeof(hint), "see its state: timedatectl timesync-status");
    else if (r->systemd)
        snprintf(hint, sizeof(hint),
                 "turn time synchronization on: timedatectl set-ntp true "
                 "(or apt install chrony)");
    else
        snprintf(hint, sizeof(hint), "install a time daemon: apt install chrony");
    if (r->daemon[0])
        check_add(l, "time_sync", "Time synchronization", CHECK_WARN, hint,
                  "clock not synchronized: %s runs but has not synchronized it yet", r->daemon);
    else
        check_add(l, "time_sync", "Time synchronization", CHECK_WARN, hint,
                  "clock not synchronized and no time daemon runs (chronyd, ntpd, "
                  "systemd-timesyncd)");
}

/* ---- DNS configuration ------------------------------------------------------------- */

void sysdiag_eval_dns(const struct sysdiag_dns *r, struct check_list *l)
{
    struct findings fs;
    memset(&fs, 0, sizeof(fs));
    const struct resolvconf *c = &r->conf;
    const char *path = r->resolv_path[0] ? r->resolv_path : "/etc/resolv.conf";
    char hint[CHECK_TEXT_MAX];
    if (r->resolv_rc != 0) {
        snprintf(hint, sizeof(hint),
                 "see where it points: ls -l %s; then name a resolver in it (nameserver "
                 "ADDRESS)",
                 path);
        find(&fs, CHECK_FAIL, hint, "%s cannot be read (%s): names cannot be resolved", path,
             strerror(-r->resolv_rc));
    } else if (c->n_ns == 0) {
        snprintf(hint, sizeof(hint), "add a line: nameserver ADDRESS to %s", path);
        find(&fs, CHECK_FAIL, hint, "%s names no nameserver", path);
    }
    size_t usable = 0;
    for (size_t i = 0; i < c->n_ns; i++) {
        const struct resolvconf_ns *ns = &c->ns[i];
        if (ns->family == 0) {
            snprintf(hint, sizeof(hint), "write an IP address after nameserver on line %d of %s",
                     ns->line, path);
            find(&fs, CHECK_WARN, hint,
                 "nameserver \"%s\" (line %d) is not an IP address: the resolver ignores it",
                 ns->addr, ns->line);
            continue;
        }
        usable++;
        if (ns->loopback && r->listening[i] == 0 && usable <= RESOLVCONF_GLIBC_NS) {
            int stub = strcmp(ns->addr, "127.0.0.53") == 0;
            snprintf(hint, sizeof(hint), "%s",
                     stub ? "start the stub resolver: systemctl start systemd-resolved (or "
                            "point resolv.conf at a real nameserver)"
                          : "start the local resolver (dnsmasq, unbound...) or name another "
                            "nameserver in resolv.conf");
            find(&fs, CHECK_FAIL, hint,
                 "nameserver %s (line %d) is this machine, but nothing listens on %s port 53",
                 ns->addr, ns->line, ns->addr);
        }
    }
    if (usable > RESOLVCONF_GLIBC_NS || c->ns_lines > c->n_ns) {
        snprintf(hint, sizeof(hint), "keep the best %d nameserver lines in %s", RESOLVCONF_GLIBC_NS,
                 path);
        find(&fs, CHECK_WARN, hint, "%zu nameservers: the C library uses only the first %d",
             c->ns_lines, RESOLVCONF_GLIBC_NS);
    }
    if (r->nsswitch_rc != 0)
        find(&fs, CHECK_WARN, "create /etc/nsswitch.conf with: hosts: files dns",
             "no readable /etc/nsswitch.conf (%s): the C library falls back to its defaults",
             strerror(-r->nsswitch_rc));
    else if (!r->nsswitch_hosts)
        find(&fs, CHECK_WARN, "add a line to /etc/nsswitch.conf: hosts: files dns",
             "/etc/nsswitch.conf has no hosts: line");
    else if (strstr(r->nsswitch_line, "dns") == NULL && strstr(r->nsswitch_line, "resolve") == NULL)
        find(&fs, CHECK_WARN, "add dns to the hosts: line of /etc/nsswitch.conf",
             "/etc/nsswitch.conf does not use DNS for host names (%s)", r->nsswitch_line);
    if (r->hosts_rc != 0)
        find(&fs, CHECK_WARN, "create /etc/hosts with: 127.0.0.1 localhost",
             "/etc/hosts cannot be read (%s)", strerror(-r->hosts_rc));
    else if (!r->hosts_localhost)
        find(&fs, CHECK_WARN, "add a line to /etc/hosts: 127.0.0.1 localhost",
             "/etc/hosts does not map localhost");
    char ok[CHECK_TEXT_MAX] = "", part[512];
    for (size_t i = 0; i < c->n_ns && i < RESOLVCONF_GLIBC_NS; i++)
        join(ok, sizeof(ok), c->ns[i].addr);
    str_fmt(part, sizeof(part), "nameserver%s %s", c->n_ns == 1 ? "" : "s", ok);
    str_copy(ok, sizeof(ok), part);
    if (c->n_search > 0) {
        char dom[300];
        snprintf(dom, sizeof(dom), "; search %s%s", c->search[0], c->n_search > 1 ? " ..." : "");
        size_t have = strlen(ok);
        str_copy(ok + have, sizeof(ok) - have, dom);
    }
    struct check *ck = emit(l, "dns", "DNS configuration", &fs, ok);
    for (size_t i = 0; i < c->n_ns; i++) {
        snprintf(part, sizeof(part), "nameserver %s (line %d)%s%s", c->ns[i].addr, c->ns[i].line,
                 c->ns[i].family == 0 ? ": not an IP address" : "",
                 !c->ns[i].loopback     ? ""
                 : r->listening[i] > 0  ? ": local, listening"
                 : r->listening[i] == 0 ? ": local, nothing listening"
                                        : ": local");
        check_detail_line(ck, part);
    }
    for (size_t i = 0; i < c->n_search; i++) {
        snprintf(part, sizeof(part), "search %s", c->search[i]);
        check_detail_line(ck, part);
    }
    if (c->options[0]) {
        snprintf(part, sizeof(part), "options %s", c->options);
        check_detail_line(ck, part);
    }
    if (r->nsswitch_hosts) {
        snprintf(part, sizeof(part), "nsswitch.conf %s", r->nsswitch_line);
        check_detail_line(ck, part);
    }
}

/* ---- open files ----------------------------------------------------------------------- */

void sysdiag_eval_files(const struct sysdiag_files *r, const struct sysdiag_thresholds *t,
                        struct check_list *l)
{
    struct findings fs;
    memset(&fs, 0, sizeof(fs));
    char soft[32], hard[32], hint[CHECK_TEXT_MAX];
    if (r->soft == UINT64_MAX)
        snprintf(soft, sizeof(soft), "unlimited");
    else
        snprintf(soft, sizeof(soft), "%" PRIu64, r->soft);
    if (r->hard == UINT64_MAX)
        snprintf(hard, sizeof(hard), "unlimited");
    else
        snprintf(hard, sizeof(hard), "%" PRIu64, r->hard);
    if (r->rlimit_ok && r->soft < t->nofile_soft_min) {
        snprintf(hint, sizeof(hint),
                 "raise it: ulimit -n %s in the shell, LimitNOFILE=65536 for a systemd service, "
                 "or nofile in /etc/security/limits.conf",
                 r->hard >= 65536 ? "65536" : hard);
        find(&fs, CHECK_WARN, hint,
             "open files limit is %s (soft; hard %s): servers need more than %" PRIu64, soft, hard,
             t->nofile_soft_min);
    }
    double pct = 0;
    uint64_t used = 0;
    if (r->nr_ok && r->max > 0) {
        used = r->allocated > r->unused ? r->allocated - r->unused : 0;
        pct = share(used, r->max);
        enum check_status s = pct > t->files_fail_pct   ? CHECK_FAIL
                              : pct > t->files_warn_pct ? CHECK_WARN
                                                        : CHECK_OK;
        if (s != CHECK_OK) {
            snprintf(hint, sizeof(hint),
                     "see who holds them: for p in /proc/[0-9]*; do echo \"$(ls $p/fd 2>/dev/null "
                     "| wc -l) $p\"; done | sort -n | tail -n 5; raise the limit: sysctl -w "
                     "fs.file-max=%" PRIu64,
                     r->max > UINT64_MAX / 2 ? r->max : r->max * 2);
            find(&fs, s, hint,
                 "%" PRIu64 " of %" PRIu64 " file handles of the system in use "
                 "(%.0f%%)",
                 used, r->max, pct);
        }
    }
    char ok[CHECK_TEXT_MAX];
    if (r->nr_ok)
        snprintf(ok, sizeof(ok),
                 "%" PRIu64 " of %" PRIu64 " file handles in use (%.1f%%); this process may "
                 "open %s (hard %s)",
                 used, r->max, pct, soft, hard);
    else
        snprintf(ok, sizeof(ok), "this process may open %s files (hard %s)", soft, hard);
    if (!r->rlimit_ok && !r->nr_ok) {
        check_add(l, "open_files", "Open files", CHECK_WARN, "cat /proc/sys/fs/file-nr",
                  "neither the open files limit nor /proc/sys/fs/file-nr could be read");
        return;
    }
    struct check *c = emit(l, "open_files", "Open files", &fs, ok);
    if (fs.n > 0) check_detail_line(c, ok);
}

/* ---- Docker --------------------------------------------------------------------------- */

static const char *start_docker_hint(int systemd)
{
    return systemd ? "start it: systemctl start docker (see why it stopped: journalctl -u "
                     "docker -n 50)"
                   : "start it: dockerd > /var/log/dockerd.log 2>&1 & (or service docker "
                     "start)";
}

void sysdiag_eval_docker(const struct sysdiag_docker *r, struct check_list *l)
{
    const struct docker_probe *p = &r->probe;
    if (r->socket_rc == -EPROTONOSUPPORT) {
        check_add(l, "docker", "Docker Engine", CHECK_SKIP, NULL,
                  "DOCKER_HOST is %s: only a local unix socket is checked", r->docker_host);
        return;
    }
    if (!p->socket_present && !r->installed) {
        check_add(l, "docker", "Docker Engine", CHECK_SKIP, NULL, "Docker Engine not installed");
        return;
    }
    if (!p->socket_present) {
        check_add(l, "docker", "Docker Engine", CHECK_FAIL, start_docker_hint(r->systemd),
                  "dockerd is installed but not running (no socket at %s)", p->socket);
        return;
    }
    if (!p->reachable) {
        const char *hint = strstr(p->error, "Permission denied") != NULL
                               ? "run as root, or join the docker group: usermod -aG docker "
                                 "$USER (then log in again)"
                           : r->systemd ? "restart it: systemctl restart docker (see why: "
                                          "journalctl -u docker -n 50)"
                                        : "restart it: pkill dockerd; dockerd > "
                                          "/var/log/dockerd.log 2>&1 &";
        check_add(l, "docker", "Docker Engine", CHECK_FAIL, hint,
                  "the Docker Engine does not answer on %s: %s", p->socket, p->error);
        return;
    }
    char api[128] = "", where[700] = "", ctr[160] = "";
    if (p->api_version[0])
        str_fmt(api, sizeof(api), " (API %s%s%s)", p->api_version, p->os_arch[0] ? ", " : "",
                p->os_arch);
    if (p->info_ok) {
        snprintf(where, sizeof(where), ", data in %s%s%s", p->root_dir, p->driver[0] ? " on " : "",
                 p->driver);
        snprintf(ctr, sizeof(ctr), "; %lld running and %lld stopped container%s, %lld image%s",
                 p->running, p->stopped, p->stopped == 1 ? "" : "s", p->images,
                 p->images == 1 ? "" : "s");
    }
    check_add(l, "docker", "Docker Engine", CHECK_OK, NULL, "Docker %s%s%s%s",
              p->version[0] ? p->version : "(version unknown)", api, where, ctr);
}

void sysdiag_eval_docker_disk(const struct sysdiag_docker *r, const struct sysdiag_thresholds *t,
                              struct check_list *l)
{
    const struct docker_probe *p = &r->probe;
    const char *id = "docker_disk", *title = "Docker disk usage";
    if (r->socket_rc == -EPROTONOSUPPORT || (!p->socket_present && !r->installed)) {
        check_add(l, id, title, CHECK_SKIP, NULL, "no local Docker Engine");
        return;
    }
    if (!p->reachable) {
        check_add(l, id, title, CHECK_SKIP, NULL, "the Docker Engine is not reachable");
        return;
    }
    struct findings fs;
    memset(&fs, 0, sizeof(fs));
    char hint[CHECK_TEXT_MAX], a[32], b[32], c2[32], d[32], e[32];
    if (!p->df_ok)
        find(&fs, CHECK_WARN, "try it by hand: docker system df",
             "the Engine's disk usage could not be read: %s", p->df_error);
    const char *root = p->root_dir[0] ? p->root_dir : "/var/lib/docker";
    if (r->root_ok) {
        enum check_status s = r->root_used_pct >= t->disk_fail_pct   ? CHECK_FAIL
                              : r->root_used_pct >= t->disk_warn_pct ? CHECK_WARN
                                                                     : CHECK_OK;
        if (s != CHECK_OK) {
            sysdiag_format_bytes(r->root_avail, a, sizeof(a));
            snprintf(hint, sizeof(hint),
                     "see what holds it: docker system df -v; free what nothing uses: docker "
                     "system prune (images too: docker image prune -a)");
            find(&fs, s, hint, "the file system of %s is %.0f%% full (%s free)", root,
                 r->root_used_pct, a);
        }
    }
    uint64_t prune = 0, all = 0;
    if (p->df_ok) {
        prune = p->ctr.reclaimable + p->cache.reclaimable;
        all = prune + p->img.reclaimable + p->vol.reclaimable;
        if (all > t->docker_reclaim_warn) {
            sysdiag_format_bytes(p->ctr.reclaimable, a, sizeof(a));
            sysdiag_format_bytes(p->cache.reclaimable, b, sizeof(b));
            sysdiag_format_bytes(p->img.reclaimable, c2, sizeof(c2));
            sysdiag_format_bytes(p->vol.reclaimable, d, sizeof(d));
            snprintf(hint, sizeof(hint),
                     "docker system prune frees the stopped containers (%s) and the build cache "
                     "(%s); docker image prune -a the unused images (%s); docker volume prune "
                     "the unused volumes (%s) - check that no data you need is in them first",
                     a, b, c2, d);
            sysdiag_format_bytes(all, e, sizeof(e));
            find(&fs, CHECK_WARN, hint, "%s of Docker data is not used by any container", e);
        }
    }
    char ok[CHECK_TEXT_MAX] = "";
    if (p->df_ok) {
        sysdiag_format_bytes(p->img.size, a, sizeof(a));
        sysdiag_format_bytes(p->ctr.size, b, sizeof(b));
        sysdiag_format_bytes(p->vol.size, c2, sizeof(c2));
        sysdiag_format_bytes(p->cache.size, d, sizeof(d));
        sysdiag_format_bytes(all, e, sizeof(e));
        snprintf(ok, sizeof(ok),
                 "images %s, containers %s, volumes %s, build cache %s (%s "
                 "reclaimable)",
                 a, b, c2, d, e);
    }
    if (r->root_ok) {
        char part[700];
        sysdiag_format_bytes(r->root_avail, a, sizeof(a));
        snprintf(part, sizeof(part), "%s%s at %.0f%% (%s free)", ok[0] ? "; " : "", root,
                 r->root_used_pct, a);
        size_t have = strlen(ok);
        str_copy(ok + have, sizeof(ok) - have, part);
    }
    struct check *c = emit(l, id, title, &fs, ok[0] ? ok : "nothing measured");
    if (p->df_ok) {
        const struct {
            const char *name;
            const struct docker_usage *u;
        } rows[] = {{"images", &p->img},
                    {"containers", &p->ctr},
                    {"volumes", &p->vol},
                    {"build cache", &p->cache}};
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            char line[256];
            sysdiag_format_bytes(rows[i].u->size, a, sizeof(a));
            sysdiag_format_bytes(rows[i].u->reclaimable, b, sizeof(b));
            snprintf(line, sizeof(line), "%s: %lld (%lld in use), %s, %s reclaimable", rows[i].name,
                     rows[i].u->count, rows[i].u->active, a, b);
            check_detail_line(c, line);
        }
    }
}

/* ---- conclusion ----------------------------------------------------------------------- */

void sysdiag_conclude(struct check_list *l)
{
    l->cause[0] = l->advice[0] = '\0';
    const struct check *pick = NULL;
    for (size_t i = 0; i < l->n && pick == NULL; i++)
        if (l->items[i].status == CHECK_FAIL) pick = &l->items[i];
    for (size_t i = 0; i < l->n && pick == NULL; i++)
        if (l->items[i].status == CHECK_WARN) pick = &l->items[i];
    if (pick == NULL) return;
    str_fmt(l->cause, sizeof(l->cause), "%s: %s", pick->title, pick->message);
    str_copy(l->advice, sizeof(l->advice), pick->hint);
}
