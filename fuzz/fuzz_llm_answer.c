/* libFuzzer target for llm_parse_response (src/assistant/llm.c): what an LLM provider
 * answers is outside input.
 *
 * The first input byte chooses the mode: bit 0 set wraps the rest, when it is valid UTF-8,
 * as the message content of a well-formed chat.completion (so the content extraction is
 * reached quickly: fences, text around the object, limits); clear feeds the rest as the
 * whole body. Bit 1 adds a usage. Besides crashes and sanitizer reports it checks
 * properties, aborting when one fails:
 *   - the result is 0 or -EPROTO; the same input gives the same result and the same answer,
 *     whether or not an error buffer is given;
 *   - after -EPROTO the answer is zeroed and the error sentence is non-empty and fits;
 *   - after 0: the action is valid UTF-8, at most LLM_ACTION_MAX bytes, without control
 *     characters (C0, DEL, C1) or whitespace at either end; the explanation is valid UTF-8,
 *     at most LLM_EXPLANATION_MAX bytes, without control characters but '\n' and '\t';
 *     the token counts are not negative; the model is a NUL-terminated UTF-8 string;
 *   - an answer is a fixed point: wrapping {action, explanation} in a new body and parsing
 *     it again gives the same action and explanation. */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERR_CAP 256

static int is_c1(const char *s, size_t i, size_t n)
{
    return (unsigned char)s[i] == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
           (unsigned char)s[i + 1] <= 0x9F;
}

static int space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void check_answer(const llm_answer *a)
{
    if (a->action == NULL || a->explanation == NULL) abort();
    size_t n = strlen(a->action);
    if (n > LLM_ACTION_MAX || !str_is_utf8(a->action, n) || str_has_control(a->action, n))
        abort();
    if (n > 0 && (space(a->action[0]) || space(a->action[n - 1]))) abort();
    for (size_t i = 0; i < n; i++)
        if (is_c1(a->action, i, n)) abort();
    size_t e = strlen(a->explanation);
    if (e > LLM_EXPLANATION_MAX || !str_is_utf8(a->explanation, e)) abort();
    for (size_t i = 0; i < e; i++) {
        unsigned char c = (unsigned char)a->explanation[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || is_c1(a->explanation, i, e))
            abort();
    }
    if (a->prompt_tokens < 0 || a->completion_tokens < 0) abort();
    if (memchr(a->model, '\0', sizeof(a->model)) == NULL) abort();
    if (!str_is_utf8(a->model, strlen(a->model))) abort();
}

static void check_zeroed(const llm_answer *a)
{
    if (a->action != NULL || a->explanation != NULL || a->prompt_tokens != 0 ||
        a->completion_tokens != 0 || a->model[0] != '\0')
        abort();
}

/* A chat.completion body around content (a new string, or NULL when content is not
 * UTF-8). */
static char *wrap(const char *content, size_t len, int usage)
{
    json_t *c = json_stringn(content, len);
    if (c == NULL)
        return NULL;
    json_t *root = json_pack("{s:s, s:s, s:[{s:i, s:{s:s, s:o}, s:s}]}", "object",
                             "chat.completion", "model", "fuzz-model", "choices", "index", 0,
                             "message", "role", "assistant", "content", c, "finish_reason",
                             "stop");
    if (root == NULL) abort();
    if (usage)
        json_object_set_new(root, "usage", json_pack("{s:i, s:i}", "prompt_tokens", 7,
                                                     "completion_tokens", 3));
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (s == NULL) abort();
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int wrapped = data[0] & 1, usage = (data[0] >> 1) & 1;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    char *body = wrapped ? wrap(p, n, usage) : NULL;
    const char *in = body != NULL ? body : p;
    size_t inlen = body != NULL ? strlen(body) : n;

    llm_answer a, b;
    char err[ERR_CAP];
    memset(err, 'x', sizeof(err));
    int rc = llm_parse_response(in, inlen, &a, err, sizeof(err));
    if (rc != 0 && rc != -EPROTO) abort();
    int rc2 = llm_parse_response(in, inlen, &b, NULL, 0);
    if (rc2 != rc) abort();
    if (rc != 0) {
        if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0') abort();
        check_zeroed(&a);
        check_zeroed(&b);
        free(body);
        return 0;
    }
    check_answer(&a);
    if (strcmp(a.action, b.action) != 0 || strcmp(a.explanation, b.explanation) != 0 ||
        strcmp(a.model, b.model) != 0 || a.prompt_tokens != b.prompt_tokens ||
        a.completion_tokens != b.completion_tokens)
        abort();
    if (body != NULL && usage && (a.prompt_tokens != 7 || a.completion_tokens != 3)) abort();

    /* the answer is a fixed point */
    json_t *o = json_pack("{s:s, s:s}", "action", a.action, "explanation", a.explanation);
    if (o == NULL) abort();
    char *content = json_dumps(o, 0);
    json_decref(o);
    char *again = wrap(content, strlen(content), 1);
    if (again == NULL) abort();
    llm_answer c;
    if (llm_parse_response(again, strlen(again), &c, err, sizeof(err)) != 0) abort();
    if (strcmp(a.action, c.action) != 0 || strcmp(a.explanation, c.explanation) != 0) abort();
    llm_answer_free(&c);
    free(again);
    free(content);
    llm_answer_free(&a);
    llm_answer_free(&b);
    llm_answer_free(&b); /* twice is fine */
    free(body);
    return 0;
}
