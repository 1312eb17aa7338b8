#define _POSIX_C_SOURCE 200809L
/* Kernel text file helpers (see textscan.h). Files are opened with O_CLOEXEC so a child
 * started by another thread never inherits them, and O_NOCTTY so a path that turns out to
 * be a terminal never becomes our controlling one. */
#include "textscan.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* ---- walking text ------------------------------------------------------------------- */

/* The kernel pads columns with spaces and some files with tabs; newlines are left out so
 * that skipping blanks never crosses into the next line. Returns 1 or 0. */
int text_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Not isdigit(): that one depends on the locale and takes an int that must not be a
 * negative char. Returns 1 or 0. */
int text_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Stops at the NUL at the latest, since NUL is no blank. Returns the first non-blank. */
const char *text_skip_blanks(const char *p)
{
    while (text_is_blank(*p))
        p++;
    return p;
}

/* Lines are not copied: a parser works between line and its end. Returns the '\n' or NUL. */
const char *text_line_end(const char *p)
{
    while (*p != '\0' && *p != '\n')
        p++;
    return p;
}

/* A last line without its '\n' ends the walk at the NUL rather than reading past it.
 * Returns the start of the next line, or eol at the end of the text. */
const char *text_next_line(const char *eol)
{
    return *eol == '\n' ? eol + 1 : eol;
}

/* Trailing blanks are allowed after a value, anything else is not. Returns 1 or 0. */
int text_rest_blank(const char *p)
{
    p = text_skip_blanks(p);
    return *p == '\0' || *p == '\n';
}

/* A wrapped sum would look like a real, small figure; a saturated one is plainly wrong.
 * Returns a + b or UINT64_MAX. */
uint64_t text_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The overflow test runs before each step, so v never wraps; past the top the remaining
 * digits are still walked so that *pp lands at the end of the field either way. Returns 0,
 * -EINVAL (no digit) or -ERANGE (above UINT64_MAX). */
int text_parse_u64(const char **pp, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    int over = 0;
    if (!text_is_digit(*p))
        return -EINVAL;
    for (; text_is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            over = 1;
        else
            v = v * 10 + d;
    }
    *pp = p;
    if (over)
        return -ERANGE;
    *out = v;
    return 0;
}

/* ---- reading files ------------------------------------------------------------------ */

/* Every reader here would otherwise repeat the EINTR loop. Returns the count or -errno. */
ssize_t text_read_some(int fd, char *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return -errno;
    }
}

/* Fills the buffer first, then (whole set) asks for one byte more: a file of exactly cap - 1
 * bytes fits, and a larger one is told apart without reading it all. Returns 0, -EINVAL,
 * -EFBIG or the negative errno of open/read, with buf "" on failure. */
/* pread(2) at off, retried when a signal interrupts it. */
static ssize_t pread_some(int fd, char *buf, size_t len, off_t off)
{
    ssize_t n;
    do
        n = pread(fd, buf, len, off);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/* The body of text_read_file and text_pread_file: sequential reads, or preads from offset 0
 * (which make the kernel generate a proc or cgroup file afresh). */
static int read_all(int fd, int positional, char *buf, size_t cap, int whole)
{
    size_t len = 0;
    int ret = 0;
    ssize_t n = 0;
    while (len < cap - 1) {
        size_t want = cap - 1 - len;
        n = positional ? pread_some(fd, buf + len, want, (off_t)len)
                       : text_read_some(fd, buf + len, want);
        if (n <= 0)
            break;
        len += (size_t)n;
        /* A proc or cgroup file hands over all it has in one read; reading at the end
         * again would make the kernel generate the whole file a second time. */
        if (positional && (size_t)n < want)
            break;
    }
    if (n >= 0 && whole && len == cap - 1) {
        char extra;
        n = positional ? pread_some(fd, &extra, 1, (off_t)len) : text_read_some(fd, &extra, 1);
        if (n > 0)
            ret = -EFBIG;
    }
    if (n < 0)
        ret = (int)n;
    buf[ret == 0 ? len : 0] = '\0';
    return ret;
}

int text_read_file(const char *path, char *buf, size_t cap, int whole)
{
    if (cap == 0)
        return -EINVAL;
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    int ret = read_all(fd, 0, buf, cap, whole);
    close(fd);
    return ret;
}

int text_pread_file(int fd, char *buf, size_t cap, int whole)
{
    if (cap == 0)
        return -EINVAL;
    buf[0] = '\0';
    return read_all(fd, 1, buf, cap, whole);
}
