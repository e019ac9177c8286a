/*
 * test_worker_scheduler.c — worker/scheduler.h against a real PostgreSQL:
 * two replicas run a task once per interval and never at once; a lock held
 * elsewhere is skipped (and counted); a failing task releases its lock,
 * backs off and runs again; a replica killed (SIGKILL) in the middle of a
 * task leaves nothing half-done and the other replica does the work.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pg_harness.h"
#include "store/database.h"
#include "store/migrate.h"
#include "store/rows.h"
#include "store/worker_store.h"
#include "util/log.h"
#include "worker/scheduler.h"
#include "worker/worker_tasks.h"

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    (void)set;
    sb_pg_harness_shared_start();
}
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    sb_pg_harness_shared_stop();
}

static char conninfo[1024];
static sb_db *db;

static void setup(void)
{
    sb_log_set_level(SB_LEVEL_ERROR);
    cr_assert_eq(sb_pg_harness_fresh_database(conninfo, sizeof conninfo), 0, "no test database");
    sb_error err = {0};
    cr_assert_eq(sb_db_open(conninfo, 8, 5000, &db, &err), 0, "%s", err.message);
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
    cr_assert_eq(sb_migrate_apply(db, list, n, NULL, &err), 0, "%s", err.message);
}
static void teardown(void) { sb_db_close(db); }
TestSuite(worker_scheduler, .init = setup, .fini = teardown, .timeout = 180);

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms) { nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000}, NULL); }

/* One SQL statement's first cell as an integer (the owner's connection). */
static long long sql_int(sb_db *on, const char *sql)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(on, 5000, &c, &err), 0, "%s", err.message);
    PGresult *res;
    cr_assert_eq(sb_db_exec(c, sql, 0, NULL, &res, &err), 0, "%s: %s", sql, err.message);
    long long v = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    sb_db_release(on, c);
    return v;
}

static void sql(sb_db *on, const char *text)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(on, 5000, &c, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_exec_script(c, text, &err), 0, "%s: %s", text, err.message);
    sb_db_release(on, c);
}

/* ---- a task that counts its runs and notices overlap ---------------------- */

typedef struct counting {
    atomic_int runs, inside, overlapped, fail;
    int hold_ms;
} counting;

static int count_run(sb_db *on, void *ctx, size_t *done, sb_error *err)
{
    (void)on;
    counting *c = ctx;
    if (atomic_fetch_add(&c->inside, 1) != 0)
        atomic_store(&c->overlapped, 1);
    atomic_fetch_add(&c->runs, 1);
    sleep_ms(c->hold_ms);
    atomic_fetch_sub(&c->inside, 1);
    if (atomic_load(&c->fail))
        return sb_error_set(err, 7, "the task failed on purpose");
    *done = 1;
    return 0;
}

Test(worker_scheduler, two_replicas_run_a_task_once_per_interval)
{
    sb_db *db2;
    sb_error err = {0};
    cr_assert_eq(sb_db_open(conninfo, 8, 5000, &db2, &err), 0, "%s", err.message);
    counting c = {.hold_ms = 150};
    sb_worker_task t = {"count_runs", 1000, count_run, &c};
    sb_worker_options o1 = {.runner = "replica-1", .tick_ms = 40};
    sb_worker_options o2 = {.runner = "replica-2", .tick_ms = 40};
    sb_worker *w1, *w2;
    int64_t started = now_ms();
    cr_assert_eq(sb_worker_start(db, &t, 1, &o1, &w1, &err), 0, "%s", err.message);
    cr_assert_eq(sb_worker_start(db2, &t, 1, &o2, &w2, &err), 0, "%s", err.message);
    sleep_ms(4500);
    sb_worker_task_stats s1;
    cr_assert_eq(sb_worker_task_stats_get(w1, "no_such_task", &s1), 1);
    sb_worker_stop(w1);
    sb_worker_stop(w2);
    int64_t elapsed = now_ms() - started;
    int runs = atomic_load(&c.runs);
    /* at most one run per started interval (plus the first at once), at least a few */
    cr_assert_leq(runs, elapsed / 1000 + 1, "%d runs in %lld ms", runs, (long long)elapsed);
    cr_assert_geq(runs, 3, "%d runs in %lld ms", runs, (long long)elapsed);
    cr_assert_eq(atomic_load(&c.overlapped), 0, "two replicas ran the task at once");
    cr_assert_eq(sql_int(db, "SELECT runs FROM worker_tasks WHERE name = 'count_runs'"), runs);
    sb_db_close(db2);
}

Test(worker_scheduler, stats_count_each_replica_and_the_shared_row_names_the_runner)
{
    sb_db *db2;
    sb_error err = {0};
    cr_assert_eq(sb_db_open(conninfo, 8, 5000, &db2, &err), 0, "%s", err.message);
    counting c = {.hold_ms = 0};
    sb_worker_task t = {"stats_task", 300, count_run, &c};
    sb_worker_options o1 = {.runner = "replica-1", .tick_ms = 20};
    sb_worker_options o2 = {.runner = "replica-2", .tick_ms = 20};
    sb_worker *w1, *w2;
    cr_assert_eq(sb_worker_start(db, &t, 1, &o1, &w1, &err), 0, "%s", err.message);
    cr_assert_eq(sb_worker_start(db2, &t, 1, &o2, &w2, &err), 0, "%s", err.message);
    int64_t deadline = now_ms() + 60000;
    while (atomic_load(&c.runs) < 6 && now_ms() < deadline)
        sleep_ms(20);
    sb_worker_stop(w1);
    sb_worker_stop(w2);
    cr_assert_geq(atomic_load(&c.runs), 6);
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM worker_tasks WHERE name = 'stats_task' AND "
                             "last_runner IN ('replica-1', 'replica-2') AND "
                             "last_outcome = 'succeeded'"),
                 1);
    sb_db_close(db2);
}

Test(worker_scheduler, a_lock_held_by_another_replica_is_skipped_and_counted)
{
    sb_error err = {0};
    sb_db_conn *holder;
    cr_assert_eq(sb_db_acquire(db, 5000, &holder, &err), 0, "%s", err.message);
    int held = 0;
    int64_t key = sb_db_advisory_key("sb.worker.locked_task");
    cr_assert_eq(sb_db_advisory_try_lock(holder, key, &held, &err), 0, "%s", err.message);
    cr_assert(held);
    counting c = {0};
    sb_worker_task t = {"locked_task", 1000, count_run, &c};
    sb_worker_options o = {.tick_ms = 20};
    sb_worker *w;
    cr_assert_eq(sb_worker_start(db, &t, 1, &o, &w, &err), 0, "%s", err.message);
    sb_worker_task_stats st = {0};
    int64_t deadline = now_ms() + 30000;
    while (st.lock_skipped < 3 && now_ms() < deadline) {
        sleep_ms(20);
        sb_worker_task_stats_get(w, "locked_task", &st);
    }
    cr_assert_geq(st.lock_skipped, 3);
    cr_assert_eq(atomic_load(&c.runs), 0, "the task ran without its lock");
    sb_db_advisory_unlock(holder, key, &err);
    sb_db_release(db, holder);
    deadline = now_ms() + 30000;
    while (atomic_load(&c.runs) == 0 && now_ms() < deadline)
        sleep_ms(20);
    sb_worker_stop(w);
    cr_assert_eq(atomic_load(&c.runs), 1, "the task runs once the lock is free");
}

Test(worker_scheduler, a_failing_task_releases_its_lock_backs_off_and_recovers)
{
    sb_error err = {0};
    counting c = {0};
    atomic_store(&c.fail, 1);
    sb_worker_task t = {"failing_task", 200, count_run, &c};
    sb_worker_options o = {.tick_ms = 20, .max_backoff_ms = 60000};
    sb_worker *w;
    cr_assert_eq(sb_worker_start(db, &t, 1, &o, &w, &err), 0, "%s", err.message);
    int64_t deadline = now_ms() + 60000;
    while (sql_int(db, "SELECT coalesce(max(consecutive_failures), 0) FROM worker_tasks") < 3 &&
           now_ms() < deadline)
        sleep_ms(20);
    /* three in a row: the next run is 200 ms * 2^3 = 1.6 s (+ <= 10 %) after the last */
    cr_assert_eq(sql_int(db, "SELECT consecutive_failures FROM worker_tasks"), 3);
    long long gap = sql_int(db, "SELECT (extract(epoch FROM next_run_at - last_finished_at) * 1000)"
                                "::bigint FROM worker_tasks");
    cr_assert(gap >= 1590 && gap <= 1770, "backoff after 3 failures: %lld ms", gap);
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM worker_tasks WHERE last_outcome = 'failed' "
                             "AND last_error = 'the task failed on purpose'"),
                 1);
    /* the lock is free between runs: another connection can take it */
    sb_db_conn *other;
    cr_assert_eq(sb_db_acquire(db, 5000, &other, &err), 0, "%s", err.message);
    int held = 0;
    int64_t key = sb_db_advisory_key("sb.worker.failing_task");
    int64_t lock_deadline = now_ms() + 30000;
    while (!held && now_ms() < lock_deadline) {
        cr_assert_eq(sb_db_advisory_try_lock(other, key, &held, &err), 0, "%s", err.message);
        if (!held)
            sleep_ms(5);
    }
    cr_assert(held, "a failed run kept its lock");
    sb_db_advisory_unlock(other, key, &err);
    sb_db_release(db, other);
    sb_worker_task_stats st;
    sb_worker_task_stats_get(w, "failing_task", &st);
    cr_assert(st.failing);
    cr_assert_geq(st.failed, 3);
    /* it keeps ticking: once the fault clears, the next due run succeeds */
    atomic_store(&c.fail, 0);
    sql(db, "UPDATE worker_tasks SET next_run_at = now()");
    deadline = now_ms() + 60000;
    while (sql_int(db, "SELECT count(*) FROM worker_tasks WHERE last_outcome = 'succeeded'") == 0 &&
           now_ms() < deadline)
        sleep_ms(20);
    sb_worker_stop(w);
    cr_assert_eq(sql_int(db, "SELECT consecutive_failures FROM worker_tasks"), 0);
}

/* Between due times a tick asks the database nothing: a row made due
 * behind the scheduler's back is seen only after sb_worker_wake. */
Test(worker_scheduler, ticks_skip_a_task_until_it_is_due_and_wake_looks_again)
{
    sb_error err = {0};
    counting c = {0};
    sb_worker_task t = {"hourly", 3600000, count_run, &c};
    sb_worker_options o = {.tick_ms = 20};
    sb_worker *w;
    cr_assert_eq(sb_worker_start(db, &t, 1, &o, &w, &err), 0, "%s", err.message);
    int64_t deadline = now_ms() + 30000;
    while (atomic_load(&c.runs) == 0 && now_ms() < deadline)
        sleep_ms(20);
    cr_assert_eq(atomic_load(&c.runs), 1);
    sql(db, "UPDATE worker_tasks SET next_run_at = now() WHERE name = 'hourly'");
    sleep_ms(500); /* 25 ticks */
    cr_assert_eq(atomic_load(&c.runs), 1, "a tick queried a task that was not due");
    sb_worker_wake(w);
    deadline = now_ms() + 30000;
    while (atomic_load(&c.runs) == 1 && now_ms() < deadline)
        sleep_ms(20);
    sb_worker_stop(w);
    cr_assert_eq(atomic_load(&c.runs), 2, "wake looks at the shared row again");
}

/* A task whose backlog never ends: every batch is full and takes a while. */
typedef struct backlog {
    atomic_int batches, runs;
    atomic_int_fast64_t last_batch_ms;
} backlog;

static int backlog_run(sb_db *on, void *ctx, size_t *done, sb_error *err)
{
    (void)on, (void)err;
    backlog *b = ctx;
    atomic_fetch_add(&b->batches, 1);
    sleep_ms(300);
    atomic_store(&b->last_batch_ms, now_ms());
    *done = 1;
    return SB_WORKER_MORE;
}

Test(worker_scheduler, a_task_with_an_endless_backlog_yields_to_the_others_and_goes_on)
{
    sb_error err = {0};
    backlog b = {0};
    counting c = {0};
    /* the backlog task comes first in the table: each tick runs it before the other */
    sb_worker_task t[] = {{"endless_backlog", 3600000, backlog_run, &b},
                          {"hourly_chore", 3600000, count_run, &c}};
    sb_worker_options o = {.tick_ms = 20};
    sb_worker *w;
    int64_t started = now_ms();
    cr_assert_eq(sb_worker_start(db, t, 2, &o, &w, &err), 0, "%s", err.message);
    int64_t deadline = now_ms() + 30000;
    while (atomic_load(&c.runs) == 0 && now_ms() < deadline)
        sleep_ms(10);
    int64_t chore_ran = now_ms() - started;
    int batches_before = atomic_load(&b.batches);
    /* the backlog goes on at the next ticks although its interval is an hour */
    deadline = now_ms() + 30000;
    while (atomic_load(&b.batches) < batches_before + 3 && now_ms() < deadline)
        sleep_ms(10);
    sb_worker_stop(w);
    cr_assert_eq(atomic_load(&c.runs), 1);
    /* without the run budget the chore waited for 50 batches (15 s) */
    cr_assert_lt(chore_ran, SB_WORKER_RUN_BUDGET_MS + 2000, "the other task waited %lld ms",
                 (long long)chore_ran);
    cr_assert_lt(batches_before, SB_WORKER_MAX_BATCHES, "%d batches ran before the other task",
                 batches_before);
    cr_assert_geq(atomic_load(&b.batches), batches_before + 3,
                  "a run cut short by its budget was not taken up again at the next ticks");
}

Test(worker_scheduler, bad_task_tables_are_refused)
{
    sb_error err = {0};
    sb_worker *w;
    counting c = {0};
    sb_worker_task bad_name = {"Bad-Name", 1000, count_run, &c};
    cr_assert_eq(sb_worker_start(db, &bad_name, 1, NULL, &w, &err), -1);
    cr_assert_eq(err.code, SB_WORKER_E_INVALID);
    cr_assert(strstr(err.message, "Bad-Name"), "%s", err.message);
    sb_worker_task twice[] = {{"same", 1000, count_run, &c}, {"same", 2000, count_run, &c}};
    cr_assert_eq(sb_worker_start(db, twice, 2, NULL, &w, &err), -1);
    cr_assert(strstr(err.message, "listed twice"), "%s", err.message);
    sb_worker_task negative = {"neg", -1, count_run, &c};
    cr_assert_eq(sb_worker_start(db, &negative, 1, NULL, &w, &err), -1);
    cr_assert(strstr(err.message, ">= 0"), "%s", err.message);
    cr_assert_null(w);
}

/* ---- kill -9 in the middle of a task -------------------------------------- */

typedef struct half {
    int pause_s; /* sleep inside the transaction, after the update */
} half;

static int half_txn(sb_db_conn *conn, void *ctx, sb_error *err)
{
    half *h = ctx;
    if (sb_db_exec_script(conn, "UPDATE work_items SET done = true WHERE NOT done", err) != 0)
        return -1;
    if (h->pause_s > 0 && sb_db_exec_script(conn, "SELECT pg_sleep(60)", err) != 0)
        return -1;
    return 0;
}

static int half_run(sb_db *on, void *ctx, size_t *done, sb_error *err)
{
    *done = 1;
    return sb_db_transaction(on, half_txn, ctx, err) < 0 ? -1 : 0;
}

Test(worker_scheduler, a_replica_killed_mid_task_leaves_nothing_half_done)
{
    sql(db, "CREATE TABLE work_items (id int PRIMARY KEY, done boolean NOT NULL DEFAULT false);"
            "INSERT INTO work_items (id) SELECT generate_series(1, 50)");
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        sb_db *mine;
        sb_error e = {0};
        if (sb_db_open(conninfo, 4, 5000, &mine, &e) != 0)
            _exit(3);
        static half slow = {60};
        sb_worker_task t = {"half_task", 1000, half_run, &slow};
        sb_worker_options o = {.runner = "doomed", .tick_ms = 20};
        sb_worker *w;
        if (sb_worker_start(mine, &t, 1, &o, &w, &e) != 0)
            _exit(4);
        for (;;)
            pause();
    }
    /* wait until the child is inside the task: its update is done but not committed */
    int64_t deadline = now_ms() + 60000;
    while (sql_int(db, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'") ==
               0 &&
           now_ms() < deadline)
        sleep_ms(20);
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 1,
                 "the doomed replica holds the task's lock");
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    cr_assert(WIFSIGNALED(status));
    /* nothing of the killed run is visible, and its lock died with it */
    deadline = now_ms() + 60000;
    while (sql_int(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") != 0 &&
           now_ms() < deadline)
        sleep_ms(20);
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM work_items WHERE done"), 0);
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM worker_tasks WHERE name = 'half_task' AND "
                             "last_runner = 'doomed' AND last_finished_at IS NULL"),
                 1);
    /* the other replica takes the task at its next interval and does all of it */
    half quick = {0};
    sb_worker_task t = {"half_task", 1000, half_run, &quick};
    sb_worker_options o = {.runner = "survivor", .tick_ms = 20};
    sb_worker *w;
    sb_error err = {0};
    cr_assert_eq(sb_worker_start(db, &t, 1, &o, &w, &err), 0, "%s", err.message);
    deadline = now_ms() + 60000;
    while (sql_int(db, "SELECT count(*) FROM work_items WHERE done") != 50 && now_ms() < deadline)
        sleep_ms(20);
    sb_worker_stop(w);
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM work_items WHERE done"), 50);
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM worker_tasks WHERE last_runner = 'survivor' "
                             "AND last_outcome = 'succeeded'"),
                 1);
}

/* ---- `sbridge worker` processes ------------------------------------------- */

/* The worker role's whole task table (what `sbridge worker` runs) from a
 * binary linked with the worker library alone: the request sweeps come
 * from service/, not api/ (worker_links checks the symbols). Each task
 * runs at start and leaves its row. */
Test(worker_scheduler, the_worker_roles_task_table_runs_without_the_api)
{
    sb_settings s = {0};
    sb_worker *w = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_worker_tasks_start(&s, SB_WORKER_MODE_DEV, db, NULL, NULL, NULL, &w, &err), 0,
                 "%s", err.message);
    cr_assert_not_null(w);
    int64_t deadline = now_ms() + 30000;
    while (sql_int(db, "SELECT count(*) FROM worker_tasks WHERE runs >= 1 AND "
                       "last_outcome = 'succeeded'") < 7 &&
           now_ms() < deadline)
        sleep_ms(50);
    sb_worker_stop(w);
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM worker_tasks WHERE runs >= 1 AND "
                             "last_outcome = 'succeeded' AND name IN ('expire_requests', "
                             "'recover_leases', 'expire_reveal_sessions', 'expire_wraps', "
                             "'mark_stale_agents', 'schedule_discovery', 'mark_catalog_missing')"),
                 7);
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + 1, needle))
        n++;
    return n;
}

static pid_t start_worker_process(const char *config, const char *log)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        FILE *f = freopen(log, "a", stderr);
        (void)f;
        execl(SB_BIN, SB_BIN, "worker", "--config", config, (char *)NULL);
        _exit(127);
    }
    return pid;
}

Test(worker_scheduler, two_worker_processes_run_each_task_once_per_interval)
{
    char app[1100], config[256], log[300];
    cr_assert_eq(sb_pg_harness_as_app(conninfo, app, sizeof app), 0);
    /* as a server would: migrations by the owner grant the server's role its rights */
    sb_database_options dbo = {.url = app, .migration_url = conninfo, .pool_size = 2,
                               .connect_timeout_ms = 5000, .migrate = 1, .check_role = 1};
    sb_database *granted;
    sb_error err = {0};
    cr_assert_eq(sb_database_open(&dbo, &granted, NULL, &err), 0, "%s", err.message);
    sb_database_close(granted);
    snprintf(config, sizeof config, "%s/worker-%ld.yaml", "/tmp", (long)getpid());
    snprintf(log, sizeof log, "%s.log", config);
    FILE *f = fopen(config, "w");
    cr_assert_not_null(f);
    /* the server's master key: the workers seal the audit chain with it */
    setenv("SB_TEST_MASTER_KEY",
           "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
    fprintf(f, "role: server\nlog:\n  level: info\ndatabase:\n  url: \"%s\"\n  pool_size: 4\n"
               "keys:\n  master_key: ${env:SB_TEST_MASTER_KEY}\n"
               "worker:\n  listen: 127.0.0.1:0\n  expire_requests: 1s\n  recover_leases: 1s\n  expire_reveal_sessions: 1s\n"
               "  expire_wraps: 1s\n  mark_stale_agents: 1s\n  schedule_discovery: 1s\n"
               "  mark_catalog_missing: 1s\n",
            app);
    fclose(f);
    int64_t started = now_ms();
    pid_t a = start_worker_process(config, log), b = start_worker_process(config, log);
    int64_t deadline = now_ms() + 60000;
    while (sql_int(db, "SELECT count(*) FROM worker_tasks WHERE runs >= 3") < 8 &&
           now_ms() < deadline)
        sleep_ms(50);
    /* each process serves its own metrics: the runs it made, by task and
     * outcome. Either worker may have made every run of a task (the other
     * found the lock taken), so both are read. */
    char cmd[700], metrics[131072] = "";
    snprintf(cmd, sizeof cmd,
             "for port in $(sed -n 's/.*health endpoint on http:\\/\\/127.0.0.1:\\([0-9]*\\).*/\\1/p' "
             "%s | sort -u); do curl -sf http://127.0.0.1:$port/metrics && curl -sf "
             "http://127.0.0.1:$port/readyz || exit 1; done",
             log);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t got = fread(metrics, 1, sizeof metrics - 1, p);
    metrics[got] = '\0';
    int scraped = pclose(p);
    /* stop both before asserting, so a failure never leaves them running */
    kill(a, SIGTERM);
    kill(b, SIGTERM);
    int sa, sb;
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    cr_assert_eq(scraped, 0, "no /metrics or /readyz from a worker (see %s):\n%s", log, metrics);
    cr_assert_eq(count_of(metrics, "{\"status\":\"ready\"}"), 2, "both workers answer: %s", metrics);
    cr_assert(strstr(metrics, "sb_worker_task_runs_total{task=\"mark_stale_agents\","
                              "outcome=\"succeeded\"}"),
              "%s", metrics);
    cr_assert(strstr(metrics, "sb_worker_task_duration_seconds_bucket{task=\"expire_requests\""),
              "%s", metrics);
    int64_t elapsed = now_ms() - started;
    cr_assert(WIFEXITED(sa) && WEXITSTATUS(sa) == 0, "worker a: status %d (see %s)", sa, log);
    cr_assert(WIFEXITED(sb) && WEXITSTATUS(sb) == 0, "worker b: status %d (see %s)", sb, log);
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM worker_tasks"), 8, "7 sweeps and seal_audit");
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM worker_tasks WHERE runs >= 3 AND "
                             "last_outcome = 'succeeded' AND last_runner LIKE 'pid %'"),
                 8, "see %s", log);
    cr_assert_eq(sql_int(db, "SELECT count(*) FROM worker_tasks WHERE name = 'seal_audit'"), 1);
    long long most = sql_int(db, "SELECT max(runs) FROM worker_tasks");
    cr_assert_leq(most, elapsed / 1000 + 1, "%lld runs of one task in %lld ms by two workers", most,
                  (long long)elapsed);
    unlink(config);
    unlink(log);
}
