/* libFuzzer target for the /proc/net parser of src/host/sockets.c.
 *
 * The first input byte chooses the protocol (its low two bits: tcp, tcp6, udp, udp6); the
 * rest is the file's text (a NUL ends it, as it would end a C string). Besides crashes and
 * sanitizer reports it checks properties, aborting when one fails:
 *   - every entry has a port below 65536, no owner pid, the protocol asked for, and an
 *     address that inet_pton reads back in that protocol's family;
 *   - parsing line by line gives exactly the entries of parsing the whole text (a line never
 *     reads into the next);
 *   - a second parse into the same table appends the same entries again;
 *   - sockets_format's text fits and starts with the address;
 *   - sockets_link_inode of the text is 0 unless the text is "socket:[N]".
 * Seeds: fuzz/corpus/sockets/ (first byte 0x00 tcp, 0x01 tcp6, 0x02 udp, 0x03 udp6). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sockets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct socket_listen *a, const struct socket_listen *b)
{
    return a->proto == b->proto && a->port == b->port && a->inode == b->inode &&
           a->uid == b->uid && a->pid == b->pid && strcmp(a->addr, b->addr) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum sockets_proto proto = (enum sockets_proto)(data[0] & 3);
    int v6 = proto == SOCKETS_TCP6 || proto == SOCKETS_UDP6;
    char *text = malloc(size);
    if (text == NULL)
        abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    struct socket_table whole = {0};
    if (sockets_parse(text, proto, &whole) != 0)
        abort();
    if (whole.n > SOCKETS_MAX)
        abort();
    for (size_t i = 0; i < whole.n; i++) {
        const struct socket_listen *s = &whole.s[i];
        unsigned char buf[16];
        if (s->port > 65535 || s->pid != 0 || s->proto != proto)
            abort();
        if (memchr(s->addr, '\0', sizeof(s->addr)) == NULL || s->addr[0] == '\0')
            abort();
        if (inet_pton(v6 ? AF_INET6 : AF_INET, s->addr, buf) != 1)
            abort();
        char f[SOCKETS_ADDR_MAX + 16];
        sockets_format(s, f, sizeof(f));
        if (strncmp(f + v6, s->addr, strlen(s->addr)) != 0)
            abort();
    }

    /* line by line: the same entries in the same order */
    struct socket_table lines = {0};
    for (char *p = text; *p != '\0';) {
        char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p + 1) : strlen(p);
        char save = p[len];
        p[len] = '\0';
        if (sockets_parse(p, proto, &lines) != 0)
            abort();
        p[len] = save;
        p += len;
    }
    if (lines.n != whole.n)
        abort();
    for (size_t i = 0; i < whole.n; i++)
        if (!same(&lines.s[i], &whole.s[i]))
            abort();

    /* appending: the same entries again */
    size_t n = whole.n;
    if (sockets_parse(text, proto, &whole) != 0)
        abort();
    if (n < SOCKETS_MAX / 2) {
        if (whole.n != 2 * n)
            abort();
        for (size_t i = 0; i < n; i++)
            if (!same(&whole.s[i], &whole.s[n + i]))
                abort();
    }

    uint64_t inode = sockets_link_inode(text);
    if (inode != 0 && strncmp(text, "socket:[", 8) != 0)
        abort();

    sockets_free(&whole);
    sockets_free(&lines);
    free(text);
    return 0;
}
