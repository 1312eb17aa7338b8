/* Unit tests for src/cli/term.c. Without a terminal: term_read_stdin from a pipe (one
 * trailing "\n" or "\r\n" dropped, exactly-fitting and too-long input, chunks larger than
 * its read buffer, a read error), term_prompt with no terminal at all (a new session without
 * /dev/tty) and term_screen_begin refusing a pipe. With a real pseudo-terminal (a child
 * process whose controlling terminal is the pty's slave, TERM=xterm): a password prompt
 * does not echo and puts the echo back, an echoed prompt, Ctrl+C during the prompt (echo
 * restored, -EINTR), SIGTERM during the prompt (echo restored, killed by SIGTERM), SIGINT
 * outside any mode (killed by SIGINT: status 130 in a shell), the full screen left by
 * SIGTERM (a flag, then the normal path), by SIGHUP and by a crash (SIGABRT, SIGSEGV: the
 * terminal settings and terminfo's rmcup/cnorm are back before the process dies), a resize,
 * and the spinner (nothing within 300 ms or when disabled, the label and a hidden cursor
 * after, the line erased and the cursor shown on stop and on SIGTERM). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "term.h"

#define OUT_MAX (256 * 1024) /* what a child writes to its terminal */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- term_read_stdin through a pipe --------------------------------------------------------- */

/* Runs term_read_stdin(out, cap) with standard input reading data (len bytes). */
static int read_stdin_with(const char *data, size_t len, char *out, size_t cap)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    pid_t writer = fork();
    assert_true(writer >= 0);
    if (writer == 0) { /* a writer process: the data may be larger than the pipe */
        close(p[0]);
        size_t off = 0;
        while (off < len) {
            ssize_t n = write(p[1], data + off, len - off);
            if (n <= 0) _exit(1);
            off += (size_t)n;
        }
        _exit(0);
    }
    close(p[1]);
    assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
    close(p[0]);
    int rc = term_read_stdin(out, cap);
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
    int st = 0;
    waitpid(writer, &st, 0);
    return rc;
}

static void test_read_stdin(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(read_stdin_with("secret\n", 7, out, sizeof(out)), 0);
    assert_string_equal(out, "secret");
    assert_int_equal(read_stdin_with("secret\r\n", 8, out, sizeof(out)), 0);
    assert_string_equal(out, "secret");
    assert_int_equal(read_stdin_with("secret", 6, out, sizeof(out)), 0);
    assert_string_equal(out, "secret");
    assert_int_equal(read_stdin_with("two\n\n", 5, out, sizeof(out)), 0);
    assert_string_equal(out, "two\n"); /* only one newline is dropped */
    assert_int_equal(read_stdin_with("cr\r", 3, out, sizeof(out)), 0);
    assert_string_equal(out, "cr\r"); /* a lone \r is content */
    assert_int_equal(read_stdin_with("", 0, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(read_stdin_with("\n", 1, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(read_stdin_with("p\xc3\xa4ss w\0rd\n", 11, out, sizeof(out)), 0);
    assert_memory_equal(out, "p\xc3\xa4ss w\0rd", 11);

    /* cap 8: seven bytes of content fit, whatever the newline */
    char small[8];
    assert_int_equal(read_stdin_with("1234567", 7, small, sizeof(small)), 0);
    assert_string_equal(small, "1234567");
    assert_int_equal(read_stdin_with("1234567\n", 8, small, sizeof(small)), 0);
    assert_string_equal(small, "1234567");
    assert_int_equal(read_stdin_with("1234567\r\n", 9, small, sizeof(small)), 0);
    assert_string_equal(small, "1234567");
    assert_int_equal(read_stdin_with("123456\r\n", 8, small, sizeof(small)), 0);
    assert_string_equal(small, "123456");
    assert_int_equal(read_stdin_with("12345678", 8, small, sizeof(small)), -ENOSPC);
    assert_string_equal(small, ""); /* nothing half-read is left behind */
    assert_int_equal(read_stdin_with("12345678\n", 9, small, sizeof(small)), -ENOSPC);
    assert_int_equal(read_stdin_with("1234567\n\n", 9, small, sizeof(small)), -ENOSPC);
    assert_int_equal(read_stdin_with("x", 1, small, 0), -ENOSPC);

    /* larger than one read: 100 000 bytes */
    size_t big = 100000;
    char *data = malloc(big + 2), *got = malloc(big + 1);
    assert_non_null(data);
    assert_non_null(got);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)('a' + i % 26);
    data[big] = '\r';
    data[big + 1] = '\n';
    assert_int_equal(read_stdin_with(data, big + 2, got, big + 1), 0);
    assert_int_equal(strlen(got), big);
    assert_memory_equal(got, data, big);
    assert_int_equal(read_stdin_with(data, big + 2, got, big), -ENOSPC);
    free(data);
    free(got);
}

static void test_read_stdin_error(void **state)
{
    (void)state;
    char out[16] = "x";
    int saved = dup(STDIN_FILENO);
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    assert_true(dir >= 0);
    assert_int_equal(dup2(dir, STDIN_FILENO), STDIN_FILENO); /* read() says EISDIR */
    close(dir);
    assert_int_equal(term_read_stdin(out, sizeof(out)), -EIO);
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
}

/* ---- no terminal at all --------------------------------------------------------------------- */

static void test_prompt_without_terminal(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int p[2];
        char out[64];
        if (setsid() < 0 || pipe(p) != 0 || write(p[1], "typed\n", 6) != 6) _exit(10);
        dup2(p[0], STDIN_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, STDERR_FILENO); /* the prompt is not printed anyway */
        term_init();
        /* stdin is a pipe and, in a new session, /dev/tty cannot be opened */
        if (term_prompt("Password: ", 0, out, sizeof(out)) != -ENOENT) _exit(11);
        if (term_prompt("Name: ", 1, out, sizeof(out)) != -ENOENT) _exit(12);
        /* the screen needs a terminal on both ends */
        if (term_screen_begin(100) != -ENOTTY) _exit(13);
        term_screen_end(); /* harmless when not started */
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- a pseudo-terminal ---------------------------------------------------------------------- */

struct child {
    pid_t pid;
    int master, slave; /* the parent keeps the slave open to read its settings */
    int sync_rd;       /* the child writes one byte when it is ready */
    char *out;         /* what the child wrote to its terminal */
    size_t len;
};

/* Runs fn(sync_fd) in a child whose controlling terminal, stdin, stdout and stderr are
 * the slave of a new pty (24x80, TERM=xterm); fn's return is the child's exit status. */
static void spawn(struct child *c, int (*fn)(int sync_fd))
{
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    int sp[2];
    static char out[OUT_MAX + 1]; /* static: a child's leak checker must not count it */
    memset(c, 0, sizeof(*c));
    memset(out, 0, sizeof(out));
    c->out = out;
    assert_int_equal(openpty(&c->master, &c->slave, NULL, NULL, &ws), 0);
    assert_int_equal(pipe(sp), 0);
    fflush(NULL);
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        close(c->master);
        close(sp[0]);
        if (setsid() < 0 || ioctl(c->slave, TIOCSCTTY, 0) != 0) _exit(90);
        dup2(c->slave, STDIN_FILENO);
        dup2(c->slave, STDOUT_FILENO);
        dup2(c->slave, STDERR_FILENO);
        if (c->slave > STDERR_FILENO) close(c->slave);
        setenv("TERM", "xterm", 1);
        setenv("LANG", "C.UTF-8", 1);
        unsetenv("LC_ALL");
        unsetenv("COLUMNS");
        unsetenv("LINES");
        /* cmocka catches crashes in the test process; the child dies of them as a command
         * would (term.c hands a crash to whatever handler was there before it) */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        signal(SIGFPE, SIG_DFL);
        signal(SIGILL, SIG_DFL);
        /* A command started from a terminal gets the quit signals at their defaults; a test
         * run under nohup (SIGHUP ignored, inherited) must not change what is tested, as
         * term.c rightly leaves an ignored signal ignored. */
        signal(SIGHUP, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        term_init();
        int rc = fn(sp[1]);
        exit(rc); /* through atexit, as a real command would */
    }
    close(sp[1]);
    c->sync_rd = sp[0];
    fcntl(c->master, F_SETFL, fcntl(c->master, F_GETFL) | O_NONBLOCK);
}

/* Reads what the child wrote, waiting up to ms. */
static void drain(struct child *c, int ms)
{
    struct pollfd p = {c->master, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return;
    for (;;) {
        ssize_t n = read(c->master, c->out + c->len, OUT_MAX - c->len);
        if (n <= 0) break;
        c->len += (size_t)n;
        c->out[c->len] = '\0';
    }
}

/* 1 once needle appeared in the child's output (within ms). */
static int wait_output(struct child *c, const char *needle, int ms)
{
    int64_t until = now_ms() + ms;
    while (memmem(c->out, c->len, needle, strlen(needle)) == NULL) {
        if (now_ms() >= until) return 0;
        drain(c, 20);
    }
    return 1;
}

static int has_output(const struct child *c, const char *needle)
{
    return memmem(c->out, c->len, needle, strlen(needle)) != NULL;
}

static void wait_ready(struct child *c)
{
    char b;
    struct pollfd p = {c->sync_rd, POLLIN, 0};
    int64_t until = now_ms() + 5000;
    while (now_ms() < until) {
        drain(c, 0);
        if (poll(&p, 1, 20) > 0) break;
    }
    assert_int_equal(read(c->sync_rd, &b, 1), 1);
}

/* Waits for the child to end (reading its output meanwhile); returns its wait status. */
static int finish(struct child *c)
{
    int st = 0;
    int64_t until = now_ms() + 10000;
    for (;;) {
        drain(c, 20);
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid) break;
        if (now_ms() > until) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &st, 0);
            fail_msg("the child did not end; its output: %s", c->out);
        }
    }
    drain(c, 20);
    return st;
}

/* The slave's settings as the child left them. */
static tcflag_t lflags(const struct child *c)
{
    struct termios t;
    assert_int_equal(tcgetattr(c->slave, &t), 0);
    return t.c_lflag;
}

static void child_free(struct child *c)
{
    close(c->master);
    close(c->slave);
    close(c->sync_rd);
}

static void ready(int fd)
{
    if (write(fd, "r", 1) != 1) _exit(91);
}

static int echo_on(void)
{
    struct termios t;
    return tcgetattr(STDIN_FILENO, &t) == 0 && (t.c_lflag & ECHO) && (t.c_lflag & ICANON);
}

/* -- prompts -- */

static int child_password(int sync_fd)
{
    char pw[64];
    (void)sync_fd;
    int rc = term_prompt("Password: ", 0, pw, sizeof(pw));
    if (rc != 0) return 10;
    if (strcmp(pw, "hunter2") != 0) return 11;
    if (!echo_on()) return 12;
    rc = term_prompt("Again: ", 0, pw, 4); /* "toolong": -ENOSPC, the rest discarded */
    if (rc != -ENOSPC || pw[0] != '\0') return 13;
    rc = term_prompt("Name: ", 1, pw, sizeof(pw));
    if (rc != 0 || strcmp(pw, "alice") != 0) return 14;
    rc = term_prompt("More: ", 1, pw, sizeof(pw)); /* Ctrl+D */
    if (rc != -ENOENT) return 15;
    return 0;
}

static void test_prompt_no_echo(void **state)
{
    (void)state;
    struct child c;
    spawn(&c, child_password);
    assert_true(wait_output(&c, "Password: ", 5000));
    assert_int_equal(write(c.master, "hunter2\n", 8), 8);
    assert_true(wait_output(&c, "Again: ", 5000));
    assert_int_equal(write(c.master, "toolong\n", 8), 8);
    assert_true(wait_output(&c, "Name: ", 5000));
    assert_int_equal(write(c.master, "alice\n", 6), 6);
    assert_true(wait_output(&c, "More: ", 5000));
    assert_int_equal(write(c.master, "\x04", 1), 1);
    int st = finish(&c);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_false(has_output(&c, "hunter2")); /* never echoed */
    assert_false(has_output(&c, "toolong"));
    assert_true(has_output(&c, "alice")); /* echoed */
    assert_true((lflags(&c) & ECHO) != 0);
    child_free(&c);
}

static int child_ctrl_c(int sync_fd)
{
    char pw[64] = "x";
    (void)sync_fd;
    int rc = term_prompt("Password: ", 0, pw, sizeof(pw));
    if (rc != -EINTR) return 20;
    if (pw[0] != '\0') return 21;
    if (!echo_on()) return 22;
    return 0;
}

static void test_prompt_ctrl_c(void **state)
{
    (void)state;
    struct child c;
    spawn(&c, child_ctrl_c);
    assert_true(wait_output(&c, "Password: ", 5000));
    usleep(50000);
    assert_int_equal(write(c.master, "abc\x03", 4), 4); /* Ctrl+C: SIGINT to the child */
    int st = finish(&c);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_false(has_output(&c, "abc"));
    child_free(&c);
}

static int child_prompt_forever(int sync_fd)
{
    char pw[64];
    (void)sync_fd;
    (void)term_prompt("Password: ", 0, pw, sizeof(pw));
    return 30; /* never: the test kills it */
}

static void test_prompt_sigterm(void **state)
{
    (void)state;
    struct child c;
    spawn(&c, child_prompt_forever);
    assert_true(wait_output(&c, "Password: ", 5000));
    usleep(50000);
    assert_int_equal(lflags(&c) & ECHO, 0); /* echo is off now */
    kill(c.pid, SIGTERM);
    int st = finish(&c);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGTERM);
    assert_true((lflags(&c) & ECHO) != 0); /* and back */
    child_free(&c);
}

static int child_wait_forever(int sync_fd)
{
    ready(sync_fd);
    for (;;)
        pause();
    return 40;
}

static void test_sigint_plain(void **state)
{
    (void)state;
    struct child c;
    spawn(&c, child_wait_forever);
    wait_ready(&c);
    kill(c.pid, SIGINT);
    int st = finish(&c);
    assert_true(WIFSIGNALED(st)); /* the shell says 130 */
    assert_int_equal(WTERMSIG(st), SIGINT);
    child_free(&c);
}

/* -- the full screen -- */

static int child_screen_until_flag(int sync_fd)
{
    if (term_screen_begin(50) != 0) return 50;
    mvaddstr(0, 0, "TOP-SCREEN");
    refresh();
    ready(sync_fd);
    int64_t until = now_ms() + 5000;
    while (!term_interrupted() && now_ms() < until)
        (void)getch();
    if (!term_interrupted()) return 51;
    term_screen_end();
    term_screen_end(); /* twice is fine */
    if (!echo_on()) return 52;
    if (write(STDOUT_FILENO, "LEFT\n", 5) != 5) return 53;
    return 0;
}

static void screen_flag_by(int sig)
{
    struct child c;
    spawn(&c, child_screen_until_flag);
    wait_ready(&c);
    assert_true(wait_output(&c, "TOP-SCREEN", 5000));
    assert_true(has_output(&c, "\033[?1049h")); /* smcup */
    assert_int_equal(lflags(&c) & (ICANON | ECHO), 0);
    kill(c.pid, sig);
    int st = finish(&c);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(has_output(&c, "\033[?1049l")); /* rmcup */
    assert_true(has_output(&c, "LEFT"));
    assert_int_equal(lflags(&c) & (ICANON | ECHO), ICANON | ECHO);
    child_free(&c);
}

static void test_screen_sigterm_is_a_flag(void **state)
{
    (void)state;
    screen_flag_by(SIGTERM);
    screen_flag_by(SIGINT);
}

static int child_screen_then(int sync_fd, int what)
{
    if (term_screen_begin(50) != 0) return 60;
    mvaddstr(0, 0, "TOP-SCREEN");
    refresh();
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &t) != 0 || (t.c_lflag & (ICANON | ECHO)) != 0)
        return 62; /* the crash must come from the full screen (checked here: it is quick) */
    ready(sync_fd);
    if (what == 1) abort();
    if (what == 2) {
        /* a real fault, on a page nobody may read: a NULL load would be caught by UBSan's
         * null check (halt_on_error) before it could become a SIGSEGV */
        volatile char *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return 63;
        return p[0];
    }
    for (;;)
        (void)getch();
    return 61;
}

static int child_screen_abort(int sync_fd)
{
    return child_screen_then(sync_fd, 1);
}

static int child_screen_segv(int sync_fd)
{
    return child_screen_then(sync_fd, 2);
}

static int child_screen_wait(int sync_fd)
{
    return child_screen_then(sync_fd, 0);
}

/* The child dies by sig from the full screen: settings and escapes are back first. */
static void screen_death(int (*fn)(int), int kill_with, int want_sig)
{
    struct child c;
    spawn(&c, fn);
    wait_ready(&c);
    assert_true(wait_output(&c, "TOP-SCREEN", 5000));
    /* a crash may have come already: what counts is everything after the screen's text */
    size_t before = (size_t)((char *)memmem(c.out, c.len, "TOP-SCREEN", 10) - c.out) + 10;
    if (kill_with != 0) {
        assert_int_equal(lflags(&c) & (ICANON | ECHO), 0);
        kill(c.pid, kill_with);
    }
    int st = finish(&c);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != want_sig)
        fail_msg("wanted death by signal %d, got status 0x%x; output: %s", want_sig, st, c.out);
    const char *tail = c.out + before;
    assert_non_null(strstr(tail, "\033[?1049l"));        /* rmcup */
    assert_non_null(strstr(tail, "\033[?12l\033[?25h")); /* cnorm */
    assert_non_null(strstr(tail, "\033(B\033[m"));       /* sgr0 */
    assert_int_equal(lflags(&c) & (ICANON | ECHO), ICANON | ECHO);
    child_free(&c);
}

static void test_screen_crash_and_hangup(void **state)
{
    (void)state;
    screen_death(child_screen_abort, 0, SIGABRT);
    screen_death(child_screen_wait, SIGHUP, SIGHUP);
    screen_death(child_screen_wait, SIGQUIT, SIGQUIT);
    screen_death(child_screen_segv, 0, SIGSEGV);
}

static int child_resize(int sync_fd)
{
    if (term_screen_begin(50) != 0) return 70;
    if (COLS != 80 || LINES != 24) return 71;
    ready(sync_fd);
    int64_t until = now_ms() + 5000;
    while (!term_resized() && now_ms() < until)
        (void)getch();
    int cols = COLS, lines = LINES;
    int again = term_resized();
    term_screen_end();
    if (cols != 132 || lines != 40) return 72;
    return again == 0 ? 0 : 73;
}

static void test_resize(void **state)
{
    (void)state;
    struct child c;
    struct winsize ws = {.ws_row = 40, .ws_col = 132};
    spawn(&c, child_resize);
    wait_ready(&c);
    assert_int_equal(ioctl(c.master, TIOCSWINSZ, &ws), 0); /* SIGWINCH to the child */
    int st = finish(&c);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    child_free(&c);
}

/* -- the spinner -- */

static int child_spinner(int sync_fd)
{
    (void)sync_fd;
    spinner_start("quick", 1);
    usleep(100 * 1000);
    spinner_stop(); /* before 300 ms: nothing shown */
    spinner_start("disabled", 0);
    usleep(500 * 1000);
    spinner_stop();
    if (write(STDOUT_FILENO, "MARK\n", 5) != 5) return 80;
    spinner_start("Working \x1b[31mhard", 1);
    spinner_start("second one is ignored", 1);
    usleep(650 * 1000);
    spinner_stop();
    spinner_stop();
    if (write(STDOUT_FILENO, "DONE\n", 5) != 5) return 81;
    return 0;
}

static void test_spinner(void **state)
{
    (void)state;
    struct child c;
    spawn(&c, child_spinner);
    int st = finish(&c);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    char *mark = memmem(c.out, c.len, "MARK", 4);
    assert_non_null(mark);
    assert_null(memmem(c.out, (size_t)(mark - c.out), "quick", 5));
    assert_false(has_output(&c, "disabled"));
    assert_false(has_output(&c, "ignored"));
    assert_true(has_output(&c, "\033[?25l"));
    assert_true(has_output(&c, "Working ?[31mhard")); /* control characters neutralized */
    assert_true(has_output(&c, "\xe2\xa0"));          /* braille frames in a UTF-8 locale */
    char *done = memmem(c.out, c.len, "DONE", 4);
    assert_non_null(done);
    /* the line erased and the cursor shown right before DONE */
    const char *erase = "\r\033[K\033[?25h";
    size_t elen = strlen(erase);
    char *e = memmem(mark, (size_t)(done - mark), erase, elen);
    assert_non_null(e);
    assert_null(memmem(e + elen, (size_t)(done - e - (ptrdiff_t)elen), "Working", 7));
    child_free(&c);
}

static int child_spinner_forever(int sync_fd)
{
    spinner_start("waiting for the daemon", 1);
    usleep(500 * 1000);
    ready(sync_fd);
    for (;;)
        pause();
    return 85;
}

static void test_spinner_sigterm(void **state)
{
    (void)state;
    struct child c;
    spawn(&c, child_spinner_forever);
    wait_ready(&c);
    assert_true(wait_output(&c, "waiting for the daemon", 5000));
    size_t before = c.len;
    kill(c.pid, SIGTERM);
    int st = finish(&c);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGTERM);
    assert_non_null(memmem(c.out + before, c.len - before, "\033[?25h", 6));
    child_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_stdin),
        cmocka_unit_test(test_read_stdin_error),
        cmocka_unit_test(test_prompt_without_terminal),
        cmocka_unit_test(test_prompt_no_echo),
        cmocka_unit_test(test_prompt_ctrl_c),
        cmocka_unit_test(test_prompt_sigterm),
        cmocka_unit_test(test_sigint_plain),
        cmocka_unit_test(test_screen_sigterm_is_a_flag),
        cmocka_unit_test(test_screen_crash_and_hangup),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_spinner),
        cmocka_unit_test(test_spinner_sigterm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
