/*
 * plugins/notify-slack/slack.h — shared declarations of the Slack notifier
 * plugin (plugin name "slack", file notify-slack.so).
 *
 * The plugin is split by concern:
 *   slack_plugin.c   descriptor, config schema, init/fini, instance lifecycle
 *                    and the checks the schema cannot make
 *   slack_blocks.c   the Block Kit message of one event (pure: text in, JSON
 *                    text out; never a value, mrkdwn-escaped, Slack's limits)
 *   slack_threads.c  the bounded thread map (thread key -> parent ts)
 *   slack_errors.c   Slack's answers -> sb_status (webhook plain-text codes,
 *                    Web API ok:false codes, HTTP 429 / 5xx)
 *   slack_post.c     one POST through the host (webhook or chat.postMessage)
 *   slack_deliver.c  the NOTIFIER vtable: checks the event, threads, posts
 *
 * Secrets: the webhook URL and the bot token are SB_CFG_SECRET; both stay in
 * the host's secure config storage (referenced, never copied to the heap)
 * and are never logged. The bearer header is built in a secure buffer.
 */
#ifndef SB_PLUGIN_SLACK_H
#define SB_PLUGIN_SLACK_H

#include <sbridge/plugin.h>
#include <stddef.h>
#include <stdint.h>

#include "../shared/plugin_host.h" /* plugins/shared: init and call-over checks */
#include "../shared/plugin_text.h" /* plugins/shared: sbp_str, sbp_strdup, sbp_valid_utf8 */

#define SLACK_PLUGIN_NAME "slack"
#define SLACK_PLUGIN_VERSION "1.0.0"

extern const sb_host_api *slack_host;

typedef enum { SLACK_MODE_WEBHOOK = 1, SLACK_MODE_WEB_API = 2 } slack_mode;

/* ---- thread map (slack_threads.c) ------------------------------------------ */

typedef struct slack_thread_entry {
    char *key;     /* channel + '\n' + thread key */
    char *channel; /* the channel id Slack answered with */
    char *ts;      /* the parent message's ts */
    uint64_t used; /* last use (a counter): the least recently used goes first */
} slack_thread_entry;

typedef struct slack_thread_map {
    slack_thread_entry *entries;
    size_t n, cap;
    uint64_t clock;
} slack_thread_map;

/* cap >= 1; 0 ok, -1 no memory. */
int slack_threads_init(slack_thread_map *m, size_t cap);
void slack_threads_free(slack_thread_map *m);
/* The parent of `key`, or NULL; *channel (may be NULL) gets its channel.
 * Borrowed until the next put/free. */
const char *slack_threads_get(slack_thread_map *m, const char *key, const char **channel);
/* Remembers key -> (channel, ts), evicting the least recently used entry
 * when full. 0 ok, -1 no memory (the map is unchanged). */
int slack_threads_put(slack_thread_map *m, const char *key, const char *channel, const char *ts);
/* Forgets `key` (its parent message is gone). */
void slack_threads_forget(slack_thread_map *m, const char *key);

/* ---- instance ------------------------------------------------------------------ */

typedef struct slack_instance {
    char *name;
    slack_mode mode;
    const char *webhook_url; /* secure config storage (mode webhook) */
    const char *bot_token;   /* secure config storage (mode web_api) */
    char *post_message_url;  /* {api_url}/chat.postMessage (mode web_api) */
    char *channel;           /* default channel id (mode web_api) */
    char *ca_file;
    int thread_replies;
    uint32_t timeout_ms;
    slack_thread_map threads;
} slack_instance;

/* Checks a URL: http(s), a host, no user information, query or fragment; plain http only to a loopback host (127.0.0.0/8, ::1,
 * localhost), as the host's HTTP client allows it. NULL or why not. */
const char *slack_check_url(const char *url);
/* Non-zero when `id` looks like a Slack conversation id (C…, G… or D…,
 * upper-case letters and digits, 9 to 24 characters). */
int slack_channel_id_ok(const char *id);

/* ---- Block Kit (slack_blocks.c) ---------------------------------------------- */

#define SLACK_SECTION_TEXT_MAX 3000
#define SLACK_HEADER_TEXT_MAX 150
#define SLACK_FIELD_TEXT_MAX 2000
#define SLACK_FIELDS_PER_SECTION 10
#define SLACK_MAX_FIELDS 40
#define SLACK_URL_MAX 3000

/* Field keys that steer the plugin and are not shown in the table. */
#define SLACK_FIELD_THREAD_KEY "thread_key"
#define SLACK_FIELD_REQUEST_ID "request_id"

/* Appends the message's members to `out` (an open JSON object: the caller
 * writes "{", optional members, then this, then "}"): "text" (the
 * notification fallback), "blocks", "unfurl_links", "unfurl_media". */
void slack_blocks_append(sbp_str *out, const sb_notify_event *ev);

/* ---- answers (slack_errors.c) -------------------------------------------------- */

/* Maps a webhook answer (HTTP status + plain-text code). SB_OK for 2xx. */
sb_status slack_webhook_status(long http_status, const char *code, uint32_t retry_after_ms,
                               sb_result *res);
/* Maps a Web API ok:false code (HTTP 200, or 429 with "ratelimited"). */
sb_status slack_api_error(const char *code, uint32_t retry_after_ms, sb_result *res);
/* Maps a non-200 Web API answer that is not an ok:false document. */
sb_status slack_api_http_status(long http_status, uint32_t retry_after_ms, sb_result *res);
/* Copies a Slack error code out of secure memory: only [a-z0-9_] (max 63),
 * else "" (a code is metadata; anything else is dropped). */
void slack_copy_code(const char *in, size_t len, char out[64]);

/* ---- posting (slack_post.c) ----------------------------------------------------- */

/* POSTs the body to the webhook; maps the answer. */
sb_status slack_post_webhook(slack_instance *si, const sb_call *call, const sbp_str *body,
                             sb_result *res);
/* POSTs the body to chat.postMessage; on ok:true sets ts and channel
 * (heap, caller frees) from the answer; maps errors, and copies an ok:false
 * code into `code` ("" otherwise). */
sb_status slack_post_message(slack_instance *si, const sb_call *call, const sbp_str *body,
                             char **ts, char **channel, char code[64], sb_result *res);

/* ---- vtable --------------------------------------------------------------------- */

extern const sb_notifier_ops slack_notifier_ops;

#endif
