#define _POSIX_C_SOURCE 200809L
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void oom(size_t n)
{
    fprintf(stderr, "level=error func=xalloc msg=\"out of memory allocating %zu bytes\"\n", n);
    abort();
}

/* malloc that never returns NULL (a zero-byte request gets one byte). */
void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

/* calloc that never returns NULL; the multiplication overflow is checked by calloc. */
void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL)
        oom(count * n);
    return p;
}

/* realloc that never returns NULL. */
void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

/* strdup that never returns NULL. */
char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        oom(strlen(s) + 1);
    return p;
}

/* strndup that never returns NULL. */
char *xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (p == NULL)
        oom(n + 1);
    return p;
}
