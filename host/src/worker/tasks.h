/*
 * worker/tasks.h — the worker's own sweeps (those that need nothing above
 * the store): each is an sb_worker_task_fn (scheduler.h) doing one batch
 * in one transaction, with one audit event (actor "system") per thing it
 * changed, written in that transaction (I5).
 *
 *   sb_worker_expire_reveal_sessions  reveal sessions past their TTL end
 *       (reason ttl) and the request's unconsumed read results expire with
 *       them; audit reveal_session.expire on request:<id>.
 *   sb_worker_purge_wraps  expired, unconsumed read results lose their
 *       ciphertext (audit wrap.purge on request:<id>) and expired sealed
 *       request values are deleted (audit request.sealed_values_purge).
 *   sb_worker_mark_stale_agents  active agents silent for longer than
 *       SB_AGENT_STALE_S become stale (audit agent.stale, severity
 *       warning) and admins get an agent.stale notification (outbox,
 *       store/outbox_store.h, same transaction); their next heartbeat
 *       makes them active again (agent.activate, api/agent_enroll.c).
 *   sb_worker_schedule_discovery  queues one discover job (max 3
 *       attempts) for each active connection due by its
 *       discovery_interval_s (store/worker_store.h says when; a connection
 *       whose discovery ran, or runs, in this interval is not queued
 *       again); audit job.create with details.scheduled = true.
 *   sb_worker_mark_catalog_missing  ctx points to an int64_t age in
 *       milliseconds (worker.catalog_missing_after): present catalog rows not seen by a successful discovery
 *       for that long become missing (audit catalog_secret.missing).
 * ctx is unused (NULL) unless said. A batch is SB_WORKER_BATCH rows; a
 * full batch answers SB_WORKER_MORE.
 */
#ifndef SB_WORKER_TASKS_H
#define SB_WORKER_TASKS_H

#include <stddef.h>

#include "store/db.h"
#include "util/error.h"

#define SB_WORKER_BATCH 100

int sb_worker_expire_reveal_sessions(sb_db *db, void *ctx, size_t *done, sb_error *err);
int sb_worker_purge_wraps(sb_db *db, void *ctx, size_t *done, sb_error *err);
int sb_worker_mark_stale_agents(sb_db *db, void *ctx, size_t *done, sb_error *err);
int sb_worker_schedule_discovery(sb_db *db, void *ctx, size_t *done, sb_error *err);
int sb_worker_mark_catalog_missing(sb_db *db, void *ctx, size_t *done, sb_error *err);

#endif
