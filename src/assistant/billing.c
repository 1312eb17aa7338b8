/* Plans, periods and costs of the assistant's tokens; the balances themselves live in the
 * store (store_tokens_*), which changes them in transactions. */
#define _POSIX_C_SOURCE 200809L
#include "billing.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

static const struct {
    const char *plan;
    int64_t allowance;
    int execute;
} plans[] = {
    {"free", 1000, 0},
    {"starter", 10000, 0},
    {"pro", 50000, 1},
    {"enterprise", 200000, 1},
};

#define NPLANS (sizeof(plans) / sizeof(plans[0]))

int64_t billing_allowance(const char *plan)
{
    for (size_t i = 0; plan && i < NPLANS; i++)
        if (strcmp(plan, plans[i].plan) == 0) return plans[i].allowance;
    return -1;
}

int billing_can_execute(const char *plan)
{
    for (size_t i = 0; plan && i < NPLANS; i++)
        if (strcmp(plan, plans[i].plan) == 0) return plans[i].execute;
    return 0;
}

/* Midnight UTC on the first day of month mon (0-11, may be 12) of year. */
static int64_t month_start(int year, int mon)
{
    char ts[64];
    int64_t t = 0;
    if (mon > 11) {
        year += mon / 12;
        mon %= 12;
    }
    snprintf(ts, sizeof ts, "%04d-%02d-01T00:00:00Z", year, mon + 1);
    (void)time_parse_rfc3339(ts, &t); /* well-formed by construction */
    return t;
}

void billing_period(int64_t now, int64_t *start, int64_t *end)
{
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    *start = month_start(tm.tm_year + 1900, tm.tm_mon);
    *end = month_start(tm.tm_year + 1900, tm.tm_mon + 1);
}

/* A plan the store holds but billing does not know (written behind the platform's back)
 * gets the free allowance rather than an error: the assistant stays usable and cheap. */
int billing_account(store *st, const store_client *cl, int64_t now, store_tokens *out)
{
    int64_t allowance = billing_allowance(cl->plan), start, end;
    if (allowance < 0) allowance = billing_allowance("free");
    billing_period(now, &start, &end);
    return store_tokens_account(st, cl->id, allowance,
                                allowance * BILLING_ROLLOVER_PERCENT / 100, now, start, end, out);
}

int64_t billing_words(const char *text)
{
    int64_t n = 0;
    int in_word = 0;
    for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
        int space = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v';
        if (!space && !in_word) n++;
        in_word = !space;
    }
    return n;
}
