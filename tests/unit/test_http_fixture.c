/* test_http_fixture.c — the server the HTTP tests talk to: a route table
 * exercising every feature, a test gate, start/stop, and assertions on the
 * JSON error shape (declared in test_http_support.h). */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/server.h"
#include "test_http_support.h"

sb_router *test_router;
sb_http_server *test_server;
unsigned test_port;
atomic_int handler_calls;

/* ---- handlers -------------------------------------------------------- */

static int h_which(sb_server_request *req, void *ctx)
{
    const char *id = sb_http_param(req, "id");
    return sb_http_respond_json(req, 200, json_pack("{s:s,s:s?}", "route", (const char *)ctx, "id", id));
}

static int h_members(sb_server_request *req, void *ctx)
{
    (void)ctx;
    return sb_http_respond_json(req, 200, json_pack("{s:s,s:s}", "id", sb_http_param(req, "id"),
                                                    "user_id", sb_http_param(req, "user_id")));
}

static int h_echo(sb_server_request *req, void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&handler_calls, 1);
    json_t *body;
    if (sb_http_json_body(req, &body, NULL) != 0)
        return 0;
    return sb_http_respond_json(req, 200, json_pack("{s:O}", "got", body));
}

static int h_upload(sb_server_request *req, void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&handler_calls, 1);
    size_t len;
    sb_http_body(req, &len);
    return sb_http_respond_json(req, 200, json_pack("{s:I}", "len", (json_int_t)len));
}

static int h_private(sb_server_request *req, void *ctx)
{
    (void)ctx;
    return sb_http_respond_json(req, 200, json_pack("{s:s}", "user", (const char *)sb_http_identity(req)));
}

static int h_boom(sb_server_request *req, void *ctx)
{
    (void)ctx;
    return sb_http_respond_error(req, 500, "db_failure",
                                 "query failed: password=hunter2 url=postgres://u:topsecret@db");
}

static int h_silent(sb_server_request *req, void *ctx)
{
    (void)req;
    (void)ctx;
    return 0; /* forgets to answer */
}

static int h_query(sb_server_request *req, void *ctx)
{
    (void)ctx;
    const char *tags[8];
    size_t n = sb_http_query_all(req, "tag", tags, 8);
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < 8; i++)
        json_array_append_new(arr, json_string(tags[i]));
    const char *limit = sb_http_query(req, "limit");
    return sb_http_respond_json(req, 200, json_pack("{s:s?,s:o,s:I,s:s?}", "limit", limit, "tags", arr,
                                                    "count", (json_int_t)sb_http_query_count(req),
                                                    "flag", sb_http_query(req, "flag")));
}

/* The client address the server settled on (peer or X-Forwarded-For). */
static int h_client_ip(sb_server_request *req, void *ctx)
{
    (void)ctx;
    return sb_http_respond_json(req, 200, json_pack("{s:s}", "ip", sb_http_remote_ip(req)));
}

static int h_cookie(sb_server_request *req, void *ctx)
{
    (void)ctx;
    sb_http_cookie_attrs a = {.max_age = 1800, .http_only = 1, .secure = 1, .same_site = "Strict"};
    int ok = sb_http_set_cookie(req, "sb_session", "abc123", &a) == 0;
    int refused = sb_http_set_cookie(req, "x", "bad;value", NULL) == -1 &&
                  sb_http_set_cookie(req, "bad name", "v", NULL) == -1 &&
                  sb_http_set_header(req, "X-Evil", "a\r\nSet-Cookie: x=1") == -1 &&
                  sb_http_set_header(req, "X-Request-Id", "mine") == -1;
    sb_http_set_header(req, "Cache-Control", "private, max-age=60");
    const char *cookie = sb_http_cookie(req, "theme");
    return sb_http_respond_json(req, 200, json_pack("{s:b,s:b,s:s?}", "set", ok, "refused", refused,
                                                    "theme", cookie));
}

/* ---- gate ------------------------------------------------------------ */

static int gate(const sb_route *route, sb_server_request *req, void *ctx)
{
    (void)ctx;
    if (route->auth == SB_AUTH_PUBLIC)
        return 0;
    const char *auth = sb_http_header(req, "authorization"); /* case-insensitive */
    if (auth == NULL) {
        sb_http_respond_error(req, 401, "unauthenticated", "log in first");
        return 1;
    }
    if (strcmp(auth, "Bearer alice") == 0) {
        sb_http_set_identity(req, strdup("alice"), free);
        return 0;
    }
    if (strcmp(auth, "Bearer bob") == 0) {
        sb_http_set_identity(req, strdup("bob"), free);
        sb_http_respond_error(req, 403, "forbidden", "missing permission %s", route->permission);
        return 1;
    }
    if (strcmp(auth, "Bearer lazy") == 0)
        return 1; /* refuses without answering: the server must answer 403 */
    return 0;     /* lets it through without an identity: the server must answer 401 */
}

/* ---- fixture --------------------------------------------------------- */

const char *const *test_trusted_proxies;
size_t test_n_trusted_proxies;

void start_server(sb_http_gate g, int metrics, size_t body_limit, unsigned request_timeout_ms)
{
    http_global_init();
    const sb_route routes[] = {
        {"GET", "/api/v1/requests/{id}", SB_AUTH_PUBLIC, NULL, h_which, "by_id", "getRequest", NULL},
        {"DELETE", "/api/v1/requests/{id}", SB_AUTH_PUBLIC, NULL, h_which, "cancel", "cancelRequest", NULL},
        {"GET", "/api/v1/requests/inbox", SB_AUTH_PUBLIC, NULL, h_which, "inbox", "getInbox", NULL},
        {"GET", "/api/v1/teams/{id}/members/{user_id}", SB_AUTH_PUBLIC, NULL, h_members, NULL, "getMember", NULL},
        {"POST", "/api/v1/echo", SB_AUTH_PUBLIC, NULL, h_echo, NULL, "echo", NULL},
        {"POST", "/api/v1/upload", SB_AUTH_PUBLIC, NULL, h_upload, NULL, "upload", NULL},
        {"GET", "/api/v1/private", SB_AUTH_SESSION, "team.read", h_private, NULL, "private", NULL},
        {"GET", "/api/v1/agent-only", SB_AUTH_AGENT, NULL, h_private, NULL, "agentOnly", NULL},
        {"GET", "/api/v1/boom", SB_AUTH_PUBLIC, NULL, h_boom, NULL, "boom", NULL},
        {"GET", "/api/v1/silent", SB_AUTH_PUBLIC, NULL, h_silent, NULL, "silent", NULL},
        {"GET", "/api/v1/query", SB_AUTH_PUBLIC, NULL, h_query, NULL, "query", NULL},
        {"GET", "/api/v1/cookie", SB_AUTH_PUBLIC, NULL, h_cookie, NULL, "cookie", NULL},
        {"GET", "/api/v1/client-ip", SB_AUTH_PUBLIC, NULL, h_client_ip, NULL, "clientIp", NULL},
    };
    test_router = sb_router_new();
    sb_error err = {0};
    cr_assert_eq(sb_router_add_all(test_router, routes, sizeof routes / sizeof routes[0], &err), 0, "%s",
                 err.message);
    sb_http_config cfg = {.listen = "127.0.0.1:0", .threads = 4, .body_limit = body_limit,
                          .enable_metrics = metrics, .gate = g,
                          .request_timeout_ms = request_timeout_ms,
                          .trusted_proxies = test_trusted_proxies,
                          .n_trusted_proxies = test_n_trusted_proxies};
    cr_assert_eq(sb_http_server_start(&cfg, test_router, &test_server, &err), 0, "%s", err.message);
    test_port = sb_http_server_port(test_server);
    cr_assert_gt(test_port, 0);
}

void start_default(void) { start_server(NULL, 1, 1024, 0); }

void stop_server(void)
{
    cr_assert_eq(sb_http_server_stop(test_server, 2000), 0);
    sb_router_free(test_router);
}


json_t *body_json(const http_reply *r)
{
    json_error_t e;
    json_t *j = json_loads(r->body, 0, &e);
    cr_assert_not_null(j, "not JSON: '%s'", r->body);
    return j;
}

/* Asserts the exact error shape and returns the code (borrowed from j). */
void expect_error(const http_reply *r, long status, const char *code)
{
    cr_assert_eq(r->status, status, "status %ld body %s", r->status, r->body);
    json_t *j = body_json(r);
    cr_assert_eq(json_object_size(j), 1, "%s", r->body);
    json_t *e = json_object_get(j, "error");
    cr_assert_eq(json_object_size(e), 3, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(e, "code")), code);
    cr_assert_not_null(json_string_value(json_object_get(e, "message")));
    char id[256];
    cr_assert_not_null(http_reply_header(r, "X-Request-Id", id, sizeof id));
    cr_assert_str_eq(json_string_value(json_object_get(e, "request_id")), id);
    json_decref(j);
}

const char *field(json_t *j, const char *key) { return json_string_value(json_object_get(j, key)); }

void start_gated(void) { start_server(gate, 1, 1024, 0); }
void start_behind_proxy(void)
{
    static const char *const trusted[] = {"127.0.0.1", "10.0.0.0/8"};
    test_trusted_proxies = trusted;
    test_n_trusted_proxies = 2;
    start_server(NULL, 1, 1024, 0);
    test_trusted_proxies = NULL;
    test_n_trusted_proxies = 0;
}
void start_no_metrics(void) { start_server(NULL, 0, 1024, 0); }
void start_short_timeout(void) { start_server(NULL, 1, 1024, 300); }
