/* Assistant commands: ask, chat (its entry; the screens are chat_tui.c and chat_plain.c)
 * and tokens info, plus what they share (chat.h): the request bodies, the answer laid out
 * as lines, the sentences for failures, and requests on a thread of their own. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat.h"
#include "cli.h"
#include "client.h"
#include "mdrender.h"
#include "output.h"
#include "str.h"
#include "term.h"
#include "timeutil.h"
#include "xalloc.h"

#define COMMAND_PATH "/api/command"
#define TOKENS_PATH "/api/tokens/info"
#define LINE_MAX_BYTES 1024 /* one line this file composes (a risk, a usage line) */
#define ANSWER_MAX 8        /* "yes" and a little more */

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- the conversation ------------------------------------------------------------------- */

void chat_context_add(struct chat_context *c, const char *request)
{
    if (c->n == ASSIST_CONTEXT_MAX) {
        free(c->items[0]);
        memmove(c->items, c->items + 1, (ASSIST_CONTEXT_MAX - 1) * sizeof(c->items[0]));
        c->n--;
    }
    c->items[c->n++] = xstrdup(request);
}

/* A cleared conversation sends no context: the next request starts afresh. */
void chat_context_clear(struct chat_context *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->items[i]);
    c->n = 0;
}

/* A request is text for the assistant: some non-space character, valid UTF-8, and within
 * the API's limit counted in characters, as the daemon counts it, so a bad request costs
 * no round trip. Returns 0, or -EINVAL with the reason in why. */
int assist_input_check(const char *input, char *why, size_t cap)
{
    size_t len = strlen(input);
    const char *p = input;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p == '\0') {
        str_fmt(why, cap, "the request is empty: say what you want to do");
        return -EINVAL;
    }
    if (!str_is_utf8(input, len)) {
        str_fmt(why, cap, "the request is not valid UTF-8 text");
        return -EINVAL;
    }
    size_t chars = str_utf8_chars(input, len);
    if (chars > ASSIST_INPUT_CHARS) {
        str_fmt(why, cap, "the request is %zu characters long; the assistant takes at most %d",
                chars, ASSIST_INPUT_CHARS);
        return -EINVAL;
    }
    return 0;
}

/* A dry run: the daemon answers and stores the action under a command_id. Returns a new
 * reference, or NULL when input is not UTF-8 (checked before by assist_input_check). */
json_t *assist_body_ask(const char *input, const struct chat_context *c, const char *lang)
{
    json_t *body = json_pack("{s:s, s:s}", "user_input", input, "execution_mode", "dry_run");
    if (body == NULL)
        return NULL;
    if (c != NULL && c->n > 0) {
        json_t *list = json_array();
        for (int i = 0; i < c->n; i++)
            json_array_append_new(list, json_string(c->items[i]));
        json_object_set_new(body, "context", list);
    }
    if (lang != NULL)
        json_object_set_new(body, "lang", json_string(lang));
    return body;
}

/* A run names the stored answer only, so what runs is what the validator rated, never
 * text from this side. Returns a new reference. */
json_t *assist_body_execute(const char *command_id)
{
    return json_pack("{s:s, s:s}", "command_id", command_id, "execution_mode", "supervised");
}

/* ---- the answer as lines ----------------------------------------------------------------- */

static void add_line(struct md_doc *d, const char *text, unsigned style, const struct answer_look *lk)
{
    md_add_text(d, text, strlen(text), style, lk->width, lk->indent, MD_WRAP_WORDS);
}

static void proposal_doc(struct md_doc *d, json_t *ans, const struct answer_look *lk)
{
    const char *action = str_of(ans, "action");
    const char *expl = str_of(ans, "explanation");
    const char *risk = str_of(ans, "risk");
    const char *reason = str_of(ans, "risk_reason");
    const char *note = str_of(ans, "note");
    json_t *m = json_object_get(ans, "matched");
    int matched = m != NULL ? json_is_true(m) : action != NULL && action[0] != '\0';
    if (matched && action != NULL && action[0] != '\0')
        md_add_text(d, action, strlen(action), MD_BOLD | MD_CYAN, lk->width, lk->indent,
                    lk->action);
    if (expl != NULL && expl[0] != '\0') {
        md_add_blank(d);
        md_render(d, expl, strlen(expl), lk->width, lk->indent, lk->ticks ? MD_TICKS : 0);
    }
    /* A refused request (nothing proposed, rated forbidden) still says why. */
    int risky = risk != NULL && strcmp(risk, "safe") != 0 &&
                (matched || strcmp(risk, "forbidden") == 0);
    if (risky || (note != NULL && note[0] != '\0'))
        md_add_blank(d);
    if (risky) {
        char line[LINE_MAX_BYTES];
        snprintf(line, sizeof(line), "%s: %s", risk,
                 reason != NULL && reason[0] != '\0' ? reason : "no reason given");
        add_line(d, line, MD_BOLD | (strcmp(risk, "warning") == 0 ? MD_YELLOW : MD_RED), lk);
    }
    if (note != NULL && note[0] != '\0') {
        char line[LINE_MAX_BYTES];
        snprintf(line, sizeof(line), "note: %s", note);
        add_line(d, line, MD_DIM, lk);
    }
}

static void execution_doc(struct md_doc *d, json_t *ans, const struct answer_look *lk)
{
    const char *status = str_of(ans, "execution_status");
    const char *output = str_of(ans, "output");
    const char *reason = str_of(ans, "risk_reason");
    json_t *code = json_object_get(ans, "exit_code");
    char line[LINE_MAX_BYTES];
    if (status == NULL || strcmp(status, "dry_run") == 0)
        return;
    md_add_blank(d);
    if (output != NULL && output[0] != '\0')
        md_add_text(d, output, strlen(output), 0, lk->width, lk->indent, MD_WRAP_HARD);
    if (strcmp(status, "timeout") == 0) {
        add_line(d, "timed out after 30 s", MD_BOLD | MD_RED, lk);
    } else if (strcmp(status, "rejected") == 0) {
        snprintf(line, sizeof(line), "rejected: %s",
                 reason != NULL && reason[0] != '\0' ? reason : "the action was not run");
        add_line(d, line, MD_BOLD | MD_RED, lk);
    } else if (json_is_integer(code)) {
        long long c = (long long)json_integer_value(code);
        snprintf(line, sizeof(line), "exit code %lld", c);
        add_line(d, line, c == 0 ? MD_GREEN : MD_BOLD | MD_RED, lk);
    } else {
        snprintf(line, sizeof(line), "%s", strcmp(status, "executed") == 0 ? "done" : status);
        add_line(d, line, strcmp(status, "executed") == 0 ? MD_GREEN : MD_BOLD | MD_RED, lk);
    }
}

static void usage_doc(struct md_doc *d, json_t *ans, const struct answer_look *lk)
{
    json_t *u = json_object_get(ans, "token_usage");
    if (!json_is_object(u))
        return;
    long long total = json_integer_value(json_object_get(u, "total_tokens"));
    long long in = json_integer_value(json_object_get(u, "prompt_tokens"));
    long long out = json_integer_value(json_object_get(u, "completion_tokens"));
    json_t *left = json_object_get(u, "remaining_balance");
    const char *source = str_of(ans, "source");
    char line[LINE_MAX_BYTES];
    int n = snprintf(line, sizeof(line), "tokens: %lld used (%lld prompt + %lld completion)",
                     total, in, out);
    if (json_is_integer(left) && n > 0 && (size_t)n < sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, ", %lld left",
                      (long long)json_integer_value(left));
    if (source != NULL && strcmp(source, "offline") == 0 && n > 0 && (size_t)n < sizeof(line))
        snprintf(line + n, sizeof(line) - (size_t)n, " (offline answer)");
    md_add_blank(d);
    add_line(d, line, MD_DIM, lk);
}

/* The parts are laid out in their order, separated by one blank line each. */
void assist_answer_doc(struct md_doc *d, json_t *answer, unsigned parts,
                       const struct answer_look *look)
{
    if (!json_is_object(answer))
        return;
    if (parts & ANSWER_PROPOSAL)
        proposal_doc(d, answer, look);
    if (parts & ANSWER_EXECUTION)
        execution_doc(d, answer, look);
    if (parts & ANSWER_USAGE)
        usage_doc(d, answer, look);
}

/* Only a safe action that the answer stored under a command_id is offered: the daemon runs
 * the stored text, never one sent back. Returns the command_id (inside answer), or NULL
 * with the reason in why. */
const char *assist_executable(json_t *answer, char *why, size_t cap)
{
    const char *action = str_of(answer, "action");
    const char *risk = str_of(answer, "risk");
    const char *reason = str_of(answer, "risk_reason");
    const char *id = str_of(answer, "command_id");
    if (!json_is_true(json_object_get(answer, "matched")) || action == NULL || action[0] == '\0') {
        str_fmt(why, cap, "there is no action to run");
        return NULL;
    }
    if (risk == NULL || strcmp(risk, "safe") != 0) {
        str_fmt(why, cap, "the action is judged %s%s%s, and only safe actions are run",
                risk ? risk : "of unknown risk", reason && reason[0] ? ": " : "",
                reason ? reason : "");
        return NULL;
    }
    if (id == NULL || id[0] == '\0' || strlen(id) > 128) {
        str_fmt(why, cap, "the daemon gave the answer no command_id to run it by");
        return NULL;
    }
    return id;
}

/* ---- failures ---------------------------------------------------------------------------- */

/* Composes the sentence in a scratch buffer and cleans it into out (one line, no control
 * characters): the server's words may hold anything. Always writes a sentence. */
void assist_error_text(const struct cli_ctx *ctx, const struct api_resp *r, const char *plan,
                       char *out, size_t cap)
{
    char raw[1024];
    const char *msg = json_string_value(json_object_get(r->body, "error"));
    const char *code = json_string_value(json_object_get(r->body, "code"));
    if (code == NULL)
        code = "";
    if (r->status == 0) {
        str_fmt(raw, sizeof(raw), "%s", r->err[0] ? r->err : "no answer from the daemon");
    } else if (r->status == 401 || strcmp(code, "unauthenticated") == 0) {
        if (ctx->token[0] == '\0')
            str_fmt(raw, sizeof(raw), "not logged in: run `cloudya login` (or `cloudya "
                                      "register` for a new account)");
        else if (ctx->token_from_env)
            str_fmt(raw, sizeof(raw), "the token in CLOUDYA_API_TOKEN was refused (%s): set a "
                    "valid one, or unset it and run `cloudya login`", msg ? msg : "unauthenticated");
        else
            str_fmt(raw, sizeof(raw), "your session has expired or was ended (%s): run "
                    "`cloudya login`", msg ? msg : "unauthenticated");
    } else if (r->status == 402 || strcmp(code, "insufficient_tokens") == 0) {
        str_fmt(raw, sizeof(raw), "you have no tokens left: %s",
                msg ? msg : "the balance is spent until the next period or a recharge");
    } else if (strcmp(code, "plan_required") == 0) {
        if (plan != NULL && plan[0] != '\0')
            str_fmt(raw, sizeof(raw), "running commands needs the Pro plan or above (your "
                    "plan: %s): %s", plan, msg ? msg : "upgrade to run them");
        else
            str_fmt(raw, sizeof(raw), "running commands needs the Pro plan or above: %s",
                    msg ? msg : "upgrade to run them");
    } else if (msg == NULL) {
        if (r->status == 404)
            str_fmt(raw, sizeof(raw), "the daemon at %s has no assistant (HTTP 404): is it a "
                    "Cloudya daemon of the same version?", ctx->api_url);
        else
            str_fmt(raw, sizeof(raw), "unexpected answer from the daemon at %s: HTTP %ld",
                    ctx->api_url, r->status);
    } else if (strcmp(code, "rate_limited") == 0 && r->retry_after[0]) {
        str_fmt(raw, sizeof(raw), "%s: try again in %s s", msg, r->retry_after);
    } else if (r->status >= 500) {
        str_fmt(raw, sizeof(raw), "the daemon failed: %s (HTTP %ld)", msg, r->status);
    } else {
        str_fmt(raw, sizeof(raw), "%s", msg);
    }
    md_clean(raw, strlen(raw), out, cap, 0);
}

/* The status line follows the balance each answer reports. Returns 0 with *balance set,
 * or -ENOENT when body carries none. */
int assist_balance_of(json_t *body, long long *balance)
{
    json_t *b = json_object_get(json_object_get(body, "token_usage"), "remaining_balance");
    if (!json_is_integer(b))
        b = json_object_get(body, "balance");
    if (!json_is_integer(b))
        return -ENOENT;
    *balance = (long long)json_integer_value(b);
    return 0;
}

/* ---- requests on a thread ---------------------------------------------------------------- */

struct assist_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs; /* the caller's and the thread's */
    int done, cr;
    struct cli_ctx ctx; /* a copy: the caller's may change or go */
    json_t *body;
    struct api_resp r;
};

static void job_unref(struct assist_job *j)
{
    pthread_mutex_lock(&j->mu);
    int last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (!last)
        return;
    api_resp_free(&j->r);
    json_decref(j->body);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    sodium_memzero(j->ctx.token, sizeof(j->ctx.token));
    free(j);
}

static void *job_main(void *arg)
{
    struct assist_job *j = arg;
    int cr = api_call(&j->ctx, "POST", COMMAND_PATH, j->body, 1, ASSIST_TIMEOUT_S, &j->r);
    pthread_mutex_lock(&j->mu);
    j->cr = cr;
    j->done = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    job_unref(j);
    return NULL;
}

/* The thread is detached and shares the job with the caller by a count, so a chat can
 * abandon a request (Ctrl+C, Ctrl+L, quitting) without waiting for the daemon. Returns the
 * job, or NULL (body released) when no thread could be started. */
struct assist_job *assist_job_start(const struct cli_ctx *ctx, json_t *body, int quiet)
{
    if (body == NULL)
        return NULL;
    struct assist_job *j = xcalloc(1, sizeof(*j));
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    j->refs = 2;
    j->ctx = *ctx;
    if (quiet)
        j->ctx.debug = 0;
    j->body = body;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the handlers run on the main thread */
    pthread_t th;
    int rc = pthread_create(&th, &at, job_main, j);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        j->refs = 1;
        job_unref(j);
        return NULL;
    }
    return j;
}

/* A bounded wait on a monotonic clock, so the callers' loops keep taking keys and signals.
 * Returns 1 once the request ended, else 0. */
int assist_job_wait(struct assist_job *j, int ms)
{
    pthread_mutex_lock(&j->mu);
    if (!j->done && ms > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!j->done)
            if (pthread_cond_timedwait(&j->cv, &j->mu, &ts) != 0)
                break;
    }
    int done = j->done;
    pthread_mutex_unlock(&j->mu);
    return done;
}

/* Only meaningful after assist_job_wait said 1: the thread no longer touches the answer.
 * Returns the answer, owned by the job. */
struct api_resp *assist_job_result(struct assist_job *j, int *cr)
{
    *cr = j->cr;
    return &j->r;
}

/* The last of the caller and the thread to let go frees the job (and wipes its token). */
void assist_job_release(struct assist_job *j)
{
    if (j != NULL)
        job_unref(j);
}

/* ---- tokens ------------------------------------------------------------------------------ */

int assist_tokens_brief(struct cli_ctx *ctx, char *plan, size_t cap, long long *balance,
                        char *why, size_t whycap, long *status)
{
    struct api_resp r;
    plan[0] = '\0';
    *balance = -1;
    int cr = api_call(ctx, "GET", TOKENS_PATH, NULL, 1, 0, &r);
    *status = r.status;
    if (cr != 0 || r.status != 200 || !json_is_object(r.body)) {
        if (cr == 0 && r.status == 200)
            str_fmt(why, whycap, "unexpected answer from the daemon at %s (not JSON)",
                    ctx->api_url);
        else
            assist_error_text(ctx, &r, NULL, why, whycap);
        api_resp_free(&r);
        return 1;
    }
    const char *p = str_of(r.body, "plan");
    if (p != NULL)
        md_clean(p, strlen(p), plan, cap, 0);
    assist_balance_of(r.body, balance);
    api_resp_free(&r);
    return 0;
}

/* "1 Dec 2026" for an RFC 3339 time, or the text as it is. */
static void human_date(const char *rfc3339, char *out, size_t cap)
{
    int64_t t;
    if (rfc3339 == NULL || time_parse_rfc3339(rfc3339, &t) != 0) {
        md_clean(rfc3339 ? rfc3339 : "-", rfc3339 ? strlen(rfc3339) : 1, out, cap, 0);
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(out, cap, "%d %s %d", tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900);
}

static int cmd_tokens_info(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct api_resp r;
    int rc = 0;
    (void)a;
    spinner_start("Reading your balance", ctx->tty_err && !ctx->json);
    int cr = api_call(ctx, "GET", TOKENS_PATH, NULL, 1, 0, &r);
    spinner_stop();
    if (cr != 0 || r.status != 200 || !json_is_object(r.body)) {
        if (cr == 0 && r.status == 200) {
            rc = cli_fail(ctx, "unexpected answer from the daemon at %s (not JSON)", ctx->api_url);
        } else {
            char why[1024];
            assist_error_text(ctx, &r, NULL, why, sizeof(why));
            rc = cli_fail(ctx, "%s", why);
        }
        goto out;
    }
    if (ctx->json) {
        out_json(r.body);
        goto out;
    }
    json_t *b = r.body;
    char plan[ASSIST_PLAN_MAX], end[64], until[64], balance[128], used[64];
    const char *p = str_of(b, "plan");
    md_clean(p ? p : "?", p ? strlen(p) : 1, plan, sizeof(plan), 0);
    long long bal = json_integer_value(json_object_get(b, "balance"));
    long long allow = json_integer_value(json_object_get(b, "monthly_allowance"));
    snprintf(balance, sizeof(balance), "%lld / %lld tokens", bal, allow);
    snprintf(used, sizeof(used), "%lld tokens",
             (long long)json_integer_value(json_object_get(b, "used_this_period")));
    human_date(str_of(b, "period_end"), end, sizeof(end));
    fmt_ago(str_of(b, "period_end"), time_now(), until, sizeof(until));
    enum color bc = bal <= 0 ? C_RED : (allow > 0 && bal * 10 < allow) ? C_YELLOW : C_GREEN;
    int exec = json_is_true(json_object_get(b, "execution_allowed"));
    printf("plan               %s%s%s\n", color_on(ctx->color, C_BOLD), plan, color_off(ctx->color));
    printf("balance            %s%s%s\n", color_on(ctx->color, bc), balance, color_off(ctx->color));
    printf("used this period   %s\n", used);
    if (str_of(b, "period_end") != NULL && strcmp(end, until) != 0)
        printf("period ends        %s (%s)\n", end, until);
    else
        printf("period ends        %s\n", end);
    if (exec)
        printf("execution          %sallowed%s (`cloudya ask -e` runs actions in the sandbox)\n",
               color_on(ctx->color, C_GREEN), color_off(ctx->color));
    else
        printf("execution          %snot allowed%s (running actions needs the Pro plan or above)\n",
               color_on(ctx->color, C_YELLOW), color_off(ctx->color));
out:
    api_resp_free(&r);
    return rc;
}

/* ---- ask --------------------------------------------------------------------------------- */

/* The request: the words given joined by spaces, or standard input for "-". Returns 0, or
 * the exit status after a usage error. */
static int input_of(struct cli_ctx *ctx, const struct cli_args *a, char *out, size_t cap)
{
    char why[256];
    if (a->npos == 1 && strcmp(a->pos[0], "-") == 0) {
        int rc = term_read_stdin(out, cap);
        if (rc == -ENOSPC)
            return cli_usage_error(ctx, a->cmd, "the request on standard input is longer than "
                                   "%d characters", ASSIST_INPUT_CHARS);
        if (rc != 0)
            return cli_fail(ctx, "cannot read the request from standard input");
    } else {
        size_t o = 0;
        for (int i = 0; i < a->npos; i++) {
            size_t n = strlen(a->pos[i]);
            if (o + n + 2 > cap)
                return cli_usage_error(ctx, a->cmd, "the request is longer than %d characters",
                                       ASSIST_INPUT_CHARS);
            if (i > 0)
                out[o++] = ' ';
            memcpy(out + o, a->pos[i], n);
            o += n;
        }
        out[o] = '\0';
    }
    if (assist_input_check(out, why, sizeof(why)) != 0)
        return cli_usage_error(ctx, a->cmd, "%s", why);
    return 0;
}

/* 1 when a question can be asked: standard input is a terminal or /dev/tty opens. */
static int have_terminal(void)
{
    if (isatty(STDIN_FILENO))
        return 1;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* Prints parts of answer on standard output as `ask` shows it. */
static void show(struct cli_ctx *ctx, json_t *answer, unsigned parts)
{
    struct md_doc d;
    struct answer_look lk = {out_width(stdout), 0, !ctx->color, MD_WRAP_NONE};
    md_doc_init(&d);
    assist_answer_doc(&d, answer, parts, &lk);
    md_print(&d, stdout, ctx->color);
    md_doc_free(&d);
    fflush(stdout);
}

/* Prints the failure of a request; asks for the plan when the answer says it is too low. */
static int request_fail(struct cli_ctx *ctx, int cr, const struct api_resp *r)
{
    char why[1024], plan[ASSIST_PLAN_MAX] = "";
    if (cr == 0 && r->status == 200)
        return cli_fail(ctx, "unexpected answer from the daemon at %s (not a JSON object)",
                        ctx->api_url);
    const char *code = json_string_value(json_object_get(r->body, "code"));
    if (code != NULL && strcmp(code, "plan_required") == 0) {
        long long bal;
        long st;
        char ignored[256];
        const char *p = str_of(r->body, "plan");
        if (p != NULL)
            md_clean(p, strlen(p), plan, sizeof(plan), 0);
        else
            assist_tokens_brief(ctx, plan, sizeof(plan), &bal, ignored, sizeof(ignored), &st);
    }
    assist_error_text(ctx, r, plan, why, sizeof(why));
    return cli_fail(ctx, "%s", why);
}

/* Runs the stored action of command_id in the sandbox and shows how it went. Returns 0
 * when it ran and exited 0, else 1. */
static int execute(struct cli_ctx *ctx, const char *command_id)
{
    struct api_resp r;
    int rc;
    json_t *body = assist_body_execute(command_id);
    spinner_start("Running in the sandbox", ctx->tty_err);
    int cr = api_call(ctx, "POST", COMMAND_PATH, body, 1, ASSIST_TIMEOUT_S, &r);
    spinner_stop();
    json_decref(body);
    if (cr != 0 || r.status != 200 || !json_is_object(r.body)) {
        rc = request_fail(ctx, cr, &r);
        api_resp_free(&r);
        return rc;
    }
    const char *status = str_of(r.body, "execution_status");
    json_t *code = json_object_get(r.body, "exit_code");
    rc = status != NULL && strcmp(status, "executed") == 0 &&
                 (json_is_null(code) || code == NULL || json_integer_value(code) == 0)
             ? 0
             : 1;
    if (ctx->json)
        out_json(r.body);
    else
        show(ctx, r.body, ANSWER_EXECUTION | ANSWER_USAGE);
    api_resp_free(&r);
    return rc;
}

static int cmd_ask(struct cli_ctx *ctx, const struct cli_args *a)
{
    char input[ASSIST_INPUT_BYTES], why[512];
    int rc = input_of(ctx, a, input, sizeof(input));
    if (rc != 0)
        return rc;
    const char *lang = cli_value(a, "lang");
    if (lang != NULL && strcmp(lang, "fr") != 0 && strcmp(lang, "en") != 0)
        return cli_usage_error(ctx, a->cmd, "--lang takes \"fr\" or \"en\", not \"%.20s\"", lang);
    int exec = cli_has(a, "execute"), yes = cli_has(a, "yes");
    if (yes && !exec)
        return cli_usage_error(ctx, a->cmd, "--yes goes with --execute");
    if (exec && !yes && !have_terminal())
        return cli_usage_error(ctx, a->cmd, "--execute asks before running, and there is no "
                               "terminal to ask: add --yes to run without asking");

    json_t *body = assist_body_ask(input, NULL, lang);
    struct api_resp r;
    spinner_start("Thinking", ctx->tty_err);
    int cr = api_call(ctx, "POST", COMMAND_PATH, body, 1, ASSIST_TIMEOUT_S, &r);
    spinner_stop();
    json_decref(body);
    if (cr != 0 || r.status != 200 || !json_is_object(r.body)) {
        rc = request_fail(ctx, cr, &r);
        goto out;
    }
    int matched = json_is_true(json_object_get(r.body, "matched"));
    const char *id = exec ? assist_executable(r.body, why, sizeof(why)) : NULL;
    if (ctx->json && (!exec || id == NULL))
        out_json(r.body);
    else if (!ctx->json)
        show(ctx, r.body, ANSWER_PROPOSAL | ANSWER_USAGE);
    if (!matched) {
        rc = 1; /* the explanation says why nothing matched */
        goto out;
    }
    if (!exec)
        goto out;
    if (id == NULL) {
        rc = cli_fail(ctx, "not offered for execution: %s", why);
        goto out;
    }
    if (!yes) {
        char answer[ANSWER_MAX];
        if (!ctx->json)
            fputc('\n', stdout);
        fflush(stdout);
        int pr = term_prompt("Execute? [y/N] ", 1, answer, sizeof(answer));
        if (pr == -ENOENT) {
            rc = cli_usage_error(ctx, a->cmd, "no terminal to ask: add --yes to run without "
                                 "asking");
            goto out;
        }
        if (pr == -EINTR) {
            rc = 130;
            goto out;
        }
        if (pr != 0 || (strcasecmp(answer, "y") != 0 && strcasecmp(answer, "yes") != 0)) {
            if (ctx->json)
                out_json(r.body);
            else
                printf("not executed\n");
            goto out;
        }
    }
    rc = execute(ctx, id);
out:
    api_resp_free(&r);
    return rc;
}

/* ---- chat -------------------------------------------------------------------------------- */

static int cmd_chat(struct cli_ctx *ctx, const struct cli_args *a)
{
    int exec = cli_has(a, "execute");
    if (!cli_has(a, "no-graphics") && ctx->tty_in && ctx->tty_out) {
        int rc = chat_tui_run(ctx, exec);
        if (rc != -ENOTTY)
            return rc;
    }
    return chat_plain_run(ctx, exec);
}

/* ---- the table --------------------------------------------------------------------------- */

static const struct cli_flag ask_flags[] = {
    {"execute", 'e', CLI_BOOL, NULL, "offer to run the action in the sandbox (asks first)", NULL},
    {"yes", 'y', CLI_BOOL, NULL, "with --execute: run it without asking", NULL},
    {"lang", 0, CLI_VALUE, "LANG", "answer in fr or en (default: the request's language)",
     "fr en"},
    {0},
};
static const struct cli_flag chat_flags[] = {
    {"execute", 'e', CLI_BOOL, NULL, "offer to run each safe action in the sandbox", NULL},
    {"no-graphics", 0, CLI_BOOL, NULL, "a plain line chat instead of the full screen", NULL},
    {0},
};

const struct cli_command cli_assistant_commands[] = {
    {"ask", "Assistant", "<request>", 1, CLI_MAX_POS, ask_flags,
     "ask the assistant for the command that does what you describe",
     "Prints the action the assistant proposes (highlighted on a terminal), its explanation, "
     "its risk when it is not safe (warning, dangerous, forbidden, with the reason) and the "
     "tokens it cost. Ask in French or English: the answer comes in the request's language. "
     "Quote the request, or give - to read it from standard input. With --execute the "
     "action is shown with its risk, you are asked to confirm, and then exactly that action "
     "(by its command_id, never its text) runs in the daemon's sandbox; its output and exit "
     "code are shown. Only safe actions are run, and running them needs the Pro plan or "
     "above. Exit status: 0, or 1 when nothing matched the request, the action was not run "
     "or it exited non-zero.",
     "  cloudya ask \"Créer un bucket S3 sécurisé\"\n"
     "  cloudya ask \"list the pods of every namespace\" --output json\n"
     "  cloudya ask -e \"show the disk usage\"\n"
     "  echo \"Optimiser un Dockerfile pour la production\" | cloudya ask -",
     1, 1, CLI_COMPLETE_NONE, NULL, cmd_ask},
    {"chat", "Assistant", "", 0, 0, chat_flags, "talk with the assistant, with follow-ups",
     "A full-screen chat: the conversation scrolls (PgUp, PgDn, the mouse wheel) above an "
     "input line with editing and history (the arrows, Home, End). Enter sends, Ctrl+L clears "
     "the conversation, Escape returns to the input (and cancels a pending execution), "
     "Ctrl+C quits. Your earlier requests (up to 10) go with each request, so follow-ups "
     "work: \"and with 10 replicas?\". With --execute, each safe action is offered for "
     "execution (Execute? [y/N]). With --no-graphics (or without a terminal) it is a plain "
     "line chat: history kept in $CLOUDYA_HOME/chat_history, `quit`, `exit` or `q` leave, "
     "`clear` clears, Ctrl+D leaves, Ctrl+C cancels the line or the request.",
     "  cloudya chat\n  cloudya chat -e\n  cloudya chat --no-graphics\n"
     "  printf 'deploy nginx on kubernetes\\nand with 10 replicas?\\n' | cloudya chat "
     "--no-graphics",
     1, 0, CLI_COMPLETE_NONE, NULL, cmd_chat},
    {"tokens info", "Assistant", "", 0, 0, NULL,
     "your plan, token balance and use this period",
     "Shows the plan, the balance against the monthly allowance, the tokens used this "
     "period, when the period ends, and whether your plan may run actions in the sandbox.",
     "  cloudya tokens info\n  cloudya tokens info -o json", 1, 1, CLI_COMPLETE_NONE, NULL,
     cmd_tokens_info},
    {0},
};
