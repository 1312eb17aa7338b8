#define _GNU_SOURCE
#include "http_server.h"

#include "http_internal.h"
#include "log.h"
#include "response.h"
#include "str.h"
#include "timeutil.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* After a 413 we keep reading and discarding at most this much, then drop the connection. */
#define DISCARD_MAX (8 * 1024 * 1024)
#define JOB_QUEUE_MAX 4096
/* Headers and URL must fit; MHD zeroes this pool for every request, so it stays small. */
#define CONNECTION_MEMORY (16 * 1024)
/* MHD's block size for streamed responses (it bounds what one reader call may copy). */
#define STREAM_BLOCK (16 * 1024)
#define STREAM_BUF_MIN 4096
#define STREAM_BUF_KEEP (64 * 1024) /* a drained buffer larger than this is freed */
/* At shutdown WebSockets have at most this long to answer their close frames. */
#define WS_STOP_GRACE_MS 1000

enum req_state { ST_READING, ST_DEFERRED, ST_DONE, ST_QUEUED };

struct resp_header {
    char *name;
    char *value;
};

struct http_req {
    http_server *srv;
    struct MHD_Connection *conn;
    const char *method; /* MHD's, valid for the request */
    char *path;
    char id[HTTP_REQUEST_ID_MAX + 1];
    char ip[INET6_ADDRSTRLEN];
    char *body;
    size_t body_len, body_cap;
    int too_large;
    int late;            /* its headers came after shutdown began: answered 503 */
    size_t discarded;
    enum req_state state;
    route_match match;
    void *user;
    int status;
    const char *content_type;
    char *resp_body;
    size_t resp_len;
    struct resp_header hdrs[HTTP_MAX_RESP_HEADERS];
    int nhdrs;
    int64_t start_ms;
    int64_t start_us;
    http_req *next_job;
    http_stream *stream; /* a streamed answer not yet handed to MHD (the server's reference) */
    const char *version; /* MHD's, valid for the request */
    ws_conn *ws;         /* a WebSocket answer not yet upgraded (the request's reference) */
    int upgraded;        /* handed to the WebSocket hub: no longer counted in flight */
};

/* A streamed response. Two references: the server's (held by the request until
 * send_response hands it to MHD, then by the MHD response, dropped in its free callback) and
 * the producer's (dropped by http_stream_end). Everything below mu is guarded by it.
 *
 * Suspension: when the reader finds nothing to send it sets `suspended` and suspends the
 * connection, both under mu; whoever next changes what the reader would see (a write, the
 * end, the server stopping) clears `suspended` and resumes the connection, also under mu.
 * So a resume always follows the suspend it undoes (MHD leaves resuming a connection that is
 * not suspended undefined), and the connection cannot go away in between: MHD neither
 * times out nor closes a suspended connection. MHD never calls our callbacks while holding
 * the lock MHD_resume_connection takes, so calling it under mu cannot deadlock. */
struct http_stream {
    pthread_mutex_t mu;
    int refs;
    struct MHD_Connection *conn; /* NULL once MHD has let go of the response */
    http_server *srv;
    char *buf;                   /* a ring of cap bytes: len pending from head */
    size_t cap, head, len;
    int ended;                   /* the producer is done */
    atomic_int gone;             /* the client went away or the server is stopping */
    int suspended;               /* the reader suspended conn; the next change resumes it */
    int registered;              /* in srv's list of open streams */
    int complete;                /* the reader has returned the end of the body */
    http_stream *prev, *next;    /* srv->streams, under srv->mu */
    unsigned long long sent, dropped;
    int status;
    int64_t start_ms;
    char method[16];
    char *path;
    char id[HTTP_REQUEST_ID_MAX + 1];
    char ip[INET6_ADDRSTRLEN];
};

struct http_server {
    struct MHD_Daemon *d;
    const router *r;
    http_server_opts o;
    pthread_t *workers;
    unsigned nworkers;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    http_req *q_head, *q_tail;
    size_t q_len;
    int stopping;
    atomic_int draining;    /* shutdown began: new requests are answered 503 */
    atomic_int inflight;
    http_stream *streams;   /* open streamed responses (handed to MHD), under mu */
    int streams_closing;    /* shutdown began: streams end as soon as they are created */
    ws_hub *ws;             /* WebSockets (websocket.c) */
};

/* --- request accessors ------------------------------------------------------------- */

const char *http_req_method(const http_req *q)
{
    return q->method;
}

const char *http_req_path(const http_req *q)
{
    return q->path;
}

const char *http_req_param(const http_req *q, const char *name)
{
    return route_match_param(&q->match, name);
}

const char *http_req_header(const http_req *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const http_req *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_body(const http_req *q, size_t *len)
{
    if (len != NULL)
        *len = q->body_len;
    return q->body;
}

const char *http_req_ip(const http_req *q)
{
    return q->ip;
}

const char *http_req_id(const http_req *q)
{
    return q->id;
}

void *http_req_app(const http_req *q)
{
    return q->srv->o.app;
}

void http_req_set_user(http_req *q, void *user)
{
    q->user = user;
}

void *http_req_user(const http_req *q)
{
    return q->user;
}

const char *http_req_version(const http_req *q)
{
    return q->version != NULL ? q->version : "";
}

ws_hub *http_req_ws_hub(const http_req *q)
{
    return q->srv->ws;
}

/* The 101 itself goes out from send_response; an earlier WebSocket answer is cancelled. */
void http_req_set_upgrade(http_req *q, ws_conn *c)
{
    http_respond(q, 101, NULL, NULL, 0);
    q->ws = c;
}

/* Extra headers are copied because handlers often build them on the stack. */
void http_resp_header(http_req *q, const char *name, const char *value)
{
    if (q->nhdrs >= HTTP_MAX_RESP_HEADERS) {
        log_warnx("dropping response header %s: too many", name);
        return;
    }
    q->hdrs[q->nhdrs].name = xstrdup(name);
    q->hdrs[q->nhdrs].value = xstrdup(value);
    q->nhdrs++;
}

static void stream_release_server(http_stream *st);

/* Records the answer; the event thread sends it when the handler has returned. */
void http_respond(http_req *q, int status, const char *content_type, char *body, size_t len)
{
    if (q->stream != NULL) { /* replaces a stream: its producer sees the client gone */
        stream_release_server(q->stream);
        q->stream = NULL;
    }
    if (q->ws != NULL) { /* replaces a WebSocket answer: its on_close runs now */
        ws_conn_cancel(q->ws);
        q->ws = NULL;
    }
    free(q->resp_body);
    q->status = status;
    q->content_type = content_type;
    q->resp_body = body;
    q->resp_len = len;
}

/* --- streamed responses ------------------------------------------------------------ */

static void stream_unref(http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    int left = --st->refs;
    pthread_mutex_unlock(&st->mu);
    if (left > 0)
        return;
    pthread_mutex_destroy(&st->mu);
    free(st->buf);
    free(st->path);
    free(st);
}

/* Under st->mu: undoes the reader's suspension, if any (see struct http_stream). */
static void stream_wake(http_stream *st)
{
    if (st->suspended) {
        st->suspended = 0;
        MHD_resume_connection(st->conn);
    }
}

/* The server lets go of a stream MHD never had (the request ended first, or the answer
 * was replaced): the producer sees the client gone. */
static void stream_release_server(http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    atomic_store(&st->gone, 1);
    st->conn = NULL;
    pthread_mutex_unlock(&st->mu);
    stream_unref(st);
}

/* Adds a stream MHD now owns to the server's list, so shutdown can end it; a stream born
 * while the server is stopping is closed at once. */
static void stream_register(http_stream *st)
{
    http_server *s = st->srv;
    pthread_mutex_lock(&s->mu);
    if (s->streams_closing) {
        pthread_mutex_lock(&st->mu);
        atomic_store(&st->gone, 1); /* never suspended: the reader has not run yet */
        pthread_mutex_unlock(&st->mu);
    }
    st->registered = 1;
    st->prev = NULL;
    st->next = s->streams;
    if (s->streams != NULL)
        s->streams->prev = st;
    s->streams = st;
    pthread_mutex_unlock(&s->mu);
}

static void stream_unregister(http_stream *st)
{
    http_server *s = st->srv;
    pthread_mutex_lock(&s->mu);
    if (st->registered) {
        if (st->prev != NULL)
            st->prev->next = st->next;
        else
            s->streams = st->next;
        if (st->next != NULL)
            st->next->prev = st->prev;
        st->registered = 0;
    }
    pthread_mutex_unlock(&s->mu);
}

/* MHD asks for the next bytes of the body. Nothing pending and not ended: suspend until
 * the producer writes (returning 0 without suspending would spin the event thread). */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_stream *st = cls;
    ssize_t ret;
    (void)pos;
    pthread_mutex_lock(&st->mu);
    if (st->len > 0) {
        size_t n = st->len < max ? st->len : max;
        size_t first = st->cap - st->head < n ? st->cap - st->head : n;
        memcpy(buf, st->buf + st->head, first);
        memcpy(buf + first, st->buf, n - first);
        st->head = (st->head + n) % st->cap;
        st->len -= n;
        st->sent += n;
        if (st->len == 0) {
            st->head = 0;
            if (st->cap > STREAM_BUF_KEEP) { /* a burst is over: give the memory back */
                free(st->buf);
                st->buf = NULL;
                st->cap = 0;
            }
        }
        ret = (ssize_t)n;
        goto out;
    }
    if (st->ended || atomic_load(&st->gone)) {
        st->complete = 1;
        ret = MHD_CONTENT_READER_END_OF_STREAM;
        goto out;
    }
    st->suspended = 1;
    MHD_suspend_connection(st->conn);
    ret = 0;
out:
    pthread_mutex_unlock(&st->mu);
    return ret;
}

/* MHD is done with the response (sent, client gone, or server stopping). Runs on the
 * connection's event thread; the connection may live on (keep-alive) but is no longer
 * ours to touch. */
static void stream_free(void *cls)
{
    http_stream *st = cls;
    char prev_rid[HTTP_REQUEST_ID_MAX + 1];
    pthread_mutex_lock(&st->mu);
    atomic_store(&st->gone, 1);
    st->conn = NULL;
    st->suspended = 0;
    int complete = st->complete;
    unsigned long long sent = st->sent, dropped = st->dropped, left = st->len;
    pthread_mutex_unlock(&st->mu);
    stream_unregister(st);
    if (log_enabled(LOG_INFO)) {
        str_copy(prev_rid, sizeof(prev_rid), log_request_id());
        log_set_request_id(st->id);
        log_at(LOG_INFO, "http", 0,
               "%s %s %d stream %s %lldms sent=%llu dropped=%llu unsent=%llu ip=%s", st->method,
               st->path, st->status, complete ? "end" : "cut",
               (long long)(time_mono_ms() - st->start_ms), sent, dropped, left, st->ip);
        log_set_request_id(prev_rid);
    }
    stream_unref(st);
}

/* Shutdown: every open stream ends after its pending bytes, and its producer sees it
 * closed. Called with s->mu held. */
static void streams_close_all(http_server *s)
{
    for (http_stream *st = s->streams; st != NULL; st = st->next) {
        pthread_mutex_lock(&st->mu);
        atomic_store(&st->gone, 1);
        stream_wake(st);
        pthread_mutex_unlock(&st->mu);
    }
}

/* The stream starts with two references: the request's (the server's side) and the
 * returned one (the producer's). Only what the log line needs is copied from q: the
 * producer must not use q, which is freed when the request ends. */
http_stream *http_respond_stream(http_req *q, int status, const char *content_type)
{
    http_stream *st = xcalloc(1, sizeof(*st));
    pthread_mutex_init(&st->mu, NULL);
    st->refs = 2;
    st->conn = q->conn;
    st->srv = q->srv;
    atomic_init(&st->gone, 0);
    st->status = status;
    st->start_ms = q->start_ms;
    str_copy(st->method, sizeof(st->method), q->method);
    st->path = xstrdup(q->path);
    str_copy(st->id, sizeof(st->id), q->id);
    str_copy(st->ip, sizeof(st->ip), q->ip);
    http_respond(q, status, content_type, NULL, 0); /* also drops an earlier stream */
    q->stream = st;
    return st;
}

/* All or nothing: a write that does not fit is dropped whole, so a slow reader loses
 * lines, never parts of one. */
int http_stream_write(http_stream *st, const char *data, size_t len)
{
    int rc = 0;
    pthread_mutex_lock(&st->mu);
    if (atomic_load(&st->gone) || st->ended) {
        rc = -EPIPE;
        goto out;
    }
    if (len == 0)
        goto out;
    if (len > HTTP_STREAM_BUFFER_MAX - st->len) {
        st->dropped += len;
        rc = -ENOBUFS;
        goto out;
    }
    if (st->len + len > st->cap) {
        size_t cap = st->cap ? st->cap : STREAM_BUF_MIN;
        while (cap < st->len + len)
            cap *= 2;
        if (cap > HTTP_STREAM_BUFFER_MAX)
            cap = HTTP_STREAM_BUFFER_MAX;
        char *nb = xmalloc(cap);
        size_t first = st->cap - st->head < st->len ? st->cap - st->head : st->len;
        if (st->len > 0) {
            memcpy(nb, st->buf + st->head, first);
            memcpy(nb + first, st->buf, st->len - first);
        }
        free(st->buf);
        st->buf = nb;
        st->cap = cap;
        st->head = 0;
    }
    size_t tail = (st->head + st->len) % st->cap;
    size_t first = st->cap - tail < len ? st->cap - tail : len;
    memcpy(st->buf + tail, data, first);
    memcpy(st->buf, data + first, len - first);
    st->len += len;
    stream_wake(st);
out:
    pthread_mutex_unlock(&st->mu);
    return rc;
}

/* Read without the lock: gone only ever goes from 0 to 1. */
int http_stream_closed(const http_stream *st)
{
    return atomic_load(&st->gone);
}

/* The reader sends what is pending, then the end of the chunked body. */
void http_stream_end(http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    st->ended = 1;
    stream_wake(st);
    pthread_mutex_unlock(&st->mu);
    stream_unref(st);
}

/* --- request life cycle -------------------------------------------------------------- */

static int valid_request_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > HTTP_REQUEST_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* Request ids must be unique, not secret: a per-thread splitmix64 seeded once from the
 * CSPRNG saves a getrandom() system call per request. */
static void request_id_new(char *out, size_t cap)
{
    static _Thread_local uint64_t state;
    if (state == 0)
        randombytes_buf(&state, sizeof(state));
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    snprintf(out, cap, "%016llx", (unsigned long long)z);
}

static http_req *req_new(http_server *s, struct MHD_Connection *c, const char *url,
                         const char *method, const char *version)
{
    http_req *q = xcalloc(1, sizeof(*q));
    q->srv = s;
    q->conn = c;
    q->method = method;
    q->version = version;
    q->path = xstrdup(url);
    q->start_ms = time_mono_ms();
    q->start_us = time_mono_us();
    const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (rid != NULL && valid_request_id(rid))
        str_copy(q->id, sizeof(q->id), rid);
    else
        request_id_new(q->id, sizeof(q->id));
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    str_copy(q->ip, sizeof(q->ip), "unknown");
    if (ci != NULL && ci->client_addr != NULL) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, q->ip,
                      sizeof(q->ip));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      q->ip, sizeof(q->ip));
    }
    return q;
}

static void req_free(http_req *q)
{
    if (q->stream != NULL) /* never handed to MHD: the client went away before */
        stream_release_server(q->stream);
    if (q->ws != NULL) /* never upgraded: the client went away before */
        ws_conn_cancel(q->ws);
    free(q->path);
    free(q->body);
    free(q->resp_body);
    for (int i = 0; i < q->nhdrs; i++) {
        free(q->hdrs[i].name);
        free(q->hdrs[i].value);
    }
    free(q);
}

static void add_headers(const http_req *q, struct MHD_Response *r)
{
    if (q->content_type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, q->content_type);
    MHD_add_response_header(r, "X-Request-Id", q->id);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    int cache_set = 0; /* a handler's own Cache-Control (static files) replaces no-store */
    for (int i = 0; i < q->nhdrs; i++) {
        MHD_add_response_header(r, q->hdrs[i].name, q->hdrs[i].value);
        cache_set |= strcasecmp(q->hdrs[i].name, MHD_HTTP_HEADER_CACHE_CONTROL) == 0;
    }
    if (!cache_set)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max);
static void stream_free(void *cls);
static void stream_register(http_stream *st);

/* A streamed answer: chunked (MHD_SIZE_UNKNOWN), fed by stream_reader. From here on the
 * server's reference belongs to the MHD response and is dropped by stream_free. */
static struct MHD_Response *stream_response(http_req *q)
{
    http_stream *st = q->stream;
    q->stream = NULL;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                               stream_reader, st, stream_free);
    if (r == NULL) {
        stream_release_server(st);
        return NULL;
    }
    stream_register(st);
    return r;
}

/* MHD has sent the 101 and hands the socket over (on the connection's event thread). The
 * request stays with MHD until the hub closes urh, but it is no longer in flight: a
 * WebSocket must not hold up the drain at shutdown. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls,
                       const char *extra_in, size_t extra_in_size, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh)
{
    http_server *s = cls;
    http_req *q = con_cls;
    (void)conn;
    ws_conn *c = q != NULL ? q->ws : NULL;
    if (c == NULL) { /* cannot happen: only WebSocket answers are upgrade responses */
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    q->ws = NULL;
    q->upgraded = 1;
    atomic_fetch_sub(&s->inflight, 1);
    ws_conn_adopt(s->ws, c, sock, extra_in, extra_in_size, urh);
}

/* Turns the recorded answer into an MHD response and queues it. */
static enum MHD_Result send_response(http_req *q)
{
    struct MHD_Response *r;
    int streamed = q->stream != NULL;
    if (q->status == 0) {
        log_error("no response from the handler of %s %s", q->method, q->path);
        http_error(q, 500, "internal", "the server failed to produce a response");
    }
    if (q->ws != NULL) {
        r = MHD_create_response_for_upgrade(on_upgrade, q->srv);
        if (r != NULL)
            MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
    } else if (streamed) {
        r = stream_response(q);
    } else {
        r = MHD_create_response_from_buffer_with_free_callback(q->resp_len, q->resp_body,
                                                               &free);
        if (r != NULL)
            q->resp_body = NULL; /* MHD owns it now */
    }
    if (r == NULL) {
        log_error("cannot create a response for %s %s", q->method, q->path);
        return MHD_NO;
    }
    add_headers(q, r);
    /* On failure MHD_destroy_response frees the stream's side too (stream_free). */
    enum MHD_Result ret = MHD_queue_response(q->conn, (unsigned)q->status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES)
        q->state = ST_QUEUED;
    if (q->srv->o.observe != NULL)
        q->srv->o.observe(q->srv->o.app, q->method,
                          q->match.route != NULL ? q->match.route->pattern : "", q->status,
                          time_mono_us() - q->start_us);
    if (log_enabled(LOG_INFO))
        log_at(LOG_INFO, "http", 0, "%s %s %d %lldms ip=%s%s", q->method, q->path, q->status,
               (long long)(time_mono_ms() - q->start_ms), q->ip, streamed ? " stream" : "");
    return ret;
}

/* Hands a slow route to the worker pool; the connection stays suspended until it is done. */
static int defer(http_req *q)
{
    http_server *s = q->srv;
    pthread_mutex_lock(&s->mu);
    if (s->q_len >= JOB_QUEUE_MAX || s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return -EBUSY;
    }
    q->state = ST_DEFERRED;
    MHD_suspend_connection(q->conn);
    q->next_job = NULL;
    if (s->q_tail != NULL)
        s->q_tail->next_job = q;
    else
        s->q_head = q;
    s->q_tail = q;
    s->q_len++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static enum MHD_Result dispatch(http_req *q)
{
    char allow[64];
    /* HEAD is answered as GET; MHD leaves the body out. */
    const char *m = strcmp(q->method, "HEAD") == 0 ? "GET" : q->method;
    int rc = router_match(q->srv->r, m, q->path, &q->match, allow, sizeof(allow));
    if (rc == -ENOENT && q->srv->o.fallback != NULL && strcmp(m, "GET") == 0) {
        q->srv->o.fallback(q); /* static files; it answers every path it is given */
    } else if (rc == -ENOENT) {
        http_error(q, 404, "not_found", "no such endpoint: %s %s", q->method, q->path);
    } else if (rc == -EPERM) {
        http_resp_header(q, "Allow", allow);
        http_error(q, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)",
                   q->method, q->path, allow);
    } else if (q->match.route->flags & ROUTE_SLOW) {
        if (defer(q) == 0)
            return MHD_YES;
        http_resp_header(q, "Retry-After", "1");
        http_error(q, 503, "busy", "the server is busy; try again shortly");
    } else {
        q->match.route->fn(q);
    }
    return send_response(q);
}

/* Records a 413 and marks the connection for closing; idempotent. */
static void reject_too_large(http_req *q)
{
    if (!q->too_large) {
        q->too_large = 1;
        http_resp_header(q, "Connection", "close");
    }
    http_error(q, 413, "too_large", "the request body is larger than %zu bytes",
               q->srv->o.body_max);
}

/* MHD calls this once with the headers, once per body chunk, and once at the end (and
 * again after a resume). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    http_server *s = cls;
    http_req *q = *con_cls;
    if (q == NULL) {
        q = req_new(s, c, url, method, version);
        *con_cls = q;
        atomic_fetch_add(&s->inflight, 1);
        q->late = atomic_load(&s->draining);
        log_set_request_id(q->id);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        int64_t n;
        int clrc = cl != NULL ? str_to_int64(cl, 0, INT64_MAX, &n) : -ENOENT;
        if (clrc == -ERANGE || (clrc == 0 && (uint64_t)n > s->o.body_max)) {
            reject_too_large(q);
            return send_response(q);
        }
        return MHD_YES;
    }
    log_set_request_id(q->id);
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (q->too_large) {
            q->discarded += n;
            return q->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        if (q->body_len + n > s->o.body_max) {
            free(q->body);
            q->body = NULL;
            q->body_len = 0;
            q->discarded = n;
            reject_too_large(q);
            return MHD_YES; /* the 413 goes out once MHD has the end of the upload */
        }
        if (q->body_len + n + 1 > q->body_cap) {
            size_t cap = q->body_cap ? q->body_cap : 1024;
            while (cap < q->body_len + n + 1)
                cap *= 2;
            q->body = xrealloc(q->body, cap);
            q->body_cap = cap;
        }
        memcpy(q->body + q->body_len, upload_data, n);
        q->body_len += n;
        q->body[q->body_len] = '\0';
        return MHD_YES;
    }
    switch (q->state) {
    case ST_QUEUED:
    case ST_DEFERRED:
        return MHD_YES;
    case ST_DONE:
        return send_response(q);
    case ST_READING:
        break;
    }
    if (q->too_large) {
        reject_too_large(q);
        return send_response(q);
    }
    if (q->late) {
        http_resp_header(q, "Connection", "close");
        http_error(q, 503, "shutting_down", "the server is shutting down; try again shortly");
        return send_response(q);
    }
    return dispatch(q);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    http_req *q = *con_cls;
    (void)c;
    (void)toe;
    if (q == NULL)
        return;
    *con_cls = NULL;
    int upgraded = q->upgraded;
    req_free(q);
    if (!upgraded)
        atomic_fetch_sub(&s->inflight, 1);
    log_set_request_id(NULL);
}

static void *worker_main(void *arg)
{
    http_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->q_head == NULL && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        http_req *q = s->q_head;
        if (q == NULL) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        s->q_head = q->next_job;
        if (s->q_head == NULL)
            s->q_tail = NULL;
        s->q_len--;
        pthread_mutex_unlock(&s->mu);
        log_set_request_id(q->id);
        q->match.route->fn(q);
        log_set_request_id(NULL);
        q->state = ST_DONE;
        MHD_resume_connection(q->conn);
    }
    return NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_at(LOG_WARN, "libmicrohttpd", 0, "%s", msg);
}

/* Resolves the bind address; numeric addresses and names both work. */
static int resolve(const char *host, int port, struct sockaddr_storage *ss, int *v6, char *err,
                   size_t errlen)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve HOST %s: %s", host, gai_strerror(rc));
        return -EINVAL;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

/* Starts MHD with an epoll thread pool and our limits set explicitly, plus the workers. */
int http_server_start(const http_server_opts *o, const router *r, http_server **out, char *err,
                      size_t errlen)
{
    struct sockaddr_storage ss;
    int v6 = 0;
    int rc = resolve(o->host, o->port, &ss, &v6, err, errlen);
    if (rc != 0)
        return rc;
    http_server *s = xcalloc(1, sizeof(*s));
    s->o = *o;
    s->r = r;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->inflight, 0);
    s->ws = ws_hub_new();
    s->nworkers = o->workers ? o->workers : 1;
    s->workers = xcalloc(s->nworkers, sizeof(pthread_t));
    for (unsigned i = 0; i < s->nworkers; i++) {
        if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0) {
            snprintf(err, errlen, "cannot start worker threads: %s", strerror(errno));
            s->nworkers = i;
            http_server_shutdown(s, 0);
            return -EAGAIN;
        }
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_ALLOW_UPGRADE | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (v6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(
        flags, (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_logger, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 1),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    if (s->d == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%d (address in use, or not permitted)",
                 o->host, o->port);
        http_server_shutdown(s, 0);
        return -EADDRINUSE;
    }
    *out = s;
    return 0;
}

/* Drain, then stop: requests in flight get their answers before we close, and requests
 * that arrive meanwhile get a 503 (MHD_quiesce_daemon is not used: with a thread pool and
 * epoll, libmicrohttpd 0.9.75 races its workers removing the listening socket from their
 * epoll sets and aborts the process, "Failed to remove listen FD from epoll set"). Open
 * streams would never finish on their own, so they are ended first (their producers see
 * them closed) and drain like any other answer. Every stream is resumed before
 * MHD_stop_daemon, which must not find a suspended connection. WebSockets get their close
 * frames at once and close alongside the drain (they are not in flight); every one has
 * closed and handed its socket back before MHD_stop_daemon. */
int http_server_shutdown(http_server *s, int timeout_ms)
{
    if (s == NULL)
        return 0;
    atomic_store(&s->draining, 1);
    ws_hub_stop_begin(s->ws, timeout_ms < WS_STOP_GRACE_MS ? timeout_ms : WS_STOP_GRACE_MS);
    pthread_mutex_lock(&s->mu);
    s->streams_closing = 1;
    streams_close_all(s);
    pthread_mutex_unlock(&s->mu);
    int64_t deadline = time_mono_ms() + timeout_ms;
    while (atomic_load(&s->inflight) > 0 && time_mono_ms() < deadline)
        usleep(10 * 1000);
    int left = atomic_load(&s->inflight);
    ws_hub_stop_wait(s->ws);
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (unsigned i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    if (s->d != NULL)
        MHD_stop_daemon(s->d);
    ws_hub_free(s->ws);
    free(s->workers);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    return left;
}
