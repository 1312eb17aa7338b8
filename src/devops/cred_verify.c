/* Asking a provider whether credentials work, the way its own users check them: the aws,
 * gcloud and az CLIs (run without a shell, secrets only in their environment, with a
 * timeout and capped output), or the HTTP APIs of Proxmox VE, vSphere, Nutanix Prism
 * Central and OpenStack Keystone (libcurl, short timeouts, capped answers parsed with
 * jansson). Every outcome is one of three: verified, refused by the provider, or not
 * checkable, and each comes with a sentence that says why. */
#define _GNU_SOURCE
#include "credentials.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "str.h"
#include "xalloc.h"

extern char **environ;

#define TOOL_TIMEOUT_MS 30000   /* aws, gcloud, az */
#define HTTP_TIMEOUT_S 10       /* a whole HTTP exchange */
#define HTTP_CONNECT_S 5        /* establishing its connection */
#define HTTP_BODY_MAX (64u << 10)
#define REASON_MAX 128          /* an HTTP reason phrase kept for the message */
#define SAID_MAX 240            /* bytes of a provider's own words quoted in a message */
#define URL_MAX (CRED_VALUE_MAX + 64)
#define TOOL_ARGS_MAX 12
#define HEADER_MAX (2 * CRED_VALUE_MAX + 64)

/* ---- child processes ------------------------------------------------------------------ */

int cred_tool_find(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (path == NULL || path[0] == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path != '\0') {
        size_t n = strcspn(path, ":");
        char dir[PATH_MAX];
        if (n == 0) {
            str_copy(dir, sizeof(dir), ".");
        } else if (n < sizeof(dir)) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        } else {
            dir[0] = '\0';
        }
        path += n + (path[n] == ':');
        if (dir[0] == '\0')
            continue;
        int w = snprintf(out, cap, "%s/%s", dir, name);
        if (w < 0 || (size_t)w >= cap)
            continue;
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
            return 0;
    }
    if (cap > 0)
        out[0] = '\0';
    return -ENOENT;
}

/* 1 when the assignment or name a starts with the variable name (len bytes) followed by
 * '=' or its end. */
static int same_name(const char *a, const char *name, size_t len)
{
    return strncmp(a, name, len) == 0 && (a[len] == '=' || a[len] == '\0');
}

/* The child's environment: the caller's without drop and without the names env sets,
 * then env. The strings are not copied. */
static char **child_env(char *const drop[], char *const env[])
{
    size_t n = 0, m = 0;
    while (environ != NULL && environ[n] != NULL)
        n++;
    while (env != NULL && env[m] != NULL)
        m++;
    char **out = xcalloc(n + m + 1, sizeof(*out));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int skip = 0;
        for (size_t d = 0; drop != NULL && drop[d] != NULL && !skip; d++)
            skip = strlen(drop[d]) == len && strncmp(drop[d], environ[i], len) == 0;
        for (size_t e = 0; e < m && !skip; e++)
            skip = same_name(env[e], environ[i], len);
        if (!skip)
            out[k++] = environ[i];
    }
    for (size_t e = 0; e < m; e++)
        out[k++] = env[e];
    out[k] = NULL;
    return out;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what fd has into b (keeping at most max bytes, dropping the rest). Returns 1 at
 * the end of the stream, else 0. */
static int drain(int fd, char *b, size_t *len, size_t max)
{
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : 1;
    if (n == 0)
        return 1;
    size_t take = (size_t)n;
    if (take > max - *len)
        take = max - *len;
    memcpy(b + *len, chunk, take);
    *len += take;
    b[*len] = '\0';
    return 0;
}

int cred_tool_run(const char *path, char *const argv[], char *const drop[], char *const env[],
                  int timeout_ms, struct cred_tool_run *r)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, px[2] = {-1, -1}, devnull = -1, rc = 0;
    char **envp = NULL;
    memset(r, 0, sizeof(*r));
    r->out = xcalloc(1, CRED_TOOL_OUT_MAX + 1);
    r->err = xcalloc(1, CRED_TOOL_ERR_MAX + 1);
    if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0 || pipe2(px, O_CLOEXEC) != 0 ||
        (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        rc = -errno;
        goto out;
    }
    envp = child_env(drop, env);
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        goto out;
    }
    if (pid == 0) {
        /* the child: only async-signal-safe calls until execve */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        static const int sigs[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE};
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
            sigaction(sigs[i], &dfl, NULL);
        if (dup2(devnull, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
            _exit(127);
        execve(path, argv, envp);
        int e = errno;
        ssize_t w = write(px[1], &e, sizeof(e));
        (void)w;
        _exit(127);
    }
    close(po[1]), po[1] = -1;
    close(pe[1]), pe[1] = -1;
    close(px[1]), px[1] = -1;
    int exec_errno = 0;
    ssize_t got;
    do
        got = read(px[0], &exec_errno, sizeof(exec_errno));
    while (got < 0 && errno == EINTR);
    int status = 0;
    if (got == (ssize_t)sizeof(exec_errno)) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        rc = exec_errno > 0 ? -exec_errno : -ENOEXEC;
        goto out;
    }
    r->started = 1;
    int64_t deadline = now_ms() + timeout_ms;
    int open_out = 1, open_err = 1, reaped = 0;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            r->timed_out = 1;
            break;
        }
        if (!open_out && !open_err) {
            /* both outputs closed: wait for the exit itself, still within the deadline */
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid) {
                reaped = 1;
                break;
            }
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        struct pollfd p[2] = {{.fd = open_out ? po[0] : -1, .events = POLLIN},
                              {.fd = open_err ? pe[0] : -1, .events = POLLIN}};
        int pr = poll(p, 2, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        if (open_out && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            open_out = !drain(po[0], r->out, &r->out_len, CRED_TOOL_OUT_MAX);
        if (open_err && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            open_err = !drain(pe[0], r->err, &r->err_len, CRED_TOOL_ERR_MAX);
    }
    if (!reaped) {
        if (waitpid(pid, &status, WNOHANG) != pid) {
            kill(pid, SIGKILL);
            r->timed_out = 1;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        }
    }
    if (WIFEXITED(status))
        r->status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r->status = 128 + WTERMSIG(status);
out:
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
        if (px[i] >= 0)
            close(px[i]);
    }
    if (devnull >= 0)
        close(devnull);
    free(envp);
    return rc;
}

void cred_tool_free(struct cred_tool_run *r)
{
    if (r->out != NULL)
        explicit_bzero(r->out, CRED_TOOL_OUT_MAX + 1);
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
    r->out_len = r->err_len = 0;
}

/* ---- messages ------------------------------------------------------------------------ */

static void say(struct cred_verification *v, enum cred_verdict verdict, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(struct cred_verification *v, enum cred_verdict verdict, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof(v->message), fmt, ap);
    va_end(ap);
    v->verdict = verdict;
}

/* Text from outside (a CLI's error, an HTTP answer) made fit to quote: valid UTF-8, control
 * characters as spaces, blanks collapsed, cut to SAID_MAX bytes on a character boundary. */
static void clean(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    int blank = 1;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        char c = in[i];
        if ((unsigned char)c < 0x20 || c == 0x7f)
            c = ' ';
        if (c == ' ' && blank)
            continue;
        blank = c == ' ';
        out[o++] = c;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (o > SAID_MAX) {
        o = SAID_MAX;
        while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
            o--; /* do not cut a character in two */
    }
    out[o] = '\0';
    str_utf8_repair(out, o);
}

/* The first line of text that says something (a CLI's error), cleaned. */
static void first_words(const char *text, char *out, size_t cap)
{
    const char *p = text;
    while (*p != '\0') {
        size_t n = strcspn(p, "\n");
        const char *q = p;
        size_t m = n;
        while (m > 0 && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++, m--;
        if (m > 0 && strncmp(q, "Traceback", 9) != 0) {
            clean(q, m, out, cap);
            return;
        }
        p += n + (p[n] == '\n');
    }
    str_copy(out, cap, "no message");
}

#define MASK_ANYWHERE 4 /* a secret this long is masked wherever it appears */

static int word_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Replaces every secret of the provider's section that appears in the message, searching
 * on after each replacement (a secret made of '*' cannot loop). A very short secret is
 * masked only where it stands as a word of its own, so that "s" does not eat every s. */
static void mask_secrets(struct cred_verification *v, const struct cred_provider *p,
                         const json_t *section)
{
    char secret[CRED_VALUE_MAX], rest[CRED_MESSAGE_MAX];
    for (int i = 0; i < CRED_MAX_FIELDS && p->fields[i].key != NULL; i++) {
        if (!p->fields[i].secret || !cred_value(section, p->fields[i].key, secret, sizeof(secret)))
            continue;
        size_t n = strlen(secret), from = 0;
        char *at;
        while (from < sizeof(v->message) && (at = strstr(v->message + from, secret)) != NULL) {
            size_t used = (size_t)(at - v->message);
            if (n < MASK_ANYWHERE &&
                ((used > 0 && word_char(at[-1])) || word_char(at[n]))) {
                from = used + 1;
                continue;
            }
            str_copy(rest, sizeof(rest), at + n);
            snprintf(at, sizeof(v->message) - used, "********%s", rest);
            from = used + 8;
        }
    }
    explicit_bzero(secret, sizeof(secret));
    explicit_bzero(rest, sizeof(rest));
}

static int contains_any(const char *text, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++)
        if (strcasestr(text, words[i]) != NULL)
            return 1;
    return 0;
}

static const char *const network_words[] = {
    "could not connect", "connect timeout", "timed out", "timeout", "name or service not known",
    "temporary failure in name resolution", "network is unreachable", "connection refused",
    "failed to resolve", "unable to connect", "endpointconnectionerror", "failed to establish",
    "no route to host", "max retries exceeded", "connection aborted", "connection reset",
    "ssl", "proxy", NULL};
static const char *const login_words[] = {
    "unable to locate credentials", "no active account", "active account selected", "gcloud auth login", "az login",
    "login is required", "re-authenticate", "reauthentication", "refresh token has expired",
    NULL};

/* Turns a CLI's failure into a verdict: network trouble and a missing local login cannot be
 * judged; anything else is the provider's (or the CLI's) refusal. */
static void tool_failed(struct cred_verification *v, const char *tool,
                        const struct cred_tool_run *r, const char *advice)
{
    char said[SAID_MAX + 8];
    first_words(r->err_len > 0 ? r->err : r->out, said, sizeof(said));
    if (r->timed_out)
        say(v, CRED_UNVERIFIED, "%s did not answer within %d s (is the network up?)", tool,
            TOOL_TIMEOUT_MS / 1000);
    else if (contains_any(r->err, network_words))
        say(v, CRED_UNVERIFIED, "%s could not reach the provider: %s", tool, said);
    else if (contains_any(r->err, login_words))
        say(v, CRED_UNVERIFIED, "%s has no login to check with: %s (%s)", tool, said, advice);
    else
        say(v, CRED_FAILED, "%s refused them (exit %d): %s", tool, r->status, said);
}

static void debug_run(int debug, char *const argv[], char *const env[])
{
    if (!debug)
        return;
    fprintf(stderr, "cloudya: running");
    for (size_t i = 0; argv[i] != NULL; i++)
        fprintf(stderr, " %s", argv[i]);
    fprintf(stderr, "; environment:");
    for (size_t i = 0; env[i] != NULL; i++)
        fprintf(stderr, " %.*s", (int)strcspn(env[i], "="), env[i]);
    fprintf(stderr, "\n");
}

/* The provider's environment (cred_env) plus extra, NULL-terminated; free with env_free. */
static int env_of(const char *provider, const json_t *section, char **out, int cap,
                  const char *const *extra)
{
    json_t *creds = json_pack("{s:O}", provider, section);
    int n = creds != NULL ? cred_env(creds, provider, out, cap - 1) : 0;
    json_decref(creds);
    if (n < 0)
        n = 0;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < cap - 1; i++)
        out[n++] = xstrdup(extra[i]);
    out[n] = NULL;
    return n;
}

static void env_free(char **env)
{
    for (size_t i = 0; env[i] != NULL; i++) {
        explicit_bzero(env[i], strlen(env[i]));
        free(env[i]);
    }
}

/* The names a provider's tool must not inherit from the user's shell: every variable the
 * table feeds, and the ones that would change what is checked. */
static void drop_of(const struct cred_provider *p, const char *const *more, char **out, int cap)
{
    int n = 0;
    for (int i = 0; i < CRED_MAX_FIELDS && p->fields[i].key != NULL; i++)
        for (int e = 0; e < CRED_MAX_ENVS && p->fields[i].env[e].name != NULL && n < cap - 1; e++)
            out[n++] = (char *)p->fields[i].env[e].name;
    for (size_t i = 0; more != NULL && more[i] != NULL && n < cap - 1; i++)
        out[n++] = (char *)more[i];
    out[n] = NULL;
}

/* Runs a CLI found on PATH. Returns 0 with r filled, or -1 after saying why it could not. */
static int run_cli(struct cred_verification *v, const char *path, const char *tool,
                   char *const argv[], char *const drop[], char *const env[], int debug,
                   struct cred_tool_run *r)
{
    debug_run(debug, argv, env);
    int rc = cred_tool_run(path, argv, drop, env, TOOL_TIMEOUT_MS, r);
    if (rc != 0) {
        say(v, CRED_UNVERIFIED, "%s (%s) could not be run: %s", tool, path, strerror(-rc));
        cred_tool_free(r);
        return -1;
    }
    if (debug)
        fprintf(stderr, "cloudya: %s exited with %d%s\n", tool, r->status,
                r->timed_out ? " (killed after the timeout)" : "");
    return 0;
}

/* ---- aws, gcloud, az -------------------------------------------------------------------- */

static void verify_aws(const struct cred_provider *p, const json_t *s, int debug,
                       struct cred_verification *v)
{
    char path[PATH_MAX], profile[CRED_VALUE_MAX], key[CRED_VALUE_MAX];
    if (cred_tool_find("aws", path, sizeof(path)) != 0) {
        say(v, CRED_UNVERIFIED, "the aws CLI is not installed (apt install awscli), so AWS "
                                "could not be asked");
        return;
    }
    int keys = cred_value(s, "access_key_id", key, sizeof(key));
    if (!cred_value(s, "default_profile", profile, sizeof(profile)))
        str_copy(profile, sizeof(profile), "default");
    static const char *const extra[] = {"AWS_PAGER=", NULL};
    static const char *const more[] = {"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                                       "AWS_DEFAULT_PROFILE", "AWS_PAGER", NULL};
    char *env[CRED_ENV_MAX + 4], *drop[CRED_MAX_FIELDS * CRED_MAX_ENVS + 8];
    env_of("aws", s, env, CRED_ENV_MAX + 4, extra);
    drop_of(p, more, drop, CRED_MAX_FIELDS * CRED_MAX_ENVS + 8);
    char *argv[TOOL_ARGS_MAX] = {"aws", "sts", "get-caller-identity", "--output", "json"};
    if (!keys) {
        argv[5] = "--profile";
        argv[6] = profile;
    }
    struct cred_tool_run r;
    if (run_cli(v, path, "aws", argv, drop, env, debug, &r) == 0) {
        json_t *id = r.status == 0 && !r.timed_out ? json_loadb(r.out, r.out_len, 0, NULL) : NULL;
        const char *account = json_string_value(json_object_get(id, "Account"));
        const char *arn = json_string_value(json_object_get(id, "Arn"));
        if (account != NULL && arn != NULL) {
            char a[SAID_MAX + 8], b[SAID_MAX + 8];
            clean(account, strlen(account), a, sizeof(a));
            clean(arn, strlen(arn), b, sizeof(b));
            say(v, CRED_VERIFIED, "AWS account %s, identity %s", a, b);
        } else if (r.status == 0 && !r.timed_out) {
            say(v, CRED_UNVERIFIED, "aws sts get-caller-identity answered something that is not "
                                    "an identity");
        } else {
            tool_failed(v, "aws", &r, keys ? "check the keys" : "run `aws configure`");
        }
        json_decref(id);
        cred_tool_free(&r);
    }
    env_free(env);
}

/* Without gcloud: what can be said about a service-account key file offline. */
static void gcp_offline(const json_t *s, struct cred_verification *v)
{
    char file[CRED_VALUE_MAX], project[CRED_VALUE_MAX];
    cred_value(s, "default_project", project, sizeof(project));
    if (!cred_value(s, "credentials_file", file, sizeof(file))) {
        say(v, CRED_UNVERIFIED, "gcloud is not installed (see https://cloud.google.com/sdk/docs/"
                                "install), so Google could not be asked about project %s",
            project);
        return;
    }
    json_error_t je;
    json_t *key = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    const char *type = json_string_value(json_object_get(key, "type"));
    const char *pid = json_string_value(json_object_get(key, "project_id"));
    const char *email = json_string_value(json_object_get(key, "client_email"));
    char a[SAID_MAX + 8], b[SAID_MAX + 8];
    if (key == NULL || type == NULL || strcmp(type, "service_account") != 0 || pid == NULL ||
        email == NULL) {
        say(v, CRED_UNVERIFIED, "gcloud is not installed, and %s is not a readable "
                                "service-account key",
            file);
    } else {
        clean(pid, strlen(pid), a, sizeof(a));
        clean(email, strlen(email), b, sizeof(b));
        if (strcmp(pid, project) == 0)
            say(v, CRED_UNVERIFIED, "gcloud is not installed, so Google was not asked; the key "
                                    "file of %s is well-formed and belongs to project %s",
                b, a);
        else
            say(v, CRED_UNVERIFIED, "gcloud is not installed, so Google was not asked; note "
                                    "that the key file of %s belongs to project %s, not %s",
                b, a, project);
    }
    json_decref(key);
}

static void verify_gcp(const struct cred_provider *p, const json_t *s, int debug,
                       struct cred_verification *v)
{
    char path[PATH_MAX], project[CRED_VALUE_MAX], file[CRED_VALUE_MAX], over[CRED_VALUE_MAX + 64];
    if (cred_tool_find("gcloud", path, sizeof(path)) != 0) {
        gcp_offline(s, v);
        return;
    }
    cred_value(s, "default_project", project, sizeof(project));
    int has_file = cred_value(s, "credentials_file", file, sizeof(file));
    snprintf(over, sizeof(over), "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE=%s", file);
    const char *extra[] = {"CLOUDSDK_CORE_DISABLE_PROMPTS=1", has_file ? over : NULL, NULL};
    static const char *const more[] = {"CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
                                       "CLOUDSDK_CORE_DISABLE_PROMPTS", NULL};
    char *env[CRED_ENV_MAX + 4], *drop[CRED_MAX_FIELDS * CRED_MAX_ENVS + 8];
    env_of("gcp", s, env, CRED_ENV_MAX + 4, extra);
    drop_of(p, more, drop, CRED_MAX_FIELDS * CRED_MAX_ENVS + 8);
    char *argv[] = {"gcloud", "projects", "describe", project, "--format=json", NULL};
    struct cred_tool_run r;
    if (run_cli(v, path, "gcloud", argv, drop, env, debug, &r) == 0) {
        json_t *pj = r.status == 0 && !r.timed_out ? json_loadb(r.out, r.out_len, 0, NULL) : NULL;
        const char *id = json_string_value(json_object_get(pj, "projectId"));
        const char *name = json_string_value(json_object_get(pj, "name"));
        const char *state = json_string_value(json_object_get(pj, "lifecycleState"));
        if (id != NULL) {
            char a[SAID_MAX + 8], b[SAID_MAX + 8], c[SAID_MAX + 8];
            clean(id, strlen(id), a, sizeof(a));
            clean(name ? name : "?", strlen(name ? name : "?"), b, sizeof(b));
            clean(state ? state : "?", strlen(state ? state : "?"), c, sizeof(c));
            say(v, CRED_VERIFIED, "project %s (\"%s\", %s), as gcloud sees it%s", a, b, c,
                has_file ? " with the service-account key" : " with your login");
        } else if (r.status == 0 && !r.timed_out) {
            say(v, CRED_UNVERIFIED, "gcloud projects describe answered something that is not a "
                                    "project");
        } else {
            tool_failed(v, "gcloud", &r, "run `gcloud auth login`");
        }
        json_decref(pj);
        cred_tool_free(&r);
    }
    env_free(env);
}

static void verify_azure(const struct cred_provider *p, const json_t *s, int debug,
                         struct cred_verification *v)
{
    char path[PATH_MAX], sub[CRED_VALUE_MAX], client[CRED_VALUE_MAX];
    cred_value(s, "default_subscription", sub, sizeof(sub));
    if (cred_tool_find("az", path, sizeof(path)) != 0) {
        say(v, CRED_UNVERIFIED, "the az CLI is not installed (see https://learn.microsoft.com/"
                                "cli/azure/install-azure-cli), so Azure could not be asked about "
                                "subscription %s",
            sub);
        return;
    }
    int sp = cred_value(s, "client_id", client, sizeof(client));
    static const char *const extra[] = {"AZURE_CORE_NO_COLOR=1", NULL};
    char *env[CRED_ENV_MAX + 4], *drop[CRED_MAX_FIELDS * CRED_MAX_ENVS + 8];
    env_of("azure", s, env, CRED_ENV_MAX + 4, extra);
    drop_of(p, NULL, drop, CRED_MAX_FIELDS * CRED_MAX_ENVS + 8);
    char *argv[] = {"az", "account", "show", "--subscription", sub, "-o", "json", NULL};
    struct cred_tool_run r;
    if (run_cli(v, path, "az", argv, drop, env, debug, &r) == 0) {
        json_t *a = r.status == 0 && !r.timed_out ? json_loadb(r.out, r.out_len, 0, NULL) : NULL;
        const char *id = json_string_value(json_object_get(a, "id"));
        const char *name = json_string_value(json_object_get(a, "name"));
        const char *state = json_string_value(json_object_get(a, "state"));
        const char *user = json_string_value(json_object_get(json_object_get(a, "user"), "name"));
        if (id != NULL) {
            char x[SAID_MAX + 8], y[SAID_MAX + 8], z[SAID_MAX + 8];
            clean(name ? name : "?", strlen(name ? name : "?"), x, sizeof(x));
            clean(state ? state : "?", strlen(state ? state : "?"), y, sizeof(y));
            clean(user ? user : "?", strlen(user ? user : "?"), z, sizeof(z));
            say(v, CRED_VERIFIED, "subscription %s (\"%s\", %s), seen by az as %s%s", sub, x, y, z,
                sp ? "; az checked its own login, Terraform will use the service principal"
                   : "");
        } else if (r.status == 0 && !r.timed_out) {
            say(v, CRED_UNVERIFIED, "az account show answered something that is not a "
                                    "subscription");
        } else {
            tool_failed(v, "az", &r, "run `az login`");
        }
        json_decref(a);
        cred_tool_free(&r);
    }
    env_free(env);
}

/* ---- HTTP APIs -------------------------------------------------------------------------- */

struct http_ans {
    long status;
    char *body;          /* NUL-terminated, at most HTTP_BODY_MAX bytes */
    size_t len;
    int too_large;
    int subject_token;   /* an X-Subject-Token header came (its value is not kept) */
    char reason[REASON_MAX]; /* the status line's reason phrase */
    char err[256];       /* the transport failure, when status is 0 */
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct http_ans *a = arg;
    size_t len = size * n;
    if (len > HTTP_BODY_MAX - a->len) {
        a->too_large = 1;
        return 0; /* stops the transfer */
    }
    memcpy(a->body + a->len, data, len);
    a->len += len;
    a->body[a->len] = '\0';
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct http_ans *a = arg;
    size_t len = size * n;
    if (len >= 16 && strncasecmp(data, "x-subject-token:", 16) == 0)
        a->subject_token = 1;
    if (len > 9 && strncmp(data, "HTTP/", 5) == 0) {
        /* "HTTP/1.1 401 authentication failure": keep the words after the code */
        const char *sp = memchr(data, ' ', len);
        const char *sp2 = sp ? memchr(sp + 1, ' ', len - (size_t)(sp + 1 - data)) : NULL;
        if (sp2 != NULL)
            clean(sp2 + 1, len - (size_t)(sp2 + 1 - data), a->reason, sizeof(a->reason));
        else
            a->reason[0] = '\0';
    }
    return len;
}

/* The transport failure as a user's sentence. */
static void transport_words(CURLcode c, const char *detail, char *out, size_t cap)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
        str_fmt(out, cap, "the host name does not resolve (DNS): %s", detail);
        break;
    case CURLE_COULDNT_CONNECT:
        str_fmt(out, cap, "the connection failed (refused, or no route): %s", detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        str_fmt(out, cap, "no answer within %d s (timeout)", HTTP_TIMEOUT_S);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
        str_fmt(out, cap, "the TLS connection failed (%s); for a self-signed certificate set "
                           "insecure_tls=true",
                 detail);
        break;
    default:
        str_fmt(out, cap, "%s%s%s", curl_easy_strerror(c), detail[0] ? ": " : "", detail);
    }
}

/* One HTTP exchange. Returns 0 when an answer came (any status), or -1 with a->err set.
 * user/password: Basic authentication when user is not NULL. Free a->body after. */
static int http_call(const char *method, const char *url, struct curl_slist *headers,
                     const char *user, const char *password, const char *body, int insecure,
                     int debug, struct http_ans *a)
{
    memset(a, 0, sizeof(*a));
    a->body = xcalloc(1, HTTP_BODY_MAX + 1);
    CURL *c = curl_easy_init();
    if (c == NULL) {
        str_copy(a->err, sizeof(a->err), "libcurl cannot start");
        return -1;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)HTTP_CONNECT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)HTTP_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "cloudya-connect");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    if (headers != NULL)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (user != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, password ? password : "");
    }
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (debug)
        fprintf(stderr, "cloudya: %s %s%s%s\n", method, url, user ? " (Basic auth as " : "",
                user ? "the configured user)" : "");
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
        if (debug)
            fprintf(stderr, "cloudya: < HTTP %ld, %zu bytes\n", a->status, a->len);
    } else if (a->too_large) {
        str_fmt(a->err, sizeof(a->err), "the answer is larger than %u KiB",
                HTTP_BODY_MAX >> 10);
    } else {
        char detail[CURL_ERROR_SIZE];
        clean(errbuf, strlen(errbuf), detail, sizeof(detail));
        transport_words(rc, detail, a->err, sizeof(a->err));
    }
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

static void http_free(struct http_ans *a)
{
    if (a->body != NULL)
        explicit_bzero(a->body, a->len);
    free(a->body);
    a->body = NULL;
}

/* The answer parsed as JSON (any value), or NULL. */
static json_t *ans_json(const struct http_ans *a)
{
    return a->len > 0 ? json_loadb(a->body, a->len, JSON_DECODE_ANY, NULL) : NULL;
}

/* What a refusing or odd answer said: the reason phrase and the provider's own message. */
static void ans_words(const struct http_ans *a, const char *message, char *out, size_t cap)
{
    char m[SAID_MAX + 8] = "";
    if (message != NULL)
        clean(message, strlen(message), m, sizeof(m));
    str_fmt(out, cap, "HTTP %ld%s%s%s%s%s", a->status, a->reason[0] ? " " : "", a->reason,
            m[0] ? " (\"" : "", m, m[0] ? "\")" : "");
}

/* The verdict for an answer that is neither the expected success nor a refusal. */
static void odd_answer(struct cred_verification *v, const char *what, const char *url,
                       const struct http_ans *a, const char *message)
{
    char w[SAID_MAX + 64];
    ans_words(a, message, w, sizeof(w));
    if (a->status == 404)
        say(v, CRED_UNVERIFIED, "%s answered %s: is %s the right address?", url, w, what);
    else
        say(v, CRED_UNVERIFIED, "%s answered %s, which says nothing about the credentials",
            url, w);
}

static void verify_proxmox(const json_t *s, int debug, struct cred_verification *v)
{
    char base[CRED_VALUE_MAX], id[CRED_VALUE_MAX], secret[CRED_VALUE_MAX], b[8];
    char url[URL_MAX], header[HEADER_MAX];
    cred_value(s, "api_url", base, sizeof(base));
    cred_value(s, "token_id", id, sizeof(id));
    cred_value(s, "token_secret", secret, sizeof(secret));
    int insecure = cred_value(s, "insecure_tls", b, sizeof(b)) && strcmp(b, "true") == 0;
    snprintf(url, sizeof(url), "%s/version", base);
    snprintf(header, sizeof(header), "Authorization: PVEAPIToken=%s=%s", id, secret);
    struct curl_slist *h = curl_slist_append(NULL, header);
    h = curl_slist_append(h, "Accept: application/json");
    explicit_bzero(header, sizeof(header));
    explicit_bzero(secret, sizeof(secret));
    struct http_ans a;
    if (http_call("GET", url, h, NULL, NULL, NULL, insecure, debug, &a) != 0) {
        say(v, CRED_UNVERIFIED, "Proxmox at %s could not be reached: %s", base, a.err);
    } else if (a.status == 200) {
        json_t *j = ans_json(&a);
        const char *ver = json_string_value(json_object_get(json_object_get(j, "data"), "version"));
        char x[SAID_MAX + 8];
        clean(ver ? ver : "?", strlen(ver ? ver : "?"), x, sizeof(x));
        say(v, CRED_VERIFIED, "Proxmox VE %s at %s accepted the token %s", x, base, id);
        json_decref(j);
    } else if (a.status == 401 || a.status == 403) {
        char w[SAID_MAX + 64];
        ans_words(&a, NULL, w, sizeof(w));
        say(v, CRED_FAILED, "Proxmox at %s refused the token %s: %s", base, id, w);
    } else {
        odd_answer(v, "the Proxmox API URL (https://HOST:8006/api2/json)", base, &a, NULL);
    }
    /* the header list held the secret */
    for (struct curl_slist *i = h; i != NULL; i = i->next)
        explicit_bzero(i->data, strlen(i->data));
    curl_slist_free_all(h);
    http_free(&a);
}

/* The message of a vSphere error answer: {"error_type": ..., "messages": [{"default_message"}]} */
static const char *vsphere_said(const json_t *j)
{
    const char *m = json_string_value(
        json_object_get(json_array_get(json_object_get(j, "messages"), 0), "default_message"));
    return m != NULL ? m : json_string_value(json_object_get(j, "error_type"));
}

static void verify_vmware(const json_t *s, int debug, struct cred_verification *v)
{
    char base[CRED_VALUE_MAX], user[CRED_VALUE_MAX], pw[CRED_VALUE_MAX], b[8], url[URL_MAX];
    cred_value(s, "server", base, sizeof(base));
    cred_value(s, "username", user, sizeof(user));
    cred_value(s, "password", pw, sizeof(pw));
    int insecure = cred_value(s, "insecure_tls", b, sizeof(b)) && strcmp(b, "true") == 0;
    snprintf(url, sizeof(url), "%s/api/session", base);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    struct http_ans a;
    int got = http_call("POST", url, h, user, pw, NULL, insecure, debug, &a);
    explicit_bzero(pw, sizeof(pw));
    curl_slist_free_all(h);
    json_t *j = got == 0 ? ans_json(&a) : NULL;
    if (got != 0) {
        say(v, CRED_UNVERIFIED, "vCenter at %s could not be reached: %s", base, a.err);
    } else if (a.status == 201 || a.status == 200) {
        const char *token = json_string_value(j);
        if (token == NULL) {
            say(v, CRED_UNVERIFIED, "%s answered HTTP %ld without a session token: is it a "
                                    "vCenter (7.0 U2 or later)?",
                base, a.status);
        } else {
            say(v, CRED_VERIFIED, "vCenter at %s opened a session for %s (closed again)", base,
                user);
            /* log out, so the check leaves no session behind */
            char header[HEADER_MAX];
            snprintf(header, sizeof(header), "vmware-api-session-id: %s", token);
            struct curl_slist *dh = curl_slist_append(NULL, header);
            explicit_bzero(header, sizeof(header));
            struct http_ans d;
            if (http_call("DELETE", url, dh, NULL, NULL, NULL, insecure, debug, &d) != 0 ||
                (d.status != 204 && d.status != 200))
                say(v, CRED_VERIFIED, "vCenter at %s opened a session for %s (closing it "
                                      "failed; it will expire by itself)",
                    base, user);
            for (struct curl_slist *i = dh; i != NULL; i = i->next)
                explicit_bzero(i->data, strlen(i->data));
            curl_slist_free_all(dh);
            http_free(&d);
        }
    } else if (a.status == 401 || a.status == 403) {
        char w[SAID_MAX + 64];
        ans_words(&a, vsphere_said(j), w, sizeof(w));
        say(v, CRED_FAILED, "vCenter at %s refused the user %s: %s", base, user, w);
    } else {
        odd_answer(v, "the vCenter address", base, &a, vsphere_said(j));
    }
    if (json_is_string(j))
        explicit_bzero((char *)json_string_value(j), json_string_length(j));
    json_decref(j);
    http_free(&a);
}

static void verify_nutanix(const json_t *s, int debug, struct cred_verification *v)
{
    char base[CRED_VALUE_MAX], user[CRED_VALUE_MAX], pw[CRED_VALUE_MAX], b[8], url[URL_MAX];
    cred_value(s, "endpoint", base, sizeof(base));
    cred_value(s, "username", user, sizeof(user));
    cred_value(s, "password", pw, sizeof(pw));
    int insecure = cred_value(s, "insecure_tls", b, sizeof(b)) && strcmp(b, "true") == 0;
    snprintf(url, sizeof(url), "%s/api/nutanix/v3/clusters/list", base);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    struct http_ans a;
    int got = http_call("POST", url, h, user, pw, "{\"kind\":\"cluster\"}", insecure, debug, &a);
    explicit_bzero(pw, sizeof(pw));
    curl_slist_free_all(h);
    json_t *j = got == 0 ? ans_json(&a) : NULL;
    const char *said = json_string_value(
        json_object_get(json_array_get(json_object_get(j, "message_list"), 0), "message"));
    if (got != 0) {
        say(v, CRED_UNVERIFIED, "Prism Central at %s could not be reached: %s", base, a.err);
    } else if (a.status == 200) {
        json_t *total = json_object_get(json_object_get(j, "metadata"), "total_matches");
        long long n = json_is_integer(total) ? (long long)json_integer_value(total)
                                             : (long long)json_array_size(json_object_get(j, "entities"));
        say(v, CRED_VERIFIED, "Prism Central at %s accepted %s: %lld cluster%s", base, user, n,
            n == 1 ? "" : "s");
    } else if (a.status == 401 || a.status == 403) {
        char w[SAID_MAX + 64];
        ans_words(&a, said, w, sizeof(w));
        say(v, CRED_FAILED, "Prism Central at %s refused the user %s: %s", base, user, w);
    } else {
        odd_answer(v, "the Prism Central address", base, &a, said);
    }
    json_decref(j);
    http_free(&a);
}

static void verify_openstack(const json_t *s, int debug, struct cred_verification *v)
{
    char base[CRED_VALUE_MAX], user[CRED_VALUE_MAX], pw[CRED_VALUE_MAX], project[CRED_VALUE_MAX];
    char udom[CRED_VALUE_MAX], pdom[CRED_VALUE_MAX], url[URL_MAX];
    cred_value(s, "auth_url", base, sizeof(base));
    cred_value(s, "username", user, sizeof(user));
    cred_value(s, "password", pw, sizeof(pw));
    cred_value(s, "project_name", project, sizeof(project));
    if (!cred_value(s, "user_domain_name", udom, sizeof(udom)))
        str_copy(udom, sizeof(udom), "Default");
    if (!cred_value(s, "project_domain_name", pdom, sizeof(pdom)))
        str_copy(pdom, sizeof(pdom), "Default");
    snprintf(url, sizeof(url), "%s/auth/tokens", base);
    json_t *req = json_pack(
        "{s:{s:{s:[s], s:{s:{s:s, s:{s:s}, s:s}}}, s:{s:{s:s, s:{s:s}}}}}", "auth", "identity",
        "methods", "password", "password", "user", "name", user, "domain", "name", udom,
        "password", pw, "scope", "project", "name", project, "domain", "name", pdom);
    explicit_bzero(pw, sizeof(pw));
    char *body = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (body == NULL) {
        say(v, CRED_UNVERIFIED, "the Keystone request could not be built");
        return;
    }
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    struct http_ans a;
    int got = http_call("POST", url, h, NULL, NULL, body, 0, debug, &a);
    explicit_bzero(body, strlen(body));
    free(body);
    curl_slist_free_all(h);
    json_t *j = got == 0 ? ans_json(&a) : NULL;
    const char *said = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    if (got != 0) {
        say(v, CRED_UNVERIFIED, "Keystone at %s could not be reached: %s", base, a.err);
    } else if (a.status == 201 && a.subject_token) {
        const char *exp = json_string_value(json_object_get(json_object_get(j, "token"),
                                                            "expires_at"));
        char x[SAID_MAX + 8] = "";
        if (exp != NULL)
            clean(exp, strlen(exp), x, sizeof(x));
        say(v, CRED_VERIFIED, "Keystone at %s issued a token for %s in project %s%s%s%s", base,
            user, project, x[0] ? " (valid until " : "", x, x[0] ? ")" : "");
    } else if (a.status == 201) {
        say(v, CRED_UNVERIFIED, "%s answered 201 without an X-Subject-Token header: is it "
                                "Keystone v3?",
            base);
    } else if (a.status == 401 || a.status == 403) {
        char w[SAID_MAX + 64];
        ans_words(&a, said, w, sizeof(w));
        say(v, CRED_FAILED, "Keystone at %s refused %s in project %s: %s", base, user, project,
            w);
    } else {
        odd_answer(v, "the Keystone v3 URL (it usually ends with /v3)", base, &a, said);
    }
    json_decref(j);
    http_free(&a);
}

int cred_verify(const char *provider, const json_t *section, int debug,
                struct cred_verification *out)
{
    const struct cred_provider *p = cred_provider(provider);
    memset(out, 0, sizeof(*out));
    out->verdict = CRED_UNVERIFIED;
    if (p == NULL)
        return -EINVAL;
    json_t *empty = NULL;
    if (!json_is_object(section))
        section = empty = json_object();
    int http = strcmp(p->name, "aws") != 0 && strcmp(p->name, "gcp") != 0 &&
               strcmp(p->name, "azure") != 0;
    if (http)
        curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(p->name, "aws") == 0)
        verify_aws(p, section, debug, out);
    else if (strcmp(p->name, "gcp") == 0)
        verify_gcp(p, section, debug, out);
    else if (strcmp(p->name, "azure") == 0)
        verify_azure(p, section, debug, out);
    else if (strcmp(p->name, "proxmox") == 0)
        verify_proxmox(section, debug, out);
    else if (strcmp(p->name, "vmware") == 0)
        verify_vmware(section, debug, out);
    else if (strcmp(p->name, "nutanix") == 0)
        verify_nutanix(section, debug, out);
    else
        verify_openstack(section, debug, out);
    if (http)
        curl_global_cleanup();
    mask_secrets(out, p, section);
    json_decref(empty);
    return 0;
}
