/* store/tenancy_store.c — see tenancy_store.h. One SQL statement per
 * function where possible; column lists are kept next to the accessor that
 * reads them, so the two cannot drift apart unnoticed. */
#include "store/tenancy_store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS SB_ROWS_TS

/* ---- shared helpers ------------------------------------------------------- */

void sb_tenancy_store_translate(sb_db_conn *conn, const char *what, sb_error *err)
{
    const sb_db_error_info *e = sb_db_last_error(conn);
    if (e == NULL || err == NULL)
        return;
    if (strcmp(e->sqlstate, "23505") == 0) {
        if (strcmp(e->constraint_name, "team_members_pkey") == 0 ||
            strcmp(e->constraint_name, "grants_unique") == 0)
            sb_error_set(err, SB_TENANCY_E_EXISTS, "that %s already exists", what);
        else
            sb_error_set(err, SB_TENANCY_E_NAME_TAKEN,
                         "that name is already taken by another %s; choose another name", what);
    } else if (strcmp(e->sqlstate, "P0001") == 0 && strcmp(e->hint, "team_cycle") == 0) {
        sb_error_set(err, SB_TENANCY_E_CYCLE,
                     "a team cannot be moved under itself or one of its descendants");
    } else if (strcmp(e->sqlstate, "P0001") == 0 && strcmp(e->hint, "environment_immutable") == 0) {
        sb_error_set(err, SB_TENANCY_E_IMMUTABLE,
                     "an environment's kind, name and project cannot change; create a new "
                     "environment instead");
    } else if (strcmp(e->sqlstate, "23503") == 0) {
        sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF, "the %s refers to a row that does not exist",
                     what);
    }
}

int sb_tenancy_store_lock_tree(sb_db_conn *conn, sb_error *err)
{
    const char *params[] = {SB_DB_INT(sb_db_advisory_key("sbridge.teams.tree"))};
    PGresult *res = NULL;
    int rc = sb_db_exec(conn, "SELECT pg_advisory_xact_lock($1::bigint)", 1, params, &res, err);
    PQclear(res);
    return rc;
}

/* Runs a one-row write (INSERT/UPDATE ... RETURNING): 0, 1 (no row) or -1
 * with the failure translated for `what`. */
static int write_one(sb_db_conn *conn, const char *what, const char *sql, int nparams,
                     const char *const *params, sb_row_set *out, sb_error *err)
{
    sb_row_set local = {0};
    sb_row_set *target = out ? out : &local;
    int rc = sb_rows_query_one(conn, sql, nparams, params, target, err);
    if (rc < 0)
        sb_tenancy_store_translate(conn, what, err);
    if (out == NULL)
        sb_row_set_free(&local);
    return rc;
}

static const char *filter_flag(const sb_id_filter *f) { return f->all ? "t" : "f"; }

static const char *empty_to_null(const char *s) { return s && *s ? s : NULL; }

/* ---- teams ---------------------------------------------------------------- */

/* clang-format off */
#define TEAM_COLS "id::text, name, description, parent_id::text, status, " \
    TS("created_at") ", " TS("updated_at")
/* clang-format on */

void sb_tenancy_store_team_at(const sb_row_set *rows, size_t i, sb_team_row *out)
{
    out->id = PQgetvalue(rows->res, (int)i, 0);
    out->name = PQgetvalue(rows->res, (int)i, 1);
    out->description = PQgetvalue(rows->res, (int)i, 2);
    out->parent_id = sb_rows_text_or_null(rows, i, 3);
    out->status = PQgetvalue(rows->res, (int)i, 4);
    out->created_at = PQgetvalue(rows->res, (int)i, 5);
    out->updated_at = PQgetvalue(rows->res, (int)i, 6);
}

int sb_tenancy_store_team_create(sb_db_conn *conn, const char *name, const char *description,
                                 const char *parent_id, sb_row_set *out, sb_error *err)
{
    const char *p[] = {name, description ? description : "", empty_to_null(parent_id)};
    return write_one(conn, "team",
                     "INSERT INTO teams (name, description, parent_id) VALUES ($1, $2, $3::uuid)"
                     " RETURNING " TEAM_COLS,
                     3, p, out, err);
}

int sb_tenancy_store_team_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                              sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(
        conn,
        for_update ? "SELECT " TEAM_COLS " FROM teams WHERE id = $1::uuid FOR UPDATE"
                   : "SELECT " TEAM_COLS " FROM teams WHERE id = $1::uuid",
        1, p, out, err);
}

int sb_tenancy_store_team_list(sb_db_conn *conn, const sb_team_filter *f, const sb_list_page *page,
                               sb_row_set *out, sb_error *err)
{
    char *ids = sb_rows_id_array(f->visible.ids, f->visible.all ? 0 : f->visible.n, err);
    if (ids == NULL)
        return -1;
    const char *p[] = {filter_flag(&f->visible), ids, empty_to_null(page->after), f->status,
                       f->parent_id};
    int rc = sb_rows_query_page(conn,
                                         "SELECT " TEAM_COLS " FROM teams"
                                         " WHERE ($1::boolean OR id = ANY ($2::uuid[]))"
                                         "   AND ($3::uuid IS NULL OR id > $3::uuid)"
                                         "   AND ($4::text IS NULL OR status = $4::text)"
                                         "   AND ($5::uuid IS NULL OR parent_id = $5::uuid)"
                                         " ORDER BY id LIMIT $6::bigint",
                                         5, p, page->limit, out, err);
    free(ids);
    return rc;
}

int sb_tenancy_store_team_update(sb_db_conn *conn, const char *id, const char *name,
                                 const char *description, sb_row_set *out, sb_error *err)
{
    const char *p[] = {id, name, description};
    return write_one(conn, "team",
                     "UPDATE teams SET name = coalesce($2, name),"
                     " description = coalesce($3, description)"
                     " WHERE id = $1::uuid RETURNING " TEAM_COLS,
                     3, p, out, err);
}

int sb_tenancy_store_team_move(sb_db_conn *conn, const char *id, const char *parent_id,
                               sb_row_set *out, sb_error *err)
{
    const char *p[] = {id, empty_to_null(parent_id)};
    return write_one(
        conn, "team",
        "UPDATE teams SET parent_id = $2::uuid WHERE id = $1::uuid RETURNING " TEAM_COLS, 2, p, out,
        err);
}

int sb_tenancy_store_team_set_status(sb_db_conn *conn, const char *id, const char *status,
                                     sb_row_set *out, sb_error *err)
{
    const char *p[] = {id, status};
    return write_one(conn, "team",
                     "UPDATE teams SET status = $2 WHERE id = $1::uuid RETURNING " TEAM_COLS, 2, p,
                     out, err);
}

int sb_tenancy_store_team_delete(sb_db_conn *conn, const char *id, sb_error *err)
{
    const char *p[] = {id};
    sb_row_set rows;
    int rc =
        sb_rows_query_one(conn,
                                   "SELECT (SELECT count(*) FROM teams c WHERE c.parent_id = t.id),"
                                   "       (SELECT count(*) FROM projects j WHERE j.team_id = t.id)"
                                   "  FROM teams t WHERE t.id = $1::uuid FOR UPDATE OF t",
                                   1, p, &rows, err);
    if (rc != 0)
        return rc;
    long children = strtol(PQgetvalue(rows.res, 0, 0), NULL, 10);
    long projects = strtol(PQgetvalue(rows.res, 0, 1), NULL, 10);
    sb_row_set_free(&rows);
    if (children > 0 || projects > 0)
        return sb_error_set(err, SB_TENANCY_E_NOT_EMPTY,
                            "the team still has %ld child team(s) and %ld project(s); move or "
                            "delete them first, or archive the team instead",
                            children, projects);
    PGresult *res = NULL;
    if (sb_db_exec(conn, "DELETE FROM teams WHERE id = $1::uuid", 1, p, &res, err) != 0) {
        if (strcmp(sb_db_last_error(conn)->sqlstate, "23503") == 0)
            sb_error_set(err, SB_TENANCY_E_NOT_EMPTY,
                         "the team is still referenced (a child team or project was added "
                         "meanwhile); move or delete those first, or archive the team instead");
        return -1;
    }
    rc = sb_db_affected(res) > 0 ? 0 : 1;
    PQclear(res);
    return rc;
}

/* ---- members -------------------------------------------------------------- */

#define MEMBER_COLS "m.user_id::text, u.username, u.display_name, " TS("m.added_at")

void sb_tenancy_store_member_at(const sb_row_set *rows, size_t i, sb_member_row *out)
{
    out->user_id = PQgetvalue(rows->res, (int)i, 0);
    out->username = PQgetvalue(rows->res, (int)i, 1);
    out->display_name = PQgetvalue(rows->res, (int)i, 2);
    out->added_at = PQgetvalue(rows->res, (int)i, 3);
}

int sb_tenancy_store_member_add(sb_db_conn *conn, const char *team_id, const char *user_id,
                                sb_row_set *out, sb_error *err)
{
    const char *p[] = {team_id, user_id};
    int rc = write_one(conn, "team membership",
                       "WITH m AS (INSERT INTO team_members (team_id, user_id)"
                       "           VALUES ($1::uuid, $2::uuid) RETURNING user_id, added_at)"
                       " SELECT " MEMBER_COLS " FROM m JOIN users u ON u.id = m.user_id",
                       2, p, out, err);
    if (rc < 0 && err && err->code == SB_TENANCY_E_UNKNOWN_REF)
        sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF, "user_id: no user with id %s", user_id);
    else if (rc < 0 && err && err->code == SB_TENANCY_E_EXISTS)
        sb_error_set(err, SB_TENANCY_E_EXISTS, "user %s is already a member of this team", user_id);
    return rc;
}

int sb_tenancy_store_member_remove(sb_db_conn *conn, const char *team_id, const char *user_id,
                                   sb_error *err)
{
    const char *p[] = {team_id, user_id};
    PGresult *res = NULL;
    if (sb_db_exec(conn, "DELETE FROM team_members WHERE team_id = $1::uuid AND user_id = $2::uuid",
                   2, p, &res, err) != 0)
        return -1;
    int rc = sb_db_affected(res) > 0 ? 0 : 1;
    PQclear(res);
    return rc;
}

int sb_tenancy_store_member_list(sb_db_conn *conn, const char *team_id, const sb_list_page *page,
                                 sb_row_set *out, sb_error *err)
{
    const char *p[] = {team_id, empty_to_null(page->after)};
    return sb_rows_query_page(
        conn,
        "SELECT " MEMBER_COLS " FROM team_members m JOIN users u ON u.id = m.user_id"
        " WHERE m.team_id = $1::uuid AND ($2::uuid IS NULL OR m.user_id > $2::uuid)"
        " ORDER BY m.user_id LIMIT $3::bigint",
        2, p, page->limit, out, err);
}

/* ---- projects ------------------------------------------------------------- */

/* clang-format off */
#define PROJECT_COLS "id::text, name, description, team_id::text, status, " \
    TS("created_at") ", " TS("updated_at")
/* clang-format on */

void sb_tenancy_store_project_at(const sb_row_set *rows, size_t i, sb_project_row *out)
{
    out->id = PQgetvalue(rows->res, (int)i, 0);
    out->name = PQgetvalue(rows->res, (int)i, 1);
    out->description = PQgetvalue(rows->res, (int)i, 2);
    out->team_id = PQgetvalue(rows->res, (int)i, 3);
    out->status = PQgetvalue(rows->res, (int)i, 4);
    out->created_at = PQgetvalue(rows->res, (int)i, 5);
    out->updated_at = PQgetvalue(rows->res, (int)i, 6);
}

int sb_tenancy_store_project_create(sb_db_conn *conn, const char *name, const char *description,
                                    const char *team_id, sb_row_set *out, sb_error *err)
{
    const char *p[] = {name, description ? description : "", team_id};
    return write_one(conn, "project",
                     "INSERT INTO projects (name, description, team_id) VALUES ($1, $2, $3::uuid)"
                     " RETURNING " PROJECT_COLS,
                     3, p, out, err);
}

int sb_tenancy_store_project_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                                 sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(
        conn,
        for_update ? "SELECT " PROJECT_COLS " FROM projects WHERE id = $1::uuid FOR UPDATE"
                   : "SELECT " PROJECT_COLS " FROM projects WHERE id = $1::uuid",
        1, p, out, err);
}

int sb_tenancy_store_project_list(sb_db_conn *conn, const sb_project_filter *f,
                                  const sb_list_page *page, sb_row_set *out, sb_error *err)
{
    char *ids = sb_rows_id_array(f->visible.ids, f->visible.all ? 0 : f->visible.n, err);
    if (ids == NULL)
        return -1;
    const char *p[] = {filter_flag(&f->visible), ids, empty_to_null(page->after), f->status,
                       f->team_id};
    int rc = sb_rows_query_page(conn,
                                         "SELECT " PROJECT_COLS " FROM projects"
                                         " WHERE ($1::boolean OR id = ANY ($2::uuid[]))"
                                         "   AND ($3::uuid IS NULL OR id > $3::uuid)"
                                         "   AND ($4::text IS NULL OR status = $4::text)"
                                         "   AND ($5::uuid IS NULL OR team_id = $5::uuid)"
                                         " ORDER BY id LIMIT $6::bigint",
                                         5, p, page->limit, out, err);
    free(ids);
    return rc;
}

int sb_tenancy_store_project_update(sb_db_conn *conn, const char *id, const char *description,
                                    const char *team_id, sb_row_set *out, sb_error *err)
{
    const char *p[] = {id, description, team_id};
    return write_one(conn, "project",
                     "UPDATE projects SET description = coalesce($2, description),"
                     " team_id = coalesce($3::uuid, team_id)"
                     " WHERE id = $1::uuid RETURNING " PROJECT_COLS,
                     3, p, out, err);
}

int sb_tenancy_store_project_set_status(sb_db_conn *conn, const char *id, const char *status,
                                        sb_row_set *out, sb_error *err)
{
    const char *p[] = {id, status};
    return write_one(conn, "project",
                     "UPDATE projects SET status = $2 WHERE id = $1::uuid RETURNING " PROJECT_COLS,
                     2, p, out, err);
}

/* ---- environments --------------------------------------------------------- */

/* clang-format off */
#define ENV_COLS "id::text, project_id::text, name, kind, risk_level, description, " \
    TS("created_at") ", " TS("updated_at")
/* clang-format on */

void sb_tenancy_store_environment_at(const sb_row_set *rows, size_t i, sb_environment_row *out)
{
    out->id = PQgetvalue(rows->res, (int)i, 0);
    out->project_id = PQgetvalue(rows->res, (int)i, 1);
    out->name = PQgetvalue(rows->res, (int)i, 2);
    out->kind = PQgetvalue(rows->res, (int)i, 3);
    out->risk_level = (int)strtol(PQgetvalue(rows->res, (int)i, 4), NULL, 10);
    out->description = PQgetvalue(rows->res, (int)i, 5);
    out->created_at = PQgetvalue(rows->res, (int)i, 6);
    out->updated_at = PQgetvalue(rows->res, (int)i, 7);
}

int sb_tenancy_store_environment_create(sb_db_conn *conn, const char *project_id, const char *name,
                                        const char *kind, int risk_level, const char *description,
                                        sb_row_set *out, sb_error *err)
{
    const char *p[] = {project_id, name, kind, SB_DB_INT(risk_level),
                       description ? description : ""};
    return write_one(conn, "environment",
                     "INSERT INTO environments (project_id, name, kind, risk_level, description)"
                     " VALUES ($1::uuid, $2, $3, $4::smallint, $5) RETURNING " ENV_COLS,
                     5, p, out, err);
}

int sb_tenancy_store_environment_get(sb_db_conn *conn, const char *id, bool for_update,
                                     sb_row_set *out, sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(
        conn,
        for_update ? "SELECT " ENV_COLS " FROM environments WHERE id = $1::uuid FOR UPDATE"
                   : "SELECT " ENV_COLS " FROM environments WHERE id = $1::uuid",
        1, p, out, err);
}

int sb_tenancy_store_environment_list(sb_db_conn *conn, const char *project_id,
                                      const sb_list_page *page, sb_row_set *out, sb_error *err)
{
    const char *p[] = {project_id, empty_to_null(page->after)};
    return sb_rows_query_page(conn,
                                       "SELECT " ENV_COLS " FROM environments"
                                       " WHERE project_id = $1::uuid"
                                       "   AND ($2::uuid IS NULL OR id > $2::uuid)"
                                       " ORDER BY id LIMIT $3::bigint",
                                       2, p, page->limit, out, err);
}

int sb_tenancy_store_environment_update(sb_db_conn *conn, const char *id, const char *description,
                                        int risk_level, sb_row_set *out, sb_error *err)
{
    const char *p[] = {id, description, risk_level >= 0 ? SB_DB_INT(risk_level) : NULL};
    return write_one(conn, "environment",
                     "UPDATE environments SET description = coalesce($2, description),"
                     " risk_level = coalesce($3::smallint, risk_level)"
                     " WHERE id = $1::uuid RETURNING " ENV_COLS,
                     3, p, out, err);
}
