/* config.ini of the user's Cloudya folder: read by a small line parser (inih's lines are
 * limited to 200 bytes, and a session token is longer), updated line by line so that
 * comments, other sections and unknown keys survive, and written atomically (a 0600 temp
 * file in the same folder, fsync, rename). */
#define _GNU_SOURCE
#include "cli_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "str.h"
#include "xalloc.h"

int cli_config_home(char *out, size_t cap, char *err, size_t errlen)
{
    const char *h = getenv("CLOUDYA_HOME");
    int rc;
    if (h != NULL && h[0] != '\0') {
        rc = str_copy(out, cap, h);
    } else {
        const char *home = getenv("HOME");
        if (home == NULL || home[0] == '\0') {
            str_fmt(err, errlen, "neither CLOUDYA_HOME nor HOME is set: cannot find the Cloudya folder");
            return -ENOENT;
        }
        int n = snprintf(out, cap, "%s/.cloudya", home);
        rc = n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
    }
    if (rc != 0) {
        str_fmt(err, errlen, "the Cloudya folder's path is too long");
        return -ENAMETOOLONG;
    }
    return 0;
}

/* Reads the whole file at path (at most CLI_CONFIG_MAX bytes) into *out. Returns 0,
 * -ENOENT when it does not exist, -EFBIG, or -EIO. */
static int read_file(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ENOENT : -EIO;
    buf b;
    buf_init(&b, CLI_CONFIG_MAX);
    char chunk[4096];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -EIO;
            break;
        }
        if (n == 0)
            break;
        if (buf_append(&b, chunk, (size_t)n) != 0) {
            rc = -EFBIG;
            break;
        }
    }
    close(fd);
    if (rc != 0) {
        buf_free(&b);
        return rc;
    }
    *out = buf_steal(&b, len);
    return 0;
}

static int section_of(const char *line, size_t len, char *out, size_t cap);

/* Trims blanks at both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
        (*n)--;
}

/* Stores value (n bytes) into out. Returns 0 or -1 when it does not fit. */
static int take(const char *value, size_t n, char *out, size_t cap)
{
    if (n >= cap)
        return -1;
    memcpy(out, value, n);
    out[n] = '\0';
    return 0;
}

/* Reads the INI text: "[section]" lines, "key = value" (or "key: value") lines, blank
 * lines and ';' or '#' comments; nothing else. Lines may be of any length (tokens are
 * long). Returns 0, or the number of the first line that is not one of those, or whose
 * value does not fit the caller's buffer. */
static int parse(const char *text, size_t len, char *url, size_t ucap, char *token, size_t tcap)
{
    char section[128] = "";
    size_t pos = 0;
    for (int no = 1; pos < len; no++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *l = text + pos;
        pos += n + (nl ? 1 : 0);
        trim(&l, &n);
        if (n == 0 || l[0] == ';' || l[0] == '#')
            continue;
        if (l[0] == '[') {
            if (section_of(l, n, section, sizeof(section)) != 0 || l[n - 1] != ']')
                return no;
            continue;
        }
        size_t k = 0;
        while (k < n && l[k] != '=' && l[k] != ':')
            k++;
        if (k == n || k == 0)
            return no;
        const char *key = l, *value = l + k + 1;
        size_t klen = k, vlen = n - k - 1;
        trim(&key, &klen);
        trim(&value, &vlen);
        if (strcmp(section, "api") == 0 && klen == 3 && memcmp(key, "url", 3) == 0) {
            if (take(value, vlen, url, ucap) != 0)
                return no;
        } else if (strcmp(section, "auth") == 0 && klen == 5 && memcmp(key, "token", 5) == 0) {
            if (take(value, vlen, token, tcap) != 0)
                return no;
        }
    }
    return 0;
}

static void config_path(const char *home, char *out, size_t cap)
{
    snprintf(out, cap, "%s/config.ini", home);
}

int cli_config_load(const char *home, char *url, size_t ucap, char *token, size_t tcap,
                    char *err, size_t errlen)
{
    char path[1100];
    config_path(home, path, sizeof(path));
    url[0] = token[0] = '\0';
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(path, &text, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc == -EFBIG) {
        str_fmt(err, errlen, "%s is larger than %u KiB: not read", path, CLI_CONFIG_MAX >> 10);
        return rc;
    }
    if (rc != 0) {
        str_fmt(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return rc;
    }
    if (memchr(text, '\0', len) != NULL) {
        free(text);
        str_fmt(err, errlen, "%s holds a NUL byte: fix or remove the file", path);
        return -EINVAL;
    }
    int line = parse(text, len, url, ucap, token, tcap);
    free(text);
    if (line != 0) {
        url[0] = token[0] = '\0';
        str_fmt(err, errlen, "%s, line %d, cannot be read: fix or remove the file", path, line);
        return -EINVAL;
    }
    return 0;
}

/* The section name of a "[name]" line (surrounding blanks allowed) into out, or -1. */
static int section_of(const char *line, size_t len, char *out, size_t cap)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= len || line[i] != '[')
        return -1;
    const char *end = memchr(line + i, ']', len - i);
    if (end == NULL)
        return -1;
    size_t n = (size_t)(end - (line + i + 1));
    const char *s = line + i + 1;
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= cap)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* 1 when line is "key = ..." or "key: ..." for this key. */
static int line_is_key(const char *line, size_t len, const char *key)
{
    size_t i = 0, k = strlen(key);
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (len - i < k || strncmp(line + i, key, k) != 0)
        return 0;
    i += k;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < len && (line[i] == '=' || line[i] == ':');
}

/* Builds the new text: old with section.key set to value (or removed when NULL). */
static int rewrite(const char *old, size_t oldlen, const char *section, const char *key,
                   const char *value, buf *out)
{
    char cur[128] = "";
    int in_target = 0, seen_section = 0, done = 0;
    size_t pos = 0, insert_at = (size_t)-1; /* after the target section's last non-blank line */
    buf body;
    buf_init(&body, CLI_CONFIG_MAX + 8192);
    while (pos < oldlen) {
        const char *nl = memchr(old + pos, '\n', oldlen - pos);
        size_t len = nl ? (size_t)(nl - (old + pos)) : oldlen - pos;
        const char *line = old + pos;
        if (section_of(line, len, cur, sizeof(cur)) == 0) {
            in_target = strcmp(cur, section) == 0;
            seen_section |= in_target;
        }
        int skip = 0;
        if (in_target && !done && line_is_key(line, len, key)) {
            done = 1;
            skip = 1;
            if (value != NULL)
                buf_printf(&body, "%s = %s\n", key, value);
        } else if (in_target && !done && value != NULL && len > 0) {
            insert_at = body.len + len + 1; /* remembered after this line is written */
        }
        if (!skip) {
            buf_append(&body, line, len);
            buf_puts(&body, "\n");
        }
        pos += len + (nl ? 1 : 0);
    }
    if (!done && value != NULL) {
        if (seen_section && insert_at != (size_t)-1 && insert_at <= body.len) {
            buf_append(out, body.data, insert_at);
            buf_printf(out, "%s = %s\n", key, value);
            buf_append(out, body.data + insert_at, body.len - insert_at);
        } else {
            if (body.len > 0)
                buf_append(out, body.data, body.len);
            if (body.len > 0 && !(body.len >= 2 && body.data[body.len - 2] == '\n'))
                buf_puts(out, "\n");
            buf_printf(out, "[%s]\n%s = %s\n", section, key, value);
        }
    } else if (body.len > 0) {
        buf_append(out, body.data, body.len);
    }
    int failed = body.failed;
    buf_free(&body);
    return failed || out->failed ? -EFBIG : 0;
}

int cli_config_set(const char *home, const char *section, const char *key, const char *value,
                   char *err, size_t errlen)
{
    if (value != NULL && (strchr(value, '\n') != NULL || strchr(value, '\r') != NULL)) {
        str_fmt(err, errlen, "a value in config.ini cannot hold a line break");
        return -EINVAL;
    }
    if (mkdir(home, 0700) != 0 && errno != EEXIST) {
        str_fmt(err, errlen, "cannot create %s: %s", home, strerror(errno));
        return -errno;
    }
    char path[1100], tmp[1120];
    config_path(home, path, sizeof(path));
    char *old = NULL;
    size_t oldlen = 0;
    int rc = read_file(path, &old, &oldlen);
    if (rc == -ENOENT) {
        old = xstrdup("");
        rc = 0;
    }
    if (rc != 0) {
        str_fmt(err, errlen, "cannot read %s: %s", path, rc == -EFBIG ? "too large" : strerror(errno));
        return rc;
    }
    buf out;
    buf_init(&out, CLI_CONFIG_MAX + 8192);
    rc = rewrite(old, oldlen, section, key, value, &out);
    free(old);
    if (rc != 0) {
        buf_free(&out);
        str_fmt(err, errlen, "%s would grow too large", path);
        return rc;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = -errno;
        str_fmt(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        buf_free(&out);
        return rc;
    }
    size_t off = 0;
    while (off < out.len) {
        ssize_t n = write(fd, out.data + off, out.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = -EIO;
            break;
        }
        off += (size_t)n;
    }
    if (rc == 0 && fchmod(fd, 0600) != 0)
        rc = -errno;
    if (rc == 0 && fsync(fd) != 0)
        rc = -EIO;
    if (close(fd) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    buf_free(&out);
    if (rc != 0) {
        str_fmt(err, errlen, "cannot write %s: %s", path, strerror(-rc));
        unlink(tmp);
        return rc;
    }
    return 0;
}
