/*
 * store/catalog_store.h — the secret catalog (metadata rows keyed by
 * connection + secret ref, never a value) and the bindings of catalog
 * secrets to project environments: the SQL behind api/catalog_routes.c.
 *
 * Contract: the conventions of store/tenancy_store.h (parameterised SQL on
 * the caller's connection/transaction, sb_row_set + accessors, 0/1/-1,
 * keyset pages by id).
 *   - Scope: a catalog row is visible in a project when a secret binding
 *     binds it there, or its connection is bound to the project
 *     (connection_bindings). The API passes the projects where the caller
 *     holds secret.list as an sb_id_filter (all = a global grant).
 *   - Label filters: one JSON object {"k":"v",...}; a row matches when its
 *     labels contain every pair (jsonb @>, served by the GIN index).
 *   - sb_catalog_store_upsert_batch is the only writer of catalog rows
 *     (agents' discovery, later); there is no public write route.
 *   - Secret bindings take allowed_keys/allowed_ops as JSON arrays of
 *     strings (checked by the API; the database re-checks non-empty and
 *     ops ⊆ {read, patch, reveal}). Codes: SB_TENANCY_E_EXISTS for a
 *     duplicate binding, SB_TENANCY_E_UNKNOWN_REF for a missing reference.
 */
#ifndef SB_STORE_CATALOG_STORE_H
#define SB_STORE_CATALOG_STORE_H

#include <stdint.h>

#include "store/rows.h"

typedef struct sb_catalog_row {
    const char *id, *connection_id, *connection_name, *provider_type, *secret_ref;
    const char *labels;                          /* JSON object text */
    const char *version;                         /* NULL when unknown */
    const char *created_at_source, *updated_at_source; /* NULL when unknown */
    const char *first_seen_at, *last_seen_at, *status;
} sb_catalog_row;

void sb_catalog_store_at(const sb_row_set *rows, size_t i, sb_catalog_row *out);

typedef struct sb_catalog_filter {
    sb_id_filter visible;      /* projects where the caller holds secret.list */
    const char *connection_id; /* NULL = any */
    const char *ref_prefix;    /* NULL = any */
    const char *status;        /* NULL = any */
    const char *project_id;    /* NULL = any */
    const char *labels_json;   /* NULL = no label filter */
} sb_catalog_filter;

int sb_catalog_store_list(sb_db_conn *conn, const sb_catalog_filter *f, const sb_list_page *page,
                          sb_row_set *out, sb_error *err);
/* One row by id, within visible (1 when missing or outside it). */
int sb_catalog_store_get(sb_db_conn *conn, const char *id, const sb_id_filter *visible,
                         sb_row_set *out, sb_error *err);

/* items_json: [{"secret_ref": "...", "labels": {...}, "version": "...",
 * "created_at": RFC 3339, "updated_at": RFC 3339}, ...] for connection_id.
 * Inserts new refs, refreshes known ones (labels verbatim, version,
 * timestamps, last_seen_at, status present). mark_missing (a complete
 * scan): the connection's other rows become status missing. *upserted
 * (may be NULL) receives the number of rows written. */
int sb_catalog_store_upsert_batch(sb_db_conn *conn, const char *connection_id,
                                  const char *items_json, bool mark_missing, int64_t *upserted,
                                  sb_error *err);

/* 1 when catalog secret id's connection is bound to project (project-wide,
 * or to environment_id); 0 when not; -1 on error. */
int sb_catalog_store_available(sb_db_conn *conn, const char *catalog_id, const char *project_id,
                               const char *environment_id, sb_error *err);

/* ---- secret bindings ------------------------------------------------------- */

typedef struct sb_secret_binding_row {
    const char *id, *catalog_secret_id, *project_id, *environment_id;
    const char *allowed_keys, *allowed_ops; /* JSON arrays */
    const char *secret_ref, *created_by, *created_at, *updated_at;
} sb_secret_binding_row;

void sb_catalog_store_binding_at(const sb_row_set *rows, size_t i, sb_secret_binding_row *out);
int sb_catalog_store_binding_create(sb_db_conn *conn, const char *catalog_id,
                                    const char *project_id, const char *environment_id,
                                    const char *keys_json, const char *ops_json,
                                    const char *created_by, sb_row_set *out, sb_error *err);
/* The binding id of project (1 when missing or of another project). */
int sb_catalog_store_binding_get(sb_db_conn *conn, const char *project_id, const char *id,
                                 bool for_update, sb_row_set *out, sb_error *err);
int sb_catalog_store_binding_list(sb_db_conn *conn, const char *project_id,
                                  const sb_list_page *page, sb_row_set *out, sb_error *err);
/* NULL leaves a list unchanged. */
int sb_catalog_store_binding_update(sb_db_conn *conn, const char *id, const char *keys_json,
                                    const char *ops_json, sb_row_set *out, sb_error *err);
int sb_catalog_store_binding_delete(sb_db_conn *conn, const char *id, sb_error *err);

#endif
