/* libFuzzer target for the WebSocket handshake checks of src/http/websocket.c
 * (ws_upgrade_check, ws_accept_compute).
 *
 * The first input byte says which of the six fields are absent (bit i: field i is NULL);
 * the rest is cut at '\n' into method, HTTP version, Upgrade, Connection,
 * Sec-WebSocket-Version and Sec-WebSocket-Key (missing pieces are empty). Besides crashes
 * and sanitizer reports it checks, aborting when one fails:
 *   - the result matches a model of the rules written here independently (token lists
 *     split into copies, the key's alphabet, padding and trailing bits checked by hand);
 *   - why is a non-empty sentence exactly when the result is not 0;
 *   - ws_accept_compute gives 28 base64 characters ending in '=' for keys up to 256 bytes,
 *     the same twice, and -EINVAL for longer ones.
 * Seeds: fuzz/corpus/ws_handshake/. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "websocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS 6
#define FIELD_MAX 4096
#define ELEM_MAX 128

static void must(int ok)
{
    if (!ok)
        abort();
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The model of a token list: each comma-separated element copied, trimmed of spaces and
 * tabs, compared case-insensitively with tok. */
static int model_has(const char *list, const char *tok)
{
    char elem[FIELD_MAX + 1];
    size_t n = 0;
    for (size_t i = 0;; i++) {
        if (list[i] == ',' || list[i] == '\0') {
            size_t a = 0, b = n;
            while (a < b && (elem[a] == ' ' || elem[a] == '\t'))
                a++;
            while (b > a && (elem[b - 1] == ' ' || elem[b - 1] == '\t'))
                b--;
            size_t tl = strlen(tok), k = 0;
            if (b - a == tl) {
                while (k < tl && lower((unsigned char)elem[a + k]) == lower((unsigned char)tok[k]))
                    k++;
                if (k == tl)
                    return 1;
            }
            n = 0;
            if (list[i] == '\0')
                return 0;
        } else {
            elem[n++] = list[i];
        }
    }
}

static int b64_index(char c)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c != '\0' ? strchr(alpha, c) : NULL;
    return p != NULL ? (int)(p - alpha) : -1;
}

/* 16 bytes in base64: 21 full characters, a 22nd whose low 4 bits are zero, "==". */
static int model_key(const char *k)
{
    if (strlen(k) != 24 || k[22] != '=' || k[23] != '=')
        return 0;
    for (int i = 0; i < 22; i++)
        if (b64_index(k[i]) < 0)
            return 0;
    return (b64_index(k[21]) & 0x0f) == 0;
}

static int model(const ws_upgrade_req *r)
{
    if (r->method == NULL || strcmp(r->method, "GET") != 0 || r->version == NULL ||
        strcmp(r->version, "HTTP/1.1") != 0 || r->upgrade == NULL ||
        !model_has(r->upgrade, "websocket") || r->connection == NULL ||
        !model_has(r->connection, "upgrade") || r->ws_version == NULL)
        return -EINVAL;
    if (strcmp(r->ws_version, "13") != 0)
        return -EPROTONOSUPPORT;
    return r->key != NULL && model_key(r->key) ? 0 : -EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char f[FIELDS][FIELD_MAX + 1];
    const char *v[FIELDS];
    if (size < 1)
        return 0;
    unsigned absent = data[0];
    size_t pos = 1;
    for (int i = 0; i < FIELDS; i++) {
        size_t n = 0;
        while (pos < size && data[pos] != '\n') {
            if (n < FIELD_MAX)
                f[i][n++] = (char)data[pos];
            pos++;
        }
        pos += pos < size; /* the '\n' */
        f[i][n] = '\0';
        v[i] = (absent >> i) & 1 ? NULL : f[i];
    }
    ws_upgrade_req r = {v[0], v[1], v[2], v[3], v[4], v[5]};
    const char *why = NULL;
    int rc = ws_upgrade_check(&r, &why);
    must(rc == model(&r));
    must(why != NULL && (rc == 0) == (why[0] == '\0'));
    must(ws_upgrade_check(&r, NULL) == rc);

    char a1[WS_ACCEPT_LEN + 1], a2[WS_ACCEPT_LEN + 1];
    int arc = ws_accept_compute(f[5], a1, sizeof(a1));
    if (strlen(f[5]) > 256) {
        must(arc == -EINVAL);
        return 0;
    }
    must(arc == 0 && strlen(a1) == WS_ACCEPT_LEN && a1[WS_ACCEPT_LEN - 1] == '=');
    for (int i = 0; i < WS_ACCEPT_LEN - 1; i++)
        must(b64_index(a1[i]) >= 0);
    must(ws_accept_compute(f[5], a2, sizeof(a2)) == 0 && strcmp(a1, a2) == 0);
    must(ws_accept_compute(f[5], a2, WS_ACCEPT_LEN) == -ENOSPC);
    return 0;
}
