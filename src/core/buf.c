#define _POSIX_C_SOURCE 200809L
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* The first allocation: small enough not to matter, large enough to avoid a few reallocs. */
#define BUF_MIN_CAP 64

/* No allocation until the first append, so an unused buffer costs nothing to free. */
void buf_init(buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->failed = 0;
}

/* Makes room for need more content bytes plus the terminator. Returns 0, or -ENOBUFS (and
 * sets failed) when len + need would pass max; growth doubles but never allocates more than
 * max + 1 bytes. */
static int reserve(buf *b, size_t need)
{
    if (need > b->max || b->len > b->max - need) {
        b->failed = 1;
        return -ENOBUFS;
    }
    size_t want = b->len + need + 1; /* wraps to 0 only when max is SIZE_MAX */
    if (want == 0) {
        b->failed = 1;
        return -ENOBUFS;
    }
    if (b->data != NULL && want <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : BUF_MIN_CAP;
    while (ncap < want)
        ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
    if (b->max < SIZE_MAX && ncap > b->max + 1)
        ncap = b->max + 1;
    b->data = xrealloc(b->data, ncap);
    b->cap = ncap;
    if (b->len == 0)
        b->data[0] = '\0';
    return 0;
}

/* Copies n bytes and re-terminates; n == 0 still allocates so data is a valid string. */
int buf_append(buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc < 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* strlen then append: the terminator is not stored as content. */
int buf_puts(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

/* Formats into the free space first; when the text did not fit it grows exactly once to the
 * measured size and formats again. On any failure the old terminator is restored so the
 * contents are as before the call. */
int buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->data != NULL ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        goto bad_format;
    if ((size_t)n < room) { /* fitted: cap <= max + 1 keeps len within max */
        b->len += (size_t)n;
        return 0;
    }
    if (b->data != NULL)
        b->data[b->len] = '\0'; /* undo the truncated attempt */
    int rc = reserve(b, (size_t)n);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    int m = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (m != n) { /* the arguments rendered differently the second time (locale change?) */
        b->data[b->len] = '\0';
        goto bad_format;
    }
    b->len += (size_t)n;
    return 0;
bad_format:
    b->failed = 1;
    return -EINVAL;
}

/* Returns the data as is when present (it is already terminated), or a fresh empty string. */
char *buf_steal(buf *b, size_t *len)
{
    char *s = b->data != NULL ? b->data : xstrdup("");
    if (len != NULL)
        *len = b->len;
    buf_init(b, b->max);
    return s;
}

/* Keeps the allocation so a buffer reused per request stops reallocating after warm-up. */
void buf_reset(buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Re-initialises after freeing so a second buf_free or a later append is harmless. */
void buf_free(buf *b)
{
    free(b->data);
    buf_init(b, b->max);
}
