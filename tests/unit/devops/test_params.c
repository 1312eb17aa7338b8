/* Unit tests for src/devops/params.c, the `--params k=v,...` of the DevOps commands:
 * params_parse (pairs, "\," and "\\" escapes, a piece without '=' continuing the previous
 * value, empty pieces, bad names, duplicates, the name, pair and text limits) and
 * params_resolve against a manifest written here (unknown names with "did you mean", every
 * type with its conversions and refusals, IPv4 and IPv6 CIDR blocks with host bits, allowed
 * values of text, integers and numbers, required parameters, defaults), params_masked, and
 * the rule that a secret's value is never written into an error sentence. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "params.h"
#include "yaml_load.h"

static char err[1024];

/* ---- helpers ------------------------------------------------------------------------- */

/* Parses text into a new object; the caller frees it. */
static json_t *parse_ok(const char *text)
{
    json_t *obj = json_object();
    memset(err, 0, sizeof(err));
    int rc = params_parse(text, obj, err, sizeof(err));
    if (rc != 0)
        fail_msg("params_parse(\"%s\") = %d: %s", text, rc, err);
    return obj;
}

/* Asserts that text is refused with a sentence holding word. */
static void parse_bad(const char *text, const char *word)
{
    json_t *obj = json_object();
    memset(err, 0, sizeof(err));
    int rc = params_parse(text, obj, err, sizeof(err));
    json_decref(obj);
    if (rc != -EINVAL)
        fail_msg("params_parse(\"%.60s\") = %d, expected -EINVAL", text, rc);
    if (word != NULL && strstr(err, word) == NULL)
        fail_msg("\"%s\" is not in \"%s\"", word, err);
}

static void assert_str_member(const json_t *obj, const char *key, const char *want)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string member", key);
    assert_string_equal(json_string_value(v), want);
}

static void assert_has(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("\"%s\" is not in \"%s\"", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
    if (strstr(hay, needle) != NULL)
        fail_msg("\"%s\" should not be in \"%s\"", needle, hay);
}

/* The manifest of the resolve tests: one parameter of each kind the checks care about. */
static const char manifest_yaml[] =
    "name: \"Test template\"\n"
    "provider: aws\n"
    "parameters:\n"
    "  - name: region\n"
    "    description: \"AWS region\"\n"
    "    default: \"us-east-1\"\n"
    "    required: true\n"
    "  - name: count\n"
    "    type: integer\n"
    "    default: 2\n"
    "    allowed: [1, 2, 3]\n"
    "  - name: ratio\n"
    "    type: number\n"
    "  - name: weight\n"
    "    type: number\n"
    "    allowed: [1, 2.5]\n"
    "  - name: public\n"
    "    type: boolean\n"
    "    default: false\n"
    "  - name: zones\n"
    "    type: list\n"
    "    default: [a, b]\n"
    "  - name: vpc_cidr\n"
    "    type: cidr\n"
    "    default: 10.0.0.0/16\n"
    "  - name: v6_cidr\n"
    "    type: cidr\n"
    "  - name: size\n"
    "    allowed: [\"t3.micro\", \"t3.small\"]\n"
    "  - name: note\n"
    "    description: \"A free note\"\n"
    "  - name: domain\n"
    "    description: \"Domain name\"\n"
    "    required: true\n"
    "  - name: admin_password\n"
    "    description: \"Administrator password\"\n"
    "    required: true\n"
    "    secret: true\n"
    "  - name: pin\n"
    "    type: integer\n"
    "    secret: true\n"
    "  - name: token\n"
    "    secret: true\n"
    "    allowed: [\"alpha-token\", \"beta-token\"]\n"
    "  - name: secret_net\n"
    "    type: cidr\n"
    "    secret: true\n";

static struct dv_manifest *load_manifest(const char *yaml)
{
    json_t *doc = NULL;
    char yerr[256];
    if (yaml_load_buf(yaml, strlen(yaml), NULL, &doc, yerr, sizeof(yerr)) != 0)
        fail_msg("YAML: %s", yerr);
    struct dv_manifest *m = NULL;
    int rc = manifest_from_json(doc, DV_TERRAFORM, "test/manifest.yaml", &m, err, sizeof(err));
    json_decref(doc);
    if (rc != 0)
        fail_msg("manifest: %s", err);
    return m;
}

static int setup_manifest(void **state)
{
    *state = load_manifest(manifest_yaml);
    return 0;
}

static int teardown_manifest(void **state)
{
    manifest_free(*state);
    return 0;
}

/* The required parameters with no default, so a resolve can succeed. */
#define BASE "domain=example.org,admin_password=s3cret!"

/* Parses then resolves text; returns the result and leaves the values in *values. */
static int resolve(const struct dv_manifest *m, const char *text, json_t **values)
{
    json_t *given = json_object();
    memset(err, 0, sizeof(err));
    int rc = params_parse(text, given, err, sizeof(err));
    if (rc != 0)
        fail_msg("params_parse(\"%s\") = %d: %s", text, rc, err);
    *values = (json_t *)1;
    rc = params_resolve(m, "aws/test", given, values, err, sizeof(err));
    json_decref(given);
    if (rc != 0)
        assert_null(*values);
    return rc;
}

static json_t *resolve_ok(const struct dv_manifest *m, const char *text)
{
    json_t *values = NULL;
    int rc = resolve(m, text, &values);
    if (rc != 0)
        fail_msg("params_resolve(\"%s\") = %d: %s", text, rc, err);
    assert_non_null(values);
    return values;
}

static void resolve_bad(const struct dv_manifest *m, const char *text, const char *w1,
                        const char *w2)
{
    json_t *values = NULL;
    int rc = resolve(m, text, &values);
    if (rc != -EINVAL)
        fail_msg("params_resolve(\"%s\") = %d, expected -EINVAL", text, rc);
    assert_true(err[0] != '\0');
    if (w1 != NULL)
        assert_has(err, w1);
    if (w2 != NULL)
        assert_has(err, w2);
}

/* ---- params_parse ---------------------------------------------------------------------- */

static void test_parse_pairs(void **state)
{
    (void)state;
    json_t *o = parse_ok("region=us-east-1,instance_type=t3.micro,Count_2=5");
    assert_int_equal(json_object_size(o), 3);
    assert_str_member(o, "region", "us-east-1");
    assert_str_member(o, "instance_type", "t3.micro");
    assert_str_member(o, "Count_2", "5"); /* names are checked against the manifest later */
    json_decref(o);

    o = parse_ok("url=http://x/?a=b&c=d,empty=");
    assert_str_member(o, "url", "http://x/?a=b&c=d"); /* only the first '=' splits */
    assert_str_member(o, "empty", "");
    json_decref(o);

    o = parse_ok("msg= spaced value ");
    assert_str_member(o, "msg", " spaced value "); /* kept as typed */
    json_decref(o);
}

static void test_parse_escapes(void **state)
{
    (void)state;
    json_t *o = parse_ok("msg=a\\,b\\,c,x=1");
    assert_str_member(o, "msg", "a,b,c");
    assert_str_member(o, "x", "1");
    json_decref(o);

    o = parse_ok("path=C:\\\\dir\\\\,y=2"); /* "\\" is one backslash; the comma then splits */
    assert_str_member(o, "path", "C:\\dir\\");
    assert_str_member(o, "y", "2");
    json_decref(o);

    o = parse_ok("re=a\\d\\"); /* a backslash before anything else stays */
    assert_str_member(o, "re", "a\\d\\");
    json_decref(o);

    o = parse_ok("odd=x\\\\\\,y"); /* "\\" then "\," */
    assert_str_member(o, "odd", "x\\,y");
    json_decref(o);
}

static void test_parse_continuation(void **state)
{
    (void)state;
    json_t *o = parse_ok("zones=a,b,x=y");
    assert_int_equal(json_object_size(o), 2);
    assert_str_member(o, "zones", "a,b");
    assert_str_member(o, "x", "y");
    json_decref(o);

    o = parse_ok("zones=us-east-1a,us-east-1b,us-east-1c");
    assert_int_equal(json_object_size(o), 1);
    assert_str_member(o, "zones", "us-east-1a,us-east-1b,us-east-1c");
    json_decref(o);

    o = parse_ok("a=1,b=2,c,d");
    assert_str_member(o, "a", "1");
    assert_str_member(o, "b", "2,c,d");
    json_decref(o);

    o = parse_ok("a=,b"); /* continuing an empty value */
    assert_str_member(o, "a", ",b");
    json_decref(o);

    o = parse_ok("a=x,b\\,c"); /* an escaped comma inside a continuation */
    assert_str_member(o, "a", "x,b,c");
    json_decref(o);
}

static void test_parse_empty_pieces(void **state)
{
    (void)state;
    parse_bad("", "empty piece");
    parse_bad(",", "empty piece");
    parse_bad("a=1,,b=2", "empty piece");
    parse_bad("a=1,", "empty piece");
    parse_bad(",a=1", "empty piece");
}

static void test_parse_bad_names(void **state)
{
    (void)state;
    parse_bad("=1", "is not name=value");
    parse_bad("a=1,=2", "is not name=value");
    parse_bad("justtext", "is not name=value");
    parse_bad("a-b=1", "\"a-b\" is not a parameter name");
    parse_bad("a b=1", "\"a b\" is not a parameter name");
    parse_bad("ok=1,x.y=2", "\"x.y\" is not a parameter name");
    parse_bad("r\xc3\xa9gion=1", "is not a parameter name");
}

/* A value that is not UTF-8 text is refused, not dropped: jansson cannot hold it, and a
 * dropped value would let the default take its place without a word. */
static void test_parse_not_utf8(void **state)
{
    (void)state;
    parse_bad("region=\xff\xfe", "UTF-8");
    parse_bad("region=eu\xc3", "UTF-8");
    parse_bad("a=x,\xff", "UTF-8");     /* in a continuation */
    parse_bad("a=\xff,b", "UTF-8");     /* then continued */
    json_t *o = parse_ok("city=Z\xc3\xbcrich");
    assert_str_member(o, "city", "Z\xc3\xbcrich");
    json_decref(o);
}

static void test_parse_duplicates(void **state)
{
    (void)state;
    parse_bad("a=1,a=2", "\"a\" twice");
    parse_bad("region=x,zones=a,b,region=y", "\"region\" twice");

    /* a name already in the object (a caller's earlier pass) counts too */
    json_t *o = json_object();
    json_object_set_new(o, "a", json_string("0"));
    assert_int_equal(params_parse("a=1", o, err, sizeof(err)), -EINVAL);
    assert_has(err, "twice");
    json_decref(o);
}

static void test_parse_limits(void **state)
{
    (void)state;
    char name[PARAM_NAME_MAX + 2];
    char text[PARAMS_TEXT_MAX + 64];

    /* a name of PARAM_NAME_MAX characters passes; one more is too long */
    memset(name, 'n', PARAM_NAME_MAX);
    name[PARAM_NAME_MAX] = '\0';
    snprintf(text, sizeof(text), "%s=1", name);
    json_decref(parse_ok(text));
    memset(name, 'n', PARAM_NAME_MAX + 1);
    name[PARAM_NAME_MAX + 1] = '\0';
    snprintf(text, sizeof(text), "%s=1", name);
    parse_bad(text, "too long");

    /* PARAMS_MAX_PAIRS pairs pass; one more does not */
    size_t off = 0;
    for (int i = 0; i < PARAMS_MAX_PAIRS; i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off, "%sp%d=%d", i ? "," : "", i, i);
    json_t *o = parse_ok(text);
    assert_int_equal(json_object_size(o), PARAMS_MAX_PAIRS);
    assert_str_member(o, "p63", "63");
    json_decref(o);
    snprintf(text + off, sizeof(text) - off, ",p%d=x", PARAMS_MAX_PAIRS);
    parse_bad(text, "more than 64");

    /* continuations do not count as pairs */
    off = (size_t)snprintf(text, sizeof(text), "list=x");
    for (int i = 0; i < 200; i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off, ",v%d", i);
    o = parse_ok(text);
    assert_int_equal(json_object_size(o), 1);
    json_decref(o);

    /* the text itself: PARAMS_TEXT_MAX bytes pass, one more does not */
    memset(text, 'v', PARAMS_TEXT_MAX);
    memcpy(text, "big=", 4);
    text[PARAMS_TEXT_MAX] = '\0';
    o = parse_ok(text);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "big"))), PARAMS_TEXT_MAX - 4);
    json_decref(o);
    text[PARAMS_TEXT_MAX] = 'v';
    text[PARAMS_TEXT_MAX + 1] = '\0';
    parse_bad(text, "longer than");
}

/* ---- params_resolve ---------------------------------------------------------------------- */

static void test_resolve_defaults(void **state)
{
    const struct dv_manifest *m = *state;
    json_t *v = resolve_ok(m, BASE);
    assert_str_member(v, "region", "us-east-1");
    assert_true(json_is_integer(json_object_get(v, "count")));
    assert_int_equal(json_integer_value(json_object_get(v, "count")), 2);
    assert_true(json_is_false(json_object_get(v, "public")));
    json_t *zones = json_object_get(v, "zones");
    assert_true(json_is_array(zones));
    assert_int_equal(json_array_size(zones), 2);
    assert_string_equal(json_string_value(json_array_get(zones, 0)), "a");
    assert_string_equal(json_string_value(json_array_get(zones, 1)), "b");
    assert_str_member(v, "vpc_cidr", "10.0.0.0/16");
    assert_str_member(v, "domain", "example.org");
    assert_str_member(v, "admin_password", "s3cret!");
    /* no value and no default: left out */
    assert_null(json_object_get(v, "ratio"));
    assert_null(json_object_get(v, "size"));
    assert_null(json_object_get(v, "pin"));
    assert_int_equal(json_object_size(v), 7);
    json_decref(v);

    /* a given value replaces the default */
    v = resolve_ok(m, BASE ",region=eu-west-3,count=3,public=yes,zones=x;y;z");
    assert_str_member(v, "region", "eu-west-3");
    assert_int_equal(json_integer_value(json_object_get(v, "count")), 3);
    assert_true(json_is_true(json_object_get(v, "public")));
    assert_int_equal(json_array_size(json_object_get(v, "zones")), 3);
    json_decref(v);
}

static void test_resolve_unknown_name(void **state)
{
    const struct dv_manifest *m = *state;
    resolve_bad(m, BASE ",regoin=x", "no parameter \"regoin\"", "did you mean \"region\"?");
    assert_has(err, "aws/test");
    assert_has(err, "its parameters: region, count, ratio");
    resolve_bad(m, BASE ",Region=x", "did you mean \"region\"?", NULL);
    resolve_bad(m, BASE ",zzzzzzzzzz=1", "no parameter \"zzzzzzzzzz\"; its parameters: region",
                NULL);
    assert_lacks(err, "did you mean");

    /* a manifest without parameters lists "(none)" */
    struct dv_manifest *empty = load_manifest("name: Empty\n");
    json_t *given = json_object();
    json_object_set_new(given, "x", json_string("1"));
    json_t *values = NULL;
    assert_int_equal(params_resolve(empty, "t/e", given, &values, err, sizeof(err)), -EINVAL);
    assert_has(err, "(none)");
    json_decref(given);
    given = json_object();
    assert_int_equal(params_resolve(empty, "t/e", given, &values, err, sizeof(err)), 0);
    assert_int_equal(json_object_size(values), 0);
    json_decref(values);
    json_decref(given);
    manifest_free(empty);
}

static void test_resolve_integer(void **state)
{
    const struct dv_manifest *m = *state;
    resolve_bad(m, BASE ",count=abc", "parameter count of aws/test", "\"abc\" is not an integer");
    resolve_bad(m, BASE ",count=1.5", "not an integer", NULL);
    resolve_bad(m, BASE ",count=", "not an integer", NULL);
    resolve_bad(m, BASE ",count=9007199254740993", "not an integer", NULL); /* > 2^53 */
    /* allowed integers: 4 is an integer but not allowed; the list is named */
    resolve_bad(m, BASE ",count=4", "cannot be \"4\"", "allowed: 1, 2, 3");
    json_t *v = resolve_ok(m, BASE ",count=1");
    assert_int_equal(json_integer_value(json_object_get(v, "count")), 1);
    json_decref(v);
    v = resolve_ok(m, BASE ",count=+3");
    assert_int_equal(json_integer_value(json_object_get(v, "count")), 3);
    json_decref(v);
}

static void test_resolve_number(void **state)
{
    const struct dv_manifest *m = *state;
    json_t *v = resolve_ok(m, BASE ",ratio=0.25,weight=1");
    assert_true(json_is_real(json_object_get(v, "ratio")));
    assert_true(json_real_value(json_object_get(v, "ratio")) == 0.25);
    /* "1" as a number equals the integer 1 of the allowed list */
    assert_true(json_number_value(json_object_get(v, "weight")) == 1.0);
    json_decref(v);
    v = resolve_ok(m, BASE ",ratio=-3,weight=2.5");
    assert_true(json_number_value(json_object_get(v, "ratio")) == -3.0);
    assert_true(json_number_value(json_object_get(v, "weight")) == 2.5);
    json_decref(v);
    resolve_bad(m, BASE ",ratio=x", "\"x\" is not a number", NULL);
    resolve_bad(m, BASE ",ratio=nan", "not a number", NULL);
    resolve_bad(m, BASE ",ratio=inf", "not a number", NULL);
    resolve_bad(m, BASE ",ratio=0x10", "not a number", NULL);
    resolve_bad(m, BASE ",weight=2", "allowed: 1, 2.5", NULL);
}

static void test_resolve_boolean(void **state)
{
    const struct dv_manifest *m = *state;
    static const char *const yes[] = {"true", "TRUE", "yes", "on", "1"};
    static const char *const no[] = {"false", "No", "off", "0"};
    char text[256];
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        snprintf(text, sizeof(text), BASE ",public=%s", yes[i]);
        json_t *v = resolve_ok(m, text);
        assert_true(json_is_true(json_object_get(v, "public")));
        json_decref(v);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        snprintf(text, sizeof(text), BASE ",public=%s", no[i]);
        json_t *v = resolve_ok(m, text);
        assert_true(json_is_false(json_object_get(v, "public")));
        json_decref(v);
    }
    resolve_bad(m, BASE ",public=maybe", "\"maybe\" is not a boolean", NULL);
    resolve_bad(m, BASE ",public=", "not a boolean", NULL);
}

static void test_resolve_list(void **state)
{
    const struct dv_manifest *m = *state;
    json_t *v = resolve_ok(m, BASE ",zones=a; b ;;c");
    json_t *z = json_object_get(v, "zones");
    assert_int_equal(json_array_size(z), 3); /* trimmed, empty items dropped */
    assert_string_equal(json_string_value(json_array_get(z, 0)), "a");
    assert_string_equal(json_string_value(json_array_get(z, 1)), "b");
    assert_string_equal(json_string_value(json_array_get(z, 2)), "c");
    json_decref(v);
    /* the ";" spelling, needed when the list is not the last parameter */
    v = resolve_ok(m, "zones=eu-a;eu-b," BASE);
    z = json_object_get(v, "zones");
    assert_int_equal(json_array_size(z), 2);
    assert_string_equal(json_string_value(json_array_get(z, 1)), "eu-b");
    json_decref(v);
    v = resolve_ok(m, BASE ",zones=");
    assert_int_equal(json_array_size(json_object_get(v, "zones")), 0);
    json_decref(v);
}

static void test_resolve_cidr(void **state)
{
    const struct dv_manifest *m = *state;
    json_t *v = resolve_ok(m, BASE ",vpc_cidr=172.16.0.0/12,v6_cidr=2001:db8::/32");
    assert_str_member(v, "vpc_cidr", "172.16.0.0/12");
    assert_str_member(v, "v6_cidr", "2001:db8::/32");
    json_decref(v);
    v = resolve_ok(m, BASE ",vpc_cidr=10.1.2.3/32,v6_cidr=::/0");
    json_decref(v);

    resolve_bad(m, BASE ",vpc_cidr=10.0.0.1/16", "has host bits set", "did you mean 10.0.0.0/16?");
    resolve_bad(m, BASE ",vpc_cidr=192.168.1.77/24", "did you mean 192.168.1.0/24?", NULL);
    resolve_bad(m, BASE ",v6_cidr=2001:db8::1/64", "did you mean 2001:db8::/64?", NULL);
    resolve_bad(m, BASE ",v6_cidr=fd00:1:2:3:4::/48", "did you mean fd00:1:2::/48?", NULL);
    resolve_bad(m, BASE ",vpc_cidr=10.0.0.0", "is not a CIDR block", NULL);
    resolve_bad(m, BASE ",vpc_cidr=10.0.0.0/33", "is not a CIDR block", NULL);
    resolve_bad(m, BASE ",vpc_cidr=10.0.0.0/-1", "is not a CIDR block", NULL);
    resolve_bad(m, BASE ",vpc_cidr=10.0.0/16", "is not a CIDR block", NULL);
    resolve_bad(m, BASE ",vpc_cidr=10.0.0.0/", "is not a CIDR block", NULL);
    resolve_bad(m, BASE ",vpc_cidr=10.0.0.0/16x", "is not a CIDR block", NULL);
    resolve_bad(m, BASE ",vpc_cidr=example.org/16", "is not a CIDR block", NULL);
    resolve_bad(m, BASE ",v6_cidr=2001:db8::/129", "is not a CIDR block", NULL);
}

static void test_resolve_allowed_text(void **state)
{
    const struct dv_manifest *m = *state;
    json_t *v = resolve_ok(m, BASE ",size=t3.small");
    assert_str_member(v, "size", "t3.small");
    json_decref(v);
    resolve_bad(m, BASE ",size=t3.large", "parameter size of aws/test cannot be \"t3.large\"",
                "allowed: t3.micro, t3.small");
    resolve_bad(m, BASE ",size=T3.MICRO", "cannot be", NULL); /* exact match */
}

static void test_resolve_required(void **state)
{
    const struct dv_manifest *m = *state;
    resolve_bad(m, "admin_password=x", "aws/test needs the parameter domain (Domain name)",
                "add domain=... to the parameters");
    resolve_bad(m, "domain=example.org", "needs the parameter admin_password", NULL);
    /* required text cannot be given empty */
    resolve_bad(m, "domain=,admin_password=x", "domain of aws/test is required and cannot be empty",
                NULL);
    /* a required parameter with a default is satisfied by it (region) */
    json_t *v = resolve_ok(m, BASE);
    assert_str_member(v, "region", "us-east-1");
    json_decref(v);
    /* given empty, a required text is refused even when it has a default */
    resolve_bad(m, BASE ",region=", "region of aws/test is required and cannot be empty", NULL);
    /* an optional text may be empty */
    v = resolve_ok(m, BASE ",note=");
    assert_str_member(v, "note", "");
    json_decref(v);
}

static void test_resolve_control_characters(void **state)
{
    const struct dv_manifest *m = *state;
    resolve_bad(m, BASE ",region=a\tb", "control characters", NULL);
    json_t *bad = NULL;
    char why[256];
    assert_int_equal(param_convert(PT_STRING, "\xff\xfe", &bad, why, sizeof(why)), -EINVAL);
    assert_null(bad);
    assert_has(why, "not UTF-8");
    /* a value of PARAM_VALUE_MAX bytes or more */
    char *text = malloc(PARAM_VALUE_MAX + 64);
    assert_non_null(text);
    int n = snprintf(text, 64, "%s,region=", BASE);
    memset(text + n, 'r', PARAM_VALUE_MAX);
    text[n + PARAM_VALUE_MAX] = '\0';
    resolve_bad(m, text, "longer than 4095 bytes", NULL);
    free(text);
}

/* The default of an optional parameter that is not among the allowed values is reported. */
static void test_resolve_bad_default(void **state)
{
    (void)state;
    struct dv_manifest *m = load_manifest("name: X\n"
                                          "parameters:\n"
                                          "  - name: size\n"
                                          "    default: big\n"
                                          "    allowed: [small, medium]\n");
    json_t *given = json_object();
    json_t *values = NULL;
    assert_int_equal(params_resolve(m, "t/x", given, &values, err, sizeof(err)), -EINVAL);
    assert_null(values);
    assert_has(err, "the default of size in t/x is not among its allowed values: small, medium");
    json_decref(given);
    manifest_free(m);
}

/* ---- secrets ------------------------------------------------------------------------------ */

static void test_masked(void **state)
{
    const struct dv_manifest *m = *state;
    json_t *v = resolve_ok(m, BASE ",pin=1234,token=alpha-token,region=x");
    json_t *masked = params_masked(m, v);
    assert_non_null(masked);
    assert_str_member(masked, "admin_password", "********");
    assert_str_member(masked, "pin", "********");
    assert_str_member(masked, "token", "********");
    assert_str_member(masked, "region", "x");
    assert_str_member(masked, "domain", "example.org");
    assert_int_equal(json_integer_value(json_object_get(masked, "count")), 2);
    assert_null(json_object_get(masked, "secret_net")); /* absent stays absent */
    assert_int_equal(json_object_size(masked), json_object_size(v));
    /* the values themselves are untouched */
    assert_str_member(v, "admin_password", "s3cret!");
    assert_int_equal(json_integer_value(json_object_get(v, "pin")), 1234);
    char *dump = json_dumps(masked, JSON_COMPACT);
    assert_lacks(dump, "s3cret!");
    assert_lacks(dump, "1234");
    assert_lacks(dump, "alpha-token");
    free(dump);
    json_decref(masked);
    json_decref(v);
}

/* A secret's value must not appear in any error sentence, whatever is wrong with it. */
static void test_secret_never_in_errors(void **state)
{
    const struct dv_manifest *m = *state;
    /* not among the allowed values: masked already */
    resolve_bad(m, BASE ",token=hunter2-token", "parameter token of aws/test", "alpha-token");
    assert_lacks(err, "hunter2");
    /* a secret integer that is not one */
    resolve_bad(m, BASE ",pin=hunter2pin", "parameter pin of aws/test", "integer");
    assert_lacks(err, "hunter2");
    /* a secret CIDR block that is not one, or has host bits (the fix must not echo it) */
    resolve_bad(m, BASE ",secret_net=hunter2net", "parameter secret_net of aws/test", "cidr");
    assert_lacks(err, "hunter2");
    resolve_bad(m, BASE ",secret_net=10.99.88.77/8", "parameter secret_net of aws/test", NULL);
    assert_lacks(err, "10.99.88.77");
    /* control characters in a secret text */
    resolve_bad(m, "domain=example.org,admin_password=hunter2\x01", "admin_password", NULL);
    assert_lacks(err, "hunter2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_pairs),
        cmocka_unit_test(test_parse_escapes),
        cmocka_unit_test(test_parse_continuation),
        cmocka_unit_test(test_parse_empty_pieces),
        cmocka_unit_test(test_parse_bad_names),
        cmocka_unit_test(test_parse_not_utf8),
        cmocka_unit_test(test_parse_duplicates),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test_setup_teardown(test_resolve_defaults, setup_manifest, teardown_manifest),
        cmocka_unit_test_setup_teardown(test_resolve_unknown_name, setup_manifest,
                                        teardown_manifest),
        cmocka_unit_test_setup_teardown(test_resolve_integer, setup_manifest, teardown_manifest),
        cmocka_unit_test_setup_teardown(test_resolve_number, setup_manifest, teardown_manifest),
        cmocka_unit_test_setup_teardown(test_resolve_boolean, setup_manifest, teardown_manifest),
        cmocka_unit_test_setup_teardown(test_resolve_list, setup_manifest, teardown_manifest),
        cmocka_unit_test_setup_teardown(test_resolve_cidr, setup_manifest, teardown_manifest),
        cmocka_unit_test_setup_teardown(test_resolve_allowed_text, setup_manifest,
                                        teardown_manifest),
        cmocka_unit_test_setup_teardown(test_resolve_required, setup_manifest, teardown_manifest),
        cmocka_unit_test_setup_teardown(test_resolve_control_characters, setup_manifest,
                                        teardown_manifest),
        cmocka_unit_test(test_resolve_bad_default),
        cmocka_unit_test_setup_teardown(test_masked, setup_manifest, teardown_manifest),
        cmocka_unit_test_setup_teardown(test_secret_never_in_errors, setup_manifest,
                                        teardown_manifest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
