/* `diagnose deployment`: a record, its log, the failing step and the known fix
 * (deploy_diag.h). */
#define _GNU_SOURCE
#include "deploy_diag.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "credentials.h"
#include "record.h"
#include "runner.h"
#include "str.h"

#define SUMMARY_MAX 2048              /* the error lines of a step (run_error_summary) */
#define SUMMARY_INPUT_MAX (64u << 10) /* of a step's output, the tail summarized */
#define FIRST_LINE_MAX 400            /* the tool's first error line in the cause */
#define WORD_MAX 128                  /* a variable, host or lock id picked out of an error */
#define STEPS_MAX DEPLOY_DIAG_SECTIONS_MAX
#define PATTERN_MAX 96 /* one alternative of a known error's patterns */

/* ---- the known errors ----------------------------------------------------------------- */

#define T DEPLOY_TOOL_TERRAFORM
#define A DEPLOY_TOOL_ANSIBLE
#define ANY DEPLOY_TOOL_ANY

/* In priority order: the first entry with a pattern in the output wins, so the specific
 * ones come before the general ones (the AWS "no credentials" text also says "context
 * deadline exceeded", an unreachable host may say "Permission denied (publickey)"). */
static const struct deploy_known known[] = {
    {"interrupted", ANY, "Error: operation canceled|Interrupt received|User interrupted execution",
     "the run was interrupted (Ctrl+C or a signal) before it finished",
     "run it again: {rerun} (what was already made is kept in the state and not made twice)"},
    {"state_lock", T,
     "Error acquiring the state lock|Error locking state|state lock"
     "|ConditionalCheckFailedException",
     "the Terraform state is locked by another run",
     "wait for the other run to finish; if none runs any more (it was killed), unlock the "
     "state: cd {workspace} && {tool} force-unlock -force {lock}, then {rerun}"},
    {"credentials", T,
     "no valid credential sources|NoCredentialProviders|could not find default credentials"
     "|ExpiredToken|expired token|token has expired|token is expired|InvalidClientTokenId"
     "|security token included in the request is invalid|AuthFailure|SignatureDoesNotMatch"
     "|InvalidAccessKeyId|invalid_grant|az login|unable to build authorizer"
     "|failed to get credentials|credentials have expired|401 Unauthorized"
     "|authentication failed|Unauthenticated|could not authenticate|missing credentials",
     "the cloud provider found no valid credentials (missing, wrong or expired)",
     "store working credentials: cloudya connect {provider}, then {rerun}"},
    {"permission", T,
     "UnauthorizedOperation|AccessDenied|is not authorized to perform|AuthorizationFailed"
     "|does not have authorization|does not have permission|Permission denied on resource"
     "|PERMISSION_DENIED|Error 403|status code: 403|StatusCode=403|Forbidden",
     "the credentials work but lack a permission this template needs",
     "grant the user or role the permission the error names (an IAM policy on AWS, a role on "
     "Google Cloud or Azure; on AWS, aws sts decode-authorization-message decodes an encoded "
     "message), or connect with other credentials: cloudya connect {provider}; then {rerun}"},
    {"quota", T,
     "LimitExceeded|QuotaExceeded|Quota exceeded|quota|InsufficientInstanceCapacity"
     "|exceeds the limit|limit exceeded|OperationNotAllowed|too many requests"
     "|RequestLimitExceeded",
     "a quota or limit of the cloud account is reached",
     "ask the provider for more (Service Quotas on AWS, IAM & Admin > Quotas on Google Cloud, "
     "Usage + quotas on Azure), or choose a smaller size or another region: remove this try "
     "with cloudya deploy destroy {id} and deploy again with cloudya deploy template "
     "{template} --params ..."},
    {"variable", T,
     "Invalid value for input variable|Invalid value for variable"
     "|No value for required variable|Unsuitable value|Invalid variable value"
     "|Invalid -var option|validation rule",
     "a parameter has a value Terraform refuses",
     "deploy again with a corrected value: cloudya deploy template {template} --params "
     "{var}=... (cloudya deploy show {template} lists the parameters); a retry reuses the "
     "recorded values, unless you correct them in {workspace}/terraform.tfvars.json first and "
     "then run {rerun}"},
    {"plugin_download", T,
     "Failed to query available provider packages|Failed to install provider"
     "|Failed to resolve provider packages|could not connect to registry"
     "|Could not retrieve the list of available versions|failed to request discovery document"
     "|registry.terraform.io|registry.opentofu.org|Error while installing",
     "the provider plugin could not be downloaded (no network to the registry)",
     "give this machine access to the registry (set HTTPS_PROXY behind a proxy), or use a "
     "provider mirror: terraform providers mirror DIR on a connected machine, copy DIR here, "
     "write a CLI configuration with provider_installation { filesystem_mirror { path = "
     "\"DIR\" } } and export TF_CLI_CONFIG_FILE=that file; then {rerun}"},
    {"already_exists", T,
     "already exists|AlreadyExists|EntityAlreadyExists|InvalidKeyPair.Duplicate"
     "|InvalidGroup.Duplicate|ResourceExistsError|ResourceAlreadyExists|Error 409"
     "|StatusCode=409",
     "a resource with that name already exists (made by an earlier run or by hand)",
     "bring it under this deployment (cd {workspace} && {tool} import ADDRESS ID), remove it, "
     "or deploy again with another name in --params; then {rerun}"},
    {"not_initialized", T,
     "Required plugins are not installed|Inconsistent dependency lock file"
     "|Plugin reinitialization required|Module not installed|Backend initialization required"
     "|Saved plan is stale",
     "the workspace is not ready for this configuration (init or plan out of date)",
     "{rerun} runs init and plan again; if it persists: cd {workspace} && {tool} init -upgrade"},
    {"version", T, "Unsupported Terraform Core version|Unsupported OpenTofu version",
     "the template needs another Terraform version than the one installed",
     "install the version the template's required_version asks for (or OpenTofu), or point "
     "terraform_path in {config} at it; then {rerun}"},
    {"network", ANY,
     "dial tcp|i/o timeout|no such host|TLS handshake timeout|context deadline exceeded"
     "|network is unreachable|Temporary failure in name resolution",
     "the cloud provider's API could not be reached (network, DNS or proxy)",
     "check this machine's network and DNS (cloudya diagnose system checks its resolver), set "
     "HTTPS_PROXY behind a proxy; then {rerun}"},
    {"config", T,
     "Unsupported argument|Missing required argument|Reference to undeclared"
     "|Invalid expression|Unsupported block type|Argument or block definition required"
     "|Invalid reference|Unsupported attribute|Duplicate variable declaration"
     "|Invalid function argument|Error: Invalid",
     "the template's Terraform code has an error",
     "correct the template's .tf files (the error names the file and line; cloudya deploy "
     "show {template} says where the template is), then deploy it again"},
    {"ssh_key", A,
     "Permission denied (publickey|Permission denied, please try again"
     "|Too many authentication failures|Host key verification failed",
     "the machine refused the SSH login (key or user)",
     "use the key and user that match the machine: {rerun} with --ssh-key ~/.ssh/KEY (and "
     "--user LOGIN); try the login by hand first: ssh -i ~/.ssh/KEY LOGIN@{host}"},
    {"unreachable", A,
     "UNREACHABLE!|Could not resolve hostname|Connection timed out|No route to host"
     "|Connection refused|Operation timed out|Failed to connect to the host via ssh",
     "Ansible could not reach {host} over SSH",
     "check that the machine is up and that port 22 is open to this machine (security group, "
     "firewall): ssh LOGIN@{host}; then {rerun}"},
    {"sudo_password", A,
     "Missing sudo password|Incorrect sudo password|a password is required"
     "|Timeout (12s) waiting for privilege escalation prompt",
     "the login user needs a password for sudo",
     "let it use sudo without a password on the machine (a file /etc/sudoers.d/LOGIN with "
     "LOGIN ALL=(ALL) NOPASSWD:ALL) or log in as root; then {rerun}"},
    {"dpkg_lock", A,
     "Could not get lock|Unable to acquire the dpkg frontend lock|dpkg was interrupted"
     "|Waiting for cache lock",
     "another package manager run holds the lock on the machine (often the automatic updates "
     "of a new machine)",
     "wait a few minutes for it to finish (on the machine: ps aux | grep -E 'apt|dpkg'; after "
     "a crash: dpkg --configure -a), then {rerun}"},
    {"no_package", A,
     "No package matching|Unable to locate package|No package |has no installation candidate",
     "a package the application needs is not in the machine's repositories",
     "check that the machine runs a distribution and release the application supports "
     "(cloudya app show {app}); refresh its package lists (apt-get update) if they are old; "
     "then {rerun}"},
    {"template", A,
     "AnsibleUndefinedVariable|template error while templating string|TemplateSyntaxError"
     "|An unhandled exception occurred while templating|is undefined",
     "a template of the application could not be rendered (a variable is missing or wrong)",
     "check the parameters (cloudya app show {app}) and install again with corrected "
     "--params: {rerun}"},
    {"assertion", A, "Assertion failed|\"assertion\":|\"evaluated_to\": false",
     "the application refused a parameter value",
     "install again with a corrected value (the message above says which; cloudya app show "
     "{app} lists the parameters): {rerun}"},
    {"python", A,
     "/usr/bin/python: not found|/usr/bin/python3: not found|No module named|MODULE FAILURE"
     "|Failed to discover interpreter",
     "Python is missing or broken on the machine (Ansible needs it there)",
     "install python3 on the machine (apt-get install -y python3), then {rerun}"},
    {"module", A, "couldn't resolve module/action|was not found in configured module paths",
     "the playbook uses a module this Ansible does not have (only ansible.builtin is there)",
     "rewrite the task with ansible.builtin modules, or install the collection: "
     "ansible-galaxy collection install NAME; then {rerun}"},
    {"inventory", A,
     "provided hosts list is empty|Could not match supplied host pattern"
     "|as an inventory source|No hosts matched",
     "there was no machine to install on (the inventory is empty)",
     "give the target: --deployment ID (a deployment with a hosts output), --hosts ADDR,... "
     "or --platform local; then {rerun}"},
    {"playbook", A, "ERROR! |Syntax Error while loading YAML|conflicting action statements",
     "the application's playbook has an error",
     "correct the playbook (the error names the file and line), then {rerun}"},
    {"disk_full", ANY, "No space left on device",
     "a disk is full (on this machine or on the target)",
     "free space (cloudya diagnose system shows the file systems here; df -h on the machine), "
     "then {rerun}"},
    {"not_found", ANY,
     "command not found|executable file not found|: not found|No such file or directory",
     "a program the step runs could not be found",
     "install the program the error names; when it is the tool itself: {install}; then {rerun}"},
};

#undef T
#undef A
#undef ANY

#define KNOWN_N (sizeof(known) / sizeof(known[0])) /* the last one is "not_found" */

/* Case-insensitive search of needle in [hay, hay + len). */
static const char *find_ci(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || n > len) return NULL;
    int first = tolower((unsigned char)needle[0]);
    for (size_t i = 0; i + n <= len; i++) {
        if (tolower((unsigned char)hay[i]) != first) continue;
        if (strncasecmp(hay + i + 1, needle + 1, n - 1) == 0) {
            /* strncasecmp stops at a NUL of hay: check no NUL was inside */
            if (memchr(hay + i, '\0', n) == NULL) return hay + i;
        }
    }
    return NULL;
}

const struct deploy_known *deploy_diag_match(const char *text, size_t len, enum deploy_tool tool,
                                             int exit_code)
{
    if (text != NULL && len > DEPLOY_DIAG_MATCH_MAX) {
        text += len - DEPLOY_DIAG_MATCH_MAX;
        len = DEPLOY_DIAG_MATCH_MAX;
    }
    for (size_t i = 0; text != NULL && i < KNOWN_N; i++) {
        if (known[i].tool != DEPLOY_TOOL_ANY && tool != DEPLOY_TOOL_ANY && known[i].tool != tool)
            continue;
        for (const char *p = known[i].patterns; *p;) {
            char one[PATTERN_MAX];
            size_t n = strcspn(p, "|");
            if (n > 0 && n < sizeof(one)) {
                memcpy(one, p, n);
                one[n] = '\0';
                if (find_ci(text, len, one) != NULL) return &known[i];
            }
            p += n + (p[n] == '|');
        }
    }
    if (exit_code == 126 || exit_code == 127) return &known[KNOWN_N - 1];
    return NULL;
}

/* ---- the log ------------------------------------------------------------------------ */

/* The step name a tool run's header line [p, end) stands for: for ansible-playbook the
 * playbook (the last *.yml word that is not an option's value: playbook.yml is "install",
 * uninstall.yml "uninstall"), for Terraform the first subcommand word. */
static void section_name(const char *p, const char *end, char *out, size_t cap)
{
    static const char *const tf[] = {"init",    "plan",     "apply",   "output",
                                     "destroy", "validate", "refresh", "import"};
    static const char *const valued[] = {
        "-e", "-i", "--extra-vars", "--inventory", "--vault-password-file", "--private-key", "-u"};
    char word[WORD_MAX], prev[WORD_MAX] = "", playbook[WORD_MAX] = "";
    int index = 0, ansible = 0;
    str_copy(out, cap, "run");
    p += 4; /* "==> " */
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        size_t len = (size_t)(p - w);
        if (len == 0) break;
        index++;
        if (len >= sizeof(word)) {
            prev[0] = '\0';
            continue;
        }
        memcpy(word, w, len);
        word[len] = '\0';
        if (index == 1) /* the time */
            continue;
        if (index == 2) { /* the program */
            const char *base = strrchr(word, '/');
            ansible = strstr(base != NULL ? base + 1 : word, "ansible") != NULL;
            continue;
        }
        int is_value = 0;
        for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
            is_value |= strcmp(prev, valued[k]) == 0;
        str_copy(prev, sizeof(prev), word);
        if (ansible) {
            if (!is_value && word[0] != '@' && word[0] != '-' &&
                ((len > 4 && strcmp(word + len - 4, ".yml") == 0) ||
                 (len > 5 && strcmp(word + len - 5, ".yaml") == 0)))
                str_copy(playbook, sizeof(playbook), word);
            continue;
        }
        for (size_t k = 0; k < sizeof(tf) / sizeof(tf[0]); k++)
            if (strcmp(word, tf[k]) == 0) {
                str_copy(out, cap, tf[k]);
                return;
            }
    }
    if (!ansible || playbook[0] == '\0') return;
    const char *base = strrchr(playbook, '/');
    base = base != NULL ? base + 1 : playbook;
    if (strcmp(base, "playbook.yml") == 0 || strcmp(base, "playbook.yaml") == 0) {
        str_copy(out, cap, "install");
        return;
    }
    char tmp[WORD_MAX];
    str_copy(tmp, sizeof(tmp), base);
    tmp[strcspn(tmp, ".")] = '\0';
    str_copy(out, cap, tmp[0] ? tmp : "playbook");
}

size_t deploy_log_sections(const char *text, size_t len, struct deploy_log_section *s, size_t max)
{
    size_t n = 0;
    const char *p = text, *end = text + len;
    struct deploy_log_section *cur = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        const char *next = nl != NULL ? nl + 1 : end;
        if (le - p >= 4 && memcmp(p, "==> ", 4) == 0) {
            if (cur != NULL && !cur->finished) cur->len = (size_t)(p - cur->text);
            if (n >= max) { /* keep the latest: drop the oldest */
                if (max == 0) return 0;
                memmove(s, s + 1, (max - 1) * sizeof(*s));
                n = max - 1;
            }
            cur = &s[n++];
            memset(cur, 0, sizeof(*cur));
            section_name(p, le, cur->name, sizeof(cur->name));
            cur->text = next;
        } else if (cur != NULL && !cur->finished && le - p >= 9 && memcmp(p, "<== exit ", 9) == 0) {
            const char *q = p + 9;
            int neg = q < le && *q == '-';
            q += neg;
            long v = 0;
            int digits = 0;
            while (q < le && *q >= '0' && *q <= '9' && digits < 9) {
                v = v * 10 + (*q++ - '0');
                digits++;
            }
            if (digits > 0) {
                cur->finished = 1;
                cur->exit_code = (int)(neg ? -v : v);
                cur->len = (size_t)(p - cur->text);
            }
        }
        p = next;
    }
    if (cur != NULL && !cur->finished) cur->len = (size_t)(end - cur->text);
    return n;
}

/* Reads the last DEPLOY_DIAG_LOG_MAX bytes of path into a NUL-terminated malloc'd buffer.
 * Returns 0, or a negative errno (*out NULL). */
static int read_tail(const char *path, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int rc = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    off_t from = st.st_size > (off_t)DEPLOY_DIAG_LOG_MAX ? st.st_size - DEPLOY_DIAG_LOG_MAX : 0;
    size_t want = (size_t)(st.st_size - from), got = 0;
    if ((*out = malloc(want + 1)) == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    while (got < want) {
        ssize_t n = pread(fd, *out + got, want - got, from + (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* the file shrank, or a read error: keep what was read */
        got += (size_t)n;
    }
    (*out)[got] = '\0';
    *len = got;
out:
    close(fd);
    return rc;
}

/* ---- a record's steps ------------------------------------------------------------------ */

struct step_view {
    char name[DEPLOY_DIAG_STEP_MAX];
    char status[16]; /* ok, failed, interrupted, running */
    int has_exit, exit_code;
    long long ms;
    int from_log; /* not in the record: only the log shows it */
    const struct deploy_log_section *sec;
};

struct diag_ctx {
    const struct dv_config *c;
    json_t *rec;
    const char *dir;
    const char *id, *kind; /* "deployment", "app" */
    enum deploy_tool tool;
    char *log; /* the log's tail */
    size_t log_len;
    struct deploy_log_section sec[DEPLOY_DIAG_SECTIONS_MAX];
    size_t nsec;
    struct step_view steps[STEPS_MAX];
    size_t nsteps;
    size_t seg; /* where the latest run starts in steps[] */
    size_t earlier_runs;
};

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

static int status_is(const char *st, const char *const *set)
{
    for (size_t i = 0; set[i] != NULL; i++)
        if (strcmp(st, set[i]) == 0) return 1;
    return 0;
}

static const char *const ok_statuses[] = {"applied",   "installed",   "deployed",
                                          "destroyed", "uninstalled", NULL};
static const char *const busy_statuses[] = {"running", "destroying", "uninstalling", NULL};

/* ✓ for a run that succeeded, ! for one under way, ✗ for the rest. */
static enum check_status status_check(const char *st)
{
    return status_is(st, ok_statuses)     ? CHECK_OK
           : status_is(st, busy_statuses) ? CHECK_WARN
                                          : CHECK_FAIL;
}

/* Fills ctx->steps from the record and the log: the record's steps, each with its log
 * section (matched from the end, as the log's head may be cut), then the runs the log shows
 * after the last recorded one (a run killed before it was recorded, a program that could
 * not start). */
static void build_steps(struct diag_ctx *x)
{
    json_t *steps = json_object_get(x->rec, "steps");
    size_t total = json_is_array(steps) ? json_array_size(steps) : 0;
    size_t first = total > STEPS_MAX / 2 ? total - STEPS_MAX / 2 : 0;
    x->nsteps = 0;
    for (size_t i = first; i < total; i++) {
        json_t *s = json_array_get(steps, i);
        struct step_view *v = &x->steps[x->nsteps++];
        memset(v, 0, sizeof(*v));
        str_copy(v->name, sizeof(v->name), jstr(s, "name"));
        str_copy(v->status, sizeof(v->status), jstr(s, "status"));
        json_t *ec = json_object_get(s, "exit_code");
        if (json_is_integer(ec)) {
            v->has_exit = 1;
            v->exit_code = (int)json_integer_value(ec);
        }
        json_t *ms = json_object_get(s, "ms");
        v->ms = json_is_integer(ms) ? (long long)json_integer_value(ms) : 0;
    }
    /* match from the end; "status" runs of an installation are checks, not steps */
    size_t k = x->nsec, last_matched = x->nsec;
    for (size_t i = x->nsteps; i-- > 0;) {
        size_t j = k;
        while (j-- > 0)
            if (strcmp(x->sec[j].name, x->steps[i].name) == 0) break;
        if (j < k) { /* found (else j went round to SIZE_MAX) */
            x->steps[i].sec = &x->sec[j];
            if (last_matched == x->nsec) last_matched = j;
            k = j;
        }
    }
    size_t from = last_matched == x->nsec ? (x->nsteps == 0 ? 0 : x->nsec) : last_matched + 1;
    for (size_t j = from; j < x->nsec && x->nsteps < STEPS_MAX; j++) {
        if (strcmp(x->sec[j].name, "status") == 0) continue;
        struct step_view *v = &x->steps[x->nsteps++];
        memset(v, 0, sizeof(*v));
        str_copy(v->name, sizeof(v->name), x->sec[j].name);
        v->from_log = 1;
        v->sec = &x->sec[j];
        if (x->sec[j].finished) {
            v->has_exit = 1;
            v->exit_code = x->sec[j].exit_code;
            int sig = v->exit_code == 130 || v->exit_code == 137 || v->exit_code == 143;
            str_copy(v->status, sizeof(v->status),
                     v->exit_code == 0 ? "ok"
                     : sig             ? "interrupted"
                                       : "failed");
        } else {
            str_copy(v->status, sizeof(v->status),
                     status_is(jstr(x->rec, "status"), busy_statuses) ? "running" : "interrupted");
        }
    }
    /* the latest run starts at its first init/install/uninstall (or a destroy without init) */
    x->seg = 0;
    x->earlier_runs = 0;
    for (size_t i = 0; i < x->nsteps; i++) {
        const char *n = x->steps[i].name;
        int start = strcmp(n, "init") == 0 || strcmp(n, "install") == 0 ||
                    strcmp(n, "uninstall") == 0 ||
                    (strcmp(n, "destroy") == 0 && (i == 0 || strcmp(x->steps[i - 1].name, "init")));
        if (start && i > 0) {
            x->earlier_runs++;
            x->seg = i;
        }
    }
}

/* ---- writing the findings ----------------------------------------------------------------- */

#define V_COUNT 13 /* the placeholders of the fixes (names[] in expand) */

/* Writes tmpl into out with its {name} placeholders replaced by vals (an empty value
 * becomes "..."); an unknown {word} is copied as it is. */
static void expand(const char *tmpl, const char *const vals[V_COUNT], char *out, size_t cap)
{
    static const char *const names[V_COUNT] = {"id",   "provider", "template", "app",  "workspace",
                                               "log",  "rerun",    "var",      "host", "lock",
                                               "tool", "config",   "install"};
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < cap;) {
        const char *e = *p == '{' ? strchr(p, '}') : NULL;
        size_t k = 0;
        while (
            e != NULL && k < V_COUNT &&
            !((size_t)(e - p - 1) == strlen(names[k]) && memcmp(p + 1, names[k], e - p - 1) == 0))
            k++;
        if (e == NULL || k == V_COUNT) {
            out[o++] = *p++;
            continue;
        }
        const char *val = vals[k] != NULL && vals[k][0] ? vals[k] : "...";
        size_t len = strlen(val);
        if (o + len >= cap) len = cap - 1 - o;
        memcpy(out + o, val, len);
        o += len;
        p = e + 1;
    }
    out[o] = '\0';
    str_utf8_repair(out, o);
}

/* The word that follows the first marker found after from in [text, text + len): letters,
 * digits, '_', '-', '.', ':'. Returns 1 with it in out. */
static int word_after(const char *text, size_t len, const char *marker, char *out, size_t cap)
{
    const char *m = find_ci(text, len, marker);
    if (m == NULL) return 0;
    const char *p = m + strlen(marker), *end = text + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    size_t n = 0;
    while (p < end && n + 1 < cap &&
           (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.' || *p == ':'))
        out[n++] = *p++;
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '.' || out[n - 1] == ':')) /* end of a sentence */
        out[--n] = '\0';
    return n > 0;
}

/* The step's title: "terraform apply", "ansible-playbook playbook.yml". */
static void step_title(const struct diag_ctx *x, const char *name, char *out, size_t cap)
{
    if (x->tool == DEPLOY_TOOL_ANSIBLE)
        snprintf(out, cap, "ansible-playbook %.24s.yml",
                 strcmp(name, "install") == 0 ? "playbook" : name);
    else
        snprintf(out, cap, "%s %.31s",
                 strstr(jstr(x->rec, "tool"), "tofu") != NULL ? "tofu" : "terraform", name);
}

/* The error lines of a step: of its log section, else the record's error (failed step). */
static void step_errors(const struct diag_ctx *x, const struct step_view *v, int is_failed_step,
                        char *out, size_t cap)
{
    out[0] = '\0';
    if (v->sec != NULL && v->sec->len > 0) {
        size_t len = v->sec->len, from = len > SUMMARY_INPUT_MAX ? len - SUMMARY_INPUT_MAX : 0;
        char *tail = malloc(len - from + 1);
        if (tail != NULL) {
            memcpy(tail, v->sec->text + from, len - from);
            tail[len - from] = '\0';
            run_error_summary(tail, out, cap);
            free(tail);
        }
    }
    if (out[0] == '\0' && is_failed_step) str_copy(out, cap, jstr(x->rec, "error"));
    str_utf8_repair(out, strlen(out));
}

static void first_line(const char *text, char *out, size_t cap)
{
    size_t n = strcspn(text, "\n");
    if (n >= cap) {
        n = cap - 4;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
        memcpy(out, text, n);
        memcpy(out + n, "...", 4);
        return;
    }
    memcpy(out, text, n);
    out[n] = '\0';
}

/* The first error line of step v (errors: its error lines) for a message: the line itself,
 * or what an exit code without output means. */
static void not_run_line(const struct diag_ctx *x, const struct step_view *v, const char *errors,
                         char *out, size_t cap)
{
    if (errors[0]) {
        first_line(errors, out, cap);
        return;
    }
    if (v->has_exit && (v->exit_code == 126 || v->exit_code == 127))
        str_fmt(out, cap, "%s could not be executed (the program or its interpreter %s)",
                jstr(x->rec, "tool")[0] ? jstr(x->rec, "tool") : "the tool",
                v->exit_code == 127 ? "was not found" : "is not executable");
    else
        str_copy(out, cap, "no output recorded");
}

/* The command that runs the failed part again. */
static void rerun_command(const struct diag_ctx *x, int destroying, char *out, size_t cap)
{
    if (strcmp(x->kind, "app") == 0) {
        const char *last = x->nsteps > 0 ? x->steps[x->nsteps - 1].name : "install";
        if (strcmp(last, "uninstall") == 0) {
            snprintf(out, cap, "cloudya app uninstall --id %s", x->id);
            return;
        }
        const char *dep = jstr(x->rec, "deployment_id"), *platform = jstr(x->rec, "platform");
        char target[512];
        if (dep[0])
            snprintf(target, sizeof(target), "--deployment %s", dep);
        else if (strcmp(platform, "local") == 0 ||
                 !json_array_size(json_object_get(x->rec, "hosts")))
            str_fmt(target, sizeof(target), "--platform %s", platform[0] ? platform : "local");
        else {
            char hosts[400] = "";
            size_t i;
            json_t *h;
            json_array_foreach(json_object_get(x->rec, "hosts"), i, h)
            {
                const char *s = json_string_value(h);
                size_t have = strlen(hosts);
                if (s != NULL && have + strlen(s) + 2 < sizeof(hosts))
                    snprintf(hosts + have, sizeof(hosts) - have, "%s%s", have ? "," : "", s);
            }
            str_fmt(target, sizeof(target), "--hosts %s", hosts);
        }
        str_fmt(out, cap, "cloudya app install %s %s --params ...", jstr(x->rec, "app"), target);
        return;
    }
    snprintf(out, cap, "cloudya deploy %s %s", destroying ? "destroy" : "retry", x->id);
}

/* How to install the record's tool or point the configuration at it. */
static void install_hint(const struct diag_ctx *x, char *out, size_t cap)
{
    if (x->tool == DEPLOY_TOOL_ANSIBLE)
        str_fmt(out, cap, "install Ansible (apt install ansible-core) or set ansible_path in %s",
                x->c->config_path);
    else
        str_fmt(out, cap,
                "install Terraform (https://developer.hashicorp.com/terraform/install) or "
                "OpenTofu, or set terraform_path in %s",
                x->c->config_path);
}

/* Adds the tool check: the program the record ran is still there and executable. */
static void check_tool(const struct diag_ctx *x, struct check_list *l)
{
    const char *tool = jstr(x->rec, "tool");
    const char *what = x->tool == DEPLOY_TOOL_ANSIBLE ? "ansible-playbook" : "terraform";
    if (tool[0] == '\0') {
        check_add(l, "tool", "Tool", CHECK_SKIP, NULL, "the record names no program");
        return;
    }
    struct stat st;
    if (stat(tool, &st) == 0 && S_ISREG(st.st_mode) && access(tool, X_OK) == 0) {
        check_add(l, "tool", "Tool", CHECK_OK, NULL, "%s is %s", what, tool);
        return;
    }
    char hint[CHECK_TEXT_MAX];
    install_hint(x, hint, sizeof(hint));
    check_add(l, "tool", "Tool", CHECK_FAIL, hint,
              "%s, which ran this %s, is not there any more "
              "(or not executable)",
              tool, strcmp(x->kind, "app") == 0 ? "installation" : "deployment");
}

/* Adds the tool and step checks of a deployment or installation record and writes the
 * cause and the advice when it did not succeed. */
static void diagnose_record(struct diag_ctx *x, struct check_list *l)
{
    const char *status = jstr(x->rec, "status");
    x->tool = strcmp(x->kind, "app") == 0 ? DEPLOY_TOOL_ANSIBLE : DEPLOY_TOOL_TERRAFORM;
    char path[DV_PATH_MAX + 64];
    const char *logname = jstr(x->rec, "log");
    if (logname[0] == '\0' || strchr(logname, '/') != NULL)
        logname = x->tool == DEPLOY_TOOL_ANSIBLE ? "install.log" : "deploy.log";
    snprintf(path, sizeof(path), "%s/%s", x->dir, logname);
    if (read_tail(path, &x->log, &x->log_len) == 0)
        x->nsec = deploy_log_sections(x->log, x->log_len, x->sec, DEPLOY_DIAG_SECTIONS_MAX);
    build_steps(x);
    check_tool(x, l);

    int destroying = 0;
    for (size_t i = x->seg; i < x->nsteps; i++)
        destroying |= strcmp(x->steps[i].name, "destroy") == 0;
    destroying |= strncmp(status, "destroy", 7) == 0;
    /* the steps a run of this kind has, to show those it did not reach */
    const char *expected =
        x->tool == DEPLOY_TOOL_ANSIBLE
            ? (x->seg < x->nsteps && !strcmp(x->steps[x->seg].name, "uninstall") ? "uninstall"
                                                                                 : "install")
        : destroying ? "destroy"
                     : "init plan apply output";
    const struct step_view *failed = NULL;
    char errors[SUMMARY_MAX], title[96], id[DEPLOY_DIAG_STEP_MAX + 8];
    for (size_t i = x->seg; i < x->nsteps; i++) {
        const struct step_view *v = &x->steps[i];
        step_title(x, v->name, title, sizeof(title));
        snprintf(id, sizeof(id), "step_%s", v->name);
        if (strcmp(v->status, "ok") == 0) {
            char took[32] = ""; /* a run only the log shows has no duration */
            if (!v->from_log) snprintf(took, sizeof(took), " (%.1f s)", (double)v->ms / 1000.0);
            check_add(l, id, title, CHECK_OK, NULL, "ok%s", took);
            continue;
        }
        if (strcmp(v->status, "running") == 0) {
            check_add(l, id, title, CHECK_WARN, NULL, "running now");
            continue;
        }
        int is_last_failed = failed == NULL;
        if (failed == NULL) failed = v;
        step_errors(x, v, is_last_failed, errors, sizeof(errors));
        char line[FIRST_LINE_MAX];
        not_run_line(x, v, errors, line, sizeof(line));
        struct check *ck;
        if (strcmp(v->status, "interrupted") == 0)
            ck = check_add(l, id, title, CHECK_FAIL, NULL, "interrupted%s%s%s",
                           v->from_log && !v->has_exit ? " (cloudya was stopped while it ran)" : "",
                           errors[0] ? ": " : "", errors[0] ? line : "");
        else if (v->has_exit)
            ck = check_add(l, id, title, CHECK_FAIL, NULL, "failed with exit code %d: %s",
                           v->exit_code, line);
        else
            ck = check_add(l, id, title, CHECK_FAIL, NULL, "failed: %s", line);
        for (char *p = errors, *nl; *p; p = nl != NULL ? nl + 1 : p + strlen(p)) {
            if ((nl = strchr(p, '\n')) != NULL) *nl = '\0';
            check_detail_line(ck, p);
        }
    }
    for (const char *e = expected; *e; e += strcspn(e, " "), e += *e == ' ') {
        char name[DEPLOY_DIAG_STEP_MAX];
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(e, " "), e);
        int seen = 0;
        for (size_t i = x->seg; i < x->nsteps && !seen; i++)
            seen = strcmp(x->steps[i].name, name) == 0;
        if (seen) continue;
        step_title(x, name, title, sizeof(title));
        snprintf(id, sizeof(id), "step_%s", name);
        check_add(l, id, title, CHECK_SKIP, NULL, "not run%s",
                  failed != NULL ? " (an earlier step did not succeed)" : "");
    }

    if (status_is(status, ok_statuses) || status_is(status, busy_statuses)) return;
    /* the diagnosis */
    char rerun[512], var[WORD_MAX] = "", host[WORD_MAX] = "", lock[WORD_MAX] = "",
                     tool[WORD_MAX] = "terraform", line[FIRST_LINE_MAX] = "";
    rerun_command(x, destroying, rerun, sizeof(rerun));
    const char *text = failed != NULL && failed->sec != NULL ? failed->sec->text : NULL;
    size_t tlen = failed != NULL && failed->sec != NULL ? failed->sec->len : 0;
    const char *rec_error = jstr(x->rec, "error");
    if (text == NULL || tlen == 0) {
        text = rec_error;
        tlen = strlen(rec_error);
    }
    const struct deploy_known *k = NULL;
    if (failed != NULL && strcmp(failed->status, "interrupted") == 0)
        k = &known[0];
    else if (failed != NULL || tlen > 0)
        k = deploy_diag_match(text, tlen, x->tool,
                              failed != NULL && failed->has_exit ? failed->exit_code : 0);
    if (strcmp(status, "interrupted") == 0 && k == NULL) k = &known[0];
    if (!word_after(text, tlen, "var.", var, sizeof(var)))
        word_after(text, tlen, "variable \"", var, sizeof(var));
    if (!word_after(text, tlen, "fatal: [", host, sizeof(host))) {
        const char *h = json_string_value(json_array_get(json_object_get(x->rec, "hosts"), 0));
        str_copy(host, sizeof(host), h != NULL ? h : "");
    }
    word_after(text, tlen, "ID:", lock, sizeof(lock));
    const char *tp = strrchr(jstr(x->rec, "tool"), '/');
    tp = tp != NULL ? tp + 1 : jstr(x->rec, "tool");
    if (strncmp(tp, "tofu", 4) == 0) str_copy(tool, sizeof(tool), "tofu");
    char install[CHECK_TEXT_MAX];
    install_hint(x, install, sizeof(install));
    char logrel[DV_PATH_MAX + 64];
    snprintf(logrel, sizeof(logrel), "%s/%s", x->dir, logname);
    /* "local" and other platforms have no credentials to connect */
    const char *prov = jstr(x->rec, x->tool == DEPLOY_TOOL_ANSIBLE ? "platform" : "provider");
    if (cred_provider(prov) == NULL)
        prov = "<provider>";
    const char *v[V_COUNT] = {
        x->id,
        prov,
        jstr(x->rec, "template"),
        jstr(x->rec, "app"),
        x->dir,
        logrel,
        rerun,
        var,
        host,
        lock,
        tool,
        x->c->config_path,
        install};
    if (failed != NULL) {
        step_errors(x, failed, 1, line, sizeof(line));
        char fl[FIRST_LINE_MAX];
        not_run_line(x, failed, line, fl, sizeof(fl));
        step_title(x, failed->name, title, sizeof(title));
        char what[CHECK_TEXT_MAX];
        expand(k != NULL ? k->cause : "", v, what, sizeof(what));
        if (k == &known[0] && (line[0] == '\0' || find_ci(line, strlen(line), "cancel") != NULL ||
                               find_ci(line, strlen(line), "interrupt") != NULL))
            str_fmt(l->cause, sizeof(l->cause),
                    "%s was interrupted (Ctrl+C or a signal) before "
                    "it finished",
                    title);
        else if (k != NULL)
            str_fmt(l->cause, sizeof(l->cause), "%s %s: %s (%s)", title,
                    strcmp(failed->status, "interrupted") == 0 ? "was interrupted" : "failed", fl,
                    what);
        else
            str_fmt(l->cause, sizeof(l->cause), "%s failed: %s", title, fl);
    } else if (rec_error[0]) {
        first_line(rec_error, line, sizeof(line));
        str_fmt(l->cause, sizeof(l->cause), "the %s failed before any step ran: %s",
                strcmp(x->kind, "app") == 0 ? "installation" : "deployment", line);
    } else {
        str_fmt(l->cause, sizeof(l->cause), "the %s is %s and no step recorded an error",
                strcmp(x->kind, "app") == 0 ? "installation" : "deployment", status);
    }
    if (k != NULL)
        expand(k->fix, v, l->advice, sizeof(l->advice));
    else
        expand("read the step's output in {log} (the detail shows its error lines), fix the "
               "cause, then {rerun}",
               v, l->advice, sizeof(l->advice));
    /* the failed step's check carries the fix too */
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].status == CHECK_FAIL && strncmp(l->items[i].id, "step_", 5) == 0) {
            str_copy(l->items[i].hint, sizeof(l->items[i].hint), l->advice);
            break;
        }
}

/* Diagnoses rec (in dir) of kind "deployment" or "app" into l. Returns 0 or -ENOMEM. */
static int run_record(const struct dv_config *c, json_t *rec, const char *dir, const char *id,
                      const char *kind, struct check_list *l)
{
    struct diag_ctx *x = calloc(1, sizeof(*x));
    if (x == NULL) return -ENOMEM;
    size_t first = l->n;
    *x = (struct diag_ctx){.c = c, .rec = rec, .dir = dir, .id = id, .kind = kind};
    diagnose_record(x, l);
    if (x->earlier_runs > 0 && first > 0) {
        char line[96];
        snprintf(line, sizeof(line), "%zu earlier run%s of this %s in the record", x->earlier_runs,
                 x->earlier_runs == 1 ? "" : "s",
                 strcmp(kind, "app") == 0 ? "installation" : "deployment");
        check_detail_line(&l->items[first - 1], line);
    }
    free(x->log);
    free(x);
    return 0;
}

/* ---- the record check, stacks ---------------------------------------------------------- */

static void record_check(json_t *rec, const char *kind, struct check_list *l)
{
    const char *status = jstr(rec, "status"), *id = jstr(rec, "id");
    enum check_status s = status_check(status);
    char what[600];
    if (strcmp(kind, "app") == 0)
        str_fmt(what, sizeof(what), "installation %s of %s on %s", id, jstr(rec, "app"),
                jstr(rec, "deployment_id")[0] ? jstr(rec, "deployment_id") : jstr(rec, "platform"));
    else if (strcmp(kind, "stack") == 0)
        str_fmt(what, sizeof(what), "stack %s: %s with %s", id, jstr(rec, "template"),
                jstr(rec, "app"));
    else
        str_fmt(what, sizeof(what), "deployment %s of %s (provider %s)", id, jstr(rec, "template"),
                jstr(rec, "provider"));
    const char *failed = jstr(rec, "failed_step"), *was = jstr(rec, "interrupted_status");
    char word[64]; /* "destroy_failed" reads "destroy failed" */
    str_copy(word, sizeof(word), status[0] ? status : "in an unknown state");
    for (char *p = word; *p; p++)
        if (*p == '_') *p = ' ';
    struct check *c;
    if (s == CHECK_WARN)
        c = check_add(l, "record", "Record", s, "wait for it to finish, then diagnose again",
                      "%s is %s now (another cloudya is working on it)", what, status);
    else if (strcmp(status, "interrupted") == 0 && was[0])
        c = check_add(l, "record", "Record", s, NULL,
                      "%s: interrupted (it was %s when cloudya stopped)", what, was);
    else if (failed[0] && s == CHECK_FAIL)
        c = check_add(l, "record", "Record", s, NULL, "%s: %s at step %s", what, word, failed);
    else
        c = check_add(l, "record", "Record", s, NULL, "%s: %s", what, word);
    char line[256];
    snprintf(line, sizeof(line), "created %s, updated %s", jstr(rec, "created_at"),
             jstr(rec, "updated_at"));
    check_detail_line(c, line);
    if (jstr(rec, "workspace")[0]) {
        char ws[DV_PATH_MAX + 16];
        snprintf(ws, sizeof(ws), "workspace %s", jstr(rec, "workspace"));
        check_detail_line(c, ws);
    }
}

static int load_child(const struct dv_config *c, const char *id, json_t **rec, char *dir,
                      size_t dircap)
{
    char e[512];
    *rec = NULL;
    if (id == NULL || id[0] == '\0') return -ENOENT;
    return record_load(c, id, rec, dir, dircap, e, sizeof(e));
}

static void part_check(const struct dv_config *c, json_t *stack, const char *key, const char *id,
                       const char *title, struct check_list *l)
{
    json_t *rec = NULL;
    char dir[DV_PATH_MAX];
    const char *child = jstr(stack, key);
    if (load_child(c, child, &rec, dir, sizeof(dir)) != 0) {
        if (child[0])
            check_add(l, id, title, CHECK_FAIL, NULL, "%s is recorded but cannot be read", child);
        else
            check_add(l, id, title, CHECK_SKIP, NULL, "not run");
        return;
    }
    check_add(l, id, title, status_check(jstr(rec, "status")), NULL, "%s is %s", child,
              jstr(rec, "status"));
    json_decref(rec);
}

static void diagnose_stack(const struct dv_config *c, json_t *stack, struct check_list *l)
{
    part_check(c, stack, "deployment_id", "infrastructure", "Infrastructure", l);
    part_check(c, stack, "app_id", "application", "Application", l);
    const char *status = jstr(stack, "status");
    if (status_is(status, ok_statuses) || status_is(status, busy_statuses)) return;
    /* the part that failed: the application when the infrastructure is up */
    const char *failed = jstr(stack, "failed_step");
    const char *child = strcmp(failed, "application") == 0 && jstr(stack, "app_id")[0]
                            ? jstr(stack, "app_id")
                            : jstr(stack, "deployment_id");
    json_t *rec = NULL;
    char dir[DV_PATH_MAX];
    if (load_child(c, child, &rec, dir, sizeof(dir)) == 0) {
        const char *cid = jstr(rec, "id");
        int app = strncmp(cid, "app-", 4) == 0;
        run_record(c, rec, dir, cid, app ? "app" : "deployment", l);
        if (l->cause[0]) {
            char cause[CHECK_TEXT_MAX];
            str_fmt(cause, sizeof(cause), "its %s %s: %s", app ? "application" : "infrastructure",
                    cid, l->cause);
            str_copy(l->cause, sizeof(l->cause), cause);
        }
        json_decref(rec);
    } else {
        char line[FIRST_LINE_MAX];
        const char *e = jstr(stack, "error");
        first_line(e[0] ? e : "no error recorded", line, sizeof(line));
        str_fmt(l->cause, sizeof(l->cause), "the stack's %s failed: %s", failed[0] ? failed : "run",
                line);
        str_fmt(l->advice, sizeof(l->advice),
                "fix the cause and deploy the stack again: cloudya stack deploy --template %s "
                "--app %s --infra-params ... --app-params ...",
                jstr(stack, "template"), jstr(stack, "app"));
    }
}

int deploy_diagnose(const struct dv_config *c, const char *id, struct check_list *l, char *err,
                    size_t errlen)
{
    memset(l, 0, sizeof(*l));
    str_fmt(l->subject, sizeof(l->subject), "deployment %s", id != NULL ? id : "");
    json_t *rec = NULL;
    char dir[DV_PATH_MAX];
    int rc = record_load(c, id, &rec, dir, sizeof(dir), err, errlen);
    if (rc != 0) return rc;
    const char *kind = strncmp(id, "app-", 4) == 0     ? "app"
                       : strncmp(id, "stack-", 6) == 0 ? "stack"
                                                       : "deployment";
    record_check(rec, kind, l);
    if (strcmp(kind, "stack") == 0) {
        diagnose_stack(c, rec, l);
    } else if (run_record(c, rec, dir, id, kind, l) != 0) {
        json_decref(rec);
        str_fmt(err, errlen, "out of memory");
        return -ENOMEM;
    }
    json_decref(rec);
    return 0;
}
