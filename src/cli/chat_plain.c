/* `cloudya chat --no-graphics`: a plain line chat. On a terminal it reads with libedit
 * (line editing, and a history kept in $CLOUDYA_HOME/chat_history, mode 0600, at most
 * HISTORY_LINES lines); otherwise it reads requests line by line from standard input, which
 * is how scripts and tests drive it. Answers are printed as `cloudya ask` prints them.
 * Ctrl+C never ends the chat: term.c turns it into a flag, which cancels the line being
 * typed (our own character reader for libedit sees it) or the request being waited for (it
 * runs on a thread; the chat stops waiting and drops its answer). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "chat.h"
#include "cli.h"
#include "output.h"
#include "str.h"
#include "term.h"

#define HISTORY_LINES 1000 /* of the file, its header line included */
#define HISTORY_FILE "chat_history"
#define HISTORY_FILE_MAX (4u << 20) /* a larger history file is not loaded */
#define PATH_BYTES 1200
#define WAIT_STEP_MS 100
#define PROMPT "you> "
#define CONFIRM "Execute? [y/N] "
#define WHY_MAX 1024

struct plain {
    struct cli_ctx *ctx;
    int execute, interactive;
    EditLine *el;
    History *hist;
    const char *prompt;
    int cancelled; /* Ctrl+C while reading */
    char plan[ASSIST_PLAN_MAX];
    long long balance;
    struct chat_context context;
    char history_path[PATH_BYTES];
};

/* libedit and mbrtowc need a UTF-8 character set to read what users type in French. */
static void utf8_ctype(void)
{
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    if (cs == NULL || (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "utf8") != 0))
        setlocale(LC_CTYPE, "C.UTF-8");
}

/* ---- reading a line ------------------------------------------------------------------------ */

static char *prompt_of(EditLine *el)
{
    struct plain *p = NULL;
    el_get(el, EL_CLIENTDATA, &p);
    return (char *)(p != NULL && p->prompt != NULL ? p->prompt : "");
}

/* libedit's character reader: one character from standard input, waiting in ppoll() with
 * SIGINT open only there, so a Ctrl+C always ends the wait. Returns 1 with *wc set, 0 at
 * the end of input, or -1 after a Ctrl+C (p->cancelled set) or a read error. */
static int read_char(EditLine *el, wchar_t *wc)
{
    struct plain *p = NULL;
    el_get(el, EL_CLIENTDATA, &p);
    mbstate_t mb;
    memset(&mb, 0, sizeof(mb));
    sigset_t block, old, during;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    for (;;) {
        pthread_sigmask(SIG_BLOCK, &block, &old);
        during = old;
        sigdelset(&during, SIGINT);
        if (term_sigint_taken()) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            p->cancelled = 1;
            return -1;
        }
        struct pollfd pf = {.fd = STDIN_FILENO, .events = POLLIN};
        int pr = ppoll(&pf, 1, NULL, &during);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        char c;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        size_t r = mbrtowc(wc, &c, 1, &mb);
        if (r == (size_t)-2)
            continue; /* more bytes of this character */
        if (r == (size_t)-1) {
            *wc = L'?';
            return 1;
        }
        return 1;
    }
}

/* Reads one line without a terminal: standard input up to "\n". Returns 0, -ENOENT at the
 * end of input, -EINTR on Ctrl+C, -ENOSPC for a line longer than cap - 1 (skipped). */
static int read_stdin_line(char *out, size_t cap)
{
    size_t n = 0;
    int too_long = 0;
    for (;;) {
        int c = getchar();
        if (c == EOF) {
            if (ferror(stdin) && errno == EINTR) {
                clearerr(stdin);
                if (term_sigint_taken())
                    return -EINTR;
                continue;
            }
            if (n == 0 && !too_long)
                return -ENOENT;
            break;
        }
        if (c == '\n')
            break;
        if (n + 1 < cap)
            out[n++] = (char)c;
        else
            too_long = 1;
    }
    if (n > 0 && out[n - 1] == '\r')
        n--;
    out[n] = '\0';
    return too_long ? -ENOSPC : 0;
}

/* Reads one line after prompt: with libedit on a terminal, else from standard input
 * (the prompt is printed only for the confirmation, so a transcript shows it). Returns as
 * read_stdin_line. */
static int read_line(struct plain *p, const char *prompt, char *out, size_t cap)
{
    if (!p->interactive) {
        if (strcmp(prompt, CONFIRM) == 0) {
            fputs(prompt, stdout);
            fflush(stdout);
        }
        int rc = read_stdin_line(out, cap);
        if (strcmp(prompt, CONFIRM) == 0) /* the answer, as a terminal would have echoed it */
            printf("%s\n", rc == 0 && strlen(out) < 16 && !str_has_control(out, strlen(out))
                               ? out
                               : "");
        return rc;
    }
    p->prompt = prompt;
    p->cancelled = 0;
    int count = 0;
    const char *line = el_gets(p->el, &count);
    if (line == NULL || count <= 0) {
        if (p->cancelled) {
            fputs("^C\n", stdout);
            fflush(stdout);
            return -EINTR;
        }
        fputc('\n', stdout);
        return -ENOENT;
    }
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (n >= cap)
        return -ENOSPC;
    memcpy(out, line, n);
    out[n] = '\0';
    return 0;
}

/* ---- history ------------------------------------------------------------------------------- */

static void history_open(struct plain *p)
{
    HistEvent ev;
    p->hist = history_init();
    if (p->hist == NULL)
        return;
    history(p->hist, &ev, H_SETSIZE, HISTORY_LINES - 1);
    history(p->hist, &ev, H_SETUNIQUE, 1);
    snprintf(p->history_path, sizeof(p->history_path), "%s/%s", p->ctx->home, HISTORY_FILE);
    struct stat st;
    if (lstat(p->history_path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= HISTORY_FILE_MAX)
        history(p->hist, &ev, H_LOAD, p->history_path);
}

/* Writes the history to a new file of mode 0600 and renames it over the old one, so the
 * file is never half-written nor readable by others. */
static void history_save(struct plain *p)
{
    HistEvent ev;
    char tmp[PATH_BYTES + 8];
    if (p->hist == NULL || p->history_path[0] == '\0')
        return;
    snprintf(tmp, sizeof(tmp), "%s.new", p->history_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (fchmod(fd, 0600) != 0) {
        close(fd);
        unlink(tmp);
        return;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(tmp);
        return;
    }
    int saved = history(p->hist, &ev, H_SAVE_FP, f);
    if (fclose(f) != 0 || saved < 0 || rename(tmp, p->history_path) != 0)
        unlink(tmp);
}

/* ---- one turn ------------------------------------------------------------------------------ */

static void show(struct plain *p, json_t *answer, unsigned parts)
{
    struct md_doc d;
    struct answer_look lk = {out_width(stdout), 0, !p->ctx->color, MD_WRAP_NONE};
    md_doc_init(&d);
    assist_answer_doc(&d, answer, parts, &lk);
    md_print(&d, stdout, p->ctx->color);
    md_doc_free(&d);
    fputc('\n', stdout);
    fflush(stdout);
}

/* Sends body and waits for the answer with a spinner; Ctrl+C stops waiting. Returns the
 * job (the caller releases it) with *r its answer, or NULL when cancelled or not started. */
static struct assist_job *await(struct plain *p, json_t *body, const char *label,
                                struct api_resp **r, int *cr)
{
    struct assist_job *j = assist_job_start(p->ctx, body, 0);
    if (j == NULL) {
        cli_fail(p->ctx, "cannot start the request (no thread)");
        return NULL;
    }
    spinner_start(label, p->ctx->tty_err);
    while (!assist_job_wait(j, WAIT_STEP_MS)) {
        if (term_sigint_taken()) {
            spinner_stop();
            assist_job_release(j);
            fputs("cancelled\n\n", stdout);
            fflush(stdout);
            return NULL;
        }
    }
    spinner_stop();
    *r = assist_job_result(j, cr);
    return j;
}

/* Prints the failure of a request. Returns 1 when the chat cannot go on (the session is
 * gone), else 0. */
static int turn_failed(struct plain *p, int cr, const struct api_resp *r)
{
    char why[WHY_MAX];
    if (cr == 0 && r->status == 200)
        str_fmt(why, sizeof(why), "unexpected answer from the daemon at %s (not a JSON object)",
                p->ctx->api_url);
    else
        assist_error_text(p->ctx, r, p->plan, why, sizeof(why));
    cli_fail(p->ctx, "%s", why);
    fputc('\n', stdout);
    fflush(stdout);
    return cr == 0 && r->status == 401;
}

static void remember_balance(struct plain *p, json_t *body)
{
    long long b;
    if (assist_balance_of(body, &b) == 0)
        p->balance = b;
}

/* What a turn tells the chat. */
enum { GO_ON = 0, FATAL = 1, LEAVE = 2 };

/* Offers the action of answer for execution and runs it when the user says yes. Returns
 * GO_ON, FATAL (the session is gone) or LEAVE (the input ended at the question). */
static int offer(struct plain *p, json_t *answer)
{
    char why[WHY_MAX], yes[16], id[160];
    const char *cid = assist_executable(answer, why, sizeof(why));
    if (cid == NULL) {
        if (json_is_true(json_object_get(answer, "matched")))
            printf("not offered for execution: %s\n\n", why);
        return 0;
    }
    str_copy(id, sizeof(id), cid);
    int rc = read_line(p, CONFIRM, yes, sizeof(yes));
    if (rc != 0 || (strcasecmp(yes, "y") != 0 && strcasecmp(yes, "yes") != 0)) {
        printf("not executed\n\n");
        return rc == -ENOENT ? LEAVE : GO_ON;
    }
    struct api_resp *r;
    int cr;
    struct assist_job *j = await(p, assist_body_execute(id), "Running in the sandbox", &r, &cr);
    if (j == NULL)
        return 0;
    int fatal = 0;
    if (cr != 0 || r->status != 200 || !json_is_object(r->body)) {
        fatal = turn_failed(p, cr, r);
    } else {
        remember_balance(p, r->body);
        show(p, r->body, ANSWER_EXECUTION | ANSWER_USAGE);
    }
    assist_job_release(j);
    return fatal;
}

/* One request and its answer. Returns GO_ON, FATAL or LEAVE. */
static int turn(struct plain *p, const char *line)
{
    char why[WHY_MAX];
    if (assist_input_check(line, why, sizeof(why)) != 0) {
        cli_fail(p->ctx, "%s", why);
        return 0;
    }
    struct api_resp *r;
    int cr;
    struct assist_job *j = await(p, assist_body_ask(line, &p->context, NULL), "Thinking", &r, &cr);
    if (j == NULL)
        return 0;
    int fatal = 0;
    if (cr != 0 || r->status != 200 || !json_is_object(r->body)) {
        fatal = turn_failed(p, cr, r);
        assist_job_release(j);
        return fatal;
    }
    chat_context_add(&p->context, line);
    remember_balance(p, r->body);
    show(p, r->body, ANSWER_PROPOSAL | ANSWER_USAGE);
    if (p->execute)
        fatal = offer(p, r->body);
    assist_job_release(j);
    return fatal;
}

/* ---- the chat ------------------------------------------------------------------------------ */

static int is_word(const char *line, const char *word)
{
    return strcasecmp(line, word) == 0;
}

/* The line without its leading and trailing spaces, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static int editor_open(struct plain *p)
{
    p->el = el_init("cloudya", stdin, stdout, stderr);
    if (p->el == NULL)
        return -1;
    el_set(p->el, EL_CLIENTDATA, p);
    el_set(p->el, EL_EDITOR, "emacs");
    el_set(p->el, EL_SIGNAL, 0); /* term.c owns the signals */
    el_set(p->el, EL_PROMPT, prompt_of);
    el_set(p->el, EL_GETCFN, read_char);
    history_open(p);
    if (p->hist != NULL)
        el_set(p->el, EL_HIST, history, p->hist);
    el_source(p->el, NULL); /* the user's ~/.editrc, when there is one */
    return 0;
}

/* Reads requests until quit, exit, q or the end of input, with Ctrl+C caught for the
 * whole chat. Returns the exit status: 0, or 1 when the daemon refused the session. */
int chat_plain_run(struct cli_ctx *ctx, int execute)
{
    struct plain p;
    char why[WHY_MAX];
    long st;
    memset(&p, 0, sizeof(p));
    p.ctx = ctx;
    p.execute = execute;
    p.interactive = isatty(STDIN_FILENO);
    spinner_start("Connecting", ctx->tty_err);
    int brc = assist_tokens_brief(ctx, p.plan, sizeof(p.plan), &p.balance, why, sizeof(why), &st);
    spinner_stop();
    if (brc != 0)
        return cli_fail(ctx, "%s", why);
    utf8_ctype();
    if (p.interactive && editor_open(&p) != 0)
        p.interactive = 0;
    if (p.interactive)
        printf("%scloudya chat: plan %s, %lld tokens left%s. Ask in French or English; "
               "`quit` leaves, `clear` clears.%s\n\n",
               color_on(ctx->color, C_DIM), p.plan[0] ? p.plan : "?", p.balance,
               execute ? "; safe actions are offered for execution" : "", color_off(ctx->color));
    term_catch_sigint(1);
    int rc = 0;
    char buf[ASSIST_INPUT_BYTES];
    for (;;) {
        int r = read_line(&p, PROMPT, buf, sizeof(buf));
        if (r == -ENOENT)
            break;
        if (r == -EINTR)
            continue;
        if (r == -ENOSPC) {
            cli_fail(ctx, "the request is longer than %d characters", ASSIST_INPUT_CHARS);
            continue;
        }
        char *line = trim(buf);
        if (line[0] == '\0')
            continue;
        if (is_word(line, "quit") || is_word(line, "exit") || is_word(line, "q"))
            break;
        if (p.interactive && p.hist != NULL) {
            HistEvent ev;
            history(p.hist, &ev, H_ENTER, line);
        }
        if (is_word(line, "clear")) {
            chat_context_clear(&p.context);
            if (ctx->tty_out)
                fputs("\033[H\033[2J", stdout);
            else
                fputs("(conversation cleared)\n\n", stdout);
            fflush(stdout);
            continue;
        }
        int t = turn(&p, line);
        if (t == FATAL)
            rc = 1;
        if (t != GO_ON)
            break;
    }
    term_catch_sigint(0);
    if (p.el != NULL) {
        history_save(&p);
        el_end(p.el);
    }
    if (p.hist != NULL)
        history_end(p.hist);
    chat_context_clear(&p.context);
    return rc;
}
