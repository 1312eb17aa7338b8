#define _POSIX_C_SOURCE 200809L
/* What runs code the validator cannot see whole (see validator_int.h): shells and
 * interpreters classified by where their program comes from (a -c string, a script file, a
 * here-document, a pipe), source and ., and the files an action downloads, which it must
 * not run afterwards. */
#include "validator_int.h"

#include "str.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shells ---------------------------------------------------------------------------------- */

/* The chain of commands writing into the pipe this command reads. */
static const char *upstream(const struct vrun *r)
{
    const shell_cmd *c = r->cmd;
    const char *found = "runs commands read from a pipe, which cannot be checked";
    for (int guard = 0; c != NULL && (c->flags & SHELL_CMD_PIPE_IN) && c->pipe_from >= 0 &&
                        guard < SHELL_LEX_CMDS_MAX; guard++) {
        c = &r->script->cmds[c->pipe_from];
        if (c->nwords == 0)
            continue;
        const char *prog = vbasename(c->words[0].text);
        size_t k = 0;
        while (k + 1 < c->nwords && validator_wrapper_find(r->v, prog) != NULL &&
               c->words[k + 1].text[0] != '-')
            prog = vbasename(c->words[++k].text);
        if (vpat_match(&r->v->downloaders, prog))
            return "runs code downloaded from the network (a download piped into a shell)";
        if (vpat_match(&r->v->decoders, prog))
            found = "runs decoded, hidden code (a decoder piped into a shell)";
    }
    return found;
}

/* The last input redirection decides; else a pipe (forbidden) or a terminal (a warning).
 * A shell's here-document or here-string is checked as a command string. */
void vrun_stdin_program(struct vrun *r, const char *lang)
{
    const shell_cmd *c = r->cmd;
    int interp = strcmp(lang, "shell") != 0;
    for (size_t k = c != NULL ? c->nredirs : 0; k-- > 0;) {
        const shell_redir *rd = &c->redirs[k];
        if (rd->fd > 0)
            continue;
        if (rd->kind == SHELL_REDIR_HEREDOC) {
            if (interp)
                vrun_note(r, RISK_DANGEROUS, "runs %s code from a here-document", lang);
            else if (rd->body_literal)
                vrun_string(r, rd->body, rd->body_len, "here-document");
            else
                vrun_note(r, RISK_FORBIDDEN, "runs a here-document expanded at run time");
            return;
        }
        if (rd->kind == SHELL_REDIR_HERESTRING) {
            if (interp)
                vrun_note(r, RISK_DANGEROUS, "runs %s code from a here-string", lang);
            else
                vrun_string_word(r, &rd->target, "here-string");
            return;
        }
        if (rd->kind == SHELL_REDIR_IN || rd->kind == SHELL_REDIR_INOUT) {
            if (rd->target.flags & SHELL_WORD_PROCSUBST)
                vrun_note(r, RISK_FORBIDDEN, "runs a script produced by another command");
            else if (!shell_word_is_literal(&rd->target))
                vrun_note(r, RISK_FORBIDDEN, "runs a script named only at run time");
            else
                vrun_note(r, RISK_WARNING, "runs the script %s, which is not checked",
                          rd->target.text);
            return;
        }
    }
    if (c != NULL && (c->flags & SHELL_CMD_PIPE_IN))
        vrun_note(r, RISK_FORBIDDEN, "%s", upstream(r));
    else
        vrun_note(r, RISK_WARNING, "starts an interactive %s", interp ? lang : "shell");
}

static int reads_input(const char *t)
{
    return strcmp(t, "-") == 0 || strcmp(t, "/dev/stdin") == 0 ||
           strncmp(t, "/dev/fd/", 8) == 0 || strncmp(t, "/proc/self/fd/", 14) == 0;
}

/* A script operand: a process substitution or an unknown name is forbidden. Returns 1 when
 * the operand was classified, 0 when the program reads its input after all. */
static int script_operand(struct vrun *r, const shell_word *w)
{
    if (w->flags & SHELL_WORD_PROCSUBST) {
        vrun_note(r, RISK_FORBIDDEN, "runs a script produced by another command (%s)", w->text);
        return 1;
    }
    if (!shell_word_is_literal(w)) {
        vrun_note(r, RISK_FORBIDDEN, "runs a script named only at run time (%s)", w->text);
        return 1;
    }
    if (reads_input(w->text))
        return 0;
    if (vrun_is_download(r, w))
        vrun_note(r, RISK_FORBIDDEN, "runs %s, which this action downloads", w->text);
    else
        vrun_note(r, RISK_WARNING, "runs the script %s, which is not checked", w->text);
    return 1;
}

/* sh [-options] [-c string [name [args]] | script [args] | -s [args]] */
void vcheck_shell(struct vrun *r, const shell_word *const *argv, size_t n)
{
    int cmd = 0, stdin_mode = 0;
    size_t i = 1;
    for (; i < n; i++) {
        const char *t = argv[i]->text;
        if (!shell_word_is_literal(argv[i]))
            break;
        if (strcmp(t, "--") == 0 || strcmp(t, "-") == 0) {
            i++;
            break;
        }
        if ((t[0] != '-' && t[0] != '+') || t[1] == '\0')
            break;
        if (t[1] == '-') {
            if (strcmp(t, "--rcfile") == 0 || strcmp(t, "--init-file") == 0)
                i++;
            continue;
        }
        for (size_t j = 1; t[j] != '\0'; j++) {
            if (t[j] == 'c')
                cmd = 1;
            else if (t[j] == 's')
                stdin_mode = 1;
            else if ((t[j] == 'o' || t[j] == 'O') && i + 1 < n)
                i++;
        }
    }
    if (cmd) {
        if (i < n)
            vrun_string_word(r, argv[i], "sh -c");
        return;
    }
    if (!stdin_mode && i < n && script_operand(r, argv[i]))
        return;
    vrun_stdin_program(r, "shell");
}

/* The first option or operand that names the program decides: inline code, a module, a
 * script file, or the input. */
void vcheck_interp(struct vrun *r, const vinterp *ip, const shell_word *const *argv, size_t n)
{
    vitems it;
    vpat values = ip->value_options;
    /* inline and module options take values too; merge the three lists */
    size_t total = ip->value_options.n + ip->inline_opts.n + ip->module_opts.n;
    char **alts = xcalloc(total + 1, sizeof(*alts));
    size_t k = 0;
    for (size_t i = 0; i < ip->value_options.n; i++)
        alts[k++] = ip->value_options.alt[i];
    for (size_t i = 0; i < ip->inline_opts.n; i++)
        alts[k++] = ip->inline_opts.alt[i];
    for (size_t i = 0; i < ip->module_opts.n; i++)
        alts[k++] = ip->module_opts.alt[i];
    values.alt = alts;
    values.n = k;
    vitems_parse(&it, argv, n, &values, 1, 1);
    int done = 0;
    for (size_t i = 0; i < it.n && !done; i++) {
        const vitem *x = &it.v[i];
        if (x->kind == VITEM_OPERAND) {
            done = script_operand(r, x->word);
            if (!done) {
                vrun_stdin_program(r, ip->lang);
                done = 1;
            }
        } else if (ip->inline_opts.n > 0 && (vpat_match(&ip->inline_opts, x->name) ||
                                             vpat_match(&ip->inline_opts, x->word->text))) {
            vrun_note(r, RISK_DANGEROUS, "runs inline %s code, which is not checked", ip->lang);
            done = 1;
        } else if (ip->module_opts.n > 0 && vpat_match(&ip->module_opts, x->name)) {
            vrun_note(r, RISK_WARNING, "runs the %s module %s", ip->lang,
                      x->value != NULL ? x->value : "");
            done = 1;
        }
    }
    if (!done)
        vrun_stdin_program(r, ip->lang);
    vitems_free(&it);
    free(alts);
}

/* The script operand, or the input for /dev/stdin; nothing without an operand. */
void vcheck_source(struct vrun *r, const vitems *it)
{
    const vitem *op = vitems_operand(it, 0);
    if (op == NULL)
        return;
    if (script_operand(r, op->word))
        return;
    vrun_stdin_program(r, "shell");
}

/* The URL's last path component: what curl -O and wget name the file. */
static void url_name(struct vrun *r, const shell_word *url, const char *dir)
{
    char name[VPATH_MAX];
    const char *t = url->text;
    size_t end = strcspn(t, "?#");
    size_t start = end;
    while (start > 0 && t[start - 1] != '/')
        start--;
    if (!shell_word_is_literal(url) || strstr(t, "://") == NULL)
        return;
    if (start == end || start < 3 || t[start - 2] == '/') {
        snprintf(name, sizeof name, "%s%sindex.html", dir, dir[0] ? "/" : "");
    } else {
        str_fmt(name, sizeof name, "%s%s%.*s", dir, dir[0] ? "/" : "", (int)(end - start),
                t + start);
    }
    shell_word w = {name, strlen(name), 0, 0, 0, 0};
    w.literal_len = w.unquoted_len = w.len;
    vrun_downloaded(r, &w);
}

/* curl -o FILE / -O, wget -O FILE / default names: the files an action must not run. */
void vcheck_download(struct vrun *r, const vprogram *p, const vitems *it)
{
    int curl = strcmp(p->name, "curl") == 0;
    const vitem *out = vitems_opt(it, curl ? "-o|--output" : "-O|--output-document");
    const vitem *prefix = curl ? NULL : vitems_opt(it, "-P|--directory-prefix");
    shell_word tmp;
    if (out != NULL && out->value != NULL) {
        if (out->value_word != NULL)
            tmp = *out->value_word;
        else
            vword_sub(&tmp, out->word, out->value, out->value_len);
        vrun_downloaded(r, &tmp);
        return;
    }
    if (curl && vitems_opt(it, "-O|--remote-name|--remote-name-all") == NULL)
        return;
    const char *dir = prefix != NULL && prefix->value != NULL ? prefix->value : "";
    for (size_t i = 0; i < it->n; i++)
        if (it->v[i].kind == VITEM_OPERAND)
            url_name(r, it->v[i].word, dir);
}
