/* `cloudya app`: Ansible application templates on the user's machine: list and show them,
 * install one on a platform or a deployment's machines, see the installations, check and
 * uninstall them. */
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
    return devops_list_templates(ctx, DV_ANSIBLE);
}

static int cmd_show(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct dv_config c;
    char err[1024];
    if (dv_config_load(ctx->home, &c, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    return devops_show_template(ctx, a->cmd, &c, DV_ANSIBLE, a->pos[0]);
}

static int cmd_install(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct dv_config c;
    struct dv_ui ui;
    int rc = devops_setup(ctx, &c, &ui);
    if (rc != 0)
        return rc;
    char err[4096];
    struct dv_prep p;
    struct dv_target t;
    rc = flow_prepare(&c, DV_ANSIBLE, a->pos[0], cli_value(a, "params"), NULL, &p, err, sizeof(err));
    if (rc != 0) {
        devops_done();
        return devops_fail(ctx, a->cmd, rc, err);
    }
    rc = flow_target(&c, p.m, cli_value(a, "platform"), cli_value(a, "deployment"),
                     cli_value(a, "hosts"), cli_value(a, "user"), cli_value(a, "ssh-key"), &t, err,
                     sizeof(err));
    if (rc != 0) {
        flow_prep_free(&p);
        devops_done();
        return devops_fail(ctx, a->cmd, rc, err);
    }
    if (t.deployment[0])
        fprintf(ui.out, "Installing on the machines of deployment %s\n", t.deployment);
    json_t *rec = NULL;
    rc = flow_app_install(&c, &ui, &p, &t, NULL, &rec, err, sizeof(err));
    flow_prep_free(&p);
    flow_target_free(&t);
    devops_done();
    if (rc != 0) {
        if (ctx->json && rec != NULL)
            out_json(rec);
        json_decref(rec);
        return devops_fail(ctx, a->cmd, rc == -EINVAL ? -EIO : rc, err);
    }
    if (ctx->json)
        out_json(rec);
    else
        printf("%s%s installed%s (%s on %s). Check it with `cloudya app status %s`; remove it "
               "with `cloudya app uninstall --id %s`.\n",
               color_on(ctx->color, C_GREEN), json_string_value(json_object_get(rec, "id")),
               color_off(ctx->color), json_string_value(json_object_get(rec, "app")),
               json_string_value(json_object_get(rec, "platform")),
               json_string_value(json_object_get(rec, "id")),
               json_string_value(json_object_get(rec, "id")));
    json_decref(rec);
    return 0;
}

static int cmd_status(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct dv_config c;
    char err[4096];
    if (a->npos == 1) { /* one installation, checked live when its template can */
        struct dv_ui ui;
        int rc = devops_setup(ctx, &c, &ui);
        if (rc != 0)
            return rc;
        json_t *rec = NULL;
        rc = flow_app_check(&c, &ui, a->pos[0], &rec, err, sizeof(err));
        devops_done();
        if (rc != 0 && rc != -EIO) {
            char nocheck[64];
            snprintf(nocheck, sizeof(nocheck), "has no status.yml");
            if (rec != NULL && rc == -EINVAL && strstr(err, nocheck) != NULL) {
                rc = devops_show_record(ctx, rec); /* nothing to check with: the record */
                json_decref(rec);
                return rc;
            }
            json_decref(rec);
            return devops_fail(ctx, a->cmd, rc, err);
        }
        devops_show_record(ctx, rec);
        json_decref(rec);
        if (rc == -EIO)
            return cli_fail(ctx, "%s", err);
        return 0;
    }
    if (dv_config_load(ctx->home, &c, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    json_t *list = record_list(&c, "app-");
    if (ctx->json)
        return cli_emit(list);
    if (json_array_size(list) == 0) {
        printf("no applications installed yet: see `cloudya app list`\n");
        json_decref(list);
        return 0;
    }
    static const char *const head[] = {"ID", "APP", "PLATFORM", "HOSTS", "STATUS", "INSTALLED"};
    struct table *t = table_new(6, head);
    int64_t now = (int64_t)time(NULL);
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        char ago[64], hosts[512] = "-";
        fmt_ago(json_string_value(json_object_get(r, "created_at")), now, ago, sizeof(ago));
        size_t off = 0, j;
        json_t *x;
        json_array_foreach(json_object_get(r, "hosts"), j, x) if (off < sizeof(hosts)) off +=
            (size_t)snprintf(hosts + off, sizeof(hosts) - off, "%s%s", j ? ", " : "",
                             json_string_value(x));
        const char *status = json_string_value(json_object_get(r, "status"));
        const char *cells[] = {json_string_value(json_object_get(r, "id")),
                               json_string_value(json_object_get(r, "app")),
                               json_string_value(json_object_get(r, "platform")), hosts, status,
                               ago};
        table_add(t, cells);
        table_color(t, 4, devops_status_color(status));
    }
    table_print(t, stdout, ctx->color, out_width(stdout));
    table_free(t);
    json_decref(list);
    return 0;
}

static int cmd_uninstall(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct dv_config c;
    char err[4096], dir[DV_PATH_MAX];
    const char *id = cli_value(a, "id");
    if (id == NULL)
        return cli_usage_error(ctx, a->cmd, "say which installation: --id app-... (see cloudya app "
                                            "status)");
    if (dv_config_load(ctx->home, &c, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    json_t *rec = NULL;
    if (strncmp(id, "app-", 4) != 0)
        return cli_usage_error(ctx, a->cmd, "\"%s\" is not an installation id (they look like "
                                            "app-1a2b3c4d; see cloudya app status)",
                               id);
    int rc = record_load(&c, id, &rec, dir, sizeof(dir), err, sizeof(err));
    if (rc != 0)
        return rc == -EINVAL ? cli_usage_error(ctx, a->cmd, "%s", err) : cli_fail(ctx, "%s", err);
    const char *st = json_string_value(json_object_get(rec, "status"));
    if (st != NULL && strcmp(st, "uninstalled") == 0) {
        json_decref(rec);
        return cli_fail(ctx, "%s is already uninstalled", id);
    }
    char q[512];
    snprintf(q, sizeof(q), "Uninstall %s (%s) from %s?", id,
             json_string_value(json_object_get(rec, "app")),
             json_string_value(json_object_get(rec, "platform")));
    json_decref(rec);
    rec = NULL;
    int cr = devops_confirm(ctx, a->cmd, q, cli_has(a, "yes"));
    if (cr != 0)
        return cr;
    return devops_teardown(ctx, a->cmd, &c, id, flow_app_uninstall, "uninstalled");
}

static const struct cli_flag install_flags[] = {
    {"platform", 0, CLI_VALUE, "P", "aws, gcp, azure, proxmox, vmware, nutanix, openstack or local",
     "aws gcp azure proxmox vmware nutanix openstack local"},
    {"params", 'p', CLI_VALUE, "k=v,...", "the application's parameters (see cloudya app show)", NULL},
    {"deployment", 0, CLI_VALUE, "ID", "install on the machines of this deployment", NULL},
    {"hosts", 0, CLI_VALUE, "H,...", "install on these hosts (addresses or names)", NULL},
    {"user", 0, CLI_VALUE, "U", "the ssh login (default: the deployment's ssh_user)", NULL},
    {"ssh-key", 0, CLI_VALUE, "FILE", "the ssh private key to log in with", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};
static const struct cli_flag uninstall_flags[] = {
    {"id", 0, CLI_VALUE, "ID", "the installation (see cloudya app status)", NULL},
    {"yes", 'y', CLI_BOOL, NULL, "do not ask for confirmation (for scripts)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

const struct cli_command cli_app_commands[] = {
    {"app list", "DevOps", "", 0, 0, NULL, "list the applications (Ansible templates)",
     "Lists the built-in applications (wordpress, lamp, nextcloud) and your own under "
     "templates_dir/apps/<name>/ (manifest.yaml, playbook.yml, uninstall.yml, templates/).",
     "cloudya app list", 0, 1, CLI_COMPLETE_NONE, NULL, cmd_list},
    {"app show", "DevOps", "<name>", 1, 1, NULL, "show an application's parameters and platforms",
     NULL, "cloudya app show wordpress", 0, 1, CLI_COMPLETE_NONE, NULL, cmd_show},
    {"app install", "DevOps", "<name>", 1, 1, install_flags,
     "install an application with Ansible",
     "Checks --params against the application's manifest, then runs ansible-playbook "
     "(ansible_path in config.json) against an inventory of the target: --hosts, the machines "
     "of --deployment ID (its hosts and ssh_user outputs), this machine with --platform local, "
     "or for --platform aws|gcp|... the newest applied deployment there. The installation is "
     "recorded with an id, its workspace and log under ~/.cloudya/deployments/.",
     "cloudya app install wordpress --platform aws --params domain=monsite.com,"
     "admin_password=secret,db_password=secret2\n"
     "cloudya app install lamp --deployment dep-1a2b3c4d --params db_root_password=secret",
     0, 1, CLI_COMPLETE_NONE, NULL, cmd_install},
    {"app status", "DevOps", "[<id>]", 0, 1, NULL, "list the installations, or check one",
     "Without an id, lists the installations and their status. With an id, shows it and, when "
     "its template has a status playbook, runs it to check the application is healthy (exit 1 "
     "when not).",
     "cloudya app status\ncloudya app status app-1a2b3c4d", 0, 1, CLI_COMPLETE_NONE, NULL,
     cmd_status},
    {"app uninstall", "DevOps", "", 0, 0, uninstall_flags,
     "uninstall an application (its uninstall playbook)",
     "Asks for confirmation (--yes for scripts), then runs the template's uninstall.yml against "
     "the same inventory and variables as the installation.",
     "cloudya app uninstall --id app-1a2b3c4d", 0, 1, CLI_COMPLETE_NONE, NULL, cmd_uninstall},
    {NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, 0, CLI_COMPLETE_NONE, NULL, NULL},
};
