/* Unit tests for src/cli/output.c: colours; display widths (ASCII, combining marks, CJK,
 * emoji, invalid UTF-8); tables (exact layout, empty, one column, NULL cells, alignment,
 * no trailing spaces, control characters and escape sequences from the server made
 * harmless, CJK alignment, shrinking with "…" never inside a UTF-8 sequence, the 8-column
 * floor, colour that does not move anything, the row and cell limits); human sizes,
 * durations, "ago" and "until" against a fixed now; JSON on standard output; the terminal
 * width from COLUMNS and from a real pseudo-terminal. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "output.h"
#include "str.h"
#include "timeutil.h"

#define NOW 1700000000 /* 2023-11-14T22:13:20Z */

/* ---- helpers ----------------------------------------------------------------------- */

/* The table as printed, in a malloc'ed string. */
static char *render(const struct table *t, int color, int width)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    table_print(t, f, color, width);
    assert_int_equal(fclose(f), 0);
    assert_non_null(out);
    return out;
}

/* s without its SGR sequences (ESC [ ... m), in place. */
static char *strip_sgr(char *s)
{
    char *w = s;
    for (const char *r = s; *r != '\0';) {
        if (r[0] == '\033' && r[1] == '[') {
            const char *m = strchr(r, 'm');
            assert_non_null(m);
            r = m + 1;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
    return s;
}

/* Asserts that nothing in s can drive a terminal: no C0 control but '\n' (ESC only when
 * allow_sgr, then only as the start of an SGR), no DEL, no C1, valid UTF-8. */
static void assert_harmless(const char *s, int allow_sgr)
{
    assert_true(str_is_utf8(s, strlen(s)));
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '\033' && allow_sgr) {
            assert_int_equal(p[1], '[');
            continue;
        }
        assert_true(*p >= 0x20 || *p == '\n');
        assert_true(*p != 0x7f);
        if (*p == 0xc2)
            assert_false(p[1] >= 0x80 && p[1] <= 0x9f);
    }
}

/* Asserts that no line of s ends with a space. */
static void assert_no_trailing_spaces(const char *s)
{
    for (const char *p = s; *p != '\0'; p++)
        if (*p == '\n' && p > s)
            assert_true(p[-1] != ' ');
}

/* The number of lines and the widest line's display width. */
static size_t lines_of(const char *s, size_t *maxw)
{
    size_t n = 0;
    *maxw = 0;
    while (*s != '\0') {
        const char *nl = strchr(s, '\n');
        assert_non_null(nl); /* every line ends with a newline */
        char line[16384];
        size_t len = (size_t)(nl - s);
        assert_true(len < sizeof(line));
        memcpy(line, s, len);
        line[len] = '\0';
        size_t w = text_width(line);
        if (w > *maxw)
            *maxw = w;
        n++;
        s = nl + 1;
    }
    return n;
}

static struct table *table3(void)
{
    static const char *const h[] = {"NAME", "STATUS", "SIZE"};
    struct table *t = table_new(3, h);
    assert_non_null(t);
    table_right(t, 2);
    return t;
}

static void add3(struct table *t, const char *a, const char *b, const char *c)
{
    const char *row[] = {a, b, c};
    table_add(t, row);
}

/* ---- colours ----------------------------------------------------------------------- */

static void test_colors(void **state)
{
    (void)state;
    assert_string_equal(color_on(1, C_BOLD), "\033[1m");
    assert_string_equal(color_on(1, C_DIM), "\033[2m");
    assert_string_equal(color_on(1, C_RED), "\033[31m");
    assert_string_equal(color_on(1, C_GREEN), "\033[32m");
    assert_string_equal(color_on(1, C_YELLOW), "\033[33m");
    assert_string_equal(color_on(1, C_BLUE), "\033[34m");
    assert_string_equal(color_on(1, C_CYAN), "\033[36m");
    assert_string_equal(color_on(1, C_NONE), "");
    assert_string_equal(color_on(1, (enum color)99), "");
    assert_string_equal(color_off(1), "\033[0m");
    for (int c = C_NONE; c <= C_CYAN; c++)
        assert_string_equal(color_on(0, (enum color)c), "");
    assert_string_equal(color_off(0), "");
}

/* ---- text_width -------------------------------------------------------------------- */

static void test_width_ascii_and_marks(void **state)
{
    (void)state;
    assert_int_equal(text_width(NULL), 0);
    assert_int_equal(text_width(""), 0);
    assert_int_equal(text_width("running"), 7);
    assert_int_equal(text_width("caf\xc3\xa9"), 4);          /* precomposed é */
    assert_int_equal(text_width("cafe\xcc\x81"), 4);         /* e + U+0301 */
    assert_int_equal(text_width("a\xe1\xaa\xb0"), 1);        /* U+1AB0 */
    assert_int_equal(text_width("a\xe2\x83\x90"), 1);        /* U+20D0 */
    assert_int_equal(text_width("a\xef\xb8\xa0"), 1);        /* U+FE20 */
    assert_int_equal(text_width("\xe2\x9d\xa4\xef\xb8\x8f"), 1); /* ❤ + VS16 */
    assert_int_equal(text_width("\xc2\xa0"), 1);             /* no-break space */
    assert_int_equal(text_width("\xe2\x80\xa6"), 1);         /* the ellipsis itself */
}

static void test_width_wide(void **state)
{
    (void)state;
    assert_int_equal(text_width("\xe6\xbc\xa2\xe5\xad\x97"), 4);     /* 漢字 */
    assert_int_equal(text_width("\xed\x95\x9c"), 2);                 /* 한 (U+D55C) */
    assert_int_equal(text_width("\xe1\x84\x80"), 2);                 /* U+1100 jamo */
    assert_int_equal(text_width("\xe3\x81\x82"), 2);                 /* あ */
    assert_int_equal(text_width("\xe3\x80\x80"), 2);                 /* U+3000 */
    assert_int_equal(text_width("\xe3\x80\xbf"), 1);                 /* U+303F: not wide */
    assert_int_equal(text_width("\xef\xbc\xa1"), 2);                 /* fullwidth A */
    assert_int_equal(text_width("\xef\xbd\xa1"), 1);                 /* U+FF61 halfwidth */
    assert_int_equal(text_width("\xef\xbf\xa0"), 2);                 /* U+FFE0 */
    assert_int_equal(text_width("\xef\xb8\xb0"), 2);                 /* U+FE30 */
    assert_int_equal(text_width("\xef\xa4\x80"), 2);                 /* U+F900 */
    assert_int_equal(text_width("\xf0\x9f\x99\x82"), 2);             /* 🙂 U+1F642 */
    assert_int_equal(text_width("\xf0\x9f\x91\x8d"), 2);             /* 👍 U+1F44D */
    assert_int_equal(text_width("\xf0\x9f\xa4\x96"), 2);             /* 🤖 U+1F916 */
    assert_int_equal(text_width("\xf0\xa0\x80\x80"), 2);             /* U+20000 */
    assert_int_equal(text_width("\xf0\x9f\x9a\x80"), 1);             /* U+1F680: outside */
    /* 👨‍👩: two emoji joined by ZWJ, each counted */
    assert_int_equal(text_width("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9"), 4);
    assert_int_equal(text_width("ok \xe6\xbc\xa2!"), 6);
}

static void test_width_invalid(void **state)
{
    (void)state;
    assert_int_equal(text_width("\xff\xfe"), 2);
    assert_int_equal(text_width("\xc0\xaf"), 2);             /* overlong '/' */
    assert_int_equal(text_width("\xe0\x80\xaf"), 3);         /* overlong, 3 bytes */
    assert_int_equal(text_width("\xed\xa0\x80"), 3);         /* surrogate */
    assert_int_equal(text_width("\xf4\x90\x80\x80"), 4);     /* above U+10FFFF */
    assert_int_equal(text_width("a\xe6\xbc"), 3);            /* cut sequence at the end */
    assert_int_equal(text_width("\xe6\xbc" "b"), 3);         /* cut sequence, then ASCII */
    assert_int_equal(text_width("\x80"), 1);                 /* lone continuation */
    assert_int_equal(text_width("\xc2\x9b"), 1);             /* C1 CSI decodes: width 1 */
}

/* ---- tables ------------------------------------------------------------------------ */

static void test_table_layout(void **state)
{
    (void)state;
    struct table *t = table3();
    add3(t, "web", "running", "1.50 KiB");
    add3(t, "database", "exited", "12 B");
    char *s = render(t, 0, 0);
    assert_string_equal(s, "NAME       STATUS        SIZE\n"
                           "web        running   1.50 KiB\n"
                           "database   exited        12 B\n");
    free(s);
    /* a width that is enough (8 + 3 + 7 + 3 + 8) changes nothing */
    s = render(t, 0, 29);
    assert_string_equal(s, "NAME       STATUS        SIZE\n"
                           "web        running   1.50 KiB\n"
                           "database   exited        12 B\n");
    free(s);
    /* nor does a narrower one: no column is wider than 8, the floor */
    s = render(t, 0, 12);
    assert_string_equal(s, "NAME       STATUS        SIZE\n"
                           "web        running   1.50 KiB\n"
                           "database   exited        12 B\n");
    free(s);
    table_free(t);
}

static void test_table_empty_and_one_column(void **state)
{
    (void)state;
    struct table *t = table3();
    char *s = render(t, 0, 0);
    assert_string_equal(s, "NAME   STATUS   SIZE\n");
    free(s);
    s = render(t, 1, 0);
    assert_string_equal(s, "\033[1mNAME   STATUS   SIZE\033[0m\n");
    free(s);
    table_free(t);

    static const char *const h[] = {"ID"};
    t = table_new(1, h);
    table_add(t, (const char *const[]){"c-1"});
    table_add(t, (const char *const[]){"container-22"});
    s = render(t, 0, 0);
    assert_string_equal(s, "ID\nc-1\ncontainer-22\n");
    free(s);
    table_right(t, 0);
    s = render(t, 0, 0);
    assert_string_equal(s, "          ID\n         c-1\ncontainer-22\n");
    free(s);
    table_free(t);
}

static void test_table_null_cells(void **state)
{
    (void)state;
    static const char *const h[] = {"A", NULL};
    struct table *t = table_new(2, h);
    add3(t, NULL, "x", NULL); /* only the first two are read */
    table_add(t, NULL);
    char *s = render(t, 0, 0);
    assert_string_equal(s, "A\n-   x\n-   -\n");
    free(s);
    table_free(t);
}

static void test_table_bad_arguments(void **state)
{
    (void)state;
    static const char *const h[TABLE_MAX_COLS + 1] = {"a"};
    assert_null(table_new(0, h));
    assert_null(table_new(-1, h));
    assert_null(table_new(TABLE_MAX_COLS + 1, h));
    /* NULL tables are accepted everywhere */
    table_right(NULL, 0);
    table_add(NULL, h);
    table_color(NULL, 0, C_RED);
    table_print(NULL, stdout, 1, 80);
    table_free(NULL);

    struct table *t = table_new(TABLE_MAX_COLS, NULL);
    assert_non_null(t);
    table_right(t, -1);
    table_right(t, TABLE_MAX_COLS);
    table_color(t, 0, C_RED); /* no row yet */
    table_add(t, NULL);
    table_color(t, -1, C_RED);
    table_color(t, TABLE_MAX_COLS, C_RED);
    table_color(t, 0, (enum color)42);
    char *s = render(t, 1, 0);
    /* an empty header line (bold of nothing is left out) and a row of twelve "-" */
    assert_string_equal(s, "\n-   -   -   -   -   -   -   -   -   -   -   -\n");
    free(s);
    table_free(t);
}

static void test_table_right_alignment(void **state)
{
    (void)state;
    static const char *const h[] = {"CPU", "NAME", "MEM"};
    struct table *t = table_new(3, h);
    table_right(t, 0);
    table_right(t, 2);
    add3(t, "0.5%", "a", "1 B");
    add3(t, "100.0%", "bbbbbb", "1023 B");
    char *s = render(t, 0, 0);
    assert_string_equal(s, "   CPU   NAME        MEM\n"
                           "  0.5%   a           1 B\n"
                           "100.0%   bbbbbb   1023 B\n");
    free(s);
    table_free(t);
}

static void test_table_no_trailing_spaces(void **state)
{
    (void)state;
    static const char *const h[] = {"NAME", "NOTE"};
    struct table *t = table_new(2, h);
    table_add(t, (const char *const[]){"a", ""});
    table_add(t, (const char *const[]){"bbbbbbbb", "long note here"});
    table_add(t, (const char *const[]){"c", "trailing   "});
    table_add(t, (const char *const[]){"", ""});
    char *s = render(t, 0, 0);
    assert_no_trailing_spaces(s);
    assert_string_equal(s, "NAME       NOTE\n"
                           "a\n"
                           "bbbbbbbb   long note here\n"
                           "c          trailing\n"
                           "\n");
    free(s);
    /* the same with colour on the last column: no colour over nothing, no spaces */
    table_color(t, 1, C_RED);
    s = render(t, 1, 0);
    assert_no_trailing_spaces(strip_sgr(s));
    free(s);
    table_free(t);
}

static void test_table_control_characters(void **state)
{
    (void)state;
    static const char *const h[] = {"NAME", "STATUS"};
    struct table *t = table_new(2, h);
    /* what a hostile tenant or a broken daemon might put in a name */
    table_add(t, (const char *const[]){"\033]0;pwned\007", "\033[2J\033[H"});
    table_add(t, (const char *const[]){"a\r\nb\tc", "del\x7f"});
    table_add(t, (const char *const[]){"c1\xc2\x9b" "31m", "raw\x9b" "31m"});
    table_add(t, (const char *const[]){"bad\xff\xfe", "\xe6\xbc"});
    table_add(t, (const char *const[]){"\xc2\x85nel", "\xc2\xa0ok"});
    char *s = render(t, 0, 0);
    assert_harmless(s, 0);
    assert_string_equal(s, "NAME         STATUS\n"
                           "?]0;pwned?   ?[2J?[H\n"
                           "a??b?c       del?\n"
                           "c1?31m       raw?31m\n"
                           "bad??        ??\n"
                           "?nel         \xc2\xa0ok\n");
    free(s);
    /* with colour on, the only escapes are our own SGR sequences */
    table_color(t, 0, C_RED);
    s = render(t, 1, 0);
    assert_harmless(s, 1);
    free(s);
    table_free(t);
    /* headers are cleaned too */
    t = table_new(1, (const char *const[]){"H\033[31m"});
    s = render(t, 0, 0);
    assert_string_equal(s, "H?[31m\n");
    free(s);
    table_free(t);
}

static void test_table_cjk_and_emoji_alignment(void **state)
{
    (void)state;
    static const char *const h[] = {"NAME", "X"};
    struct table *t = table_new(2, h);
    table_add(t, (const char *const[]){"\xe6\xbc\xa2\xe5\xad\x97", "1"});         /* 漢字 */
    table_add(t, (const char *const[]){"abcde", "2"});
    table_add(t, (const char *const[]){"\xf0\x9f\x99\x82x", "3"});                /* 🙂x */
    table_add(t, (const char *const[]){"e\xcc\x81", "4"});                       /* é */
    char *s = render(t, 0, 0);
    assert_string_equal(s, "NAME    X\n"
                           "\xe6\xbc\xa2\xe5\xad\x97    1\n"
                           "abcde   2\n"
                           "\xf0\x9f\x99\x82x     3\n"
                           "e\xcc\x81       4\n");
    /* every line puts X at the same display column */
    for (const char *p = s; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        char line[256];
        memcpy(line, p, (size_t)(nl - p));
        line[nl - p] = '\0';
        assert_int_equal(text_width(line), 9);
        p = nl + 1;
    }
    free(s);
    table_free(t);
}

static void test_table_shrink(void **state)
{
    (void)state;
    static const char *const h[] = {"ID", "IMAGE", "STATUS"};
    struct table *t = table_new(3, h);
    table_add(t, (const char *const[]){"c1", "registry.example.com/team/app:1.2.3", "up"});
    table_add(t, (const char *const[]){"c2", "busybox", "exited (1) 3 minutes ago"});
    /* natural width: 2 + 3 + 35 + 3 + 24 = 67 */
    char *s = render(t, 0, 0);
    size_t maxw;
    assert_int_equal(lines_of(s, &maxw), 3);
    assert_int_equal(maxw, 67);
    free(s);
    /* 50 columns: the widest (IMAGE) goes down first, to 24, then both by turns to 21 */
    s = render(t, 0, 50);
    assert_int_equal(lines_of(s, &maxw), 3);
    assert_true(maxw <= 50);
    assert_string_equal(s, "ID   IMAGE                   STATUS\n"
                           "c1   registry.example.com\xe2\x80\xa6   up\n"
                           "c2   busybox                 exited (1) 3 minutes\xe2\x80\xa6\n");
    free(s);
    /* too narrow: every shrinkable column stops at 8 */
    s = render(t, 0, 10);
    assert_string_equal(s, "ID   IMAGE      STATUS\n"
                           "c1   registr\xe2\x80\xa6   up\n"
                           "c2   busybox    exited \xe2\x80\xa6\n");
    free(s);
    table_free(t);
}

static void test_table_shrink_utf8_boundaries(void **state)
{
    (void)state;
    /* 漢 x 10 (width 20) and é x 12 in two forms, shrunk to 8 each: the cut is always
     * between code points and keeps a combining mark with its letter */
    static const char *const h[] = {"A", "B", "C"};
    struct table *t = table_new(3, h);
    char cjk[64] = "", pre[64] = "", comb[64] = "";
    for (int i = 0; i < 10; i++)
        memcpy(cjk + 3 * i, "\xe6\xbc\xa2", 4);
    for (int i = 0; i < 12; i++) {
        memcpy(pre + 2 * i, "\xc3\xa9", 3);
        memcpy(comb + 3 * i, "e\xcc\x81", 4);
    }
    table_add(t, (const char *const[]){cjk, pre, comb});
    table_add(t, (const char *const[]){"\xe6\xbc\xa2x\xe6\xbc\xa2x\xe6\xbc\xa2x\xe6\xbc\xa2x",
                                       "ok", "ok"});
    char *s = render(t, 0, 20);
    assert_true(str_is_utf8(s, strlen(s)));
    size_t maxw;
    assert_int_equal(lines_of(s, &maxw), 3);
    assert_true(maxw <= 30); /* 8 + 3 + 8 + 3 + 8: the floor */
    /* 漢漢漢 (6) + … = 7 columns, padded to 8; a wide character never straddles the cut */
    const char *want_row1 = "\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe2\x80\xa6    "
                            "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x80\xa6   "
                            "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81"
                            "e\xcc\x81\xe2\x80\xa6\n";
    /* 漢x漢x (6): the next 漢 would make 8, so it is left out and the cell is 7 wide */
    const char *want_row2 = "\xe6\xbc\xa2x\xe6\xbc\xa2x\xe2\x80\xa6    ok         ok\n";
    const char *nl = strchr(s, '\n');
    assert_memory_equal(nl + 1, want_row1, strlen(want_row1));
    assert_string_equal(nl + 1 + strlen(want_row1), want_row2);
    free(s);
    table_free(t);
}

static void test_table_color_keeps_layout(void **state)
{
    (void)state;
    struct table *t = table3();
    add3(t, "web", "running", "1.50 KiB");
    table_color(t, 1, C_GREEN);
    add3(t, "\xe6\xbc\xa2\xe5\xad\x97-db-with-a-long-name", "exited", "12 B");
    table_color(t, 1, C_RED);
    table_color(t, 2, C_DIM);
    add3(t, "cache", "restarting", NULL);
    table_color(t, 0, C_CYAN);
    for (int width = 0; width <= 60; width += 10) {
        char *plain = render(t, 0, width);
        char *col = render(t, 1, width);
        assert_true(strchr(plain, '\033') == NULL);
        assert_true(strstr(col, "\033[1mNAME") == col); /* the header starts bold */
        assert_harmless(col, 1);
        assert_string_equal(strip_sgr(col), plain);
        free(plain);
        free(col);
    }
    char *col = render(t, 1, 0);
    assert_non_null(strstr(col, "\033[32mrunning\033[0m"));
    assert_non_null(strstr(col, "\033[31mexited\033[0m"));
    assert_non_null(strstr(col, "\033[2m12 B\033[0m"));
    assert_non_null(strstr(col, "\n\033[36mcache\033[0m"));
    /* colour covers the text only, never the padding after it */
    assert_null(strstr(col, " \033[0m"));
    free(col);
    table_free(t);
}

static void test_table_row_limit(void **state)
{
    (void)state;
    static const char *const h[] = {"N"};
    struct table *t = table_new(1, h);
    char cell[16];
    for (int i = 0; i < TABLE_MAX_ROWS + 5; i++) {
        snprintf(cell, sizeof(cell), "%d", i);
        table_add(t, (const char *const[]){cell});
    }
    /* the colour of a dropped row must not land on the last kept one */
    table_color(t, 0, C_RED);
    char *s = render(t, 1, 0);
    size_t maxw;
    assert_int_equal(lines_of(s, &maxw), TABLE_MAX_ROWS + 1);
    assert_null(strstr(s, "\033[31m"));
    snprintf(cell, sizeof(cell), "\n%d\n", TABLE_MAX_ROWS - 1);
    assert_non_null(strstr(s, cell));
    snprintf(cell, sizeof(cell), "\n%d\n", TABLE_MAX_ROWS);
    assert_null(strstr(s, cell));
    free(s);
    table_free(t);
}

static void test_table_long_cells(void **state)
{
    (void)state;
    static const char *const h[] = {"A"};
    struct table *t = table_new(1, h);
    char *big = malloc(3 * 5000 + 1);
    assert_non_null(big);
    memset(big, 'a', 5000);
    big[5000] = '\0';
    table_add(t, (const char *const[]){big});
    for (int i = 0; i < 5000; i++) /* 漢 x 5000: 4096 / 3 = 1365 whole characters fit */
        memcpy(big + 3 * i, "\xe6\xbc\xa2", 3);
    big[3 * 5000] = '\0';
    table_add(t, (const char *const[]){big});
    char *s = render(t, 0, 0);
    char *l1 = strchr(s, '\n') + 1;
    char *l2 = strchr(l1, '\n') + 1;
    assert_int_equal(l2 - l1 - 1, 4096);
    assert_true(str_is_utf8(l2, strlen(l2)));
    assert_int_equal(strlen(l2), 4095 + 1);
    l2[4095] = '\0';
    assert_int_equal(text_width(l2), 2730);
    free(s);
    free(big);
    table_free(t);
}

/* ---- sizes and times --------------------------------------------------------------- */

static void expect_bytes(uint64_t v, const char *want)
{
    char out[32];
    fmt_bytes(v, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_fmt_bytes(void **state)
{
    (void)state;
    expect_bytes(0, "0 B");
    expect_bytes(1, "1 B");
    expect_bytes(999, "999 B");
    expect_bytes(1023, "1023 B");
    expect_bytes(1024, "1.00 KiB");
    expect_bytes(1536, "1.50 KiB");
    expect_bytes(10239, "10.0 KiB");   /* 9.999 rounds to 10.0, one decimal */
    expect_bytes(10240, "10.0 KiB");
    expect_bytes(102400, "100 KiB");
    expect_bytes(102350, "100 KiB");  /* 99.95 rounds to 100, no decimal */
    expect_bytes(1047552, "1023 KiB");
    expect_bytes(1048575, "1.00 MiB"); /* 1023.999 KiB rounds up to the next unit */
    expect_bytes(1048576, "1.00 MiB");
    expect_bytes((uint64_t)(12.34 * 1048576), "12.3 MiB");
    expect_bytes((uint64_t)123 * 1048576 + 100, "123 MiB");
    expect_bytes((uint64_t)1 << 30, "1.00 GiB");
    expect_bytes((uint64_t)5 << 40, "5.00 TiB");
    expect_bytes((uint64_t)1 << 50, "1.00 PiB");
    expect_bytes((uint64_t)1 << 60, "1.00 EiB");
    expect_bytes(UINT64_MAX, "16.0 EiB");
    /* short buffers are cut, never overrun; cap 0 writes nothing */
    char small[5] = "zzzz";
    fmt_bytes(1536, small, sizeof(small));
    assert_string_equal(small, "1.50");
    fmt_bytes(1536, small, 0);
    assert_string_equal(small, "1.50");
    fmt_bytes(1536, NULL, 10);
}

static void expect_duration(int64_t v, const char *want)
{
    char out[32];
    fmt_duration(v, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_fmt_duration(void **state)
{
    (void)state;
    expect_duration(INT64_MIN, "0s");
    expect_duration(-5, "0s");
    expect_duration(0, "0s");
    expect_duration(45, "45s");
    expect_duration(59, "59s");
    expect_duration(60, "1m");
    expect_duration(750, "12m 30s");
    expect_duration(3599, "59m 59s");
    expect_duration(3600, "1h");
    expect_duration(3660, "1h 1m");
    expect_duration(11100, "3h 5m");
    expect_duration(86399, "23h 59m");
    expect_duration(86400, "1d");
    expect_duration(190800, "2d 5h");
    expect_duration(INT64_MAX, "106751991167300d 15h");
}

static void ago(int64_t delta, const char *want)
{
    char ts[TIME_RFC3339_LEN], out[64];
    time_rfc3339(NOW - delta, ts, sizeof(ts));
    fmt_ago(ts, NOW, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_fmt_ago(void **state)
{
    (void)state;
    ago(0, "just now");
    ago(59, "just now");
    ago(-59, "just now"); /* a little clock skew */
    ago(60, "1 minute ago");
    ago(119, "1 minute ago");
    ago(300, "5 minutes ago");
    ago(3599, "59 minutes ago");
    ago(3600, "1 hour ago");
    ago(3 * 3600 + 1800, "3 hours ago");
    ago(86399, "23 hours ago");
    ago(86400, "1 day ago");
    ago(2 * 86400, "2 days ago");
    ago(400 * 86400, "400 days ago");
    ago(-300, "in 5 minutes");
    ago(-60, "in 1 minute");
    ago(-2 * 3600, "in 2 hours");
    ago(-86400, "in 1 day");
    char out[64];
    /* offsets and fractions are understood */
    fmt_ago("2023-11-15T00:08:20.123+02:00", NOW, out, sizeof(out));
    assert_string_equal(out, "5 minutes ago");
    /* anything else is shown as it is */
    fmt_ago("yesterday", NOW, out, sizeof(out));
    assert_string_equal(out, "yesterday");
    fmt_ago("", NOW, out, sizeof(out));
    assert_string_equal(out, "");
    fmt_ago(NULL, NOW, out, sizeof(out));
    assert_string_equal(out, "-");
    /* extreme nows do not overflow */
    fmt_ago("2023-11-14T22:13:20Z", INT64_MIN, out, sizeof(out));
    assert_true(strncmp(out, "in ", 3) == 0);
    fmt_ago("2023-11-14T22:13:20Z", INT64_MAX, out, sizeof(out));
    assert_non_null(strstr(out, " days ago"));
    char small[6];
    fmt_ago("2023-11-14T22:08:20Z", NOW, small, sizeof(small));
    assert_string_equal(small, "5 min");
}

static void test_fmt_until(void **state)
{
    (void)state;
    char ts[TIME_RFC3339_LEN], out[64];
    time_rfc3339(NOW + 7500, ts, sizeof(ts));
    fmt_until(ts, NOW, out, sizeof(out));
    assert_string_equal(out, "in 2h 5m");
    time_rfc3339(NOW + 30, ts, sizeof(ts));
    fmt_until(ts, NOW, out, sizeof(out));
    assert_string_equal(out, "in 30s");
    time_rfc3339(NOW + 3 * 86400, ts, sizeof(ts));
    fmt_until(ts, NOW, out, sizeof(out));
    assert_string_equal(out, "in 3d");
    time_rfc3339(NOW, ts, sizeof(ts));
    fmt_until(ts, NOW, out, sizeof(out));
    assert_string_equal(out, "expired");
    time_rfc3339(NOW - 1, ts, sizeof(ts));
    fmt_until(ts, NOW, out, sizeof(out));
    assert_string_equal(out, "expired");
    fmt_until(NULL, NOW, out, sizeof(out));
    assert_string_equal(out, "-");
    fmt_until("never", NOW, out, sizeof(out));
    assert_string_equal(out, "never");
    fmt_until("2023-11-14T22:13:20Z", INT64_MIN, out, sizeof(out));
    assert_true(strncmp(out, "in ", 3) == 0);
    fmt_until("2023-11-14T22:13:20Z", INT64_MAX, out, sizeof(out));
    assert_string_equal(out, "expired");
}

/* ---- JSON and the terminal --------------------------------------------------------- */

static void test_out_json(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s, s:i, s:[i,b], s:{}}", "zeta", "caf\xc3\xa9 \xe6\xbc\xa2", "alpha",
                          1, "list", 2, 1, "empty");
    assert_non_null(v);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
    int rc = out_json(v);
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    assert_int_equal(rc, 0);
    char got[512];
    rewind(tmp);
    size_t n = fread(got, 1, sizeof(got) - 1, tmp);
    got[n] = '\0';
    fclose(tmp);
    assert_string_equal(got, "{\n"
                             "  \"zeta\": \"caf\xc3\xa9 \xe6\xbc\xa2\",\n"
                             "  \"alpha\": 1,\n"
                             "  \"list\": [\n"
                             "    2,\n"
                             "    true\n"
                             "  ],\n"
                             "  \"empty\": {}\n"
                             "}\n");
    json_decref(v);
    assert_int_equal(out_json(NULL), -EINVAL);
}

static void test_out_width_columns(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    unsetenv("COLUMNS");
    assert_int_equal(out_width(f), 0); /* a file: no limit */
    assert_int_equal(out_width(NULL), 0);
    setenv("COLUMNS", "120", 1);
    assert_int_equal(out_width(f), 120);
    setenv("COLUMNS", "10000", 1);
    assert_int_equal(out_width(f), 10000);
    static const char *const bad[] = {"0", "-5", "10001", "abc", "80x", " 80", "", "99999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("COLUMNS", bad[i], 1);
        assert_int_equal(out_width(f), 0);
    }
    unsetenv("COLUMNS");
    fclose(f);
}

static void test_out_width_pty(void **state)
{
    (void)state;
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) {
        skip();
        return;
    }
    assert_int_equal(grantpt(m), 0);
    assert_int_equal(unlockpt(m), 0);
    const char *name = ptsname(m);
    assert_non_null(name);
    int s = open(name, O_RDWR | O_NOCTTY);
    assert_true(s >= 0);
    struct winsize ws = {.ws_row = 24, .ws_col = 77};
    assert_int_equal(ioctl(s, TIOCSWINSZ, &ws), 0);
    FILE *f = fdopen(s, "w");
    assert_non_null(f);
    unsetenv("COLUMNS");
    assert_int_equal(out_width(f), 77);
    setenv("COLUMNS", "100", 1); /* COLUMNS wins */
    assert_int_equal(out_width(f), 100);
    setenv("COLUMNS", "junk", 1);
    assert_int_equal(out_width(f), 77);
    unsetenv("COLUMNS");
    fclose(f);
    close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_colors),
        cmocka_unit_test(test_width_ascii_and_marks),
        cmocka_unit_test(test_width_wide),
        cmocka_unit_test(test_width_invalid),
        cmocka_unit_test(test_table_layout),
        cmocka_unit_test(test_table_empty_and_one_column),
        cmocka_unit_test(test_table_null_cells),
        cmocka_unit_test(test_table_bad_arguments),
        cmocka_unit_test(test_table_right_alignment),
        cmocka_unit_test(test_table_no_trailing_spaces),
        cmocka_unit_test(test_table_control_characters),
        cmocka_unit_test(test_table_cjk_and_emoji_alignment),
        cmocka_unit_test(test_table_shrink),
        cmocka_unit_test(test_table_shrink_utf8_boundaries),
        cmocka_unit_test(test_table_color_keeps_layout),
        cmocka_unit_test(test_table_row_limit),
        cmocka_unit_test(test_table_long_cells),
        cmocka_unit_test(test_fmt_bytes),
        cmocka_unit_test(test_fmt_duration),
        cmocka_unit_test(test_fmt_ago),
        cmocka_unit_test(test_fmt_until),
        cmocka_unit_test(test_out_json),
        cmocka_unit_test(test_out_width_columns),
        cmocka_unit_test(test_out_width_pty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
