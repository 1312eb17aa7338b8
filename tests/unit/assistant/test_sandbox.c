/* Tests for src/assistant/sandbox.c against the real Docker Engine and the real image
 * (cloudya/sandbox:bookworm, built by `scripts/images.sh sandbox`; without it every test
 * fails and says so). Each run is checked from inside: output and exit codes, no network
 * interface but lo and no way out, a read-only root with a writable noexec /tmp, uid 10001
 * without capabilities, the pids limit, the memory limit (OOM kill), the timeout, output
 * truncation; from outside: no container is left after any run, the sweep removes a
 * leftover (and only that), and the concurrency limit answers -EBUSY. Every container the
 * tests make carries a tenant label unique to this process, so lists see only ours. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "docker.h"
#include "sandbox.h"
#include "timeutil.h"

#define REAL_SOCKET "/var/run/docker.sock"
#define TENANT_MAX 64

static docker *dk;
static char tenant[TENANT_MAX];

/* ---- helpers ----------------------------------------------------------------------- */

/* Our containers (this process's tenant label) that exist right now. */
static size_t our_containers(void)
{
    char label[TENANT_MAX + 64];
    snprintf(label, sizeof(label), "%s=%s", SANDBOX_LABEL_TENANT, tenant);
    const char *labels[] = {SANDBOX_LABEL "=1", label};
    json_t *list = NULL;
    char err[DOCKER_ERR_MAX];
    int rc = docker_container_list(dk, labels, 2, &list, err, sizeof(err));
    if (rc != 0)
        fail_msg("listing containers: %s", err);
    size_t n = json_array_size(list);
    json_decref(list);
    return n;
}

static void opts_for_test(sandbox_opts *o, int timeout_s)
{
    sandbox_opts_default(o);
    o->timeout_s = timeout_s;
    o->tenant = tenant;
}

/* Runs command, expects success (rc 0) and that no container is left. */
static void run_ok(const sandbox_opts *o, const char *command, sandbox_result *r)
{
    char err[DOCKER_ERR_MAX] = "";
    int rc = sandbox_run(dk, o, command, r, err, sizeof(err));
    if (rc != 0)
        fail_msg("sandbox_run(%s): %d %s", command, rc, err);
    assert_non_null(r->output);
    assert_int_equal(strlen(r->output), r->output_len);
    assert_int_equal(our_containers(), 0);
}

static int has_line(const char *out, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = out; p != NULL && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (len == n && memcmp(p, line, n) == 0)
            return 1;
        p = nl != NULL ? nl + 1 : NULL;
    }
    return 0;
}

/* ---- setup ------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    snprintf(tenant, sizeof(tenant), "test-sandbox-%ld", (long)getpid());
    dk = docker_new(REAL_SOCKET, 20000);
    if (docker_ping(dk, 3000) != 0) {
        fprintf(stderr, "test_sandbox: the Docker Engine at %s does not answer "
                "(scripts/dockerd.sh starts one)\n", REAL_SOCKET);
        return -1;
    }
    char err[DOCKER_ERR_MAX] = "";
    if (docker_image_exists(dk, SANDBOX_IMAGE, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_sandbox: the image %s is missing (%s): build it with "
                "`scripts/images.sh sandbox`\n", SANDBOX_IMAGE, err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    docker_free(dk);
    return 0;
}

/* ---- output and exit codes ---------------------------------------------------------- */

static void test_echo(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    opts_for_test(&o, 10);
    run_ok(&o, "echo hi; echo oops >&2", &r);
    assert_int_equal(r.exit_code, 0);
    assert_true(has_line(r.output, "hi"));
    assert_true(has_line(r.output, "oops"));
    assert_int_equal(r.output_len, strlen("hi\noops\n"));
    assert_false(r.timed_out);
    assert_false(r.truncated);
    assert_false(r.oom_killed);
    assert_true(r.seconds > 0 && r.seconds < 10);
    sandbox_result_free(&r);
    assert_null(r.output);
}

static void test_exit_code(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    opts_for_test(&o, 10);
    run_ok(&o, "echo before; exit 3", &r);
    assert_int_equal(r.exit_code, 3);
    assert_string_equal(r.output, "before\n");
    sandbox_result_free(&r);
}

/* The command is the shell's, with its quoting and expansion, and nothing of the caller's
 * environment: a last line without '\n' stays so. */
static void test_shell_and_env(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    opts_for_test(&o, 10);
    run_ok(&o, "x='a b'; echo \"$x|$HOME|$(pwd)|$PAGER|$AWS_EC2_METADATA_DISABLED\"; "
               "printf 'last'", &r);
    assert_string_equal(r.output, "a b|/tmp|/tmp|cat|true\nlast");
    sandbox_result_free(&r);

    /* Tools of the knowledge base are there and run without network or a writable root. */
    run_ok(&o, "jq -n '{a:1}|.a' && echo 'k: [1, 2]' | python3 -c "
               "'import sys, yaml; print(yaml.safe_load(sys.stdin)[\"k\"])' && "
               "command -v aws kubectl ansible git curl dig ip openssl >/dev/null && "
               "echo tools-ok", &r);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.output, "1\n[1, 2]\ntools-ok\n");
    sandbox_result_free(&r);
}

/* ---- the lock-down ------------------------------------------------------------------- */

static void test_no_network(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    opts_for_test(&o, 20);
    run_ok(&o, "ls /sys/class/net; ip -o link | cut -d: -f2 | tr -d ' '", &r);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.output, "lo\nlo\n");
    sandbox_result_free(&r);

    int64_t t0 = time_mono_ms();
    run_ok(&o, "curl -sS -m 10 https://deb.debian.org/ >/dev/null; echo curl=$?", &r);
    int64_t ms = time_mono_ms() - t0;
    assert_false(has_line(r.output, "curl=0"));
    assert_non_null(strstr(r.output, "curl=")); /* it ran, and failed */
    assert_true(ms < 5000);                     /* at once: no resolver, no route */
    sandbox_result_free(&r);

    run_ok(&o, "ping -c1 -W1 1.1.1.1 >/dev/null 2>&1; echo ping=$?", &r);
    assert_false(has_line(r.output, "ping=0"));
    sandbox_result_free(&r);
}

static void test_readonly_root(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    opts_for_test(&o, 10);
    run_ok(&o, "touch /etc/x 2>/dev/null; echo etc=$?; touch /usr/x 2>/dev/null; "
               "echo usr=$?; touch / 2>/dev/null; echo root=$?; "
               "echo data > /tmp/f && cat /tmp/f; "
               "cp /bin/true /tmp/t && /tmp/t 2>/dev/null; echo exec=$?", &r);
    assert_true(has_line(r.output, "etc=1"));
    assert_true(has_line(r.output, "usr=1"));
    assert_true(has_line(r.output, "root=1"));
    assert_true(has_line(r.output, "data")); /* /tmp is writable */
    assert_true(has_line(r.output, "exec=126")); /* but noexec */
    sandbox_result_free(&r);
}

static void test_user_and_capabilities(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    opts_for_test(&o, 10);
    run_ok(&o, "id -u; id -g; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs):' /proc/self/status "
               "| tr -d '\\t'", &r);
    assert_string_equal(r.output, "10001\n10001\nCapPrm:0000000000000000\n"
                                  "CapEff:0000000000000000\nCapBnd:0000000000000000\n"
                                  "NoNewPrivs:1\n");
    sandbox_result_free(&r);

    /* No way back to root: su/sudo fail without the capabilities setuid would need. */
    run_ok(&o, "su -c id root </dev/null >/dev/null 2>&1; echo su=$?", &r);
    assert_false(has_line(r.output, "su=0"));
    sandbox_result_free(&r);
}

/* A fork loop stops at the pids limit (64, the shell and python included), fast, and the
 * Engine and the next run are fine. */
static void test_pids_limit(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    opts_for_test(&o, 15);
    run_ok(&o,
           "python3 -c '\n"
           "import os, time\n"
           "n = 0\n"
           "try:\n"
           "    while n < 1000:\n"
           "        if os.fork() == 0:\n"
           "            time.sleep(30)\n"
           "            os._exit(0)\n"
           "        n += 1\n"
           "except OSError as e:\n"
           "    print(\"forks\", n, \"errno\", e.errno)\n'",
           &r);
    unsigned forks = 0, e = 0;
    if (sscanf(r.output, "forks %u errno %u", &forks, &e) != 2)
        fail_msg("unexpected output: %s", r.output);
    assert_int_equal(e, EAGAIN);
    assert_true(forks > 10 && forks < SANDBOX_PIDS_DEFAULT);
    assert_false(r.timed_out);
    assert_true(r.seconds < 10);
    sandbox_result_free(&r);

    /* The classic shell bomb, for 3 seconds (or until the shell cannot fork its sleep). */
    opts_for_test(&o, 6);
    int64_t t0 = time_mono_ms();
    run_ok(&o, "bomb() { bomb | bomb & }; bomb; sleep 3; echo survived", &r);
    assert_true(time_mono_ms() - t0 < 10000);
    assert_true(has_line(r.output, "survived") || strstr(r.output, "Cannot fork") != NULL ||
                r.timed_out);
    sandbox_result_free(&r);

    assert_int_equal(docker_ping(dk, 3000), 0);
    run_ok(&o, "echo fine", &r);
    assert_string_equal(r.output, "fine\n");
    sandbox_result_free(&r);
}

static void test_memory_limit(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    opts_for_test(&o, 20);
    run_ok(&o, "python3 -c 'b = b\"x\" * (400 * 1024 * 1024); print(len(b))'; echo rc=$?",
           &r);
    assert_true(r.oom_killed || has_line(r.output, "rc=137"));
    assert_false(has_line(r.output, "419430400"));
    assert_false(r.timed_out);
    sandbox_result_free(&r);

    /* The shell itself killed: exit 137 and the flag. */
    run_ok(&o, "exec python3 -c 'b = b\"x\" * (400 * 1024 * 1024)'", &r);
    assert_int_equal(r.exit_code, 137);
    assert_true(r.oom_killed);
    sandbox_result_free(&r);

    /* Under the limit is fine. */
    run_ok(&o, "python3 -c 'b = b\"x\" * (100 * 1024 * 1024); print(len(b))'", &r);
    assert_int_equal(r.exit_code, 0);
    assert_false(r.oom_killed);
    assert_string_equal(r.output, "104857600\n");
    sandbox_result_free(&r);
}

/* ---- timeout and output limit -------------------------------------------------------- */

static void test_timeout(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    opts_for_test(&o, 2);
    uint64_t errors = docker_error_count();
    int64_t t0 = time_mono_ms();
    run_ok(&o, "echo started; sleep 60; echo never", &r);
    int64_t ms = time_mono_ms() - t0;
    assert_int_equal(docker_error_count(), errors); /* a slow command is not the Engine's fault */
    assert_true(r.timed_out);
    assert_int_equal(r.exit_code, 137);
    assert_string_equal(r.output, "started\n"); /* what it said before is kept */
    assert_true(ms >= 2000 && ms < 4500);
    assert_true(r.seconds >= 2.0 && r.seconds < 4.5);
    sandbox_result_free(&r);

    /* Busy, chatty and past its time: the same. */
    opts_for_test(&o, 2);
    o.output_max = 100;
    run_ok(&o, "while :; do echo y; done", &r);
    assert_true(r.timed_out);
    assert_true(r.truncated);
    assert_int_equal(r.output_len, 100);
    assert_true(r.seconds < 4.5);
    sandbox_result_free(&r);
}

static void test_truncated(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    opts_for_test(&o, 10);
    o.output_max = 1000;
    run_ok(&o, "seq 1 100000; echo done >&2", &r);
    assert_int_equal(r.output_len, 1000);
    assert_true(r.truncated);
    assert_int_equal(r.exit_code, 0);
    assert_false(r.timed_out);
    assert_memory_equal(r.output, "1\n2\n3\n4\n", 8); /* the head is kept */
    sandbox_result_free(&r);

    /* Exactly the limit is not truncated. */
    o.output_max = 4;
    run_ok(&o, "echo abc", &r);
    assert_string_equal(r.output, "abc\n");
    assert_false(r.truncated);
    sandbox_result_free(&r);

    /* The default limit, with lines longer than the demux's pieces. */
    opts_for_test(&o, 10);
    run_ok(&o, "head -c 100000 /dev/zero | tr '\\0' x; echo; echo tail", &r);
    assert_int_equal(r.output_len, SANDBOX_OUTPUT_DEFAULT);
    assert_true(r.truncated);
    assert_null(memchr(r.output, '\n', r.output_len)); /* one long line, no '\n' inserted */
    sandbox_result_free(&r);
}

/* ---- arguments ------------------------------------------------------------------------ */

static void test_refused(void **state)
{
    (void)state;
    sandbox_opts o;
    sandbox_result r;
    char err[DOCKER_ERR_MAX];
    opts_for_test(&o, 10);
    assert_int_equal(sandbox_run(dk, &o, "", &r, err, sizeof(err)), -EINVAL);
    assert_null(r.output);
    assert_int_equal(sandbox_run(dk, &o, NULL, &r, err, sizeof(err)), -EINVAL);
    char *big = malloc(SANDBOX_COMMAND_MAX + 2);
    assert_non_null(big);
    memset(big, 'x', SANDBOX_COMMAND_MAX + 1);
    big[SANDBOX_COMMAND_MAX + 1] = '\0';
    assert_int_equal(sandbox_run(dk, &o, big, &r, err, sizeof(err)), -E2BIG);
    free(big);
    assert_int_equal(sandbox_run(dk, &o, "echo \xff\xfe", &r, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "UTF-8"));
    const char *roots[] = {"root", "0", "0:0", "root:10001", "000"};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        o.user = roots[i];
        assert_int_equal(sandbox_run(dk, &o, "id", &r, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "non-root"));
    }
    opts_for_test(&o, 0);
    assert_int_equal(sandbox_run(dk, &o, "id", &r, err, sizeof(err)), -EINVAL);
    opts_for_test(&o, SANDBOX_TIMEOUT_MAX + 1);
    assert_int_equal(sandbox_run(dk, &o, "id", &r, err, sizeof(err)), -EINVAL);
    opts_for_test(&o, 10);
    o.output_max = 0;
    assert_int_equal(sandbox_run(dk, &o, "id", &r, err, sizeof(err)), -EINVAL);
    opts_for_test(&o, 10);
    o.pids_limit = 0;
    assert_int_equal(sandbox_run(dk, &o, "id", &r, err, sizeof(err)), -EINVAL);
    opts_for_test(&o, 10);
    o.tenant = "bad\ntenant";
    assert_int_equal(sandbox_run(dk, &o, "id", &r, err, sizeof(err)), -EINVAL);

    /* A missing image: -ENOENT and how to build it; nothing left behind. */
    opts_for_test(&o, 10);
    o.image = "cloudya/sandbox:no-such-tag";
    assert_int_equal(sandbox_run(dk, &o, "id", &r, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "scripts/images.sh sandbox"));
    assert_null(r.output);
    assert_int_equal(our_containers(), 0);
    assert_int_equal(sandbox_running(), 0);
}

/* No Engine: its error, the slot given back, nothing to free. */
static void test_engine_down(void **state)
{
    (void)state;
    docker *gone = docker_new("/nonexistent/docker.sock", 2000);
    sandbox_opts o;
    sandbox_result r;
    char err[DOCKER_ERR_MAX] = "";
    opts_for_test(&o, 5);
    assert_int_equal(sandbox_run(gone, &o, "echo hi", &r, err, sizeof(err)), -ECONNREFUSED);
    assert_true(err[0] != '\0');
    assert_null(r.output);
    assert_int_equal(sandbox_running(), 0);
    assert_int_equal(sandbox_sweep(gone, err, sizeof(err)), -ECONNREFUSED);
    docker_free(gone);
}

/* ---- leftovers and concurrency ------------------------------------------------------- */

/* A container labelled like a sandbox's, with deadline dl, as a crash would leave it. */
static void make_leftover(const char *name, int64_t dl, char id[DOCKER_ID_LEN + 1])
{
    char dls[32], err[DOCKER_ERR_MAX];
    snprintf(dls, sizeof(dls), "%" PRId64, dl);
    json_t *c = json_pack("{s:s, s:[s, s, s], s:{s:s, s:s, s:s}, s:{s:s}}", "Image",
                          SANDBOX_IMAGE, "Cmd", "/bin/sh", "-c", "sleep 60", "Labels",
                          SANDBOX_LABEL, "1", SANDBOX_LABEL_TENANT, tenant,
                          SANDBOX_LABEL_DEADLINE, dls, "HostConfig", "NetworkMode", "none");
    int rc = docker_container_create(dk, name, c, id, err, sizeof(err));
    json_decref(c);
    if (rc != 0)
        fail_msg("creating %s: %s", name, err);
    assert_int_equal(docker_container_start(dk, id, err, sizeof(err)), 0);
}

static void test_sweep(void **state)
{
    (void)state;
    char old_id[DOCKER_ID_LEN + 1], young_id[DOCKER_ID_LEN + 1], name[96], err[DOCKER_ERR_MAX];
    snprintf(name, sizeof(name), "%s%ld-old", SANDBOX_NAME_PREFIX, (long)getpid());
    make_leftover(name, time_now() - 10, old_id);
    snprintf(name, sizeof(name), "%s%ld-young", SANDBOX_NAME_PREFIX, (long)getpid());
    make_leftover(name, time_now() + 3600, young_id);
    assert_int_equal(our_containers(), 2);

    int n = sandbox_sweep(dk, err, sizeof(err));
    assert_true(n >= 1);
    json_t *j = NULL;
    assert_int_equal(docker_container_inspect(dk, old_id, &j, err, sizeof(err)), -ENOENT);
    /* The young one may be another process's run in progress: kept. */
    assert_int_equal(docker_container_inspect(dk, young_id, &j, err, sizeof(err)), 0);
    json_decref(j);
    assert_int_equal(our_containers(), 1);
    assert_int_equal(docker_container_remove(dk, young_id, 1, err, sizeof(err)), 0);
    assert_int_equal(our_containers(), 0);
}

struct bg_run {
    pthread_t t;
    int rc;
    sandbox_result r;
};

static void *bg_main(void *arg)
{
    struct bg_run *b = arg;
    sandbox_opts o;
    opts_for_test(&o, 20);
    char err[DOCKER_ERR_MAX];
    b->rc = sandbox_run(dk, &o, "sleep 3; echo slept", &b->r, err, sizeof(err));
    if (b->rc != 0)
        fprintf(stderr, "background run: %d %s\n", b->rc, err);
    return NULL;
}

static void test_busy(void **state)
{
    (void)state;
    struct bg_run runs[SANDBOX_MAX_CONCURRENT];
    memset(runs, 0, sizeof(runs));
    for (int i = 0; i < SANDBOX_MAX_CONCURRENT; i++)
        CHECK(pthread_create(&runs[i].t, NULL, bg_main, &runs[i]) == 0);
    int64_t until = time_mono_ms() + 5000;
    while (sandbox_running() < SANDBOX_MAX_CONCURRENT && time_mono_ms() < until)
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
    assert_int_equal(sandbox_running(), SANDBOX_MAX_CONCURRENT);

    sandbox_opts o;
    sandbox_result r;
    char err[DOCKER_ERR_MAX];
    opts_for_test(&o, 10);
    int64_t t0 = time_mono_ms();
    assert_int_equal(sandbox_run(dk, &o, "echo one too many", &r, err, sizeof(err)), -EBUSY);
    assert_true(time_mono_ms() - t0 < 100); /* refused at once, not queued */
    assert_null(r.output);

    /* A sweep meanwhile leaves the runs in progress alone. */
    assert_true(sandbox_sweep(dk, err, sizeof(err)) >= 0);
    for (int i = 0; i < SANDBOX_MAX_CONCURRENT; i++) {
        pthread_join(runs[i].t, NULL);
        assert_int_equal(runs[i].rc, 0);
        assert_int_equal(runs[i].r.exit_code, 0);
        assert_string_equal(runs[i].r.output, "slept\n");
        sandbox_result_free(&runs[i].r);
    }
    assert_int_equal(sandbox_running(), 0);
    assert_int_equal(our_containers(), 0);
    run_ok(&o, "echo again", &r);
    assert_string_equal(r.output, "again\n");
    sandbox_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_exit_code),
        cmocka_unit_test(test_shell_and_env),
        cmocka_unit_test(test_no_network),
        cmocka_unit_test(test_readonly_root),
        cmocka_unit_test(test_user_and_capabilities),
        cmocka_unit_test(test_pids_limit),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_engine_down),
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_busy),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
