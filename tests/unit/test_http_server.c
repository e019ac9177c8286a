/* test_http_server.c — the server over real HTTP on loopback (libcurl as the
 * client): routing, path parameters, HEAD, default deny and the gate, the
 * JSON error shape, request ids, standard headers, generic 5xx bodies. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/server.h"
#include "test_http_support.h"

TestSuite(http_server, .fini = stop_server);

/* ---- routing --------------------------------------------------------- */

Test(http_server, literal_routes_win_and_matching_is_exact, .init = start_default)
{
    http_reply r;
    http_get(test_port, "/api/v1/requests/inbox", &r);
    cr_assert_eq(r.status, 200);
    json_t *j = body_json(&r);
    cr_assert_str_eq(field(j, "route"), "inbox");
    json_decref(j);
    http_reply_free(&r);

    http_get(test_port, "/api/v1/requests/r-17", &r);
    j = body_json(&r);
    cr_assert_str_eq(field(j, "route"), "by_id");
    cr_assert_str_eq(field(j, "id"), "r-17");
    json_decref(j);
    http_reply_free(&r);

    const char *misses[] = {"/api/v1/requests/inbox/", "/api/v1/requests/", "/API/v1/requests/inbox",
                            "/nope"};
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++) {
        http_get(test_port, misses[i], &r);
        expect_error(&r, 404, "not_found");
        http_reply_free(&r);
    }
}

Test(http_server, method_not_allowed_carries_allow, .init = start_default)
{
    http_reply r;
    http_call del = {.method = "DELETE"};
    http_request(test_port, "/api/v1/requests/inbox", &del, &r);
    expect_error(&r, 405, "method_not_allowed");
    char allow[128];
    cr_assert_str_eq(http_reply_header(&r, "Allow", allow, sizeof allow), "GET, HEAD");
    http_reply_free(&r);

    http_call put = {.method = "PUT", .body = "{}", .body_len = 2};
    http_request(test_port, "/api/v1/requests/9", &put, &r);
    expect_error(&r, 405, "method_not_allowed");
    cr_assert_str_eq(http_reply_header(&r, "Allow", allow, sizeof allow), "GET, HEAD, DELETE");
    http_reply_free(&r);

    http_request(test_port, "/api/v1/requests/9", &del, &r);
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);

    http_call post = {.method = "POST", .body = "{}", .body_len = 2};
    http_request(test_port, "/healthz", &post, &r);
    expect_error(&r, 405, "method_not_allowed");
    cr_assert_str_eq(http_reply_header(&r, "Allow", allow, sizeof allow), "GET, HEAD");
    http_reply_free(&r);
}

Test(http_server, path_parameters_are_decoded_and_checked, .init = start_default)
{
    http_reply r;
    http_get(test_port, "/api/v1/teams/t%2F1/members/u%C3%A9", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = body_json(&r);
    cr_assert_str_eq(field(j, "id"), "t/1");
    cr_assert_str_eq(field(j, "user_id"), "u\xc3\xa9");
    json_decref(j);
    http_reply_free(&r);

    const char *bad[] = {"/api/v1/requests/%ff", "/api/v1/requests/%C0%80", "/api/v1/requests/a%00",
                         "/api/v1/requests/%zz"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_get(test_port, bad[i], &r);
        expect_error(&r, 400, "invalid_path");
        http_reply_free(&r);
    }
}

Test(http_server, head_answers_headers_only, .init = start_default)
{
    http_reply r;
    http_call head = {.method = "HEAD"};
    http_request(test_port, "/api/v1/requests/inbox", &head, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 0);
    char v[64];
    cr_assert_str_eq(http_reply_header(&r, "Content-Type", v, sizeof v), "application/json");
    http_reply_free(&r);
}

/* ---- authentication -------------------------------------------------- */

Test(http_server, without_a_gate_only_public_routes_answer, .init = start_default)
{
    http_reply r;
    const char *const alice[] = {"Authorization: Bearer alice", NULL};
    http_call call = {.headers = alice};
    http_request(test_port, "/api/v1/private", &call, &r);
    expect_error(&r, 401, "unauthenticated");
    http_reply_free(&r);
    http_request(test_port, "/api/v1/agent-only", &call, &r);
    expect_error(&r, 401, "unauthenticated");
    http_reply_free(&r);
    http_get(test_port, "/api/v1/requests/inbox", &r);
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);
}

Test(http_server, the_gate_decides_and_fails_closed, .init = start_gated)
{
    struct {
        const char *header;
        long status;
        const char *code;
    } cases[] = {
        {NULL, 401, "unauthenticated"},
        {"Authorization: Bearer bob", 403, "forbidden"},
        {"Authorization: Bearer lazy", 403, "forbidden"},
        {"Authorization: Bearer noident", 401, "unauthenticated"},
    };
    http_reply r;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const hdrs[] = {cases[i].header, NULL};
        http_call call = {.headers = hdrs};
        http_request(test_port, "/api/v1/private", &call, &r);
        expect_error(&r, cases[i].status, cases[i].code);
        http_reply_free(&r);
    }
    const char *const alice[] = {"Authorization: Bearer alice", NULL};
    http_call call = {.headers = alice};
    http_request(test_port, "/api/v1/private", &call, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = body_json(&r);
    cr_assert_str_eq(field(j, "user"), "alice");
    json_decref(j);
    http_reply_free(&r);
}

/* ---- errors and request ids ------------------------------------------ */

static int is_hex32(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

Test(http_server, request_ids_are_echoed_generated_or_replaced, .init = start_default)
{
    char long_ok[129], too_long[130], id[256];
    memset(long_ok, 'a', 128);
    long_ok[128] = '\0';
    memset(too_long, 'b', 129);
    too_long[129] = '\0';
    char h_ok[200], h_long_ok[200], h_too_long[200];
    snprintf(h_ok, sizeof h_ok, "X-Request-Id: trace.A_1-b");
    snprintf(h_long_ok, sizeof h_long_ok, "X-Request-Id: %s", long_ok);
    snprintf(h_too_long, sizeof h_too_long, "X-Request-Id: %s", too_long);
    struct {
        const char *header;
        const char *expect; /* NULL = a fresh 32-hex id */
    } cases[] = {
        {h_ok, "trace.A_1-b"},    {h_long_ok, long_ok}, {h_too_long, NULL},
        {"X-Request-Id: has space", NULL}, {"X-Request-Id: semi;colon", NULL}, {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const hdrs[] = {cases[i].header, NULL};
        http_call call = {.headers = hdrs};
        http_reply r;
        http_request(test_port, "/nope", &call, &r); /* an error body carries the id too */
        expect_error(&r, 404, "not_found");
        cr_assert_not_null(http_reply_header(&r, "X-Request-Id", id, sizeof id));
        if (cases[i].expect)
            cr_assert_str_eq(id, cases[i].expect);
        else
            cr_assert(is_hex32(id), "case %zu: '%s' is not a fresh id", i, id);
        http_reply_free(&r);
    }
}

Test(http_server, every_response_has_the_standard_headers, .init = start_default)
{
    const char *paths[] = {"/api/v1/requests/inbox", "/nope", "/healthz", "/metrics"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_reply r;
        http_get(test_port, paths[i], &r);
        char v[256];
        cr_assert_not_null(http_reply_header(&r, "X-Request-Id", v, sizeof v), "%s", paths[i]);
        cr_assert_str_eq(http_reply_header(&r, "Cache-Control", v, sizeof v), "no-store");
        cr_assert_str_eq(http_reply_header(&r, "X-Content-Type-Options", v, sizeof v), "nosniff");
        cr_assert_not_null(http_reply_header(&r, "Content-Type", v, sizeof v), "%s", paths[i]);
        http_reply_free(&r);
    }
}

Test(http_server, server_errors_have_generic_bodies, .init = start_default)
{
    log_capture_start();
    http_reply r;
    http_get(test_port, "/api/v1/boom", &r);
    expect_error(&r, 500, "db_failure");
    json_t *j = body_json(&r);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
                     "internal error");
    json_decref(j);
    cr_assert_null(strstr(r.body, "hunter2"));
    cr_assert_null(strstr(r.body, "topsecret"));
    char id[256];
    http_reply_header(&r, "X-Request-Id", id, sizeof id);
    /* the detail is in the error log, with the request id */
    char *log = log_capture_wait("query failed", 2000);
    cr_assert_not_null(log, "the detail was not logged");
    cr_assert(strstr(log, id) != NULL);
    cr_assert(strstr(log, "\"level\":\"error\"") != NULL);
    free(log);
    http_reply_free(&r);

    http_get(test_port, "/api/v1/silent", &r);
    expect_error(&r, 500, "internal_error");
    cr_assert(strstr(r.body, "\"message\":\"internal error\"") != NULL, "%s", r.body);
    http_reply_free(&r);
    log_capture_stop();
}

