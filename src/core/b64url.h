/* base64url without padding (RFC 4648 §5), as JWTs use it. */
#ifndef CLOUDYA_B64URL_H
#define CLOUDYA_B64URL_H
#include <stddef.h>

/* Encoded length of n bytes, without the terminating NUL. */
#define B64URL_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Encodes len bytes of in into out (NUL-terminated). Returns the encoded length,
 * or -ENOSPC when out (outlen bytes, NUL included) is too small. */
int b64url_encode(const unsigned char *in, size_t len, char *out, size_t outlen);

/* Decodes len characters of unpadded base64url. Rejects padding, characters outside the
 * alphabet, an impossible length (len % 4 == 1) and non-zero trailing bits. Returns the
 * decoded length, -EBADMSG on malformed input, -ENOSPC when out is too small. */
int b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen);

#endif
