/* Method + path routing with ":name" path parameters. Matching is exact per segment
 * (no trailing-slash folding, no wildcards), so each path has one meaning. */
#ifndef CLOUDYA_ROUTER_H
#define CLOUDYA_ROUTER_H
#include <stddef.h>

#define ROUTER_MAX_ROUTES 128
#define ROUTER_MAX_PARAMS 4
#define ROUTER_MAX_SEGMENTS 12

typedef struct http_req http_req;
typedef void (*route_fn)(http_req *req);

enum route_flags {
    ROUTE_SLOW = 1, /* may block (hashing, Engine calls): runs on the worker pool */
};

typedef struct route {
    const char *method;
    const char *pattern; /* "/api/containers/:id/start" */
    route_fn fn;
    unsigned flags;
} route;

typedef struct route_param {
    const char *name; /* points into the pattern */
    size_t name_len;
    char value[256]; /* a copy of the path segment */
} route_param;

typedef struct route_match {
    const route *route;
    int nparams;
    route_param params[ROUTER_MAX_PARAMS];
} route_match;

typedef struct router {
    route routes[ROUTER_MAX_ROUTES];
    int nroutes;
} router;

/* Registers a route; patterns and methods must outlive the router (string literals).
 * Returns 0, or -ENOSPC when full, -EINVAL for a malformed pattern. */
int router_add(router *r, const char *method, const char *pattern, route_fn fn, unsigned flags);

/* Finds the route for method and path. Returns 0 with m filled; -ENOENT when no pattern
 * matches the path; -EPERM when patterns match but none for this method, with allow (cap
 * bytes) listing the methods that do, comma-separated, for the Allow header. */
int router_match(const router *r, const char *method, const char *path, route_match *m,
                 char *allow, size_t cap);

/* The value of parameter name in m, or NULL. */
const char *route_match_param(const route_match *m, const char *name);

#endif
