/* libFuzzer target for src/cli/args.c and src/cli/output.c.
 *
 * The input is split on NUL bytes into at most MAX_WORDS words, an argv. A command is looked
 * up with cli_find in the small table below and the remaining words are parsed with
 * cli_parse. Besides crashes and sanitizer reports it checks properties, aborting when one
 * fails:
 *   - cli_find names a command whose name is the first word (or the first two);
 *   - cli_parse returns 0 or -EINVAL; an error always comes with a terminated sentence;
 *     parsing twice gives the same result;
 *   - on success: every positional word, value and list value points at a word of the
 *     argv; the counts respect min_pos/max_pos (unless --help or --version), CLI_MAX_POS
 *     and CLI_MAX_VALUES; --output is "json" or "table" or absent.
 * The same words then fill a table (the input's first byte chooses the columns, the
 * alignment, the colours and the width), printed to memory with and without colour:
 *   - the output is valid UTF-8 with no control character but '\n' (and, with colour,
 *     ESC only as the start of our SGR sequences), no C1, no DEL, no trailing space;
 *   - without SGR the coloured output is the plain one, byte for byte;
 *   - with a width, no line is wider than the width or the 8-column floor allows.
 * text_width, fmt_ago, fmt_until, fmt_bytes and fmt_duration get the input too.
 * Seeds: fuzz/corpus/cli_args/ (words separated by NUL bytes). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 64
#define MAX_INPUT 65536 /* longer inputs are cut: the parser's cost is per word */

/* ---- the command table ---------------------------------------------------------------- */

static const struct cli_flag logs_flags[] = {
    {"follow", 'f', CLI_BOOL, NULL, "keep printing new lines", NULL},
    {"tail", 't', CLI_VALUE, "N", "the last N lines", NULL},
    {"stderr", 'e', CLI_BOOL, NULL, "standard error only", NULL},
    {NULL, 0, CLI_BOOL, NULL, NULL, NULL},
};

static const struct cli_flag create_flags[] = {
    {"env", 'e', CLI_LIST, "K=V", "an environment variable", NULL},
    {"name", 'n', CLI_VALUE, "NAME", "the container's name", NULL},
    {"detach", 'd', CLI_BOOL, NULL, "do not wait", NULL},
    {NULL, 0, CLI_BOOL, NULL, NULL, NULL},
};

static const struct cli_command group_a[] = {
    {.name = "logs", .args = "<id>", .min_pos = 1, .max_pos = 1, .flags = logs_flags},
    {.name = "create", .args = "<service> [<command>...]", .min_pos = 1, .max_pos = 3,
     .flags = create_flags},
    {.name = "ps", .min_pos = 0, .max_pos = 0},
    {.name = "run", .args = "<a> <b> ...", .min_pos = 2, .max_pos = 20, .flags = create_flags},
    {.name = NULL},
};

static const struct cli_command group_b[] = {
    {.name = "tokens", .args = "", .min_pos = 0, .max_pos = 0},
    {.name = "tokens info", .args = "<id>", .min_pos = 1, .max_pos = 1, .flags = logs_flags},
    {.name = NULL},
};

const struct cli_command *const cli_groups[] = {group_a, group_b, NULL};

/* ---- the parser ----------------------------------------------------------------------- */

/* 1 when p is one of the n words (the very pointer, not an equal string). */
static int is_word(const char *p, char *const *words, int n)
{
    for (int i = 0; i < n; i++)
        if (p == words[i])
            return 1;
    return 0;
}

/* 1 when p points inside [lo, hi), where the words live (a value may be a word's tail). */
static int inside(const char *p, const char *lo, const char *hi)
{
    return p >= lo && p < hi;
}

static void check_parse(char **argv, int argc, const char *lo, const char *hi)
{
    int words = 0;
    const struct cli_command *cmd = cli_find(argc, argv, &words);
    if (cmd != NULL) {
        if (words != 1 && words != 2) abort();
        if (words > argc) abort();
        const char *sp = strchr(cmd->name, ' ');
        if (words == 1 && strcmp(cmd->name, argv[0]) != 0) abort();
        if (words == 2 && (sp == NULL || strncmp(cmd->name, argv[0], (size_t)(sp - cmd->name)) ||
                           strcmp(sp + 1, argv[1]) != 0))
            abort();
    } else {
        words = argc > 0 ? 1 : 0; /* parse the rest with no command */
    }
    static struct cli_args a, b;
    char err[128], err2[128];
    memset(err, 'x', sizeof(err));
    int rc = cli_parse(cmd, argc - words, argv + words, &a, err, sizeof(err));
    int rc2 = cli_parse(cmd, argc - words, argv + words, &b, err2, sizeof(err2));
    if (rc != rc2) abort();
    if (rc != 0) {
        if (rc != -EINVAL) abort();
        if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0') abort();
        if (strcmp(err, err2) != 0) abort();
        return;
    }
    if (memcmp(&a, &b, sizeof(a)) != 0) abort();
    if (a.cmd != cmd) abort();
    if (a.npos < 0 || a.npos > CLI_MAX_POS) abort();
    if (cmd == NULL && a.npos != 0) abort();
    if (cmd != NULL && a.npos > cmd->max_pos) abort();
    if (cmd != NULL && !a.help && !a.version && a.npos < cmd->min_pos) abort();
    for (int i = 0; i < a.npos; i++)
        if (!is_word(a.pos[i], argv + words, argc - words)) abort();
    if (a.output != NULL && strcmp(a.output, "json") != 0 && strcmp(a.output, "table") != 0)
        abort();
    if (a.api_url != NULL && !inside(a.api_url, lo, hi)) abort();
    for (int f = 0; cmd != NULL && cmd->flags != NULL && cmd->flags[f].name != NULL; f++) {
        if (a.count[f] < 0 || a.count[f] > CLI_MAX_VALUES) abort();
        if (cli_flag_index(cmd, cmd->flags[f].name) != f) abort();
        switch (cmd->flags[f].kind) {
        case CLI_BOOL:
            if (cli_has(&a, cmd->flags[f].name) != (a.count[f] > 0)) abort();
            break;
        case CLI_VALUE:
            if ((a.value[f] != NULL) != (a.count[f] > 0)) abort();
            if (a.value[f] != NULL && !inside(a.value[f], lo, hi)) abort();
            break;
        case CLI_LIST: {
            const char *const *v;
            if (cli_list(&a, cmd->flags[f].name, &v) != a.count[f]) abort();
            for (int k = 0; k < a.count[f]; k++)
                if (v[k] == NULL || !inside(v[k], lo, hi)) abort();
            break;
        }
        }
    }
}

/* ---- the output module ---------------------------------------------------------------- */

static char *render(const struct table *t, int color, int width)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (f == NULL) abort();
    table_print(t, f, color, width);
    if (fclose(f) != 0 || out == NULL) abort();
    return out;
}

/* s without SGR sequences, in place; aborts on an ESC that starts anything else. */
static void strip_sgr(char *s)
{
    char *w = s;
    for (const char *r = s; *r != '\0';) {
        if (*r == '\033') {
            if (r[1] != '[') abort();
            const char *m = strchr(r, 'm');
            if (m == NULL) abort();
            for (const char *p = r + 2; p < m; p++)
                if (*p < '0' || *p > '9') abort();
            r = m + 1;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

static void check_harmless(const char *s)
{
    size_t n = strlen(s);
    if (!str_is_utf8(s, n)) abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f) abort();
        if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9f)
            abort();
        if (c == '\n' && i > 0 && s[i - 1] == ' ') abort();
    }
    if (n > 0 && s[n - 1] != '\n') abort();
}

/* Aborts when a line is wider than limit display columns. */
static void check_widths(char *s, size_t limit)
{
    for (char *line = s; *line != '\0';) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        if (text_width(line) > limit) abort();
        *nl = '\n';
        line = nl + 1;
    }
}

static void check_table(char **argv, int argc, uint8_t knobs, int width)
{
    int ncols = 1 + knobs % TABLE_MAX_COLS;
    const char *head[TABLE_MAX_COLS] = {0};
    size_t natural[TABLE_MAX_COLS] = {0};
    int cut = 0; /* a cell over 4096 bytes is cut, so text_width overstates it */
    for (int i = 0; i < ncols && i < argc; i++) {
        head[i] = argv[i];
        natural[i] = text_width(argv[i]);
        cut |= strlen(argv[i]) > 4096;
    }
    struct table *t = table_new(ncols, head);
    if (t == NULL) abort();
    for (int i = 0; i < ncols; i++)
        if ((knobs >> (i % 8)) & 1)
            table_right(t, i);
    for (int r = ncols; r < argc; r += ncols) {
        const char *row[TABLE_MAX_COLS] = {0}; /* the missing cells of the last row: "-" */
        for (int i = 0; i < ncols; i++) {
            row[i] = r + i < argc ? argv[r + i] : NULL;
            size_t w = row[i] != NULL ? text_width(row[i]) : 1;
            cut |= row[i] != NULL && strlen(row[i]) > 4096;
            if (w > natural[i])
                natural[i] = w;
        }
        table_add(t, row);
        table_color(t, r % ncols, (enum color)((unsigned)(r + knobs) % 9)); /* 8: invalid */
    }
    char *plain = render(t, 0, width);
    char *col = render(t, 1, width);
    check_harmless(plain);
    strip_sgr(col);
    if (strcmp(plain, col) != 0) abort();
    if (width > 0 && !cut) {
        /* every column ends at the width asked or at its floor, min(natural, 8) */
        size_t floor = (size_t)(ncols - 1) * 3;
        for (int i = 0; i < ncols; i++)
            floor += natural[i] < 8 ? natural[i] : 8;
        check_widths(plain, floor > (size_t)width ? floor : (size_t)width);
    }
    free(plain);
    free(col);
    table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        size = MAX_INPUT;
    char *buf = malloc(size + 1);
    if (buf == NULL) abort();
    if (size > 0)
        memcpy(buf, data, size);
    buf[size] = '\0';

    char *argv[MAX_WORDS + 1];
    int argc = 0;
    for (size_t i = 0; i < size && argc < MAX_WORDS; i += strlen(buf + i) + 1)
        argv[argc++] = buf + i; /* "a\0b" is two words, "a\0" one, "\0" one empty word */
    argv[argc] = NULL;

    check_parse(argv, argc, buf, buf + size + 1);

    size_t tw = text_width(buf);
    if (tw > strlen(buf)) abort();

    uint8_t knobs = size > 0 ? data[0] : 0;
    int width = size > 1 ? data[1] % 2 == 0 ? 0 : data[1] : 0;
    check_table(argv, argc, knobs, width);

    int64_t now = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < size && i < 8; i++) {
        now = (int64_t)((uint64_t)now << 8 | data[i]);
        bytes = bytes << 8 | data[size - 1 - i];
    }
    char out[64];
    memset(out, 'x', sizeof(out));
    fmt_ago(buf, now, out, sizeof(out));
    if (memchr(out, '\0', sizeof(out)) == NULL) abort();
    fmt_ago(buf, 1700000000, out, sizeof(out));
    fmt_until(buf, now, out, sizeof(out));
    if (memchr(out, '\0', sizeof(out)) == NULL) abort();
    fmt_bytes(bytes, out, sizeof(out));
    if (strlen(out) > 9 || strchr(out, 'B') == NULL) abort(); /* "1023 KiB" is the longest */
    fmt_duration(now, out, sizeof(out));
    if (out[0] < '0' || out[0] > '9') abort();
    char tiny[3];
    fmt_bytes(bytes, tiny, sizeof(tiny));
    fmt_duration(now, tiny, sizeof(tiny));
    fmt_ago(buf, now, tiny, sizeof(tiny));
    fmt_until(buf, now, tiny, sizeof(tiny));

    free(buf);
    return 0;
}
