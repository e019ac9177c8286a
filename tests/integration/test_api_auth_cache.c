/*
 * test_api_auth_cache.c — the per-process auth cache (api/auth_cache.h)
 * against the real control plane (PostgreSQL + HTTP on loopback), with a
 * second replica on the same database (sb_api_harness_start_peer):
 *   - reads are answered from the cache, writes never use it;
 *   - a session revoked by plain SQL, by logout on the other replica, or a
 *     grant removed by plain SQL, counts on the very next request on both
 *     replicas, although both had it cached;
 *   - fail closed: the listener's backend killed (pg_terminate_backend) and
 *     kept from reconnecting, the cache is emptied and bypassed — a
 *     revocation made during the outage counts at once, even in the mode
 *     that trusts notifications alone — and used again once it is back;
 *   - the notification-only mode (the benchmark's) drops a revoked session
 *     as soon as the notification arrives.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/auth_cache.h"
#include "api_harness.h"
#include "pg_harness.h"

ReportHook(PRE_ALL)(struct criterion_test_set *s)
{
    (void)s;
    sb_pg_harness_shared_start();
}
ReportHook(POST_ALL)(struct criterion_global_stats *s)
{
    (void)s;
    sb_pg_harness_shared_stop();
}

#define PW "correct horse battery staple"

static sb_api_harness *h;
static sb_app *app;

static void setup(void)
{
    cr_assert_eq(sb_api_harness_start(&h), 0, "the API harness did not start");
    app = sb_api_harness_app(h);
}
static void teardown(void) { sb_api_harness_stop(h); }
TestSuite(auth_cache, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ------------------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs SQL as the table owner (a person with database access, not the API). */
__attribute__((format(printf, 1, 2))) static void sql(const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(sb_api_harness_owner_db(h), 5000, &c, &err), 0, "%s", err.message);
    PGresult *res;
    int rc = sb_db_exec(c, text, 0, NULL, &res, &err);
    if (rc == 0)
        PQclear(res);
    sb_db_release(sb_api_harness_owner_db(h), c);
    cr_assert_eq(rc, 0, "%s: %s", text, err.message);
}

static void user_with_session(const char *name, const char *role, char *user_id, char *cookie)
{
    cr_assert_eq(sb_api_harness_user(h, name, PW, role, "global", NULL, user_id), 0);
    cr_assert_eq(sb_api_harness_login(h, name, PW, cookie, 256, NULL, 0), 0);
}

static long get(sb_api_harness *on, const char *path, const char *cookie)
{
    sb_api_response r;
    long st = sb_api_call(on, "GET", path, NULL, cookie, NULL, &r);
    sb_api_response_free(&r);
    return st;
}

static sb_auth_cache_stats stats_of(sb_app *a)
{
    sb_auth_cache_stats s;
    sb_auth_cache_get_stats(a->auth_cache, &s);
    return s;
}

/* GETs path twice on `on`; the second must be a cache hit. */
static void warm(sb_api_harness *on, const char *path, const char *cookie)
{
    cr_assert_eq(get(on, path, cookie), 200);
    uint64_t hits = stats_of(sb_api_harness_app(on)).hits;
    cr_assert_eq(get(on, path, cookie), 200);
    cr_assert_eq(stats_of(sb_api_harness_app(on)).hits, hits + 1, "the second GET was not cached");
}

static void wait_listening(sb_app *a, int want)
{
    int64_t until = mono_ms() + 10000;
    while (stats_of(a).listening != want) {
        cr_assert_lt(mono_ms(), until, "the cache never became %s",
                     want ? "listening" : "not listening");
        pause_ms(20);
    }
}

/* A second replica, and a signed-in admin whose GET of path both have cached. */
static sb_api_harness *two_replicas_cached(const char *name, const char *path, char *uid,
                                           char *cookie)
{
    sb_api_harness *peer;
    cr_assert_eq(sb_api_harness_start_peer(h, &peer), 0);
    user_with_session(name, "admin", uid, cookie);
    warm(h, path, cookie);
    warm(peer, path, cookie);
    return peer;
}

/* ---- tests -------------------------------------------------------------------- */

Test(auth_cache, reads_use_the_cache_and_writes_never_do)
{
    char uid[40], cookie[256];
    user_with_session("alice", "admin", uid, cookie);
    warm(h, "/api/v1/teams", cookie);
    sb_auth_cache_stats before = stats_of(app);
    cr_assert(before.listening, "the cache is not listening");
    cr_assert_geq(before.entries, 1);
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "POST", "/api/v1/teams", "{\"name\":\"cache-team\"}", cookie, NULL,
                             &r),
                 201, "%s", r.body);
    sb_api_response_free(&r);
    sb_auth_cache_stats after = stats_of(app);
    cr_assert_eq(after.hits, before.hits, "a write was answered from the cache");
    cr_assert_eq(after.misses, before.misses, "a write looked in the cache");
}

Test(auth_cache, a_session_revoked_by_sql_counts_on_the_next_request_on_both_replicas)
{
    char uid[40], cookie[256];
    sb_api_harness *peer = two_replicas_cached("bob", "/api/v1/teams", uid, cookie);
    sql("UPDATE sessions SET revoked_at = now() WHERE user_id = '%s'", uid);
    cr_assert_eq(get(h, "/api/v1/teams", cookie), 401, "the revoked session still works here");
    cr_assert_eq(get(peer, "/api/v1/teams", cookie), 401, "the revoked session works on the peer");
    sb_api_harness_stop(peer);
}

Test(auth_cache, a_logout_on_one_replica_counts_on_the_next_request_on_the_other)
{
    char uid[40], cookie[256];
    sb_api_harness *peer = two_replicas_cached("carol", "/api/v1/teams", uid, cookie);
    sb_api_response r;
    long st = sb_api_call(h, "POST", "/api/v1/auth/logout", NULL, cookie, NULL, &r);
    sb_api_response_free(&r);
    cr_assert(st == 200 || st == 204, "logout answered %ld", st);
    cr_assert_eq(get(peer, "/api/v1/teams", cookie), 401, "the peer still honours the session");
    cr_assert_eq(get(h, "/api/v1/teams", cookie), 401);
    sb_api_harness_stop(peer);
}

Test(auth_cache, a_grant_removed_by_sql_counts_on_the_next_request_on_both_replicas)
{
    char uid[40], cookie[256];
    sb_api_harness *peer = two_replicas_cached("dave", "/api/v1/users", uid, cookie); /* user.manage */
    sql("DELETE FROM grants WHERE user_id = '%s'", uid);
    cr_assert_eq(get(h, "/api/v1/users", cookie), 403, "the removed grant still counts here");
    cr_assert_eq(get(peer, "/api/v1/users", cookie), 403, "the removed grant counts on the peer");
    /* and a grant given back counts at once too */
    cr_assert_eq(sb_api_harness_grant(h, uid, "admin", "global", NULL), 0);
    cr_assert_eq(get(peer, "/api/v1/users", cookie), 200);
    sb_api_harness_stop(peer);
}

Test(auth_cache, while_the_listener_is_down_the_cache_is_dropped_and_bypassed)
{
    /* the mode that trusts notifications alone: only failing closed keeps
     * it right while notifications cannot arrive */
    app->auth_cache_mode = SB_AUTH_CACHE_NOTIFIED;
    char uid[40], cookie[256], uid2[40], cookie2[256];
    user_with_session("erin", "admin", uid, cookie);
    user_with_session("frank", "admin", uid2, cookie2);
    warm(h, "/api/v1/teams", cookie);
    warm(h, "/api/v1/teams", cookie2);
    uint64_t losses = stats_of(app).losses;
    /* the outage: the listener's backend killed, and no new connection of
     * the server's role let in until the end (the pool keeps its own) */
    sql("DO $$ BEGIN EXECUTE format('ALTER DATABASE %%I CONNECTION LIMIT 0', current_database());"
        " END $$");
    sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND query LIKE 'LISTEN%%'");
    wait_listening(app, 0);
    cr_assert_eq(stats_of(app).losses, losses + 1);
    cr_assert_eq(stats_of(app).entries, 0, "the cache was not emptied");
    sql("UPDATE sessions SET revoked_at = now() WHERE user_id = '%s'", uid);
    cr_assert_eq(get(h, "/api/v1/teams", cookie), 401, "a revocation made during the outage did "
                                                       "not count");
    uint64_t hits = stats_of(app).hits;
    cr_assert_eq(get(h, "/api/v1/teams", cookie2), 200);
    cr_assert_eq(get(h, "/api/v1/teams", cookie2), 200);
    cr_assert_eq(stats_of(app).hits, hits, "the cache answered while its listener was down");
    cr_assert_eq(stats_of(app).entries, 0, "the cache kept an entry while its listener was down");
    /* back: the cache is used again */
    sql("DO $$ BEGIN EXECUTE format('ALTER DATABASE %%I CONNECTION LIMIT -1', current_database());"
        " END $$");
    wait_listening(app, 1);
    warm(h, "/api/v1/teams", cookie2);
    cr_assert_eq(get(h, "/api/v1/teams", cookie), 401);
}

Test(auth_cache, notification_only_mode_drops_a_revoked_session_when_notified)
{
    app->auth_cache_mode = SB_AUTH_CACHE_NOTIFIED;
    char uid[40], cookie[256];
    user_with_session("grace", "admin", uid, cookie);
    warm(h, "/api/v1/teams", cookie);
    sql("UPDATE sessions SET revoked_at = now() WHERE user_id = '%s'", uid);
    int64_t until = mono_ms() + 2000;
    long st;
    while ((st = get(h, "/api/v1/teams", cookie)) == 200 && mono_ms() < until)
        pause_ms(1);
    cr_assert_eq(st, 401, "the revocation never counted");
    cr_assert_eq(stats_of(app).entries, 0, "the notification did not empty the cache");
}
