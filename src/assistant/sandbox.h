/* The assistant's sandbox: runs one shell command, exactly as shown to the user, in a
 * throw-away container of SANDBOX_IMAGE that is locked down at run time: no network
 * (NetworkMode "none": only a loopback interface), a read-only root filesystem with a small
 * noexec tmpfs on /tmp, no capabilities, no-new-privileges, a non-root user, memory (no
 * swap), CPU and pids limits, a wall-clock timeout, no mounts and no published ports.
 * Nothing the assistant suggests ever runs on the host: the command is the argument of
 * `/bin/sh -c` INSIDE the container.
 *
 * Every container is labelled org.cloudya.sandbox=1 (plus the tenant and a deadline, see
 * sandbox.c) and is removed by the run that made it, on every path; sandbox_sweep removes
 * what a crashed process left behind. At most SANDBOX_MAX_CONCURRENT runs are in progress
 * in one process; a further one is refused with -EBUSY, never queued. */
#ifndef CLOUDYA_SANDBOX_H
#define CLOUDYA_SANDBOX_H
#include "docker.h"

#include <stddef.h>
#include <stdint.h>

#define SANDBOX_IMAGE "cloudya/sandbox:bookworm"
#define SANDBOX_MAX_CONCURRENT 4
#define SANDBOX_TIMEOUT_DEFAULT 30                 /* seconds */
#define SANDBOX_TIMEOUT_MAX 600                    /* seconds; a longer one is refused */
#define SANDBOX_OUTPUT_DEFAULT (64 * 1024)         /* bytes of stdout+stderr kept */
#define SANDBOX_OUTPUT_LIMIT (1024 * 1024)         /* the largest output_max accepted */
#define SANDBOX_MEMORY_DEFAULT (256LL * 1024 * 1024)
#define SANDBOX_MEMORY_MIN (8LL * 1024 * 1024)     /* the Engine's own minimum is 6 MB */
#define SANDBOX_NANO_CPUS_DEFAULT 500000000LL      /* half a CPU */
#define SANDBOX_PIDS_DEFAULT 64
#define SANDBOX_PIDS_MAX 1024
#define SANDBOX_NOFILE 256                         /* open files per process */
#define SANDBOX_USER_DEFAULT "10001:10001"         /* the image's user `sandbox` */
#define SANDBOX_COMMAND_MAX (16 * 1024)            /* bytes; a longer command is refused */
#define SANDBOX_TENANT_MAX 128                     /* bytes of the tenant label */
#define SANDBOX_LABEL "org.cloudya.sandbox"
#define SANDBOX_LABEL_TENANT "org.cloudya.sandbox.tenant"
#define SANDBOX_LABEL_DEADLINE "org.cloudya.sandbox.deadline"
#define SANDBOX_NAME_PREFIX "cloudya-sandbox-"

typedef struct sandbox_opts {
    const char *image;    /* default SANDBOX_IMAGE */
    int timeout_s;        /* default 30: after that the container is killed */
    size_t output_max;    /* default 64 KiB: stdout+stderr interleaved, the rest dropped */
    int64_t memory_bytes; /* default 256 MiB (swap the same: no swap) */
    int64_t nano_cpus;    /* default 0.5 CPU */
    int pids_limit;       /* default 64 */
    const char *user;     /* default "10001:10001"; root (0 or "root") is refused */
    const char *tenant;   /* label org.cloudya.sandbox.tenant, may be NULL */
} sandbox_opts;

typedef struct sandbox_result {
    int exit_code;     /* the shell's exit status (137 after SIGKILL), -1 when unknown */
    int timed_out;     /* 1: still running at the timeout, so killed */
    int truncated;     /* 1: the output was longer than output_max; the rest was dropped */
    int oom_killed;    /* 1: the Engine reports an out-of-memory kill in the container */
    char *output;      /* stdout and stderr interleaved by line, NUL-terminated (malloc'ed) */
    size_t output_len; /* bytes in output, at most output_max */
    double seconds;    /* wall time of the whole run, container creation to removal */
} sandbox_result;

/* Fills o with the defaults above (tenant NULL). */
void sandbox_opts_default(sandbox_opts *o);

/* Runs command (/bin/sh -c command in a new sandbox container) through the Engine client
 * d, waits for it up to o->timeout_s (killing it then), collects its output and removes
 * the container. o may be NULL for the defaults. Returns 0 when the command ran, whatever
 * its exit status, timeout, truncation or OOM kill (all in *out, which the caller frees
 * with sandbox_result_free); otherwise *out is empty (output NULL) and:
 *   -EINVAL   a bad option, an empty command or one that is not UTF-8
 *   -E2BIG    the command is longer than SANDBOX_COMMAND_MAX
 *   -EBUSY    SANDBOX_MAX_CONCURRENT runs are already in progress in this process
 *   -ENOENT   the image is missing (err says to build it: scripts/images.sh sandbox)
 *   or an Engine error from docker.h (the container, if one was made, is still removed). */
int sandbox_run(docker *d, const sandbox_opts *o, const char *command, sandbox_result *out,
                char *err, size_t errlen);

/* Frees r's output and zeroes it; r may be zeroed already. */
void sandbox_result_free(sandbox_result *r);

/* Removes leftover sandbox containers (label org.cloudya.sandbox=1): those a crashed
 * process left behind. A container of a run in progress in this process is kept, and so
 * is one whose deadline label (its run's timeout plus a grace period) has not passed, as
 * it may belong to a run in progress in another process sharing the Engine; call this at
 * start and then now and then (every few minutes). Returns the number of containers
 * removed (0 or more), or a negative errno from docker.h when they could not be listed
 * (a container that cannot be removed is logged and skipped). */
int sandbox_sweep(docker *d, char *err, size_t errlen);

/* The number of runs in progress in this process (0..SANDBOX_MAX_CONCURRENT). */
int sandbox_running(void);

#endif
