/*
 * test_e2e_gcpsm.c — the three flows end to end with the GCP Secret Manager
 * plugin: the real control plane, the real agent executable (sbridge-agent)
 * loading gcpsm.so, and the strict GCP emulator (tests/emulators/gcpsm: the
 * service-account assertion verified against its public key, the bearer token
 * on every call, the CRC32C of every added version). A read approved and
 * revealed once; a patch of one key of a JSON payload while another writer
 * adds a version changing a different key (the agent's read is held, its
 * compare-and-set sees the newest enabled version moved, it re-reads and
 * merges: both survive, the payload stays a JSON object with its other keys,
 * the labels untouched, no orphan version); a discovery with metadata-server
 * tokens under the plugin's label fence, paged through pageToken, with labels
 * as catalog labels.
 */
#include "e2e_test_util.h"

TestSuite(e2e_gcpsm, .init = tenancy_setup, .fini = e2e_teardown, .timeout = 300);

#define READER "Authorization: Bearer e2e-reader"

static void emu_start(void)
{
    es_emulator_start("tests/emulators/gcpsm/gcpsm_emulator.py", NULL);
    es_admin_ok("POST", "tokens", "{\"token\":\"e2e-reader\"}"); /* the tests' own reads */
}

/* An agent of the world's connection with gcpsm pointed at the emulator:
 * a service-account key file the emulator generated, or its metadata server. */
static void gcp_agent(agent_proc *a, const char *token, int metadata, const char *extra_cfg)
{
    char cfg[1024];
    if (metadata) {
        snprintf(cfg, sizeof cfg,
                 "      project: test-project\n      endpoint: http://127.0.0.1:%d\n"
                 "      credentials: metadata\n      metadata_endpoint: http://127.0.0.1:%d\n%s",
                 es_port(), es_port(), extra_cfg ? extra_cfg : "");
    } else {
        char *key = NULL;
        cr_assert_eq(es_admin("POST", "service-account-keys",
                              "{\"client_email\":\"agent@test-project.iam.gserviceaccount.com\"}",
                              &key),
                     200, "%s", key);
        char *path = es_temp_file("agent-sa.json", key);
        free(key);
        snprintf(cfg, sizeof cfg,
                 "      project: test-project\n      endpoint: http://127.0.0.1:%d\n"
                 "      credentials: service_account\n      service_account_key_file: %s\n%s",
                 es_port(), path, extra_cfg ? extra_cfg : "");
        free(path);
    }
    e2e_agent(a, token, "gcpsm", NULL, cfg);
}

/* GET <rel> of the emulator's API as another client; the JSON answer. */
static json_t *api_get(const char *rel)
{
    char url[512], *out = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/projects/test-project/%s", es_port(), rel);
    struct curl_slist *hd = curl_slist_append(NULL, READER);
    long st = es_http("GET", url, hd, NULL, &out);
    curl_slist_free_all(hd);
    cr_assert_eq(st, 200, "%s: %s", rel, out);
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    cr_assert_not_null(j);
    return j;
}

/* The newest version's payload of secret `id`, parsed as JSON (NULL when not JSON). */
static json_t *latest_payload(const char *id)
{
    char rel[256];
    snprintf(rel, sizeof rel, "secrets/%s/versions/latest:access", id);
    json_t *j = api_get(rel);
    const char *b64 = json_string_value(json_object_get(json_object_get(j, "payload"), "data"));
    cr_assert_not_null(b64);
    unsigned char raw[4096];
    size_t len = 0;
    cr_assert_eq(sodium_base642bin(raw, sizeof raw - 1, b64, strlen(b64), NULL, &len, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0);
    raw[len] = '\0';
    json_decref(j);
    return json_loads((const char *)raw, 0, NULL);
}

static size_t versions_of(const char *id)
{
    char rel[256];
    snprintf(rel, sizeof rel, "secrets/%s/versions", id);
    json_t *j = api_get(rel);
    size_t n = json_array_size(json_object_get(j, "versions"));
    json_decref(j);
    return n;
}

/* How many logged requests of operation `op` the emulator has seen. */
static int calls_of(const char *op)
{
    char *out, needle[64];
    cr_assert_eq(es_admin("GET", "requests", NULL, &out), 200);
    snprintf(needle, sizeof needle, "\"op\": \"%s\"", op);
    int n = (int)es_count(out, needle);
    free(out);
    return n;
}

/* A catalog secret `ref` of the world's connection with a dev binding
 * (keys user and password); GCP secret ids have no '/', unlike the world's
 * app/db. The binding id into out. */
static void gcp_binding(const char *ref, char *out)
{
    sb_db_conn *conn;
    sb_error err = {0};
    int64_t n = 0;
    char batch[128], q[256];
    snprintf(batch, sizeof batch, "[{\"secret_ref\":\"%s\"}]", ref);
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &conn, &err), 0);
    cr_assert_eq(sb_catalog_store_upsert_batch(conn, conn_id, batch, false, &n, &err), 0, "%s",
                 err.message);
    sb_db_release(sb_api_harness_db(h), conn);
    snprintf(q, sizeof q,
             "SELECT id FROM catalog_secrets WHERE connection_id = '%s' AND secret_ref = '%s'",
             conn_id, ref);
    cr_assert_eq(sb_api_harness_sql(h, q, secret_id, sizeof secret_id), 1);
    make_binding(env_dev, "[\"user\",\"password\"]", "[\"read\",\"patch\",\"reveal\"]", out);
}

Test(e2e_gcpsm, read_reveal_and_a_patch_racing_another_writer_keep_json_keys_and_labels)
{
    request_world();
    emu_start();
    es_admin_ok("POST", "secrets",
                "{\"secret_id\":\"app-db\",\"labels\":{\"owner\":\"payments\",\"tier\":\"gold\"},"
                "\"versions\":[{\"data\":\"{\\\"user\\\":\\\"app\\\",\\\"password\\\":"
                "\\\"canary-gcp-pw-1\\\",\\\"region\\\":\\\"eu-west1\\\"}\"}]}");
    char token[128], req[40], got[128], binding[40];
    gcp_binding("app-db", binding);
    mint(conn_id, token, sizeof token, NULL);
    gcp_agent(&e2e_agents[0], token, 0, NULL);

    e2e_executed_read(binding, "[\"user\",\"password\"]", req);
    e2e_reveal_key(req, "password", got, sizeof got);
    cr_assert_str_eq(got, "canary-gcp-pw-1");
    e2e_reveal_key(req, "user", got, sizeof got);
    cr_assert_str_eq(got, "app");

    /* the agent's read for the patch is held 2 s (answered as it was); meanwhile
     * another writer adds a version changing user: the agent's compare-and-set
     * sees the newest enabled version moved, it re-reads and merges */
    int accesses = calls_of("access");
    es_admin_ok("POST", "faults", "{\"target\":\"access\",\"delay_ms\":2000,\"count\":1}");
    e2e_approved_patch(binding, "password", "canary-gcp-pw-2", req);
    int64_t until = ap_now_ms() + ap_work_deadline_ms(30000);
    while (calls_of("access") == accesses) {
        cr_assert_lt(ap_now_ms(), until, "the agent never read"); /* logged when the hold starts */
        ap_pause();
    }
    es_admin_ok("POST", "add-version",
                "{\"secret_id\":\"app-db\",\"data\":\"{\\\"user\\\":\\\"app-2\\\",\\\"password\\\":"
                "\\\"canary-gcp-pw-1\\\",\\\"region\\\":\\\"eu-west1\\\"}\"}");
    e2e_wait_job(req, "succeeded");
    expect_state(req, "executed");
    /* the agent's compare that conflicted (1 listVersions), then its re-read
     * and the compare + newest of the retry (2) — before the test's own reads */
    cr_assert_eq(calls_of("listVersions"), 3, "no conflict was met and retried");
    cr_assert_eq(calls_of("access"), accesses + 2, "the agent did not re-read after the conflict");

    json_t *data = latest_payload("app-db");
    cr_assert_not_null(data, "the payload is no longer a JSON object");
    cr_assert_str_eq(json_string_value(json_object_get(data, "password")), "canary-gcp-pw-2");
    cr_assert_str_eq(json_string_value(json_object_get(data, "user")), "app-2",
                     "the other writer's change was lost");
    cr_assert_str_eq(json_string_value(json_object_get(data, "region")), "eu-west1",
                     "a key outside the patch was lost");
    cr_assert_eq(json_object_size(data), 3);
    json_decref(data);
    /* the seed, the other writer's and the merged one: the stale attempt added nothing */
    cr_assert_eq(versions_of("app-db"), 3);
    cr_assert_eq(calls_of("addVersion"), 1, "the agent added more than one version");
    json_t *secret = api_get("secrets/app-db");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(secret, "labels"), "owner")),
                     "payments", "the labels changed");
    cr_assert_eq(json_object_size(json_object_get(secret, "labels")), 2);
    json_decref(secret);
    e2e_assert_not_in_agent_logs("canary-gcp-pw");
}

Test(e2e_gcpsm, a_discovery_with_metadata_tokens_keeps_to_the_label_fence_and_labels)
{
    request_world();
    emu_start();
    /* 300 secrets; every other one is env=prod, the plugin's label fence */
    for (int i = 0; i < 300; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"secret_id\":\"svc-%03d\",\"labels\":{\"env\":\"%s\",\"team\":\"t%d\"},"
                 "\"versions\":[{\"data\":\"x\"}]}",
                 i, i % 2 ? "dev" : "prod", i % 5);
        es_admin_ok("POST", "secrets", body);
    }
    char token[128], job[40];
    mint(conn_id, token, sizeof token, NULL);
    gcp_agent(&e2e_agents[0], token, 1, "      label_fence:\n        env: prod\n");
    e2e_discover(job, 120000);

    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE connection_id = '%s' AND "
                         "secret_ref LIKE 'svc-%%'",
                         conn_id),
                 150, "the fence was not applied (or secrets were lost)");
    cr_assert(e2e_catalog_labels_are("svc-010", "{\"env\":\"prod\",\"team\":\"t0\"}"));
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = 'svc-011'"), 0,
                 "a secret outside the fence reached the catalog");
    char *log = NULL;
    cr_assert_eq(es_admin("GET", "requests", NULL, &log), 200);
    cr_assert_geq(es_count(log, "\"pageToken\": \""), 1, "no page was followed: %s", log);
    cr_assert_geq(es_count(log, "\"auth\": \"metadata\""), 1, "not metadata tokens");
    cr_assert_null(strstr(log, "\"auth\": \"jwt-bearer\""));
    free(log);
}
