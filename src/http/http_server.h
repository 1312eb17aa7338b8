/* The seam between Cloudya and its HTTP library (libmicrohttpd). Nothing above src/http
 * includes microhttpd.h: handlers see an http_req, read the request through accessors and
 * answer with http_respond(). Routes flagged ROUTE_SLOW run on a worker pool while their
 * connection is suspended, so a slow Argon2id hash or Engine call never stalls the event
 * threads. */
#ifndef CLOUDYA_HTTP_SERVER_H
#define CLOUDYA_HTTP_SERVER_H
#include "router.h"

#include <stddef.h>
#include <stdint.h>

#define HTTP_BODY_MAX_DEFAULT (1024 * 1024)
#define HTTP_REQUEST_ID_MAX 64
#define HTTP_MAX_RESP_HEADERS 12

typedef struct http_server http_server;

typedef struct http_server_opts {
    const char *host;          /* bind address, numeric or a name */
    int port;
    unsigned threads;          /* event threads (MHD thread pool) */
    unsigned workers;          /* worker threads for ROUTE_SLOW routes */
    unsigned max_connections;
    unsigned max_per_ip;
    unsigned timeout_s;        /* idle connection timeout */
    size_t body_max;           /* larger bodies get 413 */
    void *app;                 /* handed to handlers through http_req_app() */
    /* Called once per answer as it is queued (any thread): the matched route's pattern
     * ("" when no route matched), the status and the time since the request arrived. For
     * the daemon's own metrics; may be NULL. Must be quick and must not block. */
    void (*observe)(void *app, const char *method, const char *route, int status,
                    int64_t usec);
    /* Answers a GET or HEAD that no route matches (the dashboard's files); NULL: 404. Runs
     * on the event thread, so it must not block. */
    route_fn fallback;
} http_server_opts;

/* Binds and starts serving r. Returns 0, or a negative errno with a sentence in err. */
int http_server_start(const http_server_opts *o, const router *r, http_server **out, char *err,
                      size_t errlen);

/* Stops accepting new connections, waits up to timeout_ms for requests in flight to be
 * answered, then closes everything. Returns the number of requests still in flight when
 * it gave up (0 on a clean drain). */
int http_server_shutdown(http_server *s, int timeout_ms);

/* Request accessors. Strings live as long as the request. */
const char *http_req_method(const http_req *q);
const char *http_req_path(const http_req *q);
const char *http_req_param(const http_req *q, const char *name); /* route ":name" */
const char *http_req_header(const http_req *q, const char *name); /* case-insensitive */
const char *http_req_query(const http_req *q, const char *name);
const char *http_req_body(const http_req *q, size_t *len);
const char *http_req_ip(const http_req *q);
const char *http_req_id(const http_req *q);
void *http_req_app(const http_req *q);

/* A per-request slot for the layer above (the authenticated caller, for instance). */
void http_req_set_user(http_req *q, void *user);
void *http_req_user(const http_req *q);

/* Adds a response header (copied); up to HTTP_MAX_RESP_HEADERS per response. */
void http_resp_header(http_req *q, const char *name, const char *value);

/* Sets the response. body (len bytes) is malloc'ed memory the server takes ownership of
 * and frees, or NULL. content_type may be NULL when there is no body. A second call
 * replaces the first. */
void http_respond(http_req *q, int status, const char *content_type, char *body, size_t len);

/* --- streamed responses --------------------------------------------------------------
 * For answers that grow while the client waits (logs with ?follow=1): the handler calls
 * http_respond_stream(), the response goes out with chunked encoding, and a producer (any
 * thread) writes to the stream until it closes it or the client goes away. The stream is
 * reference-counted between the server and the producer; both must let go.
 *
 * Rules for callers:
 *   - http_respond_stream() only inside the route handler (event thread or worker), once;
 *     the answer starts going out when the handler returns, so a handler must not wait
 *     for the client (write from another thread, or write a little and end);
 *   - the producer never touches the http_req: it is freed when the request ends, which
 *     can be long before the producer stops; copy what it needs in the handler;
 *   - write/closed may be called from any thread, also concurrently (each write is queued
 *     whole, in lock order); http_stream_end exactly once, after the last write, also when
 *     the stream is already closed; the handle is dead afterwards;
 *   - the handle outlives the server: after http_server_shutdown() writes say -EPIPE and
 *     closed says 1, and end is still required;
 *   - a client that leaves is noticed only when bytes are sent to it (the connection is
 *     suspended while there is nothing to send), so a quiet producer learns of it on its
 *     next non-empty write; until then the connection holds its slot;
 *   - a stream keeps its request in flight: shutdown ends open streams first (closed
 *     becomes 1), then drains them like other answers. */
typedef struct http_stream http_stream;

#define HTTP_STREAM_BUFFER_MAX (256 * 1024) /* pending bytes for a slow reader */

/* Makes q's answer a stream with status and content_type (a literal). Returns the producer's
 * handle (never NULL). Call it at most once per request, from the handler. */
http_stream *http_respond_stream(http_req *q, int status, const char *content_type);

/* Queues len bytes for the client. Returns 0; -EPIPE when the client has gone away (the
 * producer should stop); -ENOBUFS when more than HTTP_STREAM_BUFFER_MAX bytes are pending
 * (the data is dropped, the stream stays open; a slow reader loses lines, it never makes the
 * server grow). Thread-safe. */
int http_stream_write(http_stream *s, const char *data, size_t len);

/* 1 once the client has gone away (or the server is stopping). Thread-safe. */
int http_stream_closed(const http_stream *s);

/* Ends the stream (after pending bytes are sent) and releases the producer's reference; s
 * must not be used afterwards. */
void http_stream_end(http_stream *s);

#endif
