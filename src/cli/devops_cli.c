/* The command-line side shared by deploy, app and stack. */
#define _GNU_SOURCE
#include "devops_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "output.h"
#include "templates.h"
#include "str.h"
#include "term.h"

int devops_setup(struct cli_ctx *ctx, struct dv_config *c, struct dv_ui *ui)
{
    char err[1024];
    if (dv_config_load(ctx->home, c, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    ui->out = ctx->json ? stderr : stdout;
    ui->color = ctx->json ? ctx->color_err : ctx->color;
    ui->debug = ctx->debug;
    ui->interrupted = term_sigint_taken;
    term_catch_sigint(1);
    return 0;
}

void devops_done(void)
{
    term_catch_sigint(0);
}

int devops_fail(struct cli_ctx *ctx, const struct cli_command *cmd, int rc, const char *err)
{
    if (rc == -EINVAL)
        return cli_usage_error(ctx, cmd, "%s", err);
    cli_fail(ctx, "%s", err);
    return rc == -EINTR ? 130 : 1;
}

int devops_confirm(struct cli_ctx *ctx, const struct cli_command *cmd, const char *question,
                   int yes)
{
    if (yes)
        return 0;
    char answer[16], prompt[512];
    snprintf(prompt, sizeof(prompt), "%s [y/N] ", question);
    fflush(stdout);
    int pr = term_prompt(prompt, 1, answer, sizeof(answer));
    if (pr == -ENOENT)
        return cli_usage_error(ctx, cmd, "no terminal to ask for confirmation: add --yes");
    if (pr == -EINTR)
        return 130;
    if (pr != 0 || (strcasecmp(answer, "y") != 0 && strcasecmp(answer, "yes") != 0)) {
        fprintf(stderr, "nothing done\n");
        return 1;
    }
    return 0;
}

int devops_status_color(const char *s)
{
    if (s == NULL)
        return C_NONE;
    if (strcmp(s, "applied") == 0 || strcmp(s, "installed") == 0 || strcmp(s, "deployed") == 0)
        return C_GREEN;
    if (strstr(s, "failed") != NULL || strcmp(s, "interrupted") == 0 || strcmp(s, "partial") == 0)
        return C_RED;
    if (strcmp(s, "destroyed") == 0 || strcmp(s, "uninstalled") == 0)
        return C_DIM;
    return C_YELLOW;
}

static void value_text(json_t *v, char *out, size_t cap)
{
    if (json_is_string(v)) {
        str_copy(out, cap, json_string_value(v));
        return;
    }
    if (json_is_array(v)) {
        size_t off = 0, i;
        json_t *x;
        out[0] = '\0';
        json_array_foreach(v, i, x)
        {
            char one[512];
            value_text(x, one, sizeof(one));
            int n = snprintf(out + off, off < cap ? cap - off : 0, "%s%s", i ? ", " : "", one);
            if (n < 0 || off + (size_t)n >= cap)
                break;
            off += (size_t)n;
        }
        return;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    str_copy(out, cap, s ? s : "?");
    free(s);
}

void devops_print_outputs(FILE *f, json_t *outputs)
{
    const char *key;
    json_t *v;
    json_object_foreach(outputs, key, v)
    {
        char text[2048];
        value_text(v, text, sizeof(text));
        str_utf8_repair(text, strlen(text));
        for (char *p = text; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        fprintf(f, "  %s = %s\n", key, text);
    }
}

int devops_show_record(struct cli_ctx *ctx, json_t *rec)
{
    if (ctx->json)
        return out_json(rec) == 0 ? 0 : 1;
    static const char *const fields[] = {"id",        "kind",       "template",      "app",
                                         "provider",  "platform",   "deployment_id", "stack_id",
                                         "status",    "created_at", "updated_at",    "destroyed_at",
                                         "uninstalled_at", "workspace", NULL};
    for (int i = 0; fields[i]; i++) {
        json_t *v = json_object_get(rec, fields[i]);
        if (!json_is_string(v) || json_string_length(v) == 0)
            continue;
        const char *s = json_string_value(v);
        int col = strcmp(fields[i], "status") == 0 ? devops_status_color(s) : C_NONE;
        printf("%-15s %s%s%s\n", fields[i], color_on(ctx->color, col), s, color_off(ctx->color && col));
    }
    json_t *hosts = json_object_get(rec, "hosts");
    if (json_is_array(hosts)) {
        char text[2048];
        value_text(hosts, text, sizeof(text));
        printf("%-15s %s\n", "hosts", text);
    }
    json_t *params = json_object_get(rec, "params");
    if (json_object_size(params) > 0) {
        printf("parameters:\n");
        devops_print_outputs(stdout, params);
    }
    json_t *steps = json_object_get(rec, "steps");
    if (json_array_size(steps) > 0) {
        printf("steps:\n");
        size_t i;
        json_t *st;
        json_array_foreach(steps, i, st)
        {
            const char *s = json_string_value(json_object_get(st, "status"));
            printf("  %-10s %s%-11s%s %6.1f s  exit %d\n",
                   json_string_value(json_object_get(st, "name")),
                   color_on(ctx->color, strcmp(s ? s : "", "ok") == 0 ? C_GREEN : C_RED),
                   s ? s : "?", color_off(ctx->color),
                   (double)json_integer_value(json_object_get(st, "ms")) / 1000.0,
                   (int)json_integer_value(json_object_get(st, "exit_code")));
        }
    }
    json_t *outputs = json_object_get(rec, "outputs");
    if (json_object_size(outputs) > 0) {
        printf("outputs:\n");
        devops_print_outputs(stdout, outputs);
    }
    const char *error = json_string_value(json_object_get(rec, "error"));
    if (error != NULL) {
        printf("error (%s):\n", json_string_value(json_object_get(rec, "failed_step"))
                                    ? json_string_value(json_object_get(rec, "failed_step"))
                                    : "?");
        printf("  %s\n", error);
    }
    json_t *check = json_object_get(rec, "check");
    if (json_is_object(check))
        printf("%-15s %s at %s\n", "last check", json_string_value(json_object_get(check, "result")),
               json_string_value(json_object_get(check, "checked_at")));
    const char *ws = json_string_value(json_object_get(rec, "workspace"));
    const char *log = json_string_value(json_object_get(rec, "log"));
    if (ws && log)
        printf("%-15s %s/%s\n", "log", ws, log);
    return 0;
}

int devops_list_templates(struct cli_ctx *ctx, enum dv_kind kind)
{
    struct dv_config c;
    char err[1024];
    if (dv_config_load(ctx->home, &c, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    json_t *list = templates_list(&c, kind);
    if (ctx->json)
        return cli_emit(list);
    int tf = kind == DV_TERRAFORM;
    if (json_array_size(list) == 0) {
        printf("no %s: the built-in ones were not found and %s/%s is empty\n",
               tf ? "templates" : "applications", c.templates_dir, tf ? "terraform" : "apps");
        json_decref(list);
        return 0;
    }
    const char *head[] = {tf ? "TEMPLATE" : "APP", tf ? "PROVIDER" : "NAME", "SOURCE",
                          tf ? "REQUIRES" : "PLATFORMS", "DESCRIPTION"};
    struct table *t = table_new(5, head);
    size_t i;
    json_t *tpl;
    json_array_foreach(list, i, tpl)
    {
        char col[512] = "";
        size_t off = 0, j;
        json_t *p;
        if (tf) {
            json_array_foreach(json_object_get(tpl, "parameters"), j, p)
            {
                if (json_is_true(json_object_get(p, "required")) &&
                    json_object_get(p, "default") == NULL && off < sizeof(col))
                    off += (size_t)snprintf(col + off, sizeof(col) - off, "%s%s", off ? ", " : "",
                                            json_string_value(json_object_get(p, "name")));
            }
        } else {
            json_array_foreach(json_object_get(tpl, "platforms"), j, p) if (off < sizeof(col)) off +=
                (size_t)snprintf(col + off, sizeof(col) - off, "%s%s", j ? " " : "",
                                 json_string_value(p));
        }
        const char *error = json_string_value(json_object_get(tpl, "error"));
        char desc[600];
        if (error)
            snprintf(desc, sizeof(desc), "broken manifest: %s", error);
        else
            str_copy(desc, sizeof(desc), json_string_value(json_object_get(tpl, "description")));
        const char *cells[] = {json_string_value(json_object_get(tpl, "id")),
                               json_string_value(json_object_get(tpl, tf ? "provider" : "name")),
                               json_string_value(json_object_get(tpl, "source")),
                               col[0] ? col : (tf ? "-" : "any"), desc};
        table_add(t, cells);
        if (error)
            table_color(t, 4, C_RED);
    }
    table_print(t, stdout, ctx->color, out_width(stdout));
    table_free(t);
    json_decref(list);
    return 0;
}

int devops_show_template(struct cli_ctx *ctx, const struct cli_command *cmd,
                         const struct dv_config *c, enum dv_kind kind, const char *id)
{
    char err[1024], dir[DV_PATH_MAX];
    int user = 0;
    int rc = template_find(c, kind, id, dir, sizeof(dir), &user, err, sizeof(err));
    if (rc != 0)
        return rc == -EINVAL ? cli_usage_error(ctx, cmd, "%s", err) : cli_fail(ctx, "%s", err);
    struct dv_manifest *m = NULL;
    if (manifest_load(dir, kind, &m, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    json_t *d = template_describe(m);
    manifest_free(m);
    json_object_set_new(d, "id", json_string(id));
    json_object_set_new(d, "source", json_string(user ? "user" : "built-in"));
    json_object_set_new(d, "dir", json_string(dir));
    if (ctx->json)
        return cli_emit(d);
    printf("%s%s%s — %s\n%s\n", color_on(ctx->color, C_BOLD), id, color_off(ctx->color),
           json_string_value(json_object_get(d, "name")),
           json_string_value(json_object_get(d, "description")));
    size_t i;
    json_t *p;
    if (kind == DV_ANSIBLE) {
        printf("platforms: ");
        json_array_foreach(json_object_get(d, "platforms"), i, p) printf("%s%s", i ? ", " : "",
                                                                         json_string_value(p));
        printf("%s\n", json_array_size(json_object_get(d, "platforms")) ? "" : "any");
    }
    printf("from %s\n\n", dir);
    static const char *const head[] = {"PARAMETER", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"};
    struct table *t = table_new(5, head);
    json_array_foreach(json_object_get(d, "parameters"), i, p)
    {
        json_t *def = json_object_get(p, "default");
        char *dtext = def ? json_dumps(def, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        char desc[1024];
        json_t *allowed = json_object_get(p, "allowed");
        char *atext = allowed ? json_dumps(allowed, JSON_COMPACT) : NULL;
        snprintf(desc, sizeof(desc), "%s%s%s%s", json_string_value(json_object_get(p, "description")),
                 atext ? "; one of " : "", atext ? atext : "",
                 json_is_true(json_object_get(p, "secret")) ? " (secret)" : "");
        const char *cells[] = {json_string_value(json_object_get(p, "name")),
                               json_string_value(json_object_get(p, "type")),
                               json_is_true(json_object_get(p, "required")) ? "yes" : "no",
                               dtext ? dtext : "-", desc};
        table_add(t, cells);
        free(dtext);
        free(atext);
    }
    table_print(t, stdout, ctx->color, out_width(stdout));
    table_free(t);
    if (kind == DV_TERRAFORM)
        printf("\nexample: cloudya deploy template %s --params k=v,...\n", id);
    else
        printf("\nexample: cloudya app install %s --platform P --params k=v,...\n", id);
    json_decref(d);
    return 0;
}

int devops_teardown(struct cli_ctx *ctx, const struct cli_command *cmd, struct dv_config *c,
                    const char *id, devops_teardown_fn fn, const char *done_word)
{
    struct dv_ui ui;
    json_t *rec = NULL;
    char err[1024];
    int rc = devops_setup(ctx, c, &ui);
    if (rc != 0)
        return rc;
    rc = fn(c, &ui, id, &rec, err, sizeof(err));
    devops_done();
    if (rc != 0) {
        if (ctx->json && rec != NULL && (rc == -EIO || rc == -EINTR))
            out_json(rec);
        json_decref(rec);
        return devops_fail(ctx, cmd, rc, err);
    }
    if (ctx->json)
        out_json(rec);
    else
        printf("%s%s %s.%s\n", color_on(ctx->color, C_GREEN), id, done_word,
               color_off(ctx->color));
    json_decref(rec);
    return 0;
}
