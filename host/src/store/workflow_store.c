/* store/workflow_store.c — see workflow_store.h. */
#include "store/workflow_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/tenancy_store.h"

#define TS SB_ROWS_TS

/* clang-format off */
#define WF_COLS "w.id::text, w.name, w.description, w.min_approvers, " \
    "array_to_json(w.approver_role_ids)::text, w.groups::text, w.allow_self_approval, " \
    "w.require_justification, w.request_ttl_s, w.fill_ttl_s, w.wrap_ttl_created_s, " \
    "w.wrap_ttl_approved_s, w.wrap_ttl_claimed_s, array_to_json(w.notification_channels)::text, " \
    "w.enabled, w.is_default, w.is_system, w.scoped_policy_authorable, " \
    TS("w.created_at") ", " TS("w.updated_at") ", " \
    "(SELECT count(*) FROM policy_rules r WHERE r.workflow_id = w.id)"
/* A JSON array of strings as a PostgreSQL array ($n NULL: keep the column). */
#define JSON_ARRAY(n, type) "ARRAY(SELECT jsonb_array_elements_text($" #n "::jsonb))::" type
/* clang-format on */

static bool flag(const sb_row_set *rows, size_t i, int col)
{
    return PQgetvalue(rows->res, (int)i, col)[0] == 't';
}

static int num(const sb_row_set *rows, size_t i, int col)
{
    return atoi(PQgetvalue(rows->res, (int)i, col));
}

void sb_workflow_store_at(const sb_row_set *rows, size_t i, sb_workflow_row *out)
{
    out->id = PQgetvalue(rows->res, (int)i, 0);
    out->name = PQgetvalue(rows->res, (int)i, 1);
    out->description = PQgetvalue(rows->res, (int)i, 2);
    out->min_approvers = num(rows, i, 3);
    out->approver_role_ids = PQgetvalue(rows->res, (int)i, 4);
    out->groups = PQgetvalue(rows->res, (int)i, 5);
    out->allow_self_approval = flag(rows, i, 6);
    out->require_justification = flag(rows, i, 7);
    out->request_ttl_s = num(rows, i, 8);
    out->fill_ttl_s = num(rows, i, 9);
    out->wrap_ttl_created_s = num(rows, i, 10);
    out->wrap_ttl_approved_s = num(rows, i, 11);
    out->wrap_ttl_claimed_s = num(rows, i, 12);
    out->notification_channels = PQgetvalue(rows->res, (int)i, 13);
    out->enabled = flag(rows, i, 14);
    out->is_default = flag(rows, i, 15);
    out->is_system = flag(rows, i, 16);
    out->scoped_policy_authorable = flag(rows, i, 17);
    out->created_at = PQgetvalue(rows->res, (int)i, 18);
    out->updated_at = PQgetvalue(rows->res, (int)i, 19);
    out->policy_rules = strtol(PQgetvalue(rows->res, (int)i, 20), NULL, 10);
}

void sb_workflow_fields_init(sb_workflow_fields *f)
{
    memset(f, 0, sizeof *f);
    f->min_approvers = f->request_ttl_s = f->fill_ttl_s = -1;
    f->wrap_ttl_created_s = f->wrap_ttl_approved_s = f->wrap_ttl_claimed_s = -1;
    f->allow_self_approval = f->require_justification = f->enabled = -1;
    f->scoped_policy_authorable = -1;
}

/* Parameter texts of the fields, in the order of the SQL below ($2..$16). */
typedef struct params {
    char ints[6][SB_DB_INT_TEXT_MAX];
    const char *p[16];
} params;

static const char *int_text(int v, char buf[SB_DB_INT_TEXT_MAX])
{
    return v < 0 ? NULL : sb_db_int_param(buf, v);
}

static const char *bool_text(int v) { return v < 0 ? NULL : v ? "t" : "f"; }

static void fill_params(params *x, const char *id, const sb_workflow_fields *f)
{
    x->p[0] = id;
    x->p[1] = f->name;
    x->p[2] = f->description;
    x->p[3] = int_text(f->min_approvers, x->ints[0]);
    x->p[4] = f->approver_role_ids_json;
    x->p[5] = f->groups_json;
    x->p[6] = bool_text(f->allow_self_approval);
    x->p[7] = bool_text(f->require_justification);
    x->p[8] = int_text(f->request_ttl_s, x->ints[1]);
    x->p[9] = int_text(f->fill_ttl_s, x->ints[2]);
    x->p[10] = int_text(f->wrap_ttl_created_s, x->ints[3]);
    x->p[11] = int_text(f->wrap_ttl_approved_s, x->ints[4]);
    x->p[12] = int_text(f->wrap_ttl_claimed_s, x->ints[5]);
    x->p[13] = f->notification_channels_json;
    x->p[14] = bool_text(f->enabled);
    x->p[15] = bool_text(f->scoped_policy_authorable);
}

static int write_one(sb_db_conn *conn, const char *sql, const params *x, sb_row_set *out,
                     sb_error *err)
{
    int rc = sb_rows_query_one(conn, sql, 16, x->p, out, err);
    if (rc < 0)
        sb_tenancy_store_translate(conn, "workflow", err);
    return rc;
}

int sb_workflow_store_create(sb_db_conn *conn, const sb_workflow_fields *f, sb_row_set *out,
                             sb_error *err)
{
    params x;
    fill_params(&x, NULL, f);
    /* The column defaults apply where a parameter is NULL. */
    return write_one(
        conn,
        "WITH w AS (INSERT INTO workflows (name, description, min_approvers, approver_role_ids,"
        " groups, allow_self_approval, require_justification, request_ttl_s, fill_ttl_s,"
        " wrap_ttl_created_s, wrap_ttl_approved_s, wrap_ttl_claimed_s, notification_channels,"
        " enabled, scoped_policy_authorable) VALUES ($2, coalesce($3, ''),"
        " coalesce($4::integer, 1), coalesce(" JSON_ARRAY(5, "uuid[]") ", '{}'),"
        " coalesce($6::jsonb, '[]'), coalesce($7::boolean, false), coalesce($8::boolean, true),"
        " coalesce($9::integer, 1209600), coalesce($10::integer, 86400),"
        " coalesce($11::integer, 604800), coalesce($12::integer, 3600),"
        " coalesce($13::integer, 300), coalesce(" JSON_ARRAY(14, "text[]") ", '{}'),"
        " coalesce($15::boolean, true), coalesce($16::boolean, false))"
        " RETURNING *, $1::text AS unused) SELECT " WF_COLS " FROM w",
        &x, out, err);
}

int sb_workflow_store_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                          sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(
        conn,
        for_update ? "SELECT " WF_COLS " FROM workflows w WHERE w.id = $1::uuid FOR UPDATE OF w"
                   : "SELECT " WF_COLS " FROM workflows w WHERE w.id = $1::uuid",
        1, p, out, err);
}

int sb_workflow_store_list(sb_db_conn *conn, int enabled, int authorable, const sb_list_page *page,
                           sb_row_set *out, sb_error *err)
{
    const char *p[] = {page->after && page->after[0] ? page->after : NULL, bool_text(enabled),
                       bool_text(authorable)};
    return sb_rows_query_page(conn,
                                       "SELECT " WF_COLS " FROM workflows w"
                                       " WHERE ($1::uuid IS NULL OR w.id > $1::uuid)"
                                       "   AND ($2::boolean IS NULL OR w.enabled = $2::boolean)"
                                       "   AND ($3::boolean IS NULL"
                                       "        OR w.scoped_policy_authorable = $3::boolean)"
                                       " ORDER BY w.id LIMIT $4::bigint",
                                       3, p, page->limit, out, err);
}

int sb_workflow_store_update(sb_db_conn *conn, const char *id, const sb_workflow_fields *f,
                             sb_row_set *out, sb_error *err)
{
    params x;
    fill_params(&x, id, f);
    return write_one(
        conn,
        "WITH w AS (UPDATE workflows SET name = coalesce($2, name),"
        " description = coalesce($3, description),"
        " min_approvers = coalesce($4::integer, min_approvers),"
        " approver_role_ids = CASE WHEN $5::jsonb IS NULL THEN approver_role_ids"
        "   ELSE " JSON_ARRAY(5, "uuid[]") " END,"
        " groups = coalesce($6::jsonb, groups),"
        " allow_self_approval = coalesce($7::boolean, allow_self_approval),"
        " require_justification = coalesce($8::boolean, require_justification),"
        " request_ttl_s = coalesce($9::integer, request_ttl_s),"
        " fill_ttl_s = coalesce($10::integer, fill_ttl_s),"
        " wrap_ttl_created_s = coalesce($11::integer, wrap_ttl_created_s),"
        " wrap_ttl_approved_s = coalesce($12::integer, wrap_ttl_approved_s),"
        " wrap_ttl_claimed_s = coalesce($13::integer, wrap_ttl_claimed_s),"
        " notification_channels = CASE WHEN $14::jsonb IS NULL THEN notification_channels"
        "   ELSE " JSON_ARRAY(14, "text[]") " END,"
        " enabled = coalesce($15::boolean, enabled),"
        " scoped_policy_authorable = coalesce($16::boolean, scoped_policy_authorable)"
        " WHERE id = $1::uuid RETURNING *) SELECT " WF_COLS " FROM w",
        &x, out, err);
}

int sb_workflow_store_delete(sb_db_conn *conn, const char *id, sb_error *err)
{
    sb_row_set rows;
    int rc = sb_workflow_store_get(conn, id, true, &rows, err);
    if (rc != 0)
        return rc;
    sb_workflow_row w;
    sb_workflow_store_at(&rows, 0, &w);
    if (w.is_system || w.is_default || w.policy_rules > 0) {
        if (w.is_system)
            sb_error_set(err, SB_DB_E_REFUSED,
                         "system_workflow: workflow %s is a system workflow and cannot be "
                         "deleted; disable it or make another workflow the default instead",
                         w.name);
        else if (w.is_default)
            sb_error_set(err, SB_DB_E_REFUSED,
                         "default_workflow: workflow %s is the default; make another workflow "
                         "the default first (PUT /api/v1/workflows/{id}/default)",
                         w.name);
        else
            sb_error_set(err, SB_DB_E_REFUSED,
                         "workflow_in_use: %ld policy rule(s) still use workflow %s; point them "
                         "at another workflow or delete them first",
                         w.policy_rules, w.name);
        sb_row_set_free(&rows);
        return -1;
    }
    sb_row_set_free(&rows);
    const char *p[] = {id};
    int64_t n = 0;
    if (sb_db_exec_affected(conn, "DELETE FROM workflows WHERE id = $1::uuid", 1, p, &n, err) != 0)
        return -1;
    return n > 0 ? 0 : 1;
}

/* The one-parameter statement's first cell (an id) into out ("" when no
 * row): 0 found, 1 none, -1 error. */
static int first_id(sb_db_conn *conn, const char *sql, const char *const *p, char out[37],
                    sb_error *err)
{
    sb_row_set rows;
    out[0] = '\0';
    int rc = sb_rows_query_one(conn, sql, 1, p, &rows, err);
    if (rc == 0) {
        snprintf(out, 37, "%s", PQgetvalue(rows.res, 0, 0));
        sb_row_set_free(&rows);
    }
    return rc;
}

int sb_workflow_store_set_default(sb_db_conn *conn, const char *id, sb_row_set *out,
                                  char previous[37], sb_error *err)
{
    /* One switch at a time: each statement below then sees the previous
     * switch committed (READ COMMITTED takes a snapshot per statement). */
    const char *k[] = {SB_DB_INT(sb_db_advisory_key("workflows.default"))};
    if (sb_db_exec(conn, "SELECT pg_advisory_xact_lock($1::bigint)", 1, k, NULL, err) != 0)
        return -1;
    sb_row_set rows;
    int rc = sb_workflow_store_get(conn, id, true, &rows, err);
    if (rc != 0)
        return rc;
    sb_workflow_row w;
    sb_workflow_store_at(&rows, 0, &w);
    if (!w.enabled) {
        sb_error_set(err, SB_DB_E_REFUSED,
                     "workflow_disabled: workflow %s is disabled and cannot become the default; "
                     "enable it first (PUT /api/v1/workflows/{id} {\"enabled\": true})",
                     w.name);
        sb_row_set_free(&rows);
        return -1;
    }
    sb_row_set_free(&rows);
    const char *p[] = {id};
    if (first_id(conn,
                 "UPDATE workflows SET is_default = false"
                 " WHERE is_default AND id <> $1::uuid RETURNING id::text",
                 p, previous, err) < 0)
        return -1;
    return sb_rows_query_one(conn,
                                      "WITH w AS (UPDATE workflows SET is_default = true"
                                      " WHERE id = $1::uuid RETURNING *) SELECT " WF_COLS
                                      " FROM w",
                                      1, p, out, err);
}

int sb_workflow_store_missing_role(sb_db_conn *conn, const char *ids_json, char missing[37],
                                   sb_error *err)
{
    const char *p[] = {ids_json};
    /* the named roles are locked FOR SHARE: a concurrent role delete waits
     * for this transaction and then sees the workflow using it */
    return first_id(conn,
                    "WITH named AS (SELECT x::uuid AS id"
                    "               FROM jsonb_array_elements_text($1::jsonb) x),"
                    " locked AS (SELECT r.id FROM roles r WHERE r.id IN (SELECT id FROM named)"
                    "            FOR SHARE)"
                    " SELECT id::text FROM named WHERE id NOT IN (SELECT id FROM locked) LIMIT 1",
                    p, missing, err) < 0
               ? -1
               : 0;
}
