#define _POSIX_C_SOURCE 200809L
/* Listening sockets from /proc/net and their owners from /proc/<pid>/fd (sockets.h). */
#include "sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "str.h"
#include "textscan.h"

#define TCP_LISTEN 0x0A
#define READ_CHUNK (64u << 10) /* the first buffer for a /proc/net file, doubled as needed */

const char *sockets_proto_name(enum sockets_proto p)
{
    switch (p) {
    case SOCKETS_TCP: return "tcp";
    case SOCKETS_TCP6: return "tcp6";
    case SOCKETS_UDP: return "udp";
    case SOCKETS_UDP6: return "udp6";
    }
    return "?";
}

static int is_v6(enum sockets_proto p)
{
    return p == SOCKETS_TCP6 || p == SOCKETS_UDP6;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Parses exactly n (1..8) hex digits at *pp into *out and moves *pp past them. Returns 0 or
 * -EINVAL (a non-hex character before n digits, the end of the text included). */
static int hex_fixed(const char **pp, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_value((*pp)[i]);
        if (d < 0)
            return -EINVAL;
        v = v << 4 | (uint32_t)d;
    }
    *pp += n;
    *out = v;
    return 0;
}

/* Parses one or more hex digits (at most 16, a u64) at *pp. Returns 0 or -EINVAL. */
static int hex_some(const char **pp, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    size_t n = 0;
    for (; hex_value(*p) >= 0; p++, n++) {
        if (n == 16)
            return -EINVAL;
        v = v << 4 | (uint64_t)hex_value(*p);
    }
    if (n == 0)
        return -EINVAL;
    *pp = p;
    *out = v;
    return 0;
}

/* Parses "ADDR:PORT" where ADDR is one (v4) or four (v6) 8-digit words, the kernel's
 * native-order print of the address's memory, into the 16 bytes raw (v4 uses 4). */
static int parse_endpoint(const char **pp, int v6, unsigned char raw[16], unsigned *port)
{
    size_t words = v6 ? 4 : 1;
    for (size_t i = 0; i < words; i++) {
        uint32_t w;
        if (hex_fixed(pp, 8, &w) != 0)
            return -EINVAL;
        memcpy(raw + 4 * i, &w, sizeof(w)); /* back into memory as the kernel held it */
    }
    if (**pp != ':')
        return -EINVAL;
    (*pp)++;
    uint32_t pv;
    if (hex_fixed(pp, 4, &pv) != 0)
        return -EINVAL;
    *port = pv;
    return 0;
}

static int expect_blanks(const char **pp)
{
    if (!text_is_blank(**pp))
        return -EINVAL;
    *pp = text_skip_blanks(*pp);
    return 0;
}

/* Parses "HEX:HEX" (tx:rx queues, timer:when) and discards it. */
static int skip_hex_pair(const char **pp)
{
    uint64_t v;
    if (hex_some(pp, &v) != 0 || **pp != ':')
        return -EINVAL;
    (*pp)++;
    return hex_some(pp, &v);
}

/* Parses one data line (from p to its end) into s. Returns 1 when it is a listening socket,
 * 0 when it parses but does not listen, -EINVAL when it does not parse. */
static int parse_line(const char *p, enum sockets_proto proto, struct socket_listen *s)
{
    int v6 = is_v6(proto);
    unsigned char local[16] = {0}, remote[16] = {0};
    unsigned lport, rport;
    uint64_t v, state, uid, inode;

    p = text_skip_blanks(p);
    if (text_parse_u64(&p, &v) != 0 || *p != ':')
        return -EINVAL;
    p++;
    if (expect_blanks(&p) != 0 || parse_endpoint(&p, v6, local, &lport) != 0)
        return -EINVAL;
    if (expect_blanks(&p) != 0 || parse_endpoint(&p, v6, remote, &rport) != 0)
        return -EINVAL;
    if (expect_blanks(&p) != 0 || hex_some(&p, &state) != 0)
        return -EINVAL;
    if (expect_blanks(&p) != 0 || skip_hex_pair(&p) != 0) /* tx_queue:rx_queue */
        return -EINVAL;
    if (expect_blanks(&p) != 0 || skip_hex_pair(&p) != 0) /* tr:tm->when */
        return -EINVAL;
    if (expect_blanks(&p) != 0 || hex_some(&p, &v) != 0) /* retrnsmt */
        return -EINVAL;
    if (expect_blanks(&p) != 0 || text_parse_u64(&p, &uid) != 0)
        return -EINVAL;
    if (expect_blanks(&p) != 0 || text_parse_u64(&p, &v) != 0) /* timeout */
        return -EINVAL;
    if (expect_blanks(&p) != 0 || text_parse_u64(&p, &inode) != 0)
        return -EINVAL;
    if (*p != '\0' && *p != '\n' && !text_is_blank(*p))
        return -EINVAL;
    if (uid > (uint64_t)(uid_t)-1)
        return -EINVAL;

    int listening;
    if (proto == SOCKETS_TCP || proto == SOCKETS_TCP6) {
        listening = state == TCP_LISTEN;
    } else {
        static const unsigned char zero[16];
        listening = rport == 0 && memcmp(remote, zero, sizeof(zero)) == 0;
    }
    if (!listening)
        return 0;

    memset(s, 0, sizeof(*s));
    s->proto = proto;
    s->port = lport;
    s->inode = inode;
    s->uid = (uid_t)uid;
    if (inet_ntop(v6 ? AF_INET6 : AF_INET, local, s->addr, sizeof(s->addr)) == NULL)
        str_copy(s->addr, sizeof(s->addr), "?");
    return 1;
}

static int table_push(struct socket_table *t, const struct socket_listen *s)
{
    if (t->n == SOCKETS_MAX) {
        t->truncated = 1;
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        if (cap > SOCKETS_MAX)
            cap = SOCKETS_MAX;
        struct socket_listen *ns = realloc(t->s, cap * sizeof(*ns));
        if (ns == NULL)
            return -ENOMEM;
        t->s = ns;
        t->cap = cap;
    }
    t->s[t->n++] = *s;
    return 0;
}

int sockets_parse(const char *text, enum sockets_proto proto, struct socket_table *t)
{
    for (const char *p = text; *p != '\0';) {
        const char *eol = text_line_end(p);
        if ((size_t)(eol - p) <= SOCKETS_LINE_MAX) {
            struct socket_listen s;
            if (parse_line(p, proto, &s) == 1) {
                int rc = table_push(t, &s);
                if (rc != 0)
                    return rc;
            }
        }
        p = text_next_line(eol);
    }
    return 0;
}

/* Reads path whole into a new buffer (*out, NUL-terminated; free it), at most
 * SOCKETS_FILE_MAX bytes; a longer file is cut after its last whole line with *cut set.
 * Returns 0 or a negative errno. */
static int read_bounded(const char *path, char **out, int *cut)
{
    *out = NULL;
    *cut = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    size_t cap = READ_CHUNK, len = 0;
    char *buf = malloc(cap + 1);
    int rc = 0;
    if (buf == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= SOCKETS_FILE_MAX) {
                *cut = 1;
                break;
            }
            size_t ncap = cap * 2 > SOCKETS_FILE_MAX ? SOCKETS_FILE_MAX : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (nb == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = text_read_some(fd, buf + len, cap - len);
        if (n < 0) {
            rc = (int)n;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (*cut) { /* a line cut in the middle could parse as another socket */
        char *nl = strrchr(buf, '\n');
        if (nl != NULL)
            nl[1] = '\0';
        else
            buf[0] = '\0';
    }
    *out = buf;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

int sockets_read(const char *proc_root, struct socket_table *t)
{
    static const struct {
        const char *file;
        enum sockets_proto proto;
    } files[] = {{"tcp", SOCKETS_TCP}, {"tcp6", SOCKETS_TCP6}, {"udp", SOCKETS_UDP},
                 {"udp6", SOCKETS_UDP6}};
    int first_err = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/net/%s", proc_root, files[i].file);
        char *text;
        int cut;
        int rc = read_bounded(path, &text, &cut);
        if (rc == -ENOENT)
            continue;
        if (rc == -ENOMEM)
            return rc;
        if (rc != 0) {
            if (first_err == 0)
                first_err = rc;
            continue;
        }
        if (cut)
            t->truncated = 1;
        rc = sockets_parse(text, files[i].proto, t);
        free(text);
        if (rc != 0)
            return rc;
    }
    return first_err;
}

void sockets_free(struct socket_table *t)
{
    free(t->s);
    memset(t, 0, sizeof(*t));
}

uint64_t sockets_link_inode(const char *target)
{
    static const char prefix[] = "socket:[";
    if (strncmp(target, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    const char *p = target + sizeof(prefix) - 1;
    uint64_t v;
    if (text_parse_u64(&p, &v) != 0 || p[0] != ']' || p[1] != '\0')
        return 0;
    return v;
}

int sockets_fd_walk(const char *proc_root, int pid, sockets_fd_fn fn, void *ctx)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/%d/fd", proc_root, pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? -ESRCH : -errno;
    int rc = 0;
    size_t seen = 0;
    struct dirent *e;
    char *target = malloc(SOCKETS_LINK_MAX);
    if (target == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    while ((e = readdir(d)) != NULL) {
        const char *p = e->d_name;
        uint64_t fd;
        if (text_parse_u64(&p, &fd) != 0 || *p != '\0' || fd > INT32_MAX)
            continue;
        if (++seen > SOCKETS_FDS_MAX)
            break;
        ssize_t n = readlinkat(dirfd(d), e->d_name, target, SOCKETS_LINK_MAX - 1);
        if (n < 0)
            continue; /* closed meanwhile */
        target[n] = '\0';
        rc = fn(ctx, pid, (int)fd, target);
        if (rc != 0)
            break;
    }
out:
    free(target);
    closedir(d);
    return rc;
}

struct inode_ref {
    uint64_t inode;
    size_t index; /* into the table */
};

struct owner_ctx {
    struct socket_table *t;
    struct inode_ref *refs; /* the table's inodes, sorted, to look links up quickly */
};

static int by_inode(const void *a, const void *b)
{
    uint64_t x = ((const struct inode_ref *)a)->inode, y = ((const struct inode_ref *)b)->inode;
    return x < y ? -1 : x > y;
}

static int owner_link(void *vctx, int pid, int fd, const char *target)
{
    (void)fd;
    struct owner_ctx *c = vctx;
    uint64_t inode = sockets_link_inode(target);
    if (inode == 0)
        return 0;
    size_t lo = 0, hi = c->t->n;
    while (lo < hi) { /* the first entry with this inode */
        size_t mid = lo + (hi - lo) / 2;
        if (c->refs[mid].inode < inode)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < c->t->n && c->refs[lo].inode == inode; lo++) {
        struct socket_listen *s = &c->t->s[c->refs[lo].index];
        if (s->pid == 0)
            s->pid = pid;
    }
    return 0;
}

int sockets_owners(const char *proc_root, struct socket_table *t, const int *pids, size_t npids)
{
    if (t->n == 0 || npids == 0)
        return 0;
    struct owner_ctx c = {.t = t};
    c.refs = malloc(t->n * sizeof(*c.refs));
    if (c.refs == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++) {
        c.refs[i].inode = t->s[i].inode;
        c.refs[i].index = i;
    }
    qsort(c.refs, t->n, sizeof(*c.refs), by_inode);
    int rc = 0, unreadable = 0;
    for (size_t i = 0; i < npids; i++) {
        int r = sockets_fd_walk(proc_root, pids[i], owner_link, &c);
        if (r == -ENOMEM) {
            rc = r;
            goto out;
        }
        if (r == -EACCES || r == -EPERM)
            unreadable++;
    }
    rc = unreadable;
out:
    free(c.refs);
    return rc;
}

void sockets_format(const struct socket_listen *s, char *out, size_t cap)
{
    int v6 = is_v6(s->proto);
    snprintf(out, cap, "%s%s%s:%u/%s", v6 ? "[" : "", s->addr, v6 ? "]" : "", s->port,
             sockets_proto_name(s->proto));
}
