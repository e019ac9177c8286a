/*
 * tests/plugins/notify-slack/test_slack_notify.c — the Slack NOTIFIER through
 * the real loader and host API against the strict Slack emulator: the Block
 * Kit message of an event through the webhook (header, summary, the facts
 * table with the approver, state line, the link button, mrkdwn escaping that
 * stops @channel pings, no value-shaped field invented, thread_key hidden),
 * Slack's limits (a long summary truncated, many fields split and counted),
 * chat.postMessage with threads (updates of a request reply under its first
 * message, other requests and key-less events top-level, the channel
 * override, thread_replies off, the bounded map evicting, a gone parent
 * re-posted top-level), and events the plugin refuses before any call.
 * Every test checks that no secure memory leaks across the ABI.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slack_test_support.h"

static long live_before;
static void setup(void)
{
    sl_emulator_start();
    live_before = sb_harness_live_secure_allocations();
}
static void teardown(void) { es_emulator_stop(); }

TestSuite(slack_notify, .init = setup, .fini = teardown, .timeout = 120);

static void close_checked(sb_harness *h)
{
    sb_harness_close(h);
    cr_assert_eq(sb_harness_live_secure_allocations(), live_before, "secure memory leaked");
}

static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

Test(slack_notify, webhook_message_carries_who_what_why_state_facts_and_the_link)
{
    sb_harness *h = sl_open_webhook(NULL);
    const sb_kv fields[] = {{"request_id", "req-42"},
                            {"secret", "prod/db"},
                            {"approver", "alice@example.com"},
                            {"thread_key", "req-42"}};
    sb_notify_event ev = sl_event("request.approved", "Rotation of prod/db approved",
                                  "bob asked to rotate prod/db <!channel> & why: quarterly",
                                  fields, 4);
    ev.severity = "warning";
    ev.link = "https://sbridge.example.com/requests/req-42";
    ev.dedupe_key = "req-42:approved";
    sl_deliver_ok(h, &ev);

    json_t *msgs = sl_messages();
    cr_assert_eq(json_array_size(msgs), 1);
    json_t *m = json_array_get(msgs, 0);
    cr_assert_str_eq(str(m, "via"), "webhook");
    cr_assert_str_eq(str(m, "channel"), SL_CHANNEL);
    cr_assert(json_is_false(json_object_get(m, "unfurl_links")));
    cr_assert(json_is_false(json_object_get(m, "unfurl_media")));
    cr_assert_str_eq(str(m, "text"), "[warning] Rotation of prod/db approved: bob asked to rotate "
                                     "prod/db &lt;!channel&gt; &amp; why: quarterly");
    cr_assert_str_eq(sl_text(json_object_get(sl_block(m, "header", 0), "text")),
                     ":warning: Rotation of prod/db approved");
    cr_assert_str_eq(sl_text(json_object_get(sl_block(m, "section", 0), "text")),
                     "bob asked to rotate prod/db &lt;!channel&gt; &amp; why: quarterly");
    json_t *facts = json_object_get(sl_block(m, "section", 1), "fields");
    cr_assert_eq(json_array_size(facts), 3, "thread_key is not shown");
    cr_assert_str_eq(sl_text(json_array_get(facts, 0)), "*request_id*\nreq-42");
    cr_assert_str_eq(sl_text(json_array_get(facts, 1)), "*secret*\nprod/db");
    cr_assert_str_eq(sl_text(json_array_get(facts, 2)), "*approver*\nalice@example.com");
    const char *ctx = sl_text(json_array_get(json_object_get(sl_block(m, "context", 0), "elements"), 0));
    cr_assert_not_null(strstr(ctx, "*State:* approved"), "%s", ctx);
    cr_assert_not_null(strstr(ctx, "`request.approved`"), "%s", ctx);
    cr_assert_not_null(strstr(ctx, "*Severity:* warning"), "%s", ctx);
    json_t *button = json_array_get(json_object_get(sl_block(m, "actions", 0), "elements"), 0);
    cr_assert_str_eq(str(button, "url"), "https://sbridge.example.com/requests/req-42");
    cr_assert_str_eq(str(button, "type"), "button");
    cr_assert_eq(json_array_size(json_object_get(m, "blocks")), 5);
    char *keys = json_dumps(json_object_get(m, "keys"), JSON_COMPACT);
    cr_assert_str_eq(keys, "[\"blocks\",\"text\",\"unfurl_links\",\"unfurl_media\"]",
                     "the webhook body holds nothing else");
    free(keys);
    json_decref(msgs);
    close_checked(h);
}

Test(slack_notify, long_text_is_truncated_and_many_fields_split_within_slack_limits)
{
    sb_harness *h = sl_open_webhook(NULL);
    char *summary = malloc(5001);
    memset(summary, 'x', 5000);
    summary[0] = '<'; /* escaping counts toward the limit */
    summary[5000] = '\0';
    sb_kv fields[45];
    char keys[45][16];
    for (int i = 0; i < 45; i++) {
        snprintf(keys[i], sizeof keys[i], "fact%02d", i);
        fields[i] = (sb_kv){keys[i], "v"};
    }
    sb_notify_event ev = sl_event("job.failed", "A job failed", summary, fields, 45);
    ev.link = "javascript:alert(1)"; /* not http(s): no button */
    sl_deliver_ok(h, &ev);
    json_t *msgs = sl_messages();
    json_t *m = json_array_get(msgs, 0);
    const char *text = sl_text(json_object_get(sl_block(m, "section", 0), "text"));
    cr_assert_leq(strlen(text), 3000);
    cr_assert(strncmp(text, "&lt;xxx", 7) == 0, "%.20s", text);
    cr_assert_str_eq(text + strlen(text) - 3, "\xe2\x80\xa6", "ends with an ellipsis");
    for (size_t s = 1; s <= 4; s++)
        cr_assert_eq(json_array_size(json_object_get(sl_block(m, "section", s), "fields")), 10,
                     "section %zu", s);
    cr_assert_null(sl_block(m, "section", 5));
    cr_assert_null(sl_block(m, "actions", 0), "no button for a non-http link");
    const char *ctx = sl_text(json_array_get(json_object_get(sl_block(m, "context", 0), "elements"), 0));
    cr_assert_not_null(strstr(ctx, "5 more fields in the UI"), "%s", ctx);
    json_decref(msgs);
    free(summary);
    close_checked(h);
}

Test(slack_notify, web_api_threads_updates_of_a_request_under_its_first_message)
{
    sl_control("channels", "{\"id\":\"C0SECOND01\"}");
    sb_harness *h = sl_open_api(NULL);
    const sb_kv r1[] = {{"request_id", "req-1"}, {"requester", "bob"}};
    const sb_kv r1_decided[] = {{"request_id", "req-1"}, {"approver", "alice"}};
    const sb_kv r2[] = {{"request_id", "req-2"}};
    const sb_kv r2_keyed[] = {{"request_id", "ignored"}, {"thread_key", "req-2"}};
    sb_notify_event created = sl_event("request.created", "Request req-1", "bob asks", r1, 2);
    sb_notify_event approved = sl_event("request.approved", "Approved", "alice approved", r1_decided, 2);
    sb_notify_event executed = sl_event("request.failed", "Failed", "the patch failed", r1, 1);
    executed.severity = "critical";
    sb_notify_event other = sl_event("request.created", "Request req-2", "carol asks", r2, 1);
    sb_notify_event other_update = sl_event("request.rejected", "Rejected", "no", r2_keyed, 2);
    sb_notify_event stale = sl_event("agent.stale", "Agent stale", "agent-7 quiet", NULL, 0);
    sb_notify_event elsewhere = sl_event("request.created", "Elsewhere", "in another channel", r1, 1);
    elsewhere.channel = "C0SECOND01";
    sl_deliver_ok(h, &created);
    sl_deliver_ok(h, &other);
    sl_deliver_ok(h, &approved);
    sl_deliver_ok(h, &stale);
    sl_deliver_ok(h, &executed);
    sl_deliver_ok(h, &other_update);
    sl_deliver_ok(h, &elsewhere);

    json_t *msgs = sl_messages();
    cr_assert_eq(json_array_size(msgs), 7);
    json_t *m[7];
    for (size_t i = 0; i < 7; i++) {
        m[i] = json_array_get(msgs, i);
        cr_assert_str_eq(str(m[i], "via"), "api");
    }
    const char *parent1 = str(m[0], "ts"), *parent2 = str(m[1], "ts");
    cr_assert_null(str(m[0], "thread_ts"));
    cr_assert_null(str(m[1], "thread_ts"));
    cr_assert_str_eq(str(m[2], "thread_ts"), parent1, "the approval replies under req-1");
    cr_assert_null(str(m[3], "thread_ts"), "an event without a key is top-level");
    cr_assert_str_eq(str(m[4], "thread_ts"), parent1);
    cr_assert(json_is_true(json_object_get(m[4], "reply_broadcast")), "a critical reply is broadcast");
    cr_assert(json_is_false(json_object_get(m[2], "reply_broadcast")));
    cr_assert_str_eq(str(m[5], "thread_ts"), parent2, "thread_key wins over request_id");
    cr_assert_str_eq(str(m[6], "channel"), "C0SECOND01");
    cr_assert_null(str(m[6], "thread_ts"), "threads are per channel");
    cr_assert_str_eq(str(m[2], "text"), "[info] Approved: alice approved");
    char *keys = json_dumps(json_object_get(m[2], "keys"), JSON_COMPACT);
    cr_assert_str_eq(keys, "[\"blocks\",\"channel\",\"text\",\"thread_ts\",\"unfurl_links\","
                           "\"unfurl_media\"]");
    free(keys);
    json_t *facts = json_object_get(sl_block(m[2], "section", 1), "fields");
    cr_assert_str_eq(sl_text(json_array_get(facts, 1)), "*approver*\nalice");
    json_decref(msgs);
    char *log = sl_requests();
    cr_assert_eq(es_count(log, "\"auth\": \"bearer\""), 7, "%s", log);
    cr_assert_eq(es_count(log, SL_TOKEN), 0);
    free(log);
    close_checked(h);
}

Test(slack_notify, thread_replies_off_and_a_full_map_post_top_level)
{
    const sb_kv r1[] = {{"request_id", "req-1"}}, r2[] = {{"request_id", "req-2"}};
    sb_notify_event a = sl_event("request.created", "A", "a", r1, 1);
    sb_notify_event b = sl_event("request.created", "B", "b", r2, 1);
    sb_harness *h = sl_open_api("thread_replies: false\n");
    sl_deliver_ok(h, &a);
    sl_deliver_ok(h, &a);
    close_checked(h);
    h = sl_open_api("thread_map_size: 1\n");
    sl_deliver_ok(h, &a); /* parent of req-1 */
    sl_deliver_ok(h, &b); /* evicts req-1 */
    sl_deliver_ok(h, &b); /* reply under req-2 */
    sl_deliver_ok(h, &a); /* req-1 forgotten: top-level again */
    json_t *msgs = sl_messages();
    cr_assert_eq(json_array_size(msgs), 6);
    cr_assert_null(str(json_array_get(msgs, 1), "thread_ts"), "thread_replies: false");
    cr_assert_str_eq(str(json_array_get(msgs, 4), "thread_ts"), str(json_array_get(msgs, 3), "ts"));
    cr_assert_null(str(json_array_get(msgs, 5), "thread_ts"), "evicted from the bounded map");
    json_decref(msgs);
    close_checked(h);
}

Test(slack_notify, a_gone_parent_starts_a_new_thread)
{
    const sb_kv r1[] = {{"request_id", "req-9"}};
    sb_notify_event ev = sl_event("request.created", "Nine", "n", r1, 1);
    sb_harness *h = sl_open_api(NULL);
    sl_deliver_ok(h, &ev);
    sl_control("reset", "{}"); /* Slack forgets every message: the parent is gone */
    sl_deliver_ok(h, &ev);
    sl_deliver_ok(h, &ev);
    json_t *msgs = sl_messages();
    cr_assert_eq(json_array_size(msgs), 2);
    cr_assert_null(str(json_array_get(msgs, 0), "thread_ts"), "re-posted top-level");
    cr_assert_str_eq(str(json_array_get(msgs, 1), "thread_ts"), str(json_array_get(msgs, 0), "ts"));
    json_decref(msgs);
    char *log = sl_requests();
    cr_assert_eq(es_count(log, "\"error\": \"thread_not_found\""), 1, "%s", log);
    free(log);
    close_checked(h);
}

Test(slack_notify, events_the_plugin_refuses_never_reach_slack)
{
    sb_harness *hook = sl_open_webhook(NULL), *api = sl_open_api(NULL);
    sb_result res = SB_RESULT_INIT;
    const sb_host_api *host = sb_harness_host(api);
    sb_notify_event ev = sl_event("request.created", "T", "s", NULL, 0);
    ev.channel = SL_CHANNEL;
    cr_assert_eq(sl_deliver(hook, &ev, &res), SB_E_INVALID);
    cr_assert_not_null(strstr(res.message, "webhook posts only to the channel"), "%s", res.message);
    ev.channel = "#general";
    cr_assert_eq(sl_deliver(api, &ev, &res), SB_E_INVALID);
    cr_assert_not_null(strstr(res.message, "not a conversation id"), "%s", res.message);
    ev.channel = NULL;
    ev.summary = "bad \xff utf-8";
    cr_assert_eq(sl_deliver(api, &ev, &res), SB_E_INVALID);
    cr_assert_not_null(strstr(res.message, "UTF-8"), "%s", res.message);
    ev.summary = "s";
    ev.kind = "";
    cr_assert_eq(sl_deliver(api, &ev, &res), SB_E_INVALID);
    cr_assert_eq(sb_harness_descriptor(api)->notifier->deliver(NULL, sb_harness_call(api, 1000), &ev, &res),
                 SB_E_INVALID);
    host->result_release(&res);
    char *log = sl_requests();
    cr_assert_eq(es_count(log, "\"method\""), 0, "nothing reached the emulator: %s", log);
    free(log);
    sb_harness_close(hook);
    close_checked(api);
}
