/* libFuzzer target for the monitor history's line format (src/host/mon_history_line.c) and
 * the report built from such lines (src/host/mon_report*.c).
 *
 * The input is one line for the fast reader, and also a whole day file for the report.
 * Besides crashes and sanitizer reports it checks properties, aborting when one fails:
 *   - the fast reader agrees with the reference (jansson with JSON_DECODE_INT_AS_REAL and
 *     the nesting limit, then mon_sample_from_json; lines with NUL bytes refused, see
 *     reference()): both refuse, or both accept and the samples format to the same line;
 *   - a sample formats to one line of at most MON_HISTORY_LINE_MAX bytes ending with its
 *     only '\n', which reads back and formats to the same line (the format is a fixed
 *     point);
 *   - the report over the input as a file counts every line as a sample, skipped, or out
 *     of its period; its statistics are ordered (min <= p95 <= max, min <= avg <= max); its
 *     text, JSON and HTML outputs succeed, and the HTML holds no "<script" whatever the
 *     names in the samples.
 * Seeds: fuzz/corpus/history/ (lines of real and hostile samples). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "mon_history.h"
#include "mon_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mon_sample fast, ref;
static char la[MON_HISTORY_LINE_MAX + 2], lb[MON_HISTORY_LINE_MAX + 2];

/* The reference reading: 0 with ref filled, or -1. A NUL byte is never JSON, but jansson
 * skips one that follows a number (its reader takes NUL for "buffer empty" when it steps
 * back over the byte after the number), so lines with NUL bytes are refused here first. */
static int reference(const char *text, size_t len)
{
    if (len == 0 || len > MON_HISTORY_LINE_MAX || memchr(text, '\0', len) != NULL ||
        json_nesting_depth(text, len, 4) > 4)
        return -1;
    json_error_t e;
    json_t *v = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &e);
    if (v == NULL)
        return -1;
    const json_t *ver = json_object_get(v, "v");
    int rc = json_is_number(ver) && json_number_value(ver) == MON_HISTORY_VERSION &&
                     mon_sample_from_json(v, &ref) == 0
                 ? 0
                 : -1;
    json_decref(v);
    return rc;
}

static size_t format_ok(const struct mon_sample *s, char *out)
{
    size_t n;
    if (mon_sample_format(s, out, MON_HISTORY_LINE_MAX + 2, &n) != 0) abort();
    if (n == 0 || n > MON_HISTORY_LINE_MAX || out[n - 1] != '\n') abort();
    if (memchr(out, '\n', n - 1) != NULL) abort();
    return n;
}

static void check_stat(const struct mon_stat *st)
{
    if (st->n == 0)
        return;
    if (!(st->min <= st->p95 && st->p95 <= st->max)) abort();
    if (!(st->min <= st->avg + 1e-6 * fabs(st->avg) + 1e-9)) abort();
    if (!(st->avg <= st->max + 1e-6 * fabs(st->max) + 1e-9)) abort();
}

static void report(const uint8_t *data, size_t size)
{
    int fd = memfd_create("day", 0);
    if (fd < 0) abort();
    if (size > 0 && write(fd, data, size) != (ssize_t)size) abort();
    if (lseek(fd, 0, SEEK_SET) != 0) abort();
    struct mon_report *r = mon_report_new(0, 0);
    r->max_samples = 64; /* exercise dropping */
    if (mon_report_read_fd(r, fd) != 0) abort();
    close(fd);
    mon_report_finish(r);
    if (r->n + r->dropped + r->skipped + r->out_of_period != r->lines) abort();
    for (int s = 0; s < MON_SERIES_N; s++)
        check_stat(&r->stat[s]);
    for (size_t m = 0; m < r->nmounts; m++) {
        check_stat(&r->mounts[m].used);
        check_stat(&r->mounts[m].inodes);
    }
    for (size_t i = 1; i < r->n; i++)
        if (r->p[i - 1].t > r->p[i].t) abort();
    for (int html = 0; html <= 1; html++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f == NULL) abort();
        if ((html ? mon_report_html(r, f) : mon_report_text(r, f, 1)) != 0) abort();
        if (fclose(f) != 0) abort();
        /* names are escaped in HTML (the text summary shows them as they are) */
        if (html && memmem(buf, len, "<script", 7) != NULL) abort();
        free(buf);
    }
    json_t *j = mon_report_json(r);
    if (j == NULL) abort();
    char *dump = json_dumps(j, 0);
    if (dump == NULL) abort();
    free(dump);
    json_decref(j);
    mon_report_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int tz;
    if (!tz) {
        setenv("TZ", "Europe/Paris", 1); /* an offset and summer time, to exercise both */
        tzset();
        tz = 1;
    }
    const char *text = (const char *)data;
    int rf = mon_history_parse_line(text, size, &fast);
    int rr = reference(text, size);
    if ((rf == 0) != (rr == 0)) abort();
    if (rf != 0 && rf != -EINVAL) abort();
    if (rf == 0) {
        size_t na = format_ok(&fast, la);
        size_t nb = format_ok(&ref, lb);
        if (na != nb || memcmp(la, lb, na) != 0) abort();
        /* the line is a fixed point */
        if (mon_history_parse_line(la, na - 1, &fast) != 0) abort();
        nb = format_ok(&fast, lb);
        if (na != nb || memcmp(la, lb, na) != 0) abort();
    }
    report(data, size);
    return 0;
}
