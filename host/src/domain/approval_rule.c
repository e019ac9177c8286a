/* domain/approval_rule.c — see approval_rule.h. */
#include "domain/approval_rule.h"

#include <stdlib.h>
#include <string.h>

#include "domain/domain_error.h"

/* The recorded votes plus (optionally) the new one, without copying. */
typedef struct vote_view {
    const sb_approval_vote *votes;
    size_t n_votes;
    const sb_approval_vote *extra; /* NULL: none */
} vote_view;

static size_t view_len(const vote_view *v) { return v->n_votes + (v->extra != NULL); }

static const sb_approval_vote *view_at(const vote_view *v, size_t i)
{
    return i < v->n_votes ? &v->votes[i] : v->extra;
}

static bool empty(const char *s) { return s == NULL || s[0] == '\0'; }

static uint32_t group_mask(size_t n_groups)
{
    return n_groups >= 32 ? UINT32_MAX : ((1u << n_groups) - 1u);
}

static int check_workflow(const sb_approval_workflow *wf, size_t *slots, sb_error *err)
{
    if (wf == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "approval rule: no workflow snapshot");
    if (wf->n_groups > SB_APPROVAL_MAX_GROUPS)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "approval rule: %zu approval groups (at most %d)", wf->n_groups,
                            SB_APPROVAL_MAX_GROUPS);
    if (wf->n_groups > 0 && wf->groups == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "approval rule: groups missing");
    size_t total = 0;
    for (size_t g = 0; g < wf->n_groups; g++) {
        if (empty(wf->groups[g].name))
            return sb_error_set(err, SB_DOMAIN_E_INVALID, "approval rule: group %zu has no name",
                                g);
        total += wf->groups[g].required;
        if (total > SB_APPROVAL_MAX_SLOTS)
            return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                "approval rule: the groups require more than %d approvals",
                                SB_APPROVAL_MAX_SLOTS);
    }
    *slots = total;
    return 0;
}

static int check_vote(const sb_approval_vote *v, size_t n_groups, const char *what, size_t i,
                      sb_error *err)
{
    if (v == NULL || empty(v->approver_id))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "approval rule: %s %zu has no approver",
                            what, i);
    if (v->decision != SB_VOTE_APPROVE && v->decision != SB_VOTE_REJECT)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "approval rule: %s %zu has an unknown decision", what, i);
    if ((v->groups & ~group_mask(n_groups)) != 0)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "approval rule: %s %zu names a group beyond the %zu of the workflow",
                            what, i, n_groups);
    return 0;
}

/* Kuhn's augmenting path from slot s over the approve voters. */
typedef struct matcher {
    const vote_view *view;
    const size_t *voters;     /* view indexes of the approve votes */
    size_t n_voters;
    const uint8_t *slot_group; /* slot -> group index */
    int *voter_slot;          /* voter -> slot or -1 */
    int slot_voter[SB_APPROVAL_MAX_SLOTS];
    uint8_t *seen;
} matcher;

static bool augment(matcher *m, size_t s)
{
    uint32_t bit = 1u << m->slot_group[s];
    for (size_t a = 0; a < m->n_voters; a++) {
        if (m->seen[a] || !(view_at(m->view, m->voters[a])->groups & bit))
            continue;
        m->seen[a] = 1;
        if (m->voter_slot[a] < 0 || augment(m, (size_t)m->voter_slot[a])) {
            m->voter_slot[a] = (int)s;
            m->slot_voter[s] = (int)a;
            return true;
        }
    }
    return false;
}

static int compute(const sb_approval_workflow *wf, size_t slots, const vote_view *view,
                   sb_approval_outcome *out, sb_error *err)
{
    size_t n = view_len(view);
    out->threshold = wf->min_approvers < 1 ? 1 : wf->min_approvers;
    out->approvals = 0;
    out->unmet_group = NULL;
    bool rejected = false;
    for (size_t i = 0; i < n; i++) {
        const sb_approval_vote *v = view_at(view, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(view_at(view, j)->approver_id, v->approver_id) == 0)
                return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                    "approval rule: approver %.64s has two recorded votes",
                                    v->approver_id);
        if (v->decision == SB_VOTE_REJECT)
            rejected = true;
        else
            out->approvals++;
    }
    if (rejected) {
        out->status = SB_APPROVAL_REJECTED;
        return 0;
    }
    bool groups_ok = true;
    if (slots > 0) {
        size_t *voters = malloc((out->approvals + 1) * sizeof *voters);
        int *voter_slot = malloc((out->approvals + 1) * sizeof *voter_slot);
        uint8_t *seen = malloc(out->approvals + 1);
        if (voters == NULL || voter_slot == NULL || seen == NULL) {
            free(voters);
            free(voter_slot);
            free(seen);
            return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "approval rule: out of memory");
        }
        size_t nv = 0;
        for (size_t i = 0; i < n; i++)
            if (view_at(view, i)->decision == SB_VOTE_APPROVE) {
                voter_slot[nv] = -1;
                voters[nv++] = i;
            }
        uint8_t slot_group[SB_APPROVAL_MAX_SLOTS];
        size_t s = 0;
        for (size_t g = 0; g < wf->n_groups; g++)
            for (unsigned k = 0; k < wf->groups[g].required; k++)
                slot_group[s++] = (uint8_t)g;
        matcher m = {.view = view, .voters = voters, .n_voters = nv, .slot_group = slot_group,
                     .voter_slot = voter_slot, .seen = seen};
        for (s = 0; s < slots; s++) {
            memset(seen, 0, nv + 1);
            if (!augment(&m, s)) {
                groups_ok = false;
                out->unmet_group = wf->groups[slot_group[s]].name;
                break;
            }
        }
        free(voters);
        free(voter_slot);
        free(seen);
    }
    out->status = (groups_ok && out->approvals >= out->threshold) ? SB_APPROVAL_APPROVED
                                                                   : SB_APPROVAL_STILL_PENDING;
    return 0;
}

static int check_input(const sb_approval_input *in, size_t *slots, sb_error *err)
{
    if (in == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "approval rule: no input");
    if (check_workflow(in->workflow, slots, err) != 0)
        return -1;
    if (empty(in->requester_id))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "approval rule: no requester");
    if (in->filler_id != NULL && in->filler_id[0] == '\0')
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "approval rule: empty filler id");
    if (in->n_votes > 0 && in->votes == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "approval rule: votes missing");
    for (size_t i = 0; i < in->n_votes; i++)
        if (check_vote(&in->votes[i], in->workflow->n_groups, "recorded vote", i, err) != 0)
            return -1;
    return 0;
}

int sb_approval_status_of(const sb_approval_input *in, sb_approval_outcome *out, sb_error *err)
{
    size_t slots;
    if (out == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "approval rule: no outcome");
    if (check_input(in, &slots, err) != 0)
        return -1;
    vote_view view = {in->votes, in->n_votes, NULL};
    out->accepted = false;
    out->refusal = SB_VOTE_OK;
    return compute(in->workflow, slots, &view, out, err);
}

static sb_vote_refusal refusal_for(const sb_approval_input *in, const sb_approval_vote *v)
{
    const char *who = v->approver_id;
    if (strcmp(who, in->requester_id) == 0) {
        if (in->filler_id != NULL)
            return SB_VOTE_REQUESTER_CROSS_TEAM;
        if (!in->workflow->allow_self_approval)
            return SB_VOTE_SELF_APPROVAL;
    }
    if (in->filler_id != NULL && strcmp(who, in->filler_id) == 0)
        return SB_VOTE_FILLER;
    for (size_t i = 0; i < in->n_votes; i++)
        if (strcmp(in->votes[i].approver_id, who) == 0)
            return SB_VOTE_DUPLICATE;
    if (in->workflow->n_groups > 0 && (v->groups & group_mask(in->workflow->n_groups)) == 0)
        return SB_VOTE_NOT_IN_GROUP;
    return SB_VOTE_OK;
}

int sb_approval_evaluate(const sb_approval_input *in, const sb_approval_vote *new_vote,
                         sb_approval_outcome *out, sb_error *err)
{
    size_t slots;
    if (out == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "approval rule: no outcome");
    if (check_input(in, &slots, err) != 0)
        return -1;
    if (check_vote(new_vote, in->workflow->n_groups, "new vote", 0, err) != 0)
        return -1;
    vote_view prior = {in->votes, in->n_votes, NULL};
    if (compute(in->workflow, slots, &prior, out, err) != 0)
        return -1;
    sb_vote_refusal r = out->status != SB_APPROVAL_STILL_PENDING ? SB_VOTE_ALREADY_DECIDED
                                                                 : refusal_for(in, new_vote);
    out->refusal = r;
    out->accepted = r == SB_VOTE_OK;
    if (!out->accepted)
        return 0;
    vote_view with = {in->votes, in->n_votes, new_vote};
    return compute(in->workflow, slots, &with, out, err);
}

int sb_approval_check_filler(const char *requester_id, const char *filler_id, sb_error *err)
{
    if (empty(requester_id) || empty(filler_id))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "cross-team fill: requester or filler missing");
    if (strcmp(requester_id, filler_id) == 0)
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "the requester of a cross-team request cannot provide its values "
                            "(separation of duties: requester, filler and approvers differ)");
    return 0;
}

int sb_approval_request_event(sb_request_kind kind, sb_approval_status status,
                              sb_request_event *ev, sb_error *err)
{
    if (ev == NULL || kind == SB_REQ_KIND_DIRECT_REVEAL || (unsigned)kind >= SB_REQ_KIND_COUNT)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "%s requests take no votes",
                            sb_request_kind_name(kind) ? sb_request_kind_name(kind) : "unknown");
    switch (status) {
    case SB_APPROVAL_STILL_PENDING:
        *ev = SB_REQ_EV_VOTE;
        return 0;
    case SB_APPROVAL_REJECTED:
        *ev = SB_REQ_EV_REJECT;
        return 0;
    case SB_APPROVAL_APPROVED:
        *ev = kind == SB_REQ_KIND_CROSS_TEAM ? SB_REQ_EV_VERIFY_APPROVED
                                             : SB_REQ_EV_APPROVE_VOTE_DECIDED;
        return 0;
    }
    return sb_error_set(err, SB_DOMAIN_E_INVALID, "unknown approval status %d", (int)status);
}

const char *sb_vote_refusal_name(sb_vote_refusal r)
{
    switch (r) {
    case SB_VOTE_OK: return "ok";
    case SB_VOTE_ALREADY_DECIDED: return "already_decided";
    case SB_VOTE_SELF_APPROVAL: return "self_approval";
    case SB_VOTE_REQUESTER_CROSS_TEAM: return "requester_cannot_vote";
    case SB_VOTE_FILLER: return "filler_cannot_vote";
    case SB_VOTE_DUPLICATE: return "duplicate_vote";
    case SB_VOTE_NOT_IN_GROUP: return "not_in_any_group";
    }
    return NULL;
}

const char *sb_approval_status_name(sb_approval_status s)
{
    switch (s) {
    case SB_APPROVAL_STILL_PENDING: return "still_pending";
    case SB_APPROVAL_APPROVED: return "approved";
    case SB_APPROVAL_REJECTED: return "rejected";
    }
    return NULL;
}
