/*
 * api/gate.c — the auth gate every request passes before its handler.
 *
 * Default deny: PUBLIC routes pass; AGENT routes need an enrolled agent
 * (api/agent_auth.c); SESSION routes need an authenticated user (401 otherwise). The
 * user's grants and the tenancy are loaded into an RBAC context attached to
 * the request with the identity. A route that names a permission is refused
 * with 403 (and an audited denial) when the user holds that permission
 * nowhere; the handler then checks it at the exact scope it touches.
 */
#include <stdlib.h>
#include <string.h>

#include "api/agent_api.h"
#include "api/api.h"
#include "api/app_keys.h"
#include "store/rbac_snapshot.h"
#include "util/log.h"

static void identity_free(void *p)
{
    sb_identity *id = p;
    if (id == NULL)
        return;
    sb_rbac_ctx_free(id->rbac);
    sb_app_tenancy_release(id->tenancy_ref);
    if (id->grants) {
        sb_grant_set_free(id->grants);
        free(id->grants);
    }
    free(id);
}

/* Loads grants + tenancy and builds the RBAC context; fills *anywhere with
 * the union of every grant's permissions. */
static int load_rbac(sb_app *app, sb_identity *id, sb_permission_set *anywhere, sb_error *err)
{
    sb_db_conn *conn;
    if (sb_db_acquire(app->db, 5000, &conn, err) != 0)
        return -1;
    sb_grant_set grants;
    int rc = 0;
    if (id->grants) { /* read with the session */
        grants = *id->grants;
        free(id->grants);
        id->grants = NULL;
    } else {
        rc = sb_store_user_grants(conn, id->user_id, &grants, err);
    }
    if (rc == 0)
        rc = sb_app_tenancy_acquire(app, conn, grants.tenancy_version, &id->tenancy_ref, err);
    sb_db_release(app->db, conn);
    if (rc != 0) {
        sb_grant_set_free(&grants);
        return -1;
    }
    id->tenancy = sb_tenancy_ref_get(id->tenancy_ref);
    *anywhere = 0;
    for (size_t i = 0; i < grants.n; i++) {
        if (id->token_scoped) /* a scoped API token: never more than its scopes */
            grants.grants[i].permissions &= id->token_scopes;
        *anywhere |= grants.grants[i].permissions;
    }
    id->anywhere = *anywhere;
    rc = sb_rbac_ctx_build(id->tenancy, grants.grants, grants.n, &id->rbac, err);
    sb_grant_set_free(&grants);
    return rc;
}

int sb_api_gate(const sb_route *route, sb_server_request *req, void *ctx)
{
    sb_app *app = ctx;
    if (route->auth == SB_AUTH_PUBLIC)
        return 0;
    if (route->auth == SB_AUTH_AGENT)
        return sb_api_agent_gate(app, route, req); /* api/agent_auth.c */
    sb_identity *id = calloc(1, sizeof *id);
    if (id == NULL) {
        sb_http_respond_error(req, 503, "unavailable", "out of memory");
        return 1;
    }
    sb_error err = {0};
    int rc = sb_api_authenticate(app, req, id, &err);
    if (rc != 0) {
        identity_free(id);
        if (rc < 0) {
            sb_err("gate", "authentication failed: %s", err.message);
            sb_api_respond_store_error(req, &err);
        } else {
            sb_http_set_header(req, "WWW-Authenticate", "Bearer realm=\"sbridge\"");
            sb_http_respond_error(req, 401, "unauthenticated",
                                  "sign in first: a session cookie, a bearer JWT or an API token is "
                                  "required");
        }
        return 1;
    }
    sb_permission_set anywhere = 0;
    if (load_rbac(app, id, &anywhere, &err) != 0) {
        identity_free(id);
        sb_err("gate", "cannot load grants: %s", err.message);
        sb_api_respond_store_error(req, &err);
        return 1;
    }
    sb_http_set_identity(req, id, identity_free);
    if (route->permission == NULL)
        return 0;
    sb_permission perm;
    if (sb_permission_lookup(route->permission, &perm) != 0) {
        /* A route naming an unknown permission is a bug: fail closed. */
        sb_err("gate", "route %s %s names unknown permission %s", route->method, route->pattern,
               route->permission);
        sb_http_respond_error(req, 500, "internal", "route permission misconfigured");
        return 1;
    }
    if (sb_permission_set_has(anywhere, perm))
        return 0;
    json_t *details = json_pack("{s:s, s:s, s:s}", "method", route->method, "route", route->pattern,
                                "permission", route->permission);
    sb_api_audit_event ev = {"access.denied", route->pattern, "denied", "warning", details};
    sb_api_audit_now(app, req, &ev);
    json_decref(details);
    sb_http_respond_error(req, 403, "forbidden", "this needs the %s permission, which you do not hold",
                          route->permission);
    return 1;
}
