/* The WebSocket opening handshake (RFC 6455 §4.2): checking the upgrade request and
 * computing Sec-WebSocket-Accept. Apart from the connection machinery (websocket.c) so that
 * the fuzzer drives it directly. The Accept value itself is src/core/wskey.c's. */
#define _GNU_SOURCE
#include "websocket.h"
#include "wskey.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#define KEY_B64_LEN 24         /* base64 of the 16-byte Sec-WebSocket-Key */
#define KEY_LEN 16

/* --- the handshake --------------------------------------------------------------------- */

/* 1 when key is the base64 of exactly 16 bytes, padding included, nothing else. The
 * alphabet is checked first: libsodium's decoder takes some bytes above 0x7f for letters
 * (the fuzz target found it). */
static int valid_key(const char *key)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    unsigned char bin[KEY_LEN];
    size_t binlen = 0;
    const char *end = NULL;
    if (strlen(key) != KEY_B64_LEN || strspn(key, alpha) != KEY_B64_LEN)
        return 0;
    if (sodium_base642bin(bin, sizeof(bin), key, KEY_B64_LEN, NULL, &binlen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return 0;
    return binlen == KEY_LEN && end == key + KEY_B64_LEN;
}

/* Checks in the order of RFC 6455 §4.2.1; a wrong version is told apart so the caller can
 * answer 426 with the version we speak. */
int ws_upgrade_check(const ws_upgrade_req *r, const char **why)
{
    static const char wrong_version[] = "only WebSocket version 13 is supported";
    const char *bad = NULL;
    if (r->method == NULL || strcmp(r->method, "GET") != 0)
        bad = "a WebSocket handshake must be a GET request";
    else if (r->version == NULL || strcmp(r->version, "HTTP/1.1") != 0)
        bad = "a WebSocket handshake needs HTTP/1.1";
    else if (r->upgrade == NULL || !http_list_has(r->upgrade, "websocket"))
        bad = "the Upgrade header must name websocket";
    else if (r->connection == NULL || !http_list_has(r->connection, "upgrade"))
        bad = "the Connection header must contain upgrade";
    else if (r->ws_version == NULL)
        bad = "the Sec-WebSocket-Version header is missing";
    else if (strcmp(r->ws_version, "13") != 0)
        bad = wrong_version;
    else if (r->key == NULL || !valid_key(r->key))
        bad = "the Sec-WebSocket-Key header must be the base64 of 16 bytes";
    if (why != NULL)
        *why = bad != NULL ? bad : "";
    return bad == NULL ? 0 : bad == wrong_version ? -EPROTONOSUPPORT : -EINVAL;
}

