/*
 * store/policy_store.h — policy rules (table policy_rules, migration 0013),
 * the loader the policy engine resolves against, and the platform setting
 * policy.reserved_priority: the SQL behind api/policy_routes.c and the
 * request submit path.
 *
 * Contract: the conventions of store/tenancy_store.h (parameterised SQL on
 * the caller's connection and transaction, sb_row_set results with a typed
 * accessor, 0 found / 1 none / -1 error, keyset pages by id, UUID text ids
 * checked by the caller). Nothing here decides who may write what: the API
 * checks every rule with domain/policy (sb_policy_check_authorable) before
 * it gets here. Writes store the whole rule (the API merges a partial
 * update into the current row first), so a rule is always one checked
 * whole.
 */
#ifndef SB_STORE_POLICY_STORE_H
#define SB_STORE_POLICY_STORE_H

#include "domain/policy.h"
#include "store/rows.h"

typedef struct sb_policy_rule_row {
    const char *id, *name, *description;
    const char *anchor_type; /* platform | team | project */
    const char *anchor_id;   /* NULL for platform */
    int priority;
    const char *workflow_id;
    /* selector: NULL when unset */
    const char *sel_project_id, *sel_environment_id, *sel_environment_kind, *sel_provider_type,
        *sel_secret_ref_prefix, *sel_operation;
    bool direct_reveal_allowed, mfa_required;
    int reveal_ttl_s;
    bool enabled;
    long long created_order;
    const char *created_by; /* NULL once the user is gone */
    const char *created_at, *updated_at;
} sb_policy_rule_row;

void sb_policy_store_at(const sb_row_set *rows, size_t i, sb_policy_rule_row *out);
/* The engine's view of a row (strings borrowed from the row). */
void sb_policy_store_rule_of(const sb_policy_rule_row *row, sb_policy_rule *out);

/* A whole rule to write: the row's fields (anchor_id NULL for platform,
 * selector members NULL when unset). */
typedef struct sb_policy_rule_fields {
    const char *name, *description, *anchor_type, *anchor_id, *workflow_id;
    int priority;
    const char *sel_project_id, *sel_environment_id, *sel_environment_kind, *sel_provider_type,
        *sel_secret_ref_prefix, *sel_operation;
    bool direct_reveal_allowed, mfa_required;
    int reveal_ttl_s;
    bool enabled;
} sb_policy_rule_fields;

int sb_policy_store_create(sb_db_conn *conn, const sb_policy_rule_fields *f,
                           const char *created_by, sb_row_set *out, sb_error *err);
int sb_policy_store_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                        sb_error *err);
/* Replaces every field of rule id. 0, 1 none, -1. */
int sb_policy_store_update(sb_db_conn *conn, const char *id, const sb_policy_rule_fields *f,
                           sb_row_set *out, sb_error *err);
/* The deleted row in out. 0, 1 none, -1. */
int sb_policy_store_delete(sb_db_conn *conn, const char *id, sb_row_set *out, sb_error *err);

/* What a list may show and filter on. platform_all: every rule (a platform
 * author); otherwise platform-anchored rules plus rules anchored on a team
 * of teams or a project of projects. The filters (NULL = any) narrow it. */
typedef struct sb_policy_list_filter {
    bool platform_all;
    sb_id_filter teams, projects;
    const char *anchor_type, *team_id, *project_id, *workflow_id;
} sb_policy_list_filter;
int sb_policy_store_list(sb_db_conn *conn, const sb_policy_list_filter *f,
                         const sb_list_page *page, sb_row_set *out, sb_error *err);

/* The rule's audit history (policy.rule.create|update|delete events of
 * resource "policy_rule:<id>", successes only), newest first, keyset-paged
 * by audit event id (page->after: the last id seen, decimal text). Columns:
 * id, occurred_at, actor, action, details (JSON text). */
int sb_policy_store_history(sb_db_conn *conn, const char *rule_id, const sb_list_page *page,
                            sb_row_set *out, sb_error *err);

/* ---- the loader ----------------------------------------------------------- */

typedef struct sb_policy_loaded sb_policy_loaded; /* opaque, owns everything */
/* Loads, on conn (inside the caller's transaction), every ENABLED rule that could apply to a
 * request on project_id: platform-anchored rules, rules anchored on project_id, and rules
 * anchored on the project's owning team or any of its ancestors (recursive CTE over
 * teams.parent_id); plus every workflow as {id, enabled} and the default workflow id.
 * project_id NULL: platform rules only. 0, or -1 with err (SB_DOMAIN_E_NOT_FOUND when no
 * default workflow exists). */
int sb_policy_store_load(sb_db_conn *conn, const char *project_id, sb_policy_loaded **out,
                         sb_error *err);
const sb_policy_set *sb_policy_loaded_set(const sb_policy_loaded *l);
void sb_policy_loaded_free(sb_policy_loaded *l);

/* ---- the platform setting ------------------------------------------------- */

#define SB_POLICY_SETTING_RESERVED "policy.reserved_priority"
#define SB_POLICY_RESERVED_MIN 1
#define SB_POLICY_RESERVED_MAX 10000

/* The live platform setting policy.reserved_priority (default 9000 when missing). */
int sb_policy_store_reserved_priority(sb_db_conn *conn, int *out, sb_error *err);
/* The setting as a row: key, value (integer text, the default when the
 * stored value is not a number), updated_at (NULL when the row is missing:
 * then value is the default). Always one row. */
int sb_policy_store_reserved_row(sb_db_conn *conn, sb_row_set *out, sb_error *err);
/* Sets it (the row is created when missing), returns the previous value
 * and the new row (as sb_policy_store_reserved_row). Never touches the
 * rules. */
int sb_policy_store_set_reserved_priority(sb_db_conn *conn, int value, int *previous,
                                          sb_row_set *out, sb_error *err);

#endif
