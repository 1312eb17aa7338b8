/* Argon2id password hashing (libsodium), with a cap on concurrent hashes so that a login
 * flood queues instead of exhausting memory (each hash takes 64 MiB). */
#ifndef CLOUDYA_PASSWORD_H
#define CLOUDYA_PASSWORD_H
#include <stddef.h>

#define PASSWORD_HASH_MAX 160

/* Initializes libsodium and the concurrency cap (0 = number of CPUs); with_dummy also makes
 * the dummy hash that password_verify_dummy() needs (one Argon2id run, so only the server,
 * which answers logins, asks for it). Returns 0 or -EIO. Call once, before the rest. */
int password_init(int concurrency, int with_dummy);

/* Hashes pw (len bytes) into out (PASSWORD_HASH_MAX bytes). Returns 0 or -ENOMEM. */
int password_hash(const char *pw, size_t len, char *out);

/* Returns 0 when pw matches hash, -EPERM otherwise. */
int password_verify(const char *hash, const char *pw, size_t len);

/* Spends the time of a verification without a real hash, so that an unknown email is
 * answered as slowly as a wrong password. */
void password_verify_dummy(const char *pw, size_t len);

#endif
