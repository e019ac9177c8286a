/*
 * test_worker_sweeps.c — the worker's discovery scheduling and catalog
 * missing marks (worker/tasks.h) against the real control plane's
 * database: each provokes its condition, checks the result and the audit
 * event, and checks what must not happen (a second discovery in one
 * interval; a catalog emptied because its agent is down).
 */
#include <stdarg.h>

#include "agent_test_util.h"
#include "worker/tasks.h"

TestSuite(worker_sweeps, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 240);

static size_t run(int (*task)(sb_db *, void *, size_t *, sb_error *), void *ctx)
{
    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(task(sb_api_harness_db(h), ctx, &n, &err), 0, "%s", err.message);
    return n;
}

static void sql_do(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sql_do(const char *fmt, ...)
{
    char q[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(q, sizeof q, fmt, args);
    va_end(args);
    sb_api_harness_sql(h, q, NULL, 0);
}

Test(worker_sweeps, discovery_is_queued_once_per_connection_interval)
{
    request_world();
    long long active = sql_int("SELECT count(*) FROM provider_connections WHERE status = 'active'");
    cr_assert_geq(active, 1);
    cr_assert_eq((long long)run(sb_worker_schedule_discovery, NULL), active);
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs WHERE type = 'discover' AND state = 'queued' "
                         "AND connection_id = '%s'", conn_id),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'job.create' AND "
                         "actor = 'system' AND details->>'scheduled' = 'true' AND "
                         "details->>'connection_id' = '%s'", conn_id),
                 1);
    /* queued: not again */
    cr_assert_eq(run(sb_worker_schedule_discovery, NULL), 0);
    /* succeeded in this interval: not again either */
    sql_do("UPDATE jobs SET state = 'succeeded', finished_at = now() WHERE connection_id = '%s'",
           conn_id);
    cr_assert_eq(run(sb_worker_schedule_discovery, NULL), 0);
    /* a disabled connection is never scheduled */
    sql_do("UPDATE jobs SET created_at = now() - interval '1 day' WHERE connection_id = '%s'",
           conn_id);
    sql_do("UPDATE provider_connections SET status = 'disabled' WHERE id = '%s'", conn_id);
    cr_assert_eq(run(sb_worker_schedule_discovery, NULL), 0);
    /* the next interval: once more */
    sql_do("UPDATE provider_connections SET status = 'active' WHERE id = '%s'", conn_id);
    cr_assert_eq(run(sb_worker_schedule_discovery, NULL), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs WHERE type = 'discover' AND connection_id = '%s'",
                         conn_id),
                 2);
}

Test(worker_sweeps, catalog_rows_unseen_by_a_successful_discovery_become_missing)
{
    request_world(); /* one catalog row, app/db, seen now */
    sql_do("INSERT INTO catalog_secrets (connection_id, secret_ref, last_seen_at) VALUES "
           "('%s', 'app/gone', now() - interval '2 days')",
           conn_id);
    int64_t age_ms = 24LL * 3600 * 1000;
    /* the agent is down: the last successful discovery is older than the row */
    sql_do("UPDATE provider_connections SET discovery_last_outcome = 'succeeded', "
           "discovery_last_run_at = now() - interval '3 days' WHERE id = '%s'",
           conn_id);
    cr_assert_eq(run(sb_worker_mark_catalog_missing, &age_ms), 0);
    /* a failed discovery since proves nothing either */
    sql_do("UPDATE provider_connections SET discovery_last_outcome = 'failed_retryable', "
           "discovery_last_run_at = now() WHERE id = '%s'",
           conn_id);
    cr_assert_eq(run(sb_worker_mark_catalog_missing, &age_ms), 0);
    /* a successful one that did not see it: missing, audited; the fresh row stays */
    sql_do("UPDATE provider_connections SET discovery_last_outcome = 'succeeded' WHERE id = '%s'",
           conn_id);
    cr_assert_eq(run(sb_worker_mark_catalog_missing, &age_ms), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = 'app/gone' AND "
                         "status = 'missing'"),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = 'app/db' AND "
                         "status = 'present'"),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'catalog_secret.missing' "
                         "AND actor = 'system' AND details->>'secret_ref' = 'app/gone'"),
                 1);
    cr_assert_eq(run(sb_worker_mark_catalog_missing, &age_ms), 0);
    /* without its age the task refuses to guess */
    size_t n;
    sb_error err = {0};
    cr_assert_eq(sb_worker_mark_catalog_missing(sb_api_harness_db(h), NULL, &n, &err), -1);
}

/* expire_wraps on the patch side: expired sealed values are deleted (the
 * ciphertext goes), audited per request; fresh ones stay. */
Test(worker_sweeps, expired_sealed_patch_values_are_deleted_and_audited)
{
    request_world();
    char sealed[2048], old_id[40], fresh_id[40];
    sb_api_response r;
    sealed_values("user", "s3cret-value", sealed, sizeof sealed);
    cr_assert_eq(submit(dev, "patch", bind_dev, sealed, &r), 201, "%s", r.body);
    snprintf(old_id, sizeof old_id, "%s", jstr(&r, "id"));
    sb_api_response_free(&r);
    sealed_values("user", "other-value", sealed, sizeof sealed);
    cr_assert_eq(submit(dev, "patch", bind_dev, sealed, &r), 201, "%s", r.body);
    snprintf(fresh_id, sizeof fresh_id, "%s", jstr(&r, "id"));
    sb_api_response_free(&r);
    long long boxes = sql_int("SELECT count(*) FROM request_sealed_values WHERE request_id = '%s'",
                              old_id);
    cr_assert_geq(boxes, 1);
    sql_do("UPDATE request_sealed_values SET expires_at = now() - interval '1 second' "
           "WHERE request_id = '%s'",
           old_id);
    cr_assert_eq((long long)run(sb_worker_purge_wraps, NULL), boxes);
    cr_assert_eq(sql_int("SELECT count(*) FROM request_sealed_values WHERE request_id = '%s'",
                         old_id),
                 0);
    cr_assert_geq(sql_int("SELECT count(*) FROM request_sealed_values WHERE request_id = '%s'",
                          fresh_id),
                  1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = "
                         "'request.sealed_values_purge' AND resource = 'request:%s' AND "
                         "(details->>'boxes')::int = %lld",
                         old_id, boxes),
                 1);
    cr_assert_eq(audit_rows("request.sealed_values_purge", "request", fresh_id), 0);
    cr_assert_eq(run(sb_worker_purge_wraps, NULL), 0);
}
