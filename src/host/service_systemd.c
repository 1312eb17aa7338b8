#define _POSIX_C_SOURCE 200809L
/* What systemd knows of a service (service.h): whether systemd runs the host, a unit's
 * state through `systemctl show`, the pids of its control group, its journal.
 *
 * systemctl and journalctl are run without a shell through cred_tool_run, found in PATH (so
 * tests can put fakes first), with LC_ALL=C and colours off; a service name reaches them
 * only after service_name_valid, so it never reads as an option. */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "credentials.h"
#include "str.h"
#include "textscan.h"

#define CGROUP_PROCS_MAX (256u << 10) /* bytes of a cgroup.procs file read */
#define PATTERN_UNITS_MAX 8           /* units a pattern expands to, tried in order */

static char *const tool_env[] = {"LC_ALL=C", "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", NULL};

int service_systemd_present(void)
{
    const char *dir = getenv("CLOUDYA_SYSTEMD_DIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/run/systemd/system";
    struct stat st;
    return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Copies the value (from v to the end of its line) into dst (cap bytes), cut there. */
static void copy_value(char *dst, size_t cap, const char *v, const char *eol)
{
    size_t n = (size_t)(eol - v);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
    str_utf8_repair(dst, n);
}

/* Parses a whole non-negative decimal value (v to eol) into *out. Returns 0 or -EINVAL. */
static int value_u64(const char *v, const char *eol, uint64_t *out)
{
    const char *p = v;
    if (text_parse_u64(&p, out) != 0 || p != eol)
        return -EINVAL;
    return 0;
}

int service_systemd_parse_show(const char *text, struct service_unit *u)
{
    memset(u, 0, sizeof(*u));
    u->n_restarts = -1;
    int have = 0;
    for (const char *p = text; *p != '\0';) {
        const char *eol = text_line_end(p);
        const char *eq = memchr(p, '=', (size_t)(eol - p));
        if (eq != NULL) {
            size_t klen = (size_t)(eq - p);
            const char *v = eq + 1;
            uint64_t n;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(p, k, klen) == 0)
            if (KEY("Id")) {
                copy_value(u->id, sizeof(u->id), v, eol);
                have = 1;
            } else if (KEY("LoadState")) {
                copy_value(u->load_state, sizeof(u->load_state), v, eol);
                have = 1;
            } else if (KEY("ActiveState")) {
                copy_value(u->active_state, sizeof(u->active_state), v, eol);
            } else if (KEY("SubState")) {
                copy_value(u->sub_state, sizeof(u->sub_state), v, eol);
            } else if (KEY("UnitFileState")) {
                copy_value(u->unit_file_state, sizeof(u->unit_file_state), v, eol);
            } else if (KEY("Result")) {
                copy_value(u->result, sizeof(u->result), v, eol);
            } else if (KEY("ControlGroup")) {
                copy_value(u->control_group, sizeof(u->control_group), v, eol);
            } else if (KEY("FragmentPath")) {
                copy_value(u->fragment_path, sizeof(u->fragment_path), v, eol);
            } else if (KEY("ActiveEnterTimestamp")) {
                copy_value(u->active_enter_text, sizeof(u->active_enter_text), v, eol);
            } else if (KEY("ActiveEnterTimestampMonotonic")) {
                if (value_u64(v, eol, &n) == 0)
                    u->active_enter_mono_us = n;
            } else if (KEY("MainPID")) {
                if (value_u64(v, eol, &n) == 0 && n <= INT32_MAX)
                    u->main_pid = (int)n;
            } else if (KEY("NRestarts")) {
                if (value_u64(v, eol, &n) == 0 && n <= INT32_MAX)
                    u->n_restarts = (long)n;
            }
#undef KEY
        }
        p = text_next_line(eol);
    }
    return have ? 0 : -ENOENT;
}

/* Runs systemctl with argv (after "systemctl") into r. Returns 0 when it ran, -ENOEXEC when
 * it is missing or could not be started. */
static int run_systemctl(const char *const *args, size_t nargs, struct cred_tool_run *r)
{
    char path[SERVICE_PATH_MAX];
    if (cred_tool_find("systemctl", path, sizeof(path)) != 0)
        return -ENOEXEC;
    char *argv[16];
    if (nargs + 2 > sizeof(argv) / sizeof(argv[0]))
        return -EINVAL;
    argv[0] = "systemctl";
    for (size_t i = 0; i < nargs; i++)
        argv[i + 1] = (char *)args[i];
    argv[nargs + 1] = NULL;
    if (cred_tool_run(path, argv, NULL, tool_env, SERVICE_TOOL_TIMEOUT_MS, r) != 0) {
        cred_tool_free(r);
        return -ENOEXEC;
    }
    return 0;
}

/* `systemctl show` of one unit into u. Returns 0, -ENOENT (no answer), -ENOEXEC. */
static int show_unit(const char *unit, struct service_unit *u)
{
    const char *args[] = {"show",
                          "--property=Id,LoadState,ActiveState,SubState,UnitFileState,Result,"
                          "ControlGroup,FragmentPath,MainPID,NRestarts,ActiveEnterTimestamp,"
                          "ActiveEnterTimestampMonotonic",
                          "--", unit};
    struct cred_tool_run r;
    int rc = run_systemctl(args, sizeof(args) / sizeof(args[0]), &r);
    if (rc != 0)
        return rc;
    rc = service_systemd_parse_show(r.out, u);
    cred_tool_free(&r);
    return rc;
}

/* Expands a unit pattern ("php*-fpm.service") into up to PATTERN_UNITS_MAX names (each
 * SERVICE_UNIT_MAX bytes), loaded units first, then unit files; templates ("x@.service")
 * left out. Returns the count. */
static size_t expand_pattern(const char *pattern, char names[][SERVICE_UNIT_MAX])
{
    static const char *const lists[2][7] = {
        {"list-units", "--all", "--plain", "--no-legend", "--full", "--", NULL},
        {"list-unit-files", "--no-legend", "--full", "--", NULL},
    };
    size_t n = 0;
    for (size_t l = 0; l < 2; l++) {
        const char *args[8];
        size_t na = 0;
        while (lists[l][na] != NULL) {
            args[na] = lists[l][na];
            na++;
        }
        args[na++] = pattern;
        struct cred_tool_run r;
        if (run_systemctl(args, na, &r) != 0)
            continue;
        for (const char *p = r.out; *p != '\0' && n < PATTERN_UNITS_MAX;) {
            const char *eol = text_line_end(p);
            const char *s = text_skip_blanks(p);
            const char *e = s;
            while (e < eol && !text_is_blank(*e))
                e++;
            size_t len = (size_t)(e - s);
            int keep = len > 0 && len < SERVICE_UNIT_MAX;
            for (size_t i = 0; i < n && keep; i++)
                keep = !(strlen(names[i]) == len && memcmp(names[i], s, len) == 0);
            if (keep) {
                memcpy(names[n], s, len);
                names[n][len] = '\0';
                /* a template ("x@.service") cannot be shown; odd bytes are not a unit */
                if (strstr(names[n], "@.") == NULL && !str_has_control(names[n], len) &&
                    str_is_utf8(names[n], len))
                    n++;
            }
            p = text_next_line(eol);
        }
        cred_tool_free(&r);
    }
    return n;
}

int service_systemd_find_unit(const char *const *units, size_t n, struct service_unit *u)
{
    struct service_unit first = {.n_restarts = -1};
    int have_first = 0, ran = 0;
    char (*names)[SERVICE_UNIT_MAX] = calloc(PATTERN_UNITS_MAX, SERVICE_UNIT_MAX);
    if (names == NULL)
        return -ENOMEM;
    int rc = -ENOENT;
    for (size_t i = 0; i < n; i++) {
        size_t nn;
        if (strchr(units[i], '*') != NULL) {
            nn = expand_pattern(units[i], names);
        } else {
            str_copy(names[0], SERVICE_UNIT_MAX, units[i]);
            nn = 1;
        }
        for (size_t k = 0; k < nn; k++) {
            struct service_unit cand;
            int r = show_unit(names[k], &cand);
            if (r == -ENOEXEC)
                continue;
            ran = 1;
            if (r != 0)
                continue;
            if (strcmp(cand.load_state, "loaded") == 0 || strcmp(cand.load_state, "masked") == 0) {
                *u = cand;
                rc = 0;
                goto out;
            }
            if (!have_first) {
                first = cand;
                have_first = 1;
            }
        }
    }
    *u = first;
    if (!ran)
        rc = -ENOEXEC;
out:
    free(names);
    return rc;
}

/* 1 when cg is an absolute path without "." or ".." parts, else 0. */
static int cgroup_path_ok(const char *cg)
{
    if (cg[0] != '/')
        return 0;
    for (const char *p = cg; *p != '\0';) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += len;
    }
    return 1;
}

int service_cgroup_pids(const char *cg, int *pids, size_t cap)
{
    if (!cgroup_path_ok(cg))
        return -EINVAL;
    const char *root = getenv("CLOUDYA_CGROUP_DIR");
    if (root == NULL || root[0] == '\0')
        root = "/sys/fs/cgroup";
    static const char *const hier[] = {"", "/unified", "/systemd"};
    char *buf = malloc(CGROUP_PROCS_MAX);
    if (buf == NULL)
        return -ENOMEM;
    int rc = -ENOENT;
    for (size_t h = 0; h < sizeof(hier) / sizeof(hier[0]); h++) {
        char path[2 * SERVICE_PATH_MAX];
        int w = snprintf(path, sizeof(path), "%s%s%s/cgroup.procs", root, hier[h],
                         strcmp(cg, "/") == 0 ? "" : cg);
        if (w < 0 || (size_t)w >= sizeof(path))
            continue;
        int r = text_read_file(path, buf, CGROUP_PROCS_MAX, 0);
        if (r != 0) {
            if (rc == -ENOENT)
                rc = r;
            continue;
        }
        size_t n = 0;
        for (const char *p = buf; *p != '\0' && n < cap;) {
            const char *eol = text_line_end(p);
            uint64_t v;
            const char *q = p;
            if (text_parse_u64(&q, &v) == 0 && q == eol && v > 0 && v <= INT32_MAX)
                pids[n++] = (int)v;
            p = text_next_line(eol);
        }
        rc = (int)n;
        break;
    }
    free(buf);
    return rc;
}

int service_journal(struct service_info *s, const char *unit, size_t want)
{
    char path[SERVICE_PATH_MAX];
    if (cred_tool_find("journalctl", path, sizeof(path)) != 0)
        return -ENOEXEC;
    char nbuf[24];
    snprintf(nbuf, sizeof(nbuf), "%zu", want);
    char *argv[] = {"journalctl", "-u", (char *)unit, "-n", nbuf, "--no-pager", "-q",
                    "-o", "short-iso", NULL};
    struct cred_tool_run r;
    if (cred_tool_run(path, argv, NULL, tool_env, SERVICE_TOOL_TIMEOUT_MS, &r) != 0) {
        cred_tool_free(&r);
        return -ENOEXEC;
    }
    char source[SERVICE_PATH_MAX];
    snprintf(source, sizeof(source), "journal:%s", unit);
    int rc = r.status == 0 ? service_log_add_text(s, source, r.out, want) : -EIO;
    cred_tool_free(&r);
    return rc;
}
