#define _GNU_SOURCE /* memmem, explicit_bzero */
#include "llm.h"

#include "buf.h"
#include "json.h"
#include "log.h"
#include "str.h"
#include "timeutil.h"
#include "xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URL_MAX 1024
#define HOST_MAX 256
#define AUTH_LINE_MAX 300           /* "Authorization: Bearer " + the key */
#define SYSTEM_MAX (LLM_CONTEXT_MAX + 4096)
#define BODY_DEPTH_MAX JSON_BODY_MAX_DEPTH
#define CONTENT_DEPTH_MAX 32        /* the answer object inside the message content */
#define OBJECT_TRIES 16             /* '{' positions tried in content with text around JSON */
#define EXCERPT_MAX 200             /* provider text quoted in an error sentence */
#define CONNECT_TIMEOUT_MS_MAX 10000L
#define TIMEOUT_S_MAX 600
#define TOKENS_MAX 1000000000000L   /* a usage count beyond this is not believed */
#define AZURE_SUFFIX ".openai.azure.com"

/* ---- configuration ------------------------------------------------------------------- */

static int env_is_set(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0';
}

/* Copies variable name (or def when unset or empty) into dst. Values are never logged: the
 * key is among them. Returns 0 or -EINVAL. */
static int env_copy(const char *name, char *dst, size_t cap, const char *def)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        v = def;
    if (str_copy(dst, cap, v) != 0) {
        log_error("%s is longer than %zu bytes", name, cap - 1);
        return -EINVAL;
    }
    if (str_has_control(dst, strlen(dst)) || !str_is_utf8(dst, strlen(dst))) {
        log_error("%s holds control characters or is not UTF-8", name);
        return -EINVAL;
    }
    return 0;
}

/* The host of an http(s) URL, lowercased, without port or brackets; "" when there is none. */
static void url_host(const char *url, char *host, size_t cap)
{
    host[0] = '\0';
    const char *p = strstr(url, "://");
    if (p == NULL)
        return;
    p += 3;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at != NULL) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t hl;
    if (n > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        p++;
        hl = close != NULL ? (size_t)(close - p) : n - 1;
    } else {
        const char *colon = memchr(p, ':', n);
        hl = colon != NULL ? (size_t)(colon - p) : n;
    }
    if (hl >= cap)
        hl = cap - 1;
    memcpy(host, p, hl);
    host[hl] = '\0';
    str_lower(host);
}

static int has_prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* An http(s) URL we can append "/chat/completions" to: a host, no spaces, no query or
 * fragment, no credentials. Strips trailing slashes. Returns 0 or -EINVAL (logged). */
static int check_base_url(char *url)
{
    char host[HOST_MAX];
    if (!has_prefix_ci(url, "http://") && !has_prefix_ci(url, "https://")) {
        log_error("OPENAI_BASE_URL must be an http:// or https:// URL");
        return -EINVAL;
    }
    if (strpbrk(url, " ?#") != NULL) {
        log_error("OPENAI_BASE_URL must hold no spaces, query (?) or fragment (#)");
        return -EINVAL;
    }
    const char *auth = strstr(url, "://") + 3;
    const char *at = strchr(auth, '@');
    if (at != NULL && at < auth + strcspn(auth, "/")) {
        log_error("OPENAI_BASE_URL must not hold credentials (user@host): use OPENAI_API_KEY");
        return -EINVAL;
    }
    url_host(url, host, sizeof(host));
    if (host[0] == '\0') {
        log_error("OPENAI_BASE_URL has no host");
        return -EINVAL;
    }
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    return 0;
}

static int is_azure_host(const char *host)
{
    size_t n = strlen(host), s = strlen(AZURE_SUFFIX);
    return n > s && strcmp(host + n - s, AZURE_SUFFIX) == 0;
}

int llm_config_from_env(llm_config *c)
{
    memset(c, 0, sizeof(*c));
    int configured = env_is_set("OPENAI_API_KEY") || env_is_set("OPENAI_BASE_URL");
    int rc = env_copy("OPENAI_BASE_URL", c->base_url, sizeof(c->base_url), LLM_DEFAULT_BASE_URL);
    if (rc == 0)
        rc = check_base_url(c->base_url);
    if (rc == 0)
        rc = env_copy("OPENAI_API_KEY", c->api_key, sizeof(c->api_key), "");
    if (rc == 0 && strchr(c->api_key, ' ') != NULL) {
        log_error("OPENAI_API_KEY holds spaces");
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = env_copy("CLOUDYA_LLM_MODEL", c->model, sizeof(c->model), LLM_DEFAULT_MODEL);
    if (rc == 0)
        rc = env_copy("OPENAI_API_VERSION", c->api_version, sizeof(c->api_version),
                      LLM_DEFAULT_API_VERSION);
    if (rc == 0 && strspn(c->api_version, "abcdefghijklmnopqrstuvwxyz"
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
                       strlen(c->api_version)) {
        log_error("OPENAI_API_VERSION must hold only letters, digits, '.' and '-'");
        rc = -EINVAL;
    }
    c->timeout_ms = LLM_DEFAULT_TIMEOUT_S * 1000L;
    const char *t = getenv("CLOUDYA_LLM_TIMEOUT");
    if (rc == 0 && t != NULL && t[0] != '\0') {
        int64_t s;
        if (str_to_int64(t, 1, TIMEOUT_S_MAX, &s) != 0) {
            log_error("CLOUDYA_LLM_TIMEOUT must be a whole number of seconds in 1..%d",
                      TIMEOUT_S_MAX);
            rc = -EINVAL;
        } else {
            c->timeout_ms = (long)s * 1000L;
        }
    }
    if (rc == 0) {
        char host[HOST_MAX];
        url_host(c->base_url, host, sizeof(host));
        c->azure = is_azure_host(host);
    }
    if (rc != 0)
        return rc;
    return configured ? 0 : -ENOENT;
}

/* ---- the request --------------------------------------------------------------------- */

/* The language named in the prompt, or NULL when lang is not a plausible language code. */
static const char *lang_name(const char *lang)
{
    if (lang == NULL || strcmp(lang, "en") == 0)
        return "English";
    if (strcmp(lang, "fr") == 0)
        return "French";
    size_t n = strlen(lang);
    if (n == 0 || n > 16 ||
        strspn(lang, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") != n)
        return NULL;
    return lang;
}

/* A text we may send: present, not empty, UTF-8, at most LLM_TURN_MAX bytes. */
static int text_ok(const char *s)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    return n > 0 && n <= LLM_TURN_MAX && str_is_utf8(s, n);
}

/* Appends the knowledge entries as a JSON array, one entry per line, only the fields the
 * model needs, and only as many entries as fit in LLM_CONTEXT_MAX. Returns 0 or -EINVAL
 * when context is not an array. */
static int put_context(buf *b, json_t *context)
{
    static const char *const fields[] = {"id", "command", "explanation", "practice", "risk"};
    if (context != NULL && !json_is_array(context))
        return -EINVAL;
    size_t i, kept = 0, used = 2;
    json_t *e;
    buf_puts(b, "[");
    json_array_foreach(context, i, e) {
        if (!json_is_object(e))
            continue;
        json_t *o = json_object();
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            json_t *v = json_object_get(e, fields[f]);
            if (v != NULL)
                json_object_set(o, fields[f], v);
        }
        char *text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (text == NULL)
            continue;
        size_t n = strlen(text);
        if (used + n + 2 > LLM_CONTEXT_MAX) {
            free(text);
            break;
        }
        buf_puts(b, kept > 0 ? ",\n" : "\n");
        buf_puts(b, text);
        used += n + 2;
        kept++;
        free(text);
    }
    buf_puts(b, kept > 0 ? "\n]" : "]");
    return 0;
}

static json_t *message(const char *role, const char *content)
{
    json_t *m = json_object();
    json_object_set_new(m, "role", json_string(role));
    json_object_set_new(m, "content", json_string(content));
    return m;
}

json_t *llm_build_request(const llm_config *c, const char *request, const char *lang,
                          json_t *context, const llm_turn *history, size_t nhistory)
{
    const char *language = lang_name(lang);
    if (c == NULL || language == NULL || !text_ok(request) || (nhistory > 0 && history == NULL))
        return NULL;
    for (size_t i = 0; i < nhistory; i++) {
        const char *r = history[i].role;
        if (r == NULL || (strcmp(r, "user") != 0 && strcmp(r, "assistant") != 0) ||
            !text_ok(history[i].content))
            return NULL;
    }
    json_t *req = NULL;
    buf sys;
    buf_init(&sys, SYSTEM_MAX);
    buf_printf(&sys,
        "You are Cloudya's DevOps assistant. Cloudya is a self-hosted container cloud; its "
        "users ask you for the one shell command that does what they want (Docker, "
        "Kubernetes, AWS, Google Cloud, Azure, Terraform, Ansible, Git, Linux) and for an "
        "explanation of it.\n"
        "Rules:\n"
        "- Answer ONLY with a JSON object, nothing before or after it: "
        "{\"action\": \"<one shell command>\", \"explanation\": \"<explain each part and the "
        "best practice>\"}.\n"
        "- The action is ONE command line. The explanation explains the program, the "
        "subcommand and every flag and argument, then the best practice or caveat.\n"
        "- Answer in %s.\n"
        "- Never use sudo.\n"
        "- Prefer read-only commands when they answer the request; never add destructive "
        "flags that were not asked for.\n"
        "- If unsure, use the knowledge entries below: they are verified commands for "
        "similar requests.\n"
        "- If no command fits the request, answer with \"action\": \"\" and say why in the "
        "explanation.\n"
        "\nKnowledge entries (JSON):\n```json\n",
        language);
    if (put_context(&sys, context) != 0)
        goto out;
    buf_puts(&sys, "\n```\n");
    if (sys.failed)
        goto out;

    json_t *msgs = json_array();
    json_array_append_new(msgs, message("system", sys.data));
    size_t first = nhistory > LLM_HISTORY_MAX ? nhistory - LLM_HISTORY_MAX : 0;
    for (size_t i = first; i < nhistory; i++)
        json_array_append_new(msgs, message(history[i].role, history[i].content));
    json_array_append_new(msgs, message("user", request));

    req = json_object();
    json_object_set_new(req, "model", json_string(c->model[0] ? c->model : LLM_DEFAULT_MODEL));
    json_object_set_new(req, "messages", msgs);
    json_object_set_new(req, "temperature", json_real(0.2));
    json_object_set_new(req, "max_tokens", json_integer(LLM_MAX_TOKENS));
    json_t *fmt = json_object();
    json_object_set_new(fmt, "type", json_string("json_object"));
    json_object_set_new(req, "response_format", fmt);
out:
    buf_free(&sys);
    return req;
}

/* ---- the answer ---------------------------------------------------------------------- */

void llm_answer_free(llm_answer *a)
{
    if (a == NULL)
        return;
    free(a->action);
    free(a->explanation);
    memset(a, 0, sizeof(*a));
}

static long count_words(const char *s, size_t n)
{
    long words = 0;
    int in = 0;
    for (size_t i = 0; i < n; i++) {
        int space = s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r';
        if (!space && !in)
            words++;
        in = !space;
    }
    return words;
}

/* Copies at most cap-1 bytes of provider text for an error sentence: control characters
 * become spaces and a character cut in two at the end is dropped. */
static void excerpt(char *dst, size_t cap, const char *s, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;
    if (k < n)
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
    for (size_t i = 0; i < k; i++) {
        unsigned char ch = (unsigned char)s[i];
        dst[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    dst[k] = '\0';
}

/* 1 when s holds a C1 control character (U+0080..U+009F, bytes C2 80..C2 9F). */
static int has_c1(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if ((unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9F)
            return 1;
    return 0;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space((*s)[0]))
        (*s)++, (*n)--;
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

/* The command: trimmed, one pair of `backticks` around it removed, and refused when it is
 * not one line of text. */
static int take_action(json_t *v, llm_answer *out, char *err, size_t errlen)
{
    if (v == NULL) {
        str_fmt(err, errlen, "the model's JSON answer has no \"action\"");
        return -EPROTO;
    }
    if (json_is_null(v)) {
        out->action = xstrdup("");
        return 0;
    }
    if (!json_is_string(v)) {
        str_fmt(err, errlen, "the model's \"action\" is not a string");
        return -EPROTO;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n > LLM_ACTION_MAX) {
        str_fmt(err, errlen, "the model's \"action\" is longer than %d bytes", LLM_ACTION_MAX);
        return -EPROTO;
    }
    trim(&s, &n);
    if (n >= 2 && s[0] == '`' && s[n - 1] == '`' && memchr(s + 1, '`', n - 2) == NULL) {
        s++;
        n -= 2;
        trim(&s, &n);
    }
    if (str_has_control(s, n) || has_c1(s, n)) {
        str_fmt(err, errlen, "the model's \"action\" is not one command line");
        return -EPROTO;
    }
    out->action = xstrndup(s, n);
    return 0;
}

/* The explanation: newlines and tabs kept, '\r' dropped, other control characters (C0, DEL,
 * C1) replaced by a space, so that it cannot drive a terminal. */
static int take_explanation(json_t *v, llm_answer *out, char *err, size_t errlen)
{
    if (!json_is_string(v)) {
        str_fmt(err, errlen, "the model's JSON answer has no \"explanation\" string");
        return -EPROTO;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n > LLM_EXPLANATION_MAX) {
        str_fmt(err, errlen, "the model's \"explanation\" is longer than %d bytes",
                LLM_EXPLANATION_MAX);
        return -EPROTO;
    }
    char *e = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\r')
            continue;
        if (ch == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9F) {
            e[k++] = ' ';
            i++;
            continue;
        }
        e[k++] = (ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f ? ' ' : (char)ch;
    }
    e[k] = '\0';
    out->explanation = e;
    return 0;
}

/* Parses s (n bytes) when it is exactly one JSON object (whitespace around allowed). */
static json_t *whole_object(const char *s, size_t n)
{
    trim(&s, &n);
    if (n == 0 || s[0] != '{')
        return NULL;
    json_t *v = json_loadb(s, n, 0, NULL);
    if (v != NULL && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* The answer object in the message content: the whole content, or the inside of the first
 * ``` fence, or the first object holding "action" that starts at one of the first
 * OBJECT_TRIES '{' (text around it is ignored). NULL when there is none. */
static json_t *content_object(const char *s, size_t n)
{
    if (json_nesting_depth(s, n, CONTENT_DEPTH_MAX) > CONTENT_DEPTH_MAX)
        return NULL;
    json_t *v = whole_object(s, n);
    if (v != NULL)
        return v;
    const char *end = s + n;
    const char *f = memmem(s, n, "```", 3);
    if (f != NULL) {
        const char *body = memchr(f + 3, '\n', (size_t)(end - (f + 3)));
        if (body != NULL) {
            body++;
            const char *close = memmem(body, (size_t)(end - body), "```", 3);
            if (close != NULL && (v = whole_object(body, (size_t)(close - body))) != NULL)
                return v;
        }
    }
    const char *p = s;
    for (int tries = 0; tries < OBJECT_TRIES && p < end; tries++) {
        p = memchr(p, '{', (size_t)(end - p));
        if (p == NULL)
            break;
        v = json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK, NULL);
        if (json_is_object(v) && json_object_get(v, "action") != NULL)
            return v;
        json_decref(v);
        p++;
    }
    return NULL;
}

static int usage_count(json_t *usage, const char *field, long *out)
{
    json_t *v = json_object_get(usage, field);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > TOKENS_MAX)
        return -1;
    *out = (long)json_integer_value(v);
    return 0;
}

/* The provider's error sentence from {"error": {"message": ...}} or {"error": "..."}. */
static const char *error_message(json_t *root)
{
    json_t *e = json_object_get(root, "error");
    if (json_is_string(e))
        return json_string_value(e);
    const char *m = json_string_value(json_object_get(e, "message"));
    return m;
}

/* llm_parse_response, also saying whether the body had a usage (*usage_known). */
static int parse_answer(const char *body, size_t len, llm_answer *out, int *usage_known,
                        char *err, size_t errlen)
{
    char quoted[EXCERPT_MAX];
    json_t *root = NULL, *obj = NULL;
    int rc = -EPROTO;
    memset(out, 0, sizeof(*out));
    *usage_known = 0;
    if (body == NULL || len == 0) {
        str_fmt(err, errlen, "the LLM provider's answer is empty");
        goto out;
    }
    if (len > LLM_BODY_MAX) {
        str_fmt(err, errlen, "the LLM provider's answer is larger than %d bytes", LLM_BODY_MAX);
        goto out;
    }
    if (json_nesting_depth(body, len, BODY_DEPTH_MAX) > BODY_DEPTH_MAX) {
        str_fmt(err, errlen, "the LLM provider's answer is nested deeper than %d levels",
                BODY_DEPTH_MAX);
        goto out;
    }
    json_error_t je;
    root = json_loadb(body, len, 0, &je);
    if (!json_is_object(root)) {
        str_fmt(err, errlen, "the LLM provider's answer is not a chat completion (%s)",
                root == NULL ? je.text : "not a JSON object");
        goto out;
    }
    const char *emsg = error_message(root);
    if (emsg != NULL) {
        excerpt(quoted, sizeof(quoted), emsg, strlen(emsg));
        str_fmt(err, errlen, "the LLM provider answered an error: %s", quoted);
        goto out;
    }
    json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    json_t *msg = json_object_get(choice, "message");
    json_t *content = json_object_get(msg, "content");
    if (!json_is_object(msg)) {
        str_fmt(err, errlen, "the LLM provider's answer is not a chat completion (no "
                             "choices[0].message)");
        goto out;
    }
    if (!json_is_string(content)) {
        const char *refusal = json_string_value(json_object_get(msg, "refusal"));
        if (refusal != NULL) {
            excerpt(quoted, sizeof(quoted), refusal, strlen(refusal));
            str_fmt(err, errlen, "the model refused: %s", quoted);
        } else {
            str_fmt(err, errlen, "the LLM provider's answer has no message content");
        }
        goto out;
    }
    const char *text = json_string_value(content);
    size_t tlen = json_string_length(content);
    obj = content_object(text, tlen);
    if (obj == NULL) {
        const char *fin = json_string_value(json_object_get(choice, "finish_reason"));
        str_fmt(err, errlen, "the model did not answer with the JSON object asked for%s",
                fin != NULL && strcmp(fin, "length") == 0
                    ? " (its answer was cut off at the token limit)" : "");
        goto out;
    }
    if ((rc = take_action(json_object_get(obj, "action"), out, err, errlen)) != 0 ||
        (rc = take_explanation(json_object_get(obj, "explanation"), out, err, errlen)) != 0)
        goto out;
    const char *model = json_string_value(json_object_get(root, "model"));
    if (model != NULL) {
        excerpt(out->model, sizeof(out->model), model, strlen(model));
        if (!str_is_utf8(out->model, strlen(out->model)))
            out->model[0] = '\0';
    }
    json_t *usage = json_object_get(root, "usage");
    if (usage_count(usage, "prompt_tokens", &out->prompt_tokens) == 0 &&
        usage_count(usage, "completion_tokens", &out->completion_tokens) == 0) {
        *usage_known = 1;
    } else {
        out->prompt_tokens = 0;
        out->completion_tokens = count_words(text, tlen);
    }
    rc = 0;
out:
    if (rc != 0)
        llm_answer_free(out);
    json_decref(obj);
    json_decref(root);
    return rc;
}

int llm_parse_response(const char *body, size_t len, llm_answer *out, char *err, size_t errlen)
{
    int usage_known;
    return parse_answer(body, len, out, &usage_known, err, errlen);
}

/* ---- the exchange -------------------------------------------------------------------- */

struct exchange {
    buf body;
    long retry_after; /* seconds from a Retry-After header, or -1 */
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct exchange *x = ud;
    size_t n = size * nmemb;
    return buf_append(&x->body, p, n) == 0 ? n : 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct exchange *x = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof(name) - 1 && n < 64 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        char v[64];
        size_t k = n - (sizeof(name) - 1);
        memcpy(v, p + sizeof(name) - 1, k);
        v[k] = '\0';
        while (k > 0 && is_space(v[k - 1]))
            v[--k] = '\0';
        const char *s = v;
        while (*s == ' ' || *s == '\t')
            s++;
        int64_t secs;
        if (str_to_int64(s, 0, 86400, &secs) == 0)
            x->retry_after = (long)secs;
    }
    return n;
}

/* Estimated prompt tokens: the words of every message sent. */
static long request_words(json_t *req)
{
    long words = 0;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(req, "messages"), i, m) {
        json_t *ct = json_object_get(m, "content");
        words += count_words(json_string_value(ct), json_string_length(ct));
    }
    return words;
}

/* Replaces every occurrence of key in err with "***" (the key must never reach a log or an
 * API answer, even when a provider echoes it). */
static void redact(char *err, size_t errlen, const char *key)
{
    size_t klen = strlen(key);
    if (err == NULL || errlen == 0 || klen == 0 || strstr(err, key) == NULL)
        return;
    char *copy = xstrdup(err);
    size_t k = 0;
    for (const char *p = copy; *p != '\0' && k + 1 < errlen;) {
        if (strncmp(p, key, klen) == 0) {
            for (const char *r = "***"; *r != '\0' && k + 1 < errlen; r++)
                err[k++] = *r;
            p += klen;
        } else {
            err[k++] = *p++;
        }
    }
    err[k] = '\0';
    free(copy);
}

static int transport_error(CURLcode cr, const char *host, long timeout_ms, const char *detail,
                           char *err, size_t errlen)
{
    switch (cr) {
    case CURLE_OPERATION_TIMEDOUT:
        if (timeout_ms % 1000 == 0)
            str_fmt(err, errlen, "the LLM provider at %s did not answer within %ld s", host,
                    timeout_ms / 1000);
        else
            str_fmt(err, errlen, "the LLM provider at %s did not answer within %ld ms", host,
                    timeout_ms);
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        str_fmt(err, errlen, "cannot reach the LLM provider at %s (%s)", host, detail);
        return -ECONNREFUSED;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        str_fmt(err, errlen, "the LLM provider at %s answered more than %d bytes", host,
                LLM_BODY_MAX);
        return -EPROTO;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
        str_fmt(err, errlen, "no trusted TLS connection to the LLM provider at %s (%s)", host,
                detail);
        return -EIO;
    default:
        str_fmt(err, errlen, "the exchange with the LLM provider at %s failed (%s)", host,
                detail);
        return -EIO;
    }
}

static int status_error(long status, const struct exchange *x, const char *host, char *err,
                        size_t errlen)
{
    char quoted[EXCERPT_MAX] = "";
    json_t *j = json_loadb(x->body.data ? x->body.data : "", x->body.len, 0, NULL);
    const char *m = json_is_object(j) ? error_message(j) : NULL;
    if (m != NULL)
        excerpt(quoted, sizeof(quoted), m, strlen(m));
    else if (x->body.len > 0 && str_is_utf8(x->body.data, x->body.len))
        excerpt(quoted, sizeof(quoted), x->body.data, x->body.len);
    json_decref(j);
    const char *sep = quoted[0] ? ": " : "";
    if (status == 401 || status == 403) {
        str_fmt(err, errlen, "the LLM provider at %s refused the API key (HTTP %ld)%s%s", host,
                status, sep, quoted);
        return -EACCES;
    }
    if (status == 429) {
        char after[48] = "";
        if (x->retry_after >= 0)
            snprintf(after, sizeof(after), ", retry after %ld s", x->retry_after);
        str_fmt(err, errlen, "the LLM provider at %s is rate-limiting or out of quota (HTTP "
                             "429%s)%s%s", host, after, sep, quoted);
        return -EAGAIN;
    }
    if (status >= 500) {
        str_fmt(err, errlen, "the LLM provider at %s failed (HTTP %ld)%s%s", host, status, sep,
                quoted);
        return -EIO;
    }
    str_fmt(err, errlen, "the LLM provider at %s answered HTTP %ld%s%s%s", host, status,
            status == 404 ? " (check OPENAI_BASE_URL and CLOUDYA_LLM_MODEL)" : "", sep, quoted);
    return -EIO;
}

int llm_ask(const llm_config *c, const char *request, const char *lang, json_t *context,
            const llm_turn *history, size_t nhistory, llm_answer *out, char *err,
            size_t errlen)
{
    char url[URL_MAX], host[HOST_MAX], auth[AUTH_LINE_MAX], curl_err[CURL_ERROR_SIZE] = "";
    struct exchange x = {.retry_after = -1};
    struct curl_slist *hdrs = NULL;
    CURL *h = NULL;
    char *text = NULL;
    int rc;
    memset(out, 0, sizeof(*out));
    buf_init(&x.body, LLM_BODY_MAX);
    json_t *req = llm_build_request(c, request, lang, context, history, nhistory);
    if (req == NULL) {
        str_fmt(err, errlen, "the question cannot be sent to the LLM provider: an empty, too "
                             "long or non-UTF-8 text, an unknown role or language");
        rc = -EINVAL;
        goto out;
    }
    url_host(c->base_url, host, sizeof(host));
    int n = c->azure ? snprintf(url, sizeof(url), "%s/chat/completions?api-version=%s",
                                c->base_url, c->api_version[0] ? c->api_version
                                                               : LLM_DEFAULT_API_VERSION)
                     : snprintf(url, sizeof(url), "%s/chat/completions", c->base_url);
    if (n < 0 || (size_t)n >= sizeof(url) || host[0] == '\0') {
        str_fmt(err, errlen, "the LLM provider's URL is unusable");
        rc = -EINVAL;
        goto out;
    }
    text = json_dumps(req, JSON_COMPACT | JSON_REAL_PRECISION(15));
    h = curl_easy_init();
    if (text == NULL || h == NULL) {
        str_fmt(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (c->api_key[0] != '\0') {
        snprintf(auth, sizeof(auth), c->azure ? "api-key: %s" : "Authorization: Bearer %s",
                 c->api_key);
        hdrs = curl_slist_append(hdrs, auth);
    }
    long timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : LLM_DEFAULT_TIMEOUT_S * 1000L;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < CONNECT_TIMEOUT_MS_MAX ? timeout_ms : CONNECT_TIMEOUT_MS_MAX);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "cloudyad-assistant");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)LLM_BODY_MAX);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    int64_t t0 = time_mono_ms();
    CURLcode cr = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    log_debug("llm host=%s status=%ld curl=%d ms=%lld bytes=%zu", host, status, (int)cr,
              (long long)(time_mono_ms() - t0), x.body.len);
    if (cr != CURLE_OK) {
        rc = transport_error(cr, host, timeout_ms,
                             curl_err[0] ? curl_err : curl_easy_strerror(cr), err, errlen);
        goto out;
    }
    if (status < 200 || status > 299) {
        rc = status_error(status, &x, host, err, errlen);
        goto out;
    }
    int usage_known;
    rc = parse_answer(x.body.data, x.body.len, out, &usage_known, err, errlen);
    if (rc == 0 && !usage_known)
        out->prompt_tokens = request_words(req);
    if (rc == 0 && out->model[0] == '\0')
        str_copy(out->model, sizeof(out->model), c->model[0] ? c->model : LLM_DEFAULT_MODEL);
out:
    if (rc != 0 && c != NULL)
        redact(err, errlen, c->api_key);
    explicit_bzero(auth, sizeof(auth));
    curl_slist_free_all(hdrs);
    if (h != NULL)
        curl_easy_cleanup(h);
    free(text);
    json_decref(req);
    buf_free(&x.body);
    return rc;
}
