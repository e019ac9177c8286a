/*
 * test_api_tenancy.c — teams, members, projects and environments through
 * the real control plane (PostgreSQL + HTTP on loopback):
 *   - the team tree: CRUD, moves, cycles refused (direct and through a deep
 *     descendant; by the API and by the database's trigger), the depth
 *     limit, archive vs delete (409 team_not_empty), unique names;
 *   - environments: kind and name immutable (API 422 and direct SQL);
 *   - members, cursor pages;
 *   - every change writes exactly one audit event with its action, in the
 *     same transaction (checked in audit_events), and bad input — wrong
 *     shapes, types, values, query parameters — changes nothing.
 * Scope (who sees and changes what) is test_api_tenancy_scope.c.
 */
#include "tenancy_test_util.h"

TestSuite(tenancy, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 180);

/* ---- the team tree ------------------------------------------------------------ */

Test(tenancy, team_crud_writes_one_audit_event_per_change)
{
    char a[40], b[40];
    make_team(admin, "Alpha", NULL, a);
    make_team(admin, "Beta", a, b);
    sb_api_response r;
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/teams/", b, ""), &r, NULL), 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "parent_id")), a);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "active");
    sb_api_response_free(&r);

    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/teams/", b, ""), &r,
                       "{\"name\":\"Beta Two\",\"description\":\"d\"}"),
                 200, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "Beta Two");
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/teams/", b, ""), &r, "{\"parent_id\":null}"),
                 200, "%s", r.body);
    cr_assert(json_is_null(json_object_get(r.json, "parent_id")));
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/teams/", b, "/status"), NULL,
                       "{\"status\":\"archived\"}"),
                 200);
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/teams/", b, "/status"), NULL,
                       "{\"status\":\"archived\"}"),
                 200, "archiving twice is a no-op");
    cr_assert_eq(
        callf(admin, "PUT", path3("/api/v1/teams/", b, "/status"), NULL, "{\"status\":\"active\"}"),
        200);
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/teams/", b, ""), NULL, NULL), 204);
    cr_assert_eq(get(admin, path3("/api/v1/teams/", b, "")), 404);
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/teams/", b, ""), &r, NULL), 404, "%s",
                 r.body);
    sb_api_response_free(&r);

    const char *actions[] = {"team.create",  "team.update",    "team.move",
                             "team.archive", "team.unarchive", "team.delete"};
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(audit_rows(actions[i], "team", b), 1, "%s written once", actions[i]);
    cr_assert_eq(audit_rows("team.create", "team", a), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE resource = 'team:%s'", b), 6);
}

Test(tenancy, cycles_are_refused_directly_and_through_deep_descendants)
{
    char t[5][40];
    make_team(admin, "Cycle-0", NULL, t[0]);
    for (int i = 1; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "Cycle-%d", i);
        make_team(admin, name, t[i - 1], t[i]);
    }
    sb_api_response r;
    long st =
        callf(admin, "PUT", path3("/api/v1/teams/", t[0], ""), &r, "{\"parent_id\":\"%s\"}", t[4]);
    expect_error(st, &r, 409, "team_cycle");
    st = callf(admin, "PUT", path3("/api/v1/teams/", t[2], ""), &r, "{\"parent_id\":\"%s\"}", t[2]);
    expect_error(st, &r, 409, "team_cycle");
    st = callf(admin, "PUT", path3("/api/v1/teams/", t[1], ""), &r,
               "{\"parent_id\":\"%s\",\"name\":\"Renamed\"}", t[3]);
    expect_error(st, &r, 409, "team_cycle");
    cr_assert_eq(sql_int("SELECT count(*) FROM teams WHERE id = '%s' AND parent_id IS NULL", t[0]),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM teams WHERE name = 'Renamed'"), 0,
                 "nothing changed");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'team.move'"), 0);

    /* the database refuses it too, whatever the application checked */
    sb_db_conn *conn;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &conn, &err), 0);
    const char *p[] = {t[0], t[4]};
    cr_assert_neq(sb_db_exec(conn, "UPDATE teams SET parent_id = $2::uuid WHERE id = $1::uuid", 2,
                             p, NULL, &err),
                  0);
    cr_assert_eq(err.code, SB_DB_E_REFUSED);
    cr_assert_str_eq(sb_db_last_error(conn)->hint, "team_cycle");
    sb_db_release(sb_api_harness_db(h), conn);

    /* a legal move inside the chain works and is audited once */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/teams/", t[4], ""), NULL,
                       "{\"parent_id\":\"%s\"}", t[1]),
                 200);
    cr_assert_eq(audit_rows("team.move", "team", t[4]), 1);
}

Test(tenancy, the_tree_is_at_most_sixteen_levels_deep)
{
    char levels[17][40];
    make_team(admin, "Level-1", NULL, levels[0]);
    for (int i = 1; i < 16; i++) {
        char name[16];
        snprintf(name, sizeof name, "Level-%d", i + 1);
        make_team(admin, name, levels[i - 1], levels[i]);
    }
    sb_api_response r;
    expect_error(callf(admin, "POST", "/api/v1/teams", &r,
                       "{\"name\":\"Level-17\",\"parent_id\":\"%s\"}", levels[15]),
                 &r, 409, "team_too_deep");
    /* moving a two-level subtree under level 15 would make 17 levels too */
    char top[40], below[40];
    make_team(admin, "Top", NULL, top);
    make_team(admin, "Below", top, below);
    expect_error(callf(admin, "PUT", path3("/api/v1/teams/", top, ""), &r, "{\"parent_id\":\"%s\"}",
                       levels[14]),
                 &r, 409, "team_too_deep");
    cr_assert_eq(sql_int("SELECT count(*) FROM teams WHERE name = 'Level-17'"), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM teams WHERE id = '%s' AND parent_id IS NULL", top),
                 1);
}

Test(tenancy, delete_needs_an_empty_team_and_archive_is_the_alternative)
{
    char parent[40], child[40], proj[40];
    make_team(admin, "Parent", NULL, parent);
    make_team(admin, "Child", parent, child);
    sb_api_response r;
    expect_error(callf(admin, "DELETE", path3("/api/v1/teams/", parent, ""), &r, NULL), &r, 409,
                 "team_not_empty");
    make_project(admin, "parent-proj", child, proj);
    expect_error(callf(admin, "DELETE", path3("/api/v1/teams/", child, ""), &r, NULL), &r, 409,
                 "team_not_empty");
    cr_assert_eq(sql_int("SELECT count(*) FROM teams WHERE id IN ('%s', '%s')", parent, child), 2);

    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/teams/", child, "/status"), NULL,
                       "{\"status\":\"archived\"}"),
                 200);
    expect_error(callf(admin, "POST", "/api/v1/projects", &r,
                       "{\"name\":\"late\",\"team_id\":\"%s\"}", child),
                 &r, 409, "archived");
    expect_error(callf(admin, "POST", "/api/v1/teams", &r,
                       "{\"name\":\"Late\",\"parent_id\":\"%s\"}", child),
                 &r, 409, "archived");
    cr_assert_eq(get(admin, path3("/api/v1/teams/", child, "")), 200,
                 "an archived team is still readable");
    char archived[4096];
    list_ids(admin, "/api/v1/teams?status=archived", archived, sizeof archived);
    cr_assert(listed(archived, child) && !listed(archived, parent));

    /* moved away, the project no longer blocks the delete */
    cr_assert_eq(callf(admin, "PUT", "/api/v1/projects/x", &r, "{}"), 404);
    sb_api_response_free(&r);
    char path[160];
    snprintf(path, sizeof path, "/api/v1/projects/%s", proj);
    cr_assert_eq(callf(admin, "PUT", path, &r, "{\"team_id\":\"%s\"}", parent), 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(audit_rows("project.move", "project", proj), 1);
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/teams/", child, ""), NULL, NULL), 204);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'team.delete'"), 1);
}

Test(tenancy, names_are_unique)
{
    char a[40], p[40];
    make_team(admin, "Unique", NULL, a);
    sb_api_response r;
    expect_error(callf(admin, "POST", "/api/v1/teams", &r, "{\"name\":\"unique\"}"), &r, 409,
                 "name_taken");
    make_project(admin, "uniq", a, p);
    expect_error(
        callf(admin, "POST", "/api/v1/projects", &r, "{\"name\":\"uniq\",\"team_id\":\"%s\"}", a),
        &r, 409, "name_taken");
    char e[40];
    make_env(admin, p, "dev", "non_prod", e);
    expect_error(callf(admin, "POST", "/api/v1/environments", &r,
                       "{\"project_id\":\"%s\",\"name\":\"dev\",\"kind\":\"prod\"}", p),
                 &r, 409, "name_taken");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action LIKE '%%.create'"), 3);
}

/* ---- environments ------------------------------------------------------------- */

Test(tenancy, environment_kind_and_name_never_change)
{
    char team[40], proj[40], env[40], path[160];
    make_team(admin, "Envs", NULL, team);
    make_project(admin, "envs", team, proj);
    make_env(admin, proj, "production", "prod", env);
    snprintf(path, sizeof path, "/api/v1/environments/%s", env);
    sb_api_response r;
    cr_assert_eq(callf(admin, "GET", path, &r, NULL), 200);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "risk_level")), 4,
                 "prod defaults to 4");
    sb_api_response_free(&r);

    expect_error(callf(admin, "PUT", path, &r, "{\"kind\":\"non_prod\"}"), &r, 422,
                 "immutable_field");
    expect_error(callf(admin, "PUT", path, &r, "{\"name\":\"prod2\",\"risk_level\":1}"), &r, 422,
                 "immutable_field");
    expect_error(callf(admin, "PUT", path, &r, "{\"project_id\":\"%s\"}", proj), &r, 422,
                 "immutable_field");
    expect_error(callf(admin, "PUT", path, &r, "{\"risk_level\":5}"), &r, 422, "invalid_value");
    expect_error(callf(admin, "PUT", path, &r, "{\"risk_level\":\"2\"}"), &r, 400, "invalid_field");
    cr_assert_eq(callf(admin, "PUT", path, &r, "{\"risk_level\":2,\"description\":\"payments\"}"),
                 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "risk_level")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "kind")), "prod");
    sb_api_response_free(&r);
    cr_assert_eq(audit_rows("environment.create", "environment", env), 1);
    cr_assert_eq(audit_rows("environment.update", "environment", env), 1);

    sb_db_conn *conn;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &conn, &err), 0);
    const char *p[] = {env};
    cr_assert_neq(sb_db_exec(conn, "UPDATE environments SET kind = 'non_prod' WHERE id = $1::uuid",
                             1, p, NULL, &err),
                  0, "the database refuses a kind change");
    cr_assert_str_eq(sb_db_last_error(conn)->hint, "environment_immutable");
    cr_assert_neq(sb_db_exec(conn, "UPDATE environments SET name = 'x' WHERE id = $1::uuid", 1, p,
                             NULL, &err),
                  0, "the database refuses a rename");
    sb_db_release(sb_api_harness_db(h), conn);
    cr_assert_eq(sql_int("SELECT count(*) FROM environments WHERE id = '%s' AND kind = 'prod' "
                         "AND name = 'production'",
                         env),
                 1);
}

/* ---- members, pages, bad input ------------------------------------------------- */

Test(tenancy, members_are_added_listed_and_removed_once)
{
    char team[40], uid[40];
    make_team(admin, "Members", NULL, team);
    cr_assert_eq(sb_api_harness_user(h, "member-one", "user-password-1", NULL, NULL, NULL, uid), 0);
    sb_api_response r;
    cr_assert_eq(callf(admin, "POST", path3("/api/v1/teams/", team, "/members"), &r,
                       "{\"user_id\":\"%s\"}", uid),
                 201, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "username")), "member-one");
    sb_api_response_free(&r);
    expect_error(callf(admin, "POST", path3("/api/v1/teams/", team, "/members"), &r,
                       "{\"user_id\":\"%s\"}", uid),
                 &r, 409, "already_exists");
    expect_error(callf(admin, "POST", path3("/api/v1/teams/", team, "/members"), &r,
                       "{\"user_id\":\"00000000-0000-4000-8000-00000000000a\"}"),
                 &r, 422, "invalid_value");
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/teams/", team, "/members"), &r, NULL), 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 1);
    sb_api_response_free(&r);
    char path[200];
    snprintf(path, sizeof path, "/api/v1/teams/%s/members/%s", team, uid);
    cr_assert_eq(callf(admin, "DELETE", path, NULL, NULL), 204);
    expect_error(callf(admin, "DELETE", path, &r, NULL), &r, 404, "not_found");
    cr_assert_eq(audit_rows("team.member.add", "team", team), 1);
    cr_assert_eq(audit_rows("team.member.remove", "team", team), 1);
}

Test(tenancy, lists_page_with_an_opaque_cursor)
{
    char all[12][40];
    for (int i = 0; i < 7; i++) {
        char name[16];
        snprintf(name, sizeof name, "Page-%d", i);
        make_team(admin, name, NULL, all[i]);
    }
    char seen[4096] = "", path[512] = "/api/v1/teams?limit=3";
    int pages = 0, items = 0;
    for (;;) {
        sb_api_response r;
        cr_assert_eq(callf(admin, "GET", path, &r, NULL), 200, "%s", r.body);
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(r.json, "items"), i, item)
        {
            const char *id = json_string_value(json_object_get(item, "id"));
            cr_assert(!listed(seen, id), "no duplicates across pages");
            strcat(seen, id);
            items++;
        }
        pages++;
        const char *next = json_string_value(json_object_get(r.json, "next_cursor"));
        if (next == NULL) {
            sb_api_response_free(&r);
            break;
        }
        snprintf(path, sizeof path, "/api/v1/teams?limit=3&cursor=%s", next);
        sb_api_response_free(&r);
    }
    cr_assert_eq(items, 7);
    cr_assert_eq(pages, 3);
    sb_api_response r;
    expect_error(callf(admin, "GET", "/api/v1/teams?cursor=bm90LWEtY3Vyc29y", &r, NULL), &r, 400,
                 "invalid_cursor");
    expect_error(callf(admin, "GET", "/api/v1/teams?cursor=djE6YWJj", &r, NULL), &r, 400,
                 "invalid_cursor"); /* "v1:abc": well formed, but not an id of this list */
    expect_error(callf(admin, "GET", "/api/v1/teams?limit=0", &r, NULL), &r, 400, "invalid_limit");
    expect_error(callf(admin, "GET", "/api/v1/teams?parnet_id=x", &r, NULL), &r, 400,
                 "invalid_field");
    expect_error(callf(admin, "GET", "/api/v1/projects?status=gone", &r, NULL), &r, 400,
                 "invalid_field");
}

Test(tenancy, bad_input_is_refused_and_changes_nothing)
{
    char team[40], proj[40];
    make_team(admin, "Strict", NULL, team);
    make_project(admin, "strict", team, proj);
    long long teams = sql_int("SELECT count(*) FROM teams"),
              events = sql_int("SELECT count(*) FROM audit_events");
    static const struct {
        const char *method, *path, *body, *code;
        long status;
    } cases[] = {
        {"POST", "/api/v1/teams", "[]", "invalid_body", 400},
        {"POST", "/api/v1/teams", "{\"name\":", "invalid_json", 400},
        {"POST", "/api/v1/teams", "{\"name\":\"A\",\"owner\":\"me\"}", "unknown_field", 400},
        {"POST", "/api/v1/teams", "{\"name\":5}", "invalid_field", 400},
        {"POST", "/api/v1/teams", "{\"description\":\"no name\"}", "missing_field", 400},
        {"POST", "/api/v1/teams", "{\"name\":\"\"}", "invalid_value", 422},
        {"POST", "/api/v1/teams", "{\"name\":\"-dash first\"}", "invalid_value", 422},
        {"POST", "/api/v1/teams", "{\"name\":\"A\",\"parent_id\":\"not-a-uuid\"}", "invalid_value",
         422},
        {"POST", "/api/v1/teams", "{\"name\":\"A\",\"parent_id\":7}", "invalid_field", 400},
        {"POST", "/api/v1/projects", "{\"name\":\"Upper\",\"team_id\":\"%s\"}", "invalid_value",
         422},
        {"POST", "/api/v1/projects", "{\"name\":\"ok\"}", "missing_field", 400},
        {"POST", "/api/v1/environments",
         "{\"project_id\":\"%P\",\"name\":\"e\",\"kind\":\"staging\"}", "invalid_value", 422},
        {"POST", "/api/v1/environments",
         "{\"project_id\":\"%P\",\"name\":\"e\",\"kind\":\"prod\",\"risk_level\":9}",
         "invalid_value", 422},
        {"POST", "/api/v1/environments",
         "{\"project_id\":\"%P\",\"name\":\"e\",\"kind\":\"prod\",\"risk_level\":1.5}",
         "invalid_field", 400},
        {"PUT", "/api/v1/teams/%T", "{}", "missing_field", 400},
        {"PUT", "/api/v1/teams/%T/status", "{\"status\":\"deleted\"}", "invalid_value", 422},
        {"PUT", "/api/v1/teams/%T", "{\"name\":null}", "invalid_field", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1024], body[1024];
        const char *src[] = {cases[i].path, cases[i].body};
        char *dst[] = {path, body};
        for (int k = 0; k < 2; k++) { /* %T -> team id, %P -> project id, %s -> team id */
            size_t len = 0;
            for (const char *c = src[k]; *c; c++) {
                if (c[0] == '%' && (c[1] == 'T' || c[1] == 'P' || c[1] == 's')) {
                    len +=
                        (size_t)snprintf(dst[k] + len, 1024 - len, "%s", c[1] == 'P' ? proj : team);
                    c++;
                } else {
                    dst[k][len++] = *c;
                }
            }
            dst[k][len] = '\0';
        }
        sb_api_response r;
        long st = sb_api_call(h, cases[i].method, path, body, admin, NULL, &r);
        cr_assert_eq(st, cases[i].status, "%s %s %s -> %ld %s", cases[i].method, path, body, st,
                     r.body);
        cr_assert_str_eq(error_code(&r), cases[i].code, "%s: %s", body, r.body);
        sb_api_response_free(&r);
    }
    char long_name[200], long_desc[1100];
    memset(long_name, 'a', 101);
    long_name[101] = '\0';
    memset(long_desc, 'd', 501);
    long_desc[501] = '\0';
    sb_api_response r;
    expect_error(callf(admin, "POST", "/api/v1/teams", &r, "{\"name\":\"%s\"}", long_name), &r, 422,
                 "invalid_value");
    expect_error(callf(admin, "POST", "/api/v1/teams", &r,
                       "{\"name\":\"B\",\"description\":\"%s\"}", long_desc),
                 &r, 422, "invalid_value");
    cr_assert_eq(sql_int("SELECT count(*) FROM teams"), teams, "no team was created or changed");
    cr_assert_eq(sql_int("SELECT count(*) FROM projects"), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM environments"), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events"), events,
                 "no event for refused input");
    cr_assert_eq(sql_int("SELECT count(*) FROM teams WHERE id = '%s' AND status = 'active' "
                         "AND name = 'Strict'",
                         team),
                 1);
}
