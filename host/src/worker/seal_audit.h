/*
 * worker/seal_audit.h — the worker's seal_audit task: seals committed
 * audit events into the hash chain (store/audit_store.h, SPEC §15).
 *
 * Contract: sb_worker_seal_audit is an sb_worker_task_fn whose ctx is the
 * audit chain key (SB_AUDIT_KEY_BYTES, owned by the caller and outliving
 * the scheduler). One call seals one batch of SB_SEAL_AUDIT_BATCH events in
 * one transaction under sb_audit_seal's own advisory lock (a second
 * sealer anywhere skips that round: *done 0), and answers SB_WORKER_MORE
 * when the batch was full. Every statement runs under a 5 s
 * statement_timeout, so a hung database fails the run instead of holding
 * the scheduler. Failures (database down, a malformed chain head) are -1
 * with err; the events stay unsealed (nothing is lost) and `sbridge audit
 * verify` reports them once they are older than its threshold. Run every
 * SB_SEAL_AUDIT_INTERVAL_MS by the server's worker, `sbridge worker` and
 * `sbridge dev` (worker/worker_tasks.h).
 */
#ifndef SB_WORKER_SEAL_AUDIT_H
#define SB_WORKER_SEAL_AUDIT_H

#include <stddef.h>

#include "store/db.h"
#include "util/error.h"

/* Large enough that per-statement costs vanish, small enough that a batch
 * stays far below the 5 s statement_timeout of a sealing transaction. */
#define SB_SEAL_AUDIT_BATCH 4000
#define SB_SEAL_AUDIT_INTERVAL_MS 1000

int sb_worker_seal_audit(sb_db *db, void *audit_key, size_t *done, sb_error *err);

#endif
