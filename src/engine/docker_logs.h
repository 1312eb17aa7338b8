/* Decoding the Engine's log stream. For containers without a TTY (all of ours) the Engine
 * multiplexes stdout and stderr into frames: an 8-byte header {stream, 0, 0, 0, size as
 * big-endian uint32} followed by size bytes. The decoder is incremental (bytes may arrive
 * split anywhere, frames may be of any size: nothing is buffered but one partial line) and
 * hands out whole lines. It never trusts the header: an unknown stream byte or non-zero
 * padding is a protocol error. */
#ifndef CLOUDYA_DOCKER_LOGS_H
#define CLOUDYA_DOCKER_LOGS_H
#include <stddef.h>
#include <stdint.h>

#define DOCKER_LOG_LINE_MAX 16384 /* longer lines are handed out in pieces of this size */

enum docker_log_stream { DOCKER_LOG_STDIN = 0, DOCKER_LOG_STDOUT = 1, DOCKER_LOG_STDERR = 2 };

/* Called once per line, without its '\n' (a trailing '\r' is kept). Returns 0 to go on,
 * non-zero to stop decoding (feed then returns that value). */
typedef int (*docker_log_line_fn)(void *ctx, enum docker_log_stream stream, const char *line,
                                  size_t len);

typedef struct docker_logs_demux {
    docker_log_line_fn fn;
    void *ctx;
    int raw;                 /* 1: a TTY stream, no headers; everything is stdout */
    unsigned char hdr[8];
    size_t hdr_len;          /* bytes of the current header seen so far */
    uint32_t frame_left;     /* payload bytes left in the current frame */
    enum docker_log_stream stream;
    char line[DOCKER_LOG_LINE_MAX];
    size_t line_len;
    enum docker_log_stream line_stream;
    int failed;
} docker_logs_demux;

/* raw = 1 for a TTY container's stream (no frame headers). */
void docker_logs_demux_init(docker_logs_demux *d, int raw, docker_log_line_fn fn, void *ctx);

/* Feeds len bytes. Returns 0; -EPROTO on a malformed header (the decoder then refuses all
 * further input); or the non-zero value a callback returned. */
int docker_logs_demux_feed(docker_logs_demux *d, const char *data, size_t len);

/* Hands out a last line that had no '\n'. Returns like feed. */
int docker_logs_demux_finish(docker_logs_demux *d);

#endif
