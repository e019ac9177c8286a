/* test_http_lifecycle.c — start and stop: graceful shutdown (in-flight
 * requests finish, new connections are refused, /readyz turns 503), readiness
 * checks, parked (long-poll) requests answered from other threads, woken at
 * shutdown or cut off after the grace, TLS, and start-up refusals. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/server.h"
#include "test_http_raw.h"
#include "test_http_support.h"

static sb_router *lc_router;
static sb_http_server *lc_server;
static unsigned lc_port;

static atomic_int slow_entered, slow_release, ready_flag = 1, wake_calls, wake_answers;
static sb_server_request *_Atomic parked;

/* ---- handlers -------------------------------------------------------- */

static int h_slow(sb_server_request *req, void *ctx)
{
    (void)ctx;
    atomic_store(&slow_entered, 1);
    long long deadline = now_ms() + 8000;
    while (!atomic_load(&slow_release) && now_ms() < deadline)
        usleep(2000);
    return sb_http_respond_json(req, 200, json_pack("{s:s}", "slow", "done"));
}

static void on_wake(sb_server_request *req, void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&wake_calls, 1);
    if (atomic_load(&wake_answers)) {
        atomic_store(&parked, NULL);
        sb_http_respond_empty(req, 204);
        sb_http_resume(req);
    }
}

static int h_park(sb_server_request *req, void *ctx)
{
    (void)ctx;
    cr_assert_eq(sb_http_suspend(req, on_wake, NULL), 0);
    cr_assert_eq(sb_http_suspend(req, on_wake, NULL), -1, "parked twice");
    atomic_store(&parked, req);
    return 0;
}

static int h_park_inline(sb_server_request *req, void *ctx)
{
    (void)ctx;
    if (sb_http_suspend(req, NULL, NULL) != 0)
        return -1;
    /* answered and resumed before the handler even returns */
    sb_http_respond_json(req, 200, json_pack("{s:s}", "parked", "inline"));
    sb_http_resume(req);
    return 0;
}

/* Parks like a job claim, or (suspend refused: the server is stopping)
 * answers 409 at once. */
static int h_park_or_answer(sb_server_request *req, void *ctx)
{
    (void)ctx;
    if (sb_http_suspend(req, on_wake, NULL) != 0)
        return sb_http_respond_error(req, 409, sb_http_stopping(req) ? "stopping" : "other",
                                     "not parked");
    atomic_store(&parked, req);
    return 0;
}

static int check_db(void *ctx, char *why, size_t cap)
{
    (void)ctx;
    if (atomic_load(&ready_flag))
        return 0;
    snprintf(why, cap, "connection refused");
    return 1;
}

/* ---- fixture --------------------------------------------------------- */

static sb_router *make_router(void)
{
    const sb_route routes[] = {
        {"GET", "/api/v1/slow", SB_AUTH_PUBLIC, NULL, h_slow, NULL, "slow", NULL},
        {"POST", "/api/v1/park", SB_AUTH_PUBLIC, NULL, h_park, NULL, "park", NULL},
        {"GET", "/api/v1/park-inline", SB_AUTH_PUBLIC, NULL, h_park_inline, NULL, "parkInline", NULL},
        {"POST", "/api/v1/park-or-answer", SB_AUTH_PUBLIC, NULL, h_park_or_answer, NULL,
         "parkOrAnswer", NULL},
    };
    sb_router *r = sb_router_new();
    sb_error err = {0};
    cr_assert_eq(sb_router_add_all(r, routes, 4, &err), 0, "%s", err.message);
    return r;
}

static void start(void)
{
    http_global_init();
    lc_router = make_router();
    const sb_http_readiness checks[] = {{"database", check_db, NULL}};
    sb_http_config cfg = {.listen = "127.0.0.1:0", .threads = 2, .enable_metrics = 1,
                          .readiness = checks, .n_readiness = 1};
    sb_error err = {0};
    cr_assert_eq(sb_http_server_start(&cfg, lc_router, &lc_server, &err), 0, "%s", err.message);
    lc_port = sb_http_server_port(lc_server);
}

static pthread_t stop_thread;
static int stop_running;

static void teardown(void)
{
    if (stop_running) /* a failed test left its stop running */
        pthread_join(stop_thread, NULL);
    else if (lc_server != NULL)
        sb_http_server_stop(lc_server, 2000);
    sb_router_free(lc_router);
}

TestSuite(http_lifecycle, .init = start, .fini = teardown);

typedef struct async_call {
    pthread_t thread;
    const char *method, *path;
    http_reply reply;
} async_call;

static void *run_call(void *arg)
{
    async_call *c = arg;
    http_call call = {.method = c->method, .body = c->method && strcmp(c->method, "POST") == 0 ? "" : NULL,
                      .timeout_ms = 15000};
    http_request(lc_port, c->path, &call, &c->reply);
    return NULL;
}

static void call_async(async_call *c, const char *method, const char *path)
{
    c->method = method;
    c->path = path;
    pthread_create(&c->thread, NULL, run_call, c);
}

typedef struct async_stop {
    pthread_t thread;
    unsigned grace_ms;
    int rc;
    long long took_ms;
} async_stop;

static void *run_stop(void *arg)
{
    async_stop *s = arg;
    long long t0 = now_ms();
    s->rc = sb_http_server_stop(lc_server, s->grace_ms);
    s->took_ms = now_ms() - t0;
    return NULL;
}

static void stop_async(async_stop *s, unsigned grace_ms)
{
    s->grace_ms = grace_ms;
    pthread_create(&s->thread, NULL, run_stop, s);
    stop_thread = s->thread;
    stop_running = 1;
}

static void join_stop(async_stop *s)
{
    pthread_join(s->thread, NULL);
    stop_running = 0;
    lc_server = NULL;
}

static int wait_for(atomic_int *flag, long timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while (!atomic_load(flag) && now_ms() < deadline)
        usleep(1000);
    return atomic_load(flag);
}

static sb_server_request *wait_parked(long timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while (atomic_load(&parked) == NULL && now_ms() < deadline)
        usleep(1000);
    return atomic_load(&parked);
}

/* ---- graceful stop ---------------------------------------------------- */

Test(http_lifecycle, stop_finishes_in_flight_requests_and_refuses_new_connections)
{
    async_call slow;
    call_async(&slow, "GET", "/api/v1/slow");
    cr_assert(wait_for(&slow_entered, 3000), "the slow handler never started");
    async_stop stop;
    stop_async(&stop, 5000);
    /* new connections are refused while the slow request is still running */
    int refused = 0;
    long long deadline = now_ms() + 3000;
    while (!refused && now_ms() < deadline) {
        http_reply r;
        http_call call = {.timeout_ms = 500};
        http_request(lc_port, "/healthz", &call, &r);
        refused = r.curl_code == CURLE_COULDNT_CONNECT;
        http_reply_free(&r);
        if (!refused)
            usleep(2000);
    }
    cr_assert(refused, "a new connection was accepted during shutdown");
    /* at least the slow one: an attempt that connected just before the stop
     * may still wait behind it (libmicrohttpd's pool thread it landed on
     * runs the slow handler) */
    cr_assert_geq(sb_http_server_in_flight(lc_server), 1);
    atomic_store(&slow_release, 1);
    pthread_join(slow.thread, NULL);
    cr_assert_eq(slow.reply.curl_code, CURLE_OK);
    cr_assert_eq(slow.reply.status, 200);
    cr_assert_str_eq(slow.reply.body, "{\"slow\":\"done\"}");
    char v[32];
    cr_assert_str_eq(http_reply_header(&slow.reply, "Connection", v, sizeof v), "close");
    http_reply_free(&slow.reply);
    join_stop(&stop);
    cr_assert_eq(stop.rc, 0, "the in-flight request was cut off");
    cr_assert_lt(stop.took_ms, 5000);
}

Test(http_lifecycle, readyz_follows_the_checks)
{
    http_reply r;
    http_get(lc_port, "/readyz", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"status\":\"ready\"}");
    http_reply_free(&r);
    atomic_store(&ready_flag, 0);
    http_get(lc_port, "/readyz", &r);
    cr_assert_eq(r.status, 503);
    cr_assert_str_eq(r.body, "{\"status\":\"not_ready\",\"failures\":{\"database\":\"connection refused\"}}");
    http_reply_free(&r);
    atomic_store(&ready_flag, 1);
    http_get(lc_port, "/healthz", &r);
    cr_assert_str_eq(r.body, "{\"status\":\"ok\"}");
    http_reply_free(&r);
    http_get(lc_port, "/readyz", &r);
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);

    sb_error err = {0};
    sb_http_readiness dup = {"database", check_db, NULL};
    cr_assert_eq(sb_http_server_add_readiness(lc_server, &dup, &err), -1);
    cr_assert(strstr(err.message, "already registered") != NULL, "%s", err.message);
}

Test(http_lifecycle, readyz_turns_503_as_soon_as_stop_begins)
{
    void *keep = http_handle_new(); /* a connection opened before the stop */
    http_call call = {.handle = keep};
    http_reply r;
    http_request(lc_port, "/readyz", &call, &r);
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);

    async_call park;
    call_async(&park, "POST", "/api/v1/park"); /* holds the stop open without a thread */
    sb_server_request *req = wait_parked(3000);
    cr_assert_not_null(req);
    async_stop stop;
    stop_async(&stop, 5000);
    cr_assert(wait_for(&wake_calls, 3000), "the parked request was not woken");

    http_request(lc_port, "/readyz", &call, &r);
    cr_assert_eq(r.curl_code, CURLE_OK, "keep-alive connection lost: %d", r.curl_code);
    cr_assert_eq(r.status, 503);
    cr_assert_str_eq(r.body, "{\"status\":\"not_ready\",\"failures\":{\"shutdown\":\"the server is shutting down\"}}");
    http_reply_free(&r);
    http_handle_free(keep);

    cr_assert_eq(sb_http_respond_json(req, 200, json_pack("{s:s}", "parked", "answered")), 0);
    sb_http_resume(req);
    pthread_join(park.thread, NULL);
    cr_assert_eq(park.reply.status, 200);
    cr_assert_str_eq(park.reply.body, "{\"parked\":\"answered\"}");
    http_reply_free(&park.reply);
    join_stop(&stop);
    cr_assert_eq(stop.rc, 0);
}

/* ---- parked requests -------------------------------------------------- */

Test(http_lifecycle, a_parked_request_is_answered_from_another_thread)
{
    async_call park;
    call_async(&park, "POST", "/api/v1/park");
    sb_server_request *req = wait_parked(3000);
    cr_assert_not_null(req);
    usleep(50000);
    cr_assert_eq(sb_http_server_in_flight(lc_server), 1);
    /* the server thread is free meanwhile */
    http_reply r;
    http_get(lc_port, "/healthz", &r);
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);
    sb_http_set_header(req, "X-Job", "42");
    cr_assert_eq(sb_http_respond_json(req, 200, json_pack("{s:i}", "job", 42)), 0);
    sb_http_resume(req);
    pthread_join(park.thread, NULL);
    cr_assert_eq(park.reply.status, 200);
    cr_assert_str_eq(park.reply.body, "{\"job\":42}");
    char v[64];
    cr_assert_str_eq(http_reply_header(&park.reply, "X-Job", v, sizeof v), "42");
    cr_assert_not_null(http_reply_header(&park.reply, "X-Request-Id", v, sizeof v));
    http_reply_free(&park.reply);
}

Test(http_lifecycle, an_answer_may_come_before_the_handler_returns)
{
    for (int i = 0; i < 20; i++) {
        http_reply r;
        http_get(lc_port, "/api/v1/park-inline", &r);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(r.body, "{\"parked\":\"inline\"}");
        http_reply_free(&r);
    }
}

Test(http_lifecycle, the_wake_callback_lets_owners_answer_at_shutdown)
{
    atomic_store(&wake_answers, 1);
    async_call park;
    call_async(&park, "POST", "/api/v1/park");
    cr_assert_not_null(wait_parked(3000));
    async_stop stop;
    stop_async(&stop, 5000);
    pthread_join(park.thread, NULL);
    cr_assert_eq(park.reply.status, 204);
    http_reply_free(&park.reply);
    join_stop(&stop);
    cr_assert_eq(stop.rc, 0);
    cr_assert_lt(stop.took_ms, 2000);
}

Test(http_lifecycle, requests_still_parked_after_the_grace_get_503)
{
    async_call park;
    call_async(&park, "POST", "/api/v1/park");
    sb_server_request *req = wait_parked(3000);
    cr_assert_not_null(req);
    async_stop stop;
    stop_async(&stop, 300);
    pthread_join(park.thread, NULL);
    cr_assert_eq(park.reply.status, 503);
    cr_assert(strstr(park.reply.body, "\"code\":\"shutting_down\"") != NULL, "%s", park.reply.body);
    http_reply_free(&park.reply);
    join_stop(&stop);
    cr_assert_eq(stop.rc, 1);
    /* the owner wakes up late: its answer is ignored and resume only
     * releases its reference (the sanitizer run checks there is no use
     * after free) */
    cr_assert_eq(sb_http_respond_empty(req, 204), -1);
    sb_http_resume(req);
}

/* libmicrohttpd aborts the process when it is stopped with a suspended
 * connection; a long-poll arriving on a kept-alive connection after the
 * parked ones were woken would be one. So nothing parks once a stop began. */
Test(http_lifecycle, nothing_parks_once_the_stop_began_a_kept_alive_long_poll_is_answered_at_once)
{
    int closed = 0, fd = raw_connect(lc_port, NULL);
    cr_assert_geq(fd, 0);
    /* the connection is open and kept alive before the stop */
    cr_assert_eq(raw_send_str(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    char *first = raw_read_all(fd, 300, &closed);
    cr_assert(first && strstr(first, " 200 "), "%s", first ? first : "(nothing)");
    free(first);
    async_call held; /* parked, its owner never answers: holds the stop in its grace */
    call_async(&held, "POST", "/api/v1/park");
    sb_server_request *holder = wait_parked(3000);
    cr_assert_not_null(holder);
    atomic_store(&parked, NULL);
    async_stop stop;
    stop_async(&stop, 3000);
    long long deadline = now_ms() + 3000;
    while (!sb_http_server_is_stopping(lc_server) && now_ms() < deadline)
        usleep(1000);
    cr_assert_eq(raw_send_str(fd, "POST /api/v1/park-or-answer HTTP/1.1\r\nHost: t\r\n"
                                  "Content-Length: 0\r\n\r\n"),
                 0);
    long long asked = now_ms();
    char *second = raw_read_all(fd, 2000, &closed);
    long long took = now_ms() - asked;
    cr_assert(second && strstr(second, " 409 ") && strstr(second, "\"code\":\"stopping\""),
              "the long-poll was not answered at once (closed %d): %s", closed,
              second ? second : "(nothing)");
    cr_assert_lt(took, 2000);
    cr_assert_null(atomic_load(&parked), "a request parked during the stop");
    free(second);
    close(fd);
    pthread_join(held.thread, NULL); /* cut off at the end of the grace */
    cr_assert_eq(held.reply.status, 503);
    http_reply_free(&held.reply);
    join_stop(&stop);
    cr_assert_eq(stop.rc, 1);
    sb_http_resume(holder); /* the owner lets go of its reference */
}

/* ---- TLS and start-up refusals ---------------------------------------- */

Test(http_lifecycle, tls_serves_https_only)
{
    if (access("/usr/bin/openssl", X_OK) != 0)
        cr_skip_test("openssl is not installed to make a test certificate");
    char dir[] = "/tmp/sb_http_tls_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char cmd[1024], cert[128], key[128];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s "
             ">/dev/null 2>&1", key, cert);
    cr_assert_eq(system(cmd), 0, "openssl failed");
    const sb_http_config cfg = {.listen = "127.0.0.1:0", .tls_cert_path = cert, .tls_key_path = key};
    sb_http_server *tls = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_http_server_start(&cfg, lc_router, &tls, &err), 0, "%s", err.message);
    unsigned tls_port = sb_http_server_port(tls);
    http_call call = {.tls = 1, .ca_file = cert};
    http_reply r;
    http_request(tls_port, "/healthz", &call, &r);
    cr_assert_eq(r.curl_code, CURLE_OK, "curl error %d", r.curl_code);
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);
    http_get(tls_port, "/healthz", &r); /* plain HTTP gets no answer */
    cr_assert_neq(r.status, 200);
    http_reply_free(&r);
    sb_http_server_stop(tls, 1000);

    const sb_http_config half = {.listen = "127.0.0.1:0", .tls_cert_path = cert};
    cr_assert_eq(sb_http_server_start(&half, lc_router, &tls, &err), -1);
    cr_assert(strstr(err.message, "both a certificate and a key") != NULL, "%s", err.message);
    const sb_http_config swapped = {.listen = "127.0.0.1:0", .tls_cert_path = key, .tls_key_path = cert};
    cr_assert_eq(sb_http_server_start(&swapped, lc_router, &tls, &err), -1);
    cr_assert(strstr(err.message, "TLS") != NULL, "%s", err.message);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

Test(http_lifecycle, start_refuses_bad_configurations)
{
    sb_http_server *other = NULL;
    sb_error err = {0};
    const char *bad[] = {"nonsense", "127.0.0.1:99999", "127.0.0.1:", "[::1:80", "127.0.0.1:8x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_http_config cfg = {.listen = bad[i]};
        cr_assert_eq(sb_http_server_start(&cfg, lc_router, &other, &err), -1, "%s", bad[i]);
        cr_assert(strstr(err.message, "is not host:port") != NULL, "%s", err.message);
    }
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%u", lc_port);
    sb_http_config cfg = {.listen = taken};
    cr_assert_eq(sb_http_server_start(&cfg, lc_router, &other, &err), -1);
    cr_assert(strstr(err.message, "cannot listen on") != NULL, "%s", err.message);

    sb_router *clash = sb_router_new();
    const sb_route health = {"GET", "/healthz", SB_AUTH_PUBLIC, NULL, h_slow, NULL, "myHealth", NULL};
    cr_assert_eq(sb_router_add(clash, &health, &err), 0);
    cfg.listen = "127.0.0.1:0";
    cr_assert_eq(sb_http_server_start(&cfg, clash, &other, &err), -1);
    cr_assert(strstr(err.message, "collides with the server's built-in") != NULL, "%s", err.message);
    sb_router_free(clash);
    cr_assert_null(other);
}
