/*
 * test_e2e_vault.c — the three flows end to end through the real control
 * plane (PostgreSQL + HTTP on loopback), the real agent executable
 * (sbridge-agent) with the Vault plugin, and the strict Vault emulator
 * (tests/emulators/vault): a read approved and revealed once; a patch that
 * merges one key while another Vault client changes a different key at the
 * same moment (compare-and-set conflict, re-read, merge: both survive, the
 * custom_metadata untouched, the values never in any log); a discovery of
 * 2,000 secrets whose custom_metadata become catalog labels verbatim; and an
 * agent killed (-9) in the middle of a patch: the lease expires, another
 * agent completes the job once, Vault holds exactly one write of it.
 */
#include "e2e_test_util.h"

TestSuite(e2e_vault, .init = tenancy_setup, .fini = e2e_teardown, .timeout = 300);

static void emu_start(void) { es_emulator_start("tests/emulators/vault/vault_emulator.py", NULL); }

/* A call to the emulator: Vault's API as another client (token root) or,
 * for /_emulator/ paths, its control API. The status; *out the body. */
static long emu(const char *method, const char *path, const char *json, char **out)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", es_port(), path);
    struct curl_slist *hd = curl_slist_append(NULL, "X-Vault-Token: root");
    hd = curl_slist_append(hd, "X-Emulator-Admin: 1");
    hd = curl_slist_append(hd, "Content-Type: application/json");
    long code = es_http(method, url, hd, json, out);
    curl_slist_free_all(hd);
    return code;
}

/* KV v2 data of secret/<path> read as another client, as JSON (caller frees). */
static json_t *kv_data(const char *path, json_t **metadata)
{
    char url[256], *body;
    snprintf(url, sizeof url, "/v1/secret/data/%s", path);
    cr_assert_eq(emu("GET", url, NULL, &body), 200, "%s", body);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    json_t *data = json_incref(json_object_get(json_object_get(j, "data"), "data"));
    if (metadata)
        *metadata = json_incref(json_object_get(
            json_object_get(json_object_get(j, "data"), "metadata"), "custom_metadata"));
    json_decref(j);
    return data;
}

/* An agent of vault-a with the Vault plugin pointed at the emulator. */
static void vault_agent(agent_proc *a, const char *token)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "      address: http://127.0.0.1:%d\n      auth: token\n      token: root\n"
             "      allow_insecure_http: true\n",
             es_port());
    e2e_agent(a, token, "vault", NULL, cfg);
}

/* POSTs to secret/data/<path> the emulator has seen (the writes). */
static int writes_seen(const char *path)
{
    char *body;
    cr_assert_eq(emu("GET", "/_emulator/requests", NULL, &body), 200);
    json_t *log = json_loads(body, 0, NULL), *e;
    free(body);
    char want[256];
    snprintf(want, sizeof want, "/v1/secret/data/%s", path);
    size_t i;
    int n = 0;
    json_array_foreach(log, i, e)
    {
        n += strcmp(json_string_value(json_object_get(e, "method")), "POST") == 0 &&
             strcmp(json_string_value(json_object_get(e, "path")), want) == 0;
    }
    json_decref(log);
    return n;
}

Test(e2e_vault, read_and_a_patch_racing_another_writer_merge_with_compare_and_set)
{
    request_world();
    emu_start();
    cr_assert_eq(emu("POST", "/_emulator/kv/secret/app/db",
                     "{\"data\":{\"user\":\"app\",\"password\":\"canary-vault-pw-1\"},"
                     "\"custom_metadata\":{\"owner\":\"payments\",\"rotation\":\"90d\"}}",
                     NULL),
                 200);
    char token[128], binding[40], req[40], got[128];
    snprintf(binding, 40, "%s", bind_dev); /* app/db, keys user and password (the world's) */
    mint(conn_id, token, sizeof token, NULL);
    vault_agent(&e2e_agents[0], token);

    /* read: approved, executed by the agent through Vault, revealed once */
    e2e_executed_read(binding, "[\"user\",\"password\"]", req);
    e2e_reveal_key(req, "password", got, sizeof got);
    cr_assert_str_eq(got, "canary-vault-pw-1");

    /* patch: the agent's write is held for 2 s; meanwhile another client
     * changes user. The agent's compare-and-set fails, it re-reads and
     * merges: both changes survive. */
    int before = writes_seen("app/db");
    cr_assert_eq(emu("POST", "/_emulator/faults",
                     "{\"method\":\"POST\",\"path_regex\":\"^/v1/secret/data/app/db$\","
                     "\"delay_ms\":2000,\"count\":1}",
                     NULL),
                 200);
    e2e_approved_patch(binding, "password", "canary-vault-pw-2", req);
    int64_t until = ap_now_ms() + 30000;
    while (writes_seen("app/db") == before) {
        cr_assert_lt(ap_now_ms(), until, "the agent never wrote");
        ap_pause();
    }
    char *body;
    cr_assert_eq(emu("POST", "/v1/secret/data/app/db",
                     "{\"data\":{\"user\":\"app-2\",\"password\":\"canary-vault-pw-1\"}}", &body),
                 200, "%s", body);
    free(body);
    e2e_wait_job(req, "succeeded");
    expect_state(req, "executed");
    json_t *meta = NULL, *data = kv_data("app/db", &meta);
    cr_assert_str_eq(json_string_value(json_object_get(data, "password")), "canary-vault-pw-2",
                     "the patch was lost");
    cr_assert_str_eq(json_string_value(json_object_get(data, "user")), "app-2",
                     "the other writer's change was lost");
    cr_assert_str_eq(json_string_value(json_object_get(meta, "owner")), "payments");
    cr_assert_str_eq(json_string_value(json_object_get(meta, "rotation")), "90d");
    json_decref(data);
    json_decref(meta);
    cr_assert_geq(writes_seen("app/db"), before + 3, "no conflict was met and retried");

    /* no value in the agent's log */
    e2e_assert_not_in_agent_logs("canary-vault-pw");
}

Test(e2e_vault, a_discovery_of_2000_secrets_keeps_custom_metadata_as_labels)
{
    request_world();
    emu_start();
    /* 2,000 secrets under teams/<t>/svc-<i>, with custom metadata */
    for (int batch = 0; batch < 4; batch++) {
        size_t cap = 200000, n = 0;
        char *items = malloc(cap);
        n += (size_t)snprintf(items + n, cap - n, "{\"mount\":\"secret\",\"items\":[");
        for (int i = batch * 500; i < (batch + 1) * 500; i++)
            n += (size_t)snprintf(items + n, cap - n,
                                  "%s{\"path\":\"teams/t%d/svc-%d\",\"data\":{\"k\":\"v\"},"
                                  "\"custom_metadata\":{\"team\":\"t%d\",\"Owner Name\":\"Ada %d\"}}",
                                  i % 500 ? "," : "", i % 7, i, i % 7, i);
        snprintf(items + n, cap - n, "]}");
        cr_assert_eq(emu("POST", "/_emulator/kv-bulk", items, NULL), 200);
        free(items);
    }
    char token[128], job[40];
    mint(conn_id, token, sizeof token, NULL);
    vault_agent(&e2e_agents[0], token);
    e2e_discover(job, 120000);
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE connection_id = '%s' AND "
                         "secret_ref LIKE 'teams/%%'",
                         conn_id),
                 2000);
    cr_assert(e2e_catalog_labels_are("teams/t3/svc-1704",
                                     "{\"team\":\"t3\",\"Owner Name\":\"Ada 1704\"}"));
    sb_api_response r;
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/provider-connections/", conn_id, ""), &r, NULL),
                 200);
    json_t *d = json_object_get(r.json, "discovery");
    cr_assert_eq(json_integer_value(json_object_get(d, "count")), 2000, "%s", r.body);
    sb_api_response_free(&r);
}

Test(e2e_vault, an_agent_killed_mid_patch_leaves_the_job_to_another_that_writes_once)
{
    request_world();
    emu_start();
    cr_assert_eq(emu("POST", "/_emulator/kv/secret/app/db",
                     "{\"data\":{\"user\":\"app\",\"password\":\"old\"}}", NULL),
                 200);
    char token[128], token2[128], binding[40], req[40];
    snprintf(binding, 40, "%s", bind_dev); /* app/db, keys user and password (the world's) */
    mint(conn_id, token, sizeof token, NULL);
    mint(conn_id, token2, sizeof token2, NULL);
    vault_agent(&e2e_agents[0], token);
    vault_agent(&e2e_agents[1], token2);
    /* whichever agent reads first is held there, and killed */
    cr_assert_eq(emu("POST", "/_emulator/faults",
                     "{\"method\":\"GET\",\"path_regex\":\"^/v1/secret/data/app/db$\","
                     "\"delay_ms\":4000,\"count\":1}",
                     NULL),
                 200);
    int before = writes_seen("app/db");
    e2e_approved_patch(binding, "password", "after-kill", req);
    char job[40], qt[300], holder[40];
    job_of(req, job);
    snprintf(qt, sizeof qt, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'leased'", job);
    cr_assert(e2e_poll_sql(1, 20000, qt), "nobody claimed the job");
    snprintf(qt, sizeof qt, "SELECT lease_owner FROM jobs WHERE id = '%s'", job);
    cr_assert_eq(sb_api_harness_sql(h, qt, holder, sizeof holder), 1);
    char p_id[40];
    json_error_t e;
    json_t *idj = json_load_file(e2e_agents[0].id_file, 0, &e);
    snprintf(p_id, sizeof p_id, "%s", json_string_value(json_object_get(idj, "agent_id")));
    json_decref(idj);
    agent_proc *victim = strcmp(holder, p_id) == 0 ? &e2e_agents[0] : &e2e_agents[1];
    agent_proc_kill(victim);
    /* the lease (30 s) ends; the server's recovery sweep queues the job again */
    sb_api_harness_sql(h, "UPDATE jobs SET lease_expires_at = now() WHERE state = 'leased'", NULL, 0);
    size_t swept = 0;
    sb_error err = {0};
    cr_assert_eq(sb_job_sweep_leases(sb_api_harness_db(h), 100, &swept, &err), 0, "%s", err.message);
    e2e_wait_job(req, "succeeded");
    expect_state(req, "executed");
    cr_assert_eq(writes_seen("app/db") - before, 1, "Vault saw other than one write of the patch");
    json_t *data = kv_data("app/db", NULL);
    cr_assert_str_eq(json_string_value(json_object_get(data, "password")), "after-kill");
    cr_assert_str_eq(json_string_value(json_object_get(data, "user")), "app");
    json_decref(data);
    cr_assert_eq(sql_int("SELECT attempts FROM jobs WHERE id = '%s'", job), 2,
                 "the killed agent's parked claim was handed the job again");
}
