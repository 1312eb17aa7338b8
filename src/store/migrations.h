/* Schema migrations compiled into the binary. tools/embed_sql turns the files
 * src/store/migrations/<backend>/NNNN_name.sql into a C array of these, sorted by version,
 * so cloudyad never reads SQL from disk at run time. A migration's SQL must not contain
 * BEGIN/COMMIT: the runner wraps each one in its own transaction. */
#ifndef CLOUDYA_STORE_MIGRATIONS_H
#define CLOUDYA_STORE_MIGRATIONS_H
#include <stddef.h>

struct store_migration {
    int version;      /* NNNN from the file name, > 0, strictly increasing in the array */
    const char *name; /* "init" from 0001_init.sql */
    const char *sql;  /* the whole file */
};

/* Generated from src/store/migrations/sqlite/ by tools/embed_sql. */
extern const struct store_migration store_sqlite_migrations[];
extern const size_t store_sqlite_migrations_count;

/* Generated from src/store/migrations/pg/ by tools/embed_sql. */
extern const struct store_migration store_pg_migrations[];
extern const size_t store_pg_migrations_count;

#endif
