/* Unit tests for src/cli/args.c, the argument parser of `cloudya`, against a small command
 * table defined here: command lookup (one- and two-word names), long and short flags in
 * every spelling (--x y, --x=y, -x y, -xy, combined bools, a bool then a value), "--" and a
 * lone "-", the global flags before and after positional words, bad --output values,
 * unknown options, missing values, too many and too few positional arguments, --help
 * lifting the count checks, the 64-value limit of list flags, values given to bools, and
 * empty or cut-short argument vectors. Error sentences are checked for their key words. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* ---- the command table of these tests --------------------------------------------- */

static const struct cli_flag logs_flags[] = {
    {"follow", 'f', CLI_BOOL, NULL, "keep printing new lines", NULL},
    {"tail", 't', CLI_VALUE, "N", "the last N lines", NULL},
    {"stderr", 'e', CLI_BOOL, NULL, "standard error only", NULL},
    {"timestamps", 0, CLI_BOOL, NULL, "prefix each line with its time", NULL},
    {NULL, 0, CLI_BOOL, NULL, NULL, NULL},
};

static const struct cli_flag create_flags[] = {
    {"env", 'e', CLI_LIST, "K=V", "an environment variable (repeatable)", NULL},
    {"name", 'n', CLI_VALUE, "NAME", "the container's name", NULL},
    {"detach", 'd', CLI_BOOL, NULL, "do not wait", NULL},
    {NULL, 0, CLI_BOOL, NULL, NULL, NULL},
};

static const struct cli_command group_containers[] = {
    {.name = "logs", .group = "Containers", .args = "<id>", .min_pos = 1, .max_pos = 1,
     .flags = logs_flags, .summary = "print a container's output"},
    {.name = "create", .group = "Containers", .args = "<service> [<command>...]", .min_pos = 1,
     .max_pos = 3, .flags = create_flags, .summary = "create a container"},
    {.name = "ps", .group = "Containers", .args = NULL, .min_pos = 0, .max_pos = 0,
     .flags = NULL, .summary = "list containers"},
    {.name = NULL},
};

/* The one-word "tokens" comes first, so the two-word lookup must not depend on order. */
static const struct cli_command group_account[] = {
    {.name = "tokens", .group = "Account", .args = "", .min_pos = 0, .max_pos = 0,
     .summary = "list API tokens"},
    {.name = "tokens info", .group = "Account", .args = "<id>", .min_pos = 1, .max_pos = 1,
     .summary = "show one token"},
    {.name = NULL},
};

const struct cli_command *const cli_groups[] = {group_containers, group_account, NULL};

#define LOGS (&group_containers[0])
#define CREATE (&group_containers[1])
#define PS (&group_containers[2])
#define TOKENS (&group_account[0])
#define TOKENS_INFO (&group_account[1])

/* ---- helpers ----------------------------------------------------------------------- */

static struct cli_args args;
static char err[256];

/* Parses the NULL-terminated words against cmd; argc is counted from them. */
static int parse_v(const struct cli_command *cmd, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    memset(err, 0, sizeof(err));
    return cli_parse(cmd, argc, argv, &args, err, sizeof(err));
}

#define PARSE(cmd, ...) parse_v((cmd), (char *[]){__VA_ARGS__, NULL})

/* Asserts that the last parse failed with a sentence holding every one of the words. */
static void expect_error(int rc, const char *w1, const char *w2)
{
    assert_int_equal(rc, -EINVAL);
    assert_true(err[0] != '\0');
    if (w1 != NULL && strstr(err, w1) == NULL)
        fail_msg("\"%s\" is not in \"%s\"", w1, err);
    if (w2 != NULL && strstr(err, w2) == NULL)
        fail_msg("\"%s\" is not in \"%s\"", w2, err);
}

/* ---- lookup ------------------------------------------------------------------------ */

static void test_find(void **state)
{
    (void)state;
    int words = -1;
    assert_null(cli_find(0, NULL, &words));
    assert_int_equal(words, -1);
    assert_true(cli_find(1, (char *[]){"logs", NULL}, &words) == LOGS);
    assert_int_equal(words, 1);
    assert_true(cli_find(3, (char *[]){"tokens", "info", "tk1", NULL}, &words) == TOKENS_INFO);
    assert_int_equal(words, 2);
    assert_true(cli_find(1, (char *[]){"tokens", NULL}, &words) == TOKENS);
    assert_int_equal(words, 1);
    /* a second word that names no sub-command is the one-word command's argument */
    assert_true(cli_find(2, (char *[]){"tokens", "list", NULL}, &words) == TOKENS);
    assert_int_equal(words, 1);
    /* argc bounds what is read: "info" beyond argc is not looked at */
    assert_true(cli_find(1, (char *[]){"tokens", "info", NULL}, &words) == TOKENS);
    assert_int_equal(words, 1);
    words = -1;
    assert_null(cli_find(1, (char *[]){"tok", NULL}, &words));
    assert_null(cli_find(1, (char *[]){"info", NULL}, &words));
    assert_null(cli_find(1, (char *[]){"LOGS", NULL}, &words));
    assert_null(cli_find(1, (char *[]){"", NULL}, &words));
    assert_null(cli_find(2, (char *[]){"tokensinfo", "", NULL}, &words));
    assert_null(cli_find(2, (char *[]){"tokens ", "info", NULL}, &words));
    assert_null(cli_find(1, (char *[]){NULL}, &words));
    assert_int_equal(words, -1);
}

/* ---- flags ------------------------------------------------------------------------- */

static void test_long_flags(void **state)
{
    (void)state;
    char *argv[] = {"--follow", "--tail", "50", "web", NULL};
    assert_int_equal(parse_v(LOGS, argv), 0);
    assert_true(args.cmd == LOGS);
    assert_int_equal(args.npos, 1);
    assert_true(args.pos[0] == argv[3]); /* values point into argv */
    assert_true(cli_has(&args, "follow"));
    assert_false(cli_has(&args, "stderr"));
    assert_false(cli_has(&args, "timestamps"));
    assert_true(cli_value(&args, "tail") == argv[2]);
    assert_int_equal(args.count[cli_flag_index(LOGS, "tail")], 1);

    assert_int_equal(PARSE(LOGS, "web", "--tail=5", "--timestamps"), 0);
    assert_string_equal(cli_value(&args, "tail"), "5");
    assert_true(cli_has(&args, "timestamps"));
    assert_false(cli_has(&args, "follow"));
    /* only the first '=' splits */
    assert_int_equal(PARSE(LOGS, "web", "--tail=a=b"), 0);
    assert_string_equal(cli_value(&args, "tail"), "a=b");
    /* an empty value is a value */
    assert_int_equal(PARSE(LOGS, "web", "--tail="), 0);
    assert_string_equal(cli_value(&args, "tail"), "");
    /* the last value wins; every occurrence is counted */
    assert_int_equal(PARSE(LOGS, "--tail", "1", "web", "--tail", "2"), 0);
    assert_string_equal(cli_value(&args, "tail"), "2");
    assert_int_equal(args.count[cli_flag_index(LOGS, "tail")], 2);
    /* the word after a value flag is its value, even when it starts with a dash */
    assert_int_equal(PARSE(LOGS, "web", "--tail", "-5"), 0);
    assert_string_equal(cli_value(&args, "tail"), "-5");
    assert_int_equal(args.npos, 1);
}

static void test_short_flags(void **state)
{
    (void)state;
    assert_int_equal(PARSE(LOGS, "-f", "-t", "5", "web"), 0);
    assert_true(cli_has(&args, "follow"));
    assert_string_equal(cli_value(&args, "tail"), "5");
    assert_string_equal(args.pos[0], "web");

    assert_int_equal(PARSE(LOGS, "web", "-t5"), 0);
    assert_string_equal(cli_value(&args, "tail"), "5");
    assert_false(cli_has(&args, "follow"));

    /* combined bools */
    assert_int_equal(PARSE(LOGS, "-fe", "web"), 0);
    assert_true(cli_has(&args, "follow"));
    assert_true(cli_has(&args, "stderr"));
    assert_null(cli_value(&args, "tail"));

    /* bools then a value flag: the rest of the word is the value */
    assert_int_equal(PARSE(LOGS, "-fet10", "web"), 0);
    assert_true(cli_has(&args, "follow"));
    assert_true(cli_has(&args, "stderr"));
    assert_string_equal(cli_value(&args, "tail"), "10");
    /* ... or the next word when the value flag ends the word */
    assert_int_equal(PARSE(LOGS, "-ft", "7", "web"), 0);
    assert_string_equal(cli_value(&args, "tail"), "7");
    assert_string_equal(args.pos[0], "web");
    /* after a value flag the letters are its value, not more flags */
    assert_int_equal(PARSE(LOGS, "-tfe", "web"), 0);
    assert_string_equal(cli_value(&args, "tail"), "fe");
    assert_false(cli_has(&args, "follow"));

    /* the same short letter means different flags in different commands */
    assert_int_equal(PARSE(CREATE, "svc", "-e", "A=1", "-eB=2", "-n", "db", "-d"), 0);
    const char *const *v;
    assert_int_equal(cli_list(&args, "env", &v), 2);
    assert_string_equal(v[0], "A=1");
    assert_string_equal(v[1], "B=2");
    assert_string_equal(cli_value(&args, "name"), "db");
    assert_true(cli_has(&args, "detach"));
}

static void test_double_dash_and_lone_dash(void **state)
{
    (void)state;
    assert_int_equal(PARSE(LOGS, "--", "-f"), 0);
    assert_int_equal(args.npos, 1);
    assert_string_equal(args.pos[0], "-f");
    assert_false(cli_has(&args, "follow"));

    assert_int_equal(PARSE(CREATE, "svc", "--", "--name", "x"), 0);
    assert_int_equal(args.npos, 3);
    assert_string_equal(args.pos[1], "--name");
    assert_string_equal(args.pos[2], "x");
    assert_null(cli_value(&args, "name"));
    /* flags before "--" still count; a second "--" is a positional word */
    assert_int_equal(PARSE(CREATE, "-n", "db", "--", "svc", "--"), 0);
    assert_string_equal(cli_value(&args, "name"), "db");
    assert_int_equal(args.npos, 2);
    assert_string_equal(args.pos[1], "--");
    /* "--help" after "--" is a word, not help: the counts are checked */
    assert_int_equal(PARSE(LOGS, "--", "--help"), 0);
    assert_false(args.help);
    assert_string_equal(args.pos[0], "--help");
    expect_error(PARSE(LOGS, "web", "--", "--help"), "unexpected argument \"--help\"", NULL);
    assert_int_equal(PARSE(LOGS, "web", "--"), 0);
    assert_int_equal(args.npos, 1);

    /* a lone "-" (standard input) is a positional word */
    assert_int_equal(PARSE(LOGS, "-"), 0);
    assert_int_equal(args.npos, 1);
    assert_string_equal(args.pos[0], "-");
    assert_int_equal(PARSE(CREATE, "svc", "-", "-e", "K=V"), 0);
    assert_string_equal(args.pos[1], "-");
}

/* ---- global flags ------------------------------------------------------------------ */

static void test_global_flags(void **state)
{
    (void)state;
    assert_int_equal(PARSE(LOGS, "--output", "json", "web"), 0);
    assert_string_equal(args.output, "json");
    assert_string_equal(args.pos[0], "web");
    assert_int_equal(PARSE(LOGS, "web", "--output", "json"), 0);
    assert_string_equal(args.output, "json");
    assert_int_equal(PARSE(LOGS, "-o", "table", "web"), 0);
    assert_string_equal(args.output, "table");
    assert_int_equal(PARSE(LOGS, "web", "-ojson"), 0);
    assert_string_equal(args.output, "json");
    assert_int_equal(PARSE(LOGS, "web", "--output=table", "--output=json"), 0);
    assert_string_equal(args.output, "json");
    /* global bools combine with the command's */
    assert_int_equal(PARSE(LOGS, "-fh"), 0);
    assert_true(args.help);
    assert_true(cli_has(&args, "follow"));

    assert_int_equal(PARSE(LOGS, "--api-url", "http://h:5000", "web", "--no-color"), 0);
    assert_string_equal(args.api_url, "http://h:5000");
    assert_true(args.no_color);
    assert_false(args.help);
    assert_null(args.output);
    assert_int_equal(PARSE(LOGS, "web", "--api-url=http://x"), 0);
    assert_string_equal(args.api_url, "http://x");

    assert_int_equal(PARSE(PS, "--help"), 0);
    assert_true(args.help);
    assert_int_equal(PARSE(PS, "-h"), 0);
    assert_true(args.help);
    assert_int_equal(PARSE(PS, "--version"), 0);
    assert_true(args.version);
    /* global flags do not show as the command's flags */
    assert_int_equal(cli_flag_index(LOGS, "output"), -1);
    assert_int_equal(cli_flag_index(PS, "help"), -1);
    /* a command with no flags of its own still takes the global ones */
    assert_int_equal(PARSE(TOKENS_INFO, "tk1", "-o", "json", "--no-color"), 0);
    assert_string_equal(args.output, "json");
    assert_true(args.no_color);
}

static void test_bad_output(void **state)
{
    (void)state;
    expect_error(PARSE(LOGS, "web", "--output", "yaml"), "--output", "\"yaml\"");
    assert_non_null(strstr(err, "json"));
    assert_non_null(strstr(err, "table"));
    expect_error(PARSE(LOGS, "web", "-oJSON"), "--output", "JSON");
    expect_error(PARSE(LOGS, "web", "--output="), "--output", NULL);
    /* a long bad value is cut in the sentence, which still ends properly */
    char lng[300];
    memset(lng, 'x', sizeof(lng) - 1);
    lng[sizeof(lng) - 1] = '\0';
    expect_error(PARSE(LOGS, "-o", lng), "--output", "xxxx");
    assert_true(strlen(err) < 120);
}

/* ---- errors ------------------------------------------------------------------------ */

static void test_unknown_options(void **state)
{
    (void)state;
    expect_error(PARSE(LOGS, "web", "--bogus"), "unknown option --bogus", "cloudya logs");
    expect_error(PARSE(LOGS, "--bogus=1", "web"), "--bogus", "cloudya logs");
    assert_null(strstr(err, "=1")); /* the option is named without its value */
    expect_error(PARSE(LOGS, "web", "-x"), "unknown option -x", "cloudya logs");
    expect_error(PARSE(LOGS, "web", "-fx"), "-x", "cloudya logs");
    expect_error(PARSE(TOKENS_INFO, "tk1", "--all"), "--all", "cloudya tokens info");
    /* flags of another command are unknown here */
    expect_error(PARSE(LOGS, "web", "--env", "A=1"), "--env", "cloudya logs");
    expect_error(PARSE(PS, "-d"), "-d", "cloudya ps");
    /* a prefix is not an abbreviation */
    expect_error(PARSE(LOGS, "web", "--foll"), "--foll", NULL);
    expect_error(PARSE(LOGS, "web", "--followx"), "--followx", NULL);
    /* "---x" and "--=x" are unknown options, not crashes */
    expect_error(PARSE(LOGS, "web", "---x"), "unknown option", NULL);
    expect_error(PARSE(LOGS, "web", "--=x"), "unknown option", NULL);
    /* a control character after the dash is still an unknown option */
    expect_error(PARSE(LOGS, "web", "-\x01"), "unknown option", NULL);
    /* a very long name is cut in the sentence */
    char lng[300] = "--";
    memset(lng + 2, 'y', sizeof(lng) - 3);
    lng[sizeof(lng) - 1] = '\0';
    expect_error(parse_v(LOGS, (char *[]){"web", lng, NULL}), "--yyyy", "cloudya logs");
    assert_true(strlen(err) < 120);
    /* a small error buffer holds a cut, terminated sentence; none at all is fine */
    char small[12];
    memset(small, 'z', sizeof(small));
    assert_int_equal(cli_parse(LOGS, 2, (char *[]){"web", "--bogus", NULL}, &args, small,
                               sizeof(small)),
                     -EINVAL);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(cli_parse(LOGS, 2, (char *[]){"web", "--bogus", NULL}, &args, NULL, 0),
                     -EINVAL);
}

static void test_missing_values(void **state)
{
    (void)state;
    expect_error(PARSE(LOGS, "web", "--tail"), "--tail", "needs a value");
    expect_error(PARSE(LOGS, "web", "-t"), "-t (--tail)", "needs a value");
    expect_error(PARSE(LOGS, "web", "-ft"), "-t (--tail)", "needs a value");
    expect_error(PARSE(LOGS, "web", "--output"), "--output", "needs a value");
    expect_error(PARSE(LOGS, "web", "-o"), "-o (--output)", "needs a value");
    expect_error(PARSE(LOGS, "web", "--api-url"), "--api-url", "needs a value");
    expect_error(PARSE(CREATE, "svc", "--env"), "--env", "needs a value");
    expect_error(PARSE(CREATE, "svc", "-e"), "-e (--env)", "needs a value");
}

static void test_positional_counts(void **state)
{
    (void)state;
    expect_error(PARSE(LOGS, "web", "db"), "unexpected argument \"db\"", "cloudya logs takes <id>");
    expect_error(PARSE(PS, "extra"), "unexpected argument \"extra\"", "takes no arguments");
    expect_error(PARSE(TOKENS, "x"), "\"x\"", "cloudya tokens takes no arguments");
    expect_error(PARSE(CREATE, "a", "b", "c", "d"), "\"d\"", "<service> [<command>...]");
    assert_int_equal(PARSE(CREATE, "a", "b", "c"), 0);
    assert_int_equal(args.npos, 3);

    expect_error(PARSE(LOGS, "-f"), "cloudya logs needs <id>", NULL);
    expect_error(PARSE(CREATE, "--name", "x"), "cloudya create needs <service>", NULL);
    expect_error(PARSE(TOKENS_INFO, "-o", "json"), "cloudya tokens info needs <id>", NULL);
    /* an empty word is an argument */
    assert_int_equal(PARSE(LOGS, ""), 0);
    assert_int_equal(args.npos, 1);
    assert_string_equal(args.pos[0], "");
}

static void test_help_skips_counts(void **state)
{
    (void)state;
    /* too few */
    assert_int_equal(PARSE(LOGS, "--help"), 0);
    assert_true(args.help);
    assert_int_equal(PARSE(CREATE, "-h"), 0);
    assert_int_equal(PARSE(TOKENS_INFO, "--help"), 0);
    /* too many, --help first */
    assert_int_equal(PARSE(LOGS, "--help", "a", "b", "c"), 0);
    assert_true(args.help);
    assert_int_equal(PARSE(PS, "-h", "x"), 0);
    /* --version also asks for no arguments */
    assert_int_equal(PARSE(LOGS, "--version"), 0);
    assert_true(args.version);
    /* help does not excuse unknown options or missing values */
    expect_error(PARSE(LOGS, "--help", "--bogus"), "--bogus", NULL);
    expect_error(PARSE(LOGS, "--help", "--tail"), "--tail", "needs a value");
}

/* Fails with args.c as written: the too-many check runs as each positional word is seen,
 * so a --help that comes after the extra words is not known yet, and `cloudya logs a b
 * --help` says "unexpected argument" instead of showing the help (cli.h: "With --help the
 * positional counts are not checked"; help after the words is the common way to ask). */
static void test_help_after_extra_words(void **state)
{
    (void)state;
    int rc = PARSE(LOGS, "a", "b", "--help");
    if (rc != 0)
        fail_msg("cloudya logs a b --help: %s", err);
    assert_true(args.help);
    assert_int_equal(PARSE(PS, "x", "-h"), 0);
    assert_true(args.help);
}

static void test_list_limit(void **state)
{
    (void)state;
    static char *argv[2 * CLI_MAX_VALUES + 4];
    static char vals[CLI_MAX_VALUES + 1][16];
    int n = 0;
    argv[n++] = "svc";
    for (int i = 0; i < CLI_MAX_VALUES; i++) {
        snprintf(vals[i], sizeof(vals[i]), "K%d=%d", i, i);
        argv[n++] = "--env";
        argv[n++] = vals[i];
    }
    argv[n] = NULL;
    assert_int_equal(cli_parse(CREATE, n, argv, &args, err, sizeof(err)), 0);
    const char *const *v;
    assert_int_equal(cli_list(&args, "env", &v), CLI_MAX_VALUES);
    for (int i = 0; i < CLI_MAX_VALUES; i++)
        assert_string_equal(v[i], vals[i]); /* every value, in order */
    /* one more is refused, whichever spelling */
    snprintf(vals[CLI_MAX_VALUES], sizeof(vals[0]), "-eX=1");
    argv[n] = vals[CLI_MAX_VALUES];
    argv[n + 1] = NULL;
    expect_error(cli_parse(CREATE, n + 1, argv, &args, err, sizeof(err)), "--env", "64");
    argv[n] = "--env=X=1";
    expect_error(cli_parse(CREATE, n + 1, argv, &args, err, sizeof(err)), "--env", "64");
    /* a bool or value flag repeated many times is fine */
    static char *many[CLI_MAX_VALUES + 10];
    many[0] = "web";
    for (int i = 1; i < CLI_MAX_VALUES + 9; i++)
        many[i] = "-f";
    many[CLI_MAX_VALUES + 9] = NULL;
    assert_int_equal(parse_v(LOGS, many), 0);
    assert_true(cli_has(&args, "follow"));
}

static void test_bool_with_value(void **state)
{
    (void)state;
    expect_error(PARSE(LOGS, "web", "--follow=yes"), "--follow", "takes no value");
    expect_error(PARSE(LOGS, "web", "--follow="), "--follow", "takes no value");
    expect_error(PARSE(LOGS, "web", "--help=1"), "--help", "takes no value");
    expect_error(PARSE(LOGS, "web", "--no-color=true"), "--no-color", "takes no value");
    expect_error(PARSE(CREATE, "svc", "--detach=0"), "--detach", "takes no value");
}

/* ---- empty, cut short, reused ------------------------------------------------------ */

static void test_empty_argv(void **state)
{
    (void)state;
    memset(err, 0, sizeof(err));
    assert_int_equal(cli_parse(PS, 0, NULL, &args, err, sizeof(err)), 0);
    assert_int_equal(args.npos, 0);
    assert_true(args.cmd == PS);
    expect_error(cli_parse(LOGS, 0, NULL, &args, err, sizeof(err)), "needs <id>", NULL);
    /* a NULL word ends the vector early, as argv[argc] does */
    assert_int_equal(cli_parse(LOGS, 3, (char *[]){"web", NULL, NULL}, &args, err, sizeof(err)),
                     0);
    assert_int_equal(args.npos, 1);
    /* a value flag at the end of a cut-short vector has no value */
    expect_error(cli_parse(LOGS, 3, (char *[]){"web", "--tail", NULL}, &args, err, sizeof(err)),
                 "--tail", "needs a value");
    expect_error(cli_parse(LOGS, 3, (char *[]){"web", "-t", NULL}, &args, err, sizeof(err)),
                 "-t", "needs a value");
    /* no command: global flags only, any positional word is unexpected */
    assert_int_equal(cli_parse(NULL, 2, (char *[]){"--no-color", "-ojson", NULL}, &args, err,
                               sizeof(err)),
                     0);
    assert_true(args.no_color);
    assert_string_equal(args.output, "json");
    assert_null(args.cmd);
    assert_null(cli_value(&args, "tail"));
    assert_false(cli_has(&args, "follow"));
    expect_error(cli_parse(NULL, 1, (char *[]){"word", NULL}, &args, err, sizeof(err)),
                 "unexpected argument \"word\"", NULL);
    expect_error(cli_parse(NULL, 1, (char *[]){"--tail", NULL}, &args, err, sizeof(err)),
                 "unknown option --tail", NULL);
}

static void test_parse_resets(void **state)
{
    (void)state;
    assert_int_equal(PARSE(CREATE, "svc", "-e", "A=1", "--name", "n", "-d", "-o", "json",
                           "--no-color", "--api-url", "u"),
                     0);
    assert_int_equal(PARSE(CREATE, "svc2"), 0);
    const char *const *v;
    assert_int_equal(cli_list(&args, "env", &v), 0);
    assert_null(cli_value(&args, "name"));
    assert_false(cli_has(&args, "detach"));
    assert_null(args.output);
    assert_null(args.api_url);
    assert_false(args.no_color);
    assert_int_equal(args.npos, 1);
    assert_string_equal(args.pos[0], "svc2");
}

static void test_accessors(void **state)
{
    (void)state;
    assert_int_equal(cli_flag_index(LOGS, "follow"), 0);
    assert_int_equal(cli_flag_index(LOGS, "timestamps"), 3);
    assert_int_equal(cli_flag_index(LOGS, "nope"), -1);
    assert_int_equal(cli_flag_index(PS, "follow"), -1); /* no flags at all */
    assert_int_equal(cli_flag_index(NULL, "follow"), -1);

    assert_int_equal(PARSE(CREATE, "svc", "--env", "A=1", "--name", "db"), 0);
    const char *const *v = (const char *const *)1;
    assert_int_equal(cli_list(&args, "nope", &v), 0);
    assert_null(v);
    assert_int_equal(cli_list(&args, "env", &v), 1);
    assert_string_equal(v[0], "A=1");
    assert_null(cli_value(&args, "nope"));
    assert_null(cli_value(&args, "detach")); /* a bool has no value */
    assert_true(cli_has(&args, "name"));     /* a value flag that was given */
    assert_true(cli_has(&args, "env"));
    assert_false(cli_has(&args, "nope"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_long_flags),
        cmocka_unit_test(test_short_flags),
        cmocka_unit_test(test_double_dash_and_lone_dash),
        cmocka_unit_test(test_global_flags),
        cmocka_unit_test(test_bad_output),
        cmocka_unit_test(test_unknown_options),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_positional_counts),
        cmocka_unit_test(test_help_skips_counts),
        cmocka_unit_test(test_help_after_extra_words),
        cmocka_unit_test(test_list_limit),
        cmocka_unit_test(test_bool_with_value),
        cmocka_unit_test(test_empty_argv),
        cmocka_unit_test(test_parse_resets),
        cmocka_unit_test(test_accessors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
