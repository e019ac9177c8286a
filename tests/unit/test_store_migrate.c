/* test_store_migrate.c — migrations against a real PostgreSQL: order,
 * checksums, idempotence, the refusals (changed, newer, out of order,
 * failing SQL, transaction control), concurrent appliers in two
 * processes, and the compiled-in list. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg_harness.h"
#include "store/database.h"
#include "store/migrate.h"

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
    cr_assert_eq(sb_pg_harness_fresh_database(conninfo, sizeof conninfo), 0,
                 "no test database (see stderr)");
    sb_error err = {0};
    cr_assert_eq(sb_db_open(conninfo, 2, 5000, &db, &err), 0, "%s", err.message);
}
static void teardown(void) { sb_db_close(db); }
TestSuite(store_migrate, .init = setup, .fini = teardown, .timeout = 120);

/* Each step depends on the one before: applied out of order, it fails. */
static const sb_migration three[] = {
    {1, "widgets", "CREATE TABLE widgets (id int PRIMARY KEY);\n"},
    {2, "widget_names",
     "-- a comment with UTF-8: élan\nALTER TABLE widgets ADD COLUMN name text;\n"
     "CREATE TABLE runs (version int);\nINSERT INTO runs VALUES (2);\n"},
    {3, "seed", "INSERT INTO widgets VALUES (1, 'first');\nINSERT INTO runs VALUES (3);\n"},
};

static char *query1(const char *sql)
{
    sb_db_conn *c;
    sb_error err = {0};
    PGresult *res;
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0);
    cr_assert_eq(sb_db_exec(c, sql, 0, NULL, &res, &err), 0, "%s: %s", sql, err.message);
    char *v = strdup(PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    sb_db_release(db, c);
    return v;
}

static void expect_value(const char *sql, const char *want)
{
    char *got = query1(sql);
    cr_expect_str_eq(got, want, "%s", sql);
    free(got);
}

static void apply_ok(const sb_migration *list, size_t n, sb_migrate_report *r)
{
    sb_error err = {0};
    cr_assert_eq(sb_migrate_apply(db, list, n, r, &err), 0, "%s", err.message);
}

Test(store_migrate, applies_in_order_and_records_checksums)
{
    sb_migrate_report r;
    apply_ok(three, 3, &r);
    cr_expect_eq(r.from_version, 0);
    cr_expect_eq(r.to_version, 3);
    cr_expect_eq(r.applied, 3);
    cr_expect_eq(r.pending, 0);
    expect_value("SELECT string_agg(version || ':' || name, ',' ORDER BY version) FROM schema_migrations",
                 "1:widgets,2:widget_names,3:seed");
    for (int v = 1; v <= 3; v++) {
        char sql[128], sum[65];
        snprintf(sql, sizeof sql, "SELECT checksum FROM schema_migrations WHERE version = %d", v);
        sb_migrate_checksum(three[v - 1].sql, sum);
        cr_expect_eq(strlen(sum), 64);
        expect_value(sql, sum);
    }
    expect_value("SELECT count(*) FROM schema_migrations WHERE applied_at IS NULL", "0");
    expect_value("SELECT name FROM widgets", "first");
}

Test(store_migrate, a_second_run_is_a_no_op)
{
    sb_migrate_report r;
    apply_ok(three, 2, &r);
    cr_expect_eq(r.applied, 2);
    char *before = query1("SELECT max(applied_at)::text FROM schema_migrations");
    apply_ok(three, 2, &r);
    cr_expect_eq(r.applied, 0);
    cr_expect_eq(r.verified, 2);
    cr_expect_eq(r.from_version, 2);
    cr_expect_eq(r.to_version, 2);
    expect_value("SELECT max(applied_at)::text FROM schema_migrations", before);
    free(before);
    apply_ok(three, 3, &r); /* then only the new one */
    cr_expect_eq(r.applied, 1);
    cr_expect_eq(r.from_version, 2);
    cr_expect_eq(r.to_version, 3);
    expect_value("SELECT string_agg(version::text, ',' ORDER BY version) FROM runs", "2,3");
}

Test(store_migrate, status_reports_pending_without_applying)
{
    sb_migrate_report r;
    sb_error err = {0};
    cr_assert_eq(sb_migrate_status(db, three, 3, &r, &err), 0, "%s", err.message);
    cr_expect_eq(r.pending, 3);
    cr_expect_eq(r.from_version, 0);
    expect_value("SELECT to_regclass('schema_migrations') IS NULL", "t");
    apply_ok(three, 1, &r);
    cr_assert_eq(sb_migrate_status(db, three, 3, &r, &err), 0, "%s", err.message);
    cr_expect_eq(r.pending, 2);
    cr_expect_eq(r.verified, 1);
    cr_expect_eq(r.from_version, 1);
}

Test(store_migrate, a_changed_applied_migration_is_refused)
{
    apply_ok(three, 2, NULL);
    sb_migration edited[3];
    memcpy(edited, three, sizeof edited);
    edited[1].sql = "ALTER TABLE widgets ADD COLUMN name varchar(10);\nCREATE TABLE runs (version int);\n";
    sb_error err = {0};
    cr_assert_eq(sb_migrate_apply(db, edited, 3, NULL, &err), -1);
    cr_expect_eq(err.code, SB_MIGRATE_E_CHANGED);
    cr_expect_not_null(strstr(err.message, "migration 0002_widget_names was changed after it was applied"),
                       "%s", err.message);
    cr_expect_not_null(strstr(err.message, "new migration"), "says how to fix it: %s", err.message);
    expect_value("SELECT max(version) FROM schema_migrations", "2"); /* 3 was not applied */
    cr_expect_eq(sb_migrate_status(db, edited, 3, NULL, &err), -1);
    cr_expect_eq(err.code, SB_MIGRATE_E_CHANGED);
}

Test(store_migrate, a_newer_schema_is_refused)
{
    apply_ok(three, 3, NULL);
    sb_error err = {0};
    cr_assert_eq(sb_migrate_apply(db, three, 2, NULL, &err), -1);
    cr_expect_eq(err.code, SB_MIGRATE_E_NEWER);
    cr_expect_str_eq(err.message,
                     "database schema is at version 3, newer than this sbridge (knows up to 2): "
                     "upgrade sbridge");
    cr_expect_eq(sb_migrate_status(db, three, 2, NULL, &err), -1);
    cr_expect_eq(err.code, SB_MIGRATE_E_NEWER);
}

Test(store_migrate, an_unknown_applied_version_is_refused)
{
    apply_ok(three, 3, NULL);
    const sb_migration renumbered[] = {three[0], {3, "seed", three[2].sql}, {4, "more", "SELECT 1;"}};
    sb_error err = {0};
    cr_assert_eq(sb_migrate_apply(db, renumbered, 3, NULL, &err), -1);
    cr_expect_eq(err.code, SB_MIGRATE_E_CHANGED);
    cr_expect_not_null(strstr(err.message, "0002_widget_names"), "%s", err.message);
}

Test(store_migrate, a_migration_older_than_the_newest_applied_is_refused)
{
    const sb_migration with_gap[] = {three[0], {3, "other", "CREATE TABLE other (x int);"}};
    apply_ok(with_gap, 2, NULL);
    const sb_migration late[] = {three[0], {2, "late", "CREATE TABLE late (x int);"}, with_gap[1]};
    sb_error err = {0};
    cr_assert_eq(sb_migrate_apply(db, late, 3, NULL, &err), -1);
    cr_expect_eq(err.code, SB_MIGRATE_E_OUT_OF_ORDER);
    cr_expect_not_null(strstr(err.message, "0002_late"), "%s", err.message);
    cr_expect_not_null(strstr(err.message, "renumber"), "%s", err.message);
    expect_value("SELECT to_regclass('late') IS NULL", "t");
}

Test(store_migrate, a_failing_migration_is_rolled_back_and_located)
{
    const sb_migration list[] = {
        three[0],
        {2, "broken", "CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\nSELEC oops;\n"},
        {3, "after", "CREATE TABLE after_broken (x int);"},
    };
    sb_migrate_report r;
    sb_error err = {0};
    cr_assert_eq(sb_migrate_apply(db, list, 3, &r, &err), -1);
    cr_expect_eq(err.code, SB_MIGRATE_E_FAILED);
    cr_expect_not_null(strstr(err.message, "migration 0002_broken failed at line 3 and was rolled back"),
                       "%s", err.message);
    cr_expect_not_null(strstr(err.message, "42601"), "%s", err.message);
    cr_expect_eq(r.applied, 1);
    expect_value("SELECT to_regclass('half') IS NULL", "t");
    expect_value("SELECT to_regclass('after_broken') IS NULL", "t");
    expect_value("SELECT max(version) FROM schema_migrations", "1");
}

Test(store_migrate, transaction_control_in_a_migration_is_refused)
{
    const sb_migration list[] = {{1, "sneaky", "CREATE TABLE a (x int);\nCOMMIT;\nCREATE TABLE b (x int);\n"}};
    sb_error err = {0};
    cr_assert_eq(sb_migrate_apply(db, list, 1, NULL, &err), -1);
    cr_expect_eq(err.code, SB_MIGRATE_E_FAILED);
    cr_expect_not_null(strstr(err.message, "COMMIT or ROLLBACK"), "%s", err.message);
    expect_value("SELECT count(*) FROM schema_migrations", "0");
}

Test(store_migrate, a_malformed_list_is_refused)
{
    const sb_migration dup[] = {{1, "a", "SELECT 1;"}, {1, "b", "SELECT 1;"}};
    const sb_migration zero[] = {{0, "a", "SELECT 1;"}};
    sb_error err = {0};
    cr_expect_eq(sb_migrate_apply(db, dup, 2, NULL, &err), -1);
    cr_expect_eq(err.code, SB_MIGRATE_E_LIST);
    cr_expect_not_null(strstr(err.message, "0001_b comes after 0001_a"), "%s", err.message);
    cr_expect_eq(sb_migrate_apply(db, zero, 1, NULL, &err), -1);
    cr_expect_eq(err.code, SB_MIGRATE_E_LIST);
}

/* Two processes, each with its own pool, released at the same moment;
 * the first migration sleeps so that the second applier certainly arrives
 * while the first holds the lock. */
static const sb_migration slow[] = {
    {1, "slow", "CREATE TABLE runs (version int);\nSELECT pg_sleep(0.3);\nINSERT INTO runs VALUES (1);\n"},
    {2, "count", "INSERT INTO runs VALUES (2);\n"},
    {3, "more", "INSERT INTO runs VALUES (3);\n"},
};

static int applier_process(int go_fd)
{
    char c;
    if (read(go_fd, &c, 1) < 0)
        return 100;
    sb_db *mine;
    sb_error err = {0};
    if (sb_db_open(conninfo, 1, 5000, &mine, &err) != 0)
        return 101;
    sb_migrate_report r;
    int rc = sb_migrate_apply(mine, slow, 3, &r, &err);
    sb_db_close(mine);
    if (rc != 0) {
        fprintf(stderr, "applier %ld: %s\n", (long)getpid(), err.message);
        return 102;
    }
    return (int)r.applied;
}

Test(store_migrate, concurrent_appliers_apply_each_migration_once)
{
    int go[2];
    cr_assert_eq(pipe(go), 0);
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        cr_assert_geq(kids[i], 0);
        if (kids[i] == 0) {
            close(go[1]);
            _exit(applier_process(go[0]));
        }
    }
    close(go[0]);
    close(go[1]); /* both read EOF now: go */
    int applied[2];
    for (int i = 0; i < 2; i++) {
        int status;
        cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
        cr_assert(WIFEXITED(status), "applier %d crashed", i);
        applied[i] = WEXITSTATUS(status);
        cr_expect_leq(applied[i], 3, "applier %d failed (exit %d, see stderr)", i, applied[i]);
    }
    cr_expect_eq(applied[0] + applied[1], 3, "applied %d + %d", applied[0], applied[1]);
    cr_expect(applied[0] == 0 || applied[1] == 0, "one applier did everything, the other nothing");
    expect_value("SELECT string_agg(version::text, ',' ORDER BY version) FROM runs", "1,2,3");
    expect_value("SELECT count(*) FROM schema_migrations", "3");
}

Test(store_migrate, the_builtin_migrations_apply_cleanly)
{
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
    cr_assert_geq(n, 1);
    cr_expect_eq(list[0].version, 1);
    cr_expect_str_eq(list[0].name, "foundation");
    cr_expect_not_null(strstr(list[0].sql, "CREATE TABLE platform_settings"));
    for (size_t i = 1; i < n; i++)
        cr_expect_gt(list[i].version, list[i - 1].version, "sorted by version");
    sb_migrate_report r;
    apply_ok(list, n, &r);
    cr_expect_eq(r.applied, n);
    cr_expect_eq(r.to_version, list[n - 1].version);
    expect_value("SELECT value::text FROM platform_settings WHERE key = 'policy.reserved_priority'",
                 "9000");
    sb_error err = {0};
    cr_assert_eq(sb_migrate_status(db, list, n, &r, &err), 0, "%s", err.message);
    cr_expect_eq(r.pending, 0);
    cr_expect_eq(r.verified, n);
}

Test(store_migrate, database_open_applies_or_checks_the_schema)
{
    sb_database_options check = {.url = conninfo, .pool_size = 2, .connect_timeout_ms = 5000};
    sb_database *d = NULL;
    sb_migrate_report r;
    sb_error err = {0};
    cr_assert_eq(sb_database_open(&check, &d, &r, &err), -1, "a fresh database has pending migrations");
    cr_expect_eq(err.code, SB_MIGRATE_E_PENDING);
    cr_expect_not_null(strstr(err.message, "run `sbridge migrate`"), "%s", err.message);
    cr_expect_null(d);

    sb_database_options migrate = check;
    migrate.migrate = 1;
    cr_assert_eq(sb_database_open(&migrate, &d, &r, &err), 0, "%s", err.message);
    cr_expect_gt(r.applied, 0);
    cr_expect_null(sb_database_embedded(d), "a URL means an external server");
    cr_expect_not_null(sb_database_pool(d));
    sb_database_close(d);

    cr_assert_eq(sb_database_open(&check, &d, &r, &err), 0, "up to date now: %s", err.message);
    cr_expect_eq(r.pending, 0);
    sb_database_close(d);
}
