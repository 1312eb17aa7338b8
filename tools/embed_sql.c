/* embed_sql: compiles schema migration files into a C source file, so the daemon carries its
 * SQL inside the binary and never reads it from disk at run time.
 *
 *   embed_sql OUT.c SYMBOL FILE...
 *
 * Each FILE must be named NNNN_name.sql (digits, an underscore, [a-z0-9_]+, ".sql"); the
 * number is the migration version and the rest its name. OUT.c defines
 *
 *   const struct store_migration SYMBOL[] = {{1, "init", "<sql>"}, ...};
 *   const size_t SYMBOL_count = N;
 *
 * sorted by version, with struct store_migration from src/store/migrations.h. Duplicate
 * versions, bad names, empty files and NUL bytes are errors. Runs on the build machine only. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SQL_BYTES (4 * 1024 * 1024) /* a migration larger than this is a mistake */
#define MAX_NAME 64

struct mig {
    long version;
    char name[MAX_NAME];
    const char *path;
    char *sql;
    size_t len;
};

/* Parses "dir/NNNN_name.sql" into version and name. Returns 0, or -1 with a message. */
static int parse_name(const char *path, long *version, char *name, size_t namelen)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *p = base;
    while (isdigit((unsigned char)*p))
        p++;
    size_t ndig = (size_t)(p - base);
    if (ndig == 0 || ndig > 9 || *p != '_') {
        fprintf(stderr, "embed_sql: %s: the name must look like NNNN_name.sql\n", path);
        return -1;
    }
    errno = 0;
    char *end = NULL;
    long v = strtol(base, &end, 10);
    if (errno != 0 || end != p || v <= 0) {
        fprintf(stderr, "embed_sql: %s: the version must be a number above 0\n", path);
        return -1;
    }
    const char *nm = p + 1;
    size_t total = strlen(nm);
    if (total <= 4 || strcmp(nm + total - 4, ".sql") != 0) {
        fprintf(stderr, "embed_sql: %s: the name must end in _name.sql\n", path);
        return -1;
    }
    size_t len = total - 4;
    if (len >= namelen) {
        fprintf(stderr, "embed_sql: %s: the name is longer than %zu bytes\n", path, namelen - 1);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)nm[i];
        if (!(islower(ch) || isdigit(ch) || ch == '_')) {
            fprintf(stderr, "embed_sql: %s: the name may hold only a-z, 0-9 and _\n", path);
            return -1;
        }
    }
    memcpy(name, nm, len);
    name[len] = '\0';
    *version = v;
    return 0;
}

/* Reads the whole file into a malloc'ed buffer. Returns 0, or -1 with a message. */
static int read_file(struct mig *m)
{
    int ret = -1;
    size_t cap = 0, len = 0;
    char *buf = NULL;
    FILE *f = fopen(m->path, "rb");
    if (!f) {
        fprintf(stderr, "embed_sql: %s: %s\n", m->path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                fprintf(stderr, "embed_sql: %s: out of memory\n", m->path);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len > MAX_SQL_BYTES) {
            fprintf(stderr, "embed_sql: %s: larger than %d bytes\n", m->path, MAX_SQL_BYTES);
            goto out;
        }
        if (got == 0) break;
    }
    if (ferror(f)) {
        fprintf(stderr, "embed_sql: %s: read error\n", m->path);
        goto out;
    }
    if (len == 0) {
        fprintf(stderr, "embed_sql: %s: the file is empty\n", m->path);
        goto out;
    }
    if (memchr(buf, '\0', len)) {
        fprintf(stderr, "embed_sql: %s: the file contains a NUL byte\n", m->path);
        goto out;
    }
    m->sql = buf;
    m->len = len;
    buf = NULL;
    ret = 0;
out:
    free(buf);
    fclose(f);
    return ret;
}

static int cmp_mig(const void *a, const void *b)
{
    const struct mig *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

static int valid_symbol(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_')) return 0;
    return strlen(s) < 200;
}

/* Writes sql as a C string literal, one source line per SQL line. '?' is escaped so that no
 * trigraph can form; bytes outside printable ASCII become three-digit octal escapes. */
static void write_literal(FILE *out, const char *sql, size_t len)
{
    fputs("     \"", out);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)sql[i];
        switch (ch) {
        case '\\':
            fputs("\\\\", out);
            break;
        case '"':
            fputs("\\\"", out);
            break;
        case '?':
            fputs("\\?", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\n':
            fputs(i + 1 < len ? "\\n\"\n     \"" : "\\n", out);
            break;
        default:
            if (ch < 0x20 || ch >= 0x7f)
                fprintf(out, "\\%03o", ch);
            else
                fputc(ch, out);
        }
    }
    fputs("\"", out);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: embed_sql OUT.c SYMBOL NNNN_name.sql...\n");
        return 2;
    }
    const char *outpath = argv[1], *symbol = argv[2];
    if (!valid_symbol(symbol)) {
        fprintf(stderr, "embed_sql: %s is not a C identifier\n", symbol);
        return 2;
    }
    size_t n = (size_t)argc - 3;
    struct mig *migs = calloc(n, sizeof *migs);
    int status = 1;
    FILE *out = NULL;
    if (!migs) {
        fprintf(stderr, "embed_sql: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        migs[i].path = argv[i + 3];
        if (parse_name(migs[i].path, &migs[i].version, migs[i].name, sizeof migs[i].name) < 0 ||
            read_file(&migs[i]) < 0)
            goto out;
    }
    qsort(migs, n, sizeof *migs, cmp_mig);
    for (size_t i = 1; i < n; i++) {
        if (migs[i].version == migs[i - 1].version) {
            fprintf(stderr, "embed_sql: %s and %s have the same version %ld\n", migs[i - 1].path,
                    migs[i].path, migs[i].version);
            goto out;
        }
        if (migs[i].version > INT_MAX) {
            fprintf(stderr, "embed_sql: %s: version too large\n", migs[i].path);
            goto out;
        }
    }
    out = fopen(outpath, "w");
    if (!out) {
        fprintf(stderr, "embed_sql: %s: %s\n", outpath, strerror(errno));
        goto out;
    }
    fprintf(out, "/* Generated by tools/embed_sql; do not edit. Sources:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(out, " *   %04ld_%s.sql\n", migs[i].version, migs[i].name);
    fprintf(out, " */\n#include <stddef.h>\n\n#include \"migrations.h\"\n\n");
    fprintf(out, "extern const struct store_migration %s[];\n", symbol);
    fprintf(out, "extern const size_t %s_count;\n\n", symbol);
    fprintf(out, "const struct store_migration %s[] = {\n", symbol);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "    {%ld, \"%s\",\n", migs[i].version, migs[i].name);
        write_literal(out, migs[i].sql, migs[i].len);
        fprintf(out, "},\n");
    }
    fprintf(out, "};\nconst size_t %s_count = %zu;\n", symbol, n);
    if (ferror(out)) {
        fprintf(stderr, "embed_sql: %s: write error\n", outpath);
        goto out;
    }
    status = 0;
out:
    if (out && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "embed_sql: %s: %s\n", outpath, strerror(errno));
        status = 1;
    }
    if (status != 0 && out) remove(outpath);
    for (size_t i = 0; i < n; i++)
        free(migs[i].sql);
    free(migs);
    return status;
}
