/* Terraform deployments: a workspace per deployment, init/plan/apply, outputs, destroy. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow.h"
#include "params.h"
#include "record.h"
#include "str.h"
#include "templates.h"
#include "xalloc.h"

#define VARS_FILE "terraform.tfvars.json"
#define LOG_FILE "deploy.log"

/* Runs `tool args...` in dir as step name; records it. Returns 0 when it succeeded, -EIO when
 * it failed (status, failed_step and error set), -EINTR when interrupted, or the error of a
 * tool that could not start. The step's captured output (capture) is left in s. */
static int tf_step(const struct dv_config *c, const struct dv_ui *ui, const char *dir,
                   json_t *rec, const char *tool, const char *name, const char *const *args,
                   int capture, int quiet, struct run_step *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    char log[DV_PATH_MAX + 32];
    snprintf(log, sizeof(log), "%s/%s", dir, LOG_FILE);
    s->cwd = dir;
    s->argv[0] = tool;
    int k = 1;
    s->argv[k++] = name;
    for (int i = 0; args[i] != NULL && k < RUN_MAX_ARGS; i++)
        s->argv[k++] = args[i];
    if (!ui->color && k < RUN_MAX_ARGS)
        s->argv[k++] = "-no-color";
    s->argv[k] = NULL;
    s->log_path = log;
    s->echo = quiet ? NULL : ui->out;
    s->capture_stdout = capture;
    s->debug = ui->debug;
    s->interrupted = ui->interrupted;
    flow_env(c, json_string_value(json_object_get(rec, "provider")), s);
    int rc = run_step(s, err, errlen);
    flow_env_free(s);
    if (rc != 0)
        return rc;
    return flow_record_step(rec, name, s);
}

/* Reads `output -json` into the record: values as they are, sensitive ones masked. */
static int read_outputs(const struct dv_config *c, const struct dv_ui *ui, const char *dir,
                        json_t *rec, const char *tool, char *err, size_t errlen)
{
    struct run_step s;
    const char *args[] = {"-json", NULL};
    int rc = tf_step(c, ui, dir, rec, tool, "output", args, 1, 1, &s, err, errlen);
    if (rc != 0) {
        free(s.captured);
        return rc;
    }
    json_error_t je;
    json_t *doc = json_loads(s.captured ? s.captured : "", 0, &je);
    free(s.captured);
    json_t *outputs = json_object();
    if (json_is_object(doc)) {
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v)
        {
            if (json_is_true(json_object_get(v, "sensitive")))
                json_object_set_new(outputs, key, json_string("(sensitive)"));
            else if (json_object_get(v, "value") != NULL)
                json_object_set(outputs, key, json_object_get(v, "value"));
        }
    }
    json_decref(doc);
    json_object_set_new(rec, "outputs", outputs);
    return 0;
}

static void fail_message(json_t *rec, int rc, const char *dir, const char *how, char *err,
                         size_t errlen)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *step = json_string_value(json_object_get(rec, "failed_step"));
    const char *error = json_string_value(json_object_get(rec, "error"));
    if (rc == -EINTR)
        str_fmt(err, errlen,
                "%s: terraform %s was interrupted. The workspace is kept in %s (log: %s/%s). "
                "%s",
                id, step ? step : "", dir, dir, LOG_FILE, how);
    else
        str_fmt(err, errlen, "%s: terraform %s failed:\n%s\nThe workspace is kept in %s (log: "
                             "%s/%s). %s",
                id, step ? step : "", error ? error : "", dir, dir, LOG_FILE, how);
}

/* init (when needed), plan and apply, then the outputs. */
static int apply_all(const struct dv_config *c, const struct dv_ui *ui, const char *dir,
                     json_t *rec, const char *tool, int with_init, char *err, size_t errlen)
{
    struct run_step s;
    int total = with_init ? 3 : 2, n = 1, rc;
    char what[64];
    if (with_init) {
        flow_step_begin(ui, n++, total, "terraform init");
        const char *a[] = {"-input=false", NULL};
        rc = tf_step(c, ui, dir, rec, tool, "init", a, 0, 0, &s, err, errlen);
        if (rc == -EIO || rc == -EINTR || rc == 0)
            flow_step_end(ui, &s, "init");
        if (rc != 0)
            return rc;
        flow_save(dir, rec);
    }
    flow_step_begin(ui, n++, total, "terraform plan");
    const char *p[] = {"-input=false", "-var-file=" VARS_FILE, "-out=tfplan", NULL};
    rc = tf_step(c, ui, dir, rec, tool, "plan", p, 0, 0, &s, err, errlen);
    if (rc == -EIO || rc == -EINTR || rc == 0)
        flow_step_end(ui, &s, "plan");
    if (rc != 0)
        return rc;
    flow_save(dir, rec);
    flow_step_begin(ui, n++, total, "terraform apply");
    const char *a[] = {"-input=false", "-auto-approve", "tfplan", NULL};
    rc = tf_step(c, ui, dir, rec, tool, "apply", a, 0, 0, &s, err, errlen);
    snprintf(what, sizeof(what), "apply");
    if (rc == -EIO || rc == -EINTR || rc == 0)
        flow_step_end(ui, &s, what);
    if (rc != 0)
        return rc;
    return read_outputs(c, ui, dir, rec, tool, err, errlen);
}

int flow_tf_new(const struct dv_config *c, const struct dv_ui *ui, struct dv_prep *p,
                const char *stack_id, json_t **recp, char *err, size_t errlen)
{
    *recp = NULL;
    char id[RECORD_ID_MAX], dir[DV_PATH_MAX];
    int rc = record_create(c, "dep", id, sizeof(id), dir, sizeof(dir), err, errlen);
    if (rc != 0)
        return rc;
    int lock = record_lock(dir, err, errlen);
    if (lock < 0)
        return lock;
    char now[32];
    record_now(now, sizeof(now));
    json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:[],s:{},s:s,s:s}", "id", id,
                            "kind", "deployment", "template", p->id, "provider", p->m->provider,
                            "template_source", p->user ? "user" : "built-in", "tool", p->tool,
                            "status", "running", "params", params_masked(p->m, p->values),
                            "created_at", now, "updated_at", now, "steps", "outputs", "workspace",
                            dir, "log", LOG_FILE);
    if (stack_id != NULL)
        json_object_set_new(rec, "stack_id", json_string(stack_id));
    *recp = rec;
    rc = template_copy(p->dir, dir, err, errlen);
    if (rc == 0) {
        char vars[DV_PATH_MAX + 32];
        snprintf(vars, sizeof(vars), "%s/%s", dir, VARS_FILE);
        char *text = json_dumps(p->values, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        rc = dv_write_file(vars, text, strlen(text), 0600, err, errlen);
        free(text);
    }
    if (rc != 0) {
        json_object_set_new(rec, "status", json_string("failed"));
        json_object_set_new(rec, "error", json_string(err));
        flow_save(dir, rec);
        record_unlock(lock);
        return rc;
    }
    flow_save(dir, rec);
    fprintf(ui->out, "Deployment %s of %s in %s\n", id, p->id, dir);
    rc = apply_all(c, ui, dir, rec, p->tool, 1, err, errlen);
    if (rc == 0) {
        json_object_set_new(rec, "status", json_string("applied"));
        json_object_del(rec, "failed_step");
        json_object_del(rec, "error");
    } else {
        json_object_set_new(rec, "status", json_string(rc == -EINTR ? "interrupted" : "failed"));
        char how[256];
        snprintf(how, sizeof(how),
                 "Fix the cause and run `cloudya deploy retry %s`, or remove what was created "
                 "with `cloudya deploy destroy %s`.",
                 id, id);
        if (rc == -EIO || rc == -EINTR)
            fail_message(rec, rc, dir, how, err, errlen);
    }
    flow_save(dir, rec);
    record_unlock(lock);
    return rc;
}

int flow_tf_retry(const struct dv_config *c, const struct dv_ui *ui, const char *id,
                  json_t **recp, char *err, size_t errlen)
{
    char dir[DV_PATH_MAX], tool[DV_PATH_MAX];
    *recp = NULL;
    if (id == NULL || strncmp(id, "dep-", 4) != 0) {
        str_fmt(err, errlen, "\"%s\" is not a deployment id (see cloudya deploy list-deployments)",
                id ? id : "");
        return -EINVAL;
    }
    json_t *rec = NULL;
    int rc = record_load(c, id, &rec, dir, sizeof(dir), err, errlen);
    if (rc != 0)
        return rc == -ENOENT ? -ENOENT : -EINVAL;
    *recp = rec;
    const char *st = json_string_value(json_object_get(rec, "status"));
    if (st == NULL || (strcmp(st, "failed") != 0 && strcmp(st, "interrupted") != 0)) {
        str_fmt(err, errlen, "%s is %s: only a failed or interrupted deployment can be retried", id,
                st ? st : "in an unknown state");
        return -EINVAL;
    }
    if (dv_tool_find(c->terraform_path, tool, sizeof(tool)) != 0) {
        str_fmt(err, errlen, "%s was not found (terraform_path in %s)", c->terraform_path,
                c->config_path);
        return -ENOENT;
    }
    int lock = record_lock(dir, err, errlen);
    if (lock < 0)
        return lock;
    json_object_set_new(rec, "status", json_string("running"));
    json_object_del(rec, "interrupted_status");
    flow_save(dir, rec);
    rc = apply_all(c, ui, dir, rec, tool, 1, err, errlen);
    if (rc == 0) {
        json_object_set_new(rec, "status", json_string("applied"));
        json_object_del(rec, "failed_step");
        json_object_del(rec, "error");
    } else {
        json_object_set_new(rec, "status", json_string(rc == -EINTR ? "interrupted" : "failed"));
        char how[256];
        snprintf(how, sizeof(how),
                 "Run `cloudya deploy retry %s` again once fixed, or `cloudya deploy destroy %s`.",
                 id, id);
        if (rc == -EIO || rc == -EINTR)
            fail_message(rec, rc, dir, how, err, errlen);
    }
    flow_save(dir, rec);
    record_unlock(lock);
    return rc;
}

int flow_tf_destroy(const struct dv_config *c, const struct dv_ui *ui, const char *id,
                    json_t **recp, char *err, size_t errlen)
{
    char dir[DV_PATH_MAX], tool[DV_PATH_MAX];
    *recp = NULL;
    if (id == NULL || strncmp(id, "dep-", 4) != 0) {
        str_fmt(err, errlen,
                "\"%s\" is not a deployment id (see cloudya deploy list-deployments)%s", id ? id : "",
                id && strncmp(id, "app-", 4) == 0 ? "; remove an application with cloudya app "
                                                    "uninstall --id"
                                                  : "");
        return -EINVAL;
    }
    json_t *rec = NULL;
    int rc = record_load(c, id, &rec, dir, sizeof(dir), err, errlen);
    if (rc != 0)
        return rc == -ENOENT ? -ENOENT : -EINVAL;
    *recp = rec;
    const char *st = json_string_value(json_object_get(rec, "status"));
    if (st != NULL && strcmp(st, "destroyed") == 0) {
        str_fmt(err, errlen, "%s is already destroyed", id);
        return -EINVAL;
    }
    if (dv_tool_find(c->terraform_path, tool, sizeof(tool)) != 0) {
        str_fmt(err, errlen, "%s was not found (terraform_path in %s); it is needed to destroy %s",
                c->terraform_path, c->config_path, id);
        return -ENOENT;
    }
    int lock = record_lock(dir, err, errlen);
    if (lock < 0)
        return lock;
    json_object_set_new(rec, "status", json_string("destroying"));
    json_object_del(rec, "interrupted_status");
    flow_save(dir, rec);
    struct run_step s;
    int total = 2;
    char tfdir[DV_PATH_MAX + 16];
    snprintf(tfdir, sizeof(tfdir), "%s/.terraform", dir);
    int need_init = access(tfdir, F_OK) != 0;
    if (need_init) {
        flow_step_begin(ui, 1, total, "terraform init");
        const char *a[] = {"-input=false", NULL};
        rc = tf_step(c, ui, dir, rec, tool, "init", a, 0, 0, &s, err, errlen);
        if (rc == -EIO || rc == -EINTR || rc == 0)
            flow_step_end(ui, &s, "init");
    }
    if (rc == 0) {
        flow_step_begin(ui, need_init ? 2 : 1, need_init ? 2 : 1, "terraform destroy");
        const char *a[] = {"-input=false", "-auto-approve", "-var-file=" VARS_FILE, NULL};
        rc = tf_step(c, ui, dir, rec, tool, "destroy", a, 0, 0, &s, err, errlen);
        if (rc == -EIO || rc == -EINTR || rc == 0)
            flow_step_end(ui, &s, "destroy");
    }
    if (rc == 0) {
        char now[32];
        record_now(now, sizeof(now));
        json_object_set_new(rec, "status", json_string("destroyed"));
        json_object_set_new(rec, "destroyed_at", json_string(now));
        json_object_set_new(rec, "outputs", json_object());
        json_object_del(rec, "failed_step");
        json_object_del(rec, "error");
    } else {
        json_object_set_new(rec, "status",
                            json_string("destroy_failed"));
        char how[200];
        snprintf(how, sizeof(how), "Some resources may remain: fix the cause and run `cloudya "
                                   "deploy destroy %s` again.",
                 id);
        if (rc == -EIO || rc == -EINTR)
            fail_message(rec, rc, dir, how, err, errlen);
    }
    flow_save(dir, rec);
    record_unlock(lock);
    return rc;
}
