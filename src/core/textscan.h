/* Small helpers for reading the kernel's text files (/proc, /sys/fs/cgroup): reading a
 * small file whole into a caller's buffer with open/read/close, and walking NUL-terminated
 * text with pointers. Numbers are parsed by hand as unsigned 64-bit values, since the
 * kernel prints u64 counters that do not fit an int64 and strtoull would accept signs,
 * leading blanks and locale digits we do not want.
 *
 * No allocation, no stdio, only libc: the fuzzers link this file on its own. "Blank" means a
 * space or a tab, never a newline, so that line ends stay visible to the parsers. */
#ifndef CLOUDYA_TEXTSCAN_H
#define CLOUDYA_TEXTSCAN_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 1 when c is a space or a tab, else 0. */
int text_is_blank(char c);

/* 1 when c is an ASCII digit '0'..'9', else 0 (whatever the locale). */
int text_is_digit(char c);

/* Returns p moved past any blanks. */
const char *text_skip_blanks(const char *p);

/* Returns the end of the line starting at p: its '\n' or the terminating NUL. */
const char *text_line_end(const char *p);

/* Returns where the line after the one ending at eol (a text_line_end result) starts: past
 * the '\n', or eol itself at the terminating NUL, so a loop over lines stops there. */
const char *text_next_line(const char *eol);

/* 1 when only blanks remain before the end of the line at p ('\n' or NUL), else 0. */
int text_rest_blank(const char *p);

/* Returns a + b, or UINT64_MAX when the sum does not fit: counters summed over devices or
 * interfaces stay at the top rather than wrap to a small, plausible-looking figure. */
uint64_t text_sat_add(uint64_t a, uint64_t b);

/* Parses the decimal digits at *pp (at least one; no sign, no blanks) and moves *pp past
 * them. Returns 0 with *out set; -EINVAL when *pp is not at a digit (*pp and *out left
 * alone); -ERANGE when the number is above UINT64_MAX (every digit is consumed still, so a
 * caller can report where the field ends; *out left alone). */
int text_parse_u64(const char **pp, uint64_t *out);

/* One read(2) of up to len bytes from fd into buf, retried when a signal interrupts it
 * before any byte arrives. Returns the byte count (0 at end of file) or a negative errno. */
ssize_t text_read_some(int fd, char *buf, size_t len);

/* Reads the file path into buf (cap bytes, at least 1), always NUL-terminated: up to cap - 1
 * bytes. With whole set the file must fit: one more byte after cap - 1 is -EFBIG, since a
 * cut-off value or line would parse as a different one. With whole unset the head of a
 * longer file is kept (for files such as /proc/stat whose first line is all we want).
 * Returns 0; -EINVAL when cap is 0; -EFBIG; or a negative errno of open/read. On failure
 * buf holds the empty string. */
int text_read_file(const char *path, char *buf, size_t cap, int whole);

/* The same for a file kept open: reads it from offset 0 with pread(2), so a proc or cgroup
 * file is generated afresh without the cost of opening it again. A read that returns less
 * than asked ends the file (what proc and cgroup files do; not for pipes or sockets). Same
 * returns (no -errno of open). */
int text_pread_file(int fd, char *buf, size_t cap, int whole);

#endif
