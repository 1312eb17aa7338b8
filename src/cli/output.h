/* How `cloudya` prints: aligned tables sized to the terminal, colour only on a terminal
 * and never with NO_COLOR, human sizes and durations, and JSON for scripts. */
#ifndef CLOUDYA_CLI_OUTPUT_H
#define CLOUDYA_CLI_OUTPUT_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TABLE_MAX_COLS 12
#define TABLE_MAX_ROWS 100000

enum color { C_NONE, C_BOLD, C_DIM, C_RED, C_GREEN, C_YELLOW, C_BLUE, C_CYAN };

/* The SGR sequence that starts color c, or "" when on is 0 (the caller's colour switch). */
const char *color_on(int on, enum color c);
/* The SGR reset, or "" when on is 0. */
const char *color_off(int on);

struct table;
/* A table with ncols columns (1 to TABLE_MAX_COLS) under these headers (cleaned like
 * cells; NULL prints as empty). Returns NULL only for an ncols out of range; the other
 * table functions do nothing with a NULL table. Cells longer than 4096 bytes are cut. */
struct table *table_new(int ncols, const char *const *headers);
/* Right-aligns column col (numbers). */
void table_right(struct table *t, int col);
/* Adds a row of ncols cells, copied (NULL prints as "-"); control characters (C0, DEL and
 * C1) and invalid UTF-8 bytes become '?', so text from the server can never drive the
 * terminal. Rows beyond TABLE_MAX_ROWS are dropped. */
void table_add(struct table *t, const char *const *cells);
/* Colours a cell of the last row added (ignored when that row was dropped). */
void table_color(struct table *t, int col, enum color c);
/* Prints the table: headers (bold when color), columns separated by three spaces, each as
 * wide as its widest cell in display columns, no spaces at the ends of lines. When
 * width > 0 and the table is wider, the widest columns are cut with "…" until it fits
 * (never below 8 columns each). Colour never changes the layout. */
void table_print(const struct table *t, FILE *f, int color, int width);
void table_free(struct table *t);

/* Display width of UTF-8 text: code points, with East Asian wide and emoji counted as 2
 * and combining marks as 0 (close enough to wcwidth for names and statuses). A byte that
 * is not valid UTF-8 counts 1; NULL is 0. Independent of the locale. */
size_t text_width(const char *s);
/* The character that starts s (s[0] is not NUL): returns its length in bytes (1 to 4) and
 * puts its display width in *width (as text_width counts it) and its code point in *cp,
 * or 0xFFFFFFFF for a byte that starts no valid UTF-8 sequence (length 1, width 1). Never
 * reads past the terminating NUL. For code that wraps text one character at a time. */
size_t text_char(const char *s, uint32_t *cp, size_t *width);

/* 1536 -> "1.50 KiB"; 0 -> "0 B"; 1023 -> "1023 B"; 12.34 MiB -> "12.3 MiB". Binary units up
 * to EiB, three significant digits, rounded (1048575 -> "1.00 MiB"). */
void fmt_bytes(uint64_t bytes, char *out, size_t cap);
/* 45 -> "45s", 750 -> "12m 30s", 11100 -> "3h 5m", 190800 -> "2d 5h"; a zero second unit
 * is left out (3600 -> "1h"). Negative -> "0s". */
void fmt_duration(int64_t seconds, char *out, size_t cap);
/* How long ago an RFC 3339 time was, from now: "just now" (under a minute either way),
 * "1 minute ago", "3 hours ago", "2 days ago", "in 5 minutes" for a future time; the text
 * unchanged when it is not a timestamp; "-" for NULL. */
void fmt_ago(const char *rfc3339, int64_t now, char *out, size_t cap);
/* How long until an RFC 3339 time: "in 2h 5m" (fmt_duration), "expired" when past; "-" for
 * NULL; the text unchanged when it is not a timestamp. */
void fmt_until(const char *rfc3339, int64_t now, char *out, size_t cap);

/* Prints v as indented JSON (key order kept, UTF-8 as is) and a newline on standard output.
 * Returns 0, -EINVAL when v is NULL, or -EIO when the write failed. */
int out_json(const json_t *v);
/* The terminal's width in columns when f is a terminal, else 0 (no limit). COLUMNS wins
 * when it is an integer from 1 to 10000, even when f is not a terminal. */
int out_width(FILE *f);

#endif
