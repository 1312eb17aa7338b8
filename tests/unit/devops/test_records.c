/* Unit tests for src/devops/record.c, templates.c and dv_config.c, in a fresh temporary
 * folder per test: record ids, record_create / save / load / list (newest first, prefix
 * filter, damaged records skipped), record_lock (a second lock from a forked child is
 * -EBUSY naming the holder's pid; a "running" record whose lock is free loads as
 * "interrupted"), template_find (a user's template overrides the built-in one of the same
 * id; -ENOENT with "did you mean"; -EINVAL for ids that are not ones), templates_list (a
 * broken manifest is listed with "error"; secret defaults masked), template_copy (dotfiles,
 * state files, plans and symbolic links skipped; nested folders; the depth limit),
 * dv_config_load (the defaults written 0600 in a 0700 folder when missing; bad JSON; values
 * that are not strings; "~/" in templates_dir; CLOUDYA_TEMPLATES) and dv_tool_find. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dv_config.h"
#include "record.h"
#include "templates.h"

#define PATH_BUF 2048

static char dir[256];
static char err[1024];
static struct dv_config cfg;

/* A configuration whose folders are all inside the test's folder. */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/cloudya-records-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.home, sizeof(cfg.home), "%s", dir);
    snprintf(cfg.config_path, sizeof(cfg.config_path), "%s/config.json", dir);
    snprintf(cfg.deployments_dir, sizeof(cfg.deployments_dir), "%s/deployments", dir);
    snprintf(cfg.templates_dir, sizeof(cfg.templates_dir), "%s/user", dir);
    snprintf(cfg.builtin_dir, sizeof(cfg.builtin_dir), "%s/builtin", dir);
    snprintf(cfg.terraform_path, sizeof(cfg.terraform_path), "terraform");
    snprintf(cfg.ansible_path, sizeof(cfg.ansible_path), "ansible-playbook");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* dir/rel as a full path (a static buffer per call slot). */
static const char *at(const char *rel)
{
    static char bufs[4][PATH_BUF];
    static int slot;
    char *b = bufs[slot++ % 4];
    snprintf(b, PATH_BUF, "%s/%s", dir, rel);
    return b;
}

/* Creates the folder dir/rel and its parents. */
static void make_dir(const char *rel)
{
    assert_int_equal(dv_mkdirs(at(rel), 0700), 0);
}

/* Writes text to dir/rel (its folder must exist). */
static void write_text(const char *rel, const char *text)
{
    FILE *f = fopen(at(rel), "w");
    if (f == NULL)
        fail_msg("cannot write %s", at(rel));
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int exists(const char *rel)
{
    struct stat st;
    return lstat(at(rel), &st) == 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void assert_has(const char *hay, const char *needle)
{
    if (hay == NULL || strstr(hay, needle) == NULL)
        fail_msg("\"%s\" is not in \"%s\"", needle, hay ? hay : "(null)");
}

static const char *str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- record ids and files ------------------------------------------------------------ */

static void test_record_id_valid(void **state)
{
    (void)state;
    static const char *const good[] = {"dep-0123abcd", "app-deadbeef", "stack-00000000",
                                       "dep-ffffffff"};
    static const char *const bad[] = {"",          "dep-",          "dep-0123abc",
                                      "dep-0123abcde", "dep-0123ABCD", "dep-0123abcg",
                                      "xyz-01234567", "dep_01234567", "stack-0123abc",
                                      "../dep-01234567", "dep-01234567/", "DEP-01234567",
                                      "dep-0123 bcd", "app-"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!record_id_valid(good[i]))
            fail_msg("%s should be valid", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (record_id_valid(bad[i]))
            fail_msg("%s should not be valid", bad[i]);
    assert_false(record_id_valid(NULL));
}

static void test_record_create_save_load(void **state)
{
    (void)state;
    char id[RECORD_ID_MAX], rdir[PATH_BUF], id2[RECORD_ID_MAX], rdir2[PATH_BUF];
    assert_int_equal(record_create(&cfg, "dep", id, sizeof(id), rdir, sizeof(rdir), err,
                                   sizeof(err)),
                     0);
    assert_true(record_id_valid(id));
    assert_int_equal(strncmp(id, "dep-", 4), 0);
    char want[PATH_BUF];
    snprintf(want, sizeof(want), "%s/deployments/%s", dir, id);
    assert_string_equal(rdir, want);
    assert_int_equal(mode_of(cfg.deployments_dir), 0700);
    assert_int_equal(mode_of(rdir) & 0777, 0700);
    assert_int_equal(record_create(&cfg, "app", id2, sizeof(id2), rdir2, sizeof(rdir2), err,
                                   sizeof(err)),
                     0);
    assert_int_equal(strncmp(id2, "app-", 4), 0);
    assert_true(record_id_valid(id2));
    assert_string_not_equal(id, id2);

    /* too small a buffer for the id */
    char tiny[6];
    assert_int_equal(record_create(&cfg, "dep", tiny, sizeof(tiny), rdir2, sizeof(rdir2), err,
                                   sizeof(err)),
                     -ENAMETOOLONG);

    json_t *rec = json_pack("{s:s,s:s,s:s,s:{s:s}}", "id", id, "status", "applied", "created_at",
                            "2024-05-01T10:00:00Z", "params", "region", "us-east-1");
    assert_int_equal(record_save(rdir, rec, err, sizeof(err)), 0);
    const char *upd = str_of(rec, "updated_at"); /* stamped into rec too */
    assert_non_null(upd);
    assert_int_equal(strlen(upd), 20);
    assert_true(upd[4] == '-' && upd[10] == 'T' && upd[19] == 'Z');
    json_decref(rec);
    char path[PATH_BUF + 16];
    snprintf(path, sizeof(path), "%s/record.json", rdir);
    assert_int_equal(mode_of(path), 0600);

    json_t *back = NULL;
    char ldir[PATH_BUF];
    assert_int_equal(record_load(&cfg, id, &back, ldir, sizeof(ldir), err, sizeof(err)), 0);
    assert_string_equal(ldir, rdir);
    assert_string_equal(str_of(back, "id"), id);
    assert_string_equal(str_of(back, "status"), "applied");
    assert_string_equal(str_of(json_object_get(back, "params"), "region"), "us-east-1");
    assert_non_null(str_of(back, "updated_at"));
    json_decref(back);

    /* saving again replaces the file (no temporary left behind) */
    back = json_pack("{s:s,s:s}", "id", id, "status", "destroyed");
    assert_int_equal(record_save(rdir, back, err, sizeof(err)), 0);
    json_decref(back);
    assert_int_equal(record_load(&cfg, id, &back, ldir, sizeof(ldir), err, sizeof(err)), 0);
    assert_string_equal(str_of(back, "status"), "destroyed");
    json_decref(back);
    char cmd[PATH_BUF + 64];
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", rdir);
    assert_int_equal(system(cmd), 0);

    /* saving into a folder that is gone */
    back = json_pack("{s:s}", "id", id);
    assert_true(record_save(at("gone"), back, err, sizeof(err)) < 0);
    assert_has(err, "gone/record.json");
    json_decref(back);
}

static void test_record_load_errors(void **state)
{
    (void)state;
    json_t *rec = (json_t *)1;
    char ldir[PATH_BUF];
    assert_int_equal(record_load(&cfg, "nope", &rec, ldir, sizeof(ldir), err, sizeof(err)),
                     -EINVAL);
    assert_null(rec);
    assert_has(err, "\"nope\" is not a deployment id");
    assert_has(err, "cloudya deploy list-deployments");
    assert_int_equal(record_load(&cfg, NULL, &rec, ldir, sizeof(ldir), err, sizeof(err)),
                     -EINVAL);

    assert_int_equal(record_load(&cfg, "dep-ffffffff", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     -ENOENT);
    assert_has(err, "no deployment dep-ffffffff");
    assert_has(err, "(see cloudya deploy list-deployments)");
    assert_int_equal(record_load(&cfg, "app-ffffffff", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     -ENOENT);
    assert_has(err, "no installation app-ffffffff");
    assert_has(err, "cloudya app status");
    assert_int_equal(record_load(&cfg, "stack-ffffffff", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     -ENOENT);
    assert_has(err, "no stack stack-ffffffff");
    assert_has(err, "cloudya stack list");

    /* damaged records */
    make_dir("deployments/dep-00000001");
    write_text("deployments/dep-00000001/record.json", "{not json");
    assert_int_equal(record_load(&cfg, "dep-00000001", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     -EINVAL);
    assert_null(rec);
    assert_has(err, "dep-00000001/record.json is damaged");
    write_text("deployments/dep-00000001/record.json", "{\"status\": \"applied\"}"); /* no id */
    assert_int_equal(record_load(&cfg, "dep-00000001", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     -EINVAL);
    write_text("deployments/dep-00000001/record.json", "[1, 2]");
    assert_int_equal(record_load(&cfg, "dep-00000001", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     -EINVAL);
    write_text("deployments/dep-00000001/record.json", "{\"id\": \"a\", \"id\": \"b\"}");
    assert_int_equal(record_load(&cfg, "dep-00000001", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     -EINVAL);
    /* a folder without record.json (a run that died before its first save) */
    make_dir("deployments/dep-00000002");
    assert_true(record_load(&cfg, "dep-00000002", &rec, ldir, sizeof(ldir), err, sizeof(err)) <
                0);
    assert_null(rec);
    assert_has(err, "cannot read");
    /* a file where the folder should be */
    write_text("deployments/dep-00000003", "x");
    assert_int_equal(record_load(&cfg, "dep-00000003", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     -ENOENT);
}

/* Writes a record straight into deployments/<id>/record.json. */
static void put_record(const char *id, const char *created, const char *status)
{
    char rel[128], text[512];
    snprintf(rel, sizeof(rel), "deployments/%s", id);
    make_dir(rel);
    snprintf(rel, sizeof(rel), "deployments/%s/record.json", id);
    snprintf(text, sizeof(text), "{\"id\": \"%s\", \"created_at\": \"%s\", \"status\": \"%s\"}",
             id, created, status);
    write_text(rel, text);
}

static void assert_ids(json_t *list, const char *const *want, size_t n)
{
    if (json_array_size(list) != n) {
        char *dump = json_dumps(list, JSON_COMPACT);
        fail_msg("%zu records, expected %zu: %s", json_array_size(list), n, dump);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(str_of(json_array_get(list, i), "id"), want[i]);
}

static void test_record_list(void **state)
{
    (void)state;
    json_t *list = record_list(&cfg, ""); /* no deployments folder yet */
    assert_non_null(list);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);

    put_record("dep-00000001", "2024-01-01T00:00:00Z", "applied");
    put_record("dep-00000002", "2024-03-01T00:00:00Z", "failed");
    put_record("app-00000003", "2024-02-01T00:00:00Z", "installed");
    put_record("stack-00000004", "2024-04-01T00:00:00Z", "deployed");
    put_record("dep-0000000b", "2024-03-01T00:00:00Z", "applied"); /* same time: by id */
    put_record("dep-0000000a", "2024-03-01T00:00:00Z", "applied");
    /* skipped: damaged, no record.json, not an id, an id that is a file */
    make_dir("deployments/dep-000000dd");
    write_text("deployments/dep-000000dd/record.json", "garbage");
    make_dir("deployments/dep-000000ee");
    make_dir("deployments/notarecord");
    write_text("deployments/notarecord/record.json", "{\"id\": \"notarecord\"}");
    write_text("deployments/dep-000000ff", "{}");

    list = record_list(&cfg, "");
    static const char *const all[] = {"stack-00000004", "dep-00000002", "dep-0000000a",
                                      "dep-0000000b",   "app-00000003", "dep-00000001"};
    assert_ids(list, all, 6);
    json_decref(list);

    list = record_list(&cfg, "dep-");
    static const char *const deps[] = {"dep-00000002", "dep-0000000a", "dep-0000000b",
                                       "dep-00000001"};
    assert_ids(list, deps, 4);
    json_decref(list);

    list = record_list(&cfg, "app-");
    static const char *const apps[] = {"app-00000003"};
    assert_ids(list, apps, 1);
    assert_string_equal(str_of(json_array_get(list, 0), "status"), "installed");
    json_decref(list);

    list = record_list(&cfg, "stack-");
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
}

/* ---- locks ------------------------------------------------------------------------------- */

/* In a forked child: tries record_lock(rdir) and reports the result and the sentence through
 * the pipe fd. */
static void child_try_lock(const char *rdir, int fd)
{
    char cerr[512] = "";
    int rc = record_lock(rdir, cerr, sizeof(cerr));
    char msg[600];
    int n = snprintf(msg, sizeof(msg), "%d|%s", rc, cerr);
    if (write(fd, msg, (size_t)n) != n)
        _exit(2);
    _exit(0);
}

/* Forks a child that tries the lock; returns its result and its sentence in out. */
static int lock_from_child(const char *rdir, char *out, size_t cap)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child_try_lock(rdir, p[1]);
    }
    close(p[1]);
    char msg[600];
    ssize_t n = read(p[0], msg, sizeof(msg) - 1);
    close(p[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(n > 0);
    msg[n] = '\0';
    char *bar = strchr(msg, '|');
    assert_non_null(bar);
    *bar = '\0';
    snprintf(out, cap, "%s", bar + 1);
    return (int)strtol(msg, NULL, 10);
}

static void test_record_lock(void **state)
{
    (void)state;
    make_dir("deployments/dep-0000abcd");
    const char *rdir = at("deployments/dep-0000abcd");
    int fd = record_lock(rdir, err, sizeof(err));
    assert_true(fd >= 0);
    /* the lock file names us */
    char lockpath[PATH_BUF + 16], text[64] = "", want[64];
    snprintf(lockpath, sizeof(lockpath), "%s/.lock", rdir);
    FILE *f = fopen(lockpath, "r");
    assert_non_null(f);
    assert_non_null(fgets(text, sizeof(text), f));
    fclose(f);
    snprintf(want, sizeof(want), "%ld\n", (long)getpid());
    assert_string_equal(text, want);
    assert_int_equal(mode_of(lockpath), 0600);

    /* another process cannot take it, and is told who holds it */
    char cerr[600];
    assert_int_equal(lock_from_child(rdir, cerr, sizeof(cerr)), -EBUSY);
    snprintf(want, sizeof(want), "(process %ld)", (long)getpid());
    assert_has(cerr, want);
    assert_has(cerr, "dep-0000abcd is busy");
    /* nor can a second lock of ours (flock locks belong to the open file) */
    assert_int_equal(record_lock(rdir, err, sizeof(err)), -EBUSY);

    record_unlock(fd);
    int rc = lock_from_child(rdir, cerr, sizeof(cerr));
    assert_true(rc >= 0); /* free again (the child's lock went with it) */
    fd = record_lock(rdir, err, sizeof(err));
    assert_true(fd >= 0);
    record_unlock(fd);
    record_unlock(-1); /* harmless */

    /* a folder that does not exist */
    assert_int_equal(record_lock(at("nowhere"), err, sizeof(err)), -ENOENT);
    assert_has(err, "cannot open the lock");
}

/* A run that is gone leaves "running": it loads as "interrupted" once the lock is free. */
static void test_record_interrupted(void **state)
{
    (void)state;
    put_record("dep-00000010", "2024-01-01T00:00:00Z", "running");
    put_record("dep-00000011", "2024-01-01T00:00:00Z", "destroying");
    put_record("app-00000012", "2024-01-01T00:00:00Z", "uninstalling");
    put_record("dep-00000013", "2024-01-01T00:00:00Z", "applied");
    json_t *rec = NULL;
    char ldir[PATH_BUF];
    static const char *const ids[] = {"dep-00000010", "dep-00000011", "app-00000012"};
    static const char *const was[] = {"running", "destroying", "uninstalling"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(record_load(&cfg, ids[i], &rec, ldir, sizeof(ldir), err, sizeof(err)),
                         0);
        assert_string_equal(str_of(rec, "status"), "interrupted");
        assert_string_equal(str_of(rec, "interrupted_status"), was[i]);
        json_decref(rec);
    }
    assert_int_equal(record_load(&cfg, "dep-00000013", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     0);
    assert_string_equal(str_of(rec, "status"), "applied");
    assert_null(json_object_get(rec, "interrupted_status"));
    json_decref(rec);

    /* held by another process: still running */
    const char *rdir = at("deployments/dep-00000010");
    int go[2], ready[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        close(ready[0]);
        int fd = record_lock(rdir, NULL, 0);
        char c = fd >= 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(2);
        if (read(go[0], &c, 1) < 0) /* until the parent closes it */
            _exit(3);
        _exit(fd >= 0 ? 0 : 1);
    }
    close(go[0]);
    close(ready[1]);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    assert_int_equal(record_load(&cfg, "dep-00000010", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     0);
    assert_string_equal(str_of(rec, "status"), "running");
    json_decref(rec);
    json_t *list = record_list(&cfg, "dep-00000010");
    assert_string_equal(str_of(json_array_get(list, 0), "status"), "running");
    json_decref(list);
    close(go[1]);
    close(ready[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the child is gone: its lock went with it */
    assert_int_equal(record_load(&cfg, "dep-00000010", &rec, ldir, sizeof(ldir), err,
                                 sizeof(err)),
                     0);
    assert_string_equal(str_of(rec, "status"), "interrupted");
    json_decref(rec);
    list = record_list(&cfg, "dep-00000010");
    assert_string_equal(str_of(json_array_get(list, 0), "status"), "interrupted");
    json_decref(list);
}

/* ---- templates ------------------------------------------------------------------------------ */

static void put_manifest(const char *reldir, const char *name)
{
    char rel[PATH_BUF], text[512];
    make_dir(reldir);
    snprintf(rel, sizeof(rel), "%s/manifest.yaml", reldir);
    snprintf(text, sizeof(text),
             "name: \"%s\"\nprovider: aws\ndescription: \"d\"\nparameters:\n"
             "  - {name: region, default: us-east-1}\n"
             "  - {name: password, secret: true, default: hunter2}\n"
             "platforms: [aws]\n",
             name);
    write_text(rel, text);
}

static void put_template_trees(void)
{
    put_manifest("builtin/terraform/aws/vpc", "Built-in VPC");
    put_manifest("builtin/terraform/gcp/vm", "Built-in GCP VM");
    put_manifest("builtin/terraform/aws/Bad_Name", "Not an id"); /* ignored */
    make_dir("builtin/terraform/aws/nomanifest");
    put_manifest("builtin/apps/wordpress", "Built-in WordPress");
    put_manifest("user/terraform/aws/vpc", "My VPC");
    put_manifest("user/terraform/aws/broken", "x");
    write_text("user/terraform/aws/broken/manifest.yaml", "name: [unclosed\n");
    put_manifest("user/apps/myapp", "My app");
}

static void test_template_find(void **state)
{
    (void)state;
    put_template_trees();
    char tdir[PATH_BUF];
    int user = -1;
    assert_int_equal(template_find(&cfg, DV_TERRAFORM, "aws/vpc", tdir, sizeof(tdir), &user, err,
                                   sizeof(err)),
                     0);
    assert_string_equal(tdir, at("user/terraform/aws/vpc")); /* the user's wins */
    assert_int_equal(user, 1);
    assert_int_equal(template_find(&cfg, DV_TERRAFORM, "gcp/vm", tdir, sizeof(tdir), &user, err,
                                   sizeof(err)),
                     0);
    assert_string_equal(tdir, at("builtin/terraform/gcp/vm"));
    assert_int_equal(user, 0);
    assert_int_equal(template_find(&cfg, DV_ANSIBLE, "wordpress", tdir, sizeof(tdir), &user, err,
                                   sizeof(err)),
                     0);
    assert_string_equal(tdir, at("builtin/apps/wordpress"));
    assert_int_equal(user, 0);
    assert_int_equal(template_find(&cfg, DV_ANSIBLE, "myapp", tdir, sizeof(tdir), NULL, err,
                                   sizeof(err)),
                     0);
    assert_string_equal(tdir, at("user/apps/myapp"));

    /* not found: the closest id and where templates are looked for */
    assert_int_equal(template_find(&cfg, DV_TERRAFORM, "aws/vcp", tdir, sizeof(tdir), &user, err,
                                   sizeof(err)),
                     -ENOENT);
    assert_has(err, "no template named aws/vcp (did you mean aws/vpc?)");
    assert_has(err, at("user/terraform"));
    assert_has(err, "cloudya deploy list");
    assert_int_equal(template_find(&cfg, DV_TERRAFORM, "aws/nomanifest", tdir, sizeof(tdir),
                                   &user, err, sizeof(err)),
                     -ENOENT);
    assert_int_equal(template_find(&cfg, DV_TERRAFORM, "zzzz/qqqqqq", tdir, sizeof(tdir), &user,
                                   err, sizeof(err)),
                     -ENOENT);
    assert_null(strstr(err, "did you mean"));
    assert_int_equal(template_find(&cfg, DV_ANSIBLE, "wordpres", tdir, sizeof(tdir), &user, err,
                                   sizeof(err)),
                     -ENOENT);
    assert_has(err, "no application named wordpres (did you mean wordpress?)");
    assert_has(err, "cloudya app list");
    /* a Terraform id is not an application's */
    assert_int_equal(template_find(&cfg, DV_ANSIBLE, "vpc", tdir, sizeof(tdir), &user, err,
                                   sizeof(err)),
                     -ENOENT);

    /* ids that are not ones */
    static const char *const bad_tf[] = {"../x", "aws", "Aws/vpc", "aws/vpc/x", "", "aws/",
                                         "/vpc", "-aws/vpc", "aws/../vpc", "aws/v pc"};
    for (size_t i = 0; i < sizeof(bad_tf) / sizeof(bad_tf[0]); i++) {
        err[0] = '\0';
        if (template_find(&cfg, DV_TERRAFORM, bad_tf[i], tdir, sizeof(tdir), &user, err,
                          sizeof(err)) != -EINVAL)
            fail_msg("\"%s\" should be refused", bad_tf[i]);
        assert_has(err, "is not a template name");
        assert_has(err, "provider/name");
    }
    static const char *const bad_app[] = {"a/b", "WordPress", "..", ".hidden", "", "my app"};
    for (size_t i = 0; i < sizeof(bad_app) / sizeof(bad_app[0]); i++) {
        if (template_find(&cfg, DV_ANSIBLE, bad_app[i], tdir, sizeof(tdir), &user, err,
                          sizeof(err)) != -EINVAL)
            fail_msg("\"%s\" should be refused", bad_app[i]);
        assert_has(err, "is not an application name");
    }
    assert_false(template_id_valid(DV_TERRAFORM, NULL));
    assert_true(template_id_valid(DV_TERRAFORM, "aws/vpc-2_b"));
    assert_true(template_id_valid(DV_ANSIBLE, "9lives"));

    /* without built-in templates, the user's alone */
    cfg.builtin_dir[0] = '\0';
    assert_int_equal(template_find(&cfg, DV_TERRAFORM, "gcp/vm", tdir, sizeof(tdir), &user, err,
                                   sizeof(err)),
                     -ENOENT);
    assert_int_equal(template_find(&cfg, DV_TERRAFORM, "aws/vpc", tdir, sizeof(tdir), &user, err,
                                   sizeof(err)),
                     0);
}

static void test_templates_list(void **state)
{
    (void)state;
    put_template_trees();
    json_t *list = templates_list(&cfg, DV_TERRAFORM);
    assert_int_equal(json_array_size(list), 3);
    json_t *a = json_array_get(list, 0), *b = json_array_get(list, 1), *c = json_array_get(list, 2);
    /* sorted by id */
    assert_string_equal(str_of(a, "id"), "aws/broken");
    assert_string_equal(str_of(b, "id"), "aws/vpc");
    assert_string_equal(str_of(c, "id"), "gcp/vm");
    /* the broken one: an error instead of the manifest's fields */
    assert_has(str_of(a, "error"), "line");
    assert_null(json_object_get(a, "name"));
    assert_string_equal(str_of(a, "source"), "user");
    assert_string_equal(str_of(a, "dir"), at("user/terraform/aws/broken"));
    /* the user's VPC replaces the built-in one */
    assert_string_equal(str_of(b, "name"), "My VPC");
    assert_string_equal(str_of(b, "source"), "user");
    assert_string_equal(str_of(b, "provider"), "aws");
    assert_null(json_object_get(b, "error"));
    json_t *params = json_object_get(b, "parameters");
    assert_int_equal(json_array_size(params), 2);
    json_t *p0 = json_array_get(params, 0), *p1 = json_array_get(params, 1);
    assert_string_equal(str_of(p0, "name"), "region");
    assert_string_equal(str_of(p0, "type"), "string");
    assert_string_equal(str_of(p0, "default"), "us-east-1");
    assert_true(json_is_false(json_object_get(p0, "secret")));
    assert_string_equal(str_of(p1, "default"), "********"); /* a secret default is masked */
    assert_true(json_is_true(json_object_get(p1, "secret")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(b, "platforms"), 0)), "aws");
    assert_string_equal(str_of(c, "source"), "built-in");
    assert_string_equal(str_of(c, "name"), "Built-in GCP VM");
    char *dump = json_dumps(list, JSON_COMPACT);
    assert_null(strstr(dump, "hunter2"));
    free(dump);
    json_decref(list);

    list = templates_list(&cfg, DV_ANSIBLE);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(str_of(json_array_get(list, 0), "id"), "myapp");
    assert_string_equal(str_of(json_array_get(list, 1), "id"), "wordpress");
    json_decref(list);

    /* nothing anywhere: an empty array */
    snprintf(cfg.templates_dir, sizeof(cfg.templates_dir), "%s/none", dir);
    cfg.builtin_dir[0] = '\0';
    list = templates_list(&cfg, DV_TERRAFORM);
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
}

static void test_template_copy(void **state)
{
    (void)state;
    make_dir("src/sub/deeper");
    make_dir("src/.terraform/providers");
    make_dir("src/sub/.git");
    make_dir("dst");
    write_text("src/main.tf", "resource \"x\" \"y\" {}\n");
    write_text("src/run.sh", "#!/bin/sh\necho hi\n");
    assert_int_equal(chmod(at("src/run.sh"), 0755), 0);
    write_text("src/sub/deeper/file.txt", "deep\n");
    write_text("src/.terraform/providers/p", "binary");
    write_text("src/.hidden", "h");
    write_text("src/terraform.tfstate", "{}");
    write_text("src/terraform.tfstate.backup", "{}");
    write_text("src/tfplan", "plan");
    write_text("src/sub/.git/config", "c");
    write_text("src/sub/terraform.tfstate", "{}");
    assert_int_equal(symlink("/etc/hostname", at("src/link")), 0);
    assert_int_equal(symlink(at("src/sub"), at("src/linkdir")), 0);

    assert_int_equal(template_copy(at("src"), at("dst"), err, sizeof(err)), 0);
    assert_true(exists("dst/main.tf"));
    assert_true(exists("dst/run.sh"));
    assert_true(exists("dst/sub/deeper/file.txt"));
    assert_int_equal(mode_of(at("dst/run.sh")), 0700);
    assert_int_equal(mode_of(at("dst/main.tf")), 0600);
    assert_int_equal(mode_of(at("dst/sub")), 0700);
    FILE *f = fopen(at("dst/sub/deeper/file.txt"), "r");
    assert_non_null(f);
    char line[32] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_string_equal(line, "deep\n");
    static const char *const skipped[] = {"dst/.terraform", "dst/.hidden", "dst/terraform.tfstate",
                                          "dst/terraform.tfstate.backup", "dst/tfplan",
                                          "dst/sub/.git", "dst/sub/terraform.tfstate",
                                          "dst/link", "dst/linkdir"};
    for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
        if (exists(skipped[i]))
            fail_msg("%s should not have been copied", skipped[i]);

    /* a file already in the destination is not overwritten */
    assert_true(template_copy(at("src"), at("dst"), err, sizeof(err)) < 0);
    assert_has(err, "cannot copy");
    /* a source that does not exist */
    assert_int_equal(template_copy(at("nosrc"), at("dst"), err, sizeof(err)), -ENOENT);
    assert_has(err, "cannot read");
}

static void test_template_copy_depth(void **state)
{
    (void)state;
    /* 8 levels of folders below the template are copied; 9 are refused */
    make_dir("t8/1/2/3/4/5/6/7/8");
    write_text("t8/1/2/3/4/5/6/7/8/f", "x");
    make_dir("d8");
    assert_int_equal(template_copy(at("t8"), at("d8"), err, sizeof(err)), 0);
    assert_true(exists("d8/1/2/3/4/5/6/7/8/f"));
    make_dir("t9/1/2/3/4/5/6/7/8/9");
    make_dir("d9");
    assert_int_equal(template_copy(at("t9"), at("d9"), err, sizeof(err)), -ELOOP);
    assert_has(err, "more than 8 levels");
}

/* ---- config.json and tools ---------------------------------------------------------------- */

static void test_config_defaults_written(void **state)
{
    (void)state;
    mode_t old = umask(0); /* the modes must not depend on the umask */
    struct dv_config c;
    const char *home = at("a/b/home");
    int rc = dv_config_load(home, &c, err, sizeof(err));
    umask(old);
    assert_int_equal(rc, 0);
    assert_string_equal(c.home, home);
    char want[PATH_BUF];
    snprintf(want, sizeof(want), "%s/config.json", home);
    assert_string_equal(c.config_path, want);
    snprintf(want, sizeof(want), "%s/deployments", home);
    assert_string_equal(c.deployments_dir, want);
    snprintf(want, sizeof(want), "%s/templates", home);
    assert_string_equal(c.templates_dir, want);
    assert_string_equal(c.terraform_path, "terraform");
    assert_string_equal(c.ansible_path, "ansible-playbook");
    assert_string_equal(c.log_level, "INFO");
    assert_int_equal(mode_of(home), 0700);
    assert_int_equal(mode_of(at("a")), 0700);
    assert_int_equal(mode_of(c.config_path), 0600);

    json_error_t je;
    json_t *doc = json_load_file(c.config_path, 0, &je);
    assert_non_null(doc);
    assert_string_equal(str_of(doc, "terraform_path"), "terraform");
    assert_string_equal(str_of(doc, "ansible_path"), "ansible-playbook");
    assert_string_equal(str_of(doc, "templates_dir"), want);
    assert_string_equal(str_of(doc, "log_level"), "INFO");
    json_decref(doc);

    /* loaded again: the same */
    struct dv_config c2;
    assert_int_equal(dv_config_load(home, &c2, err, sizeof(err)), 0);
    assert_string_equal(c2.templates_dir, want);
    assert_string_equal(c2.terraform_path, "terraform");
}

static void test_config_values(void **state)
{
    (void)state;
    struct dv_config c;
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", "/home/tester", 1);
    write_text("config.json", "{\"terraform_path\": \"tofu\", \"templates_dir\": \"~/my/tpl\", "
                              "\"unknown\": [1, 2], \"log_level\": \"DEBUG\"}");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), 0);
    assert_string_equal(c.terraform_path, "tofu");
    assert_string_equal(c.ansible_path, "ansible-playbook"); /* missing: default */
    assert_string_equal(c.templates_dir, "/home/tester/my/tpl");
    assert_string_equal(c.log_level, "DEBUG");

    write_text("config.json", "{\"templates_dir\": \"~\"}");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), 0);
    assert_string_equal(c.templates_dir, "/home/tester");
    write_text("config.json", "{\"templates_dir\": \"~other/x\"}"); /* not ours to expand */
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), 0);
    assert_string_equal(c.templates_dir, "~other/x");
    write_text("config.json", "{\"templates_dir\": \"/abs/tpl\", \"ansible_path\": null}");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), 0);
    assert_string_equal(c.templates_dir, "/abs/tpl");
    assert_string_equal(c.ansible_path, "ansible-playbook");

    unsetenv("HOME");
    write_text("config.json", "{\"templates_dir\": \"~/x\"}");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), -EINVAL);
    assert_has(err, "templates_dir \"~/x\" cannot be expanded");
    if (old_home != NULL)
        setenv("HOME", old_home, 1);
    free(old_home);
}

static void test_config_bad(void **state)
{
    (void)state;
    struct dv_config c;
    write_text("config.json", "{\"terraform_path\": ");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), -EINVAL);
    assert_has(err, "config.json is not valid JSON (line 1");
    write_text("config.json", "[\"terraform\"]");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), -EINVAL);
    assert_has(err, "must hold a JSON object");
    write_text("config.json", "{\"a\": 1, \"a\": 2}");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), -EINVAL);
    write_text("config.json", "{\"terraform_path\": 5}");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), -EINVAL);
    assert_has(err, "\"terraform_path\" must be a non-empty string");
    assert_has(err, "config.json");
    write_text("config.json", "{\"ansible_path\": \"\"}");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), -EINVAL);
    assert_has(err, "\"ansible_path\" must be a non-empty string");
    write_text("config.json", "{\"templates_dir\": [\"/x\"]}");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), -EINVAL);
    assert_has(err, "\"templates_dir\"");
    write_text("config.json", "{\"log_level\": \"a very long log level name\"}");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), -EINVAL);
    assert_has(err, "\"log_level\" is too long");

    /* larger than DV_CONFIG_MAX_BYTES */
    size_t big = DV_CONFIG_MAX_BYTES + 10;
    char *text = malloc(big + 1);
    assert_non_null(text);
    memset(text, ' ', big);
    text[0] = '{';
    text[big - 1] = '}';
    text[big] = '\0';
    write_text("config.json", text);
    free(text);
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), -EINVAL);
    assert_has(err, "is larger than 65536 bytes");

    /* a folder where the file should be */
    assert_int_equal(unlink(at("config.json")), 0);
    make_dir("config.json");
    assert_int_equal(dv_config_load(dir, &c, err, sizeof(err)), -EISDIR);
    assert_has(err, "cannot read");
    /* a home under a file */
    write_text("plainfile", "x");
    assert_int_equal(dv_config_load(at("plainfile/home"), &c, err, sizeof(err)), -ENOTDIR);
    assert_has(err, "plainfile/home/config.json");
}

static void test_builtin_dir_from_env(void **state)
{
    (void)state;
    char out[DV_PATH_MAX];
    make_dir("shipped");
    setenv("CLOUDYA_TEMPLATES", at("shipped"), 1);
    assert_int_equal(dv_builtin_dir(out, sizeof(out)), 0);
    assert_string_equal(out, at("shipped"));
    struct dv_config c;
    assert_int_equal(dv_config_load(at("h"), &c, err, sizeof(err)), 0);
    assert_string_equal(c.builtin_dir, at("shipped"));
    setenv("CLOUDYA_TEMPLATES", at("missing"), 1);
    assert_int_equal(dv_builtin_dir(out, sizeof(out)), -ENOENT);
    assert_string_equal(out, "");
    unsetenv("CLOUDYA_TEMPLATES");
}

static void test_tool_find(void **state)
{
    (void)state;
    char out[DV_PATH_MAX];
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    make_dir("bin");
    make_dir("bin/adir");
    write_text("bin/mytool", "#!/bin/sh\n");
    assert_int_equal(chmod(at("bin/mytool"), 0755), 0);
    write_text("bin/noexec", "x");
    assert_int_equal(chmod(at("bin/noexec"), 0644), 0);
    char path[PATH_BUF];
    snprintf(path, sizeof(path), "/nonexistent::%s", at("bin"));
    setenv("PATH", path, 1);
    assert_int_equal(dv_tool_find("mytool", out, sizeof(out)), 0);
    assert_string_equal(out, at("bin/mytool"));
    assert_int_equal(dv_tool_find("noexec", out, sizeof(out)), -ENOENT);
    assert_int_equal(dv_tool_find("adir", out, sizeof(out)), -ENOENT);
    assert_int_equal(dv_tool_find("nothere", out, sizeof(out)), -ENOENT);
    /* a name with a slash is a path, not looked up */
    assert_int_equal(dv_tool_find(at("bin/mytool"), out, sizeof(out)), 0);
    assert_string_equal(out, at("bin/mytool"));
    assert_int_equal(dv_tool_find(at("bin/noexec"), out, sizeof(out)), -ENOENT);
    assert_int_equal(dv_tool_find(at("bin/adir"), out, sizeof(out)), -ENOENT);
    assert_int_equal(dv_tool_find("bin/mytool", out, sizeof(out)), -ENOENT); /* not from cwd */
    assert_int_equal(dv_tool_find("", out, sizeof(out)), -ENOENT);
    assert_int_equal(dv_tool_find(NULL, out, sizeof(out)), -ENOENT);
    /* too small a buffer */
    char tiny[8];
    assert_int_equal(dv_tool_find("mytool", tiny, sizeof(tiny)), -ENAMETOOLONG);
    /* a real one */
    setenv("PATH", "/usr/bin:/bin", 1);
    assert_int_equal(dv_tool_find("sh", out, sizeof(out)), 0);
    assert_int_equal(access(out, X_OK), 0);
    assert_string_equal(strrchr(out, '/'), "/sh");
    if (old_path != NULL)
        setenv("PATH", old_path, 1);
    free(old_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_id_valid),
        cmocka_unit_test_setup_teardown(test_record_create_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_interrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_templates_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_copy_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_defaults_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builtin_dir_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tool_find, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
