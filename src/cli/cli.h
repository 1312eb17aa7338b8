/* The command table of `cloudya`: every command is one declarative entry (name, arguments,
 * flags, usage, whether it needs a login, handler). The help pages, the argument parser and
 * the bash completion script are all generated from these entries, so a command exists in
 * exactly one place. Each command group lives in its own file (cmd_account.c, ...). */
#ifndef CLOUDYA_CLI_H
#define CLOUDYA_CLI_H
#include <stddef.h>
#include <stdio.h>

#define CLOUDYA_VERSION "0.1.0"

#define CLI_MAX_FLAGS 16  /* flags of one command (global flags not counted) */
#define CLI_MAX_POS 8     /* positional arguments of one command */
#define CLI_MAX_VALUES 64 /* values of one repeatable flag (--env K=V ...) */

enum cli_flag_kind {
    CLI_BOOL,  /* --follow, -f: present or not */
    CLI_VALUE, /* --tail N, --tail=N: the last one given wins */
    CLI_LIST,  /* --env K=V, repeatable: every value is kept, in order */
};

struct cli_flag {
    const char *name;  /* the long name without dashes: "tail" */
    char short_name;   /* 'f', or 0 */
    enum cli_flag_kind kind;
    const char *metavar; /* "N", "K=V" (CLI_VALUE and CLI_LIST) */
    const char *help;
    const char *complete; /* for completion: NULL, or a space-separated word list */
};

struct cli_ctx;
struct cli_args;

/* How a positional argument is completed by the bash completion script. */
enum cli_complete {
    CLI_COMPLETE_NONE,
    CLI_COMPLETE_CONTAINER, /* the names of the caller's containers */
    CLI_COMPLETE_SERVICE,   /* the catalog's service types */
    CLI_COMPLETE_WORDS,     /* the words of cli_command.words */
    CLI_COMPLETE_FILE,
};

struct cli_command {
    const char *name;  /* "logs"; a two-word command is written "tokens info" */
    const char *group; /* the heading it is listed under in `cloudya --help` */
    const char *args;  /* the positional part of the usage line: "<id>", "[<request>]" */
    int min_pos, max_pos;
    const struct cli_flag *flags; /* ends with an entry whose name is NULL; may be NULL */
    const char *summary;          /* one line for the command list */
    const char *help;             /* a paragraph for `cloudya <command> --help`, or NULL */
    const char *examples;         /* lines of examples, or NULL */
    int needs_login;              /* 1: refuses to run without a token, before any request */
    int prints_data;              /* 1: honours --output json */
    enum cli_complete complete;   /* how its positional arguments complete */
    const char *words;            /* for CLI_COMPLETE_WORDS */
    int (*run)(struct cli_ctx *ctx, const struct cli_args *a);
};

/* The parsed command line of one command. Values point into argv. */
struct cli_args {
    const char *pos[CLI_MAX_POS];
    int npos;
    int count[CLI_MAX_FLAGS]; /* how many times each flag of the command was given */
    const char *value[CLI_MAX_FLAGS]; /* CLI_VALUE: the last value */
    const char *list[CLI_MAX_FLAGS][CLI_MAX_VALUES]; /* CLI_LIST: every value */
    /* global flags, accepted before or after the command */
    int help;
    int version;
    const char *output; /* "json" | "table" | NULL */
    const char *api_url;
    int no_color;
    const struct cli_command *cmd; /* the command these flags belong to */
};

/* Everything a command handler needs besides its arguments: where the daemon is, the
 * token, and how to print. Filled by main.c before a handler runs. */
struct cli_ctx {
    char home[1024];       /* CLOUDYA_HOME or ~/.cloudya */
    char api_url[1024];    /* --api-url, else config.ini's [api] url, else the default */
    char token[4096];      /* CLOUDYA_API_TOKEN, else config.ini's [auth] token; "" = none */
    int token_from_env;    /* the token came from CLOUDYA_API_TOKEN */
    int json;              /* --output json */
    int color;             /* colour on standard output (a terminal and no NO_COLOR) */
    int color_err;         /* colour on standard error */
    int tty_out, tty_err, tty_in;
    int debug;             /* CLOUDYA_DEBUG=1 */
};

#define CLI_DEFAULT_API_URL "http://localhost:5000"

/* The command groups; each array ends with an entry whose name is NULL. */
extern const struct cli_command cli_account_commands[];
extern const struct cli_command cli_container_commands[];
extern const struct cli_command cli_top_commands[];
extern const struct cli_command cli_assistant_commands[];
extern const struct cli_command cli_connect_commands[];
extern const struct cli_command cli_deploy_commands[];
extern const struct cli_command cli_app_commands[];
extern const struct cli_command cli_stack_commands[];
extern const struct cli_command cli_monitor_commands[];
extern const struct cli_command cli_diagnose_commands[];

/* Every group in the order `cloudya --help` lists them, ending with NULL. */
extern const struct cli_command *const cli_groups[];

/* Finds the command named by argv[0] (and argv[1] for a two-word command) and says how
 * many words its name used in *words. Returns NULL when there is none. */
const struct cli_command *cli_find(int argc, char **argv, int *words);

/* Parses argv (the words after the command's name) against cmd's flags and the global
 * flags. Returns 0, or -EINVAL with a sentence in err naming the bad word (unknown flag,
 * missing value, too many or too few arguments). With --help the positional counts are not
 * checked. Never allocates. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *a,
              char *err, size_t errlen);

/* The index of flag `name` in cmd->flags, or -1. */
int cli_flag_index(const struct cli_command *cmd, const char *name);
/* The value of a CLI_VALUE flag (NULL when not given), or whether a CLI_BOOL flag was. */
const char *cli_value(const struct cli_args *a, const char *name);
int cli_has(const struct cli_args *a, const char *name);
/* The values of a CLI_LIST flag; returns how many. */
int cli_list(const struct cli_args *a, const char *name, const char *const **values);

/* Prints the whole command list (cloudya --help) or one command's page. */
void cli_help_all(FILE *f);
void cli_help_command(FILE *f, const struct cli_command *cmd);
/* Prints the bash completion script generated from the table. */
void cli_completion_bash(FILE *f);

/* Prints "cloudya: <message>" on standard error (in red on a terminal) and returns 1, the
 * exit status of a failed operation, so handlers can `return cli_fail(...)`. */
int cli_fail(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same for a usage error: adds "see cloudya <command> --help" and returns 2. */
int cli_usage_error(struct cli_ctx *ctx, const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints v (a new reference, which this consumes) as indented JSON on standard output.
 * Returns 0, or 1 when v is NULL (a json_pack that failed). */
struct json_t;
int cli_emit(struct json_t *v);

#endif
