/* Runs one step of a deployment: a tool (terraform, tofu, ansible-playbook) as a child
 * process in the workspace, without a shell, with the credentials in its environment only,
 * its output streamed to the user and appended to the deployment's log, and Ctrl+C passed
 * to it once per press so the tool can stop cleanly. */
#ifndef CLOUDYA_RUNNER_H
#define CLOUDYA_RUNNER_H
#include <stddef.h>
#include <stdio.h>

#define RUN_MAX_ARGS 32
#define RUN_MAX_ENV 48
#define RUN_TAIL_BYTES 8192          /* the end of the output kept for the error summary */
#define RUN_CAPTURE_MAX (4 << 20)    /* standard output kept when capture_stdout is set */

struct run_step {
    /* in */
    const char *cwd;
    const char *argv[RUN_MAX_ARGS + 1]; /* argv[0] is the tool's full path; ends with NULL */
    char *env[RUN_MAX_ENV + 1];         /* "NAME=value" added to the environment; NULL-ended */
    const char *log_path;               /* appended to; NULL for none */
    FILE *echo;                         /* where output is shown; NULL to keep it quiet */
    int capture_stdout;                 /* keep standard output apart (output -json) */
    int debug;                          /* print the invocation on stderr (names, not values) */
    int (*interrupted)(void);           /* 1 once per Ctrl+C the caller caught; may be NULL */
    /* out */
    int exit_code;       /* the tool's exit status, 128+N when killed by signal N */
    int interrupts;      /* how many Ctrl+C were passed on */
    long long ms;        /* how long it ran */
    char tail[RUN_TAIL_BYTES]; /* the last output (standard error and output merged) */
    char *captured;      /* capture_stdout: malloc'd, NUL-terminated; the caller frees it */
    size_t captured_len;
};

/* Runs the step and waits for it. Returns 0 when the tool ran (whatever its exit status; see
 * exit_code), or a negative errno with a sentence when it could not be started. */
int run_step(struct run_step *s, char *err, size_t errlen);

/* The most useful lines of a failed step's output for a one-paragraph summary: from the first
 * line that starts with "Error:", "ERROR!", "fatal:" or "FAILED!" (up to 6 lines, without
 * escape sequences), else the last non-empty lines. Writes at most cap bytes. */
void run_error_summary(const char *tail, char *out, size_t cap);

#endif
