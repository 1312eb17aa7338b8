/* Parsing and validation of the auth endpoints' bodies, apart from HTTP so that the
 * fuzzer can drive them directly. */
#ifndef CLOUDYA_AUTH_REQ_H
#define CLOUDYA_AUTH_REQ_H
#include "json.h"
#include "store.h"

#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 1024
#define AUTH_NAME_MAX 128 /* characters (code points), not bytes */

typedef struct auth_req {
    json_t *root;                    /* owns the strings below; auth_req_free() */
    char email[STORE_EMAIL_MAX + 1]; /* validated and lowercased */
    const char *password;
    size_t password_len;
    const char *name; /* register only */
} auth_req;

/* Parses {email, password, name} (with_name) or {email, password}. Returns 0, or -EINVAL
 * with e saying which field is wrong and why. */
int auth_req_parse(const char *body, size_t len, int with_name, auth_req *out, json_err *e);

void auth_req_free(auth_req *r);

#endif
