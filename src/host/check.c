/* Check lists: the findings of every diagnosis (check.h). */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "str.h"

/* Copies src into dst (cap bytes) as valid UTF-8: text from logs and tools may be anything. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    str_copy(dst, cap, src != NULL ? src : "");
    str_utf8_repair(dst, strlen(dst));
}

struct check *check_add(struct check_list *l, const char *id, const char *title,
                        enum check_status status, const char *hint, const char *fmt, ...)
{
    if (l->n < CHECKS_MAX)
        l->n++;
    struct check *c = &l->items[l->n - 1];
    memset(c, 0, sizeof(*c));
    copy_text(c->id, sizeof(c->id), id);
    copy_text(c->title, sizeof(c->title), title);
    c->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
    va_end(ap);
    str_utf8_repair(c->message, strlen(c->message));
    copy_text(c->hint, sizeof(c->hint), hint);
    return c;
}

void check_detail_line(struct check *c, const char *text)
{
    size_t have = strlen(c->detail), len = strlen(text);
    if (have + len + 2 > sizeof(c->detail))
        return;
    memcpy(c->detail + have, text, len);
    c->detail[have + len] = '\n';
    c->detail[have + len + 1] = '\0';
    str_utf8_repair(c->detail + have, len);
}

enum check_status check_list_worst(const struct check_list *l)
{
    enum check_status worst = CHECK_OK;
    for (size_t i = 0; i < l->n; i++) {
        if (l->items[i].status == CHECK_FAIL)
            return CHECK_FAIL;
        if (l->items[i].status == CHECK_WARN)
            worst = CHECK_WARN;
    }
    return worst;
}

size_t check_list_count(const struct check_list *l, enum check_status s)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += l->items[i].status == s;
    return n;
}

const char *check_status_word(enum check_status s)
{
    switch (s) {
    case CHECK_OK: return "ok";
    case CHECK_WARN: return "warn";
    case CHECK_FAIL: return "fail";
    case CHECK_SKIP: return "skip";
    }
    return "skip";
}

json_t *check_list_json(const struct check_list *l)
{
    json_t *checks = json_array();
    if (checks == NULL)
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        const struct check *c = &l->items[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", c->id, "title", c->title,
                              "status", check_status_word(c->status), "message", c->message,
                              "hint", c->hint, "detail", c->detail);
        if (o == NULL || json_array_append_new(checks, o) != 0) {
            json_decref(checks);
            return NULL;
        }
    }
    char subject[CHECK_TITLE_MAX], cause[CHECK_TEXT_MAX], advice[CHECK_TEXT_MAX];
    copy_text(subject, sizeof(subject), l->subject);
    copy_text(cause, sizeof(cause), l->cause);
    copy_text(advice, sizeof(advice), l->advice);
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:{s:I, s:I, s:I, s:I}}", "subject", subject,
                     "status", check_status_word(check_list_worst(l)), "checks", checks,
                     "cause", cause, "advice", advice, "counts",
                     "ok", (json_int_t)check_list_count(l, CHECK_OK),
                     "warn", (json_int_t)check_list_count(l, CHECK_WARN),
                     "fail", (json_int_t)check_list_count(l, CHECK_FAIL),
                     "skip", (json_int_t)check_list_count(l, CHECK_SKIP));
}
