/* Unit tests for src/engine/docker_events.c.
 * Parser: one event whole and byte at a time, many events per chunk and events across
 * chunks, random chunkings against the whole feed, lines exactly at and just past
 * DOCKER_EVENT_LINE_MAX, garbage and wrong JSON types (skipped and counted, never fatal),
 * blank and CRLF lines, missing fields and their defaults, the old "status"/"id" fields,
 * nested attributes, actions cut at a UTF-8 boundary, unterminated last lines (an over-long
 * one is counted only once its newline comes).
 * Follower against a fake Engine on a unix socket: the filters and since= sent, the resume
 * point after the Engine closes the stream, the replayed event not delivered twice,
 * reconnection once an absent Engine appears, connected/connects/skipped, prompt stop.
 * Follower against the real Engine (skipped when Docker or the test image is unusable):
 * create, start and die for a labelled container within 5 s, nothing for an unlabelled
 * one, events on the follower thread, stop in under 2 s. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "docker.h"
#include "docker_events.h"
#include "str.h"

#define MAX DOCKER_EVENT_LINE_MAX

/* ---- recording events ---------------------------------------------------------------- */

struct rec {
    pthread_mutex_t mu;
    char *log; /* one line per event: type|action|id|time|time_nano|attributes */
    size_t len, cap;
    size_t n;
    pthread_t thread; /* the thread of the last callback */
};

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
}

static void rec_free(struct rec *r)
{
    free(r->log);
    pthread_mutex_destroy(&r->mu);
}

static void on_event(void *ctx, const docker_event *ev)
{
    struct rec *r = ctx;
    assert_true(strlen(ev->type) < sizeof(ev->type));
    assert_true(strlen(ev->action) < sizeof(ev->action));
    assert_true(strlen(ev->id) < sizeof(ev->id));
    char *attrs = ev->attributes != NULL ? json_dumps(ev->attributes, JSON_COMPACT | JSON_SORT_KEYS)
                                         : NULL;
    char line[4096];
    int n = snprintf(line, sizeof(line), "%s|%s|%s|%lld|%lld|%s\n", ev->type, ev->action, ev->id,
                     (long long)ev->time, (long long)ev->time_nano, attrs ? attrs : "-");
    free(attrs);
    assert_true(n > 0 && (size_t)n < sizeof(line));
    pthread_mutex_lock(&r->mu);
    if (r->len + (size_t)n + 1 > r->cap) {
        r->cap = (r->len + (size_t)n + 1) * 2;
        r->log = realloc(r->log, r->cap);
        assert_non_null(r->log);
    }
    memcpy(r->log + r->len, line, (size_t)n + 1);
    r->len += (size_t)n;
    r->n++;
    r->thread = pthread_self();
    pthread_mutex_unlock(&r->mu);
}

/* Feeds text cut at the given offsets; returns the parser (caller frees). */
static docker_event_parser *feed_cuts(struct rec *r, const char *text, size_t len,
                                      const size_t *cuts, size_t ncuts)
{
    docker_event_parser *p = docker_event_parser_new(on_event, r);
    size_t off = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        assert_int_equal(docker_event_parser_feed(p, text + off, end - off), 0);
        off = end;
    }
    return p;
}

static docker_event_parser *feed_bytes(struct rec *r, const char *text, size_t len)
{
    docker_event_parser *p = docker_event_parser_new(on_event, r);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(docker_event_parser_feed(p, text + i, 1), 0);
    return p;
}

#define ID1 "9fc8450230d9231764f8e50f4dfe155cc69ba72788f9587c37c6f24e6606143f"

static const char START[] =
    "{\"status\":\"start\",\"id\":\"" ID1 "\",\"from\":\"img\",\"Type\":\"container\","
    "\"Action\":\"start\",\"Actor\":{\"ID\":\"" ID1 "\",\"Attributes\":{\"com.cloudya.client\":"
    "\"cli1\",\"name\":\"web\",\"exitCode\":\"0\"}},\"scope\":\"local\",\"time\":1700000000,"
    "\"timeNano\":1700000000123456789}\n";
static const char START_WANT[] =
    "container|start|" ID1 "|1700000000|1700000000123456789|"
    "{\"com.cloudya.client\":\"cli1\",\"exitCode\":\"0\",\"name\":\"web\"}\n";

/* ---- parser tests -------------------------------------------------------------------- */

static void test_one_event(void **state)
{
    (void)state;
    struct rec a, b;
    rec_init(&a);
    rec_init(&b);
    docker_event_parser *p = feed_cuts(&a, START, strlen(START), NULL, 0);
    docker_event_parser *q = feed_bytes(&b, START, strlen(START));
    assert_string_equal(a.log, START_WANT);
    assert_string_equal(b.log, START_WANT);
    assert_int_equal(docker_event_parser_skipped(p), 0);
    assert_int_equal(docker_event_parser_skipped(q), 0);
    docker_event_parser_free(p);
    docker_event_parser_free(q);
    rec_free(&a);
    rec_free(&b);
}

static void test_many_events_and_chunks(void **state)
{
    (void)state;
    char text[8192] = "";
    const char *lines[] = {
        START,
        "{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"abc\",\"Attributes\":"
        "{\"exitCode\":\"137\"}},\"time\":1700000001,\"timeNano\":1700000001000000002}\n",
        "\r\n",
        "   \t \n",
        "\n",
        "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"net\"}}\r\n",
        "garbage\n",
        "{\"Type\":\"container\",\"Action\":\"health_status: healthy\",\"Actor\":{\"ID\":\"x\"}}\n",
    };
    size_t len = 0;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        size_t n = strlen(lines[i]);
        memcpy(text + len, lines[i], n);
        len += n;
    }
    const char *want = "container|start|" ID1 "|1700000000|1700000000123456789|"
                       "{\"com.cloudya.client\":\"cli1\",\"exitCode\":\"0\",\"name\":\"web\"}\n"
                       "container|die|abc|1700000001|1700000001000000002|{\"exitCode\":\"137\"}\n"
                       "network|connect|net|0|0|-\n"
                       "container|health_status: healthy|x|0|0|-\n";
    struct rec whole, bytes;
    rec_init(&whole);
    rec_init(&bytes);
    docker_event_parser *p = feed_cuts(&whole, text, len, NULL, 0);
    docker_event_parser *q = feed_bytes(&bytes, text, len);
    assert_string_equal(whole.log, want);
    assert_string_equal(bytes.log, want);
    assert_int_equal(docker_event_parser_skipped(p), 1);
    assert_int_equal(docker_event_parser_skipped(q), 1);
    docker_event_parser_free(p);
    docker_event_parser_free(q);

    /* random chunkings give the same events */
    srand(42);
    for (int round = 0; round < 200; round++) {
        size_t cuts[16], n = (size_t)(rand() % 16);
        for (size_t i = 0; i < n; i++)
            cuts[i] = (size_t)rand() % (len + 1);
        for (size_t i = 1; i < n; i++) /* sort */
            for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        struct rec r;
        rec_init(&r);
        docker_event_parser *x = feed_cuts(&r, text, len, cuts, n);
        assert_string_equal(r.log, want);
        assert_int_equal(docker_event_parser_skipped(x), 1);
        docker_event_parser_free(x);
        rec_free(&r);
    }
    rec_free(&whole);
    rec_free(&bytes);
}

/* A valid event line of exactly total bytes (without the newline), padded with spaces. */
static char *event_of_length(size_t total)
{
    const char *head = "{\"Action\":\"big\"", *tail = "}";
    char *s = malloc(total + 2);
    assert_non_null(s);
    size_t h = strlen(head);
    memcpy(s, head, h);
    memset(s + h, ' ', total - h - 1);
    memcpy(s + total - 1, tail, 1);
    s[total] = '\n';
    s[total + 1] = '\0';
    return s;
}

static void test_long_lines(void **state)
{
    (void)state;
    char *at = event_of_length(MAX), *past = event_of_length(MAX + 1);
    size_t big = 3 * MAX;
    char *huge = malloc(big + 2);
    assert_non_null(huge);
    memset(huge, 'x', big);
    huge[big] = '\n';
    huge[big + 1] = '\0';
    const char *after = "{\"Action\":\"after\"}\n";
    size_t len = strlen(at) + strlen(past) + strlen(huge) + strlen(after);
    char *text = malloc(len + 1);
    assert_non_null(text);
    snprintf(text, len + 1, "%s%s%s%s", at, past, huge, after);
    const char *want = "|big||0|0|-\n|after||0|0|-\n";

    struct rec whole, bytes, pieces;
    rec_init(&whole);
    rec_init(&bytes);
    rec_init(&pieces);
    docker_event_parser *p = feed_cuts(&whole, text, len, NULL, 0);
    docker_event_parser *q = feed_bytes(&bytes, text, len);
    size_t cuts[] = {MAX - 1, MAX, MAX + 1, MAX + 2, 2 * MAX + 1, 2 * MAX + 2, 2 * MAX + 3,
                     3 * MAX, len - 1};
    docker_event_parser *r = feed_cuts(&pieces, text, len, cuts, sizeof(cuts) / sizeof(cuts[0]));
    assert_string_equal(whole.log, want);
    assert_string_equal(bytes.log, want);
    assert_string_equal(pieces.log, want);
    assert_int_equal(docker_event_parser_skipped(p), 2);
    assert_int_equal(docker_event_parser_skipped(q), 2);
    assert_int_equal(docker_event_parser_skipped(r), 2);
    docker_event_parser_free(p);
    docker_event_parser_free(q);
    docker_event_parser_free(r);
    rec_free(&whole);
    rec_free(&bytes);
    rec_free(&pieces);
    free(at);
    free(past);
    free(huge);
    free(text);
}

static void test_garbage_and_types(void **state)
{
    (void)state;
    const char *bad[] = {
        "not json\n",
        "[1,2,3]\n",
        "\"string\"\n",
        "42\n",
        "{}\n",
        "{\"Action\":\"\"}\n",
        "{\"Action\":5}\n",
        "{\"Action\":null,\"status\":null}\n",
        "{\"Action\":\"x\",\"Type\":7}\n",
        "{\"Action\":\"x\",\"Type\":\"sixteen_chars_xx\"}\n",
        "{\"Action\":\"x\",\"Actor\":[]}\n",
        "{\"Action\":\"x\",\"Actor\":{\"ID\":1}}\n",
        "{\"Action\":\"x\",\"Actor\":{\"ID\":\"" ID1 "0\"}}\n", /* 65 bytes */
        "{\"Action\":\"x\",\"Actor\":{\"Attributes\":[\"a\"]}}\n",
        "{\"Action\":\"x\",\"time\":\"1\"}\n",
        "{\"Action\":\"x\",\"time\":1.5}\n",
        "{\"Action\":\"x\",\"timeNano\":true}\n",
        "{\"Action\":\"x\",\"time\":99999999999999999999999}\n",
        "{\"Action\":\"x\"\n",
        "{\"Action\":\"x\"}}\n",
        "{\"Action\":\"x\"} {\"Action\":\"y\"}\n",
        "{\"Action\":\"\xff\"}\n",
        "\xef\xbb\xbf{\"Action\":\"bom\"}\n",
        "{\"Action\":\"nul\\u0000\"}\n",
    };
    char text[4096];
    size_t len = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]);
        memcpy(text + len, bad[i], n);
        len += n;
    }
    memcpy(text + len, "{\"Action\":\"ok\"}\n", 16);
    len += 16;
    /* a NUL byte inside a line */
    memcpy(text + len, "{\"Action\":\"a\0b\"}\n", 17);
    len += 17;
    struct rec r;
    rec_init(&r);
    docker_event_parser *p = feed_cuts(&r, text, len, NULL, 0);
    assert_string_equal(r.log, "|ok||0|0|-\n");
    assert_int_equal(docker_event_parser_skipped(p), sizeof(bad) / sizeof(bad[0]) + 1);
    assert_int_equal(docker_event_parser_feed(NULL, "x", 1), -EINVAL);
    assert_int_equal(docker_event_parser_feed(p, NULL, 1), -EINVAL);
    assert_int_equal(docker_event_parser_feed(p, NULL, 0), 0);
    assert_int_equal(docker_event_parser_skipped(NULL), 0);
    docker_event_parser_free(p);
    docker_event_parser_free(NULL);
    rec_free(&r);
}

static void test_missing_and_old_fields(void **state)
{
    (void)state;
    const char *text =
        "{\"Action\":\"create\"}\n"
        "{\"status\":\"die\",\"id\":\"old\",\"time\":1700000000}\n"
        "{\"Action\":\"start\",\"status\":\"ignored\",\"id\":\"top\",\"Actor\":{\"ID\":\"actor\"}}\n"
        "{\"Action\":\"stop\",\"timeNano\":1700000000999999999}\n"
        "{\"Action\":\"kill\",\"time\":-5}\n"
        "{\"Action\":\"oom\",\"time\":9300000000}\n"
        "{\"Action\":\"x\",\"Type\":null,\"Actor\":null,\"time\":null,\"timeNano\":null}\n"
        "{\"Action\":\"y\",\"Actor\":{\"ID\":\"\",\"Attributes\":null}}\n"
        "{\"Action\":\"z\",\"Type\":\"fifteen_chars_x\",\"Actor\":{\"ID\":\"" ID1 "\"}}\n";
    struct rec r;
    rec_init(&r);
    docker_event_parser *p = feed_bytes(&r, text, strlen(text));
    assert_string_equal(r.log, "|create||0|0|-\n"
                               "|die|old|1700000000|1700000000000000000|-\n"
                               "|start|actor|0|0|-\n"
                               "|stop||1700000000|1700000000999999999|-\n"
                               "|kill||-5|-5000000000|-\n"
                               "|oom||9300000000|0|-\n"
                               "|x||0|0|-\n"
                               "|y||0|0|-\n"
                               "fifteen_chars_x|z|" ID1 "|0|0|-\n");
    assert_int_equal(docker_event_parser_skipped(p), 0);
    docker_event_parser_free(p);
    rec_free(&r);
}

static void test_nested_attributes(void **state)
{
    (void)state;
    const char *text = "{\"Type\":\"container\",\"Action\":\"create\",\"Actor\":{\"ID\":\"a\","
                       "\"Attributes\":{\"name\":\"w\",\"nested\":{\"deep\":[1,{\"x\":\"y\"}]},"
                       "\"q\":\"say \\\"hi\\\"\\n\",\"u\":\"caf\\u00e9\"}}}\n";
    struct rec r;
    rec_init(&r);
    docker_event_parser *p = feed_bytes(&r, text, strlen(text));
    assert_string_equal(r.log, "container|create|a|0|0|{\"name\":\"w\",\"nested\":{\"deep\":"
                               "[1,{\"x\":\"y\"}]},\"q\":\"say \\\"hi\\\"\\n\",\"u\":\"caf\xc3\xa9\"}\n");
    docker_event_parser_free(p);
    rec_free(&r);
}

static void test_action_cut(void **state)
{
    (void)state;
    /* 46 ASCII bytes then a 2-byte character: 48 bytes, cut before the character */
    char action[64], line[256];
    memset(action, 'a', 46);
    memcpy(action + 46, "\xc3\xa9", 3);
    snprintf(line, sizeof(line), "{\"Action\":\"%s\"}\n", action);
    struct rec r;
    rec_init(&r);
    docker_event_parser *p = feed_bytes(&r, line, strlen(line));
    char want[128];
    snprintf(want, sizeof(want), "|%.46s||0|0|-\n", action);
    assert_string_equal(r.log, want);
    docker_event_parser_free(p);
    rec_free(&r);

    /* 47 bytes fit exactly; a 3-byte character starting at 45 is dropped whole */
    memset(action, 'b', 47);
    action[47] = '\0';
    snprintf(line, sizeof(line), "{\"Action\":\"%s\"}\n{\"Action\":\"%.45s\xe2\x82\xac\"}\n", action,
             action);
    rec_init(&r);
    p = feed_bytes(&r, line, strlen(line));
    snprintf(want, sizeof(want), "|%s||0|0|-\n|%.45s||0|0|-\n", action, action);
    assert_string_equal(r.log, want);
    docker_event_parser_free(p);
    rec_free(&r);

    /* an exec_start action with a long command is kept as its start */
    const char *ex = "{\"Action\":\"exec_start: sh -c 'while true; do echo hello; sleep 1; done'\"}\n";
    rec_init(&r);
    p = feed_bytes(&r, ex, strlen(ex));
    assert_string_equal(r.log, "|exec_start: sh -c 'while true; do echo hello; s||0|0|-\n");
    docker_event_parser_free(p);
    rec_free(&r);
}

static void test_unterminated(void **state)
{
    (void)state;
    struct rec r;
    rec_init(&r);
    docker_event_parser *p = docker_event_parser_new(on_event, &r);
    const char *t = "{\"Action\":\"a\"}\n{\"Action\":\"b\"}";
    assert_int_equal(docker_event_parser_feed(p, t, strlen(t)), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(docker_event_parser_feed(p, "\n", 1), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.log, "|a||0|0|-\n|b||0|0|-\n");
    /* an over-long line is counted when it ends, not before */
    char *chunk = malloc(MAX);
    assert_non_null(chunk);
    memset(chunk, 'x', MAX);
    assert_int_equal(docker_event_parser_feed(p, chunk, MAX), 0);
    assert_int_equal(docker_event_parser_feed(p, chunk, MAX), 0);
    assert_int_equal(docker_event_parser_skipped(p), 0);
    assert_int_equal(docker_event_parser_feed(p, "x\n{\"Action\":\"c\"}\n", 17), 0);
    assert_int_equal(docker_event_parser_skipped(p), 1);
    assert_string_equal(r.log, "|a||0|0|-\n|b||0|0|-\n|c||0|0|-\n");
    free(chunk);
    docker_event_parser_free(p);
    rec_free(&r);
}

/* ---- a fake Engine --------------------------------------------------------------------- */

#define FAKE_CONNS 8

struct fake {
    char dir[64], sock[128];
    int lfd, wake[2];
    pthread_t thread;
    atomic_int stop;
    /* per events connection: the text to send and whether to close afterwards */
    const char *send[FAKE_CONNS];
    int close_after[FAKE_CONNS];
    pthread_mutex_t mu;
    char paths[FAKE_CONNS][1024]; /* the events request paths received */
    int nevents;
    int nrequests;
};

static int read_request(int fd, char *req, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 3000) <= 0)
            return -1;
        ssize_t n = read(fd, req + len, cap - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            return 0;
    }
    return -1;
}

static void write_all(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, const char *type, const char *body)
{
    char h[256];
    snprintf(h, sizeof(h),
             "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n",
             type, strlen(body));
    write_all(fd, h);
    write_all(fd, body);
}

/* Holds an events connection open until the client goes away or the fake stops. */
static void hold(struct fake *f, int fd)
{
    while (!atomic_load(&f->stop)) {
        struct pollfd pfd[2] = {{fd, POLLIN, 0}, {f->wake[0], POLLIN, 0}};
        if (poll(pfd, 2, 200) < 0)
            return;
        if (pfd[1].revents != 0)
            return;
        if (pfd[0].revents != 0) {
            char tmp[64];
            if (read(fd, tmp, sizeof(tmp)) <= 0)
                return;
        }
    }
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd pfd[2] = {{f->lfd, POLLIN, 0}, {f->wake[0], POLLIN, 0}};
        if (poll(pfd, 2, 200) <= 0 || pfd[1].revents != 0)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        char req[4096];
        if (read_request(fd, req, sizeof(req)) == 0) {
            char method[16], path[2048];
            pthread_mutex_lock(&f->mu);
            f->nrequests++;
            pthread_mutex_unlock(&f->mu);
            if (sscanf(req, "%15s %2047s", method, path) == 2) {
                if (strcmp(path, "/_ping") == 0) {
                    respond(fd, "text/plain", "OK");
                } else if (strcmp(path, "/version") == 0) {
                    respond(fd, "application/json", "{\"ApiVersion\":\"1.41\"}");
                } else if (strncmp(path, "/v1.41/events?", 14) == 0) {
                    pthread_mutex_lock(&f->mu);
                    int k = f->nevents < FAKE_CONNS ? f->nevents++ : FAKE_CONNS - 1;
                    str_copy(f->paths[k], sizeof(f->paths[k]), path);
                    pthread_mutex_unlock(&f->mu);
                    write_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Connection: close\r\n\r\n");
                    if (f->send[k] != NULL)
                        write_all(fd, f->send[k]);
                    if (!f->close_after[k])
                        hold(f, fd);
                } else {
                    write_all(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n");
                }
            }
        }
        close(fd);
    }
    return NULL;
}

static void fake_paths(struct fake *f)
{
    memset(f, 0, sizeof(*f));
    str_copy(f->dir, sizeof(f->dir), "/tmp/test_docker_events_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->sock, sizeof(f->sock), "%s/docker.sock", f->dir);
    f->lfd = -1;
    pthread_mutex_init(&f->mu, NULL);
}

static void fake_listen(struct fake *f)
{
    f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    str_copy(sa.sun_path, sizeof(sa.sun_path), f->sock);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 8), 0);
    assert_int_equal(pipe(f->wake), 0);
    atomic_store(&f->stop, 0);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_close(struct fake *f)
{
    if (f->lfd >= 0) {
        atomic_store(&f->stop, 1);
        assert_int_equal(write(f->wake[1], "x", 1), 1);
        pthread_join(f->thread, NULL);
        close(f->lfd);
        close(f->wake[0]);
        close(f->wake[1]);
    }
    unlink(f->sock);
    rmdir(f->dir);
    pthread_mutex_destroy(&f->mu);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to timeout_s for r to hold n events. */
static int wait_events(struct rec *r, size_t n, double timeout_s)
{
    double end = now_s() + timeout_s;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t have = r->n;
        pthread_mutex_unlock(&r->mu);
        if (have >= n)
            return 1;
        if (now_s() > end)
            return 0;
        nap_ms(20);
    }
}

#define EV(action, nano)                                                                      \
    "{\"Type\":\"container\",\"Action\":\"" action "\",\"Actor\":{\"ID\":\"c1\"},"            \
    "\"time\":" #nano "/1000000000,\"timeNano\":" #nano "}\n"

static void test_follower_resumes(void **state)
{
    (void)state;
    struct fake f;
    fake_paths(&f);
    f.send[0] = "{\"Type\":\"container\",\"Action\":\"create\",\"Actor\":{\"ID\":\"c1\"},"
                "\"time\":100,\"timeNano\":100000000001}\n"
                "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"c1\"},"
                "\"time\":100,\"timeNano\":100000000002}\n"
                "this line is garbage\n";
    f.close_after[0] = 1;
    /* the Engine replays the event at since, then a new one */
    f.send[1] = "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"c1\"},"
                "\"time\":100,\"timeNano\":100000000002}\n"
                "{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"c1\"},"
                "\"time\":101,\"timeNano\":101000000000}\n";
    f.close_after[1] = 0;
    fake_listen(&f);

    docker *d = docker_new(f.sock, 5000);
    struct rec r;
    rec_init(&r);
    docker_events *e = NULL;
    const char *labels[] = {"com.cloudya.test=abc", "com.cloudya.managed"};
    struct timespec t0;
    clock_gettime(CLOCK_REALTIME, &t0);
    assert_int_equal(docker_events_start(d, labels, 2, on_event, &r, &e), 0);
    assert_true(wait_events(&r, 3, 5));
    nap_ms(300); /* a duplicate would show up here */
    assert_string_equal(r.log, "container|create|c1|100|100000000001|-\n"
                               "container|start|c1|100|100000000002|-\n"
                               "container|die|c1|101|101000000000|-\n");
    assert_false(pthread_equal(r.thread, pthread_self()));
    assert_int_equal(docker_events_connected(e), 1);
    assert_int_equal(docker_events_connects(e), 2);
    assert_int_equal(docker_events_skipped(e), 1);

    pthread_mutex_lock(&f.mu);
    assert_int_equal(f.nevents, 2);
    /* the filters, escaped, and since= the start time, then the last event's time */
    char *esc = docker_escape("{\"label\":[\"com.cloudya.test=abc\",\"com.cloudya.managed\"],"
                              "\"type\":[\"container\"]}");
    char want[1024];
    snprintf(want, sizeof(want), "/v1.41/events?filters=%s&since=", esc);
    free(esc);
    assert_memory_equal(f.paths[0], want, strlen(want));
    long long since_s = strtoll(f.paths[0] + strlen(want), NULL, 10);
    assert_true(since_s >= (long long)t0.tv_sec && since_s <= (long long)t0.tv_sec + 1);
    const char *dot = strchr(f.paths[0] + strlen(want), '.');
    assert_non_null(dot);
    assert_int_equal(strlen(dot + 1), 9);
    snprintf(want + strlen(want), sizeof(want) - strlen(want), "100.000000002");
    assert_string_equal(f.paths[1], want);
    pthread_mutex_unlock(&f.mu);

    double t = now_s();
    docker_events_stop(e);
    assert_true(now_s() - t < 2.0);
    fake_close(&f);
    docker_free(d);
    rec_free(&r);
}

static void test_follower_engine_absent_then_present(void **state)
{
    (void)state;
    struct fake f;
    fake_paths(&f);
    f.send[0] = "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"c2\"}}\n";
    docker *d = docker_new(f.sock, 5000);
    struct rec r;
    rec_init(&r);
    docker_events *e = NULL;
    assert_int_equal(docker_events_start(d, NULL, 0, on_event, &r, &e), 0);
    nap_ms(1200); /* attempts at 0, 0.5 s: nobody answers */
    assert_int_equal(docker_events_connected(e), 0);
    assert_int_equal(docker_events_connects(e), 0);
    fake_listen(&f);
    /* the next attempts come at 1.5 s and 3.5 s after the start */
    assert_true(wait_events(&r, 1, 4));
    assert_string_equal(r.log, "container|start|c2|0|0|-\n");
    assert_int_equal(docker_events_connected(e), 1);
    pthread_mutex_lock(&f.mu);
    assert_non_null(strstr(f.paths[0], "filters=%7B%22type%22%3A%5B%22container%22%5D%7D&since="));
    pthread_mutex_unlock(&f.mu);
    /* stop while the stream is open and idle */
    double t = now_s();
    docker_events_stop(e);
    assert_true(now_s() - t < 2.0);
    fake_close(&f);
    docker_free(d);
    rec_free(&r);
}

static void test_follower_stop_during_backoff(void **state)
{
    (void)state;
    docker *d = docker_new("/nonexistent/docker.sock", 5000);
    struct rec r;
    rec_init(&r);
    docker_events *e = NULL;
    assert_int_equal(docker_events_start(d, NULL, 0, on_event, &r, &e), 0);
    nap_ms(2000); /* into a 2 s backoff */
    double t = now_s();
    docker_events_stop(e);
    assert_true(now_s() - t < 0.5);
    assert_int_equal(r.n, 0);
    docker_events_stop(NULL);
    assert_int_equal(docker_events_connected(NULL), 0);
    docker_free(d);
    rec_free(&r);
}

static void test_start_invalid(void **state)
{
    (void)state;
    docker *d = docker_new("/nonexistent/docker.sock", 5000);
    docker_events *e = (docker_events *)&e;
    struct rec r;
    const char *empty[] = {""}, *null[] = {NULL}, *bad_utf8[] = {"k=\xff"};
    char longl[DOCKER_EVENTS_LABEL_MAX + 2];
    memset(longl, 'l', sizeof(longl) - 1);
    longl[sizeof(longl) - 1] = '\0';
    const char *toolong[] = {longl};
    const char *many[DOCKER_EVENTS_LABELS_MAX + 1];
    for (size_t i = 0; i <= DOCKER_EVENTS_LABELS_MAX; i++)
        many[i] = "a=b";
    /* 16 labels of 512 bytes would not fit in a request path */
    const char *wide[DOCKER_EVENTS_LABELS_MAX];
    char w[DOCKER_EVENTS_LABEL_MAX + 1];
    memset(w, 'w', DOCKER_EVENTS_LABEL_MAX);
    w[DOCKER_EVENTS_LABEL_MAX] = '\0';
    for (size_t i = 0; i < DOCKER_EVENTS_LABELS_MAX; i++)
        wide[i] = w;
    assert_int_equal(docker_events_start(NULL, NULL, 0, on_event, &r, &e), -EINVAL);
    assert_null(e);
    assert_int_equal(docker_events_start(d, NULL, 0, NULL, &r, &e), -EINVAL);
    assert_int_equal(docker_events_start(d, NULL, 0, on_event, &r, NULL), -EINVAL);
    assert_int_equal(docker_events_start(d, NULL, 1, on_event, &r, &e), -EINVAL);
    assert_int_equal(docker_events_start(d, empty, 1, on_event, &r, &e), -EINVAL);
    assert_int_equal(docker_events_start(d, null, 1, on_event, &r, &e), -EINVAL);
    assert_int_equal(docker_events_start(d, bad_utf8, 1, on_event, &r, &e), -EINVAL);
    assert_int_equal(docker_events_start(d, toolong, 1, on_event, &r, &e), -EINVAL);
    assert_int_equal(docker_events_start(d, many, DOCKER_EVENTS_LABELS_MAX + 1, on_event, &r, &e),
                     -EINVAL);
    assert_int_equal(docker_events_start(d, wide, DOCKER_EVENTS_LABELS_MAX, on_event, &r, &e),
                     -EINVAL);
    assert_null(e);
    docker_free(d);
}

/* ---- the real Engine ----------------------------------------------------------------- */

#define REAL_SOCKET "/var/run/docker.sock"
#define IMAGE "cloudya/busybox:test"

/* Runs a docker CLI command; id receives its first output line (the container id). */
static int docker_cli(const char *cmd, char *id, size_t cap)
{
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    char line[256] = "";
    if (fgets(line, sizeof(line), p) == NULL)
        line[0] = '\0';
    int st = pclose(p);
    line[strcspn(line, "\r\n")] = '\0';
    if (id != NULL)
        str_copy(id, cap, line);
    return st == 0 && (id == NULL || strlen(line) == DOCKER_ID_LEN) ? 0 : -1;
}

/* Whether the log holds an event line for id with the action. */
static int has_event(struct rec *r, const char *id, const char *action)
{
    char needle[160];
    snprintf(needle, sizeof(needle), "container|%s|%s|", action, id);
    pthread_mutex_lock(&r->mu);
    int found = r->log != NULL && strstr(r->log, needle) != NULL;
    pthread_mutex_unlock(&r->mu);
    return found;
}

static void test_real_engine(void **state)
{
    (void)state;
    docker *d = docker_new(REAL_SOCKET, 10000);
    if (docker_ping(d, 2000) != 0 || docker_image_exists(d, IMAGE, NULL, 0) != 0 ||
        system("docker version >/dev/null 2>&1") != 0) {
        docker_free(d);
        skip();
    }
    char rnd[17], label[64];
    str_random_hex(rnd, 8);
    snprintf(label, sizeof(label), "com.cloudya.test=%s", rnd);
    struct rec r;
    rec_init(&r);
    docker_events *e = NULL;
    const char *labels[] = {label};
    assert_int_equal(docker_events_start(d, labels, 1, on_event, &r, &e), 0);
    double end = now_s() + 5;
    while (!docker_events_connected(e) && now_s() < end)
        nap_ms(20);
    assert_int_equal(docker_events_connected(e), 1);

    char other[DOCKER_ID_LEN + 1] = "", mine[DOCKER_ID_LEN + 1] = "", cmd[512];
    snprintf(cmd, sizeof(cmd),
             "docker run -d --label com.cloudya.test=not-%s " IMAGE " true 2>/dev/null", rnd);
    int orc = docker_cli(cmd, other, sizeof(other));
    snprintf(cmd, sizeof(cmd), "docker run -d --label %s " IMAGE " true 2>/dev/null", label);
    int mrc = docker_cli(cmd, mine, sizeof(mine));
    double t0 = now_s();
    int ok = 0;
    while (mrc == 0 && orc == 0 && now_s() - t0 < 5) {
        if (has_event(&r, mine, "create") && has_event(&r, mine, "start") &&
            has_event(&r, mine, "die")) {
            ok = 1;
            break;
        }
        nap_ms(20);
    }
    nap_ms(300);
    pthread_mutex_lock(&r.mu);
    int leaked = other[0] != '\0' && r.log != NULL && strstr(r.log, other) != NULL;
    char attr[128];
    snprintf(attr, sizeof(attr), "\"com.cloudya.test\":\"%s\"", rnd);
    int labelled = r.log != NULL && strstr(r.log, attr) != NULL;
    pthread_t t = r.thread;
    if (!ok)
        fprintf(stderr, "events seen:\n%s\n", r.log ? r.log : "(none)");
    pthread_mutex_unlock(&r.mu);

    double ts = now_s();
    docker_events_stop(e);
    double stop_s = now_s() - ts;
    if (other[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "docker rm -f %s >/dev/null 2>&1", other);
        assert_int_equal(system(cmd), 0);
    }
    if (mine[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "docker rm -f %s >/dev/null 2>&1", mine);
        assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(orc, 0);
    assert_int_equal(mrc, 0);
    assert_true(ok);
    assert_false(leaked);
    assert_true(labelled);
    assert_false(pthread_equal(t, pthread_self()));
    assert_true(stop_s < 2.0);
    docker_free(d);
    rec_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_event),
        cmocka_unit_test(test_many_events_and_chunks),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_garbage_and_types),
        cmocka_unit_test(test_missing_and_old_fields),
        cmocka_unit_test(test_nested_attributes),
        cmocka_unit_test(test_action_cut),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_follower_resumes),
        cmocka_unit_test(test_follower_engine_absent_then_present),
        cmocka_unit_test(test_follower_stop_during_backoff),
        cmocka_unit_test(test_start_invalid),
        cmocka_unit_test(test_real_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
