/*
 * tests/unit/test_domain_request.c — the request state machine
 * (host/src/domain/request_machine.c) and the approval rule
 * (host/src/domain/approval_rule.c).
 *
 * The machine: EVERY (kind, state, event) triple is checked against an
 * independent list of the legal transitions written out below from SPEC §8
 * (to-state AND actions), so a typo in the table fails here; every other
 * triple must answer SB_DOMAIN_E_ILLEGAL_TRANSITION naming kind, state and
 * event. Then the direct-reveal gate, terminal states, names and enumeration.
 *
 * The rule: min_approvers floor 1, one vote per approver, any reject ends it,
 * self-approval, AND groups, one person never fills two groups (checked
 * against a brute force over small random cases), cross-team SoD, malformed
 * input, and whole flows driven through both modules.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "domain/approval_rule.h"
#include "domain/domain_error.h"
#include "domain/request_machine.h"

/* ---- the expected transitions, independent of the table ---------------- */

#define R SB_REQ_KIND_READ
#define P SB_REQ_KIND_PATCH
#define D SB_REQ_KIND_DIRECT_REVEAL
#define C SB_REQ_KIND_CROSS_TEAM
#define ST(x) SB_REQ_STATE_##x
#define EV(x) SB_REQ_EV_##x
#define AU SB_REQ_ACT_AUDIT
#define VO SB_REQ_ACT_RECORD_VOTE
#define SEAL SB_REQ_ACT_STORE_SEALED_VALUES
#define FDL SB_REQ_ACT_SET_FILL_DEADLINE
#define KP SB_REQ_ACT_CREATE_READ_KEYPAIR
#define RW SB_REQ_ACT_REFRESH_WRAPS
#define XW SB_REQ_ACT_EXPIRE_WRAPS
#define JOB (SB_REQ_ACT_ENQUEUE_JOB | SB_REQ_ACT_RECORD_JOB_INTENT)
#define NR SB_REQ_ACT_NOTIFY_REQUESTER
#define NA SB_REQ_ACT_NOTIFY_APPROVERS
#define NF SB_REQ_ACT_NOTIFY_FILLERS

typedef struct expect {
    sb_request_kind kind;
    sb_request_state from;
    sb_request_event ev;
    sb_request_state to;
    uint32_t actions;
} expect;

static const expect expected[] = {
    /* read: pending -> approved -> executed | failed; pending -> rejected | cancelled | expired */
    {R, ST(NEW), EV(SUBMIT), ST(PENDING), AU | NA},
    {R, ST(PENDING), EV(VOTE), ST(PENDING), AU | VO},
    {R, ST(PENDING), EV(APPROVE_VOTE_DECIDED), ST(APPROVED), AU | VO | KP | JOB | NR},
    {R, ST(PENDING), EV(REJECT), ST(REJECTED), AU | VO | XW | NR},
    {R, ST(PENDING), EV(CANCEL), ST(CANCELLED), AU | XW | NA},
    {R, ST(PENDING), EV(EXPIRE), ST(EXPIRED), AU | XW | NR},
    {R, ST(APPROVED), EV(JOB_SUCCEEDED), ST(EXECUTED), AU | NR},
    {R, ST(APPROVED), EV(JOB_FAILED), ST(FAILED), AU | XW | NR},
    /* patch: same states; sealed values stored at submit; wraps refreshed at approval */
    {P, ST(NEW), EV(SUBMIT), ST(PENDING), AU | SEAL | NA},
    {P, ST(PENDING), EV(VOTE), ST(PENDING), AU | VO},
    {P, ST(PENDING), EV(APPROVE_VOTE_DECIDED), ST(APPROVED), AU | VO | RW | JOB | NR},
    {P, ST(PENDING), EV(REJECT), ST(REJECTED), AU | VO | XW | NR},
    {P, ST(PENDING), EV(CANCEL), ST(CANCELLED), AU | XW | NA},
    {P, ST(PENDING), EV(EXPIRE), ST(EXPIRED), AU | XW | NR},
    {P, ST(APPROVED), EV(JOB_SUCCEEDED), ST(EXECUTED), AU | NR},
    {P, ST(APPROVED), EV(JOB_FAILED), ST(FAILED), AU | XW | NR},
    /* direct_reveal: created approved (gated), then the job */
    {D, ST(NEW), EV(SUBMIT), ST(APPROVED), AU | KP | JOB},
    {D, ST(APPROVED), EV(JOB_SUCCEEDED), ST(EXECUTED), AU | NR},
    {D, ST(APPROVED), EV(JOB_FAILED), ST(FAILED), AU | XW | NR},
    /* cross_team */
    {C, ST(NEW), EV(SUBMIT), ST(PENDING_VALUES), AU | FDL | NF},
    {C, ST(PENDING_VALUES), EV(FILL), ST(PENDING_VERIFICATION), AU | SEAL | NR | NA},
    {C, ST(PENDING_VALUES), EV(REFUSE), ST(REFUSED), AU | NR},
    {C, ST(PENDING_VALUES), EV(FILL_WINDOW_EXPIRED), ST(EXPIRED), AU | NR},
    {C, ST(PENDING_VALUES), EV(EXPIRE), ST(EXPIRED), AU | NR},
    {C, ST(PENDING_VALUES), EV(CANCEL), ST(CANCELLED), AU | NF},
    {C, ST(PENDING_VERIFICATION), EV(VOTE), ST(PENDING_VERIFICATION), AU | VO},
    {C, ST(PENDING_VERIFICATION), EV(VERIFY_APPROVED), ST(APPROVED), AU | VO | RW | JOB | NR},
    {C, ST(PENDING_VERIFICATION), EV(REJECT), ST(REJECTED), AU | VO | XW | NR | NF},
    {C, ST(PENDING_VERIFICATION), EV(CANCEL), ST(CANCELLED), AU | XW | NA | NF},
    {C, ST(PENDING_VERIFICATION), EV(EXPIRE), ST(EXPIRED), AU | XW | NR},
    {C, ST(APPROVED), EV(EXECUTE_CHECK_FAILED), ST(FAILED), AU | XW | NR},
    {C, ST(APPROVED), EV(JOB_SUCCEEDED), ST(EXECUTED), AU | NR},
    {C, ST(APPROVED), EV(JOB_FAILED), ST(FAILED), AU | XW | NR},
};
#define N_EXPECTED (sizeof expected / sizeof expected[0])

static const expect *lookup(sb_request_kind k, sb_request_state s, sb_request_event e)
{
    const expect *hit = NULL;
    for (size_t i = 0; i < N_EXPECTED; i++)
        if (expected[i].kind == k && expected[i].from == s && expected[i].ev == e) {
            cr_assert_null(hit, "expected list itself lists %d/%d/%d twice", k, s, e);
            hit = &expected[i];
        }
    return hit;
}

static const sb_request_ctx allow = {.env_is_prod = false, .direct_reveal_allowed = true};

Test(request_machine, every_kind_state_event_triple_matches_the_expected_list)
{
    size_t legal = 0, illegal = 0;
    for (int k = 0; k < SB_REQ_KIND_COUNT; k++)
        for (int s = 0; s < SB_REQ_STATE_COUNT; s++)
            for (int e = 0; e < SB_REQ_EV_COUNT; e++) {
                const expect *x = lookup(k, s, e);
                sb_request_state to = (sb_request_state)-1;
                uint32_t actions = 0xdeadu;
                sb_error err = {0};
                int rc = sb_request_transition_ctx(k, s, e, &allow, &to, &actions, &err);
                const char *kn = sb_request_kind_name(k), *sn = sb_request_state_name(s),
                           *en = sb_request_event_name(e);
                if (x != NULL) {
                    legal++;
                    cr_assert_eq(rc, 0, "%s %s %s should be legal: %s", kn, sn, en, err.message);
                    cr_assert_eq(to, x->to, "%s %s %s -> %s, expected %s", kn, sn, en,
                                 sb_request_state_name(to), sb_request_state_name(x->to));
                    cr_assert_eq(actions, x->actions, "%s %s %s actions 0x%x, expected 0x%x", kn,
                                 sn, en, actions, x->actions);
                    cr_assert(actions & SB_REQ_ACT_AUDIT, "every transition is audited");
                    cr_assert(sb_request_is_legal(k, s, e));
                } else {
                    illegal++;
                    cr_assert_eq(rc, -1, "%s %s %s should be illegal (went to %s)", kn, sn, en,
                                 sb_request_state_name(to));
                    cr_assert_eq(err.code, SB_DOMAIN_E_ILLEGAL_TRANSITION, "%s %s %s: code %d",
                                 kn, sn, en, err.code);
                    char want[96];
                    snprintf(want, sizeof want, "request that is %s ", sn);
                    cr_assert(strstr(err.message, want) != NULL, "message lacks state: %s",
                              err.message);
                    snprintf(want, sizeof want, " %s request", kn);
                    cr_assert(strstr(err.message, want) != NULL, "message lacks kind: %s",
                              err.message);
                    snprintf(want, sizeof want, "(event %s)", en);
                    cr_assert(strstr(err.message, want) != NULL, "message lacks event: %s",
                              err.message);
                    cr_assert_eq(to, (sb_request_state)-1, "to untouched on error");
                    cr_assert_eq(actions, 0xdeadu, "actions untouched on error");
                    cr_assert_not(sb_request_is_legal(k, s, e));
                }
            }
    cr_assert_eq(legal, N_EXPECTED, "every expected transition was visited");
    cr_assert_eq(legal + illegal,
                 (size_t)SB_REQ_KIND_COUNT * SB_REQ_STATE_COUNT * SB_REQ_EV_COUNT);
}

Test(request_machine, table_rows_expand_to_exactly_the_expected_list)
{
    size_t expanded = 0;
    for (size_t i = 0; i < sb_request_table_size(); i++) {
        const sb_request_rule *r = sb_request_table_row(i);
        cr_assert_not_null(r);
        cr_assert_neq(r->kinds, 0u, "row %zu names no kind", i);
        cr_assert_eq(r->kinds & ~((1u << SB_REQ_KIND_COUNT) - 1u), 0u, "row %zu bad kind", i);
        for (int k = 0; k < SB_REQ_KIND_COUNT; k++)
            if (r->kinds & SB_REQ_KIND_BIT(k)) {
                expanded++;
                cr_assert_not_null(lookup(k, r->from, r->event), "row %zu not expected", i);
            }
        cr_assert_neq(r->to, SB_REQ_STATE_NEW, "nothing goes back to new");
        /* the gate is exactly the direct_reveal submit */
        bool dr_submit = r->kinds == SB_REQ_KIND_BIT(SB_REQ_KIND_DIRECT_REVEAL) &&
                         r->event == SB_REQ_EV_SUBMIT;
        cr_assert_eq(r->needs_policy_gate, dr_submit, "row %zu gate", i);
    }
    cr_assert_eq(expanded, N_EXPECTED, "no (kind, state, event) has two rows");
    cr_assert_null(sb_request_table_row(sb_request_table_size()));
}

Test(request_machine, message_reads_naturally)
{
    sb_error err = {0};
    cr_assert_eq(sb_request_transition(R, ST(EXECUTED), EV(APPROVE_VOTE_DECIDED), NULL, NULL,
                                       &err),
                 -1);
    cr_assert_str_eq(err.message,
                     "cannot approve a read request that is executed (event approve_vote_decided)");
    cr_assert_eq(sb_request_transition(C, ST(PENDING_VERIFICATION), EV(FILL), NULL, NULL, &err),
                 -1);
    cr_assert_str_eq(err.message, "cannot fill a cross_team request that is pending_verification "
                                  "(event fill)");
}

Test(request_machine, terminal_states_accept_nothing)
{
    const sb_request_state terminal[] = {ST(EXECUTED), ST(FAILED),  ST(REJECTED),
                                         ST(CANCELLED), ST(EXPIRED), ST(REFUSED)};
    for (int s = 0; s < SB_REQ_STATE_COUNT; s++) {
        bool is_t = false;
        for (size_t i = 0; i < sizeof terminal / sizeof terminal[0]; i++)
            is_t |= (int)terminal[i] == s;
        cr_assert_eq(sb_request_state_is_terminal(s), is_t, "%s", sb_request_state_name(s));
        if (!is_t)
            continue;
        for (int k = 0; k < SB_REQ_KIND_COUNT; k++)
            for (int e = 0; e < SB_REQ_EV_COUNT; e++) {
                sb_error err = {0};
                cr_assert_eq(sb_request_transition_ctx(k, s, e, &allow, NULL, NULL, &err), -1);
                cr_assert_eq(err.code, SB_DOMAIN_E_ILLEGAL_TRANSITION);
            }
    }
}

Test(request_machine, direct_reveal_gate_prod_and_policy)
{
    sb_request_state to;
    uint32_t actions;
    sb_error err = {0};
    sb_request_ctx prod = {.env_is_prod = true, .direct_reveal_allowed = true};
    cr_assert_eq(sb_request_transition_ctx(D, ST(NEW), EV(SUBMIT), &prod, &to, &actions, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_DENIED);
    cr_assert(strstr(err.message, "prod") != NULL, "%s", err.message);
    sb_request_ctx no_policy = {.env_is_prod = false, .direct_reveal_allowed = false};
    cr_assert_eq(
        sb_request_transition_ctx(D, ST(NEW), EV(SUBMIT), &no_policy, &to, &actions, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_DENIED);
    cr_assert(strstr(err.message, "policy") != NULL, "%s", err.message);
    cr_assert_eq(sb_request_transition(D, ST(NEW), EV(SUBMIT), &to, &actions, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_DENIED, "no context = gate fails");
    cr_assert_eq(sb_request_transition_ctx(D, ST(NEW), EV(SUBMIT), &allow, &to, &actions, &err), 0);
    cr_assert_eq(to, ST(APPROVED));
    /* the gate applies only to direct reveal: a prod read request is fine */
    cr_assert_eq(sb_request_transition_ctx(R, ST(NEW), EV(SUBMIT), &prod, &to, &actions, &err), 0);
    cr_assert_eq(sb_request_transition(R, ST(NEW), EV(SUBMIT), &to, &actions, &err), 0);
    /* the gate does not hide an illegal transition */
    cr_assert_eq(sb_request_transition_ctx(D, ST(PENDING), EV(SUBMIT), &prod, &to, NULL, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_ILLEGAL_TRANSITION);
}

Test(request_machine, out_of_range_values)
{
    sb_error err = {0};
    cr_assert_eq(sb_request_transition(SB_REQ_KIND_COUNT, ST(NEW), EV(SUBMIT), NULL, NULL, &err),
                 -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
    cr_assert_eq(sb_request_transition(R, SB_REQ_STATE_COUNT, EV(SUBMIT), NULL, NULL, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
    cr_assert_eq(sb_request_transition(R, ST(NEW), (sb_request_event)-1, NULL, NULL, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
    cr_assert_eq(sb_request_transition(R, ST(NEW), EV(SUBMIT), NULL, NULL, NULL), 0, "err optional");
    cr_assert_eq(sb_request_transition(R, ST(EXECUTED), EV(SUBMIT), NULL, NULL, NULL), -1);
    cr_assert_not(sb_request_is_legal(SB_REQ_KIND_COUNT, ST(NEW), EV(SUBMIT)));
    cr_assert_not(sb_request_state_is_terminal(SB_REQ_STATE_COUNT));
}

Test(request_machine, names_round_trip_and_are_stable)
{
    static const char *kinds[] = {"read", "patch", "direct_reveal", "cross_team"};
    static const char *states[] = {"new",       "pending", "approved",       "executed",
                                   "failed",    "rejected", "cancelled",     "expired",
                                   "pending_values", "pending_verification", "refused"};
    static const char *events[] = {"submit",         "vote",       "approve_vote_decided",
                                   "reject",         "cancel",     "expire",
                                   "job_succeeded",  "job_failed", "fill",
                                   "refuse",         "verify_approved", "fill_window_expired",
                                   "execute_check_failed"};
    cr_assert_eq(sizeof kinds / sizeof *kinds, (size_t)SB_REQ_KIND_COUNT);
    cr_assert_eq(sizeof states / sizeof *states, (size_t)SB_REQ_STATE_COUNT);
    cr_assert_eq(sizeof events / sizeof *events, (size_t)SB_REQ_EV_COUNT);
    sb_error err = {0};
    for (int i = 0; i < SB_REQ_KIND_COUNT; i++) {
        sb_request_kind k;
        cr_assert_str_eq(sb_request_kind_name(i), kinds[i]);
        cr_assert_eq(sb_request_kind_parse(kinds[i], &k, &err), 0);
        cr_assert_eq((int)k, i);
    }
    for (int i = 0; i < SB_REQ_STATE_COUNT; i++) {
        sb_request_state s;
        cr_assert_str_eq(sb_request_state_name(i), states[i]);
        if (i == SB_REQ_STATE_NEW) {
            cr_assert_eq(sb_request_state_parse("new", &s, &err), -1, "new is never stored");
            continue;
        }
        cr_assert_eq(sb_request_state_parse(states[i], &s, &err), 0);
        cr_assert_eq((int)s, i);
    }
    for (int i = 0; i < SB_REQ_EV_COUNT; i++) {
        sb_request_event e;
        cr_assert_str_eq(sb_request_event_name(i), events[i]);
        cr_assert_eq(sb_request_event_parse(events[i], &e, &err), 0);
        cr_assert_eq((int)e, i);
    }
    sb_request_kind k;
    cr_assert_eq(sb_request_kind_parse("Read", &k, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
    cr_assert(strstr(err.message, "\"Read\"") != NULL, "%s", err.message);
    cr_assert_eq(sb_request_kind_parse(NULL, &k, &err), -1);
    cr_assert_null(sb_request_kind_name(SB_REQ_KIND_COUNT));
    cr_assert_null(sb_request_state_name(SB_REQ_STATE_COUNT));
    cr_assert_null(sb_request_event_name(SB_REQ_EV_COUNT));
    for (unsigned b = 0; b < SB_REQ_ACT_COUNT; b++)
        cr_assert_not_null(sb_request_action_name(1u << b));
    cr_assert_str_eq(sb_request_action_name(SB_REQ_ACT_RECORD_JOB_INTENT), "record_job_intent");
    cr_assert_null(sb_request_action_name(1u << SB_REQ_ACT_COUNT));
    cr_assert_null(sb_request_action_name(SB_REQ_ACT_AUDIT | SB_REQ_ACT_RECORD_VOTE));
}

Test(request_machine, states_per_kind)
{
    cr_assert(sb_request_kind_uses_state(R, ST(PENDING)));
    cr_assert_not(sb_request_kind_uses_state(R, ST(PENDING_VALUES)));
    cr_assert_not(sb_request_kind_uses_state(R, ST(REFUSED)));
    cr_assert_not(sb_request_kind_uses_state(D, ST(PENDING)));
    cr_assert(sb_request_kind_uses_state(D, ST(EXECUTED)));
    cr_assert(sb_request_kind_uses_state(C, ST(REFUSED)));
    cr_assert_not(sb_request_kind_uses_state(C, ST(PENDING)));
    for (int k = 0; k < SB_REQ_KIND_COUNT; k++)
        cr_assert_not(sb_request_kind_uses_state(k, ST(NEW)));
}

/* ---- the approval rule -------------------------------------------------- */

static sb_approval_outcome vote(const sb_approval_workflow *wf, const char *requester,
                                const char *filler, const sb_approval_vote *votes, size_t n,
                                sb_approval_vote v)
{
    sb_approval_input in = {wf, requester, filler, votes, n};
    sb_approval_outcome out;
    sb_error err = {0};
    cr_assert_eq(sb_approval_evaluate(&in, &v, &out, &err), 0, "%s", err.message);
    return out;
}

#define APPROVE(id, g) ((sb_approval_vote){(id), SB_VOTE_APPROVE, (g)})
#define REJECT_(id, g) ((sb_approval_vote){(id), SB_VOTE_REJECT, (g)})

Test(approval_rule, min_approvers_floor_is_one)
{
    sb_approval_workflow wf = {.min_approvers = 0};
    sb_approval_outcome o = vote(&wf, "req", NULL, NULL, 0, APPROVE("a", 0));
    cr_assert(o.accepted);
    cr_assert_eq(o.threshold, 1u);
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);

    sb_approval_input none = {&wf, "req", NULL, NULL, 0};
    sb_error err = {0};
    cr_assert_eq(sb_approval_status_of(&none, &o, &err), 0);
    cr_assert_eq(o.status, SB_APPROVAL_STILL_PENDING, "zero votes never approve");
}

Test(approval_rule, threshold_counts_distinct_approvers)
{
    sb_approval_workflow wf = {.min_approvers = 2};
    sb_approval_outcome o = vote(&wf, "req", NULL, NULL, 0, APPROVE("a", 0));
    cr_assert_eq(o.status, SB_APPROVAL_STILL_PENDING);
    cr_assert_eq(o.approvals, 1u);
    cr_assert_null(o.unmet_group);
    sb_approval_vote prior[] = {APPROVE("a", 0)};
    o = vote(&wf, "req", NULL, prior, 1, APPROVE("b", 0));
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);
    cr_assert_eq(o.approvals, 2u);
}

Test(approval_rule, one_vote_per_approver)
{
    sb_approval_workflow wf = {.min_approvers = 2};
    sb_approval_vote prior[] = {APPROVE("a", 0)};
    sb_approval_outcome o = vote(&wf, "req", NULL, prior, 1, APPROVE("a", 0));
    cr_assert_not(o.accepted);
    cr_assert_eq(o.refusal, SB_VOTE_DUPLICATE);
    cr_assert_eq(o.status, SB_APPROVAL_STILL_PENDING, "the refused vote changes nothing");
    cr_assert_eq(o.approvals, 1u);
    o = vote(&wf, "req", NULL, prior, 1, REJECT_("a", 0));
    cr_assert_eq(o.refusal, SB_VOTE_DUPLICATE, "no changing one's mind by a second vote");
    cr_assert_str_eq(sb_vote_refusal_name(o.refusal), "duplicate_vote");

    /* a store that hands over two recorded votes of one approver is refused */
    sb_approval_vote twice[] = {APPROVE("a", 0), APPROVE("a", 0)};
    sb_approval_input in = {&wf, "req", NULL, twice, 2};
    sb_approval_vote v = APPROVE("b", 0);
    sb_error err = {0};
    cr_assert_eq(sb_approval_evaluate(&in, &v, &o, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
}

Test(approval_rule, any_reject_ends_it)
{
    sb_approval_workflow wf = {.min_approvers = 3};
    sb_approval_vote prior[] = {APPROVE("a", 0), APPROVE("b", 0)};
    sb_approval_outcome o = vote(&wf, "req", NULL, prior, 2, REJECT_("c", 0));
    cr_assert(o.accepted);
    cr_assert_eq(o.status, SB_APPROVAL_REJECTED);
    /* a first-vote reject with min 1 */
    sb_approval_workflow one = {.min_approvers = 1};
    o = vote(&one, "req", NULL, NULL, 0, REJECT_("a", 0));
    cr_assert_eq(o.status, SB_APPROVAL_REJECTED);
    /* after a reject (or an approval) nothing more is accepted */
    sb_approval_vote rejected[] = {REJECT_("a", 0)};
    o = vote(&wf, "req", NULL, rejected, 1, APPROVE("b", 0));
    cr_assert_eq(o.refusal, SB_VOTE_ALREADY_DECIDED);
    cr_assert_eq(o.status, SB_APPROVAL_REJECTED);
    sb_approval_vote approved[] = {APPROVE("a", 0)};
    o = vote(&one, "req", NULL, approved, 1, REJECT_("b", 0));
    cr_assert_eq(o.refusal, SB_VOTE_ALREADY_DECIDED);
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);
}

Test(approval_rule, self_approval_only_when_allowed)
{
    sb_approval_workflow off = {.min_approvers = 1};
    sb_approval_outcome o = vote(&off, "req", NULL, NULL, 0, APPROVE("req", 0));
    cr_assert_not(o.accepted);
    cr_assert_eq(o.refusal, SB_VOTE_SELF_APPROVAL);
    cr_assert_eq(o.status, SB_APPROVAL_STILL_PENDING);
    o = vote(&off, "req", NULL, NULL, 0, REJECT_("req", 0));
    cr_assert_eq(o.refusal, SB_VOTE_SELF_APPROVAL, "the requester cancels, not rejects");
    sb_approval_workflow on = {.min_approvers = 1, .allow_self_approval = true};
    o = vote(&on, "req", NULL, NULL, 0, APPROVE("req", 0));
    cr_assert(o.accepted);
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);
}

static const sb_approval_group team_and_security[] = {{"owning-team", 1}, {"security", 1}};
#define TEAM 1u
#define SEC 2u

Test(approval_rule, and_groups_two_team_votes_then_security)
{
    sb_approval_workflow wf = {.min_approvers = 1, .groups = team_and_security, .n_groups = 2};
    sb_approval_outcome o = vote(&wf, "req", NULL, NULL, 0, APPROVE("t1", TEAM));
    cr_assert_eq(o.status, SB_APPROVAL_STILL_PENDING);
    cr_assert_str_eq(o.unmet_group, "security");
    sb_approval_vote v1[] = {APPROVE("t1", TEAM)};
    o = vote(&wf, "req", NULL, v1, 1, APPROVE("t2", TEAM));
    cr_assert(o.accepted);
    cr_assert_eq(o.status, SB_APPROVAL_STILL_PENDING, "two team approvals, no security");
    cr_assert_eq(o.approvals, 2u);
    cr_assert_str_eq(o.unmet_group, "security");
    sb_approval_vote v2[] = {APPROVE("t1", TEAM), APPROVE("t2", TEAM)};
    o = vote(&wf, "req", NULL, v2, 2, APPROVE("s1", SEC));
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);
    cr_assert_eq(o.approvals, 3u);
}

Test(approval_rule, one_person_in_both_groups_counts_once)
{
    sb_approval_workflow wf = {.min_approvers = 1, .groups = team_and_security, .n_groups = 2};
    sb_approval_outcome o = vote(&wf, "req", NULL, NULL, 0, APPROVE("both", TEAM | SEC));
    cr_assert_eq(o.status, SB_APPROVAL_STILL_PENDING, "one person cannot fill both groups");
    cr_assert_not_null(o.unmet_group);
    /* whatever the order, a team-only member completes it: "both" moves to security */
    sb_approval_vote v[] = {APPROVE("both", TEAM | SEC)};
    o = vote(&wf, "req", NULL, v, 1, APPROVE("t1", TEAM));
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);
    o = vote(&wf, "req", NULL, v, 1, APPROVE("s1", SEC));
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);
    o = vote(&wf, "req", NULL, v, 1, APPROVE("both2", TEAM | SEC));
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);
    /* the greedy trap: t1 took "team" first and both must go to security */
    sb_approval_vote w[] = {APPROVE("t1", TEAM)};
    o = vote(&wf, "req", NULL, w, 1, APPROVE("both", TEAM | SEC));
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);
}

Test(approval_rule, groups_and_threshold_both_needed)
{
    sb_approval_workflow wf = {.min_approvers = 3, .groups = team_and_security, .n_groups = 2};
    sb_approval_vote v[] = {APPROVE("t1", TEAM)};
    sb_approval_outcome o = vote(&wf, "req", NULL, v, 1, APPROVE("s1", SEC));
    cr_assert_eq(o.status, SB_APPROVAL_STILL_PENDING, "groups met, threshold 3 not");
    cr_assert_null(o.unmet_group);
    sb_approval_vote v2[] = {APPROVE("t1", TEAM), APPROVE("s1", SEC)};
    o = vote(&wf, "req", NULL, v2, 2, APPROVE("t2", TEAM));
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);
}

Test(approval_rule, voter_outside_every_group_refused)
{
    sb_approval_workflow wf = {.min_approvers = 1, .groups = team_and_security, .n_groups = 2};
    sb_approval_outcome o = vote(&wf, "req", NULL, NULL, 0, APPROVE("x", 0));
    cr_assert_eq(o.refusal, SB_VOTE_NOT_IN_GROUP);
    o = vote(&wf, "req", NULL, NULL, 0, REJECT_("x", 0));
    cr_assert_eq(o.refusal, SB_VOTE_NOT_IN_GROUP, "outsiders cannot veto either");
    o = vote(&wf, "req", NULL, NULL, 0, REJECT_("s1", SEC));
    cr_assert_eq(o.status, SB_APPROVAL_REJECTED);
    /* without groups anybody the caller let through counts */
    sb_approval_workflow plain = {.min_approvers = 1};
    o = vote(&plain, "req", NULL, NULL, 0, APPROVE("x", 0));
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);
}

Test(approval_rule, cross_team_separation_of_duties)
{
    /* even with self-approval on, the cross-team requester and filler never vote */
    sb_approval_workflow wf = {.min_approvers = 1, .allow_self_approval = true};
    sb_approval_outcome o = vote(&wf, "req", "fil", NULL, 0, APPROVE("req", 0));
    cr_assert_eq(o.refusal, SB_VOTE_REQUESTER_CROSS_TEAM);
    o = vote(&wf, "req", "fil", NULL, 0, APPROVE("fil", 0));
    cr_assert_eq(o.refusal, SB_VOTE_FILLER);
    o = vote(&wf, "req", "fil", NULL, 0, REJECT_("fil", 0));
    cr_assert_eq(o.refusal, SB_VOTE_FILLER);
    o = vote(&wf, "req", "fil", NULL, 0, APPROVE("sec", 0));
    cr_assert_eq(o.status, SB_APPROVAL_APPROVED);

    sb_error err = {0};
    cr_assert_eq(sb_approval_check_filler("req", "req", &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_DENIED);
    cr_assert_eq(sb_approval_check_filler("req", "fil", &err), 0);
    cr_assert_eq(sb_approval_check_filler("req", "", &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
}

Test(approval_rule, malformed_input)
{
    sb_error err = {0};
    sb_approval_outcome o;
    sb_approval_workflow wf = {.min_approvers = 1, .groups = team_and_security, .n_groups = 2};
    sb_approval_vote v = APPROVE("a", 4u); /* bit 2: no such group */
    sb_approval_input in = {&wf, "req", NULL, NULL, 0};
    cr_assert_eq(sb_approval_evaluate(&in, &v, &o, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
    v = APPROVE(NULL, TEAM);
    cr_assert_eq(sb_approval_evaluate(&in, &v, &o, &err), -1);
    v = APPROVE("a", TEAM);
    cr_assert_eq(sb_approval_evaluate(&in, NULL, &o, &err), -1);
    cr_assert_eq(sb_approval_evaluate(NULL, &v, &o, &err), -1);
    in.requester_id = "";
    cr_assert_eq(sb_approval_evaluate(&in, &v, &o, &err), -1);
    in.requester_id = "req";
    in.workflow = NULL;
    cr_assert_eq(sb_approval_evaluate(&in, &v, &o, &err), -1);
    sb_approval_group huge[] = {{"g", SB_APPROVAL_MAX_SLOTS + 1}};
    sb_approval_workflow big = {.min_approvers = 1, .groups = huge, .n_groups = 1};
    in.workflow = &big;
    v = APPROVE("a", 1u);
    cr_assert_eq(sb_approval_evaluate(&in, &v, &o, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
    sb_approval_group unnamed[] = {{NULL, 1}};
    sb_approval_workflow anon = {.min_approvers = 1, .groups = unnamed, .n_groups = 1};
    in.workflow = &anon;
    cr_assert_eq(sb_approval_evaluate(&in, &v, &o, &err), -1);
}

/* Brute force: can the approvers be assigned, one group each at most, so that
 * every group gets its required count? */
static bool brute(const sb_approval_group *g, size_t ng, const uint32_t *masks, size_t na,
                  size_t i, unsigned *need)
{
    if (i == na) {
        for (size_t k = 0; k < ng; k++)
            if (need[k] > 0)
                return false;
        return true;
    }
    if (brute(g, ng, masks, na, i + 1, need))
        return true;
    for (size_t k = 0; k < ng; k++)
        if ((masks[i] & (1u << k)) && need[k] > 0) {
            need[k]--;
            bool ok = brute(g, ng, masks, na, i + 1, need);
            need[k]++;
            if (ok)
                return true;
        }
    return false;
}

Test(approval_rule, matching_agrees_with_brute_force)
{
    uint32_t seed = 12345;
    char ids[6][4] = {"a0", "a1", "a2", "a3", "a4", "a5"};
    for (int round = 0; round < 3000; round++) {
        sb_approval_group groups[3];
        unsigned need[3];
        size_t ng = 1 + (seed = seed * 1103515245u + 12345u) % 3;
        for (size_t k = 0; k < ng; k++) {
            groups[k].name = "g";
            groups[k].required = (seed = seed * 1103515245u + 12345u) >> 16 & 3u;
            need[k] = groups[k].required;
        }
        size_t na = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 6;
        sb_approval_vote votes[6];
        uint32_t masks[6];
        for (size_t a = 0; a < na; a++) {
            masks[a] = ((seed = seed * 1103515245u + 12345u) >> 16) & ((1u << ng) - 1u);
            if (masks[a] == 0)
                masks[a] = 1; /* voters are members of some group */
            votes[a] = APPROVE(ids[a], masks[a]);
        }
        sb_approval_workflow wf = {.min_approvers = 1, .groups = groups, .n_groups = ng};
        bool want = brute(groups, ng, masks, na, 0, need);
        sb_approval_input all = {&wf, "req", NULL, votes, na};
        sb_approval_outcome o;
        sb_error err = {0};
        cr_assert_eq(sb_approval_status_of(&all, &o, &err), 0, "%s", err.message);
        cr_assert_eq(o.status == SB_APPROVAL_APPROVED, want, "round %d", round);
        /* the same through the vote path: the last vote either decides or
         * is refused because the others already had */
        sb_approval_input in = {&wf, "req", NULL, votes, na - 1};
        sb_approval_outcome before, after;
        cr_assert_eq(sb_approval_status_of(&in, &before, &err), 0);
        cr_assert_eq(sb_approval_evaluate(&in, &votes[na - 1], &after, &err), 0);
        if (before.status == SB_APPROVAL_APPROVED) {
            cr_assert_eq(after.refusal, SB_VOTE_ALREADY_DECIDED);
            cr_assert(want, "adding an approver never un-approves");
        } else {
            cr_assert(after.accepted);
            cr_assert_eq(after.status == SB_APPROVAL_APPROVED, want, "round %d", round);
        }
    }
}

/* ---- both modules together: what the vote handler does ---------------- */

static sb_request_state cast(sb_request_kind kind, sb_request_state state,
                             const sb_approval_workflow *wf, const char *filler,
                             const sb_approval_vote *prior, size_t n, sb_approval_vote v,
                             uint32_t *actions)
{
    sb_approval_outcome o = vote(wf, "req", filler, prior, n, v);
    cr_assert(o.accepted, "refused: %s", sb_vote_refusal_name(o.refusal));
    sb_request_event ev;
    sb_error err = {0};
    cr_assert_eq(sb_approval_request_event(kind, o.status, &ev, &err), 0);
    sb_request_state to;
    cr_assert_eq(sb_request_transition(kind, state, ev, &to, actions, &err), 0, "%s",
                 err.message);
    return to;
}

Test(request_flow, read_with_and_groups)
{
    sb_approval_workflow wf = {.min_approvers = 1, .groups = team_and_security, .n_groups = 2};
    uint32_t actions;
    sb_request_state s;
    sb_error err = {0};
    cr_assert_eq(sb_request_transition(R, ST(NEW), EV(SUBMIT), &s, &actions, &err), 0);
    cr_assert_eq(s, ST(PENDING));
    sb_approval_vote votes[3] = {APPROVE("t1", TEAM), APPROVE("t2", TEAM), APPROVE("s1", SEC)};
    s = cast(R, s, &wf, NULL, votes, 0, votes[0], &actions);
    cr_assert_eq(s, ST(PENDING));
    cr_assert_eq(actions & JOB, 0u, "no job while pending");
    s = cast(R, s, &wf, NULL, votes, 1, votes[1], &actions);
    cr_assert_eq(s, ST(PENDING));
    s = cast(R, s, &wf, NULL, votes, 2, votes[2], &actions);
    cr_assert_eq(s, ST(APPROVED));
    cr_assert_eq(actions & JOB, JOB, "approval enqueues the job / records its intent");
    /* a late vote from a concurrent transaction: the machine says 409 */
    cr_assert_eq(sb_request_transition(R, s, EV(VOTE), NULL, NULL, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_ILLEGAL_TRANSITION);
    cr_assert_eq(sb_request_transition(R, s, EV(JOB_SUCCEEDED), &s, NULL, &err), 0);
    cr_assert_eq(s, ST(EXECUTED));
}

Test(request_flow, cross_team_fill_verify_execute)
{
    sb_approval_workflow wf = {.min_approvers = 0};
    sb_request_state s;
    uint32_t actions;
    sb_error err = {0};
    cr_assert_eq(sb_request_transition(C, ST(NEW), EV(SUBMIT), &s, &actions, &err), 0);
    cr_assert_eq(s, ST(PENDING_VALUES));
    cr_assert_eq(sb_approval_check_filler("req", "fil", &err), 0);
    cr_assert_eq(sb_request_transition(C, s, EV(FILL), &s, &actions, &err), 0);
    cr_assert_eq(s, ST(PENDING_VERIFICATION));
    s = cast(C, s, &wf, "fil", NULL, 0, APPROVE("sec", 0), &actions);
    cr_assert_eq(s, ST(APPROVED));
    cr_assert_eq(actions & JOB, JOB);
    cr_assert_eq(sb_request_transition(C, s, EV(EXECUTE_CHECK_FAILED), &s, NULL, &err), 0);
    cr_assert_eq(s, ST(FAILED));
    sb_request_event ev;
    cr_assert_eq(sb_approval_request_event(D, SB_APPROVAL_APPROVED, &ev, &err), -1);
    cr_assert_eq(sb_approval_request_event(P, SB_APPROVAL_REJECTED, &ev, &err), 0);
    cr_assert_eq(ev, EV(REJECT));
    cr_assert_str_eq(sb_approval_status_name(SB_APPROVAL_STILL_PENDING), "still_pending");
}
