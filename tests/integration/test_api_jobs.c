/*
 * test_api_jobs.c — the job queue of the agent protocol through the real
 * control plane (PostgreSQL + HTTP on loopback): a job created by the
 * approval, claimed once by concurrent agents of its connection and never
 * by another connection's; long-poll claims woken by the approval (also
 * across two server instances on one database) or answered 204; leases,
 * renewals, expiry and the sweep; completion only from the holder,
 * idempotent on repeat, retries with backoff, permanent failures failing
 * the request; unknown job types failed; steering payloads refused.
 */
#include "agent_test_util.h"

TestSuite(jobs, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 240);

static char conn_b[40];

static void second_connection(void)
{
    sb_api_response r;
    cr_assert_eq(callf(admin, "POST", "/api/v1/provider-connections", &r,
                       "{\"name\":\"vault-b\",\"type\":\"vault\",\"scope\":{\"address\":"
                       "\"https://vault-b.internal:8200\",\"mount\":\"kv\"}}"),
                 201, "%s", r.body);
    id_of(&r, conn_b);
}

typedef struct claimer {
    sb_api_harness *on;
    const test_agent *agent;
    const char *suffix;
    long status;
    char job[40];
    int64_t done_ms;
} claimer;

static void *claim_thread(void *p)
{
    claimer *c = p;
    sb_api_response r;
    c->status = agent_call_on(c->on, c->agent, c->suffix, NULL, &r);
    if (c->status == 200)
        snprintf(c->job, sizeof c->job, "%s", jstr(&r, "id"));
    sb_api_response_free(&r);
    c->done_ms = mono_ms();
    return NULL;
}

Test(jobs, approval_queues_one_job_that_concurrent_agents_of_its_connection_claim_once)
{
    request_world();
    second_connection();
    test_agent a, b, foreign;
    enroll(conn_id, "vault-a", "agent-a", &a);
    enroll(conn_id, "vault-a", "agent-b", &b);
    enroll(conn_b, "vault-b", "agent-other", &foreign);
    char req_id[40], job[40];
    approved_read(req_id);
    job_of(req_id, job);
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'queued' AND type = "
                         "'read' AND connection_id = '%s' AND payload->>'request_id' = '%s'",
                         job, conn_id, req_id),
                 1);
    cr_assert_eq(audit_rows("job.create", "job", job), 1);
    /* another connection's agent never sees it */
    cr_assert_eq(agent_call(&foreign, "/jobs/claim", NULL, NULL), 204);

    claimer ca = {h, &a, "/jobs/claim", 0, "", 0}, cb = {h, &b, "/jobs/claim", 0, "", 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, claim_thread, &ca);
    pthread_create(&tb, NULL, claim_thread, &cb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert((ca.status == 200) != (cb.status == 200), "exactly one winner: %ld %ld", ca.status,
              cb.status);
    cr_assert_eq(ca.status == 200 ? cb.status : ca.status, 204);
    cr_assert_str_eq(ca.status == 200 ? ca.job : cb.job, job);
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs WHERE state = 'leased' AND attempts = 1"), 1);
    cr_assert_eq(audit_rows("job.claim", "job", job), 1);
    cr_assert_eq(agent_call(&foreign, "/jobs/claim", NULL, NULL), 204);
    /* the foreign connection's agent cannot touch it either */
    sb_api_response r;
    expect_error(complete(&foreign, job, "succeeded", &r), &r, 404, "not_found");
}

Test(jobs, a_long_poll_started_before_the_approval_returns_the_job_promptly)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    char req_id[40];
    submit_read(req_id);
    claimer c = {h, &a, "/jobs/claim?wait=20s", 0, "", 0};
    pthread_t t;
    pthread_create(&t, NULL, claim_thread, &c);
    /* parked: the hub's LISTEN connection exists (poll with a deadline) */
    int64_t deadline = mono_ms() + 5000;
    while (sql_int("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%%sb_jobs%%'") < 1)
        cr_assert_lt(mono_ms(), deadline, "the claim never parked");
    cr_assert_eq(c.done_ms, 0, "the claim waits while nothing is queued");
    sb_api_response r;
    int64_t approved_at = mono_ms();
    cr_assert_eq(act(ap[0], req_id, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    pthread_join(t, NULL);
    cr_assert_eq(c.status, 200);
    cr_assert_lt(c.done_ms - approved_at, 1000, "woken after %lld ms",
                 (long long)(c.done_ms - approved_at));
}

Test(jobs, a_long_poll_with_nothing_to_do_answers_204_at_its_deadline)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    int64_t t0 = mono_ms();
    cr_assert_eq(agent_call(&a, "/jobs/claim?wait=300ms", NULL, NULL), 204);
    int64_t took = mono_ms() - t0;
    cr_assert_geq(took, 290, "answered after %lld ms", (long long)took);
    cr_assert_lt(took, 3000, "answered after %lld ms", (long long)took);
    sb_api_response r;
    expect_error(agent_call(&a, "/jobs/claim?wait=soon", NULL, &r), &r, 400, "invalid_query");
}

Test(jobs, an_approval_through_one_server_wakes_a_long_poll_on_another)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    sb_api_harness *peer;
    cr_assert_eq(sb_api_harness_start_peer(h, &peer), 0);
    char req_id[40];
    submit_read(req_id);
    claimer c = {peer, &a, "/jobs/claim?wait=20s", 0, "", 0};
    pthread_t t;
    pthread_create(&t, NULL, claim_thread, &c);
    int64_t deadline = mono_ms() + 5000;
    while (sql_int("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%%sb_jobs%%'") < 1)
        cr_assert_lt(mono_ms(), deadline, "the claim never parked on the peer");
    sb_api_response r;
    int64_t approved_at = mono_ms();
    cr_assert_eq(act(ap[0], req_id, "approve", "{}", &r), 200, "%s", r.body); /* through h */
    sb_api_response_free(&r);
    pthread_join(t, NULL);
    cr_assert_eq(c.status, 200);
    cr_assert_lt(c.done_ms - approved_at, 1000, "woken after %lld ms",
                 (long long)(c.done_ms - approved_at));
    sb_api_harness_stop(peer);
}

Test(jobs, leases_renew_expire_and_the_sweep_hands_the_job_to_another_agent)
{
    request_world();
    test_agent a, b;
    enroll(conn_id, "vault-a", "agent-a", &a);
    enroll(conn_id, "vault-a", "agent-b", &b);
    char req_id[40], job[40], suffix[128];
    approved_read(req_id);
    job_of(req_id, job);
    sb_api_response r;
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, &r), 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "lease_seconds")), 30);
    sb_api_response_free(&r);
    snprintf(suffix, sizeof suffix, "/jobs/%s/renew", job);
    cr_assert_eq(agent_call(&a, suffix, NULL, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(audit_rows("job.renew", "job", job), 1);
    expect_error(agent_call(&b, suffix, NULL, &r), &r, 409, "not_lease_holder");
    /* completion from a non-holder is refused and changes nothing */
    expect_error(complete(&b, job, "succeeded", &r), &r, 409, "not_lease_holder");
    expect_state(req_id, "approved");

    /* the lease runs out (moved into the past: no waiting) */
    sb_api_harness_sql(h, "UPDATE jobs SET lease_expires_at = now() - interval '1 second'", NULL, 0);
    expect_error(agent_call(&a, suffix, NULL, &r), &r, 409, "lease_expired");
    expect_error(complete(&a, job, "succeeded", &r), &r, 409, "lease_expired");
    cr_assert_eq(agent_call(&b, "/jobs/claim", NULL, NULL), 204, "still leased until the sweep");
    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(sb_job_sweep_leases(sb_api_harness_db(h), 100, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 1);
    cr_assert_eq(audit_rows("job.lease_expired", "job", job), 1);
    cr_assert_eq(agent_call(&b, "/jobs/claim", NULL, &r), 200, "%s", r.body);
    cr_assert_str_eq(jstr(&r, "id"), job);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "attempts")), 2);
    sb_api_response_free(&r);
    /* a's late completion is refused; b completes */
    expect_error(complete(&a, job, "succeeded", &r), &r, 409, "not_lease_holder");
    cr_assert_eq(complete(&b, job, "succeeded", &r), 200, "%s", r.body);
    cr_assert_str_eq(jstr(&r, "state"), "succeeded");
    sb_api_response_free(&r);
    expect_state(req_id, "executed");
    /* an exhausted lease fails the job and its request */
    char req2[40], job2[40];
    approved_read(req2);
    job_of(req2, job2);
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, NULL), 200);
    char q[256];
    snprintf(q, sizeof q,
             "UPDATE jobs SET lease_expires_at = now() - interval '1 second', attempts = max_attempts "
             "WHERE id = '%s'",
             job2);
    sb_api_harness_sql(h, q, NULL, 0);
    cr_assert_eq(sb_job_sweep_leases(sb_api_harness_db(h), 100, &n, &err), 0, "%s", err.message);
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'failed'", job2), 1);
    expect_state(req2, "failed");
}

Test(jobs, completion_is_idempotent_retries_back_off_and_permanent_failures_fail_the_request)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    char req_id[40], job[40];
    approved_read(req_id);
    job_of(req_id, job);
    sb_api_response r;
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, NULL), 200);
    /* retryable: re-queued with run_after in the future, lease gone */
    cr_assert_eq(complete(&a, job, "failed_retryable", &r), 200, "%s", r.body);
    cr_assert_str_eq(jstr(&r, "state"), "queued");
    cr_assert(json_is_false(json_object_get(r.json, "repeat")));
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs WHERE id = '%s' AND run_after > now() + "
                         "interval '900 milliseconds' AND run_after <= now() + interval '3 seconds' "
                         "AND lease_owner IS NULL",
                         job),
                 1);
    expect_state(req_id, "approved");
    /* the exact repeat: 200, nothing changes; a different outcome: refused */
    long long events = sql_int("SELECT count(*) FROM audit_events");
    cr_assert_eq(complete(&a, job, "failed_retryable", &r), 200, "%s", r.body);
    cr_assert(json_is_true(json_object_get(r.json, "repeat")));
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events"), events);
    expect_error(complete(&a, job, "succeeded", &r), &r, 409, "not_lease_holder");
    /* not claimable before run_after */
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, NULL), 204);
    sb_api_harness_sql(h, "UPDATE jobs SET run_after = now()", NULL, 0);
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, NULL), 200);
    cr_assert_eq(complete(&a, job, "failed_permanent", &r), 200, "%s", r.body);
    cr_assert_str_eq(jstr(&r, "state"), "failed");
    sb_api_response_free(&r);
    expect_state(req_id, "failed");
    cr_assert_eq(complete(&a, job, "failed_permanent", &r), 200);
    cr_assert(json_is_true(json_object_get(r.json, "repeat")));
    sb_api_response_free(&r);
    expect_error(complete(&a, job, "bogus", &r), &r, 400, "invalid_field");

    /* succeeded twice: one execution */
    char req2[40], job2[40];
    approved_read(req2);
    job_of(req2, job2);
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, NULL), 200);
    cr_assert_eq(complete(&a, job2, "succeeded", NULL), 200);
    cr_assert_eq(complete(&a, job2, "succeeded", &r), 200);
    cr_assert(json_is_true(json_object_get(r.json, "repeat")));
    sb_api_response_free(&r);
    expect_state(req2, "executed");
    cr_assert_eq(audit_rows("request.execute", "request", req2), 1);

    /* retryable at the last attempt fails */
    char req3[40], job3[40], q[160];
    approved_read(req3);
    job_of(req3, job3);
    snprintf(q, sizeof q, "UPDATE jobs SET max_attempts = 1 WHERE id = '%s'", job3);
    sb_api_harness_sql(h, q, NULL, 0);
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, NULL), 200);
    cr_assert_eq(complete(&a, job3, "failed_retryable", &r), 200);
    cr_assert_str_eq(jstr(&r, "state"), "failed");
    sb_api_response_free(&r);
    expect_state(req3, "failed");
}

Test(jobs, unknown_job_types_fail_instead_of_being_handed_out)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    char q[256], job[40];
    snprintf(q, sizeof q, "INSERT INTO jobs (type, connection_id) VALUES ('sync', '%s') RETURNING id",
             conn_id);
    cr_assert_eq(sb_api_harness_sql(h, q, job, sizeof job), 1);
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, NULL), 204);
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'failed' AND "
                         "last_error LIKE 'unknown job type sync%%'",
                         job),
                 1);
    cr_assert_eq(audit_rows("job.fail", "job", job), 1);
}

Test(jobs, a_payload_that_would_steer_the_connection_is_refused_and_audited)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    const char *steering[] = {"{\"payload\":{\"address\":\"https://evil:8200\"}}",
                              "{\"payload\":{\"selector\":{\"region\":\"us-east-1\"}}}",
                              "{\"payload\":{\"items\":[{\"kv_mount\":\"foreign\"}]}}",
                              "{\"payload\":{\"Token\":\"x\"}}"};
    sb_api_response r;
    for (size_t i = 0; i < 4; i++)
        expect_error(callf(admin, "POST",
                           path3("/api/v1/provider-connections/", conn_id, "/discover-jobs"), &r,
                           "%s", steering[i]),
                     &r, 422, "connection_steering_refused");
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs"), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'job.create' AND outcome "
                         "= 'denied'"),
                 4);
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/provider-connections/", conn_id, "/discover-jobs"),
                       &r, "{\"payload\":{\"prefix\":\"app/\"}}"),
                 201, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(agent_call(&a, "/jobs/claim", NULL, &r), 200);
    cr_assert_str_eq(jstr(&r, "type"), "discover");
    sb_api_response_free(&r);
    expect_error(callf(dev, "POST", path3("/api/v1/provider-connections/", conn_id, "/discover-jobs"),
                       &r, "{}"),
                 &r, 403, "forbidden");
}
