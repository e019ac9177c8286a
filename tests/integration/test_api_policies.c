/*
 * test_api_policies.c — policy rules through the real control plane, and the
 * policy loader against PostgreSQL:
 *   - CRUD by a platform author; the history (from the audit log) lists
 *     create/update/delete with the whole rule, after the rule is deleted;
 *   - every validation error is 400/422 naming the field and changes
 *     nothing (no row, no success event);
 *   - a scoped author (policy.author on a team) is confined: out of scope
 *     404, platform anchor 403, prod or unpinned environment kind 403,
 *     priority in the reserved band 403 (raising the band lets it through),
 *     non-authorable workflow 403, access flags 403; updates and deletes
 *     are checked against the rule as it is and as it would be; refused
 *     writes leave no success event but an access.denied one;
 *   - read visibility per scope (platform rules for everyone);
 *   - the reserved-priority platform setting: open read, policy.edit write,
 *     1..10000, audited, never rewrites rules;
 *   - sb_policy_store_load + sb_policy_resolve: team ancestry through the
 *     database, a sibling team's rule not loaded, disabled rule not loaded,
 *     disabled workflow skipped, no default workflow.
 */
#include "domain/domain_error.h"
#include "domain/policy.h"
#include "store/policy_store.h"
#include "tenancy_test_util.h"

TestSuite(policies, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 180);

static void standard_id(char *out)
{
    cr_assert_eq(sb_api_harness_sql(h, "SELECT id::text FROM workflows WHERE name = 'standard'",
                                    out, 40),
                 1);
}

static void make_workflow(const char *name, const char *extra, char *out)
{
    sb_api_response r;
    long st = callf(admin, "POST", "/api/v1/workflows", &r, "{\"name\":\"%s\"%s%s}", name,
                    extra ? "," : "", extra ? extra : "");
    cr_assert_eq(st, 201, "workflow %s: %ld %s", name, st, r.body);
    id_of(&r, out);
}

/* POST a rule with the given body; returns the status, id in out on 201. */
static long post_rule(const char *cookie, char *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static long post_rule(const char *cookie, char *out, const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    sb_api_response r;
    long st = sb_api_call(h, "POST", "/api/v1/policy-rules", body, cookie, NULL, &r);
    if (out && st == 201)
        id_of(&r, out);
    else
        sb_api_response_free(&r);
    return st;
}

static long long rules(void) { return sql_int("SELECT count(*) FROM policy_rules"); }
static long long success_events(void)
{
    return sql_int("SELECT count(*) FROM audit_events WHERE action LIKE 'policy.rule.%%' AND "
                   "outcome = 'success'");
}

Test(policies, crud_and_history_survive_deletion)
{
    char wf[40], id[40];
    standard_id(wf);
    cr_assert_eq(post_rule(admin, id,
                           "{\"name\":\"pci\",\"anchor\":{\"type\":\"platform\"},\"priority\":500,"
                           "\"workflow_id\":\"%s\",\"selector\":{\"provider_type\":\"vault\","
                           "\"secret_ref_prefix\":\"pci/\",\"operation\":\"read\"},"
                           "\"access\":{\"mfa_required\":true}}",
                           wf),
                 201);
    sb_api_response r;
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/policy-rules/", id, ""), &r, NULL), 200);
    json_t *sel = json_object_get(r.json, "selector");
    cr_assert_str_eq(json_string_value(json_object_get(sel, "secret_ref_prefix")), "pci/");
    cr_assert(json_is_null(json_object_get(sel, "project_id")));
    cr_assert(json_is_null(json_object_get(json_object_get(r.json, "anchor"), "id")));
    cr_assert(json_is_true(json_object_get(json_object_get(r.json, "access"), "mfa_required")));
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r.json, "access"),
                                                    "reveal_ttl_s")),
                 60);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "created_by")), admin_id);
    sb_api_response_free(&r);

    /* partial update: priority only; the selector stays */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/policy-rules/", id, ""), &r,
                       "{\"priority\":700,\"enabled\":false}"),
                 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "priority")), 700);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "selector"),
                                                       "operation")),
                     "read");
    sb_api_response_free(&r);
    /* a selector given replaces the whole selector */
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/policy-rules/", id, ""), &r,
                       "{\"selector\":{\"environment_kind\":\"prod\"}}"),
                 200, "%s", r.body);
    cr_assert(json_is_null(json_object_get(json_object_get(r.json, "selector"), "operation")));
    sb_api_response_free(&r);
    char ids[4096];
    list_ids(admin, "/api/v1/policy-rules?anchor_type=platform", ids, sizeof ids);
    cr_assert(listed(ids, id));
    list_ids(admin, "/api/v1/policy-rules?anchor_type=team", ids, sizeof ids);
    cr_assert(!listed(ids, id));

    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/policy-rules/", id, ""), NULL, NULL), 204);
    cr_assert_eq(rules(), 0);
    expect_error(callf(admin, "GET", path3("/api/v1/policy-rules/", id, ""), &r, NULL), &r, 404,
                 "not_found");

    /* history: newest first, the whole rule after each change */
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/policy-rules/", id, "/history"), &r, NULL),
                 200, "%s", r.body);
    json_t *items = json_object_get(r.json, "items");
    cr_assert_eq(json_array_size(items), 4, "%s", r.body);
    static const char *const want[] = {"policy.rule.delete", "policy.rule.update",
                                       "policy.rule.update", "policy.rule.create"};
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(items, i), "action")),
                         want[i]);
    json_t *created = json_object_get(json_array_get(items, 3), "rule");
    cr_assert_eq(json_integer_value(json_object_get(created, "priority")), 500);
    json_t *updated = json_object_get(json_array_get(items, 2), "rule");
    cr_assert_eq(json_integer_value(json_object_get(updated, "priority")), 700);
    cr_assert(json_is_false(json_object_get(updated, "enabled")));
    cr_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(json_array_get(items, 2), "fields"), 0)),
                     "priority");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(
                                                           json_array_get(items, 0), "rule"),
                                                       "selector"),
                                       "environment_kind")),
                     "prod", "the deleted rule as it was");
    sb_api_response_free(&r);
    /* paged: two at a time */
    cr_assert_eq(callf(admin, "GET", path3("/api/v1/policy-rules/", id, "/history?limit=3"), &r,
                       NULL),
                 200);
    const char *cursor = json_string_value(json_object_get(r.json, "next_cursor"));
    cr_assert_not_null(cursor);
    char next[300];
    snprintf(next, sizeof next, "/api/v1/policy-rules/%s/history?limit=3&cursor=%s", id, cursor);
    sb_api_response_free(&r);
    cr_assert_eq(callf(admin, "GET", next, &r, NULL), 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r.json, "items"), 0), "action")),
                     "policy.rule.create");
    sb_api_response_free(&r);
    expect_error(callf(admin, "GET",
                       "/api/v1/policy-rules/00000000-0000-4000-8000-000000000001/history", &r,
                       NULL),
                 &r, 404, "not_found");
}

/* tmpl with its WFID replaced by wf. */
static void with_workflow(const char *tmpl, const char *wf, char *out, size_t cap)
{
    const char *at = strstr(tmpl, "WFID");
    if (at == NULL)
        snprintf(out, cap, "%s", tmpl);
    else
        snprintf(out, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, wf, at + 4);
}

Test(policies, validation_errors_name_the_field_and_change_nothing)
{
    char wf[40], team[40], other_team[40], proj[40], other[40], env_other[40], env_prod[40];
    standard_id(wf);
    make_team(admin, "Val Team", NULL, team);
    make_team(admin, "Val Other", NULL, other_team);
    make_project(admin, "val-proj", team, proj);
    make_project(admin, "val-other", other_team, other);
    make_env(admin, other, "dev", "non_prod", env_other);
    make_env(admin, proj, "prod", "prod", env_prod);
    char body[1024];
    const struct {
        const char *fmt;
        long status;
        const char *code, *needle;
    } cases[] = {
        {"{\"name\":\"\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"WFID\"}", 422,
         "invalid_value", "name must be 1..120"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"galaxy\"},\"workflow_id\":\"WFID\"}", 422,
         "invalid_value", "anchor.type"},
        {"{\"name\":\"x\",\"anchor\":{},\"workflow_id\":\"WFID\"}", 400, "missing_field",
         "anchor.type"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"team\"},\"workflow_id\":\"WFID\"}", 422,
         "invalid_value", "anchor.id is required"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"team\",\"id\":\"nope\"},\"workflow_id\":\"WFID\"}",
         422, "invalid_value", "anchor.id must be a UUID"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\",\"id\":"
         "\"00000000-0000-4000-8000-000000000001\"},\"workflow_id\":\"WFID\"}",
         422, "invalid_value", "anchor.id must be absent"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\",\"x\":1},\"workflow_id\":\"WFID\"}", 400,
         "unknown_field", "anchor.x"},
        {"{\"name\":\"x\",\"anchor\":\"platform\",\"workflow_id\":\"WFID\"}", 400, "invalid_field",
         "anchor"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"WFID\","
         "\"priority\":10001}",
         422, "invalid_value", "priority must be between -10000 and 10000"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"WFID\","
         "\"access\":{\"reveal_ttl_s\":5}}",
         422, "invalid_value", "access.reveal_ttl_s must be between 10 and 300"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"WFID\","
         "\"access\":{\"mfa_required\":\"yes\"}}",
         400, "invalid_field", "access.mfa_required"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"WFID\","
         "\"selector\":{\"environment_kind\":\"staging\"}}",
         422, "invalid_value", "selector.environment_kind"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"WFID\","
         "\"selector\":{\"operation\":\"write\"}}",
         422, "invalid_value", "selector.operation"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"WFID\","
         "\"selector\":{\"provider_type\":\"s3\"}}",
         422, "invalid_value", "provider_type"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"WFID\","
         "\"selector\":{\"secret_ref_prefix\":\"\"}}",
         422, "invalid_value", "selector.secret_ref_prefix must not be empty"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"WFID\","
         "\"selector\":{\"team_id\":null}}",
         400, "unknown_field", "selector.team_id"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":\"WFID\","
         "\"enabled\":\"true\"}",
         400, "invalid_field", "enabled"},
        {"{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"}}", 400, "missing_field",
         "workflow_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        with_workflow(cases[i].fmt, wf, body, sizeof body);
        sb_api_response r;
        long st = sb_api_call(h, "POST", "/api/v1/policy-rules", body, admin, NULL, &r);
        cr_assert_eq(st, cases[i].status, "case %zu: %ld %s", i, st, r.body);
        cr_assert_str_eq(error_code(&r), cases[i].code, "case %zu: %s", i, r.body);
        cr_assert(strstr(r.body, cases[i].needle), "case %zu names %s: %s", i, cases[i].needle,
                  r.body);
        sb_api_response_free(&r);
    }
    /* references checked in the transaction */
    struct {
        long status;
        const char *needle;
        char body[1024];
    } refs[] = {
        {422, "workflow_id: no workflow",
         "{\"name\":\"x\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":"
         "\"00000000-0000-4000-8000-000000000002\"}"},
        {422, "anchor.id: no team", ""},
        {422, "selector.environment_id: no environment", ""},
        {422, "selector.project_id: no project", ""},
        {422, "anchored on project", ""},
        {422, "could never match", ""},
    };
    snprintf(refs[1].body, sizeof refs[1].body,
             "{\"name\":\"x\",\"anchor\":{\"type\":\"team\",\"id\":"
             "\"00000000-0000-4000-8000-000000000003\"},\"workflow_id\":\"%s\"}",
             wf);
    snprintf(refs[2].body, sizeof refs[2].body,
             "{\"name\":\"x\",\"anchor\":{\"type\":\"project\",\"id\":\"%s\"},\"workflow_id\":"
             "\"%s\",\"selector\":{\"environment_id\":\"%s\"}}",
             proj, wf, env_other);
    snprintf(refs[3].body, sizeof refs[3].body,
             "{\"name\":\"x\",\"anchor\":{\"type\":\"team\",\"id\":\"%s\"},\"workflow_id\":"
             "\"%s\",\"selector\":{\"project_id\":\"%s\"}}",
             team, wf, other);
    snprintf(refs[4].body, sizeof refs[4].body,
             "{\"name\":\"x\",\"anchor\":{\"type\":\"project\",\"id\":\"%s\"},\"workflow_id\":"
             "\"%s\",\"selector\":{\"project_id\":\"%s\"}}",
             proj, wf, other);
    snprintf(refs[5].body, sizeof refs[5].body,
             "{\"name\":\"x\",\"anchor\":{\"type\":\"project\",\"id\":\"%s\"},\"workflow_id\":"
             "\"%s\",\"selector\":{\"environment_id\":\"%s\",\"environment_kind\":\"non_prod\"}}",
             proj, wf, env_prod);
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        sb_api_response r;
        long st = sb_api_call(h, "POST", "/api/v1/policy-rules", refs[i].body, admin, NULL, &r);
        cr_assert_eq(st, refs[i].status, "ref %zu: %ld %s", i, st, r.body);
        cr_assert(strstr(r.body, refs[i].needle), "ref %zu names %s: %s", i, refs[i].needle,
                  r.body);
        sb_api_response_free(&r);
    }
    cr_assert_eq(rules(), 0, "nothing was created");
    cr_assert_eq(success_events(), 0, "no success event");

    /* the same on update: nothing changes */
    char id[40];
    cr_assert_eq(post_rule(admin, id,
                           "{\"name\":\"ok\",\"anchor\":{\"type\":\"project\",\"id\":\"%s\"},"
                           "\"workflow_id\":\"%s\"}",
                           proj, wf),
                 201);
    sb_api_response r;
    expect_error(callf(admin, "PUT", path3("/api/v1/policy-rules/", id, ""), &r,
                       "{\"priority\":-10001}"),
                 &r, 422, "invalid_value");
    expect_error(callf(admin, "PUT", path3("/api/v1/policy-rules/", id, ""), &r,
                       "{\"selector\":{\"environment_id\":\"%s\"}}", env_other),
                 &r, 422, "invalid_value");
    expect_error(callf(admin, "PUT", path3("/api/v1/policy-rules/", id, ""), &r, "{}"), &r, 400,
                 "missing_field");
    cr_assert_eq(sql_int("SELECT count(*) FROM policy_rules WHERE priority = 100 AND "
                         "sel_environment_id IS NULL"),
                 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'policy.rule.update'"),
                 0);
    /* a disabled workflow is accepted */
    char off[40];
    make_workflow("switched-off", "\"enabled\":false", off);
    expect_error(callf(admin, "PUT", path3("/api/v1/policy-rules/", id, ""), &r,
                       "{\"workflow_id\":\"%s\"}", off),
                 &r, 200, "");
}

/*
 * The scoped-author world:  root ─┬─ alpha ── alpha-one (project pa)
 *                                 └─ beta (project pb)
 * author: policy_author on alpha.
 */
typedef struct world {
    char root[40], alpha[40], alpha1[40], beta[40], pa[40], pb[40], env_pa[40];
    char std[40], open_wf[40], author_id[40], author[256];
} world;

static void make_world(world *w)
{
    make_team(admin, "Root", NULL, w->root);
    make_team(admin, "Alpha", w->root, w->alpha);
    make_team(admin, "Alpha One", w->alpha, w->alpha1);
    make_team(admin, "Beta", w->root, w->beta);
    make_project(admin, "pa", w->alpha1, w->pa);
    make_project(admin, "pb", w->beta, w->pb);
    make_env(admin, w->pa, "dev", "non_prod", w->env_pa);
    standard_id(w->std);
    make_workflow("open-to-authors", "\"scoped_policy_authorable\":true", w->open_wf);
    make_user("author", "policy_author", "team", w->alpha, w->author_id, w->author);
}

/* A non_prod rule on anchor type/id by cookie with extra members. */
static long scoped(const world *w, const char *cookie, const char *type, const char *id,
                   const char *extra, char *out)
{
    char anchor[128];
    if (id)
        snprintf(anchor, sizeof anchor, "{\"type\":\"%s\",\"id\":\"%s\"}", type, id);
    else
        snprintf(anchor, sizeof anchor, "{\"type\":\"%s\"}", type);
    return post_rule(cookie, out,
                     "{\"name\":\"r\",\"anchor\":%s,\"workflow_id\":\"%s\",\"selector\":"
                     "{\"environment_kind\":\"non_prod\"}%s%s}",
                     anchor, w->open_wf, extra ? "," : "", extra ? extra : "");
}

Test(policies, a_scoped_author_is_confined)
{
    world w;
    make_world(&w);
    char ok_team[40], ok_proj[40], id[40];
    cr_assert_eq(scoped(&w, w.author, "team", w.alpha, NULL, ok_team), 201);
    cr_assert_eq(scoped(&w, w.author, "team", w.alpha1, NULL, id), 201, "the subtree");
    cr_assert_eq(scoped(&w, w.author, "project", w.pa, "\"priority\":8999", ok_proj), 201);
    long long ok_rules = rules(), ok_events = success_events();
    long long denied_before =
        sql_int("SELECT count(*) FROM audit_events WHERE action = 'access.denied'");

    /* outside scope: the sibling team and its project are unseen */
    cr_assert_eq(scoped(&w, w.author, "team", w.beta, NULL, NULL), 404);
    cr_assert_eq(scoped(&w, w.author, "project", w.pb, NULL, NULL), 404);
    /* a team above the grant is visible (?) only with a grant there: root is not */
    cr_assert_eq(scoped(&w, w.author, "team", w.root, NULL, NULL), 404);
    /* the platform anchor needs policy.edit */
    cr_assert_eq(scoped(&w, w.author, "platform", NULL, NULL, NULL), 403);
    /* prod, or no environment kind pin */
    cr_assert_eq(post_rule(w.author, NULL,
                           "{\"name\":\"r\",\"anchor\":{\"type\":\"team\",\"id\":\"%s\"},"
                           "\"workflow_id\":\"%s\",\"selector\":{\"environment_kind\":\"prod\"}}",
                           w.alpha, w.open_wf),
                 403);
    cr_assert_eq(post_rule(w.author, NULL,
                           "{\"name\":\"r\",\"anchor\":{\"type\":\"team\",\"id\":\"%s\"},"
                           "\"workflow_id\":\"%s\"}",
                           w.alpha, w.open_wf),
                 403);
    /* the reserved band */
    cr_assert_eq(scoped(&w, w.author, "team", w.alpha, "\"priority\":9000", NULL), 403);
    cr_assert_eq(scoped(&w, w.author, "team", w.alpha, "\"priority\":10000", NULL), 403);
    /* a workflow not open to scoped authors */
    cr_assert_eq(post_rule(w.author, NULL,
                           "{\"name\":\"r\",\"anchor\":{\"type\":\"team\",\"id\":\"%s\"},"
                           "\"workflow_id\":\"%s\",\"selector\":{\"environment_kind\":"
                           "\"non_prod\"}}",
                           w.alpha, w.std),
                 403);
    /* access flags stay at their defaults */
    cr_assert_eq(scoped(&w, w.author, "team", w.alpha,
                        "\"access\":{\"direct_reveal_allowed\":true}", NULL),
                 403);
    cr_assert_eq(scoped(&w, w.author, "team", w.alpha, "\"access\":{\"mfa_required\":true}", NULL),
                 403);
    cr_assert_eq(scoped(&w, w.author, "team", w.alpha, "\"access\":{\"reveal_ttl_s\":120}", NULL),
                 403);
    cr_assert_eq(scoped(&w, w.author, "team", w.alpha,
                        "\"access\":{\"direct_reveal_allowed\":false,\"mfa_required\":false,"
                        "\"reveal_ttl_s\":60}",
                        id),
                 201, "the defaults spelled out are fine");
    ok_rules++, ok_events++;
    cr_assert_eq(rules(), ok_rules, "refused writes created nothing");
    cr_assert_eq(success_events(), ok_events, "refused writes left no success event");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = 'access.denied'"),
                 denied_before + 12, "every refusal is audited");

    /* raising the band lets 9000 through; it is read live */
    cr_assert_eq(callf(admin, "PUT", "/api/v1/platform-settings/policy.reserved_priority", NULL,
                       "{\"value\":9500}"),
                 200);
    cr_assert_eq(scoped(&w, w.author, "team", w.alpha, "\"priority\":9000", id), 201);
    cr_assert_eq(scoped(&w, w.author, "team", w.alpha, "\"priority\":9500", NULL), 403);

    /* updates: as it is and as it would be */
    sb_api_response r;
    cr_assert_eq(callf(w.author, "PUT", path3("/api/v1/policy-rules/", ok_team, ""), &r,
                       "{\"description\":\"mine\"}"),
                 200, "%s", r.body);
    sb_api_response_free(&r);
    cr_assert_eq(callf(w.author, "PUT", path3("/api/v1/policy-rules/", ok_team, ""), NULL,
                       "{\"priority\":9999}"),
                 403, "into the band");
    cr_assert_eq(callf(w.author, "PUT", path3("/api/v1/policy-rules/", ok_team, ""), NULL,
                       "{\"anchor\":{\"type\":\"team\",\"id\":\"%s\"}}", w.beta),
                 404, "moved out of scope");
    cr_assert_eq(callf(w.author, "PUT", path3("/api/v1/policy-rules/", ok_team, ""), NULL,
                       "{\"anchor\":{\"type\":\"platform\"}}"),
                 403, "moved to the platform");
    cr_assert_eq(callf(w.author, "PUT", path3("/api/v1/policy-rules/", ok_team, ""), NULL,
                       "{\"selector\":{\"environment_kind\":\"prod\"}}"),
                 403, "turned prod");
    cr_assert_eq(sql_int("SELECT count(*) FROM policy_rules WHERE id = '%s' AND team_id = '%s' "
                         "AND priority = 100 AND sel_environment_kind = 'non_prod'",
                         ok_team, w.alpha),
                 1, "unchanged");
    /* a rule a platform author put in the band, and one with access flags */
    char band[40], flags[40], beta_rule[40];
    cr_assert_eq(scoped(&w, admin, "team", w.alpha, "\"priority\":9800", band), 201);
    cr_assert_eq(scoped(&w, admin, "team", w.alpha, "\"access\":{\"mfa_required\":true}", flags),
                 201);
    cr_assert_eq(scoped(&w, admin, "team", w.beta, NULL, beta_rule), 201);
    cr_assert_eq(callf(w.author, "PUT", path3("/api/v1/policy-rules/", band, ""), NULL,
                       "{\"priority\":5}"),
                 403, "out of the band it is not theirs to move");
    cr_assert_eq(callf(w.author, "DELETE", path3("/api/v1/policy-rules/", band, ""), NULL, NULL),
                 403);
    cr_assert_eq(callf(w.author, "PUT", path3("/api/v1/policy-rules/", flags, ""), NULL,
                       "{\"access\":{}}"),
                 403);
    cr_assert_eq(callf(w.author, "DELETE", path3("/api/v1/policy-rules/", beta_rule, ""), NULL,
                       NULL),
                 404);
    cr_assert_eq(sql_int("SELECT count(*) FROM policy_rules WHERE id IN ('%s', '%s', '%s')", band,
                         flags, beta_rule),
                 3, "all still there");
    cr_assert_eq(callf(w.author, "DELETE", path3("/api/v1/policy-rules/", ok_proj, ""), NULL,
                       NULL),
                 204, "their own");
    cr_assert_eq(audit_rows("policy.rule.delete", "policy_rule", ok_proj), 1);

    /* the platform author is unrestricted */
    cr_assert_eq(post_rule(admin, id,
                           "{\"name\":\"p\",\"anchor\":{\"type\":\"platform\"},\"priority\":10000,"
                           "\"workflow_id\":\"%s\",\"selector\":{\"environment_kind\":\"prod\"},"
                           "\"access\":{\"direct_reveal_allowed\":true,\"reveal_ttl_s\":300}}",
                           w.std),
                 201);
}

Test(policies, reads_are_filtered_by_scope)
{
    world w;
    make_world(&w);
    char plat[40], ta[40], tb[40], pa_rule[40], pb_rule[40];
    cr_assert_eq(post_rule(admin, plat,
                           "{\"name\":\"p\",\"anchor\":{\"type\":\"platform\"},\"workflow_id\":"
                           "\"%s\"}",
                           w.std),
                 201);
    cr_assert_eq(scoped(&w, admin, "team", w.alpha, NULL, ta), 201);
    cr_assert_eq(scoped(&w, admin, "team", w.beta, NULL, tb), 201);
    cr_assert_eq(scoped(&w, admin, "project", w.pa, NULL, pa_rule), 201);
    cr_assert_eq(scoped(&w, admin, "project", w.pb, NULL, pb_rule), 201);
    char ids[4096];
    list_ids(w.author, "/api/v1/policy-rules", ids, sizeof ids);
    cr_assert(listed(ids, plat) && listed(ids, ta) && listed(ids, pa_rule), "%s", ids);
    cr_assert(!listed(ids, tb) && !listed(ids, pb_rule), "%s", ids);
    list_ids(admin, "/api/v1/policy-rules", ids, sizeof ids);
    cr_assert(listed(ids, tb) && listed(ids, pb_rule));
    char nid[40], nobody[256];
    make_user("nobody", NULL, NULL, NULL, nid, nobody);
    list_ids(nobody, "/api/v1/policy-rules", ids, sizeof ids);
    cr_assert(listed(ids, plat) && !listed(ids, ta) && !listed(ids, pa_rule), "%s", ids);
    cr_assert_eq(get(nobody, path3("/api/v1/policy-rules/", plat, "")), 200);
    cr_assert_eq(get(nobody, path3("/api/v1/policy-rules/", ta, "")), 404);
    cr_assert_eq(get(w.author, path3("/api/v1/policy-rules/", ta, "")), 200);
    cr_assert_eq(get(w.author, path3("/api/v1/policy-rules/", pa_rule, "")), 200);
    cr_assert_eq(get(w.author, path3("/api/v1/policy-rules/", tb, "")), 404);
    cr_assert_eq(get(w.author, path3("/api/v1/policy-rules/", pb_rule, "/history")), 404);
    cr_assert_eq(get(w.author, path3("/api/v1/policy-rules/", pa_rule, "/history")), 200);
    cr_assert_eq(get(nobody, path3("/api/v1/policy-rules/", plat, "/history")), 200);
    /* after deletion the history keeps its visibility */
    cr_assert_eq(callf(admin, "DELETE", path3("/api/v1/policy-rules/", tb, ""), NULL, NULL), 204);
    cr_assert_eq(get(w.author, path3("/api/v1/policy-rules/", tb, "/history")), 404);
    cr_assert_eq(get(admin, path3("/api/v1/policy-rules/", tb, "/history")), 200);
    /* filters */
    list_ids(admin, path3("/api/v1/policy-rules?team_id=", w.alpha, ""), ids, sizeof ids);
    cr_assert(listed(ids, ta) && !listed(ids, plat) && !listed(ids, pa_rule));
    list_ids(admin, path3("/api/v1/policy-rules?workflow_id=", w.std, ""), ids, sizeof ids);
    cr_assert(listed(ids, plat) && !listed(ids, ta));
    sb_api_response r;
    expect_error(callf(admin, "GET", "/api/v1/policy-rules?anchor_type=galaxy", &r, NULL), &r,
                 400, "invalid_field");
}

Test(policies, the_reserved_priority_setting)
{
    char nid[40], nobody[256];
    make_user("reader", NULL, NULL, NULL, nid, nobody);
    sb_api_response r;
    const char *path = "/api/v1/platform-settings/policy.reserved_priority";
    cr_assert_eq(callf(nobody, "GET", path, &r, NULL), 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "value")), 9000);
    sb_api_response_free(&r);
    cr_assert_eq(callf(nobody, "PUT", path, NULL, "{\"value\":1}"), 403);
    char team[40], aid[40], author[256];
    make_team(admin, "Setting Team", NULL, team);
    make_user("setting-author", "policy_author", "team", team, aid, author);
    cr_assert_eq(callf(author, "PUT", path, NULL, "{\"value\":1}"), 403);
    expect_error(callf(admin, "PUT", path, &r, "{\"value\":0}"), &r, 422, "invalid_value");
    expect_error(callf(admin, "PUT", path, &r, "{\"value\":10001}"), &r, 422, "invalid_value");
    expect_error(callf(admin, "PUT", path, &r, "{\"value\":\"9000\"}"), &r, 400, "invalid_field");
    expect_error(callf(admin, "PUT", path, &r, "{}"), &r, 400, "missing_field");
    expect_error(callf(admin, "GET", "/api/v1/platform-settings/other.key", &r, NULL), &r, 404,
                 "not_found");
    cr_assert_eq(sql_int("SELECT (value::text)::int FROM platform_settings WHERE key = "
                         "'policy.reserved_priority'"),
                 9000, "unchanged by refusals");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = "
                         "'platform_setting.update'"),
                 0);

    /* a rule in today's band survives a lower band */
    char wf[40], id[40];
    standard_id(wf);
    cr_assert_eq(post_rule(admin, id,
                           "{\"name\":\"high\",\"anchor\":{\"type\":\"team\",\"id\":\"%s\"},"
                           "\"priority\":5000,\"workflow_id\":\"%s\"}",
                           team, wf),
                 201);
    cr_assert_eq(callf(admin, "PUT", path, &r, "{\"value\":4000}"), 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "value")), 4000);
    cr_assert_not_null(json_string_value(json_object_get(r.json, "updated_at")));
    sb_api_response_free(&r);
    cr_assert_eq(sql_int("SELECT count(*) FROM policy_rules WHERE id = '%s' AND priority = 5000",
                         id),
                 1, "never rewrites rules");
    cr_assert_eq(sql_int("SELECT count(*) FROM audit_events WHERE action = "
                         "'platform_setting.update' AND (details->>'previous')::int = 9000 AND "
                         "(details->>'value')::int = 4000"),
                 1);
    cr_assert_eq(callf(nobody, "GET", path, &r, NULL), 200);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "value")), 4000);
    sb_api_response_free(&r);
}

/* ---- the loader ---------------------------------------------------------------- */

static sb_db_conn *conn_of(void)
{
    sb_db_conn *c;
    sb_error err = {0};
    cr_assert_eq(sb_db_acquire(sb_api_harness_db(h), -1, &c, &err), 0, "%s", err.message);
    return c;
}

static int load_and_resolve(const char *project, const char *team, const sb_team_tree *tree,
                            size_t *n_rules, sb_policy_decision *d)
{
    sb_db_conn *c = conn_of();
    sb_policy_loaded *l = NULL;
    sb_error err = {0};
    int rc = sb_policy_store_load(c, project, &l, &err);
    sb_db_release(sb_api_harness_db(h), c);
    if (rc != 0)
        return err.code;
    *n_rules = sb_policy_loaded_set(l)->n_rules;
    sb_policy_context ctx = {project, team, NULL, SB_POLICY_ENV_NON_PROD, "vault", "app/db",
                             SB_POLICY_OP_READ};
    rc = sb_policy_resolve(sb_policy_loaded_set(l), tree, &ctx, d, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    /* keep the strings: copy what the caller checks */
    static char wf[40];
    snprintf(wf, sizeof wf, "%s", d->workflow_id);
    d->workflow_id = wf;
    d->rule_id = NULL;
    sb_policy_loaded_free(l);
    return 0;
}

Test(policies, the_loader_follows_team_ancestry_through_the_database)
{
    char root[40], eng[40], pay[40], ops[40], pp[40], po[40];
    make_team(admin, "Root", NULL, root);
    make_team(admin, "Eng", root, eng);
    make_team(admin, "Pay", eng, pay);
    make_team(admin, "Ops", root, ops);
    make_project(admin, "pp", pay, pp);
    make_project(admin, "po", ops, po);
    char wa[40], wb[40], wc[40], woff[40], x[40];
    make_workflow("wf-a", NULL, wa);
    make_workflow("wf-b", NULL, wb);
    make_workflow("wf-c", NULL, wc);
    make_workflow("wf-off", "\"enabled\":false", woff);
    cr_assert_eq(post_rule(admin, x,
                           "{\"name\":\"platform\",\"anchor\":{\"type\":\"platform\"},"
                           "\"priority\":0,\"workflow_id\":\"%s\"}",
                           wa),
                 201);
    cr_assert_eq(post_rule(admin, x,
                           "{\"name\":\"eng\",\"anchor\":{\"type\":\"team\",\"id\":\"%s\"},"
                           "\"priority\":50,\"workflow_id\":\"%s\"}",
                           eng, wb),
                 201);
    cr_assert_eq(post_rule(admin, x,
                           "{\"name\":\"ops\",\"anchor\":{\"type\":\"team\",\"id\":\"%s\"},"
                           "\"priority\":60,\"workflow_id\":\"%s\"}",
                           ops, wc),
                 201);
    cr_assert_eq(post_rule(admin, x,
                           "{\"name\":\"pp-disabled\",\"anchor\":{\"type\":\"project\",\"id\":"
                           "\"%s\"},\"priority\":100,\"workflow_id\":\"%s\",\"enabled\":false}",
                           pp, wc),
                 201);
    cr_assert_eq(post_rule(admin, x,
                           "{\"name\":\"pay-off\",\"anchor\":{\"type\":\"team\",\"id\":\"%s\"},"
                           "\"priority\":70,\"workflow_id\":\"%s\"}",
                           pay, woff),
                 201);
    sb_team_edge edges[] = {{root, NULL}, {eng, root}, {pay, eng}, {ops, root}};
    sb_team_tree *tree;
    sb_error err = {0};
    cr_assert_eq(sb_team_tree_build(edges, 4, &tree, &err), 0, "%s", err.message);

    size_t n;
    sb_policy_decision d;
    /* pp: platform, eng (ancestor), pay-off (own team); not ops, not the disabled rule */
    cr_assert_eq(load_and_resolve(pp, pay, tree, &n, &d), 0);
    cr_assert_eq(n, 3, "rules loaded for pp: %zu", n);
    cr_assert_str_eq(d.workflow_id, wb, "pay-off's workflow is disabled: eng wins");
    cr_assert(d.reasons & SB_POLICY_REASON_WORKFLOW_SKIPPED);
    cr_assert_eq(d.skipped, 1);
    /* po: platform + ops */
    cr_assert_eq(load_and_resolve(po, ops, tree, &n, &d), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(d.workflow_id, wc);
    /* no project: platform rules only */
    cr_assert_eq(load_and_resolve(NULL, NULL, tree, &n, &d), 0);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(d.workflow_id, wa);
    /* the platform rule off as well: the default workflow, no access */
    sb_api_harness_sql(h, "UPDATE policy_rules SET enabled = false WHERE anchor_type = 'platform'",
                       NULL, 0);
    cr_assert_eq(load_and_resolve(NULL, NULL, tree, &n, &d), 0);
    cr_assert_eq(n, 0);
    char std[40];
    standard_id(std);
    cr_assert_str_eq(d.workflow_id, std);
    cr_assert(d.reasons & SB_POLICY_REASON_DEFAULT_FALLBACK);
    /* no default workflow at all */
    sb_api_harness_sql(h, "UPDATE workflows SET is_default = false", NULL, 0);
    cr_assert_eq(load_and_resolve(pp, pay, tree, &n, &d), SB_DOMAIN_E_NOT_FOUND);
    sb_team_tree_free(tree);

    /* the reserved priority: live, 9000 when missing */
    sb_db_conn *c = conn_of();
    int v = 0;
    cr_assert_eq(sb_policy_store_reserved_priority(c, &v, &err), 0);
    cr_assert_eq(v, 9000);
    sb_api_harness_sql(h, "DELETE FROM platform_settings WHERE key = 'policy.reserved_priority'",
                       NULL, 0);
    v = 0;
    cr_assert_eq(sb_policy_store_reserved_priority(c, &v, &err), 0);
    cr_assert_eq(v, SB_POLICY_RESERVED_PRIORITY_DEFAULT);
    sb_db_release(sb_api_harness_db(h), c);
}
