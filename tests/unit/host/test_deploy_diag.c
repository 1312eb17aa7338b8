/* Unit tests for `diagnose deployment` (src/host/deploy_diag.c): records and logs written
 * the way the DevOps runner writes them (record_create, record_save, "==> ... <== exit N"
 * sections) in a temporary CLOUDYA_HOME, with a failure of every known kind, and the advice
 * each one must give; the log splitter, the matcher's priorities, retries, interrupted and
 * killed runs, a program that could not start, stacks, and bad ids. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deploy_diag.h"
#include "record.h"

static char home[] = "/tmp/deploy-diag-XXXXXX";
static struct dv_config cfg;

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(home) == NULL) return -1;
    char err[512];
    return dv_config_load(home, &cfg, err, sizeof(err)) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
    return system(cmd) == 0 ? 0 : -1;
}

static void assert_has(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL) fail_msg("\"%s\" not in \"%s\"", needle, text);
}

/* One step of a record: name, status, exit code. */
struct st {
    const char *name, *status;
    int exit_code;
};

/* Makes a record of prefix ("dep", "app", "stack") with status and steps, its error summary
 * and failed step, and writes log as its log file. Returns the id in id. */
static void make(const char *prefix, const char *status, const struct st *steps, size_t n,
                 const char *failed_step, const char *error, const char *log, char *id)
{
    char dir[DV_PATH_MAX], err[512];
    assert_int_equal(
        record_create(&cfg, prefix, id, RECORD_ID_MAX, dir, sizeof(dir), err, sizeof(err)), 0);
    int app = strcmp(prefix, "app") == 0;
    json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[]}", "id", id, "kind",
                            app ? "app" : "deployment", "template", "aws/ec2", "provider", "aws",
                            "tool", app ? "/bin/true" : "/bin/sh", "status", status, "workspace",
                            dir, "log", app ? "install.log" : "deploy.log", "steps");
    if (app) {
        json_object_set_new(rec, "app", json_string("wordpress"));
        json_object_set_new(rec, "platform", json_string("aws"));
        json_object_set_new(rec, "deployment_id", json_string("dep-0123abcd"));
        json_object_set_new(rec, "hosts", json_pack("[s]", "203.0.113.7"));
    }
    json_object_set_new(rec, "created_at", json_string("2026-01-01T00:00:00Z"));
    json_t *arr = json_object_get(rec, "steps");
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:i,s:i}", "name", steps[i].name, "status",
                                             steps[i].status, "ms", 1500, "exit_code",
                                             steps[i].exit_code));
    if (failed_step != NULL) json_object_set_new(rec, "failed_step", json_string(failed_step));
    if (error != NULL) json_object_set_new(rec, "error", json_string(error));
    assert_int_equal(record_save(dir, rec, err, sizeof(err)), 0);
    json_decref(rec);
    if (log != NULL) {
        char path[DV_PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/%s", dir, app ? "install.log" : "deploy.log");
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(log, f);
        fclose(f);
    }
}

#define TF_OK(name)                                                                                \
    "==> 2026-01-01T00:00:00Z /usr/bin/terraform " name " -input=false\nfine\n"                    \
    "<== exit 0 after 1.0 s\n"
#define TF_FAIL(name, text)                                                                        \
    "==> 2026-01-01T00:00:00Z /usr/bin/terraform " name " -input=false -no-color\n" text           \
    "\n<== exit 1 after 1.0 s\n"

static struct check_list *diagnose(const char *id)
{
    struct check_list *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    char err[512] = "";
    int rc = deploy_diagnose(&cfg, id, l, err, sizeof(err));
    if (rc != 0) fail_msg("deploy_diagnose %s: %d %s", id, rc, err);
    return l;
}

static const struct check *find_check(const struct check_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].id, id) == 0) return &l->items[i];
    fail_msg("no check %s", id);
    abort(); /* fail_msg does not return */
}

/* A Terraform deployment that failed at step (after the steps before it succeeded) with
 * text; returns the list and the id. */
static struct check_list *tf_failure(const char *step, const char *text, char *id)
{
    static const char *const order[] = {"init", "plan", "apply"};
    struct st steps[3];
    char log[16384] = "";
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        int last = strcmp(order[i], step) == 0;
        steps[n++] = (struct st){order[i], last ? "failed" : "ok", last ? 1 : 0};
        size_t have = strlen(log);
        if (last)
            snprintf(log + have, sizeof(log) - have,
                     "==> 2026-01-01T00:00:00Z /usr/bin/terraform %s -input=false -no-color\n"
                     "%s\n<== exit 1 after 1.0 s\n",
                     order[i], text);
        else
            snprintf(log + have, sizeof(log) - have,
                     "==> 2026-01-01T00:00:00Z /usr/bin/terraform %s -input=false\nfine\n"
                     "<== exit 0 after 1.0 s\n",
                     order[i]);
        if (last) break;
    }
    make("dep", "failed", steps, n, step, "Error: summary", log, id);
    return diagnose(id);
}

/* ---- the log and the matcher ------------------------------------------------------------ */

static void test_log_sections(void **state)
{
    (void)state;
    const char *log = "junk before\n"
                      "==> 2026-01-01T00:00:00Z /usr/bin/terraform init -input=false\nok\n"
                      "<== exit 0 after 0.1 s\n"
                      "==> 2026-01-01T00:00:01Z /usr/bin/ansible-playbook -i inventory.ini -e "
                      "@vars.yml playbook.yml\nfatal: [h]: FAILED!\n<== exit 2 after 3.0 s\n"
                      "==> 2026-01-01T00:00:02Z /x/ansible-playbook -i i -e @v status.yml\n"
                      "<== exit 0 after 1.0 s\n"
                      "==> 2026-01-01T00:00:03Z /usr/bin/terraform apply -auto-approve tfplan\n"
                      "Creating...\n";
    struct deploy_log_section s[8];
    size_t n = deploy_log_sections(log, strlen(log), s, 8);
    assert_int_equal(n, 4);
    assert_string_equal(s[0].name, "init");
    assert_true(s[0].finished);
    assert_int_equal(s[0].exit_code, 0);
    assert_int_equal(s[0].len, 3);
    assert_memory_equal(s[0].text, "ok\n", 3);
    assert_string_equal(s[1].name, "install");
    assert_int_equal(s[1].exit_code, 2);
    assert_string_equal(s[2].name, "status");
    assert_string_equal(s[3].name, "apply");
    assert_false(s[3].finished);
    assert_memory_equal(s[3].text, "Creating...\n", s[3].len);
    /* more sections than room: the latest are kept */
    n = deploy_log_sections(log, strlen(log), s, 2);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].name, "status");
    assert_string_equal(s[1].name, "apply");
    assert_int_equal(deploy_log_sections(log, strlen(log), s, 0), 0);
    assert_int_equal(deploy_log_sections("", 0, s, 8), 0);
    /* a cut header and a bad exit line */
    const char *odd = "==> \n<== exit x\n==> t /p destroy\n<== exit -1 after\n";
    n = deploy_log_sections(odd, strlen(odd), s, 8);
    assert_int_equal(n, 2);
    assert_false(s[0].finished);
    assert_string_equal(s[1].name, "destroy");
    assert_int_equal(s[1].exit_code, -1);
}

static const char *key_of(const char *text, enum deploy_tool tool, int exit_code)
{
    const struct deploy_known *k = deploy_diag_match(text, strlen(text), tool, exit_code);
    return k != NULL ? k->key : "(none)";
}

static void test_match(void **state)
{
    (void)state;
    enum deploy_tool T = DEPLOY_TOOL_TERRAFORM, A = DEPLOY_TOOL_ANSIBLE;
    /* the AWS "no credentials" text also says "context deadline exceeded" */
    assert_string_equal(key_of("Error: configuring Terraform AWS Provider: no valid credential "
                               "sources found.\nrequest canceled, context deadline exceeded",
                               T, 1),
                        "credentials");
    assert_string_equal(key_of("error: EXPIREDTOKEN: the token has expired", T, 1), "credentials");
    assert_string_equal(key_of("Error: creating EC2 Instance: UnauthorizedOperation", T, 1),
                        "permission");
    assert_string_equal(key_of("Error: reading S3 Bucket: AccessDenied: Access Denied", T, 1),
                        "permission");
    assert_string_equal(key_of("Error: VcpuLimitExceeded: You have requested more vCPU", T, 1),
                        "quota");
    assert_string_equal(key_of("Error: Error acquiring the state lock", T, 1), "state_lock");
    assert_string_equal(key_of("Error: Invalid value for input variable", T, 1), "variable");
    assert_string_equal(key_of("Error: Failed to install provider", T, 1), "plugin_download");
    assert_string_equal(key_of("Error: creating Security Group: InvalidGroup.Duplicate", T, 1),
                        "already_exists");
    assert_string_equal(key_of("Error: dial tcp 1.2.3.4:443: i/o timeout", T, 1), "network");
    assert_string_equal(key_of("Error: Unsupported argument", T, 1), "config");
    assert_string_equal(key_of("Error: operation canceled", T, 1), "interrupted");
    assert_string_equal(key_of("fatal: [h]: UNREACHABLE! => {\"msg\": \"Failed to connect to the "
                               "host via ssh: Permission denied (publickey).\"}",
                               A, 4),
                        "ssh_key");
    assert_string_equal(key_of("fatal: [h]: UNREACHABLE! => {\"msg\": \"ssh: connect to host h "
                               "port 22: Connection timed out\"}",
                               A, 4),
                        "unreachable");
    assert_string_equal(key_of("fatal: [h]: FAILED! => {\"msg\": \"Missing sudo password\"}", A, 2),
                        "sudo_password");
    assert_string_equal(key_of("fatal: [h]: FAILED! => {\"msg\": \"No package matching 'php9' is "
                               "available\"}",
                               A, 2),
                        "no_package");
    assert_string_equal(key_of("fatal: [h]: FAILED! => {\"msg\": \"AnsibleUndefinedVariable: "
                               "'domain' is undefined\"}",
                               A, 2),
                        "template");
    assert_string_equal(key_of("/bin/sh: 1: terraform: command not found", T, 127), "not_found");
    /* the other tool's entries are passed over */
    assert_string_equal(key_of("Missing sudo password", T, 1), "(none)");
    assert_string_equal(key_of("Error: something nobody has seen", T, 1), "(none)");
    assert_string_equal(key_of("", T, 127), "not_found");
    assert_string_equal(key_of("", T, 126), "not_found");
    /* case and NUL bytes */
    const char nul[] = "unauthorized\0operation UNAUTHORIZEDOPERATION";
    const struct deploy_known *k = deploy_diag_match(nul, sizeof(nul) - 1, T, 1);
    assert_non_null(k);
    assert_string_equal(k->key, "permission");
    const char split[] = "Unauthorized\0Operation";
    assert_null(deploy_diag_match(split, sizeof(split) - 1, T, 1));
    assert_null(deploy_diag_match(NULL, 0, T, 0));
}

/* ---- records with each kind of failure ----------------------------------------------- */

static void test_succeeded(void **state)
{
    (void)state;
    struct st steps[] = {
        {"init", "ok", 0}, {"plan", "ok", 0}, {"apply", "ok", 0}, {"output", "ok", 0}};
    char id[RECORD_ID_MAX];
    make("dep", "applied", steps, 4, NULL, NULL,
         TF_OK("init") TF_OK("plan") TF_OK("apply") TF_OK("output"), id);
    struct check_list *l = diagnose(id);
    char subject[64];
    snprintf(subject, sizeof(subject), "deployment %s", id);
    assert_string_equal(l->subject, subject);
    assert_string_equal(l->items[0].id, "record");
    assert_int_equal(l->items[0].status, CHECK_OK);
    assert_string_equal(l->items[1].id, "tool");
    assert_int_equal(l->items[1].status, CHECK_OK);
    const char *want[] = {"step_init", "step_plan", "step_apply", "step_output"};
    assert_int_equal(l->n, 6);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(l->items[2 + i].id, want[i]);
        assert_int_equal(l->items[2 + i].status, CHECK_OK);
    }
    assert_string_equal(find_check(l, "step_apply")->title, "terraform apply");
    assert_string_equal(l->cause, "");
    assert_string_equal(l->advice, "");
    assert_int_equal(check_list_worst(l), CHECK_OK);
    free(l);
}

static void test_no_credentials(void **state)
{
    (void)state;
    char id[RECORD_ID_MAX], want[128];
    struct check_list *l = tf_failure(
        "plan",
        "\nError: configuring Terraform AWS Provider: no valid credential sources for Terraform "
        "AWS Provider found.\n\nPlease see https://registry.terraform.io/providers/hashicorp/aws",
        id);
    const struct check *c = find_check(l, "step_plan");
    assert_int_equal(c->status, CHECK_FAIL);
    assert_has(c->message, "failed with exit code 1: Error: configuring Terraform AWS Provider");
    assert_has(c->detail, "Please see https://registry.terraform.io");
    assert_int_equal(find_check(l, "step_init")->status, CHECK_OK);
    assert_int_equal(find_check(l, "step_apply")->status, CHECK_SKIP);
    assert_int_equal(find_check(l, "step_output")->status, CHECK_SKIP);
    assert_has(l->cause, "terraform plan failed: Error: configuring Terraform AWS Provider");
    assert_has(l->cause, "no valid credentials");
    assert_has(l->advice, "cloudya connect aws");
    snprintf(want, sizeof(want), "cloudya deploy retry %s", id);
    assert_has(l->advice, want);
    assert_string_equal(c->hint, l->advice);
    assert_has(find_check(l, "record")->message, "failed at step plan");
    free(l);
}

static void test_state_lock(void **state)
{
    (void)state;
    char id[RECORD_ID_MAX];
    struct check_list *l = tf_failure(
        "plan",
        "\nError: Error acquiring the state lock\n\nError message: resource temporarily "
        "unavailable\nLock Info:\n  ID:        3f2a-77b1-aa\n  Path:      terraform.tfstate\n",
        id);
    assert_has(l->advice, "force-unlock -force 3f2a-77b1-aa");
    assert_has(l->advice, "wait for the other run");
    assert_has(l->cause, "locked by another run");
    free(l);
}

static void test_invalid_variable(void **state)
{
    (void)state;
    char id[RECORD_ID_MAX];
    struct check_list *l = tf_failure(
        "plan",
        "\nError: Invalid value for input variable\n\n  on terraform.tfvars.json line 3:\n"
        "The given value is not suitable for var.instance_type declared at variables.tf:9,1-25: "
        "string required.",
        id);
    assert_has(l->advice, "cloudya deploy template aws/ec2 --params instance_type=...");
    assert_has(l->advice, "terraform.tfvars.json");
    assert_has(l->advice, "cloudya deploy retry");
    free(l);
    l = tf_failure("plan",
                   "Error: No value for required variable\n\nThe root module input variable "
                   "\"region\" is not set, and has no default value.",
                   id);
    assert_has(l->advice, "--params region=...");
    free(l);
}

static void test_cloud_errors(void **state)
{
    (void)state;
    char id[RECORD_ID_MAX];
    struct check_list *l = tf_failure("apply",
                                      "Error: creating EC2 Instance: VcpuLimitExceeded: You have "
                                      "requested more vCPU capacity than your current vCPU limit",
                                      id);
    assert_has(l->cause, "quota");
    assert_has(l->advice, "Service Quotas");
    free(l);
    l = tf_failure("apply",
                   "Error: creating IAM Role: AccessDenied: User: arn:aws:iam::1:user/x is not "
                   "authorized to perform: iam:CreateRole",
                   id);
    assert_has(l->cause, "lack a permission");
    assert_has(l->advice, "IAM");
    free(l);
    l = tf_failure("init",
                   "Error: Failed to query available provider packages\n\nCould not retrieve "
                   "the list of available versions for provider hashicorp/aws: could not connect "
                   "to registry.terraform.io",
                   id);
    assert_has(l->cause, "provider plugin could not be downloaded");
    assert_has(l->advice, "TF_CLI_CONFIG_FILE");
    assert_has(l->advice, "filesystem_mirror");
    assert_int_equal(find_check(l, "step_plan")->status, CHECK_SKIP);
    free(l);
    l = tf_failure("apply",
                   "Error: creating EC2 Key Pair (web): InvalidKeyPair.Duplicate: The keypair "
                   "already exists",
                   id);
    assert_has(l->cause, "already exists");
    assert_has(l->advice, "terraform import");
    free(l);
    l = tf_failure("apply", "Error: something nobody has seen before\nwith more", id);
    assert_has(l->cause, "terraform apply failed: Error: something nobody has seen before");
    assert_has(l->advice, "deploy.log");
    assert_has(l->advice, "cloudya deploy retry");
    free(l);
}

/* An installation of wordpress on dep-0123abcd that failed with text (exit code). */
static struct check_list *app_failure(const char *text, int code, char *id)
{
    char log[8192];
    snprintf(log, sizeof(log),
             "==> 2026-01-01T00:00:00Z /usr/bin/ansible-playbook -i inventory.ini -e @vars.yml "
             "playbook.yml\n\nPLAY [Install] ****\n\nTASK [Gathering Facts] ****\n%s\n\nPLAY "
             "RECAP ****\n203.0.113.7 : ok=0 changed=0 unreachable=1 failed=0\n\n"
             "<== exit %d after 10.0 s\n",
             text, code);
    struct st steps[] = {{"install", "failed", code}};
    make("app", "failed", steps, 1, "install", "fatal: summary", log, id);
    return diagnose(id);
}

static void test_ansible_errors(void **state)
{
    (void)state;
    char id[RECORD_ID_MAX];
    struct check_list *l = app_failure(
        "fatal: [203.0.113.7]: UNREACHABLE! => {\"changed\": false, \"msg\": \"Failed to connect "
        "to the host via ssh: ssh: connect to host 203.0.113.7 port 22: Connection timed out\", "
        "\"unreachable\": true}",
        4, id);
    char subject[64];
    snprintf(subject, sizeof(subject), "deployment %s", id);
    assert_string_equal(l->subject, subject);
    const struct check *c = find_check(l, "step_install");
    assert_string_equal(c->title, "ansible-playbook playbook.yml");
    assert_int_equal(c->status, CHECK_FAIL);
    assert_has(c->message, "exit code 4: fatal: [203.0.113.7]: UNREACHABLE!");
    assert_has(l->cause, "could not reach 203.0.113.7 over SSH");
    assert_has(l->advice, "port 22");
    assert_has(l->advice, "cloudya app install wordpress --deployment dep-0123abcd --params");
    assert_has(find_check(l, "record")->message, "installation");
    free(l);
    l = app_failure("fatal: [203.0.113.7]: UNREACHABLE! => {\"msg\": \"Failed to connect to the "
                    "host via ssh: admin@203.0.113.7: Permission denied (publickey).\"}",
                    4, id);
    assert_has(l->advice, "--ssh-key");
    assert_has(l->advice, "ssh -i ~/.ssh/KEY LOGIN@203.0.113.7");
    free(l);
    l = app_failure("fatal: [203.0.113.7]: FAILED! => {\"msg\": \"Missing sudo password\"}", 2, id);
    assert_has(l->advice, "NOPASSWD");
    free(l);
    l = app_failure("fatal: [203.0.113.7]: FAILED! => {\"changed\": false, \"msg\": \"No package "
                    "matching 'php8.9-fpm' is available\"}",
                    2, id);
    assert_has(l->cause, "not in the machine's repositories");
    assert_has(l->advice, "apt-get update");
    free(l);
    l = app_failure("fatal: [203.0.113.7]: FAILED! => {\"changed\": false, \"msg\": "
                    "\"AnsibleUndefinedVariable: 'domain' is undefined\"}",
                    2, id);
    assert_has(l->cause, "template");
    assert_has(l->advice, "--params");
    free(l);
}

static void test_tool_missing(void **state)
{
    (void)state;
    /* the program could not be executed: exit 127 and no output, no recorded step */
    char id[RECORD_ID_MAX];
    make("dep", "failed", NULL, 0, NULL, NULL,
         "==> 2026-01-01T00:00:00Z /opt/gone/terraform init -input=false -no-color\n"
         "<== exit 127 after 0.0 s\n",
         id);
    struct check_list *l = diagnose(id);
    const struct check *c = find_check(l, "step_init");
    assert_int_equal(c->status, CHECK_FAIL);
    assert_has(c->message, "could not be executed");
    assert_has(l->cause, "could not be found");
    assert_has(l->advice, "terraform_path");
    assert_has(l->advice, cfg.config_path);
    free(l);
    /* the record's program is not there any more */
    char dir[DV_PATH_MAX], err[256];
    assert_int_equal(record_create(&cfg, "dep", id, sizeof(id), dir, sizeof(dir), err, sizeof(err)),
                     0);
    json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:[]}", "id", id, "kind", "deployment", "tool",
                            "/nonexistent/terraform", "status", "applied", "steps");
    assert_int_equal(record_save(dir, rec, err, sizeof(err)), 0);
    json_decref(rec);
    l = diagnose(id);
    c = find_check(l, "tool");
    assert_int_equal(c->status, CHECK_FAIL);
    assert_has(c->message, "/nonexistent/terraform");
    assert_has(c->hint, "terraform_path");
    free(l);
}

static void test_interrupted(void **state)
{
    (void)state;
    /* Ctrl+C: the step is recorded as interrupted */
    struct st steps[] = {{"init", "ok", 0}, {"plan", "ok", 0}, {"apply", "interrupted", 1}};
    char id[RECORD_ID_MAX], want[80];
    make("dep", "interrupted", steps, 3, "apply", "Error: operation canceled",
         TF_OK("init") TF_OK("plan")
             TF_FAIL("apply", "Interrupt received.\n\nError: operation canceled"),
         id);
    struct check_list *l = diagnose(id);
    assert_has(find_check(l, "step_apply")->message, "interrupted");
    assert_has(l->cause, "terraform apply was interrupted");
    snprintf(want, sizeof(want), "cloudya deploy retry %s", id);
    assert_has(l->advice, want);
    free(l);
    /* killed: the record says running, no lock is held, the log's last run has no end */
    struct st two[] = {{"init", "ok", 0}, {"plan", "ok", 0}};
    make("dep", "running", two, 2, NULL, NULL,
         TF_OK("init") TF_OK("plan") "==> 2026-01-01T00:00:00Z /usr/bin/terraform apply "
                                     "-auto-approve tfplan\naws_instance.web: Creating...\n",
         id);
    l = diagnose(id);
    assert_has(find_check(l, "record")->message, "interrupted (it was running");
    const struct check *c = find_check(l, "step_apply");
    assert_int_equal(c->status, CHECK_FAIL);
    assert_has(c->message, "cloudya was stopped while it ran");
    assert_int_equal(find_check(l, "step_output")->status, CHECK_SKIP);
    snprintf(want, sizeof(want), "cloudya deploy retry %s", id);
    assert_has(l->advice, want);
    free(l);
}

static void test_retry_and_destroy(void **state)
{
    (void)state;
    /* a first run failed at apply, the retry at plan: only the latest run's steps count */
    struct st steps[] = {{"init", "ok", 0},
                         {"plan", "ok", 0},
                         {"apply", "failed", 1},
                         {"init", "ok", 0},
                         {"plan", "failed", 1}};
    char id[RECORD_ID_MAX];
    make("dep", "failed", steps, 5, "plan", "Error: Unsupported argument",
         TF_OK("init") TF_OK("plan") TF_FAIL("apply", "Error: AccessDenied") TF_OK("init")
             TF_FAIL("plan", "Error: Unsupported argument\n\n  on main.tf line 3"),
         id);
    struct check_list *l = diagnose(id);
    assert_int_equal(find_check(l, "step_plan")->status, CHECK_FAIL);
    assert_int_equal(find_check(l, "step_apply")->status, CHECK_SKIP);
    assert_has(find_check(l, "record")->detail, "1 earlier run");
    assert_has(l->cause, "Terraform code has an error");
    free(l);
    /* destroy failed: the advice destroys again */
    struct st d[] = {{"init", "ok", 0},
                     {"plan", "ok", 0},
                     {"apply", "ok", 0},
                     {"output", "ok", 0},
                     {"destroy", "failed", 1}};
    make("dep", "destroy_failed", d, 5, "destroy", NULL,
         TF_OK("init") TF_OK("plan") TF_OK("apply") TF_OK("output")
             TF_FAIL("destroy", "Error: deleting VPC: DependencyViolation: has dependencies"),
         id);
    l = diagnose(id);
    char want[80];
    snprintf(want, sizeof(want), "cloudya deploy destroy %s", id);
    assert_has(l->advice, want);
    assert_int_equal(find_check(l, "step_destroy")->status, CHECK_FAIL);
    assert_has(find_check(l, "record")->message, "destroy failed at step destroy");
    free(l);
}

static void test_stack(void **state)
{
    (void)state;
    char dep[RECORD_ID_MAX], app[RECORD_ID_MAX], stack[RECORD_ID_MAX];
    struct st ok[] = {
        {"init", "ok", 0}, {"plan", "ok", 0}, {"apply", "ok", 0}, {"output", "ok", 0}};
    make("dep", "applied", ok, 4, NULL, NULL, TF_OK("init") TF_OK("plan") TF_OK("apply"), dep);
    struct check_list *l = app_failure("fatal: [203.0.113.7]: FAILED! => {\"msg\": \"Missing sudo "
                                       "password\"}",
                                       2, app);
    free(l);
    char dir[DV_PATH_MAX], err[256];
    assert_int_equal(
        record_create(&cfg, "stack", stack, sizeof(stack), dir, sizeof(dir), err, sizeof(err)), 0);
    json_t *rec =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", stack, "kind", "stack", "template",
                  "aws/ec2", "app", "wordpress", "status", "partial", "deployment_id", dep,
                  "app_id", app, "failed_step", "application", "error", "the playbook failed");
    assert_int_equal(record_save(dir, rec, err, sizeof(err)), 0);
    json_decref(rec);
    l = diagnose(stack);
    assert_int_equal(find_check(l, "record")->status, CHECK_FAIL);
    assert_int_equal(find_check(l, "infrastructure")->status, CHECK_OK);
    assert_int_equal(find_check(l, "application")->status, CHECK_FAIL);
    assert_int_equal(find_check(l, "step_install")->status, CHECK_FAIL);
    assert_has(l->cause, app);
    assert_has(l->advice, "NOPASSWD");
    free(l);
}

static void test_bad_ids(void **state)
{
    (void)state;
    struct check_list *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    char err[512] = "";
    assert_int_equal(deploy_diagnose(&cfg, "bogus", l, err, sizeof(err)), -EINVAL);
    assert_has(err, "is not a deployment id");
    assert_int_equal(deploy_diagnose(&cfg, "dep-00000000", l, err, sizeof(err)), -ENOENT);
    assert_has(err, "no deployment dep-00000000");
    /* a damaged record */
    char id[RECORD_ID_MAX], dir[DV_PATH_MAX], path[DV_PATH_MAX + 32];
    assert_int_equal(record_create(&cfg, "app", id, sizeof(id), dir, sizeof(dir), err, sizeof(err)),
                     0);
    snprintf(path, sizeof(path), "%s/record.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{not json", f);
    fclose(f);
    assert_int_equal(deploy_diagnose(&cfg, id, l, err, sizeof(err)), -EINVAL);
    assert_has(err, "damaged");
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_sections),      cmocka_unit_test(test_match),
        cmocka_unit_test(test_succeeded),         cmocka_unit_test(test_no_credentials),
        cmocka_unit_test(test_state_lock),        cmocka_unit_test(test_invalid_variable),
        cmocka_unit_test(test_cloud_errors),      cmocka_unit_test(test_ansible_errors),
        cmocka_unit_test(test_tool_missing),      cmocka_unit_test(test_interrupted),
        cmocka_unit_test(test_retry_and_destroy), cmocka_unit_test(test_stack),
        cmocka_unit_test(test_bad_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
