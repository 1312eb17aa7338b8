/* Unit tests for src/devops/manifest.c: manifest.yaml files written to a fresh temporary
 * folder and loaded with manifest_load (the seed's two examples verbatim, every field and
 * type, defaults converted to their parameter's type), every refusal with the sentence that
 * names it (no name, bad or duplicate parameter names, unknown types, defaults and allowed
 * values that do not fit, "allowed" that is not a list, a type that does not fit the kind,
 * more than MANIFEST_MAX_PARAMS parameters, documents that are not mappings, YAML anchors and
 * aliases, missing files), param_convert and param_value_fits directly, and every real
 * manifest shipped under SOURCE_ROOT/templates and SOURCE_ROOT/tests/cli/templates: each
 * loads, a Terraform one names the provider of its folder and declares each parameter as a
 * variable in its .tf files. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "yaml_load.h"

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must name the source tree (meson passes it)"
#endif

#define PATH_BUF 4096

static char dir[256];
static char err[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/cloudya-manifest-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes text as dir/manifest.yaml. */
static void write_manifest(const char *text)
{
    char p[400];
    snprintf(p, sizeof(p), "%s/manifest.yaml", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static struct dv_manifest *load_ok(enum dv_kind kind, const char *text)
{
    struct dv_manifest *m = (struct dv_manifest *)1;
    write_manifest(text);
    memset(err, 0, sizeof(err));
    int rc = manifest_load(dir, kind, &m, err, sizeof(err));
    if (rc != 0)
        fail_msg("manifest_load = %d: %s\n%s", rc, err, text);
    assert_non_null(m);
    return m;
}

/* Asserts that text is refused with -EINVAL (or want) and a sentence holding both words. */
static void load_bad_rc(enum dv_kind kind, const char *text, int want, const char *w1,
                        const char *w2)
{
    struct dv_manifest *m = (struct dv_manifest *)1;
    write_manifest(text);
    memset(err, 0, sizeof(err));
    int rc = manifest_load(dir, kind, &m, err, sizeof(err));
    if (rc != want)
        fail_msg("manifest_load = %d, expected %d (%s)\n%s", rc, want, err, text);
    assert_null(m);
    if (w1 != NULL && strstr(err, w1) == NULL)
        fail_msg("\"%s\" is not in \"%s\"", w1, err);
    if (w2 != NULL && strstr(err, w2) == NULL)
        fail_msg("\"%s\" is not in \"%s\"", w2, err);
}

static void load_bad(enum dv_kind kind, const char *text, const char *w1, const char *w2)
{
    load_bad_rc(kind, text, -EINVAL, w1, w2);
}

/* ---- valid manifests ------------------------------------------------------------------ */

/* The Terraform example of the seed's README, verbatim (French text included). */
static const char seed_vpc[] = "name: \"AWS VPC\"\n"
                               "provider: \"aws\"\n"
                               "description: \"VPC AWS avec sous-réseaux publics et privés\"\n"
                               "parameters:\n"
                               "  - name: \"region\"\n"
                               "    description: \"Région AWS\"\n"
                               "    default: \"us-east-1\"\n"
                               "    required: true\n"
                               "  - name: \"vpc_cidr\"\n"
                               "    description: \"CIDR block pour le VPC\"\n"
                               "    default: \"10.0.0.0/16\"\n"
                               "    required: true\n"
                               "platforms:\n"
                               "  - aws\n";

/* The application example of the seed's README, verbatim. */
static const char seed_wordpress[] = "name: \"WordPress\"\n"
                                     "type: \"ansible\"\n"
                                     "description: \"Système de gestion de contenu\"\n"
                                     "platforms:\n"
                                     "  - aws\n"
                                     "  - gcp\n"
                                     "  - azure\n"
                                     "parameters:\n"
                                     "  - name: \"domain\"\n"
                                     "    description: \"Nom de domaine\"\n"
                                     "    required: true\n"
                                     "  - name: \"admin_password\"\n"
                                     "    description: \"Mot de passe administrateur\"\n"
                                     "    required: true\n";

static void test_seed_terraform_example(void **state)
{
    (void)state;
    struct dv_manifest *m = load_ok(DV_TERRAFORM, seed_vpc);
    assert_int_equal(m->kind, DV_TERRAFORM);
    assert_string_equal(m->name, "AWS VPC");
    assert_string_equal(m->provider, "aws");
    assert_string_equal(m->description, "VPC AWS avec sous-réseaux publics et privés");
    assert_int_equal(m->nparams, 2);
    const struct dv_param *p = &m->params[0];
    assert_string_equal(p->name, "region");
    assert_string_equal(p->description, "Région AWS");
    assert_int_equal(p->type, PT_STRING); /* no type: text */
    assert_true(p->required);
    assert_false(p->secret);
    assert_string_equal(json_string_value(p->def), "us-east-1");
    assert_null(p->allowed);
    p = &m->params[1];
    assert_string_equal(p->name, "vpc_cidr");
    assert_int_equal(p->type, PT_STRING);
    assert_string_equal(json_string_value(p->def), "10.0.0.0/16");
    assert_int_equal(m->nplatforms, 1);
    assert_string_equal(m->platforms[0], "aws");
    assert_true(manifest_param(m, "region") == &m->params[0]);
    assert_true(manifest_param(m, "vpc_cidr") == &m->params[1]);
    assert_null(manifest_param(m, "zone"));
    assert_true(manifest_has_platform(m, "aws"));
    assert_false(manifest_has_platform(m, "gcp"));
    manifest_free(m);
}

static void test_seed_app_example(void **state)
{
    (void)state;
    struct dv_manifest *m = load_ok(DV_ANSIBLE, seed_wordpress);
    assert_int_equal(m->kind, DV_ANSIBLE);
    assert_string_equal(m->name, "WordPress");
    assert_null(m->provider);
    assert_int_equal(m->nparams, 2);
    assert_string_equal(m->params[1].name, "admin_password");
    assert_true(m->params[1].required);
    assert_null(m->params[1].def);
    assert_int_equal(m->nplatforms, 3);
    assert_true(manifest_has_platform(m, "gcp"));
    assert_true(manifest_has_platform(m, "azure"));
    assert_false(manifest_has_platform(m, "local"));
    manifest_free(m);
    /* an application manifest is not a Terraform one */
    load_bad(DV_TERRAFORM, seed_wordpress, "type \"ansible\" does not fit here",
             "expected \"terraform\"");
}

static void test_every_type(void **state)
{
    (void)state;
    struct dv_manifest *m = load_ok(DV_TERRAFORM,
                                    "name: All types\n"
                                    "type: terraform\n"
                                    "parameters:\n"
                                    "  - {name: s, type: string, default: 8080}\n"
                                    "  - {name: i, type: integer, default: \"42\"}\n"
                                    "  - {name: n, type: number, default: 3, allowed: [1, 3, 4.5]}\n"
                                    "  - {name: b, type: boolean, default: yes}\n"
                                    "  - {name: b2, type: boolean, default: false}\n"
                                    "  - {name: l, type: list, default: [x, y]}\n"
                                    "  - {name: l2, type: list, default: \"p;q\"}\n"
                                    "  - {name: c, type: cidr, default: \"fd00::/8\"}\n"
                                    "  - {name: pw, secret: true, required: false}\n"
                                    "  - {name: z, description: ~, type: ~, default: ~}\n");
    assert_int_equal(m->nparams, 10);
    assert_null(m->provider);
    assert_string_equal(m->description, ""); /* none: "" */
    assert_int_equal(m->nplatforms, 0);
    assert_true(manifest_has_platform(m, "anything")); /* none: all */
    const struct dv_param *p = manifest_param(m, "s");
    assert_string_equal(json_string_value(p->def), "8080"); /* an integer as text */
    p = manifest_param(m, "i");
    assert_int_equal(p->type, PT_INTEGER);
    assert_true(json_is_integer(p->def)); /* quoted text converted */
    assert_int_equal(json_integer_value(p->def), 42);
    p = manifest_param(m, "n");
    assert_int_equal(p->type, PT_NUMBER);
    assert_true(json_number_value(p->def) == 3.0);
    assert_int_equal(json_array_size(p->allowed), 3);
    p = manifest_param(m, "b");
    assert_true(json_is_true(p->def)); /* YAML 1.2 "yes" is text; converted */
    assert_true(json_is_false(manifest_param(m, "b2")->def));
    p = manifest_param(m, "l");
    assert_int_equal(p->type, PT_LIST);
    assert_int_equal(json_array_size(p->def), 2);
    p = manifest_param(m, "l2");
    assert_int_equal(json_array_size(p->def), 2); /* text split like the command line's */
    assert_string_equal(json_string_value(json_array_get(p->def, 1)), "q");
    p = manifest_param(m, "c");
    assert_int_equal(p->type, PT_CIDR);
    assert_string_equal(json_string_value(p->def), "fd00::/8");
    p = manifest_param(m, "pw");
    assert_true(p->secret);
    assert_false(p->required);
    p = manifest_param(m, "z");
    assert_int_equal(p->type, PT_STRING);
    assert_string_equal(p->description, "");
    assert_null(p->def);
    manifest_free(m);

    assert_string_equal(manifest_type_name(PT_STRING), "string");
    assert_string_equal(manifest_type_name(PT_INTEGER), "integer");
    assert_string_equal(manifest_type_name(PT_NUMBER), "number");
    assert_string_equal(manifest_type_name(PT_BOOLEAN), "boolean");
    assert_string_equal(manifest_type_name(PT_LIST), "list");
    assert_string_equal(manifest_type_name(PT_CIDR), "cidr");
    assert_string_equal(manifest_type_name((enum dv_ptype)99), "?");
}

/* MANIFEST_MAX_PARAMS parameters load; one more does not. */
static void test_parameter_limit(void **state)
{
    (void)state;
    char *text = malloc(64 * 1024);
    assert_non_null(text);
    size_t off = (size_t)snprintf(text, 64 * 1024, "name: Many\nparameters:\n");
    for (int i = 0; i < MANIFEST_MAX_PARAMS; i++)
        off += (size_t)snprintf(text + off, 64 * 1024 - off,
                                "  - name: p%d\n    type: integer\n    default: %d\n", i, i);
    struct dv_manifest *m = load_ok(DV_ANSIBLE, text);
    assert_int_equal(m->nparams, MANIFEST_MAX_PARAMS);
    assert_int_equal(json_integer_value(manifest_param(m, "p63")->def), 63);
    manifest_free(m);
    snprintf(text + off, 64 * 1024 - off, "  - name: one_more\n");
    load_bad(DV_ANSIBLE, text, "more than 64 parameters", NULL);
    free(text);
}

/* ---- refusals -------------------------------------------------------------------------- */

static void test_refuse_name(void **state)
{
    (void)state;
    load_bad(DV_TERRAFORM, "provider: aws\ndescription: x\n", "\"name\" is required", NULL);
    load_bad(DV_TERRAFORM, "name: \"\"\n", "\"name\" is required", NULL);
    load_bad(DV_TERRAFORM, "name: ~\n", "\"name\" is required", NULL);
    load_bad(DV_TERRAFORM, "name: 5\n", "must be text", NULL);
    load_bad(DV_TERRAFORM, "name: [a]\n", "must be text", NULL);
    load_bad(DV_TERRAFORM, "name: x\nprovider: 3\n", "must be text", NULL);
    load_bad(DV_TERRAFORM, "name: x\ndescription: {a: b}\n", "must be text", NULL);
    load_bad(DV_TERRAFORM, "name: \"a\\tb\"\n", "must be text", NULL); /* a control character */
    load_bad(DV_TERRAFORM, "name: x\ntype: 1\n", "must be text", NULL);
    /* the message names the file */
    load_bad(DV_TERRAFORM, "description: x\n", "/manifest.yaml", NULL);
}

static void test_refuse_parameter_names(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "  - name: Region\n",       "  - name: 1abc\n",   "  - name: a-b\n",
        "  - name: _x\n",           "  - name: \"\"\n",   "  - description: no name\n",
        "  - name: 12\n",           "  - name: [a]\n",    "  - name: \"r\xc3\xa9gion\"\n",
        "  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", /* 64 */
    };
    char text[512];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "name: X\nparameters:\n  - name: ok\n%s", bad[i]);
        load_bad(DV_ANSIBLE, text, "parameter 2 needs a name of lowercase letters", NULL);
    }
    /* 63 characters is the longest name */
    struct dv_manifest *m =
        load_ok(DV_ANSIBLE, "name: X\nparameters:\n"
                            "  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
    assert_int_equal(m->nparams, 1);
    manifest_free(m);
}

static void test_refuse_structure(void **state)
{
    (void)state;
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - name: a\n  - name: b\n  - name: a\n",
             "parameter \"a\" is declared twice", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters: {name: a}\n", "\"parameters\" must be a list",
             NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters: region\n", "\"parameters\" must be a list", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - region\n", "parameter 1 is not a mapping",
             NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - name: a\n  - [b]\n",
             "parameter 2 is not a mapping", NULL);
    load_bad(DV_TERRAFORM, "name: X\nplatforms: aws\n", "\"platforms\" must be a list", NULL);
    load_bad(DV_TERRAFORM, "name: X\nplatforms: [aws, 3]\n", "platform 2 is not a name", NULL);
    load_bad(DV_TERRAFORM, "name: X\nplatforms: [AWS]\n", "platform 1 is not a name", NULL);
    load_bad(DV_TERRAFORM,
             "name: X\nplatforms: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q]\n",
             "at most 16 names", NULL);
    /* a type that does not fit the kind */
    load_bad(DV_ANSIBLE, "name: X\ntype: terraform\n", "type \"terraform\" does not fit here",
             "expected \"ansible\"");
    load_bad(DV_TERRAFORM, "name: X\ntype: helm\n", "type \"helm\" does not fit here", NULL);
    /* parameters: ~ and platforms: ~ are none */
    struct dv_manifest *m = load_ok(DV_TERRAFORM, "name: X\nparameters: ~\nplatforms: ~\n");
    assert_int_equal(m->nparams, 0);
    assert_int_equal(m->nplatforms, 0);
    manifest_free(m);
}

static void test_refuse_types_and_flags(void **state)
{
    (void)state;
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: str}\n",
             "parameter \"a\" has the unknown type \"str\"", "string, integer");
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: String}\n", "unknown type",
             NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: 3}\n",
             "description and type must be text", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, required: \"yes\"}\n",
             "required and secret true or false", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, secret: 1}\n",
             "required and secret true or false", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, description: [x]}\n",
             "description and type must be text", NULL);
}

static void test_refuse_defaults(void **state)
{
    (void)state;
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: integer, default: abc}\n",
             "the default of \"a\" does not fit its type integer", "\"abc\" is not an integer");
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: integer, default: 2.5}\n",
             "does not fit its type integer", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: boolean, default: maybe}\n",
             "does not fit its type boolean", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: boolean, default: 1}\n",
             "does not fit its type boolean", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: number, default: [1]}\n",
             "does not fit its type number", "it is not a number");
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: list, default: 5}\n",
             "does not fit its type list", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: list, default: [a, [b]]}\n",
             "does not fit its type list", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: string, default: {k: v}}\n",
             "does not fit its type string", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: string, default: true}\n",
             "does not fit its type string", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: cidr, default: 10.0.0.1/16}\n",
             "does not fit its type cidr", "did you mean 10.0.0.0/16?");
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: cidr, default: 10.0.0.0}\n",
             "does not fit its type cidr", "not a CIDR block");
}

static void test_refuse_allowed(void **state)
{
    (void)state;
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, allowed: t3.micro}\n",
             "\"allowed\" of \"a\" must be a non-empty list", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, allowed: []}\n",
             "must be a non-empty list", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, allowed: {x: 1}}\n",
             "must be a non-empty list", NULL);
    load_bad(DV_TERRAFORM,
             "name: X\nparameters:\n  - {name: a, type: integer, default: 1, allowed: [1, x]}\n",
             "allowed value 2 of \"a\" does not fit its type integer", NULL);
    load_bad(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: cidr, allowed: [10.0.0.1/8]}\n",
             "allowed value 1 of \"a\" does not fit its type cidr", NULL);
    /* integers given as text in an allowed list are converted */
    struct dv_manifest *m =
        load_ok(DV_TERRAFORM, "name: X\nparameters:\n  - {name: a, type: integer, allowed: [\"1\", 2]}\n");
    const json_t *al = manifest_param(m, "a")->allowed;
    assert_true(json_is_integer(json_array_get(al, 0)));
    assert_int_equal(json_integer_value(json_array_get(al, 0)), 1);
    manifest_free(m);
}

static void test_refuse_documents(void **state)
{
    (void)state;
    load_bad(DV_TERRAFORM, "- name: X\n", "must be a mapping", NULL);
    load_bad(DV_TERRAFORM, "just text\n", "must be a mapping", NULL);
    load_bad(DV_TERRAFORM, "", "must be a mapping", NULL); /* an empty document is null */
    load_bad(DV_TERRAFORM, "name: [unclosed\n", "line", NULL);
    load_bad(DV_TERRAFORM, "name: X\nname: Y\n", NULL, NULL); /* duplicate keys */
    /* anchors and aliases are refused by the loader */
    load_bad(DV_TERRAFORM,
             "name: X\nparameters:\n  - &p {name: a}\n  - *p\n", "anchors", NULL);
    load_bad(DV_TERRAFORM, "name: X\ndescription: *nothing\n", "aliases", NULL);
    /* a document larger than MANIFEST_MAX_BYTES */
    size_t big = MANIFEST_MAX_BYTES + 16;
    char *text = malloc(big + 1);
    assert_non_null(text);
    memset(text, ' ', big);
    memcpy(text, "name: X\n#", 9);
    text[big - 1] = '\n';
    text[big] = '\0';
    load_bad_rc(DV_TERRAFORM, text, -E2BIG, NULL, NULL);
    free(text);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct dv_manifest *m = (struct dv_manifest *)1;
    char sub[400];
    snprintf(sub, sizeof(sub), "%s/none", dir);
    assert_int_equal(manifest_load(sub, DV_TERRAFORM, &m, err, sizeof(err)), -ENOENT);
    assert_null(m);
    assert_non_null(strstr(err, "manifest.yaml"));
    /* manifest.yaml as a folder */
    snprintf(sub, sizeof(sub), "%s/manifest.yaml", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    m = (struct dv_manifest *)1;
    assert_true(manifest_load(dir, DV_TERRAFORM, &m, err, sizeof(err)) < 0);
    assert_null(m);
    /* a path too long for the file name */
    char longdir[1200];
    memset(longdir, 'd', sizeof(longdir) - 1);
    longdir[sizeof(longdir) - 1] = '\0';
    m = (struct dv_manifest *)1;
    assert_int_equal(manifest_load(longdir, DV_TERRAFORM, &m, err, sizeof(err)), -ENAMETOOLONG);
    assert_null(m);
}

/* manifest_from_json takes its own reference: the caller may drop the document. */
static void test_from_json_reference(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:s,s:[{s:s,s:s}]}", "name", "N", "parameters", "name", "a",
                            "default", "v");
    struct dv_manifest *m = NULL;
    assert_int_equal(manifest_from_json(doc, DV_ANSIBLE, "mem", &m, err, sizeof(err)), 0);
    json_decref(doc);
    assert_string_equal(m->name, "N");
    assert_string_equal(json_string_value(m->params[0].def), "v");
    manifest_free(m);
    manifest_free(NULL);
    /* a refusal leaves the caller's reference alone */
    doc = json_pack("[]");
    m = (struct dv_manifest *)1;
    assert_int_equal(manifest_from_json(doc, DV_ANSIBLE, "mem", &m, err, sizeof(err)), -EINVAL);
    assert_null(m);
    assert_non_null(strstr(err, "mem must be a mapping"));
    assert_int_equal(doc->refcount, 1);
    json_decref(doc);
}

/* ---- param_convert and param_value_fits ------------------------------------------------ */

static void test_convert_and_fits(void **state)
{
    (void)state;
    json_t *v = NULL;
    char why[256];
    assert_int_equal(param_convert(PT_INTEGER, "-9007199254740992", &v, why, sizeof(why)), 0);
    assert_true(json_integer_value(v) == -9007199254740992LL);
    json_decref(v);
    assert_int_equal(param_convert(PT_INTEGER, "12 ", &v, why, sizeof(why)), -EINVAL);
    assert_null(v);
    assert_int_equal(param_convert(PT_INTEGER, " 12", &v, why, sizeof(why)), -EINVAL);
    assert_int_equal(param_convert(PT_NUMBER, "1e3", &v, why, sizeof(why)), 0);
    assert_true(json_real_value(v) == 1000.0);
    json_decref(v);
    assert_int_equal(param_convert(PT_NUMBER, "1e400", &v, why, sizeof(why)), -EINVAL);
    assert_int_equal(param_convert(PT_CIDR, "0.0.0.0/0", &v, why, sizeof(why)), 0);
    json_decref(v);
    assert_int_equal(param_convert(PT_CIDR, "10.0.0.0/8/8", &v, why, sizeof(why)), -EINVAL);
    assert_int_equal(param_convert(PT_CIDR, "/8", &v, why, sizeof(why)), -EINVAL);
    assert_int_equal(param_convert(PT_CIDR, "1.2.3.4/+8", &v, why, sizeof(why)), -EINVAL);
    assert_int_equal(param_convert((enum dv_ptype)42, "x", &v, why, sizeof(why)), -EINVAL);
    assert_null(v);

    json_t *ints = json_pack("[s,s]", "a", "b");
    json_t *mixed = json_pack("[s,i]", "a", 1);
    json_t *one = json_integer(1), *half = json_real(0.5), *t = json_true();
    json_t *s_cidr = json_string("10.0.0.0/8"), *s_host = json_string("10.0.0.1/8");
    assert_true(param_value_fits(PT_LIST, ints));
    assert_false(param_value_fits(PT_LIST, mixed));
    assert_true(param_value_fits(PT_NUMBER, one)); /* an integer is a number */
    assert_true(param_value_fits(PT_NUMBER, half));
    assert_false(param_value_fits(PT_INTEGER, half));
    assert_true(param_value_fits(PT_INTEGER, one));
    assert_true(param_value_fits(PT_BOOLEAN, t));
    assert_false(param_value_fits(PT_STRING, t));
    assert_true(param_value_fits(PT_CIDR, s_cidr));
    assert_false(param_value_fits(PT_CIDR, s_host));
    assert_false(param_value_fits(PT_CIDR, one));
    assert_false(param_value_fits((enum dv_ptype)42, one));
    json_decref(ints);
    json_decref(mixed);
    json_decref(one);
    json_decref(half);
    json_decref(t);
    json_decref(s_cidr);
    json_decref(s_host);
}

/* ---- the real templates ----------------------------------------------------------------- */

/* 1 when some .tf file of tdir declares variable "name" at the start of a line. */
static int declares_variable(const char *tdir, const char *name)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "variable \"%s\"", name);
    DIR *d = opendir(tdir);
    if (d == NULL)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".tf") != 0)
            continue;
        char p[1200];
        snprintf(p, sizeof(p), "%s/%s", tdir, e->d_name);
        FILE *f = fopen(p, "r");
        if (f == NULL)
            continue;
        char line[512];
        while (!found && fgets(line, sizeof(line), f) != NULL)
            if (strncmp(line, needle, strlen(needle)) == 0)
                found = 1;
        fclose(f);
    }
    closedir(d);
    return found;
}

/* Loads the manifest of template folder tdir and checks the contract with the runner:
 * a Terraform template's provider is its folder's (want_provider) and every parameter is a
 * variable of its .tf files; an application has a playbook.yml. */
static void check_template(const char *tdir, enum dv_kind kind, const char *want_provider)
{
    struct dv_manifest *m = NULL;
    int rc = manifest_load(tdir, kind, &m, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s: %s", tdir, err);
    print_message("loaded %s (%d parameters)\n", tdir, m->nparams);
    if (kind == DV_TERRAFORM) {
        if (m->provider == NULL || strcmp(m->provider, want_provider) != 0)
            fail_msg("%s: provider \"%s\" is not its folder's", tdir,
                     m->provider ? m->provider : "(none)");
        for (int i = 0; i < m->nparams; i++)
            if (!declares_variable(tdir, m->params[i].name))
                fail_msg("%s: parameter %s is not a variable in its .tf files", tdir,
                         m->params[i].name);
    } else {
        char pb[PATH_BUF];
        snprintf(pb, sizeof(pb), "%s/playbook.yml", tdir);
        if (access(pb, R_OK) != 0)
            fail_msg("%s has no playbook.yml", tdir);
    }
    manifest_free(m);
}

/* Calls check_template on every folder holding a manifest.yaml under root/<sub>: one level
 * for applications, provider/name for Terraform. Returns how many there were. */
static int load_all(const char *root, enum dv_kind kind)
{
    char base[PATH_BUF];
    snprintf(base, sizeof(base), "%s/%s", root, kind == DV_TERRAFORM ? "terraform" : "apps");
    DIR *d = opendir(base);
    if (d == NULL)
        return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_BUF], mf[PATH_BUF];
        assert_true((size_t)snprintf(p, sizeof(p), "%s/%s", base, e->d_name) < sizeof(p));
        if (kind == DV_ANSIBLE) {
            check_template(p, kind, NULL);
            count++;
            continue;
        }
        DIR *d2 = opendir(p);
        if (d2 == NULL)
            continue;
        struct dirent *e2;
        while ((e2 = readdir(d2)) != NULL) {
            char tdir[PATH_BUF];
            if (e2->d_name[0] == '.' ||
                (size_t)snprintf(tdir, sizeof(tdir), "%s/%s", p, e2->d_name) >= sizeof(tdir))
                continue;
            snprintf(mf, sizeof(mf), "%.*s/manifest.yaml", PATH_BUF - 20, tdir);
            if (access(mf, F_OK) != 0)
                fail_msg("%s has no manifest.yaml", tdir);
            check_template(tdir, kind, e->d_name);
            count++;
        }
        closedir(d2);
    }
    closedir(d);
    return count;
}

static void test_real_templates(void **state)
{
    (void)state;
    int tf = load_all(SOURCE_ROOT "/templates", DV_TERRAFORM);
    int apps = load_all(SOURCE_ROOT "/templates", DV_ANSIBLE);
    assert_true(tf >= 3);
    assert_true(apps >= 3);
    int ttf = load_all(SOURCE_ROOT "/tests/cli/templates", DV_TERRAFORM);
    int tapps = load_all(SOURCE_ROOT "/tests/cli/templates", DV_ANSIBLE);
    assert_true(ttf >= 1);
    assert_true(tapps >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seed_terraform_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_app_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameter_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_parameter_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_types_and_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test(test_from_json_reference),
        cmocka_unit_test(test_convert_and_fits),
        cmocka_unit_test(test_real_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
