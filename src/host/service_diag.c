#define _POSIX_C_SOURCE 200809L
/* `cloudya diagnose service NAME` (service.h): the checks installed, running, enabled,
 * listening, config, log_errors and restarts over one probe of the service, then the most
 * likely cause and what to try, by priority: not installed, config test failing, not
 * running, not listening where expected, restart loop, errors in the logs.
 *
 * The config test is the table's (`nginx -t`, `apache2ctl -t`, `sshd -t`, ...), run without
 * a shell with a timeout; for nginx it tests the file the running master was started with
 * (its title "nginx: master process /usr/sbin/nginx -c FILE" keeps the command line). */
#include "service.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "credentials.h"
#include "str.h"
#include "textscan.h"

#define DIAG_LOG_LINES 200     /* log lines looked at per source */
#define DIAG_ERRORS_SHOWN 5    /* error lines put in the detail */
#define FRESH_START_S 30       /* a service younger than this may be restarting */
#define RESTART_LOOP_MIN 4     /* NRestarts from which a unit is in a restart loop */
#define TEST_ARGS_MAX 12       /* arguments of a config test */
#define OWNER_PORTS_MAX 8      /* expected ports looked up for another owner */

static char *const tool_env[] = {"LC_ALL=C", NULL};

/* ---- words in lines ---------------------------------------------------------------------- */

static int is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* 1 when line holds word (ASCII, any case) with no letter, digit or '_' on either side. */
static int has_word(const char *line, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = line; *p != '\0'; p++) {
        if (strncasecmp(p, word, wl) == 0 && (p == line || !is_word_char(p[-1])) &&
            !is_word_char(p[wl]))
            return 1;
    }
    return 0;
}

/* Severity names as logs write them, and whether each reports a problem. */
static const struct {
    const char *name;
    int error;
} levels[] = {{"emerg", 1}, {"emergency", 1}, {"alert", 1}, {"crit", 1}, {"critical", 1},
              {"err", 1}, {"error", 1}, {"fatal", 1}, {"panic", 1}, {"severe", 1},
              {"warn", 0}, {"warning", 0}, {"notice", 0}, {"info", 0}, {"debug", 0},
              {"trace", 0}, {"log", 0}, {"statement", 0}, {"detail", 0}, {"hint", 0},
              {"context", 0}};

/* The level named by the len bytes at p (any case): 1 error, 0 not, -1 not a level. */
static int level_of(const char *p, size_t len)
{
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strlen(levels[i].name) == len && strncasecmp(p, levels[i].name, len) == 0)
            return levels[i].error;
    return -1;
}

/* The severity the line states itself, the first of: "level=X" or "level":"X" (logfmt,
 * JSON), "[X]" (nginx, apache), "X: " in capitals (PostgreSQL). 1 error, 0 a lesser level,
 * -1 none stated. */
static int stated_level(const char *line)
{
    for (const char *p = line; *p != '\0'; p++) {
        const char *w = NULL;
        if (strncasecmp(p, "level=", 6) == 0 && (p == line || !is_word_char(p[-1])))
            w = p + 6 + (p[6] == '"');
        else if (strncasecmp(p, "\"level\":\"", 9) == 0)
            w = p + 9;
        else if (*p == '[')
            w = p + 1;
        else if (*p >= 'A' && *p <= 'Z' && (p == line || p[-1] == ' '))
            w = p;
        if (w == NULL)
            continue;
        size_t len = 0;
        while (is_word_char(w[len]))
            len++;
        if (len == 0 || len > 9)
            continue;
        if (w == p && *p != '[' && !(w[len] == ':' && w[len + 1] == ' '))
            continue; /* capitals count only as "ERROR: " */
        if (w == p) {
            for (size_t i = 0; i < len; i++)
                if (w[i] < 'A' || w[i] > 'Z')
                    len = 0;
            if (len == 0)
                continue;
        }
        if (*p == '[' && w[len] != ']')
            continue;
        int lv = level_of(w, len);
        if (lv >= 0)
            return lv;
    }
    return -1;
}

int service_log_line_is_error(const char *line)
{
    int lv = stated_level(line);
    if (lv >= 0)
        return lv;
    static const char *const words[] = {"emerg", "alert", "crit", "critical", "error", "fatal",
                                        "failed", "failure", "panic"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (has_word(line, words[i]))
            return 1;
    return 0;
}

void service_first_error_line(const char *text, char *out, size_t cap)
{
    static const char *const words[] = {"emerg", "alert", "crit", "error", "errors", "fatal",
                                        "failed", "fail", "invalid", "unknown", "bad",
                                        "cannot", "unrecognized", "denied", "no such"};
    const char *first = NULL, *first_end = NULL;
    out[0] = '\0';
    for (const char *p = text; *p != '\0';) {
        const char *eol = text_line_end(p);
        char line[CHECK_TEXT_MAX];
        size_t len = (size_t)(eol - p);
        if (len >= sizeof(line))
            len = sizeof(line) - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        if (!text_rest_blank(p)) {
            if (first == NULL) {
                first = p;
                first_end = p + len;
            }
            for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
                if (has_word(line, words[i])) {
                    str_copy(out, cap, line);
                    return;
                }
            }
        }
        p = text_next_line(eol);
    }
    if (first != NULL) {
        size_t len = (size_t)(first_end - first);
        if (len >= cap)
            len = cap - 1;
        memcpy(out, first, len);
        out[len] = '\0';
    }
}

/* ---- how to act on it ------------------------------------------------------------------ */

/* The command that starts the service: "systemctl start nginx.service", "service nginx
 * start (or run nginx)", or the program ("nginx"). */
static void start_command(const struct service_info *s, char *out, size_t cap)
{
    if (s->systemd && strcmp(s->manager, "systemd") == 0)
        str_fmt(out, cap, "systemctl start %s", s->unit.id);
    else if (s->init_script[0] != '\0' && s->program[0] != '\0')
        str_fmt(out, cap, "service %s start (or run %s)", strrchr(s->init_script, '/') + 1,
                strrchr(s->program, '/') ? strrchr(s->program, '/') + 1 : s->program);
    else if (s->init_script[0] != '\0')
        str_fmt(out, cap, "service %s start", strrchr(s->init_script, '/') + 1);
    else if (s->program[0] != '\0')
        str_fmt(out, cap, "%s", strrchr(s->program, '/') ? strrchr(s->program, '/') + 1 :
                                                            s->program);
    else
        str_fmt(out, cap, "start %s", s->name);
}

/* Where to read its log: "journalctl -u nginx.service -e" and/or "tail -n 50 FILE". */
static void log_command(const struct service_info *s, char *out, size_t cap)
{
    const char *file = NULL;
    for (size_t i = 0; i < s->nlog_sources; i++)
        if (s->log_sources[i][0] == '/')
            file = s->log_sources[i];
    if (file == NULL && s->known != NULL && s->known->logs[0] != NULL &&
        strchr(s->known->logs[0], '*') == NULL)
        file = s->known->logs[0];
    if (strcmp(s->manager, "systemd") == 0 && file != NULL)
        str_fmt(out, cap, "journalctl -u %s -e, tail -n 50 %s", s->unit.id, file);
    else if (strcmp(s->manager, "systemd") == 0)
        str_fmt(out, cap, "journalctl -u %s -e", s->unit.id);
    else if (file != NULL)
        str_fmt(out, cap, "tail -n 50 %s", file);
    else
        str_fmt(out, cap, "its log files");
}

/* "80, 443" */
static void port_list(const unsigned *ports, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < SERVICE_KNOWN_LIST && ports[i] != 0; i++) {
        size_t len = strlen(out);
        str_fmt(out + len, cap - len, "%s%u", i ? ", " : "", ports[i]);
    }
}

/* ---- the checks --------------------------------------------------------------------------- */

static void check_installed(const struct service_info *s, struct check_list *l)
{
    char hint[CHECK_TEXT_MAX];
    if (!s->found) {
        if (s->known != NULL)
            str_fmt(hint, sizeof(hint), "install it: apt-get install %s", s->known->package);
        else if (s->nsuggestions > 0)
            str_fmt(hint, sizeof(hint), "check the name: did you mean %s?", s->suggestions[0]);
        else
            str_fmt(hint, sizeof(hint), "check the name: %s",
                     s->systemd ? "systemctl list-units --type=service lists the services"
                                : "ps -e lists the running programs, /etc/init.d the "
                                  "installed services");
        check_add(l, "installed", "Installed", CHECK_FAIL, hint, "%s", s->message);
        return;
    }
    if (!s->installed) {
        check_add(l, "installed", "Installed", CHECK_WARN, NULL,
                  "%s runs, but no program, unit file or init script of that name was found",
                  s->name);
        return;
    }
    char what[CHECK_TEXT_MAX] = "";
    size_t len;
    if (s->program[0] != '\0')
        str_fmt(what, sizeof(what), "program %s", s->program);
    if (s->unit_file[0] != '\0') {
        len = strlen(what);
        str_fmt(what + len, sizeof(what) - len, "%sunit file %s", len ? ", " : "", s->unit_file);
    }
    if (s->init_script[0] != '\0') {
        len = strlen(what);
        str_fmt(what + len, sizeof(what) - len, "%sinit script %s", len ? ", " : "",
                 s->init_script);
    }
    check_add(l, "installed", "Installed", CHECK_OK, NULL, "installed: %s", what);
}

static void check_running(const struct service_info *s, struct check_list *l)
{
    char start[CHECK_TEXT_MAX], hint[CHECK_TEXT_MAX];
    start_command(s, start, sizeof(start));
    if (!s->running) {
        str_fmt(hint, sizeof(hint), "start it: %s", start);
        check_add(l, "running", "Running", CHECK_FAIL, hint, "%s", s->message);
        return;
    }
    if (s->outside_unit) {
        str_fmt(hint, sizeof(hint), "let systemd manage it: stop the processes started by "
                 "hand (kill %d), then %s", s->main_pid, start);
        check_add(l, "running", "Running", CHECK_WARN, hint, "%s", s->message);
        return;
    }
    struct check *c = check_add(l, "running", "Running", CHECK_OK, NULL, "%s", s->message);
    for (size_t i = 0; i < s->nprocs && i < 20; i++) {
        char line[CHECK_TEXT_MAX];
        str_fmt(line, sizeof(line), "%d %s %s", s->procs[i].pid, s->procs[i].user,
                 s->procs[i].cmd[0] ? s->procs[i].cmd : s->procs[i].name);
        check_detail_line(c, line);
    }
}

/* The rc links of init script name: 1 when an S link is in rc2..rc5, 0 when only K links,
 * -1 when none. The first S link's path goes to out. */
static int rc_links(const char *name, char *out, size_t cap)
{
    int found = -1;
    for (char lvl = '2'; lvl <= '5'; lvl++) {
        char dir[32];
        str_fmt(dir, sizeof(dir), "/etc/rc%c.d", lvl);
        DIR *d = opendir(dir);
        if (d == NULL)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            const char *n = e->d_name;
            if ((n[0] != 'S' && n[0] != 'K') || !text_is_digit(n[1]) || !text_is_digit(n[2]) ||
                strcmp(n + 3, name) != 0)
                continue;
            if (n[0] == 'S') {
                str_fmt(out, cap, "%s/%s", dir, n);
                found = 1;
                break;
            }
            found = 0;
        }
        closedir(d);
        if (found == 1)
            break;
    }
    return found;
}

static void check_enabled(const struct service_info *s, struct check_list *l)
{
    char hint[CHECK_TEXT_MAX];
    if (strcmp(s->manager, "systemd") == 0) {
        const struct service_unit *u = &s->unit;
        const char *st = u->unit_file_state;
        if (strcmp(u->load_state, "masked") == 0 || strncmp(st, "masked", 6) == 0) {
            str_fmt(hint, sizeof(hint), "unmask it: systemctl unmask %s", u->id);
            check_add(l, "enabled", "Enabled at boot", CHECK_FAIL, hint,
                      "%s is masked: it cannot be started", u->id);
        } else if (strncmp(st, "enabled", 7) == 0) {
            check_add(l, "enabled", "Enabled at boot", CHECK_OK, NULL, "%s is %s", u->id, st);
        } else if (strcmp(st, "disabled") == 0) {
            str_fmt(hint, sizeof(hint), "enable it: systemctl enable %s", u->id);
            check_add(l, "enabled", "Enabled at boot", CHECK_WARN, hint,
                      "%s is disabled: it will not start at boot", u->id);
        } else if (st[0] != '\0') {
            check_add(l, "enabled", "Enabled at boot", CHECK_OK, NULL,
                      "%s is %s (started through another unit)", u->id, st);
        } else {
            check_add(l, "enabled", "Enabled at boot", CHECK_SKIP, NULL,
                      "systemd does not say whether %s is enabled", u->id);
        }
        return;
    }
    if (s->init_script[0] != '\0') {
        const char *script = strrchr(s->init_script, '/') + 1;
        char link[CHECK_TEXT_MAX];
        int r = rc_links(script, link, sizeof(link));
        if (r == 1) {
            check_add(l, "enabled", "Enabled at boot", CHECK_OK, NULL,
                      "%s starts at boot (%s)", s->init_script, link);
            return;
        }
        if (r == 0) {
            str_fmt(hint, sizeof(hint), "enable it: update-rc.d %s enable", script);
            check_add(l, "enabled", "Enabled at boot", CHECK_WARN, hint,
                      "%s is disabled: only stop (K) links in /etc/rc2.d..rc5.d", s->init_script);
            return;
        }
    }
    check_add(l, "enabled", "Enabled at boot", CHECK_SKIP, NULL,
              s->systemd ? "no systemd unit for %s: nothing says whether it starts at boot"
                         : "systemd does not run this host and no init script links say "
                           "whether %s starts at boot",
              s->name);
}

/* The first process listening on one of ports (TCP) on the whole host, not one of s's:
 * for "port 80 is taken by apache2". Returns 1 with out filled, else 0. */
static int port_taken(const struct service_info *s, char *out, size_t cap)
{
    if (s->known == NULL || s->known->ports[0] == 0)
        return 0;
    struct socket_table t = {0};
    struct proc_table pt = {0};
    int found = 0;
    int *pids = NULL;
    if (sockets_read("/proc", &t) != 0 && t.n == 0)
        goto out;
    size_t hits = 0;
    for (size_t i = 0; i < t.n; i++)
        for (size_t k = 0; k < OWNER_PORTS_MAX && k < SERVICE_KNOWN_LIST &&
                           s->known->ports[k] != 0; k++)
            if ((t.s[i].proto == SOCKETS_TCP || t.s[i].proto == SOCKETS_TCP6) &&
                t.s[i].port == s->known->ports[k])
                hits++;
    if (hits == 0 || procs_read("/proc", &pt) != 0)
        goto out;
    pids = malloc(pt.n * sizeof(*pids) + 1);
    if (pids == NULL)
        goto out;
    for (size_t i = 0; i < pt.n; i++)
        pids[i] = pt.p[i].pid;
    sockets_owners("/proc", &t, pids, pt.n);
    for (size_t i = 0; i < t.n && !found; i++) {
        const struct socket_listen *sl = &t.s[i];
        int expected = 0;
        for (size_t k = 0; k < SERVICE_KNOWN_LIST && s->known->ports[k] != 0; k++)
            expected |= sl->port == s->known->ports[k];
        if (!expected || (sl->proto != SOCKETS_TCP && sl->proto != SOCKETS_TCP6))
            continue;
        const struct proc_info *p = sl->pid > 0 ? procs_find(&pt, sl->pid) : NULL;
        char a[SOCKETS_ADDR_MAX + 16];
        sockets_format(sl, a, sizeof(a));
        if (p != NULL)
            str_fmt(out, cap, "%s is taken by %s (pid %d)", a, p->comm, p->pid);
        else
            str_fmt(out, cap, "%s is taken by another process", a);
        found = 1;
    }
out:
    free(pids);
    procs_free(&pt);
    sockets_free(&t);
    return found;
}

static void check_listening(const struct service_info *s, struct check_list *l,
                            char *taken, size_t taken_cap)
{
    char ports[CHECK_TEXT_MAX] = "", hint[CHECK_TEXT_MAX];
    const struct service_known *k = s->known;
    if (k != NULL)
        port_list(k->ports, ports, sizeof(ports));
    if (!s->running) {
        if (port_taken(s, taken, taken_cap)) {
            str_fmt(hint, sizeof(hint), "free the port (stop that program) or change the "
                     "port in %s's configuration", s->name);
            check_add(l, "listening", "Listening", CHECK_WARN, hint, "%s is not running and %s",
                      s->name, taken);
        } else {
            check_add(l, "listening", "Listening", CHECK_SKIP, NULL, "%s is not running",
                      s->name);
        }
        return;
    }
    char list[CHECK_TEXT_MAX] = "";
    int expected_seen = 0;
    for (size_t i = 0; i < s->nsockets; i++) {
        char a[SOCKETS_ADDR_MAX + 16];
        sockets_format(&s->sockets[i], a, sizeof(a));
        size_t len = strlen(list);
        str_fmt(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", a);
        for (size_t p = 0; k != NULL && p < SERVICE_KNOWN_LIST && k->ports[p] != 0; p++)
            expected_seen |= s->sockets[i].port == k->ports[p];
    }
    struct stat st;
    int unix_ok = k != NULL && k->unix_socket != NULL && stat(k->unix_socket, &st) == 0 &&
                  S_ISSOCK(st.st_mode);
    if (s->nsockets > 0 || unix_ok) {
        char where[CHECK_TEXT_MAX];
        str_fmt(where, sizeof(where), "%s%s%s", list, unix_ok && s->nsockets ? " and " : "",
                 unix_ok ? k->unix_socket : "");
        if (ports[0] != '\0' && s->nsockets > 0 && !expected_seen)
            check_add(l, "listening", "Listening", CHECK_OK, NULL,
                      "listening on %s (not on the usual port %s)", where, ports);
        else
            check_add(l, "listening", "Listening", CHECK_OK, NULL, "listening on %s", where);
        return;
    }
    if (s->procs_unseen > 0) {
        check_add(l, "listening", "Listening", CHECK_WARN,
                  "run the diagnosis as root to see its sockets", "%s", s->note);
        return;
    }
    if (ports[0] == '\0' && (k == NULL || k->unix_socket == NULL)) {
        check_add(l, "listening", "Listening", CHECK_OK, NULL,
                  "listens on no network port (none is expected of %s)", s->name);
        return;
    }
    char logs[CHECK_TEXT_MAX];
    log_command(s, logs, sizeof(logs));
    str_fmt(hint, sizeof(hint), "check the listen settings of its configuration and its log "
             "(%s)", logs);
    if (ports[0] != '\0')
        check_add(l, "listening", "Listening", CHECK_FAIL, hint,
                  "%s runs but listens on no port (expected %s)", s->name, ports);
    else
        check_add(l, "listening", "Listening", CHECK_FAIL, hint,
                  "%s runs but %s is missing", s->name, k->unix_socket);
}

/* The config test's argv into argv/store (TEST_ARGS_MAX entries, strings in store). For
 * nginx with a running master started with -c FILE (and -p PREFIX): PROGRAM -t -c FILE.
 * Returns 0, -ENOENT when the service has no test, -ENOEXEC when its program is missing
 * (the program's name in missing). */
static int test_argv(const struct service_info *s, char **argv,
                     char store[TEST_ARGS_MAX][SERVICE_PATH_MAX], char *missing, size_t mcap)
{
    const struct service_known *k = s->known;
    if (k == NULL || k->tests[0][0] == NULL)
        return -ENOENT;
    static const char title[] = "nginx: master process ";
    if (strcmp(k->name, "nginx") == 0) {
        for (size_t i = 0; i < s->nprocs; i++) {
            const char *cmd = s->procs[i].cmd;
            if (strncmp(cmd, title, sizeof(title) - 1) != 0)
                continue;
            /* the words of the master's command line (spaces inside one are lost) */
            char words[8][SERVICE_PATH_MAX];
            size_t nw = 0;
            for (const char *p = cmd + sizeof(title) - 1; *p != '\0' && nw < 8;) {
                size_t n = strcspn(p, " ");
                if (n > 0 && n < SERVICE_PATH_MAX) {
                    memcpy(words[nw], p, n);
                    words[nw++][n] = '\0';
                }
                p += n + (p[n] == ' ');
            }
            if (nw == 0)
                break;
            size_t a = 0;
            struct stat st;
            str_copy(store[a], SERVICE_PATH_MAX,
                     words[0][0] == '/' && stat(words[0], &st) == 0 ? words[0] : "nginx");
            a++;
            str_copy(store[a++], SERVICE_PATH_MAX, "-t");
            for (size_t w = 1; w + 1 < nw && a + 2 < TEST_ARGS_MAX; w++) {
                if (strcmp(words[w], "-c") == 0 || strcmp(words[w], "-p") == 0) {
                    str_copy(store[a++], SERVICE_PATH_MAX, words[w]);
                    str_copy(store[a++], SERVICE_PATH_MAX, words[w + 1]);
                    w++;
                }
            }
            if (store[0][0] != '/' &&
                cred_tool_find("nginx", store[0], SERVICE_PATH_MAX) != 0 &&
                !(stat("/usr/sbin/nginx", &st) == 0 &&
                  str_copy(store[0], SERVICE_PATH_MAX, "/usr/sbin/nginx") == 0)) {
                str_copy(missing, mcap, "nginx");
                return -ENOEXEC;
            }
            for (size_t i2 = 0; i2 < a; i2++)
                argv[i2] = store[i2];
            argv[a] = NULL;
            return 0;
        }
    }
    for (size_t t = 0; t < 2 && k->tests[t][0] != NULL; t++) {
        char path[SERVICE_PATH_MAX];
        const char *prog = k->tests[t][0];
        int found = cred_tool_find(prog, path, sizeof(path)) == 0 && strchr(prog, '*') == NULL;
        for (size_t d = 0; !found && d < 3; d++) {
            static const char *const dirs[] = {"/usr/local/sbin", "/usr/sbin", "/sbin"};
            char pattern[SERVICE_PATH_MAX];
            str_fmt(pattern, sizeof(pattern), "%s/%s", dirs[d], prog);
            if (strchr(prog, '*') != NULL) {
                /* php-fpm8.2: the first program of that pattern */
                DIR *dd = opendir(dirs[d]);
                struct dirent *e;
                size_t plen = strcspn(prog, "*");
                while (dd != NULL && !found && (e = readdir(dd)) != NULL) {
                    if (strncmp(e->d_name, prog, plen) == 0 && e->d_name[plen] != '\0') {
                        str_fmt(pattern, sizeof(pattern), "%s/%s", dirs[d], e->d_name);
                        found = stat(pattern, &(struct stat){0}) == 0;
                        if (found)
                            str_copy(path, sizeof(path), pattern);
                    }
                }
                if (dd != NULL)
                    closedir(dd);
            } else if (stat(pattern, &(struct stat){0}) == 0) {
                found = 1;
                str_copy(path, sizeof(path), pattern);
            }
        }
        if (!found) {
            if (missing[0] == '\0')
                str_copy(missing, mcap, prog);
            continue;
        }
        size_t a = 0;
        str_copy(store[a++], SERVICE_PATH_MAX, path);
        for (size_t i = 1; i < SERVICE_KNOWN_LIST && k->tests[t][i] != NULL; i++)
            str_copy(store[a++], SERVICE_PATH_MAX, k->tests[t][i]);
        for (size_t i = 0; i < a; i++)
            argv[i] = store[i];
        argv[a] = NULL;
        return 0;
    }
    return -ENOEXEC;
}

/* The command line as shown: program basename and its arguments. */
static void show_argv(char *const *argv, char *out, size_t cap)
{
    const char *slash = strrchr(argv[0], '/');
    str_fmt(out, cap, "%s", slash ? slash + 1 : argv[0]);
    for (size_t i = 1; argv[i] != NULL; i++) {
        size_t len = strlen(out);
        str_fmt(out + len, cap - len, " %s", argv[i]);
    }
}

/* Rewrites an nginx error-log line "2025/01/02 10:00:00 [emerg] 12#12: unknown directive
 * ..." in place into the form nginx prints on a terminal: "nginx: [emerg] unknown ...". */
static void nginx_short(char *line, size_t cap)
{
    static const char shape[] = "dddd/dd/dd dd:dd:dd [";
    for (size_t i = 0; i < sizeof(shape) - 1; i++)
        if (shape[i] == 'd' ? !text_is_digit(line[i]) : line[i] != shape[i])
            return;
    char *level = line + sizeof(shape) - 2, *close = strchr(level, ']');
    if (close == NULL || close[1] != ' ')
        return;
    char *rest = close + 2;
    while (text_is_digit(*rest) || *rest == '#')
        rest++;
    if (rest[0] != ':' || rest[1] != ' ' || rest == close + 2)
        return;
    char out[CHECK_TEXT_MAX];
    str_fmt(out, sizeof(out), "nginx: %.*s %s", (int)(close + 1 - level), level, rest + 2);
    str_copy(line, cap, out);
}

/* Runs the config test; returns 1 when it failed (CHECK_FAIL), with the first error line in
 * err and the command in shown. */
static int check_config(const struct service_info *s, struct check_list *l, char *err,
                        size_t errcap, char *shown, size_t shown_cap)
{
    char *argv[TEST_ARGS_MAX + 1];
    char (*store)[SERVICE_PATH_MAX] = calloc(TEST_ARGS_MAX, SERVICE_PATH_MAX);
    char missing[SERVICE_PATH_MAX] = "", hint[CHECK_TEXT_MAX];
    int failed = 0;
    if (store == NULL) {
        check_add(l, "config", "Configuration test", CHECK_SKIP, NULL, "out of memory");
        return 0;
    }
    int rc = test_argv(s, argv, store, missing, sizeof(missing));
    if (rc == -ENOENT) {
        check_add(l, "config", "Configuration test", CHECK_SKIP, NULL,
                  "no configuration test is known for %s", s->name);
        goto out;
    }
    if (rc != 0) {
        check_add(l, "config", "Configuration test", CHECK_SKIP, NULL,
                  "the configuration test needs %s, which is not installed", missing);
        goto out;
    }
    show_argv(argv, shown, shown_cap);
    struct cred_tool_run r;
    if (cred_tool_run(argv[0], argv, NULL, tool_env, SERVICE_TOOL_TIMEOUT_MS, &r) != 0) {
        check_add(l, "config", "Configuration test", CHECK_SKIP, NULL, "%s could not be run",
                  shown);
        cred_tool_free(&r);
        goto out;
    }
    size_t olen = r.out_len + r.err_len + 2;
    char *all = malloc(olen);
    if (all == NULL) {
        cred_tool_free(&r);
        goto out;
    }
    str_fmt(all, olen, "%s%s%s", r.err, r.err_len && r.out_len ? "\n" : "", r.out);
    if (s->known->test_optional && r.status != 0 &&
        (strstr(all, "unknown option") || strstr(all, "unrecognized option") ||
         strstr(all, "unknown flag") || strstr(all, "unknown variable"))) {
        check_add(l, "config", "Configuration test", CHECK_SKIP, NULL,
                  "this version of %s has no configuration test (%s is not known to it)",
                  s->name, argv[1]);
    } else {
        struct check *c;
        if (r.timed_out) {
            c = check_add(l, "config", "Configuration test", CHECK_WARN, NULL,
                          "%s did not finish within %d s", shown,
                          SERVICE_TOOL_TIMEOUT_MS / 1000);
        } else if (r.status == 0) {
            c = check_add(l, "config", "Configuration test", CHECK_OK, NULL,
                          "%s: the configuration test passed", shown);
        } else {
            service_first_error_line(all, err, errcap);
            if (strcmp(s->known->name, "nginx") == 0)
                nginx_short(err, errcap);
            if (err[0] == '\0')
                str_fmt(err, errcap, "%s exited with status %d", shown, r.status);
            str_fmt(hint, sizeof(hint), "fix the configuration, then check it again: %s",
                     shown);
            c = check_add(l, "config", "Configuration test", CHECK_FAIL, hint, "%s", err);
            failed = 1;
        }
        for (const char *p = all; *p != '\0';) {
            const char *eol = text_line_end(p);
            char line[CHECK_TEXT_MAX];
            size_t len = (size_t)(eol - p);
            if (len >= sizeof(line))
                len = sizeof(line) - 1;
            memcpy(line, p, len);
            line[len] = '\0';
            if (len > 0)
                check_detail_line(c, line);
            p = text_next_line(eol);
        }
    }
    free(all);
    cred_tool_free(&r);
out:
    free(store);
    return failed;
}

/* Counts error lines; the latest goes to latest. Returns the count. */
static size_t check_logs(const struct service_info *s, struct check_list *l, char *latest,
                         size_t latest_cap)
{
    char sources[CHECK_TEXT_MAX] = "", hint[CHECK_TEXT_MAX], logs[CHECK_TEXT_MAX];
    for (size_t i = 0; i < s->nlog_sources; i++) {
        size_t len = strlen(sources);
        str_fmt(sources + len, sizeof(sources) - len, "%s%s", i ? ", " : "",
                 s->log_sources[i]);
    }
    if (s->nlog_sources == 0) {
        check_add(l, "log_errors", "Errors in the logs", CHECK_SKIP, NULL,
                  "no log found for %s (no journal, no log file)", s->name);
        return 0;
    }
    size_t count = 0, last = 0;
    for (size_t i = 0; i < s->nlogs; i++)
        if (service_log_line_is_error(s->logs[i].text)) {
            count++;
            last = i;
        }
    if (count == 0) {
        check_add(l, "log_errors", "Errors in the logs", CHECK_OK, NULL,
                  "no error in the last %zu lines of %s", s->nlogs, sources);
        return 0;
    }
    str_copy(latest, latest_cap, s->logs[last].text);
    log_command(s, logs, sizeof(logs));
    str_fmt(hint, sizeof(hint), "read them in context: %s", logs);
    struct check *c = check_add(l, "log_errors", "Errors in the logs", CHECK_WARN, hint,
                                "%zu error line%s in the last %zu lines of %s; the latest: %s",
                                count, count == 1 ? "" : "s", s->nlogs, sources, latest);
    /* the latest DIAG_ERRORS_SHOWN, oldest first */
    size_t first = count > DIAG_ERRORS_SHOWN ? count - DIAG_ERRORS_SHOWN : 0, seen = 0;
    for (size_t i = 0; i < s->nlogs; i++)
        if (service_log_line_is_error(s->logs[i].text) && seen++ >= first)
            check_detail_line(c, s->logs[i].text);
    return count;
}

/* Returns 1 for a restart loop (CHECK_FAIL). */
static int check_restarts(const struct service_info *s, struct check_list *l)
{
    char hint[CHECK_TEXT_MAX], logs[CHECK_TEXT_MAX];
    log_command(s, logs, sizeof(logs));
    if (strcmp(s->manager, "systemd") == 0) {
        const struct service_unit *u = &s->unit;
        int auto_restart = strcmp(u->sub_state, "auto-restart") == 0;
        if (auto_restart || u->n_restarts >= RESTART_LOOP_MIN) {
            str_fmt(hint, sizeof(hint), "see why it exits: %s", logs);
            if (u->n_restarts >= 0)
                check_add(l, "restarts", "Restarts", CHECK_FAIL, hint,
                          "restart loop: systemd restarted %s %ld times (%s (%s))", u->id,
                          u->n_restarts, u->active_state, u->sub_state);
            else
                check_add(l, "restarts", "Restarts", CHECK_FAIL, hint,
                          "restart loop: %s is %s (%s)", u->id, u->active_state, u->sub_state);
            return 1;
        }
        if (u->n_restarts > 0) {
            str_fmt(hint, sizeof(hint), "see why it exited: %s", logs);
            check_add(l, "restarts", "Restarts", CHECK_WARN, hint,
                      "systemd restarted %s %ld time%s", u->id, u->n_restarts,
                      u->n_restarts == 1 ? "" : "s");
        } else if (u->n_restarts == 0) {
            check_add(l, "restarts", "Restarts", CHECK_OK, NULL,
                      "systemd has not had to restart %s", u->id);
        } else {
            check_add(l, "restarts", "Restarts", CHECK_SKIP, NULL,
                      "this systemd does not count restarts (NRestarts needs systemd 235)");
        }
        return 0;
    }
    if (s->running && s->uptime >= 0 && s->uptime < FRESH_START_S) {
        str_fmt(hint, sizeof(hint), "look again in a minute: a new main pid each time means "
                 "it keeps restarting (%s)", logs);
        check_add(l, "restarts", "Restarts", CHECK_WARN, hint,
                  "%s started %.0f s ago: a fresh start, or a crash and a restart", s->name,
                  s->uptime);
        return 0;
    }
    check_add(l, "restarts", "Restarts", CHECK_SKIP, NULL,
              "without systemd nobody counts restarts here (`cloudya monitor --service %s` "
              "counts changes of its main pid)",
              s->name);
    return 0;
}

/* ---- the diagnosis ------------------------------------------------------------------------ */

static void skip_rest(struct check_list *l, const char *why)
{
    static const char *const ids[][2] = {{"running", "Running"},
                                         {"enabled", "Enabled at boot"},
                                         {"listening", "Listening"},
                                         {"config", "Configuration test"},
                                         {"log_errors", "Errors in the logs"},
                                         {"restarts", "Restarts"}};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        check_add(l, ids[i][0], ids[i][1], CHECK_SKIP, NULL, "%s", why);
}

static const struct check *find_check(const struct check_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].id, id) == 0)
            return &l->items[i];
    return NULL;
}

int service_diagnose(const char *name, struct check_list *l)
{
    if (!service_name_valid(name))
        return -EINVAL;
    struct service_info *s = calloc(1, sizeof(*s));
    char *buf = calloc(4, CHECK_TEXT_MAX);
    int rc = -ENOMEM;
    if (s == NULL || buf == NULL)
        goto out;
    char *err = buf, *shown = buf + CHECK_TEXT_MAX, *latest = buf + 2 * CHECK_TEXT_MAX;
    char *taken = buf + 3 * CHECK_TEXT_MAX;
    struct service_probe_opts o = {.log_lines = DIAG_LOG_LINES};
    rc = service_probe(name, &o, s);
    if (rc != 0)
        goto out;
    str_fmt(l->subject, sizeof(l->subject), "service %s", name);

    check_installed(s, l);
    if (!s->found) {
        skip_rest(l, s->known != NULL ? "not installed" : "no such service here");
        str_fmt(l->cause, sizeof(l->cause), "%s", s->message);
        if (s->known != NULL)
            str_fmt(l->advice, sizeof(l->advice), "install it: apt-get install %s",
                     s->known->package);
        else
            str_fmt(l->advice, sizeof(l->advice), "%s", find_check(l, "installed")->hint);
        goto out;
    }
    check_running(s, l);
    check_enabled(s, l);
    check_listening(s, l, taken, CHECK_TEXT_MAX);
    int config_failed = check_config(s, l, err, CHECK_TEXT_MAX, shown, CHECK_TEXT_MAX);
    size_t errors = check_logs(s, l, latest, CHECK_TEXT_MAX);
    int loop = check_restarts(s, l);

    const struct check *listening = find_check(l, "listening");
    char start[CHECK_TEXT_MAX], logs[CHECK_TEXT_MAX];
    start_command(s, start, sizeof(start));
    log_command(s, logs, sizeof(logs));
    if (config_failed) {
        str_fmt(l->cause, sizeof(l->cause), "the configuration test fails: %s", err);
        if (s->running)
            str_fmt(l->advice, sizeof(l->advice), "fix the configuration and check it with "
                     "`%s` before a reload or restart: %s runs on the old configuration until "
                     "then", shown, s->name);
        else
            str_fmt(l->advice, sizeof(l->advice), "fix the configuration, check it with `%s`, "
                     "then start it: %s", shown, start);
    } else if (!s->running) {
        size_t len;
        str_fmt(l->cause, sizeof(l->cause), "%s is not running", s->name);
        if (taken[0] != '\0') {
            len = strlen(l->cause);
            str_fmt(l->cause + len, sizeof(l->cause) - len, "; %s", taken);
        }
        if (latest[0] != '\0') {
            len = strlen(l->cause);
            str_fmt(l->cause + len, sizeof(l->cause) - len, "; its last logged error: %s",
                     latest);
        }
        str_fmt(l->advice, sizeof(l->advice), "start it: %s, then see whether it stays up "
                 "(%s)", start, logs);
    } else if (listening != NULL && listening->status == CHECK_FAIL) {
        str_fmt(l->cause, sizeof(l->cause), "%s", listening->message);
        str_fmt(l->advice, sizeof(l->advice), "%s", listening->hint);
    } else if (loop) {
        str_fmt(l->cause, sizeof(l->cause), "%s is in a restart loop: %s", s->name,
                 find_check(l, "restarts")->message);
        str_fmt(l->advice, sizeof(l->advice), "see why it exits: %s", logs);
    } else if (errors > 0) {
        str_fmt(l->cause, sizeof(l->cause), "%s runs, but its logs show %zu recent error "
                 "line%s; the latest: %s", s->name, errors, errors == 1 ? "" : "s", latest);
        str_fmt(l->advice, sizeof(l->advice), "read them in context: %s", logs);
    } else {
        l->cause[0] = '\0'; /* all is well: no cause (check.h) */
        l->advice[0] = '\0';
    }
    rc = 0;
out:
    free(buf);
    free(s);
    return rc;
}
