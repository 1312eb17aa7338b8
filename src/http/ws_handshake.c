/* The WebSocket opening handshake (RFC 6455 §4.2): checking the upgrade request and
 * computing Sec-WebSocket-Accept. Apart from the connection machinery (websocket.c) so that
 * the fuzzer drives it directly. SHA-1 is OpenSSL's (libcrypto), base64 libsodium's. */
#define _GNU_SOURCE
#include "websocket.h"

#include <errno.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_GUID_LEN 36
#define KEY_B64_LEN 24         /* base64 of the 16-byte Sec-WebSocket-Key */
#define KEY_LEN 16
#define ACCEPT_KEY_MAX 256     /* ws_accept_compute refuses longer keys */

/* --- the handshake --------------------------------------------------------------------- */

/* The key is concatenated with the GUID of RFC 6455 and hashed; the base64 of the digest
 * proves to the client that we speak WebSocket. */
int ws_accept_compute(const char *key, char *out, size_t cap)
{
    unsigned char buf[ACCEPT_KEY_MAX + WS_GUID_LEN], digest[20];
    size_t klen = strlen(key);
    if (cap < WS_ACCEPT_LEN + 1)
        return -ENOSPC;
    if (klen > ACCEPT_KEY_MAX)
        return -EINVAL;
    memcpy(buf, key, klen);
    memcpy(buf + klen, WS_GUID, WS_GUID_LEN);
    if (EVP_Digest(buf, klen + WS_GUID_LEN, digest, NULL, EVP_sha1(), NULL) != 1)
        return -EIO;
    sodium_bin2base64(out, cap, digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

/* 1 when the comma-separated list holds tok (case-insensitive, spaces and tabs around the
 * elements ignored). Works in place: the header is MHD's and bounded by its memory. */
static int has_token(const char *list, const char *tok)
{
    size_t tlen = strlen(tok);
    const char *p = list;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - start) == tlen && strncasecmp(start, tok, tlen) == 0)
            return 1;
    }
    return 0;
}

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
    else if (r->upgrade == NULL || !has_token(r->upgrade, "websocket"))
        bad = "the Upgrade header must name websocket";
    else if (r->connection == NULL || !has_token(r->connection, "upgrade"))
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

