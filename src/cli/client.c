/* The CLI's HTTP client over libcurl: one request, one parsed answer, and the sentences a
 * user reads when something goes wrong. */
#define _GNU_SOURCE
#include "client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "output.h"
#include "str.h"
#include "timeutil.h"
#include "xalloc.h"

#define DEBUG_BODY_MAX 2048 /* bytes of a body shown by CLOUDYA_DEBUG */

static int curl_ready;

static void curl_once(void)
{
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = 1;
    }
}

int url_escape(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            if (o + 1 >= cap)
                return -ENOSPC;
            out[o++] = (char)*p;
        } else {
            if (o + 3 >= cap)
                return -ENOSPC;
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (o >= cap)
        return -ENOSPC;
    out[o] = '\0';
    return 0;
}

/* 1 when the JSON key ending just before p (a quote) is one whose value is a secret. */
static int secret_key(const char *text, const char *quote_end)
{
    static const char *const keys[] = {"password", "token", "access_token", "ticket",
                                       "api_key", "secret"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        size_t k = strlen(keys[i]);
        if ((size_t)(quote_end - text) >= k + 1 && strncmp(quote_end - k, keys[i], k) == 0 &&
            quote_end[-(long)k - 1] == '"')
            return 1;
    }
    return 0;
}

char *client_mask_secrets(const char *text, size_t len)
{
    buf b;
    buf_init(&b, len + 64);
    size_t i = 0;
    while (i < len) {
        /* Authorization: Bearer xxx (a header line) */
        if (len - i >= 14 && strncasecmp(text + i, "authorization:", 14) == 0) {
            buf_append(&b, text + i, 14);
            buf_puts(&b, " ***");
            i += 14;
            while (i < len && text[i] != '\n' && text[i] != '\r')
                i++;
            continue;
        }
        /* "key": "value" with a secret key */
        if (text[i] == '"' && i > 0 && secret_key(text, text + i)) {
            size_t j = i + 1;
            while (j < len && (text[j] == ' ' || text[j] == '\t'))
                j++;
            if (j < len && text[j] == ':') {
                j++;
                while (j < len && (text[j] == ' ' || text[j] == '\t'))
                    j++;
                if (j < len && text[j] == '"') {
                    size_t k = j + 1;
                    while (k < len && text[k] != '"') {
                        if (text[k] == '\\' && k + 1 < len)
                            k++;
                        k++;
                    }
                    buf_append(&b, text + i, j - i + 1);
                    buf_puts(&b, "***\"");
                    i = k < len ? k + 1 : len;
                    continue;
                }
            }
        }
        buf_append(&b, text + i, 1);
        i++;
    }
    return buf_steal(&b, NULL);
}

struct sink {
    buf body;
    struct api_resp *r;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n;
    if (buf_append(&s->body, p, len) != 0)
        return 0; /* too large: curl stops with CURLE_WRITE_ERROR */
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
        size_t i = 12, o = 0;
        while (i < len && p[i] == ' ')
            i++;
        while (i < len && isdigit((unsigned char)p[i]) && o + 1 < sizeof(s->r->retry_after))
            s->r->retry_after[o++] = p[i++];
        s->r->retry_after[o] = '\0';
    }
    return len;
}

/* The base URL without its trailing slashes, joined to path. */
static void join_url(const char *base, const char *path, char *out, size_t cap)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    snprintf(out, cap, "%.*s%s", (int)n, base, path);
}

/* Says why the daemon could not be reached, for a user. */
static void transport_error(struct cli_ctx *ctx, CURLcode rc, const char *detail, int timeout_s,
                            struct api_resp *r)
{
    const char *u = ctx->api_url;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        str_fmt(r->err, sizeof(r->err),
                "cannot reach the Cloudya daemon at %s (connection refused): is cloudyad running "
                "there? Start it with `make run`, or point to another with `cloudya configure "
                "--api-url URL`", u);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        str_fmt(r->err, sizeof(r->err),
                "cannot reach the Cloudya daemon at %s: its host name does not resolve; check "
                "the URL with `cloudya configure --api-url URL`", u);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        str_fmt(r->err, sizeof(r->err), "the Cloudya daemon at %s did not answer within %d s", u,
                timeout_s);
        break;
    case CURLE_WRITE_ERROR:
        str_fmt(r->err, sizeof(r->err), "the answer of the daemon at %s is larger than %u MiB", u,
                CLIENT_BODY_MAX >> 20);
        break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        str_fmt(r->err, sizeof(r->err),
                "the API URL \"%s\" is not an http:// or https:// URL: fix it with `cloudya "
                "configure --api-url URL`", u);
        break;
    default:
        str_fmt(r->err, sizeof(r->err), "cannot talk to the Cloudya daemon at %s: %s", u,
                detail[0] ? detail : curl_easy_strerror(rc));
    }
}

static void debug_body(const char *dir, const char *text, size_t len)
{
    if (len == 0)
        return;
    char *masked = client_mask_secrets(text, len);
    size_t mlen = strlen(masked);
    fprintf(stderr, "%s %.*s%s\n", dir, (int)(mlen > DEBUG_BODY_MAX ? DEBUG_BODY_MAX : mlen),
            masked, mlen > DEBUG_BODY_MAX ? " [...]" : "");
    free(masked);
}

/* Prepares a curl handle for method url with the common options. */
static CURL *prepare(struct cli_ctx *ctx, const char *method, const char *url, int auth,
                     const char *body, struct curl_slist **hdrs, char *errbuf)
{
    curl_once();
    CURL *h = curl_easy_init();
    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "cloudya/" CLOUDYA_VERSION);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    *hdrs = curl_slist_append(*hdrs, "Accept: application/json");
    if (auth && ctx->token[0] != '\0') {
        char line[4200];
        snprintf(line, sizeof(line), "Authorization: Bearer %s", ctx->token);
        *hdrs = curl_slist_append(*hdrs, line);
    }
    if (body != NULL) {
        *hdrs = curl_slist_append(*hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    if (ctx->debug) {
        fprintf(stderr, "> %s %s%s\n", method, url,
                auth && ctx->token[0] ? " (Authorization: Bearer ***)" : "");
        if (body != NULL)
            debug_body(">", body, strlen(body));
    }
    return h;
}

int api_call(struct cli_ctx *ctx, const char *method, const char *path, json_t *body, int auth,
             int timeout_s, struct api_resp *r)
{
    memset(r, 0, sizeof(*r));
    if (timeout_s <= 0)
        timeout_s = 60;
    char url[2400];
    join_url(ctx->api_url, path, url, sizeof(url));
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct sink s = {.r = r};
    buf_init(&s.body, CLIENT_BODY_MAX);
    int rc = -1;
    int64_t t0 = time_mono_ms();
    CURL *h = prepare(ctx, method, url, auth, text, &hdrs, errbuf);
    if (h == NULL) {
        str_fmt(r->err, sizeof(r->err), "cannot start an HTTP request");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout_s);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
    CURLcode cr = curl_easy_perform(h);
    if (cr != CURLE_OK) {
        transport_error(ctx, cr, errbuf, timeout_s, r);
        if (ctx->debug)
            fprintf(stderr, "< (no answer: %s)\n", errbuf[0] ? errbuf : curl_easy_strerror(cr));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    rc = 0;
out:
    r->raw = buf_steal(&s.body, &r->raw_len);
    if (rc == 0 && r->raw_len > 0) {
        json_error_t je;
        r->body = json_loadb(r->raw, r->raw_len, JSON_REJECT_DUPLICATES, &je);
    }
    if (rc == 0 && ctx->debug) {
        fprintf(stderr, "< HTTP %ld (%lld ms)\n", r->status, (long long)(time_mono_ms() - t0));
        debug_body("<", r->raw, r->raw_len);
    }
    if (h != NULL)
        curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    free(text);
    return rc;
}

void api_resp_free(struct api_resp *r)
{
    if (r == NULL)
        return;
    json_decref(r->body);
    free(r->raw);
    r->body = NULL;
    r->raw = NULL;
}

/* The server's sentence and code, or NULLs when the answer is not the API's error shape. */
static void error_of(const struct api_resp *r, const char **msg, const char **code)
{
    *msg = json_string_value(json_object_get(r->body, "error"));
    *code = json_string_value(json_object_get(r->body, "code"));
    if (*code == NULL)
        *code = "";
}

int api_fail(struct cli_ctx *ctx, const struct api_resp *r, const char *what)
{
    if (r->status == 0)
        return cli_fail(ctx, "%s", r->err[0] ? r->err : "no answer from the daemon");
    const char *msg, *code;
    error_of(r, &msg, &code);
    if (r->status == 401 || strcmp(code, "unauthenticated") == 0) {
        if (ctx->token[0] == '\0')
            return cli_fail(ctx, "not logged in: run `cloudya login` (or `cloudya register` "
                                 "for a new account)");
        if (ctx->token_from_env)
            return cli_fail(ctx, "the token in CLOUDYA_API_TOKEN was refused (%s): set a valid "
                                 "one, or unset it and run `cloudya login`",
                            msg ? msg : "unauthenticated");
        return cli_fail(ctx, "your session has expired or was ended (%s): run `cloudya login`",
                        msg ? msg : "unauthenticated");
    }
    if (r->status == 404 && what != NULL)
        return cli_fail(ctx, "no %s in your account: `cloudya ps` lists what you have", what);
    if (msg == NULL) {
        if (r->status == 404)
            return cli_fail(ctx, "the daemon at %s does not know this request (HTTP 404): is it "
                                 "a Cloudya daemon of the same version?", ctx->api_url);
        return cli_fail(ctx, "unexpected answer from the daemon at %s: HTTP %ld", ctx->api_url,
                        r->status);
    }
    if (strcmp(code, "rate_limited") == 0 && r->retry_after[0])
        return cli_fail(ctx, "%s: try again in %s s", msg, r->retry_after);
    if (strcmp(code, "engine_unavailable") == 0)
        return cli_fail(ctx, "the daemon cannot use the Docker Engine right now: %s", msg);
    if (strcmp(code, "database_unavailable") == 0)
        return cli_fail(ctx, "the daemon cannot reach its database right now: %s", msg);
    if (strcmp(code, "forbidden") == 0)
        return cli_fail(ctx, "not allowed: %s", msg);
    if (r->status >= 500)
        return cli_fail(ctx, "the daemon failed: %s (HTTP %ld)", msg, r->status);
    return cli_fail(ctx, "%s", msg);
}

struct stream {
    struct cli_ctx *ctx;
    CURL *h;
    long status;
    buf line;  /* the current partial line */
    buf error; /* the body of a non-200 answer */
    int (*on_line)(void *arg, const char *line, size_t len);
    void *arg;
    int stopped;
};

static size_t on_stream(char *p, size_t size, size_t n, void *arg)
{
    struct stream *s = arg;
    size_t len = size * n;
    if (s->status == 0)
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200) {
        buf_append(&s->error, p, len); /* bounded; the excess is dropped */
        return len;
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\n') {
            if (buf_append(&s->line, p + i, 1) != 0) { /* a very long line: hand it in parts */
                if (s->on_line(s->arg, s->line.data, s->line.len) != 0)
                    goto stop;
                buf_reset(&s->line);
                buf_append(&s->line, p + i, 1);
            }
            continue;
        }
        if (s->on_line(s->arg, s->line.data ? s->line.data : "", s->line.len) != 0)
            goto stop;
        buf_reset(&s->line);
    }
    return len;
stop:
    s->stopped = 1;
    return 0;
}

int api_stream_lines(struct cli_ctx *ctx, const char *path, const char *what,
                     int (*on_line)(void *arg, const char *line, size_t len), void *arg)
{
    char url[2400];
    join_url(ctx->api_url, path, url, sizeof(url));
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct stream s = {.ctx = ctx, .on_line = on_line, .arg = arg};
    buf_init(&s.line, 1u << 20);
    buf_init(&s.error, 64u << 10);
    int rc = 1;
    CURL *h = prepare(ctx, "GET", url, 1, NULL, &hdrs, errbuf);
    if (h == NULL) {
        rc = cli_fail(ctx, "cannot start an HTTP request");
        goto out;
    }
    s.h = h;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    CURLcode cr = curl_easy_perform(h);
    if (s.line.len > 0 && s.status == 200 && !s.stopped)
        on_line(arg, s.line.data, s.line.len);
    if (s.stopped) {
        rc = 0;
        goto out;
    }
    if (s.status == 0)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s.status);
    if (cr != CURLE_OK && s.status == 0) {
        struct api_resp r;
        memset(&r, 0, sizeof(r));
        transport_error(ctx, cr, errbuf, 0, &r);
        rc = cli_fail(ctx, "%s", r.err);
        goto out;
    }
    if (s.status != 200) {
        struct api_resp r;
        memset(&r, 0, sizeof(r));
        r.status = s.status;
        r.raw = s.error.data ? s.error.data : (char *)"";
        if (s.error.len > 0)
            r.body = json_loadb(s.error.data, s.error.len, 0, NULL);
        rc = api_fail(ctx, &r, what);
        json_decref(r.body);
        goto out;
    }
    if (cr != CURLE_OK) {
        rc = cli_fail(ctx, "the stream from %s broke: %s", ctx->api_url,
                      errbuf[0] ? errbuf : curl_easy_strerror(cr));
        goto out;
    }
    rc = 0;
out:
    if (ctx->debug)
        fprintf(stderr, "< HTTP %ld (stream ended)\n", s.status);
    if (h != NULL)
        curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    buf_free(&s.line);
    buf_free(&s.error);
    return rc;
}
