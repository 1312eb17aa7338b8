#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum kind { K_STR, K_INT, K_DBL };

struct key {
    const char *name;
    enum kind kind;
    size_t off;
    size_t cap;         /* K_STR: buffer size */
    int64_t min, max;   /* K_INT / K_DBL bounds */
};

#define S(n, f) {n, K_STR, offsetof(config, f), sizeof(((config *)0)->f), 0, 0}
#define I(n, f, lo, hi) {n, K_INT, offsetof(config, f), 0, lo, hi}
#define D(n, f, lo, hi) {n, K_DBL, offsetof(config, f), 0, lo, hi}

static const struct key keys[] = {
    S("HOST", host),
    I("PORT", port, 1, 65535),
    S("CLOUDYA_DATA_DIR", data_dir),
    S("DATABASE_URL", database_url),
    S("JWT_SECRET", jwt_secret),
    S("DOCKER_SOCKET", docker_socket),
    S("CLOUDYA_ADMIN_EMAIL", admin_email),
    S("CLOUDYA_ADMIN_PASSWORD", admin_password),
    S("LOG_LEVEL", log_level),
    S("LOG_FORMAT", log_format),
    I("CLOUDYA_HTTP_THREADS", http_threads, 0, 256),
    I("CLOUDYA_HTTP_WORKERS", http_workers, 1, 1024),
    I("CLOUDYA_MAX_CONNECTIONS", max_connections, 1, 1000000),
    I("CLOUDYA_MAX_CONNECTIONS_PER_IP", max_connections_per_ip, 1, 1000000),
    I("CLOUDYA_CONNECTION_TIMEOUT", connection_timeout, 1, 86400),
    I("CLOUDYA_QUOTA_CONTAINERS", quota_containers, 0, 100000),
    I("CLOUDYA_QUOTA_MEMORY_MB", quota_memory_mb, 0, 16777216),
    D("CLOUDYA_QUOTA_CPUS", quota_cpus, 0, 4096),
    I("CLOUDYA_LOGIN_MAX_FAILURES", login_max_failures, 1, 1000000),
    I("CLOUDYA_LOGIN_MAX_FAILURES_IP", login_max_failures_ip, 1, 1000000),
    I("CLOUDYA_LOGIN_WINDOW", login_window, 1, 86400 * 7),
    I("CLOUDYA_HASH_CONCURRENCY", hash_concurrency, 0, 64),
    I("CLOUDYA_TOKEN_TTL", token_ttl, 60, 86400 * 30),
    S("CLOUDYA_CATALOG", catalog),
    S("CLOUDYA_PUBLIC_HOST", public_host),
    S("CLOUDYA_PUBLISH_IP", publish_ip),
    I("CLOUDYA_ENGINE_TIMEOUT", engine_timeout, 1, 3600),
    I("CLOUDYA_PULL_TIMEOUT", pull_timeout, 1, 3600),
    I("CLOUDYA_RECONCILE_INTERVAL", reconcile_interval, 1, 86400),
    I("CLOUDYA_PIDS_LIMIT", pids_limit, 16, 65536),
    I("CLOUDYA_STOP_TIMEOUT", stop_timeout, 0, 600),
    I("CLOUDYA_NETWORK_BASE", network_base, 0, 255),
    S("CLOUDYA_STATS_SOURCE", stats_source),
    S("CLOUDYA_METRICS_TOKEN", metrics_token),
    S("CLOUDYA_WS_ORIGINS", ws_origins),
    S("CLOUDYA_WEB_DIR", web_dir),
    S("CLOUDYA_KNOWLEDGE_DIR", knowledge_dir),
    S("CLOUDYA_SANDBOX_IMAGE", sandbox_image),
    I("CLOUDYA_SANDBOX_TIMEOUT", sandbox_timeout, 1, 600),
};

static void defaults(config *c)
{
    memset(c, 0, sizeof(*c));
    str_copy(c->host, sizeof(c->host), "0.0.0.0");
    c->port = 5000;
    str_copy(c->data_dir, sizeof(c->data_dir), "./data");
    str_copy(c->docker_socket, sizeof(c->docker_socket), "/var/run/docker.sock");
    str_copy(c->log_level, sizeof(c->log_level), "info");
    str_copy(c->log_format, sizeof(c->log_format), "logfmt");
    c->http_threads = 0;
    c->http_workers = 8;
    c->max_connections = 4096;
    c->max_connections_per_ip = 512;
    c->connection_timeout = 60;
    c->quota_containers = 10;
    c->quota_memory_mb = 2048;
    c->quota_cpus = 2;
    c->login_max_failures = 5;
    c->login_max_failures_ip = 20;
    c->login_window = 900;
    c->hash_concurrency = 0;
    c->token_ttl = 86400;
    str_copy(c->catalog, sizeof(c->catalog), "catalog/catalog.yaml");
    str_copy(c->public_host, sizeof(c->public_host), "localhost");
    c->engine_timeout = 30;
    c->pull_timeout = 300;
    c->reconcile_interval = 30;
    c->pids_limit = 256;
    c->stop_timeout = 10;
    c->network_base = 213;
    str_copy(c->stats_source, sizeof(c->stats_source), "auto");
    str_copy(c->web_dir, sizeof(c->web_dir), "web/dist");
    str_copy(c->knowledge_dir, sizeof(c->knowledge_dir), "knowledge");
    str_copy(c->sandbox_image, sizeof(c->sandbox_image), "cloudya/sandbox:bookworm");
    c->sandbox_timeout = 30;
}

/* Table-driven assignment so the environment, the INI file and -n share one parser. */
int config_set(config *c, const char *key, const char *value, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct key *k = &keys[i];
        if (strcasecmp(k->name, key) != 0)
            continue;
        char *field = (char *)c + k->off;
        int rc;
        if (k->kind == K_STR) {
            if (str_copy(field, k->cap, value) != 0) {
                snprintf(err, errlen, "%s is too long (at most %zu characters)", k->name,
                         k->cap - 1);
                return -EINVAL;
            }
            return 0;
        }
        if (k->kind == K_INT) {
            int64_t v;
            rc = str_to_int64(value, k->min, k->max, &v);
            if (rc == 0) {
                *(int *)field = (int)v;
                return 0;
            }
        } else {
            double v;
            rc = str_to_double(value, (double)k->min, (double)k->max, &v);
            if (rc == 0) {
                *(double *)field = v;
                return 0;
            }
        }
        if (rc == -ERANGE)
            snprintf(err, errlen, "%s must be between %lld and %lld (got \"%s\")", k->name,
                     (long long)k->min, (long long)k->max, value);
        else
            snprintf(err, errlen, "%s must be a number (got \"%s\")", k->name, value);
        return -EINVAL;
    }
    return 1;
}

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define INI_FILE_MAX (64 * 1024)
/* inih splits longer lines and reads the rest as a new line: refuse them instead. */
#define INI_LINE_MAX 190

struct ini_ctx {
    config *c;
    char *err;
    size_t errlen;
    int failed;
    unsigned char seen[NKEYS];
};

static int key_index(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcasecmp(keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int on_ini_pair(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *x = user;
    (void)section;
    if (x->failed)
        return 0;
    int k = key_index(name);
    if (k >= 0 && x->seen[k]++) {
        snprintf(x->err, x->errlen, "%s is set twice", keys[k].name);
        x->failed = 1;
        return 0;
    }
    int rc = config_set(x->c, name, value, x->err, x->errlen);
    if (rc < 0) {
        x->failed = 1;
        return 0;
    }
    if (rc == 1) {
        snprintf(x->err, x->errlen, "unknown key \"%s\"", name);
        x->failed = 1;
        return 0;
    }
    return 1;
}

static int validate(config *c, char *err, size_t errlen)
{
    size_t n = strlen(c->jwt_secret);
    if (n > 0 && n < CONFIG_SECRET_MIN) {
        snprintf(err, errlen,
                 "JWT_SECRET is too short (%zu characters; at least %d): use a long random "
                 "value, or unset it to have one generated",
                 n, CONFIG_SECRET_MIN);
        return -EINVAL;
    }
    if (c->data_dir[0] == '\0') {
        snprintf(err, errlen, "CLOUDYA_DATA_DIR must not be empty");
        return -EINVAL;
    }
    if (c->host[0] == '\0') {
        snprintf(err, errlen, "HOST must not be empty");
        return -EINVAL;
    }
    if (c->docker_socket[0] == '\0') {
        snprintf(err, errlen, "DOCKER_SOCKET must not be empty");
        return -EINVAL;
    }
    if (c->catalog[0] == '\0') {
        snprintf(err, errlen, "CLOUDYA_CATALOG must not be empty");
        return -EINVAL;
    }
    for (const char *p = c->public_host; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']')) {
            snprintf(err, errlen, "CLOUDYA_PUBLIC_HOST must be a host name or address (got \"%s\")",
                     c->public_host);
            return -EINVAL;
        }
    }
    if (c->public_host[0] == '\0') {
        snprintf(err, errlen, "CLOUDYA_PUBLIC_HOST must not be empty");
        return -EINVAL;
    }
    if (c->database_url[0] == '\0') {
        if ((size_t)snprintf(c->database_url, sizeof(c->database_url), "sqlite://%s/cloudya.db",
                             c->data_dir) >= sizeof(c->database_url)) {
            snprintf(err, errlen, "CLOUDYA_DATA_DIR is too long");
            return -EINVAL;
        }
    }
    const char *u = c->database_url;
    int pg = strncmp(u, "postgresql://", 13) == 0 || strncmp(u, "postgres://", 11) == 0;
    if (!pg && (strncmp(u, "sqlite://", 9) != 0 || u[9] == '\0')) {
        snprintf(err, errlen, "DATABASE_URL must start with sqlite:// (e.g. sqlite://./data/cloudya.db) "
                              "or postgresql:// (e.g. postgresql://user:pass@host:5432/db)");
        return -EINVAL;
    }
    if (log_level_valid(c->log_level) != 0) {
        snprintf(err, errlen, "LOG_LEVEL must be debug, info, warn or error (got \"%s\")",
                 c->log_level);
        return -EINVAL;
    }
    if (strcmp(c->stats_source, "auto") != 0 && strcmp(c->stats_source, "cgroup") != 0 &&
        strcmp(c->stats_source, "engine") != 0) {
        snprintf(err, errlen, "CLOUDYA_STATS_SOURCE must be auto, cgroup or engine (got \"%s\")",
                 c->stats_source);
        return -EINVAL;
    }
    if (c->metrics_token[0] != '\0' && strlen(c->metrics_token) < 16) {
        snprintf(err, errlen, "CLOUDYA_METRICS_TOKEN is too short (at least 16 characters)");
        return -EINVAL;
    }
    if (strcasecmp(c->log_format, "logfmt") != 0 && strcasecmp(c->log_format, "json") != 0) {
        snprintf(err, errlen, "LOG_FORMAT must be logfmt or json (got \"%s\")", c->log_format);
        return -EINVAL;
    }
    if (c->admin_email[0] != '\0' && c->admin_password[0] != '\0' &&
        strlen(c->admin_password) < 8) {
        snprintf(err, errlen, "CLOUDYA_ADMIN_PASSWORD is too short (at least 8 characters)");
        return -EINVAL;
    }
    return 0;
}

/* Reads the whole file (a regular file of at most INI_FILE_MAX bytes), refuses lines inih
 * would split, then parses it from memory. */
static int load_ini(config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -EINVAL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > INI_FILE_MAX) {
        fclose(f);
        snprintf(err, errlen, "%s is not a regular file of at most %d bytes", path,
                 INI_FILE_MAX);
        return -EINVAL;
    }
    char *text = xcalloc(1, (size_t)st.st_size + 1);
    size_t n = fread(text, 1, (size_t)st.st_size, f);
    int rd_err = ferror(f);
    fclose(f);
    int rc = -EINVAL;
    if (rd_err || n != (size_t)st.st_size) {
        snprintf(err, errlen, "cannot read %s", path);
        goto out;
    }
    if (memchr(text, '\0', n) != NULL) {
        snprintf(err, errlen, "%s is not a text file", path);
        goto out;
    }
    int line = 1;
    for (const char *p = text; *p != '\0'; line++) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > INI_LINE_MAX) {
            snprintf(err, errlen, "%s, line %d: the line is too long (at most %d characters)",
                     path, line, INI_LINE_MAX);
            goto out;
        }
        p += len + (e != NULL);
    }
    struct ini_ctx x = {c, err, errlen, 0, {0}};
    int bad = ini_parse_string(text, on_ini_pair, &x);
    if (x.failed || bad != 0) {
        char inner[512];
        str_copy(inner, sizeof(inner), x.failed ? err : "syntax error");
        snprintf(err, errlen, "%s, line %d: %s", path, bad, inner);
        goto out;
    }
    rc = 0;
out:
    free(text);
    return rc;
}

/* Defaults, file, environment, validation: in that order, so the environment always wins. */
int config_load(config *c, const char *ini_path, char *err, size_t errlen)
{
    defaults(c);
    if (ini_path != NULL && load_ini(c, ini_path, err, errlen) != 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = getenv(keys[i].name);
        if (v != NULL && config_set(c, keys[i].name, v, err, errlen) < 0)
            return -EINVAL;
    }
    return validate(c, err, errlen);
}
