/* Tenants (clients) and their users. Every user belongs to exactly one client; signing
 * up creates both, with the configured default plan and quotas. */
#ifndef CLOUDYA_TENANTS_H
#define CLOUDYA_TENANTS_H
#include "config.h"
#include "store.h"

/* Creates a user with role ("admin" or "client") and its own client named after name,
 * on the Free plan with cfg's default quotas; the password is hashed with Argon2id here.
 * email must already be validated and lowercased. Returns 0 and fills u and c, -EEXIST
 * when the email is taken, or another negative errno. */
int tenant_user_create(store *st, const config *cfg, const char *email, const char *name,
                       const char *password, size_t password_len, const char *role,
                       store_user *u, store_client *c);

/* Lowercases email in place and checks its shape: 3 to 254 bytes, one '@' with text on
 * both sides, no whitespace or control characters. Returns 0 or -EINVAL. */
int tenant_email_normalize(char *email);

#endif
