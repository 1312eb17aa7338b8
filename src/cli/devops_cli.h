/* What the local DevOps commands (deploy, app, stack) share on the command-line side: the
 * configuration, how progress is shown, confirmation, and the flows' errors turned into an
 * exit status. */
#ifndef CLOUDYA_DEVOPS_CLI_H
#define CLOUDYA_DEVOPS_CLI_H
#include <jansson.h>

#include "cli.h"
#include "dv_config.h"
#include "flow.h"
#include "manifest.h"

/* Loads config.json (created with defaults when missing) and sets up ui: progress on standard
 * output, or standard error with --output json; Ctrl+C caught and passed to the tools.
 * Returns 0, or the exit status after printing the error. */
int devops_setup(struct cli_ctx *ctx, struct dv_config *c, struct dv_ui *ui);
/* Leaves what devops_setup changed (Ctrl+C back to its default). */
void devops_done(void);

/* Turns a flow's return code into an exit status, printing err: 2 for a wrong request,
 * 130 for an interruption, else 1. */
int devops_fail(struct cli_ctx *ctx, const struct cli_command *cmd, int rc, const char *err);

/* Asks question [y/N] unless yes. Returns 0 to go on, 1 when declined (says so), 2 when there
 * is no terminal to ask (a usage error naming --yes), 130 on Ctrl+C. */
int devops_confirm(struct cli_ctx *ctx, const struct cli_command *cmd, const char *question,
                   int yes);

/* The colour of a record's status: green when done, red when failed, yellow in between. */
int devops_status_color(const char *status);

/* A flow that tears a record down (flow_tf_destroy, flow_app_uninstall). */
typedef int (*devops_teardown_fn)(const struct dv_config *c, const struct dv_ui *ui,
                                  const char *id, json_t **rec, char *err, size_t errlen);

/* Runs fn on record id (after the caller's confirmation) with Ctrl+C handed to the tool,
 * then prints the record as JSON or "<id> <done_word>." (in green). Returns the exit status:
 * 0, or devops_fail's. */
int devops_teardown(struct cli_ctx *ctx, const struct cli_command *cmd, struct dv_config *c,
                    const char *id, devops_teardown_fn fn, const char *done_word);

/* Prints a record's outputs as "name = value" lines (lists joined with ", "). */
void devops_print_outputs(FILE *f, json_t *outputs);

/* Prints a record for `show`: its fields, steps and outputs, or the JSON with --output json. */
int devops_show_record(struct cli_ctx *ctx, json_t *rec);

/* `deploy list` / `app list`: the templates of kind as a table (or JSON), with the required
 * parameters (Terraform) or the platforms (applications); broken manifests in red. */
int devops_list_templates(struct cli_ctx *ctx, enum dv_kind kind);

/* `deploy show provider/name` / `app show name`: a template's description, platforms and
 * parameters (type, required, default, allowed, secret), or its JSON. */
int devops_show_template(struct cli_ctx *ctx, const struct cli_command *cmd,
                         const struct dv_config *c, enum dv_kind kind, const char *id);

/* The commands of the DevOps groups (cmd_deploy.c, cmd_app.c, cmd_stack.c). */
extern const struct cli_command cli_deploy_commands[];
extern const struct cli_command cli_app_commands[];
extern const struct cli_command cli_stack_commands[];

#endif
