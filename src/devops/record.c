/* Record folders, record.json and their locks. */
#define _GNU_SOURCE
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "str.h"
#include "xalloc.h"

void record_now(char *out, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int record_id_valid(const char *id)
{
    if (id == NULL)
        return 0;
    const char *rest = NULL;
    if (strncmp(id, "dep-", 4) == 0)
        rest = id + 4;
    else if (strncmp(id, "app-", 4) == 0)
        rest = id + 4;
    else if (strncmp(id, "stack-", 6) == 0)
        rest = id + 6;
    if (rest == NULL || strlen(rest) != 8)
        return 0;
    for (const char *p = rest; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

int record_create(const struct dv_config *c, const char *prefix, char *id, size_t idcap,
                  char *dir, size_t dircap, char *err, size_t errlen)
{
    int rc = dv_mkdirs(c->deployments_dir, 0700);
    if (rc != 0) {
        str_fmt(err, errlen, "cannot create %s: %s", c->deployments_dir, strerror(-rc));
        return rc;
    }
    for (int attempt = 0; attempt < 16; attempt++) {
        char hex[9];
        str_random_hex(hex, 4);
        if ((size_t)snprintf(id, idcap, "%s-%s", prefix, hex) >= idcap ||
            (size_t)snprintf(dir, dircap, "%s/%s", c->deployments_dir, id) >= dircap) {
            str_fmt(err, errlen, "the deployments folder path is too long");
            return -ENAMETOOLONG;
        }
        if (mkdir(dir, 0700) == 0)
            return 0;
        if (errno != EEXIST) {
            int e = errno;
            str_fmt(err, errlen, "cannot create %s: %s", dir, strerror(e));
            return -e;
        }
    }
    str_fmt(err, errlen, "cannot find a free deployment id in %s", c->deployments_dir);
    return -EEXIST;
}

int record_save(const char *dir, json_t *rec, char *err, size_t errlen)
{
    char now[32], path[DV_PATH_MAX + 16];
    record_now(now, sizeof(now));
    json_object_set_new(rec, "updated_at", json_string(now));
    snprintf(path, sizeof(path), "%s/record.json", dir);
    char *text = json_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        str_fmt(err, errlen, "cannot encode the record of %s", dir);
        return -ENOMEM;
    }
    size_t len = strlen(text);
    int rc = dv_write_file(path, text, len, 0600, err, errlen);
    free(text);
    return rc;
}

/* 1 when some process holds the lock of the record in dir. */
static int lock_held(const char *dir)
{
    char path[DV_PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/.lock", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

static json_t *load_dir(const char *dir, char *err, size_t errlen)
{
    char path[DV_PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/record.json", dir);
    char *text = NULL;
    size_t len = 0;
    int rc = dv_read_file(path, RECORD_MAX_BYTES, &text, &len);
    if (rc != 0) {
        str_fmt(err, errlen, "cannot read %s: %s", path, strerror(-rc));
        return NULL;
    }
    json_error_t je;
    json_t *rec = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (rec == NULL || !json_is_object(rec) || !json_is_string(json_object_get(rec, "id"))) {
        str_fmt(err, errlen, "%s is damaged (not a record)", path);
        json_decref(rec);
        return NULL;
    }
    const char *st = json_string_value(json_object_get(rec, "status"));
    if (st != NULL && (strcmp(st, "running") == 0 || strcmp(st, "destroying") == 0 ||
                       strcmp(st, "uninstalling") == 0) &&
        !lock_held(dir)) {
        json_object_set_new(rec, "interrupted_status", json_string(st));
        json_object_set_new(rec, "status", json_string("interrupted"));
    }
    return rec;
}

int record_load(const struct dv_config *c, const char *id, json_t **rec, char *dir,
                size_t dircap, char *err, size_t errlen)
{
    *rec = NULL;
    const char *what = id != NULL && strncmp(id, "app-", 4) == 0     ? "installation"
                       : id != NULL && strncmp(id, "stack-", 6) == 0 ? "stack"
                                                                     : "deployment";
    const char *how = strcmp(what, "installation") == 0 ? "cloudya app status"
                      : strcmp(what, "stack") == 0      ? "cloudya stack list"
                                                        : "cloudya deploy list-deployments";
    if (!record_id_valid(id)) {
        str_fmt(err, errlen,
                "\"%s\" is not a deployment id (they look like dep-1a2b3c4d, app-... or "
                "stack-...; see cloudya deploy list-deployments)",
                id ? id : "");
        return -EINVAL;
    }
    if ((size_t)snprintf(dir, dircap, "%s/%s", c->deployments_dir, id) >= dircap)
        return -ENAMETOOLONG;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        str_fmt(err, errlen, "no %s %s in %s (see %s)", what, id, c->deployments_dir, how);
        return -ENOENT;
    }
    *rec = load_dir(dir, err, errlen);
    return *rec != NULL ? 0 : -EINVAL;
}

static int newer_first(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *cx = json_string_value(json_object_get(x, "created_at"));
    const char *cy = json_string_value(json_object_get(y, "created_at"));
    int r = strcmp(cy ? cy : "", cx ? cx : "");
    if (r != 0)
        return r;
    return strcmp(json_string_value(json_object_get(x, "id")),
                  json_string_value(json_object_get(y, "id")));
}

json_t *record_list(const struct dv_config *c, const char *prefix)
{
    json_t *out = json_array();
    DIR *d = opendir(c->deployments_dir);
    if (d == NULL)
        return out;
    json_t **items = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < RECORDS_MAX) {
        if (!record_id_valid(e->d_name) || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char dir[DV_PATH_MAX];
        if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", c->deployments_dir, e->d_name) >=
            sizeof(dir))
            continue;
        json_t *rec = load_dir(dir, NULL, 0);
        if (rec == NULL)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            items = xrealloc(items, cap * sizeof(*items));
        }
        items[n++] = rec;
    }
    closedir(d);
    if (n > 1)
        qsort(items, n, sizeof(*items), newer_first);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, items[i]);
    free(items);
    return out;
}

int record_lock(const char *dir, char *err, size_t errlen)
{
    char path[DV_PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        str_fmt(err, errlen, "cannot open the lock %s: %s", path, strerror(e));
        return -e;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
        if (n > 0) {
            pid[n] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
        }
        close(fd);
        if (e == EWOULDBLOCK) {
            const char *id = strrchr(dir, '/');
            char who[64] = "";
            if (pid[0])
                snprintf(who, sizeof(who), " (process %s)", pid);
            str_fmt(err, errlen, "%s is busy: another cloudya%s is working on it; wait for it "
                                 "to finish",
                    id ? id + 1 : dir, who);
            return -EBUSY;
        }
        str_fmt(err, errlen, "cannot lock %s: %s", path, strerror(e));
        return -e;
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0) {
        /* the pid is only a courtesy for the busy message */
    }
    return fd;
}

void record_unlock(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}
