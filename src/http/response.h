/* JSON answers in the shape of the API contract: every error is
 * {"error": "<sentence>", "code": "<machine_code>"}. */
#ifndef CLOUDYA_RESPONSE_H
#define CLOUDYA_RESPONSE_H
#include "http_server.h"

#include <jansson.h>

/* Answers status with v serialized (steals the reference to v). */
void http_json(http_req *q, int status, json_t *v);

/* Answers status with an error body. */
void http_error(http_req *q, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* 204 with no body. */
void http_no_content(http_req *q);

#endif
