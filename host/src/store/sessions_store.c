/* store/sessions_store.c — see sessions_store.h. */
#include "store/sessions_store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/session_policy.h"
#include "store/rbac_snapshot.h"
#include "store/users_store.h"

#define EPOCH(col) "floor(extract(epoch FROM " col "))::bigint"

/* Read back in this order by row_to_session (s = sessions, u = users). */
/* clang-format off */
#define SESSION_COLUMNS                                                                            \
    "s.id::text, s.user_id::text, u.username, encode(s.token_hash, 'hex'), "                       \
    EPOCH("s.created_at") ", " EPOCH("s.last_seen_at") ", " EPOCH("s.idle_expires_at") ", "        \
    EPOCH("s.absolute_expires_at") ", coalesce(" EPOCH("s.last_mfa_at") ", 0)"
/* clang-format on */

/* The slide: last use moves to now (never backwards), the idle expiry to
 * now + idle, capped by the absolute expiry. */
#define SESSION_SLIDE                                                                              \
    " SET last_seen_at = greatest(s.last_seen_at, to_timestamp($2::bigint)),"                      \
    "     idle_expires_at = least(s.absolute_expires_at,"                                          \
    "         greatest(s.idle_expires_at, to_timestamp($2::bigint + $3::bigint)))"

/* Finds the live session `match` names and slides it only when its last
 * use is at least SB_SESSION_SLIDE_EVERY_S old: most requests are then a
 * read, with no WAL flush. The answer shows the slid row when it slid. */
#define SESSION_FIND(match)                                                                        \
    "WITH cur AS (SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id"                    \
    "             WHERE " match SESSION_LIVE "),"                                                  \
    " slid AS (UPDATE sessions s" SESSION_SLIDE " FROM cur WHERE s.id = cur.id"                    \
    "          AND s.revoked_at IS NULL AND s.idle_expires_at > to_timestamp($2::bigint)"          \
    "          AND s.last_seen_at <= to_timestamp($2::bigint - " SB_SESSION_SLIDE_EVERY_SQL ")" \
    "          RETURNING s.*)"
#define SESSION_ROW                                                                                \
    " SELECT " SESSION_COLUMNS " FROM slid s JOIN users u ON u.id = s.user_id"                     \
    " UNION ALL SELECT " SESSION_COLUMNS " FROM sessions s JOIN cur ON cur.id = s.id"              \
    "   JOIN users u ON u.id = s.user_id WHERE NOT EXISTS (SELECT 1 FROM slid)"
#define SESSION_TOUCH(match) SESSION_FIND(match) SESSION_ROW
/* The same with the user's grants and the tenancy version (rbac_snapshot.h):
 * one row per grant, the session in columns 0..8 of each. */
#define SESSION_TOUCH_GRANTS(match)                                                                \
    SESSION_FIND(match) ", sess AS (" SESSION_ROW ")"                                              \
    " SELECT sess.*, " SB_STORE_GRANT_COLUMNS " FROM sess"                                         \
    SB_STORE_GRANT_JOIN("sess.user_id::uuid")
#define SESSION_GRANTS_COL 9


/* Live at now, of an active user. */
#define SESSION_LIVE                                                                               \
    " AND u.id = s.user_id AND u.status = 'active' AND s.revoked_at IS NULL"                       \
    " AND s.idle_expires_at > to_timestamp($2::bigint)"                                            \
    " AND s.absolute_expires_at > to_timestamp($2::bigint)"

static void row_to_session(const PGresult *res, int row, sb_session_record *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", PQgetvalue(res, row, 0));
    snprintf(s->user_id, sizeof s->user_id, "%s", PQgetvalue(res, row, 1));
    snprintf(s->username, sizeof s->username, "%s", PQgetvalue(res, row, 2));
    const char *hex = PQgetvalue(res, row, 3);
    size_t bin_len = 0;
    if (sodium_hex2bin(s->token_hash, sizeof s->token_hash, hex, strlen(hex), NULL, &bin_len,
                       NULL) != 0 ||
        bin_len != sizeof s->token_hash)
        memset(s->token_hash, 0, sizeof s->token_hash);
    s->created_at = sb_db_cell_i64(res, row, 4);
    s->last_seen_at = sb_db_cell_i64(res, row, 5);
    s->idle_expires_at = sb_db_cell_i64(res, row, 6);
    s->absolute_expires_at = sb_db_cell_i64(res, row, 7);
    s->last_mfa_at = sb_db_cell_i64(res, row, 8);
}

static void hash_hex(const unsigned char *hash, char out[2 * SB_TOKEN_HASH_BYTES + 1])
{
    sodium_bin2hex(out, 2 * SB_TOKEN_HASH_BYTES + 1, hash, SB_TOKEN_HASH_BYTES);
}

/* Runs a statement returning at most one session row (see sb_db_exec_one). */
static void row_to_session_cb(const PGresult *res, int i, void *out) { row_to_session(res, i, out); }

static int one_session(sb_db_conn *conn, const char *sql, int n, const char *const *params,
                       sb_session_record *out, sb_error *err)
{
    return sb_db_exec_one(conn, sql, n, params, row_to_session_cb, out, err);
}

int sb_sessions_store_create(sb_db_conn *conn, const sb_session_new *s, sb_session_record *out,
                             sb_error *err)
{
    if (s == NULL || s->token_hash == NULL || !sb_users_store_uuid_ok(s->user_id))
        return sb_error_set(err, SB_DB_E_INVALID, "a session needs a token hash and a user id");
    if (!(s->now < s->idle_expires_at && s->idle_expires_at <= s->absolute_expires_at))
        return sb_error_set(err, SB_DB_E_INVALID,
                            "session expiries out of order (now < idle <= absolute expected)");
    char hex[2 * SB_TOKEN_HASH_BYTES + 1];
    hash_hex(s->token_hash, hex);
    const char *params[] = {hex,
                            s->user_id,
                            SB_DB_INT(s->now),
                            SB_DB_INT(s->idle_expires_at),
                            SB_DB_INT(s->absolute_expires_at),
                            s->remote_ip};
    return one_session(
        conn,
        "WITH s AS (INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at,"
        "                   idle_expires_at, absolute_expires_at, remote_ip)"
        "   VALUES (decode($1, 'hex'), $2::uuid, to_timestamp($3::bigint),"
        "           to_timestamp($3::bigint), to_timestamp($4::bigint),"
        "           to_timestamp($5::bigint), $6)"
        "   RETURNING *)"
        " SELECT " SESSION_COLUMNS " FROM s JOIN users u ON u.id = s.user_id",
        6, params, out, err);
}

/* A touch: 0 with the session (and the grants when asked), 1 when no live
 * session matched, -1 on error. */
static int touch(sb_db_conn *conn, const char *sql, const char *sql_grants, int n,
                 const char *const *params, sb_session_record *out, sb_grant_set *grants,
                 sb_error *err)
{
    if (grants == NULL)
        return one_session(conn, sql, n, params, out, err);
    return sb_store_exec_with_grants(conn, sql_grants, n, params, row_to_session_cb, out,
                                     SESSION_GRANTS_COL, grants, err);
}

int sb_sessions_store_touch(sb_db_conn *conn, const unsigned char *token_hash, int64_t now,
                            int64_t idle_seconds, sb_session_record *out, sb_grant_set *grants,
                            sb_error *err)
{
    if (idle_seconds <= 0)
        return sb_error_set(err, SB_DB_E_INVALID, "session idle timeout must be positive");
    char hex[2 * SB_TOKEN_HASH_BYTES + 1];
    hash_hex(token_hash, hex);
    const char *params[] = {hex, SB_DB_INT(now), SB_DB_INT(idle_seconds)};
#define BY_HASH "s.token_hash = decode($1, 'hex')"
    return touch(conn, SESSION_TOUCH(BY_HASH), SESSION_TOUCH_GRANTS(BY_HASH), 3, params, out,
                 grants, err);
}

int sb_sessions_store_touch_by_id(sb_db_conn *conn, const char *session_id, const char *user_id,
                                  int64_t now, int64_t idle_seconds, sb_session_record *out,
                                  sb_grant_set *grants, sb_error *err)
{
    if (idle_seconds <= 0)
        return sb_error_set(err, SB_DB_E_INVALID, "session idle timeout must be positive");
    if (!sb_users_store_uuid_ok(session_id) || !sb_users_store_uuid_ok(user_id))
        return 1;
    const char *params[] = {session_id, SB_DB_INT(now), SB_DB_INT(idle_seconds), user_id};
#define BY_ID "s.id = $1::uuid AND s.user_id = $4::uuid"
    return touch(conn, SESSION_TOUCH(BY_ID), SESSION_TOUCH_GRANTS(BY_ID), 4, params, out, grants,
                 err);
}

int sb_sessions_store_stamp_mfa(sb_db_conn *conn, const unsigned char *token_hash, int64_t now,
                                sb_error *err)
{
    char hex[2 * SB_TOKEN_HASH_BYTES + 1];
    hash_hex(token_hash, hex);
    const char *params[] = {hex, SB_DB_INT(now)};
    int64_t n = 0;
    if (sb_db_exec_affected(conn,
                            "UPDATE sessions SET last_mfa_at = to_timestamp($2::bigint)"
                            " WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL"
                            "   AND absolute_expires_at > to_timestamp($2::bigint)",
                            2, params, &n, err) != 0)
        return -1;
    return n == 1 ? 0 : 1;
}

int sb_sessions_store_revoke(sb_db_conn *conn, const unsigned char *token_hash, int64_t now,
                             char id_out[40], sb_error *err)
{
    char hex[2 * SB_TOKEN_HASH_BYTES + 1];
    hash_hex(token_hash, hex);
    const char *params[] = {hex, SB_DB_INT(now)};
    PGresult *res;
    if (sb_db_exec(
            conn,
            "UPDATE sessions SET revoked_at = to_timestamp($2::bigint)"
            " WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL RETURNING id::text",
            2, params, &res, err) != 0)
        return -1;
    int found = PQntuples(res) == 1;
    if (id_out)
        snprintf(id_out, 40, "%s", found ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return found ? 0 : 1;
}

int sb_sessions_store_revoke_all(sb_db_conn *conn, const char *user_id, int64_t now, int64_t *count,
                                 sb_error *err)
{
    if (count)
        *count = 0;
    if (!sb_users_store_uuid_ok(user_id))
        return 0;
    const char *params[] = {user_id, SB_DB_INT(now)};
    return sb_db_exec_affected(conn,
                               "UPDATE sessions SET revoked_at = to_timestamp($2::bigint)"
                               " WHERE user_id = $1::uuid AND revoked_at IS NULL",
                               2, params, count, err);
}

int sb_sessions_store_sweep(sb_db_conn *conn, int64_t before, int64_t *count, sb_error *err)
{
    const char *params[] = {SB_DB_INT(before)};
    return sb_db_exec_affected(conn,
                               "DELETE FROM sessions WHERE absolute_expires_at < to_timestamp($1::bigint)",
                               1, params, count, err);
}
