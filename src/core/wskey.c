/* Sec-WebSocket-Accept and header token lists, shared by the WebSocket server and the
 * CLI's client. SHA-1 is OpenSSL's (libcrypto), base64 libsodium's. */
#define _GNU_SOURCE
#include "wskey.h"

#include <errno.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* RFC 6455 §1.3 */
#define WS_GUID_LEN 36
#define ACCEPT_KEY_MAX 256 /* ws_accept_compute refuses longer keys */

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
 * elements ignored). */
int http_list_has(const char *list, const char *tok)
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
