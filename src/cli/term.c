/* The terminal owner of `cloudya` (see term.h). Three things change the terminal: a
 * password prompt (echo off), the full screen of `top` (curses) and the spinner (a hidden
 * cursor and a line being redrawn). Each records, before it changes anything, what the
 * signal handlers need to undo it, and the handlers undo it with async-signal-safe calls
 * only: tcsetattr() with a saved struct termios and write() of escape strings computed in
 * advance (terminfo's sgr0, rmkx, rmcup and cnorm, copied at term_screen_begin). The state
 * the handlers read is published with the terminal signals blocked, so a handler never
 * sees half of it. Then the handler lets the signal do what it would have done: SIGINT
 * still ends the process with status 130. Two exceptions: in full-screen mode SIGINT and
 * SIGTERM only raise a flag (top leaves through its own path), and during a prompt SIGINT
 * restores the echo and makes term_prompt return -EINTR. */
#define _GNU_SOURCE
#include "term.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <locale.h>

#define ESC_MAX 256       /* the escapes that leave the full screen */
#define LABEL_MAX 160     /* the spinner's label */
#define SPIN_LINE_MAX 512 /* one drawing of the spinner */
#define SPIN_DELAY_MS 300 /* nothing shows for work shorter than this */
#define SPIN_FRAME_MS 100
#define ALT_STACK_SIZE (64 * 1024) /* the crash handlers' stack (a stack overflow) */

/* What the terminal looked like before we touched it, and what is changed now. Written with
 * the terminal signals blocked; read by the handlers. */
static volatile sig_atomic_t prompt_active;  /* echo is off on prompt_fd */
static volatile sig_atomic_t prompt_reading; /* term_prompt is waiting for a line */
static volatile sig_atomic_t prompt_fd = -1;
static volatile sig_atomic_t prompt_sigint; /* Ctrl+C during the prompt */
static struct termios prompt_saved;

static volatile sig_atomic_t screen_active;
static struct termios screen_saved;
static char leave_esc[ESC_MAX];
static volatile sig_atomic_t leave_len;
static SCREEN *screen;

static volatile sig_atomic_t flag_interrupted, flag_resized;
static volatile sig_atomic_t sigint_catching, flag_sigint; /* the plain chat's Ctrl+C */
static volatile sig_atomic_t spin_shown; /* the cursor is hidden and a spinner line drawn */

static const char spin_erase[] = "\r\033[K\033[?25h"; /* erase the line, show the cursor */

static const int quit_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
#define NQUIT (sizeof(quit_signals) / sizeof(quit_signals[0]))
#define NCRASH (sizeof(crash_signals) / sizeof(crash_signals[0]))
static struct sigaction crash_old[NCRASH]; /* a sanitizer's handler, or SIG_DFL */
static int initialized;

/* --- the restore paths ------------------------------------------------------------------- */

static void write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return;
        }
        s += n;
        len -= (size_t)n;
    }
}

/* Puts back everything that is changed now. Async-signal-safe: the handlers call it. */
static void restore_async(void)
{
    if (prompt_active) {
        prompt_active = 0;
        tcsetattr(prompt_fd, TCSANOW, &prompt_saved);
    }
    if (screen_active) {
        screen_active = 0;
        write_all(STDOUT_FILENO, leave_esc, (size_t)leave_len);
        tcsetattr(STDOUT_FILENO, TCSANOW, &screen_saved);
    }
    if (spin_shown) {
        spin_shown = 0;
        write_all(STDERR_FILENO, spin_erase, sizeof(spin_erase) - 1);
    }
}

/* Lets sig do what it does by default (or what a sanitizer installed before us wanted):
 * the handler is replaced, the signal unblocked and raised again. */
static void reraise(int sig, const struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    if (old != NULL && old->sa_handler != SIG_IGN) sa = *old;
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

static void on_quit_signal(int sig)
{
    int saved_errno = errno;
    if (screen_active && (sig == SIGINT || sig == SIGTERM)) {
        flag_interrupted = 1; /* top sees it and leaves through term_screen_end */
        errno = saved_errno;
        return;
    }
    if (prompt_reading && sig == SIGINT) {
        if (prompt_active) {
            prompt_active = 0;
            tcsetattr(prompt_fd, TCSANOW, &prompt_saved);
        }
        prompt_sigint = 1; /* term_prompt returns -EINTR */
        errno = saved_errno;
        return;
    }
    if (sigint_catching && sig == SIGINT) {
        flag_sigint = 1; /* the plain chat cancels what it was doing */
        errno = saved_errno;
        return;
    }
    restore_async();
    reraise(sig, NULL);
    errno = saved_errno;
}

static void on_crash(int sig)
{
    restore_async();
    for (size_t i = 0; i < NCRASH; i++)
        if (crash_signals[i] == sig) reraise(sig, &crash_old[i]);
}

static void on_winch(int sig)
{
    (void)sig;
    flag_resized = 1;
}

/* Blocks the terminal signals (and SIGWINCH) around changes of the state the handlers
 * read; unblock_quit_signals puts the caller's mask back. */
static void block_quit_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < NQUIT; i++)
        sigaddset(&set, quit_signals[i]);
    sigaddset(&set, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void unblock_quit_signals(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static void restore_at_exit(void)
{
    spinner_stop();
    term_screen_end();
    sigset_t old;
    block_quit_signals(&old);
    restore_async();
    unblock_quit_signals(&old);
}

/* Installs the handlers; a terminal signal that was ignored when we started (nohup, a
 * background job) stays ignored. The crash handlers run on their own stack when none is
 * set up yet, so a stack overflow still restores the terminal. */
void term_init(void)
{
    static char alt_stack[ALT_STACK_SIZE];
    if (initialized) return;
    initialized = 1;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NQUIT; i++)
        sigaddset(&sa.sa_mask, quit_signals[i]);
    sa.sa_handler = on_quit_signal;
    sa.sa_flags = 0; /* no SA_RESTART: a prompt's read must see the Ctrl+C */
    for (size_t i = 0; i < NQUIT; i++) {
        if (sigaction(quit_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(quit_signals[i], &sa, NULL);
    }

    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE)) {
        memset(&ss, 0, sizeof(ss));
        ss.ss_sp = alt_stack;
        ss.ss_size = sizeof(alt_stack);
        sigaltstack(&ss, NULL);
    }
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_ONSTACK;
    for (size_t i = 0; i < NCRASH; i++)
        sigaction(crash_signals[i], &sa, &crash_old[i]);

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_winch;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGWINCH, &sa, NULL);
    atexit(restore_at_exit);
}

/* --- prompts ------------------------------------------------------------------------------ */

/* Reads one line from the terminal, with the echo off for passwords. The terminal signals
 * stay blocked except inside ppoll(), so a Ctrl+C always interrupts the wait instead of
 * slipping in before it. Returns 0, -ENOENT (no terminal, or Ctrl+D on an empty line),
 * -ENOSPC (too long: out is wiped), -EINTR (Ctrl+C: echo restored, out wiped) or -EIO. */
int term_prompt(const char *prompt, int echo, char *out, size_t cap)
{
    int fd = STDIN_FILENO, opened = -1, ret = 0, too_long = 0;
    size_t n = 0;
    sigset_t old, during;
    if (cap == 0) return -ENOSPC;
    out[0] = '\0';
    if (!isatty(STDIN_FILENO)) {
        opened = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (opened < 0) return -ENOENT;
        fd = opened;
    }
    block_quit_signals(&old);
    during = old; /* what ppoll waits with: the caller's mask, terminal signals open */
    for (size_t i = 0; i < NQUIT; i++)
        sigdelset(&during, quit_signals[i]);
    prompt_sigint = 0;
    if (!echo) {
        struct termios t;
        if (tcgetattr(fd, &prompt_saved) != 0) {
            ret = -ENOENT;
            goto out;
        }
        t = prompt_saved;
        t.c_lflag &= (tcflag_t) ~(ECHO | ECHOE | ECHOK | ECHONL);
        prompt_fd = fd;
        prompt_active = 1;
        if (tcsetattr(fd, TCSAFLUSH, &t) != 0) {
            prompt_active = 0;
            ret = -ENOENT;
            goto out;
        }
    }
    prompt_reading = 1;
    fputs(prompt, stderr);
    fflush(stderr);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        /* the signals are open only inside ppoll, so a Ctrl+C can never slip in between a
         * check and a read that would then wait for a whole line */
        if (prompt_sigint) {
            ret = -EINTR;
            break;
        }
        int pr = ppoll(&p, 1, NULL, &during);
        if (pr < 0) {
            if (errno == EINTR) continue;
            ret = -EIO;
            break;
        }
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r < 0) {
            ret = -EIO;
            break;
        }
        if (r == 0) { /* Ctrl+D: the end of input, or a last line without its newline */
            if (n == 0 && !too_long) ret = -ENOENT;
            break;
        }
        if (c == '\n') break;
        if (n + 1 < cap)
            out[n++] = c;
        else
            too_long = 1;
    }
    if (n > 0 && out[n - 1] == '\r') n--;
    out[n] = '\0';
    if (ret == 0 && too_long) ret = -ENOSPC;
    if (ret != 0) memset(out, 0, cap); /* a cut password is no use to anyone */
out:
    if (prompt_active) {
        tcsetattr(fd, TCSAFLUSH, &prompt_saved);
        prompt_active = 0;
    }
    prompt_reading = 0;
    unblock_quit_signals(&old);
    if (!echo || ret == -EINTR)
        fputc('\n', stderr); /* the Enter (or ^C) the terminal did not echo */
    if (opened >= 0) close(opened);
    return ret;
}

/* The byte at position i of what term_read_stdin read: out holds the first keep bytes,
 * tail the (at most two) bytes read last beyond them. */
static char byte_at(const char *out, size_t keep, const char *tail, size_t total, size_t i)
{
    if (i < keep) return out[i];
    return tail[1 - (total - 1 - i)]; /* i is one of the last two positions */
}

/* Reads standard input to its end, keeping cap - 1 bytes and the last two read (to know
 * whether a newline ends it), so input of any length is judged without a buffer of its
 * size. Returns 0, -ENOSPC (out wiped) or -EIO (out wiped). */
int term_read_stdin(char *out, size_t cap)
{
    char buf[4096], tail[2] = {0, 0};
    size_t total = 0, keep = 0;
    if (cap == 0) return -ENOSPC;
    for (;;) {
        ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            memset(out, 0, cap);
            return -EIO;
        }
        if (r == 0) break;
        for (ssize_t i = 0; i < r; i++) {
            if (keep < cap - 1) out[keep++] = buf[i];
            tail[0] = tail[1];
            tail[1] = buf[i];
            total++;
        }
    }
    /* the content is everything but one trailing "\n" or "\r\n" */
    size_t len = total;
    if (len >= 1 && byte_at(out, keep, tail, total, len - 1) == '\n') {
        len--;
        if (len >= 1 && byte_at(out, keep, tail, total, len - 1) == '\r') len--;
    }
    explicit_bzero(buf, sizeof(buf));
    if (len > cap - 1) {
        memset(out, 0, cap);
        return -ENOSPC;
    }
    out[len] = '\0';
    return 0;
}

/* --- the spinner -------------------------------------------------------------------------- */

static pthread_mutex_t spin_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spin_cv;
static pthread_t spin_th;
static int spin_running, spin_stop_req;
static char spin_label[LABEL_MAX];

static int utf8_locale(void)
{
    const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL && v[0] != '\0')
            return strcasestr(v, "utf-8") != NULL || strcasestr(v, "utf8") != NULL;
    }
    return 0;
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Waits until stop is asked or ms pass; returns 1 when asked. Called with spin_mu held. */
static int spin_wait(int ms)
{
    struct timespec ts;
    deadline_after(&ts, ms);
    while (!spin_stop_req)
        if (pthread_cond_timedwait(&spin_cv, &spin_mu, &ts) == ETIMEDOUT) break;
    return spin_stop_req;
}

static void *spin_main(void *arg)
{
    static const char *const braille[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
    static const char *const ascii[] = {"|", "/", "-", "\\"};
    int utf8 = arg != NULL;
    const char *const *frames = utf8 ? braille : ascii;
    size_t nframes = utf8 ? 10 : 4;
    char line[SPIN_LINE_MAX];
    pthread_mutex_lock(&spin_mu);
    if (!spin_wait(SPIN_DELAY_MS)) {
        spin_shown = 1;
        write_all(STDERR_FILENO, "\033[?25l", 6);
        for (size_t i = 0; !spin_stop_req; i++) {
            int n = snprintf(line, sizeof(line), "\r%s %s\033[K", frames[i % nframes], spin_label);
            if (n > 0)
                write_all(STDERR_FILENO, line,
                          (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
            if (spin_wait(SPIN_FRAME_MS)) break;
        }
        if (spin_shown) {
            spin_shown = 0;
            write_all(STDERR_FILENO, spin_erase, sizeof(spin_erase) - 1);
        }
    }
    pthread_mutex_unlock(&spin_mu);
    return NULL;
}

/* Copies label for one line of the terminal: control characters become '?' and the text
 * is cut to fit in width columns (a wrapped line could not be erased). */
static void label_copy(const char *label, int width)
{
    size_t n = 0, cols = 0, max_cols = width > 8 ? (size_t)width - 4 : 60;
    for (const unsigned char *p = (const unsigned char *)label; *p != '\0'; p++) {
        int lead = (*p & 0xc0) != 0x80;
        if (lead && cols == max_cols) break;
        if (n + 1 >= sizeof(spin_label)) break;
        spin_label[n++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
        cols += lead;
    }
    while (n > 0 && ((unsigned char)spin_label[n - 1] & 0xc0) == 0xc0)
        n--; /* a lead byte whose continuation was cut */
    spin_label[n] = '\0';
}

/* Starts the spinner's thread, which draws nothing for SPIN_DELAY_MS: quick work shows
 * no flicker. Does nothing when disabled, when standard error is not a terminal, in full
 * screen, or when a spinner already runs. */
void spinner_start(const char *label, int enabled)
{
    if (!enabled || !isatty(STDERR_FILENO) || screen_active) return;
    pthread_mutex_lock(&spin_mu);
    if (spin_running) {
        pthread_mutex_unlock(&spin_mu);
        return;
    }
    struct winsize ws;
    int width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
    label_copy(label != NULL ? label : "", width);
    static int cv_ready;
    if (!cv_ready) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&spin_cv, &ca);
        pthread_condattr_destroy(&ca);
        cv_ready = 1;
    }
    spin_stop_req = 0;
    /* the thread takes no signals: the handlers run on the main thread */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    if (pthread_create(&spin_th, NULL, spin_main, utf8_locale() ? (void *)1 : NULL) == 0)
        spin_running = 1;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_mutex_unlock(&spin_mu);
}

/* Stops the spinner and waits for its thread, which erases its line and shows the cursor
 * again before it ends. Safe to call when none runs. */
void spinner_stop(void)
{
    pthread_mutex_lock(&spin_mu);
    if (!spin_running) {
        pthread_mutex_unlock(&spin_mu);
        return;
    }
    spin_stop_req = 1;
    pthread_cond_signal(&spin_cv);
    pthread_mutex_unlock(&spin_mu);
    pthread_join(spin_th, NULL);
    pthread_mutex_lock(&spin_mu);
    spin_running = 0;
    pthread_mutex_unlock(&spin_mu);
}

/* --- full screen -------------------------------------------------------------------------- */

/* Appends terminfo capability cap to leave_esc without its padding ("$<5>"): the handlers
 * write the bytes as they are. */
static void leave_add(const char *cap)
{
    char *s = tigetstr(cap);
    if (s == NULL || s == (char *)-1) return;
    size_t n = (size_t)leave_len;
    for (const char *p = s; *p != '\0'; p++) {
        if (p[0] == '$' && p[1] == '<') {
            const char *e = strchr(p, '>');
            if (e != NULL) {
                p = e;
                continue;
            }
        }
        if (n + 1 >= sizeof(leave_esc))
            return; /* an absurd capability: keep what fits, whole ones only */
        leave_esc[n++] = *p;
    }
    leave_len = (sig_atomic_t)n;
}

/* Enters curses. newterm() rather than initscr(), which would exit the process for an
 * unknown TERM. The escapes that leave the screen are copied for the handlers before the
 * screen counts as active. Returns 0 (also when already active) or -ENOTTY. */
int term_screen_begin(int timeout_ms)
{
    struct termios saved;
    sigset_t old;
    if (screen_active) return 0;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || tcgetattr(STDOUT_FILENO, &saved) != 0)
        return -ENOTTY;
    spinner_stop();
    const char *ctype = setlocale(LC_CTYPE, NULL);
    if (ctype == NULL || strcmp(ctype, "C") == 0 || strcmp(ctype, "POSIX") == 0)
        setlocale(LC_CTYPE, ""); /* UTF-8 names need the user's character set */
    fflush(stdout);
    block_quit_signals(&old);
    screen = newterm(NULL, stdout, stdin);
    if (screen == NULL) {
        unblock_quit_signals(&old);
        return -ENOTTY; /* TERM unknown to terminfo */
    }
    set_term(screen);
    leave_len = 0;
    leave_add("sgr0");
    leave_add("rmkx");
    leave_add("rmcup");
    leave_add("cnorm");
    screen_saved = saved;
    flag_interrupted = 0;
    flag_resized = 0;
    screen_active = 1;
    unblock_quit_signals(&old);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25); /* Esc alone quits at once */
    curs_set(0);
    timeout(timeout_ms);
    return 0;
}

/* Leaves curses through endwin() (the normal path), then puts the settings saved at
 * term_screen_begin back in case curses left anything. Idempotent. */
void term_screen_end(void)
{
    sigset_t old;
    block_quit_signals(&old);
    if (screen_active) {
        endwin();
        tcsetattr(STDOUT_FILENO, TCSANOW, &screen_saved);
        screen_active = 0;
    }
    if (screen != NULL) {
        delscreen(screen);
        screen = NULL;
    }
    unblock_quit_signals(&old);
}

/* Our SIGWINCH handler replaces curses' own, so the new size is given to curses here
 * (resizeterm) before the caller redraws. Returns 1 once per resize, else 0. */
int term_resized(void)
{
    if (!flag_resized) return 0;
    flag_resized = 0;
    struct winsize ws;
    if (screen_active && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
        ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col); /* curses takes the new size; the caller redraws */
    return 1;
}

/* Returns 1 once SIGINT or SIGTERM arrived in full-screen mode (until the next
 * term_screen_begin), else 0. */
int term_interrupted(void)
{
    return flag_interrupted != 0;
}

/* --- Ctrl+C for the plain chat ------------------------------------------------------------- */

/* A flag the handler sets; nothing to restore, so no blocking is needed around it. */
void term_catch_sigint(int on)
{
    flag_sigint = 0;
    sigint_catching = on != 0;
}

/* Returns 1 once per SIGINT caught since the last call, else 0. */
int term_sigint_taken(void)
{
    if (!flag_sigint) return 0;
    flag_sigint = 0;
    return 1;
}

/* --- the mouse wheel in full screen -------------------------------------------------------- */

/* The DEC private modes curses may turn on for mouse reporting (X10/normal, button-event,
 * SGR extended); resetting one that is not set does nothing. */
static const char mouse_off[] = "\033[?1000l\033[?1002l\033[?1006l";

/* Asks curses for the wheel (buttons 4 and 5) and puts mouse_off in front of the escapes
 * that leave the screen, so a signal path turns reporting off too. Returns 0 or -ENOTTY. */
int term_screen_mouse(void)
{
    if (!screen_active) return -ENOTTY;
    mmask_t want = BUTTON4_PRESSED;
#ifdef BUTTON5_PRESSED
    want |= BUTTON5_PRESSED;
#endif
    if (mousemask(want, NULL) == 0) return -ENOTTY;
    mouseinterval(0); /* wheel clicks are not combined into double clicks */
    sigset_t old;
    block_quit_signals(&old);
    size_t n = (size_t)leave_len, m = sizeof(mouse_off) - 1;
    if (n + m < sizeof(leave_esc)) {
        memmove(leave_esc + m, leave_esc, n);
        memcpy(leave_esc, mouse_off, m);
        leave_len = (sig_atomic_t)(n + m);
    }
    unblock_quit_signals(&old);
    return 0;
}
