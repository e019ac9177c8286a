/*
 * plugins/notify-slack/slack_plugin.c — the Slack notifier's descriptor,
 * config schema and instance lifecycle.
 *
 * Contract:
 *   - Exports only `sbridge_plugin_v1`. Capability: NOTIFIER. SB_THREAD_SERIAL:
 *     the per-instance thread map needs no lock.
 *   - Two modes: `webhook` (an incoming webhook URL, SB_CFG_SECRET: the URL is
 *     the credential) and `web_api` (chat.postMessage with a bot token,
 *     SB_CFG_SECRET, and a default channel id).
 *   - instance_new checks what the schema cannot: URLs are http(s) without
 *     user information, query or fragment, plain http only to a loopback host
 *     (the host's HTTP client refuses anything else, and an emulator is the
 *     only reason to use it); the bot token looks like a Slack token (xox…);
 *     the channel is a conversation id. Errors name the key and the fix and
 *     never the secret. No network call is made.
 */
#include "slack.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const sb_host_api *slack_host = NULL;

#define F(type_, key_, flags_, default_, help_, when_)                                             \
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = (type_), .key = (key_),            \
     .flags = (flags_), .default_value = (default_), .help = (help_), .min = 1, .max = 0,         \
     .when = (when_)}

static const sb_config_field slack_config_fields[] = {
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_ENUM, .key = "mode",
     .flags = SB_CFG_REQUIRED, .min = 1, .max = 0, .enum_values = "webhook|web_api",
     .help = "webhook: post to an incoming webhook (one fixed channel, no threads); web_api: "
             "chat.postMessage with a bot token (any channel the app is in, thread replies)."},
    F(SB_CFG_STRING, "webhook_url", SB_CFG_SECRET | SB_CFG_URL | SB_CFG_REQUIRED, NULL,
      "The incoming webhook URL (https://hooks.slack.com/services/T…/B…/…); it is the credential: "
      "reference it as ${file:...} or ${env:...}.",
      "mode=webhook"),
    F(SB_CFG_STRING, "bot_token", SB_CFG_SECRET | SB_CFG_REQUIRED, NULL,
      "Bot token (xoxb-…) with the chat:write scope; reference it as ${file:...} or ${env:...}.",
      "mode=web_api"),
    F(SB_CFG_STRING, "channel", SB_CFG_REQUIRED, NULL,
      "Default conversation id (C…, G… or D…); an event's channel overrides it. The app must be "
      "a member of the channel.",
      "mode=web_api"),
    F(SB_CFG_STRING, "api_url", SB_CFG_URL, "https://slack.com/api",
      "Web API base URL; https, or http to a loopback address for a local emulator.",
      "mode=web_api"),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_BOOL,
     .key = "thread_replies", .default_value = "true", .min = 1, .max = 0, .when = "mode=web_api",
     .help = "Post later events of the same request as replies in the thread of its first "
             "message (field thread_key, else request_id)."},
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_INT,
     .key = "thread_map_size", .default_value = "1000", .min = 1, .max = 100000,
     .when = "mode=web_api",
     .help = "How many threads the instance remembers (least recently used forgotten first; "
             "the map is in memory and starts empty after a restart)."},
    F(SB_CFG_STRING, "ca_file", SB_CFG_PATH, NULL,
      "PEM bundle of the CAs to trust for Slack; unset: system CAs.", NULL),
    {.struct_size = (uint32_t)sizeof(sb_config_field), .type = SB_CFG_DURATION,
     .key = "request_timeout", .default_value = "10s", .min = 1000, .max = 120000,
     .help = "Timeout of one HTTP request (1s to 2m); the call's deadline still applies."},
};

static sb_status slack_init(const sb_host_api *host, sb_result *res)
{
    sb_status st = sbp_host_init_check(host, SLACK_PLUGIN_NAME, res);
    if (st == SB_OK)
        slack_host = host;
    return st;
}

static void slack_fini(void) { slack_host = NULL; }

static void slack_instance_free(void *instance)
{
    slack_instance *si = instance;
    if (si == NULL)
        return;
    slack_threads_free(&si->threads);
    free(si->name);
    free(si->post_message_url);
    free(si->channel);
    free(si->ca_file);
    free(si);
}

static sb_status config_error(slack_instance *si, sb_result *res, const char *key,
                              const char *why)
{
    slack_instance_free(si);
    return slack_host->fail(res, SB_E_CONFIG, 0, "slack config: %s: %s", key, why);
}

static int loopback_host(const char *host, size_t n)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, host, n);
    buf[n] = '\0';
    if (strcasecmp(buf, "localhost") == 0)
        return 1;
    struct in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    return strcmp(buf, "[::1]") == 0;
}

const char *slack_check_url(const char *url)
{
    int https = strncasecmp(url, "https://", 8) == 0;
    if (!https && strncasecmp(url, "http://", 7) != 0)
        return "must be an https:// URL";
    const char *host = strstr(url, "://") + 3;
    size_t authority = strcspn(host, "/?#");
    if (authority == 0 || memchr(host, '@', authority) != NULL)
        return "must name a host and no user information";
    if (strpbrk(host, "?#\"\\ ") != NULL)
        return "must not have a query or fragment";
    size_t hn = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
    if (!https && !loopback_host(host, hn))
        return "plain http is allowed only to a loopback address (a local emulator); use https";
    return NULL;
}

int slack_channel_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 9 || n > 24 || (id[0] != 'C' && id[0] != 'G' && id[0] != 'D'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9')))
            return 0;
    return 1;
}

static sb_status configure_web_api(slack_instance *si, const sb_config *cfg, sb_result *res)
{
    const sb_host_api *h = slack_host;
    si->bot_token = h->config_secret(cfg, "bot_token");
    if (si->bot_token == NULL || si->bot_token[0] == '\0')
        return config_error(si, res, "bot_token", "required for mode: web_api");
    if (strncmp(si->bot_token, "xox", 3) != 0 || strpbrk(si->bot_token, " \t\r\n") != NULL)
        return config_error(si, res, "bot_token",
                            "is not a Slack token (a bot token starts with xoxb-); copy it from "
                            "the app's OAuth & Permissions page");
    const char *channel = h->config_string(cfg, "channel");
    if (!slack_channel_id_ok(channel))
        return config_error(si, res, "channel",
                            "must be a conversation id such as C0123456789 (channel details → "
                            "bottom of the About tab), not a #name");
    const char *api = h->config_string(cfg, "api_url");
    api = api ? api : "https://slack.com/api";
    const char *why = slack_check_url(api);
    if (why)
        return config_error(si, res, "api_url", why);
    size_t n = strlen(api);
    while (n > 0 && api[n - 1] == '/')
        n--;
    sbp_str url = {0};
    sbp_str_addn(&url, api, n);
    sbp_str_add(&url, "/chat.postMessage");
    si->post_message_url = url.p;
    si->channel = sbp_strdup(channel);
    if (url.failed || si->channel == NULL)
        return config_error(si, res, "config", "out of memory");
    si->thread_replies = h->config_bool(cfg, "thread_replies");
    int64_t cap = h->config_int(cfg, "thread_map_size");
    if (slack_threads_init(&si->threads, cap >= 1 && cap <= 100000 ? (size_t)cap : 1000) != 0)
        return config_error(si, res, "thread_map_size", "out of memory");
    return SB_OK;
}

static sb_status configure_webhook(slack_instance *si, const sb_config *cfg, sb_result *res)
{
    si->webhook_url = slack_host->config_secret(cfg, "webhook_url");
    if (si->webhook_url == NULL || si->webhook_url[0] == '\0')
        return config_error(si, res, "webhook_url", "required for mode: webhook");
    const char *why = slack_check_url(si->webhook_url);
    if (why)
        return config_error(si, res, "webhook_url", why);
    return SB_OK;
}

static sb_status slack_instance_new(const sb_config *cfg, void **instance, sb_result *res)
{
    if (res == NULL)
        return SB_E_INVALID;
    if (instance)
        *instance = NULL;
    if (slack_host == NULL)
        return SB_E_INTERNAL;
    const sb_host_api *h = slack_host;
    if (cfg == NULL || instance == NULL)
        return h->fail(res, SB_E_INVALID, 0, "instance_new: config and instance must not be NULL");
    slack_instance *si = calloc(1, sizeof *si);
    if (si == NULL)
        return h->fail(res, SB_E_INTERNAL, 0, "instance_new: out of memory");
    si->name = sbp_strdup(h->config_instance_name(cfg));
    const char *mode = h->config_string(cfg, "mode");
    si->mode = mode && strcmp(mode, "webhook") == 0   ? SLACK_MODE_WEBHOOK
               : mode && strcmp(mode, "web_api") == 0 ? SLACK_MODE_WEB_API
                                                       : 0;
    sb_status st = si->mode == SLACK_MODE_WEBHOOK   ? configure_webhook(si, cfg, res)
                   : si->mode == SLACK_MODE_WEB_API ? configure_web_api(si, cfg, res)
                                                    : config_error(si, res, "mode",
                                                                   "must be webhook or web_api");
    if (st != SB_OK)
        return st;
    const char *ca = h->config_string(cfg, "ca_file");
    if (ca && ca[0] && (si->ca_file = sbp_strdup(ca)) == NULL)
        return config_error(si, res, "ca_file", "out of memory");
    int64_t timeout = h->config_int(cfg, "request_timeout");
    si->timeout_ms = timeout >= 1000 && timeout <= 120000 ? (uint32_t)timeout : 10000u;
    *instance = si;
    return SB_OK;
}

SB_PLUGIN_DEFINE(.name = SLACK_PLUGIN_NAME, .version = SLACK_PLUGIN_VERSION,
                 .vendor = "Secrets Bridge", .license = "Apache-2.0",
                 .description = "Slack notifications: Block Kit messages (who/what/why/state, "
                                "facts, a link to the UI; never a value) through an incoming "
                                "webhook or chat.postMessage with thread replies per request.",
                 .capabilities = SB_CAP_NOTIFIER, .thread_model = SB_THREAD_SERIAL,
                 SB_PLUGIN_CONFIG(slack_config_fields), .init = slack_init, .fini = slack_fini,
                 .instance_new = slack_instance_new, .instance_free = slack_instance_free,
                 .notifier = &slack_notifier_ops)
