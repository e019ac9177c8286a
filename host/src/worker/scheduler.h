/*
 * worker/scheduler.h — the worker's task scheduler (SPEC §12): every
 * background chore of the control plane (request expiry, lease recovery,
 * reveal-session and wrap expiry, stale agents, ...) is a task run here,
 * by `sbridge worker` and inside `sbridge server` (unless --no-worker).
 *
 * Contract:
 *   - One thread (util/periodic) looks at the tasks every tick_ms and at
 *     once after sb_worker_wake. A task with interval_ms 0 is disabled.
 *     Between its due times a task costs no query: the claim answers how
 *     long until the shared row says it is due, and ticks before then
 *     skip it (sb_worker_wake forgets those times: look now).
 *   - A task runs only when this process holds its PostgreSQL advisory
 *     lock (session level, key sb_db_advisory_key("sb.worker.<name>"))
 *     AND claims the interval in worker_tasks (store/worker_store.h): with
 *     any number of replicas, each task runs once per interval and never
 *     twice at once. A replica that finds the lock held counts
 *     lock_skipped and moves on (it never waits).
 *   - A run calls task->run until it stops answering SB_WORKER_MORE (a
 *     full batch: more is waiting), at most SB_WORKER_MAX_BATCHES times,
 *     until the scheduler stops, or until the run has lasted
 *     SB_WORKER_RUN_BUDGET_MS: one task's backlog never holds the thread
 *     from the others (a paced notification channel once kept GitOps
 *     polling waiting for a minute). A run cut short by its budget leaves
 *     the task due at once: it goes on at the next tick, after the other
 *     tasks have had their turn. A task whose single batch can be slow
 *     (deliveries, polls) checks sb_worker_budget_left between items. Each batch is its own transaction in the
 *     task, so a process killed mid-run leaves every batch either
 *     committed or rolled back, and its lock dies with its connection.
 *   - A failed run releases the lock like any other, is logged (once when
 *     the task starts failing and once when it recovers) and backs off:
 *     the task's next run is interval * 2^(failures in a row), capped at
 *     max_backoff_ms, with up to 10 % jitter, shared by all replicas. The
 *     ticks go on; the task runs again when its backoff has passed.
 *   - Metrics per task (Prometheus, http/metrics.h, label task):
 *     sb_worker_task_runs_total{outcome=succeeded|failed},
 *     sb_worker_task_lock_skipped_total, sb_worker_task_duration_seconds,
 *     sb_worker_task_items_total; sb_worker_task_stats reads them back.
 *   - sb_worker_stop finishes the run in progress (each task honours
 *     sb_worker_stopping between batches) and joins the thread.
 * Task names and ctx must outlive the scheduler; options.on_stop (when
 * set) is called with on_stop_ctx once the thread is joined by
 * sb_worker_stop, or by a failed start, to free what the tasks used.
 */
#ifndef SB_WORKER_SCHEDULER_H
#define SB_WORKER_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/error.h"

#define SB_WORKER_MORE 1
#define SB_WORKER_MAX_BATCHES 50
#define SB_WORKER_RUN_BUDGET_MS 2000
#define SB_WORKER_MAX_TASKS 32

/* One batch: 0 (with *done units of work), SB_WORKER_MORE, or -1 with err. */
typedef int (*sb_worker_task_fn)(sb_db *db, void *ctx, size_t *done, sb_error *err);

typedef struct sb_worker_task {
    const char *name; /* ^[a-z][a-z0-9_]{0,62}$ */
    int64_t interval_ms;
    sb_worker_task_fn run;
    void *ctx;
} sb_worker_task;

typedef struct sb_worker_options {
    const char *runner;     /* this process in worker_tasks.last_runner; NULL: "pid <n>" */
    int64_t tick_ms;        /* 0: 1000 */
    int64_t max_backoff_ms; /* 0: 10 minutes */
    void (*on_stop)(void *ctx); /* NULL, or frees on_stop_ctx (see above) */
    void *on_stop_ctx;
} sb_worker_options;

typedef struct sb_worker_task_stats {
    uint64_t succeeded, failed, lock_skipped, items;
    int failing; /* 1 while the latest run of this process failed */
} sb_worker_task_stats;

typedef struct sb_worker sb_worker;

enum { SB_WORKER_E_INVALID = 2601 };

/* Copies the task table; errors (SB_WORKER_E_INVALID): a bad name, twice
 * the same name, more than SB_WORKER_MAX_TASKS, a negative interval. */
int sb_worker_start(sb_db *db, const sb_worker_task *tasks, size_t n,
                    const sb_worker_options *opts, sb_worker **out, sb_error *err);
void sb_worker_wake(sb_worker *w); /* look at the tasks now; never blocks */
bool sb_worker_stopping(const sb_worker *w);
/* true once a tick reached the database, false again when one did not. */
bool sb_worker_database_ok(const sb_worker *w);
/* 0, or 1 when this scheduler has no task of that name. */
int sb_worker_task_stats_get(const sb_worker *w, const char *name, sb_worker_task_stats *out);
void sb_worker_stop(sb_worker *w); /* NULL is a no-op */
/* Whether a batch begun at started_ms (sb_clock_monotonic_ms) may start
 * another item that may take up to need_ms: within SB_WORKER_RUN_BUDGET_MS. */
bool sb_worker_budget_left(int64_t started_ms, int64_t need_ms);

#endif
