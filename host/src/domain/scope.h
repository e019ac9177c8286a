/*
 * domain/scope.h — RBAC decisions with scope: may this user do P here?
 *
 * Contract: pure functions over plain inputs the store loads once per
 * request — no I/O, no clock. Two indexes:
 *
 *   sb_tenancy   the team tree and the project -> owning team map. Built in
 *                O(teams + projects); immutable; may be shared between
 *                requests and threads until a team or project changes.
 *   sb_rbac_ctx  one user's grants resolved against a tenancy. Built in
 *                O(grants log grants); borrows the tenancy (which must outlive
 *                it).
 *
 * A grant is a permission set (the role's) plus a scope:
 *   GLOBAL            everywhere;
 *   TEAM(team_id)     that team and its whole subtree, and every project
 *                     owned by a team in that subtree;
 *   PROJECT(id)       that project only.
 * Decisions:
 *   allows_global(P)      a global grant holds P;
 *   allows_team(P, T)     global, or a team grant holding P on T or an
 *                         ancestor of T;
 *   allows_project(P, J)  global, a project grant on J, or a team grant on the
 *                         owning team of J or one of its ancestors.
 * Point queries cost O(depth * log grants). Team membership grants nothing.
 * Default deny: an id the tenancy does not know is reachable only by a
 * global grant (the route then answers 404 for the missing row); grants whose
 * team or project no longer exists are ignored (and counted).
 *
 * The earlier product checked only global grants at the route and scope
 * inline in some handlers; here every check names its target, so a route
 * that gets this wrong has to say so in its permission table.
 *
 * Delegation: sb_rbac_can_grant lets a user grant a role at a scope only when
 * the user holds user_role.edit at that scope (a team admin: within the
 * team's subtree) and holds every permission of the role there too.
 */
#ifndef SB_DOMAIN_SCOPE_H
#define SB_DOMAIN_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/permissions.h"
#include "domain/team_tree.h"
#include "util/error.h"

typedef struct sb_project_owner {
    const char *project_id;
    const char *team_id; /* NULL or "" when no team owns the project */
} sb_project_owner;

typedef struct sb_tenancy sb_tenancy;

/* Refuses what sb_team_tree_build refuses, an empty or duplicate project id,
 * and a project owned by a team that is not in teams. Copies all ids. */
int sb_tenancy_build(const sb_team_edge *teams, size_t n_teams, const sb_project_owner *projects,
                     size_t n_projects, sb_tenancy **out, sb_error *err);
void sb_tenancy_free(sb_tenancy *t);
const sb_team_tree *sb_tenancy_teams(const sb_tenancy *t);
size_t sb_tenancy_project_count(const sb_tenancy *t);
bool sb_tenancy_has_project(const sb_tenancy *t, const char *project_id);
/* The owning team of project_id, or NULL (unknown project or no owner). */
const char *sb_tenancy_project_team(const sb_tenancy *t, const char *project_id);

typedef enum sb_scope_kind {
    SB_SCOPE_GLOBAL = 0,
    SB_SCOPE_TEAM = 1,
    SB_SCOPE_PROJECT = 2,
} sb_scope_kind;

typedef struct sb_scope {
    sb_scope_kind kind;
    const char *id; /* NULL for GLOBAL; the team or project id otherwise */
} sb_scope;

typedef struct sb_grant {
    sb_permission_set permissions; /* the granted role's permissions */
    sb_scope scope;
} sb_grant;

typedef struct sb_rbac_ctx sb_rbac_ctx;

/* Errors (SB_DOMAIN_E_INVALID) only for malformed grants: an unknown scope
 * kind, a GLOBAL grant with an id, a TEAM/PROJECT grant without one. */
int sb_rbac_ctx_build(const sb_tenancy *t, const sb_grant *grants, size_t n, sb_rbac_ctx **out,
                      sb_error *err);
void sb_rbac_ctx_free(sb_rbac_ctx *ctx);
/* Grants that were ignored because their team or project is not in the tenancy. */
size_t sb_rbac_ctx_ignored_grants(const sb_rbac_ctx *ctx);

bool sb_rbac_allows_global(const sb_rbac_ctx *ctx, sb_permission perm);
bool sb_rbac_allows_team(const sb_rbac_ctx *ctx, sb_permission perm, const char *team_id);
bool sb_rbac_allows_project(const sb_rbac_ctx *ctx, sb_permission perm, const char *project_id);
/* Dispatches on scope->kind; false for a malformed scope. */
bool sb_rbac_allows_scope(const sb_rbac_ctx *ctx, sb_permission perm, const sb_scope *scope);

/* Everything the user holds at a target (for GET /users/me and for checks
 * of several permissions at once). */
sb_permission_set sb_rbac_permissions_global(const sb_rbac_ctx *ctx);
sb_permission_set sb_rbac_permissions_team(const sb_rbac_ctx *ctx, const char *team_id);
sb_permission_set sb_rbac_permissions_project(const sb_rbac_ctx *ctx, const char *project_id);

/*
 * An id list the caller frees with sb_id_list_free; ids point into the
 * tenancy. `all` is set when a global grant makes every id visible, so the
 * store can skip the filter instead of sending every id back to SQL.
 */
typedef struct sb_id_list {
    const char **ids;
    size_t count;
    bool all;
} sb_id_list;

void sb_id_list_free(sb_id_list *list);
/* Projects where perm is allowed, in the tenancy's input order.
 * O(projects * log grants). */
int sb_rbac_visible_projects(const sb_rbac_ctx *ctx, sb_permission perm, sb_id_list *out,
                             sb_error *err);
/* Teams where perm is allowed through a global or team grant (a project
 * grant makes no team visible), in tree pre-order. O(teams + grants log
 * grants). */
int sb_rbac_visible_teams(const sb_rbac_ctx *ctx, sb_permission perm, sb_id_list *out,
                          sb_error *err);

/*
 * Delegated grants: 0 when the user of granter may grant a role with
 * permissions `role` at `scope`; else -1 with SB_DOMAIN_E_DENIED naming what
 * is missing (user_role.edit at that scope, or the permissions of the role
 * the granter does not hold there), SB_DOMAIN_E_NOT_FOUND for a team or
 * project the tenancy does not know, SB_DOMAIN_E_INVALID for a malformed
 * scope or permission bits outside the catalog.
 */
int sb_rbac_can_grant(const sb_rbac_ctx *granter, sb_permission_set role, const sb_scope *scope,
                      sb_error *err);
/* Revoking needs user_role.edit at the grant's scope (not its permissions). */
int sb_rbac_can_revoke(const sb_rbac_ctx *granter, const sb_scope *scope, sb_error *err);

#endif
