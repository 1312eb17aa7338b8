/* `cloudya top`: every container of the account with its CPU, memory, network and
 * processes, live. The list comes from GET /api/containers?stats=1; the figures then come
 * from the daemon's live channel (GET /api/ws, topics stats and events of the whole
 * tenant), and a lifecycle event makes the list be fetched again (at most once a second).
 * When the live channel drops, the footer says why, it is tried again every 2 s, and the
 * list with its figures is polled every second meanwhile, so nothing freezes. Without a
 * terminal, or with --output json, one snapshot is printed (like `docker stats
 * --no-stream`). The terminal is term.c's: every way out goes through term_screen_end. */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "client.h"
#include "output.h"
#include "str.h"
#include "term.h"
#include "timeutil.h"
#include "wsclient.h"

#define ROWS_MAX 4096 /* containers shown; more are left out */
#define ID_LEN 80     /* a container id (the Engine's: 64 hex) */
#define NAME_LEN 128  /* a container name */
#define STATUS_LEN 24
#define SERVICE_LEN 48
#define WHY_MAX 320        /* the footer's sentence */
#define LINE_MAX_COLS 1024 /* one line of the screen */
#define LIST_PATH "/api/containers?stats=1"
#define WS_PATH "/api/ws"
#define WS_CONNECT_MS 2000    /* connecting may hold the screen this long */
#define RECONNECT_MS 2000     /* between two tries of the live channel */
#define POLL_MS 1000          /* polling the list while the live channel is down */
#define REFETCH_MIN_MS 1000   /* lists fetched because of events: at most one a second */
#define REDRAW_MIN_MS 250     /* at most four drawings a second... */
#define REDRAW_MAX_MS 1000    /* ...and at least one */
#define WAIT_MS 100           /* one turn of the loop: key latency */
#define BURST_MAX 1000        /* messages handled in one turn before keys are read again */
#define HTTP_TIMEOUT_S 10     /* the first list */
#define LIVE_HTTP_TIMEOUT_S 3 /* lists fetched while the screen is up: it waits meanwhile */
#define CPU_HOT 80.0          /* CPU% above this is drawn in red */

enum sort_key { SORT_CPU, SORT_MEM, SORT_NAME };

struct row {
    char id[ID_LEN], name[NAME_LEN], status[STATUS_LEN], service[SERVICE_LEN];
    int have; /* figures known */
    double cpu, mem_pct;
    uint64_t mem, mem_limit, rx, tx, pids;
};

struct top {
    struct cli_ctx *ctx;
    struct row *rows;
    size_t n;
    enum sort_key sort;
    int reverse, scroll, color;
    struct wsc *ws;
    char ws_why[WHY_MAX]; /* why the live channel is down, "" while it is up */
    char note[WHY_MAX];   /* the last failure of a list fetch, "" after a good one */
    int64_t next_connect, last_fetch, last_draw;
    int refetch, dirty;
    int fatal; /* a 401: top ends and says so with api_fail */
    struct api_resp fatal_resp;
};

/* ---- the rows ---------------------------------------------------------------------------- */

/* Copies text from the daemon for the screen: control characters become '?'. */
static void copy_clean(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    if (s == NULL) s = "-";
    for (; *s != '\0' && n + 1 < cap; s++)
        out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0xc0)
        n--; /* a lead byte cut from its sequence */
    out[n] = '\0';
}

static double num2(json_t *o, const char *a, const char *b)
{
    return json_number_value(json_object_get(json_object_get(o, a), b));
}

static uint64_t count2(json_t *o, const char *a, const char *b)
{
    double v = num2(o, a, b);
    return v > 0 && v < 1.8e19 ? (uint64_t)v : 0;
}

/* Takes the figures of a stats object (the seed's shape); null or not an object: none. */
static void row_stats(struct row *r, json_t *s)
{
    if (!json_is_object(s)) {
        r->have = 0;
        return;
    }
    r->have = 1;
    r->cpu = num2(s, "cpu", "usage");
    r->mem = count2(s, "memory", "usage");
    r->mem_limit = count2(s, "memory", "limit");
    r->mem_pct = num2(s, "memory", "percent");
    r->rx = count2(s, "network", "rxBytes");
    r->tx = count2(s, "network", "txBytes");
    r->pids = count2(s, "pids", "current");
}

static int running(const struct row *r)
{
    return strcmp(r->status, "running") == 0;
}

/* Exited, dead, and the daemon's own words for them (as `cloudya ps` colours them). */
static int stopped(const char *status)
{
    return strcmp(status, "exited") == 0 || strcmp(status, "dead") == 0 ||
           strcmp(status, "stopped") == 0 || strcmp(status, "missing") == 0;
}

static struct row *row_find(struct top *t, const char *id)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].id, id) == 0) return &t->rows[i];
    return NULL;
}

/* Replaces the rows with a list answer. Figures a row had (from the live channel) are kept
 * when the list has none for a running container. */
static void rows_take(struct top *t, json_t *list)
{
    size_t cap = json_array_size(list) < ROWS_MAX ? json_array_size(list) : ROWS_MAX;
    struct row *rows = calloc(cap > 0 ? cap : 1, sizeof(*rows));
    size_t n = 0, i;
    json_t *c;
    if (rows == NULL) return;
    json_array_foreach(list, i, c)
    {
        if (n == cap) break;
        const char *id = json_string_value(json_object_get(c, "id"));
        if (id == NULL) continue;
        struct row *r = &rows[n++];
        copy_clean(r->id, sizeof(r->id), id);
        copy_clean(r->name, sizeof(r->name), json_string_value(json_object_get(c, "name")));
        copy_clean(r->status, sizeof(r->status), json_string_value(json_object_get(c, "status")));
        copy_clean(r->service, sizeof(r->service),
                   json_string_value(json_object_get(c, "serviceType")));
        row_stats(r, json_object_get(c, "stats"));
        struct row *old = row_find(t, r->id);
        if (!r->have && old != NULL && old->have && running(r)) {
            struct row keep = *r;
            *r = *old;
            memcpy(r->name, keep.name, sizeof(r->name));
            memcpy(r->status, keep.status, sizeof(r->status));
            memcpy(r->service, keep.service, sizeof(r->service));
        }
    }
    free(t->rows);
    t->rows = rows;
    t->n = n;
}

static int by_key(const void *pa, const void *pb, void *arg)
{
    const struct top *t = arg;
    const struct row *a = pa, *b = pb;
    int c = 0;
    if (t->sort == SORT_CPU || t->sort == SORT_MEM) {
        /* figures first, the largest on top; then the rest by name */
        double va = !a->have ? -1 : t->sort == SORT_CPU ? a->cpu : (double)a->mem;
        double vb = !b->have ? -1 : t->sort == SORT_CPU ? b->cpu : (double)b->mem;
        c = va < vb ? 1 : va > vb ? -1 : 0;
    }
    if (c == 0) c = strcmp(a->name, b->name);
    return t->reverse ? -c : c;
}

static void rows_sort(struct top *t)
{
    qsort_r(t->rows, t->n, sizeof(*t->rows), by_key, t);
}

/* ---- the daemon -------------------------------------------------------------------------- */

/* Fetches the list. Returns 0 (rows replaced), -1 when it failed for now (t->note says
 * why) or 1 for a 401 (t->fatal, the answer kept for api_fail). */
static int fetch(struct top *t)
{
    struct api_resp r;
    t->last_fetch = time_mono_ms();
    t->refetch = 0;
    int cr = api_call(t->ctx, "GET", LIST_PATH, NULL, 1, LIVE_HTTP_TIMEOUT_S, &r);
    if (cr == 0 && r.status == 401) {
        t->fatal = 1;
        t->fatal_resp = r; /* freed after api_fail */
        return 1;
    }
    if (cr != 0 || r.status != 200 || !json_is_array(r.body)) {
        const char *e = json_string_value(json_object_get(r.body, "error"));
        if (cr != 0)
            str_fmt(t->note, sizeof(t->note), "%s", r.err);
        else if (e != NULL)
            str_fmt(t->note, sizeof(t->note), "the list failed (HTTP %ld): %.200s", r.status, e);
        else
            str_fmt(t->note, sizeof(t->note), "the list failed (HTTP %ld)", r.status);
        api_resp_free(&r);
        t->dirty = 1;
        return -1;
    }
    rows_take(t, r.body);
    t->note[0] = '\0';
    t->dirty = 1;
    api_resp_free(&r);
    return 0;
}

static void live_down(struct top *t, const char *why)
{
    str_fmt(t->ws_why, sizeof(t->ws_why), "%s", why);
    wsc_close(t->ws);
    t->ws = NULL;
    t->next_connect = time_mono_ms() + RECONNECT_MS;
    t->dirty = 1;
}

/* Opens the live channel and subscribes to the tenant's stats and events. */
static void live_up(struct top *t)
{
    static const char sub_stats[] = "{\"type\":\"subscribe\",\"topic\":\"stats\"}";
    static const char sub_events[] = "{\"type\":\"subscribe\",\"topic\":\"events\"}";
    char err[WHY_MAX] = "";
    t->ws = wsc_connect(t->ctx->api_url, WS_PATH, t->ctx->token, WS_CONNECT_MS, err, sizeof(err));
    if (t->ws == NULL) {
        live_down(t, err);
        if (strstr(err, "(HTTP 401") != NULL)
            t->refetch = 1; /* the list's 401 ends top with the usual sentence */
        return;
    }
    if (wsc_send_text(t->ws, sub_stats, sizeof(sub_stats) - 1) != 0 ||
        wsc_send_text(t->ws, sub_events, sizeof(sub_events) - 1) != 0) {
        live_down(t, wsc_error(t->ws));
        return;
    }
    t->ws_why[0] = '\0';
    t->refetch = 1; /* what changed while the channel was down */
    t->dirty = 1;
}

/* One message of the live channel. */
static void live_message(struct top *t, const char *text, size_t len)
{
    json_error_t je;
    json_t *m = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *id = json_string_value(json_object_get(m, "containerId"));
    if (type == NULL) goto out;
    if (strcmp(type, "stats") == 0 && id != NULL) {
        struct row *r = row_find(t, id);
        if (r == NULL) {
            t->refetch = 1; /* a container the list does not have yet */
            goto out;
        }
        row_stats(r, json_object_get(m, "data"));
        if (r->have && !running(r)) str_copy(r->status, sizeof(r->status), "running");
        t->dirty = 1;
    } else if (strcmp(type, "event") == 0) {
        t->refetch = 1; /* create, start, die, stop, destroy, rename... */
    } else if (strcmp(type, "error") == 0) {
        const char *e = json_string_value(json_object_get(m, "error"));
        char clean[WHY_MAX - 32];
        copy_clean(clean, sizeof(clean), e);
        str_fmt(t->note, sizeof(t->note), "the live channel says: %s", clean);
        t->dirty = 1;
    }
out:
    json_decref(m);
}

/* ---- drawing ----------------------------------------------------------------------------- */

enum { PAIR_GREEN = 1, PAIR_RED, PAIR_YELLOW };

static int status_attr(const struct top *t, const char *status)
{
    if (!t->color) return 0;
    if (strcmp(status, "running") == 0) return (int)COLOR_PAIR(PAIR_GREEN);
    if (stopped(status)) return (int)COLOR_PAIR(PAIR_RED);
    return (int)COLOR_PAIR(PAIR_YELLOW);
}

/* Writes s at (y, x) in at most width columns (names are cut, never wrapped). */
static void put(int y, int x, int width, const char *s, int right)
{
    char cell[LINE_MAX_COLS];
    if (width <= 0 || x >= COLS) return;
    if (x + width > COLS) width = COLS - x;
    size_t len = strlen(s), w = text_width(s);
    if (w > (size_t)width) { /* cut to width - 1 columns and mark it */
        size_t n = 0, cols = 0;
        while (n < len && cols + 1 < (size_t)width) {
            n++;
            while (n < len && ((unsigned char)s[n] & 0xc0) == 0x80)
                n++;
            cols++;
        }
        snprintf(cell, sizeof(cell), "%.*s~", (int)n, s);
        mvaddstr(y, x, cell);
        return;
    }
    mvaddstr(y, right ? x + width - (int)w : x, s);
}

struct col {
    const char *head;
    int width, right;
};

enum { C_NAME, C_STATUS, C_CPU, C_MEMU, C_MEMP, C_RX, C_TX, C_PIDS, C_SERVICE, NCOLS };

static void draw(struct top *t)
{
    struct col cols[NCOLS] = {
        {"NAME", 0, 0},    {"STATUS", 10, 0}, {"CPU%", 7, 1}, {"MEM", 10, 1},     {"MEM%", 6, 1},
        {"NET RX", 10, 1}, {"NET TX", 10, 1}, {"PIDS", 6, 1}, {"SERVICE", 12, 0},
    };
    char line[LINE_MAX_COLS], total[32], clock[16];
    double cpu = 0;
    uint64_t mem = 0;
    size_t nrun = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (running(&t->rows[i])) nrun++;
        if (t->rows[i].have && running(&t->rows[i])) {
            cpu += t->rows[i].cpu;
            mem += t->rows[i].mem;
        }
    }
    fmt_bytes(mem, total, sizeof(total));
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
    rows_sort(t);

    erase();
    str_fmt(line, sizeof(line),
            "cloudya top  %.300s  %zu container%s, %zu running  CPU total "
            "%.1f%%  MEM total %s  %s",
            t->ctx->api_url, t->n, t->n == 1 ? "" : "s", nrun, cpu, total, clock);
    attron(A_BOLD);
    put(0, 0, COLS, line, 0);
    attroff(A_BOLD);

    /* the name takes what the other columns leave (at least 8) */
    int fixed = 0;
    for (int c = 1; c < NCOLS; c++)
        fixed += cols[c].width + 2;
    cols[C_NAME].width = COLS - fixed - 1 > 8 ? COLS - fixed - 1 : 8;
    if (cols[C_NAME].width > 40) cols[C_NAME].width = 40;
    static const char *const sort_names[] = {"CPU%", "MEM", "NAME"};
    const char *sorted = sort_names[t->sort];
    attron(A_REVERSE);
    mvhline(1, 0, ' ', COLS);
    for (int c = 0, x = 0; c < NCOLS; x += cols[c].width + 2, c++) {
        if (strcmp(cols[c].head, sorted) == 0) attron(A_BOLD);
        put(1, x, cols[c].width, cols[c].head, cols[c].right);
        attroff(A_BOLD);
    }
    attroff(A_REVERSE);

    int visible = LINES - 3 > 0 ? LINES - 3 : 0;
    int max_scroll = (int)t->n - visible > 0 ? (int)t->n - visible : 0;
    if (t->scroll > max_scroll) t->scroll = max_scroll;
    if (t->scroll < 0) t->scroll = 0;
    if (t->n == 0)
        put(2, 0, COLS, "no containers yet: `cloudya create nginx --name site` makes one", 0);
    for (int y = 0; y < visible && (size_t)(t->scroll + y) < t->n; y++) {
        const struct row *r = &t->rows[t->scroll + y];
        char f[NCOLS][32];
        int on = r->have && running(r);
        snprintf(f[C_CPU], sizeof(f[C_CPU]), on ? "%.1f" : "-", r->cpu);
        if (on) {
            fmt_bytes(r->mem, f[C_MEMU], sizeof(f[C_MEMU]));
            fmt_bytes(r->rx, f[C_RX], sizeof(f[C_RX]));
            fmt_bytes(r->tx, f[C_TX], sizeof(f[C_TX]));
            snprintf(f[C_MEMP], sizeof(f[C_MEMP]), "%.1f", r->mem_pct);
            snprintf(f[C_PIDS], sizeof(f[C_PIDS]), "%llu", (unsigned long long)r->pids);
        } else {
            for (int c = C_MEMU; c <= C_PIDS; c++)
                str_copy(f[c], sizeof(f[c]), "-");
        }
        const char *cells[NCOLS] = {r->name, r->status, f[C_CPU],  f[C_MEMU], f[C_MEMP],
                                    f[C_RX], f[C_TX],   f[C_PIDS], r->service};
        for (int c = 0, x = 0; c < NCOLS; x += cols[c].width + 2, c++) {
            int attr = 0;
            if (c == C_STATUS)
                attr = status_attr(t, r->status);
            else if (c == C_CPU && on && r->cpu > CPU_HOT && t->color)
                attr = (int)COLOR_PAIR(PAIR_RED);
            attron(attr);
            put(2 + y, x, cols[c].width, cells[c], cols[c].right);
            attroff(attr);
        }
    }

    const char *keys = "q quit  c CPU  m memory  n name  r reverse  \xe2\x86\x91\xe2\x86\x93 "
                       "PgUp PgDn scroll";
    if (t->ws_why[0] != '\0')
        str_fmt(line, sizeof(line), "live channel lost: %s; reconnecting  |  %s", t->ws_why, keys);
    else if (t->note[0] != '\0')
        str_fmt(line, sizeof(line), "%s  |  %s", t->note, keys);
    else
        str_fmt(line, sizeof(line), "%s%s", keys, t->reverse ? "  (reversed)" : "");
    int alert = t->ws_why[0] != '\0' || t->note[0] != '\0';
    int fattr = alert ? (int)(t->color ? COLOR_PAIR(PAIR_YELLOW) | A_BOLD : A_BOLD) : (int)A_DIM;
    attron(fattr);
    put(LINES - 1, 0, COLS, line, 0);
    attroff(fattr);
    refresh();
    t->last_draw = time_mono_ms();
    t->dirty = 0;
}

/* ---- keys -------------------------------------------------------------------------------- */

/* Handles one key. Returns 1 to quit. */
static int key(struct top *t, int k)
{
    int page = LINES - 3 > 1 ? LINES - 3 : 1;
    switch (k) {
    case 'q':
    case 'Q':
    case 27: /* Esc */
        return 1;
    case 'c':
    case 'C':
        t->sort = SORT_CPU;
        break;
    case 'm':
    case 'M':
        t->sort = SORT_MEM;
        break;
    case 'n':
    case 'N':
        t->sort = SORT_NAME;
        break;
    case 'r':
    case 'R':
        t->reverse = !t->reverse;
        break;
    case KEY_UP:
    case 'k':
        t->scroll--;
        break;
    case KEY_DOWN:
    case 'j':
        t->scroll++;
        break;
    case KEY_PPAGE:
        t->scroll -= page;
        break;
    case KEY_NPAGE:
    case ' ':
        t->scroll += page;
        break;
    case KEY_HOME:
        t->scroll = 0;
        break;
    case KEY_END:
        t->scroll = (int)t->n;
        break;
    case KEY_RESIZE:
    case 12: /* Ctrl+L */
        clearok(curscr, TRUE);
        break;
    default:
        return 0;
    }
    t->dirty = 1;
    return 0;
}

/* ---- one snapshot ------------------------------------------------------------------------ */

static int snapshot(struct top *t, json_t *list)
{
    if (t->ctx->json) {
        json_t *out = json_array();
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c)
        {
            json_t *s = json_object_get(c, "stats");
            json_array_append_new(
                out, json_pack("{s:O?, s:O?, s:O?, s:O}", "id", json_object_get(c, "id"), "name",
                               json_object_get(c, "name"), "status", json_object_get(c, "status"),
                               "stats", s != NULL ? s : json_null()));
        }
        out_json(out);
        json_decref(out);
        return 0;
    }
    rows_take(t, list);
    rows_sort(t);
    static const char *const heads[] = {"NAME", "STATUS",      "CPU%", "MEM USAGE / LIMIT",
                                        "MEM%", "NET RX / TX", "PIDS"};
    struct table *tb = table_new(7, heads);
    for (int c = 2; c < 7; c++)
        table_right(tb, c);
    for (size_t i = 0; i < t->n; i++) {
        const struct row *r = &t->rows[i];
        char cpu[32] = "-", mem[80] = "-", pct[32] = "-", net[80] = "-", pids[32] = "-";
        if (r->have && running(r)) {
            char a[32], b[32];
            snprintf(cpu, sizeof(cpu), "%.1f%%", r->cpu);
            fmt_bytes(r->mem, a, sizeof(a));
            fmt_bytes(r->mem_limit, b, sizeof(b));
            snprintf(mem, sizeof(mem), "%s / %s", a, b);
            snprintf(pct, sizeof(pct), "%.1f%%", r->mem_pct);
            fmt_bytes(r->rx, a, sizeof(a));
            fmt_bytes(r->tx, b, sizeof(b));
            snprintf(net, sizeof(net), "%s / %s", a, b);
            snprintf(pids, sizeof(pids), "%llu", (unsigned long long)r->pids);
        }
        const char *cells[] = {r->name, r->status, cpu, mem, pct, net, pids};
        table_add(tb, cells);
        enum color sc = running(r) ? C_GREEN : stopped(r->status) ? C_RED : C_YELLOW;
        table_color(tb, 1, sc);
        if (r->have && running(r) && r->cpu > CPU_HOT) table_color(tb, 2, C_RED);
    }
    if (t->n == 0)
        printf("no containers yet: `cloudya create nginx --name site` makes one\n");
    else
        table_print(tb, stdout, t->ctx->color, out_width(stdout));
    table_free(tb);
    return 0;
}

/* ---- the live screen --------------------------------------------------------------------- */

static void colors_init(struct top *t)
{
    t->color = t->ctx->color && getenv("NO_COLOR") == NULL && has_colors();
    if (!t->color) return;
    start_color();
    use_default_colors();
    init_pair(PAIR_GREEN, COLOR_GREEN, -1);
    init_pair(PAIR_RED, COLOR_RED, -1);
    init_pair(PAIR_YELLOW, COLOR_YELLOW, -1);
}

/* Runs the screen until q (0), Ctrl+C or SIGTERM (130) or a 401 (t->fatal). */
static int live(struct top *t)
{
    int rc = 0;
    colors_init(t);
    t->dirty = 1;
    draw(t);
    live_up(t);
    for (;;) {
        if (term_interrupted()) {
            rc = 130;
            break;
        }
        if (term_resized()) t->dirty = 1;
        int k, quit = 0;
        timeout(0);
        while ((k = getch()) != ERR)
            if (key(t, k)) {
                quit = 1;
                break;
            }
        if (quit) break;

        int64_t now = time_mono_ms();
        if (t->ws == NULL && now >= t->next_connect) live_up(t);
        if (t->ws != NULL) {
            char *msg = NULL;
            size_t len = 0;
            int got = wsc_recv(t->ws, WAIT_MS, &msg, &len);
            for (int n = 0; got == 1; n++) {
                live_message(t, msg, len);
                free(msg);
                got = n + 1 < BURST_MAX ? wsc_recv(t->ws, 0, &msg, &len) : 0;
            }
            if (got < 0) live_down(t, wsc_error(t->ws));
        } else {
            timeout(WAIT_MS);
            k = getch();
            if (k != ERR && key(t, k)) break;
        }
        now = time_mono_ms();
        if ((t->refetch && now - t->last_fetch >= REFETCH_MIN_MS) ||
            (t->ws == NULL && now - t->last_fetch >= POLL_MS)) {
            if (fetch(t) == 1) break;
        }
        now = time_mono_ms();
        if ((t->dirty && now - t->last_draw >= REDRAW_MIN_MS) ||
            now - t->last_draw >= REDRAW_MAX_MS)
            draw(t);
    }
    return rc;
}

static int cmd_top(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct top t;
    struct api_resp r;
    int rc = 0;
    (void)a;
    memset(&t, 0, sizeof(t));
    t.ctx = ctx;
    spinner_start("Reading your containers", ctx->tty_err && !ctx->json);
    int cr = api_call(ctx, "GET", LIST_PATH, NULL, 1, HTTP_TIMEOUT_S, &r);
    spinner_stop();
    if (cr != 0 || r.status != 200 || !json_is_array(r.body)) {
        rc = cr == 0 && r.status == 200 ? cli_fail(ctx, "unexpected answer from the daemon "
                                                        "(not a list)")
                                        : api_fail(ctx, &r, NULL);
        api_resp_free(&r);
        return rc;
    }
    if (ctx->json || !ctx->tty_out || term_screen_begin(250) != 0) {
        rc = snapshot(&t, r.body);
        api_resp_free(&r);
        free(t.rows);
        return rc;
    }
    rows_take(&t, r.body);
    api_resp_free(&r);
    t.last_fetch = time_mono_ms();
    rc = live(&t);
    term_screen_end();
    wsc_close(t.ws);
    free(t.rows);
    if (t.fatal) {
        rc = api_fail(ctx, &t.fatal_resp, NULL);
        api_resp_free(&t.fatal_resp);
    }
    return rc;
}

const struct cli_command cli_top_commands[] = {
    {"top", "Containers", "", 0, 0, NULL,
     "a live view of every container of your account, updated every second",
     "Shows every container of your account with its CPU, memory, network and processes, "
     "updated every second from the daemon's live channel; containers created, started, "
     "stopped or removed elsewhere appear and change at once. Keys: q or Esc quits; c sorts "
     "by CPU (the default), m by memory, n by name; r reverses the order; the arrows, PgUp "
     "and PgDn scroll; Ctrl+L redraws. When the live channel drops, the footer says why and "
     "top reconnects every 2 s, polling the figures meanwhile. Without a terminal (or with "
     "--output json) it prints one snapshot and exits, like `docker stats --no-stream`.",
     "  cloudya top\n  cloudya top --output json\n  cloudya top | grep site", 1, 1,
     CLI_COMPLETE_NONE, NULL, cmd_top},
    {0},
};
