/* The Docker Engine API client, over the unix socket (DOCKER_SOCKET) with libcurl.
 * Works with Docker 20.10+ and Podman's Docker-compatible socket. */
#ifndef CLOUDYA_DOCKER_H
#define CLOUDYA_DOCKER_H

typedef struct docker docker;

/* A client for the Engine behind socket_path. Cheap: nothing is connected yet. */
docker *docker_new(const char *socket_path);
void docker_free(docker *d);

/* GET /_ping with a short timeout. Returns 0 when the Engine answers "OK", -ETIMEDOUT,
 * -ECONNREFUSED (socket missing or nobody listening) or -EIO otherwise. */
int docker_ping(docker *d, long timeout_ms);

#endif
