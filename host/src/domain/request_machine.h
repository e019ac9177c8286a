/*
 * domain/request_machine.h — the request lifecycle as ONE table (SPEC §8).
 *
 * Contract: pure (no I/O, no clock). Every status change of a request goes
 * through sb_request_transition: the store reads the row FOR UPDATE, asks the
 * machine (kind, current state, event) -> (new state, actions), performs the
 * actions in the same transaction and writes the new state with a
 * compare-and-set on the old one. Nothing else writes a request status.
 *
 * Kinds and lifecycles (SPEC §8, reference/original-api.md §3.2):
 *   read, patch    new -submit-> pending -approve_vote_decided-> approved
 *                  -job_succeeded-> executed | -job_failed-> failed;
 *                  pending -reject|cancel|expire-> rejected|cancelled|expired.
 *                  patch stores sealed values at submit.
 *   direct_reveal  new -submit-> approved, only when the resolved policy allows
 *                  direct reveal AND the environment is not prod (I9): the
 *                  caller passes both in sb_request_ctx; otherwise submit is
 *                  refused with SB_DOMAIN_E_DENIED (403, not 409). Then
 *                  approved -> executed | failed like read.
 *   cross_team     new -submit-> pending_values -fill-> pending_verification
 *                  -verify_approved-> approved -> executed | failed;
 *                  pending_values -refuse-> refused, -fill_window_expired->
 *                  expired; pending_values|pending_verification -cancel->
 *                  cancelled, -expire (request TTL)-> expired;
 *                  pending_verification -reject-> rejected; approved
 *                  -execute_check_failed (allowlist re-check before the job is
 *                  created)-> failed.
 * "new" is a pseudo-state (the row does not exist yet): it is the from-state
 * of submit only and is never stored.
 *
 * "vote" is a recorded vote that does not decide the request (the approval
 * rule says still pending): pending -> pending (read/patch) and
 * pending_verification -> pending_verification (cross_team). It is in the
 * table so "may I vote on this request now?" has the same single answer.
 * The decisive vote is approve_vote_decided (read/patch) or verify_approved
 * (cross_team); a reject vote is reject. See approval_rule.h for the rule and
 * sb_approval_request_event for the mapping.
 *
 * Terminal states (executed, failed, rejected, cancelled, expired, refused)
 * accept no event. An illegal (kind, state, event) returns -1 with
 * SB_DOMAIN_E_ILLEGAL_TRANSITION (the API answers 409) and a message naming
 * the kind, the current state and the event, e.g.
 *   "cannot approve a read request that is executed (event approve_vote_decided)".
 */
#ifndef SB_DOMAIN_REQUEST_MACHINE_H
#define SB_DOMAIN_REQUEST_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/domain_error.h" /* SB_DOMAIN_E_ILLEGAL_TRANSITION, SB_DOMAIN_E_DENIED */
#include "util/error.h"

typedef enum sb_request_kind {
    SB_REQ_KIND_READ,
    SB_REQ_KIND_PATCH,
    SB_REQ_KIND_DIRECT_REVEAL,
    SB_REQ_KIND_CROSS_TEAM,
    SB_REQ_KIND_COUNT
} sb_request_kind;

typedef enum sb_request_state {
    SB_REQ_STATE_NEW, /* pseudo-state before submit; never stored */
    SB_REQ_STATE_PENDING,
    SB_REQ_STATE_APPROVED,
    SB_REQ_STATE_EXECUTED,
    SB_REQ_STATE_FAILED,
    SB_REQ_STATE_REJECTED,
    SB_REQ_STATE_CANCELLED,
    SB_REQ_STATE_EXPIRED,
    SB_REQ_STATE_PENDING_VALUES,
    SB_REQ_STATE_PENDING_VERIFICATION,
    SB_REQ_STATE_REFUSED,
    SB_REQ_STATE_COUNT
} sb_request_state;

typedef enum sb_request_event {
    SB_REQ_EV_SUBMIT,
    SB_REQ_EV_VOTE,                 /* a vote recorded; the rule says still pending */
    SB_REQ_EV_APPROVE_VOTE_DECIDED, /* read/patch: the rule says approved */
    SB_REQ_EV_REJECT,               /* a reject vote: any reject ends the request */
    SB_REQ_EV_CANCEL,               /* by the requester (session identity) */
    SB_REQ_EV_EXPIRE,               /* request TTL, from the sweep */
    SB_REQ_EV_JOB_SUCCEEDED,
    SB_REQ_EV_JOB_FAILED,
    SB_REQ_EV_FILL,                 /* cross_team: values provided */
    SB_REQ_EV_REFUSE,               /* cross_team: the filler refuses */
    SB_REQ_EV_VERIFY_APPROVED,      /* cross_team: the rule says approved */
    SB_REQ_EV_FILL_WINDOW_EXPIRED,  /* cross_team: fill_expires_at passed */
    SB_REQ_EV_EXECUTE_CHECK_FAILED, /* cross_team: allowlist re-check before the job */
    SB_REQ_EV_COUNT
} sb_request_event;

/* Actions the caller performs in the transition's transaction. */
enum sb_request_action {
    SB_REQ_ACT_AUDIT = 1u << 0,               /* every transition */
    SB_REQ_ACT_RECORD_VOTE = 1u << 1,         /* insert the vote row */
    SB_REQ_ACT_STORE_SEALED_VALUES = 1u << 2, /* patch submit, cross_team fill */
    SB_REQ_ACT_SET_FILL_DEADLINE = 1u << 3,   /* fill_expires_at = now + fill TTL */
    SB_REQ_ACT_CREATE_READ_KEYPAIR = 1u << 4, /* per-request X25519 pair (SPEC §10) */
    SB_REQ_ACT_REFRESH_WRAPS = 1u << 5,       /* wraps -> wrap_ttl_approved */
    SB_REQ_ACT_EXPIRE_WRAPS = 1u << 6,        /* live wraps -> 5 min (no-op if none) */
    SB_REQ_ACT_ENQUEUE_JOB = 1u << 7,         /* once the job queue exists */
    SB_REQ_ACT_RECORD_JOB_INTENT = 1u << 8,   /* until then (and always: idempotency) */
    SB_REQ_ACT_NOTIFY_REQUESTER = 1u << 9,
    SB_REQ_ACT_NOTIFY_APPROVERS = 1u << 10,
    SB_REQ_ACT_NOTIFY_FILLERS = 1u << 11,
};
#define SB_REQ_ACT_COUNT 12

#define SB_REQ_KIND_BIT(k) (1u << (unsigned)(k))

/* One row of the table. kinds is a mask of SB_REQ_KIND_BIT. needs_policy_gate
 * marks the direct_reveal submit: legal only with ctx->direct_reveal_allowed
 * and !ctx->env_is_prod. */
typedef struct sb_request_rule {
    uint32_t kinds;
    sb_request_state from;
    sb_request_event event;
    sb_request_state to;
    uint32_t actions;
    bool needs_policy_gate;
} sb_request_rule;

typedef struct sb_request_ctx {
    bool env_is_prod;           /* the target environment has kind=prod (I9) */
    bool direct_reveal_allowed; /* the resolved (snapshotted) policy allows it */
} sb_request_ctx;

/* The transition for (kind, from, ev). On success fills *to and *actions
 * (either may be NULL) and returns 0. Errors: SB_DOMAIN_E_INVALID (a value
 * out of range), SB_DOMAIN_E_ILLEGAL_TRANSITION (no row: 409),
 * SB_DOMAIN_E_DENIED (the row's policy gate fails: direct reveal on prod or
 * not allowed by policy; ctx NULL counts as failing the gate). */
int sb_request_transition_ctx(sb_request_kind kind, sb_request_state from, sb_request_event ev,
                              const sb_request_ctx *ctx, sb_request_state *to, uint32_t *actions,
                              sb_error *err);
/* sb_request_transition_ctx with ctx NULL (every non-gated transition). */
int sb_request_transition(sb_request_kind kind, sb_request_state from, sb_request_event ev,
                          sb_request_state *to, uint32_t *actions, sb_error *err);

/* True when a row exists for (kind, from, ev), ignoring the policy gate. */
bool sb_request_is_legal(sb_request_kind kind, sb_request_state from, sb_request_event ev);
/* Terminal: no event is legal from it for any kind. */
bool sb_request_state_is_terminal(sb_request_state s);
/* True when some row of the table has kind and uses s (as from or to); the
 * pseudo-state new is excluded. For SQL CHECK constraints and validation of
 * loaded rows. */
bool sb_request_kind_uses_state(sb_request_kind kind, sb_request_state s);

/* Enumeration: the table rows in order. */
size_t sb_request_table_size(void);
const sb_request_rule *sb_request_table_row(size_t i); /* NULL past the end */

/* Stable lower-case names (SQL values, JSON, audit): "read", "patch",
 * "direct_reveal", "cross_team"; "new", "pending", ..., "pending_verification",
 * "refused"; "submit", "vote", "approve_vote_decided", ...; actions "audit",
 * "record_vote", ... . NULL for a value out of range (or not one action bit). */
const char *sb_request_kind_name(sb_request_kind k);
const char *sb_request_state_name(sb_request_state s);
const char *sb_request_event_name(sb_request_event e);
const char *sb_request_action_name(uint32_t action_bit);
/* Parse an exact name. Return 0, or -1 with SB_DOMAIN_E_INVALID naming the
 * string. "new" does not parse as a state (it is never stored). */
int sb_request_kind_parse(const char *s, sb_request_kind *out, sb_error *err);
int sb_request_state_parse(const char *s, sb_request_state *out, sb_error *err);
int sb_request_event_parse(const char *s, sb_request_event *out, sb_error *err);

#endif
