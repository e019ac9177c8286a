/*
 * plugins/notify-slack/slack_deliver.c — the NOTIFIER vtable: one event, one
 * Slack message.
 *
 * Contract:
 *   - Refuses (SB_E_INVALID) a NULL instance or event, an event without a
 *     kind, text that is not UTF-8, a channel that is not a conversation id
 *     (web_api), and any channel on a webhook instance (a hook posts to the
 *     one channel it was created for; use web_api to choose channels).
 *   - Threading (web_api with thread_replies): an event's thread key is its
 *     field `thread_key`, else its field `request_id`. The first event of a
 *     key in a channel is posted top-level and its ts remembered (bounded map,
 *     slack_threads.c); later events of the same key are posted with
 *     thread_ts = that ts, in the channel Slack answered with. Events
 *     without a key are always top-level. After a restart the map is empty:
 *     the next event of an old request starts a new top-level message; so
 *     does one whose parent Slack no longer knows (thread_not_found /
 *     invalid_thread_ts: the entry is forgotten and the event re-posted
 *     top-level once). A critical reply is also broadcast to the channel
 *     (reply_broadcast), so a failure is not hidden inside a thread.
 *   - Logs one info line per delivery (kind, dedupe key, channel id, ts),
 *     never the webhook URL or the token; errors go back in `res` (mapped in
 *     slack_errors.c) for the outbox to retry or dead-letter.
 */
#include "slack.h"

#include <stdlib.h>
#include <string.h>

static int text_ok(const char *s)
{
    return s == NULL || sbp_valid_utf8((const unsigned char *)s, strlen(s));
}

static sb_status check_event(const slack_instance *si, const sb_notify_event *ev,
                             sb_result *res)
{
    const sb_host_api *h = slack_host;
    if (ev->struct_size < sizeof(sb_notify_event))
        return h->fail(res, SB_E_INVALID, 0, "slack deliver: the event struct is too small");
    if (ev->kind == NULL || ev->kind[0] == '\0')
        return h->fail(res, SB_E_INVALID, 0, "slack deliver: the event has no kind");
    int ok = text_ok(ev->kind) && text_ok(ev->severity) && text_ok(ev->title) &&
             text_ok(ev->summary) && text_ok(ev->link) && text_ok(ev->dedupe_key);
    for (size_t i = 0; ok && i < ev->n_fields; i++)
        ok = text_ok(ev->fields[i].key) && text_ok(ev->fields[i].value);
    if (!ok)
        return h->fail(res, SB_E_INVALID, 0, "slack deliver: event %s: text is not valid UTF-8",
                       text_ok(ev->kind) ? ev->kind : "(kind not UTF-8)");
    if (ev->n_fields > 0 && ev->fields == NULL)
        return h->fail(res, SB_E_INVALID, 0, "slack deliver: n_fields without fields");
    if (ev->channel && ev->channel[0] && si->mode == SLACK_MODE_WEBHOOK)
        return h->fail(res, SB_E_INVALID, 0,
                       "slack deliver: a webhook posts only to the channel it was created for; "
                       "use mode: web_api to choose channel %.40s",
                       ev->channel);
    if (ev->channel && ev->channel[0] && !slack_channel_id_ok(ev->channel))
        return h->fail(res, SB_E_INVALID, 0,
                       "slack deliver: channel %.40s is not a conversation id (C…, G… or D…)",
                       ev->channel);
    return SB_OK;
}

static const char *field(const sb_notify_event *ev, const char *key)
{
    for (size_t i = 0; i < ev->n_fields; i++)
        if (ev->fields[i].key && ev->fields[i].value && ev->fields[i].value[0] &&
            strcmp(ev->fields[i].key, key) == 0)
            return ev->fields[i].value;
    return NULL;
}

static sb_status deliver_webhook(slack_instance *si, const sb_call *call,
                                 const sb_notify_event *ev, sb_result *res)
{
    sbp_str body = {0};
    sbp_str_add(&body, "{");
    slack_blocks_append(&body, ev);
    sbp_str_add(&body, "}");
    sb_status st = body.failed ? slack_host->fail(res, SB_E_INTERNAL, 0,
                                                  "slack deliver: out of memory")
                               : slack_post_webhook(si, call, &body, res);
    sbp_str_free(&body);
    if (st == SB_OK)
        slack_host->log(SB_LOG_INFO, call, "slack %s: delivered %s (%s) through the webhook",
                        si->name ? si->name : "", ev->kind,
                        ev->dedupe_key ? ev->dedupe_key : "no dedupe key");
    return st;
}

/* One chat.postMessage of the event, in the thread of `parent` when given. */
static sb_status post_event(slack_instance *si, const sb_call *call, const sb_notify_event *ev,
                            const char *channel, const char *parent, char **ts,
                            char **answered_channel, char code[64], sb_result *res)
{
    sbp_str body = {0};
    sbp_str_add(&body, "{\"channel\":");
    sbp_str_add_json(&body, channel);
    if (parent) {
        sbp_str_add(&body, ",\"thread_ts\":");
        sbp_str_add_json(&body, parent);
        if (ev->severity && strcmp(ev->severity, "critical") == 0)
            sbp_str_add(&body, ",\"reply_broadcast\":true");
    }
    sbp_str_add(&body, ",");
    slack_blocks_append(&body, ev);
    sbp_str_add(&body, "}");
    code[0] = '\0';
    sb_status st = body.failed
                       ? slack_host->fail(res, SB_E_INTERNAL, 0, "slack deliver: out of memory")
                       : slack_post_message(si, call, &body, ts, answered_channel, code, res);
    sbp_str_free(&body);
    return st;
}

static sb_status deliver_web_api(slack_instance *si, const sb_call *call,
                                 const sb_notify_event *ev, sb_result *res)
{
    const sb_host_api *h = slack_host;
    const char *channel = ev->channel && ev->channel[0] ? ev->channel : si->channel;
    const char *thread = field(ev, SLACK_FIELD_THREAD_KEY);
    thread = thread ? thread : field(ev, SLACK_FIELD_REQUEST_ID);
    sbp_str key = {0};
    const char *parent = NULL, *parent_channel = NULL;
    if (si->thread_replies && thread) {
        sbp_str_add(&key, channel);
        sbp_str_add(&key, "\n");
        sbp_str_add(&key, thread);
        if (key.failed) {
            sbp_str_free(&key);
            return h->fail(res, SB_E_INTERNAL, 0, "slack deliver: out of memory");
        }
        parent = slack_threads_get(&si->threads, key.p, &parent_channel);
    }
    char *ts = NULL, *answered_channel = NULL, code[64];
    sb_status st = post_event(si, call, ev, parent ? parent_channel : channel, parent, &ts,
                              &answered_channel, code, res);
    if (parent && (strcmp(code, "thread_not_found") == 0 ||
                   strcmp(code, "invalid_thread_ts") == 0)) {
        /* the parent was deleted: start the thread anew */
        h->log(SB_LOG_WARN, call, "slack %s: the thread of %s is gone (%s); posting top-level",
               si->name ? si->name : "", thread, code);
        slack_threads_forget(&si->threads, key.p);
        parent = NULL;
        h->result_release(res);
        res->status = SB_OK;
        res->retry_after_ms = 0;
        st = post_event(si, call, ev, channel, NULL, &ts, &answered_channel, code, res);
    }
    if (st == SB_OK) {
        const char *posted_in = answered_channel ? answered_channel : channel;
        h->log(SB_LOG_INFO, call, "slack %s: delivered %s (%s) to %s ts=%s%s%s",
               si->name ? si->name : "", ev->kind,
               ev->dedupe_key ? ev->dedupe_key : "no dedupe key", posted_in, ts ? ts : "?",
               parent ? " in the thread of " : "", parent ? parent : "");
        if (!parent && key.p && ts && slack_threads_put(&si->threads, key.p, posted_in, ts) != 0)
            h->log(SB_LOG_WARN, call,
                   "slack %s: out of memory; later events of %s will not be threaded",
                   si->name ? si->name : "", thread);
    }
    free(ts);
    free(answered_channel);
    sbp_str_free(&key);
    return st;
}

static sb_status slack_deliver(void *inst, const sb_call *call, const sb_notify_event *event,
                               sb_result *res)
{
    if (res == NULL)
        return SB_E_INVALID;
    if (slack_host == NULL)
        return SB_E_INTERNAL;
    slack_instance *si = inst;
    if (si == NULL || event == NULL)
        return slack_host->fail(res, SB_E_INVALID, 0,
                                "slack deliver: instance and event must not be NULL");
    sb_status st = check_event(si, event, res);
    if (st != SB_OK)
        return st;
    return si->mode == SLACK_MODE_WEBHOOK ? deliver_webhook(si, call, event, res)
                                          : deliver_web_api(si, call, event, res);
}

const sb_notifier_ops slack_notifier_ops = {.struct_size = (uint32_t)sizeof(sb_notifier_ops),
                                            .deliver = slack_deliver};
