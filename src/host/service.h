/* One service of the host as `cloudya monitor --service NAME` shows it and `cloudya diagnose
 * service NAME` judges it: its processes (those of its systemd unit's cgroup when systemd
 * runs the host, else those whose name matches), their CPU and memory, the sockets they
 * listen on, uptime, restarts and recent log lines (the unit's journal, the service's log
 * files and the log files its processes hold open).
 *
 * A table of well-known services (known_services.c) gives, for a name or an alias, the
 * process names, unit names, usual ports, config test, log files and Debian package; any other
 * name works too, matched against process names and NAME.service.
 *
 * Nothing here needs root, but another user's processes keep their descriptors to
 * themselves: their sockets and open log files are then counted as unseen, never an error.
 *
 * Environment, for tests:
 *   CLOUDYA_SYSTEMD_DIR  the directory whose existence says "systemd runs this host"
 *                        (default /run/systemd/system, what sd_booted(3) tests);
 *   CLOUDYA_CGROUP_DIR   the cgroup file system root (default /sys/fs/cgroup);
 *   PATH                 where `systemctl`, `journalctl` and config test programs are found
 *                        (then /usr/local/sbin, /usr/sbin, /sbin). */
#ifndef CLOUDYA_HOST_SERVICE_H
#define CLOUDYA_HOST_SERVICE_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "procs.h"
#include "sockets.h"

#define SERVICE_NAME_MAX 64        /* a service name as asked: [A-Za-z0-9@._+-], no leading '-' */
#define SERVICE_UNIT_MAX 256       /* "postgresql@15-main.service" */
#define SERVICE_PATH_MAX 512       /* a program, unit file, log file or cgroup path */
#define SERVICE_STATE_MAX 32       /* "active", "auto-restart", "enabled" */
#define SERVICE_TEXT_MAX 1024      /* a sentence */
#define SERVICE_USER_MAX 32        /* a user name */
#define SERVICE_PROCS_MAX 256      /* processes kept; more are counted in procs_total */
#define SERVICE_SOCKETS_MAX 64     /* listening sockets kept */
#define SERVICE_LOG_SOURCES_MAX 8  /* the journal and log files read */
#define SERVICE_LOG_LINES_MAX 256  /* log lines kept in all */
#define SERVICE_LOG_LINE_MAX 512   /* one log line, cut there */
#define SERVICE_LOG_TAIL_MAX (256u << 10) /* bytes read from the end of one log file */
#define SERVICE_SUGGEST_MAX 5      /* close names offered when a name is unknown */
#define SERVICE_TOOL_TIMEOUT_MS 15000 /* systemctl, journalctl, a config test */

/* ---- the table of well-known services (known_services.c) ---------------------------------- */

#define SERVICE_KNOWN_LIST 6 /* entries of each list below, NULL-terminated */

struct service_known {
    const char *name;                             /* "nginx" */
    const char *aliases[SERVICE_KNOWN_LIST];      /* other names asked for: "httpd" */
    const char *procs[SERVICE_KNOWN_LIST];        /* process names; "php-fpm*" matches a prefix,
                                                     "/usr/lib/postfix/sbin/master" a path */
    const char *programs[SERVICE_KNOWN_LIST];     /* programs that show it is installed */
    const char *units[SERVICE_KNOWN_LIST];        /* systemd units, first loaded wins; '*' ok */
    const char *init_scripts[SERVICE_KNOWN_LIST]; /* names under /etc/init.d */
    unsigned ports[SERVICE_KNOWN_LIST];           /* usual TCP ports, 0-terminated */
    const char *tests[2][SERVICE_KNOWN_LIST];     /* config test argv (argv[0] a program, '*'
                                                     ok), the first whose program exists */
    int test_optional;                            /* the option may be unknown to old versions */
    const char *logs[SERVICE_KNOWN_LIST];         /* log files; glob patterns ok */
    const char *unix_socket;                      /* a socket it serves on, or NULL */
    const char *package;                          /* the Debian package */
};

/* The entry for name (a name or an alias, case-insensitive, ".service" ignored), or NULL. */
const struct service_known *service_known_find(const char *name);

/* The number of entries, and entry i (NULL past the end): for "did you mean". */
size_t service_known_count(void);
const struct service_known *service_known_at(size_t i);

/* ---- systemd (service_systemd.c) ---------------------------------------------------------- */

struct service_unit {
    char id[SERVICE_UNIT_MAX];                   /* "nginx.service"; "" when no unit */
    char load_state[SERVICE_STATE_MAX];          /* "loaded", "not-found", "masked" */
    char active_state[SERVICE_STATE_MAX];        /* "active", "failed", "activating" */
    char sub_state[SERVICE_STATE_MAX];           /* "running", "auto-restart", "dead" */
    char unit_file_state[SERVICE_STATE_MAX];     /* "enabled", "disabled", "static" */
    char result[SERVICE_STATE_MAX];              /* "success", "exit-code" */
    char control_group[SERVICE_PATH_MAX];        /* "/system.slice/nginx.service" */
    char fragment_path[SERVICE_PATH_MAX];        /* its unit file */
    char active_enter_text[64];                  /* as systemctl prints it */
    int main_pid;                                /* 0 when none */
    long n_restarts;                             /* -1 when systemd does not say */
    uint64_t active_enter_mono_us;               /* CLOCK_MONOTONIC microseconds, 0 none */
};

/* 1 when systemd runs this host: $CLOUDYA_SYSTEMD_DIR, else /run/systemd/system, is a
 * directory (sd_booted's test). */
int service_systemd_present(void);

/* Parses the "Key=Value" lines of `systemctl show` into u (zeroed first; unknown keys and
 * lines without '=' ignored, values cut at their limits). Returns 0, or -ENOENT when no Id
 * or LoadState line was there. Exported for the tests. */
int service_systemd_parse_show(const char *text, struct service_unit *u);

/* Finds the first of the unit names or patterns (n of them) that systemd has loaded and
 * fills u. Returns 0; -ENOENT when none is loaded (u->load_state says "not-found" or
 * "masked" when the first candidate said so); -ENOEXEC when systemctl is not in PATH or
 * failed to run. */
int service_systemd_find_unit(const char *const *units, size_t n, struct service_unit *u);

/* Reads the pids of control group cg (as ControlGroup says) from cgroup.procs under
 * $CLOUDYA_CGROUP_DIR or /sys/fs/cgroup (cgroup v2, then the v1 "unified" and "systemd"
 * hierarchies) into pids (cap of them). Returns the count (0 to cap), or a negative errno
 * when no such file can be read. */
int service_cgroup_pids(const char *cg, int *pids, size_t cap);

struct service_info;

/* Appends the last want lines of the journal of unit (`journalctl -u UNIT -n WANT -q -o
 * short-iso`) to s as source "journal:UNIT". Returns the number of lines added, -ENOEXEC
 * when journalctl is missing or cannot run, -EIO when it fails. */
int service_journal(struct service_info *s, const char *unit, size_t want);

/* ---- probing a service (service.c) -------------------------------------------------------- */

struct service_proc {
    int pid, ppid;
    char name[PROCS_COMM_MAX];   /* the kernel's name */
    char user[SERVICE_USER_MAX]; /* its user name, or the uid in digits */
    double cpu;                  /* percent of one core over the caller's interval, 0 first */
    uint64_t rss;                /* bytes */
    double mem_pct;              /* rss in percent of MemTotal */
    char state;                  /* R S D Z T ... as /proc/<pid>/stat says */
    double start;                /* Unix seconds */
    char cmd[PROCS_CMD_MAX];
};

struct service_log_line {
    int source;                      /* index into log_sources */
    char text[SERVICE_LOG_LINE_MAX]; /* valid UTF-8, control characters as '?' */
};

struct service_info {
    char name[SERVICE_NAME_MAX];             /* as asked */
    const struct service_known *known;       /* its table entry, or NULL */
    int found;       /* installed, or a unit, or a process: something of that name is here */
    int installed;   /* a program, a unit file or an init script exists */
    int running;     /* at least one process */
    int systemd;     /* systemd runs the host */
    char manager[16];                        /* "systemd" (a loaded unit) or "process" */
    char program[SERVICE_PATH_MAX];          /* the program found, "" when none */
    char init_script[SERVICE_PATH_MAX];      /* "/etc/init.d/nginx", "" when none */
    char unit_file[SERVICE_PATH_MAX];        /* a unit file found on disk, "" when none */
    struct service_unit unit;                /* when manager is "systemd" */
    int outside_unit; /* the unit has no process, but processes of that name run (by hand?) */
    struct service_proc procs[SERVICE_PROCS_MAX]; /* sorted by start time, oldest first */
    size_t nprocs, procs_total;              /* kept, and matched in all */
    int main_pid;                            /* service_main_pid's answer */
    struct socket_listen sockets[SERVICE_SOCKETS_MAX];
    size_t nsockets;
    int sockets_truncated;                   /* more than SERVICE_SOCKETS_MAX */
    int procs_unseen;     /* processes whose descriptors could not be read (not root) */
    double uptime;        /* seconds since the oldest process started; -1 unknown */
    double started;       /* Unix seconds of that start; 0 unknown */
    long restarts;        /* systemd's NRestarts; -1 unknown (count main pid changes) */
    char log_sources[SERVICE_LOG_SOURCES_MAX][SERVICE_PATH_MAX]; /* "journal:nginx.service"
                                                                    or a file's path */
    size_t nlog_sources;
    struct service_log_line logs[SERVICE_LOG_LINES_MAX]; /* oldest first per source */
    size_t nlogs;
    char message[SERVICE_TEXT_MAX];          /* one sentence: what is there, or why nothing */
    char suggestions[SERVICE_SUGGEST_MAX][SERVICE_NAME_MAX]; /* close names when not found */
    size_t nsuggestions;
    char note[SERVICE_TEXT_MAX]; /* what could not be seen and why; "" when all was */
};

struct service_probe_opts {
    const struct proc_table *cur;  /* the process table to use; NULL: read /proc now */
    const struct proc_table *prev; /* the table of the previous sample, for CPU; may be NULL */
    double elapsed_s;              /* seconds between prev and cur */
    size_t log_lines;              /* last lines wanted per log source (0: no logs) */
};

/* 1 when name is acceptable as a service name: 1..SERVICE_NAME_MAX-1 bytes of
 * [A-Za-z0-9@._+-], not starting with '-' or '.' (it goes to systemctl as an argument). */
int service_name_valid(const char *name);

/* Looks at the service name on this host and fills out (large: calloc it). Returns 0 with
 * out->found saying whether it exists (when not, out->message says so in a sentence and
 * out->suggestions holds close names), -EINVAL for an invalid name, -ENOMEM, or the negative
 * errno of reading /proc. o may be NULL (read /proc now, no CPU shares, 10 log lines). */
int service_probe(const char *name, const struct service_probe_opts *o,
                  struct service_info *out);

/* The pid that stands for the service: systemd's MainPID, else the oldest matched process
 * whose parent is not matched (nginx's master); 0 when nothing runs. A monitor that sees it
 * change between samples counts a restart. */
int service_main_pid(const struct service_info *s);

/* The probe as JSON (a new reference; NULL only when out of memory): {"name", "found",
 * "installed", "running", "systemd", "manager" ("systemd"|"process"), "program",
 * "init_script", "unit_file", "unit" ("nginx.service" or ""), "state" ("active (running)"
 * or ""), "unit_info": {"id","load_state","active_state","sub_state","unit_file_state",
 * "result","control_group","fragment_path","main_pid","n_restarts"|null,"active_enter"}|null,
 * "outside_unit", "main_pid", "processes": [{"pid","ppid","name","user","cpu","mem_pct",
 * "rss","state","start","cmd"}], "processes_total", "listening": [{"proto","address","port",
 * "pid","text"}], "ports_unreadable", "procs_unseen", "uptime"|null, "started"|null,
 * "restarts"|null, "log_sources": [...], "log_source" (them joined by ", "), "logs": [lines,
 * oldest first], "log_line_sources": [index into log_sources per line], "message",
 * "suggestions": [...], "note"}. */
json_t *service_info_json(const struct service_info *s);

/* 0 when name is a valid service name, else -EINVAL with a sentence saying why in why
 * (cap bytes): for the command line's usage errors. */
int service_name_check(const char *name, char *why, size_t cap);

/* Whether something called name is on this host (a quick probe without logs): 1 when it is,
 * 0 when not with the sentence saying so (and close names) in why, or a negative errno
 * (-EINVAL for an invalid name, with why filled). */
int service_exists(const char *name, char *why, size_t cap);

/* service_probe of name over the process table cur (NULL: /proc is read now), with prev and
 * elapsed_s for CPU shares (prev may be NULL), and log_lines per source, as
 * service_info_json. The monitor passes the table its host reading already holds, so one
 * sample lists the processes once. NULL when the probe failed (an invalid name, out of
 * memory, /proc unreadable). */
json_t *service_info_json_now(const char *name, const struct proc_table *cur,
                              const struct proc_table *prev, double elapsed_s,
                              size_t log_lines);

/* Appends the last want non-empty lines of text (NUL-terminated) to s under the source
 * name source (registered once; at most SERVICE_LOG_SOURCES_MAX sources). Each line is cut at
 * SERVICE_LOG_LINE_MAX, made valid UTF-8 with control characters as '?'; past
 * SERVICE_LOG_LINES_MAX lines in all the oldest kept are dropped. Returns the number of lines
 * added, or -ENOSPC when no source slot is left. */
int service_log_add_text(struct service_info *s, const char *source, const char *text,
                         size_t want);

/* Fills s->logs for the probe (service_logs.c): the unit's journal when s has one, then the
 * log files (see service_logs.c); base is the name without ".service", want the lines per
 * source (0: nothing). Problems reading the journal go to s->note. */
void service_logs_collect(struct service_info *s, const char *base, size_t want);

/* Appends the last want lines of the file path (read from at most SERVICE_LOG_TAIL_MAX
 * bytes of its end; only a regular file) to s as source path. Returns the number of lines
 * added, or a negative errno (-EINVAL for something that is not a regular file). */
int service_log_tail(struct service_info *s, const char *path, size_t want);

/* ---- diagnosing a service (service_diag.c) ------------------------------------------------ */

/* Diagnoses the service name into l (zeroed or fresh; calloc it): checks installed,
 * running, enabled, listening, config, log_errors and restarts in that order, then l->cause
 * and l->advice (the most likely cause by priority: not installed, config test failing, not
 * running, not listening where expected, restart loop, log errors, else "nothing wrong
 * found" and no advice). Returns 0 whatever it found (l says it), -EINVAL for an invalid
 * name, -ENOMEM, or the negative errno of reading /proc. */
int service_diagnose(const char *name, struct check_list *l);

/* Finds the first error line of a config test's output (text, NUL-terminated): the first
 * line holding "[emerg]", "error", "fail", "invalid" or the like, else the first non-empty
 * line; copied to out (cap bytes, "" when text is empty). Exported for the tests. */
void service_first_error_line(const char *text, char *out, size_t cap);

/* 1 when a log line reports a problem. A line that states its level ("level=error",
 * "[emerg]", "FATAL: ") is judged by it: emerg, alert, crit, err, error, fatal, panic are
 * problems, warn, notice, info, debug are not. Else it is one when it holds one of the words
 * emerg, alert, crit, critical, error, fatal, failed, failure, panic (any case, whole words). */
int service_log_line_is_error(const char *line);

#endif
