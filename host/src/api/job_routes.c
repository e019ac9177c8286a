/*
 * api/job_routes.c — sb_api_job_routes: the agent side of the job queue
 * (claim with long-poll, renew, complete) and the admin's discover job.
 *
 * Contract (docs/agent-protocol.md has the wire details):
 *   - Agent routes pass the agent gate (own id only). A job is visible to
 *     an agent only when it belongs to the agent's provider connection; any
 *     other job id answers 404, never 403 (no probing of other boundaries).
 *   - claim: ?wait=<n>s|<n>ms|<n> (seconds) up to 25 s, default 0. A job
 *     available now is returned at once (200); otherwise, with a wait, the
 *     request is parked in the hub (no thread held) until a job arrives for
 *     this connection or the deadline passes (204).
 *   - renew and complete: only the lease holder with a live lease (409
 *     not_lease_holder / lease_expired). complete takes outcome succeeded |
 *     failed_retryable | failed_permanent and an optional short error
 *     (<= 300 characters, no control characters; it must never hold a
 *     value). The exact repeat of the holder's last completion answers 200
 *     with "repeat": true and changes nothing. A succeeded read carries
 *     results: the values sealed to the job's read_public_key, stored as
 *     the request's wraps in the completing transaction (api/read_api.h).
 *   - discovery: the holder of a discover job's lease uploads the catalog
 *     in chunks (api/discovery_upload.c); each chunk is upserted at once
 *     and counted, and the completion records the connection's discovery
 *     status (last run, outcome, count). Retryable failures re-queue
 *     with backoff + jitter (domain/job_rules.h) until max_attempts, then
 *     fail. A request's job drives the request to executed / failed in the
 *     same transaction. Audited: job.renew, job.complete.
 *   - POST /provider-connections/{id}/discover-jobs (global
 *     integration.edit) queues a discover job; a payload key that would
 *     steer the connection (I4, domain/job_rules.h) is 422
 *     connection_steering_refused and audited (job.create, denied).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/agent_api.h"
#include "service/notify_events.h"
#include "api/read_api.h"
#include "domain/domain_error.h"
#include "domain/job_rules.h"
#include "store/catalog_store.h"
#include "store/job_store.h"
#include "store/request_store.h"
#include "store/rows.h"
#include "util/duration.h"

#define ERROR_MAX 300

static int parse_wait(const char *q, int64_t *ms)
{
    *ms = 0;
    if (q == NULL || *q == '\0')
        return 0;
    char *end;
    long long v = strtoll(q, &end, 10);
    if (end == q || v < 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        *ms = v;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        *ms = v * 1000;
    else
        return -1;
    if (*ms > SB_JOB_CLAIM_WAIT_MAX_MS)
        *ms = SB_JOB_CLAIM_WAIT_MAX_MS;
    return 0;
}

static int h_claim(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_agent_identity *a = sb_api_agent(req);
    int64_t wait_ms;
    if (parse_wait(sb_http_query(req, "wait"), &wait_ms) != 0)
        return sb_http_respond_error(req, 400, "invalid_query",
                                     "wait must be like 25s, 500ms or 10 (seconds), at most 25 s");
    json_t *job;
    sb_error err = {0};
    int rc = sb_job_claim(app, req, a, &job, &err);
    if (rc < 0)
        return sb_api_respond_store_error(req, &err);
    if (rc == 0)
        return sb_http_respond_json(req, 200, job);
    /* a stopping server parks nothing: 204 at once, as the hub answers its
     * waiters then (the agent claims again, here after a restart or elsewhere) */
    if (wait_ms == 0 || sb_http_stopping(req))
        return sb_http_respond_empty(req, 204);
    if (sb_job_hub_park(app, req, a, wait_ms, &err) != 0)
        return sb_http_stopping(req)
                   ? sb_http_respond_empty(req, 204)
                   : sb_http_respond_error(req, 503, "unavailable",
                                           "cannot wait for jobs now: %s; retry", err.message);
    return 0;
}

/* ---- renew and complete ----------------------------------------------------- */

typedef struct lease_ctx {
    sb_server_request *req;
    const sb_app *app;
    const sb_agent_identity *agent;
    const char *job_id;
    int complete; /* 0: renew (or upload) */
    const json_t *items; /* upload: a discovery chunk, in the store's batch shape */
    int64_t accepted;
    sb_job_event event;
    const char *outcome, *error;
    const json_t *results; /* a succeeded read: the sealed values (api/read_api.h) */
    int status; /* the HTTP answer: 200, 404, 409 */
    const char *code, *message;
    int repeat;
    char *json;
} lease_ctx;

static int refuse(lease_ctx *c, int status, const char *code, const char *message)
{
    c->status = status;
    c->code = code;
    c->message = message;
    return 0;
}

/* A succeeded read job's results become the request's wraps (while the
 * request still waits for them); any other job takes none. */
static int store_results(sb_db_conn *conn, lease_ctx *c, const sb_job_lock_row *j, sb_error *err)
{
    int read_done = strcmp(j->type, "read") == 0 && c->event == SB_JOB_EV_SUCCEEDED;
    if (!read_done || j->request_id[0] == '\0')
        return c->results == NULL ? 0
                                  : sb_error_set(err, SB_DOMAIN_E_INVALID,
                                                 "results are taken only with a succeeded read job");
    sb_row_set rows = {0};
    int rc = sb_request_store_get(conn, j->request_id, true, &rows, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0; /* the request is gone: nothing to keep */
    sb_request_row r;
    sb_request_store_at(&rows, 0, &r);
    rc = strcmp(r.state, "approved") != 0 ? 0
                                           : sb_read_results_store(conn, &r, c->agent->agent_id,
                                                                   c->results, err);
    sb_row_set_free(&rows);
    return rc;
}

static int apply_completion(sb_db_conn *conn, lease_ctx *c, const sb_job_lock_row *j,
                            sb_error *err)
{
    if (store_results(conn, c, j, err) != 0)
        return -1;
    sb_job_state to;
    if (sb_job_transition(SB_JOB_LEASED, c->event, j->attempts >= j->max_attempts, &to, err) != 0)
        return -1;
    int64_t delay = to == SB_JOB_QUEUED ? sb_job_backoff_ms(j->attempts, randombytes_random()) : 0;
    if (sb_job_store_complete(conn, j->id, c->agent->agent_id, sb_job_state_name(to), c->outcome,
                              c->error, delay, &c->json, err) != 0)
        return -1;
    if (strcmp(j->type, "discover") == 0 &&
        sb_job_store_discovery_ended(conn, j->id, c->outcome, c->error, err) != 0)
        return -1;
    int applied = 0;
    if (j->request_id[0] && to != SB_JOB_QUEUED) {
        char reason[400];
        snprintf(reason, sizeof reason, "the agent reported %s%s%s", c->outcome,
                 c->error ? ": " : "", c->error ? c->error : "");
        if (sb_job_drive_request(conn, c->app, c->req, j->request_id, to == SB_JOB_SUCCEEDED, reason,
                                 &applied, err) != 0)
            return -1;
    }
    char resource[64];
    snprintf(resource, sizeof resource, "job:%s", j->id);
    json_t *d = json_pack("{s:s, s:s, s:i, s:b, s:I}", "outcome", c->outcome, "state",
                          sb_job_state_name(to), "attempt", j->attempts, "request_changed",
                          applied, "retry_in_ms", (json_int_t)delay);
    sb_api_audit_event ev = {"job.complete", resource,
                             to == SB_JOB_SUCCEEDED ? "success" : "failure", NULL, d};
    int rc = sb_api_audit(conn, c->req, &ev, err);
    json_decref(d);
    sb_job_failure f = {j->id, j->type, j->connection_id, j->request_id,
                        c->error ? c->error : c->outcome};
    if (rc == 0 && to == SB_JOB_FAILED)
        rc = sb_job_notify_failed(conn, &f, err);
    return rc;
}

/* A discovery chunk from the lease holder: upserted into the catalog (native
 * labels verbatim) and counted on the job. */
static int upload_chunk(sb_db_conn *conn, lease_ctx *c, const sb_job_lock_row *j, sb_error *err)
{
    if (strcmp(j->type, "discover") != 0)
        return refuse(c, 409, "not_a_discover_job", "only a discover job uploads catalog items");
    char *text = json_dumps(c->items, JSON_COMPACT);
    if (text == NULL)
        return sb_error_set(err, SB_DOMAIN_E_NO_MEMORY, "out of memory");
    int rc = sb_catalog_store_upsert_batch(conn, j->connection_id, text, false, &c->accepted, err);
    free(text);
    if (rc != 0 || sb_job_store_add_uploaded(conn, j->id, c->accepted, err) != 0)
        return -1;
    char resource[64];
    snprintf(resource, sizeof resource, "job:%s", j->id);
    json_t *d = json_pack("{s:I}", "items", (json_int_t)c->accepted);
    sb_api_audit_event ev = {"catalog.discovery_upload", resource, "success", NULL, d};
    rc = sb_api_audit(conn, c->req, &ev, err);
    json_decref(d);
    return rc == 0 ? sb_job_store_get(conn, j->id, &c->json, err) : -1;
}

static int lease_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    lease_ctx *c = p;
    free(c->json);
    c->json = NULL;
    c->status = 200;
    c->repeat = 0;
    sb_job_lock_row j;
    int rc = sb_job_store_lock(conn, c->job_id, &j, err);
    if (rc < 0)
        return -1;
    if (rc == 1 || strcmp(j.connection_id, c->agent->connection_id) != 0)
        return refuse(c, 404, "not_found", "no such job for this agent's connection");
    int holder = strcmp(j.state, "leased") == 0 && strcmp(j.lease_owner, c->agent->agent_id) == 0;
    if (holder && !j.lease_live)
        return refuse(c, 409, "lease_expired",
                      "the lease on this job expired; it will be offered again");
    if (!holder && c->complete && strcmp(j.last_completed_by, c->agent->agent_id) == 0 &&
        strcmp(j.last_outcome, c->outcome) == 0) {
        c->repeat = 1; /* the exact repeat of this agent's last completion */
        return sb_job_store_get(conn, j.id, &c->json, err);
    }
    if (!holder)
        return refuse(c, 409, "not_lease_holder", "this agent does not hold the lease on this job");
    if (c->items)
        return upload_chunk(conn, c, &j, err);
    if (!c->complete) {
        if (sb_job_store_renew(conn, j.id, SB_JOB_LEASE_DEFAULT_S, &c->json, err) != 0)
            return -1;
        char resource[64];
        snprintf(resource, sizeof resource, "job:%s", j.id);
        sb_api_audit_event ev = {"job.renew", resource, "success", NULL, NULL};
        return sb_api_audit(conn, c->req, &ev, err);
    }
    return apply_completion(conn, c, &j, err);
}

static int run_lease(sb_server_request *req, sb_app *app, lease_ctx *c)
{
    char job_id[37];
    if (!sb_rows_uuid(sb_http_param(req, "job_id"), job_id))
        return sb_http_respond_error(req, 404, "not_found", "no such job");
    c->req = req;
    c->app = app;
    c->agent = sb_api_agent(req);
    c->job_id = job_id;
    sb_error err = {0};
    int rc = sb_db_transaction(app->db, lease_txn, c, &err);
    if (rc < 0) {
        free(c->json);
        return sb_api_respond_store_error(req, &err);
    }
    if (c->status != 200) {
        free(c->json);
        return sb_http_respond_error(req, c->status, c->code, "%s", c->message);
    }
    json_t *j = json_loads(c->json ? c->json : "", 0, NULL);
    free(c->json);
    if (j == NULL)
        return sb_http_respond_error(req, 500, "internal", "cannot read the job");
    if (c->complete)
        json_object_set_new(j, "repeat", json_boolean(c->repeat));
    else if (c->items)
        json_object_set_new(j, "accepted", json_integer(c->accepted));
    else
        json_object_set_new(j, "lease_seconds", json_integer(SB_JOB_LEASE_DEFAULT_S));
    return sb_http_respond_json(req, 200, j);
}

static int h_renew(sb_server_request *req, void *ctx)
{
    lease_ctx c = {0};
    return run_lease(req, ctx, &c);
}

static int h_complete(sb_server_request *req, void *ctx)
{
    static const char *const allowed[] = {"outcome", "error", "results", NULL};
    json_t *body;
    if (sb_agent_api_body(req, allowed, &body) != 0)
        return -1;
    lease_ctx c = {.complete = 1, .results = json_object_get(body, "results")};
    const char *o = json_string_value(json_object_get(body, "outcome"));
    static const struct {
        const char *name;
        sb_job_event ev;
    } outcomes[] = {{"succeeded", SB_JOB_EV_SUCCEEDED},
                    {"failed_retryable", SB_JOB_EV_FAILED_RETRYABLE},
                    {"failed_permanent", SB_JOB_EV_FAILED_PERMANENT}};
    for (size_t i = 0; o && i < 3 && !c.outcome; i++)
        if (strcmp(o, outcomes[i].name) == 0)
            c.outcome = outcomes[i].name, c.event = outcomes[i].ev;
    if (c.outcome == NULL)
        return sb_http_respond_error(req, 400, "invalid_field",
                                     "outcome must be succeeded, failed_retryable or "
                                     "failed_permanent");
    json_t *e = json_object_get(body, "error");
    if (e) {
        const char *s = json_string_value(e);
        int ok = s && strlen(s) <= ERROR_MAX;
        for (const char *q = s; ok && *q; q++)
            ok = (unsigned char)*q >= 0x20;
        if (!ok)
            return sb_http_respond_error(req, 400, "invalid_field",
                                         "error must be a string of at most %d characters without "
                                         "control characters (and never a secret value)",
                                         ERROR_MAX);
        c.error = s;
    }
    return run_lease(req, ctx, &c);
}

static int h_upload(sb_server_request *req, void *ctx)
{
    static const char *const allowed[] = {"items", NULL};
    json_t *body, *items;
    if (sb_agent_api_body(req, allowed, &body) != 0)
        return -1;
    sb_error err = {0};
    if (sb_discovery_items_convert(json_object_get(body, "items"), &items, &err) != 0)
        return sb_http_respond_error(req, 422, "invalid_value", "%s", err.message);
    lease_ctx c = {.items = items};
    int rc = run_lease(req, ctx, &c);
    json_decref(items);
    return rc;
}

/* ---- discover jobs (admin) ------------------------------------------------- */

typedef struct discover_ctx {
    sb_server_request *req;
    const char *connection_id;
    char *payload, *json;
} discover_ctx;

static int discover_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    discover_ctx *d = p;
    free(d->json);
    d->json = NULL;
    int rc = sb_job_store_create(conn, "discover", d->connection_id, NULL, d->payload, 3, NULL,
                                 &d->json, err);
    if (rc != 0)
        return rc;
    json_t *row = json_loads(d->json, 0, NULL);
    char resource[64];
    snprintf(resource, sizeof resource, "job:%s",
             json_string_value(json_object_get(row, "id")) ? json_string_value(json_object_get(row, "id")) : "");
    json_decref(row);
    json_t *det = json_pack("{s:s, s:s}", "type", "discover", "connection_id", d->connection_id);
    sb_api_audit_event ev = {"job.create", resource, "success", NULL, det};
    rc = sb_api_audit(conn, d->req, &ev, err);
    json_decref(det);
    return rc;
}

static int h_discover(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    const sb_identity *id = sb_api_identity(req);
    char cid[37];
    if (!id || !id->rbac || !sb_rbac_allows_global(id->rbac, SB_PERM_INTEGRATION_EDIT))
        return sb_http_respond_error(req, 403, "forbidden",
                                     "this needs integration.edit from a global grant");
    if (!sb_rows_uuid(sb_http_param(req, "id"), cid))
        return sb_http_respond_error(req, 404, "not_found", "no such provider connection");
    static const char *const allowed[] = {"payload", NULL};
    json_t *body;
    if (sb_agent_api_body(req, allowed, &body) != 0)
        return -1;
    json_t *payload = json_object_get(body, "payload");
    if (payload && !json_is_object(payload))
        return sb_http_respond_error(req, 400, "invalid_field", "payload must be an object");
    char path[200];
    if (payload && sb_job_payload_steers(payload, path, sizeof path)) {
        json_t *d = json_pack("{s:s, s:s, s:s}", "rule", "I4", "field", path, "connection_id", cid);
        sb_api_audit_event ev = {"job.create", "job", "denied", "warning", d};
        sb_api_audit_now(app, req, &ev);
        json_decref(d);
        return sb_http_respond_error(req, 422, "connection_steering_refused",
                                     "payload.%s would steer the provider connection; connection "
                                     "identity is pinned in the agent's own configuration (I4)",
                                     path);
    }
    discover_ctx d = {req, cid, payload ? json_dumps(payload, JSON_COMPACT) : strdup("{}"), NULL};
    sb_error err = {0};
    int rc = sb_db_transaction(app->db, discover_txn, &d, &err);
    free(d.payload);
    if (rc < 0) {
        if (err.code == SB_DB_E_FK)
            return sb_http_respond_error(req, 404, "not_found", "no such provider connection");
        return sb_api_respond_store_error(req, &err);
    }
    return sb_agent_api_respond_text(req, 201, d.json);
}

int sb_api_job_routes(sb_router *r, sb_app *app, sb_error *err)
{
    const sb_route routes[] = {
        {"POST", "/api/v1/agents/{id}/jobs/claim", SB_AUTH_AGENT, NULL, h_claim, app, "claimJob",
         "Claim a job of this agent's connection (long-poll up to 25 s)"},
        {"POST", "/api/v1/agents/{id}/jobs/{job_id}/renew", SB_AUTH_AGENT, NULL, h_renew, app,
         "renewJobLease", "Extend the lease on a job this agent holds"},
        {"POST", "/api/v1/agents/{id}/jobs/{job_id}/complete", SB_AUTH_AGENT, NULL, h_complete,
         app, "completeJob", "Report a job's outcome (lease holder only)"},
        {"POST", "/api/v1/agents/{id}/jobs/{job_id}/discovery", SB_AUTH_AGENT, NULL, h_upload,
         app, "uploadDiscoveryChunk",
         "Upload a chunk of a discover job's catalog items (lease holder only)"},
        {"POST", "/api/v1/provider-connections/{id}/discover-jobs", SB_AUTH_SESSION,
         "integration.edit", h_discover, app, "createDiscoverJob",
         "Queue a discovery job for the connection's agents"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
