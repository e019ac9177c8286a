/*
 * test_agent_runtime.c — the agent executable (sbridge-agent) against the
 * real control plane (PostgreSQL + HTTP on loopback): enrollment on first
 * start writes a 0600 identity file in a 0700 directory and a second start
 * reuses it; a wider identity directory is refused before the token is
 * spent; heartbeats make the agent active; a read is executed through the
 * example plugin's demo provider, sealed and revealed once (a missing key
 * fails it); a job the agent cannot execute is completed as failed (never
 * success), a steering payload is refused;
 * a revoked agent stops with exit status 3; SIGTERM drains (a parked
 * long-poll is cancelled) and exits 0; a control-plane restart during the
 * long-polls is survived; the health endpoints answer on loopback; no token
 * or credential reaches the log.
 */
#include "agent_process.h"
#include "agent_test_util.h"

static agent_proc p;

/* A failed assertion ends the test early: never leave the agent running.
 * KEEP_AGENT_LOG=FILE keeps the agent's log of the last test (debugging). */
static void teardown(void)
{
    const char *keep = getenv("KEEP_AGENT_LOG");
    if (keep && p.dir[0]) {
        char cmd[800];
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", p.log, keep);
        if (system(cmd) != 0)
            fprintf(stderr, "could not keep the agent log\n");
    }
    if (p.dir[0])
        agent_proc_cleanup(&p);
    tenancy_teardown();
}

TestSuite(agent_runtime, .init = tenancy_setup, .fini = teardown, .timeout = 240);

static void start_world(void) { request_world(); }

/* GET /api/v1/agents/{id} as admin: its status into out. */
static void agent_status(const char *id, char *out, size_t cap)
{
    sb_api_response r;
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/agents/", id, ""), &r, NULL), 200);
    snprintf(out, cap, "%s", jstr(&r, "status"));
    sb_api_response_free(&r);
}

static int poll_sql(long long want, int64_t ms, const char *q)
{
    int64_t until = ap_now_ms() + ap_work_deadline_ms(ms);
    do {
        if (sql_int("%s", q) == want)
            return 1;
        ap_pause();
    } while (ap_now_ms() < until);
    return 0;
}

/* The agent id from the identity file (it must be there). */
static void identity_agent_id(char *id, size_t cap, char *credential, size_t cred_cap)
{
    json_error_t e;
    json_t *j = json_load_file(p.id_file, 0, &e);
    cr_assert_not_null(j, "identity file %s: %s", p.id_file, e.text);
    snprintf(id, cap, "%s", json_string_value(json_object_get(j, "agent_id")));
    snprintf(credential, cred_cap, "%s", json_string_value(json_object_get(j, "credential")));
    cr_assert_not_null(json_object_get(j, "private_key"));
    json_decref(j);
}

static void stop_and_expect(int want)
{
    cr_assert_eq(kill(p.pid, SIGTERM), 0);
    cr_assert(agent_proc_wait(&p, 10000), "the agent did not exit within 10 s of SIGTERM");
    cr_assert_eq(p.exit_status, want, "exit status %d", p.exit_status);
}

Test(agent_runtime, first_start_enrolls_and_writes_a_private_identity_that_the_next_start_reuses)
{
    start_world();
    char token[128];
    mint(conn_id, token, sizeof token, NULL);
    agent_proc_prepare(&p, sb_api_harness_base_url(h), "vault-a", 0, NULL);
    agent_proc_start(&p, token);
    cr_assert(agent_proc_health_is(&p, "/readyz", 200, 15000), "never ready");
    struct stat st;
    cr_assert_eq(stat(p.id_file, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "identity file mode %o", st.st_mode & 0777);
    cr_assert_eq(stat(p.id_dir, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700, "identity dir mode %o", st.st_mode & 0777);
    char id[64], cred[200], status[32];
    identity_agent_id(id, sizeof id, cred, sizeof cred);
    cr_assert_eq(sql_int("SELECT count(*) FROM agents WHERE id = '%s' AND name = 'agent-under-test'", id), 1);
    /* heartbeats make it active, with its version and health */
    char q[256];
    snprintf(q, sizeof q, "SELECT count(*) FROM agents WHERE id = '%s' AND last_heartbeat_at IS NOT NULL", id);
    cr_assert(poll_sql(1, 10000, q), "no heartbeat reached the control plane");
    agent_status(id, status, sizeof status);
    cr_assert_str_eq(status, "active");
    /* health endpoints on loopback */
    char body[4096];
    cr_assert_eq(agent_proc_health(&p, "/healthz", body), 200);
    cr_assert_eq(agent_proc_health(&p, "/metrics", body), 200);
    cr_assert(strstr(body, "sbridge_agent_control_plane_up 1") != NULL, "%s", body);
    stop_and_expect(0);
    cr_assert(agent_proc_health(&p, "/healthz", body) == 0, "the health endpoint outlived the agent");

    /* the second start reuses the identity: no token, no new agent */
    agent_proc_start(&p, NULL);
    cr_assert(agent_proc_health_is(&p, "/readyz", 200, 15000), "second start never ready");
    cr_assert(agent_proc_log_has(&p, "loaded: agent", 1000));
    cr_assert_eq(sql_int("SELECT count(*) FROM agents"), 1);
    stop_and_expect(0);
    char *log = agent_proc_log(&p);
    cr_assert(strstr(log, token) == NULL, "the enrollment token is in the log");
    cr_assert(strstr(log, strchr(cred, '.') + 1) == NULL, "the agent secret is in the log");
    free(log);

    /* an identity file readable by others is refused, with the fix */
    cr_assert_eq(chmod(p.id_file, 0644), 0);
    agent_proc_start(&p, NULL);
    cr_assert(agent_proc_wait(&p, 10000), "the agent ran with a 0644 identity file");
    cr_assert_eq(p.exit_status, 1);
    char needle[400];
    snprintf(needle, sizeof needle, "identity file %s has mode 0644", p.id_file);
    cr_assert(agent_proc_log_has(&p, needle, 0));
    cr_assert(agent_proc_log_has(&p, "chmod 600", 0));
}

Test(agent_runtime, a_wider_identity_directory_is_refused_before_the_token_is_spent)
{
    start_world();
    char token[128];
    mint(conn_id, token, sizeof token, NULL);
    agent_proc_prepare(&p, sb_api_harness_base_url(h), "vault-a", 0755, NULL);
    agent_proc_start(&p, token);
    cr_assert(agent_proc_wait(&p, 10000), "the agent kept running with a 0755 identity directory");
    cr_assert_eq(p.exit_status, 1);
    char needle[400];
    snprintf(needle, sizeof needle, "identity directory %s has mode 0755", p.id_dir);
    cr_assert(agent_proc_log_has(&p, needle, 0), "no clear refusal naming the path and mode");
    cr_assert(agent_proc_log_has(&p, "chmod 700", 0), "the refusal does not say how to fix it");
    cr_assert_eq(sql_int("SELECT count(*) FROM agents"), 0);
    /* the token is still good */
    char key[64];
    fresh_key(key, sizeof key);
    sb_api_response r;
    cr_assert_eq(enroll_raw(token, "vault-a", "agent-after", key, &r), 201, "%s", r.body);
    sb_api_response_free(&r);
}

Test(agent_runtime, jobs_the_agent_cannot_execute_fail_and_a_steering_payload_is_refused)
{
    start_world();
    char token[128];
    mint(conn_id, token, sizeof token, NULL);
    agent_proc_prepare(&p, sb_api_harness_base_url(h), "vault-a", 0, NULL);
    agent_proc_start(&p, token);
    cr_assert(agent_proc_health_is(&p, "/readyz", 200, 15000), "never ready");
    char req[40], job[40], q[400];
    /* a patch job on an agent without a provider for the connection (put in the
     * table behind the API's back); a type without an executor is the unit
     * test's (the CP hands out no such type) */
    snprintf(q, sizeof q,
             "INSERT INTO jobs (type, connection_id, payload) VALUES ('patch', '%s', "
             "'{\"secret_ref\":\"app/db\",\"keys\":[\"user\"]}') RETURNING id",
             conn_id);
    cr_assert_eq(sb_api_harness_sql(h, q, job, sizeof job), 1);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'failed' AND last_outcome = "
             "'failed_permanent' AND last_error LIKE 'no started provider instance%%'",
             job);
    cr_assert(poll_sql(1, 15000, q), "the agent did not fail the job it cannot execute");
    /* a read on an agent with no provider instance for the connection */
    approved_read(req);
    job_of(req, job);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'failed' AND last_error LIKE "
             "'no started provider instance%%'",
             job);
    cr_assert(poll_sql(1, 15000, q), "a read without a provider instance was not failed");
    expect_state(req, "failed");
    /* a payload that would steer the connection (put in the table behind the API's back) */
    char steer[40];
    snprintf(q, sizeof q,
             "INSERT INTO jobs (type, connection_id, payload) VALUES ('discover', '%s', "
             "'{\"prefix\":\"app/\",\"selector\":{\"kv_mount\":\"foreign\"}}') RETURNING id",
             conn_id);
    cr_assert_eq(sb_api_harness_sql(h, q, steer, sizeof steer), 1);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'failed' AND last_error LIKE "
             "'refused: payload field /selector/kv_mount%%'",
             steer);
    cr_assert(poll_sql(1, 15000, q), "the agent did not refuse the steering payload");
    cr_assert_eq(sql_int("SELECT count(*) FROM jobs WHERE state = 'succeeded'"), 0);
    char body[4096];
    cr_assert_eq(agent_proc_health(&p, "/metrics", body), 200);
    /* patch and read: no provider; discover: the steering refusal.
     * The counters move after the CP answers the completion: poll them. */
    int64_t until = ap_now_ms() + 10000;
    int counted = 0;
    while (!counted && ap_now_ms() < until) {
        cr_assert_eq(agent_proc_health(&p, "/metrics", body), 200);
        counted = strstr(body, "sbridge_agent_jobs_total{type=\"patch\",outcome=\"failed_permanent\"} 1") &&
                  strstr(body, "sbridge_agent_jobs_total{type=\"discover\",outcome=\"failed_permanent\"} 1") &&
                  strstr(body, "sbridge_agent_jobs_total{type=\"read\",outcome=\"failed_permanent\"} 1");
        if (!counted)
            ap_pause();
    }
    cr_assert(counted, "%s", body);
    stop_and_expect(0);
}

Test(agent_runtime, a_revoked_agent_stops_with_status_3)
{
    start_world();
    char token[128];
    mint(conn_id, token, sizeof token, NULL);
    agent_proc_prepare(&p, sb_api_harness_base_url(h), "vault-a", 0, NULL);
    agent_proc_start(&p, token);
    cr_assert(agent_proc_health_is(&p, "/readyz", 200, 15000), "never ready");
    char id[64], cred[200];
    identity_agent_id(id, sizeof id, cred, sizeof cred);
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/agents/", id, "/revoke"), NULL, "{}"), 200);
    cr_assert(agent_proc_wait(&p, 15000), "a revoked agent kept running");
    cr_assert_eq(p.exit_status, 3);
    cr_assert(agent_proc_log_has(&p, "revoked agent", 0), "no clear message about the revocation");
}

Test(agent_runtime, sigterm_cancels_a_parked_claim_and_exits_0_at_once)
{
    start_world();
    char token[128];
    mint(conn_id, token, sizeof token, NULL);
    /* a long claim wait: the drain must not wait for it */
    agent_proc_prepare(&p, sb_api_harness_base_url(h), "vault-a", 0, "25s");
    agent_proc_start(&p, token);
    cr_assert(agent_proc_health_is(&p, "/readyz", 200, 15000), "never ready");
    cr_assert(agent_proc_log_has(&p, "claim wait 25000 ms", 2000));
    int64_t t0 = ap_now_ms();
    cr_assert_eq(kill(p.pid, SIGTERM), 0);
    cr_assert(agent_proc_wait(&p, 10000), "no exit after SIGTERM");
    cr_assert_eq(p.exit_status, 0);
    cr_assert_lt(ap_now_ms() - t0, 5000, "the drain waited for the parked long-poll");
    cr_assert(agent_proc_log_has(&p, "SIGTERM: draining", 0));
}

Test(agent_runtime, a_control_plane_restart_during_a_long_poll_is_survived)
{
    start_world();
    char token[128];
    mint(conn_id, token, sizeof token, NULL);
    agent_proc_prepare(&p, sb_api_harness_base_url(h), "vault-a", 0, "20s");
    agent_proc_start(&p, token);
    cr_assert(agent_proc_health_is(&p, "/readyz", 200, 15000), "never ready");
    cr_assert(agent_proc_log_has(&p, "claim wait 20000 ms", 2000));
    /* the workers are parked in 20 s long-polls now */
    cr_assert_eq(sb_api_harness_restart_http(h), 0);
    /* both parked claims saw the stop (answered early or cut off) */
    int64_t until = ap_now_ms() + 10000;
    int seen = 0;
    while (!seen && ap_now_ms() < until) {
        char *log = agent_proc_log(&p);
        seen = (strstr(log, "worker 0: claim") != NULL) + (strstr(log, "worker 1: claim") != NULL) == 2;
        free(log);
        if (!seen)
            ap_pause();
    }
    cr_assert(seen, "the workers did not notice the restart");
    char req[40], job[40], q[300];
    approved_read(req);
    job_of(req, job);
    snprintf(q, sizeof q, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'failed' AND "
                          "last_outcome = 'failed_permanent'", job);
    cr_assert(poll_sql(1, 20000, q), "after the restart the agent never claimed the new job");
    cr_assert_eq(p.pid > 0 && kill(p.pid, 0) == 0, 1, "the agent exited");
    cr_assert(agent_proc_health_is(&p, "/readyz", 200, 10000), "not ready again after the restart");
    stop_and_expect(0);
}

Test(agent_runtime, plain_http_to_a_remote_control_plane_is_refused_at_once)
{
    char token[128];
    request_world();
    mint(conn_id, token, sizeof token, NULL);
    /* 192.0.2.0/24 is TEST-NET-1: never reachable, and not loopback */
    agent_proc_prepare(&p, "http://192.0.2.1:8080", "vault-a", 0, NULL);
    agent_proc_start(&p, token);
    cr_assert(agent_proc_wait(&p, 10000), "the agent kept retrying a URL it will never use");
    cr_assert_eq(p.exit_status, 1);
    cr_assert(agent_proc_log_has(&p, "plain http to http://192.0.2.1:8080", 0));
    cr_assert(agent_proc_log_has(&p, "fix control_plane.url", 0));
    struct stat st;
    cr_assert_neq(stat(p.id_file, &st), 0, "no identity without an enrollment");
}

/* The demo provider's payments/db in the catalog of conn_id, bound to the
 * dev environment with keys username, password and api_key (not in the
 * secret); its binding id into binding. */
static void payments_db_binding(char *binding)
{
    sb_db_conn *conn;
    sb_error err = {0};
    int64_t n = 0;
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &conn, &err), 0);
    cr_assert_eq(sb_catalog_store_upsert_batch(conn, conn_id, "[{\"secret_ref\":\"payments/db\"}]",
                                               false, &n, &err),
                 0, "%s", err.message);
    sb_db_release(sb_api_harness_db(h), conn);
    char q[256];
    snprintf(q, sizeof q,
             "SELECT id FROM catalog_secrets WHERE connection_id = '%s' AND secret_ref = 'payments/db'",
             conn_id);
    cr_assert_eq(sb_api_harness_sql(h, q, secret_id, sizeof secret_id), 1);
    make_binding(env_dev, "[\"username\",\"password\",\"api_key\"]", "[\"read\",\"patch\",\"reveal\"]",
                 binding);
}

static void approved_read_of(const char *binding, const char *keys, char *req_id)
{
    sb_api_response r;
    char extra[128];
    snprintf(extra, sizeof extra, "\"keys\":%s", keys);
    cr_assert_eq(submit(dev, "read", binding, extra, &r), 201, "%s", r.body);
    id_of(&r, req_id);
    cr_assert_eq(act(ap[0], req_id, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
}

Test(agent_runtime, a_read_is_executed_sealed_and_revealed_once_and_a_missing_key_fails_it)
{
    start_world();
    char token[128], binding[40];
    payments_db_binding(binding);
    mint(conn_id, token, sizeof token, NULL);
    agent_proc_prepare(&p, sb_api_harness_base_url(h), "vault-a", 0, NULL);
    agent_proc_use_example_provider(&p, SB_PLUGIN_OUT_DIR);
    agent_proc_start(&p, token);
    cr_assert(agent_proc_health_is(&p, "/readyz", 200, 15000), "never ready");

    char req[40], job[40], q[300], wrap[40];
    approved_read_of(binding, "[\"username\",\"password\"]", req);
    job_of(req, job);
    snprintf(q, sizeof q, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'succeeded'", job);
    cr_assert(poll_sql(1, 15000, q), "the read job did not succeed");
    expect_state(req, "executed");
    cr_assert_eq(sql_int("SELECT count(*) FROM secret_wraps WHERE request_id = '%s'", req), 2);
    snprintf(q, sizeof q,
             "SELECT id FROM secret_wraps WHERE request_id = '%s' AND key_name = 'password'", req);
    cr_assert_eq(sb_api_harness_sql(h, q, wrap, sizeof wrap), 1);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps/%s/reveal", req, wrap);
    sb_api_response r;
    cr_assert_eq(callf(dev, "POST", path, &r, "{}"), 200, "%s", r.body);
    cr_assert_str_eq(jstr(&r, "value"), "demo-db-password");
    sb_api_response_free(&r);
    cr_assert_eq(callf(dev, "POST", path, &r, "{}"), 410, "%s", r.body);
    sb_api_response_free(&r);

    /* a requested key the secret does not hold: the job fails, nothing is returned */
    approved_read_of(binding, "[\"username\",\"api_key\"]", req);
    job_of(req, job);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'failed' AND last_error LIKE "
             "'requested key api_key is not in the secret%%'",
             job);
    cr_assert(poll_sql(1, 15000, q), "a read with a missing key was not failed");
    expect_state(req, "failed");
    cr_assert_eq(sql_int("SELECT count(*) FROM secret_wraps WHERE request_id = '%s'", req), 0);
    stop_and_expect(0);
    char *log = agent_proc_log(&p);
    cr_assert(strstr(log, "demo-db-password") == NULL, "a value reached the agent's log");
    free(log);
}

Test(agent_runtime, a_discovery_lists_within_the_fence_and_the_selector_and_fills_the_catalog)
{
    start_world();
    char token[128];
    mint(conn_id, token, sizeof token, NULL);
    agent_proc_prepare(&p, sb_api_harness_base_url(h), "vault-a", 0, NULL);
    agent_proc_use_example_provider(&p, SB_PLUGIN_OUT_DIR); /* fence team: payments */
    agent_proc_start(&p, token);
    cr_assert(agent_proc_health_is(&p, "/readyz", 200, 15000), "never ready");
    /* the demo holds payments/db (team payments, env prod), payments/api (payments,
     * staging) and checkout/stripe (checkout, prod) */
    sb_api_response r;
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/provider-connections/", conn_id, "/discover-jobs"),
                       &r, "{\"payload\":{\"selector\":{\"env\":\"prod\"}}}"),
                 201, "%s", r.body);
    char job[40], q[300];
    snprintf(job, sizeof job, "%s", jstr(&r, "id"));
    sb_api_response_free(&r);
    snprintf(q, sizeof q, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'succeeded'", job);
    cr_assert(poll_sql(1, 15000, q), "the discover job did not succeed");
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE connection_id = '%s' AND "
                         "secret_ref = 'payments/db' AND labels->>'team' = 'payments' AND "
                         "labels->>'env' = 'prod'",
                         conn_id),
                 1, "payments/db with its native labels");
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = 'checkout/stripe'"),
                 0, "the selector widened the fence");
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = 'payments/api'"), 0,
                 "the selector was ignored");
    /* a selector that contradicts the fence lists nothing, and still succeeds */
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/provider-connections/", conn_id, "/discover-jobs"),
                       &r, "{\"payload\":{\"selector\":{\"team\":\"checkout\"}}}"),
                 201, "%s", r.body);
    snprintf(job, sizeof job, "%s", jstr(&r, "id"));
    sb_api_response_free(&r);
    snprintf(q, sizeof q, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'succeeded'", job);
    cr_assert(poll_sql(1, 15000, q), "the second discover job did not succeed");
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = 'checkout/stripe'"), 0);
    stop_and_expect(0);
}

/* Reveals key of an executed read request; the value into out. */
static void reveal_key(const char *req, const char *key, char *out, size_t cap)
{
    char q[300], wrap[40], path[256];
    snprintf(q, sizeof q, "SELECT id FROM secret_wraps WHERE request_id = '%s' AND key_name = '%s'",
             req, key);
    cr_assert_eq(sb_api_harness_sql(h, q, wrap, sizeof wrap), 1);
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps/%s/reveal", req, wrap);
    sb_api_response r;
    cr_assert_eq(callf(dev, "POST", path, &r, "{}"), 200, "%s", r.body);
    snprintf(out, cap, "%s", jstr(&r, "value"));
    sb_api_response_free(&r);
}

Test(agent_runtime, a_patch_opens_its_sealed_values_and_merges_them_with_compare_and_set)
{
    start_world();
    char token[128], binding[40];
    payments_db_binding(binding);
    mint(conn_id, token, sizeof token, NULL);
    agent_proc_prepare(&p, sb_api_harness_base_url(h), "vault-a", 0, NULL);
    agent_proc_use_example_provider(&p, SB_PLUGIN_OUT_DIR);
    agent_proc_start(&p, token);
    cr_assert(agent_proc_health_is(&p, "/readyz", 200, 15000), "never ready");
    /* the client seals the new password to the agent's public key */
    json_error_t e;
    json_t *idj = json_load_file(p.id_file, 0, &e);
    cr_assert_not_null(idj);
    unsigned char pk[32];
    size_t pk_len = 0;
    const char *pk64 = json_string_value(json_object_get(idj, "public_key"));
    cr_assert_eq(sodium_base642bin(pk, sizeof pk, pk64, strlen(pk64), NULL, &pk_len, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0);
    const char *value = "rotated-db-password";
    unsigned char box[128];
    crypto_box_seal(box, (const unsigned char *)value, strlen(value), pk);
    char box64[256], extra[1024];
    sodium_bin2base64(box64, sizeof box64, box, strlen(value) + crypto_box_SEALBYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(extra, sizeof extra,
             "\"keys\":[\"password\"],\"sealed_values\":[{\"key\":\"password\",\"recipient\":\"%s\","
             "\"box\":\"%s\"}]",
             pk64, box64);
    json_decref(idj);
    sb_api_response r;
    char req[40], job[40], q[300];
    cr_assert_eq(submit(dev, "patch", binding, extra, &r), 201, "%s", r.body);
    id_of(&r, req);
    cr_assert_eq(act(ap[0], req, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    job_of(req, job);
    snprintf(q, sizeof q, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'succeeded'", job);
    cr_assert(poll_sql(1, 15000, q), "the patch job did not succeed");
    expect_state(req, "executed");
    /* read both keys back through the agent: the patched one changed, the other survived */
    approved_read_of(binding, "[\"username\",\"password\"]", req);
    job_of(req, job);
    snprintf(q, sizeof q, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'succeeded'", job);
    cr_assert(poll_sql(1, 15000, q), "the read after the patch did not succeed");
    char got[128];
    reveal_key(req, "password", got, sizeof got);
    cr_assert_str_eq(got, "rotated-db-password");
    reveal_key(req, "username", got, sizeof got);
    cr_assert_str_eq(got, "app", "an untouched key changed");
    stop_and_expect(0);
    char *log = agent_proc_log(&p);
    cr_assert(strstr(log, "rotated-db-password") == NULL, "a value reached the agent's log");
    free(log);
}
