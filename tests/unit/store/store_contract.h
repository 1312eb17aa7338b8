/* The contract of store.h's users, clients, tokens and audit section, as test bodies that
 * every backend's test program runs (test_store_sqlite.c, test_store_pg.c): the same calls
 * must give the same answers whichever database is behind them.
 *
 * The includer provides, before including this file: struct fix (with at least `char url[]`,
 * the store's URL, and `store *s`, open on it with a pool of 4), raw_exec(f, sql) and
 * raw_count(f, sql) (SQL run on the database directly, outside the store; raw_count answers
 * the first column of the first row, -1 for none), and STORE_BACKEND_NAME. It registers the
 * tests with STORE_CONTRACT_TESTS(setup, teardown). Header-only (static functions) because
 * every test file is an executable of its own. */
#ifndef CLOUDYA_TEST_STORE_CONTRACT_H
#define CLOUDYA_TEST_STORE_CONTRACT_H
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store.h"

static void make_pair(int n, const char *role, store_client *c, store_user *u)
{
    memset(c, 0, sizeof *c);
    memset(u, 0, sizeof *u);
    snprintf(c->id, sizeof c->id, "client-%d", n);
    snprintf(c->name, sizeof c->name, "Client %d", n);
    snprintf(c->plan, sizeof c->plan, "%s", "starter");
    c->quota_containers = 5;
    c->quota_memory_mb = 2048;
    c->quota_cpus = 2.5;
    snprintf(u->id, sizeof u->id, "user-%d", n);
    snprintf(u->email, sizeof u->email, "user%d@example.com", n);
    snprintf(u->name, sizeof u->name, "User %d", n);
    snprintf(u->role, sizeof u->role, "%s", role);
    snprintf(u->client_id, sizeof u->client_id, "client-%d", n);
    snprintf(u->password_hash, sizeof u->password_hash, "$argon2id$v=19$m=65536,t=2,p=1$%d", n);
}

static void create_pair(store *s, int n, const char *role)
{
    store_client c;
    store_user u;
    make_pair(n, role, &c, &u);
    assert_int_equal(store_client_user_create(s, &c, &u), 0);
}

static void test_open_migrate_reopen(void **state)
{
    struct fix *f = *state;
    char err[256];
    assert_string_equal(store_backend(f->s), STORE_BACKEND_NAME);
    assert_int_equal(store_ping(f->s), 0);
    assert_int_equal(store_schema_version(f->s), 3);
    for (int i = 0; i < 2; i++) {
        store_close(f->s);
        f->s = NULL;
        assert_int_equal(store_open(f->url, 2, &f->s, err, sizeof err), 0);
        assert_int_equal(store_schema_version(f->s), 3);
    }
    assert_int_equal(raw_count(f, "SELECT count(*) FROM schema_version"), 3);
    assert_int_equal(raw_count(f, "SELECT version FROM schema_version WHERE name = 'init'"), 1);
    const char *tables[] = {"clients", "users", "revoked_tokens", "audit_log", "containers", "meta",
                            "token_accounts", "token_ledger", "assistant_commands"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char q[64];
        snprintf(q, sizeof q, "SELECT count(*) FROM %s", tables[i]);
        assert_int_equal(raw_count(f, q), 0); /* the table exists, empty */
    }
}

static void test_client_user_create_and_get(void **state)
{
    struct fix *f = *state;
    store_client c, cg;
    store_user u, ug;
    time_t before = time(NULL);
    make_pair(1, "client", &c, &u);
    u.client_id[0] = '\0'; /* the store fills it from c.id */
    snprintf(u.email, sizeof u.email, "%s", "Alice@Example.COM");
    assert_int_equal(store_client_user_create(f->s, &c, &u), 0);
    assert_true(c.created_at >= before && c.created_at == u.created_at);
    assert_string_equal(u.client_id, "client-1");
    assert_string_equal(u.email, "alice@example.com");

    assert_int_equal(store_user_get(f->s, "user-1", &ug), 0);
    assert_string_equal(ug.id, "user-1");
    assert_string_equal(ug.email, "alice@example.com");
    assert_string_equal(ug.name, "User 1");
    assert_string_equal(ug.role, "client");
    assert_string_equal(ug.client_id, "client-1");
    assert_string_equal(ug.password_hash, u.password_hash);
    assert_int_equal(ug.disabled, 0);
    assert_int_equal(ug.created_at, u.created_at);

    memset(&ug, 0, sizeof ug);
    assert_int_equal(store_user_get_by_email(f->s, "ALICE@example.com", &ug), 0);
    assert_string_equal(ug.id, "user-1");

    assert_int_equal(store_client_get(f->s, "client-1", &cg), 0);
    assert_string_equal(cg.id, "client-1");
    assert_string_equal(cg.name, "Client 1");
    assert_string_equal(cg.plan, "starter");
    assert_int_equal(cg.quota_containers, 5);
    assert_int_equal(cg.quota_memory_mb, 2048);
    assert_true(cg.quota_cpus == 2.5);
    assert_int_equal(cg.created_at, c.created_at);
}

static void test_duplicate_email_is_atomic(void **state)
{
    struct fix *f = *state;
    store_client c;
    store_user u;
    create_pair(f->s, 1, "client");

    make_pair(2, "client", &c, &u);
    snprintf(u.email, sizeof u.email, "%s", "USER1@example.com"); /* same email, other case */
    assert_int_equal(store_client_user_create(f->s, &c, &u), -EEXIST);
    assert_int_equal(store_client_get(f->s, "client-2", &c), -ENOENT);
    assert_int_equal(store_user_get(f->s, "user-2", &u), -ENOENT);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM clients"), 1);

    /* A taken client id is -EEXIST too, and its user is not written either. */
    make_pair(3, "client", &c, &u);
    snprintf(c.id, sizeof c.id, "%s", "client-1");
    snprintf(u.client_id, sizeof u.client_id, "%s", "client-1");
    assert_int_equal(store_client_user_create(f->s, &c, &u), -EEXIST);
    assert_int_equal(store_user_get(f->s, "user-3", &u), -ENOENT);

    /* The connection is usable after the rollback. */
    create_pair(f->s, 4, "client");
    assert_int_equal(raw_count(f, "SELECT count(*) FROM users"), 2);
}

static void test_get_missing(void **state)
{
    struct fix *f = *state;
    store_user u;
    store_client c;
    assert_int_equal(store_user_get(f->s, "nobody", &u), -ENOENT);
    assert_int_equal(store_user_get_by_email(f->s, "nobody@example.com", &u), -ENOENT);
    assert_int_equal(store_client_get(f->s, "nothing", &c), -ENOENT);
}

static void test_count_admins(void **state)
{
    struct fix *f = *state;
    int64_t n = -1;
    assert_int_equal(store_user_count_admins(f->s, &n), 0);
    assert_int_equal(n, 0);
    create_pair(f->s, 1, "admin");
    create_pair(f->s, 2, "client");
    create_pair(f->s, 3, "admin");
    assert_int_equal(store_user_count_admins(f->s, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_client_count(f->s, &n), 0);
    assert_int_equal(n, 3);
}

static void test_set_disabled(void **state)
{
    struct fix *f = *state;
    store_user u;
    create_pair(f->s, 1, "client");
    assert_int_equal(store_user_set_disabled(f->s, "user-1", 7), 0);
    assert_int_equal(store_user_get(f->s, "user-1", &u), 0);
    assert_int_equal(u.disabled, 1);
    assert_int_equal(store_user_set_disabled(f->s, "user-1", 0), 0);
    assert_int_equal(store_user_get(f->s, "user-1", &u), 0);
    assert_int_equal(u.disabled, 0);
    assert_int_equal(store_user_set_disabled(f->s, "nobody", 1), -ENOENT);
}

static void test_delete(void **state)
{
    struct fix *f = *state;
    store_user u;
    store_client c;
    create_pair(f->s, 1, "client");
    assert_int_equal(store_user_delete(f->s, "user-1"), 0);
    assert_int_equal(store_user_get(f->s, "user-1", &u), -ENOENT);
    assert_int_equal(store_user_get_by_email(f->s, "user1@example.com", &u), -ENOENT);
    assert_int_equal(store_user_delete(f->s, "user-1"), -ENOENT);
    assert_int_equal(store_client_get(f->s, "client-1", &c), 0);
}

static void test_tokens(void **state)
{
    struct fix *f = *state;
    int64_t now = 1700000000;
    assert_int_equal(store_token_is_revoked(f->s, "jti-a"), 0);
    assert_int_equal(store_token_revoke(f->s, "jti-a", now - 10), 0);
    assert_int_equal(store_token_revoke(f->s, "jti-b", now + 3600), 0);
    assert_int_equal(store_token_revoke(f->s, "jti-b", now + 60), 0); /* again: fine */
    assert_int_equal(store_token_is_revoked(f->s, "jti-a"), 1);
    assert_int_equal(store_token_is_revoked(f->s, "jti-b"), 1);
    assert_int_equal(store_token_purge_expired(f->s, now), 0);
    assert_int_equal(store_token_is_revoked(f->s, "jti-a"), 0);
    assert_int_equal(store_token_is_revoked(f->s, "jti-b"), 1); /* the later expiry was kept */
    assert_int_equal(store_token_purge_expired(f->s, now + 3601), 0);
    assert_int_equal(store_token_is_revoked(f->s, "jti-b"), 0);
}

static void add_audit(store *s, int64_t t, const char *client, const char *action,
                      const char *detail)
{
    store_audit a;
    memset(&a, 0, sizeof a);
    a.time = t;
    snprintf(a.actor, sizeof a.actor, "%s", "user-1");
    snprintf(a.client_id, sizeof a.client_id, "%s", client);
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.target, sizeof a.target, "%s", "someone@example.com");
    snprintf(a.ip, sizeof a.ip, "%s", "192.0.2.7");
    snprintf(a.result, sizeof a.result, "%s", "success");
    snprintf(a.detail, sizeof a.detail, "%s", detail);
    assert_int_equal(store_audit_add(s, &a), 0);
}

static void test_audit(void **state)
{
    struct fix *f = *state;
    store_audit *rows = NULL;
    size_t n = 0;
    time_t before = time(NULL);
    add_audit(f->s, 100, "c1", "auth.login", "one");
    add_audit(f->s, 101, "c2", "auth.login", "two");
    add_audit(f->s, 102, "c1", "container.create", "three");
    add_audit(f->s, 0, "c1", "auth.login", "four"); /* time set by the store */

    assert_int_equal(store_audit_list(f->s, "", "", 100, &rows, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(rows[0].detail, "four");
    assert_true(rows[0].time >= before);
    assert_string_equal(rows[3].detail, "one");
    assert_int_equal(rows[3].time, 100);
    assert_true(rows[0].id > rows[1].id && rows[1].id > rows[2].id && rows[2].id > rows[3].id);
    assert_string_equal(rows[3].actor, "user-1");
    assert_string_equal(rows[3].target, "someone@example.com");
    assert_string_equal(rows[3].ip, "192.0.2.7");
    assert_string_equal(rows[3].result, "success");
    free(rows);

    assert_int_equal(store_audit_list(f->s, "c1", NULL, 100, &rows, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].detail, "four");
    assert_string_equal(rows[1].detail, "three");
    assert_string_equal(rows[2].detail, "one");
    free(rows);

    assert_int_equal(store_audit_list(f->s, NULL, "auth.login", 100, &rows, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[1].detail, "two");
    free(rows);

    assert_int_equal(store_audit_list(f->s, "c1", "auth.login", 100, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].detail, "four");
    assert_string_equal(rows[1].detail, "one");
    free(rows);

    assert_int_equal(store_audit_list(f->s, "c1", "auth.login", 1, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].detail, "four");
    free(rows);

    assert_int_equal(store_audit_list(f->s, "c9", "", 10, &rows, &n), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
}

static void test_audit_limit_bounds(void **state)
{
    struct fix *f = *state;
    store_audit *rows = NULL;
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        add_audit(f->s, 1000 + i, "c1", "auth.login", "x");
    assert_int_equal(store_audit_list(f->s, "", "", 0, &rows, &n), -EINVAL);
    assert_null(rows);
    assert_int_equal(store_audit_list(f->s, "", "", -1, &rows, &n), -EINVAL);
    assert_int_equal(store_audit_list(f->s, "", "", 1001, &rows, &n), -EINVAL);
    assert_int_equal(store_audit_list(f->s, "", "", 1, &rows, &n), 0);
    assert_int_equal(n, 1);
    free(rows);
    assert_int_equal(store_audit_list(f->s, "", "", 17, &rows, &n), 0);
    assert_int_equal(n, 17);
    assert_int_equal(rows[16].time, 1000 + 40 - 17);
    free(rows);
    assert_int_equal(store_audit_list(f->s, "", "", 1000, &rows, &n), 0);
    assert_int_equal(n, 40);
    free(rows);
}

static void test_invalid_args(void **state)
{
    struct fix *f = *state;
    store_client c;
    store_user u;
    store_audit a;
    char longid[STORE_ID_MAX + 8];
    int64_t n;
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';

    assert_int_equal(store_ping(NULL), -EINVAL);
    assert_int_equal(store_schema_version(NULL), -EINVAL);
    assert_string_equal(store_backend(NULL), "");
    assert_int_equal(store_user_get(f->s, NULL, &u), -EINVAL);
    assert_int_equal(store_user_get(f->s, "", &u), -EINVAL);
    assert_int_equal(store_user_get(f->s, longid, &u), -EINVAL);
    assert_int_equal(store_user_get(NULL, "user-1", &u), -EINVAL);
    assert_int_equal(store_user_get(f->s, "user-1", NULL), -EINVAL);
    assert_int_equal(store_user_get_by_email(f->s, NULL, &u), -EINVAL);
    assert_int_equal(store_user_count_admins(f->s, NULL), -EINVAL);
    assert_int_equal(store_user_count_admins(NULL, &n), -EINVAL);
    assert_int_equal(store_client_count(f->s, NULL), -EINVAL);
    assert_int_equal(store_user_set_disabled(f->s, NULL, 1), -EINVAL);
    assert_int_equal(store_user_delete(f->s, NULL), -EINVAL);
    assert_int_equal(store_client_get(f->s, NULL, &c), -EINVAL);
    assert_int_equal(store_token_revoke(f->s, NULL, 1), -EINVAL);
    assert_int_equal(store_token_revoke(f->s, "", 1), -EINVAL);
    assert_int_equal(store_token_is_revoked(f->s, NULL), -EINVAL);
    assert_int_equal(store_token_purge_expired(NULL, 1), -EINVAL);
    assert_int_equal(store_audit_add(f->s, NULL), -EINVAL);
    memset(&a, 0, sizeof a);
    assert_int_equal(store_audit_add(f->s, &a), -EINVAL); /* empty action */
    memset(&a, 'x', sizeof a);                            /* no NUL anywhere */
    assert_int_equal(store_audit_add(f->s, &a), -EINVAL);

    make_pair(1, "root", &c, &u);
    assert_int_equal(store_client_user_create(f->s, &c, &u), -EINVAL);
    make_pair(1, "client", &c, &u);
    snprintf(u.client_id, sizeof u.client_id, "%s", "client-other");
    assert_int_equal(store_client_user_create(f->s, &c, &u), -EINVAL);
    make_pair(1, "client", &c, &u);
    c.quota_cpus = -1;
    assert_int_equal(store_client_user_create(f->s, &c, &u), -EINVAL);
    make_pair(1, "client", &c, &u);
    memset(u.email, 'a', sizeof u.email);
    assert_int_equal(store_client_user_create(f->s, &c, &u), -EINVAL);
    assert_int_equal(store_client_user_create(f->s, NULL, &u), -EINVAL);
    assert_int_equal(store_client_get(f->s, "client-1", &c), -ENOENT);
}

static void test_newer_schema_refused(void **state)
{
    struct fix *f = *state;
    char err[256] = "";
    store_close(f->s);
    f->s = NULL;
    raw_exec(f, "INSERT INTO schema_version (version, name, applied_at) "
                "VALUES (999, 'future', 0)");
    assert_int_equal(store_open(f->url, 2, &f->s, err, sizeof err), -EPROTO);
    assert_null(f->s);
    assert_non_null(strstr(err, "999"));
    assert_non_null(strstr(err, "newer"));
}

static void test_db_error_is_eio(void **state)
{
    struct fix *f = *state;
    raw_exec(f, "DROP TABLE revoked_tokens");
    fprintf(stderr, "(an error log line about revoked_tokens is expected next)\n");
    assert_int_equal(store_token_is_revoked(f->s, "jti-a"), -EIO);
    assert_int_equal(store_ping(f->s), 0);
}

#define THREADS 8
#define PER_THREAD 50

struct worker {
    store *s;
    int index;
    int failures;
    int first_error;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        store_client c;
        store_user u;
        store_user got;
        make_pair(w->index * 1000 + i, i % 10 == 0 ? "admin" : "client", &c, &u);
        int ret = store_client_user_create(w->s, &c, &u);
        if (ret == 0) ret = store_user_get(w->s, u.id, &got);
        if (ret != 0) {
            w->failures++;
            if (!w->first_error) w->first_error = ret;
        }
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    struct fix *f = *state;
    pthread_t th[THREADS];
    struct worker w[THREADS];
    int64_t admins = 0;
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.s = f->s, .index = i + 1};
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].first_error, 0);
        assert_int_equal(w[i].failures, 0);
    }
    for (int t = 1; t <= THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            char email[64];
            store_user u;
            snprintf(email, sizeof email, "user%d@example.com", t * 1000 + i);
            assert_int_equal(store_user_get_by_email(f->s, email, &u), 0);
        }
    }
    assert_int_equal(raw_count(f, "SELECT count(*) FROM users"), THREADS * PER_THREAD);
    assert_int_equal(store_user_count_admins(f->s, &admins), 0);
    assert_int_equal(admins, THREADS * PER_THREAD / 10);
}

/* ---- administration: client and user lists, client updates, roles ----------------------- */

static void test_client_list(void **state)
{
    struct fix *f = *state;
    store_client *rows = NULL;
    size_t n = 7;
    assert_int_equal(store_client_list(f->s, 10, &rows, &n), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
    create_pair(f->s, 1, "client");
    create_pair(f->s, 2, "admin");
    create_pair(f->s, 3, "client");
    /* Oldest first, whatever the order of the ids; equal times fall back to the id. */
    raw_exec(f, "UPDATE clients SET created_at = 300 WHERE id = 'client-1'");
    raw_exec(f, "UPDATE clients SET created_at = 100 WHERE id = 'client-3'");
    raw_exec(f, "UPDATE clients SET created_at = 300 WHERE id = 'client-2'");
    assert_int_equal(store_client_list(f->s, 10, &rows, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].id, "client-3");
    assert_int_equal(rows[0].created_at, 100);
    assert_string_equal(rows[1].id, "client-1");
    assert_string_equal(rows[2].id, "client-2");
    assert_string_equal(rows[1].name, "Client 1");
    assert_string_equal(rows[1].plan, "starter");
    assert_int_equal(rows[1].quota_containers, 5);
    assert_int_equal(rows[1].quota_memory_mb, 2048);
    assert_true(rows[1].quota_cpus == 2.5);
    free(rows);
    assert_int_equal(store_client_list(f->s, 2, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[1].id, "client-1");
    free(rows);
    assert_int_equal(store_client_list(f->s, STORE_LIST_MAX, &rows, &n), 0);
    assert_int_equal(n, 3);
    free(rows);
}

/* A container row for the quota check below, of memory_mb and cpus. */
static int admin_reserve(store *s, const char *id, int memory_mb, double cpus)
{
    store_container c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.client_id, sizeof c.client_id, "%s", "client-1");
    snprintf(c.name, sizeof c.name, "%s", id);
    snprintf(c.service_type, sizeof c.service_type, "%s", "nginx");
    snprintf(c.image, sizeof c.image, "%s", "nginx:alpine");
    c.memory_mb = memory_mb;
    c.cpus = cpus;
    return store_container_reserve(s, &c, NULL);
}

static void test_client_update(void **state)
{
    struct fix *f = *state;
    store_client c, got;
    store_user u;
    make_pair(1, "client", &c, &u);
    assert_int_equal(store_client_user_create(f->s, &c, &u), 0);
    create_pair(f->s, 2, "client");

    snprintf(c.name, sizeof c.name, "%s", "Renamed \xc3\xa9"); /* UTF-8 survives */
    snprintf(c.plan, sizeof c.plan, "%s", "enterprise");
    c.quota_containers = 100000;
    c.quota_memory_mb = 16777216;
    c.quota_cpus = 0.25;
    int64_t created = c.created_at;
    c.created_at = 42; /* not written */
    assert_int_equal(store_client_update(f->s, &c), 0);
    assert_int_equal(store_client_get(f->s, "client-1", &got), 0);
    assert_string_equal(got.name, "Renamed \xc3\xa9");
    assert_string_equal(got.plan, "enterprise");
    assert_int_equal(got.quota_containers, 100000);
    assert_int_equal(got.quota_memory_mb, 16777216);
    assert_true(got.quota_cpus == 0.25);
    assert_int_equal(got.created_at, created);
    /* The other client is untouched; writing the same values again is still 0. */
    assert_int_equal(store_client_get(f->s, "client-2", &got), 0);
    assert_string_equal(got.plan, "starter");
    assert_int_equal(got.quota_containers, 5);
    assert_int_equal(store_client_update(f->s, &c), 0);

    /* Quotas may go below what is used: the rows stay, new reservations are refused. */
    c.quota_containers = 3;
    c.quota_memory_mb = 1000;
    c.quota_cpus = 2;
    assert_int_equal(store_client_update(f->s, &c), 0);
    assert_int_equal(admin_reserve(f->s, "ctr-a", 400, 0.5), 0);
    assert_int_equal(admin_reserve(f->s, "ctr-b", 400, 0.5), 0);
    c.quota_containers = 1;
    c.quota_memory_mb = 0;
    c.quota_cpus = 0;
    assert_int_equal(store_client_update(f->s, &c), 0);
    int count = -1, memory = -1;
    assert_int_equal(store_container_usage(f->s, "client-1", &count, NULL, &memory, NULL), 0);
    assert_int_equal(count, 2);
    assert_int_equal(memory, 800);
    assert_int_equal(admin_reserve(f->s, "ctr-c", 0, 0), -EDQUOT);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM containers"), 2);

    snprintf(c.id, sizeof c.id, "%s", "client-9");
    assert_int_equal(store_client_update(f->s, &c), -ENOENT);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM clients"), 2);
}

static void test_user_list(void **state)
{
    struct fix *f = *state;
    store_user *rows = NULL;
    size_t n = 7;
    assert_int_equal(store_user_list(f->s, "", 10, &rows, &n), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
    create_pair(f->s, 1, "client");
    create_pair(f->s, 2, "admin");
    create_pair(f->s, 3, "client");
    /* A second user in client-1, the oldest of all. */
    raw_exec(f, "INSERT INTO users (id, email, name, role, client_id, password_hash, disabled, "
                "created_at) VALUES ('user-1b', 'b@example.com', 'B', 'client', 'client-1', "
                "'$argon2id$secret', 1, 5)");
    raw_exec(f, "UPDATE users SET created_at = 50 WHERE id = 'user-3'");
    assert_int_equal(store_user_list(f->s, NULL, 10, &rows, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(rows[0].id, "user-1b");
    assert_string_equal(rows[1].id, "user-3");
    assert_string_equal(rows[2].id, "user-1");
    assert_string_equal(rows[3].id, "user-2");
    assert_string_equal(rows[0].email, "b@example.com");
    assert_string_equal(rows[0].name, "B");
    assert_string_equal(rows[0].role, "client");
    assert_string_equal(rows[0].client_id, "client-1");
    assert_int_equal(rows[0].disabled, 1);
    assert_int_equal(rows[0].created_at, 5);
    assert_string_equal(rows[3].role, "admin");
    for (size_t i = 0; i < n; i++)
        assert_string_equal(rows[i].password_hash, ""); /* never out of the database */
    free(rows);

    assert_int_equal(store_user_list(f->s, "client-1", 10, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "user-1b");
    assert_string_equal(rows[1].id, "user-1");
    assert_string_equal(rows[1].password_hash, "");
    free(rows);
    assert_int_equal(store_user_list(f->s, "client-1", 1, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "user-1b");
    free(rows);
    assert_int_equal(store_user_list(f->s, "", 3, &rows, &n), 0);
    assert_int_equal(n, 3);
    free(rows);
    assert_int_equal(store_user_list(f->s, "client-9", 10, &rows, &n), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
}

static int64_t enabled_admins(struct fix *f)
{
    return raw_count(f, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0");
}

static void test_user_set_access(void **state)
{
    struct fix *f = *state;
    store_user u;
    create_pair(f->s, 1, "admin");
    create_pair(f->s, 2, "client");
    /* Promote, demote, disable, enable, both at once; the rest of the row stays. */
    assert_int_equal(store_user_set_role(f->s, "user-2", "admin"), 0);
    assert_int_equal(store_user_get(f->s, "user-2", &u), 0);
    assert_string_equal(u.role, "admin");
    assert_int_equal(u.disabled, 0);
    assert_string_equal(u.email, "user2@example.com");
    assert_string_equal(u.password_hash, "$argon2id$v=19$m=65536,t=2,p=1$2");
    assert_int_equal(store_user_set_access(f->s, "user-2", "client", 1), 0);
    assert_int_equal(store_user_get(f->s, "user-2", &u), 0);
    assert_string_equal(u.role, "client");
    assert_int_equal(u.disabled, 1);
    assert_int_equal(store_user_set_access(f->s, "user-2", NULL, 0), 0);
    assert_int_equal(store_user_get(f->s, "user-2", &u), 0);
    assert_string_equal(u.role, "client");
    assert_int_equal(u.disabled, 0);
    assert_int_equal(store_user_set_access(f->s, "user-2", "", 5), 0); /* stored as 1 */
    assert_int_equal(store_user_get(f->s, "user-2", &u), 0);
    assert_int_equal(u.disabled, 1);
    assert_int_equal(store_user_set_access(f->s, "user-2", "admin", -1), 0);
    assert_int_equal(store_user_get(f->s, "user-2", &u), 0);
    assert_string_equal(u.role, "admin");
    assert_int_equal(u.disabled, 1); /* unchanged */
    assert_int_equal(store_user_set_access(f->s, "user-2", NULL, -1), 0); /* nothing to do */

    assert_int_equal(store_user_set_role(f->s, "nobody", "admin"), -ENOENT);
    assert_int_equal(store_user_set_access(f->s, "nobody", NULL, 1), -ENOENT);
    assert_int_equal(store_user_set_disabled(f->s, "nobody", 1), -ENOENT);
    assert_int_equal(store_user_set_role(f->s, "user-2", "root"), -EINVAL);
    assert_int_equal(store_user_set_role(f->s, "user-2", ""), -EINVAL);
    assert_int_equal(store_user_set_role(f->s, "user-2", NULL), -EINVAL);
    assert_int_equal(store_user_set_access(f->s, "user-2", "Admin", 0), -EINVAL);
    assert_int_equal(store_user_get(f->s, "user-2", &u), 0);
    assert_string_equal(u.role, "admin");
}

/* The platform never loses its last enabled admin through a role or disabled change. */
static void test_last_admin_guard(void **state)
{
    struct fix *f = *state;
    store_user u;
    create_pair(f->s, 1, "admin");
    create_pair(f->s, 2, "client");
    create_pair(f->s, 3, "admin");
    assert_int_equal(store_user_set_disabled(f->s, "user-3", 1), 0); /* one enabled left */
    assert_int_equal(store_user_set_role(f->s, "user-1", "client"), -EPERM);
    assert_int_equal(store_user_set_disabled(f->s, "user-1", 1), -EPERM);
    assert_int_equal(store_user_set_access(f->s, "user-1", "client", 1), -EPERM);
    assert_int_equal(store_user_set_access(f->s, "user-1", "admin", 1), -EPERM);
    assert_int_equal(store_user_set_access(f->s, "user-1", "client", 0), -EPERM);
    assert_int_equal(store_user_get(f->s, "user-1", &u), 0);
    assert_string_equal(u.role, "admin");
    assert_int_equal(u.disabled, 0);
    /* What keeps it an enabled admin is allowed; so is anything done to other users. */
    assert_int_equal(store_user_set_access(f->s, "user-1", "admin", 0), 0);
    assert_int_equal(store_user_set_disabled(f->s, "user-1", 0), 0);
    assert_int_equal(store_user_set_role(f->s, "user-3", "client"), 0); /* a disabled admin */
    assert_int_equal(store_user_set_disabled(f->s, "user-2", 1), 0);
    /* With a second enabled admin either may go, and then the other is the last. */
    assert_int_equal(store_user_set_access(f->s, "user-3", "admin", 0), 0);
    assert_int_equal(enabled_admins(f), 2);
    assert_int_equal(store_user_set_role(f->s, "user-1", "client"), 0);
    assert_int_equal(store_user_set_disabled(f->s, "user-3", 1), -EPERM);
    assert_int_equal(store_user_set_role(f->s, "user-3", "client"), -EPERM);
    assert_int_equal(enabled_admins(f), 1);
    assert_int_equal(store_user_get(f->s, "user-3", &u), 0);
    assert_string_equal(u.role, "admin");
    /* Without any enabled admin (a database made by hand) nothing is refused. */
    raw_exec(f, "UPDATE users SET disabled = 1 WHERE id = 'user-3'");
    assert_int_equal(store_user_set_disabled(f->s, "user-2", 0), 0);
    assert_int_equal(store_user_set_role(f->s, "user-3", "client"), 0);
}

#define RACE_ROUNDS 40

struct racer {
    store *s;
    pthread_barrier_t *start;
    const char *target;
    int use_disable;
    int ret;
};

static void *racer_run(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->start);
    r->ret = r->use_disable ? store_user_set_disabled(r->s, r->target, 1)
                            : store_user_set_role(r->s, r->target, "client");
    return NULL;
}

/* Two admins taking each other's admin role (or account) at the same moment, as two
 * dashboards could: exactly one wins, every time, so one enabled admin always remains. */
static void test_last_admin_race(void **state)
{
    struct fix *f = *state;
    pthread_barrier_t start;
    create_pair(f->s, 1, "admin");
    create_pair(f->s, 2, "admin");
    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    for (int round = 0; round < RACE_ROUNDS; round++) {
        struct racer a = {f->s, &start, "user-2", round % 2, 1};
        struct racer b = {f->s, &start, "user-1", round % 3 == 0, 1};
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, racer_run, &a), 0);
        assert_int_equal(pthread_create(&tb, NULL, racer_run, &b), 0);
        assert_int_equal(pthread_join(ta, NULL), 0);
        assert_int_equal(pthread_join(tb, NULL), 0);
        assert_true((a.ret == 0 && b.ret == -EPERM) || (a.ret == -EPERM && b.ret == 0));
        assert_int_equal(enabled_admins(f), 1);
        assert_int_equal(store_user_set_access(f->s, "user-1", "admin", 0), 0);
        assert_int_equal(store_user_set_access(f->s, "user-2", "admin", 0), 0);
    }
    pthread_barrier_destroy(&start);
}

static void test_admin_invalid_args(void **state)
{
    struct fix *f = *state;
    store_client c, *cl = &c;
    store_user u, *ul = &u;
    size_t n = 9;
    char longid[STORE_ID_MAX + 8];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';

    assert_int_equal(store_client_list(f->s, 0, &cl, &n), -EINVAL);
    assert_null(cl);
    assert_int_equal(n, 0);
    assert_int_equal(store_client_list(f->s, STORE_LIST_MAX + 1, &cl, &n), -EINVAL);
    assert_int_equal(store_client_list(f->s, -5, &cl, &n), -EINVAL);
    assert_int_equal(store_client_list(NULL, 10, &cl, &n), -EINVAL);
    assert_int_equal(store_client_list(f->s, 10, NULL, &n), -EINVAL);
    assert_int_equal(store_client_list(f->s, 10, &cl, NULL), -EINVAL);
    assert_int_equal(store_user_list(f->s, "", 0, &ul, &n), -EINVAL);
    assert_null(ul);
    assert_int_equal(store_user_list(f->s, "", STORE_LIST_MAX + 1, &ul, &n), -EINVAL);
    assert_int_equal(store_user_list(f->s, longid, 10, &ul, &n), -EINVAL);
    assert_int_equal(store_user_list(NULL, "", 10, &ul, &n), -EINVAL);
    assert_int_equal(store_user_list(f->s, "", 10, NULL, &n), -EINVAL);

    make_pair(1, "client", &c, &u);
    assert_int_equal(store_client_user_create(f->s, &c, &u), 0);
    assert_int_equal(store_client_update(NULL, &c), -EINVAL);
    assert_int_equal(store_client_update(f->s, NULL), -EINVAL);
    c.quota_containers = -1;
    assert_int_equal(store_client_update(f->s, &c), -EINVAL);
    make_pair(1, "client", &c, &u);
    c.quota_memory_mb = -1;
    assert_int_equal(store_client_update(f->s, &c), -EINVAL);
    make_pair(1, "client", &c, &u);
    c.quota_cpus = -0.5;
    assert_int_equal(store_client_update(f->s, &c), -EINVAL);
    c.quota_cpus = NAN;
    assert_int_equal(store_client_update(f->s, &c), -EINVAL);
    c.quota_cpus = INFINITY;
    assert_int_equal(store_client_update(f->s, &c), -EINVAL);
    make_pair(1, "client", &c, &u);
    c.plan[0] = '\0';
    assert_int_equal(store_client_update(f->s, &c), -EINVAL);
    make_pair(1, "client", &c, &u);
    c.id[0] = '\0';
    assert_int_equal(store_client_update(f->s, &c), -EINVAL);
    make_pair(1, "client", &c, &u);
    memset(c.name, 'n', sizeof c.name); /* no NUL inside the buffer */
    assert_int_equal(store_client_update(f->s, &c), -EINVAL);
    assert_int_equal(store_client_get(f->s, "client-1", &c), 0);
    assert_string_equal(c.plan, "starter"); /* none of it was written */
    assert_int_equal(c.quota_containers, 5);

    assert_int_equal(store_user_set_access(NULL, "user-1", "admin", 0), -EINVAL);
    assert_int_equal(store_user_set_access(f->s, NULL, "admin", 0), -EINVAL);
    assert_int_equal(store_user_set_access(f->s, "", "admin", 0), -EINVAL);
    assert_int_equal(store_user_set_access(f->s, longid, "admin", 0), -EINVAL);
    assert_int_equal(store_user_set_role(NULL, "user-1", "admin"), -EINVAL);
    assert_int_equal(store_user_set_disabled(NULL, "user-1", 1), -EINVAL);
}

#define STORE_CONTRACT_TESTS(setup, teardown)                                                      \
    cmocka_unit_test_setup_teardown(test_open_migrate_reopen, setup, teardown),                    \
        cmocka_unit_test_setup_teardown(test_client_user_create_and_get, setup, teardown),         \
        cmocka_unit_test_setup_teardown(test_duplicate_email_is_atomic, setup, teardown),          \
        cmocka_unit_test_setup_teardown(test_get_missing, setup, teardown),                        \
        cmocka_unit_test_setup_teardown(test_count_admins, setup, teardown),                       \
        cmocka_unit_test_setup_teardown(test_set_disabled, setup, teardown),                       \
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),                              \
        cmocka_unit_test_setup_teardown(test_audit_limit_bounds, setup, teardown),                 \
        cmocka_unit_test_setup_teardown(test_invalid_args, setup, teardown),                       \
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),               \
        cmocka_unit_test_setup_teardown(test_db_error_is_eio, setup, teardown),                    \
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(test_client_list, setup, teardown),                        \
        cmocka_unit_test_setup_teardown(test_client_update, setup, teardown),                      \
        cmocka_unit_test_setup_teardown(test_user_list, setup, teardown),                          \
        cmocka_unit_test_setup_teardown(test_user_set_access, setup, teardown),                    \
        cmocka_unit_test_setup_teardown(test_last_admin_guard, setup, teardown),                   \
        cmocka_unit_test_setup_teardown(test_last_admin_race, setup, teardown),                    \
        cmocka_unit_test_setup_teardown(test_admin_invalid_args, setup, teardown)

#endif
