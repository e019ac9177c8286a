/*
 * api/gitops_observations.c — the GitOps observations of executed patches
 * (api/gitops_api.h).
 *
 * Contract:
 *   - sb_gitops_observations_start runs in the transaction that marks a
 *     patch request executed: one `pending` observation per application
 *     mapped (api/gitops_routes.c) to the request's secret binding or
 *     provider connection, changed_at = that transaction's time, timing
 *     out gitops_observation.timeout later; each audited
 *     gitops_observation.create on request:<id>. The worker
 *     (worker/gitops_poller.h) takes the baselines and polls.
 *   - GET /requests/{id}/gitops-observations lists them (state, evidence,
 *     the plugin's explanation, the last error, times; never the baseline
 *     text) to whoever may see the request (sb_request_visible); anyone
 *     else gets 404 as for a missing request.
 */
#include <stdlib.h>
#include <string.h>

#include "api/agent_api.h"
#include "api/gitops_api.h"
#include "api/handler_kit.h"
#include "store/gitops_store.h"
#include "store/request_store.h"

int sb_gitops_observations_start(sb_db_conn *conn, const sb_app *app, sb_server_request *req,
                                 const sb_request_row *r, sb_error *err)
{
    if (!app->settings->gitops_observation.enabled || strcmp(r->kind, "patch") != 0 ||
        strcmp(r->state, "executed") != 0)
        return 0;
    char *json = NULL;
    int64_t timeout = app->settings->gitops_observation.timeout_ms;
    if (sb_gitops_store_observations_start(conn, r->id, timeout > 0 ? timeout : 1800000, &json,
                                           err) < 0)
        return -1;
    json_t *created = json_loads(json ? json : "[]", 0, NULL), *o;
    free(json);
    char resource[64];
    snprintf(resource, sizeof resource, "request:%s", r->id);
    size_t i;
    int rc = 0;
    json_array_foreach(created, i, o)
    {
        json_t *d = json_pack("{s:O, s:O, s:O, s:s}", "observation_id", json_object_get(o, "id"),
                              "endpoint", json_object_get(o, "endpoint_name"), "application",
                              json_object_get(o, "application"), "state", "pending");
        sb_api_audit_event ev = {"gitops_observation.create", resource, "success", NULL, d};
        rc = sb_api_audit(conn, req, &ev, err);
        json_decref(d);
        if (rc != 0)
            break;
    }
    json_decref(created);
    return rc;
}

static int h_list(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    char id[37];
    if (sb_handler_path_id(req, "id", id) != 0)
        return sb_handler_not_found(req, "request");
    sb_error err = {0};
    sb_db_conn *conn;
    if (sb_db_acquire(app->db, 5000, &conn, &err) != 0)
        return sb_api_respond_store_error(req, &err);
    sb_row_set rows = {0};
    char *json = NULL;
    int rc = sb_request_get_visible(conn, sb_api_identity(req), id, &rows, &err);
    if (rc == 0)
        rc = sb_gitops_store_observations_of(conn, id, &json, &err);
    sb_db_release(app->db, conn);
    sb_row_set_free(&rows);
    if (rc != 0) {
        free(json);
        return rc > 0 ? sb_handler_not_found(req, "request") : sb_api_respond_store_error(req, &err);
    }
    return sb_agent_api_respond_text(req, 200, json);
}

int sb_api_gitops_observation_routes(sb_router *r, sb_app *app, sb_error *err)
{
    if (!app->settings->gitops_observation.enabled)
        return 0;
    const sb_route routes[] = {
        {"GET", "/api/v1/requests/{id}/gitops-observations", SB_AUTH_SESSION, NULL, h_list, app,
         "listRequestGitopsObservations",
         "Whether the workloads mapped to this patch picked it up (Argo CD observations)"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
