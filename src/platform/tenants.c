#define _POSIX_C_SOURCE 200809L
#include "tenants.h"

#include "password.h"
#include "str.h"

#include <errno.h>
#include <string.h>

/* The shape check is deliberately loose (mail systems accept more than any regex), but
 * rules out what breaks logs, headers and lookups. */
int tenant_email_normalize(char *email)
{
    size_t n = strlen(email);
    if (n < 3 || n > STORE_EMAIL_MAX)
        return -EINVAL;
    const char *at = strchr(email, '@');
    if (at == NULL || at == email || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)email[i];
        if (ch <= 0x20 || ch == 0x7f)
            return -EINVAL;
    }
    str_lower(email);
    return 0;
}

/* Ids are random and server-made: a tenant id never reveals or derives from an email. */
int tenant_user_create(store *st, const config *cfg, const char *email, const char *name,
                       const char *password, size_t password_len, const char *role,
                       store_user *u, store_client *c)
{
    memset(u, 0, sizeof(*u));
    memset(c, 0, sizeof(*c));
    str_new_id(c->id, sizeof(c->id), "c");
    if (str_copy(c->name, sizeof(c->name), name) != 0)
        return -EINVAL;
    str_copy(c->plan, sizeof(c->plan), "free");
    c->quota_containers = cfg->quota_containers;
    c->quota_memory_mb = cfg->quota_memory_mb;
    c->quota_cpus = cfg->quota_cpus;

    str_new_id(u->id, sizeof(u->id), "u");
    if (str_copy(u->email, sizeof(u->email), email) != 0 ||
        str_copy(u->name, sizeof(u->name), name) != 0 ||
        str_copy(u->role, sizeof(u->role), role) != 0)
        return -EINVAL;
    str_copy(u->client_id, sizeof(u->client_id), c->id);
    int rc = password_hash(password, password_len, u->password_hash);
    if (rc != 0)
        return rc;
    return store_client_user_create(st, c, u);
}
