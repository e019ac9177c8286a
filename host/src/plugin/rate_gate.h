/*
 * plugin/rate_gate.h — the pace of requests to one provider instance: a token
 * bucket (its rate limit) and a pause (the provider said "slow down").
 *
 * Contract: sb_rate_gate_take answers how long the caller must wait before
 * one request may go (0: go now, a token taken); a pause set by
 * sb_rate_gate_throttled holds every caller until it ends — for the
 * provider's Retry-After when it gave one, else for an exponential backoff
 * with equal jitter (500 ms doubling per consecutive throttle, capped at
 * 30 s). sb_rate_gate_passed ends the streak of throttles. Rate 0 means no
 * limit (the pause still applies). Thread-safe; times are monotonic
 * milliseconds passed in by the caller (testable without a clock).
 */
#ifndef SB_PLUGIN_RATE_GATE_H
#define SB_PLUGIN_RATE_GATE_H

#include <pthread.h>
#include <stdint.h>

#define SB_RATE_GATE_PAUSE_MAX_MS 30000

typedef struct sb_rate_gate {
    pthread_mutex_t mu;
    double per_ms;        /* tokens per millisecond; 0: no limit */
    double burst;         /* bucket size: one second's worth */
    double tokens;
    int64_t refilled_at;  /* -1: not yet */
    int64_t paused_until;
    int throttles;        /* consecutive throttled answers */
} sb_rate_gate;

void sb_rate_gate_init(sb_rate_gate *g, int64_t rate_per_second);
void sb_rate_gate_destroy(sb_rate_gate *g);
int64_t sb_rate_gate_take(sb_rate_gate *g, int64_t now);
/* Returns the pause it set (ms). */
int64_t sb_rate_gate_throttled(sb_rate_gate *g, int64_t now, uint32_t retry_after_ms);
void sb_rate_gate_passed(sb_rate_gate *g);

#endif
