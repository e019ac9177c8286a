/*
 * plugins/notify-slack/slack_post.c — one POST to Slack through the host.
 *
 * Contract:
 *   - Never SB_HTTP_RETRY: a POST that reached Slack made a message, and a
 *     blind retry would post it twice. Retrying is the outbox's job, with the
 *     status and Retry-After mapped here (slack_errors.c).
 *   - Webhook: POST {webhook_url} with Content-Type application/json; the URL
 *     is passed to the host straight from the secure config storage, so the
 *     host redacts it wherever it would name it. The answer is plain text.
 *   - Web API: POST {api_url}/chat.postMessage with
 *     "Authorization: Bearer <token>" (built in a secure buffer) and
 *     Content-Type "application/json; charset=utf-8" (without the charset
 *     Slack adds a missing_charset warning). Success is decided by the
 *     answer's "ok", not by the HTTP status; the answer's ts and channel are
 *     returned for threading.
 *   - The message body holds no secret (events carry none).
 */
#include "slack.h"

#include <stdlib.h>
#include <string.h>

#define RESPONSE_MAX (1u << 20)

static sb_status post(slack_instance *si, const sb_call *call, const char *url,
                      const sb_kv *headers, size_t n_headers, const sbp_str *body,
                      const char *op, sb_http_response *resp, sb_result *res)
{
    sb_status st = sbp_call_check(slack_host, call, op, res);
    if (st != SB_OK)
        return st;
    sb_http_request req = {.struct_size = (uint32_t)sizeof req, .method = "POST", .url = url,
                           .headers = headers, .n_headers = n_headers,
                           .body = (const unsigned char *)body->p, .body_len = body->len,
                           .timeout_ms = si->timeout_ms, .max_response_bytes = RESPONSE_MAX,
                           .ca_file = si->ca_file, .metric_op = op};
    memset(resp, 0, sizeof *resp);
    resp->struct_size = (uint32_t)sizeof *resp;
    return slack_host->http(call, &req, resp, res);
}

sb_status slack_post_webhook(slack_instance *si, const sb_call *call, const sbp_str *body,
                             sb_result *res)
{
    const sb_host_api *h = slack_host;
    static const sb_kv headers[] = {{"Content-Type", "application/json"}};
    sb_http_response resp;
    sb_status st = post(si, call, si->webhook_url, headers, 1, body, "slack_webhook", &resp, res);
    if (st != SB_OK)
        return st;
    size_t len = 0;
    const unsigned char *text = resp.body ? h->secure_data(resp.body, &len) : NULL;
    char code[64] = "";
    slack_copy_code((const char *)text, text ? len : 0, code);
    st = slack_webhook_status(resp.status, code, resp.retry_after_ms, res);
    h->http_response_free(&resp);
    return st;
}

static char *copy_string(const sb_json_node *node)
{
    size_t n = 0;
    const char *s = slack_host->json_string(node, &n);
    if (s == NULL || n == 0 || n > 64)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '.'))
            return NULL; /* ts and channel ids are digits, capitals and dots */
    return strndup(s, n);
}

/* Reads an answer of chat.postMessage (any HTTP status). */
static sb_status read_answer(const sb_http_response *resp, char **ts, char **channel,
                             char code[64], sb_result *res)
{
    const sb_host_api *h = slack_host;
    size_t len = 0;
    const unsigned char *text = resp->body ? h->secure_data(resp->body, &len) : NULL;
    sb_json *doc = NULL;
    sb_result ignored = SB_RESULT_INIT;
    int parsed = text && len && h->json_parse(text, len, &doc, &ignored) == SB_OK &&
                 h->json_type(h->json_root(doc)) == SB_JSON_OBJECT;
    h->result_release(&ignored);
    if (!parsed) {
        h->json_free(doc);
        if (resp->status != 200)
            return slack_api_http_status(resp->status, resp->retry_after_ms, res);
        return h->fail(res, SB_E_PROTOCOL, 0,
                       "slack chat.postMessage: HTTP 200 with a body that is not a JSON object");
    }
    const sb_json_node *root = h->json_root(doc);
    sb_json_type ok = h->json_type(h->json_pointer(root, "/ok"));
    sb_status st;
    if (ok == SB_JSON_TRUE && resp->status == 200) {
        *ts = copy_string(h->json_pointer(root, "/ts"));
        *channel = copy_string(h->json_pointer(root, "/channel"));
        st = SB_OK;
    } else if (ok == SB_JSON_FALSE) {
        size_t n = 0;
        const char *e = h->json_string(h->json_pointer(root, "/error"), &n);
        slack_copy_code(e, e ? n : 0, code);
        st = resp->status == 429 || (resp->status >= 500 && resp->status <= 599)
                 ? slack_api_http_status(resp->status, resp->retry_after_ms, res)
                 : slack_api_error(code, resp->retry_after_ms, res);
    } else if (resp->status != 200) {
        st = slack_api_http_status(resp->status, resp->retry_after_ms, res);
    } else {
        st = h->fail(res, SB_E_PROTOCOL, 0,
                     "slack chat.postMessage: the answer has no boolean \"ok\"");
    }
    h->json_free(doc);
    return st;
}

sb_status slack_post_message(slack_instance *si, const sb_call *call, const sbp_str *body,
                             char **ts, char **channel, char code[64], sb_result *res)
{
    const sb_host_api *h = slack_host;
    *ts = *channel = NULL;
    code[0] = '\0';
    size_t tn = strlen(si->bot_token);
    sb_secure_buf *auth = h->secure_new(tn + 8);
    if (auth == NULL || h->secure_append(auth, "Bearer ", 7) ||
        h->secure_append(auth, si->bot_token, tn)) {
        h->secure_free(auth);
        return h->fail(res, SB_E_INTERNAL, 0, "slack chat.postMessage: out of secure memory");
    }
    sb_kv headers[] = {{"Authorization", (const char *)h->secure_data(auth, NULL)},
                       {"Content-Type", "application/json; charset=utf-8"}};
    sb_http_response resp;
    sb_status st = post(si, call, si->post_message_url, headers, 2, body, "slack_post_message",
                        &resp, res);
    h->secure_free(auth);
    if (st != SB_OK)
        return st;
    st = read_answer(&resp, ts, channel, code, res);
    h->http_response_free(&resp);
    return st;
}
