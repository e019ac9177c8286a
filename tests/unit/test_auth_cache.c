/*
 * test_auth_cache.c — the auth cache's own rules (api/auth_cache.h), no
 * database: nothing is kept or found while not listening; an entry is
 * refused when an invalidation happened after its lookup began; it goes
 * at its maximum age, at its credential's expiry and when the database
 * would slide it; a notification empties the cache; grants come out as a
 * copy.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "api/auth_cache.h"

static unsigned char key[SB_AUTH_CACHE_KEY_BYTES];
static sb_identity who;
static sb_grant grant_rows[1];
static char *grant_ids[1] = {"7d0c1f3e-0000-4000-8000-000000000001"};
static sb_grant_set grants = {grant_rows, 1, grant_ids, 3, 42};
static const sb_auth_cache_limits limits = {1000, 900, 42}; /* valid until 1000 s, slide at 900 s */

static void init(void)
{
    memset(key, 0xab, sizeof key);
    key[0] = 'S';
    memset(&who, 0, sizeof who);
    strcpy(who.user_id, "7d0c1f3e-0000-4000-8000-000000000002");
    strcpy(who.username, "alice");
    who.method = SB_IDENTITY_SESSION;
    who.has_session = 1;
    grant_rows[0].permissions = 5;
    grant_rows[0].scope.kind = SB_SCOPE_TEAM;
    grant_rows[0].scope.id = grant_ids[0];
}
TestSuite(auth_cache_unit, .init = init);

static int found(sb_auth_cache *c, int64_t now_s, sb_identity *out, int64_t *gen)
{
    sb_grant_set g;
    memset(out, 0, sizeof *out);
    int hit = sb_auth_cache_get(c, key, now_s, out, &g, gen);
    if (hit) {
        cr_assert_eq(g.n, 1);
        cr_assert_neq(g.ids[0], grant_ids[0], "the grants were not copied");
        cr_assert_str_eq(g.grants[0].scope.id, grant_ids[0]);
        cr_assert_eq(g.auth_generation, 42);
        sb_grant_set_free(&g);
    }
    return hit;
}

Test(auth_cache_unit, nothing_is_kept_or_found_while_not_listening)
{
    sb_auth_cache *c = sb_auth_cache_new(5000);
    sb_identity out;
    int64_t gen;
    cr_assert_eq(sb_auth_cache_begin(c), 0, "a cache that is not listening handed out an epoch");
    sb_auth_cache_put(c, 1, key, &who, &grants, &limits);
    cr_assert_not(found(c, 100, &out, &gen));
    sb_auth_cache_set_listening(c, 1);
    sb_auth_cache_put(c, sb_auth_cache_begin(c), key, &who, &grants, &limits);
    cr_assert(found(c, 100, &out, &gen));
    cr_assert_str_eq(out.username, "alice");
    cr_assert_eq(gen, 42);
    sb_auth_cache_set_listening(c, 0); /* the listener lost: emptied, and stays unused */
    sb_auth_cache_stats st;
    sb_auth_cache_get_stats(c, &st);
    cr_assert_eq(st.entries, 0);
    cr_assert_eq(st.losses, 1);
    cr_assert_not(found(c, 100, &out, &gen));
    sb_auth_cache_free(c);
}

Test(auth_cache_unit, a_lookup_that_raced_an_invalidation_is_not_kept)
{
    sb_auth_cache *c = sb_auth_cache_new(5000);
    sb_identity out;
    int64_t gen;
    sb_auth_cache_set_listening(c, 1);
    uint64_t epoch = sb_auth_cache_begin(c);
    sb_auth_cache_invalidate(c); /* a notification arrives while the database is read */
    sb_auth_cache_put(c, epoch, key, &who, &grants, &limits);
    cr_assert_not(found(c, 100, &out, &gen), "a read older than a notification was kept");
    sb_auth_cache_put(c, sb_auth_cache_begin(c), key, &who, &grants, &limits);
    cr_assert(found(c, 100, &out, &gen));
    sb_auth_cache_invalidate(c);
    cr_assert_not(found(c, 100, &out, &gen), "a notification did not empty the cache");
    sb_auth_cache_free(c);
}

Test(auth_cache_unit, entries_go_at_expiry_at_the_slide_and_at_their_maximum_age)
{
    sb_auth_cache *c = sb_auth_cache_new(50);
    sb_identity out;
    int64_t gen;
    sb_auth_cache_set_listening(c, 1);
    sb_auth_cache_put(c, sb_auth_cache_begin(c), key, &who, &grants, &limits);
    cr_assert_not(found(c, 900, &out, &gen), "used when the database would slide the session");
    sb_auth_cache_limits short_lived = {100, 900, 42};
    sb_auth_cache_put(c, sb_auth_cache_begin(c), key, &who, &grants, &short_lived);
    cr_assert_not(found(c, 100, &out, &gen), "used past the credential's expiry");
    sb_auth_cache_put(c, sb_auth_cache_begin(c), key, &who, &grants, &limits);
    cr_assert(found(c, 99, &out, &gen));
    struct timespec ts = {0, 80 * 1000000L};
    nanosleep(&ts, NULL);
    cr_assert_not(found(c, 99, &out, &gen), "used past its maximum age");
    sb_auth_cache_free(c);
}
