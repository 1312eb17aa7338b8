/* cloudyad: the Cloud Agent daemon. Reads its configuration, opens the store, serves the
 * API until SIGTERM or SIGINT, then drains requests in flight and closes cleanly. */
#define _DEFAULT_SOURCE /* realpath */
#define _POSIX_C_SOURCE 200809L
#include "admin.h"
#include "api.h"
#include "app.h"
#include "log.h"
#include "password.h"
#include "probe.h"
#include "reconcile.h"
#include "secret.h"
#include "store_migrate.h"
#include "str.h"

#include <curl/curl.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 10000
#define RATELIMIT_SLOTS 16384

static void usage(FILE *f)
{
    fprintf(f, "usage: cloudyad [-c FILE] [-n]\n"
               "       cloudyad [-c FILE] admin create --email EMAIL [--name NAME] "
               "[--password-stdin]\n"
               "       cloudyad [-c FILE] admin count\n"
               "       cloudyad migrate-store --from sqlite://PATH --to postgresql://URL\n"
               "       cloudyad --version\n"
               "\n"
               "  -c FILE   read settings from an INI file (environment variables win)\n"
               "  -n        check the configuration and exit (0 = fine, 1 = the reason)\n"
               "\n"
               "Settings (environment): PORT, HOST, DATABASE_URL, JWT_SECRET, DOCKER_SOCKET,\n"
               "CLOUDYA_DATA_DIR, CLOUDYA_CATALOG, CLOUDYA_ADMIN_EMAIL, CLOUDYA_ADMIN_PASSWORD,\n"
               "LOG_LEVEL, LOG_FORMAT; see README.md for all of them.\n");
}

/* "d" + 12 hex of SHA-256(host name, port, data directory): the same daemon gets the same id
 * after a restart, so it knows its own unfinished rows; two daemons sharing a database differ. */
static void daemon_identity(app *a)
{
    char host[256] = "", dir[PATH_MAX] = "", text[PATH_MAX + 300];
    gethostname(host, sizeof(host) - 1);
    if (realpath(a->cfg.data_dir, dir) == NULL)
        str_copy(dir, sizeof(dir), a->cfg.data_dir);
    int n = snprintf(text, sizeof(text), "%s:%d:%s", host, a->cfg.port, dir);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)text, (unsigned long long)(n > 0 ? n : 0));
    a->daemon_id[0] = 'd';
    for (int i = 0; i < 6; i++)
        snprintf(a->daemon_id + 1 + 2 * i, 3, "%02x", h[i]);
    log_info("daemon id %s", a->daemon_id);
}

/* The stats sampler keeps about ten descriptors open per running container (see cgroup.h):
 * take the hard limit, as servers do, so a thousand containers fit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        log_info("open files limit raised from %llu to %llu", (unsigned long long)was,
                 (unsigned long long)rl.rlim_cur);
}

static int serve(app *a)
{
    char err[512];
    int status = 1;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    /* Blocked before any thread starts, so only sigwait below ever sees them. */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    raise_fd_limit();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        fatalx("cannot initialize libcurl");
    if (password_init(a->cfg.hash_concurrency, 1) != 0)
        fatalx("cannot initialize libsodium");
    int rc = secret_mkdirs(a->cfg.data_dir);
    if (rc != 0)
        fatalx("cannot create the data directory %s: %s", a->cfg.data_dir, strerror(-rc));
    if (secret_load(a->cfg.jwt_secret, a->cfg.data_dir, a->jwt_key, sizeof(a->jwt_key),
                    &a->jwt_key_len, err, sizeof(err)) != 0)
        fatalx("JWT secret: %s", err);

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    /* Two event threads per CPU: a request may block briefly on a SQLite lock, and the
     * other thread of the pair keeps the CPU busy (measured in bench/RESULTS.md). */
    unsigned threads = a->cfg.http_threads > 0 ? (unsigned)a->cfg.http_threads
                                               : (unsigned)(ncpu > 0 ? 2 * ncpu : 2);
    unsigned pool = threads + (unsigned)a->cfg.http_workers + 2;
    if (store_open(a->cfg.database_url, pool, &a->st, err, sizeof(err)) != 0)
        fatalx("cannot open the database: %s", err);
    log_info("database %s (%s, schema version %d)", a->cfg.database_url, store_backend(a->st),
             store_schema_version(a->st));
    store_token_purge_expired(a->st, (int64_t)time(NULL));
    if (admin_bootstrap(a->st, &a->cfg) != 0)
        goto out_store;

    a->login_by_email = ratelimit_new(RATELIMIT_SLOTS, a->cfg.login_max_failures,
                                      a->cfg.login_window);
    a->login_by_ip = ratelimit_new(RATELIMIT_SLOTS, a->cfg.login_max_failures_ip,
                                   a->cfg.login_window);
    if (catalog_load(a->cfg.catalog, &a->catalog, err, sizeof(err)) != 0) {
        log_error("%s", err);
        goto out_limits;
    }
    log_info("catalog %s: %zu service types", a->cfg.catalog, a->catalog->n);
    daemon_identity(a);
    if (store_instance_id(a->st, a->instance_id) != 0) {
        log_error("cannot read the instance id from the database");
        goto out_catalog;
    }
    a->engine = docker_new(a->cfg.docker_socket, a->cfg.engine_timeout * 1000L);
    if (probe_start(a) != 0)
        fatalx("cannot start the Engine probe");
    /* Records and Engine agree before the first request is served. */
    if (reconcile_start(a) != 0)
        fatalx("cannot start the reconciler");
    /* Stats sampler, Engine events and the live channel's housekeeping. */
    if (api_live_start(a) != 0)
        fatalx("cannot start the stats sampler and live channel");

    int wrc = static_files_load(a->cfg.web_dir, &a->web, err, sizeof(err));
    if (wrc == 0) {
        size_t bytes;
        size_t n = static_files_count(a->web, &bytes);
        log_info("dashboard %s: %zu files, %zu KiB", a->cfg.web_dir, n, bytes >> 10);
    } else if (wrc == -ENOENT) {
        log_info("no dashboard (%s): `make` builds it into web/dist, or set CLOUDYA_WEB_DIR", err);
    } else {
        log_error("dashboard: %s", err);
        goto out_probe;
    }

    if (assistant_open(a->cfg.knowledge_dir, &a->assistant, err, sizeof(err)) != 0) {
        log_error("assistant: %s (CLOUDYA_KNOWLEDGE_DIR names the knowledge base)", err);
        goto out_web;
    }
    log_info("assistant: %zu knowledge entries from %s; %s", assistant_entries(a->assistant),
             a->cfg.knowledge_dir,
             assistant_model(a->assistant) ? assistant_model(a->assistant) : "offline answers");

    static router r;
    if (api_routes(&r) != 0)
        fatalx("the route table is malformed");
    http_server_opts o = {
        .host = a->cfg.host,
        .port = a->cfg.port,
        .threads = threads,
        .workers = (unsigned)a->cfg.http_workers,
        .max_connections = (unsigned)a->cfg.max_connections,
        .max_per_ip = (unsigned)a->cfg.max_connections_per_ip,
        .timeout_s = (unsigned)a->cfg.connection_timeout,
        .body_max = HTTP_BODY_MAX_DEFAULT,
        .app = a,
        .observe = api_metrics_observe,
        .fallback = api_web,
    };
    http_server *srv = NULL;
    if (http_server_start(&o, &r, &srv, err, sizeof(err)) != 0) {
        log_error("%s", err);
        goto out_assistant;
    }
    log_info("cloudyad %s listening on http://%s:%d (%u threads, %u workers)", APP_VERSION,
             a->cfg.host, a->cfg.port, threads, o.workers);
    printf("cloudyad %s listening on http://%s:%d\n", APP_VERSION, a->cfg.host, a->cfg.port);
    fflush(stdout);

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("received %s: finishing requests in flight", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    int left = http_server_shutdown(srv, SHUTDOWN_GRACE_MS);
    if (left > 0)
        log_warnx("%d requests were still in flight after %d ms", left, SHUTDOWN_GRACE_MS);
    api_containers_shutdown(3000);
    status = 0;
out_assistant:
    assistant_close(a->assistant);
out_web:
    static_files_free(a->web);
out_probe:
    api_live_stop();
    reconcile_stop();
    probe_stop();
    docker_free(a->engine);
out_catalog:
    catalog_free(a->catalog);
out_limits:
    ratelimit_free(a->login_by_email);
    ratelimit_free(a->login_by_ip);
out_store:
    store_close(a->st);
    curl_global_cleanup();
    log_info("stopped");
    return status;
}

/* cloudyad migrate-store --from sqlite://… --to postgresql://…: needs no configuration. */
static int migrate_store(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
            from = argv[++i];
        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            to = argv[++i];
        } else {
            fprintf(stderr, "cloudyad migrate-store: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (from == NULL || to == NULL) {
        fprintf(stderr, "usage: cloudyad migrate-store --from sqlite://PATH --to postgresql://URL\n");
        return 2;
    }
    char err[768];
    int rc = store_migrate_sqlite_to_pg(from, to, stdout, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "cloudyad migrate-store: %s\n", err);
        return 1;
    }
    printf("migrated: start cloudyad with DATABASE_URL set to the PostgreSQL URL\n");
    return 0;
}

int main(int argc, char **argv)
{
    static app a;
    const char *ini = NULL;
    int check_only = 0;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            ini = argv[++i];
        } else if (strcmp(argv[i], "-n") == 0) {
            check_only = 1;
        } else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
            printf("cloudyad %s\n", APP_VERSION);
            return 0;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "cloudyad: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            break;
        }
    }
    char err[512];
    if (config_load(&a.cfg, ini, err, sizeof(err)) != 0) {
        fprintf(stderr, "cloudyad: configuration error: %s\n", err);
        return 1;
    }
    log_set_level(a.cfg.log_level);
    log_set_format(a.cfg.log_format);
    if (check_only) {
        catalog *cat = NULL;
        if (catalog_load(a.cfg.catalog, &cat, err, sizeof(err)) != 0) {
            fprintf(stderr, "cloudyad: catalog error: %s\n", err);
            return 1;
        }
        catalog_free(cat);
        printf("configuration OK\n");
        return 0;
    }
    if (i < argc && strcmp(argv[i], "migrate-store") == 0)
        return migrate_store(argc - i - 1, argv + i + 1);
    if (i < argc) {
        if (strcmp(argv[i], "admin") == 0)
            return admin_main(&a.cfg, argc - i - 1, argv + i + 1);
        fprintf(stderr, "cloudyad: unknown command %s\n", argv[i]);
        usage(stderr);
        return 2;
    }
    return serve(&a);
}
