/* Unit tests for src/assistant/billing.c: the plans' allowances and execution rights, the
 * calendar-month periods (month ends, December into January, leap years) and the word count
 * that stands for tokens offline. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "billing.h"

static void test_plans(void **state)
{
    (void)state;
    assert_int_equal(billing_allowance("free"), 1000);
    assert_int_equal(billing_allowance("starter"), 10000);
    assert_int_equal(billing_allowance("pro"), 50000);
    assert_int_equal(billing_allowance("enterprise"), 200000);
    assert_int_equal(billing_allowance("gold"), -1);
    assert_int_equal(billing_allowance(""), -1);
    assert_int_equal(billing_allowance(NULL), -1);
    assert_false(billing_can_execute("free"));
    assert_false(billing_can_execute("starter"));
    assert_true(billing_can_execute("pro"));
    assert_true(billing_can_execute("enterprise"));
    assert_false(billing_can_execute("Pro"));
    assert_false(billing_can_execute(NULL));
}

static void test_periods(void **state)
{
    (void)state;
    int64_t s, e;
    billing_period(1795234567, &s, &e); /* 2026-11-21 */
    assert_int_equal(s, 1793491200);    /* 2026-11-01 */
    assert_int_equal(e, 1796083200);    /* 2026-12-01 */
    billing_period(1796083200, &s, &e); /* exactly 2026-12-01T00:00:00Z */
    assert_int_equal(s, 1796083200);
    assert_int_equal(e, 1798761600);    /* 2027-01-01 */
    billing_period(1798761599, &s, &e); /* 2026-12-31T23:59:59Z */
    assert_int_equal(s, 1796083200);
    assert_int_equal(e, 1798761600);
    billing_period(1709164800, &s, &e); /* 2024-02-29 */
    assert_int_equal(s, 1706745600);    /* 2024-02-01 */
    assert_int_equal(e, 1709251200);    /* 2024-03-01 */
    billing_period(0, &s, &e);
    assert_int_equal(s, 0);
    assert_int_equal(e, 2678400);       /* 1970-02-01 */
}

static void test_words(void **state)
{
    (void)state;
    assert_int_equal(billing_words(NULL), 0);
    assert_int_equal(billing_words(""), 0);
    assert_int_equal(billing_words("   \t\n"), 0);
    assert_int_equal(billing_words("kubectl"), 1);
    assert_int_equal(billing_words("  scale my  deployment\tweb\nto 5 replicas "), 7);
    assert_int_equal(billing_words("Créer un bucket S3 sécurisé"), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
