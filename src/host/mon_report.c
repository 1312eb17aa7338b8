/* The monitor report: loading the recorded samples of a period, statistics, coverage, worst
 * moments, and the formatting the text and HTML outputs share (see mon_report.h). */
#define _GNU_SOURCE
#include "mon_report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dv_config.h"
#include "str.h"
#include "xalloc.h"

#define READ_CHUNK (64 * 1024)
#define NAME_SLOTS_MIN 1024
#define P95_PERMILLE 950

/* ---- building ------------------------------------------------------------------------ */

struct mon_report *mon_report_new(double since, double until)
{
    struct mon_report *r = xcalloc(1, sizeof(*r));
    r->since = since;
    r->until = until;
    r->max_samples = MON_REPORT_SAMPLES_MAX;
    r->worst_disk = r->worst_disk_point = r->worst_net = r->worst_io = MON_REPORT_NONE;
    r->scratch = xmalloc(sizeof(*r->scratch));
    return r;
}

void mon_report_free(struct mon_report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    free(r->slots);
    free(r->p);
    free(r->d);
    free(r->scratch);
    free(r);
}

const char *mon_report_name(const struct mon_report *r, uint32_t i)
{
    return i < r->nnames ? r->names[i] : "?";
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Grows the name hash table to twice its size. Returns 0 or -ENOMEM. */
static int names_rehash(struct mon_report *r)
{
    size_t nslots = r->nslots ? r->nslots * 2 : NAME_SLOTS_MIN;
    uint32_t *slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < r->nnames; i++) {
        size_t k = name_hash(r->names[i]) & (nslots - 1);
        while (slots[k] != 0)
            k = (k + 1) & (nslots - 1);
        slots[k] = (uint32_t)i + 1;
    }
    free(r->slots);
    r->slots = slots;
    r->nslots = nslots;
    return 0;
}

/* The index of process name s, added when new; MON_REPORT_NO_NAME past the limit or when
 * out of memory (the name is then shown as "?"). */
static uint32_t name_intern(struct mon_report *r, const char *s)
{
    if (r->nslots == 0 && names_rehash(r) != 0)
        return MON_REPORT_NO_NAME;
    size_t k = name_hash(s) & (r->nslots - 1);
    while (r->slots[k] != 0) {
        uint32_t i = r->slots[k] - 1;
        if (strcmp(r->names[i], s) == 0)
            return i;
        k = (k + 1) & (r->nslots - 1);
    }
    if (r->nnames >= MON_REPORT_NAMES_MAX) {
        r->names_dropped++;
        return MON_REPORT_NO_NAME;
    }
    if (r->nnames % 256 == 0) {
        char **names = realloc(r->names, (r->nnames + 256) * sizeof(*names));
        if (names == NULL)
            return MON_REPORT_NO_NAME;
        r->names = names;
    }
    char *copy = strdup(s);
    if (copy == NULL)
        return MON_REPORT_NO_NAME;
    r->names[r->nnames] = copy;
    r->slots[k] = (uint32_t)r->nnames + 1;
    r->nnames++;
    if (r->nnames * 2 > r->nslots)
        names_rehash(r); /* on failure the table is just fuller */
    return (uint32_t)r->nnames - 1;
}

/* The index of mount point s (hint: where this disk's mount was in the previous sample), or
 * -1 past MON_REPORT_MOUNTS_MAX. */
static int mount_index(struct mon_report *r, const char *s, size_t pos)
{
    size_t hint = pos < MON_DISKS_MAX ? r->mount_hint[pos] : 0;
    if (hint < r->nmounts && strcmp(r->mounts[hint].name, s) == 0)
        return (int)hint;
    for (size_t i = 0; i < r->nmounts; i++) {
        if (strcmp(r->mounts[i].name, s) == 0) {
            if (pos < MON_DISKS_MAX)
                r->mount_hint[pos] = (uint16_t)i;
            return (int)i;
        }
    }
    if (r->nmounts == MON_REPORT_MOUNTS_MAX) {
        r->mounts_dropped++;
        return -1;
    }
    str_copy(r->mounts[r->nmounts].name, MON_NAME_MAX, s);
    if (pos < MON_DISKS_MAX)
        r->mount_hint[pos] = (uint16_t)r->nmounts;
    return (int)r->nmounts++;
}

/* Drops the oldest eighth of the points (they come in time order, near enough: day files
 * are read oldest first) so that a long history keeps its newest part. */
static void drop_oldest(struct mon_report *r)
{
    size_t k = r->n / 8 > 0 ? r->n / 8 : r->n;
    for (size_t i = 0; i < k; i++)
        r->dropped_until = fmax(r->dropped_until, r->p[i].t);
    uint32_t base = k < r->n ? r->p[k].disk_off : (uint32_t)r->nd;
    memmove(r->p, r->p + k, (r->n - k) * sizeof(*r->p));
    r->n -= k;
    memmove(r->d, r->d + base, (r->nd - base) * sizeof(*r->d));
    r->nd -= base;
    for (size_t i = 0; i < r->n; i++)
        r->p[i].disk_off -= base;
    r->dropped += k;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(*p, ncap * size);
    if (np == NULL)
        return -ENOMEM;
    *p = np;
    *cap = ncap;
    return 0;
}

/* The sum of the known values among n (NaN when none is known: unknown is not zero). */
static float sum_known(const double *v, size_t n)
{
    double sum = 0;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(v[i])) {
            sum += v[i];
            any = 1;
        }
    }
    return any ? (float)sum : NAN;
}

static void rates(const struct mon_sample *s, struct mon_point *p)
{
    double a[MON_IO_MAX > MON_NET_MAX ? MON_IO_MAX : MON_NET_MAX];
    double b[MON_IO_MAX > MON_NET_MAX ? MON_IO_MAX : MON_NET_MAX];
    for (size_t i = 0; i < s->nio; i++)
        a[i] = s->io[i].read_bps, b[i] = s->io[i].write_bps;
    p->v[MON_IO_READ] = sum_known(a, s->nio);
    p->v[MON_IO_WRITE] = sum_known(b, s->nio);
    for (size_t i = 0; i < s->nnet; i++)
        a[i] = s->net[i].rx_bps, b[i] = s->net[i].tx_bps;
    p->v[MON_NET_RX] = sum_known(a, s->nnet);
    p->v[MON_NET_TX] = sum_known(b, s->nnet);
}

int mon_report_add_sample(struct mon_report *r, const struct mon_sample *s)
{
    if ((r->since > 0 && s->t < r->since) || (r->until > 0 && s->t > r->until)) {
        r->out_of_period++;
        return 0;
    }
    if (r->n >= r->max_samples && r->max_samples > 0)
        drop_oldest(r);
    if (grow((void **)&r->p, &r->cap, r->n + 1, sizeof(*r->p)) != 0 ||
        grow((void **)&r->d, &r->dcap, r->nd + s->ndisks, sizeof(*r->d)) != 0 ||
        r->nd + s->ndisks > UINT32_MAX)
        return -ENOMEM;
    struct mon_point *p = &r->p[r->n];
    memset(p, 0, sizeof(*p)); /* padding too: points are compared whole when sorting */
    p->t = s->t;
    p->elapsed = (float)s->elapsed;
    p->v[MON_CPU] = (float)s->cpu;
    p->v[MON_LOAD1] = (float)s->load[0];
    p->v[MON_MEM] = (float)s->mem_used_pct;
    p->v[MON_SWAP] = (float)s->swap_pct;
    rates(s, p);
    p->mem_used = (float)s->mem_used;
    p->mem_total = (float)s->mem_total;
    p->disk_off = (uint32_t)r->nd;
    for (size_t i = 0; i < s->ndisks; i++) {
        int m = mount_index(r, s->disks[i].mount, i);
        if (m < 0)
            continue;
        struct mon_rdisk *d = &r->d[r->nd++];
        memset(d, 0, sizeof(*d));
        d->mount = (uint16_t)m;
        d->used_pct = (float)s->disks[i].used_pct;
        d->inodes_pct = (float)s->disks[i].inodes_pct;
        d->avail = (float)s->disks[i].avail;
        d->total = (float)s->disks[i].total;
        p->ndisks++;
    }
    for (size_t i = 0; i < s->ntop; i++) {
        struct mon_rtop *t = &p->top[p->ntop++];
        t->pid = s->top[i].pid;
        t->name = name_intern(r, s->top[i].name);
        t->cpu = (float)s->top[i].cpu;
        t->mem_pct = (float)s->top[i].mem_pct;
    }
    if (s->ncpu > r->ncpu)
        r->ncpu = s->ncpu;
    if (r->n == 0 || s->t >= r->last) {
        r->last = s->t;
        if (s->host[0] != '\0')
            str_copy(r->host, sizeof(r->host), s->host);
    }
    r->n++;
    return 1;
}

int mon_report_add_line(struct mon_report *r, const char *line, size_t len)
{
    r->lines++;
    if (mon_history_parse_line(line, len, r->scratch) != 0) {
        r->skipped++;
        return -EINVAL;
    }
    return mon_report_add_sample(r, r->scratch);
}

int mon_report_read_fd(struct mon_report *r, int fd)
{
    size_t cap = MON_HISTORY_LINE_MAX + 1 + READ_CHUNK;
    char *buf = malloc(cap);
    if (buf == NULL)
        return -ENOMEM;
    size_t have = 0;
    int discard = 0; /* inside a line already counted as too long */
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0) { /* a last line without '\n' (being written, or cut) is tried too */
            if (have > 0 && !discard && mon_report_add_line(r, buf, have) == -ENOMEM)
                rc = -ENOMEM;
            break;
        }
        have += (size_t)n;
        size_t start = 0;
        const char *nl;
        while ((nl = memchr(buf + start, '\n', have - start)) != NULL) {
            size_t len = (size_t)(nl - (buf + start));
            if (discard)
                discard = 0;
            else if (len > 0 && mon_report_add_line(r, buf + start, len) == -ENOMEM)
                rc = -ENOMEM;
            start += len + 1;
        }
        if (rc != 0)
            break;
        size_t rest = have - start;
        if (discard) {
            have = 0;
        } else if (rest > MON_HISTORY_LINE_MAX) {
            r->lines++;
            r->skipped++;
            discard = 1;
            have = 0;
        } else {
            memmove(buf, buf + start, rest);
            have = rest;
        }
    }
    free(buf);
    return rc;
}

/* ---- statistics ---------------------------------------------------------------------- */

static int point_cmp(const void *a, const void *b)
{
    const struct mon_point *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return memcmp(x, y, sizeof(*x)); /* ties: an order that depends only on the data */
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Statistics of vals (k finite values, sorted here) whose max first happened at t_max. */
static void stat_of(double *vals, size_t k, double t_max, struct mon_stat *st)
{
    memset(st, 0, sizeof(*st));
    if (k == 0)
        return;
    double sum = 0;
    for (size_t i = 0; i < k; i++)
        sum += vals[i];
    qsort(vals, k, sizeof(*vals), double_cmp);
    size_t rank = (k * P95_PERMILLE + 999) / 1000; /* nearest rank, 1-based */
    st->n = k;
    st->min = vals[0];
    st->max = vals[k - 1];
    st->avg = sum / (double)k;
    st->p95 = vals[(rank > 0 ? rank : 1) - 1];
    st->t_max = t_max;
}

static void series_stats(struct mon_report *r, double *vals)
{
    for (int s = 0; s < MON_SERIES_N; s++) {
        size_t k = 0;
        double best = -INFINITY, t_max = 0;
        for (size_t i = 0; i < r->n; i++) {
            double v = r->p[i].v[s];
            if (isnan(v))
                continue;
            vals[k++] = v;
            if (v > best)
                best = v, t_max = r->p[i].t;
        }
        stat_of(vals, k, t_max, &r->stat[s]);
    }
}

static void mount_stats(struct mon_report *r, double *vals)
{
    for (size_t m = 0; m < r->nmounts; m++) {
        struct mon_mount *mm = &r->mounts[m];
        for (int which = 0; which < 2; which++) {
            size_t k = 0;
            double best = -INFINITY, t_max = 0;
            for (size_t i = 0; i < r->n; i++) {
                const struct mon_point *p = &r->p[i];
                for (size_t j = 0; j < p->ndisks; j++) {
                    const struct mon_rdisk *d = &r->d[p->disk_off + j];
                    double v = which == 0 ? d->used_pct : d->inodes_pct;
                    if (d->mount != m || isnan(v))
                        continue;
                    vals[k++] = v;
                    if (v > best) {
                        best = v, t_max = p->t;
                        if (which == 0)
                            mm->avail_at_max = d->avail, mm->total_at_max = d->total;
                    }
                }
            }
            stat_of(vals, k, t_max, which == 0 ? &mm->used : &mm->inodes);
        }
    }
}

int mon_report_gap_before(const struct mon_report *r, size_t i)
{
    if (i == 0 || i >= r->n)
        return 0;
    double el = r->p[i].elapsed;
    if (!(el > 0))
        el = 0;
    return r->p[i].t - r->p[i - 1].t > 3.0 * el + MON_HISTORY_MIN_GAP_DEFAULT;
}

static void coverage(struct mon_report *r)
{
    r->first = r->n > 0 ? r->p[0].t : 0;
    r->last = r->n > 0 ? r->p[r->n - 1].t : 0;
    r->start = r->since > 0 ? r->since : r->first;
    r->end = r->until > 0 ? r->until : r->last;
    for (size_t i = 1; i < r->n; i++) {
        double dt = r->p[i].t - r->p[i - 1].t;
        if (!mon_report_gap_before(r, i)) {
            r->recorded_s += dt;
            continue;
        }
        r->gaps++;
        if (dt > r->longest_gap_s)
            r->longest_gap_s = dt, r->longest_gap_at = r->p[i - 1].t;
    }
}

/* The value a worst-moment list ranks point i by. */
static double rank_value(const struct mon_point *p, int what)
{
    switch (what) {
    case 0:
        return p->v[MON_CPU];
    case 1:
        return p->v[MON_MEM];
    case 2:
        if (isnan(p->v[MON_NET_RX]) && isnan(p->v[MON_NET_TX]))
            return NAN;
        return (isnan(p->v[MON_NET_RX]) ? 0 : p->v[MON_NET_RX]) +
               (isnan(p->v[MON_NET_TX]) ? 0 : p->v[MON_NET_TX]);
    default:
        if (isnan(p->v[MON_IO_READ]) && isnan(p->v[MON_IO_WRITE]))
            return NAN;
        return (isnan(p->v[MON_IO_READ]) ? 0 : p->v[MON_IO_READ]) +
               (isnan(p->v[MON_IO_WRITE]) ? 0 : p->v[MON_IO_WRITE]);
    }
}

/* Fills out with up to max points of the highest value, at least sep seconds apart, highest
 * first (ties: the earliest). Returns how many. */
static size_t pick_worst(const struct mon_report *r, int what, double sep, size_t *out,
                         size_t max)
{
    size_t k = 0;
    while (k < max) {
        size_t best = MON_REPORT_NONE;
        double bv = -INFINITY;
        for (size_t i = 0; i < r->n; i++) {
            double v = rank_value(&r->p[i], what);
            if (isnan(v) || v <= bv)
                continue;
            int near = 0;
            for (size_t j = 0; j < k && !near; j++)
                near = fabs(r->p[i].t - r->p[out[j]].t) < sep;
            if (!near)
                best = i, bv = v;
        }
        if (best == MON_REPORT_NONE)
            break;
        out[k++] = best;
    }
    return k;
}

static void worst_moments(struct mon_report *r)
{
    double sep = (r->last - r->first) / 50.0;
    sep = fmin(fmax(sep, MON_REPORT_SEP_MIN_S), MON_REPORT_SEP_MAX_S);
    r->nworst_cpu = pick_worst(r, 0, sep, r->worst_cpu, MON_REPORT_WORST);
    r->nworst_mem = pick_worst(r, 1, sep, r->worst_mem, MON_REPORT_WORST);
    size_t one;
    r->worst_net = pick_worst(r, 2, 0, &one, 1) == 1 ? one : MON_REPORT_NONE;
    r->worst_io = pick_worst(r, 3, 0, &one, 1) == 1 ? one : MON_REPORT_NONE;
    double bv = -INFINITY;
    for (size_t i = 0; i < r->n; i++) {
        for (size_t j = 0; j < r->p[i].ndisks; j++) {
            size_t di = r->p[i].disk_off + j;
            if (!isnan(r->d[di].used_pct) && r->d[di].used_pct > bv) {
                bv = r->d[di].used_pct;
                r->worst_disk = di;
                r->worst_disk_point = i;
            }
        }
    }
}

static int sorted(const struct mon_report *r)
{
    for (size_t i = 1; i < r->n; i++)
        if (point_cmp(&r->p[i - 1], &r->p[i]) > 0)
            return 0;
    return 1;
}

static void empty_reason(struct mon_report *r);

void mon_report_finish(struct mon_report *r)
{
    if (!sorted(r))
        qsort(r->p, r->n, sizeof(*r->p), point_cmp);
    coverage(r);
    size_t nvals = r->n > r->nd ? r->n : r->nd;
    double *vals = malloc((nvals > 0 ? nvals : 1) * sizeof(*vals));
    if (vals == NULL) { /* statistics left empty rather than the report lost */
        worst_moments(r);
        empty_reason(r);
        return;
    }
    series_stats(r, vals);
    mount_stats(r, vals);
    free(vals);
    worst_moments(r);
    empty_reason(r);
}

/* ---- loading ------------------------------------------------------------------------- */

static int64_t day_floor(double t)
{
    return (int64_t)floor(t / 86400.0);
}

static int int64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

size_t mon_report_count(const struct mon_report *r)
{
    return r->n;
}

const char *mon_report_empty_reason(const struct mon_report *r)
{
    return r->empty_reason;
}

static void empty_reason(struct mon_report *r)
{
    char a[64] = "the beginning", b[64] = "now", zone[64];
    r->empty_reason[0] = '\0';
    if (r->n > 0)
        return;
    if (r->since > 0)
        mon_report_fmt_time(r->since, a, sizeof(a));
    if (r->until > 0)
        mon_report_fmt_time(r->until, b, sizeof(b));
    mon_report_fmt_zone(r->until > 0 ? r->until : (double)time(NULL), zone, sizeof(zone));
    size_t n = (size_t)snprintf(r->empty_reason, sizeof(r->empty_reason),
                                "no samples recorded between %s and %s (%s); run `cloudya "
                                "monitor` (it records while it runs)",
                                a, b, zone);
    if (r->skipped > 0 && n < sizeof(r->empty_reason))
        snprintf(r->empty_reason + n, sizeof(r->empty_reason) - n,
                 " (%zu unreadable line%s skipped)", r->skipped, r->skipped == 1 ? "" : "s");
}

/* Lists the day numbers of our files in dir that may hold [since, until]. Returns how many
 * (sorted) or a negative errno; -ENOENT when dir does not exist. */
static int list_days(const char *dir, const struct mon_report *r, int64_t *days, size_t max)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    int64_t lo = r->since > 0 ? day_floor(r->since) : INT64_MIN;
    int64_t hi = r->until > 0 ? day_floor(r->until) : INT64_MAX;
    size_t n = 0;
    struct dirent *de;
    while (n < max && (de = readdir(d)) != NULL) {
        int64_t day;
        if (mon_history_name_day(de->d_name, &day) == 0 && day >= lo && day <= hi)
            days[n++] = day;
    }
    closedir(d);
    qsort(days, n, sizeof(*days), int64_cmp);
    return (int)n;
}

int mon_report_load(const char *home, double since_t, double until_t, struct mon_report **out,
                    char *err, size_t errlen)
{
    *out = NULL;
    char dir[DV_PATH_MAX];
    if (mon_history_dir(home, dir, sizeof(dir)) != 0) {
        str_fmt(err, errlen, "the monitor history folder path is too long or empty");
        return -ENAMETOOLONG;
    }
    struct mon_report *r = mon_report_new(since_t, until_t);
    int64_t *days = xcalloc(MON_HISTORY_FILES_MAX, sizeof(*days));
    int rc = list_days(dir, r, days, MON_HISTORY_FILES_MAX);
    if (rc == -ENOENT)
        rc = 0; /* never recorded: no data, said below */
    if (rc < 0) {
        str_fmt(err, errlen, "cannot read %s: %s", dir, strerror(-rc));
        goto out;
    }
    for (int i = 0; i < rc; i++) {
        char path[DV_PATH_MAX + MON_HISTORY_NAME_LEN + 2];
        char name[MON_HISTORY_NAME_LEN + 1];
        if (mon_history_day_name(days[i], name, sizeof(name)) != 0 ||
            (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
            continue; /* pruned meanwhile, or not ours to read */
        struct stat st;
        int frc = 0;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            frc = mon_report_read_fd(r, fd);
            r->files++;
        }
        close(fd);
        if (frc == -ENOMEM) {
            rc = frc;
            str_fmt(err, errlen, "out of memory reading %s", path);
            goto out;
        }
    }
    mon_report_finish(r);
    rc = 0;
    *out = r;
    r = NULL;
out:
    free(days);
    mon_report_free(r);
    return rc;
}

/* ---- formatting ---------------------------------------------------------------------- */

size_t mon_report_fullest(const struct mon_report *r, size_t *idx, size_t max)
{
    size_t all[MON_REPORT_MOUNTS_MAX], k = 0;
    for (size_t m = 0; m < r->nmounts; m++) {
        if (r->mounts[m].used.n == 0)
            continue;
        size_t j = k++;
        while (j > 0 && r->mounts[all[j - 1]].used.max < r->mounts[m].used.max) {
            all[j] = all[j - 1];
            j--;
        }
        all[j] = m;
    }
    if (k > max)
        k = max;
    memcpy(idx, all, k * sizeof(*idx));
    return k;
}

static const char *const series_keys[MON_SERIES_N] = {
    "cpu", "load1", "mem_used_pct", "swap_pct",
    "io_read_bps", "io_write_bps", "net_rx_bps", "net_tx_bps"};
static const char *const series_labels[MON_SERIES_N] = {
    "CPU", "Load (1 min)", "Memory used", "Swap used",
    "Disk read", "Disk write", "Net receive", "Net send"};

const char *mon_series_key(enum mon_series s)
{
    return (unsigned)s < MON_SERIES_N ? series_keys[s] : "?";
}

const char *mon_series_label(enum mon_series s)
{
    return (unsigned)s < MON_SERIES_N ? series_labels[s] : "?";
}

void mon_report_fmt_bytes(double v, char *out, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (isnan(v) || v < 0) {
        str_copy(out, cap, "-");
        return;
    }
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]))
        v /= 1024, u++;
    if (u == 0)
        str_fmt(out, cap, "%.0f B", v);
    else
        str_fmt(out, cap, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void mon_report_fmt_value(enum mon_series s, double v, char *out, size_t cap)
{
    if (isnan(v)) {
        str_copy(out, cap, "-");
        return;
    }
    switch (s) {
    case MON_CPU:
    case MON_MEM:
    case MON_SWAP:
        str_fmt(out, cap, "%.1f%%", v);
        break;
    case MON_LOAD1:
        str_fmt(out, cap, "%.2f", v);
        break;
    default: {
        char b[32];
        mon_report_fmt_bytes(v, b, sizeof(b));
        str_fmt(out, cap, "%s/s", b);
        break;
    }
    }
}

void mon_report_fmt_time(double t, char *out, size_t cap)
{
    time_t tt = (time_t)floor(t);
    struct tm tm;
    if (!isfinite(t) || localtime_r(&tt, &tm) == NULL ||
        strftime(out, cap, "%Y-%m-%d %H:%M", &tm) == 0)
        str_copy(out, cap, "?");
}

void mon_report_fmt_duration(double s, char *out, size_t cap)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    long long x = (long long)llround(s);
    if (x < 60)
        str_fmt(out, cap, "%llds", x);
    else if (x < 3600)
        str_fmt(out, cap, "%lldm", x / 60);
    else if (x < 86400)
        str_fmt(out, cap, "%lldh %lldm", x / 3600, x % 3600 / 60);
    else
        str_fmt(out, cap, "%lldd %lldh", x / 86400, x % 86400 / 3600);
}

void mon_report_fmt_zone(double t, char *out, size_t cap)
{
    time_t tt = isfinite(t) ? (time_t)floor(t) : 0;
    struct tm tm;
    if (localtime_r(&tt, &tm) == NULL) {
        str_copy(out, cap, "UTC");
        return;
    }
    long off = tm.tm_gmtoff;
    char name[32];
    if (strftime(name, sizeof(name), "%Z", &tm) == 0)
        name[0] = '\0';
    if (off == 0 && (name[0] == '\0' || strcmp(name, "UTC") == 0 || strcmp(name, "GMT") == 0)) {
        str_copy(out, cap, "UTC");
        return;
    }
    long a = off < 0 ? -off : off;
    str_fmt(out, cap, "%s%sUTC%c%02ld:%02ld", name, name[0] ? ", " : "", off < 0 ? '-' : '+',
            a / 3600, a % 3600 / 60);
}
