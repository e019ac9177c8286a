/*
 * tests/plugins/notify-slack/slack_test_support.h — what the Slack notifier
 * tests share beyond tests/support/emulator_support.h: the Slack emulator
 * (accepting SL_TOKEN and the hook SL_HOOK), the plugin opened against it in
 * either mode, events, deliveries with a result the test inspects, and the
 * emulator's message log parsed with jansson.
 */
#ifndef SB_TESTS_SLACK_SUPPORT_H
#define SB_TESTS_SLACK_SUPPORT_H

#include <jansson.h>
#include <sbridge/plugin.h>

#include "emulator_support.h"

#define SL_TOKEN "xoxb-1111-canary-token-7f3e9a"
#define SL_HOOK_SECRET "canaryhooksecret4d2b8c"
#define SL_HOOK "T0SLTEST/B0SLHOOK/" SL_HOOK_SECRET
#define SL_CHANNEL "C0EMULATOR1"

void sl_emulator_start(void);

/* The plugin with mode webhook (URL at the emulator's hook, through
 * ${env:...}) or web_api (api_url at the emulator, token through ${env:...},
 * channel SL_CHANNEL), then `yaml_rest` (may be NULL). */
sb_harness *sl_open_webhook(const char *yaml_rest);
sb_harness *sl_open_api(const char *yaml_rest);
/* web_api with another default channel. */
sb_harness *sl_open_api_in(const char *channel, const char *yaml_rest);

/* An event (strings borrowed; fields may be NULL). */
sb_notify_event sl_event(const char *kind, const char *title, const char *summary,
                         const sb_kv *fields, size_t n_fields);

sb_status sl_deliver(sb_harness *h, const sb_notify_event *ev, sb_result *res);
/* Delivers and fails the test unless SB_OK. */
void sl_deliver_ok(sb_harness *h, const sb_notify_event *ev);

/* The emulator's message log (a JSON array, caller json_decref's). */
json_t *sl_messages(void);
/* The emulator's request log as text (heap). */
char *sl_requests(void);
/* POST /_emulator/<name> with a printf-formatted JSON body; fails unless 200. */
void sl_control(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The blocks of a logged message whose type is `type`, n-th of that type. */
json_t *sl_block(json_t *message, const char *type, size_t nth);
/* The text of a text object at blocks[i].text (or NULL). */
const char *sl_text(json_t *obj);

#endif
