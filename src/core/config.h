/* The daemon's configuration: built-in defaults, then an optional INI file (cloudyad -c),
 * then the environment, which wins. Keys are the environment names (PORT, DATABASE_URL,
 * ...), case-insensitive in the file, in any section. */
#ifndef CLOUDYA_CONFIG_H
#define CLOUDYA_CONFIG_H
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_SECRET_MIN 32 /* a JWT_SECRET shorter than this is refused */
#define CONFIG_SECRET_MAX 512

typedef struct config {
    char host[256];
    int port;
    char data_dir[PATH_MAX];
    char database_url[1024];   /* default sqlite://<data_dir>/cloudya.db */
    char jwt_secret[CONFIG_SECRET_MAX + 1]; /* "" = generated and kept in the data dir */
    char docker_socket[PATH_MAX];
    char admin_email[256];
    char admin_password[1025];
    char log_level[16];
    char log_format[16];
    int http_threads;      /* event threads; 0 = twice the number of CPUs */
    int http_workers;      /* threads for slow routes (hashing, Engine calls) */
    int max_connections;
    int max_connections_per_ip;
    int connection_timeout; /* seconds of inactivity before a connection is closed */
    int quota_containers;
    int quota_memory_mb;
    double quota_cpus;
    int login_max_failures;    /* per email within login_window */
    int login_max_failures_ip; /* per source IP within login_window */
    int login_window;          /* seconds */
    int hash_concurrency;      /* Argon2id hashes at once; 0 = number of CPUs */
    int token_ttl;             /* seconds, 24 h */
    char catalog[PATH_MAX];    /* the service catalog file */
    char public_host[256];     /* the host name in container URLs */
    char publish_ip[64];       /* host address container ports are published on; "" = all */
    int engine_timeout;        /* seconds for one Engine call */
    int pull_timeout;          /* seconds for pulling a missing image */
    int reconcile_interval;    /* seconds between full resyncs with the Engine */
    int pids_limit;            /* processes per container */
    int stop_timeout;          /* seconds between SIGTERM and SIGKILL on stop */
    int network_base;          /* tenant networks are /24s of 10.<network_base>.0.0/16 */
    char stats_source[16];     /* auto | cgroup | engine: where container stats come from */
    char metrics_token[CONFIG_SECRET_MAX + 1]; /* bearer token for /metrics; "" = loopback only */
    char ws_origins[1024];     /* extra allowed Origins for /api/ws, comma-separated */
    char web_dir[PATH_MAX];    /* the dashboard's built files (default web/dist) */
    char knowledge_dir[PATH_MAX]; /* the assistant's knowledge base and policy (knowledge) */
    char sandbox_image[256];   /* the assistant's sandbox (cloudya/sandbox:bookworm) */
    int sandbox_timeout;       /* seconds a sandboxed command may run (30) */
} config;

/* Fills c with the defaults, then ini_path (when not NULL), then the environment, then
 * derives what depends on other keys and validates everything. Returns 0, or -EINVAL with
 * a sentence in err naming the key and the problem. */
int config_load(config *c, const char *ini_path, char *err, size_t errlen);

/* Applies one KEY=value pair (the same names as the environment). Returns 0, 1 for an
 * unknown key (ignored by callers), or -EINVAL with err filled. */
int config_set(config *c, const char *key, const char *value, char *err, size_t errlen);

#endif
