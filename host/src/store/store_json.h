/*
 * store/store_json.h — the helper the agent and job stores share: one
 * statement whose first cell (often a jsonb_build_object(...)::text row)
 * is copied out.
 */
#ifndef SB_STORE_STORE_JSON_H
#define SB_STORE_STORE_JSON_H

#include <stddef.h>

#include "store/db.h"

#define SB_STR_(x) #x
#define SB_STR(x) SB_STR_(x)

/* Runs sql; 1 when it returned no row. Otherwise copies the first cell
 * into cell (when cap > 0) and/or a malloc'd copy into *json (when json is
 * not NULL; "" for SQL NULL). 0 done, -1 error. */
int sb_store_json_one(sb_db_conn *conn, const char *sql, int n, const char *const *params,
                      char *cell, size_t cap, char **json, sb_error *err);

#endif
