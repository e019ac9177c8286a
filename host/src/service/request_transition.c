/*
 * service/request_transition.c — the single writer of request states (see
 * request_writer.h). Every status change is: the machine's answer for (kind,
 * state, event), a compare-and-set UPDATE on (id, state), the actions of
 * that table row in the same transaction, and one audit event. The row is
 * locked by the caller, so the compare-and-set failing means a bug or a
 * writer outside this file; it is reported as a conflict, never ignored.
 *
 * Actions performed here: record_vote, store_sealed_values, refresh_wraps
 * and expire_wraps (TTLs of the sealed boxes from the workflow snapshot),
 * record_job_intent/enqueue_job (one job_intents row and one queued job per
 * request — service/job_writer.c, NOTIFY at commit — written just before
 * the state so the returned row shows it; for cross_team the destination
 * allowlist is re-checked first and a failed check records no job and
 * applies execute_check_failed right after), audit, and the notify_*
 * actions (outbox events in this transaction, service/notify_events.h; the audit
 * details list them under "notifications"). set_fill_deadline is done by
 * the insert (fill_expires_at from the snapshot). create_read_keypair is
 * done with the job (service/read_key.c).
 */
#include <stdio.h>
#include <string.h>

#include "domain/domain_error.h"
#include "service/job_writer.h"
#include "service/notify_events.h"
#include "service/read_key.h"
#include "service/request_writer.h"
#include "store/agent_store.h"

#define WRAP_TTL_ENDED_S 300 /* live boxes of a rejected/cancelled/expired request: 5 min */

static const char *audit_action(sb_request_event ev)
{
    switch (ev) {
    case SB_REQ_EV_SUBMIT: return "request.submit";
    case SB_REQ_EV_VOTE: return "request.vote";
    case SB_REQ_EV_APPROVE_VOTE_DECIDED:
    case SB_REQ_EV_VERIFY_APPROVED: return "request.approve";
    case SB_REQ_EV_REJECT: return "request.reject";
    case SB_REQ_EV_CANCEL: return "request.cancel";
    case SB_REQ_EV_EXPIRE:
    case SB_REQ_EV_FILL_WINDOW_EXPIRED: return "request.expire";
    case SB_REQ_EV_JOB_SUCCEEDED: return "request.execute";
    case SB_REQ_EV_JOB_FAILED:
    case SB_REQ_EV_EXECUTE_CHECK_FAILED: return "request.fail";
    case SB_REQ_EV_FILL: return "request.fill";
    case SB_REQ_EV_REFUSE: return "request.refuse";
    default: return "request.unknown";
    }
}

static int parse_row(const sb_request_row *r, sb_request_kind *kind, sb_request_state *state,
                     sb_error *err)
{
    if (sb_request_kind_parse(r->kind, kind, err) != 0 ||
        sb_request_state_parse(r->state, state, err) != 0)
        return -1;
    return 0;
}

/* The notify_* actions of a transition (performed through the outbox). */
static json_t *notify_actions(uint32_t actions)
{
    const uint32_t notify = SB_REQ_ACT_NOTIFY_REQUESTER |
                            SB_REQ_ACT_NOTIFY_APPROVERS | SB_REQ_ACT_NOTIFY_FILLERS;
    json_t *a = json_array();
    for (unsigned b = 0; b < SB_REQ_ACT_COUNT; b++)
        if (actions & notify & (1u << b))
            json_array_append_new(a, json_string(sb_request_action_name(1u << b)));
    return a;
}

static int audit(sb_db_conn *conn, const sb_actor *actor, const sb_request_row *r,
                 const char *from, sb_request_event ev, uint32_t actions, json_t *extra,
                 sb_error *err)
{
    char resource[64];
    snprintf(resource, sizeof resource, "request:%s", r->id);
    json_t *keys = json_loads(r->keys ? r->keys : "[]", 0, NULL);
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "kind", r->kind,
                          "event", sb_request_event_name(ev), "from", from, "to", r->state,
                          "project_id", r->project_id, "environment_id", r->environment_id,
                          "secret_ref", r->secret_ref, "keys", keys ? keys : json_array(),
                          "notifications", notify_actions(actions));
    if (d == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory writing an audit event");
    if (extra)
        json_object_update(d, extra);
    sb_audit_entry e = {audit_action(ev), resource, "success", NULL, d};
    int rc = sb_audit_write(conn, actor, &e, err);
    json_decref(d);
    return rc;
}

/* 0 when the cross-team destination still allows patching every key. */
static int allowlist_still_holds(sb_db_conn *conn, const sb_request_row *r, bool *ok,
                                 sb_error *err)
{
    *ok = false;
    if (r->binding_id == NULL)
        return 0;
    sb_row_set t = {0};
    int rc = sb_request_store_target(conn, r->binding_id, &t, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        sb_request_target tg;
        sb_request_store_target_at(&t, &tg);
        json_t *allowed = json_loads(tg.allowed_keys, 0, NULL), *ops = json_loads(tg.allowed_ops, 0, NULL);
        json_t *keys = json_loads(r->keys, 0, NULL), *k, *a;
        size_t i, j;
        bool all = allowed && keys && ops && strcmp(tg.connection_status, "active") == 0;
        bool patch = false;
        json_array_foreach(ops, j, a) patch |= strcmp(json_string_value(a), "patch") == 0;
        all = all && patch;
        json_array_foreach(keys, i, k)
        {
            bool found = false;
            json_array_foreach(allowed, j, a) found |= json_equal(a, k);
            all = all && found;
        }
        *ok = all;
        json_decref(allowed);
        json_decref(ops);
        json_decref(keys);
    }
    sb_row_set_free(&t);
    return 0;
}

static const char *job_type(sb_request_kind k)
{
    return k == SB_REQ_KIND_PATCH || k == SB_REQ_KIND_CROSS_TEAM ? "patch" : "read";
}

/* Every sealed box is for a live agent of the request's connection (only
 * those can ever claim the job and open it). */
static int recipients_live(sb_db_conn *conn, const sb_request_row *r, const sb_request_step *s,
                           sb_error *err)
{
    for (size_t i = 0; i < s->n_sealed; i++) {
        bool live = false;
        if (sb_agent_store_recipient_live(conn, r->connection_id, s->sealed[i].recipient, &live,
                                          err) != 0)
            return -1;
        if (!live)
            return sb_error_set(err, SB_DOMAIN_E_INVALID,
                                "sealed_values[%zu].recipient is not the public key of a live agent "
                                "of this request's provider connection; seal each value to the "
                                "keys listed by GET /api/v1/provider-connections/%s/agent-keys",
                                i, r->connection_id);
    }
    return 0;
}

/* The actions of a transition that are about data, on the row after it. */
static int perform(sb_db_conn *conn, const sb_request_row *r, uint32_t actions,
                   const sb_request_step *s, sb_error *err)
{
    if (((actions & SB_REQ_ACT_RECORD_VOTE) != 0) != (s->vote != NULL))
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "event %s %s a vote",
                            sb_request_event_name(s->event),
                            s->vote ? "does not record" : "records");
    if ((actions & SB_REQ_ACT_STORE_SEALED_VALUES) != 0 && s->n_sealed == 0)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "event %s needs sealed values",
                            sb_request_event_name(s->event));
    if ((actions & SB_REQ_ACT_STORE_SEALED_VALUES) == 0 && s->n_sealed != 0)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "event %s takes no values",
                            sb_request_event_name(s->event));
    if (recipients_live(conn, r, s, err) != 0)
        return -1;
    int created = sb_request_workflow_int(r, "wrap_ttl_created_s", 604800);
    for (size_t i = 0; i < s->n_sealed; i++)
        if (sb_request_store_sealed_insert(conn, r->id, s->sealed[i].key, s->sealed[i].recipient,
                                           s->sealed[i].box, created, err) != 0)
            return -1;
    if ((actions & SB_REQ_ACT_REFRESH_WRAPS) &&
        sb_request_store_sealed_retime(conn, r->id,
                                       sb_request_workflow_int(r, "wrap_ttl_approved_s", 3600),
                                       false, err) != 0)
        return -1;
    if ((actions & SB_REQ_ACT_EXPIRE_WRAPS) &&
        sb_request_store_sealed_retime(conn, r->id, WRAP_TTL_ENDED_S, true, err) != 0)
        return -1;
    return 0;
}

/* One transition on a locked row; *out the row after it. */
static int step_once(sb_db_conn *conn, const sb_actor *actor, const sb_row_set *cur,
                     const sb_request_step *s, sb_row_set *out, sb_error *err);

/* The job intent, a read's key (service/read_key.h) and the queued job
 * itself, in this transaction and one statement (service/job_writer.c). */
static int enqueue(sb_db_conn *conn, const sb_actor *actor, const sb_request_row *r,
                   sb_request_kind kind, uint32_t actions, const sb_request_step *s, sb_error *err)
{
    sb_read_key read_key;
    bool keypair = (actions & SB_REQ_ACT_CREATE_READ_KEYPAIR) != 0;
    if (keypair && sb_read_key_make(s->kms, &read_key, err) != 0)
        return -1;
    int rc = sb_job_create_for_request(conn, actor, r, job_type(kind), keypair ? &read_key : NULL,
                                       err);
    if (keypair)
        sb_read_key_free(&read_key);
    return rc;
}

/* The job action, before the state is written (so the row the update
 * returns already shows the intent): the intent, or for cross_team whose
 * destination allowlist no longer holds, nothing and *check_failed. */
static int record_job(sb_db_conn *conn, const sb_actor *actor, const sb_request_row *r,
                      sb_request_kind kind, uint32_t actions, const sb_request_step *s,
                      bool *check_failed, sb_error *err)
{
    *check_failed = false;
    if (kind == SB_REQ_KIND_CROSS_TEAM) {
        bool ok;
        if (allowlist_still_holds(conn, r, &ok, err) != 0)
            return -1;
        if (!ok) {
            *check_failed = true;
            return 0;
        }
    }
    return enqueue(conn, actor, r, kind, actions, s, err);
}

/* approved -> failed right after an approval whose re-check failed. */
static int fail_execute_check(sb_db_conn *conn, const sb_actor *actor, sb_row_set *row,
                              sb_error *err)
{
    json_t *d = json_pack("{s:s}", "check",
                          "destination allowlist no longer allows patching these keys");
    sb_request_step fail = {.event = SB_REQ_EV_EXECUTE_CHECK_FAILED,
                            .change = {.reason = "the destination binding no longer allows "
                                                 "patching these keys"},
                            .details = d};
    sb_row_set after = {0};
    int rc = step_once(conn, actor, row, &fail, &after, err);
    json_decref(d);
    if (rc != 0)
        return -1;
    sb_row_set_free(row);
    *row = after;
    return 0;
}

static int step_once(sb_db_conn *conn, const sb_actor *actor, const sb_row_set *cur,
                     const sb_request_step *s, sb_row_set *out, sb_error *err)
{
    sb_request_row r;
    sb_request_kind kind;
    sb_request_state from, to;
    uint32_t actions;
    bool check_failed = false;
    sb_request_store_at(cur, 0, &r);
    if (parse_row(&r, &kind, &from, err) != 0)
        return -1;
    if (sb_request_transition_ctx(kind, from, s->event, &s->ctx, &to, &actions, err) != 0)
        return -1;
    if ((actions & SB_REQ_ACT_RECORD_JOB_INTENT) &&
        record_job(conn, actor, &r, kind, actions, s, &check_failed, err) != 0)
        return -1;
    sb_request_change change = s->change;
    change.vote = s->vote; /* recorded by the state's statement */
    int rc = sb_request_store_set_state(conn, r.id, r.state, sb_request_state_name(to), &change,
                                        out, err);
    if (rc != 0)
        return rc < 0 ? -1
                      : sb_error_set(err, SB_DB_E_CONFLICT,
                                     "request %s changed while it was being decided; retry",
                                     r.id);
    sb_request_row after;
    sb_request_store_at(out, 0, &after);
    if (perform(conn, &after, actions, s, err) != 0 ||
        audit(conn, actor, &after, sb_request_state_name(from), s->event, actions, s->details,
              err) != 0 ||
        sb_request_notify(conn, actor, &after, s->event, actions, err) != 0)
        return -1;
    return check_failed ? fail_execute_check(conn, actor, out, err) : 0;
}

int sb_request_apply(sb_db_conn *conn, const sb_actor *actor, const sb_row_set *cur,
                     const sb_request_step *step, sb_row_set *out, sb_error *err)
{
    if (step->event == SB_REQ_EV_SUBMIT)
        return sb_error_set(err, SB_DOMAIN_E_INVALID,
                            "submit is not applied to an existing request");
    if (step_once(conn, actor, cur, step, out, err) != 0) {
        sb_row_set_free(out);
        return -1;
    }
    return 0;
}

int sb_request_submit_state(sb_request_kind kind, const sb_request_ctx *ctx, sb_request_state *to,
                            uint32_t *actions, sb_error *err)
{
    return sb_request_transition_ctx(kind, SB_REQ_STATE_NEW, SB_REQ_EV_SUBMIT, ctx, to, actions,
                                     err);
}

int sb_request_after_submit(sb_db_conn *conn, const sb_actor *actor, const sb_row_set *row,
                            uint32_t actions, const sb_request_step *step, sb_error *err)
{
    sb_request_row r;
    sb_request_kind kind;
    sb_request_state state;
    sb_request_store_at(row, 0, &r);
    if (parse_row(&r, &kind, &state, err) != 0 || perform(conn, &r, actions, step, err) != 0)
        return -1;
    if ((actions & SB_REQ_ACT_RECORD_JOB_INTENT) && enqueue(conn, actor, &r, kind, actions, step, err) != 0)
        return -1;
    if (audit(conn, actor, &r, "new", SB_REQ_EV_SUBMIT, actions, step->details, err) != 0)
        return -1;
    return sb_request_notify(conn, actor, &r, SB_REQ_EV_SUBMIT, actions, err);
}

int sb_request_workflow_int(const sb_request_row *r, const char *name, int fallback)
{
    json_t *w = json_loads(r->workflow ? r->workflow : "{}", 0, NULL);
    json_t *v = json_object_get(w, name);
    int out = json_is_integer(v) ? (int)json_integer_value(v) : fallback;
    json_decref(w);
    return out;
}
