/*
 * test_api_connections.c — provider connections and their project bindings
 * through the real control plane:
 *   - I4: credential-shaped scope keys and secret-shaped values (AWS key
 *     ids, Vault tokens, JWTs, ya29., PEM, random key material) are refused
 *     with 422 credential_refused naming the key and the rule; NOTHING is
 *     stored and the refusal's audit event never contains the value;
 *   - per-type scope rules (required/allowed keys, URLs, role ARNs), the
 *     pure rules directly too;
 *   - CRUD + bindings, one audit event per change, 409 while in use;
 *   - integration.edit from a global grant only.
 */
#include "domain/connection_rules.h"
#include "tenancy_test_util.h"

TestSuite(connections, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 180);

static long create(const char *cookie, sb_api_response *r, const char *name, const char *type,
                   const char *scope)
{
    return callf(cookie, "POST", "/api/v1/provider-connections", r,
                 "{\"name\":\"%s\",\"type\":\"%s\",\"scope\":%s}", name, type, scope);
}

static void expect_refused(const char *type, const char *scope, const char *code,
                           const char *names_key, const char *canary)
{
    sb_api_response r;
    long st = create(admin, &r, "refused-conn", type, scope);
    cr_assert_eq(st, 422, "%s: %ld %s", scope, st, r.body);
    cr_assert_str_eq(error_code(&r), code, "%s", r.body);
    if (names_key)
        cr_assert(strstr(r.body, names_key) != NULL, "the error names %s: %s", names_key, r.body);
    if (canary)
        cr_assert(strstr(r.body, canary) == NULL, "the value is never echoed: %s", r.body);
    sb_api_response_free(&r);
}

Test(connections, credential_shaped_scope_is_refused_and_nothing_is_stored)
{
    static const char *const canaries[] = {"CanaryTok3nValue", "AKIACANARY0123456789",
                                           "hvs.CANARYabcdefghijklmnop",
                                           "eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOjF9.c2lnQ0FOQVJZ",
                                           "ya29.CANARYa0AfH6SMB", "Q2FuYXJ5S2V5TWF0ZXJpYWwx9ZkQ8rTwLmN3pXvB7yUc"};
    char scope[512];
    snprintf(scope, sizeof scope,
             "{\"address\":\"https://vault.example.com\",\"mount\":\"kv\",\"token\":\"%s\"}",
             canaries[0]);
    expect_refused("vault", scope, "credential_refused", "scope.token", canaries[0]);
    expect_refused("vault", "{\"address\":\"https://v.example.com\",\"mount\":\"kv\","
                            "\"Vault_Password\":\"x\"}",
                   "credential_refused", "scope.Vault_Password", NULL);
    expect_refused("aws-sm", "{\"region\":\"eu-west-1\",\"secret_access_key\":\"abc\"}",
                   "credential_refused", "scope.secret_access_key", NULL);
    expect_refused("gcp-sm", "{\"project_id\":\"p\",\"private_key\":\"abc\"}",
                   "credential_refused", "scope.private_key", NULL);
    snprintf(scope, sizeof scope, "{\"region\":\"%s\"}", canaries[1]);
    expect_refused("aws-sm", scope, "credential_refused", "scope.region", canaries[1]);
    snprintf(scope, sizeof scope,
             "{\"address\":\"https://v.example.com\",\"mount\":\"kv\",\"namespace\":\"%s\"}",
             canaries[2]);
    expect_refused("vault", scope, "credential_refused", "scope.namespace", canaries[2]);
    snprintf(scope, sizeof scope, "{\"context\":\"%s\"}", canaries[3]);
    expect_refused("kubernetes", scope, "credential_refused", "scope.context", canaries[3]);
    snprintf(scope, sizeof scope, "{\"project_id\":\"x %s\"}", canaries[4]);
    expect_refused("gcp-sm", scope, "credential_refused", "scope.project_id", canaries[4]);
    snprintf(scope, sizeof scope, "{\"vault_name\":\"%s\"}", canaries[5]);
    expect_refused("azure-kv", scope, "credential_refused", "scope.vault_name", canaries[5]);
    expect_refused("kubernetes", "{\"context\":\"-----BEGIN PRIVATE KEY-----\\nMIIE\"}",
                   "credential_refused", "scope.context", "BEGIN");
    /* a secret-shaped KEY is not echoed either */
    snprintf(scope, sizeof scope, "{\"context\":\"c\",\"%s\":\"v\"}", canaries[1]);
    expect_refused("kubernetes", scope, "credential_refused", "scope key #2", canaries[1]);
    /* on update too */
    sb_api_response r;
    cr_assert_eq(create(admin, &r, "good-vault", "vault",
                        "{\"address\":\"https://v.example.com\",\"mount\":\"kv\"}"),
                 201, "%s", r.body);
    char id[40];
    id_of(&r, id);
    snprintf(scope, sizeof scope,
             "{\"scope\":{\"address\":\"https://v.example.com\",\"mount\":\"%s\"}}", canaries[2]);
    cr_assert_eq(sb_api_call(h, "PUT", path3("/api/v1/provider-connections/", id, ""), scope,
                             admin, NULL, &r),
                 422, "%s", r.body);
    cr_assert_str_eq(error_code(&r), "credential_refused");
    sb_api_response_free(&r);

    cr_assert_eq(sql_int("SELECT count(*) FROM provider_connections"), 1, "only the good one");
    cr_assert_eq(sql_int("SELECT count(*) FROM provider_connections WHERE scope::text LIKE "
                         "'%%CANARY%%'"),
                 0);
    for (size_t i = 0; i < sizeof canaries / sizeof canaries[0]; i++)
        cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE details::text LIKE '%%%s%%'",
                             canaries[i]),
                     0, "canary %zu is not in the audit log", i);
    cr_assert_geq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'connection.create'"
                          " AND outcome = 'denied' AND details->>'rule' = 'I4'"),
                  11);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'connection.update'"
                         " AND outcome = 'denied'"),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'connection.update'"
                         " AND outcome = 'success'"),
                 0);
}

Test(connections, per_type_scope_rules)
{
    static const struct {
        const char *type, *scope;
        long status;
        const char *needle;
    } cases[] = {
        {"vault", "{\"address\":\"https://v.example.com:8200\",\"mount\":\"kv\","
                  "\"namespace\":\"team-a\",\"kv_prefix\":\"apps/\"}", 201, NULL},
        {"vault", "{\"address\":\"https://v.example.com\"}", 422, "scope.mount"},
        {"vault", "{\"address\":\"ftp://v.example.com\",\"mount\":\"kv\"}", 422, "http"},
        {"vault", "{\"address\":\"https://u:p@v.example.com\",\"mount\":\"kv\"}", 422, "user"},
        {"vault", "{\"address\":\"https://v.example.com/?token=abc\",\"mount\":\"kv\"}", 422,
         "query"},
        {"vault", "{\"address\":\"https://v.example.com\",\"mount\":\"kv\",\"region\":\"x\"}", 422,
         "scope.region"},
        {"aws-sm", "{\"region\":\"eu-west-1\",\"role_arn\":\"arn:aws:iam::123456789012:role/"
                   "discovery-reader\",\"endpoint\":\"http://localhost:4566\"}", 201, NULL},
        {"aws-sm", "{\"region\":\"eu-west-1\",\"role_arn\":\"arn:aws:iam::12:role/x\"}", 422,
         "scope.role_arn"},
        {"aws-sm", "{\"role_arn\":\"arn:aws:iam::123456789012:role/x\"}", 422, "scope.region"},
        {"gcp-sm", "{\"project_id\":\"my-project-123\"}", 201, NULL},
        {"azure-kv", "{\"vault_name\":\"kv-prod\",\"tenant_id\":\"0000-1111\"}", 201, NULL},
        {"azure-kv", "{\"tenant_id\":\"0000-1111\"}", 422, "scope.vault_name"},
        {"kubernetes", "{\"context\":\"prod-eu\",\"namespace\":\"payments\"}", 201, NULL},
        {"kubernetes", "{\"context\":\"\"}", 422, "scope.context"},
        {"kubernetes", "{\"context\":7}", 422, "scope.context"},
        {"mystery", "{}", 422, "type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "conn-%zu", i);
        sb_api_response r;
        long st = create(admin, &r, name, cases[i].type, cases[i].scope);
        cr_assert_eq(st, cases[i].status, "case %zu: %ld %s", i, st, r.body);
        if (cases[i].needle)
            cr_assert(strstr(r.body, cases[i].needle), "case %zu: %s", i, r.body);
        if (st == 422)
            cr_assert_str_eq(error_code(&r), "invalid_value", "case %zu: %s", i, r.body);
        sb_api_response_free(&r);
    }
    sb_api_response r;
    expect_error(create(admin, &r, "Bad_Name", "gcp-sm", "{\"project_id\":\"p\"}"), &r, 422,
                 "invalid_value");
    expect_error(callf(admin, "POST", "/api/v1/provider-connections", &r,
                       "{\"name\":\"n1\",\"type\":\"gcp-sm\",\"scope\":{\"project_id\":\"p\"},"
                       "\"discovery_interval_s\":59}"),
                 &r, 422, "invalid_value");
    expect_error(callf(admin, "POST", "/api/v1/provider-connections", &r,
                       "{\"name\":\"n1\",\"type\":\"gcp-sm\",\"scope\":[]}"),
                 &r, 400, "invalid_field");
    expect_error(callf(admin, "POST", "/api/v1/provider-connections", &r,
                       "{\"name\":\"n1\",\"type\":\"gcp-sm\"}"),
                 &r, 400, "missing_field");
    expect_error(callf(admin, "POST", "/api/v1/provider-connections", &r,
                       "{\"name\":\"n1\",\"type\":\"gcp-sm\",\"scope\":{\"project_id\":\"p\"},"
                       "\"password\":\"x\"}"),
                 &r, 400, "unknown_field");
}

Test(connections, pure_rules_exempt_exact_names_only)
{
    const char *k1[] = {"address", "mount", "kv_prefix"}, *v1[] = {"https://a.b", "kv", "x/"};
    sb_error err = {0};
    cr_assert_eq(sb_connection_check_scope("vault", k1, v1, 3, &err), 0, "%s", err.message);
    const char *k2[] = {"address", "mount", "kv_prefix_token"};
    cr_assert_eq(sb_connection_check_scope("vault", k2, v1, 3, &err), -1);
    cr_assert_eq(err.code, SB_CONN_E_CREDENTIAL);
    cr_assert(sb_connection_value_secret_shaped("ASIAABCDEFGHIJKLMNOP"));
    cr_assert(sb_connection_value_secret_shaped("s.abcdefghijklmnopqrstuvwx"));
    cr_assert(!sb_connection_value_secret_shaped("s.short"));
    cr_assert(!sb_connection_value_secret_shaped("vault.internal.example.com"));
    cr_assert(!sb_connection_value_secret_shaped("arn:aws:iam::123456789012:role/a-very-long-"
                                                 "role-name-used-by-the-discovery-agent-x"));
    cr_assert(!sb_connection_value_secret_shaped("https://vault.example.com:8200/v1/secret"));
    cr_assert(sb_connection_key_credential_shaped("apiKey"));
    cr_assert(sb_connection_key_credential_shaped("AUTH_METHOD"));
    cr_assert(!sb_connection_key_credential_shaped("kv_prefix"));
}

Test(connections, crud_bindings_and_audit)
{
    char team[40], proj[40], other[40], env[40], env_other[40], id[40], bind[40];
    make_team(admin, "Conn Team", NULL, team);
    make_project(admin, "conn-proj", team, proj);
    make_project(admin, "conn-other", team, other);
    make_env(admin, proj, "dev", "non_prod", env);
    make_env(admin, other, "dev", "non_prod", env_other);
    sb_api_response r;
    cr_assert_eq(create(admin, &r, "vault-main", "vault",
                        "{\"address\":\"https://v.example.com\",\"mount\":\"kv\"}"),
                 201, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "discovery_interval_s")), 300);
    id_of(&r, id);
    expect_error(create(admin, &r, "vault-main", "gcp-sm", "{\"project_id\":\"p\"}"), &r, 409,
                 "name_taken");
    const char *c = path3("/api/v1/provider-connections/", id, "");
    cr_assert_eq(callf(admin, "GET", c, &r, NULL), 200);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "scope"), "mount")),
                     "kv");
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "PUT", c, &r,
                       "{\"scope\":{\"address\":\"https://v2.example.com\",\"mount\":\"kv2\"},"
                       "\"status\":\"disabled\",\"discovery_interval_s\":600}"),
                 200, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "disabled");
    sb_api_response_free(&r);
    expect_error(callf(admin, "PUT", c, &r, "{\"scope\":{\"project_id\":\"p\"}}"), &r, 422,
                 "invalid_value"); /* type is immutable: a vault scope is still required */
    char list[1024];
    list_ids(admin, "/api/v1/provider-connections?type=vault", list, sizeof list);
    cr_assert(listed(list, id));
    list_ids(admin, "/api/v1/provider-connections?type=gcp-sm", list, sizeof list);
    cr_assert(!listed(list, id));

    /* bindings */
    const char *b = path3("/api/v1/provider-connections/", id, "/bindings");
    cr_assert_eq(callf(admin, "POST", b, &r, "{\"project_id\":\"%s\",\"environment_id\":\"%s\"}",
                       proj, env),
                 201, "%s", r.body);
    id_of(&r, bind);
    expect_error(callf(admin, "POST", b, &r, "{\"project_id\":\"%s\",\"environment_id\":\"%s\"}",
                       proj, env),
                 &r, 409, "already_exists");
    expect_error(callf(admin, "POST", b, &r, "{\"project_id\":\"%s\",\"environment_id\":\"%s\"}",
                       proj, env_other),
                 &r, 422, "invalid_value");
    cr_assert_eq(callf(admin, "POST", b, NULL, "{\"project_id\":\"%s\"}", other), 201);
    list_ids(admin, b, list, sizeof list);
    cr_assert(listed(list, bind));
    expect_error(callf(admin, "DELETE", c, &r, NULL), &r, 409, "refused");
    char one[160];
    snprintf(one, sizeof one, "%s/%s", b, bind);
    cr_assert_eq(callf(admin, "DELETE", one, NULL, NULL), 204);
    expect_error(callf(admin, "DELETE", one, &r, NULL), &r, 404, "not_found");
    cr_assert_eq(sql_int("DELETE FROM connection_bindings WHERE connection_id = '%s'", id), 0);
    cr_assert_eq(callf(admin, "DELETE", c, NULL, NULL), 204);
    cr_assert_eq(get(admin, c), 404);

    const char *actions[] = {"connection.create", "connection.update", "connection.binding.create",
                             "connection.binding.delete", "connection.delete"};
    long long want[] = {1, 1, 2, 1, 1};
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = '%s' AND resource"
                             " = 'connection:%s' AND outcome = 'success'",
                             actions[i], id),
                     want[i], "%s", actions[i]);
}

Test(connections, integration_edit_from_a_global_grant_only)
{
    char team[40], uid[40], cookie[256], dev[256], did[40];
    make_team(admin, "Edit Team", NULL, team);
    make_user("team-admin", "admin", "team", team, uid, cookie);
    make_user("dev", "developer", "global", NULL, did, dev);
    sb_api_response r;
    expect_error(create(cookie, &r, "x", "gcp-sm", "{\"project_id\":\"p\"}"), &r, 403,
                 "forbidden");
    expect_error(create(dev, &r, "x", "gcp-sm", "{\"project_id\":\"p\"}"), &r, 403, "forbidden");
    expect_error(callf(cookie, "GET", "/api/v1/provider-connections", &r, NULL), &r, 403,
                 "forbidden");
    cr_assert_eq(sql_int("SELECT count(*) FROM provider_connections"), 0);
}

Test(connections, cluster_names_the_agents_boundary)
{
    sb_api_response r;
    long st = callf(admin, "POST", "/api/v1/provider-connections", &r,
                    "{\"name\":\"k8s-east\",\"type\":\"kubernetes\",\"scope\":{\"context\":\"c\"},"
                    "\"cluster\":\"DC East\"}");
    expect_error(st, &r, 422, "invalid_value");
    cr_assert_eq(sql_int("SELECT count(*) FROM provider_connections"), 0);
    st = callf(admin, "POST", "/api/v1/provider-connections", &r,
               "{\"name\":\"k8s-east\",\"type\":\"kubernetes\",\"scope\":{\"context\":\"c\"},"
               "\"cluster\":\"dc-east\"}");
    cr_assert_eq(st, 201, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "cluster")), "dc-east");
    char id[40];
    id_of(&r, id);
    const char *c = path3("/api/v1/provider-connections/", id, "");
    cr_assert_eq(callf(admin, "PUT", c, &r, "{\"cluster\":\"dc-west\"}"), 200, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "cluster")), "dc-west");
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "PUT", c, &r, "{\"description\":\"no cluster change\"}"), 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "cluster")), "dc-west");
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "PUT", c, &r, "{\"cluster\":null}"), 200, "%s", r.body);
    cr_assert(json_is_null(json_object_get(r.json, "cluster")), "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM provider_connections WHERE cluster IS NULL"), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'connection.update' AND "
                         "details->'fields' ? 'cluster'"),
                 2);
}
