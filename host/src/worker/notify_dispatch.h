/*
 * worker/notify_dispatch.h — the worker's dispatch_notifications task: the
 * notification outbox (store/outbox_store.h) delivered through the
 * notifier plugin instance of each channel (SPEC §14).
 *
 * Contract:
 *   - Each run goes through the channels in turn; a channel takes a batch
 *     (SB_NOTIFY_BATCH, or its rate_per_second when smaller) of its due
 *     pending rows (FOR UPDATE SKIP LOCKED, so replicas never
 *     deliver the same row at once) and delivers them one by one in that
 *     transaction, recording each outcome before the commit. A process
 *     killed mid-delivery loses nothing: the rows roll back to pending and
 *     are delivered again (at least once; the plugin gets the dedupe key).
 *   - Pace: at most rate_per_second deliveries per second per channel in
 *     this process (a token bucket, plugin/rate_gate.h; 0: no limit).
 *     A batch starts no further delivery once it has run (or would wait
 *     for the pace) past SB_WORKER_RUN_BUDGET_MS; the rest stays pending
 *     for the next run, so a slow or paced channel never holds the
 *     worker's other tasks.
 *   - A retryable failure (sb_status >= 100) counts an attempt and retries
 *     after retry_base_ms * 2^(attempts-1), capped at an hour, plus up to
 *     20 % jitter, and never sooner than the plugin's Retry-After; a
 *     Retry-After also pauses the whole channel in this process for that
 *     long (the rest of the batch stays pending, untouched). A permanent
 *     failure, or the max_attempts-th failed attempt, makes the row dead:
 *     audited (notification.dead, severity warning, actor system) in the
 *     same transaction and kept for admins.
 *   - Metrics per channel: sb_notifications_delivered_total,
 *     sb_notifications_retried_total, sb_notifications_dead_total.
 *   - Rows of a channel this process has no instance for stay pending
 *     (another replica, or a restart with the channel configured, sends
 *     them).
 * The channels (and their instances) must outlive the dispatcher.
 */
#ifndef SB_WORKER_NOTIFY_DISPATCH_H
#define SB_WORKER_NOTIFY_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "config/settings.h"
#include "plugin/registry.h"
#include "store/db.h"
#include "util/error.h"

#define SB_NOTIFY_BATCH 20
#define SB_NOTIFY_RETRY_CAP_MS (3600 * 1000LL)

typedef struct sb_notify_channel {
    const char *name;       /* the notifier instance name */
    sb_instance *instance;  /* a started notifier instance */
    int64_t rate_per_second;
    int max_attempts;       /* >= 1 */
    int64_t retry_base_ms;  /* > 0 */
} sb_notify_channel;

typedef struct sb_notify_dispatcher sb_notify_dispatcher;

/* At most SB_OUTBOX_MAX_CHANNELS channels; copies the table. */
int sb_notify_dispatcher_new(const sb_notify_channel *channels, size_t n,
                             sb_notify_dispatcher **out, sb_error *err);
/* The channels of a server's settings: each notifiers: instance, started
 * in plugins (an instance that is not is an error naming it). */
int sb_notify_dispatcher_open(const sb_settings *s, sb_registry *plugins,
                              sb_notify_dispatcher **out, sb_error *err);
void sb_notify_dispatcher_free(sb_notify_dispatcher *d); /* NULL: no-op */

/* The task (scheduler.h): ctx is the dispatcher; *done rows delivered,
 * retried or dead-lettered. SB_WORKER_MORE when a channel's batch was full. */
int sb_worker_dispatch_notifications(sb_db *db, void *ctx, size_t *done, sb_error *err);

/* The retry delay after the attempts-th failed attempt (>= 1), before
 * jitter: retry_base_ms * 2^(attempts-1) capped at SB_NOTIFY_RETRY_CAP_MS,
 * and at least retry_after_ms. jitter_permille 0..200 adds that much. */
int64_t sb_notify_retry_delay_ms(int64_t retry_base_ms, int attempts, uint32_t retry_after_ms,
                                 int jitter_permille);

#endif
