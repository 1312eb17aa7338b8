#define _POSIX_C_SOURCE 200809L
#include "docker.h"

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 2000
#define VERSION_MAX 16
#define PULL_ERROR_MAX 512

struct docker {
    char socket_path[PATH_MAX];
    long timeout_ms;
    pthread_mutex_t mu;
    char version[VERSION_MAX]; /* "" until negotiated */
};

/* A growable answer buffer with a hard maximum. */
struct sink {
    char *buf;
    size_t len, cap, max;
    int overflow;
};

docker *docker_new(const char *socket_path, long timeout_ms)
{
    docker *d = xcalloc(1, sizeof(*d));
    str_copy(d->socket_path, sizeof(d->socket_path), socket_path);
    d->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    pthread_mutex_init(&d->mu, NULL);
    return d;
}

void docker_free(docker *d)
{
    if (d == NULL)
        return;
    pthread_mutex_destroy(&d->mu);
    free(d);
}

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;
    if (s->len + n + 1 > s->max) {
        s->overflow = 1;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->len + n + 1)
            cap *= 2;
        s->buf = xrealloc(s->buf, cap);
        s->cap = cap;
    }
    memcpy(s->buf + s->len, ptr, n);
    s->len += n;
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
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return -ECONNREFUSED;
    default:
        return -EIO;
    }
}

static int status_to_errno(long status)
{
    if (status >= 200 && status < 300)
        return 0;
    switch (status) {
    case 304:
        return -EALREADY;
    case 400:
        return -EINVAL;
    case 404:
        return -ENOENT;
    case 409:
        return -EEXIST;
    default:
        return -EIO;
    }
}

/* Copies the Engine's {"message": "..."} (or the raw text) into err. */
static void engine_message(const struct sink *s, long status, char *err, size_t errlen)
{
    if (s->len > 0) {
        json_t *j = json_loadb(s->buf, s->len, 0, NULL);
        const char *m = j != NULL ? json_string_value(json_object_get(j, "message")) : NULL;
        if (m != NULL) {
            str_fmt(err, errlen, "%s", m);
            json_decref(j);
            return;
        }
        json_decref(j);
        str_fmt(err, errlen, "the Engine answered %ld: %.200s", status, s->buf);
        return;
    }
    str_fmt(err, errlen, "the Engine answered %ld", status);
}

static CURL *easy(docker *d, const char *url, long timeout_ms)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        return NULL;
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, d->socket_path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    if (timeout_ms > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    return c;
}

/* One request with an optional JSON body; the raw answer lands in s. */
static atomic_ullong engine_errors;

uint64_t docker_error_count(void)
{
    return atomic_load(&engine_errors);
}

/* timeout_expected: running out of time is the caller's normal outcome (a wait for a
 * command), not the Engine's failure, so it is not counted. */
static int perform_ex(docker *d, const char *method, const char *url, const char *body,
                      long timeout_ms, int timeout_expected, struct sink *s, long *status,
                      char *err, size_t errlen)
{
    CURL *c = easy(d, url, timeout_ms);
    if (c == NULL) {
        str_fmt(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct curl_slist *h = NULL;
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    int expected = timeout_expected && rc == CURLE_OPERATION_TIMEDOUT;
    if (s->overflow || (rc != CURLE_OK && !expected) || *status >= 500)
        atomic_fetch_add(&engine_errors, 1);
    if (s->overflow) {
        str_fmt(err, errlen, "the Engine's answer is larger than %zu bytes", s->max);
        return -EPROTO;
    }
    if (rc != CURLE_OK) {
        int e = curl_to_errno(rc);
        if (e == -ETIMEDOUT)
            str_fmt(err, errlen, "the Docker Engine at %s did not answer in time",
                   d->socket_path);
        else
            str_fmt(err, errlen, "the Docker Engine at %s is unavailable (%s)", d->socket_path,
                   curl_easy_strerror(rc));
        return e;
    }
    return 0;
}

static int perform(docker *d, const char *method, const char *url, const char *body,
                   long timeout_ms, struct sink *s, long *status, char *err, size_t errlen)
{
    return perform_ex(d, method, url, body, timeout_ms, 0, s, status, err, errlen);
}

/* Major.minor comparison of API versions such as "1.41". */
static int version_cmp(const char *a, const char *b)
{
    int64_t amaj = 0, amin = 0, bmaj = 0, bmin = 0;
    char x[VERSION_MAX], y[VERSION_MAX];
    str_copy(x, sizeof(x), a);
    str_copy(y, sizeof(y), b);
    char *xd = strchr(x, '.'), *yd = strchr(y, '.');
    if (xd == NULL || yd == NULL)
        return 0;
    *xd = *yd = '\0';
    if (str_to_int64(x, 0, 100, &amaj) != 0 || str_to_int64(xd + 1, 0, 1000, &amin) != 0 ||
        str_to_int64(y, 0, 100, &bmaj) != 0 || str_to_int64(yd + 1, 0, 1000, &bmin) != 0)
        return 0;
    if (amaj != bmaj)
        return amaj < bmaj ? -1 : 1;
    return amin < bmin ? -1 : amin > bmin;
}

/* GET /version, unversioned: the Engine's ApiVersion, capped at ours. */
static int negotiate(docker *d, char *out, size_t cap, char *err, size_t errlen)
{
    struct sink s = {NULL, 0, 0, 64 * 1024, 0};
    long status = 0;
    int rc = perform(d, "GET", "http://docker/version", NULL, d->timeout_ms, &s, &status, err,
                     errlen);
    if (rc == 0 && status != 200) {
        engine_message(&s, status, err, errlen);
        rc = -EIO;
    }
    json_t *j = rc == 0 ? json_loadb(s.buf ? s.buf : "", s.len, 0, NULL) : NULL;
    free(s.buf);
    if (rc != 0)
        return rc;
    const char *v = json_string_value(json_object_get(j, "ApiVersion"));
    if (v == NULL || strlen(v) >= VERSION_MAX || strchr(v, '.') == NULL) {
        json_decref(j);
        str_fmt(err, errlen, "the Engine's /version answer has no usable ApiVersion");
        return -EPROTO;
    }
    if (version_cmp(v, "1.40") < 0) {
        str_fmt(err, errlen, "the Engine speaks API %s; Cloudya needs 1.40 or newer", v);
        json_decref(j);
        return -EPROTO;
    }
    str_copy(out, cap, version_cmp(v, DOCKER_API_MAX) < 0 ? v : DOCKER_API_MAX);
    json_decref(j);
    return 0;
}

/* Negotiates once; a failed call forgets the version so that a replaced Engine (upgraded,
 * or Podman instead of Docker) is asked again. */
int docker_api_version(docker *d, char *out, size_t cap, char *err, size_t errlen)
{
    pthread_mutex_lock(&d->mu);
    int have = d->version[0] != '\0';
    if (have)
        str_copy(out, cap, d->version);
    pthread_mutex_unlock(&d->mu);
    if (have)
        return 0;
    char v[VERSION_MAX];
    int rc = negotiate(d, v, sizeof(v), err, errlen);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&d->mu);
    str_copy(d->version, sizeof(d->version), v);
    pthread_mutex_unlock(&d->mu);
    str_copy(out, cap, v);
    return 0;
}

static void forget_version(docker *d)
{
    pthread_mutex_lock(&d->mu);
    d->version[0] = '\0';
    pthread_mutex_unlock(&d->mu);
}

static int versioned_url(docker *d, const char *path, char *url, size_t cap, char *err,
                         size_t errlen)
{
    char v[VERSION_MAX];
    int rc = docker_api_version(d, v, sizeof(v), err, errlen);
    if (rc != 0)
        return rc;
    if ((size_t)snprintf(url, cap, "http://docker/v%s%s", v, path) >= cap) {
        str_fmt(err, errlen, "the Engine request path is too long");
        return -EINVAL;
    }
    return 0;
}

static int call_timeout(docker *d, const char *method, const char *path, json_t *body,
                        long timeout_ms, json_t **out, char *err, size_t errlen)
{
    if (out != NULL)
        *out = NULL;
    char url[4096];
    int rc = versioned_url(d, path, url, sizeof(url), err, errlen);
    if (rc != 0)
        return rc;
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    struct sink s = {NULL, 0, 0, DOCKER_BODY_MAX, 0};
    long status = 0;
    rc = perform(d, method, url, text, timeout_ms, &s, &status, err, errlen);
    free(text);
    if (rc == -ECONNREFUSED)
        forget_version(d);
    if (rc == 0) {
        rc = status_to_errno(status);
        if (rc != 0 && rc != -EALREADY)
            engine_message(&s, status, err, errlen);
    }
    if (rc == 0 && out != NULL && s.len > 0) {
        json_error_t je;
        *out = json_loadb(s.buf, s.len, 0, &je);
        if (*out == NULL) {
            str_fmt(err, errlen, "the Engine's answer to %s %s is not JSON: %s", method, path,
                   je.text);
            rc = -EPROTO;
        }
    }
    free(s.buf);
    return rc;
}

/* The generic call every wrapper below goes through. */
int docker_call(docker *d, const char *method, const char *path, json_t *body, json_t **out,
                char *err, size_t errlen)
{
    return call_timeout(d, method, path, body, d->timeout_ms, out, err, errlen);
}

char *docker_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    if (e == NULL)
        fatalx("out of memory");
    char *copy = xstrdup(e);
    curl_free(e);
    return copy;
}

/* Ids and names we put in paths are ours or checked, but escaping keeps a bad one from
 * changing the request's meaning. */
static int id_path(char *out, size_t cap, const char *prefix, const char *id,
                   const char *suffix)
{
    char *e = docker_escape(id);
    int n = snprintf(out, cap, "%s%s%s", prefix, e, suffix);
    free(e);
    return n > 0 && (size_t)n < cap ? 0 : -EINVAL;
}

/* The liveness check that /api/health reports. */
int docker_ping(docker *d, long timeout_ms)
{
    struct sink s = {NULL, 0, 0, 64, 0};
    long status = 0;
    int rc = perform(d, "GET", "http://docker/_ping", NULL, timeout_ms, &s, &status, NULL, 0);
    int ok = rc == 0 && status == 200 && s.buf != NULL && strncmp(s.buf, "OK", 2) == 0;
    free(s.buf);
    if (rc != 0) {
        forget_version(d);
        return rc;
    }
    return ok ? 0 : -EIO;
}

int docker_container_create(docker *d, const char *name, json_t *config,
                            char id[DOCKER_ID_LEN + 1], char *err, size_t errlen)
{
    char path[512];
    if (id_path(path, sizeof(path), "/containers/create?name=", name, "") != 0)
        return -EINVAL;
    json_t *out = NULL;
    int rc = docker_call(d, "POST", path, config, &out, err, errlen);
    if (rc == 0) {
        const char *v = json_string_value(json_object_get(out, "Id"));
        if (v == NULL || strlen(v) != DOCKER_ID_LEN) {
            str_fmt(err, errlen, "the Engine's create answer has no container id");
            rc = -EPROTO;
        } else {
            str_copy(id, DOCKER_ID_LEN + 1, v);
        }
    }
    json_decref(out);
    return rc;
}

static int container_post(docker *d, const char *id, const char *what, long timeout_ms,
                          char *err, size_t errlen)
{
    char path[512];
    if (id_path(path, sizeof(path), "/containers/", id, what) != 0)
        return -EINVAL;
    return call_timeout(d, "POST", path, NULL, timeout_ms, NULL, err, errlen);
}

int docker_container_start(docker *d, const char *id, char *err, size_t errlen)
{
    return container_post(d, id, "/start", d->timeout_ms, err, errlen);
}

int docker_container_stop(docker *d, const char *id, int timeout_s, char *err, size_t errlen)
{
    char what[32];
    snprintf(what, sizeof(what), "/stop?t=%d", timeout_s);
    return container_post(d, id, what, d->timeout_ms + timeout_s * 1000L, err, errlen);
}

int docker_container_restart(docker *d, const char *id, int timeout_s, char *err,
                             size_t errlen)
{
    char what[32];
    snprintf(what, sizeof(what), "/restart?t=%d", timeout_s);
    return container_post(d, id, what, d->timeout_ms + timeout_s * 1000L, err, errlen);
}

int docker_container_remove(docker *d, const char *id, int volumes, char *err, size_t errlen)
{
    char path[512];
    if (id_path(path, sizeof(path), "/containers/", id,
                volumes ? "?force=1&v=1" : "?force=1") != 0)
        return -EINVAL;
    return docker_call(d, "DELETE", path, NULL, NULL, err, errlen);
}

/* POST /containers/ID/wait?condition=not-running with its own time limit: the wait lasts
 * as long as the container's command, which may rightly outlast every other call. A wait
 * that runs out of time is answered -ETIMEDOUT and not counted as an Engine error. */
int docker_container_wait(docker *d, const char *id, long timeout_ms, int *status, char *err,
                          size_t errlen)
{
    char path[512], url[4096];
    if (id_path(path, sizeof(path), "/containers/", id, "/wait?condition=not-running") != 0)
        return -EINVAL;
    int rc = versioned_url(d, path, url, sizeof(url), err, errlen);
    if (rc != 0)
        return rc;
    struct sink s = {NULL, 0, 0, 64 * 1024, 0};
    long code = 0;
    rc = perform_ex(d, "POST", url, NULL, timeout_ms > 0 ? timeout_ms : 1, 1, &s, &code, err,
                    errlen);
    if (rc == -ETIMEDOUT)
        str_fmt(err, errlen, "the container is still running after %ld ms", timeout_ms);
    if (rc == -ECONNREFUSED)
        forget_version(d);
    if (rc == 0) {
        rc = status_to_errno(code);
        if (rc != 0)
            engine_message(&s, code, err, errlen);
    }
    json_t *j = rc == 0 ? json_loadb(s.buf != NULL ? s.buf : "", s.len, 0, NULL) : NULL;
    free(s.buf);
    if (rc != 0)
        return rc;
    json_t *sc = json_object_get(j, "StatusCode");
    const char *msg = json_string_value(json_object_get(json_object_get(j, "Error"), "Message"));
    if (!json_is_integer(sc)) {
        str_fmt(err, errlen, "the Engine's wait answer has no StatusCode");
        rc = -EPROTO;
    } else if (msg != NULL && msg[0] != '\0') {
        str_fmt(err, errlen, "%s", msg);
        rc = -EIO;
    } else if (status != NULL) {
        json_int_t v = json_integer_value(sc);
        *status = v >= INT_MIN && v <= INT_MAX ? (int)v : -1;
    }
    json_decref(j);
    return rc;
}

int docker_container_inspect(docker *d, const char *id, json_t **out, char *err,
                             size_t errlen)
{
    char path[512];
    if (id_path(path, sizeof(path), "/containers/", id, "/json") != 0)
        return -EINVAL;
    int rc = docker_call(d, "GET", path, NULL, out, err, errlen);
    if (rc == 0 && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        str_fmt(err, errlen, "the Engine's inspect answer is not an object");
        return -EPROTO;
    }
    return rc;
}

/* filters={"label": [...]} as a query parameter. */
static char *label_filters(const char *const *labels, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(labels[i]));
    json_t *f = json_pack("{s:o}", "label", arr);
    char *text = json_dumps(f, JSON_COMPACT);
    json_decref(f);
    char *e = docker_escape(text);
    free(text);
    return e;
}

int docker_container_list(docker *d, const char *const *labels, size_t nlabels, json_t **out,
                          char *err, size_t errlen)
{
    char *f = label_filters(labels, nlabels);
    size_t cap = strlen(f) + 64;
    char *path = xmalloc(cap);
    snprintf(path, cap, "/containers/json?all=1&filters=%s", f);
    free(f);
    int rc = docker_call(d, "GET", path, NULL, out, err, errlen);
    free(path);
    if (rc == 0 && !json_is_array(*out)) {
        json_decref(*out);
        *out = NULL;
        str_fmt(err, errlen, "the Engine's container list is not an array");
        return -EPROTO;
    }
    return rc;
}

int docker_image_exists(docker *d, const char *image, char *err, size_t errlen)
{
    char path[512];
    if (id_path(path, sizeof(path), "/images/", image, "/json") != 0)
        return -EINVAL;
    return docker_call(d, "GET", path, NULL, NULL, err, errlen);
}

/* The pull's progress stream is one JSON object per line; a failure may arrive as
 * {"error": "..."} after a 200 status. */
struct pull_ctx {
    char line[4096];
    size_t len;
    char error[PULL_ERROR_MAX];
};

static void pull_line(struct pull_ctx *p)
{
    p->line[p->len] = '\0';
    json_t *j = json_loads(p->line, 0, NULL);
    const char *e = json_string_value(json_object_get(j, "error"));
    if (e != NULL && p->error[0] == '\0')
        str_copy(p->error, sizeof(p->error), e);
    json_decref(j);
    p->len = 0;
}

static int pull_chunk(void *ctx, const char *data, size_t len)
{
    struct pull_ctx *p = ctx;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            pull_line(p);
        } else if (p->len + 1 < sizeof(p->line)) {
            p->line[p->len++] = data[i];
        }
    }
    return 0;
}

int docker_image_pull(docker *d, const char *image, long timeout_ms, char *err, size_t errlen)
{
    /* "repo:tag" or "repo@digest"; a ':' after the last '/' separates the tag. */
    char ref[512];
    if (str_copy(ref, sizeof(ref), image) != 0)
        return -EINVAL;
    const char *slash = strrchr(ref, '/');
    char *colon = strrchr(ref, ':');
    const char *tag = "latest";
    if (strchr(ref, '@') == NULL && colon != NULL && (slash == NULL || colon > slash)) {
        *colon = '\0';
        tag = colon + 1;
    }
    char *er = docker_escape(ref), *et = docker_escape(tag);
    char path[1200];
    snprintf(path, sizeof(path), "/images/create?fromImage=%s&tag=%s", er, et);
    free(er);
    free(et);
    struct pull_ctx p;
    memset(&p, 0, sizeof(p));
    int rc = docker_stream(d, path, timeout_ms, pull_chunk, NULL, &p, err, errlen);
    if (rc == 0 && p.len > 0)
        pull_line(&p);
    if (rc == 0 && p.error[0] != '\0') {
        str_fmt(err, errlen, "%s", p.error);
        rc = -EIO;
    }
    return rc;
}

/* The exact-name lookup: 0 with id set when a network called name exists. */
static int network_lookup(docker *d, const char *path, const char *name,
                          char id[DOCKER_ID_LEN + 1], char *err, size_t errlen)
{
    json_t *out = NULL;
    int rc = docker_call(d, "GET", path, NULL, &out, err, errlen);
    if (rc != 0)
        return rc;
    const char *v = json_string_value(json_object_get(out, "Id"));
    const char *n = json_string_value(json_object_get(out, "Name"));
    /* /networks/NAME also matches id prefixes: only an exact name counts. */
    rc = n != NULL && strcmp(n, name) == 0 ? 0 : -ENOENT;
    if (rc == 0)
        str_copy(id, DOCKER_ID_LEN + 1, v != NULL ? v : "");
    json_decref(out);
    return rc;
}

/* When creators raced (the Engine's duplicate-name check is not atomic, across processes
 * too), several networks carry the name: everyone keeps the one with the smallest id and
 * removes the others, which are brand new and empty, so all end up on the same one. */
static int network_settle(docker *d, const char *name, char id[DOCKER_ID_LEN + 1], char *err,
                          size_t errlen)
{
    json_t *f = json_pack("{s:[s]}", "name", name);
    char *ftext = json_dumps(f, JSON_COMPACT);
    json_decref(f);
    char *fesc = docker_escape(ftext);
    free(ftext);
    char path[1024];
    snprintf(path, sizeof(path), "/networks?filters=%s", fesc);
    free(fesc);
    json_t *list = NULL;
    int rc = docker_call(d, "GET", path, NULL, &list, err, errlen);
    if (rc != 0)
        return rc;
    const char *best = NULL;
    size_t i;
    json_t *n;
    json_array_foreach(list, i, n)
    {
        const char *nm = json_string_value(json_object_get(n, "Name"));
        const char *nid = json_string_value(json_object_get(n, "Id"));
        if (nm != NULL && nid != NULL && strcmp(nm, name) == 0 &&
            (best == NULL || strcmp(nid, best) < 0))
            best = nid;
    }
    if (best == NULL) {
        json_decref(list);
        return -ENOENT;
    }
    str_copy(id, DOCKER_ID_LEN + 1, best);
    json_array_foreach(list, i, n)
    {
        const char *nm = json_string_value(json_object_get(n, "Name"));
        const char *nid = json_string_value(json_object_get(n, "Id"));
        if (nm != NULL && nid != NULL && strcmp(nm, name) == 0 && strcmp(nid, id) != 0) {
            char p2[128];
            snprintf(p2, sizeof(p2), "/networks/%s", nid);
            docker_call(d, "DELETE", p2, NULL, NULL, NULL, 0);
        }
    }
    json_decref(list);
    return 0;
}

/* The Engine's duplicate-name check is not atomic, but its address pool is: every creator
 * of a given name tries the same subnets in the same order (from start), so two daemons
 * racing for one tenant's network collide on the subnet, and the loser finds the winner's
 * network by name. A subnet another network owns moves everyone on to the next one. */
int docker_network_ensure(docker *d, const char *name, json_t *labels, int base,
                          unsigned start, char id[DOCKER_ID_LEN + 1], char *err, size_t errlen)
{
    char path[512];
    if (id_path(path, sizeof(path), "/networks/", name, "") != 0)
        return -EINVAL;
    int rc = network_lookup(d, path, name, id, err, errlen);
    if (rc == 0 || (rc != -ENOENT && err != NULL && strstr(err, "ambiguous") != NULL))
        return network_settle(d, name, id, err, errlen);
    if (rc != -ENOENT)
        return rc;
    for (unsigned i = 0; i < 256; i++) {
        char subnet[32];
        snprintf(subnet, sizeof(subnet), "10.%d.%u.0/24", base, (start + i) % 256);
        json_t *body = json_pack("{s:s, s:s, s:b, s:b, s:O, s:{s:s, s:[{s:s}]}}", "Name", name,
                                 "Driver", "bridge", "CheckDuplicate", 1, "Internal", 0,
                                 "Labels", labels, "IPAM", "Driver", "default", "Config",
                                 "Subnet", subnet);
        json_t *out = NULL;
        rc = docker_call(d, "POST", "/networks/create", body, &out, err, errlen);
        json_decref(body);
        json_decref(out);
        if (rc == 0 || network_lookup(d, path, name, id, NULL, 0) != -ENOENT)
            return network_settle(d, name, id, err, errlen); /* ours, or someone else's */
        /* Overlapping pools are refused with 403 (mapped to -EIO) or 400. */
        if (rc != -EEXIST && (err == NULL || (strstr(err, "overlap") == NULL &&
                                              strstr(err, "in use") == NULL)))
            return rc;
    }
    return rc;
}

int docker_network_remove(docker *d, const char *name, char *err, size_t errlen)
{
    char path[512];
    if (id_path(path, sizeof(path), "/networks/", name, "") != 0)
        return -EINVAL;
    return docker_call(d, "DELETE", path, NULL, NULL, err, errlen);
}

int docker_volume_remove(docker *d, const char *name, char *err, size_t errlen)
{
    char path[512];
    if (id_path(path, sizeof(path), "/volumes/", name, "?force=1") != 0)
        return -EINVAL;
    return docker_call(d, "DELETE", path, NULL, NULL, err, errlen);
}

/* --- streams ------------------------------------------------------------------------------ */

struct stream_ctx {
    docker_chunk_fn fn;
    docker_stop_fn stop;
    void *ctx;
    long status;
    CURL *c;
    struct sink errbody; /* the body of an error answer */
    int stopped;
};

static size_t stream_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct stream_ctx *s = userdata;
    size_t n = size * nmemb;
    if (s->status == 0)
        curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status < 200 || s->status >= 300)
        return sink_write(ptr, size, nmemb, &s->errbody);
    if (s->fn(s->ctx, ptr, n) != 0) {
        s->stopped = 1;
        return 0;
    }
    return n;
}

static int stream_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                           curl_off_t ultotal, curl_off_t ulnow)
{
    struct stream_ctx *s = userdata;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (s->stop != NULL && s->stop(s->ctx)) {
        s->stopped = 1;
        return 1;
    }
    return 0;
}

int docker_stream(docker *d, const char *path, long timeout_ms, docker_chunk_fn fn,
                  docker_stop_fn stop, void *ctx, char *err, size_t errlen)
{
    char url[4096];
    int rc = versioned_url(d, path, url, sizeof(url), err, errlen);
    if (rc != 0)
        return rc;
    const char *method = strncmp(path, "/images/create", 14) == 0 ? "POST" : "GET";
    CURL *c = easy(d, url, timeout_ms);
    if (c == NULL)
        return -ENOMEM;
    struct stream_ctx s = {fn, stop, ctx, 0, c, {NULL, 0, 0, 64 * 1024, 0}, 0};
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, stream_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    CURLcode cc = curl_easy_perform(c);
    if (s.status == 0)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s.status);
    curl_easy_cleanup(c);
    if (s.stopped) {
        rc = 0;
    } else if (s.status != 0 && (s.status < 200 || s.status >= 300)) {
        rc = status_to_errno(s.status);
        engine_message(&s.errbody, s.status, err, errlen);
    } else if (cc != CURLE_OK) {
        rc = curl_to_errno(cc);
        if (rc == -ECONNREFUSED)
            forget_version(d);
        str_fmt(err, errlen, "the Docker Engine stream %s ended: %s", path,
               curl_easy_strerror(cc));
    }
    free(s.errbody.buf);
    return rc;
}
