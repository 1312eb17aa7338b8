/* Unit tests for src/assistant/shell_lex.c and shell_lex_word.c: splitting at every
 * separator, quoting and escapes (with a randomized round trip: any printable text quoted
 * three ways comes back as itself), $'...' decoding, expansion flags and literal prefixes,
 * substitutions as commands of their own (parents, flags, pipes), redirections and here-
 * documents, assignments, groups, subshells, functions, reserved words, [[ ]] and (( )),
 * the raw text of each command, and every error and limit. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell_lex.h"

/* ---- helpers --------------------------------------------------------------------------- */

static shell_script *parse(const char *text)
{
    shell_script *s = NULL;
    char err[256] = "";
    int rc = shell_lex_parse(text, strlen(text), &s, err, sizeof err);
    if (rc != 0)
        fail_msg("`%s` does not parse: %d %s", text, rc, err);
    assert_non_null(s);
    return s;
}

static void parse_fails(const char *text, int want, const char *msg)
{
    shell_script *s = (shell_script *)1;
    char err[256] = "";
    int rc = shell_lex_parse(text, strlen(text), &s, err, sizeof err);
    if (rc != want)
        fail_msg("`%s`: %d, wanted %d (%s)", text, rc, want, err);
    assert_null(s);
    if (strstr(err, msg) == NULL)
        fail_msg("`%s`: error \"%s\" does not say \"%s\"", text, err, msg);
}

/* The words of command i, joined by '|', for compact comparisons. */
static void words_of(const shell_script *s, size_t i, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    assert_true(i < s->ncmds);
    for (size_t k = 0; k < s->cmds[i].nwords; k++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", k ? "|" : "", s->cmds[i].words[k].text);
}

static void expect_words(const shell_script *s, size_t i, const char *want)
{
    char got[1024];
    words_of(s, i, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("command %zu: words \"%s\", wanted \"%s\"", i, got, want);
}

static const shell_word *word(const shell_script *s, size_t i, size_t k)
{
    assert_true(i < s->ncmds);
    assert_true(k < s->cmds[i].nwords);
    return &s->cmds[i].words[k];
}

/* ---- separators ------------------------------------------------------------------------ */

static void test_separators(void **state)
{
    (void)state;
    shell_script *s = parse("a 1; b 2 && c || d | e & f\ng");
    assert_int_equal(s->ncmds, 7);
    expect_words(s, 0, "a|1");
    expect_words(s, 1, "b|2");
    const shell_sep seps[] = {SHELL_SEP_SEMI, SHELL_SEP_AND, SHELL_SEP_OR, SHELL_SEP_PIPE,
                              SHELL_SEP_BACKGROUND, SHELL_SEP_NEWLINE, SHELL_SEP_END};
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(s->cmds[i].sep, seps[i]);
        assert_int_equal(s->cmds[i].depth, 0);
        assert_int_equal(s->cmds[i].parent, -1);
    }
    assert_true(s->cmds[3].flags & SHELL_CMD_PIPE_OUT);
    assert_true(s->cmds[4].flags & SHELL_CMD_PIPE_IN);
    assert_int_equal(s->cmds[4].pipe_from, 3);
    assert_true(s->cmds[4].flags & SHELL_CMD_BACKGROUND);
    assert_false(s->cmds[5].flags & SHELL_CMD_PIPE_IN);
    shell_script_free(s);

    /* no blanks needed; |& is a pipe; && and | may end a line */
    s = parse("a;b&&c||d|e|&f&&\ng|\nh");
    assert_int_equal(s->ncmds, 8);
    expect_words(s, 4, "e");
    assert_int_equal(s->cmds[5].pipe_from, 4);
    assert_true(s->cmds[7].flags & SHELL_CMD_PIPE_IN);
    assert_int_equal(s->cmds[7].pipe_from, 6);
    shell_script_free(s);

    /* empty lines and a trailing separator are fine */
    s = parse("\n\n ls ;\n\n pwd &\n");
    assert_int_equal(s->ncmds, 2);
    shell_script_free(s);
    s = parse("");
    assert_int_equal(s->ncmds, 0);
    shell_script_free(s);
}

static void test_raw_text(void **state)
{
    (void)state;
    shell_script *s = parse("  ls -la   /tmp  ;echo \"a  b\" # note\n x=1 >f");
    assert_int_equal(s->ncmds, 3);
    assert_string_equal(s->cmds[0].raw, "ls -la   /tmp");
    assert_string_equal(s->cmds[1].raw, "echo \"a  b\"");
    assert_string_equal(s->cmds[2].raw, "x=1 >f");
    shell_script_free(s);
    s = parse("echo $(id -u) | tee x");
    assert_string_equal(s->cmds[0].raw, "echo $(id -u)");
    assert_string_equal(s->cmds[1].raw, "id -u"); /* right after the command holding it */
    assert_string_equal(s->cmds[2].raw, "tee x");
    assert_int_equal(s->cmds[2].pipe_from, 0);
    shell_script_free(s);
}

/* ---- quoting --------------------------------------------------------------------------- */

static void test_quotes(void **state)
{
    (void)state;
    shell_script *s = parse("r''m \"a b\" 'c \"d\"' \"e 'f'\" g\\ h \\$x \"\\$y \\\\ \\q\" ''");
    expect_words(s, 0, "rm|a b|c \"d\"|e 'f'|g h|$x|$y \\ \\q|");
    for (size_t k = 0; k < 8; k++) {
        assert_true(word(s, 0, k)->flags & SHELL_WORD_QUOTED);
        assert_true(shell_word_is_literal(word(s, 0, k)));
        assert_int_equal(word(s, 0, k)->literal_len, word(s, 0, k)->len);
    }
    assert_int_equal(word(s, 0, 7)->len, 0);
    assert_int_equal(word(s, 0, 0)->unquoted_len, 1); /* "r" before the quotes */
    shell_script_free(s);

    /* line continuations join, inside and between words */
    s = parse("ec\\\nho a\\\n b \"c\\\nd\"");
    expect_words(s, 0, "echo|a|b|cd");
    shell_script_free(s);

    /* a comment starts only a word */
    s = parse("echo a#b #c d");
    expect_words(s, 0, "echo|a#b");
    shell_script_free(s);
}

static void test_ansi_c(void **state)
{
    (void)state;
    shell_script *s = parse("$'\\x72m' $'a\\tb\\n' $'\\101\\102' $'\\u00e9' $'\\U0001F600' "
                            "$'\\'q\\'' $'\\q' $'\\x' $\"dq\" $'\\cA'");
    expect_words(s, 0, "rm|a\tb\n|AB|\xc3\xa9|\xf0\x9f\x98\x80|'q'|\\q|\\x|dq|\x01");
    assert_true(word(s, 0, 0)->flags & SHELL_WORD_ANSI_C);
    assert_true(shell_word_is_literal(word(s, 0, 0)));
    shell_script_free(s);
    parse_fails("echo $'\\x00'", -EINVAL, "NUL");
    parse_fails("echo $'\\0'", -EINVAL, "NUL");
    parse_fails("echo $'\\ud800'", -EINVAL, "character");
    parse_fails("echo $'abc", -EINVAL, "unterminated $'");
    /* inside double quotes $'...' is a dollar and a quote */
    s = parse("echo \"$'x'\"");
    expect_words(s, 0, "echo|$'x'");
    shell_script_free(s);
}

/* Printable text survives single quotes, double quotes (with escapes) and backslashes. */
static void test_quote_round_trip(void **state)
{
    (void)state;
    srand(12345);
    for (int round = 0; round < 500; round++) {
        char text[64], sq[256], dq[256], bs[256], cmd[800];
        size_t n = (size_t)(rand() % 40), a = 0, b = 0, c = 0;
        for (size_t i = 0; i < n; i++)
            text[i] = (char)(0x20 + rand() % 95);
        text[n] = '\0';
        for (size_t i = 0; i < n; i++) {
            if (text[i] == '\'') {
                memcpy(sq + a, "'\\''", 4);
                a += 4;
            } else {
                sq[a++] = text[i];
            }
            if (strchr("$`\"\\", text[i]) != NULL)
                dq[b++] = '\\';
            dq[b++] = text[i];
            bs[c++] = '\\';
            bs[c++] = text[i];
        }
        sq[a] = dq[b] = bs[c] = '\0';
        snprintf(cmd, sizeof cmd, "x '%s' \"%s\" %s%s", sq, dq, bs, n == 0 ? "''" : "");
        shell_script *s = parse(cmd);
        assert_int_equal(s->ncmds, 1);
        assert_int_equal(s->cmds[0].nwords, 4);
        for (size_t k = 1; k < 4; k++) {
            assert_string_equal(word(s, 0, k)->text, text);
            assert_true(shell_word_is_literal(word(s, 0, k)));
        }
        shell_script_free(s);
    }
}

/* ---- expansions ------------------------------------------------------------------------ */

static void test_expansion_flags(void **state)
{
    (void)state;
    shell_script *s = parse("echo $HOME ${X:-y} \"$1\" $((1+2)) *.c a?b [ab] x[ {a,b} {1..3} "
                            "~/x ~ a~ /x/$Y/z '*' \"{a,b}\" \\* { } $ \"$\"");
    const unsigned want[] = {0, SHELL_WORD_PARAM, SHELL_WORD_PARAM,
                             SHELL_WORD_PARAM | SHELL_WORD_QUOTED, SHELL_WORD_ARITH,
                             SHELL_WORD_GLOB, SHELL_WORD_GLOB, SHELL_WORD_GLOB, 0,
                             SHELL_WORD_BRACE, SHELL_WORD_BRACE, SHELL_WORD_TILDE,
                             SHELL_WORD_TILDE, 0, SHELL_WORD_PARAM, SHELL_WORD_QUOTED,
                             SHELL_WORD_QUOTED, SHELL_WORD_QUOTED, 0, 0, 0, SHELL_WORD_QUOTED};
    assert_int_equal(s->cmds[0].nwords, sizeof want / sizeof want[0]);
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        if (word(s, 0, k)->flags != want[k])
            fail_msg("word %zu `%s`: flags %#x, wanted %#x", k, word(s, 0, k)->text,
                     word(s, 0, k)->flags, want[k]);
    assert_string_equal(word(s, 0, 1)->text, "$HOME"); /* kept as written */
    assert_string_equal(word(s, 0, 2)->text, "${X:-y}");
    assert_string_equal(word(s, 0, 3)->text, "$1");
    assert_int_equal(word(s, 0, 14)->literal_len, 3); /* "/x/" */
    assert_int_equal(word(s, 0, 11)->literal_len, 3); /* ~ aside, all literal */
    assert_false(shell_word_is_literal(word(s, 0, 11)));
    assert_int_equal(word(s, 0, 5)->literal_len, 0);
    assert_int_equal(word(s, 0, 6)->literal_len, 1);
    assert_int_equal(word(s, 0, 9)->nexp, 1);
    shell_script_free(s);

    s = parse("x=a$B${C}$(d)`e`");
    assert_int_equal(s->cmds[0].nassigns, 1);
    assert_int_equal(s->cmds[0].assigns[0].nexp, 4);
    assert_int_equal(s->cmds[0].assigns[0].literal_len, 3);
    shell_script_free(s);
}

/* ---- substitutions --------------------------------------------------------------------- */

static void test_substitutions(void **state)
{
    (void)state;
    shell_script *s =
        parse("echo $(id -u) `whoami` \"$(ls \"a b\")\" ${x:-$(pwd)} <(curl x) >(cat)");
    assert_int_equal(s->ncmds, 7);
    expect_words(s, 0, "echo|$(id -u)|`whoami`|$(ls \"a b\")|${x:-$(pwd)}|<(curl x)|>(cat)");
    const char *inner[] = {"id|-u", "whoami", "ls|a b", "pwd", "curl|x", "cat"};
    for (size_t i = 1; i < 7; i++) {
        expect_words(s, i, inner[i - 1]);
        assert_int_equal(s->cmds[i].parent, 0);
        assert_int_equal(s->cmds[i].depth, 1);
        assert_true(s->cmds[i].flags & (i >= 5 ? SHELL_CMD_PROCSUBST : SHELL_CMD_SUBST));
    }
    assert_true(word(s, 0, 1)->flags & SHELL_WORD_CMDSUBST);
    assert_true(word(s, 0, 2)->flags & SHELL_WORD_CMDSUBST);
    assert_true(word(s, 0, 5)->flags & SHELL_WORD_PROCSUBST);
    shell_script_free(s);

    /* nested, with backquote escapes */
    s = parse("a $(b $(c) `d \\`e\\``)");
    assert_int_equal(s->ncmds, 5);
    expect_words(s, 1, "b|$(c)|`d \\`e\\``");
    expect_words(s, 2, "c");
    assert_int_equal(s->cmds[2].parent, 1);
    expect_words(s, 3, "d|`e`");
    expect_words(s, 4, "e");
    assert_int_equal(s->cmds[4].parent, 3);
    assert_int_equal(s->cmds[4].depth, 3);
    shell_script_free(s);

    /* a substitution's lists: its own separators, subshells inside */
    s = parse("echo $(a; b | c) $( (d) )");
    assert_int_equal(s->ncmds, 5);
    assert_int_equal(s->cmds[3].pipe_from, 2);
    assert_true(s->cmds[4].flags & SHELL_CMD_SUBSHELL);
    assert_true(s->cmds[4].flags & SHELL_CMD_SUBST);
    shell_script_free(s);

    /* $(( )) that is really a subshell substitution */
    s = parse("echo $((a); b)");
    assert_int_equal(s->ncmds, 3);
    expect_words(s, 1, "a");
    expect_words(s, 2, "b");
    shell_script_free(s);

    /* a substitution in a command reading a pipe reads it too */
    s = parse("curl x | echo \"$(sh)\"");
    assert_int_equal(s->ncmds, 3);
    assert_true(s->cmds[2].flags & SHELL_CMD_PIPE_IN);
    assert_int_equal(s->cmds[2].pipe_from, 0);
    shell_script_free(s);
}

/* ---- redirections ---------------------------------------------------------------------- */

static void test_redirections(void **state)
{
    (void)state;
    shell_script *s = parse("cmd >a >>b <c 2>d &>e &>>f >|g <>h 2>&1 <&0 >&- >& i 3<j 10>k <<<w");
    const struct {
        shell_redir_kind kind;
        int fd;
        const char *target;
    } want[] = {
        {SHELL_REDIR_OUT, -1, "a"},         {SHELL_REDIR_APPEND, -1, "b"},
        {SHELL_REDIR_IN, -1, "c"},          {SHELL_REDIR_OUT, 2, "d"},
        {SHELL_REDIR_OUT_ALL, -1, "e"},     {SHELL_REDIR_APPEND_ALL, -1, "f"},
        {SHELL_REDIR_CLOBBER, -1, "g"},     {SHELL_REDIR_INOUT, -1, "h"},
        {SHELL_REDIR_DUP_OUT, 2, "1"},      {SHELL_REDIR_DUP_IN, -1, "0"},
        {SHELL_REDIR_DUP_OUT, -1, "-"},     {SHELL_REDIR_OUT_ALL, -1, "i"},
        {SHELL_REDIR_IN, 3, "j"},           {SHELL_REDIR_OUT, 10, "k"},
        {SHELL_REDIR_HERESTRING, -1, "w"},
    };
    const shell_cmd *c = &s->cmds[0];
    assert_int_equal(c->nwords, 1);
    assert_int_equal(c->nredirs, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < c->nredirs; i++) {
        assert_int_equal(c->redirs[i].kind, want[i].kind);
        assert_int_equal(c->redirs[i].fd, want[i].fd);
        assert_string_equal(c->redirs[i].target.text, want[i].target);
    }
    shell_script_free(s);

    /* before the program, on a compound, to a substitution; a digit word is not an fd */
    s = parse(">out ls 2 >x; (a) >y; cat <(b) > \"$(c)\"");
    assert_int_equal(s->ncmds, 6);
    expect_words(s, 0, "ls|2");
    assert_int_equal(s->cmds[0].redirs[1].fd, -1);
    expect_words(s, 2, ""); /* the subshell's redirection */
    assert_string_equal(s->cmds[2].redirs[0].target.text, "y");
    assert_true(s->cmds[3].redirs[0].target.flags & SHELL_WORD_CMDSUBST);
    shell_script_free(s);

    parse_fails("ls >", -EINVAL, "without a target");
    parse_fails("ls > ;", -EINVAL, "without a target");
    parse_fails("ls <& x", -EINVAL, "descriptor");
}

static void test_heredocs(void **state)
{
    (void)state;
    shell_script *s = parse("cat <<EOF; cat <<-'X' | grep a\n"
                            "hello $(id)\n`who`\nEOF\n\t\tq $y\n\tX\nls");
    assert_int_equal(s->ncmds, 6);
    const shell_redir *r1 = &s->cmds[0].redirs[0], *r2 = &s->cmds[1].redirs[0];
    assert_int_equal(r1->kind, SHELL_REDIR_HEREDOC);
    assert_string_equal(r1->target.text, "EOF");
    assert_string_equal(r1->body, "hello $(id)\n`who`\n");
    assert_false(r1->body_literal);
    assert_string_equal(r2->target.text, "X");
    assert_string_equal(r2->body, "q $y\n"); /* <<- strips leading tabs */
    assert_true(r2->body_literal);          /* quoted delimiter */
    expect_words(s, 2, "grep|a");
    /* the body's substitutions belong to the command reading it */
    expect_words(s, 3, "id");
    assert_int_equal(s->cmds[3].parent, 0);
    assert_true(s->cmds[3].flags & SHELL_CMD_SUBST);
    expect_words(s, 4, "who");
    expect_words(s, 5, "ls");
    shell_script_free(s);

    s = parse("cat <<E\nno expansion here\nE");
    assert_true(s->cmds[0].redirs[0].body_literal);
    shell_script_free(s);

    parse_fails("cat <<EOF\nnever ends\n", -EINVAL, "not terminated");
    parse_fails("cat <<EOF", -EINVAL, "without a body");
}

/* ---- assignments ----------------------------------------------------------------------- */

static void test_assignments(void **state)
{
    (void)state;
    size_t nl = 0;
    shell_script *s = parse("A=1 B+=2 C= \"D\"=3 cmd E=4; F=5");
    const shell_cmd *c = &s->cmds[0];
    assert_int_equal(c->nassigns, 3);
    assert_string_equal(c->assigns[0].text, "A=1");
    assert_string_equal(c->assigns[1].text, "B+=2");
    assert_string_equal(c->assigns[2].text, "C=");
    expect_words(s, 0, "D=3|cmd|E=4"); /* a quoted name is a program, after it args */
    assert_true(shell_word_is_assignment(&c->assigns[1], &nl));
    assert_int_equal(nl, 1);
    assert_false(shell_word_is_assignment(&c->words[0], &nl));
    assert_true(shell_word_is_assignment(&c->words[2], &nl)); /* the text is one; its place not */
    assert_int_equal(s->cmds[1].nassigns, 1);
    assert_int_equal(s->cmds[1].nwords, 0);
    shell_script_free(s);

    s = parse("X=\"a b\" Y=$(id) 1x=2");
    assert_int_equal(s->cmds[0].nassigns, 2);
    assert_string_equal(s->cmds[0].assigns[0].text, "X=a b");
    expect_words(s, 0, "1x=2");
    shell_script_free(s);
    parse_fails("a=(1 2)", -EINVAL, "array");
}

/* ---- compounds ------------------------------------------------------------------------- */

static void test_groups_and_subshells(void **state)
{
    (void)state;
    shell_script *s = parse("{ a; b; } && (c | d) ; { e\n}");
    assert_int_equal(s->ncmds, 5);
    assert_true(s->cmds[0].flags & SHELL_CMD_GROUP);
    assert_int_equal(s->cmds[0].depth, 1);
    assert_true(s->cmds[2].flags & SHELL_CMD_SUBSHELL);
    assert_int_equal(s->cmds[3].pipe_from, 2);
    assert_true(s->cmds[4].flags & SHELL_CMD_GROUP);
    shell_script_free(s);

    /* a compound reading a pipe: every command in it reads it */
    s = parse("curl x | (cat >f; bash) | { sh; }");
    assert_int_equal(s->ncmds, 4);
    assert_int_equal(s->cmds[1].pipe_from, 0);
    assert_int_equal(s->cmds[2].pipe_from, 0);
    assert_int_equal(s->cmds[3].pipe_from, 2);
    shell_script_free(s);

    /* } and { are words elsewhere */
    s = parse("echo { } a}");
    expect_words(s, 0, "echo|{|}|a}");
    shell_script_free(s);

    parse_fails("{ ls }", -EINVAL, "unterminated");
    parse_fails("ls; }", -EINVAL, "unexpected }");
    parse_fails("(ls", -EINVAL, "unterminated");
    parse_fails("ls)", -EINVAL, "unexpected )");
    parse_fails("echo a(b", -EINVAL, "unexpected (");
    parse_fails("(ls) x", -EINVAL, "after the end of a compound");
}

static void test_functions(void **state)
{
    (void)state;
    shell_script *s = parse(":(){ :|:& };:");
    assert_int_equal(s->ncmds, 4);
    assert_true(s->cmds[0].flags & SHELL_CMD_FUNCDEF);
    expect_words(s, 0, ":");
    assert_string_equal(s->cmds[0].raw, ":()");
    for (size_t i = 1; i <= 2; i++) {
        assert_int_equal(s->cmds[i].func, 0);
        assert_true(s->cmds[i].flags & SHELL_CMD_FUNCBODY);
    }
    assert_true(s->cmds[2].flags & SHELL_CMD_BACKGROUND);
    assert_int_equal(s->cmds[3].func, -1);
    shell_script_free(s);

    s = parse("function f { g $(h); }\nk () ( l )\nfunction m() {\n n\n}");
    assert_int_equal(s->ncmds, 7);
    expect_words(s, 0, "f");
    assert_int_equal(s->cmds[1].func, 0);
    assert_int_equal(s->cmds[2].func, 0); /* the substitution is in the body too */
    expect_words(s, 3, "k");
    assert_true(s->cmds[4].flags & SHELL_CMD_SUBSHELL);
    assert_int_equal(s->cmds[4].func, 3);
    expect_words(s, 5, "m");
    assert_int_equal(s->cmds[6].func, 5);
    shell_script_free(s);
    parse_fails("f() ls", -EINVAL, "function body");
    parse_fails("function $x { ls; }", -EINVAL, "literal name");
}

static void test_reserved_words(void **state)
{
    (void)state;
    shell_script *s =
        parse("if a; then b; elif c; then d; else e; fi > out; while ! f; do g; done");
    assert_int_equal(s->ncmds, 8);
    const char *want[] = {"a", "b", "c", "d", "e", "", "f", "g"};
    for (size_t i = 0; i < 8; i++)
        expect_words(s, i, want[i]);
    assert_string_equal(s->cmds[5].redirs[0].target.text, "out");
    shell_script_free(s);

    s = parse("for i in $(seq 3); do (echo $i); done; \"if\" x");
    assert_true(s->cmds[0].flags & SHELL_CMD_FOR);
    expect_words(s, 0, "for|i|in|$(seq 3)");
    assert_true(s->cmds[2].flags & SHELL_CMD_SUBSHELL);
    expect_words(s, 3, "if|x"); /* a quoted reserved word is a program */
    shell_script_free(s);

    s = parse("[[ -f x && $a < b || ( c ) ]] && rm y; ((i++)); echo ]]");
    assert_int_equal(s->ncmds, 4);
    assert_true(s->cmds[0].flags & SHELL_CMD_TEST);
    expect_words(s, 0, "[[|-f|x|&&|$a|<|b||||(|c|)|]]");
    assert_int_equal(s->cmds[0].nredirs, 0);
    expect_words(s, 1, "rm|y");
    assert_true(s->cmds[2].flags & SHELL_CMD_ARITH);
    expect_words(s, 2, "((|((i++))");
    shell_script_free(s);

    parse_fails("case x in a) ls;; esac", -EINVAL, "not supported");
    parse_fails("coproc ls", -EINVAL, "not supported");
    parse_fails("[[ -f x\n]]", -EINVAL, "unterminated [[");
    parse_fails("(( $(id) ))", -EINVAL, "not supported");
}

/* ---- errors and limits ----------------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    parse_fails("echo 'a", -EINVAL, "unterminated single quote");
    parse_fails("echo \"a", -EINVAL, "unterminated double quote");
    parse_fails("echo $(a", -EINVAL, "unterminated");
    parse_fails("echo `a", -EINVAL, "unterminated backquote");
    parse_fails("echo ${a", -EINVAL, "unterminated ${");
    parse_fails("echo $((1+2", -EINVAL, "unterminated");
    parse_fails("echo a\\", -EINVAL, "backslash at the end");
    parse_fails("ls &&", -EINVAL, "missing");
    parse_fails("ls |", -EINVAL, "missing");
    parse_fails("; ls", -EINVAL, "no command before");
    parse_fails("ls && && pwd", -EINVAL, "no command before");
    parse_fails("| ls", -EINVAL, "no command before");
    parse_fails("echo $(ls &&)", -EINVAL, "missing");
    shell_script *s = (shell_script *)1;
    assert_int_equal(shell_lex_parse("ls\0rm", 5, &s, NULL, 0), -EINVAL);
    assert_null(s);
    assert_int_equal(shell_lex_parse(NULL, 0, &s, NULL, 0), -EINVAL);
    /* the input need not be NUL-terminated */
    s = NULL;
    assert_int_equal(shell_lex_parse("ls -l; rm", 5, &s, NULL, 0), 0);
    expect_words(s, 0, "ls|-l");
    assert_int_equal(s->ncmds, 1);
    shell_script_free(s);
    shell_script_free(NULL);
}

static void test_limits(void **state)
{
    (void)state;
    static char buf[SHELL_LEX_INPUT_MAX + 64];
    shell_script *s = NULL;

    memset(buf, 'a', sizeof buf);
    assert_int_equal(shell_lex_parse(buf, SHELL_LEX_INPUT_MAX + 1, &s, NULL, 0), -E2BIG);
    buf[SHELL_LEX_INPUT_MAX] = '\0';
    s = parse(buf);
    assert_int_equal(s->cmds[0].words[0].len, SHELL_LEX_INPUT_MAX);
    shell_script_free(s);

    size_t o = 0;
    for (int i = 0; i < SHELL_LEX_CMDS_MAX; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "a;");
    s = parse(buf);
    assert_int_equal(s->ncmds, SHELL_LEX_CMDS_MAX);
    shell_script_free(s);
    snprintf(buf + o, sizeof buf - o, "b");
    parse_fails(buf, -E2BIG, "more than 64 commands");
    parse_fails("echo $(a) $(b) $(c) $(d) $(e) $(f) $(g) $(h) $(i) $(j) $(k) $(l) $(m) $(n) "
                "$(o) $(p) $(q) $(r) $(s) $(t) $(u) $(v) $(w) $(x) $(y) $(z) $(a) $(b) $(c) "
                "$(d) $(e) $(f) $(g) $(h) $(i) $(j) $(k) $(l) $(m) $(n) $(o) $(p) $(q) $(r) "
                "$(s) $(t) $(u) $(v) $(w) $(x) $(y) $(z) $(a) $(b) $(c) $(d) $(e) $(f) $(g) "
                "$(h) $(i) $(j) $(k) $(l)", -E2BIG, "commands");

    o = 0;
    for (int i = 0; i < SHELL_LEX_WORDS_MAX; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "w ");
    s = parse(buf);
    assert_int_equal(s->cmds[0].nwords, SHELL_LEX_WORDS_MAX);
    shell_script_free(s);
    snprintf(buf + o, sizeof buf - o, "X=1"); /* after the program: a word, one too many */
    parse_fails(buf, -E2BIG, "256 words");
    snprintf(buf + o, sizeof buf - o, "w");
    parse_fails(buf, -E2BIG, "256 words");

    o = 0;
    for (int i = 0; i < SHELL_LEX_REDIRS_MAX + 1; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, ">f ");
    parse_fails(buf, -E2BIG, "redirections");

    o = 0;
    for (int i = 0; i < SHELL_LEX_DEPTH_MAX + 1; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "( "); /* "((" would be arithmetic */
    o += (size_t)snprintf(buf + o, sizeof buf - o, "ls");
    for (int i = 0; i < SHELL_LEX_DEPTH_MAX + 1; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, ")");
    parse_fails(buf, -E2BIG, "nesting");
    o = 0;
    for (int i = 0; i < SHELL_LEX_DEPTH_MAX; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "$(");
    o += (size_t)snprintf(buf + o, sizeof buf - o, "ls");
    for (int i = 0; i < SHELL_LEX_DEPTH_MAX; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, ")");
    s = parse(buf); /* exactly the limit */
    assert_int_equal(s->cmds[s->ncmds - 1].depth, SHELL_LEX_DEPTH_MAX);
    shell_script_free(s);
    o = 0;
    for (int i = 0; i < SHELL_LEX_DEPTH_MAX + 1; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "$(");
    o += (size_t)snprintf(buf + o, sizeof buf - o, "ls");
    for (int i = 0; i < SHELL_LEX_DEPTH_MAX + 1; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, ")");
    parse_fails(buf, -E2BIG, "nesting");

    o = 0;
    for (int i = 0; i < SHELL_LEX_HEREDOCS_MAX + 1; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "cat <<E%d;", i);
    parse_fails(buf, -E2BIG, "here-documents");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_raw_text),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_ansi_c),
        cmocka_unit_test(test_quote_round_trip),
        cmocka_unit_test(test_expansion_flags),
        cmocka_unit_test(test_substitutions),
        cmocka_unit_test(test_redirections),
        cmocka_unit_test(test_heredocs),
        cmocka_unit_test(test_assignments),
        cmocka_unit_test(test_groups_and_subshells),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_reserved_words),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
