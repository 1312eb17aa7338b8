/* The two pieces of the WebSocket opening handshake (RFC 6455 §4) that the server
 * (src/http/ws_handshake.c) and the client (src/cli/wsclient.c) both need: the
 * Sec-WebSocket-Accept value, and finding a token in a comma-separated header list. */
#ifndef CLOUDYA_WSKEY_H
#define CLOUDYA_WSKEY_H
#include <stddef.h>

#define WS_ACCEPT_LEN 28 /* base64 of a SHA-1, without the NUL */

/* Computes Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2) into out (at
 * least WS_ACCEPT_LEN + 1 bytes). Returns 0, -ENOSPC when out is too small, or -EINVAL
 * for a key longer than 256 bytes (-EIO if the digest fails). */
int ws_accept_compute(const char *key, char *out, size_t cap);

/* 1 when the comma-separated header list holds tok (case-insensitive, spaces and tabs
 * around the elements ignored), else 0: "keep-alive, Upgrade" holds "upgrade". */
int http_list_has(const char *list, const char *tok);

#endif
