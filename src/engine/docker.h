/* The Docker Engine API client, over the unix socket (DOCKER_SOCKET) with libcurl.
 * Works with Docker 20.10+ and Podman's Docker-compatible socket: the API version is
 * negotiated from GET /version on first use (and again after the Engine went away).
 *
 * Every function returns 0 or a negative errno, and fills err (when not NULL) with the
 * Engine's own sentence or ours:
 *   -ECONNREFUSED  nothing answers on the socket     -ETIMEDOUT  no answer in time
 *   -ENOENT        404 (no such container/image/network)
 *   -EEXIST        409 (name in use, or another conflict)
 *   -EALREADY      304 (already started / already stopped)
 *   -EINVAL        400 (the Engine refused our request)
 *   -EPROTO        an answer we cannot understand (or an Engine API older than 1.40)
 *   -EIO           500 and anything else. */
#ifndef CLOUDYA_DOCKER_H
#define CLOUDYA_DOCKER_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DOCKER_API_MAX "1.41"     /* the version we speak; older Engines get theirs */
#define DOCKER_ERR_MAX 256
#define DOCKER_ID_LEN 64
#define DOCKER_BODY_MAX (16 * 1024 * 1024) /* a larger JSON answer is an error */

typedef struct docker docker;

/* A client for the Engine behind socket_path; timeout_ms bounds every non-streaming call.
 * Cheap: nothing is connected yet. */
docker *docker_new(const char *socket_path, long timeout_ms);
void docker_free(docker *d);

/* GET /_ping with a short timeout. Returns 0 when the Engine answers "OK", -ETIMEDOUT,
 * -ECONNREFUSED (socket missing or nobody listening) or -EIO otherwise. */
int docker_ping(docker *d, long timeout_ms);

/* The negotiated API version ("1.41"), negotiating when needed. */
int docker_api_version(docker *d, char *out, size_t cap, char *err, size_t errlen);

/* One call to the versioned API: method, path (starting with '/', query included, already
 * escaped), an optional JSON body. On success *out (when out is not NULL) receives the
 * parsed JSON answer, or NULL for an empty one. */
int docker_call(docker *d, const char *method, const char *path, json_t *body, json_t **out,
                char *err, size_t errlen);

/* POST /containers/create?name=NAME with config; id receives the new container's id. */
int docker_container_create(docker *d, const char *name, json_t *config,
                            char id[DOCKER_ID_LEN + 1], char *err, size_t errlen);
int docker_container_start(docker *d, const char *id, char *err, size_t errlen);
/* Stops (SIGTERM, then SIGKILL after timeout_s). */
int docker_container_stop(docker *d, const char *id, int timeout_s, char *err, size_t errlen);
int docker_container_restart(docker *d, const char *id, int timeout_s, char *err,
                             size_t errlen);
/* Force-removes the container and, with volumes, its anonymous volumes. */
int docker_container_remove(docker *d, const char *id, int volumes, char *err, size_t errlen);
/* Waits until the container is not running (at once when it is not), up to timeout_ms
 * (not the client's timeout): -ETIMEDOUT when it still runs then (not counted in
 * docker_error_count). status (when not NULL) receives its exit status. */
int docker_container_wait(docker *d, const char *id, long timeout_ms, int *status, char *err,
                          size_t errlen);
/* GET /containers/ID/json; *out is a new reference. */
int docker_container_inspect(docker *d, const char *id, json_t **out, char *err,
                             size_t errlen);
/* GET /containers/json?all=1&filters=... with labels ("k=v" strings, ANDed); *out is a new
 * array reference. */
int docker_container_list(docker *d, const char *const *labels, size_t nlabels, json_t **out,
                          char *err, size_t errlen);

/* 0 when the image exists locally, -ENOENT when it does not. */
int docker_image_exists(docker *d, const char *image, char *err, size_t errlen);
/* Pulls image (POST /images/create), waiting up to timeout_ms. A registry failure, even one
 * reported inside a 200 progress stream, is an error with the Engine's sentence. */
int docker_image_pull(docker *d, const char *image, long timeout_ms, char *err, size_t errlen);

/* Makes sure a bridge network called name exists, with labels (an object of strings); when
 * creating it, tries the /24s of 10.<base>.0.0/16 from the start-th on (callers pass a hash
 * of the name, so that every creator of one name tries the same subnets in the same order and
 * concurrent creators, even in other processes, end up with one network). id receives the
 * network's id. */
int docker_network_ensure(docker *d, const char *name, json_t *labels, int base,
                          unsigned start, char id[DOCKER_ID_LEN + 1], char *err, size_t errlen);
int docker_network_remove(docker *d, const char *name, char *err, size_t errlen);
int docker_volume_remove(docker *d, const char *name, char *err, size_t errlen);

/* --- streams: logs and events -------------------------------------------------------- */

/* Receives raw bytes of a stream; returns 0 to go on, non-zero to stop. */
typedef int (*docker_chunk_fn)(void *ctx, const char *data, size_t len);
/* Asked about once a second while a stream is idle: non-zero stops it. */
typedef int (*docker_stop_fn)(void *ctx);

/* GET path (versioned) and hands the body to fn as it arrives, until the Engine closes it,
 * fn or stop ask to stop (returns 0 then), or timeout_ms passes (0 = no limit; returns
 * -ETIMEDOUT). An HTTP error status is mapped as for docker_call. */
int docker_stream(docker *d, const char *path, long timeout_ms, docker_chunk_fn fn,
                  docker_stop_fn stop, void *ctx, char *err, size_t errlen);

/* Calls that failed on the Engine's side (unreachable, timed out, a 5xx, an answer too
 * large) since start, for /metrics. */
uint64_t docker_error_count(void);

/* Escapes s for a query string; the result is malloc'ed. */
char *docker_escape(const char *s);

#endif
