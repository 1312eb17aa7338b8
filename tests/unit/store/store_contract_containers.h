/* The contract of store.h's containers section, as test bodies that every backend's test
 * program runs (test_store_containers.c for SQLite, test_store_pg.c): the same calls must
 * give the same answers, and the same races the same outcomes, whichever database is behind
 * them.
 *
 * The includer provides what store_contract.h asks for (struct fix, raw_exec, raw_count;
 * raw_exec may be given several statements separated by ';'), and, after including this
 * file, two hooks: other_database_url(f, url, size), the URL of a second, empty database
 * (removed with f's), and holder_run(struct holder *) (see store_contract_concurrency.h). It registers the tests with
 * STORE_CONTAINER_CONTRACT_TESTS(setup, teardown); main must call sodium_init() (str_new_id
 * draws on libsodium's generator). */
#ifndef CLOUDYA_TEST_STORE_CONTRACT_CONTAINERS_H
#define CLOUDYA_TEST_STORE_CONTRACT_CONTAINERS_H
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

static void other_database_url(struct fix *f, char *url, size_t size);

/* Creates tenant "client-<n>" (and its user) with the given quotas. */
static void make_client(store *s, int n, int containers, int memory_mb, double cpus)
{
    store_client c;
    store_user u;
    memset(&c, 0, sizeof c);
    memset(&u, 0, sizeof u);
    snprintf(c.id, sizeof c.id, "client-%d", n);
    snprintf(c.name, sizeof c.name, "Client %d", n);
    snprintf(c.plan, sizeof c.plan, "%s", "starter");
    c.quota_containers = containers;
    c.quota_memory_mb = memory_mb;
    c.quota_cpus = cpus;
    snprintf(u.id, sizeof u.id, "user-%d", n);
    snprintf(u.email, sizeof u.email, "user%d@example.com", n);
    snprintf(u.role, sizeof u.role, "%s", "client");
    snprintf(u.password_hash, sizeof u.password_hash, "%s", "$argon2id$x");
    assert_int_equal(store_client_user_create(s, &c, &u), 0);
}

static void make_ctr(store_container *c, const char *id, const char *client, const char *name,
                     int memory_mb, double cpus)
{
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->client_id, sizeof c->client_id, "%s", client);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->service_type, sizeof c->service_type, "%s", "nginx");
    snprintf(c->image, sizeof c->image, "%s", "nginx:1.27");
    c->memory_mb = memory_mb;
    c->cpus = cpus;
}

/* Reserves a small container and returns 0 or the errno. */
static int reserve(store *s, const char *id, const char *client, const char *name)
{
    store_container c;
    enum store_quota_hit hit;
    make_ctr(&c, id, client, name, 64, 0.1);
    return store_container_reserve(s, &c, &hit);
}

/* A 64-hex Docker id: head followed by fill up to 64 characters. */
static void docker_id(char out[STORE_DOCKER_ID_MAX], const char *head, char fill)
{
    size_t len = strlen(head);
    memset(out, fill, STORE_DOCKER_ID_MAX - 1);
    memcpy(out, head, len);
    out[STORE_DOCKER_ID_MAX - 1] = '\0';
}

/* Gives row id a Docker id and a state through store_container_update. */
static void set_docker(store *s, const char *id, const char *did, const char *state)
{
    store_container c;
    assert_int_equal(store_container_get(s, id, &c), 0);
    snprintf(c.docker_id, sizeof c.docker_id, "%s", did);
    snprintf(c.state, sizeof c.state, "%s", state);
    assert_int_equal(store_container_update(s, &c), 0);
}

/* What store_container_find resolves ref to: the row's id, "ENOENT", or "error <n>". */
static const char *find(store *s, const char *client, const char *name_client, const char *ref)
{
    static char buf[STORE_ID_MAX];
    store_container g;
    int ret = store_container_find(s, client, name_client, ref, &g);
    if (ret == 0)
        snprintf(buf, sizeof buf, "%s", g.id);
    else if (ret == -ENOENT)
        snprintf(buf, sizeof buf, "%s", "ENOENT");
    else
        snprintf(buf, sizeof buf, "error %d", ret);
    return buf;
}

static void test_reserve_and_get(void **state)
{
    struct fix *f = *state;
    store_container c, g;
    enum store_quota_hit hit = STORE_QUOTA_CPUS;
    time_t before = time(NULL);
    make_client(f->s, 1, 5, 1024, 2.0);
    make_ctr(&c, "ctr000000000001", "client-1", "web", 256, 0.5);
    /* Fields the store sets are ignored, even without a NUL. */
    memset(c.docker_id, 'x', sizeof c.docker_id);
    memset(c.url, 'x', sizeof c.url);
    memset(c.state, 'x', sizeof c.state);
    c.host_port = 8080;
    c.expires_at = 1900000000;
    assert_int_equal(store_container_reserve(f->s, &c, &hit), 0);
    assert_int_equal(hit, STORE_QUOTA_NONE);
    assert_string_equal(c.state, "creating");
    assert_string_equal(c.docker_id, "");
    assert_string_equal(c.url, "");
    assert_int_equal(c.host_port, 0);
    assert_true(c.created_at >= before && c.updated_at == c.created_at);

    assert_int_equal(store_container_get(f->s, "ctr000000000001", &g), 0);
    assert_string_equal(g.id, "ctr000000000001");
    assert_string_equal(g.client_id, "client-1");
    assert_string_equal(g.name, "web");
    assert_string_equal(g.service_type, "nginx");
    assert_string_equal(g.image, "nginx:1.27");
    assert_string_equal(g.docker_id, "");
    assert_string_equal(g.state, "creating");
    assert_int_equal(g.host_port, 0);
    assert_string_equal(g.url, "");
    assert_int_equal(g.memory_mb, 256);
    assert_true(g.cpus == 0.5);
    assert_int_equal(g.created_at, c.created_at);
    assert_int_equal(g.updated_at, c.updated_at);
    assert_int_equal(g.expires_at, 1900000000);
    /* "none" is NULL in the table. */
    assert_int_equal(raw_count(f, "SELECT count(*) FROM containers WHERE docker_id IS NULL "
                                  "AND url IS NULL AND host_port IS NULL"),
                     1);

    /* hit may be NULL; expires_at 0 (never) is stored as NULL and reads back as 0. */
    make_ctr(&c, "ctr000000000002", "client-1", "db", 256, 0.5);
    assert_int_equal(store_container_reserve(f->s, &c, NULL), 0);
    assert_int_equal(store_container_get(f->s, "ctr000000000002", &g), 0);
    assert_int_equal(g.expires_at, 0);
    assert_int_equal(store_container_get(f->s, "ctr-missing", &g), -ENOENT);
}

static void test_reserve_errors(void **state)
{
    struct fix *f = *state;
    store_container c;
    enum store_quota_hit hit = STORE_QUOTA_NONE;
    make_client(f->s, 1, 2, 1024, 1.0);
    make_ctr(&c, "ctr-a", "client-9", "web", 64, 0.1);
    assert_int_equal(store_container_reserve(f->s, &c, &hit), -ENOENT);
    assert_int_equal(hit, STORE_QUOTA_NONE);

    assert_int_equal(reserve(f->s, "ctr-a", "client-1", "web"), 0);
    assert_int_equal(reserve(f->s, "ctr-b", "client-1", "web"), -EEXIST); /* name taken */
    assert_int_equal(reserve(f->s, "ctr-a", "client-1", "api"), -EEXIST); /* id taken */
    assert_int_equal(raw_count(f, "SELECT count(*) FROM containers"), 1);

    /* A failed reservation leaves c as it was. */
    make_ctr(&c, "ctr-c", "client-1", "big", 2048, 0.1);
    assert_int_equal(store_container_reserve(f->s, &c, &hit), -EDQUOT);
    assert_int_equal(hit, STORE_QUOTA_MEMORY);
    assert_string_equal(c.state, "");
    assert_int_equal(c.created_at, 0);
    make_ctr(&c, "ctr-c", "client-1", "hot", 64, 1.0);
    assert_int_equal(store_container_reserve(f->s, &c, &hit), -EDQUOT);
    assert_int_equal(hit, STORE_QUOTA_CPUS);
    assert_int_equal(reserve(f->s, "ctr-c", "client-1", "two"), 0);
    /* Over every quota at once: the count is reported. */
    make_ctr(&c, "ctr-d", "client-1", "three", 4096, 9.0);
    assert_int_equal(store_container_reserve(f->s, &c, &hit), -EDQUOT);
    assert_int_equal(hit, STORE_QUOTA_CONTAINERS);
    assert_int_equal(store_container_reserve(f->s, &c, NULL), -EDQUOT);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM containers"), 2);

    /* A quota of 0 containers admits none. */
    make_client(f->s, 2, 0, 1024, 1.0);
    assert_int_equal(reserve(f->s, "ctr-e", "client-2", "web"), -EDQUOT);
}

/* Reserves id (also its name) for client with the given size; *hit as the store set it. */
static int reserve_sized(store *s, const char *id, const char *client, int memory_mb, double cpus,
                         enum store_quota_hit *hit)
{
    store_container c;
    make_ctr(&c, id, client, id, memory_mb, cpus);
    return store_container_reserve(s, &c, hit);
}

static void test_quota_memory_and_cpus(void **state)
{
    struct fix *f = *state;
    enum store_quota_hit hit;
    char id[32];
    int count = -1, memory = -1;
    double cpus = -1;

    /* Memory: exactly the quota fits, one more MB does not. */
    make_client(f->s, 1, 100, 2048, 100);
    assert_int_equal(reserve_sized(f->s, "m1", "client-1", 1024, 0, &hit), 0);
    assert_int_equal(reserve_sized(f->s, "m2", "client-1", 1025, 0, &hit), -EDQUOT);
    assert_int_equal(hit, STORE_QUOTA_MEMORY);
    assert_int_equal(reserve_sized(f->s, "m2", "client-1", 1024, 0, &hit), 0);
    assert_int_equal(reserve_sized(f->s, "m3", "client-1", 1, 0, &hit), -EDQUOT);
    assert_int_equal(hit, STORE_QUOTA_MEMORY);
    assert_int_equal(reserve_sized(f->s, "m3", "client-1", 0, 0, &hit), 0);

    /* CPUs: ten times 0.1 sums to 0.9999999999999999 and fits 1.0; 0.1 + 0.2 is
     * 0.30000000000000004, over 0.3 by less than the epsilon, and fits too. */
    make_client(f->s, 2, 100, 100000, 1.0);
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "c%d", i);
        assert_int_equal(reserve_sized(f->s, id, "client-2", 1, 0.1, &hit), 0);
    }
    assert_int_equal(reserve_sized(f->s, "c10", "client-2", 1, 0.1, &hit), -EDQUOT);
    assert_int_equal(hit, STORE_QUOTA_CPUS);
    assert_int_equal(reserve_sized(f->s, "c10", "client-2", 1, 0.0, &hit), 0);

    make_client(f->s, 3, 100, 100000, 0.3);
    assert_int_equal(reserve_sized(f->s, "p1", "client-3", 1, 0.1, &hit), 0);
    assert_int_equal(reserve_sized(f->s, "p2", "client-3", 1, 0.2, &hit), 0);
    assert_int_equal(reserve_sized(f->s, "p3", "client-3", 1, 0.00001, &hit), -EDQUOT);
    assert_int_equal(hit, STORE_QUOTA_CPUS);

    assert_int_equal(store_container_usage(f->s, "client-3", &count, NULL, &memory, &cpus), 0);
    assert_int_equal(count, 2);
    assert_int_equal(memory, 2);
    assert_true(cpus > 0.3 - 1e-9 && cpus < 0.3 + 1e-9);
}

static void test_removed_name_reuse(void **state)
{
    struct fix *f = *state;
    store_container g;
    int count = -1;
    make_client(f->s, 1, 1, 1024, 1.0);
    assert_int_equal(reserve(f->s, "ctr-old", "client-1", "web"), 0);
    assert_int_equal(reserve(f->s, "ctr-x", "client-1", "other"), -EDQUOT);
    assert_int_equal(store_container_set_state(f->s, "ctr-old", NULL, "removed"), 0);
    assert_int_equal(store_container_usage(f->s, "client-1", &count, NULL, NULL, NULL), 0);
    assert_int_equal(count, 0);
    /* The removed row frees both the quota and the name; it is deleted by the reservation. */
    assert_int_equal(reserve(f->s, "ctr-new", "client-1", "web"), 0);
    assert_int_equal(store_container_get(f->s, "ctr-old", &g), -ENOENT);
    assert_int_equal(store_container_get(f->s, "ctr-new", &g), 0);
    assert_string_equal(g.name, "web");
    assert_string_equal(g.state, "creating");
    /* A row in any other state keeps its name. */
    assert_int_equal(store_container_set_state(f->s, "ctr-new", NULL, "error"), 0);
    assert_int_equal(reserve(f->s, "ctr-3", "client-1", "web"), -EDQUOT);
    raw_exec(f, "UPDATE clients SET quota_containers = 5 WHERE id = 'client-1'");
    assert_int_equal(reserve(f->s, "ctr-3", "client-1", "web"), -EEXIST);
    /* A removed row of another tenant with the same name is not touched. */
    make_client(f->s, 2, 5, 1024, 1.0);
    assert_int_equal(reserve(f->s, "ctr-b", "client-2", "db"), 0);
    assert_int_equal(store_container_set_state(f->s, "ctr-b", NULL, "removed"), 0);
    assert_int_equal(reserve(f->s, "ctr-4", "client-1", "db"), 0);
    assert_int_equal(store_container_get(f->s, "ctr-b", &g), 0);
    assert_string_equal(g.state, "removed");
}

static void test_find(void **state)
{
    struct fix *f = *state;
    store_container g;
    char d1[STORE_DOCKER_ID_MAX], d2[STORE_DOCKER_ID_MAX], d3[STORE_DOCKER_ID_MAX];
    char ref[STORE_DOCKER_ID_MAX + 1];
    make_client(f->s, 1, 10, 4096, 4.0);
    assert_int_equal(reserve(f->s, "ctr-1", "client-1", "web"), 0);
    assert_int_equal(reserve(f->s, "ctr-2", "client-1", "api"), 0);
    assert_int_equal(reserve(f->s, "ctr-3", "client-1", "db"), 0);
    assert_int_equal(reserve(f->s, "ctr-4", "client-1", "cache"), 0);
    docker_id(d1, "aaaaaaaaaaaa1", '0');
    docker_id(d2, "aaaaaaaaaaaa2", '0'); /* shares 12 characters with d1 */
    docker_id(d3, "0123456789abcdef", 'f');
    set_docker(f->s, "ctr-1", d1, "running");
    set_docker(f->s, "ctr-2", d2, "running");
    set_docker(f->s, "ctr-3", d3, "exited");

    /* Full id, unique prefixes (12 and 63 characters), names. */
    assert_string_equal(find(f->s, "client-1", "client-1", d1), "ctr-1");
    assert_string_equal(find(f->s, "client-1", "client-1", "0123456789ab"), "ctr-3");
    snprintf(ref, sizeof ref, "%.63s", d2);
    assert_string_equal(find(f->s, "client-1", "client-1", ref), "ctr-2");
    snprintf(ref, sizeof ref, "%.13s", d1);
    assert_string_equal(find(f->s, "client-1", "client-1", ref), "ctr-1");
    assert_int_equal(store_container_find(f->s, "client-1", "client-1", "api", &g), 0);
    assert_string_equal(g.id, "ctr-2");
    assert_string_equal(g.docker_id, d2);
    /* A row still "creating" without a Docker id is found by name. */
    assert_string_equal(find(f->s, "client-1", "client-1", "cache"), "ctr-4");

    /* An ambiguous prefix finds nothing; so do a short one, upper case and unknown ids. */
    assert_string_equal(find(f->s, "client-1", "client-1", "aaaaaaaaaaaa"), "ENOENT");
    assert_string_equal(find(f->s, "client-1", "client-1", "0123456789a"), "ENOENT");
    assert_string_equal(find(f->s, "client-1", "client-1", "0123456789AB"), "ENOENT");
    docker_id(ref, "bbbb", '0');
    assert_string_equal(find(f->s, "client-1", "client-1", ref), "ENOENT");
    assert_string_equal(find(f->s, "client-1", "client-1", "nope"), "ENOENT");
    /* A prefix is a prefix: the range ends before the next value ("...aa" must not reach
     * "...ab..."), and starts after the previous one ("...ac" must not reach "...ab..."). */
    assert_string_equal(find(f->s, "client-1", "client-1", "0123456789aa"), "ENOENT");
    assert_string_equal(find(f->s, "client-1", "client-1", "0123456789ac"), "ENOENT");
    /* LIKE characters are just characters. */
    assert_string_equal(find(f->s, "client-1", "client-1", "%"), "ENOENT");
    assert_string_equal(find(f->s, "client-1", "client-1", "aaaaaaaaaaa_"), "ENOENT");

    /* A name made of 12+ hex digits: ids and prefixes win, then the name is tried, also
     * when the prefix is ambiguous. */
    assert_int_equal(reserve(f->s, "ctr-5", "client-1", "aaaaaaaaaaaa"), 0);
    assert_string_equal(find(f->s, "client-1", "client-1", "aaaaaaaaaaaa"), "ctr-5");
    assert_int_equal(reserve(f->s, "ctr-6", "client-1", "0123456789ab"), 0);
    assert_string_equal(find(f->s, "client-1", "client-1", "0123456789ab"), "ctr-3");
    assert_int_equal(reserve(f->s, "ctr-7", "client-1", "ccccccccccccc"), 0);
    assert_string_equal(find(f->s, "client-1", "client-1", "ccccccccccccc"), "ctr-7");

    /* Removed rows are still found (their history matters to the reconciler). */
    assert_int_equal(store_container_set_state(f->s, "ctr-3", NULL, "removed"), 0);
    assert_int_equal(store_container_find(f->s, "client-1", "client-1", d3, &g), 0);
    assert_string_equal(g.state, "removed");
}

static void test_find_tenant_isolation(void **state)
{
    struct fix *f = *state;
    store_container *rows = NULL;
    size_t n = 0;
    char da[STORE_DOCKER_ID_MAX], db[STORE_DOCKER_ID_MAX], ref[16];
    make_client(f->s, 1, 10, 4096, 4.0); /* A */
    make_client(f->s, 2, 10, 4096, 4.0); /* B */
    make_client(f->s, 3, 10, 4096, 4.0); /* the admin's own tenant */
    assert_int_equal(reserve(f->s, "ctr-a", "client-1", "web"), 0);
    assert_int_equal(reserve(f->s, "ctr-b", "client-2", "site"), 0);
    docker_id(da, "abcdef0123451", '1');
    docker_id(db, "abcdef0123452", '2'); /* the same 12-character prefix as da */
    set_docker(f->s, "ctr-a", da, "running");
    set_docker(f->s, "ctr-b", db, "running");
    snprintf(ref, sizeof ref, "%.12s", da);

    /* B never reaches A's container, by id, prefix or name. */
    assert_string_equal(find(f->s, "client-2", "client-2", da), "ENOENT");
    assert_string_equal(find(f->s, "client-2", "client-2", "abcdef0123451"), "ENOENT");
    assert_string_equal(find(f->s, "client-2", "client-2", "web"), "ENOENT");
    assert_string_equal(find(f->s, "client-2", "client-1", "web"), "ENOENT");
    /* Within one tenant the shared prefix is unique: the other tenant's row does not make it
     * ambiguous (and so reveals nothing). */
    assert_string_equal(find(f->s, "client-2", "client-2", ref), "ctr-b");
    assert_string_equal(find(f->s, "client-1", "client-1", ref), "ctr-a");

    /* An admin ("" = every tenant) finds ids and prefixes anywhere, names only at home. */
    assert_string_equal(find(f->s, "", "client-3", da), "ctr-a");
    assert_string_equal(find(f->s, "", "client-3", "abcdef0123452"), "ctr-b");
    assert_string_equal(find(f->s, "", "client-3", ref), "ENOENT");
    assert_string_equal(find(f->s, "", "client-3", "web"), "ENOENT");
    assert_string_equal(find(f->s, "", "client-1", "web"), "ctr-a");
    assert_string_equal(find(f->s, "", "", "web"), "ENOENT");

    assert_int_equal(store_container_list(f->s, "client-2", "", &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "ctr-b");
    free(rows);
    assert_int_equal(store_container_list(f->s, "client-3", NULL, &rows, &n), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
}

static void test_list(void **state)
{
    struct fix *f = *state;
    store_container *rows = NULL;
    size_t n = 0;
    make_client(f->s, 1, 10, 4096, 4.0);
    make_client(f->s, 2, 10, 4096, 4.0);
    assert_int_equal(reserve(f->s, "ctr-c", "client-1", "c"), 0);
    assert_int_equal(reserve(f->s, "ctr-a", "client-1", "a"), 0);
    assert_int_equal(reserve(f->s, "ctr-b", "client-2", "b"), 0);
    assert_int_equal(reserve(f->s, "ctr-d", "client-1", "d"), 0);
    raw_exec(f, "UPDATE containers SET created_at = 100 WHERE id IN ('ctr-c', 'ctr-a');"
                "UPDATE containers SET created_at = 50 WHERE id = 'ctr-d';"
                "UPDATE containers SET created_at = 75 WHERE id = 'ctr-b'");
    assert_int_equal(store_container_set_state(f->s, "ctr-a", NULL, "running"), 0);
    assert_int_equal(store_container_set_state(f->s, "ctr-b", NULL, "running"), 0);

    /* Oldest first, then by id. */
    assert_int_equal(store_container_list(f->s, "", "", &rows, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(rows[0].id, "ctr-d");
    assert_string_equal(rows[1].id, "ctr-b");
    assert_string_equal(rows[2].id, "ctr-a");
    assert_string_equal(rows[3].id, "ctr-c");
    assert_string_equal(rows[2].state, "running");
    assert_string_equal(rows[2].image, "nginx:1.27");
    free(rows);
    assert_int_equal(store_container_list(f->s, "client-1", NULL, &rows, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].id, "ctr-d");
    free(rows);
    assert_int_equal(store_container_list(f->s, "", "running", &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "ctr-b");
    assert_string_equal(rows[1].id, "ctr-a");
    free(rows);
    assert_int_equal(store_container_list(f->s, "client-1", "running", &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "ctr-a");
    free(rows);
    assert_int_equal(store_container_list(f->s, "client-1", "error", &rows, &n), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
    assert_int_equal(store_container_list(f->s, "client-9", "", &rows, &n), 0);
    assert_int_equal(n, 0);

    /* Many rows: the array grows past its first allocation. */
    raw_exec(f, "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k "
                "WHERE i < 500) INSERT INTO containers (id, client_id, name, service_type, "
                "image, state, memory_mb, cpus, created_at, updated_at) SELECT "
                "'bulk' || i, 'client-2', 'bulk' || i, 't', 'i', 'exited', 1, 0, 200, 200 "
                "FROM k");
    assert_int_equal(store_container_list(f->s, "client-2", "exited", &rows, &n), 0);
    assert_int_equal(n, 500);
    assert_string_equal(rows[0].id, "bulk1");
    assert_string_equal(rows[1].id, "bulk10"); /* same created_at: by id */
    free(rows);
}

static void test_update(void **state)
{
    struct fix *f = *state;
    store_container c, g;
    char d1[STORE_DOCKER_ID_MAX];
    time_t before = time(NULL);
    make_client(f->s, 1, 10, 4096, 4.0);
    assert_int_equal(reserve(f->s, "ctr-1", "client-1", "web"), 0);
    assert_int_equal(reserve(f->s, "ctr-2", "client-1", "api"), 0);
    raw_exec(f, "UPDATE containers SET updated_at = 1");
    docker_id(d1, "d1", 'e');

    assert_int_equal(store_container_get(f->s, "ctr-1", &c), 0);
    snprintf(c.docker_id, sizeof c.docker_id, "%s", d1);
    snprintf(c.state, sizeof c.state, "%s", "running");
    snprintf(c.url, sizeof c.url, "%s", "http://localhost:32768");
    snprintf(c.name, sizeof c.name, "%s", "renamed"); /* not written */
    c.memory_mb = 9999;                               /* not written */
    c.host_port = 32768;
    c.expires_at = 2000000000;
    assert_int_equal(store_container_update(f->s, &c), 0);
    assert_int_equal(store_container_get(f->s, "ctr-1", &g), 0);
    assert_string_equal(g.docker_id, d1);
    assert_string_equal(g.state, "running");
    assert_string_equal(g.url, "http://localhost:32768");
    assert_string_equal(g.name, "web");
    assert_int_equal(g.memory_mb, 64);
    assert_int_equal(g.host_port, 32768);
    assert_int_equal(g.expires_at, 2000000000);
    assert_true(g.updated_at >= before);
    assert_int_equal(raw_count(f, "SELECT updated_at FROM containers WHERE id = 'ctr-2'"), 1);

    /* Another row cannot take the same Docker id. */
    assert_int_equal(store_container_get(f->s, "ctr-2", &c), 0);
    snprintf(c.docker_id, sizeof c.docker_id, "%s", d1);
    assert_int_equal(store_container_update(f->s, &c), -EEXIST);

    /* Back to "none": NULL in the table, "" and 0 when read. */
    assert_int_equal(store_container_get(f->s, "ctr-1", &c), 0);
    c.docker_id[0] = '\0';
    c.url[0] = '\0';
    c.host_port = 0;
    c.expires_at = 0;
    assert_int_equal(store_container_update(f->s, &c), 0);
    assert_int_equal(store_container_get(f->s, "ctr-1", &g), 0);
    assert_string_equal(g.docker_id, "");
    assert_int_equal(g.host_port, 0);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM containers WHERE docker_id IS NULL "
                                  "AND url IS NULL AND host_port IS NULL "
                                  "AND expires_at IS NULL"),
                     2);

    snprintf(c.id, sizeof c.id, "%s", "ctr-gone");
    assert_int_equal(store_container_update(f->s, &c), -ENOENT);
}

static void test_ctr_delete(void **state)
{
    struct fix *f = *state;
    store_container g;
    make_client(f->s, 1, 10, 4096, 4.0);
    assert_int_equal(reserve(f->s, "ctr-1", "client-1", "web"), 0);
    assert_int_equal(store_container_delete(f->s, "ctr-1"), 0);
    assert_int_equal(store_container_get(f->s, "ctr-1", &g), -ENOENT);
    assert_int_equal(store_container_delete(f->s, "ctr-1"), -ENOENT);
    assert_int_equal(reserve(f->s, "ctr-2", "client-1", "web"), 0); /* the name is free */
}

/* One step of the lifecycle: the transition succeeds from the right state only. */
static void transition(store *s, const char *id, const char *from, const char *wrong_from,
                       const char *to)
{
    store_container g;
    assert_int_equal(store_container_get(s, id, &g), 0);
    char before[STORE_STATE_MAX];
    snprintf(before, sizeof before, "%s", g.state);
    assert_int_equal(store_container_set_state(s, id, wrong_from, to), -EAGAIN);
    assert_int_equal(store_container_get(s, id, &g), 0);
    assert_string_equal(g.state, before);
    assert_int_equal(store_container_set_state(s, id, from, to), 0);
    assert_int_equal(store_container_get(s, id, &g), 0);
    assert_string_equal(g.state, to);
}

static void test_set_state(void **state)
{
    struct fix *f = *state;
    store_container g;
    make_client(f->s, 1, 10, 4096, 4.0);
    assert_int_equal(reserve(f->s, "ctr-1", "client-1", "web"), 0);
    raw_exec(f, "UPDATE containers SET updated_at = 1");

    /* The lifecycle, with the from lists the platform uses and a wrong one each time. */
    transition(f->s, "ctr-1", "creating", "created,running", "created");
    transition(f->s, "ctr-1", "created,stopped,exited", "creating", "running");
    transition(f->s, "ctr-1", "running", "stopped,exited,created", "stopped");
    transition(f->s, "ctr-1", "created,stopped,exited", "running", "running");
    transition(f->s, "ctr-1", "running,created", "exited", "exited");
    transition(f->s, "ctr-1", "created,running,stopped,exited,error", "creating,removing",
               "removing");
    /* Elements are compared whole: "removed" does not match the row's "removing". */
    transition(f->s, "ctr-1", "removing", "removed", "removed");
    assert_int_equal(store_container_get(f->s, "ctr-1", &g), 0);
    assert_true(g.updated_at > 1);

    /* "" and NULL accept any state. */
    assert_int_equal(store_container_set_state(f->s, "ctr-1", "", "error"), 0);
    assert_int_equal(store_container_set_state(f->s, "ctr-1", NULL, "stopped"), 0);
    assert_int_equal(store_container_set_state(f->s, "ctr-1", "stopped", "stopped"), 0);
    assert_int_equal(store_container_set_state(f->s, "ctr-gone", NULL, "running"), -ENOENT);
    assert_int_equal(store_container_set_state(f->s, "ctr-gone", "running", "stopped"), -ENOENT);

    /* from lists must name real states; the new state too. */
    const char *bad_from[] = {"running,", ",running", "running,,created", "run", "stopped ,ok",
                              "RUNNING",  ","};
    for (size_t i = 0; i < sizeof bad_from / sizeof bad_from[0]; i++)
        assert_int_equal(store_container_set_state(f->s, "ctr-1", bad_from[i], "running"), -EINVAL);
    assert_int_equal(store_container_set_state(f->s, "ctr-1", NULL, "bogus"), -EINVAL);
    assert_int_equal(store_container_set_state(f->s, "ctr-1", NULL, ""), -EINVAL);
    assert_int_equal(store_container_set_state(f->s, "ctr-1", NULL, NULL), -EINVAL);
    assert_int_equal(store_container_get(f->s, "ctr-1", &g), 0);
    assert_string_equal(g.state, "stopped");
}

static void test_usage(void **state)
{
    struct fix *f = *state;
    store_container c;
    enum store_quota_hit hit;
    int count = -1, running = -1, memory = -1;
    double cpus = -1;
    make_client(f->s, 1, 10, 4096, 4.0);
    make_client(f->s, 2, 10, 4096, 4.0);
    assert_int_equal(store_container_usage(f->s, "client-1", &count, &running, &memory, &cpus), 0);
    assert_true(count == 0 && running == 0 && memory == 0 && cpus == 0.0);
    const struct {
        const char *id, *client, *state;
        int mem;
        double cpus;
    } rows[] = {
        {"u1", "client-1", "running", 512, 0.5},   {"u2", "client-1", "running", 256, 0.25},
        {"u3", "client-1", "stopped", 128, 1.0},   {"u4", "client-1", "removed", 1000, 2.0},
        {"u5", "client-1", "creating", 64, 0.125}, {"u6", "client-2", "running", 999, 1.5},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        make_ctr(&c, rows[i].id, rows[i].client, rows[i].id, rows[i].mem, rows[i].cpus);
        assert_int_equal(store_container_reserve(f->s, &c, &hit), 0);
        assert_int_equal(store_container_set_state(f->s, rows[i].id, NULL, rows[i].state), 0);
    }
    assert_int_equal(store_container_usage(f->s, "client-1", &count, &running, &memory, &cpus), 0);
    assert_int_equal(count, 4);
    assert_int_equal(running, 2);
    assert_int_equal(memory, 512 + 256 + 128 + 64);
    assert_true(cpus == 0.5 + 0.25 + 1.0 + 0.125);
    assert_int_equal(store_container_usage(f->s, "client-2", &count, &running, NULL, NULL), 0);
    assert_int_equal(count, 1);
    assert_int_equal(running, 1);
    assert_int_equal(store_container_usage(f->s, "client-9", &count, &running, &memory, &cpus), 0);
    assert_true(count == 0 && running == 0 && memory == 0 && cpus == 0.0);
}

static void test_instance_id(void **state)
{
    struct fix *f = *state;
    char a[STORE_ID_MAX], b[STORE_ID_MAX], other[STORE_ID_MAX], err[256];
    assert_int_equal(raw_count(f, "SELECT count(*) FROM meta"), 0);
    assert_int_equal(store_instance_id(f->s, a), 0);
    assert_int_equal(strlen(a), 15);
    assert_memory_equal(a, "ins", 3);
    for (size_t i = 3; i < 15; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    assert_int_equal(store_instance_id(f->s, b), 0);
    assert_string_equal(a, b);
    for (int i = 0; i < 2; i++) {
        store_close(f->s);
        f->s = NULL;
        assert_int_equal(store_open(f->url, 2, &f->s, err, sizeof err), 0);
        assert_int_equal(store_instance_id(f->s, b), 0);
        assert_string_equal(a, b);
    }
    assert_int_equal(raw_count(f, "SELECT count(*) FROM meta"), 1);

    /* Another database is another instance. */
    char url[512];
    store *s2 = NULL;
    other_database_url(f, url, sizeof url);
    assert_int_equal(store_open(url, 1, &s2, err, sizeof err), 0);
    assert_int_equal(store_instance_id(s2, other), 0);
    assert_string_not_equal(a, other);
    store_close(s2);
}

static void test_ctr_db_error_is_eio(void **state)
{
    struct fix *f = *state;
    char id[STORE_ID_MAX] = "x";
    raw_exec(f, "DROP TABLE meta");
    fprintf(stderr, "(an error log line about meta is expected next)\n");
    assert_int_equal(store_instance_id(f->s, id), -EIO);
    assert_string_equal(id, "");
}

static void test_ctr_invalid_args(void **state)
{
    struct fix *f = *state;
    store_container c, g, *rows = (store_container *)&g;
    enum store_quota_hit hit = STORE_QUOTA_CPUS;
    size_t n = 7;
    int count;
    char id[STORE_ID_MAX], longref[STORE_DOCKER_ID_MAX + 1];
    memset(longref, 'a', sizeof longref - 1);
    longref[sizeof longref - 1] = '\0';
    make_client(f->s, 1, 10, 4096, 4.0);

    /* reserve: empty or unterminated fields, negative or non-finite sizes */
    make_ctr(&c, "ctr-1", "client-1", "web", 64, 0.1);
    assert_int_equal(store_container_reserve(NULL, &c, &hit), -EINVAL);
    assert_int_equal(hit, STORE_QUOTA_NONE);
    assert_int_equal(store_container_reserve(f->s, NULL, &hit), -EINVAL);
    const size_t empty[] = {offsetof(store_container, id), offsetof(store_container, client_id),
                            offsetof(store_container, name),
                            offsetof(store_container, service_type),
                            offsetof(store_container, image)};
    for (size_t i = 0; i < 12; i++) {
        make_ctr(&c, "ctr-1", "client-1", "web", 64, 0.1);
        if (i < 5) ((char *)&c)[empty[i]] = '\0';
        if (i == 5) memset(c.name, 'a', sizeof c.name);
        if (i == 6) memset(c.image, 'a', sizeof c.image);
        if (i == 7) c.memory_mb = -1;
        if (i == 8) c.cpus = -0.1;
        if (i == 9) c.cpus = NAN;
        if (i == 10) c.cpus = INFINITY;
        if (i == 11) c.expires_at = -1;
        assert_int_equal(store_container_reserve(f->s, &c, &hit), -EINVAL);
    }
    assert_int_equal(raw_count(f, "SELECT count(*) FROM containers"), 0);

    /* get, delete */
    assert_int_equal(store_container_get(NULL, "ctr-1", &g), -EINVAL);
    assert_int_equal(store_container_get(f->s, NULL, &g), -EINVAL);
    assert_int_equal(store_container_get(f->s, "", &g), -EINVAL);
    assert_int_equal(store_container_get(f->s, longref, &g), -EINVAL);
    assert_int_equal(store_container_get(f->s, "ctr-1", NULL), -EINVAL);
    assert_int_equal(store_container_delete(NULL, "ctr-1"), -EINVAL);
    assert_int_equal(store_container_delete(f->s, NULL), -EINVAL);
    assert_int_equal(store_container_delete(f->s, ""), -EINVAL);

    /* find: ref is 1..64 bytes; NULL tenants never mean "every tenant". */
    assert_int_equal(store_container_find(NULL, "", "", "web", &g), -EINVAL);
    assert_int_equal(store_container_find(f->s, NULL, "client-1", "web", &g), -EINVAL);
    assert_int_equal(store_container_find(f->s, "client-1", NULL, "web", &g), -EINVAL);
    assert_int_equal(store_container_find(f->s, "client-1", "client-1", NULL, &g), -EINVAL);
    assert_int_equal(store_container_find(f->s, "client-1", "client-1", "", &g), -EINVAL);
    assert_int_equal(store_container_find(f->s, "client-1", "client-1", longref, &g), -EINVAL);
    assert_int_equal(store_container_find(f->s, "client-1", "client-1", "web", NULL), -EINVAL);

    /* list */
    assert_int_equal(store_container_list(f->s, NULL, "", &rows, &n), -EINVAL);
    assert_null(rows);
    assert_int_equal(n, 0);
    assert_int_equal(store_container_list(f->s, "", "bogus", &rows, &n), -EINVAL);
    assert_int_equal(store_container_list(f->s, "", "running,created", &rows, &n), -EINVAL);
    assert_int_equal(store_container_list(f->s, "", "", NULL, &n), -EINVAL);
    assert_int_equal(store_container_list(f->s, "", "", &rows, NULL), -EINVAL);
    assert_int_equal(store_container_list(NULL, "", "", &rows, &n), -EINVAL);
    assert_int_equal(store_container_list(f->s, longref, "", &rows, &n), -EINVAL);

    /* update */
    assert_int_equal(reserve(f->s, "ctr-1", "client-1", "web"), 0);
    assert_int_equal(store_container_update(NULL, &c), -EINVAL);
    assert_int_equal(store_container_update(f->s, NULL), -EINVAL);
    const char *bad_ids[] = {"abc", /* not 64 */
                             "ABCDEF0000000000000000000000000000000000000000000000000000000000",
                             "g000000000000000000000000000000000000000000000000000000000000000",
                             "000000000000000000000000000000000000000000000000000000000000000"};
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(store_container_get(f->s, "ctr-1", &c), 0);
        if (i < 4) snprintf(c.docker_id, sizeof c.docker_id, "%s", bad_ids[i]);
        if (i == 4) memset(c.docker_id, 'a', sizeof c.docker_id);
        if (i == 5) snprintf(c.state, sizeof c.state, "%s", "paused");
        if (i == 6) c.host_port = 65536;
        if (i == 7) c.host_port = -1;
        if (i == 8) c.expires_at = -5;
        if (i == 9) memset(c.url, 'u', sizeof c.url);
        assert_int_equal(store_container_update(f->s, &c), -EINVAL);
    }
    assert_int_equal(store_container_get(f->s, "ctr-1", &c), 0);
    c.id[0] = '\0';
    assert_int_equal(store_container_update(f->s, &c), -EINVAL);

    /* set_state, usage, instance id */
    assert_int_equal(store_container_set_state(NULL, "ctr-1", NULL, "running"), -EINVAL);
    assert_int_equal(store_container_set_state(f->s, NULL, NULL, "running"), -EINVAL);
    assert_int_equal(store_container_set_state(f->s, "ctr-1", longref, "running"), -EINVAL);
    assert_int_equal(store_container_usage(NULL, "client-1", &count, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(store_container_usage(f->s, NULL, &count, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(store_container_usage(f->s, "", &count, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(store_instance_id(NULL, id), -EINVAL);
    assert_string_equal(id, "");
    assert_int_equal(store_instance_id(f->s, NULL), -EINVAL);
    assert_int_equal(store_container_get(f->s, "ctr-1", &g), 0);
    assert_string_equal(g.state, "creating");
}

/* The races and lock waits of the same section. */
#include "store_contract_concurrency.h"

#define STORE_CONTAINER_CONTRACT_TESTS(setup, teardown)                                            \
    cmocka_unit_test_setup_teardown(test_reserve_and_get, setup, teardown),                        \
        cmocka_unit_test_setup_teardown(test_reserve_errors, setup, teardown),                     \
        cmocka_unit_test_setup_teardown(test_quota_memory_and_cpus, setup, teardown),              \
        cmocka_unit_test_setup_teardown(test_removed_name_reuse, setup, teardown),                 \
        cmocka_unit_test_setup_teardown(test_find, setup, teardown),                               \
        cmocka_unit_test_setup_teardown(test_find_tenant_isolation, setup, teardown),              \
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),                               \
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(test_ctr_delete, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(test_set_state, setup, teardown),                          \
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),                              \
        cmocka_unit_test_setup_teardown(test_instance_id, setup, teardown),                        \
        STORE_CONCURRENCY_CONTRACT_TESTS(setup, teardown),                                         \
        cmocka_unit_test_setup_teardown(test_ctr_db_error_is_eio, setup, teardown),                \
        cmocka_unit_test_setup_teardown(test_ctr_invalid_args, setup, teardown)

#endif
