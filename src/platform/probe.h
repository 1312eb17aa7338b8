/* A background prober that pings the Docker Engine every second, so that health checks
 * read a fresh answer without ever waiting on the Engine themselves. */
#ifndef CLOUDYA_PROBE_H
#define CLOUDYA_PROBE_H
#include "app.h"

/* Probes once synchronously (so the first health answer is real), then starts the thread.
 * Returns 0 or a negative errno. */
int probe_start(app *a);

/* Stops and joins the thread; immediate (the thread waits on a condition variable). */
void probe_stop(void);

/* 1 when the latest probe reached the Engine, else 0. */
int probe_engine_ok(const app *a);

#endif
