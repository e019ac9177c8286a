/*
 * test_notify_outbox.c — the durable notification outbox (SPEC §14, issue
 * 15) against the real control plane (PostgreSQL + HTTP on loopback) and
 * a real notifier plugin (tests/plugins/notify_test, loaded by the real
 * registry from a real server configuration): a request's lifecycle
 * produces its events in order for the right recipients; an event exists
 * only if its transaction commits; a Retry-After storm delays but loses
 * nothing; a channel that keeps failing dead-letters after max_attempts
 * (API, metrics, audit); two schedulers on one database deliver each
 * event once; a worker killed with SIGKILL inside deliver loses nothing;
 * workflows select channels; a paced channel keeps its rate; no value
 * reaches an event.
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_test_util.h"
#include "service/notify_events.h"
#include "notify_test_util.h"
#include "worker/worker_tasks.h"
#include "worker/scheduler.h"
#include "worker/tasks.h"

#define STORM_RETRY_AFTER_MS 300
#define STORM_FAILURES 3
#define BROKEN_ATTEMPTS 3
#define PACED_RATE 2
#define CHANNELS 6 /* ok, storm, broken, paced, refused, crashy */

static void write_config(FILE *f)
{
    fprintf(f,
            "plugins:\n  directory: %s\n  load:\n    - name: notify_test\n      file: notify_test.so\n"
            "notifiers:\n"
            "  - name: ok\n    plugin: notify_test\n    rate_limit: 0\n"
            "    config:\n      file: %s/ok.jsonl\n      slow_if_file: %s/slow\n"
            "  - name: storm\n    plugin: notify_test\n    rate_limit: 0\n    retry_base: 1ms\n"
            "    config:\n      file: %s/storm.jsonl\n      fail_times: %d\n"
            "      fail_with: throttled\n      retry_after: %dms\n"
            "  - name: broken\n    plugin: notify_test\n    rate_limit: 0\n    max_attempts: %d\n"
            "    retry_base: 1ms\n"
            "    config:\n      file: %s/broken.jsonl\n      fail_times: 1000000\n"
            "      fail_with: unavailable\n"
            "  - name: paced\n    plugin: notify_test\n    rate_limit: %d\n"
            "    config:\n      file: %s/paced.jsonl\n"
            "  - name: refused\n    plugin: notify_test\n    rate_limit: 0\n"
            "    config:\n      file: %s/refused.jsonl\n      fail_times: 1\n"
            "      fail_with: invalid\n"
            "  - name: crashy\n    plugin: notify_test\n    rate_limit: 0\n"
            "    config:\n      file: %s/crashy.jsonl\n      crash_if_file: %s/crash\n"
            "worker:\n  dispatch_notifications: 1s\n",
            SB_TEST_PLUGIN_DIR, dir, dir, dir, STORM_FAILURES, STORM_RETRY_AFTER_MS, BROKEN_ATTEMPTS, dir,
            PACED_RATE, dir, dir, dir, dir);
}

static void setup(void)
{
    notify_world_start("/tmp/sb-notify-", write_config);
}

static void teardown(void)
{
    notify_world_stop();
}

TestSuite(outbox, .init = setup, .fini = teardown, .timeout = 240);

/* ---- helpers ---------------------------------------------------------------- */

static size_t dispatch(void)
{
    size_t n = 0;
    sb_error err = {0};
    int rc = sb_worker_dispatch_notifications(sb_api_harness_db(h), dispatcher, &n, &err);
    cr_assert_geq(rc, 0, "%s", err.message);
    return n;
}

/* Dispatches until no row of channel is pending, or fails at the deadline. */
static void drain(const char *channel, int64_t deadline_ms)
{
    int64_t until = mono_ms() + deadline_ms;
    while (sql_int("SELECT count(*) FROM notification_outbox WHERE channel = '%s' AND "
                   "state = 'pending'", channel) > 0) {
        cr_assert_lt(mono_ms(), until, "channel %s still has pending rows", channel);
        dispatch();
        usleep(20000);
    }
}

/* The JSON lines a channel's file holds (an array; [] when none). */
static json_t *lines_of(const char *channel)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s.jsonl", dir, channel);
    json_t *out = json_array();
    FILE *f = fopen(path, "r");
    char line[16384];
    while (f && fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        cr_assert_not_null(j, "not JSON: %s", line);
        json_array_append_new(out, j);
    }
    if (f)
        fclose(f);
    return out;
}

/* Delivered lines of a channel whose dedupe key contains `part`. */
static json_t *delivered(const char *channel, const char *part)
{
    json_t *all = lines_of(channel), *out = json_array(), *l;
    size_t i;
    json_array_foreach(all, i, l)
    {
        const char *k = json_string_value(json_object_get(l, "dedupe_key"));
        if (json_object_get(l, "kind") && k && strstr(k, part))
            json_array_append(out, l);
    }
    json_decref(all);
    return out;
}

static size_t failures_in(const char *channel)
{
    json_t *all = lines_of(channel), *l;
    size_t i, n = 0;
    json_array_foreach(all, i, l) n += json_object_get(l, "failed") != NULL;
    json_decref(all);
    return n;
}

static const char *field_of(json_t *line, const char *key)
{
    const char *v = json_string_value(json_object_get(json_object_get(line, "fields"), key));
    return v ? v : "";
}

typedef struct job_event {
    const char *job_id;
    bool commit;
} job_event;

static int job_event_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    job_event *e = p;
    sb_job_failure f = {e->job_id, "discover", conn_id, NULL, "provider said 503"};
    if (sb_job_notify_failed(conn, &f, err) != 0)
        return -1;
    return e->commit ? 0 : sb_error_set(err, 1, "rolled back on purpose");
}

/* A job.failed event for a made-up job id, committed or rolled back. */
static int job_event_in_txn(const char *job_id, bool commit)
{
    job_event e = {job_id, commit};
    sb_error err = {0};
    return sb_db_transaction(sb_api_harness_db(h), job_event_txn, &e, &err);
}

/* The agent claims the (only queued) job and reports outcome. */
static void claim_and_complete(const test_agent *a, const char *job, const char *outcome)
{
    sb_api_response r;
    cr_assert_eq(agent_call(a, "/jobs/claim", NULL, &r), 200, "%s", r.body);
    cr_assert_str_eq(jstr(&r, "id"), job);
    sb_api_response_free(&r);
    cr_assert_eq(complete(a, job, outcome, &r), 200, "%s", r.body);
    sb_api_response_free(&r);
}

static void fake_job_id(int i, char *out)
{
    snprintf(out, 37, "00000000-0000-4000-8000-%012d", i);
}

/* ---- tests ------------------------------------------------------------------- */

Test(outbox, a_request_lifecycle_notifies_approvers_then_the_requester_in_order)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-1", &a);
    char id[40], job[40];
    approved_read(id);
    job_of(id, job);
    claim_and_complete(&a, job, "succeeded");
    expect_state(id, "executed");

    /* written with each transition, one row per configured channel */
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE dedupe_key LIKE "
                         "'request:%s:%%'", id),
                 3 * CHANNELS);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE dedupe_key = "
                         "'request:%s:created:approvers' AND channel = 'ok' AND recipients @> "
                         "'[{\"permission\":\"secret.approve\",\"project_id\":\"%s\"}]'",
                         id, proj),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE kind IN "
                         "('request.approved', 'request.executed') AND dedupe_key LIKE "
                         "'request:%s:%%:requester' AND recipients = '[{\"user\":\"%s\"}]'",
                         id, dev_id),
                 2 * CHANNELS);
    /* the audit event names the notifications it caused (no longer "deferred") */
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'request.approve' AND "
                         "resource = 'request:%s' AND details->'notifications' = "
                         "'[\"notify_requester\"]' AND NOT details ? 'deferred_actions'",
                         id),
                 1);

    drain("ok", 20000);
    json_t *got = delivered("ok", id);
    cr_assert_eq(json_array_size(got), 3);
    const char *kinds[] = {"request.created", "request.approved", "request.executed"};
    char link[128];
    snprintf(link, sizeof link, "https://sb.example.test/requests/%s", id);
    for (size_t i = 0; i < 3; i++) {
        json_t *l = json_array_get(got, i);
        cr_assert_str_eq(json_string_value(json_object_get(l, "kind")), kinds[i]);
        cr_assert_str_eq(json_string_value(json_object_get(l, "link")), link);
        cr_assert_str_eq(field_of(l, "secret"), "app/db");
        cr_assert_str_eq(field_of(l, "keys"), "user");
        cr_assert_str_eq(field_of(l, "justification"), "incident 42");
    }
    cr_assert(strstr(field_of(json_array_get(got, 0), "to"), "permission secret.approve") != NULL);
    cr_assert_str_eq(field_of(json_array_get(got, 0), "by"), "dev");
    cr_assert_str_eq(field_of(json_array_get(got, 1), "by"), "ap1");
    char to[64];
    snprintf(to, sizeof to, "user %s", dev_id);
    cr_assert_str_eq(field_of(json_array_get(got, 1), "to"), to);
    cr_assert(strstr(field_of(json_array_get(got, 2), "by"), "agent ") != NULL);
    json_decref(got);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'ok' AND "
                         "state = 'delivered' AND attempts = 1 AND delivered_at IS NOT NULL AND "
                         "dedupe_key LIKE 'request:%s:%%'", id),
                 3);
}

Test(outbox, rejections_and_job_failures_reach_the_requester_and_admins)
{
    request_world();
    test_agent a;
    enroll(conn_id, "vault-a", "agent-1", &a);
    char rejected[40], failed[40], job[40];
    submit_read(rejected);
    sb_api_response r;
    cr_assert_eq(act(ap[0], rejected, "reject", "{\"reason\":\"not today\"}", &r), 200, "%s",
                 r.body);
    sb_api_response_free(&r);
    approved_read(failed);
    job_of(failed, job);
    claim_and_complete(&a, job, "failed_permanent");
    expect_state(failed, "failed");
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'ok' AND "
                         "kind = 'request.rejected' AND recipients = '[{\"user\":\"%s\"}]'",
                         dev_id),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'ok' AND "
                         "kind = 'request.failed' AND dedupe_key = 'request:%s:failed:requester'",
                         failed),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'ok' AND "
                         "kind = 'job.failed' AND dedupe_key = 'job:%s:failed' AND recipients = "
                         "'[{\"role\":\"admin\"}]' AND severity = 'warning'",
                         job),
                 1);
    /* an agent gone silent: admins hear of it from the worker's sweep */
    sb_api_harness_sql(h, "UPDATE agents SET status = 'active', last_heartbeat_at = now() - "
                          "interval '1 hour'", NULL, 0);
    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(sb_worker_mark_stale_agents(sb_api_harness_db(h), NULL, &n, &err), 0, "%s",
                 err.message);
    cr_assert_geq(n, 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'ok' AND "
                         "kind = 'agent.stale' AND dedupe_key LIKE 'agent:%s:stale:%%' AND "
                         "recipients = '[{\"role\":\"admin\"}]' AND link = "
                         "'https://sb.example.test/agents'",
                         a.id),
                 1);
    drain("ok", 20000);
    json_t *got = delivered("ok", job);
    cr_assert_eq(json_array_size(got), 1);
    cr_assert_str_eq(field_of(json_array_get(got, 0), "to"), "role admin");
    cr_assert(strstr(field_of(json_array_get(got, 0), "reason"), "provider said 503") != NULL);
    json_decref(got);
}

Test(outbox, an_event_exists_only_if_its_transaction_commits)
{
    request_world();
    char job[40];
    fake_job_id(1, job);
    cr_assert_lt(job_event_in_txn(job, false), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE dedupe_key = "
                         "'job:%s:failed'", job),
                 0);
    cr_assert_eq(job_event_in_txn(job, true), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE dedupe_key = "
                         "'job:%s:failed'", job),
                 CHANNELS);
    /* the same event again is the same notification */
    cr_assert_eq(job_event_in_txn(job, true), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE dedupe_key = "
                         "'job:%s:failed'", job),
                 CHANNELS);
    /* an approval the API refuses changes nothing and tells nobody */
    char id[40];
    submit_read(id);
    sb_api_response r;
    long st = act(dev, id, "approve", "{}", &r); /* the requester: no self-approval */
    sb_api_response_free(&r);
    cr_assert_geq(st, 400);
    expect_state(id, "pending");
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE dedupe_key LIKE "
                         "'request:%s:%%' AND kind <> 'request.created'", id),
                 0);
}

Test(outbox, a_retry_after_storm_delays_but_loses_nothing)
{
    request_world();
    enum { EVENTS = 5 };
    char job[EVENTS][40];
    for (int i = 0; i < EVENTS; i++) {
        fake_job_id(100 + i, job[i]);
        cr_assert_eq(job_event_in_txn(job[i], true), 0);
    }
    double retried = notify_counter("sb_notifications_retried_total", "storm");
    int64_t started = mono_ms();
    dispatch();
    /* the first answer was 429 + Retry-After: the row waits at least that long */
    cr_assert_eq(failures_in("storm"), 1, "one throttled answer pauses the channel");
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'storm' AND "
                         "attempts = 1 AND state = 'pending' AND next_attempt_at > now() + "
                         "interval '%d ms'", STORM_RETRY_AFTER_MS - 150),
                 1);
    drain("storm", 30000);
    int64_t took = mono_ms() - started;
    cr_assert_geq(took, (int64_t)STORM_FAILURES * STORM_RETRY_AFTER_MS - 100,
                  "%lld ms: the Retry-After was not honoured", (long long)took);
    cr_assert_eq(failures_in("storm"), STORM_FAILURES);
    json_t *got = delivered("storm", "job:");
    cr_assert_eq(json_array_size(got), EVENTS, "nothing is lost");
    json_decref(got);
    for (int i = 0; i < EVENTS; i++) {
        json_t *one = delivered("storm", job[i]);
        cr_assert_eq(json_array_size(one), 1, "event %d delivered once", i);
        json_decref(one);
    }
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'storm' AND "
                         "state = 'delivered'"),
                 EVENTS);
    cr_assert_eq(notify_counter("sb_notifications_retried_total", "storm") -
                     retried,
                 STORM_FAILURES);
}

Test(outbox, a_channel_that_keeps_failing_dead_letters_after_max_attempts)
{
    request_world();
    char job[40];
    fake_job_id(7, job);
    cr_assert_eq(job_event_in_txn(job, true), 0);
    drain("broken", 20000);
    cr_assert_eq(failures_in("broken"), BROKEN_ATTEMPTS);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'broken' AND "
                         "state = 'dead' AND attempts = %d AND last_error LIKE '%%UNAVAILABLE%%'",
                         BROKEN_ATTEMPTS),
                 1);
    /* audited, counted */
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'notification.dead' AND "
                         "actor = 'system' AND severity = 'warning' AND details->>'channel' = "
                         "'broken' AND (details->>'attempts')::int = %d",
                         BROKEN_ATTEMPTS),
                 1);
    cr_assert_eq(notify_counter("sb_notifications_dead_total", "broken"),
                 1);
    char *metrics = sb_metrics_render(NULL);
    cr_assert(strstr(metrics, "sb_notifications_dead_total{channel=\"broken\"} 1") != NULL);
    free(metrics);
    /* admins see it; others do not */
    sb_api_response r;
    cr_assert_eq(get(admin, "/api/v1/notifications?state=dead"), 200);
    cr_assert_eq(callf(admin, "GET", "/api/v1/notifications?state=dead&channel=broken", &r, NULL),
                 200, "%s", r.body);
    json_t *items = json_object_get(r.json, "items");
    cr_assert_eq(json_array_size(items), 1);
    json_t *row = json_array_get(items, 0);
    char key[64];
    snprintf(key, sizeof key, "job:%s:failed", job);
    cr_assert_str_eq(json_string_value(json_object_get(row, "dedupe_key")), key);
    cr_assert_str_eq(json_string_value(json_object_get(row, "state")), "dead");
    cr_assert_eq(json_integer_value(json_object_get(row, "attempts")), BROKEN_ATTEMPTS);
    sb_api_response_free(&r);
    cr_assert_eq(get(dev, "/api/v1/notifications?state=dead"), 403);
    expect_error(callf(admin, "GET", "/api/v1/notifications?state=gone", &r, NULL), &r, 400,
                 "invalid_field");
    /* a permanent failure (the plugin says retrying cannot help): dead at once */
    drain("refused", 20000);
    cr_assert_eq(failures_in("refused"), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'refused' AND "
                         "state = 'dead' AND attempts = 1 AND last_error LIKE '%%permanent%%'"),
                 1);
    /* the other channels delivered the same event */
    drain("ok", 20000);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE dedupe_key = '%s' AND "
                         "channel = 'ok' AND state = 'delivered'", key),
                 1);
}

Test(outbox, two_schedulers_on_one_database_deliver_each_event_once)
{
    request_world();
    enum { EVENTS = 12 };
    for (int i = 0; i < EVENTS; i++) {
        char job[40];
        fake_job_id(200 + i, job);
        cr_assert_eq(job_event_in_txn(job, true), 0);
    }
    sb_api_harness *peer = NULL;
    cr_assert_eq(sb_api_harness_start_peer(h, &peer), 0);
    sb_worker *w1 = NULL, *w2 = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_worker_tasks_start(&settings, SB_WORKER_MODE_ALONE, sb_api_harness_db(h), NULL,
                                       &plugins, NULL, &w1, &err), 0, "%s", err.message);
    cr_assert_eq(sb_worker_tasks_start(&settings, SB_WORKER_MODE_ALONE, sb_api_harness_db(peer), NULL,
                                       &plugins, NULL, &w2, &err), 0, "%s", err.message);
    int64_t until = mono_ms() + 30000;
    while (sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'ok' AND state = "
                   "'pending'") > 0) {
        cr_assert_lt(mono_ms(), until, "the workers did not deliver everything");
        usleep(50000);
    }
    sb_worker_stop(w1);
    sb_worker_stop(w2);
    sb_api_harness_stop(peer);
    json_t *got = delivered("ok", "job:");
    cr_assert_eq(json_array_size(got), EVENTS, "each event exactly once");
    json_decref(got);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'ok' AND "
                         "state = 'delivered' AND attempts = 1"),
                 EVENTS);
}

Test(outbox, a_workflow_selects_its_channels)
{
    request_world();
    sb_api_harness_sql(h, "UPDATE workflows SET notification_channels = '{ok,nowhere}'", NULL, 0);
    char id[40];
    submit_read(id);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE dedupe_key LIKE "
                         "'request:%s:%%'", id),
                 1, "only ok: storm and broken are not selected, nowhere is not configured");
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE dedupe_key LIKE "
                         "'request:%s:%%' AND channel = 'ok'", id),
                 1);
}

Test(outbox, no_value_reaches_an_event)
{
    request_world();
    char canary[64], sealed[2048], id[40], rejected[40];
    unsigned char rnd[12];
    randombytes_buf(rnd, sizeof rnd);
    snprintf(canary, sizeof canary, "CANARY-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5]);
    sb_api_response r;
    sealed_values("user", canary, sealed, sizeof sealed);
    cr_assert_eq(submit(dev, "patch", bind_dev, sealed, &r), 201, "%s", r.body);
    snprintf(id, sizeof id, "%s", jstr(&r, "id"));
    sb_api_response_free(&r);
    cr_assert_eq(act(ap[0], id, "approve", "{}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    sealed_values("password", canary, sealed, sizeof sealed);
    cr_assert_eq(submit(dev, "patch", bind_dev, sealed, &r), 201, "%s", r.body);
    snprintf(rejected, sizeof rejected, "%s", jstr(&r, "id"));
    sb_api_response_free(&r);
    cr_assert_eq(act(ap[1], rejected, "reject", "{\"reason\":\"not today\"}", &r), 200, "%s", r.body);
    sb_api_response_free(&r);
    drain("ok", 20000);
    /* the scan sees the events (the justification is there), never the value */
    cr_assert_geq(sql_int("SELECT count(*) FROM notification_outbox n WHERE "
                          "row_to_json(n)::text LIKE '%%incident 42%%'"),
                  4);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox n WHERE "
                         "row_to_json(n)::text LIKE '%%%s%%'", canary),
                 0);
    json_t *all = lines_of("ok");
    cr_assert_geq(json_array_size(all), 4);
    char *text = json_dumps(all, 0);
    cr_assert(strstr(text, "incident 42") != NULL);
    cr_assert(strstr(text, canary) == NULL, "a value reached a notification");
    free(text);
    json_decref(all);
}

Test(outbox, a_paced_channel_delivers_at_its_rate)
{
    request_world();
    enum { EVENTS = 6 };
    for (int i = 0; i < EVENTS; i++) {
        char job[40];
        fake_job_id(300 + i, job);
        cr_assert_eq(job_event_in_txn(job, true), 0);
    }
    int64_t started = mono_ms();
    drain("paced", 30000);
    int64_t took = mono_ms() - started;
    /* a burst of one second's worth, then one every 1/rate s */
    int64_t least = (EVENTS - PACED_RATE) * 1000 / PACED_RATE;
    cr_assert_geq(took, least - 100, "%lld ms for %d events at %d/s", (long long)took, EVENTS,
                  PACED_RATE);
    json_t *got = delivered("paced", "job:");
    cr_assert_eq(json_array_size(got), EVENTS);
    json_decref(got);
}

Test(outbox, a_slow_channel_leaves_its_backlog_for_the_next_run_instead_of_holding_the_worker)
{
    request_world();
    enum { EVENTS = 12 }; /* 400 ms each: 4.8 s in one batch without the budget */
    for (int i = 0; i < EVENTS; i++) {
        char job[40];
        fake_job_id(400 + i, job);
        cr_assert_eq(job_event_in_txn(job, true), 0);
    }
    char slow[300];
    snprintf(slow, sizeof slow, "%s/slow", dir);
    FILE *f = fopen(slow, "w");
    cr_assert_not_null(f);
    fclose(f);
    size_t n = 0;
    sb_error err = {0};
    int64_t started = mono_ms();
    int rc = sb_worker_dispatch_notifications(sb_api_harness_db(h), dispatcher, &n, &err);
    int64_t took = mono_ms() - started;
    cr_assert_geq(rc, 0, "%s", err.message);
    json_t *got = delivered("ok", "job:");
    size_t first = json_array_size(got);
    json_decref(got);
    cr_assert_lt(took, SB_WORKER_RUN_BUDGET_MS + 1000, "one batch held the worker %lld ms",
                 (long long)took);
    cr_assert(first > 0 && first < EVENTS, "%zu of %d delivered in the first batch", first,
              EVENTS);
    cr_assert_eq(rc, SB_WORKER_MORE, "the batch left work but did not say so");
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'ok' AND "
                         "state = 'pending' AND attempts = 0"),
                 EVENTS - (long long)first, "the rows left behind were touched");
    unlink(slow);
    drain("ok", 30000);
    got = delivered("ok", "job:");
    cr_assert_eq(json_array_size(got), EVENTS, "every event is delivered once in the end");
    json_decref(got);
}

Test(outbox, the_retry_delay_doubles_is_capped_and_honours_retry_after)
{
    cr_assert_eq(sb_notify_retry_delay_ms(5000, 1, 0, 0), 5000);
    cr_assert_eq(sb_notify_retry_delay_ms(5000, 2, 0, 0), 10000);
    cr_assert_eq(sb_notify_retry_delay_ms(5000, 4, 0, 0), 40000);
    cr_assert_eq(sb_notify_retry_delay_ms(5000, 60, 0, 0), SB_NOTIFY_RETRY_CAP_MS);
    cr_assert_eq(sb_notify_retry_delay_ms(5000, 1, 0, 200), 6000, "20 %% jitter at most");
    cr_assert_eq(sb_notify_retry_delay_ms(5000, 1, 0, 900), 6000, "jitter is clamped");
    cr_assert_eq(sb_notify_retry_delay_ms(5000, 1, 45000, 100), 45000, "never before Retry-After");
    cr_assert_eq(sb_notify_retry_delay_ms(5000, 3, 1000, 0), 20000);
}

/* A process killed with SIGKILL inside the plugin's deliver loses nothing:
 * its transaction dies with its connection, the row is still pending, and
 * the next dispatch delivers it. */
Test(outbox, a_crash_mid_delivery_loses_nothing)
{
    request_world();
    char job[40], arm[300];
    fake_job_id(400, job);
    cr_assert_eq(job_event_in_txn(job, true), 0);
    snprintf(arm, sizeof arm, "%s/crash", dir);
    FILE *f = fopen(arm, "w");
    cr_assert_not_null(f);
    fclose(f);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) { /* a worker of its own, on its own connections */
        sb_db *db = NULL;
        sb_error err = {0};
        size_t n = 0;
        if (sb_db_open(sb_api_harness_conninfo(h), 2, 10000, &db, &err) != 0)
            _exit(3);
        sb_worker_dispatch_notifications(db, dispatcher, &n, &err);
        _exit(4); /* not reached: crashy kills this process */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the worker was to die in deliver (status %d)", status);
    cr_assert_eq(access(arm, F_OK), -1, "the crash happened inside deliver");
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'crashy' AND "
                         "state = 'pending' AND attempts = 0"),
                 1);
    drain("crashy", 20000);
    json_t *got = delivered("crashy", job);
    cr_assert_eq(json_array_size(got), 1);
    json_decref(got);
    cr_assert_eq(sql_int("SELECT count(*) FROM notification_outbox WHERE channel = 'crashy' AND "
                         "state = 'delivered' AND attempts = 1"),
                 1);
}
