/* libFuzzer target for the event parser of src/engine/docker_events.c.
 *
 * The first two input bytes choose two cut points (fractions of the rest's length); the
 * rest is the Engine's /events body. Besides crashes and sanitizer reports it checks
 * properties, aborting when one fails:
 *   - the events and the skipped count are the same whether the input comes in one feed,
 *     in three feeds cut at the chosen points, or one byte at a time (inputs up to 4 KiB;
 *     longer ones in pieces of 509 bytes);
 *   - every complete line is accounted for: events + skipped + blank lines equals the
 *     number of complete lines, and every line longer than DOCKER_EVENT_LINE_MAX is among
 *     the skipped (an unterminated last line gives nothing);
 *   - every event has NUL-terminated type, action and id within their arrays, a non-empty
 *     valid UTF-8 action, and attributes that are NULL or an object.
 * Seeds: fuzz/corpus/docker_events/ (first two bytes are the cut choices). Long-line paths
 * need -max_len above 65536. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "docker_events.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LOG_MAX (64u << 20)

struct run {
    buf log;
    uint64_t skipped;
    size_t events;
};

static void on_event(void *ctx, const docker_event *ev)
{
    struct run *r = ctx;
    buf *log = &r->log;
    r->events++;
    if (memchr(ev->type, '\0', sizeof(ev->type)) == NULL ||
        memchr(ev->action, '\0', sizeof(ev->action)) == NULL ||
        memchr(ev->id, '\0', sizeof(ev->id)) == NULL)
        abort();
    if (ev->action[0] == '\0' || !str_is_utf8(ev->action, strlen(ev->action)))
        abort();
    if (ev->attributes != NULL && !json_is_object(ev->attributes))
        abort();
    char *attrs = ev->attributes != NULL
                      ? json_dumps(ev->attributes, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
                      : NULL;
    /* lengths first, so that fields holding '|' cannot make two logs look alike */
    if (buf_printf(log, "%zu:%s|%zu:%s|%zu:%s|%lld|%lld|%s\n", strlen(ev->type), ev->type,
                   strlen(ev->action), ev->action, strlen(ev->id), ev->id, (long long)ev->time,
                   (long long)ev->time_nano, attrs != NULL ? attrs : "-") != 0)
        abort();
    free(attrs);
}

/* Feeds p cut at the ascending offsets cuts[0..ncuts). */
static void run(struct run *r, const char *p, size_t n, const size_t *cuts, size_t ncuts)
{
    buf_init(&r->log, LOG_MAX);
    r->events = 0;
    docker_event_parser *ps = docker_event_parser_new(on_event, r);
    size_t off = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        if (docker_event_parser_feed(ps, p + off, end - off) != 0)
            abort();
        off = end;
    }
    r->skipped = docker_event_parser_skipped(ps);
    docker_event_parser_free(ps);
}

static void same(const struct run *a, const struct run *b)
{
    if (a->skipped != b->skipped || a->events != b->events || a->log.len != b->log.len)
        abort();
    if (a->log.len > 0 && memcmp(a->log.data, b->log.data, a->log.len) != 0)
        abort();
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *p = (const char *)data + 2;
    size_t n = size - 2;
    size_t cuts[2] = {n * data[0] / 255, n * data[1] / 255};
    if (cuts[0] > cuts[1]) {
        size_t t = cuts[0];
        cuts[0] = cuts[1];
        cuts[1] = t;
    }

    struct run whole, three, small;
    run(&whole, p, n, NULL, 0);
    run(&three, p, n, cuts, 2);
    same(&whole, &three);

    size_t step = n <= 4096 ? 1 : 509, ncuts = n / step;
    size_t *many = malloc((ncuts + 1) * sizeof(*many));
    if (many == NULL)
        abort();
    for (size_t i = 0; i < ncuts; i++)
        many[i] = (i + 1) * step;
    run(&small, p, n, many, ncuts);
    same(&whole, &small);
    free(many);

    /* accounting of complete lines */
    size_t lines = 0, blanks = 0, longs = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n')
            continue;
        size_t len = i - start;
        lines++;
        if (len > DOCKER_EVENT_LINE_MAX)
            longs++;
        else if (is_blank(p + start, len))
            blanks++;
        start = i + 1;
    }
    if (whole.events + whole.skipped + blanks != lines || whole.skipped < longs)
        abort();

    buf_free(&whole.log);
    buf_free(&three.log);
    buf_free(&small.log);
    return 0;
}
