#define _POSIX_C_SOURCE 200809L
/* The validator's walk (see validator.h): text -> simple commands (shell_lex) -> for each:
 * network devices, assignments, redirections, then the words: program name checks, denied
 * programs, wrappers (unwrapped and walked again), shells and interpreters (classified by
 * what they would run), allowed programs (rules, written files, command strings, the
 * analysis the policy names), and the rest ("not in the allow list"). Paths are normalized
 * here too. Nothing here writes to the validator: one can serve many threads. */
#include "validator_int.h"

#include "str.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOWN_MAX 160    /* bytes of a part quoted in a reason */

static char input_text[] = "{input}";
/* What xargs appends and find substitutes: known only when the command runs. */
static const shell_word input_word = {input_text, 7, SHELL_WORD_PARAM, 0, 0, 1};

/* ---- findings ------------------------------------------------------------------------------ */

/* Copies at most cap-1 bytes without cutting a UTF-8 sequence; 1 when src was cut. */
static int clip(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    int cut = n >= cap;
    if (cut) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return cut;
}

/* The reason quotes the command being checked; the part is that command. */
void vrun_note(struct vrun *r, risk_level level, const char *fmt, ...)
{
    char why[VALIDATOR_REASON_MAX], shown[SHOWN_MAX + 4];
    va_list ap;
    if (level == RISK_SAFE || (level <= r->level && r->reason[0] != '\0'))
        return;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    const char *raw = r->cmd != NULL && r->cmd->raw != NULL ? r->cmd->raw : r->fallback;
    if (clip(shown, SHOWN_MAX, raw != NULL ? raw : ""))
        memcpy(shown + strlen(shown), "...", 4);
    for (char *p = shown; *p != '\0'; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    str_fmt(r->reason, sizeof r->reason, "`%s` %s", shown, why);
    clip(r->part, sizeof r->part, raw != NULL ? raw : "");
    r->level = level;
}

/* ---- options -------------------------------------------------------------------------------- */

static vitem *item_add(vitems *it)
{
    if (it->n >= VITEMS_MAX) {
        it->overflow = 1;
        return NULL;
    }
    if (it->n == it->cap) {
        it->cap = it->cap ? it->cap * 2 : 16;
        it->v = xrealloc(it->v, it->cap * sizeof(*it->v));
    }
    vitem *x = &it->v[it->n++];
    memset(x, 0, sizeof *x);
    return x;
}

static void item_name(vitem *x, const char *s, size_t n)
{
    if (n >= sizeof x->name)
        n = sizeof x->name - 1;
    memcpy(x->name, s, n);
    x->name[n] = '\0';
}

static int pat_has(const vpat *p, const char *s)
{
    return p != NULL && vpat_match(p, s);
}

/* GNU-style: options anywhere (unless stop), -- ends them, values attached or next. */
void vitems_parse(vitems *it, const shell_word *const *argv, size_t n, const vpat *value_opts,
                  int clusters, int stop)
{
    memset(it, 0, sizeof *it);
    int opts = 1;
    for (size_t i = 1; i < n; i++) {
        const shell_word *w = argv[i];
        const char *t = w->text;
        vitem *x;
        if (opts && strcmp(t, "--") == 0) {
            opts = 0;
            it->dashdash = i + 1;
            continue;
        }
        if (!opts || t[0] != '-' || t[1] == '\0') {
            if ((x = item_add(it)) == NULL)
                return;
            x->kind = VITEM_OPERAND;
            x->word = w;
            x->index = i;
            it->nops++;
            if (stop)
                opts = 0;
            continue;
        }
        if (t[1] == '-' || !clusters) {
            const char *eq = strchr(t, '=');
            size_t nl = eq != NULL ? (size_t)(eq - t) : strlen(t);
            if ((x = item_add(it)) == NULL)
                return;
            x->kind = VITEM_OPT;
            x->word = w;
            x->index = i;
            item_name(x, t, nl);
            if (eq != NULL) {
                x->value = eq + 1;
                x->value_len = strlen(eq + 1);
            } else if (pat_has(value_opts, x->name) && i + 1 < n) {
                x->value_word = argv[++i];
                x->value = x->value_word->text;
                x->value_len = x->value_word->len;
            }
            continue;
        }
        for (size_t j = 1; t[j] != '\0'; j++) {
            char nm[3] = {'-', t[j], '\0'};
            if ((x = item_add(it)) == NULL)
                return;
            x->kind = VITEM_OPT;
            x->word = w;
            x->index = i;
            item_name(x, nm, 2);
            if (pat_has(value_opts, nm)) {
                if (t[j + 1] != '\0') {
                    x->value = t + j + 1;
                    x->value_len = strlen(t + j + 1);
                } else if (i + 1 < n) {
                    x->value_word = argv[++i];
                    x->value = x->value_word->text;
                    x->value_len = x->value_word->len;
                }
                break;
            }
        }
    }
}

/* The items own only their array; the words stay the caller's. */
void vitems_free(vitems *it)
{
    free(it->v);
    it->v = NULL;
    it->n = it->cap = 0;
}

/* Operands are counted in order, options skipped. Returns the item or NULL. */
const vitem *vitems_operand(const vitems *it, size_t k)
{
    for (size_t i = 0; i < it->n; i++)
        if (it->v[i].kind == VITEM_OPERAND && k-- == 0)
            return &it->v[i];
    return NULL;
}

/* Single-dash long names (-delete) are compared with the whole word. */
static int item_is(const vitem *x, const char *name, int abbrev)
{
    if (name[0] != '-')
        return 0;
    if (name[1] != '-' && name[1] != '\0' && name[2] != '\0') {
        const char *t = x->word->text, *eq = strchr(t, '=');
        size_t n = eq != NULL ? (size_t)(eq - t) : strlen(t);
        return strlen(name) == n && strncmp(t, name, n) == 0;
    }
    if (strcmp(x->name, name) == 0)
        return 1;
    size_t n = strlen(x->name);
    return abbrev && name[1] == '-' && x->name[1] == '-' && n >= 4 && n < strlen(name) &&
           strncmp(name, x->name, n) == 0;
}

/* Returns 1 when an option named name is present (see item_is), else 0. */
int vitems_has_name(const vitems *it, const char *name, int abbrev)
{
    for (size_t i = 0; i < it->n; i++)
        if (it->v[i].kind == VITEM_OPT && item_is(&it->v[i], name, abbrev))
            return 1;
    return 0;
}

/* Returns 1 when one of p's alternatives is present as an option, else 0. */
int vitems_has(const vitems *it, const vpat *p, int abbrev)
{
    for (size_t k = 0; k < p->n; k++)
        if (vitems_has_name(it, p->alt[k], abbrev))
            return 1;
    return 0;
}

/* names is "a|b" without globs. Returns the first option item named so, or NULL. */
const vitem *vitems_opt(const vitems *it, const char *names)
{
    char one[VNAME_MAX];
    const char *p = names;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (n < sizeof one) {
            memcpy(one, p, n);
            one[n] = '\0';
            for (size_t i = 0; i < it->n; i++)
                if (it->v[i].kind == VITEM_OPT && item_is(&it->v[i], one, 0))
                    return &it->v[i];
        }
        if (bar == NULL)
            return NULL;
        p = bar + 1;
    }
}

/* ---- command strings ------------------------------------------------------------------------ */

static void check_text(struct vrun *r, const char *text, size_t len);

/* The inner commands are checked with their own parts; the depth is bounded. */
void vrun_string(struct vrun *r, const char *text, size_t len, const char *what)
{
    if (r->depth >= VALIDATOR_NEST_MAX) {
        vrun_note(r, RISK_FORBIDDEN, "nests command strings (%s) too deeply to check", what);
        return;
    }
    const shell_script *s = r->script;
    const shell_cmd *c = r->cmd;
    const char *fb = r->fallback;
    r->depth++;
    check_text(r, text, len);
    r->depth--;
    r->script = s;
    r->cmd = c;
    r->fallback = fb;
}

/* A word only known at run time cannot be checked, so it is forbidden. */
void vrun_string_word(struct vrun *r, const shell_word *w, const char *what)
{
    if (!shell_word_is_literal(w)) {
        vrun_note(r, RISK_FORBIDDEN, "runs a command string (%s) known only at run time: %s",
                  what, w->text);
        return;
    }
    vrun_string(r, w->text, w->len, what);
}

/* ---- assignments ---------------------------------------------------------------------------- */

/* name is NAME (n bytes), value the text after = (NULL when only named). */
static void check_assign(struct vrun *r, const char *name, size_t n, const char *value,
                         const char *program)
{
    char nm[VNAME_MAX];
    if (n >= sizeof nm)
        n = sizeof nm - 1;
    memcpy(nm, name, n);
    nm[n] = '\0';
    for (size_t i = 0; i < r->v->nassigns; i++) {
        const vnamed *a = &r->v->assigns[i];
        if (!vpat_match(&a->name, nm))
            continue;
        if (a->value.n > 0 && (value == NULL || !vpat_match(&a->value, value)))
            continue;
        if (a->except.n > 0 && program != NULL && vpat_match(&a->except, program))
            continue;
        vrun_note(r, a->level, "sets %s: %s", nm, a->reason);
    }
}

static void check_assign_word(struct vrun *r, const shell_word *w, const char *program)
{
    size_t nl = 0;
    if (!shell_word_is_assignment(w, &nl))
        return;
    const char *eq = w->text + nl + (w->text[nl] == '+' ? 1 : 0);
    check_assign(r, w->text, nl, eq + 1, program);
}

/* export, declare...: NAME=value after quote removal, or NAME alone. */
void vrun_assign_text(struct vrun *r, const char *text)
{
    size_t n = 0;
    if (!((text[0] >= 'a' && text[0] <= 'z') || (text[0] >= 'A' && text[0] <= 'Z') ||
          text[0] == '_'))
        return;
    while ((text[n] >= 'a' && text[n] <= 'z') || (text[n] >= 'A' && text[n] <= 'Z') ||
           (text[n] >= '0' && text[n] <= '9') || text[n] == '_')
        n++;
    if (text[n] == '=')
        check_assign(r, text, n, text + n + 1, NULL);
    else if (text[n] == '+' && text[n + 1] == '=')
        check_assign(r, text, n, text + n + 2, NULL);
}

/* ---- programs ------------------------------------------------------------------------------- */

/* Returns the text after the last '/' (the whole text without one). */
const char *vbasename(const char *text)
{
    const char *slash = strrchr(text, '/');
    return slash != NULL ? slash + 1 : text;
}

static int rule_matches(const vrule *ru, const vitems *it, const shell_word *const *argv,
                        size_t n)
{
    int abbrev = ru->level > RISK_SAFE;
    for (size_t k = 0; k < ru->nsub; k++) {
        const vitem *op = vitems_operand(it, k);
        if (op == NULL || !vpat_match(&ru->sub[k], op->word->text))
            return 0;
    }
    if (ru->flags.n > 0 && !vitems_has(it, &ru->flags, abbrev))
        return 0;
    for (size_t k = 0; k < ru->all_flags.n; k++)
        if (!vitems_has_name(it, ru->all_flags.alt[k], abbrev))
            return 0;
    if (ru->args.n > 0) {
        size_t i = 1;
        while (i < n && !vpat_match(&ru->args, argv[i]->text))
            i++;
        if (i == n)
            return 0;
    }
    if (ru->pos_any.n > 0) {
        size_t i = 0;
        while (i < it->n && !(it->v[i].kind == VITEM_OPERAND &&
                              vpat_match(&ru->pos_any, it->v[i].word->text)))
            i++;
        if (i == it->n)
            return 0;
    }
    if (ru->optval_name.n > 0) {
        size_t i = 0;
        while (i < it->n && !(it->v[i].kind == VITEM_OPT && it->v[i].value != NULL &&
                              vpat_match(&ru->optval_name, it->v[i].name) &&
                              vpat_match(&ru->optval_value, it->v[i].value)))
            i++;
        if (i == it->n)
            return 0;
    }
    return ru->max_pos < 0 || it->nops <= (size_t)ru->max_pos;
}

/* An option's value as a word of its own: attached values share the flags of their word. */
static void value_word(const vitem *x, shell_word *tmp)
{
    if (x->value_word != NULL) {
        *tmp = *x->value_word;
        return;
    }
    size_t off = (size_t)(x->value - x->word->text);
    *tmp = *x->word;
    tmp->text = (char *)x->value;
    tmp->len = x->value_len;
    tmp->literal_len = x->word->literal_len > off ? x->word->literal_len - off : 0;
    tmp->unquoted_len = 0;
    if (!(x->word->flags & SHELL_WORD_EXPANDS))
        tmp->literal_len = tmp->len;
    tmp->flags &= ~SHELL_WORD_TILDE;
    if (tmp->len > 0 && tmp->text[0] == '~' && x->word->unquoted_len > off)
        tmp->flags |= SHELL_WORD_TILDE;
}

static void check_program(struct vrun *r, const vprogram *p, const shell_word *const *argv,
                          size_t n)
{
    vitems it;
    shell_word tmp;
    vitems_parse(&it, argv, n, &p->value_options, p->clusters, 0);
    if (it.overflow) {
        vrun_note(r, RISK_FORBIDDEN, "has too many options to check");
        vitems_free(&it);
        return;
    }
    risk_level level = p->level;
    const char *why = p->reason;
    for (size_t i = 0; i < p->nrules; i++)
        if (rule_matches(&p->rules[i], &it, argv, n)) {
            level = p->rules[i].level;
            why = p->rules[i].reason;
            break;
        }
    if (level > RISK_SAFE)
        vrun_note(r, level, "%s", why != NULL ? why : "is not safe");
    for (size_t i = 0; i < it.n; i++) {
        const vitem *x = &it.v[i];
        if (x->kind != VITEM_OPT || x->value == NULL)
            continue;
        if (p->output_options.n > 0 && vpat_match(&p->output_options, x->name)) {
            value_word(x, &tmp);
            vrun_write(r, &tmp, "writes to");
        }
        if (p->command_options.n > 0 && vpat_match(&p->command_options, x->name)) {
            value_word(x, &tmp);
            vrun_string_word(r, &tmp, x->name);
        }
    }
    if (p->command_operand >= 0) {
        const vitem *op = vitems_operand(&it, (size_t)p->command_operand);
        if (op != NULL)
            vrun_string_word(r, op->word, p->name);
    }
    if (p->command_from >= 0 && it.nops > (size_t)p->command_from) {
        char *joined = xmalloc(SHELL_LEX_INPUT_MAX + 1);
        size_t len = 0;
        for (size_t k = (size_t)p->command_from; k < it.nops; k++) {
            const shell_word *w = vitems_operand(&it, k)->word;
            if (!shell_word_is_literal(w)) {
                vrun_note(r, RISK_FORBIDDEN, "runs a command known only at run time (%s)",
                          w->text);
                break;
            }
            if (len + w->len + 1 >= SHELL_LEX_INPUT_MAX + 1) {
                vrun_note(r, RISK_FORBIDDEN, "runs a command too long to check");
                break;
            }
            if (len > 0)
                joined[len++] = ' ';
            memcpy(joined + len, w->text, w->len);
            len += w->len;
        }
        joined[len] = '\0';
        vrun_string(r, joined, len, p->name);
        free(joined);
    }
    if (p->argv_after_dashdash && it.dashdash > 0 && it.dashdash < n)
        vrun_argv(r, argv + it.dashdash, n - it.dashdash);
    if (p->check != VCHECK_NONE)
        vcheck_run(r, p, argv, n, &it);
    vitems_free(&it);
}

/* env, nohup, timeout, xargs...: their own options, then the command they run. */
static void unwrap(struct vrun *r, const vwrapper *wr, const shell_word *const *argv, size_t n)
{
    vitems it;
    shell_word tmp;
    if (wr->level > RISK_SAFE) /* a floor: the wrapped command is still checked */
        vrun_note(r, wr->level, "%s", wr->reason);
    vitems_parse(&it, argv, n, &wr->value_options, 1, 1);
    size_t k = n;
    for (size_t i = 0; i < it.n; i++) {
        const vitem *x = &it.v[i];
        if (x->kind == VITEM_OPERAND) {
            k = x->index;
            break;
        }
        if (wr->describe.n > 0 && vpat_match(&wr->describe, x->name)) {
            vitems_free(&it);
            return; /* command -v: describes, runs nothing */
        }
        if (wr->command_options.n > 0 && x->value != NULL &&
            vpat_match(&wr->command_options, x->name)) {
            value_word(x, &tmp);
            vrun_string_word(r, &tmp, x->name);
        }
        if (wr->output_options.n > 0 && x->value != NULL &&
            vpat_match(&wr->output_options, x->name)) {
            value_word(x, &tmp);
            vrun_write(r, &tmp, "writes to");
        }
    }
    if (k == n && it.dashdash > 0)
        k = it.dashdash;
    vitems_free(&it);
    while (wr->assignments && k < n) {
        size_t nl = 0;
        if (!shell_word_is_assignment(argv[k], &nl) && strchr(argv[k]->text, '=') == NULL)
            break;
        vrun_assign_text(r, argv[k]->text);
        k++;
    }
    k += (size_t)wr->skip_operands;
    if (k >= n && wr->default_program == NULL)
        return;
    size_t m = k < n ? n - k : 0;
    const shell_word **inner = xcalloc(m + 2, sizeof(*inner));
    shell_word def = {0};
    size_t ni = 0;
    if (m == 0) {
        def.text = wr->default_program;
        def.len = strlen(def.text);
        def.literal_len = def.unquoted_len = def.len;
        inner[ni++] = &def;
    }
    for (size_t i = 0; i < m; i++)
        inner[ni++] = argv[k + i];
    if (wr->stdin_args)
        inner[ni++] = &input_word;
    vrun_argv(r, inner, ni);
    free(inner);
}

/* The names of the functions whose bodies hold the command being checked. */
static int in_function(const struct vrun *r, const char *name)
{
    const shell_cmd *c = r->cmd;
    for (int guard = 0; c != NULL && c->func >= 0 && guard < SHELL_LEX_CMDS_MAX; guard++) {
        const shell_cmd *def = &r->script->cmds[c->func];
        if (def->nwords > 0 && strcmp(def->words[0].text, name) == 0)
            return 1;
        c = def;
    }
    return 0;
}

static int defines_function(const shell_script *s, const char *name)
{
    for (size_t i = 0; s != NULL && i < s->ncmds; i++)
        if ((s->cmds[i].flags & SHELL_CMD_FUNCDEF) && s->cmds[i].nwords > 0 &&
            strcmp(s->cmds[i].words[0].text, name) == 0)
            return 1;
    return 0;
}

/* The value of the last `alias name=value` in the script, or NULL. */
static const char *alias_value(const shell_script *s, const char *name)
{
    const char *found = NULL;
    size_t n = strlen(name);
    for (size_t i = 0; s != NULL && i < s->ncmds; i++) {
        const shell_cmd *c = &s->cmds[i];
        if (c->nwords < 2 || strcmp(c->words[0].text, "alias") != 0)
            continue;
        for (size_t k = 1; k < c->nwords; k++)
            if (strncmp(c->words[k].text, name, n) == 0 && c->words[k].text[n] == '=')
                found = c->words[k].text + n + 1;
    }
    return found;
}

/* sh expands aliases: the command is the alias's text followed by the other words. */
static void expand_alias(struct vrun *r, const char *value, const shell_word *const *argv,
                         size_t n)
{
    size_t len = strlen(value), cap = SHELL_LEX_INPUT_MAX + 1;
    if (len >= cap) {
        vrun_note(r, RISK_FORBIDDEN, "uses an alias too long to check");
        return;
    }
    char *text = xmalloc(cap);
    memcpy(text, value, len);
    for (size_t i = 1; i < n; i++) {
        if (len + argv[i]->len + 2 >= cap) {
            vrun_note(r, RISK_FORBIDDEN, "uses an alias too long to check");
            free(text);
            return;
        }
        text[len++] = ' ';
        memcpy(text + len, argv[i]->text, argv[i]->len);
        len += argv[i]->len;
    }
    text[len] = '\0';
    vrun_string(r, text, len, "alias");
    free(text);
}

/* ---- downloads ------------------------------------------------------------------------------ */

/* Only literal names can be remembered; the list is bounded (VDOWNLOADS_MAX). */
void vrun_downloaded(struct vrun *r, const shell_word *w)
{
    vpath p;
    vpath_of_word(r, w, &p);
    if (!p.literal || r->ndownloads >= VDOWNLOADS_MAX)
        return;
    str_copy(r->downloads[r->ndownloads++], VPATH_MAX, p.path);
}

/* Returns 1 when w names, after normalization, a file this action downloads, else 0. */
int vrun_is_download(const struct vrun *r, const shell_word *w)
{
    vpath p;
    if (r->ndownloads == 0)
        return 0;
    vpath_of_word(r, w, &p);
    for (size_t i = 0; p.literal && i < r->ndownloads; i++)
        if (strcmp(r->downloads[i], p.path) == 0)
            return 1;
    return 0;
}

/* The order matters: names first, then denied, wrappers, shells, interpreters, programs. */
static void argv_walk(struct vrun *r, const shell_word *const *argv, size_t n)
{
    const shell_word *w0 = argv[0];
    if (!shell_word_is_literal(w0)) {
        vrun_note(r, RISK_FORBIDDEN, "runs a program whose name is known only at run time (%s)",
                  w0->text);
        return;
    }
    if (w0->len == 0) {
        vrun_note(r, RISK_FORBIDDEN, "runs a program with an empty name");
        return;
    }
    for (size_t i = 0; i < w0->len; i++) {
        unsigned char ch = (unsigned char)w0->text[i];
        if (ch <= 0x20 || ch >= 0x7f) {
            vrun_note(r, RISK_FORBIDDEN,
                      "names its program with a blank, control or non-ASCII character");
            return;
        }
    }
    const char *name = vbasename(w0->text);
    if (name[0] == '\0') {
        vrun_note(r, RISK_FORBIDDEN, "runs a directory (%s)", w0->text);
        return;
    }
    const char *alias = alias_value(r->script, name);
    if (alias != NULL) /* whether sh expands it depends on lines: check both readings */
        expand_alias(r, alias, argv, n);
    if (vrun_is_download(r, w0) && strchr(w0->text, '/') != NULL) {
        vrun_note(r, RISK_FORBIDDEN, "runs %s, which this action downloads", w0->text);
        return;
    }
    if (in_function(r, name)) {
        vrun_note(r, RISK_FORBIDDEN, "is a function calling itself: a fork bomb");
        return;
    }
    for (size_t i = 0; i < r->v->ndenied; i++)
        if (vpat_match(&r->v->denied[i].name, name)) {
            vrun_note(r, RISK_FORBIDDEN, "%s", r->v->denied[i].reason);
            return;
        }
    const vwrapper *wr = validator_wrapper_find(r->v, name);
    if (wr != NULL) {
        unwrap(r, wr, argv, n);
        return;
    }
    if (vpat_match(&r->v->shells, name)) {
        vcheck_shell(r, argv, n);
        return;
    }
    for (size_t i = 0; i < r->v->ninterps; i++)
        if (vpat_match(&r->v->interps[i].names, name)) {
            vcheck_interp(r, &r->v->interps[i], argv, n);
            return;
        }
    const vprogram *p = validator_program_find(r->v, name);
    if (p != NULL) {
        check_program(r, p, argv, n);
        return;
    }
    if (defines_function(r->script, name))
        return; /* its body is checked where it is defined */
    vrun_note(r, RISK_WARNING, "runs %s, which is not in the allow list", name);
}

/* Wrappers, find -exec, docker run... come back here: the nesting is bounded. */
void vrun_argv(struct vrun *r, const shell_word *const *argv, size_t n)
{
    if (n == 0)
        return;
    if (r->argv_depth >= VARGV_NEST_MAX) {
        vrun_note(r, RISK_FORBIDDEN, "nests wrapped commands too deeply to check");
        return;
    }
    r->argv_depth++;
    argv_walk(r, argv, n);
    r->argv_depth--;
}

/* ---- commands ------------------------------------------------------------------------------- */

static int names_net_device(const char *text)
{
    char norm[VPATH_MAX];
    if (strstr(text, "/dev/tcp/") != NULL || strstr(text, "/dev/udp/") != NULL)
        return 1;
    if (text[0] != '/')
        return 0;
    vpath_norm(text, strlen(text), "", norm);
    return strncmp(norm, "/dev/tcp", 8) == 0 || strncmp(norm, "/dev/udp", 8) == 0;
}

/* Tab and newline are the only control characters an action may hold. */
static int has_control(const char *t)
{
    for (; *t != '\0'; t++)
        if (((unsigned char)*t < 0x20 && *t != '\t' && *t != '\n') || *t == 0x7f)
            return 1;
    return 0;
}

static void check_cmd(struct vrun *r, const shell_script *s, size_t i)
{
    const shell_cmd *c = &s->cmds[i];
    r->cmd = c;
    r->nparts++;
    int net = 0;
    for (size_t k = 0; k < c->nwords && !net; k++)
        net = names_net_device(c->words[k].text);
    for (size_t k = 0; k < c->nassigns && !net; k++)
        net = names_net_device(c->assigns[k].text);
    for (size_t k = 0; k < c->nredirs && !net; k++)
        net = names_net_device(c->redirs[k].target.text);
    if (net)
        vrun_note(r, RISK_FORBIDDEN,
                  "opens a network connection through /dev/tcp or /dev/udp (a reverse shell)");
    for (size_t k = 0; k < c->nwords; k++)
        if (has_control(c->words[k].text)) /* $'\e...' decodes to one */
            vrun_note(r, RISK_FORBIDDEN, "holds a control character (from $'...')");
    for (size_t k = 0; k < c->nassigns; k++)
        if (has_control(c->assigns[k].text))
            vrun_note(r, RISK_FORBIDDEN, "holds a control character (from $'...')");
    if (c->flags & SHELL_CMD_FUNCDEF)
        return; /* the body's commands are checked on their own */
    const char *program = c->nwords > 0 ? vbasename(c->words[0].text) : NULL;
    int downloader = program != NULL && vpat_match(&r->v->downloaders, program);
    for (size_t k = 0; k < c->nassigns; k++)
        check_assign_word(r, &c->assigns[k], program);
    for (size_t k = 0; k < c->nredirs; k++) {
        const shell_redir *rd = &c->redirs[k];
        switch (rd->kind) {
        case SHELL_REDIR_OUT:
        case SHELL_REDIR_APPEND:
        case SHELL_REDIR_CLOBBER:
        case SHELL_REDIR_INOUT:
        case SHELL_REDIR_OUT_ALL:
        case SHELL_REDIR_APPEND_ALL:
            vrun_write(r, &rd->target, "writes to");
            if (downloader)
                vrun_downloaded(r, &rd->target);
            break;
        default:
            break;
        }
    }
    if (c->nwords == 0 || (c->flags & (SHELL_CMD_FOR | SHELL_CMD_ARITH | SHELL_CMD_TEST)))
        return;
    const shell_word **argv = xcalloc(c->nwords, sizeof(*argv));
    for (size_t k = 0; k < c->nwords; k++)
        argv[k] = &c->words[k];
    vrun_argv(r, argv, c->nwords);
    free(argv);
}

/* Bytes first (control characters, UTF-8, network devices anywhere), then the commands. */
static void check_text(struct vrun *r, const char *text, size_t len)
{
    char err[200] = "";
    shell_script *s = NULL;
    r->cmd = NULL;
    r->fallback = text;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f) {
            vrun_note(r, RISK_FORBIDDEN, "holds the control character 0x%02x", ch);
            return;
        }
    }
    if (!str_is_utf8(text, len)) {
        vrun_note(r, RISK_FORBIDDEN, "is not valid UTF-8 text");
        return;
    }
    int rc = shell_lex_parse(text, len, &s, err, sizeof err);
    if (rc != 0) {
        vrun_note(r, RISK_FORBIDDEN, "cannot be parsed: %s", err);
        return;
    }
    for (size_t i = 0; i < s->ncmds; i++) {
        r->script = s;
        check_cmd(r, s, i);
    }
    if (s->ncmds == 0 && r->depth == 0)
        vrun_note(r, RISK_FORBIDDEN, "holds no command");
    r->script = NULL;
    r->cmd = NULL;
    shell_script_free(s);
}

/* ---- entry points --------------------------------------------------------------------------- */

/* NUL and the length are refused before the text is copied and walked; the verdict is
 * the worst finding. Returns 0, or -EINVAL for NULL arguments. */
int validator_check_len(const validator *v, const char *action, size_t len, validation *out)
{
    if (v == NULL || action == NULL || out == NULL)
        return -EINVAL;
    struct vrun r;
    memset(&r, 0, sizeof r);
    r.v = v;
    if (memchr(action, '\0', len) != NULL) {
        r.fallback = "";
        vrun_note(&r, RISK_FORBIDDEN, "holds a NUL byte");
    } else if (len > SHELL_LEX_INPUT_MAX) {
        char head[64];
        size_t n = len < sizeof head - 1 ? len : sizeof head - 1;
        memcpy(head, action, n);
        head[n] = '\0';
        r.fallback = head;
        vrun_note(&r, RISK_FORBIDDEN, "is longer than %d bytes, too long to check",
                  SHELL_LEX_INPUT_MAX);
        r.fallback = NULL;
    } else {
        char *copy = xstrndup(action, len);
        check_text(&r, copy, len);
        r.fallback = NULL;
        free(copy);
    }
    memset(out, 0, sizeof *out);
    out->risk = r.level;
    out->nparts = r.nparts;
    if (r.level == RISK_SAFE) {
        snprintf(out->reason, sizeof out->reason, "safe: %zu command%s, all allowed as safe",
                 r.nparts, r.nparts == 1 ? "" : "s");
        return 0;
    }
    memcpy(out->reason, r.reason, sizeof out->reason);
    memcpy(out->part, r.part, sizeof out->part);
    return 0;
}

/* The C-string form; see validator_check_len. Returns 0 or -EINVAL. */
int validator_check(const validator *v, const char *action, validation *out)
{
    if (action == NULL)
        return -EINVAL;
    return validator_check_len(v, action, strlen(action), out);
}
