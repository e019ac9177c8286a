/*
 * test_api_tenancy_scope.c — who sees and changes which teams, projects and
 * environments, through the real control plane:
 *   - a team grant reaches the team's subtree and the projects of every
 *     team in it, and nothing else (404 outside, lists filtered);
 *   - a project grant reaches one project (not its team); no grant, or only
 *     platform-level permissions, sees nothing;
 *   - a team admin acts inside the subtree and is refused outside it (404
 *     for what they cannot see, 403 for what they see but may not change),
 *     every refusal audited and none leaving a row;
 *   - concurrent opposite moves of two teams never make a cycle.
 */
#include <pthread.h>

#include "tenancy_test_util.h"

TestSuite(tenancy_scope, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 180);

/* ---- scope -------------------------------------------------------------------- */

typedef struct world {
    char org[40], eng[40], plat[40], sales[40];
    char p_eng[40], p_plat[40], p_sales[40];
    char e_plat[40], e_sales[40];
} world;

/* Org > Eng > Platform, and Sales beside Org; a project and env in each. */
static void build_world(world *w)
{
    make_team(admin, "Org", NULL, w->org);
    make_team(admin, "Eng", w->org, w->eng);
    make_team(admin, "Platform", w->eng, w->plat);
    make_team(admin, "Sales", NULL, w->sales);
    make_project(admin, "eng-app", w->eng, w->p_eng);
    make_project(admin, "plat-app", w->plat, w->p_plat);
    make_project(admin, "sales-app", w->sales, w->p_sales);
    make_env(admin, w->p_plat, "dev", "non_prod", w->e_plat);
    make_env(admin, w->p_sales, "dev", "non_prod", w->e_sales);
}

Test(tenancy_scope, a_team_grant_reaches_the_subtree_and_nothing_else)
{
    world w;
    build_world(&w);
    char dev[256], uid[40];
    make_user("eng-dev", "developer", "team", w.eng, uid, dev);
    char ids[8192];
    list_ids(dev, "/api/v1/teams", ids, sizeof ids);
    cr_assert(listed(ids, w.eng) && listed(ids, w.plat), "the subtree: %s", ids);
    cr_assert(!listed(ids, w.org) && !listed(ids, w.sales), "nothing above or beside: %s", ids);
    list_ids(dev, "/api/v1/projects", ids, sizeof ids);
    cr_assert(listed(ids, w.p_eng) && listed(ids, w.p_plat) && !listed(ids, w.p_sales), "%s", ids);

    cr_assert_eq(get(dev, path3("/api/v1/teams/", w.plat, "")), 200);
    cr_assert_eq(get(dev, path3("/api/v1/projects/", w.p_plat, "")), 200,
                 "a descendant team's project");
    cr_assert_eq(get(dev, path3("/api/v1/projects/", w.p_plat, "/environments")), 200);
    cr_assert_eq(get(dev, path3("/api/v1/environments/", w.e_plat, "")), 200);
    cr_assert_eq(get(dev, path3("/api/v1/teams/", w.org, "")), 404);
    cr_assert_eq(get(dev, path3("/api/v1/teams/", w.sales, "")), 404);
    cr_assert_eq(get(dev, path3("/api/v1/teams/", w.sales, "/members")), 404);
    cr_assert_eq(get(dev, path3("/api/v1/projects/", w.p_sales, "")), 404);
    cr_assert_eq(get(dev, path3("/api/v1/projects/", w.p_sales, "/environments")), 404);
    cr_assert_eq(get(dev, path3("/api/v1/environments/", w.e_sales, "")), 404);
    sb_api_response r;
    cr_assert_eq(
        callf(dev, "GET", "/api/v1/projects/00000000-0000-4000-8000-000000000009", &r, NULL), 404);
    cr_assert_str_eq(error_code(&r), "not_found");
    sb_api_response_free(&r);
    /* a developer edits nothing (the gate: team.edit held nowhere) */
    expect_error(
        callf(dev, "PUT", path3("/api/v1/teams/", w.eng, ""), &r, "{\"description\":\"x\"}"), &r,
        403, "forbidden");
}

Test(tenancy_scope, a_team_admin_acts_inside_the_subtree_only)
{
    world w;
    build_world(&w);
    char ta[256], uid[40], child[40], p[40], e[40], path[200];
    make_user("eng-admin", "admin", "team", w.eng, uid, ta);
    sb_api_response r;
    make_team(ta, "Eng Child", w.plat, child);
    make_project(ta, "child-app", child, p);
    make_env(ta, p, "staging", "non_prod", e);
    cr_assert_eq(
        callf(ta, "PUT", path3("/api/v1/teams/", w.eng, ""), NULL, "{\"description\":\"ours\"}"),
        200);
    cr_assert_eq(
        callf(ta, "PUT", path3("/api/v1/teams/", child, ""), NULL, "{\"parent_id\":\"%s\"}", w.eng),
        200);
    cr_assert_eq(callf(ta, "PUT", path3("/api/v1/teams/", w.plat, "/status"), NULL,
                       "{\"status\":\"archived\"}"),
                 200);

    /* outside: invisible targets read as missing; visible ones as forbidden */
    expect_error(callf(ta, "POST", "/api/v1/teams", &r, "{\"name\":\"Rogue\"}"), &r, 403,
                 "forbidden");
    expect_error(callf(ta, "POST", "/api/v1/teams", &r, "{\"name\":\"Rogue\",\"parent_id\":\"%s\"}",
                       w.sales),
                 &r, 422, "invalid_value");
    expect_error(
        callf(ta, "PUT", path3("/api/v1/teams/", w.sales, ""), &r, "{\"description\":\"x\"}"), &r,
        404, "not_found");
    expect_error(callf(ta, "DELETE", path3("/api/v1/teams/", w.sales, ""), &r, NULL), &r, 404,
                 "not_found");
    expect_error(callf(ta, "DELETE", path3("/api/v1/teams/", w.eng, ""), &r, NULL), &r, 403,
                 "forbidden");
    expect_error(callf(ta, "PUT", path3("/api/v1/teams/", w.eng, ""), &r, "{\"parent_id\":null}"),
                 &r, 403, "forbidden");
    expect_error(callf(ta, "POST", "/api/v1/projects", &r,
                       "{\"name\":\"rogue\",\"team_id\":\"%s\"}", w.sales),
                 &r, 422, "invalid_value");
    snprintf(path, sizeof path, "/api/v1/projects/%s", w.p_eng);
    expect_error(callf(ta, "PUT", path, &r, "{\"team_id\":\"%s\"}", w.sales), &r, 422,
                 "invalid_value");
    snprintf(path, sizeof path, "/api/v1/projects/%s/status", w.p_sales);
    expect_error(callf(ta, "PUT", path, &r, "{\"status\":\"archived\"}"), &r, 404, "not_found");
    expect_error(callf(ta, "POST", "/api/v1/environments", &r,
                       "{\"project_id\":\"%s\",\"name\":\"x\",\"kind\":\"prod\"}", w.p_sales),
                 &r, 422, "invalid_value");
    snprintf(path, sizeof path, "/api/v1/environments/%s", w.e_sales);
    expect_error(callf(ta, "PUT", path, &r, "{\"risk_level\":0}"), &r, 404, "not_found");
    expect_error(callf(ta, "POST", path3("/api/v1/teams/", w.sales, "/members"), &r,
                       "{\"user_id\":\"%s\"}", w.org),
                 &r, 404, "not_found");

    cr_assert_eq(sql_int("SELECT count(*) FROM teams WHERE name = 'Rogue'") +
                     sql_int("SELECT count(*) FROM projects WHERE name = 'rogue'") +
                     sql_int("SELECT count(*) FROM environments WHERE name = 'x'"),
                 0, "no refused change left a row");
    cr_assert_eq(
        sql_int("SELECT count(*) FROM projects WHERE id = '%s' AND team_id = '%s'", w.p_eng, w.eng),
        1);
    cr_assert_geq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'access.denied' "
                          "AND actor LIKE 'user:%%'"),
                  5, "refusals are audited");
}

Test(tenancy_scope, a_project_grant_reaches_one_project)
{
    world w;
    build_world(&w);
    char dev[256], uid[40], ids[8192];
    make_user("plat-dev", "developer", "project", w.p_plat, uid, dev);
    list_ids(dev, "/api/v1/projects", ids, sizeof ids);
    cr_assert_eq(strlen(ids), 37, "exactly one project: %s", ids);
    cr_assert(listed(ids, w.p_plat));
    list_ids(dev, "/api/v1/teams", ids, sizeof ids);
    cr_assert_str_eq(ids, "", "a project grant shows no team");
    cr_assert_eq(get(dev, path3("/api/v1/teams/", w.plat, "")), 404);
    cr_assert_eq(get(dev, path3("/api/v1/environments/", w.e_plat, "")), 200);
    cr_assert_eq(get(dev, path3("/api/v1/projects/", w.p_eng, "")), 404);
}

Test(tenancy_scope, no_grant_sees_nothing)
{
    world w;
    build_world(&w);
    char none[256], uid[40], ids[8192];
    make_user("nobody", NULL, NULL, NULL, uid, none);
    list_ids(none, "/api/v1/teams", ids, sizeof ids);
    cr_assert_str_eq(ids, "");
    list_ids(none, "/api/v1/projects", ids, sizeof ids);
    cr_assert_str_eq(ids, "");
    cr_assert_eq(get(none, path3("/api/v1/teams/", w.org, "")), 404);
    cr_assert_eq(get(none, path3("/api/v1/projects/", w.p_eng, "")), 404);
    cr_assert_eq(get(none, path3("/api/v1/environments/", w.e_plat, "")), 404);
    cr_assert_eq(get(none, path3("/api/v1/projects/", w.p_plat, "/environments")), 404);
    /* platform-only permissions (audit.read, role.edit) show no tenant */
    char auditor[256];
    cr_assert_eq(sb_api_harness_sql(h,
                                    "INSERT INTO roles (name, permissions) VALUES "
                                    "('auditor_only', '{audit.read,role.edit}')",
                                    NULL, 0),
                 0);
    make_user("auditor", "auditor_only", "global", NULL, uid, auditor);
    list_ids(auditor, "/api/v1/teams", ids, sizeof ids);
    cr_assert_str_eq(ids, "");
    list_ids(auditor, "/api/v1/projects", ids, sizeof ids);
    cr_assert_str_eq(ids, "");
    cr_assert_eq(get(auditor, path3("/api/v1/teams/", w.org, "")), 404);
}

/* ---- concurrency ---------------------------------------------------------------- */

typedef struct mover {
    const char *team, *parent;
    pthread_barrier_t *start;
    long status;
} mover;

static void *move_team(void *arg)
{
    mover *m = arg;
    char path[128], body[128];
    snprintf(path, sizeof path, "/api/v1/teams/%s", m->team);
    snprintf(body, sizeof body, "{\"parent_id\":\"%s\"}", m->parent);
    pthread_barrier_wait(m->start);
    sb_api_response r;
    m->status = sb_api_call(h, "PUT", path, body, admin, NULL, &r);
    sb_api_response_free(&r);
    return NULL;
}

/* X > X1 and Y > Y1; at once, X moves under Y1 and Y under X1. The two
 * requests lock disjoint rows, so only the tree lock keeps both database
 * checks from passing on stale data and closing the cycle X>Y1>Y>X1>X. */
Test(tenancy_scope, concurrent_moves_never_make_a_cycle)
{
    char x[40], x1[40], y[40], y1[40];
    make_team(admin, "X", NULL, x);
    make_team(admin, "X1", x, x1);
    make_team(admin, "Y", NULL, y);
    make_team(admin, "Y1", y, y1);
    for (int round = 0; round < 12; round++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        mover m1 = {x, y1, &start, 0}, m2 = {y, x1, &start, 0};
        pthread_t t1, t2;
        pthread_create(&t1, NULL, move_team, &m1);
        pthread_create(&t2, NULL, move_team, &m2);
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
        pthread_barrier_destroy(&start);
        cr_assert((m1.status == 200 && m2.status == 409) || (m1.status == 409 && m2.status == 200),
                  "round %d: exactly one move wins (%ld, %ld)", round, m1.status, m2.status);
        cr_assert_eq(sql_int("SELECT count(*) FROM teams WHERE parent_id IS NULL AND id IN "
                             "('%s', '%s')",
                             x, y),
                     1, "round %d: one root remains, no cycle", round);
        const char *moved = m1.status == 200 ? x : y;
        cr_assert_eq(
            callf(admin, "PUT", path3("/api/v1/teams/", moved, ""), NULL, "{\"parent_id\":null}"),
            200);
    }
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'team.move'"), 24,
                 "one event per successful move, none for the refused ones");
}
