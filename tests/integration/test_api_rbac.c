/*
 * test_api_rbac.c — the permission catalog, roles, grants and the user
 * directory through the real control plane (PostgreSQL + HTTP):
 *   - custom roles: created with validated permission keys (an unknown key
 *     is 422 naming it), edited, deleted; never wider than the editor's own
 *     global permissions; system roles undeletable and read-only; a granted
 *     role cannot be deleted;
 *   - delegated grants: a team admin grants within the team's subtree
 *     (and its projects) only, never outside it (403) and never a
 *     permission they lack (403); revocation likewise; grants are listed to
 *     those who may manage them; granted_by is the caller;
 *   - the last global admin grant cannot be revoked;
 *   - users: user.manage from a global grant; no credential in any answer;
 *   - exactly one audit event per change; refused input changes nothing;
 *   - the system roles are re-seeded from the compiled-in catalog (a role
 *     edited in the database is repaired; a matching one is not written).
 */
#include "api/seed_roles.h"
#include "domain/permissions.h"
#include "store/rbac_store.h"
#include "tenancy_test_util.h"

TestSuite(rbac, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 180);

/* ---- helpers ------------------------------------------------------------------ */

static void role_id(const char *name, char *out)
{
    char q[256];
    snprintf(q, sizeof q, "SELECT id FROM roles WHERE name = '%s'", name);
    cr_assert_eq(sb_api_harness_sql(h, q, out, 40), 1, "role %s exists", name);
}

/* POST /grants; returns the status, the new grant's id in out on 201. */
static long grant(const char *cookie, const char *user, const char *role, const char *kind,
                  const char *scope, char *out, sb_api_response *keep)
{
    sb_api_response r;
    long st = scope ? callf(cookie, "POST", "/api/v1/grants", &r,
                            "{\"user_id\":\"%s\",\"role_id\":\"%s\",\"scope_type\":\"%s\","
                            "\"scope_id\":\"%s\"}",
                            user, role, kind, scope)
                    : callf(cookie, "POST", "/api/v1/grants", &r,
                            "{\"user_id\":\"%s\",\"role_id\":\"%s\",\"scope_type\":\"%s\"}", user,
                            role, kind);
    if (st == 201 && out)
        snprintf(out, 40, "%s", json_string_value(json_object_get(r.json, "id")));
    if (keep)
        *keep = r;
    else
        sb_api_response_free(&r);
    return st;
}

/* ---- catalog and roles --------------------------------------------------------- */

Test(rbac, the_catalog_and_the_system_roles_are_readable_by_any_user)
{
    char uid[40], plain[256];
    make_user("plain", NULL, NULL, NULL, uid, plain);
    sb_api_response r;
    cr_assert_eq(callf(plain, "GET", "/api/v1/permissions", &r, NULL), 200);
    json_t *items = json_object_get(r.json, "items");
    cr_assert_eq(json_array_size(items), SB_PERM_COUNT);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "key")),
                     "role.edit");
    cr_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(json_array_get(items, 0), "checked_at"), 0)),
                     "platform");
    sb_api_response_free(&r);

    cr_assert_eq(callf(plain, "GET", "/api/v1/roles?limit=500", &r, NULL), 200);
    size_t i, systems = 0;
    json_t *role;
    json_array_foreach(json_object_get(r.json, "items"), i, role)
    {
        systems += json_is_true(json_object_get(role, "is_system"));
        if (strcmp(json_string_value(json_object_get(role, "name")), "admin") == 0)
            cr_assert_eq(json_array_size(json_object_get(role, "permissions")), SB_PERM_COUNT);
    }
    size_t n_system;
    sb_system_roles(&n_system);
    cr_assert_eq(systems, n_system);
    sb_api_response_free(&r);
}

Test(rbac, custom_roles_are_validated_edited_and_deleted_with_one_event_each)
{
    sb_api_response r;
    expect_error(callf(admin, "POST", "/api/v1/roles", &r,
                       "{\"name\":\"reader\",\"permissions\":[\"secret.list\",\"secret.lst\"]}"),
                 &r, 422, "invalid_value");
    cr_assert_eq(callf(admin, "POST", "/api/v1/roles", &r,
                       "{\"name\":\"reader\",\"permissions\":[\"secret.lst\"]}"),
                 422);
    cr_assert(strstr(r.body, "secret.lst") != NULL, "the unknown key is named: %s", r.body);
    sb_api_response_free(&r);
    expect_error(callf(admin, "POST", "/api/v1/roles", &r,
                       "{\"name\":\"reader\",\"permissions\":[\"secret.list\",\"secret.list\"]}"),
                 &r, 422, "invalid_value");
    expect_error(
        callf(admin, "POST", "/api/v1/roles", &r, "{\"name\":\"Reader Role\",\"permissions\":[]}"),
        &r, 422, "invalid_value");
    expect_error(callf(admin, "POST", "/api/v1/roles", &r,
                       "{\"name\":\"reader\",\"permissions\":\"secret.list\"}"),
                 &r, 400, "invalid_field");
    expect_error(callf(admin, "POST", "/api/v1/roles", &r,
                       "{\"name\":\"reader\",\"permissions\":[],\"is_system\":true}"),
                 &r, 400, "unknown_field");
    expect_error(
        callf(admin, "POST", "/api/v1/roles", &r, "{\"name\":\"admin\",\"permissions\":[]}"), &r,
        409, "name_taken");
    cr_assert_eq(sql_int("SELECT count(*) FROM roles WHERE NOT is_system"), 0,
                 "nothing was created");

    char id[40];
    cr_assert_eq(callf(admin, "POST", "/api/v1/roles", &r,
                       "{\"name\":\"reader\",\"description\":\"reads\","
                       "\"permissions\":[\"secret.request\",\"secret.list\"]}"),
                 201, "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "permissions")), 2);
    cr_assert(json_is_false(json_object_get(r.json, "is_system")));
    id_of(&r, id);
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/roles/", id, ""), &r,
                       "{\"permissions\":[\"secret.list\",\"audit.read\"]}"),
                 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'role.update' AND "
                         "details->'added' = '[\"audit.read\"]' AND "
                         "details->'removed' = '[\"secret.request\"]'"),
                 1, "the change is described");
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/roles/", id, ""), NULL, NULL), 200);
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/roles/", id, ""), NULL, NULL), 204);
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/roles/", id, ""), NULL, NULL), 404);
    cr_assert_eq(audit_rows("role.create", "role", id), 1);
    cr_assert_eq(audit_rows("role.update", "role", id), 1);
    cr_assert_eq(audit_rows("role.delete", "role", id), 1);
}

Test(rbac, system_roles_are_read_only_and_granted_roles_stay)
{
    char admin_role[40], dev_role[40];
    role_id("admin", admin_role);
    role_id("developer", dev_role);
    sb_api_response r;
    expect_error(callf(admin, "DELETE", path3("/api/v1/roles/", admin_role, ""), &r, NULL), &r, 409,
                 "system_role");
    expect_error(callf(admin, "PUT", path3("/api/v1/roles/", dev_role, ""), &r,
                       "{\"permissions\":[\"secret.list\"]}"),
                 &r, 409, "system_role");
    cr_assert_eq(
        sql_int("SELECT count(*) FROM roles WHERE id = '%s' AND cardinality(permissions) = 3",
                dev_role),
        1);

    char custom[40], uid[40], g[40];
    cr_assert_eq(callf(admin, "POST", "/api/v1/roles", &r,
                       "{\"name\":\"lister\",\"permissions\":[\"secret.list\"]}"),
                 201);
    id_of(&r, custom);
    make_user("holder", NULL, NULL, NULL, uid, NULL);
    cr_assert_eq(grant(admin, uid, custom, "global", NULL, g, NULL), 201);
    expect_error(callf(admin, "DELETE", path3("/api/v1/roles/", custom, ""), &r, NULL), &r, 409,
                 "role_in_use");
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/grants/", g, ""), NULL, NULL), 204);
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/roles/", custom, ""), NULL, NULL), 204);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'role.delete'"), 1);
}

Test(rbac, the_seed_repairs_system_roles_and_leaves_matching_ones_alone)
{
    sb_api_harness_sql(h,
                       "UPDATE roles SET permissions = '{secret.list}', description = 'edited',"
                       " is_system = false WHERE name = 'developer'",
                       NULL, 0);
    sb_error err = {0};
    cr_assert_eq(sb_api_seed_roles(sb_api_harness_db(h), &err), 0, "%s", err.message);
    const sb_system_role *dev = sb_system_role_find("developer");
    cr_assert_not_null(dev);
    cr_expect_eq(sql_int("SELECT count(*) FROM roles WHERE name = 'developer' AND is_system"
                         " AND description = '%s' AND cardinality(permissions) = %zu",
                         dev->description, sb_permission_set_count(dev->permissions)),
                 1, "the developer role matches the catalog again");

    sb_db_conn *conn;
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &conn, &err), 0, "%s", err.message);
    bool changed = true;
    cr_expect_eq(sb_rbac_store_role_seed_system(conn, dev->name, dev->description,
                                                dev->permissions, &changed, &err),
                 0, "%s", err.message);
    cr_expect_not(changed, "a role that matches the catalog is not written");
    cr_expect_eq(sb_rbac_store_role_seed_system(conn, "seeded_probe", "a probe",
                                                SB_PERMISSION_BIT(SB_PERM_SECRET_LIST), &changed,
                                                &err),
                 0, "%s", err.message);
    cr_expect(changed, "a missing system role is inserted");
    sb_db_release(sb_api_harness_db(h), conn);
    cr_expect_eq(sql_int("SELECT count(*) FROM roles WHERE name = 'seeded_probe' AND is_system"
                         " AND permissions = '{secret.list}'"),
                 1);
}

Test(rbac, a_role_editor_cannot_mint_permissions_they_lack)
{
    sb_api_response r;
    cr_assert_eq(sb_api_harness_sql(h,
                                    "INSERT INTO roles (name, permissions) VALUES "
                                    "('role_editor', '{role.edit}')",
                                    NULL, 0),
                 0);
    char uid[40], editor[256];
    make_user("editor", "role_editor", "global", NULL, uid, editor);
    expect_error(callf(editor, "POST", "/api/v1/roles", &r,
                       "{\"name\":\"wide\",\"permissions\":[\"user_role.edit\"]}"),
                 &r, 403, "forbidden");
    cr_assert_eq(callf(editor, "POST", "/api/v1/roles", &r,
                       "{\"name\":\"narrow\",\"permissions\":[\"role.edit\"]}"),
                 201, "%s", r.body);
    sb_api_response_free(&r);
    /* role.edit held on a team only is not enough */
    char team[40], team_editor[256], uid2[40];
    make_team(admin, "Editors", NULL, team);
    make_user("team-editor", "role_editor", "team", team, uid2, team_editor);
    expect_error(
        callf(team_editor, "POST", "/api/v1/roles", &r, "{\"name\":\"x\",\"permissions\":[]}"), &r,
        403, "forbidden");
    cr_assert_eq(sql_int("SELECT count(*) FROM roles WHERE name IN ('wide', 'x')"), 0);
}

/* ---- grants --------------------------------------------------------------------- */

Test(rbac, a_team_admin_grants_within_the_subtree_only)
{
    char org[40], eng[40], plat[40], sales[40], proj[40];
    make_team(admin, "Org", NULL, org);
    make_team(admin, "Eng", org, eng);
    make_team(admin, "Platform", eng, plat);
    make_team(admin, "Sales", NULL, sales);
    sb_api_response r;
    cr_assert_eq(callf(admin, "POST", "/api/v1/projects", &r,
                       "{\"name\":\"plat-app\",\"team_id\":\"%s\"}", plat),
                 201);
    id_of(&r, proj);
    char ta_id[40], ta[256], dev_id[40], dev_role[40], admin_role[40], g1[40], g2[40], g3[40];
    make_user("eng-admin", "admin", "team", eng, ta_id, ta);
    make_user("new-dev", NULL, NULL, NULL, dev_id, NULL);
    role_id("developer", dev_role);
    role_id("admin", admin_role);

    cr_assert_eq(grant(ta, dev_id, dev_role, "team", plat, g1, NULL), 201, "inside the subtree");
    cr_assert_eq(grant(ta, dev_id, dev_role, "project", proj, g2, NULL), 201, "a project in it");
    cr_assert_eq(grant(ta, dev_id, admin_role, "team", eng, g3, NULL), 201, "all they hold there");
    expect_error(grant(ta, dev_id, dev_role, "team", sales, NULL, &r), &r, 403, "forbidden");
    expect_error(grant(ta, dev_id, dev_role, "team", org, NULL, &r), &r, 403, "forbidden");
    expect_error(grant(ta, dev_id, dev_role, "global", NULL, NULL, &r), &r, 403, "forbidden");
    expect_error(
        grant(ta, dev_id, dev_role, "team", "00000000-0000-4000-8000-000000000077", NULL, &r), &r,
        403, "forbidden");
    expect_error(grant(ta, dev_id, dev_role, "team", plat, NULL, &r), &r, 409, "already_exists");
    cr_assert_eq(sql_int("SELECT count(*) FROM grants WHERE user_id = '%s'", dev_id), 3);
    cr_assert_eq(
        sql_int("SELECT count(*) FROM grants WHERE id = '%s' AND granted_by = '%s'", g1, ta_id), 1,
        "granted_by is the caller");
    cr_assert_eq(audit_rows("grant.create", "grant", g1), 1);

    /* the team admin sees and revokes grants of the subtree only */
    char all[8192] = "";
    cr_assert_eq(callf(ta, "GET", "/api/v1/grants?limit=500", &r, NULL), 200);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(r.json, "items"), i, item)
        strcat(all, json_string_value(json_object_get(item, "id")));
    sb_api_response_free(&r);
    cr_assert(strstr(all, g1) && strstr(all, g2) && strstr(all, g3), "%s", all);
    cr_assert_eq(sql_int("SELECT count(*) FROM grants WHERE scope_type = 'global' AND "
                         "position(id::text in '%s') > 0",
                         all),
                 0, "no global grant is shown to a team admin");
    char global_grant[40];
    cr_assert_eq(sb_api_harness_sql(h, "SELECT id FROM grants WHERE scope_type = 'global' LIMIT 1",
                                    global_grant, sizeof global_grant),
                 1);
    expect_error(callf(ta, "DELETE", path3("/api/v1/grants/", global_grant, ""), &r, NULL), &r, 404,
                 "not_found");
    cr_assert_eq(callf(ta, "DELETE", path3("/api/v1/grants/", g1, ""), NULL, NULL), 204);
    cr_assert_eq(audit_rows("grant.revoke", "grant", g1), 1);
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/users/", dev_id, ""), NULL, NULL), 200);
    char user_grants[200];
    snprintf(user_grants, sizeof user_grants, "/api/v1/users/%s/grants", dev_id);
    cr_assert_eq(callf(admin, "GET", user_grants, &r, NULL), 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 2);
    sb_api_response_free(&r);
}

Test(rbac, a_delegate_never_grants_a_permission_they_lack)
{
    char team[40];
    make_team(admin, "Delegates", NULL, team);
    cr_assert_eq(sb_api_harness_sql(h,
                                    "INSERT INTO roles (name, permissions) VALUES "
                                    "('granter', '{user_role.edit,secret.list}')",
                                    NULL, 0),
                 0);
    char gid[40], granter[256], uid[40], dev_role[40], granter_role[40];
    make_user("granter", "granter", "team", team, gid, granter);
    make_user("target", NULL, NULL, NULL, uid, NULL);
    role_id("developer", dev_role);
    role_id("granter", granter_role);
    sb_api_response r;
    cr_assert_eq(grant(granter, uid, dev_role, "team", team, NULL, &r), 403);
    cr_assert(strstr(r.body, "secret.request") != NULL, "names what is missing: %s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(grant(granter, uid, granter_role, "team", team, NULL, NULL), 201,
                 "a role within what they hold is fine");
    expect_error(grant(granter, uid, granter_role, "global", NULL, NULL, &r), &r, 403, "forbidden");
    cr_assert_eq(sql_int("SELECT count(*) FROM grants WHERE user_id = '%s'", uid), 1);
    cr_assert_geq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'access.denied'"), 2);
}

Test(rbac, the_last_global_admin_stays)
{
    char only[40];
    cr_assert_eq(sb_api_harness_sql(h, "SELECT id FROM grants WHERE scope_type = 'global'", only,
                                    sizeof only),
                 1);
    sb_api_response r;
    expect_error(callf(admin, "DELETE", path3("/api/v1/grants/", only, ""), &r, NULL), &r, 409,
                 "last_admin");
    char second[40], admin_role[40], g[40];
    make_user("second-admin", NULL, NULL, NULL, second, NULL);
    role_id("admin", admin_role);
    cr_assert_eq(grant(admin, second, admin_role, "global", NULL, g, NULL), 201);
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/grants/", only, ""), NULL, NULL), 204);
    cr_assert_eq(audit_rows("grant.revoke", "grant", only), 1);
}

Test(rbac, grant_input_is_checked_and_changes_nothing)
{
    char uid[40], dev_role[40], team[40];
    make_user("someone", NULL, NULL, NULL, uid, NULL);
    role_id("developer", dev_role);
    make_team(admin, "Checked", NULL, team);
    long long grants = sql_int("SELECT count(*) FROM grants");
    long long events = sql_int("SELECT count(*) FROM audit_events");
    sb_api_response r;
    expect_error(grant(admin, uid, dev_role, "org", team, NULL, &r), &r, 422, "invalid_value");
    expect_error(grant(admin, uid, dev_role, "global", team, NULL, &r), &r, 422, "invalid_value");
    expect_error(grant(admin, uid, dev_role, "team", NULL, NULL, &r), &r, 422, "invalid_value");
    expect_error(grant(admin, "nope", dev_role, "global", NULL, NULL, &r), &r, 422,
                 "invalid_value");
    expect_error(
        grant(admin, uid, "00000000-0000-4000-8000-000000000005", "global", NULL, NULL, &r), &r,
        422, "invalid_value");
    expect_error(
        grant(admin, "00000000-0000-4000-8000-000000000005", dev_role, "global", NULL, NULL, &r),
        &r, 422, "invalid_value");
    expect_error(
        grant(admin, uid, dev_role, "team", "00000000-0000-4000-8000-000000000005", NULL, &r), &r,
        422, "invalid_value");
    expect_error(callf(admin, "POST", "/api/v1/grants", &r,
                       "{\"user_id\":\"%s\",\"role_id\":\"%s\",\"scope_type\":\"global\","
                       "\"granted_by\":\"%s\"}",
                       uid, dev_role, uid),
                 &r, 400, "unknown_field");
    expect_error(callf(admin, "POST", "/api/v1/grants", &r, "{\"user_id\":\"%s\"}", uid), &r, 400,
                 "missing_field");
    expect_error(callf(admin, "GET", "/api/v1/grants?user=x", &r, NULL), &r, 400, "invalid_field");
    expect_error(callf(admin, "DELETE", "/api/v1/grants/not-a-uuid", &r, NULL), &r, 404,
                 "not_found");
    cr_assert_eq(sql_int("SELECT count(*) FROM grants"), grants);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events"), events);
}

/* ---- users ------------------------------------------------------------------------ */

Test(rbac, the_user_directory_needs_a_global_user_manage_and_shows_no_credentials)
{
    char team[40], ta_id[40], ta[256];
    make_team(admin, "Directory", NULL, team);
    make_user("dir-team-admin", "admin", "team", team, ta_id, ta);
    sb_api_response r;
    cr_assert_eq(callf(admin, "GET", "/api/v1/users?limit=2", &r, NULL), 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 2);
    cr_assert_null(strstr(r.body, "password"));
    cr_assert_null(strstr(r.body, "$argon2"));
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/users/", ta_id, ""), &r, NULL), 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "username")), "dir-team-admin");
    cr_assert_null(strstr(r.body, "$argon2"));
    sb_api_response_free(&r);
    expect_error(
        callf(admin, "GET", "/api/v1/users/00000000-0000-4000-8000-000000000003", &r, NULL), &r,
        404, "not_found");
    expect_error(callf(ta, "GET", "/api/v1/users", &r, NULL), &r, 403, "forbidden");
    expect_error(callf(ta, "GET", path3("/api/v1/users/", admin_id, ""), &r, NULL), &r, 403,
                 "forbidden");
}

/* The grants behind a request are read with its session (one round trip):
 * a grant or a revocation counts from the very next request, whether the
 * caller uses the cookie, the JWT or a personal API token. */
Test(rbac, grant_changes_count_from_the_next_request_on_every_credential)
{
    char id[40], cookie[256], jwt[1024], role[40], g[40];
    cr_assert_eq(sb_api_harness_user(h, "watcher", "user-password-1", NULL, NULL, NULL, id), 0);
    cr_assert_eq(sb_api_harness_login(h, "watcher", "user-password-1", cookie, sizeof cookie, jwt,
                                      sizeof jwt),
                 0);
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "POST", "/api/v1/users/me/tokens", "{\"name\":\"cli\"}", cookie,
                             NULL, &r),
                 201, "%s", r.body);
    char token[256];
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(r.json, "token")));
    sb_api_response_free(&r);
    long want[] = {403, 200, 403};
    role_id("approver", role); /* holds audit.read */
    for (int phase = 0; phase < 3; phase++) {
        if (phase == 1)
            cr_assert_eq(grant(admin, id, role, "global", NULL, g, NULL), 201);
        if (phase == 2)
            cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/grants/", g, ""), NULL, NULL), 204);
        long by_cookie = sb_api_call(h, "GET", "/api/v1/audit-events", NULL, cookie, NULL, &r);
        sb_api_response_free(&r);
        long by_jwt = sb_api_call(h, "GET", "/api/v1/audit-events", NULL, NULL, jwt, &r);
        sb_api_response_free(&r);
        long by_token = sb_api_call(h, "GET", "/api/v1/audit-events", NULL, NULL, token, &r);
        sb_api_response_free(&r);
        cr_assert_eq(by_cookie, want[phase], "cookie, phase %d", phase);
        cr_assert_eq(by_jwt, want[phase], "JWT, phase %d", phase);
        cr_assert_eq(by_token, want[phase], "API token, phase %d", phase);
    }
}
