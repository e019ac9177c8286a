/*
 * api/gitops_applications.c — app discovery: the applications an Argo CD
 * endpoint can see, for the operator who maps one (api/gitops_api.h),
 * registered only when gitops_observation.enabled (off: 404 as any
 * unknown path).
 *
 * Contract: GET /api/v1/argocd-endpoints/{id}/applications[?project=
 * &limit=] needs integration.edit from a global grant, like every GitOps
 * route. It opens the endpoint (token unwrapped by the KMS just for the
 * call) and calls the GitOps plugin's list_applications (ABI 1.1; GET only
 * at Argo CD), answering {"items": [{name, project, namespace,
 * destination, sync_status, health_status}], "truncated", "limit"} —
 * bounded by limit (1-1000, default 500; truncated: narrow with
 * ?project=), never a token or a value. A read, so not audited (as the
 * other GitOps reads). Refusals are 4xx, so their message reaches the
 * operator (5xx bodies are generic), each with a code:
 *   404 not_found               no such endpoint
 *   422 invalid_value           bad project/limit, or the plugin refused
 *                               (e.g. a project other than the endpoint's)
 *   422 plugin_cannot_list      the plugin predates ABI 1.1 or leaves the
 *                               slot NULL: names it, its ABI, "upgrade it"
 *   409 gitops_plugin_missing   no GitOps plugin is started
 *   409 endpoint_unusable       the stored token cannot be unwrapped
 *   409 argocd_refused          Argo CD refused the token (401/403)
 *   409 argocd_unavailable      Argo CD unreachable, failing or garbled
 */
#include <stdlib.h>
#include <string.h>

#include "api/agent_api.h"
#include "api/gitops_api.h"
#include "api/handler_kit.h"
#include "plugin/gitops_endpoint.h"
#include "store/gitops_store.h"

#define LIMIT_DEFAULT 500
#define LIMIT_MAX 1000

/* ?project= and ?limit= into out; 0, or -1 answered 422. */
static int read_query(sb_server_request *req, const char **project, size_t *limit)
{
    static const char *const known[] = {"project", "limit"};
    if (sb_handler_check_query(req, known, 2) != 0)
        return -1;
    *project = sb_http_query(req, "project");
    if (*project && (*project)[0] == '\0')
        *project = NULL;
    if (*project && !sb_handler_name_ok(*project, 253, "abcdefghijklmnopqrstuvwxyz0123456789",
                                        "abcdefghijklmnopqrstuvwxyz0123456789.-"))
        return sb_handler_invalid(req, "project: an Argo CD project name (a-z, 0-9, '-', '.')");
    const char *l = sb_http_query(req, "limit");
    *limit = LIMIT_DEFAULT;
    if (l) {
        char *end = NULL;
        long v = strtol(l, &end, 10);
        if (l[0] == '\0' || *end != '\0' || v < 1 || v > LIMIT_MAX)
            return sb_handler_invalid(req, "limit: a whole number from 1 to %d", LIMIT_MAX);
        *limit = (size_t)v;
    }
    return 0;
}

/* The stored endpoint row (token wrapped) into *stored; 0, or -1 answered. */
static int load_endpoint(sb_app *app, sb_server_request *req, const char *id, char **stored)
{
    sb_db_conn *conn;
    sb_error err = {0};
    *stored = NULL;
    if (sb_db_acquire(app->db, 5000, &conn, &err) != 0)
        return sb_api_respond_store_error(req, &err), -1;
    int rc = sb_gitops_store_endpoint_secret(conn, id, stored, &err);
    sb_db_release(app->db, conn);
    if (rc == 0)
        return 0;
    free(*stored);
    *stored = NULL;
    if (rc < 0)
        return sb_api_respond_store_error(req, &err), -1;
    return sb_http_respond_error(req, 404, "not_found", "no such Argo CD endpoint"), -1;
}

/* A failed listing, by the plugin's status. */
static int respond_list_failure(sb_server_request *req, const sb_error *err)
{
    switch (err->code) {
    case SB_E_INVALID:
    case SB_E_CONFIG:
        return sb_http_respond_error(req, 422, "invalid_value", "%s", err->message);
    case SB_E_DENIED:
    case SB_E_AUTH_EXPIRED:
        return sb_http_respond_error(req, 409, "argocd_refused",
                                     "%s (replace the endpoint's token with one that may list "
                                     "applications)",
                                     err->message);
    default:
        return sb_http_respond_error(req, 409, "argocd_unavailable", "%s", err->message);
    }
}

static int h_applications(sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    char id[37];
    const char *project;
    size_t limit;
    if (!sb_api_allowed_globally(req, SB_PERM_INTEGRATION_EDIT, "integration.edit") ||
        sb_api_path_uuid(req, "Argo CD endpoint", id) != 0 || read_query(req, &project, &limit) != 0)
        return -1;
    char *stored;
    if (load_endpoint(app, req, id, &stored) != 0)
        return -1;
    sb_error err = {0};
    if (app->gitops_plugin == NULL) {
        free(stored);
        return sb_http_respond_error(req, 409, "gitops_plugin_missing",
                                     "no GitOps plugin is started: list %.100s under plugins.load "
                                     "with capabilities [gitops]",
                                     app->settings->gitops_observation.plugin
                                         ? app->settings->gitops_observation.plugin
                                         : "argocd");
    }
    if (!sb_gitops_client_can_list(app->gitops_plugin, &err)) {
        free(stored);
        return sb_http_respond_error(req, 422, "plugin_cannot_list", "%s", err.message);
    }
    sb_gitops_endpoint ep;
    int rc = sb_gitops_endpoint_open(app->kms, stored, &ep, &err);
    free(stored);
    if (rc != 0)
        return sb_http_respond_error(req, 409, "endpoint_unusable", "%s", err.message);
    json_t *items = NULL;
    int truncated = 0;
    rc = sb_gitops_client_list(app->gitops_plugin, &ep.target, project, limit, &items, &truncated,
                               &err);
    sb_gitops_endpoint_close(&ep);
    if (rc != 0)
        return respond_list_failure(req, &err);
    return sb_http_respond_json(req, 200,
                                json_pack("{s:o, s:b, s:I}", "items", items, "truncated",
                                          truncated, "limit", (json_int_t)limit));
}

int sb_api_gitops_application_routes(sb_router *r, sb_app *app, sb_error *err)
{
    if (!app->settings->gitops_observation.enabled)
        return 0;
    const sb_route routes[] = {
        {"GET", "/api/v1/argocd-endpoints/{id}/applications", SB_AUTH_SESSION, "integration.edit",
         h_applications, app, "listArgocdApplications",
         "The applications the endpoint's token can see (through the GitOps plugin, GET only)"},
    };
    return sb_router_add_all(r, routes, sizeof routes / sizeof routes[0], err);
}
