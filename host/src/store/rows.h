/*
 * store/rows.h — the generic shape of what a store read returns, and the
 * only way code above the store reads it.
 *
 * Contract:
 *   - An sb_row_set holds the rows of one query (one PGresult, owned by the
 *     set: sb_row_set_free). Code outside store/ never touches the result
 *     itself: it reads cells through the typed accessors below (or through
 *     an aggregate's own view, sb_<aggregate>_store_*_at). Strings returned
 *     point into the set and live until it is freed.
 *   - Accessors take a row index < rows->n and a column number that the
 *     aggregate's header documents; out of range is a caller bug.
 *   - Lists are keyset-paginated by id: sb_list_page.after is the last id
 *     of the previous page ("" or NULL = first page); a set holds at most
 *     `limit` rows and `more` says whether another page exists. Column 0 of
 *     a listed row is the key the next page starts after (sb_rows_last_key).
 *   - A filter on ids (the rows the caller may see) is an sb_id_filter;
 *     `all` skips it.
 *   - Ids passed to the store must be UUID text; callers check with
 *     sb_rows_uuid first, so a malformed id never reaches SQL as a cast
 *     error.
 *   - The helpers at the end (query_page, query_one, id_array, the
 *     timestamp column macro) are for the store/ sources only.
 */
#ifndef SB_STORE_ROWS_H
#define SB_STORE_ROWS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/error.h"

/* Rows of one query. n <= the page limit; more: another page exists. */
typedef struct sb_row_set {
    PGresult *res;
    size_t n;
    bool more;
} sb_row_set;

void sb_row_set_free(sb_row_set *rows);

/* A caller-visible subset of ids (a filter); all = no filter. */
typedef struct sb_id_filter {
    bool all;
    const char *const *ids;
    size_t n;
} sb_id_filter;

typedef struct sb_list_page {
    long limit;        /* 1..500 */
    const char *after; /* last id of the previous page, NULL or "" = first */
} sb_list_page;

/* ---- typed cell accessors ------------------------------------------------- */

/* A cell's text; "" for SQL NULL. */
const char *sb_rows_text(const sb_row_set *rows, size_t i, int col);
/* A nullable cell: NULL for SQL NULL, else its text. */
const char *sb_rows_text_or_null(const sb_row_set *rows, size_t i, int col);
bool sb_rows_is_null(const sb_row_set *rows, size_t i, int col);
/* An integer cell (base 10); NULL reads as 0. */
int64_t sb_rows_int64(const sb_row_set *rows, size_t i, int col);
int sb_rows_int(const sb_row_set *rows, size_t i, int col);
/* A boolean cell ("t"); NULL reads as false. */
bool sb_rows_bool(const sb_row_set *rows, size_t i, int col);
/* Column 0 of the last row (the key a next page starts after), or NULL
 * for an empty set. */
const char *sb_rows_last_key(const sb_row_set *rows);

/* True when s is UUID text (8-4-4-4-12 hex digits, either case); writes
 * its canonical lower-case form (what the database holds) into out. */
bool sb_rows_uuid(const char *s, char out[37]);

/* ---- for the store sources ----------------------------------------------------- */

/* Builds a PostgreSQL array literal "{a,b}" from ids that are known to be
 * UUIDs (a parameter value, never SQL text). Caller frees. */
char *sb_rows_id_array(const char *const *ids, size_t n, sb_error *err);
/* Runs sql and fills out as a page: asks for limit+1 rows (the last
 * parameter, appended) and trims. */
int sb_rows_query_page(sb_db_conn *conn, const char *sql, int nparams, const char *const *params,
                       long limit, sb_row_set *out, sb_error *err);
/* Runs sql expecting zero or one row: 0 found, 1 none, -1 error. */
int sb_rows_query_one(sb_db_conn *conn, const char *sql, int nparams, const char *const *params,
                      sb_row_set *out, sb_error *err);

/* A timestamp column as RFC 3339 UTC text with milliseconds. */
#define SB_ROWS_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#endif
