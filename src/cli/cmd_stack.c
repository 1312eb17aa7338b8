/* `cloudya stack`: infrastructure and an application as one recorded unit: a Terraform
 * template that creates machines, then an Ansible application installed on them. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devops_cli.h"
#include "flow.h"
#include "output.h"
#include "params.h"
#include "record.h"
#include "str.h"
#include "templates.h"
#include "yaml_load.h"

#define STACKS_FILE "stacks.yaml"
#define STACKS_MAX_BYTES (256 * 1024)

/* The preconfigured stacks: the built-in stacks.yaml, then the user's (same name replaces). */
static json_t *presets(const struct dv_config *c)
{
    json_t *out = json_array();
    const char *dirs[] = {c->builtin_dir, c->templates_dir};
    for (int d = 0; d < 2; d++) {
        if (dirs[d][0] == '\0')
            continue;
        char path[DV_PATH_MAX + 32], err[256];
        snprintf(path, sizeof(path), "%s/%s", dirs[d], STACKS_FILE);
        yaml_limits lim = {.max_bytes = STACKS_MAX_BYTES, .max_depth = 8, .max_nodes = 20000};
        json_t *doc = NULL;
        if (yaml_load_file(path, &lim, &doc, err, sizeof(err)) != 0) {
            if (d == 1 && strstr(err, "No such file") == NULL && strstr(err, "cannot open") == NULL)
                fprintf(stderr, "cloudya: warning: %s\n", err);
            continue;
        }
        json_t *list = json_object_get(doc, "stacks");
        size_t i;
        json_t *s;
        json_array_foreach(list, i, s)
        {
            const char *name = json_string_value(json_object_get(s, "name"));
            const char *tpl = json_string_value(json_object_get(s, "template"));
            const char *app = json_string_value(json_object_get(s, "app"));
            if (name == NULL || !template_id_valid(DV_ANSIBLE, name) ||
                !template_id_valid(DV_TERRAFORM, tpl) || !template_id_valid(DV_ANSIBLE, app))
                continue;
            size_t j;
            json_t *o;
            json_array_foreach(out, j, o) if (strcmp(json_string_value(json_object_get(o, "name")),
                                                     name) == 0) break;
            json_t *copy = json_deep_copy(s);
            json_object_set_new(copy, "source", json_string(d ? "user" : "built-in"));
            if (j < json_array_size(out))
                json_array_set_new(out, j, copy);
            else
                json_array_append_new(out, copy);
        }
        json_decref(doc);
    }
    return out;
}

static int cmd_list(struct cli_ctx *ctx, const struct cli_args *a)
{
    (void)a;
    struct dv_config c;
    char err[1024];
    if (dv_config_load(ctx->home, &c, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    json_t *pre = presets(&c);
    json_t *stacks = record_list(&c, "stack-");
    if (ctx->json)
        return cli_emit(json_pack("{s:o,s:o}", "presets", pre, "stacks", stacks));
    static const char *const head[] = {"STACK", "TEMPLATE", "APP", "DESCRIPTION"};
    struct table *t = table_new(4, head);
    size_t i;
    json_t *s;
    json_array_foreach(pre, i, s)
    {
        const char *cells[] = {json_string_value(json_object_get(s, "name")),
                               json_string_value(json_object_get(s, "template")),
                               json_string_value(json_object_get(s, "app")),
                               json_string_value(json_object_get(s, "description"))};
        table_add(t, cells);
    }
    printf("%sPreconfigured stacks%s (cloudya stack deploy <stack> ...)\n",
           color_on(ctx->color, C_BOLD), color_off(ctx->color));
    if (json_array_size(pre) == 0)
        printf("none\n");
    else
        table_print(t, stdout, ctx->color, out_width(stdout));
    table_free(t);
    printf("\n%sDeployed stacks%s\n", color_on(ctx->color, C_BOLD), color_off(ctx->color));
    if (json_array_size(stacks) == 0) {
        printf("none yet\n");
    } else {
        static const char *const h2[] = {"ID", "TEMPLATE", "APP", "STATUS", "DEPLOYMENT",
                                         "INSTALLATION", "CREATED"};
        struct table *t2 = table_new(7, h2);
        int64_t now = (int64_t)time(NULL);
        json_array_foreach(stacks, i, s)
        {
            char ago[64];
            fmt_ago(json_string_value(json_object_get(s, "created_at")), now, ago, sizeof(ago));
            const char *status = json_string_value(json_object_get(s, "status"));
            const char *cells[] = {json_string_value(json_object_get(s, "id")),
                                   json_string_value(json_object_get(s, "template")),
                                   json_string_value(json_object_get(s, "app")), status,
                                   json_string_value(json_object_get(s, "deployment_id")),
                                   json_string_value(json_object_get(s, "app_id")), ago};
            table_add(t2, cells);
            table_color(t2, 3, devops_status_color(status));
        }
        table_print(t2, stdout, ctx->color, out_width(stdout));
        table_free(t2);
    }
    json_decref(pre);
    json_decref(stacks);
    return 0;
}

static int cmd_deploy(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct dv_config c;
    struct dv_ui ui;
    int rc = devops_setup(ctx, &c, &ui);
    if (rc != 0)
        return rc;
    char err[4096];
    const char *tpl = cli_value(a, "template"), *app = cli_value(a, "app");
    json_t *preset = NULL, *pre = NULL;
    if (a->npos == 1) {
        pre = presets(&c);
        size_t i;
        json_t *s;
        json_array_foreach(pre, i, s) if (strcmp(json_string_value(json_object_get(s, "name")),
                                                 a->pos[0]) == 0) preset = s;
        if (preset == NULL) {
            json_decref(pre);
            devops_done();
            return cli_usage_error(ctx, a->cmd, "no preconfigured stack named %s (see cloudya "
                                                "stack list)",
                                   a->pos[0]);
        }
        if (tpl == NULL)
            tpl = json_string_value(json_object_get(preset, "template"));
        if (app == NULL)
            app = json_string_value(json_object_get(preset, "app"));
    }
    if (tpl == NULL || app == NULL) {
        json_decref(pre);
        devops_done();
        return cli_usage_error(ctx, a->cmd, "say what to deploy: --template provider/name and "
                                            "--app name, or a preconfigured stack");
    }
    struct dv_prep infra, ap;
    rc = flow_prepare(&c, DV_TERRAFORM, tpl, cli_value(a, "infra-params"),
                      json_object_get(preset, "infra_params"), &infra, err, sizeof(err));
    if (rc != 0) {
        json_decref(pre);
        devops_done();
        return devops_fail(ctx, a->cmd, rc, err);
    }
    rc = flow_prepare(&c, DV_ANSIBLE, app, cli_value(a, "app-params"),
                      json_object_get(preset, "app_params"), &ap, err, sizeof(err));
    json_decref(pre);
    if (rc != 0) {
        flow_prep_free(&infra);
        devops_done();
        return devops_fail(ctx, a->cmd, rc, err);
    }
    if (!flow_tf_has_output(infra.dir, "hosts"))
        rc = -EINVAL, str_fmt(err, sizeof(err),
                              "%s creates no machines (it has no \"hosts\" output), so %s has "
                              "nowhere to go; pick a template that does, like aws/ec2",
                              tpl, app);
    else if (!manifest_has_platform(ap.m, infra.m->provider))
        rc = -EINVAL, str_fmt(err, sizeof(err), "%s cannot be installed on %s (see cloudya app show %s)",
                              app, infra.m->provider, app);
    char id[RECORD_ID_MAX], dir[DV_PATH_MAX];
    if (rc == 0)
        rc = record_create(&c, "stack", id, sizeof(id), dir, sizeof(dir), err, sizeof(err));
    if (rc != 0) {
        flow_prep_free(&infra);
        flow_prep_free(&ap);
        devops_done();
        return devops_fail(ctx, a->cmd, rc, err);
    }
    char now[32];
    record_now(now, sizeof(now));
    json_t *stack = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s}", "id", id, "kind", "stack",
                              "template", tpl, "app", app, "provider", infra.m->provider, "status",
                              "running", "infra_params", params_masked(infra.m, infra.values),
                              "app_params", params_masked(ap.m, ap.values), "created_at", now,
                              "workspace", dir);
    int lock = record_lock(dir, err, sizeof(err));
    flow_save(dir, stack);
    fprintf(ui.out, "Stack %s: %s, then %s on it\n", id, tpl, app);
    json_t *dep = NULL, *inst = NULL;
    rc = flow_tf_new(&c, &ui, &infra, id, &dep, err, sizeof(err));
    if (dep != NULL)
        json_object_set(stack, "deployment_id", json_object_get(dep, "id"));
    if (rc != 0) {
        json_object_set_new(stack, "status", json_string("failed"));
        json_object_set_new(stack, "failed_step", json_string("infrastructure"));
        json_object_set(stack, "error", json_object_get(dep, "error"));
    } else {
        json_object_set(stack, "outputs", json_object_get(dep, "outputs"));
        flow_save(dir, stack);
        struct dv_target t;
        const char *dep_id = json_string_value(json_object_get(dep, "id"));
        rc = flow_target(&c, ap.m, infra.m->provider, dep_id, NULL, NULL,
                         cli_value(a, "ssh-key"), &t, err, sizeof(err));
        if (rc == 0) {
            rc = flow_app_install(&c, &ui, &ap, &t, id, &inst, err, sizeof(err));
            flow_target_free(&t);
        }
        if (inst != NULL)
            json_object_set(stack, "app_id", json_object_get(inst, "id"));
        if (rc == 0) {
            json_object_set_new(stack, "status", json_string("deployed"));
        } else {
            json_object_set_new(stack, "status", json_string("partial"));
            json_object_set_new(stack, "failed_step", json_string("application"));
            json_object_set_new(stack, "error", json_string(err));
            char more[1024];
            snprintf(more, sizeof(more),
                     "\nThe infrastructure %s is up and recorded. Retry the application with "
                     "`cloudya app install %s --deployment %s --params ...`, or remove the "
                     "machines with `cloudya deploy destroy %s`.",
                     dep_id, app, dep_id, dep_id);
            size_t l = strlen(err);
            str_copy(err + l, sizeof(err) - l, more);
            if (rc == -EINVAL)
                rc = -EIO;
        }
    }
    flow_save(dir, stack);
    record_unlock(lock);
    flow_prep_free(&infra);
    flow_prep_free(&ap);
    devops_done();
    json_decref(dep);
    json_decref(inst);
    if (ctx->json)
        out_json(stack);
    if (rc != 0) {
        json_decref(stack);
        return devops_fail(ctx, a->cmd, rc == -EINVAL ? -EIO : rc, err);
    }
    if (!ctx->json) {
        printf("%sStack %s deployed%s: deployment %s, installation %s.\n",
               color_on(ctx->color, C_GREEN), id, color_off(ctx->color),
               json_string_value(json_object_get(stack, "deployment_id")),
               json_string_value(json_object_get(stack, "app_id")));
        json_t *outputs = json_object_get(stack, "outputs");
        if (json_object_size(outputs) > 0) {
            printf("Outputs:\n");
            devops_print_outputs(stdout, outputs);
        }
    }
    json_decref(stack);
    return 0;
}

static const struct cli_flag deploy_flags[] = {
    {"template", 0, CLI_VALUE, "provider/name", "the infrastructure template", NULL},
    {"app", 0, CLI_VALUE, "name", "the application to install on it", NULL},
    {"infra-params", 0, CLI_VALUE, "k=v,...", "the template's parameters", NULL},
    {"app-params", 0, CLI_VALUE, "k=v,...", "the application's parameters", NULL},
    {"ssh-key", 0, CLI_VALUE, "FILE", "the ssh private key Ansible logs in with", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

const struct cli_command cli_stack_commands[] = {
    {"stack list", "DevOps", "", 0, 0, NULL, "list the preconfigured and the deployed stacks",
     "Preconfigured stacks come from stacks.yaml among the built-in templates and in your "
     "templates_dir; deployed stacks are the ones `stack deploy` recorded.",
     "cloudya stack list\ncloudya stack list --output json", 0, 1, CLI_COMPLETE_NONE, NULL,
     cmd_list},
    {"stack deploy", "DevOps", "[<stack>]", 0, 1, deploy_flags,
     "deploy infrastructure and an application on it, as one stack",
     "Checks both parameter sets first, then deploys the template (as `deploy template` does) "
     "and installs the application on the machines it created (its hosts and ssh_user "
     "outputs). A preconfigured stack gives the template, the application and default "
     "parameters. When the application fails, the infrastructure stays recorded and the message "
     "says how to retry or destroy it.",
     "cloudya stack deploy --template aws/ec2 --app wordpress \\\n"
     "  --infra-params region=eu-west-3,instance_type=t2.micro,ssh_public_key=\"$(cat "
     "~/.ssh/id_ed25519.pub)\" \\\n"
     "  --app-params domain=monsite.com,admin_password=secret,db_password=secret2\n"
     "cloudya stack deploy wordpress-aws --infra-params ssh_public_key=... --app-params ...",
     0, 1, CLI_COMPLETE_NONE, NULL, cmd_deploy},
    {NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, 0, CLI_COMPLETE_NONE, NULL, NULL},
};
