/*
 * e2e_test_util.h — what the end-to-end provider tests share (test_e2e_vault,
 * test_e2e_awssm, …): the real control plane of request_test_util.h, a real
 * sbridge-agent process (agent_process.h) loading one provider plugin
 * pointed at a strict emulator started with tests/support/emulator_support,
 * and the steps of the flows as a user takes them: an approved patch sealed
 * to the live agents' keys, a job waited for (with the job's events and the
 * agents' logs printed when it never gets there), a value revealed, a
 * discovery run.
 *
 * Header-only like the other test utilities (static inline; the suite's
 * globals live in tenancy_test_util.h and request_test_util.h). Each test
 * binary defines `e2e_agents[]`, the agent processes whose logs a failed
 * wait prints.
 */
#ifndef SB_TESTS_E2E_TEST_UTIL_H
#define SB_TESTS_E2E_TEST_UTIL_H

#include "agent_process.h"
#include "agent_test_util.h"
#include "emulator_support.h"

static agent_proc e2e_agents[2];

static inline void e2e_teardown(void)
{
    for (size_t i = 0; i < sizeof e2e_agents / sizeof e2e_agents[0]; i++)
        if (e2e_agents[i].dir[0])
            agent_proc_cleanup(&e2e_agents[i]);
    es_emulator_stop();
    tenancy_teardown();
}

/* Starts agent `a` for the world's connection with one plugin loaded and one
 * provider instance: `instance_keys` are the instance's own keys (rate_limit,
 * fence; NULL: none) as YAML lines indented by four spaces, `provider_config`
 * the plugin's config block as lines indented by six. Waits until the agent
 * is ready. */
static inline void e2e_agent(agent_proc *a, const char *token, const char *plugin,
                             const char *instance_keys, const char *provider_config)
{
    agent_proc_prepare(a, sb_api_harness_base_url(h), "vault-a", 0, NULL);
    cr_assert_eq(agent_proc_use_plugin(a, SB_PLUGIN_OUT_DIR, plugin, instance_keys, provider_config),
                 0, "agent_proc_prepare's config changed shape");
    agent_proc_start(a, token);
    cr_assert(agent_proc_health_is(a, "/readyz", 200, ap_work_deadline_ms(20000)),
              "the agent never became ready");
}

/* Polls `q_text` (one integer) until it equals want or ms pass. */
static inline int e2e_poll_sql(long long want, int64_t ms, const char *q_text)
{
    int64_t until = ap_now_ms() + ms;
    do {
        if (sql_int("%s", q_text) == want)
            return 1;
        ap_pause();
    } while (ap_now_ms() < until);
    return 0;
}

/* Prints why job `job` is stuck: its row, its audit events, the agents' logs. */
static inline void e2e_explain_job(const char *job)
{
    char qt[400], row[600], events[2000];
    snprintf(qt, sizeof qt,
             "SELECT state || ' attempts=' || attempts || ' error=' || coalesce(last_error, '')"
             " || ' owner=' || coalesce(lease_owner::text, '') FROM jobs WHERE id = '%s'",
             job);
    row[0] = '\0';
    sb_api_harness_sql(h, qt, row, sizeof row);
    snprintf(qt, sizeof qt,
             "SELECT string_agg(action || ' by ' || actor || ' at ' || occurred_at::text, E'\\n'"
             " ORDER BY id) FROM audit_events WHERE resource = 'job:%s'",
             job);
    events[0] = '\0';
    sb_api_harness_sql(h, qt, events, sizeof events);
    fprintf(stderr, "---- job %s: %s\n---- job events:\n%s\n", job, row, events);
    for (size_t i = 0; i < sizeof e2e_agents / sizeof e2e_agents[0]; i++) {
        if (!e2e_agents[i].dir[0])
            continue;
        char *log = agent_proc_log(&e2e_agents[i]);
        fprintf(stderr, "---- agent %zu log (tail):\n%s\n", i,
                strlen(log) > 4000 ? log + strlen(log) - 4000 : log);
        free(log);
    }
}

static inline void e2e_wait_job_id(const char *job, const char *state, int64_t ms)
{
    char qt[300];
    snprintf(qt, sizeof qt, "SELECT count(*) FROM jobs WHERE id = '%s' AND state = '%s'", job, state);
    if (!e2e_poll_sql(1, ap_work_deadline_ms(ms), qt)) {
        e2e_explain_job(job);
        cr_assert_fail("job %s never reached %s", job, state);
    }
}

/* Waits until the job of request `req` is in `state`. */
static inline void e2e_wait_job(const char *req, const char *state)
{
    char job[40];
    job_of(req, job);
    e2e_wait_job_id(job, state, 30000);
}

/* The requester reveals the wrap of `key` of request `req` into out. */
static inline void e2e_reveal_key(const char *req, const char *key, char *out, size_t cap)
{
    char qt[300], wrap[40], path[256];
    snprintf(qt, sizeof qt, "SELECT id FROM secret_wraps WHERE request_id = '%s' AND key_name = '%s'",
             req, key);
    cr_assert_eq(sb_api_harness_sql(h, qt, wrap, sizeof wrap), 1, "no wrap of %s", key);
    snprintf(path, sizeof path, "/api/v1/requests/%s/wraps/%s/reveal", req, wrap);
    sb_api_response r;
    cr_assert_eq(callf(dev, "POST", path, &r, "{}"), 200, "%s", r.body);
    snprintf(out, cap, "%s", jstr(&r, "value"));
    sb_api_response_free(&r);
}

/* A read of `keys_json` (a JSON array) on `binding`, approved and executed;
 * its request id into req. */
static inline void e2e_executed_read(const char *binding, const char *keys_json, char *req)
{
    sb_api_response r;
    char extra[256];
    snprintf(extra, sizeof extra, "\"keys\":%s", keys_json);
    cr_assert_eq(submit(dev, "read", binding, extra, &r), 201, "%s", r.body);
    id_of(&r, req);
    cr_assert_eq(act(ap[0], req, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    e2e_wait_job(req, "succeeded");
}

/* A patch of `key` to `value`, sealed to the live agents' keys (the
 * agent-keys route) as a client does, approved; its request id into req. */
static inline void e2e_approved_patch(const char *binding, const char *key, const char *value,
                                      char *req)
{
    sb_api_response r;
    char path[160];
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/agent-keys", conn_id);
    cr_assert_eq(callf(dev, "GET", path, &r, NULL), 200, "%s", r.body);
    char extra[4096];
    size_t n = (size_t)snprintf(extra, sizeof extra, "\"keys\":[\"%s\"],\"sealed_values\":[", key);
    json_t *item;
    size_t i;
    json_array_foreach(json_object_get(r.json, "items"), i, item)
    {
        const char *pk64 = json_string_value(json_object_get(item, "public_key"));
        unsigned char pk[32], box[256];
        size_t pk_len;
        cr_assert_eq(sodium_base642bin(pk, sizeof pk, pk64, strlen(pk64), NULL, &pk_len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL), 0);
        cr_assert_lt(strlen(value) + crypto_box_SEALBYTES, sizeof box);
        crypto_box_seal(box, (const unsigned char *)value, strlen(value), pk);
        char box64[400];
        sodium_bin2base64(box64, sizeof box64, box, strlen(value) + crypto_box_SEALBYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        n += (size_t)snprintf(extra + n, sizeof extra - n,
                              "%s{\"key\":\"%s\",\"recipient\":\"%s\",\"box\":\"%s\"}", i ? "," : "",
                              key, pk64, box64);
    }
    cr_assert_gt(i, 0, "no live agent key to seal to");
    snprintf(extra + n, sizeof extra - n, "]");
    sb_api_response_free(&r);
    cr_assert_eq(submit(dev, "patch", binding, extra, &r), 201, "%s", r.body);
    id_of(&r, req);
    cr_assert_eq(act(ap[0], req, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
}

/* An admin's discover-now on the world's connection, waited for until the
 * job succeeded (ms at most); the job id into job. */
static inline void e2e_discover(char *job, int64_t ms)
{
    sb_api_response r;
    char path[160];
    snprintf(path, sizeof path, "/api/v1/provider-connections/%s/discover-jobs", conn_id);
    cr_assert_eq(callf(admin, "POST", path, &r, "{}"), 201, "%s", r.body);
    id_of(&r, job);
    e2e_wait_job_id(job, "succeeded", ms);
}

/* The labels of catalog row `secret_ref` of the world's connection equal
 * `labels_json` (compared as jsonb). */
static inline int e2e_catalog_labels_are(const char *secret_ref, const char *labels_json)
{
    return sql_int("SELECT count(*) FROM catalog_secrets WHERE connection_id = '%s' AND "
                   "secret_ref = '%s' AND labels = '%s'::jsonb",
                   conn_id, secret_ref, labels_json) == 1;
}

/* No line of any agent's log contains needle. */
static inline void e2e_assert_not_in_agent_logs(const char *needle)
{
    for (size_t i = 0; i < sizeof e2e_agents / sizeof e2e_agents[0]; i++) {
        if (!e2e_agents[i].dir[0])
            continue;
        char *log = agent_proc_log(&e2e_agents[i]);
        cr_assert_null(strstr(log, needle), "'%s' reached agent %zu's log", needle, i);
        free(log);
    }
}

#endif
