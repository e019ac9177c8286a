/*
 * worker/worker_tasks.h — the worker's task table for a role: which tasks
 * run, at which intervals, and the scheduler (worker/scheduler.h) that
 * runs them. Used by `sbridge server` (unless --no-worker or
 * worker.enabled: false), `sbridge worker` and `sbridge dev`.
 *
 * Tasks and their settings (config worker.*): seal_audit (every second,
 * when an audit key is given; the only place the audit chain is sealed,
 * so a server without a worker needs a running `sbridge worker`),
 * expire_requests (request TTL and cross-team fill windows) and
 * recover_leases (the request writer's sweeps, service/request_writer.h
 * and service/job_writer.h), expire_reveal_sessions, expire_wraps,
 * mark_stale_agents, schedule_discovery and mark_catalog_missing (with
 * worker.catalog_missing_after; worker/tasks.h), poll_gitops (worker.poll_gitops;
 * worker/gitops_poller.h) when gitops is given, and, when notifiers: are
 * configured, dispatch_notifications (worker/notify_dispatch.h) over
 * those instances, which must be started in plugins (NULL: none may be
 * configured).
 * Starting also sets this process's outbox routing (store/outbox_store.h).
 * The settings and plugins must outlive the worker. Nothing here links
 * api/ (tests/unit/worker.cmake, worker_links).
 */
#ifndef SB_WORKER_WORKER_TASKS_H
#define SB_WORKER_WORKER_TASKS_H

#include <stdbool.h>

#include "config/settings.h"
#include "plugin/registry.h"
#include "store/db.h"
#include "worker/gitops_poller.h"
#include "worker/scheduler.h"

typedef enum sb_worker_mode {
    SB_WORKER_MODE_SERVER, /* inside the server: off when worker.enabled is false */
    SB_WORKER_MODE_ALONE,  /* `sbridge worker`: always on */
    SB_WORKER_MODE_DEV,    /* `sbridge dev`: built-in intervals */
} sb_worker_mode;

/* *out NULL (and 0) when the mode runs no worker. gitops: the poll_gitops
 * task's context (worker/gitops_poller.h), outliving the worker; NULL: no
 * poll_gitops task (GitOps observation off, or a process without the
 * plugin and the KMS). audit_key: the audit chain key (SB_KEY_BYTES,
 * outliving the worker) of the seal_audit task (worker/seal_audit.h,
 * every second); NULL: no seal_audit task in this process. */
int sb_worker_tasks_start(const sb_settings *s, sb_worker_mode mode, sb_db *db,
                          const sb_gitops_poller *gitops, sb_registry *plugins,
                          const unsigned char *audit_key, sb_worker **out, sb_error *err);

#endif
