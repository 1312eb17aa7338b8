/* `cloudya connect [<provider>]`: asks for (or takes from --params and --secret-stdin) what a
 * cloud provider needs, checks every field, asks the provider whether the credentials work,
 * and keeps them in credentials.yaml (mode 0600) unless the provider refused them. Without a
 * provider it lists the providers and what is configured for each, secrets left out. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "credentials.h"
#include "output.h"
#include "str.h"
#include "term.h"

#define STDIN_MAX (64u << 10) /* bytes of secrets read by --secret-stdin */
#define STDIN_LINES 16        /* lines kept from it (a provider has at most a few secrets) */
#define SETTINGS_MAX 2048     /* the settings column of the listing */

/* The values being built for one provider, by field index. */
struct draft {
    char value[CRED_MAX_FIELDS][CRED_VALUE_MAX];
    int set[CRED_MAX_FIELDS];    /* value holds something */
    int fresh[CRED_MAX_FIELDS];  /* given now (flag, prompt, stdin): already checked */
};

static void draft_wipe(struct draft *d)
{
    explicit_bzero(d, sizeof(*d));
}

static int nfields(const struct cred_provider *p)
{
    int n = 0;
    while (n < CRED_MAX_FIELDS && p->fields[n].key != NULL)
        n++;
    return n;
}

/* The edit distance of a and b, capped at 9, for "did you mean". */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 20 || lb > 20)
        return 9;
    int row[21];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] > 9 ? 9 : row[lb];
}

static int unknown_provider(struct cli_ctx *ctx, const struct cli_args *a, const char *word)
{
    const char *const *names = cred_provider_names();
    const char *best = NULL;
    int bestd = 3;
    char list[256] = "";
    for (size_t i = 0; names[i] != NULL; i++) {
        int d = distance(word, names[i]);
        if (d < bestd)
            bestd = d, best = names[i];
        size_t used = strlen(list);
        snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
    }
    char shown[64];
    snprintf(shown, sizeof(shown), "%.40s", word);
    for (char *q = shown; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = '?';
    if (best != NULL)
        return cli_usage_error(ctx, a->cmd, "unknown provider \"%s\"; did you mean \"%s\"? (the "
                                            "providers are %s)",
                               shown, best, list);
    return cli_usage_error(ctx, a->cmd, "unknown provider \"%s\" (the providers are %s)", shown,
                           list);
}

/* The non-secret keys of p, for the messages: "api_url, token_id, insecure_tls". */
static void keys_of(const struct cred_provider *p, int secret, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = 0; i < nfields(p); i++) {
        if (p->fields[i].secret != secret)
            continue;
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s", used ? ", " : "", p->fields[i].key);
    }
}

/* ---- --params -------------------------------------------------------------------------- */

/* Applies every k=v of every --params to d. Returns 0 or 2 after a usage error. */
static int apply_params(struct cli_ctx *ctx, const struct cli_args *a,
                        const struct cred_provider *p, struct draft *d, int *given)
{
    const char *const *lists;
    int nlists = cli_list(a, "params", &lists);
    int seen[CRED_MAX_FIELDS] = {0};
    char keys[512], err[600];
    keys_of(p, 0, keys, sizeof(keys));
    *given = 0;
    for (int l = 0; l < nlists; l++) {
        const char *s = lists[l];
        while (*s != '\0') {
            size_t n = strcspn(s, ",");
            char item[CRED_VALUE_MAX + 128];
            if (n >= sizeof(item))
                return cli_usage_error(ctx, a->cmd, "a --params item is longer than %zu bytes",
                                       sizeof(item) - 1);
            memcpy(item, s, n);
            item[n] = '\0';
            s += n + (s[n] == ',');
            if (n == 0)
                continue;
            char *eq = strchr(item, '=');
            if (eq == NULL)
                return cli_usage_error(ctx, a->cmd, "--params takes KEY=VALUE items separated "
                                                    "by commas; \"%.60s\" has no '='",
                                       item);
            *eq = '\0';
            const char *key = item, *value = eq + 1;
            const struct cred_field *f = cred_field(p, key);
            if (f == NULL)
                return cli_usage_error(ctx, a->cmd, "unknown key \"%.60s\" for %s; the keys are: "
                                                    "%s",
                                       key, p->name, keys);
            if (f->secret)
                return cli_usage_error(ctx, a->cmd, "%s is a secret: pass it on standard input "
                                                    "with --secret-stdin, never on the command "
                                                    "line (other users can see it there)",
                                       key);
            int i = (int)(f - p->fields);
            if (seen[i]++)
                return cli_usage_error(ctx, a->cmd, "%s is given twice in --params", key);
            d->fresh[i] = 1;
            (*given)++;
            if (value[0] == '\0') { /* KEY= empties it, or brings back its default */
                d->set[i] = f->def != NULL;
                str_copy(d->value[i], sizeof(d->value[i]), f->def ? f->def : "");
                continue;
            }
            if (cred_check(p, f, value, d->value[i], sizeof(d->value[i]), err, sizeof(err)) != 0)
                return cli_usage_error(ctx, a->cmd, "%s", err);
            d->set[i] = 1;
        }
    }
    return 0;
}

/* ---- --secret-stdin ----------------------------------------------------------------------- */

struct lines {
    char *text;
    char *line[STDIN_LINES];
    int n, next;
};

/* Reads standard input (at most STDIN_MAX bytes) into lines. Returns 0 or 1 after a failure. */
static int read_lines(struct cli_ctx *ctx, struct lines *ls)
{
    memset(ls, 0, sizeof(*ls));
    ls->text = calloc(1, STDIN_MAX + 1);
    if (ls->text == NULL)
        return cli_fail(ctx, "out of memory");
    size_t len = 0;
    for (;;) {
        ssize_t r = read(STDIN_FILENO, ls->text + len, STDIN_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return cli_fail(ctx, "cannot read the secrets from standard input: %s",
                            strerror(errno));
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > STDIN_MAX)
            return cli_fail(ctx, "standard input holds more than %u KiB: not secrets",
                            STDIN_MAX >> 10);
    }
    if (memchr(ls->text, '\0', len) != NULL)
        return cli_fail(ctx, "standard input holds a NUL byte");
    char *p = ls->text, *end = ls->text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl ? nl : end;
        *stop = '\0';
        if (stop > p && stop[-1] == '\r')
            stop[-1] = '\0';
        if (ls->n == STDIN_LINES)
            return cli_fail(ctx, "standard input holds more than %d lines", STDIN_LINES);
        ls->line[ls->n++] = p;
        p = stop + 1;
    }
    return 0;
}

static void lines_free(struct lines *ls)
{
    if (ls->text != NULL)
        explicit_bzero(ls->text, STDIN_MAX + 1);
    free(ls->text);
    ls->text = NULL;
}

/* ---- prompts ------------------------------------------------------------------------------ */

/* Asks for field i until it gets a valid answer. Returns 0, or 1 when the user gave up. */
static int ask(struct cli_ctx *ctx, const struct cred_provider *p, int i, struct draft *d)
{
    const struct cred_field *f = &p->fields[i];
    char prompt[CRED_VALUE_MAX + 256], in[CRED_VALUE_MAX], err[600];
    if (f->secret)
        snprintf(prompt, sizeof(prompt), "%s%s: ", f->prompt, d->set[i] ? " [(stored)]" : "");
    else if (d->set[i])
        snprintf(prompt, sizeof(prompt), "%s [%s]: ", f->prompt, d->value[i]);
    else
        snprintf(prompt, sizeof(prompt), "%s: ", f->prompt);
    for (;;) {
        int rc = term_prompt(prompt, !f->secret, in, sizeof(in));
        if (rc == -EINTR)
            return cli_fail(ctx, "cancelled: nothing was saved");
        if (rc == -ENOENT)
            return cli_fail(ctx, "the input ended: nothing was saved");
        if (rc == -ENOSPC) {
            fprintf(stderr, "  too long; again\n");
            continue;
        }
        if (in[0] == '\0') {
            if (d->set[i] || !f->required)
                break; /* Enter keeps what is there */
            fprintf(stderr, "  %s is required; again\n", f->key);
            continue;
        }
        if (strcmp(in, "-") == 0 && !f->required) {
            d->set[i] = 0;
            d->value[i][0] = '\0';
            break;
        }
        if (cred_check(p, f, in, d->value[i], sizeof(d->value[i]), err, sizeof(err)) != 0) {
            fprintf(stderr, "  %s; again\n", err);
            continue;
        }
        d->set[i] = 1;
        break;
    }
    explicit_bzero(in, sizeof(in));
    d->fresh[i] = 1;
    return 0;
}

/* ---- output -------------------------------------------------------------------------------- */

/* The fields of a section for JSON: non-secret values as strings (null when unset), secrets
 * as whether they are set. */
static json_t *fields_json(const struct cred_provider *p, const json_t *section)
{
    json_t *o = json_object();
    char v[CRED_VALUE_MAX];
    for (int i = 0; i < nfields(p); i++) {
        const struct cred_field *f = &p->fields[i];
        int set = cred_value(section, f->key, v, sizeof(v));
        if (f->secret)
            json_object_set_new(o, f->key, json_boolean(set));
        else
            json_object_set_new(o, f->key, set ? json_string(v) : json_null());
    }
    explicit_bzero(v, sizeof(v));
    return o;
}

static void file_path(const struct cli_ctx *ctx, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", ctx->home, CRED_FILE_NAME);
}

static void warn_loose(const struct cli_ctx *ctx, const char *path, int will_rewrite)
{
    fprintf(stderr, "%swarning:%s %s can be read or written by other users: %s\n",
            color_on(ctx->color_err, C_YELLOW), color_off(ctx->color_err), path,
            will_rewrite ? "it is rewritten with mode 0600" : "run `chmod 600` on it");
}

static int cmd_list(struct cli_ctx *ctx, const json_t *creds, const char *path)
{
    const char *const *names = cred_provider_names();
    if (ctx->json) {
        json_t *arr = json_array();
        for (size_t i = 0; names[i] != NULL; i++) {
            const struct cred_provider *p = cred_provider(names[i]);
            const json_t *section = json_object_get(creds, p->name);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:o}", "provider", p->name,
                                                 "name", p->title, "configured",
                                                 json_object_size(section) > 0, "fields",
                                                 fields_json(p, section)));
        }
        return cli_emit(json_pack("{s:s, s:o}", "file", path, "providers", arr));
    }
    static const char *const heads[] = {"PROVIDER", "NAME", "CONFIGURED", "SETTINGS"};
    struct table *t = table_new(4, heads);
    int configured = 0;
    char v[CRED_VALUE_MAX], settings[SETTINGS_MAX];
    for (size_t i = 0; names[i] != NULL; i++) {
        const struct cred_provider *p = cred_provider(names[i]);
        const json_t *section = json_object_get(creds, p->name);
        int on = json_object_size(section) > 0;
        configured += on;
        settings[0] = '\0';
        for (int k = 0; on && k < nfields(p); k++) {
            const struct cred_field *f = &p->fields[k];
            if (!cred_value(section, f->key, v, sizeof(v)))
                continue;
            size_t used = strlen(settings);
            str_fmt(settings + used, sizeof(settings) - used, "%s%s=%s", used ? " " : "", f->key,
                    f->secret ? "(stored)" : v);
        }
        const char *cells[] = {p->name, p->title, on ? "yes" : "no", settings[0] ? settings : "-"};
        table_add(t, cells);
        table_color(t, 2, on ? C_GREEN : C_DIM);
    }
    explicit_bzero(v, sizeof(v));
    table_print(t, stdout, ctx->color, out_width(stdout));
    table_free(t);
    printf("\n%d of 7 configured, in %s\n", configured, path);
    printf("`cloudya connect <provider>` adds or changes one; `cloudya connect --help` shows "
           "what each needs.\n");
    return 0;
}

/* Prints what was kept and the verdict. */
static void summary(struct cli_ctx *ctx, const struct cred_provider *p, const json_t *section,
                    const char *path, const struct cred_verification *v, int verified)
{
    char val[CRED_VALUE_MAX];
    int width = 0;
    for (int i = 0; i < nfields(p); i++)
        if ((int)strlen(p->fields[i].key) > width)
            width = (int)strlen(p->fields[i].key);
    printf("%s%s%s credentials saved in %s (mode 0600)\n", color_on(ctx->color, C_BOLD), p->title,
           color_off(ctx->color), path);
    for (int i = 0; i < nfields(p); i++) {
        const struct cred_field *f = &p->fields[i];
        int set = cred_value(section, f->key, val, sizeof(val));
        printf("  %-*s  %s\n", width, f->key, !set ? "-" : f->secret ? "********" : val);
    }
    explicit_bzero(val, sizeof(val));
    if (!verified)
        printf("%s!%s not verified: --no-verify was given\n", color_on(ctx->color, C_YELLOW),
               color_off(ctx->color));
    else if (v->verdict == CRED_VERIFIED)
        printf("%s✓%s verified: %s\n", color_on(ctx->color, C_GREEN), color_off(ctx->color),
               v->message);
    else
        printf("%s!%s cannot verify: %s; saved as given\n", color_on(ctx->color, C_YELLOW),
               color_off(ctx->color), v->message);
}

static const char *verdict_name(const struct cred_verification *v, int verified)
{
    if (!verified)
        return "skipped";
    return v->verdict == CRED_VERIFIED ? "verified" : v->verdict == CRED_FAILED ? "failed"
                                                                                : "unverified";
}

/* ---- connect <provider> ---------------------------------------------------------------- */

/* Fills d from the stored section, --params, standard input and the prompts. Returns 0, or
 * the exit status of a failure already reported. */
static int gather(struct cli_ctx *ctx, const struct cli_args *a, const struct cred_provider *p,
                  const json_t *section, struct draft *d)
{
    int n = nfields(p), given = 0, rc;
    for (int i = 0; i < n; i++) {
        const struct cred_field *f = &p->fields[i];
        d->set[i] = cred_value(section, f->key, d->value[i], sizeof(d->value[i]));
        if (!d->set[i] && f->def != NULL)
            d->set[i] = str_copy(d->value[i], sizeof(d->value[i]), f->def) == 0;
    }
    rc = apply_params(ctx, a, p, d, &given);
    if (rc != 0)
        return rc;
    int from_stdin = cli_has(a, "secret-stdin");
    /* --secret-stdin on a terminal: the secrets are asked without echo rather than read
     * (and shown) as the user types them */
    int ask_secrets = from_stdin && ctx->tty_in;
    if (ask_secrets)
        from_stdin = 0;
    int interactive = ctx->tty_in && !from_stdin && !ask_secrets;
    int full = interactive && given == 0;
    struct lines ls = {0};
    if (from_stdin && (rc = read_lines(ctx, &ls)) != 0)
        goto out;
    if (full)
        fprintf(stderr, "%s: Enter keeps the value in [brackets]; '-' empties an optional one.\n",
                p->title);
    for (int i = 0; i < n && rc == 0; i++) {
        const struct cred_field *f = &p->fields[i];
        if (f->needs != NULL) {
            const struct cred_field *dep = cred_field(p, f->needs);
            if (!d->set[dep - p->fields]) {
                d->set[i] = 0; /* does not apply: forgotten */
                d->value[i][0] = '\0';
                continue;
            }
        }
        if (f->secret && from_stdin) {
            const char *line = ls.next < ls.n ? ls.line[ls.next++] : "";
            if (line[0] == '\0')
                continue; /* none given: the stored one stays */
            char err[600];
            if (cred_check(p, f, line, d->value[i], sizeof(d->value[i]), err, sizeof(err)) != 0) {
                rc = cli_usage_error(ctx, a->cmd, "the secret for %s on standard input: %s",
                                     f->key, err);
                break;
            }
            d->set[i] = d->fresh[i] = 1;
        } else if (f->secret && ask_secrets) {
            rc = ask(ctx, p, i, d);
        } else if (interactive && !d->fresh[i] && (full || (f->required && !d->set[i]))) {
            rc = ask(ctx, p, i, d);
        }
    }
    if (rc == 0 && from_stdin) {
        int extra = 0;
        for (int k = ls.next; k < ls.n; k++)
            extra += ls.line[k][0] != '\0';
        if (extra > 0) {
            char secrets[256];
            keys_of(p, 1, secrets, sizeof(secrets));
            rc = cli_usage_error(ctx, a->cmd, "standard input holds more secrets than %s takes "
                                              "here (%s, one per line, in that order)",
                                 p->name, ls.next > 0 ? secrets : "none with these settings");
        }
    }
out:
    lines_free(&ls);
    return rc;
}

/* Checks that every field that applies has a value, and that kept values are still valid
 * (the file may have been edited by hand). Returns 0 or 2 after a usage error. */
static int complete(struct cli_ctx *ctx, const struct cli_args *a, const struct cred_provider *p,
                    struct draft *d)
{
    char err[600], tmp[CRED_VALUE_MAX];
    for (int i = 0; i < nfields(p); i++) {
        const struct cred_field *f = &p->fields[i];
        if (f->needs != NULL && !d->set[cred_field(p, f->needs) - p->fields])
            continue;
        if (!d->set[i] && f->required) {
            if (f->secret)
                return cli_usage_error(ctx, a->cmd, "%s needs %s: pipe it to --secret-stdin "
                                                    "(printf '%%s\\n' \"$SECRET\" | cloudya "
                                                    "connect %s --secret-stdin ...)",
                                       p->name, f->key, p->name);
            return cli_usage_error(ctx, a->cmd, "%s needs %s: give it with --params %s=%s", p->name,
                                   f->key, f->key, f->example ? f->example : "...");
        }
        if (d->set[i] && !d->fresh[i]) {
            if (cred_check(p, f, d->value[i], tmp, sizeof(tmp), err, sizeof(err)) != 0)
                return cli_usage_error(ctx, a->cmd, "the stored value is not valid: %s; give a "
                                                    "new one with %s",
                                       err, f->secret ? "--secret-stdin" : "--params");
            str_copy(d->value[i], sizeof(d->value[i]), tmp);
        }
    }
    explicit_bzero(tmp, sizeof(tmp));
    return 0;
}

static int cmd_connect(struct cli_ctx *ctx, const struct cli_args *a)
{
    char path[1200], err[1400];
    json_t *creds = NULL;
    int loose = 0, rc = 0;
    file_path(ctx, path, sizeof(path));
    const struct cred_provider *p = NULL;
    if (a->npos > 0 && (p = cred_provider(a->pos[0])) == NULL)
        return unknown_provider(ctx, a, a->pos[0]);
    const char *const *params;
    if (p == NULL && (cli_has(a, "secret-stdin") || cli_list(a, "params", &params) > 0))
        return cli_usage_error(ctx, a->cmd, "--params and --secret-stdin need a provider");
    if (cred_load(ctx->home, &creds, &loose, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    if (loose)
        warn_loose(ctx, path, p != NULL);
    if (p == NULL) {
        rc = cmd_list(ctx, creds, path);
        json_decref(creds);
        return rc;
    }

    struct draft *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        json_decref(creds);
        return cli_fail(ctx, "out of memory");
    }
    const json_t *old = json_object_get(creds, p->name);
    rc = gather(ctx, a, p, old, d);
    if (rc == 0)
        rc = complete(ctx, a, p, d);
    if (rc != 0)
        goto out;

    /* the new section: the old one (unknown keys kept) with the table's fields replaced */
    json_t *section = json_is_object(old) ? json_deep_copy(old) : json_object();
    for (int i = 0; i < nfields(p); i++) {
        const struct cred_field *f = &p->fields[i];
        int applies = f->needs == NULL || d->set[cred_field(p, f->needs) - p->fields];
        if (applies && d->set[i])
            json_object_set_new(section, f->key, json_string(d->value[i]));
        else
            json_object_del(section, f->key);
    }
    draft_wipe(d);

    struct cred_verification v;
    memset(&v, 0, sizeof(v));
    int verify = !cli_has(a, "no-verify");
    if (verify) {
        char label[128];
        snprintf(label, sizeof(label), "Checking the credentials with %s", p->title);
        spinner_start(label, ctx->tty_err);
        cred_verify(p->name, section, ctx->debug, &v);
        spinner_stop();
    }
    if (verify && v.verdict == CRED_FAILED) {
        if (ctx->json)
            cli_emit(json_pack("{s:s, s:s, s:b, s:o, s:{s:s, s:s}}", "provider", p->name, "file",
                               path, "saved", 0, "fields", fields_json(p, section),
                               "verification", "status", "failed", "message", v.message));
        fprintf(stderr, "%s✗%s refused: %s\n", color_on(ctx->color_err, C_RED),
                color_off(ctx->color_err), v.message);
        rc = cli_fail(ctx, "nothing was saved: %s is unchanged", path);
        json_decref(section);
        goto out;
    }
    json_object_set_new(creds, p->name, section); /* creds owns it now */
    if (cred_save(ctx->home, creds, err, sizeof(err)) != 0) {
        rc = cli_fail(ctx, "%s", err);
        goto out;
    }
    if (ctx->json)
        cli_emit(json_pack("{s:s, s:s, s:b, s:o, s:{s:s, s:s}}", "provider", p->name, "file", path,
                           "saved", 1, "fields", fields_json(p, section), "verification",
                           "status", verdict_name(&v, verify), "message",
                           verify ? v.message : "--no-verify was given"));
    else
        summary(ctx, p, section, path, &v, verify);
out:
    draft_wipe(d);
    free(d);
    json_decref(creds);
    return rc;
}

static const struct cli_flag connect_flags[] = {
    {"params", 'p', CLI_LIST, "K=V,...",
     "set fields without prompts (not secrets), e.g. default_region=eu-west-3", NULL},
    {"secret-stdin", 0, CLI_BOOL, NULL,
     "read the secret field(s) from standard input, one per line, in the order listed above",
     NULL},
    {"no-verify", 0, CLI_BOOL, NULL, "save without asking the provider", NULL},
    {0},
};

const struct cli_command cli_connect_commands[] = {
    {"connect", "DevOps", "[<provider>]", 0, 1, connect_flags,
     "store and check a cloud provider's credentials (no provider: list them)",
     "Providers and their fields (secrets marked *, read without echo or with --secret-stdin):\n"
     "  aws        default_profile [default], default_region [us-east-1], access_key_id,\n"
     "             secret_access_key* (only with access_key_id)\n"
     "  gcp        default_project, credentials_file (a service-account JSON key)\n"
     "  azure      default_subscription (UUID), tenant_id, client_id, client_secret* (only with\n"
     "             client_id)\n"
     "  proxmox    api_url (https://HOST:8006/api2/json; a bare host is completed), token_id\n"
     "             (USER@REALM!NAME), token_secret*, insecure_tls [false]\n"
     "  vmware     server (vCenter host or URL), username, password*, insecure_tls [false]\n"
     "  nutanix    endpoint (Prism Central host or URL, port 9440 by default), username,\n"
     "             password*, insecure_tls [false]\n"
     "  openstack  auth_url (Keystone v3), username, password*, project_name,\n"
     "             user_domain_name [Default], project_domain_name [Default], region\n"
     "\n"
     "On a terminal, every field is asked for, showing the current or default value in\n"
     "brackets (Enter keeps it). With --params only the missing required fields are asked; on\n"
     "no terminal, they must all be given. The credentials are kept in credentials.yaml of the\n"
     "Cloudya folder (mode 0600), then checked the provider's usual way: aws sts\n"
     "get-caller-identity, gcloud projects describe, az account show (when those CLIs are\n"
     "installed), or the APIs of Proxmox, vCenter, Prism Central and Keystone. When the\n"
     "provider refuses them, nothing is saved and the exit status is 1; when they cannot be\n"
     "checked (no CLI, endpoint unreachable), they are saved and the reason is shown.\n"
     "Deployments pass them to Terraform and Ansible in the environment (AWS_*, GOOGLE_*,\n"
     "ARM_*, PM_*, VSPHERE_*, NUTANIX_*, OS_*).",
     "  cloudya connect\n"
     "  cloudya connect aws\n"
     "  cloudya connect aws --params default_profile=prod,default_region=eu-west-3\n"
     "  printf '%s\\n' \"$AWS_SECRET_ACCESS_KEY\" | cloudya connect aws --params "
     "access_key_id=AKIAIOSFODNN7EXAMPLE --secret-stdin\n"
     "  cloudya connect gcp --params default_project=my-project-123,"
     "credentials_file=~/keys/terraform-sa.json\n"
     "  cloudya connect azure --params default_subscription=12345678-1234-1234-1234-123456789012\n"
     "  printf '%s\\n' \"$PVE_TOKEN_SECRET\" | cloudya connect proxmox --params "
     "'api_url=pve.example.com,token_id=root@pam!cloudya' --secret-stdin\n"
     "  printf '%s\\n' \"$VC_PASSWORD\" | cloudya connect vmware --params "
     "server=vcenter.example.com,username=administrator@vsphere.local --secret-stdin\n"
     "  printf '%s\\n' \"$PC_PASSWORD\" | cloudya connect nutanix --params "
     "endpoint=prism.example.com,username=admin,insecure_tls=true --secret-stdin\n"
     "  printf '%s\\n' \"$OS_PASSWORD\" | cloudya connect openstack --params "
     "auth_url=https://keystone.example.com:5000/v3,username=demo,project_name=demo "
     "--secret-stdin\n"
     "  cloudya connect --output json",
     0, 1, CLI_COMPLETE_WORDS, "aws gcp azure proxmox vmware nutanix openstack", cmd_connect},
    {0},
};
