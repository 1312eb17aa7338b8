/* Account commands: configure, register, login, logout, info, version, completion. */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "cli.h"
#include "cli_config.h"
#include "client.h"
#include "output.h"
#include "str.h"
#include "term.h"
#include "timeutil.h"

#define FIELD_MAX 512
#define PASSWORD_MAX 1024

/* ---- helpers shared by register and login ------------------------------------------------ */

/* The value of flag `name`, else a prompt for it. Returns 0, 2 after a usage error (no
 * terminal to ask), or 1 after a failure. */
static int value_or_prompt(struct cli_ctx *ctx, const struct cli_args *a, const char *name,
                           const char *prompt, char *out, size_t cap)
{
    const char *v = cli_value(a, name);
    if (v != NULL) {
        if (v[0] == '\0')
            return cli_usage_error(ctx, a->cmd, "--%s is empty", name);
        if (str_copy(out, cap, v) != 0)
            return cli_usage_error(ctx, a->cmd, "--%s is too long", name);
        return 0;
    }
    for (;;) {
        int rc = term_prompt(prompt, 1, out, cap);
        if (rc == -ENOENT)
            return cli_usage_error(ctx, a->cmd, "--%s is needed: there is no terminal to ask", name);
        if (rc == -EINTR)
            return 1;
        if (rc == -ENOSPC) {
            fprintf(stderr, "too long; again\n");
            continue;
        }
        if (out[0] != '\0')
            return 0;
    }
}

/* The password: standard input with --password-stdin, else asked without echo (twice when
 * confirm). Returns 0, 1 or 2 as value_or_prompt. */
static int password_of(struct cli_ctx *ctx, const struct cli_args *a, int confirm, char *out,
                       size_t cap)
{
    if (cli_has(a, "password-stdin")) {
        int rc = term_read_stdin(out, cap);
        if (rc == -ENOSPC)
            return cli_fail(ctx, "the password on standard input is longer than %zu bytes", cap - 1);
        if (rc != 0)
            return cli_fail(ctx, "cannot read the password from standard input");
        if (out[0] == '\0')
            return cli_fail(ctx, "the password on standard input is empty");
        return 0;
    }
    for (;;) {
        int rc = term_prompt("Password: ", 0, out, cap);
        if (rc == -ENOENT)
            return cli_usage_error(ctx, a->cmd, "no terminal to ask for the password: use "
                                                "--password-stdin");
        if (rc == -EINTR)
            return 1;
        if (rc != 0 || out[0] == '\0') {
            fprintf(stderr, "%s; again\n", rc == -ENOSPC ? "too long" : "empty");
            continue;
        }
        if (!confirm)
            return 0;
        char again[PASSWORD_MAX];
        rc = term_prompt("Password (again): ", 0, again, sizeof(again));
        int same = rc == 0 && strcmp(again, out) == 0;
        sodium_memzero(again, sizeof(again));
        if (rc == -EINTR || rc == -ENOENT)
            return 1;
        if (same)
            return 0;
        fprintf(stderr, "the two passwords differ; again\n");
    }
}

/* Keeps the token (and the URL, when the folder has none yet) in config.ini. */
static int save_login(struct cli_ctx *ctx, const char *token)
{
    char err[512], url[1024], old[4096];
    if (cli_config_load(ctx->home, url, sizeof(url), old, sizeof(old), err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    if (url[0] == '\0' && cli_config_set(ctx->home, "api", "url", ctx->api_url, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    if (cli_config_set(ctx->home, "auth", "token", token, err, sizeof(err)) != 0)
        return cli_fail(ctx, "logged in, but the token could not be kept: %s", err);
    str_copy(ctx->token, sizeof(ctx->token), token);
    return 0;
}

/* Prints the user of a register/login answer and keeps its token. */
static int logged_in(struct cli_ctx *ctx, struct api_resp *r, const char *verb)
{
    const char *token = json_string_value(json_object_get(r->body, "token"));
    json_t *user = json_object_get(r->body, "user");
    if (token == NULL || !json_is_object(user))
        return cli_fail(ctx, "unexpected answer from the daemon at %s (no token)", ctx->api_url);
    int rc = save_login(ctx, token);
    if (rc != 0)
        return rc;
    if (ctx->json) {
        cli_emit(json_pack("{s:O, s:s}", "user", user, "apiUrl", ctx->api_url));
        return 0;
    }
    const char *name = json_string_value(json_object_get(user, "name"));
    const char *email = json_string_value(json_object_get(user, "email"));
    printf("%s%s%s as %s <%s> on %s\n", color_on(ctx->color, C_GREEN), verb, color_off(ctx->color),
           name ? name : "?", email ? email : "?", ctx->api_url);
    if (ctx->token_from_env)
        printf("note: CLOUDYA_API_TOKEN is set and still wins over this login\n");
    return 0;
}

/* ---- configure ------------------------------------------------------------------------ */

/* 1 when url is http(s)://host[...] with a host. */
static int url_ok(const char *url)
{
    const char *rest = NULL;
    if (strncmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        rest = url + 8;
    if (rest == NULL || rest[0] == '\0' || rest[0] == '/' || rest[0] == ':')
        return 0;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static int cmd_configure(struct cli_ctx *ctx, const struct cli_args *a)
{
    char url[1024], err[512];
    const char *given = cli_value(a, "api-url");
    if (given == NULL)
        given = a->api_url; /* the global --api-url means the same here */
    if (given == NULL) {
        char prompt[1200];
        snprintf(prompt, sizeof(prompt), "API URL [%s]: ", ctx->api_url);
        int rc = term_prompt(prompt, 1, url, sizeof(url));
        if (rc == -ENOENT)
            return cli_usage_error(ctx, a->cmd, "--api-url is needed: there is no terminal to ask");
        if (rc != 0)
            return 1;
        if (url[0] == '\0')
            str_copy(url, sizeof(url), ctx->api_url);
    } else if (str_copy(url, sizeof(url), given) != 0) {
        return cli_usage_error(ctx, a->cmd, "the URL is too long");
    }
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    if (!url_ok(url))
        return cli_usage_error(ctx, a->cmd, "\"%s\" is not an http:// or https:// URL with a host",
                               url);
    if (cli_config_set(ctx->home, "api", "url", url, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    str_copy(ctx->api_url, sizeof(ctx->api_url), url);
    /* say whether it answers, without failing: the daemon may simply not be up yet */
    struct api_resp r;
    int reach = api_call(ctx, "GET", "/api/health", NULL, 0, 5, &r);
    const char *status = reach == 0 ? json_string_value(json_object_get(r.body, "status")) : NULL;
    const char *version = reach == 0 ? json_string_value(json_object_get(r.body, "version")) : NULL;
    if (ctx->json) {
        cli_emit(json_pack("{s:s, s:s, s:s?, s:s?}", "apiUrl", url, "config", ctx->home,
                           "status", status, "version", version));
    } else {
        printf("API URL set to %s (in %s/config.ini)\n", url, ctx->home);
        if (status != NULL)
            printf("the daemon there answers: %s%s%s (cloudyad %s)\n",
                   color_on(ctx->color, strcmp(status, "healthy") == 0 ? C_GREEN : C_YELLOW), status,
                   color_off(ctx->color), version ? version : "?");
        else if (reach != 0)
            fprintf(stderr, "warning: %s\n", r.err);
        else
            fprintf(stderr, "warning: %s answers, but not as a Cloudya daemon (HTTP %ld)\n", url,
                    r.status);
    }
    api_resp_free(&r);
    return 0;
}

/* ---- register, login, logout ---------------------------------------------------------- */

static int cmd_register(struct cli_ctx *ctx, const struct cli_args *a)
{
    char email[FIELD_MAX], name[FIELD_MAX], password[PASSWORD_MAX];
    int rc = value_or_prompt(ctx, a, "email", "Email: ", email, sizeof(email));
    if (rc == 0)
        rc = value_or_prompt(ctx, a, "name", "Name: ", name, sizeof(name));
    if (rc == 0)
        rc = password_of(ctx, a, 1, password, sizeof(password));
    if (rc != 0)
        return rc;
    json_t *body = json_pack("{s:s, s:s, s:s}", "email", email, "name", name, "password", password);
    sodium_memzero(password, sizeof(password));
    struct api_resp r;
    spinner_start("Creating the account", ctx->tty_err);
    int cr = api_call(ctx, "POST", "/api/auth/register", body, 0, 0, &r);
    spinner_stop();
    json_decref(body);
    if (cr == 0 && r.status == 201)
        rc = logged_in(ctx, &r, "Registered and logged in");
    else
        rc = api_fail(ctx, &r, NULL);
    api_resp_free(&r);
    return rc;
}

static int cmd_login(struct cli_ctx *ctx, const struct cli_args *a)
{
    char email[FIELD_MAX], password[PASSWORD_MAX];
    int rc = value_or_prompt(ctx, a, "email", "Email: ", email, sizeof(email));
    if (rc == 0)
        rc = password_of(ctx, a, 0, password, sizeof(password));
    if (rc != 0)
        return rc;
    json_t *body = json_pack("{s:s, s:s}", "email", email, "password", password);
    sodium_memzero(password, sizeof(password));
    struct api_resp r;
    spinner_start("Logging in", ctx->tty_err);
    int cr = api_call(ctx, "POST", "/api/auth/login", body, 0, 0, &r);
    spinner_stop();
    json_decref(body);
    if (cr == 0 && r.status == 200)
        rc = logged_in(ctx, &r, "Logged in");
    else if (cr == 0 && r.status == 401)
        rc = cli_fail(ctx, "wrong email or password (`cloudya register` creates an account)");
    else
        rc = api_fail(ctx, &r, NULL);
    api_resp_free(&r);
    return rc;
}

static int cmd_logout(struct cli_ctx *ctx, const struct cli_args *a)
{
    char err[512], url[1024], stored[4096];
    if (cli_config_load(ctx->home, url, sizeof(url), stored, sizeof(stored), err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    if (ctx->token[0] == '\0') {
        if (ctx->json)
            cli_emit(json_pack("{s:b, s:b}", "loggedOut", 1, "wasLoggedIn", 0));
        else
            printf("not logged in\n");
        return 0;
    }
    struct api_resp r;
    int cr = api_call(ctx, "POST", "/api/auth/logout", NULL, 1, 10, &r);
    int revoked = cr == 0 && (r.status == 204 || r.status == 200);
    int invalid = cr == 0 && r.status == 401; /* expired or already ended: nothing to revoke */
    int rc = 0;
    if (stored[0] != '\0' && cli_config_set(ctx->home, "auth", "token", NULL, err, sizeof(err)) != 0)
        rc = cli_fail(ctx, "%s", err);
    if (rc == 0 && !revoked && !invalid) {
        if (cr != 0)
            rc = cli_fail(ctx, "the token was removed here, but the daemon could not be told "
                               "(%s): it stays valid until it expires",
                          r.err);
        else
            rc = api_fail(ctx, &r, NULL);
    }
    api_resp_free(&r);
    if (rc != 0)
        return rc;
    if (ctx->json)
        cli_emit(json_pack("{s:b, s:b}", "loggedOut", 1, "wasLoggedIn", 1));
    else
        printf("Logged out from %s\n", ctx->api_url);
    if (ctx->token_from_env)
        fprintf(stderr, "note: the token came from CLOUDYA_API_TOKEN, which is still set: unset it\n");
    return 0;
}

/* ---- info ----------------------------------------------------------------------------- */

/* The exp claim of a JWT, or 0 when it cannot be read (the daemon is the judge anyway). */
static int64_t token_expiry(const char *token)
{
    const char *p1 = strchr(token, '.');
    const char *p2 = p1 ? strchr(p1 + 1, '.') : NULL;
    if (p2 == NULL || p2 - p1 - 1 > 4000)
        return 0;
    unsigned char json[3100];
    int n = b64url_decode(p1 + 1, (size_t)(p2 - p1 - 1), json, sizeof(json) - 1);
    if (n <= 0)
        return 0;
    json_t *claims = json_loadb((const char *)json, (size_t)n, 0, NULL);
    json_t *exp = json_object_get(claims, "exp");
    int64_t t = json_is_integer(exp) ? (int64_t)json_integer_value(exp) : 0;
    json_decref(claims);
    return t;
}

static int cmd_info(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct api_resp me, health;
    spinner_start("Asking the daemon", ctx->tty_err);
    int cr = api_call(ctx, "GET", "/api/auth/me", NULL, 1, 0, &me);
    int hr = cr == 0 ? api_call(ctx, "GET", "/api/health", NULL, 0, 10, &health) : -1;
    spinner_stop();
    if (cr != 0 || me.status != 200) {
        int rc = api_fail(ctx, &me, NULL);
        api_resp_free(&me);
        if (hr == 0)
            api_resp_free(&health);
        return rc;
    }
    json_t *user = json_object_get(me.body, "user");
    json_t *client = json_object_get(me.body, "client");
    json_t *quota = json_object_get(client, "quota");
    json_t *usage = json_object_get(client, "usage");
    const char *version = hr == 0 ? json_string_value(json_object_get(health.body, "version")) : NULL;
    const char *status = hr == 0 ? json_string_value(json_object_get(health.body, "status")) : NULL;
    int64_t exp = token_expiry(ctx->token);
    if (ctx->json) {
        char when[TIME_RFC3339_LEN] = "";
        if (exp > 0)
            time_rfc3339(exp, when, sizeof(when));
        cli_emit(json_pack("{s:s, s:s?, s:s?, s:O, s:O, s:s?, s:s}", "apiUrl", ctx->api_url,
                           "daemonVersion", version, "daemonStatus", status, "user", user,
                           "client", client, "tokenExpiresAt", exp > 0 ? when : NULL,
                           "tokenSource", ctx->token_from_env ? "CLOUDYA_API_TOKEN" : "config.ini"));
    } else {
        char line[6][1200], expires[64] = "unknown";
        if (exp > 0)
            fmt_duration(exp - time_now(), expires, sizeof(expires));
        snprintf(line[0], sizeof(line[0]), "%s (cloudyad %s, %s)", ctx->api_url,
                 version ? version : "?", status ? status : "health unknown");
        snprintf(line[1], sizeof(line[1]), "%s <%s>, %s",
                 json_string_value(json_object_get(user, "name")) ?: "?",
                 json_string_value(json_object_get(user, "email")) ?: "?",
                 json_string_value(json_object_get(user, "role")) ?: "?");
        snprintf(line[2], sizeof(line[2]), "%s (%s), plan %s",
                 json_string_value(json_object_get(client, "name")) ?: "?",
                 json_string_value(json_object_get(client, "id")) ?: "?",
                 json_string_value(json_object_get(client, "plan")) ?: "?");
        snprintf(line[3], sizeof(line[3]), "%lld of %lld (%lld running)",
                 (long long)json_integer_value(json_object_get(usage, "containers")),
                 (long long)json_integer_value(json_object_get(quota, "containers")),
                 (long long)json_integer_value(json_object_get(usage, "running")));
        snprintf(line[4], sizeof(line[4]), "%lld of %lld MB memory, %.2f of %.2f CPUs",
                 (long long)json_integer_value(json_object_get(usage, "memoryMb")),
                 (long long)json_integer_value(json_object_get(quota, "memoryMb")),
                 json_number_value(json_object_get(usage, "cpus")),
                 json_number_value(json_object_get(quota, "cpus")));
        snprintf(line[5], sizeof(line[5]), "%s, expires in %s",
                 ctx->token_from_env ? "token from CLOUDYA_API_TOKEN" : "logged in", expires);
        static const char *const keys[] = {"API", "User", "Account", "Containers", "Quota", "Session"};
        for (int i = 0; i < 6; i++)
            printf("%s%-11s%s %s\n", color_on(ctx->color, C_BOLD), keys[i], color_off(ctx->color),
                   line[i]);
    }
    api_resp_free(&me);
    if (hr == 0)
        api_resp_free(&health);
    return 0;
}

/* ---- version, completion -------------------------------------------------------------- */

static int cmd_version(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (ctx != NULL && ctx->json)
        cli_emit(json_pack("{s:s}", "version", CLOUDYA_VERSION));
    else
        printf("cloudya %s\n", CLOUDYA_VERSION);
    return 0;
}

static int cmd_completion(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (strcmp(a->pos[0], "bash") != 0)
        return cli_usage_error(ctx, a->cmd, "only bash completion is generated, not \"%s\"",
                               a->pos[0]);
    cli_completion_bash(stdout);
    return 0;
}

static const struct cli_flag configure_flags[] = {
    {"api-url", 0, CLI_VALUE, "URL", "the daemon's address, e.g. http://localhost:5000", NULL},
    {0},
};
static const struct cli_flag register_flags[] = {
    {"email", 'e', CLI_VALUE, "EMAIL", "the account's email (asked when missing)", NULL},
    {"name", 'n', CLI_VALUE, "NAME", "your name (asked when missing)", NULL},
    {"password-stdin", 0, CLI_BOOL, NULL, "read the password from standard input", NULL},
    {0},
};
static const struct cli_flag login_flags[] = {
    {"email", 'e', CLI_VALUE, "EMAIL", "the account's email (asked when missing)", NULL},
    {"password-stdin", 0, CLI_BOOL, NULL, "read the password from standard input", NULL},
    {0},
};

const struct cli_command cli_account_commands[] = {
    {"configure", "Account", "", 0, 0, configure_flags, "set the daemon's API URL",
     "Keeps the URL in config.ini of the Cloudya folder (CLOUDYA_HOME, default ~/.cloudya) and "
     "checks that the daemon there answers.",
     "  cloudya configure --api-url http://localhost:5000", 0, 1, CLI_COMPLETE_NONE, NULL,
     cmd_configure},
    {"register", "Account", "", 0, 0, register_flags, "create an account and log in",
     "Asks for what the options do not give; the password is read without echo, twice.",
     "  cloudya register\n  echo \"$PW\" | cloudya register --email me@example.com --name Me "
     "--password-stdin",
     0, 1, CLI_COMPLETE_NONE, NULL, cmd_register},
    {"login", "Account", "", 0, 0, login_flags, "log in and keep the session token",
     "The token is kept in config.ini (mode 0600); CLOUDYA_API_TOKEN, when set, wins over it.",
     "  cloudya login\n  cloudya login --email me@example.com --password-stdin < pw.txt", 0, 1,
     CLI_COMPLETE_NONE, NULL, cmd_login},
    {"logout", "Account", "", 0, 0, NULL, "end the session: the daemon revokes the token",
     NULL, NULL, 0, 1, CLI_COMPLETE_NONE, NULL, cmd_logout},
    {"info", "Account", "", 0, 0, NULL, "who you are, your plan, quota and usage", NULL, NULL, 1,
     1, CLI_COMPLETE_NONE, NULL, cmd_info},
    {"version", "Account", "", 0, 0, NULL, "print the version", NULL, NULL, 0, 1,
     CLI_COMPLETE_NONE, NULL, cmd_version},
    {"completion", "Account", "<shell>", 1, 1, NULL, "print the shell completion script (bash)",
     "Generated from the command table.",
     "  source <(cloudya completion bash)", 0, 0, CLI_COMPLETE_WORDS, "bash", cmd_completion},
    {0},
};
