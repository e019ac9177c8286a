/* test_http_router.c — the route table without a server: validation of
 * routes, literal-over-parameter precedence, exact matching, 404/405 with
 * Allow, percent-decoding of parameters and refusal of bad encodings. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/router.h"

static int dummy(sb_server_request *req, void *ctx)
{
    (void)req;
    (void)ctx;
    return 0;
}

#define ROUTE(m, p, id) {m, p, SB_AUTH_SESSION, NULL, dummy, NULL, id, NULL}

static sb_router *make(const sb_route *routes, size_t n)
{
    sb_router *r = sb_router_new();
    sb_error err = {0};
    cr_assert_eq(sb_router_add_all(r, routes, n, &err), 0, "%s", err.message);
    return r;
}

Test(http_router, literal_beats_parameter_whatever_the_order)
{
    const sb_route routes[] = {
        ROUTE("GET", "/api/v1/requests/{id}", "getRequest"),
        ROUTE("GET", "/api/v1/requests/inbox", "getInbox"),
        ROUTE("GET", "/api/v1/{kind}/read", "kindRead"),
        ROUTE("GET", "/api/v1/requests/{id}/read", "requestRead"),
    };
    sb_router *r = make(routes, 4);
    sb_route_match m;
    cr_assert_eq(sb_router_match(r, "GET", "/api/v1/requests/inbox", &m), SB_ROUTE_FOUND);
    cr_assert_str_eq(m.route->operation_id, "getInbox");
    cr_assert_eq(m.n_params, 0);
    sb_route_match_clear(&m);
    cr_assert_eq(sb_router_match(r, "GET", "/api/v1/requests/r-42", &m), SB_ROUTE_FOUND);
    cr_assert_str_eq(m.route->operation_id, "getRequest");
    cr_assert_str_eq(m.param_names[0], "id");
    cr_assert_str_eq(m.param_values[0], "r-42");
    sb_route_match_clear(&m);
    /* the first differing segment decides: "requests" (literal) beats {kind} */
    cr_assert_eq(sb_router_match(r, "GET", "/api/v1/requests/7/read", &m), SB_ROUTE_FOUND);
    cr_assert_str_eq(m.route->operation_id, "requestRead");
    sb_route_match_clear(&m);
    cr_assert_eq(sb_router_match(r, "GET", "/api/v1/teams/read", &m), SB_ROUTE_FOUND);
    cr_assert_str_eq(m.route->operation_id, "kindRead");
    cr_assert_str_eq(m.param_values[0], "teams");
    sb_route_match_clear(&m);
    sb_router_free(r);
}

Test(http_router, matching_is_exact)
{
    const sb_route routes[] = {ROUTE("GET", "/api/v1/teams", "listTeams"),
                               ROUTE("GET", "/api/v1/teams/{id}", "getTeam")};
    sb_router *r = make(routes, 2);
    const char *misses[] = {"/api/v1/teams/", "/api/v1/Teams", "/api/v1//teams", "/api/v1/teams/1/",
                            "/api/v1", "/", "/api/v1/teams/%2e%2e/x"};
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++) {
        sb_route_match m;
        cr_assert_eq(sb_router_match(r, "GET", misses[i], &m), SB_ROUTE_NOT_FOUND, "%s", misses[i]);
        sb_route_match_clear(&m);
    }
    sb_router_free(r);
}

Test(http_router, method_not_allowed_lists_the_resource_methods)
{
    const sb_route routes[] = {
        ROUTE("GET", "/api/v1/requests/{id}", "getRequest"),
        ROUTE("DELETE", "/api/v1/requests/{id}", "cancelRequest"),
        ROUTE("GET", "/api/v1/requests/inbox", "getInbox"),
        ROUTE("POST", "/api/v1/requests", "createRequest"),
    };
    sb_router *r = make(routes, 4);
    sb_route_match m;
    cr_assert_eq(sb_router_match(r, "PUT", "/api/v1/requests/9", &m), SB_ROUTE_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "GET, HEAD, DELETE");
    cr_assert_str_eq(m.resource->pattern, "/api/v1/requests/{id}");
    sb_route_match_clear(&m);
    /* the literal resource decides: "inbox" is not an id that can be deleted */
    cr_assert_eq(sb_router_match(r, "DELETE", "/api/v1/requests/inbox", &m),
                 SB_ROUTE_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "GET, HEAD");
    sb_route_match_clear(&m);
    cr_assert_eq(sb_router_match(r, "GET", "/api/v1/requests", &m), SB_ROUTE_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "POST");
    sb_route_match_clear(&m);
    /* HEAD is answered by GET routes */
    cr_assert_eq(sb_router_match(r, "HEAD", "/api/v1/requests/inbox", &m), SB_ROUTE_FOUND);
    cr_assert_str_eq(m.route->operation_id, "getInbox");
    sb_route_match_clear(&m);
    cr_assert_eq(sb_router_match(r, "BREW", "/api/v1/requests/inbox", &m),
                 SB_ROUTE_METHOD_NOT_ALLOWED);
    sb_route_match_clear(&m);
    sb_router_free(r);
}

Test(http_router, parameters_are_percent_decoded)
{
    const sb_route routes[] = {
        ROUTE("GET", "/api/v1/teams/{id}/members/{user_id}", "getMember"),
        ROUTE("GET", "/api/v1/secrets/{ref}", "getSecret"),
    };
    sb_router *r = make(routes, 2);
    sb_route_match m;
    cr_assert_eq(sb_router_match(r, "GET", "/api/v1/teams/t%2F1/members/u%C3%A9+x", &m),
                 SB_ROUTE_FOUND);
    cr_assert_eq(m.n_params, 2);
    cr_assert_str_eq(m.param_names[0], "id");
    cr_assert_str_eq(m.param_values[0], "t/1");
    cr_assert_str_eq(m.param_names[1], "user_id");
    cr_assert_str_eq(m.param_values[1], "u\xc3\xa9+x"); /* '+' is literal in a path */
    sb_route_match_clear(&m);
    /* an empty parameter never matches */
    cr_assert_eq(sb_router_match(r, "GET", "/api/v1/secrets/", &m), SB_ROUTE_NOT_FOUND);
    sb_route_match_clear(&m);
    sb_router_free(r);
}

Test(http_router, bad_encodings_are_refused)
{
    const sb_route routes[] = {ROUTE("GET", "/api/v1/secrets/{ref}", "getSecret")};
    sb_router *r = make(routes, 1);
    const char *bad[] = {"/api/v1/secrets/%ff", "/api/v1/secrets/%zz", "/api/v1/secrets/%4",
                         "/api/v1/secrets/a%00b", "/api/v1/secrets/%C0%AF", "/api/v1/secrets/%ED%A0%80",
                         "/api/v1/%ff/x", "/api/v1/secrets/raw\xff", "/api/v1/secrets/\xc3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_route_match m;
        cr_assert_eq(sb_router_match(r, "GET", bad[i], &m), SB_ROUTE_BAD_PATH, "%s", bad[i]);
        cr_assert_not_null(m.problem);
        sb_route_match_clear(&m);
    }
    sb_route_match m;
    cr_assert_eq(sb_router_match(r, "GET", "no-slash", &m), SB_ROUTE_BAD_PATH);
    sb_route_match_clear(&m);
    sb_router_free(r);
}

static void expect_refused(const sb_route *route, const char *why)
{
    const sb_route ok[] = {ROUTE("GET", "/api/v1/teams/{id}", "getTeam")};
    sb_router *r = make(ok, 1);
    sb_error err = {0};
    cr_assert_eq(sb_router_add(r, route, &err), -1, "accepted %s", route->pattern);
    cr_assert(strstr(err.message, why) != NULL, "message '%s' lacks '%s'", err.message, why);
    size_t n;
    sb_router_routes(r, &n);
    cr_assert_eq(n, 1);
    sb_router_free(r);
}

Test(http_router, invalid_routes_are_refused_with_a_reason)
{
    sb_route r = ROUTE("GET", "/api/v1/teams/{id}", "getTeam2");
    expect_refused(&r, "already registered");
    r = (sb_route)ROUTE("DELETE", "/api/v1/teams/{team_id}", "deleteTeam");
    expect_refused(&r, "other parameter names");
    r = (sb_route)ROUTE("POST", "/api/v1/teams", "getTeam");
    expect_refused(&r, "operation id is already used");
    r = (sb_route)ROUTE("TRACE", "/api/v1/x", "x");
    expect_refused(&r, "method must be one of");
    r = (sb_route)ROUTE("GET", "api/v1/x", "x");
    expect_refused(&r, "must start with '/'");
    r = (sb_route)ROUTE("GET", "/api/v1/x/", "x");
    expect_refused(&r, "empty segment");
    r = (sb_route)ROUTE("GET", "/api/v1/x/{id}.json", "x");
    expect_refused(&r, "whole segment");
    r = (sb_route)ROUTE("GET", "/api/v1/a b", "x");
    expect_refused(&r, "literal segment");
    r = (sb_route)ROUTE("GET", "/api/v1/{a}/{a}", "x");
    expect_refused(&r, "appears twice");
    r = (sb_route)ROUTE("GET", "/api/v1/x", NULL);
    expect_refused(&r, "no operation id");
    r = (sb_route)ROUTE("GET", "/api/v1/x", "x");
    r.handler = NULL;
    expect_refused(&r, "no handler");
    r = (sb_route)ROUTE("GET", "/api/v1/x", "x");
    r.auth = SB_AUTH_PUBLIC;
    r.permission = "team.edit";
    expect_refused(&r, "PUBLIC route cannot demand a permission");
}

Test(http_router, routes_are_enumerated_in_order_with_their_declarations)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/teams", SB_AUTH_SESSION, "team.read", dummy, NULL, "listTeams", "List"},
        {"POST", "/api/v1/agents/enroll", SB_AUTH_PUBLIC, NULL, dummy, NULL, "enroll", NULL},
        {"POST", "/api/v1/agents/{id}/jobs/claim", SB_AUTH_AGENT, NULL, dummy, NULL, "claim", NULL},
    };
    sb_router *r = make(routes, 3);
    size_t n;
    const sb_route *all = sb_router_routes(r, &n);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(all[0].permission, "team.read");
    cr_assert_str_eq(all[0].summary, "List");
    cr_assert_eq(all[1].auth, SB_AUTH_PUBLIC);
    cr_assert_null(all[1].permission);
    cr_assert_eq(all[2].auth, SB_AUTH_AGENT);
    cr_assert_str_eq(all[2].pattern, "/api/v1/agents/{id}/jobs/claim");
    cr_assert_neq(all[0].pattern, routes[0].pattern, "strings are copied");
    sb_router_free(r);
}

Test(http_router, percent_decoding_of_query_text)
{
    char out[64];
    cr_assert_eq(sb_http_percent_decode("a+b%20c", 7, out, 1), 5);
    cr_assert_str_eq(out, "a b c");
    cr_assert_eq(sb_http_percent_decode("a+b", 3, out, 0), 3);
    cr_assert_str_eq(out, "a+b");
    cr_assert_eq(sb_http_percent_decode("%E2%9C%93", 9, out, 0), 3);
    cr_assert_eq(sb_http_percent_decode("%", 1, out, 0), -1);
    cr_assert_eq(sb_http_percent_decode("%f", 2, out, 0), -1);
    cr_assert_eq(sb_http_percent_decode("%fe", 3, out, 0), -1);
}
