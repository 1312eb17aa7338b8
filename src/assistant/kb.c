/* The knowledge base: loading and strict validation (the index is kb_index.c, the value
 * types kb_params.c). See kb.h for the contract and knowledge/README.md for the format. */
#define _POSIX_C_SOURCE 200809L
#define KB_INTERNAL
#include "kb.h"

#include "str.h"
#include "textnorm.h"
#include "xalloc.h"
#include "yaml_load.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 1024 /* bytes of a knowledge file's path */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const known_domains[] = {"ansible", "aws",   "azure", "docker", "gcp",
                                            "git",     "kubernetes", "linux", "terraform"};

/* ---- small helpers ----------------------------------------------------------------- */

struct ctx {
    const char *file;
    const char *id; /* the entry being read, or NULL */
    char *err;
    size_t errlen;
};

static int fail(const struct ctx *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats "file: entry id: problem" into c->err and returns rc. */
static int fail(const struct ctx *c, int rc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->id != NULL)
        str_fmt(c->err, c->errlen, "%s: entry %s: %s", c->file, c->id, msg);
    else
        str_fmt(c->err, c->errlen, "%s: %s", c->file, msg);
    return rc;
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* 1 when every byte of v is a lowercase letter, a digit or in extra. */
static int only_lower(const char *v, const char *extra)
{
    for (; *v != '\0'; v++)
        if (!is_digit(*v) && !(*v >= 'a' && *v <= 'z') && strchr(extra, *v) == NULL)
            return 0;
    return 1;
}

/* ---- synonyms ---------------------------------------------------------------------- */

struct syn_tmp {
    struct kb_syn s;
    const char *text; /* the term as written, for errors */
};

static int cmp_syn_words(const void *a, const void *b)
{
    const struct kb_syn *x = &((const struct syn_tmp *)a)->s, *y = &((const struct syn_tmp *)b)->s;
    for (size_t i = 0; i < KB_SYN_WORDS; i++) {
        uint32_t u = i < x->n ? x->w[i] : 0, v = i < y->n ? y->w[i] : 0;
        if (u != v)
            return u < v ? -1 : 1;
    }
    return (int)x->n - (int)y->n;
}

static int cmp_syn_lookup(const void *a, const void *b)
{
    const struct kb_syn *x = a, *y = b;
    if (x->w[0] != y->w[0])
        return x->w[0] < y->w[0] ? -1 : 1;
    return (int)y->n - (int)x->n; /* longest first */
}

/* The stems of a synonym term or cue as written in s; 0 or a negative errno with the
 * problem in c. keep_stop: cues keep their stopwords ("espace de noms"). */
static int phrase_stems(const struct ctx *c, textnorm_text *t, const char *what, const char *s,
                        int keep_stop, char (*out)[TEXTNORM_WORD_MAX + 1], size_t max,
                        size_t *n)
{
    if (strlen(s) > KB_PHRASING_MAX)
        return fail(c, -E2BIG, "%s \"%.40s...\" is longer than %d bytes", what, s,
                    KB_PHRASING_MAX);
    textnorm_analyze(s, t);
    *n = 0;
    for (size_t i = 0; i < t->nword; i++) {
        if (t->word[i].stop && !keep_stop)
            continue;
        if (*n == max)
            return fail(c, -EINVAL, "%s \"%s\" has more than %zu words", what, s, max);
        memcpy(out[(*n)++], t->word[i].stem, sizeof out[0]);
    }
    if (*n == 0)
        return fail(c, -EINVAL, "%s \"%s\" has no word that counts (only stopwords?)", what, s);
    return 0;
}

static int load_synonyms(kb *k, json_t *root, const struct ctx *c, textnorm_text *t)
{
    json_t *groups = json_object_get(root, "synonyms");
    if (k->syn != NULL)
        return fail(c, -EINVAL, "a second synonyms file (one per knowledge base)");
    if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_array(groups))
        return fail(c, -EINVAL, "the file must hold one key, synonyms, a list of groups");
    if (json_array_size(groups) > KB_SYN_GROUPS_MAX)
        return fail(c, -E2BIG, "more than %d synonym groups", KB_SYN_GROUPS_MAX);
    struct syn_tmp *tmp = NULL;
    size_t ntmp = 0, cap = 0, gi;
    json_t *g;
    int rc = 0;
    json_array_foreach(groups, gi, g) {
        size_t ng = json_array_size(g);
        if (!json_is_array(g) || ng < 2 || ng > KB_SYN_GROUP_MAX) {
            rc = fail(c, -EINVAL, "group %zu must be a list of 2 to %d terms", gi + 1,
                      KB_SYN_GROUP_MAX);
            goto out;
        }
        uint32_t canon = KB_NO_TERM;
        size_t ti;
        json_t *term;
        json_array_foreach(g, ti, term) {
            char words[KB_SYN_WORDS][TEXTNORM_WORD_MAX + 1];
            size_t nw;
            if (!json_is_string(term)) {
                rc = fail(c, -EINVAL, "group %zu: term %zu is not a string", gi + 1, ti + 1);
                goto out;
            }
            rc = phrase_stems(c, t, "synonym", json_string_value(term), 0, words, KB_SYN_WORDS,
                              &nw);
            if (rc != 0)
                goto out;
            if (ti == 0) { /* the group's name: "=" + its stems, never a plain stem */
                char name[KB_SYN_WORDS * (TEXTNORM_WORD_MAX + 1) + 2];
                size_t len = 0;
                for (size_t i = 0; i < nw; i++)
                    len += (size_t)snprintf(name + len, sizeof name - len, "%s%s",
                                            i > 0 ? "_" : "=", words[i]);
                canon = kb_intern(k, name);
                k->gid = xrealloc(k->gid, (k->ngroup + 1) * sizeof(*k->gid));
                k->gname = xrealloc(k->gname, (k->ngroup + 1) * sizeof(*k->gname));
                k->gid[k->ngroup] = canon;
                k->gname[k->ngroup++] = xstrdup(t->word[0].fold);
            }
            if (ntmp == cap) {
                cap = cap ? cap * 2 : 512;
                tmp = xrealloc(tmp, cap * sizeof(*tmp));
            }
            struct syn_tmp *y = &tmp[ntmp++];
            memset(y, 0, sizeof(*y));
            y->text = json_string_value(term);
            y->s.n = (uint8_t)nw;
            for (size_t i = 0; i < nw; i++)
                y->s.w[i] = kb_intern(k, words[i]);
            y->s.ncanon = 1;
            y->s.canon[0] = canon;
        }
    }
    /* merge the same term listed in several groups */
    qsort(tmp, ntmp, sizeof(*tmp), cmp_syn_words);
    k->syn = xcalloc(ntmp ? ntmp : 1, sizeof(*k->syn));
    for (size_t i = 0; i < ntmp; i++) {
        struct kb_syn *last = k->nsyn > 0 ? &k->syn[k->nsyn - 1] : NULL;
        if (last != NULL && i > 0 && cmp_syn_words(&tmp[i - 1], &tmp[i]) == 0) {
            int seen = 0;
            for (size_t j = 0; j < last->ncanon; j++)
                seen |= last->canon[j] == tmp[i].s.canon[0];
            if (seen)
                continue;
            if (last->ncanon == KB_SYN_CANON) {
                rc = fail(c, -EINVAL, "the term \"%s\" is in more than %d groups", tmp[i].text,
                          KB_SYN_CANON);
                goto out;
            }
            last->canon[last->ncanon++] = tmp[i].s.canon[0];
            continue;
        }
        k->syn[k->nsyn++] = tmp[i].s;
    }
    qsort(k->syn, k->nsyn, sizeof(*k->syn), cmp_syn_lookup);
out:
    free(tmp);
    return rc;
}
/* ---- entries ----------------------------------------------------------------------- */

/* s must be a non-empty string of at most max bytes without control characters (newlines
 * allowed when multiline). Returns 0 with *out set, or -EINVAL / -E2BIG. */
static int get_text(const struct ctx *c, json_t *v, const char *what, size_t max, int multiline,
                    const char **out)
{
    if (!json_is_string(v))
        return fail(c, -EINVAL, "%s must be a string", what);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || strlen(s) != n)
        return fail(c, -EINVAL, "%s is empty or holds a NUL byte", what);
    if (n > max)
        return fail(c, -E2BIG, "%s is longer than %zu bytes", what, max);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && !(multiline && (ch == '\n' || ch == '\t'))) || ch == 0x7f)
            return fail(c, -EINVAL, "%s holds a control character", what);
    }
    *out = s;
    return 0;
}

/* Checks that o (an object) has only keys among allowed (NULL-terminated). */
static int only_keys(const struct ctx *c, json_t *o, const char *what,
                     const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int ok = 0;
        for (size_t i = 0; allowed[i] != NULL; i++)
            ok |= strcmp(key, allowed[i]) == 0;
        if (!ok)
            return fail(c, -EINVAL, "%s: unknown key \"%s\"", what, key);
    }
    return 0;
}

/* A list of strings (at most max) into a NULL-free array of copies. */
static int get_list(const struct ctx *c, json_t *v, const char *what, size_t min, size_t max,
                    char ***out, size_t *n)
{
    size_t i;
    json_t *s;
    if (!json_is_array(v) || json_array_size(v) < min)
        return fail(c, -EINVAL, "%s must be a list of at least %zu string%s", what, min,
                    min == 1 ? "" : "s");
    if (json_array_size(v) > max)
        return fail(c, -E2BIG, "%s has more than %zu items", what, max);
    *out = xcalloc(json_array_size(v) + 1, sizeof(char *));
    *n = 0;
    json_array_foreach(v, i, s) {
        const char *text;
        char num[32];
        if (json_is_integer(s)) { /* keywords such as 443 */
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(s));
            text = num;
        } else {
            int rc = get_text(c, s, what, KB_PHRASING_MAX, 0, &text);
            if (rc != 0)
                return rc;
        }
        (*out)[(*n)++] = xstrdup(text);
    }
    return 0;
}

/* A default as a string: strings as written, integers, and reals in their shortest form
 * that reads back the same (1.28, not 1.28000000000000003). */
static int scalar_string(json_t *v, char *out, size_t cap)
{
    if (json_is_string(v))
        return str_copy(out, cap, json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(out, cap, "%.*g", prec, d);
            if (strtod(out, NULL) == d)
                return 0;
        }
        return 0;
    }
    return -EINVAL;
}

static int parse_cues(const struct ctx *c, textnorm_text *t, json_t *v, const char *what,
                      struct kb_cue **out, size_t *n)
{
    size_t i;
    json_t *s;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(c, -EINVAL, "%s must be a non-empty list of words", what);
    if (json_array_size(v) > KB_CUES_MAX)
        return fail(c, -E2BIG, "%s has more than %d words", what, KB_CUES_MAX);
    *out = xcalloc(json_array_size(v), sizeof(**out));
    json_array_foreach(v, i, s) {
        const char *text;
        char num[32];
        int rc = 0;
        if (json_is_integer(s)) { /* near: [8080] */
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(s));
            text = num;
        } else {
            rc = get_text(c, s, what, KB_PHRASING_MAX, 0, &text);
        }
        if (rc != 0)
            return rc;
        (*n)++;
        textnorm_analyze(text, t);
        if (t->nword == 0 && strlen(text) < sizeof((*out)[i].punct)) { /* "%", "=" */
            str_copy((*out)[i].punct, sizeof((*out)[i].punct), text);
            continue;
        }
        rc = phrase_stems(c, t, what, text, 1, (*out)[i].w, KB_CUE_WORDS, &(*out)[i].n);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int parse_params(const struct ctx *c, textnorm_text *t, json_t *v, struct kb_entry *e)
{
    static const char *const keys[] = {"type", "default", "after", "near", NULL};
    const char *name;
    json_t *p;
    if (v == NULL)
        return 0;
    if (!json_is_object(v))
        return fail(c, -EINVAL, "params must be a mapping of parameter names");
    if (json_object_size(v) > KB_PARAMS_MAX)
        return fail(c, -E2BIG, "more than %d params", KB_PARAMS_MAX);
    e->params = xcalloc(json_object_size(v) + 1, sizeof(*e->params));
    json_object_foreach(v, name, p) {
        struct kb_param *kp = &e->params[e->nparams++];
        char what[96], def[KB_VALUE_MAX + 2];
        kp->name = xstrdup(name);
        snprintf(what, sizeof what, "params.%.40s", name);
        if (strlen(name) > KB_PARAM_NAME_MAX || !(name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z')) ||
            !only_lower(name, "_"))
            return fail(c, -EINVAL, "%s: a parameter name is [a-z_][a-z0-9_]*, at most %d bytes",
                        what, KB_PARAM_NAME_MAX);
        if (!json_is_object(p))
            return fail(c, -EINVAL, "%s must be a mapping (type, default, after, near)", what);
        int rc = only_keys(c, p, what, keys);
        if (rc != 0)
            return rc;
        json_t *type = json_object_get(p, "type"), *d = json_object_get(p, "default");
        if (!json_is_string(type) || kb_ptype_parse(json_string_value(type), &kp->type) != 0)
            return fail(c, -EINVAL, "%s: type must be one of name, count, port, region, zone, "
                                    "image, cidr, ip, path, size, duration, instance_type, url, "
                                    "email, user, version, word", what);
        if (d == NULL)
            return fail(c, -EINVAL, "%s: a default is required", what);
        if (scalar_string(d, def, sizeof def) != 0 || !kb_value_valid(kp->type, def))
            return fail(c, -EINVAL, "%s: the default %s is not a valid %s", what,
                        json_is_string(d) || json_is_number(d) ? def : "(not a scalar)",
                        kb_ptype_name(kp->type));
        kp->def = xstrdup(def);
        if (json_object_get(p, "after") != NULL) {
            char w2[112];
            snprintf(w2, sizeof w2, "%s.after", what);
            rc = parse_cues(c, t, json_object_get(p, "after"), w2, &kp->after, &kp->nafter);
            if (rc != 0)
                return rc;
        }
        if (json_object_get(p, "near") != NULL) {
            char w2[112];
            snprintf(w2, sizeof w2, "%s.near", what);
            rc = parse_cues(c, t, json_object_get(p, "near"), w2, &kp->near, &kp->nnear);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static const struct kb_param *param_named(const struct kb_entry *e, const char *name, size_t n)
{
    for (size_t i = 0; i < e->nparams; i++)
        if (strlen(e->params[i].name) == n && memcmp(e->params[i].name, name, n) == 0)
            return &e->params[i];
    return NULL;
}

/* The command: one line, no sudo, no placeholder in the program, placeholders == params. */
static int check_command(const struct ctx *c, struct kb_entry *e)
{
    const char *cmd = e->command, *prog = cmd;
    unsigned used = 0;
    for (;;) { /* the program comes after environment assignments (TF_LOG=DEBUG terraform) */
        size_t n = strspn(prog, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
        if (n == 0 || is_digit(prog[0]) || prog[n] != '=')
            break;
        prog += n + strcspn(prog + n, " \t");
        prog += strspn(prog, " \t");
    }
    size_t first = strcspn(prog, " \t");
    for (const char *p = prog; p < prog + first; p++)
        if (*p == '{' && (p[1] == '_' || (p[1] >= 'a' && p[1] <= 'z')))
            return fail(c, -EINVAL, "command: no placeholder in the program name");
    for (const char *p = cmd; (p = strstr(p, "sudo")) != NULL; p += 4)
        if ((p == cmd || strchr(" \t;|&(", p[-1]) != NULL) && strchr(" \t;|&)", p[4]) != NULL)
            return fail(c, -EINVAL, "command: no sudo (say in the practice when root is "
                                    "needed)");
    for (const char *p = cmd; *p != '\0'; p++) {
        if (*p != '{' || !(p[1] == '_' || (p[1] >= 'a' && p[1] <= 'z')))
            continue;
        size_t n = 1;
        while (p[n] == '_' || (p[n] >= 'a' && p[n] <= 'z') || is_digit(p[n]))
            n++;
        if (p[n] != '}')
            continue;
        const struct kb_param *kp = param_named(e, p + 1, n - 1);
        if (kp == NULL)
            return fail(c, -EINVAL, "command: placeholder {%.*s} is not declared in params",
                        (int)(n - 1), p + 1);
        used |= 1u << (kp - e->params);
        p += n;
    }
    for (size_t i = 0; i < e->nparams; i++)
        if (!(used & (1u << i)))
            return fail(c, -EINVAL, "params.%s is not used in the command", e->params[i].name);
    return 0;
}

static int parse_lang_text(const struct ctx *c, json_t *v, const char *what, char *out[2])
{
    static const char *const keys[] = {"en", "fr", NULL};
    const char *en, *fr;
    if (!json_is_object(v))
        return fail(c, -EINVAL, "%s must be a mapping with en and fr", what);
    int rc = only_keys(c, v, what, keys);
    if (rc != 0)
        return rc;
    char w2[48];
    snprintf(w2, sizeof w2, "%s.en", what);
    rc = get_text(c, json_object_get(v, "en"), w2, KB_TEXT_MAX, 1, &en);
    if (rc != 0)
        return rc;
    snprintf(w2, sizeof w2, "%s.fr", what);
    rc = get_text(c, json_object_get(v, "fr"), w2, KB_TEXT_MAX, 1, &fr);
    if (rc != 0)
        return rc;
    out[0] = xstrdup(en);
    out[1] = xstrdup(fr);
    return 0;
}

static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > KB_ID_MAX || !(is_digit(id[0]) || (id[0] >= 'a' && id[0] <= 'z')))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(is_digit(id[i]) || (id[i] >= 'a' && id[i] <= 'z') || id[i] == '.' || id[i] == '-'))
            return 0;
    return 1;
}

static int parse_entry(struct ctx *c, textnorm_text *t, json_t *o, const char *domain,
                       struct kb_entry *e)
{
    static const char *const keys[] = {"id", "intent", "keywords", "command", "params",
                                       "explanation", "practice", "risk", NULL};
    static const char *const langs[] = {"en", "fr", NULL};
    static const char *const risks[] = {"safe", "warning", "dangerous"};
    const char *s;
    int rc;
    e->file = xstrdup(c->file);
    e->domain = xstrdup(domain);
    if (!json_is_object(o))
        return fail(c, -EINVAL, "an entry must be a mapping");
    json_t *id = json_object_get(o, "id");
    if (!json_is_string(id) || !id_ok(json_string_value(id)))
        return fail(c, -EINVAL, "an entry has %s id (one to %d of a-z 0-9 . -, starting with a "
                                "letter or digit)", id == NULL ? "no" : "a bad", KB_ID_MAX);
    e->id = xstrdup(json_string_value(id));
    c->id = e->id;
    if ((rc = only_keys(c, o, "entry", keys)) != 0)
        return rc;
    json_t *intent = json_object_get(o, "intent");
    if (!json_is_object(intent))
        return fail(c, -EINVAL, "intent must be a mapping with en and fr phrasings");
    if ((rc = only_keys(c, intent, "intent", langs)) != 0)
        return rc;
    for (int l = 0; l < 2; l++) {
        char what[16];
        snprintf(what, sizeof what, "intent.%s", langs[l]);
        rc = get_list(c, json_object_get(intent, langs[l]), what, 1, KB_PHRASINGS_MAX,
                      &e->phr[l], &e->nphr[l]);
        if (rc != 0)
            return rc;
    }
    if ((rc = get_text(c, json_object_get(o, "command"), "command", KB_COMMAND_MAX, 0, &s)) != 0)
        return rc;
    e->command = xstrdup(s);
    if (json_object_get(o, "keywords") != NULL &&
        (rc = get_list(c, json_object_get(o, "keywords"), "keywords", 0, KB_KEYWORDS_MAX,
                       &e->keywords, &e->nkeywords)) != 0)
        return rc;
    if ((rc = parse_params(c, t, json_object_get(o, "params"), e)) != 0 ||
        (rc = check_command(c, e)) != 0)
        return rc;
    if ((rc = parse_lang_text(c, json_object_get(o, "explanation"), "explanation", e->expl)) ||
        (rc = parse_lang_text(c, json_object_get(o, "practice"), "practice", e->prac)))
        return rc;
    json_t *risk = json_object_get(o, "risk");
    e->risk = -1;
    for (int i = 0; i < 3 && json_is_string(risk); i++)
        if (strcmp(json_string_value(risk), risks[i]) == 0)
            e->risk = i;
    if (e->risk < 0)
        return fail(c, -EINVAL, "risk must be safe, warning or dangerous");
    return 0;
}

static int load_domain(kb *k, json_t *root, struct ctx *c, textnorm_text *t)
{
    static const char *const keys[] = {"domain", "entries", NULL};
    if (!json_is_object(root))
        return fail(c, -EINVAL, "the file must be a mapping with domain and entries");
    int rc = only_keys(c, root, "top level", keys);
    if (rc != 0)
        return rc;
    json_t *d = json_object_get(root, "domain"), *entries = json_object_get(root, "entries");
    const char *domain = json_is_string(d) ? json_string_value(d) : "";
    int known = 0;
    for (size_t i = 0; i < NELEM(known_domains); i++)
        known |= strcmp(domain, known_domains[i]) == 0;
    if (!known)
        return fail(c, -EINVAL, "domain must be one of ansible, aws, azure, docker, gcp, git, "
                                "kubernetes, linux, terraform");
    if (!json_is_array(entries) || json_array_size(entries) == 0)
        return fail(c, -EINVAL, "entries must be a non-empty list");
    if (k->n + json_array_size(entries) > KB_ENTRIES_MAX)
        return fail(c, -E2BIG, "more than %d entries in the knowledge base", KB_ENTRIES_MAX);
    int seen = 0;
    for (size_t i = 0; i < k->ndomains; i++)
        seen |= strcmp(k->domains[i], domain) == 0;
    if (!seen && k->ndomains < NELEM(k->domains))
        k->domains[k->ndomains++] = xstrdup(domain);
    k->e = xrealloc(k->e, (k->n + json_array_size(entries)) * sizeof(*k->e));
    size_t i;
    json_t *o;
    json_array_foreach(entries, i, o) {
        struct kb_entry *e = &k->e[k->n];
        memset(e, 0, sizeof(*e));
        k->n++;
        c->id = NULL;
        rc = parse_entry(c, t, o, domain, e);
        if (rc != 0)
            return rc;
    }
    c->id = NULL;
    return 0;
}
static int cmp_entry_id(const void *a, const void *b)
{
    const struct kb_entry *x = *(const struct kb_entry *const *)a;
    const struct kb_entry *y = *(const struct kb_entry *const *)b;
    return strcmp(x->id, y->id);
}

/* Ids are unique in the whole base: -EINVAL naming both files otherwise. */
static int check_ids(const kb *k, char *err, size_t errlen)
{
    int rc = 0;
    const struct kb_entry **byid = xmalloc((k->n ? k->n : 1) * sizeof(*byid));
    for (size_t i = 0; i < k->n; i++)
        byid[i] = &k->e[i];
    qsort(byid, k->n, sizeof(*byid), cmp_entry_id);
    for (size_t i = 1; i < k->n && rc == 0; i++)
        if (strcmp(byid[i - 1]->id, byid[i]->id) == 0) {
            struct ctx c = {byid[i]->file, byid[i]->id, err, errlen};
            rc = fail(&c, -EINVAL, "the id is already used (in %s)", byid[i - 1]->file);
        }
    free(byid);
    return rc;
}

/* ---- loading ----------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL ? s + 1 : path;
}

/* Loads the given files (synonyms first, whatever their order). Returns 0 with *out set,
 * or the first error: the message names the file and, inside an entry, its id. */
int kb_load_files(const char *const *paths, size_t n, kb **out, char *err, size_t errlen)
{
    yaml_limits lim = {.max_bytes = KB_FILE_MAX, .max_depth = 12, .max_nodes = 200000};
    kb *k = xcalloc(1, sizeof(*k));
    textnorm_text *t = xmalloc(sizeof(*t));
    int rc = 0;
    *out = NULL;
    if (n > KB_FILES_MAX) {
        str_fmt(err, errlen, "more than %d knowledge files", KB_FILES_MAX);
        rc = -E2BIG;
        goto out;
    }
    /* synonyms first: the entries' documents are built with them */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            int is_syn = strcmp(base_name(paths[i]), "synonyms.yaml") == 0;
            if (is_syn != (pass == 0))
                continue;
            json_t *root = NULL;
            char yerr[256];
            struct ctx c = {paths[i], NULL, err, errlen};
            rc = yaml_load_file(paths[i], &lim, &root, yerr, sizeof yerr);
            if (rc != 0) {
                if (strstr(yerr, paths[i]) != NULL)
                    str_fmt(err, errlen, "%s", yerr);
                else
                    fail(&c, rc, "%s", yerr);
                goto out;
            }
            rc = is_syn ? load_synonyms(k, root, &c, t) : load_domain(k, root, &c, t);
            json_decref(root);
            if (rc != 0)
                goto out;
        }
    if (k->n == 0) {
        str_fmt(err, errlen, "no knowledge entries (no domain file was given)");
        rc = -ENOENT;
        goto out;
    }
    if ((rc = check_ids(k, err, errlen)) == 0) {
        kb_index_domains(k);
        kb_index_build(k);
    }
out:
    free(t);
    if (rc != 0)
        kb_free(k);
    else
        *out = k;
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the *.yaml files of dir (not policy.yaml, not hidden files), sorted by name so that
 * the entries' order does not depend on the file system, then loads them. Returns as
 * kb_load_files, or -errno when dir cannot be read. */
int kb_load_dir(const char *dir, kb **out, char *err, size_t errlen)
{
    char *names[KB_FILES_MAX + 1];
    size_t n = 0;
    int rc = 0;
    *out = NULL;
    DIR *d = opendir(dir);
    if (d == NULL) {
        rc = -errno;
        str_fmt(err, errlen, "cannot open the knowledge directory %s: %s", dir, strerror(errno));
        return rc;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0 ||
            strcmp(de->d_name, "policy.yaml") == 0)
            continue;
        if (n == KB_FILES_MAX) {
            str_fmt(err, errlen, "%s holds more than %d knowledge files", dir, KB_FILES_MAX);
            rc = -E2BIG;
            goto out;
        }
        char path[PATH_MAX_LEN];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) {
            str_fmt(err, errlen, "the path of %s/%s is too long", dir, de->d_name);
            rc = -ENAMETOOLONG;
            goto out;
        }
        names[n++] = xstrdup(path);
    }
    qsort(names, n, sizeof(*names), cmp_str);
    rc = kb_load_files((const char *const *)names, n, out, err, errlen);
out:
    closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return rc;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Frees everything the loader allocated; NULL is fine. */
void kb_free(kb *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->n; i++) {
        struct kb_entry *e = &k->e[i];
        free(e->id);
        free(e->file);
        free(e->domain);
        free(e->command);
        for (int l = 0; l < 2; l++) {
            free(e->expl[l]);
            free(e->prac[l]);
            free_list(e->phr[l], e->nphr[l]);
        }
        free_list(e->keywords, e->nkeywords);
        for (size_t j = 0; j < e->nparams; j++) {
            free(e->params[j].name);
            free(e->params[j].def);
            free(e->params[j].after);
            free(e->params[j].near);
        }
        free(e->params);
        free_list(e->cmdwords, e->ncmdwords);
        free(e->terms);
        free(e->tf);
        free(e->bigrams);
        free(e->pids);
        free(e->poff);
    }
    free(k->e);
    for (size_t i = 0; i < k->nterm; i++)
        free(k->term[i]);
    free(k->term);
    free(k->hash);
    free(k->idf);
    free(k->post_off);
    free(k->post_e);
    free(k->post_tf);
    free(k->syn);
    for (size_t i = 0; i < k->ndomains; i++)
        free(k->domains[i]);
    free(k->dword);
    free(k->ddomain);
    for (size_t i = 0; i < k->ngroup; i++)
        free(k->gname[i]);
    free(k->gid);
    free(k->gname);
    free(k->tdomain);
    free(k);
}
/* ---- accessors --------------------------------------------------------------------- */

size_t kb_count(const kb *k)
{
    return k != NULL ? k->n : 0;
}

/* Entry i or NULL when out of range. */
const kb_entry *kb_entry_at(const kb *k, size_t i)
{
    return k != NULL && i < k->n ? &k->e[i] : NULL;
}

/* A linear search: ids are looked up rarely (tests, tools, stored answers). */
const kb_entry *kb_find(const kb *k, const char *id)
{
    for (size_t i = 0; k != NULL && i < k->n; i++)
        if (strcmp(k->e[i].id, id) == 0)
            return &k->e[i];
    return NULL;
}

static int lang_index(const char *lang)
{
    return lang != NULL && strcmp(lang, "fr") == 0;
}

/* Accessors: the strings live as long as the base. */
const char *kb_entry_id(const kb_entry *e)
{
    return e->id;
}

/* The domain of the entry's file. */
const char *kb_entry_domain(const kb_entry *e)
{
    return e->domain;
}

/* The command as written, with its {placeholders}. */
const char *kb_entry_command(const kb_entry *e)
{
    return e->command;
}

/* The entry's own rating: "safe", "warning" or "dangerous". */
const char *kb_entry_risk(const kb_entry *e)
{
    static const char *const names[] = {"safe", "warning", "dangerous"};
    return names[e->risk];
}

/* The explanation in lang ("fr", else English), placeholders not replaced. */
const char *kb_entry_explanation(const kb_entry *e, const char *lang)
{
    return e->expl[lang_index(lang)];
}

/* The best practice in lang ("fr", else English), placeholders not replaced. */
const char *kb_entry_practice(const kb_entry *e, const char *lang)
{
    return e->prac[lang_index(lang)];
}

/* The phrasings in lang: their number, *out pointing at them. */
size_t kb_entry_phrasings(const kb_entry *e, const char *lang, const char *const **out)
{
    int l = lang_index(lang);
    *out = (const char *const *)e->phr[l];
    return e->nphr[l];
}

/* The number of parameters (the placeholders of the command). */
size_t kb_entry_param_count(const kb_entry *e)
{
    return e->nparams;
}

/* The name of parameter i, or NULL out of range. */
const char *kb_entry_param_name(const kb_entry *e, size_t i)
{
    return i < e->nparams ? e->params[i].name : NULL;
}

/* The type of parameter i (KB_P_WORD out of range). */
enum kb_ptype kb_entry_param_type(const kb_entry *e, size_t i)
{
    return i < e->nparams ? e->params[i].type : KB_P_WORD;
}

/* The default of parameter i as a string, or NULL out of range. */
const char *kb_entry_param_default(const kb_entry *e, size_t i)
{
    return i < e->nparams ? e->params[i].def : NULL;
}
