#define _POSIX_C_SOURCE 200809L
/* The tokenizer (see shell_lex.h). One recursive-descent pass over the bytes: a "list" is
 * the commands between separators up to a terminator (end of input, `)` or a `}` word); a
 * word is read part by part (plain bytes, backslash escapes, quotes, $-expansions,
 * backquotes, globs). Substitutions start a nested list on the same bytes ($( ), <( ), >( ))
 * or on a copy with the backquote escapes undone (` `), writing into the same script. */
#include "shell_lex_int.h"

#include "str.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lex_parse_list(struct lexer *L, struct list *l);

/* The first error is the one reported: callers above only pass the code on. */
int lex_fail(struct lexer *L, int rc, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    str_fmt(L->err, L->errlen, "%s (at byte %zu)", msg, L->pos);
    return rc;
}

/* ---- commands -------------------------------------------------------------------------- */

/* The command the current token belongs to, created when first needed. */
int lex_ensure_cur(struct lexer *L, struct list *l)
{
    if (l->cur >= 0)
        return 0;
    shell_script *s = L->out;
    if (s->ncmds >= SHELL_LEX_CMDS_MAX)
        return lex_fail(L, -E2BIG, "more than %d commands", SHELL_LEX_CMDS_MAX);
    shell_cmd *c = &s->cmds[s->ncmds];
    memset(c, 0, sizeof *c);
    c->flags = l->flags;
    c->depth = L->depth;
    c->parent = l->parent;
    c->func = l->func;
    c->pipe_from = -1;
    if (l->pipe_pending >= 0) {
        c->flags |= SHELL_CMD_PIPE_IN;
        c->pipe_from = l->pipe_pending;
    } else if (l->inherit_pipe >= 0) {
        c->flags |= SHELL_CMD_PIPE_IN;
        c->pipe_from = l->inherit_pipe;
    }
    l->cur = (int)s->ncmds++;
    l->cur_start = l->tok_start;
    l->have_item = 1;
    l->need_more = 0;
    return 0;
}

static int cmd_at_start(const struct lexer *L, const struct list *l)
{
    if (l->after_compound)
        return 0;
    if (l->cur < 0)
        return 1;
    const shell_cmd *c = &L->out->cmds[l->cur];
    return c->nwords == 0 && c->nassigns == 0 && c->nredirs == 0;
}

static int add_word(struct lexer *L, struct list *l, shell_word *w, int assign)
{
    int rc = lex_ensure_cur(L, l);
    if (rc != 0) {
        word_free(w);
        return rc;
    }
    shell_cmd *c = &L->out->cmds[l->cur];
    if (c->nwords + c->nassigns >= SHELL_LEX_WORDS_MAX) {
        word_free(w);
        return lex_fail(L, -E2BIG, "more than %d words in one command", SHELL_LEX_WORDS_MAX);
    }
    if (assign) {
        c->assigns = xrealloc(c->assigns, (c->nassigns + 1) * sizeof(*c->assigns));
        c->assigns[c->nassigns++] = *w;
    } else {
        c->words = xrealloc(c->words, (c->nwords + 1) * sizeof(*c->words));
        c->words[c->nwords++] = *w;
    }
    return 0;
}

/* Ends the current command at end (exclusive) with sep. */
static int end_cmd(struct lexer *L, struct list *l, shell_sep sep, size_t end)
{
    int empty = !l->have_item, had_cmd = l->cur >= 0;
    if (l->dbl_bracket)
        return lex_fail(L, -EINVAL, "unterminated [[");
    if (l->cur >= 0) {
        shell_cmd *c = &L->out->cmds[l->cur];
        size_t start = l->cur_start;
        if (l->tok_end > start && l->tok_end < end)
            end = l->tok_end; /* not a comment that follows */
        while (end > start && (is_blank(L->s[end - 1]) || L->s[end - 1] == '\n'))
            end--;
        c->sep = sep;
        c->raw = xstrndup(L->s + start, end - start);
        if (sep == SHELL_SEP_BACKGROUND)
            c->flags |= SHELL_CMD_BACKGROUND;
        l->last = l->cur;
        l->cur = -1;
    }
    if (sep == SHELL_SEP_NEWLINE && l->need_more && !had_cmd)
        return 0; /* `a &&` newline `b`: the list goes on */
    if (sep == SHELL_SEP_NEWLINE || sep == SHELL_SEP_END) {
        if (l->need_more && sep == SHELL_SEP_END)
            return lex_fail(L, -EINVAL, "a command is missing after && || or |");
        l->pipe_pending = -1;
        l->after_compound = 0;
        l->have_item = 0;
        return 0;
    }
    if (empty)
        return lex_fail(L, -EINVAL, "a separator with no command before it");
    l->pipe_pending = -1;
    if (sep == SHELL_SEP_PIPE) {
        if (l->last < 0)
            return lex_fail(L, -EINVAL, "a pipe with no command before it");
        L->out->cmds[l->last].flags |= SHELL_CMD_PIPE_OUT;
        l->pipe_pending = l->last;
    }
    l->need_more = sep == SHELL_SEP_PIPE || sep == SHELL_SEP_AND || sep == SHELL_SEP_OR;
    l->after_compound = 0;
    l->have_item = 0;
    return 0;
}

/* Parses a nested list (subshell, group, body, substitution) on the same bytes. */
int lex_nested(struct lexer *L, struct list *outer, int term, unsigned add, int parent,
                  int func, int pipe_from)
{
    if (L->depth >= SHELL_LEX_DEPTH_MAX)
        return lex_fail(L, -E2BIG, "nesting deeper than %d levels", SHELL_LEX_DEPTH_MAX);
    struct list in = {
        .term = term,
        .flags = outer->flags | add,
        .parent = parent,
        .func = func,
        .inherit_pipe = pipe_from,
        .cur = -1,
        .last = -1,
        .pipe_pending = -1,
    };
    L->depth++;
    int rc = lex_parse_list(L, &in);
    L->depth--;
    if (rc == 0 && in.last >= 0 && !(add & (SHELL_CMD_SUBST | SHELL_CMD_PROCSUBST)))
        outer->last = in.last;
    return rc;
}

/* A pipe a compound inherits: the pending one, else the list's own. */
static int pipe_for_compound(const struct list *l)
{
    return l->pipe_pending >= 0 ? l->pipe_pending : l->inherit_pipe;
}

/* After ) } fi done: the compound counts as the command before the next separator. */
static void compound_done(struct list *l)
{
    l->after_compound = 1;
    l->have_item = 1;
    l->need_more = 0;
    l->pipe_pending = -1;
}

/* Parses text as a list of its own (backquotes, here-document bodies) into L's script. */
int lex_sub(struct lexer *L, const char *text, size_t len, unsigned flags, int parent,
                   int func, int pipe_from, int heredoc_body)
{
    if (L->depth >= SHELL_LEX_DEPTH_MAX)
        return lex_fail(L, -E2BIG, "nesting deeper than %d levels", SHELL_LEX_DEPTH_MAX);
    struct lexer child = {
        .s = text, .len = len, .out = L->out, .depth = L->depth + 1,
        .err = L->err, .errlen = L->errlen,
    };
    if (heredoc_body) {
        /* the body is one double-quoted-like text: only its substitutions matter, and they
         * belong to the command that reads the here-document */
        struct list l = {.flags = flags, .parent = parent, .func = func,
                         .inherit_pipe = pipe_from, .cur = parent, .last = -1,
                         .pipe_pending = -1};
        struct wstate ws = {0};
        int rc = 0;
        while (rc == 0 && !at_end(&child)) {
            char c = child.s[child.pos];
            if (c == '\\' && child.pos + 1 < len && strchr("$`\\\n", child.s[child.pos + 1]))
                child.pos += 2;
            else if (c == '$')
                rc = lex_parse_dollar(&child, &l, &ws, 1);
            else if (c == '`')
                rc = lex_parse_backtick(&child, &l, &ws);
            else
                child.pos++;
        }
        free(ws.b.p);
        if (rc == 0 && child.nhd > 0) /* a here-document inside a substitution in here */
            rc = lex_fail(&child, -EINVAL, "a here-document without a body");
        return rc;
    }
    struct list l = {.flags = flags, .parent = parent, .func = func,
                     .inherit_pipe = pipe_from, .cur = -1, .last = -1, .pipe_pending = -1};
    return lex_parse_list(&child, &l);
}

/* ---- here-documents -------------------------------------------------------------------- */

/* Reads the bodies of the pending here-documents, starting right after a newline. */
static int read_heredocs(struct lexer *L)
{
    for (size_t i = 0; i < L->nhd; i++) {
        struct heredoc *h = &L->hd[i];
        shell_redir *r = &L->out->cmds[h->cmd].redirs[h->redir];
        struct wbuf body = {0};
        int found = 0;
        while (!at_end(L)) {
            size_t start = L->pos, end = start;
            while (end < L->len && L->s[end] != '\n')
                end++;
            size_t ls = start;
            if (h->strip_tabs)
                while (ls < end && L->s[ls] == '\t')
                    ls++;
            L->pos = end < L->len ? end + 1 : end;
            if (end - ls == r->target.len && memcmp(L->s + ls, r->target.text, end - ls) == 0) {
                found = 1;
                break;
            }
            wb_put(&body, L->s + ls, end - ls);
            wb_putc(&body, '\n');
        }
        if (!found) {
            free(body.p);
            return lex_fail(L, -EINVAL, "here-document not terminated by \"%s\"", r->target.text);
        }
        r->body = body.p != NULL ? body.p : xstrdup("");
        r->body_len = body.len;
        r->body_literal = h->quoted || (memchr(r->body, '$', r->body_len) == NULL &&
                                        memchr(r->body, '`', r->body_len) == NULL);
        if (!h->quoted) {
            const shell_cmd *c = &L->out->cmds[h->cmd];
            int rc = lex_sub(L, r->body, r->body_len, c->flags | SHELL_CMD_SUBST, h->cmd,
                             c->func, c->pipe_from, 1);
            if (rc != 0)
                return rc;
        }
    }
    L->nhd = 0;
    return 0;
}

/* ---- redirections ---------------------------------------------------------------------- */

static int parse_redir(struct lexer *L, struct list *l, int fd)
{
    shell_redir_kind kind;
    int strip = 0;
    char c = peek(L, 0), n = peek(L, 1), n2 = peek(L, 2);
    size_t oplen = 1;
    if (c == '&') {
        kind = n2 == '>' ? SHELL_REDIR_APPEND_ALL : SHELL_REDIR_OUT_ALL;
        oplen = n2 == '>' ? 3 : 2;
    } else if (c == '<') {
        if (n == '<' && n2 == '<') {
            kind = SHELL_REDIR_HERESTRING;
            oplen = 3;
        } else if (n == '<') {
            kind = SHELL_REDIR_HEREDOC;
            oplen = 2;
            if (n2 == '-') {
                strip = 1;
                oplen = 3;
            }
        } else if (n == '&') {
            kind = SHELL_REDIR_DUP_IN;
            oplen = 2;
        } else if (n == '>') {
            kind = SHELL_REDIR_INOUT;
            oplen = 2;
        } else {
            kind = SHELL_REDIR_IN;
        }
    } else {
        if (n == '>') {
            kind = SHELL_REDIR_APPEND;
            oplen = 2;
        } else if (n == '|') {
            kind = SHELL_REDIR_CLOBBER;
            oplen = 2;
        } else if (n == '&') {
            kind = SHELL_REDIR_DUP_OUT;
            oplen = 2;
        } else {
            kind = SHELL_REDIR_OUT;
        }
    }
    int rc = lex_ensure_cur(L, l);
    if (rc != 0)
        return rc;
    L->pos += oplen;
    while (!at_end(L) && is_blank(L->s[L->pos]))
        L->pos++;
    shell_word target = {0};
    int got = 0;
    if (!at_end(L) && !is_meta(L->s[L->pos]) && L->s[L->pos] != '#')
        rc = lex_read_word(L, l, &target, &got);
    else if (!at_end(L) && (L->s[L->pos] == '<' || L->s[L->pos] == '>') && peek(L, 1) == '(')
        rc = lex_read_word(L, l, &target, &got);
    if (rc != 0)
        return rc;
    if (!got)
        return lex_fail(L, -EINVAL, "a redirection without a target");
    if (kind == SHELL_REDIR_DUP_OUT || kind == SHELL_REDIR_DUP_IN) {
        int digits = target.len > 0 && shell_word_is_literal(&target);
        for (size_t i = 0; digits && i < target.len; i++)
            digits = (target.text[i] >= '0' && target.text[i] <= '9') ||
                     (target.len == 1 && target.text[0] == '-');
        if (!digits) {
            if (kind == SHELL_REDIR_DUP_IN) {
                word_free(&target);
                return lex_fail(L, -EINVAL, "<& needs a descriptor number");
            }
            kind = SHELL_REDIR_OUT_ALL; /* `>& file` is `&> file` */
        }
    }
    shell_cmd *cmd = &L->out->cmds[l->cur];
    if (cmd->nredirs >= SHELL_LEX_REDIRS_MAX) {
        word_free(&target);
        return lex_fail(L, -E2BIG, "more than %d redirections in one command",
                        SHELL_LEX_REDIRS_MAX);
    }
    if (kind == SHELL_REDIR_HEREDOC && L->nhd >= SHELL_LEX_HEREDOCS_MAX) {
        word_free(&target);
        return lex_fail(L, -E2BIG, "more than %d pending here-documents",
                        SHELL_LEX_HEREDOCS_MAX);
    }
    cmd->redirs = xrealloc(cmd->redirs, (cmd->nredirs + 1) * sizeof(*cmd->redirs));
    shell_redir *r = &cmd->redirs[cmd->nredirs];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->fd = fd;
    r->target = target;
    if (kind == SHELL_REDIR_HEREDOC) {
        L->hd[L->nhd++] = (struct heredoc){l->cur, cmd->nredirs,
                                           (target.flags & SHELL_WORD_QUOTED) != 0, strip};
    }
    cmd->nredirs++;
    return 0;
}

/* ---- lists ----------------------------------------------------------------------------- */

static int word_is(const shell_word *w, const char *kw)
{
    return w->unquoted_len == w->len && w->flags == 0 && strcmp(w->text, kw) == 0;
}

static void skip_blanks(struct lexer *L, int newlines)
{
    while (!at_end(L)) {
        char c = L->s[L->pos];
        if (is_blank(c) || (newlines && c == '\n'))
            L->pos++;
        else if (c == '\\' && peek(L, 1) == '\n')
            L->pos += 2;
        else
            break;
    }
}

/* name() body or function name [()] body: the body must be a group or a subshell. */
static int parse_funcdef(struct lexer *L, struct list *l, shell_word *name)
{
    int rc = add_word(L, l, name, 0);
    if (rc != 0)
        return rc;
    int def = l->cur;
    L->out->cmds[def].flags |= SHELL_CMD_FUNCDEF;
    l->tok_end = L->pos; /* the raw text ends after the parentheses */
    rc = end_cmd(L, l, SHELL_SEP_END, L->pos);
    if (rc != 0)
        return rc;
    l->have_item = 1;
    skip_blanks(L, 1);
    if (peek(L, 0) == '{' && (is_blank(peek(L, 1)) || peek(L, 1) == '\n')) {
        L->pos++;
        rc = lex_nested(L, l, '}', SHELL_CMD_GROUP | SHELL_CMD_FUNCBODY, l->parent, def, -1);
    } else if (peek(L, 0) == '(') {
        L->pos++;
        rc = lex_nested(L, l, ')', SHELL_CMD_SUBSHELL | SHELL_CMD_FUNCBODY, l->parent, def, -1);
    } else {
        return lex_fail(L, -EINVAL, "a function body must be { ...; } or ( ... )");
    }
    if (rc == 0)
        compound_done(l);
    return rc;
}

/* (( expr )) as a command: kept as one word; substitutions inside it are refused. */
static int parse_arith_cmd(struct lexer *L, struct list *l)
{
    struct wstate ws = {0};
    int rc = lex_parse_arith(L, &ws, 0);
    if (rc != 0) {
        free(ws.b.p);
        return rc > 0 ? lex_fail(L, -EINVAL, "(( ... )) with a substitution is not supported") : rc;
    }
    shell_word kw = {xstrdup("(("), 2, 0, 2, 2, 0};
    shell_word expr = {ws.b.p, ws.b.len, SHELL_WORD_ARITH, 0, 0, 1};
    rc = add_word(L, l, &kw, 0);
    if (rc == 0)
        rc = add_word(L, l, &expr, 0);
    else
        free(expr.text);
    if (rc == 0)
        L->out->cmds[l->cur].flags |= SHELL_CMD_ARITH;
    return rc;
}

/* A word read at the start of a command may be a reserved word. Returns 1 when handled. */
static int reserved(struct lexer *L, struct list *l, shell_word *w, int *rc)
{
    static const char *const steer[] = {"if", "then", "else", "elif", "do", "while", "until",
                                        "!"};
    for (size_t i = 0; i < sizeof steer / sizeof steer[0]; i++)
        if (word_is(w, steer[i])) {
            word_free(w);
            l->have_item = 1;
            l->need_more = 0;
            return 1;
        }
    if (word_is(w, "fi") || word_is(w, "done")) {
        word_free(w);
        compound_done(l);
        return 1;
    }
    if (word_is(w, "case") || word_is(w, "esac") || word_is(w, "coproc")) {
        *rc = lex_fail(L, -EINVAL, "`%s` is not supported", w->text);
        word_free(w);
        return 1;
    }
    if (word_is(w, "{")) {
        word_free(w);
        *rc = lex_nested(L, l, '}', SHELL_CMD_GROUP, l->parent, l->func, pipe_for_compound(l));
        if (*rc == 0)
            compound_done(l);
        return 1;
    }
    if (word_is(w, "}")) {
        word_free(w);
        if (l->term != '}') {
            *rc = lex_fail(L, -EINVAL, "an unexpected }");
            return 1;
        }
        *rc = end_cmd(L, l, SHELL_SEP_END, L->pos - 1);
        l->term = -1; /* tells parse_list to return */
        return 1;
    }
    if (word_is(w, "function")) {
        shell_word name = {0};
        int got = 0;
        word_free(w);
        skip_blanks(L, 0);
        *rc = lex_read_word(L, l, &name, &got);
        if (*rc == 0 && (!got || !shell_word_is_literal(&name))) {
            if (got)
                word_free(&name);
            *rc = lex_fail(L, -EINVAL, "function needs a literal name");
        }
        if (*rc != 0)
            return 1;
        skip_blanks(L, 0);
        if (peek(L, 0) == '(') {
            L->pos++;
            skip_blanks(L, 0);
            if (peek(L, 0) != ')') {
                word_free(&name);
                *rc = lex_fail(L, -EINVAL, "an unexpected (");
                return 1;
            }
            L->pos++;
        }
        *rc = parse_funcdef(L, l, &name);
        return 1;
    }
    if (word_is(w, "[[") || word_is(w, "for") || word_is(w, "select")) {
        int test = w->text[0] == '[';
        *rc = add_word(L, l, w, 0);
        if (*rc == 0) {
            L->out->cmds[l->cur].flags |= test ? SHELL_CMD_TEST : SHELL_CMD_FOR;
            l->dbl_bracket = test;
        }
        return 1;
    }
    return 0;
}

/* Handles a word token. */
static int on_word(struct lexer *L, struct list *l)
{
    shell_word w = {0};
    int got = 0, rc = lex_read_word(L, l, &w, &got);
    if (rc != 0 || !got)
        return rc;
    if (l->after_compound) {
        word_free(&w);
        return lex_fail(L, -EINVAL, "a word after the end of a compound command");
    }
    if (l->dbl_bracket) {
        if (word_is(&w, "]]"))
            l->dbl_bracket = 0;
        return add_word(L, l, &w, 0);
    }
    if (cmd_at_start(L, l) && reserved(L, l, &w, &rc))
        return rc;
    size_t nl = 0;
    int assign = (l->cur < 0 || L->out->cmds[l->cur].nwords == 0) &&
                 shell_word_is_assignment(&w, &nl);
    if (assign) {
        const char *eq = w.text + nl + (w.text[nl] == '+' ? 1 : 0);
        if (eq[1] == '\0' && peek(L, 0) == '(') {
            word_free(&w);
            return lex_fail(L, -EINVAL, "array assignments are not supported");
        }
    }
    return add_word(L, l, &w, assign);
}

/* In [[ ]] the operators && || < > ( ) ! are words of the test, not shell syntax. */
static int on_test_operator(struct lexer *L, struct list *l)
{
    char c = peek(L, 0);
    size_t n = ((c == '&' || c == '|') && peek(L, 1) == c) ? 2 : 1;
    shell_word w = {xstrndup(L->s + L->pos, n), n, SHELL_WORD_QUOTED, n, 0, 0};
    L->pos += n;
    return add_word(L, l, &w, 0);
}

static int on_open_paren(struct lexer *L, struct list *l)
{
    if (cmd_at_start(L, l)) {
        if (peek(L, 1) == '(')
            return parse_arith_cmd(L, l);
        L->pos++;
        int rc = lex_nested(L, l, ')', SHELL_CMD_SUBSHELL, l->parent, l->func,
                            pipe_for_compound(l));
        if (rc == 0)
            compound_done(l);
        return rc;
    }
    shell_cmd *c = l->cur >= 0 ? &L->out->cmds[l->cur] : NULL;
    if (c != NULL && c->nwords == 1 && c->nassigns == 0 && c->nredirs == 0 &&
        !(c->flags & (SHELL_CMD_FOR | SHELL_CMD_TEST)) && shell_word_is_literal(&c->words[0])) {
        L->pos++;
        skip_blanks(L, 0);
        if (peek(L, 0) != ')')
            return lex_fail(L, -EINVAL, "an unexpected (");
        L->pos++;
        shell_word name = c->words[0];
        l->tok_start = l->cur_start;
        c->nwords = 0;
        free(c->words);
        c->words = NULL;
        L->out->ncmds--; /* the name becomes the definition's word */
        l->cur = -1;
        return parse_funcdef(L, l, &name);
    }
    return lex_fail(L, -EINVAL, "an unexpected (");
}

static int lex_parse_list(struct lexer *L, struct list *l)
{
    for (;;) {
        int rc = 0;
        skip_blanks(L, 0);
        l->tok_start = L->pos;
        if (at_end(L)) {
            if (l->term > 0)
                return lex_fail(L, -EINVAL, "unterminated %s",
                            l->term == ')' ? "( or $(" : "{ group");
            rc = end_cmd(L, l, SHELL_SEP_END, L->pos);
            if (rc == 0 && L->nhd > 0)
                rc = lex_fail(L, -EINVAL, "a here-document without a body");
            return rc;
        }
        char c = L->s[L->pos], n = peek(L, 1);
        if (c == '\0')
            return lex_fail(L, -EINVAL, "a NUL byte");
        if (c == '#') {
            while (!at_end(L) && L->s[L->pos] != '\n')
                L->pos++;
            continue;
        }
        if (l->dbl_bracket && c != '\n' && c != ';' && (c == '&' || c == '|' || c == '<' ||
                                                        c == '>' || c == '(' || c == ')')) {
            rc = on_test_operator(L, l);
        } else if (c == '\n') {
            size_t end = L->pos++;
            rc = end_cmd(L, l, SHELL_SEP_NEWLINE, end);
            if (rc == 0 && L->nhd > 0)
                rc = read_heredocs(L);
        } else if (c == ';') {
            if (n == ';' || n == '&')
                return lex_fail(L, -EINVAL, "`;;` (case) is not supported");
            rc = end_cmd(L, l, SHELL_SEP_SEMI, L->pos++);
        } else if (c == '&' && n == '&') {
            L->pos += 2;
            rc = end_cmd(L, l, SHELL_SEP_AND, L->pos - 2);
        } else if (c == '&' && n == '>') {
            rc = parse_redir(L, l, -1);
        } else if (c == '&') {
            rc = end_cmd(L, l, SHELL_SEP_BACKGROUND, L->pos++);
        } else if (c == '|') {
            size_t end = L->pos;
            L->pos += (n == '|' || n == '&') ? 2 : 1;
            rc = end_cmd(L, l, n == '|' ? SHELL_SEP_OR : SHELL_SEP_PIPE, end);
        } else if (c == ')') {
            if (l->term != ')')
                return lex_fail(L, -EINVAL, "an unexpected )");
            rc = end_cmd(L, l, SHELL_SEP_END, L->pos++);
            if (rc == 0 && l->need_more)
                rc = lex_fail(L, -EINVAL, "a command is missing after && || or |");
            return rc;
        } else if (c == '(') {
            rc = on_open_paren(L, l);
        } else if ((c == '<' || c == '>') && n != '(') {
            rc = parse_redir(L, l, -1);
        } else if (c >= '0' && c <= '9') {
            size_t i = L->pos;
            while (i < L->len && L->s[i] >= '0' && L->s[i] <= '9')
                i++;
            if (i < L->len && (L->s[i] == '<' || L->s[i] == '>') && i - L->pos <= 4) {
                int fd = 0;
                for (size_t k = L->pos; k < i; k++)
                    fd = fd * 10 + (L->s[k] - '0');
                L->pos = i;
                rc = parse_redir(L, l, fd);
            } else {
                rc = on_word(L, l);
            }
        } else {
            rc = on_word(L, l);
        }
        if (rc != 0)
            return rc;
        if (c != '\n' && c != ';' && c != '&' && c != '|' && c != ')')
            l->tok_end = L->pos;
        if (l->term < 0) /* a closing } was read */
            return 0;
    }
}

/* ---- entry points ---------------------------------------------------------------------- */

/* Validates the whole input before any parsing: limits first. */
int shell_lex_parse(const char *src, size_t len, shell_script **out, char *err, size_t errlen)
{
    *out = NULL;
    if (src == NULL)
        return -EINVAL;
    if (len > SHELL_LEX_INPUT_MAX) {
        str_fmt(err, errlen, "the text is longer than %d bytes", SHELL_LEX_INPUT_MAX);
        return -E2BIG;
    }
    const char *nul = memchr(src, '\0', len);
    if (nul != NULL) { /* anywhere: in quotes, comments and here-documents too */
        str_fmt(err, errlen, "a NUL byte (at byte %zu)", (size_t)(nul - src));
        return -EINVAL;
    }
    shell_script *s = xcalloc(1, sizeof *s);
    struct lexer L = {.s = src, .len = len, .out = s, .err = err, .errlen = errlen};
    struct list l = {.cur = -1, .parent = -1, .func = -1, .inherit_pipe = -1, .last = -1,
                     .pipe_pending = -1};
    int rc = lex_parse_list(&L, &l);
    if (rc != 0) {
        shell_script_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Every command owns its arrays and every word its text. */
void shell_script_free(shell_script *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->ncmds; i++) {
        shell_cmd *c = &s->cmds[i];
        for (size_t k = 0; k < c->nwords; k++)
            free(c->words[k].text);
        for (size_t k = 0; k < c->nassigns; k++)
            free(c->assigns[k].text);
        for (size_t k = 0; k < c->nredirs; k++) {
            free(c->redirs[k].target.text);
            free(c->redirs[k].body);
        }
        free(c->words);
        free(c->assigns);
        free(c->redirs);
        free(c->raw);
    }
    free(s);
}

/* Literal means: no flag that the shell resolves at run time. */
int shell_word_is_literal(const shell_word *w)
{
    return (w->flags & SHELL_WORD_EXPANDS) == 0;
}

/* NAME must be in the unquoted, unexpanded prefix, = or += right after it. */
int shell_word_is_assignment(const shell_word *w, size_t *name_len)
{
    size_t i = 0;
    if (w->unquoted_len == 0 || !is_name_start(w->text[0]))
        return 0;
    while (i < w->unquoted_len && is_name_char(w->text[i]))
        i++;
    if (i < w->unquoted_len && w->text[i] == '=') {
        *name_len = i;
        return 1;
    }
    if (i + 1 < w->unquoted_len && w->text[i] == '+' && w->text[i + 1] == '=') {
        *name_len = i;
        return 1;
    }
    return 0;
}
