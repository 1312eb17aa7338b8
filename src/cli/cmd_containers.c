/* Container commands: ps, catalog, create, start, stop, restart, rm, logs, stats. They
 * only talk to the daemon's API; the daemon checks ownership and quotas. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "output.h"
#include "str.h"
#include "term.h"
#include "timeutil.h"

#define REF_MAX 256 /* a container reference, escaped for the path */

/* Builds "/api/containers/<ref><suffix>" with ref escaped. Returns 0, or 2 after a usage
 * error (a reference too long to be one). */
static int container_path(struct cli_ctx *ctx, const struct cli_args *a, const char *ref,
                          const char *suffix, char *out, size_t cap)
{
    char esc[REF_MAX * 3];
    if (ref[0] == '\0' || strlen(ref) > REF_MAX || url_escape(ref, esc, sizeof(esc)) != 0)
        return cli_usage_error(ctx, a->cmd, "\"%.40s\" is not a container name or id", ref);
    snprintf(out, cap, "/api/containers/%s%s", esc, suffix);
    return 0;
}

static enum color status_color(const char *status)
{
    if (status == NULL)
        return C_NONE;
    if (strcmp(status, "running") == 0)
        return C_GREEN;
    if (strcmp(status, "exited") == 0 || strcmp(status, "dead") == 0 ||
        strcmp(status, "stopped") == 0 || strcmp(status, "missing") == 0)
        return C_RED;
    return C_YELLOW;
}

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- ps, catalog ---------------------------------------------------------------------- */

static int cmd_ps(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct api_resp r;
    int rc = 0;
    if (api_call(ctx, "GET", "/api/containers", NULL, 1, 0, &r) != 0 || r.status != 200 ||
        !json_is_array(r.body)) {
        rc = r.status == 200 ? cli_fail(ctx, "unexpected answer from the daemon (not a list)")
                             : api_fail(ctx, &r, NULL);
        goto out;
    }
    size_t i;
    json_t *c;
    if (ctx->json) {
        out_json(r.body);
        goto out;
    }
    if (cli_has(a, "quiet") || cli_has(a, "names")) {
        json_array_foreach(r.body, i, c) {
            const char *v = str_of(c, cli_has(a, "names") ? "name" : "id");
            if (v != NULL)
                printf("%s\n", v);
        }
        goto out;
    }
    if (json_array_size(r.body) == 0) {
        printf("no containers yet: `cloudya create nginx --name site` makes one\n");
        goto out;
    }
    static const char *const heads[] = {"NAME", "SERVICE", "STATUS", "URL", "CREATED", "EXPIRES", "ID"};
    struct table *t = table_new(7, heads);
    int64_t now = time_now();
    json_array_foreach(r.body, i, c) {
        char created[64], expires[64], id[13];
        fmt_ago(str_of(c, "createdAt") ? str_of(c, "createdAt") : "-", now, created, sizeof(created));
        fmt_until(str_of(c, "expiresAt"), now, expires, sizeof(expires));
        str_copy(id, sizeof(id), str_of(c, "id") ? str_of(c, "id") : "-");
        const char *cells[] = {str_of(c, "name"), str_of(c, "serviceType"), str_of(c, "status"),
                               str_of(c, "url"), created, expires, id};
        table_add(t, cells);
        table_color(t, 2, status_color(str_of(c, "status")));
    }
    table_print(t, stdout, ctx->color, out_width(stdout));
    table_free(t);
out:
    api_resp_free(&r);
    return rc;
}

static int cmd_catalog(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct api_resp r;
    int rc = 0;
    if (api_call(ctx, "GET", "/api/catalog", NULL, 1, 0, &r) != 0 || r.status != 200) {
        rc = api_fail(ctx, &r, NULL);
        goto out;
    }
    /* the catalog may be an array or {services: [...]} */
    json_t *list = json_is_array(r.body) ? r.body : json_object_get(r.body, "services");
    if (ctx->json) {
        out_json(r.body);
        goto out;
    }
    size_t i;
    json_t *s;
    if (cli_has(a, "names")) {
        json_array_foreach(list, i, s) {
            if (str_of(s, "serviceType"))
                printf("%s\n", str_of(s, "serviceType"));
        }
        goto out;
    }
    static const char *const heads[] = {"SERVICE", "IMAGE", "PORT", "MEMORY", "CPUS", "DESCRIPTION"};
    struct table *t = table_new(6, heads);
    table_right(t, 2);
    table_right(t, 3);
    table_right(t, 4);
    json_array_foreach(list, i, s) {
        char port[16], mem[32], cpus[16];
        snprintf(port, sizeof(port), "%lld", (long long)json_integer_value(json_object_get(s, "port")));
        snprintf(mem, sizeof(mem), "%lld MB", (long long)json_integer_value(json_object_get(s, "memoryMb")));
        snprintf(cpus, sizeof(cpus), "%.2f", json_number_value(json_object_get(s, "cpus")));
        const char *cells[] = {str_of(s, "serviceType"), str_of(s, "image"), port, mem, cpus,
                               str_of(s, "description")};
        table_add(t, cells);
    }
    table_print(t, stdout, ctx->color, out_width(stdout));
    table_free(t);
out:
    api_resp_free(&r);
    return rc;
}

/* ---- create --------------------------------------------------------------------------- */

static int cmd_create(struct cli_ctx *ctx, const struct cli_args *a)
{
    const char *name = cli_value(a, "name");
    if (name == NULL || name[0] == '\0')
        return cli_usage_error(ctx, a->cmd, "--name is required: the container's name, e.g. --name site");
    json_t *body = json_pack("{s:s, s:s}", "serviceType", a->pos[0], "name", name);
    const char *const *envs;
    int n = cli_list(a, "env", &envs);
    if (n > 0) {
        json_t *env = json_object();
        for (int i = 0; i < n; i++) {
            const char *eq = strchr(envs[i], '=');
            if (eq == NULL || eq == envs[i]) {
                json_decref(env);
                json_decref(body);
                return cli_usage_error(ctx, a->cmd, "--env takes KEY=VALUE, not \"%.60s\"", envs[i]);
            }
            char key[256];
            if ((size_t)(eq - envs[i]) >= sizeof(key)) {
                json_decref(env);
                json_decref(body);
                return cli_usage_error(ctx, a->cmd, "--env: the name before '=' is too long");
            }
            memcpy(key, envs[i], (size_t)(eq - envs[i]));
            key[eq - envs[i]] = '\0';
            json_object_set_new(env, key, json_string(eq + 1));
        }
        json_object_set_new(body, "env", env);
    }
    const char *ttl = cli_value(a, "ttl");
    if (ttl != NULL)
        json_object_set_new(body, "ttl", json_string(ttl));
    char label[128];
    snprintf(label, sizeof(label), "Creating %.60s (%.40s)", name, a->pos[0]);
    struct api_resp r;
    spinner_start(label, ctx->tty_err);
    int cr = api_call(ctx, "POST", "/api/containers/create", body, 1, 300, &r);
    spinner_stop();
    json_decref(body);
    int rc = 0;
    if (cr != 0 || r.status != 201) {
        if (cr == 0 && r.status == 400 && strstr(r.raw, "serviceType") != NULL)
            rc = cli_fail(ctx, "%s (`cloudya catalog` lists them)",
                          str_of(r.body, "error") ? str_of(r.body, "error") : "bad service type");
        else
            rc = api_fail(ctx, &r, NULL);
    } else if (ctx->json) {
        out_json(r.body);
    } else {
        const char *id = str_of(r.body, "containerId");
        printf("%sCreated%s %s (%s), %s%s%s\n", color_on(ctx->color, C_GREEN), color_off(ctx->color),
               str_of(r.body, "name") ?: name, a->pos[0], color_on(ctx->color, status_color(str_of(r.body, "status"))),
               str_of(r.body, "status") ?: "?", color_off(ctx->color));
        if (str_of(r.body, "url"))
            printf("  url      %s\n", str_of(r.body, "url"));
        if (id)
            printf("  id       %.12s\n", id);
        if (str_of(r.body, "expiresAt"))
            printf("  expires  %s\n", str_of(r.body, "expiresAt"));
        if (str_of(r.body, "password"))
            printf("  password %s  (shown once: keep it now)\n", str_of(r.body, "password"));
    }
    api_resp_free(&r);
    return rc;
}

/* ---- start, stop, restart, rm --------------------------------------------------------- */

struct lifecycle {
    const char *method, *suffix, *ing, *done;
};

/* Runs one lifecycle action on every named container; a failure on one does not stop the
 * others. Returns 0 when all succeeded, else 1 (or 2 for a usage error). */
static int lifecycle_run(struct cli_ctx *ctx, const struct cli_args *a, const struct lifecycle *l)
{
    int rc = 0;
    json_t *results = ctx->json ? json_array() : NULL;
    for (int i = 0; i < a->npos; i++) {
        char path[REF_MAX * 3 + 64], label[128], what[REF_MAX + 32];
        int u = container_path(ctx, a, a->pos[i], l->suffix, path, sizeof(path));
        if (u != 0) {
            json_decref(results);
            return u;
        }
        snprintf(label, sizeof(label), "%s %.60s", l->ing, a->pos[i]);
        snprintf(what, sizeof(what), "container \"%s\"", a->pos[i]);
        struct api_resp r;
        spinner_start(label, ctx->tty_err);
        int cr = api_call(ctx, l->method, path, NULL, 1, 120, &r);
        spinner_stop();
        if (cr != 0 || r.status != 200) {
            rc = api_fail(ctx, &r, what);
            api_resp_free(&r);
            if (cr != 0 || r.status == 401)
                break; /* the next ones would fail the same way */
            continue;
        }
        if (results != NULL)
            json_array_append(results, r.body ? r.body : json_null());
        else
            printf("%s %s\n", l->done, a->pos[i]);
        api_resp_free(&r);
    }
    if (results != NULL) {
        if (a->npos == 1 && json_array_size(results) == 1)
            out_json(json_array_get(results, 0));
        else
            out_json(results);
        json_decref(results);
    }
    return rc;
}

static int cmd_start(struct cli_ctx *ctx, const struct cli_args *a)
{
    static const struct lifecycle l = {"POST", "/start", "Starting", "Started"};
    return lifecycle_run(ctx, a, &l);
}

static int cmd_stop(struct cli_ctx *ctx, const struct cli_args *a)
{
    static const struct lifecycle l = {"POST", "/stop", "Stopping", "Stopped"};
    return lifecycle_run(ctx, a, &l);
}

static int cmd_restart(struct cli_ctx *ctx, const struct cli_args *a)
{
    static const struct lifecycle l = {"POST", "/restart", "Restarting", "Restarted"};
    return lifecycle_run(ctx, a, &l);
}

static int cmd_rm(struct cli_ctx *ctx, const struct cli_args *a)
{
    static const struct lifecycle l = {"DELETE", "", "Removing", "Removed"};
    return lifecycle_run(ctx, a, &l);
}

/* ---- logs ----------------------------------------------------------------------------- */

struct follow_out {
    struct cli_ctx *ctx;
    const char *ref;
};

static int print_line(void *arg, const char *line, size_t len)
{
    struct follow_out *f = arg;
    if (f->ctx->json) {
        json_t *o = json_pack("{s:s, s:s%}", "container", f->ref, "line", line, len);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        fwrite(line, 1, len, stdout);
        fputc('\n', stdout);
    }
    fflush(stdout);
    return ferror(stdout) ? 1 : 0; /* a closed pipe (| head) ends the stream */
}

static int cmd_logs(struct cli_ctx *ctx, const struct cli_args *a)
{
    char query[256] = "", path[REF_MAX * 3 + 320], what[REF_MAX + 32];
    const char *tail = cli_value(a, "tail");
    const char *since = cli_value(a, "since");
    int64_t n;
    if (tail != NULL && strcmp(tail, "all") != 0 && str_to_int64(tail, 0, 100000, &n) != 0)
        return cli_usage_error(ctx, a->cmd, "--tail takes a number of lines (0 to 100000) or \"all\"");
    size_t q = 0;
    if (tail != NULL)
        q += (size_t)snprintf(query + q, sizeof(query) - q, "&tail=%s", tail);
    if (since != NULL) {
        char esc[200];
        if (url_escape(since, esc, sizeof(esc)) != 0)
            return cli_usage_error(ctx, a->cmd, "--since is too long");
        q += (size_t)snprintf(query + q, sizeof(query) - q, "&since=%s", esc);
    }
    if (cli_has(a, "timestamps") && q < sizeof(query))
        q += (size_t)snprintf(query + q, sizeof(query) - q, "&timestamps=1");
    if (cli_has(a, "follow") && q < sizeof(query))
        q += (size_t)snprintf(query + q, sizeof(query) - q, "&follow=1");
    if (q >= sizeof(query))
        return cli_usage_error(ctx, a->cmd, "the options are too long");
    if (query[0] == '&')
        query[0] = '?';
    int u = container_path(ctx, a, a->pos[0], "/logs", path, sizeof(path) - sizeof(query));
    if (u != 0)
        return u;
    size_t pl = strlen(path);
    snprintf(path + pl, sizeof(path) - pl, "%s", query);
    snprintf(what, sizeof(what), "container \"%s\"", a->pos[0]);
    struct follow_out f = {ctx, a->pos[0]};
    if (cli_has(a, "follow"))
        return api_stream_lines(ctx, path, what, print_line, &f);
    struct api_resp r;
    int rc = 0;
    if (api_call(ctx, "GET", path, NULL, 1, 60, &r) != 0 || r.status != 200) {
        rc = api_fail(ctx, &r, what);
    } else if (ctx->json) {
        out_json(r.body);
    } else {
        size_t i;
        json_t *line;
        json_array_foreach(json_object_get(r.body, "lines"), i, line) {
            const char *s = json_string_value(line);
            if (s != NULL)
                print_line(&f, s, json_string_length(line));
        }
    }
    api_resp_free(&r);
    return rc;
}

/* ---- stats ---------------------------------------------------------------------------- */

static double num_at(json_t *o, const char *a, const char *b)
{
    return json_number_value(json_object_get(json_object_get(o, a), b));
}

static int cmd_stats(struct cli_ctx *ctx, const struct cli_args *a)
{
    char path[REF_MAX * 3 + 64], what[REF_MAX + 32];
    int u = container_path(ctx, a, a->pos[0], "/stats", path, sizeof(path));
    if (u != 0)
        return u;
    snprintf(what, sizeof(what), "container \"%s\"", a->pos[0]);
    struct api_resp r;
    int rc = 0, cr;
    /* a container that just started has no sample yet: the daemon says when to ask again */
    spinner_start("Reading the figures", ctx->tty_err);
    for (int attempt = 0;; attempt++) {
        cr = api_call(ctx, "GET", path, NULL, 1, 30, &r);
        if (cr != 0 || r.status != 503 || attempt >= 5 ||
            strcmp(str_of(r.body, "code") ? str_of(r.body, "code") : "", "stats_pending") != 0)
            break;
        api_resp_free(&r);
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    spinner_stop();
    if (cr != 0 || r.status != 200) {
        if (cr == 0 && r.status == 409)
            rc = cli_fail(ctx, "%s is not running: `cloudya start %s` starts it", a->pos[0], a->pos[0]);
        else
            rc = api_fail(ctx, &r, what);
        goto out;
    }
    if (ctx->json) {
        out_json(r.body);
        goto out;
    }
    json_t *s = r.body;
    char mem[32], lim[32], rx[32], tx[32], rd[32], wr[32];
    fmt_bytes((uint64_t)num_at(s, "memory", "usage"), mem, sizeof(mem));
    fmt_bytes((uint64_t)num_at(s, "memory", "limit"), lim, sizeof(lim));
    fmt_bytes((uint64_t)num_at(s, "network", "rxBytes"), rx, sizeof(rx));
    fmt_bytes((uint64_t)num_at(s, "network", "txBytes"), tx, sizeof(tx));
    fmt_bytes((uint64_t)num_at(s, "blockIO", "readBytes"), rd, sizeof(rd));
    fmt_bytes((uint64_t)num_at(s, "blockIO", "writeBytes"), wr, sizeof(wr));
    char line[6][160];
    double cores = num_at(s, "cpu", "cores");
    snprintf(line[0], sizeof(line[0]), "%.1f%%", num_at(s, "cpu", "usage"));
    if (cores > 0) {
        size_t l0 = strlen(line[0]);
        snprintf(line[0] + l0, sizeof(line[0]) - l0, " of %g core%s", cores, cores == 1 ? "" : "s");
    }
    snprintf(line[1], sizeof(line[1]), "%s / %s (%.1f%%)", mem, lim, num_at(s, "memory", "percent"));
    snprintf(line[2], sizeof(line[2]), "%s received, %s sent", rx, tx);
    snprintf(line[3], sizeof(line[3]), "%s read, %s written", rd, wr);
    json_t *pl = json_object_get(json_object_get(s, "pids"), "limit");
    snprintf(line[4], sizeof(line[4]), "%lld", (long long)num_at(s, "pids", "current"));
    if (json_is_number(pl) && json_number_value(pl) > 0) {
        size_t l4 = strlen(line[4]);
        snprintf(line[4] + l4, sizeof(line[4]) - l4, " of %lld", (long long)json_number_value(pl));
    }
    snprintf(line[5], sizeof(line[5]), "%s", str_of(s, "timestamp") ? str_of(s, "timestamp") : "-");
    static const char *const keys[] = {"CPU", "Memory", "Network", "Block I/O", "Processes", "Sampled"};
    printf("%s%s%s\n", color_on(ctx->color, C_BOLD), a->pos[0], color_off(ctx->color));
    for (int i = 0; i < 6; i++)
        printf("  %-10s %s\n", keys[i], line[i]);
out:
    api_resp_free(&r);
    return rc;
}

static const struct cli_flag ps_flags[] = {
    {"quiet", 'q', CLI_BOOL, NULL, "print only the ids", NULL},
    {"names", 0, CLI_BOOL, NULL, "print only the names", NULL},
    {0},
};
static const struct cli_flag catalog_flags[] = {
    {"names", 0, CLI_BOOL, NULL, "print only the service types", NULL},
    {0},
};
static const struct cli_flag create_flags[] = {
    {"name", 'n', CLI_VALUE, "NAME", "the container's name: a DNS label (required)", NULL},
    {"env", 'e', CLI_LIST, "K=V", "an environment variable", NULL},
    {"ttl", 0, CLI_VALUE, "DURATION", "remove it after this long: 30m, 2h, 7d", NULL},
    {0},
};
static const struct cli_flag logs_flags[] = {
    {"follow", 'f', CLI_BOOL, NULL, "keep printing new lines until Ctrl+C", NULL},
    {"tail", 'n', CLI_VALUE, "N", "only the last N lines (or \"all\")", NULL},
    {"since", 0, CLI_VALUE, "TIME", "only lines since this RFC 3339 time or unix seconds", NULL},
    {"timestamps", 't', CLI_BOOL, NULL, "prefix each line with its time", NULL},
    {0},
};

#define G "Containers"
const struct cli_command cli_container_commands[] = {
    {"ps", G, "", 0, 0, ps_flags, "list your containers", NULL,
     "  cloudya ps\n  cloudya ps --output json", 1, 1, CLI_COMPLETE_NONE, NULL, cmd_ps},
    {"catalog", G, "", 0, 0, catalog_flags, "list the service types you can create", NULL, NULL,
     1, 1, CLI_COMPLETE_NONE, NULL, cmd_catalog},
    {"create", G, "<serviceType>", 1, 1, create_flags, "create and start a container",
     "The service type comes from the catalog (`cloudya catalog`); the daemon checks your quota, "
     "publishes the service's port and starts the container.",
     "  cloudya create nginx --name site\n  cloudya create postgres --name db --env POSTGRES_DB=app "
     "--ttl 2h",
     1, 1, CLI_COMPLETE_SERVICE, NULL, cmd_create},
    {"start", G, "<id|name>...", 1, CLI_MAX_POS, NULL, "start containers", NULL,
     "  cloudya start site", 1, 1, CLI_COMPLETE_CONTAINER, NULL, cmd_start},
    {"stop", G, "<id|name>...", 1, CLI_MAX_POS, NULL, "stop containers", NULL,
     "  cloudya stop site", 1, 1, CLI_COMPLETE_CONTAINER, NULL, cmd_stop},
    {"restart", G, "<id|name>...", 1, CLI_MAX_POS, NULL, "restart containers", NULL, NULL, 1, 1,
     CLI_COMPLETE_CONTAINER, NULL, cmd_restart},
    {"rm", G, "<id|name>...", 1, CLI_MAX_POS, NULL, "remove containers (running ones too)", NULL,
     "  cloudya rm site", 1, 1, CLI_COMPLETE_CONTAINER, NULL, cmd_rm},
    {"logs", G, "<id|name>", 1, 1, logs_flags, "print a container's logs",
     "Without --tail the daemon's default applies (the last 100 lines).",
     "  cloudya logs site --tail 20\n  cloudya logs site -f", 1, 1, CLI_COMPLETE_CONTAINER, NULL,
     cmd_logs},
    {"stats", G, "<id|name>", 1, 1, NULL, "a container's CPU, memory, network and I/O now", NULL,
     "  cloudya stats site", 1, 1, CLI_COMPLETE_CONTAINER, NULL, cmd_stats},
    {0},
};
