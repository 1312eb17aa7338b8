/* The contract of store.h's assistant section (token accounts, their ledger, the commands
 * shown), run by every backend's test program after store_contract.h, whose fixture and
 * helpers (struct fix, raw_count, create_pair) it uses. */
#ifndef CLOUDYA_TEST_STORE_CONTRACT_ASSISTANT_H
#define CLOUDYA_TEST_STORE_CONTRACT_ASSISTANT_H

#define NOV1 1793491200LL /* 2026-11-01T00:00:00Z */
#define DEC1 1796083200LL /* 2026-12-01T00:00:00Z */
#define JAN1 1798761600LL /* 2027-01-01T00:00:00Z */

static void test_tokens_account_lifecycle(void **state)
{
    struct fix *f = *state;
    store_tokens t;
    create_pair(f->s, 1, "client");
    /* Opened on first use with the allowance, and the same on the next read. */
    assert_int_equal(store_tokens_account(f->s, "client-1", 1000, 200, NOV1 + 10, NOV1, DEC1, &t), 0);
    assert_int_equal(t.balance, 1000);
    assert_int_equal(t.allowance, 1000);
    assert_int_equal(t.used, 0);
    assert_int_equal(t.period_start, NOV1);
    assert_int_equal(t.period_end, DEC1);
    assert_int_equal(store_tokens_account(f->s, "client-1", 1000, 200, NOV1 + 20, NOV1, DEC1, &t), 0);
    assert_int_equal(t.balance, 1000);
    /* Charges: need is checked, used grows, a charge larger than what is left takes the rest. */
    assert_int_equal(store_tokens_add(f->s, "client-1", -300, 1, "usage", "c_1", "", NOV1 + 30, &t), 0);
    assert_int_equal(t.balance, 700);
    assert_int_equal(t.used, 300);
    assert_int_equal(store_tokens_add(f->s, "client-1", -10, 701, "usage", "c_2", "", NOV1 + 31, &t),
                     -ENOSPC);
    assert_int_equal(store_tokens_account(f->s, "client-1", 1000, 200, NOV1 + 32, NOV1, DEC1, &t), 0);
    assert_int_equal(t.balance, 700); /* nothing was written */
    assert_int_equal(store_tokens_add(f->s, "client-1", -900, 1, "usage", "c_3", "", NOV1 + 33, &t), 0);
    assert_int_equal(t.balance, 0);
    assert_int_equal(t.used, 1000);
    assert_int_equal(store_tokens_add(f->s, "client-1", -1, 1, "usage", "c_4", "", NOV1 + 34, &t),
                     -ENOSPC);
    /* A credit. */
    assert_int_equal(store_tokens_add(f->s, "client-1", 500, 0, "credit", "user-9", "gift", NOV1 + 40, &t), 0);
    assert_int_equal(t.balance, 500);
    assert_int_equal(t.used, 1000);
    /* A new month: the allowance plus at most the rollover; used starts again. */
    assert_int_equal(store_tokens_account(f->s, "client-1", 1000, 200, DEC1 + 5, DEC1, JAN1, &t), 0);
    assert_int_equal(t.balance, 1200);
    assert_int_equal(t.used, 0);
    assert_int_equal(t.period_start, DEC1);
    assert_int_equal(t.period_end, JAN1);
    /* A larger plan raises the balance by the difference; a smaller one keeps it. */
    assert_int_equal(store_tokens_account(f->s, "client-1", 50000, 10000, DEC1 + 6, DEC1, JAN1, &t), 0);
    assert_int_equal(t.balance, 50200);
    assert_int_equal(t.allowance, 50000);
    assert_int_equal(store_tokens_account(f->s, "client-1", 1000, 200, DEC1 + 7, DEC1, JAN1, &t), 0);
    assert_int_equal(t.balance, 50200);
    assert_int_equal(t.allowance, 1000);
    /* The ledger has every change, each with the balance after it. */
    assert_int_equal(raw_count(f, "SELECT count(*) FROM token_ledger WHERE client_id = 'client-1'"), 7);
    assert_int_equal(raw_count(f, "SELECT sum(delta) FROM token_ledger WHERE client_id = 'client-1'"),
                     50200);
    assert_int_equal(raw_count(f, "SELECT balance FROM token_ledger WHERE kind = 'period'"), 1200);
    assert_int_equal(raw_count(f, "SELECT delta FROM token_ledger WHERE ref = 'c_3'"), -700);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM token_ledger WHERE kind = 'credit' "
                                  "AND note = 'gift' AND ref = 'user-9'"),
                     1);
}

static void test_tokens_errors(void **state)
{
    struct fix *f = *state;
    store_tokens t;
    assert_int_equal(store_tokens_account(f->s, "nobody", 1000, 200, NOV1, NOV1, DEC1, &t), -ENOENT);
    create_pair(f->s, 2, "client");
    assert_int_equal(store_tokens_add(f->s, "client-2", -1, 1, "usage", "", "", NOV1, &t), -ENOENT);
    assert_int_equal(store_tokens_account(f->s, "client-2", -1, 0, NOV1, NOV1, DEC1, &t), -EINVAL);
    assert_int_equal(store_tokens_account(f->s, "client-2", 1, 0, NOV1, DEC1, NOV1, &t), -EINVAL);
    assert_int_equal(store_tokens_account(NULL, "client-2", 1, 0, NOV1, NOV1, DEC1, &t), -EINVAL);
    assert_int_equal(store_tokens_add(f->s, "client-2", -1, -1, "usage", "", "", NOV1, &t), -EINVAL);
    assert_int_equal(store_tokens_add(f->s, "client-2", -1, 1, "", "", "", NOV1, &t), -EINVAL);
}

struct charger {
    store *s;
    int ok, refused;
};

static void *charge_run(void *arg)
{
    struct charger *c = arg;
    for (int i = 0; i < 30; i++) {
        int ret = store_tokens_add(c->s, "client-3", -10, 10, "usage", "", "", NOV1 + 1, NULL);
        if (ret == 0)
            c->ok++;
        else if (ret == -ENOSPC)
            c->refused++;
    }
    return NULL;
}

/* 4 threads x 30 charges of 10 against 1000 tokens: exactly 100 succeed, nothing is lost. */
static void test_tokens_concurrent(void **state)
{
    struct fix *f = *state;
    store_tokens t;
    struct charger c[4];
    pthread_t th[4];
    create_pair(f->s, 3, "client");
    assert_int_equal(store_tokens_account(f->s, "client-3", 1000, 200, NOV1, NOV1, DEC1, &t), 0);
    for (int i = 0; i < 4; i++) {
        c[i] = (struct charger){.s = f->s};
        assert_int_equal(pthread_create(&th[i], NULL, charge_run, &c[i]), 0);
    }
    int ok = 0, refused = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        ok += c[i].ok;
        refused += c[i].refused;
    }
    assert_int_equal(ok, 100);
    assert_int_equal(refused, 20);
    assert_int_equal(store_tokens_account(f->s, "client-3", 1000, 200, NOV1 + 2, NOV1, DEC1, &t), 0);
    assert_int_equal(t.balance, 0);
    assert_int_equal(t.used, 1000);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM token_ledger WHERE kind = 'usage'"), 100);
}

static void test_commands(void **state)
{
    struct fix *f = *state;
    store_command *c = calloc(1, sizeof *c), *g = calloc(1, sizeof *g);
    assert_non_null(c);
    assert_non_null(g);
    create_pair(f->s, 4, "client");
    create_pair(f->s, 5, "client");
    snprintf(c->id, sizeof c->id, "%s", "c_abc");
    snprintf(c->client_id, sizeof c->client_id, "%s", "client-4");
    snprintf(c->user_id, sizeof c->user_id, "%s", "user-4");
    snprintf(c->risk, sizeof c->risk, "%s", "safe");
    snprintf(c->request, sizeof c->request, "%s", "liste les fichiers de /tmp");
    snprintf(c->action, sizeof c->action, "%s", "ls -la /tmp");
    c->created_at = NOV1;
    assert_int_equal(store_command_add(f->s, c), 0);
    assert_int_equal(store_command_add(f->s, c), -EEXIST);
    assert_int_equal(store_command_get(f->s, "client-4", "c_abc", g), 0);
    assert_string_equal(g->action, "ls -la /tmp");
    assert_string_equal(g->request, "liste les fichiers de /tmp");
    assert_string_equal(g->risk, "safe");
    assert_string_equal(g->user_id, "user-4");
    assert_int_equal(g->created_at, NOV1);
    assert_int_equal(g->executed_at, 0);
    /* Another tenant's command does not exist for this one. */
    assert_int_equal(store_command_get(f->s, "client-5", "c_abc", g), -ENOENT);
    assert_int_equal(store_command_claim(f->s, "client-5", "c_abc", NOV1 + 1), -ENOENT);
    /* Executed once. */
    assert_int_equal(store_command_claim(f->s, "client-4", "c_abc", NOV1 + 2), 0);
    assert_int_equal(store_command_claim(f->s, "client-4", "c_abc", NOV1 + 3), -EALREADY);
    assert_int_equal(store_command_get(f->s, "client-4", "c_abc", g), 0);
    assert_int_equal(g->executed_at, NOV1 + 2);
    assert_int_equal(store_command_claim(f->s, "client-4", "c_none", NOV1 + 3), -ENOENT);
    /* A run that could not start gives its claim back; only the claim of that time. */
    assert_int_equal(store_command_release(f->s, "client-4", "c_abc", NOV1 + 9), -ENOENT);
    assert_int_equal(store_command_release(f->s, "client-5", "c_abc", NOV1 + 2), -ENOENT);
    assert_int_equal(store_command_release(f->s, "client-4", "c_abc", NOV1 + 2), 0);
    assert_int_equal(store_command_get(f->s, "client-4", "c_abc", g), 0);
    assert_int_equal(g->executed_at, 0);
    assert_int_equal(store_command_claim(f->s, "client-4", "c_abc", NOV1 + 4), 0);
    assert_int_equal(store_command_release(f->s, "client-4", "c_abc", 0), -EINVAL);
    /* Bad input. */
    snprintf(c->id, sizeof c->id, "%s", "c_def");
    snprintf(c->risk, sizeof c->risk, "%s", "fine");
    assert_int_equal(store_command_add(f->s, c), -EINVAL);
    snprintf(c->risk, sizeof c->risk, "%s", "forbidden");
    c->action[0] = '\0';
    assert_int_equal(store_command_add(f->s, c), -EINVAL);
    /* A tenant that does not exist. */
    snprintf(c->action, sizeof c->action, "%s", "rm -rf /");
    snprintf(c->client_id, sizeof c->client_id, "%s", "client-none");
    assert_int_equal(store_command_add(f->s, c), -ENOENT);
    free(c);
    free(g);
}

#define STORE_ASSISTANT_TESTS(setup, teardown)                                                     \
    cmocka_unit_test_setup_teardown(test_tokens_account_lifecycle, setup, teardown),               \
        cmocka_unit_test_setup_teardown(test_tokens_errors, setup, teardown),                      \
        cmocka_unit_test_setup_teardown(test_tokens_concurrent, setup, teardown),                  \
        cmocka_unit_test_setup_teardown(test_commands, setup, teardown)

#endif
