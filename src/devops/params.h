/* `--params k=v,k2=v2`: the command line's parameters for a template, split, then checked
 * against the template's manifest (names, required, defaults, types, allowed values) so a
 * mistake is a clear error before any tool runs. */
#ifndef CLOUDYA_PARAMS_H
#define CLOUDYA_PARAMS_H
#include <jansson.h>
#include <stddef.h>

#include "manifest.h"

#define PARAMS_TEXT_MAX (16 * 1024)
#define PARAMS_MAX_PAIRS 64

/* Splits text into name -> value (strings), added to obj. Pairs are separated by commas;
 * "\," is a comma inside a value and "\\" a backslash; a piece without '=' continues the
 * previous value (so "zones=a,b,region=x" gives zones "a,b"). Names are letters, digits and
 * '_'. Returns 0, or -EINVAL with a sentence naming the bad piece (empty, no name, a name
 * given twice, too long, more than PARAMS_MAX_PAIRS). */
int params_parse(const char *text, json_t *obj, char *err, size_t errlen);

/* Checks given (name -> string, from params_parse) against m for template `what` and builds
 * *values (a new object, name -> typed value) holding every parameter that has a value: the
 * given one or the default. Returns 0, or -EINVAL with a sentence: an unknown name (with the
 * closest known one and the list), a value of the wrong type, a value not allowed (with the
 * allowed ones), a required parameter with no value (with its description). */
int params_resolve(const struct dv_manifest *m, const char *what, const json_t *given,
                   json_t **values, char *err, size_t errlen);

/* A copy of values fit to print or record: secret parameters' values become "********". */
json_t *params_masked(const struct dv_manifest *m, const json_t *values);

/* The edit distance of a and b, capped at 9: for "did you mean". */
int params_distance(const char *a, const char *b);

#endif
