/* libFuzzer target for str_cookie_value (the session cookie in a Cookie header): the input
 * is the header; the value found must lie inside it, follow "cloudya_session=" and stop
 * before a ';'. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    if (h == NULL)
        return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    size_t len;
    const char *v = str_cookie_value(h, "cloudya_session", &len);
    if (v != NULL) {
        size_t hl = strlen(h);
        if (v < h + 16 || v + len > h + hl || memcmp(v - 16, "cloudya_session=", 16) != 0 ||
            memchr(v, ';', len) != NULL || len == 0)
            abort();
    }
    free(h);
    return 0;
}
