/* The DevOps flows the commands share: a Terraform deployment (new, retry, destroy), an
 * Ansible installation (install, check, uninstall) and what both need (how to show progress,
 * the credentials for the tools). cmd_deploy.c, cmd_app.c and cmd_stack.c call these, so a
 * stack runs exactly what `deploy template` and `app install` run. */
#ifndef CLOUDYA_FLOW_H
#define CLOUDYA_FLOW_H
#include <jansson.h>
#include <stdio.h>

#include "dv_config.h"
#include "manifest.h"
#include "runner.h"

/* How a flow talks to the user. */
struct dv_ui {
    FILE *out;                /* progress and the tools' output: stdout, or stderr with JSON */
    int color;                /* colour and the tools' own colours */
    int debug;                /* CLOUDYA_DEBUG: the tools' invocations */
    int (*interrupted)(void); /* Ctrl+C caught by the caller (term_sigint_taken) */
};

/* Return codes of the flows beyond 0:
 *   -EINVAL  the request is wrong (template, parameters, id): nothing ran; a usage error
 *   -ENOENT  the tool is not installed, or the record does not exist: nothing ran
 *   -EBUSY   another run holds the deployment
 *   -EIO     a step ran and failed: the record says which and keeps the workspace
 *   -EINTR   the user interrupted a step
 * each with a sentence in err that says what to do next. */

/* A template with its checked parameters, ready to run. */
struct dv_prep {
    enum dv_kind kind;
    char id[160];                 /* "aws/vpc", "wordpress" */
    char dir[DV_PATH_MAX];        /* the template's folder */
    int user;                     /* the user's own template */
    struct dv_manifest *m;
    json_t *values;               /* name -> typed value */
    char tool[DV_PATH_MAX];       /* the tool's full path */
};

/* Finds the template, checks params_text against its manifest and finds the tool. base (may
 * be NULL) holds values a preset gives (name -> scalar or list), which params_text overrides.
 * Returns 0 (free with flow_prep_free) or -EINVAL / -ENOENT as above. */
int flow_prepare(const struct dv_config *c, enum dv_kind kind, const char *id,
                 const char *params_text, const json_t *base, struct dv_prep *p, char *err,
                 size_t errlen);
void flow_prep_free(struct dv_prep *p);

/* 1 when the Terraform template declares an output named name (in any of its .tf files). */
int flow_tf_has_output(const char *dir, const char *name);

/* Creates deployment dep-… from p (a DV_TERRAFORM prep), runs init, plan and apply, reads the
 * outputs. *rec receives the record (also on failure once it exists). */
int flow_tf_new(const struct dv_config *c, const struct dv_ui *ui, struct dv_prep *p,
                const char *stack_id, json_t **rec, char *err, size_t errlen);
/* Runs plan and apply again in a failed or interrupted deployment's workspace. */
int flow_tf_retry(const struct dv_config *c, const struct dv_ui *ui, const char *id,
                  json_t **rec, char *err, size_t errlen);
/* Destroys what deployment id created (terraform destroy) and marks it destroyed. */
int flow_tf_destroy(const struct dv_config *c, const struct dv_ui *ui, const char *id,
                    json_t **rec, char *err, size_t errlen);

/* Where an application goes: the hosts and how to reach them. */
struct dv_target {
    char platform[32];
    char deployment[32];     /* "" when the hosts were not a deployment's */
    json_t *hosts;           /* array of strings */
    char user[64];           /* ssh login; "" for the default */
    char ssh_key[DV_PATH_MAX];
    int local;               /* this machine, without ssh */
};

/* Resolves the target: --hosts (with --user/--ssh-key), --deployment ID (its hosts and
 * ssh_user outputs), platform "local" (this machine), or the newest applied deployment on
 * platform that has hosts. Returns 0 (free with flow_target_free), -EINVAL or -ENOENT. */
int flow_target(const struct dv_config *c, const struct dv_manifest *m, const char *platform,
                const char *deployment, const char *hosts, const char *user,
                const char *ssh_key, struct dv_target *t, char *err, size_t errlen);
void flow_target_free(struct dv_target *t);

/* Creates installation app-… of p (a DV_ANSIBLE prep) on t and runs its playbook. */
int flow_app_install(const struct dv_config *c, const struct dv_ui *ui, struct dv_prep *p,
                     const struct dv_target *t, const char *stack_id, json_t **rec, char *err,
                     size_t errlen);
/* Runs installation id's uninstall playbook and marks it uninstalled. */
int flow_app_uninstall(const struct dv_config *c, const struct dv_ui *ui, const char *id,
                       json_t **rec, char *err, size_t errlen);
/* Runs installation id's status playbook (when the template has one): 0 healthy, -EIO not. */
int flow_app_check(const struct dv_config *c, const struct dv_ui *ui, const char *id,
                   json_t **rec, char *err, size_t errlen);

/* Fills s->env with the variables every tool run gets plus the stored credentials of
 * provider (may be NULL). Returns how many were set. The caller frees them with
 * flow_env_free. */
int flow_env(const struct dv_config *c, const char *provider, struct run_step *s);
void flow_env_free(struct run_step *s);

/* Appends step name's outcome to rec's steps; on failure also sets failed_step and error (the
 * tool's error lines). Returns 0 when it succeeded, -EINTR when interrupted, else -EIO. */
int flow_record_step(json_t *rec, const char *name, const struct run_step *s);

/* Saves rec in dir, warning on standard error when it cannot (the run itself went on). */
void flow_save(const char *dir, json_t *rec);

/* Prints a step header ("==> [1/3] terraform init") and, after, its result line. */
void flow_step_begin(const struct dv_ui *ui, int n, int total, const char *what);
void flow_step_end(const struct dv_ui *ui, const struct run_step *s, const char *what);

#endif
