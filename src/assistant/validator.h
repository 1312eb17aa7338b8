/* The assistant's command validator: it classifies a generated shell command ("action")
 * before it is shown as runnable and before the sandbox ever runs it.
 *
 * It never looks at the raw string alone. The action is cut by the tokenizer (shell_lex.h)
 * into the simple commands a shell would run, substitutions and function bodies included;
 * every one is classified and the worst wins. A command is classified on its words as the
 * program will see them (quotes removed, escapes decoded), after unwrapping env, command,
 * nice, nohup, timeout, xargs, time, stdbuf, busybox, exec... and after following command
 * strings (sh -c, trap, watch, ssh, alias, here-documents fed to a shell) recursively.
 * Paths are normalized (//, /./, .., ~, $HOME, a preceding cd) before they are compared.
 * Anything the validator cannot see through fails closed: an action that does not parse, a
 * program name that is not literal, a control character, a command string that is only
 * known at run time.
 *
 * The policy (allowed programs and their subcommand rules, denied programs, protected
 * paths, shells, interpreters, wrappers, assignments) is data: knowledge/policy.yaml,
 * documented at its top. The code holds the analyses the policy names (what rm deletes,
 * what cp writes, what find -exec runs...).
 *
 * Levels: safe (read-only; may run in the sandbox), warning (changes state or is unknown:
 * shown with its reason, never run without the user's explicit choice), dangerous
 * (destroys or exposes: shown, never run), forbidden (rejected outright).
 *
 * A loaded validator is immutable: validator_check may run in any number of threads. */
#ifndef CLOUDYA_VALIDATOR_H
#define CLOUDYA_VALIDATOR_H
#include <jansson.h>
#include <stddef.h>

#define VALIDATOR_POLICY_MAX_BYTES (512 * 1024)
#define VALIDATOR_REASON_MAX 512
#define VALIDATOR_PART_MAX 512
#define VALIDATOR_NEST_MAX 4 /* command strings inside command strings */

typedef enum { RISK_SAFE, RISK_WARNING, RISK_DANGEROUS, RISK_FORBIDDEN } risk_level;

typedef struct validator validator;

typedef struct validation {
    risk_level risk;
    char reason[VALIDATOR_REASON_MAX]; /* names the part and why ("`rm -rf /` deletes the
                                          root filesystem"); for safe: a summary */
    char part[VALIDATOR_PART_MAX];     /* the simple command that decided ("" when safe) */
    size_t nparts;                     /* simple commands examined, nested ones included */
} validation;

/* Returns "safe", "warning", "dangerous" or "forbidden" ("unknown" for other values). */
const char *risk_level_name(risk_level r);

/* Parses a level name. Returns 0 with *out set, or -EINVAL. */
int risk_level_parse(const char *name, risk_level *out);

/* Loads the policy file at path (YAML, at most VALIDATOR_POLICY_MAX_BYTES). Returns 0 with
 * *out set (free it with validator_free), or a negative errno with a sentence naming the
 * file and the offending key in err: -ENOENT/-EACCES when it cannot be read, -EINVAL when
 * it is not a valid policy (unknown keys are refused), -E2BIG when it is too large. */
int validator_load(const char *path, validator **out, char *err, size_t errlen);

/* Builds a validator from an already parsed policy tree (the same format as the file; the
 * caller keeps its reference). Same returns as validator_load, without the file errors. */
int validator_from_json(json_t *policy, validator **out, char *err, size_t errlen);

/* Frees a validator; NULL is allowed. */
void validator_free(validator *v);

/* Classifies the NUL-terminated action: the worst part wins. Returns 0 with *out filled
 * (a forbidden verdict is a successful classification), or -EINVAL when v, action or out
 * is NULL. Thread-safe. */
int validator_check(const validator *v, const char *action, validation *out);

/* Same as validator_check for len bytes that need not be NUL-terminated: an action that
 * holds a NUL byte is forbidden (a caller passing it on as a C string would run less than
 * what was checked). */
int validator_check_len(const validator *v, const char *action, size_t len, validation *out);

#endif
