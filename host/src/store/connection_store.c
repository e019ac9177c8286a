/* store/connection_store.c — see connection_store.h. */
#include "store/connection_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/tenancy_store.h"

#define TS SB_ROWS_TS

/* clang-format off */
#define CONN_COLS "id::text, name, type, scope::text, description, status, " \
    "discovery_interval_s, " TS("created_at") ", " TS("updated_at") ", cluster, " \
    TS("discovery_last_run_at") ", discovery_last_outcome, discovery_last_count::text, " \
    "discovery_last_error"
#define BIND_COLS "id::text, connection_id::text, project_id::text, environment_id::text, " \
    "created_by::text, " TS("created_at")
/* clang-format on */

void sb_connection_store_at(const sb_row_set *rows, size_t i, sb_connection_row *out)
{
    out->id = PQgetvalue(rows->res, (int)i, 0);
    out->name = PQgetvalue(rows->res, (int)i, 1);
    out->type = PQgetvalue(rows->res, (int)i, 2);
    out->scope = PQgetvalue(rows->res, (int)i, 3);
    out->description = PQgetvalue(rows->res, (int)i, 4);
    out->status = PQgetvalue(rows->res, (int)i, 5);
    out->discovery_interval_s = atoi(PQgetvalue(rows->res, (int)i, 6));
    out->created_at = PQgetvalue(rows->res, (int)i, 7);
    out->updated_at = PQgetvalue(rows->res, (int)i, 8);
    out->cluster = sb_rows_text_or_null(rows, i, 9);
    out->discovery_last_run_at = sb_rows_text_or_null(rows, i, 10);
    out->discovery_last_outcome = sb_rows_text_or_null(rows, i, 11);
    out->discovery_last_count = sb_rows_text_or_null(rows, i, 12);
    out->discovery_last_error = sb_rows_text_or_null(rows, i, 13);
}

void sb_connection_store_binding_at(const sb_row_set *rows, size_t i,
                                    sb_connection_binding_row *out)
{
    out->id = PQgetvalue(rows->res, (int)i, 0);
    out->connection_id = PQgetvalue(rows->res, (int)i, 1);
    out->project_id = PQgetvalue(rows->res, (int)i, 2);
    out->environment_id = sb_rows_text_or_null(rows, i, 3);
    out->created_by = sb_rows_text_or_null(rows, i, 4);
    out->created_at = PQgetvalue(rows->res, (int)i, 5);
}

/* A one-row write with unique/foreign-key failures translated. */
static int write_one(sb_db_conn *conn, const char *sql, int n, const char *const *p,
                     sb_row_set *out, sb_error *err)
{
    int rc = sb_rows_query_one(conn, sql, n, p, out, err);
    if (rc < 0) {
        const sb_db_error_info *e = sb_db_last_error(conn);
        if (e && strcmp(e->sqlstate, "23505") == 0 &&
            strcmp(e->constraint_name, "connection_bindings_unique") == 0)
            sb_error_set(err, SB_TENANCY_E_EXISTS,
                         "that connection is already bound to this project and environment");
        else if (e && strcmp(e->sqlstate, "23505") == 0)
            sb_error_set(err, SB_TENANCY_E_NAME_TAKEN,
                         "that name is already taken by another provider connection; choose "
                         "another name");
        else if (e && strcmp(e->sqlstate, "23503") == 0)
            sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF,
                         "the binding refers to a project or environment that does not exist");
    }
    return rc;
}

static const char *interval_text(int v, char buf[SB_DB_INT_TEXT_MAX])
{
    return v < 0 ? NULL : sb_db_int_param(buf, v);
}

int sb_connection_store_create(sb_db_conn *conn, const sb_connection_fields *f, sb_row_set *out,
                               sb_error *err)
{
    char iv[SB_DB_INT_TEXT_MAX];
    const char *p[] = {f->name, f->type, f->scope_json ? f->scope_json : "{}",
                       f->description ? f->description : "", f->status ? f->status : "active",
                       interval_text(f->discovery_interval_s < 0 ? 300 : f->discovery_interval_s,
                                     iv),
                       f->cluster};
    return write_one(conn,
                     "INSERT INTO provider_connections (name, type, scope, description, status,"
                     " discovery_interval_s, cluster)"
                     " VALUES ($1, $2, $3::jsonb, $4, $5, $6::integer, $7)"
                     " RETURNING " CONN_COLS,
                     7, p, out, err);
}

int sb_connection_store_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                            sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(
        conn,
        for_update ? "SELECT " CONN_COLS " FROM provider_connections WHERE id = $1::uuid FOR UPDATE"
                   : "SELECT " CONN_COLS " FROM provider_connections WHERE id = $1::uuid",
        1, p, out, err);
}

int sb_connection_store_list(sb_db_conn *conn, const char *type, const char *status,
                             const sb_list_page *page, sb_row_set *out, sb_error *err)
{
    const char *p[] = {page->after && page->after[0] ? page->after : NULL, type, status};
    return sb_rows_query_page(conn,
                                       "SELECT " CONN_COLS " FROM provider_connections"
                                       " WHERE ($1::uuid IS NULL OR id > $1::uuid)"
                                       "   AND ($2::text IS NULL OR type = $2::text)"
                                       "   AND ($3::text IS NULL OR status = $3::text)"
                                       " ORDER BY id LIMIT $4::bigint",
                                       3, p, page->limit, out, err);
}

int sb_connection_store_update(sb_db_conn *conn, const char *id, const sb_connection_fields *f,
                               sb_row_set *out, sb_error *err)
{
    char iv[SB_DB_INT_TEXT_MAX];
    const char *p[] = {id,
                       f->name,
                       f->scope_json,
                       f->description,
                       f->status,
                       interval_text(f->discovery_interval_s, iv),
                       f->cluster_given ? "t" : "f",
                       f->cluster};
    return write_one(conn,
                     "UPDATE provider_connections SET name = coalesce($2, name),"
                     " scope = coalesce($3::jsonb, scope),"
                     " description = coalesce($4, description),"
                     " status = coalesce($5, status),"
                     " discovery_interval_s = coalesce($6::integer, discovery_interval_s),"
                     " cluster = CASE WHEN $7::boolean THEN $8 ELSE cluster END"
                     " WHERE id = $1::uuid RETURNING " CONN_COLS,
                     8, p, out, err);
}

int sb_connection_store_delete(sb_db_conn *conn, const char *id, sb_error *err)
{
    const char *p[] = {id};
    sb_row_set rows;
    int rc = sb_rows_query_one(
        conn,
        "SELECT (SELECT count(*) FROM connection_bindings b WHERE b.connection_id = c.id),"
        "       (SELECT count(*) FROM catalog_secrets s WHERE s.connection_id = c.id)"
        "  FROM provider_connections c WHERE c.id = $1::uuid FOR UPDATE OF c",
        1, p, &rows, err);
    if (rc != 0)
        return rc;
    long bindings = strtol(PQgetvalue(rows.res, 0, 0), NULL, 10);
    long secrets = strtol(PQgetvalue(rows.res, 0, 1), NULL, 10);
    sb_row_set_free(&rows);
    if (bindings > 0 || secrets > 0)
        return sb_error_set(err, SB_DB_E_REFUSED,
                            "connection_in_use: the connection still has %ld project binding(s) "
                            "and %ld catalog secret(s); remove the bindings, or disable the "
                            "connection (status \"disabled\") instead",
                            bindings, secrets);
    int64_t n = 0;
    if (sb_db_exec_affected(conn, "DELETE FROM provider_connections WHERE id = $1::uuid", 1, p, &n,
                            err) != 0)
        return -1;
    return n > 0 ? 0 : 1;
}

int sb_connection_store_binding_create(sb_db_conn *conn, const char *connection_id,
                                       const char *project_id, const char *environment_id,
                                       const char *created_by, sb_row_set *out, sb_error *err)
{
    const char *p[] = {connection_id, project_id,
                       environment_id && environment_id[0] ? environment_id : NULL, created_by};
    return write_one(conn,
                     "INSERT INTO connection_bindings (connection_id, project_id, environment_id,"
                     " created_by) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid)"
                     " RETURNING " BIND_COLS,
                     4, p, out, err);
}

int sb_connection_store_binding_list(sb_db_conn *conn, const char *connection_id,
                                     const sb_list_page *page, sb_row_set *out, sb_error *err)
{
    const char *p[] = {connection_id, page->after && page->after[0] ? page->after : NULL};
    return sb_rows_query_page(conn,
                                       "SELECT " BIND_COLS " FROM connection_bindings"
                                       " WHERE connection_id = $1::uuid"
                                       "   AND ($2::uuid IS NULL OR id > $2::uuid)"
                                       " ORDER BY id LIMIT $3::bigint",
                                       2, p, page->limit, out, err);
}

int sb_connection_store_binding_delete(sb_db_conn *conn, const char *connection_id,
                                       const char *binding_id, sb_row_set *out, sb_error *err)
{
    const char *p[] = {connection_id, binding_id};
    return sb_rows_query_one(conn,
                                      "DELETE FROM connection_bindings WHERE connection_id ="
                                      " $1::uuid AND id = $2::uuid RETURNING " BIND_COLS,
                                      2, p, out, err);
}
