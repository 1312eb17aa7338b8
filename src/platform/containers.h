/* The containers service: what the API's container routes do, in platform terms. It owns
 * the rules the seed asks for and the request never decides: quota checks, labels, the
 * tenant's own network, the hardened host settings, and the write-ahead record that makes
 * a crash at any moment recoverable (see reconcile.h).
 *
 * Every function returns 0 or a negative errno and, on failure, fills a plat_err with the
 * API status, code and a sentence, so handlers only translate it. */
#ifndef CLOUDYA_CONTAINERS_H
#define CLOUDYA_CONTAINERS_H
#include "app.h"
#include "store.h"

#include <jansson.h>
#include <stddef.h>

#define CONTAINER_ENV_MAX 32          /* variables a request may add */
#define CONTAINER_ENV_VALUE_MAX 4096  /* bytes per value */
#define CONTAINER_TTL_MIN 60          /* seconds */
#define CONTAINER_TTL_MAX (30 * 86400)
#define CONTAINER_LOG_TAIL_MAX 10000
#define CONTAINER_LOG_BYTES_MAX (8 * 1024 * 1024) /* a non-follow logs answer stops here */
#define CONTAINER_PASSWORD_LEN 32

typedef struct plat_err {
    int status;       /* the HTTP status the API answers */
    const char *code; /* the API error code */
    char msg[512];
} plat_err;

/* Who asks: the tenant and whether the caller is an admin. */
typedef struct container_actor {
    const char *user_id;
    const char *client_id;
    int admin;
} container_actor;

typedef struct container_create_req {
    const char *service_type;
    const char *name;
    json_t *env;   /* object of strings, or NULL */
    int64_t ttl_s; /* 0 = no expiry */
} container_create_req;

/* Parses the create request body {serviceType, name, env?, ttl?} (limits and shapes; the
 * catalog and quota are checked by containers_create). Strings point into body. Returns 0, or
 * -EINVAL with e = 400 naming the field. */
int containers_parse_create(json_t *body, container_create_req *r, plat_err *e);

/* Creates and starts a container for actor's tenant. On success out is the record (state
 * "running") and password holds the generated password for services that have one ("" for
 * the others): it is shown once and never stored. */
int containers_create(app *a, const container_actor *actor, const container_create_req *r,
                      store_container *out, char password[CONTAINER_PASSWORD_LEN + 1],
                      plat_err *e);

/* Finds the container ref names (full Docker id, 12+ hex prefix, or name in the actor's
 * tenant). A client only ever finds its own tenant's; an admin finds every container this
 * platform created, never another. Not found and not yours are the same 404. */
int containers_resolve(app *a, const container_actor *actor, const char *ref,
                       store_container *out, plat_err *e);

enum container_action { CONTAINER_START, CONTAINER_STOP, CONTAINER_RESTART };

/* Starts, stops or restarts c on the Engine and records the new state into c. */
int containers_act(app *a, store_container *c, enum container_action act, plat_err *e);

/* Re-reads c's published host port from the Engine (it changes on every start) and updates
 * the record's port and URL when it moved. */
int containers_refresh_port(app *a, store_container *c);

/* Removes c from the Engine (with its data volume) and deletes the record. */
int containers_delete(app *a, store_container *c, plat_err *e);

typedef struct container_logs_req {
    int tail;          /* lines from the end; -1 = all */
    int64_t since;     /* unix seconds; 0 = from the start */
    int timestamps;
    int follow;
} container_logs_req;

/* Reads ?tail=&since=&timestamps=&follow= (NULL = absent). Returns 0 or -EINVAL (400). */
int containers_parse_logs(const char *tail, const char *since, const char *timestamps,
                          const char *follow, container_logs_req *r, plat_err *e);

/* Called per log line; non-zero stops the stream. */
typedef int (*container_line_fn)(void *ctx, int stream, const char *line, size_t len);
/* Asked about once a second while a follow stream is idle; non-zero stops it. */
typedef int (*container_stop_fn)(void *ctx);

/* Streams c's log lines to fn (stdout and stderr demultiplexed). Returns when the Engine ends
 * the stream (or, following, when stop says so). */
int containers_logs(app *a, const store_container *c, const container_logs_req *r,
                    container_line_fn fn, container_stop_fn stop, void *ctx, plat_err *e);

/* The list shape: {id, name, serviceType, image, status, url, hostPort, clientId, createdAt,
 * expiresAt}; detailed adds {limits: {memoryMb, cpus, pidsLimit}, ports: [...]}. */
json_t *containers_json(const app *a, const store_container *c, int detailed);

/* Maps an Engine error (rc, the Engine's sentence) into e. */
void containers_engine_err(plat_err *e, int rc, const char *what, const char *engine_msg);

/* The in-flight registry: rows a request is working on right now, which the reconciler must
 * leave alone. */
void containers_busy_add(const char *id);
void containers_busy_del(const char *id);
int containers_busy(const char *id);

/* Docker-side names derived from a record. */
void containers_docker_name(const store_container *c, char *out, size_t cap);
void containers_volume_name(const store_container *c, char *out, size_t cap);
void containers_network_name(const app *a, const char *client_id, char *out, size_t cap);

#endif
