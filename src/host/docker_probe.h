/* Is the Docker Engine there and how much disk does it hold: what the docker and docker_disk
 * checks of `cloudya diagnose system` ask the Engine over its unix socket with libcurl
 * (GET /_ping, /version, /info, /system/df). Every call has its own time limit and every
 * answer a size limit; the JSON parsers are exported for the tests. */
#ifndef CLOUDYA_HOST_DOCKER_PROBE_H
#define CLOUDYA_HOST_DOCKER_PROBE_H
#include <stddef.h>
#include <stdint.h>

#define DOCKER_PROBE_SOCKET_DEFAULT "/var/run/docker.sock"
#define DOCKER_PROBE_PATH_MAX 512
#define DOCKER_PROBE_TEXT_MAX 256           /* an error sentence */
#define DOCKER_PROBE_ANSWER_MAX (16u << 20) /* bytes of one answer (/system/df is the big one) */
#define DOCKER_PROBE_CALL_MIN_MS 500L       /* a call is never given less than this */

/* One line of `docker system df`: how much, and how much nothing uses. */
struct docker_usage {
    uint64_t size, reclaimable;
    long long count, active; /* items, and those in use */
};

struct docker_probe {
    char socket[DOCKER_PROBE_PATH_MAX];
    int socket_present;                /* the socket file exists */
    int reachable;                     /* GET /_ping answered 200 */
    char error[DOCKER_PROBE_TEXT_MAX]; /* why it is not reachable, "" when it is */
    /* /version */
    int version_ok;
    char version[64], api_version[16], os_arch[64];
    /* /info */
    int info_ok;
    char root_dir[DOCKER_PROBE_PATH_MAX]; /* DockerRootDir, "" when unknown */
    char driver[64];
    long long containers, running, paused, stopped, images;
    /* /system/df */
    int df_ok;
    char df_error[DOCKER_PROBE_TEXT_MAX];
    struct docker_usage img, ctr, vol, cache;
};

/* The socket path DOCKER_HOST names (docker_host may be NULL or "": the default socket).
 * Returns 0 with the path in out; -EPROTONOSUPPORT when DOCKER_HOST is not unix://
 * (tcp://, ssh://: not probed), -ENAMETOOLONG when the path does not fit. */
int docker_probe_socket(const char *docker_host, char *out, size_t cap);

/* Asks the Engine at socket: /_ping within ping_ms (connect included), then /version and
 * /info within call_ms each, then /system/df within df_ms (0 skips it), and all of it within
 * budget_ms (each call gets at most what is left of it; at least DOCKER_PROBE_CALL_MIN_MS).
 * Fills *p (zeroed first); a failure is described in p->error or p->df_error, never
 * returned. Returns 0, or -ENOMEM when libcurl cannot be set up. */
int docker_probe_run(const char *socket, long ping_ms, long call_ms, long df_ms, long budget_ms,
                     struct docker_probe *p);

/* Parse the JSON answers of the Engine (len bytes of text) into p. Each returns 0, or
 * -EINVAL when the text is not a JSON object (p keeps what it had). Fields that are missing
 * or of another type stay zero; negative sizes (the Engine's "unknown") count as 0. */

/* /version: Version, ApiVersion, Os/Arch; sets version_ok. */
int docker_probe_parse_version(const char *text, size_t len, struct docker_probe *p);

/* /info: DockerRootDir, Driver, the container counts, Images (ServerVersion when /version
 * gave none); sets info_ok. */
int docker_probe_parse_info(const char *text, size_t len, struct docker_probe *p);

/* /system/df: sizes and reclaimable space as the docker CLI counts them: images not used by
 * a container (LayersSize minus what used images hold alone), the writable layers of
 * containers that are not running, volumes no container refers to, build cache neither in
 * use nor shared; sets df_ok. */
int docker_probe_parse_df(const char *text, size_t len, struct docker_probe *p);

#endif
