/*
 * test_e2e_slack_notify.c — notifications end to end through Slack (SPEC
 * §14, issue 15): the real control plane (PostgreSQL + HTTP on loopback)
 * writes outbox rows with each request transition, the worker's
 * dispatch_notifications task hands them to the real notify-slack.so
 * (loaded by the real registry from a server configuration's notifiers:,
 * web_api mode), which posts to the strict Slack emulator
 * (tests/emulators/slack). Asserts: a request's messages arrive in order,
 * the later ones threaded under the first, decisions name the approver, no
 * value reaches Slack; a 429 storm with Retry-After delays but loses
 * nothing; a channel Slack does not know dead-letters at once and is
 * reported (API, metrics, audit).
 */
#include <unistd.h>

#include "agent_test_util.h"
#include "emulator_support.h"
#include "notify_test_util.h"
#include "worker/tasks.h"

#define SLACK_TOKEN "xoxb-0000000001-emulator-token"
#define SLACK_CHANNEL "C0EMULATOR1"
#define MISSING_CHANNEL "C0MISSING01"
#define STORM_FAULTS 3

static void write_config(FILE *f)
{
    fprintf(f,
            "plugins:\n  directory: %s\n  load:\n"
            "    - {name: slack, file: notify-slack.so, capabilities: [notifier]}\n"
            "notifiers:\n"
            "  - name: slack\n    plugin: slack\n    rate_limit: 0\n    retry_base: 1ms\n"
            "    config:\n      mode: web_api\n      bot_token: ${env:SB_TEST_SLACK_TOKEN}\n"
            "      channel: %s\n      api_url: http://127.0.0.1:%d/api\n"
            "  - name: slack-missing\n    plugin: slack\n    rate_limit: 0\n    retry_base: 1ms\n"
            "    config:\n      mode: web_api\n      bot_token: ${env:SB_TEST_SLACK_TOKEN}\n"
            "      channel: %s\n      api_url: http://127.0.0.1:%d/api\n",
            SB_PLUGIN_OUT_DIR, SLACK_CHANNEL, es_port(), MISSING_CHANNEL, es_port());
}

static void setup(void)
{
    es_emulator_start("tests/emulators/slack/slack_emulator.py", NULL);
    setenv("SB_TEST_SLACK_TOKEN", SLACK_TOKEN, 1);
    notify_world_start("/tmp/sb-slack-e2e-", write_config);
}

static void teardown(void)
{
    notify_world_stop();
    es_emulator_stop();
}

TestSuite(slack_e2e, .init = setup, .fini = teardown, .timeout = 240);

/* ---- helpers ---------------------------------------------------------------- */

/* Requests of this test notify only `channel` (a workflow's channel list). */
static void notify_only(const char *channel)
{
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE workflows SET notification_channels = '{%s}'", channel);
    sb_api_harness_sql(h, sql, NULL, 0);
}

/* Dispatches until no row is pending, or fails at the deadline. */
static void drain(int64_t deadline_ms)
{
    int64_t until = mono_ms() + deadline_ms;
    while (sql_int("SELECT count(*) FROM notification_outbox WHERE state = 'pending'") > 0) {
        cr_assert_lt(mono_ms(), until, "notifications still pending");
        size_t n = 0;
        sb_error err = {0};
        cr_assert_geq(sb_worker_dispatch_notifications(sb_api_harness_db(h), dispatcher, &n, &err),
                      0, "%s", err.message);
        usleep(20000);
    }
}

/* The emulator's message log, posting order. */
static json_t *slack_messages(void)
{
    char *body = NULL;
    cr_assert_eq(es_admin("GET", "messages", NULL, &body), 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    cr_assert_not_null(j);
    json_t *list = json_is_array(j) ? j : json_object_get(j, "messages");
    cr_assert(json_is_array(list), "the emulator's message log is not a list");
    json_incref(list);
    json_decref(j);
    return list;
}

/* The messages whose text or blocks mention `part` (a request or job id). */
static json_t *messages_about(const char *part)
{
    json_t *all = slack_messages(), *out = json_array(), *m;
    size_t i;
    json_array_foreach(all, i, m)
    {
        char *text = json_dumps(m, 0);
        if (text && strstr(text, part))
            json_array_append(out, m);
        free(text);
    }
    json_decref(all);
    return out;
}

static const char *mstr(json_t *m, const char *key)
{
    const char *v = json_string_value(json_object_get(m, key));
    return v ? v : "";
}

/* The message as text (text and blocks), for content checks. */
static bool mentions(json_t *m, const char *needle)
{
    char *text = json_dumps(m, 0);
    bool found = text && strstr(text, needle) != NULL;
    free(text);
    return found;
}

/* A request's messages: `n` of them, the first top-level in the channel,
 * the others replies in its thread, each naming its state in order. */
static json_t *expect_thread(const char *id, size_t n, const char *const *states)
{
    json_t *got = messages_about(id);
    cr_assert_eq(json_array_size(got), n, "request %s: %zu Slack messages, want %zu", id,
                 json_array_size(got), n);
    json_t *first = json_array_get(got, 0);
    cr_assert(json_is_null(json_object_get(first, "thread_ts")) ||
                  json_object_get(first, "thread_ts") == NULL,
              "the first message of a request is top-level");
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(got, i);
        cr_assert_str_eq(mstr(m, "channel"), SLACK_CHANNEL);
        char state[64];
        snprintf(state, sizeof state, "request.%s", states[i]);
        cr_assert(mentions(m, state), "message %zu of %s is not %s", i, id, state);
        if (i > 0)
            cr_assert_str_eq(mstr(m, "thread_ts"), mstr(first, "ts"),
                             "message %zu of %s is not in the request's thread", i, id);
    }
    return got;
}

/* The agent claims the (only queued) job and reports it succeeded. */
static void execute(const test_agent *a, const char *id)
{
    char job[40];
    job_of(id, job);
    sb_api_response r;
    cr_assert_eq(agent_call(a, "/jobs/claim", NULL, &r), 200, "%s", r.body);
    cr_assert_str_eq(jstr(&r, "id"), job);
    sb_api_response_free(&r);
    cr_assert_eq(complete(a, job, "succeeded", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    expect_state(id, "executed");
}

/* ---- tests ------------------------------------------------------------------- */

Test(slack_e2e, a_requests_lifecycle_is_one_slack_thread_in_order_and_never_a_value)
{
    request_world();
    notify_only("slack");
    test_agent a;
    enroll(conn_id, "vault-a", "agent-1", &a);
    char executed[40], rejected[40], canary[64], sealed[2048];
    approved_read(executed);
    execute(&a, executed);
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    snprintf(canary, sizeof canary, "CANARY-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5]);
    sealed_values("password", canary, sealed, sizeof sealed);
    sb_api_response r;
    cr_assert_eq(submit(dev, "patch", bind_dev, sealed, &r), 201, "%s", r.body);
    snprintf(rejected, sizeof rejected, "%s", jstr(&r, "id"));
    sb_api_response_free(&r);
    cr_assert_eq(act(ap[1], rejected, "reject", "{\"reason\":\"not today\"}", &r), 200, "%s",
                 r.body);
    sb_api_response_free(&r);

    drain(30000);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'slack' AND "
                         "state = 'delivered' AND attempts = 1"),
                 5);

    const char *lifecycle[] = {"created", "approved", "executed"};
    json_t *got = expect_thread(executed, 3, lifecycle);
    cr_assert(mentions(json_array_get(got, 0), "incident 42"), "the justification is shown");
    cr_assert(mentions(json_array_get(got, 1), "ap1"), "the approval names the approver");
    cr_assert(mentions(json_array_get(got, 2), "agent "), "the execution names the agent");
    char link[128];
    snprintf(link, sizeof link, "https://sb.example.test/requests/%s", executed);
    cr_assert(mentions(json_array_get(got, 0), link), "the message links to the request");
    json_decref(got);

    const char *refusal[] = {"created", "rejected"};
    got = expect_thread(rejected, 2, refusal);
    cr_assert(mentions(json_array_get(got, 1), "ap2"), "the rejection names the approver");
    cr_assert(mentions(json_array_get(got, 1), "not today"), "the rejection gives its reason");
    json_decref(got);

    /* the messages posted to Slack, the requests Slack saw and the outbox
     * hold neither the value nor the bot token */
    char *body = NULL;
    cr_assert_eq(es_admin("GET", "messages", NULL, &body), 200);
    cr_assert(strstr(body, "password") != NULL, "the key name is shown");
    cr_assert(strstr(body, canary) == NULL, "a value reached Slack");
    cr_assert(strstr(body, SLACK_TOKEN) == NULL, "the bot token reached a message");
    free(body);
    cr_assert_eq(es_admin("GET", "requests", NULL, &body), 200);
    cr_assert(strstr(body, canary) == NULL && strstr(body, SLACK_TOKEN) == NULL);
    free(body);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox n WHERE "
                         "row_to_json(n)::text LIKE '%%%s%%'", canary),
                 0);
}

Test(slack_e2e, a_429_storm_delays_but_loses_nothing)
{
    request_world();
    notify_only("slack");
    enum { REQUESTS = 4 };
    char id[REQUESTS][40];
    for (int i = 0; i < REQUESTS; i++)
        submit_read(id[i]);
    es_admin_ok("POST", "faults",
                "{\"target\":\"chat.postMessage\",\"status\":429,\"error\":\"ratelimited\","
                "\"retry_after\":1,\"count\":3}");
    double retried = notify_counter("sb_notifications_retried_total", "slack");
    int64_t started = mono_ms();
    drain(60000);
    int64_t took = mono_ms() - started;
    cr_assert_geq(took, (int64_t)STORM_FAULTS * 1000 - 100,
                  "%lld ms: Slack's Retry-After of 1 s was not honoured", (long long)took);
    for (int i = 0; i < REQUESTS; i++) {
        json_t *got = messages_about(id[i]);
        cr_assert_eq(json_array_size(got), 1, "request %d: delivered exactly once", i);
        json_decref(got);
    }
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'slack' AND "
                         "state = 'delivered'"),
                 REQUESTS);
    cr_assert_eq(notify_counter("sb_notifications_retried_total", "slack") -
                     retried,
                 STORM_FAULTS, "each 429 is one retry");
}

Test(slack_e2e, a_channel_slack_does_not_know_dead_letters_and_is_reported)
{
    request_world();
    notify_only("slack-missing");
    char id[40];
    submit_read(id);
    drain(30000);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = "
                         "'slack-missing' AND state = 'dead' AND attempts = 1 AND last_error "
                         "LIKE '%%NOT_FOUND%%' AND dedupe_key = 'request:%s:created:approvers'",
                         id),
                 1, "channel_not_found is permanent: dead at the first answer");
    json_t *got = messages_about(id);
    cr_assert_eq(json_array_size(got), 0, "nothing was posted");
    json_decref(got);
    /* reported: the API, the metric, the audit trail */
    sb_api_response r;
    cr_assert_eq(callf(admin, "GET", "/api/v1/notifications?state=dead&channel=slack-missing", &r,
                       NULL),
                 200, "%s", r.body);
    json_t *items = json_object_get(r.json, "items");
    cr_assert_eq(json_array_size(items), 1);
    const char *error = json_string_value(json_object_get(json_array_get(items, 0), "last_error"));
    cr_assert(error && strstr(error, "channel_not_found"), "the error names Slack's answer: %s",
              error ? error : "(none)");
    cr_assert(strstr(error, SLACK_TOKEN) == NULL);
    sb_api_response_free(&r);
    cr_assert_eq(notify_counter("sb_notifications_dead_total", "slack-missing"),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'notification.dead' AND "
                         "actor = 'system' AND details->>'channel' = 'slack-missing'"),
                 1);
}
