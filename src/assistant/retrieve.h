/* Retrieval over the knowledge base (kb.h): which entry answers a request, with its
 * parameters filled from the request, and an honest "nothing fits" when none does.
 * Requests are normalized (textnorm.h), joined through synonyms, scored with BM25 (k1 1.2,
 * b 0.75) plus a bonus for adjacent terms and a steer towards the domains the request names
 * (aws, s3, k8s, terraform, ...); whether the best entry fits is decided from how much of
 * the request it covers (idf-weighted) and its score. Every function here only reads the
 * base and the caller's memory: safe from many threads at once. */
#ifndef CLOUDYA_RETRIEVE_H
#define CLOUDYA_RETRIEVE_H
#include <stddef.h>

#include "kb.h"

#define KB_ACTION_MAX 4096       /* bytes of the filled command */
#define KB_EXPLANATION_MAX 8192  /* bytes of the explanation (truncated at a character) */
#define KB_CONTEXT_MAX 10        /* earlier requests looked at (the last one is used) */
#define KB_TOPICS_MAX 3          /* closest topics named when nothing fits */

typedef struct kb_hit {
    const kb_entry *entry;
    double score;      /* the ranking score (higher is better; not bounded) */
    double confidence; /* 0..1: how well the entry fits the request */
} kb_hit;

typedef struct kb_param_value {
    char name[KB_PARAM_NAME_MAX + 1];
    char value[KB_VALUE_MAX + 1];
    int from_request; /* 1: taken from the request, 0: the entry's default */
} kb_param_value;

/* An answer, all in the caller's memory. */
struct kb_answer {
    char action[KB_ACTION_MAX];           /* the command with its parameters; "" if none */
    char explanation[KB_EXPLANATION_MAX]; /* markdown-ish text in lang */
    const kb_entry *entry;                /* NULL when nothing fits */
    char lang[3];                         /* "fr" or "en" */
    double confidence;                    /* 0..1 */
    kb_param_value params[KB_PARAMS_MAX];
    size_t nparams;
};

/* "fr" or "en": the language of text, from its stopwords, typical words and accents
 * (English when nothing tells). Never NULL. */
const char *kb_detect_lang(const char *text);

/* Ranks the entries for request. Fills at most max hits, best first. Returns their number
 * (0 when no entry shares a term with the request), or -EINVAL when an argument is NULL. */
int kb_search(const kb *k, const char *request, kb_hit *hits, size_t max);

/* Answers request. context: the earlier requests of the conversation, oldest first (NULL
 * when ncontext is 0); a follow-up ("and with 10 replicas?", "now delete it") that fits
 * poorly alone is answered with the last earlier request, parameters taken from the new
 * request first. lang: "fr" or "en", or NULL to detect it from the request.
 * Returns 0 with out filled (the action, the explanation followed by the best practice and,
 * when some parameters kept their defaults, which placeholders to replace), -ENOENT when no
 * entry fits (out->action is "", out->entry NULL, out->explanation an honest sentence that
 * names up to KB_TOPICS_MAX close topics), or -EINVAL when k, request or out is NULL. */
int kb_answer(const kb *k, const char *request, const char *const *context, size_t ncontext,
              const char *lang, struct kb_answer *out);

#endif
