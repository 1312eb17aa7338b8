/* `cloudyad migrate-store`: moves every row of a SQLite installation into an empty
 * PostgreSQL database. */
#ifndef CLOUDYA_STORE_MIGRATE_H
#define CLOUDYA_STORE_MIGRATE_H
#include <stddef.h>
#include <stdio.h>

/* Copies from (a sqlite:// URL) into to (a postgresql:// URL), both first brought to this
 * binary's schema. The target must hold no clients, users or containers (-EEXIST). All rows
 * go in one transaction: on any error nothing is kept. Writes "table N rows" lines to report
 * (when not NULL). Returns 0 or a negative errno with a sentence in err (never a password). */
int store_migrate_sqlite_to_pg(const char *from, const char *to, FILE *report, char *err,
                               size_t errlen);

#endif
