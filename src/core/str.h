/* Small string helpers that replace the banned libc functions. */
#ifndef CLOUDYA_STR_H
#define CLOUDYA_STR_H
#include <stddef.h>
#include <stdint.h>

/* Copies src into dst (cap bytes, always NUL-terminated). Returns 0, or -ENOSPC when src
 * did not fit (dst then holds a truncated copy). */
int str_copy(char *dst, size_t cap, const char *src);

/* Parses a whole base-10 integer in [min, max]. Returns 0, or -EINVAL (not a number,
 * trailing garbage, empty) or -ERANGE (out of bounds). */
int str_to_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parses a whole decimal floating number in [min, max]; same returns as str_to_int64. */
int str_to_double(const char *s, double min, double max, double *out);

/* Lowercases ASCII letters in place. */
void str_lower(char *s);

/* 1 when s (len bytes) holds a control character (below 0x20, or 0x7f), else 0. */
int str_has_control(const char *s, size_t len);

/* 1 when s is valid UTF-8 (len bytes), else 0. */
int str_is_utf8(const char *s, size_t len);

/* Makes s (len bytes) valid UTF-8 in place: every byte that does not begin a valid
 * character (and every NUL) becomes '?'. For text from outside that must go into JSON. */
void str_utf8_repair(char *s, size_t len);

/* The number of code points in valid UTF-8 s (len bytes). */
size_t str_utf8_chars(const char *s, size_t len);

/* Fills out (2*n+1 bytes) with n random bytes in lowercase hex. */
void str_random_hex(char *out, size_t n);

/* Makes a server-generated identifier: prefix followed by 12 random hex characters. */
void str_new_id(char *out, size_t cap, const char *prefix);

/* snprintf into an optional error buffer: does nothing when dst is NULL or cap is 0, so
 * functions can take "char *err, size_t errlen" that callers may leave out. */
void str_fmt(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Finds cookie name in a Cookie header ("a=1; b=2"): returns a pointer to its value inside
 * header with *len bytes (not NUL-terminated), or NULL when header is NULL or holds no
 * such cookie (an empty value is not a cookie). The first of duplicates wins. */
const char *str_cookie_value(const char *header, const char *name, size_t *len);
#endif
