/* store/rbac_store.c — see rbac_store.h. */
#include "store/rbac_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/tenancy_store.h"
#include "util/log.h"

#define TS SB_ROWS_TS

/* "a,b,c" (array_to_string of roles.permissions) -> a set; unknown keys are
 * dropped and logged, never widened. */
static sb_permission_set parse_permissions(const char *csv)
{
    sb_permission_set set = 0;
    const char *p = csv;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char key[96];
        if (len > 0 && len < sizeof key) {
            memcpy(key, p, len);
            key[len] = '\0';
            sb_permission perm;
            if (sb_permission_lookup(key, &perm) == 0)
                set |= SB_PERMISSION_BIT(perm);
            else
                sb_warn("rbac", "a role lists unknown permission '%s'; ignored", key);
        }
        p = comma ? comma + 1 : NULL;
    }
    return set;
}

/* A set -> "{key,key}" (catalog keys only: no quoting needed). */
static void permissions_literal(sb_permission_set set, char *out, size_t cap)
{
    const char *keys[SB_PERM_COUNT];
    size_t n = sb_permission_set_keys(set, keys, SB_PERM_COUNT);
    size_t len = (size_t)snprintf(out, cap, "{");
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", keys[i]);
    if (len < cap)
        snprintf(out + len, cap - len, "}");
}

static bool is_true(const char *v) { return v != NULL && v[0] == 't'; }

/* ---- roles ---------------------------------------------------------------- */

/* clang-format off */
#define ROLE_COLS "r.id::text, r.name, r.description, r.is_system," \
    " array_to_string(r.permissions, ','),"                             \
    " (SELECT count(*) FROM grants g WHERE g.role_id = r.id), "         \
    TS("r.created_at") ", " TS("r.updated_at")
/* clang-format on */

void sb_rbac_store_role_at(const sb_row_set *rows, size_t i, sb_role_row *out)
{
    int r = (int)i;
    out->id = PQgetvalue(rows->res, r, 0);
    out->name = PQgetvalue(rows->res, r, 1);
    out->description = PQgetvalue(rows->res, r, 2);
    out->is_system = is_true(PQgetvalue(rows->res, r, 3));
    out->permissions = parse_permissions(PQgetvalue(rows->res, r, 4));
    out->grant_count = strtol(PQgetvalue(rows->res, r, 5), NULL, 10);
    out->created_at = PQgetvalue(rows->res, r, 6);
    out->updated_at = PQgetvalue(rows->res, r, 7);
}

int sb_rbac_store_role_list(sb_db_conn *conn, const sb_list_page *page, sb_row_set *out,
                            sb_error *err)
{
    const char *p[] = {page->after && *page->after ? page->after : NULL};
    return sb_rows_query_page(conn,
                                       "SELECT " ROLE_COLS " FROM roles r"
                                       " WHERE ($1::uuid IS NULL OR r.id > $1::uuid)"
                                       " ORDER BY r.id LIMIT $2::bigint",
                                       1, p, page->limit, out, err);
}

int sb_rbac_store_role_get(sb_db_conn *conn, const char *id, bool for_update, sb_row_set *out,
                           sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(
        conn,
        for_update ? "SELECT " ROLE_COLS " FROM roles r WHERE r.id = $1::uuid FOR UPDATE OF r"
                   : "SELECT " ROLE_COLS " FROM roles r WHERE r.id = $1::uuid",
        1, p, out, err);
}

int sb_rbac_store_role_create(sb_db_conn *conn, const char *name, const char *description,
                              sb_permission_set permissions, sb_row_set *out, sb_error *err)
{
    char perms[1024];
    permissions_literal(permissions, perms, sizeof perms);
    const char *p[] = {name, description ? description : "", perms};
    int rc =
        sb_rows_query_one(conn,
                                   "WITH r AS (INSERT INTO roles (name, description, permissions)"
                                   "           VALUES ($1, $2, $3::text[]) RETURNING *)"
                                   " SELECT " ROLE_COLS " FROM r",
                                   3, p, out, err);
    if (rc < 0)
        sb_tenancy_store_translate(conn, "role", err);
    return rc;
}

int sb_rbac_store_role_seed_system(sb_db_conn *conn, const char *name, const char *description,
                                   sb_permission_set permissions, bool *changed, sb_error *err)
{
    char perms[2048];
    permissions_literal(permissions, perms, sizeof perms);
    const char *p[] = {name, description, perms};
    int64_t written = 0;
    int rc = sb_db_exec_affected(conn,
                                 "INSERT INTO roles (name, description, is_system, permissions)"
                                 " VALUES ($1, $2, true, $3::text[])"
                                 " ON CONFLICT (name) DO UPDATE"
                                 "   SET description = EXCLUDED.description,"
                                 "   is_system = true, permissions = EXCLUDED.permissions"
                                 " WHERE roles.permissions IS DISTINCT FROM EXCLUDED.permissions"
                                 "    OR roles.description IS DISTINCT FROM EXCLUDED.description"
                                 "    OR NOT roles.is_system",
                                 3, p, &written, err);
    if (changed)
        *changed = rc == 0 && written > 0;
    return rc;
}

/* Locks the role and refuses system roles: 0, 1 not found, -1. */
static int lock_custom_role(sb_db_conn *conn, const char *id, const char *verb, long *grants,
                            sb_error *err)
{
    sb_row_set rows;
    int rc = sb_rbac_store_role_get(conn, id, true, &rows, err);
    if (rc != 0)
        return rc;
    sb_role_row role;
    sb_rbac_store_role_at(&rows, 0, &role);
    bool system = role.is_system;
    if (grants)
        *grants = role.grant_count;
    char name[80];
    snprintf(name, sizeof name, "%s", role.name);
    sb_row_set_free(&rows);
    if (system)
        return sb_error_set(err, SB_TENANCY_E_SYSTEM_ROLE,
                            "'%s' is a system role and cannot be %s; create a custom role instead",
                            name, verb);
    return 0;
}

int sb_rbac_store_role_update(sb_db_conn *conn, const char *id, const char *name,
                              const char *description, const sb_permission_set *permissions,
                              sb_row_set *out, sb_error *err)
{
    int rc = lock_custom_role(conn, id, "changed", NULL, err);
    if (rc != 0)
        return rc;
    char perms[1024];
    if (permissions)
        permissions_literal(*permissions, perms, sizeof perms);
    const char *p[] = {id, name, description, permissions ? perms : NULL};
    rc = sb_rows_query_one(conn,
                                    "WITH r AS (UPDATE roles SET name = coalesce($2, name),"
                                    "   description = coalesce($3, description),"
                                    "   permissions = coalesce($4::text[], permissions)"
                                    "   WHERE id = $1::uuid RETURNING *)"
                                    " SELECT " ROLE_COLS " FROM r",
                                    4, p, out, err);
    if (rc < 0)
        sb_tenancy_store_translate(conn, "role", err);
    return rc;
}

int sb_rbac_store_role_delete(sb_db_conn *conn, const char *id, sb_error *err)
{
    long grants = 0;
    int rc = lock_custom_role(conn, id, "deleted", &grants, err);
    if (rc != 0)
        return rc;
    if (grants > 0)
        return sb_error_set(err, SB_TENANCY_E_ROLE_IN_USE,
                            "the role is still granted %ld time(s); revoke those grants first",
                            grants);
    const char *p[] = {id};
    PGresult *res = NULL;
    if (sb_db_exec(conn,
                   "SELECT count(*) FROM workflows w WHERE $1::uuid = ANY(w.approver_role_ids)"
                   "   OR jsonb_path_exists(w.groups, '$[*].role_ids[*] ? (@ == $r)',"
                   "                        jsonb_build_object('r', $1::text))",
                   1, p, &res, err) != 0)
        return -1;
    int64_t workflows = sb_db_cell_i64(res, 0, 0);
    PQclear(res);
    res = NULL;
    if (workflows > 0)
        return sb_error_set(err, SB_TENANCY_E_ROLE_IN_USE,
                            "the role is named by %lld workflow(s) (approver roles or approval "
                            "groups); change those workflows first",
                            (long long)workflows);
    if (sb_db_exec(conn, "DELETE FROM roles WHERE id = $1::uuid", 1, p, &res, err) != 0) {
        if (strcmp(sb_db_last_error(conn)->sqlstate, "23503") == 0)
            sb_error_set(err, SB_TENANCY_E_ROLE_IN_USE,
                         "the role was granted meanwhile; revoke its grants first");
        return -1;
    }
    rc = sb_db_affected(res) > 0 ? 0 : 1;
    PQclear(res);
    return rc;
}

/* ---- grants --------------------------------------------------------------- */

/* clang-format off */
#define GRANT_SELECT                                                                            \
    "SELECT g.id::text, g.user_id::text, u.username, g.role_id::text, r.name, g.scope_type,"    \
    " coalesce(g.team_id, g.project_id)::text, g.granted_by::text, " TS("g.created_at") ","     \
    " array_to_string(r.permissions, ',')"
/* clang-format on */

void sb_rbac_store_grant_at(const sb_row_set *rows, size_t i, sb_grant_row *out)
{
    int r = (int)i;
    out->id = PQgetvalue(rows->res, r, 0);
    out->user_id = PQgetvalue(rows->res, r, 1);
    out->username = PQgetvalue(rows->res, r, 2);
    out->role_id = PQgetvalue(rows->res, r, 3);
    out->role_name = PQgetvalue(rows->res, r, 4);
    out->scope_type = PQgetvalue(rows->res, r, 5);
    out->scope_id = sb_rows_text_or_null(rows, i, 6);
    out->granted_by = sb_rows_text_or_null(rows, i, 7);
    out->created_at = PQgetvalue(rows->res, r, 8);
    out->permissions = parse_permissions(PQgetvalue(rows->res, r, 9));
}

int sb_rbac_store_grant_create(sb_db_conn *conn, const char *user_id, const char *role_id,
                               const char *scope_type, const char *scope_id, const char *granted_by,
                               sb_row_set *out, sb_error *err)
{
    bool team = strcmp(scope_type, "team") == 0, project = strcmp(scope_type, "project") == 0;
    const char *p[] = {
        user_id,   role_id, scope_type, team ? scope_id : NULL, project ? scope_id : NULL,
        granted_by};
    int rc = sb_rows_query_one(
        conn,
        "WITH g AS (INSERT INTO grants (user_id, role_id, scope_type, team_id, project_id, "
        "granted_by)"
        "           VALUES ($1::uuid, $2::uuid, $3, $4::uuid, $5::uuid, $6::uuid) RETURNING "
        "*) " GRANT_SELECT
        " FROM g JOIN users u ON u.id = g.user_id JOIN roles r ON r.id = g.role_id",
        6, p, out, err);
    if (rc < 0) {
        sb_tenancy_store_translate(conn, "grant", err);
        if (err && err->code == SB_TENANCY_E_EXISTS)
            sb_error_set(err, SB_TENANCY_E_EXISTS,
                         "the user already holds this role at this scope");
        else if (err && err->code == SB_TENANCY_E_UNKNOWN_REF)
            sb_error_set(err, SB_TENANCY_E_UNKNOWN_REF,
                         "the user, role, team or project of the grant no longer exists");
    }
    return rc;
}

int sb_rbac_store_grant_get(sb_db_conn *conn, const char *id, sb_row_set *out, sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(conn,
                                      GRANT_SELECT " FROM grants g JOIN users u ON u.id = g.user_id"
                                                   " JOIN roles r ON r.id = g.role_id"
                                                   " WHERE g.id = $1::uuid",
                                      1, p, out, err);
}

int sb_rbac_store_grant_list(sb_db_conn *conn, const sb_grant_filter *f, const sb_list_page *page,
                             sb_row_set *out, sb_error *err)
{
    char *teams = sb_rows_id_array(f->team_ids, f->all ? 0 : f->n_teams, err);
    char *projects =
        teams ? sb_rows_id_array(f->project_ids, f->all ? 0 : f->n_projects, err) : NULL;
    if (projects == NULL) {
        free(teams);
        return -1;
    }
    const char *p[] = {f->user_id, f->all ? "t" : "f", teams, projects,
                       page->after && *page->after ? page->after : NULL};
    int rc = sb_rows_query_page(
        conn,
        GRANT_SELECT
        " FROM grants g JOIN users u ON u.id = g.user_id JOIN roles r ON r.id = g.role_id"
        " WHERE ($1::uuid IS NULL OR g.user_id = $1::uuid)"
        "   AND ($2::boolean OR g.team_id = ANY ($3::uuid[]) OR g.project_id = ANY ($4::uuid[]))"
        "   AND ($5::uuid IS NULL OR g.id > $5::uuid)"
        " ORDER BY g.id LIMIT $6::bigint",
        5, p, page->limit, out, err);
    free(teams);
    free(projects);
    return rc;
}

int sb_rbac_store_grant_delete(sb_db_conn *conn, const char *id, sb_error *err)
{
    const char *p[] = {id};
    sb_row_set rows;
    /* Lock the grant, and with it every live global admin grant when this
     * is one of them, so two revokes cannot both remove "the other" admin. */
    int rc = sb_rows_query_one(
        conn,
        "SELECT (g.scope_type = 'global' AND r.name = 'admin' AND r.is_system"
        "        AND u.status = 'active')"
        "  FROM grants g JOIN roles r ON r.id = g.role_id JOIN users u ON u.id = g.user_id"
        " WHERE g.id = $1::uuid FOR UPDATE OF g",
        1, p, &rows, err);
    if (rc != 0)
        return rc;
    bool admin = is_true(PQgetvalue(rows.res, 0, 0));
    sb_row_set_free(&rows);
    if (admin) {
        PGresult *res = NULL;
        if (sb_db_exec(conn,
                       "SELECT g.id FROM grants g JOIN roles r ON r.id = g.role_id"
                       "  JOIN users u ON u.id = g.user_id"
                       " WHERE g.scope_type = 'global' AND r.name = 'admin' AND r.is_system"
                       "   AND u.status = 'active' ORDER BY g.id FOR UPDATE OF g",
                       0, NULL, &res, err) != 0)
            return -1;
        int live = PQntuples(res);
        PQclear(res);
        if (live <= 1)
            return sb_error_set(err, SB_RBAC_E_LAST_ADMIN,
                                "this is the last global admin grant of an active user; grant "
                                "admin to someone else before revoking it");
    }
    PGresult *res = NULL;
    if (sb_db_exec(conn, "DELETE FROM grants WHERE id = $1::uuid", 1, p, &res, err) != 0)
        return -1;
    rc = sb_db_affected(res) > 0 ? 0 : 1;
    PQclear(res);
    return rc;
}

/* ---- users ---------------------------------------------------------------- */

/* clang-format off */
#define USER_COLS "id::text, username, display_name, email, source, status," \
    " coalesce(locked_until > now(), false), " TS("created_at") ", " TS("updated_at")
/* clang-format on */

void sb_rbac_store_user_at(const sb_row_set *rows, size_t i, sb_user_entry *out)
{
    int r = (int)i;
    out->id = PQgetvalue(rows->res, r, 0);
    out->username = PQgetvalue(rows->res, r, 1);
    out->display_name = PQgetvalue(rows->res, r, 2);
    out->email = sb_rows_text_or_null(rows, i, 3);
    out->source = PQgetvalue(rows->res, r, 4);
    out->status = PQgetvalue(rows->res, r, 5);
    out->locked = is_true(PQgetvalue(rows->res, r, 6));
    out->created_at = PQgetvalue(rows->res, r, 7);
    out->updated_at = PQgetvalue(rows->res, r, 8);
}

int sb_rbac_store_user_list(sb_db_conn *conn, const sb_list_page *page, sb_row_set *out,
                            sb_error *err)
{
    const char *p[] = {page->after && *page->after ? page->after : NULL};
    return sb_rows_query_page(conn,
                                       "SELECT " USER_COLS " FROM users"
                                       " WHERE ($1::uuid IS NULL OR id > $1::uuid)"
                                       " ORDER BY id LIMIT $2::bigint",
                                       1, p, page->limit, out, err);
}

int sb_rbac_store_user_get(sb_db_conn *conn, const char *id, sb_row_set *out, sb_error *err)
{
    const char *p[] = {id};
    return sb_rows_query_one(conn, "SELECT " USER_COLS " FROM users WHERE id = $1::uuid",
                                      1, p, out, err);
}
