/*
 * plugins/notify-slack/slack_errors.c — what Slack's answers mean for the
 * outbox: permanent (the same message will fail the same way: fix the
 * config or the channel) or retryable (with a delay hint).
 *
 * Contract:
 *   - Incoming webhooks answer a plain-text code with an HTTP status
 *     (reference/provider-apis.md §6.1): 400 invalid_payload / no_text /
 *     invalid_blocks / user_not_found… -> INVALID; 403 action_prohibited ->
 *     DENIED; 403 invalid_token and 404 no_service / no_team /
 *     no_active_hooks (a removed hook) -> CONFIG; 404 channel_not_found ->
 *     NOT_FOUND; 410 channel_is_archived -> GONE; 429 -> THROTTLED with
 *     Retry-After; 5xx (rollup_error…) -> UNAVAILABLE.
 *   - The Web API answers HTTP 200 {"ok":false,"error":code} (§6.2); the
 *     table below classifies the codes chat.postMessage documents; an
 *     unknown code is PROTOCOL (permanent: nobody knows it will pass later).
 *     HTTP 429 (ratelimited) -> THROTTLED with Retry-After exactly; without
 *     the header a 1 s hint (Slack's "about one message per second").
 *   - Messages name the code and the fix, never the URL or the token.
 */
#include "slack.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_THROTTLE_MS 1000u

void slack_copy_code(const char *in, size_t len, char out[64])
{
    out[0] = '\0';
    if (in == NULL)
        return;
    while (len > 0 && (in[len - 1] == '\n' || in[len - 1] == '\r' || in[len - 1] == ' '))
        len--;
    if (len == 0 || len > 63)
        return;
    for (size_t i = 0; i < len; i++)
        if (!((in[i] >= 'a' && in[i] <= 'z') || (in[i] >= '0' && in[i] <= '9') || in[i] == '_'))
            return;
    memcpy(out, in, len);
    out[len] = '\0';
}

static uint32_t throttle_hint(uint32_t retry_after_ms)
{
    return retry_after_ms ? retry_after_ms : DEFAULT_THROTTLE_MS;
}

typedef struct code_rule {
    const char *code;
    sb_status status;
    const char *fix;
} code_rule;

static const code_rule api_rules[] = {
    {"invalid_auth", SB_E_DENIED, "the bot token is not valid; reissue it and update bot_token"},
    {"not_authed", SB_E_DENIED, "no token reached Slack; check bot_token"},
    {"account_inactive", SB_E_DENIED, "the token's user or app was deactivated"},
    {"token_revoked", SB_E_DENIED, "the token was revoked; reinstall the app and update bot_token"},
    {"token_expired", SB_E_DENIED, "the token expired; update bot_token"},
    {"no_permission", SB_E_DENIED, "the token may not post here"},
    {"missing_scope", SB_E_DENIED, "the app lacks the chat:write scope; add it and reinstall"},
    {"not_allowed_token_type", SB_E_DENIED, "use a bot token (xoxb-)"},
    {"restricted_action", SB_E_DENIED, "a workspace preference forbids posting in this channel"},
    {"ekm_access_denied", SB_E_DENIED, "the workspace's key management denied access"},
    {"not_in_channel", SB_E_DENIED, "invite the app to the channel (/invite @app)"},
    {"channel_not_found", SB_E_NOT_FOUND,
     "no such channel for this token; check the channel id and that the app can see it"},
    {"thread_not_found", SB_E_NOT_FOUND, "the thread's parent message is gone"},
    {"invalid_thread_ts", SB_E_INVALID, "Slack refused the thread_ts"},
    {"is_archived", SB_E_GONE, "the channel is archived; unarchive it or choose another"},
    {"invalid_blocks", SB_E_INVALID, "Slack refused the Block Kit blocks"},
    {"invalid_blocks_format", SB_E_INVALID, "Slack refused the Block Kit blocks"},
    {"msg_too_long", SB_E_TOO_LARGE, "the message is too long"},
    {"msg_blocks_too_long", SB_E_TOO_LARGE, "the blocks are too long"},
    {"too_many_attachments", SB_E_TOO_LARGE, "too many attachments"},
    {"no_text", SB_E_INVALID, "the message has no text"},
    {"invalid_arguments", SB_E_INVALID, "Slack refused the arguments"},
    {"invalid_arg_name", SB_E_INVALID, "Slack refused an argument name"},
    {"invalid_array_arg", SB_E_INVALID, "Slack refused an array argument"},
    {"invalid_json", SB_E_INVALID, "Slack could not parse the JSON body"},
    {"json_not_object", SB_E_INVALID, "the JSON body is not an object"},
    {"invalid_charset", SB_E_INVALID, "Slack refused the charset"},
    {"invalid_form_data", SB_E_INVALID, "Slack refused the form data"},
    {"invalid_post_type", SB_E_INVALID, "Slack refused the content type"},
    {"missing_post_type", SB_E_INVALID, "the request had no content type"},
    {"method_deprecated", SB_E_UNSUPPORTED, "Slack retired the method"},
    {"deprecated_endpoint", SB_E_UNSUPPORTED, "Slack retired the endpoint"},
    {"team_access_not_granted", SB_E_DENIED, "the token has no access to this workspace"},
    {"ratelimited", SB_E_THROTTLED, "rate limited"},
    {"rate_limited", SB_E_THROTTLED, "rate limited"},
    {"message_limit_exceeded", SB_E_THROTTLED, "the workspace's message limit was reached"},
    {"request_timeout", SB_E_UNAVAILABLE, "the body reached Slack truncated; retrying"},
    {"service_unavailable", SB_E_UNAVAILABLE, "Slack is unavailable"},
    {"internal_error", SB_E_UNAVAILABLE, "Slack had an internal error"},
    {"fatal_error", SB_E_UNAVAILABLE, "Slack had a fatal error"},
};

sb_status slack_api_error(const char *code, uint32_t retry_after_ms, sb_result *res)
{
    const sb_host_api *h = slack_host;
    const char *shown = code && code[0] ? code : "(no error code)";
    for (size_t i = 0; code && i < sizeof api_rules / sizeof api_rules[0]; i++) {
        const code_rule *r = &api_rules[i];
        if (strcmp(r->code, code) != 0)
            continue;
        uint32_t hint = r->status == SB_E_THROTTLED ? throttle_hint(retry_after_ms)
                        : SB_STATUS_IS_RETRYABLE(r->status) ? retry_after_ms
                                                            : 0;
        return h->fail(res, r->status, hint, "slack chat.postMessage: %s: %s", shown, r->fix);
    }
    return h->fail(res, SB_E_PROTOCOL, 0,
                   "slack chat.postMessage: Slack refused the message with an unknown error "
                   "code: %s",
                   shown);
}

sb_status slack_api_http_status(long http_status, uint32_t retry_after_ms, sb_result *res)
{
    const sb_host_api *h = slack_host;
    if (http_status == 429)
        return h->fail(res, SB_E_THROTTLED, throttle_hint(retry_after_ms),
                       "slack chat.postMessage: rate limited (HTTP 429)");
    if (http_status >= 500 && http_status <= 599)
        return h->fail(res, SB_E_UNAVAILABLE, retry_after_ms,
                       "slack chat.postMessage: Slack is unavailable (HTTP %ld)", http_status);
    if (http_status == 404)
        return h->fail(res, SB_E_CONFIG, 0,
                       "slack chat.postMessage: HTTP 404: api_url does not point at the Web API "
                       "(expected https://slack.com/api)");
    return h->fail(res, SB_E_PROTOCOL, 0,
                   "slack chat.postMessage: unexpected HTTP %ld without an ok:false answer",
                   http_status);
}

sb_status slack_webhook_status(long http_status, const char *code, uint32_t retry_after_ms,
                               sb_result *res)
{
    const sb_host_api *h = slack_host;
    const char *shown = code && code[0] ? code : "(no error code)";
    if (http_status >= 200 && http_status < 300)
        return SB_OK;
    if (http_status == 429)
        return h->fail(res, SB_E_THROTTLED, throttle_hint(retry_after_ms),
                       "slack webhook: rate limited (HTTP 429 %s)", shown);
    if (http_status >= 500 && http_status <= 599)
        return h->fail(res, SB_E_UNAVAILABLE, retry_after_ms,
                       "slack webhook: Slack is unavailable (HTTP %ld %s)", http_status, shown);
    if (strcmp(shown, "no_service") == 0 || strcmp(shown, "no_team") == 0 ||
        strcmp(shown, "no_active_hooks") == 0 || strcmp(shown, "invalid_token") == 0)
        return h->fail(res, SB_E_CONFIG, 0,
                       "slack webhook: HTTP %ld %s: the webhook was disabled or removed; create "
                       "a new one and update webhook_url",
                       http_status, shown);
    if (http_status == 404 && strcmp(shown, "channel_not_found") == 0)
        return h->fail(res, SB_E_NOT_FOUND, 0,
                       "slack webhook: channel_not_found: the hook's channel was deleted");
    if (http_status == 410 || strcmp(shown, "channel_is_archived") == 0)
        return h->fail(res, SB_E_GONE, 0,
                       "slack webhook: HTTP %ld %s: the hook's channel is archived", http_status,
                       shown);
    if (http_status == 403)
        return h->fail(res, SB_E_DENIED, 0,
                       "slack webhook: HTTP 403 %s: the workspace forbids this post", shown);
    if (http_status == 404)
        return h->fail(res, SB_E_CONFIG, 0,
                       "slack webhook: HTTP 404 %s: webhook_url does not name a live hook",
                       shown);
    if (http_status == 400 || http_status == 413)
        return h->fail(res, SB_E_INVALID, 0,
                       "slack webhook: HTTP %ld %s: Slack refused the message", http_status,
                       shown);
    return h->fail(res, SB_E_PROTOCOL, 0, "slack webhook: unexpected HTTP %ld %s", http_status,
                   shown);
}
