/*
 * store/worker_store.h — the worker's shared state (0020_worker.sql) and
 * the sweeps that are plain SQL: stale agents and expired sealed boxes.
 *
 * Contract:
 *   - sb_worker_store_claim moves a task's next_run_at one interval
 *     forward when it is due (next_run_at <= now(); a task never seen
 *     before is due), in one conditional UPDATE: of any number of replicas
 *     asking, exactly one is told *due = true per interval. runs counts it.
 *     *wait_ms (may be NULL): how long until the task is next due, as the
 *     row says after the claim (claims only ever move it later).
 *   - sb_worker_store_finish records how a claimed run ended. A success
 *     clears consecutive_failures; a failure increments it to f and sets
 *     next_run_at to now() + min(interval_ms * 2^f, max_backoff_ms) *
 *     (1 + jitter_permille / 1000), so every replica backs off the same
 *     way. Error text is cut to 500 characters and never holds a value.
 *   - sb_worker_store_mark_stale_agents turns up to limit active agents
 *     whose last heartbeat (or, never having beaten, enrollment) is older
 *     than stale_after_s into 'stale' and returns them as a JSON array of
 *     {id, connection_id, last_heartbeat_at}; rows are taken FOR UPDATE
 *     SKIP LOCKED so a concurrent heartbeat wins and is not undone.
 *   - sb_worker_store_purge_wraps drops the ciphertext of up to limit
 *     expired, unconsumed read results (box NULL, purged_at now) and
 *     deletes up to limit expired sealed request values, returning
 *     {"wraps":[{id, request_id}], "sealed":[{request_id, n}]} as JSON.
 *   - sb_worker_store_due_discoveries returns up to limit active provider
 *     connections due for a discovery, as a JSON array of {id}, locked
 *     FOR UPDATE SKIP LOCKED: due means no discover job of the connection
 *     is queued or leased, and none was created within its
 *     discovery_interval_s (so a discovery that succeeded, failed or is
 *     still running in this interval is never queued again).
 *   - sb_worker_store_mark_catalog_missing turns up to limit present
 *     catalog rows into missing when they were last seen more than
 *     missing_after_s ago AND a successful discovery of their connection
 *     ran after that (an agent that is down never empties the catalog);
 *     returns [{id, connection_id, secret_ref}].
 * Returns 0 done, -1 error (err filled).
 */
#ifndef SB_STORE_WORKER_STORE_H
#define SB_STORE_WORKER_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"
#include "util/error.h"

int sb_worker_store_claim(sb_db_conn *conn, const char *task, int64_t interval_ms,
                          const char *runner, bool *due, int64_t *wait_ms, sb_error *err);
typedef struct sb_worker_backoff {
    int64_t interval_ms, max_backoff_ms;
    int jitter_permille; /* 0..1000 */
} sb_worker_backoff;
/* *consecutive_failures (may be NULL) and *next_in_ms (may be NULL): the
 * count and the delay until the next run after this one. */
int sb_worker_store_finish(sb_db_conn *conn, const char *task, bool succeeded, const char *error,
                           const sb_worker_backoff *backoff, int *consecutive_failures,
                           int64_t *next_in_ms, sb_error *err);
/* Puts the task's next run at now() (tests, an operator's "run now"). */
int sb_worker_store_due_now(sb_db_conn *conn, const char *task, sb_error *err);

int sb_worker_store_mark_stale_agents(sb_db_conn *conn, int64_t stale_after_s, long limit,
                                      char **json, sb_error *err);
int sb_worker_store_purge_wraps(sb_db_conn *conn, long limit, char **json, sb_error *err);
int sb_worker_store_due_discoveries(sb_db_conn *conn, long limit, char **json, sb_error *err);
int sb_worker_store_mark_catalog_missing(sb_db_conn *conn, int64_t missing_after_s, long limit,
                                         char **json, sb_error *err);

#endif
