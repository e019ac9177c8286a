/*
 * tests/unit/test_domain_scope.c — RBAC decisions with scope
 * (host/src/domain/scope.c).
 *
 * The matrix: every permission x every grant placement {none, global,
 * team-ancestor, team-self, team-sibling, team-descendant-only, project-same,
 * project-other} x every check {global, team, project, visible projects,
 * visible teams}; for each cell also that no other permission leaks and that
 * holding every other permission does not stand in for this one. Then the
 * delegated-grant rule as a table, multiple grants, ignored (dangling) grants,
 * malformed grants, tenancy refusals, and scale.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/domain_error.h"
#include "domain/scope.h"

/*
 *   R ─┬─ A ─┬─ A1 ── A1x      projects: P  (A1)   target project
 *      │     └─ A2                       PD (A1x)  in the target's subtree
 *      └─ B                              PS (A2)   sibling team's
 *                                        PO (B)    other branch
 *                                        PU        owned by no team
 * Target team: A1. Target project: P.
 */
static const sb_team_edge teams[] = {
    {"R", NULL}, {"A", "R"}, {"A1", "A"}, {"A1x", "A1"}, {"A2", "A"}, {"B", "R"},
};
static const sb_project_owner projects[] = {
    {"P", "A1"}, {"PD", "A1x"}, {"PS", "A2"}, {"PO", "B"}, {"PU", NULL},
};
#define N_TEAMS (sizeof teams / sizeof teams[0])
#define N_PROJECTS (sizeof projects / sizeof projects[0])

static sb_tenancy *ten;

static void setup(void)
{
    sb_error err = {0};
    cr_assert_eq(sb_tenancy_build(teams, N_TEAMS, projects, N_PROJECTS, &ten, &err), 0, "%s",
                 err.message);
}

static void teardown(void)
{
    sb_tenancy_free(ten);
    ten = NULL;
}

TestSuite(scope, .init = setup, .fini = teardown);

static sb_rbac_ctx *ctx_of(const sb_grant *g, size_t n)
{
    sb_rbac_ctx *c = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_rbac_ctx_build(ten, g, n, &c, &err), 0, "%s", err.message);
    return c;
}

/* "P,PD" style sets, compared regardless of order. */
static bool list_is(const sb_id_list *l, const char *csv)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", csv);
    size_t want = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        want++;
        bool found = false;
        for (size_t i = 0; i < l->count; i++)
            found |= strcmp(l->ids[i], tok) == 0;
        if (!found)
            return false;
    }
    return want == l->count;
}

static const struct placement {
    const char *name;
    sb_scope_kind kind; /* ignored for "none" */
    const char *id;
    bool none;
    bool global, team, project; /* allowed at: global, team A1, project P */
    const char *visible_projects, *visible_teams;
    bool all;
} placements[] = {
    {"none", SB_SCOPE_GLOBAL, NULL, true, false, false, false, "", "", false},
    {"global", SB_SCOPE_GLOBAL, NULL, false, true, true, true, "P,PD,PS,PO,PU",
     "R,A,A1,A1x,A2,B", true},
    {"team-ancestor", SB_SCOPE_TEAM, "A", false, false, true, true, "P,PD,PS", "A,A1,A1x,A2",
     false},
    {"team-root", SB_SCOPE_TEAM, "R", false, false, true, true, "P,PD,PS,PO",
     "R,A,A1,A1x,A2,B", false},
    {"team-self", SB_SCOPE_TEAM, "A1", false, false, true, true, "P,PD", "A1,A1x", false},
    {"team-sibling", SB_SCOPE_TEAM, "A2", false, false, false, false, "PS", "A2", false},
    {"team-descendant-only", SB_SCOPE_TEAM, "A1x", false, false, false, false, "PD", "A1x",
     false},
    {"team-other-branch", SB_SCOPE_TEAM, "B", false, false, false, false, "PO", "B", false},
    {"project-same", SB_SCOPE_PROJECT, "P", false, false, false, true, "P", "", false},
    {"project-other", SB_SCOPE_PROJECT, "PS", false, false, false, false, "PS", "", false},
    {"project-unowned", SB_SCOPE_PROJECT, "PU", false, false, false, false, "PU", "", false},
};
#define N_PLACEMENTS (sizeof placements / sizeof placements[0])

static void check_cell(sb_permission perm, const struct placement *pl, sb_permission_set role,
                       bool expect_granted)
{
    sb_grant g = {role, {pl->kind, pl->id}};
    sb_rbac_ctx *c = ctx_of(&g, pl->none ? 0 : 1);
    const char *key = sb_permission_key(perm);
    bool on = expect_granted;
    cr_assert_eq(sb_rbac_allows_global(c, perm), on && pl->global, "%s / %s: global", key,
                 pl->name);
    cr_assert_eq(sb_rbac_allows_team(c, perm, "A1"), on && pl->team, "%s / %s: team", key,
                 pl->name);
    cr_assert_eq(sb_rbac_allows_project(c, perm, "P"), on && pl->project, "%s / %s: project", key,
                 pl->name);
    sb_scope team_scope = {SB_SCOPE_TEAM, "A1"}, project_scope = {SB_SCOPE_PROJECT, "P"},
             global_scope = {SB_SCOPE_GLOBAL, NULL};
    cr_assert_eq(sb_rbac_allows_scope(c, perm, &team_scope), on && pl->team);
    cr_assert_eq(sb_rbac_allows_scope(c, perm, &project_scope), on && pl->project);
    cr_assert_eq(sb_rbac_allows_scope(c, perm, &global_scope), on && pl->global);

    sb_id_list l;
    sb_error err = {0};
    cr_assert_eq(sb_rbac_visible_projects(c, perm, &l, &err), 0, "%s", err.message);
    cr_assert(list_is(&l, on ? pl->visible_projects : ""), "%s / %s: visible projects (%zu)", key,
              pl->name, l.count);
    cr_assert_eq(l.all, on && pl->all);
    sb_id_list_free(&l);
    cr_assert_eq(sb_rbac_visible_teams(c, perm, &l, &err), 0, "%s", err.message);
    cr_assert(list_is(&l, on ? pl->visible_teams : ""), "%s / %s: visible teams (%zu)", key,
              pl->name, l.count);
    cr_assert_eq(l.all, on && pl->all);
    sb_id_list_free(&l);
    sb_rbac_ctx_free(c);
}

Test(scope, matrix_every_permission_every_placement_every_check)
{
    size_t cells = 0;
    for (size_t p = 0; p < SB_PERM_COUNT; p++) {
        for (size_t i = 0; i < N_PLACEMENTS; i++) {
            sb_permission perm = (sb_permission)p;
            /* The role holds exactly perm: the placement decides. */
            check_cell(perm, &placements[i], SB_PERMISSION_BIT(perm), true);
            /* The role holds everything except perm: never allowed. */
            check_cell(perm, &placements[i], SB_PERMISSION_SET_ALL & ~SB_PERMISSION_BIT(perm),
                       false);
            /* The role holds perm: no other permission appears anywhere. */
            sb_grant g = {SB_PERMISSION_BIT(perm), {placements[i].kind, placements[i].id}};
            sb_rbac_ctx *c = ctx_of(&g, placements[i].none ? 0 : 1);
            for (size_t q = 0; q < SB_PERM_COUNT; q++) {
                if (q == p)
                    continue;
                cr_assert(!sb_rbac_allows_global(c, (sb_permission)q));
                cr_assert(!sb_rbac_allows_team(c, (sb_permission)q, "A1"));
                cr_assert(!sb_rbac_allows_project(c, (sb_permission)q, "P"));
            }
            sb_rbac_ctx_free(c);
            cells++;
        }
    }
    cr_assert_eq(cells, SB_PERM_COUNT * N_PLACEMENTS);
}

Test(scope, effective_permission_sets_union_grants_along_the_tree)
{
    sb_grant g[] = {
        {SB_PERMISSION_BIT(SB_PERM_SECRET_LIST), {SB_SCOPE_TEAM, "R"}},
        {SB_PERMISSION_BIT(SB_PERM_SECRET_REQUEST), {SB_SCOPE_TEAM, "A1"}},
        {SB_PERMISSION_BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_PROJECT, "PD"}},
        {SB_PERMISSION_BIT(SB_PERM_AUDIT_READ), {SB_SCOPE_GLOBAL, NULL}},
        {SB_PERMISSION_BIT(SB_PERM_TEAM_EDIT), {SB_SCOPE_TEAM, "A1"}}, /* same node twice */
    };
    sb_rbac_ctx *c = ctx_of(g, sizeof g / sizeof g[0]);
    sb_permission_set base = SB_PERMISSION_BIT(SB_PERM_AUDIT_READ);
    cr_assert_eq(sb_rbac_permissions_global(c), base);
    cr_assert_eq(sb_rbac_permissions_team(c, "B"), base | SB_PERMISSION_BIT(SB_PERM_SECRET_LIST));
    cr_assert_eq(sb_rbac_permissions_team(c, "A1x"),
                 base | SB_PERMISSION_BIT(SB_PERM_SECRET_LIST) |
                     SB_PERMISSION_BIT(SB_PERM_SECRET_REQUEST) |
                     SB_PERMISSION_BIT(SB_PERM_TEAM_EDIT));
    cr_assert_eq(sb_rbac_permissions_project(c, "PD"),
                 base | SB_PERMISSION_BIT(SB_PERM_SECRET_LIST) |
                     SB_PERMISSION_BIT(SB_PERM_SECRET_REQUEST) |
                     SB_PERMISSION_BIT(SB_PERM_TEAM_EDIT) |
                     SB_PERMISSION_BIT(SB_PERM_SECRET_APPROVE));
    cr_assert_eq(sb_rbac_permissions_project(c, "P"),
                 base | SB_PERMISSION_BIT(SB_PERM_SECRET_LIST) |
                     SB_PERMISSION_BIT(SB_PERM_SECRET_REQUEST) |
                     SB_PERMISSION_BIT(SB_PERM_TEAM_EDIT));
    /* An unowned project gets no team grant, even the root's. */
    cr_assert_eq(sb_rbac_permissions_project(c, "PU"), base);
    /* Unknown ids: only what is global. */
    cr_assert_eq(sb_rbac_permissions_project(c, "ghost"), base);
    cr_assert_eq(sb_rbac_permissions_team(c, "ghost"), base);
    cr_assert_eq(sb_rbac_ctx_ignored_grants(c), 0u);
    sb_rbac_ctx_free(c);
}

Test(scope, unknown_targets_dangling_grants_and_null_context)
{
    sb_grant g[] = {
        {SB_PERMISSION_SET_ALL, {SB_SCOPE_TEAM, "deleted-team"}},
        {SB_PERMISSION_SET_ALL, {SB_SCOPE_PROJECT, "deleted-project"}},
        {SB_PERMISSION_BIT(SB_PERM_SECRET_LIST), {SB_SCOPE_TEAM, "A"}},
    };
    sb_rbac_ctx *c = ctx_of(g, 3);
    cr_assert_eq(sb_rbac_ctx_ignored_grants(c), 2u);
    cr_assert(!sb_rbac_allows_team(c, SB_PERM_SECRET_LIST, "deleted-team"));
    cr_assert(!sb_rbac_allows_project(c, SB_PERM_SECRET_LIST, "deleted-project"));
    cr_assert(!sb_rbac_allows_global(c, SB_PERM_ROLE_EDIT));
    cr_assert(sb_rbac_allows_project(c, SB_PERM_SECRET_LIST, "PS"));
    cr_assert(!sb_rbac_allows_project(c, SB_PERM_SECRET_LIST, NULL));
    cr_assert(!sb_rbac_allows_team(c, SB_PERM_SECRET_LIST, NULL));
    cr_assert(!sb_rbac_allows_project(c, SB_PERM_COUNT, "PS"), "out-of-range permission");
    sb_scope bad = {(sb_scope_kind)7, "A"};
    cr_assert(!sb_rbac_allows_scope(c, SB_PERM_SECRET_LIST, &bad));
    sb_scope global_with_id = {SB_SCOPE_GLOBAL, "A"};
    cr_assert(!sb_rbac_allows_scope(c, SB_PERM_SECRET_LIST, &global_with_id));
    sb_rbac_ctx_free(c);
    cr_assert(!sb_rbac_allows_global(NULL, SB_PERM_SECRET_LIST));
    cr_assert(!sb_rbac_allows_project(NULL, SB_PERM_SECRET_LIST, "P"));
    cr_assert(!sb_rbac_allows_team(NULL, SB_PERM_SECRET_LIST, "A"));

    /* A global grant reaches ids the snapshot does not know (the route 404s). */
    sb_grant gg = {SB_PERMISSION_BIT(SB_PERM_SECRET_LIST), {SB_SCOPE_GLOBAL, NULL}};
    c = ctx_of(&gg, 1);
    cr_assert(sb_rbac_allows_project(c, SB_PERM_SECRET_LIST, "ghost"));
    sb_rbac_ctx_free(c);
}

Test(scope, malformed_grants_are_refused)
{
    static const struct {
        sb_scope scope;
        const char *message;
    } bad[] = {
        {{SB_SCOPE_GLOBAL, "A"}, "grants[0]: a global scope carries no id (got A)"},
        {{SB_SCOPE_TEAM, NULL}, "grants[0]: a team scope needs an id"},
        {{SB_SCOPE_TEAM, ""}, "grants[0]: a team scope needs an id"},
        {{SB_SCOPE_PROJECT, NULL}, "grants[0]: a project scope needs an id"},
        {{(sb_scope_kind)3, "A"}, "grants[0]: unknown scope kind 3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_grant g = {SB_PERMISSION_SET_ALL, bad[i].scope};
        sb_rbac_ctx *c = (sb_rbac_ctx *)0x1;
        sb_error err = {0};
        cr_assert_eq(sb_rbac_ctx_build(ten, &g, 1, &c, &err), -1, "case %zu", i);
        cr_assert_null(c);
        cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
        cr_assert_str_eq(err.message, bad[i].message);
    }
    sb_rbac_ctx *c = NULL;
    cr_assert_eq(sb_rbac_ctx_build(NULL, NULL, 0, &c, NULL), -1);
    /* Empty global id "" is accepted as "no id". */
    sb_grant g = {SB_PERMISSION_BIT(SB_PERM_AUDIT_READ), {SB_SCOPE_GLOBAL, ""}};
    c = ctx_of(&g, 1);
    cr_assert(sb_rbac_allows_global(c, SB_PERM_AUDIT_READ));
    sb_rbac_ctx_free(c);
}

Test(scope, tenancy_refusals)
{
    sb_tenancy *t = (sb_tenancy *)0x1;
    sb_error err = {0};
    const sb_project_owner dup[] = {{"P", "A"}, {"P", NULL}};
    cr_assert_eq(sb_tenancy_build(teams, N_TEAMS, dup, 2, &t, &err), -1);
    cr_assert_null(t);
    cr_assert_eq(err.code, SB_DOMAIN_E_DUPLICATE);
    cr_assert_str_eq(err.message, "projects[1]: project P is listed twice");
    const sb_project_owner orphan[] = {{"P", "ghost"}};
    cr_assert_eq(sb_tenancy_build(teams, N_TEAMS, orphan, 1, &t, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_NOT_FOUND);
    cr_assert_str_eq(err.message, "project P: its owning team ghost is not a known team");
    const sb_project_owner empty[] = {{"", "A"}};
    cr_assert_eq(sb_tenancy_build(teams, N_TEAMS, empty, 1, &t, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_INVALID);
    const sb_team_edge cyc[] = {{"X", "Y"}, {"Y", "X"}};
    cr_assert_eq(sb_tenancy_build(cyc, 2, NULL, 0, &t, &err), -1);
    cr_assert_eq(err.code, SB_DOMAIN_E_CYCLE);

    cr_assert_str_eq(sb_tenancy_project_team(ten, "PD"), "A1x");
    cr_assert_null(sb_tenancy_project_team(ten, "PU"));
    cr_assert_null(sb_tenancy_project_team(ten, "ghost"));
    cr_assert_eq(sb_tenancy_project_count(ten), N_PROJECTS);
    cr_assert(sb_tenancy_has_project(ten, "PO"));
    cr_assert_eq(sb_team_tree_count(sb_tenancy_teams(ten)), N_TEAMS);
}

Test(scope, list_orders)
{
    /* Projects come back in input order; teams in tree pre-order. */
    sb_grant g[] = {{SB_PERMISSION_BIT(SB_PERM_SECRET_LIST), {SB_SCOPE_TEAM, "A"}},
                    {SB_PERMISSION_BIT(SB_PERM_SECRET_LIST), {SB_SCOPE_TEAM, "A1"}}, /* nested */
                    {SB_PERMISSION_BIT(SB_PERM_SECRET_LIST), {SB_SCOPE_PROJECT, "PO"}}};
    sb_rbac_ctx *c = ctx_of(g, 3);
    sb_id_list l;
    cr_assert_eq(sb_rbac_visible_projects(c, SB_PERM_SECRET_LIST, &l, NULL), 0);
    cr_assert_eq(l.count, 4u);
    const char *want_p[] = {"P", "PD", "PS", "PO"};
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(l.ids[i], want_p[i]);
    sb_id_list_free(&l);
    cr_assert_eq(sb_rbac_visible_teams(c, SB_PERM_SECRET_LIST, &l, NULL), 0);
    cr_assert_eq(l.count, 4u, "nested grants are not listed twice");
    cr_assert_str_eq(l.ids[0], "A");
    cr_assert_str_eq(l.ids[1], "A1");
    cr_assert_str_eq(l.ids[2], "A1x");
    cr_assert_str_eq(l.ids[3], "A2");
    sb_id_list_free(&l);
    sb_id_list_free(NULL);
    sb_rbac_ctx_free(c);
}

/* ---- delegated grants ------------------------------------------------- */

#define BIT SB_PERMISSION_BIT
#define URE BIT(SB_PERM_USER_ROLE_EDIT)
#define DEV (BIT(SB_PERM_SECRET_LIST) | BIT(SB_PERM_SECRET_REQUEST) | \
             BIT(SB_PERM_SECRET_REVEAL_DIRECT))

static const struct granter {
    const char *name;
    sb_grant grants[3];
    size_t n;
} granters[] = {
    {"global admin", {{SB_PERMISSION_SET_ALL, {SB_SCOPE_GLOBAL, NULL}}}, 1},
    {"team admin of A", {{SB_PERMISSION_SET_ALL, {SB_SCOPE_TEAM, "A"}}}, 1},
    {"A: user_role.edit + secret.list",
     {{URE | BIT(SB_PERM_SECRET_LIST), {SB_SCOPE_TEAM, "A"}}}, 1},
    {"A: user_role.edit; A1: secret.approve",
     {{URE, {SB_SCOPE_TEAM, "A"}}, {BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_TEAM, "A1"}}}, 2},
    {"global approve; P: user_role.edit",
     {{BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_GLOBAL, NULL}}, {URE, {SB_SCOPE_PROJECT, "P"}}}, 2},
    {"everything but user_role.edit",
     {{SB_PERMISSION_SET_ALL & ~URE, {SB_SCOPE_GLOBAL, NULL}}}, 1},
};

static const struct delegation {
    size_t granter;
    sb_permission_set role;
    sb_scope scope;
    int code; /* 0 = allowed */
    const char *message;
} delegations[] = {
    {0, SB_PERMISSION_SET_ALL, {SB_SCOPE_GLOBAL, NULL}, 0, NULL},
    {0, DEV, {SB_SCOPE_PROJECT, "PO"}, 0, NULL},
    {1, DEV, {SB_SCOPE_TEAM, "A1"}, 0, NULL},
    {1, SB_PERMISSION_SET_ALL, {SB_SCOPE_TEAM, "A"}, 0, NULL},
    {1, SB_PERMISSION_SET_ALL, {SB_SCOPE_PROJECT, "PS"}, 0, NULL},
    {1, DEV, {SB_SCOPE_TEAM, "B"}, SB_DOMAIN_E_DENIED,
     "managing grants at team B needs user_role.edit there"},
    {1, DEV, {SB_SCOPE_TEAM, "R"}, SB_DOMAIN_E_DENIED,
     "managing grants at team R needs user_role.edit there"},
    {1, DEV, {SB_SCOPE_PROJECT, "PO"}, SB_DOMAIN_E_DENIED,
     "managing grants at project PO needs user_role.edit there"},
    {1, DEV, {SB_SCOPE_PROJECT, "PU"}, SB_DOMAIN_E_DENIED,
     "managing grants at project PU needs user_role.edit there"},
    {1, DEV, {SB_SCOPE_GLOBAL, NULL}, SB_DOMAIN_E_DENIED,
     "managing grants globally needs user_role.edit there"},
    {2, BIT(SB_PERM_SECRET_LIST), {SB_SCOPE_TEAM, "A1"}, 0, NULL},
    {2, BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_TEAM, "A1"}, SB_DOMAIN_E_DENIED,
     "you cannot grant a role at team A1 that carries permissions you do not hold there: "
     "secret.approve"},
    {2, BIT(SB_PERM_SECRET_LIST) | BIT(SB_PERM_SECRET_APPROVE) | BIT(SB_PERM_AUDIT_READ),
     {SB_SCOPE_PROJECT, "PD"}, SB_DOMAIN_E_DENIED,
     "you cannot grant a role at project PD that carries permissions you do not hold there: "
     "secret.approve, audit.read"},
    {2, URE, {SB_SCOPE_TEAM, "A2"}, 0, NULL}, /* delegating delegation, within the subtree */
    {3, BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_TEAM, "A1"}, 0, NULL},
    {3, BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_TEAM, "A1x"}, 0, NULL},
    {3, BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_PROJECT, "P"}, 0, NULL},
    {3, BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_TEAM, "A"}, SB_DOMAIN_E_DENIED,
     "you cannot grant a role at team A that carries permissions you do not hold there: "
     "secret.approve"},
    {3, BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_PROJECT, "PS"}, SB_DOMAIN_E_DENIED,
     "you cannot grant a role at project PS that carries permissions you do not hold there: "
     "secret.approve"},
    {4, BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_PROJECT, "P"}, 0, NULL},
    {4, BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_TEAM, "A1"}, SB_DOMAIN_E_DENIED,
     "managing grants at team A1 needs user_role.edit there"},
    {4, BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_PROJECT, "PD"}, SB_DOMAIN_E_DENIED,
     "managing grants at project PD needs user_role.edit there"},
    {4, BIT(SB_PERM_SECRET_APPROVE), {SB_SCOPE_GLOBAL, NULL}, SB_DOMAIN_E_DENIED,
     "managing grants globally needs user_role.edit there"},
    {5, BIT(SB_PERM_SECRET_LIST), {SB_SCOPE_PROJECT, "P"}, SB_DOMAIN_E_DENIED,
     "managing grants at project P needs user_role.edit there"},
    {0, DEV, {SB_SCOPE_TEAM, "ghost"}, SB_DOMAIN_E_NOT_FOUND, "team ghost does not exist"},
    {0, DEV, {SB_SCOPE_PROJECT, "ghost"}, SB_DOMAIN_E_NOT_FOUND, "project ghost does not exist"},
    {0, DEV, {SB_SCOPE_GLOBAL, "A"}, SB_DOMAIN_E_INVALID,
     "scope[0]: a global scope carries no id (got A)"},
    {0, DEV, {SB_SCOPE_TEAM, NULL}, SB_DOMAIN_E_INVALID, "scope[0]: a team scope needs an id"},
    {0, BIT(SB_PERM_COUNT), {SB_SCOPE_GLOBAL, NULL}, SB_DOMAIN_E_INVALID,
     "the role carries permission bits outside the catalog"},
};

Test(scope, delegated_grants_stay_within_the_granters_scope_and_permissions)
{
    for (size_t i = 0; i < sizeof delegations / sizeof delegations[0]; i++) {
        const struct delegation *d = &delegations[i];
        const struct granter *gr = &granters[d->granter];
        sb_rbac_ctx *c = ctx_of(gr->grants, gr->n);
        sb_error err = {0};
        int rc = sb_rbac_can_grant(c, d->role, &d->scope, &err);
        if (d->code == 0) {
            cr_assert_eq(rc, 0, "case %zu (%s) refused: %s", i, gr->name, err.message);
        } else {
            cr_assert_eq(rc, -1, "case %zu (%s) allowed", i, gr->name);
            cr_assert_eq(err.code, d->code, "case %zu: code %d (%s)", i, err.code, err.message);
            cr_assert_str_eq(err.message, d->message, "case %zu", i);
        }
        sb_rbac_ctx_free(c);
    }
}

Test(scope, delegation_is_exhaustive_over_single_permissions)
{
    /* A team admin of A can grant any single permission anywhere in A's
     * subtree and nowhere else. */
    sb_grant g = {SB_PERMISSION_SET_ALL, {SB_SCOPE_TEAM, "A"}};
    sb_rbac_ctx *c = ctx_of(&g, 1);
    static const struct {
        sb_scope scope;
        bool ok;
    } where[] = {
        {{SB_SCOPE_GLOBAL, NULL}, false}, {{SB_SCOPE_TEAM, "R"}, false},
        {{SB_SCOPE_TEAM, "A"}, true},     {{SB_SCOPE_TEAM, "A1"}, true},
        {{SB_SCOPE_TEAM, "A1x"}, true},   {{SB_SCOPE_TEAM, "A2"}, true},
        {{SB_SCOPE_TEAM, "B"}, false},    {{SB_SCOPE_PROJECT, "P"}, true},
        {{SB_SCOPE_PROJECT, "PD"}, true}, {{SB_SCOPE_PROJECT, "PS"}, true},
        {{SB_SCOPE_PROJECT, "PO"}, false}, {{SB_SCOPE_PROJECT, "PU"}, false},
    };
    for (size_t p = 0; p < SB_PERM_COUNT; p++)
        for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
            int rc = sb_rbac_can_grant(c, SB_PERMISSION_BIT(p), &where[w].scope, NULL);
            cr_assert_eq(rc == 0, where[w].ok, "%s at %zu", sb_permission_key((sb_permission)p),
                         w);
            cr_assert_eq(sb_rbac_can_revoke(c, &where[w].scope, NULL) == 0, where[w].ok);
        }
    sb_rbac_ctx_free(c);
}

/* Big tenancy: construction and lists stay linear. */
Test(scope, scale_100k_teams_and_projects, .timeout = 60)
{
    enum { N = 100000 };
    char (*tid)[12] = malloc(sizeof(*tid) * N), (*pid)[12] = malloc(sizeof(*pid) * N);
    sb_team_edge *te = malloc(sizeof *te * N);
    sb_project_owner *po = malloc(sizeof *po * N);
    cr_assert(tid && pid && te && po);
    srand(3);
    for (int i = 0; i < N; i++) {
        snprintf(tid[i], sizeof tid[i], "t%d", i);
        snprintf(pid[i], sizeof pid[i], "p%d", i);
        /* a bushy tree at most ~12 deep: parent within the previous "level" */
        te[i] = (sb_team_edge){tid[i], i ? tid[(i - 1) / 3] : NULL};
        po[i] = (sb_project_owner){pid[i], tid[rand() % N]};
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sb_tenancy *big = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_tenancy_build(te, N, po, N, &big, &err), 0, "%s", err.message);
    sb_grant g[64];
    for (int i = 0; i < 64; i++)
        g[i] = (sb_grant){BIT(SB_PERM_SECRET_LIST), {SB_SCOPE_TEAM, tid[rand() % N]}};
    sb_rbac_ctx *c = NULL;
    cr_assert_eq(sb_rbac_ctx_build(big, g, 64, &c, &err), 0);
    size_t allowed = 0;
    for (int i = 0; i < N; i++)
        allowed += sb_rbac_allows_project(c, SB_PERM_SECRET_LIST, pid[i]);
    sb_id_list l;
    cr_assert_eq(sb_rbac_visible_projects(c, SB_PERM_SECRET_LIST, &l, &err), 0);
    cr_assert_eq(l.count, allowed, "the list and the point checks agree");
    sb_id_list_free(&l);
    cr_assert_eq(sb_rbac_visible_teams(c, SB_PERM_SECRET_LIST, &l, &err), 0);
    for (size_t i = 0; i < l.count; i++)
        cr_assert(sb_rbac_allows_team(c, SB_PERM_SECRET_LIST, l.ids[i]));
    size_t teams_allowed = 0;
    for (int i = 0; i < N; i++)
        teams_allowed += sb_rbac_allows_team(c, SB_PERM_SECRET_LIST, tid[i]);
    cr_assert_eq(l.count, teams_allowed);
    sb_id_list_free(&l);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(s, 10.0, "took %.2f s", s);
    sb_rbac_ctx_free(c);
    sb_tenancy_free(big);
    free(tid);
    free(pid);
    free(te);
    free(po);
}
