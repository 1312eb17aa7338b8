#define _POSIX_C_SOURCE 200809L
#include "admin.h"

#include "log.h"
#include "secret.h"
#include "password.h"
#include "str.h"
#include "tenants.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define POOL 2

static int create(store *st, const config *cfg, const char *email_in, const char *name,
                  const char *password)
{
    char email[STORE_EMAIL_MAX + 1];
    if (str_copy(email, sizeof(email), email_in) != 0 || tenant_email_normalize(email) != 0) {
        fprintf(stderr, "cloudyad: \"%s\" is not a valid email address\n", email_in);
        return -EINVAL;
    }
    size_t pwlen = strlen(password);
    if (pwlen < 8 || pwlen > 1024) {
        fprintf(stderr, "cloudyad: the password must be 8 to 1024 characters\n");
        return -EINVAL;
    }
    store_user u;
    store_client c;
    int rc = tenant_user_create(st, cfg, email, name, password, pwlen, "admin", &u, &c);
    if (rc == -EEXIST)
        fprintf(stderr, "cloudyad: an account with email %s already exists\n", email);
    else if (rc != 0)
        fprintf(stderr, "cloudyad: cannot create the admin (error %d)\n", rc);
    return rc;
}

int admin_bootstrap(store *st, const config *cfg)
{
    if (cfg->admin_email[0] == '\0')
        return 0;
    if (cfg->admin_password[0] == '\0') {
        log_warnx("CLOUDYA_ADMIN_EMAIL is set without CLOUDYA_ADMIN_PASSWORD: no admin created");
        return 0;
    }
    char email[STORE_EMAIL_MAX + 1];
    str_copy(email, sizeof(email), cfg->admin_email);
    if (tenant_email_normalize(email) != 0) {
        log_warnx("CLOUDYA_ADMIN_EMAIL is not a valid email address");
        return -EINVAL;
    }
    store_user u;
    if (store_user_get_by_email(st, email, &u) == 0)
        return 0;
    int rc = create(st, cfg, email, "Administrator", cfg->admin_password);
    if (rc == 0)
        log_info("created the admin account %s", email);
    return rc;
}

/* Reads a password from a terminal without echo, or a line from standard input. */
static int read_password(int from_stdin, const char *prompt, char *out, size_t cap)
{
    int tty = !from_stdin && isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *ok = fgets(out, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (ok == NULL)
        return -EIO;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: cloudyad [-c FILE] admin create --email EMAIL [--name NAME] "
                    "[--password-stdin]\n"
                    "       cloudyad [-c FILE] admin count\n");
    return 2;
}

int admin_main(const config *cfg, int argc, char **argv)
{
    if (argc < 1)
        return usage();
    const char *email = NULL, *name = "Administrator";
    int from_stdin = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--email") == 0 && i + 1 < argc)
            email = argv[++i];
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--password-stdin") == 0)
            from_stdin = 1;
        else
            return usage();
    }
    int is_create = strcmp(argv[0], "create") == 0;
    if (!is_create && strcmp(argv[0], "count") != 0)
        return usage();
    if (is_create && email == NULL)
        return usage();
    if (password_init(cfg->hash_concurrency, 0) != 0) {
        fprintf(stderr, "cloudyad: cannot initialize libsodium\n");
        return 1;
    }
    char err[512];
    store *st = NULL;
    int rc = secret_mkdirs(cfg->data_dir);
    if (rc != 0) {
        fprintf(stderr, "cloudyad: cannot create %s: %s\n", cfg->data_dir, strerror(-rc));
        return 1;
    }
    if (store_open(cfg->database_url, POOL, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "cloudyad: cannot open the database %s: %s\n", cfg->database_url, err);
        return 1;
    }
    int status = 0;
    if (is_create) {
        char pw[1026], again[1026] = {0};
        if (read_password(from_stdin, "Password: ", pw, sizeof(pw)) != 0) {
            fprintf(stderr, "cloudyad: no password given\n");
            status = 1;
        } else if (!from_stdin && isatty(STDIN_FILENO) &&
                   (read_password(0, "Password (again): ", again, sizeof(again)) != 0 ||
                    strcmp(pw, again) != 0)) {
            fprintf(stderr, "cloudyad: the passwords differ\n");
            status = 1;
        } else if (create(st, cfg, email, name, pw) != 0) {
            status = 1;
        } else {
            printf("created admin %s\n", email);
        }
        sodium_memzero(pw, sizeof(pw));
        sodium_memzero(again, sizeof(again));
    } else {
        int64_t n = 0;
        if (store_user_count_admins(st, &n) != 0) {
            fprintf(stderr, "cloudyad: cannot count admins\n");
            status = 1;
        } else {
            printf("%lld\n", (long long)n);
        }
    }
    store_close(st);
    return status;
}
