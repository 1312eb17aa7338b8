/* The JWT signing key: JWT_SECRET from the environment, or a random one generated at
 * first start and kept in the data directory with mode 0600. There is no default. */
#ifndef CLOUDYA_SECRET_H
#define CLOUDYA_SECRET_H
#include <stddef.h>

/* Fills key (cap bytes) and *len. Returns 0, or a negative errno with err filled. */
int secret_load(const char *configured, const char *data_dir, unsigned char *key, size_t cap,
                size_t *len, char *err, size_t errlen);

/* Creates dir (and parents) with mode 0700 when missing. Returns 0 or negative errno. */
int secret_mkdirs(const char *dir);

#endif
