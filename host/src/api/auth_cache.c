/* api/auth_cache.c — see auth_cache.h. A small chained hash table under
 * one mutex; emptied whole on every invalidation (auth changes are rare,
 * reads are not). */
#include "api/auth_cache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKETS 1024
#define MAX_ENTRIES 20000 /* beyond this the table is emptied, never grown */

typedef struct entry {
    unsigned char key[SB_AUTH_CACHE_KEY_BYTES];
    sb_identity id; /* the identity fields only: no pointers kept */
    sb_grant_set grants;
    sb_auth_cache_limits limits;
    int64_t born_ms; /* monotonic */
    struct entry *next;
} entry;

struct sb_auth_cache {
    pthread_mutex_t mu;
    entry *buckets[BUCKETS];
    size_t n;
    uint64_t epoch; /* moves on every invalidation */
    int listening;
    int64_t max_age_ms;
    sb_auth_cache_stats stats;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t bucket_of(const unsigned char *key)
{
    /* the key is already a keyed hash (or a hash of verified claims) */
    return ((size_t)key[1] | (size_t)key[2] << 8) % BUCKETS;
}

static void entry_free(entry *e)
{
    sb_grant_set_free(&e->grants);
    sodium_memzero(e, sizeof *e);
    free(e);
}

static int grants_copy(const sb_grant_set *from, sb_grant_set *to)
{
    memset(to, 0, sizeof *to);
    to->tenancy_version = from->tenancy_version;
    to->auth_generation = from->auth_generation;
    to->grants = calloc(from->n + 1, sizeof *to->grants);
    to->ids = calloc(from->n + 1, sizeof *to->ids);
    if (to->grants == NULL || to->ids == NULL) {
        sb_grant_set_free(to);
        return -1;
    }
    for (size_t i = 0; i < from->n; i++) {
        to->grants[i] = from->grants[i];
        if (from->ids && from->ids[i]) {
            if ((to->ids[i] = strdup(from->ids[i])) == NULL) {
                to->n = i;
                sb_grant_set_free(to);
                return -1;
            }
            to->grants[i].scope.id = to->ids[i];
        }
    }
    to->n = from->n;
    return 0;
}

/* Who the caller is, without the per-request pointers (rbac, tenancy). */
static void copy_identity_fields(sb_identity *to, const sb_identity *from)
{
    memcpy(to->user_id, from->user_id, sizeof to->user_id);
    memcpy(to->username, from->username, sizeof to->username);
    to->method = from->method;
    to->has_session = from->has_session;
    memcpy(to->session_hash, from->session_hash, sizeof to->session_hash);
    to->last_mfa_ms = from->last_mfa_ms;
    to->token_scoped = from->token_scoped;
    to->token_scopes = from->token_scopes;
}

static void empty_locked(sb_auth_cache *c)
{
    for (size_t b = 0; b < BUCKETS; b++)
        while (c->buckets[b]) {
            entry *e = c->buckets[b];
            c->buckets[b] = e->next;
            entry_free(e);
        }
    c->n = 0;
    c->epoch++;
}

static entry **find_locked(sb_auth_cache *c, const unsigned char *key)
{
    entry **pp = &c->buckets[bucket_of(key)];
    while (*pp && sodium_memcmp((*pp)->key, key, SB_AUTH_CACHE_KEY_BYTES) != 0)
        pp = &(*pp)->next;
    return pp;
}

sb_auth_cache *sb_auth_cache_new(int64_t max_age_ms)
{
    sb_auth_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->epoch = 1;
    c->max_age_ms = max_age_ms > 0 ? max_age_ms : SB_AUTH_CACHE_MAX_AGE_MS;
    return c;
}

void sb_auth_cache_free(sb_auth_cache *c)
{
    if (c == NULL)
        return;
    empty_locked(c);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

uint64_t sb_auth_cache_begin(sb_auth_cache *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t epoch = c->listening ? c->epoch : 0;
    pthread_mutex_unlock(&c->mu);
    return epoch;
}

int sb_auth_cache_get(sb_auth_cache *c, const unsigned char key[SB_AUTH_CACHE_KEY_BYTES],
                      int64_t now_s, sb_identity *out, sb_grant_set *grants, int64_t *generation)
{
    int hit = 0;
    pthread_mutex_lock(&c->mu);
    entry **pp = c->listening ? find_locked(c, key) : NULL;
    entry *e = pp ? *pp : NULL;
    if (e && (mono_ms() - e->born_ms >= c->max_age_ms || now_s >= e->limits.valid_until_s ||
              now_s >= e->limits.refresh_after_s)) {
        *pp = e->next; /* too old, expired, or due for the database's slide */
        entry_free(e);
        c->n--;
        e = NULL;
    }
    if (e && grants_copy(&e->grants, grants) == 0) {
        copy_identity_fields(out, &e->id);
        *generation = e->limits.generation;
        hit = 1;
    }
    c->stats.hits += hit;
    c->stats.misses += !hit;
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void sb_auth_cache_put(sb_auth_cache *c, uint64_t epoch,
                       const unsigned char key[SB_AUTH_CACHE_KEY_BYTES], const sb_identity *id,
                       const sb_grant_set *grants, const sb_auth_cache_limits *limits)
{
    entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return;
    if (grants_copy(grants, &e->grants) != 0) {
        free(e);
        return;
    }
    memcpy(e->key, key, SB_AUTH_CACHE_KEY_BYTES);
    copy_identity_fields(&e->id, id);
    e->limits = *limits;
    e->born_ms = mono_ms();
    pthread_mutex_lock(&c->mu);
    if (epoch == 0 || epoch != c->epoch || !c->listening) {
        pthread_mutex_unlock(&c->mu);
        entry_free(e); /* something changed (or the listener went) since the read began */
        return;
    }
    if (c->n >= MAX_ENTRIES)
        empty_locked(c), epoch = c->epoch;
    entry **pp = find_locked(c, key);
    if (*pp) { /* replace */
        entry *old = *pp;
        *pp = old->next;
        entry_free(old);
        c->n--;
    }
    size_t b = bucket_of(key);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->n++;
    pthread_mutex_unlock(&c->mu);
}

void sb_auth_cache_drop(sb_auth_cache *c, const unsigned char key[SB_AUTH_CACHE_KEY_BYTES])
{
    pthread_mutex_lock(&c->mu);
    entry **pp = find_locked(c, key);
    if (*pp) {
        entry *e = *pp;
        *pp = e->next;
        entry_free(e);
        c->n--;
    }
    c->stats.stale++;
    pthread_mutex_unlock(&c->mu);
}

void sb_auth_cache_invalidate(sb_auth_cache *c)
{
    pthread_mutex_lock(&c->mu);
    empty_locked(c);
    pthread_mutex_unlock(&c->mu);
}

void sb_auth_cache_set_listening(sb_auth_cache *c, int listening)
{
    pthread_mutex_lock(&c->mu);
    empty_locked(c);
    if (c->listening && !listening)
        c->stats.losses++;
    c->listening = listening;
    pthread_mutex_unlock(&c->mu);
}

void sb_auth_cache_get_stats(sb_auth_cache *c, sb_auth_cache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->stats;
    out->listening = c->listening;
    out->entries = c->n;
    pthread_mutex_unlock(&c->mu);
}
