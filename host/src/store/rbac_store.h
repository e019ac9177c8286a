/*
 * store/rbac_store.h — roles, grants and the user directory: the SQL behind
 * the RBAC routes. (The per-request snapshot the gate loads — tenancy and
 * one user's grants — is store/rbac_snapshot.h.)
 *
 * Contract: the conventions of store/tenancy_store.h (sb_row_set results,
 * 0 / 1 not found / -1, SB_TENANCY_E_* refusals, keyset pages by id, UUID
 * text ids checked by the caller). In addition:
 *   - role permissions cross this boundary as an sb_permission_set; keys in
 *     the database that this binary does not know are dropped on read (and
 *     logged), never widened, and only catalog keys are ever written;
 *   - system roles (is_system) refuse update and delete
 *     (SB_TENANCY_E_SYSTEM_ROLE); a role still granted refuses delete
 *     (SB_TENANCY_E_ROLE_IN_USE, with the count);
 *   - revoking the last global grant of the system role `admin` held by an
 *     active user is refused (SB_RBAC_E_LAST_ADMIN): nobody could grant it
 *     back. Concurrent revokes are serialised on those grant rows;
 *   - user rows never carry password hashes or any other credential.
 */
#ifndef SB_STORE_RBAC_STORE_H
#define SB_STORE_RBAC_STORE_H

#include "domain/permissions.h"
#include "store/rows.h"

enum { SB_RBAC_E_LAST_ADMIN = 2451 };

/* ---- roles ---------------------------------------------------------------- */

typedef struct sb_role_row {
    const char *id, *name, *description;
    bool is_system;
    sb_permission_set permissions;
    long grant_count;
    const char *created_at, *updated_at;
} sb_role_row;

void sb_rbac_store_role_at(const sb_row_set *rows, size_t i, sb_role_row *out);

int sb_rbac_store_role_list(sb_db_conn *conn, const sb_list_page *page, sb_row_set *out,
                            sb_error *err);
int sb_rbac_store_role_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                           sb_error *err);
int sb_rbac_store_role_create(sb_db_conn *conn, const char *name, const char *description,
                              sb_permission_set permissions, sb_row_set *out, sb_error *err);
/* NULL name/description and permissions == NULL leave a field unchanged. */
int sb_rbac_store_role_update(sb_db_conn *conn, const char *id, const char *name,
                              const char *description, const sb_permission_set *permissions,
                              sb_row_set *out, sb_error *err);
int sb_rbac_store_role_delete(sb_db_conn *conn, const char *id, sb_error *err);
/* Makes the system role `name` match the compiled-in catalog: inserts it,
 * or rewrites its description and permissions (and marks it is_system)
 * when they differ; a role that already matches is not written.
 * *changed (may be NULL): whether a row was written. */
int sb_rbac_store_role_seed_system(sb_db_conn *conn, const char *name, const char *description,
                                   sb_permission_set permissions, bool *changed, sb_error *err);

/* ---- grants --------------------------------------------------------------- */

typedef struct sb_grant_row {
    const char *id, *user_id, *username, *role_id, *role_name;
    const char *scope_type; /* "global" | "team" | "project" */
    const char *scope_id;   /* NULL for global */
    const char *granted_by; /* NULL when unknown (granter deleted, seeded) */
    const char *created_at;
    sb_permission_set permissions; /* the role's, now */
} sb_grant_row;

void sb_rbac_store_grant_at(const sb_row_set *rows, size_t i, sb_grant_row *out);

/* scope_id NULL for global. SB_TENANCY_E_EXISTS for a duplicate grant. */
int sb_rbac_store_grant_create(sb_db_conn *conn, const char *user_id, const char *role_id,
                               const char *scope_type, const char *scope_id, const char *granted_by,
                               sb_row_set *out, sb_error *err);
int sb_rbac_store_grant_get(sb_db_conn *conn, const char *id, sb_row_set *out, sb_error *err);

/* Which grants the caller may see: all, or those scoped to one of the
 * listed teams / projects (global grants only with all). */
typedef struct sb_grant_filter {
    const char *user_id; /* NULL = every user */
    bool all;
    const char *const *team_ids;
    size_t n_teams;
    const char *const *project_ids;
    size_t n_projects;
} sb_grant_filter;
int sb_rbac_store_grant_list(sb_db_conn *conn, const sb_grant_filter *f, const sb_list_page *page,
                             sb_row_set *out, sb_error *err);
/* Deletes the grant (row-locked); SB_RBAC_E_LAST_ADMIN as above. */
int sb_rbac_store_grant_delete(sb_db_conn *conn, const char *id, sb_error *err);

/* ---- users (directory; never credentials) -------------------------------- */

typedef struct sb_user_entry {
    const char *id, *username, *display_name;
    const char *email;  /* NULL when unset */
    const char *source; /* local | oidc | bootstrap */
    const char *status; /* active | disabled */
    bool locked;        /* login lockout in force now */
    const char *created_at, *updated_at;
} sb_user_entry;

void sb_rbac_store_user_at(const sb_row_set *rows, size_t i, sb_user_entry *out);
int sb_rbac_store_user_list(sb_db_conn *conn, const sb_list_page *page, sb_row_set *out,
                            sb_error *err);
int sb_rbac_store_user_get(sb_db_conn *conn, const char *id, sb_row_set *out, sb_error *err);

#endif
