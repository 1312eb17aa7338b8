/* WebSockets: the handshake, the hub (one I/O thread per server with epoll and an
 * eventfd) and the connections (wslay event contexts in server mode over non-blocking
 * sockets that libmicrohttpd hands over after the 101).
 *
 * Threads. Any thread may queue messages or ask for a close: both go to the connection's
 * queue under its mutex, and the connection is put on the hub's dirty list (one reference
 * per entry) and the eventfd is written. Only the I/O thread touches the socket and the
 * wslay context: it moves queued messages into wslay, reads, writes, pings, closes, and
 * runs the callbacks. Lock order: a connection's mu, then the hub's mu; the I/O thread
 * never holds a lock while it calls wslay_event_recv or a callback.
 *
 * Memory. A connection's pending bytes are its queue plus what wslay still holds (its
 * queued message length, a message counted whole until its last byte is written), each
 * message also charged WS_MSG_COST for the bookkeeping; a send that would take the sum
 * past WS_QUEUE_MAX is refused, so a client that stops reading costs at most that much,
 * tiny messages included (plus the kernel's socket buffer).
 *
 * Life cycle. NEW (answer recorded, 101 not yet sent) -> OPEN (adopted by the hub) ->
 * CLOSING (a close asked for or received, or the client gone) -> CLOSED (socket handed
 * back with MHD_upgrade_action, on_close run). Closing: the close frame goes out, then a
 * shutdown(SHUT_WR); we read (and drop) until the client's end of stream, so the kernel
 * never answers unread data with a reset, or until the grace deadline. */
#define _GNU_SOURCE
#include "websocket.h"

#include "http_internal.h"
#include "log.h"
#include "response.h"
#include "str.h"
#include "timeutil.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define CLOSE_GRACE_MS 2000    /* after our close frame, the client's answer */
#define TICK_MS_MAX 1000       /* timers (pings, idle, grace) are checked this often */
#define STOP_TICK_MS 20        /* and this often while the server stops */
#define IO_BUDGET (256 * 1024) /* bytes read or written per connection per wake-up */
#define EPOLL_BATCH 64
#define DRAIN_BUF 4096

enum ws_state { WS_NEW, WS_OPEN, WS_CLOSING, WS_CLOSED };

struct ws_msg {
    struct ws_msg *next;
    size_t len;
    char data[];
};

struct ws_conn {
    atomic_int refs;
    ws_hub *hub;
    ws_handlers h;
    void *ctx;
    char ip[INET6_ADDRSTRLEN];
    char id[HTTP_REQUEST_ID_MAX + 1];

    pthread_mutex_t mu; /* guards the block below */
    enum ws_state state;
    struct ws_msg *q_head, *q_tail;
    size_t q_bytes;  /* waiting in the queue */
    size_t io_bytes; /* inside wslay, as of the I/O thread's last look */
    int overflowed;  /* a send was refused with -ENOBUFS */
    int close_req;   /* ws_close was called: code and reason below */
    uint16_t close_code;
    char close_reason[WS_CLOSE_REASON_MAX + 1];
    size_t close_reason_len;

    int dirty;           /* on the hub's dirty list; under hub->mu */
    ws_conn *dirty_next; /* under hub->mu */

    /* The I/O thread's (ws_conn_adopt sets fd, urh and extra before the hand-over). */
    int fd;
    struct MHD_UpgradeResponseHandle *urh;
    char *extra;
    size_t extra_len, extra_off;
    wslay_event_context_ptr wctx;
    int adopted, finished, dead, eof, close_queued, wr_shut;
    uint32_t events; /* the epoll interest set */
    size_t rx_budget, tx_budget;
    int io_errno;
    int64_t start_ms, last_rx_ms, last_ping_ms, deadline_ms; /* deadline 0: none */
    uint64_t n_in, n_out_bytes;
    ws_conn *prev, *next; /* the hub's open connections */
    ws_conn *take_next;   /* the dirty list as the I/O thread took it */
    ws_conn *reap_next;   /* finished, unreferenced at the end of the loop */
};

struct ws_hub {
    pthread_mutex_t mu; /* guards the block below */
    int started;        /* thread, epfd and evfd exist */
    int stopping;
    int stop_grace_ms;
    ws_conn *dirty_head;

    int epfd, evfd;
    pthread_t th;
    /* The I/O thread's. */
    ws_conn *conns;
    size_t nconns;
    int stop_seen;
    int64_t now;
    ws_conn *reap;
};

static atomic_uint_least64_t st_open, st_opened, st_closed_slow, st_msgs_in, st_msgs_out,
    st_bytes_out;
static atomic_int timing_ping_ms = WS_PING_INTERVAL_MS;
static atomic_int timing_idle_ms = WS_IDLE_TIMEOUT_MS;

static ws_conn *conn_new(http_req *q, const ws_handlers *h, void *ctx)
{
    ws_conn *c = xcalloc(1, sizeof(*c));
    atomic_init(&c->refs, 1); /* the request's, then the hub's dirty list's */
    c->hub = http_req_ws_hub(q);
    c->h = *h;
    c->ctx = ctx;
    str_copy(c->ip, sizeof(c->ip), http_req_ip(q));
    str_copy(c->id, sizeof(c->id), http_req_id(q));
    pthread_mutex_init(&c->mu, NULL);
    c->state = WS_NEW;
    c->fd = -1;
    return c;
}

/* The request's fields go through ws_upgrade_check; the answer is recorded here and goes
 * out when the handler returns (send_response makes it an upgrade response). */
int http_respond_websocket(http_req *q, const ws_handlers *h, void *ctx)
{
    ws_upgrade_req r = {
        .method = http_req_method(q),
        .version = http_req_version(q),
        .upgrade = http_req_header(q, "Upgrade"),
        .connection = http_req_header(q, "Connection"),
        .ws_version = http_req_header(q, "Sec-WebSocket-Version"),
        .key = http_req_header(q, "Sec-WebSocket-Key"),
    };
    const char *why = "";
    char accept[WS_ACCEPT_LEN + 1];
    int rc = ws_upgrade_check(&r, &why);
    if (rc == -EPROTONOSUPPORT) {
        http_resp_header(q, "Sec-WebSocket-Version", "13");
        http_error(q, 426, "upgrade_required", "%s", why);
        return -EINVAL;
    }
    if (rc != 0 || ws_accept_compute(r.key, accept, sizeof(accept)) != 0) {
        http_error(q, 400, "bad_handshake", "%s", why);
        return -EINVAL;
    }
    http_req_set_upgrade(q, conn_new(q, h, ctx));
    http_resp_header(q, "Sec-WebSocket-Accept", accept);
    return 0;
}

/* --- connections: the API for any thread ------------------------------------------------ */

/* Under c->mu (or with the last reference): frees the queue. */
static void queue_drop(ws_conn *c)
{
    for (struct ws_msg *m = c->q_head, *n; m != NULL; m = n) {
        n = m->next;
        free(m);
    }
    c->q_head = c->q_tail = NULL;
    c->q_bytes = 0;
}

void ws_conn_ref(ws_conn *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void ws_conn_unref(ws_conn *c)
{
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    queue_drop(c);
    if (c->wctx != NULL)
        wslay_event_context_free(c->wctx);
    free(c->extra);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

const char *ws_conn_ip(const ws_conn *c)
{
    return c->ip;
}

const char *ws_conn_request_id(const ws_conn *c)
{
    return c->id;
}

static void hub_wake(ws_hub *h)
{
    uint64_t one = 1;
    if (write(h->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_warn("eventfd write");
}

/* Under c->mu, c adopted and not finished (so the I/O thread runs and evfd is open): puts
 * c on the dirty list once, with a reference, and wakes the I/O thread. */
static void mark_dirty(ws_conn *c)
{
    ws_hub *h = c->hub;
    int wake = 0;
    pthread_mutex_lock(&h->mu);
    if (!c->dirty) {
        c->dirty = 1;
        ws_conn_ref(c);
        wake = h->dirty_head == NULL;
        c->dirty_next = h->dirty_head;
        h->dirty_head = c;
    }
    pthread_mutex_unlock(&h->mu);
    if (wake)
        hub_wake(h);
}

/* The message is copied before the lock so the lock is held only to link it in. */
int ws_send_text(ws_conn *c, const char *msg, size_t len)
{
    int rc = 0;
    if (len > 0 && !str_is_utf8(msg, len))
        return -EINVAL;
    struct ws_msg *m = len <= WS_QUEUE_MAX - WS_MSG_COST ? xmalloc(sizeof(*m) + len) : NULL;
    if (m != NULL) {
        m->next = NULL;
        m->len = len;
        if (len > 0)
            memcpy(m->data, msg, len);
    }
    pthread_mutex_lock(&c->mu);
    if (c->state >= WS_CLOSING) {
        rc = -EPIPE;
    } else if (m == NULL || c->q_bytes + c->io_bytes + len + WS_MSG_COST > WS_QUEUE_MAX) {
        rc = -ENOBUFS;
        c->overflowed = 1;
    } else {
        if (c->q_tail != NULL)
            c->q_tail->next = m;
        else
            c->q_head = m;
        c->q_tail = m;
        c->q_bytes += len + WS_MSG_COST;
        m = NULL;
        if (c->state == WS_OPEN)
            mark_dirty(c);
    }
    pthread_mutex_unlock(&c->mu);
    free(m);
    if (rc == 0)
        atomic_fetch_add(&st_msgs_out, 1);
    return rc;
}

/* Codes a server may put in a close frame, as wslay's receiver checks them. */
static int sendable_code(uint16_t code)
{
    return (code >= 1000 && code <= 1011 && code != 1004 && code != 1005 && code != 1006) ||
           (code >= 3000 && code <= 4999);
}

/* Only the first call counts; the I/O thread sends the frame (see conn_take). */
void ws_close(ws_conn *c, uint16_t code, const char *reason)
{
    size_t rlen = reason != NULL ? strlen(reason) : 0;
    if (!sendable_code(code))
        code = 1011;
    if (rlen > WS_CLOSE_REASON_MAX) {
        rlen = WS_CLOSE_REASON_MAX;
        while (rlen > 0 && ((unsigned char)reason[rlen] & 0xc0) == 0x80)
            rlen--; /* do not cut a character in two */
    }
    if (rlen > 0 && !str_is_utf8(reason, rlen))
        rlen = 0;
    pthread_mutex_lock(&c->mu);
    if (c->state >= WS_CLOSING) {
        pthread_mutex_unlock(&c->mu);
        return;
    }
    c->close_req = 1;
    c->close_code = code;
    if (rlen > 0)
        memcpy(c->close_reason, reason, rlen);
    c->close_reason[rlen] = '\0';
    c->close_reason_len = rlen;
    size_t pending = c->q_bytes + c->io_bytes;
    int slow = c->overflowed;
    if (c->state == WS_OPEN)
        mark_dirty(c);
    c->state = WS_CLOSING;
    pthread_mutex_unlock(&c->mu);
    if (slow) {
        atomic_fetch_add(&st_closed_slow, 1);
        log_warnx("closing a slow WebSocket client ip=%s rid=%s pending=%zu code=%u: %s", c->ip,
                  c->id, pending, (unsigned)code, c->close_reason);
    }
}

/* The lock is taken through a cast: reading the counters is logically const. */
size_t ws_pending(const ws_conn *c)
{
    ws_conn *m = (ws_conn *)(uintptr_t)c;
    pthread_mutex_lock(&m->mu);
    size_t n = m->q_bytes + m->io_bytes;
    pthread_mutex_unlock(&m->mu);
    return n;
}

void ws_stats_get(ws_stats *out)
{
    out->open = atomic_load(&st_open);
    out->opened = atomic_load(&st_opened);
    out->closed_slow = atomic_load(&st_closed_slow);
    out->msgs_in = atomic_load(&st_msgs_in);
    out->msgs_out = atomic_load(&st_msgs_out);
    out->bytes_out = atomic_load(&st_bytes_out);
}

void ws_timing_set(int ping_interval_ms, int idle_timeout_ms)
{
    atomic_store(&timing_ping_ms, ping_interval_ms > 0 ? ping_interval_ms : WS_PING_INTERVAL_MS);
    atomic_store(&timing_idle_ms, idle_timeout_ms > 0 ? idle_timeout_ms : WS_IDLE_TIMEOUT_MS);
}

/* The switch never happened: the request's reference goes, with on_close. */
void ws_conn_cancel(ws_conn *c)
{
    pthread_mutex_lock(&c->mu);
    c->state = WS_CLOSED;
    queue_drop(c);
    pthread_mutex_unlock(&c->mu);
    if (c->h.on_close != NULL)
        c->h.on_close(c, c->ctx);
    ws_conn_unref(c);
}

/* --- wslay's callbacks (I/O thread) ------------------------------------------------------ */

/* A recv or send result as wslay wants it: the byte count (taken from the budget), or -1
 * with WOULDBLOCK (try again on the next wake-up; also for an interrupted call) or a
 * failure (the end of the stream, an error) recorded. A budget per wake-up keeps one busy
 * client from starving the others: epoll is level-triggered, we come back. */
static ssize_t io_result(ws_conn *c, wslay_event_context_ptr ctx, ssize_t n, size_t *budget)
{
    if (n > 0) {
        *budget -= (size_t)n;
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    } else {
        c->eof = n == 0;
        c->io_errno = n < 0 ? errno : 0;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    }
    return -1;
}

/* Bytes MHD read past the headers come first. */
static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *ud)
{
    ws_conn *c = ud;
    ssize_t n = -1;
    (void)flags;
    if (c->extra_off < c->extra_len) {
        n = (ssize_t)(c->extra_len - c->extra_off < len ? c->extra_len - c->extra_off : len);
        memcpy(buf, c->extra + c->extra_off, (size_t)n);
        c->extra_off += (size_t)n;
        return n;
    }
    errno = EAGAIN;
    if (c->rx_budget > 0)
        n = recv(c->fd, buf, len < c->rx_budget ? len : c->rx_budget, 0);
    if (n > 0)
        c->last_rx_ms = c->hub->now;
    return io_result(c, ctx, n, &c->rx_budget);
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    ws_conn *c = ud;
    ssize_t n = -1;
    errno = EAGAIN;
    if (c->tx_budget > 0)
        n = send(c->fd, data, len < c->tx_budget ? len : c->tx_budget,
                 MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0));
    if (n > 0) {
        c->n_out_bytes += (uint64_t)n;
        atomic_fetch_add(&st_bytes_out, (uint64_t)n);
    }
    return io_result(c, ctx, n, &c->tx_budget);
}

/* Queues our close frame (at most once) and starts the grace period. No sending here: this
 * also runs inside wslay_event_recv. */
static void queue_close(ws_conn *c, uint16_t code, const char *reason, size_t len)
{
    if (c->close_queued)
        return;
    c->close_queued = 1;
    /* WSLAY_ERR_NO_MORE_MSG: wslay already answers the client's close; nothing to add */
    (void)wslay_event_queue_close(c->wctx, code, (const uint8_t *)reason, len);
    if (c->deadline_ms == 0)
        c->deadline_ms = c->hub->now + CLOSE_GRACE_MS;
}

/* wslay has checked the length (WS_MSG_MAX, else 1009) and, for text, UTF-8 (else 1007). */
static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *ud)
{
    ws_conn *c = ud;
    if (a->opcode == WSLAY_TEXT_FRAME) {
        c->n_in++;
        atomic_fetch_add(&st_msgs_in, 1);
        if (!c->close_queued && c->h.on_text != NULL)
            c->h.on_text(c, a->msg != NULL ? (const char *)a->msg : "", a->msg_length, c->ctx);
    } else if (a->opcode == WSLAY_BINARY_FRAME) {
        static const char why[] = "binary messages are not accepted";
        queue_close(c, 1003, why, sizeof(why) - 1);
        wslay_event_shutdown_read(ctx);
    }
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .on_msg_recv_callback = msg_cb,
};

/* --- connections: the I/O thread ---------------------------------------------------------- */

/* From now on sends say -EPIPE. */
static void conn_set_closing(ws_conn *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->state < WS_CLOSING)
        c->state = WS_CLOSING;
    pthread_mutex_unlock(&c->mu);
}

/* The end: the socket goes back to MHD (which closes it), on_close runs, and the I/O
 * thread's reference is dropped at the end of the loop (events of this round may still
 * point at c). */
static void conn_finish(ws_hub *h, ws_conn *c, const char *why)
{
    if (c->finished)
        return;
    c->finished = 1;
    if (epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL) != 0)
        log_warn("epoll_ctl del");
    pthread_mutex_lock(&c->mu);
    c->state = WS_CLOSED;
    queue_drop(c);
    c->io_bytes = 0;
    pthread_mutex_unlock(&c->mu);
    unsigned sent = wslay_event_get_status_code_sent(c->wctx);
    unsigned recvd = wslay_event_get_status_code_received(c->wctx);
    wslay_event_context_free(c->wctx);
    c->wctx = NULL;
    free(c->extra);
    c->extra = NULL;
    c->extra_len = c->extra_off = 0;
    MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
    c->urh = NULL;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    h->nconns--;
    atomic_fetch_sub(&st_open, 1);
    if (log_enabled(LOG_INFO))
        log_at(LOG_INFO, "websocket", 0,
               "websocket closed ip=%s rid=%s sent=%u received=%u in=%llu out_bytes=%llu "
               "%lldms: %s%s%s",
               c->ip, c->id, sent, recvd, (unsigned long long)c->n_in,
               (unsigned long long)c->n_out_bytes, (long long)(h->now - c->start_ms), why,
               c->io_errno != 0 ? ": " : "", c->io_errno != 0 ? strerror(c->io_errno) : "");
    if (c->h.on_close != NULL)
        c->h.on_close(c, c->ctx);
    c->reap_next = h->reap;
    h->reap = c;
}

static void conn_read(ws_conn *c)
{
    c->rx_budget = IO_BUDGET;
    if (wslay_event_get_read_enabled(c->wctx)) {
        if (wslay_event_recv(c->wctx) != 0)
            c->dead = 1;
        return;
    }
    /* closing: what the client still sends is dropped until its end of stream */
    char buf[DRAIN_BUF];
    ssize_t n;
    while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0 && c->rx_budget > (size_t)n)
        c->rx_budget -= (size_t)n;
    if (n == 0)
        c->eof = 1;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c->io_errno = errno;
        c->dead = 1;
    }
}

/* What wslay holds, counted like the queue: payload plus WS_MSG_COST per message. */
static size_t wslay_pending(ws_conn *c)
{
    return wslay_event_get_queued_msg_length(c->wctx) +
           wslay_event_get_queued_msg_count(c->wctx) * WS_MSG_COST;
}

/* Writes what wslay has, within the budget, and publishes what is left for ws_pending. */
static void conn_flush(ws_conn *c)
{
    if (c->dead || c->wctx == NULL)
        return;
    if (wslay_event_want_write(c->wctx)) {
        c->tx_budget = IO_BUDGET;
        if (wslay_event_send(c->wctx) != 0)
            c->dead = 1;
    }
    size_t left = wslay_pending(c);
    pthread_mutex_lock(&c->mu);
    c->io_bytes = left;
    pthread_mutex_unlock(&c->mu);
}

/* Moves the queue into wslay and acts on a close request. The moved bytes stay counted in
 * q_bytes until wslay's count includes them, so pending is never under-counted. */
static void conn_take(ws_conn *c)
{
    pthread_mutex_lock(&c->mu);
    struct ws_msg *list = c->q_head;
    c->q_head = c->q_tail = NULL;
    int close_now = c->close_req;
    c->close_req = 0;
    uint16_t code = c->close_code;
    char reason[WS_CLOSE_REASON_MAX + 1];
    size_t rlen = c->close_reason_len;
    memcpy(reason, c->close_reason, rlen + 1);
    pthread_mutex_unlock(&c->mu);
    size_t moved = 0;
    for (struct ws_msg *m = list, *n; m != NULL; m = n) {
        n = m->next;
        if (!c->close_queued && !c->dead) {
            struct wslay_event_msg a = {WSLAY_TEXT_FRAME, (const uint8_t *)m->data, m->len};
            (void)wslay_event_queue_msg(c->wctx, &a); /* NO_MORE_MSG: closing, dropped */
        }
        moved += m->len + WS_MSG_COST;
        free(m);
    }
    size_t left = wslay_pending(c);
    pthread_mutex_lock(&c->mu);
    c->q_bytes = c->q_bytes >= moved ? c->q_bytes - moved : 0;
    c->io_bytes = left;
    pthread_mutex_unlock(&c->mu);
    if (close_now) {
        conn_flush(c); /* what was queued before the close goes first, as far as it can */
        queue_close(c, code, reason, rlen);
    }
    conn_flush(c);
}

/* After any step: closing bookkeeping, the end when it has come, the epoll interest. */
static void conn_settle(ws_hub *h, ws_conn *c)
{
    if (c->finished)
        return;
    if (c->dead) {
        conn_finish(h, c, c->eof ? "the client went away" : "connection error");
        return;
    }
    int reading = wslay_event_get_read_enabled(c->wctx);
    if (!reading || c->close_queued) {
        conn_set_closing(c);
        if (c->deadline_ms == 0)
            c->deadline_ms = h->now + CLOSE_GRACE_MS;
    }
    if (wslay_event_get_close_sent(c->wctx) && !c->wr_shut) {
        shutdown(c->fd, SHUT_WR);
        c->wr_shut = 1;
    }
    if (c->eof) {
        conn_finish(h, c, c->wr_shut ? "closed" : "the client went away");
        return;
    }
    uint32_t want = EPOLLIN | EPOLLRDHUP;
    if (wslay_event_want_write(c->wctx))
        want |= EPOLLOUT;
    if (want != c->events) {
        struct epoll_event ev = {.events = want, .data.ptr = c};
        if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
            c->io_errno = errno;
            conn_finish(h, c, "epoll_ctl failed");
            return;
        }
        c->events = want;
    }
}

static void conn_events(ws_hub *h, ws_conn *c, uint32_t ev)
{
    if (c->finished)
        return;
    log_set_request_id(c->id);
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR))
        conn_read(c); /* a socket error comes out of recv */
    conn_flush(c);
    conn_settle(h, c);
    log_set_request_id(NULL);
}

/* A close frame written straight away (best effort, the socket is non-blocking) through a
 * throwaway wslay context, for connections that must not live: the server is stopping or
 * the hub could not take them. */
static ssize_t once_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                            int flags, void *ud)
{
    ssize_t n = send(*(const int *)ud, data, len, MSG_NOSIGNAL);
    (void)flags;
    if (n <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

static void close_at_once(ws_conn *c, const char *why)
{
    static const char reason[] = "server stopping";
    static const struct wslay_event_callbacks once = {.send_callback = once_send_cb};
    wslay_event_context_ptr w = NULL;
    pthread_mutex_lock(&c->mu);
    c->state = WS_CLOSED;
    queue_drop(c);
    pthread_mutex_unlock(&c->mu);
    int fl = fcntl(c->fd, F_GETFL);
    if (fl >= 0)
        fcntl(c->fd, F_SETFL, fl | O_NONBLOCK);
    if (wslay_event_context_server_init(&w, &once, &c->fd) == 0) {
        if (wslay_event_queue_close(w, 1001, (const uint8_t *)reason, sizeof(reason) - 1) == 0)
            (void)wslay_event_send(w);
        wslay_event_context_free(w);
    }
    MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
    c->urh = NULL;
    log_info("websocket closed at once ip=%s rid=%s: %s", c->ip, c->id, why);
    if (c->h.on_close != NULL)
        c->h.on_close(c, c->ctx);
}

/* The hub takes a connection MHD has handed over: non-blocking socket, a wslay context,
 * epoll, on_open, then whatever the client sent early. */
static void conn_open(ws_hub *h, ws_conn *c, int stopping)
{
    c->adopted = 1;
    if (stopping) {
        close_at_once(c, "server stopping");
        return;
    }
    int one = 1, zero = 0, fl = fcntl(c->fd, F_GETFL);
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
        wslay_event_context_server_init(&c->wctx, &callbacks, c) != 0) {
        close_at_once(c, "cannot set up the connection");
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
    wslay_event_config_set_max_recv_msg_length(c->wctx, WS_MSG_MAX);
    c->events = EPOLLIN | EPOLLRDHUP;
    struct epoll_event ev = {.events = c->events, .data.ptr = c};
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        log_warn("epoll_ctl add");
        wslay_event_context_free(c->wctx);
        c->wctx = NULL;
        close_at_once(c, "cannot watch the socket");
        return;
    }
    ws_conn_ref(c); /* the I/O thread's, dropped after conn_finish */
    c->next = h->conns;
    if (h->conns != NULL)
        h->conns->prev = c;
    h->conns = c;
    h->nconns++;
    c->start_ms = c->last_rx_ms = c->last_ping_ms = h->now;
    atomic_fetch_add(&st_open, 1);
    atomic_fetch_add(&st_opened, 1);
    log_set_request_id(c->id);
    log_info("websocket open ip=%s", c->ip);
    if (c->h.on_open != NULL)
        c->h.on_open(c, c->ctx);
    conn_take(c);
    if (c->extra_len > 0)
        conn_read(c);
    conn_flush(c);
    conn_settle(h, c);
    log_set_request_id(NULL);
}

/* Dirty connections: adoptions, new messages, close requests. The list is relinked through
 * take_next under the lock: once dirty is 0 another thread may put c on the list again
 * (and rewrite dirty_next) while we work. */
static void hub_dirty(ws_hub *h, int stopping)
{
    pthread_mutex_lock(&h->mu);
    ws_conn *list = h->dirty_head;
    h->dirty_head = NULL;
    for (ws_conn *c = list; c != NULL; c = c->dirty_next) {
        c->take_next = c->dirty_next;
        c->dirty = 0;
    }
    pthread_mutex_unlock(&h->mu);
    for (ws_conn *c = list, *n; c != NULL; c = n) {
        n = c->take_next;
        if (!c->adopted) {
            conn_open(h, c, stopping);
        } else if (!c->finished) {
            log_set_request_id(c->id);
            conn_take(c);
            conn_settle(h, c);
            log_set_request_id(NULL);
        }
        ws_conn_unref(c); /* the dirty list's */
    }
}

static int tick_ms(void)
{
    int t = atomic_load(&timing_ping_ms) / 4, idle = atomic_load(&timing_idle_ms) / 4;
    if (idle < t)
        t = idle;
    if (t > TICK_MS_MAX)
        t = TICK_MS_MAX;
    return t > 10 ? t : 10;
}

/* Pings, the idle limit and the grace of closing connections. */
static void hub_timers(ws_hub *h)
{
    static const struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
    int64_t ping_ms = atomic_load(&timing_ping_ms), idle_ms = atomic_load(&timing_idle_ms);
    for (ws_conn *c = h->conns, *n; c != NULL; c = n) {
        n = c->next;
        log_set_request_id(c->id);
        if (c->deadline_ms != 0 && h->now >= c->deadline_ms) {
            conn_finish(h, c, "the close handshake timed out");
        } else if (c->deadline_ms == 0 && h->now - c->last_rx_ms >= idle_ms) {
            conn_finish(h, c, "nothing received within the idle timeout");
        } else if (c->deadline_ms == 0 && h->now - c->last_ping_ms >= ping_ms) {
            c->last_ping_ms = h->now;
            (void)wslay_event_queue_msg(c->wctx, &ping);
            conn_flush(c);
            conn_settle(h, c);
        }
        log_set_request_id(NULL);
    }
}

/* Shutdown: every connection gets 1001 and at most the stop grace. */
static void hub_stop_all(ws_hub *h, int grace_ms)
{
    static const char reason[] = "server stopping";
    for (ws_conn *c = h->conns, *n; c != NULL; c = n) {
        n = c->next;
        conn_flush(c);
        queue_close(c, 1001, reason, sizeof(reason) - 1);
        if (c->deadline_ms == 0 || c->deadline_ms > h->now + grace_ms)
            c->deadline_ms = h->now + grace_ms;
        conn_flush(c);
        conn_settle(h, c);
        if (grace_ms <= 0)
            conn_finish(h, c, "server stopping");
    }
}

static void *io_main(void *arg)
{
    ws_hub *h = arg;
    struct epoll_event evs[EPOLL_BATCH];
    int64_t next_tick = 0;
    for (;;) {
        /* while stopping, the grace deadlines are looked at often */
        int wait = h->nconns == 0 ? -1 : h->stop_seen ? STOP_TICK_MS : tick_ms();
        int n = epoll_wait(h->epfd, evs, EPOLL_BATCH, wait);
        if (n < 0) {
            if (errno != EINTR)
                log_warn("epoll_wait");
            n = 0;
        }
        h->now = time_mono_ms();
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                uint64_t v;
                if (read(h->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    log_warn("eventfd read");
                continue;
            }
            conn_events(h, evs[i].data.ptr, evs[i].events);
        }
        pthread_mutex_lock(&h->mu);
        int stopping = h->stopping, grace = h->stop_grace_ms;
        pthread_mutex_unlock(&h->mu);
        hub_dirty(h, stopping);
        if (stopping && !h->stop_seen) {
            h->stop_seen = 1;
            hub_stop_all(h, grace);
        }
        if (h->stop_seen || h->now >= next_tick) {
            next_tick = h->now + tick_ms();
            hub_timers(h);
        }
        while (h->reap != NULL) {
            ws_conn *c = h->reap;
            h->reap = c->reap_next;
            ws_conn_unref(c);
        }
        if (stopping && h->nconns == 0) {
            pthread_mutex_lock(&h->mu);
            int idle = h->dirty_head == NULL;
            pthread_mutex_unlock(&h->mu);
            if (idle)
                break;
        }
    }
    return NULL;
}

/* --- the hub ------------------------------------------------------------------------------ */

ws_hub *ws_hub_new(void)
{
    ws_hub *h = xcalloc(1, sizeof(*h));
    pthread_mutex_init(&h->mu, NULL);
    h->epfd = h->evfd = -1;
    return h;
}

/* Under h->mu: the thread and its descriptors, once. Returns 0 or a negative errno. */
static int hub_start(ws_hub *h)
{
    int rc;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (h->started)
        return 0;
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    h->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->epfd < 0 || h->evfd < 0 || epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->evfd, &ev) != 0)
        rc = -errno;
    else
        rc = -pthread_create(&h->th, NULL, io_main, h);
    if (rc == 0) {
        h->started = 1;
        return 0;
    }
    log_at(LOG_ERROR, "websocket", 0, "cannot start the WebSocket thread: %s", strerror(-rc));
    if (h->epfd >= 0)
        close(h->epfd);
    if (h->evfd >= 0)
        close(h->evfd);
    h->epfd = h->evfd = -1;
    return rc;
}

/* On MHD's event thread, inside the upgrade handler. The request's reference becomes the
 * dirty list's; the I/O thread does the rest. While the server stops the connection is
 * closed here and now. */
void ws_conn_adopt(ws_hub *h, ws_conn *c, int sock, const char *extra, size_t extra_len,
                   struct MHD_UpgradeResponseHandle *urh)
{
    int ok = 0;
    c->fd = sock;
    c->urh = urh;
    if (extra_len > 0) {
        c->extra = xmalloc(extra_len);
        memcpy(c->extra, extra, extra_len);
        c->extra_len = extra_len;
    }
    pthread_mutex_lock(&c->mu);
    pthread_mutex_lock(&h->mu);
    if (!h->stopping && hub_start(h) == 0) {
        ok = 1;
        if (c->state == WS_NEW)
            c->state = WS_OPEN;
        c->dirty = 1;
        c->dirty_next = h->dirty_head;
        h->dirty_head = c;
        hub_wake(h); /* under h->mu: the thread cannot have left, c is on its list */
    }
    pthread_mutex_unlock(&h->mu);
    pthread_mutex_unlock(&c->mu);
    if (!ok) {
        close_at_once(c, "server stopping");
        ws_conn_unref(c);
    }
}

void ws_hub_stop_begin(ws_hub *h, int grace_ms)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->stopping = 1;
    h->stop_grace_ms = grace_ms > 0 ? grace_ms : 0;
    int started = h->started;
    pthread_mutex_unlock(&h->mu);
    if (started)
        hub_wake(h);
}

void ws_hub_stop_wait(ws_hub *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu); /* stopping is set: nothing starts the thread now */
    int started = h->started;
    pthread_mutex_unlock(&h->mu);
    if (!started)
        return;
    pthread_join(h->th, NULL);
    pthread_mutex_lock(&h->mu);
    close(h->epfd);
    close(h->evfd);
    h->started = 0;
    pthread_mutex_unlock(&h->mu);
}

void ws_hub_free(ws_hub *h)
{
    if (h == NULL)
        return;
    ws_hub_stop_begin(h, 0);
    ws_hub_stop_wait(h);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
