/* worker/scheduler.c — see scheduler.h. The thread is util/periodic; this
 * file adds the cross-replica lock and claim, backoff and metrics. */
#include "worker/scheduler.h"

#include <regex.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/metrics.h"
#include "store/worker_store.h"
#include "util/log.h"
#include "util/periodic.h"

#define DEFAULT_TICK_MS 1000
#define DEFAULT_MAX_BACKOFF_MS (10 * 60 * 1000)
#define LOCK_ACQUIRE_MS 5000

typedef struct task_state {
    sb_worker_task task;
    int64_t lock_key;
    atomic_uint_fast64_t succeeded, failed, lock_skipped, items;
    atomic_int failing;
    /* monotonic ms before which the shared row says the task is not due:
     * ticks before it ask the database nothing (sb_worker_wake clears it) */
    _Atomic int64_t not_before_ms;
} task_state;

struct sb_worker {
    sb_db *db;
    atomic_int database_ok; /* the latest tick's lock query got an answer */
    sb_periodic *thread;
    char runner[128];
    int64_t max_backoff_ms;
    void (*on_stop)(void *ctx);
    void *on_stop_ctx;
    size_t n;
    task_state tasks[SB_WORKER_MAX_TASKS];
};

static sb_metric *m_runs, *m_skipped, *m_duration, *m_items;

static void register_metrics(void)
{
    m_runs = sb_metrics_counter("sb_worker_task_runs_total", "Worker task runs by outcome", "task",
                                "outcome", NULL);
    m_skipped = sb_metrics_counter("sb_worker_task_lock_skipped_total",
                                   "Ticks that found the task's lock held by another replica",
                                   "task", NULL);
    m_duration = sb_metrics_histogram("sb_worker_task_duration_seconds", "Worker task run time",
                                      sb_metrics_latency_buckets, sb_metrics_latency_buckets_len,
                                      "task", NULL);
    m_items = sb_metrics_counter("sb_worker_task_items_total",
                                 "Units of work done by worker tasks", "task", NULL);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool sb_worker_budget_left(int64_t started_ms, int64_t need_ms)
{
    return monotonic_ms() + (need_ms > 0 ? need_ms : 0) - started_ms < SB_WORKER_RUN_BUDGET_MS;
}

/* The task's batches; 0 or -1 with err. *cut: work was left for the next
 * tick because the run's budget was spent. */
static int run_batches(sb_worker *w, task_state *t, size_t *items, bool *cut, sb_error *err)
{
    *items = 0;
    *cut = false;
    int64_t started = monotonic_ms();
    for (int batch = 0; batch < SB_WORKER_MAX_BATCHES; batch++) {
        size_t done = 0;
        int rc = t->task.run(w->db, t->task.ctx, &done, err);
        *items += done;
        if (rc < 0)
            return -1;
        if (rc != SB_WORKER_MORE || sb_worker_stopping(w))
            break;
        if (!sb_worker_budget_left(started, 0)) {
            *cut = true;
            break;
        }
    }
    return 0;
}

static void record(sb_worker *w, task_state *t, sb_db_conn *conn, int rc, size_t items,
                   int64_t took_ms, const sb_error *run_err, int64_t *next_ms)
{
    const char *name = t->task.name;
    sb_metric_add(m_runs, SB_LABELS(name, rc == 0 ? "succeeded" : "failed"), 1);
    sb_metric_observe(m_duration, SB_LABELS(name), (double)took_ms / 1000.0);
    sb_metric_add(m_items, SB_LABELS(name), (double)items);
    atomic_fetch_add(rc == 0 ? &t->succeeded : &t->failed, 1);
    atomic_fetch_add(&t->items, items);
    int was_failing = atomic_exchange(&t->failing, rc != 0);

    int failures = 0;
    int64_t next = t->task.interval_ms;
    sb_error err = {0};
    sb_worker_backoff b = {t->task.interval_ms, w->max_backoff_ms,
                           (int)randombytes_uniform(101)};
    if (sb_worker_store_finish(conn, name, rc == 0, rc == 0 ? NULL : run_err->message, &b,
                               &failures, &next, &err) != 0)
        sb_warn("worker", "task %s: cannot record its run: %s", name, err.message);
    *next_ms = next;
    if (rc != 0 && !was_failing)
        sb_err("worker", "task %s failed (%d in a row; next try in %lld ms, backing off while "
               "it fails): %s", name, failures, (long long)next, run_err->message);
    else if (rc == 0 && was_failing)
        sb_info("worker", "task %s works again (%zu done)", name, items);
    else if (items > 0)
        sb_debug("worker", "task %s: %zu done in %lld ms", name, items, (long long)took_ms);
}

/* Lock, claim, run, record, unlock. Never fails the tick: every error is
 * the task's, recorded and logged. */
static void tick_task(sb_worker *w, task_state *t)
{
    sb_db_conn *conn;
    sb_error err = {0};
    if (monotonic_ms() < atomic_load(&t->not_before_ms))
        return;
    if (sb_db_acquire(w->db, LOCK_ACQUIRE_MS, &conn, &err) != 0) {
        atomic_store(&w->database_ok, 0);
        sb_debug("worker", "task %s: no database connection this tick: %s", t->task.name,
                 err.message);
        return;
    }
    int held = 0;
    bool due = false;
    int asked = sb_db_advisory_try_lock(conn, t->lock_key, &held, &err);
    atomic_store(&w->database_ok, asked == 0);
    if (asked != 0) {
        sb_debug("worker", "task %s: cannot take its lock: %s", t->task.name, err.message);
    } else if (!held) {
        atomic_fetch_add(&t->lock_skipped, 1);
        sb_metric_add(m_skipped, SB_LABELS(t->task.name), 1);
    } else {
        int64_t wait = 0;
        if (sb_worker_store_claim(conn, t->task.name, t->task.interval_ms, w->runner, &due, &wait,
                                  &err) != 0)
            sb_debug("worker", "task %s: cannot claim its run: %s", t->task.name, err.message);
        if (due) {
            size_t items = 0;
            bool cut = false;
            sb_error run_err = {0};
            int64_t started = monotonic_ms();
            int rc = run_batches(w, t, &items, &cut, &run_err);
            record(w, t, conn, rc, items, monotonic_ms() - started, &run_err, &wait);
            if (rc == 0 && cut) {
                if (sb_worker_store_due_now(conn, t->task.name, &err) != 0)
                    sb_warn("worker", "task %s: cannot leave its rest for the next tick: %s",
                            t->task.name, err.message);
                else
                    wait = 0;
            }
        }
        atomic_store(&t->not_before_ms, monotonic_ms() + wait);
        sb_db_advisory_unlock(conn, t->lock_key, &err);
    }
    sb_db_release(w->db, conn);
}

static int tick(sb_periodic *p, void *ctx, size_t *done, sb_error *err)
{
    (void)err;
    sb_worker *w = ctx;
    *done = 0;
    for (size_t i = 0; i < w->n && !sb_periodic_stopping(p); i++)
        if (w->tasks[i].task.interval_ms > 0)
            tick_task(w, &w->tasks[i]);
    return 0;
}

static int name_valid(const char *name)
{
    regex_t re;
    if (name == NULL || regcomp(&re, "^[a-z][a-z0-9_]{0,62}$", REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    int ok = regexec(&re, name, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static int check_tasks(const sb_worker_task *tasks, size_t n, sb_error *err)
{
    if (n > SB_WORKER_MAX_TASKS)
        return sb_error_set(err, SB_WORKER_E_INVALID, "%zu worker tasks; at most %d", n,
                            SB_WORKER_MAX_TASKS);
    for (size_t i = 0; i < n; i++) {
        if (!name_valid(tasks[i].name) || tasks[i].run == NULL)
            return sb_error_set(err, SB_WORKER_E_INVALID,
                                "worker task %zu: expected a name matching [a-z][a-z0-9_]* and a "
                                "function, found \"%s\"",
                                i, tasks[i].name ? tasks[i].name : "(null)");
        if (tasks[i].interval_ms < 0)
            return sb_error_set(err, SB_WORKER_E_INVALID,
                                "worker task %s: the interval must be >= 0 ms (0: off)",
                                tasks[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(tasks[i].name, tasks[j].name) == 0)
                return sb_error_set(err, SB_WORKER_E_INVALID, "worker task %s is listed twice",
                                    tasks[i].name);
    }
    return 0;
}

static void release(void (*on_stop)(void *), void *ctx)
{
    if (on_stop)
        on_stop(ctx);
}

int sb_worker_start(sb_db *db, const sb_worker_task *tasks, size_t n,
                    const sb_worker_options *opts, sb_worker **out, sb_error *err)
{
    *out = NULL;
    int bad = db == NULL ? sb_error_set(err, SB_WORKER_E_INVALID, "the worker needs a database")
              : check_tasks(tasks, n, err) != 0 ? -1
              : sodium_init() < 0 ? sb_error_set(err, SB_WORKER_E_INVALID, "libsodium cannot start")
                                  : 0;
    if (bad) {
        release(opts ? opts->on_stop : NULL, opts ? opts->on_stop_ctx : NULL);
        return -1;
    }
    sb_worker *w = calloc(1, sizeof *w);
    if (w == NULL) {
        release(opts ? opts->on_stop : NULL, opts ? opts->on_stop_ctx : NULL);
        return sb_error_set(err, SB_WORKER_E_INVALID, "out of memory starting the worker");
    }
    register_metrics();
    w->db = db;
    w->n = n;
    w->on_stop = opts ? opts->on_stop : NULL;
    w->on_stop_ctx = opts ? opts->on_stop_ctx : NULL;
    w->max_backoff_ms = opts && opts->max_backoff_ms > 0 ? opts->max_backoff_ms
                                                         : DEFAULT_MAX_BACKOFF_MS;
    if (opts && opts->runner)
        snprintf(w->runner, sizeof w->runner, "%s", opts->runner);
    else
        snprintf(w->runner, sizeof w->runner, "pid %ld", (long)getpid());
    for (size_t i = 0; i < n; i++) {
        char key[96];
        w->tasks[i].task = tasks[i];
        snprintf(key, sizeof key, "sb.worker.%s", tasks[i].name);
        w->tasks[i].lock_key = sb_db_advisory_key(key);
    }
    int64_t tick_ms = opts && opts->tick_ms > 0 ? opts->tick_ms : DEFAULT_TICK_MS;
    sb_periodic_spec spec = {"worker", "running worker tasks", tick_ms, tick, w, false};
    if (sb_periodic_start(&spec, &w->thread, err) != 0) {
        release(opts ? opts->on_stop : NULL, opts ? opts->on_stop_ctx : NULL);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void sb_worker_wake(sb_worker *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n; i++)
        atomic_store(&w->tasks[i].not_before_ms, 0);
    sb_periodic_wake(w->thread);
}

bool sb_worker_stopping(const sb_worker *w) { return w && sb_periodic_stopping(w->thread); }

bool sb_worker_database_ok(const sb_worker *w) { return w && atomic_load(&w->database_ok); }

int sb_worker_task_stats_get(const sb_worker *w, const char *name, sb_worker_task_stats *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; w && i < w->n; i++) {
        const task_state *t = &w->tasks[i];
        if (strcmp(t->task.name, name) != 0)
            continue;
        out->succeeded = atomic_load(&t->succeeded);
        out->failed = atomic_load(&t->failed);
        out->lock_skipped = atomic_load(&t->lock_skipped);
        out->items = atomic_load(&t->items);
        out->failing = atomic_load(&t->failing);
        return 0;
    }
    return 1;
}

void sb_worker_stop(sb_worker *w)
{
    if (w == NULL)
        return;
    sb_periodic_stop(w->thread);
    release(w->on_stop, w->on_stop_ctx);
    free(w);
}
