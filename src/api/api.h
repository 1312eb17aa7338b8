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

#endif
