/* The assistant's endpoints: POST /api/command (an answer, or the supervised run of one shown
 * before) and GET /api/tokens/info (the tenant's token account).
 *
 * Order of a request, so that nothing is spent or run on a bad one: authentication, the body
 * (size checked before parsing, unknown keys refused), the tenant's account (402 when it is
 * empty), then the work, then the charge, written with the answer's figures to the ledger,
 * and an audit row with the risk and the execution status.
 *
 * A supervised run never takes a command from the request: it names an earlier answer by its
 * command_id, and the action stored with that answer (validated again now) is what runs, in
 * the sandbox, once. Nothing generated ever runs on the host. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"
#include "app.h"
#include "assistant.h"
#include "audit.h"
#include "authn.h"
#include "billing.h"
#include "json.h"
#include "log.h"
#include "response.h"
#include "sandbox.h"
#include "str.h"
#include "timeutil.h"

#include <errno.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMAND_BODY_MAX (64 * 1024) /* a 4000-character request, ten earlier ones, keys */
#define CONTEXT_ITEM_MAX STORE_REQUEST_MAX
#define OUTPUT_TOKENS_MAX 1000 /* words of sandbox output that are charged, at most */
#define DETAIL_MAX 160
#define SWEEP_EVERY_S 300 /* leftover sandboxes (a crash) are looked for this often */

static _Atomic int64_t last_sweep;

/* Removes sandbox containers a crash left behind, at most every SWEEP_EVERY_S seconds, from
 * the runs themselves (the first run after a start sweeps): never at start, where an Engine
 * that hangs would hold the daemon back from serving. */
static void sweep_now_and_then(docker *d)
{
    int64_t now = time_now(), last = last_sweep;
    char err[256];
    if (now - last < SWEEP_EVERY_S || !atomic_compare_exchange_strong(&last_sweep, &last, now))
        return;
    int n = sandbox_sweep(d, err, sizeof err);
    if (n > 0) log_info("removed %d leftover sandbox containers", n);
    if (n < 0) log_warnx("looking for leftover sandbox containers: %s", err);
}

typedef struct command_req {
    const char *input;   /* NULL when absent (a supervised run may omit it) */
    int supervised;
    const char *command_id;
    const char *context[ASSISTANT_CONTEXT_MAX];
    size_t nctx;
    const char *lang;    /* NULL: detect */
} command_req;

/* ---- the body ------------------------------------------------------------------------------ */

static int bad(json_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(json_err *e, const char *fmt, ...)
{
    va_list ap;
    e->code = "invalid_field";
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Reads the fields of POST /api/command from root (which keeps owning the strings). */
static int parse_command(json_t *root, command_req *r, json_err *e)
{
    static const char *const keys[] = {"user_input", "execution_mode", "command_id", "context",
                                       "lang"};
    const char *key, *mode = NULL;
    json_t *v;
    memset(r, 0, sizeof(*r));
    json_object_foreach(root, key, v) {
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && strcmp(key, keys[i]) != 0)
            i++;
        if (i == sizeof keys / sizeof keys[0])
            return bad(e, "unknown field \"%.48s\" (the fields are user_input, execution_mode, "
                          "command_id, context and lang)",
                       key);
    }
    if (json_field_str(root, "user_input", 0, 1, STORE_REQUEST_MAX, 1, &r->input, e) < 0 ||
        json_field_str(root, "execution_mode", 0, 1, 16, 1, &mode, e) < 0 ||
        json_field_str(root, "command_id", 0, 1, STORE_ID_MAX - 1, 1, &r->command_id, e) < 0 ||
        json_field_str(root, "lang", 0, 2, 2, 1, &r->lang, e) < 0)
        return -EINVAL;
    if (r->input && str_utf8_chars(r->input, strlen(r->input)) > ASSISTANT_REQUEST_CHARS)
        return bad(e, "user_input is too long (at most %d characters)", ASSISTANT_REQUEST_CHARS);
    if (r->input && strspn(r->input, " \t\r\n") == strlen(r->input))
        return bad(e, "user_input is blank");
    if (mode && strcmp(mode, "supervised") == 0)
        r->supervised = 1;
    else if (mode && strcmp(mode, "dry_run") != 0)
        return bad(e, "execution_mode must be \"dry_run\" or \"supervised\"");
    if (r->lang && strcmp(r->lang, "fr") != 0 && strcmp(r->lang, "en") != 0)
        return bad(e, "lang must be \"fr\" or \"en\"");
    if ((v = json_object_get(root, "context")) != NULL) {
        if (!json_is_array(v) || json_array_size(v) > ASSISTANT_CONTEXT_MAX)
            return bad(e, "context must be an array of at most %d earlier requests",
                       ASSISTANT_CONTEXT_MAX);
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *s = json_array_get(v, i);
            if (!json_is_string(s) || json_string_length(s) == 0 ||
                json_string_length(s) > CONTEXT_ITEM_MAX ||
                strlen(json_string_value(s)) != json_string_length(s))
                return bad(e, "context must hold non-empty strings of at most %d bytes",
                           CONTEXT_ITEM_MAX);
            r->context[r->nctx++] = json_string_value(s);
        }
    }
    if (r->supervised && !r->command_id)
        return bad(e, "a supervised run needs the command_id of an answer you were shown: "
                      "ask first (execution_mode \"dry_run\")");
    if (!r->supervised && !r->input)
        return bad(e, "user_input is required");
    return 0;
}

/* ---- shared steps ------------------------------------------------------------------------- */

static void db_unavailable(http_req *q)
{
    http_error(q, 503, "database_unavailable", "the database is unavailable; try again");
}

/* The caller's tenant and its account as of now; answers the error itself otherwise. */
static int tenant_account(http_req *q, const caller *c, store_client *cl, store_tokens *t)
{
    app *a = http_req_app(q);
    int rc = store_client_get(a->st, c->user.client_id, cl);
    if (rc == 0) rc = billing_account(a->st, cl, time_now(), t);
    if (rc == -ENOENT) {
        http_error(q, 404, "not_found", "your account has no tenant");
        return rc;
    }
    if (rc != 0) db_unavailable(q);
    return rc;
}

static void insufficient(http_req *q, const store_client *cl, const store_tokens *t)
{
    char end[TIME_RFC3339_LEN];
    time_rfc3339(t->period_end, end, sizeof end);
    http_error(q, 402, "insufficient_tokens",
               "your %s plan's tokens are spent (%lld of %lld used this period); they renew on "
               "%s, or ask an administrator for a credit or a larger plan",
               cl->plan, (long long)t->used, (long long)t->allowance, end);
}

/* Charges prompt + completion tokens and fills *t with the account after. A charge larger
 * than what is left takes the rest (the request was already answered). */
static int charge(app *a, const store_client *cl, const char *ref, int64_t prompt,
                  int64_t completion, store_tokens *t)
{
    int64_t total = prompt + completion;
    if (total < 1) total = 1;
    return store_tokens_add(a->st, cl->id, -total, 1, "usage", ref, "", time_now(), t);
}

static json_t *usage_json(int64_t prompt, int64_t completion, const store_tokens *t)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "prompt_tokens", (json_int_t)prompt,
                     "completion_tokens", (json_int_t)completion, "total_tokens",
                     (json_int_t)(prompt + completion), "remaining_balance",
                     (json_int_t)t->balance);
}

static void new_command_id(char out[STORE_ID_MAX])
{
    unsigned char raw[10];
    char hex[2 * sizeof raw + 1];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(out, STORE_ID_MAX, "c_%s", hex);
}

static void audit_command(http_req *q, const caller *c, const char *id, const char *result,
                          const char *risk, const char *status, const char *source,
                          int64_t tokens)
{
    char d[DETAIL_MAX];
    snprintf(d, sizeof d, "risk=%s status=%s source=%s tokens=%lld", risk, status, source,
             (long long)tokens);
    api_audit(q, c->user.id, c->user.client_id, "assistant.command", id, result, d);
}

/* 200 with o; a NULL o (a string that is not UTF-8 reached json_pack, which nothing of ours
 * should produce) is a 500 rather than a crash or an empty body. */
static void answer(http_req *q, json_t *o)
{
    if (!o) {
        log_warnx("an assistant answer could not be serialized");
        http_error(q, 500, "internal", "the answer could not be built; try again");
        return;
    }
    http_json(q, 200, o);
}

/* ---- dry run: an answer ------------------------------------------------------------------ */

static void answer_request(http_req *q, const caller *c, const store_client *cl,
                           const command_req *r)
{
    app *a = http_req_app(q);
    assistant_reply rep;
    store_tokens t;
    store_command *cmd = NULL;
    char id[STORE_ID_MAX] = "";
    if (assistant_answer(a->assistant, r->input, r->context, r->nctx, r->lang, &rep) != 0) {
        http_error(q, 500, "internal", "the assistant could not answer; try again");
        return;
    }
    /* A forbidden action is shown with the reason, as refused: it gets no command id, so no
     * run can ever name it. */
    int refused = strcmp(rep.risk, "forbidden") == 0;
    if (rep.matched && rep.action[0] && !refused) {
        new_command_id(id);
        if (!(cmd = calloc(1, sizeof *cmd))) goto fail;
        str_copy(cmd->id, sizeof cmd->id, id);
        str_copy(cmd->client_id, sizeof cmd->client_id, cl->id);
        str_copy(cmd->user_id, sizeof cmd->user_id, c->user.id);
        str_copy(cmd->risk, sizeof cmd->risk, rep.risk);
        str_copy(cmd->request, sizeof cmd->request, r->input);
        str_copy(cmd->action, sizeof cmd->action, rep.action);
        cmd->created_at = time_now();
        if (store_command_add(a->st, cmd) != 0) goto fail;
    }
    if (charge(a, cl, id, rep.prompt_tokens, rep.completion_tokens, &t) != 0) goto fail;
    const char *status = refused ? "rejected" : "dry_run";
    audit_command(q, c, id, refused ? "denied" : rep.matched ? "success" : "failure", rep.risk,
                  status, rep.source, rep.prompt_tokens + rep.completion_tokens);
    json_t *o = json_pack(
        "{s:s?, s:s, s:s, s:s, s:s, s:s, s:n, s:s, s:s, s:s?, s:b, s:s, s:s?, s:o}", "command_id",
        id[0] ? id : NULL, "action", rep.action, "explanation", rep.explanation, "risk", rep.risk,
        "risk_reason", rep.risk_reason, "output", "", "exit_code", "execution_status", status,
        "source", rep.source, "note", rep.note[0] ? rep.note : NULL, "matched", rep.matched,
        "lang", rep.lang, "entry", rep.entry[0] ? rep.entry : NULL, "token_usage",
        usage_json(rep.prompt_tokens, rep.completion_tokens, &t));
    free(cmd);
    assistant_reply_free(&rep);
    answer(q, o);
    return;
fail:
    free(cmd);
    assistant_reply_free(&rep);
    db_unavailable(q);
}

/* ---- supervised: the run of a shown command ---------------------------------------------- */

static const char *run_status(const sandbox_result *res)
{
    if (res->timed_out) return "timeout";
    return res->exit_code == 0 ? "executed" : "failed";
}

static void run_command(http_req *q, const caller *c, const store_client *cl,
                        const command_req *r)
{
    app *a = http_req_app(q);
    store_tokens t;
    char risk[STORE_RISK_MAX], reason[ASSISTANT_REASON_MAX], err[256];
    store_command *cmd = calloc(1, sizeof *cmd);
    sandbox_result res;
    memset(&res, 0, sizeof res);
    if (!cmd) {
        db_unavailable(q);
        return;
    }
    if (!billing_can_execute(cl->plan)) {
        audit_command(q, c, r->command_id, "denied", "-", "plan_required", "-", 0);
        http_error(q, 403, "plan_required",
                   "running commands needs the Pro plan or above (your plan: %s)", cl->plan);
        goto out;
    }
    int rc = store_command_get(a->st, cl->id, r->command_id, cmd);
    if (rc == -ENOENT) {
        http_error(q, 404, "not_found", "no command %s in your account", r->command_id);
        goto out;
    }
    if (rc != 0) {
        db_unavailable(q);
        goto out;
    }
    /* The policy may have changed since the answer: the stored action is checked again. */
    assistant_check(a->assistant, cmd->action, risk, reason, sizeof reason);
    int64_t prompt = billing_words(cmd->action), completion = 0;
    const char *status;
    if (strcmp(risk, "safe") != 0) {
        status = "rejected";
        if (reason[0] == '\0')
            snprintf(reason, sizeof reason, "only safe commands run in the sandbox; this one is %s",
                     risk);
    } else {
        int64_t claimed_at = time_now();
        rc = store_command_claim(a->st, cl->id, cmd->id, claimed_at);
        if (rc == -EALREADY) {
            http_error(q, 409, "already_executed",
                       "command %s already ran; ask again to get a new one", cmd->id);
            goto out;
        }
        if (rc != 0) {
            db_unavailable(q);
            goto out;
        }
        sandbox_opts o;
        sandbox_opts_default(&o);
        o.image = a->cfg.sandbox_image;
        o.timeout_s = a->cfg.sandbox_timeout;
        o.tenant = cl->id;
        rc = sandbox_run(a->engine, &o, cmd->action, &res, err, sizeof err);
        /* Not run at all: the command can be run again later. */
        if (rc != 0 && store_command_release(a->st, cl->id, cmd->id, claimed_at) != 0)
            log_warnx("command %s could not be released after a failed start", cmd->id);
        if (rc == -EBUSY) {
            http_error(q, 503, "sandbox_busy", "every sandbox is busy; try again in a moment");
            goto out;
        }
        if (rc != 0) {
            log_warnx("sandbox run of %s failed: %s", cmd->id, err);
            http_error(q, 503, "sandbox_unavailable", "the sandbox cannot run commands now: %s",
                       err);
            goto out;
        }
        status = run_status(&res);
        sweep_now_and_then(a->engine);
        completion = billing_words(res.output);
        if (completion > OUTPUT_TOKENS_MAX) completion = OUTPUT_TOKENS_MAX;
    }
    if (charge(a, cl, cmd->id, prompt, completion, &t) != 0) {
        db_unavailable(q);
        goto out;
    }
    audit_command(q, c, cmd->id, strcmp(status, "rejected") == 0 ? "denied" : "success", risk,
                  status, "sandbox", prompt + completion);
    char expl[ASSISTANT_REASON_MAX + 64];
    if (strcmp(status, "rejected") == 0)
        snprintf(expl, sizeof expl, "Not run: %s", reason);
    else if (res.timed_out)
        snprintf(expl, sizeof expl, "Stopped after %d s in the sandbox.", a->cfg.sandbox_timeout);
    else
        snprintf(expl, sizeof expl, "Ran in the sandbox in %.1f s (no network, read-only).",
                 res.seconds);
    /* Output that is not UTF-8 is shown with '?' marks rather than dropped. */
    if (res.output) str_utf8_repair(res.output, res.output_len);
    json_t *out_s = json_stringn(res.output ? res.output : "", res.output ? res.output_len : 0);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:n, s:b, s:b, s:o}", "command_id",
        cmd->id, "action", cmd->action, "explanation", expl, "risk", risk, "risk_reason", reason,
        "output", out_s, "exit_code",
        strcmp(status, "rejected") == 0 || res.timed_out ? json_null()
                                                         : json_integer(res.exit_code),
        "execution_status", status, "source", "sandbox", "note", "matched", 1, "truncated",
        res.truncated, "token_usage", usage_json(prompt, completion, &t));
    answer(q, o);
out:
    sandbox_result_free(&res);
    free(cmd);
}

/* ---- handlers ----------------------------------------------------------------------------- */

void api_command(http_req *q)
{
    caller c;
    store_client cl;
    store_tokens t;
    json_err e;
    command_req r;
    size_t len;
    if (api_authenticate(q, &c) != 0) return;
    const char *body = http_req_body(q, &len);
    if (len > COMMAND_BODY_MAX) {
        http_error(q, 413, "too_large", "the body is larger than %d bytes", COMMAND_BODY_MAX);
        return;
    }
    json_t *root = json_body_object(body, len, &e);
    if (!root) {
        http_error(q, 400, e.code, "%s", e.msg);
        return;
    }
    if (parse_command(root, &r, &e) != 0) {
        http_error(q, 400, e.code, "%s", e.msg);
        goto out;
    }
    if (tenant_account(q, &c, &cl, &t) != 0) goto out;
    if (t.balance <= 0) {
        audit_command(q, &c, r.command_id ? r.command_id : "", "denied", "-",
                      "insufficient_tokens", "-", 0);
        insufficient(q, &cl, &t);
        goto out;
    }
    if (r.supervised)
        run_command(q, &c, &cl, &r);
    else
        answer_request(q, &c, &cl, &r);
out:
    json_decref(root);
}

void api_tokens_info(http_req *q)
{
    caller c;
    store_client cl;
    store_tokens t;
    char start[TIME_RFC3339_LEN], end[TIME_RFC3339_LEN];
    if (api_authenticate(q, &c) != 0 || tenant_account(q, &c, &cl, &t) != 0) return;
    time_rfc3339(t.period_start, start, sizeof start);
    time_rfc3339(t.period_end, end, sizeof end);
    http_json(q, 200,
              json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:b}", "plan", cl.plan, "balance",
                        (json_int_t)t.balance, "monthly_allowance", (json_int_t)t.allowance,
                        "used_this_period", (json_int_t)t.used, "period_start", start,
                        "period_end", end, "execution_allowed", billing_can_execute(cl.plan)));
}
