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
} sb_grant_set;

int sb_store_user_grants(sb_db_conn *conn, const char *user_id, sb_grant_set *out, sb_error *err);
void sb_grant_set_free(sb_grant_set *s);

#endif
