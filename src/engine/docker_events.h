/* Following the Engine's event stream (GET /events): an incremental parser for its
 * newline-separated JSON objects, and a follower thread that keeps the stream open across
 * Engine restarts.
 *
 * Delivery: the follower's first request asks for events since the moment
 * docker_events_start was called (so none is lost while the stream is being set up), and
 * every reconnection resumes with since= the last delivered event's timeNano (the Engine
 * replays the events whose timeNano is >= since), so no event in between is lost and the
 * last one is recognised and not repeated. Duplicates remain possible only for distinct
 * events sharing that exact nanosecond (not merely the same second). Limits the Engine
 * imposes: it keeps only its last 256 events for replay, and events from before an Engine
 * restart are gone; a consumer that must not miss state changes (the reconciler) still
 * runs a full pass when docker_events_connects() changes. */
#ifndef CLOUDYA_DOCKER_EVENTS_H
#define CLOUDYA_DOCKER_EVENTS_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "docker.h"

#define DOCKER_EVENT_LINE_MAX (64 * 1024) /* bytes of one event's JSON line */
#define DOCKER_EVENTS_LABELS_MAX 16       /* label filters of one follower */
#define DOCKER_EVENTS_LABEL_MAX 512       /* bytes of one label filter ("key" or "key=value") */
#define DOCKER_EVENTS_BACKOFF_MIN_MS 500
#define DOCKER_EVENTS_BACKOFF_MAX_MS 10000

typedef struct docker_event {
    char type[16];      /* "container", "network", ... ("" when the Engine sent none) */
    char action[48];    /* "create", "start", "die", "health_status: healthy", ...; a longer
                         * action ("exec_start: <command>") is cut at a UTF-8 boundary */
    char id[65];        /* Actor.ID (or the old top-level "id"); "" when absent */
    int64_t time;       /* seconds since the epoch (timeNano / 1e9 when only that came) */
    int64_t time_nano;  /* nanoseconds (time * 1e9 when only that came, 0 if out of range) */
    json_t *attributes; /* Actor.Attributes (borrowed, valid during the callback); may be NULL */
} docker_event;

typedef void (*docker_event_fn)(void *ctx, const docker_event *ev);

/* The incremental splitter and parser, exported for tests and fuzzing. Bytes may be fed in
 * any chunking with the same result. Each complete line (up to '\n') is parsed: a line of
 * only spaces, tabs and '\r' is ignored; a line longer than DOCKER_EVENT_LINE_MAX is
 * dropped up to its newline (never buffered beyond the limit) and counted; a line that is
 * not a JSON object with a string "Action" (or old "status"), or whose Type is longer than
 * 15 bytes or Actor.ID longer than 64, or whose fields have the wrong JSON types, is
 * counted and skipped. Bad input is never fatal. An unterminated last line is never
 * delivered. */
typedef struct docker_event_parser docker_event_parser;

/* A parser that calls fn(ctx, ev) for every event, on the feeding thread. Never NULL. */
docker_event_parser *docker_event_parser_new(docker_event_fn fn, void *ctx);

/* Feeds len bytes. Returns 0, or -EINVAL when p is NULL or data is NULL with len > 0. */
int docker_event_parser_feed(docker_event_parser *p, const char *data, size_t len);

/* Complete lines skipped so far (too long or malformed). */
uint64_t docker_event_parser_skipped(const docker_event_parser *p);

void docker_event_parser_free(docker_event_parser *p);

/* The follower. */
typedef struct docker_events docker_events;

/* Starts a thread that follows GET /events?filters={"type":["container"],"label":[...]}
 * (labels are "key" or "key=value" strings, all of which must match; nlabels may be 0) and
 * calls fn for every event on that thread. It reconnects when the Engine goes away or
 * closes the stream, after 0.5 s doubling to 10 s (back to 0.5 s once a connection lasted
 * 10 s). d must outlive the follower. Returns 0 with *out set, -EINVAL (bad arguments:
 * NULL d or fn, more than DOCKER_EVENTS_LABELS_MAX labels, a NULL, empty or overlong
 * label), or -EAGAIN when the thread cannot be created. The stream connects
 * asynchronously: see docker_events_connected. */
int docker_events_start(docker *d, const char *const *labels, size_t nlabels,
                        docker_event_fn fn, void *ctx, docker_events **out);

/* Stops and joins the thread and frees e (NULL is ignored). Prompt: the stream's stop
 * callback is polled about once a second and the backoff wait wakes at once, so this
 * returns within about a second unless the Engine hangs in the middle of a request. Must
 * not be called from fn. */
void docker_events_stop(docker_events *e);

/* 1 while connected to the Engine's stream (the Engine answered a ping just before the
 * stream was requested, and the stream has not ended), else 0. For health checks. */
int docker_events_connected(const docker_events *e);

/* How many times the stream was (re)connected: a change tells a consumer that events may
 * have been missed beyond what since= can replay. */
uint64_t docker_events_connects(const docker_events *e);

/* Event lines skipped (too long or malformed) over all connections, for metrics. */
uint64_t docker_events_skipped(const docker_events *e);

#endif
