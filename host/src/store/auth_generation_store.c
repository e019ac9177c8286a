/* store/auth_generation_store.c — see auth_generation_store.h. */
#include "store/auth_generation_store.h"

#include <stdlib.h>

int sb_auth_generation_read(sb_db_conn *conn, int64_t *generation, sb_error *err)
{
    PGresult *res;
    if (sb_db_exec(conn, "SELECT generation FROM auth_generation", 0, NULL, &res, err) != 0)
        return -1;
    int rc = PQntuples(res) == 1 ? 0 : sb_error_set(err, SB_DB_E_INVALID,
                                                    "the auth_generation row is missing (migration 0023)");
    if (rc == 0)
        *generation = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}
