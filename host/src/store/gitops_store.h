/*
 * store/gitops_store.h — the SQL of GitOps observation (SPEC §13): Argo CD
 * endpoints, application mappings and observations (migration 0022).
 *
 * Contract: parameterised SQL on the caller's connection and transaction;
 * results are JSON text built by PostgreSQL (malloc'd, the caller frees);
 * 0 done, 1 no such row, -1 error (unique violations are SB_DB_E_CONFLICT,
 * foreign keys SB_DB_E_FK). Ids are canonical UUID text checked by the
 * caller.
 *
 * The public JSON of an endpoint never holds its token: only the
 * token_set_at time. sb_gitops_store_endpoint_secret is the one reader of
 * the wrapped token (base64 ciphertext and key id), for the worker and the
 * health check.
 *
 * Observations: sb_gitops_store_observations_start inserts one `pending`
 * row per application mapped to the request's binding or connection (one
 * per endpoint and application), changed_at = now() (the transaction that
 * marks the request executed). sb_gitops_store_claim takes the due open
 * rows with FOR UPDATE SKIP LOCKED, first ending those past timeout_at as
 * applied_unverified, and leases the rest (next_poll_at moves lease_ms
 * ahead) so no other replica polls them while this one calls Argo CD.
 */
#ifndef SB_STORE_GITOPS_STORE_H
#define SB_STORE_GITOPS_STORE_H

#include <stdint.h>

#include "store/db.h"

/* ---- endpoints ------------------------------------------------------------ */

/* NULL: unchanged (update) or absent (create); "" clears an optional field
 * on update. token_ciphertext and token_key_id come together. */
typedef struct sb_gitops_endpoint_fields {
    const char *name, *base_url, *project, *ca_file, *tls_server_name;
    const char *token_ciphertext, *token_key_id; /* base64 of the KMS wrap */
} sb_gitops_endpoint_fields;

int sb_gitops_store_endpoint_create(sb_db_conn *conn, const sb_gitops_endpoint_fields *f,
                                    const char *created_by, char **json, sb_error *err);
int sb_gitops_store_endpoint_update(sb_db_conn *conn, const char *id,
                                    const sb_gitops_endpoint_fields *f, char **json, sb_error *err);
int sb_gitops_store_endpoint_get(sb_db_conn *conn, const char *id, char **json, sb_error *err);
/* {"items": [...]} by name. */
int sb_gitops_store_endpoint_list(sb_db_conn *conn, char **json, sb_error *err);
/* SB_DB_E_REFUSED while mappings still name it. The deleted row in json. */
int sb_gitops_store_endpoint_delete(sb_db_conn *conn, const char *id, char **json, sb_error *err);
/* {"name","base_url","project","ca_file","tls_server_name","token_ciphertext","token_key_id"}. */
int sb_gitops_store_endpoint_secret(sb_db_conn *conn, const char *id, char **json, sb_error *err);
/* Records the result of a health check (error NULL: healthy). */
int sb_gitops_store_endpoint_health(sb_db_conn *conn, const char *id, const char *error,
                                    sb_error *err);

/* ---- mappings ------------------------------------------------------------- */

/* Exactly one of binding_id / connection_id. 1: the endpoint is missing. */
int sb_gitops_store_mapping_create(sb_db_conn *conn, const char *endpoint_id,
                                   const char *application, const char *binding_id,
                                   const char *connection_id, const char *created_by, char **json,
                                   sb_error *err);
/* {"items": [...]}; endpoint_id NULL: every mapping. */
int sb_gitops_store_mapping_list(sb_db_conn *conn, const char *endpoint_id, char **json,
                                 sb_error *err);
int sb_gitops_store_mapping_delete(sb_db_conn *conn, const char *id, char **json, sb_error *err);

/* ---- observations --------------------------------------------------------- */

/* The rows created, as a JSON array of {id, endpoint_name, application}. */
int sb_gitops_store_observations_start(sb_db_conn *conn, const char *request_id,
                                       int64_t timeout_ms, char **json, sb_error *err);
/* {"items": [...]} of the request's observations (no baseline text). */
int sb_gitops_store_observations_of(sb_db_conn *conn, const char *request_id, char **json,
                                    sb_error *err);
/* {"timed_out": [{id, request_id, endpoint_name, application, state (before)}],
 *  "claimed": [{id, request_id, endpoint_id, endpoint_name, application, state,
 *               baseline, changed_unix_ms, polls}]} */
int sb_gitops_store_claim(sb_db_conn *conn, long limit, int64_t lease_ms, char **json,
                          sb_error *err);

/* The outcome of one poll. state: the new state; baseline: set when taken
 * (NULL: unchanged); a poll without last_error sets evidence and detail
 * (NULL clears them) and clears last_error, one with last_error keeps them;
 * next_poll_ms: delay before the next poll of an open row. 1 when the row
 * is no longer open (another writer ended it). */
typedef struct sb_gitops_poll_result {
    const char *state, *baseline, *evidence, *detail, *last_error;
    int64_t next_poll_ms;
} sb_gitops_poll_result;

int sb_gitops_store_record_poll(sb_db_conn *conn, const char *id, const sb_gitops_poll_result *r,
                                sb_error *err);

#endif
