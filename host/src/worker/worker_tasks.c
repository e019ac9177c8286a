/* worker/worker_tasks.c — see worker_tasks.h. */
#include "worker/worker_tasks.h"

#include <string.h>

#include "service/job_writer.h"
#include "service/request_writer.h"
#include "store/outbox_store.h"
#include "worker/notify_dispatch.h"
#include "worker/seal_audit.h"
#include "worker/tasks.h"

static int expire_requests(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    (void)ctx;
    if (sb_request_sweep(db, SB_WORKER_BATCH, done, err) != 0)
        return -1;
    return *done >= SB_WORKER_BATCH ? SB_WORKER_MORE : 0;
}

static int recover_leases(sb_db *db, void *ctx, size_t *done, sb_error *err)
{
    (void)ctx;
    if (sb_job_sweep_leases(db, SB_WORKER_BATCH, done, err) != 0)
        return -1;
    return *done >= SB_WORKER_BATCH ? SB_WORKER_MORE : 0;
}

static void free_dispatcher(void *ctx) { sb_notify_dispatcher_free(ctx); }

int sb_worker_tasks_start(const sb_settings *s, sb_worker_mode mode, sb_db *db,
                          const sb_gitops_poller *gitops, sb_registry *plugins,
                          const unsigned char *audit_key, sb_worker **out, sb_error *err)
{
    *out = NULL;
    if (mode == SB_WORKER_MODE_SERVER && !s->worker.enabled)
        return 0;
    sb_outbox_routing_from_settings(s);
    sb_notify_dispatcher *notify = NULL;
    if (sb_notify_dispatcher_open(s, plugins, &notify, err) != 0)
        return -1;
    const sb_worker_settings *w = &s->worker;
    int dev = mode == SB_WORKER_MODE_DEV;
    const sb_worker_task tasks[] = {
        {"expire_requests", dev ? 60000 : w->expire_requests_ms, expire_requests, NULL},
        {"recover_leases", dev ? 10000 : w->recover_leases_ms, recover_leases, NULL},
        {"expire_reveal_sessions", dev ? 15000 : w->expire_reveal_sessions_ms,
         sb_worker_expire_reveal_sessions, NULL},
        {"expire_wraps", dev ? 30000 : w->expire_wraps_ms, sb_worker_purge_wraps, NULL},
        {"mark_stale_agents", dev ? 30000 : w->mark_stale_agents_ms, sb_worker_mark_stale_agents,
         NULL},
        {"schedule_discovery", dev ? 60000 : w->schedule_discovery_ms, sb_worker_schedule_discovery,
         NULL},
        {"mark_catalog_missing", dev ? 600000 : w->mark_catalog_missing_ms,
         sb_worker_mark_catalog_missing, (void *)&w->catalog_missing_after_ms},
    };
    sb_worker_task all[sizeof tasks / sizeof tasks[0] + 3];
    size_t n = sizeof tasks / sizeof tasks[0];
    memcpy(all, tasks, sizeof tasks);
    if (audit_key) /* the audit chain's sealer */
        all[n++] = (sb_worker_task){"seal_audit", SB_SEAL_AUDIT_INTERVAL_MS, sb_worker_seal_audit,
                                    (void *)audit_key};
    if (gitops) /* GitOps observation on, with its plugin and the KMS */
        all[n++] = (sb_worker_task){"poll_gitops", dev ? 5000 : w->poll_gitops_ms,
                                    sb_worker_poll_gitops, (void *)gitops};
    if (s->notifiers.n) /* nothing to deliver through otherwise */
        all[n++] = (sb_worker_task){"dispatch_notifications",
                                    dev ? 5000 : w->dispatch_notifications_ms,
                                    sb_worker_dispatch_notifications, notify};
    sb_worker_options o = {.on_stop = free_dispatcher, .on_stop_ctx = notify};
    return sb_worker_start(db, all, n, &o, out, err);
}
