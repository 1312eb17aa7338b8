/* `cloudya monitor`: the host (or one service) sampled every --interval seconds, from /proc
 * and statvfs (src/host/): a live full screen on a terminal, one JSON line per sample
 * otherwise or with --output json. Every run records its host samples in ~/.cloudya/monitor/
 * (mon_history.h: bounded and rotated), which `cloudya monitor report` turns into a text summary
 * or a self-contained HTML report. */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dv_config.h"
#include "mon_history.h"
#include "hostprobe.h"
#include "monitor_screen.h"
#include "output.h"
#include "mon_report.h"
#include "service.h"
#include "str.h"
#include "term.h"
#include "timeutil.h"

#define PROC_ROOT "/proc"
#define INTERVAL_DEFAULT 2.0
#define INTERVAL_MIN 0.2
#define INTERVAL_MAX 86400.0
#define COUNT_MAX 100000000
#define TOP_JSON 10      /* processes in a JSON line */
#define TOP_SCREEN 400   /* processes handed to the screen (it scrolls) */
#define FIRST_FRAME_MS 500 /* the screen's first figures come this soon */
#define KEY_WAIT_MS 100
#define DAYS_DEFAULT 7
#define DAYS_MAX 366
#define SERVICE_LOG_LINES 50

struct mon {
    struct cli_ctx *ctx;
    double interval;
    long long count; /* samples to take; 0: until stopped */
    const char *service;
    int screen;
    struct mscreen scr;
    struct host_reading *prev, *cur;
    struct mon_history *hist;
    int hist_warned;
    /* --service */
    int last_main_pid;
    long long restarts_seen;
};

/* ---- the history -------------------------------------------------------------------------- */

static void history_open(struct mon *m, int record)
{
    char err[512];
    if (!record)
        return;
    struct mon_history_limits lim = mon_history_limits_default();
    if (mon_history_open(m->ctx->home, &lim, &m->hist, err, sizeof(err)) != 0) {
        m->hist = NULL;
        if (m->screen)
            str_fmt(m->scr.note, sizeof(m->scr.note), "not recording: %s", err);
        else
            fprintf(stderr, "cloudya: warning: not recording the samples: %s\n", err);
    }
}

static void history_add(struct mon *m, const json_t *sample)
{
    char err[512];
    if (m->hist == NULL)
        return;
    int rc = mon_history_add(m->hist, sample, err, sizeof(err));
    if (rc == MON_HISTORY_DAY_FULL)
        str_fmt(err, sizeof(err), "today's history file is full; samples are recorded "
                "again tomorrow");
    else if (rc >= 0 || m->hist_warned)
        return;
    m->hist_warned = 1; /* the monitor goes on; the user is told once */
    if (m->screen)
        str_fmt(m->scr.note, sizeof(m->scr.note), "history not written: %s", err);
    else
        fprintf(stderr, "cloudya: warning: the history could not be written: %s\n", err);
}

/* ---- one sample --------------------------------------------------------------------------- */

/* Reads the host into m->cur and returns the sample over m->prev (a new reference), then
 * swaps them: m->prev is the new reading and m->cur the one before (kept until the next
 * read, for the service's CPU shares). NULL after printing why when the host cannot be read. */
static json_t *host_sample(struct mon *m, int top_n)
{
    host_reading_free(m->cur);
    int rc = host_read(PROC_ROOT, m->cur);
    if (rc != 0) {
        if (m->screen)
            term_screen_end();
        cli_fail(m->ctx, "cannot read the host's figures from %s: %s", PROC_ROOT, strerror(-rc));
        return NULL;
    }
    json_t *s = host_sample_json(m->prev, m->cur, top_n);
    struct host_reading *t = m->prev;
    m->prev = m->cur;
    m->cur = t;
    if (s == NULL)
        cli_fail(m->ctx, "out of memory");
    return s;
}

/* The service's figures over the processes of the last two host readings (a new
 * reference); restarts seen during this run counted from changes of its main process. */
static json_t *service_sample(struct mon *m)
{
    json_t *info = service_info_json_now(m->service, &m->prev->procs, &m->cur->procs,
                                         m->prev->mono - m->cur->mono, SERVICE_LOG_LINES);
    if (info == NULL)
        return NULL;
    int main_pid = (int)json_integer_value(json_object_get(info, "main_pid"));
    if (main_pid > 0 && m->last_main_pid > 0 && main_pid != m->last_main_pid)
        m->restarts_seen++;
    if (main_pid > 0)
        m->last_main_pid = main_pid;
    json_object_set_new(info, "restarts_seen", json_integer(m->restarts_seen));
    return info;
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* Waits until the monotonic deadline (ms), handling keys on the screen. Returns 1 to stop
 * (q, Ctrl+C, SIGTERM), 0 when the time came. */
static int wait_until(struct mon *m, int64_t deadline, const json_t *shown, int service)
{
    for (;;) {
        int64_t left = deadline - time_mono_ms();
        if (left <= 0)
            return 0;
        if (!m->screen) {
            struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (term_interrupted())
            return 1;
        timeout(left < KEY_WAIT_MS ? (int)left : KEY_WAIT_MS);
        int k = getch();
        if (term_resized())
            k = KEY_RESIZE;
        if (k == ERR)
            continue;
        if (mscreen_key(&m->scr, k))
            return 1;
        if (shown != NULL) {
            if (service)
                mscreen_draw_service(&m->scr, shown);
            else
                mscreen_draw_host(&m->scr, shown);
        }
    }
}

static int emit_line(const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (text == NULL)
        return -ENOMEM;
    int rc = puts(text) < 0 || fflush(stdout) != 0 ? -EIO : 0;
    free(text);
    return rc;
}

static int run(struct mon *m)
{
    json_t *shown = NULL;
    int rc = 0, service = m->service != NULL;
    int64_t start = time_mono_ms();
    /* the first reading: rates need two */
    if (host_read(PROC_ROOT, m->prev) != 0)
        return cli_fail(m->ctx, "cannot read the host's figures from %s", PROC_ROOT);
    if (m->screen) {
        mscreen_init(&m->scr);
        mscreen_draw_host(&m->scr, NULL);
    }
    int64_t next = start + (m->screen ? FIRST_FRAME_MS : (int64_t)(m->interval * 1000));
    for (long long n = 0; m->count == 0 || n < m->count; n++) {
        if (wait_until(m, next, shown, service)) {
            rc = term_interrupted() ? 130 : 0;
            break;
        }
        json_t *sample = host_sample(m, m->screen && !service ? TOP_SCREEN : TOP_JSON);
        if (sample == NULL) {
            rc = 1;
            break;
        }
        history_add(m, sample);
        json_t *out = sample;
        if (service) {
            out = service_sample(m);
            json_decref(sample);
            if (out == NULL) {
                rc = cli_fail(m->ctx, "out of memory");
                break;
            }
        }
        if (m->screen) {
            if (service)
                mscreen_draw_service(&m->scr, out);
            else
                mscreen_draw_host(&m->scr, out);
        } else if (emit_line(out) != 0) {
            json_decref(out);
            rc = 1; /* a closed pipe: the reader is gone */
            break;
        }
        json_decref(shown);
        shown = out;
        next += (int64_t)(m->interval * 1000);
        if (next < time_mono_ms())
            next = time_mono_ms(); /* a slow read: no burst to catch up */
    }
    json_decref(shown);
    return rc;
}

/* ---- the commands ------------------------------------------------------------------------- */

static int parse_common(struct cli_ctx *ctx, const struct cli_args *a, struct mon *m)
{
    const char *iv = cli_value(a, "interval"), *cv = cli_value(a, "count");
    int64_t n = 0;
    m->interval = INTERVAL_DEFAULT;
    if (iv != NULL && str_to_double(iv, INTERVAL_MIN, INTERVAL_MAX, &m->interval) != 0)
        return cli_usage_error(ctx, a->cmd, "--interval takes a number of seconds from %g to %g, "
                               "not \"%.40s\"", INTERVAL_MIN, INTERVAL_MAX, iv);
    if (cv != NULL && str_to_int64(cv, 1, COUNT_MAX, &n) != 0)
        return cli_usage_error(ctx, a->cmd, "--count takes a number of samples from 1 to %d, "
                               "not \"%.40s\"", COUNT_MAX, cv);
    m->count = n;
    return 0;
}

static int cmd_monitor(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct mon m;
    memset(&m, 0, sizeof(m));
    m.ctx = ctx;
    int rc = parse_common(ctx, a, &m);
    if (rc != 0)
        return rc;
    m.service = cli_value(a, "service");
    if (m.service != NULL) {
        char why[1024];
        if (service_name_check(m.service, why, sizeof(why)) != 0)
            return cli_usage_error(ctx, a->cmd, "%s", why);
        /* a clear answer at once when there is no such service */
        if (service_exists(m.service, why, sizeof(why)) == 0)
            return cli_fail(ctx, "%s", why);
    }
    m.prev = host_reading_new();
    m.cur = host_reading_new();
    if (m.prev == NULL || m.cur == NULL) {
        free(m.prev);
        free(m.cur);
        return cli_fail(ctx, "out of memory");
    }
    m.scr.interval = m.interval;
    m.scr.color = ctx->color;
    m.screen = !ctx->json && ctx->tty_out && ctx->tty_in && term_screen_begin(KEY_WAIT_MS) == 0;
    history_open(&m, !cli_has(a, "no-record"));
    rc = run(&m);
    if (m.screen)
        term_screen_end();
    mon_history_close(m.hist);
    host_reading_free(m.prev);
    host_reading_free(m.cur);
    free(m.prev);
    free(m.cur);
    return rc;
}

static int cmd_monitor_report(struct cli_ctx *ctx, const struct cli_args *a)
{
    const char *dv = cli_value(a, "days"), *out = cli_value(a, "output");
    int64_t days = DAYS_DEFAULT;
    char err[1024];
    if (dv != NULL && str_to_int64(dv, 1, DAYS_MAX, &days) != 0)
        return cli_usage_error(ctx, a->cmd, "--days takes a number of days from 1 to %d, not "
                               "\"%.40s\"", DAYS_MAX, dv);
    int json = out != NULL && strcmp(out, "json") == 0;
    int html = out != NULL && !json && strcmp(out, "table") != 0;
    if (html && out[0] == '\0')
        return cli_usage_error(ctx, a->cmd, "--output takes a file name (or json, or table)");
    int64_t until = time_now(), since = until - days * 86400;
    struct mon_report *r = NULL;
    if (mon_report_load(ctx->home, (double)since, (double)until, &r, err, sizeof(err)) != 0)
        return cli_fail(ctx, "%s", err);
    int rc = 0;
    if (mon_report_count(r) == 0) {
        rc = cli_fail(ctx, "%s", mon_report_empty_reason(r));
        goto out;
    }
    if (json) {
        rc = cli_emit(mon_report_json(r));
        goto out;
    }
    if (!html) {
        rc = mon_report_text(r, stdout, ctx->color) != 0 ? 1 : 0;
        goto out;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }
    int hr = mon_report_html(r, mem);
    if (fclose(mem) != 0 || hr != 0) {
        free(buf);
        rc = cli_fail(ctx, "the report could not be made (out of memory)");
        goto out;
    }
    if (strcmp(out, "-") == 0) {
        rc = fwrite(buf, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
    } else if (dv_write_file(out, buf, len, 0644, err, sizeof(err)) != 0) {
        rc = cli_fail(ctx, "%s", err);
    } else {
        char sz[32];
        fmt_bytes(len, sz, sizeof(sz));
        printf("wrote %s (%s): %zu samples over the last %lld day%s; open it in a browser\n",
               out, sz, mon_report_count(r), (long long)days, days == 1 ? "" : "s");
    }
    free(buf);
out:
    mon_report_free(r);
    return rc;
}

static const struct cli_flag monitor_flags[] = {
    {"service", 's', CLI_VALUE, "NAME", "watch one service (systemd unit or process name)", NULL},
    {"interval", 'i', CLI_VALUE, "N", "seconds between two samples (default 2; decimals allowed)",
     NULL},
    {"count", 'n', CLI_VALUE, "N", "stop after N samples (default: until q or Ctrl+C)", NULL},
    {"no-record", 0, CLI_BOOL, NULL, "do not record the samples in ~/.cloudya/monitor/", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static const struct cli_flag report_flags[] = {
    {"days", 'd', CLI_VALUE, "N", "the period: the last N days (default 7)", NULL},
    {"output", 'o', CLI_VALUE, "FILE",
     "write the HTML report to FILE (- for standard output); json or table print the summary",
     NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

const struct cli_command cli_monitor_commands[] = {
    {"monitor", "Monitoring and diagnosis", "", 0, 0, monitor_flags,
     "a live view of this machine (or of one service) from /proc",
     "Samples this machine every --interval seconds: CPU in total and per core, load, memory "
     "and swap, every file system's usage, disk I/O and network rates, and the processes using "
     "the most CPU (c) or memory (m). On a terminal it is a full screen (q or Ctrl+C leaves); "
     "without one, or with --output json, it prints one JSON line per sample. With --service "
     "NAME it shows that service instead: its processes (its systemd unit when systemd runs, "
     "else the processes of that name), their CPU and memory, the ports they listen on, its "
     "restarts, uptime and recent log lines. Every run records the host's samples (at most one "
     "every 5 s) in ~/.cloudya/monitor/, kept 35 days and 256 MiB at most, for `cloudya monitor "
     "report`; --no-record turns that off.",
     "  cloudya monitor\n  cloudya monitor --interval 5\n"
     "  cloudya monitor --service nginx --interval 10\n"
     "  cloudya monitor --count 3 --output json | jq .cpu.total",
     0, 1, CLI_COMPLETE_NONE, NULL, cmd_monitor},
    {"monitor report", "Monitoring and diagnosis", "", 0, 0, report_flags,
     "a report of the recorded samples: text, or HTML with charts",
     "Summarises the samples `cloudya monitor` recorded over the last --days days: coverage, "
     "minimum, average, maximum and 95th percentile of CPU, load, memory, swap, each file "
     "system, disk I/O and network, and the worst moments with the processes busy then. "
     "Without --output it prints a text summary; with --output FILE.html it writes a "
     "self-contained HTML page (charts drawn in inline SVG, no script, nothing fetched) to "
     "open in any browser; --output json prints the summary as JSON.",
     "  cloudya monitor report --days 7\n  cloudya monitor report --days 30 --output "
     "rapport.html\n  cloudya monitor report --output json",
     0, 0, CLI_COMPLETE_NONE, NULL, cmd_monitor_report},
    {0},
};
