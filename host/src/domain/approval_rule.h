/*
 * domain/approval_rule.h — the approval decision rule (SPEC §8,
 * reference/original-api.md §3.3 and §10 item 3).
 *
 * Contract: pure. The store evaluates it inside the transaction that records
 * the vote, with the request row locked, over the workflow snapshot taken at
 * submit, the votes already recorded and the new vote; it then records the
 * vote (when accepted) and applies the request-machine event that
 * sb_approval_request_event names. Two simultaneous votes serialise on the
 * row lock, so the second sees the first and cannot transition twice.
 *
 * Rules:
 *  - threshold = max(1, min_approvers): min_approvers 0 still needs one vote.
 *  - one vote per approver (a second vote of any decision is refused).
 *  - any accepted reject decides the request: REJECTED.
 *  - APPROVED when the distinct approve votes reach the threshold AND every
 *    group (AND semantics) has at least its required count of approvers.
 *    An approver fills at most ONE group slot: a person who is a member of
 *    both "owning team" and "security" counts for either group but never for
 *    both at once (separation of duties). Satisfaction is decided by a
 *    maximum bipartite matching of approvers to group slots, so the order of
 *    votes does not matter ("team+security member" then "team member"
 *    satisfies team=1 AND security=1).
 *  - the requester may not vote unless allow_self_approval (read/patch only).
 *  - cross_team (filler_id given): requester != filler != approvers; the
 *    requester and the filler can never vote, whatever allow_self_approval.
 *  - when the workflow has groups, a voter (approve OR reject) must be a
 *    member of at least one group: otherwise anyone holding secret.approve
 *    could veto a request they are not an approver of.
 *  - once prior votes decide the request, further votes are refused
 *    (ALREADY_DECIDED); the machine refuses them too (409) — belt and braces.
 * Group membership is evaluated by the caller (the group predicate against
 * the voter's grants in the request's scope) and passed as a bitmask: bit g
 * set = member of groups[g]. Permission checks (secret.approve in the
 * request's project scope) are the caller's, before this rule.
 *
 * Suggested API mapping of refusals: DUPLICATE_VOTE / ALREADY_DECIDED -> 409;
 * the others -> 403.
 */
#ifndef SB_DOMAIN_APPROVAL_RULE_H
#define SB_DOMAIN_APPROVAL_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/request_machine.h"
#include "util/error.h"

#define SB_APPROVAL_MAX_GROUPS 32 /* membership is a uint32_t bitmask */
#define SB_APPROVAL_MAX_SLOTS 64  /* sum of the groups' required counts */

typedef struct sb_approval_group {
    const char *name; /* for messages */
    unsigned required; /* approvals needed from this group's members (0 = none) */
} sb_approval_group;

typedef struct sb_approval_workflow {
    unsigned min_approvers; /* floored to 1 */
    const sb_approval_group *groups;
    size_t n_groups; /* 0 = no groups: any permitted approver counts */
    bool allow_self_approval;
} sb_approval_workflow;

typedef enum sb_vote_decision { SB_VOTE_APPROVE, SB_VOTE_REJECT } sb_vote_decision;

typedef struct sb_approval_vote {
    const char *approver_id;
    sb_vote_decision decision;
    uint32_t groups; /* bit g: the approver is a member of groups[g] */
} sb_approval_vote;

typedef struct sb_approval_input {
    const sb_approval_workflow *workflow;
    const char *requester_id;
    const char *filler_id;       /* cross_team: who filled; NULL for other kinds */
    const sb_approval_vote *votes; /* already recorded (accepted) votes */
    size_t n_votes;
} sb_approval_input;

typedef enum sb_approval_status {
    SB_APPROVAL_STILL_PENDING,
    SB_APPROVAL_APPROVED,
    SB_APPROVAL_REJECTED,
} sb_approval_status;

typedef enum sb_vote_refusal {
    SB_VOTE_OK,                 /* accepted */
    SB_VOTE_ALREADY_DECIDED,    /* prior votes already approved or rejected it */
    SB_VOTE_SELF_APPROVAL,      /* requester voting, allow_self_approval off */
    SB_VOTE_REQUESTER_CROSS_TEAM, /* cross_team requester: never (SoD) */
    SB_VOTE_FILLER,             /* cross_team filler voting (SoD) */
    SB_VOTE_DUPLICATE,          /* this approver has voted already */
    SB_VOTE_NOT_IN_GROUP,       /* groups exist and the voter is in none */
} sb_vote_refusal;

typedef struct sb_approval_outcome {
    bool accepted;              /* refusal == SB_VOTE_OK */
    sb_vote_refusal refusal;
    sb_approval_status status;  /* after the vote (without it when refused) */
    unsigned approvals;         /* distinct approve votes counted */
    unsigned threshold;         /* max(1, min_approvers) */
    const char *unmet_group;    /* STILL_PENDING: a group that cannot yet be
                                   filled, or NULL when only the threshold is
                                   short */
} sb_approval_outcome;

/* Evaluate new_vote against the input. Returns 0 with *out filled (a refused
 * vote is not an error), or -1 with SB_DOMAIN_E_INVALID for malformed input:
 * NULL/empty ids, more than SB_APPROVAL_MAX_GROUPS groups or
 * SB_APPROVAL_MAX_SLOTS required slots, membership bits beyond n_groups, a
 * recorded vote listed twice for one approver; SB_DOMAIN_E_NO_MEMORY. */
int sb_approval_evaluate(const sb_approval_input *in, const sb_approval_vote *new_vote,
                         sb_approval_outcome *out, sb_error *err);

/* The status of the recorded votes alone (no new vote). Same errors. */
int sb_approval_status_of(const sb_approval_input *in, sb_approval_outcome *out, sb_error *err);

/* Cross-team fill separation of duties: the filler is not the requester
 * (votes come after the fill, and sb_approval_evaluate refuses the filler's).
 * 0, or -1 with SB_DOMAIN_E_DENIED (SB_DOMAIN_E_INVALID for a NULL/empty id). */
int sb_approval_check_filler(const char *requester_id, const char *filler_id, sb_error *err);

/* The request-machine event for an accepted vote with this outcome status:
 * STILL_PENDING -> VOTE; REJECTED -> REJECT; APPROVED -> APPROVE_VOTE_DECIDED
 * (read, patch) or VERIFY_APPROVED (cross_team). Returns -1 (INVALID) for
 * direct_reveal, which has no votes. */
int sb_approval_request_event(sb_request_kind kind, sb_approval_status status,
                              sb_request_event *ev, sb_error *err);

/* Stable names: "ok", "already_decided", "self_approval",
 * "requester_cannot_vote", "filler_cannot_vote", "duplicate_vote",
 * "not_in_any_group"; "still_pending", "approved", "rejected". */
const char *sb_vote_refusal_name(sb_vote_refusal r);
const char *sb_approval_status_name(sb_approval_status s);

#endif
