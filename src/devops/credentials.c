/* The provider table and credentials.yaml: checking and normalising what the user gives,
 * reading the file with limits (yaml_load), writing it back atomically in a stable order
 * with every string double-quoted, and turning a provider's section into the environment
 * its Terraform/Ansible providers read. */
#define _GNU_SOURCE
#include "credentials.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "str.h"
#include "xalloc.h"
#include "yaml_load.h"

#define PATH_CAP 1200          /* home + "/credentials.yaml" */
#define HOST_MAX 256           /* a host name or bracketed IPv6 address, with its NUL */
#define URL_PATH_MAX 1024      /* the path part of a URL, with its NUL */
#define SHOWN 60               /* bytes of a user's value quoted back in an error */
#define KEY_FILE_MAX (64u << 10) /* a service-account key file larger than this is refused */
#define RENDER_MAX (4u * CRED_FILE_MAX) /* the YAML text, escapes included */
#define YAML_NODES_MAX 4096

/* ---- the table ---------------------------------------------------------------------- */

#define ENV1(n) {{n, CRED_AS_IS, NULL}}

static const struct cred_provider providers[] = {
    {"aws", "Amazon Web Services", "aws sts get-caller-identity, when the aws CLI is installed",
     0, NULL, 0,
     {
         {"default_profile", "AWS CLI profile", "default", 0, 1, "default", CRED_WORD, NULL,
          {{"AWS_PROFILE", CRED_AS_IS, "access_key_id"}}},
         {"default_region", "AWS region", "eu-west-3", 0, 1, "us-east-1", CRED_WORD, NULL,
          {{"AWS_REGION", CRED_AS_IS, NULL}, {"AWS_DEFAULT_REGION", CRED_AS_IS, NULL}}},
         {"access_key_id", "Access key ID (empty: use the profile)", "AKIAIOSFODNN7EXAMPLE", 0, 0,
          NULL, CRED_WORD, NULL, ENV1("AWS_ACCESS_KEY_ID")},
         {"secret_access_key", "Secret access key", NULL, 1, 1, NULL, CRED_TEXT, "access_key_id",
          ENV1("AWS_SECRET_ACCESS_KEY")},
     }},
    {"gcp", "Google Cloud", "gcloud projects describe, when gcloud is installed", 0, NULL, 0,
     {
         {"default_project", "GCP project ID", "my-project-123", 0, 1, NULL, CRED_WORD, NULL,
          {{"GOOGLE_PROJECT", CRED_AS_IS, NULL}, {"CLOUDSDK_CORE_PROJECT", CRED_AS_IS, NULL}}},
         {"credentials_file", "Service-account key file (empty: your gcloud login)",
          "~/keys/terraform-sa.json", 0, 0, NULL, CRED_GCP_KEY, NULL,
          ENV1("GOOGLE_APPLICATION_CREDENTIALS")},
     }},
    {"azure", "Microsoft Azure", "az account show, when the az CLI is installed", 0, NULL, 0,
     {
         {"default_subscription", "Subscription ID", "12345678-1234-1234-1234-123456789012", 0, 1,
          NULL, CRED_UUID, NULL, ENV1("ARM_SUBSCRIPTION_ID")},
         {"tenant_id", "Tenant ID (empty: from your az login)",
          "87654321-4321-4321-4321-210987654321", 0, 0, NULL, CRED_UUID, NULL,
          ENV1("ARM_TENANT_ID")},
         {"client_id", "Service principal client ID (empty: your az login)",
          "11111111-2222-3333-4444-555555555555", 0, 0, NULL, CRED_UUID, NULL,
          ENV1("ARM_CLIENT_ID")},
         {"client_secret", "Service principal client secret", NULL, 1, 1, NULL, CRED_TEXT,
          "client_id", ENV1("ARM_CLIENT_SECRET")},
     }},
    {"proxmox", "Proxmox VE", "GET <api_url>/version with the API token", 8006, "/api2/json", 1,
     {
         {"api_url", "Proxmox API URL", "https://pve.example.com:8006/api2/json", 0, 1, NULL,
          CRED_URL, NULL, ENV1("PM_API_URL")},
         {"token_id", "API token ID", "root@pam!cloudya", 0, 1, NULL, CRED_PVE_TOKEN, NULL,
          ENV1("PM_API_TOKEN_ID")},
         {"token_secret", "API token secret", NULL, 1, 1, NULL, CRED_TEXT, NULL,
          ENV1("PM_API_TOKEN_SECRET")},
         {"insecure_tls", "Accept a self-signed certificate (true/false)", "false", 0, 0, "false",
          CRED_BOOL, NULL, ENV1("PM_TLS_INSECURE")},
     }},
    {"vmware", "VMware vSphere", "POST <server>/api/session (the session is closed again)", 0,
     NULL, 0,
     {
         {"server", "vCenter address", "vcenter.example.com", 0, 1, NULL, CRED_URL, NULL,
          {{"VSPHERE_SERVER", CRED_HOST, NULL}}},
         {"username", "vCenter user", "administrator@vsphere.local", 0, 1, NULL, CRED_TEXT, NULL,
          ENV1("VSPHERE_USER")},
         {"password", "vCenter password", NULL, 1, 1, NULL, CRED_TEXT, NULL,
          ENV1("VSPHERE_PASSWORD")},
         {"insecure_tls", "Accept a self-signed certificate (true/false)", "false", 0, 0, "false",
          CRED_BOOL, NULL, ENV1("VSPHERE_ALLOW_UNVERIFIED_SSL")},
     }},
    {"nutanix", "Nutanix Prism Central", "POST <endpoint>/api/nutanix/v3/clusters/list", 9440,
     NULL, 0,
     {
         {"endpoint", "Prism Central address", "prism.example.com", 0, 1, NULL, CRED_URL, NULL,
          {{"NUTANIX_ENDPOINT", CRED_HOSTNAME, NULL}, {"NUTANIX_PORT", CRED_PORT, NULL}}},
         {"username", "Prism Central user", "admin", 0, 1, NULL, CRED_TEXT, NULL,
          ENV1("NUTANIX_USERNAME")},
         {"password", "Prism Central password", NULL, 1, 1, NULL, CRED_TEXT, NULL,
          ENV1("NUTANIX_PASSWORD")},
         {"insecure_tls", "Accept a self-signed certificate (true/false)", "false", 0, 0, "false",
          CRED_BOOL, NULL, ENV1("NUTANIX_INSECURE")},
     }},
    {"openstack", "OpenStack", "POST <auth_url>/auth/tokens (Keystone v3, scoped to the project)",
     5000, "/v3", 0,
     {
         {"auth_url", "Keystone URL", "https://keystone.example.com:5000/v3", 0, 1, NULL, CRED_URL,
          NULL, ENV1("OS_AUTH_URL")},
         {"username", "User", "demo", 0, 1, NULL, CRED_TEXT, NULL, ENV1("OS_USERNAME")},
         {"password", "Password", NULL, 1, 1, NULL, CRED_TEXT, NULL, ENV1("OS_PASSWORD")},
         {"project_name", "Project", "demo", 0, 1, NULL, CRED_TEXT, NULL,
          ENV1("OS_PROJECT_NAME")},
         {"user_domain_name", "User domain", "Default", 0, 1, "Default", CRED_TEXT, NULL,
          ENV1("OS_USER_DOMAIN_NAME")},
         {"project_domain_name", "Project domain", "Default", 0, 1, "Default", CRED_TEXT, NULL,
          ENV1("OS_PROJECT_DOMAIN_NAME")},
         {"region", "Region (empty: the cloud's default)", "RegionOne", 0, 0, NULL, CRED_WORD,
          NULL, ENV1("OS_REGION_NAME")},
     }},
};

#define NPROVIDERS (sizeof(providers) / sizeof(providers[0]))

static const char *const provider_names[] = {"aws", "gcp", "azure", "proxmox", "vmware",
                                             "nutanix", "openstack", NULL};

const char *const *cred_provider_names(void)
{
    return provider_names;
}

const struct cred_provider *cred_provider(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < NPROVIDERS; i++)
        if (strcmp(providers[i].name, name) == 0)
            return &providers[i];
    return NULL;
}

const struct cred_field *cred_field(const struct cred_provider *p, const char *key)
{
    if (p == NULL || key == NULL)
        return NULL;
    for (int i = 0; i < CRED_MAX_FIELDS && p->fields[i].key != NULL; i++)
        if (strcmp(p->fields[i].key, key) == 0)
            return &p->fields[i];
    return NULL;
}

/* ---- checking values ---------------------------------------------------------------- */

/* A user's value for an error message: cut to SHOWN bytes, control characters as '?'. */
static void shown(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0' && n < SHOWN && n + 1 < cap; n++)
        out[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
    out[n] = '\0';
    if (s[n] != '\0' && n + 4 < cap) {
        memcpy(out + n, "...", 4);
    }
}

/* The parts of a URL or of a bare host. */
struct url_parts {
    char scheme[8];           /* "http" or "https" ("" for a bare host) */
    char host[HOST_MAX];      /* as written; an IPv6 address keeps its brackets */
    int port;                 /* 0 when none is written */
    char path[URL_PATH_MAX];  /* "" or "/..." without trailing slashes */
};

static int host_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* Splits s into u. Returns 0, or -EINVAL with the reason in why. */
static int url_split(const char *s, struct url_parts *u, const char **why)
{
    memset(u, 0, sizeof(*u));
    const char *p = s;
    if (strncmp(p, "https://", 8) == 0) {
        str_copy(u->scheme, sizeof(u->scheme), "https");
        p += 8;
    } else if (strncmp(p, "http://", 7) == 0) {
        str_copy(u->scheme, sizeof(u->scheme), "http");
        p += 7;
    } else if (strstr(p, "://") != NULL) {
        *why = "only http:// and https:// are accepted";
        return -EINVAL;
    }
    if (strpbrk(p, "?#") != NULL) {
        *why = "a query (?) or fragment (#) is not accepted";
        return -EINVAL;
    }
    size_t alen = strcspn(p, "/");
    if (memchr(p, '@', alen) != NULL) {
        *why = "a URL cannot hold a user or password (they have fields of their own)";
        return -EINVAL;
    }
    size_t hlen;
    if (p[0] == '[') {
        const char *end = memchr(p, ']', alen);
        if (end == NULL) {
            *why = "an IPv6 address needs its closing ]";
            return -EINVAL;
        }
        for (const char *q = p + 1; q < end; q++)
            if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.') {
                *why = "the IPv6 address is not valid";
                return -EINVAL;
            }
        hlen = (size_t)(end - p) + 1;
        if (hlen < 4) {
            *why = "the IPv6 address is empty";
            return -EINVAL;
        }
    } else {
        hlen = 0;
        while (hlen < alen && host_char(p[hlen]))
            hlen++;
    }
    if (hlen == 0 || hlen >= HOST_MAX) {
        *why = hlen == 0 ? "there is no host" : "the host name is too long";
        return -EINVAL;
    }
    memcpy(u->host, p, hlen);
    u->host[hlen] = '\0';
    if (u->host[0] != '[' && (u->host[0] == '.' || u->host[0] == '-')) {
        *why = "the host name is not valid";
        return -EINVAL;
    }
    p += hlen;
    alen -= hlen;
    if (alen > 0) {
        if (p[0] != ':' || alen < 2 || alen > 6) {
            *why = "the host may only be followed by :PORT";
            return -EINVAL;
        }
        char port[8];
        memcpy(port, p + 1, alen - 1);
        port[alen - 1] = '\0';
        int64_t v;
        if (!isdigit((unsigned char)port[0]) || str_to_int64(port, 1, 65535, &v) != 0) {
            *why = "the port must be a number from 1 to 65535";
            return -EINVAL;
        }
        u->port = (int)v;
        p += alen;
    }
    size_t plen = strlen(p);
    while (plen > 0 && p[plen - 1] == '/')
        plen--;
    if (plen >= URL_PATH_MAX) {
        *why = "the path is too long";
        return -EINVAL;
    }
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f || p[i] == '?' ||
            p[i] == '#' || p[i] == '\\') {
            *why = "the path holds a space, a backslash or a character outside ASCII";
            return -EINVAL;
        }
    memcpy(u->path, p, plen);
    u->path[plen] = '\0';
    if (u->scheme[0] == '\0' && u->path[0] != '\0') {
        *why = "a URL with a path needs https:// (or http://) in front";
        return -EINVAL;
    }
    return 0;
}

/* The normal form of a URL field of p. */
static int check_url(const struct cred_provider *p, const struct cred_field *f, const char *v,
                     char *out, size_t cap, char *err, size_t errlen)
{
    struct url_parts u;
    const char *why = NULL;
    char s[SHOWN + 8];
    shown(s, sizeof(s), v);
    if (url_split(v, &u, &why) != 0) {
        str_fmt(err, errlen, "%s: \"%s\" is not a valid URL: %s (expected e.g. %s)", f->key, s,
                why, f->example);
        return -EINVAL;
    }
    /* a bare host, or a URL with neither port nor path, gets the provider's usual port */
    int bare = u.scheme[0] == '\0' || (u.port == 0 && u.path[0] == '\0');
    if (u.scheme[0] == '\0')
        str_copy(u.scheme, sizeof(u.scheme), "https");
    if (bare && u.port == 0 && p->default_port > 0)
        u.port = p->default_port;
    if (p->path == NULL && u.path[0] != '\0') {
        str_fmt(err, errlen, "%s: give the address without a path (\"%s\"), e.g. %s", f->key,
                u.path, f->example);
        return -EINVAL;
    }
    if (p->path != NULL && u.path[0] == '\0')
        str_copy(u.path, sizeof(u.path), p->path);
    size_t pl = strlen(u.path), el = p->path ? strlen(p->path) : 0;
    if (p->path != NULL && p->path_strict && (pl < el || strcmp(u.path + pl - el, p->path) != 0)) {
        str_fmt(err, errlen, "%s: \"%s\" must end with %s (e.g. %s)", f->key, s, p->path,
                f->example);
        return -EINVAL;
    }
    char port[16] = "";
    if (u.port > 0)
        snprintf(port, sizeof(port), ":%d", u.port);
    int n = snprintf(out, cap, "%s://%s%s%s", u.scheme, u.host, port, u.path);
    if (n < 0 || (size_t)n >= cap) {
        str_fmt(err, errlen, "%s: the URL is too long", f->key);
        return -ENOSPC;
    }
    return 0;
}

static int check_uuid(const char *v)
{
    if (strlen(v) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (v[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)v[i])) {
            return 0;
        }
    }
    return 1;
}

static int check_word(const char *v)
{
    if (!isalnum((unsigned char)v[0]) || strlen(v) > 128)
        return 0;
    for (const char *q = v; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '.' && *q != '_' && *q != '-')
            return 0;
    return 1;
}

/* USER@REALM!NAME, as Proxmox shows a token's id. */
static int check_pve_token(const char *v)
{
    const char *at = strrchr(v, '@');
    const char *bang = at ? strchr(at, '!') : NULL;
    if (at == NULL || bang == NULL || at == v || bang == at + 1 || bang[1] == '\0' ||
        strlen(v) > 256)
        return 0;
    for (const char *q = v; q < at; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '!' || *q == ':')
            return 0;
    for (const char *q = at + 1; q < bang; q++)
        if (!isalnum((unsigned char)*q) && *q != '.' && *q != '_' && *q != '-')
            return 0;
    if (!isalpha((unsigned char)bang[1]))
        return 0;
    for (const char *q = bang + 1; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '.' && *q != '_' && *q != '-')
            return 0;
    return 1;
}

/* Expands ~/ and makes path absolute and canonical into out; checks it is a regular file
 * of at most KEY_FILE_MAX bytes. */
static int check_file(const struct cred_field *f, const char *v, char *out, size_t cap,
                      char *err, size_t errlen)
{
    char given[PATH_MAX], s[SHOWN + 8];
    shown(s, sizeof(s), v);
    int n;
    const char *home = getenv("HOME");
    if (strncmp(v, "~/", 2) == 0 && home != NULL && home[0] != '\0')
        n = snprintf(given, sizeof(given), "%s/%s", home, v + 2);
    else
        n = snprintf(given, sizeof(given), "%s", v);
    if (n < 0 || (size_t)n >= sizeof(given)) {
        str_fmt(err, errlen, "%s: the path is too long", f->key);
        return -EINVAL;
    }
    char real[PATH_MAX];
    struct stat st;
    if (realpath(given, real) == NULL || stat(real, &st) != 0) {
        str_fmt(err, errlen, "%s: cannot find \"%s\": %s", f->key, s, strerror(errno));
        return -EINVAL;
    }
    if (!S_ISREG(st.st_mode)) {
        str_fmt(err, errlen, "%s: \"%s\" is not a regular file", f->key, s);
        return -EINVAL;
    }
    if (st.st_size > (off_t)KEY_FILE_MAX) {
        str_fmt(err, errlen, "%s: \"%s\" is larger than %u KiB: not a key file", f->key, s,
                KEY_FILE_MAX >> 10);
        return -EINVAL;
    }
    if (str_copy(out, cap, real) != 0) {
        str_fmt(err, errlen, "%s: the path is too long", f->key);
        return -ENOSPC;
    }
    return 0;
}

/* A Google service-account key: JSON with "type": "service_account", a project_id and a
 * client_email. */
static int check_gcp_key(const struct cred_field *f, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *key = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    int rc = 0;
    if (key == NULL || !json_is_object(key)) {
        str_fmt(err, errlen, "%s: %s is not a JSON key file (%s)", f->key, path,
                key == NULL ? je.text : "not an object");
        rc = -EINVAL;
        goto out;
    }
    const char *type = json_string_value(json_object_get(key, "type"));
    if (type == NULL || strcmp(type, "service_account") != 0) {
        char t[SHOWN + 8];
        shown(t, sizeof(t), type ? type : "none");
        str_fmt(err, errlen,
                "%s: %s is not a service-account key (its type is \"%s\"); for your own login, "
                "leave credentials_file empty and run `gcloud auth application-default login`",
                f->key, path, t);
        rc = -EINVAL;
        goto out;
    }
    if (json_string_value(json_object_get(key, "project_id")) == NULL ||
        json_string_value(json_object_get(key, "client_email")) == NULL ||
        json_string_value(json_object_get(key, "private_key")) == NULL) {
        str_fmt(err, errlen, "%s: %s lacks project_id, client_email or private_key: download "
                             "the key again from the console",
                f->key, path);
        rc = -EINVAL;
    }
out:
    json_decref(key);
    return rc;
}

static int parse_bool(const char *v, int *b)
{
    static const char *const yes[] = {"true", "yes", "on", "1", "y"};
    static const char *const no[] = {"false", "no", "off", "0", "n"};
    for (size_t i = 0; i < 5; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *b = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *b = 0, 0;
    }
    return -EINVAL;
}

int cred_check(const struct cred_provider *p, const struct cred_field *f, const char *value,
               char *out, size_t cap, char *err, size_t errlen)
{
    char v[CRED_VALUE_MAX], s[SHOWN + 8];
    if (cap > 0)
        out[0] = '\0';
    size_t n = strlen(value);
    if (n >= sizeof(v)) {
        str_fmt(err, errlen, "%s is longer than %d bytes", f->key, CRED_VALUE_MAX - 1);
        return -EINVAL;
    }
    /* blanks around a typed value are accidents; a secret is taken exactly as given */
    const char *b = value;
    if (!f->secret) {
        while (*b == ' ' || *b == '\t')
            b++;
        n = strlen(b);
        while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t' || b[n - 1] == '\r'))
            n--;
    }
    memcpy(v, b, n);
    v[n] = '\0';
    if (n == 0) {
        str_fmt(err, errlen, "%s is empty", f->key);
        return -EINVAL;
    }
    if (!str_is_utf8(v, n) || str_has_control(v, n)) {
        str_fmt(err, errlen, "%s holds a control character or is not UTF-8 text", f->key);
        return -EINVAL;
    }
    shown(s, sizeof(s), v);
    int ok = 1, b2;
    switch (f->kind) {
    case CRED_TEXT:
        break;
    case CRED_WORD:
        ok = check_word(v);
        if (!ok) {
            str_fmt(err, errlen, "%s: \"%s\" must be one word of letters, digits, '.', '_' or "
                                 "'-' (e.g. %s)",
                    f->key, s, f->example);
            return -EINVAL;
        }
        break;
    case CRED_UUID:
        if (!check_uuid(v)) {
            str_fmt(err, errlen, "%s: \"%s\" is not a UUID (expected 8-4-4-4-12 hexadecimal "
                                 "digits, e.g. %s)",
                    f->key, s, f->example);
            return -EINVAL;
        }
        str_lower(v);
        break;
    case CRED_URL:
        return check_url(p, f, v, out, cap, err, errlen);
    case CRED_BOOL:
        if (parse_bool(v, &b2) != 0) {
            str_fmt(err, errlen, "%s: \"%s\" is not true or false", f->key, s);
            return -EINVAL;
        }
        return str_copy(out, cap, b2 ? "true" : "false");
    case CRED_FILE:
        return check_file(f, v, out, cap, err, errlen);
    case CRED_GCP_KEY: {
        int rc = check_file(f, v, out, cap, err, errlen);
        if (rc == 0)
            rc = check_gcp_key(f, out, err, errlen);
        return rc;
    }
    case CRED_PVE_TOKEN:
        if (!check_pve_token(v)) {
            str_fmt(err, errlen, "%s: \"%s\" is not a Proxmox API token id (USER@REALM!NAME, "
                                 "e.g. %s)",
                    f->key, s, f->example);
            return -EINVAL;
        }
        break;
    }
    if (str_copy(out, cap, v) != 0) {
        str_fmt(err, errlen, "%s is too long", f->key);
        return -ENOSPC;
    }
    return 0;
}

int cred_value(const json_t *section, const char *key, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    out[0] = '\0';
    const json_t *v = json_is_object(section) ? json_object_get(section, key) : NULL;
    int n = 0;
    if (json_is_string(v)) {
        if (json_string_length(v) == 0 || memchr(json_string_value(v), '\0',
                                                 json_string_length(v)) != NULL)
            return 0;
        if (str_copy(out, cap, json_string_value(v)) != 0) {
            out[0] = '\0';
            return 0;
        }
        return 1;
    }
    if (json_is_boolean(v))
        n = snprintf(out, cap, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_integer(v))
        n = snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        n = snprintf(out, cap, "%.17g", json_real_value(v));
    else
        return 0;
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return 0;
    }
    return 1;
}

/* ---- the file ----------------------------------------------------------------------- */

static int file_path(const char *home, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", home, CRED_FILE_NAME);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* 1 when v is a scalar (a value credentials.yaml may hold under a provider). */
static int is_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v) || json_is_null(v);
}

/* 1 when v is a scalar the file can hold and give back: YAML refuses NUL characters. */
static int is_writable(const json_t *v)
{
    return is_scalar(v) &&
           !(json_is_string(v) && memchr(json_string_value(v), '\0', json_string_length(v)));
}

/* Checks the shape of a loaded tree and turns empty sections (`aws:`) into {}. */
static int check_shape(json_t *root, const char *path, char *err, size_t errlen)
{
    const char *name;
    json_t *section;
    char s[SHOWN + 8];
    json_object_foreach(root, name, section) {
        shown(s, sizeof(s), name);
        if (json_is_null(section)) {
            json_object_set_new(root, name, json_object());
            continue;
        }
        if (!json_is_object(section)) {
            str_fmt(err, errlen, "%s: \"%s\" must be a mapping of keys to values (like "
                                 "`aws:` followed by indented `default_region: \"...\"`): fix or "
                                 "remove the file",
                    path, s);
            return -EINVAL;
        }
        const char *key;
        json_t *v;
        json_object_foreach(section, key, v) {
            if (!is_scalar(v)) {
                char k[SHOWN + 8];
                shown(k, sizeof(k), key);
                str_fmt(err, errlen, "%s: %s.%s must be a single value, not a list or a "
                                     "mapping: fix or remove the file",
                        path, s, k);
                return -EINVAL;
            }
        }
    }
    return 0;
}

int cred_load(const char *home, json_t **out, int *loose_mode, char *err, size_t errlen)
{
    char path[PATH_CAP];
    char *text = NULL;
    json_t *root = NULL;
    int rc = 0, fd = -1;
    *out = NULL;
    if (loose_mode != NULL)
        *loose_mode = 0;
    if (file_path(home, path, sizeof(path)) != 0) {
        str_fmt(err, errlen, "the Cloudya folder's path is too long");
        return -ENAMETOOLONG;
    }
    /* O_NONBLOCK: a FIFO put in the file's place must not hang the command */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT) {
        *out = json_object();
        return 0;
    }
    if (fd < 0) {
        rc = -errno;
        str_fmt(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        str_fmt(err, errlen, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        str_fmt(err, errlen, "%s is not a regular file: remove it (cloudya connect writes a new "
                             "one)",
                path);
        goto out;
    }
    if (st.st_size > (off_t)CRED_FILE_MAX) {
        rc = -EFBIG;
        str_fmt(err, errlen, "%s is larger than %u KiB: not read (is it the right file?)", path,
                CRED_FILE_MAX >> 10);
        goto out;
    }
    if (loose_mode != NULL)
        *loose_mode = (st.st_mode & 077) != 0;
    text = xmalloc(CRED_FILE_MAX + 1);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, text + len, CRED_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            str_fmt(err, errlen, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > CRED_FILE_MAX) { /* it grew after fstat */
            rc = -EFBIG;
            str_fmt(err, errlen, "%s is larger than %u KiB: not read", path, CRED_FILE_MAX >> 10);
            goto out;
        }
    }
    char yerr[256];
    yaml_limits lim = {CRED_FILE_MAX, 0, YAML_NODES_MAX};
    rc = yaml_load_buf(text, len, &lim, &root, yerr, sizeof(yerr));
    if (rc != 0) {
        str_fmt(err, errlen, "%s is not valid YAML (%s): fix or remove the file", path, yerr);
        rc = -EINVAL;
        goto out;
    }
    if (json_is_null(root)) {
        json_decref(root);
        root = json_object();
    }
    if (!json_is_object(root)) {
        rc = -EINVAL;
        str_fmt(err, errlen, "%s must be a mapping of providers (aws:, gcp:, ...) to their "
                             "settings: fix or remove the file",
                path);
        goto out;
    }
    rc = check_shape(root, path, err, errlen);
    if (rc == 0) {
        *out = root;
        root = NULL;
    }
out:
    if (text != NULL) {
        explicit_bzero(text, CRED_FILE_MAX + 1);
        free(text);
    }
    json_decref(root);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Appends s (n bytes) as a YAML double-quoted scalar. Escapes what a reader could fold or
 * refuse: control characters, C1 controls (as \xNN), the Unicode line and paragraph
 * separators, the byte-order mark and the two non-characters U+FFFE/U+FFFF. */
static void put_quoted(buf *b, const char *s, size_t n)
{
    buf_puts(b, "\"");
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[3] = {'\\', (char)c, '\0'};
            buf_puts(b, e);
            i++;
        } else if (c == '\n') {
            buf_puts(b, "\\n"), i++;
        } else if (c == '\t') {
            buf_puts(b, "\\t"), i++;
        } else if (c == '\r') {
            buf_puts(b, "\\r"), i++;
        } else if (c < 0x20 || c == 0x7f) {
            buf_printf(b, "\\x%02x", c), i++;
        } else if (c < 0x80) {
            buf_append(b, &s[i], 1), i++;
        } else {
            /* jansson strings are valid UTF-8: decode one character */
            size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (i + len > n)
                len = n - i;
            uint32_t cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
            for (size_t k = 1; k < len; k++)
                cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3f);
            if (cp >= 0x80 && cp <= 0x9f)
                buf_printf(b, "\\x%02x", (unsigned)cp);
            else if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || cp == 0xfffe ||
                     cp == 0xffff)
                buf_printf(b, "\\u%04x", (unsigned)cp);
            else
                buf_append(b, s + i, len);
            i += len;
        }
    }
    buf_puts(b, "\"");
}

/* Keys the YAML 1.2 core schema would not read back as strings when plain. */
static int plain_key(const char *k)
{
    static const char *const special[] = {"true", "false", "null", "yes", "no", "on", "off",
                                          "y", "n"};
    if (!isalpha((unsigned char)k[0]) && k[0] != '_')
        return 0;
    for (const char *q = k; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-')
            return 0;
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (strcasecmp(k, special[i]) == 0)
            return 0;
    return 1;
}

static void put_key(buf *b, const char *k)
{
    if (plain_key(k))
        buf_puts(b, k);
    else
        put_quoted(b, k, strlen(k));
    buf_puts(b, ":");
}

static void put_scalar(buf *b, const json_t *v)
{
    if (json_is_string(v))
        put_quoted(b, json_string_value(v), json_string_length(v));
    else if (json_is_true(v))
        buf_puts(b, "true");
    else if (json_is_false(v))
        buf_puts(b, "false");
    else if (json_is_integer(v))
        buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v) && isfinite(json_real_value(v))) {
        /* %.17g of a whole real prints no point; keep it a real for the reader */
        char t[64];
        snprintf(t, sizeof(t), "%.17g", json_real_value(v));
        buf_puts(b, t);
        if (strpbrk(t, ".eE") == NULL)
            buf_puts(b, ".0");
    } else
        buf_puts(b, "null");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj not in skip (NULL-terminated list, or a provider's fields when p),
 * sorted. Returns a malloc'd array the caller frees, with the count in *n. */
static const char **other_keys(const json_t *obj, const struct cred_provider *p, int top,
                               size_t *n)
{
    const char **keys = xcalloc(json_object_size(obj) + 1, sizeof(*keys));
    const char *k;
    json_t *v;
    *n = 0;
    json_object_foreach((json_t *)obj, k, v) {
        if (top ? cred_provider(k) != NULL : cred_field(p, k) != NULL)
            continue;
        keys[(*n)++] = k;
    }
    qsort(keys, *n, sizeof(*keys), cmp_str);
    return keys;
}

static void put_section(buf *b, const char *name, const json_t *section)
{
    put_key(b, name);
    if (json_object_size(section) == 0) {
        buf_puts(b, " {}\n");
        return;
    }
    buf_puts(b, "\n");
    const struct cred_provider *p = cred_provider(name);
    for (int i = 0; p != NULL && i < CRED_MAX_FIELDS && p->fields[i].key != NULL; i++) {
        const json_t *v = json_object_get(section, p->fields[i].key);
        if (v == NULL)
            continue;
        buf_puts(b, "  ");
        put_key(b, p->fields[i].key);
        buf_puts(b, " ");
        put_scalar(b, v);
        buf_puts(b, "\n");
    }
    size_t n;
    const char **keys = other_keys(section, p, 0, &n);
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, "  ");
        put_key(b, keys[i]);
        buf_puts(b, " ");
        put_scalar(b, json_object_get(section, keys[i]));
        buf_puts(b, "\n");
    }
    free(keys);
}

char *cred_render(const json_t *creds, size_t *len, int *rc)
{
    *rc = 0;
    if (!json_is_object(creds)) {
        *rc = -EINVAL;
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)creds, k, v) {
        if (!json_is_object(v)) {
            *rc = -EINVAL;
            return NULL;
        }
        const char *k2;
        json_t *v2;
        json_object_foreach(v, k2, v2) {
            if (!is_writable(v2)) {
                *rc = -EINVAL;
                return NULL;
            }
        }
    }
    buf b;
    buf_init(&b, RENDER_MAX);
    buf_puts(&b, "# Cloud provider credentials of Cloudya, written by `cloudya connect`.\n"
                 "# Keep this file private (mode 0600): it may hold secrets.\n");
    for (size_t i = 0; i < NPROVIDERS; i++) {
        const json_t *section = json_object_get(creds, providers[i].name);
        if (section != NULL)
            put_section(&b, providers[i].name, section);
    }
    size_t n;
    const char **keys = other_keys(creds, NULL, 1, &n);
    for (size_t i = 0; i < n; i++)
        put_section(&b, keys[i], json_object_get(creds, keys[i]));
    free(keys);
    if (b.failed) {
        if (b.data != NULL)
            explicit_bzero(b.data, b.cap);
        buf_free(&b);
        *rc = -EFBIG;
        return NULL;
    }
    return buf_steal(&b, len);
}

/* Writes all n bytes of p to fd. Returns 0 or -errno. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int cred_save(const char *home, const json_t *creds, char *err, size_t errlen)
{
    char path[PATH_CAP], tmp[PATH_CAP + 16];
    int rc;
    if (file_path(home, path, sizeof(path)) != 0) {
        str_fmt(err, errlen, "the Cloudya folder's path is too long");
        return -ENAMETOOLONG;
    }
    size_t len = 0;
    char *text = cred_render(creds, &len, &rc);
    if (text == NULL) {
        str_fmt(err, errlen, rc == -EFBIG ? "the credentials would make %s too large"
                                          : "the credentials for %s are not a mapping of "
                                            "mappings of values",
                path);
        return rc;
    }
    if (len > CRED_FILE_MAX) {
        rc = -EFBIG;
        str_fmt(err, errlen, "the credentials would make %s larger than %u KiB", path,
                CRED_FILE_MAX >> 10);
        goto wipe;
    }
    if (mkdir(home, 0700) != 0 && errno != EEXIST) {
        rc = -errno;
        str_fmt(err, errlen, "cannot create %s: %s", home, strerror(errno));
        goto wipe;
    }
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC); /* created with mode 0600 */
    if (fd < 0) {
        rc = -errno;
        str_fmt(err, errlen, "cannot write in %s: %s", home, strerror(errno));
        goto wipe;
    }
    rc = write_all(fd, text, len);
    if (rc == 0 && fchmod(fd, 0600) != 0)
        rc = -errno;
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0) {
        str_fmt(err, errlen, "cannot write %s: %s", path, strerror(-rc));
        unlink(tmp);
        goto wipe;
    }
    /* the rename itself is durable once the folder is synced */
    int dfd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
wipe:
    explicit_bzero(text, len);
    free(text);
    return rc;
}

/* ---- the environment ---------------------------------------------------------------- */

/* The form of value an environment variable wants, into out. Returns 1 when there is one. */
static int env_form(enum cred_form form, const char *value, char *out, size_t cap)
{
    if (form == CRED_AS_IS)
        return str_copy(out, cap, value) == 0;
    struct url_parts u;
    const char *why;
    if (url_split(value, &u, &why) != 0)
        return 0;
    int n;
    switch (form) {
    case CRED_HOST:
        n = u.port > 0 ? snprintf(out, cap, "%s:%d", u.host, u.port) : snprintf(out, cap, "%s", u.host);
        break;
    case CRED_HOSTNAME:
        if (u.host[0] == '[')
            n = snprintf(out, cap, "%.*s", (int)strlen(u.host) - 2, u.host + 1);
        else
            n = snprintf(out, cap, "%s", u.host);
        break;
    case CRED_PORT:
        if (u.port == 0)
            return 0;
        n = snprintf(out, cap, "%d", u.port);
        break;
    default:
        return 0;
    }
    return n > 0 && (size_t)n < cap;
}

int cred_env(const json_t *creds, const char *provider, char **assign, int max)
{
    const struct cred_provider *p = cred_provider(provider);
    if (p == NULL)
        return -EINVAL;
    const json_t *section = json_object_get(creds, provider);
    if (!json_is_object(section) || json_object_size(section) == 0)
        return 0;
    int n = 0;
    char value[CRED_VALUE_MAX], form[CRED_VALUE_MAX], dep[CRED_VALUE_MAX];
    for (int i = 0; i < CRED_MAX_FIELDS && p->fields[i].key != NULL && n < max; i++) {
        const struct cred_field *f = &p->fields[i];
        if (f->needs != NULL && !cred_value(section, f->needs, dep, sizeof(dep)))
            continue;
        if (!cred_value(section, f->key, value, sizeof(value))) {
            if (f->def == NULL)
                continue;
            str_copy(value, sizeof(value), f->def);
        }
        for (int e = 0; e < CRED_MAX_ENVS && f->env[e].name != NULL && n < max; e++) {
            const struct cred_env_var *ev = &f->env[e];
            if (ev->unless != NULL && cred_value(section, ev->unless, dep, sizeof(dep)))
                continue;
            if (!env_form(ev->form, value, form, sizeof(form)) || form[0] == '\0')
                continue;
            size_t len = strlen(ev->name) + 1 + strlen(form) + 1;
            char *a = xmalloc(len);
            snprintf(a, len, "%s=%s", ev->name, form);
            assign[n++] = a;
        }
    }
    explicit_bzero(value, sizeof(value));
    explicit_bzero(form, sizeof(form));
    return n;
}
