/* Unit tests for src/devops/credentials.c and cred_verify.c: the provider table, every
 * validator with its normal forms and its refusals, credentials.yaml read back exactly as
 * written (escapes of every awkward character, other sections and unknown keys kept, a
 * stable order, mode 0600 in a 0700 folder), bad files refused with a sentence, the
 * environment each provider gets, the child-process runner (outputs, caps, environment,
 * timeout) and the CLI verifications against fake aws/gcloud/az programs. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "credentials.h"

/* ---- helpers ------------------------------------------------------------------------ */

static char tmpl[] = "/tmp/cloudya-cred-XXXXXX";
static char *dir;

static int setup(void **state)
{
    (void)state;
    char *t = strdup(tmpl);
    dir = mkdtemp(t);
    return dir == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", dir);
    int rc = system(cmd);
    free(dir);
    return rc == 0 ? 0 : -1;
}

/* A fresh folder under the test's directory. */
static void sub(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 18];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int check(const char *provider, const char *key, const char *in, char *out, size_t cap,
                 char *err, size_t errlen)
{
    const struct cred_provider *p = cred_provider(provider);
    assert_non_null(p);
    const struct cred_field *f = cred_field(p, key);
    assert_non_null(f);
    return cred_check(p, f, in, out, cap, err, errlen);
}

static void check_ok(const char *provider, const char *key, const char *in, const char *want)
{
    char out[CRED_VALUE_MAX], err[600] = "";
    int rc = check(provider, key, in, out, sizeof(out), err, sizeof(err));
    if (rc != 0)
        fail_msg("%s.%s \"%s\": %s", provider, key, in, err);
    assert_string_equal(out, want);
}

static void check_bad(const char *provider, const char *key, const char *in, const char *words)
{
    char out[CRED_VALUE_MAX], err[600] = "";
    int rc = check(provider, key, in, out, sizeof(out), err, sizeof(err));
    if (rc == 0)
        fail_msg("%s.%s \"%s\" was accepted as \"%s\"", provider, key, in, out);
    assert_int_equal(rc, -EINVAL);
    if (strstr(err, key) == NULL || strstr(err, words) == NULL)
        fail_msg("error for \"%s\" lacks \"%s\" or the key: %s", in, words, err);
}

/* ---- the table ------------------------------------------------------------------------ */

static void test_table(void **state)
{
    (void)state;
    const char *const *names = cred_provider_names();
    static const char *const want[] = {"aws", "gcp", "azure", "proxmox", "vmware", "nutanix",
                                       "openstack"};
    for (int i = 0; i < 7; i++) {
        assert_non_null(names[i]);
        assert_string_equal(names[i], want[i]);
        const struct cred_provider *p = cred_provider(names[i]);
        assert_non_null(p);
        int secrets = 0;
        for (int k = 0; k < CRED_MAX_FIELDS && p->fields[k].key != NULL; k++) {
            const struct cred_field *f = &p->fields[k];
            assert_non_null(f->prompt);
            assert_non_null(f->env[0].name); /* every field reaches the tools */
            assert_ptr_equal(cred_field(p, f->key), f);
            if (f->needs != NULL) /* a dependency comes before what depends on it */
                assert_true(cred_field(p, f->needs) < f);
            secrets += f->secret;
        }
        assert_true(secrets <= 1);
    }
    assert_null(names[7]);
    assert_null(cred_provider("proxmx"));
    assert_null(cred_provider(NULL));
    assert_null(cred_field(cred_provider("aws"), "region"));
    /* the seed's key names */
    assert_non_null(cred_field(cred_provider("aws"), "default_profile"));
    assert_non_null(cred_field(cred_provider("aws"), "default_region"));
    assert_non_null(cred_field(cred_provider("gcp"), "default_project"));
    assert_non_null(cred_field(cred_provider("azure"), "default_subscription"));
}

/* ---- validators ------------------------------------------------------------------------ */

static void test_check_urls(void **state)
{
    (void)state;
    check_ok("proxmox", "api_url", "pve.lan", "https://pve.lan:8006/api2/json");
    check_ok("proxmox", "api_url", "  https://pve.lan  ", "https://pve.lan:8006/api2/json");
    check_ok("proxmox", "api_url", "https://pve.lan:8006", "https://pve.lan:8006/api2/json");
    check_ok("proxmox", "api_url", "https://pve.lan:8006/api2/json/",
             "https://pve.lan:8006/api2/json");
    check_ok("proxmox", "api_url", "https://proxy.example.com/pve/api2/json",
             "https://proxy.example.com/pve/api2/json");
    check_ok("proxmox", "api_url", "http://127.0.0.1:4321/api2/json",
             "http://127.0.0.1:4321/api2/json");
    check_ok("proxmox", "api_url", "10.0.0.5:8007", "https://10.0.0.5:8007/api2/json");
    check_ok("proxmox", "api_url", "[fd00::5]", "https://[fd00::5]:8006/api2/json");
    check_bad("proxmox", "api_url", "https://pve.lan:8006/api", "must end with /api2/json");
    check_bad("proxmox", "api_url", "ftp://pve.lan", "only http:// and https://");
    check_bad("proxmox", "api_url", "https://root:pw@pve.lan", "user or password");
    check_bad("proxmox", "api_url", "https://pve.lan:0", "port");
    check_bad("proxmox", "api_url", "https://pve.lan:65536", "port");
    check_bad("proxmox", "api_url", "https://pve.lan:80a", "port");
    check_bad("proxmox", "api_url", "https://", "no host");
    check_bad("proxmox", "api_url", "pve lan", "not a valid URL");
    check_bad("proxmox", "api_url", "https://pve.lan/api2/json?x=1", "query");
    check_bad("proxmox", "api_url", "https://[fd00::5/api2/json", "IPv6");
    check_bad("proxmox", "api_url", "", "empty");

    check_ok("openstack", "auth_url", "keystone.lan", "https://keystone.lan:5000/v3");
    check_ok("openstack", "auth_url", "https://cloud.example.com/identity/v3",
             "https://cloud.example.com/identity/v3");
    check_ok("openstack", "auth_url", "http://127.0.0.1:5000/v3/", "http://127.0.0.1:5000/v3");

    check_ok("vmware", "server", "vcenter.lan", "https://vcenter.lan");
    check_ok("vmware", "server", "https://vcenter.lan:8443/", "https://vcenter.lan:8443");
    check_bad("vmware", "server", "https://vcenter.lan/sdk", "without a path");

    check_ok("nutanix", "endpoint", "prism.lan", "https://prism.lan:9440");
    check_ok("nutanix", "endpoint", "https://prism.lan", "https://prism.lan:9440");
    check_ok("nutanix", "endpoint", "https://prism.lan:443", "https://prism.lan:443");
}

static void test_check_others(void **state)
{
    (void)state;
    check_ok("azure", "default_subscription", "12345678-1234-ABCD-1234-123456789012",
             "12345678-1234-abcd-1234-123456789012");
    check_bad("azure", "default_subscription", "12345678-1234-1234-1234-12345678901", "not a UUID");
    check_bad("azure", "default_subscription", "12345678x1234-1234-1234-123456789012", "not a UUID");
    check_bad("azure", "tenant_id", "g2345678-1234-1234-1234-123456789012", "not a UUID");

    check_ok("aws", "default_region", "eu-west-3", "eu-west-3");
    check_ok("aws", "default_profile", " prod ", "prod");
    check_bad("aws", "default_region", "eu west", "one word");
    check_bad("aws", "default_region", "-eu", "one word");

    check_ok("proxmox", "insecure_tls", "YES", "true");
    check_ok("proxmox", "insecure_tls", "0", "false");
    check_ok("vmware", "insecure_tls", "off", "false");
    check_bad("nutanix", "insecure_tls", "maybe", "true or false");

    check_ok("proxmox", "token_id", "root@pam!cloudya", "root@pam!cloudya");
    check_ok("proxmox", "token_id", "svc.tf@pve!tf-1", "svc.tf@pve!tf-1");
    check_bad("proxmox", "token_id", "root@pam", "USER@REALM!NAME");
    check_bad("proxmox", "token_id", "@pam!x", "USER@REALM!NAME");
    check_bad("proxmox", "token_id", "root@pam!", "USER@REALM!NAME");
    check_bad("proxmox", "token_id", "root@p am!x", "USER@REALM!NAME");

    check_ok("openstack", "project_name", "Mon Projet é", "Mon Projet é");
    check_bad("openstack", "project_name", "a\x01" "b", "control character");
    check_bad("openstack", "username", "\xff\xfe", "not UTF-8");

    /* a secret is taken as given, blanks included, and never quoted back */
    check_ok("proxmox", "token_secret", " s p ", " s p ");
    char out[CRED_VALUE_MAX], err[600];
    assert_int_equal(check("vmware", "password", "pw\x01secret", out, sizeof(out), err,
                           sizeof(err)), -EINVAL);
    assert_null(strstr(err, "secret"));
    char big[CRED_VALUE_MAX + 10];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(check("openstack", "username", big, out, sizeof(out), err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "longer than"));
}

static void test_check_gcp_key(void **state)
{
    (void)state;
    char key[600], other[600], home[600], want[700];
    sub(key, sizeof(key), "sa.json");
    sub(other, sizeof(other), "adc.json");
    write_text(key, "{\"type\": \"service_account\", \"project_id\": \"p-1\", \"client_email\": "
                    "\"tf@p-1.iam.gserviceaccount.com\", \"private_key\": \"-----BEGIN...\"}",
               0600);
    write_text(other, "{\"type\": \"authorized_user\", \"client_id\": \"x\"}", 0600);
    char real[4096];
    assert_non_null(realpath(key, real));
    check_ok("gcp", "credentials_file", key, real);
    /* ~/ is the user's home */
    snprintf(home, sizeof(home), "%s", dir);
    char *old = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", home, 1);
    check_ok("gcp", "credentials_file", "~/sa.json", real);
    if (old) {
        setenv("HOME", old, 1);
        free(old);
    }
    /* a relative path becomes absolute */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    check_ok("gcp", "credentials_file", "./sa.json", real);
    assert_int_equal(chdir(cwd), 0);
    check_bad("gcp", "credentials_file", other, "not a service-account key");
    snprintf(want, sizeof(want), "%s/missing.json", dir);
    check_bad("gcp", "credentials_file", want, "cannot find");
    check_bad("gcp", "credentials_file", dir, "not a regular file");
    char bad[600];
    sub(bad, sizeof(bad), "bad.json");
    write_text(bad, "{not json", 0600);
    check_bad("gcp", "credentials_file", bad, "not a JSON key file");
    write_text(bad, "{\"type\": \"service_account\"}", 0600);
    check_bad("gcp", "credentials_file", bad, "lacks project_id");
}

static void test_value(void **state)
{
    (void)state;
    json_t *s = json_pack("{s:s, s:s, s:b, s:i, s:f, s:n, s:[]}", "a", "x", "empty", "", "b", 1,
                          "i", 42, "r", 1.5, "null", "list");
    char out[64];
    assert_int_equal(cred_value(s, "a", out, sizeof(out)), 1);
    assert_string_equal(out, "x");
    assert_int_equal(cred_value(s, "empty", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(cred_value(s, "b", out, sizeof(out)), 1);
    assert_string_equal(out, "true");
    assert_int_equal(cred_value(s, "i", out, sizeof(out)), 1);
    assert_string_equal(out, "42");
    assert_int_equal(cred_value(s, "r", out, sizeof(out)), 1);
    assert_string_equal(out, "1.5");
    assert_int_equal(cred_value(s, "null", out, sizeof(out)), 0);
    assert_int_equal(cred_value(s, "list", out, sizeof(out)), 0);
    assert_int_equal(cred_value(s, "absent", out, sizeof(out)), 0);
    assert_int_equal(cred_value(NULL, "a", out, sizeof(out)), 0);
    char tiny[1];
    assert_int_equal(cred_value(s, "a", tiny, sizeof(tiny)), 0); /* does not fit: not set */
    json_decref(s);
}

/* ---- the file -------------------------------------------------------------------------- */

static void test_load_absent_and_empty(void **state)
{
    (void)state;
    char home[600], path[700], err[600];
    sub(home, sizeof(home), "absent");
    json_t *c = NULL;
    int loose = 7;
    assert_int_equal(cred_load(home, &c, &loose, err, sizeof(err)), 0);
    assert_true(json_is_object(c) && json_object_size(c) == 0);
    assert_int_equal(loose, 0);
    json_decref(c);
    sub(home, sizeof(home), "empty");
    assert_int_equal(mkdir(home, 0700), 0);
    snprintf(path, sizeof(path), "%s/credentials.yaml", home);
    write_text(path, "# nothing yet\n", 0600);
    assert_int_equal(cred_load(home, &c, &loose, err, sizeof(err)), 0);
    assert_true(json_is_object(c) && json_object_size(c) == 0);
    json_decref(c);
}

/* The seed's file, as a user would write it by hand, plus odd but valid content. */
static void test_load_seed_layout_and_loose_mode(void **state)
{
    (void)state;
    char home[600], path[700], err[600];
    sub(home, sizeof(home), "seed");
    assert_int_equal(mkdir(home, 0700), 0);
    snprintf(path, sizeof(path), "%s/credentials.yaml", home);
    write_text(path,
               "aws:\n  default_profile: \"default\"\n  default_region: \"us-east-1\"\n\n"
               "gcp:\n  default_project: \"mon-projet-gcp\"\n\n"
               "azure:\n  default_subscription: \"12345678-1234-1234-1234-123456789012\"\n"
               "proxmox:\n  insecure_tls: true\n  port: 8006\n"
               "empty:\n",
               0644);
    json_t *c = NULL;
    int loose = 0;
    assert_int_equal(cred_load(home, &c, &loose, err, sizeof(err)), 0);
    assert_int_equal(loose, 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "aws"),
                                                          "default_region")),
                        "us-east-1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "gcp"),
                                                          "default_project")),
                        "mon-projet-gcp");
    assert_true(json_is_true(json_object_get(json_object_get(c, "proxmox"), "insecure_tls")));
    assert_true(json_is_object(json_object_get(c, "empty"))); /* `empty:` is an empty section */
    json_decref(c);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(cred_load(home, &c, &loose, err, sizeof(err)), 0);
    assert_int_equal(loose, 0);
    json_decref(c);
}

static void expect_refused(const char *name, const char *text, int want, const char *words)
{
    char home[600], path[700], err[600] = "";
    sub(home, sizeof(home), name);
    assert_int_equal(mkdir(home, 0700), 0);
    snprintf(path, sizeof(path), "%s/credentials.yaml", home);
    if (text != NULL)
        write_text(path, text, 0600);
    json_t *c = (json_t *)1;
    int loose;
    int rc = cred_load(home, &c, &loose, err, sizeof(err));
    if (rc != want || strstr(err, words) == NULL || strstr(err, path) == NULL)
        fail_msg("%s: rc %d (want %d), err \"%s\" (want \"%s\" and the path)", name, rc, want,
                 err, words);
    assert_null(c);
}

static void test_load_refuses_bad_files(void **state)
{
    (void)state;
    expect_refused("list", "- aws\n- gcp\n", -EINVAL, "mapping of providers");
    expect_refused("scalar", "hello\n", -EINVAL, "mapping of providers");
    expect_refused("section_list", "aws:\n  - a\n", -EINVAL, "\"aws\" must be a mapping");
    expect_refused("section_scalar", "aws: x\n", -EINVAL, "\"aws\" must be a mapping");
    expect_refused("nested", "aws:\n  default_region:\n    a: b\n", -EINVAL,
                   "aws.default_region must be a single value");
    expect_refused("syntax", "aws: [\n", -EINVAL, "not valid YAML");
    expect_refused("alias", "a: &x {k: v}\nb: *x\n", -EINVAL, "not valid YAML");
    expect_refused("dup", "aws: {a: 1}\naws: {b: 2}\n", -EINVAL, "not valid YAML");

    /* larger than 64 KiB: refused before parsing */
    char home[600], path[700];
    sub(home, sizeof(home), "big");
    assert_int_equal(mkdir(home, 0700), 0);
    snprintf(path, sizeof(path), "%s/credentials.yaml", home);
    char *big = malloc(CRED_FILE_MAX + 2);
    memset(big, '#', CRED_FILE_MAX + 1);
    big[CRED_FILE_MAX + 1] = '\0';
    write_text(path, big, 0600);
    free(big);
    json_t *c = NULL;
    char err[600];
    assert_int_equal(cred_load(home, &c, NULL, err, sizeof(err)), -EFBIG);
    assert_non_null(strstr(err, "larger than 64 KiB"));
    assert_null(c);

    /* not a regular file: a directory, and a FIFO (which must not hang the read) */
    sub(home, sizeof(home), "isdir");
    assert_int_equal(mkdir(home, 0700), 0);
    snprintf(path, sizeof(path), "%s/credentials.yaml", home);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(cred_load(home, &c, NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a regular file"));
    sub(home, sizeof(home), "fifo");
    assert_int_equal(mkdir(home, 0700), 0);
    snprintf(path, sizeof(path), "%s/credentials.yaml", home);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(cred_load(home, &c, NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a regular file"));
}

static void test_save_round_trip_mode_and_order(void **state)
{
    (void)state;
    char home[600], path[700], err[600];
    sub(home, sizeof(home), "round/trip"); /* the folder is created (its parent too? no) */
    char parent[600];
    sub(parent, sizeof(parent), "round");
    assert_int_equal(mkdir(parent, 0755), 0);
    json_t *c = json_object();
    /* inserted out of order: written in table order, unknown keys and sections sorted */
    json_object_set_new(c, "zeta", json_pack("{s:s}", "k", "v"));
    json_object_set_new(c, "proxmox", json_pack("{s:s, s:s, s:s, s:s}", "zz_note", "mine",
                                                "token_secret", "s\"e\\c\nr\te\rt",
                                                "api_url", "https://pve:8006/api2/json",
                                                "token_id", "root@pam!x"));
    json_object_set_new(c, "aws", json_pack("{s:s, s:s}", "default_region", "eu-west-3",
                                            "default_profile", "default"));
    json_t *odd = json_object();
    json_object_set_new(odd, "unicode", json_string("é 漢字 \xe2\x80\xa8 \xc2\x85 \xef\xbb\xbf \x01 \x7f"));
    json_object_set_new(odd, "true", json_string("a key that reads as a boolean"));
    json_object_set_new(odd, "with space", json_string("quoted key"));
    json_object_set_new(odd, "int", json_integer(8006));
    json_object_set_new(odd, "real", json_real(2.0));
    json_object_set_new(odd, "bool", json_false());
    json_object_set_new(odd, "null", json_null());
    json_object_set_new(odd, "colon: #", json_string("- [x] {y} &z *w !t |"));
    json_object_set_new(c, "custom", odd);
    json_object_set_new(c, "gcp", json_object());
    assert_int_equal(cred_save(home, c, err, sizeof(err)), 0);

    snprintf(path, sizeof(path), "%s/credentials.yaml", home);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(home, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    const char *text = read_text(path);
    /* table order first, then other sections sorted; fields in table order, others after */
    const char *aws = strstr(text, "\naws:\n"), *gcp = strstr(text, "\ngcp: {}\n");
    const char *pve = strstr(text, "\nproxmox:\n"), *custom = strstr(text, "\ncustom:\n");
    const char *zeta = strstr(text, "\nzeta:\n");
    assert_true(aws && gcp && pve && custom && zeta);
    assert_true(aws < gcp && gcp < pve && pve < custom && custom < zeta);
    assert_non_null(strstr(text, "aws:\n  default_profile: \"default\"\n  default_region: "
                                 "\"eu-west-3\"\n"));
    assert_non_null(strstr(text, "  api_url: \"https://pve:8006/api2/json\"\n  token_id: "
                                 "\"root@pam!x\"\n  token_secret: \"s\\\"e\\\\c\\nr\\te\\rt\"\n"
                                 "  zz_note: \"mine\"\n"));
    assert_non_null(strstr(text, "  \"true\": "));
    assert_non_null(strstr(text, "  int: 8006\n"));

    /* no temporary file left behind */
    char cmd[800];
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", home);
    assert_int_equal(system(cmd), 0);

    json_t *back = NULL;
    int loose = 1;
    if (cred_load(home, &back, &loose, err, sizeof(err)) != 0)
        fail_msg("%s\n%s", err, text);
    assert_int_equal(loose, 0);
    if (!json_equal(c, back)) {
        char *a = json_dumps(c, JSON_SORT_KEYS), *b = json_dumps(back, JSON_SORT_KEYS);
        fail_msg("round trip differs:\n%s\n%s\n%s", a, b, text);
    }
    /* writing what was read gives the same text: the order is stable */
    char *first = strdup(text);
    assert_int_equal(cred_save(home, back, err, sizeof(err)), 0);
    assert_string_equal(read_text(path), first);
    free(first);
    json_decref(back);
    json_decref(c);
}

static void test_save_keeps_other_sections(void **state)
{
    (void)state;
    char home[600], path[700], err[600];
    sub(home, sizeof(home), "keep");
    assert_int_equal(mkdir(home, 0700), 0);
    snprintf(path, sizeof(path), "%s/credentials.yaml", home);
    write_text(path,
               "aws:\n  default_profile: \"default\"\n  default_region: \"us-east-1\"\n"
               "  mfa_serial: \"arn:aws:iam::1:mfa/me\"\n"
               "gcp:\n  default_project: \"mon-projet-gcp\"\n"
               "mycloud:\n  url: \"https://x\"\n",
               0640);
    json_t *c = NULL;
    assert_int_equal(cred_load(home, &c, NULL, err, sizeof(err)), 0);
    json_object_set_new(json_object_get(c, "aws"), "default_region", json_string("eu-west-3"));
    json_object_set_new(c, "azure", json_pack("{s:s}", "default_subscription",
                                              "12345678-1234-1234-1234-123456789012"));
    assert_int_equal(cred_save(home, c, err, sizeof(err)), 0);
    json_decref(c);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600); /* the loose mode is fixed by a save */
    assert_int_equal(cred_load(home, &c, NULL, err, sizeof(err)), 0);
    json_t *aws = json_object_get(c, "aws");
    assert_string_equal(json_string_value(json_object_get(aws, "default_region")), "eu-west-3");
    assert_string_equal(json_string_value(json_object_get(aws, "mfa_serial")),
                        "arn:aws:iam::1:mfa/me");
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "gcp"),
                                                          "default_project")),
                        "mon-projet-gcp");
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "mycloud"), "url")),
                        "https://x");
    assert_non_null(json_object_get(c, "azure"));
    json_decref(c);
}

static void test_save_refuses_bad_trees_and_keeps_the_file(void **state)
{
    (void)state;
    char home[600], path[700], err[600];
    sub(home, sizeof(home), "badtree");
    json_t *good = json_pack("{s:{s:s}}", "gcp", "default_project", "p");
    assert_int_equal(cred_save(home, good, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/credentials.yaml", home);
    char *before = strdup(read_text(path));
    json_t *bad = json_pack("{s:{s:[s]}}", "gcp", "default_project", "p");
    assert_int_equal(cred_save(home, bad, err, sizeof(err)), -EINVAL);
    json_decref(bad);
    bad = json_pack("[s]", "x");
    assert_int_equal(cred_save(home, bad, err, sizeof(err)), -EINVAL);
    json_decref(bad);
    bad = json_pack("{s:s}", "gcp", "p");
    assert_int_equal(cred_save(home, bad, err, sizeof(err)), -EINVAL);
    json_decref(bad);
    /* a NUL character: YAML could not give it back */
    bad = json_pack("{s:{s:s#}}", "gcp", "default_project", "a\0b", (size_t)3);
    assert_int_equal(cred_save(home, bad, err, sizeof(err)), -EINVAL);
    json_decref(bad);
    /* too large for the file limit */
    char *huge = malloc(CRED_FILE_MAX + 1);
    memset(huge, 'x', CRED_FILE_MAX);
    huge[CRED_FILE_MAX] = '\0';
    bad = json_pack("{s:{s:s}}", "gcp", "default_project", huge);
    free(huge);
    assert_int_equal(cred_save(home, bad, err, sizeof(err)), -EFBIG);
    json_decref(bad);
    assert_string_equal(read_text(path), before);
    free(before);
    /* a folder that cannot be created */
    char nohome[700];
    snprintf(nohome, sizeof(nohome), "%s/credentials.yaml/sub", home);
    assert_true(cred_save(nohome, good, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "cannot create"));
    json_decref(good);
}

/* ---- the environment ---------------------------------------------------------------- */

/* The assignments of provider in creds, joined by spaces. */
static const char *env_of(const json_t *creds, const char *provider)
{
    static char out[8192];
    char *a[CRED_ENV_MAX];
    int n = cred_env(creds, provider, a, CRED_ENV_MAX);
    assert_true(n >= 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t used = strlen(out);
        snprintf(out + used, sizeof(out) - used, "%s%s", i ? " " : "", a[i]);
        free(a[i]);
    }
    return out;
}

static void test_env(void **state)
{
    (void)state;
    json_t *c = json_pack(
        "{s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s},"
        " s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}}",
        "aws", "default_profile", "prod", "default_region", "eu-west-3",
        "gcp", "default_project", "p-1", "credentials_file", "/k/sa.json",
        "azure", "default_subscription", "12345678-1234-1234-1234-123456789012",
        "proxmox", "api_url", "https://pve:8006/api2/json", "token_id", "root@pam!x",
        "token_secret", "S1",
        "vmware", "server", "https://vc.lan:8443", "username", "administrator@vsphere.local",
        "password", "P2",
        "nutanix", "endpoint", "https://prism.lan:9440", "username", "admin", "password", "P3",
        "insecure_tls", "true",
        "openstack", "auth_url", "https://ks:5000/v3", "username", "demo", "password", "P4",
        "project_name", "demo", "region", "RegionOne");
    assert_string_equal(env_of(c, "aws"),
                        "AWS_PROFILE=prod AWS_REGION=eu-west-3 AWS_DEFAULT_REGION=eu-west-3");
    assert_string_equal(env_of(c, "gcp"), "GOOGLE_PROJECT=p-1 CLOUDSDK_CORE_PROJECT=p-1 "
                                          "GOOGLE_APPLICATION_CREDENTIALS=/k/sa.json");
    assert_string_equal(env_of(c, "azure"),
                        "ARM_SUBSCRIPTION_ID=12345678-1234-1234-1234-123456789012");
    assert_string_equal(env_of(c, "proxmox"),
                        "PM_API_URL=https://pve:8006/api2/json PM_API_TOKEN_ID=root@pam!x "
                        "PM_API_TOKEN_SECRET=S1 PM_TLS_INSECURE=false");
    assert_string_equal(env_of(c, "vmware"),
                        "VSPHERE_SERVER=vc.lan:8443 VSPHERE_USER=administrator@vsphere.local "
                        "VSPHERE_PASSWORD=P2 VSPHERE_ALLOW_UNVERIFIED_SSL=false");
    assert_string_equal(env_of(c, "nutanix"),
                        "NUTANIX_ENDPOINT=prism.lan NUTANIX_PORT=9440 NUTANIX_USERNAME=admin "
                        "NUTANIX_PASSWORD=P3 NUTANIX_INSECURE=true");
    /* the domains take their defaults when the file has none */
    assert_string_equal(env_of(c, "openstack"),
                        "OS_AUTH_URL=https://ks:5000/v3 OS_USERNAME=demo OS_PASSWORD=P4 "
                        "OS_PROJECT_NAME=demo OS_USER_DOMAIN_NAME=Default "
                        "OS_PROJECT_DOMAIN_NAME=Default OS_REGION_NAME=RegionOne");

    /* access keys: no AWS_PROFILE; a secret without its key id is not exported */
    json_object_set_new(json_object_get(c, "aws"), "access_key_id", json_string("AKIA1"));
    json_object_set_new(json_object_get(c, "aws"), "secret_access_key", json_string("SK"));
    assert_string_equal(env_of(c, "aws"), "AWS_REGION=eu-west-3 AWS_DEFAULT_REGION=eu-west-3 "
                                          "AWS_ACCESS_KEY_ID=AKIA1 AWS_SECRET_ACCESS_KEY=SK");
    json_object_del(json_object_get(c, "aws"), "access_key_id");
    assert_string_equal(env_of(c, "aws"),
                        "AWS_PROFILE=prod AWS_REGION=eu-west-3 AWS_DEFAULT_REGION=eu-west-3");
    /* a bare host in a hand-written file still gives a host; a hand-written boolean works */
    json_object_set_new(json_object_get(c, "vmware"), "server", json_string("vc2.lan"));
    json_object_set_new(json_object_get(c, "vmware"), "insecure_tls", json_true());
    assert_string_equal(env_of(c, "vmware"),
                        "VSPHERE_SERVER=vc2.lan VSPHERE_USER=administrator@vsphere.local "
                        "VSPHERE_PASSWORD=P2 VSPHERE_ALLOW_UNVERIFIED_SSL=true");

    /* limits and errors */
    char *a[CRED_ENV_MAX];
    assert_int_equal(cred_env(c, "openstack", a, 2), 2);
    assert_string_equal(a[0], "OS_AUTH_URL=https://ks:5000/v3");
    free(a[0]);
    free(a[1]);
    assert_int_equal(cred_env(c, "proxmx", a, CRED_ENV_MAX), -EINVAL);
    json_t *none = json_pack("{s:{}}", "gcp");
    assert_int_equal(cred_env(none, "gcp", a, CRED_ENV_MAX), 0);
    assert_int_equal(cred_env(none, "aws", a, CRED_ENV_MAX), 0);
    json_decref(none);
    json_decref(c);
}

/* ---- child processes ---------------------------------------------------------------- */

static void test_tool_run(void **state)
{
    (void)state;
    struct cred_tool_run r;
    char *argv1[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    assert_int_equal(cred_tool_run("/bin/sh", argv1, NULL, NULL, 5000, &r), 0);
    assert_true(r.started);
    assert_false(r.timed_out);
    assert_int_equal(r.status, 3);
    assert_string_equal(r.out, "out\n");
    assert_string_equal(r.err, "err\n");
    cred_tool_free(&r);

    /* the environment: a dropped name is gone, an added one is there and wins */
    setenv("CRED_TEST_DROP", "inherited", 1);
    setenv("CRED_TEST_SET", "inherited", 1);
    char *argv2[] = {"sh", "-c", "echo \"${CRED_TEST_DROP-unset}|$CRED_TEST_SET|$HOME\"", NULL};
    char *drop[] = {"CRED_TEST_DROP", NULL};
    char *env[] = {"CRED_TEST_SET=given", NULL};
    assert_int_equal(cred_tool_run("/bin/sh", argv2, drop, env, 5000, &r), 0);
    char want[1200];
    snprintf(want, sizeof(want), "unset|given|%s\n", getenv("HOME") ? getenv("HOME") : "");
    assert_string_equal(r.out, want);
    cred_tool_free(&r);

    /* standard input is empty, not the caller's */
    char *argv3[] = {"sh", "-c", "cat; echo done", NULL};
    assert_int_equal(cred_tool_run("/bin/sh", argv3, NULL, NULL, 5000, &r), 0);
    assert_string_equal(r.out, "done\n");
    cred_tool_free(&r);

    /* the output is capped, the excess read and dropped so the child never blocks */
    char *argv4[] = {"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' a; echo end >&2", NULL};
    assert_int_equal(cred_tool_run("/bin/sh", argv4, NULL, NULL, 10000, &r), 0);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.out_len, CRED_TOOL_OUT_MAX);
    assert_int_equal(strlen(r.out), CRED_TOOL_OUT_MAX);
    assert_string_equal(r.err, "end\n");
    cred_tool_free(&r);

    /* the timeout kills it */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *argv5[] = {"sh", "-c", "echo started; exec sleep 20", NULL};
    assert_int_equal(cred_tool_run("/bin/sh", argv5, NULL, NULL, 300, &r), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(r.timed_out);
    assert_int_equal(r.status, 128 + 9);
    assert_string_equal(r.out, "started\n");
    assert_true(t1.tv_sec - t0.tv_sec < 5);
    cred_tool_free(&r);

    /* a program that cannot be run */
    char *argv6[] = {"nope", NULL};
    assert_int_equal(cred_tool_run("/nonexistent/nope", argv6, NULL, NULL, 1000, &r), -ENOENT);
    assert_false(r.started);
    cred_tool_free(&r);
}

static void test_tool_find(void **state)
{
    (void)state;
    char path[4096], bin[600], tool[700];
    sub(bin, sizeof(bin), "bin");
    assert_int_equal(mkdir(bin, 0700), 0);
    snprintf(tool, sizeof(tool), "%s/mytool", bin);
    write_text(tool, "#!/bin/sh\n", 0755);
    char notexec[700];
    snprintf(notexec, sizeof(notexec), "%s/plain", bin);
    write_text(notexec, "x\n", 0644);
    char *old = strdup(getenv("PATH") ? getenv("PATH") : "");
    char newpath[1400];
    snprintf(newpath, sizeof(newpath), "/nonexistent::%s:/bin", bin);
    setenv("PATH", newpath, 1);
    assert_int_equal(cred_tool_find("mytool", path, sizeof(path)), 0);
    assert_string_equal(path, tool);
    assert_int_equal(cred_tool_find("plain", path, sizeof(path)), -ENOENT);
    assert_int_equal(cred_tool_find("no-such-tool-here", path, sizeof(path)), -ENOENT);
    setenv("PATH", old, 1);
    free(old);
}

/* ---- verification through fake CLIs ---------------------------------------------------- */

/* Puts a fake program called name in a folder of its own and makes it the whole PATH. */
static void fake_tool(const char *name, const char *script)
{
    static int count;
    char bin[600], tool[700];
    snprintf(bin, sizeof(bin), "%s/fake%d", dir, count++);
    assert_int_equal(mkdir(bin, 0700), 0);
    snprintf(tool, sizeof(tool), "%s/%s", bin, name);
    write_text(tool, script, 0755);
    setenv("PATH", bin, 1);
}

static void test_verify_cli_tools(void **state)
{
    (void)state;
    char *old = strdup(getenv("PATH") ? getenv("PATH") : "");
    struct cred_verification v;
    json_t *aws = json_pack("{s:s, s:s, s:s, s:s}", "default_profile", "default",
                            "default_region", "eu-west-3", "access_key_id", "AKIATEST",
                            "secret_access_key", "TOPSECRET42");
    char log[700];
    sub(log, sizeof(log), "aws.log");

    /* no CLI: cannot verify */
    fake_tool("other", "#!/bin/sh\n");
    assert_int_equal(cred_verify("aws", aws, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_UNVERIFIED);
    assert_non_null(strstr(v.message, "aws CLI is not installed"));

    /* a CLI that answers: verified; the secret came in the environment, not in argv */
    char script[2048];
    snprintf(script, sizeof(script),
             "#!/bin/sh\necho \"$*|$AWS_ACCESS_KEY_ID|$AWS_SECRET_ACCESS_KEY|${AWS_PROFILE-none}|"
             "$AWS_REGION\" > '%s'\n"
             "echo '{\"UserId\": \"AIDA\", \"Account\": \"123456789012\", \"Arn\": "
             "\"arn:aws:iam::123456789012:user/ci\"}'\n",
             log);
    fake_tool("aws", script);
    assert_int_equal(cred_verify("aws", aws, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_VERIFIED);
    assert_non_null(strstr(v.message, "123456789012"));
    assert_non_null(strstr(v.message, "arn:aws:iam::123456789012:user/ci"));
    assert_string_equal(read_text(log), "sts get-caller-identity --output json|AKIATEST|"
                                        "TOPSECRET42|none|eu-west-3\n");
    /* without keys: --profile */
    json_t *prof = json_pack("{s:s, s:s}", "default_profile", "prod", "default_region", "us-east-1");
    assert_int_equal(cred_verify("aws", prof, 0, &v), 0);
    assert_string_equal(read_text(log), "sts get-caller-identity --output json --profile prod|||"
                                        "prod|us-east-1\n");
    json_decref(prof);

    /* refused, and the secret is masked even if the CLI repeats it */
    fake_tool("aws", "#!/bin/sh\necho >&2\necho \"An error occurred (InvalidClientTokenId) when "
                     "calling the GetCallerIdentity operation: bad key $AWS_SECRET_ACCESS_KEY\" "
                     ">&2\nexit 254\n");
    assert_int_equal(cred_verify("aws", aws, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_FAILED);
    assert_non_null(strstr(v.message, "InvalidClientTokenId"));
    assert_null(strstr(v.message, "TOPSECRET42"));
    assert_non_null(strstr(v.message, "********"));

    /* a secret made of the mask's own characters cannot make the masking loop */
    json_t *stars = json_pack("{s:s, s:s}", "access_key_id", "AKIATEST", "secret_access_key", "*");
    assert_int_equal(cred_verify("aws", stars, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_FAILED);
    assert_non_null(strstr(v.message, "bad key ********"));
    json_decref(stars);
    /* a one-letter secret is masked where it stands alone, not inside every word */
    json_t *tiny = json_pack("{s:s, s:s}", "access_key_id", "AKIATEST", "secret_access_key", "s");
    assert_int_equal(cred_verify("aws", tiny, 0, &v), 0);
    assert_non_null(strstr(v.message, "InvalidClientTokenId) when calling"));
    assert_non_null(strstr(v.message, "bad key ********"));
    json_decref(tiny);

    /* no network: cannot verify */
    fake_tool("aws", "#!/bin/sh\necho 'Could not connect to the endpoint URL: "
                     "\"https://sts.eu-west-3.amazonaws.com/\"' >&2\nexit 255\n");
    assert_int_equal(cred_verify("aws", aws, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_UNVERIFIED);
    assert_non_null(strstr(v.message, "could not reach"));

    /* gcloud: found and answering; then not logged in */
    json_t *gcp = json_pack("{s:s}", "default_project", "p-1");
    fake_tool("gcloud", "#!/bin/sh\n[ \"$CLOUDSDK_CORE_PROJECT\" = p-1 ] || exit 9\n"
                        "echo '{\"projectId\": \"p-1\", \"name\": \"Proj\", \"lifecycleState\": "
                        "\"ACTIVE\"}'\n");
    assert_int_equal(cred_verify("gcp", gcp, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_VERIFIED);
    assert_non_null(strstr(v.message, "p-1 (\"Proj\", ACTIVE)"));
    fake_tool("gcloud", "#!/bin/sh\necho 'ERROR: (gcloud.projects.describe) You do not currently "
                        "have an active account selected.' >&2\nexit 1\n");
    assert_int_equal(cred_verify("gcp", gcp, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_UNVERIFIED);
    fake_tool("gcloud", "#!/bin/sh\necho 'ERROR: (gcloud.projects.describe) [me@x] does not have "
                        "permission to access projects instance [p-1]' >&2\nexit 1\n");
    assert_int_equal(cred_verify("gcp", gcp, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_FAILED);
    assert_non_null(strstr(v.message, "does not have permission"));
    /* no gcloud, a key file: checked offline, said so */
    char key[600];
    sub(key, sizeof(key), "verify-sa.json");
    write_text(key, "{\"type\": \"service_account\", \"project_id\": \"other\", \"client_email\": "
                    "\"tf@other.iam.gserviceaccount.com\", \"private_key\": \"k\"}",
               0600);
    json_object_set_new(gcp, "credentials_file", json_string(key));
    fake_tool("other", "#!/bin/sh\n");
    assert_int_equal(cred_verify("gcp", gcp, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_UNVERIFIED);
    assert_non_null(strstr(v.message, "gcloud is not installed"));
    assert_non_null(strstr(v.message, "belongs to project other, not p-1"));
    json_decref(gcp);

    /* az */
    json_t *az = json_pack("{s:s}", "default_subscription", "12345678-1234-1234-1234-123456789012");
    assert_int_equal(cred_verify("azure", az, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_UNVERIFIED);
    assert_non_null(strstr(v.message, "az CLI is not installed"));
    fake_tool("az", "#!/bin/sh\n[ \"$4\" = 12345678-1234-1234-1234-123456789012 ] || exit 9\n"
                    "echo '{\"id\": \"12345678-1234-1234-1234-123456789012\", \"name\": \"Prod\", "
                    "\"state\": \"Enabled\", \"user\": {\"name\": \"me@example.com\"}}'\n");
    assert_int_equal(cred_verify("azure", az, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_VERIFIED);
    assert_non_null(strstr(v.message, "me@example.com"));
    fake_tool("az", "#!/bin/sh\necho \"ERROR: Subscription '$4' not found. Check the spelling "
                    "and casing and try again.\" >&2\nexit 1\n");
    assert_int_equal(cred_verify("azure", az, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_FAILED);
    assert_non_null(strstr(v.message, "not found"));
    json_decref(az);

    assert_int_equal(cred_verify("proxmx", aws, 0, &v), -EINVAL);
    json_decref(aws);
    setenv("PATH", old, 1);
    free(old);
}

/* An HTTP endpoint nobody listens on: cannot verify, and the secret stays out of the words. */
static void test_verify_unreachable(void **state)
{
    (void)state;
    struct cred_verification v;
    json_t *s = json_pack("{s:s, s:s, s:s}", "api_url", "http://127.0.0.1:1/api2/json",
                          "token_id", "root@pam!x", "token_secret", "NOTSHOWN");
    assert_int_equal(cred_verify("proxmox", s, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_UNVERIFIED);
    assert_non_null(strstr(v.message, "could not be reached"));
    assert_null(strstr(v.message, "NOTSHOWN"));
    json_decref(s);
    s = json_pack("{s:s, s:s, s:s, s:s}", "auth_url", "http://127.0.0.1:1/v3", "username", "u",
                  "password", "p", "project_name", "demo");
    assert_int_equal(cred_verify("openstack", s, 0, &v), 0);
    assert_int_equal(v.verdict, CRED_UNVERIFIED);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_check_urls),
        cmocka_unit_test(test_check_others),
        cmocka_unit_test(test_check_gcp_key),
        cmocka_unit_test(test_value),
        cmocka_unit_test(test_load_absent_and_empty),
        cmocka_unit_test(test_load_seed_layout_and_loose_mode),
        cmocka_unit_test(test_load_refuses_bad_files),
        cmocka_unit_test(test_save_round_trip_mode_and_order),
        cmocka_unit_test(test_save_keeps_other_sections),
        cmocka_unit_test(test_save_refuses_bad_trees_and_keeps_the_file),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_tool_run),
        cmocka_unit_test(test_tool_find),
        cmocka_unit_test(test_verify_cli_tools),
        cmocka_unit_test(test_verify_unreachable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
