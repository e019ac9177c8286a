/*
 * test_api_gitops.c — the GitOps routes of the control plane (issue 17
 * item 1) over real HTTP and PostgreSQL: Argo CD endpoints whose token is
 * stored KMS-wrapped and never returned (create, read, list, replace),
 * mappings to a secret binding or a provider connection, the health check
 * through the argocd plugin against the strict Argo CD emulator, RBAC
 * refusals, clear errors for bad input, observations started only for
 * executed patches of mapped scopes, and every route absent (404 as an
 * unknown path) when gitops_observation.enabled is off.
 */
#include "request_test_util.h"
#include "api/agent_api.h"
#include "emulator_support.h"
#include "gitops_test_util.h"
#include "store/request_store.h"

#define TOKEN "argo-api-token-c0ffee"

static void setup(void) { tenancy_setup(); }
static void teardown(void)
{
    es_emulator_stop();
    tenancy_teardown();
}

TestSuite(api_gitops, .init = setup, .fini = teardown, .timeout = 120);

Test(api_gitops, the_token_is_stored_wrapped_and_never_returned)
{
    char ep[40];
    gitops_endpoint("argo-one", 8443, TOKEN, ep);
    sb_api_response r;
    const char *reads[] = {"/api/v1/argocd-endpoints", path3("/api/v1/argocd-endpoints/", ep, "")};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(callf(admin, "GET", reads[i], &r, NULL), 200, "%s", r.body);
        cr_assert_null(strstr(r.body, TOKEN), "%s returned the token", reads[i]);
        cr_assert_null(strstr(r.body, "token_ciphertext"), "%s returned the ciphertext", reads[i]);
        cr_assert_null(strstr(r.body, "\"token\""), "%s", r.body);
        sb_api_response_free(&r);
    }
    char before[64];
    cr_assert_eq(sb_api_harness_sql(h, "SELECT token_ciphertext FROM argocd_endpoints", before,
                                    sizeof before),
                 1);
    /* replaced, never read back: the ciphertext changes, the answer has no token */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/argocd-endpoints/", ep, ""), &r,
                       "{\"token\":\"" TOKEN "-2\",\"project\":\"payments\"}"),
                 200, "%s", r.body);
    cr_assert_null(strstr(r.body, TOKEN), "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "project")), "payments");
    sb_api_response_free(&r);
    char after[64];
    sb_api_harness_sql(h, "SELECT token_ciphertext FROM argocd_endpoints", after, sizeof after);
    cr_assert_str_neq(before, after, "the token was not replaced");
    cr_assert_eq(sql_int("SELECT count(*) FROM argocd_endpoints WHERE token_ciphertext LIKE "
                         "'%%" TOKEN "%%' OR token_key_id LIKE '%%" TOKEN "%%'"),
                 0, "the token is stored in the clear");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE details::text LIKE '%%" TOKEN
                         "%%'"),
                 0, "the token reached the audit trail");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'argocd_endpoint.update'"
                         " AND details->>'token_replaced' = 'true'"),
                 1);
    /* null clears an optional field */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/argocd-endpoints/", ep, ""), &r,
                       "{\"project\":null}"),
                 200, "%s", r.body);
    cr_assert(json_is_null(json_object_get(r.json, "project")), "%s", r.body);
    sb_api_response_free(&r);
}

Test(api_gitops, bad_input_is_refused_with_what_to_fix)
{
    sb_api_response r;
    long st = callf(admin, "POST", "/api/v1/argocd-endpoints", &r,
                    "{\"name\":\"a\",\"base_url\":\"https://argocd.internal\"}");
    expect_error(st, &r, 400, "missing_field");
    st = callf(admin, "POST", "/api/v1/argocd-endpoints", &r,
               "{\"name\":\"a\",\"base_url\":\"https://x\",\"token\":\"t\",\"colour\":\"red\"}");
    expect_error(st, &r, 400, "unknown_field");
    const char *bad[][2] = {
        {"{\"name\":\"Bad_Name\",\"base_url\":\"https://argocd.internal\",\"token\":\"t\"}", "name"},
        {"{\"name\":\"a\",\"base_url\":\"ftp://argocd.internal\",\"token\":\"t\"}", "base_url"},
        {"{\"name\":\"a\",\"base_url\":\"https://argocd.internal\",\"token\":\"has space\"}", "token"},
        {"{\"name\":\"a\",\"base_url\":\"https://argocd.internal\",\"token\":\"${file:/etc/passwd}\"}",
         "token"},
        {"{\"name\":\"a\",\"base_url\":\"https://argocd.internal\",\"token\":\"t\",\"ca_file\":\"rel\"}",
         "ca_file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st = callf(admin, "POST", "/api/v1/argocd-endpoints", &r, "%s", bad[i][0]);
        cr_assert_eq(st, 422, "%s: %ld %s", bad[i][0], st, r.body);
        const char *msg =
            json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
        cr_assert(msg && strncmp(msg, bad[i][1], strlen(bad[i][1])) == 0,
                  "the message names %s: %s", bad[i][1], r.body);
        sb_api_response_free(&r);
    }
    char ep[40], conn[40], map[40];
    gitops_endpoint("argo-a", 8443, "t", ep);
    st = callf(admin, "POST", "/api/v1/argocd-endpoints", &r,
               "{\"name\":\"argo-a\",\"base_url\":\"https://x.internal\",\"token\":\"t\"}");
    expect_error(st, &r, 409, "name_taken");
    cr_assert_eq(callf(admin, "POST", "/api/v1/provider-connections", &r,
                       "{\"name\":\"vault-g\",\"type\":\"vault\",\"scope\":{\"address\":"
                       "\"https://vault.internal:8200\",\"mount\":\"kv\"}}"),
                 201, "%s", r.body);
    id_of(&r, conn);
    st = callf(admin, "POST", "/api/v1/gitops-mappings", &r,
               "{\"endpoint_id\":\"%s\",\"application\":\"web\",\"binding_id\":\"%s\","
               "\"connection_id\":\"%s\"}",
               ep, conn, conn);
    expect_error(st, &r, 400, "missing_field");
    st = callf(admin, "POST", "/api/v1/gitops-mappings", &r,
               "{\"endpoint_id\":\"%s\",\"application\":\"Web_App\",\"connection_id\":\"%s\"}", ep,
               conn);
    expect_error(st, &r, 422, "invalid_value");
    st = callf(admin, "POST", "/api/v1/gitops-mappings", &r,
               "{\"endpoint_id\":\"00000000-0000-4000-8000-000000000000\",\"application\":\"web\","
               "\"connection_id\":\"%s\"}",
               conn);
    expect_error(st, &r, 422, "invalid_value");
    st = callf(admin, "POST", "/api/v1/gitops-mappings", &r,
               "{\"endpoint_id\":\"%s\",\"application\":\"web\","
               "\"binding_id\":\"00000000-0000-4000-8000-000000000000\"}",
               ep);
    expect_error(st, &r, 422, "invalid_value");
    gitops_map(ep, "web", "connection_id", conn, map);
    st = callf(admin, "POST", "/api/v1/gitops-mappings", &r,
               "{\"endpoint_id\":\"%s\",\"application\":\"web\",\"connection_id\":\"%s\"}", ep, conn);
    expect_error(st, &r, 409, "mapping_exists");
    st = callf(admin, "DELETE", path3("/api/v1/argocd-endpoints/", ep, ""), &r, NULL);
    expect_error(st, &r, 409, "endpoint_in_use");
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/gitops-mappings/", map, ""), NULL, NULL),
                 200);
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/argocd-endpoints/", ep, ""), NULL, NULL),
                 200);
    st = callf(admin, "GET", path3("/api/v1/argocd-endpoints/", ep, ""), &r, NULL);
    expect_error(st, &r, 404, "not_found");
}

Test(api_gitops, only_a_global_integration_editor_manages_endpoints)
{
    request_world();
    sb_api_response r;
    long st = callf(dev, "POST", "/api/v1/argocd-endpoints", &r,
                    "{\"name\":\"sneaky\",\"base_url\":\"https://argocd.internal\",\"token\":\"t\"}");
    expect_error(st, &r, 403, "forbidden");
    st = callf(dev, "GET", "/api/v1/gitops-mappings", &r, NULL);
    expect_error(st, &r, 403, "forbidden");
    cr_assert_geq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'access.denied' AND "
                          "actor = 'user:%s'",
                          dev_id),
                  2, "the refusals are audited");
    cr_assert_eq(sql_int("SELECT count(*) FROM argocd_endpoints"), 0);
    /* a team-scoped admin holds integration.edit only below the platform */
    char uid[40], cookie[256];
    make_user("team-admin", "admin", "team", alpha, uid, cookie);
    st = callf(cookie, "POST", "/api/v1/argocd-endpoints", &r,
               "{\"name\":\"sneaky\",\"base_url\":\"https://argocd.internal\",\"token\":\"t\"}");
    expect_error(st, &r, 403, "forbidden");
}

Test(api_gitops, the_plugin_judges_the_settings_and_reads_the_health_through_the_emulator)
{
    const sb_plugin_slot *plugin = gitops_plugin_start();
    sb_api_harness_app(h)->gitops_plugin = plugin;
    const char *argv[] = {"--token", TOKEN, NULL};
    es_emulator_start("tests/emulators/argocd/argocd_emulator.py", argv);
    es_admin_ok("POST", "apps", "{\"name\":\"web\"}");
    sb_api_response r;
    /* plain http to a host that is not loopback: the plugin refuses it */
    long st = callf(admin, "POST", "/api/v1/argocd-endpoints", &r,
                    "{\"name\":\"argo-far\",\"base_url\":\"http://argocd.example.com\",\"token\":\"t\"}");
    cr_assert_eq(st, 422, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "base_url"), "%s", r.body);
    sb_api_response_free(&r);
    char good[40], wrong[40];
    gitops_endpoint("argo-good", es_port(), TOKEN, good);
    gitops_endpoint("argo-wrong", es_port(), "not-the-token", wrong);
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/argocd-endpoints/", good, "/health-check"), &r,
                       "{\"application\":\"web\"}"),
                 200, "%s", r.body);
    cr_assert(json_is_true(json_object_get(r.json, "healthy")), "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/argocd-endpoints/", wrong, "/health-check"),
                       &r, "{\"application\":\"web\"}"),
                 200, "%s", r.body);
    cr_assert(json_is_false(json_object_get(r.json, "healthy")), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "DENIED"), "%s", r.body);
    cr_assert_null(strstr(r.body, "not-the-token"), "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/argocd-endpoints/", wrong, ""), &r, NULL), 200);
    cr_assert_not_null(json_string_value(json_object_get(r.json, "health_error")), "%s", r.body);
    sb_api_response_free(&r);
    /* no application given and none mapped */
    st = callf(admin, "POST", path3("/api/v1/argocd-endpoints/", good, "/health-check"), &r, "{}");
    expect_error(st, &r, 409, "nothing_to_check");
    sb_api_harness_app(h)->gitops_plugin = NULL;
    gitops_plugin_stop();
}

/* Marks request `req` executed as an agent's successful job does. */
static void execute(const char *req)
{
    sb_db_conn *conn;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &conn, &err), 0);
    cr_assert_eq(sb_db_begin(conn, &err), 0);
    int applied = 0;
    cr_assert_eq(sb_job_drive_request(conn, sb_api_harness_app(h), NULL, req, true, NULL, &applied,
                                      &err),
                 0, "%s", err.message);
    cr_assert_eq(sb_db_commit(conn, &err), 0);
    sb_db_release(sb_api_harness_db(h), conn);
    cr_assert_eq(applied, 1);
}

Test(api_gitops, an_executed_patch_of_a_mapped_scope_starts_its_observations)
{
    request_world();
    char ep[40], map[40], sealed[2048], patch[40], read[40], other_patch[40];
    gitops_endpoint("argo-obs", 8443, "t", ep);
    gitops_map(ep, "by-binding", "binding_id", bind_dev, map);
    gitops_map(ep, "by-connection", "connection_id", conn_id, map);
    sb_api_response r;
    /* a patch on the dev binding: both mappings; on prod: the connection's only */
    const char *bindings[] = {bind_dev, bind_prod};
    char *ids[] = {patch, other_patch};
    for (int i = 0; i < 2; i++) {
        char extra[2200] = "\"keys\":[\"password\"],";
        sealed_values("password", "v", sealed, sizeof sealed);
        strncat(extra, sealed, sizeof extra - strlen(extra) - 1);
        cr_assert_eq(submit(dev, "patch", bindings[i], extra, &r), 201, "%s", r.body);
        id_of(&r, ids[i]);
        for (int a = 0; a < 3; a++) { /* as many approvers as the workflow wants */
            char now[32];
            db_state(ids[i], now, sizeof now);
            if (strcmp(now, "pending") != 0)
                break;
            act(ap[a], ids[i], "approve", "{}", &r);
            sb_api_response_free(&r);
        }
        expect_state(ids[i], "approved");
    }
    submit_read(read);
    cr_assert_eq(act(ap[0], read, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    execute(patch);
    execute(read);
    cr_assert_eq(sql_int("SELECT count(*) FROM gitops_observations WHERE request_id = '%s'", patch),
                 2);
    cr_assert_eq(sql_int("SELECT count(*) FROM gitops_observations WHERE request_id = '%s'", read),
                 0, "a read is not observed");
    execute(other_patch);
    cr_assert_eq(sql_int("SELECT count(*) FROM gitops_observations WHERE request_id = '%s' AND"
                         " application = 'by-connection'",
                         other_patch),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM gitops_observations WHERE request_id = '%s' AND"
                         " application = 'by-binding'",
                         other_patch),
                 0, "the dev binding's mapping does not observe a prod patch");
    /* on the request: its requester sees them, someone outside the project does not */
    cr_assert_eq(callf(dev, "GET", path3("/api/v1/requests/", patch, "/gitops-observations"), &r,
                       NULL),
                 200, "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 2, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r.json, "items"), 0), "state")),
                     "pending");
    sb_api_response_free(&r);
    long st = callf(other, "GET", path3("/api/v1/requests/", patch, "/gitops-observations"), &r,
                    NULL);
    expect_error(st, &r, 404, "not_found");
    cr_assert_eq(audit_rows("gitops_observation.create", "request", patch), 2);
}

Test(api_gitops, the_routes_do_not_exist_when_gitops_is_off)
{
    char ep[40];
    gitops_endpoint("argo-off", 8443, "t", ep);
    sb_api_harness_settings(h)->gitops_observation.enabled = 0;
    cr_assert_eq(sb_api_harness_restart_http(h), 0);
    sb_api_response unknown, r;
    long want = callf(admin, "GET", "/api/v1/no-such-thing", &unknown, NULL);
    cr_assert_eq(want, 404);
    const char *calls[][2] = {{"GET", "/api/v1/argocd-endpoints"},
                              {"POST", "/api/v1/argocd-endpoints"},
                              {"GET", "/api/v1/gitops-mappings"},
                              {"DELETE", path3("/api/v1/argocd-endpoints/", ep, "")},
                              {"GET", path3("/api/v1/argocd-endpoints/", ep, "/applications")},
                              {"GET", path3("/api/v1/requests/", ep, "/gitops-observations")}};
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        long st = callf(admin, calls[i][0], calls[i][1], &r, calls[i][0][0] == 'P' ? "{}" : NULL);
        cr_assert_eq(st, 404, "%s %s answered %ld", calls[i][0], calls[i][1], st);
        cr_assert_str_eq(error_code(&r), error_code(&unknown), "%s", r.body);
        sb_api_response_free(&r);
        st = callf(NULL, calls[i][0], calls[i][1], &r, NULL);
        cr_assert_eq(st, 404, "anonymous %s %s answered %ld: as unknown as any path", calls[i][0],
                     calls[i][1], st);
        sb_api_response_free(&r);
    }
    sb_api_response_free(&unknown);
    cr_assert_eq(sql_int("SELECT count(*) FROM argocd_endpoints"), 1, "nothing was deleted");
}
