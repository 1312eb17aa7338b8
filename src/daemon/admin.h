/* `cloudyad admin ...`: account administration against the configured database, without
 * the HTTP server (used by `make run` to create the first admin). */
#ifndef CLOUDYA_ADMIN_H
#define CLOUDYA_ADMIN_H
#include "config.h"
#include "store.h"

/* Runs `admin create|count` with argv after "admin". Returns the exit status. */
int admin_main(const config *cfg, int argc, char **argv);

/* Creates the admin named by CLOUDYA_ADMIN_EMAIL/PASSWORD when that email has no account
 * yet. Returns 0 or a negative errno (logged). */
int admin_bootstrap(store *st, const config *cfg);

#endif
