/*
 * api/api.h — assembling the control-plane API: every route module, the
 * auth gate, audit helpers shared by handlers, and error mapping.
 *
 * Contract: each area registers its routes with ctx = the sb_app:
 *   sb_api_auth_routes     auth/login, logout, session, users/me, API tokens
 *   sb_api_tenancy_routes  teams (+members), projects, environments
 *   sb_api_rbac_routes     permissions, roles, grants, users (admin)
 *   sb_api_audit_routes    audit-events
 *   sb_api_connection_routes provider connections and their project bindings
 *   sb_api_catalog_routes  the secret catalog (/secrets) and secret bindings
 *   sb_api_workflow_routes approval workflows (and the default one)
 *   sb_api_policy_routes   policy rules, their history, the reserved-priority setting
 *   sb_api_request_routes  secret requests: submit, votes, cross-team fill, lists
 *   sb_api_notification_routes the notification outbox (admins: dead letters)
 * sb_api_routes_register calls them all. Every route declares its auth kind
 * and permission in its table row; the gate (sb_api_gate) authenticates,
 * attaches the identity and refuses callers who hold the route's permission
 * nowhere (403 forbidden); handlers then check the permission at the exact
 * scope they touch and answer 404 for out-of-scope reads.
 *
 * Handlers write their audit event with sb_api_audit in the same
 * transaction as the change (I5).
 */
#ifndef SB_API_API_H
#define SB_API_API_H

#include <jansson.h>

#include "api/app.h"
#include "service/audit_write.h"
#include "http/router.h"
#include "http/server.h"
#include "store/db.h"

int sb_api_auth_routes(sb_router *r, sb_app *app, sb_error *err);
/* api/mfa_routes.c: TOTP factors and step-up verification */
int sb_api_mfa_routes(sb_router *r, sb_app *app, sb_error *err);
/* Single sign-on (api/oidc_routes.c): providers, oidc/login, oidc/callback. */
int sb_api_oidc_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_tenancy_routes(sb_router *r, sb_app *app, sb_error *err);
/* The project and environment routes (api/tenancy_projects.c), registered
 * by sb_api_tenancy_routes. */
int sb_tenancy_project_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_rbac_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_audit_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_connection_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_catalog_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_workflow_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_notification_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_policy_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_request_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_routes_register(sb_router *r, sb_app *app, sb_error *err);

/* The gate installed in the HTTP server (gate_ctx = the sb_app). */
int sb_api_gate(const sb_route *route, sb_server_request *req, void *ctx);

/* Authentication (api/authenticate.c): resolves the caller from the
 * sb_session cookie, or Authorization: Bearer <JWT> or <sbp_ API token>.
 * Returns 0 with *out filled (user id, username, method, session), 1 when
 * the request carries no usable credentials (the gate answers 401), -1 on
 * an internal error. Expired, revoked or malformed credentials are 1, never
 * a partial identity. Slides the session's idle expiry. */
int sb_api_authenticate(sb_app *app, sb_server_request *req, sb_identity *out, sb_error *err);

/* One audit event inside the caller's transaction (service/audit_write.h),
 * its actor taken from the request; req NULL: the system. */
typedef sb_audit_entry sb_api_audit_event;
int sb_api_audit(sb_db_conn *conn, sb_server_request *req, const sb_api_audit_event *ev, sb_error *err);
/* The actor of a request (identity from the gate, ids from the request):
 * fills *out and returns it, or NULL (the system) when req is NULL. The
 * borrowed strings live as long as req. */
const sb_actor *sb_api_request_actor(sb_server_request *req, sb_actor *out);
/* The same in its own transaction (refusals: nothing else to commit). */
int sb_api_audit_now(sb_app *app, sb_server_request *req, const sb_api_audit_event *ev);

/* Answers a store/domain error with the right status and code:
 * SB_DB_E_CONFLICT 409 conflict, SB_DB_E_FK 409 in_use/unknown reference,
 * SB_DB_E_CHECK 422 invalid, SB_DB_E_REFUSED 409 refused (with the hint),
 * unavailable 503, anything else 500. */
int sb_api_respond_store_error(sb_server_request *req, const sb_error *err);
/* Answers the JSON document a secure buffer holds (a body carrying a secret
 * that must not pass through jansson's heap; the HTTP layer zeroes its
 * copy); ok 0 or no buffer: 500 "out of memory building <what>". The
 * buffer stays the caller's. (api/auth_body.c) */
struct sb_secure_buf;
int sb_api_respond_secure_json(sb_server_request *req, int status, const struct sb_secure_buf *b,
                               int ok, const char *what);
/* The registry behind it (api/errors.c): the status and code for an
 * sb_error code; 0 when the code is not registered (500 internal). */
int sb_api_error_answer(int code, int *status, const char **name);
/* Every registered code (for tests: no code twice). */
size_t sb_api_error_codes(const int **codes);

/* Cursor pagination: limit (default 50, 1..500) and an opaque cursor that
 * encodes the last id seen. 400 invalid_limit / invalid_cursor answered. */
typedef struct sb_api_page {
    long limit;
    char after[128]; /* "" = first page */
} sb_api_page;
int sb_api_page_parse(sb_server_request *req, sb_api_page *page);
/* Opaque cursor text for the last id of a page (base64url of "v1:<id>"). */
void sb_api_cursor_encode(const char *last_id, char *out, size_t cap);

#endif
