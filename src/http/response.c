#define _POSIX_C_SOURCE 200809L
#include "response.h"

#include "json.h"
#include "str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Serializes and hands the bytes to the server, which frees them after sending. */
void http_json(http_req *q, int status, json_t *v)
{
    size_t len;
    char *body = json_dump_response(v, &len);
    json_decref(v);
    http_respond(q, status, "application/json; charset=utf-8", body, len);
}

/* The single place error bodies are made, so their shape cannot drift. */
void http_error(http_req *q, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* A sentence may quote the request (jansson's parse errors do) or be cut mid-character
     * by the buffer: JSON strings must be UTF-8, so anything else becomes '?' rather than an
     * answer without its error. */
    str_utf8_repair(msg, strlen(msg));
    http_json(q, status, json_pack("{s:s, s:s}", "error", msg, "code", code));
}

/* For answers that carry no body (logout). */
void http_no_content(http_req *q)
{
    http_respond(q, 204, NULL, NULL, 0);
}
