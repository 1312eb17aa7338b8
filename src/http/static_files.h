/* The dashboard's files, served by the daemon itself: a directory read once at start into
 * memory (the built app is a few hundred KiB), looked up by exact path, so no request can
 * name a file outside it. Hashed assets (under /assets/) are cached for a year; everything
 * else is revalidated with its ETag. Every answer carries a strict Content-Security-Policy.
 * A path without a file extension that names no file gets index.html, so the app's own
 * routes (/containers/web) survive a reload. */
#ifndef CLOUDYA_STATIC_FILES_H
#define CLOUDYA_STATIC_FILES_H
#include <stddef.h>

#include "http_server.h"

#define STATIC_FILES_MAX 2000           /* files in the directory */
#define STATIC_BYTES_MAX (64u << 20)    /* bytes of all files together */
#define STATIC_DEPTH_MAX 8              /* nested directories */

#define STATIC_CSP                                                                         \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "     \
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "            \
    "frame-ancestors 'none'; form-action 'self'"

typedef struct static_files static_files;

/* Reads every regular file under dir (symbolic links and names starting with '.' are
 * skipped). Returns 0 with *out, -ENOENT when dir does not exist or holds no index.html,
 * -EFBIG past the limits above, or another negative errno; err says which. */
int static_files_load(const char *dir, static_files **out, char *err, size_t errlen);

/* Answers a GET or HEAD for the request's path: the file, 304 for a matching
 * If-None-Match, index.html for an extension-less path that is no file, or a plain 404.
 * Never blocks (everything is in memory). */
void static_files_serve(const static_files *sf, http_req *q);

/* How many files and bytes were loaded (for the start-up log). */
size_t static_files_count(const static_files *sf, size_t *bytes);

void static_files_free(static_files *sf);

/* The Content-Type for a file name by its extension; "application/octet-stream" when
 * unknown. */
const char *static_content_type(const char *name);

#endif
