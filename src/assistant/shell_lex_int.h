/* Internals shared by shell_lex.c (lists, commands, here-documents, redirections) and
 * shell_lex_word.c (words: quotes, escapes, $-expansions, substitutions). Not part of the
 * module's interface. */
#ifndef CLOUDYA_SHELL_LEX_INT_H
#define CLOUDYA_SHELL_LEX_INT_H
#include "shell_lex.h"

#include "xalloc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A growing text; never longer than the input it comes from. */
struct wbuf {
    char *p;
    size_t len, cap;
};

/* The word being read. */
struct wstate {
    struct wbuf b;
    unsigned flags;
    unsigned nexp;
    size_t literal_len;
    int have_exp;
    int impure;       /* quoting, escapes or expansions seen: ends unquoted_len */
    size_t unquoted_len;
    int brace_depth;  /* unquoted { not yet closed */
    int brace_list;   /* a , or .. seen inside it */
    size_t brace_at;  /* text offset of the outermost open { */
};

struct heredoc {
    int cmd;
    size_t redir;
    int quoted;
    int strip_tabs;
};

struct lexer {
    const char *s;
    size_t len, pos;
    shell_script *out;
    int depth;
    char *err;
    size_t errlen;
    struct heredoc hd[SHELL_LEX_HEREDOCS_MAX];
    size_t nhd;
};

/* One list of commands up to its terminator. */
struct list {
    int term;          /* 0 (end of input), ')' or '}' */
    unsigned flags;    /* given to every command of the list */
    int parent, func;
    int inherit_pipe;  /* commands of a compound that reads a pipe read it too */
    int cur;           /* the command being read, or -1 */
    size_t tok_start;  /* where the current token started */
    size_t cur_start;  /* where the current command started */
    size_t tok_end;    /* where the last token of the current command ended */
    int last;          /* the last command finished in this list (or a nested one) */
    int pipe_pending;  /* after |: the command writing the pipe */
    int have_item;     /* something since the last separator */
    int need_more;     /* after && || |: a command must follow */
    int after_compound; /* after ) } fi done: only redirections or a separator */
    int dbl_bracket;   /* inside [[ ... ]] */
};

/* ---- small helpers --------------------------------------------------------------------- */

static inline void wb_put(struct wbuf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static inline void wb_putc(struct wbuf *b, char c)
{
    wb_put(b, &c, 1);
}

static inline int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Bytes that end an unquoted word. */
static inline int is_meta(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' ||
           c == '<' || c == '>' || c == '(' || c == ')';
}

static inline int is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static inline char peek(const struct lexer *L, size_t ahead)
{
    return L->pos + ahead < L->len ? L->s[L->pos + ahead] : '\0';
}

static inline int at_end(const struct lexer *L)
{
    return L->pos >= L->len;
}

/* Adds plain bytes: unquoted ones extend the unquoted prefix until something impure. */
static inline void ws_plain(struct wstate *ws, const char *p, size_t n, int quoted)
{
    wb_put(&ws->b, p, n);
    if (quoted)
        ws->impure = 1;
    if (!ws->impure)
        ws->unquoted_len = ws->b.len;
}

/* Marks an expansion starting at the current end of the text. */
static inline void ws_exp(struct wstate *ws, unsigned flag, size_t at)
{
    ws->flags |= flag;
    ws->nexp++;
    ws->impure = 1;
    if (!ws->have_exp && flag != SHELL_WORD_TILDE) {
        ws->literal_len = at;
        ws->have_exp = 1;
    }
}

static inline void word_free(shell_word *w)
{
    free(w->text);
    w->text = NULL;
}

/* ---- shell_lex.c ---------------------------------------------------------------------- */

/* Writes the sentence (the first error is the one reported) and returns rc. */
int lex_fail(struct lexer *L, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The command the current token belongs to, created when first needed. Returns 0 or
 * -E2BIG. */
int lex_ensure_cur(struct lexer *L, struct list *l);

/* Parses a nested list (subshell, group, body, substitution) on the same bytes up to term.
 * Returns 0 or the error. */
int lex_nested(struct lexer *L, struct list *outer, int term, unsigned add, int parent,
               int func, int pipe_from);

/* Parses text as a list of its own (backquotes) or as a here-document body (only its
 * substitutions) into L's script. Returns 0 or the error. */
int lex_sub(struct lexer *L, const char *text, size_t len, unsigned flags, int parent,
            int func, int pipe_from, int heredoc_body);

/* ---- shell_lex_word.c ------------------------------------------------------------------ */

/* Reads one word at pos; *got is 0 when nothing was there. Returns 0 or the error. */
int lex_read_word(struct lexer *L, struct list *l, shell_word *w, int *got);

/* $..., `...`, "...": one part of a word, appended to ws. Return 0 or the error. */
int lex_parse_dollar(struct lexer *L, struct list *l, struct wstate *ws, int in_dq);
int lex_parse_backtick(struct lexer *L, struct list *l, struct wstate *ws);
int lex_parse_dq(struct lexer *L, struct list *l, struct wstate *ws);

/* $(( ... )) or (( ... )) at pos (skip: bytes before the first parenthesis). Returns 0,
 * 1 when it is not arithmetic after all, or the error. */
int lex_parse_arith(struct lexer *L, struct wstate *ws, size_t skip);

#endif
