/* The monitor report as one self-contained HTML page: inline CSS and inline SVG charts, no
 * script, no external URL (see mon_report.h).
 *
 * Charts cover the whole period on a time axis with ticks in local time. Each series is cut
 * into at most BUCKETS_MAX buckets of time; a bucket shows its average as the line and its
 * maximum as a light band above it, so a spike shorter than a bucket stays visible. Where the
 * monitor was not running (a gap, see mon_report.h) the line breaks and the background is
 * shaded. Every text from the samples (host, mount points, process names) is escaped. */
#define _GNU_SOURCE
#include "mon_report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "str.h"

#define BUCKETS_MAX 800
#define VIEW_W 1000.0
#define VIEW_H 250.0
#define PLOT_L 62.0
#define PLOT_R_AXIS 58.0 /* right margin with a second axis */
#define PLOT_R 18.0      /* without */
#define PLOT_T 12.0
#define PLOT_B 206.0
#define CHART_DISKS 4
#define TABLE_DISKS 8
#define SERIES_MAX 4

enum axis_kind { AX_PCT, AX_NUM, AX_RATE };

struct axis {
    enum axis_kind kind;
    double max, step;
};

/* A series of a chart: a value per point. */
struct series {
    const char *label;
    const char *color; /* CSS class suffix: c0 .. c9 */
    enum mon_series s; /* the value, unless mount >= 0 */
    int mount;         /* a disk's used %: its mount index */
    int right;         /* on the right axis */
    int noband;        /* the line only (slow series, or a second one on the right) */
    /* buckets */
    double *avg, *max, *tm;
    unsigned char *brk; /* 1: the line breaks before this bucket; 2: empty bucket */
    double top;         /* the highest bucket max */
};

struct frame {
    double t0, t1, x0, x1;
};

/* ---- escaping and small helpers ------------------------------------------------------ */

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static double xof(const struct frame *fr, double t)
{
    return fr->x0 + (t - fr->t0) / (fr->t1 - fr->t0) * (fr->x1 - fr->x0);
}

static double yof(const struct axis *ax, double v)
{
    double y = PLOT_B - v / ax->max * (PLOT_B - PLOT_T);
    return y < PLOT_T ? PLOT_T : y > PLOT_B ? PLOT_B : y;
}

static double value_of(const struct mon_report *r, size_t i, const struct series *s)
{
    if (s->mount < 0)
        return r->p[i].v[s->s];
    const struct mon_point *p = &r->p[i];
    for (size_t j = 0; j < p->ndisks; j++)
        if (r->d[p->disk_off + j].mount == (uint16_t)s->mount)
            return r->d[p->disk_off + j].used_pct;
    return NAN;
}

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* "Tue 18 Nov" in local time. */
static void fmt_day(double t, char *out, size_t cap)
{
    time_t tt = (time_t)floor(t);
    struct tm tm;
    if (localtime_r(&tt, &tm) == NULL) {
        str_copy(out, cap, "?");
        return;
    }
    str_fmt(out, cap, "%s %d %s", wdays[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12]);
}

static long gmtoff(double t)
{
    time_t tt = (time_t)floor(t);
    struct tm tm;
    return localtime_r(&tt, &tm) != NULL ? tm.tm_gmtoff : 0;
}

/* ---- buckets ------------------------------------------------------------------------- */

static int buckets(const struct mon_report *r, const struct frame *fr, size_t nb,
                   struct series *s)
{
    s->avg = calloc(nb, sizeof(double));
    s->max = calloc(nb, sizeof(double));
    s->tm = calloc(nb, sizeof(double));
    s->brk = malloc(nb);
    double *cnt = calloc(nb, sizeof(double));
    if (s->avg == NULL || s->max == NULL || s->tm == NULL || s->brk == NULL || cnt == NULL) {
        free(cnt);
        return -ENOMEM;
    }
    memset(s->brk, 2, nb);
    s->top = 0;
    size_t cur = SIZE_MAX;
    int pending = 0; /* a gap or a missing value since the last bucket */
    for (size_t i = 0; i < r->n; i++) {
        if (mon_report_gap_before(r, i))
            pending = 1;
        double v = value_of(r, i, s);
        if (isnan(v)) {
            pending = 1;
            continue;
        }
        double pos = (r->p[i].t - fr->t0) / (fr->t1 - fr->t0) * (double)nb;
        size_t b = pos < 0 ? 0 : pos >= (double)nb ? nb - 1 : (size_t)pos;
        if (b != cur) {
            s->brk[b] = cur == SIZE_MAX ? 1 : (unsigned char)pending;
            s->max[b] = v;
            cur = b;
        }
        pending = 0;
        s->avg[b] += v;
        s->tm[b] += r->p[i].t;
        cnt[b] += 1;
        if (v > s->max[b])
            s->max[b] = v;
    }
    for (size_t b = 0; b < nb; b++) {
        if (cnt[b] == 0)
            continue;
        s->avg[b] /= cnt[b];
        s->tm[b] /= cnt[b];
        if (s->max[b] > s->top)
            s->top = s->max[b];
    }
    free(cnt);
    return 0;
}

static void series_free(struct series *s)
{
    free(s->avg);
    free(s->max);
    free(s->tm);
    free(s->brk);
    s->avg = s->max = s->tm = NULL;
    s->brk = NULL;
}

/* ---- axes ---------------------------------------------------------------------------- */

/* A step of 1, 2, 2.5 or 5 times a power of ten, at least x. */
static double nice_step(double x)
{
    if (!(x > 0))
        return 1;
    double e = pow(10, floor(log10(x)));
    double f = x / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
}

/* The axis for values up to top: four or five steps; rates in a power of 1024. */
static struct axis axis_for(enum axis_kind kind, double top)
{
    struct axis ax = {kind, 100, 25};
    if (kind == AX_PCT)
        return ax;
    double unit = 1;
    if (kind == AX_RATE)
        while (top / unit >= 1024)
            unit *= 1024;
    ax.step = nice_step(top / unit / 4) * unit;
    ax.max = ceil(top / ax.step - 1e-9) * ax.step;
    if (ax.max <= 0)
        ax.max = ax.step * 4;
    return ax;
}

static void axis_label(const struct axis *ax, double v, char *out, size_t cap)
{
    if (ax->kind == AX_PCT) {
        str_fmt(out, cap, "%.0f%%", v);
    } else if (ax->kind == AX_NUM) {
        str_fmt(out, cap, "%g", round(v * 100) / 100);
    } else {
        static const char *const units[] = {"B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s", "PiB/s"};
        size_t u = 0;
        double x = v;
        while (x >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]))
            x /= 1024, u++;
        str_fmt(out, cap, "%g %s", round(x * 100) / 100, units[u]);
    }
}

/* A tick step for the time axis giving at most ~8 ticks. */
static double time_step(double span)
{
    static const double steps[] = {60,    300,   600,   900,    1800,   3600,   7200,
                                   10800, 21600, 43200, 86400, 172800, 604800, 2419200};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (span / steps[i] <= 8)
            return steps[i];
    return ceil(span / 8 / 2419200) * 2419200;
}

/* Shades the gaps: before the first sample, between samples further apart than a gap,
 * after the last; merged in screen space so there are never more rectangles than pixels. */
static void gaps(FILE *f, const struct mon_report *r, const struct frame *fr)
{
    double open_x = -1, close_x = -1;
    for (size_t i = 0; i <= r->n; i++) {
        double a, b;
        if (i == 0) {
            a = fr->t0, b = r->n > 0 ? r->p[0].t : fr->t1;
        } else if (i == r->n) {
            a = r->p[r->n - 1].t, b = fr->t1;
        } else if (mon_report_gap_before(r, i)) {
            a = r->p[i - 1].t, b = r->p[i].t;
        } else {
            continue;
        }
        double xa = xof(fr, a), xb = xof(fr, b);
        if (xa < fr->x0)
            xa = fr->x0;
        if (xb > fr->x1)
            xb = fr->x1;
        if (xb - xa < 0.5)
            continue;
        if (open_x >= 0 && xa <= close_x + 0.5) {
            close_x = fmax(close_x, xb);
            continue;
        }
        if (open_x >= 0)
            fprintf(f, "<rect class=\"gap\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\"/>",
                    open_x, PLOT_T, close_x - open_x, PLOT_B - PLOT_T);
        open_x = xa, close_x = xb;
    }
    if (open_x >= 0)
        fprintf(f, "<rect class=\"gap\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\"/>",
                open_x, PLOT_T, close_x - open_x, PLOT_B - PLOT_T);
}

static void time_axis(FILE *f, const struct frame *fr)
{
    double span = fr->t1 - fr->t0;
    double step = time_step(span);
    long off = gmtoff(fr->t0);
    double first = ceil((fr->t0 + (double)off) / step) * step - (double)off;
    int ndays = 0;
    for (double t = first; t <= fr->t1 + 1e-6; t += step) {
        /* local midnight moves with daylight saving time: re-anchor each tick */
        double local = t + (double)gmtoff(t);
        double x = xof(fr, t);
        int midnight = fmod(local, 86400.0) < 1;
        char b[48];
        fprintf(f, "<line class=\"vgrid\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>", x,
                PLOT_T, x, PLOT_B);
        if (step >= 86400) {
            fmt_day(t, b, sizeof(b));
            fprintf(f, "<text class=\"tx\" x=\"%.1f\" y=\"%.0f\">%s</text>", x, PLOT_B + 17, b);
            continue;
        }
        time_t tt = (time_t)floor(t);
        struct tm tm;
        if (localtime_r(&tt, &tm) == NULL)
            continue;
        fprintf(f, "<text class=\"tx\" x=\"%.1f\" y=\"%.0f\">%02d:%02d</text>", x, PLOT_B + 17,
                tm.tm_hour, tm.tm_min);
        if (midnight || ndays == 0) {
            fmt_day(t, b, sizeof(b));
            fprintf(f, "<text class=\"tx day\" x=\"%.1f\" y=\"%.0f\">%s</text>", x, PLOT_B + 33,
                    b);
            ndays++;
        }
    }
}

static void value_axis(FILE *f, const struct axis *ax, const struct frame *fr, double x,
                       int right)
{
    for (double v = 0; v <= ax->max * (1 + 1e-9); v += ax->step) {
        char b[48];
        double y = yof(ax, v);
        axis_label(ax, v, b, sizeof(b));
        if (!right)
            fprintf(f, "<line class=\"%s\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>",
                    v == 0 ? "base" : "hgrid", fr->x0, y, fr->x1, y);
        fprintf(f, "<text class=\"ty%s\" x=\"%.0f\" y=\"%.1f\">%s</text>", right ? " r" : "",
                x, y + 4, b);
    }
}

/* ---- series drawing ------------------------------------------------------------------ */

static void draw_band(FILE *f, const struct series *s, const struct frame *fr,
                      const struct axis *ax, size_t nb, size_t a, size_t b)
{
    /* the run of buckets a..b (inclusive, empty ones skipped): max left to right, avg back */
    fprintf(f, "<path class=\"band %s\" d=\"", s->color);
    int first = 1;
    for (size_t i = a; i <= b && i < nb; i++) {
        if (s->brk[i] == 2)
            continue;
        fprintf(f, "%s%.1f %.1f", first ? "M" : "L", xof(fr, s->tm[i]), yof(ax, s->max[i]));
        first = 0;
    }
    for (size_t i = b + 1; i-- > a;) {
        if (s->brk[i] == 2)
            continue;
        fprintf(f, "L%.1f %.1f", xof(fr, s->tm[i]), yof(ax, s->avg[i]));
    }
    fputs("Z\"/>", f);
}

static void draw_series(FILE *f, const struct series *s, const struct frame *fr,
                        const struct axis *ax, size_t nb, int band)
{
    /* runs of buckets without a break */
    size_t run_a = SIZE_MAX, run_n = 0, last = 0;
    for (size_t i = 0; i <= nb; i++) {
        int end = i == nb || (s->brk[i] == 1 && run_a != SIZE_MAX);
        if (end && run_a != SIZE_MAX) {
            if (band)
                draw_band(f, s, fr, ax, nb, run_a, last);
            if (run_n == 1)
                fprintf(f, "<circle class=\"dot %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>",
                        s->color, xof(fr, s->tm[run_a]), yof(ax, s->avg[run_a]));
            run_a = SIZE_MAX;
            run_n = 0;
        }
        if (i == nb || s->brk[i] == 2)
            continue;
        if (run_a == SIZE_MAX)
            run_a = i;
        run_n++;
        last = i;
    }
    fprintf(f, "<path class=\"line %s\" d=\"", s->color);
    int pen = 0;
    for (size_t i = 0; i < nb; i++) {
        if (s->brk[i] == 2)
            continue;
        fprintf(f, "%s%.1f %.1f", !pen || s->brk[i] == 1 ? "M" : "L", xof(fr, s->tm[i]),
                yof(ax, s->avg[i]));
        pen = 1;
    }
    fputs("\"/>", f);
}

/* One chart: a title, a legend, the SVG. Series with right set use the right axis. */
static int chart(FILE *f, const struct mon_report *r, const struct frame *fr0, const char *id,
                 const char *title, const char *note, struct series *s, size_t ns,
                 enum axis_kind lk, enum axis_kind rk, double right_floor)
{
    int has_right = 0, rc = 0;
    size_t nb = r->n < BUCKETS_MAX ? (r->n > 0 ? r->n : 1) : BUCKETS_MAX;
    double ltop = 0, rtop = right_floor;
    for (size_t i = 0; i < ns; i++) {
        if (buckets(r, fr0, nb, &s[i]) != 0) {
            rc = -ENOMEM;
            goto out;
        }
        if (s[i].right)
            has_right = 1, rtop = fmax(rtop, s[i].top);
        else
            ltop = fmax(ltop, s[i].top);
    }
    struct frame fr = *fr0;
    fr.x0 = PLOT_L;
    fr.x1 = VIEW_W - (has_right ? PLOT_R_AXIS : PLOT_R);
    struct axis la = axis_for(lk, ltop), ra = axis_for(rk, rtop);
    fprintf(f, "<section class=\"chart\" id=\"%s\"><div class=\"chead\"><h2>%s</h2>", id,
            title);
    fputs("<div class=\"legend\">", f);
    for (size_t i = 0; i < ns; i++) {
        fprintf(f, "<span><i class=\"sw %s\"></i>", s[i].color);
        esc(f, s[i].label);
        fputs(s[i].right ? " (right axis)</span>" : "</span>", f);
    }
    fprintf(f, "</div></div>");
    if (note != NULL)
        fprintf(f, "<p class=\"note\">%s</p>", note);
    fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", VIEW_W, VIEW_H);
    esc(f, title);
    fputs("\">", f);
    gaps(f, r, &fr);
    value_axis(f, &la, &fr, PLOT_L - 8, 0);
    if (has_right)
        value_axis(f, &ra, &fr, VIEW_W - PLOT_R_AXIS + 8, 1);
    time_axis(f, &fr);
    for (size_t i = 0; i < ns; i++)
        draw_series(f, &s[i], &fr, s[i].right ? &ra : &la, nb, !s[i].noband);
    fputs("</svg></section>\n", f);
out:
    for (size_t i = 0; i < ns; i++)
        series_free(&s[i]);
    return rc;
}

/* ---- page parts ---------------------------------------------------------------------- */

static const char css[] =
    ":root{--bg:#f4f6fa;--card:#fff;--ink:#1c2330;--mute:#667085;--line:#e3e7ee;"
    "--gap:#eef0f4;--c0:#2f6fde;--c1:#e8930c;--c2:#7c4ddb;--c3:#e0457b;--c4:#119f74;"
    "--c5:#0d8fc7;--c6:#e8671a;--c7:#5660d8;--c8:#0f9c92;--c9:#d63a4d}"
    "@media (prefers-color-scheme:dark){:root{--bg:#12151c;--card:#1b2029;--ink:#e6e9ef;"
    "--mute:#98a2b3;--line:#2c3340;--gap:#232935}}"
    "*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);"
    "font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,"
    "sans-serif}main{max-width:1120px;margin:0 auto;padding:28px 20px 40px}"
    "header h1{margin:0 0 2px;font-size:26px;letter-spacing:-.01em}"
    "header .kicker{color:var(--mute);font-size:13px;text-transform:uppercase;"
    "letter-spacing:.08em;margin:0}header p{margin:4px 0;color:var(--mute)}"
    ".covbar{display:block;width:100%;height:14px;margin:10px 0 2px}"
    ".covbar .on{fill:var(--c4)}.covbar .off{fill:var(--line)}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:12px;"
    "margin:20px 0}.card{background:var(--card);border-radius:12px;padding:14px 16px;"
    "box-shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.08)}"
    ".card h3{margin:0;font-size:12px;font-weight:600;color:var(--mute);text-transform:uppercase;"
    "letter-spacing:.06em}.card .big{font-size:26px;font-weight:650;margin:4px 0 2px;"
    "overflow-wrap:anywhere}.card .small{font-size:13px;color:var(--mute);overflow-wrap:anywhere}"
    ".card.warm .big{color:#c77700}.card.hot .big{color:#d12f3f}"
    "section.chart,section.tbl{background:var(--card);border-radius:12px;padding:14px 16px 8px;"
    "margin:14px 0;box-shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.08)}"
    ".chead{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;"
    "gap:6px 18px}h2{font-size:17px;margin:0 0 4px}.legend{font-size:13px;color:var(--mute)}"
    ".legend span{margin-left:14px;white-space:nowrap}.sw{display:inline-block;width:12px;"
    "height:12px;border-radius:3px;margin-right:5px;vertical-align:-1px}"
    ".note{margin:0 0 4px;font-size:13px;color:var(--mute)}"
    "svg{display:block;width:100%;height:auto;overflow:visible}"
    ".gap{fill:var(--gap)}.hgrid,.vgrid{stroke:var(--line);stroke-width:1}"
    ".vgrid{stroke-dasharray:2 3}.base{stroke:var(--mute);stroke-width:1}"
    ".tx,.ty{fill:var(--mute);font-size:12px}.tx{text-anchor:middle}.tx.day{font-weight:600}"
    ".ty{text-anchor:end}.ty.r{text-anchor:start}"
    ".line{fill:none;stroke-width:1.7;stroke-linejoin:round;stroke-linecap:round}"
    ".band{stroke:none;opacity:.22}.dot{stroke:none}"
    ".c0{--c:var(--c0)}.c1{--c:var(--c1)}.c2{--c:var(--c2)}.c3{--c:var(--c3)}"
    ".c4{--c:var(--c4)}.c5{--c:var(--c5)}.c6{--c:var(--c6)}.c7{--c:var(--c7)}"
    ".c8{--c:var(--c8)}.c9{--c:var(--c9)}.line{stroke:var(--c)}.band,.dot{fill:var(--c)}"
    ".sw{background:var(--c)}"
    "table{width:100%;border-collapse:collapse;font-size:14px;margin:6px 0 8px}"
    "th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right;"
    "vertical-align:top}th{font-size:12px;color:var(--mute);font-weight:600;"
    "text-transform:uppercase;letter-spacing:.04em}td:first-child,th:first-child{text-align:"
    "left}td.procs,th.procs{text-align:left;color:var(--mute)}td.when,td.val{white-space:nowrap}"
    ".proc{white-space:nowrap}"
    "tr:last-child td{border-bottom:none}td.hot{color:#d12f3f;font-weight:600}"
    "td.warm{color:#c77700;font-weight:600}footer{color:var(--mute);font-size:12px;"
    "margin-top:18px}";

static const char *heat(double pct)
{
    return isnan(pct) ? "" : pct >= 90 ? "hot" : pct >= 75 ? "warm" : "";
}

/* The coverage strip: the period with the recorded stretches in colour. */
static void coverage_bar(FILE *f, const struct mon_report *r, const struct frame *fr0)
{
    struct frame fr = *fr0;
    fr.x0 = 0;
    fr.x1 = VIEW_W;
    fprintf(f, "<svg class=\"covbar\" viewBox=\"0 0 %.0f 14\" preserveAspectRatio=\"none\" "
               "role=\"img\" aria-label=\"when the monitor was recording\">"
               "<rect class=\"off\" x=\"0\" y=\"0\" width=\"%.0f\" height=\"14\" rx=\"3\"/>",
            VIEW_W, VIEW_W);
    /* one rectangle per stretch the monitor recorded without a gap */
    size_t a = 0;
    for (size_t i = 1; i <= r->n; i++) {
        if (i < r->n && !mon_report_gap_before(r, i))
            continue;
        double xa = xof(&fr, r->p[a].t), xb = xof(&fr, r->p[i - 1].t);
        fprintf(f, "<rect class=\"on\" x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"14\"/>", xa,
                fmax(xb - xa, 1.0));
        a = i;
    }
    fputs("</svg>\n", f);
}

static void header(FILE *f, const struct mon_report *r, const struct frame *fr)
{
    char a[48], b[48], d[48], zone[64], e[48];
    const char *host = r->host[0] ? r->host : "this host";
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<title>Monitor report: ",
          f);
    esc(f, host);
    fprintf(f, "</title><style>%s</style></head>\n<body><main>\n<header>"
               "<p class=\"kicker\">Cloudya monitor report</p><h1>",
            css);
    esc(f, host);
    mon_report_fmt_time(r->start, a, sizeof(a));
    mon_report_fmt_time(r->end, b, sizeof(b));
    mon_report_fmt_duration(r->end - r->start, d, sizeof(d));
    mon_report_fmt_zone(r->end, zone, sizeof(zone));
    fputs("</h1><p>", f);
    esc(f, a);
    fputs(" &rarr; ", f);
    esc(f, b);
    fprintf(f, " (%s) &middot; times in ", d);
    esc(f, zone);
    if (r->ncpu > 0)
        fprintf(f, " &middot; %d CPU%s", r->ncpu, r->ncpu == 1 ? "" : "s");
    fputs("</p>\n", f);
    if (r->n == 0) {
        fputs("<p>", f);
        esc(f, mon_report_empty_reason(r));
        fputs("</p></header>\n", f);
        return;
    }
    double period = r->end - r->start;
    mon_report_fmt_duration(r->recorded_s, d, sizeof(d));
    fprintf(f, "<p>%zu sample%s &middot; %s recorded", r->n, r->n == 1 ? "" : "s", d);
    if (period > 0)
        fprintf(f, " (%.0f%% of the period)", 100.0 * r->recorded_s / period);
    if (r->gaps > 0) {
        mon_report_fmt_duration(r->longest_gap_s, d, sizeof(d));
        mon_report_fmt_time(r->longest_gap_at, e, sizeof(e));
        fprintf(f, " &middot; %zu gap%s, the longest %s from %s", r->gaps,
                r->gaps == 1 ? "" : "s", d, e);
    }
    fputs("</p>\n", f);
    coverage_bar(f, r, fr);
    if (r->skipped > 0 || r->dropped > 0) {
        fputs("<p>", f);
        if (r->skipped > 0)
            fprintf(f, "%zu unreadable line%s skipped. ", r->skipped, r->skipped == 1 ? "" : "s");
        if (r->dropped > 0) {
            mon_report_fmt_time(r->dropped_until, a, sizeof(a));
            fprintf(f, "%zu older samples (until %s) left out to bound memory.", r->dropped, a);
        }
        fputs("</p>\n", f);
    }
    fputs("</header>\n", f);
}

static void card(FILE *f, const char *title, const char *cls, const char *big,
                 const char *small)
{
    fprintf(f, "<div class=\"card %s\"><h3>%s</h3><div class=\"big\">", cls, title);
    esc(f, big);
    fputs("</div><div class=\"small\">", f);
    esc(f, small);
    fputs("</div></div>\n", f);
}

/* A card for the busiest moment of a pair of rates: their sum, then each and when. */
static void peak_card(FILE *f, const struct mon_report *r, const char *title, size_t i,
                      enum mon_series sa, enum mon_series sb, const char *wa, const char *wb)
{
    char big[64], small[160], a[48], b[48], c[48];
    const struct mon_point *p = &r->p[i];
    double sum = (isnan(p->v[sa]) ? 0 : p->v[sa]) + (isnan(p->v[sb]) ? 0 : p->v[sb]);
    mon_report_fmt_value(sa, sum, big, sizeof(big));
    mon_report_fmt_value(sa, p->v[sa], a, sizeof(a));
    mon_report_fmt_value(sb, p->v[sb], b, sizeof(b));
    mon_report_fmt_time(p->t, c, sizeof(c));
    str_fmt(small, sizeof(small), "%s %s, %s %s at %s", a, wa, b, wb, c);
    card(f, title, "", big, small);
}

static void cards(FILE *f, const struct mon_report *r)
{
    char big[MON_NAME_MAX + 64], small[MON_NAME_MAX + 128], a[48], b[48];
    fputs("<section class=\"cards\">\n", f);
    const struct mon_stat *st = &r->stat[MON_CPU];
    if (st->n > 0) {
        mon_report_fmt_time(st->t_max, a, sizeof(a));
        str_fmt(big, sizeof(big), "%.1f%% avg", st->avg);
        str_fmt(small, sizeof(small), "max %.1f%% at %s, p95 %.1f%%", st->max, a, st->p95);
        card(f, "CPU", heat(st->p95), big, small);
    }
    st = &r->stat[MON_MEM];
    if (st->n > 0) {
        const struct mon_point *p = &r->p[r->n - 1];
        mon_report_fmt_bytes(p->mem_total, a, sizeof(a));
        str_fmt(big, sizeof(big), "%.1f%% avg", st->avg);
        str_fmt(small, sizeof(small), "max %.1f%% of %s, p95 %.1f%%", st->max, a, st->p95);
        card(f, "Memory", heat(st->max), big, small);
    }
    size_t m;
    if (mon_report_fullest(r, &m, 1) == 1) {
        const struct mon_mount *mm = &r->mounts[m];
        mon_report_fmt_bytes(mm->avail_at_max, a, sizeof(a));
        mon_report_fmt_bytes(mm->total_at_max, b, sizeof(b));
        str_fmt(big, sizeof(big), "%.1f%% used", mm->used.max);
        str_fmt(small, sizeof(small), "%s at its fullest: %s free of %s", mm->name, a, b);
        card(f, "Fullest disk", heat(mm->used.max), big, small);
    }
    if (r->worst_net != MON_REPORT_NONE)
        peak_card(f, r, "Network peak", r->worst_net, MON_NET_RX, MON_NET_TX, "in", "out");
    if (r->worst_io != MON_REPORT_NONE)
        peak_card(f, r, "Disk I/O peak", r->worst_io, MON_IO_READ, MON_IO_WRITE, "read",
                  "written");
    fputs("</section>\n", f);
}

static int charts(FILE *f, const struct mon_report *r, const struct frame *fr)
{
    int rc = 0;
    struct series cpu[] = {{.label = "CPU used", .color = "c0", .s = MON_CPU, .mount = -1},
                           {.label = "load (1 min)", .color = "c1", .s = MON_LOAD1, .mount = -1,
                            .right = 1, .noband = 1}};
    rc |= chart(f, r, fr, "cpu", "CPU and load", "Line: average; band: the highest value in "
                "each stretch of time; shaded: the monitor was not running.", cpu, 2, AX_PCT,
                AX_NUM, r->ncpu > 0 ? r->ncpu : 1);
    struct series mem[] = {{.label = "memory used", .color = "c2", .s = MON_MEM, .mount = -1},
                           {.label = "swap used", .color = "c3", .s = MON_SWAP, .mount = -1}};
    rc |= chart(f, r, fr, "mem", "Memory and swap", NULL, mem, 2, AX_PCT, AX_PCT, 0);
    size_t idx[CHART_DISKS];
    size_t nd = mon_report_fullest(r, idx, CHART_DISKS);
    if (nd > 0) {
        static const char *const colors[CHART_DISKS] = {"c4", "c5", "c6", "c7"};
        struct series disk[CHART_DISKS];
        for (size_t i = 0; i < nd; i++) {
            memset(&disk[i], 0, sizeof(disk[i]));
            disk[i].label = r->mounts[idx[i]].name;
            disk[i].color = colors[i];
            disk[i].mount = (int)idx[i];
            disk[i].noband = 1;
        }
        rc |= chart(f, r, fr, "disk", "Disk space used",
                    r->nmounts > nd ? "The fullest file systems." : NULL, disk, nd, AX_PCT,
                    AX_PCT, 0);
    }
    struct series io[] = {{.label = "read", .color = "c8", .s = MON_IO_READ, .mount = -1},
                          {.label = "write", .color = "c9", .s = MON_IO_WRITE, .mount = -1}};
    if (r->stat[MON_IO_READ].n + r->stat[MON_IO_WRITE].n > 0)
        rc |= chart(f, r, fr, "io", "Disk I/O", "All block devices together.", io, 2, AX_RATE,
                    AX_RATE, 0);
    struct series net[] = {{.label = "received", .color = "c4", .s = MON_NET_RX, .mount = -1},
                           {.label = "sent", .color = "c7", .s = MON_NET_TX, .mount = -1}};
    if (r->stat[MON_NET_RX].n + r->stat[MON_NET_TX].n > 0)
        rc |= chart(f, r, fr, "net", "Network", "All interfaces but loopback together.", net, 2,
                    AX_RATE, AX_RATE, 0);
    return rc;
}

static void stat_row(FILE *f, const char *label, enum mon_series s, const struct mon_stat *st,
                     int pct)
{
    char b[48];
    fputs("<tr><td>", f);
    esc(f, label);
    fputs("</td>", f);
    if (st->n == 0) {
        fputs("<td>-</td><td>-</td><td>-</td><td>-</td><td class=\"when\">-</td></tr>\n", f);
        return;
    }
    const double v[4] = {st->min, st->avg, st->max, st->p95};
    for (int i = 0; i < 4; i++) {
        mon_report_fmt_value(s, v[i], b, sizeof(b));
        fprintf(f, "<td class=\"%s\">%s</td>", pct && i >= 2 ? heat(v[i]) : "", b);
    }
    mon_report_fmt_time(st->t_max, b, sizeof(b));
    fprintf(f, "<td class=\"when\">%s</td></tr>\n", b);
}

static void stats_table(FILE *f, const struct mon_report *r)
{
    fputs("<section class=\"tbl\" id=\"stats\"><h2>Statistics</h2><table><thead><tr>"
          "<th>Metric</th><th>min</th><th>avg</th><th>max</th><th>p95</th>"
          "<th>max at</th></tr></thead><tbody>\n",
          f);
    for (int s = 0; s < MON_SERIES_N; s++)
        stat_row(f, mon_series_label((enum mon_series)s), (enum mon_series)s, &r->stat[s],
                 s == MON_CPU || s == MON_MEM || s == MON_SWAP);
    size_t idx[TABLE_DISKS];
    size_t nd = mon_report_fullest(r, idx, TABLE_DISKS);
    for (size_t i = 0; i < nd; i++) {
        char label[MON_NAME_MAX + 32];
        const struct mon_mount *mm = &r->mounts[idx[i]];
        str_fmt(label, sizeof(label), "Disk %s used", mm->name);
        stat_row(f, label, MON_MEM, &mm->used, 1);
        if (mm->inodes.n > 0) {
            str_fmt(label, sizeof(label), "Disk %s inodes", mm->name);
            stat_row(f, label, MON_MEM, &mm->inodes, 1);
        }
    }
    fputs("</tbody></table></section>\n", f);
}

/* The top processes of a moment: "python3 352.3% · nginx 3.5%", by CPU or by memory. */
static void procs_cell(FILE *f, const struct mon_report *r, const struct mon_point *p, int mem)
{
    fputs("<td class=\"procs\">", f);
    for (size_t i = 0; i < p->ntop; i++) {
        const struct mon_rtop *t = &p->top[i];
        double v = mem ? t->mem_pct : t->cpu;
        if (i > 0)
            fputs(" &middot; ", f);
        fputs("<span class=\"proc\">", f);
        esc(f, mon_report_name(r, t->name));
        if (!isnan(v))
            fprintf(f, " %.1f%%", v);
        fputs("</span>", f);
    }
    fputs(p->ntop == 0 ? "-</td>" : "</td>", f);
}

static void moment_row(FILE *f, const struct mon_report *r, const char *what,
                       const char *value, const char *cls, size_t i, int mem)
{
    char b[48];
    mon_report_fmt_time(r->p[i].t, b, sizeof(b));
    fputs("<tr><td>", f);
    esc(f, what);
    fprintf(f, "</td><td class=\"val %s\">", cls);
    esc(f, value);
    fprintf(f, "</td><td class=\"when\">%s</td>", b);
    procs_cell(f, r, &r->p[i], mem);
    fputs("</tr>\n", f);
}

static void worst_table(FILE *f, const struct mon_report *r)
{
    char v[MON_NAME_MAX + 96], a[48], b[48];
    fputs("<section class=\"tbl\" id=\"worst\"><h2>Worst moments</h2><table><thead><tr>"
          "<th>What</th><th>Value</th><th>When</th><th class=\"procs\">Top processes then "
          "(CPU; memory for memory)</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < r->nworst_cpu; i++) {
        double x = r->p[r->worst_cpu[i]].v[MON_CPU];
        mon_report_fmt_value(MON_CPU, x, v, sizeof(v));
        moment_row(f, r, "CPU", v, heat(x), r->worst_cpu[i], 0);
    }
    for (size_t i = 0; i < r->nworst_mem; i++) {
        double x = r->p[r->worst_mem[i]].v[MON_MEM];
        mon_report_fmt_value(MON_MEM, x, v, sizeof(v));
        moment_row(f, r, "Memory", v, heat(x), r->worst_mem[i], 1);
    }
    if (r->worst_disk != MON_REPORT_NONE) {
        const struct mon_rdisk *d = &r->d[r->worst_disk];
        mon_report_fmt_bytes(d->avail, a, sizeof(a));
        str_fmt(v, sizeof(v), "%.1f%% (%s free)", d->used_pct, a);
        char what[MON_NAME_MAX + 32];
        str_fmt(what, sizeof(what), "Disk %s", r->mounts[d->mount].name);
        moment_row(f, r, what, v, heat(d->used_pct), r->worst_disk_point, 0);
    }
    if (r->worst_net != MON_REPORT_NONE) {
        const struct mon_point *p = &r->p[r->worst_net];
        mon_report_fmt_value(MON_NET_RX, p->v[MON_NET_RX], a, sizeof(a));
        mon_report_fmt_value(MON_NET_TX, p->v[MON_NET_TX], b, sizeof(b));
        str_fmt(v, sizeof(v), "in %s, out %s", a, b);
        moment_row(f, r, "Busiest network", v, "", r->worst_net, 0);
    }
    if (r->worst_io != MON_REPORT_NONE) {
        const struct mon_point *p = &r->p[r->worst_io];
        mon_report_fmt_value(MON_IO_READ, p->v[MON_IO_READ], a, sizeof(a));
        mon_report_fmt_value(MON_IO_WRITE, p->v[MON_IO_WRITE], b, sizeof(b));
        str_fmt(v, sizeof(v), "read %s, write %s", a, b);
        moment_row(f, r, "Busiest disk I/O", v, "", r->worst_io, 0);
    }
    fputs("</tbody></table></section>\n", f);
}

int mon_report_html(const struct mon_report *r, FILE *f)
{
    struct frame fr = {r->start, r->end, PLOT_L, VIEW_W - PLOT_R};
    if (!(fr.t1 > fr.t0)) { /* one instant: a minute around it */
        fr.t0 -= 30;
        fr.t1 = fr.t0 + 60;
    }
    int rc = 0;
    header(f, r, &fr);
    if (r->n > 0) {
        cards(f, r);
        rc = charts(f, r, &fr);
        stats_table(f, r);
        worst_table(f, r);
    }
    fprintf(f, "<footer>Made by <code>cloudya monitor report</code> from %zu line%s in %zu "
               "file%s of the monitor's history.</footer>\n</main></body></html>\n",
            r->lines, r->lines == 1 ? "" : "s", r->files, r->files == 1 ? "" : "s");
    if (rc != 0)
        return rc;
    return ferror(f) ? -EIO : 0;
}
