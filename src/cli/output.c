/* How `cloudya` prints (output.h). Tables hold text that came from the server (names,
 * statuses, image references), so every cell is cleaned when it is added: control
 * characters, C1 controls and invalid UTF-8 become '?', which means nothing the daemon or
 * another tenant writes can move the cursor, change colours or retitle the terminal. Widths
 * are display columns (text_width), never bytes, and colour is added only while a line is
 * written, so it never counts in the layout. */
#define _POSIX_C_SOURCE 200809L
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "buf.h"
#include "str.h"
#include "timeutil.h"
#include "xalloc.h"

#define CELL_MAX 4096       /* bytes of one cell after cleaning; longer text is cut */
#define COL_MIN 8           /* shrinking stops at this many display columns */
#define COL_SEP "   "       /* between columns */
#define COL_SEP_WIDTH 3
#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, display width 1 */
#define ELLIPSIS_LEN 3
#define COLUMNS_MAX 10000 /* a larger COLUMNS is not believed */
/* One printed line: each cell's text (at most CELL_MAX + an ellipsis) and its padding (at
 * most its column's width, itself at most CELL_MAX), and the separators. */
#define LINE_MAX_BYTES (TABLE_MAX_COLS * (2 * CELL_MAX + ELLIPSIS_LEN + COL_SEP_WIDTH) + 1)
#define BAD_CP 0xffffffffu /* what decode() says for a byte that starts no valid sequence */

/* ---- colours ------------------------------------------------------------------------- */

static const char *const sgr[] = {
    [C_NONE] = "",          [C_BOLD] = "\033[1m",   [C_DIM] = "\033[2m",
    [C_RED] = "\033[31m",   [C_GREEN] = "\033[32m", [C_YELLOW] = "\033[33m",
    [C_BLUE] = "\033[34m",  [C_CYAN] = "\033[36m",
};

/* The caller passes its colour switch so call sites stay one expression; an unknown colour
 * gets "" rather than reading past the table. */
const char *color_on(int on, enum color c)
{
    if (!on || (unsigned)c >= sizeof(sgr) / sizeof(sgr[0]))
        return "";
    return sgr[c];
}

/* One reset for every colour: attributes do not nest in our output. */
const char *color_off(int on)
{
    return on ? "\033[0m" : "";
}

/* ---- UTF-8 and display width --------------------------------------------------------- */

/* Decodes the code point that starts at s (s[0] is not NUL). Returns its length in bytes
 * (1 to 4) with *cp set, or 1 with *cp = BAD_CP when s[0] starts no valid sequence
 * (overlong forms, surrogates, above U+10FFFF, a missing continuation byte). Never reads
 * past the terminating NUL, which is no continuation byte. */
static size_t decode(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the first continuation byte */
    size_t n;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0; /* no overlong forms */
        else if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f; /* nothing above U+10FFFF */
    } else {
        goto bad;
    }
    for (size_t i = 1; i < n; i++) {
        if (s[i] < lo || s[i] > hi)
            goto bad;
        lo = 0x80;
        hi = 0xbf;
        v = v << 6 | (s[i] & 0x3f);
    }
    *cp = v;
    return n;
bad:
    *cp = BAD_CP;
    return 1;
}

struct range {
    uint32_t lo, hi;
};

static const struct range zero_width[] = {
    {0x0300, 0x036f}, {0x1ab0, 0x1aff}, {0x200d, 0x200d},
    {0x20d0, 0x20ff}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f},
};

static const struct range wide[] = {
    {0x1100, 0x115f},   {0x2e80, 0x303e},   {0x3040, 0xa4cf},   {0xac00, 0xd7a3},
    {0xf900, 0xfaff},   {0xfe30, 0xfe4f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},
    {0x1f300, 0x1f64f}, {0x1f900, 0x1f9ff}, {0x20000, 0x3fffd},
};

static int in_ranges(uint32_t cp, const struct range *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i].lo && cp <= r[i].hi)
            return 1;
    return 0;
}

/* The display width of one code point; an invalid byte shows as one replacement cell. */
static size_t cp_width(uint32_t cp)
{
    if (cp == BAD_CP)
        return 1;
    if (in_ranges(cp, zero_width, sizeof(zero_width) / sizeof(zero_width[0])))
        return 0;
    if (in_ranges(cp, wide, sizeof(wide) / sizeof(wide[0])))
        return 2;
    return 1;
}

/* A small table of ranges instead of wcwidth(): it does not depend on the locale, and
 * the table layout must not change with LANG. NULL has width 0. */
size_t text_width(const char *s)
{
    size_t w = 0;
    if (s == NULL)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        uint32_t cp;
        p += decode(p, &cp);
        w += cp_width(cp);
    }
    return w;
}

/* decode() and cp_width() for one character, for the markdown renderer's wrapping. */
size_t text_char(const char *s, uint32_t *cp, size_t *width)
{
    size_t len = decode((const unsigned char *)s, cp);
    *width = cp_width(*cp);
    return len;
}

/* The length in bytes of the longest prefix of s whose width is at most maxw, cut only
 * between code points; its width goes to *w. Zero-width marks right after the last
 * character that fits are kept with it. */
static size_t fit_prefix(const char *s, size_t maxw, size_t *w)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0, width = 0;
    while (p[n] != '\0') {
        uint32_t cp;
        size_t len = decode(p + n, &cp);
        size_t cw = cp_width(cp);
        if (width + cw > maxw)
            break;
        width += cw;
        n += len;
    }
    *w = width;
    return n;
}

/* A copy of s that is safe to print and at most CELL_MAX bytes: control characters (below
 * 0x20, 0x7f, and U+0080..U+009F) and bytes that are not valid UTF-8 become '?', and the
 * text is cut between code points. Reads at most about 2 * CELL_MAX bytes of s, so a huge
 * string costs no more than a long one. The caller frees the result. */
static char *clean(const char *s)
{
    char out[CELL_MAX + 1];
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        uint32_t cp;
        size_t len = decode(p, &cp);
        int bad = cp == BAD_CP || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
        size_t outlen = bad ? 1 : len;
        if (n + outlen > CELL_MAX)
            break;
        if (bad)
            out[n] = '?';
        else
            memcpy(out + n, p, len);
        n += outlen;
        p += len;
    }
    out[n] = '\0';
    return xstrndup(out, n);
}

/* ---- tables -------------------------------------------------------------------------- */

struct row {
    char *cell[TABLE_MAX_COLS];
    unsigned char color[TABLE_MAX_COLS];
};

struct table {
    int ncols;
    char *head[TABLE_MAX_COLS];
    unsigned char right[TABLE_MAX_COLS];
    struct row *rows;
    size_t nrows, cap;
    int last_dropped; /* the last table_add was beyond TABLE_MAX_ROWS */
};

/* Returns NULL only for a column count outside 1..TABLE_MAX_COLS (a programming error);
 * every other table function accepts that NULL and does nothing. NULL headers print as
 * empty. Memory is xalloc'ed, so there is no out-of-memory return. */
struct table *table_new(int ncols, const char *const *headers)
{
    if (ncols < 1 || ncols > TABLE_MAX_COLS)
        return NULL;
    struct table *t = xcalloc(1, sizeof(*t));
    t->ncols = ncols;
    for (int i = 0; i < ncols; i++)
        t->head[i] = clean(headers != NULL && headers[i] != NULL ? headers[i] : "");
    return t;
}

/* Numbers read best right-aligned; out-of-range columns are ignored. */
void table_right(struct table *t, int col)
{
    if (t != NULL && col >= 0 && col < t->ncols)
        t->right[col] = 1;
}

/* Cells are copied and cleaned here, once, so table_print can trust them. A NULL cells
 * array is a row of NULL cells ("-"). Beyond TABLE_MAX_ROWS the row is dropped, and a
 * table_color that follows it is ignored too. */
void table_add(struct table *t, const char *const *cells)
{
    if (t == NULL)
        return;
    if (t->nrows >= TABLE_MAX_ROWS) {
        t->last_dropped = 1;
        return;
    }
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        if (cap > TABLE_MAX_ROWS)
            cap = TABLE_MAX_ROWS;
        t->rows = xrealloc(t->rows, cap * sizeof(*t->rows));
        t->cap = cap;
    }
    struct row *r = &t->rows[t->nrows++];
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < t->ncols; i++)
        r->cell[i] = clean(cells != NULL && cells[i] != NULL ? cells[i] : "-");
    t->last_dropped = 0;
}

/* Colours apply to the last row added; nothing happens before the first row, for a
 * dropped row, or for a column out of range. */
void table_color(struct table *t, int col, enum color c)
{
    if (t == NULL || t->nrows == 0 || t->last_dropped || col < 0 || col >= t->ncols ||
        (unsigned)c >= sizeof(sgr) / sizeof(sgr[0]))
        return;
    t->rows[t->nrows - 1].color[col] = (unsigned char)c;
}

/* A range of bytes of a line that is printed in a colour. */
struct span {
    size_t start, end;
    enum color c;
};

/* One line being built: plain text (no SGR) plus where colours go. */
struct line {
    buf text;
    struct span spans[TABLE_MAX_COLS + 1];
    int nspans;
};

static void add_spaces(buf *b, size_t n)
{
    static const char spaces[] = "                                ";
    while (n > 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        buf_append(b, spaces, k);
        n -= k;
    }
}

/* Appends one cell padded to colw display columns, cut with an ellipsis when wider. */
static void put_cell(struct line *ln, const char *text, size_t colw, int right, enum color c)
{
    size_t n = strlen(text), w = text_width(text);
    int cut = 0;
    if (w > colw) {
        n = fit_prefix(text, colw > 0 ? colw - 1 : 0, &w);
        w++; /* the ellipsis */
        cut = 1;
    }
    size_t pad = colw > w ? colw - w : 0;
    if (right)
        add_spaces(&ln->text, pad);
    size_t start = ln->text.len;
    buf_append(&ln->text, text, n);
    if (cut)
        buf_append(&ln->text, ELLIPSIS, ELLIPSIS_LEN);
    if (c != C_NONE && ln->text.len > start && ln->nspans < TABLE_MAX_COLS + 1)
        ln->spans[ln->nspans++] = (struct span){start, ln->text.len, c};
    if (!right)
        add_spaces(&ln->text, pad);
}

/* Writes the line without its trailing spaces, wrapping the coloured spans in SGR
 * sequences (cut to the trimmed end, so no colour runs over the padding). */
static void emit_line(const struct line *ln, FILE *f, int color)
{
    const char *s = ln->text.data != NULL ? ln->text.data : "";
    size_t end = ln->text.len;
    while (end > 0 && s[end - 1] == ' ')
        end--;
    size_t pos = 0;
    for (int i = 0; color && i < ln->nspans; i++) {
        size_t a = ln->spans[i].start, b = ln->spans[i].end < end ? ln->spans[i].end : end;
        if (a < pos || a >= b)
            continue;
        fwrite(s + pos, 1, a - pos, f);
        fputs(color_on(1, ln->spans[i].c), f);
        fwrite(s + a, 1, b - a, f);
        fputs(color_off(1), f);
        pos = b;
    }
    if (end > pos)
        fwrite(s + pos, 1, end - pos, f);
    fputc('\n', f);
}

/* Shrinks the widest columns one display column at a time until the line fits width or
 * every column wider than COL_MIN is down to it. */
static void shrink(size_t *colw, int ncols, size_t width)
{
    size_t total = (size_t)(ncols - 1) * COL_SEP_WIDTH;
    for (int i = 0; i < ncols; i++)
        total += colw[i];
    while (total > width) {
        int widest = 0;
        for (int i = 1; i < ncols; i++)
            if (colw[i] > colw[widest])
                widest = i;
        if (colw[widest] <= COL_MIN)
            break;
        colw[widest]--;
        total--;
    }
}

/* The layout is computed from the cleaned cells; nothing in them can reach the terminal
 * except printable text. A NULL table or stream prints nothing. */
void table_print(const struct table *t, FILE *f, int color, int width)
{
    if (t == NULL || f == NULL)
        return;
    size_t colw[TABLE_MAX_COLS];
    for (int i = 0; i < t->ncols; i++)
        colw[i] = text_width(t->head[i]);
    for (size_t r = 0; r < t->nrows; r++)
        for (int i = 0; i < t->ncols; i++) {
            size_t w = text_width(t->rows[r].cell[i]);
            if (w > colw[i])
                colw[i] = w;
        }
    if (width > 0)
        shrink(colw, t->ncols, (size_t)width);

    struct line ln;
    memset(&ln, 0, sizeof(ln));
    buf_init(&ln.text, LINE_MAX_BYTES);
    for (size_t r = 0; r <= t->nrows; r++) {
        buf_reset(&ln.text);
        ln.nspans = 0;
        for (int i = 0; i < t->ncols; i++) {
            if (i > 0)
                buf_append(&ln.text, COL_SEP, COL_SEP_WIDTH);
            if (r == 0)
                put_cell(&ln, t->head[i], colw[i], t->right[i], C_NONE);
            else
                put_cell(&ln, t->rows[r - 1].cell[i], colw[i], t->right[i],
                         (enum color)t->rows[r - 1].color[i]);
        }
        if (r == 0) /* the header row: bold from its first to its last character */
            ln.spans[ln.nspans++] = (struct span){0, ln.text.len, C_BOLD};
        emit_line(&ln, f, color);
    }
    buf_free(&ln.text);
}

/* Frees every copied cell; NULL is fine. */
void table_free(struct table *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < t->ncols; i++)
        free(t->head[i]);
    for (size_t r = 0; r < t->nrows; r++)
        for (int i = 0; i < t->ncols; i++)
            free(t->rows[r].cell[i]);
    free(t->rows);
    free(t);
}

/* ---- sizes, durations, times --------------------------------------------------------- */

/* v rounded to the nearest multiple of 10^-decimals (v is positive and below 10^4). */
static double round_to(double v, int decimals)
{
    double scale = decimals == 2 ? 100.0 : decimals == 1 ? 10.0 : 1.0;
    return (double)(uint64_t)(v * scale + 0.5) / scale;
}

/* Binary units with three significant digits, rounded to nearest; a value that rounds up
 * to 1024 of a unit is shown as 1.00 of the next one. Doubles are exact enough: the
 * rounding error is far below the last digit shown. */
void fmt_bytes(uint64_t bytes, char *out, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    const int last = (int)(sizeof(units) / sizeof(units[0])) - 1;
    if (out == NULL || cap == 0)
        return;
    if (bytes < 1024) {
        snprintf(out, cap, "%u B", (unsigned)bytes);
        return;
    }
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < last) {
        v /= 1024.0;
        u++;
    }
    for (;;) {
        int decimals = v < 10.0 ? 2 : v < 100.0 ? 1 : 0;
        double r = round_to(v, decimals);
        if (decimals == 2 && r >= 10.0) /* 9.996 is "10.0", not "10.00" */
            r = round_to(v, --decimals);
        if (decimals == 1 && r >= 100.0) /* 99.96 is "100", not "100.0" */
            r = round_to(v, --decimals);
        if (r >= 1024.0 && u < last) {
            v /= 1024.0;
            u++;
            continue;
        }
        snprintf(out, cap, "%.*f %s", decimals, r, units[u]);
        return;
    }
}

/* Two units at most, the second dropped when it is zero: "12m 30s", "3h", "2d 5h". */
void fmt_duration(int64_t seconds, char *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return;
    long long s = seconds < 0 ? 0 : (long long)seconds;
    long long big, small;
    const char *bu, *su;
    if (s < 60) {
        snprintf(out, cap, "%llds", s);
        return;
    }
    if (s < 3600) {
        big = s / 60;
        small = s % 60;
        bu = "m";
        su = "s";
    } else if (s < 86400) {
        big = s / 3600;
        small = s % 3600 / 60;
        bu = "h";
        su = "m";
    } else {
        big = s / 86400;
        small = s % 86400 / 3600;
        bu = "d";
        su = "h";
    }
    if (small == 0)
        snprintf(out, cap, "%lld%s", big, bu);
    else
        snprintf(out, cap, "%lld%s %lld%s", big, bu, small, su);
}

/* a - b, saturated at the ends of int64_t (the fuzzer passes any now). */
static int64_t sat_sub(int64_t a, int64_t b)
{
    if (b > 0 && a < INT64_MIN + b)
        return INT64_MIN;
    if (b < 0 && a > INT64_MAX + b)
        return INT64_MAX;
    return a - b;
}

/* Parses rfc3339 into *t and returns 0; otherwise writes what to show instead into out
 * ("-" for NULL, the text unchanged when it is not a timestamp) and returns -1. */
static int time_or_text(const char *rfc3339, char *out, size_t cap, int64_t *t)
{
    if (out == NULL || cap == 0)
        return -1;
    if (rfc3339 == NULL) {
        str_copy(out, cap, "-");
        return -1;
    }
    if (time_parse_rfc3339(rfc3339, t) != 0) {
        str_copy(out, cap, rfc3339);
        return -1;
    }
    return 0;
}

/* Less than a minute either way is "just now", so a little clock skew between the daemon
 * and this machine never shows "in 3 seconds" for something just created. */
void fmt_ago(const char *rfc3339, int64_t now, char *out, size_t cap)
{
    int64_t t;
    if (time_or_text(rfc3339, out, cap, &t) != 0)
        return;
    int64_t d = sat_sub(now, t);
    int future = d < 0;
    long long a = future ? (d == INT64_MIN ? INT64_MAX : -d) : d;
    long long n;
    const char *unit;
    if (a < 60) {
        str_copy(out, cap, "just now");
        return;
    }
    if (a < 3600) {
        n = a / 60;
        unit = "minute";
    } else if (a < 86400) {
        n = a / 3600;
        unit = "hour";
    } else {
        n = a / 86400;
        unit = "day";
    }
    snprintf(out, cap, "%s%lld %s%s%s", future ? "in " : "", n, unit, n == 1 ? "" : "s",
             future ? "" : " ago");
}

/* Expiry is what matters for tokens and trials: "in 2h 5m", or "expired" from the second
 * it passes. Text that is not a timestamp is shown unchanged. */
void fmt_until(const char *rfc3339, int64_t now, char *out, size_t cap)
{
    int64_t t;
    if (time_or_text(rfc3339, out, cap, &t) != 0)
        return;
    int64_t d = sat_sub(t, now);
    if (d <= 0) {
        str_copy(out, cap, "expired");
        return;
    }
    char dur[64];
    fmt_duration(d, dur, sizeof(dur));
    snprintf(out, cap, "in %s", dur);
}

/* ---- JSON and the terminal ----------------------------------------------------------- */

/* Scripts read this: two-space indentation, the server's key order, UTF-8 kept as is.
 * Returns 0, -EINVAL for NULL, or -EIO when standard output refused the text. */
int out_json(const json_t *v)
{
    if (v == NULL)
        return -EINVAL;
    if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) != 0)
        return -EIO;
    if (fputc('\n', stdout) == EOF)
        return -EIO;
    return 0;
}

/* COLUMNS first, so tests and `COLUMNS=200 cloudya ps | less` control the layout; then
 * the terminal's own size; 0 (no limit) for pipes and files. */
int out_width(FILE *f)
{
    const char *env = getenv("COLUMNS");
    int64_t v;
    if (env != NULL && str_to_int64(env, 1, COLUMNS_MAX, &v) == 0)
        return (int)v;
    if (f == NULL)
        return 0;
    int fd = fileno(f);
    if (fd < 0 || !isatty(fd))
        return 0;
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
        return 0;
    return ws.ws_col > COLUMNS_MAX ? COLUMNS_MAX : (int)ws.ws_col;
}
