/* libFuzzer target for src/api/auth_req.c (and, beneath it, src/core/json.c and the email
 * check in src/platform/tenants.c).
 *
 * Every input is parsed twice, as a sign-up body (with_name = 1) and as a login body
 * (with_name = 0). Besides crashes and sanitizer reports it checks properties, aborting
 * when one fails:
 *   - the result is 0 or -EINVAL, and a refusal carries one of the two API codes and a
 *     message, and leaves nothing owned in the request;
 *   - an accepted email is 3..254 bytes, lowercase ASCII letters only, exactly one '@'
 *     with text on both sides, no white space or control characters;
 *   - an accepted password has the documented length bounds and no NUL inside;
 *   - an accepted name (sign-up only) is 1..STORE_NAME_MAX bytes without control
 *     characters, and a login never reports one;
 *   - a body accepted for sign-up is accepted for login with the same email and password
 *     (login is strictly less demanding).
 * Seeds: fuzz/corpus/auth_req/. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_req.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int rc, const auth_req *r, const json_err *e)
{
    if (rc != -EINVAL) abort();
    if (e->code == NULL ||
        (strcmp(e->code, "invalid_json") != 0 && strcmp(e->code, "invalid_field") != 0))
        abort();
    if (e->msg[0] == '\0' || memchr(e->msg, '\0', sizeof e->msg) == NULL) abort();
    if (r->root != NULL || r->password != NULL || r->name != NULL) abort();
}

static void check_email(const char *email)
{
    size_t n = strnlen(email, STORE_EMAIL_MAX + 1);
    if (n < 3 || n > STORE_EMAIL_MAX) abort();
    const char *at = strchr(email, '@');
    if (at == NULL || at == email || at[1] == '\0' || strchr(at + 1, '@') != NULL) abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)email[i];
        if (c <= 0x20 || c == 0x7f || (c >= 'A' && c <= 'Z')) abort();
    }
    if (!str_is_utf8(email, n)) abort();
}

static void check_accepted(const auth_req *r, int with_name)
{
    if (r->root == NULL || r->password == NULL) abort();
    check_email(r->email);
    size_t min = with_name ? AUTH_PASSWORD_MIN : 1;
    if (r->password_len < min || r->password_len > AUTH_PASSWORD_MAX ||
        strlen(r->password) != r->password_len)
        abort();
    if (with_name) {
        if (r->name == NULL) abort();
        size_t n = strlen(r->name);
        if (n < 1 || n > STORE_NAME_MAX || str_has_control(r->name, n) || !str_is_utf8(r->name, n))
            abort();
    } else if (r->name != NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    auth_req reg, login;
    json_err ereg, elogin;
    int rc_reg, rc_login;

    memset(&ereg, 0, sizeof ereg);
    memset(&elogin, 0, sizeof elogin);

    rc_reg = auth_req_parse(body, size, 1, &reg, &ereg);
    if (rc_reg == 0)
        check_accepted(&reg, 1);
    else
        check_refusal(rc_reg, &reg, &ereg);

    rc_login = auth_req_parse(body, size, 0, &login, &elogin);
    if (rc_login == 0)
        check_accepted(&login, 0);
    else
        check_refusal(rc_login, &login, &elogin);

    if (rc_reg == 0) {
        if (rc_login != 0 || strcmp(reg.email, login.email) != 0 ||
            reg.password_len != login.password_len ||
            memcmp(reg.password, login.password, reg.password_len) != 0)
            abort();
    }
    /* a body refused for malformed JSON is refused the same way for both */
    if ((rc_reg != 0 && strcmp(ereg.code, "invalid_json") == 0) !=
        (rc_login != 0 && strcmp(elogin.code, "invalid_json") == 0))
        abort();

    auth_req_free(&reg);
    auth_req_free(&reg);
    auth_req_free(&login);
    return 0;
}
