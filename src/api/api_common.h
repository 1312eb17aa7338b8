/* Helpers shared by the handler files of one resource family. */
#ifndef CLOUDYA_API_COMMON_H
#define CLOUDYA_API_COMMON_H
#include "authn.h"
#include "containers.h"
#include "http_server.h"

/* Authenticates q and resolves its :id to a container of the caller's tenant (any for an
 * admin). Returns 0, or a negative errno after answering the error itself (401, 404, 503). */
int api_container_target(http_req *q, caller *c, store_container *ct);

/* Answers a plat_err (with Retry-After on a 503). */
void api_answer_err(http_req *q, const plat_err *e);

/* The caller as a container actor. */
void api_actor_of(const caller *c, container_actor *a);

#endif
