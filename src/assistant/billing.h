/* The assistant's token billing: plans and their monthly allowances (seed 003: Free 1,000,
 * Starter 10,000, Pro 50,000, Enterprise 200,000 tokens a month; a rollover of at most 20 %
 * of the plan), calendar-month periods in UTC, what a request costs, and who may execute. */
#ifndef CLOUDYA_BILLING_H
#define CLOUDYA_BILLING_H
#include <stdint.h>

#include "store.h"

#define BILLING_ROLLOVER_PERCENT 20
#define BILLING_CREDIT_MAX 10000000 /* tokens one administrator credit may add */

/* The monthly allowance of plan ("free", "starter", "pro", "enterprise"), or -1 for another
 * name. */
int64_t billing_allowance(const char *plan);

/* 1 when plan may run commands in the sandbox (Pro and Enterprise, as the seed's table says). */
int billing_can_execute(const char *plan);

/* The calendar month (UTC) that contains now: [*start, *end). */
void billing_period(int64_t now, int64_t *start, int64_t *end);

/* The tenant cl's account as of now (opened, renewed or re-planned by the store as needed).
 * Returns store_tokens_account's answer. */
int billing_account(store *st, const store_client *cl, int64_t now, store_tokens *out);

/* About one token per word, as the seed says: the number of runs of non-space characters in
 * text (0 for NULL). */
int64_t billing_words(const char *text);

#endif
