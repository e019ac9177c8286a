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
#include <sys/prctl.h>

#include "agent_process.h"
#include "agent_test_util.h"

static agent_proc p, q;
static pid_t emu_pid = -1;
static int emu_port;
static char emu_dir[64];

static void emu_stop(void)
{
    if (emu_pid > 0) {
        kill(emu_pid, SIGTERM);
        waitpid(emu_pid, NULL, 0);
        emu_pid = -1;
    }
    if (emu_dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", emu_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", emu_dir);
        emu_dir[0] = '\0';
    }
}

static void teardown(void)
{
    if (p.dir[0])
        agent_proc_cleanup(&p);
    if (q.dir[0])
        agent_proc_cleanup(&q);
    emu_stop();
    tenancy_teardown();
}

TestSuite(e2e_vault, .init = tenancy_setup, .fini = teardown, .timeout = 300);

static void emu_start(void)
{
    snprintf(emu_dir, sizeof emu_dir, "/tmp/sb-e2e-vault-XXXXXX");
    cr_assert_not_null(mkdtemp(emu_dir));
    char port_file[128], script[512];
    snprintf(port_file, sizeof port_file, "%s/port", emu_dir);
    snprintf(script, sizeof script, "%s/tests/emulators/vault/vault_emulator.py", SB_SOURCE_DIR);
    emu_pid = fork();
    if (emu_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execlp("python3", "python3", script, "--port", "0", "--port-file", port_file, (char *)NULL);
        _exit(127);
    }
    int64_t until = ap_now_ms() + 15000;
    while (ap_now_ms() < until) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            int ok = fscanf(f, "%d", &emu_port) == 1;
            fclose(f);
            if (ok && emu_port > 0)
                return;
        }
        ap_pause();
    }
    cr_assert_fail("the Vault emulator did not start");
}

static size_t grow(char *data, size_t size, size_t n, void *user)
{
    char **buf = user;
    size_t have = *buf ? strlen(*buf) : 0, len = size * n;
    *buf = realloc(*buf, have + len + 1);
    memcpy(*buf + have, data, len);
    (*buf)[have + len] = '\0';
    return len;
}

/* A call to the emulator: Vault's API as another client (token root) or,
 * for /_emulator/ paths, its control API. The status; *out the body. */
static long emu(const char *method, const char *path, const char *json, char **out)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", emu_port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "X-Vault-Token: root");
    hd = curl_slist_append(hd, "X-Emulator-Admin: 1");
    hd = curl_slist_append(hd, "Content-Type: application/json");
    char *body = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    if (json)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, grow);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hd);
    curl_easy_cleanup(c);
    if (out)
        *out = body ? body : strdup("");
    else
        free(body);
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
    agent_proc_prepare(a, sb_api_harness_base_url(h), "vault-a", 0, NULL);
    FILE *f = fopen(a->config, "r");
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, "plugins:\n  load: []\n");
    cr_assert_not_null(at);
    *at = '\0';
    const char *rest = at + strlen("plugins:\n  load: []\n");
    f = fopen(a->config, "w");
    fprintf(f,
            "%splugins:\n  directory: %s\n  load:\n    - name: vault\n      file: vault.so\n"
            "providers:\n  - name: vault-a\n    plugin: vault\n    config:\n"
            "      address: http://127.0.0.1:%d\n      auth: token\n      token: root\n"
            "      allow_insecure_http: true\n%s",
            text, SB_PLUGIN_OUT_DIR, emu_port, rest);
    fclose(f);
    agent_proc_start(a, token);
    cr_assert(agent_proc_health_is(a, "/readyz", 200, 20000), "the agent never became ready");
}

static int poll_sql(long long want, int64_t ms, const char *q_text)
{
    int64_t until = ap_now_ms() + ms;
    do {
        if (sql_int("%s", q_text) == want)
            return 1;
        ap_pause();
    } while (ap_now_ms() < until);
    return 0;
}

static void wait_job(const char *req, const char *state)
{
    char job[40], qt[300];
    job_of(req, job);
    snprintf(qt, sizeof qt, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = '%s'", job, state);
    if (!poll_sql(1, 30000, qt)) {
        char row[600];
        snprintf(qt, sizeof qt,
                 "SELECT state || ' attempts=' || attempts || ' error=' || coalesce(last_error, '')"
                 " || ' owner=' || coalesce(lease_owner::text, '') FROM jobs WHERE id = '%s'",
                 job);
        sb_api_harness_sql(h, qt, row, sizeof row);
        char events[2000];
        snprintf(qt, sizeof qt,
                 "SELECT string_agg(action || ' by ' || actor || ' at ' || occurred_at::text, E'\\n'"
                 " ORDER BY id) FROM audit_events WHERE resource = 'job:%s'",
                 job);
        sb_api_harness_sql(h, qt, events, sizeof events);
        fprintf(stderr, "---- job events:\n%s\n", events);
        for (int i = 0; i < 2; i++) {
            char *log = agent_proc_log(i ? &q : &p);
            fprintf(stderr, "---- agent %c log (tail):\n%s\n", i ? 'q' : 'p',
                    strlen(log) > 4000 ? log + strlen(log) - 4000 : log);
            free(log);
        }
        cr_assert_fail("job %s of request %s never reached %s: %s", job, req, state, row);
    }
}

static void reveal_key(const char *req, const char *key, char *out, size_t cap)
{
    char qt[300], wrap[40], path[256];
    snprintf(qt, sizeof qt, "SELECT id FROM secret_wraps WHERE request_id = '%s' AND key_name = '%s'",
             req, key);
    cr_assert_eq(sb_api_harness_sql(h, qt, wrap, sizeof wrap), 1);
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps/%s/reveal", req, wrap);
    sb_api_response r;
    cr_assert_eq(callf(dev, "POST", path, &r, "{}"), 200, "%s", r.body);
    snprintf(out, cap, "%s", jstr(&r, "value"));
    sb_api_response_free(&r);
}

/* A patch of password to value, sealed to the live agents' keys (the
 * agent-keys route), approved; its request id into req. */
static void approved_patch(const char *binding, const char *value, char *req)
{
    sb_api_response r;
    char path[160];
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/agent-keys", conn_id);
    cr_assert_eq(callf(dev, "GET", path, &r, NULL), 200, "%s", r.body);
    char extra[4096];
    size_t n = (size_t)snprintf(extra, sizeof extra, "\"keys\":[\"password\"],\"sealed_values\":[");
    json_t *item;
    size_t i;
    json_array_foreach(json_object_get(r.json, "items"), i, item)
    {
        const char *pk64 = json_string_value(json_object_get(item, "public_key"));
        unsigned char pk[32], box[256];
        size_t pk_len;
        cr_assert_eq(sodium_base642bin(pk, sizeof pk, pk64, strlen(pk64), NULL, &pk_len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL), 0);
        crypto_box_seal(box, (const unsigned char *)value, strlen(value), pk);
        char box64[400];
        sodium_bin2base64(box64, sizeof box64, box, strlen(value) + crypto_box_SEALBYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        n += (size_t)snprintf(extra + n, sizeof extra - n,
                              "%s{\"key\":\"password\",\"recipient\":\"%s\",\"box\":\"%s\"}",
                              i ? "," : "", pk64, box64);
    }
    snprintf(extra + n, sizeof extra - n, "]");
    sb_api_response_free(&r);
    cr_assert_eq(submit(dev, "patch", binding, extra, &r), 201, "%s", r.body);
    id_of(&r, req);
    cr_assert_eq(act(ap[0], req, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
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
    vault_agent(&p, token);

    /* read: approved, executed by the agent through Vault, revealed once */
    sb_api_response r;
    cr_assert_eq(submit(dev, "read", binding, "\"keys\":[\"user\",\"password\"]", &r), 201, "%s",
                 r.body);
    id_of(&r, req);
    cr_assert_eq(act(ap[0], req, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    wait_job(req, "succeeded");
    reveal_key(req, "password", got, sizeof got);
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
    approved_patch(binding, "canary-vault-pw-2", req);
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
    wait_job(req, "succeeded");
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
    char *log = agent_proc_log(&p);
    cr_assert_null(strstr(log, "canary-vault-pw"), "a value reached the agent's log");
    free(log);
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
    char token[128], path[160], job[40], qt[300];
    mint(conn_id, token, sizeof token, NULL);
    vault_agent(&p, token);
    sb_api_response r;
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/discover-jobs", conn_id);
    cr_assert_eq(callf(admin, "POST", path, &r, "{}"), 201, "%s", r.body);
    id_of(&r, job);
    snprintf(qt, sizeof qt, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'succeeded'", job);
    cr_assert(poll_sql(1, 120000, qt), "the discovery did not finish");
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE connection_id = '%s' AND "
                         "secret_ref LIKE 'teams/%%'",
                         conn_id),
                 2000);
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = "
                         "'teams/t3/svc-1704' AND labels = '{\"team\":\"t3\",\"Owner Name\":"
                         "\"Ada 1704\"}'::jsonb"),
                 1);
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
    vault_agent(&p, token);
    vault_agent(&q, token2);
    /* whichever agent reads first is held there, and killed */
    cr_assert_eq(emu("POST", "/_emulator/faults",
                     "{\"method\":\"GET\",\"path_regex\":\"^/v1/secret/data/app/db$\","
                     "\"delay_ms\":4000,\"count\":1}",
                     NULL),
                 200);
    int before = writes_seen("app/db");
    approved_patch(binding, "after-kill", req);
    char job[40], qt[300], holder[40];
    job_of(req, job);
    snprintf(qt, sizeof qt, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = 'leased'", job);
    cr_assert(poll_sql(1, 20000, qt), "nobody claimed the job");
    snprintf(qt, sizeof qt, "SELECT lease_owner FROM jobs WHERE id = '%s'", job);
    cr_assert_eq(sb_api_harness_sql(h, qt, holder, sizeof holder), 1);
    char p_id[40];
    json_error_t e;
    json_t *idj = json_load_file(p.id_file, 0, &e);
    snprintf(p_id, sizeof p_id, "%s", json_string_value(json_object_get(idj, "agent_id")));
    json_decref(idj);
    agent_proc *victim = strcmp(holder, p_id) == 0 ? &p : &q;
    agent_proc_kill(victim);
    /* the lease (30 s) ends; the server's recovery sweep queues the job again */
    sb_api_harness_sql(h, "UPDATE jobs SET lease_expires_at = now() WHERE state = 'leased'", NULL, 0);
    size_t swept = 0;
    sb_error err = {0};
    cr_assert_eq(sb_job_sweep_leases(sb_api_harness_db(h), 100, &swept, &err), 0, "%s", err.message);
    wait_job(req, "succeeded");
    expect_state(req, "executed");
    cr_assert_eq(writes_seen("app/db") - before, 1, "Vault saw other than one write of the patch");
    json_t *data = kv_data("app/db", NULL);
    cr_assert_str_eq(json_string_value(json_object_get(data, "password")), "after-kill");
    cr_assert_str_eq(json_string_value(json_object_get(data, "user")), "app");
    json_decref(data);
    cr_assert_eq(sql_int("SELECT attempts FROM jobs WHERE id = '%s'", job), 2,
                 "the killed agent's parked claim was handed the job again");
}
