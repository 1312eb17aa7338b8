#define _POSIX_C_SOURCE 200809L
/* The analyses a policy entry can name with `check:` (see validator_int.h), and the
 * classification of shells and interpreters by what they would run. Each analysis only
 * adds findings (vrun_note); the program's own level and rules were applied before. */
#include "validator_int.h"

#include "str.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRIPT_TARGETS_MAX 16 /* files a sed or awk program writes that are checked */

/* A word for part of another word's text (dd of=..., sed's w file): it shares the flags,
 * so a value inside an expanded word stays unknown. text must live as long as tmp. */
void vword_sub(shell_word *tmp, const shell_word *from, const char *text, size_t len)
{
    memset(tmp, 0, sizeof *tmp);
    tmp->text = (char *)text;
    tmp->len = len;
    tmp->flags = from->flags & ~SHELL_WORD_TILDE;
    tmp->nexp = from->nexp;
    size_t off = text >= from->text && text <= from->text + from->len
                     ? (size_t)(text - from->text) : 0;
    tmp->literal_len = (from->flags & SHELL_WORD_EXPANDS) == 0 ? len
                       : from->literal_len > off ? from->literal_len - off : 0;
    if (len > 0 && text[0] == '~' && (from->flags & SHELL_WORD_TILDE) && off == 0)
        tmp->flags |= SHELL_WORD_TILDE;
}

static int is_literal_text(const shell_word *w, const char *s)
{
    return shell_word_is_literal(w) && strcmp(w->text, s) == 0;
}

/* ---- files ----------------------------------------------------------------------------------- */

static void each_operand(struct vrun *r, const vitems *it, size_t from, size_t to,
                         void (*fn)(struct vrun *, const shell_word *, const char *),
                         const char *verb)
{
    size_t k = 0;
    for (size_t i = 0; i < it->n; i++) {
        if (it->v[i].kind != VITEM_OPERAND)
            continue;
        if (k >= from && k < to)
            fn(r, it->v[i].word, verb);
        k++;
    }
}

/* cp, install, ln (copy) and mv (move): -t DIR or the last operand receives. */
static void check_copy(struct vrun *r, const vitems *it, int move)
{
    const vitem *t = vitems_opt(it, "-t|--target-directory");
    shell_word tmp;
    size_t sources = it->nops;
    if (t != NULL && t->value != NULL) {
        if (t->value_word != NULL) {
            tmp = *t->value_word;
        } else {
            vword_sub(&tmp, t->word, t->value, t->value_len);
        }
        vrun_write(r, &tmp, move ? "moves files into" : "copies files into");
    } else if (it->nops >= 2) {
        sources = it->nops - 1;
        vrun_write(r, vitems_operand(it, sources)->word,
                   move ? "moves files into" : "copies files into");
    }
    if (move)
        each_operand(r, it, 0, sources, vrun_delete, "moves away");
}

/* ---- permissions ----------------------------------------------------------------------------- */

static int all_octal(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (*s < '0' || *s > '7')
            return 0;
    return 1;
}

/* 1 setuid/setgid, 2 writable by everyone (both can be set). */
static int mode_risks(const char *mode)
{
    int risks = 0;
    if (all_octal(mode)) {
        size_t n = strlen(mode);
        if (n >= 4 && ((mode[n - 4] - '0') & 6))
            risks |= 1;
        if ((mode[n - 1] - '0') & 2)
            risks |= 2;
        return risks;
    }
    const char *p = mode;
    while (*p != '\0') {
        int others = 0, all_who = 1;
        while (*p == 'u' || *p == 'g' || *p == 'o' || *p == 'a') {
            all_who = 0;
            if (*p == 'o' || *p == 'a')
                others = 1;
            p++;
        }
        while (*p == '+' || *p == '-' || *p == '=') {
            char op = *p++;
            int s = 0, w = 0;
            while (*p != '\0' && *p != ',' && *p != '+' && *p != '-' && *p != '=') {
                s |= *p == 's';
                w |= *p == 'w';
                p++;
            }
            if (op != '-' && s)
                risks |= 1;
            if (op != '-' && w && others && !all_who)
                risks |= 2;
        }
        if (*p == ',')
            p++;
        else if (*p != '\0')
            p++;
    }
    return risks;
}

static int recursive(const vitems *it)
{
    return vitems_has_name(it, "-R", 0) || vitems_has_name(it, "--recursive", 1);
}

/* The targets of chmod, chown, chgrp: vital ones are forbidden. */
static void check_targets(struct vrun *r, const vitems *it, size_t from, const char *what)
{
    char why[VPATH_MAX + 256];
    int rec = recursive(it);
    size_t k = 0;
    for (size_t i = 0; i < it->n; i++) {
        if (it->v[i].kind != VITEM_OPERAND || k++ < from)
            continue;
        vpath p;
        vpath_of_word(r, it->v[i].word, &p);
        if (p.unknown) {
            vrun_note(r, RISK_WARNING, "changes the %s of paths named only at run time (%s)",
                      what, it->v[i].word->text);
            continue;
        }
        if (vpath_vital(r->v, p.path, why, sizeof why))
            vrun_note(r, RISK_FORBIDDEN, "changes the %s of %s%s", what,
                      rec || !p.literal ? "everything in " : "", why);
    }
}

static void check_chmod(struct vrun *r, const vitems *it)
{
    const char *mode = NULL;
    size_t from = 1;
    /* chmod -w file: a mode that looks like an option */
    for (size_t i = 0; i < it->n && mode == NULL; i++) {
        const char *t = it->v[i].word->text;
        if (it->v[i].kind == VITEM_OPT && t[0] == '-' && t[1] != '-' &&
            strspn(t + 1, "rwxXst") == strlen(t + 1)) {
            mode = t;
            from = 0;
        }
    }
    if (vitems_opt(it, "--reference") != NULL)
        from = 0;
    if (mode == NULL && from == 1 && it->nops > 0)
        mode = vitems_operand(it, 0)->word->text;
    if (mode != NULL) {
        int risks = mode_risks(mode);
        if (risks & 1)
            vrun_note(r, RISK_FORBIDDEN, "sets the setuid or setgid bit (%s)", mode);
        if (risks & 2)
            vrun_note(r, RISK_DANGEROUS, "makes files writable by everyone (%s)", mode);
    }
    check_targets(r, it, from, "permissions");
}

/* ---- find ------------------------------------------------------------------------------------ */

static int is_expr_start(const char *t)
{
    return t[0] == '-' || strcmp(t, "(") == 0 || strcmp(t, "!") == 0 || strcmp(t, ")") == 0;
}

static void check_find(struct vrun *r, const shell_word *const *argv, size_t n)
{
    char why[VPATH_MAX + 256];
    size_t i = 1, starts_from, starts_to;
    while (i < n && (is_literal_text(argv[i], "-H") || is_literal_text(argv[i], "-L") ||
                     is_literal_text(argv[i], "-P") || strncmp(argv[i]->text, "-O", 2) == 0))
        i++;
    if (i < n && is_literal_text(argv[i], "-D"))
        i += 2;
    starts_from = i;
    while (i < n && !is_expr_start(argv[i]->text))
        i++;
    starts_to = i;
    int deletes = 0;
    for (; i < n; i++) {
        const char *t = argv[i]->text;
        if (strcmp(t, "-delete") == 0) {
            deletes = 1;
        } else if (strcmp(t, "-exec") == 0 || strcmp(t, "-execdir") == 0 ||
                   strcmp(t, "-ok") == 0 || strcmp(t, "-okdir") == 0) {
            size_t j = i + 1;
            while (j < n && strcmp(argv[j]->text, ";") != 0 && strcmp(argv[j]->text, "+") != 0)
                j++;
            size_t m = j - (i + 1);
            if (m > 0) {
                const shell_word **inner = xcalloc(m, sizeof(*inner));
                static char brace_text[] = "{}";
                static const shell_word found = {brace_text, 2, SHELL_WORD_PARAM, 0, 0, 1};
                for (size_t k = 0; k < m; k++)
                    inner[k] = strstr(argv[i + 1 + k]->text, "{}") != NULL
                                   ? &found : argv[i + 1 + k];
                const char *prog = vbasename(inner[0]->text);
                if (strcmp(prog, "rm") == 0 || strcmp(prog, "unlink") == 0 ||
                    strcmp(prog, "shred") == 0 || strcmp(prog, "rmdir") == 0)
                    vrun_note(r, RISK_FORBIDDEN, "runs %s on every file it finds", prog);
                vrun_note(r, RISK_WARNING, "runs a command on every file it finds");
                vrun_argv(r, inner, m);
                free(inner);
            }
            i = j;
        } else if ((strcmp(t, "-fprint") == 0 || strcmp(t, "-fprint0") == 0 ||
                    strcmp(t, "-fprintf") == 0 || strcmp(t, "-fls") == 0) && i + 1 < n) {
            vrun_write(r, argv[++i], "writes to");
        }
    }
    if (!deletes)
        return;
    for (size_t k = starts_from; k < starts_to || (k == starts_from && k == starts_to); k++) {
        vpath p;
        if (k == starts_to) {
            shell_word dot = {(char *)".", 1, 0, 1, 1, 0};
            vpath_of_word(r, &dot, &p);
        } else {
            vpath_of_word(r, argv[k], &p);
        }
        if (!p.unknown && vpath_vital(r->v, p.path, why, sizeof why))
            vrun_note(r, RISK_FORBIDDEN, "deletes every file it finds in %s", why);
        if (k == starts_to)
            break;
    }
    vrun_note(r, RISK_DANGEROUS, "deletes every file it finds (-delete)");
}

/* ---- sed and awk ----------------------------------------------------------------------------- */

struct script_scan {
    int exec;                          /* runs shell commands */
    const char *writes[SCRIPT_TARGETS_MAX]; /* files written (into the copy) */
    size_t nwrites;
};

static char *skip_delimited(char *p, char delim)
{
    while (*p != '\0' && *p != delim) {
        if (*p == '\\' && p[1] != '\0')
            p++;
        p++;
    }
    return *p == delim ? p + 1 : p;
}

/* The file name that ends a w command: the rest of the line. */
static char *take_file(struct script_scan *sc, char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    char *start = p;
    while (*p != '\0' && *p != '\n')
        p++;
    int more = *p != '\0';
    *p = '\0';
    if (sc->nwrites < SCRIPT_TARGETS_MAX && *start != '\0')
        sc->writes[sc->nwrites++] = start;
    return more ? p + 1 : p;
}

/* GNU sed's script language, just enough to find e, s///e, w and s///w. The copy is cut. */
static void scan_sed(struct script_scan *sc, char *p)
{
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ';' || *p == '{' || *p == '}' ||
               *p == '!' || *p == ',' || *p == '$' || *p == '+' || *p == '~' ||
               (*p >= '0' && *p <= '9') || *p == 'I' || *p == 'M')
            p++;
        if (*p == '\\' && p[1] == '\0')
            break; /* a lone backslash ends the script */
        if (*p == '/' || *p == '\\') {
            char d = *p == '\\' ? p[1] : '/';
            p = skip_delimited(p + (*p == '\\' ? 2 : 1), d);
            continue;
        }
        char c = *p;
        if (c == '\0')
            break;
        p++;
        if (c == '#' || c == 'a' || c == 'i' || c == 'c' || c == 'r' || c == 'R' ||
            c == ':' || c == 'b' || c == 't' || c == 'T') {
            while (*p != '\0' && *p != '\n' && (c == '#' || c == 'a' || c == 'i' || c == 'c' ||
                                                 c == 'r' || c == 'R' || *p != ';'))
                p++;
        } else if (c == 'e') {
            sc->exec = 1;
            while (*p != '\0' && *p != '\n')
                p++;
        } else if (c == 'w' || c == 'W') {
            p = take_file(sc, p);
        } else if (c == 's' || c == 'y') {
            char d = *p;
            if (d == '\0' || d == '\n' || d == '\\')
                break;
            p = skip_delimited(skip_delimited(p + 1, d), d);
            while (c == 's' && *p != '\0' && *p != ';' && *p != '\n' && *p != '}') {
                if (*p == 'e')
                    sc->exec = 1;
                if (*p == 'w') {
                    p = take_file(sc, p + 1);
                    break;
                }
                p++;
            }
        }
    }
}

static void report_scan(struct vrun *r, const struct script_scan *sc, const shell_word *from,
                        const char *what)
{
    shell_word tmp;
    if (sc->exec)
        vrun_note(r, RISK_DANGEROUS, "runs shell commands from its %s program", what);
    for (size_t i = 0; i < sc->nwrites; i++) {
        vword_sub(&tmp, from, sc->writes[i], strlen(sc->writes[i]));
        tmp.literal_len = shell_word_is_literal(from) ? tmp.len : 0;
        vrun_write(r, &tmp, "writes to");
    }
}

static void check_sed(struct vrun *r, const shell_word *const *argv, size_t n)
{
    const shell_word *script = NULL;
    int in_place = 0, sandbox = 0, opts = 1, have_e = 0;
    struct script_scan sc = {0};
    char *copies[8];
    size_t ncopies = 0;
    const shell_word *files[64];
    size_t nfiles = 0;
    const shell_word *scripts[8];
    size_t nscripts = 0;
    for (size_t i = 1; i < n; i++) {
        const char *t = argv[i]->text;
        if (opts && strcmp(t, "--") == 0) {
            opts = 0;
        } else if (opts && strncmp(t, "--", 2) == 0) {
            const char *eq = strchr(t, '=');
            size_t nl = eq ? (size_t)(eq - t) : strlen(t);
            if (nl >= 4 && strncmp("--in-place", t, nl) == 0)
                in_place = 1;
            else if (nl >= 4 && strncmp("--sandbox", t, nl) == 0)
                sandbox = 1;
            else if (nl >= 4 && (strncmp("--expression", t, nl) == 0 ||
                                 strncmp("--file", t, nl) == 0)) {
                int file = strncmp("--file", t, nl) == 0;
                if (eq == NULL && i + 1 < n)
                    i++;
                if (file)
                    vrun_note(r, RISK_WARNING, "runs a sed program from a file");
                else if (eq == NULL && nscripts < 8)
                    scripts[nscripts++] = argv[i];
                have_e = 1;
            }
        } else if (opts && t[0] == '-' && t[1] != '\0') {
            for (size_t j = 1; t[j] != '\0'; j++) {
                if (t[j] == 'i')
                    in_place = 1;
                if (t[j] == 'i' || t[j] == 'l')
                    break;
                if (t[j] == 'e' || t[j] == 'f') {
                    if (t[j + 1] == '\0' && i + 1 < n) {
                        i++;
                        if (t[j] == 'e' && nscripts < 8)
                            scripts[nscripts++] = argv[i];
                    }
                    if (t[j] == 'f')
                        vrun_note(r, RISK_WARNING, "runs a sed program from a file");
                    have_e = 1;
                    break;
                }
            }
        } else if (!have_e && script == NULL) {
            script = argv[i];
            if (nscripts < 8)
                scripts[nscripts++] = argv[i];
        } else if (nfiles < 64) {
            files[nfiles++] = argv[i];
        }
    }
    for (size_t i = 0; i < nscripts; i++) {
        if (!shell_word_is_literal(scripts[i])) {
            vrun_note(r, RISK_WARNING, "runs a sed program known only at run time");
            continue;
        }
        struct script_scan one = {0};
        copies[ncopies] = xstrdup(scripts[i]->text);
        scan_sed(&one, copies[ncopies++]);
        if (!sandbox)
            report_scan(r, &one, scripts[i], "sed");
        sc.exec |= one.exec;
    }
    for (size_t i = 0; in_place && i < nfiles; i++)
        vrun_write(r, files[i], "edits");
    for (size_t i = 0; i < ncopies; i++)
        free(copies[i]);
}

/* awk: system(), pipes to or from commands, print > "file". Strings are followed roughly:
 * a false alarm costs a warning, a miss would cost more. */
static void check_awk(struct vrun *r, const vitems *it)
{
    const shell_word *prog = NULL;
    const vitem *src = vitems_opt(it, "-e|--source");
    shell_word tmp;
    if (vitems_opt(it, "-l|--load") != NULL)
        vrun_note(r, RISK_DANGEROUS, "loads a compiled awk extension");
    if (vitems_opt(it, "-f|--file|-i|--include") != NULL)
        vrun_note(r, RISK_WARNING, "runs an awk program from a file");
    if (src != NULL && src->value != NULL) {
        if (src->value_word != NULL)
            tmp = *src->value_word;
        else
            vword_sub(&tmp, src->word, src->value, src->value_len);
        prog = &tmp;
    } else if (vitems_opt(it, "-f|--file") == NULL && it->nops > 0) {
        prog = vitems_operand(it, 0)->word;
    }
    if (prog == NULL)
        return;
    if (!shell_word_is_literal(prog)) {
        vrun_note(r, RISK_WARNING, "runs an awk program known only at run time");
        return;
    }
    const char *t = prog->text;
    if (strstr(t, "system") != NULL)
        vrun_note(r, RISK_DANGEROUS, "runs shell commands from its awk program (system)");
    if (strstr(t, "/inet") != NULL)
        vrun_note(r, RISK_DANGEROUS, "opens network connections from its awk program (/inet)");
    for (const char *p = strchr(t, '|'); p != NULL; p = strchr(p + 1, '|')) {
        if (p[1] == '|' || (p > t && p[-1] == '|'))
            continue;
        const char *q = p + 1;
        while (*q == ' ' || *q == '\t')
            q++;
        const char *stmt = p;
        while (stmt > t && stmt[-1] != ';' && stmt[-1] != '{' && stmt[-1] != '\n')
            stmt--;
        char seg[256];
        size_t sl = (size_t)(p - stmt) < sizeof seg - 1 ? (size_t)(p - stmt) : sizeof seg - 1;
        memcpy(seg, stmt, sl);
        seg[sl] = '\0';
        if (strncmp(q, "getline", 7) == 0 || *q == '"' || *q == '&' ||
            strstr(seg, "print") != NULL)
            vrun_note(r, RISK_DANGEROUS, "pipes data to or from a shell command in awk");
    }
    struct script_scan sc = {0};
    char *copy = xstrdup(t);
    for (char *p = strchr(copy, '>'); p != NULL; p = strchr(p + 1, '>')) {
        char *q = p + 1;
        if (*q == '>')
            q++;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q != '"')
            continue;
        char *end = strchr(q + 1, '"');
        if (end == NULL)
            break;
        *end = '\0';
        if (sc.nwrites < SCRIPT_TARGETS_MAX)
            sc.writes[sc.nwrites++] = q + 1;
        p = end;
    }
    report_scan(r, &sc, prog, "awk");
    free(copy);
}

/* ---- processes ------------------------------------------------------------------------------- */

static void check_kill(struct vrun *r, const shell_word *const *argv, size_t n)
{
    size_t i = 1;
    int signal_seen = 0;
    while (i < n) {
        const char *t = argv[i]->text;
        if (strcmp(t, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(t, "-l") == 0 || strcmp(t, "-L") == 0 || strcmp(t, "--list") == 0 ||
            strcmp(t, "--table") == 0)
            return;
        if (strcmp(t, "-s") == 0 || strcmp(t, "-n") == 0 || strcmp(t, "--signal") == 0) {
            i += 2;
            signal_seen = 1;
            continue;
        }
        if (t[0] == '-' && t[1] != '\0' && !signal_seen) {
            signal_seen = 1;
            i++;
            continue;
        }
        break;
    }
    for (; i < n; i++) {
        const shell_word *w = argv[i];
        if (!shell_word_is_literal(w))
            vrun_note(r, RISK_WARNING, "signals processes known only at run time (%s)", w->text);
        else if (strcmp(w->text, "-1") == 0)
            vrun_note(r, RISK_FORBIDDEN, "signals every process on the system (kill -1)");
        else if (strcmp(w->text, "1") == 0)
            vrun_note(r, RISK_FORBIDDEN, "signals init (PID 1), which takes the system down");
    }
}

/* ---- docker ---------------------------------------------------------------------------------- */

static int docker_value_long(const char *name)
{
    static const char *const with_value[] = {
        "--name", "--network", "--net", "--pid", "--ipc", "--uts", "--userns", "--cgroupns",
        "--volume", "--mount", "--env", "--env-file", "--entrypoint", "--user", "--workdir",
        "--publish", "--label", "--label-file", "--memory", "--memory-swap",
        "--memory-reservation", "--cpus", "--cpu-shares", "--cpu-period", "--cpu-quota",
        "--cpuset-cpus", "--cpuset-mems", "--restart", "--hostname", "--add-host", "--dns",
        "--dns-search", "--dns-option", "--log-driver", "--log-opt", "--cap-add", "--cap-drop",
        "--device", "--security-opt", "--tmpfs", "--ulimit", "--platform", "--pull",
        "--runtime", "--shm-size", "--stop-signal", "--stop-timeout", "--health-cmd",
        "--health-interval", "--health-retries", "--health-timeout", "--volumes-from",
        "--gpus", "--cidfile", "--link", "--expose", "--ip", "--ip6", "--mac-address",
        "--sysctl", "--group-add", "--isolation", "--network-alias", "--oom-score-adj",
        "--pids-limit", "--storage-opt", "--domainname", "--detach-keys", "--blkio-weight",
        "--attach", "--device-cgroup-rule", "--init-path", "--kernel-memory", "--annotation",
        "--env-file", "--volume-driver", "--mount", NULL};
    for (size_t i = 0; with_value[i] != NULL; i++)
        if (strcmp(with_value[i], name) == 0)
            return 1;
    return 0;
}

/* One docker run/create/exec option with its value (NULL for a flag). */
static void docker_option(struct vrun *r, const char *name, const char *value)
{
    char why[VPATH_MAX + 256], src[VPATH_MAX];
    if (strcmp(name, "--privileged") == 0 &&
        (value == NULL || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)) {
        vrun_note(r, RISK_FORBIDDEN, "runs a privileged container, with full access to the host");
        return;
    }
    if (value == NULL)
        return;
    const char *hostns[] = {"--pid", "--ipc", "--uts", "--userns", "--cgroupns"};
    for (size_t i = 0; i < sizeof hostns / sizeof hostns[0]; i++)
        if (strcmp(name, hostns[i]) == 0 && strcmp(value, "host") == 0)
            vrun_note(r, RISK_DANGEROUS, "shares the host's namespace (%s=host)", name);
    if ((strcmp(name, "--net") == 0 || strcmp(name, "--network") == 0) &&
        strcmp(value, "host") == 0)
        vrun_note(r, RISK_DANGEROUS, "uses the host's network stack (%s=host)", name);
    if (strcmp(name, "--device") == 0)
        vrun_note(r, RISK_DANGEROUS, "gives the container the host device %s", value);
    if (strcmp(name, "--cap-add") == 0) {
        vpat caps;
        char *alts[] = {"ALL", "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "SYS_RAWIO",
                        "NET_ADMIN", "DAC_READ_SEARCH", "DAC_OVERRIDE", "SYS_BOOT", "BPF",
                        "CAP_SYS_ADMIN", "CAP_SYS_MODULE", "all"};
        caps.alt = alts;
        caps.n = sizeof alts / sizeof alts[0];
        if (vpat_match(&caps, value))
            vrun_note(r, RISK_DANGEROUS, "gives the container the capability %s", value);
    }
    if (strcmp(name, "--security-opt") == 0 &&
        (strstr(value, "unconfined") != NULL || strstr(value, "disable") != NULL ||
         strstr(value, "no-new-privileges=false") != NULL))
        vrun_note(r, RISK_DANGEROUS, "turns off a security profile (%s)", value);
    const char *mount = NULL;
    size_t mlen = 0;
    if (strcmp(name, "-v") == 0 || strcmp(name, "--volume") == 0) {
        const char *colon = strchr(value, ':');
        if (colon != NULL) {
            mount = value;
            mlen = (size_t)(colon - value);
        }
    } else if (strcmp(name, "--mount") == 0) {
        const char *s = strstr(value, "source=");
        size_t skip = 7;
        if (s == NULL) {
            s = strstr(value, "src=");
            skip = 4;
        }
        if (s != NULL && (s == value || s[-1] == ',')) {
            mount = s + skip;
            mlen = strcspn(mount, ",");
        }
    }
    if (mount == NULL || mlen == 0 || (mount[0] != '/' && mount[0] != '~' && mount[0] != '$'))
        return;
    if (mount[0] == '$') {
        vrun_note(r, RISK_DANGEROUS, "mounts a host path known only at run time");
        return;
    }
    vpath_norm(mount, mlen, "", src);
    if (vpath_match("/var/run/docker.sock", src, 1) || vpath_match("/run/docker.sock", src, 1))
        vrun_note(r, RISK_FORBIDDEN, "mounts the Docker socket, which controls the host");
    else if (vpath_vital(r->v, src, why, sizeof why))
        vrun_note(r, RISK_FORBIDDEN, "mounts %s from the host into the container", why);
    else
        vrun_note(r, RISK_WARNING, "mounts the host path %s into the container", src);
}

/* docker [global options] run|create|exec [options] IMAGE|CONTAINER [command...] */
static void check_docker(struct vrun *r, const shell_word *const *argv, size_t n,
                         const vitems *it)
{
    const vitem *sub = vitems_operand(it, 0);
    if (sub == NULL)
        return;
    size_t i = sub->index + 1;
    const char *verb = sub->word->text;
    if ((strcmp(verb, "container") == 0) && i < n) {
        verb = argv[i]->text;
        i++;
    }
    int exec = strcmp(verb, "exec") == 0;
    if (!exec && strcmp(verb, "run") != 0 && strcmp(verb, "create") != 0)
        return;
    const char *shorts = exec ? "euw" : "acehlmpuvw";
    for (; i < n; i++) {
        const char *t = argv[i]->text;
        if (strcmp(t, "--") == 0) {
            i++;
            break;
        }
        if (strncmp(t, "--", 2) == 0) {
            char name[VNAME_MAX];
            const char *eq = strchr(t, '=');
            size_t nl = eq != NULL ? (size_t)(eq - t) : strlen(t);
            if (nl >= sizeof name)
                nl = sizeof name - 1;
            memcpy(name, t, nl);
            name[nl] = '\0';
            const char *value = eq != NULL ? eq + 1 : NULL;
            if (value == NULL && docker_value_long(name) && i + 1 < n)
                value = argv[++i]->text;
            if (exec && strcmp(name, "--privileged") == 0)
                vrun_note(r, RISK_DANGEROUS, "runs a command with all privileges in a container");
            else
                docker_option(r, name, value);
            continue;
        }
        if (t[0] == '-' && t[1] != '\0') {
            for (size_t j = 1; t[j] != '\0'; j++) {
                if (strchr(shorts, t[j]) == NULL)
                    continue;
                char name[3] = {'-', t[j], '\0'};
                const char *value = t[j + 1] != '\0' ? t + j + 1
                                    : i + 1 < n ? argv[++i]->text : NULL;
                docker_option(r, name, value);
                break;
            }
            continue;
        }
        i++; /* past the image or container */
        break;
    }
    if (i < n && shell_word_is_literal(argv[i - 1]))
        vrun_argv(r, argv + i, n - i);
}

/* ---- tar ------------------------------------------------------------------------------------- */

static void check_tar(struct vrun *r, const shell_word *const *argv, size_t n)
{
    char cluster[VNAME_MAX + 2];
    shell_word first;
    const shell_word **av = xcalloc(n, sizeof(*av));
    char why[VPATH_MAX + 256];
    vitems it;
    vpat values;
    char *alts[] = {"-f", "-C", "-b", "-T", "-X", "-K", "-N", "-V", "-g", "-I", "-F", "-H",
                    "--file", "--directory", "--files-from", "--exclude-from",
                    "--use-compress-program", "--to-command", "--checkpoint-action",
                    "--rsh-command", "--info-script", "--new-volume-script", "--newer",
                    "--listed-incremental", "--format", "--owner", "--group", "--mode"};
    values.alt = alts;
    values.n = sizeof alts / sizeof alts[0];
    for (size_t i = 0; i < n; i++)
        av[i] = argv[i];
    if (n > 1 && argv[1]->text[0] != '-' && argv[1]->len + 2 < sizeof cluster) {
        /* old style: tar xzf file */
        cluster[0] = '-';
        memcpy(cluster + 1, argv[1]->text, argv[1]->len + 1);
        first = *argv[1];
        first.text = cluster;
        first.len = argv[1]->len + 1;
        av[1] = &first;
    }
    vitems_parse(&it, av, n, &values, 1, 0);
    int extract = vitems_opt(&it, "-x|--extract|--get") != NULL;
    const vitem *x = vitems_opt(&it, "--to-command|--checkpoint-action|-I|"
                                     "--use-compress-program|--rsh-command|--info-script|"
                                     "-F|--new-volume-script");
    if (x != NULL)
        vrun_note(r, RISK_DANGEROUS, "runs another command (%s)", x->name);
    if (vitems_opt(&it, "-t|--list") != NULL && !extract &&
        vitems_opt(&it, "-c|--create|-r|--append|-u|--update|--delete|-A|--concatenate") ==
            NULL) {
        /* listing only */
    } else if (extract) {
        vrun_note(r, RISK_WARNING, "extracts files from an archive");
        if (vitems_opt(&it, "-P|--absolute-names") != NULL)
            vrun_note(r, RISK_DANGEROUS, "extracts files to absolute paths (-P)");
        const vitem *dir = vitems_opt(&it, "-C|--directory");
        if (dir != NULL && dir->value != NULL) {
            shell_word tmp;
            vpath p;
            if (dir->value_word != NULL)
                tmp = *dir->value_word;
            else
                vword_sub(&tmp, dir->word, dir->value, dir->value_len);
            vpath_of_word(r, &tmp, &p);
            if (p.unknown)
                vrun_note(r, RISK_WARNING, "extracts into a directory known only at run time");
            else if (vpath_vital(r->v, p.path, why, sizeof why))
                vrun_note(r, RISK_FORBIDDEN, "extracts files into %s", why);
        } else if (r->cwd[0] != '\0' && vpath_vital(r->v, r->cwd, why, sizeof why)) {
            vrun_note(r, RISK_FORBIDDEN, "extracts files into %s", why);
        }
    } else {
        vrun_note(r, RISK_WARNING, "creates or changes an archive");
        const vitem *f = vitems_opt(&it, "-f|--file");
        if (f != NULL && f->value != NULL && f->value_word != NULL &&
            vitems_opt(&it, "-c|--create|-r|--append|-u|--update") != NULL)
            vrun_write(r, f->value_word, "writes the archive to");
    }
    vitems_free(&it);
    free(av);
}

/* ---- the rest -------------------------------------------------------------------------------- */

/* Later relative paths are resolved against a literal cd; after cd $X or cd - they are
 * relative to somewhere unknown ("?"). */
static void check_cd(struct vrun *r, const vitems *it)
{
    const vitem *op = vitems_operand(it, 0);
    if (op == NULL) {
        snprintf(r->cwd, sizeof r->cwd, "~");
        return;
    }
    vpath p;
    vpath_of_word(r, op->word, &p);
    int relative = p.path[0] != '/' && p.path[0] != '~';
    if (!p.literal || strcmp(op->word->text, "-") == 0 ||
        (relative && strcmp(r->cwd, "?") == 0)) {
        snprintf(r->cwd, sizeof r->cwd, "?");
        return;
    }
    if (strcmp(p.path, ".") == 0)
        r->cwd[0] = '\0';
    else
        str_copy(r->cwd, sizeof r->cwd, p.path);
}

/* Dispatches on the analysis the policy names for the program; they only add findings. */
void vcheck_run(struct vrun *r, const vprogram *p, const shell_word *const *argv, size_t n,
                const vitems *it)
{
    switch (p->check) {
    case VCHECK_DELETE:
        each_operand(r, it, 0, it->nops, vrun_delete, "deletes");
        break;
    case VCHECK_WRITE:
        each_operand(r, it, 0, it->nops, vrun_write, "writes to");
        break;
    case VCHECK_COPY:
        check_copy(r, it, 0);
        break;
    case VCHECK_MOVE:
        check_copy(r, it, 1);
        break;
    case VCHECK_CHMOD:
        check_chmod(r, it);
        break;
    case VCHECK_CHOWN:
        check_targets(r, it, vitems_opt(it, "--reference") != NULL ? 0 : 1, "owner");
        break;
    case VCHECK_DD:
        for (size_t i = 0; i < it->n; i++) {
            const shell_word *w = it->v[i].word;
            if (it->v[i].kind == VITEM_OPERAND && strncmp(w->text, "of=", 3) == 0) {
                shell_word tmp;
                vword_sub(&tmp, w, w->text + 3, w->len - 3);
                vrun_write(r, &tmp, "writes to");
            }
        }
        break;
    case VCHECK_FIND:
        check_find(r, argv, n);
        break;
    case VCHECK_SED:
        check_sed(r, argv, n);
        break;
    case VCHECK_AWK:
        check_awk(r, it);
        break;
    case VCHECK_KILL:
        check_kill(r, argv, n);
        break;
    case VCHECK_DOCKER:
        check_docker(r, argv, n, it);
        break;
    case VCHECK_TAR:
        check_tar(r, argv, n);
        break;
    case VCHECK_SOURCE:
        vcheck_source(r, it);
        break;
    case VCHECK_ALIAS:
        for (size_t i = 0; i < it->n; i++) {
            const shell_word *w = it->v[i].word;
            const char *eq = strchr(w->text, '=');
            if (it->v[i].kind != VITEM_OPERAND || eq == NULL)
                continue;
            vrun_note(r, RISK_WARNING, "defines an alias, which changes what later commands run");
            if (!shell_word_is_literal(w))
                vrun_note(r, RISK_FORBIDDEN, "defines an alias known only at run time");
            else
                vrun_string(r, eq + 1, strlen(eq + 1), "alias");
        }
        break;
    case VCHECK_ASSIGNING:
        for (size_t i = 0; i < it->n; i++)
            if (it->v[i].kind == VITEM_OPERAND)
                vrun_assign_text(r, it->v[i].word->text);
        break;
    case VCHECK_CD:
        check_cd(r, it);
        break;
    case VCHECK_DOWNLOAD:
        vcheck_download(r, p, it);
        break;
    case VCHECK_NONE:
        break;
    }
}
