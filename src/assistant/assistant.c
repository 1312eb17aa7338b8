/* The assistant: retrieval (retrieve.h) or a provider (llm.h), then the validator
 * (validator.h). See assistant.h. */
#define _POSIX_C_SOURCE 200809L
#include "assistant.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"
#include "kb.h"
#include "llm.h"
#include "log.h"
#include "retrieve.h"
#include "str.h"
#include "textnorm.h"
#include "validator.h"
#include "xalloc.h"

#define LLM_CONTEXT_ENTRIES 3 /* knowledge entries given to a provider */
#define POLICY_FILE "policy.yaml"

struct assistant {
    kb *kb;
    validator *val;
    llm_config llm;
    int llm_on;
};

int assistant_open(const char *dir, assistant **out, char *err, size_t errlen)
{
    char path[4096];
    assistant *a = xcalloc(1, sizeof *a);
    int rc = kb_load_dir(dir, &a->kb, err, errlen);
    if (rc != 0) goto fail;
    snprintf(path, sizeof path, "%s/%s", dir, POLICY_FILE);
    if ((rc = validator_load(path, &a->val, err, errlen)) != 0) goto fail;
    rc = llm_config_from_env(&a->llm);
    if (rc == -EINVAL) {
        snprintf(err, errlen, "the LLM provider's settings are unusable (see the log)");
        goto fail;
    }
    a->llm_on = rc == 0;
    *out = a;
    return 0;
fail:
    assistant_close(a);
    *out = NULL;
    return rc;
}

void assistant_close(assistant *a)
{
    if (!a) return;
    kb_free(a->kb);
    validator_free(a->val);
    free(a);
}

size_t assistant_entries(const assistant *a)
{
    return kb_count(a->kb);
}

const char *assistant_model(const assistant *a)
{
    return a->llm_on ? a->llm.model : NULL;
}

static int risk_rank(const char *r)
{
    static const char *const names[] = {"safe", "warning", "dangerous", "forbidden"};
    for (int i = 0; i < 4; i++)
        if (strcmp(r, names[i]) == 0) return i;
    return 3;
}

void assistant_check(const assistant *a, const char *action, char *risk, char *reason,
                     size_t reason_cap)
{
    validation v;
    if (validator_check(a->val, action, &v) != 0) {
        str_copy(risk, STORE_RISK_MAX, "forbidden");
        snprintf(reason, reason_cap, "the command cannot be checked");
        return;
    }
    str_copy(risk, STORE_RISK_MAX, risk_level_name(v.risk));
    str_copy(reason, reason_cap, v.risk == RISK_SAFE ? "" : v.reason);
}

/* The validator's rating, raised to the knowledge entry's own when that is worse (an entry
 * that destroys something says so even when the policy only warns). */
static void rate(const assistant *a, assistant_reply *r, const char *entry_risk)
{
    if (!r->action[0]) {
        str_copy(r->risk, sizeof r->risk, "safe");
        r->risk_reason[0] = '\0';
        return;
    }
    assistant_check(a, r->action, r->risk, r->risk_reason, sizeof r->risk_reason);
    if (entry_risk && risk_rank(entry_risk) > risk_rank(r->risk)) {
        str_copy(r->risk, sizeof r->risk, entry_risk);
        if (!r->risk_reason[0])
            snprintf(r->risk_reason, sizeof r->risk_reason,
                     strcmp(r->lang, "fr") == 0
                         ? "la base de connaissances classe cette commande « %s » : relisez-la"
                         : "the knowledge base rates this command %s: review it before running it",
                     entry_risk);
    }
}

/* ---- requests to destroy everything -------------------------------------------------------
 * "delete everything on the server", "supprimer tous les fichiers du disque", "format the
 * disk": no knowledge entry should be stretched to fit them (the nearest one would delete
 * something real, with "everything" as its name). They are refused before retrieval, with
 * the reason, whatever the provider would say. Words are compared folded (no accents). */
#define GUARD_TEXT_MAX 4096
#define GUARD_WORDS_MAX 64

static const char *const destroy_verbs[] = {
    "delete", "remove", "erase", "wipe", "destroy", "nuke", "purge", "format", "rm",
    "supprimer", "supprime", "supprimez", "effacer", "efface", "effacez", "detruire",
    "detruis", "detruisez", "formater", "formate", "formatez", "vider", "vide", "videz",
};
static const char *const everything_words[] = {"everything", "anything", "tout"};
static const char *const all_words[] = {"all", "tous", "toutes", "whole", "entire"};
static const char *const all_objects[] = {"files", "fichiers", "data", "donnees", "disk",
                                          "disks", "disque", "disques", "server", "serveur",
                                          "system", "systeme", "machine", "filesystem"};
static const char *const disk_words[] = {"disk", "disque", "partition", "drive", "dev", "sda",
                                         "nvme0n1", "hdd", "ssd"};

static int word_in(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, list[i]) == 0) return 1;
    return 0;
}

#define IN(w, list) word_in((w), (list), sizeof(list) / sizeof((list)[0]))

/* 1 when request asks to destroy everything (see above). */
static int destroys_everything(const char *request)
{
    char text[GUARD_TEXT_MAX];
    const char *w[GUARD_WORDS_MAX];
    size_t n = 0;
    int verb = 0, format = 0;
    textnorm_fold(request, strlen(request), text, sizeof text);
    for (char *p = text; *p && n < GUARD_WORDS_MAX;) {
        while (*p && !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) p++;
        if (!*p) break;
        w[n++] = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) p++;
        if (*p) *p++ = '\0';
    }
    for (size_t i = 0; i < n; i++) {
        if (IN(w[i], destroy_verbs)) verb = 1;
        if (strncmp(w[i], "format", 6) == 0) format = 1;
    }
    if (!verb) return 0;
    for (size_t i = 0; i < n; i++) {
        if (IN(w[i], everything_words)) return 1;
        if (format && IN(w[i], disk_words)) return 1;
        /* "all files", "tous les fichiers", "the whole disk": up to two words apart */
        if (IN(w[i], all_words))
            for (size_t j = i + 1; j < n && j <= i + 3; j++)
                if (IN(w[j], all_objects)) return 1;
    }
    return 0;
}

static void refuse_everything(assistant_reply *r, const char *request, const char *lang)
{
    int fr = strcmp(lang ? lang : kb_detect_lang(request), "fr") == 0;
    str_copy(r->lang, sizeof r->lang, fr ? "fr" : "en");
    r->action[0] = '\0';
    r->matched = 0;
    r->source = "offline";
    str_copy(r->risk, sizeof r->risk, "forbidden");
    str_copy(r->risk_reason, sizeof r->risk_reason,
             fr ? "la demande vise à tout détruire (tous les fichiers, le disque, le serveur) : "
                  "Cloudya ne propose pas de telle commande"
                : "the request asks to destroy everything (all files, a whole disk, the "
                  "server): Cloudya does not propose such commands");
    r->explanation = xstrdup(
        fr ? "Je ne propose pas de commande qui efface tout. Nommez précisément ce qu'il faut "
             "supprimer (un conteneur, un bucket, un namespace…) : la réponse dira quoi "
             "sauvegarder d'abord et comment vérifier avant d'agir."
           : "I do not propose commands that wipe everything. Name exactly what should go (a "
             "container, a bucket, a namespace…): the answer will say what to back up first "
             "and how to check before acting.");
    r->prompt_tokens = billing_words(request);
    r->completion_tokens = billing_words(r->explanation);
}

/* The offline answer; words stand for tokens, as the seed says. */
static int offline(assistant *a, const char *request, const char *const *context, size_t nctx,
                   const char *lang, assistant_reply *r)
{
    struct kb_answer *ans = xcalloc(1, sizeof *ans); /* tens of KiB: not on a worker's stack */
    int rc = kb_answer(a->kb, request, context, nctx, lang, ans);
    if (rc != 0 && rc != -ENOENT) {
        free(ans);
        return rc;
    }
    r->matched = rc == 0 && ans->entry;
    str_copy(r->lang, sizeof r->lang, ans->lang);
    str_copy(r->action, sizeof r->action, r->matched ? ans->action : "");
    r->explanation = xstrdup(ans->explanation);
    if (r->matched) str_copy(r->entry, sizeof r->entry, kb_entry_id(ans->entry));
    r->source = "offline";
    rate(a, r, r->matched ? kb_entry_risk(ans->entry) : NULL);
    free(ans);
    r->prompt_tokens = billing_words(request);
    r->completion_tokens = billing_words(r->action) + billing_words(r->explanation);
    return 0;
}

/* The provider's answer with the best entries as context; -errno when it failed (err says
 * why, without the key). */
static int provider(assistant *a, const char *request, const char *const *context, size_t nctx,
                    const char *lang, assistant_reply *r, char *err, size_t errlen)
{
    kb_hit hits[LLM_CONTEXT_ENTRIES];
    llm_turn turns[ASSISTANT_CONTEXT_MAX];
    llm_answer ans;
    if (!lang) lang = kb_detect_lang(request);
    int n = kb_search(a->kb, request, hits, LLM_CONTEXT_ENTRIES);
    json_t *entries = json_array();
    for (int i = 0; i < n; i++) {
        const kb_entry *e = hits[i].entry;
        json_array_append_new(entries,
                              json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", kb_entry_id(e),
                                        "command", kb_entry_command(e), "explanation",
                                        kb_entry_explanation(e, lang), "practice",
                                        kb_entry_practice(e, lang), "risk", kb_entry_risk(e)));
    }
    if (nctx > ASSISTANT_CONTEXT_MAX) nctx = ASSISTANT_CONTEXT_MAX;
    for (size_t i = 0; i < nctx; i++)
        turns[i] = (llm_turn){"user", context[i]};
    int rc = llm_ask(&a->llm, request, lang, entries, turns, nctx, &ans, err, errlen);
    json_decref(entries);
    if (rc != 0) return rc;
    str_copy(r->lang, sizeof r->lang, lang);
    str_copy(r->action, sizeof r->action, ans.action);
    r->explanation = xstrdup(ans.explanation);
    r->matched = ans.action[0] != '\0';
    r->source = "llm";
    r->prompt_tokens = ans.prompt_tokens;
    r->completion_tokens = ans.completion_tokens;
    llm_answer_free(&ans);
    rate(a, r, NULL);
    return 0;
}

int assistant_answer(assistant *a, const char *request, const char *const *context, size_t nctx,
                     const char *lang, assistant_reply *out)
{
    char err[256] = "";
    memset(out, 0, sizeof *out);
    if (destroys_everything(request)) {
        refuse_everything(out, request, lang);
        return 0;
    }
    if (a->llm_on) {
        int rc = provider(a, request, context, nctx, lang, out, err, sizeof err);
        if (rc == 0) return 0;
        log_warnx("the LLM provider failed (%s); answering offline", err);
        assistant_reply_free(out);
        memset(out, 0, sizeof *out);
        snprintf(out->note, sizeof out->note, "the LLM provider failed (%.200s); answered offline",
                 err);
    }
    return offline(a, request, context, nctx, lang, out);
}

void assistant_reply_free(assistant_reply *r)
{
    if (!r) return;
    free(r->explanation);
    r->explanation = NULL;
}
