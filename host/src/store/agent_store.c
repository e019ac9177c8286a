/* store/agent_store.c — see agent_store.h. */
#include "store/agent_store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_json.h"

/* The response shape of an agent row `a` (never the secret hash). */
#define AGENT_JSON                                                                                 \
    "jsonb_build_object('id', a.id, 'connection_id', a.connection_id, 'name', a.name,"            \
    " 'version', a.version, 'status', CASE WHEN a.status = 'active' AND a.last_heartbeat_at"      \
    "   < now() - make_interval(secs => " SB_STR(SB_AGENT_STALE_S) ") THEN 'stale'"                \
    "   ELSE a.status END,"                                                                      \
    " 'public_key', encode(a.public_key, 'base64'), 'capabilities', a.capabilities,"             \
    " 'health', a.health, 'last_heartbeat_at', a.last_heartbeat_at, 'created_at', a.created_at," \
    " 'revoked_at', a.revoked_at)::text"

#define TOKEN_JSON                                                                                 \
    "jsonb_build_object('id', t.id, 'connection_id', t.connection_id, 'display_hint',"            \
    " t.display_hint, 'created_at', t.created_at, 'expires_at', t.expires_at,"                    \
    " 'consumed_at', t.consumed_at, 'revoked_at', t.revoked_at)::text"

int sb_agent_store_token_create(sb_db_conn *conn, const char *connection_id,
                                const unsigned char hash[SB_TOKEN_HASH_BYTES],
                                const char *display_hint, const char *created_by, int ttl_s,
                                char **json, sb_error *err)
{
    char status[16] = "";
    const char *p1[] = {connection_id};
    int rc = sb_store_json_one(conn, "SELECT status FROM provider_connections WHERE id = $1::uuid",
                               1, p1, status, sizeof status, NULL, err);
    if (rc != 0)
        return rc;
    if (strcmp(status, "active") != 0)
        return 2;
    char hex[2 * SB_TOKEN_HASH_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, hash, SB_TOKEN_HASH_BYTES);
    const char *p[] = {connection_id, hex, display_hint, created_by, SB_DB_INT(ttl_s)};
    return sb_store_json_one(conn,
                             "WITH t AS (INSERT INTO agent_enrollment_tokens (connection_id,"
                             " token_hash, display_hint, created_by, expires_at)"
                             " VALUES ($1::uuid, decode($2, 'hex'), $3, $4::uuid,"
                             " now() + make_interval(secs => $5::integer)) RETURNING *)"
                             " SELECT " TOKEN_JSON " FROM t",
                             5, p, NULL, 0, json, err);
}

int sb_agent_store_token_revoke(sb_db_conn *conn, const char *token_id, char **json,
                                sb_error *err)
{
    const char *p[] = {token_id};
    char state[16] = "";
    int rc = sb_store_json_one(conn,
                               "SELECT CASE WHEN consumed_at IS NOT NULL OR revoked_at IS NOT NULL"
                               " THEN 'closed' ELSE 'open' END FROM agent_enrollment_tokens"
                               " WHERE id = $1::uuid FOR UPDATE",
                               1, p, state, sizeof state, NULL, err);
    if (rc != 0)
        return rc;
    if (strcmp(state, "open") != 0)
        return 2;
    return sb_store_json_one(conn,
                             "WITH t AS (UPDATE agent_enrollment_tokens SET revoked_at = now()"
                             " WHERE id = $1::uuid RETURNING *) SELECT " TOKEN_JSON " FROM t",
                             1, p, NULL, 0, json, err);
}

int sb_agent_store_enroll(sb_db_conn *conn, const sb_enroll_new *e, sb_enroll_result *result,
                          char *agent_id, char *connection_id, char *token_id, sb_error *err)
{
    char hex[2 * SB_TOKEN_HASH_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, e->token_hash, SB_TOKEN_HASH_BYTES);
    const char *p1[] = {hex, e->connection};
    PGresult *res;
    /* the token row locked: two enrollments with one token have one winner */
    if (sb_db_exec(conn,
                   "SELECT t.id::text, t.connection_id::text, c.status,"
                   " t.revoked_at IS NOT NULL, t.consumed_at IS NOT NULL, t.expires_at <= now(),"
                   " (c.id::text = $2 OR c.name = $2)"
                   " FROM agent_enrollment_tokens t JOIN provider_connections c"
                   "   ON c.id = t.connection_id"
                   " WHERE t.token_hash = decode($1, 'hex') FOR UPDATE OF t",
                   2, p1, &res, err) != 0)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        *result = SB_ENROLL_TOKEN_UNKNOWN;
        return 0;
    }
    snprintf(token_id, 40, "%s", PQgetvalue(res, 0, 0));
    snprintf(connection_id, 40, "%s", PQgetvalue(res, 0, 1));
    int active = strcmp(PQgetvalue(res, 0, 2), "active") == 0;
    int revoked = PQgetvalue(res, 0, 3)[0] == 't', used = PQgetvalue(res, 0, 4)[0] == 't';
    int expired = PQgetvalue(res, 0, 5)[0] == 't', same = PQgetvalue(res, 0, 6)[0] == 't';
    PQclear(res);
    *result = revoked   ? SB_ENROLL_TOKEN_REVOKED
              : used    ? SB_ENROLL_TOKEN_USED
              : expired ? SB_ENROLL_TOKEN_EXPIRED
              : !same   ? SB_ENROLL_CONNECTION_MISMATCH
              : !active ? SB_ENROLL_CONNECTION_UNAVAILABLE
                        : SB_ENROLL_OK;
    if (*result != SB_ENROLL_OK)
        return 0;
    char shex[2 * SB_TOKEN_HASH_BYTES + 1], khex[65];
    sodium_bin2hex(shex, sizeof shex, e->secret_hash, SB_TOKEN_HASH_BYTES);
    sodium_bin2hex(khex, sizeof khex, e->public_key, 32);
    const char *p2[] = {connection_id, e->name, e->version ? e->version : "", khex, shex,
                        token_id};
    int rc = sb_store_json_one(conn,
                               "WITH a AS (INSERT INTO agents (connection_id, name, version,"
                               " public_key, secret_hash, enrollment_token_id)"
                               " VALUES ($1::uuid, $2, $3, decode($4, 'hex'), decode($5, 'hex'),"
                               " $6::uuid) RETURNING id),"
                               " t AS (UPDATE agent_enrollment_tokens SET consumed_at = now(),"
                               " consumed_by_agent = (SELECT id FROM a) WHERE id = $6::uuid)"
                               " SELECT id::text FROM a",
                               6, p2, agent_id, 40, NULL, err);
    return rc == 1 ? sb_error_set(err, SB_DB_E_QUERY, "the agent row was not inserted") : rc;
}

int sb_agent_store_auth(sb_db_conn *conn, const char *agent_id, sb_agent_auth_row *out,
                        sb_error *err)
{
    const char *p[] = {agent_id};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT encode(secret_hash, 'hex'), status, connection_id::text, name"
                   " FROM agents WHERE id = $1::uuid",
                   1, p, &res, err) != 0)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        size_t len = 0;
        const char *h = PQgetvalue(res, 0, 0);
        if (sodium_hex2bin(out->secret_hash, sizeof out->secret_hash, h, strlen(h), NULL, &len,
                           NULL) != 0 ||
            len != SB_TOKEN_HASH_BYTES)
            found = 0;
        snprintf(out->status, sizeof out->status, "%s", PQgetvalue(res, 0, 1));
        snprintf(out->connection_id, sizeof out->connection_id, "%s", PQgetvalue(res, 0, 2));
        snprintf(out->name, sizeof out->name, "%s", PQgetvalue(res, 0, 3));
    }
    PQclear(res);
    return found ? 0 : 1;
}

int sb_agent_store_heartbeat(sb_db_conn *conn, const char *agent_id, const char *version,
                             const char *capabilities_json, const char *health_json,
                             int *activated, char **json, sb_error *err)
{
    const char *p[] = {agent_id, version, capabilities_json, health_json};
    char before[16] = "";
    int rc = sb_store_json_one(conn,
                               "SELECT status FROM agents WHERE id = $1::uuid AND status <> 'revoked'"
                               " FOR UPDATE",
                               1, p, before, sizeof before, NULL, err);
    if (rc != 0)
        return rc;
    /* enrolled -> active (first beat), stale -> active (back after silence) */
    *activated = strcmp(before, "enrolled") == 0 || strcmp(before, "stale") == 0;
    return sb_store_json_one(conn,
                             "WITH a AS (UPDATE agents SET status = 'active',"
                             " last_heartbeat_at = now(), version = coalesce($2, version),"
                             " capabilities = coalesce($3::jsonb, capabilities),"
                             " health = coalesce($4::jsonb, health)"
                             " WHERE id = $1::uuid RETURNING *) SELECT " AGENT_JSON " FROM a",
                             4, p, NULL, 0, json, err);
}

int sb_agent_store_get(sb_db_conn *conn, const char *agent_id, char **json, sb_error *err)
{
    const char *p[] = {agent_id};
    return sb_store_json_one(conn, "SELECT " AGENT_JSON " FROM agents a WHERE a.id = $1::uuid", 1,
                             p, NULL, 0, json, err);
}

int sb_agent_store_list(sb_db_conn *conn, const char *connection_id, const char *status,
                        const char *after_id, long limit, char **json, sb_error *err)
{
    const char *p[] = {connection_id, status, after_id && *after_id ? after_id : NULL, SB_DB_INT(limit)};
    return sb_store_json_one(
        conn,
        "SELECT coalesce(jsonb_agg(x.j ORDER BY x.id), '[]')::text FROM ("
        " SELECT y.id, y.j FROM (SELECT a.id, (" AGENT_JSON ")::jsonb AS j FROM agents a"
        "  WHERE ($1::uuid IS NULL OR a.connection_id = $1::uuid)"
        "    AND ($3::uuid IS NULL OR a.id > $3::uuid)) y"
        " WHERE $2::text IS NULL OR y.j->>'status' = $2"
        " ORDER BY y.id LIMIT $4::integer) x",
        4, p, NULL, 0, json, err);
}

int sb_agent_store_revoke(sb_db_conn *conn, const char *agent_id, const char *by_user,
                          char **json, sb_error *err)
{
    const char *p[] = {agent_id, by_user};
    char status[16] = "";
    int rc = sb_store_json_one(conn, "SELECT status FROM agents WHERE id = $1::uuid FOR UPDATE", 1,
                               p, status, sizeof status, NULL, err);
    if (rc != 0)
        return rc;
    if (strcmp(status, "revoked") == 0)
        return 2;
    return sb_store_json_one(conn,
                             "WITH a AS (UPDATE agents SET status = 'revoked', revoked_at = now(),"
                             " revoked_by = $2::uuid WHERE id = $1::uuid RETURNING *)"
                             " SELECT " AGENT_JSON " FROM a",
                             2, p, NULL, 0, json, err);
}

int sb_agent_store_recipients(sb_db_conn *conn, const char *connection_id, char **json,
                              sb_error *err)
{
    const char *p[] = {connection_id};
    return sb_store_json_one(
        conn,
        "SELECT jsonb_build_object('connection_id', $1::uuid, 'items', coalesce((SELECT"
        " jsonb_agg(jsonb_build_object('agent_id', a.id, 'name', a.name, 'status', a.status,"
        " 'public_key', translate(encode(a.public_key, 'base64'), E'\\n', '')) ORDER BY a.id)"
        " FROM agents a WHERE a.connection_id = $1::uuid AND a.status <> 'revoked'), '[]'))::text",
        1, p, NULL, 0, json, err);
}

int sb_agent_store_recipient_live(sb_db_conn *conn, const char *connection_id,
                                  const char *recipient, bool *live, sb_error *err)
{
    char cell[8] = "";
    const char *p[] = {connection_id, recipient};
    int rc = sb_store_json_one(conn,
                               "SELECT EXISTS (SELECT 1 FROM agents WHERE connection_id = $1::uuid"
                               " AND status <> 'revoked' AND public_key = decode($2, 'base64'))::text",
                               2, p, cell, sizeof cell, NULL, err);
    *live = rc == 0 && strcmp(cell, "true") == 0;
    return rc < 0 ? -1 : 0;
}
