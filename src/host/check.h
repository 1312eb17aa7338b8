/* The findings of `cloudya diagnose`: a list of checks, each ✓ (ok), ! (warning), ✗ (failed)
 * or - (skipped: does not apply here), with a one-line message saying what was seen and a
 * one-line hint saying what to do, then for a whole diagnosis the most likely cause and what
 * to try. The system, service and deployment diagnoses all fill one of these; the command
 * line prints it as a checklist or as JSON, and `--explain` sends its JSON to the assistant. */
#ifndef CLOUDYA_HOST_CHECK_H
#define CLOUDYA_HOST_CHECK_H
#include <jansson.h>
#include <stddef.h>

#define CHECK_ID_MAX 40     /* "disk_space" */
#define CHECK_TITLE_MAX 80  /* "Disk space" */
#define CHECK_TEXT_MAX 1024 /* a message or a hint */
#define CHECK_DETAIL_MAX 4096 /* lines of evidence (log lines, a config test's output) */
#define CHECKS_MAX 64       /* checks in one list (a list is ~400 KiB: calloc it) */

enum check_status { CHECK_OK, CHECK_WARN, CHECK_FAIL, CHECK_SKIP };

struct check {
    char id[CHECK_ID_MAX];
    char title[CHECK_TITLE_MAX];
    enum check_status status;
    char message[CHECK_TEXT_MAX]; /* what was seen: "/data is 97% full (310 MiB free)" */
    char hint[CHECK_TEXT_MAX];    /* what to do; "" when nothing is to be done */
    char detail[CHECK_DETAIL_MAX]; /* optional evidence, several lines; "" when none */
};

struct check_list {
    char subject[CHECK_TITLE_MAX]; /* "system", "service nginx", "deployment dep-1a2b3c4d" */
    struct check items[CHECKS_MAX];
    size_t n;
    char cause[CHECK_TEXT_MAX];  /* the most likely cause; "" when all is well */
    char advice[CHECK_TEXT_MAX]; /* what to try first; "" when all is well */
};

/* Appends a check and returns it, with message formatted from fmt (cut at CHECK_TEXT_MAX)
 * and hint copied (NULL for none), so callers may fill detail afterwards. When the list is
 * full the last slot is reused, so a caller never has to handle a NULL. */
struct check *check_add(struct check_list *l, const char *id, const char *title,
                        enum check_status status, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Appends text and a newline to c->detail, dropping what does not fit (the detail is
 * evidence, cut rather than failed). */
void check_detail_line(struct check *c, const char *text);

/* The worst status of the list (FAIL over WARN over OK; SKIP counts as OK). */
enum check_status check_list_worst(const struct check_list *l);

/* How many checks have status s. */
size_t check_list_count(const struct check_list *l, enum check_status s);

/* The status as a word of the JSON form: "ok", "warn", "fail", "skip". */
const char *check_status_word(enum check_status s);

/* The list as JSON (a new reference, NULL only when out of memory):
 * {"subject", "status": worst word, "checks": [{"id","title","status","message","hint",
 * "detail"}], "cause", "advice", "counts": {"ok","warn","fail","skip"}}. */
json_t *check_list_json(const struct check_list *l);

#endif
