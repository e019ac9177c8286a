/*
 * test_e2e_azurekv.c — the three flows end to end with the Azure Key Vault
 * plugin (issue 14 item 4): the real control plane, the real agent
 * executable (sbridge-agent) loading azurekv.so, and the strict Key Vault
 * emulator over TLS (tests/emulators/azurekv: 401 challenge, Entra ID client
 * credentials, bearer tokens checked on every call). A read approved and
 * revealed once; a patch of one key of a JSON value that keeps the other
 * keys, the contentType and the tags, and writes one version; a patch whose
 * write another writer overtakes (caught by the plugin's re-check, re-read
 * and merged by the agent, so both changes survive); a discovery
 * under the instance's fence, through nextLink pages, with tags as catalog
 * labels.
 */
#include "e2e_test_util.h"

TestSuite(e2e_azurekv, .init = tenancy_setup, .fini = e2e_teardown, .timeout = 300);

static char ca_file[512];
static int tls_port;

/* Starts the emulator, reads its https port and CA, registers the app. */
static void emu_start(void)
{
    es_emulator_start("tests/emulators/azurekv/azurekv_emulator.py", NULL);
    char *out = NULL;
    cr_assert_eq(es_admin("GET", "info", NULL, &out), 200);
    json_t *info = json_loads(out, 0, NULL);
    free(out);
    cr_assert_not_null(info);
    tls_port = (int)json_integer_value(json_object_get(info, "tls_port"));
    snprintf(ca_file, sizeof ca_file, "%s", json_string_value(json_object_get(info, "ca_file")));
    json_decref(info);
    es_admin_ok("POST", "apps", "{\"client_id\":\"sbridge-agent\",\"client_secret\":\"e2e-secret\"}");
}

/* Key Vault names are [0-9a-zA-Z-]: the world's catalog secret becomes app-db. */
static void rename_world_secret(void)
{
    char q[200], cell[8];
    snprintf(q, sizeof q, "UPDATE catalog_secrets SET secret_ref = 'app-db' WHERE id = '%s'",
             secret_id);
    cr_assert_geq(sb_api_harness_sql(h, q, cell, sizeof cell), 0);
}

/* An agent of the world's connection with azurekv at the emulator. */
static void kv_agent(agent_proc *a, const char *token, const char *instance_keys)
{
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "      vault_url: https://127.0.0.1:%d\n      authority_host: https://127.0.0.1:%d\n"
             "      ca_file: %s\n      verify_challenge_resource: false\n"
             "      auth: client_secret\n      client_id: sbridge-agent\n"
             "      client_secret: e2e-secret\n",
             tls_port, tls_port, ca_file);
    e2e_agent(a, token, "azurekv", instance_keys, cfg);
}

/* The emulator's current version of `name` (control API peek), as JSON. */
static json_t *peek(const char *name)
{
    char body[128], *out;
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    cr_assert_eq(es_admin("POST", "peek", body, &out), 200, "%s", out);
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    cr_assert_not_null(j);
    return j;
}

Test(e2e_azurekv, read_reveal_and_a_patch_keep_the_other_keys_the_content_type_and_tags)
{
    request_world();
    rename_world_secret();
    emu_start();
    es_admin_ok("POST", "secrets",
                "{\"name\":\"app-db\",\"value\":\"{\\\"user\\\":\\\"app\\\",\\\"password\\\":"
                "\\\"canary-az-pw-1\\\",\\\"region\\\":\\\"westeurope\\\"}\","
                "\"contentType\":\"application/json\",\"tags\":{\"owner\":\"payments\"}}");
    char token[128], req[40], got[128];
    mint(conn_id, token, sizeof token, NULL);
    kv_agent(&e2e_agents[0], token, NULL);

    e2e_executed_read(bind_dev, "[\"user\",\"password\"]", req);
    e2e_reveal_key(req, "password", got, sizeof got);
    cr_assert_str_eq(got, "canary-az-pw-1");
    e2e_reveal_key(req, "user", got, sizeof got);
    cr_assert_str_eq(got, "app");

    json_t *before = peek("app-db");
    e2e_approved_patch(bind_dev, "password", "canary-az-pw-2", req);
    e2e_wait_job(req, "succeeded");
    expect_state(req, "executed");
    json_t *after = peek("app-db");
    json_t *data = json_loads(json_string_value(json_object_get(after, "value")), 0, NULL);
    cr_assert_not_null(data, "the value is no longer a JSON object");
    cr_assert_str_eq(json_string_value(json_object_get(data, "password")), "canary-az-pw-2");
    cr_assert_str_eq(json_string_value(json_object_get(data, "user")), "app");
    cr_assert_str_eq(json_string_value(json_object_get(data, "region")), "westeurope",
                     "a key outside the patch was lost");
    cr_assert_eq(json_object_size(data), 3);
    cr_assert_str_eq(json_string_value(json_object_get(after, "contentType")), "application/json");
    cr_assert(json_equal(json_object_get(after, "tags"), json_object_get(before, "tags")),
              "the tags changed");
    cr_assert_eq(json_integer_value(json_object_get(after, "versions")),
                 json_integer_value(json_object_get(before, "versions")) + 1,
                 "the patch wrote other than one version");
    json_decref(data);
    json_decref(before);
    json_decref(after);
    e2e_assert_not_in_agent_logs("canary-az-pw");
    e2e_assert_not_in_agent_logs("e2e-secret");
}

Test(e2e_azurekv, a_writer_right_after_the_agents_write_is_merged_not_lost)
{
    request_world();
    rename_world_secret();
    emu_start();
    es_admin_ok("POST", "secrets",
                "{\"name\":\"app-db\",\"value\":\"{\\\"user\\\":\\\"app\\\",\\\"password\\\":"
                "\\\"old\\\",\\\"region\\\":\\\"westeurope\\\"}\",\"tags\":{\"owner\":\"payments\"}}");
    /* right after the agent's PUT, another writer changes the region (and, not
     * knowing of the patch, puts the old password back) */
    es_admin_ok("POST", "race",
                "{\"name\":\"app-db\",\"value\":\"{\\\"user\\\":\\\"app\\\",\\\"password\\\":"
                "\\\"old\\\",\\\"region\\\":\\\"northeurope\\\"}\"}");
    char token[128], req[40];
    mint(conn_id, token, sizeof token, NULL);
    kv_agent(&e2e_agents[0], token, NULL);
    e2e_approved_patch(bind_dev, "password", "canary-az-new", req);
    e2e_wait_job(req, "succeeded");
    json_t *after = peek("app-db");
    json_t *data = json_loads(json_string_value(json_object_get(after, "value")), 0, NULL);
    cr_assert_not_null(data);
    cr_assert_str_eq(json_string_value(json_object_get(data, "password")), "canary-az-new",
                     "the patch was lost to the other writer");
    cr_assert_str_eq(json_string_value(json_object_get(data, "region")), "northeurope",
                     "the other writer's change was lost");
    cr_assert_eq(json_integer_value(json_object_get(after, "versions")), 4,
                 "seed, the agent's first write, the other writer, the merged write");
    json_decref(data);
    json_decref(after);
    char *log = NULL;
    cr_assert_eq(es_admin("GET", "requests", NULL, &log), 200);
    cr_assert_eq(es_count(log, "\"op\": \"SetSecret\", \"status\": 200"), 2,
                 "the agent should have written, seen the conflict, re-read and written again: %s",
                 log);
    free(log);
    e2e_assert_not_in_agent_logs("canary-az-new");
}

Test(e2e_azurekv, a_discovery_keeps_to_the_fence_follows_next_links_and_labels_by_tags)
{
    request_world();
    emu_start();
    /* 60 secrets (three pages of 25); every other one is env=prod, the instance's fence */
    for (int i = 0; i < 60; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"name\":\"svc-%03d\",\"value\":\"x\",\"tags\":{\"env\":\"%s\",\"team\":\"t%d\"}}",
                 i, i % 2 ? "dev" : "prod", i % 5);
        es_admin_ok("POST", "secrets", body);
    }
    char token[128], job[40];
    mint(conn_id, token, sizeof token, NULL);
    kv_agent(&e2e_agents[0], token, "    fence:\n      env: prod\n");
    e2e_discover(job, 120000);

    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE connection_id = '%s' AND "
                         "secret_ref LIKE 'svc-%%'",
                         conn_id),
                 30, "the fence was not applied (or secrets were lost across pages)");
    cr_assert(e2e_catalog_labels_are("svc-010", "{\"env\":\"prod\",\"team\":\"t0\"}"));
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = 'svc-011'"), 0,
                 "a secret outside the fence reached the catalog");
    char *log = NULL;
    cr_assert_eq(es_admin("GET", "requests", NULL, &log), 200);
    cr_assert_geq(es_count(log, "\"op\": \"GetSecrets\", \"status\": 200"), 3,
                  "the discovery did not page through nextLink: %s", log);
    free(log);
}
