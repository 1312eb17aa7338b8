/* libFuzzer target for the offline assistant's retrieval (src/assistant/textnorm.c, kb*.c,
 * retrieve.c) against the small fixture base tests/unit/assistant/kb_fixtures/good (loaded
 * once; its path is CLOUDYA_FUZZ_KB, else relative to the repository root, where
 * scripts/fuzz.sh runs the targets).
 *
 * The first input byte chooses the mode: bit 0 sends an earlier request as context (the
 * rest is cut in two at its first NUL byte, or in the middle), bits 1-2 the language asked
 * for (detect, "fr", "en", an unknown "de"). Besides crashes and sanitizer reports it checks
 * properties, aborting when one fails:
 *   - kb_answer returns 0 or -ENOENT; on 0 an entry and a non-empty action, which is the
 *     entry's command with each {param} replaced by the returned value; every value is
 *     valid for its type (kb_value_valid), holds no shell metacharacter, quote or white
 *     space, does not start with '-', and equals the default when not from the request;
 *   - on -ENOENT no entry, no parameter, an empty action;
 *   - the explanation is non-empty valid UTF-8, the language "fr" or "en", the confidence
 *     within 0..1; the same call twice gives the same answer (no hidden state);
 *   - kb_search gives at most max hits, scores not increasing, confidences within 0..1;
 *     kb_detect_lang says "fr" or "en".
 * Seeds: fuzz/corpus/retrieve/. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb.h"
#include "retrieve.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIXTURE "tests/unit/assistant/kb_fixtures/good"

static kb *base;
static struct kb_answer a1, a2;

static void load(void)
{
    char err[512];
    const char *dir = getenv("CLOUDYA_FUZZ_KB");
    if (dir == NULL || dir[0] == '\0')
        dir = FIXTURE;
    if (kb_load_dir(dir, &base, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_retrieve: %s\n", err);
        abort();
    }
}

static char *dup_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* The entry's command with the answer's values, rebuilt independently of retrieve.c. */
static void check_action(const struct kb_answer *a)
{
    const kb_entry *e = a->entry;
    const char *cmd = kb_entry_command(e);
    char want[KB_ACTION_MAX];
    size_t o = 0;
    if (a->nparams != kb_entry_param_count(e))
        abort();
    while (*cmd != '\0' && o + 1 < sizeof want) {
        size_t i, n = 0;
        if (*cmd == '{')
            for (i = 0; i < a->nparams; i++) {
                n = strlen(a->params[i].name);
                if (strncmp(cmd + 1, a->params[i].name, n) == 0 && cmd[n + 1] == '}')
                    break;
            }
        if (*cmd == '{' && i < a->nparams) {
            size_t v = strlen(a->params[i].value);
            if (o + v + 1 >= sizeof want)
                break;
            memcpy(want + o, a->params[i].value, v);
            o += v;
            cmd += n + 2;
        } else {
            want[o++] = *cmd++;
        }
    }
    want[o] = '\0';
    if (strcmp(want, a->action) != 0)
        abort();
    for (size_t i = 0; i < a->nparams; i++) {
        const char *v = a->params[i].value;
        if (strcmp(a->params[i].name, kb_entry_param_name(e, i)) != 0)
            abort();
        if (!kb_value_valid(kb_entry_param_type(e, i), v))
            abort();
        if (strpbrk(v, "`$;|&<>\"' \t\n\r()\\!*[]{}") != NULL || v[0] == '-')
            abort();
        if (!a->params[i].from_request && strcmp(v, kb_entry_param_default(e, i)) != 0)
            abort();
    }
}

static void check_answer(int rc, const struct kb_answer *a)
{
    if (rc != 0 && rc != -ENOENT)
        abort();
    if (strcmp(a->lang, "fr") != 0 && strcmp(a->lang, "en") != 0)
        abort();
    size_t n = strnlen(a->explanation, sizeof a->explanation);
    if (n == 0 || n == sizeof a->explanation || !str_is_utf8(a->explanation, n))
        abort();
    if (strnlen(a->action, sizeof a->action) == sizeof a->action)
        abort();
    if (rc == -ENOENT) {
        if (a->entry != NULL || a->nparams != 0 || a->action[0] != '\0')
            abort();
        return;
    }
    if (a->entry == NULL || a->action[0] == '\0' || a->confidence < 0 || a->confidence > 1)
        abort();
    check_action(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const langs[] = {NULL, "fr", "en", "de"};
    if (base == NULL)
        load();
    if (size == 0)
        return 0;
    int with_context = data[0] & 1;
    const char *lang = langs[(data[0] >> 1) & 3];
    const uint8_t *p = data + 1;
    size_t n = size - 1, cut = 0;
    if (with_context) {
        const uint8_t *z = memchr(p, 0, n);
        cut = z != NULL ? (size_t)(z - p) : n / 2;
    }
    char *ctx = with_context ? dup_bytes(p, cut) : NULL;
    size_t skip = with_context ? (cut < n ? cut + 1 : n) : 0;
    char *req = dup_bytes(p + skip, n - skip);
    const char *context[2] = {"list pods", ctx};

    int rc = kb_answer(base, req, context, with_context ? 2 : 0, lang, &a1);
    check_answer(rc, &a1);
    int rc2 = kb_answer(base, req, context, with_context ? 2 : 0, lang, &a2);
    if (rc2 != rc || strcmp(a1.action, a2.action) != 0 ||
        strcmp(a1.explanation, a2.explanation) != 0 || a1.entry != a2.entry)
        abort();

    kb_hit hits[4];
    int nh = kb_search(base, req, hits, 4);
    if (nh < 0 || nh > 4)
        abort();
    for (int i = 0; i < nh; i++) {
        if (hits[i].entry == NULL || hits[i].confidence < 0 || hits[i].confidence > 1)
            abort();
        if (i > 0 && hits[i].score > hits[i - 1].score)
            abort();
    }
    const char *l = kb_detect_lang(req);
    if (strcmp(l, "fr") != 0 && strcmp(l, "en") != 0)
        abort();
    free(ctx);
    free(req);
    return 0;
}
