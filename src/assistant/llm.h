/* The assistant's LLM client: one question to any OpenAI-compatible chat-completions endpoint
 * (OpenAI, Azure OpenAI, Ollama, llama.cpp's server, vLLM), with the retrieved knowledge
 * entries as context, asking for a JSON answer {"action", "explanation"}. Everything that
 * comes back is outside input: the body, the action and the explanation have named limits
 * applied before they are used, and a provider that ignores response_format (fences, text
 * around the object) is tolerated. Errors are a negative errno and a sentence that never
 * contains the API key, so the caller can fall back to the offline engine and say why. */
#ifndef CLOUDYA_LLM_H
#define CLOUDYA_LLM_H
#include <jansson.h>
#include <stddef.h>

#define LLM_BODY_MAX (1024 * 1024)       /* the provider's whole answer */
#define LLM_ACTION_MAX 4096              /* the command, in bytes */
#define LLM_EXPLANATION_MAX 16384        /* the explanation, in bytes */
#define LLM_CONTEXT_MAX (64 * 1024)      /* the knowledge entries in the system message */
#define LLM_HISTORY_MAX 20               /* earlier turns sent (the most recent ones) */
#define LLM_TURN_MAX 16384               /* one earlier turn or the request, in bytes */
#define LLM_MAX_TOKENS 800
#define LLM_DEFAULT_BASE_URL "https://api.openai.com/v1"
#define LLM_DEFAULT_MODEL "gpt-4o-mini"
#define LLM_DEFAULT_TIMEOUT_S 20
#define LLM_DEFAULT_API_VERSION "2024-02-01"

typedef struct llm_config {
    char base_url[512];   /* without a trailing '/'; Azure: the deployment URL */
    char api_key[256];    /* "" sends no credentials (a local Ollama) */
    char model[128];
    long timeout_ms;
    int azure;            /* 1: api-key header and ?api-version= (host *.openai.azure.com) */
    char api_version[32];
} llm_config;

/* One earlier turn of the conversation: role "user" or "assistant". */
typedef struct llm_turn {
    const char *role;
    const char *content;
} llm_turn;

/* action: one command line ("" when no command fits), no control characters, at most
 * LLM_ACTION_MAX bytes. explanation: at most LLM_EXPLANATION_MAX bytes, newlines and tabs
 * kept, other control characters replaced by spaces. The token counts come from the
 * provider's usage, estimated (one token per word) when it sent none. model: the model
 * that answered, as the provider names it. Both strings are malloc'ed and valid UTF-8. */
typedef struct llm_answer {
    char *action;
    char *explanation;
    long prompt_tokens;
    long completion_tokens;
    char model[128];
} llm_answer;

/* Reads OPENAI_API_KEY, OPENAI_BASE_URL, CLOUDYA_LLM_MODEL, CLOUDYA_LLM_TIMEOUT (seconds)
 * and OPENAI_API_VERSION into c, with the defaults above. A provider is configured when
 * OPENAI_API_KEY or OPENAI_BASE_URL is set and non-empty. Returns 0 when configured,
 * -ENOENT when not (c then holds the defaults), or -EINVAL when a value is unusable (not an
 * http(s) URL, too long, control characters, a timeout outside 1..600): the reason, naming
 * the variable but never the key's value, is logged. */
int llm_config_from_env(llm_config *c);

/* Asks the provider of c for one command answering request, in lang ("fr", "en" or another
 * language code; NULL means English), with context (a JSON array of knowledge entries:
 * objects with id, command, explanation, practice, risk; NULL or empty for none) and the
 * earlier turns (oldest first). Blocks for at most c->timeout_ms. Returns 0 with out filled
 * (free it with llm_answer_free), or with out zeroed and a sentence in err: -ETIMEDOUT,
 * -ECONNREFUSED (no connection), -EACCES (401/403: the key), -EAGAIN (429: rate or quota),
 * -EIO (5xx, TLS or another status), -EPROTO (the answer is not the wire format, larger than
 * LLM_BODY_MAX, or its content is not the JSON object asked for), -EINVAL (request,
 * history or lang unusable: empty, not UTF-8, too long, an unknown role). The caller must
 * have called curl_global_init. Thread-safe (one curl handle per call). */
int llm_ask(const llm_config *c, const char *request, const char *lang, json_t *context,
            const llm_turn *history, size_t nhistory, llm_answer *out, char *err,
            size_t errlen);

/* Frees what llm_ask or llm_parse_response put in a and zeroes it. Safe on a zeroed answer
 * and twice. */
void llm_answer_free(llm_answer *a);

/* The chat-completions request body llm_ask sends: model, messages (system: the rules and
 * the knowledge entries as a JSON block; then the earlier turns, at most LLM_HISTORY_MAX of
 * the most recent; then the request as the user's), temperature 0.2, response_format
 * json_object and max_tokens. Returns a new reference, or NULL when an input is unusable
 * (the -EINVAL cases of llm_ask). Exported for tests. */
json_t *llm_build_request(const llm_config *c, const char *request, const char *lang,
                          json_t *context, const llm_turn *history, size_t nhistory);

/* Parses a provider's successful (2xx) chat-completions answer of len bytes: the first
 * choice's message content must hold a JSON object with a string "action" (null is taken
 * as "") and a string "explanation", either alone, in ```json fences, or with text around
 * it. Returns 0 with out filled (prompt_tokens estimated as 0 and completion_tokens from
 * the content's words when the body has no usage), or -EPROTO with out zeroed and a
 * sentence in err. Exported for tests and the fuzzer. */
int llm_parse_response(const char *body, size_t len, llm_answer *out, char *err,
                       size_t errlen);

#endif
