#define _POSIX_C_SOURCE 200809L
/* Network interfaces from /proc/net/dev (see hostprobe.h).
 *
 * The file has two header lines, then one line per interface: blanks, the name, ':', then
 * eight receive and eight transmit counters. With large counters the kernel leaves no blank
 * between the ':' and the first number, so the name ends at the first ':' (the kernel does
 * not allow ':' in names). Interfaces appear and vanish between readings; matching them is
 * by name, in hostprobe.c. */
#include "hostprobe.h"
#include "textscan.h"

#include <errno.h>
#include <string.h>

#define NETDEV_FIELDS 16 /* rx: bytes packets errs drop fifo frame compressed multicast,
                          * tx: bytes packets errs drop fifo colls carrier compressed */
#define NETDEV_HEADERS 2

/* Parses one interface line into d. Returns 0, -EINVAL or -ERANGE. */
static int parse_line(const char *line, struct host_netdev *d)
{
    const char *p = text_skip_blanks(line), *name = p;
    uint64_t f[NETDEV_FIELDS];
    int rc;
    memset(d, 0, sizeof(*d));
    while (*p != ':' && *p != '\0' && *p != '\n') {
        if ((unsigned char)*p < 0x21 || (unsigned char)*p == 0x7f || *p == '/')
            return -EINVAL;
        p++;
    }
    if (*p != ':' || p == name || (size_t)(p - name) >= sizeof(d->name))
        return -EINVAL;
    size_t nlen = (size_t)(p - name);
    p++;
    for (size_t i = 0; i < NETDEV_FIELDS; i++) {
        p = text_skip_blanks(p);
        if ((rc = text_parse_u64(&p, &f[i])) != 0)
            return rc;
        if (!text_is_blank(*p) && *p != '\n' && *p != '\0')
            return -EINVAL;
    }
    if (!text_rest_blank(p))
        return -EINVAL;
    memcpy(d->name, name, nlen);
    d->name[nlen] = '\0';
    d->rx_bytes = f[0];
    d->rx_packets = f[1];
    d->rx_errs = f[2];
    d->rx_drop = f[3];
    d->tx_bytes = f[8];
    d->tx_packets = f[9];
    d->tx_errs = f[10];
    d->tx_drop = f[11];
    return 0;
}

/* The headers must be there (a text without them is not /proc/net/dev); blank lines are
 * skipped; lo goes last. Returns 0, -EINVAL or -ERANGE with *n 0 on failure. */
int host_parse_netdev(const char *text, struct host_netdev *d, size_t max, size_t *n)
{
    struct host_netdev one, lo;
    int have_lo = 0, rc;
    size_t lines = 0;
    *n = 0;
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        if (lines < NETDEV_HEADERS) {
            if (memchr(line, '|', (size_t)(eol - line)) == NULL) {
                rc = -EINVAL;
                goto fail;
            }
        } else if (!text_rest_blank(line)) {
            if ((rc = parse_line(line, &one)) != 0)
                goto fail;
            if (strcmp(one.name, "lo") == 0 && !have_lo) {
                lo = one;
                have_lo = 1;
            } else if (*n < max) {
                d[(*n)++] = one;
            }
        }
        lines++;
        line = text_next_line(eol);
    }
    if (lines < NETDEV_HEADERS) {
        rc = -EINVAL;
        goto fail;
    }
    if (have_lo) {
        if (*n == max && max > 0)
            (*n)--; /* lo is listed even when other interfaces fill the list */
        if (max > 0)
            d[(*n)++] = lo;
    }
    return 0;
fail:
    *n = 0;
    return rc;
}
