/* test_http_openapi.c — sb_openapi_check reports every route missing from
 * the document and every documented operation without a route. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/openapi.h"

static int dummy(sb_server_request *req, void *ctx)
{
    (void)req;
    (void)ctx;
    return 0;
}

static sb_router *make(void)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/teams", SB_AUTH_SESSION, NULL, dummy, NULL, "listTeams", NULL},
        {"POST", "/api/v1/teams", SB_AUTH_SESSION, "team.create", dummy, NULL, "createTeam", NULL},
        {"GET", "/api/v1/teams/{id}", SB_AUTH_SESSION, NULL, dummy, NULL, "getTeam", NULL},
    };
    sb_router *r = sb_router_new();
    sb_error err = {0};
    cr_assert_eq(sb_router_add_all(r, routes, 3, &err), 0, "%s", err.message);
    return r;
}

Test(http_openapi, agreeing_document)
{
    static const char doc[] =
        "{\"openapi\":\"3.0.3\",\"paths\":{"
        "\"/api/v1/teams\":{\"get\":{\"operationId\":\"listTeams\"},\"post\":{},"
        "\"parameters\":[]},"
        "\"/api/v1/teams/{id}\":{\"get\":{\"operationId\":\"getTeam\"}},"
        "\"/healthz\":{\"get\":{}}}}";
    sb_router *r = make();
    char problems[1024];
    cr_assert_eq(sb_openapi_check(r, doc, strlen(doc), problems, sizeof problems), 0, "%s",
                 problems);
    cr_assert_str_eq(problems, "");
    sb_router_free(r);
}

Test(http_openapi, every_disagreement_is_listed)
{
    static const char doc[] =
        "{\"openapi\":\"3.0.3\",\"paths\":{"
        "\"/api/v1/teams\":{\"get\":{\"operationId\":\"teamsList\"}},"
        "\"/api/v1/teams/{team_id}\":{\"get\":{}},"
        "\"/api/v1/projects\":{\"delete\":{}}}}";
    sb_router *r = make();
    char problems[2048];
    int n = sb_openapi_check(r, doc, strlen(doc), problems, sizeof problems);
    cr_assert_eq(n, 5, "%d problems:\n%s", n, problems);
    cr_assert(strstr(problems, "route GET /api/v1/teams has operationId listTeams but the document "
                               "says teamsList") != NULL, "%s", problems);
    cr_assert(strstr(problems, "route POST /api/v1/teams (createTeam) is not in the document"),
              "%s", problems);
    cr_assert(strstr(problems, "route GET /api/v1/teams/{id} (getTeam) is not in the document"),
              "%s", problems);
    cr_assert(strstr(problems, "the document lists GET /api/v1/teams/{team_id} but no route"),
              "%s", problems);
    cr_assert(strstr(problems, "the document lists DELETE /api/v1/projects but no route"), "%s",
              problems);
    sb_router_free(r);
}

Test(http_openapi, unusable_documents)
{
    sb_router *r = make();
    char problems[512];
    cr_assert_eq(sb_openapi_check(r, "{not json", 9, problems, sizeof problems), -1);
    cr_assert(strstr(problems, "not valid JSON") != NULL, "%s", problems);
    cr_assert_eq(sb_openapi_check(r, "{\"openapi\":\"3.0.3\"}", 19, problems, sizeof problems), -1);
    cr_assert(strstr(problems, "no \"paths\"") != NULL, "%s", problems);
    sb_router_free(r);
}
