/*
 * domain/rate_limit.h — rate-limit decisions from counters the store keeps.
 *
 * Contract: the store keeps one counter row per (bucket, window start) and
 * increments it atomically for every attempt, denied ones included; these
 * functions decide from the counts it returns, which include the attempt
 * being decided. No clock: now is passed in (Unix seconds).
 *
 *  fixed window    allowed while count <= limit; retry after the window ends.
 *  sliding window  the usual two-window estimate (as Cloudflare and the
 *                  earlier product's Redis limiter approximate it):
 *                      previous * (W - elapsed) / W + current <= limit
 *                  computed in integers (no rounding drift); retry_after is
 *                  the least whole number of seconds after which one more
 *                  attempt would be allowed if nothing else arrives.
 * retry_after is >= 1 when denied (it becomes a Retry-After header), 0 when
 * allowed. Counts are clamped to [0, 2^31) so the arithmetic cannot overflow.
 */
#ifndef SB_DOMAIN_RATE_LIMIT_H
#define SB_DOMAIN_RATE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define SB_RATE_LIMIT_MAX (INT64_C(1) << 31)

typedef struct sb_rate_limit {
    int64_t limit;          /* attempts per window, 1 .. SB_RATE_LIMIT_MAX */
    int64_t window_seconds; /* 1 .. SB_RATE_LIMIT_MAX */
} sb_rate_limit;

typedef struct sb_rate_decision {
    bool allowed;
    int64_t retry_after; /* seconds; 0 when allowed */
    int64_t remaining;   /* attempts left in the window after this one */
} sb_rate_decision;

int sb_rate_limit_check(const sb_rate_limit *limit, sb_error *err);
/* Start of the fixed window containing now (floor to a multiple of window). */
int64_t sb_rate_window_start(int64_t now, int64_t window_seconds);
sb_rate_decision sb_rate_fixed_window(const sb_rate_limit *limit, int64_t window_start,
                                      int64_t count, int64_t now);
/* window_start is the start of the current window; previous_count is the
 * count of the window just before it (0 when none). */
sb_rate_decision sb_rate_sliding_window(const sb_rate_limit *limit, int64_t window_start,
                                        int64_t previous_count, int64_t current_count,
                                        int64_t now);

#endif
