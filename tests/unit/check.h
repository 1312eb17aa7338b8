/* CHECK(x): an assertion for threads other than the test's own (server callbacks, fake
 * servers, fuzz targets), where cmocka's asserts may not run: it prints the place and the
 * expression and aborts, which fails the test program. */
#ifndef CLOUDYA_TEST_CHECK_H
#define CLOUDYA_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>

#define CHECK(x)                                                                           \
    do {                                                                                   \
        if (!(x)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x);          \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif
