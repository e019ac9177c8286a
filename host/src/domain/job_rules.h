/*
 * domain/job_rules.h — the job queue's rules (SPEC §9, I4, I10): the job
 * state table, retry backoff, which job types this control plane knows, and
 * which payload keys would steer a connection.
 *
 * Contract (pure: no I/O, no clock, no randomness but what is passed in):
 *   - States queued, leased, succeeded, failed; events below. The table
 *     (sb_job_transition) is total: an event a state does not take answers
 *     SB_DOMAIN_E_ILLEGAL_TRANSITION. Retryable outcomes and expired leases
 *     re-queue while attempts < max_attempts and fail after that (the
 *     caller passes `exhausted`). succeeded and failed are terminal.
 *   - Backoff after the n-th failed attempt (n >= 1): base 2 s doubling,
 *     capped at 300 s, with "equal jitter": delay/2 + jitter % (delay/2 + 1),
 *     so it is never less than half the nominal delay and never more than it.
 *   - Known types: read, patch, discover. The schema also admits sync and
 *     verify (later increments); a control plane that does not know a type
 *     fails such a job at claim time instead of handing it out (the earlier
 *     product reported unknown types as successes).
 *   - Steering keys: a job payload holds references and sealed data only.
 *     A key (at any depth) equal, case-insensitively and ignoring '_' and
 *     '-', to one of address, url, endpoint, host, region, role, role_arn,
 *     namespace, token, token_path, mount, kv_mount, kv_prefix, auth,
 *     credentials, provider_config, config, target_provider_config/type, or
 *     ending (after folding) in url, endpoint, token or address, steers the
 *     connection and is refused.
 */
#ifndef SB_DOMAIN_JOB_RULES_H
#define SB_DOMAIN_JOB_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

typedef enum sb_job_state {
    SB_JOB_QUEUED = 0,
    SB_JOB_LEASED,
    SB_JOB_SUCCEEDED,
    SB_JOB_FAILED,
    SB_JOB_STATE_COUNT
} sb_job_state;

typedef enum sb_job_event {
    SB_JOB_EV_CLAIM = 0,         /* an agent of the connection leases it */
    SB_JOB_EV_RENEW,             /* the holder extends a live lease */
    SB_JOB_EV_SUCCEEDED,         /* the holder reports success */
    SB_JOB_EV_FAILED_RETRYABLE,  /* the holder reports a transient failure */
    SB_JOB_EV_FAILED_PERMANENT,  /* the holder reports a final failure */
    SB_JOB_EV_LEASE_EXPIRED,     /* the sweep finds the lease past its expiry */
    SB_JOB_EV_UNKNOWN_TYPE,      /* the control plane cannot hand this type out */
    SB_JOB_EVENT_COUNT
} sb_job_event;

#define SB_JOB_LEASE_DEFAULT_S 30
#define SB_JOB_BACKOFF_BASE_MS 2000
#define SB_JOB_BACKOFF_CAP_MS 300000
#define SB_JOB_CLAIM_WAIT_MAX_MS 25000

const char *sb_job_state_name(sb_job_state s);
int sb_job_state_parse(const char *name, sb_job_state *out);
const char *sb_job_event_name(sb_job_event e);

/* The next state for (state, event); exhausted = attempts >= max_attempts
 * (matters for FAILED_RETRYABLE and LEASE_EXPIRED only). */
int sb_job_transition(sb_job_state from, sb_job_event ev, bool exhausted, sb_job_state *to,
                      sb_error *err);

/* Delay in ms before attempt n+1 after the n-th failed attempt (n >= 1). */
int64_t sb_job_backoff_ms(int attempts, uint32_t jitter);

bool sb_job_type_known(const char *type);
bool sb_job_key_steers(const char *key);

#endif
