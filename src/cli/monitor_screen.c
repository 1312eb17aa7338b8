/* The full-screen views of `cloudya monitor` (monitor_screen.h). Everything shown comes from
 * the sample or service JSON object; text from the system (process names, command lines,
 * mount points, log lines) is cleaned of control characters before it reaches curses. */
#define _GNU_SOURCE
#include "monitor_screen.h"

#include <curses.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "str.h"

#define LINE_COLS 1024  /* one line of the screen */
#define CELL_MAX 512    /* one cell before it is cut to its column */
#define ROWS_MAX 4096   /* processes sorted for the table */
#define HOT_PCT 85.0    /* a bar or share above this is red */
#define WARM_PCT 60.0   /* and above this, yellow */

enum { PAIR_GREEN = 1, PAIR_YELLOW, PAIR_RED, PAIR_CYAN };

void mscreen_init(struct mscreen *s)
{
    if (!s->color || !has_colors()) {
        s->color = 0;
        return;
    }
    start_color();
    use_default_colors();
    init_pair(PAIR_GREEN, COLOR_GREEN, -1);
    init_pair(PAIR_YELLOW, COLOR_YELLOW, -1);
    init_pair(PAIR_RED, COLOR_RED, -1);
    init_pair(PAIR_CYAN, COLOR_CYAN, -1);
}

/* ---- small helpers ------------------------------------------------------------------------ */

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static uint64_t count(const json_t *o, const char *key)
{
    double v = num(o, key);
    return v > 0 && v < 1.8e19 ? (uint64_t)v : 0;
}

static const char *text(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v != NULL ? v : "";
}

/* Copies s for the screen: control characters become '?', a cut UTF-8 sequence is dropped. */
static void clean(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s != NULL && *s != '\0' && n + 1 < cap; s++)
        out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    while (n > 0 && ((unsigned char)out[n - 1] & 0x80) != 0) {
        size_t start = n - 1; /* drop a trailing sequence that is not whole */
        while (start > 0 && ((unsigned char)out[start] & 0xc0) == 0x80)
            start--;
        size_t need = ((unsigned char)out[start] & 0xe0) == 0xc0   ? 2
                      : ((unsigned char)out[start] & 0xf0) == 0xe0 ? 3
                      : ((unsigned char)out[start] & 0xf8) == 0xf0 ? 4
                                                                   : 1;
        if (n - start >= need)
            break;
        n = start;
    }
    out[n] = '\0';
}

/* Writes s (cleaned) at y, x in at most width columns, cut with "~"; right-aligned when
 * right is set. */
static void put(int y, int x, int width, const char *s, int right)
{
    char c[CELL_MAX], cut[CELL_MAX + 4];
    if (y < 0 || y >= LINES || x >= COLS || width <= 0)
        return;
    if (x + width > COLS)
        width = COLS - x;
    clean(c, sizeof(c), s);
    size_t len = strlen(c), w = text_width(c);
    if (w > (size_t)width) {
        size_t n = 0, cols = 0;
        while (n < len && cols + 1 < (size_t)width) {
            n++;
            while (n < len && ((unsigned char)c[n] & 0xc0) == 0x80)
                n++;
            cols++;
        }
        snprintf(cut, sizeof(cut), "%.*s~", (int)n, c);
        mvaddstr(y, x, cut);
        return;
    }
    mvaddstr(y, right ? x + width - (int)w : x, c);
}

static int level_attr(const struct mscreen *s, double pct)
{
    if (!s->color)
        return pct >= HOT_PCT ? (int)A_BOLD : 0;
    return (int)COLOR_PAIR(pct >= HOT_PCT ? PAIR_RED : pct >= WARM_PCT ? PAIR_YELLOW : PAIR_GREEN);
}

/* A labelled bar "CPU [|||||     ] 45.2%" of width columns at y, x. */
static void bar(const struct mscreen *s, int y, int x, int width, const char *label, double pct)
{
    char tail[16];
    if (pct < 0)
        pct = 0;
    snprintf(tail, sizeof(tail), "%5.1f%%", pct > 999.9 ? 999.9 : pct);
    int lw = (int)strlen(label), inner = width - lw - 3 - (int)strlen(tail) - 1;
    if (inner < 4) {
        put(y, x, width, label, 0);
        return;
    }
    attron(A_BOLD);
    put(y, x, lw, label, 0);
    attroff(A_BOLD);
    mvaddstr(y, x + lw + 1, "[");
    int fill = (int)(pct / 100.0 * inner + 0.5);
    if (fill > inner)
        fill = inner;
    int attr = level_attr(s, pct);
    attron(attr);
    for (int i = 0; i < fill; i++)
        mvaddch(y, x + lw + 2 + i, '|');
    attroff(attr);
    mvaddstr(y, x + lw + 2 + inner, "]");
    put(y, x + lw + 3 + inner, (int)strlen(tail) + 1, tail, 1);
}

static void header(const struct mscreen *s, int y, const char *left)
{
    char clock[16], line[LINE_COLS];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
    str_fmt(line, sizeof(line), "%s  every %gs  %s", left, s->interval, clock);
    attron(A_BOLD);
    put(y, 0, COLS, line, 0);
    attroff(A_BOLD);
}

static void footer(const struct mscreen *s, const char *keys)
{
    char line[LINE_COLS];
    if (s->note[0] != '\0')
        str_fmt(line, sizeof(line), "%s  |  %s", s->note, keys);
    else
        str_copy(line, sizeof(line), keys);
    int attr = s->note[0] != '\0' ? (int)(s->color ? COLOR_PAIR(PAIR_YELLOW) | A_BOLD : A_BOLD)
                                  : (int)A_DIM;
    attron(attr);
    put(LINES - 1, 0, COLS, line, 0);
    attroff(attr);
}

static void rate(double bps, char *out, size_t cap)
{
    char b[32];
    fmt_bytes(bps > 0 ? (uint64_t)bps : 0, b, sizeof(b));
    str_fmt(out, cap, "%s/s", b);
}

/* ---- the process table -------------------------------------------------------------------- */

static int by_cpu(const void *pa, const void *pb)
{
    const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
    double x = num(a, "cpu"), y = num(b, "cpu");
    if (x != y)
        return x < y ? 1 : -1;
    uint64_t m = count(a, "rss"), n = count(b, "rss");
    return m < n ? 1 : m > n ? -1 : 0;
}

static int by_mem(const void *pa, const void *pb)
{
    const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
    uint64_t m = count(a, "rss"), n = count(b, "rss");
    if (m != n)
        return m < n ? 1 : -1;
    double x = num(a, "cpu"), y = num(b, "cpu");
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Draws procs (an array of {pid, user, cpu, mem_pct, rss, state, cmd|name}) from row y to
 * the line above the footer. Returns the next free row. */
static int processes(struct mscreen *s, int y, const json_t *procs)
{
    size_t n = json_array_size(procs);
    if (n > ROWS_MAX)
        n = ROWS_MAX;
    const json_t **rows = calloc(n > 0 ? n : 1, sizeof(*rows));
    if (rows == NULL)
        return y;
    for (size_t i = 0; i < n; i++)
        rows[i] = json_array_get(procs, i);
    qsort(rows, n, sizeof(*rows), s->sort == MSORT_CPU ? by_cpu : by_mem);

    attron(A_REVERSE);
    mvhline(y, 0, ' ', COLS);
    put(y, 0, 7, "PID", 1);
    put(y, 8, 10, "USER", 0);
    attron(s->sort == MSORT_CPU ? A_BOLD : 0);
    put(y, 19, 6, "CPU%", 1);
    attroff(A_BOLD);
    put(y, 26, 5, "MEM%", 1);
    attron(s->sort == MSORT_MEM ? A_BOLD : 0);
    put(y, 32, 9, "RSS", 1);
    attroff(A_BOLD);
    put(y, 42, 1, "S", 0);
    put(y, 44, COLS - 44, "COMMAND", 0);
    attroff(A_REVERSE);
    y++;
    int visible = LINES - 1 - y;
    if (s->scroll > (int)n - visible)
        s->scroll = (int)n - visible;
    if (s->scroll < 0)
        s->scroll = 0;
    for (int r = 0; r < visible && (size_t)(s->scroll + r) < n; r++, y++) {
        const json_t *p = rows[s->scroll + r];
        char pid[24], cpu[24], mem[24], rss[32], st[2] = {0, 0};
        snprintf(pid, sizeof(pid), "%lld", (long long)num(p, "pid"));
        snprintf(cpu, sizeof(cpu), "%.1f", num(p, "cpu"));
        snprintf(mem, sizeof(mem), "%.1f", num(p, "mem_pct"));
        fmt_bytes(count(p, "rss"), rss, sizeof(rss));
        st[0] = text(p, "state")[0];
        const char *cmd = text(p, "cmd");
        if (cmd[0] == '\0')
            cmd = text(p, "name");
        put(y, 0, 7, pid, 1);
        put(y, 8, 10, text(p, "user"), 0);
        int attr = num(p, "cpu") >= HOT_PCT && s->color ? (int)COLOR_PAIR(PAIR_RED) : 0;
        attron(attr);
        put(y, 19, 6, cpu, 1);
        attroff(attr);
        put(y, 26, 5, mem, 1);
        put(y, 32, 9, rss, 1);
        put(y, 42, 1, st, 0);
        put(y, 44, COLS - 44, cmd, 0);
    }
    free(rows);
    return y;
}

/* ---- the host ----------------------------------------------------------------------------- */

static int host_top(struct mscreen *s, const json_t *sample)
{
    char line[LINE_COLS], up[32];
    const json_t *load = json_object_get(sample, "load");
    fmt_duration((int64_t)num(sample, "uptime"), up, sizeof(up));
    char left[LINE_COLS];
    str_fmt(left, sizeof(left), "cloudya monitor  %.120s  up %s  load %.2f %.2f %.2f  %d core%s",
            text(sample, "host"), up, json_number_value(json_array_get(load, 0)),
            json_number_value(json_array_get(load, 1)),
            json_number_value(json_array_get(load, 2)), (int)num(sample, "ncpu"),
            num(sample, "ncpu") == 1 ? "" : "s");
    header(s, 0, left);

    const json_t *cpu = json_object_get(sample, "cpu");
    int half = COLS / 2;
    bar(s, 1, 0, half - 1, "CPU ", num(cpu, "total"));
    str_fmt(line, sizeof(line), "user %.1f  sys %.1f  iowait %.1f  steal %.1f", num(cpu, "user"),
            num(cpu, "system"), num(cpu, "iowait"), num(cpu, "steal"));
    put(1, half + 1, COLS - half - 1, line, 0);
    int y = 2;
    /* per core: as many bars a line as fit at 24 columns each, at most 4 lines of them */
    const json_t *cores = json_object_get(cpu, "cores");
    size_t nc = json_array_size(cores);
    int per_line = COLS / 24 > 0 ? COLS / 24 : 1, width = COLS / per_line;
    size_t shown = (size_t)per_line * 4 < nc ? (size_t)per_line * 4 : nc;
    for (size_t i = 0; i < shown; i++) {
        char label[32];
        snprintf(label, sizeof(label), "%3zu", i);
        bar(s, y + (int)(i / (size_t)per_line), (int)(i % (size_t)per_line) * width, width - 1,
            label, json_number_value(json_array_get(cores, i)));
    }
    if (shown > 0)
        y += (int)((shown + (size_t)per_line - 1) / (size_t)per_line);
    if (shown < nc) {
        str_fmt(line, sizeof(line), "(%zu more cores: widen the terminal)", nc - shown);
        put(y++, 0, COLS, line, 0);
    }

    const json_t *mem = json_object_get(sample, "mem");
    char used[32], total[32], avail[32], cache[32];
    fmt_bytes(count(mem, "used"), used, sizeof(used));
    fmt_bytes(count(mem, "total"), total, sizeof(total));
    fmt_bytes(count(mem, "available"), avail, sizeof(avail));
    fmt_bytes(count(mem, "buffers") + count(mem, "cached"), cache, sizeof(cache));
    bar(s, y, 0, half - 1, "Mem ", num(mem, "used_pct"));
    str_fmt(line, sizeof(line), "%s / %s  available %s  buff/cache %s", used, total, avail,
            cache);
    put(y++, half + 1, COLS - half - 1, line, 0);
    fmt_bytes(count(mem, "swap_used"), used, sizeof(used));
    fmt_bytes(count(mem, "swap_total"), total, sizeof(total));
    bar(s, y, 0, half - 1, "Swap", num(mem, "swap_pct"));
    str_fmt(line, sizeof(line), count(mem, "swap_total") > 0 ? "%s / %s" : "no swap", used, total);
    put(y++, half + 1, COLS - half - 1, line, 0);
    return y;
}

/* Disks (usage and I/O side by side when wide enough, else one after the other) and network:
 * at most a third of the screen. Returns the next free row. */
static int host_devices(struct mscreen *s, int y, const json_t *sample)
{
    const json_t *disks = json_object_get(sample, "disks"), *io = json_object_get(sample, "io"),
                 *net = json_object_get(sample, "net");
    int budget = LINES / 3 > 4 ? LINES / 3 : 4;
    char a[40], b[40], c[40];
    size_t i;
    const json_t *d;
    attron(A_BOLD);
    put(y, 0, 30, "FILE SYSTEM", 0);
    put(y, 31, 6, "USED", 1);
    put(y, 38, 10, "FREE", 1);
    put(y, 49, 10, "SIZE", 1);
    put(y, 60, 7, "INODES", 1);
    attroff(A_BOLD);
    y++;
    int rows = 0;
    json_array_foreach(disks, i, d)
    {
        if (rows >= budget / 2)
            break;
        snprintf(a, sizeof(a), "%.1f%%", num(d, "used_pct"));
        put(y, 0, 30, text(d, "mount"), 0);
        int attr = level_attr(s, num(d, "used_pct"));
        attron(attr);
        put(y, 31, 6, a, 1);
        attroff(attr);
        fmt_bytes(count(d, "avail"), b, sizeof(b));
        fmt_bytes(count(d, "total"), c, sizeof(c));
        put(y, 38, 10, b, 1);
        put(y, 49, 10, c, 1);
        snprintf(a, sizeof(a), count(d, "inodes_total") > 0 ? "%.1f%%" : "-",
                 num(d, "inodes_pct"));
        put(y, 60, 7, a, 1);
        y++, rows++;
    }
    if (json_array_size(disks) > (size_t)rows) {
        snprintf(a, sizeof(a), "(+%zu more)", json_array_size(disks) - (size_t)rows);
        put(y++, 0, 30, a, 0);
    }
    /* I/O and network on one block: DEVICE  READ/s  WRITE/s | IFACE  RX/s  TX/s */
    attron(A_BOLD);
    put(y, 0, 12, "DISK I/O", 0);
    put(y, 13, 12, "READ", 1);
    put(y, 26, 12, "WRITE", 1);
    put(y, 39, 6, "BUSY", 1);
    put(y, 48, 12, "NETWORK", 0);
    put(y, 61, 12, "RX", 1);
    put(y, 74, 12, "TX", 1);
    attroff(A_BOLD);
    y++;
    size_t nio = json_array_size(io), nnet = json_array_size(net);
    size_t lines = nio > nnet ? nio : nnet;
    if ((int)lines > budget / 2)
        lines = (size_t)(budget / 2);
    for (size_t r = 0; r < lines; r++, y++) {
        const json_t *dv = json_array_get(io, r), *nf = json_array_get(net, r);
        if (dv != NULL) {
            put(y, 0, 12, text(dv, "device"), 0);
            rate(num(dv, "read_bps"), a, sizeof(a));
            rate(num(dv, "write_bps"), b, sizeof(b));
            snprintf(c, sizeof(c), "%.0f%%", num(dv, "busy_pct"));
            put(y, 13, 12, a, 1);
            put(y, 26, 12, b, 1);
            put(y, 39, 6, c, 1);
        }
        if (nf != NULL) {
            put(y, 48, 12, text(nf, "iface"), 0);
            rate(num(nf, "rx_bps"), a, sizeof(a));
            rate(num(nf, "tx_bps"), b, sizeof(b));
            put(y, 61, 12, a, 1);
            put(y, 74, 12, b, 1);
        }
    }
    return y;
}

void mscreen_draw_host(struct mscreen *s, const json_t *sample)
{
    erase();
    if (sample == NULL) {
        header(s, 0, "cloudya monitor");
        put(2, 0, COLS, "sampling...", 0);
        footer(s, "q quit");
        refresh();
        return;
    }
    int y = host_top(s, sample);
    y = host_devices(s, y, sample);
    const json_t *pr = json_object_get(sample, "procs");
    char line[LINE_COLS];
    str_fmt(line, sizeof(line), "PROCESSES  %llu total, %llu running, %llu blocked, %llu zombie, "
            "%llu threads", (unsigned long long)count(pr, "total"),
            (unsigned long long)count(pr, "running"), (unsigned long long)count(pr, "blocked"),
            (unsigned long long)count(pr, "zombie"), (unsigned long long)count(pr, "threads"));
    attron(A_BOLD);
    put(y++, 0, COLS, line, 0);
    attroff(A_BOLD);
    processes(s, y, json_object_get(sample, "top"));
    footer(s, "q quit  c sort by CPU  m sort by memory  \xe2\x86\x91\xe2\x86\x93 scroll");
    refresh();
}

/* ---- a service ---------------------------------------------------------------------------- */

void mscreen_draw_service(struct mscreen *s, const json_t *info)
{
    char line[LINE_COLS], left[LINE_COLS], up[32];
    erase();
    const char *name = text(info, "name");
    str_fmt(left, sizeof(left), "cloudya monitor --service %.100s", name);
    header(s, 0, left);
    int y = 1;
    int running = json_array_size(json_object_get(info, "processes")) > 0;
    fmt_duration((int64_t)num(info, "uptime"), up, sizeof(up));
    const char *unit = text(info, "unit");
    const char *state = text(info, "state");
    int attr = s->color ? (int)COLOR_PAIR(running ? PAIR_GREEN : PAIR_RED) | A_BOLD : A_BOLD;
    attron(attr);
    put(y, 0, 12, running ? "RUNNING" : "NOT RUNNING", 0);
    attroff(attr);
    const json_t *restarts = json_object_get(info, "restarts");
    char rs[64], how[LINE_COLS];
    if (json_is_integer(restarts))
        snprintf(rs, sizeof(rs), "%lld", (long long)json_integer_value(restarts));
    else
        str_copy(rs, sizeof(rs), "unknown");
    if (unit[0] != '\0')
        str_fmt(how, sizeof(how), "by systemd (%s%s%s)", unit, state[0] ? ", " : "", state);
    else
        str_fmt(how, sizeof(how), "by %s", text(info, "manager"));
    str_fmt(line, sizeof(line), "%s  up %s  restarts %s (seen here: %lld)", how,
            running ? up : "-", rs, (long long)num(info, "restarts_seen"));
    put(y++, 13, COLS - 13, line, 0);

    /* listening sockets on one or two lines */
    const json_t *ports = json_object_get(info, "listening");
    size_t i;
    const json_t *p;
    str_copy(line, sizeof(line), "listening: ");
    if (json_array_size(ports) == 0)
        str_fmt(line + strlen(line), sizeof(line) - strlen(line), "%s",
                json_is_true(json_object_get(info, "ports_unreadable"))
                    ? "unknown (run as root to see other users' sockets)"
                    : "nothing");
    json_array_foreach(ports, i, p)
    {
        str_fmt(line + strlen(line), sizeof(line) - strlen(line), "%s%s %s:%lld",
                i > 0 ? ", " : "", text(p, "proto"), text(p, "address"),
                (long long)num(p, "port"));
    }
    put(y++, 0, COLS, line, 0);
    y++;

    /* processes: half of what is left; the log lines get the rest */
    int room = LINES - 1 - y;
    const json_t *logs = json_object_get(info, "logs");
    size_t nlog = json_array_size(logs);
    int log_rows = nlog > 0 ? (room / 2 > 3 ? room / 2 : 3) : 0;
    int save = LINES;
    LINES = LINES - log_rows - (log_rows > 0 ? 1 : 0); /* processes() stops above the logs */
    int end = processes(s, y, json_object_get(info, "processes"));
    LINES = save;
    if (!running)
        put(y + 1, 0, COLS, text(info, "message"), 0);
    if (log_rows > 0) {
        int ly = LINES - 1 - log_rows - 1;
        if (ly < end)
            ly = end;
        attron(A_BOLD);
        str_fmt(line, sizeof(line), "RECENT LOG LINES (%s)", text(info, "log_source"));
        put(ly++, 0, COLS, line, 0);
        attroff(A_BOLD);
        size_t first = nlog > (size_t)log_rows ? nlog - (size_t)log_rows : 0;
        for (size_t k = first; k < nlog && ly < LINES - 1; k++)
            put(ly++, 0, COLS, json_string_value(json_array_get(logs, k)), 0);
    }
    footer(s, "q quit  c sort by CPU  m sort by memory");
    refresh();
}

int mscreen_key(struct mscreen *s, int key)
{
    switch (key) {
    case 'q':
    case 'Q':
    case 27:
        return 1;
    case 'c':
    case 'C':
        s->sort = MSORT_CPU;
        break;
    case 'm':
    case 'M':
        s->sort = MSORT_MEM;
        break;
    case KEY_UP:
    case 'k':
        s->scroll--;
        break;
    case KEY_DOWN:
    case 'j':
        s->scroll++;
        break;
    case KEY_PPAGE:
        s->scroll -= 10;
        break;
    case KEY_NPAGE:
    case ' ':
        s->scroll += 10;
        break;
    case KEY_RESIZE:
    case 12:
        clearok(curscr, TRUE);
        break;
    default:
        break;
    }
    return 0;
}
