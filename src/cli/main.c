/* cloudya: the command line. Commands arrive issue by issue; each is a declarative entry
 * (name, usage, summary, handler) from which the help is generated. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#define CLOUDYA_VERSION "0.1.0"

struct command {
    const char *name;
    const char *usage;
    const char *summary;
    int (*run)(int argc, char **argv);
};

static int cmd_version(int argc, char **argv);

static const struct command commands[] = {
    {"version", "cloudya version", "print the version", cmd_version},
};

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("cloudya %s\n", CLOUDYA_VERSION);
    return 0;
}

static void help(FILE *f)
{
    fprintf(f, "usage: cloudya <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\noptions:\n  --help       this help\n  --version    print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(0, NULL);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            printf("usage: %s\n\n%s\n", commands[i].usage, commands[i].summary);
            return 0;
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "cloudya: unknown command \"%s\"; see cloudya --help\n", argv[1]);
    return 2;
}
