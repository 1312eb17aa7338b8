#define _POSIX_C_SOURCE 200809L
/* The process table (see procs.h).
 *
 * Rules worth knowing:
 *   - every file is read with a bound: stat whole into PROCS_STAT_MAX bytes, the head of
 *     status (Uid is on its ninth line), the head of cmdline up to PROCS_CMD_MAX bytes;
 *   - the name in /proc/<pid>/stat may hold spaces, parentheses and even newlines: it runs
 *     from the first '(' to the last ')' of the whole text, and only numbers follow that;
 *   - names and command lines come from the processes themselves, so they are made valid
 *     UTF-8 and control characters become '?' before anybody prints them on a terminal;
 *   - a process that ends between listing /proc and reading its files is skipped. */
#include "procs.h"
#include "str.h"
#include "textscan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_MAX_PROC 512        /* proc_root, a pid and a file name */
#define STATUS_HEAD_MAX 4096     /* the head of /proc/<pid>/status: Uid comes early */
#define TABLE_CAP_FIRST 256      /* the first allocation of the table */
#define STAT_FIELD_FLAGS 9       /* field numbers of proc(5), counting pid as 1 */
#define STAT_FIELD_UTIME 14
#define STAT_FIELD_STIME 15
#define STAT_FIELD_THREADS 20
#define STAT_FIELD_START 22
#define STAT_FIELD_RSS 24
#define PF_KTHREAD_FLAG 0x00200000u /* the kernel's PF_KTHREAD in the flags field */
#define KTHREADD_PID 2           /* the parent of every kernel thread */

/* ---- text clean-up ------------------------------------------------------------------ */

/* Makes s (NUL-terminated) valid UTF-8 and replaces control characters with '?', so that a
 * name chosen by a process can neither break the JSON nor move a terminal's cursor. */
static void clean_text(char *s)
{
    size_t len = strlen(s);
    str_utf8_repair(s, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            s[i] = '?';
    }
}

/* Copies the n bytes at src into dst (cap bytes, at least 1), cut at a UTF-8 character
 * boundary when they do not fit, always NUL-terminated. Returns the bytes copied. */
static size_t copy_bytes(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--; /* do not leave half a character that repair would turn into '?' */
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

/* ---- parsers ------------------------------------------------------------------------ */

/* Parses an optional '-' and the digits at *pp (proc(5) prints some fields signed, such as
 * the priority of a real-time process or a tty's foreground group -1). Sets *neg. Returns
 * 0, -EINVAL or -ERANGE like text_parse_u64. */
static int parse_field(const char **pp, uint64_t *v, int *neg)
{
    *neg = 0;
    if (**pp == '-') {
        *neg = 1;
        (*pp)++;
    }
    return text_parse_u64(pp, v);
}

/* The pid before " (": digits only, above zero and within an int. Returns 0 or -EINVAL. */
static int parse_pid(const char *text, const char *open, int *pid)
{
    const char *p = text;
    uint64_t v;
    if (text_parse_u64(&p, &v) != 0 || p + 1 != open || *p != ' ' || v == 0 || v > INT_MAX)
        return -EINVAL;
    *pid = (int)v;
    return 0;
}

/* 1 for the fields this reader keeps (ppid, flags, utime, stime, threads, start, rss). */
static int used_field(int field)
{
    return field == 4 || field == STAT_FIELD_FLAGS || field == STAT_FIELD_UTIME ||
           field == STAT_FIELD_STIME || field == STAT_FIELD_THREADS ||
           field == STAT_FIELD_START || field == STAT_FIELD_RSS;
}

/* The fields after the name, from state on. Returns 0 or -EINVAL. */
static int parse_fields(const char *p, size_t page_size, struct proc_info *out)
{
    uint64_t v, utime = 0, flags = 0;
    int neg, field = 3;
    p++; /* the blank after ')' was checked by the caller */
    if (*p == '\0' || *p == '\n' || text_is_blank(*p) || (unsigned char)*p < 0x20)
        return -EINVAL;
    out->state = *p++;
    while (*p != '\0' && *p != '\n') {
        if (*p != ' ')
            return -EINVAL;
        p++;
        field++;
        if (parse_field(&p, &v, &neg) != 0)
            return -EINVAL;
        if (*p != ' ' && *p != '\n' && *p != '\0')
            return -EINVAL;
        if (neg && used_field(field))
            return -EINVAL; /* the fields we keep are never negative */
        switch (field) {
        case 4:
            if (v > INT_MAX)
                return -EINVAL;
            out->ppid = (int)v;
            break;
        case STAT_FIELD_FLAGS:
            flags = v;
            break;
        case STAT_FIELD_UTIME:
            utime = v;
            break;
        case STAT_FIELD_STIME:
            out->cpu_ticks = text_sat_add(utime, v);
            break;
        case STAT_FIELD_THREADS:
            if (v > INT_MAX)
                return -EINVAL;
            out->threads = (int)v;
            break;
        case STAT_FIELD_START:
            out->start_ticks = v;
            break;
        case STAT_FIELD_RSS:
            out->rss = page_size != 0 && v > UINT64_MAX / page_size ? UINT64_MAX
                                                                     : v * page_size;
            break;
        default:
            break;
        }
    }
    if (field < STAT_FIELD_RSS || (*p == '\n' && p[1] != '\0'))
        return -EINVAL; /* too short, or a second line */
    out->kernel = (flags & PF_KTHREAD_FLAG) != 0 || out->pid == KTHREADD_PID ||
                  out->ppid == KTHREADD_PID;
    return 0;
}

/* The name runs from the first '(' to the last ')'; a ')' only inside the name would make
 * the fields after it fail, which is what we want. Returns 0 or -EINVAL, out zeroed then. */
int procs_parse_stat(const char *text, size_t page_size, struct proc_info *out)
{
    memset(out, 0, sizeof(*out));
    const char *open = strchr(text, '(');
    const char *close = strrchr(text, ')');
    if (open == NULL || close == NULL || close < open || close[1] != ' ')
        goto fail;
    if (parse_pid(text, open, &out->pid) != 0)
        goto fail;
    if (parse_fields(close + 1, page_size, out) != 0)
        goto fail;
    copy_bytes(out->comm, sizeof(out->comm), open + 1, (size_t)(close - open - 1));
    clean_text(out->comm);
    return 0;
fail:
    memset(out, 0, sizeof(*out));
    return -EINVAL;
}

/* The first of the four numbers of the "Uid:" line (the real uid). Returns 0, -ENOENT when
 * there is no such line, -EINVAL when it is malformed; *uid is left alone on failure. */
int procs_parse_status_uid(const char *text, uid_t *uid)
{
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        if (strncmp(line, "Uid:", 4) == 0) {
            const char *p = text_skip_blanks(line + 4);
            uint64_t v;
            if (text_parse_u64(&p, &v) != 0 || v > UINT32_MAX ||
                (!text_is_blank(*p) && *p != '\n' && *p != '\0'))
                return -EINVAL;
            *uid = (uid_t)v;
            return 0;
        }
        line = text_next_line(eol);
    }
    return -ENOENT;
}

/* argv arrives as NUL-separated strings (len bytes, possibly cut off): the NULs before the
 * last non-NUL byte become spaces, the trailing ones are dropped, the rest is cleaned like
 * a name. */
void procs_cmdline_join(const char *raw, size_t len, char *out, size_t cap)
{
    size_t end = len;
    if (cap == 0)
        return;
    while (end > 0 && raw[end - 1] == '\0')
        end--;
    size_t m = copy_bytes(out, cap, raw, end);
    for (size_t i = 0; i < m; i++)
        if (out[i] == '\0')
            out[i] = ' ';
    clean_text(out);
}

/* ---- reading one process ------------------------------------------------------------ */

/* Reads up to cap bytes of path (cmdline holds NULs, so text_read_file's string would not
 * say how much arrived). Returns the byte count or a negative errno. */
static ssize_t read_raw(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    ssize_t n = 0;
    while (len < cap) {
        n = text_read_some(fd, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    return n < 0 ? n : (ssize_t)len;
}

/* Reads the process in directory name (all digits) into out. Returns 0, or a negative errno
 * when it vanished or its files do not parse (the caller skips it). */
static int read_one(const char *proc_root, const char *name, size_t page_size,
                    struct proc_info *out)
{
    char path[PATH_MAX_PROC], buf[PROCS_STAT_MAX];
    int rc, n = snprintf(path, sizeof(path), "%s/%s/stat", proc_root, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    if ((rc = text_read_file(path, buf, sizeof(buf), 1)) != 0)
        return rc;
    if ((rc = procs_parse_stat(buf, page_size, out)) != 0)
        return rc;

    char status[STATUS_HEAD_MAX];
    snprintf(path, sizeof(path), "%s/%s/status", proc_root, name); /* shorter than stat's */
    if ((rc = text_read_file(path, status, sizeof(status), 0)) != 0)
        return rc;
    if ((rc = procs_parse_status_uid(status, &out->uid)) != 0)
        return rc;

    char raw[PROCS_CMD_MAX];
    snprintf(path, sizeof(path), "%s/%s/cmdline", proc_root, name);
    ssize_t len = read_raw(path, raw, sizeof(raw));
    out->cmd[0] = '\0';
    if (len > 0 && !out->kernel)
        procs_cmdline_join(raw, (size_t)len, out->cmd, sizeof(out->cmd));
    return 0;
}

/* A /proc entry is a process when its name is all digits. Returns 1 or 0. */
static int is_pid_name(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!text_is_digit(*s))
            return 0;
    return 1;
}

static int by_pid(const void *a, const void *b)
{
    const struct proc_info *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Makes room for one more entry. Returns 0, -ENOMEM, or 1 when PROCS_MAX is reached. */
static int grow(struct proc_table *t)
{
    if (t->n < t->cap)
        return 0;
    if (t->cap >= PROCS_MAX)
        return 1;
    size_t cap = t->cap == 0 ? TABLE_CAP_FIRST : t->cap * 2;
    if (cap > PROCS_MAX)
        cap = PROCS_MAX;
    struct proc_info *p = realloc(t->p, cap * sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    t->p = p;
    t->cap = cap;
    return 0;
}

/* ---- the table ---------------------------------------------------------------------- */

/* Lists proc_root once; each process costs three small reads. Returns 0, -ENOMEM, or the
 * negative errno of opendir/readdir; t is empty on failure. */
int procs_read(const char *proc_root, struct proc_table *t)
{
    memset(t, 0, sizeof(*t));
    long ps = sysconf(_SC_PAGESIZE);
    size_t page_size = ps > 0 ? (size_t)ps : 4096;
    int ret = 0;
    DIR *d = opendir(proc_root);
    if (d == NULL)
        return -errno;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            if (errno != 0)
                ret = -errno;
            break;
        }
        if (!is_pid_name(e->d_name))
            continue;
        int g = grow(t);
        if (g < 0) {
            ret = g;
            break;
        }
        if (g > 0) {
            t->truncated = 1;
            break;
        }
        if (read_one(proc_root, e->d_name, page_size, &t->p[t->n]) == 0 &&
            t->p[t->n].pid > 0) {
            char want[16];
            snprintf(want, sizeof(want), "%d", t->p[t->n].pid);
            if (strcmp(want, e->d_name) == 0) /* a stat that names another pid is junk */
                t->n++;
        }
    }
    closedir(d);
    if (ret != 0) {
        procs_free(t);
        return ret;
    }
    if (t->n > 1)
        qsort(t->p, t->n, sizeof(*t->p), by_pid);
    return 0;
}

/* free(NULL) is fine, so a zeroed table needs nothing special. */
void procs_free(struct proc_table *t)
{
    free(t->p);
    memset(t, 0, sizeof(*t));
}

static int key_cmp(const void *key, const void *elem)
{
    int pid = *(const int *)key;
    const struct proc_info *p = elem;
    return (pid > p->pid) - (pid < p->pid);
}

/* The table is sorted by procs_read. Returns the entry or NULL. */
const struct proc_info *procs_find(const struct proc_table *t, int pid)
{
    if (t == NULL || t->n == 0)
        return NULL;
    return bsearch(&pid, t->p, t->n, sizeof(*t->p), key_cmp);
}

/* sysconf(_SC_CLK_TCK), 100 when it fails (what every Linux port uses). */
static double clock_rate(void)
{
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (double)hz : 100.0;
}

/* A pid reused by a new process has another start time, and must not show the difference
 * of two unrelated counters. Returns the percent of one core, 0 when unknown. */
double procs_cpu_percent(const struct proc_table *prev, const struct proc_info *cur,
                         double elapsed_s)
{
    if (prev == NULL || cur == NULL || !(elapsed_s > 0))
        return 0.0;
    const struct proc_info *old = procs_find(prev, cur->pid);
    if (old == NULL || old->start_ticks != cur->start_ticks || cur->cpu_ticks < old->cpu_ticks)
        return 0.0;
    return (double)(cur->cpu_ticks - old->cpu_ticks) / clock_rate() / elapsed_s * 100.0;
}

/* Returns seconds after boot. */
double procs_start_seconds(const struct proc_info *p)
{
    return (double)p->start_ticks / clock_rate();
}
