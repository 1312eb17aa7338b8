/* What the Terraform and Ansible flows share: preparing a template, the tools' environment,
 * the step lines. */
#define _GNU_SOURCE
#include "flow.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials.h"
#include "params.h"
#include "record.h"
#include "str.h"
#include "templates.h"
#include "xalloc.h"

/* A preset's value as the text a user would type for it. */
static json_t *as_text(json_t *v)
{
    char b[64];
    if (json_is_string(v))
        return json_incref(v);
    if (json_is_integer(v)) {
        snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(v));
        return json_string(b);
    }
    if (json_is_real(v)) {
        snprintf(b, sizeof(b), "%.17g", json_real_value(v));
        return json_string(b);
    }
    if (json_is_boolean(v))
        return json_string(json_is_true(v) ? "true" : "false");
    if (json_is_array(v)) {
        size_t i, len = 0;
        json_t *x;
        char *out = xstrdup("");
        json_array_foreach(v, i, x)
        {
            const char *s = json_string_value(x);
            if (s == NULL)
                continue;
            size_t l = strlen(s);
            out = xrealloc(out, len + l + 2);
            if (len > 0)
                out[len++] = ';';
            memcpy(out + len, s, l + 1);
            len += l;
        }
        json_t *r = json_string(out);
        free(out);
        return r;
    }
    return NULL;
}

int flow_prepare(const struct dv_config *c, enum dv_kind kind, const char *id,
                 const char *params_text, const json_t *base, struct dv_prep *p, char *err,
                 size_t errlen)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    int rc = template_find(c, kind, id, p->dir, sizeof(p->dir), &p->user, err, errlen);
    if (rc != 0)
        return rc == -ENOENT ? -EINVAL : rc;
    str_copy(p->id, sizeof(p->id), id);
    rc = manifest_load(p->dir, kind, &p->m, err, errlen);
    if (rc != 0)
        return -EINVAL;
    if (kind == DV_TERRAFORM && (p->m->provider == NULL || p->m->provider[0] == '\0')) {
        str_fmt(err, errlen, "%s/manifest.yaml names no provider", p->dir);
        flow_prep_free(p);
        return -EINVAL;
    }
    json_t *given = json_object();
    rc = params_text != NULL && params_text[0] != '\0'
             ? params_parse(params_text, given, err, errlen)
             : 0;
    if (rc == 0 && json_is_object(base)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)base, key, v)
        {
            json_t *t = as_text(v);
            if (t != NULL && json_object_get(given, key) == NULL)
                json_object_set_new(given, key, t);
            else
                json_decref(t);
        }
    }
    if (rc == 0)
        rc = params_resolve(p->m, id, given, &p->values, err, errlen);
    json_decref(given);
    if (rc != 0) {
        flow_prep_free(p);
        return -EINVAL;
    }
    const char *tool = kind == DV_TERRAFORM ? c->terraform_path : c->ansible_path;
    if (dv_tool_find(tool, p->tool, sizeof(p->tool)) != 0) {
        if (kind == DV_TERRAFORM)
            str_fmt(err, errlen,
                    "%s was not found (terraform_path in %s is \"%s\"). Install Terraform "
                    "(https://developer.hashicorp.com/terraform/install) or OpenTofu "
                    "(https://opentofu.org/docs/intro/install/), or set terraform_path to the "
                    "program to use, for example \"tofu\" or \"/usr/local/bin/terraform\"",
                    tool, c->config_path, tool);
        else
            str_fmt(err, errlen,
                    "%s was not found (ansible_path in %s is \"%s\"). Install Ansible "
                    "(on Debian or Ubuntu: sudo apt install ansible-core), or set ansible_path "
                    "to the ansible-playbook program to use",
                    tool, c->config_path, tool);
        flow_prep_free(p);
        return -ENOENT;
    }
    return 0;
}

void flow_prep_free(struct dv_prep *p)
{
    manifest_free(p->m);
    json_decref(p->values);
    p->m = NULL;
    p->values = NULL;
}

int flow_tf_has_output(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    char needle[128];
    snprintf(needle, sizeof(needle), "output \"%s\"", name);
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".tf") != 0)
            continue;
        char path[DV_PATH_MAX + 300];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        char *text = NULL;
        size_t len = 0;
        if (dv_read_file(path, 1 << 20, &text, &len) == 0) {
            for (char *p = strstr(text, needle); p != NULL && !found; p = strstr(p + 1, needle)) {
                /* at the start of a line, not in a comment */
                const char *q = p;
                while (q > text && (q[-1] == ' ' || q[-1] == '\t'))
                    q--;
                if (q == text || q[-1] == '\n')
                    found = 1;
            }
            free(text);
        }
    }
    closedir(d);
    return found;
}

static void env_add(struct run_step *s, int *n, const char *name, const char *value)
{
    if (*n >= RUN_MAX_ENV)
        return;
    char *a = NULL;
    if (asprintf(&a, "%s=%s", name, value) < 0)
        abort();
    s->env[(*n)++] = a;
    s->env[*n] = NULL;
}

int flow_env(const struct dv_config *c, const char *provider, struct run_step *s)
{
    int n = 0;
    s->env[0] = NULL;
    env_add(s, &n, "TF_IN_AUTOMATION", "1");
    env_add(s, &n, "TF_INPUT", "0");
    env_add(s, &n, "CHECKPOINT_DISABLE", "1");
    env_add(s, &n, "ANSIBLE_RETRY_FILES_ENABLED", "0");
    env_add(s, &n, "ANSIBLE_PYTHON_INTERPRETER", "auto_silent");
    if (provider == NULL)
        return n;
    json_t *creds = NULL;
    int loose = 0;
    if (cred_load(c->home, &creds, &loose, NULL, 0) == 0) {
        char *assign[RUN_MAX_ENV];
        int k = cred_env(creds, provider, assign, RUN_MAX_ENV - n);
        for (int i = 0; i < k; i++) {
            if (n < RUN_MAX_ENV)
                s->env[n++] = assign[i];
            else
                free(assign[i]);
        }
        s->env[n] = NULL;
        json_decref(creds);
    }
    return n;
}

void flow_env_free(struct run_step *s)
{
    for (int i = 0; i < RUN_MAX_ENV && s->env[i] != NULL; i++) {
        free(s->env[i]);
        s->env[i] = NULL;
    }
}

void flow_step_begin(const struct dv_ui *ui, int n, int total, const char *what)
{
    if (ui->color)
        fprintf(ui->out, "\033[1;36m==> [%d/%d] %s\033[0m\n", n, total, what);
    else
        fprintf(ui->out, "==> [%d/%d] %s\n", n, total, what);
    fflush(ui->out);
}

void flow_step_end(const struct dv_ui *ui, const struct run_step *s, const char *what)
{
    double secs = (double)s->ms / 1000.0;
    if (s->exit_code == 0)
        fprintf(ui->out, "%s✓%s %s (%.1f s)\n", ui->color ? "\033[32m" : "",
                ui->color ? "\033[0m" : "", what, secs);
    else if (s->interrupts > 0)
        fprintf(ui->out, "%s✗%s %s interrupted after %.1f s\n", ui->color ? "\033[31m" : "",
                ui->color ? "\033[0m" : "", what, secs);
    else
        fprintf(ui->out, "%s✗%s %s failed (exit %d) after %.1f s\n", ui->color ? "\033[31m" : "",
                ui->color ? "\033[0m" : "", what, s->exit_code, secs);
    fflush(ui->out);
}

int flow_record_step(json_t *rec, const char *name, const struct run_step *s)
{
    json_t *steps = json_object_get(rec, "steps");
    if (!json_is_array(steps)) {
        steps = json_array();
        json_object_set_new(rec, "steps", steps);
    }
    const char *status = s->exit_code == 0 ? "ok" : s->interrupts > 0 ? "interrupted" : "failed";
    json_array_append_new(steps, json_pack("{s:s,s:s,s:I,s:i}", "name", name, "status", status,
                                           "ms", (json_int_t)s->ms, "exit_code", s->exit_code));
    if (s->exit_code == 0)
        return 0;
    char summary[2048];
    run_error_summary(s->tail, summary, sizeof(summary));
    json_object_set_new(rec, "failed_step", json_string(name));
    json_object_set_new(rec, "error", json_string(summary));
    return s->interrupts > 0 ? -EINTR : -EIO;
}

void flow_save(const char *dir, json_t *rec)
{
    char e[256];
    if (record_save(dir, rec, e, sizeof(e)) != 0)
        fprintf(stderr, "cloudya: warning: %s\n", e);
}
