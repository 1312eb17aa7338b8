/* Unit tests for src/http/websocket.c against a real server on a free loopback port, with
 * the client of ws_client.h (wslay's frame API, masked frames): the handshake (Accept
 * against RFC 6455's own example) and its checks, echo of empty, multibyte, 60 KiB and
 * WS_MSG_MAX messages, frames sent with the request (MHD's extra bytes), a push from another
 * thread, 1009/1007/1003 for a 70 KiB message, invalid UTF-8 and binary, ws_close's code and
 * cut reason, bad upgrade requests (400/426, no callbacks), a client that never reads
 * (-ENOBUFS, pending never above WS_QUEUE_MAX, counted as slow), 50 connections and a
 * broadcast, pings and the idle limit, MHD's timeout not applying but its per-IP limit
 * counting WebSockets, a ROUTE_SLOW upgrade, shutdown with open connections (every
 * on_close, promptly), an upgrade during shutdown (closed at once) and Debian's
 * python3-websocket as an independent client. Run under ASan/UBSan for the lifetimes. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "http_server.h"
#include "log.h"
#include "response.h"
#include "router.h"
#include "timeutil.h"
#include "websocket.h"
#include "xalloc.h"

#include "ws_client.h"

#include "../check.h" /* CHECK() */

#define KIB 1024
#define MAX_SC 256
#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* ---- the server side: one record per WebSocket answer ------------------------------------ */

struct sc {
    ws_conn *c; /* a reference taken in on_open */
    atomic_int opened, closed, texts;
    int refused; /* http_respond_websocket said -EINVAL: no callbacks ever */
    int64_t closed_ms;
};

static pthread_mutex_t sc_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sc *scs[MAX_SC];
static int nsc;
static atomic_int g_opens, g_closes, g_texts, g_handler_rc_einval;
static atomic_llong g_shutdown_at; /* when a shutdown began (ms), for /ws-late */

static void on_open(ws_conn *c, void *ctx)
{
    struct sc *s = ctx;
    CHECK(atomic_load(&s->opened) == 0 && atomic_load(&s->closed) == 0);
    ws_conn_ref(c);
    pthread_mutex_lock(&sc_mu);
    s->c = c;
    pthread_mutex_unlock(&sc_mu);
    atomic_store(&s->opened, 1);
    atomic_fetch_add(&g_opens, 1);
}

static void on_text(ws_conn *c, const char *msg, size_t len, void *ctx)
{
    struct sc *s = ctx;
    char reason[400];
    CHECK(atomic_load(&s->opened) == 1 && atomic_load(&s->closed) == 0);
    CHECK(len <= WS_MSG_MAX);
    atomic_fetch_add(&s->texts, 1);
    atomic_fetch_add(&g_texts, 1);
    if (len == 8 && memcmp(msg, "close-me", 8) == 0) {
        ws_close(c, 4001, "bye");
        ws_close(c, 4002, "second call is ignored");
        CHECK(ws_send_text(c, "late", 4) == -EPIPE);
    } else if (len == 11 && memcmp(msg, "long-reason", 11) == 0) {
        size_t n = 0;
        while (n + 2 < sizeof(reason)) { /* 199 times "é": 398 bytes */
            reason[n++] = (char)0xc3;
            reason[n++] = (char)0xa9;
        }
        reason[n] = '\0';
        ws_close(c, 1008, reason); /* no -ENOBUFS before: not a slow consumer */
    } else if (len == 11 && memcmp(msg, "bad-utf8-me", 11) == 0) {
        CHECK(ws_send_text(c, "\xff\xfe", 2) == -EINVAL);
        CHECK(ws_send_text(c, "\xed\xa0\x80", 3) == -EINVAL); /* a surrogate */
        CHECK(ws_send_text(c, "refused", 7) == 0);
    } else {
        CHECK(ws_send_text(c, msg, len) == 0);
    }
}

static void on_close(ws_conn *c, void *ctx)
{
    struct sc *s = ctx;
    (void)c;
    CHECK(atomic_fetch_add(&s->closed, 1) == 0); /* exactly once */
    s->closed_ms = time_mono_ms();
    atomic_fetch_add(&g_closes, 1);
}

static const ws_handlers handlers = {on_open, on_text, on_close};

static struct sc *sc_new(void)
{
    struct sc *s = xcalloc(1, sizeof(*s));
    pthread_mutex_lock(&sc_mu);
    CHECK(nsc < MAX_SC);
    scs[nsc++] = s;
    pthread_mutex_unlock(&sc_mu);
    return s;
}

static void upgrade(http_req *q)
{
    struct sc *s = sc_new();
    int rc = http_respond_websocket(q, &handlers, s);
    if (rc != 0) {
        CHECK(rc == -EINVAL);
        s->refused = 1;
        atomic_fetch_add(&g_handler_rc_einval, 1);
    }
}

static void h_ws(http_req *q)
{
    upgrade(q);
}

/* ROUTE_SLOW: waits until a shutdown has been going on for 200 ms, then upgrades. */
static void h_ws_late(http_req *q)
{
    int64_t until = time_mono_ms() + 10000;
    while (time_mono_ms() < until &&
           (atomic_load(&g_shutdown_at) == 0 || time_mono_ms() < atomic_load(&g_shutdown_at) + 200))
        usleep(5000);
    upgrade(q);
}

/* Upgrades, then changes its mind: on_close runs at once, on_open never. */
static void h_ws_replaced(http_req *q)
{
    struct sc *s = sc_new();
    CHECK(http_respond_websocket(q, &handlers, s) == 0);
    http_error(q, 409, "conflict", "changed my mind");
    CHECK(atomic_load(&s->closed) == 1 && atomic_load(&s->opened) == 0);
}

static void h_plain(http_req *q)
{
    http_respond(q, 200, "text/plain", xstrdup("ok\n"), 3);
}

static struct sc *sc_get(int i)
{
    pthread_mutex_lock(&sc_mu);
    struct sc *s = i < nsc ? scs[i] : NULL;
    pthread_mutex_unlock(&sc_mu);
    return s;
}

static int sc_count(void)
{
    pthread_mutex_lock(&sc_mu);
    int n = nsc;
    pthread_mutex_unlock(&sc_mu);
    return n;
}

/* Waits for record i to be opened. */
static struct sc *sc_wait_open(int i, int max_ms)
{
    int64_t until = time_mono_ms() + max_ms;
    struct sc *s;
    while (((s = sc_get(i)) == NULL || !atomic_load(&s->opened)) && time_mono_ms() < until)
        usleep(1000);
    assert_non_null(s);
    assert_int_equal(atomic_load(&s->opened), 1);
    return s;
}

static int wait_int(atomic_int *v, int want, int max_ms)
{
    int64_t until = time_mono_ms() + max_ms;
    while (atomic_load(v) != want && time_mono_ms() < until)
        usleep(1000);
    return atomic_load(v);
}

/* ---- the server fixture -------------------------------------------------------------------- */

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

static int start_server(unsigned timeout_s, unsigned max_per_ip)
{
    char err[256] = "";
    http_server_opts o = {0};
    o.host = "127.0.0.1";
    o.threads = 2;
    o.workers = 2;
    o.max_connections = 512;
    o.max_per_ip = max_per_ip;
    o.timeout_s = timeout_s;
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

static void counters_reset(void)
{
    atomic_store(&g_opens, 0);
    atomic_store(&g_closes, 0);
    atomic_store(&g_texts, 0);
    atomic_store(&g_handler_rc_einval, 0);
    atomic_store(&g_shutdown_at, 0);
}

static int setup(void **state)
{
    (void)state;
    counters_reset();
    return start_server(30, 512);
}

static int setup_short_timeout(void **state)
{
    (void)state;
    counters_reset();
    return start_server(1, 512);
}

static int setup_three_per_ip(void **state)
{
    (void)state;
    counters_reset();
    return start_server(30, 3);
}

/* After the server has stopped every connection is closed: sends say -EPIPE. */
static int teardown(void **state)
{
    (void)state;
    if (g_srv != NULL) {
        http_server_shutdown(g_srv, 2000);
        g_srv = NULL;
    }
    ws_timing_set(0, 0);
    pthread_mutex_lock(&sc_mu);
    for (int i = 0; i < nsc; i++) {
        CHECK(atomic_load(&scs[i]->closed) == !scs[i]->refused);
        if (scs[i]->c != NULL) {
            CHECK(ws_send_text(scs[i]->c, "x", 1) == -EPIPE);
            ws_close(scs[i]->c, 1000, NULL); /* harmless */
            ws_conn_unref(scs[i]->c);
        }
        free(scs[i]);
    }
    nsc = 0;
    pthread_mutex_unlock(&sc_mu);
    return 0;
}

/* ---- client helpers that assert (the client itself is ws_client.h) ------------------------ */

/* A handshake with a fresh random key; asserts the 101 and the accept value. */
static struct wsc *wsc_open_path(const char *path, int rcvbuf)
{
    unsigned char raw[16];
    char key[32], req[512], want[WS_ACCEPT_LEN + 1], got[128];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(key, sizeof(key), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
    int n = wsc_request_text(req, sizeof(req), path, key);
    struct wsc *w = wsc_raw(g_port, req, (size_t)n, rcvbuf);
    CHECK(w->status == 101);
    CHECK(ws_accept_compute(key, want, sizeof(want)) == 0);
    CHECK(wsc_head_value(w, "Sec-WebSocket-Accept", got, sizeof(got)) != NULL);
    CHECK(strcmp(got, want) == 0);
    return w;
}

static struct wsc *wsc_open(void)
{
    return wsc_open_path("/ws", 0);
}

/* Echo round trip of len bytes made of a repeating pattern. */
static void echo_check(struct wsc *w, size_t len)
{
    char *m = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        m[i] = (char)('a' + i % 26);
    m[len] = '\0';
    assert_int_equal(wsc_send(w, WSLAY_TEXT_FRAME, m, len), 0);
    struct wsc_frame f = {0};
    assert_int_equal(wsc_msg(w, &f, 5000), 0);
    assert_int_equal(f.opcode, WSLAY_TEXT_FRAME);
    assert_int_equal(f.fin, 1);
    assert_int_equal(f.len, len);
    assert_memory_equal(f.data, m, len);
    free(f.data);
    free(m);
}

/* The client ends politely: close 1000, the server's answer, then the end of stream. */
static void wsc_bye(struct wsc *w)
{
    struct wsc_frame f = {0};
    assert_int_equal(wsc_send_close(w, 1000), 0);
    assert_int_equal(wsc_msg(w, &f, 5000), 0);
    assert_int_equal(f.opcode, WSLAY_CONNECTION_CLOSE);
    assert_int_equal(wsc_close_code(&f), 1000);
    free(f.data);
    assert_int_equal(wsc_wait_eof(w, 5000), -EPIPE);
    wsc_free(w);
}

/* A plain GET on its own connection; returns the status, or -1 without an answer. */
static int plain_get(const char *path)
{
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     path);
    struct wsc *w = wsc_raw(g_port, req, (size_t)n, 0);
    int status = w->status;
    wsc_free(w);
    return status;
}

/* ---- tests ------------------------------------------------------------------------------------ */

/* RFC 6455's example and values from Python's hashlib/base64; the checks of the request. */
static void test_accept_and_checks(void **state)
{
    (void)state;
    char out[WS_ACCEPT_LEN + 1];
    assert_int_equal(ws_accept_compute(RFC_KEY, out, sizeof(out)), 0);
    assert_string_equal(out, RFC_ACCEPT);
    assert_int_equal(ws_accept_compute("x3JJHMbDL1EzLkh9GBhXDw==", out, sizeof(out)), 0);
    assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
    assert_int_equal(ws_accept_compute("", out, sizeof(out)), 0); /* SHA-1 of the GUID */
    assert_string_equal(out, "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w=");
    /* 100 bytes: a full block and a tail (the 60 bytes above need two padding blocks) */
    assert_int_equal(
        ws_accept_compute("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                          out, sizeof(out)),
        0);
    assert_string_equal(out, "K0FJElb0i4SITS8K2B4k23alN7w=");
    assert_int_equal(ws_accept_compute(RFC_KEY, out, WS_ACCEPT_LEN), -ENOSPC);

    const char *why = NULL;
    ws_upgrade_req r = {"GET", "HTTP/1.1", "websocket", "Upgrade", "13", RFC_KEY};
    assert_int_equal(ws_upgrade_check(&r, &why), 0);
    r.upgrade = "WebSocket";
    r.connection = "keep-alive , UPGRADE";
    assert_int_equal(ws_upgrade_check(&r, &why), 0);
    r.upgrade = "h2c, websocket";
    assert_int_equal(ws_upgrade_check(&r, NULL), 0);
    r.connection = "upgraded";
    assert_int_equal(ws_upgrade_check(&r, &why), -EINVAL);
    assert_non_null(strstr(why, "Connection"));
    r.connection = "Upgrade";
    r.upgrade = "websockets";
    assert_int_equal(ws_upgrade_check(&r, &why), -EINVAL);
    r.upgrade = "websocket";
    r.ws_version = "8";
    assert_int_equal(ws_upgrade_check(&r, &why), -EPROTONOSUPPORT);
    r.ws_version = NULL;
    assert_int_equal(ws_upgrade_check(&r, &why), -EINVAL);
    r.ws_version = "13";
    const char *bad_keys[] = {
        NULL, "", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===",
        "dGhlIHNhbXBsZSBub25jZQ!!", "dGhlIHNhbXBsZSBub25jZR==", /* non-zero trailing bits */
        "dGhlIHNhbXBsZSBub25jZSE=",                               /* 17 bytes */
        "dGhlIHNhbXBsZSBub25jZQ== ", "\204\314\265\265\267\262\235\273L1EzLkh9GBhXDw==",
    };
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        r.key = bad_keys[i];
        assert_int_equal(ws_upgrade_check(&r, &why), -EINVAL);
    }
    r.key = RFC_KEY;
    r.method = "POST";
    assert_int_equal(ws_upgrade_check(&r, &why), -EINVAL);
    r.method = "GET";
    r.version = "HTTP/1.0";
    assert_int_equal(ws_upgrade_check(&r, &why), -EINVAL);
}

static void test_handshake_and_echo(void **state)
{
    (void)state;
    char req[512], v[128];
    ws_stats before, after;
    ws_stats_get(&before);
    int n = wsc_request_text(req, sizeof(req), "/ws", RFC_KEY);
    struct wsc *w = wsc_raw(g_port, req, (size_t)n, 0);
    assert_int_equal(w->status, 101);
    assert_non_null(wsc_head_value(w, "Sec-WebSocket-Accept", v, sizeof(v)));
    assert_string_equal(v, RFC_ACCEPT);
    assert_non_null(wsc_head_value(w, "Upgrade", v, sizeof(v)));
    assert_string_equal(v, "websocket");
    assert_non_null(wsc_head_value(w, "Connection", v, sizeof(v)));
    assert_int_equal(strcasecmp(v, "Upgrade"), 0);
    assert_non_null(wsc_head_value(w, "X-Request-Id", v, sizeof(v)));
    struct sc *s = sc_wait_open(0, 5000);
    assert_string_equal(ws_conn_ip(s->c), "127.0.0.1");
    assert_string_equal(ws_conn_request_id(s->c), v);

    echo_check(w, 5);
    echo_check(w, 0);
    echo_check(w, 125);
    echo_check(w, 126);
    echo_check(w, 65535);
    echo_check(w, 60 * KIB);
    echo_check(w, WS_MSG_MAX); /* exactly the limit is fine */
    assert_int_equal(wsc_text(w, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"), 0);
    struct wsc_frame f = {0};
    assert_int_equal(wsc_msg(w, &f, 5000), 0);
    assert_string_equal((char *)f.data, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
    /* the server refuses to send invalid UTF-8 and says so */
    assert_int_equal(wsc_text(w, "bad-utf8-me"), 0);
    assert_int_equal(wsc_msg(w, &f, 5000), 0);
    assert_string_equal((char *)f.data, "refused");
    free(f.data);
    assert_int_equal(atomic_load(&s->texts), 9);
    /* the I/O thread publishes what is left right after its write returns */
    int64_t until = time_mono_ms() + 2000;
    while (ws_pending(s->c) != 0 && time_mono_ms() < until)
        usleep(1000);
    assert_int_equal(ws_pending(s->c), 0);

    ws_stats_get(&after);
    assert_true(after.msgs_in >= before.msgs_in + 9);
    assert_true(after.msgs_out >= before.msgs_out + 9);
    assert_true(after.bytes_out >= before.bytes_out + 60 * KIB + WS_MSG_MAX + 65535);
    assert_true(after.opened >= before.opened + 1);
    assert_true(after.open >= 1);

    wsc_bye(w);
    assert_int_equal(wait_int(&s->closed, 1, 5000), 1);
    assert_int_equal(ws_send_text(s->c, "x", 1), -EPIPE);
    assert_int_equal(atomic_load(&g_opens), 1);
}

/* Frames sent in the same write as the request reach wslay first (MHD's extra bytes). */
static void test_frames_with_the_request(void **state)
{
    (void)state;
    char req[1024];
    unsigned char frames[64];
    int n = wsc_request_text(req, sizeof(req), "/ws", RFC_KEY);
    /* two masked text frames built here, "one" and "two", mask 1 2 3 4 */
    size_t fl = 0;
    const char *words[] = {"one", "two"};
    for (int k = 0; k < 2; k++) {
        frames[fl++] = 0x81;
        frames[fl++] = 0x80 | 3;
        unsigned char mask[4] = {1, 2, 3, 4};
        memcpy(frames + fl, mask, 4);
        fl += 4;
        for (int i = 0; i < 3; i++)
            frames[fl++] = (unsigned char)(words[k][i] ^ mask[i % 4]);
    }
    memcpy(req + n, frames, fl);
    struct wsc *w = wsc_raw(g_port, req, (size_t)n + fl, 0);
    assert_int_equal(w->status, 101);
    struct wsc_frame f = {0};
    assert_int_equal(wsc_msg(w, &f, 5000), 0);
    assert_string_equal((char *)f.data, "one");
    assert_int_equal(wsc_msg(w, &f, 5000), 0);
    assert_string_equal((char *)f.data, "two");
    free(f.data);
    wsc_bye(w);
}

struct pusher {
    ws_conn *c;
    int rc;
};

static void *push_main(void *arg)
{
    struct pusher *p = arg;
    p->rc = ws_send_text(p->c, "pushed from another thread", 26);
    return NULL;
}

static void test_server_push(void **state)
{
    (void)state;
    struct wsc *w = wsc_open();
    struct sc *s = sc_wait_open(0, 5000);
    struct pusher p = {s->c, -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, push_main, &p), 0);
    pthread_join(th, NULL);
    assert_int_equal(p.rc, 0);
    struct wsc_frame f = {0};
    assert_int_equal(wsc_msg(w, &f, 5000), 0);
    assert_string_equal((char *)f.data, "pushed from another thread");
    free(f.data);
    wsc_bye(w);
}

/* Sends data, expects a close frame with code, answers it and sees the end. */
static void expect_close(struct wsc *w, int code)
{
    struct wsc_frame f = {0};
    int rc;
    do /* echoes of earlier messages may come first */
        rc = wsc_msg(w, &f, 5000);
    while (rc == 0 && f.opcode == WSLAY_TEXT_FRAME);
    assert_int_equal(rc, 0);
    assert_int_equal(f.opcode, WSLAY_CONNECTION_CLOSE);
    assert_int_equal(wsc_close_code(&f), code);
    free(f.data);
    wsc_send_close(w, (uint16_t)code); /* may fail: the server may be gone already */
    assert_int_equal(wsc_wait_eof(w, 5000), -EPIPE);
}

/* What the client may not send: a text message over WS_MSG_MAX (1009), invalid UTF-8
 * (1007, after a valid message), a binary message (1003). on_text never sees them. */
static void test_protocol_violations_close(void **state)
{
    (void)state;
    char *big = xmalloc(70 * KIB);
    memset(big, 'x', 70 * KIB);
    struct {
        int opcode;
        const char *data;
        size_t len;
        int code, texts;
    } cases[] = {
        {WSLAY_TEXT_FRAME, big, 70 * KIB, 1009, 0},
        {WSLAY_TEXT_FRAME, "ab\xc3\x28", 4, 1007, 1},
        {WSLAY_BINARY_FRAME, "\x00\x01", 2, 1003, 1},
    };
    for (int i = 0; i < 3; i++) {
        struct wsc *w = wsc_open();
        struct sc *s = sc_wait_open(i, 5000);
        if (cases[i].texts > 0)
            assert_int_equal(wsc_text(w, "fine"), 0);
        assert_int_equal(wsc_send(w, cases[i].opcode, cases[i].data, cases[i].len), 0);
        expect_close(w, cases[i].code);
        assert_int_equal(wait_int(&s->closed, 1, 5000), 1);
        assert_int_equal(atomic_load(&s->texts), cases[i].texts);
        wsc_free(w);
    }
    free(big);
}

static void test_ws_close_sends_code(void **state)
{
    (void)state;
    struct wsc *w = wsc_open();
    struct sc *s = sc_wait_open(0, 5000);
    struct wsc_frame f = {0};
    assert_int_equal(wsc_text(w, "close-me"), 0);
    assert_int_equal(wsc_msg(w, &f, 5000), 0);
    assert_int_equal(f.opcode, WSLAY_CONNECTION_CLOSE);
    assert_int_equal(wsc_close_code(&f), 4001);
    assert_int_equal(f.len, 5);
    assert_memory_equal(f.data + 2, "bye", 3);
    assert_int_equal(wsc_send_close(w, 4001), 0);
    assert_int_equal(wsc_wait_eof(w, 5000), -EPIPE);
    assert_int_equal(wait_int(&s->closed, 1, 5000), 1);
    wsc_free(w);

    /* a long reason is cut to 123 bytes, never inside a character */
    ws_stats before, after;
    ws_stats_get(&before);
    w = wsc_open();
    sc_wait_open(1, 5000);
    assert_int_equal(wsc_text(w, "long-reason"), 0);
    assert_int_equal(wsc_msg(w, &f, 5000), 0);
    assert_int_equal(f.opcode, WSLAY_CONNECTION_CLOSE);
    assert_int_equal(wsc_close_code(&f), 1008);
    assert_int_equal(f.len, 2 + 122);
    for (size_t i = 2; i < f.len; i += 2)
        assert_memory_equal(f.data + i, "\xc3\xa9", 2);
    free(f.data);
    wsc_free(w); /* without answering: the server's grace ends it */
    assert_int_equal(wait_int(&g_closes, 2, 5000), 2);
    ws_stats_get(&after);
    assert_int_equal(after.closed_slow, before.closed_slow);
}

/* Each WebSocket keeps its slot in libmicrohttpd's limits (3 per IP here) until it closes. */
static void test_websocket_holds_its_slot(void **state)
{
    (void)state;
    struct wsc *w[3];
    for (int i = 0; i < 3; i++)
        w[i] = wsc_open();
    assert_int_equal(wait_int(&g_opens, 3, 5000), 3);
    assert_true(plain_get("/plain") < 0); /* accepted by the kernel, closed unanswered */
    echo_check(w[0], 10); /* the open ones are not disturbed */
    wsc_bye(w[0]);
    int64_t until = time_mono_ms() + 3000;
    int st;
    while ((st = plain_get("/plain")) != 200 && time_mono_ms() < until)
        usleep(20000);
    assert_int_equal(st, 200);
    wsc_bye(w[1]);
    wsc_bye(w[2]);
}

static void test_bad_upgrades(void **state)
{
    (void)state;
    struct {
        const char *req;
        int status;
    } cases[] = {
        {"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " RFC_KEY
         "\r\nSec-WebSocket-Version: 13\r\n\r\n",
         400}, /* no Upgrade */
        {"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
         "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
         400}, /* Connection without upgrade */
        {"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
         400}, /* bad key */
        {"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n",
         400}, /* no key */
        {"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " RFC_KEY "\r\n\r\n",
         400}, /* no version */
        {"POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 13\r\n"
         "Content-Length: 0\r\n\r\n",
         400}, /* not a GET */
        {"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n",
         426}, /* another version */
    };
    int ncases = (int)(sizeof(cases) / sizeof(cases[0]));
    for (int i = 0; i < ncases; i++) {
        struct wsc *w = wsc_raw(g_port, cases[i].req, strlen(cases[i].req), 0);
        assert_int_equal(w->status, cases[i].status);
        char v[64];
        if (cases[i].status == 426) {
            assert_non_null(wsc_head_value(w, "Sec-WebSocket-Version", v, sizeof(v)));
            assert_string_equal(v, "13");
        }
        assert_null(wsc_head_value(w, "Sec-WebSocket-Accept", v, sizeof(v)));
        wsc_free(w);
    }
    /* HTTP/1.0: 400 in an HTTP/1.0 answer */
    const char *old = "GET /ws HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    struct wsc *w = wsc_raw(g_port, old, strlen(old), 0);
    assert_non_null(strstr(w->head, " 400 "));
    wsc_free(w);
    assert_int_equal(atomic_load(&g_handler_rc_einval), ncases + 1);
    assert_int_equal(atomic_load(&g_opens), 0);
    assert_int_equal(atomic_load(&g_closes), 0);
    /* a handler that replaces its WebSocket answer: on_close ran, on_open never, and the
     * client gets that answer */
    int st = 0;
    char req[512];
    int n = wsc_request_text(req, sizeof(req), "/ws-replaced", RFC_KEY);
    w = wsc_raw(g_port, req, (size_t)n, 0);
    st = w->status;
    wsc_free(w);
    assert_int_equal(st, 409);
    assert_int_equal(atomic_load(&g_closes), 1);
    assert_int_equal(atomic_load(&g_opens), 0);
}

/* A client that never reads while the server pushes 10 MiB: the queue stops at
 * WS_QUEUE_MAX, -ENOBUFS comes before the bound is passed, and ws_close(1008) ends it. */
static void test_slow_consumer(void **state)
{
    (void)state;
    ws_stats before, after;
    ws_stats_get(&before);
    struct wsc *w = wsc_open_path("/ws", 4096);
    struct sc *s = sc_wait_open(0, 5000);
    size_t chunk = 16 * KIB, accepted = 0, max_pending = 0;
    char *m = xmalloc(chunk);
    memset(m, 'z', chunk);
    int enobufs = 0, drops = 0;
    while (accepted < 10 * KIB * KIB) {
        int rc = ws_send_text(s->c, m, chunk);
        size_t p = ws_pending(s->c);
        if (p > max_pending)
            max_pending = p;
        assert_true(p <= WS_QUEUE_MAX);
        if (rc == -ENOBUFS) {
            enobufs++;
            if (++drops >= 20) /* 200 ms of drops: the kernel's buffers are full too */
                break;
            usleep(10000);
            continue;
        }
        assert_int_equal(rc, 0);
        drops = 0;
        accepted += chunk;
    }
    free(m);
    assert_true(enobufs > 0);
    assert_true(accepted < 10 * KIB * KIB);
    assert_true(max_pending <= WS_QUEUE_MAX);
    assert_true(ws_pending(s->c) > WS_QUEUE_MAX - chunk); /* the queue really is full */
    ws_close(s->c, 1008, "too slow");
    assert_int_equal(ws_send_text(s->c, "x", 1), -EPIPE);
    ws_stats_get(&after);
    assert_int_equal(after.closed_slow, before.closed_slow + 1);
    /* the client never reads, so the close frame cannot get through: the grace ends it */
    assert_int_equal(wait_int(&s->closed, 1, 5000), 1);
    assert_int_equal(ws_pending(s->c), 0);
    wsc_free(w);
}

static void *broadcast_main(void *arg)
{
    int *sent = arg;
    for (int i = 0; i < sc_count(); i++) {
        struct sc *s = sc_get(i);
        if (s != NULL && s->c != NULL && ws_send_text(s->c, "broadcast!", 10) == 0)
            (*sent)++;
    }
    return NULL;
}

static void test_fifty_connections_broadcast(void **state)
{
    (void)state;
    enum { N = 50 };
    struct wsc *w[N];
    for (int i = 0; i < N; i++)
        w[i] = wsc_open();
    assert_int_equal(wait_int(&g_opens, N, 5000), N);
    ws_stats st;
    ws_stats_get(&st);
    assert_true(st.open >= N);
    /* plain requests keep working alongside */
    assert_int_equal(plain_get("/plain"), 200);
    int sent = 0;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, broadcast_main, &sent), 0);
    pthread_join(th, NULL);
    assert_int_equal(sent, N);
    struct wsc_frame f = {0};
    for (int i = 0; i < N; i++) {
        assert_int_equal(wsc_msg(w[i], &f, 5000), 0);
        assert_string_equal((char *)f.data, "broadcast!");
    }
    free(f.data);
    for (int i = 0; i < N; i++)
        echo_check(w[i], 100 + (size_t)i);
    for (int i = 0; i < N; i++)
        wsc_bye(w[i]);
    assert_int_equal(wait_int(&g_closes, N, 5000), N);
}

static void test_ping_and_idle_limit(void **state)
{
    (void)state;
    ws_timing_set(200, 700);
    struct wsc *live = wsc_open();
    struct wsc *mute = wsc_open();
    sc_wait_open(0, 5000);
    sc_wait_open(1, 5000);
    /* the live client answers pings for 1.5 s (twice the idle limit) */
    int pings = 0;
    int64_t until = time_mono_ms() + 1500;
    struct wsc_frame f = {0};
    while (time_mono_ms() < until) {
        int rc = wsc_frame(live, &f, 100);
        if (rc == -ETIMEDOUT)
            continue;
        assert_int_equal(rc, 0);
        assert_int_equal(f.opcode, WSLAY_PING);
        pings++;
        assert_int_equal(wsc_send(live, WSLAY_PONG, f.data, f.len), 0);
    }
    assert_true(pings >= 4);
    echo_check(live, 10);
    /* the mute one was closed after the idle limit, without a close frame */
    int closed_one = -1;
    for (int i = 0; i < 2; i++)
        if (atomic_load(&sc_get(i)->closed))
            closed_one = i;
    assert_int_equal(atomic_load(&g_closes), 1);
    assert_true(closed_one >= 0);
    assert_int_equal(atomic_load(&sc_get(1 - closed_one)->closed), 0);
    int rc;
    int saw_ping = 0;
    while ((rc = wsc_frame(mute, &f, 2000)) == 0)
        saw_ping |= f.opcode == WSLAY_PING;
    assert_int_equal(rc, -EPIPE);
    assert_true(saw_ping);
    free(f.data);
    wsc_free(mute);
    wsc_bye(live);
}

/* libmicrohttpd's idle timeout (1 s here) does not touch upgraded connections. */
static void test_mhd_timeout_does_not_apply(void **state)
{
    (void)state;
    struct wsc *w = wsc_open();
    sc_wait_open(0, 5000);
    usleep(2500 * 1000);
    echo_check(w, 42);
    assert_int_equal(atomic_load(&g_closes), 0);
    wsc_bye(w);
}

static void test_slow_route_upgrade(void **state)
{
    (void)state;
    struct wsc *w = wsc_open_path("/ws-slow", 0);
    sc_wait_open(0, 5000);
    echo_check(w, 1000);
    wsc_bye(w);
}

struct stopper {
    int64_t ms;
    int left;
};

static void *stop_main(void *arg)
{
    struct stopper *st = arg;
    int64_t t0 = time_mono_ms();
    atomic_store(&g_shutdown_at, t0);
    st->left = http_server_shutdown(g_srv, 5000);
    st->ms = time_mono_ms() - t0;
    return NULL;
}

static void test_shutdown_closes_all(void **state)
{
    (void)state;
    enum { N = 10 };
    struct wsc *w[N];
    for (int i = 0; i < N; i++)
        w[i] = wsc_open();
    assert_int_equal(wait_int(&g_opens, N, 5000), N);
    struct stopper st = {0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stop_main, &st), 0);
    /* half the clients answer the close, the others never read */
    struct wsc_frame f = {0};
    for (int i = 0; i < N / 2; i++) {
        assert_int_equal(wsc_msg(w[i], &f, 5000), 0);
        assert_int_equal(f.opcode, WSLAY_CONNECTION_CLOSE);
        assert_int_equal(wsc_close_code(&f), 1001);
        assert_string_equal((char *)f.data + 2, "server stopping");
        assert_int_equal(wsc_send_close(w[i], 1001), 0);
    }
    free(f.data);
    pthread_join(th, NULL);
    g_srv = NULL;
    assert_int_equal(st.left, 0);
    assert_true(st.ms < 1500); /* the grace is 1 s */
    assert_int_equal(atomic_load(&g_closes), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(wsc_wait_eof(w[i], 2000), -EPIPE);
        wsc_free(w[i]);
    }
}

/* An upgrade that completes while the server stops is closed at once: 101, then 1001. */
static void test_upgrade_during_shutdown(void **state)
{
    (void)state;
    char req[512];
    int n = wsc_request_text(req, sizeof(req), "/ws-late", RFC_KEY);
    struct wsc *w = xcalloc(1, sizeof(*w));
    w->fd = wsc_tcp_connect(g_port, 0);
    CHECK(w->fd >= 0);
    CHECK(wslay_frame_context_init(&w->fr, &wsc_callbacks, w) == 0);
    CHECK(wsc_send_all(w->fd, req, (size_t)n) == 0);
    usleep(100 * 1000); /* the handler is waiting on the worker */
    struct stopper st = {0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stop_main, &st), 0);
    assert_int_equal(wsc_read_head(w, 5000), 101);
    struct wsc_frame f = {0};
    assert_int_equal(wsc_msg(w, &f, 5000), 0);
    assert_int_equal(f.opcode, WSLAY_CONNECTION_CLOSE);
    assert_int_equal(wsc_close_code(&f), 1001);
    free(f.data);
    assert_int_equal(wsc_wait_eof(w, 5000), -EPIPE);
    pthread_join(th, NULL);
    g_srv = NULL;
    assert_int_equal(st.left, 0);
    assert_true(st.ms < 3000);
    assert_int_equal(atomic_load(&g_opens), 0);
    assert_int_equal(atomic_load(&g_closes), 1);
    wsc_free(w);
}

/* Debian's python3-websocket (an independent implementation) against the server. */
static void test_python_client(void **state)
{
    (void)state;
    if (system("/usr/bin/python3 -c 'import websocket' 2>/dev/null") != 0) {
        fprintf(stderr, "python3-websocket is not installed; skipped\n");
        skip();
    }
    char cmd[1024], out[256] = "";
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c 'import websocket\n"
             "ws = websocket.create_connection(\"ws://127.0.0.1:%d/ws\", timeout=5)\n"
             "ws.send(\"h\\u00e9llo from python\")\n"
             "a = ws.recv()\n"
             "ws.send(\"x\" * 60000)\n"
             "b = ws.recv()\n"
             "ws.ping(\"p\")\n"
             "ws.send(\"close-me\")\n"
             "op, frame = ws.recv_data_frame(True)\n"
             "pong = op == 10 and frame.data == b\"p\"\n"
             "op, frame = ws.recv_data_frame(True)\n"
             "code = int.from_bytes(frame.data[:2], \"big\")\n"
             "print(a, len(b), pong, op, code, frame.data[2:].decode())\n'",
             g_port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_string_equal(out, "h\xc3\xa9llo from python 60000 True 8 4001 bye\n");
    assert_int_equal(wait_int(&g_closes, 1, 5000), 1);
}

int main(void)
{
    log_set_level(getenv("WS_TEST_LOG") != NULL ? getenv("WS_TEST_LOG") : "error");
    if (sodium_init() < 0)
        return 1;
    router_add(&g_router, "GET", "/ws", h_ws, 0);
    router_add(&g_router, "POST", "/ws", h_ws, 0);
    router_add(&g_router, "GET", "/ws-slow", h_ws, ROUTE_SLOW);
    router_add(&g_router, "GET", "/ws-late", h_ws_late, ROUTE_SLOW);
    router_add(&g_router, "GET", "/ws-replaced", h_ws_replaced, 0);
    router_add(&g_router, "GET", "/plain", h_plain, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_and_checks),
        cmocka_unit_test_setup_teardown(test_handshake_and_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frames_with_the_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_violations_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ws_close_sends_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_upgrades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_consumer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifty_connections_broadcast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_and_idle_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mhd_timeout_does_not_apply, setup_short_timeout,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slow_route_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_websocket_holds_its_slot, setup_three_per_ip,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_closes_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_during_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_python_client, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
