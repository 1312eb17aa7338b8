/* Internal to the monitor history: the rules a sample's fields follow, shared by the two
 * readers (mon_sample_from_json over jansson, and the fast line reader) so that both keep the
 * same sample from the same text. Not for use outside src/host/mon_history*.c. */
#ifndef CLOUDYA_HOST_MON_HISTORY_RULES_H
#define CLOUDYA_HOST_MON_HISTORY_RULES_H
#include "mon_history.h"

#define MON_LINE_DEPTH_MAX 4 /* object, array, object, and one to spare */

/* Sane ranges: a number outside is treated as unknown rather than believed. */
#define PCT_MAX 100.0
#define PROC_CPU_MAX 1e6 /* percent of one core: a million cores is plenty */
#define LOAD_MAX 1e6
#define BYTES_MAX 1e18
#define RATE_MAX 1e15
#define COUNT_MAX 1e9
#define ELAPSED_MAX 1e7
#define NCPU_MAX 1000000
#define PID_MAX 2147483647.0

/* Returns x when it is a finite number in [lo, hi] (-0 made 0), else NaN: unknown. */
double mon_rule_in_range(double x, double lo, double hi);

/* Copies a name into dst (MON_NAME_MAX bytes): cut at a character boundary below
 * MON_NAME_MAX, invalid UTF-8 and control characters made '?'. Only the first MON_NAME_MAX
 * bytes of src are looked at. */
void mon_rule_name_copy(char *dst, const char *src);

/* Add a list entry to s when the rules allow it: an entry needs a name; a file system
 * already listed (same size, free space and usage) is not listed again; the loopback
 * interface is left out; a process without a name is "?", its pid -1 when pid is NaN.
 * Entries past the list's maximum are dropped. */
void mon_rule_take_disk(struct mon_sample *s, const struct mon_disk *d);
void mon_rule_take_io(struct mon_sample *s, const struct mon_io *d);
void mon_rule_take_net(struct mon_sample *s, const struct mon_net *d);
void mon_rule_take_top(struct mon_sample *s, struct mon_top *p, double pid);

#endif
