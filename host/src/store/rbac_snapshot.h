/*
 * store/rbac_snapshot.h — what the RBAC decisions need, read in as few
 * round trips as possible: the tenancy (team tree + project owners, with
 * its version counter) and one user's grants (role permissions + scope).
 *
 * Contract: sb_store_tenancy_load reads every team and project id (bounded
 * tables, read only when the version moved); sb_store_user_grants reads the
 * tenancy version and the user's grants in one query. Role permission keys
 * unknown to this binary are ignored (and logged), never widened.
 */
#ifndef SB_STORE_RBAC_SNAPSHOT_H
#define SB_STORE_RBAC_SNAPSHOT_H

#include "domain/scope.h"
#include "store/db.h"

int sb_store_tenancy_load(sb_db_conn *conn, sb_tenancy **out, int64_t *version, sb_error *err);

/* A user's grants; ids are owned by the set. */
typedef struct sb_grant_set {
    sb_grant *grants;
    size_t n;
    char **ids; /* storage of the scope ids */
    int64_t tenancy_version;
    int64_t auth_generation; /* auth_generation when read (auth_generation_store.h) */
} sb_grant_set;

int sb_store_user_grants(sb_db_conn *conn, const char *user_id, sb_grant_set *out, sb_error *err);

/* The same read as part of another statement (the session lookup reads the
 * caller's grants in its own round trip): SB_STORE_GRANT_COLUMNS in the
 * select list, SB_STORE_GRANT_JOIN(user id expression) after the FROM item,
 * then sb_store_grants_from(res, first grant column, out). One row per
 * grant (at least one); the tenancy version and the auth generation in
 * every row (read in the same snapshot as the grants). */
#define SB_STORE_GRANT_COLUMNS                                                                     \
    "tv.version, array_to_string(r.permissions, ','), g.scope_type,"                               \
    " coalesce(g.team_id::text, g.project_id::text),"                                              \
    " (SELECT generation FROM auth_generation)"
#define SB_STORE_GRANT_JOIN(user_expr)                                                             \
    " CROSS JOIN tenancy_version tv"                                                               \
    " LEFT JOIN (grants g JOIN roles r ON r.id = g.role_id) ON g.user_id = " user_expr
int sb_store_grants_from(const PGresult *res, int col, sb_grant_set *out, sb_error *err);
/* Runs such a statement: 0 with row 0 read by row() into out and the
 * grants (from grants_col) into grants, 1 when it found nothing, -1. */
int sb_store_exec_with_grants(sb_db_conn *conn, const char *sql, int nparams,
                              const char *const *params,
                              void (*row)(const PGresult *res, int i, void *out), void *out,
                              int grants_col, sb_grant_set *grants, sb_error *err);
void sb_grant_set_free(sb_grant_set *s);

#endif
