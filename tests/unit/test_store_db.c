/* test_store_db.c — the connection pool against a real PostgreSQL: SQLSTATE
 * mapping (without leaking row values), transactions and their retry,
 * pool reuse, exhaustion and reconnection after pg_terminate_backend,
 * advisory locks, and connection strings that never show a password. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_harness.h"
#include "store/db.h"

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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setup(void)
{
    cr_assert_eq(sb_pg_harness_fresh_database(conninfo, sizeof conninfo), 0,
                 "no test database (see stderr)");
    sb_error err = {0};
    cr_assert_eq(sb_db_open(conninfo, 4, 5000, &db, &err), 0, "%s", err.message);
}
static void teardown(void) { sb_db_close(db); }
TestSuite(store_db, .init = setup, .fini = teardown, .timeout = 60);

/* Runs a fixture script on a pooled connection. */
static void script(const char *sql)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_exec_script(c, sql, &err), 0, "%s", err.message);
    sb_db_release(db, c);
}

static long backend_pid(sb_db_conn *c)
{
    PGresult *res;
    sb_error err = {0};
    cr_assert_eq(sb_db_exec(c, "SELECT pg_backend_pid()", 0, NULL, &res, &err), 0, "%s", err.message);
    long pid = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return pid;
}

/* ---- SQLSTATE mapping ------------------------------------------------------ */

static const char *fixture =
    "CREATE TABLE parent (id int PRIMARY KEY);"
    "CREATE TABLE item (id int PRIMARY KEY, qty int NOT NULL CHECK (qty > 0),"
    "                   parent int REFERENCES parent (id), note text);"
    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION 'frozen rows are read-only' USING HINT = 'rows_frozen'; END $$;"
    "CREATE TABLE frozen (id int);"
    "CREATE TRIGGER frozen_no_insert BEFORE INSERT ON frozen FOR EACH ROW EXECUTE FUNCTION refuse();"
    "INSERT INTO parent VALUES (1);"
    "INSERT INTO item VALUES (1, 5, 1, 'canary-7f3a9');";

#define INSERT_ITEM "INSERT INTO item (id, qty, parent, note) VALUES ($1, $2, $3, $4)"

static void expect_insert_fails(const char *id, const char *qty, const char *parent, int code,
                                const char *sqlstate, const char *constraint)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    const char *const params[] = {id, qty, parent, "canary-b44e1"};
    cr_assert_eq(sb_db_exec(c, INSERT_ITEM, 4, params, NULL, &err), -1);
    cr_expect_eq(err.code, code, "code %d for %s: %s", err.code, sqlstate, err.message);
    cr_expect_str_eq(sb_db_last_error(c)->sqlstate, sqlstate);
    cr_expect_str_eq(sb_db_last_error(c)->constraint_name, constraint);
    cr_expect_str_eq(sb_db_last_error(c)->table_name, "item");
    cr_expect_not_null(strstr(err.message, sqlstate), "%s", err.message);
    /* PostgreSQL's DETAIL echoes row values ("Key (id)=(1)", "Failing row
     * contains ..."): messages must never carry them. */
    cr_expect_null(strstr(err.message, "canary"), "%s", err.message);
    cr_expect_null(strstr(err.message, "Failing row"), "%s", err.message);
    cr_expect_null(strstr(err.message, "=("), "%s", err.message);
    sb_db_release(db, c);
}

Test(store_db, constraint_violations_map_to_codes)
{
    script(fixture);
    expect_insert_fails("1", "5", "1", SB_DB_E_CONFLICT, "23505", "item_pkey");
    expect_insert_fails("2", "0", "1", SB_DB_E_CHECK, "23514", "item_qty_check");
    expect_insert_fails("2", NULL, "1", SB_DB_E_CHECK, "23502", "");
    expect_insert_fails("2", "5", "99", SB_DB_E_FK, "23503", "item_parent_fkey");
}

Test(store_db, trigger_raise_maps_to_refused_with_hint)
{
    script(fixture);
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO frozen VALUES (1)", 0, NULL, NULL, &err), -1);
    cr_expect_eq(err.code, SB_DB_E_REFUSED, "%s", err.message);
    cr_expect_str_eq(sb_db_last_error(c)->sqlstate, "P0001");
    cr_expect_str_eq(sb_db_last_error(c)->hint, "rows_frozen");
    cr_expect_not_null(strstr(err.message, "frozen rows are read-only"), "%s", err.message);
    sb_db_release(db, c);
}

Test(store_db, other_sqlstates)
{
    static const struct {
        const char *sql;
        int code;
        const char *state;
    } cases[] = {
        {"SELEC 1", SB_DB_E_QUERY, "42601"},
        {"SELECT * FROM no_such_table", SB_DB_E_QUERY, "42P01"},
        {"DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'serialization_failure'; END $$",
         SB_DB_E_RETRY, "40001"},
        {"DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'deadlock_detected'; END $$", SB_DB_E_RETRY,
         "40P01"},
        {"DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'lock_not_available'; END $$",
         SB_DB_E_TIMEOUT, "55P03"},
        {"DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'exclusion_violation'; END $$",
         SB_DB_E_CONFLICT, "23P01"},
        {"SET statement_timeout = 50; SELECT pg_sleep(2)", SB_DB_E_TIMEOUT, "57014"},
    };
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = strchr(cases[i].sql, ';') ? sb_db_exec_script(c, cases[i].sql, &err)
                                           : sb_db_exec(c, cases[i].sql, 0, NULL, NULL, &err);
        cr_expect_eq(rc, -1, "%s", cases[i].sql);
        cr_expect_eq(err.code, cases[i].code, "%s -> %d: %s", cases[i].sql, err.code, err.message);
        cr_expect_str_eq(sb_db_last_error(c)->sqlstate, cases[i].state, "%s", cases[i].sql);
    }
    sb_db_release(db, c);
}

Test(store_db, parameters_are_never_sql)
{
    script(fixture);
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    const char *const params[] = {"7", "3", NULL, "x'); DROP TABLE item; --"};
    PGresult *res;
    cr_assert_eq(sb_db_exec(c, INSERT_ITEM " RETURNING note, parent IS NULL", 4, params, &res, &err), 0,
                 "%s", err.message);
    cr_expect_str_eq(PQgetvalue(res, 0, 0), params[3]);
    cr_expect_str_eq(PQgetvalue(res, 0, 1), "t", "a NULL parameter is SQL NULL");
    cr_expect_eq(sb_db_affected(res), 1);
    PQclear(res);
    cr_assert_eq(sb_db_exec(c, "SELECT count(*) FROM item", 0, NULL, &res, &err), 0);
    cr_expect_str_eq(PQgetvalue(res, 0, 0), "2");
    PQclear(res);
    sb_db_release(db, c);
}

/* ---- transactions ---------------------------------------------------------- */

typedef struct bump_ctx {
    int attempts;
    int interfere_until; /* attempts on which another session commits a conflicting update */
} bump_ctx;

/* Under REPEATABLE READ: read (taking the snapshot), let another session
 * update the row and commit, then update it ourselves -> 40001. */
static int bump(sb_db_conn *c, void *arg, sb_error *err)
{
    bump_ctx *ctx = arg;
    ctx->attempts++;
    PGresult *res;
    if (sb_db_exec(c, "SELECT n FROM counter WHERE id = 1", 0, NULL, &res, err) != 0)
        return -1;
    PQclear(res);
    if (ctx->attempts <= ctx->interfere_until) {
        sb_db_conn *other;
        sb_error e2 = {0};
        cr_assert_eq(sb_db_acquire(db, -1, &other, &e2), 0, "%s", e2.message);
        cr_assert_eq(sb_db_exec(other, "UPDATE counter SET n = n + 100 WHERE id = 1", 0, NULL, NULL, &e2),
                     0, "%s", e2.message);
        sb_db_release(db, other);
    }
    if (sb_db_exec(c, "UPDATE counter SET n = n + 1 WHERE id = 1", 0, NULL, NULL, err) != 0)
        return -1;
    return 42;
}

static long counter_value(void)
{
    sb_db_conn *c;
    sb_error err = {0};
    PGresult *res;
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "SELECT n FROM counter WHERE id = 1", 0, NULL, &res, &err), 0);
    long n = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    sb_db_release(db, c);
    return n;
}

Test(store_db, transaction_retries_serialization_failures)
{
    script("CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0);");
    bump_ctx ctx = {0, 2};
    sb_error err = {0};
    int rc = sb_db_transaction_isolated(db, SB_DB_REPEATABLE_READ, bump, &ctx, &err);
    cr_assert_eq(rc, 42, "the function's result is returned: %s", err.message);
    cr_expect_eq(ctx.attempts, 3, "two serialization failures, then success");
    cr_expect_eq(counter_value(), 201, "both interfering updates and exactly one of ours");
}

Test(store_db, transaction_gives_up_after_the_retry_limit)
{
    script("CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0);");
    bump_ctx ctx = {0, 1000};
    sb_error err = {0};
    cr_assert_eq(sb_db_transaction_isolated(db, SB_DB_REPEATABLE_READ, bump, &ctx, &err), -1);
    cr_expect_eq(err.code, SB_DB_E_RETRY, "%s", err.message);
    cr_expect_eq(ctx.attempts, SB_DB_TRANSACTION_RETRIES + 1);
    cr_expect_eq(counter_value(), 100 * (SB_DB_TRANSACTION_RETRIES + 1), "none of ours committed");
}

static int insert_then_fail(sb_db_conn *c, void *arg, sb_error *err)
{
    int *attempts = arg;
    ++*attempts;
    if (sb_db_exec(c, "INSERT INTO counter VALUES (2, 2)", 0, NULL, NULL, err) != 0)
        return -1;
    return sb_db_exec(c, "INSERT INTO counter VALUES (1, 1)", 0, NULL, NULL, err); /* conflict */
}

Test(store_db, transaction_rolls_back_other_failures_without_retry)
{
    script("CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0);");
    int attempts = 0;
    sb_error err = {0};
    cr_assert_eq(sb_db_transaction(db, insert_then_fail, &attempts, &err), -1);
    cr_expect_eq(err.code, SB_DB_E_CONFLICT, "%s", err.message);
    cr_expect_eq(attempts, 1);
    sb_db_conn *c;
    PGresult *res;
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "SELECT count(*) FROM counter", 0, NULL, &res, &err), 0);
    cr_expect_str_eq(PQgetvalue(res, 0, 0), "1", "the first insert was rolled back");
    PQclear(res);
    sb_db_release(db, c);
}

Test(store_db, commit_after_a_failed_statement_is_refused)
{
    script("CREATE TABLE t (id int PRIMARY KEY)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (1)", 0, NULL, NULL, &err), 0);
    cr_assert_eq(sb_db_exec(c, "SELECT 1/0", 0, NULL, NULL, &err), -1);
    cr_expect_eq(sb_db_commit(c, &err), -1, "COMMIT would silently roll back");
    cr_expect_not_null(strstr(err.message, "rolled back"), "%s", err.message);
    cr_expect_eq(sb_db_begin(c, &err), 0, "the connection is usable again");
    sb_db_rollback(c);
    sb_db_release(db, c);
}

Test(store_db, release_inside_a_transaction_rolls_back)
{
    script("CREATE TABLE t (id int PRIMARY KEY)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (1)", 0, NULL, NULL, &err), 0);
    sb_db_release(db, c); /* forgot to commit: a bug the pool contains */
    PGresult *res;
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "SELECT count(*) FROM t", 0, NULL, &res, &err), 0, "%s", err.message);
    cr_expect_str_eq(PQgetvalue(res, 0, 0), "0");
    PQclear(res);
    sb_db_release(db, c);
}

/* ---- pool ------------------------------------------------------------------ */

Test(store_db, pool_reuses_one_connection_when_used_serially)
{
    sb_db_conn *c;
    sb_error err = {0};
    long first = -1;
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "%s", err.message);
        long pid = backend_pid(c);
        if (first < 0)
            first = pid;
        cr_expect_eq(pid, first, "same backend every time");
        sb_db_release(db, c);
    }
    cr_expect_eq(sb_db_open_connections(db), 1);
}

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 40; i++) {
        sb_db_conn *c;
        sb_error err = {0};
        if (sb_db_acquire(db, 10000, &c, &err) != 0)
            return "acquire failed";
        PGresult *res;
        const char *const p[] = {"21"};
        int rc = sb_db_exec(c, "SELECT $1::int * 2", 1, p, &res, &err);
        int ok = rc == 0 && strcmp(PQgetvalue(res, 0, 0), "42") == 0;
        PQclear(res);
        sb_db_release(db, c);
        if (!ok)
            return "wrong result";
    }
    return NULL;
}

Test(store_db, pool_is_thread_safe_and_bounded)
{
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < 8; i++) {
        void *res;
        pthread_join(t[i], &res);
        cr_expect_null(res, "thread %d: %s", i, (const char *)res);
    }
    cr_expect_leq(sb_db_open_connections(db), 4);
}

Test(store_db, acquire_times_out_when_the_pool_is_exhausted)
{
    sb_db *small;
    sb_error err = {0};
    cr_assert_eq(sb_db_open(conninfo, 1, 5000, &small, &err), 0, "%s", err.message);
    sb_db_conn *held, *c;
    cr_assert_eq(sb_db_acquire(small, -1, &held, &err), 0);
    int64_t t0 = now_ms();
    cr_assert_eq(sb_db_acquire(small, 150, &c, &err), -1);
    int64_t waited = now_ms() - t0;
    cr_expect_eq(err.code, SB_DB_E_TIMEOUT);
    cr_expect_not_null(strstr(err.message, "database.pool_size"), "%s", err.message);
    cr_expect(waited >= 140 && waited < 3000, "waited %lld ms", (long long)waited);
    sb_db_release(small, held);
    cr_expect_eq(sb_db_acquire(small, 150, &c, &err), 0, "free again after release");
    sb_db_release(small, c);
    sb_db_close(small);
}

static void terminate(long pid)
{
    sb_db *admin;
    sb_error err = {0};
    cr_assert_eq(sb_db_open(conninfo, 1, 5000, &admin, &err), 0, "%s", err.message);
    sb_db_conn *c;
    cr_assert_eq(sb_db_acquire(admin, -1, &c, &err), 0);
    char p[24];
    snprintf(p, sizeof p, "%ld", pid);
    const char *const params[] = {p};
    PGresult *res;
    /* With a timeout, pg_terminate_backend waits until the backend is gone. */
    cr_assert_eq(sb_db_exec(c, "SELECT pg_terminate_backend($1::int, 5000)", 1, params, &res, &err), 0,
                 "%s", err.message);
    cr_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    sb_db_release(admin, c);
    sb_db_close(admin);
}

Test(store_db, idle_connection_killed_by_the_server_is_replaced_on_acquire)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    long before = backend_pid(c);
    sb_db_release(db, c);
    terminate(before);
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "reconnected transparently: %s", err.message);
    long after = backend_pid(c);
    cr_expect_neq(after, before);
    sb_db_release(db, c);
    cr_expect_eq(sb_db_open_connections(db), 1, "the slot was reset, not leaked");
}

Test(store_db, connection_killed_while_in_use_fails_then_recovers)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    long before = backend_pid(c);
    terminate(before);
    cr_assert_eq(sb_db_exec(c, "SELECT 1", 0, NULL, NULL, &err), -1);
    cr_expect_eq(err.code, SB_DB_E_UNAVAILABLE, "%s", err.message);
    sb_db_release(db, c);
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "%s", err.message);
    cr_expect_neq(backend_pid(c), before);
    sb_db_release(db, c);
}

/* ---- prepared statements --------------------------------------------------- */

/* How many statements this session has prepared (pg_prepared_statements). */
static long prepared_count(sb_db_conn *c)
{
    PGresult *res;
    sb_error err = {0};
    cr_assert_eq(sb_db_exec_script(c, "SELECT 1", &err), 0); /* unprepared, not counted */
    PGconn *pg = sb_db_pgconn(c);
    res = PQexec(pg, "SELECT count(*) FROM pg_prepared_statements");
    long n = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

Test(store_db, statements_are_prepared_on_second_use_and_survive_rollbacks)
{
    sb_db_conn *c;
    sb_error err = {0};
    const char *sql = "SELECT $1::int + 1";
    const char *p[] = {"41"};
    PGresult *res;
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    long base = prepared_count(c);
    cr_assert_eq(sb_db_exec(c, sql, 1, p, &res, &err), 0, "%s", err.message);
    PQclear(res);
    cr_assert_eq(prepared_count(c), base, "seen once: run unprepared");
    /* prepared inside a transaction that rolls back: still there after */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, sql, 1, p, &res, &err), 0, "%s", err.message);
    cr_assert_str_eq(PQgetvalue(res, 0, 0), "42");
    PQclear(res);
    sb_db_rollback(c);
    cr_assert_eq(prepared_count(c), base + 1, "prepared on the second use");
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sb_db_exec(c, sql, 1, p, &res, &err), 0, "%s", err.message);
        cr_assert_str_eq(PQgetvalue(res, 0, 0), "42");
        PQclear(res);
    }
    cr_assert_eq(prepared_count(c), base + 1, "prepared once");
    /* a statement that cannot be prepared fails like any failing statement */
    const char *bad = "SELECT no_such_column FROM pg_class WHERE oid = $1::oid";
    const char *q[] = {"1"};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(sb_db_exec(c, bad, 1, q, NULL, &err), -1);
        cr_assert(strstr(err.message, "no_such_column") != NULL, "%s", err.message);
        cr_assert_eq(err.code, SB_DB_E_QUERY);
    }
    sb_db_release(db, c);
}

Test(store_db, a_reconnected_session_prepares_again)
{
    sb_db_conn *c;
    sb_error err = {0};
    const char *sql = "SELECT $1::text || '!'";
    const char *p[] = {"hi"};
    PGresult *res;
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(sb_db_exec(c, sql, 1, p, &res, &err), 0, "%s", err.message);
        PQclear(res);
    }
    long pid = backend_pid(c);
    sb_db_release(db, c);
    terminate(pid);
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "%s", err.message);
    cr_assert_neq(backend_pid(c), pid);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sb_db_exec(c, sql, 1, p, &res, &err), 0,
                     "the new session must not use the old session's names: %s", err.message);
        cr_assert_str_eq(PQgetvalue(res, 0, 0), "hi!");
        PQclear(res);
    }
    sb_db_release(db, c);
}

/* ---- deferred BEGIN ----------------------------------------------------------- */

/* What this process sent on c while fn ran (libpq's protocol trace, one
 * message a line): how many of the lines name one of the messages in
 * `what` ("\tSync", "\tBind\t"...). */
static int sent_during(sb_db_conn *c, void (*fn)(sb_db_conn *c), const char *const *what,
                       size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *trace = open_memstream(&buf, &len);
    cr_assert_not_null(trace);
    PQtrace(sb_db_pgconn(c), trace);
    fn(c);
    PQuntrace(sb_db_pgconn(c));
    fclose(trace);
    int count = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        int match = 0;
        for (size_t i = 0; i < n; i++)
            match |= strstr(line, what[i]) != NULL;
        count += strstr(line, "\tF\t") != NULL && match;
    }
    free(buf);
    return count;
}

/* Round trips: the Sync, Flush and simple Query messages; each waits for
 * its answer. */
static int round_trips_during(sb_db_conn *c, void (*fn)(sb_db_conn *c))
{
    static const char *const waits[] = {"\tSync", "\tQuery", "\tFlush"};
    return sent_during(c, fn, waits, 3);
}

/* Statements: one Bind message each. */
static int statements_during(sb_db_conn *c, void (*fn)(sb_db_conn *c))
{
    static const char *const bind[] = {"\tBind\t"};
    return sent_during(c, fn, bind, 1);
}

static void one_insert_transaction(sb_db_conn *c)
{
    sb_error err = {0};
    cr_assert_eq(sb_db_begin(c, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (7)", 0, NULL, NULL, &err), 0, "%s",
                 err.message);
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
}

static void empty_transaction(sb_db_conn *c)
{
    sb_error err = {0};
    cr_assert_eq(sb_db_begin(c, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
}

Test(store_db, begin_travels_with_the_first_statement_and_an_empty_transaction_sends_nothing)
{
    script("CREATE TABLE t (id int PRIMARY KEY)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    /* BEGIN + INSERT in one round trip, then COMMIT: 2 (3 with BEGIN alone) */
    cr_assert_eq(round_trips_during(c, one_insert_transaction), 2);
    cr_assert_eq(round_trips_during(c, empty_transaction), 0);
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_begin(c, &err), -1, "a deferred BEGIN still refuses to nest");
    cr_assert_eq(err.code, SB_DB_E_INVALID);
    sb_db_rollback(c);
    PGresult *res;
    cr_assert_eq(sb_db_exec(c, "SELECT count(*) FROM t WHERE id = 7", 0, NULL, &res, &err), 0);
    cr_assert_str_eq(PQgetvalue(res, 0, 0), "1", "the pipelined transaction committed");
    PQclear(res);
    sb_db_release(db, c);
}

Test(store_db, a_failing_first_statement_fails_its_transaction_however_it_is_sent)
{
    script("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    const char *dup = "INSERT INTO t VALUES ($1::int)";
    const char *one[] = {"1"}, *two[] = {"2"};
    /* unprepared (first sight), prepared with the BEGIN, then by name */
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sb_db_begin(c, &err), 0);
        cr_assert_eq(sb_db_exec(c, dup, 1, one, NULL, &err), -1, "round %d", i);
        cr_assert_eq(err.code, SB_DB_E_CONFLICT, "round %d: %s", i, err.message);
        cr_assert_eq(sb_db_exec(c, dup, 1, two, NULL, &err), -1, "the transaction is aborted");
        cr_assert_eq(sb_db_commit(c, &err), -1, "COMMIT would silently roll back");
    }
    /* the connection is clean: a new transaction works */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, dup, 1, two, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
    sb_db_release(db, c);
}

Test(store_db, a_connection_killed_under_a_deferred_begin_fails_then_recovers)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    long before = backend_pid(c);
    terminate(before);
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "SELECT 1", 0, NULL, NULL, &err), -1);
    cr_expect_eq(err.code, SB_DB_E_UNAVAILABLE, "%s", err.message);
    sb_db_rollback(c);
    sb_db_release(db, c);
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "%s", err.message);
    cr_expect_neq(backend_pid(c), before);
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "SELECT 1", 0, NULL, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
    sb_db_release(db, c);
}

/* ---- deferred writes ------------------------------------------------------------ */

static long count_rows(const char *sql)
{
    sb_db_conn *o;
    sb_error err = {0};
    PGresult *res;
    cr_assert_eq(sb_db_acquire(db, -1, &o, &err), 0);
    cr_assert_eq(sb_db_exec(o, sql, 0, NULL, &res, &err), 0, "%s", err.message);
    long n = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    sb_db_release(db, o);
    return n;
}

static void deferred_then_read(sb_db_conn *c)
{
    sb_error err = {0};
    char v[2][8];
    cr_assert_eq(sb_db_begin(c, &err), 0);
    for (int i = 0; i < 2; i++) {
        snprintf(v[i], sizeof v[i], "%d", 10 + i);
        const char *p[] = {v[i]};
        cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO t VALUES ($1::int)", 1, p, &err), 0);
    } /* the parameters were copied: v may change now */
    memset(v, 0, sizeof v);
    PGresult *res;
    cr_assert_eq(sb_db_exec(c, "SELECT count(*) FROM t WHERE id IN (10, 11)", 0, NULL, &res, &err),
                 0, "%s", err.message);
    cr_assert_str_eq(PQgetvalue(res, 0, 0), "0", "the deferred writes wait for the commit");
    PQclear(res);
    const char *p[] = {"12"};
    cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO t VALUES ($1::int)", 1, p, &err), 0);
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
}

Test(store_db, deferred_writes_wait_for_the_commit_and_go_in_its_round_trip)
{
    script("CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE o (n serial, v int)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    /* the SELECT, then the 3 writes with the commit: two round trips */
    cr_assert_eq(round_trips_during(c, deferred_then_read), 2);
    cr_assert_eq(count_rows("SELECT count(*) FROM t"), 3, "the writes committed");
    /* outside a transaction a deferred write runs at once */
    const char *p[] = {"20"};
    cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO t VALUES ($1::int)", 1, p, &err), 0);
    cr_assert_eq(count_rows("SELECT count(*) FROM t WHERE id = 20"), 1);
    /* more than the queue holds: all of them, in the order deferred */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    char v[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(v[i], sizeof v[i], "%d", 100 + i);
        const char *q[] = {v[i]};
        cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO o (v) VALUES ($1::int)", 1, q, &err), 0,
                     "%s", err.message);
    }
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
    cr_assert_eq(count_rows("SELECT count(*) FROM o"), 40);
    cr_assert_eq(count_rows("SELECT count(*) FROM (SELECT v, row_number() OVER (ORDER BY n) AS k"
                            " FROM o) x WHERE x.v <> 99 + x.k"),
                 0, "written in the order deferred");
    sb_db_release(db, c);
}

#define ROWS_INSERT                                                                                \
    "INSERT INTO o (v) SELECT (r->>'v')::int FROM jsonb_array_elements($1::jsonb) AS e(r)"

/* Deferred rows of one statement, another write, one more row. */
static void deferred_rows(sb_db_conn *c)
{
    sb_error err = {0};
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec_deferred_rows(c, ROWS_INSERT, "[{\"v\":1}]", &err), 0, "%s",
                 err.message);
    cr_assert_eq(sb_db_exec_deferred_rows(c, ROWS_INSERT, "[{\"v\":2},{\"v\":3}]", &err), 0);
    const char *p[] = {"4"};
    cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO o (v) VALUES ($1::int)", 1, p, &err), 0);
    cr_assert_eq(sb_db_exec_deferred_rows(c, ROWS_INSERT, "[{\"v\":5}]", &err), 0);
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
}


Test(store_db, deferred_rows_of_one_statement_one_after_the_other_are_one_statement)
{
    script("CREATE TABLE o (n serial, v int)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    /* [1] + [2, 3] joined; 4 on its own; [5] after it: three statements */
    cr_assert_eq(statements_during(c, deferred_rows), 3);
    cr_assert_eq(count_rows("SELECT count(*) FROM o"), 5);
    cr_assert_eq(count_rows("SELECT count(*) FROM o WHERE v <> n"), 0, "in the order deferred");
    /* outside a transaction: at once */
    cr_assert_eq(sb_db_exec_deferred_rows(c, ROWS_INSERT, "[{\"v\":6}]", &err), 0, "%s",
                 err.message);
    cr_assert_eq(count_rows("SELECT count(*) FROM o WHERE v = 6"), 1);
    /* not a non-empty array: refused, nothing queued */
    const char *bad[] = {"[]", "{\"v\":7}", "", "[", NULL};
    cr_assert_eq(sb_db_begin(c, &err), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(sb_db_exec_deferred_rows(c, ROWS_INSERT, bad[i], &err), -1, "%zu", i);
        cr_assert_eq(err.code, SB_DB_E_INVALID);
    }
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
    cr_assert_eq(count_rows("SELECT count(*) FROM o"), 6);
    sb_db_release(db, c);
}

Test(store_db, a_failing_deferred_write_fails_the_commit_naming_the_write)
{
    script("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    const char *one[] = {"1"}, *two[] = {"2"};
    /* reported by the commit, naming the write: nothing of the transaction stays */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES ($1::int)", 1, two, NULL, &err), 0);
    cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO t VALUES ($1::int)", 1, one, &err), 0);
    cr_assert_eq(sb_db_exec(c, "SELECT 1", 0, NULL, NULL, &err), 0, "not sent yet: %s",
                 err.message);
    cr_assert_eq(sb_db_commit(c, &err), -1, "the commit carried a failing write");
    cr_assert_eq(err.code, SB_DB_E_CONFLICT, "%s", err.message);
    cr_assert(strstr(err.message, "INSERT INTO t") != NULL, "%s", err.message);
    cr_assert_eq(count_rows("SELECT count(*) FROM t WHERE id = 2"), 0, "rolled back");
    /* the same in a transaction that ended up explicit (raw use) */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO t VALUES ($1::int)", 1, two, &err), 0);
    cr_assert_eq(sb_db_exec_script(c, "SELECT 1", &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO t VALUES ($1::int)", 1, one, &err), 0);
    cr_assert_eq(sb_db_commit(c, &err), -1);
    cr_assert_eq(err.code, SB_DB_E_CONFLICT, "%s", err.message);
    cr_assert_eq(count_rows("SELECT count(*) FROM t WHERE id = 2"), 0, "rolled back");
    /* a rollback drops what was deferred */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO t VALUES ($1::int)", 1, two, &err), 0);
    sb_db_rollback(c);
    cr_assert_eq(count_rows("SELECT count(*) FROM t WHERE id = 2"), 0);
    /* and the connection is clean */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO t VALUES ($1::int)", 1, two, &err), 0);
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
    cr_assert_eq(count_rows("SELECT count(*) FROM t WHERE id = 2"), 1);
    sb_db_release(db, c);
}

/* ---- advisory locks -------------------------------------------------------- */

Test(store_db, advisory_locks_exclude_other_sessions)
{
    int64_t key = sb_db_advisory_key("worker.expire_wraps");
    cr_expect_eq(key, sb_db_advisory_key("worker.expire_wraps"), "stable");
    cr_expect_neq(key, sb_db_advisory_key("worker.expire_requests"));
    sb_db_conn *a, *b;
    sb_error err = {0};
    int got;
    cr_assert_eq(sb_db_acquire(db, -1, &a, &err), 0);
    cr_assert_eq(sb_db_acquire(db, -1, &b, &err), 0);
    cr_assert_eq(sb_db_advisory_lock(a, key, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_advisory_try_lock(b, key, &got, &err), 0);
    cr_expect_eq(got, 0, "held by a");
    cr_assert_eq(sb_db_advisory_unlock(a, key, &err), 0);
    cr_expect_eq(sb_db_advisory_unlock(a, key, &err), -1, "not held any more");
    cr_assert_eq(sb_db_advisory_try_lock(b, key, &got, &err), 0);
    cr_expect_eq(got, 1);
    /* Released with the lock held: the pool drops the lock. */
    sb_db_release(db, b);
    cr_assert_eq(sb_db_advisory_try_lock(a, key, &got, &err), 0);
    cr_expect_eq(got, 1, "the pool released b's lock");
    cr_assert_eq(sb_db_advisory_unlock(a, key, &err), 0);

    cr_expect_eq(sb_db_advisory_try_lock_xact(a, key, &got, &err), -1, "needs a transaction");
    cr_expect_eq(err.code, SB_DB_E_INVALID);
    cr_assert_eq(sb_db_begin(a, &err), 0);
    cr_assert_eq(sb_db_advisory_try_lock_xact(a, key, &got, &err), 0, "%s", err.message);
    cr_expect_eq(got, 1);
    cr_assert_eq(sb_db_acquire(db, -1, &b, &err), 0);
    cr_assert_eq(sb_db_advisory_try_lock_xact(b, key, &got, &err), -1);
    cr_assert_eq(sb_db_begin(b, &err), 0);
    cr_assert_eq(sb_db_advisory_try_lock_xact(b, key, &got, &err), 0);
    cr_expect_eq(got, 0, "held by a's transaction");
    cr_assert_eq(sb_db_commit(a, &err), 0);
    cr_assert_eq(sb_db_advisory_try_lock_xact(b, key, &got, &err), 0);
    cr_expect_eq(got, 1, "released at a's commit");
    cr_assert_eq(sb_db_commit(b, &err), 0);
    sb_db_release(db, a);
    sb_db_release(db, b);
}

/* ---- connection strings ---------------------------------------------------- */

Test(store_db, connection_strings_never_show_a_password)
{
    char out[256];
    sb_db_describe_conninfo("postgresql://app:hunter2@db.example:6432/bridge?sslmode=require", out,
                            sizeof out);
    cr_expect_str_eq(out, "host=db.example port=6432 dbname=bridge user=app");
    sb_db_describe_conninfo("host=/run/pg dbname=x user=y password='hunter2'", out, sizeof out);
    cr_expect_null(strstr(out, "hunter2"), "%s", out);

    /* libpq quotes the offending text in parse errors: mask it. */
    static const char *const bad[] = {
        "postgresql://u:hun%zzter2@h/db",
        "postgresql://u:hunter2@[::1/db",
        "host=x password='hunter2",
        "postgresql://u:hunter2@h/db?hunter2=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_db *d = NULL;
        sb_error err = {0};
        cr_expect_eq(sb_db_open(bad[i], 1, 1000, &d, &err), -1, "%s", bad[i]);
        cr_expect_eq(err.code, SB_DB_E_INVALID, "%s: %s", bad[i], err.message);
        cr_expect_null(strstr(err.message, "hunter2"), "%s", err.message);
        cr_expect_not_null(strstr(err.message, "not valid"), "%s", err.message);
    }
}

Test(store_db, unreachable_server_fails_at_open_with_a_clear_message)
{
    sb_db *d = NULL;
    sb_error err = {0};
    int64_t t0 = now_ms();
    cr_assert_eq(sb_db_open("host=/nonexistent-socket-dir user=u password=hunter2 dbname=d", 2, 2000,
                            &d, &err),
                 -1);
    cr_expect_eq(err.code, SB_DB_E_UNAVAILABLE);
    cr_expect_not_null(strstr(err.message, "host=/nonexistent-socket-dir"), "%s", err.message);
    cr_expect_null(strstr(err.message, "hunter2"), "%s", err.message);
    cr_expect_lt(now_ms() - t0, 2500);
    cr_expect_eq(sb_db_open(conninfo, 0, 1000, &d, &err), -1);
    cr_expect_not_null(strstr(err.message, "database.pool_size"), "%s", err.message);
}

/* ---- implicit transactions (no BEGIN, no COMMIT) ------------------------------ */


static void insert_and_read_transaction(sb_db_conn *c)
{
    sb_error err = {0};
    cr_assert_eq(sb_db_begin(c, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (7)", 0, NULL, NULL, &err), 0, "%s",
                 err.message);
    PGresult *res;
    cr_assert_eq(sb_db_exec(c, "SELECT count(*) FROM t", 0, NULL, &res, &err), 0, "%s",
                 err.message);
    cr_assert_str_eq(PQgetvalue(res, 0, 0), "1", "the transaction sees its own write");
    PQclear(res);
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
}

Test(store_db, a_read_committed_transaction_sends_neither_begin_nor_commit_and_is_one_transaction)
{
    script("CREATE TABLE t (id int PRIMARY KEY)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sent_during(c, insert_and_read_transaction, (const char *[]){"BEGIN"}, 1), 0);
    cr_assert_eq(count_rows("SELECT count(*) FROM t"), 1, "the Sync committed");
    script("DELETE FROM t");
    cr_assert_eq(sent_during(c, insert_and_read_transaction, (const char *[]){"COMMIT"}, 1), 0);
    /* another connection sees nothing before the Sync: it is one transaction */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (8)", 0, NULL, NULL, &err), 0, "%s",
                 err.message);
    cr_assert_eq(sb_db_in_transaction(c), 1);
    cr_assert_eq(count_rows("SELECT count(*) FROM t WHERE id = 8"), 0, "not committed yet");
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_in_transaction(c), 0);
    cr_assert_eq(count_rows("SELECT count(*) FROM t WHERE id = 8"), 1);
    /* a stricter level still says so */
    cr_assert_eq(sb_db_begin_isolated(c, SB_DB_REPEATABLE_READ, &err), 0);
    PGresult *res;
    cr_assert_eq(sb_db_exec(c, "SHOW transaction_isolation", 0, NULL, &res, &err), 0, "%s",
                 err.message);
    cr_assert_str_eq(PQgetvalue(res, 0, 0), "repeatable read");
    PQclear(res);
    cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
    sb_db_release(db, c);
}

Test(store_db, an_implicit_transaction_rolls_back_whole_with_or_without_a_failure)
{
    script("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    /* no failure: the caller changed its mind */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (2)", 0, NULL, NULL, &err), 0, "%s",
                 err.message);
    const char *p[] = {"3"};
    cr_assert_eq(sb_db_exec_deferred(c, "INSERT INTO t VALUES ($1::int)", 1, p, &err), 0);
    sb_db_rollback(c);
    cr_assert_eq(count_rows("SELECT count(*) FROM t"), 1, "neither 2 nor 3 stayed");
    /* a failure: later statements are refused, COMMIT rolls back */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (4)", 0, NULL, NULL, &err), 0, "%s",
                 err.message);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (1)", 0, NULL, NULL, &err), -1);
    cr_assert_eq(err.code, SB_DB_E_CONFLICT, "%s", err.message);
    cr_assert_eq(sb_db_exec(c, "SELECT 1", 0, NULL, NULL, &err), -1);
    cr_assert_not_null(strstr(err.message, "a statement had failed"), "%s", err.message);
    cr_assert_eq(sb_db_commit(c, &err), -1);
    cr_assert_eq(count_rows("SELECT count(*) FROM t"), 1, "4 was rolled back with it");
    /* the same connection goes on cleanly, and a release mid-way rolls back */
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (5)", 0, NULL, NULL, &err), 0, "%s",
                 err.message);
    sb_db_release(db, c);
    cr_assert_eq(count_rows("SELECT count(*) FROM t"), 1, "a release inside rolled back");
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (6)", 0, NULL, NULL, &err), 0, "%s",
                 err.message);
    sb_db_release(db, c);
    cr_assert_eq(count_rows("SELECT count(*) FROM t"), 2);
}

Test(store_db, a_failure_at_the_sync_that_commits_is_reported_and_rolls_back)
{
    script("CREATE TABLE d (id int, CONSTRAINT d_once UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_begin(c, &err), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO d VALUES (1)", 0, NULL, NULL, &err), 0, "%s",
                 err.message);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO d VALUES (1)", 0, NULL, NULL, &err), 0,
                 "checked only at commit: %s", err.message);
    cr_assert_eq(sb_db_commit(c, &err), -1, "the commit's own failure is not lost");
    cr_assert_eq(err.code, SB_DB_E_CONFLICT, "%s", err.message);
    cr_assert_not_null(strstr(err.message, "COMMIT"), "%s", err.message);
    cr_assert_eq(sb_db_in_transaction(c), 0);
    cr_assert_eq(count_rows("SELECT count(*) FROM d"), 0);
    cr_assert_eq(sb_db_exec(c, "INSERT INTO d VALUES (2)", 0, NULL, NULL, &err), 0, "%s",
                 err.message);
    sb_db_release(db, c);
}

Test(store_db, raw_use_inside_an_implicit_transaction_makes_it_a_block_with_what_ran_before)
{
    script("CREATE TABLE t (id int PRIMARY KEY)");
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    for (int commit = 0; commit < 2; commit++) {
        cr_assert_eq(sb_db_begin(c, &err), 0);
        cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (1)", 0, NULL, NULL, &err), 0, "%s",
                     err.message);
        cr_assert_eq(sb_db_exec_script(c, "SAVEPOINT s; INSERT INTO t VALUES (2); "
                                          "ROLLBACK TO SAVEPOINT s", &err),
                     0, "savepoints need a block: %s", err.message);
        cr_assert_eq(PQtransactionStatus(sb_db_pgconn(c)), PQTRANS_INTRANS);
        cr_assert_eq(sb_db_exec(c, "INSERT INTO t VALUES (3)", 0, NULL, NULL, &err), 0, "%s",
                     err.message);
        if (commit)
            cr_assert_eq(sb_db_commit(c, &err), 0, "%s", err.message);
        else
            sb_db_rollback(c);
        cr_assert_eq(count_rows("SELECT count(*) FROM t"), commit ? 2 : 0,
                     "1 and 3 %s together, 2 never", commit ? "committed" : "rolled back");
    }
    sb_db_release(db, c);
}
