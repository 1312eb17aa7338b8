#define _POSIX_C_SOURCE 200809L
#include "containers.h"

#include "docker.h"
#include "docker_logs.h"
#include "log.h"
#include "str.h"
#include "timeutil.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Capabilities a service keeps; everything else is dropped. Enough for a root master
 * process that binds a low port and switches to its own user (nginx), nothing more. */
static const char *const kept_caps[] = {"CHOWN", "DAC_OVERRIDE", "FOWNER",
                                        "SETGID", "SETUID", "NET_BIND_SERVICE"};

static void fail(plat_err *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(plat_err *e, int status, const char *code, const char *fmt, ...)
{
    e->status = status;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

/* The Engine's answers become the API's: unreachable is 503 engine_unavailable (the rest of
 * the API keeps working), 404 and 409 keep their meaning, anything else is a 502. */
void containers_engine_err(plat_err *e, int rc, const char *what, const char *engine_msg)
{
    switch (rc) {
    case -ECONNREFUSED:
    case -ETIMEDOUT:
        fail(e, 503, "engine_unavailable", "the Docker Engine is unavailable (%s); try again",
             engine_msg);
        break;
    case -ENOENT:
        fail(e, 404, "not_found", "%s: %s", what, engine_msg);
        break;
    case -EEXIST:
        fail(e, 409, "conflict", "%s: %s", what, engine_msg);
        break;
    default:
        fail(e, 502, "engine_error", "%s: the Docker Engine refused: %s", what, engine_msg);
        break;
    }
}

/* --- the in-flight registry ----------------------------------------------------------- */

#define BUSY_MAX 4096
static pthread_mutex_t busy_mu = PTHREAD_MUTEX_INITIALIZER;
static char busy_ids[BUSY_MAX][STORE_ID_MAX];
static size_t busy_n;

void containers_busy_add(const char *id)
{
    pthread_mutex_lock(&busy_mu);
    if (busy_n < BUSY_MAX)
        str_copy(busy_ids[busy_n++], STORE_ID_MAX, id);
    else
        log_warnx("more than %d container operations in flight", BUSY_MAX);
    pthread_mutex_unlock(&busy_mu);
}

void containers_busy_del(const char *id)
{
    pthread_mutex_lock(&busy_mu);
    for (size_t i = 0; i < busy_n; i++) {
        if (strcmp(busy_ids[i], id) == 0) {
            busy_n--;
            if (i != busy_n)
                memcpy(busy_ids[i], busy_ids[busy_n], STORE_ID_MAX);
            break;
        }
    }
    pthread_mutex_unlock(&busy_mu);
}

int containers_busy(const char *id)
{
    int found = 0;
    pthread_mutex_lock(&busy_mu);
    for (size_t i = 0; i < busy_n && !found; i++)
        found = strcmp(busy_ids[i], id) == 0;
    pthread_mutex_unlock(&busy_mu);
    return found;
}

/* --- names ------------------------------------------------------------------------------ */

void containers_docker_name(const store_container *c, char *out, size_t cap)
{
    snprintf(out, cap, "cy-%s-%s", c->client_id, c->name);
}

void containers_volume_name(const store_container *c, char *out, size_t cap)
{
    snprintf(out, cap, "cy-%s-%s-data", c->client_id, c->name);
}

void containers_network_name(const app *a, const char *client_id, char *out, size_t cap)
{
    (void)a;
    snprintf(out, cap, "cy-net-%s", client_id);
}

/* --- request parsing --------------------------------------------------------------------- */

/* A DNS label: 1..63 of [a-z0-9-], not starting or ending with '-'. */
static int dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static int env_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* "90s", "30m", "2h", "7d" (or plain seconds) into seconds. */
static int parse_ttl(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 12)
        return -EINVAL;
    static const struct {
        char suffix;
        int64_t mult;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    int64_t mult = 1;
    char num[16];
    str_copy(num, sizeof(num), s);
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (num[n - 1] == units[i].suffix) {
            mult = units[i].mult;
            num[n - 1] = '\0';
        }
    }
    int64_t v;
    if (num[0] == '+' || num[0] == '-' || str_to_int64(num, 1, CONTAINER_TTL_MAX, &v) != 0)
        return -EINVAL;
    v *= mult;
    if (v < CONTAINER_TTL_MIN || v > CONTAINER_TTL_MAX)
        return -ERANGE;
    *out = v;
    return 0;
}

static const char *const create_keys[] = {"serviceType", "name", "env", "ttl"};

int containers_parse_create(json_t *body, container_create_req *r, plat_err *e)
{
    memset(r, 0, sizeof(*r));
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        size_t i = 0;
        while (i < sizeof(create_keys) / sizeof(create_keys[0]) && strcmp(key, create_keys[i]))
            i++;
        if (i == sizeof(create_keys) / sizeof(create_keys[0])) {
            fail(e, 400, "invalid_field",
                 "unknown field \"%.64s\" (allowed: serviceType, name, env, ttl)", key);
            return -EINVAL;
        }
    }
    json_t *st = json_object_get(body, "serviceType");
    if (st == NULL) {
        fail(e, 400, "invalid_field", "serviceType is required");
        return -EINVAL;
    }
    if (!json_is_string(st) || json_string_length(st) == 0 || json_string_length(st) >= 32 ||
        json_string_length(st) != strlen(json_string_value(st))) {
        fail(e, 400, "invalid_field", "serviceType must be a service type name from the catalog");
        return -EINVAL;
    }
    r->service_type = json_string_value(st);
    json_t *nm = json_object_get(body, "name");
    if (nm == NULL) {
        fail(e, 400, "invalid_field", "name is required");
        return -EINVAL;
    }
    if (!json_is_string(nm) || json_string_length(nm) != strlen(json_string_value(nm)) ||
        !dns_label(json_string_value(nm))) {
        fail(e, 400, "invalid_field",
             "name must be a DNS label: 1 to 63 lowercase letters, digits or '-', not starting "
             "or ending with '-'");
        return -EINVAL;
    }
    r->name = json_string_value(nm);
    json_t *env = json_object_get(body, "env");
    if (env != NULL && !json_is_null(env)) {
        if (!json_is_object(env)) {
            fail(e, 400, "invalid_field", "env must be an object of strings");
            return -EINVAL;
        }
        if (json_object_size(env) > CONTAINER_ENV_MAX) {
            fail(e, 400, "invalid_field", "env has more than %d variables", CONTAINER_ENV_MAX);
            return -EINVAL;
        }
        json_object_foreach(env, key, v)
        {
            if (!env_name(key)) {
                fail(e, 400, "invalid_field",
                     "env: \"%.64s\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*, at "
                     "most 64)",
                     key);
                return -EINVAL;
            }
            if (!json_is_string(v) || json_string_length(v) > CONTAINER_ENV_VALUE_MAX ||
                json_string_length(v) != strlen(json_string_value(v))) {
                fail(e, 400, "invalid_field",
                     "env.%s must be a string of at most %d bytes without NUL", key,
                     CONTAINER_ENV_VALUE_MAX);
                return -EINVAL;
            }
        }
        r->env = env;
    }
    json_t *ttl = json_object_get(body, "ttl");
    if (ttl != NULL && !json_is_null(ttl)) {
        int rc = -EINVAL;
        if (json_is_string(ttl) && json_string_length(ttl) == strlen(json_string_value(ttl)))
            rc = parse_ttl(json_string_value(ttl), &r->ttl_s);
        else if (json_is_integer(ttl) && json_integer_value(ttl) >= CONTAINER_TTL_MIN &&
                 json_integer_value(ttl) <= CONTAINER_TTL_MAX)
            rc = 0, r->ttl_s = json_integer_value(ttl);
        if (rc != 0) {
            fail(e, 400, "invalid_field",
                 "ttl must be a duration such as \"30m\", \"2h\" or \"7d\" between 1 minute and "
                 "30 days");
            return -EINVAL;
        }
    }
    return 0;
}

/* --- create ------------------------------------------------------------------------------ */

static json_t *labels_json(const app *a, const store_container *c, const char *user_id)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "clientId", c->client_id,
                     "serviceType", c->service_type, "com.container-manager.managed", "true",
                     "com.cloudya.instance", a->instance_id, "com.cloudya.id", c->id,
                     "com.cloudya.name", c->name, "com.cloudya.created-by", user_id,
                     "com.cloudya.client", c->client_id);
}

static void env_append(json_t *env, const char *k, const char *v)
{
    size_t n = strlen(k) + strlen(v) + 2;
    char *kv = xmalloc(n);
    snprintf(kv, n, "%s=%s", k, v);
    json_array_append_new(env, json_string(kv));
    free(kv);
}

/* The Engine's create body: the catalog's image and command, the platform's limits and
 * hardening; the request contributes only its name and environment. */
static json_t *create_config(const app *a, const catalog_service *svc, const store_container *c,
                             const container_actor *actor, json_t *user_env,
                             const char *password, const char *netname)
{
    json_t *env = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(svc->env, k, v)
    {
        if (user_env == NULL || json_object_get(user_env, k) == NULL)
            env_append(env, k, json_string_value(v));
    }
    if (user_env != NULL) {
        json_object_foreach(user_env, k, v)
            env_append(env, k, json_string_value(v));
    }
    if (password[0] != '\0') {
        char kv[CATALOG_ENV_NAME_MAX + CONTAINER_PASSWORD_LEN + 2];
        snprintf(kv, sizeof(kv), "%s=%s", svc->password_env, password);
        json_array_append_new(env, json_string(kv));
    }
    char port[16];
    snprintf(port, sizeof(port), "%d/tcp", svc->port);
    json_t *caps = json_array();
    for (size_t i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++)
        json_array_append_new(caps, json_string(kept_caps[i]));
    int64_t mem = (int64_t)svc->memory_mb * 1024 * 1024;
    json_t *host = json_pack(
        "{s:I, s:I, s:I, s:I, s:b, s:b, s:[s], s:[s], s:o, s:{s:[{s:s, s:s}]}, s:s, s:{s:s}, "
        "s:{s:s, s:{s:s, s:s}}, s:b}",
        "Memory", (json_int_t)mem, "MemorySwap", (json_int_t)mem, "NanoCpus",
        (json_int_t)(svc->cpus * 1e9 + 0.5), "PidsLimit", (json_int_t)a->cfg.pids_limit,
        "Privileged", 0, "Init", 1, "SecurityOpt", "no-new-privileges", "CapDrop", "ALL",
        "CapAdd", caps, "PortBindings", port, "HostIp", a->cfg.publish_ip, "HostPort", "",
        "NetworkMode", netname, "RestartPolicy", "Name", "unless-stopped", "LogConfig", "Type",
        "json-file", "Config", "max-size", "10m", "max-file", "3", "ReadonlyRootfs", 0);
    /* Explicit, so the host's defaults (cgroup v1 hosts share the cgroup namespace) never
     * decide. */
    json_object_set_new(host, "CgroupnsMode", json_string("private"));
    json_object_set_new(host, "IpcMode", json_string("private"));
    if (svc->volume[0] != '\0') {
        char vol[STORE_ID_MAX + STORE_CNAME_MAX + 16];
        containers_volume_name(c, vol, sizeof(vol));
        json_object_set_new(host, "Mounts",
                            json_pack("[{s:s, s:s, s:s, s:{s:{s:s, s:s, s:s}}}]", "Type", "volume",
                                      "Source", vol, "Target", svc->volume, "VolumeOptions",
                                      "Labels", "com.cloudya.instance", a->instance_id,
                                      "com.cloudya.id", c->id, "clientId", c->client_id));
    }
    json_t *cfg = json_pack("{s:s, s:s, s:o, s:o, s:{s:{}}, s:o, s:{s:{s:{}}}}", "Image",
                            svc->image, "Hostname", c->name, "Env", env, "Labels",
                            labels_json(a, c, actor->user_id), "ExposedPorts", port, "HostConfig",
                            host, "NetworkingConfig", "EndpointsConfig", netname);
    if (svc->command != NULL)
        json_object_set(cfg, "Cmd", svc->command);
    if (svc->user[0] != '\0')
        json_object_set_new(cfg, "User", json_string(svc->user));
    return cfg;
}

/* The image must be there; when it is not, one pull attempt, then a sentence naming it. */
static int ensure_image(app *a, const char *image, plat_err *e)
{
    char err[DOCKER_ERR_MAX];
    int rc = docker_image_exists(a->engine, image, err, sizeof(err));
    if (rc == 0)
        return 0;
    if (rc != -ENOENT) {
        containers_engine_err(e, rc, "cannot inspect the image", err);
        return rc;
    }
    log_info("image %s is missing: pulling it", image);
    rc = docker_image_pull(a->engine, image, a->cfg.pull_timeout * 1000L, err, sizeof(err));
    if (rc == 0 && docker_image_exists(a->engine, image, err, sizeof(err)) == 0)
        return 0;
    if (rc == -ECONNREFUSED) {
        containers_engine_err(e, rc, "pull", err);
        return rc;
    }
    log_warnx("cannot pull %s: %s", image, err);
    fail(e, 503, "image_unavailable",
         "the image %s is not on this host and could not be pulled (%s); build it with "
         "scripts/images.sh or point CLOUDYA_CATALOG at images this host has",
         image, err);
    return -ENOENT;
}

/* The published host port of a started container, from inspect. */
static int published_port(app *a, const char *docker_id, int port, int *host_port, plat_err *e)
{
    char err[DOCKER_ERR_MAX];
    json_t *j = NULL;
    int rc = docker_container_inspect(a->engine, docker_id, &j, err, sizeof(err));
    if (rc != 0) {
        containers_engine_err(e, rc, "cannot inspect the new container", err);
        return rc;
    }
    char key[16];
    snprintf(key, sizeof(key), "%d/tcp", port);
    json_t *b = json_object_get(json_object_get(json_object_get(j, "NetworkSettings"), "Ports"),
                                key);
    const char *hp = json_string_value(json_object_get(json_array_get(b, 0), "HostPort"));
    int64_t v = 0;
    rc = hp != NULL ? str_to_int64(hp, 1, 65535, &v) : -EINVAL;
    json_decref(j);
    if (rc != 0) {
        fail(e, 502, "engine_error", "the Engine published no host port for %s", key);
        return -EPROTO;
    }
    *host_port = (int)v;
    return 0;
}

/* Undoes a create that failed half-way: the Engine's container and volume, then the record.
 * When the Engine cannot confirm the container is gone, the record stays (still "creating"
 * or "created") and the reconciler finishes the job once the Engine answers. */
static void rollback(app *a, const store_container *c, int has_volume)
{
    char err[DOCKER_ERR_MAX];
    char name[STORE_ID_MAX + STORE_CNAME_MAX + 16];
    containers_docker_name(c, name, sizeof(name));
    int rc = docker_container_remove(a->engine, c->docker_id[0] ? c->docker_id : name, 1, err,
                                     sizeof(err));
    int gone = rc == 0 || rc == -ENOENT;
    if (!gone)
        log_warnx("rollback of %s: cannot remove the container: %s", c->id, err);
    if (gone && has_volume) {
        containers_volume_name(c, name, sizeof(name));
        rc = docker_volume_remove(a->engine, name, err, sizeof(err));
        gone = rc == 0 || rc == -ENOENT;
        if (!gone)
            log_warnx("rollback of %s: cannot remove the volume %s: %s", c->id, name, err);
    }
    if (gone)
        store_container_delete(a->st, c->id);
}

static void make_url(const app *a, store_container *c)
{
    snprintf(c->url, sizeof(c->url), "http://%s:%d", a->cfg.public_host, c->host_port);
}

static pthread_mutex_t network_mu = PTHREAD_MUTEX_INITIALIZER;

struct net_job {
    app *a;
    const char *name;
    json_t *labels;
    char *id;
    char *err;
    size_t errlen;
    unsigned start;
};

static int ensure_network(void *ctx)
{
    struct net_job *j = ctx;
    return docker_network_ensure(j->a->engine, j->name, j->labels, j->a->cfg.network_base,
                                 j->start, j->id, j->err, j->errlen);
}

/* *sent is set once the Engine may have a container: before that, a failure leaves nothing
 * on the Engine and the record can simply go. */
static int engine_steps(app *a, const container_actor *actor, const container_create_req *r,
                        const catalog_service *svc, store_container *c, const char *password,
                        int *sent, plat_err *e)
{
    char err[DOCKER_ERR_MAX];
    int rc = ensure_image(a, svc->image, e);
    if (rc != 0)
        return rc;
    char net[STORE_ID_MAX + 16], netid[DOCKER_ID_LEN + 1];
    containers_network_name(a, c->client_id, net, sizeof(net));
    json_t *nl = json_pack("{s:s, s:s, s:s}", "com.container-manager.managed", "true",
                           "com.cloudya.instance", a->instance_id, "clientId", c->client_id);
    /* The Engine's duplicate-name check is not atomic: two concurrent creates would make two
     * networks of the same name, and every later use of the name would be ambiguous. The mutex
     * serialises this process, the store's lock every daemon sharing the database. */
    err[0] = '\0';
    struct net_job job = {a, net, nl, netid, err, sizeof(err), 0};
    unsigned start = 2166136261u; /* FNV-1a of the name: the same first subnet everywhere */
    for (const char *p = net; *p != '\0'; p++)
        start = (start ^ (unsigned char)*p) * 16777619u;
    job.start = start % 256;
    pthread_mutex_lock(&network_mu);
    rc = store_exclusive(a->st, net, ensure_network, &job);
    pthread_mutex_unlock(&network_mu);
    if (rc < 0 && err[0] == '\0')
        str_copy(err, sizeof(err), "the database lock for the network is unavailable");
    json_decref(nl);
    if (rc != 0) {
        containers_engine_err(e, rc, "cannot prepare the tenant's network", err);
        return rc;
    }
    /* By id: a name could still be ambiguous for a moment while racing creators settle. */
    json_t *cfg = create_config(a, svc, c, actor, r->env, password, netid);
    char name[STORE_ID_MAX + STORE_CNAME_MAX + 16];
    containers_docker_name(c, name, sizeof(name));
    *sent = 1;
    rc = docker_container_create(a->engine, name, cfg, c->docker_id, err, sizeof(err));
    json_decref(cfg);
    if (rc != 0) {
        containers_engine_err(e, rc, "cannot create the container", err);
        return rc;
    }
    str_copy(c->state, sizeof(c->state), "created");
    if ((rc = store_container_update(a->st, c)) != 0) {
        fail(e, 503, "database_unavailable", "the database is unavailable; try again");
        return rc;
    }
    rc = docker_container_start(a->engine, c->docker_id, err, sizeof(err));
    if (rc != 0 && rc != -EALREADY) {
        containers_engine_err(e, rc, "cannot start the container", err);
        return rc;
    }
    if ((rc = published_port(a, c->docker_id, svc->port, &c->host_port, e)) != 0)
        return rc;
    make_url(a, c);
    str_copy(c->state, sizeof(c->state), "running");
    if ((rc = store_container_update(a->st, c)) != 0) {
        fail(e, 503, "database_unavailable", "the database is unavailable; try again");
        return rc;
    }
    return 0;
}

/* Reserve (quota + name, atomically, written before the Engine hears of it), then image,
 * network, create, start, publish; any failure undoes everything. */
int containers_create(app *a, const container_actor *actor, const container_create_req *r,
                      store_container *out, char password[CONTAINER_PASSWORD_LEN + 1],
                      plat_err *e)
{
    password[0] = '\0';
    const catalog_service *svc = catalog_find(a->catalog, r->service_type);
    if (svc == NULL) {
        char names[256] = "";
        size_t used = 0;
        for (size_t i = 0; i < a->catalog->n && used < sizeof(names); i++)
            used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                                     a->catalog->svc[i].type);
        fail(e, 400, "invalid_field", "serviceType \"%.31s\" is not in the catalog (%s)",
             r->service_type, names);
        return -EINVAL;
    }
    if (svc->password_env[0] != '\0' && r->env != NULL &&
        json_object_get(r->env, svc->password_env) != NULL) {
        fail(e, 400, "invalid_field", "env.%s is generated by the platform", svc->password_env);
        return -EINVAL;
    }
    store_container c;
    memset(&c, 0, sizeof(c));
    str_new_id(c.id, sizeof(c.id), "ctr");
    str_copy(c.client_id, sizeof(c.client_id), actor->client_id);
    str_copy(c.name, sizeof(c.name), r->name);
    str_copy(c.service_type, sizeof(c.service_type), svc->type);
    str_copy(c.image, sizeof(c.image), svc->image);
    c.memory_mb = svc->memory_mb;
    c.cpus = svc->cpus;
    c.expires_at = r->ttl_s > 0 ? time_now() + r->ttl_s : 0;
    str_copy(c.owner, sizeof(c.owner), a->daemon_id);
    enum store_quota_hit hit = STORE_QUOTA_NONE;
    containers_busy_add(c.id);
    int rc = store_container_reserve(a->st, &c, &hit);
    if (rc == -EDQUOT) {
        store_client cl;
        memset(&cl, 0, sizeof(cl));
        store_client_get(a->st, actor->client_id, &cl);
        int used = 0, running = 0, used_mb = 0;
        double used_cpus = 0;
        store_container_usage(a->st, actor->client_id, &used, &running, &used_mb, &used_cpus);
        if (hit == STORE_QUOTA_MEMORY)
            fail(e, 403, "quota_exceeded",
                 "memory quota exceeded: %s needs %d MB, %d of %d MB are in use",
                 svc->type, svc->memory_mb, used_mb, cl.quota_memory_mb);
        else if (hit == STORE_QUOTA_CPUS)
            fail(e, 403, "quota_exceeded",
                 "CPU quota exceeded: %s needs %.2f CPUs, %.2f of %.2f are in use",
                 svc->type, svc->cpus, used_cpus, cl.quota_cpus);
        else
            fail(e, 403, "quota_exceeded", "container quota exceeded: %d of %d containers",
                 used, cl.quota_containers);
        goto out;
    }
    if (rc == -EEXIST) {
        fail(e, 409, "conflict", "a container named \"%s\" already exists", r->name);
        goto out;
    }
    if (rc != 0) {
        fail(e, 503, "database_unavailable", "the database is unavailable; try again");
        goto out;
    }
    if (svc->password_env[0] != '\0')
        str_random_hex(password, CONTAINER_PASSWORD_LEN / 2);
    int sent = 0;
    rc = engine_steps(a, actor, r, svc, &c, password, &sent, e);
    if (rc != 0) {
        log_warnx("create of %s (%s) failed: %s", c.id, c.name, e->msg);
        if (sent)
            rollback(a, &c, svc->volume[0] != '\0');
        else
            store_container_delete(a->st, c.id);
        password[0] = '\0';
        goto out;
    }
    *out = c;
out:
    containers_busy_del(c.id);
    return rc;
}

/* Docker picks a new host port each time a container starts: read it back and keep the
 * record's port and URL true. */
int containers_refresh_port(app *a, store_container *c)
{
    const catalog_service *svc = catalog_find(a->catalog, c->service_type);
    plat_err e;
    int port = 0;
    if (svc == NULL || c->docker_id[0] == '\0' ||
        published_port(a, c->docker_id, svc->port, &port, &e) != 0)
        return -ENOENT;
    if (port == c->host_port)
        return 0;
    c->host_port = port;
    make_url(a, c);
    return store_container_update(a->st, c);
}

/* --- lookups and actions ------------------------------------------------------------------ */

int containers_resolve(app *a, const container_actor *actor, const char *ref,
                       store_container *out, plat_err *e)
{
    size_t n = strlen(ref);
    int ok = n > 0 && n <= DOCKER_ID_LEN;
    for (size_t i = 0; ok && i < n; i++)
        ok = (ref[i] >= 'a' && ref[i] <= 'z') || (ref[i] >= 'A' && ref[i] <= 'Z') ||
             (ref[i] >= '0' && ref[i] <= '9') || ref[i] == '-' || ref[i] == '_';
    int rc = ok ? store_container_find(a->st, actor->admin ? "" : actor->client_id,
                                       actor->client_id, ref, out)
                : -ENOENT;
    if (rc == -ENOENT) {
        fail(e, 404, "not_found", "no container \"%.64s\"", ref);
        return rc;
    }
    if (rc != 0) {
        fail(e, 503, "database_unavailable", "the database is unavailable; try again");
        return rc;
    }
    return 0;
}

static int usable(const store_container *c, plat_err *e)
{
    if (strcmp(c->state, "creating") == 0 || strcmp(c->state, "removing") == 0) {
        fail(e, 409, "conflict", "the container \"%s\" is being %s; try again shortly", c->name,
             c->state[0] == 'c' ? "created" : "removed");
        return -EBUSY;
    }
    if (strcmp(c->state, "removed") == 0 || c->docker_id[0] == '\0') {
        fail(e, 409, "conflict",
             "the container \"%s\" was removed from the Engine outside Cloudya; delete it",
             c->name);
        return -ENOENT;
    }
    return 0;
}

int containers_act(app *a, store_container *c, enum container_action act, plat_err *e)
{
    int rc = usable(c, e);
    if (rc != 0)
        return rc;
    char err[DOCKER_ERR_MAX];
    const char *state;
    containers_busy_add(c->id);
    if (act == CONTAINER_START) {
        rc = docker_container_start(a->engine, c->docker_id, err, sizeof(err));
        state = "running";
    } else if (act == CONTAINER_STOP) {
        rc = docker_container_stop(a->engine, c->docker_id, a->cfg.stop_timeout, err,
                                   sizeof(err));
        state = "stopped";
    } else {
        rc = docker_container_restart(a->engine, c->docker_id, a->cfg.stop_timeout, err,
                                      sizeof(err));
        state = "running";
    }
    if (rc == -EALREADY)
        rc = 0;
    if (rc == -ENOENT) {
        store_container_set_state(a->st, c->id, NULL, "removed");
        fail(e, 409, "conflict",
             "the container \"%s\" was removed from the Engine outside Cloudya; delete it",
             c->name);
        goto out;
    }
    if (rc != 0) {
        containers_engine_err(e, rc, "cannot change the container's state", err);
        goto out;
    }
    if (act != CONTAINER_STOP)
        containers_refresh_port(a, c);
    rc = store_container_set_state(a->st, c->id, NULL, state);
    if (rc != 0) {
        fail(e, 503, "database_unavailable", "the database is unavailable; try again");
        goto out;
    }
    str_copy(c->state, sizeof(c->state), state);
out:
    containers_busy_del(c->id);
    return rc;
}

int containers_delete(app *a, store_container *c, plat_err *e)
{
    if (strcmp(c->state, "creating") == 0 || strcmp(c->state, "removing") == 0)
        return usable(c, e);
    containers_busy_add(c->id);
    int rc = store_container_set_state(a->st, c->id, NULL, "removing");
    if (rc != 0) {
        fail(e, 503, "database_unavailable", "the database is unavailable; try again");
        goto out;
    }
    char err[DOCKER_ERR_MAX];
    char name[STORE_ID_MAX + STORE_CNAME_MAX + 16];
    containers_docker_name(c, name, sizeof(name));
    rc = docker_container_remove(a->engine, c->docker_id[0] ? c->docker_id : name, 1, err,
                                 sizeof(err));
    if (rc == 0 || rc == -ENOENT) {
        rc = 0;
        const catalog_service *svc = catalog_find(a->catalog, c->service_type);
        containers_volume_name(c, name, sizeof(name));
        if (svc == NULL || svc->volume[0] != '\0') {
            rc = docker_volume_remove(a->engine, name, err, sizeof(err));
            if (rc == -ENOENT)
                rc = 0;
        }
    }
    if (rc != 0) {
        /* Back to what it was; the reconciler will see the truth. */
        store_container_set_state(a->st, c->id, "removing", c->state);
        containers_engine_err(e, rc, "cannot remove the container", err);
        goto out;
    }
    rc = store_container_delete(a->st, c->id);
    if (rc != 0 && rc != -ENOENT) {
        fail(e, 503, "database_unavailable", "the database is unavailable; try again");
        goto out;
    }
    rc = 0;
out:
    containers_busy_del(c->id);
    return rc;
}

/* --- logs ---------------------------------------------------------------------------------- */

static int flag_value(const char *v, int *out)
{
    if (v == NULL)
        return 0;
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
        *out = 1;
    else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
             v[0] == '\0')
        *out = 0;
    else
        return -EINVAL;
    return 0;
}

int containers_parse_logs(const char *tail, const char *since, const char *timestamps,
                          const char *follow, container_logs_req *r, plat_err *e)
{
    memset(r, 0, sizeof(*r));
    r->tail = 100;
    if (tail != NULL && tail[0] != '\0') {
        int64_t v;
        if (strcmp(tail, "all") == 0) {
            r->tail = -1;
        } else if (str_to_int64(tail, 0, CONTAINER_LOG_TAIL_MAX, &v) == 0 && tail[0] != '+' &&
                   tail[0] != '-') {
            r->tail = (int)v;
        } else {
            fail(e, 400, "invalid_field", "tail must be a number from 0 to %d, or \"all\"",
                 CONTAINER_LOG_TAIL_MAX);
            return -EINVAL;
        }
    }
    if (since != NULL && since[0] != '\0' &&
        (time_parse_rfc3339(since, &r->since) != 0 || r->since < 0)) {
        fail(e, 400, "invalid_field",
             "since must be an RFC 3339 timestamp (2026-11-20T10:00:00Z) or unix seconds");
        return -EINVAL;
    }
    if (flag_value(timestamps, &r->timestamps) != 0) {
        fail(e, 400, "invalid_field", "timestamps must be 1 or 0");
        return -EINVAL;
    }
    if (flag_value(follow, &r->follow) != 0) {
        fail(e, 400, "invalid_field", "follow must be 1 or 0");
        return -EINVAL;
    }
    return 0;
}

struct logs_ctx {
    docker_logs_demux demux;
    container_line_fn fn;
    container_stop_fn stop;
    void *ctx;
    int proto_error;
};

static int on_line(void *ctx, enum docker_log_stream stream, const char *line, size_t len)
{
    struct logs_ctx *l = ctx;
    return l->fn(l->ctx, (int)stream, line, len);
}

static int on_chunk(void *ctx, const char *data, size_t len)
{
    struct logs_ctx *l = ctx;
    int rc = docker_logs_demux_feed(&l->demux, data, len);
    if (rc == -EPROTO)
        l->proto_error = 1;
    return rc;
}

static int on_idle(void *ctx)
{
    struct logs_ctx *l = ctx;
    return l->stop != NULL && l->stop(l->ctx);
}

int containers_logs(app *a, const store_container *c, const container_logs_req *r,
                    container_line_fn fn, container_stop_fn stop, void *ctx, plat_err *e)
{
    if (c->docker_id[0] == '\0' || strcmp(c->state, "removed") == 0) {
        fail(e, 409, "conflict", "the container \"%s\" has no logs: it is not on the Engine",
             c->name);
        return -ENOENT;
    }
    char path[256], tail[16];
    if (r->tail < 0)
        str_copy(tail, sizeof(tail), "all");
    else
        snprintf(tail, sizeof(tail), "%d", r->tail);
    snprintf(path, sizeof(path),
             "/containers/%s/logs?stdout=1&stderr=1&tail=%s&since=%lld&timestamps=%d&follow=%d",
             c->docker_id, tail, (long long)r->since, r->timestamps, r->follow);
    struct logs_ctx l;
    memset(&l, 0, sizeof(l));
    l.fn = fn;
    l.stop = stop;
    l.ctx = ctx;
    docker_logs_demux_init(&l.demux, 0, on_line, &l);
    char err[DOCKER_ERR_MAX] = "";
    int rc = docker_stream(a->engine, path, r->follow ? 0 : a->cfg.engine_timeout * 1000L,
                           on_chunk, on_idle, &l, err, sizeof(err));
    if (rc == 0)
        docker_logs_demux_finish(&l.demux);
    if (l.proto_error) {
        fail(e, 502, "engine_error", "the Engine's log stream is malformed");
        return -EPROTO;
    }
    if (rc != 0) {
        containers_engine_err(e, rc, "cannot read the logs", err);
        return rc;
    }
    return 0;
}

/* --- JSON ---------------------------------------------------------------------------------- */

json_t *containers_json(const app *a, const store_container *c, int detailed)
{
    char created[TIME_RFC3339_LEN], expires[TIME_RFC3339_LEN];
    time_rfc3339(c->created_at, created, sizeof(created));
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:s, s:s, s:o}", "id",
                          c->docker_id[0] ? c->docker_id : c->id, "name", c->name,
                          "serviceType", c->service_type, "image", c->image, "status", c->state,
                          "url", c->url[0] ? c->url : NULL, "hostPort",
                          c->host_port ? json_integer(c->host_port) : json_null(), "clientId",
                          c->client_id, "createdAt", created, "expiresAt",
                          c->expires_at ? json_string("") : json_null());
    if (json_object_get(j, "url") == NULL)
        json_object_set_new(j, "url", json_null());
    if (c->expires_at) {
        time_rfc3339(c->expires_at, expires, sizeof(expires));
        json_object_set_new(j, "expiresAt", json_string(expires));
    }
    if (detailed) {
        const catalog_service *svc = catalog_find(a->catalog, c->service_type);
        json_object_set_new(j, "limits",
                            json_pack("{s:i, s:f, s:i}", "memoryMb", c->memory_mb, "cpus",
                                      c->cpus, "pidsLimit", a->cfg.pids_limit));
        json_t *ports = json_array();
        if (svc != NULL)
            json_array_append_new(
                ports, json_pack("{s:i, s:o, s:s}", "containerPort", svc->port, "hostPort",
                                 c->host_port ? json_integer(c->host_port) : json_null(),
                                 "protocol", "tcp"));
        json_object_set_new(j, "ports", ports);
        json_object_set_new(j, "recordId", json_string(c->id));
        char updated[TIME_RFC3339_LEN];
        time_rfc3339(c->updated_at, updated, sizeof(updated));
        json_object_set_new(j, "updatedAt", json_string(updated));
    }
    return j;
}
