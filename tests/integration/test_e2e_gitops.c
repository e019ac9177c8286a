/*
 * test_e2e_gitops.c — GitOps observation end to end (SPEC §13, issue 17):
 * the real control plane (PostgreSQL + HTTP on loopback), the real agent
 * executable with the Vault plugin against the strict Vault emulator, the
 * argocd plugin started through the real registry against the strict
 * Argo CD emulator (tests/emulators/argocd), and the worker's poll_gitops
 * task (worker/gitops_poller.h) driven batch by batch.
 *
 * One patch of a binding mapped to three applications:
 *   - payments-web rolls out (scripted) after the patch: it stays
 *     `observing` with no evidence until the rollout, then ends `applied`;
 *   - payments-idle was Healthy and Synced before and never rolls out: it
 *     is never `applied`, and ends `applied_unverified` at the timeout;
 *   - payments-bad rolls out and degrades: it ends `failed`.
 * Every state change is audited on the request, the observations are on
 * the request's API, the Argo CD emulator saw nothing but GET, and the
 * token reached neither the database nor a response.
 */
#include "e2e_test_util.h"
#include "gitops_test_util.h"
#include "store/outbox_store.h"
#include "worker/gitops_poller.h"

#define ARGO_TOKEN "argo-e2e-token-7f3a9"

static es_proc argo = {.pid = -1};

static void setup(void) { tenancy_setup(); }

static void teardown(void)
{
    es_proc_stop(&argo);
    e2e_teardown();
}

TestSuite(e2e_gitops, .init = setup, .fini = teardown, .timeout = 300);

/* The Argo CD emulator's control API; fails the test unless 200. */
static void argo_admin(const char *method, const char *name, const char *json, char **out)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_emulator/%s", argo.port, name);
    struct curl_slist *hd = curl_slist_append(NULL, "X-Emulator-Admin: 1");
    hd = curl_slist_append(hd, "Content-Type: application/json");
    char *body = NULL;
    long st = es_http(method, url, hd, json, &body);
    curl_slist_free_all(hd);
    cr_assert_eq(st, 200, "%s %s: %ld %s", method, name, st, body);
    if (out)
        *out = body;
    else
        free(body);
}

/* One poll_gitops batch, as the scheduler runs it. */
static void poll_once(sb_gitops_poller *p)
{
    size_t done = 0;
    sb_error err = {0};
    cr_assert_geq(sb_worker_poll_gitops(sb_api_harness_db(h), p, &done, &err), 0, "%s",
                  err.message);
}

Test(e2e_gitops, a_patch_is_applied_only_after_the_rollout_unverified_without_one_failed_degraded)
{
    request_world();
    es_emulator_start("tests/emulators/vault/vault_emulator.py", NULL);
    const char *argv[] = {"--token", ARGO_TOKEN, NULL};
    es_proc_start(&argo, "tests/emulators/argocd/argocd_emulator.py", argv);
    cr_assert_eq(es_admin("POST", "kv/secret/app/db",
                          "{\"data\":{\"user\":\"app\",\"password\":\"gitops-old\"}}", NULL),
                 200);
    const char *apps[] = {"payments-web", "payments-idle", "payments-bad"};
    for (int i = 0; i < 3; i++) {
        char body[200];
        snprintf(body, sizeof body,
                 "{\"name\":\"%s\",\"deployments\":[{\"name\":\"web\",\"replicas\":2}]}", apps[i]);
        argo_admin("POST", "apps", body, NULL);
    }

    /* the endpoint and the mappings, through the API */
    const sb_plugin_slot *plugin = gitops_plugin_start();
    sb_api_harness_app(h)->gitops_plugin = plugin;
    sb_api_harness_settings(h)->gitops_observation.timeout_ms = 15000;
    char ep[40], map[40];
    gitops_endpoint("argo-e2e", argo.port, ARGO_TOKEN, ep);
    for (int i = 0; i < 3; i++)
        gitops_map(ep, apps[i], "binding_id", bind_dev, map);
    sb_api_response r;
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/argocd-endpoints/", ep, "/health-check"), &r,
                       "{}"),
                 200, "%s", r.body);
    cr_assert(json_is_true(json_object_get(r.json, "healthy")), "%s", r.body);
    sb_api_response_free(&r);

    /* the patch, executed by the agent through Vault */
    char token[128], req[40], state[40];
    mint(conn_id, token, sizeof token, NULL);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "      address: http://127.0.0.1:%d\n      auth: token\n      token: root\n"
             "      allow_insecure_http: true\n",
             es_port());
    e2e_agent(&e2e_agents[0], token, "vault", NULL, cfg);
    e2e_approved_patch(bind_dev, "password", "gitops-new", req);
    e2e_wait_job(req, "succeeded");
    expect_state(req, "executed");
    cr_assert_eq(sql_int("SELECT count(*) FROM gitops_observations WHERE request_id = '%s' AND "
                         "state = 'pending'",
                         req),
                 3, "one pending observation per mapped application");
    cr_assert_eq(audit_rows("gitops_observation.create", "request", req), 3);

    /* the baselines, then polls before any rollout: no evidence */
    const char *channels[] = {"ops"}; /* a notifier channel: the outbox records events */
    sb_outbox_routing_set(channels, 1, "https://sb.example.test");
    sb_gitops_poller poller = {.plugin = plugin, .kms = sb_api_harness_app(h)->kms,
                               .min_backoff_ms = 300, .max_backoff_ms = 600};
    poll_once(&poller);
    for (int i = 0; i < 3; i++) {
        gitops_state(req, apps[i], state, sizeof state);
        cr_assert_str_eq(state, "observing", "%s", apps[i]);
    }
    cr_assert_eq(audit_rows("gitops_observation.baseline", "request", req), 3);
    int64_t quiet_until = ap_now_ms() + 1500;
    while (ap_now_ms() < quiet_until) {
        poll_once(&poller);
        ap_pause();
    }
    cr_assert_eq(sql_int("SELECT count(*) FROM gitops_observations WHERE request_id = '%s' AND "
                         "state = 'observing' AND evidence = 'none'",
                         req),
                 3, "Healthy and Synced before any rollout is no evidence");

    /* the scripted rollouts: one completes, one degrades; idle never rolls */
    argo_admin("POST", "rollout",
               "{\"app\":\"payments-web\",\"start_in\":0.5,\"pods_after\":1,\"ready_after\":2,"
               "\"outcome\":\"healthy\"}",
               NULL);
    argo_admin("POST", "rollout",
               "{\"app\":\"payments-bad\",\"start_in\":0.5,\"pods_after\":1,\"ready_after\":2,"
               "\"outcome\":\"degrade\"}",
               NULL);
    int saw_rolling = 0;
    int64_t until = ap_now_ms() + ap_work_deadline_ms(30000);
    for (;;) {
        poll_once(&poller);
        saw_rolling |= sql_int("SELECT count(*) FROM gitops_observations WHERE request_id = '%s' "
                               "AND application = 'payments-web' AND evidence = 'rolling'",
                               req) == 1;
        char idle[40];
        gitops_state(req, "payments-idle", idle, sizeof idle);
        cr_assert_str_neq(idle, "applied", "an application that never rolled out was applied");
        if (sql_int("SELECT count(*) FROM gitops_observations WHERE request_id = '%s' AND "
                    "finished_at IS NOT NULL",
                    req) == 3)
            break;
        cr_assert_lt(ap_now_ms(), until, "the observations never ended");
        ap_pause();
    }
    gitops_state(req, "payments-web", state, sizeof state);
    cr_assert_str_eq(state, "applied");
    cr_assert(saw_rolling, "payments-web was never seen rolling before it was applied");
    gitops_state(req, "payments-bad", state, sizeof state);
    cr_assert_str_eq(state, "failed");
    gitops_state(req, "payments-idle", state, sizeof state);
    cr_assert_str_eq(state, "applied_unverified");

    /* audited on the request, warnings for failed and unverified */
    cr_assert_eq(audit_rows("gitops_observation.applied", "request", req), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE resource = 'request:%s' AND "
                         "action IN ('gitops_observation.failed', 'gitops_observation.unverified')"
                         " AND severity = 'warning'",
                         req),
                 2);
    /* and told, in the same transactions, to the requester and admins:
     * failed and unverified only, threaded by the request */
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE kind LIKE 'gitops.%%'"),
                 2);
    const char *told[][2] = {{"gitops.failed", "payments-bad"},
                             {"gitops.unverified", "payments-idle"}};
    for (int k = 0; k < 2; k++)
        cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE kind = '%s' AND "
                             "channel = 'ops' AND severity = 'warning' AND recipients = "
                             "'[{\"user\":\"%s\"},{\"role\":\"admin\"}]' AND fields @> "
                             "'[{\"key\":\"request_id\",\"value\":\"%s\"},"
                             "{\"key\":\"application\",\"value\":\"%s\"}]' AND link = "
                             "'https://sb.example.test/requests/%s'",
                             told[k][0], dev_id, req, told[k][1], req),
                     1, "%s for %s", told[k][0], told[k][1]);
    sb_outbox_routing_set(NULL, 0, NULL);

    /* visible on the request to its requester, without the baseline */
    cr_assert_eq(callf(dev, "GET", path3("/api/v1/requests/", req, "/gitops-observations"), &r,
                       NULL),
                 200, "%s", r.body);
    json_t *items = json_object_get(r.json, "items"), *o;
    cr_assert_eq(json_array_size(items), 3, "%s", r.body);
    size_t i;
    json_array_foreach(items, i, o)
    {
        cr_assert_null(json_object_get(o, "baseline"), "the baseline text is not shown");
        if (strcmp(json_string_value(json_object_get(o, "application")), "payments-web") == 0)
            cr_assert_str_eq(json_string_value(json_object_get(o, "evidence")), "applied");
    }
    cr_assert_null(strstr(r.body, ARGO_TOKEN));
    sb_api_response_free(&r);

    /* Argo CD saw only GETs; the token is nowhere in the database's text */
    char *log = NULL;
    argo_admin("GET", "requests", NULL, &log);
    cr_assert_null(strstr(log, "\"refused\": true"), "the plugin sent a non-GET: %s", log);
    cr_assert_null(strstr(log, "\"refused\":true"), "the plugin sent a non-GET: %s", log);
    free(log);
    cr_assert_eq(sql_int("SELECT count(*) FROM argocd_endpoints WHERE token_ciphertext LIKE "
                         "'%%" ARGO_TOKEN "%%'"),
                 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE details::text LIKE '%%" ARGO_TOKEN
                         "%%'"),
                 0);
    sb_api_harness_app(h)->gitops_plugin = NULL;
    gitops_plugin_stop();
}
