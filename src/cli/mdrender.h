/* The small markdown renderer of the assistant's answers, shared by `cloudya ask`, the
 * plain chat and the full-screen chat. It turns text from the server into a list of lines
 * that fit a width, each with styled spans: the callers only decide how a style looks (SGR
 * sequences on a terminal, curses attributes, nothing in a pipe). It knows what the
 * assistant writes: paragraphs (lines joined and wrapped at word boundaries), `code` spans,
 * **bold**, "- " / "* " / "1. " lists with a hanging indent, "# " headings and ``` fenced
 * blocks (kept as they are, cut at the width). Text from the server can never drive the
 * terminal: control characters, escape sequences and invalid UTF-8 are removed or replaced
 * before anything is measured. Pure functions: no terminal, no locale, no globals. */
#ifndef CLOUDYA_CLI_MDRENDER_H
#define CLOUDYA_CLI_MDRENDER_H
#include <stddef.h>
#include <stdio.h>

#define MD_INPUT_MAX (64u << 10) /* bytes of one text rendered; the rest is dropped */
#define MD_LINES_MAX 20000       /* lines of one document; later lines are dropped */
#define MD_WIDTH_MIN 12          /* a narrower width is taken as this one */
#define MD_INDENT_MAX 16         /* deeper indents are taken as this one */

/* Styles, combined as bits. md_render uses MD_BOLD and MD_CODE; callers add the others to
 * lines of their own (the action, a risk, token usage). */
enum md_style {
    MD_BOLD = 1u << 0,
    MD_CODE = 1u << 1, /* a code span or block: cyan on a terminal */
    MD_DIM = 1u << 2,
    MD_RED = 1u << 3,
    MD_YELLOW = 1u << 4,
    MD_GREEN = 1u << 5,
    MD_CYAN = 1u << 6,
};

/* How text is cut into lines by md_add_text. */
enum md_wrap {
    MD_WRAP_NONE,  /* one line per line of the text, never cut (a command to copy) */
    MD_WRAP_WORDS, /* at spaces, runs of spaces collapsed; a longer word is cut */
    MD_WRAP_HARD,  /* at the width exactly, spaces kept (command output) */
};

/* md_render's flags. */
#define MD_TICKS 1u /* keep the backticks around code spans (no colour to show them) */

struct md_span {
    size_t start, end; /* bytes of the line's text */
    unsigned style;
};

struct md_line {
    char *text; /* NUL-terminated, valid UTF-8 without control characters */
    size_t len;
    size_t width; /* display columns */
    struct md_span *spans; /* runs of one non-zero style, in order, not overlapping */
    size_t nspans;
};

struct md_doc {
    struct md_line *lines;
    size_t n, cap;
    int truncated; /* lines were dropped at MD_LINES_MAX or text at MD_INPUT_MAX */
};

/* Makes d empty. Never fails. */
void md_doc_init(struct md_doc *d);
/* Frees every line; d is then empty and reusable. */
void md_doc_free(struct md_doc *d);

/* Appends markdown text (len bytes, cut at MD_INPUT_MAX) rendered to fit width display
 * columns (0 or less: no limit), every line indented by indent spaces. Blank lines of the
 * text separate blocks with one blank line; no blank line is added at either end. Returns
 * the number of lines added (0 for empty text). */
size_t md_render(struct md_doc *d, const char *text, size_t len, int width, int indent,
                 unsigned flags);

/* Appends text (len bytes, cut at MD_INPUT_MAX) without markdown, all in style, cut into
 * lines as wrap says, indented by indent spaces (the continuation lines of a wrapped line
 * too). Each line of the text gives at least one line, an empty one included, except a
 * trailing newline. Returns the number of lines added. */
size_t md_add_text(struct md_doc *d, const char *text, size_t len, unsigned style, int width,
                   int indent, enum md_wrap wrap);

/* Appends one empty line, unless d is empty or already ends with one. */
void md_add_blank(struct md_doc *d);

/* Writes every line to f, the styles as SGR sequences when color (reset at each span's
 * end), nothing else when not. Each line ends with "\n". */
void md_print(const struct md_doc *d, FILE *f, int color);

/* Copies text (len bytes) into out (cap bytes, NUL-terminated, cut between characters) so
 * that it is safe to show: CSI and OSC escape sequences are removed, "\r\n" becomes "\n",
 * tabs become spaces up to the next multiple of 8 columns, other control characters (C0,
 * DEL, C1) are removed, and bytes that are not valid UTF-8 become '?'. "\n" is kept when
 * keep_newlines, else it becomes a space. Returns the length written. */
size_t md_clean(const char *text, size_t len, char *out, size_t cap, int keep_newlines);

#endif
