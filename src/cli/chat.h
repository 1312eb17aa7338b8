/* The assistant on the command line: what `cloudya ask` and both chats share. One request
 * to POST /api/command (with the conversation so far as "context"), the answer laid out as
 * lines (mdrender.h) that a terminal, a pipe or curses shows, the sentences for its
 * failures, and requests that run on a thread of their own so that a chat can keep
 * drawing, take keys and be cancelled while the daemon thinks. */
#ifndef CLOUDYA_CLI_CHAT_H
#define CLOUDYA_CLI_CHAT_H
#include <jansson.h>
#include <stddef.h>

#include "cli.h"
#include "client.h"
#include "mdrender.h"

#define ASSIST_INPUT_CHARS 4000                        /* the API's limit on a request */
#define ASSIST_INPUT_BYTES (4 * ASSIST_INPUT_CHARS + 1) /* the same in UTF-8 bytes, with NUL */
#define ASSIST_CONTEXT_MAX 10                          /* earlier requests sent as context */
#define ASSIST_TIMEOUT_S 180                           /* one answer or one execution */
#define ASSIST_PLAN_MAX 32

/* The earlier requests of a conversation, oldest first; the oldest goes past the limit. */
struct chat_context {
    char *items[ASSIST_CONTEXT_MAX];
    int n;
};

/* Adds a copy of request, dropping the oldest beyond ASSIST_CONTEXT_MAX. */
void chat_context_add(struct chat_context *c, const char *request);
/* Forgets every request (Ctrl+L, `clear`); c stays usable. */
void chat_context_clear(struct chat_context *c);

/* Checks a request typed or given by a user: not blank, valid UTF-8, at most
 * ASSIST_INPUT_CHARS characters. Returns 0, or -EINVAL with a sentence in why. */
int assist_input_check(const char *input, char *why, size_t cap);

/* The body of a request: {user_input, execution_mode: "dry_run", context?, lang?} for an
 * answer, or {command_id, execution_mode: "supervised"} to run an earlier answer's action
 * (only the stored command_id is sent, never the text). Returns a new reference. */
json_t *assist_body_ask(const char *input, const struct chat_context *c, const char *lang);
json_t *assist_body_execute(const char *command_id);

/* Which parts of an answer assist_answer_doc lays out. */
#define ANSWER_PROPOSAL 1u  /* the action, the explanation, the risk, the note */
#define ANSWER_EXECUTION 2u /* the output and how it ended (for a supervised answer) */
#define ANSWER_USAGE 4u     /* the token usage line */

/* How the answer is laid out. */
struct answer_look {
    int width;           /* columns; 0: no limit (a pipe) */
    int indent;          /* spaces before every line */
    int ticks;           /* no colour to show code: keep its backticks */
    enum md_wrap action; /* how a long action line is cut (MD_WRAP_NONE: copyable) */
};

/* Appends the parts of answer (a POST /api/command answer) to d: the action highlighted,
 * the explanation rendered, "warning: <reason>" or "dangerous: <reason>" when it is not
 * safe, the note, the sandbox output and its exit code, "timed out after 30 s",
 * "rejected: <reason>", and a dim line with token usage and the remaining balance. Fields
 * that are missing or of the wrong type are left out. */
void assist_answer_doc(struct md_doc *d, json_t *answer, unsigned parts,
                       const struct answer_look *look);

/* The command_id of an answer whose action may be offered for execution (matched, an
 * action, risk "safe"), or NULL with the reason in why (cap bytes). */
const char *assist_executable(json_t *answer, char *why, size_t cap);

/* The sentence for a failed request r, for a user: the transport error, an expired
 * session, "you have no tokens left: ...", "running commands needs the Pro plan or above
 * (your plan: P): ..." (plan may be NULL or ""), the server's own sentence otherwise. */
void assist_error_text(const struct cli_ctx *ctx, const struct api_resp *r, const char *plan,
                       char *out, size_t cap);

/* The balance of an answer's token_usage or of /api/tokens/info into *balance. Returns 0,
 * or -ENOENT when it holds none. */
int assist_balance_of(json_t *body, long long *balance);

/* ---- requests on a thread ------------------------------------------------------------- */

struct assist_job;

/* Starts POST /api/command with body (a new reference, which this consumes) on a detached
 * thread that takes no signals, with a copy of ctx (its debug output turned off when
 * quiet, for curses). Returns the job, or NULL when no thread could be started (body is
 * released then). */
struct assist_job *assist_job_start(const struct cli_ctx *ctx, json_t *body, int quiet);
/* Waits up to ms milliseconds (0: only looks) for the job to end. Returns 1 when it ended,
 * else 0. A signal may end the wait early. */
int assist_job_wait(struct assist_job *j, int ms);
/* The job's answer once assist_job_wait said 1: *cr is api_call's return, the answer is
 * owned by the job and lives until assist_job_release. */
struct api_resp *assist_job_result(struct assist_job *j, int *cr);
/* Lets go of the job: freed now when it ended, else by its thread when it does (a
 * cancelled request is abandoned, its answer dropped). NULL is fine. */
void assist_job_release(struct assist_job *j);

/* Fetches GET /api/tokens/info on the calling thread: plan into plan (cap bytes, "" when
 * unknown) and the balance into *balance (-1 when unknown). Returns 0, or 1 after writing
 * the failure's sentence into why (whycap bytes); the caller decides how to show it. */
int assist_tokens_brief(struct cli_ctx *ctx, char *plan, size_t cap, long long *balance,
                        char *why, size_t whycap, long *status);

/* The chats. Each returns the exit status of `cloudya chat`. chat_tui_run returns -ENOTTY
 * without trying anything when no full screen can be had (the caller falls back). */
int chat_tui_run(struct cli_ctx *ctx, int execute);
int chat_plain_run(struct cli_ctx *ctx, int execute);

#endif
