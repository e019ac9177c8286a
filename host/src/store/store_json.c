/* store/store_json.c — see store_json.h. */
#include "store/store_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_store_json_one(sb_db_conn *conn, const char *sql, int n, const char *const *params,
                      char *cell, size_t cap, char **json, sb_error *err)
{
    if (json)
        *json = NULL;
    PGresult *res;
    if (sb_db_exec(conn, sql, n, params, &res, err) != 0)
        return -1;
    if (PQntuples(res) < 1 || PQnfields(res) < 1) {
        PQclear(res);
        return 1;
    }
    const char *v = PQgetvalue(res, 0, 0);
    if (cell && cap)
        snprintf(cell, cap, "%s", v);
    if (json && (*json = strdup(v)) == NULL) {
        PQclear(res);
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory reading a row");
    }
    PQclear(res);
    return 0;
}
