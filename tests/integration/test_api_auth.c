/*
 * test_api_auth.c — authentication against the real control plane
 * (tests/support/api_harness.h: PostgreSQL + HTTP on loopback):
 *   - the session cookie's attributes; idle slide capped by the absolute
 *     expiry (time moved with app->fixed_now_ms); logout revoking both the
 *     cookie and the JWT; the JWT refused when tampered, expired or when
 *     its session is gone;
 *   - lockout after 5 failures, its reset on success and its end after
 *     15 minutes; parallel wrong passwords counted exactly; the per-IP
 *     login rate limit (429 + Retry-After); unknown / disabled / locked /
 *     wrong password indistinguishable;
 * (API tokens, bad input, canaries, /users/me, bootstrap users and the
 * admin CLI are in test_api_auth_accounts.c.)
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define T0 INT64_C(1893456000000) /* 2030-01-01T00:00:00Z, a minute boundary */
#define MIN (60 * INT64_C(1000))
#define PW "correct horse battery staple"

static sb_api_harness *h;
static sb_app *app;

static void setup(void)
{
    cr_assert_eq(sb_api_harness_start(&h), 0, "the API harness did not start");
    app = sb_api_harness_app(h);
    app->fixed_now_ms = T0;
}
static void teardown(void) { sb_api_harness_stop(h); }
TestSuite(auth, .init = setup, .fini = teardown, .timeout = 240);

/* ---- helpers ------------------------------------------------------------------ */

static const char *err_code(const sb_api_response *r)
{
    const char *c = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    return c ? c : "(none)";
}

static long login(const char *user, const char *pw, sb_api_response *r)
{
    json_t *b = json_pack("{s:s, s:s}", "username", user, "password", pw);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    long st = sb_api_call(h, "POST", "/api/v1/auth/login", text, NULL, NULL, r);
    free(text);
    return st;
}

static void login_expect(const char *user, const char *pw, long want)
{
    sb_api_response r;
    long st = login(user, pw, &r);
    cr_assert_eq(st, want, "login %s answered %ld (%s)", user, st, r.body);
    sb_api_response_free(&r);
}

/* Logs in; fills cookie and jwt (may be NULL). */
static void session_of(const char *user, const char *pw, char *cookie, char *jwt)
{
    cr_assert_eq(sb_api_harness_login(h, user, pw, cookie, cookie ? 256 : 0, jwt, jwt ? 2048 : 0),
                 0, "login of %s failed", user);
}

static long get(const char *path, const char *cookie, const char *bearer)
{
    sb_api_response r;
    long st = sb_api_call(h, "GET", path, NULL, cookie, bearer, &r);
    sb_api_response_free(&r);
    return st;
}

static long sql_long(const char *sql)
{
    char cell[64] = "";
    cr_assert_geq(sb_api_harness_sql(h, sql, cell, sizeof cell), 0, "%s", sql);
    return atol(cell);
}

static void user(const char *name, char *id)
{
    char local[40];
    cr_assert_eq(sb_api_harness_user(h, name, PW, NULL, NULL, NULL, id ? id : local), 0);
}

/* ---- sessions and JWT ---------------------------------------------------------- */

Test(auth, login_sets_a_strict_session_cookie_and_returns_a_jwt)
{
    user("alice", NULL);
    sb_api_response r;
    cr_assert_eq(login("Alice", PW, &r), 200, "usernames are case-insensitive: %s", r.body);
    char cookie[512];
    cr_assert_eq(sb_api_response_header(&r, "Set-Cookie", cookie, sizeof cookie), 0);
    cr_assert(strncmp(cookie, "sb_session=sbs_", 15) == 0, "%s", cookie);
    const char *attrs[] = {"; HttpOnly", "; SameSite=Strict", "; Path=/", "; Max-Age=28800",
                           "; Secure"};
    for (size_t i = 0; i < 5; i++)
        cr_assert_not_null(strstr(cookie, attrs[i]), "cookie lacks %s: %s", attrs[i], cookie);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(r.json, "user"), "username")), "alice");
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "expires_at")),
                     "2030-01-01T08:00:00Z");
    const char *jwt = json_string_value(json_object_get(r.json, "token"));
    cr_assert_not_null(jwt);
    char value[128];
    snprintf(value, sizeof value, "%.*s", (int)strcspn(cookie + 11, ";"), cookie + 11);
    cr_assert_eq(get("/api/v1/users/me", value, NULL), 200);
    cr_assert_eq(get("/api/v1/users/me", NULL, jwt), 200);
    sb_api_response_free(&r);
    app->cookie_secure = 0; /* dev */
    cr_assert_eq(login("alice", PW, &r), 200);
    cr_assert_eq(sb_api_response_header(&r, "Set-Cookie", cookie, sizeof cookie), 0);
    cr_assert_null(strstr(cookie, "Secure"), "no Secure in dev: %s", cookie);
    cr_assert_not_null(strstr(cookie, "HttpOnly"));
    sb_api_response_free(&r);
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events a JOIN users u ON a.actor = 'user:' || u.id"
                          " WHERE a.action = 'auth.login' AND a.outcome = 'success'"
                          " AND a.resource = 'user:' || u.id AND u.username = 'alice'"),
                 2, "each sign-in audited, the user as actor");
}

/* GET /auth/session at the current clock: status, and the idle expiry. */
static long session_at(int64_t now_ms, const char *cookie, char *idle, size_t cap)
{
    app->fixed_now_ms = now_ms;
    sb_api_response r;
    long st = sb_api_call(h, "GET", "/api/v1/auth/session", NULL, cookie, NULL, &r);
    if (idle)
        snprintf(idle, cap, "%s",
                 st == 200 ? json_string_value(json_object_get(json_object_get(r.json, "session"),
                                                               "idle_expires_at"))
                           : "");
    sb_api_response_free(&r);
    return st;
}

Test(auth, idle_expiry_slides_on_use_but_never_past_the_absolute_expiry)
{
    user("bob", NULL);
    char cookie[256], idle[64];
    session_of("bob", PW, cookie, NULL);
    /* used every 25 minutes: alive until the absolute expiry (8 h) */
    cr_assert_eq(session_at(T0 + 25 * MIN, cookie, idle, sizeof idle), 200);
    cr_assert_str_eq(idle, "2030-01-01T00:55:00Z", "slid to use + 30 min");
    int64_t t = T0 + 25 * MIN;
    while (t + 25 * MIN < T0 + 480 * MIN) {
        t += 25 * MIN;
        cr_assert_eq(session_at(t, cookie, NULL, 0), 200, "alive at +%lld min",
                     (long long)((t - T0) / MIN));
    }
    cr_assert_eq(session_at(T0 + 479 * MIN, cookie, idle, sizeof idle), 200);
    cr_assert_str_eq(idle, "2030-01-01T08:00:00Z", "the slide is capped by the absolute expiry");
    cr_assert_eq(session_at(T0 + 480 * MIN, cookie, NULL, 0), 401, "dead at the absolute expiry");
    /* a fresh session left alone for 30 minutes dies of idleness */
    app->fixed_now_ms = T0 + 600 * MIN;
    session_of("bob", PW, cookie, NULL);
    cr_assert_eq(session_at(T0 + 629 * MIN, cookie, NULL, 0), 200);
    cr_assert_eq(session_at(T0 + 658 * MIN + 59 * 1000, cookie, NULL, 0), 200, "idle 29:59");
    cr_assert_eq(session_at(T0 + 688 * MIN + 59 * 1000, cookie, NULL, 0), 401,
                 "idle exactly 30:00");
}

/* Uses within SB_SESSION_SLIDE_EVERY_S of the last slide are reads: the
 * session row is not written (no WAL flush per request). */
Test(auth, the_slide_writes_at_most_once_a_minute)
{
    user("carol", NULL);
    char cookie[256], idle[64];
    session_of("carol", PW, cookie, NULL);
    cr_assert_eq(session_at(T0 + 10 * MIN, cookie, idle, sizeof idle), 200);
    cr_assert_str_eq(idle, "2030-01-01T00:40:00Z");
    long long xmin = sql_long("SELECT s.xmin::text::bigint FROM sessions s JOIN users u ON "
                              "u.id = s.user_id WHERE u.username = 'carol'");
    cr_assert_eq(session_at(T0 + 10 * MIN + 59 * 1000, cookie, idle, sizeof idle), 200);
    cr_assert_str_eq(idle, "2030-01-01T00:40:00Z", "not slid within the minute");
    cr_assert_eq(sql_long("SELECT s.xmin::text::bigint FROM sessions s JOIN users u ON "
                          "u.id = s.user_id WHERE u.username = 'carol'"),
                 xmin, "the row was not rewritten");
    cr_assert_eq(session_at(T0 + 11 * MIN, cookie, idle, sizeof idle), 200);
    cr_assert_str_eq(idle, "2030-01-01T00:41:00Z", "slid once the minute passed");
}

static long logout_with(const char *cookie, const char *bearer, char *set_cookie, size_t cap)
{
    sb_api_response r;
    long st = sb_api_call(h, "POST", "/api/v1/auth/logout", NULL, cookie, bearer, &r);
    if (set_cookie && sb_api_response_header(&r, "Set-Cookie", set_cookie, cap) != 0)
        set_cookie[0] = '\0';
    sb_api_response_free(&r);
    return st;
}

Test(auth, logout_revokes_the_session_for_the_cookie_and_the_jwt)
{
    user("carol", NULL);
    char cookie[256], jwt[2048], cleared[512];
    session_of("carol", PW, cookie, jwt);
    cr_assert_eq(get("/api/v1/users/me", NULL, jwt), 200);
    cr_assert_eq(logout_with(cookie, NULL, cleared, sizeof cleared), 204);
    cr_assert(strncmp(cleared, "sb_session=;", 12) == 0, "cookie cleared: %s", cleared);
    cr_assert_not_null(strstr(cleared, "Max-Age=0"));
    cr_assert_eq(get("/api/v1/users/me", cookie, NULL), 401, "cookie dead after logout");
    cr_assert_eq(get("/api/v1/users/me", NULL, jwt), 401, "JWT dead with its session");
    cr_assert_eq(logout_with(cookie, NULL, NULL, 0), 401);
    /* logging out with the JWT ends the cookie's session too */
    session_of("carol", PW, cookie, jwt);
    cr_assert_eq(logout_with(NULL, jwt, NULL, 0), 204);
    cr_assert_eq(get("/api/v1/users/me", cookie, NULL), 401);
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE action = 'auth.logout'"
                          " AND resource LIKE 'session:%'"),
                 2);
    cr_assert_eq(sql_long("SELECT count(*) FROM sessions WHERE revoked_at IS NULL"), 0);
}

/* Replaces segment i (0 header, 1 payload, 2 signature) of a JWT. */
static void jwt_with_segment(const char *jwt, int i, const char *seg, char *out, size_t cap)
{
    const char *d1 = strchr(jwt, '.'), *d2 = strchr(d1 + 1, '.');
    if (i == 0)
        snprintf(out, cap, "%s%s", seg, d1);
    else if (i == 1)
        snprintf(out, cap, "%.*s.%s%s", (int)(d1 - jwt), jwt, seg, d2);
    else
        snprintf(out, cap, "%.*s.%s", (int)(d2 - jwt), jwt, seg);
}

Test(auth, the_jwt_is_refused_when_tampered_expired_or_its_session_is_gone)
{
    user("dave", NULL);
    user("erin", NULL);
    char jwt[2048], other[2048], bad[4096];
    session_of("dave", PW, NULL, jwt);
    session_of("erin", PW, NULL, other);
    cr_assert_eq(get("/api/v1/users/me", NULL, jwt), 200);
    /* {"alg":"none","typ":"JWT"} and {"alg":"HS512","typ":"JWT"} */
    jwt_with_segment(jwt, 0, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", bad, sizeof bad);
    cr_assert_eq(get("/api/v1/users/me", NULL, bad), 401, "alg none");
    jwt_with_segment(jwt, 0, "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9", bad, sizeof bad);
    cr_assert_eq(get("/api/v1/users/me", NULL, bad), 401, "another header");
    /* erin's payload under dave's signature */
    const char *p1 = strchr(other, '.') + 1;
    char payload[1024];
    snprintf(payload, sizeof payload, "%.*s", (int)(strchr(p1, '.') - p1), p1);
    jwt_with_segment(jwt, 1, payload, bad, sizeof bad);
    cr_assert_eq(get("/api/v1/users/me", NULL, bad), 401, "payload swapped");
    snprintf(bad, sizeof bad, "%s", jwt);
    char *last = bad + strlen(bad) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    cr_assert_eq(get("/api/v1/users/me", NULL, bad), 401, "signature flipped");
    jwt_with_segment(jwt, 2, "", bad, sizeof bad);
    cr_assert_eq(get("/api/v1/users/me", NULL, bad), 401, "no signature");
    cr_assert_eq(get("/api/v1/users/me", NULL, "not-a-jwt"), 401);
    /* kept alive past the JWT's exp (= the absolute expiry): refused */
    for (int64_t t = T0 + 20 * MIN; t < T0 + 480 * MIN; t += 20 * MIN) {
        app->fixed_now_ms = t;
        cr_assert_eq(get("/api/v1/users/me", NULL, jwt), 200, "alive at %lld", (long long)t);
    }
    app->fixed_now_ms = T0 + 480 * MIN + 1000;
    cr_assert_eq(get("/api/v1/users/me", NULL, jwt), 401, "expired");
    /* its session revoked (password reset revokes every session) */
    app->fixed_now_ms = T0 + 600 * MIN;
    session_of("erin", PW, NULL, other);
    cr_assert_eq(get("/api/v1/users/me", NULL, other), 200);
    sb_api_harness_sql(h, "UPDATE sessions SET revoked_at = now()", NULL, 0);
    cr_assert_eq(get("/api/v1/users/me", NULL, other), 401, "session revoked");
    /* a disabled user's JWT stops at once */
    session_of("dave", PW, NULL, jwt);
    sb_api_harness_sql(h, "UPDATE users SET status = 'disabled' WHERE username = 'dave'", NULL, 0);
    cr_assert_eq(get("/api/v1/users/me", NULL, jwt), 401, "disabled user");
}

/* ---- lockout, rate limit, equal failures -------------------------------------- */

Test(auth, five_failures_lock_the_account_for_fifteen_minutes_and_success_resets)
{
    char id[40];
    user("frank", id);
    for (int i = 0; i < 4; i++)
        login_expect("frank", "wrong password", 401);
    cr_assert_eq(sql_long("SELECT failed_logins FROM users WHERE username = 'frank'"), 4);
    login_expect("frank", PW, 200);
    cr_assert_eq(sql_long("SELECT failed_logins FROM users WHERE username = 'frank'"), 0, "reset");
    for (int i = 0; i < 5; i++)
        login_expect("frank", "wrong password", 401);
    cr_assert_eq(
        sql_long(
            "SELECT count(*) FROM users WHERE username = 'frank' AND locked_until IS NOT NULL"),
        1);
    login_expect("frank", PW, 401); /* locked: even the right password */
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE action = 'auth.login.locked'"
                          " AND severity = 'warning' AND outcome = 'failure'"),
                 1);
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE action = 'auth.login'"
                          " AND details->>'reason' = 'locked'"),
                 1);
    app->fixed_now_ms = T0 + 14 * MIN + 59 * 1000;
    login_expect("frank", PW, 401);
    app->fixed_now_ms = T0 + 15 * MIN;
    login_expect("frank", PW, 200);
    cr_assert_eq(
        sql_long("SELECT count(*) FROM users WHERE username = 'frank' AND locked_until IS NULL"
                 " AND failed_logins = 0"),
        1);
}

typedef struct attempt {
    const char *user;
    long status;
} attempt;

static void *wrong_password(void *p)
{
    attempt *a = p;
    sb_api_response r;
    a->status = login(a->user, "wrong password", &r);
    sb_api_response_free(&r);
    return NULL;
}

static void parallel_failures(const char *name, int n)
{
    pthread_t th[8];
    attempt a[8];
    for (int i = 0; i < n; i++) {
        a[i] = (attempt){name, 0};
        pthread_create(&th[i], NULL, wrong_password, &a[i]);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(a[i].status, 401);
    }
}

Test(auth, parallel_wrong_passwords_are_counted_exactly)
{
    user("gina", NULL);
    user("hank", NULL);
    parallel_failures("gina", 4);
    cr_assert_eq(sql_long("SELECT failed_logins FROM users WHERE username = 'gina'"), 4,
                 "4 of 4 counted");
    cr_assert_eq(
        sql_long("SELECT count(*) FROM users WHERE username = 'gina' AND locked_until IS NULL"), 1);
    parallel_failures("hank", 5);
    cr_assert_eq(sql_long("SELECT count(*) FROM users WHERE username = 'hank'"
                          " AND locked_until = to_timestamp(1893456900) AND failed_logins = 0"),
                 1, "the fifth parallel failure locked the account");
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE action = 'auth.login.locked'"),
                 1);
    login_expect("hank", PW, 401);
}

Test(auth, the_login_rate_limit_answers_429_with_retry_after)
{
    app->fixed_now_ms = T0 + 10 * 1000; /* 10 s into a window */
    sb_api_response r;
    for (int i = 0; i < 30; i++) {
        long st = sb_api_call(h, "POST", "/api/v1/auth/login", "{}", NULL, NULL, &r);
        cr_assert_eq(st, 400, "attempt %d: %ld", i + 1, st);
        sb_api_response_free(&r);
    }
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(login("nobody", PW, &r), 429);
        cr_assert_str_eq(err_code(&r), "rate_limited");
        char retry[16];
        cr_assert_eq(sb_api_response_header(&r, "Retry-After", retry, sizeof retry), 0);
        cr_assert_str_eq(retry, "50");
        sb_api_response_free(&r);
    }
    cr_assert_eq(
        sql_long("SELECT count(*) FROM audit_events WHERE action = 'auth.login.rate_limited'"), 1,
        "audited once per window");
    app->fixed_now_ms = T0 + 60 * 1000; /* the next window */
    user("ivan", NULL);
    login_expect("ivan", PW, 200);
}

/* status, WWW-Authenticate and error body minus request_id */
static void failure_shape(const char *u, const char *pw, char *out, size_t cap)
{
    sb_api_response r;
    long st = login(u, pw, &r);
    char www[128] = "";
    sb_api_response_header(&r, "WWW-Authenticate", www, sizeof www);
    json_t *e = json_object_get(r.json, "error");
    snprintf(out, cap, "%ld|%s|%s|%s", st, www, json_string_value(json_object_get(e, "code")),
             json_string_value(json_object_get(e, "message")));
    sb_api_response_free(&r);
}

Test(auth, unknown_disabled_locked_and_wrong_password_answer_alike)
{
    user("judy", NULL);
    user("ken", NULL);
    user("lena", NULL);
    sb_api_harness_sql(h, "UPDATE users SET status = 'disabled' WHERE username = 'ken'", NULL, 0);
    sb_api_harness_sql(h, "UPDATE users SET locked_until = '2031-01-01' WHERE username = 'lena'",
                       NULL, 0);
    char wrong[512], unknown[512], disabled[512], locked[512];
    failure_shape("judy", "wrong password", wrong, sizeof wrong);
    failure_shape("no-such-user", PW, unknown, sizeof unknown);
    failure_shape("ken", PW, disabled, sizeof disabled);
    failure_shape("lena", PW, locked, sizeof locked);
    cr_assert(strncmp(wrong, "401|Bearer", 10) == 0, "%s", wrong);
    cr_assert_str_eq(unknown, wrong);
    cr_assert_str_eq(disabled, wrong);
    cr_assert_str_eq(locked, wrong);
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE action = 'auth.login'"
                          " AND outcome = 'failure'"),
                 4, "every failure audited");
    cr_assert_eq(sql_long("SELECT count(*) FROM audit_events WHERE details->>'reason' IN"
                          " ('bad_password', 'unknown_user', 'disabled', 'locked')"),
                 4);
}
