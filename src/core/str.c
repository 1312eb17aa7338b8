#define _POSIX_C_SOURCE 200809L
#include "str.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounded copy: the replacement for strcpy/strncpy. */
int str_copy(char *dst, size_t cap, const char *src)
{
    if (cap == 0)
        return -ENOSPC;
    size_t n = strlen(src);
    if (n >= cap) {
        memcpy(dst, src, cap - 1);
        dst[cap - 1] = '\0';
        return -ENOSPC;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

/* strtol and strtod skip leading white space; a configuration value must not have any. */
static int leading_ok(const char *s)
{
    return (*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.';
}

/* Strict integer parsing: the replacement for atoi. */
int str_to_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || !leading_ok(s))
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = (int64_t)v;
    return 0;
}

/* Strict floating-point parsing; rejects NaN and infinities. */
int str_to_double(const char *s, double min, double max, double *out)
{
    if (s == NULL || *s == '\0')
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !leading_ok(s) || isnan(v) || isinf(v))
        return -EINVAL;
    for (const char *p = s; *p != '\0'; p++) /* decimal only: no hex floats */
        if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+' || *p == 'e' ||
              *p == 'E'))
            return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

/* ASCII-only lowercasing, independent of the locale. */
void str_lower(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Control characters are refused in names and emails. */
int str_has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

/* Validates UTF-8, rejecting overlong forms, surrogates and code points above U+10FFFF. */
int str_is_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + n >= len) /* the sequence would run past the end */
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Counts the bytes that start a code point (all but 10xxxxxx continuation bytes). */
size_t str_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

/* Random hex from libsodium's CSPRNG. */
void str_random_hex(char *out, size_t n)
{
    unsigned char buf[64];
    if (n > sizeof(buf))
        n = sizeof(buf);
    randombytes_buf(buf, n);
    sodium_bin2hex(out, 2 * n + 1, buf, n);
}

/* Identifiers are random (never derived from user input) and short enough to fit a DNS
 * label together with a container name. */
void str_new_id(char *out, size_t cap, const char *prefix)
{
    char hex[13];
    str_random_hex(hex, 6);
    snprintf(out, cap, "%s%s", prefix, hex);
}

void str_fmt(char *dst, size_t cap, const char *fmt, ...)
{
    if (dst == NULL || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

const char *str_cookie_value(const char *header, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    *len = 0;
    for (const char *p = header; p != NULL && *p != '\0';) {
        while (*p == ' ' || *p == ';' || *p == '\t')
            p++;
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > nlen + 1 && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            *len = n - nlen - 1;
            return p + nlen + 1;
        }
        p = end;
    }
    return NULL;
}

void str_utf8_repair(char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = 1;
        if (s[i] == '\0') {
            s[i++] = '?';
            continue;
        }
        while (k <= 4 && i + k <= n && !str_is_utf8(s + i, k))
            k++;
        if (k > 4 || i + k > n) {
            s[i++] = '?';
            continue;
        }
        i += k;
    }
}
