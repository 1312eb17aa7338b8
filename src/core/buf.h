/* A growable byte buffer with a named maximum: every buffer that collects outside input or
 * builds output has a limit, and reaching it is an error the caller sees, never silent growth. */
#ifndef CLOUDYA_BUF_H
#define CLOUDYA_BUF_H
#include <stddef.h>

/* data: NULL until the first byte is stored, then always NUL-terminated (data[len] == '\0').
 * len: bytes held (never more than max). cap: bytes allocated (at least len + 1 when data is
 * not NULL, at most max + 1). max: the limit on len. failed: set (sticky) when any append was
 * refused, so a writer can make many calls and check once. */
typedef struct buf {
    char *data;
    size_t len, cap, max;
    int failed;
} buf;

/* Makes b empty, holding no memory, and limited to max bytes of content. Never fails. */
void buf_init(buf *b, size_t max);

/* Appends n bytes from p (which may hold NUL bytes). Returns 0, or -ENOBUFS when the result
 * would exceed b->max: b->failed is then set and the contents are unchanged. */
int buf_append(buf *b, const void *p, size_t n);

/* Appends the C string s without its terminator. Same returns as buf_append. */
int buf_puts(buf *b, const char *s);

/* Appends printf-style formatted text. Returns 0, -ENOBUFS as buf_append (nothing is
 * appended then: no partial text), or -EINVAL when the format cannot be rendered. */
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands over the contents: the malloc'ed NUL-terminated data (an empty string when nothing
 * was stored; never NULL), its length in *len when len is not NULL. b is left empty with no
 * memory, the same max, and failed cleared. The caller frees the result. */
char *buf_steal(buf *b, size_t *len);

/* Empties b (len = 0, failed cleared) but keeps its memory for reuse. */
void buf_reset(buf *b);

/* Releases b's memory and leaves it empty (reusable with the same max). Safe to call twice. */
void buf_free(buf *b);

#endif
