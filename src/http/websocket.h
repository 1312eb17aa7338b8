/* WebSocket connections (RFC 6455) behind the HTTP seam. A route handler turns its request
 * into a WebSocket with http_respond_websocket(); libmicrohttpd hands the socket over after
 * the 101 answer and from then on one I/O thread per server (epoll, wslay for the framing)
 * serves every WebSocket: no thread per connection, non-blocking sockets.
 *
 * Rules for callers:
 *   - the callbacks run on the I/O thread and must not block (queue work elsewhere); they
 *     may call ws_send_text, ws_close and the reference functions;
 *   - on_close runs exactly once for every successful http_respond_websocket(), also when
 *     the switch never happens (the client left before the 101 went out, the handler
 *     replaced the answer with http_respond(), the server is stopping): then without
 *     on_open. It is the place to free ctx;
 *   - a ws_conn pointer is valid inside the callbacks; to use it elsewhere (another thread,
 *     after on_close) take a reference with ws_conn_ref in on_open and drop it later;
 *   - ws_send_text and ws_close are thread-safe and never block on the network;
 *   - every connection gets a ping every WS_PING_INTERVAL_MS and is closed when nothing
 *     (a pong or anything else) arrives for WS_IDLE_TIMEOUT_MS;
 *   - binary messages are refused (close 1003); text must be valid UTF-8 both ways;
 *   - http_server_shutdown() closes every WebSocket with 1001 "server stopping".
 * Each open WebSocket keeps its slot in libmicrohttpd's connection limits (max_connections,
 * max_per_ip) until it closes; libmicrohttpd's idle timeout does not apply to it. */
#ifndef CLOUDYA_WEBSOCKET_H
#define CLOUDYA_WEBSOCKET_H
#include "http_server.h"

#include <stddef.h>
#include <stdint.h>

#include "wskey.h" /* ws_accept_compute, WS_ACCEPT_LEN */

#define WS_MSG_MAX (64 * 1024)     /* a larger incoming message closes with 1009 */
#define WS_QUEUE_MAX (1024 * 1024) /* bytes queued for one client */
#define WS_MSG_COST 96             /* bytes each queued message counts on top of its length */
#define WS_CLOSE_REASON_MAX 123    /* bytes of a close reason (RFC 6455 §5.5) */
#define WS_PING_INTERVAL_MS 30000
#define WS_IDLE_TIMEOUT_MS 75000

typedef struct ws_conn ws_conn;

typedef struct ws_handlers {
    void (*on_open)(ws_conn *c, void *ctx);                              /* upgraded; may send */
    void (*on_text)(ws_conn *c, const char *msg, size_t len, void *ctx); /* see below */
    void (*on_close)(ws_conn *c, void *ctx);                             /* exactly once, last */
} ws_handlers;
/* on_text gets one whole text message: valid UTF-8 (wslay checks, else close 1007), at most
 * WS_MSG_MAX bytes (else close 1009), not NUL-terminated, valid during the call. */

/* Called from a route handler (event thread or worker, ROUTE_SLOW routes too). Checks the
 * upgrade request (GET, HTTP/1.1, Upgrade: websocket, Connection contains
 * upgrade, Sec-WebSocket-Version 13, a valid 16-byte base64 Sec-WebSocket-Key); on success
 * the answer becomes 101 Switching Protocols, h's callbacks run once the switch is done
 * (h is copied; on_text and on_open may be NULL, on_close too) and 0 is returned.
 * Otherwise it answers 400 (426 with Sec-WebSocket-Version: 13 for another version) itself
 * and returns -EINVAL; h is not called. */
int http_respond_websocket(http_req *q, const ws_handlers *h, void *ctx);

/* Queues a text message (len bytes of valid UTF-8, not NUL-terminated); thread-safe,
 * callable from any thread, also inside callbacks. Returns 0; -EPIPE when the connection
 * is closed or closing; -ENOBUFS when the bytes queued and not yet written (this message
 * included, each counted with WS_MSG_COST so floods of tiny messages are bounded too)
 * would exceed WS_QUEUE_MAX: the message is dropped and the caller decides, typically
 * ws_close(c, 1008, "too slow"); -EINVAL for text that is not UTF-8. */
int ws_send_text(ws_conn *c, const char *msg, size_t len);

/* Starts the closing handshake with code and reason (cut to WS_CLOSE_REASON_MAX bytes at
 * a character boundary; NULL for none). Codes a server may not send (outside 1000-1003,
 * 1007-1011, 3000-4999) become 1011. Thread-safe and idempotent: only the first call
 * counts, and none once the connection is closing anyway. Messages queued before it go
 * out first as far as the socket takes them right away; the close frame then overtakes
 * the rest (dropped), so a slow client still gets it. The socket closes when the client
 * answers or after a short grace (2 s). A close after a send to c was refused with
 * -ENOBUFS counts (and is logged at warn) as a slow consumer in ws_stats, whatever the
 * code (typically 1008). */
void ws_close(ws_conn *c, uint16_t code, const char *reason);

/* Bytes queued and not yet written to the socket: messages waiting for the I/O thread and
 * those inside wslay (a message counts whole, plus WS_MSG_COST, until its last byte is
 * written). Always at most WS_QUEUE_MAX plus the pings, pongs and close frames of the
 * protocol itself. */
size_t ws_pending(const ws_conn *c);

/* References for holders outside the callbacks: a connection is alive until on_close has
 * returned and every reference is dropped; sending after on_close gives -EPIPE. */
void ws_conn_ref(ws_conn *c);
void ws_conn_unref(ws_conn *c);

/* The client's address and the id of the upgrade request (for logs); constant strings
 * that live as long as c. */
const char *ws_conn_ip(const ws_conn *c);
const char *ws_conn_request_id(const ws_conn *c);

/* Counters for metrics, process-wide: connections open now, opened in total, closed as
 * slow consumers (ws_close after an -ENOBUFS), text messages received and accepted for
 * sending, bytes written to sockets (framing included). */
typedef struct ws_stats {
    uint64_t open, opened, closed_slow, msgs_in, msgs_out, bytes_out;
} ws_stats;
void ws_stats_get(ws_stats *out);


/* The upgrade request's fields (NULL when absent) and what they allow. Returns 0 when the
 * request is a valid WebSocket upgrade; -EPROTONOSUPPORT for a Sec-WebSocket-Version other
 * than 13 (answer 426); -EINVAL for anything else wrong. why (may be NULL) gets a sentence
 * for the client, "" on success. Pure; http_respond_websocket and the fuzz target use it. */
typedef struct ws_upgrade_req {
    const char *method, *version, *upgrade, *connection, *ws_version, *key;
} ws_upgrade_req;
int ws_upgrade_check(const ws_upgrade_req *r, const char **why);

/* For tests: the ping interval and the idle timeout of every connection, from the I/O
 * thread's next tick (0 restores the defaults above). */
void ws_timing_set(int ping_interval_ms, int idle_timeout_ms);

#endif
