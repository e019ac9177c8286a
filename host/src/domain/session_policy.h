/*
 * domain/session_policy.h — session expiry, step-up freshness and login
 * lockout as pure arithmetic on times the caller passes in.
 *
 * Contract: times are Unix seconds (int64); nothing here reads a clock.
 *
 * Sessions (SPEC §8): a session is valid while
 *     now <  created_at + absolute          (absolute expiry, never extended)
 * and now <  last_seen_at + idle            (idle expiry, slides on use)
 * Exactly at a boundary the session has expired. When both have passed the
 * absolute expiry is reported. Using a valid session slides the idle expiry
 * to now + idle, capped by the absolute expiry. A clock that went backwards
 * (now < last_seen_at) never shortens the session: the slide starts from the
 * later of the two. Invalid limits (see sb_session_limits_check) fail closed.
 * The store slides a session at most once every SB_SESSION_SLIDE_EVERY_S
 * (a use within that time of the last slide is a read, not a write), so the
 * idle expiry may be up to that much earlier than last use + idle.
 *
 * Lockout (SPEC §8): each failed password counts; the failure that brings the
 * count to max_failures locks the account until now + lock_seconds and resets
 * the count (so after the lock the user has a fresh set of attempts). While
 * locked, logins are refused before the password is checked and further
 * failures neither count nor extend the lock (an attacker cannot keep a user
 * locked out indefinitely by guessing faster). A success resets everything.
 * The store applies the same rule atomically (one UPDATE per attempt).
 */
#ifndef SB_DOMAIN_SESSION_POLICY_H
#define SB_DOMAIN_SESSION_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define SB_SESSION_IDLE_DEFAULT (30 * 60)
#define SB_SESSION_ABSOLUTE_DEFAULT (8 * 60 * 60)
#define SB_SESSION_LIMIT_MAX (366 * 24 * 60 * 60)
#define SB_STEP_UP_WINDOW_DEFAULT (15 * 60)
#define SB_SESSION_SLIDE_EVERY_S 60
#define SB_SESSION_STR_(x) #x
#define SB_SESSION_STR(x) SB_SESSION_STR_(x)
/* The same as SQL text, for the store's statements. */
#define SB_SESSION_SLIDE_EVERY_SQL SB_SESSION_STR(SB_SESSION_SLIDE_EVERY_S)
#define SB_LOCKOUT_MAX_FAILURES_DEFAULT 5
#define SB_LOCKOUT_SECONDS_DEFAULT (15 * 60)

typedef struct sb_session_limits {
    int64_t idle_seconds;     /* > 0 */
    int64_t absolute_seconds; /* >= idle_seconds, <= SB_SESSION_LIMIT_MAX */
} sb_session_limits;

typedef enum sb_session_status {
    SB_SESSION_VALID,
    SB_SESSION_EXPIRED_IDLE,
    SB_SESSION_EXPIRED_ABSOLUTE,
} sb_session_status;

typedef struct sb_session_decision {
    sb_session_status status;
    int64_t absolute_expires_at; /* created_at + absolute */
    int64_t idle_expires_at;     /* when VALID: the slid idle expiry to store */
    int64_t cookie_max_age;      /* seconds until the absolute expiry; 0 when expired */
} sb_session_decision;

/* 0 when the limits are usable; else -1 naming the bad field. */
int sb_session_limits_check(const sb_session_limits *limits, sb_error *err);
/* The expiries of a session created at now. */
sb_session_decision sb_session_start(const sb_session_limits *limits, int64_t now);
/* Whether a session is still valid at now, and its new idle expiry. */
sb_session_decision sb_session_evaluate(const sb_session_limits *limits, int64_t created_at,
                                        int64_t last_seen_at, int64_t now);
/* True when a step-up (MFA) at last_mfa_at (<= 0: never) is still fresh:
 * now < last_mfa_at + window. */
bool sb_session_step_up_fresh(int64_t last_mfa_at, int64_t now, int64_t window_seconds);

typedef struct sb_lockout_policy {
    int max_failures;     /* >= 1 */
    int64_t lock_seconds; /* >= 1 */
} sb_lockout_policy;

typedef struct sb_lockout_state {
    int failed_count;
    int64_t locked_until; /* 0 when never locked */
} sb_lockout_state;

int sb_lockout_policy_check(const sb_lockout_policy *policy, sb_error *err);
bool sb_lockout_is_locked(const sb_lockout_state *state, int64_t now);
/* Seconds until the lock ends (for Retry-After), 0 when not locked. */
int64_t sb_lockout_retry_after(const sb_lockout_state *state, int64_t now);
sb_lockout_state sb_lockout_on_failure(const sb_lockout_policy *policy, sb_lockout_state state,
                                       int64_t now);
sb_lockout_state sb_lockout_on_success(void);

#endif
