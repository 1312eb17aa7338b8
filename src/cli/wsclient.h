/* A WebSocket client for the daemon's live channel (GET /api/ws), for `cloudya top`.
 * libcurl makes the connection (http or https, the same proxy and TLS settings as every
 * other call, CURLOPT_CONNECT_ONLY), the upgrade request is written by hand with the token
 * in the Authorization header, its Sec-WebSocket-Accept is checked, and wslay does the
 * RFC 6455 framing (masked client frames, ping answers, close handshake). */
#ifndef CLOUDYA_CLI_WSCLIENT_H
#define CLOUDYA_CLI_WSCLIENT_H
#include <stddef.h>

#define WSC_MSG_MAX (1u << 20) /* the largest message accepted from the server */

struct wsc;

/* Connects to base_url (the daemon's http[s]://host:port, with or without a trailing '/')
 * + path, sending "Authorization: Bearer token" when token is not empty. Waits at most
 * timeout_ms for the connection and the 101 answer. Returns the connection, or NULL with a
 * sentence in err (the HTTP status and the daemon's error for a refused upgrade). */
struct wsc *wsc_connect(const char *base_url, const char *path, const char *token,
                        int timeout_ms, char *err, size_t errlen);
/* Queues a text message and writes what the socket takes now. Returns 0 or -EPIPE. */
int wsc_send_text(struct wsc *w, const char *text, size_t len);
/* Waits up to timeout_ms (0: do not wait) for the next text message from the server.
 * Returns 1 with *msg (malloc'ed, NUL-terminated, the caller frees) and *len, 0 when none
 * came in time, -EPIPE when the connection closed or failed (wsc_error says why). */
int wsc_recv(struct wsc *w, int timeout_ms, char **msg, size_t *len);
/* Why the connection ended: the close code and reason, or the socket error. */
const char *wsc_error(const struct wsc *w);
/* Sends a close frame (best effort) and frees everything. NULL is fine. */
void wsc_close(struct wsc *w);

#endif
