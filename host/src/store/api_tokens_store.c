/* store/api_tokens_store.c — see api_tokens_store.h. */
#include "store/api_tokens_store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/session_policy.h"
#include "store/users_store.h"

#define EPOCH(col) "floor(extract(epoch FROM " col "))::bigint"

/* Read back in this order by row_to_token (t = api_tokens, u = users). */
/* clang-format off */
#define TOKEN_COLUMNS                                                                              \
    "t.id::text, t.user_id::text, u.username, t.name, t.display_hint, "                            \
    EPOCH("t.created_at") ", " EPOCH("t.expires_at") ", "                                          \
    "coalesce(" EPOCH("t.last_used_at") ", 0), coalesce(" EPOCH("t.revoked_at") ", 0), "        \
    "array_to_string(t.scopes, ',')"
/* clang-format on */

#define TOKEN_GRANTS_COL 10 /* after the token columns */

static void row_to_token(const PGresult *res, int row, sb_api_token_record *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s", PQgetvalue(res, row, 0));
    snprintf(t->user_id, sizeof t->user_id, "%s", PQgetvalue(res, row, 1));
    snprintf(t->username, sizeof t->username, "%s", PQgetvalue(res, row, 2));
    snprintf(t->name, sizeof t->name, "%s", PQgetvalue(res, row, 3));
    snprintf(t->display_hint, sizeof t->display_hint, "%s", PQgetvalue(res, row, 4));
    t->created_at = sb_db_cell_i64(res, row, 5);
    t->expires_at = sb_db_cell_i64(res, row, 6);
    t->last_used_at = sb_db_cell_i64(res, row, 7);
    t->revoked_at = sb_db_cell_i64(res, row, 8);
    snprintf(t->scopes, sizeof t->scopes, "%s", PQgetvalue(res, row, 9));
}

/* Runs a statement returning at most one row (see sb_db_exec_one). */
static void row_to_token_cb(const PGresult *res, int i, void *out) { row_to_token(res, i, out); }

static int one_token(sb_db_conn *conn, const char *sql, int n, const char *const *params,
                     sb_api_token_record *out, sb_error *err)
{
    return sb_db_exec_one(conn, sql, n, params, row_to_token_cb, out, err);
}

/* Inside a transaction: lock the user's row (serialises creations of one
 * user), then count and insert with a snapshot taken after the lock. */
static int create_in_txn(sb_db_conn *conn, const sb_api_token_new *t, sb_api_token_record *out,
                         sb_error *err)
{
    const char *p1[] = {t->user_id};
    PGresult *res;
    if (sb_db_exec(conn, "SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE", 1, p1, &res, err) !=
        0)
        return -1;
    int exists = PQntuples(res) == 1;
    PQclear(res);
    if (!exists)
        return sb_error_set(err, SB_DB_E_FK, "no user %s to own the token", t->user_id);
    char hex[2 * SB_TOKEN_HASH_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, t->token_hash, SB_TOKEN_HASH_BYTES);
    const char *params[] = {t->user_id,
                            t->name,
                            hex,
                            t->display_hint,
                            SB_DB_INT(t->now),
                            SB_DB_INT(t->expires_at),
                            SB_DB_INT(SB_API_TOKEN_MAX_ACTIVE),
                            t->scopes_literal ? t->scopes_literal : "{}"};
    return one_token(conn,
                     "WITH live AS (SELECT count(*) AS n FROM api_tokens"
                     "               WHERE user_id = $1::uuid AND revoked_at IS NULL"
                     "                 AND expires_at > to_timestamp($5::bigint)),"
                     " t AS (INSERT INTO api_tokens (user_id, name, token_hash, display_hint,"
                     "                               created_at, expires_at, scopes)"
                     "       SELECT $1::uuid, $2, decode($3, 'hex'), $4, to_timestamp($5::bigint),"
                     "              to_timestamp($6::bigint), $8::text[]"
                     "         FROM live WHERE live.n < $7::integer"
                     "       RETURNING *)"
                     " SELECT " TOKEN_COLUMNS " FROM t JOIN users u ON u.id = t.user_id",
                     8, params, out, err);
}

int sb_api_tokens_store_create(sb_db_conn *conn, const sb_api_token_new *t,
                               sb_api_token_record *out, sb_error *err)
{
    if (t == NULL || t->token_hash == NULL || t->name == NULL || t->display_hint == NULL ||
        !sb_users_store_uuid_ok(t->user_id))
        return sb_error_set(err, SB_DB_E_INVALID,
                            "a token needs a user, a name, a hash and a hint");
    if (!(t->now < t->expires_at && t->expires_at - t->now <= SB_API_TOKEN_MAX_LIFETIME))
        return sb_error_set(err, SB_DB_E_INVALID,
                            "a token must expire after its creation and within a year of it");
    int own = !sb_db_in_transaction(conn);
    if (own && sb_db_begin(conn, err) != 0)
        return -1;
    int rc = create_in_txn(conn, t, out, err);
    if (own) {
        if (rc >= 0 && sb_db_commit(conn, err) != 0)
            rc = -1;
        else if (rc < 0)
            sb_db_rollback(conn);
    }
    return rc;
}

int sb_api_tokens_store_list(sb_db_conn *conn, const char *user_id, const char *after_id,
                             long limit, sb_api_token_record **out, size_t *n, sb_error *err)
{
    *out = NULL;
    *n = 0;
    if (!sb_users_store_uuid_ok(user_id))
        return 0;
    if (after_id && *after_id == '\0')
        after_id = NULL;
    if (after_id && !sb_users_store_uuid_ok(after_id))
        return sb_error_set(err, SB_DB_E_INVALID, "the cursor does not name a token");
    if (limit < 1 || limit > 1000)
        limit = 50;
    const char *params[] = {user_id, after_id, SB_DB_INT(limit)};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT " TOKEN_COLUMNS "  FROM api_tokens t JOIN users u ON u.id = t.user_id"
                   " WHERE t.user_id = $1::uuid"
                   "   AND ($2::uuid IS NULL OR (t.created_at, t.id) <"
                   "        (SELECT created_at, id FROM api_tokens"
                   "          WHERE id = $2::uuid AND user_id = $1::uuid))"
                   " ORDER BY t.created_at DESC, t.id DESC LIMIT $3::integer",
                   3, params, &res, err) != 0)
        return -1;
    int rows = PQntuples(res);
    *out = calloc((size_t)rows + 1, sizeof **out);
    if (*out == NULL) {
        PQclear(res);
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory listing tokens");
    }
    for (int i = 0; i < rows; i++)
        row_to_token(res, i, &(*out)[i]);
    *n = (size_t)rows;
    PQclear(res);
    return 0;
}

int sb_api_tokens_store_revoke(sb_db_conn *conn, const char *user_id, const char *id, int64_t now,
                               sb_api_token_record *out, sb_error *err)
{
    if (!sb_users_store_uuid_ok(user_id) || !sb_users_store_uuid_ok(id))
        return 1;
    const char *params[] = {user_id, id, SB_DB_INT(now)};
    int rc = one_token(conn,
                       "UPDATE api_tokens t SET revoked_at = to_timestamp($3::bigint) FROM users u"
                       " WHERE t.id = $2::uuid AND t.user_id = $1::uuid AND u.id = t.user_id"
                       "   AND t.revoked_at IS NULL"
                       " RETURNING " TOKEN_COLUMNS,
                       3, params, out, err);
    if (rc != 1)
        return rc;
    rc = one_token(conn,
                   "SELECT " TOKEN_COLUMNS " FROM api_tokens t JOIN users u ON u.id = t.user_id"
                   " WHERE t.id = $2::uuid AND t.user_id = $1::uuid",
                   2, params, out, err);
    return rc == 0 ? 2 : rc;
}

int sb_api_tokens_store_revoke_all(sb_db_conn *conn, const char *user_id, int64_t now,
                                   int64_t *count, sb_error *err)
{
    if (count)
        *count = 0;
    if (!sb_users_store_uuid_ok(user_id))
        return 0;
    const char *params[] = {user_id, SB_DB_INT(now)};
    return sb_db_exec_affected(conn,
                               "UPDATE api_tokens SET revoked_at = to_timestamp($2::bigint)"
                               " WHERE user_id = $1::uuid AND revoked_at IS NULL",
                               2, params, count, err);
}

/* The live token with this hash; last_used_at is stamped only when it is
 * at least SB_SESSION_SLIDE_EVERY_S old (most uses write nothing). */
#define TOKEN_FIND                                                                                 \
    "WITH cur AS (SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id"                 \
    "             WHERE t.token_hash = decode($1, 'hex') AND u.status = 'active'"                  \
    "               AND t.revoked_at IS NULL AND t.expires_at > to_timestamp($2::bigint)),"        \
    " stamp AS (UPDATE api_tokens t SET last_used_at = to_timestamp($2::bigint) FROM cur"          \
    "           WHERE t.id = cur.id AND (t.last_used_at IS NULL OR t.last_used_at <="             \
    "                 to_timestamp($2::bigint - " SB_SESSION_SLIDE_EVERY_SQL "))"                  \
    "           RETURNING t.*),"                                                                  \
    " tok AS (SELECT " TOKEN_COLUMNS " FROM stamp t JOIN users u ON u.id = t.user_id"             \
    "         UNION ALL SELECT " TOKEN_COLUMNS " FROM api_tokens t JOIN cur ON cur.id = t.id"      \
    "           JOIN users u ON u.id = t.user_id WHERE NOT EXISTS (SELECT 1 FROM stamp))"

int sb_api_tokens_store_authenticate(sb_db_conn *conn, const unsigned char *token_hash, int64_t now,
                                     sb_api_token_record *out, sb_grant_set *grants,
                                     sb_error *err)
{
    char hex[2 * SB_TOKEN_HASH_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, token_hash, SB_TOKEN_HASH_BYTES);
    const char *params[] = {hex, SB_DB_INT(now)};
    if (grants == NULL)
        return one_token(conn, TOKEN_FIND " SELECT * FROM tok", 2, params, out, err);
#define TOKEN_WITH_GRANTS                                                                          \
    TOKEN_FIND " SELECT tok.*, " SB_STORE_GRANT_COLUMNS " FROM tok"                                \
        SB_STORE_GRANT_JOIN("tok.user_id::uuid")
    return sb_store_exec_with_grants(conn, TOKEN_WITH_GRANTS, 2, params, row_to_token_cb, out,
                                     TOKEN_GRANTS_COL, grants, err);
}
