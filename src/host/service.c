#define _POSIX_C_SOURCE 200809L
/* Probing one service of the host (service.h).
 *
 * The order of the probe:
 *   1. the unit, when systemd runs the host (the table's unit names, else NAME.service);
 *   2. installed: a program (PATH, then the sbin directories), a unit file on disk, an init
 *      script;
 *   3. the processes: the unit's control group, else its MainPID and descendants, else (and
 *      without systemd) those whose kernel name, argv[0] basename or executable basename is
 *      one of the service's process names ("nginx: master process ..." has argv[0] "nginx:");
 *   4. their listening sockets, their uptime, systemd's restart count;
 *   5. log lines (service_logs.c);
 * Nothing of that name anywhere: found 0, a sentence, and close names to suggest. */
#include "service.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "credentials.h"
#include "params.h"
#include "str.h"
#include "sysload.h"
#include "textscan.h"

#define PROC_ROOT "/proc"
#define DEFAULT_LOG_LINES 10
#define CGROUP_PIDS_MAX 4096    /* pids read from a unit's cgroup */
#define EXE_MAX 1024            /* an executable's path */

static const char *const sbin_dirs[] = {"/usr/local/sbin", "/usr/sbin", "/sbin"};
static const char *const unit_dirs[] = {"/etc/systemd/system", "/run/systemd/system",
                                        "/lib/systemd/system", "/usr/lib/systemd/system"};

int service_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= SERVICE_NAME_MAX || name[0] == '-' || name[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(c < 0x80 && isalnum(c)) && c != '@' && c != '.' && c != '_' && c != '+' &&
            c != '-')
            return 0;
    }
    return 1;
}

/* ---- installed: programs, unit files, init scripts -------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

static int is_exec_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The first path matching the glob pattern that passes ok (NULL: any), into out. */
static int glob_first(const char *pattern, int (*ok)(const char *), char *out, size_t cap)
{
    glob_t g;
    int rc = -ENOENT;
    if (glob(pattern, 0, NULL, &g) != 0)
        return rc;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if ((ok == NULL || ok(g.gl_pathv[i])) && str_copy(out, cap, g.gl_pathv[i]) == 0) {
            rc = 0;
            break;
        }
    }
    globfree(&g);
    return rc;
}

/* Finds program name (a pattern with '*' allowed) in PATH, then the sbin directories.
 * Returns 0 with its path in out, or -ENOENT. */
static int find_program(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/') != NULL)
        return -ENOENT;
    if (strchr(name, '*') == NULL && cred_tool_find(name, out, cap) == 0)
        return 0;
    char path[SERVICE_PATH_MAX];
    if (strchr(name, '*') != NULL) {
        const char *env = getenv("PATH");
        char dirs[4096];
        str_copy(dirs, sizeof(dirs), env != NULL ? env : "/usr/local/bin:/usr/bin:/bin");
        for (char *p = dirs; *p != '\0';) {
            size_t n = strcspn(p, ":");
            char save = p[n];
            p[n] = '\0';
            int w = snprintf(path, sizeof(path), "%s/%s", p[0] != '\0' ? p : ".", name);
            int found = w > 0 && (size_t)w < sizeof(path) &&
                        glob_first(path, is_exec_file, out, cap) == 0;
            p[n] = save;
            if (found)
                return 0;
            p += n + (save == ':');
        }
    }
    for (size_t i = 0; i < sizeof(sbin_dirs) / sizeof(sbin_dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", sbin_dirs[i], name);
        if (strchr(name, '*') != NULL ? glob_first(path, is_exec_file, out, cap) == 0
                                      : is_exec_file(path) && str_copy(out, cap, path) == 0)
            return 0;
    }
    out[0] = '\0';
    return -ENOENT;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A unit file that is not a template ("postgresql@.service" starts no service itself). */
static int is_unit_file(const char *path)
{
    return is_file(path) && strstr(base_name(path), "@.") == NULL;
}

/* The names of a service's list (the table's, else the one name given); returns the count. */
static size_t names_of(const char *const list[SERVICE_KNOWN_LIST], const char *fallback,
                       const char **out)
{
    size_t n = 0;
    for (; list != NULL && n < SERVICE_KNOWN_LIST && list[n] != NULL; n++)
        out[n] = list[n];
    if (n == 0)
        out[n++] = fallback;
    return n;
}

/* Looks for a program, a unit file and an init script of the service. */
static void find_installed(struct service_info *s, const char *base, const char *unit_name)
{
    const struct service_known *k = s->known;
    const char *names[SERVICE_KNOWN_LIST];
    size_t n = names_of(k ? k->programs : NULL, base, names);
    for (size_t i = 0; i < n && s->program[0] == '\0'; i++)
        if (find_program(names[i], s->program, sizeof(s->program)) != 0)
            s->program[0] = '\0';

    const char *units[SERVICE_KNOWN_LIST];
    n = names_of(k ? k->units : NULL, unit_name, units);
    for (size_t i = 0; i < n && s->unit_file[0] == '\0'; i++) {
        for (size_t d = 0; d < sizeof(unit_dirs) / sizeof(unit_dirs[0]); d++) {
            char path[SERVICE_PATH_MAX];
            snprintf(path, sizeof(path), "%s/%s", unit_dirs[d], units[i]);
            if (glob_first(path, is_unit_file, s->unit_file, sizeof(s->unit_file)) == 0)
                break;
            s->unit_file[0] = '\0';
        }
    }
    if (s->unit.fragment_path[0] != '\0')
        str_copy(s->unit_file, sizeof(s->unit_file), s->unit.fragment_path);

    const char *inits[SERVICE_KNOWN_LIST];
    n = names_of(k ? k->init_scripts : NULL, base, inits);
    for (size_t i = 0; i < n && s->init_script[0] == '\0'; i++) {
        char path[SERVICE_PATH_MAX];
        snprintf(path, sizeof(path), "/etc/init.d/%s", inits[i]);
        if (glob_first(path, is_exec_file, s->init_script, sizeof(s->init_script)) != 0)
            s->init_script[0] = '\0';
    }
    s->installed = s->program[0] != '\0' || s->unit_file[0] != '\0' ||
                   s->init_script[0] != '\0';
}

/* ---- matching processes by name --------------------------------------------------------- */

/* argv[0] of a joined command line, up to the first space, into out. */
static void first_word(const char *cmd, char *out, size_t cap)
{
    size_t n = strcspn(cmd, " ");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, cmd, n);
    out[n] = '\0';
}

/* 1 when text equals the pattern (a trailing '*' matches any rest). */
static int name_is(const char *text, const char *pattern)
{
    size_t len = strlen(pattern);
    if (len > 0 && pattern[len - 1] == '*')
        return strncmp(text, pattern, len - 1) == 0;
    return strcmp(text, pattern) == 0;
}

/* 1 when process p is one of the names (patterns, or absolute paths matched against argv[0]
 * and the executable). */
static int proc_matches(const struct proc_info *p, const char *const *names, size_t n)
{
    char argv0[PROCS_CMD_MAX], exe[EXE_MAX];
    first_word(p->cmd, argv0, sizeof(argv0));
    size_t a0 = strlen(argv0);
    if (a0 > 0 && argv0[a0 - 1] == ':') /* a title such as "nginx: worker process" */
        argv0[a0 - 1] = '\0';
    exe[0] = '\0';
    int exe_read = 0;
    for (size_t i = 0; i < n; i++) {
        const char *want = names[i];
        if (want[0] == '/') {
            if (strcmp(argv0, want) == 0)
                return 1;
        } else {
            size_t wl = strlen(want);
            if (name_is(p->comm, want) || name_is(base_name(argv0), want))
                return 1;
            /* the kernel keeps 15 bytes of a name: "php-fpm8.2-long" */
            if (strlen(p->comm) == 15 && wl > 15 && strncmp(p->comm, want, 15) == 0)
                return 1;
        }
        if (!exe_read) {
            char link[64];
            snprintf(link, sizeof(link), PROC_ROOT "/%d/exe", p->pid);
            ssize_t len = readlink(link, exe, sizeof(exe) - 1);
            exe[len > 0 ? len : 0] = '\0';
            char *del = strstr(exe, " (deleted)");
            if (del != NULL && del[10] == '\0')
                *del = '\0';
            exe_read = 1;
        }
        if (exe[0] != '\0' && (want[0] == '/' ? strcmp(exe, want) == 0
                                              : name_is(base_name(exe), want)))
            return 1;
    }
    return 0;
}

/* ---- building the process list ---------------------------------------------------------- */

struct matched {
    const struct proc_info **v;
    size_t n, cap;
};

static int matched_add(struct matched *m, const struct proc_info *p)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i] == p)
            return 0;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        const struct proc_info **nv = realloc(m->v, cap * sizeof(*nv));
        if (nv == NULL)
            return -ENOMEM;
        m->v = nv;
        m->cap = cap;
    }
    m->v[m->n++] = p;
    return 0;
}

static int matched_has_pid(const struct matched *m, int pid)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i]->pid == pid)
            return 1;
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const struct proc_info *x = *(const struct proc_info *const *)a;
    const struct proc_info *y = *(const struct proc_info *const *)b;
    if (x->start_ticks != y->start_ticks)
        return x->start_ticks < y->start_ticks ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static int by_name_match(const struct proc_table *t, const char *const *names, size_t n,
                         struct matched *m)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct proc_info *p = &t->p[i];
        if (p->kernel || p->state == 'Z')
            continue;
        if (proc_matches(p, names, n) && matched_add(m, p) != 0)
            return -ENOMEM;
    }
    return 0;
}

/* Adds pid and its descendants (through ppid links) that are in t. */
static int with_descendants(const struct proc_table *t, int pid, struct matched *m)
{
    const struct proc_info *p = procs_find(t, pid);
    if (p == NULL)
        return 0;
    if (matched_add(m, p) != 0)
        return -ENOMEM;
    for (size_t grew = 1; grew;) { /* until a pass adds nothing: the depth is small */
        grew = 0;
        for (size_t i = 0; i < t->n; i++) {
            const struct proc_info *c = &t->p[i];
            if (!matched_has_pid(m, c->pid) && matched_has_pid(m, c->ppid) && c->state != 'Z') {
                if (matched_add(m, c) != 0)
                    return -ENOMEM;
                grew = 1;
            }
        }
    }
    return 0;
}

static int unit_is_up(const struct service_unit *u)
{
    return strcmp(u->active_state, "active") == 0 || strcmp(u->active_state, "reloading") == 0 ||
           strcmp(u->active_state, "activating") == 0;
}

/* Fills m with the service's processes (see the order at the top of the file). */
static int find_processes(struct service_info *s, const struct proc_table *t, const char *base,
                          struct matched *m)
{
    const char *names[SERVICE_KNOWN_LIST];
    size_t nn = names_of(s->known ? s->known->procs : NULL, base, names);
    if (strcmp(s->manager, "systemd") != 0)
        return by_name_match(t, names, nn, m);

    int cg_read = 0;
    if (s->unit.control_group[0] != '\0') {
        int *pids = malloc(CGROUP_PIDS_MAX * sizeof(*pids));
        if (pids == NULL)
            return -ENOMEM;
        int n = service_cgroup_pids(s->unit.control_group, pids, CGROUP_PIDS_MAX);
        if (n >= 0)
            cg_read = 1;
        for (int i = 0; i < n; i++) {
            const struct proc_info *p = procs_find(t, pids[i]);
            if (p != NULL && p->state != 'Z' && matched_add(m, p) != 0) {
                free(pids);
                return -ENOMEM;
            }
        }
        free(pids);
    }
    if (!cg_read && s->unit.main_pid > 0) {
        int rc = with_descendants(t, s->unit.main_pid, m);
        if (rc != 0)
            return rc;
    }
    if (m->n == 0) {
        int rc = by_name_match(t, names, nn, m);
        if (rc != 0)
            return rc;
        if (m->n > 0 && (!unit_is_up(&s->unit) || cg_read))
            s->outside_unit = 1;
    }
    return 0;
}

static void user_name(uid_t uid, char *out, size_t cap)
{
    struct passwd pw, *res = NULL;
    char buf[2048];
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL &&
        str_copy(out, cap, pw.pw_name) == 0)
        return;
    snprintf(out, cap, "%u", (unsigned)uid);
}

static double now_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill_processes(struct service_info *s, struct matched *m,
                           const struct service_probe_opts *o)
{
    if (m->n > 1)
        qsort(m->v, m->n, sizeof(*m->v), by_start);
    s->procs_total = m->n;
    s->running = m->n > 0;
    double up = -1, now = now_real();
    if (sysload_uptime(PROC_ROOT, &up) != 0)
        up = -1;
    sysload_meminfo mem;
    double mem_total = sysload_meminfo_read(PROC_ROOT, &mem) == 0 ? (double)mem.total : 0;
    uid_t last_uid = (uid_t)-1;
    char last_user[SERVICE_USER_MAX] = "";
    for (size_t i = 0; i < m->n && s->nprocs < SERVICE_PROCS_MAX; i++) {
        const struct proc_info *p = m->v[i];
        struct service_proc *sp = &s->procs[s->nprocs++];
        sp->pid = p->pid;
        sp->ppid = p->ppid;
        str_copy(sp->name, sizeof(sp->name), p->comm);
        str_copy(sp->cmd, sizeof(sp->cmd), p->cmd);
        if (p->uid != last_uid) {
            user_name(p->uid, last_user, sizeof(last_user));
            last_uid = p->uid;
        }
        str_copy(sp->user, sizeof(sp->user), last_user);
        sp->rss = p->rss;
        sp->state = p->state;
        sp->mem_pct = mem_total > 0 ? (double)p->rss * 100.0 / mem_total : 0;
        sp->cpu = o->prev != NULL ? procs_cpu_percent(o->prev, p, o->elapsed_s) : 0;
        double age = up >= 0 ? up - procs_start_seconds(p) : -1;
        sp->start = age >= 0 ? now - age : 0;
    }
    if (s->nprocs > 0 && s->procs[0].start > 0) {
        s->started = s->procs[0].start;
        s->uptime = now - s->started;
        if (s->uptime < 0)
            s->uptime = 0;
    } else if (strcmp(s->manager, "systemd") == 0 && unit_is_up(&s->unit) &&
               s->unit.active_enter_mono_us > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double mono = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        double age = mono - (double)s->unit.active_enter_mono_us / 1e6;
        if (age >= 0) {
            s->uptime = age;
            s->started = now - age;
        }
    }
    /* the main pid: systemd's, else the oldest process whose parent is not the service's */
    if (strcmp(s->manager, "systemd") == 0 && s->unit.main_pid > 0) {
        s->main_pid = s->unit.main_pid;
    } else {
        for (size_t i = 0; i < m->n && s->main_pid == 0; i++)
            if (!matched_has_pid(m, m->v[i]->ppid))
                s->main_pid = m->v[i]->pid;
    }
}

/* ---- listening sockets ------------------------------------------------------------------ */

static int find_sockets(struct service_info *s, const struct matched *m)
{
    if (m->n == 0)
        return 0;
    struct socket_table t = {0};
    int *pids = malloc(m->n * sizeof(*pids));
    int rc = 0;
    if (pids == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < m->n; i++)
        pids[i] = m->v[i]->pid;
    rc = sockets_read(PROC_ROOT, &t);
    if (rc == -ENOMEM)
        goto out;
    if (rc != 0)
        str_fmt(s->note, sizeof(s->note), "could not read %s/net: %s", PROC_ROOT,
                strerror(-rc));
    int unseen = sockets_owners(PROC_ROOT, &t, pids, m->n);
    if (unseen == -ENOMEM) {
        rc = unseen;
        goto out;
    }
    s->procs_unseen = unseen > 0 ? unseen : 0;
    for (size_t i = 0; i < t.n; i++) {
        const struct socket_listen *l = &t.s[i];
        if (l->pid == 0)
            continue;
        int dup = 0;
        for (size_t k = 0; k < s->nsockets && !dup; k++)
            dup = s->sockets[k].proto == l->proto && s->sockets[k].port == l->port &&
                  strcmp(s->sockets[k].addr, l->addr) == 0;
        if (dup)
            continue;
        if (s->nsockets == SERVICE_SOCKETS_MAX) {
            s->sockets_truncated = 1;
            break;
        }
        s->sockets[s->nsockets++] = *l;
    }
    if (s->procs_unseen > 0 && s->note[0] == '\0')
        str_fmt(s->note, sizeof(s->note),
                "the open sockets and files of %d of its processes could not be read "
                "(they belong to another user; run as root to see them)",
                s->procs_unseen);
    rc = 0;
out:
    sockets_free(&t);
    free(pids);
    return rc;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- not found: close names ------------------------------------------------------------- */

struct suggestion {
    const char *name;
    int dist;
};

static void suggest_add(struct suggestion *v, size_t *n, size_t cap, const char *asked,
                        const char *name)
{
    if (name == NULL || name[0] == '\0' || strcmp(name, asked) == 0)
        return;
    int d = params_distance(asked, name);
    int limit = strlen(asked) <= 4 ? 1 : 2;
    if (d > limit)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i].name, name) == 0)
            return;
    if (*n < cap)
        v[(*n)++] = (struct suggestion){name, d};
}

static int by_dist(const void *a, const void *b)
{
    const struct suggestion *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist - y->dist;
    return strcmp(x->name, y->name);
}

static void suggest(struct service_info *s, const struct proc_table *t, const char *base)
{
    enum { CAP = 64 };
    struct suggestion v[CAP];
    size_t n = 0;
    for (size_t i = 0; i < service_known_count(); i++) {
        const struct service_known *k = service_known_at(i);
        suggest_add(v, &n, CAP, base, k->name);
        for (size_t a = 0; a < SERVICE_KNOWN_LIST && k->aliases[a] != NULL; a++)
            suggest_add(v, &n, CAP, base, k->aliases[a]);
    }
    for (size_t i = 0; i < t->n; i++)
        if (!t->p[i].kernel)
            suggest_add(v, &n, CAP, base, t->p[i].comm);
    qsort(v, n, sizeof(v[0]), by_dist);
    for (size_t i = 0; i < n && s->nsuggestions < SERVICE_SUGGEST_MAX; i++)
        if (str_copy(s->suggestions[s->nsuggestions], SERVICE_NAME_MAX, v[i].name) == 0)
            s->nsuggestions++;
}

/* ---- the sentence ------------------------------------------------------------------------ */

/* "45 s", "12 min", "3 h 20 min", "4 d 2 h". */
static void format_duration(double secs, char *out, size_t cap)
{
    unsigned long long t = secs > 0 ? (unsigned long long)secs : 0;
    if (t < 60)
        snprintf(out, cap, "%llu s", t);
    else if (t < 3600)
        snprintf(out, cap, "%llu min", t / 60);
    else if (t < 86400)
        snprintf(out, cap, "%llu h %llu min", t / 3600, t / 60 % 60);
    else
        snprintf(out, cap, "%llu d %llu h", t / 86400, t / 3600 % 24);
}

static void describe(struct service_info *s)
{
    char *m = s->message;
    size_t cap = sizeof(s->message), len;
    if (!s->found) {
        if (s->systemd)
            snprintf(m, cap, "no service \"%s\" here: no systemd unit, no process and no "
                     "program of that name", s->name);
        else
            snprintf(m, cap, "no service \"%s\" here: no process, no program and no init "
                     "script of that name (systemd does not run this host)", s->name);
        for (size_t i = 0; i < s->nsuggestions; i++) {
            len = strlen(m);
            snprintf(m + len, cap - len, "%s\"%s\"", i == 0 ? "; did you mean " :
                     i + 1 == s->nsuggestions ? " or " : ", ", s->suggestions[i]);
        }
        if (s->nsuggestions > 0) {
            len = strlen(m);
            snprintf(m + len, cap - len, "?");
        }
        return;
    }
    const char *unit = s->unit.id;
    if (!s->running) {
        if (strcmp(s->manager, "systemd") == 0) {
            snprintf(m, cap, "%s is not running: %s is %s (%s)", s->name, unit,
                     s->unit.active_state, s->unit.sub_state);
            len = strlen(m);
            if (s->unit.result[0] != '\0' && strcmp(s->unit.result, "success") != 0)
                snprintf(m + len, cap - len, ", result %s", s->unit.result);
        }
        else
            snprintf(m, cap, "%s is installed (%s) but not running", s->name,
                     s->program[0] ? s->program : s->init_script[0] ? s->init_script :
                     s->unit_file);
        return;
    }
    char up[48] = "?";
    if (s->uptime >= 0)
        format_duration(s->uptime, up, sizeof(up));
    snprintf(m, cap, "%s is running: %zu process%s", s->name, s->procs_total,
             s->procs_total == 1 ? "" : "es");
    len = strlen(m);
    if (strcmp(s->manager, "systemd") == 0 && !s->outside_unit)
        snprintf(m + len, cap - len, " in %s (%s, %s)", unit, s->unit.active_state,
                 s->unit.sub_state);
    else if (s->outside_unit)
        snprintf(m + len, cap - len, " outside %s, which is %s", unit, s->unit.active_state);
    else
        snprintf(m + len, cap - len, " found by name");
    len = strlen(m);
    snprintf(m + len, cap - len, ", main pid %d, up %s", s->main_pid, up);
    for (size_t i = 0; i < s->nsockets && i < 4; i++) {
        char a[SOCKETS_ADDR_MAX + 16];
        sockets_format(&s->sockets[i], a, sizeof(a));
        len = strlen(m);
        snprintf(m + len, cap - len, "%s%s", i == 0 ? ", listening on " : ", ", a);
    }
    if (s->nsockets > 4) {
        len = strlen(m);
        snprintf(m + len, cap - len, " and %zu more", s->nsockets - 4);
    }
}

/* ---- the probe --------------------------------------------------------------------------- */

int service_probe(const char *name, const struct service_probe_opts *o,
                  struct service_info *out)
{
    static const struct service_probe_opts defaults = {.log_lines = DEFAULT_LOG_LINES};
    if (o == NULL)
        o = &defaults;
    if (!service_name_valid(name))
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    str_copy(out->name, sizeof(out->name), name);
    out->known = service_known_find(name);
    out->uptime = -1;
    out->restarts = -1;
    out->unit.n_restarts = -1;
    str_copy(out->manager, sizeof(out->manager), "process");

    char base[SERVICE_NAME_MAX], unit_name[SERVICE_NAME_MAX + 16];
    str_copy(base, sizeof(base), name);
    if (ends_with(base, ".service"))
        base[strlen(base) - 8] = '\0';
    snprintf(unit_name, sizeof(unit_name), "%s.service", base);

    struct proc_table own = {0};
    const struct proc_table *t = o->cur;
    struct matched m = {0};
    int rc = 0;
    if (t == NULL) {
        rc = procs_read(PROC_ROOT, &own);
        if (rc != 0)
            goto out;
        t = &own;
    }

    out->systemd = service_systemd_present();
    if (out->systemd) {
        const char *units[SERVICE_KNOWN_LIST];
        size_t n = names_of(out->known ? out->known->units : NULL, unit_name, units);
        if (out->known != NULL && strcmp(name, base) != 0) /* "nginx.service": that unit */
            units[0] = name, n = 1;
        int r = service_systemd_find_unit(units, n, &out->unit);
        if (r == 0)
            str_copy(out->manager, sizeof(out->manager), "systemd");
        else if (r == -ENOEXEC)
            str_copy(out->note, sizeof(out->note),
                     "systemd runs this host but systemctl could not be run");
        else if (r == -ENOMEM) {
            rc = r;
            goto out;
        }
        if (r == 0)
            out->restarts = out->unit.n_restarts;
    }
    find_installed(out, base, unit_name);

    rc = find_processes(out, t, base, &m);
    if (rc != 0)
        goto out;
    fill_processes(out, &m, o);
    rc = find_sockets(out, &m);
    if (rc != 0)
        goto out;
    out->found = out->installed || out->running || strcmp(out->manager, "systemd") == 0;
    if (out->found)
        service_logs_collect(out, base, o->log_lines);
    else
        suggest(out, t, base);
    describe(out);
out:
    free(m.v);
    procs_free(&own);
    return rc;
}

int service_main_pid(const struct service_info *s)
{
    return s->main_pid;
}

/* ---- JSON -------------------------------------------------------------------------------- */

/* A JSON string of text that may come from outside (paths): made valid UTF-8 on a copy. */
static json_t *jtext(const char *text)
{
    json_t *j = json_string(text);
    if (j != NULL)
        return j;
    char copy[SERVICE_TEXT_MAX];
    str_copy(copy, sizeof(copy), text);
    str_utf8_repair(copy, strlen(copy));
    return json_string(copy);
}

static json_t *unit_json(const struct service_unit *u)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", jtext(u->id));
    json_object_set_new(j, "load_state", json_string(u->load_state));
    json_object_set_new(j, "active_state", json_string(u->active_state));
    json_object_set_new(j, "sub_state", json_string(u->sub_state));
    json_object_set_new(j, "unit_file_state", json_string(u->unit_file_state));
    json_object_set_new(j, "result", json_string(u->result));
    json_object_set_new(j, "control_group", jtext(u->control_group));
    json_object_set_new(j, "fragment_path", jtext(u->fragment_path));
    json_object_set_new(j, "main_pid", json_integer(u->main_pid));
    json_object_set_new(j, "n_restarts", u->n_restarts >= 0 ? json_integer(u->n_restarts)
                                                            : json_null());
    json_object_set_new(j, "active_enter", jtext(u->active_enter_text));
    return j;
}

static double one_decimal(double v)
{
    return (double)(long long)(v * 10 + 0.5) / 10;
}

json_t *service_info_json(const struct service_info *s)
{
    json_t *j = json_object();
    if (j == NULL)
        return NULL;
    json_object_set_new(j, "name", json_string(s->name));
    json_object_set_new(j, "found", json_boolean(s->found));
    json_object_set_new(j, "installed", json_boolean(s->installed));
    json_object_set_new(j, "running", json_boolean(s->running));
    json_object_set_new(j, "systemd", json_boolean(s->systemd));
    json_object_set_new(j, "manager", json_string(s->manager));
    json_object_set_new(j, "program", jtext(s->program));
    json_object_set_new(j, "init_script", jtext(s->init_script));
    json_object_set_new(j, "unit_file", jtext(s->unit_file));
    int sd = strcmp(s->manager, "systemd") == 0;
    char state[2 * SERVICE_STATE_MAX + 4] = "";
    if (sd)
        snprintf(state, sizeof(state), "%s (%s)", s->unit.active_state, s->unit.sub_state);
    json_object_set_new(j, "unit", jtext(sd ? s->unit.id : ""));
    json_object_set_new(j, "state", jtext(state));
    json_object_set_new(j, "unit_info", sd ? unit_json(&s->unit) : json_null());
    json_object_set_new(j, "outside_unit", json_boolean(s->outside_unit));
    json_object_set_new(j, "main_pid", json_integer(s->main_pid));
    json_t *procs = json_array();
    for (size_t i = 0; i < s->nprocs; i++) {
        const struct service_proc *p = &s->procs[i];
        json_t *o = json_object();
        json_object_set_new(o, "pid", json_integer(p->pid));
        json_object_set_new(o, "ppid", json_integer(p->ppid));
        json_object_set_new(o, "name", jtext(p->name));
        json_object_set_new(o, "user", jtext(p->user));
        json_object_set_new(o, "cpu", json_real(one_decimal(p->cpu)));
        json_object_set_new(o, "mem_pct", json_real(one_decimal(p->mem_pct)));
        json_object_set_new(o, "rss", json_integer((json_int_t)p->rss));
        char st[2] = {p->state >= 'A' && p->state <= 'z' ? p->state : '?', '\0'};
        json_object_set_new(o, "state", json_string(st));
        json_object_set_new(o, "start", json_real(p->start));
        json_object_set_new(o, "cmd", jtext(p->cmd));
        json_array_append_new(procs, o);
    }
    json_object_set_new(j, "processes", procs);
    json_object_set_new(j, "processes_total", json_integer((json_int_t)s->procs_total));
    json_t *socks = json_array();
    for (size_t i = 0; i < s->nsockets; i++) {
        const struct socket_listen *l = &s->sockets[i];
        char text[SOCKETS_ADDR_MAX + 16];
        sockets_format(l, text, sizeof(text));
        json_t *o = json_object();
        json_object_set_new(o, "proto", json_string(sockets_proto_name(l->proto)));
        json_object_set_new(o, "address", json_string(l->addr));
        json_object_set_new(o, "port", json_integer(l->port));
        json_object_set_new(o, "pid", json_integer(l->pid));
        json_object_set_new(o, "text", json_string(text));
        json_array_append_new(socks, o);
    }
    json_object_set_new(j, "listening", socks);
    json_object_set_new(j, "ports_unreadable", json_boolean(s->procs_unseen > 0));
    json_object_set_new(j, "procs_unseen", json_integer(s->procs_unseen));
    json_object_set_new(j, "uptime", s->uptime >= 0 ? json_real(s->uptime) : json_null());
    json_object_set_new(j, "started", s->started > 0 ? json_real(s->started) : json_null());
    json_object_set_new(j, "restarts", s->restarts >= 0 ? json_integer(s->restarts)
                                                        : json_null());
    json_t *srcs = json_array();
    char joined[SERVICE_TEXT_MAX] = "";
    for (size_t i = 0; i < s->nlog_sources; i++) {
        json_array_append_new(srcs, jtext(s->log_sources[i]));
        size_t len = strlen(joined);
        snprintf(joined + len, sizeof(joined) - len, "%s%s", i ? ", " : "", s->log_sources[i]);
    }
    json_object_set_new(j, "log_sources", srcs);
    json_object_set_new(j, "log_source", jtext(joined));
    json_t *logs = json_array(), *from = json_array();
    for (size_t i = 0; i < s->nlogs; i++) {
        json_array_append_new(logs, jtext(s->logs[i].text));
        json_array_append_new(from, json_integer(s->logs[i].source));
    }
    json_object_set_new(j, "logs", logs);
    json_object_set_new(j, "log_line_sources", from);
    json_object_set_new(j, "message", jtext(s->message));
    json_t *sugg = json_array();
    for (size_t i = 0; i < s->nsuggestions; i++)
        json_array_append_new(sugg, json_string(s->suggestions[i]));
    json_object_set_new(j, "suggestions", sugg);
    json_object_set_new(j, "note", jtext(s->note));
    return j;
}

int service_name_check(const char *name, char *why, size_t cap)
{
    if (service_name_valid(name))
        return 0;
    str_fmt(why, cap, "\"%.80s\" is not a service name: use letters, digits and @ . _ + - "
            "(at most %d characters, not starting with - or .)", name, SERVICE_NAME_MAX - 1);
    return -EINVAL;
}

int service_exists(const char *name, char *why, size_t cap)
{
    int rc = service_name_check(name, why, cap);
    if (rc != 0)
        return rc;
    struct service_info *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    struct service_probe_opts o = {.log_lines = 0};
    rc = service_probe(name, &o, s);
    if (rc == 0) {
        rc = s->found;
        if (!s->found)
            str_fmt(why, cap, "%s", s->message);
    }
    free(s);
    return rc;
}

json_t *service_info_json_now(const char *name, const struct proc_table *cur,
                              const struct proc_table *prev, double elapsed_s, size_t log_lines)
{
    struct service_info *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    struct service_probe_opts o = {.cur = cur, .prev = prev, .elapsed_s = elapsed_s,
                                   .log_lines = log_lines};
    json_t *j = service_probe(name, &o, s) == 0 ? service_info_json(s) : NULL;
    free(s);
    return j;
}
