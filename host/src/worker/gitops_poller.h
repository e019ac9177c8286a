/*
 * worker/gitops_poller.h — the poll_gitops task (SPEC §13): the worker's
 * side of GitOps observation.
 *
 * Contract: one batch (an sb_worker_task_fn, ctx an sb_gitops_poller):
 *   1. One transaction claims up to SB_GITOPS_POLL_BATCH due open
 *      observations with FOR UPDATE SKIP LOCKED (store/gitops_store.h):
 *      those past their timeout end applied_unverified there and then;
 *      the others are leased (lease_ms) so no other replica polls them
 *      while this one calls Argo CD. Pending rows (no baseline yet) come
 *      first: the baseline must be taken as close to the execution as
 *      possible.
 *   2. For each leased row, outside any transaction: the endpoint's token
 *      is unwrapped with the KMS (plugin/gitops_endpoint.h) for one call
 *      of the GitOps plugin (plugin/gitops_client.h) — `baseline` for a
 *      pending row (it becomes observing), else `observe` with the
 *      baseline and changed_unix_ms = the execution time: applied and
 *      failed are final; none and rolling poll again after a backoff
 *      (min_backoff_ms doubling per poll up to max_backoff_ms). A failed
 *      call keeps the row open (recorded as last_error, backoff) until
 *      its timeout: a permanent error (a wrong token, an unknown
 *      application) is shown on the observation and fixed by an admin.
 *   3. Each outcome is written in its own transaction, with one audit
 *      event (actor system, resource request:<id>) per state change:
 *      gitops_observation.baseline (-> observing), .applied, .failed and
 *      .unverified — the last two with severity warning and, in the same
 *      transaction, an outbox event to the requester and admins
 *      (worker/gitops_notify.h).
 * Without a plugin or a KMS the task still times observations out; the
 * rows it cannot poll record why.
 */
#ifndef SB_WORKER_GITOPS_POLLER_H
#define SB_WORKER_GITOPS_POLLER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/kms.h"
#include "plugin/registry.h"
#include "store/db.h"
#include "util/error.h"

#define SB_GITOPS_POLL_BATCH 20

typedef struct sb_gitops_poller {
    const sb_plugin_slot *plugin; /* the GitOps plugin; NULL: none loaded */
    const sb_kms *kms;            /* unwraps endpoint tokens */
    int64_t min_backoff_ms;       /* 0: 5 s */
    int64_t max_backoff_ms;       /* 0: 2 min */
    int64_t lease_ms;             /* 0: 2 min */
} sb_gitops_poller;

int sb_worker_poll_gitops(sb_db *db, void *ctx, size_t *done, sb_error *err);

#endif
