/*
 * test_e2e_awssm.c — the three flows end to end with the AWS Secrets
 * Manager plugin (issue 12 item 6): the real control plane, the real agent
 * executable (sbridge-agent) loading awssm.so, and the strict AWS emulator
 * (tests/emulators/awssm, SigV4 checked on every call). A read approved and
 * revealed once; a patch of one key of a JSON SecretString while another
 * writer changes a different key (the agent's compare-and-set through the
 * staging labels is refused, it re-reads and merges: both survive), keeping
 * it a SecretString with its other keys and tags;
 * a throttled provider honoured (the instance pauses for Retry-After, the
 * job still succeeds on its first claim); a discovery under the instance's
 * tag fence, paced by its rate limit, with tags as catalog labels.
 */
#include "e2e_test_util.h"

TestSuite(e2e_awssm, .init = tenancy_setup, .fini = e2e_teardown, .timeout = 300);

static void emu_start(void) { es_emulator_start("tests/emulators/awssm/awssm_emulator.py", NULL); }

/* An agent of the world's connection with awssm pointed at the emulator
 * (static keys the emulator accepts by default). */
static void aws_agent(agent_proc *a, const char *token, const char *instance_keys)
{
    char cfg[768];
    snprintf(cfg, sizeof cfg,
             "      region: us-east-1\n      endpoint: http://127.0.0.1:%d\n"
             "      credentials: static\n      access_key_id: AKIDEXAMPLE\n"
             "      secret_access_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n",
             es_port());
    e2e_agent(a, token, "awssm", instance_keys, cfg);
}

/* The emulator's view of secret `name` (control API peek), as JSON. */
static json_t *peek(const char *name)
{
    char body[256], *out;
    snprintf(body, sizeof body, "{\"secret_id\":\"%s\"}", name);
    cr_assert_eq(es_admin("POST", "peek", body, &out), 200, "%s", out);
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    cr_assert_not_null(j);
    return j;
}

/* The request log entries of one Secrets Manager operation, in order (caller frees). */
static json_t *calls_of(const char *op)
{
    char *out, target[80];
    cr_assert_eq(es_admin("GET", "requests", NULL, &out), 200);
    json_t *log = json_loads(out, 0, NULL), *e, *mine = json_array();
    free(out);
    snprintf(target, sizeof target, "secretsmanager.%s", op);
    size_t i;
    json_array_foreach(json_object_get(log, "requests"), i, e)
    {
        const char *t = json_string_value(json_object_get(e, "target"));
        if (t && (strcmp(t, op) == 0 || strcmp(t, target) == 0))
            json_array_append(mine, e);
    }
    json_decref(log);
    return mine;
}

static double at_of(json_t *calls, size_t i)
{
    return json_real_value(json_object_get(json_array_get(calls, i), "at"));
}

Test(e2e_awssm, read_reveal_and_a_patch_racing_another_writer_keep_form_keys_and_tags)
{
    request_world();
    emu_start();
    es_admin_ok("POST", "secrets",
                "{\"name\":\"app/db\",\"string\":\"{\\\"user\\\":\\\"app\\\",\\\"password\\\":"
                "\\\"canary-aws-pw-1\\\",\\\"region\\\":\\\"eu-west-1\\\"}\","
                "\"tags\":{\"owner\":\"payments\",\"tier\":\"gold\"}}");
    char token[128], req[40], got[128];
    mint(conn_id, token, sizeof token, NULL);
    aws_agent(&e2e_agents[0], token, NULL);

    e2e_executed_read(bind_dev, "[\"user\",\"password\"]", req);
    e2e_reveal_key(req, "password", got, sizeof got);
    cr_assert_str_eq(got, "canary-aws-pw-1");
    e2e_reveal_key(req, "user", got, sizeof got);
    cr_assert_str_eq(got, "app");

    /* the agent's write is held 2 s; meanwhile another writer changes user:
     * the agent's move of AWSCURRENT is refused, it re-reads and merges */
    json_t *before = peek("app/db");
    es_admin_ok("POST", "faults", "{\"target\":\"PutSecretValue\",\"delay_ms\":2000,\"count\":1}");
    e2e_approved_patch(bind_dev, "password", "canary-aws-pw-2", req);
    int64_t until = ap_now_ms() + ap_work_deadline_ms(30000);
    for (;;) { /* the held write is logged when the hold starts */
        json_t *puts = calls_of("PutSecretValue");
        size_t seen = json_array_size(puts);
        json_decref(puts);
        if (seen > 0)
            break;
        cr_assert_lt(ap_now_ms(), until, "the agent never wrote");
        ap_pause();
    }
    es_admin_ok("POST", "put-value",
                "{\"secret_id\":\"app/db\",\"string\":\"{\\\"user\\\":\\\"app-2\\\",\\\"password\\\":"
                "\\\"canary-aws-pw-1\\\",\\\"region\\\":\\\"eu-west-1\\\"}\"}");
    e2e_wait_job(req, "succeeded");
    expect_state(req, "executed");
    json_t *after = peek("app/db");
    const char *text = json_string_value(json_object_get(after, "string"));
    cr_assert_not_null(text, "the secret is no longer a SecretString");
    json_t *data = json_loads(text, 0, NULL);
    cr_assert_not_null(data, "the SecretString is no longer JSON");
    cr_assert_str_eq(json_string_value(json_object_get(data, "password")), "canary-aws-pw-2");
    cr_assert_str_eq(json_string_value(json_object_get(data, "user")), "app-2",
                     "the other writer's change was lost");
    cr_assert_str_eq(json_string_value(json_object_get(data, "region")), "eu-west-1",
                     "a key outside the patch was lost");
    cr_assert_eq(json_object_size(data), 3);
    cr_assert(json_equal(json_object_get(after, "tags"), json_object_get(before, "tags")),
              "the tags changed");
    /* the other writer's version, the refused one, and the merged one */
    cr_assert_eq(json_integer_value(json_object_get(after, "versions")),
                 json_integer_value(json_object_get(before, "versions")) + 3,
                 "expected a refused move and a second write");
    json_decref(data);
    json_decref(before);
    json_decref(after);
    e2e_assert_not_in_agent_logs("canary-aws-pw");
}

Test(e2e_awssm, a_throttled_provider_pauses_for_retry_after_and_the_job_succeeds_on_one_claim)
{
    request_world();
    emu_start();
    es_admin_ok("POST", "secrets",
                "{\"name\":\"app/db\",\"string\":\"{\\\"user\\\":\\\"u\\\",\\\"password\\\":"
                "\\\"p\\\"}\"}");
    /* the next two reads are refused with ThrottlingException and Retry-After: 1 */
    es_admin_ok("POST", "faults",
                "{\"target\":\"GetSecretValue\",\"type\":\"ThrottlingException\",\"status\":400,"
                "\"count\":2,\"retry_after\":1}");
    char token[128], req[40], job[40], got[64];
    mint(conn_id, token, sizeof token, NULL);
    aws_agent(&e2e_agents[0], token, NULL);

    e2e_executed_read(bind_dev, "[\"password\"]", req);
    e2e_reveal_key(req, "password", got, sizeof got);
    cr_assert_str_eq(got, "p");
    job_of(req, job);
    cr_assert_eq(sql_int("SELECT attempts FROM jobs WHERE id = '%s'", job), 1,
                 "the throttled read went back to the queue instead of pausing on the agent");

    json_t *reads = calls_of("GetSecretValue");
    cr_assert_eq(json_array_size(reads), 3, "expected two throttled reads and one that passed");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(reads, 0), "error")),
                     "ThrottlingException");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(reads, 2), "status")), 200);
    for (size_t i = 1; i < 3; i++)
        cr_assert_geq(at_of(reads, i) - at_of(reads, i - 1), 0.95,
                      "read %zu came %.3f s after a Retry-After: 1", i,
                      at_of(reads, i) - at_of(reads, i - 1));
    json_decref(reads);

    char *log = agent_proc_log(&e2e_agents[0]);
    cr_assert_eq(es_count(log, "throttled (Retry-After); instance paused 1000 ms"), 2, "%s", log);
    free(log);
}

Test(e2e_awssm, a_discovery_keeps_to_the_tag_fence_is_paced_by_the_rate_limit_and_labels_by_tags)
{
    request_world();
    emu_start();
    /* 400 secrets; every other one is env=prod, the instance's fence */
    for (int i = 0; i < 400; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"name\":\"svc-%03d\",\"string\":\"x\",\"tags\":{\"env\":\"%s\",\"team\":\"t%d\"}}",
                 i, i % 2 ? "dev" : "prod", i % 5);
        es_admin_ok("POST", "secrets", body);
    }
    char token[128], job[40];
    mint(conn_id, token, sizeof token, NULL);
    aws_agent(&e2e_agents[0], token, "    rate_limit: 2\n    fence:\n      env: prod\n");
    e2e_discover(job, 120000);

    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE connection_id = '%s' AND "
                         "secret_ref LIKE 'svc-%%'",
                         conn_id),
                 200, "the fence was not applied (or secrets were lost)");
    cr_assert(e2e_catalog_labels_are("svc-010", "{\"env\":\"prod\",\"team\":\"t0\"}"));
    cr_assert_eq(sql_int("SELECT count(*) FROM catalog_secrets WHERE secret_ref = 'svc-011'"), 0,
                 "a secret outside the fence reached the catalog");

    /* 2 operations a second, bursting to 2: n pages take at least (n-2)/2 s */
    json_t *pages = calls_of("ListSecrets");
    size_t n = json_array_size(pages);
    cr_assert_geq(n, 3, "too few pages (%zu) to see the rate limit", n);
    double spread = at_of(pages, n - 1) - at_of(pages, 0);
    cr_assert_geq(spread, (double)(n - 2) / 2.0 - 0.1,
                  "%zu pages came within %.3f s under rate_limit 2", n, spread);
    json_decref(pages);
}
