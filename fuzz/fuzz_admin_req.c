/* libFuzzer target for the admin PATCH bodies of src/api/api_admin.c
 * (api_admin_client_patch_parse, api_admin_user_patch_parse) and, beneath them,
 * json_body_object.
 *
 * Every input is parsed as both bodies. Besides crashes and sanitizer reports it checks
 * properties, aborting (CHECK) when one fails:
 *   - the result is 0, -EINVAL or -EMSGSIZE; -EMSGSIZE exactly when the input is over
 *     API_ADMIN_BODY_MAX bytes, with code too_large; -EINVAL with invalid_json or
 *     invalid_field; a refusal leaves the patch empty ("nothing changes");
 *   - every refusal's sentence is non-empty, NUL-terminated and valid UTF-8, because it goes
 *     out inside a JSON error answer (an unknown key is quoted, cut to a character boundary);
 *   - an accepted client patch changes something; its name is 1..STORE_NAME_MAX bytes of
 *     UTF-8 without control characters and at most AUTH_NAME_MAX characters, its plan one of
 *     the four, its quotas inside the documented bounds and finite;
 *   - an accepted user patch changes something, with role "", "admin" or "client" and
 *     disabled -1, 0 or 1;
 *   - no body is accepted by both (their fields are disjoint and neither may be empty).
 * Seeds: fuzz/corpus/admin_req/. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/unit/check.h" /* CHECK() */
#include "api.h"
#include "auth_req.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0) return 0;
    return 1;
}

static void check_refusal(int rc, const json_err *e, size_t size)
{
    CHECK(rc == -EMSGSIZE || rc == -EINVAL);
    CHECK(e->code != NULL);
    if (rc == -EMSGSIZE)
        CHECK(size > API_ADMIN_BODY_MAX && strcmp(e->code, "too_large") == 0);
    else
        CHECK(size <= API_ADMIN_BODY_MAX && (strcmp(e->code, "invalid_json") == 0 ||
                                             strcmp(e->code, "invalid_field") == 0));
    size_t n = strnlen(e->msg, sizeof e->msg);
    CHECK(n > 0 && n < sizeof e->msg);
    CHECK(str_is_utf8(e->msg, n));
}

static void check_client(const api_client_patch *p)
{
    CHECK(p->has_name || p->has_plan || p->has_containers || p->has_memory_mb || p->has_cpus);
    size_t n = strnlen(p->name, sizeof p->name);
    CHECK(n < sizeof p->name);
    if (p->has_name) {
        CHECK(n > 0 && n <= STORE_NAME_MAX && str_is_utf8(p->name, n));
        CHECK(!str_has_control(p->name, n) && str_utf8_chars(p->name, n) <= AUTH_NAME_MAX);
    } else {
        CHECK(n == 0);
    }
    if (p->has_plan)
        CHECK(strcmp(p->plan, "free") == 0 || strcmp(p->plan, "starter") == 0 ||
              strcmp(p->plan, "pro") == 0 || strcmp(p->plan, "enterprise") == 0);
    else
        CHECK(p->plan[0] == '\0');
    CHECK(p->containers >= 0 && p->containers <= API_QUOTA_CONTAINERS_MAX);
    CHECK(p->memory_mb >= 0 && p->memory_mb <= API_QUOTA_MEMORY_MB_MAX);
    CHECK(isfinite(p->cpus) && p->cpus >= 0 && p->cpus <= API_QUOTA_CPUS_MAX);
}

static void check_user(const api_user_patch *p)
{
    CHECK(p->role[0] != '\0' || p->disabled >= 0);
    CHECK(p->role[0] == '\0' || strcmp(p->role, "admin") == 0 || strcmp(p->role, "client") == 0);
    CHECK(p->disabled >= -1 && p->disabled <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    api_client_patch cp;
    api_user_patch up;
    json_err ec, eu;
    memset(&ec, 0, sizeof ec);
    memset(&eu, 0, sizeof eu);

    int rc_c = api_admin_client_patch_parse(body, size, &cp, &ec);
    if (rc_c == 0) {
        check_client(&cp);
    } else {
        check_refusal(rc_c, &ec, size);
        CHECK(is_zero(&cp, sizeof cp));
    }

    int rc_u = api_admin_user_patch_parse(body, size, &up, &eu);
    if (rc_u == 0) {
        check_user(&up);
    } else {
        check_refusal(rc_u, &eu, size);
        CHECK(up.role[0] == '\0' && up.disabled == -1);
    }

    CHECK(rc_c != 0 || rc_u != 0);
    /* malformed JSON and an oversized body are refused the same way by both */
    CHECK((rc_c == -EMSGSIZE) == (rc_u == -EMSGSIZE));
    CHECK((rc_c != 0 && strcmp(ec.code, "invalid_json") == 0) ==
          (rc_u != 0 && strcmp(eu.code, "invalid_json") == 0));
    return 0;
}
