/* store/rows.c — see rows.h: the row set, its typed cell accessors, the
 * UUID check and the page/one-row query helpers every aggregate uses. */
#include "store/rows.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_row_set_free(sb_row_set *rows)
{
    if (rows == NULL)
        return;
    PQclear(rows->res);
    memset(rows, 0, sizeof *rows);
}

bool sb_rows_uuid(const char *s, char out[37])
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        unsigned char c = (unsigned char)s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !isxdigit(c))
            return false;
        out[i] = (char)tolower(c);
    }
    out[36] = '\0';
    return true;
}

const char *sb_rows_text(const sb_row_set *rows, size_t i, int col)
{
    return PQgetvalue(rows->res, (int)i, col);
}

bool sb_rows_is_null(const sb_row_set *rows, size_t i, int col)
{
    return PQgetisnull(rows->res, (int)i, col) != 0;
}

int64_t sb_rows_int64(const sb_row_set *rows, size_t i, int col)
{
    return sb_db_cell_i64(rows->res, (int)i, col);
}

int sb_rows_int(const sb_row_set *rows, size_t i, int col)
{
    return (int)sb_rows_int64(rows, i, col);
}

bool sb_rows_bool(const sb_row_set *rows, size_t i, int col)
{
    return PQgetvalue(rows->res, (int)i, col)[0] == 't';
}

const char *sb_rows_last_key(const sb_row_set *rows)
{
    return rows->n > 0 ? PQgetvalue(rows->res, (int)rows->n - 1, 0) : NULL;
}

const char *sb_rows_text_or_null(const sb_row_set *rows, size_t i, int col)
{
    return PQgetisnull(rows->res, (int)i, col) ? NULL : PQgetvalue(rows->res, (int)i, col);
}

char *sb_rows_id_array(const char *const *ids, size_t n, sb_error *err)
{
    char *out = malloc(n * 37 + 3);
    if (out == NULL) {
        sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory building an id filter");
        return NULL;
    }
    size_t len = 0;
    out[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        size_t k = strnlen(ids[i], 36);
        if (i > 0)
            out[len++] = ',';
        memcpy(out + len, ids[i], k);
        len += k;
    }
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

int sb_rows_query_page(sb_db_conn *conn, const char *sql, int nparams, const char *const *params,
                       long limit, sb_row_set *out, sb_error *err)
{
    memset(out, 0, sizeof *out);
    const char *all[16];
    if (nparams >= 16 || limit < 1)
        return sb_error_set(err, SB_DB_E_INVALID, "query_page: bad arguments");
    memcpy(all, params, (size_t)nparams * sizeof *all);
    all[nparams] = SB_DB_INT(limit + 1);
    if (sb_db_exec(conn, sql, nparams + 1, all, &out->res, err) != 0)
        return -1;
    size_t n = (size_t)PQntuples(out->res);
    out->more = n > (size_t)limit;
    out->n = out->more ? (size_t)limit : n;
    return 0;
}

int sb_rows_query_one(sb_db_conn *conn, const char *sql, int nparams, const char *const *params,
                      sb_row_set *out, sb_error *err)
{
    memset(out, 0, sizeof *out);
    if (sb_db_exec(conn, sql, nparams, params, &out->res, err) != 0)
        return -1;
    out->n = (size_t)PQntuples(out->res);
    if (out->n == 0) {
        sb_row_set_free(out);
        return 1;
    }
    return 0;
}
