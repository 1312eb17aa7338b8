/* libFuzzer target for the command validator (src/assistant/validator*.c) and its tokenizer
 * (src/assistant/shell_lex*.c), with the real policy (knowledge/policy.yaml, loaded once;
 * its path is CLOUDYA_FUZZ_POLICY, else relative to the repository root, where
 * scripts/fuzz.sh runs the targets). The input is the action, bytes as they come.
 *
 * Besides crashes, leaks and sanitizer reports it checks properties, aborting when one
 * fails:
 *   - validator_check_len returns 0 with a level in range, a NUL-terminated reason that is
 *     not empty, and for a level above safe a reason quoting its part; safe names no part;
 *   - an action holding a NUL, a control byte other than tab and newline, invalid UTF-8,
 *     or more than 8 KiB is never safe; in fact it is forbidden;
 *   - the verdict is the same twice (no hidden state), and the same through validator_check
 *     when the bytes hold no NUL;
 *   - "sudo x; " or "rm -rf /; " before the action makes it forbidden, whatever follows;
 *   - the tokenizer returns 0, -EINVAL or -E2BIG, with a NUL-terminated sentence on error;
 *     on success every limit holds (commands, words, redirections), every word's text is
 *     len bytes without a NUL, literal_len and unquoted_len are within it, a word without
 *     an expansion is literal whole, and parents, function definitions and pipe sources
 *     point at earlier commands of the right kind.
 * Seeds: fuzz/corpus/validator/. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell_lex.h"
#include "str.h"
#include "validator.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POLICY "knowledge/policy.yaml"
#define PREFIX_MAX 16

static validator *policy;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    const char *path = getenv("CLOUDYA_FUZZ_POLICY");
    (void)argc;
    (void)argv;
    if (path == NULL || path[0] == '\0')
        path = POLICY;
    if (validator_load(path, &policy, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_validator: %s\n", err);
        abort();
    }
    return 0;
}

static int unsafe_bytes(const uint8_t *p, size_t n)
{
    if (n > SHELL_LEX_INPUT_MAX)
        return 1;
    for (size_t i = 0; i < n; i++)
        if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n') || p[i] == 0x7f)
            return 1;
    return !str_is_utf8((const char *)p, n);
}

static void check_verdict(const validation *v)
{
    if ((unsigned)v->risk > RISK_FORBIDDEN) abort();
    if (memchr(v->reason, '\0', sizeof v->reason) == NULL) abort();
    if (memchr(v->part, '\0', sizeof v->part) == NULL) abort();
    if (v->reason[0] == '\0') abort();
    if (v->risk == RISK_SAFE && v->part[0] != '\0') abort();
    if (v->risk != RISK_SAFE && v->reason[0] != '`') abort();
}

static void check_word(const shell_word *w)
{
    if (w->text == NULL || strlen(w->text) != w->len) abort();
    if (w->literal_len > w->len || w->unquoted_len > w->len) abort();
    if (shell_word_is_literal(w) && !(w->flags & SHELL_WORD_TILDE) && w->literal_len != w->len)
        abort();
    if (!(w->flags & SHELL_WORD_EXPANDS) && w->nexp != 0) abort();
}

static void check_script(const uint8_t *data, size_t size)
{
    shell_script *s = NULL;
    char err[256];
    memset(err, 'x', sizeof err);
    int rc = shell_lex_parse((const char *)data, size, &s, err, sizeof err);
    if (rc != 0) {
        if (rc != -EINVAL && rc != -E2BIG) abort();
        if (s != NULL || memchr(err, '\0', sizeof err) == NULL) abort();
        return;
    }
    if (s == NULL || s->ncmds > SHELL_LEX_CMDS_MAX) abort();
    for (size_t i = 0; i < s->ncmds; i++) {
        const shell_cmd *c = &s->cmds[i];
        if (c->raw == NULL) abort();
        if (c->nwords + c->nassigns > SHELL_LEX_WORDS_MAX) abort();
        if (c->nredirs > SHELL_LEX_REDIRS_MAX) abort();
        if (c->depth < 0 || c->depth > 2 * SHELL_LEX_DEPTH_MAX + 2) abort();
        for (size_t k = 0; k < c->nwords; k++)
            check_word(&c->words[k]);
        for (size_t k = 0; k < c->nassigns; k++) {
            size_t nl;
            check_word(&c->assigns[k]);
            if (!shell_word_is_assignment(&c->assigns[k], &nl)) abort();
        }
        for (size_t k = 0; k < c->nredirs; k++) {
            const shell_redir *r = &c->redirs[k];
            check_word(&r->target);
            if ((r->kind == SHELL_REDIR_HEREDOC) != (r->body != NULL)) abort();
            if (r->body != NULL && strlen(r->body) != r->body_len) abort();
        }
        if (c->parent >= (int)i || c->parent < -1) abort();
        if (c->pipe_from >= (int)i || c->pipe_from < -1) abort();
        if (((c->flags & SHELL_CMD_PIPE_IN) != 0) != (c->pipe_from >= 0)) abort();
        if (c->func >= (int)i || c->func < -1) abort();
        if (c->func >= 0 && !(s->cmds[c->func].flags & SHELL_CMD_FUNCDEF)) abort();
        if ((c->flags & SHELL_CMD_FUNCDEF) && c->nwords != 1) abort();
    }
    shell_script_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    validation a, b;
    const char *act = (const char *)data;

    check_script(data, size);

    if (validator_check_len(policy, act, size, &a) != 0) abort();
    check_verdict(&a);
    if (unsafe_bytes(data, size) && a.risk != RISK_FORBIDDEN) abort();
    if (validator_check_len(policy, act, size, &b) != 0) abort();
    if (a.risk != b.risk || strcmp(a.reason, b.reason) != 0 || a.nparts != b.nparts) abort();

    char *copy = malloc(size + PREFIX_MAX + 1);
    if (copy == NULL) abort();
    if (memchr(data, '\0', size) == NULL) {
        memcpy(copy, data, size);
        copy[size] = '\0';
        if (validator_check(policy, copy, &b) != 0) abort();
        if (a.risk != b.risk || strcmp(a.reason, b.reason) != 0) abort();
    }
    static const char *const prefixes[] = {"sudo x; ", "rm -rf /; "};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t pl = strlen(prefixes[i]);
        memcpy(copy, prefixes[i], pl);
        if (size > 0)
            memcpy(copy + pl, data, size);
        if (validator_check_len(policy, copy, pl + size, &b) != 0) abort();
        check_verdict(&b);
        if (b.risk != RISK_FORBIDDEN) abort();
    }
    free(copy);
    return 0;
}
