/* The Engine's log stream demultiplexer (see docker_logs.h for the frame format).
 *
 * State between feeds: the bytes of a header seen so far (hdr, hdr_len), what is left of the
 * current frame's payload (frame_left, stream) and one partial line (line, line_len,
 * line_stream). Payload bytes are split on '\n'; a whole line found inside the caller's
 * buffer is handed out from there without a copy, only a line cut by a feed or a frame
 * boundary is copied into line[].
 *
 * Rules worth knowing:
 *   - a line never mixes streams: when payload of another stream arrives while a partial
 *     line is pending, the partial line is handed out first, as it is;
 *   - a line longer than DOCKER_LOG_LINE_MAX comes out in pieces of exactly that size, then
 *     the rest (1 to DOCKER_LOG_LINE_MAX bytes); never an empty piece: a line of exactly
 *     DOCKER_LOG_LINE_MAX bytes is one piece, since a full buffer is only handed out when a
 *     further byte of the same line needs the room;
 *   - zero-size frames change nothing;
 *   - finish hands out the pending partial line, then reports -EPROTO when the input ended
 *     inside a header or a frame (a truncated stream), 0 otherwise;
 *   - after a callback's non-zero return the rest of that feed is not looked at: the
 *     caller is expected to stop (feeding more would misplace the frame boundaries). */
#include "docker_logs.h"

#include <errno.h>
#include <string.h>

static int emit(docker_logs_demux *d, enum docker_log_stream st, const char *p, size_t n)
{
    return d->fn(d->ctx, st, p, n);
}

/* Hands out the pending partial line (if any) and empties the buffer. */
static int flush_pending(docker_logs_demux *d)
{
    if (d->line_len == 0)
        return 0;
    size_t n = d->line_len;
    d->line_len = 0;
    return emit(d, d->line_stream, d->line, n);
}

/* Appends n bytes (no '\n' among them) of stream st to the partial line, handing out full
 * pieces when the line outgrows the buffer. */
static int append(docker_logs_demux *d, enum docker_log_stream st, const char *p, size_t n)
{
    int rc;
    if (n == 0)
        return 0;
    if (d->line_len > 0 && d->line_stream != st) {
        rc = flush_pending(d);
        if (rc != 0)
            return rc;
    }
    d->line_stream = st;
    while (n > 0) {
        if (d->line_len == DOCKER_LOG_LINE_MAX) {
            rc = flush_pending(d);
            if (rc != 0)
                return rc;
        }
        size_t room = DOCKER_LOG_LINE_MAX - d->line_len;
        size_t k = n < room ? n : room;
        memcpy(d->line + d->line_len, p, k);
        d->line_len += k;
        p += k;
        n -= k;
    }
    return 0;
}

/* Ends the current line: seg (n bytes, before the '\n') completes what is pending. */
static int end_line(docker_logs_demux *d, enum docker_log_stream st, const char *seg, size_t n)
{
    int rc;
    if (d->line_len > 0 && d->line_stream != st) {
        rc = flush_pending(d);
        if (rc != 0)
            return rc;
    }
    if (d->line_len == 0 && n <= DOCKER_LOG_LINE_MAX)
        return emit(d, st, seg, n); /* the common case: no copy */
    /* Fill the buffer up to the limit; a remainder that fits exactly stays one piece. */
    while (n > DOCKER_LOG_LINE_MAX - d->line_len) {
        size_t k = DOCKER_LOG_LINE_MAX - d->line_len;
        rc = append(d, st, seg, k);
        if (rc != 0)
            return rc;
        seg += k;
        n -= k;
        rc = flush_pending(d);
        if (rc != 0)
            return rc;
    }
    rc = append(d, st, seg, n);
    if (rc != 0)
        return rc;
    return flush_pending(d); /* n > 0 or a pending part here: never an empty piece */
}

/* Splits n payload bytes of stream st into lines. */
static int payload(docker_logs_demux *d, enum docker_log_stream st, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        if (nl == NULL)
            return append(d, st, p, n);
        size_t k = (size_t)(nl - p);
        int rc = end_line(d, st, p, k);
        if (rc != 0)
            return rc;
        p += k + 1;
        n -= k + 1;
    }
    return 0;
}

/* Checks a complete header and starts its frame. */
static int start_frame(docker_logs_demux *d)
{
    const unsigned char *h = d->hdr;
    d->hdr_len = 0;
    if (h[0] > DOCKER_LOG_STDERR || h[1] != 0 || h[2] != 0 || h[3] != 0)
        return -EPROTO;
    d->stream = (enum docker_log_stream)h[0];
    d->frame_left = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 |
                    (uint32_t)h[7];
    return 0;
}

/* Zeroes everything but the callback, so a demux can be reused. */
void docker_logs_demux_init(docker_logs_demux *d, int raw, docker_log_line_fn fn, void *ctx)
{
    memset(d, 0, sizeof(*d));
    d->fn = fn;
    d->ctx = ctx;
    d->raw = raw != 0;
    d->stream = DOCKER_LOG_STDOUT;
    d->line_stream = DOCKER_LOG_STDOUT;
}

/* Walks the input once: header bytes are collected until there are 8, payload bytes go to
 * the line splitter as runs as long as the frame and the input allow. */
int docker_logs_demux_feed(docker_logs_demux *d, const char *data, size_t len)
{
    int rc = 0;
    if (d->failed)
        return -EPROTO;
    if (d->raw)
        return payload(d, DOCKER_LOG_STDOUT, data, len);
    while (len > 0) {
        if (d->frame_left == 0) {
            size_t k = sizeof(d->hdr) - d->hdr_len;
            if (k > len)
                k = len;
            memcpy(d->hdr + d->hdr_len, data, k);
            d->hdr_len += k;
            data += k;
            len -= k;
            if (d->hdr_len < sizeof(d->hdr))
                break;
            rc = start_frame(d);
            if (rc != 0) {
                d->failed = 1;
                goto out;
            }
            continue;
        }
        size_t k = len < d->frame_left ? len : d->frame_left;
        d->frame_left -= (uint32_t)k;
        rc = payload(d, d->stream, data, k);
        if (rc != 0)
            goto out;
        data += k;
        len -= k;
    }
out:
    return rc;
}

/* The end of input: the last line had no '\n'. A stream cut inside a header or a frame is
 * reported after that line is handed out, so no byte the Engine sent is lost. */
int docker_logs_demux_finish(docker_logs_demux *d)
{
    if (d->failed)
        return -EPROTO;
    int rc = flush_pending(d);
    if (rc != 0)
        return rc;
    if (!d->raw && (d->hdr_len != 0 || d->frame_left != 0)) {
        d->failed = 1;
        return -EPROTO;
    }
    return 0;
}
