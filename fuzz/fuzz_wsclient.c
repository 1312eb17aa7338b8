/* libFuzzer target for src/cli/wsclient.c: the input is what a daemon answers to the
 * upgrade request, so it goes through wsc_connect (the head, the status line, the headers,
 * the body of a refused upgrade) and, when it makes a 101 with the right accept, through
 * wsc_recv (wslay's frames, fragments, pings, close codes, WSC_MSG_MAX, the queue).
 *
 * A loopback listener thread, started once, serves each input on one connection: it reads
 * the request, replaces every "@A@" of the input with the request's right
 * Sec-WebSocket-Accept (so inputs reach the frames), writes the bytes, ends its side and
 * reads until the client hangs up. Besides crashes and sanitizer reports it checks:
 *   - wsc_connect returns a connection, or NULL with a non-empty sentence;
 *   - every message is NUL-terminated at its length and at most WSC_MSG_MAX bytes;
 *   - the connection ends (-EPIPE) with a non-empty wsc_error once the input is used up.
 * Seeds: fuzz/corpus/wsclient/. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wsclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX (2u * 1024 * 1024)
#define REQ_MAX 16384
#define MARK "@A@"
#include "../tests/unit/check.h" /* CHECK() */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static const uint8_t *cur;
static size_t cur_len;
static int served; /* the server is done with the current input */
static int lfd;
static char base[64];

static void accept_of(const char *key, char *out, size_t cap)
{
    char both[256];
    unsigned char d[SHA_DIGEST_LENGTH];
    snprintf(both, sizeof(both), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    SHA1((const unsigned char *)both, strlen(both), d);
    sodium_bin2base64(out, cap, d, sizeof(d), sodium_base64_VARIANT_ORIGINAL);
}

static void send_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return;
        p += n;
        len -= (size_t)n;
    }
}

static void serve(int fd)
{
    char req[REQ_MAX + 1], key[64] = "", acc[64] = "";
    size_t len = 0;
    while (len < REQ_MAX && memmem(req, len, "\r\n\r\n", 4) == NULL) {
        ssize_t n = recv(fd, req + len, REQ_MAX - len, 0);
        if (n <= 0) return;
        len += (size_t)n;
    }
    req[len] = '\0';
    const char *k = strcasestr(req, "\r\nSec-WebSocket-Key: ");
    if (k != NULL) {
        k += 21;
        snprintf(key, sizeof(key), "%.*s", (int)strcspn(k, "\r\n"), k);
        accept_of(key, acc, sizeof(acc));
    }
    /* the input with every mark replaced by the accept, sent in pieces as it goes */
    size_t off = 0;
    while (off < cur_len) {
        const uint8_t *m = memmem(cur + off, cur_len - off, MARK, 3);
        size_t upto = m != NULL ? (size_t)(m - cur) : cur_len;
        send_all(fd, cur + off, upto - off);
        if (m == NULL) break;
        send_all(fd, (const uint8_t *)acc, strlen(acc));
        off = upto + 3;
    }
    shutdown(fd, SHUT_WR);
    char sink[4096];
    while (recv(fd, sink, sizeof(sink), 0) > 0)
        ;
}

static void *server_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) continue;
        serve(fd);
        close(fd);
        pthread_mutex_lock(&mu);
        served = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void start_once(void)
{
    static int started;
    if (started) return;
    started = 1;
    CHECK(sodium_init() >= 0);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(lfd >= 0);
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof(a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(listen(lfd, 8) == 0);
    CHECK(getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/", ntohs(a.sin_port));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, server_main, NULL) == 0);
    pthread_detach(th);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    if (size > INPUT_MAX) return 0;
    start_once();
    pthread_mutex_lock(&mu);
    cur = data;
    cur_len = size;
    served = 0;
    pthread_mutex_unlock(&mu);

    struct wsc *w = wsc_connect(base, "/api/ws", "fuzz-token", 5000, err, sizeof(err));
    if (w == NULL) {
        CHECK(err[0] != '\0');
    } else {
        static const char sub[] = "{\"type\":\"subscribe\",\"topic\":\"stats\"}";
        int sr = wsc_send_text(w, sub, sizeof(sub) - 1);
        CHECK(sr == 0 || sr == -EPIPE); /* the answer may have ended it already */
        char *msg = NULL;
        size_t len = 0;
        int rc;
        while ((rc = wsc_recv(w, 5000, &msg, &len)) == 1) {
            CHECK(msg != NULL && msg[len] == '\0' && len <= WSC_MSG_MAX);
            free(msg);
        }
        CHECK(rc == -EPIPE); /* the server ended its side: never a timeout */
        CHECK(wsc_error(w)[0] != '\0');
        wsc_close(w);
    }
    pthread_mutex_lock(&mu);
    while (!served)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return 0;
}
