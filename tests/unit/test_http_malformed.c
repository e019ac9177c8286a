/* test_http_malformed.c — malformed and oversized requests sent over raw
 * sockets: every error the server decides is the JSON error shape with its
 * content type and request id, including the few that libmicrohttpd 0.9
 * answers by itself (see http/mhd_error_bodies.c), which keep their status
 * and are recorded in the access log with the status sent. */
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

#define LOOKALIKE "<html><head><title>Request malformed</title></head><body>ours</body></html>"

static int h_lookalike(sb_server_request *req, void *ctx)
{
    (void)ctx;
    return sb_http_respond_raw(req, 200, "text/html", LOOKALIKE, sizeof LOOKALIKE - 1);
}

static void start(void)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/ok", SB_AUTH_PUBLIC, NULL, h_ok, NULL, "ok", NULL},
        {"POST", "/api/v1/echo", SB_AUTH_PUBLIC, NULL, h_ok, NULL, "echo", NULL},
        {"GET", "/api/v1/lookalike", SB_AUTH_PUBLIC, NULL, h_lookalike, NULL, "lookalike", NULL},
    };
    router = sb_router_new();
    sb_error err = {0};
    cr_assert_eq(sb_router_add_all(router, routes, 3, &err), 0, "%s", err.message);
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
    if (strncmp(r.body, "HTTP/1.", 7) == 0) {
        /* libmicrohttpd 0.9.75 writes the header block of its bad
         * Content-Length answer twice (its bug: the stock shared library
         * does the same); the body follows the second, which must be the
         * same answer */
        raw_reply again;
        cr_assert_eq(raw_parse(r.body, &again), 0, "%.300s", out);
        cr_assert_eq(again.status, status);
        cr_assert_str_eq(again.request_id, r.request_id);
        r = again;
    }
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
    /* over the connection's memory (twice the limit): libmicrohttpd's own
     * 431, in our shape (http/mhd_error_bodies.c) */
    raw = with_header_of(40000);
    expect_json_error(raw, 431, "headers_too_large");
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

/* What libmicrohttpd answers by itself, before any callback runs (see
 * http/mhd_error_bodies.c): its status, and our JSON shape instead of its
 * HTML page; the access log records the status it sent (when the request
 * line had been parsed, so the request is known to us). */
Test(http_malformed, what_libmicrohttpd_answers_itself_is_json_and_logged)
{
    static const struct {
        const char *raw;
        int status;
        const char *code;
        int logged;
    } cases[] = {
        {"GET /api/v1/ok HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400, "malformed_request", 1},
        {"POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400,
         "invalid_content_length", 1},
        {"POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", 400,
         "malformed_chunked_body", 1},
        {"POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
         413, "body_too_large", 1},
        {"GET /api/v1/ok HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        log_capture_start();
        expect_json_error(cases[i].raw, cases[i].status, cases[i].code);
        if (!cases[i].logged) {
            log_capture_stop();
            continue;
        }
        char want[64];
        snprintf(want, sizeof want, "\"status\":\"%d\"", cases[i].status);
        char *log = log_capture_wait("rejected_by_libmicrohttpd", 2000);
        log_capture_stop();
        cr_assert_not_null(log, "case %zu: the access log does not record it", i);
        cr_assert_not_null(strstr(log, want), "case %zu: %s", i, log);
        free(log);
    }
}

/* Our own answers are never rewritten: a body that starts like one of
 * libmicrohttpd's pages, sent by a handler, arrives as sent. */
Test(http_malformed, a_handlers_own_html_is_never_rewritten)
{
    char *out = exchange("GET /api/v1/lookalike HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    raw_reply r;
    cr_assert_eq(raw_parse(out, &r), 0, "'%.200s'", out);
    cr_assert_eq(r.status, 200, "%.300s", out);
    cr_assert_str_eq(r.content_type, "text/html");
    cr_assert_str_eq(r.body, LOOKALIKE);
    free(out);
}
