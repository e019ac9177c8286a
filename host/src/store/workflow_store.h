/*
 * store/workflow_store.h — approval workflows (table workflows, migration
 * 0013): the SQL behind api/workflow_routes.c.
 *
 * Contract: the conventions of store/tenancy_store.h (parameterised SQL on
 * the caller's connection and transaction, sb_row_set results with a typed
 * accessor, 0 found / 1 none / -1 error, keyset pages by id, UUID text ids
 * checked by the caller). Values were checked by domain/workflow_rules
 * before they get here; groups are passed as the normalised JSON array
 * text, role ids and channels as JSON arrays of strings. Refusals the API
 * maps:
 *   SB_TENANCY_E_NAME_TAKEN  another workflow has that name (409);
 *   SB_TENANCY_E_UNKNOWN_REF a role id names no role (422);
 *   SB_DB_E_REFUSED          deleting the system or the default workflow,
 *                            or one that policy rules still use (409, the
 *                            message says what to do first).
 * Exactly one workflow is the default: sb_workflow_store_set_default moves
 * the flag in one transaction, serialised by an advisory lock.
 */
#ifndef SB_STORE_WORKFLOW_STORE_H
#define SB_STORE_WORKFLOW_STORE_H

#include "store/rows.h"

typedef struct sb_workflow_row {
    const char *id, *name, *description;
    int min_approvers;
    const char *approver_role_ids; /* JSON array text */
    const char *groups;            /* JSON array text */
    bool allow_self_approval, require_justification;
    int request_ttl_s, fill_ttl_s, wrap_ttl_created_s, wrap_ttl_approved_s, wrap_ttl_claimed_s;
    const char *notification_channels; /* JSON array text */
    bool enabled, is_default, is_system, scoped_policy_authorable;
    const char *created_at, *updated_at;
    long policy_rules; /* rules that use this workflow */
} sb_workflow_row;

void sb_workflow_store_at(const sb_row_set *rows, size_t i, sb_workflow_row *out);

/* Integer fields < 0 and booleans < 0 (tri-state) and NULL strings mean
 * "unchanged" (update) or "the column default" (create). */
typedef struct sb_workflow_fields {
    const char *name, *description;
    const char *approver_role_ids_json, *groups_json, *notification_channels_json;
    int min_approvers, request_ttl_s, fill_ttl_s, wrap_ttl_created_s, wrap_ttl_approved_s,
        wrap_ttl_claimed_s;
    int allow_self_approval, require_justification, enabled, scoped_policy_authorable;
} sb_workflow_fields;

/* An sb_workflow_fields with every member unset. */
void sb_workflow_fields_init(sb_workflow_fields *f);

int sb_workflow_store_create(sb_db_conn *conn, const sb_workflow_fields *f, sb_row_set *out,
                             sb_error *err);
int sb_workflow_store_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                          sb_error *err);
/* enabled / authorable: -1 any, 0 false, 1 true. */
int sb_workflow_store_list(sb_db_conn *conn, int enabled, int authorable, const sb_list_page *page,
                           sb_row_set *out, sb_error *err);
int sb_workflow_store_update(sb_db_conn *conn, const char *id, const sb_workflow_fields *f,
                             sb_row_set *out, sb_error *err);
/* Refuses (SB_DB_E_REFUSED) the system workflow, the default one and one
 * still used by policy rules; 0 deleted, 1 none. */
int sb_workflow_store_delete(sb_db_conn *conn, const char *id, sb_error *err);
/* Makes id the default (the previous default loses the flag); the new row
 * in out, the previous default's id (or "") in previous. A disabled
 * workflow is refused (SB_DB_E_REFUSED). 0, 1 none, -1. */
int sb_workflow_store_set_default(sb_db_conn *conn, const char *id, sb_row_set *out,
                                  char previous[37], sb_error *err);
/* The first id of ids_json (a JSON array of UUID text) that names no role:
 * 0 and missing[0] = '\0' when all exist. */
int sb_workflow_store_missing_role(sb_db_conn *conn, const char *ids_json, char missing[37],
                                   sb_error *err);

#endif
