#define _POSIX_C_SOURCE 200809L
/* Paths for the validator (see validator_int.h): lexical normalization (no file system
 * access), matching against the policy's path lists, what a word names as a path, and the
 * write and delete analyses every check shares. */
#include "validator_int.h"

#include "str.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_COMPS_MAX 128

/* ---- paths --------------------------------------------------------------------------------- */

/* A glob over one path component ('/' never matched). */
static int comp_match(const char *p, size_t pn, const char *s, size_t sn)
{
    char pb[VPATH_MAX], sb[VPATH_MAX];
    vpat one;
    char *alt = pb;
    if (pn >= sizeof pb || sn >= sizeof sb)
        return 0;
    memcpy(pb, p, pn);
    pb[pn] = '\0';
    memcpy(sb, s, sn);
    sb[sn] = '\0';
    one.alt = &alt;
    one.n = 1;
    return vpat_match(&one, sb);
}

/* Splits a normalized path into its root ('/', '~' or 0) and components. */
static size_t split(const char *path, char *root, const char **cs, size_t *cl)
{
    size_t n = 0;
    const char *p = path;
    *root = 0;
    if (*p == '/' || *p == '~') {
        *root = *p;
        p++;
    }
    while (*p != '\0' && n < PATH_COMPS_MAX) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        const char *e = strchr(p, '/');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        cs[n] = p;
        cl[n++] = len;
        p += len;
    }
    return n;
}

/* Lexical normalization: no file system access, so symlinks are not followed. */
void vpath_norm(const char *text, size_t n, const char *cwd, char *out)
{
    const char *cs[PATH_COMPS_MAX];
    size_t cl[PATH_COMPS_MAX], nc = 0, i = 0;
    char root = 0;
    if (n > 0 && text[0] == '/') {
        root = '/';
    } else if (n > 0 && text[0] == '~') {
        root = '~';
        while (i < n && text[i] != '/')
            i++; /* ~user is a home as well */
    } else if (cwd != NULL && cwd[0] != '\0' && strcmp(cwd, "?") != 0) {
        nc = split(cwd, &root, cs, cl); /* absolute, home or relative to the start */
    }
    while (i < n) {
        while (i < n && text[i] == '/')
            i++;
        size_t s = i;
        while (i < n && text[i] != '/')
            i++;
        size_t len = i - s;
        if (len == 0 || (len == 1 && text[s] == '.'))
            continue;
        if (len == 2 && text[s] == '.' && text[s + 1] == '.') {
            if (nc > 0 && !(cl[nc - 1] == 2 && memcmp(cs[nc - 1], "..", 2) == 0)) {
                nc--;
                continue;
            }
            if (root == '~') { /* the parent of a home: be strict, call it the root */
                root = '/';
                continue;
            }
            if (root == '/')
                continue;
        }
        if (nc < PATH_COMPS_MAX) {
            cs[nc] = text + s;
            cl[nc++] = len;
        }
    }
    size_t o = 0;
    if (root != 0)
        out[o++] = root;
    for (size_t k = 0; k < nc && o + cl[k] + 2 < VPATH_MAX; k++) {
        if (o > 0 && out[o - 1] != '/')
            out[o++] = '/';
        memcpy(out + o, cs[k], cl[k]);
        o += cl[k];
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
}

/* Components are compared one by one; patterns may hold globs. */
int vpath_match(const char *pattern, const char *path, int exact)
{
    const char *pc[PATH_COMPS_MAX], *sc[PATH_COMPS_MAX];
    size_t pl[PATH_COMPS_MAX], sl[PATH_COMPS_MAX];
    char pr, sr;
    size_t pn = split(pattern, &pr, pc, pl), sn = split(path, &sr, sc, sl);
    if (pr != sr || sn < pn || (exact && sn != pn))
        return 0;
    for (size_t i = 0; i < pn; i++)
        if (!comp_match(pc[i], pl[i], sc[i], sl[i]))
            return 0;
    return 1;
}

static int only_parents(const char *p)
{
    if (*p == '\0' || *p == '/' || *p == '~')
        return 0;
    while (*p != '\0') {
        if (p[0] != '.' || p[1] != '.' || (p[2] != '/' && p[2] != '\0'))
            return 0;
        p += p[2] == '/' ? 3 : 2;
    }
    return 1;
}

static int writable_exception(const validator *v, const char *path)
{
    for (size_t i = 0; i < v->nwritable; i++)
        if (vpath_match(v->writable[i], path, 0))
            return 1;
    return 0;
}

/* The longest protected entry the path is at or under, or NULL. */
static const vpathrule *protected_rule(const validator *v, const char *path)
{
    const vpathrule *best = NULL;
    if (writable_exception(v, path))
        return NULL;
    for (size_t i = 0; i < v->nprotected; i++)
        if (vpath_match(v->protected_paths[i].path, path, 0) &&
            (best == NULL || strlen(v->protected_paths[i].path) > strlen(best->path)))
            best = &v->protected_paths[i];
    return best;
}

/* The sentence goes to the caller's buffer: nothing shared between threads. */
int vpath_vital(const validator *v, const char *path, char *why, size_t cap)
{
    if (strcmp(path, "/") == 0) {
        snprintf(why, cap, "the root filesystem");
        return 1;
    }
    if (strcmp(path, "~") == 0) {
        snprintf(why, cap, "the home directory");
        return 1;
    }
    if (only_parents(path)) {
        snprintf(why, cap, "a parent directory (%s)", path);
        return 1;
    }
    for (size_t i = 0; i < v->nroots; i++)
        if (vpath_match(v->roots[i], path, 1)) {
            snprintf(why, cap, "the system directory %s", path);
            return 1;
        }
    const vpathrule *pr = protected_rule(v, path);
    if (pr != NULL) {
        snprintf(why, cap, "%s (%s)", path, pr->why);
        return 1;
    }
    return 0;
}

static int starts_home(const shell_word *w, size_t *skip)
{
    if (strncmp(w->text, "$HOME", 5) == 0 && (w->text[5] == '/' || w->text[5] == '\0')) {
        *skip = 5;
        return 1;
    }
    if (strncmp(w->text, "${HOME}", 7) == 0 && (w->text[7] == '/' || w->text[7] == '\0')) {
        *skip = 7;
        return 1;
    }
    return 0;
}

/* Literal words are normalized whole; others by their literal directory prefix. $HOME and
 * ~ both mean "a home". */
void vpath_of_word(const struct vrun *r, const shell_word *w, vpath *out)
{
    char buf[VPATH_MAX];
    size_t skip = 0;
    memset(out, 0, sizeof *out);
    unsigned exp = w->flags & SHELL_WORD_EXPANDS & ~SHELL_WORD_TILDE;
    size_t lit = w->literal_len;
    if (starts_home(w, &skip)) {
        int rest_literal = w->nexp == 1;
        size_t n = 0;
        buf[n++] = '~';
        size_t upto = rest_literal ? w->len : skip;
        if (upto - skip < sizeof buf - 2) {
            memcpy(buf + n, w->text + skip, upto - skip);
            n += upto - skip;
        }
        buf[n] = '\0';
        if (rest_literal) {
            out->literal = 1;
            vpath_norm(buf, n, r->cwd, out->path);
            return;
        }
        vpath_norm("~", 1, r->cwd, out->path);
        return;
    }
    if (exp == 0) {
        out->literal = 1;
        vpath_norm(w->text, w->len, r->cwd, out->path);
        return;
    }
    if (lit == 0 && strchr("*?[", w->text[0]) == NULL) {
        out->unknown = 1;
        return;
    }
    while (lit > 0 && w->text[lit - 1] != '/')
        lit--; /* the directory the expansion happens in */
    vpath_norm(w->text, lit, r->cwd, out->path);
}

/* ---- writes and deletes --------------------------------------------------------------------- */

static int under_scratch(const validator *v, const char *path)
{
    for (size_t i = 0; i < v->nscratch; i++)
        if (vpath_match(v->scratch[i], path, 0) && !vpath_match(v->scratch[i], path, 1))
            return 1;
    return 0;
}

/* {a,b}c -> ac bc, one group at a time, up to max words of VPATH_MAX bytes. Returns the
 * count, or -1 when the list cannot be expanded here (ranges, nesting, too many). */
static int brace_expand(const char *text, char (*out)[VPATH_MAX], int max)
{
    const char *open = strchr(text, '{');
    if (open == NULL) {
        if (max < 1 || strlen(text) >= VPATH_MAX)
            return -1;
        str_copy(out[0], VPATH_MAX, text);
        return 1;
    }
    const char *close = strchr(open, '}');
    const char *inner = strchr(open + 1, '{');
    if (close == NULL || (inner != NULL && inner < close))
        return -1;
    if (memchr(open, ',', (size_t)(close - open)) == NULL)
        return -1; /* {1..9} and the like */
    int n = 0;
    const char *alt = open + 1;
    while (alt <= close) {
        const char *end = alt;
        while (end < close && *end != ',')
            end++;
        char buf[VPATH_MAX];
        size_t pre = (size_t)(open - text), al = (size_t)(end - alt), post = strlen(close + 1);
        if (pre + al + post >= sizeof buf)
            return -1;
        memcpy(buf, text, pre);
        memcpy(buf + pre, alt, al);
        memcpy(buf + pre + al, close + 1, post + 1);
        int k = brace_expand(buf, out + n, max - n);
        if (k < 0)
            return -1;
        n += k;
        alt = end + 1;
    }
    return n;
}

/* Calls fn for every literal word a brace list of literals expands to. Returns 1 when w was
 * such a list (and fn was called), else 0. */
static int each_brace(struct vrun *r, const shell_word *w, const char *verb,
                      void (*fn)(struct vrun *, const shell_word *, const char *))
{
    unsigned exp = w->flags & SHELL_WORD_EXPANDS;
    if ((exp & ~SHELL_WORD_TILDE) != SHELL_WORD_BRACE)
        return 0;
    char (*list)[VPATH_MAX] = xcalloc(VBRACE_MAX, VPATH_MAX);
    int n = brace_expand(w->text, list, VBRACE_MAX);
    for (int i = 0; i < n; i++) {
        shell_word one = {list[i], strlen(list[i]), 0, 0, 0, 0};
        one.literal_len = one.unquoted_len = one.len;
        if (list[i][0] == '~' && (exp & SHELL_WORD_TILDE))
            one.flags = SHELL_WORD_TILDE;
        fn(r, &one, verb);
    }
    free(list);
    return n >= 0;
}

/* Protected trees are forbidden; scratch space and the writable exceptions are fine;
 * anything else is a change worth a warning. */
void vrun_write(struct vrun *r, const shell_word *w, const char *verb)
{
    vpath p;
    if (each_brace(r, w, verb, vrun_write))
        return;
    vpath_of_word(r, w, &p);
    if (p.unknown) {
        vrun_note(r, RISK_WARNING, "%s a file named only at run time (%s)", verb, w->text);
        return;
    }
    if (writable_exception(r->v, p.path))
        return;
    const vpathrule *pr = protected_rule(r->v, p.path);
    if (pr != NULL) {
        if (p.literal)
            vrun_note(r, RISK_FORBIDDEN, "%s %s (%s)", verb, p.path, pr->why);
        else
            vrun_note(r, RISK_FORBIDDEN, "%s files under %s (%s)", verb, p.path, pr->why);
        return;
    }
    if (p.literal && strcmp(p.path, "/") == 0) {
        vrun_note(r, RISK_FORBIDDEN, "%s the root directory", verb);
        return;
    }
    if (p.literal && under_scratch(r->v, p.path))
        return;
    if (p.literal)
        vrun_note(r, RISK_WARNING, "%s %s", verb, p.path);
    else
        vrun_note(r, RISK_WARNING, "%s files named only at run time (%s)", verb, w->text);
}

/* The root, a home, a parent, a system directory or a protected path is forbidden; for a
 * word with an expansion, its directory is what counts (rm -rf /$X, rm -rf ~/ *). */
void vrun_delete(struct vrun *r, const shell_word *w, const char *verb)
{
    char why[VPATH_MAX + 256];
    vpath p;
    if (each_brace(r, w, verb, vrun_delete))
        return;
    vpath_of_word(r, w, &p);
    if (p.unknown) {
        vrun_note(r, RISK_DANGEROUS, "%s paths known only at run time (%s)", verb, w->text);
        return;
    }
    if (vpath_vital(r->v, p.path, why, sizeof why)) {
        if (p.literal)
            vrun_note(r, RISK_FORBIDDEN, "%s %s", verb, why);
        else
            vrun_note(r, RISK_FORBIDDEN, "%s everything in %s", verb, why);
        return;
    }
    if (!p.literal)
        vrun_note(r, RISK_WARNING, "%s paths named only at run time (%s)", verb, w->text);
}
