/* A WebSocket client for tests, over a blocking TCP socket to 127.0.0.1: a raw request (the
 * handshake or anything else, frames may follow in the same write), the response head, and
 * frames through wslay's frame API in client mode (masked, any opcode, no UTF-8 checks, so
 * tests can send what a browser would not). Header-only (static inline functions) because
 * every test file is an executable of its own; wslay and libsodium come with the daemon's
 * dependencies. The includer defines _GNU_SOURCE (memmem) before any header. Helpers abort
 * on impossible conditions (no socket); everything a test checks is returned. */
#ifndef CLOUDYA_TEST_WS_CLIENT_H
#define CLOUDYA_TEST_WS_CLIENT_H
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define WSC_PRE_MAX (16 * 1024)          /* bytes that may follow the response head */
#define WSC_HEAD_MAX (8 * 1024)          /* the response head */
#define WSC_FRAME_MAX (16 * 1024 * 1024) /* a larger frame is a test failure */

#include "../check.h"
#define WSC_CHECK(x) CHECK(x)

static inline int64_t wsc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct wsc {
    int fd;
    wslay_frame_context_ptr fr;
    unsigned char pre[WSC_PRE_MAX]; /* bytes read past the response headers */
    size_t pre_len, pre_off;
    int eof, err, timedout;
    uint64_t skip; /* the rest of a frame a timed-out wsc_frame left behind */
    int status;
    char head[WSC_HEAD_MAX];
};

struct wsc_frame {
    int opcode, fin;
    unsigned char *data;
    size_t len;
};

static inline ssize_t wsc_send_cb(const uint8_t *data, size_t len, int flags, void *ud)
{
    struct wsc *w = ud;
    (void)flags;
    ssize_t n = send(w->fd, data, len, MSG_NOSIGNAL);
    if (n <= 0) {
        w->err = 1;
        return -1;
    }
    return n;
}

static inline ssize_t wsc_recv_cb(uint8_t *buf, size_t len, int flags, void *ud)
{
    struct wsc *w = ud;
    (void)flags;
    if (w->pre_off < w->pre_len) {
        size_t n = w->pre_len - w->pre_off < len ? w->pre_len - w->pre_off : len;
        memcpy(buf, w->pre + w->pre_off, n);
        w->pre_off += n;
        return (ssize_t)n;
    }
    ssize_t n = recv(w->fd, buf, len, 0);
    if (n > 0)
        return n;
    if (n == 0)
        w->eof = 1;
    else if (errno == EAGAIN || errno == EWOULDBLOCK)
        w->timedout = 1;
    else
        w->err = 1;
    return -1;
}

static inline int wsc_mask_cb(uint8_t *buf, size_t len, void *ud)
{
    (void)ud;
    randombytes_buf(buf, len);
    return 0;
}

static const struct wslay_frame_callbacks wsc_callbacks = {wsc_send_cb, wsc_recv_cb,
                                                          wsc_mask_cb};

static inline void wsc_rcv_timeout(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* A connected socket (rcvbuf > 0 sets a small receive buffer before connecting), or -1 when
 * nothing listens. */
static inline int wsc_tcp_connect(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    WSC_CHECK(fd >= 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 0, or -1 when the peer is gone. */
static inline int wsc_send_all(int fd, const void *p, size_t len)
{
    const char *s = p;
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads the response head; what follows it is kept for the frame reader. Returns the
 * status (also in w->status), or -1. */
static inline int wsc_read_head(struct wsc *w, int timeout_ms)
{
    size_t len = 0;
    wsc_rcv_timeout(w->fd, timeout_ms);
    for (;;) {
        ssize_t n = recv(w->fd, w->head + len, sizeof(w->head) - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        char *end = memmem(w->head, len, "\r\n\r\n", 4);
        if (end != NULL) {
            size_t hlen = (size_t)(end - w->head) + 4;
            w->pre_len = len - hlen;
            memcpy(w->pre, w->head + hlen, w->pre_len);
            w->head[hlen] = '\0';
            break;
        }
        if (len == sizeof(w->head) - 1)
            return -1;
    }
    if (strncmp(w->head, "HTTP/1.1 ", 9) != 0)
        return -1;
    w->status = (int)strtol(w->head + 9, NULL, 10);
    return w->status;
}

/* The value of a response header (copied into out), or NULL. */
static inline const char *wsc_head_value(const struct wsc *w, const char *name, char *out,
                                         size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *p = strstr(w->head, "\r\n"); p != NULL && p[2] != '\r';
         p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t n = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
    }
    return NULL;
}

/* Sends a raw request (extra frames may follow it in the same write) and reads the head;
 * w->status stays -1 when there was no answer (or nothing listening). */
static inline struct wsc *wsc_raw(int port, const char *req, size_t len, int rcvbuf)
{
    struct wsc *w = calloc(1, sizeof(*w));
    WSC_CHECK(w != NULL);
    w->fd = wsc_tcp_connect(port, rcvbuf);
    WSC_CHECK(wslay_frame_context_init(&w->fr, &wsc_callbacks, w) == 0);
    w->status = -1;
    if (w->fd >= 0 && wsc_send_all(w->fd, req, len) == 0)
        wsc_read_head(w, 5000);
    return w;
}

static inline int wsc_request_text(char *out, size_t cap, const char *path, const char *key)
{
    return snprintf(out, cap,
                    "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n",
                    path, key);
}

static inline void wsc_free(struct wsc *w)
{
    if (w == NULL)
        return;
    wslay_frame_context_free(w->fr);
    if (w->fd >= 0)
        close(w->fd);
    free(w);
}

static inline int wsc_send(struct wsc *w, int opcode, const void *data, size_t len)
{
    struct wslay_frame_iocb io = {0};
    io.fin = 1;
    io.opcode = (uint8_t)opcode;
    io.mask = 1;
    io.payload_length = len;
    io.data = data;
    io.data_length = len;
    for (;;) {
        ssize_t r = wslay_frame_send(w->fr, &io);
        if (r < 0) {
            if (r == WSLAY_ERR_WANT_WRITE && !w->err)
                continue;
            return -1;
        }
        io.data += r;
        io.data_length -= (size_t)r;
        if (io.data_length == 0)
            return 0;
    }
}

static inline int wsc_text(struct wsc *w, const char *s)
{
    return wsc_send(w, WSLAY_TEXT_FRAME, s, strlen(s));
}

static inline int wsc_send_close(struct wsc *w, uint16_t code)
{
    unsigned char p[2] = {(unsigned char)(code >> 8), (unsigned char)code};
    return wsc_send(w, WSLAY_CONNECTION_CLOSE, p, 2);
}

/* One frame. Returns 0, -EPIPE at the end of the stream, -ETIMEDOUT, or -EPROTO. A frame
 * cut by a timeout is lost: the next call skips its rest. */
static inline int wsc_frame(struct wsc *w, struct wsc_frame *f, int timeout_ms)
{
    int have = 0;
    uint64_t payload = 0;
    free(f->data);
    memset(f, 0, sizeof(*f));
    w->timedout = 0;
    wsc_rcv_timeout(w->fd, timeout_ms);
    for (;;) {
        struct wslay_frame_iocb io;
        memset(&io, 0, sizeof(io));
        ssize_t r = wslay_frame_recv(w->fr, &io);
        if (r < 0) {
            if (r == WSLAY_ERR_WANT_READ && !w->eof && !w->err && !w->timedout)
                continue;
            if (have)
                w->skip = payload - f->len;
            return w->eof ? -EPIPE : w->timedout ? -ETIMEDOUT : -EPROTO;
        }
        if (w->skip > 0) { /* lost with the earlier timeout */
            w->skip -= io.data_length < w->skip ? io.data_length : w->skip;
            continue;
        }
        if (!have) {
            have = 1;
            f->opcode = io.opcode;
            f->fin = io.fin;
            payload = io.payload_length;
            WSC_CHECK(payload <= WSC_FRAME_MAX);
            f->data = malloc((size_t)payload + 1);
            WSC_CHECK(f->data != NULL);
        }
        memcpy(f->data + f->len, io.data, io.data_length);
        f->len += io.data_length;
        f->data[f->len] = '\0';
        if (f->len == payload)
            return 0;
    }
}

/* The next data or close frame; pings are answered on the way. */
static inline int wsc_msg(struct wsc *w, struct wsc_frame *f, int timeout_ms)
{
    for (;;) {
        int rc = wsc_frame(w, f, timeout_ms);
        if (rc != 0)
            return rc;
        if (f->opcode == WSLAY_PING) {
            wsc_send(w, WSLAY_PONG, f->data, f->len);
            continue;
        }
        if (f->opcode != WSLAY_PONG)
            return 0;
    }
}

static inline int wsc_close_code(const struct wsc_frame *f)
{
    return f->len >= 2 ? f->data[0] << 8 | f->data[1] : 1005;
}

/* Expects the end of the stream (skipping frames) within timeout_ms. */
static inline int wsc_wait_eof(struct wsc *w, int timeout_ms)
{
    struct wsc_frame f = {0};
    int64_t until = wsc_now_ms() + timeout_ms;
    int rc;
    do
        rc = wsc_frame(w, &f, timeout_ms);
    while (rc == 0 && wsc_now_ms() < until);
    free(f.data);
    return rc;
}

#endif
