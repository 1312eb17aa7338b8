/* The cloud providers `cloudya connect` knows, the fields each one needs, and the file they
 * are kept in: CLOUDYA_HOME/credentials.yaml, a mapping of providers to mappings of scalars
 * (the seed's layout: `aws: {default_profile: ..., default_region: ...}`), written
 * atomically with mode 0600. The deploy and app runners never read the file themselves:
 * they take the environment Terraform and Ansible providers expect from cred_env, so
 * secrets only ever travel in the environment of the tools, never on their command line.
 *
 * cred_verify (cred_verify.c) asks the provider whether the credentials work, the way that
 * provider's users would: its CLI (aws, gcloud, az) when installed, its HTTPS API otherwise. */
#ifndef CLOUDYA_DEVOPS_CREDENTIALS_H
#define CLOUDYA_DEVOPS_CREDENTIALS_H
#include <jansson.h>
#include <stddef.h>

#define CRED_FILE_NAME "credentials.yaml"
#define CRED_FILE_MAX (64u << 10)  /* a larger credentials.yaml is refused, not parsed */
#define CRED_VALUE_MAX 4096        /* bytes of one value, with its terminating NUL */
#define CRED_MAX_FIELDS 8          /* fields of one provider */
#define CRED_MAX_ENVS 3            /* environment variables fed by one field */
#define CRED_ENV_MAX 32            /* assignments cred_env can produce for one provider */
#define CRED_MESSAGE_MAX 512       /* the sentence of a verification */

/* How a field's value is checked (and normalised) by cred_check. */
enum cred_kind {
    CRED_TEXT,        /* free text: UTF-8, no control characters */
    CRED_WORD,        /* a region, profile or project: [A-Za-z0-9][A-Za-z0-9._-]* */
    CRED_UUID,        /* 8-4-4-4-12 hexadecimal, stored in lower case */
    CRED_URL,         /* http(s)://host[:port][/path], or a bare host (https:// is added) */
    CRED_BOOL,        /* true/false, yes/no, on/off, 1/0, stored as "true" or "false" */
    CRED_FILE,        /* a path to an existing regular file, stored absolute (~/ expanded) */
    CRED_GCP_KEY,     /* CRED_FILE holding a Google service-account JSON key */
    CRED_PVE_TOKEN,   /* a Proxmox API token id: USER@REALM!NAME */
};

/* What an environment variable receives from its field's value. */
enum cred_form {
    CRED_AS_IS,    /* the value itself */
    CRED_HOST,     /* host[:port] of a URL (vSphere wants no scheme and no path) */
    CRED_HOSTNAME, /* the host alone */
    CRED_PORT,     /* the port of a URL; the variable is left out when the URL names none */
};

struct cred_env_var {
    const char *name;   /* "AWS_REGION" */
    enum cred_form form;
    const char *unless; /* left out when this other field is set (AWS_PROFILE vs access keys) */
};

struct cred_field {
    const char *key;     /* the key in credentials.yaml: "default_region" */
    const char *prompt;  /* what the prompt asks: "AWS region" */
    const char *example; /* a sample value for the help and the error messages */
    int secret;          /* never printed, read without echo or from --secret-stdin */
    int required;        /* must have a value (a default counts) */
    const char *def;     /* the default, or NULL */
    enum cred_kind kind;
    const char *needs;   /* applies only when this other field is set, or NULL */
    struct cred_env_var env[CRED_MAX_ENVS]; /* up to CRED_MAX_ENVS, unused ones NULL */
};

struct cred_provider {
    const char *name;   /* "aws": the key in credentials.yaml and the word of the command */
    const char *title;  /* "Amazon Web Services" */
    const char *how;    /* one line on how it is verified, for the help */
    int default_port;   /* added to a bare host (or a URL with neither port nor path), or 0 */
    const char *path;   /* added to a URL given without a path ("/api2/json"), or NULL: no path */
    int path_strict;    /* 1: a URL's path must end with path */
    struct cred_field fields[CRED_MAX_FIELDS]; /* in prompt order; the first unused key is NULL */
};

/* The provider names in the order they are listed, ending with NULL. */
const char *const *cred_provider_names(void);

/* The provider called name, or NULL when there is none. */
const struct cred_provider *cred_provider(const char *name);

/* The field key of provider p, or NULL. */
const struct cred_field *cred_field(const struct cred_provider *p, const char *key);

/* Checks value against field f of p and writes its normal form into out (cap bytes): a
 * bare host becomes https://host:port/path for a URL, a UUID goes to lower case, a bool
 * becomes "true"/"false", a file path becomes absolute. Returns 0, or -EINVAL with a
 * sentence in err that names the field and what was expected (never the value of a secret
 * field), or -ENOSPC when the normal form does not fit. */
int cred_check(const struct cred_provider *p, const struct cred_field *f, const char *value,
               char *out, size_t cap, char *err, size_t errlen);

/* The value of key in section (an object of scalars) as text in out: strings as they are,
 * booleans as "true"/"false", numbers in decimal. Returns 1 when it is set (present, not
 * null and not empty), else 0 with out empty. Never fails: a value too long for out is
 * treated as not set. */
int cred_value(const json_t *section, const char *key, char *out, size_t cap);

/* Reads home/credentials.yaml into *out (a new reference: an object of objects of scalars;
 * an empty object when the file does not exist or is empty). *loose_mode is set to 1 when
 * the file's mode lets other users read or write it (the caller warns), else 0. Returns 0,
 * or -EINVAL (not a regular file, not YAML, not a mapping of mappings of scalars),
 * -EFBIG (larger than CRED_FILE_MAX) or another negative errno, with a sentence in err that
 * names the file; *out is then NULL. */
int cred_load(const char *home, json_t **out, int *loose_mode, char *err, size_t errlen);

/* The YAML text of creds: the known providers first in table order, then other sections
 * sorted by name; in a section the table's fields in table order, then other keys sorted;
 * strings double-quoted and escaped, other scalars plain. Returns a new string the caller
 * frees (and should wipe: it holds secrets) with its length in *len, or NULL with -EINVAL
 * in *rc when creds is not an object of objects of scalars or a string holds a NUL (YAML
 * cannot carry one), or -EFBIG when the text would exceed four times CRED_FILE_MAX. */
char *cred_render(const json_t *creds, size_t *len, int *rc);

/* Writes creds to home/credentials.yaml atomically: a temporary file of mode 0600 in the
 * same folder, fsync, rename (the folder is created with mode 0700 when missing). Every
 * section and key of creds is written, so a caller that loaded the file, changed one
 * provider and saves keeps everything else. Returns 0, or a negative errno with a sentence
 * in err; the old file is then unchanged. */
int cred_save(const char *home, const json_t *creds, char *err, size_t errlen);

/* Fills up to max environment assignments "NAME=value" (each malloc'd; the caller frees them)
 * for the credentials stored for provider (a name of the table); returns how many (0 when none
 * are stored), or -EINVAL for an unknown provider. */
int cred_env(const json_t *creds, const char *provider, char **assign, int max);

/* ---- verification (cred_verify.c) -------------------------------------------------- */

enum cred_verdict {
    CRED_VERIFIED,   /* the provider accepted the credentials */
    CRED_UNVERIFIED, /* they could not be checked: no CLI, endpoint unreachable, timeout */
    CRED_FAILED,     /* the provider refused them */
};

struct cred_verification {
    enum cred_verdict verdict;
    char message[CRED_MESSAGE_MAX]; /* one sentence for the user; never holds a secret */
};

/* Asks provider (a name of the table) whether the credentials of section (an object as
 * stored for it) work: aws/gcloud/az run as child processes (no shell, secrets only in
 * their environment, 30 s at most) when on PATH; Proxmox, vSphere, Nutanix and Keystone
 * over HTTP(S) with libcurl (connect 5 s, whole call 10 s, answers read up to 64 KiB).
 * With debug, each tool invocation and request is described on standard error (names of
 * the environment variables only). Returns 0 with the verdict and its sentence in *out, or
 * -EINVAL for an unknown provider. */
int cred_verify(const char *provider, const json_t *section, int debug,
                struct cred_verification *out);

#define CRED_TOOL_OUT_MAX (64u << 10) /* bytes of a tool's standard output kept */
#define CRED_TOOL_ERR_MAX (16u << 10) /* bytes of its standard error kept */

struct cred_tool_run {
    int started;    /* 1 when the program could be executed */
    int timed_out;  /* 1 when it was killed after the timeout */
    int status;     /* its exit status (128 + signal when killed), when started */
    char *out;      /* standard output, NUL-terminated, at most CRED_TOOL_OUT_MAX bytes */
    size_t out_len;
    char *err;      /* standard error, likewise with CRED_TOOL_ERR_MAX */
    size_t err_len;
};

/* Runs the program at path with argv (argv[0] first, NULL-terminated) and the caller's
 * environment, from which every name in drop (NULL-terminated, may be NULL) is removed and
 * to which the "NAME=value" assignments of env (NULL-terminated, may be NULL) are added,
 * with standard input from /dev/null; collects both outputs (the excess is read and thrown
 * away) and kills it after timeout_ms. Free r with cred_tool_free. Returns 0 when it ran
 * (whatever its status), or a negative errno (r->started 0) when it could not be started. */
int cred_tool_run(const char *path, char *const argv[], char *const drop[], char *const env[],
                  int timeout_ms, struct cred_tool_run *r);
void cred_tool_free(struct cred_tool_run *r);

/* Finds an executable called name in the directories of PATH and writes its path into out.
 * Returns 0, or -ENOENT when there is none (or its path does not fit). */
int cred_tool_find(const char *name, char *out, size_t cap);

#endif
