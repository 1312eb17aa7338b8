#define _POSIX_C_SOURCE 200809L
/* File systems and block devices (see hostprobe.h).
 *
 * Rules worth knowing:
 *   - the file systems are those of <proc_root>/self/mountinfo, chosen like df: kernel pseudo
 *     file systems are skipped before statvfs; of two mounts on one mount point only the
 *     later (the one on top, which statvfs sees) counts; of the mounts of one file system
 *     (one major:minor) one is listed: a mount of its root "/" before a bind mount of a
 *     directory inside it, then the shortest mount point, then the first; file systems
 *     without blocks are dropped;
 *   - numbers are df -B1's: total = f_blocks * f_frsize, avail = f_bavail * f_frsize,
 *     used = total - f_bfree * f_frsize, used_pct = used / (used + avail) * 100;
 *   - whole block devices are those of /sys/block (a partition has no entry there); without
 *     /sys the kernel's naming tells them. */
#include "hostprobe.h"
#include "str.h"
#include "textscan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define OPTIONS_MAX 4096     /* a mount's option field, only scanned for "ro" */
#define DISKSTATS_MIN 11     /* numbers after the name on every kernel since 2.6 */
#define SYS_PATH_MAX 512     /* sys_root/block/name */

/* ---- mountinfo ------------------------------------------------------------------------ */

/* A field of a mountinfo line runs from p to the next blank or the line's end. Returns its
 * end. */
static const char *field_end(const char *p)
{
    while (*p != '\0' && *p != '\n' && *p != ' ' && *p != '\t')
        p++;
    return p;
}

static int is_octal(char c)
{
    return c >= '0' && c <= '7';
}

/* Decodes the field [p, end) into dst (cap bytes): the kernel writes a space, tab, newline
 * and backslash as \ooo. Returns 0, -EINVAL (a backslash not starting three octal digits,
 * an escaped NUL or a value above 255, an empty field) or -ENAMETOOLONG. */
static int decode_field(const char *p, const char *end, char *dst, size_t cap)
{
    size_t n = 0;
    if (p == end)
        return -EINVAL;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '\\') {
            if (end - p < 4 || !is_octal(p[1]) || !is_octal(p[2]) || !is_octal(p[3]))
                return -EINVAL;
            unsigned v = (unsigned)(p[1] - '0') * 64 + (unsigned)(p[2] - '0') * 8 +
                         (unsigned)(p[3] - '0');
            if (v == 0 || v > 255)
                return -EINVAL;
            c = (unsigned char)v;
            p += 4;
        } else {
            p++;
        }
        if (n + 1 >= cap)
            return -ENAMETOOLONG;
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
    return 0;
}

/* 1 when the comma-separated options [p, end) hold the word "ro". */
static int has_ro(const char *p, const char *end)
{
    while (p < end) {
        const char *c = p;
        while (c < end && *c != ',')
            c++;
        if (c - p == 2 && p[0] == 'r' && p[1] == 'o')
            return 1;
        p = c < end ? c + 1 : c;
    }
    return 0;
}

/* Parses "major:minor" in [p, end). Returns 0 or -EINVAL. */
static int parse_devnum(const char *p, const char *end, unsigned *major, unsigned *minor)
{
    uint64_t a, b;
    if (text_parse_u64(&p, &a) != 0 || *p != ':')
        return -EINVAL;
    p++;
    if (text_parse_u64(&p, &b) != 0 || p != end || a > UINT32_MAX || b > UINT32_MAX)
        return -EINVAL;
    *major = (unsigned)a;
    *minor = (unsigned)b;
    return 0;
}

/* Moves *pp past one field and the single space after it; the field is [*start, *end).
 * Returns 0, or -EINVAL at the line's end. */
static int next_field(const char **pp, const char **start, const char **end)
{
    const char *p = *pp;
    if (*p == '\0' || *p == '\n' || *p == ' ' || *p == '\t')
        return -EINVAL;
    *start = p;
    *end = p = field_end(p);
    if (*p == ' ' || *p == '\t')
        p++;
    *pp = p;
    return 0;
}

/* Fields: id, parent, major:minor, root, mount point, options, optional fields up to "-",
 * fstype, source, super options. Returns 0, -EINVAL or -ENAMETOOLONG; out zeroed on
 * failure. */
int host_parse_mountinfo_line(const char *text, struct host_mountinfo *out)
{
    const char *p = text, *s[6], *e[6], *fs, *fe;
    uint64_t id;
    int rc = -EINVAL;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < 6; i++)
        if (next_field(&p, &s[i], &e[i]) != 0)
            goto fail;
    for (int i = 0; i < 2; i++) {
        const char *q = s[i];
        if (text_parse_u64(&q, &id) != 0 || q != e[i])
            goto fail;
    }
    if (parse_devnum(s[2], e[2], &out->major, &out->minor) != 0)
        goto fail;
    if ((rc = decode_field(s[3], e[3], out->root, sizeof(out->root))) != 0 ||
        (rc = decode_field(s[4], e[4], out->mount, sizeof(out->mount))) != 0)
        goto fail;
    rc = -EINVAL;
    if (e[5] - s[5] > OPTIONS_MAX)
        goto fail;
    out->readonly = has_ro(s[5], e[5]);
    for (;;) { /* optional fields ("shared:1", "master:2") up to the "-" */
        if (next_field(&p, &fs, &fe) != 0)
            goto fail;
        if (fe - fs == 1 && *fs == '-')
            break;
    }
    if (next_field(&p, &fs, &fe) != 0)
        goto fail;
    if ((rc = decode_field(fs, fe, out->fstype, sizeof(out->fstype))) != 0)
        goto fail;
    if (next_field(&p, &fs, &fe) != 0) {
        rc = -EINVAL;
        goto fail;
    }
    if ((rc = decode_field(fs, fe, out->device, sizeof(out->device))) != 0)
        goto fail;
    rc = -EINVAL;
    if (next_field(&p, &fs, &fe) != 0 || !text_rest_blank(fe)) /* super options */
        goto fail;
    if (has_ro(fs, fe))
        out->readonly = 1;
    return 0;
fail:
    memset(out, 0, sizeof(*out));
    return rc;
}

/* The kernel's own file systems, and the fuse ones that only mirror them. */
static const char *const pseudo_fs[] = {
    "proc",      "sysfs",      "cgroup",     "cgroup2",   "devpts",      "mqueue",
    "debugfs",   "tracefs",    "securityfs", "pstore",    "bpf",         "configfs",
    "fusectl",   "hugetlbfs",  "autofs",     "binfmt_misc", "nsfs",      "rpc_pipefs",
    "efivarfs",  "selinuxfs",  "rootfs",     "devfs",     "kernfs",      "ramfs",
    "fuse.lxcfs", "fuse.gvfsd-fuse", "fuse.portal", "nfsd",   "sockfs",      "pipefs",
    "anon_inodefs", "smackfs", "apparmorfs", "ipathfs",   "openpromfs",  "usbfs",
    "xenfs",     "spufs",      "oprofilefs", "cpuset",    "none",
};

/* Returns 1 or 0. */
int host_fstype_is_pseudo(const char *fstype)
{
    for (size_t i = 0; i < sizeof(pseudo_fs) / sizeof(pseudo_fs[0]); i++)
        if (strcmp(fstype, pseudo_fs[i]) == 0)
            return 1;
    return 0;
}

/* a * b, saturating. */
static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* df's arithmetic. Returns 0, -ENODATA or the negative errno of statvfs. */
int host_mount_statvfs(const char *path, struct host_mount *m)
{
    struct statvfs v;
    m->total = m->used = m->avail = m->inodes_total = m->inodes_used = 0;
    m->used_pct = m->inodes_pct = 0;
    if (statvfs(path, &v) != 0)
        return -errno;
    if (v.f_blocks == 0)
        return -ENODATA;
    uint64_t unit = v.f_frsize != 0 ? (uint64_t)v.f_frsize : (uint64_t)v.f_bsize;
    uint64_t bfree = v.f_bfree < v.f_blocks ? v.f_bfree : v.f_blocks;
    m->total = sat_mul(v.f_blocks, unit);
    m->avail = sat_mul(v.f_bavail, unit);
    m->used = m->total - sat_mul(bfree, unit);
    if (m->used + m->avail > 0 && m->used <= UINT64_MAX - m->avail)
        m->used_pct = (double)m->used / ((double)m->used + (double)m->avail) * 100.0;
    if (v.f_files > 0) {
        m->inodes_total = v.f_files;
        m->inodes_used = v.f_ffree < v.f_files ? v.f_files - v.f_ffree : 0;
        m->inodes_pct = (double)m->inodes_used / (double)m->inodes_total * 100.0;
    }
    if (v.f_flag & ST_RDONLY)
        m->readonly = 1;
    return 0;
}

/* The candidates of one mountinfo read: real file systems, in file order. */
struct candidates {
    struct host_mountinfo *v;
    size_t n, cap;
    unsigned char *drop;
};

/* Adds mi. Returns 0, -ENOMEM, or 1 when HOST_MOUNT_LINES_MAX is reached. */
static int cand_add(struct candidates *c, const struct host_mountinfo *mi)
{
    if (c->n == c->cap) {
        if (c->cap >= HOST_MOUNT_LINES_MAX)
            return 1;
        size_t cap = c->cap == 0 ? 32 : c->cap * 2;
        if (cap > HOST_MOUNT_LINES_MAX)
            cap = HOST_MOUNT_LINES_MAX;
        struct host_mountinfo *v = realloc(c->v, cap * sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = *mi;
    return 0;
}

/* 1 when mount a should stand for its file system rather than b (both of one device). */
static int better(const struct host_mountinfo *a, size_t ia, const struct host_mountinfo *b,
                  size_t ib)
{
    int ra = strcmp(a->root, "/") == 0, rb = strcmp(b->root, "/") == 0;
    if (ra != rb)
        return ra;
    size_t la = strlen(a->mount), lb = strlen(b->mount);
    if (la != lb)
        return la < lb;
    return ia < ib;
}

/* Marks in c->drop the mounts hidden by a later one on the same mount point, then all but
 * the best mount of each device. */
static void choose(struct candidates *c)
{
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = i + 1; j < c->n && !c->drop[i]; j++)
            if (strcmp(c->v[i].mount, c->v[j].mount) == 0)
                c->drop[i] = 1;
    for (size_t i = 0; i < c->n; i++) {
        if (c->drop[i])
            continue;
        for (size_t j = 0; j < c->n; j++) {
            if (j == i || c->drop[j] || c->v[j].major != c->v[i].major ||
                c->v[j].minor != c->v[i].minor)
                continue;
            if (better(&c->v[j], j, &c->v[i], i)) {
                c->drop[i] = 1;
                break;
            }
        }
    }
}

/* Reads the mountinfo head into a heap buffer and collects its real file systems. Returns
 * 0, -ENOMEM, -ENAMETOOLONG or a negative errno of open/read. */
static int collect(const char *proc_root, struct candidates *c)
{
    char path[SYS_PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/self/mountinfo", proc_root);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    char *buf = malloc(HOST_MOUNTINFO_MAX);
    struct host_mountinfo *mi = malloc(sizeof(*mi));
    int rc = -ENOMEM;
    if (buf == NULL || mi == NULL)
        goto out;
    if ((rc = text_read_file(path, buf, HOST_MOUNTINFO_MAX, 0)) != 0)
        goto out;
    for (const char *line = buf; *line != '\0';) {
        const char *eol = text_line_end(line);
        if (*eol == '\0' && (size_t)(eol - buf) == HOST_MOUNTINFO_MAX - 1)
            break; /* cut off by the buffer */
        if (host_parse_mountinfo_line(line, mi) == 0 && !host_fstype_is_pseudo(mi->fstype)) {
            int a = cand_add(c, mi);
            if (a < 0) {
                rc = a;
                goto out;
            }
            if (a > 0)
                break;
        }
        line = text_next_line(eol);
    }
    rc = 0;
out:
    free(buf);
    free(mi);
    return rc;
}

/* Lists, chooses, then statvfs's the chosen mounts in mountinfo order. Returns 0 or a
 * negative errno (see hostprobe.h); *n counts the mounts filled. */
int host_mounts_read(const char *proc_root, struct host_mount *m, size_t max, size_t *n)
{
    struct candidates c = {0};
    *n = 0;
    int rc = collect(proc_root, &c);
    if (rc != 0)
        goto out;
    if (c.n == 0)
        goto out;
    c.drop = calloc(c.n, 1);
    if (c.drop == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    choose(&c);
    for (size_t i = 0; i < c.n && *n < max; i++) {
        if (c.drop[i])
            continue;
        struct host_mount *dst = &m[*n];
        memset(dst, 0, sizeof(*dst));
        dst->readonly = c.v[i].readonly;
        if (host_mount_statvfs(c.v[i].mount, dst) != 0)
            continue;
        str_copy(dst->mount, sizeof(dst->mount), c.v[i].mount);
        str_copy(dst->device, sizeof(dst->device), c.v[i].device);
        str_copy(dst->fstype, sizeof(dst->fstype), c.v[i].fstype);
        (*n)++;
    }
out:
    free(c.v);
    free(c.drop);
    return rc;
}

/* ---- diskstats ---------------------------------------------------------------------- */

/* Parses one diskstats line [line, eol) into d. Returns 0, -EINVAL, -ERANGE. */
static int parse_diskstat_line(const char *line, struct host_diskstat *d)
{
    const char *p = text_skip_blanks(line), *s, *e;
    uint64_t v[DISKSTATS_MIN], x, mj, mn;
    int rc;
    memset(d, 0, sizeof(*d));
    if ((rc = text_parse_u64(&p, &mj)) != 0 || !text_is_blank(*p))
        return rc != 0 ? rc : -EINVAL;
    p = text_skip_blanks(p);
    if ((rc = text_parse_u64(&p, &mn)) != 0 || !text_is_blank(*p))
        return rc != 0 ? rc : -EINVAL;
    if (mj > UINT32_MAX || mn > UINT32_MAX)
        return -ERANGE;
    p = text_skip_blanks(p);
    s = p;
    e = p = field_end(p);
    if (e == s || (size_t)(e - s) >= sizeof(d->name))
        return -EINVAL;
    size_t k = 0;
    while (*p != '\n' && *p != '\0') {
        if (!text_is_blank(*p))
            return -EINVAL;
        p = text_skip_blanks(p);
        if (*p == '\n' || *p == '\0')
            break;
        if ((rc = text_parse_u64(&p, &x)) != 0)
            return rc;
        if (k < DISKSTATS_MIN)
            v[k] = x;
        k++;
    }
    if (k < DISKSTATS_MIN)
        return -EINVAL;
    for (const char *q = s; q < e; q++)
        if ((unsigned char)*q < 0x21 || (unsigned char)*q == 0x7f)
            return -EINVAL;
    memcpy(d->name, s, (size_t)(e - s));
    d->name[e - s] = '\0';
    d->major = (unsigned)mj;
    d->minor = (unsigned)mn;
    d->reads = v[0];
    d->read_sectors = v[2];
    d->writes = v[4];
    d->write_sectors = v[6];
    d->io_ms = v[9];
    return 0;
}

/* Blank lines are skipped; any other malformed line fails the text. Returns 0, -EINVAL,
 * -ERANGE with *n 0 on failure. */
int host_parse_diskstats(const char *text, struct host_diskstat *d, size_t max, size_t *n,
                         host_diskstat_keep_fn keep, void *ctx)
{
    struct host_diskstat one;
    *n = 0;
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        if (!text_rest_blank(line)) {
            int rc = parse_diskstat_line(line, &one);
            if (rc != 0) {
                *n = 0;
                return rc;
            }
            if (*n < max && (keep == NULL || keep(&one, ctx)))
                d[(*n)++] = one;
        }
        line = text_next_line(eol);
    }
    return 0;
}

/* 1 when s starts with prefix. */
static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* By name: "<disk>p<N>" after a digit (nvme0n1p1, mmcblk0p1, loop0p1, md0p1, nbd0p1), or an
 * sd/vd/xvd/hd disk followed by digits. Returns 1 or 0. */
int host_blockdev_is_partition_name(const char *name)
{
    size_t len = strlen(name), s = len;
    while (s > 0 && text_is_digit(name[s - 1]))
        s--;
    if (s == len || s == 0)
        return 0;
    if (name[s - 1] == 'p' && s >= 2 && text_is_digit(name[s - 2]))
        return 1;
    if (!(starts(name, "sd") || starts(name, "vd") || starts(name, "xvd") ||
          starts(name, "hd")))
        return 0;
    for (size_t i = 0; i < s; i++)
        if (name[i] < 'a' || name[i] > 'z')
            return 0;
    return 1;
}

/* Returns 1 or 0. */
int host_blockdev_is_idle_virtual(const struct host_diskstat *d)
{
    if (d->reads != 0 || d->writes != 0)
        return 0;
    return starts(d->name, "loop") || starts(d->name, "ram") || starts(d->name, "zram");
}
