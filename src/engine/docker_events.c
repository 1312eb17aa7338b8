#define _POSIX_C_SOURCE 200809L
#include "docker_events.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#define PING_TIMEOUT_MS 1000
#define STABLE_MS 10000       /* a connection this long resets the backoff */
#define PATH_MAX_LEN 3072     /* the request path; docker_stream's URL holds 4096 bytes */
#define NS_PER_S INT64_C(1000000000)

/* ---- the parser ----------------------------------------------------------------------- */

struct docker_event_parser {
    docker_event_fn fn;
    void *ctx;
    buf line;     /* the current line, at most DOCKER_EVENT_LINE_MAX bytes */
    int skipping; /* the current line passed the limit: drop bytes up to its newline */
    uint64_t skipped;
};

docker_event_parser *docker_event_parser_new(docker_event_fn fn, void *ctx)
{
    docker_event_parser *p = xcalloc(1, sizeof(*p));
    p->fn = fn;
    p->ctx = ctx;
    buf_init(&p->line, DOCKER_EVENT_LINE_MAX);
    return p;
}

void docker_event_parser_free(docker_event_parser *p)
{
    if (p == NULL)
        return;
    buf_free(&p->line);
    free(p);
}

uint64_t docker_event_parser_skipped(const docker_event_parser *p)
{
    return p != NULL ? p->skipped : 0;
}

/* A member that is absent or JSON null counts as absent. */
static json_t *member(json_t *o, const char *key)
{
    json_t *v = o != NULL ? json_object_get(o, key) : NULL;
    return json_is_null(v) ? NULL : v;
}

/* Copies a JSON string that must fit (cap - 1 bytes). Returns 0 or -EINVAL. */
static int copy_exact(char *dst, size_t cap, json_t *v)
{
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return -EINVAL;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

/* Copies a JSON string, cut to cap - 1 bytes at a UTF-8 boundary (jansson only hands out
 * valid UTF-8, so backing off continuation bytes is enough). */
static void copy_cut(char *dst, size_t cap, json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Fills ev from one decoded line. Returns 0, or -EINVAL when the object is not an event
 * we can represent (see the header's rules). */
static int event_from_json(json_t *j, docker_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return -EINVAL;
    json_t *v = member(j, "Type");
    if (v != NULL && copy_exact(ev->type, sizeof(ev->type), v) != 0)
        return -EINVAL;
    v = member(j, "Action");
    if (v == NULL)
        v = member(j, "status");
    if (!json_is_string(v) || json_string_length(v) == 0)
        return -EINVAL;
    copy_cut(ev->action, sizeof(ev->action), v);
    json_t *actor = member(j, "Actor");
    if (actor != NULL && !json_is_object(actor))
        return -EINVAL;
    v = member(actor, "ID");
    if (v == NULL)
        v = member(j, "id");
    if (v != NULL && copy_exact(ev->id, sizeof(ev->id), v) != 0)
        return -EINVAL;
    v = member(actor, "Attributes");
    if (v != NULL && !json_is_object(v))
        return -EINVAL;
    ev->attributes = v;
    json_t *t = member(j, "time"), *tn = member(j, "timeNano");
    if ((t != NULL && !json_is_integer(t)) || (tn != NULL && !json_is_integer(tn)))
        return -EINVAL;
    if (tn != NULL) {
        ev->time_nano = (int64_t)json_integer_value(tn);
        ev->time = ev->time_nano / NS_PER_S;
    }
    if (t != NULL) {
        ev->time = (int64_t)json_integer_value(t);
        if (tn == NULL)
            ev->time_nano = ev->time <= INT64_MAX / NS_PER_S && ev->time >= INT64_MIN / NS_PER_S
                                ? ev->time * NS_PER_S
                                : 0;
    }
    return 0;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

/* One complete line: an event for the callback, ignored when blank, else counted. */
static void parse_line(docker_event_parser *p, const char *s, size_t n)
{
    if (blank(s, n))
        return;
    json_t *j = json_loadb(s, n, 0, NULL);
    docker_event ev;
    if (event_from_json(j, &ev) == 0)
        p->fn(p->ctx, &ev);
    else
        p->skipped++;
    json_decref(j);
}

/* Splits on '\n'. A line is collected in p->line only while it fits; the byte that would
 * pass the limit switches to skipping until the newline, where the line is counted, so the
 * result does not depend on how the input is cut and only complete lines are counted. */
int docker_event_parser_feed(docker_event_parser *p, const char *data, size_t len)
{
    if (p == NULL || (data == NULL && len > 0))
        return -EINVAL;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t seg = nl != NULL ? (size_t)(nl - data) : len;
        if (!p->skipping && buf_append(&p->line, data, seg) != 0) {
            p->skipping = 1;
            buf_reset(&p->line);
        }
        if (nl != NULL) {
            if (p->skipping)
                p->skipped++;
            else
                parse_line(p, p->line.data != NULL ? p->line.data : "", p->line.len);
            p->skipping = 0;
            buf_reset(&p->line);
            seg++; /* the newline */
        }
        data += seg;
        len -= seg;
    }
    return 0;
}

/* ---- the follower --------------------------------------------------------------------- */

struct docker_events {
    docker *d;
    docker_event_fn fn;
    void *ctx;
    char *filters; /* the escaped filters JSON */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop, connected;
    atomic_uint_fast64_t connects, skipped;
    /* follower thread only: */
    docker_event_parser *parser;
    uint64_t skipped_before; /* by the parsers of earlier connections */
    int64_t since;           /* nanoseconds: where the next connection resumes */
    int have_last;
    docker_event last; /* the last delivered event (attributes not kept) */
};

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Drops the exact repeat of the last delivered event (a resumed stream replays the event
 * at since), passes everything else on and moves the resume point to the event's time: the
 * Engine's clock is the one since= is compared with. */
static void deliver(void *ctx, const docker_event *ev)
{
    docker_events *e = ctx;
    if (e->have_last && ev->time_nano > 0 && ev->time_nano == e->last.time_nano &&
        strcmp(ev->type, e->last.type) == 0 && strcmp(ev->action, e->last.action) == 0 &&
        strcmp(ev->id, e->last.id) == 0)
        return;
    e->fn(e->ctx, ev);
    e->last = *ev;
    e->last.attributes = NULL;
    e->have_last = 1;
    if (ev->time_nano > 0)
        e->since = ev->time_nano;
}

static int on_chunk(void *ctx, const char *data, size_t len)
{
    docker_events *e = ctx;
    docker_event_parser_feed(e->parser, data, len);
    atomic_store(&e->skipped, e->skipped_before + docker_event_parser_skipped(e->parser));
    return atomic_load(&e->stop);
}

static int on_stop(void *ctx)
{
    docker_events *e = ctx;
    return atomic_load(&e->stop);
}

/* One connection: from the resume point until the stream ends. Returns docker_stream's
 * result (0 when the Engine closed the stream or we stopped it). */
static int follow_once(docker_events *e, char *err, size_t errlen)
{
    char path[PATH_MAX_LEN + 64];
    int64_t since = e->since > 0 ? e->since : 0;
    snprintf(path, sizeof(path), "/events?filters=%s&since=%" PRId64 ".%09" PRId64, e->filters,
             since / NS_PER_S, since % NS_PER_S);
    e->parser = docker_event_parser_new(deliver, e);
    atomic_store(&e->connected, 1);
    atomic_fetch_add(&e->connects, 1);
    int rc = docker_stream(e->d, path, 0, on_chunk, on_stop, e, err, errlen);
    atomic_store(&e->connected, 0);
    e->skipped_before += docker_event_parser_skipped(e->parser);
    atomic_store(&e->skipped, e->skipped_before);
    docker_event_parser_free(e->parser);
    e->parser = NULL;
    return rc;
}

/* Sleeps ms unless stopped first. */
static void backoff_wait(docker_events *e, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&e->mu);
    while (!atomic_load(&e->stop) && pthread_cond_timedwait(&e->cv, &e->mu, &ts) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&e->mu);
}

/* The thread: ping, stream, and on any end wait with backoff and go again. A failure is
 * logged as a warning once per outage, the recovery once. */
static void *follow_main(void *arg)
{
    docker_events *e = arg;
    long backoff = DOCKER_EVENTS_BACKOFF_MIN_MS;
    int outage = 0;
    while (!atomic_load(&e->stop)) {
        char err[DOCKER_ERR_MAX] = "";
        int64_t t0 = now_ns(CLOCK_MONOTONIC);
        int rc = docker_ping(e->d, PING_TIMEOUT_MS);
        if (rc == 0) {
            if (outage)
                log_info("following the Docker Engine's events again");
            outage = 0;
            rc = follow_once(e, err, sizeof(err));
            if (rc == 0 && !atomic_load(&e->stop))
                str_fmt(err, sizeof(err), "the Engine closed the event stream");
        } else {
            str_fmt(err, sizeof(err), "the Docker Engine does not answer a ping (%s)",
                    strerror(-rc));
        }
        if (atomic_load(&e->stop))
            break;
        if (now_ns(CLOCK_MONOTONIC) - t0 >= (int64_t)STABLE_MS * 1000000)
            backoff = DOCKER_EVENTS_BACKOFF_MIN_MS;
        if (!outage)
            log_warnx("docker events: %s; retrying in %ld ms", err, backoff);
        else
            log_debug("docker events: %s; retrying in %ld ms", err, backoff);
        outage = 1;
        backoff_wait(e, backoff);
        backoff = backoff * 2 > DOCKER_EVENTS_BACKOFF_MAX_MS ? DOCKER_EVENTS_BACKOFF_MAX_MS
                                                             : backoff * 2;
    }
    return NULL;
}

/* {"type":["container"],"label":[...]} escaped for the query. Returns NULL when the
 * labels are invalid or the result would not fit in PATH_MAX_LEN. */
static char *build_filters(const char *const *labels, size_t nlabels)
{
    if (nlabels > DOCKER_EVENTS_LABELS_MAX || (nlabels > 0 && labels == NULL))
        return NULL;
    json_t *f = json_pack("{s:[s]}", "type", "container");
    json_t *arr = json_array();
    char *text = NULL, *esc = NULL;
    for (size_t i = 0; i < nlabels; i++) {
        size_t n = labels[i] != NULL ? strnlen(labels[i], DOCKER_EVENTS_LABEL_MAX + 1) : 0;
        if (n == 0 || n > DOCKER_EVENTS_LABEL_MAX)
            goto out;
        json_t *s = json_string(labels[i]); /* NULL when not UTF-8 */
        if (s == NULL || json_array_append_new(arr, s) != 0)
            goto out;
    }
    if (nlabels > 0 && json_object_set(f, "label", arr) != 0)
        goto out;
    text = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        goto out;
    esc = docker_escape(text);
    if (strlen(esc) > PATH_MAX_LEN - 64) {
        free(esc);
        esc = NULL;
    }
out:
    free(text);
    json_decref(arr);
    json_decref(f);
    return esc;
}

/* Validates and prepares everything before the thread exists, so a started follower
 * cannot fail later except by the Engine's absence, which it rides out. */
int docker_events_start(docker *d, const char *const *labels, size_t nlabels,
                        docker_event_fn fn, void *ctx, docker_events **out)
{
    if (out != NULL)
        *out = NULL;
    if (d == NULL || fn == NULL || out == NULL)
        return -EINVAL;
    char *filters = build_filters(labels, nlabels);
    if (filters == NULL)
        return -EINVAL;
    docker_events *e = xcalloc(1, sizeof(*e));
    e->d = d;
    e->fn = fn;
    e->ctx = ctx;
    e->filters = filters;
    e->since = now_ns(CLOCK_REALTIME);
    atomic_init(&e->stop, 0);
    atomic_init(&e->connected, 0);
    atomic_init(&e->connects, 0);
    atomic_init(&e->skipped, 0);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&e->mu, NULL);
    if (pthread_create(&e->thread, NULL, follow_main, e) != 0) {
        pthread_cond_destroy(&e->cv);
        pthread_mutex_destroy(&e->mu);
        free(e->filters);
        free(e);
        return -EAGAIN;
    }
    *out = e;
    return 0;
}

/* The flag is set under the mutex so the backoff wait cannot miss the wake-up. */
void docker_events_stop(docker_events *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->mu);
    atomic_store(&e->stop, 1);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e->filters);
    free(e);
}

int docker_events_connected(const docker_events *e)
{
    return e != NULL && atomic_load(&e->connected);
}

uint64_t docker_events_connects(const docker_events *e)
{
    return e != NULL ? atomic_load(&e->connects) : 0;
}

uint64_t docker_events_skipped(const docker_events *e)
{
    return e != NULL ? atomic_load(&e->skipped) : 0;
}
