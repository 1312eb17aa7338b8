/* `cloudya diagnose deployment <id>`: reads the record of a deployment (Terraform), an
 * installation (Ansible) or a stack, and its log, and says which step failed, what the tool
 * said (its first error lines), and what to do about it: the tool's error is matched against
 * a table of the errors Terraform/OpenTofu, their cloud providers and Ansible are known to
 * give (no credentials, a state lock, a refused variable, a quota, a permission, no network
 * to the provider registry, a resource that already exists, an unreachable host, a refused
 * SSH key, sudo wanting a password, a missing package, a template error, a missing program,
 * an interrupted run), each with a concrete fix. */
#ifndef CLOUDYA_HOST_DEPLOY_DIAG_H
#define CLOUDYA_HOST_DEPLOY_DIAG_H
#include <stddef.h>

#include "check.h"
#include "dv_config.h"

#define DEPLOY_DIAG_LOG_MAX (4u << 20) /* of a log, the last this many bytes are read */
#define DEPLOY_DIAG_MATCH_MAX                                                                      \
    (256u << 10)                     /* of a step's output, the last this many bytes               \
                                      * are matched against the known errors */
#define DEPLOY_DIAG_SECTIONS_MAX 256 /* tool runs of one log looked at */
#define DEPLOY_DIAG_STEP_MAX 32      /* a step name: "init", "install" */

/* One run of a tool in a log: "==> TIME TOOL ARGS" ... "<== exit N after S s". */
struct deploy_log_section {
    char name[DEPLOY_DIAG_STEP_MAX]; /* init, plan, apply, output, destroy; install,
                                      * uninstall, status (from the playbook's name) */
    int finished;                    /* the "<==" line is there */
    int exit_code;                   /* when finished */
    const char *text; /* the tool's output (into the parsed text, not NUL-terminated) */
    size_t len;
};

/* Splits len bytes of a deployment log into its tool runs (at most max; text before the
 * first "==> " line is ignored). Returns the number of sections filled. Never reads past
 * len. Exported for the tests and the fuzzer. */
size_t deploy_log_sections(const char *text, size_t len, struct deploy_log_section *s, size_t max);

enum deploy_tool { DEPLOY_TOOL_ANY, DEPLOY_TOOL_TERRAFORM, DEPLOY_TOOL_ANSIBLE };

/* A known error: any of its patterns (alternatives separated by '|', each matched
 * case-insensitively) in a failed step's output. cause is
 * a sentence; fix may name {id}, {provider}, {template}, {app}, {workspace}, {log},
 * {rerun}, {var}, {host}, {lock}, {tool}, {config}, replaced when the advice is written. */
struct deploy_known {
    const char *key; /* "credentials", "state_lock", ... (the tests and the JSON use it) */
    enum deploy_tool tool;
    const char *patterns; /* "no valid credential sources|ExpiredToken|..." */
    const char *cause;
    const char *fix;
};

/* The first entry of the table that matches text (a step's output, len bytes) for a step of
 * tool (entries of the other tool are passed over); exit_code 126 or 127 with nothing
 * better means the program could not be run. Returns NULL when none matches. */
const struct deploy_known *deploy_diag_match(const char *text, size_t len, enum deploy_tool tool,
                                             int exit_code);

/* Diagnoses record id of c->deployments_dir into l (cleared first; subject "deployment
 * <id>"): a "record" check (its status), a "tool" check (the program it ran is still
 * there), one check per step of the latest run (✓ ok, ✗ failed or interrupted with the
 * tool's error lines in the detail, - not run), for a stack also its "infrastructure" and
 * "application" parts; then l->cause (the failing step and the tool's first error line, and
 * what it means) and l->advice (the fix), both "" for a run that succeeded. Returns 0, or the
 * error of record_load (-EINVAL for an id that is not one or a damaged record, -ENOENT when
 * there is none) with its sentence in err. */
int deploy_diagnose(const struct dv_config *c, const char *id, struct check_list *l, char *err,
                    size_t errlen);

#endif
