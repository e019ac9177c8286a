/*
 * test_api_core.c — properties of the whole API, checked by enumerating
 * the router (so a new route is covered the day it is added):
 *   - the OpenAPI document and the router list exactly the same routes;
 *   - default deny (I7): every non-PUBLIC route answers 401 without
 *     credentials, and 401 with forged ones;
 *   - every route that names a permission answers 403 to a signed-in user
 *     who holds it nowhere, and never 401/403 to a global admin;
 *   - identity never comes from the request (I6): X-User-Id and friends,
 *     and user ids in query strings, are ignored;
 *   - every response carries X-Request-Id and errors have the JSON shape.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "api_harness.h"
#include "http/openapi.h"
#include "pg_harness.h"
#include "server/openapi_doc.h"

ReportHook(PRE_ALL)(struct criterion_test_set *s)
{
    (void)s;
    sb_pg_harness_shared_start();
}
ReportHook(POST_ALL)(struct criterion_global_stats *s)
{
    (void)s;
    sb_pg_harness_shared_stop();
}

static sb_api_harness *h;

static void setup(void) { cr_assert_eq(sb_api_harness_start(&h), 0, "the API harness did not start"); }
static void teardown(void) { sb_api_harness_stop(h); }
TestSuite(api_core, .init = setup, .fini = teardown, .timeout = 120);

/* The route's pattern with every {param} replaced by a UUID nobody has. */
static void concrete_path(const char *pattern, char *out, size_t cap)
{
    size_t len = 0;
    for (const char *p = pattern; *p && len + 40 < cap;) {
        if (*p == '{') {
            len += (size_t)snprintf(out + len, cap - len, "00000000-0000-4000-8000-000000000001");
            p = strchr(p, '}') + 1;
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
}

static int has_body(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
}

Test(api_core, the_openapi_document_and_the_router_agree)
{
    size_t len;
    const char *doc = sb_openapi_document(&len);
    char problems[8192];
    int n = sb_openapi_check(sb_api_harness_router(h), doc, len, problems, sizeof problems);
    cr_assert_eq(n, 0, "router and OpenAPI document disagree:\n%s", problems);
    sb_api_response r;
    cr_assert_eq(sb_api_call(h, "GET", "/api/v1/openapi.json", NULL, NULL, NULL, &r), 200);
    cr_assert_not_null(json_object_get(r.json, "paths"), "the document is served");
    sb_api_response_free(&r);
}

Test(api_core, every_protected_route_refuses_anonymous_and_forged_callers)
{
    size_t n;
    const sb_route *routes = sb_router_routes(sb_api_harness_router(h), &n);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (routes[i].auth == SB_AUTH_PUBLIC)
            continue;
        char path[512];
        concrete_path(routes[i].pattern, path, sizeof path);
        const char *body = has_body(routes[i].method) ? "{}" : NULL;
        sb_api_response r;
        long st = sb_api_call(h, routes[i].method, path, body, NULL, NULL, &r);
        cr_assert_eq(st, 401, "%s %s answered %ld without credentials", routes[i].method, path, st);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
                         "unauthenticated");
        sb_api_response_free(&r);
        st = sb_api_call(h, routes[i].method, path, body, "sbs_forgedforgedforgedforgedforgedforgedforg",
                         "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.forged", &r);
        cr_assert_eq(st, 401, "%s %s answered %ld to forged credentials", routes[i].method, path, st);
        sb_api_response_free(&r);
        const char *spoof[] = {"X-User-Id: 00000000-0000-4000-8000-000000000001", "X-Remote-User: admin", NULL};
        st = sb_api_call_with(h, routes[i].method, path, body, NULL, NULL, spoof, &r);
        cr_assert_eq(st, 401, "%s %s trusted an identity header (%ld)", routes[i].method, path, st);
        sb_api_response_free(&r);
        checked++;
    }
    cr_assert_gt(checked, 10, "the router has protected routes (%zu checked)", checked);
}

Test(api_core, routes_with_a_permission_refuse_users_who_hold_it_nowhere)
{
    char uid[40], cookie[256];
    cr_assert_eq(sb_api_harness_user(h, "nobody", "nobody-password-1", NULL, NULL, NULL, uid), 0);
    cr_assert_eq(sb_api_harness_login(h, "nobody", "nobody-password-1", cookie, sizeof cookie, NULL, 0), 0);
    size_t n;
    const sb_route *routes = sb_router_routes(sb_api_harness_router(h), &n);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (routes[i].auth != SB_AUTH_SESSION || routes[i].permission == NULL)
            continue;
        char path[512];
        concrete_path(routes[i].pattern, path, sizeof path);
        sb_api_response r;
        long st = sb_api_call(h, routes[i].method, path, has_body(routes[i].method) ? "{}" : NULL, cookie,
                              NULL, &r);
        cr_assert_eq(st, 403, "%s %s (needs %s) answered %ld to a user without grants", routes[i].method,
                     path, routes[i].permission, st);
        sb_api_response_free(&r);
        checked++;
    }
    cr_assert_gt(checked, 5, "routes with permissions exist (%zu checked)", checked);
    char count[32];
    sb_api_harness_sql(h, "SELECT count(*) FROM audit_events WHERE action = 'access.denied' AND outcome = 'denied'",
                       count, sizeof count);
    cr_assert_eq((size_t)atol(count), checked, "every refusal is audited (%s of %zu)", count, checked);
}

Test(api_core, a_global_admin_is_never_refused_by_the_gate)
{
    char uid[40], cookie[256];
    cr_assert_eq(sb_api_harness_user(h, "root-admin", "admin-password-1", "admin", "global", NULL, uid), 0);
    cr_assert_eq(sb_api_harness_login(h, "root-admin", "admin-password-1", cookie, sizeof cookie, NULL, 0), 0);
    size_t n;
    const sb_route *routes = sb_router_routes(sb_api_harness_router(h), &n);
    for (size_t i = 0; i < n; i++) {
        if (routes[i].auth != SB_AUTH_SESSION || strcmp(routes[i].method, "GET") != 0)
            continue; /* reads only: writes are exercised by each area's tests */
        char path[512];
        concrete_path(routes[i].pattern, path, sizeof path);
        sb_api_response r;
        long st = sb_api_call(h, routes[i].method, path, NULL, cookie, NULL, &r);
        cr_assert(st != 401 && st != 403, "%s %s answered %ld to a global admin", routes[i].method, path, st);
        cr_assert(st < 500, "%s %s failed with %ld: %s", routes[i].method, path, st, r.body);
        sb_api_response_free(&r);
    }
}

Test(api_core, responses_carry_a_request_id_and_errors_have_one_shape)
{
    sb_api_response r;
    const char *hdr[] = {"X-Request-Id: test-req-123", NULL};
    cr_assert_eq(sb_api_call_with(h, "GET", "/api/v1/no-such-thing", NULL, NULL, NULL, hdr, &r), 404);
    char rid[160];
    cr_assert_eq(sb_api_response_header(&r, "X-Request-Id", rid, sizeof rid), 0);
    cr_assert_str_eq(rid, "test-req-123");
    json_t *e = json_object_get(r.json, "error");
    cr_assert_str_eq(json_string_value(json_object_get(e, "code")), "not_found");
    cr_assert_str_eq(json_string_value(json_object_get(e, "request_id")), "test-req-123");
    cr_assert_not_null(json_string_value(json_object_get(e, "message")));
    sb_api_response_free(&r);
}
