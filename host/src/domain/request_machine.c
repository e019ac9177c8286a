/* domain/request_machine.c — see request_machine.h. */
#include "domain/request_machine.h"

#include <string.h>

#include "domain/domain_error.h"

#define K_READ SB_REQ_KIND_BIT(SB_REQ_KIND_READ)
#define K_PATCH SB_REQ_KIND_BIT(SB_REQ_KIND_PATCH)
#define K_DR SB_REQ_KIND_BIT(SB_REQ_KIND_DIRECT_REVEAL)
#define K_CT SB_REQ_KIND_BIT(SB_REQ_KIND_CROSS_TEAM)
#define K_RP (K_READ | K_PATCH)
#define K_ALL (K_READ | K_PATCH | K_DR | K_CT)

#define S(x) SB_REQ_STATE_##x
#define E(x) SB_REQ_EV_##x
#define A_AUDIT SB_REQ_ACT_AUDIT
#define A_VOTE SB_REQ_ACT_RECORD_VOTE
#define A_SEAL SB_REQ_ACT_STORE_SEALED_VALUES
#define A_FILLDL SB_REQ_ACT_SET_FILL_DEADLINE
#define A_KEYPAIR SB_REQ_ACT_CREATE_READ_KEYPAIR
#define A_REFRESH SB_REQ_ACT_REFRESH_WRAPS
#define A_EXPWRAP SB_REQ_ACT_EXPIRE_WRAPS
#define A_JOB (SB_REQ_ACT_ENQUEUE_JOB | SB_REQ_ACT_RECORD_JOB_INTENT)
#define A_N_REQ SB_REQ_ACT_NOTIFY_REQUESTER
#define A_N_APP SB_REQ_ACT_NOTIFY_APPROVERS
#define A_N_FILL SB_REQ_ACT_NOTIFY_FILLERS

/* THE table. Every request status change in the product is one of these rows. */
static const sb_request_rule table[] = {
    /* read / patch */
    {K_READ, S(NEW), E(SUBMIT), S(PENDING), A_AUDIT | A_N_APP, false},
    {K_PATCH, S(NEW), E(SUBMIT), S(PENDING), A_AUDIT | A_SEAL | A_N_APP, false},
    {K_RP, S(PENDING), E(VOTE), S(PENDING), A_AUDIT | A_VOTE, false},
    {K_READ, S(PENDING), E(APPROVE_VOTE_DECIDED), S(APPROVED),
     A_AUDIT | A_VOTE | A_KEYPAIR | A_JOB | A_N_REQ, false},
    {K_PATCH, S(PENDING), E(APPROVE_VOTE_DECIDED), S(APPROVED),
     A_AUDIT | A_VOTE | A_REFRESH | A_JOB | A_N_REQ, false},
    {K_RP, S(PENDING), E(REJECT), S(REJECTED), A_AUDIT | A_VOTE | A_EXPWRAP | A_N_REQ, false},
    {K_RP, S(PENDING), E(CANCEL), S(CANCELLED), A_AUDIT | A_EXPWRAP | A_N_APP, false},
    {K_RP, S(PENDING), E(EXPIRE), S(EXPIRED), A_AUDIT | A_EXPWRAP | A_N_REQ, false},
    /* direct_reveal: created approved, gated by policy and the prod invariant */
    {K_DR, S(NEW), E(SUBMIT), S(APPROVED), A_AUDIT | A_KEYPAIR | A_JOB, true},
    /* cross_team */
    {K_CT, S(NEW), E(SUBMIT), S(PENDING_VALUES), A_AUDIT | A_FILLDL | A_N_FILL, false},
    {K_CT, S(PENDING_VALUES), E(FILL), S(PENDING_VERIFICATION),
     A_AUDIT | A_SEAL | A_N_REQ | A_N_APP, false},
    {K_CT, S(PENDING_VALUES), E(REFUSE), S(REFUSED), A_AUDIT | A_N_REQ, false},
    {K_CT, S(PENDING_VALUES), E(FILL_WINDOW_EXPIRED), S(EXPIRED), A_AUDIT | A_N_REQ, false},
    {K_CT, S(PENDING_VALUES), E(EXPIRE), S(EXPIRED), A_AUDIT | A_N_REQ, false},
    {K_CT, S(PENDING_VALUES), E(CANCEL), S(CANCELLED), A_AUDIT | A_N_FILL, false},
    {K_CT, S(PENDING_VERIFICATION), E(VOTE), S(PENDING_VERIFICATION), A_AUDIT | A_VOTE, false},
    {K_CT, S(PENDING_VERIFICATION), E(VERIFY_APPROVED), S(APPROVED),
     A_AUDIT | A_VOTE | A_REFRESH | A_JOB | A_N_REQ, false},
    {K_CT, S(PENDING_VERIFICATION), E(REJECT), S(REJECTED),
     A_AUDIT | A_VOTE | A_EXPWRAP | A_N_REQ | A_N_FILL, false},
    {K_CT, S(PENDING_VERIFICATION), E(CANCEL), S(CANCELLED),
     A_AUDIT | A_EXPWRAP | A_N_APP | A_N_FILL, false},
    {K_CT, S(PENDING_VERIFICATION), E(EXPIRE), S(EXPIRED), A_AUDIT | A_EXPWRAP | A_N_REQ, false},
    {K_CT, S(APPROVED), E(EXECUTE_CHECK_FAILED), S(FAILED), A_AUDIT | A_EXPWRAP | A_N_REQ, false},
    /* every kind: the job outcome */
    {K_ALL, S(APPROVED), E(JOB_SUCCEEDED), S(EXECUTED), A_AUDIT | A_N_REQ, false},
    {K_ALL, S(APPROVED), E(JOB_FAILED), S(FAILED), A_AUDIT | A_EXPWRAP | A_N_REQ, false},
};
#define N_ROWS (sizeof table / sizeof table[0])

static const char *const kind_names[SB_REQ_KIND_COUNT] = {
    "read", "patch", "direct_reveal", "cross_team",
};
static const char *const state_names[SB_REQ_STATE_COUNT] = {
    "new",     "pending",        "approved",             "executed", "failed", "rejected",
    "cancelled", "expired",      "pending_values", "pending_verification", "refused",
};
static const char *const event_names[SB_REQ_EV_COUNT] = {
    "submit",     "vote",       "approve_vote_decided", "reject",
    "cancel",     "expire",     "job_succeeded",        "job_failed",
    "fill",       "refuse",     "verify_approved",      "fill_window_expired",
    "execute_check_failed",
};
/* The verb of "cannot <verb> a <kind> request that is <state>". */
static const char *const event_verbs[SB_REQ_EV_COUNT] = {
    "submit",     "vote on",     "approve",           "reject",
    "cancel",     "expire",      "complete",          "fail",
    "fill",       "refuse",      "verify",            "expire the fill window of",
    "fail the execute-time check of",
};
static const char *const action_names[SB_REQ_ACT_COUNT] = {
    "audit",         "record_vote",  "store_sealed_values", "set_fill_deadline",
    "create_read_keypair", "refresh_wraps", "expire_wraps", "enqueue_job",
    "record_job_intent",   "notify_requester", "notify_approvers", "notify_fillers",
};

static bool kind_ok(sb_request_kind k) { return (unsigned)k < SB_REQ_KIND_COUNT; }
static bool state_ok(sb_request_state s) { return (unsigned)s < SB_REQ_STATE_COUNT; }
static bool event_ok(sb_request_event e) { return (unsigned)e < SB_REQ_EV_COUNT; }

static const sb_request_rule *find(sb_request_kind kind, sb_request_state from,
                                   sb_request_event ev)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if ((table[i].kinds & SB_REQ_KIND_BIT(kind)) && table[i].from == from &&
            table[i].event == ev)
            return &table[i];
    return NULL;
}

int sb_request_transition_ctx(sb_request_kind kind, sb_request_state from, sb_request_event ev,
                              const sb_request_ctx *ctx, sb_request_state *to, uint32_t *actions,
                              sb_error *err)
{
    if (!kind_ok(kind) || !state_ok(from) || !event_ok(ev))
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "request transition: kind %d, state %d or event %d out of range",
                            (int)kind, (int)from, (int)ev);
    const sb_request_rule *r = find(kind, from, ev);
    if (r == NULL)
        return sb_error_set(err, SB_DOMAIN_E_ILLEGAL_TRANSITION,
                            "cannot %s a %s request that is %s (event %s)", event_verbs[ev],
                            kind_names[kind], state_names[from], event_names[ev]);
    if (r->needs_policy_gate) {
        if (ctx == NULL)
            return sb_error_set(err, SB_DOMAIN_E_DENIED,
                                "cannot %s a %s request without the environment kind and the "
                                "policy decision",
                                event_verbs[ev], kind_names[kind]);
        if (ctx->env_is_prod)
            return sb_error_set(err, SB_DOMAIN_E_DENIED,
                                "direct reveal is never allowed on a prod environment (I9); "
                                "submit a read request for approval instead");
        if (!ctx->direct_reveal_allowed)
            return sb_error_set(err, SB_DOMAIN_E_DENIED,
                                "the policy for this secret does not allow direct reveal; "
                                "submit a read request for approval instead");
    }
    if (to != NULL)
        *to = r->to;
    if (actions != NULL)
        *actions = r->actions;
    return 0;
}

int sb_request_transition(sb_request_kind kind, sb_request_state from, sb_request_event ev,
                          sb_request_state *to, uint32_t *actions, sb_error *err)
{
    return sb_request_transition_ctx(kind, from, ev, NULL, to, actions, err);
}

bool sb_request_is_legal(sb_request_kind kind, sb_request_state from, sb_request_event ev)
{
    return kind_ok(kind) && state_ok(from) && event_ok(ev) && find(kind, from, ev) != NULL;
}

bool sb_request_state_is_terminal(sb_request_state s)
{
    if (!state_ok(s))
        return false;
    for (size_t i = 0; i < N_ROWS; i++)
        if (table[i].from == s)
            return false;
    return true;
}

bool sb_request_kind_uses_state(sb_request_kind kind, sb_request_state s)
{
    if (!kind_ok(kind) || !state_ok(s) || s == SB_REQ_STATE_NEW)
        return false;
    for (size_t i = 0; i < N_ROWS; i++)
        if ((table[i].kinds & SB_REQ_KIND_BIT(kind)) && (table[i].from == s || table[i].to == s))
            return true;
    return false;
}

size_t sb_request_table_size(void) { return N_ROWS; }

const sb_request_rule *sb_request_table_row(size_t i) { return i < N_ROWS ? &table[i] : NULL; }

const char *sb_request_kind_name(sb_request_kind k) { return kind_ok(k) ? kind_names[k] : NULL; }
const char *sb_request_state_name(sb_request_state s) { return state_ok(s) ? state_names[s] : NULL; }
const char *sb_request_event_name(sb_request_event e) { return event_ok(e) ? event_names[e] : NULL; }

const char *sb_request_action_name(uint32_t action_bit)
{
    for (unsigned i = 0; i < SB_REQ_ACT_COUNT; i++)
        if (action_bit == (1u << i))
            return action_names[i];
    return NULL;
}

static int parse(const char *s, const char *const *names, int first, int count, const char *what,
                 int *out, sb_error *err)
{
    *out = -1; /* no value until a name matches */
    if (s == NULL)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "missing request %s", what);
    for (int i = first; i < count; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    /* The name is caller input but a bounded identifier, never a secret. */
    return sb_error_set(err, SB_DOMAIN_E_INVALID, "unknown request %s \"%.64s\"", what, s);
}

int sb_request_kind_parse(const char *s, sb_request_kind *out, sb_error *err)
{
    int v;
    if (parse(s, kind_names, 0, SB_REQ_KIND_COUNT, "kind", &v, err) != 0)
        return -1;
    *out = (sb_request_kind)v;
    return 0;
}

int sb_request_state_parse(const char *s, sb_request_state *out, sb_error *err)
{
    int v;
    if (parse(s, state_names, SB_REQ_STATE_NEW + 1, SB_REQ_STATE_COUNT, "state", &v, err) != 0)
        return -1;
    *out = (sb_request_state)v;
    return 0;
}

int sb_request_event_parse(const char *s, sb_request_event *out, sb_error *err)
{
    int v;
    if (parse(s, event_names, 0, SB_REQ_EV_COUNT, "event", &v, err) != 0)
        return -1;
    *out = (sb_request_event)v;
    return 0;
}
