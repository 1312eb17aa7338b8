/* The container routes of seed 000 (and our extensions): list, create, inspect, start, stop,
 * restart, delete, logs; plus the catalog. Handlers authenticate, resolve the reference with
 * the caller's tenant (another tenant's container is a 404, as a missing one), call the
 * containers service and write an audit row for every mutation. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"
#include "app.h"
#include "audit.h"
#include "api_common.h"
#include "authn.h"
#include "containers.h"
#include "json.h"
#include "log.h"
#include "reconcile.h"
#include "response.h"
#include "str.h"
#include "timeutil.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int followers; /* log streams being followed right now */

void api_actor_of(const caller *c, container_actor *a)
{
    a->user_id = c->user.id;
    a->client_id = c->user.client_id;
    a->admin = strcmp(c->user.role, "admin") == 0;
}

void api_answer_err(http_req *q, const plat_err *e)
{
    if (e->status == 503)
        http_resp_header(q, "Retry-After", "2");
    http_error(q, e->status, e->code, "%s", e->msg);
}

static void db_unavailable(http_req *q, int rc)
{
    log_warnx("database error %d", rc);
    http_error(q, 503, "database_unavailable", "the database is unavailable; try again");
}

/* --- the list cache ------------------------------------------------------------------------
 * Dashboards poll the list; serializing 200 rows costs about a millisecond of CPU (jansson),
 * so the body is kept per tenant and reused while no container row has been written
 * (store_container_generation) and for at most a second (another process sharing the
 * database would not bump our generation). */
#define LIST_CACHE_SLOTS 64
#define LIST_CACHE_MAX_AGE_MS 1000

struct list_entry {
    char tenant[STORE_ID_MAX];
    uint64_t gen;
    int64_t at_ms;
    char *body;
    size_t len;
};

static struct list_entry list_cache[LIST_CACHE_SLOTS];
static pthread_mutex_t list_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const char *tenant)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = tenant; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % LIST_CACHE_SLOTS;
}

static char *copy_of(const char *body, size_t len)
{
    char *c = xmalloc(len + 1);
    memcpy(c, body, len + 1);
    return c;
}

/* The list body of tenant ("" = all), from the cache or the store. */
static int list_body(app *a, const char *tenant, char **body, size_t *len)
{
    uint64_t gen = store_container_generation(a->st);
    int64_t now = time_mono_ms();
    struct list_entry *e = &list_cache[slot_of(tenant)];
    pthread_mutex_lock(&list_mu);
    if (e->body != NULL && e->gen == gen && now - e->at_ms < LIST_CACHE_MAX_AGE_MS &&
        strcmp(e->tenant, tenant) == 0) {
        *body = copy_of(e->body, e->len);
        *len = e->len;
        pthread_mutex_unlock(&list_mu);
        return 0;
    }
    pthread_mutex_unlock(&list_mu);
    store_container *rows = NULL;
    size_t n = 0;
    int rc = store_container_list(a->st, tenant, "", &rows, &n);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, containers_json(a, &rows[i], 0));
    free(rows);
    *body = json_dump_response(arr, len);
    json_decref(arr);
    pthread_mutex_lock(&list_mu);
    free(e->body);
    str_copy(e->tenant, sizeof(e->tenant), tenant);
    e->gen = gen;
    e->at_ms = now;
    e->body = copy_of(*body, *len);
    e->len = *len;
    pthread_mutex_unlock(&list_mu);
    return 0;
}

/* GET /api/containers: from the platform's records, never the Engine, so it is fast and
 * answers even while the Engine is down. Admins see every tenant, or one with ?clientId=. */
void api_containers_list(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    if (api_authenticate(q, &c) != 0)
        return;
    container_actor actor;
    api_actor_of(&c, &actor);
    const char *tenant = actor.client_id;
    if (actor.admin) {
        const char *f = http_req_query(q, "clientId");
        tenant = f != NULL ? f : "";
        if (strlen(tenant) >= STORE_ID_MAX) {
            http_error(q, 400, "invalid_field", "clientId is too long");
            return;
        }
    }
    char *body;
    size_t len;
    int rc = list_body(a, tenant, &body, &len);
    if (rc != 0) {
        db_unavailable(q, rc);
        return;
    }
    const char *stats = http_req_query(q, "stats");
    if (stats != NULL && strcmp(stats, "0") != 0 && strcmp(stats, "false") != 0) {
        /* The cached rows plus each one's latest sample (which changes every second). */
        json_t *rows = json_loadb(body, len, 0, NULL);
        free(body);
        if (rows == NULL) {
            http_error(q, 500, "internal", "the container list could not be read back");
            return;
        }
        api_stats_attach(rows);
        body = json_dump_response(rows, &len);
        json_decref(rows);
    }
    http_respond(q, 200, "application/json; charset=utf-8", body, len);
}

/* POST /api/containers/create {serviceType, name, env?, ttl?}. */
void api_containers_create(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    if (api_authenticate(q, &c) != 0)
        return;
    size_t len;
    const char *body = http_req_body(q, &len);
    json_err je;
    json_t *j = json_body_object(body, len, &je);
    if (j == NULL) {
        http_error(q, 400, je.code, "%s", je.msg);
        return;
    }
    container_actor actor;
    api_actor_of(&c, &actor);
    container_create_req r;
    plat_err e;
    store_container ct;
    char password[CONTAINER_PASSWORD_LEN + 1] = "";
    if (containers_parse_create(j, &r, &e) != 0) {
        api_answer_err(q, &e);
        goto out;
    }
    if (containers_create(a, &actor, &r, &ct, password, &e) != 0) {
        api_audit(q, c.user.id, c.user.client_id, "container.create", r.name, "failure", e.code);
        api_answer_err(q, &e);
        goto out;
    }
    api_audit(q, c.user.id, c.user.client_id, "container.create", ct.name, "success",
              ct.docker_id);
    json_t *ans = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "containerId", ct.docker_id,
                            "name", ct.name, "url", ct.url, "status", ct.state, "serviceType",
                            ct.service_type, "hostPort", ct.host_port);
    if (password[0] != '\0')
        json_object_set_new(ans, "password", json_string(password));
    if (ct.expires_at > 0) {
        char ts[TIME_RFC3339_LEN];
        time_rfc3339(ct.expires_at, ts, sizeof(ts));
        json_object_set_new(ans, "expiresAt", json_string(ts));
    }
    sodium_memzero(password, sizeof(password));
    http_json(q, 201, ans);
out:
    json_decref(j);
}

/* Authenticates and resolves :id; answers the error itself when it returns non-zero. */
int api_container_target(http_req *q, caller *c, store_container *ct)
{
    app *a = http_req_app(q);
    if (api_authenticate(q, c) != 0)
        return -EACCES;
    container_actor actor;
    api_actor_of(c, &actor);
    plat_err e;
    if (containers_resolve(a, &actor, http_req_param(q, "id"), ct, &e) != 0) {
        api_answer_err(q, &e);
        return -ENOENT;
    }
    return 0;
}

/* GET /api/containers/:id: the record with its limits and ports. */
void api_containers_get(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    store_container ct;
    if (api_container_target(q, &c, &ct) != 0)
        return;
    http_json(q, 200, containers_json(a, &ct, 1));
}

static void act(http_req *q, enum container_action what, const char *action)
{
    app *a = http_req_app(q);
    caller c;
    store_container ct;
    if (api_container_target(q, &c, &ct) != 0)
        return;
    plat_err e;
    if (containers_act(a, &ct, what, &e) != 0) {
        api_audit(q, c.user.id, ct.client_id, action, ct.name, "failure", e.code);
        api_answer_err(q, &e);
        return;
    }
    api_audit(q, c.user.id, ct.client_id, action, ct.name, "success", ct.docker_id);
    http_json(q, 200, json_pack("{s:s, s:s}", "containerId", ct.docker_id, "status", ct.state));
}

void api_containers_start(http_req *q)
{
    act(q, CONTAINER_START, "container.start");
}

void api_containers_stop(http_req *q)
{
    act(q, CONTAINER_STOP, "container.stop");
}

void api_containers_restart(http_req *q)
{
    act(q, CONTAINER_RESTART, "container.restart");
}

/* DELETE /api/containers/:id: the container, its data volume and its record. */
void api_containers_delete(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    store_container ct;
    if (api_container_target(q, &c, &ct) != 0)
        return;
    plat_err e;
    if (containers_delete(a, &ct, &e) != 0) {
        api_audit(q, c.user.id, ct.client_id, "container.delete", ct.name, "failure", e.code);
        api_answer_err(q, &e);
        return;
    }
    api_audit(q, c.user.id, ct.client_id, "container.delete", ct.name, "success",
              ct.docker_id[0] ? ct.docker_id : ct.id);
    http_json(q, 200, json_pack("{s:s, s:b}", "containerId", ct.docker_id[0] ? ct.docker_id : ct.id,
                                "deleted", 1));
}

/* --- logs ---------------------------------------------------------------------------------- */

struct collect {
    json_t *lines;
    size_t bytes;
};

static int collect_line(void *ctx, int stream, const char *line, size_t len)
{
    struct collect *k = ctx;
    (void)stream;
    k->bytes += len;
    if (k->bytes > CONTAINER_LOG_BYTES_MAX)
        return 1;
    /* Log lines are the container's bytes: invalid UTF-8 is replaced, not refused. */
    json_t *s = json_stringn_nocheck(line, len);
    if (!str_is_utf8(line, len)) {
        char *fixed = xmalloc(len + 1);
        for (size_t i = 0; i < len; i++)
            fixed[i] = (unsigned char)line[i] < 0x80 ? line[i] : '?';
        json_decref(s);
        s = json_stringn_nocheck(fixed, len);
        free(fixed);
    }
    json_array_append_new(k->lines, s);
    return 0;
}

struct follow {
    app *a;
    store_container ct;
    container_logs_req r;
    http_stream *s;
};

static int follow_line(void *ctx, int stream, const char *line, size_t len)
{
    struct follow *f = ctx;
    (void)stream;
    char *buf = xmalloc(len + 1);
    memcpy(buf, line, len);
    buf[len] = '\n';
    int rc = http_stream_write(f->s, buf, len + 1);
    free(buf);
    return rc == -EPIPE;
}

static int follow_stop(void *ctx)
{
    struct follow *f = ctx;
    return http_stream_closed(f->s);
}

static void *follow_main(void *arg)
{
    struct follow *f = arg;
    plat_err e;
    if (containers_logs(f->a, &f->ct, &f->r, follow_line, follow_stop, f, &e) != 0 &&
        !http_stream_closed(f->s)) {
        char msg[600];
        int n = snprintf(msg, sizeof(msg), "cloudya: the log stream ended: %s\n", e.msg);
        http_stream_write(f->s, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
    }
    http_stream_end(f->s);
    free(f);
    atomic_fetch_sub(&followers, 1);
    return NULL;
}

/* GET /api/containers/:id/logs?tail=&since=&timestamps=&follow=. Without follow the answer
 * is {containerId, lines}; with follow=1 it is text/plain, one line per log line, streamed
 * (chunked) until the client goes away. */
void api_containers_logs(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    store_container ct;
    if (api_container_target(q, &c, &ct) != 0)
        return;
    container_logs_req r;
    plat_err e;
    if (containers_parse_logs(http_req_query(q, "tail"), http_req_query(q, "since"),
                              http_req_query(q, "timestamps"), http_req_query(q, "follow"), &r,
                              &e) != 0) {
        api_answer_err(q, &e);
        return;
    }
    if (!r.follow) {
        struct collect k = {json_array(), 0};
        if (containers_logs(a, &ct, &r, collect_line, NULL, &k, &e) != 0) {
            json_decref(k.lines);
            api_answer_err(q, &e);
            return;
        }
        http_json(q, 200, json_pack("{s:s, s:o}", "containerId", ct.docker_id, "lines", k.lines));
        return;
    }
    /* Check the container answers before committing to a 200 stream. */
    json_t *j = NULL;
    char err[DOCKER_ERR_MAX];
    int rc = ct.docker_id[0] ? docker_container_inspect(a->engine, ct.docker_id, &j, err,
                                                        sizeof(err))
                             : -ENOENT;
    json_decref(j);
    if (rc != 0) {
        containers_engine_err(&e, rc, "cannot read the logs", rc == -ENOENT ? "no such container" : err);
        api_answer_err(q, &e);
        return;
    }
    struct follow *f = xcalloc(1, sizeof(*f));
    f->a = a;
    f->ct = ct;
    f->r = r;
    f->s = http_respond_stream(q, 200, "text/plain; charset=utf-8");
    atomic_fetch_add(&followers, 1);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, follow_main, f) != 0) {
        log_warnx("cannot start a log follower");
        http_stream_end(f->s);
        free(f);
        atomic_fetch_sub(&followers, 1);
    }
    pthread_attr_destroy(&attr);
}

/* Followers notice the server closing their streams within about a second; the list cache
 * is freed here too. */
void api_containers_shutdown(int timeout_ms)
{
    pthread_mutex_lock(&list_mu);
    for (size_t i = 0; i < LIST_CACHE_SLOTS; i++) {
        free(list_cache[i].body);
        list_cache[i].body = NULL;
    }
    pthread_mutex_unlock(&list_mu);
    for (int t = 0; t < timeout_ms && atomic_load(&followers) > 0; t += 50) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&followers) > 0)
        log_warnx("%d log followers still running at exit", atomic_load(&followers));
}

/* GET /api/catalog: what a client may create. */
void api_catalog(http_req *q)
{
    app *a = http_req_app(q);
    caller c;
    if (api_authenticate(q, &c) != 0)
        return;
    http_json(q, 200, catalog_to_json(a->catalog));
}

/* GET /api/admin/containers/unrecorded: containers with the seed's managed label that this
 * platform did not create (an older Cloud Agent's, say); admins decide what to do. */
void api_admin_unrecorded(http_req *q)
{
    caller c;
    if (api_authenticate(q, &c) != 0)
        return;
    if (strcmp(c.user.role, "admin") != 0) {
        http_error(q, 403, "forbidden", "this endpoint is for admins");
        return;
    }
    http_json(q, 200, reconcile_unrecorded());
}
