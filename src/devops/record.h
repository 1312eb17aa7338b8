/* The history of the DevOps commands: every deployment (Terraform), application installation
 * (Ansible) and stack has a folder ~/.cloudya/deployments/<id>/ holding its workspace, its
 * log and record.json (what was asked, each step with its timings, status, outputs). A lock
 * file in that folder keeps two runs off one deployment. */
#ifndef CLOUDYA_RECORD_H
#define CLOUDYA_RECORD_H
#include <jansson.h>
#include <stddef.h>

#include "dv_config.h"

#define RECORD_MAX_BYTES (1024 * 1024)
#define RECORD_ID_MAX 32
#define RECORDS_MAX 10000 /* listed at most */

/* 1 when id is a record id: "dep-", "app-" or "stack-" and 8 lowercase hex digits. */
int record_id_valid(const char *id);

/* Creates a new record folder (mode 0700) under c->deployments_dir with a fresh id of prefix
 * ("dep", "app", "stack"). Returns 0 with the id and the folder, or a negative errno with a
 * sentence. */
int record_create(const struct dv_config *c, const char *prefix, char *id, size_t idcap,
                  char *dir, size_t dircap, char *err, size_t errlen);

/* Writes rec as dir/record.json atomically (0600), stamping "updated_at". Returns 0 or a
 * negative errno with a sentence. */
int record_save(const char *dir, json_t *rec, char *err, size_t errlen);

/* Loads record id. Returns 0 with *rec (a new reference) and its folder in dir, -EINVAL for an
 * id that is not one, -ENOENT when there is none (both with a sentence saying how to list
 * them), or another negative errno. A record left "running" by a run that is gone (its lock
 * is free) is reported with status "interrupted". */
int record_load(const struct dv_config *c, const char *id, json_t **rec, char *dir,
                size_t dircap, char *err, size_t errlen);

/* Every record whose id starts with prefix ("dep-", "app-", "stack-", or "" for all), newest
 * first, as an array (a new reference, never NULL); unreadable records are skipped. */
json_t *record_list(const struct dv_config *c, const char *prefix);

/* Takes the lock of the record in dir without waiting. Returns the lock's file descriptor
 * (keep it until the run ends, then record_unlock), or -EBUSY with a sentence naming the
 * process that holds it, or another negative errno. */
int record_lock(const char *dir, char *err, size_t errlen);
void record_unlock(int fd);

/* The current time as RFC 3339 UTC with seconds, for records. */
void record_now(char *out, size_t cap);

#endif
