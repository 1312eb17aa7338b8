#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int threshold = LOG_INFO;
static int json_format;
static _Thread_local char request_id[72];

static const char *level_names[] = {"debug", "info", "warn", "error"};

/* Accepts the level names of LOG_LEVEL, case-insensitively. */
int log_set_level(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            threshold = i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        threshold = LOG_WARN;
        return 0;
    }
    return -EINVAL;
}

/* Validation for the configuration check, without side effects. */
int log_level_valid(const char *name)
{
    int saved = threshold;
    int rc = log_set_level(name);
    threshold = saved;
    return rc;
}

/* Accepts "logfmt" or "json" (LOG_FORMAT). */
int log_set_format(const char *name)
{
    if (strcasecmp(name, "logfmt") == 0 || strcasecmp(name, "text") == 0)
        json_format = 0;
    else if (strcasecmp(name, "json") == 0)
        json_format = 1;
    else
        return -EINVAL;
    return 0;
}

/* Lets callers skip building expensive messages that would be dropped. */
int log_enabled(enum log_level lvl)
{
    return (int)lvl >= threshold;
}

/* Remembers the request id for this thread's log lines. */
void log_set_request_id(const char *rid)
{
    if (rid == NULL)
        rid = "";
    snprintf(request_id, sizeof(request_id), "%s", rid);
}

const char *log_request_id(void)
{
    return request_id;
}

/* Appends s to out escaped for a double-quoted logfmt or JSON string. */
static size_t escape(char *out, size_t cap, size_t len, const char *s)
{
    for (; *s != '\0' && len + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[len++] = '\\';
            out[len++] = (char)c;
        } else if (c == '\n') {
            out[len++] = '\\';
            out[len++] = 'n';
        } else if (c < 0x20 || c == 0x7f) {
            len += (size_t)snprintf(out + len, cap - len, "\\u%04x", c);
        } else {
            out[len++] = (char)c;
        }
    }
    out[len] = '\0';
    return len;
}

static void emit(enum log_level lvl, const char *func, int err, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void emit(enum log_level lvl, const char *func, int err, const char *fmt, va_list ap)
{
    char msg[2048], line[4608];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (err != 0) {
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[80];
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);
    size_t len;
    if (json_format) {
        len = (size_t)snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",", when,
                               level_names[lvl]);
        if (request_id[0] != '\0')
            len += (size_t)snprintf(line + len, sizeof(line) - len, "\"rid\":\"%s\",", request_id);
        len += (size_t)snprintf(line + len, sizeof(line) - len, "\"func\":\"%s\",\"msg\":\"", func);
        len = escape(line, sizeof(line), len, msg);
        snprintf(line + len, sizeof(line) - len, "\"}\n");
    } else {
        len = (size_t)snprintf(line, sizeof(line), "ts=%s level=%s", when, level_names[lvl]);
        if (request_id[0] != '\0')
            len += (size_t)snprintf(line + len, sizeof(line) - len, " rid=%s", request_id);
        len += (size_t)snprintf(line + len, sizeof(line) - len, " func=%s msg=\"", func);
        len = escape(line, sizeof(line), len, msg);
        snprintf(line + len, sizeof(line) - len, "\"\n");
    }
    fputs(line, stderr); /* one write per line: stderr is unbuffered */
}

/* Logs one line at lvl; with_errno appends strerror(errno). */
void log_at(enum log_level lvl, const char *func, int with_errno, const char *fmt, ...)
{
    int saved = errno;
    if ((int)lvl < threshold)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(lvl, func, with_errno ? saved : 0, fmt, ap);
    va_end(ap);
    errno = saved;
}

/* Logs at error level and exits with status 1: for conditions the daemon cannot outlive. */
void log_fatal(const char *func, int with_errno, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_ERROR, func, with_errno ? saved : 0, fmt, ap);
    va_end(ap);
    exit(1);
}
