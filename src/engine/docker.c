#define _POSIX_C_SOURCE 200809L
#include "docker.h"

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct docker {
    char socket_path[PATH_MAX];
};

struct sink {
    char buf[64];
    size_t len;
};

docker *docker_new(const char *socket_path)
{
    docker *d = xcalloc(1, sizeof(*d));
    str_copy(d->socket_path, sizeof(d->socket_path), socket_path);
    return d;
}

void docker_free(docker *d)
{
    free(d);
}

/* Keeps the first bytes of a small answer; the rest is dropped. */
static size_t small_sink(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;
    size_t room = sizeof(s->buf) - 1 - s->len;
    size_t take = n < room ? n : room;
    memcpy(s->buf + s->len, ptr, take);
    s->len += take;
    s->buf[s->len] = '\0';
    return n;
}

static int curl_to_errno(CURLcode c)
{
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return -ECONNREFUSED;
    default:
        return -EIO;
    }
}

/* The liveness check that /api/health reports. */
int docker_ping(docker *d, long timeout_ms)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        return -ENOMEM;
    struct sink s = {{0}, 0};
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, d->socket_path);
    curl_easy_setopt(c, CURLOPT_URL, "http://docker/_ping");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, small_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        log_debug("Engine ping on %s failed: %s", d->socket_path, curl_easy_strerror(rc));
        return curl_to_errno(rc);
    }
    if (status != 200 || strncmp(s.buf, "OK", 2) != 0) {
        log_debug("Engine ping on %s answered %ld", d->socket_path, status);
        return -EIO;
    }
    return 0;
}
