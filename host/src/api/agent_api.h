/*
 * api/agent_api.h — what the agent-protocol files of api/ share (issue 10,
 * docs/agent-protocol.md): the agent identity, the agent gate, the job
 * service (claim, creation for an approved request, the lease sweep) and
 * the long-poll hub.
 *
 * Identity of an agent: `Authorization: Bearer <agent id>.<secret>` where
 * the secret is the sba_ token returned once by enrollment. The gate looks
 * the agent up by id, hashes the secret with the token pepper and compares
 * in constant time; a revoked agent is 403 agent_revoked at once (no cache),
 * any other failure 401 unauthenticated. An agent acts only on its own id:
 * a path {id} naming another agent is 403 agent_mismatch. The identity
 * attached is an sb_agent_identity whose base is an sb_identity with method
 * SB_IDENTITY_AGENT (so audit events name the actor "agent:<id>").
 */
#ifndef SB_API_AGENT_API_H
#define SB_API_AGENT_API_H

#include <jansson.h>

#include "api/api.h"

typedef struct sb_agent_identity {
    sb_identity base; /* first: sb_api_identity() sees this */
    char agent_id[40];
    char connection_id[40];
    char name[128];
} sb_agent_identity;

/* The agent of an AGENT route (NULL elsewhere). */
const sb_agent_identity *sb_api_agent(const sb_server_request *req);
/* The gate for SB_AUTH_AGENT routes (called by sb_api_gate). */
int sb_api_agent_gate(sb_app *app, const sb_route *route, sb_server_request *req);

int sb_api_agent_routes(sb_router *r, sb_app *app, sb_error *err);
/* Handlers in api/agent_enroll.c (registered by agent_routes.c). */
int sb_api_agent_enroll(sb_server_request *req, void *ctx);
int sb_api_agent_heartbeat(sb_server_request *req, void *ctx);
/* The JSON body as an object whose keys are all in allowed (NULL-ended):
 * -1 after answering 400 otherwise. Borrowed reference. */
int sb_agent_api_body(sb_server_request *req, const char *const *allowed, json_t **out);
/* Answers a JSON object text from the store (frees it). */
int sb_agent_api_respond_text(sb_server_request *req, int status, char *json_text);

/* Helpers of the route modules whose store answers JSON text
 * (api/route_helpers.c). 1 when the caller holds perm from a global
 * grant, else 0 after answering 403 naming key. */
int sb_api_allowed_globally(sb_server_request *req, sb_permission perm, const char *key);
/* The path's {id} as a canonical UUID; -1 after answering 404 "no such <what>". */
int sb_api_path_uuid(sb_server_request *req, const char *what, char out[37]);
/* One store read by id answered as JSON: 200, 404 naming what, or the
 * store's error. */
int sb_api_respond_read(sb_app *app, sb_server_request *req, const char *id, const char *what,
                        int (*read)(sb_db_conn *, const char *, char **, sb_error *));
int sb_api_job_routes(sb_router *r, sb_app *app, sb_error *err);

/* ---- the job service (api/job_service.c) ---------------------------------- */

/* In one transaction: fails queued jobs of unknown types of the agent's
 * connection, then claims one. 0 and *job (new reference), 1 none. Every
 * hand-out and every failure is audited (actor from req). */
int sb_job_claim(sb_app *app, sb_server_request *req, const sb_agent_identity *agent,
                 json_t **job, sb_error *err);
/* 0 when no key anywhere in payload steers a connection (I4); else 1 with
 * the dotted path of the first one in path_out. */
int sb_job_payload_steers(const json_t *payload, char *path_out, size_t cap);
/* The request outcome of a job, inside the caller's transaction; a request
 * no longer approved is left alone (*applied = 0). A patch that executed
 * starts its GitOps observations in the same transaction
 * (api/gitops_api.h; app NULL: none, as for failures). */
int sb_job_drive_request(sb_db_conn *conn, const sb_app *app, sb_server_request *req,
                         const char *request_id, bool succeeded, const char *reason, int *applied,
                         sb_error *err);

/* ---- the long-poll hub (api/job_waiters.c) -------------------------------- */

/* Parks req until a job for the agent's connection is claimed for it (200),
 * or the deadline (204). One listener thread per process, started on first
 * use; wake-ups come from NOTIFY sb_jobs (any replica), with a 5 s re-check
 * as a backstop (delayed retries, a lost listener connection). 0 parked;
 * -1 (nothing answered) when parking is impossible. */
int sb_job_hub_park(sb_app *app, sb_server_request *req, const sb_agent_identity *agent,
                    int64_t wait_ms, sb_error *err);
/* Starts the hub of app if it is not running (its listener also carries
 * SB_AUTH_CHANNEL for the auth cache, api/auth_cache.h). 0 when running. */
int sb_job_hub_ensure(sb_app *app, sb_error *err);
/* Stops the hub of app (answers 503 to whatever is still parked). */
void sb_job_hub_stop(sb_app *app);

/* A discovery chunk's items (api/discovery_upload.c): checked, and turned
 * into store/catalog_store.h's batch shape in *out (new reference). */
#define SB_DISCOVERY_CHUNK_MAX 1000
int sb_discovery_items_convert(const json_t *items, json_t **out, sb_error *err);

#endif
