#define _POSIX_C_SOURCE 200809L
#include "reconcile.h"

#include "containers.h"
#include "docker.h"
#include "docker_events.h"
#include "log.h"
#include "probe.h"
#include "str.h"
#include "timeutil.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_MS 1000
/* A row left mid-create or mid-delete by another daemon is taken over after this long: far
 * beyond any create (pull timeout included, by default). */
#define TAKEOVER_AFTER_S 900

static pthread_t thread;
static int running;
static atomic_int stopping;
static atomic_long passes;
static pthread_mutex_t unrec_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *unrecorded; /* guarded by unrec_mu */

static void audit(app *a, const store_container *c, const char *action, const char *detail)
{
    store_audit r;
    memset(&r, 0, sizeof(r));
    r.time = time_now();
    str_copy(r.actor, sizeof(r.actor), "system");
    str_copy(r.client_id, sizeof(r.client_id), c->client_id);
    str_copy(r.action, sizeof(r.action), action);
    str_copy(r.target, sizeof(r.target), c->name);
    str_copy(r.ip, sizeof(r.ip), "");
    str_copy(r.result, sizeof(r.result), "success");
    str_copy(r.detail, sizeof(r.detail), detail);
    if (store_audit_add(a->st, &r) != 0)
        log_warnx("cannot write the audit row for %s", action);
}

/* The Engine's container state in the platform's words; a record the platform stopped
 * stays "stopped" rather than "exited". */
static const char *map_state(const char *engine, const char *current)
{
    if (engine == NULL)
        return current;
    if (strcmp(engine, "running") == 0 || strcmp(engine, "restarting") == 0 ||
        strcmp(engine, "paused") == 0)
        return "running";
    if (strcmp(engine, "created") == 0) /* never started: only a create in progress */
        return strcmp(current, "creating") == 0 ? "created" : current;
    if (strcmp(current, "stopped") == 0)
        return "stopped";
    return "exited";
}

static void remove_engine_side(app *a, const store_container *c, const char *docker_id)
{
    char err[DOCKER_ERR_MAX], name[STORE_ID_MAX + STORE_CNAME_MAX + 16];
    int rc = docker_container_remove(a->engine, docker_id, 1, err, sizeof(err));
    if (rc != 0 && rc != -ENOENT)
        log_warnx("cannot remove container %s: %s", docker_id, err);
    containers_volume_name(c, name, sizeof(name));
    rc = docker_volume_remove(a->engine, name, err, sizeof(err));
    if (rc != 0 && rc != -ENOENT)
        log_debug("volume %s: %s", name, err);
}

/* The first published port of a /containers/json entry, or 0. */
static int public_port(json_t *e)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(e, "Ports"), i, p)
    {
        json_int_t v = json_integer_value(json_object_get(p, "PublicPort"));
        if (v > 0 && v < 65536)
            return (int)v;
    }
    return 0;
}

/* A record against what the Engine says of it (e is its list entry, or NULL). */
static void reconcile_row(app *a, store_container *c, json_t *e, int64_t now)
{
    const char *eid = json_string_value(json_object_get(e, "Id"));
    int creating = strcmp(c->state, "creating") == 0 || strcmp(c->state, "created") == 0;
    int transitional = creating || strcmp(c->state, "removing") == 0;
    /* Another live daemon sharing the database may be working on it: only the row's owner
     * (this daemon after a restart) or, once the row is long stale, anyone takes it over. */
    if (transitional && c->owner[0] != '\0' && strcmp(c->owner, a->daemon_id) != 0 &&
        c->updated_at > now - TAKEOVER_AFTER_S)
        return;
    if (transitional) {
        /* Interrupted by a crash: a create that never answered its client ("creating" before
         * the Engine's create, "created" before the start), or a removal the client asked
         * for. Either way it goes: a create is all or nothing. */
        if (eid != NULL)
            remove_engine_side(a, c, eid);
        else if (c->docker_id[0] != '\0')
            remove_engine_side(a, c, c->docker_id);
        else {
            char name[STORE_ID_MAX + STORE_CNAME_MAX + 16];
            containers_docker_name(c, name, sizeof(name));
            remove_engine_side(a, c, name);
        }
        log_info("finished the interrupted %s of %s (%s)", creating ? "create" : "removal",
                 c->id, c->name);
        audit(a, c, creating ? "container.rollback" : "container.delete",
              "finished after a restart");
        store_container_delete(a->st, c->id);
        return;
    }
    if (c->expires_at > 0 && c->expires_at <= now) {
        plat_err pe;
        if (containers_delete(a, c, &pe) == 0) {
            log_info("container %s (%s) expired and was removed", c->id, c->name);
            audit(a, c, "container.expire", "ttl reached");
        }
        return;
    }
    if (e == NULL) {
        if (strcmp(c->state, "removed") == 0)
            return;
        /* Not in the list: ask once more, in case it was created after the list was read. */
        json_t *j = NULL;
        char err[DOCKER_ERR_MAX];
        int rc = c->docker_id[0] ? docker_container_inspect(a->engine, c->docker_id, &j, err,
                                                            sizeof(err))
                                 : -ENOENT;
        if (rc == -ENOENT) {
            if (store_container_set_state(a->st, c->id, "created,running,stopped,exited,error",
                                          "removed") == 0) {
                log_warnx("container %s (%s) was removed outside Cloudya", c->id, c->name);
                audit(a, c, "container.removed-outside", "gone from the Engine");
            }
        } else if (rc == 0) {
            const char *st = json_string_value(
                json_object_get(json_object_get(j, "State"), "Status"));
            const char *want = map_state(st, c->state);
            if (strcmp(want, c->state) != 0)
                store_container_set_state(a->st, c->id, c->state, want);
        }
        json_decref(j);
        return;
    }
    const char *want = map_state(json_string_value(json_object_get(e, "State")), c->state);
    if (c->docker_id[0] == '\0' && eid != NULL) {
        str_copy(c->docker_id, sizeof(c->docker_id), eid);
        str_copy(c->state, sizeof(c->state), want);
        store_container_update(a->st, c);
        return;
    }
    if (strcmp(want, c->state) != 0) {
        if (store_container_set_state(a->st, c->id, c->state, want) == 0 &&
            strcmp(want, "running") != 0)
            log_info("container %s (%s) is %s on the Engine", c->id, c->name, want);
    }
    if (strcmp(want, "running") == 0 && public_port(e) != c->host_port)
        containers_refresh_port(a, c);
}

/* Managed containers that this platform did not make: listed for admins, never touched. */
static void note_unrecorded(app *a)
{
    const char *labels[] = {"com.container-manager.managed=true"};
    json_t *all = NULL;
    char err[DOCKER_ERR_MAX];
    if (docker_container_list(a->engine, labels, 1, &all, err, sizeof(err)) != 0)
        return;
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        json_t *lab = json_object_get(e, "Labels");
        if (json_object_get(lab, "com.cloudya.instance") != NULL)
            continue;
        const char *name = json_string_value(json_array_get(json_object_get(e, "Names"), 0));
        json_array_append_new(
            out, json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?}", "id",
                           json_string_value(json_object_get(e, "Id")), "name",
                           name != NULL && name[0] == '/' ? name + 1 : name, "image",
                           json_string_value(json_object_get(e, "Image")), "state",
                           json_string_value(json_object_get(e, "State")), "clientId",
                           json_string_value(json_object_get(lab, "clientId"))));
    }
    json_decref(all);
    pthread_mutex_lock(&unrec_mu);
    size_t before = unrecorded != NULL ? json_array_size(unrecorded) : 0;
    json_decref(unrecorded);
    unrecorded = out;
    pthread_mutex_unlock(&unrec_mu);
    if (json_array_size(out) != before)
        log_warnx("%zu containers carry com.container-manager.managed=true but were not "
                  "created by this Cloudya (see GET /api/admin/containers/unrecorded)",
                  json_array_size(out));
}

/* One full pass: the Engine's list of our containers against every record. */
int reconcile_pass(app *a)
{
    char label[STORE_ID_MAX + 32];
    snprintf(label, sizeof(label), "com.cloudya.instance=%s", a->instance_id);
    const char *labels[] = {"com.container-manager.managed=true", label};
    json_t *list = NULL;
    char err[DOCKER_ERR_MAX];
    int rc = docker_container_list(a->engine, labels, 2, &list, err, sizeof(err));
    if (rc != 0) {
        log_debug("reconcile: cannot list containers: %s", err);
        return rc;
    }
    json_t *by_id = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *rid =
            json_string_value(json_object_get(json_object_get(e, "Labels"), "com.cloudya.id"));
        if (rid != NULL)
            json_object_set(by_id, rid, e);
    }
    store_container *rows = NULL;
    size_t n = 0;
    rc = store_container_list(a->st, "", "", &rows, &n);
    if (rc != 0) {
        log_warnx("reconcile: cannot read the records (%d)", rc);
        goto out;
    }
    int64_t now = time_now();
    json_t *seen = json_object();
    for (size_t k = 0; k < n; k++) {
        json_object_set_new(seen, rows[k].id, json_true());
        if (containers_busy(rows[k].id))
            continue;
        reconcile_row(a, &rows[k], json_object_get(by_id, rows[k].id), now);
    }
    /* Ours on the Engine without a record: only a crash between the Engine's answer and the
     * record's deletion leaves one. Looked up again before anything is removed. */
    const char *rid;
    json_object_foreach(by_id, rid, e)
    {
        if (json_object_get(seen, rid) != NULL || containers_busy(rid))
            continue;
        store_container c;
        if (store_container_get(a->st, rid, &c) != -ENOENT)
            continue;
        memset(&c, 0, sizeof(c));
        json_t *lab = json_object_get(e, "Labels");
        str_copy(c.id, sizeof(c.id), rid);
        str_copy(c.client_id, sizeof(c.client_id),
                 json_string_value(json_object_get(lab, "clientId")) ?: "");
        str_copy(c.name, sizeof(c.name),
                 json_string_value(json_object_get(lab, "com.cloudya.name")) ?: "");
        log_warnx("removing container %s: made by this Cloudya but without a record",
                  json_string_value(json_object_get(e, "Id")));
        remove_engine_side(a, &c, json_string_value(json_object_get(e, "Id")));
        audit(a, &c, "container.orphan-removed", "no record");
    }
    json_decref(seen);
    note_unrecorded(a);
    atomic_fetch_add(&passes, 1);
out:
    free(rows);
    json_decref(by_id);
    json_decref(list);
    return rc;
}

/* --- events ------------------------------------------------------------------------------- */

/* One follower of the Engine's events (docker_events.c, filtered on this platform's instance
 * label) serves the reconciler and, through the listener, the live channel. */
static docker_events *follower;
static pthread_mutex_t listener_mu = PTHREAD_MUTEX_INITIALIZER;
static docker_event_fn listener;
static void *listener_ctx;

/* Applies start, die and destroy to the record, then hands the event to the listener (so it
 * sees the record already updated). Runs on the follower's thread. */
static void on_event(void *ctx, const docker_event *ev)
{
    app *a = ctx;
    const char *rid = json_string_value(json_object_get(ev->attributes, "com.cloudya.id"));
    if (strcmp(ev->type, "container") == 0 && rid != NULL && !containers_busy(rid)) {
        const char *from = NULL, *to = NULL;
        if (strcmp(ev->action, "start") == 0)
            from = "created,stopped,exited,error", to = "running";
        else if (strcmp(ev->action, "die") == 0)
            from = "running,created", to = "exited";
        else if (strcmp(ev->action, "destroy") == 0)
            from = "created,running,stopped,exited,error", to = "removed";
        if (to != NULL && store_container_set_state(a->st, rid, from, to) == 0)
            log_info("container %s: %s (event)", rid, to);
        if (strcmp(ev->action, "start") == 0) {
            store_container c;
            if (store_container_get(a->st, rid, &c) == 0)
                containers_refresh_port(a, &c);
        }
    }
    pthread_mutex_lock(&listener_mu);
    docker_event_fn fn = listener;
    void *fctx = listener_ctx;
    pthread_mutex_unlock(&listener_mu);
    if (fn != NULL)
        fn(fctx, ev);
}

void reconcile_listen(docker_event_fn fn, void *ctx)
{
    pthread_mutex_lock(&listener_mu);
    listener = fn;
    listener_ctx = ctx;
    pthread_mutex_unlock(&listener_mu);
}

int reconcile_events_connected(void)
{
    return follower != NULL && docker_events_connected(follower);
}

static void nap(int ms)
{
    for (int t = 0; t < ms && !atomic_load(&stopping); t += 100) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* A full pass every reconcile_interval seconds, and again whenever the Engine comes back or
 * the events stream reconnected (events may have been missed beyond what it replays). */
static void *reconcile_main(void *arg)
{
    app *a = arg;
    int need_pass = 0;
    uint64_t seen = docker_events_connects(follower);
    int64_t next = time_mono_ms() + a->cfg.reconcile_interval * 1000L;
    while (!atomic_load(&stopping)) {
        nap(RETRY_MS);
        /* The probe pings with a short timeout: an Engine that hangs is never waited on
         * here, so shutdown stays prompt. */
        if (!probe_engine_ok(a)) {
            need_pass = 1;
            continue;
        }
        uint64_t c = docker_events_connects(follower);
        if (c != seen) {
            seen = c;
            need_pass = 1;
        }
        if (!need_pass && time_mono_ms() < next)
            continue;
        if (reconcile_pass(a) == 0) {
            need_pass = 0;
            next = time_mono_ms() + a->cfg.reconcile_interval * 1000L;
        }
    }
    return NULL;
}

int reconcile_start(app *a)
{
    atomic_store(&stopping, 0);
    char label[STORE_ID_MAX + 32];
    snprintf(label, sizeof(label), "com.cloudya.instance=%s", a->instance_id);
    const char *labels[] = {label};
    /* Following first: events during the first pass are not lost. */
    int rc = docker_events_start(a->engine, labels, 1, on_event, a, &follower);
    if (rc != 0)
        return rc;
    if (!probe_engine_ok(a) || reconcile_pass(a) != 0)
        log_warnx("the Docker Engine is unavailable: reconciling when it answers");
    if (pthread_create(&thread, NULL, reconcile_main, a) != 0) {
        docker_events_stop(follower);
        follower = NULL;
        return -EAGAIN;
    }
    running = 1;
    return 0;
}

void reconcile_stop(void)
{
    if (!running)
        return;
    atomic_store(&stopping, 1);
    pthread_join(thread, NULL);
    docker_events_stop(follower);
    follower = NULL;
    running = 0;
    reconcile_listen(NULL, NULL);
    pthread_mutex_lock(&unrec_mu);
    json_decref(unrecorded);
    unrecorded = NULL;
    pthread_mutex_unlock(&unrec_mu);
}

json_t *reconcile_unrecorded(void)
{
    pthread_mutex_lock(&unrec_mu);
    json_t *copy = unrecorded != NULL ? json_deep_copy(unrecorded) : json_array();
    pthread_mutex_unlock(&unrec_mu);
    return copy;
}

long reconcile_passes(void)
{
    return atomic_load(&passes);
}
