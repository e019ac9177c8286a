/*
 * api/request_decide.c — what people do to a request after submit:
 * approve, reject, verify (cross-team vote), cancel, fill, refuse.
 *
 * Contract (each a single transaction on the request row locked FOR
 * UPDATE; the actor is always the session's user, never a body field):
 *   - A request the caller cannot see (sb_request_visible) is 404.
 *   - An event the machine refuses in the current state is 409
 *     illegal_transition naming the state; a request whose TTL has passed
 *     is 409 (the sweep expires it); a fill after the fill window is 409.
 *   - Votes (approve/reject on read and patch, verify on cross_team): the
 *     voter holds secret.approve or secret.security.approve on the request's
 *     project, and one of the workflow's approver roles when it names some
 *     (403 otherwise). Group membership per workflow group: the group's
 *     permission on the project, one of its roles if any, membership of the
 *     project's owning team if asked. domain/approval_rule decides, over the
 *     votes already recorded, in the same transaction that records the vote:
 *     two simultaneous votes serialise on the row lock, so exactly one of
 *     them can decide the request. Refusals: self-approval, requester or
 *     filler voting on a cross-team request, not in any group -> 403;
 *     second vote, already decided -> 409. A reject needs a reason.
 *   - Cancel: the requester only (403 for anyone else who can see it).
 *   - Fill / refuse (cross_team): secret.value.provide on the target team
 *     (team subtree); the filler is not the requester. Fill carries sealed
 *     values for exactly the requested keys; refuse a reason of at least
 *     10 characters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/request_api.h"
#include "api/step_up.h"
#include "domain/approval_rule.h"
#include "domain/domain_error.h"

enum decide_action { ACT_APPROVE, ACT_REJECT, ACT_VERIFY, ACT_CANCEL, ACT_FILL, ACT_REFUSE };

typedef struct decide_input {
    enum decide_action action;
    const char *decision; /* "approve" | "reject" for votes */
    const char *comment, *reason;
    sb_sealed_input sealed;
} decide_input;

/* The locked request (with its votes when `votes`: one statement), or 404
 * for a missing or invisible one. */
static int lock_request(sb_db_conn *conn, sb_handler_op *o, bool votes, sb_row_set *rows,
                        sb_request_row *r, sb_request_kind *kind, sb_request_state *state,
                        sb_error *err)
{
    int rc = votes ? sb_request_store_lock_with_votes(conn, o->id, rows, err)
                   : sb_request_store_get(conn, o->id, true, rows, err);
    if (rc != 0)
        return rc < 0 ? -1 : sb_handler_op_hidden(err, "request");
    sb_request_store_at(rows, 0, r);
    if (!sb_request_visible(o->who, r))
        return sb_handler_op_hidden(err, "request");
    if (sb_request_kind_parse(r->kind, kind, err) != 0 ||
        sb_request_state_parse(r->state, state, err) != 0)
        return -1;
    return 0;
}

/* 409 with the machine's message when ev is illegal now. */
static int legal(sb_request_kind kind, sb_request_state state, sb_request_event ev, sb_error *err)
{
    if (sb_request_is_legal(kind, state, ev))
        return 0;
    return sb_request_transition(kind, state, ev, NULL, NULL, err);
}

static int not_expired(const sb_request_row *r, sb_error *err)
{
    if (r->ttl_passed)
        return sb_error_set(err, SB_DOMAIN_E_ILLEGAL_TRANSITION,
                            "request %s expired at %s (request TTL); submit a new one", r->id,
                            r->expires_at);
    return 0;
}

/* ---- votes ------------------------------------------------------------------ */

static int refusal_error(const sb_approval_outcome *out, sb_error *err)
{
    const char *why = sb_vote_refusal_name(out->refusal);
    switch (out->refusal) {
    case SB_VOTE_DUPLICATE:
        return sb_error_set(err, SB_DB_E_CONFLICT, "you have already voted on this request");
    case SB_VOTE_ALREADY_DECIDED:
        return sb_error_set(err, SB_DOMAIN_E_ILLEGAL_TRANSITION,
                            "the request is already decided by earlier votes");
    case SB_VOTE_SELF_APPROVAL:
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "you cannot vote on your own request (the workflow does not allow "
                            "self-approval)");
    case SB_VOTE_REQUESTER_CROSS_TEAM:
    case SB_VOTE_FILLER:
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "separation of duties: the requester and the filler of a cross-team "
                            "request cannot vote on it (%s)", why);
    case SB_VOTE_NOT_IN_GROUP:
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "you are in none of the workflow's approval groups");
    default:
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "vote refused: %s", why);
    }
}

/* The votes read with the lock, as the approval rule takes them (they
 * point into *doc). */
static int prior_votes(const sb_row_set *rows, json_t **doc, sb_approval_vote **prior, size_t *n,
                       sb_error *err)
{
    *doc = json_loads(sb_request_store_locked_votes(rows), 0, NULL);
    *n = json_array_size(*doc);
    *prior = json_is_array(*doc) ? calloc(*n + 1, sizeof **prior) : NULL;
    if (*prior == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "could not read the request's votes");
    for (size_t i = 0; i < *n; i++) {
        json_t *v = json_array_get(*doc, i);
        const char *approver = json_string_value(json_array_get(v, 0));
        const char *decision = json_string_value(json_array_get(v, 1));
        if (approver == NULL || decision == NULL)
            return sb_error_set(err, SB_DOMAIN_E_INVALID, "a recorded vote is malformed");
        (*prior)[i] = (sb_approval_vote){approver,
                                         strcmp(decision, "reject") == 0 ? SB_VOTE_REJECT
                                                                          : SB_VOTE_APPROVE,
                                         (uint32_t)json_integer_value(json_array_get(v, 2))};
    }
    return 0;
}

static int vote_txn(sb_db_conn *conn, sb_handler_op *o, decide_input *in, sb_error *err)
{
    sb_actor actor;
    sb_row_set rows = {0};
    sb_request_row r;
    sb_request_kind kind;
    sb_request_state state;
    sb_request_groups g = {0};
    sb_approval_vote *prior = NULL;
    size_t n_prior = 0;
    json_t *votes = NULL;
    int rc = lock_request(conn, o, true, &rows, &r, &kind, &state, err);
    bool reject = strcmp(in->decision, "reject") == 0;
    if (rc == 0 && in->action == ACT_VERIFY && kind != SB_REQ_KIND_CROSS_TEAM)
        rc = sb_error_set(err, SB_DOMAIN_E_INVALID,
                          "verify is for cross-team requests; use approve or reject");
    if (rc == 0)
        rc = legal(kind, state, SB_REQ_EV_VOTE, err); /* does this state take votes? */
    if (rc == 0)
        rc = not_expired(&r, err);
    if (rc == 0)
        rc = sb_request_groups_load(&r, &g, err);
    uint32_t bits = 0;
    if (rc == 0)
        rc = sb_request_voter(conn, o->who, &r, &g, &bits, err);
    if (rc == 0) /* authorised to vote: now the second factor */
        rc = sb_step_up_require(conn, o->app, o->req, o->who, sb_step_up_policy_requires(r.policy),
                                reject ? "request.reject" : "request.approve", err);
    sb_approval_outcome out;
    if (rc == 0)
        rc = prior_votes(&rows, &votes, &prior, &n_prior, err);
    if (rc == 0) {
        sb_approval_workflow wf = {
            (unsigned)json_integer_value(json_object_get(g.doc, "min_approvers")), g.groups, g.n,
            json_is_true(json_object_get(g.doc, "allow_self_approval"))};
        sb_approval_input ai = {&wf, r.requester_id, r.filled_by, prior, n_prior};
        sb_approval_vote nv = {o->who->user_id, reject ? SB_VOTE_REJECT : SB_VOTE_APPROVE, bits};
        rc = sb_approval_evaluate(&ai, &nv, &out, err);
        if (rc == 0 && !out.accepted)
            rc = refusal_error(&out, err);
    }
    sb_request_event ev;
    if (rc == 0)
        rc = sb_approval_request_event(kind, out.status, &ev, err);
    if (rc == 0) {
        sb_request_vote_in vote = {o->who->user_id, in->decision, bits, in->comment};
        json_t *d = json_pack("{s:s, s:i, s:i, s:s, s:s?}", "decision", in->decision, "approvals",
                              out.approvals, "threshold", out.threshold, "status",
                              sb_approval_status_name(out.status), "unmet_group", out.unmet_group);
        sb_request_step step = {.event = ev,
                                .change = {.reason = reject ? in->reason : NULL,
                                           .decided = ev != SB_REQ_EV_VOTE},
                                .vote = &vote,
                                .details = d,
                                .kms = o->app->kms};
        rc = sb_request_apply(conn, sb_api_request_actor(o->req, &actor), &rows, &step,
                              &o->rows, err);
        json_decref(d);
    }
    free(prior);
    json_decref(votes);
    sb_request_groups_free(&g);
    sb_row_set_free(&rows);
    return rc;
}

/* ---- cancel, fill, refuse ------------------------------------------------------ */

static int cancel_txn(sb_db_conn *conn, sb_handler_op *o, decide_input *in, sb_error *err)
{
    sb_actor actor;
    (void)in;
    sb_row_set rows = {0};
    sb_request_row r;
    sb_request_kind kind;
    sb_request_state state;
    int rc = lock_request(conn, o, false, &rows, &r, &kind, &state, err);
    if (rc == 0 && strcmp(r.requester_id, o->who->user_id) != 0)
        rc = sb_error_set(err, SB_DOMAIN_E_DENIED, "only the requester can cancel a request");
    if (rc == 0) {
        sb_request_step step = {.event = SB_REQ_EV_CANCEL, .change = {.decided = true}};
        rc = sb_request_apply(conn, sb_api_request_actor(o->req, &actor), &rows, &step,
                              &o->rows, err);
    }
    sb_row_set_free(&rows);
    return rc;
}

static int provider_txn(sb_db_conn *conn, sb_handler_op *o, decide_input *in, sb_error *err)
{
    sb_actor actor;
    sb_row_set rows = {0};
    sb_request_row r;
    sb_request_kind kind;
    sb_request_state state;
    bool fill = in->action == ACT_FILL;
    sb_request_event ev = fill ? SB_REQ_EV_FILL : SB_REQ_EV_REFUSE;
    int rc = lock_request(conn, o, false, &rows, &r, &kind, &state, err);
    if (rc == 0 && kind != SB_REQ_KIND_CROSS_TEAM)
        rc = sb_error_set(err, SB_DOMAIN_E_INVALID,
                          "request %s is a %s request; only cross-team requests are %s", r.id,
                          r.kind, fill ? "filled" : "refused");
    if (rc == 0 &&
        !sb_rbac_allows_team(o->who->rbac, SB_PERM_SECRET_VALUE_PROVIDE, r.target_team_id))
        rc = sb_error_set(err, SB_DOMAIN_E_DENIED,
                          "providing values needs secret.value.provide on team %s",
                          r.target_team_id);
    if (rc == 0)
        rc = sb_approval_check_filler(r.requester_id, o->who->user_id, err);
    if (rc == 0 && fill)
        rc = sb_step_up_require(conn, o->app, o->req, o->who, sb_step_up_policy_requires(r.policy),
                                "request.fill", err);
    if (rc == 0)
        rc = legal(kind, state, ev, err);
    if (rc == 0)
        rc = not_expired(&r, err);
    if (rc == 0 && fill && r.fill_window_passed)
        rc = sb_error_set(err, SB_DOMAIN_E_ILLEGAL_TRANSITION, "the fill window closed at %s",
                          r.fill_expires_at);
    if (rc == 0 && fill) {
        json_t *want = json_loads(r.keys, 0, NULL);
        bool same = json_array_size(want) == json_array_size(in->sealed.keys);
        size_t i;
        json_t *k;
        json_array_foreach(want, i, k) same = same && sb_request_in_array(in->sealed.keys,
                                                                         json_string_value(k));
        json_decref(want);
        if (!same)
            rc = sb_error_set(err, SB_DOMAIN_E_INVALID,
                              "sealed_values must provide exactly the requested keys %s", r.keys);
    }
    if (rc == 0) {
        sb_request_step step = {.event = ev,
                                .change = {.reason = fill ? NULL : in->reason,
                                           .filled_by = fill ? o->who->user_id : NULL,
                                           .fill_comment = fill ? in->comment : NULL,
                                           .decided = !fill},
                                .sealed = fill ? in->sealed.values : NULL,
                                .n_sealed = fill ? in->sealed.n : 0};
        rc = sb_request_apply(conn, sb_api_request_actor(o->req, &actor), &rows, &step,
                              &o->rows, err);
    }
    sb_row_set_free(&rows);
    return rc;
}

static int decide_txn(sb_db_conn *conn, sb_handler_op *o, sb_error *err)
{
    decide_input *in = o->extra;
    switch (in->action) {
    case ACT_CANCEL: return cancel_txn(conn, o, in, err);
    case ACT_FILL:
    case ACT_REFUSE: return provider_txn(conn, o, in, err);
    default: return vote_txn(conn, o, in, err);
    }
}

/* ---- handlers ----------------------------------------------------------------- */

static int text_ok(sb_server_request *req, const char *name, const char *v, size_t min)
{
    size_t n = v ? sb_handler_chars(v) : 0;
    if (n > 2000)
        return sb_handler_invalid(req, "%s may be at most 2000 characters", name);
    if (n < min)
        return sb_handler_invalid(req, "%s must be at least %zu characters: say why", name,
                                      min);
    return 0;
}

static int handle(sb_server_request *req, void *ctx, enum decide_action action)
{
    static const sb_field_spec vote_spec[] = {{"comment", SB_FIELD_STRING, 0}};
    static const sb_field_spec reject_spec[] = {{"reason", SB_FIELD_STRING, 1},
                                                {"comment", SB_FIELD_STRING, 0}};
    static const sb_field_spec verify_spec[] = {{"decision", SB_FIELD_STRING, 1},
                                                {"reason", SB_FIELD_STRING, 0},
                                                {"comment", SB_FIELD_STRING, 0}};
    static const sb_field_spec fill_spec[] = {{"comment", SB_FIELD_STRING, 0}};
    static const sb_field_spec refuse_spec[] = {{"reason", SB_FIELD_STRING, 1}};
    static const struct {
        const sb_field_spec *spec;
        size_t n;
    } specs[] = {{vote_spec, 1}, {reject_spec, 2}, {verify_spec, 3},
                 {NULL, 0},      {fill_spec, 1},   {refuse_spec, 1}};
    sb_handler_op o;
    decide_input in = {.action = action};
    json_t *sealed = NULL;
    sb_handler_op_init(&o, req, ctx);
    if (sb_handler_path_id(req, "id", o.id) != 0)
        return sb_handler_not_found(req, "request");
    int rc = 0;
    if (specs[action].spec) {
        if (sb_request_read_body(req, specs[action].spec, specs[action].n, &o.body, &sealed) != 0)
            return 0;
        in.comment = sb_handler_string(o.body, "comment");
        in.reason = sb_handler_string(o.body, "reason");
        in.decision = sb_handler_string(o.body, "decision");
    }
    if (action == ACT_APPROVE)
        in.decision = "approve";
    if (action == ACT_REJECT)
        in.decision = "reject";
    if (action == ACT_VERIFY && strcmp(in.decision, "approve") != 0 &&
        strcmp(in.decision, "reject") != 0)
        rc = sb_handler_invalid(req, "decision must be \"approve\" or \"reject\"");
    if (rc == 0 && action != ACT_FILL && sealed)
        rc = sb_handler_invalid(req, "only a fill carries sealed_values");
    if (rc == 0 && action == ACT_FILL) {
        if (sealed == NULL) {
            sb_http_respond_error(req, 400, "missing_field",
                                  "a fill needs sealed_values: each value sealed on the client "
                                  "to the agents' public keys");
            rc = -1;
        } else
            rc = sb_request_read_sealed(req, sealed, &in.sealed);
    }
    json_decref(sealed);
    bool rejecting = in.decision && strcmp(in.decision, "reject") == 0;
    if (rc == 0)
        rc = text_ok(req, "comment", in.comment, 0);
    if (rc == 0)
        rc = text_ok(req, "reason", in.reason,
                     action == ACT_REFUSE ? 10 : (rejecting ? 1 : 0));
    if (rc == 0) {
        o.extra = &in;
        o.render = sb_request_json;
        o.ok_status = 200;
        sb_handler_op_run(&o, decide_txn);
    }
    sb_sealed_input_free(&in.sealed);
    return 0;
}

static int approve(sb_server_request *req, void *ctx) { return handle(req, ctx, ACT_APPROVE); }
static int reject(sb_server_request *req, void *ctx) { return handle(req, ctx, ACT_REJECT); }
static int verify(sb_server_request *req, void *ctx) { return handle(req, ctx, ACT_VERIFY); }
static int cancel(sb_server_request *req, void *ctx) { return handle(req, ctx, ACT_CANCEL); }
static int fill(sb_server_request *req, void *ctx) { return handle(req, ctx, ACT_FILL); }
static int refuse(sb_server_request *req, void *ctx) { return handle(req, ctx, ACT_REFUSE); }

int sb_request_decide_routes(sb_router *r, sb_app *app, sb_error *err)
{
#define R "/api/v1/requests/{id}"
    const sb_route routes[] = {
        {"POST", R "/approve", SB_AUTH_SESSION, NULL, approve, app, "approveRequest",
         "Vote to approve a read or patch request (secret.approve on its project)"},
        {"POST", R "/reject", SB_AUTH_SESSION, NULL, reject, app, "rejectRequest",
         "Vote to reject a request (a reason is required; any reject ends it)"},
        {"POST", R "/verify", SB_AUTH_SESSION, NULL, verify, app, "verifyRequest",
         "Vote on a filled cross-team request: {decision: approve|reject}"},
        {"POST", R "/cancel", SB_AUTH_SESSION, NULL, cancel, app, "cancelRequest",
         "Cancel your own open request"},
        {"POST", R "/fill", SB_AUTH_SESSION, "secret.value.provide", fill, app, "fillRequest",
         "Provide sealed values for a cross-team request"},
        {"POST", R "/refuse", SB_AUTH_SESSION, "secret.value.provide", refuse, app,
         "refuseRequest", "Refuse a cross-team request (reason of at least 10 characters)"},
    };
#undef R
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
