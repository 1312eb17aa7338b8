#define _POSIX_C_SOURCE 200809L
#include "ratelimit.h"

#include "xalloc.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#define PROBES 16

struct entry {
    uint64_t h; /* 0 = free */
    int64_t start_ms;
    int count;
};

struct ratelimit {
    pthread_mutex_t mu;
    struct entry *e;
    size_t n;
    int max;
    int64_t window_ms;
    unsigned char key[crypto_shorthash_KEYBYTES];
};

/* Keys are hashed with a secret SipHash key so nobody can aim collisions at a victim. */
ratelimit *ratelimit_new(size_t slots, int max, int window_s)
{
    ratelimit *rl = xcalloc(1, sizeof(*rl));
    pthread_mutex_init(&rl->mu, NULL);
    rl->n = slots ? slots : 1;
    rl->e = xcalloc(rl->n, sizeof(struct entry));
    rl->max = max;
    rl->window_ms = (int64_t)window_s * 1000;
    crypto_shorthash_keygen(rl->key);
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->e);
    free(rl);
}

static uint64_t hash_key(const ratelimit *rl, const char *key)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)key, strlen(key), rl->key);
    uint64_t h;
    memcpy(&h, out, sizeof(h));
    return h ? h : 1;
}

/* Finds key's live entry, or NULL. Expired entries count as absent. */
static struct entry *find(ratelimit *rl, uint64_t h, int64_t now_ms)
{
    for (size_t i = 0; i < PROBES; i++) {
        struct entry *e = &rl->e[(h + i) % rl->n];
        if (e->h == h)
            return now_ms - e->start_ms < rl->window_ms ? e : NULL;
    }
    return NULL;
}

int ratelimit_blocked(ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s)
{
    uint64_t h = hash_key(rl, key);
    int blocked = 0;
    pthread_mutex_lock(&rl->mu);
    struct entry *e = find(rl, h, now_ms);
    if (e != NULL && e->count >= rl->max) {
        blocked = 1;
        if (retry_after_s != NULL) {
            int64_t left = e->start_ms + rl->window_ms - now_ms;
            *retry_after_s = (int)((left + 999) / 1000);
        }
    }
    pthread_mutex_unlock(&rl->mu);
    return blocked;
}

/* Picks key's own slot, else a free or expired one, else the oldest window probed. */
static struct entry *slot_for(ratelimit *rl, uint64_t h, int64_t now_ms)
{
    struct entry *oldest = NULL;
    for (size_t i = 0; i < PROBES; i++) {
        struct entry *e = &rl->e[(h + i) % rl->n];
        if (e->h == h)
            return e;
    }
    for (size_t i = 0; i < PROBES; i++) {
        struct entry *e = &rl->e[(h + i) % rl->n];
        if (e->h == 0 || now_ms - e->start_ms >= rl->window_ms)
            return e;
        if (oldest == NULL || e->start_ms < oldest->start_ms)
            oldest = e;
    }
    return oldest;
}

void ratelimit_hit(ratelimit *rl, const char *key, int64_t now_ms)
{
    uint64_t h = hash_key(rl, key);
    pthread_mutex_lock(&rl->mu);
    struct entry *e = slot_for(rl, h, now_ms);
    if (e->h != h || now_ms - e->start_ms >= rl->window_ms) {
        e->h = h;
        e->start_ms = now_ms;
        e->count = 0;
    }
    e->count++;
    pthread_mutex_unlock(&rl->mu);
}

void ratelimit_reset(ratelimit *rl, const char *key)
{
    uint64_t h = hash_key(rl, key);
    pthread_mutex_lock(&rl->mu);
    for (size_t i = 0; i < PROBES; i++) {
        struct entry *e = &rl->e[(h + i) % rl->n];
        if (e->h == h) {
            e->h = 0;
            e->count = 0;
            break;
        }
    }
    pthread_mutex_unlock(&rl->mu);
}
