/* The resolver's configuration file (resolvconf.h). */
#define _GNU_SOURCE
#include "resolvconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "textscan.h"

#define WORD_MAX 512 /* one word of a line is looked at up to this many bytes */

/* A view of one line: [p, end). */
struct span {
    const char *p, *end;
};

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Moves s past blanks. */
static void skip_blanks(struct span *s)
{
    while (s->p < s->end && blank(*s->p))
        s->p++;
}

/* Copies the next word of s (up to a blank, or also ';' and '#' when stop_comment) into out
 * (cap bytes, cut there) and moves s past it. Returns the word's full length (0: none). */
static size_t next_word(struct span *s, char *out, size_t cap, int stop_comment)
{
    skip_blanks(s);
    size_t len = 0;
    while (s->p < s->end && !blank(*s->p) && !(stop_comment && (*s->p == ';' || *s->p == '#'))) {
        if (len + 1 < cap) out[len] = *s->p == '\0' ? '?' : *s->p;
        len++;
        s->p++;
    }
    if (cap > 0) out[len < cap ? len : cap - 1] = '\0';
    return len;
}

/* Copies the NUL-terminated word into dst (cap bytes, zero-filled past the word: the
 * result carries nothing of the scratch buffer), cut at cap - 1. */
static void copy_word(char *dst, size_t cap, const char *word)
{
    size_t n = strnlen(word, cap - 1);
    memcpy(dst, word, n);
    memset(dst + n, 0, cap - n);
}

/* 1 when the line s starts with keyword kw followed by a blank or its end. */
static int keyword(const struct span *s, const char *kw)
{
    size_t n = strlen(kw);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, kw, n) != 0) return 0;
    return s->p + n == s->end || blank(s->p[n]);
}

/* Parses an address as the resolver does: IPv4 dotted, or IPv6 with an optional %scope. */
static void parse_addr(struct resolvconf_ns *ns)
{
    char tmp[RESOLVCONF_ADDR_MAX];
    memcpy(tmp, ns->addr, sizeof(tmp));
    tmp[sizeof(tmp) - 1] = '\0';
    if (inet_pton(AF_INET, tmp, ns->bin) == 1) {
        ns->family = AF_INET;
        ns->loopback = ns->bin[0] == 127;
        return;
    }
    tmp[strcspn(tmp, "%")] = '\0';
    if (inet_pton(AF_INET6, tmp, ns->bin) == 1) {
        static const unsigned char one[16] = {[15] = 1};
        ns->family = AF_INET6;
        ns->loopback = memcmp(ns->bin, one, 16) == 0;
        /* ::ffff:127.x.y.z is the IPv4 loopback written as IPv6 */
        static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
        if (memcmp(ns->bin, mapped, 12) == 0 && ns->bin[12] == 127) ns->loopback = 1;
        return;
    }
    memset(ns->bin, 0, sizeof(ns->bin));
}

/* A small number option value "ndots:N" (the resolver caps them; we keep up to 9999). */
static int option_number(const char *word, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(word, name, n) != 0 || word[n] != ':') return -2;
    const char *p = word + n + 1;
    uint64_t v = 0;
    if (text_parse_u64(&p, &v) != 0 || *p != '\0') return -2;
    return v > 9999 ? 9999 : (int)v;
}

static void add_option(struct resolvconf *out, const char *word)
{
    size_t have = strlen(out->options), len = strlen(word);
    if (have + len + 2 <= sizeof(out->options)) {
        if (have > 0) out->options[have++] = ' ';
        memcpy(out->options + have, word, len + 1);
    }
    int v;
    if ((v = option_number(word, "ndots")) >= 0)
        out->ndots = v;
    else if ((v = option_number(word, "timeout")) >= 0)
        out->timeout = v;
    else if ((v = option_number(word, "attempts")) >= 0)
        out->attempts = v;
}

static void parse_line(struct span s, size_t lineno, struct resolvconf *out)
{
    char word[WORD_MAX];
    if (s.p == s.end || *s.p == '#' || *s.p == ';') return;
    if (keyword(&s, "nameserver")) {
        s.p += strlen("nameserver");
        out->ns_lines++;
        if (next_word(&s, word, sizeof(word), 1) == 0) {
            out->ns_empty++;
            return;
        }
        if (out->n_ns >= RESOLVCONF_NS_MAX) return;
        struct resolvconf_ns *ns = &out->ns[out->n_ns++];
        memset(ns, 0, sizeof(*ns));
        copy_word(ns->addr, sizeof(ns->addr), word);
        ns->line = lineno > (size_t)0x7fffffff ? 0x7fffffff : (int)lineno;
        parse_addr(ns);
    } else if (keyword(&s, "domain") || keyword(&s, "search")) {
        int is_domain = keyword(&s, "domain");
        s.p += 6;
        out->n_search = 0;
        out->search_words = 0;
        while (next_word(&s, word, sizeof(word), is_domain) > 0) {
            out->search_words++;
            if (out->n_search < RESOLVCONF_SEARCH_MAX) {
                copy_word(out->search[out->n_search], RESOLVCONF_DOMAIN_MAX, word);
                out->n_search++;
            }
            if (is_domain) /* "domain" takes one name */
                break;
        }
    } else if (keyword(&s, "options")) {
        s.p += strlen("options");
        while (next_word(&s, word, sizeof(word), 0) > 0)
            add_option(out, word);
    } else if (!keyword(&s, "sortlist")) {
        /* blank lines are not unknown keywords */
        skip_blanks(&s);
        if (s.p < s.end) out->unknown_lines++;
    }
}

int resolvconf_parse(const char *text, size_t len, struct resolvconf *out)
{
    memset(out, 0, sizeof(*out));
    out->ndots = out->timeout = out->attempts = -1;
    if (text == NULL) return 0;
    const char *p = text, *end = text + len;
    size_t lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        struct span s = {p, le};
        if (s.end > s.p && s.end[-1] == '\r') s.end--;
        lineno++;
        parse_line(s, lineno, out);
        p = nl != NULL ? nl + 1 : end;
    }
    out->lines = lineno;
    return 0;
}

int resolvconf_read(const char *path, struct resolvconf *out)
{
    resolvconf_parse(NULL, 0, out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    char *buf = malloc(RESOLVCONF_FILE_MAX);
    if (buf == NULL) {
        close(fd);
        return -ENOMEM;
    }
    size_t len = 0;
    int rc = 0;
    while (len < RESOLVCONF_FILE_MAX) {
        ssize_t n = text_read_some(fd, buf + len, RESOLVCONF_FILE_MAX - len);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    if (rc == 0) resolvconf_parse(buf, len, out);
    free(buf);
    return rc;
}
