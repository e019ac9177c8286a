/*
 * api/auth_cache.h — the per-process cache of who a credential is: the
 * session or API token's identity and the user's grants, so that most
 * authenticated reads skip the session + grants statement (SPEC §19).
 *
 * Contract:
 *   - Keyed by the credential's keyed hash (cookie, API token) or by the
 *     JWT's session + user (after the JWT itself was verified); never a
 *     negative answer: only a lookup that authenticated is kept.
 *   - An entry carries the auth generation it was read at (store/
 *     auth_generation_store.h), the app-clock time its credential stops
 *     being valid, the time the database would slide or stamp it (the
 *     cache is not used past it, so the idle expiry keeps sliding exactly
 *     as without the cache) and a hard maximum age (max_age_ms, real time).
 *   - Fail closed: the cache is usable only while its LISTEN connection is
 *     up (sb_auth_cache_set_listening, driven by the notification hub in
 *     api/job_waiters.c). Down, it is emptied and every lookup misses; a
 *     notification on SB_AUTH_CHANNEL empties it too.
 *   - An entry is stored only if no invalidation happened since the lookup
 *     began (the epoch from sb_auth_cache_begin): a read that raced a
 *     change can never be kept as current.
 *   - Thread-safe (one mutex); get copies the grants out (the caller owns
 *     them).
 */
#ifndef SB_API_AUTH_CACHE_H
#define SB_API_AUTH_CACHE_H

#include <stdint.h>

#include "api/app.h"
#include "store/rbac_snapshot.h"

#define SB_AUTH_CACHE_KEY_BYTES 33 /* a kind byte + 32 bytes */
#define SB_AUTH_CACHE_MAX_AGE_MS 5000

typedef struct sb_auth_cache sb_auth_cache;

typedef struct sb_auth_cache_stats {
    uint64_t hits, misses; /* entries found / not found (or not usable) */
    uint64_t stale;        /* found, but the generation had moved (counted in hits too) */
    uint64_t losses;              /* times the listener was lost */
    int listening;
    size_t entries;
} sb_auth_cache_stats;

/* What is kept besides the identity and the grants (seconds, app clock). */
typedef struct sb_auth_cache_limits {
    int64_t valid_until_s;   /* the credential's expiry as read */
    int64_t refresh_after_s; /* when the database would slide/stamp it */
    int64_t generation;      /* the auth generation it was read at */
} sb_auth_cache_limits;

sb_auth_cache *sb_auth_cache_new(int64_t max_age_ms);
void sb_auth_cache_free(sb_auth_cache *c);

/* The epoch to pass to put, or 0 when the cache is not usable (down). */
uint64_t sb_auth_cache_begin(sb_auth_cache *c);
/* 1 with out's identity fields, *grants (a copy, the caller frees it with
 * sb_grant_set_free) and *generation filled; 0 on a miss. */
int sb_auth_cache_get(sb_auth_cache *c, const unsigned char key[SB_AUTH_CACHE_KEY_BYTES],
                      int64_t now_s, sb_identity *out, sb_grant_set *grants, int64_t *generation);
/* Keeps a copy of id's identity fields and of grants, unless the epoch moved. */
void sb_auth_cache_put(sb_auth_cache *c, uint64_t epoch,
                       const unsigned char key[SB_AUTH_CACHE_KEY_BYTES], const sb_identity *id,
                       const sb_grant_set *grants, const sb_auth_cache_limits *limits);
/* An entry found out of date (its generation moved): dropped, counted. */
void sb_auth_cache_drop(sb_auth_cache *c, const unsigned char key[SB_AUTH_CACHE_KEY_BYTES]);
/* A notification: every entry goes. */
void sb_auth_cache_invalidate(sb_auth_cache *c);
/* The listener is up (1) or lost (0): either way every entry goes. */
void sb_auth_cache_set_listening(sb_auth_cache *c, int listening);
void sb_auth_cache_get_stats(sb_auth_cache *c, sb_auth_cache_stats *out);

#endif
