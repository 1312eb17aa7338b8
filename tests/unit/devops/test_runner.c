/* Unit tests for src/devops/runner.c. run_step runs "/bin/sh -c SCRIPT" as the tool: exit
 * codes, output shown on a FILE and appended to the log between its "==> " header and
 * "<== exit N" footer, the tail kept to the last RUN_TAIL_BYTES, standard output captured
 * apart from standard error, the step's environment (added and overriding), the working
 * folder, standard input at /dev/null, a program or folder that is missing (a negative errno
 * and a sentence), a child killed by a signal (128+N), and Ctrl+C passed on once when the
 * interrupted() callback says so (the script traps INT and exits 42). run_error_summary is
 * fed real Terraform output (box drawing, colours), an Ansible failure followed by its
 * PLAY RECAP, output without an error line, and a tail of many short lines. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"
#include "str.h"

static char dir[256];
static char err[1024];
static char log_path[320];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/cloudya-runner-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(log_path, sizeof(log_path), "%s/step.log", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void assert_has(const char *hay, const char *needle)
{
    if (hay == NULL || strstr(hay, needle) == NULL)
        fail_msg("\"%s\" is not in \"%s\"", needle, hay ? hay : "(null)");
}

static void assert_lacks(const char *hay, const char *needle)
{
    if (hay != NULL && strstr(hay, needle) != NULL)
        fail_msg("\"%s\" should not be in \"%s\"", needle, hay);
}

/* A step running script with /bin/sh in the test's folder, quiet, without a log. */
static struct run_step *sh_step(const char *script)
{
    struct run_step *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->cwd = dir;
    s->argv[0] = "/bin/sh";
    s->argv[1] = "-c";
    s->argv[2] = script;
    s->argv[3] = NULL;
    s->env[0] = NULL;
    return s;
}

static void step_free(struct run_step *s)
{
    free(s->captured);
    free(s);
}

/* The whole content of a FILE or a file, in a malloc'd string. */
static char *slurp_file(FILE *f)
{
    fflush(f);
    rewind(f);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[len] = '\0';
    return buf;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot read %s", path);
    char *t = slurp_file(f);
    fclose(f);
    return t;
}

/* ---- run_step ------------------------------------------------------------------------------ */

static void test_exit_codes(void **state)
{
    (void)state;
    static const int codes[] = {0, 1, 3, 127, 255};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char script[32];
        snprintf(script, sizeof(script), "exit %d", codes[i]);
        struct run_step *s = sh_step(script);
        assert_int_equal(run_step(s, err, sizeof(err)), 0); /* it ran */
        assert_int_equal(s->exit_code, codes[i]);
        assert_int_equal(s->interrupts, 0);
        assert_null(s->captured);
        assert_string_equal(s->tail, "");
        step_free(s);
    }
    /* how long it ran */
    struct run_step *s = sh_step("sleep 0.3");
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_true(s->ms >= 250 && s->ms < 10000);
    step_free(s);
}

static void test_output_echo_and_log(void **state)
{
    (void)state;
    FILE *echo = tmpfile();
    assert_non_null(echo);
    fputs("before\n", echo); /* the runner appends after what is there */
    struct run_step *s = sh_step("echo out-line; echo err-line >&2; printf 'no newline'; exit 4");
    s->echo = echo;
    s->log_path = log_path;
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_int_equal(s->exit_code, 4);
    char *shown = slurp_file(echo);
    assert_has(shown, "before\n");
    assert_has(shown, "out-line\n");
    assert_has(shown, "err-line\n");
    assert_has(shown, "no newline");
    free(shown);
    fclose(echo);
    /* the tail has both streams */
    assert_has(s->tail, "out-line\n");
    assert_has(s->tail, "err-line\n");
    step_free(s);

    char *log = slurp(log_path);
    /* "==> 2024-05-01T10:00:00Z /bin/sh -c ..." then the output, then the footer */
    assert_int_equal(strncmp(log, "==> ", 4), 0);
    assert_true(log[8] == '-' && log[14] == 'T' && log[23] == 'Z');
    assert_has(log, "Z /bin/sh -c echo out-line;");
    const char *o = strstr(log, "out-line\n"), *footer = strstr(log, "<== exit 4 after ");
    assert_non_null(o);
    assert_non_null(footer);
    assert_true(o < footer);
    assert_has(footer, " s\n");
    free(log);
    struct stat st;
    assert_int_equal(stat(log_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* a second step appends to the same log */
    s = sh_step("echo second");
    s->log_path = log_path;
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    step_free(s);
    log = slurp(log_path);
    assert_has(log, "<== exit 4 after ");
    assert_has(log, "second\n<== exit 0 after ");
    const char *second = strstr(log, "==> ");
    assert_non_null(second);
    assert_non_null(strstr(second + 4, "==> "));
    free(log);

    /* a log that cannot be opened does not stop the step */
    s = sh_step("echo fine");
    s->log_path = "/nonexistent/dir/step.log";
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_string_equal(s->tail, "fine\n");
    step_free(s);
}

static void test_tail_limit(void **state)
{
    (void)state;
    /* 20000 bytes of 'a', then the end: only the last RUN_TAIL_BYTES - 1 bytes are kept */
    struct run_step *s =
        sh_step("head -c 20000 /dev/zero | tr '\\0' a; echo; echo THE-END; echo tail >&2");
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    size_t len = strlen(s->tail);
    assert_int_equal(len, RUN_TAIL_BYTES - 1);
    assert_string_equal(s->tail + len - 14, "\nTHE-END\ntail\n");
    assert_true(s->tail[0] == 'a');
    step_free(s);

    /* many small writes add up the same way */
    s = sh_step("i=0; while [ $i -lt 3000 ]; do echo \"line $i\"; i=$((i+1)); done");
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    len = strlen(s->tail);
    assert_int_equal(len, RUN_TAIL_BYTES - 1);
    assert_string_equal(s->tail + len - 10, "line 2999\n");
    step_free(s);
}

static void test_capture_stdout(void **state)
{
    (void)state;
    FILE *echo = tmpfile();
    assert_non_null(echo);
    /* the JSON comes from the environment so that the log's header (the command) lacks it */
    struct run_step *s = sh_step("printf '%s\\n' \"$CLOUDYA_T_JSON\"; echo warn >&2");
    char json_env[] = "CLOUDYA_T_JSON={\"hosts\": {\"value\": [\"1.2.3.4\"]}}";
    s->env[0] = json_env;
    s->env[1] = NULL;
    s->capture_stdout = 1;
    s->echo = echo;
    s->log_path = log_path;
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_int_equal(s->exit_code, 0);
    assert_non_null(s->captured);
    assert_string_equal(s->captured, "{\"hosts\": {\"value\": [\"1.2.3.4\"]}}\n");
    assert_int_equal(s->captured_len, strlen(s->captured));
    /* standard error alone is shown, logged and kept */
    assert_string_equal(s->tail, "warn\n");
    char *shown = slurp_file(echo);
    assert_string_equal(shown, "warn\n");
    free(shown);
    fclose(echo);
    char *log = slurp(log_path);
    assert_lacks(log, "1.2.3.4");
    assert_has(log, "warn\n");
    free(log);
    step_free(s);

    /* nothing on standard output: "" rather than NULL */
    s = sh_step("echo only-err >&2");
    s->capture_stdout = 1;
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_non_null(s->captured);
    assert_string_equal(s->captured, "");
    assert_int_equal(s->captured_len, 0);
    step_free(s);

    /* more than one pipe's worth */
    s = sh_step("head -c 300000 /dev/zero | tr '\\0' x");
    s->capture_stdout = 1;
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_int_equal(s->captured_len, 300000);
    assert_int_equal(strlen(s->captured), 300000);
    step_free(s);
}

static void test_environment(void **state)
{
    (void)state;
    setenv("CLOUDYA_T_KEEP", "kept", 1);
    setenv("CLOUDYA_T_OVER", "old", 1);
    setenv("CLOUDYA_T_PRE", "short", 1);
    struct run_step *s =
        sh_step("echo \"added=$CLOUDYA_T_NEW over=$CLOUDYA_T_OVER keep=$CLOUDYA_T_KEEP "
                "pre=$CLOUDYA_T_PRE prex=$CLOUDYA_T_PREX\"; env | grep -c '^CLOUDYA_T_OVER='");
    char e1[] = "CLOUDYA_T_NEW=new value", e2[] = "CLOUDYA_T_OVER=new", e3[] = "CLOUDYA_T_PREX=x";
    s->env[0] = e1;
    s->env[1] = e2;
    s->env[2] = e3; /* a longer name that starts like CLOUDYA_T_PRE replaces nothing */
    s->env[3] = NULL;
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_string_equal(s->tail,
                        "added=new value over=new keep=kept pre=short prex=x\n1\n");
    step_free(s);
    /* our own environment is untouched */
    assert_string_equal(getenv("CLOUDYA_T_OVER"), "old");
    assert_null(getenv("CLOUDYA_T_NEW"));
    unsetenv("CLOUDYA_T_KEEP");
    unsetenv("CLOUDYA_T_OVER");
    unsetenv("CLOUDYA_T_PRE");
}

static void test_cwd_and_stdin(void **state)
{
    (void)state;
    struct run_step *s = sh_step("pwd -P");
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    char real[PATH_MAX + 2];
    assert_non_null(realpath(dir, real));
    size_t n = strlen(real);
    real[n] = '\n';
    real[n + 1] = '\0';
    assert_string_equal(s->tail, real);
    step_free(s);

    /* standard input is /dev/null: a read sees the end at once */
    s = sh_step("if read x; then echo got; else echo eof; fi; readlink /proc/self/fd/0");
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_string_equal(s->tail, "eof\n/dev/null\n");
    step_free(s);
}

static void test_missing_program(void **state)
{
    (void)state;
    struct run_step *s = sh_step("exit 0");
    s->argv[0] = "/nonexistent/terraform";
    s->log_path = log_path;
    memset(err, 0, sizeof(err));
    assert_int_equal(run_step(s, err, sizeof(err)), -ENOENT);
    assert_has(err, "cannot run /nonexistent/terraform");
    assert_has(err, strerror(ENOENT));
    assert_null(s->captured);
    step_free(s);

    /* not executable */
    char path[400];
    snprintf(path, sizeof(path), "%s/notexec", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\n", f);
    fclose(f);
    s = sh_step("exit 0");
    s->argv[0] = path;
    s->capture_stdout = 1;
    assert_int_equal(run_step(s, err, sizeof(err)), -EACCES);
    assert_has(err, "cannot run");
    assert_null(s->captured); /* nothing to free on failure */
    step_free(s);

    /* a working folder that is gone */
    s = sh_step("exit 0");
    s->cwd = "/nonexistent/workspace";
    assert_int_equal(run_step(s, err, sizeof(err)), -ENOENT);
    assert_has(err, "cannot run /bin/sh");
    step_free(s);
}

static void test_killed_by_signal(void **state)
{
    (void)state;
    struct run_step *s = sh_step("echo dying; kill -TERM $$; sleep 5");
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_int_equal(s->exit_code, 128 + SIGTERM);
    assert_string_equal(s->tail, "dying\n");
    step_free(s);
    s = sh_step("kill -KILL $$");
    s->log_path = log_path;
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_int_equal(s->exit_code, 128 + SIGKILL);
    step_free(s);
    char *log = slurp(log_path);
    assert_has(log, "<== exit 137 after ");
    free(log);
}

/* The interrupted() callback: 1 once, after the script says (with a file) that its trap is
 * set; counts its calls. */
static char ready_path[400];
static int calls, fired;

static int interrupted_once(void)
{
    calls++;
    if (fired || access(ready_path, F_OK) != 0)
        return 0;
    fired = 1;
    return 1;
}

static void test_interrupt(void **state)
{
    (void)state;
    snprintf(ready_path, sizeof(ready_path), "%s/ready", dir);
    calls = fired = 0;
    /* at most ~10 s if the interrupt never comes: exit 7 then */
    struct run_step *s = sh_step("trap 'echo got INT; exit 42' INT; touch ready; "
                                 "i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
                                 "exit 7");
    s->interrupted = interrupted_once;
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_int_equal(s->exit_code, 42);
    assert_int_equal(s->interrupts, 1);
    assert_has(s->tail, "got INT\n");
    assert_true(fired);
    assert_true(calls >= 1);
    step_free(s);

    /* a tool that ignores the first Ctrl+C is not killed by the runner */
    calls = fired = 0;
    unlink(ready_path);
    s = sh_step("trap 'echo ignoring' INT; touch ready; sleep 1; echo still here; exit 5");
    s->interrupted = interrupted_once;
    assert_int_equal(run_step(s, err, sizeof(err)), 0);
    assert_int_equal(s->interrupts, 1);
    assert_int_equal(s->exit_code, 5);
    assert_has(s->tail, "still here\n");
    step_free(s);
}

/* ---- run_error_summary ------------------------------------------------------------------------ */

/* terraform apply without credentials, as printed with -no-color */
static const char tf_plain[] =
    "Initializing the backend...\n"
    "aws_vpc.main: Creating...\n"
    "\xe2\x95\xb7\n"
    "\xe2\x94\x82 Error: creating EC2 VPC: operation error EC2: CreateVpc, https response error "
    "StatusCode: 403, api error UnauthorizedOperation: You are not authorized\n"
    "\xe2\x94\x82 \n"
    "\xe2\x94\x82   with aws_vpc.main,\n"
    "\xe2\x94\x82   on main.tf line 12, in resource \"aws_vpc\" \"main\":\n"
    "\xe2\x94\x82   12: resource \"aws_vpc\" \"main\" {\n"
    "\xe2\x94\x82 \n"
    "\xe2\x95\xb5\n";

/* the same with colours (no -no-color on a terminal) */
static const char tf_color[] =
    "\x1b[0m\x1b[1maws_vpc.main: Creating...\x1b[0m\n"
    "\x1b[31m\xe2\x95\xb7\x1b[0m\x1b[0m\n"
    "\x1b[31m\xe2\x94\x82\x1b[0m \x1b[0m\x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mNo valid "
    "credential sources found\x1b[0m\n"
    "\x1b[31m\xe2\x94\x82\x1b[0m \x1b[0m\n"
    "\x1b[31m\xe2\x95\xb5\x1b[0m\x1b[0m\n";

static const char ansible_fail[] =
    "PLAY [all] *********************************************************************\n"
    "\n"
    "TASK [Gathering Facts] *********************************************************\n"
    "ok: [203.0.113.7]\n"
    "\n"
    "TASK [Install packages] ********************************************************\n"
    "fatal: [203.0.113.7]: FAILED! => {\"changed\": false, \"msg\": \"No package matching "
    "'php-fpm' is available\"}\n"
    "\n"
    "PLAY RECAP *********************************************************************\n"
    "203.0.113.7                : ok=1    changed=0    unreachable=0    failed=1    skipped=0\n";

static void test_summary_terraform(void **state)
{
    (void)state;
    char out[2048];
    run_error_summary(tf_plain, out, sizeof(out));
    assert_int_equal(strncmp(out, "Error: creating EC2 VPC: operation error EC2", 44), 0);
    assert_has(out, "\nwith aws_vpc.main,\non main.tf line 12");
    assert_has(out, "12: resource \"aws_vpc\" \"main\" {");
    assert_lacks(out, "Initializing");
    assert_lacks(out, "Creating...");
    /* no box drawing survives: the frame's corners are not text */
    assert_lacks(out, "\xe2\x94\x82");
    assert_lacks(out, "\xe2\x95\xb5");
    assert_lacks(out, "\xe2\x95\xb7");

    run_error_summary(tf_color, out, sizeof(out));
    assert_string_equal(out, "Error: No valid credential sources found");
}

static void test_summary_ansible(void **state)
{
    (void)state;
    char out[2048];
    run_error_summary(ansible_fail, out, sizeof(out));
    assert_string_equal(out, "fatal: [203.0.113.7]: FAILED! => {\"changed\": false, \"msg\": "
                             "\"No package matching 'php-fpm' is available\"}");
    /* ERROR! of ansible-playbook itself */
    run_error_summary("ERROR! the playbook: playbook.yml could not be found\n", out,
                      sizeof(out));
    assert_string_equal(out, "ERROR! the playbook: playbook.yml could not be found");
    /* a cap too small cuts at a line */
    run_error_summary("Error: first\nsecond line\n", out, 16);
    assert_string_equal(out, "Error: first");
}

static void test_summary_without_error_line(void **state)
{
    (void)state;
    char out[2048];
    run_error_summary("one\ntwo\n\nthree\nfour\nfive\n\n", out, sizeof(out));
    assert_string_equal(out, "two\nthree\nfour\nfive");
    run_error_summary("", out, sizeof(out));
    assert_string_equal(out, "");
    run_error_summary("\n\n\n", out, sizeof(out));
    assert_string_equal(out, "");
    run_error_summary("only \x1b[1mbold\x1b[0m\r\n", out, sizeof(out));
    assert_string_equal(out, "only bold");
}

/* A tail of RUN_TAIL_BYTES holds more than 512 short lines: the summary is still about its
 * end, where the failure is. */
static void test_summary_many_lines(void **state)
{
    (void)state;
    char tail[RUN_TAIL_BYTES];
    size_t off = 0;
    for (int i = 0; off + 16 < sizeof(tail) - 64; i++)
        off += (size_t)snprintf(tail + off, sizeof(tail) - off, "ok: [h%d]\n", i % 10);
    snprintf(tail + off, sizeof(tail) - off, "last words\n");
    char out[2048];
    run_error_summary(tail, out, sizeof(out));
    assert_has(out, "last words");

    off = 0;
    for (int i = 0; off + 16 < sizeof(tail) - 64; i++)
        off += (size_t)snprintf(tail + off, sizeof(tail) - off, "ok: [h%d]\n", i % 10);
    snprintf(tail + off, sizeof(tail) - off, "fatal: [h1]: FAILED! => {}\n");
    run_error_summary(tail, out, sizeof(out));
    assert_string_equal(out, "fatal: [h1]: FAILED! => {}");
}

/* Whatever the tail holds, the summary is UTF-8 text: records keep it with json_string,
 * which refuses anything else (the error would be lost). */
static void test_summary_is_utf8(void **state)
{
    (void)state;
    char tail[2100], out[2048];
    /* a long line cut by the summary's line limit in the middle of "é" */
    size_t off = (size_t)snprintf(tail, sizeof(tail), "Error: ");
    memset(tail + off, 'x', 1015);
    off += 1015;
    off += (size_t)snprintf(tail + off, sizeof(tail) - off, "\xc3\xa9\xc3\xa9 end\n");
    run_error_summary(tail, out, sizeof(out));
    assert_int_equal(strncmp(out, "Error: xxx", 10), 0);
    assert_true(str_is_utf8(out, strlen(out)));
    /* a tail that starts inside a character (the runner keeps the last bytes) */
    run_error_summary("\xa9t\xc3\xa9 partial\nlast line\n", out, sizeof(out));
    assert_true(str_is_utf8(out, strlen(out)));
    assert_has(out, "last line");
    /* output that is not UTF-8 at all */
    run_error_summary("Error: bad \xff\xfe bytes\n", out, sizeof(out));
    assert_true(str_is_utf8(out, strlen(out)));
    assert_has(out, "Error: bad ");
}

/* A line of box drawing cut in the middle of a character must not be read past its end. */
static void test_summary_box_line_cut(void **state)
{
    (void)state;
    char tail[1200], out[2048];
    size_t off = 0;
    tail[off++] = ' ';
    for (int i = 0; i < 341; i++) {
        memcpy(tail + off, "\xe2\x94\x82", 3);
        off += 3;
    }
    memcpy(tail + off, "\nlast\n", 7);
    run_error_summary(tail, out, sizeof(out));
    assert_has(out, "last");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_echo_and_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture_stdout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cwd_and_stdin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_by_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
        cmocka_unit_test(test_summary_terraform),
        cmocka_unit_test(test_summary_ansible),
        cmocka_unit_test(test_summary_without_error_line),
        cmocka_unit_test(test_summary_many_lines),
        cmocka_unit_test(test_summary_is_utf8),
        cmocka_unit_test(test_summary_box_line_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
