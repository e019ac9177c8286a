/* tests/plugins/notify-slack/slack_test_support.c — see slack_test_support.h. */
#include "slack_test_support.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SB_TEST_PLUGIN_PATH
#error "SB_TEST_PLUGIN_PATH must be defined by the build"
#endif

void sl_emulator_start(void)
{
    static const char *const args[] = {"--token", SL_TOKEN, "--hook", SL_HOOK, NULL};
    es_emulator_start("tests/emulators/slack/slack_emulator.py", args);
}

static sb_harness *open_with(const char *yaml)
{
    char err[2048];
    sb_harness *h = sb_harness_open(SB_TEST_PLUGIN_PATH, yaml, err, sizeof err);
    cr_assert_not_null(h, "the harness refused the plugin/config: %s", err);
    return h;
}

sb_harness *sl_open_webhook(const char *yaml_rest)
{
    char url[256], yaml[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/services/" SL_HOOK, es_port());
    setenv("SB_TEST_SLACK_WEBHOOK", url, 1);
    snprintf(yaml, sizeof yaml, "mode: webhook\nwebhook_url: ${env:SB_TEST_SLACK_WEBHOOK}\n%s",
             yaml_rest ? yaml_rest : "");
    return open_with(yaml);
}

sb_harness *sl_open_api_in(const char *channel, const char *yaml_rest)
{
    char yaml[2048];
    setenv("SB_TEST_SLACK_TOKEN", SL_TOKEN, 1);
    snprintf(yaml, sizeof yaml,
             "mode: web_api\nbot_token: ${env:SB_TEST_SLACK_TOKEN}\nchannel: %s\n"
             "api_url: http://127.0.0.1:%d/api\n%s",
             channel, es_port(), yaml_rest ? yaml_rest : "");
    return open_with(yaml);
}

sb_harness *sl_open_api(const char *yaml_rest) { return sl_open_api_in(SL_CHANNEL, yaml_rest); }

sb_notify_event sl_event(const char *kind, const char *title, const char *summary,
                         const sb_kv *fields, size_t n_fields)
{
    sb_notify_event ev = {.struct_size = sizeof ev, .kind = kind, .severity = "info",
                          .title = title, .summary = summary, .fields = fields,
                          .n_fields = n_fields, .dedupe_key = kind};
    return ev;
}

sb_status sl_deliver(sb_harness *h, const sb_notify_event *ev, sb_result *res)
{
    return sb_harness_descriptor(h)->notifier->deliver(sb_harness_instance(h),
                                                       sb_harness_call(h, 10000), ev, res);
}

void sl_deliver_ok(sb_harness *h, const sb_notify_event *ev)
{
    sb_result res = SB_RESULT_INIT;
    sb_status st = sl_deliver(h, ev, &res);
    cr_assert_eq(st, SB_OK, "deliver %s: status %d: %s", ev->kind, st, res.message);
    sb_harness_host(h)->result_release(&res);
}

json_t *sl_messages(void)
{
    char *body = NULL;
    cr_assert_eq(es_admin("GET", "messages", NULL, &body), 200);
    json_error_t e;
    json_t *doc = json_loads(body, 0, &e);
    free(body);
    cr_assert_not_null(doc, "messages: %s", e.text);
    json_t *list = json_incref(json_object_get(doc, "messages"));
    json_decref(doc);
    cr_assert(json_is_array(list));
    return list;
}

char *sl_requests(void)
{
    char *body = NULL;
    cr_assert_eq(es_admin("GET", "requests", NULL, &body), 200);
    return body;
}

void sl_control(const char *name, const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    es_admin_ok("POST", name, body);
}

json_t *sl_block(json_t *message, const char *type, size_t nth)
{
    json_t *blocks = json_object_get(message, "blocks"), *b;
    size_t i;
    json_array_foreach(blocks, i, b)
    {
        const char *t = json_string_value(json_object_get(b, "type"));
        if (t && strcmp(t, type) == 0 && nth-- == 0)
            return b;
    }
    return NULL;
}

const char *sl_text(json_t *obj) { return json_string_value(json_object_get(obj, "text")); }
