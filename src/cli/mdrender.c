/* The markdown renderer of the assistant's answers (mdrender.h). Text is cleaned first
 * (md_clean), so everything after works on valid UTF-8 without control characters; then
 * blocks are found line by line, inline markup is turned into a style per byte, and the
 * flow cuts the styled text into lines of the width, measured in display columns. */
#define _GNU_SOURCE
#include "mdrender.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "xalloc.h"

#define CLEAN_MAX (2 * MD_INPUT_MAX) /* cleaned text: tabs may grow it */
#define MARKER_MAX 8                 /* "- " or "123. " */
#define LEVEL_MAX 4                  /* list nesting shown */
#define TICK_RUN_MAX 8               /* longer runs of backticks are plain text */

/* ---- the document ---------------------------------------------------------------------- */

void md_doc_init(struct md_doc *d)
{
    memset(d, 0, sizeof(*d));
}

/* Frees every line and leaves d empty and reusable: the full-screen chat lays its
 * conversation out again into the same document at each resize. */
void md_doc_free(struct md_doc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->lines[i].text);
        free(d->lines[i].spans);
    }
    free(d->lines);
    md_doc_init(d);
}

/* Appends a line made of len bytes of text with a style per byte. */
static void doc_push(struct md_doc *d, const char *text, const unsigned char *st, size_t len,
                     size_t width)
{
    if (d->n >= MD_LINES_MAX) {
        d->truncated = 1;
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->lines = xrealloc(d->lines, d->cap * sizeof(*d->lines));
    }
    struct md_line *l = &d->lines[d->n++];
    memset(l, 0, sizeof(*l));
    l->text = xstrndup(text, len);
    l->len = len;
    l->width = width;
    size_t runs = 0;
    for (size_t i = 0; i < len; i++)
        if (st[i] != 0 && (i == 0 || st[i - 1] != st[i]))
            runs++;
    if (runs == 0)
        return;
    l->spans = xmalloc(runs * sizeof(*l->spans));
    for (size_t i = 0; i < len; i++) {
        if (st[i] == 0 || (i > 0 && st[i - 1] == st[i]))
            continue;
        size_t e = i;
        while (e < len && st[e] == st[i])
            e++;
        l->spans[l->nspans++] = (struct md_span){i, e, st[i]};
    }
}

/* Blocks are separated by exactly one blank line, whoever adds them, so a blank line is
 * never the first line nor a second one in a row. */
void md_add_blank(struct md_doc *d)
{
    if (d->n == 0 || d->lines[d->n - 1].len == 0)
        return;
    doc_push(d, "", (const unsigned char *)"", 0, 0);
}

/* ---- cleaning -------------------------------------------------------------------------- */

/* 1 for the code points that reorder text (bidirectional overrides and isolates): shown
 * as they are they could make a command read differently from what it does. */
static int bidi_control(uint32_t cp)
{
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
           cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

/* Skips the escape sequence that starts at text[i] (ESC); returns the index after it. */
static size_t skip_escape(const char *text, size_t len, size_t i)
{
    i++;
    if (i >= len)
        return i;
    if (text[i] == '[') { /* CSI: parameters, then one final byte 0x40..0x7e */
        for (i++; i < len; i++)
            if ((unsigned char)text[i] >= 0x40 && (unsigned char)text[i] <= 0x7e)
                return i + 1;
        return len;
    }
    if (text[i] == ']') { /* OSC: up to BEL or ESC \ */
        for (i++; i < len; i++) {
            if (text[i] == '\a')
                return i + 1;
            if (text[i] == '\033' && i + 1 < len && text[i + 1] == '\\')
                return i + 2;
        }
        return len;
    }
    if ((unsigned char)text[i] >= 0x20 && (unsigned char)text[i] < 0x7f)
        return i + 1; /* a two-byte escape (ESC c, ESC 7, ...) */
    return i;
}

/* Everything the server says goes through here before it is measured or shown: nothing it
 * writes can move the cursor, retitle the terminal or reorder a command. Returns the number
 * of bytes written to out (always NUL-terminated when cap > 0). */
size_t md_clean(const char *text, size_t len, char *out, size_t cap, int keep_newlines)
{
    size_t o = 0, col = 0, i = 0;
    if (cap == 0)
        return 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        if (c == 0x1b) {
            i = skip_escape(text, len, i);
            continue;
        }
        if (c == '\n') {
            if (o + 1 >= cap)
                break;
            out[o++] = keep_newlines ? '\n' : ' ';
            col = keep_newlines ? 0 : col + 1;
            i++;
            continue;
        }
        if (c == '\t') {
            size_t n = 8 - col % 8;
            if (o + n >= cap)
                break;
            memset(out + o, ' ', n);
            o += n;
            col += n;
            i++;
            continue;
        }
        if (c < 0x20 || c == 0x7f) { /* "\r" of "\r\n" included */
            i++;
            continue;
        }
        if (c < 0x80) {
            if (o + 1 >= cap)
                break;
            out[o++] = (char)c;
            col++;
            i++;
            continue;
        }
        /* a multi-byte character: decoded from a NUL-terminated copy, since text is not */
        char tmp[5] = {0};
        size_t avail = len - i < 4 ? len - i : 4;
        memcpy(tmp, text + i, avail);
        uint32_t cp;
        size_t w, n = text_char(tmp, &cp, &w);
        if (cp == 0xffffffffu) {
            if (o + 1 >= cap)
                break;
            out[o++] = '?';
            col++;
        } else if (!(cp >= 0x80 && cp <= 0x9f) && !bidi_control(cp)) {
            if (o + n >= cap)
                break;
            memcpy(out + o, tmp, n);
            o += n;
            col += w;
        }
        i += n;
    }
    out[o] = '\0';
    return o;
}

/* A clean, NUL-terminated copy of at most MD_INPUT_MAX bytes of text; sets d->truncated
 * when anything was cut. The caller frees it. */
static char *clean_copy(struct md_doc *d, const char *text, size_t len, size_t *outlen)
{
    if (text == NULL)
        len = 0;
    if (len > MD_INPUT_MAX) {
        len = MD_INPUT_MAX;
        d->truncated = 1;
    }
    size_t cap = len * 2 + 1 < CLEAN_MAX + 1 ? len * 2 + 1 : CLEAN_MAX + 1;
    char *out = xmalloc(cap);
    *outlen = md_clean(text ? text : "", len, out, cap, 1);
    return out;
}

/* ---- the flow: styled text into lines of a width --------------------------------------- */

struct flow {
    struct md_doc *d;
    size_t width;      /* 0: no limit */
    size_t indent;     /* spaces before every line */
    const char *marker; /* after the indent on the first line; spaces under it on the next */
    size_t marker_w;
    unsigned marker_style;
    enum md_wrap wrap;
    char *text; /* the line being built */
    unsigned char *st;
    size_t len, cap, w;
    size_t prefix_len; /* bytes of indent and marker at the start of the line */
    int first;         /* the next line to start is the first one */
    size_t added;
};

static void put(struct flow *f, const char *s, size_t n, unsigned style, size_t w)
{
    if (f->len + n > f->cap) { /* cannot happen: cap is sized for the whole input */
        f->d->truncated = 1;
        return;
    }
    memcpy(f->text + f->len, s, n);
    memset(f->st + f->len, (int)style, n);
    f->len += n;
    f->w += w;
}

static void line_start(struct flow *f)
{
    f->len = 0;
    f->w = 0;
    for (size_t i = 0; i < f->indent; i++)
        put(f, " ", 1, 0, 1);
    if (f->first) {
        put(f, f->marker, strlen(f->marker), f->marker_style, f->marker_w);
    } else {
        for (size_t i = 0; i < f->marker_w; i++)
            put(f, " ", 1, 0, 1);
    }
    f->first = 0;
    f->prefix_len = f->len;
}

static void line_end(struct flow *f)
{
    size_t len = f->len, w = f->w;
    while (len > 0 && f->text[len - 1] == ' ') { /* never useful, and invisible */
        len--;
        w--;
    }
    doc_push(f->d, f->text, f->st, len, w);
    f->added++;
}

/* 1 when the line holds something besides its indent and marker. */
static int has_content(const struct flow *f)
{
    return f->len > f->prefix_len;
}

/* Appends one character, starting a new line first when it would not fit. */
static void put_char(struct flow *f, const char *s, size_t n, unsigned style, size_t w)
{
    if (f->width > 0 && f->wrap != MD_WRAP_NONE && has_content(f) && f->w + w > f->width) {
        line_end(f);
        line_start(f);
    }
    put(f, s, n, style, w);
}

/* Flows text (len bytes of clean text without newlines, a style per byte) into lines.
 * Always adds at least one line. */
static size_t flow_run(struct flow *f, const char *text, const unsigned char *st, size_t len)
{
    size_t extra = f->indent + MARKER_MAX + 8;
    f->cap = len + extra;
    f->text = xmalloc(f->cap);
    f->st = xmalloc(f->cap);
    f->first = 1;
    f->added = 0;
    f->marker_w = text_width(f->marker);
    line_start(f);
    size_t i = 0;
    int space = 0;               /* a space is owed before the next word */
    unsigned space_style = 0;
    while (i < len) {
        if (f->wrap == MD_WRAP_WORDS && text[i] == ' ') {
            space = has_content(f);
            space_style = st[i];
            i++;
            continue;
        }
        if (f->wrap != MD_WRAP_WORDS) {
            uint32_t cp;
            size_t w, n = text_char(text + i, &cp, &w);
            if (i + n > len)
                n = len - i;
            put_char(f, text + i, n, st[i], w);
            i += n;
            continue;
        }
        size_t e = i, ww = 0;
        while (e < len && text[e] != ' ') {
            uint32_t cp;
            size_t w, n = text_char(text + e, &cp, &w);
            e += n;
            ww += w;
        }
        if (e > len)
            e = len;
        if (f->width > 0 && has_content(f) && f->w + (space ? 1 : 0) + ww > f->width) {
            line_end(f);
            line_start(f);
            space = 0;
        }
        if (space)
            put(f, " ", 1, space_style, 1);
        space = 0;
        while (i < e) { /* a word wider than the line is cut where it must be */
            uint32_t cp;
            size_t w, n = text_char(text + i, &cp, &w);
            if (i + n > e)
                n = e - i;
            put_char(f, text + i, n, st[i], w);
            i += n;
        }
    }
    line_end(f);
    free(f->text);
    free(f->st);
    f->text = NULL;
    f->st = NULL;
    return f->added;
}

static size_t clamp_width(int width)
{
    if (width <= 0)
        return 0;
    return width < MD_WIDTH_MIN ? MD_WIDTH_MIN : (size_t)width;
}

static size_t clamp_indent(int indent)
{
    if (indent <= 0)
        return 0;
    return indent > MD_INDENT_MAX ? MD_INDENT_MAX : (size_t)indent;
}

/* Text that is not markdown (an action, sandbox output, a message) keeps its lines; how a
 * long one is cut is the caller's choice. Returns the number of lines added. */
size_t md_add_text(struct md_doc *d, const char *text, size_t len, unsigned style, int width,
                   int indent, enum md_wrap wrap)
{
    size_t clen, added = 0;
    char *c = clean_copy(d, text, len, &clen);
    unsigned char *st = xmalloc(clen + 1);
    memset(st, (int)(style & 0xff), clen + 1);
    size_t start = 0;
    while (start < clen) {
        const char *nl = memchr(c + start, '\n', clen - start);
        size_t end = nl ? (size_t)(nl - c) : clen;
        struct flow f = {.d = d, .width = clamp_width(width), .indent = clamp_indent(indent),
                         .marker = "", .wrap = wrap};
        added += flow_run(&f, c + start, st + start, end - start);
        start = end + 1;
    }
    free(st);
    free(c);
    return added;
}

/* ---- inline markup ----------------------------------------------------------------------- */

/* The length of the run of backticks at s[i]. */
static size_t tick_run(const char *s, size_t len, size_t i)
{
    size_t n = 0;
    while (i + n < len && s[i + n] == '`')
        n++;
    return n;
}

/* Turns the markup of one paragraph (s, len) into text and a style per byte in out and st
 * (each at least len + 1 bytes: the result is never longer, except for the backticks kept
 * with MD_TICKS, which are the ones removed). Returns the length. Linear in len: where a
 * span would close is known before it opens (the last "**" and the last run of each length
 * of backticks), so unmatched markup costs no search. */
static size_t inline_parse(const char *s, size_t len, unsigned base, unsigned flags, char *out,
                           unsigned char *st)
{
    size_t last_bold = SIZE_MAX, last_run[TICK_RUN_MAX + 1];
    for (size_t r = 0; r <= TICK_RUN_MAX; r++)
        last_run[r] = SIZE_MAX;
    for (size_t i = 0; i < len;) {
        if (s[i] == '`') {
            size_t r = tick_run(s, len, i);
            if (r <= TICK_RUN_MAX)
                last_run[r] = i;
            i += r;
            continue;
        }
        if (s[i] == '*' && i + 1 < len && s[i + 1] == '*')
            last_bold = i;
        i++;
    }
    size_t o = 0;
    int bold = 0;
    for (size_t i = 0; i < len;) {
        unsigned style = base | (bold ? MD_BOLD : 0);
        char c = s[i];
        if (c == '\\' && i + 1 < len && strchr("`*_\\#", s[i + 1]) != NULL) {
            out[o] = s[i + 1];
            st[o++] = (unsigned char)style;
            i += 2;
            continue;
        }
        if (c == '`') {
            size_t r = tick_run(s, len, i);
            size_t j = i + r;
            if (r > TICK_RUN_MAX || last_run[r] == SIZE_MAX || last_run[r] <= i) {
                memcpy(out + o, s + i, r);
                memset(st + o, (int)style, r);
                o += r;
                i = j;
                continue;
            }
            while (j < len) { /* the next run of exactly r: there is one */
                if (s[j] == '`') {
                    size_t rr = tick_run(s, len, j);
                    if (rr == r)
                        break;
                    j += rr;
                } else {
                    j++;
                }
            }
            size_t a = i + r, b = j;
            if (b - a >= 2 && s[a] == ' ' && s[b - 1] == ' ')
                a++, b--;
            unsigned cs = style | MD_CODE;
            if (flags & MD_TICKS) {
                out[o] = '`';
                st[o++] = (unsigned char)cs;
            }
            memcpy(out + o, s + a, b - a);
            memset(st + o, (int)cs, b - a);
            o += b - a;
            if (flags & MD_TICKS) {
                out[o] = '`';
                st[o++] = (unsigned char)cs;
            }
            i = j + r;
            continue;
        }
        if (c == '*' && i + 1 < len && s[i + 1] == '*') {
            if (bold) {
                bold = 0;
                i += 2;
                continue;
            }
            if (last_bold != SIZE_MAX && last_bold > i + 1 && i + 2 < len && s[i + 2] != ' ') {
                bold = 1;
                i += 2;
                continue;
            }
        }
        out[o] = c;
        st[o++] = (unsigned char)style;
        i++;
    }
    return o;
}

/* ---- blocks ------------------------------------------------------------------------------ */

enum block { B_NONE, B_PARA, B_ITEM, B_HEADING };

struct render {
    struct md_doc *d;
    int width, indent;
    unsigned flags;
    enum block kind;
    char marker[MARKER_MAX + 1];
    int level;
    char *para; /* the paragraph's source, lines joined with spaces */
    size_t plen, pcap;
    int blank;    /* a blank line was seen since the last block */
    size_t added; /* lines added by this md_render */
};

static void flush(struct render *r)
{
    if (r->kind == B_NONE)
        return;
    char *out = xmalloc(r->plen + 1);
    unsigned char *st = xmalloc(r->plen + 1);
    size_t n = inline_parse(r->para, r->plen, r->kind == B_HEADING ? MD_BOLD : 0, r->flags, out,
                            st);
    out[n] = '\0'; /* the flow decodes characters up to a NUL */
    struct flow f = {.d = r->d, .width = clamp_width(r->width), .wrap = MD_WRAP_WORDS,
                     .indent = clamp_indent(r->indent + (r->kind == B_ITEM ? 2 * r->level : 0)),
                     .marker = r->kind == B_ITEM ? r->marker : ""};
    r->added += flow_run(&f, out, st, n);
    free(out);
    free(st);
    r->kind = B_NONE;
    r->plen = 0;
}

/* Ends the current block and puts the blank line a blank line of the source asked for. */
static void block_start(struct render *r)
{
    flush(r);
    if (r->blank && r->added > 0) {
        md_add_blank(r->d);
        r->added++;
    }
    r->blank = 0;
}

static void para_add(struct render *r, const char *s, size_t n)
{
    if (r->plen + n + 1 > r->pcap) { /* cannot happen: pcap is the whole text */
        r->d->truncated = 1;
        return;
    }
    if (r->plen > 0)
        r->para[r->plen++] = ' ';
    memcpy(r->para + r->plen, s, n);
    r->plen += n;
}

/* The length of a list marker at the start of t ("- ", "* ", "+ ", "12. ", "3) "), or 0. */
static size_t list_marker(const char *t, size_t n)
{
    if (n >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ')
        return 2;
    size_t i = 0;
    while (i < n && i < 3 && t[i] >= '0' && t[i] <= '9')
        i++;
    if (i > 0 && i + 1 < n && (t[i] == '.' || t[i] == ')') && t[i + 1] == ' ')
        return i + 2;
    return 0;
}

/* One line of the source (without its newline). */
static void render_line(struct render *r, const char *line, size_t n, int *fence)
{
    size_t sp = 0;
    while (sp < n && line[sp] == ' ')
        sp++;
    const char *t = line + sp;
    size_t tn = n - sp;
    int is_fence = sp <= 3 && tn >= 3 && strncmp(t, "```", 3) == 0;
    if (*fence) {
        if (is_fence) {
            *fence = 0;
            return;
        }
        r->added += md_add_text(r->d, line, n, MD_CODE, r->width, r->indent + 2, MD_WRAP_HARD);
        return;
    }
    if (tn == 0) {
        flush(r);
        r->blank = 1;
        return;
    }
    if (is_fence) {
        block_start(r);
        *fence = 1;
        return;
    }
    size_t h = 0;
    while (h < tn && h < 6 && t[h] == '#')
        h++;
    if (h > 0 && h < tn && t[h] == ' ') {
        block_start(r);
        r->kind = B_HEADING;
        para_add(r, t + h + 1, tn - h - 1);
        flush(r);
        return;
    }
    size_t m = list_marker(t, tn);
    if (m > 0) {
        block_start(r);
        r->kind = B_ITEM;
        r->level = (int)(sp / 2) > LEVEL_MAX ? LEVEL_MAX : (int)(sp / 2);
        if (t[0] == '*' || t[0] == '+' || t[0] == '-')
            memcpy(r->marker, "- ", 3);
        else
            memcpy(r->marker, t, m), r->marker[m] = '\0';
        para_add(r, t + m, tn - m);
        return;
    }
    if (r->kind == B_NONE) {
        block_start(r);
        r->kind = B_PARA;
    }
    para_add(r, t, tn);
}

/* The explanation of an answer, as markdown: blocks found line by line, inline markup
 * turned into styles, then flowed at the width. Returns the number of lines added. */
size_t md_render(struct md_doc *d, const char *text, size_t len, int width, int indent,
                 unsigned flags)
{
    size_t clen;
    char *c = clean_copy(d, text, len, &clen);
    struct render r = {.d = d, .width = width, .indent = indent < 0 ? 0 : indent,
                       .flags = flags, .pcap = clen + 1};
    r.para = xmalloc(r.pcap);
    int fence = 0;
    size_t start = 0;
    while (start < clen) {
        const char *nl = memchr(c + start, '\n', clen - start);
        size_t end = nl ? (size_t)(nl - c) : clen;
        render_line(&r, c + start, end - start, &fence);
        start = end + 1;
    }
    flush(&r);
    free(r.para);
    free(c);
    return r.added;
}

/* ---- printing ---------------------------------------------------------------------------- */

/* The SGR sequence of a style into out (at least 32 bytes). */
static void sgr_of(unsigned style, char *out, size_t cap)
{
    size_t o = 0;
    const char *color = (style & MD_RED)      ? "31"
                        : (style & MD_YELLOW) ? "33"
                        : (style & MD_GREEN)  ? "32"
                        : (style & (MD_CYAN | MD_CODE)) ? "36"
                                                        : NULL;
    o += (size_t)snprintf(out + o, cap - o, "\033[");
    int any = 0;
    if (style & MD_BOLD)
        o += (size_t)snprintf(out + o, cap - o, "%s1", any++ ? ";" : "");
    if ((style & MD_DIM) && o < cap)
        o += (size_t)snprintf(out + o, cap - o, "%s2", any++ ? ";" : "");
    if (color != NULL && o < cap)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", any++ ? ";" : "", color);
    if (o < cap)
        snprintf(out + o, cap - o, "m");
}

/* Colour is added only while printing, so it never counts in the layout; without it the
 * text is exactly what was laid out. Write errors are left to the caller's stream. */
void md_print(const struct md_doc *d, FILE *f, int color)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct md_line *l = &d->lines[i];
        size_t pos = 0;
        for (size_t s = 0; color && s < l->nspans; s++) {
            char sgr[32];
            sgr_of(l->spans[s].style, sgr, sizeof(sgr));
            fwrite(l->text + pos, 1, l->spans[s].start - pos, f);
            fputs(sgr, f);
            fwrite(l->text + l->spans[s].start, 1, l->spans[s].end - l->spans[s].start, f);
            fputs("\033[0m", f);
            pos = l->spans[s].end;
        }
        fwrite(l->text + pos, 1, l->len - pos, f);
        fputc('\n', f);
    }
}
