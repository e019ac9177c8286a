/* test_http_malformed.c — malformed and oversized requests sent over raw
 * sockets: every error the server decides is the JSON error shape with its
 * content type and request id; the few that libmicrohttpd 0.9 answers by
 * itself (see server.h) keep their status and are recorded in the access
 * log with the status sent. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/server.h"
#include "test_http_raw.h"
#include "test_http_support.h"

static sb_router *router;
static sb_http_server *server;
static unsigned port;

static int h_ok(sb_server_request *req, void *ctx)
{
    (void)ctx;
    return sb_http_respond_json(req, 200, json_pack("{s:b}", "ok", 1));
}

static void start(void)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/ok", SB_AUTH_PUBLIC, NULL, h_ok, NULL, "ok", NULL},
        {"POST", "/api/v1/echo", SB_AUTH_PUBLIC, NULL, h_ok, NULL, "echo", NULL},
    };
    router = sb_router_new();
    sb_error err = {0};
    cr_assert_eq(sb_router_add_all(router, routes, 2, &err), 0, "%s", err.message);
    sb_http_config cfg = {.listen = "127.0.0.1:0", .threads = 2, .body_limit = 1024};
    cr_assert_eq(sb_http_server_start(&cfg, router, &server, &err), 0, "%s", err.message);
    port = sb_http_server_port(server);
}

static void stop(void)
{
    sb_http_server_stop(server, 1000);
    sb_router_free(router);
}

TestSuite(http_malformed, .init = start, .fini = stop, .timeout = 30);

/* Sends raw, reads the answer (the server closes or 1 s passes). */
static char *exchange(const char *raw)
{
    int fd = raw_connect(port, NULL);
    cr_assert_geq(fd, 0);
    raw_send_str(fd, raw);
    int closed;
    char *out = raw_read_all(fd, 1000, &closed);
    close(fd);
    return out;
}

static void expect_json_error(const char *raw, int status, const char *code)
{
    char *out = exchange(raw);
    raw_reply r;
    cr_assert_eq(raw_parse(out, &r), 0, "not an HTTP answer: '%.200s'", out);
    cr_assert_eq(r.status, status, "%.300s", out);
    cr_assert_str_eq(r.content_type, "application/json", "%.300s", out);
    json_error_t e;
    json_t *j = json_loads(r.body, 0, &e);
    cr_assert_not_null(j, "not JSON: %.300s", r.body);
    json_t *err = json_object_get(j, "error");
    cr_assert_eq(json_object_size(j), 1);
    cr_assert_eq(json_object_size(err), 3, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(err, "code")), code);
    cr_assert_not_null(json_string_value(json_object_get(err, "message")));
    cr_assert_str_eq(json_string_value(json_object_get(err, "request_id")), r.request_id);
    json_decref(j);
    free(out);
}

static char *with_header_of(size_t n)
{
    char *raw = malloc(n + 256);
    int k = snprintf(raw, 128, "GET /api/v1/ok HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(raw + k, 'a', n);
    snprintf(raw + k + n, 128, "\r\n\r\n");
    return raw;
}

Test(http_malformed, headers_over_the_limit_are_431_json)
{
    char *raw = with_header_of(12000); /* over 8 KiB, within the connection's memory */
    expect_json_error(raw, 431, "headers_too_large");
    free(raw);
    raw = with_header_of(7000); /* under the limit: served */
    char *out = exchange(raw);
    raw_reply r;
    cr_assert_eq(raw_parse(out, &r), 0);
    cr_assert_eq(r.status, 200, "%.200s", out);
    free(out);
    free(raw);
}

Test(http_malformed, a_long_target_is_414_json)
{
    char *raw = malloc(20000);
    int k = snprintf(raw, 20000, "GET /api/v1/ok?q=");
    memset(raw + k, 'b', 9000);
    snprintf(raw + k + 9000, 200, " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_json_error(raw, 414, "uri_too_long");
    free(raw);
}

Test(http_malformed, a_declared_body_over_the_limit_is_413_json)
{
    expect_json_error("POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413,
                      "payload_too_large");
    expect_json_error("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found");
    expect_json_error("DELETE /api/v1/ok HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed");
}

/* What libmicrohttpd 0.9 answers before any callback of ours can (server.h):
 * the status stays right and, once the request line was parsed (so the
 * request is ours to log), the access log records the status it sent. Its
 * fixed body cannot be replaced. A bad HTTP version is refused while the
 * request line is parsed, before the server hears of the request at all. */
Test(http_malformed, what_libmicrohttpd_answers_itself_keeps_its_status_and_is_logged)
{
    static const struct {
        const char *raw;
        int status;
        int logged;
    } cases[] = {
        {"GET /api/v1/ok HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400, 1},
        {"POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, 1},
        {"POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", 400, 1},
        {"GET /api/v1/ok HTTP/2.0\r\nHost: x\r\n\r\n", 505, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        log_capture_start();
        char *out = exchange(cases[i].raw);
        raw_reply r;
        cr_assert_eq(raw_parse(out, &r), 0, "case %zu: '%.200s'", i, out);
        cr_assert_eq(r.status, cases[i].status, "case %zu: %.200s", i, out);
        if (!cases[i].logged) {
            log_capture_stop();
            free(out);
            continue;
        }
        char want[64];
        snprintf(want, sizeof want, "\"status\":\"%d\"", cases[i].status);
        char *log = log_capture_wait("rejected_by_libmicrohttpd", 2000);
        log_capture_stop();
        cr_assert_not_null(log, "case %zu: the access log does not record it", i);
        cr_assert_not_null(strstr(log, want), "case %zu: %s", i, log);
        free(log);
        free(out);
    }
}
