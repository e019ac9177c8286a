/*
 * tests/unit/test_domain_session.c — session expiry, step-up freshness,
 * login lockout and rate-limit decisions (host/src/domain/session_policy.c,
 * rate_limit.c): every boundary exactly, the idle slide capped by the
 * absolute expiry, clocks going backwards, invalid limits failing closed,
 * and the sliding-window retry_after checked against a brute-force search.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "domain/domain_error.h"
#include "domain/rate_limit.h"
#include "domain/session_policy.h"

static const sb_session_limits dflt = {SB_SESSION_IDLE_DEFAULT, SB_SESSION_ABSOLUTE_DEFAULT};

#define C0 1700000000 /* created_at */
#define IDLE SB_SESSION_IDLE_DEFAULT
#define ABS SB_SESSION_ABSOLUTE_DEFAULT

static const struct {
    const char *name;
    int64_t last_seen, now;
    sb_session_status status;
    int64_t idle_expires_at; /* when valid */
} session_cases[] = {
    {"fresh", C0, C0, SB_SESSION_VALID, C0 + IDLE},
    {"one second before idle", C0, C0 + IDLE - 1, SB_SESSION_VALID, C0 + 2 * IDLE - 1},
    {"exactly at idle", C0, C0 + IDLE, SB_SESSION_EXPIRED_IDLE, 0},
    {"after idle", C0, C0 + IDLE + 1, SB_SESSION_EXPIRED_IDLE, 0},
    {"slid by recent use", C0 + 7000, C0 + 7100, SB_SESSION_VALID, C0 + 7100 + IDLE},
    {"slide capped by absolute", C0 + ABS - 100, C0 + ABS - 10, SB_SESSION_VALID, C0 + ABS},
    {"one second before absolute", C0 + ABS - 5, C0 + ABS - 1, SB_SESSION_VALID, C0 + ABS},
    {"exactly at absolute", C0 + ABS - 5, C0 + ABS, SB_SESSION_EXPIRED_ABSOLUTE, 0},
    {"after absolute, active", C0 + ABS + 10, C0 + ABS + 20, SB_SESSION_EXPIRED_ABSOLUTE, 0},
    {"both passed: absolute wins", C0, C0 + ABS + IDLE, SB_SESSION_EXPIRED_ABSOLUTE, 0},
    {"clock went backwards", C0 + 500, C0 + 400, SB_SESSION_VALID, C0 + 500 + IDLE},
    {"now before created", C0, C0 - 50, SB_SESSION_VALID, C0 + IDLE},
};

Test(session, expiry_boundaries)
{
    for (size_t i = 0; i < sizeof session_cases / sizeof session_cases[0]; i++) {
        sb_session_decision d =
            sb_session_evaluate(&dflt, C0, session_cases[i].last_seen, session_cases[i].now);
        cr_assert_eq(d.status, session_cases[i].status, "%s: status %d", session_cases[i].name,
                     (int)d.status);
        cr_assert_eq(d.absolute_expires_at, C0 + ABS, "%s", session_cases[i].name);
        if (d.status == SB_SESSION_VALID) {
            cr_assert_eq(d.idle_expires_at, session_cases[i].idle_expires_at, "%s: idle %lld",
                         session_cases[i].name, (long long)d.idle_expires_at);
            cr_assert_leq(d.idle_expires_at, d.absolute_expires_at);
            cr_assert_eq(d.cookie_max_age, C0 + ABS - session_cases[i].now);
        } else {
            cr_assert_eq(d.cookie_max_age, 0);
            cr_assert_eq(d.idle_expires_at, 0);
        }
    }
}

Test(session, start_and_limits)
{
    sb_session_decision d = sb_session_start(&dflt, C0);
    cr_assert_eq(d.status, SB_SESSION_VALID);
    cr_assert_eq(d.idle_expires_at, C0 + IDLE);
    cr_assert_eq(d.absolute_expires_at, C0 + ABS);
    cr_assert_eq(d.cookie_max_age, ABS);
    /* idle == absolute: the slide never passes the absolute expiry. */
    sb_session_limits same = {600, 600};
    d = sb_session_evaluate(&same, C0, C0 + 300, C0 + 599);
    cr_assert_eq(d.status, SB_SESSION_VALID);
    cr_assert_eq(d.idle_expires_at, C0 + 600);

    static const struct {
        sb_session_limits l;
        const char *message;
    } bad[] = {
        {{0, 100}, "session idle timeout must be between 1 s and 31622400 s, got 0 s"},
        {{-5, 100}, "session idle timeout must be between 1 s and 31622400 s, got -5 s"},
        {{100, 99}, "session absolute timeout must be at least the idle timeout (100 s) and at "
                    "most 31622400 s, got 99 s"},
        {{100, INT64_MAX}, "session absolute timeout must be at least the idle timeout (100 s) "
                           "and at most 31622400 s, got 9223372036854775807 s"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_error err = {0};
        cr_assert_eq(sb_session_limits_check(&bad[i].l, &err), -1);
        cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
        cr_assert_str_eq(err.message, bad[i].message);
        /* Invalid limits fail closed. */
        d = sb_session_evaluate(&bad[i].l, C0, C0, C0);
        cr_assert_eq(d.status, SB_SESSION_EXPIRED_ABSOLUTE, "case %zu", i);
    }
    cr_assert_eq(sb_session_limits_check(&dflt, NULL), 0);
    cr_assert_eq(sb_session_limits_check(NULL, NULL), -1);
    cr_assert_eq(sb_session_evaluate(NULL, C0, C0, C0).status, SB_SESSION_EXPIRED_ABSOLUTE);
    /* Extreme times do not overflow. */
    d = sb_session_evaluate(&dflt, INT64_MAX - 10, INT64_MAX - 10, INT64_MAX - 5);
    cr_assert_eq(d.status, SB_SESSION_VALID);
    cr_assert_eq(d.idle_expires_at, INT64_MAX);
}

Test(session, step_up_freshness)
{
    int64_t w = SB_STEP_UP_WINDOW_DEFAULT;
    cr_assert(sb_session_step_up_fresh(C0, C0, w));
    cr_assert(sb_session_step_up_fresh(C0, C0 + w - 1, w));
    cr_assert(!sb_session_step_up_fresh(C0, C0 + w, w), "exactly at the window: stale");
    cr_assert(!sb_session_step_up_fresh(0, C0, w), "never stepped up");
    cr_assert(!sb_session_step_up_fresh(-1, C0, w));
    cr_assert(!sb_session_step_up_fresh(C0, C0, 0));
}

static const sb_lockout_policy lp = {SB_LOCKOUT_MAX_FAILURES_DEFAULT, SB_LOCKOUT_SECONDS_DEFAULT};

Test(lockout, five_failures_lock_for_fifteen_minutes)
{
    sb_lockout_state s = {0, 0};
    int64_t t = C0;
    for (int i = 1; i <= 4; i++) {
        s = sb_lockout_on_failure(&lp, s, t + i);
        cr_assert_eq(s.failed_count, i);
        cr_assert(!sb_lockout_is_locked(&s, t + i), "locked after %d failures", i);
        cr_assert_eq(sb_lockout_retry_after(&s, t + i), 0);
    }
    s = sb_lockout_on_failure(&lp, s, t + 5);
    cr_assert_eq(s.locked_until, t + 5 + 900);
    cr_assert_eq(s.failed_count, 0, "the lock resets the count");
    cr_assert(sb_lockout_is_locked(&s, t + 5));
    cr_assert(sb_lockout_is_locked(&s, t + 5 + 899));
    cr_assert_eq(sb_lockout_retry_after(&s, t + 5 + 899), 1);
    cr_assert_eq(sb_lockout_retry_after(&s, t + 5), 900);
    cr_assert(!sb_lockout_is_locked(&s, t + 5 + 900), "exactly at locked_until: unlocked");
    cr_assert_eq(sb_lockout_retry_after(&s, t + 5 + 900), 0);

    /* Failures while locked neither count nor extend the lock. */
    sb_lockout_state during = sb_lockout_on_failure(&lp, s, t + 100);
    cr_assert_eq(during.locked_until, s.locked_until);
    cr_assert_eq(during.failed_count, 0);

    /* After the lock: a fresh set of attempts. */
    s = sb_lockout_on_failure(&lp, s, t + 5 + 900);
    cr_assert_eq(s.failed_count, 1);
    cr_assert(!sb_lockout_is_locked(&s, t + 5 + 900));
    for (int i = 0; i < 4; i++)
        s = sb_lockout_on_failure(&lp, s, t + 2000);
    cr_assert(sb_lockout_is_locked(&s, t + 2000));
    cr_assert_eq(s.locked_until, t + 2000 + 900);
}

Test(lockout, success_resets)
{
    sb_lockout_state s = {0, 0};
    for (int i = 0; i < 4; i++)
        s = sb_lockout_on_failure(&lp, s, C0);
    s = sb_lockout_on_success();
    cr_assert_eq(s.failed_count, 0);
    cr_assert_eq(s.locked_until, 0);
    for (int i = 0; i < 4; i++)
        s = sb_lockout_on_failure(&lp, s, C0);
    cr_assert(!sb_lockout_is_locked(&s, C0), "4 after a success do not lock");
}

Test(lockout, bad_policy_and_state_fail_closed)
{
    sb_lockout_policy none = {0, 0};
    sb_error err = {0};
    cr_assert_eq(sb_lockout_policy_check(&none, &err), -1);
    cr_assert_str_eq(err.message, "lockout: max failures must be at least 1, got 0");
    sb_lockout_policy no_time = {5, 0};
    cr_assert_eq(sb_lockout_policy_check(&no_time, &err), -1);
    cr_assert_str_eq(err.message, "lockout: lock duration must be between 1 s and 31622400 s, "
                                  "got 0 s");
    cr_assert_eq(sb_lockout_policy_check(&lp, NULL), 0);
    /* An invalid policy falls back to the defaults, never to "no lockout". */
    sb_lockout_state s = {0, 0};
    for (int i = 0; i < 5; i++)
        s = sb_lockout_on_failure(&none, s, C0);
    cr_assert(sb_lockout_is_locked(&s, C0));
    cr_assert_eq(s.locked_until, C0 + SB_LOCKOUT_SECONDS_DEFAULT);
    /* A corrupt stored count (negative, or above the max) still locks. */
    sb_lockout_state neg = {-7, 0};
    neg = sb_lockout_on_failure(&lp, neg, C0);
    cr_assert_eq(neg.failed_count, 1);
    sb_lockout_state over = {99, 0};
    over = sb_lockout_on_failure(&lp, over, C0);
    cr_assert(sb_lockout_is_locked(&over, C0));
    cr_assert(!sb_lockout_is_locked(NULL, C0));
}

/* ---- rate limits ------------------------------------------------------ */

Test(rate_limit, window_start)
{
    cr_assert_eq(sb_rate_window_start(125, 60), 120);
    cr_assert_eq(sb_rate_window_start(120, 60), 120);
    cr_assert_eq(sb_rate_window_start(119, 60), 60);
    cr_assert_eq(sb_rate_window_start(0, 60), 0);
    cr_assert_eq(sb_rate_window_start(-1, 60), -60);
    cr_assert_eq(sb_rate_window_start(-60, 60), -60);
    cr_assert_eq(sb_rate_window_start(77, 0), 77);
}

Test(rate_limit, fixed_window_edges)
{
    sb_rate_limit l = {30, 60};
    sb_rate_decision d = sb_rate_fixed_window(&l, 120, 1, 120);
    cr_assert(d.allowed);
    cr_assert_eq(d.remaining, 29);
    cr_assert_eq(d.retry_after, 0);
    d = sb_rate_fixed_window(&l, 120, 30, 150);
    cr_assert(d.allowed, "the 30th attempt is allowed");
    cr_assert_eq(d.remaining, 0);
    d = sb_rate_fixed_window(&l, 120, 31, 150);
    cr_assert(!d.allowed, "the 31st is not");
    cr_assert_eq(d.retry_after, 30);
    d = sb_rate_fixed_window(&l, 120, 31, 179);
    cr_assert_eq(d.retry_after, 1);
    d = sb_rate_fixed_window(&l, 120, 31, 120);
    cr_assert_eq(d.retry_after, 60);
    d = sb_rate_fixed_window(&l, 120, 31, 500); /* stale window row: still >= 1 */
    cr_assert_eq(d.retry_after, 1);
    d = sb_rate_fixed_window(&l, 120, INT64_MAX, 121);
    cr_assert(!d.allowed);
}

Test(rate_limit, invalid_limits_deny)
{
    static const struct {
        sb_rate_limit l;
        const char *message;
    } bad[] = {
        {{0, 60}, "rate limit: the limit must be between 1 and 2147483648, got 0"},
        {{-1, 60}, "rate limit: the limit must be between 1 and 2147483648, got -1"},
        {{10, 0}, "rate limit: the window must be between 1 s and 2147483648 s, got 0 s"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_error err = {0};
        cr_assert_eq(sb_rate_limit_check(&bad[i].l, &err), -1);
        cr_assert_str_eq(err.message, bad[i].message);
        sb_rate_decision d = sb_rate_fixed_window(&bad[i].l, 0, 1, 0);
        cr_assert(!d.allowed);
        cr_assert_geq(d.retry_after, 1);
        d = sb_rate_sliding_window(&bad[i].l, 0, 0, 1, 0);
        cr_assert(!d.allowed);
        cr_assert_geq(d.retry_after, 1);
    }
    cr_assert(!sb_rate_fixed_window(NULL, 0, 1, 0).allowed);
}

/* Whether one more attempt at now would be allowed, given the counts of the
 * window containing `at` — straight from the definition. */
static bool would_allow(const sb_rate_limit *l, int64_t ws, int64_t prev, int64_t curr, int64_t at)
{
    int64_t w = l->window_seconds;
    int64_t k = (at - ws) / w; /* windows later */
    int64_t p = k == 0 ? prev : k == 1 ? curr : 0;
    int64_t c = k == 0 ? curr : 0;
    int64_t e = (at - ws) % w;
    return sb_rate_sliding_window(l, ws + k * w, p, c + 1, ws + k * w + e).allowed;
}

Test(rate_limit, sliding_window_examples)
{
    sb_rate_limit l = {10, 60};
    /* Halfway through: previous window weighs half. 10*0.5 + 5 = 10 -> ok. */
    sb_rate_decision d = sb_rate_sliding_window(&l, 60, 10, 5, 90);
    cr_assert(d.allowed);
    cr_assert_eq(d.remaining, 0);
    d = sb_rate_sliding_window(&l, 60, 10, 6, 90);
    cr_assert(!d.allowed);
    cr_assert_geq(d.retry_after, 1);
    /* Start of a window: previous counts in full. */
    d = sb_rate_sliding_window(&l, 60, 10, 1, 60);
    cr_assert(!d.allowed);
    /* Nothing previous: plain fixed window. */
    d = sb_rate_sliding_window(&l, 60, 0, 10, 61);
    cr_assert(d.allowed);
    d = sb_rate_sliding_window(&l, 60, 0, 11, 61);
    cr_assert(!d.allowed);
    cr_assert_eq(d.retry_after, 59 + 11, "next window: 11 * (60 - e)/60 + 1 <= 10 from e = 11");
}

Test(rate_limit, sliding_window_retry_after_is_exact)
{
    srand(5);
    size_t denied = 0;
    for (int k = 0; k < 20000; k++) {
        sb_rate_limit l = {1 + rand() % 12, 1 + rand() % 90};
        int64_t ws = 1000 * l.window_seconds;
        int64_t prev = rand() % (3 * l.limit + 1), curr = 1 + rand() % (2 * l.limit + 1);
        int64_t now = ws + rand() % l.window_seconds;
        sb_rate_decision d = sb_rate_sliding_window(&l, ws, prev, curr, now);
        /* allowed agrees with the definition */
        bool def = prev * (l.window_seconds - (now - ws)) + curr * l.window_seconds <=
                   l.limit * l.window_seconds;
        cr_assert_eq(d.allowed, def);
        if (d.allowed) {
            cr_assert_eq(d.retry_after, 0);
            continue;
        }
        denied++;
        cr_assert_geq(d.retry_after, 1);
        cr_assert(would_allow(&l, ws, prev, curr, now + d.retry_after),
                  "limit %lld window %lld prev %lld curr %lld e %lld: not allowed after %lld s",
                  (long long)l.limit, (long long)l.window_seconds, (long long)prev,
                  (long long)curr, (long long)(now - ws), (long long)d.retry_after);
        for (int64_t t = 1; t < d.retry_after; t++)
            cr_assert(!would_allow(&l, ws, prev, curr, now + t),
                      "limit %lld window %lld prev %lld curr %lld e %lld: allowed already after "
                      "%lld s < %lld s",
                      (long long)l.limit, (long long)l.window_seconds, (long long)prev,
                      (long long)curr, (long long)(now - ws), (long long)t,
                      (long long)d.retry_after);
    }
    cr_assert_gt(denied, 1000u);
}
