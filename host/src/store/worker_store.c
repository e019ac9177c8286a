/* store/worker_store.c — see worker_store.h. */
#include "store/worker_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_json.h"

int sb_worker_store_claim(sb_db_conn *conn, const char *task, int64_t interval_ms,
                          const char *runner, bool *due, int64_t *wait_ms, sb_error *err)
{
    const char *p[] = {task, SB_DB_INT(interval_ms), runner};
    *due = false;
    if (sb_db_exec_affected(conn,
                            "INSERT INTO worker_tasks (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
                            1, p, NULL, err) != 0)
        return -1;
    char cell[48] = "";
    int rc = sb_store_json_one(
        conn,
        "WITH u AS (UPDATE worker_tasks SET next_run_at = now() + make_interval(secs =>"
        " $2::bigint / 1000.0), last_started_at = now(), runs = runs + 1,"
        " last_runner = left($3, 128) WHERE name = $1 AND next_run_at <= now()"
        " RETURNING next_run_at)"
        " SELECT (SELECT count(*) FROM u) || ' ' || greatest(0, (extract(epoch FROM"
        " coalesce((SELECT next_run_at FROM u), (SELECT next_run_at FROM worker_tasks"
        " WHERE name = $1)) - now()) * 1000)::bigint)",
        3, p, cell, sizeof cell, NULL, err);
    long long claimed = 0, wait = 0;
    if (rc == 0 && sscanf(cell, "%lld %lld", &claimed, &wait) != 2)
        return sb_error_set(err, SB_DB_E_QUERY, "worker task %s: unreadable claim", task);
    if (rc != 0)
        return rc < 0 ? -1 : sb_error_set(err, SB_DB_E_QUERY, "worker task %s: no claim", task);
    *due = claimed == 1;
    if (wait_ms)
        *wait_ms = wait;
    return 0;
}

int sb_worker_store_finish(sb_db_conn *conn, const char *task, bool succeeded, const char *error,
                           const sb_worker_backoff *backoff, int *consecutive_failures,
                           int64_t *next_in_ms, sb_error *err)
{
    const char *p[] = {task, succeeded ? "succeeded" : "failed", succeeded ? NULL : error,
                       SB_DB_INT(backoff->interval_ms), SB_DB_INT(backoff->max_backoff_ms),
                       SB_DB_INT(backoff->jitter_permille)};
    char *json = NULL;
    int rc = sb_store_json_one(
        conn,
        "WITH u AS (UPDATE worker_tasks SET last_finished_at = now(), last_outcome = $2,"
        " last_error = left($3, 500),"
        " consecutive_failures = CASE WHEN $2 = 'failed' THEN consecutive_failures + 1 ELSE 0 END,"
        " next_run_at = CASE WHEN $2 = 'failed' THEN now() + make_interval(secs =>"
        " least($4::bigint * power(2, least(consecutive_failures + 1, 30)), $5::bigint)"
        " * (1000 + $6::integer) / 1000000.0) ELSE next_run_at END"
        " WHERE name = $1 RETURNING consecutive_failures, next_run_at)"
        " SELECT consecutive_failures || ' ' || greatest(0, (extract(epoch FROM next_run_at - now())"
        " * 1000)::bigint) FROM u",
        6, p, NULL, 0, &json, err);
    long long failures = 0, next = 0;
    if (rc == 0 && sscanf(json, "%lld %lld", &failures, &next) != 2)
        rc = sb_error_set(err, SB_DB_E_QUERY, "worker task %s: unreadable run record", task);
    free(json);
    if (consecutive_failures)
        *consecutive_failures = (int)failures;
    if (next_in_ms)
        *next_in_ms = next;
    if (rc == 1)
        return sb_error_set(err, SB_DB_E_QUERY, "worker task %s has no row to record its run in",
                            task);
    return rc;
}

int sb_worker_store_due_now(sb_db_conn *conn, const char *task, sb_error *err)
{
    const char *p[] = {task};
    return sb_db_exec_affected(conn,
                               "INSERT INTO worker_tasks (name) VALUES ($1) ON CONFLICT (name)"
                               " DO UPDATE SET next_run_at = now()",
                               1, p, NULL, err);
}

int sb_worker_store_mark_stale_agents(sb_db_conn *conn, int64_t stale_after_s, long limit,
                                      char **json, sb_error *err)
{
    const char *p[] = {SB_DB_INT(stale_after_s), SB_DB_INT(limit > 0 ? limit : 100)};
    return sb_store_json_one(
        conn,
        "WITH d AS (SELECT id FROM agents WHERE status = 'active'"
        " AND coalesce(last_heartbeat_at, created_at) < now() - make_interval(secs => $1::bigint)"
        " ORDER BY last_heartbeat_at LIMIT $2::integer FOR UPDATE SKIP LOCKED),"
        " u AS (UPDATE agents a SET status = 'stale' FROM d WHERE a.id = d.id"
        " RETURNING a.id, a.connection_id, a.last_heartbeat_at)"
        " SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'connection_id', connection_id,"
        " 'last_heartbeat_at', last_heartbeat_at) ORDER BY id), '[]')::text FROM u",
        2, p, NULL, 0, json, err);
}

int sb_worker_store_purge_wraps(sb_db_conn *conn, long limit, char **json, sb_error *err)
{
    const char *p[] = {SB_DB_INT(limit > 0 ? limit : 100)};
    return sb_store_json_one(
        conn,
        "WITH dw AS (SELECT id FROM secret_wraps WHERE consumed_at IS NULL AND purged_at IS NULL"
        " AND expires_at <= now() ORDER BY expires_at LIMIT $1::integer FOR UPDATE SKIP LOCKED),"
        " w AS (UPDATE secret_wraps s SET box = NULL, purged_at = now() FROM dw WHERE s.id = dw.id"
        " RETURNING s.id, s.request_id),"
        " ds AS (SELECT request_id, key_name, recipient FROM request_sealed_values"
        " WHERE expires_at <= now() ORDER BY expires_at LIMIT $1::integer FOR UPDATE SKIP LOCKED),"
        " s AS (DELETE FROM request_sealed_values v USING ds WHERE v.request_id = ds.request_id"
        " AND v.key_name = ds.key_name AND v.recipient = ds.recipient RETURNING v.request_id)"
        " SELECT jsonb_build_object("
        " 'wraps', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'request_id',"
        " request_id) ORDER BY id), '[]') FROM w),"
        " 'sealed', (SELECT coalesce(jsonb_agg(jsonb_build_object('request_id', request_id,"
        " 'n', n) ORDER BY request_id), '[]') FROM (SELECT request_id, count(*) AS n FROM s"
        " GROUP BY request_id) g))::text",
        1, p, NULL, 0, json, err);
}

int sb_worker_store_due_discoveries(sb_db_conn *conn, long limit, char **json, sb_error *err)
{
    const char *p[] = {SB_DB_INT(limit > 0 ? limit : 100)};
    return sb_store_json_one(
        conn,
        "WITH d AS (SELECT c.id FROM provider_connections c WHERE c.status = 'active'"
        " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.connection_id = c.id AND j.type = 'discover'"
        "   AND (j.state IN ('queued', 'leased') OR j.created_at > now() - make_interval(secs =>"
        "   c.discovery_interval_s)))"
        " ORDER BY c.discovery_last_run_at NULLS FIRST, c.id LIMIT $1::integer"
        " FOR UPDATE OF c SKIP LOCKED)"
        " SELECT coalesce(jsonb_agg(jsonb_build_object('id', id) ORDER BY id), '[]')::text FROM d",
        1, p, NULL, 0, json, err);
}

int sb_worker_store_mark_catalog_missing(sb_db_conn *conn, int64_t missing_after_s, long limit,
                                         char **json, sb_error *err)
{
    const char *p[] = {SB_DB_INT(missing_after_s), SB_DB_INT(limit > 0 ? limit : 100)};
    return sb_store_json_one(
        conn,
        "WITH d AS (SELECT s.id FROM catalog_secrets s JOIN provider_connections c"
        " ON c.id = s.connection_id WHERE s.status = 'present'"
        " AND s.last_seen_at < now() - make_interval(secs => $1::bigint)"
        " AND c.discovery_last_outcome = 'succeeded' AND c.discovery_last_run_at > s.last_seen_at"
        " ORDER BY s.last_seen_at LIMIT $2::integer FOR UPDATE OF s SKIP LOCKED),"
        " u AS (UPDATE catalog_secrets s SET status = 'missing' FROM d WHERE s.id = d.id"
        " RETURNING s.id, s.connection_id, s.secret_ref)"
        " SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'connection_id', connection_id,"
        " 'secret_ref', secret_ref) ORDER BY id), '[]')::text FROM u",
        2, p, NULL, 0, json, err);
}
