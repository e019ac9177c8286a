/* store/job_store.c — see job_store.h. */
#include "store/job_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_json.h"
#include "store/tenancy_store.h"

#define JOB_OBJECT                                                                                 \
    "jsonb_build_object('id', j.id, 'type', j.type, 'connection_id', j.connection_id,"            \
    " 'request_id', j.request_id, 'payload', j.payload, 'state', j.state,"                        \
    " 'attempts', j.attempts, 'max_attempts', j.max_attempts, 'run_after', j.run_after,"          \
    " 'lease_expires_at', j.lease_expires_at, 'last_error', j.last_error,"                        \
    " 'last_outcome', j.last_outcome, 'created_at', j.created_at, 'updated_at', j.updated_at,"    \
    " 'finished_at', j.finished_at)"
#define JOB_JSON JOB_OBJECT "::text"

/* The sealed values of request r made for agent a's public key (the
 * recipient is the base64 of that key). */
#define SEALED_FOR_AGENT(r, a)                                                                     \
    "FROM request_sealed_values s JOIN agents ag ON ag.id = " a " WHERE s.request_id = " r        \
    " AND decode(s.recipient, 'base64') = ag.public_key AND s.expires_at > now()"

int sb_job_store_notify(sb_db_conn *conn, const char *connection_id, sb_error *err)
{
    return sb_db_notify(conn, SB_JOB_CHANNEL, connection_id, err);
}

int sb_job_store_create(sb_db_conn *conn, const char *type, const char *connection_id,
                        const char *request_id, const char *payload_json, int max_attempts,
                        const sb_job_read_key *read_key, char **json, sb_error *err)
{
    if (read_key && request_id == NULL)
        return sb_error_set(err, SB_DB_E_INVALID, "a read key is stored only with a request's job");
    const char *p[] = {type, connection_id, request_id, payload_json,
                       SB_DB_INT(max_attempts > 0 ? max_attempts : 5), SB_JOB_CHANNEL,
                       read_key ? read_key->public_b64 : NULL,
                       read_key ? read_key->wrapped_private_b64 : NULL,
                       read_key ? read_key->kms_key_id : NULL};
    /* One statement: the request's job intent (when the job is a request's;
     * its primary key refuses a second one), a read's key, the job, and the
     * NOTIFY. */
    int rc = sb_store_json_one(conn,
                               "WITH i AS (INSERT INTO job_intents (request_id, job_type)"
                               " SELECT $3::uuid, $1 WHERE $3::uuid IS NOT NULL),"
                               " k AS (INSERT INTO request_read_keys (request_id, public_key,"
                               " wrapped_private_key, kms_key_id) SELECT $3::uuid,"
                               " decode($7, 'base64'), decode($8, 'base64'), $9"
                               " WHERE $7::text IS NOT NULL),"
                               " j AS (INSERT INTO jobs (type, connection_id, request_id,"
                               " payload, max_attempts) VALUES ($1, $2::uuid, $3::uuid,"
                               " $4::jsonb, $5::integer) RETURNING *)"
                               " SELECT " JOB_JSON " FROM j, LATERAL pg_notify($6, j.connection_id::text)",
                               9, p, NULL, 0, json, err);
    if (rc < 0 && request_id != NULL) {
        const sb_db_error_info *e = sb_db_last_error(conn);
        if (e && strcmp(e->sqlstate, "23505") == 0 && strcmp(e->table_name, "job_intents") == 0)
            sb_error_set(err, SB_TENANCY_E_EXISTS, "request %s already has a job", request_id);
    }
    return rc;
}

int sb_job_store_fail_unknown(sb_db_conn *conn, const char *connection_id, const char *types,
                              char **json, sb_error *err)
{
    const char *p[] = {connection_id, types};
    return sb_store_json_one(
        conn,
        "WITH f AS (UPDATE jobs SET state = 'failed', finished_at = now(),"
        " last_error = 'unknown job type ' || type || ': this control plane cannot hand it out'"
        " WHERE connection_id = $1::uuid AND state = 'queued' AND NOT (type = ANY($2::text[]))"
        " RETURNING id, type, request_id)"
        " SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'type', type,"
        " 'request_id', request_id)), '[]')::text FROM f",
        2, p, NULL, 0, json, err);
}

int sb_job_store_claim(sb_db_conn *conn, const char *agent_id, const char *connection_id,
                       const char *types, int lease_s, char **json, sb_error *err)
{
    const char *p[] = {agent_id, connection_id, types, SB_DB_INT(lease_s)};
    return sb_store_json_one(
        conn,
        "WITH c AS (SELECT id FROM jobs WHERE connection_id = $2::uuid AND state = 'queued'"
        "   AND run_after <= now() AND type = ANY($3::text[])"
        /* a patch only to an agent the values were sealed for */
        "   AND (type <> 'patch' OR request_id IS NULL OR EXISTS (SELECT 1 "
        SEALED_FOR_AGENT("jobs.request_id", "$1::uuid") "))"
        "   ORDER BY run_after, created_at LIMIT 1 FOR UPDATE SKIP LOCKED),"
        " j AS (UPDATE jobs SET state = 'leased', lease_owner = $1::uuid,"
        "   lease_expires_at = now() + make_interval(secs => $4::integer),"
        "   attempts = attempts + 1 FROM c WHERE jobs.id = c.id RETURNING jobs.*)"
        " SELECT (" JOB_OBJECT " || CASE WHEN j.type = 'patch' AND j.request_id IS NOT NULL"
        "   THEN jsonb_build_object('sealed_values', (SELECT coalesce(jsonb_agg("
        "   jsonb_build_object('key', s.key_name, 'box', translate(encode(s.box, 'base64'),"
        "   E'\\n', '')) ORDER BY s.key_name), '[]') "
        SEALED_FOR_AGENT("j.request_id", "$1::uuid") ")) ELSE '{}'::jsonb END)::text FROM j",
        4, p, NULL, 0, json, err);
}

int sb_job_store_lock(sb_db_conn *conn, const char *job_id, sb_job_lock_row *out, sb_error *err)
{
    const char *p[] = {job_id};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT id::text, type, state, connection_id::text,"
                   " coalesce(request_id::text, ''), coalesce(lease_owner::text, ''),"
                   " coalesce(last_outcome, ''), coalesce(last_completed_by::text, ''),"
                   " coalesce(lease_expires_at > now(), false), attempts, max_attempts"
                   " FROM jobs WHERE id = $1::uuid FOR UPDATE",
                   1, p, &res, err) != 0)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 1;
    }
    memset(out, 0, sizeof *out);
    char *fields[] = {out->id,          out->type,         out->state,
                      out->connection_id, out->request_id, out->lease_owner,
                      out->last_outcome, out->last_completed_by};
    size_t caps[] = {sizeof out->id,          sizeof out->type,         sizeof out->state,
                     sizeof out->connection_id, sizeof out->request_id, sizeof out->lease_owner,
                     sizeof out->last_outcome, sizeof out->last_completed_by};
    for (int i = 0; i < 8; i++)
        snprintf(fields[i], caps[i], "%s", PQgetvalue(res, 0, i));
    out->lease_live = PQgetvalue(res, 0, 8)[0] == 't';
    out->attempts = (int)sb_db_cell_i64(res, 0, 9);
    out->max_attempts = (int)sb_db_cell_i64(res, 0, 10);
    PQclear(res);
    return 0;
}

int sb_job_store_renew(sb_db_conn *conn, const char *job_id, int lease_s, char **json,
                       sb_error *err)
{
    const char *p[] = {job_id, SB_DB_INT(lease_s)};
    return sb_store_json_one(conn,
                             "WITH j AS (UPDATE jobs SET lease_expires_at = now() +"
                             " make_interval(secs => $2::integer) WHERE id = $1::uuid"
                             " AND state = 'leased' RETURNING *) SELECT " JOB_JSON " FROM j",
                             2, p, NULL, 0, json, err);
}

int sb_job_store_complete(sb_db_conn *conn, const char *job_id, const char *agent_id,
                          const char *state, const char *outcome, const char *error,
                          int64_t delay_ms, char **json, sb_error *err)
{
    const char *p[] = {job_id, agent_id, state, outcome, error, SB_DB_INT(delay_ms)};
    return sb_store_json_one(
        conn,
        "WITH j AS (UPDATE jobs SET state = $3, lease_owner = NULL, lease_expires_at = NULL,"
        " last_outcome = $4, last_completed_by = $2::uuid, last_error = $5,"
        " run_after = CASE WHEN $3 = 'queued' THEN now() + make_interval(secs => $6::bigint / 1000.0)"
        "             ELSE run_after END,"
        " finished_at = CASE WHEN $3 IN ('succeeded', 'failed') THEN now() END"
        " WHERE id = $1::uuid AND state = 'leased' RETURNING *) SELECT " JOB_JSON " FROM j",
        6, p, NULL, 0, json, err);
}

int sb_job_store_expire_leases(sb_db_conn *conn, long limit, char **json, sb_error *err)
{
    const char *p[] = {SB_DB_INT(limit)};
    return sb_store_json_one(
        conn,
        "WITH d AS (SELECT id FROM jobs WHERE state = 'leased' AND lease_expires_at <= now()"
        "   ORDER BY lease_expires_at LIMIT $1::integer FOR UPDATE SKIP LOCKED),"
        " e AS (UPDATE jobs SET"
        "   state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,"
        "   finished_at = CASE WHEN attempts >= max_attempts THEN now() END,"
        "   lease_owner = NULL, lease_expires_at = NULL, run_after = now(),"
        "   last_error = 'the lease expired before the agent completed the job'"
        "   FROM d WHERE jobs.id = d.id"
        "   RETURNING jobs.id, jobs.type, jobs.state, jobs.connection_id, jobs.request_id)"
        " SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'type', type, 'state', state,"
        " 'connection_id', connection_id, 'request_id', request_id)), '[]')::text FROM e",
        1, p, NULL, 0, json, err);
}

int sb_job_store_get(sb_db_conn *conn, const char *job_id, char **json, sb_error *err)
{
    const char *p[] = {job_id};
    return sb_store_json_one(conn, "SELECT " JOB_JSON " FROM jobs j WHERE j.id = $1::uuid", 1, p,
                             NULL, 0, json, err);
}

int sb_job_store_add_uploaded(sb_db_conn *conn, const char *job_id, int64_t n, sb_error *err)
{
    const char *p[] = {job_id, SB_DB_INT(n)};
    return sb_db_exec_affected(conn,
                               "UPDATE jobs SET items_uploaded = items_uploaded + $2::integer"
                               " WHERE id = $1::uuid",
                               2, p, NULL, err);
}

int sb_job_store_discovery_ended(sb_db_conn *conn, const char *job_id, const char *outcome,
                                 const char *error, sb_error *err)
{
    const char *p[] = {job_id, outcome, error};
    return sb_db_exec_affected(
        conn,
        "UPDATE provider_connections c SET discovery_last_run_at = now(),"
        " discovery_last_outcome = $2, discovery_last_count = j.items_uploaded,"
        " discovery_last_error = $3 FROM jobs j WHERE j.id = $1::uuid AND c.id = j.connection_id",
        3, p, NULL, err);
}
