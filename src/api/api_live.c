/* The live channel: GET /api/ws (one WebSocket per client) and POST /api/ws/ticket.
 *
 * A session is one WebSocket. It is authenticated by the Authorization header of the upgrade
 * request (the CLI), by the dashboard's session cookie, by a single-use ticket (?ticket=, browsers), or by a first message
 * {"type":"auth","token":"…"} within LIVE_AUTH_TIMEOUT_S. It then subscribes to topics:
 *   stats  — every second, the seed's stats of one or all of its tenant's containers;
 *   events — lifecycle events (create, start, stop, die, destroy, …) of one or all;
 *   logs   — the log lines of one container, followed (a thread per subscription).
 * "All" means the caller's tenant; for an admin, every container of the platform, as on the
 * REST routes. A named container is resolved exactly as the REST routes do (another
 * tenant's is "not found").
 *
 * Every session's outgoing queue is bounded (WS_QUEUE_MAX): a client that stops reading is
 * disconnected with 1008, logged and counted, and never makes the daemon grow. Events come
 * from the reconciler's follower of the Engine's stream (reconcile_listen). Bad messages
 * get an error message and the connection stays. Sessions end when their token expires. */
#define _GNU_SOURCE
#include "api.h"
#include "api_common.h"
#include "app.h"
#include "docker_events.h"
#include "json.h"
#include "log.h"
#include "reconcile.h"
#include "response.h"
#include "sampler.h"
#include "str.h"
#include "timeutil.h"
#include "websocket.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LIVE_SESSIONS_MAX 4096
#define LIVE_AUTH_TIMEOUT_S 10
#define LIVE_IDS_MAX 64         /* containers named in stats or events subscriptions */
#define LIVE_LOGS_MAX 4         /* followed containers per session */
#define LIVE_LOG_FOLLOWERS_MAX 256
#define LIVE_TICKETS_MAX 1024
#define LIVE_TICKET_TTL_S 30
#define LIVE_LOG_TAIL_MAX 1000
#define LIVE_RECHECK_S 30       /* open sessions' tokens are checked for revocation this often */

enum topic { T_STATS, T_EVENTS, T_LOGS };

struct logsub;

struct sess {
    ws_conn *ws;
    app *a;
    pthread_mutex_t mu;
    atomic_int refs;
    int authed;
    int closed;
    char user_id[STORE_ID_MAX];
    char client_id[STORE_ID_MAX];
    int admin;
    int64_t token_exp;  /* unix seconds */
    char jti[64];       /* the token's id: its revocation ends the session */
    int64_t opened;     /* unix seconds */
    /* subscriptions, under mu */
    int all[2];         /* T_STATS, T_EVENTS: every container */
    char ids[2][LIVE_IDS_MAX][STORE_DOCKER_ID_MAX];
    size_t nids[2];
    struct logsub *logs[LIVE_LOGS_MAX];
    struct sess *prev, *next; /* the hub's list, under hub_mu */
};

struct logsub {
    struct sess *s;
    store_container ct;
    int tail;
    atomic_int stop;
};

static pthread_mutex_t hub_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sess *sessions;
static size_t nsessions;
static atomic_int log_followers;
static atomic_ullong slow_closed, msgs_sent, bad_messages;

static pthread_t house;
static atomic_int house_stop, house_running;

/* --- sessions ----------------------------------------------------------------------------- */

static void sess_unref(struct sess *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    if (s->ws != NULL)
        ws_conn_unref(s->ws);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Sends a message; a full queue disconnects the session as too slow. */
static void sess_send(struct sess *s, const char *msg, size_t len)
{
    int rc = ws_send_text(s->ws, msg, len);
    if (rc == -ENOBUFS) {
        atomic_fetch_add(&slow_closed, 1);
        log_warnx("live channel: user %s does not read its messages: disconnected",
                  s->user_id[0] ? s->user_id : "(not authenticated)");
        ws_close(s->ws, 1008, "too slow: messages were not read");
    } else if (rc == 0) {
        atomic_fetch_add(&msgs_sent, 1);
    }
}

static void sess_send_json(struct sess *s, json_t *j)
{
    size_t len;
    char *text = json_dump_compact(j, &len);
    json_decref(j);
    sess_send(s, text, len);
    free(text);
}

static void send_error(struct sess *s, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void send_error(struct sess *s, const char *code, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    atomic_fetch_add(&bad_messages, 1);
    sess_send_json(s, json_pack("{s:s, s:s, s:s}", "type", "error", "error", msg, "code", code));
}

/* May s see a container of tenant client_id? */
static int visible(const struct sess *s, const char *client_id)
{
    return s->authed && (s->admin || strcmp(s->client_id, client_id) == 0);
}

/* Does s want topic for docker_id (of tenant client_id)? Call with s->mu held. */
static int wants(const struct sess *s, enum topic t, const char *docker_id, const char *client_id)
{
    if (!visible(s, client_id))
        return 0;
    if (s->all[t])
        return 1;
    for (size_t i = 0; i < s->nids[t]; i++)
        if (strcmp(s->ids[t][i], docker_id) == 0)
            return 1;
    return 0;
}

/* Sends msg to every session that wants topic for the container; msg is built on first
 * need by make(ctx). */
static void fan_out(enum topic t, const char *docker_id, const char *client_id,
                    char *(*make)(void *ctx, size_t *len), void *ctx)
{
    char *msg = NULL;
    size_t len = 0;
    pthread_mutex_lock(&hub_mu);
    for (struct sess *s = sessions; s != NULL; s = s->next) {
        pthread_mutex_lock(&s->mu);
        int w = !s->closed && wants(s, t, docker_id, client_id);
        pthread_mutex_unlock(&s->mu);
        if (!w)
            continue;
        if (msg == NULL)
            msg = make(ctx, &len);
        sess_send(s, msg, len);
    }
    pthread_mutex_unlock(&hub_mu);
    free(msg);
}

struct stats_msg {
    const char *docker_id;
    const sampler_stats *st;
};

static char *make_stats(void *ctx, size_t *len)
{
    struct stats_msg *m = ctx;
    json_t *j = json_pack("{s:s, s:s, s:o}", "type", "stats", "containerId", m->docker_id,
                          "data", sampler_stats_json(m->st));
    char *text = json_dump_response(j, len);
    json_decref(j);
    return text;
}

/* The sampler's publisher: one message per container and second, to the sessions that
 * subscribed to it. */
static void publish_stats(void *ctx, const char *docker_id, const char *client_id,
                          const sampler_stats *st)
{
    (void)ctx;
    if (atomic_load(&house_stop))
        return;
    struct stats_msg m = {docker_id, st};
    fan_out(T_STATS, docker_id, client_id, make_stats, &m);
}

struct event_msg {
    const docker_event *ev;
    const char *action;
    const char *detail;
};

static char *make_event(void *ctx, size_t *len)
{
    struct event_msg *m = ctx;
    char when[96];
    time_t secs = (time_t)m->ev->time;
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)((m->ev->time_nano / 1000000) % 1000));
    json_t *attrs = m->ev->attributes;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "type", "event", "containerId", m->ev->id,
                          "action", m->action, "time", when);
    const char *name = json_string_value(json_object_get(attrs, "com.cloudya.name"));
    if (name != NULL)
        json_object_set_new(j, "name", json_string(name));
    if (m->detail != NULL)
        json_object_set_new(j, "detail", json_string(m->detail));
    const char *code = json_string_value(json_object_get(attrs, "exitCode"));
    if (code != NULL)
        json_object_set_new(j, "exitCode", json_string(code));
    char *text = json_dump_compact(j, len);
    json_decref(j);
    return text;
}

/* The Engine's events of this platform's containers: to the sampler (a container started or
 * stopped: look again now) and to the sessions. "health_status: healthy" becomes action
 * health_status with detail healthy. */
static void on_engine_event(void *ctx, const docker_event *ev)
{
    (void)ctx;
    if (strcmp(ev->type, "container") != 0)
        return;
    const char *client = json_string_value(json_object_get(ev->attributes, "com.cloudya.client"));
    if (client == NULL)
        return;
    char action[48];
    str_copy(action, sizeof(action), ev->action);
    const char *detail = NULL;
    char *colon = strchr(action, ':');
    if (colon != NULL) {
        *colon = '\0';
        detail = ev->action + (colon - action) + 1;
        while (*detail == ' ')
            detail++;
    }
    if (strncmp(action, "exec_", 5) == 0)
        return; /* execs are not lifecycle */
    sampler_notify(ev->id);
    struct event_msg m = {ev, action, detail};
    fan_out(T_EVENTS, ev->id, client, make_event, &m);
}

/* --- logs ----------------------------------------------------------------------------------- */

static int log_line(void *ctx, int stream, const char *line, size_t len)
{
    struct logsub *l = ctx;
    if (atomic_load(&l->stop))
        return 1;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s%}", "type", "log", "containerId", l->ct.docker_id,
                          "stream", stream == 2 ? "stderr" : "stdout", "line", line, len);
    if (j == NULL) { /* not UTF-8: send it with replacement characters */
        char *fixed = xmalloc(len * 3 + 1);
        size_t w = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)line[i];
            if (ch < 0x80) {
                fixed[w++] = (char)ch;
            } else {
                memcpy(fixed + w, "\xef\xbf\xbd", 3);
                w += 3;
            }
        }
        j = json_pack("{s:s, s:s, s:s, s:s%}", "type", "log", "containerId", l->ct.docker_id,
                      "stream", stream == 2 ? "stderr" : "stdout", "line", fixed, w);
        free(fixed);
        if (j == NULL)
            return 0;
    }
    sess_send_json(l->s, j);
    return atomic_load(&l->stop) ? 1 : 0;
}

static int log_stop(void *ctx)
{
    struct logsub *l = ctx;
    return atomic_load(&l->stop) || atomic_load(&house_stop);
}

static void *log_main(void *arg)
{
    struct logsub *l = arg;
    container_logs_req r = {.tail = l->tail, .since = 0, .timestamps = 0, .follow = 1};
    plat_err e;
    if (containers_logs(l->s->a, &l->ct, &r, log_line, log_stop, l, &e) != 0 &&
        !atomic_load(&l->stop))
        send_error(l->s, e.code, "logs of %s: %s", l->ct.name, e.msg);
    atomic_fetch_sub(&log_followers, 1);
    /* The stream ended on its own (the container stopped): the session must not keep a
     * pointer to l, or its next subscribe or unsubscribe would read freed memory. */
    struct sess *s = l->s;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < LIVE_LOGS_MAX; i++)
        if (s->logs[i] == l)
            s->logs[i] = NULL;
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
    free(l);
    return NULL;
}

/* --- messages -------------------------------------------------------------------------------- */

static void set_user(struct sess *s, const caller *c)
{
    pthread_mutex_lock(&s->mu);
    str_copy(s->user_id, sizeof(s->user_id), c->user.id);
    str_copy(s->client_id, sizeof(s->client_id), c->user.client_id);
    s->admin = strcmp(c->user.role, "admin") == 0;
    s->token_exp = c->claims.exp;
    str_copy(s->jti, sizeof(s->jti), c->claims.jti);
    s->authed = 1;
    pthread_mutex_unlock(&s->mu);
}

static void on_auth(struct sess *s, json_t *msg)
{
    json_err je;
    const char *tok;
    if (s->authed) {
        send_error(s, "bad_message", "already authenticated");
        return;
    }
    if (json_field_str(msg, "token", 1, 1, 8192, 1, &tok, &je) != 0) {
        send_error(s, "bad_message", "%s", je.msg);
        return;
    }
    caller c;
    const char *why;
    int rc = api_token_check(s->a, tok, strlen(tok), &c, &why);
    if (rc != 0) {
        send_error(s, rc == -EPERM ? "unauthenticated" : "database_unavailable", "%s", why);
        ws_close(s->ws, 1008, rc == -EPERM ? "unauthenticated" : "database unavailable");
        return;
    }
    set_user(s, &c);
}

/* Removes docker_id ("" = the "all" flag) from topic t; 1 when something was removed. */
static int drop_sub(struct sess *s, enum topic t, const char *docker_id)
{
    int found = 0;
    pthread_mutex_lock(&s->mu);
    if (t == T_LOGS) {
        for (int i = 0; i < LIVE_LOGS_MAX; i++) {
            struct logsub *l = s->logs[i];
            if (l != NULL && strcmp(l->ct.docker_id, docker_id) == 0) {
                atomic_store(&l->stop, 1);
                s->logs[i] = NULL;
                found = 1;
            }
        }
    } else if (docker_id[0] == '\0') {
        found = s->all[t];
        s->all[t] = 0;
    } else {
        for (size_t i = 0; i < s->nids[t]; i++) {
            if (strcmp(s->ids[t][i], docker_id) == 0) {
                memmove(s->ids[t][i], s->ids[t][i + 1],
                        (s->nids[t] - i - 1) * sizeof(s->ids[t][0]));
                s->nids[t]--;
                found = 1;
                break;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

static int start_logs(struct sess *s, const store_container *ct, int tail)
{
    if (atomic_fetch_add(&log_followers, 1) >= LIVE_LOG_FOLLOWERS_MAX) {
        atomic_fetch_sub(&log_followers, 1);
        send_error(s, "busy", "too many log streams are open on the server; try again later");
        return -EBUSY;
    }
    pthread_mutex_lock(&s->mu);
    int slot = -1;
    for (int i = 0; i < LIVE_LOGS_MAX; i++) {
        if (s->logs[i] != NULL && strcmp(s->logs[i]->ct.docker_id, ct->docker_id) == 0) {
            pthread_mutex_unlock(&s->mu);
            atomic_fetch_sub(&log_followers, 1);
            return 0; /* already followed */
        }
        if (s->logs[i] == NULL && slot < 0)
            slot = i;
    }
    if (slot < 0) {
        pthread_mutex_unlock(&s->mu);
        atomic_fetch_sub(&log_followers, 1);
        send_error(s, "limit_exceeded", "at most %d log subscriptions per connection",
                   LIVE_LOGS_MAX);
        return -ENOSPC;
    }
    struct logsub *l = xcalloc(1, sizeof(*l));
    l->s = s;
    l->ct = *ct;
    l->tail = tail;
    atomic_fetch_add(&s->refs, 1);
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, log_main, l) != 0) {
        pthread_attr_destroy(&at);
        pthread_mutex_unlock(&s->mu);
        atomic_fetch_sub(&s->refs, 1);
        atomic_fetch_sub(&log_followers, 1);
        free(l);
        send_error(s, "busy", "cannot follow logs right now; try again later");
        return -EAGAIN;
    }
    pthread_attr_destroy(&at);
    s->logs[slot] = l;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void on_subscribe(struct sess *s, json_t *msg, int subscribe)
{
    json_err je;
    const char *topic, *ref = NULL;
    if (json_field_str(msg, "topic", 1, 1, 16, 1, &topic, &je) < 0 ||
        json_field_str(msg, "containerId", 0, 1, 128, 1, &ref, &je) < 0) {
        send_error(s, "bad_message", "%s", je.msg);
        return;
    }
    enum topic t;
    if (strcmp(topic, "stats") == 0)
        t = T_STATS;
    else if (strcmp(topic, "events") == 0)
        t = T_EVENTS;
    else if (strcmp(topic, "logs") == 0)
        t = T_LOGS;
    else {
        send_error(s, "bad_message", "topic must be stats, events or logs");
        return;
    }
    if (t == T_LOGS && ref == NULL) {
        send_error(s, "bad_message", "containerId is required for the logs topic");
        return;
    }
    int64_t tail = 100;
    if (t == T_LOGS && json_field_int(msg, "tail", 0, 0, LIVE_LOG_TAIL_MAX, &tail, &je) < 0) {
        send_error(s, "bad_message", "%s", je.msg);
        return;
    }
    store_container ct;
    memset(&ct, 0, sizeof(ct));
    if (ref != NULL) {
        container_actor actor = {s->user_id, s->client_id, s->admin};
        plat_err e;
        if (containers_resolve(s->a, &actor, ref, &ct, &e) != 0) {
            send_error(s, e.code, "%s", e.msg);
            return;
        }
        if (ct.docker_id[0] == '\0') {
            send_error(s, "not_found", "container %s is not created yet", ct.name);
            return;
        }
    }
    if (!subscribe) {
        if (!drop_sub(s, t, ct.docker_id))
            send_error(s, "not_subscribed", "there was no such subscription");
        return;
    }
    if (t == T_LOGS) {
        start_logs(s, &ct, (int)tail);
        return;
    }
    pthread_mutex_lock(&s->mu);
    int ok = 1;
    if (ref == NULL) {
        s->all[t] = 1;
    } else {
        int have = 0;
        for (size_t i = 0; i < s->nids[t] && !have; i++)
            have = strcmp(s->ids[t][i], ct.docker_id) == 0;
        if (!have && s->nids[t] >= LIVE_IDS_MAX)
            ok = 0;
        else if (!have)
            str_copy(s->ids[t][s->nids[t]++], STORE_DOCKER_ID_MAX, ct.docker_id);
    }
    pthread_mutex_unlock(&s->mu);
    if (!ok)
        send_error(s, "limit_exceeded", "at most %d containers per topic; subscribe to all",
                   LIVE_IDS_MAX);
}

static void on_text(ws_conn *c, const char *text, size_t len, void *ctx)
{
    (void)c;
    struct sess *s = ctx;
    json_err je;
    json_t *msg = json_body_object(text, len, &je);
    if (msg == NULL) {
        send_error(s, "bad_message", "%s", je.msg);
        return;
    }
    const char *type;
    if (json_field_str(msg, "type", 1, 1, 32, 1, &type, &je) < 0) {
        send_error(s, "bad_message", "%s", je.msg);
    } else if (strcmp(type, "auth") == 0) {
        on_auth(s, msg);
    } else if (!s->authed) {
        send_error(s, "unauthenticated", "authenticate first: {\"type\":\"auth\",\"token\":\"…\"}");
        ws_close(s->ws, 1008, "unauthenticated");
    } else if (strcmp(type, "subscribe") == 0) {
        on_subscribe(s, msg, 1);
    } else if (strcmp(type, "unsubscribe") == 0) {
        on_subscribe(s, msg, 0);
    } else {
        send_error(s, "bad_message", "type must be auth, subscribe or unsubscribe");
    }
    json_decref(msg);
}

static void on_open(ws_conn *c, void *ctx)
{
    struct sess *s = ctx;
    ws_conn_ref(c);
    s->ws = c;
    pthread_mutex_lock(&hub_mu);
    s->next = sessions;
    if (sessions != NULL)
        sessions->prev = s;
    sessions = s;
    nsessions++;
    pthread_mutex_unlock(&hub_mu);
}

static void on_close(ws_conn *c, void *ctx)
{
    struct sess *s = ctx;
    (void)c;
    if (s->ws == NULL) { /* the switch never completed */
        pthread_mutex_destroy(&s->mu);
        free(s);
        return;
    }
    pthread_mutex_lock(&hub_mu);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else if (sessions == s)
        sessions = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    nsessions--;
    pthread_mutex_unlock(&hub_mu);
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    for (int i = 0; i < LIVE_LOGS_MAX; i++) {
        if (s->logs[i] != NULL)
            atomic_store(&s->logs[i]->stop, 1);
        s->logs[i] = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    sess_unref(s);
}

static const ws_handlers handlers = {on_open, on_text, on_close};

/* --- tickets ------------------------------------------------------------------------------- */

struct ticket {
    char value[65];
    char user_id[STORE_ID_MAX];
    char jti[64];
    int64_t expires;   /* unix seconds */
    int64_t token_exp; /* the token's own expiry: the session ends then */
};

static struct ticket tickets[LIVE_TICKETS_MAX];
static pthread_mutex_t tickets_mu = PTHREAD_MUTEX_INITIALIZER;

/* POST /api/ws/ticket: a single-use ticket for ?ticket= (browsers cannot set headers on a
 * WebSocket), valid LIVE_TICKET_TTL_S seconds and bound to the token that asked for it. */
void api_ws_ticket(http_req *q)
{
    caller c;
    if (api_authenticate(q, &c) != 0)
        return;
    int64_t now = time_now();
    struct ticket t;
    str_random_hex(t.value, 32);
    str_copy(t.user_id, sizeof(t.user_id), c.user.id);
    str_copy(t.jti, sizeof(t.jti), c.claims.jti);
    t.expires = now + LIVE_TICKET_TTL_S;
    t.token_exp = c.claims.exp;
    if (t.expires > c.claims.exp)
        t.expires = c.claims.exp;
    pthread_mutex_lock(&tickets_mu);
    size_t slot = 0;
    for (size_t i = 0; i < LIVE_TICKETS_MAX; i++) {
        if (tickets[i].expires < now) {
            slot = i;
            break;
        }
        if (tickets[i].expires < tickets[slot].expires)
            slot = i; /* all in use: the oldest goes */
    }
    tickets[slot] = t;
    pthread_mutex_unlock(&tickets_mu);
    http_json(q, 201, json_pack("{s:s, s:i}", "ticket", t.value, "expiresIn",
                                (int)(t.expires - now)));
}

/* Consumes a ticket. 0 with user_id/jti/token_exp filled, or -ENOENT. */
static int ticket_take(const char *value, char *user_id, char *jti, int64_t *token_exp)
{
    int rc = -ENOENT;
    int64_t now = time_now();
    if (strlen(value) != 64)
        return rc;
    pthread_mutex_lock(&tickets_mu);
    for (size_t i = 0; i < LIVE_TICKETS_MAX; i++) {
        if (tickets[i].expires >= now && sodium_memcmp(tickets[i].value, value, 64) == 0) {
            str_copy(user_id, STORE_ID_MAX, tickets[i].user_id);
            str_copy(jti, 64, tickets[i].jti);
            *token_exp = tickets[i].token_exp;
            sodium_memzero(&tickets[i], sizeof(tickets[i]));
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&tickets_mu);
    return rc;
}

/* --- the upgrade ----------------------------------------------------------------------------- */

/* A browser's Origin must be this server (Host) or one configured in CLOUDYA_WS_ORIGINS;
 * clients that send none (the CLI) are fine. */
static int origin_ok(http_req *q)
{
    app *a = http_req_app(q);
    const char *o = http_req_header(q, "Origin");
    if (o == NULL)
        return 1;
    const char *host = http_req_header(q, "Host");
    if (host != NULL) {
        const char *rest = strncmp(o, "http://", 7) == 0    ? o + 7
                           : strncmp(o, "https://", 8) == 0 ? o + 8
                                                            : NULL;
        if (rest != NULL && strcasecmp(rest, host) == 0)
            return 1;
    }
    size_t olen = strlen(o);
    for (const char *p = a->cfg.ws_origins; *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e != '\0' && *e != ',' && *e != ' ')
            e++;
        if (e > p && (size_t)(e - p) == olen && strncasecmp(p, o, olen) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* GET /api/ws. */
void api_ws(http_req *q)
{
    app *a = http_req_app(q);
    if (!origin_ok(q)) {
        http_error(q, 403, "forbidden_origin",
                   "this Origin may not open the live channel (see CLOUDYA_WS_ORIGINS)");
        return;
    }
    caller c;
    int authed = 0;
    const char *ticket = http_req_query(q, "ticket");
    size_t clen;
    if (http_req_header(q, "Authorization") != NULL || api_session_cookie(q, &clen) != NULL) {
        if (api_authenticate(q, &c) != 0)
            return;
        authed = 1;
    } else if (ticket != NULL) {
        char user_id[STORE_ID_MAX], jti[64];
        int64_t exp = 0;
        int rc = ticket_take(ticket, user_id, jti, &exp);
        if (rc == 0)
            rc = store_session_user(a->st, user_id, jti, &c.user);
        if (rc == -ENOENT || rc == -EKEYREVOKED || (rc == 0 && c.user.disabled)) {
            http_error(q, 401, "unauthenticated",
                       "the ticket is unknown, used or expired: ask POST /api/ws/ticket again");
            return;
        }
        if (rc != 0) {
            http_error(q, 503, "database_unavailable", "the database is unavailable; try again");
            return;
        }
        memset(&c.claims, 0, sizeof(c.claims));
        c.claims.exp = exp;
        str_copy(c.claims.jti, sizeof(c.claims.jti), jti);
        authed = 1;
    }
    pthread_mutex_lock(&hub_mu);
    size_t n = nsessions;
    pthread_mutex_unlock(&hub_mu);
    if (n >= LIVE_SESSIONS_MAX) {
        http_resp_header(q, "Retry-After", "5");
        http_error(q, 503, "busy", "too many live connections; try again later");
        return;
    }
    struct sess *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->a = a;
    s->opened = time_now();
    atomic_init(&s->refs, 1);
    if (authed)
        set_user(s, &c);
    if (http_respond_websocket(q, &handlers, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
    }
}

/* --- housekeeping ------------------------------------------------------------------------- */

/* Closes the sessions of token jti with reason; returns how many. */
static int close_jti(const char *jti, const char *reason)
{
    int n = 0;
    pthread_mutex_lock(&hub_mu);
    for (struct sess *s = sessions; s != NULL; s = s->next) {
        pthread_mutex_lock(&s->mu);
        int match = s->authed && s->jti[0] != '\0' && strcmp(s->jti, jti) == 0;
        pthread_mutex_unlock(&s->mu);
        if (match) {
            ws_close(s->ws, 1008, reason);
            n++;
        }
    }
    pthread_mutex_unlock(&hub_mu);
    return n;
}

/* A logout here ends that token's open sessions at once. */
void api_live_revoked(const char *jti)
{
    int n = close_jti(jti, "token revoked");
    if (n > 0)
        log_info("live channel: %d session(s) closed by a logout", n);
}

/* Tokens revoked elsewhere (another daemon sharing the database) are found by asking the
 * store about every open session's token; the store is asked without the hub's lock held. */
static void recheck_revoked(app *a)
{
    size_t n = 0, cap = 0;
    char(*jtis)[64] = NULL;
    pthread_mutex_lock(&hub_mu);
    cap = nsessions;
    if (cap > 0)
        jtis = xcalloc(cap, sizeof(*jtis));
    for (struct sess *s = sessions; s != NULL && n < cap; s = s->next) {
        pthread_mutex_lock(&s->mu);
        if (s->authed && s->jti[0] != '\0')
            str_copy(jtis[n++], sizeof(jtis[0]), s->jti);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&hub_mu);
    for (size_t i = 0; i < n && !atomic_load(&house_stop); i++)
        if (store_token_is_revoked(a->st, jtis[i]) == 1)
            close_jti(jtis[i], "token revoked");
    free(jtis);
}

/* Four times a second: sessions that did not authenticate in time, or whose token expired,
 * go; every LIVE_RECHECK_S, those whose token was revoked. */
static void *house_main(void *arg)
{
    app *a = arg;
    int64_t last_recheck = time_now();
    while (!atomic_load(&house_stop)) {
        if (time_now() - last_recheck >= LIVE_RECHECK_S) {
            recheck_revoked(a);
            last_recheck = time_now();
        }
        struct timespec d = {0, 250 * 1000 * 1000};
        nanosleep(&d, NULL);
        int64_t now = time_now();
        pthread_mutex_lock(&hub_mu);
        for (struct sess *s = sessions; s != NULL; s = s->next) {
            pthread_mutex_lock(&s->mu);
            int late = !s->authed && now - s->opened > LIVE_AUTH_TIMEOUT_S;
            int expired = s->authed && s->token_exp > 0 && now >= s->token_exp;
            pthread_mutex_unlock(&s->mu);
            if (late)
                ws_close(s->ws, 1008, "authentication timeout");
            else if (expired)
                ws_close(s->ws, 1008, "token expired");
        }
        pthread_mutex_unlock(&hub_mu);
    }
    return NULL;
}

int api_live_start(app *a)
{
    atomic_store(&house_stop, 0);
    if (pthread_create(&house, NULL, house_main, a) != 0)
        return -EAGAIN;
    atomic_store(&house_running, 1);
    /* The reconciler's events follower serves us too: one stream from the Engine. */
    reconcile_listen(on_engine_event, NULL);
    return sampler_start(a, publish_stats, NULL);
}

void api_live_stop(void)
{
    atomic_store(&house_stop, 1);
    reconcile_listen(NULL, NULL);
    sampler_stop();
    if (atomic_exchange(&house_running, 0))
        pthread_join(house, NULL);
    /* Log followers poll their stop flag about once a second. */
    for (int i = 0; i < 40 && atomic_load(&log_followers) > 0; i++) {
        struct timespec d = {0, 100 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
}

void api_live_info(api_live_stats *out)
{
    pthread_mutex_lock(&hub_mu);
    out->sessions = nsessions;
    pthread_mutex_unlock(&hub_mu);
    out->log_followers = (size_t)atomic_load(&log_followers);
    out->slow_closed = atomic_load(&slow_closed);
    out->messages_sent = atomic_load(&msgs_sent);
    out->bad_messages = atomic_load(&bad_messages);
    out->events_connected = reconcile_events_connected();
}
