/* libFuzzer target for the request parsing of src/platform/containers.c:
 * containers_parse_create (the create body) and containers_parse_logs (the logs query).
 *
 * The input is a request body for json_body_object. When it parses, containers_parse_create
 * runs on it and, besides crashes and sanitizer reports, these properties must hold (a
 * failure prints the property and aborts):
 *   - it returns 0 or -EINVAL; -EINVAL comes with 400 "invalid_field" and a sentence;
 *   - on success: serviceType is a string of 1..31 bytes without NUL; name is a DNS label
 *     (1..63 of [a-z0-9-], not starting or ending with '-', no NUL); env is NULL or the
 *     body's object of at most 32 string values of at most 4096 bytes without NUL, under
 *     names [A-Za-z_][A-Za-z0-9_]{0,63}; ttl_s is 0 or within [60 s, 30 days];
 *   - it accepts exactly what an independent model of those rules accepts, both for the
 *     whole body and for each known field placed alone in an otherwise valid body (where
 *     the refusal must name that field).
 * The raw input is also split at '&', '\n' and NUL bytes into up to four NUL-free strings
 * (missing ones are NULL) given to containers_parse_logs as (tail, since, timestamps,
 * follow); on success tail is -1..10000 and every value matches a model of the rules, and
 * each piece is tried alone in each position. An accepted since formats back to the same
 * instant, and a canonical "YYYY-MM-DDTHH:MM:SSZ" (second < 60) formats back to itself,
 * so a day that does not exist in its month (02-30, 02-29 of a common year) is refused.
 * Seeds: fuzz/corpus/container_req/. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "json.h"
#include "timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_container_req: property failed at line %d: %s\n", __LINE__,      \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- a model of the create rules, written from containers.h, not from containers.c ---- */

static int is_lower_digit_dash(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int model_service_type(json_t *v)
{
    if (!json_is_string(v)) return 0;
    size_t n = json_string_length(v);
    return n >= 1 && n <= 31 && memchr(json_string_value(v), '\0', n) == NULL;
}

static int model_name(json_t *v)
{
    if (!json_is_string(v)) return 0;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n < 1 || n > 63 || s[0] == '-' || s[n - 1] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_digit_dash(s[i])) return 0;
    return 1;
}

static int model_env_key(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 64 || (k[0] >= '0' && k[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* NULL (absent) and null are "no env". */
static int model_env(json_t *v)
{
    if (v == NULL || json_is_null(v)) return 1;
    if (!json_is_object(v) || json_object_size(v) > CONTAINER_ENV_MAX) return 0;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (!model_env_key(k) || !json_is_string(x) ||
            json_string_length(x) > CONTAINER_ENV_VALUE_MAX ||
            memchr(json_string_value(x), '\0', json_string_length(x)) != NULL)
            return 0;
    }
    return 1;
}

/* Digits with an optional s/m/h/d, at most 12 bytes in all, within [60 s, 30 days]; or an
 * integer in that range; absent or null is 0. */
static int model_ttl(json_t *v, int64_t *out)
{
    *out = 0;
    if (v == NULL || json_is_null(v)) return 1;
    if (json_is_integer(v)) {
        json_int_t t = json_integer_value(v);
        if (t < CONTAINER_TTL_MIN || t > CONTAINER_TTL_MAX) return 0;
        *out = t;
        return 1;
    }
    if (!json_is_string(v)) return 0;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n < 1 || n > 12) return 0;
    int64_t mult = 1;
    size_t nd = n;
    switch (s[n - 1]) {
    case 's':
        mult = 1, nd = n - 1;
        break;
    case 'm':
        mult = 60, nd = n - 1;
        break;
    case 'h':
        mult = 3600, nd = n - 1;
        break;
    case 'd':
        mult = 86400, nd = n - 1;
        break;
    default:
        break;
    }
    if (nd == 0) return 0;
    int64_t t = 0;
    for (size_t i = 0; i < nd; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        t = t * 10 + (s[i] - '0'); /* at most 12 digits: no overflow */
    }
    if (t > CONTAINER_TTL_MAX) return 0;
    t *= mult;
    if (t < CONTAINER_TTL_MIN || t > CONTAINER_TTL_MAX) return 0;
    *out = t;
    return 1;
}

static int known_key(const char *k)
{
    return strcmp(k, "serviceType") == 0 || strcmp(k, "name") == 0 || strcmp(k, "env") == 0 ||
           strcmp(k, "ttl") == 0;
}

/* Whole-body model: 1 when the body must be accepted (with the expected ttl). */
static int model_create(json_t *o, int64_t *ttl)
{
    *ttl = 0;
    const char *k;
    json_t *x;
    json_object_foreach(o, k, x)
    {
        if (!known_key(k)) return 0;
    }
    json_t *st = json_object_get(o, "serviceType");
    json_t *nm = json_object_get(o, "name");
    if (st == NULL || !model_service_type(st) || nm == NULL || !model_name(nm) ||
        !model_env(json_object_get(o, "env")))
        return 0;
    return model_ttl(json_object_get(o, "ttl"), ttl);
}

static void check_plat_err(const plat_err *e)
{
    CHECK(e->status == 400);
    CHECK(e->code != NULL && strcmp(e->code, "invalid_field") == 0);
    CHECK(memchr(e->msg, '\0', sizeof e->msg) != NULL);
    CHECK(e->msg[0] != '\0');
}

/* The properties of an accepted body, from the header's contract alone. */
static void check_accepted(json_t *o, const container_create_req *r)
{
    CHECK(r->service_type != NULL);
    size_t n = strlen(r->service_type);
    CHECK(n >= 1 && n <= 31);
    CHECK(r->service_type == json_string_value(json_object_get(o, "serviceType")));
    CHECK(n == json_string_length(json_object_get(o, "serviceType")));

    CHECK(r->name != NULL);
    n = strlen(r->name);
    CHECK(n >= 1 && n <= 63);
    CHECK(n == json_string_length(json_object_get(o, "name")));
    CHECK(r->name[0] != '-' && r->name[n - 1] != '-');
    for (size_t i = 0; i < n; i++)
        CHECK(is_lower_digit_dash(r->name[i]));

    if (r->env != NULL) {
        CHECK(r->env == json_object_get(o, "env"));
        CHECK(json_is_object(r->env));
        CHECK(json_object_size(r->env) <= CONTAINER_ENV_MAX);
        const char *k;
        json_t *x;
        json_object_foreach(r->env, k, x)
        {
            CHECK(model_env_key(k));
            CHECK(json_is_string(x));
            CHECK(json_string_length(x) <= CONTAINER_ENV_VALUE_MAX);
            CHECK(strlen(json_string_value(x)) == json_string_length(x));
        }
    } else {
        json_t *env = json_object_get(o, "env");
        CHECK(env == NULL || json_is_null(env));
    }
    CHECK(r->ttl_s == 0 || (r->ttl_s >= CONTAINER_TTL_MIN && r->ttl_s <= CONTAINER_TTL_MAX));
}

static void fuzz_create_body(json_t *o)
{
    container_create_req r;
    plat_err e;
    memset(&e, 0, sizeof e);
    int rc = containers_parse_create(o, &r, &e);
    CHECK(rc == 0 || rc == -EINVAL);
    int64_t want_ttl;
    int want = model_create(o, &want_ttl);
    if (rc == 0) {
        check_accepted(o, &r);
        CHECK(want);
        CHECK(r.ttl_s == want_ttl);
    } else {
        check_plat_err(&e);
        CHECK(!want);
    }
}

/* v alone in an otherwise valid body: accepted exactly when the model says so, and a
 * refusal names field. */
static void fuzz_create_field(const char *field, json_t *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "serviceType", json_string("nginx"));
    json_object_set_new(o, "name", json_string("web"));
    CHECK(json_object_set(o, field, v) == 0);
    container_create_req r;
    plat_err e;
    memset(&e, 0, sizeof e);
    int rc = containers_parse_create(o, &r, &e);
    CHECK(rc == 0 || rc == -EINVAL);
    int64_t ttl = 0;
    int want;
    if (strcmp(field, "serviceType") == 0)
        want = model_service_type(v);
    else if (strcmp(field, "name") == 0)
        want = model_name(v);
    else if (strcmp(field, "env") == 0)
        want = model_env(v);
    else
        want = model_ttl(v, &ttl);
    if (rc == 0) {
        check_accepted(o, &r);
        CHECK(want);
        CHECK(r.ttl_s == ttl);
    } else {
        check_plat_err(&e);
        CHECK(!want);
        CHECK(strstr(e.msg, field) != NULL);
    }
    json_decref(o);
}

/* ---- logs ---------------------------------------------------------------------------------- */

/* Absent or empty is the default 100; "all" is -1; else 1+ digits (leading zeros allowed)
 * up to 10000; else refused (-2). */
static int model_tail(const char *s)
{
    if (s == NULL || s[0] == '\0') return 100;
    if (strcmp(s, "all") == 0) return -1;
    int64_t v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') return -2;
        if (v <= CONTAINER_LOG_TAIL_MAX) v = v * 10 + (*p - '0');
    }
    return v <= CONTAINER_LOG_TAIL_MAX ? (int)v : -2;
}

/* 1, 0, or -1 for refused. */
static int model_flag(const char *s)
{
    if (s == NULL) return 0;
    if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 || strcmp(s, "yes") == 0) return 1;
    if (s[0] == '\0' || strcmp(s, "0") == 0 || strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
        return 0;
    return -1;
}

static void fuzz_logs(const char *tail, const char *since, const char *ts, const char *follow)
{
    container_logs_req r;
    plat_err e;
    memset(&e, 0, sizeof e);
    int rc = containers_parse_logs(tail, since, ts, follow, &r, &e);
    CHECK(rc == 0 || rc == -EINVAL);

    int want_tail = model_tail(tail);
    int want_ts = model_flag(ts), want_follow = model_flag(follow);
    int64_t want_since = 0;
    int since_ok = 1;
    if (since != NULL && since[0] != '\0') {
        int64_t v = 0;
        since_ok = time_parse_rfc3339(since, &v) == 0 && v >= 0; /* before 1970: refused */
        want_since = v;
        if (since_ok && v >= 0) {
            /* what parses formats back to the same instant */
            char buf[TIME_RFC3339_LEN];
            int64_t again = -1;
            time_rfc3339(v, buf, sizeof buf);
            if (v <= 253402300799LL) { /* four-digit years */
                CHECK(time_parse_rfc3339(buf, &again) == 0);
                CHECK(again == v);
                /* a canonical timestamp (UTC, no fraction, no leap second) is only accepted
                 * when it names a real date and time: it formats back to itself */
                if (strlen(since) == TIME_RFC3339_LEN - 1 && since[10] == 'T' && since[19] == 'Z' &&
                    !(since[17] == '6' && since[18] == '0'))
                    CHECK(strcmp(buf, since) == 0);
            }
        }
    }
    int want = want_tail != -2 && since_ok && want_ts >= 0 && want_follow >= 0;
    if (rc == 0) {
        CHECK(want);
        CHECK(r.tail >= -1 && r.tail <= CONTAINER_LOG_TAIL_MAX);
        CHECK(r.tail == want_tail);
        CHECK(r.since == want_since);
        CHECK(r.timestamps == want_ts && r.follow == want_follow);
    } else {
        CHECK(!want);
        check_plat_err(&e);
        /* the first bad parameter, in order, is the one named */
        const char *field = want_tail == -2 ? "tail"
                            : !since_ok     ? "since"
                            : want_ts < 0   ? "timestamps"
                                            : "follow";
        CHECK(strstr(e.msg, field) != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the body */
    json_err je;
    memset(&je, 0, sizeof je);
    json_t *o = json_body_object((const char *)data, size, &je);
    if (o != NULL) {
        fuzz_create_body(o);
        static const char *const fields[] = {"serviceType", "name", "env", "ttl"};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            json_t *v = json_object_get(o, fields[i]);
            if (v != NULL) fuzz_create_field(fields[i], v);
        }
        /* every value of the body, whatever its key, tried in every field */
        const char *k;
        json_t *x;
        json_object_foreach(o, k, x)
        {
            if (!known_key(k))
                for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
                    fuzz_create_field(fields[i], x);
        }
        json_decref(o);
    }

    /* the query: up to four NUL-free pieces */
    char *buf = malloc(size + 1);
    if (buf == NULL) return 0;
    if (size > 0) memcpy(buf, data, size);
    buf[size] = '\0';
    const char *part[4] = {NULL, NULL, NULL, NULL};
    size_t np = 0, start = 0;
    for (size_t i = 0; i <= size && np < 4; i++) {
        if (i == size || buf[i] == '&' || buf[i] == '\n' || buf[i] == '\0') {
            buf[i] = '\0';
            part[np++] = buf + start;
            start = i + 1;
        }
    }
    fuzz_logs(part[0], part[1], part[2], part[3]);
    for (size_t i = 0; i < np; i++) {
        fuzz_logs(part[i], NULL, NULL, NULL);
        fuzz_logs(NULL, part[i], NULL, NULL);
        fuzz_logs(NULL, NULL, part[i], NULL);
        fuzz_logs(NULL, NULL, NULL, part[i]);
    }
    free(buf);
    return 0;
}
