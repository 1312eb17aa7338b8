/* libFuzzer target for src/host/redact.c: the masking `diagnose --explain` applies before
 * findings leave the machine. The input's first line is a known secret (a literal); the
 * rest is the text. Besides crashes and sanitizer reports it checks, aborting when one
 * fails: the text never grows; a literal of at least REDACT_MIN_LITERAL bytes that holds
 * none of the mask's '*' never remains in the output; running it again on its own output
 * changes nothing a second time in length terms (the output is no longer than before). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *nl = strchr(buf, '\n');
    char *lit = buf, *text = nl != NULL ? nl + 1 : buf + strlen(buf);
    if (nl != NULL)
        *nl = '\0';
    else
        lit = "";
    size_t before = strlen(text);
    const char *lits[1] = {lit};
    redact_text(text, lits, 1);
    size_t after = strlen(text);
    if (after > before)
        abort();
    if (strlen(lit) >= REDACT_MIN_LITERAL && strchr(lit, '*') == NULL && strstr(text, lit) != NULL)
        abort();
    redact_text(text, lits, 1);
    if (strlen(text) > after)
        abort();
    free(buf);
    return 0;
}
