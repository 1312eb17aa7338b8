/* A template's manifest.yaml (the seed's layout): its name, provider or type, description,
 * typed parameters and platforms, checked once when loaded so the rest of the code can rely
 * on it. Parameters are what `--params k=v,...` is validated against. */
#ifndef CLOUDYA_MANIFEST_H
#define CLOUDYA_MANIFEST_H
#include <jansson.h>
#include <stddef.h>

#define MANIFEST_MAX_BYTES (64 * 1024)
#define MANIFEST_MAX_PARAMS 64
#define MANIFEST_MAX_PLATFORMS 16
#define PARAM_NAME_MAX 64
#define PARAM_VALUE_MAX 4096

enum dv_kind { DV_TERRAFORM, DV_ANSIBLE };

enum dv_ptype { PT_STRING, PT_INTEGER, PT_NUMBER, PT_BOOLEAN, PT_LIST, PT_CIDR };

struct dv_param {
    const char *name;        /* [a-z][a-z0-9_]*, the variable's name */
    const char *description; /* "" when none */
    enum dv_ptype type;
    json_t *def;     /* the default, already of the parameter's type; NULL when none */
    json_t *allowed; /* an array of allowed values of the type; NULL when any */
    int required;    /* a default satisfies it */
    int secret;      /* never printed; masked in records */
};

struct dv_manifest {
    json_t *doc;             /* the parsed YAML; the strings below point into it */
    enum dv_kind kind;
    const char *name;        /* display name */
    const char *provider;    /* terraform templates: "aws"...; apps: NULL */
    const char *description; /* "" when none */
    struct dv_param params[MANIFEST_MAX_PARAMS];
    int nparams;
    const char *platforms[MANIFEST_MAX_PLATFORMS];
    int nplatforms;
};

/* Loads dir/manifest.yaml for a template of kind. Returns 0 with *out (free it with
 * manifest_free), or a negative errno with a sentence naming the file and what is wrong:
 * missing, not YAML, a field of the wrong type, a parameter without a valid name or with an
 * unknown type, a default or an allowed value that does not fit its type, duplicates,
 * more than MANIFEST_MAX_PARAMS parameters. */
int manifest_load(const char *dir, enum dv_kind kind, struct dv_manifest **out, char *err,
                  size_t errlen);

/* Checks an already parsed manifest document (for manifest_load and the fuzzer). Takes a
 * reference to doc on success. Same returns as manifest_load. */
int manifest_from_json(json_t *doc, enum dv_kind kind, const char *where,
                       struct dv_manifest **out, char *err, size_t errlen);

void manifest_free(struct dv_manifest *m);

/* The parameter named name, or NULL. */
const struct dv_param *manifest_param(const struct dv_manifest *m, const char *name);

/* 1 when platform is listed in the manifest's platforms (a manifest with none allows all). */
int manifest_has_platform(const struct dv_manifest *m, const char *platform);

/* "string", "integer", ... */
const char *manifest_type_name(enum dv_ptype t);

/* Converts text (from the command line) to a value of type t, checking it: an integer or a
 * number in range, true/false/yes/no/1/0, a list split at ',' or ';', a CIDR block whose host
 * bits are zero. Returns 0 with a new reference in *out, or -EINVAL with the reason in why. */
int param_convert(enum dv_ptype t, const char *text, json_t **out, char *why, size_t cap);

/* Checks that v (from YAML or JSON) fits type t; an integer fits a number, a list holds
 * strings. Returns 1 or 0. */
int param_value_fits(enum dv_ptype t, const json_t *v);

#endif
