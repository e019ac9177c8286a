/* store/users_store.c — see users_store.h. */
#include "store/users_store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns every lookup returns, in the order row_to_user reads them. */
#define USER_COLUMNS                                                                               \
    "id::text, username, display_name, source, status = 'disabled',"                               \
    " coalesce(password_hash, ''), password_hash IS NOT NULL, failed_logins,"                      \
    " coalesce(floor(extract(epoch FROM locked_until))::bigint, 0),"                               \
    " floor(extract(epoch FROM created_at))::bigint"

int sb_users_store_uuid_ok(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static int cell_bool(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

static void row_to_user(const PGresult *res, int row, sb_user_record *u)
{
    memset(u, 0, sizeof *u);
    snprintf(u->id, sizeof u->id, "%s", PQgetvalue(res, row, 0));
    snprintf(u->username, sizeof u->username, "%s", PQgetvalue(res, row, 1));
    snprintf(u->display_name, sizeof u->display_name, "%s", PQgetvalue(res, row, 2));
    snprintf(u->source, sizeof u->source, "%s", PQgetvalue(res, row, 3));
    u->disabled = cell_bool(res, row, 4);
    snprintf(u->password_hash, sizeof u->password_hash, "%s", PQgetvalue(res, row, 5));
    u->has_password = cell_bool(res, row, 6);
    u->failed_logins = (int)sb_db_cell_i64(res, row, 7);
    u->locked_until = sb_db_cell_i64(res, row, 8);
    u->created_at = sb_db_cell_i64(res, row, 9);
}

/* Runs a one-row lookup: 0 and *out, 1 when no row. */
static int lookup(sb_db_conn *conn, const char *sql, const char *param, sb_user_record *out,
                  sb_error *err)
{
    const char *params[] = {param};
    PGresult *res;
    if (sb_db_exec(conn, sql, 1, params, &res, err) != 0)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        row_to_user(res, 0, out);
    PQclear(res);
    return found ? 0 : 1;
}

int sb_users_store_find_by_username(sb_db_conn *conn, const char *username, sb_user_record *out,
                                    sb_error *err)
{
    if (username == NULL || *username == '\0' || strlen(username) > SB_USERNAME_MAX)
        return 1; /* cannot exist: the CHECK refuses such names */
    return lookup(conn, "SELECT " USER_COLUMNS " FROM users WHERE lower(username) = lower($1)",
                  username, out, err);
}

int sb_users_store_find_by_id(sb_db_conn *conn, const char *id, sb_user_record *out, sb_error *err)
{
    if (!sb_users_store_uuid_ok(id))
        return 1;
    return lookup(conn, "SELECT " USER_COLUMNS " FROM users WHERE id = $1::uuid", id, out, err);
}

int sb_users_store_count(sb_db_conn *conn, int64_t *out, sb_error *err)
{
    PGresult *res;
    if (sb_db_exec(conn, "SELECT count(*) FROM users", 0, NULL, &res, err) != 0)
        return -1;
    *out = sb_db_cell_i64(res, 0, 0);
    PQclear(res);
    return 0;
}

static int hash_ok(const char *hash)
{
    return hash != NULL && strncmp(hash, "$argon2id$", 10) == 0 &&
           strlen(hash) < SB_PASSWORD_HASH_MAX;
}

int sb_users_store_create(sb_db_conn *conn, const sb_user_new *u, sb_user_record *out,
                          sb_error *err)
{
    if (u == NULL || u->username == NULL)
        return sb_error_set(err, SB_DB_E_INVALID, "a new user needs a username");
    if (u->password_hash != NULL && !hash_ok(u->password_hash))
        return sb_error_set(err, SB_DB_E_INVALID,
                            "refusing to store a password that is not an argon2id hash");
    const char *source = u->source ? u->source : "local";
    const char *params[] = {u->username, u->display_name ? u->display_name : u->username,
                            u->password_hash, source, SB_DB_INT(u->now)};
    PGresult *res;
    if (sb_db_exec(conn,
                   "INSERT INTO users (username, display_name, password_hash, source, created_at,"
                   "                   updated_at)"
                   " VALUES ($1, $2, $3, $4, to_timestamp($5::bigint), to_timestamp($5::bigint))"
                   " RETURNING " USER_COLUMNS,
                   5, params, &res, err) != 0)
        return -1;
    row_to_user(res, 0, out);
    PQclear(res);
    return 0;
}

int sb_users_store_set_password(sb_db_conn *conn, const char *user_id, const char *password_hash,
                                sb_error *err)
{
    if (!hash_ok(password_hash))
        return sb_error_set(err, SB_DB_E_INVALID,
                            "refusing to store a password that is not an argon2id hash");
    if (!sb_users_store_uuid_ok(user_id))
        return 1;
    const char *params[] = {user_id, password_hash};
    PGresult *res;
    if (sb_db_exec(conn,
                   "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL"
                   " WHERE id = $1::uuid RETURNING id",
                   2, params, &res, err) != 0)
        return -1;
    int found = PQntuples(res) == 1;
    PQclear(res);
    return found ? 0 : 1;
}

int sb_users_store_set_disabled(sb_db_conn *conn, const char *user_id, int disabled, int *changed,
                                sb_error *err)
{
    if (changed)
        *changed = 0;
    if (!sb_users_store_uuid_ok(user_id))
        return 1;
    const char *params[] = {user_id, disabled ? "disabled" : "active"};
    PGresult *res;
    /* The subselect reads the status before this UPDATE (same snapshot). */
    if (sb_db_exec(conn,
                   "UPDATE users u SET status = $2,"
                   "       failed_logins = CASE WHEN $2 = 'active' THEN 0 ELSE u.failed_logins END,"
                   "       locked_until = CASE WHEN $2 = 'active' THEN NULL ELSE u.locked_until END"
                   "  FROM (SELECT id, status FROM users WHERE id = $1::uuid FOR UPDATE) old"
                   " WHERE u.id = old.id RETURNING old.status <> $2",
                   2, params, &res, err) != 0)
        return -1;
    int found = PQntuples(res) == 1;
    if (found && changed)
        *changed = cell_bool(res, 0, 0);
    PQclear(res);
    return found ? 0 : 1;
}

/* ---- lockout -------------------------------------------------------------- */

static int record_failure_in_txn(sb_db_conn *conn, const char *user_id,
                                 const sb_lockout_policy *policy, int64_t now,
                                 sb_lockout_state *out, int *locked_now, int *was_locked,
                                 sb_error *err)
{
    const char *p1[] = {user_id};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT failed_logins,"
                   "       coalesce(floor(extract(epoch FROM locked_until))::bigint, 0)"
                   "  FROM users WHERE id = $1::uuid FOR UPDATE",
                   1, p1, &res, err) != 0)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 1;
    }
    sb_lockout_state before = {(int)sb_db_cell_i64(res, 0, 0), sb_db_cell_i64(res, 0, 1)};
    PQclear(res);
    sb_lockout_state after = sb_lockout_on_failure(policy, before, now);
    *was_locked = sb_lockout_is_locked(&before, now);
    *locked_now = !*was_locked && sb_lockout_is_locked(&after, now);
    const char *p3[] = {user_id, SB_DB_INT(after.failed_count), SB_DB_INT(after.locked_until)};
    if (sb_db_exec(conn,
                   "UPDATE users SET failed_logins = $2::integer,"
                   "       locked_until = CASE WHEN $3::bigint = 0 THEN NULL"
                   "                           ELSE to_timestamp($3::bigint) END"
                   " WHERE id = $1::uuid"
                   " RETURNING failed_logins,"
                   "           coalesce(floor(extract(epoch FROM locked_until))::bigint, 0)",
                   3, p3, &res, err) != 0)
        return -1;
    out->failed_count = (int)sb_db_cell_i64(res, 0, 0);
    out->locked_until = sb_db_cell_i64(res, 0, 1);
    PQclear(res);
    return 0;
}

int sb_users_store_record_failure(sb_db_conn *conn, const char *user_id,
                                  const sb_lockout_policy *policy, int64_t now,
                                  sb_lockout_state *out, int *locked_now, int *was_locked,
                                  sb_error *err)
{
    int ln = 0, wl = 0;
    sb_lockout_state st = {0, 0};
    if (!sb_users_store_uuid_ok(user_id))
        return 1;
    int own = !sb_db_in_transaction(conn);
    if (own && sb_db_begin(conn, err) != 0)
        return -1;
    int rc = record_failure_in_txn(conn, user_id, policy, now, &st, &ln, &wl, err);
    if (own) {
        if (rc >= 0 && sb_db_commit(conn, err) != 0)
            rc = -1;
        else if (rc < 0)
            sb_db_rollback(conn);
    }
    if (out)
        *out = st;
    if (locked_now)
        *locked_now = ln;
    if (was_locked)
        *was_locked = wl;
    return rc;
}

int sb_users_store_record_success(sb_db_conn *conn, const char *user_id, int64_t now, sb_error *err)
{
    if (!sb_users_store_uuid_ok(user_id))
        return 1;
    const char *params[] = {user_id, SB_DB_INT(now)};
    PGresult *res;
    if (sb_db_exec(conn,
                   "UPDATE users SET failed_logins = 0, locked_until = NULL"
                   " WHERE id = $1::uuid AND status = 'active'"
                   "   AND (locked_until IS NULL OR locked_until <= to_timestamp($2::bigint))"
                   " RETURNING id",
                   2, params, &res, err) != 0)
        return -1;
    int ok = PQntuples(res) == 1;
    PQclear(res);
    return ok ? 0 : 1;
}

/* ---- grants ---------------------------------------------------------------- */

int sb_users_store_grant_role(sb_db_conn *conn, const char *user_id, const char *role_name,
                              const char *scope_kind, const char *scope_id, const char *granted_by,
                              int *created, sb_error *err)
{
    if (created)
        *created = 0;
    const char *kind = scope_kind ? scope_kind : "global";
    int global = strcmp(kind, "global") == 0;
    if (!global && strcmp(kind, "team") != 0 && strcmp(kind, "project") != 0)
        return sb_error_set(err, SB_DB_E_INVALID, "scope must be global, team or project, not '%s'",
                            kind);
    if (!sb_users_store_uuid_ok(user_id) || (!global && !sb_users_store_uuid_ok(scope_id)) ||
        (granted_by && !sb_users_store_uuid_ok(granted_by)))
        return sb_error_set(err, SB_DB_E_INVALID, "user, scope and granter must be UUIDs");
    const char *team = strcmp(kind, "team") == 0 ? scope_id : NULL;
    const char *project = strcmp(kind, "project") == 0 ? scope_id : NULL;
    const char *params[] = {user_id, role_name, kind, team, project, granted_by};
    PGresult *res;
    if (sb_db_exec(conn,
                   "WITH r AS (SELECT id FROM roles WHERE name = $2),"
                   " ins AS (INSERT INTO grants (user_id, role_id, scope_type, team_id, project_id,"
                   "                             granted_by)"
                   "         SELECT $1::uuid, r.id, $3, $4::uuid, $5::uuid, $6::uuid FROM r"
                   "         ON CONFLICT DO NOTHING RETURNING id)"
                   " SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM ins)",
                   6, params, &res, err) != 0)
        return -1;
    int role_found = sb_db_cell_i64(res, 0, 0) == 1;
    if (created)
        *created = sb_db_cell_i64(res, 0, 1) == 1;
    PQclear(res);
    return role_found ? 0 : 1;
}

int sb_users_store_teams(sb_db_conn *conn, const char *user_id, sb_user_team **out, size_t *n,
                         sb_error *err)
{
    *out = NULL;
    *n = 0;
    if (!sb_users_store_uuid_ok(user_id))
        return 0;
    const char *params[] = {user_id};
    PGresult *res;
    if (sb_db_exec(conn,
                   "SELECT t.id::text, t.name, coalesce(t.parent_id::text, '')"
                   "  FROM team_members m JOIN teams t ON t.id = m.team_id"
                   " WHERE m.user_id = $1::uuid ORDER BY lower(t.name), t.id",
                   1, params, &res, err) != 0)
        return -1;
    int rows = PQntuples(res);
    *out = calloc((size_t)rows + 1, sizeof **out);
    if (*out == NULL) {
        PQclear(res);
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory listing teams");
    }
    for (int i = 0; i < rows; i++) {
        snprintf((*out)[i].id, sizeof(*out)[i].id, "%s", PQgetvalue(res, i, 0));
        snprintf((*out)[i].name, sizeof(*out)[i].name, "%s", PQgetvalue(res, i, 1));
        snprintf((*out)[i].parent_id, sizeof(*out)[i].parent_id, "%s", PQgetvalue(res, i, 2));
    }
    *n = (size_t)rows;
    PQclear(res);
    return 0;
}
