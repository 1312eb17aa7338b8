#define _POSIX_C_SOURCE 200809L
/* Words for the tokenizer (see shell_lex.h): a word is read part by part, plain bytes,
 * backslash escapes, single and double quotes, $'...' (decoded), $NAME and ${...},
 * $(( )), $( ) and backquotes (their commands parsed into the script), <( ) and >( ),
 * globs, brace lists and a leading ~. Expansions keep their text and flag the word. */
#include "shell_lex_int.h"

#include "str.h"
#include "xalloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Appends a code point as UTF-8. Returns 0, or -EINVAL outside Unicode or for NUL. */
static int put_utf8(struct wstate *ws, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -EINVAL;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    ws_plain(ws, u, n, 1);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* $'...': bash's ANSI-C quoting, decoded so that $'\x72m' is seen as rm. */
static int parse_ansi_c(struct lexer *L, struct wstate *ws)
{
    L->pos += 2;
    ws->flags |= SHELL_WORD_QUOTED | SHELL_WORD_ANSI_C;
    ws->impure = 1;
    while (!at_end(L)) {
        char c = L->s[L->pos];
        if (c == '\'') {
            L->pos++;
            return 0;
        }
        if (c != '\\') {
            ws_plain(ws, &c, 1, 1);
            L->pos++;
            continue;
        }
        char e = peek(L, 1);
        uint32_t v = 0;
        size_t i = 0;
        L->pos += 2;
        switch (e) {
        case 'a': v = 7; break;
        case 'b': v = 8; break;
        case 'e': case 'E': v = 27; break;
        case 'f': v = 12; break;
        case 'n': v = 10; break;
        case 'r': v = 13; break;
        case 't': v = 9; break;
        case 'v': v = 11; break;
        case '\\': case '\'': case '"': case '?': v = (unsigned char)e; break;
        case 'c':
            if (at_end(L))
                return lex_fail(L, -EINVAL, "unterminated $'...'");
            v = (unsigned char)L->s[L->pos++] & 0x1F;
            break;
        case 'x': case 'u': case 'U': {
            size_t max = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            for (i = 0; i < max && !at_end(L) && hexval(L->s[L->pos]) >= 0; i++)
                v = v * 16 + (uint32_t)hexval(L->s[L->pos++]);
            if (i == 0) {
                ws_plain(ws, "\\", 1, 1);
                ws_plain(ws, &e, 1, 1);
                continue;
            }
            if (e != 'x') {
                if (put_utf8(ws, v) != 0)
                    return lex_fail(L, -EINVAL, "$'\\%c...' is not a character we accept", e);
                continue;
            }
            break;
        }
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
            v = (uint32_t)(e - '0');
            for (i = 1; i < 3 && !at_end(L) && L->s[L->pos] >= '0' && L->s[L->pos] <= '7'; i++)
                v = v * 8 + (uint32_t)(L->s[L->pos++] - '0');
            v &= 0xFF;
            break;
        case '\0':
            if (L->pos > L->len)
                return lex_fail(L, -EINVAL, "unterminated $'...'");
            return lex_fail(L, -EINVAL, "a NUL byte in $'...'");
        default:
            ws_plain(ws, "\\", 1, 1);
            ws_plain(ws, &e, 1, 1);
            continue;
        }
        if (v == 0)
            return lex_fail(L, -EINVAL, "a NUL byte in $'...'");
        char b = (char)v;
        ws_plain(ws, &b, 1, 1);
    }
    return lex_fail(L, -EINVAL, "unterminated $'...'");
}

/* $(( ... )): kept as written; substitutions inside it are not modelled. Returns 1 when the
 * text at pos is not an arithmetic expansion after all (a substitution of a subshell). */
int lex_parse_arith(struct lexer *L, struct wstate *ws, size_t skip)
{
    size_t start = L->pos, i = L->pos + skip;
    int depth = 0;
    for (; i < L->len; i++) {
        char c = L->s[i];
        if (c == '(')
            depth++;
        else if (c == ')' && --depth == 0)
            break;
        else if (c == ';' || c == '\n' || c == '`' || c == '\'' || c == '"' || c == '\\')
            return 1;
        else if (c == '$' && i + 1 < L->len && L->s[i + 1] == '(' &&
                 !(i + 2 < L->len && L->s[i + 2] == '('))
            return 1;
    }
    if (i >= L->len || L->s[i - 1] != ')')
        return 1;
    ws_exp(ws, SHELL_WORD_ARITH, ws->b.len);
    wb_put(&ws->b, L->s + start, i + 1 - start);
    L->pos = i + 1;
    return 0;
}

/* Starts a substitution's list; the word keeps its text as written. */
static int parse_cmdsubst(struct lexer *L, struct list *l, struct wstate *ws, size_t skip,
                          unsigned flag)
{
    size_t start = L->pos;
    int rc = lex_ensure_cur(L, l);
    if (rc != 0)
        return rc;
    const shell_cmd *c = &L->out->cmds[l->cur];
    int pipe = (c->flags & SHELL_CMD_PIPE_IN) ? c->pipe_from : -1;
    size_t at = ws->b.len;
    L->pos += skip;
    rc = lex_nested(L, l, ')', flag == SHELL_WORD_PROCSUBST ? SHELL_CMD_PROCSUBST : SHELL_CMD_SUBST,
                l->cur, l->func, pipe);
    if (rc != 0)
        return rc;
    ws_exp(ws, flag, at);
    wb_put(&ws->b, L->s + start, L->pos - start);
    return 0;
}

/* ${...}: kept as written, but substitutions inside are parsed (and quotes skipped). */
static int parse_braced(struct lexer *L, struct list *l, struct wstate *ws, int in_dq)
{
    size_t start = L->pos, at = ws->b.len;
    struct wstate dummy = {0};
    int depth = 1, rc = 0;
    L->pos += 2;
    while (rc == 0 && !at_end(L) && depth > 0) {
        char c = L->s[L->pos];
        if (c == '\\') {
            L->pos += 2;
        } else if (c == '\'' && !in_dq) {
            const char *q = memchr(L->s + L->pos + 1, '\'', L->len - L->pos - 1);
            if (q == NULL)
                rc = lex_fail(L, -EINVAL, "unterminated single quote");
            else
                L->pos = (size_t)(q - L->s) + 1;
        } else if (c == '"') {
            rc = lex_parse_dq(L, l, &dummy);
        } else if (c == '$') {
            rc = lex_parse_dollar(L, l, &dummy, in_dq);
        } else if (c == '`') {
            rc = lex_parse_backtick(L, l, &dummy);
        } else {
            if (c == '{')
                depth++;
            else if (c == '}')
                depth--;
            L->pos++;
        }
    }
    free(dummy.b.p);
    if (rc != 0)
        return rc;
    if (depth > 0 || L->pos > L->len)
        return lex_fail(L, -EINVAL, "unterminated ${...}");
    ws_exp(ws, SHELL_WORD_PARAM, at);
    wb_put(&ws->b, L->s + start, L->pos - start);
    return 0;
}

/* $'...', $"...", $((...)), $(...), ${...}, $NAME and the special parameters; a lone $ is
 * a plain byte. Returns 0 or the error of the part it started. */
int lex_parse_dollar(struct lexer *L, struct list *l, struct wstate *ws, int in_dq)
{
    char n = peek(L, 1);
    size_t start = L->pos;
    if (n == '\'' && !in_dq)
        return parse_ansi_c(L, ws);
    if (n == '"' && !in_dq) {
        L->pos++;
        return lex_parse_dq(L, l, ws);
    }
    if (n == '(' && peek(L, 2) == '(') {
        int rc = lex_parse_arith(L, ws, 1);
        if (rc <= 0)
            return rc;
    }
    if (n == '(')
        return parse_cmdsubst(L, l, ws, 2, SHELL_WORD_CMDSUBST);
    if (n == '{')
        return parse_braced(L, l, ws, in_dq);
    if (is_name_start(n)) {
        L->pos++;
        while (!at_end(L) && is_name_char(L->s[L->pos]))
            L->pos++;
    } else if ((n >= '0' && n <= '9') || (n != '\0' && strchr("@*#?-$!", n) != NULL)) {
        L->pos += 2;
    } else {
        ws_plain(ws, "$", 1, in_dq);
        L->pos++;
        return 0;
    }
    ws_exp(ws, SHELL_WORD_PARAM, ws->b.len);
    wb_put(&ws->b, L->s + start, L->pos - start);
    return 0;
}

/* `...`: the text up to the closing backquote, with \` \$ \\ unescaped, is parsed as a list
 * of its own. */
int lex_parse_backtick(struct lexer *L, struct list *l, struct wstate *ws)
{
    size_t start = L->pos, i = L->pos + 1;
    struct wbuf inner = {0};
    for (; i < L->len && L->s[i] != '`'; i++) {
        if (L->s[i] == '\\' && i + 1 < L->len && strchr("$`\\", L->s[i + 1]) != NULL)
            i++;
        wb_putc(&inner, L->s[i]);
    }
    if (i >= L->len) {
        free(inner.p);
        return lex_fail(L, -EINVAL, "unterminated backquote");
    }
    int rc = lex_ensure_cur(L, l);
    if (rc == 0) {
        const shell_cmd *c = &L->out->cmds[l->cur];
        int pipe = (c->flags & SHELL_CMD_PIPE_IN) ? c->pipe_from : -1;
        rc = lex_sub(L, inner.p != NULL ? inner.p : "", inner.len, l->flags | SHELL_CMD_SUBST,
                     l->cur, l->func, pipe, 0);
    }
    free(inner.p);
    if (rc != 0)
        return rc;
    L->pos = i + 1;
    ws_exp(ws, SHELL_WORD_CMDSUBST, ws->b.len);
    wb_put(&ws->b, L->s + start, L->pos - start);
    return 0;
}

/* "...": \ escapes only $ ` " \ and newline; expansions inside stay expansions. Returns
 * 0, or -EINVAL when the quote is not closed. */
int lex_parse_dq(struct lexer *L, struct list *l, struct wstate *ws)
{
    ws->flags |= SHELL_WORD_QUOTED;
    ws->impure = 1;
    L->pos++;
    while (!at_end(L)) {
        char c = L->s[L->pos];
        int rc = 0;
        if (c == '"') {
            L->pos++;
            return 0;
        }
        if (c == '\\') {
            char n = peek(L, 1);
            if (n == '\n') {
                L->pos += 2;
            } else if (n == '$' || n == '`' || n == '"' || n == '\\') {
                ws_plain(ws, &n, 1, 1);
                L->pos += 2;
            } else {
                ws_plain(ws, "\\", 1, 1);
                L->pos++;
            }
            continue;
        }
        if (c == '$')
            rc = lex_parse_dollar(L, l, ws, 1);
        else if (c == '`')
            rc = lex_parse_backtick(L, l, ws);
        else if (c == '\0')
            rc = lex_fail(L, -EINVAL, "a NUL byte");
        else {
            ws_plain(ws, &c, 1, 1);
            L->pos++;
        }
        if (rc != 0)
            return rc;
    }
    return lex_fail(L, -EINVAL, "unterminated double quote");
}

/* An unquoted [ starts a glob only when a ] follows in the same word. */
static int bracket_closes(const struct lexer *L)
{
    for (size_t i = L->pos + 1; i < L->len && !is_meta(L->s[i]); i++)
        if (L->s[i] == ']')
            return 1;
    return 0;
}

/* Reads one word at pos. *got is 0 when nothing was there (only line continuations). */
int lex_read_word(struct lexer *L, struct list *l, shell_word *w, int *got)
{
    struct wstate ws = {0};
    size_t start = L->pos;
    int rc = 0;
    *got = 0;
    while (rc == 0 && !at_end(L)) {
        char c = L->s[L->pos];
        if ((c == '<' || c == '>') && peek(L, 1) == '(' && L->pos == start) {
            rc = parse_cmdsubst(L, l, &ws, 2, SHELL_WORD_PROCSUBST);
            continue;
        }
        if (is_meta(c))
            break;
        if (c == '\0') {
            rc = lex_fail(L, -EINVAL, "a NUL byte");
        } else if (c == '\\') {
            char n = peek(L, 1);
            if (L->pos + 1 >= L->len) {
                rc = lex_fail(L, -EINVAL, "a backslash at the end of the input");
            } else if (n == '\n') {
                L->pos += 2;
                if (L->pos >= L->len || is_meta(L->s[L->pos]))
                    ws.impure = 1;
            } else {
                ws_plain(&ws, &n, 1, 1);
                ws.flags |= SHELL_WORD_QUOTED;
                L->pos += 2;
            }
        } else if (c == '\'') {
            const char *q = memchr(L->s + L->pos + 1, '\'', L->len - L->pos - 1);
            if (q == NULL) {
                rc = lex_fail(L, -EINVAL, "unterminated single quote");
            } else {
                size_t n = (size_t)(q - (L->s + L->pos + 1));
                ws.flags |= SHELL_WORD_QUOTED;
                ws.impure = 1;
                wb_put(&ws.b, L->s + L->pos + 1, n);
                L->pos += n + 2;
            }
        } else if (c == '"') {
            rc = lex_parse_dq(L, l, &ws);
        } else if (c == '$') {
            rc = lex_parse_dollar(L, l, &ws, 0);
        } else if (c == '`') {
            rc = lex_parse_backtick(L, l, &ws);
        } else {
            size_t at = ws.b.len;
            if (c == '*' || c == '?' || (c == '[' && bracket_closes(L)))
                ws_exp(&ws, SHELL_WORD_GLOB, at);
            else if (c == '~' && L->pos == start)
                ws_exp(&ws, SHELL_WORD_TILDE, at);
            else if (c == '{') {
                if (ws.brace_depth++ == 0) {
                    ws.brace_at = at;
                    ws.brace_list = 0;
                }
            } else if (ws.brace_depth > 0 && (c == ',' || (c == '.' && peek(L, 1) == '.'))) {
                ws.brace_list = 1;
            } else if (c == '}' && ws.brace_depth > 0) {
                if (--ws.brace_depth == 0 && ws.brace_list)
                    ws_exp(&ws, SHELL_WORD_BRACE, ws.brace_at);
            }
            if (ws.flags & SHELL_WORD_BRACE && ws.literal_len > ws.brace_at)
                ws.literal_len = ws.brace_at;
            wb_putc(&ws.b, c);
            if (!ws.impure)
                ws.unquoted_len = ws.b.len;
            L->pos++;
        }
    }
    if (rc != 0) {
        free(ws.b.p);
        return rc;
    }
    if (ws.b.len == 0 && !(ws.flags & (SHELL_WORD_QUOTED | SHELL_WORD_EXPANDS))) {
        free(ws.b.p);
        return 0;
    }
    w->text = ws.b.p != NULL ? ws.b.p : xstrdup("");
    w->len = ws.b.len;
    w->flags = ws.flags;
    w->nexp = ws.nexp;
    w->literal_len = ws.have_exp ? ws.literal_len : ws.b.len;
    w->unquoted_len = ws.unquoted_len;
    *got = 1;
    return 0;
}
