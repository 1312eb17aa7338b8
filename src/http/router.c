#define _POSIX_C_SOURCE 200809L
#include "router.h"

#include <errno.h>
#include <string.h>

/* Patterns are checked once here so matching can trust them. */
int router_add(router *r, const char *method, const char *pattern, route_fn fn, unsigned flags)
{
    if (pattern == NULL || pattern[0] != '/' || method == NULL || fn == NULL)
        return -EINVAL;
    int segs = 0, params = 0;
    for (const char *p = pattern; *p != '\0'; p++) {
        if (*p == '/') {
            segs++;
            if (p[1] == ':') {
                params++;
                if (p[2] == '\0' || p[2] == '/') /* a parameter needs a name */
                    return -EINVAL;
            }
        }
    }
    if (segs > ROUTER_MAX_SEGMENTS || params > ROUTER_MAX_PARAMS)
        return -EINVAL;
    if (r->nroutes >= ROUTER_MAX_ROUTES)
        return -ENOSPC;
    r->routes[r->nroutes++] = (route){method, pattern, fn, flags};
    return 0;
}

/* Walks pattern and path segment by segment; fills params on success. */
static int match_path(const char *pattern, const char *path, route_match *m)
{
    const char *p = pattern, *q = path;
    m->nparams = 0;
    while (*p != '\0' && *q != '\0') {
        if (*p != '/' || *q != '/')
            return 0;
        p++;
        q++;
        const char *pe = strchr(p, '/');
        const char *qe = strchr(q, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        size_t qlen = qe ? (size_t)(qe - q) : strlen(q);
        if (*p == ':') {
            if (qlen == 0 || qlen >= sizeof(m->params[0].value) ||
                m->nparams >= ROUTER_MAX_PARAMS)
                return 0;
            route_param *rp = &m->params[m->nparams++];
            rp->name = p + 1;
            rp->name_len = plen - 1;
            memcpy(rp->value, q, qlen);
            rp->value[qlen] = '\0';
        } else if (plen != qlen || memcmp(p, q, plen) != 0) {
            return 0;
        }
        p += plen;
        q += qlen;
    }
    return *p == '\0' && *q == '\0';
}

/* 1 when method is one of the comma-separated tokens of list. */
static int listed(const char *list, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = list; *p != '\0';) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, method, n) == 0)
            return 1;
        if (e == NULL)
            break;
        p = e + 2; /* ", " */
    }
    return 0;
}

/* A linear scan: tens of routes cost less than a hash of the path would. */
int router_match(const router *r, const char *method, const char *path, route_match *m,
                 char *allow, size_t cap)
{
    int path_found = 0;
    size_t used = 0;
    if (allow != NULL && cap > 0)
        allow[0] = '\0';
    for (int i = 0; i < r->nroutes; i++) {
        const route *rt = &r->routes[i];
        route_match tmp;
        if (!match_path(rt->pattern, path, &tmp))
            continue;
        if (strcmp(rt->method, method) == 0) {
            *m = tmp;
            m->route = rt;
            return 0;
        }
        path_found = 1;
        if (allow != NULL && cap > 0 && !listed(allow, rt->method)) {
            size_t n = strlen(rt->method);
            if (used + n + 3 < cap) {
                if (used > 0) {
                    memcpy(allow + used, ", ", 2);
                    used += 2;
                }
                memcpy(allow + used, rt->method, n + 1);
                used += n;
            }
        }
    }
    return path_found ? -EPERM : -ENOENT;
}

/* Parameters are few: a scan by name is enough. */
const char *route_match_param(const route_match *m, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < m->nparams; i++)
        if (m->params[i].name_len == n && memcmp(m->params[i].name, name, n) == 0)
            return m->params[i].value;
    return NULL;
}
