/* test_store_roles.c — the server's database role against a real
 * PostgreSQL (store/db_roles.h, store/database.h): the pool connects as a
 * role with data rights only, so it cannot switch the audit trail's
 * append-only triggers off (SET session_replication_role, ALTER TABLE ...
 * DISABLE TRIGGER) nor UPDATE, DELETE or TRUNCATE audit rows, while the
 * server's own writes (events, sealing) still work; tables of later
 * migrations are granted by rule; hand-granted extras are taken back; and
 * a privileged server role (superuser, owner, CREATEROLE) is refused with
 * how to fix it, or only warned about with database.allow_privileged_role. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_harness.h"
#include "store/audit_store.h"
#include "store/database.h"
#include "store/db_roles.h"
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

static char owner_ci[1024], app_ci[1100];
static sb_db *owner;

static void setup(void)
{
    cr_assert_eq(sb_pg_harness_fresh_database(owner_ci, sizeof owner_ci), 0, "no test database");
    cr_assert_eq(sb_pg_harness_as_app(owner_ci, app_ci, sizeof app_ci), 0);
    sb_error err = {0};
    cr_assert_eq(sb_db_open(owner_ci, 2, 5000, &owner, &err), 0, "%s", err.message);
}
static void teardown(void) { sb_db_close(owner); }
TestSuite(store_roles, .init = setup, .fini = teardown, .timeout = 120);

/* sql on a pool: 0 when it succeeded; else the SQLSTATE in state. */
static int run(sb_db *db, const char *sql, char state[6])
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "%s", err.message);
    int rc = sb_db_exec_script(c, sql, &err);
    if (state)
        snprintf(state, 6, "%s", rc ? sb_db_last_error(c)->sqlstate : "");
    sb_db_release(db, c);
    return rc;
}

static char *cell(sb_db *db, const char *sql)
{
    sb_db_conn *c;
    sb_error err = {0};
    PGresult *res;
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_exec(c, sql, 0, NULL, &res, &err), 0, "%s: %s", sql, err.message);
    char *v = strdup(PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    sb_db_release(db, c);
    return v;
}

static void expect_cell(sb_db *db, const char *sql, const char *want)
{
    char *got = cell(db, sql);
    cr_expect_str_eq(got, want, "%s", sql);
    free(got);
}

static void expect_refused(sb_db *db, const char *sql, const char *want_state)
{
    char state[6];
    cr_expect_neq(run(db, sql, state), 0, "the server's role could run: %s", sql);
    if (want_state)
        cr_expect_str_eq(state, want_state, "%s", sql);
}

static void append_event(sb_db *db)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(db, -1, &c, &err), 0, "%s", err.message);
    sb_audit_record r = {"user:alice", "team.create", "team:1", "success", NULL, "corr-1", NULL, NULL,
                         NULL};
    cr_assert_eq(sb_audit_append(c, &r, &err), 0, "%s", err.message);
    sb_db_release(db, c);
}

/* What the server's pool may and may not do, on a database it opened. */
static void expect_data_rights_only(sb_db *pool)
{
    static const unsigned char key[SB_AUDIT_KEY_BYTES] = {7};
    append_event(pool);
    append_event(pool);
    sb_error err = {0};
    size_t sealed = 0;
    cr_assert_eq(sb_audit_seal(pool, key, 1, &sealed, &err), 0, "the sealer still works: %s",
                 err.message);
    cr_expect_eq(sealed, 1);
    /* superuser-only switches of the triggers, and the owner's */
    expect_refused(pool, "SET session_replication_role = replica", "42501");
    expect_refused(pool, "ALTER TABLE audit_events DISABLE TRIGGER ALL", "42501");
    expect_refused(pool, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update", "42501");
    expect_refused(pool, "DROP TRIGGER audit_events_no_update ON audit_events", "42501");
    expect_refused(pool, "DROP TABLE audit_events", "42501");
    expect_refused(pool, "CREATE TABLE sneaky (x int)", "42501");
    /* rows, sealed or not, by the permission system before any trigger */
    expect_refused(pool, "UPDATE audit_events SET actor = 'user:mallory'", "42501");
    expect_refused(pool, "UPDATE audit_events SET details = '{}' WHERE id IN (SELECT event_id FROM "
                         "audit_unsealed)", "42501");
    expect_refused(pool, "DELETE FROM audit_events", "42501");
    expect_refused(pool, "DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_unsealed)",
                   "42501");
    expect_refused(pool, "ALTER TABLE audit_chain DISABLE TRIGGER ALL", "42501");
    expect_refused(pool, "UPDATE audit_chain SET hash = '\\x00'", "42501");
    expect_refused(pool, "DELETE FROM audit_chain", "42501");
    expect_refused(pool, "TRUNCATE audit_events", "42501");
    expect_refused(pool, "TRUNCATE users", "42501");
    expect_refused(pool, "UPDATE schema_migrations SET checksum = 'x'", "42501");
    expect_cell(owner, "SELECT count(*) FROM audit_events WHERE actor = 'user:alice'", "2");
    /* ordinary tables: data rights */
    cr_expect_eq(run(pool, "INSERT INTO platform_settings (key, value) VALUES ('t.x', '1'); "
                           "UPDATE platform_settings SET value = '2' WHERE key = 't.x'; "
                           "DELETE FROM platform_settings WHERE key = 't.x'",
                     NULL),
                 0);
}

Test(store_roles, the_server_pool_has_data_rights_only)
{
    sb_database_options o = {.url = app_ci, .migration_url = owner_ci, .pool_size = 2,
                             .connect_timeout_ms = 5000, .migrate = 1, .check_role = 1};
    sb_database *d;
    sb_migrate_report r;
    sb_error err = {0};
    cr_assert_eq(sb_database_open(&o, &d, &r, &err), 0, "%s", err.message);
    cr_expect_gt(r.applied, 0);
    cr_expect_str_eq(sb_database_app_role(d), SB_EMBEDDED_PG_APP_USER);
    expect_cell(sb_database_pool(d), "SELECT current_user", SB_EMBEDDED_PG_APP_USER);
    expect_cell(owner, "SELECT tableowner FROM pg_tables WHERE tablename = 'audit_events'",
                SB_EMBEDDED_PG_USER);
    expect_data_rights_only(sb_database_pool(d));
    sb_database_close(d);
    /* a check-only open (readiness, `migrate --status`) as the server's role */
    o.migrate = 0;
    cr_assert_eq(sb_database_open(&o, &d, &r, &err), 0, "%s", err.message);
    cr_expect_eq(r.pending, 0);
    sb_database_close(d);
}

/* `sbridge dev` and an install without database.url: the embedded
 * cluster, with no role configured by anyone. */
Test(store_roles, the_embedded_database_serves_as_its_app_role)
{
    char dir[] = "/tmp/sb-roles-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    sb_database_options o = {.state_dir = dir, .pool_size = 2, .connect_timeout_ms = 5000,
                             .migrate = 1, .check_role = 1};
    sb_database *d;
    sb_error err = {0};
    cr_assert_eq(sb_database_open(&o, &d, NULL, &err), 0, "%s", err.message);
    expect_cell(sb_database_pool(d), "SELECT current_user", SB_EMBEDDED_PG_APP_USER);
    expect_cell(sb_database_pool(d), "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user",
                "false");
    expect_refused(sb_database_pool(d), "SET session_replication_role = replica", "42501");
    expect_refused(sb_database_pool(d), "ALTER TABLE audit_events DISABLE TRIGGER ALL", "42501");
    expect_refused(sb_database_pool(d), "DELETE FROM audit_events", "42501");
    expect_refused(sb_database_pool(d), "TRUNCATE audit_events", "42501");
    sb_database_close(d);
    char rm[64];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    cr_expect_eq(system(rm), 0);
}

Test(store_roles, tables_of_later_migrations_are_granted_by_rule)
{
    size_t n;
    const sb_migration *builtin = sb_migrations_builtin(&n);
    sb_migration *list = calloc(n + 1, sizeof *list);
    memcpy(list, builtin, n * sizeof *list);
    list[n] = (sb_migration){9001, "later",
                             "CREATE TABLE widgets (id bigserial PRIMARY KEY, name text);\n"
                             "CREATE TABLE audit_extra (id bigserial PRIMARY KEY, what text);\n"};
    sb_error err = {0};
    cr_assert_eq(sb_migrate_apply_granting(owner, list, n + 1, SB_EMBEDDED_PG_APP_USER, NULL, &err), 0,
                 "%s", err.message);
    free(list);
    sb_db *app;
    cr_assert_eq(sb_db_open(app_ci, 1, 5000, &app, &err), 0, "%s", err.message);
    cr_expect_eq(run(app, "INSERT INTO widgets (name) VALUES ('a'); UPDATE widgets SET name = 'b'; "
                          "DELETE FROM widgets",
                     NULL),
                 0, "a new table gets data rights, its sequence USAGE");
    expect_refused(app, "TRUNCATE widgets", "42501");
    expect_refused(app, "ALTER TABLE widgets ADD COLUMN x int", "42501");
    cr_expect_eq(run(app, "INSERT INTO audit_extra (what) VALUES ('x')", NULL), 0);
    expect_refused(app, "UPDATE audit_extra SET what = 'y'", "42501");
    expect_refused(app, "DELETE FROM audit_extra", "42501");
    sb_db_close(app);
}

Test(store_roles, each_run_takes_back_rights_granted_by_hand)
{
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
    sb_error err = {0};
    cr_assert_eq(sb_migrate_apply_granting(owner, list, n, SB_EMBEDDED_PG_APP_USER, NULL, &err), 0,
                 "%s", err.message);
    const char *q = "SELECT has_table_privilege('" SB_EMBEDDED_PG_APP_USER "', 'audit_events', "
                    "'DELETE')::text || has_table_privilege('" SB_EMBEDDED_PG_APP_USER "', "
                    "'audit_events', 'UPDATE')::text";
    expect_cell(owner, q, "falsefalse");
    cr_assert_eq(run(owner, "GRANT ALL ON audit_events TO " SB_EMBEDDED_PG_APP_USER, NULL), 0);
    expect_cell(owner, q, "truetrue");
    sb_migrate_report r;
    cr_assert_eq(sb_migrate_apply_granting(owner, list, n, SB_EMBEDDED_PG_APP_USER, &r, &err), 0,
                 "%s", err.message);
    cr_expect_eq(r.applied, 0, "nothing pending, grants re-applied all the same");
    expect_cell(owner, q, "falsefalse");
    expect_cell(owner,
                "SELECT has_column_privilege('" SB_EMBEDDED_PG_APP_USER "', 'audit_events', "
                "'actor', 'UPDATE')::text || has_table_privilege('" SB_EMBEDDED_PG_APP_USER "', "
                "'audit_chain', 'UPDATE')::text",
                "falsefalse");
}

/* A role of the cluster (roles are cluster-wide: the pid keeps parallel
 * tests apart); its conninfo for this test's database. */
static void make_role(const char *what, const char *attributes, char *conninfo, size_t cap)
{
    char sql[256];
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS t_%s_%ld; CREATE ROLE t_%s_%ld LOGIN %s", what,
             (long)getpid(), what, (long)getpid(), attributes);
    cr_assert_eq(run(owner, sql, NULL), 0, "%s", sql);
    snprintf(conninfo, cap, "%s user='t_%s_%ld'", owner_ci, what, (long)getpid());
}

static void expect_open_refused(const sb_database_options *o, const char *reason)
{
    sb_database *d = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_database_open(o, &d, NULL, &err), -1, "a privileged server role was accepted");
    cr_expect_eq(err.code, SB_DB_ROLES_E_PRIVILEGED, "%s", err.message);
    cr_expect(strstr(err.message, reason), "%s", err.message);
    cr_expect(strstr(err.message, "database.migration_url"), "says how to fix it: %s", err.message);
    cr_expect(strstr(err.message, "allow_privileged_role"), "%s", err.message);
    cr_expect_null(d);
}

Test(store_roles, a_superuser_server_role_is_refused_before_it_creates_anything)
{
    sb_database_options o = {.url = owner_ci, .pool_size = 2, .connect_timeout_ms = 5000,
                             .migrate = 1, .check_role = 1};
    expect_open_refused(&o, "is a superuser");
    expect_cell(owner, "SELECT (to_regclass('audit_events') IS NULL)::text", "true");
    /* development only: served, with a warning */
    o.allow_privileged_role = 1;
    sb_database *d;
    sb_error err = {0};
    cr_assert_eq(sb_database_open(&o, &d, NULL, &err), 0, "%s", err.message);
    sb_database_close(d);
}

Test(store_roles, a_server_role_that_owns_the_tables_is_refused)
{
    char ci[1200];
    make_role("owner", "", ci, sizeof ci);
    char grant[128];
    snprintf(grant, sizeof grant, "GRANT CREATE ON SCHEMA public TO t_owner_%ld", (long)getpid());
    cr_assert_eq(run(owner, grant, NULL), 0);
    /* one URL for everything, the old way: its migrations make it the owner */
    sb_database_options o = {.url = ci, .pool_size = 2, .connect_timeout_ms = 5000, .migrate = 1,
                             .check_role = 1};
    expect_open_refused(&o, "owns table");
}

Test(store_roles, a_createrole_server_role_is_refused)
{
    char ci[1200];
    make_role("creator", "CREATEROLE", ci, sizeof ci);
    sb_database_options o = {.url = ci, .migration_url = owner_ci, .pool_size = 2,
                             .connect_timeout_ms = 5000, .migrate = 1, .check_role = 1};
    expect_open_refused(&o, "CREATEROLE");
}

Test(store_roles, a_separate_role_created_by_the_operator_is_accepted)
{
    char ci[1200];
    make_role("app", "", ci, sizeof ci);
    sb_database_options o = {.url = ci, .migration_url = owner_ci, .pool_size = 2,
                             .connect_timeout_ms = 5000, .migrate = 1, .check_role = 1};
    sb_database *d;
    sb_error err = {0};
    cr_assert_eq(sb_database_open(&o, &d, NULL, &err), 0, "%s", err.message);
    expect_data_rights_only(sb_database_pool(d));
    sb_database_close(d);
}

Test(store_roles, misconfigured_urls_say_what_to_change)
{
    sb_database *d = NULL;
    sb_error err = {0};
    sb_database_options same = {.url = owner_ci, .migration_url = owner_ci, .pool_size = 2,
                                .connect_timeout_ms = 5000, .migrate = 1};
    cr_assert_eq(sb_database_open(&same, &d, NULL, &err), -1);
    cr_expect_eq(err.code, SB_DB_ROLES_E_SAME_ROLE, "%s", err.message);
    cr_expect(strstr(err.message, "both connect as role"), "%s", err.message);
    expect_cell(owner, "SELECT (to_regclass('audit_events') IS NULL)::text", "true");

    sb_database_options no_url = {.migration_url = owner_ci, .state_dir = "/nonexistent",
                                  .pool_size = 2, .connect_timeout_ms = 5000, .migrate = 1};
    cr_assert_eq(sb_database_open(&no_url, &d, NULL, &err), -1);
    cr_expect(strstr(err.message, "database.migration_url is set but database.url is not"), "%s",
              err.message);

    /* the server's own role cannot migrate: the message points at the owner */
    char ci[1200];
    make_role("nomig", "", ci, sizeof ci);
    sb_database_options app_only = {.url = ci, .pool_size = 2, .connect_timeout_ms = 5000,
                                    .migrate = 1, .check_role = 1};
    cr_assert_eq(sb_database_open(&app_only, &d, NULL, &err), -1);
    cr_expect(strstr(err.message, "database.migration_url"), "%s", err.message);
    /* migrated by the owner, but never granted to the server's role */
    size_t n;
    const sb_migration *list = sb_migrations_builtin(&n);
    cr_assert_eq(sb_migrate_apply(owner, list, n, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(sb_database_open(&app_only, &d, NULL, &err), -1);
    cr_expect(strstr(err.message, "database.migration_url"), "%s", err.message);
}

Test(store_roles, the_rule_table)
{
    cr_expect_str_eq(sb_db_roles_table_privileges("users"), "SELECT, INSERT, UPDATE, DELETE");
    cr_expect_str_eq(sb_db_roles_table_privileges("schema_migrations"), "SELECT");
    cr_expect_str_eq(sb_db_roles_table_privileges("audit_chain"), "SELECT, INSERT");
    cr_expect_str_eq(sb_db_roles_table_privileges("audit_unsealed"), "SELECT, INSERT, DELETE");
    cr_expect_str_eq(sb_db_roles_table_privileges("audit_whatever_comes_next"), "SELECT, INSERT");
    /* strictly append-only since 0016_audit_chain.sql: sealing writes links */
    cr_expect_str_eq(sb_db_roles_table_privileges("audit_events"), "SELECT, INSERT");
}
