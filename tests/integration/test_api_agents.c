/*
 * test_api_agents.c — agent enrollment, identity, admin view, revocation
 * and heartbeats through the real control plane (PostgreSQL + HTTP on
 * loopback): every enrollment refusal, tokens single use and hash-only,
 * revoked agents refused at once, an agent acting only on its own id.
 */
#include "agent_test_util.h"
#include "worker/tasks.h"

TestSuite(agents, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 240);

Test(agents, enroll_happy_path_stores_hashes_only_and_the_agent_heartbeats_to_active)
{
    request_world();
    char token[128], token_id[40], key[64];
    mint(conn_id, token, sizeof token, token_id);
    cr_assert(strncmp(token, "sbe_", 4) == 0, "%s", token);
    cr_assert_eq(audit_rows("agent.enrollment_token.create", "connection", conn_id), 1);
    fresh_key(key, sizeof key);
    sb_api_response r;
    cr_assert_eq(enroll_raw(token, "vault-a", "agent-1", key, &r), 201, "%s", r.body);
    test_agent a;
    snprintf(a.id, sizeof a.id, "%s", jstr(&r, "agent_id"));
    snprintf(a.cred, sizeof a.cred, "%s", jstr(&r, "credential"));
    char secret[128];
    snprintf(secret, sizeof secret, "%s", jstr(&r, "agent_secret"));
    cr_assert_str_eq(jstr(&r, "connection_id"), conn_id);
    sb_api_response_free(&r);
    cr_assert(strncmp(secret, "sba_", 4) == 0);
    /* neither the token nor the secret is stored in any form we returned */
    cr_assert_eq(sql_int("SELECT count(*) FROM agents WHERE position('%s' in secret_hash::text) > 0 "
                         "OR encode(secret_hash, 'escape') LIKE '%%%s%%'", secret + 4, secret + 4), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM agent_enrollment_tokens WHERE consumed_by_agent = '%s'",
                         a.id), 1);
    cr_assert_eq(audit_rows("agent.enroll", "agent", a.id), 1);

    cr_assert_eq(callf(admin, "GET", path3("/api/v1/agents/", a.id, ""), &r, NULL), 200);
    cr_assert_str_eq(jstr(&r, "status"), "enrolled");
    cr_assert_str_eq(jstr(&r, "public_key"), key);
    cr_assert_null(json_object_get(r.json, "secret_hash"));
    sb_api_response_free(&r);

    long st = agent_call(&a, "/heartbeat",
                         "{\"version\":\"1.0.1\",\"capabilities\":[{\"name\":\"vault\",\"version\":"
                         "\"1.2.0\"}],\"health\":{\"vault\":\"ok\"}}",
                         &r);
    cr_assert_eq(st, 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/agents?connection_id=", conn_id, ""), &r, NULL),
                 200);
    json_t *item = json_array_get(json_object_get(r.json, "items"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(item, "status")), "active");
    cr_assert_str_eq(json_string_value(json_object_get(item, "version")), "1.0.1");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(item, "capabilities"), 0), "name")),
                     "vault");
    sb_api_response_free(&r);
    cr_assert_eq(audit_rows("agent.activate", "agent", a.id), 1);
    /* stale is computed from the heartbeat age */
    sb_api_harness_sql(h, "UPDATE agents SET last_heartbeat_at = now() - interval '5 minutes'", NULL,
                       0);
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/agents/", a.id, ""), &r, NULL), 200);
    cr_assert_str_eq(jstr(&r, "status"), "stale");
    sb_api_response_free(&r);
    cr_assert_eq(agent_call(&a, "/heartbeat", "{}", NULL), 200);
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/agents?status=active", "", ""), &r, NULL), 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 1, "%s", r.body);
    sb_api_response_free(&r);
}

/* The worker's mark_stale_agents task (worker/tasks.h) stores it, audits
 * it once, and a heartbeat brings the agent back (audited again). */
Test(agents, the_worker_marks_a_silent_agent_stale_once_and_a_heartbeat_revives_it)
{
    request_world();
    test_agent a, b;
    enroll(conn_id, "vault-a", "silent", &a);
    enroll(conn_id, "vault-a", "chatty", &b);
    cr_assert_eq(agent_call(&a, "/heartbeat", "{}", NULL), 200);
    cr_assert_eq(agent_call(&b, "/heartbeat", "{}", NULL), 200);
    sb_api_harness_sql(h, "UPDATE agents SET last_heartbeat_at = now() - interval '5 minutes'"
                          " WHERE name = 'silent'", NULL, 0);
    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(sb_worker_mark_stale_agents(sb_api_harness_db(h), NULL, &n, &err), 0, "%s",
                 err.message);
    cr_assert_eq(n, 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM agents WHERE status = 'stale' AND id = '%s'", a.id), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM agents WHERE status = 'active' AND id = '%s'", b.id), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'agent.stale' AND "
                         "resource = 'agent:%s' AND actor = 'system' AND severity = 'warning'",
                         a.id),
                 1);
    /* already stale: the next sweep changes and audits nothing */
    cr_assert_eq(sb_worker_mark_stale_agents(sb_api_harness_db(h), NULL, &n, &err), 0, "%s",
                 err.message);
    cr_assert_eq(n, 0);
    cr_assert_eq(audit_rows("agent.stale", "agent", a.id), 1);
    cr_assert_eq(agent_call(&a, "/heartbeat", "{}", NULL), 200);
    cr_assert_eq(sql_int("SELECT count(*) FROM agents WHERE status = 'active' AND id = '%s'", a.id), 1);
    cr_assert_eq(audit_rows("agent.activate", "agent", a.id), 2);
}

Test(agents, every_enrollment_refusal_has_its_code_changes_nothing_and_is_audited)
{
    request_world();
    sb_api_response r;
    char token[128], token_id[40], key[64];
    fresh_key(key, sizeof key);

    /* no token, a malformed one, an unknown one */
    expect_error(enroll_raw(NULL, "vault-a", "x", key, &r), &r, 401, "enrollment_token_invalid");
    expect_error(enroll_raw("sbe_short", "vault-a", "x", key, &r), &r, 401,
                 "enrollment_token_invalid");
    expect_error(enroll_raw("sbe_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "vault-a", "x", key, &r),
                 &r, 401, "enrollment_token_invalid");
    /* a session is no enrollment credential */
    cr_assert_eq(sb_api_call(h, "POST", "/api/v1/agents/enroll",
                             "{\"connection\":\"vault-a\",\"name\":\"x\",\"public_key\":\"AAAA\"}",
                             admin, NULL, &r),
                 401);
    sb_api_response_free(&r);

    /* bad keys: not base64, 31 bytes, a small-order point (all zero) */
    mint(conn_id, token, sizeof token, token_id);
    expect_error(enroll_raw(token, "vault-a", "x", "!!not-base64!!", &r), &r, 422,
                 "invalid_public_key");
    expect_error(enroll_raw(token, "vault-a", "x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", &r),
                 &r, 422, "invalid_public_key");
    expect_error(enroll_raw(token, "vault-a", "x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &r),
                 &r, 422, "invalid_public_key");
    /* the wrong connection */
    expect_error(enroll_raw(token, "some-other-connection", "x", key, &r), &r, 409,
                 "enrollment_connection_mismatch");
    expect_error(sb_api_call(h, "POST", "/api/v1/agents/enroll", "{\"connection\":\"vault-a\"}", NULL,
                             token, &r),
                 &r, 400, "invalid_field");
    cr_assert_eq(sql_int("SELECT count(*) FROM agents"), 0);
    /* the token still works after those refusals, once */
    cr_assert_eq(enroll_raw(token, conn_id, "agent-1", key, &r), 201, "%s", r.body);
    sb_api_response_free(&r);
    expect_error(enroll_raw(token, "vault-a", "agent-2", key, &r), &r, 409, "enrollment_token_used");

    /* expired */
    mint(conn_id, token, sizeof token, token_id);
    char q[256];
    snprintf(q, sizeof q,
             "UPDATE agent_enrollment_tokens SET created_at = now() - interval '2 hours', "
             "expires_at = now() - interval '1 hour' WHERE id = '%s'",
             token_id);
    cr_assert_geq(sb_api_harness_sql(h, q, NULL, 0), 0);
    expect_error(enroll_raw(token, "vault-a", "agent-3", key, &r), &r, 401, "enrollment_token_expired");

    /* revoked; a revoked token cannot be revoked again */
    mint(conn_id, token, sizeof token, token_id);
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/agent-enrollment-tokens/", token_id, "/revoke"), &r,
                       NULL),
                 200, "%s", r.body);
    sb_api_response_free(&r);
    expect_error(enroll_raw(token, "vault-a", "agent-4", key, &r), &r, 403, "enrollment_token_revoked");
    expect_error(callf(admin, "POST", path3("/api/v1/agent-enrollment-tokens/", token_id, "/revoke"), &r,
                       NULL),
                 &r, 409, "token_closed");

    cr_assert_eq(sql_int("SELECT count(*) FROM agents"), 1);
    cr_assert_geq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'agent.enroll' AND "
                          "outcome = 'denied'"),
                  10);
    /* a developer cannot mint */
    expect_error(callf(dev, "POST",
                       path3("/api/v1/provider-connections/", conn_id, "/agent-enrollment-tokens"),
                       &r, "{}"),
                 &r, 403, "forbidden");
}

Test(agents, a_revoked_agent_is_refused_at_once_and_agents_act_only_on_their_own_id)
{
    request_world();
    test_agent a, b;
    enroll(conn_id, "vault-a", "agent-a", &a);
    enroll(conn_id, "vault-a", "agent-b", &b);
    sb_api_response r;
    cr_assert_eq(agent_call(&a, "/heartbeat", "{}", NULL), 200);
    /* a's credential on b's id */
    char path[160];
    snprintf(path, sizeof path, "/api/v1/agents/%s/heartbeat", b.id);
    expect_error(sb_api_call(h, "POST", path, "{}", NULL, a.cred, &r), &r, 403, "agent_mismatch");
    /* a wrong secret for a's id */
    char forged[160];
    snprintf(forged, sizeof forged, "%s.sba_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", a.id);
    test_agent f = a;
    snprintf(f.cred, sizeof f.cred, "%s", forged);
    expect_error(agent_call(&f, "/heartbeat", "{}", &r), &r, 401, "unauthenticated");
    /* a user's session is no agent credential */
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/claim", a.id);
    expect_error(sb_api_call(h, "POST", path, NULL, admin, NULL, &r), &r, 401, "unauthenticated");

    expect_error(callf(dev, "POST", path3("/api/v1/agents/", a.id, "/revoke"), &r, NULL), &r, 403,
                 "forbidden");
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/agents/", a.id, "/revoke"), &r, NULL), 200,
                 "%s", r.body);
    cr_assert_str_eq(jstr(&r, "status"), "revoked");
    sb_api_response_free(&r);
    cr_assert_eq(audit_rows("agent.revoke", "agent", a.id), 1);
    expect_error(agent_call(&a, "/heartbeat", "{}", &r), &r, 403, "agent_revoked");
    expect_error(agent_call(&a, "/jobs/claim", NULL, &r), &r, 403, "agent_revoked");
    expect_error(callf(admin, "POST", path3("/api/v1/agents/", a.id, "/revoke"), &r, NULL), &r, 409,
                 "already_revoked");
    cr_assert_eq(agent_call(&b, "/heartbeat", "{}", NULL), 200, "b is untouched");
    expect_error(callf(admin, "GET", "/api/v1/agents/00000000-0000-4000-8000-000000000000", &r, NULL),
                 &r, 404, "not_found");
}

Test(agents, heartbeat_input_is_checked)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-a", &a);
    sb_api_response r;
    expect_error(agent_call(&a, "/heartbeat", "{\"status\":\"active\"}", &r), &r, 400, "invalid_field");
    expect_error(agent_call(&a, "/heartbeat", "{\"capabilities\":[\"vault\"]}", &r), &r, 400,
                 "invalid_field");
    expect_error(agent_call(&a, "/heartbeat", "{\"health\":[1]}", &r), &r, 400, "invalid_field");
    expect_error(agent_call(&a, "/heartbeat", "[1]", &r), &r, 400, "invalid_json");
    cr_assert_eq(sql_int("SELECT count(*) FROM agents WHERE status = 'enrolled'"), 1);
}
