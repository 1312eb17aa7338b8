/* Child processes for the DevOps steps: fork/exec without a shell, output through pipes. */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "str.h"
#include "xalloc.h"

extern char **environ;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* The child's environment: ours, less the names the step sets, plus the step's. */
static char **child_env(struct run_step *s)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    char **env = xcalloc(n + RUN_MAX_ENV + 1, sizeof(*env));
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int replaced = 0;
        for (int j = 0; s->env[j] != NULL; j++)
            if (strncmp(s->env[j], environ[i], len) == 0 && s->env[j][len] == '=')
                replaced = 1;
        if (!replaced)
            env[k++] = environ[i];
    }
    for (int j = 0; s->env[j] != NULL; j++)
        env[k++] = s->env[j];
    env[k] = NULL;
    return env;
}

static void print_invocation(const struct run_step *s, FILE *f)
{
    fprintf(f, "cloudya: run: (cd %s &&", s->cwd);
    for (int i = 0; s->argv[i] != NULL; i++) {
        const char *a = s->argv[i];
        int plain = a[0] != '\0' && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789-_=./@:,+") == strlen(a);
        fprintf(f, plain ? " %s" : " '%s'", a);
    }
    fprintf(f, ")");
    if (s->env[0] != NULL) {
        fprintf(f, " with");
        for (int j = 0; s->env[j] != NULL; j++) {
            const char *eq = strchr(s->env[j], '=');
            fprintf(f, " %.*s", eq ? (int)(eq - s->env[j]) : (int)strlen(s->env[j]), s->env[j]);
        }
        fprintf(f, " set");
    }
    fprintf(f, "\n");
    fflush(f);
}

static void tail_add(char *tail, size_t *tlen, const char *p, size_t n)
{
    if (n >= RUN_TAIL_BYTES - 1) {
        p += n - (RUN_TAIL_BYTES - 1);
        n = RUN_TAIL_BYTES - 1;
    }
    if (*tlen + n > RUN_TAIL_BYTES - 1) {
        size_t drop = *tlen + n - (RUN_TAIL_BYTES - 1);
        memmove(tail, tail + drop, *tlen - drop);
        *tlen -= drop;
    }
    memcpy(tail + *tlen, p, n);
    *tlen += n;
    tail[*tlen] = '\0';
}

static void child(struct run_step *s, int out_w, int cap_w, int err_w, char **env)
{
    setpgid(0, 0); /* Ctrl+C at the terminal reaches cloudya only; it passes it on once */
    /* If cloudya dies (killed, terminal closed), the tool is asked to stop cleanly rather
     * than left running on its own. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    static const int sigs[] = {SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGPIPE, SIGCHLD, SIGTSTP,
                               SIGTTIN, SIGTTOU, SIGWINCH};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(cap_w >= 0 ? cap_w : out_w, 1) < 0 ||
        dup2(out_w, 2) < 0 || chdir(s->cwd) != 0) {
        int e = errno;
        write_all(err_w, (const char *)&e, sizeof(e));
        _exit(127);
    }
    execve(s->argv[0], (char *const *)s->argv, env);
    int e = errno;
    write_all(err_w, (const char *)&e, sizeof(e));
    _exit(127);
}

int run_step(struct run_step *s, char *err, size_t errlen)
{
    s->exit_code = -1;
    s->interrupts = 0;
    s->ms = 0;
    s->tail[0] = '\0';
    s->captured = NULL;
    s->captured_len = 0;
    int outp[2] = {-1, -1}, capp[2] = {-1, -1}, errp[2] = {-1, -1};
    if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0 ||
        (s->capture_stdout && pipe2(capp, O_CLOEXEC) != 0)) {
        int e = errno;
        str_fmt(err, errlen, "cannot start %s: %s", s->argv[0], strerror(e));
        for (int i = 0; i < 2; i++) {
            if (outp[i] >= 0) close(outp[i]);
            if (errp[i] >= 0) close(errp[i]);
            if (capp[i] >= 0) close(capp[i]);
        }
        return -e;
    }
    if (s->debug)
        print_invocation(s, stderr);
    FILE *log = NULL;
    if (s->log_path != NULL) {
        int lfd = open(s->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (lfd >= 0)
            log = fdopen(lfd, "a");
        if (log != NULL) {
            char now[32];
            record_now(now, sizeof(now));
            fprintf(log, "==> %s", now);
            for (int i = 0; s->argv[i] != NULL; i++)
                fprintf(log, " %s", s->argv[i]);
            fprintf(log, "\n");
            fflush(log);
        }
    }
    char **env = child_env(s);
    long long start = now_ms();
    if (s->echo)
        fflush(s->echo);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        free(env);
        if (log) fclose(log);
        close(outp[0]); close(outp[1]); close(errp[0]); close(errp[1]);
        if (capp[0] >= 0) { close(capp[0]); close(capp[1]); }
        str_fmt(err, errlen, "cannot start %s: %s", s->argv[0], strerror(e));
        return -e;
    }
    if (pid == 0)
        child(s, outp[1], capp[1], errp[1], env);
    setpgid(pid, pid); /* also from here, so the group exists before any kill */
    free(env);
    close(outp[1]);
    close(errp[1]);
    if (capp[1] >= 0)
        close(capp[1]);

    int exec_errno = 0;
    ssize_t en = read(errp[0], &exec_errno, sizeof(exec_errno));
    close(errp[0]);
    if (en != (ssize_t)sizeof(exec_errno))
        exec_errno = 0;

    size_t tlen = 0, ccap = 0;
    struct pollfd pf[2] = {{.fd = outp[0], .events = POLLIN}, {.fd = capp[0], .events = POLLIN}};
    int open_fds = capp[0] >= 0 ? 2 : 1;
    char buf[8192];
    while (open_fds > 0) {
        int r = poll(pf, 2, 200);
        if (s->interrupted != NULL && s->interrupted()) {
            kill(-pid, SIGINT);
            s->interrupts++;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(pf[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                open_fds--;
                continue;
            }
            if (i == 0) {
                if (s->echo) {
                    fwrite(buf, 1, (size_t)n, s->echo);
                    fflush(s->echo);
                }
                if (log)
                    fwrite(buf, 1, (size_t)n, log);
                tail_add(s->tail, &tlen, buf, (size_t)n);
            } else if (s->captured_len + (size_t)n <= RUN_CAPTURE_MAX) {
                if (s->captured_len + (size_t)n + 1 > ccap) {
                    ccap = (s->captured_len + (size_t)n + 1) * 2;
                    s->captured = xrealloc(s->captured, ccap);
                }
                memcpy(s->captured + s->captured_len, buf, (size_t)n);
                s->captured_len += (size_t)n;
                s->captured[s->captured_len] = '\0';
            }
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            break;
        if (s->interrupted != NULL && s->interrupted()) {
            kill(-pid, SIGINT);
            s->interrupts++;
        }
    }
    s->ms = now_ms() - start;
    s->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (s->capture_stdout && s->captured == NULL)
        s->captured = xstrdup("");
    if (log) {
        fprintf(log, "<== exit %d after %.1f s\n", s->exit_code, (double)s->ms / 1000.0);
        fclose(log);
    }
    if (exec_errno != 0) {
        str_fmt(err, errlen, "cannot run %s: %s", s->argv[0], strerror(exec_errno));
        free(s->captured);
        s->captured = NULL;
        return -exec_errno;
    }
    return 0;
}

/* Copies line (len bytes) into out without escape sequences and control characters. */
static size_t clean_line(const char *line, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == 0x1b) { /* CSI ... final byte */
            if (i + 1 < len && line[i + 1] == '[') {
                i += 2;
                while (i < len && !((unsigned char)line[i] >= 0x40 && (unsigned char)line[i] <= 0x7e))
                    i++;
            }
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            continue;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return o;
}

/* 1 when s starts with a box-drawing character (U+2500 to U+257F: "│", "╷", "╵"). */
static int box_char(const char *s)
{
    return (unsigned char)s[0] == 0xe2 &&
           ((unsigned char)s[1] == 0x94 || (unsigned char)s[1] == 0x95) && s[2] != '\0';
}

static int starts_error(const char *s)
{
    while (*s == ' ' || *s == '\t' || box_char(s)) /* "│ Error:" in boxes */
        s += *s == ' ' || *s == '\t' ? 1 : 3;
    return strncmp(s, "Error:", 6) == 0 || strncmp(s, "ERROR!", 6) == 0 ||
           strncmp(s, "fatal:", 6) == 0 || strstr(s, "FAILED!") != NULL;
}

void run_error_summary(const char *tail, char *out, size_t cap)
{
    out[0] = '\0';
    const char *lines[512];
    size_t lens[512], n = 0;
    /* the last 512 lines: the end of the output is where a failure shows */
    const char *p = tail;
    size_t newlines = 0;
    for (const char *q = tail; *q; q++)
        newlines += *q == '\n';
    for (; newlines >= 512 && (p = strchr(p, '\n')) != NULL; newlines--)
        p++;
    while (*p && n < 512) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        lines[n] = p;
        lens[n++] = len;
        p += len + (e ? 1 : 0);
    }
    size_t first = n, take = 0;
    char line[1024];
    for (size_t i = 0; i < n; i++) {
        clean_line(lines[i], lens[i], line, sizeof(line));
        if (starts_error(line)) {
            first = i;
            break;
        }
    }
    if (first == n) { /* no error line: the last 4 non-empty lines */
        size_t found = 0;
        first = n;
        while (first > 0 && found < 4) {
            first--;
            clean_line(lines[first], lens[first], line, sizeof(line));
            if (line[0] != '\0')
                found++;
        }
    }
    size_t off = 0;
    for (size_t i = first; i < n && take < 6; i++) {
        size_t l = clean_line(lines[i], lens[i], line, sizeof(line));
        /* trim box-drawing prefixes and spaces */
        char *t = line;
        while (*t == ' ' || box_char(t))
            t += *t == ' ' ? 1 : 3;
        (void)l;
        if (*t == '\0')
            continue;
        if (strncmp(t, "PLAY RECAP", 10) == 0 && take > 0)
            break;
        int w = snprintf(out + off, cap - off, "%s%s", take ? "\n" : "", t);
        if (w < 0 || (size_t)w >= cap - off) {
            out[off] = '\0'; /* whole lines only */
            break;
        }
        off += (size_t)w;
        take++;
    }
    /* records keep the summary with json_string, which refuses text that is not UTF-8 (a
     * line cut inside a character, a tail that starts inside one, a tool's raw bytes) */
    str_utf8_repair(out, off);
}
