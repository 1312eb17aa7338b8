/* `cloudya diagnose system | service <name> | deployment <id>`: checklists of what was
 * found on this machine (src/host/: sysdiag, service_diag, deploy_diag), printed like `brew
 * doctor` (✓ / ! / ✗ / - per check, a hint under each problem, then the most likely cause
 * and what to try) or as JSON. The exit status is 1 when a check failed (✗), else 0.
 * With --explain the findings, secrets masked (redact.h), go to the assistant
 * (POST /api/command) for an explanation; the checks never depend on it. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "check.h"
#include "cli.h"
#include "client.h"
#include "credentials.h"
#include "deploy_diag.h"
#include "dv_config.h"
#include "mdrender.h"
#include "output.h"
#include "redact.h"
#include "service.h"
#include "str.h"
#include "sysdiag.h"
#include "term.h"

#define COMMAND_PATH "/api/command"
#define EXPLAIN_TIMEOUT_S 120
#define EXPLAIN_CHARS 3600 /* of the 4000 a request may hold: room for the question */
#define DETAIL_LINES 8     /* evidence lines shown under a problem (all with --verbose) */
#define SECRETS_MAX 256    /* stored credential values masked in what --explain sends */

static const char *symbol(enum check_status s)
{
    switch (s) {
    case CHECK_OK: return "\xe2\x9c\x93";   /* ✓ */
    case CHECK_WARN: return "!";
    case CHECK_FAIL: return "\xe2\x9c\x97"; /* ✗ */
    case CHECK_SKIP: return "-";
    }
    return "-";
}

static enum color tint(enum check_status s)
{
    return s == CHECK_OK ? C_GREEN : s == CHECK_WARN ? C_YELLOW : s == CHECK_FAIL ? C_RED : C_DIM;
}

/* Prints the checklist for a person. */
static void print_list(struct cli_ctx *ctx, const struct check_list *l, int verbose)
{
    int on = ctx->color;
    size_t tw = 0;
    for (size_t i = 0; i < l->n; i++)
        if (text_width(l->items[i].title) > tw)
            tw = text_width(l->items[i].title);
    printf("%sDiagnosis of %s%s\n\n", color_on(on, C_BOLD), l->subject, color_off(on));
    for (size_t i = 0; i < l->n; i++) {
        const struct check *c = &l->items[i];
        printf("%s%s%s %s%-*s%s  %s\n", color_on(on, tint(c->status)), symbol(c->status),
               color_off(on), color_on(on, C_BOLD), (int)tw, c->title, color_off(on), c->message);
        int problem = c->status == CHECK_WARN || c->status == CHECK_FAIL;
        if (problem && c->hint[0] != '\0')
            printf("  %*s  %s\xe2\x86\x92 %s%s\n", (int)tw, "", color_on(on, C_CYAN), c->hint,
                   color_off(on));
        if ((problem || verbose) && c->detail[0] != '\0') {
            const char *p = c->detail;
            int shown = 0;
            while (*p != '\0') {
                size_t n = strcspn(p, "\n");
                if (!verbose && shown == DETAIL_LINES) {
                    printf("  %*s  %s(more with --verbose)%s\n", (int)tw, "", color_on(on, C_DIM),
                           color_off(on));
                    break;
                }
                printf("  %*s  %s%.*s%s\n", (int)tw, "", color_on(on, C_DIM), (int)n, p,
                       color_off(on));
                shown++;
                p += n;
                if (*p == '\n')
                    p++;
            }
        }
    }
    printf("\n");
    if (l->cause[0] != '\0') {
        printf("%s%s%s %s\n", color_on(on, C_BOLD),
               check_list_worst(l) == CHECK_FAIL ? "Most likely cause:" : "Worth a look:",
               color_off(on), l->cause);
        if (l->advice[0] != '\0')
            printf("%sTry:%s %s\n", color_on(on, C_BOLD), color_off(on), l->advice);
        printf("\n");
    }
    size_t ok = check_list_count(l, CHECK_OK), warn = check_list_count(l, CHECK_WARN),
           fail = check_list_count(l, CHECK_FAIL), skip = check_list_count(l, CHECK_SKIP);
    printf("%zu ok, %zu warning%s, %zu failed, %zu skipped\n", ok, warn, warn == 1 ? "" : "s",
           fail, skip);
}

/* ---- --explain ------------------------------------------------------------------------------ */

/* The stored credentials' values (every scalar of credentials.yaml), to mask them wherever
 * they appear. Returns how many were put in out (strings owned by *creds). */
static size_t secret_values(const char *home, json_t **creds, const char **out, size_t max)
{
    char err[256];
    int loose;
    size_t n = 0;
    *creds = NULL;
    if (cred_load(home, creds, &loose, err, sizeof(err)) != 0)
        return 0;
    const char *sec, *key;
    json_t *section, *v;
    json_object_foreach(*creds, sec, section)
    {
        json_object_foreach(section, key, v)
        {
            if (n < max && json_is_string(v))
                out[n++] = json_string_value(v);
        }
    }
    return n;
}

/* "fr" when the user's locale is French, else "en": the explanation comes in that language. */
static const char *locale_lang(void)
{
    const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL && v[0] != '\0')
            return strncmp(v, "fr", 2) == 0 ? "fr" : "en";
    }
    return "en";
}

/* The request sent for an explanation: the question, then every check that is not ✓ with
 * its message, hint and a few evidence lines, cut to EXPLAIN_CHARS, secrets masked. Returns
 * a new string, or NULL when out of memory. */
static char *explain_request(struct cli_ctx *ctx, const struct check_list *l, const char *lang)
{
    size_t cap = EXPLAIN_CHARS * 4 + 1, o = 0;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    o += (size_t)snprintf(s + o, cap - o,
                          strcmp(lang, "fr") == 0
                              ? "Explique ces résultats de `cloudya diagnose %s` et dis quoi "
                                "faire en premier :"
                              : "Explain these findings of `cloudya diagnose %s` and say what "
                                "to do first:",
                          l->subject);
    for (size_t i = 0; i < l->n && o + 1 < cap; i++) {
        const struct check *c = &l->items[i];
        if (c->status == CHECK_OK || c->status == CHECK_SKIP)
            continue;
        o += (size_t)snprintf(s + o, cap - o, " [%s %s: %s%s%s%s", symbol(c->status), c->title,
                              c->message, c->hint[0] ? " (hint: " : "", c->hint,
                              c->hint[0] ? ")" : "");
        const char *p = c->detail;
        for (int k = 0; k < 4 && *p != '\0' && o + 1 < cap; k++) {
            size_t n = strcspn(p, "\n");
            o += (size_t)snprintf(s + o, cap - o, "%s%.*s", k == 0 ? "; evidence: " : " | ",
                                  (int)n, p);
            p += n + (p[n] == '\n');
        }
        if (o + 1 < cap)
            o += (size_t)snprintf(s + o, cap - o, "]");
    }
    if (o >= cap)
        o = cap - 1;
    s[o] = '\0';
    if (l->cause[0] != '\0' && o + 1 < cap)
        snprintf(s + o, cap - o, " Most likely cause found: %s", l->cause);
    for (char *q = s; *q != '\0'; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = ' '; /* one line: the request takes no control characters */
    json_t *creds;
    const char *secrets[SECRETS_MAX];
    size_t ns = secret_values(ctx->home, &creds, secrets, SECRETS_MAX);
    redact_text(s, secrets, ns);
    json_decref(creds);
    /* cut to EXPLAIN_CHARS characters, at a character boundary */
    size_t chars = 0, i = 0;
    while (s[i] != '\0' && chars < EXPLAIN_CHARS) {
        i++;
        while (((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
        chars++;
    }
    s[i] = '\0';
    return s;
}

/* Sends the findings to the assistant and prints its explanation after the checklist (on
 * standard error with --output json, so the JSON stays whole). Never changes the exit
 * status: a failure here is told, not fatal. */
static void explain(struct cli_ctx *ctx, const struct check_list *l)
{
    FILE *f = ctx->json ? stderr : stdout;
    int on = ctx->json ? ctx->color_err : ctx->color;
    if (check_list_worst(l) == CHECK_OK) {
        fprintf(f, "\nnothing to explain: every check passed\n");
        return;
    }
    if (ctx->token[0] == '\0') {
        fprintf(stderr, "cloudya: --explain needs a login to the daemon: run `cloudya login` "
                        "(the checks above do not)\n");
        return;
    }
    const char *lang = locale_lang();
    char *input = explain_request(ctx, l, lang);
    if (input == NULL) {
        fprintf(stderr, "cloudya: out of memory\n");
        return;
    }
    if (ctx->debug)
        fprintf(stderr, "cloudya: --explain sends:\n%s\n", input);
    json_t *body = assist_body_ask(input, NULL, lang);
    free(input);
    struct api_resp r;
    spinner_start("Asking the assistant", ctx->tty_err);
    int cr = api_call(ctx, "POST", COMMAND_PATH, body, 1, EXPLAIN_TIMEOUT_S, &r);
    spinner_stop();
    json_decref(body);
    if (cr != 0 || r.status != 200 || !json_is_object(r.body)) {
        char why[1024];
        assist_error_text(ctx, &r, NULL, why, sizeof(why));
        fprintf(stderr, "cloudya: no explanation: %s\n", why);
        api_resp_free(&r);
        return;
    }
    const char *source = json_string_value(json_object_get(r.body, "source"));
    fprintf(f, "\n%sExplanation%s%s\n", color_on(on, C_BOLD), color_off(on),
            source != NULL && strcmp(source, "llm") == 0
                ? ""
                : " (from the offline knowledge base: no LLM provider is configured on the "
                  "daemon)");
    struct md_doc d;
    struct answer_look lk = {out_width(f), 0, !on, MD_WRAP_NONE};
    md_doc_init(&d);
    assist_answer_doc(&d, r.body, ANSWER_PROPOSAL | ANSWER_USAGE, &lk);
    md_print(&d, f, on);
    md_doc_free(&d);
    fprintf(f, "%s(suggested commands are not run: `cloudya ask --execute` runs one in the "
               "sandbox)%s\n", color_on(on, C_DIM), color_off(on));
    api_resp_free(&r);
}

/* ---- the commands --------------------------------------------------------------------------- */

/* Prints l as asked and returns the exit status: 1 when a check failed. */
static int finish(struct cli_ctx *ctx, const struct cli_args *a, struct check_list *l)
{
    if (ctx->json) {
        if (cli_emit(check_list_json(l)) != 0)
            return 1;
    } else {
        print_list(ctx, l, cli_has(a, "verbose"));
    }
    fflush(stdout);
    if (cli_has(a, "explain"))
        explain(ctx, l);
    return check_list_worst(l) == CHECK_FAIL ? 1 : 0;
}

static int cmd_diagnose_system(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct check_list *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return cli_fail(ctx, "out of memory");
    struct sysdiag_opts o;
    sysdiag_opts_default(&o);
    spinner_start("Checking this machine", ctx->tty_err && !ctx->json);
    int rc = sysdiag_run(&o, l);
    spinner_stop();
    rc = rc != 0 ? cli_fail(ctx, "the checks could not run: %s", strerror(-rc))
                 : finish(ctx, a, l);
    free(l);
    return rc;
}

static int cmd_diagnose_service(struct cli_ctx *ctx, const struct cli_args *a)
{
    char why[1024];
    if (service_name_check(a->pos[0], why, sizeof(why)) != 0)
        return cli_usage_error(ctx, a->cmd, "%s", why);
    struct check_list *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return cli_fail(ctx, "out of memory");
    spinner_start("Checking the service", ctx->tty_err && !ctx->json);
    int rc = service_diagnose(a->pos[0], l);
    spinner_stop();
    rc = rc != 0 ? cli_fail(ctx, "the checks could not run: %s", strerror(-rc))
                 : finish(ctx, a, l);
    free(l);
    return rc;
}

static int cmd_diagnose_deployment(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct dv_config c;
    char err[1024];
    if (dv_config_load(ctx->home, &c, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    struct check_list *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return cli_fail(ctx, "out of memory");
    int rc = deploy_diagnose(&c, a->pos[0], l, err, sizeof(err));
    if (rc == -EINVAL)
        rc = cli_usage_error(ctx, a->cmd, "%s", err);
    else if (rc != 0)
        rc = cli_fail(ctx, "%s", err);
    else
        rc = finish(ctx, a, l);
    free(l);
    return rc;
}

static const struct cli_flag diagnose_flags[] = {
    {"explain", 'e', CLI_BOOL, NULL,
     "ask the assistant to explain the findings (needs a login; secrets are masked)", NULL},
    {"verbose", 'v', CLI_BOOL, NULL, "show every check's evidence, not only the problems'", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

#define EXIT_NOTE "Exit status 1 when a check failed (\xe2\x9c\x97), else 0. "
#define EXPLAIN_NOTE                                                                               \
    "With --explain the findings (secrets masked) go to the assistant of the daemon you are "     \
    "logged in to, for an explanation; the checks never depend on it."

const struct cli_command cli_diagnose_commands[] = {
    {"diagnose system", "Monitoring and diagnosis", "", 0, 0, diagnose_flags,
     "check this machine: disks, memory, load, swap, units, time, DNS, limits, Docker",
     "Runs a checklist on this machine and marks each check \xe2\x9c\x93 (fine), ! (worth a "
     "look) or \xe2\x9c\x97 (a problem), with a one-line fix under each problem: disk space and "
     "inodes of every file system, memory pressure and OOM kills, load against the number of "
     "cores, swap, failed systemd units, zombie processes, time synchronisation, the DNS "
     "resolver configuration, open file limits, and whether the Docker Engine answers and how "
     "much disk it uses. " EXIT_NOTE EXPLAIN_NOTE,
     "  cloudya diagnose system\n  cloudya diagnose system --output json | jq '.checks[] | "
     "select(.status != \"ok\")'\n  cloudya diagnose system --explain",
     0, 1, CLI_COMPLETE_NONE, NULL, cmd_diagnose_system},
    {"diagnose service", "Monitoring and diagnosis", "<name>", 1, 1, diagnose_flags,
     "check one service: installed, running, enabled, listening, config test, logs, restarts",
     "Checks one service (nginx, apache2, ssh, postgresql, mysql, redis, docker, or any "
     "program or systemd unit by name): whether it is installed, running and enabled, whether "
     "it listens where it should, its own configuration test (nginx -t, apachectl -t, sshd "
     "-t, ...), recent errors in its logs and restart loops; then names the most likely cause "
     "and what to try. " EXIT_NOTE EXPLAIN_NOTE,
     "  cloudya diagnose service nginx\n  cloudya diagnose service mysql --output json", 0, 1,
     CLI_COMPLETE_NONE, NULL, cmd_diagnose_service},
    {"diagnose deployment", "Monitoring and diagnosis", "<deployment-id>", 1, 1, diagnose_flags,
     "explain why a deployment, app installation or stack failed",
     "Reads the record and the log of a deployment (`cloudya deploy list-deployments` lists "
     "them; app- and stack- ids work too), shows each step, names the step that failed and "
     "the tool's error, and suggests the fix for the known errors of Terraform, OpenTofu and "
     "Ansible. " EXIT_NOTE EXPLAIN_NOTE,
     "  cloudya diagnose deployment dep-1a2b3c4d\n  cloudya diagnose deployment dep-1a2b3c4d "
     "--explain",
     0, 1, CLI_COMPLETE_NONE, NULL, cmd_diagnose_deployment},
    {0},
};
