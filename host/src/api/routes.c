/* api/routes.c — every route module of the control-plane API, in one
 * place (the OpenAPI check and the RBAC matrix enumerate the result). */
#include "api/agent_api.h"
#include "api/api.h"
#include "api/gitops_api.h"
#include "api/read_api.h"

int sb_api_routes_register(sb_router *r, sb_app *app, sb_error *err)
{
    int (*const modules[])(sb_router *, sb_app *, sb_error *) = {
        sb_api_auth_routes,
        sb_api_mfa_routes, /* api/mfa_routes.c */
        sb_api_oidc_routes, /* api/oidc_routes.c */
        sb_api_tenancy_routes,
        sb_api_rbac_routes,
        sb_api_audit_routes,
        sb_api_connection_routes,
        sb_api_catalog_routes,
        sb_api_request_routes,
        sb_api_workflow_routes,
        sb_api_policy_routes,
        sb_api_agent_routes, /* api/agent_routes.c */
        sb_api_job_routes,   /* api/job_routes.c */
        sb_api_reveal_routes, /* api/reveal_routes.c */
        sb_api_gitops_routes, /* api/gitops_routes.c: only when enabled */
        sb_api_gitops_observation_routes, /* api/gitops_observations.c: likewise */
        sb_api_gitops_application_routes, /* api/gitops_applications.c: likewise */
        sb_api_notification_routes, /* api/notification_routes.c */
    };
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
        if (modules[i](r, app, err) != 0)
            return -1;
    return 0;
}
