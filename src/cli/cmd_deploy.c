/* `cloudya deploy`: Terraform (or OpenTofu) templates on the user's machine: list the
 * templates, deploy one with checked parameters, list, show, retry and destroy deployments. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devops_cli.h"
#include "flow.h"
#include "manifest.h"
#include "output.h"
#include "record.h"
#include "str.h"
#include "templates.h"

static int cmd_list(struct cli_ctx *ctx, const struct cli_args *a)
{
    (void)a;
    return devops_list_templates(ctx, DV_TERRAFORM);
}

static void print_result(struct cli_ctx *ctx, json_t *rec, const char *verb)
{
    if (ctx->json) {
        out_json(rec);
        return;
    }
    long long ms = 0;
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(rec, "steps"), i, st) ms +=
        json_integer_value(json_object_get(st, "ms"));
    printf("%s%s %s%s in %.1f s.\n", color_on(ctx->color, C_GREEN),
           json_string_value(json_object_get(rec, "id")), verb, color_off(ctx->color),
           (double)ms / 1000.0);
    json_t *outputs = json_object_get(rec, "outputs");
    if (json_object_size(outputs) > 0) {
        printf("Outputs:\n");
        devops_print_outputs(stdout, outputs);
    }
}

static int cmd_template(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct dv_config c;
    struct dv_ui ui;
    int rc = devops_setup(ctx, &c, &ui);
    if (rc != 0)
        return rc;
    char err[4096];
    struct dv_prep p;
    rc = flow_prepare(&c, DV_TERRAFORM, a->pos[0], cli_value(a, "params"), NULL, &p, err, sizeof(err));
    if (rc != 0) {
        devops_done();
        return devops_fail(ctx, a->cmd, rc, err);
    }
    json_t *rec = NULL;
    rc = flow_tf_new(&c, &ui, &p, NULL, &rec, err, sizeof(err));
    flow_prep_free(&p);
    devops_done();
    if (rc != 0) {
        if (ctx->json && rec != NULL)
            out_json(rec);
        json_decref(rec);
        return devops_fail(ctx, a->cmd, rc == -EINVAL ? -EIO : rc, err);
    }
    print_result(ctx, rec, "applied");
    json_decref(rec);
    return 0;
}

static int cmd_deployments(struct cli_ctx *ctx, const struct cli_args *a)
{
    (void)a;
    struct dv_config c;
    char err[1024];
    if (dv_config_load(ctx->home, &c, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    json_t *list = record_list(&c, "dep-");
    if (ctx->json)
        return cli_emit(list);
    if (json_array_size(list) == 0) {
        printf("no deployments yet: see `cloudya deploy list` for the templates\n");
        json_decref(list);
        return 0;
    }
    static const char *const head[] = {"ID", "TEMPLATE", "STATUS", "CREATED", "HOSTS"};
    struct table *t = table_new(5, head);
    int64_t now = (int64_t)time(NULL);
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        char ago[64], hosts[512] = "-";
        fmt_ago(json_string_value(json_object_get(r, "created_at")), now, ago, sizeof(ago));
        json_t *h = json_object_get(json_object_get(r, "outputs"), "hosts");
        if (json_is_array(h) && json_array_size(h) > 0) {
            size_t off = 0, j;
            json_t *x;
            json_array_foreach(h, j, x) if (json_is_string(x) && off < sizeof(hosts)) off +=
                (size_t)snprintf(hosts + off, sizeof(hosts) - off, "%s%s", j ? ", " : "",
                                 json_string_value(x));
        }
        const char *status = json_string_value(json_object_get(r, "status"));
        const char *cells[] = {json_string_value(json_object_get(r, "id")),
                               json_string_value(json_object_get(r, "template")), status, ago,
                               hosts};
        table_add(t, cells);
        table_color(t, 2, devops_status_color(status));
    }
    table_print(t, stdout, ctx->color, out_width(stdout));
    table_free(t);
    json_decref(list);
    return 0;
}

static int cmd_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct dv_config c;
    char err[1024], dir[DV_PATH_MAX];
    if (dv_config_load(ctx->home, &c, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    const char *what = a->pos[0];
    if (strchr(what, '/') == NULL) { /* a deployment */
        json_t *rec = NULL;
        int rc = record_load(&c, what, &rec, dir, sizeof(dir), err, sizeof(err));
        if (rc != 0)
            return rc == -EINVAL ? cli_usage_error(ctx, a->cmd, "%s", err) : cli_fail(ctx, "%s", err);
        rc = devops_show_record(ctx, rec);
        json_decref(rec);
        return rc;
    }
    return devops_show_template(ctx, a->cmd, &c, DV_TERRAFORM, what);
}

static int cmd_retry(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct dv_config c;
    struct dv_ui ui;
    int rc = devops_setup(ctx, &c, &ui);
    if (rc != 0)
        return rc;
    char err[4096];
    json_t *rec = NULL;
    rc = flow_tf_retry(&c, &ui, a->pos[0], &rec, err, sizeof(err));
    devops_done();
    if (rc != 0) {
        if (ctx->json && rec != NULL && (rc == -EIO || rc == -EINTR))
            out_json(rec);
        json_decref(rec);
        return devops_fail(ctx, a->cmd, rc, err);
    }
    print_result(ctx, rec, "applied");
    json_decref(rec);
    return 0;
}

static int cmd_destroy(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct dv_config c;
    char err[4096], dir[DV_PATH_MAX];
    if (dv_config_load(ctx->home, &c, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    const char *id = a->pos[0];
    json_t *rec = NULL;
    if (strncmp(id, "dep-", 4) == 0) { /* ask about a deployment that exists */
        int rc = record_load(&c, id, &rec, dir, sizeof(dir), err, sizeof(err));
        if (rc != 0)
            return rc == -EINVAL ? cli_usage_error(ctx, a->cmd, "%s", err) : cli_fail(ctx, "%s", err);
        const char *st = json_string_value(json_object_get(rec, "status"));
        if (st != NULL && strcmp(st, "destroyed") == 0) {
            json_decref(rec);
            return cli_fail(ctx, "%s is already destroyed", id);
        }
        char q[512];
        snprintf(q, sizeof(q), "Destroy everything deployment %s (%s) created?", id,
                 json_string_value(json_object_get(rec, "template")));
        json_decref(rec);
        rec = NULL;
        int cr = devops_confirm(ctx, a->cmd, q, cli_has(a, "yes"));
        if (cr != 0)
            return cr;
    }
    return devops_teardown(ctx, a->cmd, &c, id, flow_tf_destroy, "destroyed");
}

static const struct cli_flag template_flags[] = {
    {"params", 'p', CLI_VALUE, "k=v,...", "the template's parameters (see cloudya deploy show T)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};
static const struct cli_flag destroy_flags[] = {
    {"yes", 'y', CLI_BOOL, NULL, "do not ask for confirmation (for scripts)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

const struct cli_command cli_deploy_commands[] = {
    {"deploy list", "DevOps", "", 0, 0, NULL, "list the Terraform templates (built-in and yours)",
     "Lists the templates `deploy template` can use: the built-in ones (aws/vpc, aws/ec2, gcp/vm, "
     "azure/vm) and your own under templates_dir/terraform/<provider>/<name>/ (a manifest.yaml "
     "beside main.tf, variables.tf and outputs.tf). A template of yours with the id of a "
     "built-in one replaces it. REQUIRES names the parameters you must give.",
     "cloudya deploy list\ncloudya deploy list --output json", 0, 1, CLI_COMPLETE_NONE, NULL,
     cmd_list},
    {"deploy template", "DevOps", "<provider/name>", 1, 1, template_flags,
     "deploy a template with Terraform (init, plan, apply)",
     "Checks --params against the template's manifest (names, types, required, allowed values) "
     "before anything runs, creates a deployment workspace ~/.cloudya/deployments/<id>/ with a "
     "copy of the template and terraform.tfvars.json, then runs terraform init, plan and apply "
     "(terraform_path in config.json: terraform or tofu), showing their output and logging it to "
     "deploy.log. The outputs are recorded. Credentials stored by `cloudya connect` are passed "
     "to the tool in its environment. Values with a comma: write \\, or give a list as a;b.",
     "cloudya deploy template aws/vpc --params region=eu-west-3,vpc_cidr=10.0.0.0/16\n"
     "cloudya deploy template aws/ec2 --params region=eu-west-3,instance_type=t2.micro,"
     "ssh_public_key=\"$(cat ~/.ssh/id_ed25519.pub)\"",
     0, 1, CLI_COMPLETE_NONE, NULL, cmd_template},
    {"deploy list-deployments", "DevOps", "", 0, 0, NULL, "list the deployments and their status",
     NULL, "cloudya deploy list-deployments --output json", 0, 1, CLI_COMPLETE_NONE, NULL,
     cmd_deployments},
    {"deploy show", "DevOps", "<deployment-id|provider/name>", 1, 1, NULL,
     "show a deployment (steps, outputs, error) or a template's parameters", NULL,
     "cloudya deploy show dep-1a2b3c4d\ncloudya deploy show aws/ec2", 0, 1, CLI_COMPLETE_NONE, NULL,
     cmd_show},
    {"deploy retry", "DevOps", "<deployment-id>", 1, 1, NULL,
     "run plan and apply again in a failed deployment", NULL, "cloudya deploy retry dep-1a2b3c4d",
     0, 1, CLI_COMPLETE_NONE, NULL, cmd_retry},
    {"deploy destroy", "DevOps", "<deployment-id>", 1, 1, destroy_flags,
     "destroy what a deployment created (terraform destroy)",
     "Asks for confirmation (--yes for scripts), then runs terraform destroy in the deployment's "
     "workspace with the variables it was created with. The record stays, marked destroyed.",
     "cloudya deploy destroy dep-1a2b3c4d\ncloudya deploy destroy dep-1a2b3c4d --yes", 0, 1,
     CLI_COMPLETE_NONE, NULL, cmd_destroy},
    {NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, 0, CLI_COMPLETE_NONE, NULL, NULL},
};
