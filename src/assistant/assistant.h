/* The assistant: from a request in French or English to one shell command, its explanation
 * and its risk. The offline engine (the knowledge base in knowledge/ (one YAML file a domain), retrieve.h) is
 * the default; when an OpenAI-compatible provider is configured (llm.h) it answers instead,
 * with the retrieved entries as context, and a failing provider falls back to the offline
 * engine with a note. Every action, whoever wrote it, is classified by the validator
 * (validator.h, knowledge/policy.yaml). Thread-safe after assistant_open. */
#ifndef CLOUDYA_ASSISTANT_H
#define CLOUDYA_ASSISTANT_H
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define ASSISTANT_REQUEST_CHARS 4000 /* characters of a request */
#define ASSISTANT_CONTEXT_MAX 10     /* earlier requests of a conversation */
#define ASSISTANT_REASON_MAX 512

typedef struct assistant assistant;

typedef struct assistant_reply {
    char action[STORE_ACTION_MAX + 1];   /* "" when nothing fits */
    char *explanation;                   /* malloc'ed, never NULL after a 0 answer */
    char risk[STORE_RISK_MAX];           /* "safe", "warning", "dangerous", "forbidden" */
    char risk_reason[ASSISTANT_REASON_MAX];
    int matched;                         /* 0: no command is known for the request */
    char lang[3];                        /* "fr" or "en" */
    const char *source;                  /* "offline" or "llm" */
    char note[256];                      /* e.g. why the provider was not used; "" when none */
    char entry[72];                      /* the knowledge entry used, "" when none */
    int64_t prompt_tokens, completion_tokens;
} assistant_reply;

/* Loads the knowledge base and the validator's policy from dir (dir/policy.yaml), and the
 * provider's settings from the environment (OPENAI_API_KEY, OPENAI_BASE_URL,
 * CLOUDYA_LLM_MODEL, CLOUDYA_LLM_TIMEOUT). Returns 0, or a negative errno with a sentence
 * naming the file and the problem in err. */
int assistant_open(const char *dir, assistant **out, char *err, size_t errlen);
void assistant_close(assistant *a);

/* Entries in the knowledge base; the provider's model, or NULL when answers are offline. */
size_t assistant_entries(const assistant *a);
const char *assistant_model(const assistant *a);

/* Answers request (with context, the earlier requests of the conversation, oldest first, and
 * lang "fr", "en" or NULL to detect it). Returns 0 with out filled (free it with
 * assistant_reply_free), also when nothing fits (out->matched 0); -ENOMEM. */
int assistant_answer(assistant *a, const char *request, const char *const *context, size_t nctx,
                     const char *lang, assistant_reply *out);
void assistant_reply_free(assistant_reply *r);

/* Classifies action with the validator: risk (STORE_RISK_MAX bytes) and a reason naming the
 * offending part ("" for a safe action). */
void assistant_check(const assistant *a, const char *action, char *risk, char *reason,
                     size_t reason_cap);

#endif
