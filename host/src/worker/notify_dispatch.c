/* worker/notify_dispatch.c — see notify_dispatch.h. */
#include "worker/notify_dispatch.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/metrics.h"
#include "plugin/host_api.h"
#include "plugin/notifier_client.h"
#include "plugin/rate_gate.h"
#include "store/outbox_store.h"
#include "worker/scheduler.h"
#include "worker/task_audit.h"

#define MAX_FIELDS 24

typedef struct channel_state {
    sb_notify_channel c;
    sb_rate_gate gate;
    int64_t paused_until; /* monotonic ms: a Retry-After holds the channel */
} channel_state;

struct sb_notify_dispatcher {
    channel_state ch[SB_OUTBOX_MAX_CHANNELS];
    size_t n;
};

static sb_metric *m_delivered, *m_retried, *m_dead;

static void register_metrics(void)
{
    m_delivered = sb_metrics_counter("sb_notifications_delivered_total",
                                     "Notifications a notifier plugin accepted", "channel", NULL);
    m_retried = sb_metrics_counter("sb_notifications_retried_total",
                                   "Failed notification deliveries that will be retried",
                                   "channel", NULL);
    m_dead = sb_metrics_counter("sb_notifications_dead_total",
                                "Notifications given up on (dead-lettered)", "channel", NULL);
}

int sb_notify_dispatcher_new(const sb_notify_channel *channels, size_t n,
                             sb_notify_dispatcher **out, sb_error *err)
{
    *out = NULL;
    if (n > SB_OUTBOX_MAX_CHANNELS)
        return sb_error_set(err, SB_WORKER_E_INVALID, "at most %d notifier channels",
                            SB_OUTBOX_MAX_CHANNELS);
    for (size_t i = 0; i < n; i++)
        if (channels[i].name == NULL || channels[i].instance == NULL ||
            channels[i].max_attempts < 1 || channels[i].retry_base_ms < 1 ||
            channels[i].rate_per_second < 0)
            return sb_error_set(err, SB_WORKER_E_INVALID,
                                "notifier channel %zu needs a name, a started instance, "
                                "max_attempts >= 1, retry_base > 0 and rate_limit >= 0",
                                i);
    sb_notify_dispatcher *d = calloc(1, sizeof *d);
    if (d == NULL)
        return sb_error_set(err, SB_WORKER_E_INVALID, "out of memory");
    register_metrics();
    for (size_t i = 0; i < n; i++) {
        d->ch[i].c = channels[i];
        sb_rate_gate_init(&d->ch[i].gate, channels[i].rate_per_second);
    }
    d->n = n;
    *out = d;
    return 0;
}

int sb_notify_dispatcher_open(const sb_settings *s, sb_registry *plugins,
                              sb_notify_dispatcher **out, sb_error *err)
{
    sb_notify_channel ch[SB_OUTBOX_MAX_CHANNELS];
    const sb_instance_settings *list = s->notifiers.items;
    size_t n = 0;
    *out = NULL;
    if (s->notifiers.n > SB_OUTBOX_MAX_CHANNELS)
        return sb_error_set(err, SB_WORKER_E_INVALID, "notifiers: at most %d instances",
                            SB_OUTBOX_MAX_CHANNELS);
    for (size_t i = 0; i < s->notifiers.n; i++) {
        sb_instance *inst = plugins ? sb_registry_instance(plugins, "notifier", list[i].name) : NULL;
        if (inst == NULL)
            return sb_error_set(err, SB_WORKER_E_INVALID,
                                "notifiers: instance %s is not started (its plugin must be listed "
                                "in plugins.load)",
                                list[i].name);
        ch[n++] = (sb_notify_channel){list[i].name, inst, list[i].rate_limit,
                                      (int)list[i].max_attempts, list[i].retry_base_ms};
    }
    return sb_notify_dispatcher_new(ch, n, out, err);
}

void sb_notify_dispatcher_free(sb_notify_dispatcher *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++)
        sb_rate_gate_destroy(&d->ch[i].gate);
    free(d);
}

int64_t sb_notify_retry_delay_ms(int64_t retry_base_ms, int attempts, uint32_t retry_after_ms,
                                 int jitter_permille)
{
    int64_t delay = retry_base_ms > 0 ? retry_base_ms : 1;
    for (int i = 1; i < attempts && delay < SB_NOTIFY_RETRY_CAP_MS; i++)
        delay *= 2;
    if (delay > SB_NOTIFY_RETRY_CAP_MS)
        delay = SB_NOTIFY_RETRY_CAP_MS;
    delay += delay * (jitter_permille < 0 ? 0 : jitter_permille > 200 ? 200 : jitter_permille) / 1000;
    return delay < (int64_t)retry_after_ms ? (int64_t)retry_after_ms : delay;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* "user u1; permission secret.approve project_id p1" from the recipients. */
static void recipients_text(const char *json, char *out, size_t cap)
{
    json_t *list = json_loads(json, 0, NULL), *r, *v;
    size_t i, len = 0;
    const char *k;
    out[0] = '\0';
    json_array_foreach(list, i, r)
    {
        const char *sep = i == 0 ? "" : "; ";
        json_object_foreach(r, k, v)
        {
            const char *text = json_string_value(v);
            if (len < cap)
                len += (size_t)snprintf(out + len, cap - len, "%s%s %s", sep, k, text ? text : "");
            sep = " ";
        }
    }
    json_decref(list);
}

/* One row handed to the plugin; 0 delivered, else the status (err filled). */
static int deliver(channel_state *ch, const sb_row_set *rows, size_t i, uint32_t *retry_after,
                   sb_error *err)
{
    json_t *fields = json_loads(sb_rows_text(rows, i, SB_OUTBOX_COL_FIELDS), 0, NULL), *f;
    sb_kv kv[MAX_FIELDS + 1];
    size_t n = 0, j;
    char to[600];
    recipients_text(sb_rows_text(rows, i, SB_OUTBOX_COL_RECIPIENTS), to, sizeof to);
    if (to[0])
        kv[n++] = (sb_kv){"to", to};
    json_array_foreach(fields, j, f)
    {
        const char *key = json_string_value(json_object_get(f, "key"));
        const char *value = json_string_value(json_object_get(f, "value"));
        if (key && value && n < MAX_FIELDS + 1)
            kv[n++] = (sb_kv){key, value};
    }
    sb_notify_event ev = {
        .struct_size = sizeof ev,
        .kind = sb_rows_text(rows, i, SB_OUTBOX_COL_KIND),
        .severity = sb_rows_text(rows, i, SB_OUTBOX_COL_SEVERITY),
        .title = sb_rows_text(rows, i, SB_OUTBOX_COL_TITLE),
        .summary = sb_rows_text(rows, i, SB_OUTBOX_COL_SUMMARY),
        .fields = kv,
        .n_fields = n,
        .link = sb_rows_text_or_null(rows, i, SB_OUTBOX_COL_LINK),
        .dedupe_key = sb_rows_text(rows, i, SB_OUTBOX_COL_DEDUPE_KEY),
        .channel = NULL,
    };
    int rc = sb_notifier_client_deliver(ch->c.instance, &ev, retry_after, err);
    json_decref(fields);
    return rc == 0 ? 0 : err->code ? err->code : SB_E_INTERNAL;
}

static int dead_letter(sb_db_conn *conn, channel_state *ch, const sb_row_set *rows, size_t i,
                       int attempts, const char *why, sb_error *err)
{
    const char *id = sb_rows_text(rows, i, SB_OUTBOX_COL_ID);
    if (sb_outbox_store_dead(conn, id, why, err) != 0)
        return -1;
    json_t *d = json_pack("{s:s, s:s, s:s, s:i, s:s}", "channel", ch->c.name, "kind",
                          sb_rows_text(rows, i, SB_OUTBOX_COL_KIND), "dedupe_key",
                          sb_rows_text(rows, i, SB_OUTBOX_COL_DEDUPE_KEY), "attempts", attempts,
                          "error", why);
    if (sb_worker_audit(conn, "notification.dead", "notification", id, "warning", d, err) != 0)
        return -1;
    sb_metric_add(m_dead, SB_LABELS(ch->c.name), 1);
    return 0;
}

typedef struct batch {
    channel_state *ch;
    size_t done;
    bool full;
} batch;

/* Records how one delivery ended; *stop when the channel is now paused. */
static int record(sb_db_conn *conn, batch *b, const sb_row_set *rows, size_t i, int status,
                  uint32_t retry_after, const char *why, bool *stop, sb_error *err)
{
    channel_state *ch = b->ch;
    const char *id = sb_rows_text(rows, i, SB_OUTBOX_COL_ID);
    int attempts = sb_rows_int(rows, i, SB_OUTBOX_COL_ATTEMPTS) + 1;
    int64_t now = sb_clock_monotonic_ms();
    if (status == 0) {
        sb_rate_gate_passed(&ch->gate);
        sb_metric_add(m_delivered, SB_LABELS(ch->c.name), 1);
        return sb_outbox_store_delivered(conn, id, err);
    }
    if (status == SB_E_THROTTLED || retry_after > 0) {
        ch->paused_until = now + sb_rate_gate_throttled(&ch->gate, now, retry_after);
        *stop = true;
    }
    if (!SB_STATUS_IS_RETRYABLE(status) || attempts >= ch->c.max_attempts)
        return dead_letter(conn, ch, rows, i, attempts, why, err);
    sb_metric_add(m_retried, SB_LABELS(ch->c.name), 1);
    int64_t delay = sb_notify_retry_delay_ms(ch->c.retry_base_ms, attempts, retry_after,
                                             (int)randombytes_uniform(201));
    return sb_outbox_store_retry(conn, id, delay, why, err);
}

static int batch_txn(sb_db_conn *conn, void *p, sb_error *err)
{
    batch *b = p;
    sb_row_set rows;
    b->done = 0;
    b->full = false;
    /* about a second's worth: a paced channel never holds its rows long */
    int64_t rate = b->ch->c.rate_per_second;
    long limit = rate > 0 && rate < SB_NOTIFY_BATCH ? (long)rate : SB_NOTIFY_BATCH;
    if (sb_outbox_store_claim(conn, b->ch->c.name, limit, &rows, err) != 0)
        return -1;
    b->full = rows.more;
    bool stop = false;
    int rc = 0;
    int64_t started = sb_clock_monotonic_ms();
    for (size_t i = 0; rc == 0 && !stop && i < rows.n; i++) {
        int64_t wait = i > 0 && !sb_worker_budget_left(started, 0)
                           ? -1
                           : sb_rate_gate_take(&b->ch->gate, sb_clock_monotonic_ms());
        if (i > 0 && (wait < 0 || !sb_worker_budget_left(started, wait))) {
            /* the rest stays pending for the next run (no token was taken):
             * the worker's other tasks are not held up by a slow or paced
             * channel */
            b->full = true;
            break;
        }
        while (wait > 0) {
            sleep_ms(wait);
            wait = sb_rate_gate_take(&b->ch->gate, sb_clock_monotonic_ms());
        }
        uint32_t retry_after = 0;
        sb_error why = {0};
        int status = deliver(b->ch, &rows, i, &retry_after, &why);
        rc = record(conn, b, &rows, i, status, retry_after, why.message, &stop, err);
        b->done++;
    }
    b->full = b->full && !stop;
    sb_row_set_free(&rows);
    return rc;
}

int sb_worker_dispatch_notifications(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    sb_notify_dispatcher *d = ctx;
    *done = 0;
    if (d == NULL)
        return sb_error_set(err, SB_WORKER_E_INVALID, "dispatch_notifications needs its channels");
    bool more = false;
    for (size_t i = 0; i < d->n; i++) {
        if (d->ch[i].paused_until > sb_clock_monotonic_ms())
            continue;
        batch b = {&d->ch[i], 0, false};
        if (sb_db_transaction(db, batch_txn, &b, err) < 0)
            return -1;
        *done += b.done;
        more = more || b.full;
    }
    return more ? SB_WORKER_MORE : 0;
}
