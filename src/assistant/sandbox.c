/* The assistant's sandbox (see sandbox.h for the contract).
 *
 * One run: take a concurrency slot, create the container (every lock-down setting is in
 * container_config below; the caller chooses only the image, the limits, a non-root user
 * and the tenant label), start it, wait for it with
 * POST /containers/ID/wait bounded by the time left (docker_container_wait, which takes its
 * own timeout rather than the client's), kill it at the deadline, read its exit status and
 * OOM flag (inspect), then its output (GET /containers/ID/logs, not followed: after the exit
 * the Engine has written every byte, a last line without '\n' included, which a followed
 * stream may lose), and remove it, on every path once it was created.
 *
 * The output is the head of what the command wrote: the log stream is read until
 * output_max bytes are kept and then dropped (the truncated flag). The Engine's log file
 * is rotated (LOG_FILE_SIZE x LOG_FILE_COUNT) so a chatty command cannot fill the disk; a
 * command writing more than that loses its head, and gets a later window (flagged
 * truncated, as it is).
 *
 * Leftovers: every container carries a deadline label (unix seconds after which its run is
 * surely over: start + timeout + GRACE_S). sandbox_sweep removes labelled containers whose
 * deadline has passed and that are not runs of this process, so a sweep never kills a run
 * in progress, not even one of another process sharing the Engine. */
#define _POSIX_C_SOURCE 200809L
#include "sandbox.h"

#include "docker_logs.h"
#include "log.h"
#include "str.h"
#include "timeutil.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_HEX_BYTES 8                                   /* 16 hex characters */
#define NAME_LEN (sizeof(SANDBOX_NAME_PREFIX) + 2 * NAME_HEX_BYTES) /* with the NUL */
#define IMAGE_MAX 255         /* bytes of an image reference */
#define USER_MAX 64           /* bytes of "uid:gid" or a user name */
#define GRACE_S 60            /* create, start, logs and removal fit in this */
#define KILL_WAIT_MS 5000     /* after a kill, how long we wait for the container to stop */
#define LOGS_READ_MS 15000    /* reading the output of a stopped container */
#define PATH_LEN 256          /* an Engine request path with an id */
#define LOG_FILE_SIZE "16m"   /* the Engine's log file: rotated at this size... */
#define LOG_FILE_COUNT "2"    /* ...keeping this many, so a chatty command fills no disk */
#define SANDBOX_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- concurrency slots ---------------------------------------------------------------- */

/* The names of the runs in progress ("" = a free slot): the -EBUSY limit, and what
 * sandbox_sweep must not touch. */
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static char slots[SANDBOX_MAX_CONCURRENT][NAME_LEN];

static int slot_take(const char *name)
{
    int got = -EBUSY;
    pthread_mutex_lock(&slots_mu);
    for (int i = 0; i < SANDBOX_MAX_CONCURRENT; i++) {
        if (slots[i][0] == '\0') {
            str_copy(slots[i], sizeof(slots[i]), name);
            got = i;
            break;
        }
    }
    pthread_mutex_unlock(&slots_mu);
    return got;
}

static void slot_release(int i)
{
    pthread_mutex_lock(&slots_mu);
    slots[i][0] = '\0';
    pthread_mutex_unlock(&slots_mu);
}

/* 1 when name (with or without the Engine's leading '/') is a run of this process. */
static int slot_has(const char *name)
{
    int found = 0;
    if (name[0] == '/')
        name++;
    pthread_mutex_lock(&slots_mu);
    for (int i = 0; i < SANDBOX_MAX_CONCURRENT && !found; i++)
        found = slots[i][0] != '\0' && strcmp(slots[i], name) == 0;
    pthread_mutex_unlock(&slots_mu);
    return found;
}

int sandbox_running(void)
{
    int n = 0;
    pthread_mutex_lock(&slots_mu);
    for (int i = 0; i < SANDBOX_MAX_CONCURRENT; i++)
        n += slots[i][0] != '\0';
    pthread_mutex_unlock(&slots_mu);
    return n;
}

/* ---- options ------------------------------------------------------------------------ */

void sandbox_opts_default(sandbox_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->image = SANDBOX_IMAGE;
    o->timeout_s = SANDBOX_TIMEOUT_DEFAULT;
    o->output_max = SANDBOX_OUTPUT_DEFAULT;
    o->memory_bytes = SANDBOX_MEMORY_DEFAULT;
    o->nano_cpus = SANDBOX_NANO_CPUS_DEFAULT;
    o->pids_limit = SANDBOX_PIDS_DEFAULT;
    o->user = SANDBOX_USER_DEFAULT;
    o->tenant = NULL;
}

/* 1 when user ("name", "uid" or either followed by ":group") names root. */
static int user_is_root(const char *user)
{
    char u[USER_MAX + 1];
    str_copy(u, sizeof(u), user);
    char *colon = strchr(u, ':');
    if (colon != NULL)
        *colon = '\0';
    int64_t uid;
    return strcmp(u, "root") == 0 || (str_to_int64(u, 0, INT64_MAX, &uid) == 0 && uid == 0);
}

/* Checks every option; a caller's mistake is -EINVAL with the reason in err. */
static int opts_check(const sandbox_opts *o, char *err, size_t errlen)
{
    size_t ilen = o->image != NULL ? strlen(o->image) : 0;
    if (ilen == 0 || ilen > IMAGE_MAX || str_has_control(o->image, ilen) ||
        !str_is_utf8(o->image, ilen)) {
        str_fmt(err, errlen, "the sandbox image name is empty or invalid");
        return -EINVAL;
    }
    if (o->timeout_s < 1 || o->timeout_s > SANDBOX_TIMEOUT_MAX) {
        str_fmt(err, errlen, "the sandbox timeout must be 1 to %d seconds", SANDBOX_TIMEOUT_MAX);
        return -EINVAL;
    }
    if (o->output_max < 1 || o->output_max > SANDBOX_OUTPUT_LIMIT) {
        str_fmt(err, errlen, "the sandbox output limit must be 1 to %d bytes",
                SANDBOX_OUTPUT_LIMIT);
        return -EINVAL;
    }
    if (o->memory_bytes < SANDBOX_MEMORY_MIN || o->nano_cpus < 1000000 ||
        o->nano_cpus > 64LL * 1000000000 || o->pids_limit < 8 ||
        o->pids_limit > SANDBOX_PIDS_MAX) {
        str_fmt(err, errlen, "a sandbox limit (memory, CPUs, pids) is out of range");
        return -EINVAL;
    }
    if (o->user == NULL || o->user[0] == '\0' || strlen(o->user) > USER_MAX ||
        str_has_control(o->user, strlen(o->user)) || !str_is_utf8(o->user, strlen(o->user)) ||
        user_is_root(o->user)) {
        str_fmt(err, errlen, "the sandbox user must be a non-root user");
        return -EINVAL;
    }
    if (o->tenant != NULL) {
        size_t n = strlen(o->tenant);
        if (n == 0 || n > SANDBOX_TENANT_MAX || str_has_control(o->tenant, n) ||
            !str_is_utf8(o->tenant, n)) {
            str_fmt(err, errlen, "the sandbox tenant label is empty or invalid");
            return -EINVAL;
        }
    }
    return 0;
}

/* ---- the container ------------------------------------------------------------------ */

/* The whole container definition. The caller chooses only the image, the limits, the user
 * (never root) and the tenant label; the lock-down itself is not negotiable. */
static json_t *container_config(const sandbox_opts *o, const char *command, int64_t deadline)
{
    char dl[32];
    snprintf(dl, sizeof(dl), "%" PRId64, deadline);
    json_t *labels = json_pack("{s:s, s:s}", SANDBOX_LABEL, "1", SANDBOX_LABEL_DEADLINE, dl);
    if (o->tenant != NULL)
        json_object_set_new(labels, SANDBOX_LABEL_TENANT, json_string(o->tenant));

    /* RLIMIT_NPROC counts every process of the uid on the host, whatever its container:
     * it is a second fence behind PidsLimit (the per-container one), sized so that the
     * concurrent runs of one process never trip it. */
    json_int_t nproc = (json_int_t)o->pids_limit * SANDBOX_MAX_CONCURRENT;
    json_t *ulimits =
        json_pack("[{s:s, s:i, s:i}, {s:s, s:I, s:I}]", "Name", "nofile", "Soft",
                  SANDBOX_NOFILE, "Hard", SANDBOX_NOFILE, "Name", "nproc", "Soft", nproc,
                  "Hard", nproc);
    json_t *host = json_object();
    json_object_set_new(host, "NetworkMode", json_string("none"));
    json_object_set_new(host, "CapDrop", json_pack("[s]", "ALL"));
    json_object_set_new(host, "SecurityOpt", json_pack("[s]", "no-new-privileges:true"));
    json_object_set_new(host, "ReadonlyRootfs", json_true());
    json_object_set_new(host, "Tmpfs",
                        json_pack("{s:s}", "/tmp", "rw,noexec,nosuid,nodev,size=16m"));
    json_object_set_new(host, "Memory", json_integer(o->memory_bytes));
    json_object_set_new(host, "MemorySwap", json_integer(o->memory_bytes));
    json_object_set_new(host, "NanoCpus", json_integer(o->nano_cpus));
    json_object_set_new(host, "PidsLimit", json_integer(o->pids_limit));
    json_object_set_new(host, "Ulimits", ulimits);
    json_object_set_new(host, "Privileged", json_false());
    json_object_set_new(host, "PublishAllPorts", json_false());
    json_object_set_new(host, "Binds", json_array());
    json_object_set_new(host, "Mounts", json_array());
    json_object_set_new(host, "IpcMode", json_string("private"));
    json_object_set_new(host, "AutoRemove", json_false()); /* we remove it, after reading */
    json_object_set_new(host, "RestartPolicy", json_pack("{s:s}", "Name", "no"));
    json_object_set_new(host, "LogConfig",
                        json_pack("{s:s, s:{s:s, s:s}}", "Type", "json-file", "Config",
                                  "max-size", LOG_FILE_SIZE, "max-file", LOG_FILE_COUNT));

    json_t *c = json_object();
    json_object_set_new(c, "Image", json_string(o->image));
    json_object_set_new(c, "Entrypoint", json_array()); /* none, whatever the image says */
    json_object_set_new(c, "Cmd", json_pack("[s, s, s]", "/bin/sh", "-c", command));
    json_object_set_new(c, "Env", json_pack("[s, s, s, s, s, s, s, s]", SANDBOX_PATH,
                                            "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8",
                                            "PAGER=cat", "AWS_PAGER=",
                                            "AWS_EC2_METADATA_DISABLED=true",
                                            "PYTHONDONTWRITEBYTECODE=1"));
    json_object_set_new(c, "User", json_string(o->user));
    json_object_set_new(c, "WorkingDir", json_string("/tmp"));
    json_object_set_new(c, "Hostname", json_string("sandbox"));
    json_object_set_new(c, "NetworkDisabled", json_true());
    json_object_set_new(c, "AttachStdin", json_false());
    json_object_set_new(c, "OpenStdin", json_false());
    json_object_set_new(c, "Tty", json_false());
    json_object_set_new(c, "ExposedPorts", json_object());
    json_object_set_new(c, "Labels", labels);
    json_object_set_new(c, "HostConfig", host);
    return c;
}

/* ---- the output ----------------------------------------------------------------------- */

/* What the log stream fills: stdout and stderr interleaved by line, capped at max. */
struct output {
    docker_logs_demux demux;
    char *buf;
    size_t len, cap, max;
    int truncated;
    int finishing; /* the demux is handing out a last line that had no '\n' */
    int failed;    /* the stream was malformed */
};

/* Appends n bytes, or what fits of them; returns 1 (stop) once a byte was dropped. */
static int output_add(struct output *o, const char *p, size_t n)
{
    size_t room = o->max - o->len;
    size_t k = n < room ? n : room;
    if (o->len + k + 1 > o->cap) {
        size_t cap = o->cap;
        while (cap < o->len + k + 1)
            cap *= 2;
        if (cap > o->max + 1)
            cap = o->max + 1;
        o->buf = xrealloc(o->buf, cap);
        o->cap = cap;
    }
    memcpy(o->buf + o->len, p, k);
    o->len += k;
    o->buf[o->len] = '\0';
    if (k < n) {
        o->truncated = 1;
        return 1;
    }
    return 0;
}

/* A line from the demux gets its '\n' back, except a last line that had none, and a piece
 * of exactly DOCKER_LOG_LINE_MAX bytes, which is (almost always) the head of a longer line
 * (so a line of exactly that length loses its '\n': an accepted inaccuracy). */
static int output_line(void *ctx, enum docker_log_stream stream, const char *line, size_t len)
{
    struct output *o = ctx;
    (void)stream;
    if (output_add(o, line, len) != 0)
        return 1;
    if (o->finishing || len == DOCKER_LOG_LINE_MAX)
        return 0;
    return output_add(o, "\n", 1);
}

static int output_chunk(void *ctx, const char *data, size_t len)
{
    struct output *o = ctx;
    int rc = docker_logs_demux_feed(&o->demux, data, len);
    if (rc < 0)
        o->failed = 1;
    return rc != 0;
}

/* ---- waiting ------------------------------------------------------------------------ */

/* The Engine's OOM flag for a stopped container. */
static int oom_killed(docker *d, const char *id, int *oom, char *err, size_t errlen)
{
    json_t *j = NULL;
    int rc = docker_container_inspect(d, id, &j, err, errlen);
    if (rc != 0)
        return rc;
    json_t *st = json_object_get(j, "State");
    if (!json_is_object(st)) {
        json_decref(j);
        str_fmt(err, errlen, "the Engine's inspect answer has no container state");
        return -EPROTO;
    }
    *oom = json_is_true(json_object_get(st, "OOMKilled"));
    json_decref(j);
    return 0;
}

/* SIGKILL; a container that already stopped (409) is fine. */
static int kill_container(docker *d, const char *id, char *err, size_t errlen)
{
    char path[PATH_LEN];
    snprintf(path, sizeof(path), "/containers/%s/kill", id);
    int rc = docker_call(d, "POST", path, NULL, NULL, err, errlen);
    return rc == -EEXIST || rc == -EALREADY ? 0 : rc;
}

/* Removes the container, once more after a failure; a leftover is logged (the sweep will
 * find it once its deadline passed). */
static void remove_container(docker *d, const char *id, const char *name)
{
    char e[DOCKER_ERR_MAX] = "";
    int rc = docker_container_remove(d, id, 1, e, sizeof(e));
    if (rc != 0 && rc != -ENOENT)
        rc = docker_container_remove(d, id, 1, e, sizeof(e));
    if (rc != 0 && rc != -ENOENT)
        log_warnx("sandbox container %s left behind: %s", name, e);
}

/* ---- one run ------------------------------------------------------------------------ */

/* Start to removal-ready of a created container: fills out (but output and seconds) and
 * op, or returns an Engine error. The caller removes the container. */
static int run_container(docker *d, const char *id, int64_t deadline_ms, struct output *op,
                         sandbox_result *out, char *err, size_t errlen)
{
    int status = -1, oom = 0;
    int rc = docker_container_start(d, id, err, errlen);
    if (rc != 0)
        return rc;
    rc = docker_container_wait(d, id, (long)(deadline_ms - time_mono_ms()), &status, err,
                               errlen);
    if (rc == -ETIMEDOUT) {
        out->timed_out = 1;
        rc = kill_container(d, id, err, errlen);
        if (rc == 0)
            rc = docker_container_wait(d, id, KILL_WAIT_MS, &status, err, errlen);
        if (rc == -ETIMEDOUT) { /* killed but not seen stopped: the removal finishes it */
            status = -1;
            rc = 0;
        }
    }
    if (rc == 0)
        rc = oom_killed(d, id, &oom, err, errlen);
    if (rc != 0)
        return rc;

    char path[PATH_LEN];
    snprintf(path, sizeof(path), "/containers/%s/logs?stdout=1&stderr=1", id);
    rc = docker_stream(d, path, LOGS_READ_MS, output_chunk, NULL, op, err, errlen);
    if (rc != 0)
        return rc;
    if (!op->truncated && !op->failed) {
        op->finishing = 1;
        if (docker_logs_demux_finish(&op->demux) < 0)
            op->failed = 1;
    }
    if (op->failed)
        log_warnx("sandbox %.12s: the Engine's log stream is malformed; output kept so far",
                  id);
    out->exit_code = status >= 0 && status <= 255 ? status : -1;
    out->oom_killed = oom;
    out->truncated = op->truncated;
    return 0;
}

int sandbox_run(docker *d, const sandbox_opts *o, const char *command, sandbox_result *out,
                char *err, size_t errlen)
{
    sandbox_opts defaults;
    memset(out, 0, sizeof(*out));
    out->exit_code = -1;
    str_fmt(err, errlen, "%s", "");
    if (o == NULL) {
        sandbox_opts_default(&defaults);
        o = &defaults;
    }
    int rc = opts_check(o, err, errlen);
    if (rc != 0)
        return rc;
    if (command == NULL || command[0] == '\0') {
        str_fmt(err, errlen, "the command is empty");
        return -EINVAL;
    }
    size_t clen = strlen(command);
    if (clen > SANDBOX_COMMAND_MAX) {
        str_fmt(err, errlen, "the command is longer than %d bytes", SANDBOX_COMMAND_MAX);
        return -E2BIG;
    }
    if (!str_is_utf8(command, clen)) { /* JSON (the Engine's API) carries only UTF-8 */
        str_fmt(err, errlen, "the command is not valid UTF-8");
        return -EINVAL;
    }

    char hex[2 * NAME_HEX_BYTES + 1], name[NAME_LEN];
    str_random_hex(hex, NAME_HEX_BYTES);
    snprintf(name, sizeof(name), "%s%s", SANDBOX_NAME_PREFIX, hex);
    int slot = slot_take(name);
    if (slot < 0) {
        str_fmt(err, errlen, "%d sandbox commands are already running; try again shortly",
                SANDBOX_MAX_CONCURRENT);
        return -EBUSY;
    }

    int64_t t0 = time_mono_us();
    int64_t deadline_ms = time_mono_ms() + (int64_t)o->timeout_s * 1000;
    struct output *op = xcalloc(1, sizeof(*op));
    op->max = o->output_max;
    op->cap = o->output_max + 1 < 4096 ? o->output_max + 1 : 4096;
    op->buf = xmalloc(op->cap);
    op->buf[0] = '\0';
    docker_logs_demux_init(&op->demux, 0, output_line, op);

    char id[DOCKER_ID_LEN + 1];
    json_t *config = container_config(o, command, time_now() + o->timeout_s + GRACE_S);
    rc = docker_container_create(d, name, config, id, err, errlen);
    json_decref(config);
    if (rc == -ENOENT) {
        str_fmt(err, errlen, "the sandbox image %s is missing: build it with "
                "`scripts/images.sh sandbox`", o->image);
        goto out;
    }
    if (rc != 0)
        goto out;
    rc = run_container(d, id, deadline_ms, op, out, err, errlen);
    if (rc != 0) /* the Engine failed us midway: make sure nothing keeps running */
        kill_container(d, id, NULL, 0);
    remove_container(d, id, name);
out:
    if (rc == 0) {
        out->output = op->buf;
        out->output_len = op->len;
        op->buf = NULL;
        out->seconds = (double)(time_mono_us() - t0) / 1e6;
        str_fmt(err, errlen, "%s", ""); /* nothing failed, whatever was tried on the way */
    } else {
        memset(out, 0, sizeof(*out));
        out->exit_code = -1;
    }
    free(op->buf);
    free(op);
    slot_release(slot);
    return rc;
}

void sandbox_result_free(sandbox_result *r)
{
    if (r == NULL)
        return;
    free(r->output);
    memset(r, 0, sizeof(*r));
}

/* ---- the sweep ---------------------------------------------------------------------- */

/* 1 when the container listed as c is a leftover: not a run of ours, and past its
 * deadline (or without a readable one: not made by this code, or damaged). */
static int is_leftover(json_t *c, int64_t now)
{
    json_t *names = json_object_get(c, "Names");
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        const char *s = json_string_value(n);
        if (s != NULL && slot_has(s))
            return 0;
    }
    const char *dl =
        json_string_value(json_object_get(json_object_get(c, "Labels"), SANDBOX_LABEL_DEADLINE));
    int64_t deadline;
    if (dl == NULL || str_to_int64(dl, 0, INT64_MAX, &deadline) != 0)
        return 1;
    return now > deadline;
}

int sandbox_sweep(docker *d, char *err, size_t errlen)
{
    const char *labels[] = {SANDBOX_LABEL "=1"};
    json_t *list = NULL;
    int rc = docker_container_list(d, labels, 1, &list, err, errlen);
    if (rc != 0)
        return rc;
    int removed = 0;
    int64_t now = time_now();
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "Id"));
        if (id == NULL || strlen(id) != DOCKER_ID_LEN || !is_leftover(c, now))
            continue;
        char e[DOCKER_ERR_MAX] = "";
        int r = docker_container_remove(d, id, 1, e, sizeof(e));
        if (r == 0)
            removed++;
        else if (r != -ENOENT)
            log_warnx("sandbox sweep: cannot remove %.12s: %s", id, e);
    }
    json_decref(list);
    if (removed > 0)
        log_info("sandbox sweep removed %d leftover container(s)", removed);
    return removed;
}
