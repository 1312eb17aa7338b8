/* The templates a user can deploy: the built-in ones shipped with the project and the user's
 * own under templates_dir (terraform/<provider>/<name>/ and apps/<name>/). A user's template
 * with the same id as a built-in one replaces it. */
#ifndef CLOUDYA_TEMPLATES_H
#define CLOUDYA_TEMPLATES_H
#include <jansson.h>
#include <stddef.h>

#include "dv_config.h"
#include "manifest.h"

#define TEMPLATES_MAX 512 /* per kind and source; more are ignored */

/* 1 when id is a template id of kind: "provider/name" for Terraform, "name" for apps; each
 * word lowercase letters, digits, '-' and '_', starting with a letter or digit, under 64. */
int template_id_valid(enum dv_kind kind, const char *id);

/* Finds template id of kind. Returns 0 with its folder in dir and *user set to 1 when it is
 * the user's own, -EINVAL for an id that is not valid, or -ENOENT; both with a sentence
 * (for -ENOENT: the closest id and where templates are looked for). */
int template_find(const struct dv_config *c, enum dv_kind kind, const char *id, char *dir,
                  size_t cap, int *user, char *err, size_t errlen);

/* Every template of kind as an array of {id, name, provider?, description, source
 * ("built-in"|"user"), dir, parameters: [...], platforms: [...]}, sorted by id; a template whose
 * manifest is broken is listed with "error" instead of the manifest's fields. Returns a
 * new reference (never NULL). */
json_t *templates_list(const struct dv_config *c, enum dv_kind kind);

/* A template's manifest as JSON for listings and `show`: name, description, parameters with
 * type, required, default (masked when secret), allowed, secret; platforms. */
json_t *template_describe(const struct dv_manifest *m);

/* Copies the template folder src into dst (which exists): regular files and folders, at most
 * 8 levels and 2000 entries, skipping .terraform, state files and symbolic links, so a
 * deployment keeps the version it was made with. Returns 0 or a negative errno with a
 * sentence. */
int template_copy(const char *src, const char *dst, char *err, size_t errlen);

#endif
