/* Private between http_server.c and websocket.c: what the WebSocket machinery needs from the
 * request life cycle and what the server needs from the WebSocket hub. Nothing outside
 * src/http includes this. */
#ifndef CLOUDYA_HTTP_INTERNAL_H
#define CLOUDYA_HTTP_INTERNAL_H
#include "http_server.h"
#include "websocket.h"

#include <stddef.h>

struct MHD_UpgradeResponseHandle;

/* One per server: the I/O thread (started with the first WebSocket) and its connections. */
typedef struct ws_hub ws_hub;

/* --- provided by http_server.c ------------------------------------------------------- */

/* The request's HTTP version as MHD saw it ("HTTP/1.1"). */
const char *http_req_version(const http_req *q);

/* The hub of q's server. */
ws_hub *http_req_ws_hub(const http_req *q);

/* Makes q's answer a 101 that hands the connection to c once sent; the request owns c's
 * first reference until then (a later http_respond() or the request ending without the
 * switch cancels c). */
void http_req_set_upgrade(http_req *q, ws_conn *c);

/* --- provided by websocket.c --------------------------------------------------------- */

/* Allocates a hub; no thread, no descriptors yet. Never NULL. */
ws_hub *ws_hub_new(void);

/* Server shutdown, step one: from now on new WebSockets close at once; open ones get
 * 1001 "server stopping" and have grace_ms to answer before their sockets close.
 * Returns at once. */
void ws_hub_stop_begin(ws_hub *h, int grace_ms);

/* Step two: waits until every WebSocket has closed (its on_close returned) and joins the
 * I/O thread. Must come before MHD_stop_daemon. */
void ws_hub_stop_wait(ws_hub *h);

/* Frees the hub after MHD has stopped. NULL is fine. */
void ws_hub_free(ws_hub *h);

/* The upgrade is done (MHD's upgrade handler, on an event thread): c takes over sock, the
 * extra bytes MHD read past the headers (copied) and urh, which it closes when done. */
void ws_conn_adopt(ws_hub *h, ws_conn *c, int sock, const char *extra, size_t extra_len,
                   struct MHD_UpgradeResponseHandle *urh);

/* The switch will not happen (the answer was replaced, or the request ended first): runs
 * on_close and drops the request's reference. */
void ws_conn_cancel(ws_conn *c);

#endif
