/*
 * api/seed_roles.c — the system roles in the database always match the
 * catalog compiled into this binary (domain/permissions.h is the single
 * source of truth). Run at every start, idempotent, one transaction.
 */
#include <stdio.h>
#include <string.h>

#include "api/seed_roles.h"
#include "domain/permissions.h"

static int seed(sb_db_conn *conn, void *ctx, sb_error *err)
{
    (void)ctx;
    size_t n;
    const sb_system_role *roles = sb_system_roles(&n);
    for (size_t i = 0; i < n; i++) {
        const char *keys[SB_PERM_COUNT];
        size_t nk = sb_permission_set_keys(roles[i].permissions, keys, SB_PERM_COUNT);
        char array[2048] = "{";
        size_t len = 1;
        for (size_t k = 0; k < nk; k++)
            len += (size_t)snprintf(array + len, sizeof array - len, "%s%s", k ? "," : "", keys[k]);
        snprintf(array + len, sizeof array - len, "}");
        const char *params[] = {roles[i].name, roles[i].description, array};
        PGresult *res;
        if (sb_db_exec(conn,
                       "INSERT INTO roles (name, description, is_system, permissions)"
                       " VALUES ($1, $2, true, $3::text[])"
                       " ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description,"
                       "   is_system = true, permissions = EXCLUDED.permissions"
                       " WHERE roles.permissions IS DISTINCT FROM EXCLUDED.permissions"
                       "    OR roles.description IS DISTINCT FROM EXCLUDED.description"
                       "    OR NOT roles.is_system",
                       3, params, &res, err) != 0)
            return -1;
        PQclear(res);
    }
    return 0;
}

int sb_api_seed_roles(sb_db *db, sb_error *err) { return sb_db_transaction(db, seed, NULL, err); }
