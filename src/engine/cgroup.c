#define _POSIX_C_SOURCE 200809L
/* The cgroup stats reader (see cgroup.h for what it reads and its limits).
 *
 * Files are read with open/read/close into caller stack buffers: a sample is a handful of
 * system calls and no allocation. The parsers work on NUL-terminated text and walk it line
 * by line with pointers, with the helpers of src/core/textscan.h (shared with the host
 * load reader); numbers are parsed by hand as unsigned 64-bit values, since the kernel
 * prints u64 counters that do not fit an int64.
 *
 * Rules worth knowing:
 *   - a container's cgroup is the process's cgroup path cut after the component that holds
 *     the full id ("/docker/<id>", ".../docker-<id>.scope"): the id must follow a '/' or a
 *     '-' and be followed by the end, a '/' or a '.'; the first such place counts (a
 *     container can create cgroups below its own, never above);
 *   - a path is mapped through the first cgroup mount of the right kind whose root is that
 *     path or one of its ancestors: directory = mount point + the rest of the path;
 *   - cgroup v1 is used when the process has a v1 cpuacct or memory line (this covers the
 *     "hybrid" layout, where a controller-less cgroup2 is mounted beside v1), the unified
 *     line otherwise;
 *   - a memory limit of 2^62 bytes or more is "unlimited" (v1 prints LONG_MAX rounded down
 *     to a page, v2 "max"). */
#include "cgroup.h"
#include "textscan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCATE_BUF 16384                 /* /proc/<pid>/cgroup and meminfo, read at locate */
#define FILE_PATH_MAX (CGROUP_PATH_MAX + 64) /* a directory plus a file name */
#define UNLIMITED_MIN ((uint64_t)1 << 62)

static const char *const ctl_names[CGROUP_CTL_COUNT] = {"cpuacct", "memory", "blkio", "pids"};

/* ---- mount options ------------------------------------------------------------------ */

/* 1 when the comma-separated list opts holds the word name. */
static int has_option(const char *opts, const char *name)
{
    size_t n = strlen(name);
    const char *p = opts;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return 1;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

/* ---- reading files ------------------------------------------------------------------ */

#define FD_ABSENT (-2) /* a cgroup_files slot whose file does not exist */

/* The slot of a kept-open file in a cgroup_files, by file name (v1 and v2 names of the same
 * figure share one: a container is one or the other); -1 for files not kept. */
static int slot_of(const char *file)
{
    static const char *const names[][2] = {
        [CGROUP_FILE_CPU] = {"cpuacct.usage", "cpu.stat"},
        [CGROUP_FILE_MEM] = {"memory.usage_in_bytes", "memory.current"},
        [CGROUP_FILE_MEMSTAT] = {"memory.stat", NULL},
        [CGROUP_FILE_MEMLIMIT] = {"memory.limit_in_bytes", "memory.max"},
        [CGROUP_FILE_IO] = {"blkio.throttle.io_service_bytes_recursive", "io.stat"},
        [CGROUP_FILE_IO_ALL] = {"blkio.io_service_bytes_recursive", NULL},
        [CGROUP_FILE_PIDS] = {"pids.current", NULL},
        [CGROUP_FILE_PIDSMAX] = {"pids.max", NULL},
        [CGROUP_FILE_NETDEV] = {"net/dev", NULL},
    };
    for (int i = 0; i < CGROUP_FILE_SLOTS; i++)
        if (strcmp(names[i][0], file) == 0 || (names[i][1] && strcmp(names[i][1], file) == 0))
            return i;
    return -1;
}

/* Reads dir/file whole into buf (CGROUP_READ_MAX bytes): through f's kept-open descriptor
 * when f is given (opening it the first time), else open/read/close. A descriptor whose read
 * fails is closed (the next read opens again). Returns like text_read_file. */
static int read_in(cgroup_files *f, const char *dir, const char *file, char *buf)
{
    char path[FILE_PATH_MAX];
    int slot = f != NULL ? slot_of(file) : -1;
    if (slot >= 0 && f->fd[slot] == FD_ABSENT)
        return -ENOENT; /* not on this kernel: no path lookup every second */
    if (slot >= 0 && f->fd[slot] >= 0) {
        int rc = text_pread_file(f->fd[slot], buf, CGROUP_READ_MAX, 1);
        if (rc != 0) {
            close(f->fd[slot]);
            f->fd[slot] = -1;
        }
        return rc;
    }
    int n = snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    if (slot < 0)
        return text_read_file(path, buf, CGROUP_READ_MAX, 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE))
        return text_read_file(path, buf, CGROUP_READ_MAX, 1); /* out of descriptors */
    if (fd < 0 && errno == ENOENT)
        f->fd[slot] = FD_ABSENT; /* until the container is located again */
    if (fd < 0)
        return -errno;
    f->fd[slot] = fd;
    return read_in(f, dir, file, buf);
}

/* Reads a file the sample cannot do without, telling a removed cgroup (-ENOENT) from a
 * controller that is not enabled for it (-EOPNOTSUPP). */
static int read_required(cgroup_files *f, const char *dir, const char *file, char *buf)
{
    int rc = read_in(f, dir, file, buf);
    if (rc == -ENODEV)
        return -ENOENT; /* the cgroup was removed while we read it */
    if (rc == -ENOENT) {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return -ENOENT;
        return -EOPNOTSUPP;
    }
    return rc;
}

/* Called per line (NUL-terminated, without its '\n'). Returns 0 to go on, 1 to stop with
 * success, a negative errno to stop with it. */
typedef int (*line_fn)(void *ctx, const char *line);

/* Streams the lines of path through fn with one CGROUP_LINE_MAX buffer; longer lines are
 * skipped whole. Returns 0, a negative errno of open/read, -EFBIG beyond total_max bytes,
 * or fn's negative return. */
static int scan_lines(const char *path, size_t total_max, line_fn fn, void *ctx)
{
    char buf[CGROUP_LINE_MAX + 1];
    size_t have = 0, total = 0;
    int skipping = 0, ret = 0, rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    ssize_t n;
    while ((n = text_read_some(fd, buf + have, CGROUP_LINE_MAX - have)) > 0) {
        total += (size_t)n;
        if (total > total_max) {
            ret = -EFBIG;
            goto out;
        }
        have += (size_t)n;
        size_t start = 0;
        char *nl;
        while ((nl = memchr(buf + start, '\n', have - start)) != NULL) {
            *nl = '\0';
            if (!skipping && (rc = fn(ctx, buf + start)) != 0) {
                ret = rc > 0 ? 0 : rc;
                goto out;
            }
            skipping = 0;
            start = (size_t)(nl - buf) + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == CGROUP_LINE_MAX) { /* an over-long line: drop it up to its '\n' */
            skipping = 1;
            have = 0;
        }
    }
    if (n < 0) {
        ret = (int)n;
        goto out;
    }
    if (have > 0 && !skipping) {
        buf[have] = '\0';
        rc = fn(ctx, buf);
        ret = rc > 0 ? 0 : rc;
    }
out:
    close(fd);
    return ret;
}

/* ---- pure parsers ------------------------------------------------------------------- */

/* One-value files: a number or "max", then blanks and newlines only. Returns 0, -EINVAL or
 * -ERANGE, with *out 0 on failure. */
int cgroup_parse_value(const char *text, uint64_t *out)
{
    const char *p = text;
    uint64_t v = UINT64_MAX;
    int rc = 0;
    *out = 0;
    if (strncmp(p, "max", 3) == 0)
        p += 3;
    else if ((rc = text_parse_u64(&p, &v)) != 0)
        return rc;
    while (text_is_blank(*p) || *p == '\n')
        p++;
    if (*p != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

/* Flat keyed files: the first line that starts with key and a blank counts. Returns 0,
 * -ENOENT, -EINVAL or -ERANGE, with *out 0 on failure. */
int cgroup_parse_kv(const char *text, const char *key, uint64_t *out)
{
    size_t klen = strlen(key);
    *out = 0;
    if (klen == 0)
        return -EINVAL;
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        if ((size_t)(eol - line) > klen && memcmp(line, key, klen) == 0 &&
            text_is_blank(line[klen])) {
            const char *p = text_skip_blanks(line + klen);
            uint64_t v;
            int rc = text_parse_u64(&p, &v);
            if (rc != 0)
                return rc;
            if (!text_rest_blank(p))
                return -EINVAL;
            *out = v;
            return 0;
        }
        line = text_next_line(eol);
    }
    return -ENOENT;
}

/* Parses "MAJ:MIN" at *pp and moves past it. Returns 0 or -EINVAL. */
static int parse_device(const char **pp)
{
    uint64_t v;
    const char *p = *pp;
    if (text_parse_u64(&p, &v) != 0 || *p != ':')
        return -EINVAL;
    p++;
    if (text_parse_u64(&p, &v) != 0)
        return -EINVAL;
    *pp = p;
    return 0;
}

/* Adds v to *r when word (len bytes, not NUL-terminated) is rname, to *w when it is wname:
 * the two blkio parsers sum the same two directions under different names, and every other
 * word (Sync, Async, rios, dbytes...) is not summed. */
static void add_io(const char *word, size_t len, const char *rname, const char *wname,
                   uint64_t v, uint64_t *r, uint64_t *w)
{
    if (len == strlen(rname) && memcmp(word, rname, len) == 0)
        *r = text_sat_add(*r, v);
    else if (len == strlen(wname) && memcmp(word, wname, len) == 0)
        *w = text_sat_add(*w, v);
}

/* Sums Read and Write per device line; "Total" lines and other operations are checked for
 * shape only. Returns 0, -EINVAL or -ERANGE, with zero sums on failure. */
int cgroup_parse_blkio_v1(const char *text, uint64_t *rd, uint64_t *wr)
{
    uint64_t r = 0, w = 0, v;
    int rc = 0;
    *rd = *wr = 0;
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        const char *p = text_skip_blanks(line);
        if (p == eol)
            goto next;
        if (strncmp(p, "Total", 5) == 0 && text_is_blank(p[5])) {
            p = text_skip_blanks(p + 6);
        } else {
            if (parse_device(&p) != 0 || !text_is_blank(*p))
                return -EINVAL;
            p = text_skip_blanks(p);
            const char *op = p;
            while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
                p++;
            size_t oplen = (size_t)(p - op);
            if (oplen == 0 || !text_is_blank(*p))
                return -EINVAL;
            p = text_skip_blanks(p);
            if ((rc = text_parse_u64(&p, &v)) != 0)
                return rc;
            add_io(op, oplen, "Read", "Write", v, &r, &w);
            if (!text_rest_blank(p))
                return -EINVAL;
            goto next;
        }
        /* the "Total N" line: checked, not used */
        if ((rc = text_parse_u64(&p, &v)) != 0)
            return rc;
        if (!text_rest_blank(p))
            return -EINVAL;
    next:
        line = text_next_line(eol);
    }
    *rd = r;
    *wr = w;
    return 0;
}

/* Sums rbytes= and wbytes= per device line, checking every other key=value for shape.
 * Returns 0, -EINVAL or -ERANGE, with zero sums on failure. */
int cgroup_parse_io_v2(const char *text, uint64_t *rd, uint64_t *wr)
{
    uint64_t r = 0, w = 0, v;
    int rc;
    *rd = *wr = 0;
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        const char *p = text_skip_blanks(line);
        if (p == eol)
            goto next;
        if (parse_device(&p) != 0)
            return -EINVAL;
        while (!text_rest_blank(p)) {
            if (!text_is_blank(*p))
                return -EINVAL;
            p = text_skip_blanks(p);
            const char *key = p;
            while ((*p >= 'a' && *p <= 'z') || *p == '_')
                p++;
            size_t klen = (size_t)(p - key);
            if (klen == 0 || *p != '=')
                return -EINVAL;
            p++;
            if ((rc = text_parse_u64(&p, &v)) != 0)
                return rc;
            add_io(key, klen, "rbytes", "wbytes", v, &r, &w);
        }
    next:
        line = text_next_line(eol);
    }
    *rd = r;
    *wr = w;
    return 0;
}

#define NETDEV_FIELDS 16 /* 8 receive, 8 transmit; the 9th is transmitted bytes */

/* Sums the first (received) and ninth (sent) byte counts of each interface line but lo;
 * the headers have no ':' and are passed over. Returns 0, -EINVAL or -ERANGE, zero sums on
 * failure. */
int cgroup_parse_netdev(const char *text, uint64_t *rx, uint64_t *tx)
{
    uint64_t r = 0, t = 0;
    int rc;
    *rx = *tx = 0;
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (colon == NULL)
            goto next; /* the two header lines */
        const char *name = text_skip_blanks(line);
        const char *name_end = colon;
        while (name_end > name && text_is_blank(name_end[-1]))
            name_end--;
        if (name_end - name == 2 && memcmp(name, "lo", 2) == 0)
            goto next;
        uint64_t f[NETDEV_FIELDS] = {0};
        size_t n = 0;
        const char *p = text_skip_blanks(colon + 1);
        while (p < eol && n < NETDEV_FIELDS) {
            if ((rc = text_parse_u64(&p, &f[n])) != 0)
                return rc;
            n++;
            if (!text_is_blank(*p) && *p != '\n' && *p != '\0')
                return -EINVAL;
            p = text_skip_blanks(p);
        }
        if (n < 9 || !text_rest_blank(p))
            return -EINVAL;
        r = text_sat_add(r, f[0]);
        t = text_sat_add(t, f[8]);
    next:
        line = text_next_line(eol);
    }
    *rx = r;
    *tx = t;
    return 0;
}

/* 1 when id is CGROUP_ID_LEN lowercase hex characters. */
static int valid_id(const char *id)
{
    size_t i;
    for (i = 0; i < CGROUP_ID_LEN; i++)
        if (!text_is_digit(id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
            return 0;
    return id[i] == '\0';
}

/* 1 when the path (len bytes) holds a ".." component. */
static int has_dotdot(const char *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (p[i] == '.' && p[i + 1] == '.' && (i == 0 || p[i - 1] == '/') &&
            (i + 2 == len || p[i + 2] == '/'))
            return 1;
    return 0;
}

/* Copies the container's cgroup out of a process's path (len bytes): up to the end of the
 * component holding the id. Returns 0, -ESRCH (the id is not there, or a ".." component),
 * -ENAMETOOLONG. */
static int container_path(const char *path, size_t len, const char *id, char *dst)
{
    for (size_t i = 1; i + CGROUP_ID_LEN <= len; i++) {
        if (memcmp(path + i, id, CGROUP_ID_LEN) != 0)
            continue;
        size_t e = i + CGROUP_ID_LEN;
        if ((path[i - 1] != '/' && path[i - 1] != '-') ||
            (e < len && path[e] != '/' && path[e] != '.'))
            continue;
        while (e < len && path[e] != '/')
            e++;
        if (has_dotdot(path, e))
            return -ESRCH;
        if (e >= CGROUP_PATH_MAX)
            return -ENAMETOOLONG;
        memcpy(dst, path, e);
        dst[e] = '\0';
        return 0;
    }
    return -ESRCH;
}

struct view {
    const char *p;
    size_t len;
};

/* Collects a view of the path for each controller we read, then decides v1 or v2 and cuts
 * each used path to the container's cgroup. Returns 0, -EINVAL, -ENAMETOOLONG, -ENOENT or
 * -ESRCH, with out zeroed on failure. */
int cgroup_parse_proc_cgroup(const char *text, const char *docker_id, cgroup_proc_info *out)
{
    struct view v1[CGROUP_CTL_COUNT] = {{NULL, 0}};
    struct view unified = {NULL, 0};
    int ret = 0;
    memset(out, 0, sizeof(*out));
    if (!valid_id(docker_id))
        return -EINVAL;
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        const char *p = line;
        uint64_t hier;
        if (p == eol)
            goto next;
        if (text_parse_u64(&p, &hier) != 0 || *p != ':')
            return -EINVAL;
        const char *ctl = ++p;
        const char *colon = memchr(ctl, ':', (size_t)(eol - ctl));
        if (colon == NULL || colon + 1 == eol || colon[1] != '/')
            return -EINVAL;
        struct view path = {colon + 1, (size_t)(eol - colon - 1)};
        if (colon == ctl) {
            if (hier == 0 && unified.p == NULL)
                unified = path;
            goto next;
        }
        for (const char *c = ctl; c < colon;) {
            const char *comma = memchr(c, ',', (size_t)(colon - c));
            const char *end = comma != NULL ? comma : colon;
            for (int k = 0; k < CGROUP_CTL_COUNT; k++) {
                size_t n = strlen(ctl_names[k]);
                if ((size_t)(end - c) == n && memcmp(c, ctl_names[k], n) == 0 &&
                    v1[k].p == NULL)
                    v1[k] = path;
            }
            c = end + 1;
        }
    next:
        line = text_next_line(eol);
    }
    if (v1[CGROUP_CTL_CPU].p != NULL || v1[CGROUP_CTL_MEMORY].p != NULL) {
        if (v1[CGROUP_CTL_CPU].p == NULL || v1[CGROUP_CTL_MEMORY].p == NULL)
            return -ENOENT;
        for (int k = 0; k < CGROUP_CTL_COUNT; k++) {
            if (v1[k].p == NULL)
                continue;
            if ((ret = container_path(v1[k].p, v1[k].len, docker_id, out->path[k])) != 0)
                goto fail;
        }
        return 0;
    }
    if (unified.p == NULL)
        return -ENOENT;
    if ((ret = container_path(unified.p, unified.len, docker_id, out->path[0])) != 0)
        goto fail;
    out->v2 = 1;
    for (int k = 1; k < CGROUP_CTL_COUNT; k++)
        memcpy(out->path[k], out->path[0], sizeof(out->path[0]));
    return 0;
fail:
    memset(out, 0, sizeof(*out));
    return ret;
}

/* Copies a mountinfo field (len bytes) into dst (cap bytes), decoding the kernel's octal
 * escapes (\040 for a space and the like). Returns 0, -EINVAL (a bad escape or a NUL),
 * -ENAMETOOLONG. */
static int unescape(const char *s, size_t len, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\') {
            if (len - i < 4)
                return -EINVAL;
            unsigned v = 0;
            for (size_t k = 1; k <= 3; k++) {
                if (s[i + k] < '0' || s[i + k] > '7')
                    return -EINVAL;
                v = v * 8 + (unsigned)(s[i + k] - '0');
            }
            if (v == 0 || v > 255)
                return -EINVAL;
            c = (char)v;
            i += 3;
        }
        if (o + 1 >= cap)
            return -ENAMETOOLONG;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return 0;
}

#define MOUNTINFO_FIELDS 6 /* before the optional fields: id parent maj:min root point opts */

/* Splits the line on spaces: six fields, optional fields up to "-", then type, source and
 * super options. Non-cgroup types are -ENOENT before the rest is looked at, so long overlay
 * options never matter. Returns 0, -ENOENT, -EINVAL or -ENAMETOOLONG, out zeroed unless 0. */
int cgroup_parse_mountinfo_line(const char *line, cgroup_mount *out)
{
    struct view f[MOUNTINFO_FIELDS + 3]; /* the six, then fstype, source, super options */
    size_t nf = 0;
    int sep = 0, rc;
    uint64_t num;
    memset(out, 0, sizeof(*out));
    const char *eol = text_line_end(line);
    for (const char *p = line; p < eol;) {
        while (p < eol && *p == ' ')
            p++;
        if (p == eol)
            break;
        const char *start = p;
        while (p < eol && *p != ' ')
            p++;
        struct view tok = {start, (size_t)(p - start)};
        if (nf < MOUNTINFO_FIELDS) {
            f[nf++] = tok;
        } else if (!sep) {
            if (tok.len == 1 && tok.p[0] == '-')
                sep = 1; /* before it: optional fields such as "shared:5" */
        } else if (nf < MOUNTINFO_FIELDS + 3) {
            f[nf++] = tok;
        } else {
            return -EINVAL;
        }
    }
    if (!sep || nf != MOUNTINFO_FIELDS + 3)
        return -EINVAL;
    for (size_t i = 0; i < 3; i++) { /* mount id, parent id, major:minor */
        const char *p = f[i].p;
        if (i == 2 ? parse_device(&p) != 0 : text_parse_u64(&p, &num) != 0)
            return -EINVAL;
        if (p != f[i].p + f[i].len)
            return -EINVAL;
    }
    const struct view *fs = &f[MOUNTINFO_FIELDS];
    if (fs->len == 7 && memcmp(fs->p, "cgroup2", 7) == 0)
        out->v2 = 1;
    else if (!(fs->len == 6 && memcmp(fs->p, "cgroup", 6) == 0))
        return -ENOENT;
    if (f[3].p[0] != '/' || f[4].p[0] != '/') {
        rc = -EINVAL;
        goto fail;
    }
    if ((rc = unescape(f[3].p, f[3].len, out->root, sizeof(out->root))) != 0 ||
        (rc = unescape(f[4].p, f[4].len, out->point, sizeof(out->point))) != 0)
        goto fail;
    const struct view *so = &f[MOUNTINFO_FIELDS + 2];
    if (so->len >= sizeof(out->options)) {
        rc = -ENAMETOOLONG;
        goto fail;
    }
    memcpy(out->options, so->p, so->len);
    out->options[so->len] = '\0';
    return 0;
fail:
    memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- locate ------------------------------------------------------------------------- */

static char *dir_of(cgroup_paths *p, int ctl)
{
    switch (ctl) {
    case CGROUP_CTL_CPU: return p->cpu;
    case CGROUP_CTL_MEMORY: return p->memory;
    case CGROUP_CTL_BLKIO: return p->blkio;
    default: return p->pids;
    }
}

/* Maps a path of the hierarchy through mount m into dst. Returns 0, -ENOENT (the mount
 * does not show that path), -ENAMETOOLONG. */
static int map_path(const cgroup_mount *m, const char *path, char *dst)
{
    const char *rel = path;
    size_t rlen = strlen(m->root);
    if (strcmp(m->root, "/") != 0) {
        if (strncmp(path, m->root, rlen) != 0 || (path[rlen] != '\0' && path[rlen] != '/'))
            return -ENOENT;
        rel = path + rlen;
    }
    const char *point = strcmp(m->point, "/") == 0 ? "" : m->point;
    if (point[0] == '\0' && rel[0] == '\0')
        rel = "/";
    int n = snprintf(dst, CGROUP_PATH_MAX, "%s%s", point, rel);
    if (n < 0 || n >= CGROUP_PATH_MAX) {
        dst[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

struct locate_ctx {
    const cgroup_proc_info *info;
    cgroup_paths *out;
};

/* Resolves what the mount on this line can resolve; stops once all are found. */
static int on_mount(void *vctx, const char *line)
{
    struct locate_ctx *ctx = vctx;
    cgroup_mount m;
    int missing = 0;
    if (cgroup_parse_mountinfo_line(line, &m) != 0)
        return 0; /* other file systems; a line we cannot read is no cgroup mount of ours */
    for (int k = 0; k < CGROUP_CTL_COUNT; k++) {
        char *dst = dir_of(ctx->out, k);
        if (dst[0] != '\0' || ctx->info->path[k][0] == '\0')
            continue;
        if (m.v2 == ctx->info->v2 && (m.v2 || has_option(m.options, ctl_names[k]))) {
            int rc = map_path(&m, ctx->info->path[k], dst);
            if (rc == -ENAMETOOLONG)
                return rc;
        }
        if (dst[0] == '\0')
            missing = 1;
    }
    return missing ? 0 : 1;
}

/* MemTotal of a meminfo text in bytes; 0 when it is not there. */
static uint64_t meminfo_total(const char *text)
{
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        if (strncmp(line, "MemTotal:", 9) == 0) {
            const char *p = text_skip_blanks(line + 9);
            uint64_t kb;
            if (text_parse_u64(&p, &kb) != 0 || kb > UINT64_MAX / 1024)
                return 0;
            p = text_skip_blanks(p);
            if (strncmp(p, "kB", 2) != 0 || !text_rest_blank(p + 2))
                return 0;
            return kb * 1024;
        }
        line = text_next_line(eol);
    }
    return 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The process's cgroup lines, then our mounts, then a check that the directories exist.
 * Returns 0 or the negative errno documented in cgroup.h, with out zeroed on failure. */
int cgroup_locate(const char *proc_root, const char *mountinfo_path, int pid,
                  const char *docker_id, cgroup_paths *out)
{
    char buf[LOCATE_BUF];
    char path[FILE_PATH_MAX];
    cgroup_proc_info info;
    int ret, n;
    memset(out, 0, sizeof(*out));
    if (proc_root == NULL || mountinfo_path == NULL || docker_id == NULL || pid <= 0 ||
        !valid_id(docker_id))
        return -EINVAL;
    size_t rlen = strlen(proc_root);
    if (rlen == 0 || rlen >= sizeof(out->proc_root))
        return -EINVAL;
    memcpy(out->proc_root, proc_root, rlen + 1);
    out->pid = pid;

    n = snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, pid);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        ret = -ENAMETOOLONG;
        goto out;
    }
    ret = text_read_file(path, buf, sizeof(buf), 1);
    if (ret == -ENOENT || ret == -ESRCH) {
        ret = -ESRCH; /* the process is gone */
        goto out;
    }
    if (ret != 0)
        goto out;
    if ((ret = cgroup_parse_proc_cgroup(buf, docker_id, &info)) != 0)
        goto out;
    out->v2 = info.v2;

    struct locate_ctx ctx = {&info, out};
    if ((ret = scan_lines(mountinfo_path, CGROUP_MOUNTINFO_MAX, on_mount, &ctx)) != 0)
        goto out;
    if (out->cpu[0] == '\0' || out->memory[0] == '\0' || !is_dir(out->cpu) ||
        !is_dir(out->memory)) {
        ret = -ENOENT;
        goto out;
    }

    n = snprintf(path, sizeof(path), "%s/meminfo", proc_root);
    if (n > 0 && (size_t)n < sizeof(path) && text_read_file(path, buf, sizeof(buf), 1) == 0)
        out->mem_total = meminfo_total(buf);
out:
    if (ret != 0)
        memset(out, 0, sizeof(*out));
    return ret;
}

/* Notes that a cgroup mount exists and stops the scan. */
static int on_any_mount(void *ctx, const char *line)
{
    cgroup_mount m;
    if (cgroup_parse_mountinfo_line(line, &m) != 0)
        return 0;
    *(int *)ctx = 1;
    return 1;
}

/* Any cgroup mount will do: returns 1 when one is listed, 0 otherwise. */
int cgroup_available(const char *mountinfo_path)
{
    int found = 0;
    if (mountinfo_path == NULL)
        return 0;
    return scan_lines(mountinfo_path, CGROUP_MOUNTINFO_MAX, on_any_mount, &found) == 0 && found;
}

/* ---- read --------------------------------------------------------------------------- */

/* Reads a one-value file of a required controller. */
static int read_value(cgroup_files *f, const char *dir, const char *file, char *buf,
                      uint64_t *out)
{
    int rc = read_required(f, dir, file, buf);
    if (rc != 0)
        return rc;
    return cgroup_parse_value(buf, out);
}

/* The inactive file cache of a memory.stat; a missing key counts as none. */
static int read_inactive(cgroup_files *f, const char *dir, const char *key, char *buf,
                         uint64_t *out)
{
    int rc = read_required(f, dir, "memory.stat", buf);
    if (rc != 0)
        return rc;
    rc = cgroup_parse_kv(buf, key, out);
    return rc == -ENOENT ? 0 : rc;
}

/* The limit as shown: the host's memory when unlimited or above it. */
static uint64_t shown_limit(uint64_t limit, uint64_t mem_total)
{
    if (limit >= UNLIMITED_MIN)
        return mem_total;
    if (mem_total > 0 && limit > mem_total)
        return mem_total;
    return limit;
}

/* Limits change only with `docker update`: with kept descriptors they are read on every
 * CGROUP_LIMITS_EVERY-th sample and remembered in between. */
static int due(const cgroup_files *f)
{
    return f == NULL || !f->have_limits || f->reads % CGROUP_LIMITS_EVERY == 0;
}

static int read_limit(cgroup_files *f, const char *dir, const char *file, char *buf,
                      uint64_t *out)
{
    if (!due(f)) {
        *out = f->mem_limit;
        return 0;
    }
    int rc = read_value(f, dir, file, buf, out);
    if (rc == 0 && f != NULL)
        f->mem_limit = *out;
    return rc;
}

/* CPU and memory, which a sample cannot do without. */
static int read_required_figures(const cgroup_paths *p, cgroup_files *f, char *buf,
                                 cgroup_sample *out)
{
    uint64_t usage = 0, inactive = 0, limit = 0, v = 0;
    int rc;
    if (p->v2) {
        if ((rc = read_required(f, p->cpu, "cpu.stat", buf)) != 0 ||
            (rc = cgroup_parse_kv(buf, "usage_usec", &v)) != 0)
            return rc;
        out->cpu_ns = v > UINT64_MAX / 1000 ? UINT64_MAX : v * 1000;
        if ((rc = read_value(f, p->memory, "memory.current", buf, &usage)) != 0 ||
            (rc = read_inactive(f, p->memory, "inactive_file", buf, &inactive)) != 0 ||
            (rc = read_limit(f, p->memory, "memory.max", buf, &limit)) != 0)
            return rc;
    } else {
        if ((rc = read_value(f, p->cpu, "cpuacct.usage", buf, &out->cpu_ns)) != 0 ||
            (rc = read_value(f, p->memory, "memory.usage_in_bytes", buf, &usage)) != 0 ||
            (rc = read_inactive(f, p->memory, "total_inactive_file", buf, &inactive)) != 0 ||
            (rc = read_limit(f, p->memory, "memory.limit_in_bytes", buf, &limit)) != 0)
            return rc;
    }
    out->mem_usage = inactive < usage ? usage - inactive : usage;
    out->mem_limit = shown_limit(limit, p->mem_total);
    return 0;
}

/* Block I/O; zeros when nothing can be read. */
static void read_blkio(const cgroup_paths *p, cgroup_files *f, char *buf, cgroup_sample *out)
{
    if (p->blkio[0] == '\0')
        return;
    if (p->v2) {
        if (read_in(f, p->blkio, "io.stat", buf) == 0)
            (void)cgroup_parse_io_v2(buf, &out->blk_read, &out->blk_write);
        return;
    }
    if (read_in(f, p->blkio, "blkio.throttle.io_service_bytes_recursive", buf) == 0)
        (void)cgroup_parse_blkio_v1(buf, &out->blk_read, &out->blk_write);
    if (out->blk_read == 0 && out->blk_write == 0 &&
        read_in(f, p->blkio, "blkio.io_service_bytes_recursive", buf) == 0)
        (void)cgroup_parse_blkio_v1(buf, &out->blk_read, &out->blk_write);
}

/* CPU and memory first (a failure there zeroes the sample and is returned), then the
 * figures that may be missing. Returns 0 or the negative errno documented in cgroup.h. */
void cgroup_files_init(cgroup_files *f)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < CGROUP_FILE_SLOTS; i++)
        f->fd[i] = -1;
}

void cgroup_files_close(cgroup_files *f)
{
    for (int i = 0; i < CGROUP_FILE_SLOTS; i++) {
        if (f->fd[i] >= 0)
            close(f->fd[i]);
        f->fd[i] = -1; /* FD_ABSENT too: the next location may have the file */
    }
    f->have_limits = 0;
    f->reads = 0;
}

int cgroup_read(const cgroup_paths *p, cgroup_sample *out)
{
    return cgroup_read_files(p, NULL, out);
}

int cgroup_read_files(const cgroup_paths *p, cgroup_files *f, cgroup_sample *out)
{
    char buf[CGROUP_READ_MAX];
    char dir[FILE_PATH_MAX];
    uint64_t v;
    memset(out, 0, sizeof(*out));
    int rc = read_required_figures(p, f, buf, out);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        /* Gone or changed: let go of everything, the net/dev one keeps a namespace alive. */
        if (f != NULL)
            cgroup_files_close(f);
        return rc;
    }
    if (p->pids[0] != '\0') {
        if (read_in(f, p->pids, "pids.current", buf) == 0 && cgroup_parse_value(buf, &v) == 0)
            out->pids = v;
        if (!due(f))
            out->pids_limit = f->pids_max;
        else if (read_in(f, p->pids, "pids.max", buf) == 0 && cgroup_parse_value(buf, &v) == 0)
            out->pids_limit = v == UINT64_MAX ? 0 : v;
        if (f != NULL)
            f->pids_max = out->pids_limit;
    }
    if (f != NULL) {
        f->have_limits = 1;
        f->reads++;
    }
    read_blkio(p, f, buf, out);
    int n = snprintf(dir, sizeof(dir), "%s/%d", p->proc_root, p->pid);
    if (n > 0 && (size_t)n < sizeof(dir) && read_in(f, dir, "net/dev", buf) == 0 &&
        cgroup_parse_netdev(buf, &out->net_rx, &out->net_tx) == 0)
        out->have_net = 1;
    return 0;
}

/* A counter that went backwards means a restart: no figure rather than a wrong one.
 * Returns the percentage of one core, 0 when it cannot be computed. */
double cgroup_cpu_percent(uint64_t prev_cpu_ns, uint64_t cpu_ns, uint64_t dt_ns)
{
    if (dt_ns == 0 || cpu_ns < prev_cpu_ns)
        return 0.0;
    return (double)(cpu_ns - prev_cpu_ns) / (double)dt_ns * 100.0;
}
