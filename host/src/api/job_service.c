/*
 * api/job_service.c — the job queue's transactions of the agent routes and
 * the long-poll hub (agent_api.h): claiming, and driving a request from a
 * job outcome with the GitOps observations of an executed patch. Creating
 * a request's job and the lease sweep are service/job_writer.c's. Each
 * writes its audit events in the transaction of the change (I5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/agent_api.h"
#include "api/gitops_api.h"
#include "service/job_writer.h"
#include "service/notify_events.h"
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

int sb_job_drive_request(sb_db_conn *conn, const sb_app *app, sb_server_request *req,
                         const char *request_id, bool succeeded, const char *reason, int *applied,
                         sb_error *err)
{
    sb_actor actor;
    sb_row_set executed = {0};
    int rc = sb_request_drive_job(conn, sb_api_request_actor(req, &actor), request_id, succeeded,
                                  reason, applied, app ? &executed : NULL, err);
    if (rc == 0 && *applied && succeeded && app != NULL && executed.n > 0) {
        sb_request_row r;
        sb_request_store_at(&executed, 0, &r);
        rc = sb_gitops_observations_start(conn, app, req, &r, err);
        *applied = rc == 0;
    }
    sb_row_set_free(&executed);
    return rc;
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
    sb_actor actor;
    json_array_foreach(list, i, j)
    {
        const char *id = json_string_value(json_object_get(j, "id"));
        const char *rid = json_string_value(json_object_get(j, "request_id"));
        const char *type = json_string_value(json_object_get(j, "type"));
        int applied;
        if (rc == 0 && rid)
            rc = sb_job_drive_request(conn, NULL, c->req, rid, false, "unknown job type", &applied, err);
        if (rc == 0)
            rc = sb_job_audit(conn, sb_api_request_actor(c->req, &actor), "job.fail", id, "failure",
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
    sb_actor actor;
    return sb_job_audit(conn, sb_api_request_actor(c->req, &actor), "job.claim", job_id, "success", d, err);
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

