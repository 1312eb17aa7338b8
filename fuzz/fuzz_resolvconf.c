/* libFuzzer target for src/host/resolvconf.c: the input is a resolv.conf text, NUL bytes
 * and all. Besides crashes and sanitizer reports it checks properties, aborting when one
 * fails:
 *   - the counts stay within their limits, every kept text is NUL-terminated inside its
 *     buffer, and nameservers kept plus empty nameserver lines never exceed those seen;
 *   - the nameserver lines and the lines counted match a model written here on its own
 *     (a line starting with "nameserver" then a blank or its end);
 *   - an IPv4 nameserver reads back the same from its binary form (inet_ntop), a loopback
 *     one is an address, a search domain is never empty and holds no blank;
 *   - a second parse of the same bytes gives the same result.
 * Seeds: fuzz/corpus/resolvconf/. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "resolvconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok) abort();
}

static int terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* The model: lines, and nameserver lines. */
static void model(const char *t, size_t len, size_t *lines, size_t *ns)
{
    *lines = *ns = 0;
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && t[e] != '\n')
            e++;
        size_t end = e;
        if (end > i && t[end - 1] == '\r') end--;
        (*lines)++;
        size_t n = end - i;
        if (n >= 10 && memcmp(t + i, "nameserver", 10) == 0 &&
            (n == 10 || t[i + 10] == ' ' || t[i + 10] == '\t'))
            (*ns)++;
        i = e + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct resolvconf a, b;
    const char *text = (const char *)data;
    check(resolvconf_parse(text, size, &a) == 0);
    check(a.n_ns <= RESOLVCONF_NS_MAX && a.n_ns <= a.ns_lines);
    check(a.ns_empty <= a.ns_lines);
    check(a.n_ns + a.ns_empty <= a.ns_lines);
    check(a.n_ns == RESOLVCONF_NS_MAX || a.n_ns + a.ns_empty == a.ns_lines);
    check(a.n_search <= RESOLVCONF_SEARCH_MAX && a.n_search <= a.search_words);
    size_t lines, ns;
    model(text, size, &lines, &ns);
    check(a.lines == lines);
    check(a.ns_lines == ns);
    for (size_t i = 0; i < a.n_ns; i++) {
        const struct resolvconf_ns *n = &a.ns[i];
        check(terminated(n->addr, sizeof(n->addr)) && n->addr[0] != '\0');
        check(n->family == 0 || n->family == AF_INET || n->family == AF_INET6);
        check(!n->loopback || n->family != 0);
        check(n->line >= 1 && (size_t)n->line <= a.lines);
        if (n->family == AF_INET) {
            char back[INET_ADDRSTRLEN];
            check(inet_ntop(AF_INET, n->bin, back, sizeof(back)) != NULL);
            check(strcmp(back, n->addr) == 0);
            check(n->loopback == (n->bin[0] == 127));
        }
    }
    for (size_t i = 0; i < a.n_search; i++) {
        check(terminated(a.search[i], sizeof(a.search[i])));
        check(a.search[i][0] != '\0');
        check(strpbrk(a.search[i], " \t") == NULL);
    }
    check(terminated(a.options, sizeof(a.options)));
    check(a.options[0] != ' ');
    check(a.ndots >= -1 && a.ndots <= 9999 && a.timeout >= -1 && a.attempts >= -1);
    check(resolvconf_parse(text, size, &b) == 0);
    check(memcmp(&a, &b, sizeof(a)) == 0);
    return 0;
}
