/*
 * api/gitops_api.h — GitOps observation in the control plane (SPEC §13),
 * present only when the server's gitops_observation.enabled is true (off:
 * the routes are not registered and answer 404 like any unknown path, and
 * no observation is ever created).
 *
 *   api/gitops_routes.c        Argo CD endpoints (token KMS-wrapped,
 *                              write-once, never returned), their health,
 *                              application mappings; global
 *                              integration.edit; audited.
 *   api/gitops_applications.c  app discovery: the applications an
 *                              endpoint can see, through the plugin's
 *                              list_applications (ABI 1.1).
 *   api/gitops_observations.c  the observations of an executed patch:
 *                              created with the execution, read on the
 *                              request.
 */
#ifndef SB_API_GITOPS_API_H
#define SB_API_GITOPS_API_H

#include "api/api.h"
#include "api/request_api.h"

/* Registers nothing when GitOps observation is off. */
int sb_api_gitops_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_gitops_observation_routes(sb_router *r, sb_app *app, sb_error *err);
int sb_api_gitops_application_routes(sb_router *r, sb_app *app, sb_error *err);

/* In the transaction that marks patch request `r` executed: one pending
 * observation per application mapped to its binding or connection, each
 * audited (gitops_observation.create on request:<id>). A no-op when
 * GitOps observation is off or r is not a patch. */
int sb_gitops_observations_start(sb_db_conn *conn, const sb_app *app, sb_server_request *req,
                                 const sb_request_row *r, sb_error *err);

#endif
