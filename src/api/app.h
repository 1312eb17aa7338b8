/* The daemon's shared state, handed to every handler through http_req_app(). */
#ifndef CLOUDYA_APP_H
#define CLOUDYA_APP_H
#include "assistant.h"
#include "catalog.h"
#include "config.h"
#include "docker.h"
#include "ratelimit.h"
#include "static_files.h"
#include "store.h"

#include <stdint.h>

#define APP_VERSION "0.1.0"
#define APP_JWT_KEY_MAX 512

typedef struct app {
    config cfg;
    store *st;
    docker *engine;
    unsigned char jwt_key[APP_JWT_KEY_MAX];
    size_t jwt_key_len;
    ratelimit *login_by_email;
    ratelimit *login_by_ip;
    catalog *catalog;                   /* the service types clients may create */
    char instance_id[STORE_ID_MAX];     /* labels this platform's containers on the Engine */
    char daemon_id[STORE_ID_MAX];       /* this daemon among those sharing the database:
                                         * stable across restarts (host, port, data dir) */
    static_files *web;                  /* the dashboard, or NULL when it is not built */
    assistant *assistant;               /* knowledge base, validator, optional provider */
} app;

#endif
