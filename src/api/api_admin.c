/* The admin view's endpoints: tenants (list, one, change plan, quotas and name), users (list,
 * change role and disabled flag) and the audit log. Every handler first requires an admin
 * (a client's token is a 403), reads the store only through store.h, and writes an audit
 * row for every change it makes or refuses for a rule (not for a malformed body).
 *
 * Bodies are small and strict: at most API_ADMIN_BODY_MAX bytes, checked before jansson sees
 * them; a key the endpoint does not know is a 400 naming it (a typo must never be a silent
 * no-op on a quota). Strings read back from the database go out through jstr(), so that a
 * row written behind the platform's back can never turn an answer into invalid JSON. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"
#include "app.h"
#include "audit.h"
#include "auth_req.h"
#include "billing.h"
#include "authn.h"
#include "json.h"
#include "log.h"
#include "response.h"
#include "str.h"
#include "timeutil.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENTS_LIMIT_DEFAULT 500
#define USERS_LIMIT_DEFAULT 500
#define AUDIT_LIMIT_DEFAULT 100
#define KEY_SHOWN_MAX 48 /* bytes of an unknown key quoted in an error sentence */
#define DETAIL_MAX 160   /* an audit detail; audit.c appends the request id to it */
#define AUDIT_ACTION_SIZE sizeof(((store_audit *)0)->action)
#define ASCII_FALLBACK_MAX (STORE_NAME_MAX + 1) /* the longest text column we answer */

static const char *const plans[] = {"free", "starter", "pro", "enterprise"};
#define PLANS (sizeof(plans) / sizeof(plans[0]))

/* ---- body parsing ------------------------------------------------------------------------- */

static void fail(json_err *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(json_err *e, const char *code, const char *fmt, ...)
{
    va_list ap;
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

/* Copies key (valid UTF-8: jansson checked it) for an error sentence: at most cap - 1 bytes,
 * cut at a character boundary, control characters shown as '?'. */
static void key_shown(const char *key, char *out, size_t cap)
{
    size_t n = strlen(key);
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)key[i];
        out[i] = ch < 0x20 || ch == 0x7f ? '?' : key[i];
    }
    out[n] = '\0';
}

/* 0 when every key of obj is in allowed (n of them); otherwise -EINVAL naming the first
 * other key, with prefix ("quota.") before it. */
static int keys_known(json_t *obj, const char *const *allowed, size_t n, const char *prefix,
                      const char *list, json_err *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        size_t i = 0;
        while (i < n && strcmp(key, allowed[i]) != 0)
            i++;
        if (i < n)
            continue;
        char shown[KEY_SHOWN_MAX + 1];
        key_shown(key, shown, sizeof(shown));
        fail(e, "invalid_field", "unknown field \"%s%s\" (the fields are %s)", prefix, shown,
             list);
        return -EINVAL;
    }
    return 0;
}

/* 1 when v is the JSON string want, exactly (a NUL inside never matches). */
static int string_is(const json_t *v, const char *want)
{
    return json_is_string(v) && json_string_length(v) == strlen(want) &&
           strcmp(json_string_value(v), want) == 0;
}

/* Replaces every byte of s that does not start a valid UTF-8 sequence with '?'. jansson's
 * "near '...'" quotes the input and can cut a character in two, and a sentence that is not
 * UTF-8 cannot be put into the JSON error answer. */
static void utf8_repair(char *s)
{
    for (size_t i = 0; s[i] != '\0';) {
        unsigned char b = (unsigned char)s[i];
        size_t n = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
        if (strnlen(s + i, n) == n && str_is_utf8(s + i, n)) {
            i += n;
        } else {
            s[i++] = '?';
        }
    }
}

/* The size check comes before any parsing; then one JSON object, by json_body_object. */
static json_t *body_object(const char *body, size_t len, json_err *e, int *rc)
{
    if (len > API_ADMIN_BODY_MAX) {
        fail(e, "too_large", "the request body is larger than %d bytes", API_ADMIN_BODY_MAX);
        *rc = -EMSGSIZE;
        return NULL;
    }
    json_t *root = json_body_object(body, len, e);
    *rc = root == NULL ? -EINVAL : 0;
    if (root == NULL)
        utf8_repair(e->msg);
    return root;
}

/* quota.<key>: an integer in 0..max, when present. */
static int quota_int(json_t *quota, const char *key, int64_t max, int *has, int *out,
                     json_err *e)
{
    json_t *v = json_object_get(quota, key);
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
        fail(e, "invalid_field", "quota.%s must be an integer from 0 to %lld", key,
             (long long)max);
        return -EINVAL;
    }
    *out = (int)json_integer_value(v);
    *has = 1;
    return 0;
}

static int parse_quota(json_t *quota, api_client_patch *p, json_err *e)
{
    static const char *const keys[] = {"containers", "memoryMb", "cpus"};
    if (!json_is_object(quota)) {
        fail(e, "invalid_field", "quota must be an object");
        return -EINVAL;
    }
    if (keys_known(quota, keys, 3, "quota.", "containers, memoryMb and cpus", e) != 0)
        return -EINVAL;
    if (json_object_size(quota) == 0) {
        fail(e, "invalid_field", "quota must name at least one of containers, memoryMb, cpus");
        return -EINVAL;
    }
    if (quota_int(quota, "containers", API_QUOTA_CONTAINERS_MAX, &p->has_containers,
                  &p->containers, e) != 0 ||
        quota_int(quota, "memoryMb", API_QUOTA_MEMORY_MB_MAX, &p->has_memory_mb, &p->memory_mb,
                  e) != 0)
        return -EINVAL;
    json_t *v = json_object_get(quota, "cpus");
    if (v == NULL)
        return 0;
    double cpus = json_number_value(v);
    if (!json_is_number(v) || !isfinite(cpus) || cpus < 0 || cpus > API_QUOTA_CPUS_MAX) {
        fail(e, "invalid_field", "quota.cpus must be a number from 0 to %d", API_QUOTA_CPUS_MAX);
        return -EINVAL;
    }
    p->cpus = cpus;
    p->has_cpus = 1;
    return 0;
}

/* Field order in the checks is name, plan, quota, so that errors are predictable. */
int api_admin_client_patch_parse(const char *body, size_t len, api_client_patch *p,
                                 json_err *e)
{
    static const char *const keys[] = {"name", "plan", "quota", "creditTokens"};
    const char *s;
    int64_t credit;
    json_t *v;
    int rc;
    memset(p, 0, sizeof(*p));
    json_t *root = body_object(body, len, e, &rc);
    if (root == NULL)
        return rc;
    rc = -EINVAL;
    if (keys_known(root, keys, 4, "", "name, plan, quota and creditTokens", e) != 0)
        goto out;
    if (json_object_size(root) == 0) {
        fail(e, "invalid_field",
             "the body must change at least one of name, plan, quota, creditTokens");
        goto out;
    }
    if (json_object_get(root, "name") != NULL) {
        if (json_field_str(root, "name", 1, 1, STORE_NAME_MAX, 1, &s, e) != 0)
            goto out;
        if (str_utf8_chars(s, strlen(s)) > AUTH_NAME_MAX) {
            fail(e, "invalid_field", "name is too long (at most %d characters)", AUTH_NAME_MAX);
            goto out;
        }
        str_copy(p->name, sizeof(p->name), s);
        p->has_name = 1;
    }
    if ((v = json_object_get(root, "plan")) != NULL) {
        size_t i = 0;
        while (i < PLANS && !string_is(v, plans[i]))
            i++;
        if (i == PLANS) {
            fail(e, "invalid_field", "plan must be one of free, starter, pro, enterprise");
            goto out;
        }
        str_copy(p->plan, sizeof(p->plan), plans[i]);
        p->has_plan = 1;
    }
    if ((v = json_object_get(root, "quota")) != NULL && parse_quota(v, p, e) != 0)
        goto out;
    if (json_object_get(root, "creditTokens") != NULL) {
        if (json_field_int(root, "creditTokens", 1, 1, BILLING_CREDIT_MAX, &credit, e) != 0) {
            fail(e, "invalid_field", "creditTokens must be an integer from 1 to %d",
                 BILLING_CREDIT_MAX);
            goto out;
        }
        p->credit_tokens = credit;
    }
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        memset(p, 0, sizeof(*p));
    return rc;
}

/* The same shape of checks as the client body: unknown keys first, then role, disabled. A
 * refusal leaves p as "nothing changes" (role "", disabled -1). */
int api_admin_user_patch_parse(const char *body, size_t len, api_user_patch *p, json_err *e)
{
    static const char *const keys[] = {"role", "disabled"};
    json_t *v;
    int rc;
    memset(p, 0, sizeof(*p));
    p->disabled = -1;
    json_t *root = body_object(body, len, e, &rc);
    if (root == NULL)
        return rc;
    rc = -EINVAL;
    if (keys_known(root, keys, 2, "", "role and disabled", e) != 0)
        goto out;
    if (json_object_size(root) == 0) {
        fail(e, "invalid_field", "the body must change at least one of role, disabled");
        goto out;
    }
    if ((v = json_object_get(root, "role")) != NULL) {
        if (!string_is(v, "admin") && !string_is(v, "client")) {
            fail(e, "invalid_field", "role must be \"admin\" or \"client\"");
            goto out;
        }
        str_copy(p->role, sizeof(p->role), json_string_value(v));
    }
    if ((v = json_object_get(root, "disabled")) != NULL) {
        if (!json_is_boolean(v)) {
            fail(e, "invalid_field", "disabled must be true or false");
            goto out;
        }
        p->disabled = json_is_true(v) ? 1 : 0;
    }
    rc = 0;
out:
    json_decref(root);
    if (rc != 0) {
        memset(p, 0, sizeof(*p));
        p->disabled = -1;
    }
    return rc;
}

/* ---- answers ------------------------------------------------------------------------------ */

/* A JSON string of s. Text that is not valid UTF-8 (this daemon never writes such, but the
 * database is outside input) has its non-ASCII bytes shown as '?'. Never NULL but on OOM. */
static json_t *jstr(const char *s)
{
    json_t *v = json_string(s);
    if (v != NULL)
        return v;
    char ascii[ASCII_FALLBACK_MAX];
    size_t i = 0;
    for (; s[i] != '\0' && i < sizeof(ascii) - 1; i++)
        ascii[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    ascii[i] = '\0';
    return json_string(ascii);
}

static json_t *jtime(int64_t t)
{
    char ts[TIME_RFC3339_LEN];
    time_rfc3339(t, ts, sizeof(ts));
    return json_string(ts);
}

static void db_unavailable(http_req *q, int rc)
{
    log_warnx("admin: database error %d", rc);
    http_error(q, 503, "database_unavailable", "the database is unavailable; try again");
}

/* Authenticates q and requires an admin. Returns 0, or a negative errno after answering
 * 401 (503) or 403 itself. */
static int admin_caller(http_req *q, caller *c)
{
    if (api_authenticate(q, c) != 0)
        return -EACCES;
    if (strcmp(c->user.role, "admin") != 0) {
        http_error(q, 403, "forbidden", "this endpoint is for administrators");
        return -EPERM;
    }
    return 0;
}

/* ?limit= in 1..STORE_LIST_MAX (def when absent); answers 400 itself otherwise. */
static int query_limit(http_req *q, int def, int *out)
{
    const char *s = http_req_query(q, "limit");
    int64_t v = def;
    if (s != NULL && str_to_int64(s, 1, STORE_LIST_MAX, &v) != 0) {
        http_error(q, 400, "invalid_field", "limit must be an integer from 1 to %d",
                   STORE_LIST_MAX);
        return -EINVAL;
    }
    *out = (int)v;
    return 0;
}

/* ?<name>= as a filter ("" when absent) that fits a size-byte buffer; 400 otherwise. */
static int query_filter(http_req *q, const char *name, size_t size, const char **out)
{
    const char *s = http_req_query(q, name);
    *out = s != NULL ? s : "";
    if (strlen(*out) < size)
        return 0;
    http_error(q, 400, "invalid_field", "%s is too long (at most %zu bytes)", name, size - 1);
    return -EINVAL;
}

/* The client with its usage, as GET /api/auth/me shows it plus createdAt and its assistant
 * token account ("tokens": balance, monthlyAllowance, usedThisPeriod, periodEnd). Returns 0
 * with *out set, or the store's negative errno. */
static int client_json(app *a, const store_client *cl, json_t **out)
{
    int count = 0, running = 0, mem = 0;
    double cpus = 0;
    store_tokens t;
    int rc = store_container_usage(a->st, cl->id, &count, &running, &mem, &cpus);
    if (rc == 0)
        rc = billing_account(a->st, cl, time_now(), &t);
    if (rc != 0)
        return rc;
    *out = json_pack("{s:o, s:o, s:o, s:{s:i, s:i, s:f}, s:{s:i, s:i, s:i, s:f}, s:o}", "id",
                     jstr(cl->id), "name", jstr(cl->name), "plan", jstr(cl->plan), "quota",
                     "containers", cl->quota_containers, "memoryMb", cl->quota_memory_mb,
                     "cpus", cl->quota_cpus, "usage", "containers", count, "running", running,
                     "memoryMb", mem, "cpus", cpus, "createdAt", jtime(cl->created_at));
    json_object_set_new(*out, "tokens",
                        json_pack("{s:I, s:I, s:I, s:o}", "balance", (json_int_t)t.balance,
                                  "monthlyAllowance", (json_int_t)t.allowance, "usedThisPeriod",
                                  (json_int_t)t.used, "periodEnd", jtime(t.period_end)));
    return 0;
}

static json_t *user_json(const store_user *u)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "id", jstr(u->id), "email",
                     jstr(u->email), "name", jstr(u->name), "role", jstr(u->role), "clientId",
                     jstr(u->client_id), "disabled", u->disabled, "createdAt",
                     jtime(u->created_at));
}

/* The client named by :id; answers 404 or 503 itself and returns a negative errno. */
static int target_client(http_req *q, store_client *cl)
{
    app *a = http_req_app(q);
    const char *id = http_req_param(q, "id");
    int rc = strlen(id) < STORE_ID_MAX ? store_client_get(a->st, id, cl) : -ENOENT;
    if (rc == -ENOENT)
        http_error(q, 404, "not_found", "no such client");
    else if (rc != 0)
        db_unavailable(q, rc);
    return rc;
}

/* An audit detail built piece by piece; what does not fit is cut, never overrun. */
struct detail {
    char text[DETAIL_MAX];
    size_t len;
};

static void detail_add(struct detail *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void detail_add(struct detail *d, const char *fmt, ...)
{
    if (d->len >= sizeof(d->text) - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->text + d->len, sizeof(d->text) - d->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        d->len += (size_t)n < sizeof(d->text) - d->len ? (size_t)n : sizeof(d->text) - 1 - d->len;
}

/* ---- handlers ----------------------------------------------------------------------------- */

/* One usage query and one token account per client, which is why the route is ROUTE_SLOW. */
void api_admin_clients_list(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    int limit;
    if (admin_caller(q, &c) != 0 || query_limit(q, CLIENTS_LIMIT_DEFAULT, &limit) != 0)
        return;
    store_client *rows = NULL;
    size_t n = 0;
    int rc = store_client_list(a->st, limit, &rows, &n);
    json_t *arr = json_array();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *o = NULL;
        rc = client_json(a, &rows[i], &o);
        if (rc == 0)
            json_array_append_new(arr, o);
    }
    free(rows);
    if (rc != 0) {
        json_decref(arr);
        db_unavailable(q, rc);
        return;
    }
    http_json(q, 200, arr);
}

/* Answers 200 with cl as one row of the list, or 503 when it cannot be read. */
static void answer_client(http_req *q, const store_client *cl)
{
    json_t *o = NULL;
    int rc = client_json(http_req_app(q), cl, &o);
    if (rc != 0) {
        db_unavailable(q, rc);
        return;
    }
    http_json(q, 200, o);
}

/* The same answer as one row of the list, so that the dashboard can refresh one tenant. */
void api_admin_clients_get(http_req *q)
{
    caller c;
    store_client cl;
    if (admin_caller(q, &c) != 0 || target_client(q, &cl) != 0)
        return;
    answer_client(q, &cl);
}

/* Only the named fields change; the row is then written whole (store_client_update). A quota
 * may go below what the tenant uses: its containers keep running, new creates are refused. */
void api_admin_clients_update(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    size_t len;
    api_client_patch p;
    json_err e;
    store_client cl;
    struct detail d = {.text = "", .len = 0};
    if (admin_caller(q, &c) != 0)
        return;
    const char *body = http_req_body(q, &len);
    int rc = api_admin_client_patch_parse(body, len, &p, &e);
    if (rc != 0) {
        http_error(q, rc == -EMSGSIZE ? 413 : 400, e.code, "%s", e.msg);
        return;
    }
    if (target_client(q, &cl) != 0)
        return;
    if (p.has_plan) {
        detail_add(&d, " plan=%s>%s", cl.plan, p.plan);
        str_copy(cl.plan, sizeof(cl.plan), p.plan);
    }
    if (p.has_containers) {
        detail_add(&d, " containers=%d>%d", cl.quota_containers, p.containers);
        cl.quota_containers = p.containers;
    }
    if (p.has_memory_mb) {
        detail_add(&d, " memoryMb=%d>%d", cl.quota_memory_mb, p.memory_mb);
        cl.quota_memory_mb = p.memory_mb;
    }
    if (p.has_cpus) {
        detail_add(&d, " cpus=%g>%g", cl.quota_cpus, p.cpus);
        cl.quota_cpus = p.cpus;
    }
    if (p.has_name) {
        detail_add(&d, " name");
        str_copy(cl.name, sizeof(cl.name), p.name);
    }
    if (p.credit_tokens > 0) detail_add(&d, " creditTokens=%lld", (long long)p.credit_tokens);
    rc = store_client_update(a->st, &cl);
    /* The new plan's allowance applies now (billing_account), then the credit. */
    store_tokens t;
    if (rc == 0 && p.credit_tokens > 0 && (rc = billing_account(a->st, &cl, time_now(), &t)) == 0)
        rc = store_tokens_add(a->st, cl.id, p.credit_tokens, 0, "credit", c.user.id, "admin credit",
                              time_now(), &t);
    if (rc == -ENOENT) {
        http_error(q, 404, "not_found", "no such client");
        return;
    }
    if (rc != 0) {
        db_unavailable(q, rc);
        return;
    }
    api_audit(q, c.user.id, cl.id, "admin.client.update", cl.id, "success",
              d.len > 0 ? d.text + 1 : NULL);
    answer_client(q, &cl);
}

/* One query whatever the filter; the store never selects the password hashes for a list. */
void api_admin_users_list(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    int limit;
    const char *client_id;
    if (admin_caller(q, &c) != 0 || query_filter(q, "clientId", STORE_ID_MAX, &client_id) != 0 ||
        query_limit(q, USERS_LIMIT_DEFAULT, &limit) != 0)
        return;
    store_user *rows = NULL;
    size_t n = 0;
    int rc = store_user_list(a->st, client_id, limit, &rows, &n);
    if (rc != 0) {
        db_unavailable(q, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, user_json(&rows[i]));
    free(rows);
    http_json(q, 200, arr);
}

/* The caller's own demotion or disabling is refused here; the last enabled admin is refused
 * by the store, atomically, so that two admins demoting each other at once cannot both win. */
void api_admin_users_update(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    size_t len;
    api_user_patch p;
    json_err e;
    store_user before, after;
    struct detail d = {.text = "", .len = 0};
    if (admin_caller(q, &c) != 0)
        return;
    const char *body = http_req_body(q, &len);
    int rc = api_admin_user_patch_parse(body, len, &p, &e);
    if (rc != 0) {
        http_error(q, rc == -EMSGSIZE ? 413 : 400, e.code, "%s", e.msg);
        return;
    }
    const char *id = http_req_param(q, "id");
    rc = strlen(id) < STORE_ID_MAX ? store_user_get(a->st, id, &before) : -ENOENT;
    if (rc == -ENOENT) {
        http_error(q, 404, "not_found", "no such user");
        return;
    }
    if (rc != 0) {
        db_unavailable(q, rc);
        return;
    }
    detail_add(&d, "user=%s", before.id);
    if (p.role[0] != '\0')
        detail_add(&d, " role=%s>%s", before.role, p.role);
    if (p.disabled >= 0)
        detail_add(&d, " disabled=%d>%d", before.disabled, p.disabled);
    if (strcmp(before.id, c.user.id) == 0 &&
        (strcmp(p.role, "client") == 0 || p.disabled == 1)) {
        api_audit(q, c.user.id, before.client_id, "admin.user.update", before.email, "denied",
                  d.text);
        http_error(q, 409, "conflict", "you cannot demote or disable yourself");
        return;
    }
    rc = store_user_set_access(a->st, before.id, p.role, p.disabled);
    if (rc == -EPERM) {
        api_audit(q, c.user.id, before.client_id, "admin.user.update", before.email, "denied",
                  d.text);
        http_error(q, 409, "conflict",
                   "this is the last enabled admin: promote or enable another admin first");
        return;
    }
    if (rc == 0)
        rc = store_user_get(a->st, before.id, &after);
    if (rc == -ENOENT) {
        http_error(q, 404, "not_found", "no such user");
        return;
    }
    if (rc != 0) {
        db_unavailable(q, rc);
        return;
    }
    api_audit(q, c.user.id, after.client_id, "admin.user.update", after.email, "success",
              d.text);
    http_json(q, 200, user_json(&after));
}

/* A filter longer than the column can hold is a 400 rather than an empty answer, so that a
 * truncated id in a dashboard link is noticed. */
void api_admin_audit_list(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    int limit;
    const char *client_id, *action;
    if (admin_caller(q, &c) != 0 || query_filter(q, "clientId", STORE_ID_MAX, &client_id) != 0 ||
        query_filter(q, "action", AUDIT_ACTION_SIZE, &action) != 0 ||
        query_limit(q, AUDIT_LIMIT_DEFAULT, &limit) != 0)
        return;
    store_audit *rows = NULL;
    size_t n = 0;
    int rc = store_audit_list(a->st, client_id, action, limit, &rows, &n);
    if (rc != 0) {
        db_unavailable(q, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const store_audit *r = &rows[i];
        json_array_append_new(
            arr, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                           (json_int_t)r->id, "time", jtime(r->time), "actor", jstr(r->actor),
                           "clientId", jstr(r->client_id), "action", jstr(r->action),
                           "target", jstr(r->target), "ip", jstr(r->ip), "result",
                           jstr(r->result), "detail", jstr(r->detail)));
    }
    free(rows);
    http_json(q, 200, arr);
}
