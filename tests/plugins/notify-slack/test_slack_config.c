/*
 * tests/plugins/notify-slack/test_slack_config.c — the Slack notifier's
 * configuration through the real loader and schema validation: each broken
 * config is refused with a message that names the key and the fix, and never
 * the secret; plain http is accepted only to a loopback address.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "slack_test_support.h"

TestSuite(slack_config, .timeout = 60);

static void refused(const char *yaml, const char *needle)
{
    char err[2048];
    sb_harness *h = sb_harness_open(SB_TEST_PLUGIN_PATH, yaml, err, sizeof err);
    if (h)
        sb_harness_close(h);
    cr_assert_null(h, "accepted: %s", yaml);
    cr_assert_not_null(strstr(err, needle), "error for [%s]: %s", yaml, err);
    cr_assert_null(strstr(err, "canary"), "a secret in the error: %s", err);
}

static void accepted(const char *yaml)
{
    char err[2048];
    sb_harness *h = sb_harness_open(SB_TEST_PLUGIN_PATH, yaml, err, sizeof err);
    cr_assert_not_null(h, "refused [%s]: %s", yaml, err);
    sb_harness_close(h);
}

Test(slack_config, broken_configs_are_refused_with_the_key_and_the_fix)
{
    refused("webhook_url: https://hooks.slack.com/services/T/B/canary\n", "mode");
    refused("mode: teams\n", "mode");
    refused("mode: webhook\n", "webhook_url");
    refused("mode: webhook\nwebhook_url: http://hooks.example.com/services/T/B/canary\n",
            "plain http is allowed only to a loopback address");
    refused("mode: webhook\nwebhook_url: https://user:pw@hooks.slack.com/services/canary\n",
            "no user information");
    refused("mode: webhook\nwebhook_url: https://hooks.slack.com/services/canary?x=1\n",
            "query");
    refused("mode: web_api\nchannel: C0123456789\n", "bot_token");
    refused("mode: web_api\nbot_token: canary-not-a-token\nchannel: C0123456789\n",
            "bot_token: is not a Slack token");
    refused("mode: web_api\nbot_token: xoxb-canary\nchannel: '#general'\n",
            "channel: must be a conversation id");
    refused("mode: web_api\nbot_token: xoxb-canary\nchannel: C0123456789\n"
            "api_url: http://slack.example.com/api\n",
            "api_url: plain http is allowed only to a loopback address");
    refused("mode: web_api\nbot_token: xoxb-canary\nchannel: C0123456789\n"
            "webhook_url: https://hooks.slack.com/services/T/B/canary\n",
            "webhook_url");
    refused("mode: web_api\nbot_token: xoxb-canary\nchannel: C0123456789\nthread_map_size: 0\n",
            "thread_map_size");
}

Test(slack_config, good_configs_load)
{
    accepted("mode: webhook\nwebhook_url: https://hooks.slack.com/services/T0/B0/x\n");
    accepted("mode: webhook\nwebhook_url: http://127.0.0.1:3000/services/T0/B0/x\n");
    accepted("mode: web_api\nbot_token: xoxb-1-2\nchannel: C0123456789\n");
    accepted("mode: web_api\nbot_token: xoxb-1-2\nchannel: G0123456789\n"
             "api_url: http://localhost:3000/api/\nthread_replies: false\n"
             "thread_map_size: 5\nrequest_timeout: 3s\n");
}
