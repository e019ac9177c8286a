/* store/catalog_store.c — see catalog_store.h. */
#include "store/catalog_store.h"

#include <stdlib.h>
#include <string.h>

#include "store/tenancy_store.h"

#define TS SB_ROWS_TS

/* clang-format off */
#define CAT_COLS "c.id::text, c.connection_id::text, pc.name, pc.type, c.secret_ref, " \
    "c.labels::text, c.version, " TS("c.created_at_source") ", " TS("c.updated_at_source") ", " \
    TS("c.first_seen_at") ", " TS("c.last_seen_at") ", c.status"
#define CAT_FROM " FROM catalog_secrets c JOIN provider_connections pc ON pc.id = c.connection_id"
/* a catalog row c visible in one of the projects of uuid[] param P */
#define IN_PROJECTS(P) \
    "(EXISTS (SELECT 1 FROM secret_bindings sb WHERE sb.catalog_secret_id = c.id" \
    "           AND sb.project_id = ANY (" P "))" \
    " OR EXISTS (SELECT 1 FROM connection_bindings cb WHERE cb.connection_id = c.connection_id" \
    "           AND cb.project_id = ANY (" P ")))"
#define BIND_COLS "b.id::text, b.catalog_secret_id::text, b.project_id::text, " \
    "b.environment_id::text, to_jsonb(b.allowed_keys)::text, to_jsonb(b.allowed_ops)::text, " \
    "c.secret_ref, b.created_by::text, " TS("b.created_at") ", " TS("b.updated_at")
/* clang-format on */

void sb_catalog_store_at(const sb_row_set *rows, size_t i, sb_catalog_row *out)
{
    out->id = PQgetvalue(rows->res, (int)i, 0);
    out->connection_id = PQgetvalue(rows->res, (int)i, 1);
    out->connection_name = PQgetvalue(rows->res, (int)i, 2);
    out->provider_type = PQgetvalue(rows->res, (int)i, 3);
    out->secret_ref = PQgetvalue(rows->res, (int)i, 4);
    out->labels = PQgetvalue(rows->res, (int)i, 5);
    out->version = sb_rows_text_or_null(rows, i, 6);
    out->created_at_source = sb_rows_text_or_null(rows, i, 7);
    out->updated_at_source = sb_rows_text_or_null(rows, i, 8);
    out->first_seen_at = PQgetvalue(rows->res, (int)i, 9);
    out->last_seen_at = PQgetvalue(rows->res, (int)i, 10);
    out->status = PQgetvalue(rows->res, (int)i, 11);
}

void sb_catalog_store_binding_at(const sb_row_set *rows, size_t i, sb_secret_binding_row *out)
{
    out->id = PQgetvalue(rows->res, (int)i, 0);
    out->catalog_secret_id = PQgetvalue(rows->res, (int)i, 1);
    out->project_id = PQgetvalue(rows->res, (int)i, 2);
    out->environment_id = PQgetvalue(rows->res, (int)i, 3);
    out->allowed_keys = PQgetvalue(rows->res, (int)i, 4);
    out->allowed_ops = PQgetvalue(rows->res, (int)i, 5);
    out->secret_ref = PQgetvalue(rows->res, (int)i, 6);
    out->created_by = sb_rows_text_or_null(rows, i, 7);
    out->created_at = PQgetvalue(rows->res, (int)i, 8);
    out->updated_at = PQgetvalue(rows->res, (int)i, 9);
}

static const char *flag(const sb_id_filter *f) { return f->all ? "t" : "f"; }

int sb_catalog_store_list(sb_db_conn *conn, const sb_catalog_filter *f, const sb_list_page *page,
                          sb_row_set *out, sb_error *err)
{
    char *ids = sb_rows_id_array(f->visible.ids, f->visible.all ? 0 : f->visible.n, err);
    if (ids == NULL)
        return -1;
    const char *p[] = {flag(&f->visible), ids, page->after && page->after[0] ? page->after : NULL,
                       f->connection_id, f->ref_prefix, f->status, f->labels_json, f->project_id};
    int rc = sb_rows_query_page(
        conn,
        "SELECT " CAT_COLS CAT_FROM " WHERE ($1::boolean OR " IN_PROJECTS("$2::uuid[]") ")"
        "   AND ($3::uuid IS NULL OR c.id > $3::uuid)"
        "   AND ($4::uuid IS NULL OR c.connection_id = $4::uuid)"
        "   AND ($5::text IS NULL OR starts_with(c.secret_ref, $5::text))"
        "   AND ($6::text IS NULL OR c.status = $6::text)"
        "   AND ($7::jsonb IS NULL OR c.labels @> $7::jsonb)"
        "   AND ($8::uuid IS NULL OR " IN_PROJECTS("ARRAY[$8::uuid]") ")"
        " ORDER BY c.id LIMIT $9::bigint",
        8, p, page->limit, out, err);
    free(ids);
    return rc;
}

int sb_catalog_store_get(sb_db_conn *conn, const char *id, const sb_id_filter *visible,
                         sb_row_set *out, sb_error *err)
{
    char *ids = sb_rows_id_array(visible->ids, visible->all ? 0 : visible->n, err);
    if (ids == NULL)
        return -1;
    const char *p[] = {id, flag(visible), ids};
    int rc = sb_rows_query_one(conn,
                                        "SELECT " CAT_COLS CAT_FROM " WHERE c.id = $1::uuid"
                                        "   AND ($2::boolean OR " IN_PROJECTS("$3::uuid[]") ")",
                                        3, p, out, err);
    free(ids);
    return rc;
}

int sb_catalog_store_upsert_batch(sb_db_conn *conn, const char *connection_id,
                                  const char *items_json, bool mark_missing, int64_t *upserted,
                                  sb_error *err)
{
    const char *p[] = {connection_id, items_json};
    int64_t n = 0;
    if (sb_db_exec_affected(
            conn,
            "INSERT INTO catalog_secrets AS c (connection_id, secret_ref, labels, version,"
            "   created_at_source, updated_at_source)"
            " SELECT $1::uuid, r.secret_ref, coalesce(r.labels, '{}'::jsonb), r.version,"
            "        r.created_at, r.updated_at"
            "   FROM jsonb_to_recordset($2::jsonb) AS r(secret_ref text, labels jsonb,"
            "        version text, created_at timestamptz, updated_at timestamptz)"
            " ON CONFLICT (connection_id, secret_ref) DO UPDATE SET labels = EXCLUDED.labels,"
            "   version = EXCLUDED.version, created_at_source = EXCLUDED.created_at_source,"
            "   updated_at_source = EXCLUDED.updated_at_source, last_seen_at = now(),"
            "   status = 'present'",
            2, p, &n, err) != 0)
        return -1;
    if (mark_missing &&
        sb_db_exec_affected(conn,
                            "UPDATE catalog_secrets SET status = 'missing'"
                            " WHERE connection_id = $1::uuid AND status = 'present'"
                            "   AND secret_ref NOT IN (SELECT r.secret_ref FROM"
                            "       jsonb_to_recordset($2::jsonb) AS r(secret_ref text))",
                            2, p, NULL, err) != 0)
        return -1;
    if (upserted)
        *upserted = n;
    return 0;
}

int sb_catalog_store_available(sb_db_conn *conn, const char *catalog_id, const char *project_id,
                               const char *environment_id, sb_error *err)
{
    const char *p[] = {catalog_id, project_id, environment_id};
    sb_row_set rows;
    int rc = sb_rows_query_one(
        conn,
        "SELECT 1 FROM catalog_secrets c JOIN connection_bindings cb"
        "    ON cb.connection_id = c.connection_id"
        " WHERE c.id = $1::uuid AND cb.project_id = $2::uuid"
        "   AND (cb.environment_id IS NULL OR cb.environment_id = $3::uuid) LIMIT 1",
        3, p, &rows, err);
    if (rc == 0)
        sb_row_set_free(&rows);
    return rc < 0 ? -1 : rc == 0;
}

static void translate(sb_db_conn *conn, sb_error *err)
{
    const sb_db_error_info *e = sb_db_last_error(conn);
    if (e && strcmp(e->sqlstate, "23505") == 0)
        sb_error_set(err, SB_TENANCY_E_EXISTS,
                     "that secret is already bound to this project environment; update the "
                     "existing binding instead");
    else if (e && strcmp(e->sqlstate, "23503") == 0)
        sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF,
                     "the binding refers to a secret, project or environment that does not exist");
}

int sb_catalog_store_binding_create(sb_db_conn *conn, const char *catalog_id,
                                    const char *project_id, const char *environment_id,
                                    const char *keys_json, const char *ops_json,
                                    const char *created_by, sb_row_set *out, sb_error *err)
{
    const char *p[] = {catalog_id, project_id, environment_id, keys_json, ops_json, created_by};
    int rc = sb_rows_query_one(
        conn,
        "WITH b AS (INSERT INTO secret_bindings (catalog_secret_id, project_id, environment_id,"
        "   allowed_keys, allowed_ops, created_by)"
        " VALUES ($1::uuid, $2::uuid, $3::uuid,"
        "   ARRAY(SELECT jsonb_array_elements_text($4::jsonb)),"
        "   ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), $6::uuid) RETURNING *)"
        " SELECT " BIND_COLS " FROM b JOIN catalog_secrets c ON c.id = b.catalog_secret_id",
        6, p, out, err);
    if (rc < 0)
        translate(conn, err);
    return rc;
}

int sb_catalog_store_binding_get(sb_db_conn *conn, const char *project_id, const char *id,
                                 bool for_update, sb_row_set *out, sb_error *err)
{
    const char *p[] = {project_id, id};
    return sb_rows_query_one(
        conn,
        for_update ? "SELECT " BIND_COLS " FROM secret_bindings b JOIN catalog_secrets c"
                     " ON c.id = b.catalog_secret_id WHERE b.project_id = $1::uuid"
                     " AND b.id = $2::uuid FOR UPDATE OF b"
                   : "SELECT " BIND_COLS " FROM secret_bindings b JOIN catalog_secrets c"
                     " ON c.id = b.catalog_secret_id WHERE b.project_id = $1::uuid"
                     " AND b.id = $2::uuid",
        2, p, out, err);
}

int sb_catalog_store_binding_list(sb_db_conn *conn, const char *project_id,
                                  const sb_list_page *page, sb_row_set *out, sb_error *err)
{
    const char *p[] = {project_id, page->after && page->after[0] ? page->after : NULL};
    return sb_rows_query_page(conn,
                                       "SELECT " BIND_COLS " FROM secret_bindings b"
                                       " JOIN catalog_secrets c ON c.id = b.catalog_secret_id"
                                       " WHERE b.project_id = $1::uuid"
                                       "   AND ($2::uuid IS NULL OR b.id > $2::uuid)"
                                       " ORDER BY b.id LIMIT $3::bigint",
                                       2, p, page->limit, out, err);
}

int sb_catalog_store_binding_update(sb_db_conn *conn, const char *id, const char *keys_json,
                                    const char *ops_json, sb_row_set *out, sb_error *err)
{
    const char *p[] = {id, keys_json, ops_json};
    return sb_rows_query_one(
        conn,
        "WITH b AS (UPDATE secret_bindings SET"
        "   allowed_keys = CASE WHEN $2::jsonb IS NULL THEN allowed_keys"
        "     ELSE ARRAY(SELECT jsonb_array_elements_text($2::jsonb)) END,"
        "   allowed_ops = CASE WHEN $3::jsonb IS NULL THEN allowed_ops"
        "     ELSE ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) END"
        " WHERE id = $1::uuid RETURNING *)"
        " SELECT " BIND_COLS " FROM b JOIN catalog_secrets c ON c.id = b.catalog_secret_id",
        3, p, out, err);
}

int sb_catalog_store_binding_delete(sb_db_conn *conn, const char *id, sb_error *err)
{
    const char *p[] = {id};
    int64_t n = 0;
    if (sb_db_exec_affected(conn, "DELETE FROM secret_bindings WHERE id = $1::uuid", 1, p, &n,
                            err) != 0)
        return -1;
    return n > 0 ? 0 : 1;
}
