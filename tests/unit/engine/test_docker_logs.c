/* Unit tests for src/engine/docker_logs.c: frames and lines in every arrangement (one
 * frame, many lines per frame, lines across frames, headers split anywhere, byte-by-byte
 * input), stdout and stderr interleaved, lines longer than the buffer, zero-size frames,
 * malformed headers, raw (TTY) streams, finish and a callback that stops. A randomized test
 * compares the decoder with a byte-at-a-time model of the same rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "docker_logs.h"

#define MAX DOCKER_LOG_LINE_MAX

/* ---- helpers ----------------------------------------------------------------------- */

struct line {
    enum docker_log_stream stream;
    char *text;
    size_t len;
};

struct sink {
    struct line *v;
    size_t n, cap;
    size_t stop_at; /* return stop_rc from the callback for line number stop_at (1-based) */
    int stop_rc;
};

static int collect(void *ctx, enum docker_log_stream stream, const char *line, size_t len)
{
    struct sink *s = ctx;
    assert_true(len <= MAX);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        assert_non_null(s->v);
    }
    s->v[s->n].stream = stream;
    s->v[s->n].text = malloc(len + 1);
    assert_non_null(s->v[s->n].text);
    memcpy(s->v[s->n].text, line, len);
    s->v[s->n].text[len] = '\0';
    s->v[s->n].len = len;
    s->n++;
    if (s->stop_at != 0 && s->n == s->stop_at)
        return s->stop_rc;
    return 0;
}

static void sink_free(struct sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].text);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static void expect_line(const struct sink *s, size_t i, enum docker_log_stream st,
                        const char *text)
{
    assert_true(i < s->n);
    assert_int_equal(s->v[i].stream, st);
    assert_int_equal(s->v[i].len, strlen(text));
    assert_memory_equal(s->v[i].text, text, s->v[i].len);
}

/* A growable byte buffer for building streams. */
struct buf {
    char *p;
    size_t len, cap;
};

static void buf_put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void frame(struct buf *b, unsigned stream, const char *p, size_t n)
{
    unsigned char h[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(n >> 24),
                          (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
    buf_put(b, h, sizeof(h));
    buf_put(b, p, n);
}

static void frame_str(struct buf *b, unsigned stream, const char *s)
{
    frame(b, stream, s, strlen(s));
}

/* Decodes b in one feed plus finish into s. */
static int decode_all(const struct buf *b, int raw, struct sink *s)
{
    docker_logs_demux *d = malloc(sizeof(*d));
    assert_non_null(d);
    docker_logs_demux_init(d, raw, collect, s);
    int rc = docker_logs_demux_feed(d, b->p, b->len);
    if (rc == 0)
        rc = docker_logs_demux_finish(d);
    free(d);
    return rc;
}

/* Decodes b in chunks of step bytes. */
static int decode_steps(const struct buf *b, int raw, size_t step, struct sink *s)
{
    docker_logs_demux *d = malloc(sizeof(*d));
    assert_non_null(d);
    docker_logs_demux_init(d, raw, collect, s);
    int rc = 0;
    for (size_t off = 0; off < b->len && rc == 0; off += step) {
        size_t n = b->len - off < step ? b->len - off : step;
        rc = docker_logs_demux_feed(d, b->p + off, n);
    }
    if (rc == 0)
        rc = docker_logs_demux_finish(d);
    free(d);
    return rc;
}

static void assert_same(const struct sink *a, const struct sink *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->v[i].stream, b->v[i].stream);
        assert_int_equal(a->v[i].len, b->v[i].len);
        assert_memory_equal(a->v[i].text, b->v[i].text, a->v[i].len);
    }
}

/* ---- frames and lines -------------------------------------------------------------- */

static void test_one_frame_one_line(void **state)
{
    struct buf b = {0};
    struct sink s = {0};
    (void)state;
    frame_str(&b, 1, "hello world\n");
    assert_int_equal(decode_all(&b, 0, &s), 0);
    assert_int_equal(s.n, 1);
    expect_line(&s, 0, DOCKER_LOG_STDOUT, "hello world");
    sink_free(&s);
    free(b.p);
}

static void test_multi_line_frame(void **state)
{
    struct buf b = {0};
    struct sink s = {0};
    (void)state;
    frame_str(&b, 2, "one\ntwo\r\n\nthree\n");
    assert_int_equal(decode_all(&b, 0, &s), 0);
    assert_int_equal(s.n, 4);
    expect_line(&s, 0, DOCKER_LOG_STDERR, "one");
    expect_line(&s, 1, DOCKER_LOG_STDERR, "two\r"); /* '\r' is kept */
    expect_line(&s, 2, DOCKER_LOG_STDERR, "");
    expect_line(&s, 3, DOCKER_LOG_STDERR, "three");
    sink_free(&s);
    free(b.p);
}

static void test_line_across_frames(void **state)
{
    struct buf b = {0};
    struct sink s = {0};
    (void)state;
    frame_str(&b, 1, "hel");
    frame_str(&b, 1, "lo\nwor");
    frame_str(&b, 1, "l");
    frame_str(&b, 1, "d\n");
    frame_str(&b, 1, "\n");
    assert_int_equal(decode_all(&b, 0, &s), 0);
    assert_int_equal(s.n, 3);
    expect_line(&s, 0, DOCKER_LOG_STDOUT, "hello");
    expect_line(&s, 1, DOCKER_LOG_STDOUT, "world");
    expect_line(&s, 2, DOCKER_LOG_STDOUT, "");
    sink_free(&s);
    free(b.p);
}

static void build_mixed(struct buf *b)
{
    frame_str(b, 1, "alpha\nbe");
    frame_str(b, 1, "ta\n");
    frame_str(b, 2, "warn: x\nwarn: y\n");
    frame_str(b, 0, "in\n");
    frame_str(b, 1, "gamma");
    frame(b, 1, "", 0);
    frame_str(b, 1, "\ndelta\nepsilon");
}

static void test_byte_by_byte(void **state)
{
    struct buf b = {0};
    struct sink whole = {0}, bytes = {0};
    (void)state;
    build_mixed(&b);
    assert_int_equal(decode_all(&b, 0, &whole), 0);
    assert_int_equal(whole.n, 8);
    expect_line(&whole, 0, DOCKER_LOG_STDOUT, "alpha");
    expect_line(&whole, 1, DOCKER_LOG_STDOUT, "beta");
    expect_line(&whole, 2, DOCKER_LOG_STDERR, "warn: x");
    expect_line(&whole, 3, DOCKER_LOG_STDERR, "warn: y");
    expect_line(&whole, 4, DOCKER_LOG_STDIN, "in");
    expect_line(&whole, 5, DOCKER_LOG_STDOUT, "gamma");
    expect_line(&whole, 6, DOCKER_LOG_STDOUT, "delta");
    expect_line(&whole, 7, DOCKER_LOG_STDOUT, "epsilon");
    assert_int_equal(decode_steps(&b, 0, 1, &bytes), 0);
    assert_same(&whole, &bytes);
    for (size_t step = 2; step < 20; step++) {
        struct sink st = {0};
        assert_int_equal(decode_steps(&b, 0, step, &st), 0);
        assert_same(&whole, &st);
        sink_free(&st);
    }
    sink_free(&whole);
    sink_free(&bytes);
    free(b.p);
}

/* The input cut in two at every offset: headers split at every byte among them. */
static void test_split_headers(void **state)
{
    struct buf b = {0};
    struct sink whole = {0};
    (void)state;
    build_mixed(&b);
    assert_int_equal(decode_all(&b, 0, &whole), 0);
    for (size_t cut = 0; cut <= b.len; cut++) {
        struct sink s = {0};
        docker_logs_demux d;
        docker_logs_demux_init(&d, 0, collect, &s);
        assert_int_equal(docker_logs_demux_feed(&d, b.p, cut), 0);
        assert_int_equal(docker_logs_demux_feed(&d, b.p + cut, b.len - cut), 0);
        assert_int_equal(docker_logs_demux_finish(&d), 0);
        assert_same(&whole, &s);
        sink_free(&s);
    }
    sink_free(&whole);
    free(b.p);
}

/* A partial line is handed out as it is when the other stream speaks: lines never mix. */
static void test_interleaved_streams(void **state)
{
    struct buf b = {0};
    struct sink s = {0};
    (void)state;
    frame_str(&b, 1, "par");
    frame_str(&b, 2, "err one\n");
    frame_str(&b, 1, "tial\n");
    frame_str(&b, 2, "err ");
    frame_str(&b, 2, "two");
    frame_str(&b, 1, "\n");
    frame_str(&b, 2, "\n");
    assert_int_equal(decode_all(&b, 0, &s), 0);
    assert_int_equal(s.n, 6);
    expect_line(&s, 0, DOCKER_LOG_STDOUT, "par");
    expect_line(&s, 1, DOCKER_LOG_STDERR, "err one");
    expect_line(&s, 2, DOCKER_LOG_STDOUT, "tial");
    expect_line(&s, 3, DOCKER_LOG_STDERR, "err two");
    expect_line(&s, 4, DOCKER_LOG_STDOUT, ""); /* the stdout frame held only '\n' */
    expect_line(&s, 5, DOCKER_LOG_STDERR, "");
    sink_free(&s);
    free(b.p);
}

/* ---- long lines -------------------------------------------------------------------- */

static char *pattern(size_t n)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + i % 26);
    p[n] = '\0';
    return p;
}

static void test_line_exactly_max(void **state)
{
    struct buf b = {0};
    struct sink s = {0};
    char *p = pattern(MAX);
    (void)state;
    frame(&b, 1, p, MAX);
    frame_str(&b, 1, "\nnext\n");
    for (size_t step = 1; step <= 4099; step += 2049) {
        assert_int_equal(decode_steps(&b, 0, step, &s), 0);
        assert_int_equal(s.n, 2);
        assert_int_equal(s.v[0].len, MAX);
        assert_memory_equal(s.v[0].text, p, MAX);
        expect_line(&s, 1, DOCKER_LOG_STDOUT, "next");
        sink_free(&s);
    }
    free(p);
    free(b.p);
}

static void test_long_line_in_pieces(void **state)
{
    struct buf b = {0};
    size_t n = 2 * MAX + 5;
    char *p = pattern(n);
    (void)state;
    frame(&b, 2, p, 1000);          /* the line spans frames... */
    frame(&b, 2, p + 1000, n - 1000);
    frame_str(&b, 2, "\nshort\n");
    size_t steps[] = {1, 7, 4096, 100000};
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        struct sink s = {0};
        assert_int_equal(decode_steps(&b, 0, steps[k], &s), 0); /* ...and feeds */
        assert_int_equal(s.n, 4);
        assert_int_equal(s.v[0].len, MAX);
        assert_int_equal(s.v[1].len, MAX);
        assert_int_equal(s.v[2].len, 5);
        assert_memory_equal(s.v[0].text, p, MAX);
        assert_memory_equal(s.v[1].text, p + MAX, MAX);
        assert_memory_equal(s.v[2].text, p + 2 * MAX, 5);
        for (int i = 0; i < 3; i++)
            assert_int_equal(s.v[i].stream, DOCKER_LOG_STDERR);
        expect_line(&s, 3, DOCKER_LOG_STDERR, "short");
        sink_free(&s);
    }
    free(p);
    free(b.p);
}

/* A pending piece of one stream is never glued to the other stream's bytes, even when the
 * buffer is exactly full. */
static void test_long_line_then_other_stream(void **state)
{
    struct buf b = {0};
    struct sink s = {0};
    char *p = pattern(MAX + 3);
    (void)state;
    frame(&b, 1, p, MAX + 3);
    frame_str(&b, 2, "e\n");
    assert_int_equal(decode_steps(&b, 0, 5, &s), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.v[0].len, MAX);
    assert_int_equal(s.v[1].len, 3);
    assert_int_equal(s.v[1].stream, DOCKER_LOG_STDOUT);
    assert_memory_equal(s.v[1].text, p + MAX, 3);
    expect_line(&s, 2, DOCKER_LOG_STDERR, "e");
    sink_free(&s);
    free(p);
    free(b.p);
}

/* ---- zero-size frames -------------------------------------------------------------- */

static void test_zero_size_frames(void **state)
{
    struct buf b = {0};
    struct sink s = {0};
    (void)state;
    frame(&b, 1, "", 0);
    frame_str(&b, 1, "ab");
    frame(&b, 2, "", 0); /* carries nothing: does not cut the pending stdout line */
    frame(&b, 0, "", 0);
    frame_str(&b, 1, "c\n");
    frame(&b, 2, "", 0);
    assert_int_equal(decode_steps(&b, 0, 3, &s), 0);
    assert_int_equal(s.n, 1);
    expect_line(&s, 0, DOCKER_LOG_STDOUT, "abc");
    sink_free(&s);

    struct buf only = {0};
    for (int i = 0; i < 5; i++)
        frame(&only, (unsigned)(i % 3), "", 0);
    assert_int_equal(decode_all(&only, 0, &s), 0);
    assert_int_equal(s.n, 0);
    free(only.p);
    free(b.p);
}

/* ---- malformed headers ------------------------------------------------------------- */

static void check_bad_header(const unsigned char h[8])
{
    struct buf b = {0};
    struct sink s = {0};
    docker_logs_demux d;
    frame_str(&b, 1, "good\npart");
    buf_put(&b, h, 8);
    buf_put(&b, "more\n", 5);
    docker_logs_demux_init(&d, 0, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, b.p, b.len), -EPROTO);
    assert_int_equal(s.n, 1); /* lines before the bad header were handed out */
    expect_line(&s, 0, DOCKER_LOG_STDOUT, "good");
    /* refused from now on, even perfectly good input */
    struct buf ok = {0};
    frame_str(&ok, 1, "fine\n");
    assert_int_equal(docker_logs_demux_feed(&d, ok.p, ok.len), -EPROTO);
    assert_int_equal(docker_logs_demux_feed(&d, ok.p, 0), -EPROTO);
    assert_int_equal(docker_logs_demux_finish(&d), -EPROTO);
    assert_int_equal(s.n, 1);
    sink_free(&s);

    /* the same header fed byte by byte */
    docker_logs_demux_init(&d, 0, collect, &s);
    int rc = 0;
    for (size_t i = 0; i < b.len && rc == 0; i++)
        rc = docker_logs_demux_feed(&d, b.p + i, 1);
    assert_int_equal(rc, -EPROTO);
    assert_int_equal(s.n, 1);
    sink_free(&s);
    free(ok.p);
    free(b.p);
}

static void test_bad_headers(void **state)
{
    (void)state;
    const unsigned char bad_stream[][8] = {
        {3, 0, 0, 0, 0, 0, 0, 5}, {4, 0, 0, 0, 0, 0, 0, 0}, {0xff, 0, 0, 0, 0, 0, 0, 1},
        {'H', 'T', 'T', 'P', '/', '1', '.', '1'},
    };
    const unsigned char bad_pad[][8] = {
        {1, 1, 0, 0, 0, 0, 0, 5}, {2, 0, 1, 0, 0, 0, 0, 5}, {0, 0, 0, 0x80, 0, 0, 0, 5},
    };
    for (size_t i = 0; i < sizeof(bad_stream) / sizeof(bad_stream[0]); i++)
        check_bad_header(bad_stream[i]);
    for (size_t i = 0; i < sizeof(bad_pad) / sizeof(bad_pad[0]); i++)
        check_bad_header(bad_pad[i]);
}

/* Text fed to a framed decoder (a TTY stream decoded as if it had headers) is refused. */
static void test_text_is_not_frames(void **state)
{
    struct sink s = {0};
    docker_logs_demux d;
    (void)state;
    docker_logs_demux_init(&d, 0, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, "hello, world\n", 13), -EPROTO);
    assert_int_equal(s.n, 0);
}

/* ---- raw mode ---------------------------------------------------------------------- */

static void test_raw_mode(void **state)
{
    struct buf b = {0};
    struct sink s = {0};
    char *p = pattern(MAX + 1);
    (void)state;
    /* bytes that would be a header in framed mode are just text here */
    const unsigned char hdrlike[8] = {2, 0, 0, 0, 0, 0, 0, 3};
    buf_put(&b, hdrlike, 8);
    buf_put(&b, "\nline two\r\n\n", 12);
    buf_put(&b, p, MAX + 1);
    buf_put(&b, "\ntail", 5);
    for (size_t step = 1; step <= 8193; step += 4096) {
        assert_int_equal(decode_steps(&b, 1, step, &s), 0);
        assert_int_equal(s.n, 6);
        assert_int_equal(s.v[0].len, 8);
        assert_memory_equal(s.v[0].text, hdrlike, 8);
        expect_line(&s, 1, DOCKER_LOG_STDOUT, "line two\r");
        expect_line(&s, 2, DOCKER_LOG_STDOUT, "");
        assert_int_equal(s.v[3].len, MAX);
        assert_memory_equal(s.v[3].text, p, MAX);
        assert_int_equal(s.v[4].len, 1);
        assert_int_equal(s.v[4].text[0], p[MAX]);
        expect_line(&s, 5, DOCKER_LOG_STDOUT, "tail");
        for (size_t i = 0; i < s.n; i++)
            assert_int_equal(s.v[i].stream, DOCKER_LOG_STDOUT);
        sink_free(&s);
    }
    free(p);
    free(b.p);
}

/* ---- finish ------------------------------------------------------------------------ */

static void test_finish(void **state)
{
    struct sink s = {0};
    docker_logs_demux d;
    struct buf b = {0};
    (void)state;

    /* nothing at all */
    docker_logs_demux_init(&d, 0, collect, &s);
    assert_int_equal(docker_logs_demux_finish(&d), 0);
    assert_int_equal(s.n, 0);

    /* a last line without '\n', at a frame boundary */
    frame_str(&b, 2, "done\nno newline");
    docker_logs_demux_init(&d, 0, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, b.p, b.len), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(docker_logs_demux_finish(&d), 0);
    assert_int_equal(s.n, 2);
    expect_line(&s, 1, DOCKER_LOG_STDERR, "no newline");
    assert_int_equal(docker_logs_demux_finish(&d), 0); /* twice is harmless */
    assert_int_equal(s.n, 2);
    sink_free(&s);

    /* cut inside a frame: the partial line is still handed out, then -EPROTO */
    docker_logs_demux_init(&d, 0, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, b.p, b.len - 3), 0);
    assert_int_equal(docker_logs_demux_finish(&d), -EPROTO);
    assert_int_equal(s.n, 2);
    expect_line(&s, 1, DOCKER_LOG_STDERR, "no newl");
    assert_int_equal(docker_logs_demux_feed(&d, b.p, b.len), -EPROTO);
    sink_free(&s);

    /* cut inside a header */
    docker_logs_demux_init(&d, 0, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, b.p, 5), 0);
    assert_int_equal(docker_logs_demux_finish(&d), -EPROTO);
    assert_int_equal(s.n, 0);
    sink_free(&s);

    /* raw: no frames, so nothing can be cut */
    docker_logs_demux_init(&d, 1, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, "x\ny", 3), 0);
    assert_int_equal(docker_logs_demux_finish(&d), 0);
    assert_int_equal(s.n, 2);
    expect_line(&s, 1, DOCKER_LOG_STDOUT, "y");
    sink_free(&s);
    free(b.p);
}

/* ---- a callback that stops --------------------------------------------------------- */

static void test_callback_stop(void **state)
{
    struct buf b = {0};
    struct sink s = {0};
    docker_logs_demux d;
    (void)state;
    frame_str(&b, 1, "a\nb\nc\nd\n");

    s.stop_at = 2;
    s.stop_rc = 42;
    docker_logs_demux_init(&d, 0, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, b.p, b.len), 42);
    assert_int_equal(s.n, 2); /* nothing after the line that said stop */
    expect_line(&s, 1, DOCKER_LOG_STDOUT, "b");
    sink_free(&s);

    /* a negative errno passes through too, from a copied line */
    s.stop_at = 1;
    s.stop_rc = -ECANCELED;
    docker_logs_demux_init(&d, 0, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, b.p, 9), 0); /* header + "a" */
    assert_int_equal(s.n, 0);
    assert_int_equal(docker_logs_demux_feed(&d, b.p + 9, 3), -ECANCELED); /* "\nb\n" */
    assert_int_equal(s.n, 1);
    sink_free(&s);

    /* from finish */
    s.stop_at = 1;
    s.stop_rc = 9;
    docker_logs_demux_init(&d, 1, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, "tail", 4), 0);
    assert_int_equal(docker_logs_demux_finish(&d), 9);
    assert_int_equal(s.n, 1);
    sink_free(&s);

    /* from the flush forced by the other stream */
    struct buf m = {0};
    frame_str(&m, 1, "partial");
    frame_str(&m, 2, "x\n");
    s.stop_at = 1;
    s.stop_rc = 5;
    docker_logs_demux_init(&d, 0, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, m.p, m.len), 5);
    assert_int_equal(s.n, 1);
    expect_line(&s, 0, DOCKER_LOG_STDOUT, "partial");
    sink_free(&s);

    /* from a full piece of a long line */
    char *p = pattern(MAX + 10);
    struct buf l = {0};
    frame(&l, 1, p, MAX + 10);
    s.stop_at = 1;
    s.stop_rc = 3;
    docker_logs_demux_init(&d, 0, collect, &s);
    assert_int_equal(docker_logs_demux_feed(&d, l.p, l.len), 3);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].len, MAX);
    sink_free(&s);
    free(p);
    free(l.p);
    free(m.p);
    free(b.p);
}

/* ---- randomized, against a model --------------------------------------------------- */

/* The rules one byte at a time: the reference the decoder must agree with. */
struct model {
    struct sink *out;
    char line[MAX];
    size_t len;
    enum docker_log_stream st;
};

static void model_byte(struct model *m, enum docker_log_stream st, char c)
{
    if (m->len > 0 && m->st != st) {
        collect(m->out, m->st, m->line, m->len);
        m->len = 0;
    }
    m->st = st;
    if (c == '\n') {
        collect(m->out, st, m->line, m->len);
        m->len = 0;
        return;
    }
    if (m->len == MAX) {
        collect(m->out, st, m->line, m->len);
        m->len = 0;
    }
    m->line[m->len++] = c;
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

static void test_random_against_model(void **state)
{
    (void)state;
    for (int round = 0; round < 200; round++) {
        struct buf b = {0};
        struct sink want = {0}, got = {0};
        struct model *m = calloc(1, sizeof(*m));
        assert_non_null(m);
        m->out = &want;
        int nframes = (int)(rnd() % 20);
        for (int f = 0; f < nframes; f++) {
            unsigned st = rnd() % 3;
            size_t n = rnd() % 8 == 0 ? rnd() % (3 * MAX) : rnd() % 40;
            char *p = malloc(n + 1);
            assert_non_null(p);
            for (size_t i = 0; i < n; i++) {
                uint32_t r = rnd() % 16;
                p[i] = r == 0 ? '\n' : r == 1 ? '\r' : (char)('a' + r);
                model_byte(m, (enum docker_log_stream)st, p[i]);
            }
            frame(&b, st, p, n);
            free(p);
        }
        if (m->len > 0)
            collect(&want, m->st, m->line, m->len);

        docker_logs_demux *d = malloc(sizeof(*d));
        assert_non_null(d);
        docker_logs_demux_init(d, 0, collect, &got);
        size_t off = 0;
        while (off < b.len) {
            size_t n = rnd() % 4 == 0 ? rnd() % 9 : rnd() % 5000;
            if (n > b.len - off)
                n = b.len - off;
            assert_int_equal(docker_logs_demux_feed(d, b.p + off, n), 0);
            off += n;
        }
        assert_int_equal(docker_logs_demux_finish(d), 0);
        assert_same(&want, &got);
        free(d);
        free(m);
        sink_free(&want);
        sink_free(&got);
        free(b.p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_frame_one_line),
        cmocka_unit_test(test_multi_line_frame),
        cmocka_unit_test(test_line_across_frames),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_split_headers),
        cmocka_unit_test(test_interleaved_streams),
        cmocka_unit_test(test_line_exactly_max),
        cmocka_unit_test(test_long_line_in_pieces),
        cmocka_unit_test(test_long_line_then_other_stream),
        cmocka_unit_test(test_zero_size_frames),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_text_is_not_frames),
        cmocka_unit_test(test_raw_mode),
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_callback_stop),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
