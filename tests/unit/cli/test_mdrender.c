/* Unit tests for src/cli/mdrender.c: paragraphs joined and wrapped at a width (exact lines),
 * blank lines between blocks (collapsed, none at the ends), code spans (styled, backticks
 * removed or kept with MD_TICKS, unmatched ones literal, double backticks), bold (styled,
 * unmatched "**" literal, escapes), lists ("- ", "* ", "+ ", "1. ", nesting, hanging indent),
 * headings, fenced blocks (verbatim, never joined), wrapping of UTF-8 by display columns (accents,
 * CJK, a word longer than the line cut between characters, never inside one), the cleaning of
 * text from the server (escape sequences, control characters, C1, bidirectional controls,
 * invalid UTF-8, tabs, "\r\n"), md_add_text's three ways to cut, printing with and without
 * colour, and the limits (input cut at MD_INPUT_MAX, linear time on hostile markup). Then the
 * assistant's answers laid out with it (chat.h): every part (the action highlighted and never
 * cut, the explanation rendered, each risk's line and colour, the note, the sandbox output
 * with its exit code, a timeout, a rejection, the usage line), missing and mistyped fields,
 * which answers may be offered for execution, the request bodies (context, lang, only the
 * command_id for a run), the request checks, the conversation's limit, and the failure
 * sentences (402, 403 plan_required with the plan, 401, 404, 5xx, transport), cleaned. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "chat.h"
#include "cli.h"
#include "mdrender.h"
#include "output.h"
#include "str.h"

/* The command table this test needs (none): the CLI library's parser refers to it. */
const struct cli_command *const cli_groups[] = {NULL};

/* ---- helpers ----------------------------------------------------------------------------- */

/* The document as md_print writes it, in a malloc'ed string. */
static char *printed(const struct md_doc *d, int color)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    md_print(d, f, color);
    assert_int_equal(fclose(f), 0);
    assert_non_null(out);
    return out;
}

/* Renders markdown and checks the plain text against want. */
static void expect_render(const char *md, int width, int indent, unsigned flags, const char *want)
{
    struct md_doc d;
    md_doc_init(&d);
    md_render(&d, md, strlen(md), width, indent, flags);
    char *got = printed(&d, 0);
    if (strcmp(got, want) != 0)
        fail_msg("rendering %s at %d:\n--- got ---\n%s--- want ---\n%s", md, width, got, want);
    free(got);
    md_doc_free(&d);
}

/* The style of the span that covers byte `at` of line i, or 0. */
static unsigned style_at(const struct md_doc *d, size_t i, size_t at)
{
    assert_true(i < d->n);
    const struct md_line *l = &d->lines[i];
    for (size_t s = 0; s < l->nspans; s++)
        if (at >= l->spans[s].start && at < l->spans[s].end)
            return l->spans[s].style;
    return 0;
}

/* Every line is valid UTF-8 without control characters, its width field is its display
 * width, it fits max columns (when max > 0), and its spans are in order within it. */
static void check_lines(const struct md_doc *d, size_t max)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct md_line *l = &d->lines[i];
        assert_int_equal(strlen(l->text), l->len);
        assert_true(str_is_utf8(l->text, l->len));
        assert_false(str_has_control(l->text, l->len));
        assert_int_equal(text_width(l->text), l->width);
        if (max > 0 && l->width > max)
            fail_msg("line %zu is %zu columns wide (max %zu): \"%s\"", i, l->width, max, l->text);
        size_t prev = 0;
        for (size_t s = 0; s < l->nspans; s++) {
            assert_true(l->spans[s].start >= prev);
            assert_true(l->spans[s].start < l->spans[s].end);
            assert_true(l->spans[s].end <= l->len);
            assert_true(l->spans[s].style != 0);
            prev = l->spans[s].end;
        }
    }
}

/* ---- paragraphs -------------------------------------------------------------------------- */

static void test_paragraph_wraps_at_words(void **state)
{
    (void)state;
    expect_render("The quick brown fox jumps over the lazy dog", 20, 0, 0,
                  "The quick brown fox\njumps over the lazy\ndog\n");
    /* exactly the width fits; one more column does not */
    expect_render("aaaa bbbb cccc", 14, 0, 0, "aaaa bbbb cccc\n");
    expect_render("aaaa bbbb ccccc", 14, 0, 0, "aaaa bbbb\nccccc\n");
    /* no width: one line */
    expect_render("The quick brown fox jumps over the lazy dog", 0, 0, 0,
                  "The quick brown fox jumps over the lazy dog\n");
    /* a width below the minimum is the minimum */
    expect_render("aaa bbb ccc ddd eee", 3, 0, 0, "aaa bbb ccc\nddd eee\n");
}

static void test_lines_join_and_spaces_collapse(void **state)
{
    (void)state;
    expect_render("one\ntwo\n   three", 0, 0, 0, "one two three\n");
    expect_render("a    b  \t c", 0, 0, 0, "a b c\n");
    expect_render("trailing   \n", 0, 0, 0, "trailing\n");
}

static void test_blank_lines_separate_blocks(void **state)
{
    (void)state;
    expect_render("first\n\nsecond", 0, 0, 0, "first\n\nsecond\n");
    expect_render("\n\n\nfirst\n\n\n\nsecond\n\n\n", 0, 0, 0, "first\n\nsecond\n");
    expect_render("", 40, 0, 0, "");
    expect_render("\n  \n\n", 40, 0, 0, "");
    /* a list right after a paragraph, without a blank line, gets none */
    expect_render("Steps:\n- one\n- two", 0, 0, 0, "Steps:\n- one\n- two\n");
}

static void test_indent(void **state)
{
    (void)state;
    expect_render("alpha beta gamma delta", 14, 2, 0, "  alpha beta\n  gamma delta\n");
    expect_render("- item one two three", 14, 2, 0, "  - item one\n    two three\n");
}

/* ---- inline markup ----------------------------------------------------------------------- */

static void test_code_spans(void **state)
{
    (void)state;
    struct md_doc d;
    md_doc_init(&d);
    const char *md = "Run `ls -l` now";
    md_render(&d, md, strlen(md), 0, 0, 0);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.lines[0].text, "Run ls -l now");
    assert_int_equal(d.lines[0].nspans, 1);
    assert_int_equal(d.lines[0].spans[0].start, 4);
    assert_int_equal(d.lines[0].spans[0].end, 9);
    assert_int_equal(d.lines[0].spans[0].style, MD_CODE);
    md_doc_free(&d);

    expect_render("Run `ls -l` now", 0, 0, MD_TICKS, "Run `ls -l` now\n");
    /* an unmatched backtick is text */
    expect_render("it's a ` alone", 0, 0, 0, "it's a ` alone\n");
    /* double backticks hold a single one; one space inside each end is dropped */
    expect_render("use `` a`b `` here", 0, 0, 0, "use a`b here\n");
    /* markup inside code is not markup */
    expect_render("`**not bold**`", 0, 0, 0, "**not bold**\n");
    /* a code span with spaces wraps at its spaces, styled on both lines */
    md_doc_init(&d);
    md = "x `aws s3api create-bucket --bucket b` y";
    md_render(&d, md, strlen(md), 20, 0, 0);
    check_lines(&d, 20);
    assert_true(d.n >= 2);
    assert_int_equal(style_at(&d, 1, 0), MD_CODE);
    md_doc_free(&d);
}

static void test_bold(void **state)
{
    (void)state;
    struct md_doc d;
    md_doc_init(&d);
    const char *md = "**Warning**: this `rm` is **very `bad`** indeed";
    md_render(&d, md, strlen(md), 0, 0, 0);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.lines[0].text, "Warning: this rm is very bad indeed");
    assert_int_equal(style_at(&d, 0, 0), MD_BOLD);
    assert_int_equal(style_at(&d, 0, 6), MD_BOLD);
    assert_int_equal(style_at(&d, 0, 7), 0); /* the colon */
    assert_int_equal(style_at(&d, 0, 14), MD_CODE);
    assert_int_equal(style_at(&d, 0, 20), MD_BOLD);                /* very */
    assert_int_equal(style_at(&d, 0, 25), MD_BOLD | MD_CODE);      /* bad */
    assert_int_equal(style_at(&d, 0, 29), 0);                      /* indeed */
    md_doc_free(&d);

    /* unmatched or spaced "**" stays as it is */
    expect_render("2 ** 3 is 8", 0, 0, 0, "2 ** 3 is 8\n");
    expect_render("**open only", 0, 0, 0, "**open only\n");
    /* escapes */
    expect_render("\\*\\*not bold\\*\\* and \\`tick\\`", 0, 0, 0, "**not bold** and `tick`\n");
    /* a single star is text */
    expect_render("*.txt files", 0, 0, 0, "*.txt files\n");
}

/* ---- blocks ------------------------------------------------------------------------------ */

static void test_lists(void **state)
{
    (void)state;
    expect_render("- one\n* two\n+ three", 0, 0, 0, "- one\n- two\n- three\n");
    expect_render("1. first\n2) second\n10. tenth", 0, 0, 0, "1. first\n2) second\n10. tenth\n");
    /* hanging indent under the text, not the marker */
    expect_render("- two long text wraps here", 16, 0, 0, "- two long text\n  wraps here\n");
    expect_render("12. alpha beta gamma", 16, 0, 0, "12. alpha beta\n    gamma\n");
    /* nesting by two spaces; a continuation line joins its item */
    expect_render("- top\n  - sub\n    more of sub\n- next", 0, 0, 0,
                  "- top\n  - sub more of sub\n- next\n");
    /* "---" and "-x" are not items */
    expect_render("---\n-x", 0, 0, 0, "--- -x\n");
    /* markup inside an item */
    struct md_doc d;
    md_doc_init(&d);
    const char *md = "- use `kubectl` **now**";
    md_render(&d, md, strlen(md), 0, 0, 0);
    assert_string_equal(d.lines[0].text, "- use kubectl now");
    assert_int_equal(style_at(&d, 0, 0), 0);
    assert_int_equal(style_at(&d, 0, 6), MD_CODE);
    assert_int_equal(style_at(&d, 0, 14), MD_BOLD);
    md_doc_free(&d);
}

static void test_headings(void **state)
{
    (void)state;
    struct md_doc d;
    md_doc_init(&d);
    const char *md = "## Étapes\nfaire `x`";
    md_render(&d, md, strlen(md), 0, 0, 0);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.lines[0].text, "Étapes");
    assert_int_equal(style_at(&d, 0, 0), MD_BOLD);
    assert_string_equal(d.lines[1].text, "faire x");
    md_doc_free(&d);
    expect_render("#hashtag", 0, 0, 0, "#hashtag\n");
}

static void test_fenced_blocks(void **state)
{
    (void)state;
    struct md_doc d;
    md_doc_init(&d);
    const char *md = "Run:\n\n```bash\naws s3 ls\n  --recursive   **x**\n```\n\nDone.";
    md_render(&d, md, strlen(md), 0, 0, 0);
    char *got = printed(&d, 0);
    assert_string_equal(got, "Run:\n\n  aws s3 ls\n    --recursive   **x**\n\nDone.\n");
    free(got);
    assert_int_equal(style_at(&d, 2, 2), MD_CODE);
    assert_int_equal(style_at(&d, 3, 4), MD_CODE);
    md_doc_free(&d);
    /* a code line wider than the width is cut, not wrapped at words */
    expect_render("```\nabcdefghijklmnopqrstuvwxyz\n```", 14, 0, 0,
                  "  abcdefghijkl\n  mnopqrstuvwx\n  yz\n");
    /* an unclosed fence runs to the end */
    expect_render("```\nx   y", 0, 0, 0, "  x   y\n");
}

/* ---- UTF-8 --------------------------------------------------------------------------------- */

static void test_utf8_wrapping(void **state)
{
    (void)state;
    /* accents are one column each */
    expect_render("Créer un bucket S3 sécurisé", 14, 0, 0, "Créer un\nbucket S3\nsécurisé\n");
    struct md_doc d;
    md_doc_init(&d);
    /* CJK is two columns; a word longer than the line is cut between characters */
    const char *md = "日本語のテキストです。とても長い単語";
    md_render(&d, md, strlen(md), 12, 0, 0);
    check_lines(&d, 12);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.lines[0].text, "日本語のテキ");
    assert_int_equal(d.lines[0].width, 12);
    md_doc_free(&d);
    /* an odd width: a wide character that would overflow moves to the next line */
    md_doc_init(&d);
    md = "aaaaaaaaaaa日本";
    md_render(&d, md, strlen(md), 12, 0, 0);
    check_lines(&d, 12);
    assert_string_equal(d.lines[0].text, "aaaaaaaaaaa");
    assert_string_equal(d.lines[1].text, "日本");
    md_doc_free(&d);
    /* combining marks stay with their letter */
    md_doc_init(&d);
    md = "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81"
         "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81";
    md_render(&d, md, strlen(md), 12, 0, 0);
    check_lines(&d, 12);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.lines[0].width, 12);
    assert_int_equal(d.lines[0].len, 36);
    md_doc_free(&d);
}

static void test_wrap_property_over_many_widths(void **state)
{
    (void)state;
    const char *md = "Pour créer un **bucket S3 sécurisé**, utilisez `aws s3api create-bucket "
                     "--bucket mon-bucket --region eu-west-3` puis activez le chiffrement :\n\n"
                     "- `aws s3api put-bucket-encryption` (SSE-S3 ou **KMS**)\n"
                     "- bloquez l'accès public avec `put-public-access-block`\n"
                     "  et vérifiez la politique 日本語テキスト\n\n"
                     "1. étape une\n2. étape deux très longue qui doit passer à la ligne";
    for (int w = MD_WIDTH_MIN; w <= 100; w++) {
        struct md_doc d;
        md_doc_init(&d);
        md_render(&d, md, strlen(md), w, w % 3, w % 2 ? MD_TICKS : 0);
        check_lines(&d, (size_t)w);
        /* no word is lost: the letters of the source are all there, in order */
        char *got = printed(&d, 0);
        assert_non_null(strstr(got, "chiffrement"));
        assert_non_null(strstr(got, "ligne"));
        free(got);
        md_doc_free(&d);
    }
}

/* ---- cleaning ------------------------------------------------------------------------------ */

static void test_control_characters_stripped(void **state)
{
    (void)state;
    char out[256];
    const char *in = "a\033[31mred\033[0m\a\001b\033]0;pwned\007c\033]2;t\033\\d\033ce\177f";
    size_t n = md_clean(in, strlen(in), out, sizeof(out), 1);
    assert_string_equal(out, "aredbcdef");
    assert_int_equal(n, 9);
    /* C1 controls (U+009B is a CSI of its own), bidi overrides, invalid UTF-8, NUL */
    const char in2[] = "x\xc2\x9b" "31my\xe2\x80\xae" "z\xff\xc3(w\0v";
    n = md_clean(in2, sizeof(in2) - 1, out, sizeof(out), 1);
    assert_string_equal(out, "x31myz?" "?(wv");
    /* "\r\n" is a newline; a lone "\r" goes; newlines kept or made spaces */
    n = md_clean("a\r\nb\rc\nd", 9, out, sizeof(out), 1);
    assert_string_equal(out, "a\nbc\nd");
    md_clean("a\r\nb\nc", 6, out, sizeof(out), 0);
    assert_string_equal(out, "a b c");
    /* tabs to the next multiple of 8 columns, counted from the line's start, by columns */
    md_clean("ab\tc\n\td\té\tx", 12, out, sizeof(out), 1);
    assert_string_equal(out, "ab      c\n        d       é       x");
    /* cut between characters when out is small */
    n = md_clean("ééé", 6, out, 6, 1);
    assert_string_equal(out, "éé");
    assert_int_equal(n, 4);
    assert_int_equal(md_clean("abc", 3, out, 0, 1), 0);
    /* a truncated escape or character at the end of the input */
    md_clean("ok\033[31", 7, out, sizeof(out), 1);
    assert_string_equal(out, "ok");
    md_clean("ok\xc3", 3, out, sizeof(out), 1);
    assert_string_equal(out, "ok?");

    /* the renderer cleans what it renders */
    struct md_doc d;
    md_doc_init(&d);
    const char *md = "title\033]0;owned\a **b\033[2Jold**\n- it\033[1Aem\tx";
    md_render(&d, md, strlen(md), 40, 0, 0);
    check_lines(&d, 40);
    char *got = printed(&d, 0);
    assert_string_equal(got, "title bold\n- item x\n");
    free(got);
    md_doc_free(&d);
}

/* ---- md_add_text and printing ---------------------------------------------------------- */

static void test_add_text_modes(void **state)
{
    (void)state;
    struct md_doc d;
    md_doc_init(&d);
    const char *t = "abcdefghijklmnopqrstuvwxyz";
    assert_int_equal(md_add_text(&d, t, strlen(t), MD_CODE, 12, 0, MD_WRAP_HARD), 3);
    assert_string_equal(d.lines[0].text, "abcdefghijkl");
    assert_string_equal(d.lines[2].text, "yz");
    assert_int_equal(style_at(&d, 2, 0), MD_CODE);
    md_doc_free(&d);

    md_doc_init(&d);
    assert_int_equal(md_add_text(&d, t, strlen(t), 0, 12, 2, MD_WRAP_NONE), 1);
    assert_string_equal(d.lines[0].text, "  abcdefghijklmnopqrstuvwxyz");
    md_doc_free(&d);

    /* lines of the text, an empty one kept, the trailing newline not */
    md_doc_init(&d);
    t = "total 0\n\ndrwx  2 root\n";
    assert_int_equal(md_add_text(&d, t, strlen(t), 0, 0, 0, MD_WRAP_HARD), 3);
    assert_string_equal(d.lines[1].text, "");
    assert_string_equal(d.lines[2].text, "drwx  2 root"); /* spaces kept */
    md_doc_free(&d);

    md_doc_init(&d);
    t = "one two three four five";
    md_add_text(&d, t, strlen(t), MD_DIM, 14, 0, MD_WRAP_WORDS);
    char *got = printed(&d, 0);
    assert_string_equal(got, "one two three\nfour five\n");
    free(got);
    assert_int_equal(md_add_text(&d, "", 0, 0, 14, 0, MD_WRAP_WORDS), 0);
    assert_int_equal(md_add_text(&d, NULL, 5, 0, 14, 0, MD_WRAP_WORDS), 0);
    md_doc_free(&d);
}

static void test_blank_helper(void **state)
{
    (void)state;
    struct md_doc d;
    md_doc_init(&d);
    md_add_blank(&d); /* nothing before: no blank */
    assert_int_equal(d.n, 0);
    md_add_text(&d, "x", 1, 0, 0, 0, MD_WRAP_NONE);
    md_add_blank(&d);
    md_add_blank(&d);
    assert_int_equal(d.n, 2);
    md_doc_free(&d);
    assert_int_equal(d.n, 0);
    md_doc_free(&d); /* twice is fine */
}

static void test_print_colour(void **state)
{
    (void)state;
    struct md_doc d;
    md_doc_init(&d);
    const char *md = "a `b` **c**";
    md_render(&d, md, strlen(md), 0, 0, 0);
    md_add_text(&d, "warn", 4, MD_YELLOW | MD_BOLD, 0, 0, MD_WRAP_NONE);
    md_add_text(&d, "act", 3, MD_CYAN | MD_BOLD, 0, 0, MD_WRAP_NONE);
    md_add_text(&d, "dim", 3, MD_DIM, 0, 0, MD_WRAP_NONE);
    md_add_text(&d, "bad", 3, MD_RED, 0, 0, MD_WRAP_NONE);
    char *got = printed(&d, 1);
    assert_string_equal(got, "a \033[36mb\033[0m \033[1mc\033[0m\n"
                             "\033[1;33mwarn\033[0m\n"
                             "\033[1;36mact\033[0m\n"
                             "\033[2mdim\033[0m\n"
                             "\033[31mbad\033[0m\n");
    free(got);
    got = printed(&d, 0);
    assert_string_equal(got, "a b c\nwarn\nact\ndim\nbad\n");
    free(got);
    md_doc_free(&d);
}

/* ---- limits -------------------------------------------------------------------------------- */

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_limits(void **state)
{
    (void)state;
    /* input beyond MD_INPUT_MAX is cut and said */
    size_t n = MD_INPUT_MAX + 1000;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = i % 7 == 6 ? ' ' : 'a';
    struct md_doc d;
    md_doc_init(&d);
    md_render(&d, big, n, 80, 0, 0);
    assert_true(d.truncated);
    size_t total = 0;
    for (size_t i = 0; i < d.n; i++)
        total += d.lines[i].len;
    assert_true(total <= MD_INPUT_MAX);
    check_lines(&d, 80);
    md_doc_free(&d);

    /* hostile markup: unmatched "**" and backtick runs everywhere stay linear */
    static const char *const units[] = {"** ", "`` `", "**a`", "``` x "};
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        size_t ul = strlen(units[u]);
        for (size_t i = 0; i + ul <= MD_INPUT_MAX; i += ul)
            memcpy(big + i, units[u], ul);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        md_doc_init(&d);
        md_render(&d, big, MD_INPUT_MAX / ul * ul, 60, 0, 0);
        check_lines(&d, 60);
        md_doc_free(&d);
        assert_true(seconds_since(&t0) < 2.0);
    }

    /* lines beyond MD_LINES_MAX are dropped */
    char *lines = malloc(2 * (MD_LINES_MAX + 10));
    assert_non_null(lines);
    for (size_t i = 0; i < MD_LINES_MAX + 10; i++) {
        lines[2 * i] = 'x';
        lines[2 * i + 1] = '\n';
    }
    md_doc_init(&d);
    md_add_text(&d, lines, 2 * (MD_LINES_MAX + 10), 0, 0, 0, MD_WRAP_NONE);
    assert_int_equal(d.n, MD_LINES_MAX);
    assert_true(d.truncated);
    md_doc_free(&d);
    free(lines);
    free(big);
}


/* ---- the assistant's answers ------------------------------------------------------------ */

/* The answer laid out as plain text (no colour), in a malloc'ed string. */
static char *answer_text(json_t *a, unsigned parts, int width, int indent)
{
    struct md_doc d;
    struct answer_look lk = {width, indent, 1, MD_WRAP_NONE};
    md_doc_init(&d);
    assist_answer_doc(&d, a, parts, &lk);
    check_lines(&d, 0);
    char *s = printed(&d, 0);
    md_doc_free(&d);
    return s;
}

/* The style of the first line of the laid-out answer that starts with prefix. */
static unsigned style_of_line(json_t *a, unsigned parts, const char *prefix)
{
    struct md_doc d;
    struct answer_look lk = {0, 0, 0, MD_WRAP_NONE};
    md_doc_init(&d);
    assist_answer_doc(&d, a, parts, &lk);
    unsigned st = 0xffff;
    for (size_t i = 0; i < d.n; i++)
        if (strncmp(d.lines[i].text, prefix, strlen(prefix)) == 0) {
            st = d.lines[i].nspans ? d.lines[i].spans[0].style : 0;
            break;
        }
    md_doc_free(&d);
    return st;
}

static json_t *answer_json(const char *text)
{
    json_error_t je;
    json_t *a = json_loads(text, 0, &je);
    if (a == NULL)
        fail_msg("bad test JSON: %s", je.text);
    return a;
}

static const char *const SAFE_ANSWER =
    "{\"command_id\": \"c_1\", \"action\": \"aws s3api create-bucket --bucket my-bucket --region "
    "eu-west-3 --create-bucket-configuration LocationConstraint=eu-west-3\", \"explanation\": "
    "\"Creates `my-bucket`.\\n\\n**Best practice**: block public access.\", \"risk\": \"safe\", "
    "\"risk_reason\": \"\", \"output\": \"\", \"exit_code\": null, \"execution_status\": "
    "\"dry_run\", \"source\": \"offline\", \"note\": null, \"matched\": true, \"lang\": \"en\", "
    "\"token_usage\": {\"prompt_tokens\": 5, \"completion_tokens\": 20, \"total_tokens\": 25, "
    "\"remaining_balance\": 975}}";

static void test_answer_layout(void **state)
{
    (void)state;
    json_t *a = answer_json(SAFE_ANSWER);
    char *s = answer_text(a, ANSWER_PROPOSAL | ANSWER_USAGE, 30, 0);
    assert_string_equal(s, "aws s3api create-bucket --bucket my-bucket --region eu-west-3 "
                           "--create-bucket-configuration LocationConstraint=eu-west-3\n"
                           "\n"
                           "Creates `my-bucket`.\n"
                           "\n"
                           "Best practice: block public\n"
                           "access.\n"
                           "\n"
                           "tokens: 25 used (5 prompt + 20\n"
                           "completion), 975 left (offline\n"
                           "answer)\n");
    free(s);
    assert_int_equal(style_of_line(a, ANSWER_PROPOSAL, "aws"), MD_BOLD | MD_CYAN);
    assert_int_equal(style_of_line(a, ANSWER_USAGE, "tokens"), MD_DIM);
    /* indented, as the full-screen chat shows it; the action cut at the width there */
    struct md_doc d;
    struct answer_look lk = {40, 2, 0, MD_WRAP_HARD};
    md_doc_init(&d);
    assist_answer_doc(&d, a, ANSWER_PROPOSAL, &lk);
    check_lines(&d, 40);
    assert_memory_equal(d.lines[0].text, "  aws s3api", 11);
    assert_int_equal(d.lines[0].width, 40);
    md_doc_free(&d);
    /* no execution part for a dry run */
    s = answer_text(a, ANSWER_EXECUTION, 0, 0);
    assert_string_equal(s, "");
    free(s);
    json_decref(a);
}

static void test_answer_risks_and_note(void **state)
{
    (void)state;
    static const struct {
        const char *risk;
        unsigned style;
    } risks[] = {{"warning", MD_BOLD | MD_YELLOW}, {"dangerous", MD_BOLD | MD_RED},
                 {"forbidden", MD_BOLD | MD_RED}};
    for (size_t i = 0; i < sizeof(risks) / sizeof(risks[0]); i++) {
        json_t *a = answer_json(SAFE_ANSWER);
        json_object_set_new(a, "risk", json_string(risks[i].risk));
        json_object_set_new(a, "risk_reason", json_string("`rm -rf` deletes\x1b[2J everything"));
        json_object_set_new(a, "note", json_string("the LLM provider failed; answered offline"));
        char *s = answer_text(a, ANSWER_PROPOSAL, 0, 0);
        char want[256];
        snprintf(want, sizeof(want), "\n%s: `rm -rf` deletes everything\n"
                                     "note: the LLM provider failed; answered offline\n",
                 risks[i].risk);
        assert_non_null(strstr(s, want));
        free(s);
        assert_int_equal(style_of_line(a, ANSWER_PROPOSAL, risks[i].risk), risks[i].style);
        assert_int_equal(style_of_line(a, ANSWER_PROPOSAL, "note:"), MD_DIM);
        char why[256];
        assert_null(assist_executable(a, why, sizeof(why)));
        assert_non_null(strstr(why, risks[i].risk));
        assert_non_null(strstr(why, "only safe actions are run"));
        json_decref(a);
    }
    /* nothing matched: no action, no risk line, the explanation says it */
    json_t *a = answer_json("{\"action\": \"\", \"explanation\": \"Nothing fits.\", \"risk\": "
                            "\"dangerous\", \"matched\": false, \"command_id\": null}");
    char *s = answer_text(a, ANSWER_PROPOSAL | ANSWER_USAGE, 0, 0);
    assert_string_equal(s, "Nothing fits.\n");
    free(s);
    char why[256];
    assert_null(assist_executable(a, why, sizeof(why)));
    assert_string_equal(why, "there is no action to run");
    json_decref(a);
}

static void test_answer_execution(void **state)
{
    (void)state;
    json_t *a = answer_json(SAFE_ANSWER);
    json_object_set_new(a, "execution_status", json_string("executed"));
    json_object_set_new(a, "output", json_string("Linux box 6.1.0\tx86_64\n\x1b]0;t\x07"));
    json_object_set_new(a, "exit_code", json_integer(0));
    char *s = answer_text(a, ANSWER_EXECUTION, 0, 0);
    assert_string_equal(s, "Linux box 6.1.0 x86_64\nexit code 0\n"); /* the title escape went */
    free(s);
    assert_int_equal(style_of_line(a, ANSWER_EXECUTION, "exit code"), MD_GREEN);

    json_object_set_new(a, "execution_status", json_string("failed"));
    json_object_set_new(a, "output", json_string("cat: /x: No such file or directory\n"));
    json_object_set_new(a, "exit_code", json_integer(1));
    s = answer_text(a, ANSWER_EXECUTION, 0, 0);
    assert_string_equal(s, "cat: /x: No such file or directory\nexit code 1\n");
    free(s);
    assert_int_equal(style_of_line(a, ANSWER_EXECUTION, "exit code"), MD_BOLD | MD_RED);

    json_object_set_new(a, "execution_status", json_string("timeout"));
    json_object_set_new(a, "output", json_string(""));
    json_object_set_new(a, "exit_code", json_null());
    s = answer_text(a, ANSWER_EXECUTION, 0, 0);
    assert_string_equal(s, "timed out after 30 s\n");
    free(s);

    json_object_set_new(a, "execution_status", json_string("rejected"));
    json_object_set_new(a, "risk_reason", json_string("`rb --force` deletes the bucket"));
    s = answer_text(a, ANSWER_EXECUTION, 0, 0);
    assert_string_equal(s, "rejected: `rb --force` deletes the bucket\n");
    free(s);
    json_decref(a);
}

static void test_answer_with_missing_or_wrong_fields(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{}", "[]", "{\"action\": 5, \"explanation\": [], \"risk\": {}, \"token_usage\": 3}",
        "{\"action\": \"ls\", \"execution_status\": 7, \"exit_code\": \"x\"}",
        "{\"token_usage\": {\"total_tokens\": \"many\"}, \"matched\": \"yes\"}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        json_t *a = answer_json(bodies[i]);
        char *s = answer_text(a, ANSWER_PROPOSAL | ANSWER_EXECUTION | ANSWER_USAGE, 20, 2);
        free(s);
        char why[128];
        assert_null(assist_executable(a, why, sizeof(why)));
        json_decref(a);
    }
    char *s = answer_text(NULL, ANSWER_PROPOSAL, 20, 0);
    assert_string_equal(s, "");
    free(s);
    /* a safe answer without its command_id cannot be run */
    json_t *a = answer_json(SAFE_ANSWER);
    json_object_del(a, "command_id");
    char why[128];
    assert_null(assist_executable(a, why, sizeof(why)));
    json_decref(a);
    a = answer_json(SAFE_ANSWER);
    assert_string_equal(assist_executable(a, why, sizeof(why)), "c_1");
    long long bal = 0;
    assert_int_equal(assist_balance_of(a, &bal), 0);
    assert_int_equal(bal, 975);
    json_decref(a);
    a = answer_json("{\"plan\": \"free\", \"balance\": 940}");
    assert_int_equal(assist_balance_of(a, &bal), 0);
    assert_int_equal(bal, 940);
    json_decref(a);
    a = answer_json("{\"balance\": \"x\"}");
    assert_int_equal(assist_balance_of(a, &bal), -ENOENT);
    json_decref(a);
}

static void test_requests_and_context(void **state)
{
    (void)state;
    struct chat_context c = {0};
    for (int i = 0; i < 13; i++) {
        char r[32];
        snprintf(r, sizeof(r), "request %d", i);
        chat_context_add(&c, r);
    }
    assert_int_equal(c.n, ASSIST_CONTEXT_MAX);
    assert_string_equal(c.items[0], "request 3"); /* the oldest went */
    assert_string_equal(c.items[9], "request 12");
    json_t *b = assist_body_ask("and with 10 replicas?", &c, "fr");
    assert_string_equal(json_string_value(json_object_get(b, "user_input")),
                        "and with 10 replicas?");
    assert_string_equal(json_string_value(json_object_get(b, "execution_mode")), "dry_run");
    assert_string_equal(json_string_value(json_object_get(b, "lang")), "fr");
    json_t *ctx = json_object_get(b, "context");
    assert_int_equal(json_array_size(ctx), 10);
    assert_string_equal(json_string_value(json_array_get(ctx, 9)), "request 12");
    json_decref(b);
    chat_context_clear(&c);
    assert_int_equal(c.n, 0);
    b = assist_body_ask("x", &c, NULL);
    assert_null(json_object_get(b, "context"));
    assert_null(json_object_get(b, "lang"));
    json_decref(b);
    /* a run names the stored answer only */
    b = assist_body_execute("c_42");
    assert_int_equal(json_object_size(b), 2);
    assert_string_equal(json_string_value(json_object_get(b, "command_id")), "c_42");
    assert_string_equal(json_string_value(json_object_get(b, "execution_mode")), "supervised");
    json_decref(b);

    char why[256];
    assert_int_equal(assist_input_check("Créer un bucket", why, sizeof(why)), 0);
    assert_int_equal(assist_input_check(" \t\n", why, sizeof(why)), -EINVAL);
    assert_int_equal(assist_input_check("\xff\xfe", why, sizeof(why)), -EINVAL);
    char *big = malloc(2 * ASSIST_INPUT_CHARS + 3);
    assert_non_null(big);
    for (int i = 0; i < ASSIST_INPUT_CHARS; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2); /* é: 4000 characters, 8000 bytes */
    big[2 * ASSIST_INPUT_CHARS] = '\0';
    assert_int_equal(assist_input_check(big, why, sizeof(why)), 0);
    memcpy(big + 2 * ASSIST_INPUT_CHARS, "x", 2);
    assert_int_equal(assist_input_check(big, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "4001"));
    free(big);
}

/* The sentence for an answer of status with body (NULL: none). */
static void error_for(long status, const char *body, const char *plan, int from_env, char *out,
                      size_t cap)
{
    struct cli_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    str_copy(ctx.api_url, sizeof(ctx.api_url), "http://localhost:5000");
    str_copy(ctx.token, sizeof(ctx.token), "tok");
    ctx.token_from_env = from_env;
    struct api_resp r;
    memset(&r, 0, sizeof(r));
    r.status = status;
    if (status == 0)
        str_copy(r.err, sizeof(r.err), "cannot reach the Cloudya daemon at http://localhost:5000");
    if (body != NULL)
        r.body = answer_json(body);
    assist_error_text(&ctx, &r, plan, out, cap);
    json_decref(r.body);
}

static void test_failure_sentences(void **state)
{
    (void)state;
    char s[1024];
    error_for(402, "{\"error\": \"the balance of plan free is spent\", \"code\": "
                   "\"insufficient_tokens\"}", NULL, 0, s, sizeof(s));
    assert_string_equal(s, "you have no tokens left: the balance of plan free is spent");
    error_for(403, "{\"error\": \"needs Pro\", \"code\": \"plan_required\"}", "free", 0, s,
              sizeof(s));
    assert_string_equal(s, "running commands needs the Pro plan or above (your plan: free): "
                           "needs Pro");
    error_for(403, "{\"error\": \"needs Pro\", \"code\": \"plan_required\"}", NULL, 0, s,
              sizeof(s));
    assert_string_equal(s, "running commands needs the Pro plan or above: needs Pro");
    error_for(401, "{\"error\": \"expired\", \"code\": \"unauthorized\"}", NULL, 0, s, sizeof(s));
    assert_non_null(strstr(s, "cloudya login"));
    error_for(401, NULL, NULL, 1, s, sizeof(s));
    assert_non_null(strstr(s, "CLOUDYA_API_TOKEN"));
    error_for(404, NULL, NULL, 0, s, sizeof(s));
    assert_non_null(strstr(s, "has no assistant (HTTP 404)"));
    error_for(500, "{\"error\": \"boom\", \"code\": \"internal\"}", NULL, 0, s, sizeof(s));
    assert_string_equal(s, "the daemon failed: boom (HTTP 500)");
    error_for(0, NULL, NULL, 0, s, sizeof(s));
    assert_string_equal(s, "cannot reach the Cloudya daemon at http://localhost:5000");
    error_for(400, "{\"error\": \"bad\\u001b[2J\\nthing\", \"code\": \"invalid_field\"}", NULL,
              0, s, sizeof(s));
    assert_string_equal(s, "bad thing"); /* cleaned: one line, no escapes */
    error_for(418, "{}", NULL, 0, s, sizeof(s));
    assert_non_null(strstr(s, "HTTP 418"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paragraph_wraps_at_words),
        cmocka_unit_test(test_lines_join_and_spaces_collapse),
        cmocka_unit_test(test_blank_lines_separate_blocks),
        cmocka_unit_test(test_indent),
        cmocka_unit_test(test_code_spans),
        cmocka_unit_test(test_bold),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_headings),
        cmocka_unit_test(test_fenced_blocks),
        cmocka_unit_test(test_utf8_wrapping),
        cmocka_unit_test(test_wrap_property_over_many_widths),
        cmocka_unit_test(test_control_characters_stripped),
        cmocka_unit_test(test_add_text_modes),
        cmocka_unit_test(test_blank_helper),
        cmocka_unit_test(test_print_colour),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_answer_layout),
        cmocka_unit_test(test_answer_risks_and_note),
        cmocka_unit_test(test_answer_execution),
        cmocka_unit_test(test_answer_with_missing_or_wrong_fields),
        cmocka_unit_test(test_requests_and_context),
        cmocka_unit_test(test_failure_sentences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
