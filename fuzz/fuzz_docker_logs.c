/* libFuzzer target for src/engine/docker_logs.c.
 *
 * The first input byte chooses the mode (bit 0: raw) and where the rest is cut in two
 * (bits 1-7, a fraction of its length); the rest is the Engine's stream. Besides crashes
 * and sanitizer reports it checks properties, aborting when one fails:
 *   - every callback gets at most DOCKER_LOG_LINE_MAX bytes, no '\n', a stream of 0, 1 or 2
 *     (always stdout in raw mode);
 *   - the output is the same whether the input comes in one feed, in two feeds cut at the
 *     chosen point, or one byte at a time (for inputs up to 4 KiB);
 *   - the output and the return codes match a byte-at-a-time model of the rules written
 *     here independently (frame headers, stream changes, pieces of long lines, finish);
 *   - after -EPROTO every feed and finish say -EPROTO and the callback is not called;
 *   - a callback that says stop at line k stops the feed with its value after exactly k
 *     lines, which are the first k of the full decode.
 * Seeds: fuzz/corpus/docker_logs/ (first byte 0x00 or 0x40: framed; 0x01: raw). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docker_logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX DOCKER_LOG_LINE_MAX
#define STOP_RC 77

/* Every callback is recorded as {stream, len (4 bytes), bytes} in one log. */
struct rec {
    unsigned char *p;
    size_t len, cap;
    size_t lines;
    size_t stop_at; /* 0: never */
    int raw;
};

static void rec_put(struct rec *r, const void *p, size_t n)
{
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap < r->len + n)
            cap *= 2;
        r->p = realloc(r->p, cap);
        if (r->p == NULL) abort();
        r->cap = cap;
    }
    if (n > 0)
        memcpy(r->p + r->len, p, n);
    r->len += n;
}

static void rec_line(struct rec *r, enum docker_log_stream st, const char *line, size_t len)
{
    unsigned char h[5] = {(unsigned char)st, (unsigned char)(len >> 24),
                          (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                          (unsigned char)len};
    rec_put(r, h, sizeof h);
    rec_put(r, line, len);
    r->lines++;
}

static int on_line(void *ctx, enum docker_log_stream st, const char *line, size_t len)
{
    struct rec *r = ctx;
    if (len > MAX || (len > 0 && line == NULL)) abort();
    if ((unsigned)st > DOCKER_LOG_STDERR) abort();
    if (r->raw && st != DOCKER_LOG_STDOUT) abort();
    if (len > 0 && memchr(line, '\n', len) != NULL) abort();
    if (r->stop_at != 0 && r->lines >= r->stop_at) abort(); /* called after a stop */
    rec_line(r, st, line, len);
    if (r->stop_at != 0 && r->lines == r->stop_at)
        return STOP_RC;
    return 0;
}

/* ---- the model ----------------------------------------------------------------------- */

struct model {
    struct rec *out;
    int raw, failed;
    unsigned char hdr[8];
    size_t hdr_len;
    uint64_t left;
    enum docker_log_stream st, line_st;
    char line[MAX];
    size_t len;
};

static void m_flush(struct model *m)
{
    rec_line(m->out, m->line_st, m->line, m->len);
    m->len = 0;
}

static void m_payload(struct model *m, enum docker_log_stream st, char c)
{
    if (m->len > 0 && m->line_st != st)
        m_flush(m);
    m->line_st = st;
    if (c == '\n') {
        m_flush(m);
        return;
    }
    if (m->len == MAX)
        m_flush(m);
    m->line[m->len++] = c;
}

/* Returns 0 or -EPROTO. */
static int m_byte(struct model *m, unsigned char c)
{
    if (m->raw) {
        m_payload(m, DOCKER_LOG_STDOUT, (char)c);
        return 0;
    }
    if (m->left > 0) {
        m->left--;
        m_payload(m, m->st, (char)c);
        return 0;
    }
    m->hdr[m->hdr_len++] = c;
    if (m->hdr_len < 8)
        return 0;
    m->hdr_len = 0;
    if (m->hdr[0] > 2 || m->hdr[1] || m->hdr[2] || m->hdr[3]) {
        m->failed = 1;
        return -EPROTO;
    }
    m->st = (enum docker_log_stream)m->hdr[0];
    m->left = (uint64_t)m->hdr[4] << 24 | (uint64_t)m->hdr[5] << 16 |
              (uint64_t)m->hdr[6] << 8 | m->hdr[7];
    return 0;
}

/* The model's whole decode: the result of feed, then of finish when feed succeeded. */
static int m_run(struct model *m, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m_byte(m, p[i]) != 0)
            return -EPROTO;
    if (m->len > 0)
        m_flush(m);
    if (!m->raw && (m->hdr_len > 0 || m->left > 0))
        return -EPROTO;
    return 0;
}

/* ---- runs of the real decoder -------------------------------------------------------- */

static docker_logs_demux demux;
static struct model model;

/* Feeds p in pieces (cuts[] offsets, ascending), then finishes. */
static int run(struct rec *r, int raw, const unsigned char *p, size_t n, const size_t *cuts,
               size_t ncuts)
{
    size_t off = 0;
    int rc = 0;
    docker_logs_demux_init(&demux, raw, on_line, r);
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        rc = docker_logs_demux_feed(&demux, (const char *)p + off, end - off);
        off = end;
    }
    if (rc == 0)
        rc = docker_logs_demux_finish(&demux);
    if (rc == -EPROTO) {
        /* refused from now on, without callbacks */
        size_t lines = r->lines;
        if (docker_logs_demux_feed(&demux, "\x01\0\0\0\0\0\0\x01\n", 9) != -EPROTO) abort();
        if (docker_logs_demux_finish(&demux) != -EPROTO) abort();
        if (r->lines != lines) abort();
    }
    return rc;
}

static void same(const struct rec *a, const struct rec *b)
{
    if (a->len != b->len || a->lines != b->lines) abort();
    if (a->len > 0 && memcmp(a->p, b->p, a->len) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int raw = data[0] & 1;
    const unsigned char *p = data + 1;
    size_t n = size - 1;
    size_t cut = n * (size_t)(data[0] >> 1) / 127;

    struct rec want = {.raw = raw}, whole = {.raw = raw}, two = {.raw = raw};
    memset(&model, 0, sizeof model);
    model.out = &want;
    model.raw = raw;
    model.st = model.line_st = DOCKER_LOG_STDOUT;
    int mrc = m_run(&model, p, n);

    int rc = run(&whole, raw, p, n, NULL, 0);
    if (rc != mrc) abort();
    same(&want, &whole);
    if (rc != 0 && rc != -EPROTO) abort();

    if (run(&two, raw, p, n, &cut, 1) != rc) abort();
    same(&whole, &two);

    if (n <= 4096) {
        struct rec bytes = {.raw = raw};
        size_t *cuts = malloc((n + 1) * sizeof(*cuts));
        if (cuts == NULL) abort();
        for (size_t i = 0; i < n; i++)
            cuts[i] = i + 1;
        if (run(&bytes, raw, p, n, cuts, n) != rc) abort();
        same(&whole, &bytes);
        free(cuts);
        free(bytes.p);
    }

    /* stop in the middle: exactly the first k lines, then the callback's value */
    if (whole.lines > 0) {
        struct rec stop = {.raw = raw, .stop_at = (whole.lines + 1) / 2};
        if (run(&stop, raw, p, n, &cut, 1) != STOP_RC) abort();
        if (stop.lines != stop.stop_at || stop.len > whole.len) abort();
        if (memcmp(stop.p, whole.p, stop.len) != 0) abort();
        free(stop.p);
    }

    free(want.p);
    free(whole.p);
    free(two.p);
    return 0;
}
