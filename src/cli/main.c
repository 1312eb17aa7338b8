/* cloudya: the command line of the Cloudya container cloud. main() finds the command in the
 * table (cli.h), parses its words, builds the context (the Cloudya folder, the API URL,
 * the token, how to print) and runs the handler. Exit status: 0 success, 1 a failed
 * operation, 2 a usage error. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

#include "cli.h"
#include "cli_config.h"
#include "params.h"
#include "str.h"
#include "term.h"

const struct cli_command *const cli_groups[] = {
    cli_account_commands,
    cli_container_commands,
    cli_top_commands,
    cli_assistant_commands,
    cli_connect_commands,
    cli_deploy_commands,
    cli_app_commands,
    cli_stack_commands,
    cli_monitor_commands,
    cli_diagnose_commands,
    NULL,
};

/* When word is the first word of two-word commands ("deploy", "diagnose"): says which
 * subcommands it takes (and which one sub looks like) and returns 2; else returns 0. */
static int group_word(const char *word, const char *sub)
{
    char list[1024] = "";
    const char *best = NULL;
    int bestd = 3;
    size_t wl = strlen(word), o = 0;
    for (int g = 0; cli_groups[g] != NULL; g++)
        for (const struct cli_command *c = cli_groups[g]; c->name != NULL; c++) {
            if (strncmp(c->name, word, wl) != 0 || c->name[wl] != ' ')
                continue;
            const char *second = c->name + wl + 1;
            int d = sub != NULL ? params_distance(sub, second) : 99;
            if (d < bestd) {
                bestd = d;
                best = second;
            }
            if (o + strlen(second) + 3 < sizeof(list))
                o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", second);
        }
    if (o == 0)
        return 0;
    if (sub == NULL || sub[0] == '-')
        fprintf(stderr, "cloudya: \"%s\" needs one of: %s\n", word, list);
    else
        fprintf(stderr, "cloudya: unknown command \"%s %.60s\"%s%s%s; \"%s\" takes: %s\n", word,
                sub, best ? " (did you mean \"" : "", best ? best : "", best ? "\"?)" : "", word,
                list);
    fprintf(stderr, "see `cloudya --help`\n");
    return 2;
}

static int unknown_command(const char *word, const char *sub)
{
    if (group_word(word, sub) != 0)
        return 2;
    const char *best = NULL;
    int bestd = 3;
    for (int g = 0; cli_groups[g] != NULL; g++)
        for (const struct cli_command *c = cli_groups[g]; c->name != NULL; c++) {
            int d = params_distance(word, c->name);
            if (d < bestd) {
                bestd = d;
                best = c->name;
            }
        }
    fprintf(stderr, "cloudya: unknown command \"%.60s\"", word);
    if (best != NULL)
        fprintf(stderr, "; did you mean \"%s\"?", best);
    fprintf(stderr, "\nsee `cloudya --help`\n");
    return 2;
}

/* 1 when w is a global flag that takes the next word as its value. */
static int global_takes_value(const char *w)
{
    return strcmp(w, "--output") == 0 || strcmp(w, "-o") == 0 || strcmp(w, "--api-url") == 0;
}

static int env_true(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
}

/* Fills ctx from the environment, config.ini and the global flags. Returns 0 or 1 after
 * printing why not. */
static int context_of(struct cli_ctx *ctx, const struct cli_args *a)
{
    char err[512], url[1024];
    memset(ctx, 0, sizeof(*ctx));
    ctx->tty_out = isatty(STDOUT_FILENO);
    ctx->tty_err = isatty(STDERR_FILENO);
    ctx->tty_in = isatty(STDIN_FILENO);
    const char *term = getenv("TERM");
    int colors = getenv("NO_COLOR") == NULL && !a->no_color &&
                 (term == NULL || strcmp(term, "dumb") != 0);
    ctx->color = colors && ctx->tty_out;
    ctx->color_err = colors && ctx->tty_err;
    ctx->debug = env_true("CLOUDYA_DEBUG");
    ctx->json = a->output != NULL && strcmp(a->output, "json") == 0;
    if (cli_config_home(ctx->home, sizeof(ctx->home), err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    if (cli_config_load(ctx->home, url, sizeof(url), ctx->token, sizeof(ctx->token), err,
                        sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    const char *env_token = getenv("CLOUDYA_API_TOKEN");
    if (env_token != NULL && env_token[0] != '\0') {
        if (str_copy(ctx->token, sizeof(ctx->token), env_token) != 0)
            return cli_fail(ctx, "CLOUDYA_API_TOKEN is too long to be a Cloudya token");
        ctx->token_from_env = 1;
    }
    const char *u = a->api_url != NULL ? a->api_url : url[0] != '\0' ? url : CLI_DEFAULT_API_URL;
    if (str_copy(ctx->api_url, sizeof(ctx->api_url), u) != 0)
        return cli_fail(ctx, "the API URL is too long");
    if (ctx->debug)
        fprintf(stderr, "cloudya %s: folder %s, API %s, token %s\n", CLOUDYA_VERSION, ctx->home,
                ctx->api_url,
                ctx->token[0] == '\0' ? "none" : ctx->token_from_env ? "from CLOUDYA_API_TOKEN"
                                                                      : "from config.ini");
    return 0;
}

int main(int argc, char **argv)
{
    term_init();
    if (sodium_init() < 0)
        return cli_fail(NULL, "libsodium cannot start");
    /* The command is the first word that is not a global flag or a global flag's value. */
    int at = 1;
    while (at < argc && argv[at][0] == '-' && argv[at][1] != '\0') {
        if (strcmp(argv[at], "--") == 0)
            break;
        at += global_takes_value(argv[at]) ? 2 : 1;
    }
    int words = 0;
    const struct cli_command *cmd = at < argc ? cli_find(argc - at, argv + at, &words) : NULL;
    if (cmd == NULL && at < argc && strcmp(argv[at], "--") != 0)
        return unknown_command(argv[at], at + 1 < argc ? argv[at + 1] : NULL);

    /* the command's words: the flags before its name, then everything after it */
    char *rest[argc > 0 ? argc : 1];
    int n = 0;
    for (int i = 1; i < at && i < argc; i++)
        rest[n++] = argv[i];
    for (int i = at + words; i < argc; i++)
        rest[n++] = argv[i];
    struct cli_args a;
    char err[512];
    struct cli_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.color_err = isatty(STDERR_FILENO) && getenv("NO_COLOR") == NULL;
    if (cli_parse(cmd, n, rest, &a, err, sizeof(err)) != 0)
        return cli_usage_error(&ctx, cmd, "%s", err);
    if (cmd == NULL) {
        if (a.version) {
            printf("cloudya %s\n", CLOUDYA_VERSION);
            return 0;
        }
        if (a.help) {
            cli_help_all(stdout);
            return 0;
        }
        cli_help_all(stderr);
        return 2;
    }
    if (a.help) {
        cli_help_command(stdout, cmd);
        return 0;
    }
    if (a.version) {
        printf("cloudya %s\n", CLOUDYA_VERSION);
        return 0;
    }
    if (context_of(&ctx, &a) != 0)
        return 1;
    if (cmd->needs_login && ctx.token[0] == '\0')
        return cli_fail(&ctx, "not logged in: run `cloudya login` (or `cloudya register` for a "
                              "new account)");
    int rc = cmd->run(&ctx, &a);
    if (fflush(stdout) != 0 && rc == 0 && errno != EPIPE)
        rc = cli_fail(&ctx, "cannot write the output: %s", strerror(errno));
    return rc;
}
