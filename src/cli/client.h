/* The HTTP client of `cloudya`: every call to cloudyad goes through here (libcurl). It
 * turns the daemon's {error, code} answers and transport failures into one clear sentence
 * that says what to do, and with CLOUDYA_DEBUG=1 prints each exchange on standard error
 * with tokens and passwords masked. */
#ifndef CLOUDYA_CLI_CLIENT_H
#define CLOUDYA_CLI_CLIENT_H
#include <jansson.h>
#include <stddef.h>

#include "cli.h"

#define CLIENT_BODY_MAX (16u << 20) /* the largest answer read, 16 MiB */

struct api_resp {
    long status;       /* HTTP status; 0 when no answer came */
    json_t *body;      /* the parsed JSON answer, or NULL (empty or not JSON) */
    char *raw;         /* the bytes of the answer, NUL-terminated; never NULL after a call */
    size_t raw_len;
    char retry_after[16]; /* the Retry-After header, or "" */
    char err[512];     /* the transport failure, said for a user, when status is 0 */
};

/* Sends method path (with body as JSON when not NULL; with the token when auth) to the
 * daemon at ctx->api_url and waits for the whole answer (timeout_s seconds, 0 = 60).
 * Returns 0 when an answer came (any status), or -1 when the daemon could not be reached
 * (r->err then names the URL and says what to check). Free r with api_resp_free either way. */
int api_call(struct cli_ctx *ctx, const char *method, const char *path, json_t *body, int auth,
             int timeout_s, struct api_resp *r);
void api_resp_free(struct api_resp *r);

/* Prints the failure of r for a user ("not logged in: run `cloudya login`", the server's
 * own sentence for the rest, the transport error when no answer came) on standard error.
 * what names the object for not_found ("container \"site\""), or NULL. Returns 1. */
int api_fail(struct cli_ctx *ctx, const struct api_resp *r, const char *what);

/* Streams GET path (text/plain lines, e.g. logs?follow=1) to on_line until the daemon
 * ends the answer, on_line returns non-zero, or SIGINT. Returns 0 when the stream ended
 * normally or was stopped, 1 after printing the failure (a non-200 answer or a transport
 * error; what is as for api_fail). */
int api_stream_lines(struct cli_ctx *ctx, const char *path, const char *what,
                     int (*on_line)(void *arg, const char *line, size_t len), void *arg);

/* Percent-encodes s for a URL path segment or query value into out. Returns 0 or
 * -ENOSPC. */
int url_escape(const char *s, char *out, size_t cap);

/* Masks secrets in a JSON text or header line for the debug output: the values of
 * "password", "token", "access_token", "ticket" and of Authorization headers become
 * "***". Returns a new string the caller frees. */
char *client_mask_secrets(const char *text, size_t len);

#endif
