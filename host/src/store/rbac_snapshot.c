/* store/rbac_snapshot.c — see rbac_snapshot.h. */
#include "store/rbac_snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

int sb_store_tenancy_load(sb_db_conn *conn, sb_tenancy **out, int64_t *version, sb_error *err)
{
    *out = NULL;
    PGresult *teams = NULL, *projects = NULL, *ver = NULL;
    int rc = -1;
    if (sb_db_exec(conn, "SELECT version FROM tenancy_version", 0, NULL, &ver, err) != 0 ||
        sb_db_exec(conn, "SELECT id::text, parent_id::text FROM teams", 0, NULL, &teams, err) != 0 ||
        sb_db_exec(conn, "SELECT id::text, team_id::text FROM projects", 0, NULL, &projects, err) != 0)
        goto done;
    int nt = PQntuples(teams), np = PQntuples(projects);
    sb_team_edge *edges = calloc((size_t)nt + 1, sizeof *edges);
    sb_project_owner *owners = calloc((size_t)np + 1, sizeof *owners);
    if (edges == NULL || owners == NULL) {
        free(edges);
        free(owners);
        sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory loading the tenancy");
        goto done;
    }
    for (int i = 0; i < nt; i++) {
        edges[i].team_id = PQgetvalue(teams, i, 0);
        edges[i].parent_id = PQgetisnull(teams, i, 1) ? NULL : PQgetvalue(teams, i, 1);
    }
    for (int i = 0; i < np; i++) {
        owners[i].project_id = PQgetvalue(projects, i, 0);
        owners[i].team_id = PQgetisnull(projects, i, 1) ? NULL : PQgetvalue(projects, i, 1);
    }
    rc = sb_tenancy_build(edges, (size_t)nt, owners, (size_t)np, out, err);
    free(edges);
    free(owners);
    if (rc == 0 && version)
        *version = PQntuples(ver) ? strtoll(PQgetvalue(ver, 0, 0), NULL, 10) : 0;
done:
    PQclear(ver);
    PQclear(teams);
    PQclear(projects);
    return rc;
}

void sb_grant_set_free(sb_grant_set *s)
{
    for (size_t i = 0; s->ids && i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
    free(s->grants);
    memset(s, 0, sizeof *s);
}

int sb_store_grants_from(const PGresult *res, int col, sb_grant_set *out, sb_error *err)
{
    memset(out, 0, sizeof *out);
    int n = PQntuples(res);
    out->grants = calloc((size_t)n + 1, sizeof *out->grants);
    out->ids = calloc((size_t)n + 1, sizeof *out->ids);
    if (out->grants == NULL || out->ids == NULL) {
        sb_grant_set_free(out);
        return sb_error_set(err, SB_DB_E_NO_MEMORY, "out of memory loading grants");
    }
    for (int i = 0; i < n; i++) {
        if (i == 0) {
            out->tenancy_version = strtoll(PQgetvalue(res, 0, col), NULL, 10);
            out->auth_generation = strtoll(PQgetvalue(res, 0, col + 4), NULL, 10);
        }
        if (PQgetisnull(res, i, col + 2))
            continue; /* the LEFT JOIN row of a user without grants */
        sb_grant *g = &out->grants[out->n];
        char *perms = strdup(PQgetvalue(res, i, col + 1));
        char *save = NULL;
        for (char *tok = strtok_r(perms, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            sb_permission p;
            if (sb_permission_lookup(tok, &p) == 0)
                g->permissions |= SB_PERMISSION_BIT(p);
            else
                sb_warn("rbac", "a role grants unknown permission '%s'; ignored", tok);
        }
        free(perms);
        const char *kind = PQgetvalue(res, i, col + 2);
        if (strcmp(kind, "global") == 0) {
            g->scope.kind = SB_SCOPE_GLOBAL;
        } else {
            g->scope.kind = strcmp(kind, "team") == 0 ? SB_SCOPE_TEAM : SB_SCOPE_PROJECT;
            out->ids[out->n] = strdup(PQgetvalue(res, i, col + 3));
            g->scope.id = out->ids[out->n];
        }
        out->n++;
    }
    return 0;
}

int sb_store_exec_with_grants(sb_db_conn *conn, const char *sql, int nparams,
                              const char *const *params,
                              void (*row)(const PGresult *res, int i, void *out), void *out,
                              int grants_col, sb_grant_set *grants, sb_error *err)
{
    PGresult *res;
    if (sb_db_exec(conn, sql, nparams, params, &res, err) != 0)
        return -1;
    int rc = 1;
    if (PQntuples(res) > 0) {
        row(res, 0, out);
        rc = sb_store_grants_from(res, grants_col, grants, err);
    }
    PQclear(res);
    return rc;
}

int sb_store_user_grants(sb_db_conn *conn, const char *user_id, sb_grant_set *out, sb_error *err)
{
    memset(out, 0, sizeof *out);
    static const char sql[] = "SELECT " SB_STORE_GRANT_COLUMNS " FROM (SELECT 1) one"
                              SB_STORE_GRANT_JOIN("$1::uuid");
    const char *params[] = {user_id};
    PGresult *res;
    if (sb_db_exec(conn, sql, 1, params, &res, err) != 0)
        return -1;
    int rc = sb_store_grants_from(res, 0, out, err);
    PQclear(res);
    return rc;
}
