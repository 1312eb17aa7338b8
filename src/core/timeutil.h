/* Clocks and RFC 3339 timestamps. */
#ifndef CLOUDYA_TIMEUTIL_H
#define CLOUDYA_TIMEUTIL_H
#include <stddef.h>
#include <stdint.h>

#define TIME_RFC3339_LEN 21 /* "2026-11-20T10:00:00Z" + NUL */

int64_t time_now(void);     /* wall clock, unix seconds */
int64_t time_mono_ms(void); /* monotonic milliseconds, for intervals */
int64_t time_mono_us(void); /* monotonic microseconds, for latencies */

/* Formats t (unix seconds) as "YYYY-MM-DDTHH:MM:SSZ" into out (cap >= TIME_RFC3339_LEN). */
void time_rfc3339(int64_t t, char *out, size_t cap);

/* Parses an RFC 3339 timestamp (any offset, optional fraction, which is dropped) or plain
 * unix seconds into unix seconds. Returns 0 or -EINVAL. */
int time_parse_rfc3339(const char *s, int64_t *out);

#endif
