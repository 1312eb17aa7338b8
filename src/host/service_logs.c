#define _POSIX_C_SOURCE 200809L
/* The recent log lines of a service (service.h): the unit's journal, then the log files its
 * processes hold open (a ".log" or anything under /var/log; request logs, whose names hold
 * "access", and data under /var/lib such as containers' logs left out), or when they hold none the table's log files (globs allowed), else
 * /var/log/NAME.log. Files are read in order of modification, so the newest lines come last,
 * and only their last SERVICE_LOG_TAIL_MAX bytes: a log may be gigabytes. Lines are text
 * from anywhere: cut, made valid UTF-8, control characters (terminal escapes) as '?'. */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "str.h"
#include "textscan.h"

#define PROC_ROOT "/proc"
#define OPEN_LOG_PROCS_MAX 32 /* processes whose open files are looked at for logs */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- lines --------------------------------------------------------------------------- */

static int find_source(struct service_info *s, const char *source)
{
    for (size_t i = 0; i < s->nlog_sources; i++)
        if (strcmp(s->log_sources[i], source) == 0)
            return (int)i;
    if (s->nlog_sources == SERVICE_LOG_SOURCES_MAX)
        return -ENOSPC;
    str_copy(s->log_sources[s->nlog_sources], SERVICE_PATH_MAX, source);
    str_utf8_repair(s->log_sources[s->nlog_sources], strlen(s->log_sources[s->nlog_sources]));
    return (int)s->nlog_sources++;
}

static void add_line(struct service_info *s, int source, const char *p, size_t len)
{
    if (s->nlogs == SERVICE_LOG_LINES_MAX) {
        memmove(&s->logs[0], &s->logs[1], (SERVICE_LOG_LINES_MAX - 1) * sizeof(s->logs[0]));
        s->nlogs--;
    }
    struct service_log_line *l = &s->logs[s->nlogs++];
    l->source = source;
    if (len >= sizeof(l->text))
        len = sizeof(l->text) - 1;
    memcpy(l->text, p, len);
    l->text[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)l->text[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            l->text[i] = '?';
    }
    str_utf8_repair(l->text, len);
}

int service_log_add_text(struct service_info *s, const char *source, const char *text,
                         size_t want)
{
    int src = find_source(s, source);
    if (src < 0)
        return src;
    if (want > SERVICE_LOG_LINES_MAX)
        want = SERVICE_LOG_LINES_MAX;
    /* walk back over want non-empty lines, then add them oldest first */
    const char *end = text + strlen(text), *start = end;
    size_t found = 0;
    while (start > text && found < want) {
        const char *e = start;
        while (e > text && (e[-1] == '\n' || e[-1] == '\r'))
            e--;
        if (e == text)
            break;
        const char *b = e;
        while (b > text && b[-1] != '\n')
            b--;
        found++;
        start = b;
    }
    int added = 0;
    for (const char *p = start; p < end && *p != '\0';) {
        const char *eol = text_line_end(p);
        size_t len = (size_t)(eol - p);
        while (len > 0 && p[len - 1] == '\r')
            len--;
        if (len > 0) {
            add_line(s, src, p, len);
            added++;
        }
        p = text_next_line(eol);
    }
    return added;
}

int service_log_tail(struct service_info *s, const char *path, size_t want)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    char *buf = NULL;
    int rc;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    off_t off = st.st_size > (off_t)SERVICE_LOG_TAIL_MAX ? st.st_size - SERVICE_LOG_TAIL_MAX : 0;
    buf = malloc(SERVICE_LOG_TAIL_MAX + 1);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    size_t len = 0;
    while (len < SERVICE_LOG_TAIL_MAX) {
        ssize_t n = pread(fd, buf + len, SERVICE_LOG_TAIL_MAX - len, off + (off_t)len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    /* NUL bytes in a log would end the text early: show them as '?' */
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0')
            buf[i] = '?';
    const char *text = buf;
    if (off > 0) { /* the first line is cut: start after it */
        const char *nl = strchr(buf, '\n');
        text = nl != NULL ? nl + 1 : buf + len;
    }
    rc = service_log_add_text(s, path, text, want);
out:
    free(buf);
    close(fd);
    return rc;
}

struct log_file {
    char path[SERVICE_PATH_MAX];
    time_t mtime;
};

struct log_files {
    struct log_file v[SERVICE_LOG_SOURCES_MAX];
    size_t n;
};

static void log_files_add(struct log_files *f, const char *path)
{
    struct stat st;
    if (f->n == SERVICE_LOG_SOURCES_MAX || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].path, path) == 0)
            return;
    if (str_copy(f->v[f->n].path, sizeof(f->v[0].path), path) != 0)
        return;
    f->v[f->n++].mtime = st.st_mtime;
}

static int open_log_link(void *ctx, int pid, int fd, const char *target)
{
    (void)pid;
    (void)fd;
    if (target[0] != '/' || ends_with(target, " (deleted)"))
        return 0;
    if (!ends_with(target, ".log") && strncmp(target, "/var/log/", 9) != 0)
        return 0;
    if (strstr(base_name(target), "access") != NULL) /* request logs, not the service's */
        return 0;
    if (strncmp(target, "/var/lib/", 9) == 0) /* data: a database's, containers' logs */
        return 0;
    log_files_add(ctx, target);
    return 0;
}

static int by_mtime(const void *a, const void *b)
{
    const struct log_file *x = a, *y = b;
    if (x->mtime != y->mtime)
        return x->mtime < y->mtime ? -1 : 1;
    return strcmp(x->path, y->path);
}

void service_logs_collect(struct service_info *s, const char *base, size_t want)
{
    if (want == 0)
        return;
    if (strcmp(s->manager, "systemd") == 0 && s->unit.id[0] != '\0') {
        int rc = service_journal(s, s->unit.id, want);
        if (rc < 0 && s->note[0] == '\0')
            str_fmt(s->note, sizeof(s->note), "the journal of %s could not be read (%s)",
                    s->unit.id, rc == -ENOEXEC ? "no journalctl" : "journalctl failed");
    }
    struct log_files *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return;
    for (size_t i = 0; i < s->nprocs && i < OPEN_LOG_PROCS_MAX; i++)
        sockets_fd_walk(PROC_ROOT, s->procs[i].pid, open_log_link, f);
    if (f->n == 0) {
        const char *logs[SERVICE_KNOWN_LIST] = {NULL};
        char fallback[SERVICE_PATH_MAX];
        snprintf(fallback, sizeof(fallback), "/var/log/%s.log", base);
        size_t n = 0;
        for (; s->known != NULL && n < SERVICE_KNOWN_LIST && s->known->logs[n] != NULL; n++)
            logs[n] = s->known->logs[n];
        if (n == 0)
            logs[n++] = fallback;
        for (size_t i = 0; i < n; i++) {
            glob_t g;
            if (glob(logs[i], 0, NULL, &g) != 0)
                continue;
            for (size_t k = 0; k < g.gl_pathc; k++)
                log_files_add(f, g.gl_pathv[k]);
            globfree(&g);
        }
    }
    qsort(f->v, f->n, sizeof(f->v[0]), by_mtime);
    for (size_t i = 0; i < f->n; i++)
        service_log_tail(s, f->v[i].path, want);
    free(f);
}

