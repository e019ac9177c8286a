/*
 * test_api_audit_coverage.c — I5 for every route: a scripted session walks
 * through every state-changing route of the router as an administrator and
 * checks that each successful call wrote at least one audit event, in the
 * same transaction (the event is visible as soon as the response is). The
 * script must cover the router: a new mutating route fails this test until
 * it is added here with its audit check.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_harness.h"
#include "mfa_test_util.h"
#include "pg_harness.h"
#include "store/catalog_store.h"

ReportHook(PRE_ALL)(struct criterion_test_set *s)
{
    (void)s;
    sb_pg_harness_shared_start();
}
ReportHook(POST_ALL)(struct criterion_global_stats *s)
{
    (void)s;
    sb_pg_harness_shared_stop();
}

#define MAX_DONE 160

static sb_api_harness *h;
static char cookie[256];
static char done[MAX_DONE][160];
static size_t n_done;

static long audit_count(void)
{
    char n[32];
    sb_api_harness_sql(h, "SELECT count(*) FROM audit_events", n, sizeof n);
    return atol(n);
}

/* Calls METHOD on PATH (the concrete path for PATTERN), expects a 2xx and
 * one more audit event; returns the response's "id" (or "") in id_out. */
static void step(const char *method, const char *pattern, const char *path, const char *body,
                 const char *expect_action, char *id_out, size_t id_cap)
{
    long before = audit_count();
    sb_api_response r;
    long st = sb_api_call(h, method, path, body, cookie[0] ? cookie : NULL, NULL, &r);
    cr_assert(st >= 200 && st < 300, "%s %s answered %ld: %s", method, path, st, r.body);
    long after = audit_count();
    cr_assert_gt(after, before, "%s %s changed state without an audit event", method, pattern);
    char last[128];
    sb_api_harness_sql(h, "SELECT action FROM audit_events ORDER BY id DESC LIMIT 1", last, sizeof last);
    if (expect_action)
        cr_assert_str_eq(last, expect_action, "%s %s", method, pattern);
    if (id_out) {
        const char *id = json_string_value(json_object_get(r.json, "id"));
        snprintf(id_out, id_cap, "%s", id ? id : "");
        cr_assert_neq(id_out[0], '\0', "%s %s returned no id: %s", method, path, r.body);
    }
    sb_api_response_free(&r);
    snprintf(done[n_done++], sizeof done[0], "%s %s", method, pattern);
}

/* The same as step with a bearer credential (agent routes, enrollment);
 * *out keeps the parsed response body (json_decref it). */
static void step_as(const char *bearer, const char *method, const char *pattern, const char *path,
                    const char *body, const char *expect_action, json_t **out)
{
    long before = audit_count();
    sb_api_response r;
    long st = sb_api_call(h, method, path, body, bearer ? NULL : cookie, bearer, &r);
    cr_assert(st >= 200 && st < 300, "%s %s answered %ld: %s", method, path, st, r.body);
    cr_assert_gt(audit_count(), before, "%s %s changed state without an audit event", method,
                 pattern);
    char last[128];
    sb_api_harness_sql(h, "SELECT action FROM audit_events ORDER BY id DESC LIMIT 1", last, sizeof last);
    cr_assert_str_eq(last, expect_action, "%s %s", method, pattern);
    *out = json_incref(r.json);
    sb_api_response_free(&r);
    snprintf(done[n_done++], sizeof done[0], "%s %s", method, pattern);
}

/* GitOps: an Argo CD endpoint created, changed (its token replaced),
 * checked, mapped to a provider connection, unmapped and deleted. */
static void walk_gitops(void)
{
    char path[512], ep[64], conn[64], map[64], body[256];
    step("POST", "/api/v1/provider-connections", "/api/v1/provider-connections",
         "{\"name\":\"gitops-vault\",\"type\":\"vault\",\"scope\":{\"address\":"
         "\"https://vault.internal:8200\",\"mount\":\"kv\"}}",
         "connection.create", conn, sizeof conn);
    step("POST", "/api/v1/argocd-endpoints", "/api/v1/argocd-endpoints",
         "{\"name\":\"argo-audited\",\"base_url\":\"https://argocd.internal\","
         "\"token\":\"audited-token-1\"}",
         "argocd_endpoint.create", ep, sizeof ep);
    snprintf(path, sizeof path, "/api/v1/argocd-endpoints/%s", ep);
    step("PUT", "/api/v1/argocd-endpoints/{id}", path, "{\"token\":\"audited-token-2\"}",
         "argocd_endpoint.update", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/argocd-endpoints/%s/health-check", ep);
    step("POST", "/api/v1/argocd-endpoints/{id}/health-check", path, "{\"application\":\"web\"}",
         "argocd_endpoint.health_check", NULL, 0);
    snprintf(body, sizeof body, "{\"endpoint_id\":\"%s\",\"application\":\"web\","
             "\"connection_id\":\"%s\"}", ep, conn);
    step("POST", "/api/v1/gitops-mappings", "/api/v1/gitops-mappings", body,
         "gitops_mapping.create", map, sizeof map);
    snprintf(path, sizeof path, "/api/v1/gitops-mappings/%s", map);
    step("DELETE", "/api/v1/gitops-mappings/{id}", path, NULL, "gitops_mapping.delete", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/argocd-endpoints/%s", ep);
    step("DELETE", "/api/v1/argocd-endpoints/{id}", path, NULL, "argocd_endpoint.delete", NULL, 0);
    cr_assert_eq(sb_api_harness_sql(h, "SELECT 1 FROM audit_events WHERE details::text LIKE "
                                       "'%audited-token%'", NULL, 0),
                 0, "an Argo CD token reached the audit trail");
}

/* MFA: a TOTP factor enrolled, confirmed, used to step up, and removed
 * (the confirmation is a fresh verification, so no step-up is missing). */
static void walk_mfa(void)
{
    long before = audit_count();
    test_totp t;
    test_totp_enroll(h, cookie, "audited-phone", &t);
    cr_assert_gt(audit_count(), before, "POST /api/v1/auth/mfa/totp is audited");
    snprintf(done[n_done++], sizeof done[0], "POST /api/v1/auth/mfa/totp");
    char path[160], body[64], code[8];
    snprintf(path, sizeof path, "/api/v1/auth/mfa/totp/%s/confirm", t.factor_id);
    test_totp_next(&t, code);
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    step("POST", "/api/v1/auth/mfa/totp/{id}/confirm", path, body, "auth.mfa.confirm", NULL, 0);
    test_totp_next(&t, code);
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    step("POST", "/api/v1/auth/mfa/verify", "/api/v1/auth/mfa/verify", body, "auth.mfa.verify",
         NULL, 0);
    snprintf(path, sizeof path, "/api/v1/auth/mfa/factors/%s", t.factor_id);
    step("DELETE", "/api/v1/auth/mfa/factors/{id}", path, NULL, "auth.mfa.remove", NULL, 0);
    char q[200];
    snprintf(q, sizeof q, "SELECT 1 FROM audit_events WHERE details::text LIKE '%%%s%%'", t.base32);
    cr_assert_eq(sb_api_harness_sql(h, q, NULL, 0), 0, "a TOTP secret reached the audit trail");
}

/* Agents: enrollment tokens, enrollment, heartbeat, a discover job
 * claimed, renewed and completed, revocation. */
static void walk_agents(void)
{
    char path[512], conn[64], token_id[64], body[256], agent[64], cred[160], job[64];
    json_t *j;
    step("POST", "/api/v1/provider-connections", "/api/v1/provider-connections",
         "{\"name\":\"agent-vault\",\"type\":\"vault\",\"scope\":{\"address\":"
         "\"https://vault.internal:8200\",\"mount\":\"kv\"}}",
         "connection.create", conn, sizeof conn);
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/agent-enrollment-tokens", conn);
    step("POST", "/api/v1/provider-connections/{id}/agent-enrollment-tokens", path, "{}",
         "agent.enrollment_token.create", token_id, sizeof token_id);
    step_as(NULL, "POST", "/api/v1/provider-connections/{id}/agent-enrollment-tokens", path, "{}",
            "agent.enrollment_token.create", &j);
    char token[128];
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(j, "token")));
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/agent-enrollment-tokens/%s/revoke", token_id);
    step("POST", "/api/v1/agent-enrollment-tokens/{id}/revoke", path, NULL,
         "agent.enrollment_token.revoke", NULL, 0);
    unsigned char pk[32], sk[32];
    char pk64[64];
    crypto_box_keypair(pk, sk);
    sodium_bin2base64(pk64, sizeof pk64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    snprintf(body, sizeof body, "{\"connection\":\"agent-vault\",\"name\":\"walker\",\"public_key\":\"%s\"}",
             pk64);
    step_as(token, "POST", "/api/v1/agents/enroll", "/api/v1/agents/enroll", body, "agent.enroll", &j);
    snprintf(agent, sizeof agent, "%s", json_string_value(json_object_get(j, "agent_id")));
    snprintf(cred, sizeof cred, "%s", json_string_value(json_object_get(j, "credential")));
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/agents/%s/heartbeat", agent);
    step_as(cred, "POST", "/api/v1/agents/{id}/heartbeat", path, "{}", "agent.activate", &j);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/discover-jobs", conn);
    step("POST", "/api/v1/provider-connections/{id}/discover-jobs", path, "{}", "job.create", job,
         sizeof job);
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/claim", agent);
    step_as(cred, "POST", "/api/v1/agents/{id}/jobs/claim", path, NULL, "job.claim", &j);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/renew", agent, job);
    step_as(cred, "POST", "/api/v1/agents/{id}/jobs/{job_id}/renew", path, NULL, "job.renew", &j);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/discovery", agent, job);
    step_as(cred, "POST", "/api/v1/agents/{id}/jobs/{job_id}/discovery", path,
            "{\"items\":[{\"path\":\"walk/one\",\"labels\":{\"team\":\"walkers\"}}]}",
            "catalog.discovery_upload", &j);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/complete", agent, job);
    step_as(cred, "POST", "/api/v1/agents/{id}/jobs/{job_id}/complete", path,
            "{\"outcome\":\"succeeded\"}", "job.complete", &j);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/agents/%s/revoke", agent);
    step("POST", "/api/v1/agents/{id}/revoke", path, NULL, "agent.revoke", NULL, 0);
}

/* An approved read executed by an agent of connection conn_name, then its
 * result revealed inside a reveal session that is then ended. */
static void walk_reveal(const char *conn_id, const char *conn_name, const char *request_id)
{
    char path[512], body[2048];
    sb_api_response r;
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/agent-enrollment-tokens", conn_id);
    cr_assert_eq(sb_api_call(h, "POST", path, "{}", cookie, NULL, &r), 201, "%s", r.body);
    char token[128];
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(r.json, "token")));
    sb_api_response_free(&r);
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    char pk64[64];
    crypto_box_keypair(pk, sk);
    sodium_bin2base64(pk64, sizeof pk64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    snprintf(body, sizeof body, "{\"connection\":\"%s\",\"name\":\"reader\",\"public_key\":\"%s\"}",
             conn_name, pk64);
    cr_assert_eq(sb_api_call(h, "POST", "/api/v1/agents/enroll", body, NULL, token, &r), 201, "%s",
                 r.body);
    char agent[64], cred[160];
    snprintf(agent, sizeof agent, "%s", json_string_value(json_object_get(r.json, "agent_id")));
    snprintf(cred, sizeof cred, "%s", json_string_value(json_object_get(r.json, "credential")));
    sb_api_response_free(&r);
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/claim", agent);
    cr_assert_eq(sb_api_call(h, "POST", path, NULL, NULL, cred, &r), 200, "%s", r.body);
    json_t *payload = json_object_get(r.json, "payload");
    const char *read_key = json_string_value(json_object_get(payload, "read_public_key"));
    cr_assert_not_null(read_key, "a read job carries the request's public key: %s", r.body);
    unsigned char rpk[crypto_box_PUBLICKEYBYTES], box[64];
    size_t rpk_len = 0;
    cr_assert_eq(sodium_base642bin(rpk, sizeof rpk, read_key, strlen(read_key), NULL, &rpk_len, NULL,
                                   sodium_base64_VARIANT_ORIGINAL), 0);
    crypto_box_seal(box, (const unsigned char *)"walk-value", 10, rpk);
    char box64[128], job[64];
    sodium_bin2base64(box64, sizeof box64, box, 10 + crypto_box_SEALBYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(r.json, "id")));
    sb_api_response_free(&r);
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/complete", agent, job);
    snprintf(body, sizeof body,
             "{\"outcome\":\"succeeded\",\"results\":[{\"key\":\"DB_URL\",\"box\":\"%s\"}]}", box64);
    cr_assert_eq(sb_api_call(h, "POST", path, body, NULL, cred, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps", request_id);
    cr_assert_eq(sb_api_call(h, "GET", path, NULL, cookie, NULL, &r), 200, "%s", r.body);
    char wrap[64], session[64];
    snprintf(wrap, sizeof wrap, "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "id")));
    sb_api_response_free(&r);
    snprintf(body, sizeof body, "{\"request_id\":\"%s\"}", request_id);
    step("POST", "/api/v1/reveal-sessions", "/api/v1/reveal-sessions", body, "reveal_session.open",
         session, sizeof session);
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps/%s/reveal", request_id, wrap);
    step("POST", "/api/v1/requests/{id}/wraps/{wrap_id}/reveal", path, NULL, "secret.reveal", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/reveal-sessions/%s/expire", session);
    step("POST", "/api/v1/reveal-sessions/{id}/expire", path, "{\"reason\":\"user_hide\"}",
         "reveal_session.expire", NULL, 0);
}

/* Requests: submit, approve, reject, cancel as the requester (the default
 * workflow allows self-approval for this walk); cross-team fill, verify and
 * refuse as a second administrator (separation of duties). */
static void walk_requests(const char *project, const char *env)
{
    char path[512], body[512], conn_id[64], secret_id[64], bind[64], team_b[64], id[64];
    step("POST", "/api/v1/provider-connections", "/api/v1/provider-connections",
         "{\"name\":\"audited-vault\",\"type\":\"vault\",\"scope\":{\"address\":"
         "\"https://vault.internal:8200\",\"mount\":\"kv\"}}",
         "connection.create", conn_id, sizeof conn_id);
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/bindings", conn_id);
    snprintf(body, sizeof body, "{\"project_id\":\"%s\"}", project);
    step("POST", "/api/v1/provider-connections/{id}/bindings", path, body, NULL, NULL, 0);
    sb_db_conn *dbc;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &dbc, &err), 0);
    cr_assert_eq(sb_catalog_store_upsert_batch(dbc, conn_id, "[{\"secret_ref\":\"app/req\"}]", false,
                                               NULL, &err),
                 0, "%s", err.message);
    sb_db_release(sb_api_harness_db(h), dbc);
    sb_api_harness_sql(h, "SELECT id::text FROM catalog_secrets WHERE secret_ref = 'app/req'", secret_id,
                       sizeof secret_id);
    snprintf(path, sizeof path, "/api/v1/projects/%s/secret-bindings", project);
    snprintf(body, sizeof body,
             "{\"catalog_secret_id\":\"%s\",\"environment_id\":\"%s\",\"allowed_keys\":[\"DB_URL\"],"
             "\"allowed_ops\":[\"read\",\"patch\"]}",
             secret_id, env);
    step("POST", "/api/v1/projects/{id}/secret-bindings", path, body, NULL, bind, sizeof bind);
    sb_api_harness_sql(h, "UPDATE workflows SET allow_self_approval = true WHERE is_default", NULL, 0);

    const char *pending[] = {"approve", "reject", "cancel"};
    const char *bodies[] = {"{}", "{\"reason\":\"not now\"}", NULL};
    const char *actions[] = {"request.approve", "request.reject", "request.cancel"};
    snprintf(body, sizeof body, "{\"kind\":\"read\",\"binding_id\":\"%s\",\"justification\":\"audit\"}",
             bind);
    char approved_read[64] = "";
    for (int i = 0; i < 3; i++) {
        char pattern[96];
        step("POST", "/api/v1/requests", "/api/v1/requests", body, "request.submit", id, sizeof id);
        snprintf(path, sizeof path, "/api/v1/requests/%s/%s", id, pending[i]);
        snprintf(pattern, sizeof pattern, "/api/v1/requests/{id}/%s", pending[i]);
        step("POST", pattern, path, bodies[i], actions[i], NULL, 0);
        if (i == 0)
            snprintf(approved_read, sizeof approved_read, "%s", id);
    }
    walk_reveal(conn_id, "audited-vault", approved_read);

    step("POST", "/api/v1/teams", "/api/v1/teams", "{\"name\":\"audited-providers\"}", "team.create", team_b,
         sizeof team_b);
    char saved[256], other_admin[40];
    snprintf(saved, sizeof saved, "%s", cookie);
    cr_assert_eq(sb_api_harness_user(h, "auditor-two", "admin-password-2", "admin", "global", NULL, other_admin),
                 0);
    char cookie2[256];
    cr_assert_eq(sb_api_harness_login(h, "auditor-two", "admin-password-2", cookie2, sizeof cookie2, NULL, 0), 0);
    snprintf(body, sizeof body,
             "{\"binding_id\":\"%s\",\"target_team_id\":\"%s\",\"keys\":[\"DB_URL\"],"
             "\"justification\":\"audit\"}",
             bind, team_b);
    char fill_body[512], box[160], pk64[64];
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES], sealed[64];
    crypto_box_keypair(pk, sk);
    crypto_box_seal(sealed, (const unsigned char *)"v", 1, pk);
    sodium_bin2base64(pk64, sizeof pk64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(box, sizeof box, sealed, 1 + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    char agent_sql[512]; /* the filler seals to a live agent of the destination connection */
    snprintf(agent_sql, sizeof agent_sql,
             "INSERT INTO agents (connection_id, name, public_key, secret_hash) SELECT id, 'filler-"
             "agent', decode('%s', 'base64'), decode(md5(random()::text) || md5(random()::text), "
             "'hex') FROM provider_connections",
             pk64);
    cr_assert_geq(sb_api_harness_sql(h, agent_sql, NULL, 0), 0);
    snprintf(fill_body, sizeof fill_body,
             "{\"sealed_values\":[{\"key\":\"DB_URL\",\"recipient\":\"%s\",\"box\":\"%s\"}]}", pk64,
             box);
    char refused[64];
    step("POST", "/api/v1/requests/cross-team", "/api/v1/requests/cross-team", body, "request.submit", id,
         sizeof id);
    step("POST", "/api/v1/requests/cross-team", "/api/v1/requests/cross-team", body, "request.submit",
         refused, sizeof refused);
    snprintf(cookie, sizeof cookie, "%s", cookie2);
    snprintf(path, sizeof path, "/api/v1/requests/%s/fill", id);
    step("POST", "/api/v1/requests/{id}/fill", path, fill_body, "request.fill", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/requests/%s/refuse", refused);
    step("POST", "/api/v1/requests/{id}/refuse", path, "{\"reason\":\"not our credential\"}", "request.refuse",
         NULL, 0);
    snprintf(cookie, sizeof cookie, "%s", saved);
    /* the requester may not verify (SoD, whatever self-approval says): a third admin does */
    cr_assert_eq(sb_api_harness_user(h, "auditor-three", "admin-password-3", "admin", "global", NULL,
                                     other_admin),
                 0);
    cr_assert_eq(sb_api_harness_login(h, "auditor-three", "admin-password-3", cookie, sizeof cookie, NULL, 0),
                 0);
    snprintf(path, sizeof path, "/api/v1/requests/%s/verify", id);
    step("POST", "/api/v1/requests/{id}/verify", path, "{\"decision\":\"approve\"}", "request.approve",
         NULL, 0);
    snprintf(cookie, sizeof cookie, "%s", saved);
}

Test(audit_coverage, every_state_changing_route_writes_an_audit_event, .timeout = 120)
{
    cr_assert_eq(sb_api_harness_start(&h), 0);
    char admin[40], other[40];
    cr_assert_eq(sb_api_harness_user(h, "auditor-admin", "admin-password-1", "admin", "global", NULL, admin), 0);
    cr_assert_eq(sb_api_harness_user(h, "someone", "someone-password-1", NULL, NULL, NULL, other), 0);

    char path[512], body[512], token[64], team[64], child[64], project[64], env[64], role[64], grant[64];
    cookie[0] = '\0';
    /* login: audited, and gives the cookie */
    long before = audit_count();
    cr_assert_eq(sb_api_harness_login(h, "auditor-admin", "admin-password-1", cookie, sizeof cookie, NULL, 0), 0);
    cr_assert_gt(audit_count(), before, "login is audited");
    snprintf(done[n_done++], sizeof done[0], "POST /api/v1/auth/login");

    step("POST", "/api/v1/users/me/tokens", "/api/v1/users/me/tokens", "{\"name\":\"ci\"}", NULL, token,
         sizeof token);
    snprintf(path, sizeof path, "/api/v1/users/me/tokens/%s", token);
    step("DELETE", "/api/v1/users/me/tokens/{id}", path, NULL, NULL, NULL, 0);

    step("POST", "/api/v1/teams", "/api/v1/teams", "{\"name\":\"audited-team\"}", "team.create", team, sizeof team);
    snprintf(path, sizeof path, "/api/v1/teams/%s", team);
    step("PUT", "/api/v1/teams/{id}", path, "{\"description\":\"changed\"}", "team.update", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/teams/%s/status", team);
    step("PUT", "/api/v1/teams/{id}/status", path, "{\"status\":\"archived\"}", "team.archive", NULL, 0);
    step("PUT", "/api/v1/teams/{id}/status", path, "{\"status\":\"active\"}", NULL, NULL, 0);
    snprintf(path, sizeof path, "/api/v1/teams/%s/members", team);
    snprintf(body, sizeof body, "{\"user_id\":\"%s\"}", other);
    step("POST", "/api/v1/teams/{id}/members", path, body, "team.member.add", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/teams/%s/members/%s", team, other);
    step("DELETE", "/api/v1/teams/{id}/members/{user_id}", path, NULL, "team.member.remove", NULL, 0);

    snprintf(body, sizeof body, "{\"name\":\"audited-project\",\"team_id\":\"%s\"}", team);
    step("POST", "/api/v1/projects", "/api/v1/projects", body, "project.create", project, sizeof project);
    snprintf(path, sizeof path, "/api/v1/projects/%s", project);
    step("PUT", "/api/v1/projects/{id}", path, "{\"description\":\"changed\"}", "project.update", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/projects/%s/status", project);
    step("PUT", "/api/v1/projects/{id}/status", path, "{\"status\":\"archived\"}", "project.archive", NULL, 0);
    step("PUT", "/api/v1/projects/{id}/status", path, "{\"status\":\"active\"}", NULL, NULL, 0);

    snprintf(body, sizeof body, "{\"project_id\":\"%s\",\"name\":\"dev\",\"kind\":\"non_prod\"}", project);
    step("POST", "/api/v1/environments", "/api/v1/environments", body, "environment.create", env, sizeof env);
    snprintf(path, sizeof path, "/api/v1/environments/%s", env);
    step("PUT", "/api/v1/environments/{id}", path, "{\"risk_level\":2}", "environment.update", NULL, 0);

    step("POST", "/api/v1/roles", "/api/v1/roles", "{\"name\":\"audited_reader\",\"permissions\":[\"secret.list\"]}",
         "role.create", role, sizeof role);
    snprintf(path, sizeof path, "/api/v1/roles/%s", role);
    step("PUT", "/api/v1/roles/{id}", path, "{\"description\":\"changed\"}", "role.update", NULL, 0);
    snprintf(body, sizeof body,
             "{\"user_id\":\"%s\",\"role_id\":\"%s\",\"scope_type\":\"project\",\"scope_id\":\"%s\"}", other, role,
             project);
    step("POST", "/api/v1/grants", "/api/v1/grants", body, "grant.create", grant, sizeof grant);
    snprintf(path, sizeof path, "/api/v1/grants/%s", grant);
    step("DELETE", "/api/v1/grants/{id}", path, NULL, "grant.revoke", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/roles/%s", role);
    step("DELETE", "/api/v1/roles/{id}", path, NULL, "role.delete", NULL, 0);

    snprintf(body, sizeof body, "{\"name\":\"audited-child\",\"parent_id\":\"%s\"}", team);
    step("POST", "/api/v1/teams", "/api/v1/teams", body, "team.create", child, sizeof child);
    snprintf(path, sizeof path, "/api/v1/teams/%s", child);
    step("DELETE", "/api/v1/teams/{id}", path, NULL, "team.delete", NULL, 0);

    /* provider connections, their bindings, secret bindings (catalog rows
     * come from discovery: written here through the store) */
    char conn_id[64], cbind[64], sbind[64];
    step("POST", "/api/v1/provider-connections", "/api/v1/provider-connections",
         "{\"name\":\"audited-conn\",\"type\":\"kubernetes\",\"scope\":{\"context\":\"c\"}}",
         "connection.create", conn_id, sizeof conn_id);
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s", conn_id);
    step("PUT", "/api/v1/provider-connections/{id}", path, "{\"status\":\"disabled\"}", "connection.update",
         NULL, 0);
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/bindings", conn_id);
    snprintf(body, sizeof body, "{\"project_id\":\"%s\"}", project);
    step("POST", "/api/v1/provider-connections/{id}/bindings", path, body, "connection.binding.create", cbind,
         sizeof cbind);
    {
        sb_db_conn *dbc;
        sb_error err = {0};
        cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &dbc, &err), 0);
        cr_assert_eq(sb_catalog_store_upsert_batch(dbc, conn_id, "[{\"secret_ref\":\"app/db\"}]", false, NULL,
                                                   &err),
                     0, "%s", err.message);
        sb_db_release(sb_api_harness_db(h), dbc);
    }
    char secret_id[64];
    sb_api_harness_sql(h, "SELECT id::text FROM catalog_secrets WHERE secret_ref = 'app/db'", secret_id,
                       sizeof secret_id);
    snprintf(path, sizeof path, "/api/v1/projects/%s/secret-bindings", project);
    snprintf(body, sizeof body,
             "{\"catalog_secret_id\":\"%s\",\"environment_id\":\"%s\",\"allowed_keys\":[\"DB_URL\"],"
             "\"allowed_ops\":[\"read\"]}",
             secret_id, env);
    step("POST", "/api/v1/projects/{id}/secret-bindings", path, body, "secret_binding.create", sbind,
         sizeof sbind);
    snprintf(path, sizeof path, "/api/v1/projects/%s/secret-bindings/%s", project, sbind);
    step("PUT", "/api/v1/projects/{id}/secret-bindings/{binding_id}", path, "{\"allowed_ops\":[\"patch\"]}",
         "secret_binding.update", NULL, 0);
    step("DELETE", "/api/v1/projects/{id}/secret-bindings/{binding_id}", path, NULL, "secret_binding.delete",
         NULL, 0);
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/bindings/%s", conn_id, cbind);
    step("DELETE", "/api/v1/provider-connections/{id}/bindings/{binding_id}", path, NULL,
         "connection.binding.delete", NULL, 0);
    sb_api_harness_sql(h, "DELETE FROM catalog_secrets", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s", conn_id);
    step("DELETE", "/api/v1/provider-connections/{id}", path, NULL, "connection.delete", NULL, 0);

    /* workflows, policy rules, the reserved-priority platform setting */
    char wf[64], rule[64];
    step("POST", "/api/v1/workflows", "/api/v1/workflows", "{\"name\":\"audited-workflow\"}",
         "workflow.create", wf, sizeof wf);
    snprintf(path, sizeof path, "/api/v1/workflows/%s", wf);
    step("PUT", "/api/v1/workflows/{id}", path, "{\"min_approvers\":2}", "workflow.update", NULL, 0);
    snprintf(path, sizeof path, "/api/v1/workflows/%s/default", wf);
    step("PUT", "/api/v1/workflows/{id}/default", path, NULL, "workflow.default", NULL, 0);
    snprintf(body, sizeof body,
             "{\"name\":\"audited-rule\",\"anchor\":{\"type\":\"project\",\"id\":\"%s\"},"
             "\"workflow_id\":\"%s\"}",
             project, wf);
    step("POST", "/api/v1/policy-rules", "/api/v1/policy-rules", body, "policy.rule.create", rule,
         sizeof rule);
    snprintf(path, sizeof path, "/api/v1/policy-rules/%s", rule);
    step("PUT", "/api/v1/policy-rules/{id}", path, "{\"priority\":5}", "policy.rule.update", NULL, 0);
    step("DELETE", "/api/v1/policy-rules/{id}", path, NULL, "policy.rule.delete", NULL, 0);
    step("PUT", "/api/v1/platform-settings/{key}", "/api/v1/platform-settings/policy.reserved_priority",
         "{\"value\":8000}", "platform_setting.update", NULL, 0);
    {
        char std[64];
        sb_api_harness_sql(h, "SELECT id::text FROM workflows WHERE name = 'standard'", std, sizeof std);
        snprintf(path, sizeof path, "/api/v1/workflows/%s/default", std);
        step("PUT", "/api/v1/workflows/{id}/default", path, NULL, "workflow.default", NULL, 0);
    }
    snprintf(path, sizeof path, "/api/v1/workflows/%s", wf);
    step("DELETE", "/api/v1/workflows/{id}", path, NULL, "workflow.delete", NULL, 0);

    walk_requests(project, env);
    walk_agents();
    walk_gitops();
    walk_mfa();

    step("POST", "/api/v1/auth/logout", "/api/v1/auth/logout", NULL, NULL, NULL, 0);

    /* The script covers every state-changing route of the router. */
    size_t n;
    const sb_route *routes = sb_router_routes(sb_api_harness_router(h), &n);
    char missing[4096] = "";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(routes[i].method, "GET") == 0)
            continue;
        char key[160];
        snprintf(key, sizeof key, "%s %s", routes[i].method, routes[i].pattern);
        int found = 0;
        for (size_t k = 0; k < n_done && !found; k++)
            found = strcmp(done[k], key) == 0;
        if (!found)
            strncat(missing, key, sizeof missing - strlen(missing) - 2), strcat(missing, "\n");
    }
    cr_assert_str_eq(missing, "", "state-changing routes not covered by the audit script:\n%s", missing);
    sb_api_harness_stop(h);
}
