/* store/wrap_store.c — see wrap_store.h. */
#include "store/wrap_store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_json.h"

#define SESSION_JSON                                                                               \
    "jsonb_build_object('id', s.id, 'request_id', s.request_id, 'ttl_seconds', s.ttl_seconds,"     \
    " 'opened_at', s.opened_at, 'expires_at', s.expires_at, 'expired_at', s.expired_at,"          \
    " 'expired_reason', s.expired_reason)"

int sb_wrap_store_read_key_get(sb_db_conn *conn, const char *request_id, char **wrapped_private_b64,
                               char **kms_key_id, sb_error *err)
{
    *wrapped_private_b64 = *kms_key_id = NULL;
    const char *p[] = {request_id};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT translate(encode(wrapped_private_key, 'base64'), E'\\n', ''), kms_key_id"
                   " FROM request_read_keys WHERE request_id = $1::uuid",
                   1, p, &res, err) != 0)
        return -1;
    int rc = 1;
    if (PQntuples(res) == 1) {
        *wrapped_private_b64 = strdup(PQgetvalue(res, 0, 0));
        *kms_key_id = strdup(PQgetvalue(res, 0, 1));
        rc = *wrapped_private_b64 && *kms_key_id ? 0 : sb_error_set(err, SB_DB_E_QUERY, "out of memory");
    }
    PQclear(res);
    return rc;
}

int sb_wrap_store_insert(sb_db_conn *conn, const char *request_id, const char *key_name,
                         const char *value_kind, const char *box_b64, const char *agent_id,
                         int ttl_s, sb_error *err)
{
    const char *p[] = {request_id, key_name, value_kind, box_b64, agent_id, SB_DB_INT(ttl_s)};
    return sb_db_exec_affected(conn,
                               "INSERT INTO secret_wraps (request_id, key_name, value_kind, box,"
                               " agent_id, expires_at) VALUES ($1::uuid, $2, $3,"
                               " decode($4, 'base64'), $5::uuid,"
                               " now() + make_interval(secs => $6::integer))",
                               6, p, NULL, err);
}

int sb_wrap_store_list(sb_db_conn *conn, const char *request_id, char **json, sb_error *err)
{
    const char *p[] = {request_id};
    return sb_store_json_one(
        conn,
        "SELECT jsonb_build_object('items', coalesce(jsonb_agg(jsonb_build_object('id', w.id,"
        " 'key', w.key_name, 'kind', w.value_kind, 'state', CASE WHEN w.consumed_at IS NOT NULL"
        " THEN 'consumed' WHEN w.expires_at <= now() THEN 'expired' ELSE 'live' END,"
        " 'created_at', w.created_at, 'expires_at', w.expires_at, 'consumed_at', w.consumed_at)"
        " ORDER BY w.key_name), '[]'))::text FROM secret_wraps w WHERE w.request_id = $1::uuid",
        1, p, NULL, 0, json, err);
}

int sb_wrap_store_consume(sb_db_conn *conn, const char *request_id, const char *wrap_id,
                          const char *user_id, sb_wrap_consume_result *result,
                          sb_wrap_taken *taken, sb_error *err)
{
    memset(taken, 0, sizeof *taken);
    const char *p[] = {wrap_id, request_id, user_id};
    PGresult *res;
    if (sb_db_exec(conn,
                   "WITH c AS (SELECT id, box FROM secret_wraps WHERE id = $1::uuid"
                   " AND request_id = $2::uuid AND consumed_at IS NULL AND expires_at > now()"
                   " FOR UPDATE)"
                   " UPDATE secret_wraps w SET consumed_at = now(), consumed_by = $3::uuid,"
                   " box = NULL FROM c WHERE w.id = c.id"
                   " RETURNING w.key_name, w.value_kind, translate(encode(c.box, 'base64'),"
                   " E'\\n', '')",
                   3, p, &res, err) != 0)
        return -1;
    if (PQntuples(res) == 1) {
        snprintf(taken->key_name, sizeof taken->key_name, "%s", PQgetvalue(res, 0, 0));
        snprintf(taken->value_kind, sizeof taken->value_kind, "%s", PQgetvalue(res, 0, 1));
        taken->box_b64 = strdup(PQgetvalue(res, 0, 2));
        PQclear(res);
        *result = SB_WRAP_CONSUMED;
        return taken->box_b64 ? 0 : sb_error_set(err, SB_DB_E_QUERY, "out of memory");
    }
    PQclear(res);
    const char *q[] = {wrap_id, request_id};
    if (sb_db_exec(conn,
                   "SELECT consumed_at IS NOT NULL FROM secret_wraps WHERE id = $1::uuid"
                   " AND request_id = $2::uuid",
                   2, q, &res, err) != 0)
        return -1;
    *result = PQntuples(res) == 0                       ? SB_WRAP_MISSING
              : strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? SB_WRAP_GONE_USED
                                                        : SB_WRAP_GONE_EXPIRED;
    PQclear(res);
    return 0;
}

int sb_wrap_store_expire_request(sb_db_conn *conn, const char *request_id, sb_error *err)
{
    const char *p[] = {request_id};
    return sb_db_exec_affected(conn,
                               "UPDATE secret_wraps SET expires_at = now() WHERE request_id ="
                               " $1::uuid AND consumed_at IS NULL AND expires_at > now()",
                               1, p, NULL, err);
}

int sb_wrap_store_session_open(sb_db_conn *conn, const char *user_id, const char *request_id,
                               int ttl_s, char **json, sb_error *err)
{
    const char *p[] = {user_id, request_id, SB_DB_INT(ttl_s)};
    return sb_store_json_one(conn,
                             "WITH s AS (INSERT INTO reveal_sessions (user_id, request_id,"
                             " ttl_seconds, expires_at) VALUES ($1::uuid, $2::uuid, $3::integer,"
                             " now() + make_interval(secs => $3::integer)) RETURNING *)"
                             " SELECT " SESSION_JSON "::text FROM s",
                             3, p, NULL, 0, json, err);
}

int sb_wrap_store_session_list_active(sb_db_conn *conn, const char *user_id, char **json,
                                      sb_error *err)
{
    const char *p[] = {user_id};
    return sb_store_json_one(conn,
                             "SELECT jsonb_build_object('items', coalesce(jsonb_agg(" SESSION_JSON
                             " ORDER BY s.opened_at DESC), '[]'))::text FROM reveal_sessions s"
                             " WHERE s.user_id = $1::uuid AND s.expired_at IS NULL"
                             " AND s.expires_at > now()",
                             1, p, NULL, 0, json, err);
}

int sb_wrap_store_session_expire(sb_db_conn *conn, const char *session_id, const char *user_id,
                                 const char *reason, char **json, sb_error *err)
{
    const char *p[] = {session_id, user_id, reason};
    int rc = sb_store_json_one(
        conn,
        "WITH s AS (UPDATE reveal_sessions SET expired_at = coalesce(expired_at, now()),"
        " expired_reason = coalesce(expired_reason, $3) WHERE id = $1::uuid AND user_id = $2::uuid"
        " RETURNING *),"
        " w AS (UPDATE secret_wraps SET expires_at = now() WHERE request_id IN"
        " (SELECT request_id FROM s) AND consumed_at IS NULL AND expires_at > now())"
        " SELECT " SESSION_JSON "::text FROM s",
        3, p, NULL, 0, json, err);
    return rc;
}

int sb_wrap_store_session_sweep(sb_db_conn *conn, long limit, char **json, sb_error *err)
{
    const char *p[] = {SB_DB_INT(limit > 0 ? limit : 100)};
    int rc = sb_store_json_one(
        conn,
        "WITH d AS (SELECT id FROM reveal_sessions WHERE expired_at IS NULL AND expires_at <= now()"
        " ORDER BY expires_at LIMIT $1::integer FOR UPDATE SKIP LOCKED),"
        " s AS (UPDATE reveal_sessions r SET expired_at = now(), expired_reason = 'ttl' FROM d"
        " WHERE r.id = d.id RETURNING r.id, r.request_id, r.user_id),"
        " w AS (UPDATE secret_wraps SET expires_at = now() WHERE request_id IN"
        " (SELECT request_id FROM s) AND consumed_at IS NULL AND expires_at > now()"
        " RETURNING request_id)"
        " SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'request_id', s.request_id,"
        " 'user_id', s.user_id, 'wraps_expired', (SELECT count(*) FROM w"
        " WHERE w.request_id = s.request_id)) ORDER BY s.id), '[]')::text FROM s",
        1, p, NULL, 0, json, err);
    return rc < 0 ? -1 : 0;
}
