/* Unit tests of store.h over the PostgreSQL backend: the backend-neutral contract
 * (store_contract.h, store_contract_containers.h) and what is PostgreSQL's own (schema and
 * indexes, concurrent migrations, connection errors, sessions killed under the store, a
 * server that goes away and comes back, a real server restart).
 *
 * The server: CLOUDYA_TEST_PG_URL, a libpq URL whose role may CREATE DATABASE (scripts/pg.sh
 * start prints one). Each test gets a database of its own, t_<16 hex>, dropped afterwards.
 * Without the variable every test is skipped. CLOUDYA_TEST_PG_DIR (the cluster directory of
 * scripts/pg.sh) enables the restart test. */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "store.h"

/* The test server's URL, split so that other databases and hosts can be named. */
static struct {
    char admin[512];    /* CLOUDYA_TEST_PG_URL itself */
    char head[512];     /* "postgresql://user:password@" */
    char hostport[256]; /* "127.0.0.1:5432" */
    char query[256];    /* "?sslmode=..." or "" */
} server;

struct fix {
    char db[24];    /* this test's database */
    char other[24]; /* a second one made by other_database_url, "" when none */
    char url[1024]; /* store_open's URL for db */
    store *s;       /* open on url with a pool of 4 (NULL for setup_empty) */
};

#define STORE_BACKEND_NAME "postgresql"

/* Fills server from the URL; -1 when it does not look like postgresql://...@host/... */
static int split_url(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p || strlen(url) >= sizeof server.admin) return -1;
    p += 3;
    const char *auth_end = p + strcspn(p, "/?");
    const char *host = p;
    for (const char *q = p; q < auth_end; q++)
        if (*q == '@') host = q + 1;
    const char *query = strchr(auth_end, '?');
    snprintf(server.admin, sizeof server.admin, "%s", url);
    snprintf(server.head, sizeof server.head, "%.*s", (int)(host - url), url);
    snprintf(server.hostport, sizeof server.hostport, "%.*s", (int)(auth_end - host), host);
    snprintf(server.query, sizeof server.query, "%s", query ? query : "");
    return 0;
}

/* The URL of database db on the test server, or through hostport when not NULL. */
static void db_url(char *out, size_t size, const char *hostport, const char *db)
{
    int n = snprintf(out, size, "%s%s/%s%s", server.head, hostport ? hostport : server.hostport,
                     db, server.query);
    assert_true(n > 0 && (size_t)n < size);
}

/* Runs sql (several statements allowed) on url, failing the test on any error; the last
 * result is handed back when res is not NULL. */
static void run_sql(const char *url, const char *sql, PGresult **res)
{
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK) fail_msg("connect: %s", PQerrorMessage(pg));
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    if (res)
        *res = r;
    else
        PQclear(r);
    PQfinish(pg);
}

static void raw_exec(struct fix *f, const char *sql)
{
    run_sql(f->url, sql, NULL);
}

static int64_t raw_count(struct fix *f, const char *sql)
{
    PGresult *r = NULL;
    int64_t n = -1;
    run_sql(f->url, sql, &r);
    if (PQntuples(r) > 0) n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

/* Makes a fresh database (name in db) on the test server. */
static void create_db(char db[24])
{
    unsigned char rnd[8];
    char sql[64];
    randombytes_buf(rnd, sizeof rnd);
    snprintf(db, 24, "t_");
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(db + 2 + i * 2, 3, "%02x", rnd[i]);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    run_sql(server.admin, sql, NULL);
}

static void drop_db(const char *db)
{
    char sql[80];
    if (!db[0]) return;
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
    run_sql(server.admin, sql, NULL);
}

/* A fresh, empty database; no store is open on it. */
static int setup_empty(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    if (!f) return -1;
    create_db(f->db);
    db_url(f->url, sizeof f->url, NULL, f->db);
    *state = f;
    return 0;
}

/* A fresh database with the store open on it (pool of 4), which migrated it. */
static int setup(void **state)
{
    char err[512];
    if (setup_empty(state) != 0) return -1;
    struct fix *f = *state;
    int ret = store_open(f->url, 4, &f->s, err, sizeof err);
    if (ret != 0) {
        fprintf(stderr, "store_open: %d %s\n", ret, err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    store_close(f->s);
    drop_db(f->db);
    drop_db(f->other);
    free(f);
    return 0;
}

#include "store_contract.h"
#include "store_contract_containers.h"
#include "store_contract_assistant.h"

/* The contract's second database: another database on the same server. */
static void other_database_url(struct fix *f, char *url, size_t size)
{
    create_db(f->other);
    db_url(url, size, NULL, f->other);
}

/* What another daemon's reservation does to the tenant: holds its clients row locked. */
static void *holder_run(void *arg)
{
    struct holder *h = arg;
    struct timespec ts = {h->hold_ms / 1000, (long)(h->hold_ms % 1000) * 1000000L};
    const char *params[1] = {h->client_id};
    PGconn *pg = PQconnectdb(h->f->url);
    PGresult *r = NULL;
    h->ok = PQstatus(pg) == CONNECTION_OK;
    if (h->ok) {
        PQclear(PQexec(pg, "BEGIN"));
        r = PQexecParams(pg, "SELECT 1 FROM clients WHERE id = $1 FOR UPDATE", 1, NULL, params,
                         NULL, NULL, 0);
        h->ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        PQclear(r);
    }
    pthread_barrier_wait(&h->locked);
    if (h->ok) {
        nanosleep(&ts, NULL);
        PQclear(PQexec(pg, "COMMIT"));
    }
    PQfinish(pg);
    return NULL;
}

/* ---- schema ------------------------------------------------------------------------------ */

/* The plan PostgreSQL picks for query, with sequential scans discouraged, as one string. */
static void plan(struct fix *f, const char *query, char *out, size_t size)
{
    char sql[512];
    PGresult *r = NULL;
    size_t used = 0;
    snprintf(sql, sizeof sql, "SET enable_seqscan = off; EXPLAIN %s", query);
    run_sql(f->url, sql, &r);
    out[0] = '\0';
    for (int i = 0; i < PQntuples(r) && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s\n", PQgetvalue(r, i, 0));
    PQclear(r);
}

static void test_pg_schema(void **state)
{
    struct fix *f = *state;
    char text[2048];
    assert_int_equal(raw_count(f, "SELECT count(*) FROM information_schema.columns "
                                  "WHERE table_name = 'containers' AND ((column_name = 'cpus' "
                                  "AND data_type = 'double precision') OR (column_name IN "
                                  "('created_at', 'updated_at', 'expires_at') AND data_type = "
                                  "'bigint') OR (column_name = 'owner' AND is_nullable = 'NO'))"),
                     5);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM information_schema.columns WHERE "
                                  "table_name = 'audit_log' AND column_name = 'id' "
                                  "AND is_identity = 'YES'"),
                     1);
    /* 0002's indexes, the partial unique one on docker_id in byte order; 0001's plain one is
     * gone. */
    assert_int_equal(raw_count(f, "SELECT count(*) FROM pg_indexes WHERE tablename = "
                                  "'containers' AND indexname IN ('containers_client_state', "
                                  "'containers_client_created', 'containers_docker_id')"),
                     2);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM pg_indexes WHERE indexname = "
                                  "'containers_docker_id_unique' AND indexdef LIKE "
                                  "'CREATE UNIQUE INDEX%(docker_id text_pattern_ops) WHERE "
                                  "(docker_id IS NOT NULL)'"),
                     1);
    /* That index serves prefixes, written as LIKE or as the store's byte-order range. */
    plan(f, "SELECT id FROM containers WHERE docker_id LIKE 'abcdef012345%'", text, sizeof text);
    assert_non_null(strstr(text, "containers_docker_id_unique"));
    plan(f, "SELECT id FROM containers WHERE docker_id ~>=~ 'abcdef012345' AND "
            "docker_id ~<~ 'abcdef012346'",
         text, sizeof text);
    assert_non_null(strstr(text, "containers_docker_id_unique"));
    /* The migrations ran in one transaction each, under the advisory lock, and are not run
     * again by a second store on the same database. */
    store *s2 = NULL;
    char err[256];
    assert_int_equal(store_open(f->url, 1, &s2, err, sizeof err), 0);
    assert_int_equal(store_schema_version(s2), 3);
    store_close(s2);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM schema_version"), 3);
}

/* ---- concurrent first opens -------------------------------------------------------------- */

#define OPENERS 8

struct opener {
    const char *url;
    pthread_barrier_t *go;
    store *s;
    int ret;
    char err[256];
};

static void *opener_run(void *arg)
{
    struct opener *o = arg;
    pthread_barrier_wait(o->go);
    o->ret = store_open(o->url, 2, &o->s, o->err, sizeof o->err);
    return NULL;
}

/* Daemons starting together on an empty database: every one opens, each migration runs
 * exactly once (a second run of 0001 would fail on its CREATE TABLEs). */
static void test_concurrent_opens(void **state)
{
    struct fix *f = *state;
    struct opener o[OPENERS];
    pthread_t th[OPENERS];
    pthread_barrier_t go;
    assert_int_equal(pthread_barrier_init(&go, NULL, OPENERS), 0);
    for (int i = 0; i < OPENERS; i++) {
        o[i] = (struct opener){.url = f->url, .go = &go};
        assert_int_equal(pthread_create(&th[i], NULL, opener_run, &o[i]), 0);
    }
    for (int i = 0; i < OPENERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < OPENERS; i++) {
        if (o[i].ret != 0) fail_msg("opener %d: %d %s", i, o[i].ret, o[i].err);
        assert_int_equal(store_schema_version(o[i].s), 3);
        store_close(o[i].s);
    }
    assert_int_equal(raw_count(f, "SELECT count(*) FROM schema_version"), 3);
    assert_int_equal(raw_count(f, "SELECT count(DISTINCT version) FROM schema_version"), 3);
}

/* ---- opening errors ---------------------------------------------------------------------- */

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* store_open on url must fail (-EINVAL when want_einval), fast, with a sentence that holds
 * must (when not NULL) and never secret. */
static void open_fails(const char *url, int want_einval, const char *must, const char *secret)
{
    char err[512] = "";
    store *s = NULL;
    double t0 = now_mono();
    int ret = store_open(url, 4, &s, err, sizeof err);
    assert_true(ret < 0);
    if (want_einval) assert_int_equal(ret, -EINVAL);
    assert_null(s);
    assert_true(now_mono() - t0 < 3.0);
    assert_true(err[0] != '\0');
    if (must && !strstr(err, must)) fail_msg("\"%s\" lacks \"%s\"", err, must);
    assert_null(strstr(err, secret));
}

static void test_open_errors(void **state)
{
    (void)state;
    char url[1024], head[512];
    /* Nobody listens: the sentence names host, port and database. */
    open_fails("postgresql://cloudya:s3cret-pw@127.0.0.1:1/nodb?connect_timeout=1", 0,
               "(host 127.0.0.1, port 1, database nodb)", "s3cret-pw");
    open_fails("postgres://cloudya:s3cret-pw@127.0.0.1:1/nodb", 0, "port 1", "s3cret-pw");
    /* Malformed: libpq's own message may quote the URL, so it is not repeated. */
    open_fails("postgresql://cloudya:s3cret-pw@127.0.0.1:1/nodb?no_such_param=1", 1,
               "cannot be parsed", "s3cret-pw");
    open_fails("postgresql://cloudya:s3cret-pw@127.0.0.1:1/nodb?sslmode=sometimes", 0, "sslmode",
               "s3cret-pw");
    /* The right server, a wrong password. */
    const char *user = strstr(server.head, "://") + 3;
    size_t ulen = strcspn(user, ":@");
    int n = snprintf(head, sizeof head, "%.*s:wr0ng-Passw0rd@", (int)(user + ulen - server.head),
                     server.head);
    assert_true(n > 0 && (size_t)n < sizeof head);
    n = snprintf(url, sizeof url, "%s%s/cloudya%s", head, server.hostport, server.query);
    assert_true(n > 0 && (size_t)n < sizeof url);
    open_fails(url, 0, "authentication", "wr0ng-Passw0rd");
}

/* ---- sessions that die under the store --------------------------------------------------- */

#define CALLERS 4

struct writer {
    store *s;
    pthread_barrier_t *go;
    int ret;
};

/* A write that is not idempotent: after a lost answer it would not be run again. */
static void *audit_run(void *arg)
{
    struct writer *k = arg;
    store_audit a;
    memset(&a, 0, sizeof a);
    snprintf(a.action, sizeof a.action, "%s", "test.write");
    pthread_barrier_wait(k->go);
    k->ret = store_audit_add(k->s, &a);
    return NULL;
}

/* CALLERS audit rows at once, so that the pool has CALLERS sessions in use; returns how many
 * calls succeeded. */
static int parallel_writes(store *s)
{
    struct writer k[CALLERS];
    pthread_t th[CALLERS];
    pthread_barrier_t go;
    int ok = 0;
    assert_int_equal(pthread_barrier_init(&go, NULL, CALLERS), 0);
    for (int i = 0; i < CALLERS; i++) {
        k[i] = (struct writer){.s = s, .go = &go};
        assert_int_equal(pthread_create(&th[i], NULL, audit_run, &k[i]), 0);
    }
    for (int i = 0; i < CALLERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        ok += k[i].ret == 0;
    }
    pthread_barrier_destroy(&go);
    return ok;
}

/* Ends every other session on the test's database and waits until they are gone. */
static void terminate_sessions(struct fix *f)
{
    raw_exec(f, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                "datname = current_database() AND pid <> pg_backend_pid()");
    for (int i = 0; i < 500; i++) {
        if (raw_count(f, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                         "current_database() AND pid <> pg_backend_pid()") == 0)
            return;
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    }
    fail_msg("the sessions did not end");
}

/* An administrator (or a failover) ends the store's sessions while they are idle: the server
 * tells them so, and the next calls, even writes that are never replayed, reconnect and
 * succeed. */
static void test_terminated_sessions(void **state)
{
    struct fix *f = *state;
    store_user u;
    create_pair(f->s, 1, "client");
    assert_int_equal(parallel_writes(f->s), CALLERS);
    terminate_sessions(f);
    assert_int_equal(parallel_writes(f->s), CALLERS);
    terminate_sessions(f);
    assert_int_equal(reserve(f->s, "ctr-1", "client-1", "web"), 0);
    assert_int_equal(store_container_set_state(f->s, "ctr-1", "creating", "running"), 0);
    assert_int_equal(store_user_get(f->s, "user-1", &u), 0);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM audit_log"), 2 * CALLERS);
}

/* ---- a session killed while its call waits on the server ----------------------------- */

enum blocked_call { BLOCKED_SET_STATE, BLOCKED_UPDATE, BLOCKED_RESERVE };

struct blocked {
    store *s;
    enum blocked_call what;
    int ret;
};

static void *blocked_run(void *arg)
{
    struct blocked *b = arg;
    store_container c;
    if (b->what == BLOCKED_SET_STATE) {
        b->ret = store_container_set_state(b->s, "ctr-1", "creating", "running");
    } else if (b->what == BLOCKED_UPDATE) {
        b->ret = store_container_get(b->s, "ctr-1", &c);
        docker_id(c.docker_id, "d1", 'e');
        snprintf(c.state, sizeof c.state, "%s", "running");
        if (b->ret == 0) b->ret = store_container_update(b->s, &c);
    } else {
        b->ret = reserve(b->s, "ctr-2", "client-1", "api");
    }
    return NULL;
}

/* The pid of a session of f's database that waits on a lock (other than not_pid), polled for
 * up to timeout seconds; 0 when there is none. */
static int64_t waiting_session(struct fix *f, int64_t not_pid, double timeout)
{
    char sql[256];
    double t0 = now_mono();
    snprintf(sql, sizeof sql,
             "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = "
             "current_database() AND wait_event_type = 'Lock' AND pid <> %lld",
             (long long)not_pid);
    do {
        int64_t pid = raw_count(f, sql);
        if (pid) return pid;
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    } while (now_mono() - t0 < timeout);
    return 0;
}

/* Runs call `what` while another connection holds the row lock_sql locks, kills the store's
 * session as soon as it waits for that lock, checks whether the call came back on a new
 * session (want_replay) or not, then lets the lock go. Returns the call's answer. */
static int killed_mid_call(struct fix *f, enum blocked_call what, const char *lock_sql,
                           int want_replay)
{
    struct blocked b = {.s = f->s, .what = what};
    pthread_t th;
    char sql[64];
    PGconn *locker = PQconnectdb(f->url);
    assert_int_equal(PQstatus(locker), CONNECTION_OK);
    PQclear(PQexec(locker, "BEGIN"));
    PGresult *r = PQexec(locker, lock_sql);
    assert_int_equal(PQntuples(r), 1);
    PQclear(r);
    assert_int_equal(pthread_create(&th, NULL, blocked_run, &b), 0);
    int64_t pid = waiting_session(f, 0, 5.0);
    assert_true(pid > 0);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)pid);
    raw_exec(f, sql);
    if (want_replay)
        assert_true(waiting_session(f, pid, 5.0) > 0);
    else
        assert_int_equal(waiting_session(f, pid, 0.5), 0);
    PQclear(PQexec(locker, "COMMIT"));
    PQfinish(locker);
    assert_int_equal(pthread_join(th, NULL), 0);
    return b.ret;
}

/* A session that dies with a statement in flight: a write sent outside a transaction may or
 * may not have been applied, so it is not run again (-EIO); an idempotent write and a
 * transaction cut before its COMMIT are run again on a new session. Nothing half-applied. */
static void test_killed_mid_call(void **state)
{
    struct fix *f = *state;
    store_container g;
    char d1[STORE_DOCKER_ID_MAX];
    create_pair(f->s, 1, "client");
    assert_int_equal(reserve(f->s, "ctr-1", "client-1", "web"), 0);

    fprintf(stderr, "(a log line about a failed connection is expected next)\n");
    assert_int_equal(killed_mid_call(f, BLOCKED_SET_STATE,
                                     "SELECT 1 FROM containers WHERE id = 'ctr-1' FOR UPDATE", 0),
                     -EIO);
    assert_int_equal(store_container_get(f->s, "ctr-1", &g), 0);
    assert_string_equal(g.state, "creating"); /* the server rolled it back with the session */

    assert_int_equal(killed_mid_call(f, BLOCKED_UPDATE,
                                     "SELECT 1 FROM containers WHERE id = 'ctr-1' FOR UPDATE", 1),
                     0);
    docker_id(d1, "d1", 'e');
    assert_int_equal(store_container_get(f->s, "ctr-1", &g), 0);
    assert_string_equal(g.docker_id, d1);
    assert_string_equal(g.state, "running");

    assert_int_equal(killed_mid_call(f, BLOCKED_RESERVE,
                                     "SELECT 1 FROM clients WHERE id = 'client-1' FOR UPDATE", 1),
                     0);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM containers"), 2);
    assert_int_equal(store_container_set_state(f->s, "ctr-2", "creating", "running"), 0);
}

/* ---- a server that goes away: a TCP relay the test can cut ---------------------------- */

#define RELAY_PAIRS 32

struct relay {
    int port;                 /* where it listens (chosen at the first start) */
    struct sockaddr_storage to;
    socklen_t tolen;
    int lfd, stop[2];
    int fds[RELAY_PAIRS][2];  /* client side, server side; -1 when unused */
    pthread_t th;
};

static void relay_close_pair(struct relay *r, int i)
{
    close(r->fds[i][0]);
    close(r->fds[i][1]);
    r->fds[i][0] = r->fds[i][1] = -1;
}

static void relay_accept(struct relay *r)
{
    int c = accept(r->lfd, NULL, NULL), up;
    if (c < 0) return;
    up = socket(r->to.ss_family, SOCK_STREAM, 0);
    if (up < 0 || connect(up, (struct sockaddr *)&r->to, r->tolen) != 0) {
        close(c);
        if (up >= 0) close(up);
        return;
    }
    for (int i = 0; i < RELAY_PAIRS; i++) {
        if (r->fds[i][0] < 0) {
            r->fds[i][0] = c;
            r->fds[i][1] = up;
            return;
        }
    }
    close(c);
    close(up);
}

/* Copies bytes both ways until told to stop, then closes everything: to the store, the
 * server has vanished (connections reset, nobody listening). */
static void *relay_run(void *arg)
{
    struct relay *r = arg;
    for (;;) {
        struct pollfd p[2 + RELAY_PAIRS * 2];
        int n = 0;
        p[n++] = (struct pollfd){.fd = r->stop[0], .events = POLLIN};
        p[n++] = (struct pollfd){.fd = r->lfd, .events = POLLIN};
        for (int i = 0; i < RELAY_PAIRS; i++)
            for (int side = 0; side < 2; side++)
                p[n++] = (struct pollfd){.fd = r->fds[i][side], .events = POLLIN};
        if (poll(p, (nfds_t)n, -1) < 0) continue;
        if (p[0].revents) break;
        if (p[1].revents) relay_accept(r);
        for (int i = 0; i < RELAY_PAIRS; i++) {
            for (int side = 0; side < 2 && r->fds[i][0] >= 0; side++) {
                char buf[16384];
                if (!p[2 + i * 2 + side].revents) continue;
                ssize_t got = read(r->fds[i][side], buf, sizeof buf);
                if (got <= 0 || send(r->fds[i][!side], buf, (size_t)got, MSG_NOSIGNAL) != got)
                    relay_close_pair(r, i);
            }
        }
    }
    for (int i = 0; i < RELAY_PAIRS; i++)
        if (r->fds[i][0] >= 0) relay_close_pair(r, i);
    close(r->lfd);
    return NULL;
}

/* Listens on 127.0.0.1:r->port (any free port the first time) and relays to the server. */
static void relay_start(struct relay *r)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port)};
    socklen_t alen = sizeof a;
    int one = 1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < RELAY_PAIRS; i++)
        r->fds[i][0] = r->fds[i][1] = -1;
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(r->lfd >= 0);
    assert_int_equal(setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    assert_int_equal(bind(r->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(r->lfd, 64), 0);
    assert_int_equal(getsockname(r->lfd, (struct sockaddr *)&a, &alen), 0);
    r->port = ntohs(a.sin_port);
    assert_int_equal(pipe(r->stop), 0);
    assert_int_equal(pthread_create(&r->th, NULL, relay_run, r), 0);
}

static void relay_stop(struct relay *r)
{
    assert_int_equal(write(r->stop[1], "x", 1), 1);
    assert_int_equal(pthread_join(r->th, NULL), 0);
    close(r->stop[0]);
    close(r->stop[1]);
}

/* Where the test server listens, for the relay. */
static void relay_target(struct relay *r)
{
    char host[256];
    const char *port = "5432";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    snprintf(host, sizeof host, "%s", server.hostport);
    char *colon = strrchr(host, ':');
    if (colon && !strchr(colon, ']')) {
        *colon = '\0';
        port = colon + 1;
    }
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    assert_int_equal(getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &ai), 0);
    memcpy(&r->to, ai->ai_addr, ai->ai_addrlen);
    r->tolen = ai->ai_addrlen;
    freeaddrinfo(ai);
}

/* While the server is gone every call fails promptly with -EIO (a ping included: health
 * checks must not hang); once it is back the same store recovers by itself. */
static void test_server_gone_and_back(void **state)
{
    struct fix *f = *state;
    struct relay r = {0};
    char url[1024], hostport[32], err[512], id[STORE_ID_MAX];
    store *s = NULL;
    store_user u;
    create_pair(f->s, 1, "client");
    relay_target(&r);
    relay_start(&r);
    snprintf(hostport, sizeof hostport, "127.0.0.1:%d", r.port);
    db_url(url, sizeof url, hostport, f->db);
    assert_int_equal(store_open(url, 2, &s, err, sizeof err), 0);
    assert_int_equal(parallel_writes(s), CALLERS);
    assert_int_equal(store_instance_id(s, id), 0);

    relay_stop(&r);
    fprintf(stderr, "(log lines about an unavailable database are expected next)\n");
    for (int i = 0; i < 3; i++) {
        double t0 = now_mono();
        assert_int_equal(store_ping(s), -EIO);
        assert_int_equal(store_user_get(s, "user-1", &u), -EIO);
        assert_int_equal(store_token_revoke(s, "jti-gone", 1), -EIO);
        assert_true(now_mono() - t0 < 2.0);
    }
    assert_int_equal(parallel_writes(s), 0);

    relay_start(&r);
    assert_int_equal(store_ping(s), 0);
    assert_int_equal(store_user_get(s, "user-1", &u), 0);
    assert_int_equal(parallel_writes(s), CALLERS);
    assert_int_equal(store_instance_id(s, id), 0);
    store_close(s);
    relay_stop(&r);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM audit_log"), 2 * CALLERS);
}

/* ---- a real server restart ----------------------------------------------------------------- */

/* scripts/pg.sh, found from this file's path (relative to the build directory, where the test
 * binary lives, when the compiler was given a relative one). */
static int pg_script(char *out, size_t size)
{
    char base[PATH_MAX], exe[PATH_MAX];
    const char *marker = "tests/unit/store/";
    if (__FILE__[0] == '/') {
        snprintf(base, sizeof base, "%s", __FILE__);
    } else {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) return -1;
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        int len = snprintf(base, sizeof base, "%s/%s", exe, __FILE__);
        if (len < 0 || (size_t)len >= sizeof base) return -1;
    }
    char *m = strstr(base, marker);
    if (!m) return -1;
    *m = '\0';
    int n = snprintf(out, size, "%sscripts/pg.sh", base);
    if (n < 0 || (size_t)n >= size) return -1;
    return access(out, X_OK);
}

/* scripts/pg.sh restart dir: a fast shutdown (sessions get 57P01) and a start on the same
 * port. */
static void restart_server(const char *script, const char *dir)
{
    int status = -1;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(script, script, "restart", dir, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

enum step { STEP_AUDIT, STEP_RESERVE, STEP_SET_STATE, STEP_USER_GET, STEP_PING };

static int do_step(store *s, enum step what, int round)
{
    store_user u;
    char id[32];
    snprintf(id, sizeof id, "ctr-r%d", round);
    switch (what) {
    case STEP_AUDIT:
        return parallel_writes(s) == CALLERS ? 0 : -EIO;
    case STEP_RESERVE:
        return reserve(s, id, "client-1", id);
    case STEP_SET_STATE:
        return store_container_set_state(s, "ctr-0", NULL, round % 2 ? "running" : "stopped");
    case STEP_USER_GET:
        return store_user_get(s, "user-1", &u);
    default:
        return store_ping(s);
    }
}

/* After each restart the first call either succeeds or answers -EIO (never a crash, never a
 * hang), and the next one succeeds. */
static void test_server_restart(void **state)
{
    struct fix *f = *state;
    const char *dir = getenv("CLOUDYA_TEST_PG_DIR");
    const char *names[] = {"audit_add x4 (write)", "container_reserve (write, transaction)",
                           "container_set_state (write)", "user_get (read)", "ping"};
    char script[PATH_MAX];
    if (!dir || !dir[0]) {
        print_message("skipped: CLOUDYA_TEST_PG_DIR not set\n");
        skip();
    }
    assert_int_equal(pg_script(script, sizeof script), 0);
    make_client(f->s, 1, 100, 100000, 100);
    assert_int_equal(reserve(f->s, "ctr-0", "client-1", "web"), 0);
    for (int round = 0; round < 5; round++) {
        enum step what = (enum step)round;
        assert_int_equal(do_step(f->s, what, 100 + round), 0); /* sessions are open */
        restart_server(script, dir);
        int first = do_step(f->s, what, round);
        print_message("restart %d: first %s after the restart -> %s\n", round + 1, names[round],
                      first == 0 ? "ok" : first == -EIO ? "-EIO" : "other");
        if (first != 0) {
            assert_int_equal(first, -EIO);
            assert_int_equal(do_step(f->s, what, round + 10), 0);
        }
        assert_int_equal(store_ping(f->s), 0);
    }
}

static void test_skipped(void **state)
{
    (void)state;
    skip();
}

int main(void)
{
    const char *url = getenv("CLOUDYA_TEST_PG_URL");
    if (sodium_init() < 0) return 1; /* database names and str_new_id draw on it */
    if (!url || !url[0]) {
        printf("skipped: CLOUDYA_TEST_PG_URL not set\n");
        const struct CMUnitTest none[] = {cmocka_unit_test(test_skipped)};
        return cmocka_run_group_tests(none, NULL, NULL);
    }
    if (split_url(url) != 0) {
        fprintf(stderr, "CLOUDYA_TEST_PG_URL is not a postgresql://user@host/db URL\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        STORE_CONTRACT_TESTS(setup, teardown),
        STORE_ASSISTANT_TESTS(setup, teardown),
        STORE_CONTAINER_CONTRACT_TESTS(setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_opens, setup_empty, teardown),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test_setup_teardown(test_terminated_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_mid_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_gone_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
