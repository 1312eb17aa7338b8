/* The HTTP API: one file per resource, one route table (routes.c). */
#ifndef CLOUDYA_API_H
#define CLOUDYA_API_H
#include "http_server.h"
#include "router.h"

/* Registers every endpoint on r. Returns 0 or a negative errno (a programming error). */
int api_routes(router *r);

void api_auth_register(http_req *q);
void api_auth_login(http_req *q);
void api_auth_logout(http_req *q);
void api_auth_me(http_req *q);
void api_health(http_req *q);
void api_catalog(http_req *q);
void api_containers_list(http_req *q);
void api_containers_create(http_req *q);
void api_containers_get(http_req *q);
void api_containers_start(http_req *q);
void api_containers_stop(http_req *q);
void api_containers_restart(http_req *q);
void api_containers_delete(http_req *q);
void api_containers_logs(http_req *q);
void api_admin_unrecorded(http_req *q);

/* Waits up to timeout_ms for log followers to notice their streams closed. */
void api_containers_shutdown(int timeout_ms);

#endif
