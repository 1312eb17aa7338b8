/* Ansible installations: the target's inventory, the playbook runs, the recap. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flow.h"
#include "params.h"
#include "record.h"
#include "str.h"
#include "templates.h"
#include "xalloc.h"

#define LOG_FILE "install.log"
#define MAX_HOSTS 64

static const char *const platforms[] = {"aws",     "gcp",     "azure",     "proxmox", "vmware",
                                        "nutanix", "openstack", "local",   NULL};

static int host_valid(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 253 || h[0] == '-')
        return 0;
    return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_[]") == n;
}

static int user_valid(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > 32 || !((u[0] >= 'a' && u[0] <= 'z') || u[0] == '_'))
        return 0;
    return strspn(u, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int is_local_host(const char *h)
{
    return strcmp(h, "localhost") == 0 || strcmp(h, "127.0.0.1") == 0 || strcmp(h, "::1") == 0;
}

void flow_target_free(struct dv_target *t)
{
    json_decref(t->hosts);
    t->hosts = NULL;
}

/* Takes the hosts and ssh_user outputs of deployment rec. */
static int from_deployment(json_t *rec, struct dv_target *t, char *err, size_t errlen)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *st = json_string_value(json_object_get(rec, "status"));
    if (st == NULL || strcmp(st, "applied") != 0) {
        str_fmt(err, errlen, "deployment %s is %s: an application needs an applied deployment", id,
                st ? st : "in an unknown state");
        return -EINVAL;
    }
    json_t *outs = json_object_get(rec, "outputs");
    json_t *hosts = json_object_get(outs, "hosts");
    if (json_is_string(hosts)) { /* one host given as text */
        json_t *a = json_array();
        json_array_append(a, hosts);
        hosts = a;
    } else if (json_is_array(hosts) && json_array_size(hosts) > 0) {
        json_incref(hosts);
    } else {
        str_fmt(err, errlen,
                "deployment %s (%s) has no \"hosts\" output, so there is no machine to install "
                "on; deploy a template that creates machines (aws/ec2, gcp/vm, azure/vm)",
                id, json_string_value(json_object_get(rec, "template")));
        return -EINVAL;
    }
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) if (!json_is_string(h) || !host_valid(json_string_value(h)) ||
                                        i >= MAX_HOSTS)
    {
        str_fmt(err, errlen, "deployment %s has a \"hosts\" output that is not a list of addresses",
                id);
        json_decref(hosts);
        return -EINVAL;
    }
    t->hosts = hosts;
    const char *user = json_string_value(json_object_get(outs, "ssh_user"));
    if (user != NULL && user[0] != '\0') {
        if (!user_valid(user)) {
            str_fmt(err, errlen, "deployment %s has an ssh_user output that is not a user name", id);
            return -EINVAL;
        }
        str_copy(t->user, sizeof(t->user), user);
    }
    str_copy(t->deployment, sizeof(t->deployment), id);
    int all_local = 1;
    json_array_foreach(hosts, i, h) if (!is_local_host(json_string_value(h))) all_local = 0;
    t->local = all_local;
    return 0;
}

int flow_target(const struct dv_config *c, const struct dv_manifest *m, const char *platform,
                const char *deployment, const char *hosts, const char *user,
                const char *ssh_key, struct dv_target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    json_t *dep = NULL;
    char dir[DV_PATH_MAX];
    if (deployment != NULL) {
        if (strncmp(deployment, "dep-", 4) != 0) {
            str_fmt(err, errlen, "\"%s\" is not a deployment id (see cloudya deploy "
                                 "list-deployments)",
                    deployment);
            return -EINVAL;
        }
        int rc = record_load(c, deployment, &dep, dir, sizeof(dir), err, errlen);
        if (rc != 0)
            return -EINVAL;
        const char *prov = json_string_value(json_object_get(dep, "provider"));
        if (platform == NULL)
            platform = prov;
        else if (prov != NULL && strcmp(prov, platform) != 0) {
            str_fmt(err, errlen, "deployment %s is on %s, not on %s", deployment, prov, platform);
            json_decref(dep);
            return -EINVAL;
        }
    }
    if (platform == NULL) {
        str_fmt(err, errlen, "say where to install: --platform P (aws, gcp, azure, proxmox, vmware, "
                             "nutanix, openstack or local), or --deployment ID");
        json_decref(dep);
        return -EINVAL;
    }
    int known = 0;
    for (int i = 0; platforms[i]; i++)
        if (strcmp(platforms[i], platform) == 0)
            known = 1;
    if (!known) {
        str_fmt(err, errlen, "unknown platform \"%s\": aws, gcp, azure, proxmox, vmware, nutanix, "
                             "openstack or local",
                platform);
        json_decref(dep);
        return -EINVAL;
    }
    if (!manifest_has_platform(m, platform)) {
        char list[512] = "";
        size_t off = 0;
        for (int i = 0; i < m->nplatforms && off < sizeof(list); i++)
            off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "",
                                    m->platforms[i]);
        str_fmt(err, errlen, "%s cannot be installed on %s; its platforms: %s", m->name, platform,
                list);
        json_decref(dep);
        return -EINVAL;
    }
    str_copy(t->platform, sizeof(t->platform), platform);
    int rc = 0;
    if (hosts != NULL) {
        t->hosts = json_array();
        char buf[4096];
        if (str_copy(buf, sizeof(buf), hosts) != 0) {
            str_fmt(err, errlen, "--hosts is too long");
            rc = -EINVAL;
        }
        for (char *save = NULL, *h = rc ? NULL : strtok_r(buf, ",", &save); h != NULL;
             h = strtok_r(NULL, ",", &save)) {
            if (!host_valid(h) || json_array_size(t->hosts) >= MAX_HOSTS) {
                str_fmt(err, errlen, "--hosts: \"%.80s\" is not a host name or address", h);
                rc = -EINVAL;
                break;
            }
            json_array_append_new(t->hosts, json_string(h));
        }
        if (rc == 0 && json_array_size(t->hosts) == 0) {
            str_fmt(err, errlen, "--hosts names no host");
            rc = -EINVAL;
        }
        if (rc == 0) {
            int all_local = 1;
            size_t i;
            json_t *h;
            json_array_foreach(t->hosts, i, h) if (!is_local_host(json_string_value(h))) all_local = 0;
            t->local = all_local;
        }
    } else if (dep != NULL) {
        rc = from_deployment(dep, t, err, errlen);
    } else if (strcmp(platform, "local") == 0) {
        t->hosts = json_pack("[s]", "localhost");
        t->local = 1;
    } else {
        /* the newest applied deployment on this platform with hosts */
        json_t *all = record_list(c, "dep-");
        size_t i;
        json_t *r;
        json_array_foreach(all, i, r)
        {
            const char *prov = json_string_value(json_object_get(r, "provider"));
            const char *st = json_string_value(json_object_get(r, "status"));
            json_t *h = json_object_get(json_object_get(r, "outputs"), "hosts");
            if (prov && st && strcmp(prov, platform) == 0 && strcmp(st, "applied") == 0 &&
                (json_is_array(h) || json_is_string(h))) {
                rc = from_deployment(r, t, err, errlen);
                break;
            }
        }
        json_decref(all);
        if (t->hosts == NULL && rc == 0) {
            str_fmt(err, errlen,
                    "no applied deployment on %s has machines to install on: deploy one first "
                    "(cloudya deploy template %s/... ), or give --deployment ID or --hosts",
                    platform, platform);
            rc = -EINVAL;
        }
    }
    json_decref(dep);
    if (rc == 0 && user != NULL) {
        if (!user_valid(user)) {
            str_fmt(err, errlen, "--user \"%s\" is not a user name", user);
            rc = -EINVAL;
        } else {
            str_copy(t->user, sizeof(t->user), user);
        }
    }
    if (rc == 0 && ssh_key != NULL) {
        struct stat st;
        if (strpbrk(ssh_key, " \t\n'\"\\") != NULL || stat(ssh_key, &st) != 0 ||
            !S_ISREG(st.st_mode)) {
            str_fmt(err, errlen, "--ssh-key %s is not a readable key file (a path without spaces)",
                    ssh_key);
            rc = -EINVAL;
        } else {
            str_copy(t->ssh_key, sizeof(t->ssh_key), ssh_key);
        }
    }
    if (rc != 0)
        flow_target_free(t);
    return rc;
}

static int write_inventory(const char *dir, const struct dv_target *t, char *err, size_t errlen)
{
    char buf[32768];
    size_t off = 0;
    off += (size_t)snprintf(buf + off, sizeof(buf) - off, "# written by cloudya\n[cloudya]\n");
    size_t i;
    json_t *h;
    json_array_foreach(t->hosts, i, h)
    {
        const char *host = json_string_value(h);
        if (is_local_host(host))
            off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s ansible_connection=local\n",
                                    host);
        else
            off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s%s%s%s\n", host,
                                    t->user[0] ? " ansible_user=" : "", t->user,
                                    t->ssh_key[0] ? " ansible_ssh_private_key_file=" : "",
                                    t->ssh_key);
        if (off >= sizeof(buf))
            break;
    }
    if (off < sizeof(buf))
        off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                                "\n[cloudya:vars]\n"
                                "ansible_ssh_common_args='-o StrictHostKeyChecking=accept-new'\n");
    if (off >= sizeof(buf)) {
        str_fmt(err, errlen, "the inventory is too large");
        return -E2BIG;
    }
    char path[DV_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/inventory.ini", dir);
    return dv_write_file(path, buf, off, 0600, err, errlen);
}

/* Appends v as a YAML value: text as a double-quoted scalar tagged !unsafe, so Ansible never
 * evaluates "{{ ... }}" a user typed (a password may hold braces); lists element by element. */
static void yaml_value(FILE *f, json_t *v)
{
    if (json_is_string(v)) {
        char *q = json_dumps(v, JSON_ENCODE_ANY);
        fprintf(f, "!unsafe %s", q ? q : "\"\"");
        free(q);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        fputc('[', f);
        json_array_foreach(v, i, x)
        {
            if (i)
                fputs(", ", f);
            yaml_value(f, x);
        }
        fputc(']', f);
    } else {
        char *q = json_dumps(v, JSON_ENCODE_ANY);
        fputs(q ? q : "null", f);
        free(q);
    }
}

/* Writes the extra variables as dir/vars.yml (0600). */
static int write_vars(const char *dir, json_t *vars, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) {
        str_fmt(err, errlen, "cannot write the variables: out of memory");
        return -ENOMEM;
    }
    fputs("# written by cloudya: the application's parameters\n", f);
    const char *key;
    json_t *v;
    json_object_foreach(vars, key, v)
    {
        fprintf(f, "%s: ", key);
        yaml_value(f, v);
        fputc('\n', f);
    }
    fclose(f);
    char path[DV_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/vars.yml", dir);
    int rc = dv_write_file(path, buf, len, 0600, err, errlen);
    free(buf);
    return rc;
}

static void parse_recap(json_t *rec, const char *tail)
{
    const char *p = strstr(tail, "PLAY RECAP");
    if (p == NULL)
        return;
    json_t *recap = json_object();
    p = strchr(p, '\n');
    while (p != NULL && *++p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[512];
        size_t o = 0;
        for (size_t i = 0; i < len && o + 1 < sizeof(line); i++) {
            if (p[i] == 0x1b) { /* skip colour escapes */
                while (i < len && p[i] != 'm')
                    i++;
                continue;
            }
            line[o++] = p[i];
        }
        line[o] = '\0';
        char host[256];
        int ok, changed, unreachable, failed;
        const char *okp = strstr(line, "ok="), *chp = strstr(line, "changed="),
                   *unp = strstr(line, "unreachable="), *fap = strstr(line, "failed=");
        if (sscanf(line, " %255s :", host) == 1 && okp && chp && unp && fap &&
            sscanf(okp, "ok=%d", &ok) == 1 && sscanf(chp, "changed=%d", &changed) == 1 &&
            sscanf(unp, "unreachable=%d", &unreachable) == 1 && sscanf(fap, "failed=%d", &failed) == 1)
            json_object_set_new(recap, host, json_pack("{s:i,s:i,s:i,s:i}", "ok", ok, "changed",
                                                       changed, "unreachable", unreachable,
                                                       "failed", failed));
        if (e == NULL)
            break;
        p = e;
    }
    json_object_set_new(rec, "recap", recap);
}

/* Runs playbook (a file of the workspace) as step name. Same returns as the Terraform steps. */
static int play(const struct dv_config *c, const struct dv_ui *ui, const char *dir, json_t *rec,
                const char *tool, const char *name, const char *playbook, int quiet,
                struct run_step *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    char log[DV_PATH_MAX + 32];
    snprintf(log, sizeof(log), "%s/%s", dir, LOG_FILE);
    s->cwd = dir;
    int k = 0;
    s->argv[k++] = tool;
    s->argv[k++] = "-i";
    s->argv[k++] = "inventory.ini";
    s->argv[k++] = "-e";
    s->argv[k++] = "@vars.yml";
    s->argv[k++] = playbook;
    s->argv[k] = NULL;
    s->log_path = log;
    s->echo = quiet ? NULL : ui->out;
    s->debug = ui->debug;
    s->interrupted = ui->interrupted;
    const char *platform = json_string_value(json_object_get(rec, "platform"));
    int n = flow_env(c, platform && strcmp(platform, "local") != 0 ? platform : NULL, s);
    if (n < RUN_MAX_ENV) {
        s->env[n++] = xstrdup(ui->color ? "ANSIBLE_FORCE_COLOR=1" : "ANSIBLE_NOCOLOR=1");
        s->env[n] = NULL;
    }
    int rc = run_step(s, err, errlen);
    flow_env_free(s);
    if (rc != 0)
        return rc;
    parse_recap(rec, s->tail);
    return flow_record_step(rec, name, s);
}

int flow_app_install(const struct dv_config *c, const struct dv_ui *ui, struct dv_prep *p,
                     const struct dv_target *t, const char *stack_id, json_t **recp, char *err,
                     size_t errlen)
{
    *recp = NULL;
    char id[RECORD_ID_MAX], dir[DV_PATH_MAX];
    int rc = record_create(c, "app", id, sizeof(id), dir, sizeof(dir), err, errlen);
    if (rc != 0)
        return rc;
    int lock = record_lock(dir, err, errlen);
    if (lock < 0)
        return lock;
    char now[32];
    record_now(now, sizeof(now));
    json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:s,s:s,s:o,s:s,s:s,s:[],s:s,s:s}", "id", id,
                            "kind", "app", "app", p->id, "name", p->m->name, "platform",
                            t->platform, "deployment_id", t->deployment, "hosts", t->hosts,
                            "template_source", p->user ? "user" : "built-in", "tool", p->tool,
                            "params", params_masked(p->m, p->values), "status", "running",
                            "created_at", now, "steps", "workspace", dir, "log", LOG_FILE);
    if (t->user[0])
        json_object_set_new(rec, "ssh_user", json_string(t->user));
    if (stack_id != NULL)
        json_object_set_new(rec, "stack_id", json_string(stack_id));
    *recp = rec;
    rc = template_copy(p->dir, dir, err, errlen);
    if (rc == 0)
        rc = write_inventory(dir, t, err, errlen);
    if (rc == 0) {
        json_t *vars = json_deep_copy(p->values);
        json_object_set_new(vars, "cloudya_app_id", json_string(id));
        json_object_set_new(vars, "cloudya_deployment_id", json_string(t->deployment));
        rc = write_vars(dir, vars, err, errlen);
        json_decref(vars);
    }
    if (rc != 0) {
        json_object_set_new(rec, "status", json_string("failed"));
        json_object_set_new(rec, "error", json_string(err));
        flow_save(dir, rec);
        record_unlock(lock);
        return rc;
    }
    flow_save(dir, rec);
    fprintf(ui->out, "Installation %s of %s on %s in %s\n", id, p->id, t->platform, dir);
    flow_step_begin(ui, 1, 1, "ansible-playbook playbook.yml");
    struct run_step s;
    rc = play(c, ui, dir, rec, p->tool, "install", "playbook.yml", 0, &s, err, errlen);
    if (rc == 0 || rc == -EIO || rc == -EINTR)
        flow_step_end(ui, &s, "install");
    if (rc == 0) {
        json_object_set_new(rec, "status", json_string("installed"));
    } else {
        json_object_set_new(rec, "status", json_string(rc == -EINTR ? "interrupted" : "failed"));
        if (rc == -EIO || rc == -EINTR) {
            const char *e = json_string_value(json_object_get(rec, "error"));
            str_fmt(err, errlen,
                    "%s: the playbook of %s %s:\n%s\nThe workspace is kept in %s (log: %s/%s). "
                    "Fix the cause and install again, or clean up with `cloudya app uninstall "
                    "--id %s`.",
                    id, p->id, rc == -EINTR ? "was interrupted" : "failed", e ? e : "", dir, dir,
                    LOG_FILE, id);
        }
    }
    flow_save(dir, rec);
    record_unlock(lock);
    return rc;
}

/* Loads installation id for a follow-up run of playbook; checks it exists in the workspace. */
static int load_app(const struct dv_config *c, const char *id, const char *playbook,
                    json_t **rec, char *dir, size_t dircap, char *tool, size_t toolcap,
                    char *err, size_t errlen)
{
    if (id == NULL || strncmp(id, "app-", 4) != 0) {
        str_fmt(err, errlen, "\"%s\" is not an installation id (they look like app-1a2b3c4d; see "
                             "cloudya app status)",
                id ? id : "");
        return -EINVAL;
    }
    int rc = record_load(c, id, rec, dir, dircap, err, errlen);
    if (rc != 0)
        return rc == -ENOENT ? -ENOENT : -EINVAL;
    char path[DV_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, playbook);
    if (access(path, R_OK) != 0) {
        str_fmt(err, errlen, "the application %s of %s has no %s",
                json_string_value(json_object_get(*rec, "app")), id, playbook);
        return -EINVAL;
    }
    if (dv_tool_find(c->ansible_path, tool, toolcap) != 0) {
        str_fmt(err, errlen, "%s was not found (ansible_path in %s). Install Ansible (on Debian "
                             "or Ubuntu: sudo apt install ansible-core)",
                c->ansible_path, c->config_path);
        return -ENOENT;
    }
    return 0;
}

int flow_app_uninstall(const struct dv_config *c, const struct dv_ui *ui, const char *id,
                       json_t **recp, char *err, size_t errlen)
{
    char dir[DV_PATH_MAX], tool[DV_PATH_MAX];
    *recp = NULL;
    int rc = load_app(c, id, "uninstall.yml", recp, dir, sizeof(dir), tool, sizeof(tool), err,
                      errlen);
    if (rc != 0)
        return rc;
    json_t *rec = *recp;
    const char *st = json_string_value(json_object_get(rec, "status"));
    if (st != NULL && strcmp(st, "uninstalled") == 0) {
        str_fmt(err, errlen, "%s is already uninstalled", id);
        return -EINVAL;
    }
    int lock = record_lock(dir, err, errlen);
    if (lock < 0)
        return lock;
    json_object_set_new(rec, "status", json_string("uninstalling"));
    json_object_del(rec, "interrupted_status");
    flow_save(dir, rec);
    flow_step_begin(ui, 1, 1, "ansible-playbook uninstall.yml");
    struct run_step s;
    rc = play(c, ui, dir, rec, tool, "uninstall", "uninstall.yml", 0, &s, err, errlen);
    if (rc == 0 || rc == -EIO || rc == -EINTR)
        flow_step_end(ui, &s, "uninstall");
    if (rc == 0) {
        char now[32];
        record_now(now, sizeof(now));
        json_object_set_new(rec, "status", json_string("uninstalled"));
        json_object_set_new(rec, "uninstalled_at", json_string(now));
        json_object_del(rec, "failed_step");
        json_object_del(rec, "error");
    } else {
        json_object_set_new(rec, "status", json_string("uninstall_failed"));
        if (rc == -EIO || rc == -EINTR) {
            const char *e = json_string_value(json_object_get(rec, "error"));
            str_fmt(err, errlen, "%s: the uninstall playbook %s:\n%s\nLog: %s/%s. Run `cloudya "
                                 "app uninstall --id %s` again once fixed.",
                    id, rc == -EINTR ? "was interrupted" : "failed", e ? e : "", dir, LOG_FILE, id);
        }
    }
    flow_save(dir, rec);
    record_unlock(lock);
    return rc;
}

int flow_app_check(const struct dv_config *c, const struct dv_ui *ui, const char *id,
                   json_t **recp, char *err, size_t errlen)
{
    char dir[DV_PATH_MAX], tool[DV_PATH_MAX];
    *recp = NULL;
    int rc = load_app(c, id, "status.yml", recp, dir, sizeof(dir), tool, sizeof(tool), err,
                      errlen);
    if (rc != 0)
        return rc;
    json_t *rec = *recp;
    int lock = record_lock(dir, err, errlen);
    if (lock < 0)
        return lock;
    struct run_step s;
    /* the check is not a step of the installation: run it on a scratch record */
    json_t *scratch = json_pack("{s:O,s:[]}", "platform", json_object_get(rec, "platform"), "steps");
    rc = play(c, ui, dir, scratch, tool, "status", "status.yml", !ui->debug, &s, err, errlen);
    char now[32];
    record_now(now, sizeof(now));
    if (rc == 0 || rc == -EIO) {
        json_t *check = json_pack("{s:s,s:s,s:I}", "checked_at", now, "result",
                                  rc == 0 ? "healthy" : "unhealthy", "ms", (json_int_t)s.ms);
        if (rc != 0)
            json_object_set(check, "error", json_object_get(scratch, "error"));
        json_object_set_new(rec, "check", check);
        flow_save(dir, rec);
        if (rc != 0)
            str_fmt(err, errlen, "%s is not healthy:\n%s", id,
                    json_string_value(json_object_get(scratch, "error")));
    }
    json_decref(scratch);
    record_unlock(lock);
    return rc;
}
