/* Unit tests for src/core/prom.c: exact text of families, samples and histograms for known
 * inputs; number formatting (integers, fractions, infinities, NaN); escaping of hostile
 * label values and HELP text (quotes, backslashes, newlines, valid and invalid UTF-8); name
 * checks; lines that do not fit or have bad names leave nothing behind; histogram bucket
 * cumulativity; counter and histogram sets (sorting, folding into "other" at capacity, for
 * NULL and overlong values, and for a real all-"other" tuple); 8 threads adding at once give
 * exact totals; and promtool accepts a full document (skipped when promtool is absent). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "prom.h"

#define DOC_MAX (1 << 20)

/* Exact comparison of doubles (cmocka's float assertion works in single precision). */
#define assert_dbl_equal(a, b) assert_true((double)(a) == (double)(b))

static void test_names(void **state)
{
    (void)state;
    assert_true(prom_name_valid("http_requests_total"));
    assert_true(prom_name_valid("_x"));
    assert_true(prom_name_valid(":a:b_9"));
    assert_true(prom_name_valid("A"));
    assert_false(prom_name_valid(""));
    assert_false(prom_name_valid(NULL));
    assert_false(prom_name_valid("9abc"));
    assert_false(prom_name_valid("a-b"));
    assert_false(prom_name_valid("a b"));
    assert_false(prom_name_valid("a{b}"));
    assert_false(prom_name_valid("caf\xc3\xa9"));

    assert_true(prom_label_name_valid("method"));
    assert_true(prom_label_name_valid("_a"));
    assert_true(prom_label_name_valid("a__b"));
    assert_false(prom_label_name_valid("__name__"));
    assert_false(prom_label_name_valid("__x"));
    assert_false(prom_label_name_valid("a:b"));
    assert_false(prom_label_name_valid("0a"));
    assert_false(prom_label_name_valid(""));
    assert_false(prom_label_name_valid(NULL));
}

static void test_family_and_samples(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, DOC_MAX);
    prom_family(&b, "cloudya_up", "gauge", "1 when \"up\", a\\b\nsecond line");
    prom_sample(&b, "cloudya_up", NULL, 1);
    prom_family(&b, "cloudya_requests_total", "counter", NULL);
    const char *l[] = {"method", "GET", "route", "/api/containers/{id}", NULL};
    prom_sample(&b, "cloudya_requests_total", l, 42);
    const char *empty[] = {NULL};
    prom_sample(&b, "x", empty, 0.5);
    assert_int_equal(b.failed, 0);
    assert_string_equal(b.data,
                        "# HELP cloudya_up 1 when \"up\", a\\\\b\\nsecond line\n"
                        "# TYPE cloudya_up gauge\n"
                        "cloudya_up 1\n"
                        "# TYPE cloudya_requests_total counter\n"
                        "cloudya_requests_total{method=\"GET\",route=\"/api/containers/{id}\"} 42\n"
                        "x 0.5\n");
    buf_free(&b);
}

static void check_value(double v, const char *want)
{
    buf b;
    buf_init(&b, 256);
    prom_sample(&b, "m", NULL, v);
    char line[128];
    snprintf(line, sizeof(line), "m %s\n", want);
    assert_string_equal(b.data, line);
    buf_free(&b);
}

static void test_values(void **state)
{
    (void)state;
    check_value(0, "0");
    check_value(-0.0, "0");
    check_value(7, "7");
    check_value(-12, "-12");
    check_value(1e15, "1000000000000000");
    check_value(123456789012345678.0, "123456789012345680");
    check_value(0.1, "0.1");
    check_value(0.005, "0.005");
    check_value(2.5, "2.5");
    check_value(-0.25, "-0.25");
    check_value(1.0 / 3.0, "0.3333333333333333");
    check_value(1e-7, "1e-07");
    check_value(1e300, "1e+300");
    check_value(-9223372036854775808.0, "-9223372036854775808");
    check_value(9223372036854775808.0, "9.223372036854776e+18");
    check_value(INFINITY, "+Inf");
    check_value(-INFINITY, "-Inf");
    check_value(NAN, "NaN");
    /* every formatted fraction reads back exactly */
    for (int i = 1; i < 2000; i++) {
        double v = (double)i / 7.0 + 1e-3 * i;
        buf b;
        buf_init(&b, 256);
        prom_sample(&b, "m", NULL, v);
        assert_dbl_equal(strtod(b.data + 2, NULL), v);
        buf_free(&b);
    }
}

static void test_escaping(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, DOC_MAX);
    const char *l[] = {"a",  "say \"hi\"",           "b", "back\\slash\\",
                       "c",  "two\nlines\n",         "d", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3",
                       "e",  "bad\xff\xc3(\xed\xa0\x80z\xe2\x82", NULL};
    prom_sample(&b, "m", l, 1);
    assert_int_equal(b.failed, 0);
    assert_string_equal(b.data, "m{a=\"say \\\"hi\\\"\",b=\"back\\\\slash\\\\\",c=\"two\\nlines\\n\","
                                "d=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3\","
                                /* 0xff, a lone lead byte, a surrogate (3 bytes), a cut sequence */
                                "e=\"bad\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                "z\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
    buf_free(&b);

    /* an overlong encoding of '"' cannot sneak a quote through */
    buf_init(&b, DOC_MAX);
    const char *l2[] = {"a", "\xc0\xa2", NULL};
    prom_sample(&b, "m", l2, 1);
    assert_string_equal(b.data, "m{a=\"\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
    buf_free(&b);
}

static void test_refused_lines(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, DOC_MAX);
    prom_sample(&b, "ok", NULL, 1);
    const char *bad_key[] = {"__name__", "x", NULL};
    const char *odd[] = {"a", NULL};
    const char *le[] = {"le", "1", NULL};
    const char *many[] = {"a", "1", "b", "1", "c", "1", "d", "1", "e", "1",
                          "f", "1", "g", "1", "h", "1", "i", "1", NULL};
    prom_sample(&b, "bad-name", NULL, 1);
    assert_int_equal(b.failed, 1);
    prom_sample(&b, "m", bad_key, 1);
    prom_sample(&b, "m", odd, 1);
    prom_sample(&b, "m", many, 1);
    prom_family(&b, "m", "countr", "help");
    prom_family(&b, "1m", "counter", "help");
    prom_family(&b, "m", NULL, "help");
    prom_histogram *h = prom_histogram_new(NULL, 0);
    prom_histogram_write(&b, "m", le, h);
    prom_histogram_write(&b, "m", NULL, NULL);
    prom_histogram_free(h);
    assert_string_equal(b.data, "ok 1\n");
    buf_free(&b);

    /* a line that does not fit is left out whole; earlier lines stay */
    buf_init(&b, 40);
    prom_sample(&b, "first", NULL, 1);
    const char *l[] = {"k", "a value long enough to pass the limit", NULL};
    prom_sample(&b, "second", l, 2);
    assert_int_equal(b.failed, 1);
    assert_string_equal(b.data, "first 1\n");
    prom_family(&b, "third", "counter", "a help text that is much too long to fit");
    assert_string_equal(b.data, "first 1\n");
    buf_free(&b);
}

static void test_histogram(void **state)
{
    (void)state;
    const double bounds[] = {0.005, 0.1, 1};
    prom_histogram *h = prom_histogram_new(bounds, 3);
    assert_non_null(h);
    prom_histogram_observe(h, 0.001);
    prom_histogram_observe(h, 0.005); /* on the bound: that bucket (le is <=) */
    prom_histogram_observe(h, 0.05);
    prom_histogram_observe(h, 0.5);
    prom_histogram_observe(h, 0.75);
    prom_histogram_observe(h, 3);
    prom_histogram_observe(h, NAN); /* ignored */
    buf b;
    buf_init(&b, DOC_MAX);
    const char *l[] = {"route", "/x", NULL};
    prom_histogram_write(&b, "lat_seconds", l, h);
    assert_int_equal(b.failed, 0);
    assert_string_equal(b.data, "lat_seconds_bucket{route=\"/x\",le=\"0.005\"} 2\n"
                                "lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 3\n"
                                "lat_seconds_bucket{route=\"/x\",le=\"1\"} 5\n"
                                "lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 6\n"
                                "lat_seconds_sum{route=\"/x\"} 4.306\n"
                                "lat_seconds_count{route=\"/x\"} 6\n");
    buf_reset(&b);
    prom_histogram *h0 = prom_histogram_new(NULL, 0);
    prom_histogram_observe(h0, -5);
    prom_histogram_write(&b, "z", NULL, h0);
    assert_string_equal(b.data, "z_bucket{le=\"+Inf\"} 1\nz_sum -5\nz_count 1\n");
    prom_histogram_free(h0);

    /* a histogram that does not fit is left out whole */
    buf small;
    buf_init(&small, 100);
    prom_histogram_write(&small, "lat_seconds", l, h);
    assert_int_equal(small.failed, 1);
    assert_true(small.data == NULL || small.len == 0);
    buf_free(&small);
    buf_free(&b);
    prom_histogram_free(h);

    const double unsorted[] = {1, 0.5}, dup[] = {1, 1}, inf[] = {1, INFINITY}, nan[] = {NAN};
    double many[PROM_BUCKETS_MAX + 1];
    for (size_t i = 0; i < PROM_BUCKETS_MAX + 1; i++)
        many[i] = (double)i;
    assert_null(prom_histogram_new(unsorted, 2));
    assert_null(prom_histogram_new(dup, 2));
    assert_null(prom_histogram_new(inf, 2));
    assert_null(prom_histogram_new(nan, 1));
    assert_null(prom_histogram_new(NULL, 2));
    assert_null(prom_histogram_new(many, PROM_BUCKETS_MAX + 1));
    h = prom_histogram_new(many, PROM_BUCKETS_MAX);
    assert_non_null(h);
    prom_histogram_free(h);
}

/* Parses "name_bucket{...le="x"} N" lines and checks the counts never decrease and the
 * last (+Inf) equals _count. */
static void check_cumulative(const char *doc, const char *count_prefix)
{
    double prev = -1, last = -1;
    const char *p = doc;
    while ((p = strstr(p, "_bucket{")) != NULL) {
        const char *sp = strchr(p, ' ');
        double v = strtod(sp + 1, NULL);
        assert_true(v >= prev);
        prev = last = v;
        p = sp;
    }
    const char *c = strstr(doc, count_prefix);
    assert_non_null(c);
    assert_dbl_equal(strtod(strchr(c, ' ') + 1, NULL), last);
}

static void test_histogram_cumulative_random(void **state)
{
    (void)state;
    const double bounds[] = {0.001, 0.01, 0.1, 0.5, 1, 2.5, 10};
    prom_histogram *h = prom_histogram_new(bounds, 7);
    srand(7);
    size_t want[8] = {0};
    for (int i = 0; i < 5000; i++) {
        double v = (double)rand() / RAND_MAX * 20 - 1;
        prom_histogram_observe(h, v);
        size_t k = 0;
        while (k < 7 && v > bounds[k])
            k++;
        want[k]++;
    }
    buf b;
    buf_init(&b, DOC_MAX);
    prom_histogram_write(&b, "h", NULL, h);
    check_cumulative(b.data, "h_count ");
    size_t cum = 0;
    const char *p = b.data;
    for (size_t k = 0; k < 8; k++) {
        cum += want[k];
        p = strstr(p, "_bucket{");
        assert_non_null(p);
        p = strchr(p, ' ');
        assert_int_equal((size_t)strtod(p + 1, NULL), cum);
    }
    buf_free(&b);
    prom_histogram_free(h);
}

static void test_counter_set(void **state)
{
    (void)state;
    const char *names[] = {"method", "code"};
    prom_counter_set *s = prom_counter_set_new(2, names, 3);
    assert_non_null(s);
    const char *a[] = {"POST", "201"}, *b2[] = {"GET", "200"}, *c[] = {"GET", "404"};
    prom_counter_set_add(s, a, 1);
    prom_counter_set_add(s, b2, 2);
    prom_counter_set_add(s, b2, 0.5);
    prom_counter_set_add(s, c, 1);
    prom_counter_set_add(s, c, -1);       /* ignored */
    prom_counter_set_add(s, c, NAN);      /* ignored */
    prom_counter_set_add(s, c, INFINITY); /* ignored */
    buf b;
    buf_init(&b, DOC_MAX);
    prom_counter_set_write(&b, "req_total", s);
    assert_string_equal(b.data, "req_total{method=\"GET\",code=\"200\"} 2.5\n"
                                "req_total{method=\"GET\",code=\"404\"} 1\n"
                                "req_total{method=\"POST\",code=\"201\"} 1\n");
    /* full: new tuples, NULL values and overlong values fold into "other" */
    const char *d[] = {"PUT", "200"}, *e[] = {"GET", NULL};
    char longv[PROM_LABEL_VALUE_MAX + 2];
    memset(longv, 'v', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    const char *f[] = {"GET", longv};
    prom_counter_set_add(s, d, 1);
    prom_counter_set_add(s, e, 1);
    prom_counter_set_add(s, f, 1);
    prom_counter_set_add(s, NULL, 1);
    const char *other[] = {"other", "other"};
    prom_counter_set_add(s, other, 10); /* the same series, not a duplicate */
    prom_counter_set_add(s, a, 1);      /* existing tuples still count */
    buf_reset(&b);
    prom_counter_set_write(&b, "req_total", s);
    assert_string_equal(b.data, "req_total{method=\"GET\",code=\"200\"} 2.5\n"
                                "req_total{method=\"GET\",code=\"404\"} 1\n"
                                "req_total{method=\"POST\",code=\"201\"} 2\n"
                                "req_total{method=\"other\",code=\"other\"} 14\n");
    prom_counter_set_free(s);

    /* a value exactly at the limit is kept */
    longv[PROM_LABEL_VALUE_MAX] = '\0';
    const char *one[] = {"k"};
    s = prom_counter_set_new(1, one, 10);
    const char *g[] = {longv};
    prom_counter_set_add(s, g, 1);
    buf_reset(&b);
    prom_counter_set_write(&b, "t_total", s);
    assert_non_null(strstr(b.data, longv));
    assert_null(strstr(b.data, "other"));
    prom_counter_set_free(s);

    /* hostile values are escaped in the output */
    s = prom_counter_set_new(1, one, 10);
    const char *h[] = {"\"}\n{x=\"1"};
    prom_counter_set_add(s, h, 1);
    buf_reset(&b);
    prom_counter_set_write(&b, "t_total", s);
    assert_string_equal(b.data, "t_total{k=\"\\\"}\\n{x=\\\"1\"} 1\n");
    prom_counter_set_free(s);
    buf_free(&b);

    const char *bad1[] = {"a", "a"}, *bad2[] = {"le"}, *bad3[] = {"__x"};
    assert_null(prom_counter_set_new(2, bad1, 10));
    assert_null(prom_counter_set_new(1, bad2, 10));
    assert_null(prom_counter_set_new(1, bad3, 10));
    assert_null(prom_counter_set_new(0, one, 10));
    assert_null(prom_counter_set_new(PROM_LABELS_MAX + 1, one, 10));
    assert_null(prom_counter_set_new(1, one, 0));
    assert_null(prom_counter_set_new(1, one, PROM_SERIES_MAX + 1));
    assert_null(prom_counter_set_new(1, NULL, 10));
}

static void test_histogram_set(void **state)
{
    (void)state;
    const char *names[] = {"route"};
    const double bounds[] = {0.1, 1};
    assert_null(prom_histogram_set_new(1, names, 4, (const double[]){2, 1}, 2));
    prom_histogram_set *s = prom_histogram_set_new(1, names, 1, bounds, 2);
    assert_non_null(s);
    const char *x[] = {"/x"}, *y[] = {"/y"};
    prom_histogram_set_observe(s, x, 0.05);
    prom_histogram_set_observe(s, x, 2);
    prom_histogram_set_observe(s, y, 0.5); /* capacity 1: folded */
    buf b;
    buf_init(&b, DOC_MAX);
    prom_histogram_set_write(&b, "d_seconds", s);
    assert_string_equal(b.data, "d_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"
                                "d_seconds_bucket{route=\"/x\",le=\"1\"} 1\n"
                                "d_seconds_bucket{route=\"/x\",le=\"+Inf\"} 2\n"
                                "d_seconds_sum{route=\"/x\"} 2.05\n"
                                "d_seconds_count{route=\"/x\"} 2\n"
                                "d_seconds_bucket{route=\"other\",le=\"0.1\"} 0\n"
                                "d_seconds_bucket{route=\"other\",le=\"1\"} 1\n"
                                "d_seconds_bucket{route=\"other\",le=\"+Inf\"} 1\n"
                                "d_seconds_sum{route=\"other\"} 0.5\n"
                                "d_seconds_count{route=\"other\"} 1\n");
    buf_free(&b);
    prom_histogram_set_free(s);
}

/* ---- concurrency -------------------------------------------------------------------- */

#define THREADS 8
#define ADDS 20000
#define KEYS 50 /* more than the capacity below: exercises concurrent inserts and folding */

struct worker {
    prom_counter_set *cs;
    prom_histogram_set *hs;
    prom_histogram *h;
    int id;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < ADDS; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", (i + w->id) % KEYS);
        const char *v[] = {k, i % 2 ? "odd" : "even"};
        prom_counter_set_add(w->cs, v, 1);
        prom_histogram_set_observe(w->hs, v, (double)(i % 4));
        prom_histogram_observe(w->h, 0.25);
    }
    return NULL;
}

/* Sums the values of every line starting with prefix. */
static double sum_lines(const char *doc, const char *prefix)
{
    double total = 0;
    size_t n = strlen(prefix);
    for (const char *p = doc; p != NULL && *p != '\0';) {
        if (strncmp(p, prefix, n) == 0)
            total += strtod(strrchr(p, ' ') == NULL ? p : strchr(p, '}') + 2, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return total;
}

static void test_threads_exact(void **state)
{
    (void)state;
    const char *names[] = {"key", "parity"};
    const double bounds[] = {0.5, 1.5, 2.5};
    struct worker w[THREADS];
    pthread_t t[THREADS];
    prom_counter_set *cs = prom_counter_set_new(2, names, 64);
    prom_histogram_set *hs = prom_histogram_set_new(2, names, 64, bounds, 3);
    prom_histogram *h = prom_histogram_new(bounds, 3);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){cs, hs, h, i};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    buf b;
    buf_init(&b, DOC_MAX);
    prom_counter_set_write(&b, "c_total", cs);
    assert_int_equal(b.failed, 0);
    assert_dbl_equal(sum_lines(b.data, "c_total{"), (double)THREADS * ADDS);
    /* no tuple appears twice, at most capacity + "other" series */
    size_t lines = 0;
    for (const char *p = b.data; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_true(lines <= 65);
    for (const char *p = b.data; *p != '\0'; p = strchr(p, '\n') + 1) {
        const char *sp = strrchr(p, '}');
        char key[128];
        snprintf(key, sizeof(key), "%.*s}", (int)(sp - p), p);
        const char *first = strstr(b.data, key);
        assert_ptr_equal(first, p);
        assert_null(strstr(p + 1, key));
    }
    buf_reset(&b);
    prom_histogram_set_write(&b, "d_seconds", hs);
    assert_dbl_equal(sum_lines(b.data, "d_seconds_count{"), (double)THREADS * ADDS);
    /* each thread observes 0,1,2,3 in turn: the sum is exact in doubles */
    assert_dbl_equal(sum_lines(b.data, "d_seconds_sum{"), (double)THREADS * ADDS * 1.5);
    buf_reset(&b);
    prom_histogram_write(&b, "h", NULL, h);
    assert_string_equal(b.data, "h_bucket{le=\"0.5\"} 160000\nh_bucket{le=\"1.5\"} 160000\n"
                                "h_bucket{le=\"2.5\"} 160000\nh_bucket{le=\"+Inf\"} 160000\n"
                                "h_sum 40000\nh_count 160000\n");
    buf_free(&b);
    prom_counter_set_free(cs);
    prom_histogram_set_free(hs);
    prom_histogram_free(h);
}

/* ---- promtool ----------------------------------------------------------------------- */

static const char *promtool_path(void)
{
    static const char *const paths[] = {"/usr/bin/promtool", "/usr/local/bin/promtool"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

static void test_promtool_accepts(void **state)
{
    (void)state;
    const char *tool = promtool_path();
    if (tool == NULL)
        skip();
    buf b;
    buf_init(&b, DOC_MAX);
    prom_family(&b, "cloudya_up", "gauge", "Whether the daemon is \"up\" \\ healthy.\nYes.");
    prom_sample(&b, "cloudya_up", NULL, 1);
    prom_family(&b, "cloudya_temperature_celsius", "gauge", "A gauge with odd values.");
    const char *t1[] = {"sensor", "caf\xc3\xa9 \xf0\x9f\x90\xb3", NULL};
    const char *t2[] = {"sensor", "a\"b\\c\nd\xff", NULL};
    const char *t3[] = {"sensor", "", NULL};
    prom_sample(&b, "cloudya_temperature_celsius", t1, -0.5);
    prom_sample(&b, "cloudya_temperature_celsius", t2, INFINITY);
    prom_sample(&b, "cloudya_temperature_celsius", t3, NAN);
    prom_family(&b, "cloudya_http_requests_total", "counter", "HTTP requests by route.");
    const char *names[] = {"method", "route", "code"};
    prom_counter_set *cs = prom_counter_set_new(3, names, 2);
    const char *r1[] = {"GET", "/api/health", "200"}, *r2[] = {"POST", "/api/x\"\n", "500"};
    const char *r3[] = {"DELETE", "/api/y", "204"};
    prom_counter_set_add(cs, r1, 3);
    prom_counter_set_add(cs, r2, 1);
    prom_counter_set_add(cs, r3, 1);
    prom_counter_set_write(&b, "cloudya_http_requests_total", cs);
    prom_family(&b, "cloudya_http_request_duration_seconds", "histogram",
                "Request latency by route.");
    const double bounds[] = {0.005, 0.025, 0.1, 0.5, 2.5};
    const char *rn[] = {"route"};
    prom_histogram_set *hs = prom_histogram_set_new(1, rn, 8, bounds, 5);
    const char *hr1[] = {"/api/health"}, *hr2[] = {"/api/containers"};
    for (int i = 0; i < 100; i++) {
        prom_histogram_set_observe(hs, hr1, i * 0.001);
        prom_histogram_set_observe(hs, hr2, i * 0.05);
    }
    prom_histogram_set_write(&b, "cloudya_http_request_duration_seconds", hs);
    prom_family(&b, "cloudya_engine_call_seconds", "histogram", "Engine call latency.");
    prom_histogram *h = prom_histogram_new(bounds, 5);
    prom_histogram_observe(h, 0.3);
    prom_histogram_write(&b, "cloudya_engine_call_seconds", NULL, h);
    assert_int_equal(b.failed, 0);

    char path[] = "/tmp/test_prom_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    char cmd[256], out[4096] = "";
    snprintf(cmd, sizeof(cmd), "%s check metrics < %s 2>&1", tool, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    unlink(path);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0 && n == 0))
        fail_msg("promtool refused the document (status %d): %s\n%s", st, out, b.data);
    buf_free(&b);
    prom_counter_set_free(cs);
    prom_histogram_set_free(hs);
    prom_histogram_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_family_and_samples),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_refused_lines),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_histogram_cumulative_random),
        cmocka_unit_test(test_counter_set),
        cmocka_unit_test(test_histogram_set),
        cmocka_unit_test(test_threads_exact),
        cmocka_unit_test(test_promtool_accepts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
