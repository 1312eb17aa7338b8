#define _POSIX_C_SOURCE 200809L
#include "probe.h"

#include "log.h"
#include "timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define PROBE_INTERVAL_MS 1000
#define PROBE_TIMEOUT_MS 800

static pthread_t thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static int stopping, running;
static atomic_int engine_ok;

static void probe_once(app *a)
{
    int ok = docker_ping(a->engine, PROBE_TIMEOUT_MS) == 0;
    int was = atomic_exchange(&engine_ok, ok);
    if (was != ok)
        log_at(ok ? LOG_INFO : LOG_WARN, __func__, 0, "Docker Engine at %s is %s",
               a->cfg.docker_socket, ok ? "available" : "unavailable");
}

static void *probe_main(void *arg)
{
    app *a = arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += PROBE_INTERVAL_MS / 1000;
        while (!stopping && pthread_cond_timedwait(&cv, &mu, &until) != ETIMEDOUT)
            ;
        if (stopping)
            break;
        pthread_mutex_unlock(&mu);
        probe_once(a);
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int probe_start(app *a)
{
    atomic_store(&engine_ok, -1);
    probe_once(a);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &attr);
    pthread_condattr_destroy(&attr);
    stopping = 0;
    if (pthread_create(&thread, NULL, probe_main, a) != 0)
        return -EAGAIN;
    running = 1;
    return 0;
}

void probe_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(thread, NULL);
    pthread_cond_destroy(&cv);
    running = 0;
}

int probe_engine_ok(const app *a)
{
    (void)a;
    return atomic_load(&engine_ok) == 1;
}
