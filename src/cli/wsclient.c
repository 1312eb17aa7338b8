/* The WebSocket client of `cloudya top` (see wsclient.h). libcurl owns the connection
 * (CURLOPT_CONNECT_ONLY: TCP, TLS and proxies as for every other call), the upgrade request
 * is written here, and wslay's event API does the framing on top of curl_easy_recv and
 * curl_easy_send. Everything the daemon sends is bounded: the answer's head (HEAD_MAX), the
 * body of a refused upgrade (BODY_MAX), one message (WSC_MSG_MAX, else close 1009) and the
 * messages received but not yet taken by the caller (QUEUE_MAX: reading pauses above it). */
#define _GNU_SOURCE
#include "wsclient.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

#include "str.h"
#include "timeutil.h"
#include "wskey.h"
#include "xalloc.h"

#define HEAD_MAX (16 * 1024)                 /* the answer's status line and headers */
#define BODY_MAX (64 * 1024)                 /* the body of a refused upgrade */
#define URL_MAX 2048                         /* base_url + path */
#define TOKEN_MAX 8192                       /* the bearer token */
#define REQ_MAX (URL_MAX + TOKEN_MAX + 1024) /* the whole upgrade request */
#define ERR_MAX 512                          /* wsc_error's sentence */
#define SENTENCE_MAX 300                     /* the daemon's error sentence quoted in err */
#define REASON_MAX 128               /* a close reason: at most 123 bytes (RFC 6455 §5.5) */
#define QUEUE_MAX (4u * WSC_MSG_MAX) /* received bytes held for the caller */
#define CLOSE_WAIT_MS 500            /* wsc_close: flush our close, wait for the answer */
#define DEFAULT_TIMEOUT_MS 10000
#define KEY_RAW 16    /* Sec-WebSocket-Key: 16 random bytes... */
#define KEY_B64 32    /* ...in base64 (24 characters and the NUL) */

struct msg {
    struct msg *next;
    size_t len;
    char data[]; /* len bytes and a NUL */
};

struct wsc {
    CURL *curl;
    curl_socket_t fd;
    wslay_event_context_ptr ws;
    unsigned char *pre; /* bytes that came after the answer's head */
    size_t pre_len, pre_off;
    struct msg *q_head, *q_tail; /* text messages not yet taken */
    size_t q_bytes;
    int eof;        /* the daemon ended the stream */
    CURLcode io;    /* a socket error (CURLE_OK when none) */
    int done;       /* the connection is over: only queued messages are left */
    int close_seen; /* err holds the daemon's close code and reason */
    char url[URL_MAX];
    char err[ERR_MAX];
};

/* --- small helpers ------------------------------------------------------------------------ */

/* Copies text from the network into out for a sentence: control characters become '?',
 * and the copy is cut at cap - 1 bytes (never inside a UTF-8 sequence). */
static void clean_copy(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = 0;
    if (cap == 0) return;
    if (len > cap - 1) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--; /* s[len] would be a continuation byte: cut before its lead byte */
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[n] = '\0';
}

/* The value of header name in head (the answer's head, NUL-terminated, lines ending in
 * CRLF), copied into out without surrounding blanks. Returns out, or NULL when absent. */
static const char *head_value(const char *head, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = strstr(head, "\r\n");
    while (p != NULL && p[2] != '\r' && p[2] != '\0') {
        const char *line = p + 2;
        const char *end = strstr(line, "\r\n");
        if (end == NULL) break;
        if ((size_t)(end - line) > nlen && strncasecmp(line, name, nlen) == 0 &&
            line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            const char *e = end;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            clean_copy(out, cap, v, (size_t)(e - v));
            return out;
        }
        p = end;
    }
    return NULL;
}


static int64_t left_ms(int64_t deadline)
{
    int64_t left = deadline - time_mono_ms();
    return left > 0 ? left : 0;
}

/* Waits until fd is ready for events or ms pass. Returns poll's answer (-1 on EINTR). */
static int wait_fd(curl_socket_t fd, short events, int64_t ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, ms > INT32_MAX ? INT32_MAX : (int)ms);
}


/* --- wslay's callbacks -------------------------------------------------------------------- */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    struct wsc *w = ud;
    size_t n = 0;
    (void)flags;
    if (w->pre_off < w->pre_len) {
        n = w->pre_len - w->pre_off < len ? w->pre_len - w->pre_off : len;
        memcpy(buf, w->pre + w->pre_off, n);
        w->pre_off += n;
        return (ssize_t)n;
    }
    if (w->q_bytes >= QUEUE_MAX) { /* the caller is behind: read again once it catches up */
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    CURLcode rc = curl_easy_recv(w->curl, buf, len, &n);
    if (rc == CURLE_OK && n > 0) return (ssize_t)n;
    if (rc == CURLE_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (rc == CURLE_OK)
        w->eof = 1;
    else
        w->io = rc;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    struct wsc *w = ud;
    size_t n = 0;
    (void)flags;
    CURLcode rc = curl_easy_send(w->curl, data, len, &n);
    if (rc == CURLE_OK && n > 0) return (ssize_t)n;
    if (rc == CURLE_AGAIN || rc == CURLE_OK) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    w->io = rc;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx;
    (void)ud;
    randombytes_buf(buf, len);
    return 0;
}

/* wslay has put the message together, checked its length (WSC_MSG_MAX, else it closes
 * with 1009) and, for text, its UTF-8. Text is queued for wsc_recv; the daemon's close
 * code and reason are kept for wsc_error; binary messages are not part of the protocol
 * and are dropped. */
static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *ud)
{
    struct wsc *w = ud;
    (void)ctx;
    if (a->opcode == WSLAY_TEXT_FRAME) {
        struct msg *m = xmalloc(sizeof(*m) + a->msg_length + 1);
        m->next = NULL;
        m->len = a->msg_length;
        if (a->msg_length > 0) memcpy(m->data, a->msg, a->msg_length);
        m->data[m->len] = '\0';
        if (w->q_tail != NULL)
            w->q_tail->next = m;
        else
            w->q_head = m;
        w->q_tail = m;
        w->q_bytes += m->len;
    } else if (a->opcode == WSLAY_CONNECTION_CLOSE && !w->close_seen) {
        char reason[REASON_MAX];
        size_t rlen = a->msg_length > 2 ? a->msg_length - 2 : 0;
        clean_copy(reason, sizeof(reason), rlen > 0 ? (const char *)a->msg + 2 : "", rlen);
        w->close_seen = 1;
        if (a->status_code == WSLAY_CODE_NO_STATUS_RCVD || a->status_code == 0)
            str_fmt(w->err, sizeof(w->err), "the daemon closed the live channel");
        else
            str_fmt(w->err, sizeof(w->err), "the daemon closed the live channel (code %u%s%s)",
                    (unsigned)a->status_code, reason[0] != '\0' ? ": " : "", reason);
    }
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .genmask_callback = genmask_cb,
    .on_msg_recv_callback = msg_cb,
};

/* --- the connection's life ---------------------------------------------------------------- */

/* Marks the connection over and says why in err, unless the daemon's close already did. */
static void finish(struct wsc *w)
{
    if (w->done) return;
    w->done = 1;
    if (w->close_seen) return;
    uint16_t sent = wslay_event_get_status_code_sent(w->ws);
    if (sent == WSLAY_CODE_MESSAGE_TOO_BIG)
        str_fmt(w->err, sizeof(w->err),
                "a message from the daemon was larger than %u bytes: the live channel was "
                "closed (code 1009)",
                (unsigned)WSC_MSG_MAX);
    else if (wslay_event_get_close_sent(w->ws) && sent != WSLAY_CODE_NORMAL_CLOSURE)
        str_fmt(w->err, sizeof(w->err),
                "the daemon broke the WebSocket protocol: the live channel was closed (code %u)",
                (unsigned)sent);
    else if (w->io != CURLE_OK)
        str_fmt(w->err, sizeof(w->err), "the live channel to %s failed: %s", w->url,
                curl_easy_strerror(w->io));
    else if (w->eof)
        str_fmt(w->err, sizeof(w->err), "the daemon at %s ended the connection", w->url);
    else
        str_fmt(w->err, sizeof(w->err), "the live channel was closed");
}

/* Moves what can move without waiting: reads what has arrived (all of it: TLS may hold
 * decrypted bytes that poll() cannot see) and writes what wslay has queued. Returns 0
 * while the connection lives, -EPIPE once it is over. */
static int pump(struct wsc *w)
{
    if (w->done) return -EPIPE;
    if (wslay_event_want_read(w->ws) && wslay_event_recv(w->ws) != 0) {
        finish(w);
        return -EPIPE;
    }
    if (wslay_event_want_write(w->ws) && wslay_event_send(w->ws) != 0) {
        finish(w);
        return -EPIPE;
    }
    /* over once a close went out (ours, or the answer to the daemon's), or nothing more
     * can be read (the daemon's close came and wslay stopped reading) */
    if ((wslay_event_get_close_sent(w->ws) && !wslay_event_want_write(w->ws)) ||
        (!wslay_event_want_read(w->ws) && !wslay_event_want_write(w->ws))) {
        finish(w);
        return -EPIPE;
    }
    return 0;
}

static short want_events(const struct wsc *w)
{
    short ev = POLLIN;
    if (wslay_event_want_write(w->ws)) ev |= POLLOUT;
    return ev;
}

/* Queues the message in wslay (which copies it) and writes what the socket takes now;
 * the rest goes out from wsc_recv. Returns 0, or -EPIPE once the connection is over or
 * closing. */
int wsc_send_text(struct wsc *w, const char *text, size_t len)
{
    if (w == NULL || w->done) return -EPIPE;
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
    if (wslay_event_queue_msg(w->ws, &m) != 0) return -EPIPE; /* closing: no more messages */
    if (wslay_event_send(w->ws) != 0) {
        finish(w);
        return -EPIPE;
    }
    return 0;
}

/* Hands out queued messages first, then reads and writes what is ready, then waits on
 * the socket. After a wait that timed out, one more read is tried before 0 is returned:
 * curl may hold TLS bytes already decrypted that poll() cannot see. A signal ends the
 * wait early with 0 (the caller looks at its flags). Returns 1 (a message), 0 or -EPIPE
 * (after the messages that came before the end). */
int wsc_recv(struct wsc *w, int timeout_ms, char **msg, size_t *len)
{
    *msg = NULL;
    *len = 0;
    if (w == NULL) return -EPIPE;
    int64_t deadline = time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (w->q_head != NULL) {
            struct msg *m = w->q_head;
            w->q_head = m->next;
            if (w->q_head == NULL) w->q_tail = NULL;
            w->q_bytes -= m->len;
            *len = m->len;
            memmove(m, m->data, m->len + 1); /* the block itself becomes the string */
            *msg = (char *)m;
            return 1;
        }
        if (w->done) return -EPIPE;
        int rc = pump(w);
        if (w->q_head != NULL || rc != 0) continue;
        int64_t left = left_ms(deadline);
        if (left == 0) return 0; /* the pump above was the last try after the wait */
        int pr = wait_fd(w->fd, want_events(w), left);
        if (pr < 0) return 0;                   /* a signal: let the caller look at its flags */
        if (pr == 0) deadline = time_mono_ms(); /* one more pump, then 0 */
    }
}

/* Returns the sentence that says why the connection ended (never NULL). */
const char *wsc_error(const struct wsc *w)
{
    if (w == NULL) return "not connected";
    return w->err[0] != '\0' ? w->err : "the live channel is open";
}

static void queue_free(struct wsc *w)
{
    struct msg *m = w->q_head;
    while (m != NULL) {
        struct msg *next = m->next;
        free(m);
        m = next;
    }
    w->q_head = w->q_tail = NULL;
    w->q_bytes = 0;
}

/* Ends politely when the connection still lives: our close 1000, then up to
 * CLOSE_WAIT_MS for the daemon's answer, so its logs show a clean end. Then frees. */
void wsc_close(struct wsc *w)
{
    if (w == NULL) return;
    if (w->ws != NULL && !w->done) {
        /* our close 1000, then the daemon's answer, briefly: a clean end in its logs */
        int64_t deadline = time_mono_ms() + CLOSE_WAIT_MS;
        (void)wslay_event_queue_close(w->ws, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
        queue_free(w); /* what was not taken is dropped; recv may read again */
        while (pump(w) == 0) {
            int64_t left = left_ms(deadline);
            if (left == 0 || wait_fd(w->fd, want_events(w), left) <= 0) break;
            queue_free(w);
        }
    }
    queue_free(w);
    if (w->ws != NULL) wslay_event_context_free(w->ws);
    if (w->curl != NULL) curl_easy_cleanup(w->curl);
    free(w->pre);
    free(w);
}

/* --- the handshake ------------------------------------------------------------------------ */

/* Sends all of buf before the deadline. Returns 0 or -1 with err set. */
static int send_all(struct wsc *w, const char *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        size_t n = 0;
        CURLcode rc = curl_easy_send(w->curl, buf, len, &n);
        if (rc == CURLE_OK && n > 0) {
            buf += n;
            len -= n;
            continue;
        }
        if (rc != CURLE_AGAIN && rc != CURLE_OK) {
            str_fmt(w->err, sizeof(w->err), "cannot send the upgrade request to %s: %s", w->url,
                    curl_easy_strerror(rc));
            return -1;
        }
        int64_t left = left_ms(deadline);
        if (left == 0 || wait_fd(w->fd, POLLOUT, left) == 0) {
            str_fmt(w->err, sizeof(w->err), "timed out sending the upgrade request to %s", w->url);
            return -1;
        }
    }
    return 0;
}

/* Reads into buf (cap bytes) until stop says the bytes are enough, the daemon ends the
 * stream, buf is full or the deadline passes. After a wait times out one more read is
 * tried (TLS may hold bytes poll cannot see). Returns the byte count in *len and 0, 1 at
 * the end of the stream, -ETIMEDOUT, -ENOSPC (full) or -EIO (err set). */
static int read_until(struct wsc *w, char *buf, size_t cap, size_t *len, int64_t deadline,
                      int (*stop)(const char *buf, size_t len, void *arg), void *arg)
{
    int last_try = 0;
    while (!stop(buf, *len, arg)) {
        if (*len >= cap) return -ENOSPC;
        size_t n = 0;
        CURLcode rc = curl_easy_recv(w->curl, buf + *len, cap - *len, &n);
        if (rc == CURLE_OK && n == 0) return 1;
        if (rc == CURLE_OK) {
            *len += n;
            continue;
        }
        if (rc != CURLE_AGAIN) {
            str_fmt(w->err, sizeof(w->err), "the connection to %s failed: %s", w->url,
                    curl_easy_strerror(rc));
            return -EIO;
        }
        if (last_try) return -ETIMEDOUT;
        int64_t left = left_ms(deadline);
        if (left == 0 || wait_fd(w->fd, POLLIN, left) == 0) last_try = 1;
    }
    return 0;
}

static int head_complete(const char *buf, size_t len, void *arg)
{
    (void)arg;
    return memmem(buf, len, "\r\n\r\n", 4) != NULL;
}

static int body_complete(const char *buf, size_t len, void *arg)
{
    (void)buf;
    return len >= *(size_t *)arg;
}

/* The refused upgrade's sentence: "the live channel was refused (HTTP 401 Unauthorized):
 * <the daemon's error>". body holds what came after the head; more is read up to
 * Content-Length (at most BODY_MAX) before the deadline. */
static void refused(struct wsc *w, int status, const char *reason, const char *head,
                    const char *after, size_t after_len, int64_t deadline)
{
    char *body = xmalloc(BODY_MAX + 1);
    char clen[32], sentence[SENTENCE_MAX] = "";
    size_t len = 0, want = 0;
    int64_t n = -1;
    if (head_value(head, "Content-Length", clen, sizeof(clen)) != NULL &&
        str_to_int64(clen, 0, INT64_MAX, &n) == 0 && n <= BODY_MAX) {
        want = (size_t)n;
        len = after_len < want ? after_len : want;
        memcpy(body, after, len);
        if (read_until(w, body, want, &len, deadline, body_complete, &want) != 0)
            len = 0; /* cut short: the status alone */
    }
    if (len > 0) {
        json_error_t je;
        json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
        const char *e = json_string_value(json_object_get(j, "error"));
        if (e != NULL) clean_copy(sentence, sizeof(sentence), e, strlen(e));
        json_decref(j);
    }
    free(body);
    str_fmt(w->err, sizeof(w->err), "the live channel at %s was refused (HTTP %d%s%s)%s%s", w->url,
            status, reason[0] != '\0' ? " " : "", reason, sentence[0] != '\0' ? ": " : "",
            sentence);
}

/* Reads and checks the answer to the upgrade request. Returns 0 (101 with the right
 * accept; the bytes after the head are kept for the frame reader) or -1 with err set. */
static int read_answer(struct wsc *w, const char *key, int64_t deadline)
{
    char *buf = xmalloc(HEAD_MAX + 1);
    size_t len = 0;
    int ret = -1;
    int rc = read_until(w, buf, HEAD_MAX, &len, deadline, head_complete, NULL);
    if (rc == -ETIMEDOUT) {
        str_fmt(w->err, sizeof(w->err), "no answer to the WebSocket upgrade from %s in time",
                w->url);
        goto out;
    }
    if (rc == -ENOSPC) {
        str_fmt(w->err, sizeof(w->err), "the answer of %s has more than %d bytes of headers",
                w->url, HEAD_MAX);
        goto out;
    }
    if (rc == 1) {
        str_fmt(w->err, sizeof(w->err),
                "%s closed the connection without answering the WebSocket upgrade", w->url);
        goto out;
    }
    if (rc != 0) goto out;
    char *end = memmem(buf, len, "\r\n\r\n", 4);
    size_t hlen = (size_t)(end - buf) + 4;
    char *after = buf + hlen;
    size_t after_len = len - hlen;
    char saved = buf[hlen];
    buf[hlen] = '\0'; /* the head as a string; `saved` is the first byte after it */

    int status = 0;
    if (!(strncmp(buf, "HTTP/1.1 ", 9) == 0 || strncmp(buf, "HTTP/1.0 ", 9) == 0) ||
        !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
        !isdigit((unsigned char)buf[11]) || (buf[12] != ' ' && buf[12] != '\r')) {
        str_fmt(w->err, sizeof(w->err), "%s did not answer with HTTP", w->url);
        goto out;
    }
    status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    char reason[64] = "";
    if (buf[12] == ' ') {
        const char *r = buf + 13, *e = strstr(r, "\r\n");
        clean_copy(reason, sizeof(reason), r, (size_t)(e - r));
    }
    if (status != 101) {
        buf[hlen] = saved;
        char *head = xstrndup(buf, hlen);
        refused(w, status, reason, head, after, after_len, deadline);
        free(head);
        goto out;
    }
    char v[256], want[WS_ACCEPT_LEN + 1];
    if (head_value(buf, "Upgrade", v, sizeof(v)) == NULL || !http_list_has(v, "websocket") ||
        head_value(buf, "Connection", v, sizeof(v)) == NULL || !http_list_has(v, "upgrade")) {
        str_fmt(w->err, sizeof(w->err),
                "%s answered 101 without upgrading to WebSocket (Upgrade/Connection headers)",
                w->url);
        goto out;
    }
    ws_accept_compute(key, want, sizeof(want));
    if (head_value(buf, "Sec-WebSocket-Accept", v, sizeof(v)) == NULL || strcmp(v, want) != 0) {
        str_fmt(w->err, sizeof(w->err),
                "%s answered the upgrade with a wrong Sec-WebSocket-Accept: not a WebSocket "
                "server, or a proxy in the way",
                w->url);
        goto out;
    }
    buf[hlen] = saved;
    if (after_len > 0) {
        w->pre = xmalloc(after_len);
        memcpy(w->pre, after, after_len);
        w->pre_len = after_len;
    }
    ret = 0;
out:
    free(buf);
    return ret;
}

/* The parts of the URL the request needs: the target (path and query) and the Host
 * header. Returns 0 or -1 with err set. */
static int url_parts(struct wsc *w, char *target, size_t tcap, char *host, size_t hcap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *port = NULL, *path = NULL, *query = NULL;
    int ret = -1;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, w->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        str_fmt(w->err, sizeof(w->err), "%s is not a valid URL", w->url);
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        str_fmt(w->err, sizeof(w->err), "%s: the daemon's URL must start with http:// or https://",
                w->url);
        goto out;
    }
    (void)curl_url_get(u, CURLUPART_PORT, &port, 0); /* absent: the scheme's default */
    (void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
    int n1 = snprintf(target, tcap, "%s%s%s", path, query != NULL ? "?" : "",
                      query != NULL ? query : "");
    int n2 = snprintf(host, hcap, "%s%s%s", h, port != NULL ? ":" : "", port != NULL ? port : "");
    if (n1 < 0 || (size_t)n1 >= tcap || n2 < 0 || (size_t)n2 >= hcap) {
        str_fmt(w->err, sizeof(w->err), "the URL %s is too long", w->url);
        goto out;
    }
    ret = 0;
out:
    curl_free(scheme);
    curl_free(h);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return ret;
}

/* Makes the connection through libcurl. Returns 0 or -1 with err set. */
static int open_socket(struct wsc *w, int timeout_ms)
{
    char cerr[CURL_ERROR_SIZE] = "";
    w->curl = curl_easy_init();
    if (w->curl == NULL) {
        str_fmt(w->err, sizeof(w->err), "cannot start libcurl");
        return -1;
    }
    curl_easy_setopt(w->curl, CURLOPT_URL, w->url);
    curl_easy_setopt(w->curl, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_HTTPPROXYTUNNEL, 1L); /* through a proxy: CONNECT */
    curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, cerr);
    CURLcode rc = curl_easy_perform(w->curl);
    curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, NULL);
    if (rc != CURLE_OK) {
        const char *hint = rc == CURLE_COULDNT_CONNECT      ? " (connection refused? is cloudyad "
                                                              "running there?)"
                           : rc == CURLE_OPERATION_TIMEDOUT ? " (timed out)"
                                                            : "";
        str_fmt(w->err, sizeof(w->err), "could not connect to %s%s: %s", w->url, hint,
                cerr[0] != '\0' ? cerr : curl_easy_strerror(rc));
        return -1;
    }
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(w->curl, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
        fd == CURL_SOCKET_BAD) {
        str_fmt(w->err, sizeof(w->err), "could not connect to %s: no socket", w->url);
        return -1;
    }
    w->fd = fd;
    return 0;
}

/* Checks what it is given (no control characters may reach the request's lines), makes
 * the connection, sends the upgrade with a fresh key and checks the answer; the request
 * buffer, which held the token, is wiped. Returns the connection, or NULL with the reason
 * in err (errlen 0 or err NULL: not said). */
struct wsc *wsc_connect(const char *base_url, const char *path, const char *token, int timeout_ms,
                        char *err, size_t errlen)
{
    struct wsc *w = xcalloc(1, sizeof(*w));
    char *req = NULL;
    char target[URL_MAX], host[URL_MAX], key[KEY_B64];
    unsigned char raw[KEY_RAW];
    int ok = 0;
    w->fd = CURL_SOCKET_BAD;
    if (timeout_ms <= 0) timeout_ms = DEFAULT_TIMEOUT_MS;
    int64_t deadline = time_mono_ms() + timeout_ms;
    if (token == NULL) token = "";
    if (base_url == NULL || path == NULL || path[0] != '/' ||
        str_has_control(base_url, strlen(base_url)) || str_has_control(path, strlen(path))) {
        str_fmt(w->err, sizeof(w->err), "the live channel's URL is not valid");
        goto out;
    }
    size_t blen = strlen(base_url);
    while (blen > 0 && base_url[blen - 1] == '/')
        blen--;
    int n = snprintf(w->url, sizeof(w->url), "%.*s%s", (int)blen, base_url, path);
    if (n < 0 || (size_t)n >= sizeof(w->url)) {
        str_fmt(w->err, sizeof(w->err), "the daemon's URL is too long");
        goto out;
    }
    if (strlen(token) >= TOKEN_MAX || str_has_control(token, strlen(token))) {
        str_fmt(w->err, sizeof(w->err), "the token is not valid (too long or control characters)");
        goto out;
    }
    if (sodium_init() < 0) {
        str_fmt(w->err, sizeof(w->err), "libsodium cannot start");
        goto out;
    }
    if (url_parts(w, target, sizeof(target), host, sizeof(host)) != 0 ||
        open_socket(w, timeout_ms) != 0)
        goto out;

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(key, sizeof(key), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
    req = xmalloc(REQ_MAX);
    n = snprintf(req, REQ_MAX,
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                 "User-Agent: cloudya-cli\r\n%s%s%s\r\n",
                 target, host, key, token[0] != '\0' ? "Authorization: Bearer " : "", token,
                 token[0] != '\0' ? "\r\n" : "");
    if (n < 0 || n >= REQ_MAX) {
        str_fmt(w->err, sizeof(w->err), "the upgrade request is too long");
        goto out;
    }
    if (send_all(w, req, (size_t)n, deadline) != 0 || read_answer(w, key, deadline) != 0) goto out;
    if (wslay_event_context_client_init(&w->ws, &callbacks, w) != 0) {
        w->ws = NULL;
        str_fmt(w->err, sizeof(w->err), "out of memory");
        goto out;
    }
    wslay_event_config_set_max_recv_msg_length(w->ws, WSC_MSG_MAX);
    w->err[0] = '\0';
    ok = 1;
out:
    if (req != NULL) {
        sodium_memzero(req, REQ_MAX); /* it held the token */
        free(req);
    }
    if (ok) return w;
    str_fmt(err, errlen, "%s", w->err);
    wsc_close(w);
    return NULL;
}
