/*
 * store/connection_store.h — provider connections and their bindings to
 * projects (and optionally one environment): the SQL behind
 * api/connection_routes.c.
 *
 * Contract: the conventions of store/tenancy_store.h (parameterised SQL on
 * the caller's connection and transaction, sb_row_set results with typed
 * accessors, 0 found / 1 none / -1 error, keyset pages by id, UUID text
 * ids checked by the caller). The scope is passed and returned as JSON
 * text; it was checked by domain/connection_rules before it gets here (the
 * store never judges it). Refusals carry the codes the API maps:
 *   SB_TENANCY_E_NAME_TAKEN  another connection has that name;
 *   SB_TENANCY_E_EXISTS      that binding already exists;
 *   SB_TENANCY_E_UNKNOWN_REF a binding names a missing project/environment;
 *   SB_DB_E_REFUSED          deleting a connection still bound or holding
 *                            catalog rows (message says how many).
 */
#ifndef SB_STORE_CONNECTION_STORE_H
#define SB_STORE_CONNECTION_STORE_H

#include "store/rows.h"

typedef struct sb_connection_row {
    const char *id, *name, *type;
    const char *scope; /* JSON object text */
    const char *description, *status;
    int discovery_interval_s;
    const char *created_at, *updated_at;
    const char *cluster; /* NULL: not set */
    /* the last discover job's end (all NULL before the first one) */
    const char *discovery_last_run_at, *discovery_last_outcome, *discovery_last_count;
    const char *discovery_last_error;
} sb_connection_row;

void sb_connection_store_at(const sb_row_set *rows, size_t i, sb_connection_row *out);

typedef struct sb_connection_fields {
    const char *name, *type, *scope_json, *description, *status; /* NULL: unchanged/default */
    int discovery_interval_s;                                    /* < 0: unchanged/default */
    const char *cluster; /* the agents' network boundary; NULL = none */
    bool cluster_given;  /* update: set cluster (possibly to NULL) */
} sb_connection_fields;

int sb_connection_store_create(sb_db_conn *conn, const sb_connection_fields *f, sb_row_set *out,
                               sb_error *err);
int sb_connection_store_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                            sb_error *err);
/* type/status NULL = any. */
int sb_connection_store_list(sb_db_conn *conn, const char *type, const char *status,
                             const sb_list_page *page, sb_row_set *out, sb_error *err);
/* f->type is ignored (immutable). */
int sb_connection_store_update(sb_db_conn *conn, const char *id, const sb_connection_fields *f,
                               sb_row_set *out, sb_error *err);
int sb_connection_store_delete(sb_db_conn *conn, const char *id, sb_error *err);

/* ---- bindings ------------------------------------------------------------- */

typedef struct sb_connection_binding_row {
    const char *id, *connection_id, *project_id;
    const char *environment_id; /* NULL: every environment of the project */
    const char *created_by, *created_at;
} sb_connection_binding_row;

void sb_connection_store_binding_at(const sb_row_set *rows, size_t i,
                                    sb_connection_binding_row *out);
int sb_connection_store_binding_create(sb_db_conn *conn, const char *connection_id,
                                       const char *project_id, const char *environment_id,
                                       const char *created_by, sb_row_set *out, sb_error *err);
int sb_connection_store_binding_list(sb_db_conn *conn, const char *connection_id,
                                     const sb_list_page *page, sb_row_set *out, sb_error *err);
/* Deletes the binding of that connection; the deleted row in out. */
int sb_connection_store_binding_delete(sb_db_conn *conn, const char *connection_id,
                                       const char *binding_id, sb_row_set *out, sb_error *err);

#endif
