/* Unit tests for src/core/textscan.c: the character classes and pointer walkers on edge
 * texts (empty, no final newline, tabs, NUL right after a field), the u64 parser at and
 * past 2^64-1, saturating addition, one read(2) retried after a signal (a real SIGALRM
 * that interrupts a blocked pipe read), and whole-file reads of temporary files and of a
 * FIFO fed in pieces: exact fit, one byte too many, head-only mode, missing files,
 * directories, and no file descriptor left open on any path. */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "textscan.h"

#define SENTINEL ((uint64_t)0x5a5a5a5a5a5a5a5a)
#define PATH_LEN 128

#define MADE_MAX 16 /* files a test may create in its directory */

/* The test's own directory and what it put there, removed by name afterwards. */
static char root[64];
static char made[MADE_MAX][PATH_LEN];
static size_t nmade;

static int make_root(void **state)
{
    (void)state;
    nmade = 0;
    snprintf(root, sizeof(root), "/tmp/tstest.XXXXXX");
    return mkdtemp(root) == NULL ? -1 : 0;
}

static int remove_root(void **state)
{
    (void)state;
    while (nmade > 0)
        unlink(made[--nmade]);
    return rmdir(root);
}

/* Notes root/name as made (once) and returns its path. */
static const char *note(const char *name)
{
    char path[PATH_LEN];
    snprintf(path, sizeof(path), "%s/%s", root, name);
    for (size_t i = 0; i < nmade; i++)
        if (strcmp(made[i], path) == 0)
            return made[i];
    assert_true(nmade < MADE_MAX);
    memcpy(made[nmade], path, sizeof(path));
    return made[nmade++];
}

/* Writes len bytes of text to root/name and returns its path. */
static const char *put(const char *name, const char *text, size_t len)
{
    const char *path = note(name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* The lowest free descriptor: the same before and after a call means it closed its own. */
static int next_fd(void)
{
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    close(fd);
    return fd;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- characters and walking --------------------------------------------------------- */

static void test_classes(void **state)
{
    (void)state;
    assert_true(text_is_blank(' '));
    assert_true(text_is_blank('\t'));
    assert_false(text_is_blank('\n'));
    assert_false(text_is_blank('\r'));
    assert_false(text_is_blank('\0'));
    assert_false(text_is_blank('a'));
    for (int c = -128; c < 128; c++)
        assert_int_equal(text_is_digit((char)c), c >= '0' && c <= '9');
}

static void test_walk(void **state)
{
    (void)state;
    const char *s = " \t 42 x";
    assert_ptr_equal(text_skip_blanks(s), s + 3);
    assert_ptr_equal(text_skip_blanks(s + 3), s + 3);
    const char *only = " \t ";
    assert_ptr_equal(text_skip_blanks(only), only + 3); /* stops at the NUL */
    const char *nl = "  \nx";
    assert_ptr_equal(text_skip_blanks(nl), nl + 2); /* a newline is no blank */

    /* three lines, the last without its '\n', walked like the parsers walk them */
    const char *text = "ab\n\nlast";
    const char *starts[4];
    size_t n = 0;
    for (const char *line = text; *line != '\0';) {
        const char *eol = text_line_end(line);
        assert_true(n < 4);
        starts[n++] = line;
        line = text_next_line(eol);
    }
    assert_int_equal(n, 3);
    assert_ptr_equal(starts[0], text);
    assert_ptr_equal(starts[1], text + 3);
    assert_ptr_equal(starts[2], text + 4);
    assert_ptr_equal(text_line_end(text), text + 2);
    assert_ptr_equal(text_line_end(text + 3), text + 3);  /* an empty line */
    assert_ptr_equal(text_line_end(text + 4), text + 8);  /* ends at the NUL */
    assert_ptr_equal(text_next_line(text + 8), text + 8); /* and stays there */
    const char *empty = "";
    assert_ptr_equal(text_line_end(empty), empty);
    assert_ptr_equal(text_next_line(empty), empty);

    assert_true(text_rest_blank(""));
    assert_true(text_rest_blank("  \t"));
    assert_true(text_rest_blank(" \n garbage on the next line"));
    assert_false(text_rest_blank("  x"));
    assert_false(text_rest_blank("\r\n"));
}

static void test_sat_add(void **state)
{
    (void)state;
    assert_int_equal(text_sat_add(0, 0), 0);
    assert_int_equal(text_sat_add(2, 3), 5);
    assert_int_equal(text_sat_add(UINT64_MAX - 1, 1), UINT64_MAX);
    assert_int_equal(text_sat_add(UINT64_MAX - 1, 2), UINT64_MAX);
    assert_int_equal(text_sat_add(1, UINT64_MAX), UINT64_MAX);
    assert_int_equal(text_sat_add(UINT64_MAX, UINT64_MAX), UINT64_MAX);
    assert_int_equal(text_sat_add((uint64_t)1 << 63, (uint64_t)1 << 63), UINT64_MAX);
}

/* s must parse to want, leaving the pointer at s + used. */
static void parses(const char *s, uint64_t want, size_t used)
{
    const char *p = s;
    uint64_t v = SENTINEL;
    int rc = text_parse_u64(&p, &v);
    if (rc != 0)
        fail_msg("text_parse_u64(\"%s\") returned %d", s, rc);
    if (v != want)
        fail_msg("text_parse_u64(\"%s\") gave %llu", s, (unsigned long long)v);
    if (p != s + used)
        fail_msg("text_parse_u64(\"%s\") used %td bytes, expected %zu", s, p - s, used);
}

/* s must fail with want, leaving the value alone and the pointer at s + used. */
static void refused(const char *s, int want, size_t used)
{
    const char *p = s;
    uint64_t v = SENTINEL;
    int rc = text_parse_u64(&p, &v);
    if (rc != want)
        fail_msg("text_parse_u64(\"%s\") returned %d, expected %d", s, rc, want);
    if (v != SENTINEL)
        fail_msg("text_parse_u64(\"%s\") wrote %llu on failure", s, (unsigned long long)v);
    if (p != s + used)
        fail_msg("text_parse_u64(\"%s\") moved %td bytes, expected %zu", s, p - s, used);
}

static void test_parse_u64(void **state)
{
    (void)state;
    parses("0", 0, 1);
    parses("7\n", 7, 1);
    parses("000123 rest", 123, 6);
    parses("42abc", 42, 2);
    parses("18446744073709551615", UINT64_MAX, 20);
    parses("18446744073709551614:", UINT64_MAX - 1, 20);
    parses("00000000000000000000000018446744073709551615", UINT64_MAX, 44);
    refused("18446744073709551616", -ERANGE, 20); /* 2^64: every digit consumed */
    refused("18446744073709551620 x", -ERANGE, 20);
    refused("99999999999999999999999999999999", -ERANGE, 32);
    refused("", -EINVAL, 0);
    refused(" 1", -EINVAL, 0);
    refused("-1", -EINVAL, 0);
    refused("+1", -EINVAL, 0);
    refused("x1", -EINVAL, 0);
    refused("\n1", -EINVAL, 0);
}

/* ---- reading ------------------------------------------------------------------------ */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void test_read_some(void **state)
{
    (void)state;
    int pfd[2];
    char buf[16];
    assert_int_equal(pipe(pfd), 0);

    /* a blocked read that a signal without SA_RESTART interrupts is retried */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: read(2) fails with EINTR */
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        pause_ms(400);
        _exit(write(pfd[1], "late", 4) == 4 ? 0 : 1);
    }
    close(pfd[1]);
    alarms = 0;
    struct itimerval it = {{0, 0}, {0, 50000}};
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    ssize_t n = text_read_some(pfd[0], buf, sizeof(buf));
    assert_int_equal(alarms, 1);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "late", 4);
    assert_int_equal(text_read_some(pfd[0], buf, sizeof(buf)), 0); /* end of file */
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
    close(pfd[0]);

    assert_int_equal(text_read_some(-1, buf, sizeof(buf)), -EBADF);
}

static void test_read_file(void **state)
{
    (void)state;
    const char *path;
    char buf[8];
    int fd0 = next_fd();

    /* exactly cap - 1 bytes fit, whole or not */
    path = put("seven", "1234567", 7);
    assert_int_equal(text_read_file(path, buf, sizeof(buf), 1), 0);
    assert_string_equal(buf, "1234567");
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(text_read_file(path, buf, sizeof(buf), 0), 0);
    assert_string_equal(buf, "1234567");

    /* one byte more: refused whole, cut to its head otherwise */
    path = put("eight", "12345678", 8);
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(text_read_file(path, buf, sizeof(buf), 1), -EFBIG);
    assert_string_equal(buf, "");
    assert_int_equal(text_read_file(path, buf, sizeof(buf), 0), 0);
    assert_string_equal(buf, "1234567");

    /* shorter files, an empty one, and text with a NUL inside (kept, the caller sees the
     * text up to it, which is what a parser of NUL-terminated text reads) */
    path = put("short", "ab\n", 3);
    assert_int_equal(text_read_file(path, buf, sizeof(buf), 1), 0);
    assert_string_equal(buf, "ab\n");
    path = put("empty", "", 0);
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(text_read_file(path, buf, sizeof(buf), 1), 0);
    assert_string_equal(buf, "");
    path = put("nul", "a\0b", 3);
    assert_int_equal(text_read_file(path, buf, sizeof(buf), 1), 0);
    assert_memory_equal(buf, "a\0b\0", 4);

    /* the smallest buffer holds only the NUL */
    path = put("one", "x", 1);
    assert_int_equal(text_read_file(path, buf, 1, 1), -EFBIG);
    assert_int_equal(text_read_file(path, buf, 1, 0), 0);
    assert_string_equal(buf, "");
    path = put("empty", "", 0);
    assert_int_equal(text_read_file(path, buf, 1, 1), 0);
    assert_int_equal(text_read_file(path, buf, 0, 1), -EINVAL);

    /* errors of open and read, buf emptied */
    char missing[PATH_LEN];
    snprintf(missing, sizeof(missing), "%s/nope", root);
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(text_read_file(missing, buf, sizeof(buf), 1), -ENOENT);
    assert_string_equal(buf, "");
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(text_read_file(root, buf, sizeof(buf), 1), -EISDIR);
    assert_string_equal(buf, "");
    assert_int_equal(text_read_file(root, buf, sizeof(buf), 0), -EISDIR);

    /* a proc file, whose size stat(2) reports as 0 */
    char status[4096];
    assert_int_equal(text_read_file("/proc/self/status", status, sizeof(status), 1), 0);
    assert_true(strncmp(status, "Name:", 5) == 0);

    assert_int_equal(next_fd(), fd0); /* every path above closed its descriptor */
}

/* A FIFO hands out what its writer has written so far: the reader must go on reading until
 * the end of the file, not stop at the first short read. */
/* A kept descriptor reads the file afresh from its start every time; the same limits. */
static void test_pread_file(void **state)
{
    (void)state;
    char buf[8];
    const char *path = put("kept", "123", 3);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(text_pread_file(fd, buf, sizeof(buf), 1), 0);
    assert_string_equal(buf, "123");
    put("kept", "4567", 4); /* same file, new contents */
    assert_int_equal(text_pread_file(fd, buf, sizeof(buf), 1), 0);
    assert_string_equal(buf, "4567");
    assert_int_equal(text_pread_file(fd, buf, sizeof(buf), 1), 0); /* no offset moved */
    assert_string_equal(buf, "4567");
    put("kept", "12345678", 8);
    assert_int_equal(text_pread_file(fd, buf, sizeof(buf), 1), -EFBIG);
    assert_string_equal(buf, "");
    assert_int_equal(text_pread_file(fd, buf, sizeof(buf), 0), 0);
    assert_string_equal(buf, "1234567");
    assert_int_equal(text_pread_file(fd, buf, 0, 1), -EINVAL);
    close(fd);
    assert_int_equal(text_pread_file(fd, buf, sizeof(buf), 1), -EBADF);
    /* /proc files are generated again on each read from offset 0: /proc/uptime moves every
     * 10 ms */
    fd = open("/proc/uptime", O_RDONLY);
    char a[256], b[256];
    assert_int_equal(text_pread_file(fd, a, sizeof(a), 1), 0);
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    assert_int_equal(text_pread_file(fd, b, sizeof(b), 1), 0);
    assert_string_not_equal(a, b);
    close(fd);
}

static void test_read_fifo(void **state)
{
    (void)state;
    char buf[64];
    const char *path = note("fifo");
    assert_int_equal(mkfifo(path, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        int ok = fd >= 0 && write(fd, "abc", 3) == 3;
        pause_ms(100);
        ok = ok && write(fd, "def\n", 4) == 4;
        pause_ms(100);
        ok = ok && write(fd, "g", 1) == 1;
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(text_read_file(path, buf, sizeof(buf), 1), 0);
    assert_string_equal(buf, "abcdef\ng");
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_root, remove_root)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_sat_add),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_read_some),
        T(test_read_file),
        T(test_read_fifo),
        T(test_pread_file),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
