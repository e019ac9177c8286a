/*
 * api/audit_sealer.h — the background thread that seals audit events into
 * the hash chain (store/audit_store.h), run by the server and worker roles.
 *
 * Contract: sb_audit_sealer_start starts one thread that, every
 * interval_ms (and at once after sb_audit_sealer_wake), seals committed
 * events in batches until none are left. Several processes may run a
 * sealer against one database: a transaction-level advisory lock lets one
 * seal at a time and the others skip that round, so a chain position is
 * never assigned twice. Failures (database down, a malformed chain head)
 * are logged — once when they start and once when they clear, not every
 * round — and retried next round; they never stop the thread or the
 * process. Events are not lost while the sealer fails: they stay unsealed
 * and `sbridge audit verify` reports them once they are older than its
 * threshold.
 *
 * sb_audit_sealer_stop asks the thread to finish, lets it make one last
 * pass (events written while the server drained get sealed) and joins it.
 * Every statement of a pass runs under a 5 s statement_timeout and the
 * pool's acquire timeout, so stop returns within a bounded time even when
 * the database hangs. The app (its db and audit_key) must outlive the
 * sealer.
 */
#ifndef SB_API_AUDIT_SEALER_H
#define SB_API_AUDIT_SEALER_H

#include <stdint.h>

#include "api/app.h"

typedef struct sb_audit_sealer sb_audit_sealer;

/* Counters for /metrics and tests. */
typedef struct sb_audit_sealer_stats {
    uint64_t sealed;      /* events sealed by this sealer since start */
    uint64_t passes;      /* seal passes run */
    uint64_t failures;    /* passes that failed */
    int failing;          /* 1 while the latest pass failed */
    int64_t max_pass_ms;  /* the longest seal pass (one batch) so far */
} sb_audit_sealer_stats;

/* interval_ms 10..3600000; 0 = 1000. */
int sb_audit_sealer_start(sb_app *app, int64_t interval_ms, sb_audit_sealer **out, sb_error *err);
/* Seal now (e.g. a test, or after a burst); never blocks. */
void sb_audit_sealer_wake(sb_audit_sealer *s);
void sb_audit_sealer_stats_get(sb_audit_sealer *s, sb_audit_sealer_stats *out);
/* Stops and frees; NULL is a no-op. */
void sb_audit_sealer_stop(sb_audit_sealer *s);

#endif
