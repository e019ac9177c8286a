/* domain/session_policy.c — see session_policy.h. */
#include "domain/session_policy.h"

#include "domain/domain_error.h"

/* a + b without overflow (times and limits are bounded, inputs may not be). */
static int64_t add_saturating(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

int sb_session_limits_check(const sb_session_limits *l, sb_error *err)
{
    if (l == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "session limits: none given");
    if (l->idle_seconds <= 0 || l->idle_seconds > SB_SESSION_LIMIT_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "session idle timeout must be between 1 s and %d s, got %lld s",
                            SB_SESSION_LIMIT_MAX, (long long)l->idle_seconds);
    if (l->absolute_seconds < l->idle_seconds || l->absolute_seconds > SB_SESSION_LIMIT_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "session absolute timeout must be at least the idle timeout (%lld s) "
                            "and at most %d s, got %lld s",
                            (long long)l->idle_seconds, SB_SESSION_LIMIT_MAX,
                            (long long)l->absolute_seconds);
    return 0;
}

static sb_session_decision expired(sb_session_status status, int64_t absolute_expires_at)
{
    sb_session_decision d = {status, absolute_expires_at, 0, 0};
    return d;
}

sb_session_decision sb_session_evaluate(const sb_session_limits *l, int64_t created_at,
                                        int64_t last_seen_at, int64_t now)
{
    if (sb_session_limits_check(l, NULL) != 0)
        return expired(SB_SESSION_EXPIRED_ABSOLUTE, created_at);
    int64_t absolute = add_saturating(created_at, l->absolute_seconds);
    if (now >= absolute)
        return expired(SB_SESSION_EXPIRED_ABSOLUTE, absolute);
    if (now >= add_saturating(last_seen_at, l->idle_seconds))
        return expired(SB_SESSION_EXPIRED_IDLE, absolute);
    int64_t from = now > last_seen_at ? now : last_seen_at;
    int64_t idle = add_saturating(from, l->idle_seconds);
    sb_session_decision d = {SB_SESSION_VALID, absolute, idle < absolute ? idle : absolute,
                             absolute - now};
    return d;
}

sb_session_decision sb_session_start(const sb_session_limits *l, int64_t now)
{
    return sb_session_evaluate(l, now, now, now);
}

bool sb_session_step_up_fresh(int64_t last_mfa_at, int64_t now, int64_t window_seconds)
{
    if (last_mfa_at <= 0 || window_seconds <= 0)
        return false;
    return now < add_saturating(last_mfa_at, window_seconds);
}

int sb_lockout_policy_check(const sb_lockout_policy *p, sb_error *err)
{
    if (p == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "lockout policy: none given");
    if (p->max_failures < 1)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "lockout: max failures must be at least 1, got %d", p->max_failures);
    if (p->lock_seconds < 1 || p->lock_seconds > SB_SESSION_LIMIT_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "lockout: lock duration must be between 1 s and %d s, got %lld s",
                            SB_SESSION_LIMIT_MAX, (long long)p->lock_seconds);
    return 0;
}

bool sb_lockout_is_locked(const sb_lockout_state *s, int64_t now)
{
    return s != NULL && now < s->locked_until;
}

int64_t sb_lockout_retry_after(const sb_lockout_state *s, int64_t now)
{
    return sb_lockout_is_locked(s, now) ? s->locked_until - now : 0;
}

sb_lockout_state sb_lockout_on_failure(const sb_lockout_policy *p, sb_lockout_state s, int64_t now)
{
    if (sb_lockout_is_locked(&s, now))
        return s;
    sb_lockout_policy fallback = {SB_LOCKOUT_MAX_FAILURES_DEFAULT, SB_LOCKOUT_SECONDS_DEFAULT};
    if (sb_lockout_policy_check(p, NULL) != 0)
        p = &fallback; /* fail closed onto the defaults, never onto "no lockout" */
    int count = s.failed_count < 0 ? 0 : s.failed_count;
    count = count >= p->max_failures ? p->max_failures : count + 1;
    if (count >= p->max_failures) {
        s.failed_count = 0;
        s.locked_until = add_saturating(now, p->lock_seconds);
    } else {
        s.failed_count = count;
    }
    return s;
}

sb_lockout_state sb_lockout_on_success(void)
{
    sb_lockout_state s = {0, 0};
    return s;
}
