/* Unit tests for src/core/buf.c: appends of every size up to and at the limit, refusal past
 * the limit leaving the contents unchanged and the failed flag set, printf that grows, that
 * would pass the limit, and that fits exactly, binary data with NUL bytes, steal of empty and
 * non-empty buffers, reset keeping memory, and free being repeatable. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void test_init_empty(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 100);
    assert_int_equal(b.failed, 0);
    buf_free(&b);
    buf_free(&b); /* twice is harmless */
    assert_null(b.data);
}

static void test_append_and_terminate(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 1024);
    assert_int_equal(buf_append(&b, "abc", 3), 0);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(buf_puts(&b, "def"), 0);
    assert_string_equal(b.data, "abcdef");
    assert_true(b.cap >= b.len + 1);
    /* zero bytes: allowed, still terminated */
    assert_int_equal(buf_append(&b, NULL, 0), 0);
    assert_int_equal(b.len, 6);
    assert_int_equal(b.data[6], '\0');
    buf_free(&b);
}

static void test_append_zero_allocates_string(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, ""), 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    buf_free(&b);
}

static void test_binary(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 64);
    const char bin[5] = {'a', '\0', 'b', '\0', 'c'};
    assert_int_equal(buf_append(&b, bin, sizeof bin), 0);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, bin, 5);
    assert_int_equal(b.data[5], '\0');
    buf_free(&b);
}

static void test_limit_exact_and_past(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append(&b, "0123456789", 10), 0); /* exactly max */
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= 11);
    assert_int_equal(b.failed, 0);
    assert_int_equal(buf_append(&b, "x", 1), -ENOBUFS);
    assert_int_equal(b.failed, 1);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    /* zero bytes at the limit still fit */
    assert_int_equal(buf_append(&b, "", 0), 0);
    buf_free(&b);

    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "01234"), 0);
    assert_int_equal(buf_puts(&b, "abcdefgh"), -ENOBUFS); /* partly fits: nothing added */
    assert_string_equal(b.data, "01234");
    assert_int_equal(b.failed, 1);
    assert_int_equal(buf_puts(&b, "abcde"), 0); /* failed is sticky but appends continue */
    assert_string_equal(b.data, "01234abcde");
    assert_int_equal(b.failed, 1);
    buf_free(&b);
}

static void test_huge_sizes_refused(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 16);
    assert_int_equal(buf_puts(&b, "ab"), 0);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX), -ENOBUFS); /* never read: size check first */
    assert_int_equal(buf_append(&b, "x", SIZE_MAX - 1), -ENOBUFS);
    assert_string_equal(b.data, "ab");
    buf_free(&b);

    buf_init(&b, SIZE_MAX); /* "no limit": wrap-around is still refused */
    assert_int_equal(buf_puts(&b, "ab"), 0);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX - 2), -ENOBUFS);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX), -ENOBUFS);
    assert_string_equal(b.data, "ab");
    buf_free(&b);
}

static void test_max_zero(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_string_equal(b.data, "");
    assert_int_equal(buf_puts(&b, "a"), -ENOBUFS);
    assert_int_equal(buf_printf(&b, "%d", 1), -ENOBUFS);
    assert_string_equal(b.data, "");
    buf_free(&b);
}

static void test_growth_many(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_append(&b, (i % 2) ? "y" : "x", 1), 0);
    assert_int_equal(b.len, 10000);
    assert_int_equal(strlen(b.data), 10000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], (i % 2) ? 'y' : 'x');
    buf_free(&b);
}

static void test_printf(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 4096);
    assert_int_equal(buf_printf(&b, "%s=%d", "a", 42), 0);
    assert_string_equal(b.data, "a=42");
    /* longer than the first allocation: grows and formats again */
    char big[300];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 4 + 2 + 299);
    assert_int_equal(b.data[4], '[');
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(strlen(b.data), b.len);
    assert_int_equal(buf_printf(&b, "%s", ""), 0);
    assert_int_equal(b.len, 305);
    buf_free(&b);
}

static void test_printf_limit(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_printf(&b, "%s", "abcd"), 0);
    /* 5 more would be 9 > 8: refused, no partial text even though the allocation had room */
    assert_int_equal(buf_printf(&b, "%s", "efghi"), -ENOBUFS);
    assert_string_equal(b.data, "abcd");
    assert_int_equal(b.len, 4);
    assert_int_equal(b.failed, 1);
    assert_int_equal(buf_printf(&b, "%d", 1234), 0); /* exactly to the limit */
    assert_string_equal(b.data, "abcd1234");
    assert_int_equal(buf_printf(&b, "%c", 'x'), -ENOBUFS);
    assert_string_equal(b.data, "abcd1234");
    buf_free(&b);

    /* first write past the limit on an unallocated buffer */
    buf_init(&b, 3);
    assert_int_equal(buf_printf(&b, "%s", "abcd"), -ENOBUFS);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    buf_free(&b);

    /* refused in the middle of a larger allocation: the truncated attempt is undone */
    buf_init(&b, 100);
    assert_int_equal(buf_puts(&b, "start"), 0);
    assert_int_equal(buf_printf(&b, "%0200d", 7), -ENOBUFS);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "start");
    buf_free(&b);
}

static void test_steal(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 50);
    size_t len = 99;
    char *s = buf_steal(&b, &len); /* nothing stored: an empty string */
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);

    assert_int_equal(buf_puts(&b, "hello"), 0);
    (void)buf_puts(&b, "this is far too long for fifty bytes of limit, really it is");
    assert_int_equal(b.failed, 1);
    s = buf_steal(&b, &len);
    assert_string_equal(s, "hello");
    assert_int_equal(len, 5);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 50);
    assert_int_equal(b.failed, 0);
    free(s);

    assert_int_equal(buf_puts(&b, "again"), 0); /* reusable */
    s = buf_steal(&b, NULL);
    assert_string_equal(s, "again");
    free(s);
    buf_free(&b);
}

static void test_reset(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 20);
    assert_int_equal(buf_puts(&b, "0123456789"), 0);
    (void)buf_puts(&b, "0123456789abc");
    assert_int_equal(b.failed, 1);
    char *mem = b.data;
    size_t cap = b.cap;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.failed, 0);
    assert_ptr_equal(b.data, mem);
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.data, "");
    assert_int_equal(buf_puts(&b, "xy"), 0);
    assert_string_equal(b.data, "xy");
    buf_free(&b);

    buf_init(&b, 20);
    buf_reset(&b); /* on an unallocated buffer */
    assert_null(b.data);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_empty),
        cmocka_unit_test(test_append_and_terminate),
        cmocka_unit_test(test_append_zero_allocates_string),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_limit_exact_and_past),
        cmocka_unit_test(test_huge_sizes_refused),
        cmocka_unit_test(test_max_zero),
        cmocka_unit_test(test_growth_many),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_printf_limit),
        cmocka_unit_test(test_steal),
        cmocka_unit_test(test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
