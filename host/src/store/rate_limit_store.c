/* store/rate_limit_store.c — see rate_limit_store.h. */
#include "store/rate_limit_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_rate_limit_store_hit(sb_db_conn *conn, const char *bucket, int64_t window_start,
                            int64_t *hits, sb_error *err)
{
    if (bucket == NULL || *bucket == '\0' || strlen(bucket) > SB_RATE_BUCKET_MAX)
        return sb_error_set(err, SB_DB_E_INVALID, "a rate-limit bucket is 1..%d bytes",
                            SB_RATE_BUCKET_MAX);
    const char *params[] = {bucket, SB_DB_INT(window_start)};
    PGresult *res;
    if (sb_db_exec(conn,
                   "INSERT INTO rate_limit_windows (bucket, window_start, hits)"
                   " VALUES ($1, to_timestamp($2::bigint), 1)"
                   " ON CONFLICT (bucket, window_start)"
                   " DO UPDATE SET hits = rate_limit_windows.hits + 1"
                   " RETURNING hits",
                   2, params, &res, err) != 0)
        return -1;
    *hits = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int sb_rate_limit_store_peek(sb_db_conn *conn, const char *bucket, int64_t window_start,
                             int64_t *hits, sb_error *err)
{
    *hits = 0;
    const char *params[] = {bucket, SB_DB_INT(window_start)};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT coalesce((SELECT hits FROM rate_limit_windows"
                   "                  WHERE bucket = $1 AND window_start = to_timestamp($2::bigint)),"
                   "                 0)",
                   2, params, &res, err) != 0)
        return -1;
    *hits = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int sb_rate_limit_store_check(sb_db_conn *conn, const char *bucket, const sb_rate_limit *limit,
                              int64_t now, sb_rate_decision *out, int64_t *hits, sb_error *err)
{
    if (sb_rate_limit_check(limit, err) != 0)
        return -1;
    int64_t start = sb_rate_window_start(now, limit->window_seconds), count = 0;
    if (sb_rate_limit_store_hit(conn, bucket, start, &count, err) != 0)
        return -1;
    *out = sb_rate_fixed_window(limit, start, count, now);
    if (hits)
        *hits = count;
    return 0;
}

int sb_rate_limit_store_sweep(sb_db_conn *conn, int64_t before, int64_t *count, sb_error *err)
{
    const char *params[] = {SB_DB_INT(before)};
    return sb_db_exec_affected(conn,
                               "DELETE FROM rate_limit_windows WHERE window_start < to_timestamp($1::bigint)",
                               1, params, count, err);
}
