/* kb_eval: measures the offline assistant's retrieval on a set of requests with known
 * answers (tests/unit/assistant/kb_eval.yaml) against a knowledge directory.
 *
 *   kb_eval [-v] [KNOWLEDGE_DIR [EVAL_YAML]]
 *
 * (defaults: knowledge/ and the file above, in the source tree given by SOURCE_ROOT).
 *
 * Prints every failure (the request, what was expected, what came back), then: top-1
 * accuracy over the cases whose expected entry exists (a case expecting "none" succeeds when
 * nothing fits), action accuracy (expected substrings in the filled command), the cases
 * skipped because their entry is missing from the data (a list for the knowledge authors),
 * self-retrieval (each phrasing of each entry finds its entry first / in the top 3), the
 * median and 95th percentile answer time and the load time. -v also prints the successes.
 * Exit status 0, 1 when the base or the eval file does not load. */
#define _POSIX_C_SOURCE 200809L
#include "kb.h"
#include "retrieve.h"
#include "yaml_load.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SOURCE_ROOT
#define SOURCE_ROOT "." /* meson passes the source directory */
#endif
#define CONTEXT_MAX 10 /* earlier requests of one case */
#define TIMES_MAX 4096 /* answers timed */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* 1 when got (an id or NULL for nothing) is among the expected (a string or a list). */
static int expected(json_t *want, const char *got)
{
    if (json_is_string(want)) {
        if (strcmp(json_string_value(want), "none") == 0)
            return got == NULL;
        return got != NULL && strcmp(json_string_value(want), got) == 0;
    }
    size_t i;
    json_t *w;
    json_array_foreach(want, i, w) if (expected(w, got)) return 1;
    return 0;
}

/* 1 when at least one expected entry exists in k (or the case expects none). */
static int evaluable(const kb *k, json_t *want)
{
    if (json_is_string(want))
        return strcmp(json_string_value(want), "none") == 0 ||
               kb_find(k, json_string_value(want)) != NULL;
    size_t i;
    json_t *w;
    json_array_foreach(want, i, w) if (evaluable(k, w)) return 1;
    return 0;
}

static void print_want(json_t *want)
{
    char *s = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
    printf("%s", s != NULL ? s : "?");
    free(s);
}

int main(int argc, char **argv)
{
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    const char *dir = argc > 1 + verbose ? argv[1 + verbose] : SOURCE_ROOT "/knowledge";
    const char *evalf = argc > 2 + verbose ? argv[2 + verbose]
                                           : SOURCE_ROOT "/tests/unit/assistant/kb_eval.yaml";
    char err[512];
    kb *k = NULL;
    double t0 = now_ms();
    int rc = kb_load_dir(dir, &k, err, sizeof err);
    double load_ms = now_ms() - t0;
    if (rc != 0) {
        fprintf(stderr, "kb_eval: %s\n", err);
        return 1;
    }
    json_t *doc = NULL;
    rc = yaml_load_file(evalf, NULL, &doc, err, sizeof err);
    if (rc != 0 || !json_is_array(json_object_get(doc, "cases"))) {
        fprintf(stderr, "kb_eval: %s: %s\n", evalf, rc != 0 ? err : "no list of cases");
        kb_free(k);
        json_decref(doc);
        return 1;
    }
    static double times[TIMES_MAX];
    size_t ntimes = 0, total = 0, good = 0, skipped = 0, act_total = 0, act_good = 0;
    size_t none_total = 0, none_good = 0, false_none = 0;
    struct kb_answer *a = malloc(sizeof(*a));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c) {
        const char *q = json_string_value(json_object_get(c, "q"));
        json_t *want = json_object_get(c, "id"), *ctxv = json_object_get(c, "context");
        const char *ctx[CONTEXT_MAX];
        size_t nctx = 0;
        if (q == NULL || want == NULL)
            continue;
        if (!evaluable(k, want)) {
            printf("SKIP  %-60s (missing entry: ", q);
            print_want(want);
            printf(")\n");
            skipped++;
            continue;
        }
        for (size_t j = 0; j < json_array_size(ctxv) && nctx < CONTEXT_MAX; j++)
            ctx[nctx++] = json_string_value(json_array_get(ctxv, j));
        double s = now_ms();
        rc = kb_answer(k, q, ctx, nctx, NULL, a);
        if (ntimes < TIMES_MAX)
            times[ntimes++] = now_ms() - s;
        const char *got = rc == 0 ? kb_entry_id(a->entry) : NULL;
        int ok = expected(want, got);
        int is_none = json_is_string(want) && strcmp(json_string_value(want), "none") == 0;
        total++;
        good += ok;
        none_total += is_none;
        none_good += is_none && ok;
        false_none += !is_none && got == NULL;
        json_t *acts = json_object_get(c, "action");
        int act_ok = 1;
        if (json_is_array(acts) && ok && got != NULL) {
            act_total++;
            for (size_t j = 0; j < json_array_size(acts); j++)
                if (strstr(a->action, json_string_value(json_array_get(acts, j))) == NULL)
                    act_ok = 0;
            act_good += act_ok;
        }
        if (!ok || !act_ok || verbose) {
            printf("%s  %-60s want ", ok && act_ok ? "ok  " : ok ? "ARGS" : "FAIL", q);
            print_want(want);
            printf(" got %s (%.2f)", got != NULL ? got : "none", a->confidence);
            if (got != NULL && (!act_ok || verbose))
                printf("\n      $ %s", a->action);
            printf("\n");
        }
    }
    /* self-retrieval: each phrasing finds its own entry */
    size_t phr = 0, top1 = 0, top3 = 0;
    for (size_t e = 0; e < kb_count(k); e++) {
        const kb_entry *en = kb_entry_at(k, e);
        for (int l = 0; l < 2; l++) {
            const char *const *p;
            size_t n = kb_entry_phrasings(en, l ? "fr" : "en", &p);
            for (size_t j = 0; j < n; j++) {
                kb_hit hits[3];
                int nh = kb_search(k, p[j], hits, 3);
                phr++;
                for (int h = 0; h < nh; h++)
                    if (hits[h].entry == en) {
                        top1 += h == 0;
                        top3++;
                    }
                if (verbose && (nh == 0 || hits[0].entry != en))
                    printf("self  %-60s %s -> %s\n", p[j], kb_entry_id(en),
                           nh > 0 ? kb_entry_id(hits[0].entry) : "nothing");
            }
        }
    }
    qsort(times, ntimes, sizeof(*times), cmp_double);
    printf("\nentries %zu, load %.1f ms\n", kb_count(k), load_ms);
    printf("eval: %zu/%zu top-1 correct (%.1f%%), %zu skipped (missing entries)\n", good, total,
           total ? 100.0 * (double)good / (double)total : 0.0, skipped);
    printf("      nothing-fits cases %zu/%zu right; %zu answerable requests got nothing\n",
           none_good, none_total, false_none);
    printf("      actions with the expected values %zu/%zu\n", act_good, act_total);
    printf("self-retrieval: %zu phrasings, top-1 %.1f%%, top-3 %.1f%%\n", phr,
           phr ? 100.0 * (double)top1 / (double)phr : 0.0,
           phr ? 100.0 * (double)top3 / (double)phr : 0.0);
    if (ntimes > 0)
        printf("answer time: p50 %.3f ms, p95 %.3f ms\n", times[ntimes / 2],
               times[ntimes * 95 / 100]);
    free(a);
    json_decref(doc);
    kb_free(k);
    return 0;
}
