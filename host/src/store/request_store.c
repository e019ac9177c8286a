/*
 * store/request_store.c — the SQL of store/request_store.h.
 */
#include "store/request_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/tenancy_store.h"

#define TS SB_ROWS_TS

/* Column order of sb_request_store_at. */
#define REQ_COLS                                                                                   \
    "r.id::text, r.kind, r.state, r.requester_id::text, r.justification, r.project_id::text, "   \
    "r.environment_id::text, r.binding_id::text, r.catalog_secret_id::text, "                    \
    "r.connection_id::text, r.provider_type, r.secret_ref, array_to_json(r.keys)::text, "        \
    "r.operation, r.target_team_id::text, r.workflow_id::text, r.workflow::text, "               \
    "r.policy::text, " TS("r.expires_at") ", " TS("r.fill_expires_at") ", r.filled_by::text, "   \
    TS("r.filled_at") ", r.fill_comment, r.reason, " TS("r.decided_at") ", "                      \
    TS("r.created_at") ", " TS("r.updated_at") ", "                                               \
    "EXISTS (SELECT 1 FROM job_intents j WHERE j.request_id = r.id), "                             \
    "r.expires_at <= now(), coalesce(r.fill_expires_at <= now(), false)"

void sb_request_store_at(const sb_row_set *rows, size_t i, sb_request_row *out)
{
    const char **f[] = {&out->id,           &out->kind,           &out->state,
                        &out->requester_id, &out->justification,  &out->project_id,
                        &out->environment_id, &out->binding_id,   &out->catalog_secret_id,
                        &out->connection_id, &out->provider_type, &out->secret_ref,
                        &out->keys,         &out->operation,      &out->target_team_id,
                        &out->workflow_id,  &out->workflow,       &out->policy,
                        &out->expires_at,   &out->fill_expires_at, &out->filled_by,
                        &out->filled_at,    &out->fill_comment,   &out->reason,
                        &out->decided_at,   &out->created_at,     &out->updated_at};
    for (size_t c = 0; c < sizeof f / sizeof f[0]; c++)
        *f[c] = sb_rows_text_or_null(rows, i, (int)c);
    out->job_intent = PQgetvalue(rows->res, (int)i, 27)[0] == 't';
    out->ttl_passed = PQgetvalue(rows->res, (int)i, 28)[0] == 't';
    out->fill_window_passed = PQgetvalue(rows->res, (int)i, 29)[0] == 't';
}

/* Every row of a query (no paging). */
static int query_all(sb_db_conn *conn, const char *sql, int n, const char *const *p,
                     sb_row_set *out, sb_error *err)
{
    PGresult *res = NULL;
    if (sb_db_exec(conn, sql, n, p, &res, err) != 0)
        return -1;
    out->res = res;
    out->n = (size_t)PQntuples(res);
    out->more = false;
    return 0;
}

/* A one-row write whose failure is translated for `what`. */
static int write_one(sb_db_conn *conn, const char *what, const char *sql, int nparams,
                     const char *const *params, sb_row_set *out, sb_error *err)
{
    int rc = sb_rows_query_one(conn, sql, nparams, params, out, err);
    if (rc < 0)
        sb_tenancy_store_translate(conn, what, err);
    return rc;
}

int sb_request_store_insert(sb_db_conn *conn, const sb_request_new *n, sb_row_set *out,
                            sb_error *err)
{
    const char *p[] = {n->kind,           n->state,          n->requester_id,
                       n->justification,  n->project_id,     n->environment_id,
                       n->binding_id,     n->catalog_secret_id, n->connection_id,
                       n->provider_type,  n->secret_ref,     n->keys_json,
                       n->operation,      n->target_team_id, n->workflow_id,
                       n->policy_json};
    return write_one(
        conn, "request",
        "WITH r AS (INSERT INTO requests (kind, state, requester_id, justification, project_id,"
        "   environment_id, binding_id, catalog_secret_id, connection_id, provider_type,"
        "   secret_ref, keys, operation, target_team_id, workflow_id, workflow, policy,"
        "   expires_at, fill_expires_at)"
        " SELECT $1, $2, $3::uuid, $4, $5::uuid, $6::uuid, $7::uuid, $8::uuid, $9::uuid, $10,"
        "   $11, ARRAY(SELECT jsonb_array_elements_text($12::jsonb)), $13, $14::uuid, w.id,"
        "   to_jsonb(w) - 'created_at' - 'updated_at', $16::jsonb,"
        "   now() + make_interval(secs => w.request_ttl_s),"
        "   CASE WHEN $1 = 'cross_team' THEN now() + make_interval(secs => w.fill_ttl_s) END"
        " FROM workflows w WHERE w.id = $15::uuid RETURNING *)"
        " SELECT " REQ_COLS " FROM r",
        16, p, out, err);
}

int sb_request_store_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                         sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(
        conn,
        for_update ? "SELECT " REQ_COLS " FROM requests r WHERE r.id = $1::uuid FOR UPDATE OF r"
                   : "SELECT " REQ_COLS " FROM requests r WHERE r.id = $1::uuid",
        1, p, out, err);
}

int sb_request_store_lock_with_votes(sb_db_conn *conn, const char *id, sb_row_set *out,
                                     sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(conn,
                             "SELECT " REQ_COLS ", request_votes_now(r.id)::text FROM requests r"
                             " WHERE r.id = $1::uuid FOR UPDATE OF r",
                             1, p, out, err);
}

const char *sb_request_store_locked_votes(const sb_row_set *rows)
{
    return PQgetvalue(rows->res, 0, PQnfields(rows->res) - 1);
}

int sb_request_store_set_state(sb_db_conn *conn, const char *id, const char *from,
                               const char *to, const sb_request_change *c, sb_row_set *out,
                               sb_error *err)
{
    static const sb_request_change none = {0};
    if (c == NULL)
        c = &none;
    const sb_request_vote_in *v = c->vote;
    const char *p[] = {id, from, to, c->reason, c->filled_by, c->fill_comment,
                       c->decided ? "t" : "f", v ? v->approver_id : NULL,
                       v ? v->decision : NULL, v ? SB_DB_INT(v->groups) : NULL,
                       v && v->comment ? v->comment : ""};
    return write_one(
        conn, "request",
        "WITH v AS (INSERT INTO request_votes (request_id, approver_id, decision, groups,"
        "   comment) SELECT $1::uuid, $8::uuid, $9::text, $10::bigint, $11::text WHERE $8::uuid IS NOT NULL),"
        " r AS (UPDATE requests SET state = $3,"
        "   reason = COALESCE($4, reason),"
        "   filled_by = COALESCE($5::uuid, filled_by),"
        "   filled_at = CASE WHEN $5::uuid IS NULL THEN filled_at ELSE now() END,"
        "   fill_comment = COALESCE($6, fill_comment),"
        "   decided_at = CASE WHEN $7::boolean THEN now() ELSE decided_at END"
        " WHERE id = $1::uuid AND state = $2 RETURNING *)"
        " SELECT " REQ_COLS " FROM r",
        11, p, out, err);
}

static int exists(sb_db_conn *conn, const char *sql, int n, const char *const *p, sb_error *err)
{
    PGresult *res = NULL;
    if (sb_db_exec(conn, sql, n, p, &res, err) != 0)
        return -1;
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found;
}


/* ---- target ------------------------------------------------------------------ */

int sb_request_store_target(sb_db_conn *conn, const char *binding_id, sb_row_set *out,
                            sb_error *err)
{
    const char *p[] = {binding_id};
    return sb_rows_query_one(
        conn,
        "SELECT b.id::text, p.id::text, p.status, p.team_id::text, e.id::text, e.kind,"
        "   c.id::text, c.secret_ref, c.status, pc.id::text, pc.type, pc.status,"
        "   array_to_json(b.allowed_keys)::text, array_to_json(b.allowed_ops)::text"
        " FROM secret_bindings b"
        " JOIN projects p ON p.id = b.project_id"
        " JOIN environments e ON e.id = b.environment_id"
        " JOIN catalog_secrets c ON c.id = b.catalog_secret_id"
        " JOIN provider_connections pc ON pc.id = c.connection_id"
        " WHERE b.id = $1::uuid FOR SHARE OF b",
        1, p, out, err);
}

void sb_request_store_target_at(const sb_row_set *rows, sb_request_target *out)
{
    const char **f[] = {&out->binding_id,     &out->project_id,       &out->project_status,
                        &out->team_id,        &out->environment_id,   &out->environment_kind,
                        &out->catalog_secret_id, &out->secret_ref,    &out->catalog_status,
                        &out->connection_id,  &out->provider_type,    &out->connection_status,
                        &out->allowed_keys,   &out->allowed_ops};
    for (size_t c = 0; c < sizeof f / sizeof f[0]; c++)
        *f[c] = sb_rows_text_or_null(rows, 0, (int)c);
}

/* ---- votes ------------------------------------------------------------------ */

int sb_request_store_votes(sb_db_conn *conn, const char *request_id, sb_row_set *out,
                           sb_error *err)
{
    const char *p[] = {request_id};
    return query_all(conn,
                     "SELECT v.approver_id::text, u.username, v.decision, v.comment, "
                     TS("v.created_at") ", v.groups FROM request_votes v"
                     " JOIN users u ON u.id = v.approver_id"
                     " WHERE v.request_id = $1::uuid ORDER BY v.created_at, v.approver_id",
                     1, p, out, err);
}

void sb_request_store_vote_at(const sb_row_set *rows, size_t i, sb_request_vote_row *out)
{
    out->approver_id = PQgetvalue(rows->res, (int)i, 0);
    out->username = PQgetvalue(rows->res, (int)i, 1);
    out->decision = PQgetvalue(rows->res, (int)i, 2);
    out->comment = PQgetvalue(rows->res, (int)i, 3);
    out->created_at = PQgetvalue(rows->res, (int)i, 4);
    out->groups = sb_db_cell_i64(rows->res, (int)i, 5);
}


int sb_request_store_holds_role(sb_db_conn *conn, const char *user_id, const char *role_ids,
                                const char *project_id, const char *team_ids, sb_error *err)
{
    const char *p[] = {user_id, role_ids, project_id, team_ids};
    return exists(conn,
                  "SELECT 1 FROM grants g WHERE g.user_id = $1::uuid"
                  " AND g.role_id = ANY($2::uuid[])"
                  " AND (g.scope_type = 'global' OR g.project_id = $3::uuid"
                  "      OR g.team_id = ANY($4::uuid[])) LIMIT 1",
                  4, p, err);
}

int sb_request_store_team_member(sb_db_conn *conn, const char *team_id, const char *user_id,
                                 sb_error *err)
{
    const char *p[] = {team_id, user_id};
    return exists(conn,
                  "SELECT 1 FROM team_members WHERE team_id = $1::uuid AND user_id = $2::uuid", 2,
                  p, err);
}

/* ---- sealed values ------------------------------------------------------------ */

int sb_request_store_sealed_insert(sb_db_conn *conn, const char *request_id, const char *key,
                                   const char *recipient, const char *box_b64, int ttl_s,
                                   sb_error *err)
{
    const char *p[] = {request_id, key, recipient, box_b64, SB_DB_INT(ttl_s)};
    int rc = sb_db_exec_affected(
        conn,
        "INSERT INTO request_sealed_values (request_id, key_name, recipient, box, expires_at)"
        " VALUES ($1::uuid, $2, $3, decode($4, 'base64'), now() + make_interval(secs => $5::int))",
        5, p, NULL, err);
    if (rc != 0)
        sb_tenancy_store_translate(conn, "sealed value", err);
    return rc;
}

int sb_request_store_sealed_retime(sb_db_conn *conn, const char *request_id, int ttl_s,
                                   bool shorten_only, sb_error *err)
{
    const char *p[] = {request_id, SB_DB_INT(ttl_s), shorten_only ? "t" : "f"};
    return sb_db_exec_affected(
        conn,
        "UPDATE request_sealed_values SET expires_at = CASE WHEN $3::boolean"
        "   THEN LEAST(expires_at, now() + make_interval(secs => $2::int))"
        "   ELSE now() + make_interval(secs => $2::int) END"
        " WHERE request_id = $1::uuid",
        3, p, NULL, err);
}

int sb_request_store_sealed_counts(sb_db_conn *conn, const char *request_id, int64_t *boxes,
                                   int64_t *recipients, sb_error *err)
{
    const char *p[] = {request_id};
    PGresult *res = NULL;
    if (sb_db_exec(conn,
                   "SELECT count(*), count(DISTINCT recipient) FROM request_sealed_values"
                   " WHERE request_id = $1::uuid",
                   1, p, &res, err) != 0)
        return -1;
    *boxes = sb_db_cell_i64(res, 0, 0);
    *recipients = sb_db_cell_i64(res, 0, 1);
    PQclear(res);
    return 0;
}

/* ---- lists ------------------------------------------------------------------ */

int sb_request_store_list(sb_db_conn *conn, const sb_request_filter *f, const sb_list_page *page,
                          sb_row_set *out, sb_error *err)
{
    char *ids = sb_rows_id_array(f->scope.ids, f->scope.all ? 0 : f->scope.n, err);
    if (ids == NULL)
        return -1;
    const char *after = page->after && page->after[0] ? page->after : NULL;
    const char *p[] = {f->user_id, f->scope.all ? "t" : "f", ids, after, f->state, f->kind};
    const char *sql = NULL;
    switch (f->list) {
    case SB_REQUEST_LIST_MINE:
        sql = "SELECT " REQ_COLS " FROM requests r WHERE r.requester_id = $1::uuid"
              "   AND ($2::boolean OR $3::uuid[] IS NOT NULL)" /* unused here; types $2, $3 */
              "   AND ($4::uuid IS NULL OR (r.created_at, r.id) <"
              "        (SELECT created_at, id FROM requests WHERE id = $4::uuid))"
              "   AND ($5::text IS NULL OR r.state = $5) AND ($6::text IS NULL OR r.kind = $6)"
              " ORDER BY r.created_at DESC, r.id DESC LIMIT $7::bigint";
        break;
    case SB_REQUEST_LIST_QUEUE:
        sql = "SELECT " REQ_COLS " FROM requests r"
              " WHERE r.state IN ('pending', 'pending_verification')"
              "   AND ($2::boolean OR r.project_id = ANY($3::uuid[]))"
              "   AND r.requester_id <> $1::uuid"
              "   AND r.filled_by IS DISTINCT FROM $1::uuid"
              "   AND NOT EXISTS (SELECT 1 FROM request_votes v"
              "                   WHERE v.request_id = r.id AND v.approver_id = $1::uuid)"
              "   AND ($4::uuid IS NULL OR (r.created_at, r.id) >"
              "        (SELECT created_at, id FROM requests WHERE id = $4::uuid))"
              "   AND ($5::text IS NULL OR r.state = $5) AND ($6::text IS NULL OR r.kind = $6)"
              " ORDER BY r.created_at, r.id LIMIT $7::bigint";
        break;
    case SB_REQUEST_LIST_INBOX:
        sql = "SELECT " REQ_COLS " FROM requests r"
              " WHERE r.state = 'pending_values'"
              "   AND ($2::boolean OR r.target_team_id = ANY($3::uuid[]))"
              "   AND r.requester_id <> $1::uuid"
              "   AND ($4::uuid IS NULL OR (r.created_at, r.id) >"
              "        (SELECT created_at, id FROM requests WHERE id = $4::uuid))"
              "   AND ($5::text IS NULL OR r.state = $5) AND ($6::text IS NULL OR r.kind = $6)"
              " ORDER BY r.created_at, r.id LIMIT $7::bigint";
        break;
    }
    int rc = sb_rows_query_page(conn, sql, 6, p, page->limit, out, err);
    free(ids);
    return rc;
}

/* The expression of the requests_due index (migration 0014). */
#define DUE_AT                                                                                     \
    "(CASE WHEN r.state = 'pending_values' THEN LEAST(r.expires_at, r.fill_expires_at)"            \
    " ELSE r.expires_at END)"

int sb_request_store_due(sb_db_conn *conn, long limit, sb_row_set *out, sb_error *err)
{
    const char *p[] = {SB_DB_INT(limit)};
    return query_all(conn,
                     "SELECT " REQ_COLS " FROM requests r"
                     " WHERE r.state IN ('pending', 'pending_values', 'pending_verification')"
                     "   AND " DUE_AT " <= now() ORDER BY " DUE_AT
                     " LIMIT $1::bigint FOR UPDATE OF r SKIP LOCKED",
                     1, p, out, err);
}
