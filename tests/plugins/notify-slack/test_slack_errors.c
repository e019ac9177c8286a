/*
 * tests/plugins/notify-slack/test_slack_errors.c — how the Slack notifier
 * reports Slack's refusals to the outbox, against the strict emulator:
 * HTTP 429 + Retry-After as SB_E_THROTTLED with that delay (injected and from
 * the emulator's own per-channel / per-hook rate limit), Web API ok:false
 * codes as permanent or retryable statuses (real refusals: wrong token,
 * unknown channel, bot not in the channel, archived channel; injected ones
 * for the rest), 5xx as retryable, webhook plain-text errors by status, and
 * the canary: neither the bot token nor the webhook URL's secret ever appears
 * in a log line or a result message, on success or failure.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slack_test_support.h"
#include "util/log.h"

static long live_before;
static void setup(void)
{
    sl_emulator_start();
    live_before = sb_harness_live_secure_allocations();
}
static void teardown(void) { es_emulator_stop(); }

TestSuite(slack_errors, .init = setup, .fini = teardown, .timeout = 120);

static void close_checked(sb_harness *h)
{
    sb_harness_close(h);
    cr_assert_eq(sb_harness_live_secure_allocations(), live_before, "secure memory leaked");
}

typedef struct outcome {
    sb_status status;
    uint32_t retry_after_ms;
    char message[512];
} outcome;

static outcome deliver(sb_harness *h)
{
    sb_notify_event ev = sl_event("request.created", "T", "s", NULL, 0);
    sb_result res = SB_RESULT_INIT;
    outcome o = {sl_deliver(h, &ev, &res), res.retry_after_ms, ""};
    snprintf(o.message, sizeof o.message, "%s", res.message);
    cr_assert_eq(res.status, o.status, "the result carries the status");
    sb_harness_host(h)->result_release(&res);
    return o;
}

#define EXPECT(h, want_status, needle)                                                             \
    do {                                                                                           \
        outcome o_ = deliver(h);                                                                   \
        cr_assert_eq(o_.status, (want_status), "status %d, want %d: %s", o_.status, (want_status), \
                     o_.message);                                                                  \
        cr_assert_not_null(strstr(o_.message, (needle)), "message: %s", o_.message);              \
    } while (0)

/* One injected fault (the JSON members after "target") and what it must map to. */
typedef struct fault_case {
    const char *fault;
    sb_status status;
    const char *needle;
} fault_case;

static void expect_faults(sb_harness *h, const char *target, const fault_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sl_control("faults", "{\"target\":\"%s\",%s}", target, cases[i].fault);
        EXPECT(h, cases[i].status, cases[i].needle);
    }
}

Test(slack_errors, http_429_with_retry_after_is_throttled_with_that_delay)
{
    sb_harness *api = sl_open_api(NULL), *hook = sl_open_webhook(NULL);
    sl_control("faults", "{\"target\":\"chat.postMessage\",\"status\":429,\"retry_after\":7}");
    outcome o = deliver(api);
    cr_assert_eq(o.status, SB_E_THROTTLED, "%s", o.message);
    cr_assert_eq(o.retry_after_ms, 7000);
    sl_control("faults", "{\"target\":\"webhook\",\"status\":429,\"retry_after\":3}");
    o = deliver(hook);
    cr_assert_eq(o.status, SB_E_THROTTLED, "%s", o.message);
    cr_assert_eq(o.retry_after_ms, 3000);
    /* the emulator's own limit: one per second per channel, no burst */
    sl_control("rate-limits", "{\"target\":\"chat.postMessage\",\"per_second\":0.5,\"burst\":1}");
    cr_assert_eq(deliver(api).status, SB_OK);
    o = deliver(api);
    cr_assert_eq(o.status, SB_E_THROTTLED, "%s", o.message);
    cr_assert_eq(o.retry_after_ms, 2000, "Retry-After honoured exactly");
    json_t *msgs = sl_messages();
    cr_assert_eq(json_array_size(msgs), 1, "nothing posted while throttled");
    json_decref(msgs);
    sb_harness_close(hook);
    close_checked(api);
}

Test(slack_errors, web_api_refusals_map_to_permanent_or_retryable_statuses)
{
    sl_control("channels", "{\"id\":\"C0OUTSIDE1\",\"member\":false}");
    sl_control("channels", "{\"id\":\"C0ARCHIVE1\",\"archived\":true}");
    sb_harness *h = sl_open_api_in("C0MISSING1", NULL);
    EXPECT(h, SB_E_NOT_FOUND, "channel_not_found");
    sb_harness_close(h);
    h = sl_open_api_in("C0OUTSIDE1", NULL);
    EXPECT(h, SB_E_DENIED, "not_in_channel: invite the app");
    sb_harness_close(h);
    h = sl_open_api_in("C0ARCHIVE1", NULL);
    EXPECT(h, SB_E_GONE, "is_archived");
    sb_harness_close(h);
    sl_control("tokens", "{\"token\":\"" SL_TOKEN "\",\"revoke\":true}");
    h = sl_open_api(NULL);
    EXPECT(h, SB_E_DENIED, "invalid_auth");
    sl_control("tokens", "{\"token\":\"" SL_TOKEN "\"}");
    static const fault_case injected[] = {
        {"\"error\":\"ratelimited\"", SB_E_THROTTLED, "ratelimited"},
        {"\"error\":\"missing_scope\"", SB_E_DENIED, "chat:write"},
        {"\"error\":\"token_revoked\"", SB_E_DENIED, "token_revoked"},
        {"\"error\":\"msg_too_long\"", SB_E_TOO_LARGE, "msg_too_long"},
        {"\"error\":\"invalid_blocks\"", SB_E_INVALID, "invalid_blocks"},
        {"\"error\":\"internal_error\"", SB_E_UNAVAILABLE, "internal_error"},
        {"\"error\":\"brand_new_error\"", SB_E_PROTOCOL, "unknown error code: brand_new_error"},
        {"\"status\":503", SB_E_UNAVAILABLE, "HTTP 503"},
        {"\"status\":500,\"error\":\"fatal_error\"", SB_E_UNAVAILABLE, "HTTP 500"},
    };
    expect_faults(h, "chat.postMessage", injected, sizeof injected / sizeof injected[0]);
    cr_assert(SB_STATUS_IS_RETRYABLE(SB_E_THROTTLED) && SB_STATUS_IS_RETRYABLE(SB_E_UNAVAILABLE));
    cr_assert_eq(deliver(h).status, SB_OK, "faults used up: delivered");
    /* a call whose deadline already passed never reaches Slack */
    sb_notify_event ev = sl_event("request.created", "T", "s", NULL, 0);
    sb_result res = SB_RESULT_INIT;
    cr_assert_eq(sb_harness_descriptor(h)->notifier->deliver(sb_harness_instance(h),
                                                            sb_harness_call(h, 0), &ev, &res),
                 SB_E_TIMEOUT, "%s", res.message);
    cr_assert_not_null(strstr(res.message, "deadline passed"), "%s", res.message);
    sb_harness_host(h)->result_release(&res);
    char *log = sl_requests();
    cr_assert_eq(es_count(log, "\"method\""), 14, "4 refusals, 9 faults, 1 delivery, not the late call: %s", log);
    free(log);
    close_checked(h);
}

Test(slack_errors, webhook_plain_text_errors_map_by_status_and_code)
{
    sb_harness *h = sl_open_webhook(NULL);
    static const fault_case injected[] = {
        {"\"status\":400,\"error\":\"invalid_payload\"", SB_E_INVALID, "invalid_payload"},
        {"\"status\":400,\"error\":\"no_text\"", SB_E_INVALID, "no_text"},
        {"\"status\":403,\"error\":\"action_prohibited\"", SB_E_DENIED, "action_prohibited"},
        {"\"status\":403,\"error\":\"invalid_token\"", SB_E_CONFIG, "update webhook_url"},
        {"\"status\":500,\"error\":\"rollup_error\"", SB_E_UNAVAILABLE, "rollup_error"},
        {"\"status\":502", SB_E_UNAVAILABLE, "HTTP 502"},
    };
    expect_faults(h, "webhook", injected, sizeof injected / sizeof injected[0]);
    sl_control("channels", "{\"id\":\"" SL_CHANNEL "\",\"archived\":true}");
    EXPECT(h, SB_E_GONE, "channel_is_archived");
    sl_control("channels", "{\"id\":\"" SL_CHANNEL "\",\"delete\":true}");
    EXPECT(h, SB_E_NOT_FOUND, "channel_not_found");
    sl_control("hooks", "{\"path\":\"" SL_HOOK "\",\"disabled\":true}");
    EXPECT(h, SB_E_CONFIG, "no_service");
    json_t *msgs = sl_messages();
    cr_assert_eq(json_array_size(msgs), 0);
    json_decref(msgs);
    close_checked(h);
}

static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *buf = calloc(1, (size_t)n + 1);
    rewind(f);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    return buf;
}

Test(slack_errors, the_token_and_the_webhook_url_never_reach_logs_or_messages)
{
    FILE *captured = tmpfile();
    cr_assert_not_null(captured);
    sb_log_set_stream(captured);
    sb_log_set_level(SB_LEVEL_DEBUG);
    char messages[4096] = "";
    sb_harness *api = sl_open_api(NULL), *hook = sl_open_webhook(NULL);
    outcome o = deliver(api);
    cr_assert_eq(o.status, SB_OK, "%s", o.message);
    cr_assert_eq(deliver(hook).status, SB_OK);
    sl_control("tokens", "{\"token\":\"" SL_TOKEN "\",\"revoke\":true}");
    o = deliver(api);
    strcat(messages, o.message);
    sl_control("hooks", "{\"path\":\"" SL_HOOK "\",\"disabled\":true}");
    o = deliver(hook);
    strcat(messages, o.message);
    sb_harness_close(api);
    sb_harness_close(hook);
    /* a webhook whose host does not answer: the transport error names the URL */
    char yaml[512];
    setenv("SB_TEST_SLACK_DEAD_HOOK", "http://127.0.0.1:9/services/" SL_HOOK, 1);
    snprintf(yaml, sizeof yaml, "mode: webhook\nwebhook_url: ${env:SB_TEST_SLACK_DEAD_HOOK}\n");
    char err[1024];
    sb_harness *dead = sb_harness_open(SB_TEST_PLUGIN_PATH, yaml, err, sizeof err);
    cr_assert_not_null(dead, "%s", err);
    o = deliver(dead);
    cr_assert_eq(o.status, SB_E_UNAVAILABLE, "%s", o.message);
    strcat(messages, o.message);
    sb_harness_close(dead);
    sb_log_set_stream(stderr);
    char *log = slurp(captured);
    fclose(captured);
    cr_assert_not_null(strstr(log, "delivered request.created"), "the capture works: %s", log);
    cr_assert_null(strstr(log, SL_TOKEN), "token in the log: %s", log);
    cr_assert_null(strstr(log, SL_HOOK_SECRET), "webhook secret in the log: %s", log);
    cr_assert_null(strstr(messages, SL_TOKEN), "token in a message: %s", messages);
    cr_assert_null(strstr(messages, SL_HOOK_SECRET), "webhook secret in a message: %s", messages);
    cr_assert_not_null(strstr(messages, "invalid_auth"), "%s", messages);
    cr_assert_not_null(strstr(messages, "no_service"), "%s", messages);
    free(log);
    cr_assert_eq(sb_harness_live_secure_allocations(), live_before, "secure memory leaked");
}
