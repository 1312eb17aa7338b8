/* The Docker Engine's health and disk usage over its unix socket (docker_probe.h). */
#define _GNU_SOURCE
#include "docker_probe.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "str.h"

#define CONNECT_MS_MAX 5000L /* connecting to a local socket never needs longer */

int docker_probe_socket(const char *docker_host, char *out, size_t cap)
{
    const char *path = DOCKER_PROBE_SOCKET_DEFAULT;
    if (docker_host != NULL && docker_host[0] != '\0') {
        if (strncmp(docker_host, "unix://", 7) != 0) return -EPROTONOSUPPORT;
        path = docker_host + 7;
        if (path[0] == '\0') path = DOCKER_PROBE_SOCKET_DEFAULT;
    }
    if (str_copy(out, cap, path) != 0) return -ENAMETOOLONG;
    return 0;
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    buf *b = userdata;
    size_t n = size * nmemb;
    return buf_append(b, ptr, n) == 0 ? n : 0; /* past the limit: the transfer stops */
}

/* GET path from the Engine within timeout_ms. Returns 0 with the answer in b (status 200),
 * else a negative errno with a sentence in err. */
static int get(CURL *c, const char *socket, const char *path, long timeout_ms, buf *b, char *err,
               size_t errlen)
{
    char url[256];
    snprintf(url, sizeof(url), "http://docker%s", path);
    buf_reset(b);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < CONNECT_MS_MAX ? timeout_ms : CONNECT_MS_MAX);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        long os = 0;
        curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os);
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            str_fmt(err, errlen, "no answer to GET %s within %.1f s", path,
                    (double)timeout_ms / 1000.0);
            return -ETIMEDOUT;
        }
        if (rc == CURLE_WRITE_ERROR && b->failed) {
            str_fmt(err, errlen, "the answer to GET %s is larger than %u MiB", path,
                    DOCKER_PROBE_ANSWER_MAX >> 20);
            return -EFBIG;
        }
        if (os != 0) {
            str_fmt(err, errlen, "cannot connect to %s: %s", socket, strerror((int)os));
            return -(int)os;
        }
        str_fmt(err, errlen, "GET %s failed: %s", path, curl_easy_strerror(rc));
        return -EIO;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        str_fmt(err, errlen, "GET %s answered HTTP %ld", path, status);
        return -EPROTO;
    }
    return 0;
}

static json_t *load(const char *text, size_t len)
{
    json_t *j = json_loadb(text, len, 0, NULL);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static void get_text(json_t *o, const char *key, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s != NULL) {
        str_copy(out, cap, s);
        str_utf8_repair(out, strlen(out));
    }
}

static long long get_int(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* A size field: a non-negative integer, else 0 (the Engine says -1 for "not computed"). */
static uint64_t get_size(json_t *o, const char *key)
{
    long long v = get_int(o, key);
    return v > 0 ? (uint64_t)v : 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int docker_probe_parse_version(const char *text, size_t len, struct docker_probe *p)
{
    json_t *j = load(text, len);
    if (j == NULL) return -EINVAL;
    get_text(j, "Version", p->version, sizeof(p->version));
    get_text(j, "ApiVersion", p->api_version, sizeof(p->api_version));
    char os[32] = "", arch[32] = "";
    get_text(j, "Os", os, sizeof(os));
    get_text(j, "Arch", arch, sizeof(arch));
    if (os[0] || arch[0]) snprintf(p->os_arch, sizeof(p->os_arch), "%s/%s", os, arch);
    p->version_ok = 1;
    json_decref(j);
    return 0;
}

int docker_probe_parse_info(const char *text, size_t len, struct docker_probe *p)
{
    json_t *j = load(text, len);
    if (j == NULL) return -EINVAL;
    get_text(j, "DockerRootDir", p->root_dir, sizeof(p->root_dir));
    get_text(j, "Driver", p->driver, sizeof(p->driver));
    p->containers = get_int(j, "Containers");
    p->running = get_int(j, "ContainersRunning");
    p->paused = get_int(j, "ContainersPaused");
    p->stopped = get_int(j, "ContainersStopped");
    p->images = get_int(j, "Images");
    if (p->version[0] == '\0') get_text(j, "ServerVersion", p->version, sizeof(p->version));
    p->info_ok = 1;
    json_decref(j);
    return 0;
}

int docker_probe_parse_df(const char *text, size_t len, struct docker_probe *p)
{
    json_t *j = load(text, len);
    if (j == NULL) return -EINVAL;
    size_t i;
    json_t *it;
    memset(&p->img, 0, sizeof(p->img));
    memset(&p->ctr, 0, sizeof(p->ctr));
    memset(&p->vol, 0, sizeof(p->vol));
    memset(&p->cache, 0, sizeof(p->cache));
    /* images: what used images hold alone is not reclaimable */
    uint64_t used = 0, sum = 0;
    json_array_foreach(json_object_get(j, "Images"), i, it)
    {
        uint64_t size = get_size(it, "Size"), shared = get_size(it, "SharedSize");
        sum = sat_add(sum, size > shared ? size - shared : 0);
        p->img.count++;
        if (get_int(it, "Containers") > 0) {
            p->img.active++;
            used = sat_add(used, size > shared ? size - shared : 0);
        }
    }
    p->img.size = get_size(j, "LayersSize");
    if (p->img.size == 0) p->img.size = sum;
    p->img.reclaimable = p->img.size > used ? p->img.size - used : 0;
    json_array_foreach(json_object_get(j, "Containers"), i, it)
    {
        uint64_t rw = get_size(it, "SizeRw");
        const char *state = json_string_value(json_object_get(it, "State"));
        int running =
            state != NULL && (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0 ||
                              strcmp(state, "restarting") == 0);
        p->ctr.count++;
        p->ctr.size = sat_add(p->ctr.size, rw);
        if (running)
            p->ctr.active++;
        else
            p->ctr.reclaimable = sat_add(p->ctr.reclaimable, rw);
    }
    json_array_foreach(json_object_get(j, "Volumes"), i, it)
    {
        json_t *u = json_object_get(it, "UsageData");
        uint64_t size = get_size(u, "Size");
        p->vol.count++;
        p->vol.size = sat_add(p->vol.size, size);
        if (get_int(u, "RefCount") > 0)
            p->vol.active++;
        else
            p->vol.reclaimable = sat_add(p->vol.reclaimable, size);
    }
    json_array_foreach(json_object_get(j, "BuildCache"), i, it)
    {
        uint64_t size = get_size(it, "Size");
        int shared = json_is_true(json_object_get(it, "Shared"));
        int in_use = json_is_true(json_object_get(it, "InUse"));
        p->cache.count++;
        if (in_use) p->cache.active++;
        if (!shared) p->cache.size = sat_add(p->cache.size, size);
        if (!shared && !in_use) p->cache.reclaimable = sat_add(p->cache.reclaimable, size);
    }
    p->df_ok = 1;
    json_decref(j);
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* want, or less when the budget ending at deadline has less left. */
static long within(long want, long long deadline)
{
    long long left = deadline - now_ms();
    if (left < want) want = (long)left;
    return want < DOCKER_PROBE_CALL_MIN_MS ? DOCKER_PROBE_CALL_MIN_MS : want;
}

int docker_probe_run(const char *socket, long ping_ms, long call_ms, long df_ms, long budget_ms,
                     struct docker_probe *p)
{
    long long deadline = now_ms() + budget_ms;
    memset(p, 0, sizeof(*p));
    str_copy(p->socket, sizeof(p->socket), socket);
    struct stat st;
    if (stat(socket, &st) != 0) {
        int e = errno;
        str_fmt(p->error, sizeof(p->error), "%s: %s", socket, strerror(e));
        return 0;
    }
    p->socket_present = 1;
    if (!S_ISSOCK(st.st_mode)) {
        str_fmt(p->error, sizeof(p->error), "%s is not a socket", socket);
        return 0;
    }
    CURL *c = curl_easy_init();
    if (c == NULL) return -ENOMEM;
    buf b;
    buf_init(&b, DOCKER_PROBE_ANSWER_MAX);
    char err[DOCKER_PROBE_TEXT_MAX];
    if (get(c, socket, "/_ping", within(ping_ms, deadline), &b, p->error, sizeof(p->error)) != 0)
        goto out;
    p->reachable = 1;
    if (get(c, socket, "/version", within(call_ms, deadline), &b, err, sizeof(err)) == 0)
        docker_probe_parse_version(b.data ? b.data : "", b.len, p);
    if (get(c, socket, "/info", within(call_ms, deadline), &b, err, sizeof(err)) == 0)
        docker_probe_parse_info(b.data ? b.data : "", b.len, p);
    if (df_ms > 0) {
        if (get(c, socket, "/system/df", within(df_ms, deadline), &b, p->df_error,
                sizeof(p->df_error)) == 0 &&
            docker_probe_parse_df(b.data ? b.data : "", b.len, p) != 0)
            str_fmt(p->df_error, sizeof(p->df_error),
                    "the answer to GET /system/df is not "
                    "a JSON object");
    }
out:
    buf_free(&b);
    curl_easy_cleanup(c);
    return 0;
}
