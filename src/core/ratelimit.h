/* Fixed-window counters keyed by strings (an email, an IP), in a bounded table: a flood of
 * distinct keys evicts the oldest windows instead of growing memory. Thread-safe. */
#ifndef CLOUDYA_RATELIMIT_H
#define CLOUDYA_RATELIMIT_H
#include <stddef.h>
#include <stdint.h>

typedef struct ratelimit ratelimit;

/* max events per window_s seconds per key, in a table of slots entries. */
ratelimit *ratelimit_new(size_t slots, int max, int window_s);
void ratelimit_free(ratelimit *rl);

/* 1 when key has used up its window at now_ms (then *retry_after_s, when not NULL, says
 * how long until it reopens), else 0. */
int ratelimit_blocked(ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s);

/* Counts one event for key. */
void ratelimit_hit(ratelimit *rl, const char *key, int64_t now_ms);

/* Forgets key (a successful login clears its failures). */
void ratelimit_reset(ratelimit *rl, const char *key);

#endif
