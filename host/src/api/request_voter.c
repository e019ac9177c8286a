/*
 * api/request_voter.c — who may vote on a request (see request_api.h):
 * shared by the vote itself (request_decide.c) and the approver queue
 * (request_routes.c), so the queue lists exactly what its reader may
 * decide.
 *
 * Contract: a voter holds secret.approve or secret.security.approve on the
 * request's project, and one of the workflow snapshot's approver roles
 * there when it names any (403 otherwise). Group membership per workflow
 * group: the group's permission on the project, one of its roles if any
 * (a grant covering the project: global, the project, or its team or an
 * ancestor), membership of the project's owning team if asked. An unknown
 * permission or malformed role id admits nobody (fail closed).
 */
#include <stdlib.h>
#include <string.h>

#include "api/request_api.h"
#include "domain/domain_error.h"

/* The project's team and its ancestors as a uuid[] literal. */
static char *team_chain(const sb_identity *who, const char *project_id, sb_error *err)
{
    const char *team = sb_tenancy_project_team(who->tenancy, project_id);
    const char *ids[64];
    size_t n = team ? sb_team_tree_ancestors(sb_tenancy_teams(who->tenancy), team, true, ids, 64)
                    : 0;
    return sb_rows_id_array(ids, n, err);
}

/* role_ids (a JSON array of uuids) as a uuid[] literal. */
static char *role_array(json_t *ids, sb_error *err)
{
    const char *v[64];
    char canon[64][37];
    size_t k = 0, i;
    json_t *x;
    json_array_foreach(ids, i, x) if (k < 64 && sb_rows_uuid(json_string_value(x), canon[k]))
        v[k] = canon[k], k++;
    return sb_rows_id_array(v, k, err); /* no valid id: "{}", nobody holds it */
}

/* 1 holds one of ids covering the project, 0 not, -1 error. No ids: 1. */
static int holds_any_role(sb_db_conn *conn, const sb_identity *who, const sb_request_row *r,
                          json_t *ids, sb_error *err)
{
    if (json_array_size(ids) == 0)
        return 1;
    char *roles = role_array(ids, err), *teams = team_chain(who, r->project_id, err);
    int rc = roles && teams ? sb_request_store_holds_role(conn, who->user_id, roles, r->project_id,
                                                          teams, err)
                            : -1;
    free(roles);
    free(teams);
    return rc;
}

int sb_request_groups_load(const sb_request_row *r, sb_request_groups *g, sb_error *err)
{
    memset(g, 0, sizeof *g);
    g->doc = json_loads(r->workflow, 0, NULL);
    json_t *groups = json_object_get(g->doc, "groups"), *item;
    size_t i;
    if (json_array_size(groups) > SB_APPROVAL_MAX_GROUPS)
        return sb_error_set(err, SB_DOMAIN_E_INVALID, "the workflow snapshot has too many groups");
    json_array_foreach(groups, i, item)
    {
        g->groups[i].name = json_string_value(json_object_get(item, "name"));
        g->groups[i].required = (unsigned)json_integer_value(json_object_get(item, "required"));
        g->json[i] = item;
    }
    g->n = json_array_size(groups);
    return 0;
}

void sb_request_groups_free(sb_request_groups *g)
{
    json_decref(g->doc);
    memset(g, 0, sizeof *g);
}

int sb_request_voter(sb_db_conn *conn, const sb_identity *who, const sb_request_row *r,
                     const sb_request_groups *g, uint32_t *bits, sb_error *err)
{
    *bits = 0;
    if (!sb_rbac_allows_project(who->rbac, SB_PERM_SECRET_APPROVE, r->project_id) &&
        !sb_rbac_allows_project(who->rbac, SB_PERM_SECRET_SECURITY_APPROVE, r->project_id))
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "voting needs secret.approve or secret.security.approve on project %s",
                            r->project_id);
    int held = holds_any_role(conn, who, r, json_object_get(g->doc, "approver_role_ids"), err);
    if (held < 0)
        return -1;
    if (held == 0)
        return sb_error_set(err, SB_DOMAIN_E_DENIED,
                            "the workflow admits only holders of its approver roles on this "
                            "project");
    const char *team = sb_tenancy_project_team(who->tenancy, r->project_id);
    for (size_t i = 0; i < g->n; i++) {
        const char *perm = json_string_value(json_object_get(g->json[i], "permission"));
        sb_permission p = SB_PERM_SECRET_APPROVE;
        if (perm && sb_permission_lookup(perm, &p) != 0)
            continue; /* fail closed: an unknown permission admits nobody */
        if (!sb_rbac_allows_project(who->rbac, p, r->project_id))
            continue;
        int in = holds_any_role(conn, who, r, json_object_get(g->json[i], "role_ids"), err);
        if (in > 0 && json_is_true(json_object_get(g->json[i], "owning_team_member")))
            in = team ? sb_request_store_team_member(conn, team, who->user_id, err) : 0;
        if (in < 0)
            return -1;
        if (in)
            *bits |= 1u << i;
    }
    return 0;
}
