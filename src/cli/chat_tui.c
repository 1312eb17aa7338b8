/* `cloudya chat`: the full-screen chat (ncursesw, through term.c which owns the terminal).
 * A status line (plan, balance, "thinking…"), the conversation laid out by mdrender.c at
 * the screen's width and scrolled from the bottom, a line of keys, and an input line with
 * editing and history. Requests run on a thread (chat.h), so the screen keeps drawing,
 * resizing and taking keys while the daemon thinks; the loop looks at the request every
 * WAIT_MS. The conversation is data (entries), laid out again whenever the width changes. */
#define _GNU_SOURCE
#include <stdio.h>
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "cli.h"
#include "mdrender.h"
#include "output.h"
#include "str.h"
#include "term.h"
#include "timeutil.h"
#include "xalloc.h"

#define WAIT_MS 100       /* the loop's tick: keys, the request, the spinner */
#define ENTRIES_MAX 400   /* entries kept; the oldest go */
#define HISTORY_MAX 100   /* sent lines recalled with the arrows */
#define WHEEL_LINES 3     /* lines per wheel click */
#define STATUS_BYTES 512  /* the status and key lines */
#define ID_BYTES 160      /* a command_id waiting for its y/N */
#define PROMPT_INPUT "> "
#define PROMPT_EXEC "Execute? [y/N] "

enum kind { K_USER, K_ANSWER, K_EXEC, K_ERROR, K_INFO };

struct entry {
    enum kind kind;
    char *text;   /* K_USER, K_ERROR, K_INFO */
    json_t *json; /* K_ANSWER, K_EXEC */
};

struct tui {
    struct cli_ctx *ctx;
    int execute, color, utf8;
    struct entry *e;
    size_t n, cap;
    struct md_doc doc;
    int doc_width, doc_valid;
    int scroll; /* lines above the bottom of the conversation: 0 follows it */
    char in[ASSIST_INPUT_BYTES];
    size_t ilen, icur, ioff; /* bytes: length, cursor, first shown */
    char *hist[HISTORY_MAX];
    int nhist, hpos; /* hpos == nhist: the line being typed */
    char draft[ASSIST_INPUT_BYTES];
    struct chat_context context;
    struct assist_job *job;
    int job_exec;
    char *job_input;
    int64_t job_t0;
    char pending[ID_BYTES]; /* an action waiting for Execute? [y/N] */
    char plan[ASSIST_PLAN_MAX];
    long long balance;
    unsigned frame;
};

enum { PAIR_CYAN = 1, PAIR_RED, PAIR_YELLOW, PAIR_GREEN };

/* ---- the conversation ---------------------------------------------------------------------- */

static void entry_free(struct entry *e)
{
    free(e->text);
    json_decref(e->json);
}

static void add_entry(struct tui *t, enum kind k, const char *text, json_t *json)
{
    if (t->n == ENTRIES_MAX) {
        entry_free(&t->e[0]);
        memmove(t->e, t->e + 1, (t->n - 1) * sizeof(*t->e));
        t->n--;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->e = xrealloc(t->e, t->cap * sizeof(*t->e));
    }
    t->e[t->n++] = (struct entry){k, text ? xstrdup(text) : NULL, json_incref(json)};
    t->doc_valid = 0;
}

static void clear_entries(struct tui *t)
{
    for (size_t i = 0; i < t->n; i++)
        entry_free(&t->e[i]);
    t->n = 0;
    t->doc_valid = 0;
    t->scroll = 0;
}

/* Lays the entries out at the screen's width. */
static void layout(struct tui *t)
{
    int width = COLS - 1;
    if (t->doc_valid && t->doc_width == width)
        return;
    md_doc_free(&t->doc);
    struct answer_look lk = {width, 2, !t->color, MD_WRAP_HARD};
    for (size_t i = 0; i < t->n; i++) {
        struct entry *e = &t->e[i];
        md_add_blank(&t->doc);
        switch (e->kind) {
        case K_USER: {
            size_t len = strlen(e->text) + 8;
            char *line = xmalloc(len);
            snprintf(line, len, "you: %s", e->text);
            md_add_text(&t->doc, line, strlen(line), MD_BOLD, width, 0, MD_WRAP_WORDS);
            free(line);
            break;
        }
        case K_ANSWER:
            assist_answer_doc(&t->doc, e->json, ANSWER_PROPOSAL | ANSWER_USAGE, &lk);
            break;
        case K_EXEC:
            assist_answer_doc(&t->doc, e->json, ANSWER_EXECUTION | ANSWER_USAGE, &lk);
            break;
        case K_ERROR:
            md_add_text(&t->doc, e->text, strlen(e->text), MD_BOLD | MD_RED, width, 2,
                        MD_WRAP_WORDS);
            break;
        case K_INFO:
            md_add_text(&t->doc, e->text, strlen(e->text), MD_DIM, width, 2, MD_WRAP_WORDS);
            break;
        }
    }
    t->doc_width = width;
    t->doc_valid = 1;
}

/* ---- drawing ------------------------------------------------------------------------------- */

static attr_t attr_of(const struct tui *t, unsigned style)
{
    attr_t a = 0;
    if (style & MD_BOLD)
        a |= A_BOLD;
    if (style & MD_DIM)
        a |= A_DIM;
    if (!t->color)
        return a;
    if (style & MD_RED)
        a |= COLOR_PAIR(PAIR_RED);
    else if (style & MD_YELLOW)
        a |= COLOR_PAIR(PAIR_YELLOW);
    else if (style & MD_GREEN)
        a |= COLOR_PAIR(PAIR_GREEN);
    else if (style & (MD_CYAN | MD_CODE))
        a |= COLOR_PAIR(PAIR_CYAN);
    return a;
}

static void draw_line(const struct tui *t, int y, const struct md_line *l)
{
    size_t pos = 0;
    move(y, 0);
    for (size_t s = 0; s < l->nspans; s++) {
        attrset(A_NORMAL);
        addnstr(l->text + pos, (int)(l->spans[s].start - pos));
        attrset(attr_of(t, l->spans[s].style));
        addnstr(l->text + l->spans[s].start, (int)(l->spans[s].end - l->spans[s].start));
        pos = l->spans[s].end;
    }
    attrset(A_NORMAL);
    addnstr(l->text + pos, (int)(l->len - pos));
}

/* Text cut to at most cols display columns (between characters) into out. */
static void fit(const char *s, int cols, char *out, size_t cap)
{
    size_t o = 0, w = 0;
    while (*s != '\0') {
        uint32_t cp;
        size_t cw, n = text_char(s, &cp, &cw);
        if ((int)(w + cw) > cols || o + n >= cap)
            break;
        memcpy(out + o, s, n);
        o += n;
        w += cw;
        s += n;
    }
    out[o] = '\0';
}

static void draw_status(struct tui *t)
{
    static const char *const braille[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
    static const char *const ascii[] = {"|", "/", "-", "\\"};
    char left[STATUS_BYTES], right[STATUS_BYTES], line[STATUS_BYTES];
    snprintf(left, sizeof(left), " cloudya chat  plan %s  %lld tokens%s", t->plan[0] ? t->plan : "?",
             t->balance, t->execute ? "  execution on" : "");
    right[0] = '\0';
    if (t->job != NULL) {
        const char *f = t->utf8 ? braille[t->frame % 10] : ascii[t->frame % 4];
        snprintf(right, sizeof(right), "%s %s %llds ", t->job_exec ? "running" : "thinking…", f,
                 (long long)((time_mono_ms() - t->job_t0) / 1000));
    }
    attrset(A_REVERSE);
    mvhline(0, 0, ' ', COLS);
    fit(left, COLS, line, sizeof(line));
    mvaddstr(0, 0, line);
    int rw = (int)text_width(right);
    if (right[0] != '\0' && (int)text_width(line) + rw + 2 <= COLS) {
        attron(A_BOLD);
        mvaddstr(0, COLS - rw, right);
    }
    attrset(A_NORMAL);
}

static void draw_keys(const struct tui *t, int y)
{
    char line[STATUS_BYTES];
    const char *keys = t->pending[0] != '\0'
                           ? "y Enter runs it  Enter or Esc does not  Ctrl+C quit"
                       : t->scroll > 0
                           ? "scrolled back: Esc or PgDn returns  PgUp PgDn wheel scroll  Ctrl+C quit"
                           : "Enter send  Up/Down history  PgUp/PgDn scroll  Ctrl+L clear  Esc input  "
                             "Ctrl+C quit";
    fit(keys, COLS, line, sizeof(line));
    attrset(A_DIM);
    mvaddstr(y, 0, line);
    attrset(A_NORMAL);
}

/* The input line, scrolled sideways so the cursor stays on the screen. */
static void draw_input(struct tui *t, int y)
{
    const char *prompt = t->pending[0] != '\0' ? PROMPT_EXEC : PROMPT_INPUT;
    int pw = (int)text_width(prompt);
    int avail = COLS - pw - 1;
    if (avail < 1)
        avail = 1;
    if (t->icur < t->ioff)
        t->ioff = t->icur;
    for (;;) { /* move the start right until the cursor fits */
        char save = t->in[t->icur];
        t->in[t->icur] = '\0';
        int w = (int)text_width(t->in + t->ioff);
        t->in[t->icur] = save;
        if (w <= avail || t->ioff >= t->icur)
            break;
        uint32_t cp;
        size_t cw;
        t->ioff += text_char(t->in + t->ioff, &cp, &cw);
    }
    attrset(A_BOLD | (t->pending[0] && t->color ? COLOR_PAIR(PAIR_YELLOW) : 0));
    mvaddstr(y, 0, prompt);
    attrset(A_NORMAL);
    char shown[ASSIST_INPUT_BYTES];
    fit(t->in + t->ioff, avail, shown, sizeof(shown));
    addstr(shown);
    char save = t->in[t->icur];
    t->in[t->icur] = '\0';
    int cx = pw + (int)text_width(t->in + t->ioff);
    t->in[t->icur] = save;
    move(y, cx < COLS ? cx : COLS - 1);
}

static void draw(struct tui *t)
{
    layout(t);
    erase();
    int pane = LINES - 3 > 0 ? LINES - 3 : 0;
    int total = (int)t->doc.n;
    int max_scroll = total > pane ? total - pane : 0;
    if (t->scroll > max_scroll)
        t->scroll = max_scroll;
    if (t->scroll < 0)
        t->scroll = 0;
    int top = total - pane - t->scroll;
    if (top < 0)
        top = 0;
    for (int y = 0; y < pane && top + y < total; y++)
        draw_line(t, 1 + y, &t->doc.lines[top + y]);
    draw_status(t);
    if (LINES >= 2)
        draw_keys(t, LINES - 2);
    draw_input(t, LINES - 1);
    refresh();
}

/* ---- the input line ------------------------------------------------------------------------ */

static void input_set(struct tui *t, const char *s)
{
    str_copy(t->in, sizeof(t->in), s);
    t->ilen = strlen(t->in);
    t->icur = t->ilen;
    t->ioff = 0;
}

/* The start of the character before byte i. */
static size_t prev_char(const char *s, size_t i)
{
    if (i == 0)
        return 0;
    i--;
    while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
        i--;
    return i;
}

static size_t next_char(const char *s, size_t len, size_t i)
{
    if (i >= len)
        return len;
    i++;
    while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
        i++;
    return i;
}

static void input_delete(struct tui *t, size_t a, size_t b)
{
    memmove(t->in + a, t->in + b, t->ilen - b + 1);
    t->ilen -= b - a;
    t->icur = a;
}

/* Inserts the character wc (UTF-8 encoded) at the cursor, within the API's limit. */
static void input_insert(struct tui *t, wint_t wc)
{
    char u[4];
    size_t n;
    if (wc < 0x20 || wc == 0x7f || (wc >= 0x80 && wc < 0xa0) || (wc >= 0xd800 && wc < 0xe000) ||
        wc > 0x10ffff)
        return;
    if (wc < 0x80) {
        u[0] = (char)wc;
        n = 1;
    } else if (wc < 0x800) {
        u[0] = (char)(0xc0 | (wc >> 6));
        u[1] = (char)(0x80 | (wc & 0x3f));
        n = 2;
    } else if (wc < 0x10000) {
        u[0] = (char)(0xe0 | (wc >> 12));
        u[1] = (char)(0x80 | ((wc >> 6) & 0x3f));
        u[2] = (char)(0x80 | (wc & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (wc >> 18));
        u[1] = (char)(0x80 | ((wc >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((wc >> 6) & 0x3f));
        u[3] = (char)(0x80 | (wc & 0x3f));
        n = 4;
    }
    if (t->ilen + n + 1 > sizeof(t->in) || str_utf8_chars(t->in, t->ilen) >= ASSIST_INPUT_CHARS) {
        beep();
        return;
    }
    memmove(t->in + t->icur + n, t->in + t->icur, t->ilen - t->icur + 1);
    memcpy(t->in + t->icur, u, n);
    t->ilen += n;
    t->icur += n;
}

static void history_add(struct tui *t, const char *line)
{
    if (t->nhist > 0 && strcmp(t->hist[t->nhist - 1], line) == 0) {
        t->hpos = t->nhist;
        return;
    }
    if (t->nhist == HISTORY_MAX) {
        free(t->hist[0]);
        memmove(t->hist, t->hist + 1, (HISTORY_MAX - 1) * sizeof(t->hist[0]));
        t->nhist--;
    }
    t->hist[t->nhist++] = xstrdup(line);
    t->hpos = t->nhist;
}

static void history_move(struct tui *t, int dir)
{
    int to = t->hpos + dir;
    if (to < 0 || to > t->nhist)
        return;
    if (t->hpos == t->nhist)
        str_copy(t->draft, sizeof(t->draft), t->in);
    t->hpos = to;
    input_set(t, to == t->nhist ? t->draft : t->hist[to]);
}

/* ---- requests ------------------------------------------------------------------------------ */

static void job_start(struct tui *t, json_t *body, int exec, const char *input)
{
    t->job = assist_job_start(t->ctx, body, 1);
    if (t->job == NULL) {
        add_entry(t, K_ERROR, "cannot start the request (no thread)", NULL);
        return;
    }
    t->job_exec = exec;
    t->job_input = input ? xstrdup(input) : NULL;
    t->job_t0 = time_mono_ms();
}

static void job_drop(struct tui *t)
{
    assist_job_release(t->job);
    t->job = NULL;
    free(t->job_input);
    t->job_input = NULL;
}

/* Takes the answer of the request that ended. */
static void job_done(struct tui *t)
{
    int cr;
    struct api_resp *r = assist_job_result(t->job, &cr);
    char why[1024];
    long long bal;
    if (cr != 0 || r->status != 200 || !json_is_object(r->body)) {
        if (cr == 0 && r->status == 200)
            str_fmt(why, sizeof(why), "unexpected answer from the daemon (not a JSON object)");
        else
            assist_error_text(t->ctx, r, t->plan, why, sizeof(why));
        add_entry(t, K_ERROR, why, NULL);
    } else if (t->job_exec) {
        add_entry(t, K_EXEC, NULL, r->body);
    } else {
        chat_context_add(&t->context, t->job_input);
        add_entry(t, K_ANSWER, NULL, r->body);
        if (t->execute) {
            const char *id = assist_executable(r->body, why, sizeof(why));
            if (id != NULL && strlen(id) < sizeof(t->pending)) {
                str_copy(t->pending, sizeof(t->pending), id);
                input_set(t, "");
            } else if (id == NULL && json_is_true(json_object_get(r->body, "matched"))) {
                char line[1100];
                snprintf(line, sizeof(line), "not offered for execution: %s", why);
                add_entry(t, K_INFO, line, NULL);
            }
        }
    }
    if (cr == 0 && r->status == 200 && assist_balance_of(r->body, &bal) == 0)
        t->balance = bal;
    job_drop(t);
}

/* Enter: sends the line, or answers the execution question. */
static void submit(struct tui *t)
{
    char why[512];
    if (t->pending[0] != '\0') {
        int yes = strcasecmp(t->in, "y") == 0 || strcasecmp(t->in, "yes") == 0;
        char id[ID_BYTES];
        str_copy(id, sizeof(id), t->pending);
        t->pending[0] = '\0';
        input_set(t, "");
        if (yes && t->job == NULL)
            job_start(t, assist_body_execute(id), 1, NULL);
        else
            add_entry(t, K_INFO, "not executed", NULL);
        t->scroll = 0;
        return;
    }
    const char *p = t->in;
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return;
    if (t->job != NULL) { /* one request at a time */
        beep();
        return;
    }
    if (assist_input_check(p, why, sizeof(why)) != 0) {
        add_entry(t, K_ERROR, why, NULL);
        return;
    }
    history_add(t, p);
    add_entry(t, K_USER, p, NULL);
    job_start(t, assist_body_ask(p, &t->context, NULL), 0, p);
    input_set(t, "");
    t->scroll = 0;
}

/* ---- keys ---------------------------------------------------------------------------------- */

/* Handles one key. Returns 1 to quit. */
static int key(struct tui *t, int kind, wint_t k)
{
    int page = LINES - 4 > 1 ? LINES - 4 : 1;
    if (kind == OK) {
        switch (k) {
        case 3: /* Ctrl+C */
            return 1;
        case 12: /* Ctrl+L: a new conversation */
            clear_entries(t);
            chat_context_clear(&t->context);
            if (t->job != NULL)
                job_drop(t);
            t->pending[0] = '\0';
            clearok(curscr, TRUE);
            return 0;
        case 27: /* Esc: back to the input */
            t->scroll = 0;
            if (t->pending[0] != '\0') {
                t->pending[0] = '\0';
                input_set(t, "");
                add_entry(t, K_INFO, "not executed", NULL);
            }
            return 0;
        case '\r':
        case '\n':
            submit(t);
            return 0;
        case 127:
        case 8:
            if (t->icur > 0)
                input_delete(t, prev_char(t->in, t->icur), t->icur);
            return 0;
        case 4: /* Ctrl+D: delete under the cursor */
            if (t->icur < t->ilen)
                input_delete(t, t->icur, next_char(t->in, t->ilen, t->icur));
            return 0;
        case 1: /* Ctrl+A */
            t->icur = 0;
            return 0;
        case 5: /* Ctrl+E */
            t->icur = t->ilen;
            return 0;
        case 21: /* Ctrl+U */
            input_delete(t, 0, t->icur);
            return 0;
        case 11: /* Ctrl+K */
            input_delete(t, t->icur, t->ilen);
            return 0;
        default:
            input_insert(t, k);
            return 0;
        }
    }
    switch (k) {
    case KEY_ENTER:
        submit(t);
        break;
    case KEY_LEFT:
        t->icur = prev_char(t->in, t->icur);
        break;
    case KEY_RIGHT:
        t->icur = next_char(t->in, t->ilen, t->icur);
        break;
    case KEY_HOME:
        t->icur = 0;
        break;
    case KEY_END:
        t->icur = t->ilen;
        break;
    case KEY_BACKSPACE:
        if (t->icur > 0)
            input_delete(t, prev_char(t->in, t->icur), t->icur);
        break;
    case KEY_DC:
        if (t->icur < t->ilen)
            input_delete(t, t->icur, next_char(t->in, t->ilen, t->icur));
        break;
    case KEY_UP:
        if (t->pending[0] == '\0')
            history_move(t, -1);
        break;
    case KEY_DOWN:
        if (t->pending[0] == '\0')
            history_move(t, 1);
        break;
    case KEY_PPAGE:
        t->scroll += page;
        break;
    case KEY_NPAGE:
        t->scroll -= page;
        break;
    case KEY_MOUSE: {
        MEVENT ev;
        if (getmouse(&ev) != OK)
            break;
        if (ev.bstate & BUTTON4_PRESSED)
            t->scroll += WHEEL_LINES;
#ifdef BUTTON5_PRESSED
        else if (ev.bstate & BUTTON5_PRESSED)
            t->scroll -= WHEEL_LINES;
#endif
        break;
    }
    case KEY_RESIZE:
        t->doc_valid = 0;
        break;
    default:
        break;
    }
    if (t->scroll < 0)
        t->scroll = 0;
    return 0;
}

/* ---- the screen ---------------------------------------------------------------------------- */

static void colors_init(struct tui *t)
{
    t->color = t->ctx->color && has_colors();
    if (!t->color)
        return;
    start_color();
    use_default_colors();
    init_pair(PAIR_CYAN, COLOR_CYAN, -1);
    init_pair(PAIR_RED, COLOR_RED, -1);
    init_pair(PAIR_YELLOW, COLOR_YELLOW, -1);
    init_pair(PAIR_GREEN, COLOR_GREEN, -1);
}

/* Runs the screen until Ctrl+C (0) or SIGTERM (130). */
static int loop(struct tui *t)
{
    int dirty = 1;
    int64_t last_frame = 0;
    for (;;) {
        if (term_interrupted())
            return 130;
        if (term_resized()) {
            t->doc_valid = 0;
            dirty = 1;
        }
        if (t->job != NULL && assist_job_wait(t->job, 0)) {
            job_done(t);
            dirty = 1;
        }
        int64_t now = time_mono_ms();
        if (t->job != NULL && now - last_frame >= WAIT_MS) {
            t->frame++;
            last_frame = now;
            dirty = 1;
        }
        if (dirty) {
            draw(t);
            dirty = 0;
        }
        wint_t k;
        int kind = get_wch(&k);
        if (kind == ERR)
            continue;
        if (key(t, kind, k))
            return 0;
        dirty = 1;
    }
}

static void utf8_ctype(struct tui *t)
{
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    if (cs == NULL || (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "utf8") != 0))
        setlocale(LC_CTYPE, "C.UTF-8");
    cs = nl_langinfo(CODESET);
    t->utf8 = cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

/* Asks the daemon for the plan and balance before entering the screen, so a failure is
 * one plain sentence on a normal terminal. Returns the exit status (0 after Ctrl+C, 130
 * after SIGTERM, 1 when the daemon refused), or -ENOTTY when no full screen can be had. */
int chat_tui_run(struct cli_ctx *ctx, int execute)
{
    char why[1024];
    long st;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return -ENOTTY;
    struct tui *t = xcalloc(1, sizeof(*t));
    t->ctx = ctx;
    t->execute = execute;
    md_doc_init(&t->doc);
    /* on this thread, before any other: it also readies curl for the request threads */
    spinner_start("Connecting", ctx->tty_err);
    int brc = assist_tokens_brief(ctx, t->plan, sizeof(t->plan), &t->balance, why, sizeof(why), &st);
    spinner_stop();
    int rc;
    if (brc != 0) {
        rc = cli_fail(ctx, "%s", why);
        goto out;
    }
    utf8_ctype(t);
    if (term_screen_begin(WAIT_MS) != 0) {
        rc = -ENOTTY;
        goto out;
    }
    raw(); /* Ctrl+C and Ctrl+L come as keys */
    curs_set(1);
    term_screen_mouse();
    colors_init(t);
    add_entry(t, K_INFO,
              execute ? "Ask in French or English; follow-ups keep the conversation. Safe actions "
                        "are offered for execution."
                      : "Ask in French or English; follow-ups keep the conversation.",
              NULL);
    rc = loop(t);
    term_screen_end();
out:
    if (t->job != NULL)
        job_drop(t);
    clear_entries(t);
    free(t->e);
    chat_context_clear(&t->context);
    for (int i = 0; i < t->nhist; i++)
        free(t->hist[i]);
    md_doc_free(&t->doc);
    free(t);
    return rc;
}
