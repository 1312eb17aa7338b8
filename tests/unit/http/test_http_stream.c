/* Unit tests for the streamed responses of src/http/http_server.c, against a real server on
 * a free loopback port: lines written by a producer thread arrive complete and in order with
 * chunked encoding and the usual headers (from an event thread and from the worker pool);
 * a client that leaves is seen by the producer; a reader that never reads costs at most
 * HTTP_STREAM_BUFFER_MAX bytes (-ENOBUFS) and loses whole lines only; shutdown ends open
 * streams promptly; plain routes keep working on a single event thread while a stream is
 * open; a kept-alive connection serves requests after a stream; HTTP/1.0 gets the body
 * unchunked; and many streams at once stay intact. Run under ASan for the lifetimes. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http_server.h"
#include "log.h"
#include "response.h"
#include "router.h"
#include "timeutil.h"
#include "xalloc.h"

#include "../check.h" /* CHECK() */

/* ---- producers ------------------------------------------------------------------------ */

enum prod_mode {
    P_LINES,      /* nlines lines, delay_us apart, then end */
    P_IDLE,       /* "hello\n", then wait for closed (or release), then end */
    P_FOREVER,    /* a line every 10 ms until a write fails */
    P_FLOOD,      /* 1 KiB lines until -ENOBUFS, then end */
    P_FLOOD_WAIT, /* 1 KiB lines until -ENOBUFS, then wait for closed, then end */
};

struct prod {
    http_stream *st;
    enum prod_mode mode;
    int nlines;
    int delay_us;
    pthread_t th;
    int joined;
    atomic_int done;
    atomic_int flooded; /* P_FLOOD*: the writes are over */
    /* results */
    int written;      /* writes that returned 0 */
    int first_err;    /* the first non-zero write result */
    int enobufs_at;   /* the index of the first -ENOBUFS, or -1 */
    int closed_at_enobufs;
    int closed_seen;
    int64_t closed_ms; /* when the producer saw the client gone */
};

#define MAX_PRODS 64
static pthread_mutex_t prods_mu = PTHREAD_MUTEX_INITIALIZER;
static struct prod *prods[MAX_PRODS];
static int nprods;

/* Knobs the tests set before a request. */
static int g_nlines = 20;
static int g_delay_us = 1000;
static atomic_int g_release; /* P_IDLE producers end when this is set */

static void line_text(char *buf, size_t cap, int i)
{
    snprintf(buf, cap, "line %05d of the stream\n", i);
}

static void flood_line(char *buf, int i)
{
    /* 1024 bytes: a number, filler, '\n' */
    int n = snprintf(buf, 1024, "%08d ", i);
    memset(buf + n, 'a' + i % 26, (size_t)(1023 - n));
    buf[1023] = '\n';
}

static void wait_closed(struct prod *p, int max_ms)
{
    int64_t until = time_mono_ms() + max_ms;
    while (!http_stream_closed(p->st) && !atomic_load(&g_release) && time_mono_ms() < until)
        usleep(2000);
    if (http_stream_closed(p->st)) {
        p->closed_seen = 1;
        p->closed_ms = time_mono_ms();
    }
}

static void *prod_main(void *arg)
{
    struct prod *p = arg;
    char buf[1024];
    int rc;
    switch (p->mode) {
    case P_LINES:
        for (int i = 0; i < p->nlines; i++) {
            line_text(buf, sizeof(buf), i);
            rc = http_stream_write(p->st, buf, strlen(buf));
            if (rc != 0) {
                p->first_err = rc;
                break;
            }
            p->written++;
            if (p->delay_us > 0)
                usleep((useconds_t)p->delay_us);
        }
        break;
    case P_IDLE:
        rc = http_stream_write(p->st, "hello\n", 6);
        if (rc == 0)
            p->written++;
        else
            p->first_err = rc;
        wait_closed(p, 10000);
        break;
    case P_FOREVER: {
        int64_t until = time_mono_ms() + 10000;
        for (int i = 0; time_mono_ms() < until; i++) {
            line_text(buf, sizeof(buf), i);
            rc = http_stream_write(p->st, buf, strlen(buf));
            if (rc != 0) {
                p->first_err = rc;
                p->closed_seen = http_stream_closed(p->st);
                p->closed_ms = time_mono_ms();
                break;
            }
            p->written++;
            usleep(10000);
        }
        break;
    }
    case P_FLOOD:
    case P_FLOOD_WAIT: {
        /* P_FLOOD stops at the first drop; P_FLOOD_WAIT retries until 200 ms of drops say
         * the kernel's buffers are full too, so nothing more can leave */
        int i = 0, drops = 0;
        p->enobufs_at = -1;
        while (i < 64 * 1024) { /* at most 64 MiB */
            flood_line(buf, i);
            rc = http_stream_write(p->st, buf, sizeof(buf));
            if (rc == -ENOBUFS) {
                if (p->enobufs_at < 0)
                    p->enobufs_at = i;
                if (p->mode == P_FLOOD || ++drops >= 20)
                    break;
                usleep(10000);
                continue;
            }
            if (rc != 0) {
                p->first_err = rc;
                break;
            }
            drops = 0;
            p->written++;
            i++;
        }
        p->closed_at_enobufs = http_stream_closed(p->st); /* a drop does not close it */
        atomic_store(&p->flooded, 1);
        if (p->mode == P_FLOOD_WAIT)
            wait_closed(p, 10000);
        break;
    }
    }
    http_stream_end(p->st);
    atomic_store(&p->done, 1);
    return NULL;
}

static void start_producer(http_stream *st, enum prod_mode mode)
{
    struct prod *p = xcalloc(1, sizeof(*p));
    p->st = st;
    p->mode = mode;
    p->nlines = g_nlines;
    p->delay_us = g_delay_us;
    atomic_init(&p->done, 0);
    atomic_init(&p->flooded, 0);
    pthread_mutex_lock(&prods_mu);
    CHECK(nprods < MAX_PRODS);
    prods[nprods++] = p;
    CHECK(pthread_create(&p->th, NULL, prod_main, p) == 0);
    pthread_mutex_unlock(&prods_mu);
}

static struct prod *prod_get(int i)
{
    pthread_mutex_lock(&prods_mu);
    struct prod *p = i < nprods ? prods[i] : NULL;
    pthread_mutex_unlock(&prods_mu);
    return p;
}

static int prod_count(void)
{
    pthread_mutex_lock(&prods_mu);
    int n = nprods;
    pthread_mutex_unlock(&prods_mu);
    return n;
}

/* Waits for producer i to exist. */
static struct prod *prod_wait(int i, int max_ms)
{
    int64_t until = time_mono_ms() + max_ms;
    struct prod *p;
    while ((p = prod_get(i)) == NULL && time_mono_ms() < until)
        usleep(1000);
    assert_non_null(p);
    return p;
}

/* Waits for producer i to finish (failing after max_ms) and joins it. */
static struct prod *prod_join(int i, int max_ms)
{
    struct prod *p = prod_wait(i, max_ms);
    int64_t until = time_mono_ms() + max_ms;
    while (!atomic_load(&p->done) && time_mono_ms() < until)
        usleep(1000);
    assert_true(atomic_load(&p->done));
    pthread_join(p->th, NULL);
    p->joined = 1;
    return p;
}

static void prods_reset(void)
{
    atomic_store(&g_release, 1);
    for (int i = 0; i < nprods; i++) {
        if (!prods[i]->joined)
            pthread_join(prods[i]->th, NULL);
        free(prods[i]);
    }
    nprods = 0;
    atomic_store(&g_release, 0);
}

/* ---- handlers ------------------------------------------------------------------------- */

static void h_lines(http_req *q)
{
    http_resp_header(q, "X-Extra", "yes");
    start_producer(http_respond_stream(q, 200, "text/plain; charset=utf-8"), P_LINES);
}

static void h_idle(http_req *q)
{
    start_producer(http_respond_stream(q, 200, "text/plain"), P_IDLE);
}

static void h_forever(http_req *q)
{
    start_producer(http_respond_stream(q, 200, "text/plain"), P_FOREVER);
}

static void h_flood(http_req *q)
{
    start_producer(http_respond_stream(q, 200, "text/plain"), P_FLOOD);
}

static void h_flood_wait(http_req *q)
{
    start_producer(http_respond_stream(q, 200, "text/plain"), P_FLOOD_WAIT);
}

/* The whole stream written and ended inside the handler, before MHD has the response. */
static void h_sync(http_req *q)
{
    http_stream *st = http_respond_stream(q, 201, "text/plain");
    CHECK(http_stream_write(st, "one\n", 4) == 0);
    CHECK(http_stream_write(st, "", 0) == 0);
    CHECK(http_stream_write(st, "two\n", 4) == 0);
    CHECK(http_stream_closed(st) == 0);
    http_stream_end(st);
}

static void h_empty(http_req *q)
{
    http_stream_end(http_respond_stream(q, 200, "text/plain"));
}

/* A stream replaced by an ordinary answer: its producer sees it closed at once. */
static void h_replaced(http_req *q)
{
    http_stream *st = http_respond_stream(q, 200, "text/plain");
    http_error(q, 409, "conflict", "changed my mind");
    CHECK(http_stream_closed(st) == 1);
    CHECK(http_stream_write(st, "x\n", 2) == -EPIPE);
    http_stream_end(st);
}

static void h_plain(http_req *q)
{
    http_respond(q, 200, "text/plain", xstrdup("ok\n"), 3);
}

/* ---- server fixture ------------------------------------------------------------------- */

static router g_router;
static http_server *g_srv;
static int g_port;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static int start_server(unsigned threads)
{
    char err[256];
    http_server_opts o = {0};
    o.host = "127.0.0.1";
    o.threads = threads;
    o.workers = 2;
    o.max_connections = 128;
    o.max_per_ip = 128;
    o.timeout_s = 30;
    o.body_max = HTTP_BODY_MAX_DEFAULT;
    for (int attempt = 0; attempt < 5; attempt++) {
        o.port = free_port();
        if (o.port > 0 && http_server_start(&o, &g_router, &g_srv, err, sizeof(err)) == 0) {
            g_port = o.port;
            return 0;
        }
    }
    fprintf(stderr, "cannot start the server: %s\n", err);
    return -1;
}

static int setup(void **state)
{
    (void)state;
    g_nlines = 20;
    g_delay_us = 1000;
    atomic_store(&g_release, 0);
    return start_server(2);
}

static int setup_one_thread(void **state)
{
    (void)state;
    atomic_store(&g_release, 0);
    return start_server(1);
}

static int teardown(void **state)
{
    (void)state;
    atomic_store(&g_release, 1);
    if (g_srv != NULL) {
        http_server_shutdown(g_srv, 2000);
        g_srv = NULL;
    }
    prods_reset();
    return 0;
}

/* ---- clients -------------------------------------------------------------------------- */

struct body {
    char *p;
    size_t len, cap;
    char headers[4096];
    size_t hlen;
    size_t abort_after_lines; /* 0: read everything */
    atomic_int lines;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct body *b = ud;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, ptr, n);
    b->len += n;
    b->p[b->len] = '\0';
    int lines = 0;
    for (size_t i = 0; i < b->len; i++)
        lines += b->p[i] == '\n';
    atomic_store(&b->lines, lines);
    if (b->abort_after_lines != 0 && (size_t)lines >= b->abort_after_lines)
        return 0; /* curl aborts the transfer and drops the connection */
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct body *b = ud;
    size_t n = size * nmemb;
    if (b->hlen + n < sizeof(b->headers)) {
        memcpy(b->headers + b->hlen, ptr, n);
        b->hlen += n;
        b->headers[b->hlen] = '\0';
    }
    return n;
}

static int has_header(const struct body *b, const char *line)
{
    return strcasestr(b->headers, line) != NULL;
}

/* GET (or HEAD) path; returns the curl code, the status in *status. */
static CURLcode fetch(const char *path, int head, struct body *b, long *status)
{
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", g_port, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, b);
    if (head)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c); /* closes the connection */
    return rc;
}

struct bg_fetch {
    const char *path;
    struct body b;
    long status;
    CURLcode rc;
    pthread_t th;
    atomic_int done;
};

static void *bg_main(void *arg)
{
    struct bg_fetch *f = arg;
    f->rc = fetch(f->path, 0, &f->b, &f->status);
    atomic_store(&f->done, 1);
    return NULL;
}

static void bg_start(struct bg_fetch *f, const char *path)
{
    memset(f, 0, sizeof(*f));
    f->path = path;
    atomic_init(&f->done, 0);
    atomic_init(&f->b.lines, 0);
    assert_int_equal(pthread_create(&f->th, NULL, bg_main, f), 0);
}

static void wait_lines(struct bg_fetch *f, int n, int max_ms)
{
    int64_t until = time_mono_ms() + max_ms;
    while (atomic_load(&f->b.lines) < n && time_mono_ms() < until)
        usleep(1000);
    assert_true(atomic_load(&f->b.lines) >= n);
}

static void expect_lines(const struct body *b, int n)
{
    char line[64];
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        line_text(line, sizeof(line), i);
        size_t k = strlen(line);
        assert_true(off + k <= b->len);
        assert_memory_equal(b->p + off, line, k);
        off += k;
    }
    assert_int_equal(off, b->len);
}

/* A raw client: connects with a tiny receive buffer and sends one request. */
static int raw_connect(const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    return fd;
}

struct rd {
    int fd;
    char buf[65536];
    size_t off, len;
};

static int rd_byte(struct rd *r)
{
    if (r->off == r->len) {
        ssize_t n = recv(r->fd, r->buf, sizeof(r->buf), 0);
        if (n <= 0)
            return -1;
        r->off = 0;
        r->len = (size_t)n;
    }
    return (unsigned char)r->buf[r->off++];
}

static size_t rd_line(struct rd *r, char *out, size_t cap)
{
    size_t n = 0;
    int c;
    while ((c = rd_byte(r)) >= 0) {
        if (n + 1 < cap)
            out[n++] = (char)c;
        if (c == '\n')
            break;
    }
    out[n] = '\0';
    return n;
}

/* Reads the response head and the whole chunked body into b; fails on bad framing. */
static void read_chunked(int fd, struct body *b)
{
    static struct rd r;
    char line[1024];
    memset(&r, 0, sizeof(r));
    r.fd = fd;
    assert_true(rd_line(&r, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, "HTTP/1.1 200"));
    int chunked = 0;
    while (rd_line(&r, line, sizeof(line)) > 0 && strcmp(line, "\r\n") != 0)
        chunked |= strcasestr(line, "Transfer-Encoding: chunked") != NULL;
    assert_true(chunked);
    for (;;) {
        assert_true(rd_line(&r, line, sizeof(line)) > 0);
        char *end;
        unsigned long size = strtoul(line, &end, 16);
        assert_true(end != line && (*end == '\r' || *end == ';'));
        if (size == 0)
            break;
        assert_true(size <= 1024 * 1024);
        if (b->len + size + 1 > b->cap) {
            b->cap = (b->len + size + 1) * 2;
            b->p = xrealloc(b->p, b->cap);
        }
        for (unsigned long i = 0; i < size; i++) {
            int c = rd_byte(&r);
            assert_true(c >= 0);
            b->p[b->len++] = (char)c;
        }
        assert_int_equal(rd_byte(&r), '\r');
        assert_int_equal(rd_byte(&r), '\n');
    }
    assert_true(rd_line(&r, line, sizeof(line)) > 0);
    assert_string_equal(line, "\r\n"); /* no trailers */
}

/* ---- tests ---------------------------------------------------------------------------- */

static void check_lines_route(const char *path)
{
    struct body b = {0};
    long status;
    g_nlines = 50;
    g_delay_us = 2000;
    assert_int_equal(fetch(path, 0, &b, &status), CURLE_OK);
    assert_int_equal(status, 200);
    expect_lines(&b, 50);
    assert_true(has_header(&b, "Transfer-Encoding: chunked\r\n"));
    assert_true(has_header(&b, "Content-Type: text/plain; charset=utf-8\r\n"));
    assert_true(has_header(&b, "Cache-Control: no-store\r\n"));
    assert_true(has_header(&b, "X-Content-Type-Options: nosniff\r\n"));
    assert_true(has_header(&b, "X-Extra: yes\r\n"));
    assert_true(has_header(&b, "X-Request-Id: "));
    struct prod *p = prod_join(prod_count() - 1, 5000);
    assert_int_equal(p->written, 50);
    assert_int_equal(p->first_err, 0);
    free(b.p);
}

static void test_lines_in_order(void **state)
{
    (void)state;
    check_lines_route("/lines");
    /* again, no delay between writes, many lines: the reader and the writer race */
    struct body b = {0};
    long status;
    g_nlines = 5000;
    g_delay_us = 0;
    assert_int_equal(fetch("/lines", 0, &b, &status), CURLE_OK);
    expect_lines(&b, 5000);
    free(b.p);
    prod_join(1, 5000);
}

/* The handler runs on the worker pool while the connection is suspended. */
static void test_lines_slow_route(void **state)
{
    (void)state;
    check_lines_route("/slow-lines");
}

static void test_sync_and_empty_streams(void **state)
{
    struct body b = {0}, e = {0}, r = {0};
    long status;
    (void)state;
    assert_int_equal(fetch("/sync", 0, &b, &status), CURLE_OK);
    assert_int_equal(status, 201);
    assert_string_equal(b.p, "one\ntwo\n");
    assert_int_equal(fetch("/empty", 0, &e, &status), CURLE_OK);
    assert_int_equal(status, 200);
    assert_int_equal(e.len, 0);
    assert_true(has_header(&e, "Transfer-Encoding: chunked\r\n"));
    assert_int_equal(fetch("/replaced", 0, &r, &status), CURLE_OK);
    assert_int_equal(status, 409);
    assert_non_null(strstr(r.p, "changed my mind"));
    free(b.p);
    free(e.p);
    free(r.p);
}

/* The client reads five lines and hangs up; the producer learns within 2 s. */
static void test_client_disconnect(void **state)
{
    struct body b = {0};
    long status;
    (void)state;
    b.abort_after_lines = 5;
    assert_int_equal(fetch("/forever", 0, &b, &status), CURLE_WRITE_ERROR);
    int64_t gone_at = time_mono_ms();
    struct prod *p = prod_join(0, 5000);
    assert_int_equal(p->first_err, -EPIPE);
    assert_int_equal(p->closed_seen, 1);
    assert_true(p->closed_ms - gone_at < 2000);
    assert_true(p->written >= 5);
    free(b.p);
}

/* HEAD: MHD sends no body, the response is done at once, the producer sees it closed. */
static void test_head_closes_stream(void **state)
{
    struct body b = {0};
    long status;
    (void)state;
    int64_t t0 = time_mono_ms();
    assert_int_equal(fetch("/idle", 1, &b, &status), CURLE_OK);
    assert_int_equal(status, 200);
    struct prod *p = prod_join(0, 3000);
    assert_int_equal(p->closed_seen, 1);
    assert_true(p->closed_ms - t0 < 2000);
    free(b.p);
}

/* A client that never reads: once HTTP_STREAM_BUFFER_MAX bytes are pending, writes fail
 * with -ENOBUFS and are dropped whole; the stream stays open, and when the client finally
 * reads it gets every line written before the first drop, intact, then a proper end. */
static void test_enobufs_slow_reader(void **state)
{
    struct body b = {0};
    (void)state;
    int fd = raw_connect("/flood");
    struct prod *p = prod_join(0, 20000);
    assert_int_equal(p->first_err, 0);
    assert_true(p->enobufs_at >= HTTP_STREAM_BUFFER_MAX / 1024);
    assert_int_equal(p->closed_at_enobufs, 0);
    read_chunked(fd, &b);
    close(fd);
    assert_int_equal(b.len, (size_t)p->enobufs_at * 1024);
    char want[1024];
    for (int i = 0; i < p->enobufs_at; i++) {
        flood_line(want, i);
        assert_memory_equal(b.p + (size_t)i * 1024, want, 1024);
    }
    free(b.p);
}

/* Shutdown with a producer alive and waiting: the stream is ended (the client gets what
 * was written and a proper end), the drain is clean and quick, the producer sees closed. */
static void test_shutdown_ends_open_stream(void **state)
{
    struct bg_fetch f;
    (void)state;
    bg_start(&f, "/idle");
    wait_lines(&f, 1, 5000);
    struct prod *p = prod_wait(0, 1000);
    assert_int_equal(http_stream_closed(p->st), 0);
    int64_t t0 = time_mono_ms();
    int left = http_server_shutdown(g_srv, 5000);
    g_srv = NULL;
    assert_int_equal(left, 0);
    int64_t took = time_mono_ms() - t0;
    assert_true(took < 1000);
    p = prod_join(0, 3000);
    assert_int_equal(p->closed_seen, 1);
    assert_true(p->closed_ms - t0 < 1000);
    pthread_join(f.th, NULL);
    assert_int_equal(f.rc, CURLE_OK);
    assert_int_equal(f.status, 200);
    assert_string_equal(f.b.p, "hello\n");
    free(f.b.p);
}

/* Shutdown while a stream cannot drain (its client never reads): the drain gives up after
 * its timeout and counts it, the stop closes it, and the producer sees closed. */
static void test_shutdown_stuck_stream(void **state)
{
    (void)state;
    int fd = raw_connect("/flood-wait");
    struct prod *p = prod_wait(0, 5000);
    int64_t until = time_mono_ms() + 20000;
    while (!atomic_load(&p->flooded) && time_mono_ms() < until)
        usleep(1000);
    assert_true(atomic_load(&p->flooded));
    int64_t t0 = time_mono_ms();
    int left = http_server_shutdown(g_srv, 300);
    g_srv = NULL;
    assert_int_equal(left, 1);
    assert_true(time_mono_ms() - t0 < 2000);
    p = prod_join(0, 3000);
    assert_true(p->enobufs_at > 0);
    assert_int_equal(p->closed_seen, 1);
    close(fd);
}

/* One event thread: a stream waiting for its producer must not hold it. */
static void test_plain_routes_while_streaming(void **state)
{
    struct bg_fetch f;
    (void)state;
    bg_start(&f, "/idle");
    wait_lines(&f, 1, 5000);
    for (int i = 0; i < 20; i++) {
        struct body b = {0};
        long status;
        int64_t t0 = time_mono_ms();
        assert_int_equal(fetch("/plain", 0, &b, &status), CURLE_OK);
        assert_int_equal(status, 200);
        assert_string_equal(b.p, "ok\n");
        assert_true(time_mono_ms() - t0 < 1000);
        free(b.p);
    }
    struct prod *p = prod_wait(0, 1000);
    assert_int_equal(http_stream_closed(p->st), 0);
    assert_false(atomic_load(&f.done));
    atomic_store(&g_release, 1); /* the producer ends its stream */
    pthread_join(f.th, NULL);
    assert_int_equal(f.rc, CURLE_OK);
    assert_string_equal(f.b.p, "hello\n");
    prod_join(0, 3000);
    free(f.b.p);
}

/* Keep-alive: the connection that carried a stream carries the next requests. */
static void test_keepalive_after_stream(void **state)
{
    char url[128];
    long reused = -1;
    (void)state;
    g_nlines = 5;
    g_delay_us = 0;
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    const char *paths[] = {"/lines", "/plain", "/sync", "/lines"};
    for (int i = 0; i < 4; i++) {
        struct body b = {0};
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", g_port, paths[i]);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        if (i == 0 || i == 3)
            expect_lines(&b, 5);
        else if (i == 1)
            assert_string_equal(b.p, "ok\n");
        else
            assert_string_equal(b.p, "one\ntwo\n");
        if (i > 0) {
            curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &reused);
            assert_int_equal(reused, 0); /* no new connection */
        }
        free(b.p);
    }
    curl_easy_cleanup(c);
    prod_join(0, 5000);
    prod_join(1, 5000);
}

/* HTTP/1.0 has no chunked encoding: the body ends when the server closes. */
static void test_http10_client(void **state)
{
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    const char *req = "GET /sync HTTP/1.0\r\n\r\n";
    assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    while (len + 1 < sizeof(buf) && (n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
    assert_non_null(strstr(buf, " 201 "));
    assert_null(strcasestr(buf, "chunked"));
    char *body = strstr(buf, "\r\n\r\n");
    assert_non_null(body);
    assert_string_equal(body + 4, "one\ntwo\n");
}

/* Many streams at once, writers racing readers on both event threads. */
static void test_concurrent_streams(void **state)
{
    enum { N = 12 };
    struct bg_fetch *f = xcalloc(N, sizeof(*f));
    (void)state;
    g_nlines = 400;
    g_delay_us = 100;
    for (int i = 0; i < N; i++)
        bg_start(&f[i], i % 2 ? "/lines" : "/slow-lines");
    for (int i = 0; i < N; i++) {
        pthread_join(f[i].th, NULL);
        assert_int_equal(f[i].rc, CURLE_OK);
        expect_lines(&f[i].b, 400);
        free(f[i].b.p);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(prod_join(i, 5000)->written, 400);
    free(f);
}

int main(void)
{
    router_add(&g_router, "GET", "/lines", h_lines, 0);
    router_add(&g_router, "GET", "/slow-lines", h_lines, ROUTE_SLOW);
    router_add(&g_router, "GET", "/idle", h_idle, 0);
    router_add(&g_router, "GET", "/forever", h_forever, 0);
    router_add(&g_router, "GET", "/flood", h_flood, 0);
    router_add(&g_router, "GET", "/flood-wait", h_flood_wait, 0);
    router_add(&g_router, "GET", "/sync", h_sync, 0);
    router_add(&g_router, "GET", "/empty", h_empty, 0);
    router_add(&g_router, "GET", "/replaced", h_replaced, 0);
    router_add(&g_router, "GET", "/plain", h_plain, 0);
    log_set_level(getenv("TEST_LOG_LEVEL") != NULL ? getenv("TEST_LOG_LEVEL") : "warn");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_slow_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_and_empty_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_disconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_closes_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enobufs_slow_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_ends_open_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_stuck_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_routes_while_streaming, setup_one_thread,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_after_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http10_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_streams, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
