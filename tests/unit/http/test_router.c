/* Unit tests for src/http/router.c: exact and parameterised matches, the 404/405
 * distinction with its Allow list, and the limits on routes, patterns and values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

static void h_health(http_req *req)
{
    (void)req;
}
static void h_list(http_req *req)
{
    (void)req;
}
static void h_create(http_req *req)
{
    (void)req;
}
static void h_get(http_req *req)
{
    (void)req;
}
static void h_delete(http_req *req)
{
    (void)req;
}
static void h_start(http_req *req)
{
    (void)req;
}
static void h_logs(http_req *req)
{
    (void)req;
}

static router *rt;

static int setup(void **state)
{
    (void)state;
    rt = calloc(1, sizeof *rt);
    if (rt == NULL) return -1;
    if (router_add(rt, "GET", "/api/health", h_health, 0) != 0 ||
        router_add(rt, "GET", "/api/containers", h_list, 0) != 0 ||
        router_add(rt, "POST", "/api/containers", h_create, ROUTE_SLOW) != 0 ||
        router_add(rt, "GET", "/api/containers/:id", h_get, 0) != 0 ||
        router_add(rt, "DELETE", "/api/containers/:id", h_delete, ROUTE_SLOW) != 0 ||
        router_add(rt, "POST", "/api/containers/:id/start", h_start, ROUTE_SLOW) != 0 ||
        router_add(rt, "GET", "/api/clients/:cid/containers/:id/logs", h_logs, 0) != 0 ||
        router_add(rt, "GET", "/", h_health, 0) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(rt);
    rt = NULL;
    return 0;
}

static int match(const char *method, const char *path, route_match *m)
{
    char allow[64];
    return router_match(rt, method, path, m, allow, sizeof allow);
}

static void test_exact_match(void **state)
{
    route_match m;

    (void)state;
    assert_int_equal(match("GET", "/api/health", &m), 0);
    assert_non_null(m.route);
    assert_ptr_equal(m.route->fn, h_health);
    assert_string_equal(m.route->pattern, "/api/health");
    assert_int_equal(m.nparams, 0);

    assert_int_equal(match("POST", "/api/containers", &m), 0);
    assert_ptr_equal(m.route->fn, h_create);
    assert_int_equal(m.route->flags, ROUTE_SLOW);
    assert_string_equal(m.route->method, "POST");
    assert_int_equal(match("GET", "/api/containers", &m), 0);
    assert_ptr_equal(m.route->fn, h_list);
    assert_int_equal(m.route->flags, 0);

    assert_int_equal(match("GET", "/", &m), 0);
    assert_ptr_equal(m.route->fn, h_health);
}

static void test_no_match(void **state)
{
    static const char *const paths[] = {
        "/api",
        "/api/healthz",
        "/api/health/x",
        "/api/healt",
        "/API/health",
        "",
        "api/health",
        "//api/health",
        "/api//health",
        "/api/containers/abc/stop",
        "/api/containers/abc/start/now",
    };
    route_match m;

    (void)state;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (match("GET", paths[i], &m) != -ENOENT)
            fail_msg("path \"%s\" was not -ENOENT", paths[i]);
}

static void test_params(void **state)
{
    route_match m;

    (void)state;
    assert_int_equal(match("GET", "/api/containers/ctr_0123abcd", &m), 0);
    assert_ptr_equal(m.route->fn, h_get);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(route_match_param(&m, "id"), "ctr_0123abcd");

    assert_int_equal(match("POST", "/api/containers/abc/start", &m), 0);
    assert_ptr_equal(m.route->fn, h_start);
    assert_string_equal(route_match_param(&m, "id"), "abc");

    assert_int_equal(match("GET", "/api/clients/c1/containers/x9/logs", &m), 0);
    assert_ptr_equal(m.route->fn, h_logs);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(route_match_param(&m, "cid"), "c1");
    assert_string_equal(route_match_param(&m, "id"), "x9");

    /* the value is the raw segment: no decoding, any bytes but '/' */
    assert_int_equal(match("GET", "/api/containers/a%2Fb:c.d", &m), 0);
    assert_string_equal(route_match_param(&m, "id"), "a%2Fb:c.d");
}

static void test_match_param_lookup(void **state)
{
    route_match m;

    (void)state;
    assert_int_equal(match("GET", "/api/clients/c1/containers/x9/logs", &m), 0);
    assert_null(route_match_param(&m, "i"));
    assert_null(route_match_param(&m, "idx"));
    assert_null(route_match_param(&m, "ci"));
    assert_null(route_match_param(&m, ""));
    assert_null(route_match_param(&m, ":id"));
    assert_int_equal(match("GET", "/api/health", &m), 0);
    assert_null(route_match_param(&m, "id"));
}

static void test_trailing_slash(void **state)
{
    route_match m;

    (void)state;
    assert_int_equal(match("GET", "/api/health/", &m), -ENOENT);
    assert_int_equal(match("GET", "/api/containers/", &m), -ENOENT);
    assert_int_equal(match("POST", "/api/containers/abc/start/", &m), -ENOENT);
}

static void test_empty_param_segment(void **state)
{
    route_match m;

    (void)state;
    assert_int_equal(match("POST", "/api/containers//start", &m), -ENOENT);
    assert_int_equal(match("GET", "/api/clients//containers/x/logs", &m), -ENOENT);
    assert_int_equal(match("GET", "/api/clients/c/containers//logs", &m), -ENOENT);

    router r;
    memset(&r, 0, sizeof r);
    assert_int_equal(router_add(&r, "POST", "/a/:id/start", h_start, 0), 0);
    assert_int_equal(router_match(&r, "POST", "/a//start", &m, NULL, 0), -ENOENT);
    assert_int_equal(router_match(&r, "POST", "/a/x/start", &m, NULL, 0), 0);
}

static void test_method_not_allowed(void **state)
{
    route_match m;
    char allow[64];

    (void)state;
    assert_int_equal(router_match(rt, "DELETE", "/api/containers", &m, allow, sizeof allow),
                     -EPERM);
    assert_string_equal(allow, "GET, POST");

    assert_int_equal(router_match(rt, "PUT", "/api/containers/x", &m, allow, sizeof allow), -EPERM);
    assert_string_equal(allow, "GET, DELETE");

    assert_int_equal(router_match(rt, "GET", "/api/containers/x/start", &m, allow, sizeof allow),
                     -EPERM);
    assert_string_equal(allow, "POST");

    /* methods are case-sensitive */
    assert_int_equal(router_match(rt, "get", "/api/health", &m, allow, sizeof allow), -EPERM);
    assert_string_equal(allow, "GET");

    /* allow may be NULL */
    assert_int_equal(router_match(rt, "PATCH", "/api/containers", &m, NULL, 0), -EPERM);

    /* a 404 leaves an empty Allow */
    assert_int_equal(router_match(rt, "GET", "/nope", &m, allow, sizeof allow), -ENOENT);
    assert_string_equal(allow, "");
}

static void test_allow_no_duplicates(void **state)
{
    router r;
    route_match m;
    char allow[64];

    (void)state;
    memset(&r, 0, sizeof r);
    assert_int_equal(router_add(&r, "GET", "/x/special", h_get, 0), 0);
    assert_int_equal(router_add(&r, "GET", "/x/:id", h_get, 0), 0);
    assert_int_equal(router_add(&r, "POST", "/x/special", h_create, 0), 0);
    assert_int_equal(router_add(&r, "POST", "/x/:id", h_create, 0), 0);
    assert_int_equal(router_add(&r, "DELETE", "/x/:id", h_delete, 0), 0);
    assert_int_equal(router_add(&r, "GET", "/x/:id", h_get, 0), 0);

    assert_int_equal(router_match(&r, "PUT", "/x/special", &m, allow, sizeof allow), -EPERM);
    assert_string_equal(allow, "GET, POST, DELETE");
    assert_int_equal(router_match(&r, "PUT", "/x/other", &m, allow, sizeof allow), -EPERM);
    assert_string_equal(allow, "GET, POST, DELETE");
}

/* A small Allow buffer is never overrun and stays a well-formed list. */
static void test_allow_small_buffer(void **state)
{
    route_match m;

    (void)state;
    for (size_t cap = 1; cap <= 12; cap++) {
        char *allow = malloc(cap); /* exact size, so ASan sees any overrun */
        assert_non_null(allow);
        assert_int_equal(router_match(rt, "DELETE", "/api/containers", &m, allow, cap), -EPERM);
        assert_true(strlen(allow) < cap);
        assert_true(strcmp(allow, "") == 0 || strcmp(allow, "GET") == 0 ||
                    strcmp(allow, "GET, POST") == 0);
        free(allow);
    }
}

static void test_too_many_routes(void **state)
{
    router *r = calloc(1, sizeof *r);

    (void)state;
    assert_non_null(r);
    for (int i = 0; i < ROUTER_MAX_ROUTES; i++)
        assert_int_equal(router_add(r, "GET", "/r", h_get, 0), 0);
    assert_int_equal(router_add(r, "GET", "/r", h_get, 0), -ENOSPC);
    assert_int_equal(router_add(r, "POST", "/other", h_get, 0), -ENOSPC);
    assert_int_equal(r->nroutes, ROUTER_MAX_ROUTES);
    free(r);
}

static void test_malformed_patterns(void **state)
{
    router r;

    (void)state;
    memset(&r, 0, sizeof r);
    assert_int_equal(router_add(&r, "GET", NULL, h_get, 0), -EINVAL);
    assert_int_equal(router_add(&r, "GET", "", h_get, 0), -EINVAL);
    assert_int_equal(router_add(&r, "GET", "api/health", h_get, 0), -EINVAL);
    assert_int_equal(router_add(&r, "GET", ":id", h_get, 0), -EINVAL);
    assert_int_equal(router_add(&r, NULL, "/api", h_get, 0), -EINVAL);
    assert_int_equal(router_add(&r, "GET", "/api", NULL, 0), -EINVAL);
    /* 13 segments: one over ROUTER_MAX_SEGMENTS */
    assert_int_equal(router_add(&r, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13", h_get, 0), -EINVAL);
    /* 5 parameters: one over ROUTER_MAX_PARAMS */
    assert_int_equal(router_add(&r, "GET", "/:a/:b/:c/:d/:e", h_get, 0), -EINVAL);
    assert_int_equal(r.nroutes, 0);

    /* the limits themselves are fine */
    assert_int_equal(router_add(&r, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12", h_get, 0), 0);
    assert_int_equal(router_add(&r, "GET", "/:a/:b/:c/:d", h_get, 0), 0);

    route_match m;
    assert_int_equal(router_match(&r, "GET", "/w/x/y/z", &m, NULL, 0), 0);
    assert_string_equal(route_match_param(&m, "a"), "w");
    assert_string_equal(route_match_param(&m, "d"), "z");
}

/* A parameter needs a name: "/a/:" and "/a/:/b" could never be looked up sensibly (and
 * route_match_param(m, "") would return their value). */
static void test_param_without_name_refused(void **state)
{
    router r;

    (void)state;
    memset(&r, 0, sizeof r);
    assert_int_equal(router_add(&r, "GET", "/a/:", h_get, 0), -EINVAL);
    assert_int_equal(router_add(&r, "GET", "/a/:/b", h_get, 0), -EINVAL);
    assert_int_equal(r.nroutes, 0);
}

static void test_param_value_length(void **state)
{
    char path[600];
    route_match m;
    const char *prefix = "/api/containers/";
    size_t pl = strlen(prefix);

    (void)state;
    memcpy(path, prefix, pl);
    /* 255 bytes fit value[256] */
    memset(path + pl, 'v', 255);
    path[pl + 255] = '\0';
    assert_int_equal(match("GET", path, &m), 0);
    assert_int_equal(strlen(route_match_param(&m, "id")), 255);
    /* 256 do not: the path does not match */
    memset(path + pl, 'v', 256);
    path[pl + 256] = '\0';
    assert_int_equal(match("GET", path, &m), -ENOENT);
    memset(path + pl, 'v', 500);
    memcpy(path + pl + 500, "/start", 7);
    assert_int_equal(match("POST", path, &m), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_match),
        cmocka_unit_test(test_no_match),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_match_param_lookup),
        cmocka_unit_test(test_trailing_slash),
        cmocka_unit_test(test_empty_param_segment),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_allow_no_duplicates),
        cmocka_unit_test(test_allow_small_buffer),
        cmocka_unit_test(test_too_many_routes),
        cmocka_unit_test(test_malformed_patterns),
        cmocka_unit_test(test_param_without_name_refused),
        cmocka_unit_test(test_param_value_length),
    };
    return cmocka_run_group_tests_name("router", tests, setup, teardown);
}
