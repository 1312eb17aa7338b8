/* The argument parser of `cloudya`, driven by the command table (cli.h). It never
 * allocates and only points into argv, so it is cheap to fuzz (fuzz/fuzz_cli_args.c). */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "str.h"

const struct cli_command *cli_find(int argc, char **argv, int *words)
{
    if (argc < 1 || argv[0] == NULL)
        return NULL;
    /* a two-word name ("tokens info") wins over a one-word one */
    for (int g = 0; cli_groups[g] != NULL; g++) {
        for (const struct cli_command *c = cli_groups[g]; c->name != NULL; c++) {
            const char *sp = strchr(c->name, ' ');
            if (sp == NULL || argc < 2 || argv[1] == NULL)
                continue;
            size_t n = (size_t)(sp - c->name);
            if (strlen(argv[0]) == n && strncmp(argv[0], c->name, n) == 0 &&
                strcmp(argv[1], sp + 1) == 0) {
                *words = 2;
                return c;
            }
        }
    }
    for (int g = 0; cli_groups[g] != NULL; g++) {
        for (const struct cli_command *c = cli_groups[g]; c->name != NULL; c++) {
            if (strcmp(argv[0], c->name) == 0) {
                *words = 1;
                return c;
            }
        }
    }
    return NULL;
}

int cli_flag_index(const struct cli_command *cmd, const char *name)
{
    if (cmd == NULL || cmd->flags == NULL)
        return -1;
    for (int i = 0; i < CLI_MAX_FLAGS && cmd->flags[i].name != NULL; i++)
        if (strcmp(cmd->flags[i].name, name) == 0)
            return i;
    return -1;
}

const char *cli_value(const struct cli_args *a, const char *name)
{
    int i = cli_flag_index(a->cmd, name);
    return i < 0 ? NULL : a->value[i];
}

int cli_has(const struct cli_args *a, const char *name)
{
    int i = cli_flag_index(a->cmd, name);
    return i < 0 ? 0 : a->count[i] > 0;
}

int cli_list(const struct cli_args *a, const char *name, const char *const **values)
{
    int i = cli_flag_index(a->cmd, name);
    if (i < 0) {
        *values = NULL;
        return 0;
    }
    *values = a->list[i];
    return a->count[i];
}

/* The global flags every command accepts, handled here so that they may come before or
 * after the command's own words. */
enum { G_HELP, G_OUTPUT, G_API_URL, G_NO_COLOR, G_VERSION, G_COUNT };
static const struct cli_flag global_flags[] = {
    [G_HELP] = {"help", 'h', CLI_BOOL, NULL, "show this help", NULL},
    [G_OUTPUT] = {"output", 'o', CLI_VALUE, "FORMAT", "table (the default) or json", "table json"},
    [G_API_URL] = {"api-url", 0, CLI_VALUE, "URL", "the daemon to talk to, for this command only", NULL},
    [G_NO_COLOR] = {"no-color", 0, CLI_BOOL, NULL, "no colour (as NO_COLOR=1)", NULL},
    [G_VERSION] = {"version", 0, CLI_BOOL, NULL, "print the version", NULL},
};

const struct cli_flag *cli_global_flags(int *n);
/* The global flags, for the help and completion generators. */
const struct cli_flag *cli_global_flags(int *n)
{
    *n = G_COUNT;
    return global_flags;
}

/* Looks a long name (len bytes) up: sets *global when it is a global flag. Returns the
 * index, or -1. */
static int find_long(const struct cli_command *cmd, const char *name, size_t len, int *global)
{
    *global = 0;
    if (cmd != NULL && cmd->flags != NULL)
        for (int i = 0; i < CLI_MAX_FLAGS && cmd->flags[i].name != NULL; i++)
            if (strlen(cmd->flags[i].name) == len && strncmp(cmd->flags[i].name, name, len) == 0)
                return i;
    for (int i = 0; i < G_COUNT; i++)
        if (strlen(global_flags[i].name) == len && strncmp(global_flags[i].name, name, len) == 0) {
            *global = 1;
            return i;
        }
    return -1;
}

static int find_short(const struct cli_command *cmd, char c, int *global)
{
    *global = 0;
    if (cmd != NULL && cmd->flags != NULL)
        for (int i = 0; i < CLI_MAX_FLAGS && cmd->flags[i].name != NULL; i++)
            if (cmd->flags[i].short_name == c)
                return i;
    for (int i = 0; i < G_COUNT; i++)
        if (global_flags[i].short_name == c) {
            *global = 1;
            return i;
        }
    return -1;
}

/* Stores one occurrence of a flag. Returns 0 or -EINVAL with err filled. */
static int store(const struct cli_command *cmd, struct cli_args *a, int idx, int global,
                 const char *value, char *err, size_t errlen)
{
    if (global) {
        switch (idx) {
        case G_HELP: a->help = 1; break;
        case G_VERSION: a->version = 1; break;
        case G_NO_COLOR: a->no_color = 1; break;
        case G_API_URL: a->api_url = value; break;
        case G_OUTPUT:
            if (strcmp(value, "json") != 0 && strcmp(value, "table") != 0) {
                str_fmt(err, errlen, "--output takes \"table\" or \"json\", not \"%.40s\"", value);
                return -EINVAL;
            }
            a->output = value;
            break;
        }
        return 0;
    }
    const struct cli_flag *f = &cmd->flags[idx];
    if (f->kind == CLI_LIST) {
        if (a->count[idx] >= CLI_MAX_VALUES) {
            str_fmt(err, errlen, "--%s is given more than %d times", f->name, CLI_MAX_VALUES);
            return -EINVAL;
        }
        a->list[idx][a->count[idx]] = value;
    } else if (f->kind == CLI_VALUE) {
        a->value[idx] = value;
    }
    if (a->count[idx] < CLI_MAX_VALUES)
        a->count[idx]++;
    return 0;
}

static enum cli_flag_kind kind_of(const struct cli_command *cmd, int idx, int global)
{
    return global ? global_flags[idx].kind : cmd->flags[idx].kind;
}

static const char *name_of(const struct cli_command *cmd, int idx, int global)
{
    return global ? global_flags[idx].name : cmd->flags[idx].name;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *a,
              char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    const char *cmdname = cmd != NULL ? cmd->name : "";
    int only_pos = 0;
    const char *extra = NULL; /* the first positional word beyond the command's maximum */
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (w == NULL)
            break;
        if (only_pos || w[0] != '-' || w[1] == '\0') {
            if (a->npos >= CLI_MAX_POS || cmd == NULL || a->npos >= cmd->max_pos) {
                if (extra == NULL)
                    extra = w; /* reported after the loop, unless --help comes later */
                continue;
            }
            a->pos[a->npos++] = w;
            continue;
        }
        if (strcmp(w, "--") == 0) {
            only_pos = 1;
            continue;
        }
        int global, idx;
        if (w[1] == '-') { /* --name, --name=value */
            const char *name = w + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            idx = find_long(cmd, name, len, &global);
            if (idx < 0) {
                str_fmt(err, errlen, "unknown option --%.*s%s%s", (int)(len > 60 ? 60 : len), name,
                        cmd != NULL ? " for cloudya " : "", cmdname);
                return -EINVAL;
            }
            const char *value = NULL;
            if (kind_of(cmd, idx, global) == CLI_BOOL) {
                if (eq != NULL) {
                    str_fmt(err, errlen, "--%s takes no value", name_of(cmd, idx, global));
                    return -EINVAL;
                }
            } else if (eq != NULL) {
                value = eq + 1;
            } else if (i + 1 < argc && argv[i + 1] != NULL) {
                value = argv[++i];
            } else {
                str_fmt(err, errlen, "--%s needs a value", name_of(cmd, idx, global));
                return -EINVAL;
            }
            if (store(cmd, a, idx, global, value, err, errlen) != 0)
                return -EINVAL;
            continue;
        }
        /* -x, -xyz (bools), -tVALUE or -t VALUE */
        for (const char *p = w + 1; *p != '\0'; p++) {
            idx = find_short(cmd, *p, &global);
            if (idx < 0) {
                if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f)
                    str_fmt(err, errlen, "unknown option -%c%s%s", *p,
                            cmd != NULL ? " for cloudya " : "", cmdname);
                else
                    str_fmt(err, errlen, "unknown option \"%.20s\"", w);
                return -EINVAL;
            }
            if (kind_of(cmd, idx, global) == CLI_BOOL) {
                if (store(cmd, a, idx, global, NULL, err, errlen) != 0)
                    return -EINVAL;
                continue;
            }
            const char *value;
            if (p[1] != '\0')
                value = p + 1;
            else if (i + 1 < argc && argv[i + 1] != NULL)
                value = argv[++i];
            else {
                str_fmt(err, errlen, "-%c (--%s) needs a value", *p, name_of(cmd, idx, global));
                return -EINVAL;
            }
            if (store(cmd, a, idx, global, value, err, errlen) != 0)
                return -EINVAL;
            break;
        }
    }
    if (extra != NULL && !a->help) {
        const char *w = extra;
        if (cmd == NULL)
            str_fmt(err, errlen, "unexpected argument \"%.60s\"", w);
        else if (cmd->args != NULL && cmd->args[0] != '\0')
            str_fmt(err, errlen, "unexpected argument \"%.60s\" (cloudya %s takes %s)", w,
                    cmdname, cmd->args);
        else
            str_fmt(err, errlen, "unexpected argument \"%.60s\" (cloudya %s takes no arguments)",
                    w, cmdname);
        return -EINVAL;
    }
    if (cmd != NULL && !a->help && !a->version && a->npos < cmd->min_pos) {
        str_fmt(err, errlen, "cloudya %s needs %s", cmdname,
                cmd->args && cmd->args[0] ? cmd->args : "more arguments");
        return -EINVAL;
    }
    return 0;
}
