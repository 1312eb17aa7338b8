/* Keeps the platform's records and the Engine in agreement. A full pass runs at start (before
 * the API serves), after every reconnection to the Engine and every reconcile_interval
 * seconds; between passes the Engine's /events stream (docker_events.c, filtered on this
 * platform's instance label) applies start/die/destroy as they happen; a reconnection of that
 * stream is followed by a pass. A pass:
 *   - finishes what a crash interrupted: a record still "creating" is rolled back (its Engine
 *     container and volume removed, the record deleted), one still "removing" is removed;
 *   - marks records whose container vanished as "removed", and copies the Engine's state
 *     (stopped or exited behind the platform's back) into the others;
 *   - removes this platform's containers that have no record (only a crash can leave them);
 *   - removes containers whose ttl has expired;
 *   - lists containers that carry the seed's managed label but were not made by this
 *     platform, for admins (they are never touched).
 * Rows a request is working on (containers_busy) are left alone. */
#ifndef CLOUDYA_RECONCILE_H
#define CLOUDYA_RECONCILE_H
#include "app.h"
#include "docker_events.h"

#include <jansson.h>

/* Runs one pass now if the Engine answers (a failure is logged, the thread retries), then
 * starts the events/resync thread. Returns 0 or a negative errno (thread creation). */
int reconcile_start(app *a);
void reconcile_stop(void);

/* Also hands every Engine event of this platform's containers to fn(ctx, ev), on the events
 * follower's thread, after the reconciler has applied it to the records (fn NULL: none).
 * One stream from the Engine serves both. */
void reconcile_listen(docker_event_fn fn, void *ctx);

/* 1 while the Engine's events stream is followed. */
int reconcile_events_connected(void);

/* One full pass. Returns 0, or the Engine's negative errno. */
int reconcile_pass(app *a);

/* Managed containers on the Engine that this platform did not create, as last seen:
 * [{id, name, image, state, clientId}]. New reference. */
json_t *reconcile_unrecorded(void);

/* Completed passes since start (tests and /metrics read it). */
long reconcile_passes(void);

#endif
