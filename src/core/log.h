/* Logging to stderr in logfmt (default) or JSON lines, OpenBSD style: log_warn appends
 * strerror(errno), log_warnx does not, fatal exits. Every line carries the request id of
 * the thread's current request, when there is one. */
#ifndef CLOUDYA_LOG_H
#define CLOUDYA_LOG_H
#include <stdarg.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* Sets the threshold and the format. Returns 0, or -EINVAL for an unknown name. */
int log_set_level(const char *name);
/* 0 when name is a level log_set_level accepts, else -EINVAL; changes nothing. */
int log_level_valid(const char *name);
int log_set_format(const char *name); /* "logfmt" | "json" */
int log_enabled(enum log_level lvl);

/* The request id logged by this thread from now on ("" or NULL clears it). */
void log_set_request_id(const char *rid);
const char *log_request_id(void);

void log_at(enum log_level lvl, const char *func, int with_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
_Noreturn void log_fatal(const char *func, int with_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_at(LOG_DEBUG, __func__, 0, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __func__, 0, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __func__, 1, __VA_ARGS__)
#define log_warnx(...) log_at(LOG_WARN, __func__, 0, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __func__, 0, __VA_ARGS__)
#define fatal(...) log_fatal(__func__, 1, __VA_ARGS__)
#define fatalx(...) log_fatal(__func__, 0, __VA_ARGS__)

#endif
