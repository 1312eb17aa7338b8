/* config.json, the folders of the DevOps commands, tool lookup and safe file writes. */
#define _GNU_SOURCE
#include "dv_config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "str.h"
#include "xalloc.h"

int dv_mkdirs(const char *dir, int mode)
{
    char path[DV_PATH_MAX];
    if (str_copy(path, sizeof(path), dir) != 0 || path[0] == '\0')
        return -ENAMETOOLONG;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, (mode_t)mode) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, (mode_t)mode) != 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(path, &st) != 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int dv_write_file(const char *path, const char *data, size_t len, int mode, char *err,
                  size_t errlen)
{
    char tmp[DV_PATH_MAX + 32];
    char hex[17];
    str_random_hex(hex, 8);
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%s.tmp", path, hex) >= sizeof(tmp)) {
        str_fmt(err, errlen, "the path %s is too long", path);
        return -ENAMETOOLONG;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    if (fd < 0) {
        int e = errno;
        str_fmt(err, errlen, "cannot write %s: %s", path, strerror(e));
        return -e;
    }
    fchmod(fd, (mode_t)mode); /* the umask must not widen or narrow it */
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            str_fmt(err, errlen, "cannot write %s: %s", path, strerror(e));
            return -e;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        str_fmt(err, errlen, "cannot write %s: %s", path, strerror(e));
        return -e;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        str_fmt(err, errlen, "cannot write %s: %s", path, strerror(e));
        return -e;
    }
    return 0;
}

int dv_read_file(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    }
    if ((size_t)st.st_size > max) {
        close(fd);
        return -E2BIG;
    }
    char *buf = xmalloc((size_t)st.st_size + 1);
    size_t off = 0;
    for (;;) {
        if (off == (size_t)st.st_size + 1) { /* grew while we read */
            free(buf);
            close(fd);
            return -E2BIG;
        }
        ssize_t n = read(fd, buf + off, (size_t)st.st_size + 1 - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        off += (size_t)n;
    }
    close(fd);
    buf[off] = '\0';
    *out = buf;
    *len = off;
    return 0;
}

int dv_tool_find(const char *tool, char *out, size_t cap)
{
    if (tool == NULL || tool[0] == '\0')
        return -ENOENT;
    if (strchr(tool, '/') != NULL) {
        struct stat st;
        if (stat(tool, &st) != 0 || !S_ISREG(st.st_mode) || access(tool, X_OK) != 0)
            return -ENOENT;
        return str_copy(out, cap, tool) == 0 ? 0 : -ENAMETOOLONG;
    }
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    const char *p = path;
    while (*p) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char cand[DV_PATH_MAX];
        if (n > 0 && (size_t)snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, p, tool) < sizeof(cand)) {
            struct stat st;
            if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
                return str_copy(out, cap, cand) == 0 ? 0 : -ENAMETOOLONG;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return -ENOENT;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int dv_builtin_dir(char *out, size_t cap)
{
    out[0] = '\0';
    const char *env = getenv("CLOUDYA_TEMPLATES");
    if (env != NULL && env[0] != '\0') {
        if (!is_dir(env))
            return -ENOENT;
        return str_copy(out, cap, env) == 0 ? 0 : -ENAMETOOLONG;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            const char *cands[] = {"/../templates", "/../share/cloudya/templates"};
            for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
                char c[DV_PATH_MAX];
                if ((size_t)snprintf(c, sizeof(c), "%s%s", exe, cands[i]) >= sizeof(c))
                    continue;
                char real[PATH_MAX];
                if (realpath(c, real) != NULL && is_dir(real))
                    return str_copy(out, cap, real) == 0 ? 0 : -ENAMETOOLONG;
            }
        }
    }
#ifdef CLOUDYA_DATADIR
    if (is_dir(CLOUDYA_DATADIR "/cloudya/templates"))
        return str_copy(out, cap, CLOUDYA_DATADIR "/cloudya/templates") == 0 ? 0 : -ENAMETOOLONG;
#endif
    return -ENOENT;
}

/* "~/x" -> "$HOME/x"; anything else unchanged. */
static int expand_home(const char *in, char *out, size_t cap)
{
    if (in[0] == '~' && (in[1] == '/' || in[1] == '\0')) {
        const char *h = getenv("HOME");
        if (h == NULL || h[0] == '\0')
            return -ENOENT;
        return (size_t)snprintf(out, cap, "%s%s", h, in + 1) < cap ? 0 : -ENAMETOOLONG;
    }
    return str_copy(out, cap, in) == 0 ? 0 : -ENAMETOOLONG;
}


static int string_key(json_t *doc, const char *key, char *out, size_t cap, const char *path,
                      char *err, size_t errlen)
{
    json_t *v = json_object_get(doc, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        str_fmt(err, errlen, "%s: \"%s\" must be a non-empty string", path, key);
        return -EINVAL;
    }
    if (str_copy(out, cap, json_string_value(v)) != 0) {
        str_fmt(err, errlen, "%s: \"%s\" is too long", path, key);
        return -EINVAL;
    }
    return 0;
}

int dv_config_load(const char *home, struct dv_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (str_copy(c->home, sizeof(c->home), home) != 0 ||
        (size_t)snprintf(c->config_path, sizeof(c->config_path), "%s/config.json", home) >=
            sizeof(c->config_path) ||
        (size_t)snprintf(c->deployments_dir, sizeof(c->deployments_dir), "%s/deployments",
                         home) >= sizeof(c->deployments_dir) ||
        (size_t)snprintf(c->templates_dir, sizeof(c->templates_dir), "%s/templates", home) >=
            sizeof(c->templates_dir)) {
        str_fmt(err, errlen, "the Cloudya folder path %s is too long", home);
        return -ENAMETOOLONG;
    }
    str_copy(c->terraform_path, sizeof(c->terraform_path), "terraform");
    str_copy(c->ansible_path, sizeof(c->ansible_path), "ansible-playbook");
    str_copy(c->log_level, sizeof(c->log_level), "INFO");
    dv_builtin_dir(c->builtin_dir, sizeof(c->builtin_dir));

    char *text = NULL;
    size_t len = 0;
    int rc = dv_read_file(c->config_path, DV_CONFIG_MAX_BYTES, &text, &len);
    if (rc == -ENOENT) {
        int m = dv_mkdirs(home, 0700);
        if (m != 0) {
            str_fmt(err, errlen, "cannot create %s: %s", home, strerror(-m));
            return m;
        }
        char buf[DV_PATH_MAX + 256];
        json_t *def = json_pack("{s:s,s:s,s:s,s:s}", "terraform_path", "terraform",
                                "ansible_path", "ansible-playbook", "templates_dir",
                                c->templates_dir, "log_level", "INFO");
        char *deftext = json_dumps(def, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        int n = snprintf(buf, sizeof(buf), "%s\n", deftext ? deftext : "{}");
        free(deftext);
        json_decref(def);
        /* A default that cannot be written (read-only home) still works: it is the default. */
        if (n > 0 && (size_t)n < sizeof(buf))
            dv_write_file(c->config_path, buf, (size_t)n, 0600, NULL, 0);
        return 0;
    }
    if (rc == -E2BIG) {
        str_fmt(err, errlen, "%s is larger than %d bytes", c->config_path, DV_CONFIG_MAX_BYTES);
        return -EINVAL;
    }
    if (rc != 0) {
        str_fmt(err, errlen, "cannot read %s: %s", c->config_path, strerror(-rc));
        return rc;
    }
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (doc == NULL || !json_is_object(doc)) {
        if (doc == NULL)
            str_fmt(err, errlen, "%s is not valid JSON (line %d: %s)", c->config_path, je.line,
                    je.text);
        else
            str_fmt(err, errlen, "%s must hold a JSON object", c->config_path);
        json_decref(doc);
        return -EINVAL;
    }
    char tdir[DV_PATH_MAX] = "";
    rc = string_key(doc, "terraform_path", c->terraform_path, sizeof(c->terraform_path),
                    c->config_path, err, errlen);
    if (rc == 0)
        rc = string_key(doc, "ansible_path", c->ansible_path, sizeof(c->ansible_path),
                        c->config_path, err, errlen);
    if (rc == 0)
        rc = string_key(doc, "templates_dir", tdir, sizeof(tdir), c->config_path, err, errlen);
    if (rc == 0)
        rc = string_key(doc, "log_level", c->log_level, sizeof(c->log_level), c->config_path,
                        err, errlen);
    json_decref(doc);
    if (rc != 0)
        return rc;
    if (tdir[0] != '\0' && expand_home(tdir, c->templates_dir, sizeof(c->templates_dir)) != 0) {
        str_fmt(err, errlen, "%s: templates_dir \"%s\" cannot be expanded", c->config_path, tdir);
        return -EINVAL;
    }
    return 0;
}
