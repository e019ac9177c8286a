/* domain/rate_limit.c — see rate_limit.h. */
#include "domain/rate_limit.h"

#include "domain/domain_error.h"

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int sb_rate_limit_check(const sb_rate_limit *l, sb_error *err)
{
    if (l == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "rate limit: none given");
    if (l->limit < 1 || l->limit > SB_RATE_LIMIT_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "rate limit: the limit must be between 1 and %lld, got %lld",
                            (long long)SB_RATE_LIMIT_MAX, (long long)l->limit);
    if (l->window_seconds < 1 || l->window_seconds > SB_RATE_LIMIT_MAX)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "rate limit: the window must be between 1 s and %lld s, got %lld s",
                            (long long)SB_RATE_LIMIT_MAX, (long long)l->window_seconds);
    return 0;
}

int64_t sb_rate_window_start(int64_t now, int64_t window)
{
    if (window < 1)
        return now;
    int64_t r = now % window;
    return r < 0 ? now - r - window : now - r;
}

/* Invalid limits deny (fail closed) with a retry of one window or a minute. */
static sb_rate_decision refuse_invalid(const sb_rate_limit *l)
{
    int64_t w = l != NULL && l->window_seconds >= 1 && l->window_seconds <= SB_RATE_LIMIT_MAX
                    ? l->window_seconds
                    : 60;
    sb_rate_decision d = {false, w, 0};
    return d;
}

sb_rate_decision sb_rate_fixed_window(const sb_rate_limit *l, int64_t window_start, int64_t count,
                                      int64_t now)
{
    if (sb_rate_limit_check(l, NULL) != 0)
        return refuse_invalid(l);
    count = clamp(count, 0, SB_RATE_LIMIT_MAX);
    sb_rate_decision d = {true, 0, l->limit - count};
    if (count <= l->limit)
        return d;
    int64_t elapsed = clamp(now - window_start, 0, l->window_seconds);
    d.allowed = false;
    d.remaining = 0;
    d.retry_after = clamp(l->window_seconds - elapsed, 1, l->window_seconds);
    return d;
}

sb_rate_decision sb_rate_sliding_window(const sb_rate_limit *l, int64_t window_start,
                                        int64_t previous_count, int64_t current_count,
                                        int64_t now)
{
    if (sb_rate_limit_check(l, NULL) != 0)
        return refuse_invalid(l);
    const int64_t w = l->window_seconds, lim = l->limit;
    const int64_t prev = clamp(previous_count, 0, SB_RATE_LIMIT_MAX);
    const int64_t curr = clamp(current_count, 0, SB_RATE_LIMIT_MAX);
    const int64_t e = clamp(now - window_start, 0, w - 1);
    /* All products stay below 2^62: every factor is at most 2^31. */
    int64_t budget = lim * w - prev * (w - e) - curr * w; /* in attempt-seconds */
    sb_rate_decision d = {true, 0, budget >= 0 ? budget / w : 0};
    if (budget >= 0)
        return d;
    d.allowed = false;
    d.remaining = 0;
    /* One more attempt later, assuming nothing else arrives. */
    if (curr + 1 <= lim) {
        /* Same window: need prev * (w - e') <= (lim - curr - 1) * w, prev > 0 here. */
        int64_t reach = (lim - curr - 1) * w / prev; /* largest allowed w - e' */
        d.retry_after = clamp(w - reach - e, 1, w);
    } else {
        /* Next window: prev' = curr, curr' = 0, need curr * (w - e'') + w <= lim * w. */
        int64_t reach = (lim - 1) * w / curr;
        int64_t e2 = clamp(w - reach, 0, w);
        d.retry_after = (w - e) + e2;
    }
    return d;
}
