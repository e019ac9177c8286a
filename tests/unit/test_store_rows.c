/* test_store_rows.c — store/rows.h against a real PostgreSQL: the typed
 * cell accessors (text, nullable text, int64, bool), keyset pages that ask
 * for one row more than they keep, one-row queries, the UUID check and the
 * id-array parameter, and integer parameters (store/db.h). What the API
 * reads through instead of libpq. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdlib.h>
#include <string.h>

#include "pg_harness.h"
#include "store/rows.h"

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
static sb_db_conn *conn;

static void setup(void)
{
    cr_assert_eq(sb_pg_harness_fresh_database(conninfo, sizeof conninfo), 0,
                 "no test database (see stderr)");
    sb_error err = {0};
    cr_assert_eq(sb_db_open(conninfo, 2, 5000, &db, &err), 0, "%s", err.message);
    cr_assert_eq(sb_db_acquire(db, -1, &conn, &err), 0, "%s", err.message);
}
static void teardown(void)
{
    sb_db_release(db, conn);
    sb_db_close(db);
}
TestSuite(store_rows, .init = setup, .fini = teardown, .timeout = 60);

/* Rows g = 1..7 after $1: id text, a NULL every third row, g * 10^10, even. */
#define SERIES                                                                                     \
    "SELECT g::text, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END,"                             \
    " g::bigint * 10000000000, g % 2 = 0"                                                          \
    " FROM generate_series(1, 7) g WHERE g > $1::int ORDER BY g LIMIT $2"

Test(store_rows, typed_accessors_read_each_kind_of_cell)
{
    sb_row_set rows;
    sb_error err = {0};
    const char *params[] = {"0"};
    cr_assert_eq(sb_rows_query_page(conn, SERIES, 1, params, 3, &rows, &err), 0, "%s",
                 err.message);
    cr_assert_eq(rows.n, 3);
    cr_expect_str_eq(sb_rows_text(&rows, 1, 0), "2");
    cr_expect_str_eq(sb_rows_text_or_null(&rows, 1, 1), "n2");
    cr_expect_null(sb_rows_text_or_null(&rows, 2, 1), "row g=3 has a NULL note");
    cr_expect(sb_rows_is_null(&rows, 2, 1));
    cr_expect_not(sb_rows_is_null(&rows, 1, 1));
    cr_expect_str_eq(sb_rows_text(&rows, 2, 1), "", "NULL as text reads as \"\"");
    cr_expect_eq(sb_rows_int64(&rows, 2, 2), INT64_C(30000000000));
    cr_expect_eq(sb_rows_int(&rows, 1, 0), 2);
    cr_expect(sb_rows_bool(&rows, 1, 3));
    cr_expect_not(sb_rows_bool(&rows, 2, 3));
    cr_expect_eq(sb_rows_int64(&rows, 2, 1), 0, "a NULL integer reads as 0");
    sb_row_set_free(&rows);
    cr_expect_null(rows.res, "free clears the set");
}

Test(store_rows, pages_say_whether_more_rows_follow_and_where_the_next_starts)
{
    sb_row_set rows;
    sb_error err = {0};
    const char *first[] = {"0"};
    cr_assert_eq(sb_rows_query_page(conn, SERIES, 1, first, 4, &rows, &err), 0, "%s",
                 err.message);
    cr_expect_eq(rows.n, 4);
    cr_expect(rows.more, "7 rows, a page of 4: more follow");
    cr_expect_str_eq(sb_rows_last_key(&rows), "4");
    sb_row_set_free(&rows);
    const char *next[] = {"4"};
    cr_assert_eq(sb_rows_query_page(conn, SERIES, 1, next, 4, &rows, &err), 0, "%s", err.message);
    cr_expect_eq(rows.n, 3);
    cr_expect_not(rows.more, "the last page");
    cr_expect_str_eq(sb_rows_last_key(&rows), "7");
    sb_row_set_free(&rows);
    const char *past[] = {"7"};
    cr_assert_eq(sb_rows_query_page(conn, SERIES, 1, past, 4, &rows, &err), 0, "%s", err.message);
    cr_expect_eq(rows.n, 0);
    cr_expect_null(sb_rows_last_key(&rows), "an empty page has no last key");
    sb_row_set_free(&rows);
    cr_expect_eq(sb_rows_query_page(conn, SERIES, 1, past, 0, &rows, &err), -1,
                 "a page of 0 rows is a caller bug");
    cr_expect_eq(err.code, SB_DB_E_INVALID);
}

Test(store_rows, query_one_tells_found_from_none)
{
    sb_row_set rows;
    sb_error err = {0};
    const char *params[] = {"41"};
    cr_assert_eq(sb_rows_query_one(conn, "SELECT $1::int + 1", 1, params, &rows, &err), 0);
    cr_expect_eq(sb_rows_int(&rows, 0, 0), 42);
    sb_row_set_free(&rows);
    cr_expect_eq(sb_rows_query_one(conn, "SELECT 1 WHERE $1::int < 0", 1, params, &rows, &err), 1);
    cr_expect_null(rows.res, "no row: nothing left to free");
}

Test(store_rows, uuids_are_checked_and_lower_cased)
{
    char out[37];
    cr_expect(sb_rows_uuid("0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9", out));
    cr_expect_str_eq(out, "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
    cr_expect_not(sb_rows_uuid("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f", out), "too short");
    cr_expect_not(sb_rows_uuid("0a1b2c3d04e5f-6071-8293-a4b5c6d7e8f9", out), "no dash");
    cr_expect_not(sb_rows_uuid("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8fg", out), "not hex");
    cr_expect_not(sb_rows_uuid(NULL, out));
}

Test(store_rows, id_arrays_are_parameters)
{
    sb_error err = {0};
    const char *ids[] = {"0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
                         "1a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"};
    char *array = sb_rows_id_array(ids, 2, &err);
    cr_assert_not_null(array);
    sb_row_set rows;
    const char *params[] = {array};
    cr_assert_eq(sb_rows_query_one(conn, "SELECT cardinality($1::uuid[])", 1, params, &rows, &err),
                 0, "%s", err.message);
    cr_expect_eq(sb_rows_int(&rows, 0, 0), 2);
    sb_row_set_free(&rows);
    free(array);
}

/* ---- integer parameters (store/db.h) ------------------------------------------- */

Test(store_rows, integer_parameters_round_trip_through_postgresql)
{
    char buf[SB_DB_INT_TEXT_MAX];
    cr_expect_str_eq(sb_db_int_param(buf, INT64_MIN), "-9223372036854775808");
    cr_expect_str_eq(sb_db_int_param(buf, INT64_MAX), "9223372036854775807");
    cr_expect_str_eq(sb_db_int_param(buf, 0), "0");
    int small = -42;
    long limit = 500;
    sb_row_set rows;
    sb_error err = {0};
    const char *params[] = {SB_DB_INT(INT64_MIN), SB_DB_INT(small), SB_DB_INT(limit + 1)};
    cr_assert_str_eq(params[1], "-42", "each SB_DB_INT has its own buffer");
    cr_assert_eq(sb_rows_query_one(conn,
                                   "SELECT $1::bigint = -9223372036854775808,"
                                   " $2::int = -42, $3::bigint = 501",
                                   3, params, &rows, &err),
                 0, "%s", err.message);
    cr_expect(sb_rows_bool(&rows, 0, 0));
    cr_expect(sb_rows_bool(&rows, 0, 1));
    cr_expect(sb_rows_bool(&rows, 0, 2));
    sb_row_set_free(&rows);
}
