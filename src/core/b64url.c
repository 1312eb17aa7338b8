/* base64url without padding (RFC 4648 §5). Decoding is strict: every byte string has
 * exactly one accepted encoding, so a token cannot be altered (padding added, trailing
 * bits flipped) while still decoding to the same bytes. */
#include "b64url.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Returns the 6-bit value of c, or -1 when c is not in the base64url alphabet. Written with
 * ranges rather than a table indexed by a char, so no sign-extension can read out of bounds. */
static int sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* The encoder writes groups of four characters for every three input bytes and then a
 * short final group of two or three characters, never padding. out must hold the encoded
 * characters plus a NUL; nothing is written when it does not. An encoded length that an int
 * cannot carry is also reported as -ENOSPC, since no caller could be told how much was
 * written. */
int b64url_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
    size_t full = len / 3, rem = len % 3;
    size_t enc;
    size_t i, o = 0;

    if (full > (INT_MAX - 4) / 4) return -ENOSPC;
    enc = full * 4 + (rem ? rem + 1 : 0);
    if (out == NULL || outlen < enc + 1) return -ENOSPC;

    for (i = 0; i < full * 3; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (rem == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    } else if (rem == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    return (int)o;
}

/* The input is validated completely before anything is written, so malformed input is
 * always -EBADMSG whatever the size of out, and out is left untouched on every error.
 * A final group of two characters carries one byte and four unused bits, a group of three
 * carries two bytes and two unused bits; the unused bits must be zero. A decoded length
 * that an int cannot carry is reported as -ENOSPC. The output is binary and is not
 * NUL-terminated. */
int b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen)
{
    size_t rem = len % 4;
    size_t dec = (len / 4) * 3 + (rem ? rem - 1 : 0);
    size_t i, o = 0;
    uint32_t v = 0;

    if (rem == 1) return -EBADMSG;
    if (len > 0 && in == NULL) return -EBADMSG;
    for (i = 0; i < len; i++)
        if (sextet((unsigned char)in[i]) < 0) return -EBADMSG;
    if (rem == 2 && (sextet((unsigned char)in[len - 1]) & 0x0f) != 0) return -EBADMSG;
    if (rem == 3 && (sextet((unsigned char)in[len - 1]) & 0x03) != 0) return -EBADMSG;
    if (dec > INT_MAX || outlen < dec || (dec > 0 && out == NULL)) return -ENOSPC;

    for (i = 0; i + 4 <= len; i += 4) {
        v = (uint32_t)sextet((unsigned char)in[i]) << 18 |
            (uint32_t)sextet((unsigned char)in[i + 1]) << 12 |
            (uint32_t)sextet((unsigned char)in[i + 2]) << 6 |
            (uint32_t)sextet((unsigned char)in[i + 3]);
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    if (rem >= 2) {
        v = (uint32_t)sextet((unsigned char)in[i]) << 18 |
            (uint32_t)sextet((unsigned char)in[i + 1]) << 12;
        if (rem == 3) v |= (uint32_t)sextet((unsigned char)in[i + 2]) << 6;
        out[o++] = (unsigned char)(v >> 16);
        if (rem == 3) out[o++] = (unsigned char)(v >> 8);
    }
    return (int)o;
}
