/* Masking secrets out of text before it leaves the machine: `diagnose ... --explain` sends
 * its findings (log lines, tool errors, config test output) to the assistant, and none of
 * the user's passwords, tokens or keys may go with them. What is masked becomes "***". */
#ifndef CLOUDYA_HOST_REDACT_H
#define CLOUDYA_HOST_REDACT_H
#include <stddef.h>

#define REDACT_MASK "***"
#define REDACT_MIN_LITERAL 4 /* known secrets shorter than this are not searched for */

/* Masks, in place in the NUL-terminated text s (which never grows):
 * - the value after a secret-sounding key ("password", "passwd", "secret", "token",
 *   "api_key", "apikey", "access_key", "private_key", "credential", "auth"...) and '=' or
 *   ':' (quotes kept out of the mask), and after "Bearer " / "Basic ";
 * - the user and password of a URL (user:pw@ before a host becomes ***@);
 * - AWS access key ids (AKIA/ASIA and 16 capitals or digits);
 * - the body of a PEM private key block;
 * - any run of 32 or more token characters (letters, digits, + / = _ -) holding both
 *   letters and digits, which is how keys and tokens look;
 * - each of the nliterals known secret values (the user's stored credentials) wherever it
 *   appears, when at least REDACT_MIN_LITERAL bytes long.
 * Returns how many places were masked. */
size_t redact_text(char *s, const char *const *literals, size_t nliterals);

#endif
