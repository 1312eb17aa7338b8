#define _POSIX_C_SOURCE 200809L
#include "password.h"

#include "log.h"

#include <errno.h>
#include <semaphore.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

static sem_t slots;
static char dummy_hash[crypto_pwhash_STRBYTES];

_Static_assert(crypto_pwhash_STRBYTES <= PASSWORD_HASH_MAX, "hash buffer too small");

/* The dummy hash is made from random bytes nobody knows, with the real parameters. */
int password_init(int concurrency, int with_dummy)
{
    if (sodium_init() < 0)
        return -EIO;
    if (concurrency <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        concurrency = n > 0 ? (int)n : 1;
    }
    if (sem_init(&slots, 0, (unsigned)concurrency) != 0)
        return -EIO;
    if (!with_dummy)
        return 0;
    char pw[32];
    randombytes_buf(pw, sizeof(pw));
    if (crypto_pwhash_str(dummy_hash, pw, sizeof(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return -EIO;
    return 0;
}

static void slot_take(void)
{
    while (sem_wait(&slots) != 0 && errno == EINTR)
        ;
}

/* Interactive limits: about 64 MiB and tens of milliseconds per hash on these machines. */
int password_hash(const char *pw, size_t len, char *out)
{
    slot_take();
    int rc = crypto_pwhash_str(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sem_post(&slots);
    if (rc != 0) {
        log_warnx("password hashing failed (out of memory?)");
        return -ENOMEM;
    }
    return 0;
}

/* Verification under the same cap as hashing. */
int password_verify(const char *hash, const char *pw, size_t len)
{
    slot_take();
    int rc = crypto_pwhash_str_verify(hash, pw, len);
    sem_post(&slots);
    return rc == 0 ? 0 : -EPERM;
}

/* Same cost as password_verify, result thrown away. */
void password_verify_dummy(const char *pw, size_t len)
{
    (void)password_verify(dummy_hash, pw, len);
}
