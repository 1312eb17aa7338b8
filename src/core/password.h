/* Argon2id password hashing (libsodium), with a cap on concurrent hashes so that a login
 * flood queues instead of exhausting memory (each hash takes 64 MiB). */
#ifndef CLOUDYA_PASSWORD_H
#define CLOUDYA_PASSWORD_H
#include <stddef.h>

#define PASSWORD_HASH_MAX 160

/* Initializes libsodium, the concurrency cap (0 = number of CPUs) and the dummy hash used
 * to equalize timing. Returns 0 or -EIO. Call once before any other function here. */
int password_init(int concurrency);

/* Hashes pw (len bytes) into out (PASSWORD_HASH_MAX bytes). Returns 0 or -ENOMEM. */
int password_hash(const char *pw, size_t len, char *out);

/* Returns 0 when pw matches hash, -EPERM otherwise. */
int password_verify(const char *hash, const char *pw, size_t len);

/* Spends the time of a verification without a real hash, so that an unknown email is
 * answered as slowly as a wrong password. */
void password_verify_dummy(const char *pw, size_t len);

#endif
