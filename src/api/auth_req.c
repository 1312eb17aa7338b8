#define _POSIX_C_SOURCE 200809L
#include "auth_req.h"

#include "str.h"
#include "tenants.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Validation order follows the documented field order so errors are predictable. */
int auth_req_parse(const char *body, size_t len, int with_name, auth_req *out, json_err *e)
{
    memset(out, 0, sizeof(*out));
    out->root = json_body_object(body, len, e);
    if (out->root == NULL)
        return -EINVAL;
    const char *email;
    if (json_field_str(out->root, "email", 1, 1, STORE_EMAIL_MAX, 1, &email, e) != 0)
        goto bad;
    str_copy(out->email, sizeof(out->email), email);
    if (tenant_email_normalize(out->email) != 0) {
        e->code = "invalid_field";
        snprintf(e->msg, sizeof(e->msg), "email is not a valid email address");
        goto bad;
    }
    /* Only sign-up enforces the minimum; at login a short password is just a wrong one. */
    size_t pw_min = with_name ? AUTH_PASSWORD_MIN : 1;
    if (json_field_str(out->root, "password", 1, pw_min, AUTH_PASSWORD_MAX, 0,
                       &out->password, e) != 0)
        goto bad;
    out->password_len = strlen(out->password);
    if (with_name) {
        if (json_field_str(out->root, "name", 1, 1, STORE_NAME_MAX, 1, &out->name, e) != 0)
            goto bad;
        if (str_utf8_chars(out->name, strlen(out->name)) > AUTH_NAME_MAX) {
            e->code = "invalid_field";
            snprintf(e->msg, sizeof(e->msg), "name is too long (at most %d characters)",
                     AUTH_NAME_MAX);
            goto bad;
        }
    }
    return 0;
bad:
    auth_req_free(out);
    return -EINVAL;
}

void auth_req_free(auth_req *r)
{
    if (r->root != NULL)
        json_decref(r->root);
    r->root = NULL;
    r->password = NULL;
    r->name = NULL;
}
