/* The monitor's history: the folder of day files, recording samples into it and pruning it
 * (see mon_history.h; the line format is in mon_history_line.c). */
#define _GNU_SOURCE
#include "mon_history.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dv_config.h"
#include "str.h"
#include "xalloc.h"

#define SECONDS_PER_DAY 86400.0
#define DAY_MAX 2932896 /* 9999-12-31 */

struct mon_history {
    int dirfd;
    int fd;               /* the open day file, -1 when none */
    int64_t day;          /* its day; INT64_MIN when none */
    int64_t pruned_day;   /* the day file the last prune kept */
    int day_full;         /* the cap of this day was reached (and said) */
    int need_newline;     /* the file ends in the middle of a line: start with '\n' */
    int have_last;
    double last_t;        /* the last sample recorded through this handle */
    struct mon_history_limits lim;
    char dir[DV_PATH_MAX];
    struct mon_sample s;                /* scratch */
    char line[MON_HISTORY_LINE_MAX + 2]; /* room for a leading '\n' */
};

/* ---- days and file names ------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int mon_history_dir(const char *home, char *out, size_t cap)
{
    if (home == NULL || home[0] == '\0')
        return -EINVAL;
    int n = snprintf(out, cap, "%s/%s", home, MON_HISTORY_DIR);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int mon_history_day_name(int64_t day, char *out, size_t cap)
{
    if (day < 0 || day > DAY_MAX)
        return -ERANGE;
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    int n = snprintf(out, cap, "samples-%04d-%02u-%02u.jsonl", (int)y, m, d);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

static int digits(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return 0;
}

int mon_history_name_day(const char *name, int64_t *day)
{
    unsigned y, m, d;
    if (name == NULL || strlen(name) != MON_HISTORY_NAME_LEN ||
        strncmp(name, "samples-", 8) != 0 || name[12] != '-' || name[15] != '-' ||
        strcmp(name + 18, ".jsonl") != 0 || digits(name + 8, 4, &y) != 0 ||
        digits(name + 13, 2, &m) != 0 || digits(name + 16, 2, &d) != 0)
        return -EINVAL;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
        return -EINVAL;
    int64_t z = days_from_civil(y, m, d);
    int64_t yy;
    unsigned mm, dd;
    civil_from_days(z, &yy, &mm, &dd);
    if (yy != (int64_t)y || mm != m || dd != d) /* 31 April and the like */
        return -EINVAL;
    *day = z;
    return 0;
}

static int64_t day_of(double t)
{
    return (int64_t)floor(t / SECONDS_PER_DAY);
}

/* ---- the folder ---------------------------------------------------------------------- */

struct mon_history_limits mon_history_limits_default(void)
{
    struct mon_history_limits l = {
        .min_gap_s = MON_HISTORY_MIN_GAP_DEFAULT,
        .max_day_bytes = MON_HISTORY_DAY_BYTES_DEFAULT,
        .max_total_bytes = MON_HISTORY_TOTAL_BYTES_DEFAULT,
        .max_days = MON_HISTORY_DAYS_DEFAULT,
    };
    return l;
}

struct dayfile {
    int64_t day;
    off_t size;
    char name[MON_HISTORY_NAME_LEN + 1];
};

static int dayfile_cmp(const void *a, const void *b)
{
    const struct dayfile *x = a, *y = b;
    return x->day < y->day ? -1 : x->day > y->day;
}

static void remove_file(struct mon_history *h, const char *name)
{
    /* Best effort: another monitor may have pruned it first, which is the same result, and
     * a file we cannot remove only makes the folder larger than asked until the next try. */
    (void)unlinkat(h->dirfd, name, 0);
}

/* Removes the day files older than max_days before today (by the wall clock, not by a
 * sample's time: a sample dated far ahead must not age the whole folder out), then the
 * oldest until the folder is under max_total_bytes; the day file keep (the one about to be
 * written) stays whatever its age or size. Returns 0 or a negative errno when the folder
 * cannot be listed (pruning is best effort otherwise). */
static int prune(struct mon_history *h, int64_t keep)
{
    int64_t today = day_of((double)time(NULL));
    h->pruned_day = keep;
    int fd = openat(h->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct dayfile *files = xcalloc(MON_HISTORY_FILES_MAX, sizeof(*files));
    size_t n = 0;
    struct dirent *de;
    while (n < MON_HISTORY_FILES_MAX && (de = readdir(d)) != NULL) {
        int64_t day;
        struct stat st;
        if (mon_history_name_day(de->d_name, &day) != 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        files[n].day = day;
        files[n].size = st.st_size;
        str_copy(files[n].name, sizeof(files[n].name), de->d_name);
        n++;
    }
    closedir(d);
    qsort(files, n, sizeof(*files), dayfile_cmp);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (files[i].day != keep && today - files[i].day >= h->lim.max_days) {
            remove_file(h, files[i].name);
            files[i].size = -1;
        } else {
            total += (uint64_t)files[i].size;
        }
    }
    for (size_t i = 0; i < n && total > h->lim.max_total_bytes; i++) {
        if (files[i].size < 0 || files[i].day == keep)
            continue;
        remove_file(h, files[i].name);
        total -= (uint64_t)files[i].size;
    }
    free(files);
    return 0;
}

int mon_history_open(const char *home, const struct mon_history_limits *limits,
                     struct mon_history **out, char *err, size_t errlen)
{
    struct mon_history_limits lim = limits != NULL ? *limits : mon_history_limits_default();
    *out = NULL;
    if (!isfinite(lim.min_gap_s) || lim.min_gap_s < 0 || lim.max_day_bytes == 0 ||
        lim.max_total_bytes == 0 || lim.max_days < 1) {
        str_fmt(err, errlen, "the history limits are out of range (a gap of 0 s or more, "
                             "caps above 0 bytes, at least one day)");
        return -EINVAL;
    }
    char dir[DV_PATH_MAX];
    if (mon_history_dir(home, dir, sizeof(dir)) != 0) {
        str_fmt(err, errlen, "the monitor history folder path is too long or empty");
        return -ENAMETOOLONG;
    }
    int rc = dv_mkdirs(dir, 0700);
    if (rc != 0) {
        str_fmt(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
        return rc;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rc = -errno;
        str_fmt(err, errlen, "cannot open %s: %s", dir, strerror(-rc));
        return rc;
    }
    struct mon_history *h = xcalloc(1, sizeof(*h));
    h->dirfd = dfd;
    h->fd = -1;
    h->day = INT64_MIN;
    h->lim = lim;
    str_copy(h->dir, sizeof(h->dir), dir);
    prune(h, day_of((double)time(NULL)));
    *out = h;
    return 0;
}

void mon_history_close(struct mon_history *h)
{
    if (h == NULL)
        return;
    if (h->fd >= 0)
        close(h->fd);
    close(h->dirfd);
    free(h);
}

/* Opens the day file of day for appending (creating it 0600), refusing anything but a
 * regular file. Returns 0 or a negative errno with a sentence. */
static int open_day(struct mon_history *h, int64_t day, char *err, size_t errlen)
{
    char name[MON_HISTORY_NAME_LEN + 1];
    int rc = mon_history_day_name(day, name, sizeof(name));
    if (rc != 0) {
        str_fmt(err, errlen, "the sample's time is outside the years 1970 to 9999");
        return -EINVAL;
    }
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
    h->day = INT64_MIN;
    if (h->pruned_day != day)
        prune(h, day);
    /* O_NONBLOCK: a FIFO put there must not hang the monitor; O_NOFOLLOW: nor a link. */
    int fd = openat(h->dirfd, name,
                    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    if (fd < 0) {
        rc = -errno;
        str_fmt(err, errlen, "cannot open %s/%s: %s", h->dir, name, strerror(-rc));
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        str_fmt(err, errlen, "%s/%s is not a regular file", h->dir, name);
        return -EINVAL;
    }
    fcntl(fd, F_SETFL, O_APPEND);
    /* A file that ends in the middle of a line (a write cut short, a crash): our first line
     * starts on a line of its own, so only the broken line is lost. */
    h->need_newline = 0;
    if (st.st_size > 0) {
        char last = '\n';
        int rfd = openat(h->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (rfd >= 0) {
            if (pread(rfd, &last, 1, st.st_size - 1) == 1 && last != '\n')
                h->need_newline = 1;
            close(rfd);
        }
    }
    h->fd = fd;
    h->day = day;
    h->day_full = 0;
    return 0;
}

int mon_history_add(struct mon_history *h, const json_t *sample, char *err, size_t errlen)
{
    if (h == NULL || !json_is_object(sample))
        return -EINVAL;
    const json_t *tv = json_object_get(sample, "t");
    double t = json_is_number(tv) ? json_number_value(tv) : NAN;
    if (!(t > 0 && t < MON_SAMPLE_T_MAX)) {
        str_fmt(err, errlen, "the sample has no valid time (\"t\")");
        return -EINVAL;
    }
    if (h->have_last && fabs(t - h->last_t) < h->lim.min_gap_s)
        return MON_HISTORY_SKIPPED;
    int64_t day = day_of(t);
    if (day != h->day) {
        int rc = open_day(h, day, err, errlen);
        if (rc != 0)
            return rc;
    }
    if (h->day_full)
        return MON_HISTORY_SKIPPED;
    if (mon_sample_from_json(sample, &h->s) != 0)
        return -EINVAL;
    size_t len;
    if (mon_sample_format(&h->s, h->line + 1, sizeof(h->line) - 1, &len) != 0) {
        str_fmt(err, errlen, "the sample does not fit in one history line");
        return -E2BIG;
    }
    char *p = h->line + 1;
    if (h->need_newline) {
        h->line[0] = '\n';
        p = h->line;
        len++;
    }
    struct stat st;
    if (fstat(h->fd, &st) != 0) {
        int rc = -errno;
        str_fmt(err, errlen, "cannot read the size of %s: %s", h->dir, strerror(-rc));
        return rc;
    }
    if ((uint64_t)st.st_size + len > h->lim.max_day_bytes) {
        h->day_full = 1;
        return MON_HISTORY_DAY_FULL;
    }
    ssize_t w;
    do
        w = write(h->fd, p, len);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
        int rc = -errno;
        str_fmt(err, errlen, "cannot write the monitor history in %s: %s", h->dir,
                strerror(-rc));
        return rc;
    }
    if ((size_t)w < len) { /* cut short: the disk is full */
        h->need_newline = 1;
        str_fmt(err, errlen, "cannot write the monitor history in %s: %s", h->dir,
                strerror(ENOSPC));
        return -ENOSPC;
    }
    h->need_newline = 0;
    h->have_last = 1;
    h->last_t = t;
    return MON_HISTORY_RECORDED;
}
