/*
 * api/seed_roles.c — the system roles in the database always match the
 * catalog compiled into this binary (domain/permissions.h is the single
 * source of truth). Run at every start, idempotent, one transaction; the
 * upsert itself is store/rbac_store.h's sb_rbac_store_role_seed_system.
 */
#include "api/seed_roles.h"
#include "domain/permissions.h"
#include "store/rbac_store.h"

static int seed(sb_db_conn *conn, void *ctx, sb_error *err)
{
    (void)ctx;
    size_t n;
    const sb_system_role *roles = sb_system_roles(&n);
    for (size_t i = 0; i < n; i++)
        if (sb_rbac_store_role_seed_system(conn, roles[i].name, roles[i].description,
                                           roles[i].permissions, NULL, err) != 0)
            return -1;
    return 0;
}

int sb_api_seed_roles(sb_db *db, sb_error *err) { return sb_db_transaction(db, seed, NULL, err); }
