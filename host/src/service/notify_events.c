/* service/notify_events.c — see notify_events.h. Composes each event from the
 * row after the change (names and ids only) and hands it to the outbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/notify_events.h"
#include "domain/domain_error.h"
#include "store/outbox_store.h"

typedef struct outcome {
    sb_request_event ev;
    const char *kind, *verb, *severity;
} outcome;

/* What each event tells its audience ("Read request for app/db <verb>"). */
static const outcome outcomes[] = {
    {SB_REQ_EV_SUBMIT, "request.created", "needs a decision", "info"},
    {SB_REQ_EV_APPROVE_VOTE_DECIDED, "request.approved", "was approved", "info"},
    {SB_REQ_EV_VERIFY_APPROVED, "request.approved", "was verified and approved", "info"},
    {SB_REQ_EV_REJECT, "request.rejected", "was rejected", "warning"},
    {SB_REQ_EV_CANCEL, "request.cancelled", "was cancelled", "info"},
    {SB_REQ_EV_EXPIRE, "request.expired", "expired", "warning"},
    {SB_REQ_EV_FILL_WINDOW_EXPIRED, "request.expired", "expired before it was filled", "warning"},
    {SB_REQ_EV_JOB_SUCCEEDED, "request.executed", "was executed", "info"},
    {SB_REQ_EV_JOB_FAILED, "request.failed", "failed", "warning"},
    {SB_REQ_EV_EXECUTE_CHECK_FAILED, "request.failed", "failed its execute-time check", "warning"},
    {SB_REQ_EV_FILL, "request.filled", "was filled and needs verification", "info"},
    {SB_REQ_EV_REFUSE, "request.refused", "was refused by the destination team", "warning"},
};

static const outcome *outcome_of(sb_request_event ev)
{
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
        if (outcomes[i].ev == ev)
            return &outcomes[i];
    return NULL;
}

static const char *kind_title(const char *kind)
{
    return strcmp(kind, "read") == 0            ? "Read request"
           : strcmp(kind, "patch") == 0         ? "Change request"
           : strcmp(kind, "direct_reveal") == 0 ? "Reveal"
           : strcmp(kind, "cross_team") == 0    ? "Cross-team request"
                                                : "Request";
}

static void field(json_t *fields, const char *key, const char *value)
{
    if (value && value[0])
        json_array_append_new(fields, json_pack("{s:s, s:s}", "key", key, "value", value));
}

/* "a, b, c" from a JSON array of key names. */
static char *key_list(const char *keys_json)
{
    json_t *keys = json_loads(keys_json ? keys_json : "[]", 0, NULL), *k;
    size_t i, len = 1;
    json_array_foreach(keys, i, k) len += strlen(json_string_value(k) ? json_string_value(k) : "") + 2;
    char *out = calloc(1, len);
    json_array_foreach(keys, i, k) if (out && json_string_value(k))
    {
        if (out[0])
            strcat(out, ", ");
        strcat(out, json_string_value(k));
    }
    json_decref(keys);
    return out;
}

static json_t *audience(const sb_request_row *r, uint32_t action, json_t *workflow)
{
    if (action == SB_REQ_ACT_NOTIFY_REQUESTER)
        return json_pack("[{s:s}]", "user", r->requester_id);
    if (action == SB_REQ_ACT_NOTIFY_FILLERS)
        return json_pack("[{s:s, s:s}]", "permission", "secret.value.provide", "team_id",
                         r->target_team_id ? r->target_team_id : "");
    json_t *out = json_array(), *role;
    size_t i;
    json_array_foreach(json_object_get(workflow, "approver_role_ids"), i, role)
        json_array_append_new(out, json_pack("{s:O}", "role", role));
    json_array_append_new(out, json_pack("{s:s, s:s}", "permission", "secret.approve",
                                         "project_id", r->project_id));
    return out;
}

static const char *audience_name(uint32_t action)
{
    return action == SB_REQ_ACT_NOTIFY_REQUESTER   ? "requester"
           : action == SB_REQ_ACT_NOTIFY_APPROVERS ? "approvers"
                                                   : "fillers";
}

static json_t *request_fields(const sb_request_row *r, const char *actor, const char *keys)
{
    json_t *f = json_array();
    field(f, "request_id", r->id); /* notifiers thread a request by it */
    field(f, "kind", r->kind);
    field(f, "secret", r->secret_ref);
    field(f, "keys", keys);
    field(f, "environment", r->environment_id);
    field(f, "requester", r->requester_id);
    field(f, "justification", r->justification);
    field(f, "by", actor);
    field(f, "state", r->state);
    field(f, "reason", r->reason);
    return f;
}

static int add(sb_db_conn *conn, sb_outbox_event *e, json_t *recipients, json_t *fields,
               sb_error *err)
{
    char *rec = json_dumps(recipients, JSON_COMPACT), *fl = json_dumps(fields, JSON_COMPACT);
    json_decref(recipients);
    json_decref(fields);
    int rc = rec && fl ? 0 : sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory writing a "
                                                                      "notification");
    e->recipients_json = rec;
    e->fields_json = fl;
    if (rc == 0)
        rc = sb_outbox_store_add(conn, e, NULL, err);
    free(rec);
    free(fl);
    return rc;
}

int sb_request_notify(sb_db_conn *conn, const sb_actor *actor, const sb_request_row *r,
                      sb_request_event ev, uint32_t actions, sb_error *err)
{
    static const uint32_t audiences[] = {SB_REQ_ACT_NOTIFY_REQUESTER, SB_REQ_ACT_NOTIFY_APPROVERS,
                                         SB_REQ_ACT_NOTIFY_FILLERS};
    const outcome *o = outcome_of(ev);
    if (o == NULL || (actions & (SB_REQ_ACT_NOTIFY_REQUESTER | SB_REQ_ACT_NOTIFY_APPROVERS |
                                 SB_REQ_ACT_NOTIFY_FILLERS)) == 0)
        return 0;
    json_t *workflow = json_loads(r->workflow ? r->workflow : "{}", 0, NULL);
    char *channels = json_dumps(json_object_get(workflow, "notification_channels"), JSON_COMPACT);
    char *keys = key_list(r->keys);
    const char *by = sb_actor_display(actor);
    char title[300], summary[1200], link[64];
    snprintf(title, sizeof title, "%s for %s %s", kind_title(r->kind), r->secret_ref, o->verb);
    snprintf(summary, sizeof summary, "%s of keys %s of %s %s (by %s). Justification: %s",
             kind_title(r->kind), keys ? keys : "", r->secret_ref, o->verb, by,
             r->justification ? r->justification : "");
    snprintf(link, sizeof link, "/requests/%s", r->id);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < 3; i++) {
        if (!(actions & audiences[i]))
            continue;
        char dedupe[160];
        snprintf(dedupe, sizeof dedupe, "request:%s:%s:%s", r->id, o->kind + 8,
                 audience_name(audiences[i]));
        sb_outbox_event e = {.kind = o->kind, .severity = o->severity, .title = title,
                             .summary = summary, .link_path = link, .dedupe_key = dedupe,
                             .channels_json = channels};
        rc = add(conn, &e, audience(r, audiences[i], workflow), request_fields(r, by, keys), err);
    }
    free(keys);
    free(channels);
    json_decref(workflow);
    return rc;
}

int sb_job_notify_failed(sb_db_conn *conn, const sb_job_failure *f, sb_error *err)
{
    char title[200], summary[900], dedupe[80];
    snprintf(title, sizeof title, "A %s job failed for good", f->type ? f->type : "");
    snprintf(summary, sizeof summary, "Job %s (%s) of provider connection %s failed and will not "
                                      "be retried: %s",
             f->job_id, f->type ? f->type : "", f->connection_id ? f->connection_id : "",
             f->reason && f->reason[0] ? f->reason : "no reason given");
    snprintf(dedupe, sizeof dedupe, "job:%s:failed", f->job_id);
    json_t *fields = json_array();
    field(fields, "job", f->job_id);
    field(fields, "type", f->type);
    field(fields, "connection", f->connection_id);
    field(fields, "request_id", f->request_id);
    field(fields, "reason", f->reason);
    sb_outbox_event e = {.kind = "job.failed", .severity = "warning", .title = title,
                         .summary = summary, .link_path = "/agents", .dedupe_key = dedupe};
    return add(conn, &e, json_pack("[{s:s}]", "role", "admin"), fields, err);
}
