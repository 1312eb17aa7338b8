#define _POSIX_C_SOURCE 200809L
/* The policy file compiled into the structures of validator_int.h. Every key is checked:
 * an unknown key, a wrong type or an unknown level is an error naming the key, so that a
 * typo can never quietly drop a rule. The format is documented in knowledge/policy.yaml. */
#include "validator_int.h"

#include "str.h"
#include "xalloc.h"
#include "yaml_load.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATTERN_MAX 2048  /* bytes in one pattern (alternatives included) or path */
#define REASON_MAX 256    /* bytes in one reason */
#define LIST_MAX 4096     /* entries in one list or map */

/* Where in the file we are, for the sentences. */
struct pctx {
    char where[256];
    char *err;
    size_t errlen;
};

static int bad(const struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(const struct pctx *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    str_fmt(c->err, c->errlen, "policy: %s: %s", c->where, msg);
    return -EINVAL;
}

static void at(struct pctx *c, const struct pctx *parent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A child context: parent's place followed by one more step. */
static void at(struct pctx *c, const struct pctx *parent, const char *fmt, ...)
{
    char step[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(step, sizeof step, fmt, ap);
    va_end(ap);
    c->err = parent->err;
    c->errlen = parent->errlen;
    if (parent->where[0] != '\0')
        str_fmt(c->where, sizeof c->where, "%s.%s", parent->where, step);
    else
        snprintf(c->where, sizeof c->where, "%s", step);
}

/* ---- levels ------------------------------------------------------------------------------- */

static const char *const level_names[] = {"safe", "warning", "dangerous", "forbidden"};

/* The names double as the policy's vocabulary. */
const char *risk_level_name(risk_level r)
{
    if ((unsigned)r >= sizeof level_names / sizeof level_names[0])
        return "unknown";
    return level_names[r];
}

/* Only the four exact names. */
int risk_level_parse(const char *name, risk_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (name != NULL && strcmp(name, level_names[i]) == 0) {
            *out = (risk_level)i;
            return 0;
        }
    return -EINVAL;
}

static int get_level(const struct pctx *c, json_t *v, risk_level *out)
{
    if (!json_is_string(v) || risk_level_parse(json_string_value(v), out) != 0)
        return bad(c, "must be one of safe, warning, dangerous, forbidden");
    return 0;
}

/* ---- scalars ------------------------------------------------------------------------------ */

/* Text of at most max-1 bytes without control characters; numbers are taken as written. */
static int get_text(const struct pctx *c, json_t *v, size_t max, char **out)
{
    char num[32];
    const char *s;
    size_t n;
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        s = num;
        n = strlen(num);
    } else if (json_is_string(v)) {
        s = json_string_value(v);
        n = json_string_length(v);
    } else {
        return bad(c, "must be a string");
    }
    if (n >= max)
        return bad(c, "is longer than %zu bytes", max - 1);
    if (str_has_control(s, n))
        return bad(c, "must not hold control characters");
    *out = xstrndup(s, n);
    return 0;
}

static int get_int(const struct pctx *c, json_t *v, int min, int max, int *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return bad(c, "must be an integer from %d to %d", min, max);
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_bool(const struct pctx *c, json_t *v, int *out)
{
    if (!json_is_boolean(v))
        return bad(c, "must be true or false");
    *out = json_is_true(v);
    return 0;
}

/* ---- patterns ----------------------------------------------------------------------------- */

static void pat_add(vpat *p, const char *s, size_t n)
{
    p->alt = xrealloc(p->alt, (p->n + 1) * sizeof(*p->alt));
    p->alt[p->n++] = xstrndup(s, n);
}

/* "a|b" and lists of them: every alternative becomes one entry. */
static int get_pat(const struct pctx *c, json_t *v, vpat *out)
{
    size_t i;
    json_t *e;
    if (json_is_array(v)) {
        if (json_array_size(v) > LIST_MAX)
            return bad(c, "has more than %d entries", LIST_MAX);
        json_array_foreach(v, i, e) {
            struct pctx ce;
            at(&ce, c, "%zu", i);
            int rc = get_pat(&ce, e, out);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    char *text = NULL;
    int rc = get_text(c, v, PATTERN_MAX, &text);
    if (rc != 0)
        return rc;
    const char *p = text;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (out->n >= LIST_MAX) {
            free(text);
            return bad(c, "has more than %d alternatives", LIST_MAX);
        }
        pat_add(out, p, n);
        if (bar == NULL)
            break;
        p = bar + 1;
    }
    free(text);
    return 0;
}

static void pat_free(vpat *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->alt[i]);
    free(p->alt);
    p->alt = NULL;
    p->n = 0;
}

/* Classic glob with backtracking over the last star; no character classes. */
static int glob_match(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s != '\0') {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == '?' || *p == *s) {
            p++;
            s++;
        } else if (star != NULL) {
            p = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

/* An absent pattern matches nothing; callers test p->n first where absent means "any". */
int vpat_match(const vpat *p, const char *s)
{
    for (size_t i = 0; i < p->n; i++)
        if (glob_match(p->alt[i], s))
            return 1;
    return 0;
}

/* ---- keys --------------------------------------------------------------------------------- */

/* Refuses keys that are not in allowed (NULL-terminated). */
static int only_keys(const struct pctx *c, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        size_t i = 0;
        while (allowed[i] != NULL && strcmp(allowed[i], key) != 0)
            i++;
        if (allowed[i] == NULL)
            return bad(c, "unknown key \"%s\"", key);
    }
    return 0;
}

static int get_paths(const struct pctx *c, json_t *v, char ***out, size_t *n)
{
    size_t i;
    json_t *e;
    if (!json_is_array(v) || json_array_size(v) > LIST_MAX)
        return bad(c, "must be a list of paths");
    json_array_foreach(v, i, e) {
        struct pctx ce;
        char *text = NULL;
        at(&ce, c, "%zu", i);
        int rc = get_text(&ce, e, PATTERN_MAX, &text);
        if (rc != 0)
            return rc;
        if (text[0] != '/' && text[0] != '~') {
            free(text);
            return bad(&ce, "must start with / or ~");
        }
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[*n] = xmalloc(VPATH_MAX);
        vpath_norm(text, strlen(text), "", (*out)[*n]);
        (*n)++;
        free(text);
    }
    return 0;
}

/* ---- sections ----------------------------------------------------------------------------- */

static int load_paths(validator *v, const struct pctx *c, json_t *o)
{
    static const char *const keys[] = {"protected", "writable", "scratch", "roots", NULL};
    const char *key;
    json_t *val;
    struct pctx cc;
    int rc;
    if (!json_is_object(o))
        return bad(c, "must be a mapping");
    if ((rc = only_keys(c, o, keys)) != 0)
        return rc;
    json_t *prot = json_object_get(o, "protected");
    at(&cc, c, "protected");
    if (!json_is_object(prot) || json_object_size(prot) > LIST_MAX)
        return bad(&cc, "must be a mapping of path to reason");
    json_object_foreach(prot, key, val) {
        struct pctx ce;
        char *why = NULL;
        at(&ce, &cc, "%s", key);
        if ((key[0] != '/' && key[0] != '~') || strlen(key) >= PATTERN_MAX)
            return bad(&ce, "must be a path starting with / or ~");
        if ((rc = get_text(&ce, val, REASON_MAX, &why)) != 0)
            return rc;
        v->protected_paths = xrealloc(v->protected_paths,
                                      (v->nprotected + 1) * sizeof(*v->protected_paths));
        vpathrule *pr = &v->protected_paths[v->nprotected++];
        pr->path = xmalloc(VPATH_MAX);
        vpath_norm(key, strlen(key), "", pr->path);
        pr->why = why;
    }
    at(&cc, c, "writable");
    if ((rc = get_paths(&cc, json_object_get(o, "writable"), &v->writable, &v->nwritable)))
        return rc;
    at(&cc, c, "scratch");
    if ((rc = get_paths(&cc, json_object_get(o, "scratch"), &v->scratch, &v->nscratch)))
        return rc;
    at(&cc, c, "roots");
    return get_paths(&cc, json_object_get(o, "roots"), &v->roots, &v->nroots);
}

static int load_interps(validator *v, const struct pctx *c, json_t *o)
{
    static const char *const keys[] = {"names", "inline", "module", "value_options", NULL};
    const char *key;
    json_t *val;
    if (!json_is_object(o) || json_object_size(o) > LIST_MAX)
        return bad(c, "must be a mapping");
    json_object_foreach(o, key, val) {
        struct pctx ce, cf;
        int rc;
        at(&ce, c, "%s", key);
        if (!json_is_object(val))
            return bad(&ce, "must be a mapping");
        if ((rc = only_keys(&ce, val, keys)) != 0)
            return rc;
        v->interps = xrealloc(v->interps, (v->ninterps + 1) * sizeof(*v->interps));
        vinterp *ip = &v->interps[v->ninterps++];
        memset(ip, 0, sizeof *ip);
        ip->lang = xstrdup(key);
        at(&cf, &ce, "names");
        if ((rc = get_pat(&cf, json_object_get(val, "names"), &ip->names)) != 0)
            return rc;
        at(&cf, &ce, "inline");
        if (json_object_get(val, "inline") &&
            (rc = get_pat(&cf, json_object_get(val, "inline"), &ip->inline_opts)) != 0)
            return rc;
        at(&cf, &ce, "module");
        if (json_object_get(val, "module") &&
            (rc = get_pat(&cf, json_object_get(val, "module"), &ip->module_opts)) != 0)
            return rc;
        at(&cf, &ce, "value_options");
        if (json_object_get(val, "value_options") &&
            (rc = get_pat(&cf, json_object_get(val, "value_options"), &ip->value_options)))
            return rc;
    }
    return 0;
}

static int load_denied(validator *v, const struct pctx *c, json_t *o)
{
    const char *key;
    json_t *val;
    if (!json_is_object(o) || json_object_size(o) > LIST_MAX)
        return bad(c, "must be a mapping of program to reason");
    json_object_foreach(o, key, val) {
        struct pctx ce;
        int rc;
        at(&ce, c, "%s", key);
        v->denied = xrealloc(v->denied, (v->ndenied + 1) * sizeof(*v->denied));
        vnamed *d = &v->denied[v->ndenied++];
        memset(d, 0, sizeof *d);
        d->level = RISK_FORBIDDEN;
        json_t *k = json_string(key);
        rc = get_pat(&ce, k, &d->name);
        json_decref(k);
        if (rc != 0 || (rc = get_text(&ce, val, REASON_MAX, &d->reason)) != 0)
            return rc;
    }
    return 0;
}

static int load_assigns(validator *v, const struct pctx *c, json_t *a)
{
    static const char *const keys[] = {"name", "value", "except", "level", "reason", NULL};
    size_t i;
    json_t *e;
    if (!json_is_array(a) || json_array_size(a) > LIST_MAX)
        return bad(c, "must be a list");
    json_array_foreach(a, i, e) {
        struct pctx ce, cf;
        int rc;
        at(&ce, c, "%zu", i);
        if (!json_is_object(e))
            return bad(&ce, "must be a mapping");
        if ((rc = only_keys(&ce, e, keys)) != 0)
            return rc;
        v->assigns = xrealloc(v->assigns, (v->nassigns + 1) * sizeof(*v->assigns));
        vnamed *d = &v->assigns[v->nassigns++];
        memset(d, 0, sizeof *d);
        at(&cf, &ce, "name");
        if ((rc = get_pat(&cf, json_object_get(e, "name"), &d->name)) != 0)
            return rc;
        at(&cf, &ce, "value");
        if (json_object_get(e, "value") &&
            (rc = get_pat(&cf, json_object_get(e, "value"), &d->value)) != 0)
            return rc;
        at(&cf, &ce, "except");
        if (json_object_get(e, "except") &&
            (rc = get_pat(&cf, json_object_get(e, "except"), &d->except)) != 0)
            return rc;
        at(&cf, &ce, "level");
        if ((rc = get_level(&cf, json_object_get(e, "level"), &d->level)) != 0)
            return rc;
        at(&cf, &ce, "reason");
        if ((rc = get_text(&cf, json_object_get(e, "reason"), REASON_MAX, &d->reason)) != 0)
            return rc;
    }
    return 0;
}

/* Optional pattern key. */
static int opt_pat(const struct pctx *c, json_t *o, const char *key, vpat *out)
{
    json_t *v = json_object_get(o, key);
    struct pctx cc;
    if (v == NULL)
        return 0;
    at(&cc, c, "%s", key);
    return get_pat(&cc, v, out);
}

static int load_wrapper(vwrapper *w, const struct pctx *c, const char *name, json_t *o)
{
    static const char *const keys[] = {"level", "reason", "value_options", "describe",
                                       "command_options", "output_options", "skip_operands",
                                       "assignments", "stdin_args", "default", NULL};
    struct pctx cc;
    int rc;
    memset(w, 0, sizeof *w);
    w->name = xstrdup(name);
    if (!json_is_object(o))
        return bad(c, "must be a mapping");
    if ((rc = only_keys(c, o, keys)) != 0)
        return rc;
    at(&cc, c, "level");
    if ((rc = get_level(&cc, json_object_get(o, "level"), &w->level)) != 0)
        return rc;
    at(&cc, c, "reason");
    if (json_object_get(o, "reason") != NULL &&
        (rc = get_text(&cc, json_object_get(o, "reason"), REASON_MAX, &w->reason)) != 0)
        return rc;
    if ((rc = opt_pat(c, o, "value_options", &w->value_options)) != 0 ||
        (rc = opt_pat(c, o, "describe", &w->describe)) != 0 ||
        (rc = opt_pat(c, o, "command_options", &w->command_options)) != 0 ||
        (rc = opt_pat(c, o, "output_options", &w->output_options)) != 0)
        return rc;
    at(&cc, c, "skip_operands");
    if (json_object_get(o, "skip_operands") != NULL &&
        (rc = get_int(&cc, json_object_get(o, "skip_operands"), 0, 8, &w->skip_operands)))
        return rc;
    at(&cc, c, "assignments");
    if (json_object_get(o, "assignments") != NULL &&
        (rc = get_bool(&cc, json_object_get(o, "assignments"), &w->assignments)) != 0)
        return rc;
    at(&cc, c, "stdin_args");
    if (json_object_get(o, "stdin_args") != NULL &&
        (rc = get_bool(&cc, json_object_get(o, "stdin_args"), &w->stdin_args)) != 0)
        return rc;
    at(&cc, c, "default");
    if (json_object_get(o, "default") != NULL &&
        (rc = get_text(&cc, json_object_get(o, "default"), PATTERN_MAX, &w->default_program)))
        return rc;
    if (w->level != RISK_SAFE && w->reason == NULL)
        return bad(c, "a level above safe needs a reason");
    return 0;
}

static int load_rule(vrule *r, const struct pctx *c, json_t *o)
{
    static const char *const keys[] = {"sub", "flags", "all_flags", "args", "pos_any",
                                       "optval", "max_pos", "level", "reason", NULL};
    struct pctx cc;
    int rc;
    size_t i;
    json_t *e;
    memset(r, 0, sizeof *r);
    r->max_pos = -1;
    if (!json_is_object(o))
        return bad(c, "must be a mapping");
    if ((rc = only_keys(c, o, keys)) != 0)
        return rc;
    json_t *sub = json_object_get(o, "sub");
    if (sub != NULL) {
        at(&cc, c, "sub");
        if (!json_is_array(sub) || json_array_size(sub) == 0 || json_array_size(sub) > 8)
            return bad(&cc, "must be a list of 1 to 8 patterns");
        r->sub = xcalloc(json_array_size(sub), sizeof(*r->sub));
        r->nsub = json_array_size(sub);
        json_array_foreach(sub, i, e) {
            struct pctx ce;
            at(&ce, &cc, "%zu", i);
            if (json_is_array(e))
                return bad(&ce, "must be one pattern (use a|b for alternatives)");
            if ((rc = get_pat(&ce, e, &r->sub[i])) != 0)
                return rc;
        }
    }
    if ((rc = opt_pat(c, o, "flags", &r->flags)) != 0 ||
        (rc = opt_pat(c, o, "all_flags", &r->all_flags)) != 0 ||
        (rc = opt_pat(c, o, "args", &r->args)) != 0 ||
        (rc = opt_pat(c, o, "pos_any", &r->pos_any)) != 0)
        return rc;
    json_t *ov = json_object_get(o, "optval");
    if (ov != NULL) {
        at(&cc, c, "optval");
        if (!json_is_array(ov) || json_array_size(ov) != 2)
            return bad(&cc, "must be [option names, value pattern]");
        if ((rc = get_pat(&cc, json_array_get(ov, 0), &r->optval_name)) != 0 ||
            (rc = get_pat(&cc, json_array_get(ov, 1), &r->optval_value)) != 0)
            return rc;
    }
    at(&cc, c, "max_pos");
    if (json_object_get(o, "max_pos") != NULL &&
        (rc = get_int(&cc, json_object_get(o, "max_pos"), 0, 64, &r->max_pos)) != 0)
        return rc;
    at(&cc, c, "level");
    if ((rc = get_level(&cc, json_object_get(o, "level"), &r->level)) != 0)
        return rc;
    at(&cc, c, "reason");
    if (json_object_get(o, "reason") != NULL &&
        (rc = get_text(&cc, json_object_get(o, "reason"), REASON_MAX, &r->reason)) != 0)
        return rc;
    if (r->level != RISK_SAFE && r->reason == NULL)
        return bad(c, "a level above safe needs a reason");
    return 0;
}

static const char *const check_names[] = {
    [VCHECK_NONE] = "none",     [VCHECK_DELETE] = "delete", [VCHECK_WRITE] = "write",
    [VCHECK_COPY] = "copy",     [VCHECK_MOVE] = "move",     [VCHECK_CHMOD] = "chmod",
    [VCHECK_CHOWN] = "chown",   [VCHECK_DD] = "dd",         [VCHECK_FIND] = "find",
    [VCHECK_SED] = "sed",       [VCHECK_AWK] = "awk",       [VCHECK_KILL] = "kill",
    [VCHECK_DOCKER] = "docker", [VCHECK_TAR] = "tar",       [VCHECK_SOURCE] = "source",
    [VCHECK_ALIAS] = "alias",   [VCHECK_ASSIGNING] = "assigning", [VCHECK_CD] = "cd",
    [VCHECK_DOWNLOAD] = "download",
};

static int load_program(vprogram *p, const struct pctx *c, const char *name, json_t *o)
{
    static const char *const keys[] = {
        "level", "reason", "value_options", "clusters", "output_options", "command_options",
        "command_operand", "command_from", "argv_after_dashdash", "check", "rules", NULL};
    struct pctx cc;
    int rc;
    size_t i;
    json_t *e;
    memset(p, 0, sizeof *p);
    p->name = xstrdup(name);
    p->clusters = 1;
    p->command_operand = -1;
    p->command_from = -1;
    if (json_is_string(o)) /* shorthand: `ls: safe` */
        return get_level(c, o, &p->level);
    if (!json_is_object(o))
        return bad(c, "must be a level or a mapping");
    if ((rc = only_keys(c, o, keys)) != 0)
        return rc;
    at(&cc, c, "level");
    if ((rc = get_level(&cc, json_object_get(o, "level"), &p->level)) != 0)
        return rc;
    at(&cc, c, "reason");
    if (json_object_get(o, "reason") != NULL &&
        (rc = get_text(&cc, json_object_get(o, "reason"), REASON_MAX, &p->reason)) != 0)
        return rc;
    if (p->level != RISK_SAFE && p->reason == NULL)
        return bad(c, "a level above safe needs a reason");
    if ((rc = opt_pat(c, o, "value_options", &p->value_options)) != 0 ||
        (rc = opt_pat(c, o, "output_options", &p->output_options)) != 0 ||
        (rc = opt_pat(c, o, "command_options", &p->command_options)) != 0)
        return rc;
    at(&cc, c, "clusters");
    if (json_object_get(o, "clusters") != NULL &&
        (rc = get_bool(&cc, json_object_get(o, "clusters"), &p->clusters)) != 0)
        return rc;
    at(&cc, c, "argv_after_dashdash");
    if (json_object_get(o, "argv_after_dashdash") != NULL &&
        (rc = get_bool(&cc, json_object_get(o, "argv_after_dashdash"),
                       &p->argv_after_dashdash)) != 0)
        return rc;
    at(&cc, c, "command_operand");
    if (json_object_get(o, "command_operand") != NULL &&
        (rc = get_int(&cc, json_object_get(o, "command_operand"), 0, 16, &p->command_operand)))
        return rc;
    at(&cc, c, "command_from");
    if (json_object_get(o, "command_from") != NULL &&
        (rc = get_int(&cc, json_object_get(o, "command_from"), 0, 16, &p->command_from)))
        return rc;
    json_t *chk = json_object_get(o, "check");
    if (chk != NULL) {
        at(&cc, c, "check");
        size_t k = 0;
        while (k < sizeof check_names / sizeof check_names[0] &&
               (!json_is_string(chk) || strcmp(check_names[k], json_string_value(chk)) != 0))
            k++;
        if (k == sizeof check_names / sizeof check_names[0])
            return bad(&cc, "is not a known check");
        p->check = (vcheck)k;
    }
    json_t *rules = json_object_get(o, "rules");
    if (rules == NULL)
        return 0;
    at(&cc, c, "rules");
    if (!json_is_array(rules) || json_array_size(rules) > LIST_MAX)
        return bad(&cc, "must be a list");
    p->rules = xcalloc(json_array_size(rules) + 1, sizeof(*p->rules));
    json_array_foreach(rules, i, e) {
        struct pctx ce;
        at(&ce, &cc, "%zu", i);
        p->nrules++;
        if ((rc = load_rule(&p->rules[i], &ce, e)) != 0)
            return rc;
    }
    return 0;
}

static int by_program_name(const void *a, const void *b)
{
    return strcmp(((const vprogram *)a)->name, ((const vprogram *)b)->name);
}

static int by_wrapper_name(const void *a, const void *b)
{
    return strcmp(((const vwrapper *)a)->name, ((const vwrapper *)b)->name);
}

static int load_map(validator *v, const struct pctx *c, json_t *o, int wrappers)
{
    const char *key;
    json_t *val;
    if (!json_is_object(o) || json_object_size(o) > LIST_MAX)
        return bad(c, "must be a mapping");
    size_t n = json_object_size(o);
    if (wrappers)
        v->wrappers = xcalloc(n + 1, sizeof(*v->wrappers));
    else
        v->programs = xcalloc(n + 1, sizeof(*v->programs));
    json_object_foreach(o, key, val) {
        struct pctx ce;
        int rc;
        at(&ce, c, "%s", key);
        if (key[0] == '\0' || strlen(key) >= VNAME_MAX || strchr(key, '/') != NULL)
            return bad(&ce, "must be a program name (no /)");
        if (wrappers)
            rc = load_wrapper(&v->wrappers[v->nwrappers++], &ce, key, val);
        else
            rc = load_program(&v->programs[v->nprograms++], &ce, key, val);
        if (rc != 0)
            return rc;
    }
    if (wrappers)
        qsort(v->wrappers, v->nwrappers, sizeof(*v->wrappers), by_wrapper_name);
    else
        qsort(v->programs, v->nprograms, sizeof(*v->programs), by_program_name);
    return 0;
}

/* ---- entry points ------------------------------------------------------------------------- */

static int compile(validator *v, json_t *root, char *err, size_t errlen)
{
    static const char *const keys[] = {"version", "paths", "shells", "downloaders",
                                       "decoders", "interpreters", "denied", "assignments",
                                       "wrappers", "programs", NULL};
    struct pctx top = {"", err, errlen}, c;
    int rc;
    snprintf(top.where, sizeof top.where, "top");
    if (!json_is_object(root))
        return bad(&top, "the policy must be a mapping");
    if ((rc = only_keys(&top, root, keys)) != 0)
        return rc;
    top.where[0] = '\0';
    at(&c, &top, "version");
    json_t *ver = json_object_get(root, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1)
        return bad(&c, "must be 1");
    at(&c, &top, "paths");
    if ((rc = load_paths(v, &c, json_object_get(root, "paths"))) != 0)
        return rc;
    static const char *const lists[] = {"shells", "downloaders", "decoders"};
    vpat *pats[] = {&v->shells, &v->downloaders, &v->decoders};
    for (size_t i = 0; i < 3; i++) {
        at(&c, &top, "%s", lists[i]);
        if ((rc = get_pat(&c, json_object_get(root, lists[i]), pats[i])) != 0)
            return rc;
    }
    at(&c, &top, "interpreters");
    if ((rc = load_interps(v, &c, json_object_get(root, "interpreters"))) != 0)
        return rc;
    at(&c, &top, "denied");
    if ((rc = load_denied(v, &c, json_object_get(root, "denied"))) != 0)
        return rc;
    at(&c, &top, "assignments");
    if ((rc = load_assigns(v, &c, json_object_get(root, "assignments"))) != 0)
        return rc;
    at(&c, &top, "wrappers");
    if ((rc = load_map(v, &c, json_object_get(root, "wrappers"), 1)) != 0)
        return rc;
    at(&c, &top, "programs");
    return load_map(v, &c, json_object_get(root, "programs"), 0);
}

/* Compiles into a fresh validator; on failure everything built so far is freed. */
int validator_from_json(json_t *policy, validator **out, char *err, size_t errlen)
{
    if (out == NULL)
        return -EINVAL;
    *out = NULL;
    validator *v = xcalloc(1, sizeof *v);
    int rc = compile(v, policy, err, errlen);
    if (rc != 0) {
        validator_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* The file goes through the YAML loader with the policy's own size limit. */
int validator_load(const char *path, validator **out, char *err, size_t errlen)
{
    yaml_limits lim = {VALIDATOR_POLICY_MAX_BYTES, 16, 200000};
    json_t *root = NULL;
    char yerr[256] = "";
    if (out == NULL || path == NULL)
        return -EINVAL;
    *out = NULL;
    int rc = yaml_load_file(path, &lim, &root, yerr, sizeof yerr);
    if (rc != 0) {
        str_fmt(err, errlen, "%s", yerr);
        return rc;
    }
    char perr[384] = "";
    rc = validator_from_json(root, out, perr, sizeof perr);
    json_decref(root);
    if (rc != 0)
        str_fmt(err, errlen, "%s: %s", path, perr);
    return rc;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_named(vnamed *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pat_free(&d[i].name);
        pat_free(&d[i].value);
        pat_free(&d[i].except);
        free(d[i].reason);
    }
    free(d);
}

/* Partly built validators (a failed load) are freed the same way. */
void validator_free(validator *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->nprotected; i++) {
        free(v->protected_paths[i].path);
        free(v->protected_paths[i].why);
    }
    free(v->protected_paths);
    free_strs(v->writable, v->nwritable);
    free_strs(v->scratch, v->nscratch);
    free_strs(v->roots, v->nroots);
    pat_free(&v->shells);
    pat_free(&v->downloaders);
    pat_free(&v->decoders);
    for (size_t i = 0; i < v->ninterps; i++) {
        vinterp *ip = &v->interps[i];
        pat_free(&ip->names);
        pat_free(&ip->inline_opts);
        pat_free(&ip->module_opts);
        pat_free(&ip->value_options);
        free(ip->lang);
    }
    free(v->interps);
    free_named(v->denied, v->ndenied);
    free_named(v->assigns, v->nassigns);
    for (size_t i = 0; i < v->nwrappers; i++) {
        vwrapper *w = &v->wrappers[i];
        free(w->name);
        free(w->reason);
        free(w->default_program);
        pat_free(&w->value_options);
        pat_free(&w->describe);
        pat_free(&w->command_options);
        pat_free(&w->output_options);
    }
    free(v->wrappers);
    for (size_t i = 0; i < v->nprograms; i++) {
        vprogram *p = &v->programs[i];
        free(p->name);
        free(p->reason);
        pat_free(&p->value_options);
        pat_free(&p->output_options);
        pat_free(&p->command_options);
        for (size_t k = 0; k < p->nrules; k++) {
            vrule *r = &p->rules[k];
            for (size_t j = 0; j < r->nsub; j++)
                pat_free(&r->sub[j]);
            free(r->sub);
            pat_free(&r->flags);
            pat_free(&r->all_flags);
            pat_free(&r->args);
            pat_free(&r->pos_any);
            pat_free(&r->optval_name);
            pat_free(&r->optval_value);
            free(r->reason);
        }
        free(p->rules);
    }
    free(v->programs);
    free(v);
}

/* bsearch over the sorted table. */
const vprogram *validator_program_find(const validator *v, const char *name)
{
    vprogram key = {.name = (char *)name};
    return bsearch(&key, v->programs, v->nprograms, sizeof(*v->programs), by_program_name);
}

/* Returns the wrapper named name, or NULL. */
const vwrapper *validator_wrapper_find(const validator *v, const char *name)
{
    vwrapper key = {.name = (char *)name};
    return bsearch(&key, v->wrappers, v->nwrappers, sizeof(*v->wrappers), by_wrapper_name);
}
