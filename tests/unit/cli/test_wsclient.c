/* Unit tests for src/cli/wsclient.c. Against the daemon's own WebSocket server
 * (src/http/websocket.c behind http_server.c on a free loopback port): the handshake and
 * echo of small, 60 KiB and multibyte messages, the token arriving in the Authorization
 * header (and none without a token), a base URL with a trailing '/', a refused upgrade (401
 * with the daemon's JSON sentence, 404), the server's close code and reason, a clean close
 * from the client, pings answered while idle, the server stopping (1001), receive timeouts.
 * Against a tiny raw-socket fake server (a thread): a wrong Sec-WebSocket-Accept, a 101
 * without Upgrade, frames sent in the same write as the 101 (the bytes after the head), a
 * message over WSC_MSG_MAX (the client closes with 1009), the end of the stream, a 503
 * without a body, an answer that is not HTTP, a head over 16 KiB and a server that never
 * answers (the connect timeout). And a port where nothing listens. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_server.h"
#include "log.h"
#include "response.h"
#include "router.h"
#include "timeutil.h"
#include "websocket.h"
#include "wsclient.h"
#include "xalloc.h"

/* cmocka's asserts may only run on the test's thread; the server's callbacks and the fake
 * server use this. */
#include "../check.h" /* CHECK() */

#define ERRLEN 512
#define AUTH_MAX 256

/* ---- the real server ------------------------------------------------------------------------ */

static router g_router;
static http_server *g_srv;
static int g_port;
static char g_base[64];
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_auth[AUTH_MAX]; /* the last upgrade's Authorization header */
static int g_auth_present;
static atomic_int g_opens, g_closes;

static void on_text(ws_conn *c, const char *msg, size_t len, void *ctx)
{
    (void)ctx;
    if (len == 8 && memcmp(msg, "close-me", 8) == 0)
        ws_close(c, 4001, "bye now");
    else
        CHECK(ws_send_text(c, msg, len) == 0);
}

static void on_open(ws_conn *c, void *ctx)
{
    (void)c;
    (void)ctx;
    atomic_fetch_add(&g_opens, 1);
}

static void on_close(ws_conn *c, void *ctx)
{
    (void)c;
    (void)ctx;
    atomic_fetch_add(&g_closes, 1);
}

static const ws_handlers handlers = {on_open, on_text, on_close};

static void h_ws(http_req *q)
{
    const char *a = http_req_header(q, "Authorization");
    pthread_mutex_lock(&g_mu);
    g_auth_present = a != NULL;
    snprintf(g_auth, sizeof(g_auth), "%s", a != NULL ? a : "");
    pthread_mutex_unlock(&g_mu);
    (void)http_respond_websocket(q, &handlers, NULL);
}

static void h_refuse(http_req *q)
{
    http_error(q, 401, "unauthenticated", "the token is invalid or expired: run cloudya login");
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int setup(void **state)
{
    (void)state;
    char err[256] = "";
    http_server_opts o = {0};
    o.host = "127.0.0.1";
    o.threads = 2;
    o.workers = 2;
    o.max_connections = 64;
    o.max_per_ip = 64;
    o.timeout_s = 30;
    o.body_max = HTTP_BODY_MAX_DEFAULT;
    atomic_store(&g_opens, 0);
    atomic_store(&g_closes, 0);
    g_auth[0] = '\0';
    g_auth_present = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        o.port = free_port();
        if (o.port > 0 && http_server_start(&o, &g_router, &g_srv, err, sizeof(err)) == 0) {
            g_port = o.port;
            snprintf(g_base, sizeof(g_base), "http://127.0.0.1:%d", g_port);
            return 0;
        }
    }
    fprintf(stderr, "cannot start the server: %s\n", err);
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    if (g_srv != NULL) http_server_shutdown(g_srv, 2000);
    g_srv = NULL;
    ws_timing_set(0, 0);
    return 0;
}

static int wait_int(atomic_int *v, int want, int max_ms)
{
    int64_t until = time_mono_ms() + max_ms;
    while (atomic_load(v) != want && time_mono_ms() < until)
        usleep(1000);
    return atomic_load(v);
}

/* Connects to the real server's /ws with token; asserts success. */
static struct wsc *open_ws(const char *token)
{
    char err[ERRLEN] = "";
    struct wsc *w = wsc_connect(g_base, "/ws", token, 5000, err, sizeof(err));
    if (w == NULL) fprintf(stderr, "wsc_connect: %s\n", err);
    assert_non_null(w);
    assert_string_equal(err, "");
    return w;
}

/* Sends text and expects the same bytes back. */
static void echo(struct wsc *w, const char *text, size_t len)
{
    char *m = NULL;
    size_t mlen = 0;
    assert_int_equal(wsc_send_text(w, text, len), 0);
    assert_int_equal(wsc_recv(w, 5000, &m, &mlen), 1);
    assert_non_null(m);
    assert_int_equal(mlen, len);
    assert_memory_equal(m, text, len);
    assert_int_equal(m[mlen], '\0');
    free(m);
}

/* ---- tests against the real server -------------------------------------------------------- */

static void test_connect_echo_and_token(void **state)
{
    (void)state;
    struct wsc *w = open_ws("tok-123.abc");
    pthread_mutex_lock(&g_mu);
    assert_int_equal(g_auth_present, 1);
    assert_string_equal(g_auth, "Bearer tok-123.abc");
    pthread_mutex_unlock(&g_mu);
    assert_int_equal(wait_int(&g_opens, 1, 5000), 1);

    echo(w, "hello", 5);
    echo(w, "", 0);
    const char *mb = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac "
                     "\xf0\x9f\x8e\x89";
    echo(w, mb, strlen(mb));
    size_t big = 60 * 1024;
    char *m = xmalloc(big);
    for (size_t i = 0; i < big; i++)
        m[i] = (char)('a' + i % 26);
    echo(w, m, big);
    free(m);

    /* several messages queued before any is read come back in order */
    assert_int_equal(wsc_send_text(w, "one", 3), 0);
    assert_int_equal(wsc_send_text(w, "two", 3), 0);
    assert_int_equal(wsc_send_text(w, "three", 5), 0);
    const char *want[] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        char *r = NULL;
        size_t rlen = 0;
        assert_int_equal(wsc_recv(w, 5000, &r, &rlen), 1);
        assert_string_equal(r, want[i]);
        free(r);
    }
    assert_string_equal(wsc_error(w), "the live channel is open");

    /* the client's close: the server sees the end promptly */
    wsc_close(w);
    assert_int_equal(wait_int(&g_closes, 1, 2000), 1);
}

static void test_no_token_and_trailing_slash(void **state)
{
    (void)state;
    char base[80], err[ERRLEN] = "";
    snprintf(base, sizeof(base), "%s/", g_base);
    struct wsc *w = wsc_connect(base, "/ws", "", 5000, err, sizeof(err));
    assert_non_null(w);
    pthread_mutex_lock(&g_mu);
    assert_int_equal(g_auth_present, 0);
    pthread_mutex_unlock(&g_mu);
    echo(w, "x", 1);
    wsc_close(w);
    w = wsc_connect(base, "/ws", NULL, 5000, err, sizeof(err));
    assert_non_null(w);
    wsc_close(w);
    wsc_close(NULL); /* harmless */
}

static void test_refused_upgrade(void **state)
{
    (void)state;
    char err[ERRLEN] = "";
    struct wsc *w = wsc_connect(g_base, "/refuse", "tok", 5000, err, sizeof(err));
    assert_null(w);
    assert_non_null(strstr(err, "HTTP 401"));
    assert_non_null(strstr(err, "the token is invalid or expired: run cloudya login"));
    assert_non_null(strstr(err, "refused"));
    assert_null(strstr(err, "tok\"")); /* the token is never quoted */

    w = wsc_connect(g_base, "/nowhere", "tok", 5000, err, sizeof(err));
    assert_null(w);
    assert_non_null(strstr(err, "HTTP 404"));
    assert_int_equal(atomic_load(&g_opens), 0);
}

static void test_server_close_code(void **state)
{
    (void)state;
    struct wsc *w = open_ws("t");
    char *m = NULL;
    size_t len = 0;
    assert_int_equal(wsc_send_text(w, "close-me", 8), 0);
    assert_int_equal(wsc_recv(w, 5000, &m, &len), -EPIPE);
    assert_null(m);
    assert_non_null(strstr(wsc_error(w), "4001"));
    assert_non_null(strstr(wsc_error(w), "bye now"));
    /* over for good */
    assert_int_equal(wsc_recv(w, 100, &m, &len), -EPIPE);
    assert_int_equal(wsc_send_text(w, "late", 4), -EPIPE);
    wsc_close(w);
    assert_int_equal(wait_int(&g_closes, 1, 3000), 1);
}

static void test_recv_timeouts(void **state)
{
    (void)state;
    struct wsc *w = open_ws("t");
    char *m = NULL;
    size_t len = 0;
    int64_t t0 = time_mono_ms();
    assert_int_equal(wsc_recv(w, 0, &m, &len), 0);
    assert_true(time_mono_ms() - t0 < 100);
    t0 = time_mono_ms();
    assert_int_equal(wsc_recv(w, 300, &m, &len), 0);
    int64_t took = time_mono_ms() - t0;
    assert_true(took >= 290 && took < 1500);
    assert_null(m);
    echo(w, "still here", 10);
    wsc_close(w);
}

/* Pings every 100 ms, idle limit 400 ms: the client's automatic pongs keep it open. */
static void test_pings_answered(void **state)
{
    (void)state;
    ws_timing_set(100, 400);
    struct wsc *w = open_ws("t");
    char *m = NULL;
    size_t len = 0;
    int64_t until = time_mono_ms() + 1200;
    while (time_mono_ms() < until)
        assert_int_equal(wsc_recv(w, 100, &m, &len), 0);
    echo(w, "alive", 5);
    assert_int_equal(atomic_load(&g_closes), 0);
    wsc_close(w);
}

static void test_server_stopping(void **state)
{
    (void)state;
    struct wsc *w = open_ws("t");
    char *m = NULL;
    size_t len = 0;
    http_server_shutdown(g_srv, 2000);
    g_srv = NULL;
    assert_int_equal(wsc_recv(w, 5000, &m, &len), -EPIPE);
    assert_non_null(strstr(wsc_error(w), "1001"));
    wsc_close(w);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char err[ERRLEN] = "";
    assert_null(wsc_connect("ftp://127.0.0.1:1", "/ws", "", 1000, err, sizeof(err)));
    assert_non_null(strstr(err, "http://"));
    assert_null(wsc_connect("not a url", "/ws", "", 1000, err, sizeof(err)));
    assert_non_null(strstr(err, "not a valid URL"));
    assert_null(wsc_connect(g_base, "ws", "", 1000, err, sizeof(err)));
    assert_null(wsc_connect(g_base, "/ws", "tok\r\nX-Evil: 1", 1000, err, sizeof(err)));
    assert_non_null(strstr(err, "token"));
    assert_null(wsc_connect(g_base, "/ws\r\nX: y", "", 1000, err, sizeof(err)));
    assert_null(wsc_connect(NULL, "/ws", "", 1000, NULL, 0)); /* no err buffer: fine */
    assert_int_equal(atomic_load(&g_opens), 0);
    char *m = NULL;
    size_t len = 0;
    assert_int_equal(wsc_recv(NULL, 0, &m, &len), -EPIPE);
    assert_int_equal(wsc_send_text(NULL, "x", 1), -EPIPE);
    assert_string_equal(wsc_error(NULL), "not connected");
}

static void test_connection_refused(void **state)
{
    (void)state;
    char base[64], err[ERRLEN] = "";
    int port = free_port(); /* nothing listens there */
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
    int64_t t0 = time_mono_ms();
    assert_null(wsc_connect(base, "/api/ws", "t", 5000, err, sizeof(err)));
    assert_true(time_mono_ms() - t0 < 3000);
    assert_non_null(strstr(err, "could not connect"));
    assert_non_null(strstr(err, base));
    assert_non_null(strstr(err, "refused"));
}

/* ---- the fake server ------------------------------------------------------------------------ */

enum fake_mode {
    FAKE_BAD_ACCEPT, /* 101 with a wrong accept */
    FAKE_NO_UPGRADE, /* 101 with the right accept but no Upgrade header */
    FAKE_PRE,        /* 101 and two text frames in the same write */
    FAKE_BIG,        /* 101, then one frame of WSC_MSG_MAX + 1 bytes */
    FAKE_EOF,        /* 101, then the end of the stream */
    FAKE_503,        /* 503, no body */
    FAKE_GARBAGE,    /* not HTTP */
    FAKE_HUGE_HEAD,  /* 101 with 20 KiB of headers */
    FAKE_SILENT,     /* never answers */
};

struct fake {
    enum fake_mode mode;
    int lfd, port;
    pthread_t th;
    int close_code;      /* the code of the client's close frame, or -1 */
    char auth[AUTH_MAX]; /* the request's Authorization line */
};

static void send_all(int fd, const void *p, size_t len)
{
    const char *s = p;
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0) return;
        s += n;
        len -= (size_t)n;
    }
}

/* An unmasked server frame header for len bytes of opcode; returns its size. */
static size_t frame_head(unsigned char *h, int opcode, uint64_t len)
{
    h[0] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        h[1] = (unsigned char)len;
        return 2;
    }
    if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)(len >> (56 - 8 * i));
    return 10;
}

/* Reads the client's frames (masked) from in[0..len) and returns the close code of the
 * first close frame, -1 when none is complete yet. */
static int find_close(const unsigned char *in, size_t len)
{
    size_t off = 0;
    while (off + 2 <= len) {
        int op = in[off] & 0x0f;
        uint64_t plen = in[off + 1] & 0x7f;
        size_t hl = 2;
        if (plen == 126) {
            if (off + 4 > len) return -1;
            plen = (uint64_t)in[off + 2] << 8 | in[off + 3];
            hl = 4;
        } else if (plen == 127) {
            if (off + 10 > len) return -1;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | in[off + 2 + i];
            hl = 10;
        }
        CHECK(in[off + 1] & 0x80); /* a client's frames are masked */
        if (off + hl + 4 + plen > len) return -1;
        const unsigned char *mask = in + off + hl;
        const unsigned char *p = mask + 4;
        if (op == 8 && plen >= 2) return ((p[0] ^ mask[0]) << 8) | (p[1] ^ mask[1]);
        off += hl + 4 + (size_t)plen;
    }
    return -1;
}

/* After the answer: sends out (non-blocking, as the client takes it) while reading the
 * client's frames, until its close frame came (recorded) or 10 s pass. */
static void fake_exchange(struct fake *f, int fd, const unsigned char *out, size_t olen)
{
    size_t cap = 64 * 1024, len = 0, sent = 0;
    unsigned char *in = xmalloc(cap);
    int64_t until = time_mono_ms() + 10000;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    while (time_mono_ms() < until && f->close_code < 0) {
        struct pollfd p = {fd, (short)(POLLIN | (sent < olen ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 100) <= 0) continue;
        if (p.revents & POLLOUT) {
            ssize_t n = send(fd, out + sent, olen - sent, MSG_NOSIGNAL);
            if (n > 0) sent += (size_t)n;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (len == cap) break;
            ssize_t n = recv(fd, in + len, cap - len, 0);
            if (n <= 0) break;
            len += (size_t)n;
            f->close_code = find_close(in, len);
        }
    }
    free(in);
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    char req[8192], key[128] = "", acc[WS_ACCEPT_LEN + 1] = "";
    size_t len = 0;
    int fd = accept(f->lfd, NULL, NULL);
    CHECK(fd >= 0);
    while (len < sizeof(req) - 1) {
        ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
        if (n <= 0) break;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL) break;
    }
    req[len] = '\0';
    const char *k = strcasestr(req, "\r\nSec-WebSocket-Key: ");
    if (k != NULL) {
        k += strlen("\r\nSec-WebSocket-Key: ");
        size_t kl = strcspn(k, "\r\n");
        snprintf(key, sizeof(key), "%.*s", (int)kl, k);
        CHECK(ws_accept_compute(key, acc, sizeof(acc)) == 0);
    }
    const char *a = strcasestr(req, "\r\nAuthorization: ");
    if (a != NULL) snprintf(f->auth, sizeof(f->auth), "%.*s", (int)strcspn(a + 2, "\r\n"), a + 2);
    char head[512];
    snprintf(head, sizeof(head),
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\n\r\n",
             acc);
    switch (f->mode) {
    case FAKE_BAD_ACCEPT: {
        const char *bad = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        send_all(fd, bad, strlen(bad));
        fake_exchange(f, fd, NULL, 0); /* until the client hangs up */
        break;
    }
    case FAKE_NO_UPGRADE: {
        char h[512];
        snprintf(h, sizeof(h),
                 "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
        send_all(fd, h, strlen(h));
        fake_exchange(f, fd, NULL, 0);
        break;
    }
    case FAKE_PRE: {
        unsigned char buf[1024];
        size_t n = strlen(head);
        memcpy(buf, head, n);
        n += frame_head(buf + n, 1, 9);
        memcpy(buf + n, "hello-pre", 9);
        n += 9;
        n += frame_head(buf + n, 1, 6);
        memcpy(buf + n, "second", 6);
        n += 6;
        send_all(fd, buf, n); /* one write: the frames come with the head */
        fake_exchange(f, fd, NULL, 0);
        break;
    }
    case FAKE_BIG: {
        size_t plen = WSC_MSG_MAX + 1;
        unsigned char *buf = xmalloc(plen + 16);
        size_t n = frame_head(buf, 1, plen);
        memset(buf + n, 'z', plen);
        send_all(fd, head, strlen(head));
        fake_exchange(f, fd, buf, n + plen);
        free(buf);
        break;
    }
    case FAKE_EOF:
        send_all(fd, head, strlen(head));
        break;
    case FAKE_503: {
        const char *r = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
        send_all(fd, r, strlen(r));
        break;
    }
    case FAKE_GARBAGE: {
        const char *r = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
        send_all(fd, r, strlen(r));
        break;
    }
    case FAKE_HUGE_HEAD: {
        size_t cap = 24 * 1024;
        char *h = xmalloc(cap);
        int n = snprintf(h, cap, "HTTP/1.1 101 Switching Protocols\r\n");
        while ((size_t)n < 20 * 1024)
            n += snprintf(h + n, cap - (size_t)n, "X-Filler: %050d\r\n", n);
        send_all(fd, h, (size_t)n);
        free(h);
        fake_exchange(f, fd, NULL, 0);
        break;
    }
    case FAKE_SILENT:
        fake_exchange(f, fd, NULL, 0);
        break;
    }
    close(fd);
    return NULL;
}

static void fake_start(struct fake *f, enum fake_mode mode)
{
    memset(f, 0, sizeof(*f));
    f->mode = mode;
    f->close_code = -1;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof(a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->lfd, 4), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    pthread_join(f->th, NULL);
    close(f->lfd);
}

static struct wsc *fake_connect(struct fake *f, int timeout_ms, char *err, size_t errlen)
{
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", f->port);
    return wsc_connect(base, "/api/ws", "sekrit", timeout_ms, err, errlen);
}

/* ---- tests against the fake server --------------------------------------------------------- */

static void test_bad_accept(void **state)
{
    (void)state;
    struct fake f;
    char err[ERRLEN] = "";
    fake_start(&f, FAKE_BAD_ACCEPT);
    assert_null(fake_connect(&f, 5000, err, sizeof(err)));
    assert_non_null(strstr(err, "Sec-WebSocket-Accept"));
    fake_stop(&f);
    assert_string_equal(f.auth, "Authorization: Bearer sekrit");
    assert_null(strstr(err, "sekrit"));

    fake_start(&f, FAKE_NO_UPGRADE);
    assert_null(fake_connect(&f, 5000, err, sizeof(err)));
    assert_non_null(strstr(err, "without upgrading"));
    fake_stop(&f);
}

static void test_frames_after_the_head(void **state)
{
    (void)state;
    struct fake f;
    char err[ERRLEN] = "", *m = NULL;
    size_t len = 0;
    fake_start(&f, FAKE_PRE);
    struct wsc *w = fake_connect(&f, 5000, err, sizeof(err));
    assert_non_null(w);
    assert_int_equal(wsc_recv(w, 2000, &m, &len), 1);
    assert_string_equal(m, "hello-pre");
    assert_int_equal(len, 9);
    free(m);
    assert_int_equal(wsc_recv(w, 2000, &m, &len), 1);
    assert_string_equal(m, "second");
    free(m);
    wsc_close(w); /* sends 1000 */
    fake_stop(&f);
    assert_int_equal(f.close_code, 1000);
}

static void test_message_too_big(void **state)
{
    (void)state;
    struct fake f;
    char err[ERRLEN] = "", *m = NULL;
    size_t len = 0;
    fake_start(&f, FAKE_BIG);
    struct wsc *w = fake_connect(&f, 5000, err, sizeof(err));
    assert_non_null(w);
    int rc = 0;
    int64_t until = time_mono_ms() + 10000;
    while (rc == 0 && time_mono_ms() < until)
        rc = wsc_recv(w, 500, &m, &len);
    assert_int_equal(rc, -EPIPE);
    assert_null(m);
    assert_non_null(strstr(wsc_error(w), "1009"));
    fake_stop(&f); /* the fake got our close frame before this returned */
    assert_int_equal(f.close_code, 1009);
    wsc_close(w);
}

static void test_end_of_stream(void **state)
{
    (void)state;
    struct fake f;
    char err[ERRLEN] = "", *m = NULL;
    size_t len = 0;
    fake_start(&f, FAKE_EOF);
    struct wsc *w = fake_connect(&f, 5000, err, sizeof(err));
    assert_non_null(w);
    assert_int_equal(wsc_recv(w, 5000, &m, &len), -EPIPE);
    assert_non_null(strstr(wsc_error(w), "ended the connection"));
    fake_stop(&f);
    wsc_close(w);
}

static void test_bad_answers(void **state)
{
    (void)state;
    struct fake f;
    char err[ERRLEN] = "";
    fake_start(&f, FAKE_503);
    assert_null(fake_connect(&f, 5000, err, sizeof(err)));
    assert_non_null(strstr(err, "HTTP 503 Service Unavailable"));
    fake_stop(&f);

    fake_start(&f, FAKE_GARBAGE);
    assert_null(fake_connect(&f, 5000, err, sizeof(err)));
    assert_non_null(strstr(err, "did not answer with HTTP"));
    fake_stop(&f);

    fake_start(&f, FAKE_HUGE_HEAD);
    assert_null(fake_connect(&f, 5000, err, sizeof(err)));
    assert_non_null(strstr(err, "bytes of headers"));
    fake_stop(&f);
}

static void test_connect_timeout(void **state)
{
    (void)state;
    struct fake f;
    char err[ERRLEN] = "";
    fake_start(&f, FAKE_SILENT);
    int64_t t0 = time_mono_ms();
    assert_null(fake_connect(&f, 300, err, sizeof(err)));
    int64_t took = time_mono_ms() - t0;
    assert_true(took >= 290 && took < 2000);
    assert_non_null(strstr(err, "no answer"));
    fake_stop(&f);
}

int main(void)
{
    log_set_level(getenv("WS_TEST_LOG") != NULL ? getenv("WS_TEST_LOG") : "error");
    if (sodium_init() < 0) return 1;
    router_add(&g_router, "GET", "/ws", h_ws, 0);
    router_add(&g_router, "GET", "/refuse", h_refuse, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connect_echo_and_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_token_and_trailing_slash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_close_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pings_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_stopping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_bad_accept),
        cmocka_unit_test(test_frames_after_the_head),
        cmocka_unit_test(test_message_too_big),
        cmocka_unit_test(test_end_of_stream),
        cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_connect_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
