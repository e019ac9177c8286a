/*
 * api/job_service.c — the job queue's transactions shared by the routes,
 * the long-poll hub, the approval and the worker (agent_api.h): claiming,
 * creating a request's job, driving the request from a job outcome, and
 * the expired-lease sweep. Each writes its audit events in the
 * transaction of the change (I5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/agent_api.h"
#include "api/gitops_api.h"
#include "api/notify_api.h"
#include "api/request_api.h"
#include "domain/domain_error.h"
#include "domain/job_rules.h"
#include "store/job_store.h"
#include "store/request_store.h"

#define KNOWN_TYPES "{read,patch,discover}"

int sb_job_payload_steers(const json_t *payload, char *path_out, size_t cap)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(payload)) {
        json_object_foreach((json_t *)payload, k, v)
        {
            if (sb_job_key_steers(k)) {
                snprintf(path_out, cap, "%.100s", k);
                return 1;
            }
            char inner[160];
            if (sb_job_payload_steers(v, inner, sizeof inner)) {
                snprintf(path_out, cap, "%.60s.%.100s", k, inner);
                return 1;
            }
        }
    } else if (json_is_array(payload)) {
        json_array_foreach((json_t *)payload, i, v)
        {
            char inner[160];
            if (sb_job_payload_steers(v, inner, sizeof inner)) {
                snprintf(path_out, cap, "[%zu].%.100s", i, inner);
                return 1;
            }
        }
    }
    return 0;
}

static int audit_job(sb_db_conn *conn, sb_server_request *req, const char *action,
                     const char *job_id, const char *outcome, json_t *details, sb_error *err)
{
    char resource[64];
    snprintf(resource, sizeof resource, "job:%s", job_id);
    sb_api_audit_event ev = {action, resource, outcome, NULL, details};
    int rc = sb_api_audit(conn, req, &ev, err);
    json_decref(details);
    return rc;
}

int sb_job_drive_request(sb_db_conn *conn, const sb_app *app, sb_server_request *req,
                         const char *request_id, bool succeeded, const char *reason, int *applied,
                         sb_error *err)
{
    *applied = 0;
    sb_row_set cur = {0}, after = {0};
    int rc = sb_request_store_get(conn, request_id, true, &cur, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0; /* the request is gone: nothing to drive */
    sb_request_row r;
    sb_request_store_at(&cur, 0, &r);
    if (strcmp(r.state, "approved") != 0) {
        sb_row_set_free(&cur);
        return 0; /* decided otherwise already (a repeat, an expiry): left alone */
    }
    sb_request_step step = {.event = succeeded ? SB_REQ_EV_JOB_SUCCEEDED : SB_REQ_EV_JOB_FAILED,
                            .change = {.reason = succeeded ? NULL : reason}};
    rc = sb_request_apply(conn, req, &cur, &step, &after, err);
    if (rc == 0 && succeeded && app != NULL && after.n > 0) {
        sb_request_row executed;
        sb_request_store_at(&after, 0, &executed);
        rc = sb_gitops_observations_start(conn, app, req, &executed, err);
    }
    sb_row_set_free(&cur);
    sb_row_set_free(&after);
    *applied = rc == 0;
    return rc;
}

int sb_job_create_for_request(sb_db_conn *conn, sb_server_request *req,
                              const struct sb_request_row *r, const char *type,
                              const char *read_public_key, sb_error *err)
{
    json_t *keys = json_loads(r->keys ? r->keys : "[]", 0, NULL);
    json_t *payload = json_pack("{s:s, s:s, s:o, s:s, s:s*}", "request_id", r->id, "secret_ref",
                                r->secret_ref, "keys", keys ? keys : json_array(), "operation",
                                r->operation, "read_public_key", read_public_key);
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (text == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory building a job");
    char *json = NULL;
    int rc = sb_job_store_create(conn, type, r->connection_id, r->id, text, 5, &json, err);
    free(text);
    if (rc != 0) {
        free(json);
        return rc < 0 ? -1 : sb_error_set(err, SB_DB_E_QUERY, "the job was not created");
    }
    json_t *row = json_loads(json, 0, NULL);
    free(json);
    const char *id = json_string_value(json_object_get(row, "id"));
    char job_id[40];
    snprintf(job_id, sizeof job_id, "%s", id ? id : "");
    json_decref(row);
    return audit_job(conn, req, "job.create", job_id, "success",
                     json_pack("{s:s, s:s, s:s}", "type", type, "request_id", r->id,
                               "connection_id", r->connection_id),
                     err);
}

typedef struct claim_ctx {
    sb_server_request *req;
    const sb_agent_identity *agent;
    char *json;
} claim_ctx;

/* Queued jobs of types this control plane cannot hand out fail (and so
 * do their requests) instead of waiting for ever or being run blind. */
static int fail_unknown(sb_db_conn *conn, claim_ctx *c, sb_error *err)
{
    char *json = NULL;
    if (sb_job_store_fail_unknown(conn, c->agent->connection_id, KNOWN_TYPES, &json, err) != 0)
        return -1;
    json_t *list = json_loads(json, 0, NULL), *j;
    free(json);
    size_t i;
    int rc = 0;
    json_array_foreach(list, i, j)
    {
        const char *id = json_string_value(json_object_get(j, "id"));
        const char *rid = json_string_value(json_object_get(j, "request_id"));
        const char *type = json_string_value(json_object_get(j, "type"));
        int applied;
        if (rc == 0 && rid)
            rc = sb_job_drive_request(conn, NULL, c->req, rid, false, "unknown job type", &applied, err);
        if (rc == 0)
            rc = audit_job(conn, c->req, "job.fail", id, "failure",
                           json_pack("{s:s, s:s}", "reason", "unknown_job_type", "type",
                                     type ? type : ""),
                           err);
        sb_job_failure f = {id, type, c->agent->connection_id, rid,
                            "this control plane does not know the job type"};
        if (rc == 0)
            rc = sb_job_notify_failed(conn, &f, err);
    }
    json_decref(list);
    return rc;
}

static int claim_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    claim_ctx *c = p;
    free(c->json);
    c->json = NULL;
    if (fail_unknown(conn, c, err) != 0)
        return -1;
    int rc = sb_job_store_claim(conn, c->agent->agent_id, c->agent->connection_id, KNOWN_TYPES,
                                SB_JOB_LEASE_DEFAULT_S, &c->json, err);
    if (rc != 0)
        return rc;
    json_t *row = json_loads(c->json, 0, NULL);
    const char *id = json_string_value(json_object_get(row, "id"));
    char job_id[40];
    snprintf(job_id, sizeof job_id, "%s", id ? id : "");
    json_t *d = json_pack("{s:s, s:O?}", "type", json_string_value(json_object_get(row, "type")),
                          "attempt", json_object_get(row, "attempts"));
    json_decref(row);
    return audit_job(conn, c->req, "job.claim", job_id, "success", d, err);
}

int sb_job_claim(sb_app *app, sb_server_request *req, const sb_agent_identity *agent,
                 json_t **job, sb_error *err)
{
    *job = NULL;
    claim_ctx c = {req, agent, NULL};
    int rc = sb_db_transaction(app->db, claim_txn, &c, err);
    if (rc == 0) {
        *job = json_loads(c.json, 0, NULL);
        json_object_set_new(*job, "lease_seconds", json_integer(SB_JOB_LEASE_DEFAULT_S));
    }
    free(c.json);
    return rc < 0 ? -1 : rc;
}

typedef struct sweep_ctx {
    long limit;
    size_t n;
} sweep_ctx;

static int sweep_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    sweep_ctx *s = p;
    char *json = NULL;
    s->n = 0;
    if (sb_job_store_expire_leases(conn, s->limit, &json, err) != 0)
        return -1;
    json_t *list = json_loads(json, 0, NULL), *j;
    free(json);
    size_t i;
    int rc = 0;
    json_array_foreach(list, i, j)
    {
        const char *id = json_string_value(json_object_get(j, "id"));
        const char *state = json_string_value(json_object_get(j, "state"));
        const char *rid = json_string_value(json_object_get(j, "request_id"));
        const char *cid = json_string_value(json_object_get(j, "connection_id"));
        int failed = state && strcmp(state, "failed") == 0, applied;
        if (rc == 0 && failed && rid)
            rc = sb_job_drive_request(conn, NULL, NULL, rid, false,
                                      "the job's lease expired and no attempts are left",
                                      &applied, err);
        if (rc == 0 && !failed)
            rc = sb_job_store_notify(conn, cid, err);
        if (rc == 0)
            rc = audit_job(conn, NULL, "job.lease_expired", id, failed ? "failure" : "success",
                           json_pack("{s:s}", "state", state ? state : ""), err);
        sb_job_failure f = {id, json_string_value(json_object_get(j, "type")), cid, rid,
                            "the job's lease expired and no attempts are left"};
        if (rc == 0 && failed)
            rc = sb_job_notify_failed(conn, &f, err);
        s->n++;
    }
    json_decref(list);
    return rc;
}

int sb_job_sweep_leases(sb_db *db, long limit, size_t *n, sb_error *err)
{
    sweep_ctx s = {limit > 0 ? limit : 100, 0};
    int rc = sb_db_transaction(db, sweep_txn, &s, err);
    if (n)
        *n = rc == 0 ? s.n : 0;
    return rc < 0 ? -1 : 0;
}
