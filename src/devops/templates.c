/* Finding, listing and copying templates. */
#define _GNU_SOURCE
#include "templates.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "params.h"
#include "str.h"
#include "xalloc.h"

static int word_valid(const char *s, size_t n)
{
    if (n == 0 || n >= 64)
        return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '_'))
            return 0;
    return 1;
}

int template_id_valid(enum dv_kind kind, const char *id)
{
    if (id == NULL)
        return 0;
    const char *slash = strchr(id, '/');
    if (kind == DV_ANSIBLE)
        return slash == NULL && word_valid(id, strlen(id));
    return slash != NULL && word_valid(id, (size_t)(slash - id)) &&
           word_valid(slash + 1, strlen(slash + 1));
}

static const char *sub(enum dv_kind kind)
{
    return kind == DV_TERRAFORM ? "terraform" : "apps";
}

static int has_manifest(const char *dir)
{
    char p[DV_PATH_MAX + 32];
    struct stat st;
    snprintf(p, sizeof(p), "%s/manifest.yaml", dir);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Appends the ids of kind found under root/<sub> to ids (an object id -> dir), keeping an
 * id already there unless override. */
static void scan(const char *root, enum dv_kind kind, json_t *ids, int override, int user)
{
    if (root == NULL || root[0] == '\0')
        return;
    char base[DV_PATH_MAX];
    if ((size_t)snprintf(base, sizeof(base), "%s/%s", root, sub(kind)) >= sizeof(base))
        return;
    DIR *d = opendir(base);
    if (d == NULL)
        return;
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d)) != NULL && count < TEMPLATES_MAX) {
        if (!word_valid(e->d_name, strlen(e->d_name)))
            continue;
        char p[DV_PATH_MAX];
        if ((size_t)snprintf(p, sizeof(p), "%s/%s", base, e->d_name) >= sizeof(p))
            continue;
        if (kind == DV_ANSIBLE) {
            if (!has_manifest(p))
                continue;
            if (override || json_object_get(ids, e->d_name) == NULL)
                json_object_set_new(ids, e->d_name, json_pack("{s:s,s:b}", "dir", p, "user", user));
            count++;
            continue;
        }
        DIR *d2 = opendir(p);
        if (d2 == NULL)
            continue;
        struct dirent *e2;
        while ((e2 = readdir(d2)) != NULL && count < TEMPLATES_MAX) {
            if (!word_valid(e2->d_name, strlen(e2->d_name)))
                continue;
            char p2[DV_PATH_MAX], id[160];
            if ((size_t)snprintf(p2, sizeof(p2), "%s/%s", p, e2->d_name) >= sizeof(p2) ||
                !has_manifest(p2))
                continue;
            if ((size_t)snprintf(id, sizeof(id), "%s/%s", e->d_name, e2->d_name) >= sizeof(id))
                continue;
            if (override || json_object_get(ids, id) == NULL)
                json_object_set_new(ids, id, json_pack("{s:s,s:b}", "dir", p2, "user", user));
            count++;
        }
        closedir(d2);
    }
    closedir(d);
}

static json_t *all_ids(const struct dv_config *c, enum dv_kind kind)
{
    json_t *ids = json_object();
    scan(c->builtin_dir, kind, ids, 0, 0);
    scan(c->templates_dir, kind, ids, 1, 1);
    return ids;
}

int template_find(const struct dv_config *c, enum dv_kind kind, const char *id, char *dir,
                  size_t cap, int *user, char *err, size_t errlen)
{
    const char *what = kind == DV_TERRAFORM ? "template" : "application";
    if (!template_id_valid(kind, id)) {
        if (kind == DV_TERRAFORM)
            str_fmt(err, errlen, "\"%s\" is not a template name: templates are named "
                                 "provider/name, like aws/vpc (see cloudya deploy list)",
                    id);
        else
            str_fmt(err, errlen, "\"%s\" is not an application name (see cloudya app list)", id);
        return -EINVAL;
    }
    json_t *ids = all_ids(c, kind);
    json_t *hit = json_object_get(ids, id);
    if (hit != NULL) {
        int rc = str_copy(dir, cap, json_string_value(json_object_get(hit, "dir")));
        if (user)
            *user = json_is_true(json_object_get(hit, "user"));
        json_decref(ids);
        return rc == 0 ? 0 : -ENAMETOOLONG;
    }
    const char *best = NULL, *key;
    int bestd = 4;
    json_t *v;
    json_object_foreach(ids, key, v)
    {
        int d = params_distance(id, key);
        if (d < bestd) {
            bestd = d;
            best = key;
        }
    }
    char hint[200] = "";
    if (best != NULL)
        snprintf(hint, sizeof(hint), " (did you mean %s?)", best);
    str_fmt(err, errlen,
            "no %s named %s%s; %s are looked for in %s/%s and among the built-in ones; see "
            "`cloudya %s list`",
            what, id, hint, kind == DV_TERRAFORM ? "templates" : "applications", c->templates_dir,
            sub(kind), kind == DV_TERRAFORM ? "deploy" : "app");
    json_decref(ids);
    return -ENOENT;
}

json_t *template_describe(const struct dv_manifest *m)
{
    json_t *params = json_array();
    for (int i = 0; i < m->nparams; i++) {
        const struct dv_param *p = &m->params[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:b}", "name", p->name, "description",
                              p->description, "type", manifest_type_name(p->type), "required",
                              p->required, "secret", p->secret);
        if (p->def != NULL)
            json_object_set_new(o, "default", p->secret ? json_string("********") : json_incref(p->def));
        if (p->allowed != NULL)
            json_object_set(o, "allowed", p->allowed);
        json_array_append_new(params, o);
    }
    json_t *plats = json_array();
    for (int i = 0; i < m->nplatforms; i++)
        json_array_append_new(plats, json_string(m->platforms[i]));
    json_t *o = json_pack("{s:s,s:s,s:o,s:o}", "name", m->name, "description", m->description,
                          "parameters", params, "platforms", plats);
    if (m->provider != NULL)
        json_object_set_new(o, "provider", json_string(m->provider));
    return o;
}

json_t *templates_list(const struct dv_config *c, enum dv_kind kind)
{
    json_t *ids = all_ids(c, kind);
    /* sort the ids */
    size_t n = json_object_size(ids), i = 0;
    const char **keys = xcalloc(n + 1, sizeof(*keys));
    const char *key;
    json_t *v;
    json_object_foreach(ids, key, v) keys[i++] = key;
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
            const char *t = keys[b];
            keys[b] = keys[b - 1];
            keys[b - 1] = t;
        }
    json_t *out = json_array();
    for (i = 0; i < n; i++) {
        json_t *hit = json_object_get(ids, keys[i]);
        const char *dir = json_string_value(json_object_get(hit, "dir"));
        const char *source = json_is_true(json_object_get(hit, "user")) ? "user" : "built-in";
        struct dv_manifest *m = NULL;
        char err[512];
        json_t *o;
        if (manifest_load(dir, kind, &m, err, sizeof(err)) == 0) {
            o = template_describe(m);
            manifest_free(m);
        } else {
            o = json_pack("{s:s}", "error", err);
        }
        json_object_set_new(o, "id", json_string(keys[i]));
        json_object_set_new(o, "source", json_string(source));
        json_object_set_new(o, "dir", json_string(dir));
        json_array_append_new(out, o);
    }
    free(keys);
    json_decref(ids);
    return out;
}

static int skip_name(const char *n)
{
    return n[0] == '.' || strcmp(n, "terraform.tfstate") == 0 ||
           strcmp(n, "terraform.tfstate.backup") == 0 || strcmp(n, "tfplan") == 0;
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return -errno;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0700);
    if (out < 0) {
        int e = errno;
        close(in);
        return -e;
    }
    char buf[16384];
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = w < 0 ? -errno : -EIO;
                break;
            }
            off += w;
        }
        if (rc != 0)
            break;
    }
    close(in);
    if (close(out) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

static int copy_tree(const char *src, const char *dst, int depth, int *entries, char *err,
                     size_t errlen)
{
    if (depth > 8) {
        str_fmt(err, errlen, "the template %s is nested more than 8 levels deep", src);
        return -ELOOP;
    }
    DIR *d = opendir(src);
    if (d == NULL) {
        int e = errno;
        str_fmt(err, errlen, "cannot read %s: %s", src, strerror(e));
        return -e;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (skip_name(e->d_name))
            continue;
        if (++*entries > 2000) {
            str_fmt(err, errlen, "the template %s has more than 2000 files", src);
            rc = -E2BIG;
            break;
        }
        char s[DV_PATH_MAX], t[DV_PATH_MAX];
        if ((size_t)snprintf(s, sizeof(s), "%s/%s", src, e->d_name) >= sizeof(s) ||
            (size_t)snprintf(t, sizeof(t), "%s/%s", dst, e->d_name) >= sizeof(t)) {
            str_fmt(err, errlen, "a path under %s is too long", src);
            rc = -ENAMETOOLONG;
            break;
        }
        struct stat st;
        if (lstat(s, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (mkdir(t, 0700) != 0 && errno != EEXIST) {
                rc = -errno;
                str_fmt(err, errlen, "cannot create %s: %s", t, strerror(errno));
                break;
            }
            rc = copy_tree(s, t, depth + 1, entries, err, errlen);
        } else if (S_ISREG(st.st_mode)) {
            rc = copy_file(s, t, st.st_mode | 0600);
            if (rc != 0)
                str_fmt(err, errlen, "cannot copy %s: %s", s, strerror(-rc));
        }
    }
    closedir(d);
    return rc;
}

int template_copy(const char *src, const char *dst, char *err, size_t errlen)
{
    int entries = 0;
    return copy_tree(src, dst, 0, &entries, err, errlen);
}
