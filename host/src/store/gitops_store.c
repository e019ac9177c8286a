/* store/gitops_store.c — see gitops_store.h. */
#include "store/gitops_store.h"

#include <stdlib.h>

#include "store/store_json.h"

#define ENDPOINT_JSON                                                                            \
    "jsonb_build_object('id', e.id, 'name', e.name, 'base_url', e.base_url, 'project',"          \
    " e.project, 'ca_file', e.ca_file, 'tls_server_name', e.tls_server_name, 'token_set_at',"    \
    " e.token_set_at, 'health_checked_at', e.health_checked_at, 'health_error', e.health_error," \
    " 'created_by', e.created_by, 'created_at', e.created_at, 'updated_at', e.updated_at)"

#define MAPPING_JSON                                                                             \
    "jsonb_build_object('id', m.id, 'endpoint_id', m.endpoint_id, 'application', m.application," \
    " 'binding_id', m.binding_id, 'connection_id', m.connection_id, 'created_by', m.created_by," \
    " 'created_at', m.created_at)"

#define OBSERVATION_JSON                                                                         \
    "jsonb_build_object('id', o.id, 'request_id', o.request_id, 'mapping_id', o.mapping_id,"     \
    " 'endpoint_id', o.endpoint_id, 'endpoint_name', o.endpoint_name, 'application',"            \
    " o.application, 'state', o.state, 'changed_at', o.changed_at, 'baseline_at',"               \
    " o.baseline_at, 'evidence', o.evidence, 'detail', o.detail, 'last_error', o.last_error,"    \
    " 'polls', o.polls, 'next_poll_at', CASE WHEN o.finished_at IS NULL THEN o.next_poll_at"     \
    " END, 'timeout_at', o.timeout_at, 'finished_at', o.finished_at)"

/* ---- endpoints ------------------------------------------------------------ */

int sb_gitops_store_endpoint_create(sb_db_conn *conn, const sb_gitops_endpoint_fields *f,
                                    const char *created_by, char **json, sb_error *err)
{
    const char *p[] = {f->name,         f->base_url,         f->project,   f->ca_file,
                       f->tls_server_name, f->token_ciphertext, f->token_key_id, created_by};
    return sb_store_json_one(
        conn,
        "WITH e AS (INSERT INTO argocd_endpoints (name, base_url, project, ca_file,"
        " tls_server_name, token_ciphertext, token_key_id, created_by) VALUES ($1, $2, $3, $4,"
        " $5, $6, $7, $8::uuid) RETURNING *) SELECT " ENDPOINT_JSON "::text FROM e",
        8, p, NULL, 0, json, err);
}

int sb_gitops_store_endpoint_update(sb_db_conn *conn, const char *id,
                                    const sb_gitops_endpoint_fields *f, char **json, sb_error *err)
{
    const char *p[] = {id,         f->name,    f->base_url,         f->project,
                       f->ca_file, f->tls_server_name, f->token_ciphertext, f->token_key_id};
    return sb_store_json_one(
        conn,
        "WITH e AS (UPDATE argocd_endpoints SET name = coalesce($2, name),"
        " base_url = coalesce($3, base_url),"
        " project = CASE WHEN $4::text IS NULL THEN project ELSE nullif($4, '') END,"
        " ca_file = CASE WHEN $5::text IS NULL THEN ca_file ELSE nullif($5, '') END,"
        " tls_server_name = CASE WHEN $6::text IS NULL THEN tls_server_name"
        " ELSE nullif($6, '') END,"
        " token_ciphertext = coalesce($7, token_ciphertext),"
        " token_key_id = coalesce($8, token_key_id),"
        " token_set_at = CASE WHEN $7::text IS NULL THEN token_set_at ELSE now() END,"
        " health_checked_at = CASE WHEN $7::text IS NULL AND $3::text IS NULL"
        " THEN health_checked_at END,"
        " health_error = CASE WHEN $7::text IS NULL AND $3::text IS NULL THEN health_error END"
        " WHERE id = $1::uuid RETURNING *) SELECT " ENDPOINT_JSON "::text FROM e",
        8, p, NULL, 0, json, err);
}

int sb_gitops_store_endpoint_get(sb_db_conn *conn, const char *id, char **json, sb_error *err)
{
    const char *p[] = {id};
    return sb_store_json_one(conn,
                             "SELECT " ENDPOINT_JSON "::text FROM argocd_endpoints e"
                             " WHERE e.id = $1::uuid",
                             1, p, NULL, 0, json, err);
}

int sb_gitops_store_endpoint_list(sb_db_conn *conn, char **json, sb_error *err)
{
    return sb_store_json_one(conn,
                             "SELECT jsonb_build_object('items', coalesce(jsonb_agg(" ENDPOINT_JSON
                             " ORDER BY e.name), '[]'))::text FROM argocd_endpoints e",
                             0, NULL, NULL, 0, json, err);
}

int sb_gitops_store_endpoint_delete(sb_db_conn *conn, const char *id, char **json, sb_error *err)
{
    const char *p[] = {id};
    char mapped[24];
    int rc = sb_store_json_one(conn,
                               "SELECT count(*) FROM gitops_mappings WHERE endpoint_id = $1::uuid",
                               1, p, mapped, sizeof mapped, NULL, err);
    if (rc != 0)
        return rc;
    if (atol(mapped) > 0)
        return sb_error_set(err, SB_DB_E_REFUSED,
                            "the endpoint still has %s application mapping(s); delete them first",
                            mapped);
    return sb_store_json_one(conn,
                             "WITH e AS (DELETE FROM argocd_endpoints WHERE id = $1::uuid"
                             " RETURNING *) SELECT " ENDPOINT_JSON "::text FROM e",
                             1, p, NULL, 0, json, err);
}

int sb_gitops_store_endpoint_secret(sb_db_conn *conn, const char *id, char **json, sb_error *err)
{
    const char *p[] = {id};
    return sb_store_json_one(
        conn,
        "SELECT jsonb_build_object('name', name, 'base_url', base_url, 'project', project,"
        " 'ca_file', ca_file, 'tls_server_name', tls_server_name, 'token_ciphertext',"
        " token_ciphertext, 'token_key_id', token_key_id)::text FROM argocd_endpoints"
        " WHERE id = $1::uuid",
        1, p, NULL, 0, json, err);
}

int sb_gitops_store_endpoint_health(sb_db_conn *conn, const char *id, const char *error,
                                    sb_error *err)
{
    const char *p[] = {id, error};
    return sb_store_json_one(conn,
                             "UPDATE argocd_endpoints SET health_checked_at = now(),"
                             " health_error = left($2, 1000) WHERE id = $1::uuid RETURNING id",
                             2, p, NULL, 0, NULL, err);
}

/* ---- mappings ------------------------------------------------------------- */

int sb_gitops_store_mapping_create(sb_db_conn *conn, const char *endpoint_id,
                                   const char *application, const char *binding_id,
                                   const char *connection_id, const char *created_by, char **json,
                                   sb_error *err)
{
    const char *p[] = {endpoint_id, application, binding_id, connection_id, created_by};
    return sb_store_json_one(
        conn,
        "WITH m AS (INSERT INTO gitops_mappings (endpoint_id, application, binding_id,"
        " connection_id, created_by) SELECT e.id, $2, $3::uuid, $4::uuid, $5::uuid"
        " FROM argocd_endpoints e WHERE e.id = $1::uuid RETURNING *)"
        " SELECT " MAPPING_JSON "::text FROM m",
        5, p, NULL, 0, json, err);
}

int sb_gitops_store_mapping_list(sb_db_conn *conn, const char *endpoint_id, char **json,
                                 sb_error *err)
{
    const char *p[] = {endpoint_id};
    return sb_store_json_one(conn,
                             "SELECT jsonb_build_object('items', coalesce(jsonb_agg(" MAPPING_JSON
                             " ORDER BY m.created_at, m.id), '[]'))::text FROM gitops_mappings m"
                             " WHERE $1::uuid IS NULL OR m.endpoint_id = $1::uuid",
                             1, p, NULL, 0, json, err);
}

int sb_gitops_store_mapping_delete(sb_db_conn *conn, const char *id, char **json, sb_error *err)
{
    const char *p[] = {id};
    return sb_store_json_one(conn,
                             "WITH m AS (DELETE FROM gitops_mappings WHERE id = $1::uuid"
                             " RETURNING *) SELECT " MAPPING_JSON "::text FROM m",
                             1, p, NULL, 0, json, err);
}

/* ---- observations --------------------------------------------------------- */

int sb_gitops_store_observations_start(sb_db_conn *conn, const char *request_id,
                                       int64_t timeout_ms, char **json, sb_error *err)
{
    const char *p[] = {request_id, SB_DB_INT(timeout_ms)};
    return sb_store_json_one(
        conn,
        "WITH m AS (SELECT DISTINCT ON (g.endpoint_id, g.application) g.id, g.endpoint_id,"
        " e.name, g.application FROM requests r JOIN gitops_mappings g"
        " ON g.binding_id = r.binding_id OR g.connection_id = r.connection_id"
        " JOIN argocd_endpoints e ON e.id = g.endpoint_id WHERE r.id = $1::uuid"
        " ORDER BY g.endpoint_id, g.application, g.binding_id NULLS LAST, g.id),"
        " o AS (INSERT INTO gitops_observations (request_id, mapping_id, endpoint_id,"
        " endpoint_name, application, changed_at, timeout_at) SELECT $1::uuid, m.id,"
        " m.endpoint_id, m.name, m.application, now(),"
        " now() + $2::bigint * interval '1 millisecond' FROM m"
        " ON CONFLICT (request_id, endpoint_name, application) DO NOTHING"
        " RETURNING id, endpoint_name, application)"
        " SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'endpoint_name', endpoint_name,"
        " 'application', application) ORDER BY endpoint_name, application), '[]')::text FROM o",
        2, p, NULL, 0, json, err);
}

int sb_gitops_store_observations_of(sb_db_conn *conn, const char *request_id, char **json,
                                    sb_error *err)
{
    const char *p[] = {request_id};
    return sb_store_json_one(conn,
                             "SELECT jsonb_build_object('items', coalesce(jsonb_agg(" OBSERVATION_JSON
                             " ORDER BY o.endpoint_name, o.application), '[]'))::text"
                             " FROM gitops_observations o WHERE o.request_id = $1::uuid",
                             1, p, NULL, 0, json, err);
}

int sb_gitops_store_claim(sb_db_conn *conn, long limit, int64_t lease_ms, char **json,
                          sb_error *err)
{
    const char *p[] = {SB_DB_INT(limit), SB_DB_INT(lease_ms)};
    return sb_store_json_one(
        conn,
        "WITH due AS (SELECT o.id, o.state FROM gitops_observations o"
        " WHERE o.state IN ('pending', 'observing') AND o.next_poll_at <= now()"
        " ORDER BY (o.state = 'observing'), o.next_poll_at, o.id LIMIT $1::integer"
        " FOR UPDATE SKIP LOCKED),"
        " ended AS (UPDATE gitops_observations o SET state = 'applied_unverified',"
        " finished_at = now(), detail = coalesce(o.detail, 'no evidence before the timeout')"
        " FROM due WHERE o.id = due.id AND o.timeout_at <= now()"
        " RETURNING o.id, o.request_id, o.endpoint_name, o.application, due.state AS from_state),"
        " leased AS (UPDATE gitops_observations o SET"
        " next_poll_at = now() + $2::bigint * interval '1 millisecond'"
        " FROM due WHERE o.id = due.id AND o.timeout_at > now()"
        " RETURNING o.id, o.request_id, o.endpoint_id, o.endpoint_name, o.application,"
        " o.state, o.baseline, o.changed_at, o.polls)"
        " SELECT jsonb_build_object("
        "'timed_out', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'request_id',"
        " request_id, 'endpoint_name', endpoint_name, 'application', application, 'state',"
        " from_state)), '[]') FROM ended),"
        " 'claimed', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'request_id',"
        " request_id, 'endpoint_id', endpoint_id, 'endpoint_name', endpoint_name, 'application',"
        " application, 'state', state, 'baseline', baseline, 'changed_unix_ms',"
        " (extract(epoch FROM changed_at) * 1000)::bigint, 'polls', polls)), '[]')"
        " FROM leased))::text",
        2, p, NULL, 0, json, err);
}

int sb_gitops_store_record_poll(sb_db_conn *conn, const char *id, const sb_gitops_poll_result *r,
                                sb_error *err)
{
    const char *p[] = {id,        r->state,      r->baseline, r->evidence, r->detail,
                       r->last_error, SB_DB_INT(r->next_poll_ms)};
    return sb_store_json_one(
        conn,
        "UPDATE gitops_observations SET state = $2,"
        " baseline = coalesce($3, baseline),"
        " baseline_at = CASE WHEN $3::text IS NULL THEN baseline_at ELSE now() END,"
        " evidence = CASE WHEN $6::text IS NULL THEN $4 ELSE evidence END,"
        " detail = CASE WHEN $6::text IS NULL THEN left($5, 2000) ELSE detail END,"
        " last_error = left($6, 1000),"
        " polls = polls + 1, next_poll_at = now() + $7::bigint * interval '1 millisecond',"
        " finished_at = CASE WHEN $2 IN ('pending', 'observing') THEN NULL ELSE now() END"
        " WHERE id = $1::uuid AND state IN ('pending', 'observing') RETURNING id",
        7, p, NULL, 0, NULL, err);
}
