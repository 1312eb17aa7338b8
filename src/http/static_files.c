/* Static files for the dashboard: loaded once, served from memory by exact path. */
#define _GNU_SOURCE
#include "static_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "str.h"
#include "xalloc.h"

struct sfile {
    char *path; /* the URL path: "/assets/app-1a2b.js" */
    char *data;
    size_t len;
    const char *type;
    char etag[36]; /* "\"<32 hex>\"" */
    int immutable; /* under /assets/: the name carries the content's hash */
};

struct static_files {
    struct sfile *files;
    size_t n, cap, bytes;
    const struct sfile *index;
};

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".webp", "image/webp"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

const char *static_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (dot != NULL && (slash == NULL || dot > slash))
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Reads the file at fs (at most max bytes). Returns 0, -EFBIG, or -errno. */
static int slurp(const char *fs, size_t max, char **data, size_t *len)
{
    int fd = open(fs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return -EFBIG;
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *p = xmalloc(n + 1);
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(p);
        return -EIO;
    }
    p[n] = '\0';
    *data = p;
    *len = n;
    return 0;
}

/* Adds every file under fs (the directory for URL prefix url). */
static int walk(static_files *sf, const char *fs, const char *url, int depth, char *err,
                size_t errlen)
{
    if (depth > STATIC_DEPTH_MAX) {
        str_fmt(err, errlen, "%s: directories nested deeper than %d", fs, STATIC_DEPTH_MAX);
        return -EFBIG;
    }
    DIR *d = opendir(fs);
    if (d == NULL) {
        int rc = -errno;
        str_fmt(err, errlen, "cannot read %s: %s", fs, strerror(errno));
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char child[4096], curl[2048];
        if ((size_t)snprintf(child, sizeof(child), "%s/%s", fs, e->d_name) >= sizeof(child) ||
            (size_t)snprintf(curl, sizeof(curl), "%s/%s", url, e->d_name) >= sizeof(curl))
            continue;
        struct stat st;
        if (lstat(child, &st) != 0 || S_ISLNK(st.st_mode))
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc = walk(sf, child, curl, depth + 1, err, errlen);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        if (sf->n >= STATIC_FILES_MAX) {
            str_fmt(err, errlen, "more than %d files", STATIC_FILES_MAX);
            rc = -EFBIG;
            break;
        }
        struct sfile f = {0};
        rc = slurp(child, STATIC_BYTES_MAX - sf->bytes, &f.data, &f.len);
        if (rc == -EFBIG) {
            str_fmt(err, errlen, "more than %u MiB of files", STATIC_BYTES_MAX >> 20);
            break;
        }
        if (rc != 0) {
            str_fmt(err, errlen, "cannot read %s: %s", child, strerror(-rc));
            break;
        }
        f.path = xstrdup(curl);
        f.type = static_content_type(curl);
        f.immutable = strncmp(curl, "/assets/", 8) == 0;
        unsigned char h[16];
        crypto_generichash(h, sizeof(h), (const unsigned char *)f.data, f.len, NULL, 0);
        f.etag[0] = '"';
        sodium_bin2hex(f.etag + 1, 33, h, sizeof(h));
        f.etag[33] = '"';
        f.etag[34] = '\0';
        if (sf->n == sf->cap) {
            sf->cap = sf->cap ? sf->cap * 2 : 32;
            sf->files = xrealloc(sf->files, sf->cap * sizeof(*sf->files));
        }
        sf->files[sf->n++] = f;
        sf->bytes += f.len;
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct sfile *)a)->path, ((const struct sfile *)b)->path);
}

static const struct sfile *find(const static_files *sf, const char *path)
{
    struct sfile key = {.path = (char *)path};
    return bsearch(&key, sf->files, sf->n, sizeof(*sf->files), by_path);
}

int static_files_load(const char *dir, static_files **out, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        str_fmt(err, errlen, "%s is not a directory", dir);
        return -ENOENT;
    }
    static_files *sf = xcalloc(1, sizeof(*sf));
    int rc = walk(sf, dir, "", 0, err, errlen);
    if (rc == 0) {
        qsort(sf->files, sf->n, sizeof(*sf->files), by_path);
        sf->index = find(sf, "/index.html");
        if (sf->index == NULL) {
            str_fmt(err, errlen, "%s holds no index.html", dir);
            rc = -ENOENT;
        }
    }
    if (rc != 0) {
        static_files_free(sf);
        return rc;
    }
    *out = sf;
    return 0;
}

size_t static_files_count(const static_files *sf, size_t *bytes)
{
    if (bytes != NULL)
        *bytes = sf ? sf->bytes : 0;
    return sf ? sf->n : 0;
}

void static_files_free(static_files *sf)
{
    if (sf == NULL)
        return;
    for (size_t i = 0; i < sf->n; i++) {
        free(sf->files[i].path);
        free(sf->files[i].data);
    }
    free(sf->files);
    free(sf);
}

/* 1 when the If-None-Match list names etag (or is "*"). */
static int not_modified(const char *inm, const char *etag)
{
    if (inm == NULL)
        return 0;
    if (strcmp(inm, "*") == 0)
        return 1;
    return strstr(inm, etag) != NULL;
}

void static_files_serve(const static_files *sf, http_req *q)
{
    const char *path = http_req_path(q);
    const struct sfile *f = strcmp(path, "/") == 0 ? sf->index : find(sf, path);
    if (f == NULL) {
        const char *last = strrchr(path, '/');
        if (last != NULL && strchr(last, '.') == NULL)
            f = sf->index; /* one of the app's own routes */
    }
    http_resp_header(q, "Content-Security-Policy", STATIC_CSP);
    http_resp_header(q, "Referrer-Policy", "no-referrer");
    http_resp_header(q, "X-Frame-Options", "DENY");
    http_resp_header(q, "Cross-Origin-Opener-Policy", "same-origin");
    if (f == NULL) {
        static const char msg[] = "not found\n";
        http_respond(q, 404, "text/plain; charset=utf-8", xstrdup(msg), sizeof(msg) - 1);
        return;
    }
    http_resp_header(q, "ETag", f->etag);
    http_resp_header(q, "Cache-Control",
                     f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (not_modified(http_req_header(q, "If-None-Match"), f->etag)) {
        http_respond(q, 304, NULL, NULL, 0);
        return;
    }
    char *body = xmalloc(f->len + 1);
    memcpy(body, f->data, f->len);
    http_respond(q, 200, f->type, body, f->len);
}
