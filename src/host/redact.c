/* Secrets masked out of text that leaves the machine (redact.h). */
#include "redact.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_RUN_MIN 32 /* a run of token characters this long may be a key */
#define AWS_ID_LEN 20    /* AKIA + 16 */

/* Parts of a key name that say its value is secret (matched without case). */
static const char *const secret_words[] = {
    "pass", "secret", "token", "apikey", "api_key", "api-key", "credential", "auth",
    "cookie", "session", "private", "_key", "-key", "accesskey", "access_key", "signature",
};

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_ident(char c)
{
    return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

static int is_token(char c)
{
    return is_alnum(c) || c == '+' || c == '=' || c == '_' || c == '-';
}

/* 1 when the len bytes at p hold one of secret_words. */
static int secret_name(const char *p, size_t len)
{
    for (size_t w = 0; w < sizeof(secret_words) / sizeof(secret_words[0]); w++) {
        size_t wl = strlen(secret_words[w]);
        for (size_t i = 0; i + wl <= len; i++)
            if (strncasecmp(p + i, secret_words[w], wl) == 0)
                return 1;
    }
    return 0;
}

/* Writes the mask for a value of len bytes: "***", or fewer stars for a shorter value, so
 * the text never grows. */
static size_t put_mask(char *out, size_t len)
{
    size_t n = len < 3 ? len : 3;
    memset(out, '*', n);
    return n;
}

/* The length of the value starting at p: up to the closing quote when p is at a quote
 * (*quoted set, the quote not counted), else up to a blank or a separator. */
static size_t value_len(const char *p, int *quoted)
{
    *quoted = 0;
    if (*p == '"' || *p == '\'') {
        const char *end = strchr(p + 1, *p);
        *quoted = 1;
        return end != NULL ? (size_t)(end - p - 1) : strcspn(p + 1, "\n");
    }
    return strcspn(p, " \t\r\n,;&)]}\"'");
}

/* Replaces each literal found in s by the mask, in place. */
static size_t mask_literals(char *s, const char *const *lit, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (lit[i] == NULL)
            continue;
        size_t ll = strlen(lit[i]);
        if (ll < REDACT_MIN_LITERAL)
            continue;
        char *hit;
        while ((hit = strstr(s, lit[i])) != NULL) {
            memcpy(hit, REDACT_MASK, 3);
            memmove(hit + 3, hit + ll, strlen(hit + ll) + 1);
            count++;
        }
    }
    return count;
}

/* At a "://": the length of a user-info part ending in '@' before the host, or 0. */
static size_t userinfo_len(const char *p)
{
    size_t n = strcspn(p, "@/ \t\r\n\"'?#<>");
    return p[n] == '@' && n > 0 ? n : 0;
}

/* At a secret-sounding name of len bytes at p: where its value starts (past the separator,
 * blanks and an optional closing quote of the name), or NULL when no '=' or ':' follows. */
static const char *value_after_name(const char *p, size_t len)
{
    const char *q = p + len;
    if (*q == '"' || *q == '\'')
        q++;
    while (*q == ' ' || *q == '\t')
        q++;
    if (*q != '=' && *q != ':')
        return NULL;
    q++;
    while (*q == ' ' || *q == '\t')
        q++;
    if (strncasecmp(q, "bearer ", 7) == 0) /* "Authorization: Bearer X": X is the secret */
        q += 7;
    else if (strncasecmp(q, "basic ", 6) == 0)
        q += 6;
    return *q != '\0' && *q != '\n' && *q != '\r' ? q : NULL;
}

static int aws_key_id(const char *p)
{
    if (strncmp(p, "AKIA", 4) != 0 && strncmp(p, "ASIA", 4) != 0)
        return 0;
    for (int i = 4; i < AWS_ID_LEN; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
            return 0;
    return !is_alnum(p[AWS_ID_LEN]);
}

size_t redact_text(char *s, const char *const *literals, size_t nliterals)
{
    size_t count = mask_literals(s, literals, nliterals), len = strlen(s), o = 0;
    char *out = malloc(len + 1);
    if (out == NULL) { /* nothing may leave unmasked: blank it all */
        memset(s, '*', len);
        return count + 1;
    }
    const char *p = s;
    while (*p != '\0') {
        int start = p == s || !is_ident(p[-1]);
        if (strncmp(p, "-----BEGIN ", 11) == 0 && strstr(p, "PRIVATE KEY-----") != NULL) {
            const char *body = strchr(p, '\n'), *end = strstr(p, "-----END ");
            if (body != NULL && end != NULL && end > body) {
                memcpy(out + o, p, (size_t)(body - p) + 1);
                o += (size_t)(body - p) + 1;
                size_t bl = (size_t)(end - body - 1); /* the key's lines, with their last \n */
                int nl = bl > 0 && end[-1] == '\n';
                o += put_mask(out + o, bl - (size_t)nl);
                if (nl)
                    out[o++] = '\n';
                p = end;
                count++;
                continue;
            }
        }
        if (strncmp(p, "://", 3) == 0) {
            size_t ul = userinfo_len(p + 3);
            memcpy(out + o, "://", 3);
            o += 3;
            p += 3;
            if (ul > 0) {
                o += put_mask(out + o, ul);
                p += ul;
                count++;
            }
            continue;
        }
        if (start && (strncasecmp(p, "bearer ", 7) == 0 || strncasecmp(p, "basic ", 6) == 0)) {
            size_t kw = p[1] == 'e' || p[1] == 'E' ? 7 : 6, vl = strcspn(p + kw, " \t\r\n\"',;");
            if (vl >= 8) {
                memcpy(out + o, p, kw);
                o += kw;
                o += put_mask(out + o, vl);
                p += kw + vl;
                count++;
                continue;
            }
        }
        if (start && aws_key_id(p)) {
            o += put_mask(out + o, AWS_ID_LEN);
            p += AWS_ID_LEN;
            count++;
            continue;
        }
        if (start && is_ident(*p)) {
            size_t il = 0;
            while (is_ident(p[il]))
                il++;
            const char *v = secret_name(p, il) ? value_after_name(p, il) : NULL;
            if (v != NULL) {
                int quoted;
                size_t vl = value_len(v, &quoted);
                const char *vstart = v + quoted;
                memcpy(out + o, p, (size_t)(vstart - p));
                o += (size_t)(vstart - p);
                o += put_mask(out + o, vl);
                p = vstart + vl;
                count += vl > 0;
                continue;
            }
            /* a long run of token characters with letters and digits: a key or a token */
            size_t tl = 0;
            int letters = 0, digits = 0;
            while (is_token(p[tl])) {
                letters |= (p[tl] >= 'a' && p[tl] <= 'z') || (p[tl] >= 'A' && p[tl] <= 'Z');
                digits |= p[tl] >= '0' && p[tl] <= '9';
                tl++;
            }
            if (tl >= TOKEN_RUN_MIN && letters && digits) {
                o += put_mask(out + o, tl);
                p += tl;
                count++;
                continue;
            }
            memcpy(out + o, p, il); /* an ordinary word, copied whole */
            o += il;
            p += il;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    memcpy(s, out, o + 1);
    free(out);
    return count;
}
