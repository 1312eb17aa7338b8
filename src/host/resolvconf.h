/* /etc/resolv.conf as the C library's resolver reads it, for the DNS check of `cloudya
 * diagnose system`: the nameserver lines (glibc uses the first RESOLVCONF_GLIBC_NS only),
 * the search list (a later "domain" or "search" line replaces an earlier one), and the
 * options. Only the configuration is looked at: nothing here sends a query.
 *
 * The parser takes a text and its length (it may hold NUL bytes, which end nothing), keeps
 * at most the named number of entries and counts the rest, and never reads past len. */
#ifndef CLOUDYA_HOST_RESOLVCONF_H
#define CLOUDYA_HOST_RESOLVCONF_H
#include <stddef.h>

#define RESOLVCONF_FILE_MAX (64u << 10) /* a larger resolv.conf is read up to this */
#define RESOLVCONF_NS_MAX 16            /* nameserver lines kept; more are only counted */
#define RESOLVCONF_GLIBC_NS 3           /* nameservers the C library uses (MAXNS) */
#define RESOLVCONF_ADDR_MAX 64          /* a nameserver as written, cut there */
#define RESOLVCONF_SEARCH_MAX 8         /* search domains kept */
#define RESOLVCONF_DOMAIN_MAX 254       /* a domain name (253) and its NUL */
#define RESOLVCONF_OPTIONS_MAX 256      /* the options words, joined by spaces, cut there */

struct resolvconf_ns {
    char addr[RESOLVCONF_ADDR_MAX]; /* the word after "nameserver" (cut at the limit) */
    int family;                     /* AF_INET, AF_INET6, or 0 when it is not an IP address */
    int loopback;                   /* 1 for 127.0.0.0/8 and ::1 */
    unsigned char bin[16];          /* the address (4 or 16 bytes) when family is set */
    int line;                       /* its line number, from 1 */
};

struct resolvconf {
    struct resolvconf_ns ns[RESOLVCONF_NS_MAX];
    size_t n_ns;     /* entries of ns[] filled */
    size_t ns_lines; /* nameserver lines seen (also those past RESOLVCONF_NS_MAX) */
    size_t ns_empty; /* nameserver lines without an address */
    char search[RESOLVCONF_SEARCH_MAX][RESOLVCONF_DOMAIN_MAX];
    size_t n_search;     /* entries of search[] filled (of the last domain/search line) */
    size_t search_words; /* words of that line (also those past RESOLVCONF_SEARCH_MAX) */
    char options[RESOLVCONF_OPTIONS_MAX]; /* every options word, in order */
    int ndots, timeout, attempts;         /* from the options; -1 when not given */
    size_t unknown_lines;                 /* lines with a keyword the resolver ignores */
    size_t lines;                         /* lines of the text */
};

/* Parses len bytes of text the way the resolver does: '#' or ';' starts a comment line;
 * a keyword ("nameserver", "domain", "search", "options", "sortlist") must start its line
 * and be followed by a blank. Always fills *out (zeroed first, numbers -1 when not given)
 * and returns 0; text may be NULL when len is 0. Exported for the tests and the fuzzer. */
int resolvconf_parse(const char *text, size_t len, struct resolvconf *out);

/* Reads and parses path (up to RESOLVCONF_FILE_MAX bytes; the head of a larger file).
 * Returns 0, or the negative errno of open/read (-ENOENT when there is none), with *out
 * then zeroed as for an empty text. */
int resolvconf_read(const char *path, struct resolvconf *out);

#endif
