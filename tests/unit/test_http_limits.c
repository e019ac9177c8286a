/* test_http_limits.c — connection limits over raw sockets: one address
 * cannot take every connection (per-address limit), a client trickling its
 * header a byte at a time is closed at the header deadline while another
 * client (another loopback address) is served promptly, and a request whose
 * header is complete — a parked long-poll — is never cut by that deadline. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/server.h"
#include "test_http_raw.h"
#include "test_http_support.h"

#define PER_IP 8
#define GLOBAL 16
#define HEADER_TIMEOUT_MS 1500

static sb_router *router;
static sb_http_server *server;
static unsigned port;
static sb_server_request *_Atomic parked;

static int h_ok(sb_server_request *req, void *ctx)
{
    (void)ctx;
    return sb_http_respond_json(req, 200, json_pack("{s:b}", "ok", 1));
}

static int h_park(sb_server_request *req, void *ctx)
{
    (void)ctx;
    cr_assert_eq(sb_http_suspend(req, NULL, NULL), 0);
    atomic_store(&parked, req);
    return 0;
}

static void start(void)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/ok", SB_AUTH_PUBLIC, NULL, h_ok, NULL, "ok", NULL},
        {"GET", "/api/v1/park", SB_AUTH_PUBLIC, NULL, h_park, NULL, "park", NULL},
    };
    router = sb_router_new();
    sb_error err = {0};
    cr_assert_eq(sb_router_add_all(router, routes, 2, &err), 0, "%s", err.message);
    sb_http_config cfg = {.listen = "127.0.0.1:0", .threads = 2, .connection_limit = GLOBAL,
                          .per_ip_connection_limit = PER_IP, .header_timeout_ms = HEADER_TIMEOUT_MS};
    cr_assert_eq(sb_http_server_start(&cfg, router, &server, &err), 0, "%s", err.message);
    port = sb_http_server_port(server);
}

static void stop(void)
{
    sb_http_server_stop(server, 1000);
    sb_router_free(router);
}

TestSuite(http_limits, .init = start, .fini = stop, .timeout = 30);

/* A GET from 127.0.0.2 answered 200 within ms; returns the time it took. */
static long long served_from_other_address(long ms)
{
    long long t0 = now_ms();
    int fd = raw_connect(port, "127.0.0.2");
    cr_assert_geq(fd, 0, "cannot connect from 127.0.0.2");
    raw_send_str(fd, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    int closed;
    char *out = raw_read_all(fd, ms, &closed);
    raw_reply r;
    cr_assert_eq(raw_parse(out, &r), 0, "no answer from the server for 127.0.0.2: '%s'", out);
    cr_assert_eq(r.status, 200, "%s", out);
    free(out);
    close(fd);
    return now_ms() - t0;
}

Test(http_limits, trickling_clients_are_cut_and_others_are_served)
{
    /* one address tries to take every connection, sending a header byte now and then */
    int slow[GLOBAL];
    size_t n = 0;
    for (; n < GLOBAL; n++) {
        slow[n] = raw_connect(port, "127.0.0.1");
        cr_assert_geq(slow[n], 0);
        raw_send_str(slow[n], "G");
    }
    long long start_ms = now_ms();
    /* only PER_IP of them are kept: the rest are closed at once */
    int refused = 0;
    for (size_t i = PER_IP; i < GLOBAL; i++)
        refused += raw_wait_closed(slow[i], 1000);
    cr_assert_eq(refused, GLOBAL - PER_IP, "connections over the per-address limit are closed (%d of %d)",
                 refused, GLOBAL - PER_IP);
    cr_assert_lt(served_from_other_address(2000), 1000, "another client is served promptly");

    /* keep trickling; each kept one must be closed near the header deadline */
    const char *line = "ET /api/v1/ok HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    size_t pos = 0;
    int open_left = PER_IP;
    int closed_at[PER_IP] = {0};
    while (open_left > 0 && now_ms() - start_ms < HEADER_TIMEOUT_MS + 3000) {
        for (size_t i = 0; i < PER_IP; i++) {
            if (closed_at[i])
                continue;
            char byte = line[pos < strlen(line) ? pos : strlen(line) - 1];
            if (raw_send(slow[i], &byte, 1) != 0 || raw_wait_closed(slow[i], 1)) {
                closed_at[i] = (int)(now_ms() - start_ms);
                open_left--;
            }
        }
        pos++;
        usleep(100000); /* the client's trickle rate, not synchronisation */
    }
    cr_assert_eq(open_left, 0, "%d trickling connection(s) still open %d ms after the header deadline",
                 open_left, 3000);
    for (size_t i = 0; i < PER_IP; i++)
        cr_assert_geq(closed_at[i], HEADER_TIMEOUT_MS - 200, "closed before its deadline (%d ms)", closed_at[i]);
    cr_assert_lt(served_from_other_address(2000), 1000, "still served after the cut");
    for (size_t i = 0; i < GLOBAL; i++)
        close(slow[i]);
}

Test(http_limits, a_complete_header_is_never_cut_by_the_header_deadline)
{
    int fd = raw_connect(port, NULL);
    raw_send_str(fd, "GET /api/v1/park HTTP/1.1\r\nHost: x\r\n\r\n");
    long long deadline = now_ms() + 5000;
    while (atomic_load(&parked) == NULL && now_ms() < deadline)
        usleep(1000);
    sb_server_request *req = atomic_load(&parked);
    cr_assert_not_null(req, "the request was not parked");
    /* parked well past the header deadline: still open */
    cr_assert_not(raw_wait_closed(fd, 2 * HEADER_TIMEOUT_MS), "a parked request was cut");
    sb_http_respond_json(req, 200, json_pack("{s:s}", "job", "none"));
    sb_http_resume(req);
    int closed;
    char *out = raw_read_all(fd, 1000, &closed);
    raw_reply r;
    cr_assert_eq(raw_parse(out, &r), 0, "%s", out);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "\"job\":\"none\""), "%s", out);
    free(out);
    /* and the kept-alive connection is served again */
    raw_send_str(fd, "GET /api/v1/ok HTTP/1.1\r\nHost: x\r\n\r\n");
    out = raw_read_all(fd, 500, &closed);
    cr_assert_eq(raw_parse(out, &r), 0, "%s", out);
    cr_assert_eq(r.status, 200);
    free(out);
    close(fd);
}
