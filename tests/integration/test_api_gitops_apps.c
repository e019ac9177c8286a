/*
 * test_api_gitops_apps.c — app discovery (issue 17 item 1): GET
 * /api/v1/argocd-endpoints/{id}/applications over real HTTP and
 * PostgreSQL, through the real argocd plugin (its ABI 1.1
 * list_applications) against the strict Argo CD emulator — the listing is
 * the emulator's applications with their project, destination and
 * sync/health, the project filter reaches Argo CD, a wrong token and an
 * unreachable server are clear errors, the listing is bounded — and
 * through the ABI fixtures: a GitOps plugin built for ABI 1.0 (or with the
 * slot NULL) still loads on this 1.1 host and the route says to upgrade
 * it; a plugin requiring 1.1 lists.
 */
#include "request_test_util.h"
#include "emulator_support.h"
#include "gitops_test_util.h"

#define TOKEN "argo-apps-token-9f3e"

static void setup(void) { tenancy_setup(); }
static void teardown(void)
{
    if (sb_api_harness_app(h)->gitops_plugin != NULL)
        gitops_plugin_stop();
    sb_api_harness_app(h)->gitops_plugin = NULL;
    es_emulator_stop();
    tenancy_teardown();
}

TestSuite(api_gitops_apps, .init = setup, .fini = teardown, .timeout = 120);

static long list(const char *cookie, const char *ep, const char *query, sb_api_response *r)
{
    char path[300];
    snprintf(path, sizeof path, "/api/v1/argocd-endpoints/%s/applications%s", ep, query);
    return callf(cookie, "GET", path, r, NULL);
}

/* The names of a 200 listing, comma-separated, into out. */
static void names(const char *ep, const char *query, char *out, size_t cap)
{
    sb_api_response r;
    cr_assert_eq(list(admin, ep, query, &r), 200, "%s: %s", query, r.body);
    out[0] = '\0';
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        if (i)
            strncat(out, ",", cap - strlen(out) - 1);
        strncat(out, json_string_value(json_object_get(it, "name")), cap - strlen(out) - 1);
    }
    sb_api_response_free(&r);
}

static void start_argocd(void)
{
    sb_api_harness_app(h)->gitops_plugin = gitops_plugin_start();
    const char *argv[] = {"--token", TOKEN, NULL};
    es_emulator_start("tests/emulators/argocd/argocd_emulator.py", argv);
    es_admin_ok("POST", "apps", "{\"name\":\"web\",\"project\":\"team-a\",\"namespace\":\"shop\"}");
    es_admin_ok("POST", "apps", "{\"name\":\"api\",\"project\":\"team-b\"}");
    es_admin_ok("POST", "apps", "{\"name\":\"batch\",\"project\":\"team-a\"}");
}

Test(api_gitops_apps, the_listing_is_the_emulators_applications_and_the_project_filter_works)
{
    start_argocd();
    char ep[40], got[256];
    gitops_endpoint("argo-list", es_port(), TOKEN, ep);
    sb_api_response r;
    cr_assert_eq(list(admin, ep, "", &r), 200, "%s", r.body);
    cr_assert(json_is_false(json_object_get(r.json, "truncated")), "%s", r.body);
    json_t *web = json_array_get(json_object_get(r.json, "items"), 2);
    cr_assert_str_eq(json_string_value(json_object_get(web, "name")), "web");
    cr_assert_str_eq(json_string_value(json_object_get(web, "project")), "team-a");
    cr_assert_str_eq(json_string_value(json_object_get(web, "namespace")), "shop");
    cr_assert_str_eq(json_string_value(json_object_get(web, "destination")),
                     "https://kubernetes.default.svc");
    cr_assert_str_eq(json_string_value(json_object_get(web, "sync_status")), "Synced");
    cr_assert_str_eq(json_string_value(json_object_get(web, "health_status")), "Healthy");
    cr_assert_null(strstr(r.body, TOKEN), "%s", r.body);
    sb_api_response_free(&r);
    names(ep, "", got, sizeof got);
    cr_assert_str_eq(got, "api,batch,web");
    names(ep, "?project=team-a", got, sizeof got);
    cr_assert_str_eq(got, "batch,web");
    names(ep, "?project=team-c", got, sizeof got);
    cr_assert_str_eq(got, "", "a project without applications lists nothing (Argo CD's null items)");

    /* bounded: limit, and truncated says there is more */
    cr_assert_eq(list(admin, ep, "?limit=2", &r), 200, "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 2);
    cr_assert(json_is_true(json_object_get(r.json, "truncated")), "%s", r.body);
    sb_api_response_free(&r);

    /* the filter reached Argo CD, and Argo CD was only read */
    char *log = NULL;
    cr_assert_eq(es_admin("GET", "requests", NULL, &log), 200);
    cr_assert_not_null(strstr(log, "projects=team-a"), "%s", log);
    cr_assert_null(strstr(log, "\"method\": \"POST\""), "%s", log);
    free(log);

    /* an endpoint limited to a project lists that project, refuses another */
    char limited[40];
    gitops_endpoint("argo-team-b", es_port(), TOKEN, limited);
    cr_assert_eq(callf(admin, "PUT", path3("/api/v1/argocd-endpoints/", limited, ""), &r,
                       "{\"project\":\"team-b\"}"),
                 200, "%s", r.body);
    sb_api_response_free(&r);
    names(limited, "", got, sizeof got);
    cr_assert_str_eq(got, "api");
    long st = list(admin, limited, "?project=team-a", &r);
    cr_assert_eq(st, 422, "%s", r.body);
    cr_assert_str_eq(error_code(&r), "invalid_value");
    cr_assert_not_null(strstr(r.body, "limited to project team-b"), "%s", r.body);
    sb_api_response_free(&r);
}

Test(api_gitops_apps, a_bad_token_or_an_unreachable_server_is_a_clear_error)
{
    start_argocd();
    char wrong[40], good[40], down[40];
    gitops_endpoint("argo-wrong", es_port(), "not-the-token", wrong);
    gitops_endpoint("argo-good", es_port(), TOKEN, good);
    gitops_endpoint("argo-down", 9, TOKEN, down); /* discard port: nothing listens */
    sb_api_response r;
    long st = list(admin, wrong, "", &r);
    cr_assert_eq(st, 409, "%s", r.body);
    cr_assert_str_eq(error_code(&r), "argocd_refused");
    cr_assert_not_null(strstr(r.body, "401"), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "replace the endpoint's token"), "%s", r.body);
    cr_assert_null(strstr(r.body, "not-the-token"), "the token is never in an answer: %s", r.body);
    sb_api_response_free(&r);
    st = list(admin, down, "", &r);
    cr_assert_eq(st, 409, "%s", r.body);
    cr_assert_str_eq(error_code(&r), "argocd_unavailable");
    cr_assert_not_null(strstr(r.body, "argo-down"), "the message names the endpoint: %s", r.body);
    sb_api_response_free(&r);
    es_admin_ok("POST", "faults", "{\"target\":\"list\",\"status\":503,\"count\":5}");
    st = list(admin, good, "", &r);
    expect_error(st, &r, 409, "argocd_unavailable");
}

Test(api_gitops_apps, bad_input_permissions_and_a_missing_plugin)
{
    request_world();
    char ep[40];
    gitops_endpoint("argo-input", 8443, TOKEN, ep);
    sb_api_response r;
    long st = list(admin, ep, "", &r);
    expect_error(st, &r, 409, "gitops_plugin_missing");
    sb_api_harness_app(h)->gitops_plugin = gitops_plugin_start();
    st = list(admin, ep, "?project=Team_A", &r);
    expect_error(st, &r, 422, "invalid_value");
    st = list(admin, ep, "?limit=0", &r);
    expect_error(st, &r, 422, "invalid_value");
    st = list(admin, ep, "?limit=1001", &r);
    expect_error(st, &r, 422, "invalid_value");
    st = list(admin, ep, "?colour=red", &r);
    cr_assert_eq(st, 400, "%s", r.body);
    sb_api_response_free(&r);
    st = list(admin, "00000000-0000-4000-8000-000000000000", "", &r);
    expect_error(st, &r, 404, "not_found");
    st = list(dev, ep, "", &r);
    expect_error(st, &r, 403, "forbidden");
}

/* The route with the GitOps plugin `file` from the ABI fixtures. */
static long list_with_fixture(const char *name, const char *file, sb_api_response *r)
{
    sb_api_harness_app(h)->gitops_plugin = gitops_plugin_start_file(SB_TEST_PLUGIN_DIR, name, file);
    char ep[40];
    gitops_endpoint("argo-fixture", 8443, TOKEN, ep);
    return list(admin, ep, "", r);
}

/* The fixture loads, and the route refuses to list with `says`. */
static void expect_cannot_list(const char *name, const char *file, const char *says)
{
    sb_api_response r;
    long st = list_with_fixture(name, file, &r);
    cr_assert_eq(st, 422, "%s", r.body);
    cr_assert_str_eq(error_code(&r), "plugin_cannot_list");
    cr_assert_not_null(strstr(r.body, says), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "upgrade it"), "%s", r.body);
    sb_api_response_free(&r);
}

Test(api_gitops_apps, a_plugin_built_for_abi_1_0_loads_and_the_route_says_to_upgrade_it)
{
    expect_cannot_list("gitops-v1-0", "gitops_v1_0.so",
                       "this GitOps plugin (gitops-v1-0 0.3.0, built for ABI 1.0) cannot list "
                       "applications");
}

Test(api_gitops_apps, a_1_1_plugin_with_a_null_slot_is_told_to_upgrade_too)
{
    expect_cannot_list("gitops-null-list", "gitops_null_list.so",
                       "this GitOps plugin (gitops-null-list 0.3.0, built for ABI 1.1) does not "
                       "implement application listing");
}

Test(api_gitops_apps, a_plugin_that_requires_abi_1_1_loads_and_lists)
{
    sb_api_response r;
    long st = list_with_fixture("gitops-requires-1-1", "gitops_requires_1_1.so", &r);
    cr_assert_eq(st, 200, "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "items")), 3, "%s", r.body);
    sb_api_response_free(&r);
}
