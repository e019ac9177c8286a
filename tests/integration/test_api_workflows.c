/*
 * test_api_workflows.c — approval workflows through the real control plane:
 *   - CRUD round trips with normalised groups, one audit event per change
 *     carrying the workflow;
 *   - every validation error is 400/422 naming the field and changes
 *     nothing (no row, no success event);
 *   - approver and group role ids must name roles (422);
 *   - the system and the default workflow cannot be deleted (409, the row
 *     is still there), nor one used by a policy rule (409 naming how many);
 *   - the default switch is atomic (exactly one default, checked in SQL);
 *     a disabled workflow cannot become default, the default cannot be
 *     disabled;
 *   - reads for every signed-in user, writes need global workflow.edit.
 */
#include "tenancy_test_util.h"

TestSuite(workflows, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 180);

static long create(const char *cookie, sb_api_response *r, const char *body)
{
    return callf(cookie, "POST", "/api/v1/workflows", r, "%s", body);
}

static void role_id(const char *name, char *out)
{
    cr_assert_eq(sb_api_harness_sql(h, path3("SELECT id::text FROM roles WHERE name = '", name, "'"),
                                    out, 40),
                 1, "role %s", name);
}

static long long workflows(void) { return sql_int("SELECT count(*) FROM workflows"); }

Test(workflows, crud_round_trip_with_groups_and_audit)
{
    char approver[40], security[40];
    role_id("approver", approver);
    role_id("security_approver", security);
    char body[2048];
    snprintf(body, sizeof body,
             "{\"name\":\"team-and-security\",\"description\":\"one from the owning team AND one "
             "security approver\",\"min_approvers\":2,\"approver_role_ids\":[\"%s\"],"
             "\"groups\":[{\"name\":\"owning-team\",\"required\":1,\"owning_team_member\":true},"
             "{\"name\":\"security\",\"required\":1,\"permission\":\"secret.security.approve\","
             "\"role_ids\":[\"%s\"]}],\"request_ttl_s\":86400,\"wrap_ttl_claimed_s\":60,"
             "\"notification_channels\":[\"slack:#sec\"],\"scoped_policy_authorable\":true}",
             approver, security);
    sb_api_response r;
    cr_assert_eq(create(admin, &r, body), 201, "%s", r.body);
    json_t *g = json_object_get(r.json, "groups");
    cr_assert_eq(json_array_size(g), 2);
    /* normalised: defaults filled in */
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(g, 0), "permission")),
                     "secret.approve");
    cr_assert_eq(json_array_size(json_object_get(json_array_get(g, 0), "role_ids")), 0);
    cr_assert(json_is_false(json_object_get(json_array_get(g, 1), "owning_team_member")));
    cr_assert_eq(json_integer_value(json_object_get(r.json, "min_approvers")), 2);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "fill_ttl_s")), 86400, "default");
    cr_assert(json_is_true(json_object_get(r.json, "require_justification")), "default on");
    cr_assert(json_is_false(json_object_get(r.json, "allow_self_approval")), "default off");
    cr_assert(json_is_false(json_object_get(r.json, "is_default")));
    char id[40];
    id_of(&r, id);
    cr_assert_eq(audit_rows("workflow.create", "workflow", id), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'workflow.create' AND "
                         "details->'workflow'->'groups'->1->>'name' = 'security'"),
                 1, "the event carries the workflow");
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE id = '%s' AND groups->0->>"
                         "'permission' = 'secret.approve' AND approver_role_ids = ARRAY['%s'::uuid]",
                         id, approver),
                 1, "stored normalised");

    /* GET one and in the list, as a user without grants */
    char nobody[256], nid[40];
    make_user("plain", NULL, NULL, NULL, nid, nobody);
    cr_assert_eq(callf(nobody, "GET", path3("/api/v1/workflows/", id, ""), &r, NULL), 200, "%s",
                 r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "team-and-security");
    sb_api_response_free(&r);
    char ids[2048];
    list_ids(nobody, "/api/v1/workflows", ids, sizeof ids);
    cr_assert(listed(ids, id));
    list_ids(nobody, "/api/v1/workflows?enabled=true&scoped_policy_authorable=true", ids,
             sizeof ids);
    cr_assert(listed(ids, id));
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE scoped_policy_authorable"), 1);
    list_ids(admin, "/api/v1/workflows?scoped_policy_authorable=false", ids, sizeof ids);
    cr_assert(!listed(ids, id));
    expect_error(callf(admin, "GET", "/api/v1/workflows?enabled=yes", &r, NULL), &r, 400,
                 "invalid_field");

    /* partial update */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/workflows/", id, ""), &r,
                       "{\"allow_self_approval\":true,\"groups\":[]}"),
                 200, "%s", r.body);
    cr_assert(json_is_true(json_object_get(r.json, "allow_self_approval")));
    cr_assert_eq(json_array_size(json_object_get(r.json, "groups")), 0);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "min_approvers")), 2, "kept");
    cr_assert_eq(json_array_size(json_object_get(r.json, "notification_channels")), 1, "kept");
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'workflow.update' AND "
                         "resource = 'workflow:%s' AND details->'fields' ? 'allow_self_approval'",
                         id),
                 1);
    /* is_default / is_system are not body fields */
    expect_error(callf(admin, "PUT", path3("/api/v1/workflows/", id, ""), &r,
                       "{\"is_default\":true}"),
                 &r, 400, "unknown_field");
    expect_error(callf(admin, "PUT", path3("/api/v1/workflows/", id, ""), &r, "{}"), &r, 400,
                 "missing_field");

    /* delete */
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/workflows/", id, ""), NULL, NULL), 204);
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE id = '%s'", id), 0);
    cr_assert_eq(audit_rows("workflow.delete", "workflow", id), 1);
    expect_error(callf(admin, "GET", path3("/api/v1/workflows/", id, ""), &r, NULL), &r, 404,
                 "not_found");
    expect_error(callf(admin, "DELETE", path3("/api/v1/workflows/", id, ""), &r, NULL), &r, 404,
                 "not_found");
}

Test(workflows, validation_errors_name_the_field_and_change_nothing)
{
    static const struct {
        const char *body;
        long status;
        const char *code, *needle;
    } cases[] = {
        {"{\"name\":\"Bad Name\"}", 422, "invalid_value", "name must match"},
        {"{\"name\":\"w\",\"min_approvers\":21}", 422, "invalid_value",
         "min_approvers must be between 0 and 20"},
        {"{\"name\":\"w\",\"request_ttl_s\":59}", 422, "invalid_value",
         "request_ttl_s must be between 60 and 7776000"},
        {"{\"name\":\"w\",\"wrap_ttl_claimed_s\":86401}", 422, "invalid_value",
         "wrap_ttl_claimed_s must be between 10 and 86400"},
        {"{\"name\":\"w\",\"fill_ttl_s\":\"60\"}", 400, "invalid_field", "fill_ttl_s"},
        {"{\"name\":\"w\",\"enabled\":1}", 400, "invalid_field", "enabled"},
        {"{\"name\":\"w\",\"groups\":{}}", 400, "invalid_field", "groups"},
        {"{\"name\":\"w\",\"groups\":[1]}", 400, "invalid_field", "groups[0]"},
        {"{\"name\":\"w\",\"groups\":[{\"name\":\"a\"}]}", 400, "missing_field",
         "groups[0].required"},
        {"{\"name\":\"w\",\"groups\":[{\"name\":\"a\",\"required\":1,\"extra\":1}]}", 400,
         "unknown_field", "groups[0].extra"},
        {"{\"name\":\"w\",\"groups\":[{\"name\":\"a\",\"required\":true}]}", 400,
         "invalid_field", "groups[0].required"},
        {"{\"name\":\"w\",\"groups\":[{\"name\":\"a\",\"required\":0}]}", 422, "invalid_value",
         "groups[0].required must be between 1 and 20"},
        {"{\"name\":\"w\",\"groups\":[{\"name\":\"a\",\"required\":1,\"permission\":"
         "\"admin\"}]}",
         422, "invalid_value", "groups[0].permission"},
        {"{\"name\":\"w\",\"groups\":[{\"name\":\"a\",\"required\":1},{\"name\":\"a\","
         "\"required\":1}]}",
         422, "invalid_value", "groups[1].name \\\"a\\\" is already used"},
        {"{\"name\":\"w\",\"groups\":[{\"name\":\"a\",\"required\":1,\"role_ids\":[\"x\"]}]}",
         422, "invalid_value", "groups[0].role_ids[0]"},
        {"{\"name\":\"w\",\"approver_role_ids\":[\"nope\"]}", 422, "invalid_value",
         "approver_role_ids[0]"},
        {"{\"name\":\"w\",\"notification_channels\":[\"\"]}", 422, "invalid_value",
         "notification_channels[0]"},
        {"{\"name\":\"w\",\"description\":7}", 400, "invalid_field", "description"},
        {"{\"name\":\"w\",\"is_system\":true}", 400, "unknown_field", "is_system"},
        {"{\"description\":\"no name\"}", 400, "missing_field", "name"},
        /* well-formed role ids that name no role: 422 from the transaction */
        {"{\"name\":\"w\",\"approver_role_ids\":[\"00000000-0000-4000-8000-000000000001\"]}", 422,
         "invalid_value", "no role with id 00000000-0000-4000-8000-000000000001"},
        {"{\"name\":\"w\",\"groups\":[{\"name\":\"a\",\"required\":1,\"role_ids\":"
         "[\"00000000-0000-4000-8000-0000000000AA\"]}]}",
         422, "invalid_value", "no role with id 00000000-0000-4000-8000-0000000000aa"},
        {"{\"name\":\"standard\"}", 409, "name_taken", "name"},
    };
    long long before = workflows();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sb_api_response r;
        long st = create(admin, &r, cases[i].body);
        cr_assert_eq(st, cases[i].status, "case %zu: %ld %s", i, st, r.body);
        cr_assert_str_eq(error_code(&r), cases[i].code, "case %zu: %s", i, r.body);
        cr_assert(strstr(r.body, cases[i].needle) != NULL, "case %zu names %s: %s", i,
                  cases[i].needle, r.body);
        sb_api_response_free(&r);
    }
    /* nine groups, too many slots */
    char body[2048] = "{\"name\":\"w\",\"groups\":[";
    for (int i = 0; i < 9; i++)
        snprintf(body + strlen(body), sizeof body - strlen(body),
                 "%s{\"name\":\"g%d\",\"required\":1}", i ? "," : "", i);
    strcat(body, "]}");
    sb_api_response r;
    expect_error(create(admin, &r, body), &r, 422, "invalid_value");
    cr_assert_eq(workflows(), before, "nothing was created");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action LIKE 'workflow.%%'"), 0,
                 "no success event for a refused write");

    /* the same checks on update, which changes nothing either */
    const char *std = NULL;
    char sid[40];
    cr_assert_eq(sb_api_harness_sql(h, "SELECT id::text FROM workflows WHERE name = 'standard'",
                                    sid, sizeof sid),
                 1);
    std = sid;
    expect_error(callf(admin, "PUT", path3("/api/v1/workflows/", std, ""), &r,
                       "{\"min_approvers\":-1}"),
                 &r, 422, "invalid_value");
    expect_error(callf(admin, "PUT", path3("/api/v1/workflows/", std, ""), &r,
                       "{\"name\":\"renamed\"}"),
                 &r, 422, "immutable_field");
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE name = 'standard' AND "
                         "min_approvers = 1"),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'workflow.update'"), 0);
    expect_error(callf(admin, "PUT", "/api/v1/workflows/not-a-uuid", &r, "{\"enabled\":true}"),
                 &r, 404, "not_found");
}

Test(workflows, system_and_default_workflows_cannot_be_deleted)
{
    char sid[40];
    cr_assert_eq(sb_api_harness_sql(h, "SELECT id::text FROM workflows WHERE is_system", sid,
                                    sizeof sid),
                 1);
    sb_api_response r;
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/workflows/", sid, ""), &r, NULL), 409);
    cr_assert_str_eq(error_code(&r), "refused");
    cr_assert(strstr(r.body, "system workflow"), "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE id = '%s'", sid), 1, "still there");

    /* a non-system default */
    cr_assert_eq(create(admin, &r, "{\"name\":\"fallback\"}"), 201, "%s", r.body);
    char fid[40];
    id_of(&r, fid);
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/workflows/", fid, "/default"), &r, NULL), 200,
                 "%s", r.body);
    cr_assert(json_is_true(json_object_get(r.json, "is_default")));
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/workflows/", fid, ""), &r, NULL), 409);
    cr_assert(strstr(r.body, "is the default"), "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE id = '%s'", fid), 1);
    cr_assert_eq(audit_rows("workflow.delete", "workflow", fid), 0);
    cr_assert_eq(audit_rows("workflow.delete", "workflow", sid), 0);
}

Test(workflows, the_default_switch_is_atomic_and_guarded)
{
    sb_api_response r;
    char a[40], b[40], sid[40];
    sb_api_harness_sql(h, "SELECT id::text FROM workflows WHERE name = 'standard'", sid, sizeof sid);
    cr_assert_eq(create(admin, &r, "{\"name\":\"wf-a\"}"), 201, "%s", r.body);
    id_of(&r, a);
    cr_assert_eq(create(admin, &r, "{\"name\":\"wf-b\",\"enabled\":false}"), 201, "%s", r.body);
    id_of(&r, b);

    /* a disabled workflow cannot become the default */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/workflows/", b, "/default"), &r, NULL), 409);
    cr_assert(strstr(r.body, "enable it first"), "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE is_default AND id = '%s'", sid), 1);

    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/workflows/", a, "/default"), NULL, NULL), 200);
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE is_default"), 1, "exactly one");
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE is_default AND id = '%s'", a), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'workflow.default' AND "
                         "resource = 'workflow:%s' AND details->>'previous_default_id' = '%s'",
                         a, sid),
                 1);
    /* idempotent: still exactly one */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/workflows/", a, "/default"), NULL, NULL), 200);
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE is_default"), 1);

    /* the default cannot be disabled */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/workflows/", a, ""), &r,
                       "{\"enabled\":false}"),
                 409);
    cr_assert(strstr(r.body, "make another workflow the default first"), "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE id = '%s' AND enabled", a), 1);

    /* the system workflow is now deletable? no: still system */
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/workflows/", sid, ""), NULL, NULL), 409);
    /* back to standard; wf-a can then be disabled and deleted */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/workflows/", sid, "/default"), NULL, NULL), 200);
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE is_default"), 1);
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/workflows/", a, ""), NULL, "{\"enabled\":false}"),
                 200);
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/workflows/", a, ""), NULL, NULL), 204);
    expect_error(callf(admin, "PUT",
                       "/api/v1/workflows/00000000-0000-4000-8000-000000000009/default", &r, NULL),
                 &r, 404, "not_found");
}

Test(workflows, a_workflow_used_by_policy_rules_cannot_be_deleted)
{
    sb_api_response r;
    char w[40];
    cr_assert_eq(create(admin, &r, "{\"name\":\"in-use\"}"), 201, "%s", r.body);
    id_of(&r, w);
    for (int i = 0; i < 2; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"name\":\"rule-%d\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"%s\"}",
                 i, w);
        cr_assert_eq(callf(admin, "POST", "/api/v1/policy-rules", &r, "%s", body), 201, "%s",
                     r.body);
        sb_api_response_free(&r);
    }
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/workflows/", w, ""), &r, NULL), 409);
    cr_assert_str_eq(error_code(&r), "refused");
    cr_assert(strstr(r.body, "2 policy rule(s)"), "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/workflows/", w, ""), &r, NULL), 200);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "policy_rules")), 2);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE id = '%s'", w), 1);
}

/* A custom role named by a workflow (approver roles or a group) cannot be
 * deleted: the workflow would silently admit nobody. */
Test(workflows, a_role_named_by_a_workflow_cannot_be_deleted)
{
    sb_api_response r;
    char a[40], b[40], w[40];
    const char *roles[] = {"wf_approvers", "wf_security"};
    char *ids[] = {a, b};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(callf(admin, "POST", "/api/v1/roles", &r,
                           "{\"name\":\"%s\",\"permissions\":[\"secret.approve\"]}", roles[i]),
                     201, "%s", r.body);
        id_of(&r, ids[i]);
    }
    cr_assert_eq(create(admin, &r,
                        path3("{\"name\":\"role-bound\",\"approver_role_ids\":[\"", a,
                              "\"]}")),
                 201, "%s", r.body);
    id_of(&r, w);
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"group-bound\",\"groups\":[{\"name\":\"sec\",\"required\":1,"
             "\"role_ids\":[\"%s\"]}]}",
             b);
    cr_assert_eq(create(admin, &r, body), 201, "%s", r.body);
    sb_api_response_free(&r);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/roles/", ids[i], ""), &r, NULL), 409,
                     "%s", r.body);
        cr_assert_str_eq(error_code(&r), "role_in_use");
        cr_assert(strstr(r.body, "1 workflow(s)"), "%s", r.body);
        sb_api_response_free(&r);
    }
    cr_assert_eq(sql_int("SELECT count(*) FROM roles WHERE name LIKE 'wf_%%'"), 2);
    /* once the workflow lets go of it, the role can go */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/workflows/", w, ""), &r,
                       "{\"approver_role_ids\":[]}"),
                 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/roles/", a, ""), NULL, NULL), 204);
}

Test(workflows, writes_need_workflow_edit_from_a_global_grant)
{
    char team[40], uid[40], cookie[256];
    make_team(admin, "Wf Team", NULL, team);
    make_user("team-admin", "admin", "team", team, uid, cookie);
    sb_api_response r;
    long st = create(cookie, &r, "{\"name\":\"scoped\"}");
    cr_assert_eq(st, 403, "%ld %s", st, r.body);
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM workflows WHERE name = 'scoped'"), 0);
    cr_assert_geq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'access.denied'"), 1);
    /* reads are open */
    char ids[2048];
    list_ids(cookie, "/api/v1/workflows", ids, sizeof ids);
    cr_assert_neq(ids[0], '\0');
}
