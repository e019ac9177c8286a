/* test_http_bodies.c — what a request carries, over real HTTP: body limits
 * (declared and chunked), JSON parsing and media types, query strings,
 * cookies and headers, many clients at once, and the receive time limit. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http/server.h"
#include "test_http_support.h"

TestSuite(http_bodies, .fini = stop_server);

/* ---- bodies ---------------------------------------------------------- */

Test(http_bodies, oversized_bodies_are_refused_unread, .init = start_default)
{
    char big[2048]; /* twice the 1024-byte limit */
    memset(big, 'x', sizeof big);
    http_reply r;
    http_call call = {.method = "POST", .body = big, .body_len = sizeof big};
    http_request(test_port, "/api/v1/upload", &call, &r);
    expect_error(&r, 413, "payload_too_large");
    http_reply_free(&r);
    call.chunked = 1; /* no Content-Length: refused as the bytes arrive */
    http_request(test_port, "/api/v1/upload", &call, &r);
    expect_error(&r, 413, "payload_too_large");
    http_reply_free(&r);
    cr_assert_eq(atomic_load(&handler_calls), 0, "a handler saw an oversized body");

    call.chunked = 0;
    call.body_len = 1024; /* exactly the limit is fine */
    http_request(test_port, "/api/v1/upload", &call, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "\"len\":1024") != NULL, "%s", r.body);
    http_reply_free(&r);
    call.chunked = 1;
    http_request(test_port, "/api/v1/upload", &call, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    http_reply_free(&r);
}

Test(http_bodies, json_bodies_are_checked, .init = start_default)
{
    const char *const json_ct[] = {"Content-Type: application/json", NULL};
    const char *const json_charset[] = {"Content-Type: Application/JSON; charset=utf-8", NULL};
    const char *const text_ct[] = {"Content-Type: text/plain", NULL};
    struct {
        const char *const *headers;
        const char *body;
        long status;
        const char *code;
    } cases[] = {
        {json_ct, "{\"a\": secretvalue}", 400, "invalid_json"},
        {json_ct, "{\"a\":1,\"a\":2}", 400, "invalid_json"},
        {json_ct, "", 400, "invalid_json"},
        {json_ct, "{\"a\":\"\xff\"}", 400, "invalid_json"},
        {text_ct, "{\"a\":1}", 415, "unsupported_media_type"},
        {NULL, "{\"a\":1}", 415, "unsupported_media_type"},
        {json_charset, "{\"a\":\"\xc3\xa9\"}", 200, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_call call = {.method = "POST", .headers = cases[i].headers, .body = cases[i].body,
                          .body_len = strlen(cases[i].body)};
        http_reply r;
        http_request(test_port, "/api/v1/echo", &call, &r);
        if (cases[i].code) {
            expect_error(&r, cases[i].status, cases[i].code);
            cr_assert_null(strstr(r.body, "secretvalue"), "the body was echoed: %s", r.body);
        } else {
            cr_assert_eq(r.status, 200, "%s", r.body);
            cr_assert_str_eq(r.body, "{\"got\":{\"a\":\"\xc3\xa9\"}}");
        }
        http_reply_free(&r);
    }
    http_reply r;
    http_call call = {.method = "POST", .headers = json_ct, .body = "{\n  \"a\": tru\n}", .body_len = 14};
    http_request(test_port, "/api/v1/echo", &call, &r);
    cr_assert(strstr(r.body, "line 2") != NULL, "position missing: %s", r.body);
    http_reply_free(&r);
}

/* ---- query strings, headers, cookies --------------------------------- */

Test(http_bodies, query_parameters, .init = start_default)
{
    http_reply r;
    http_get(test_port, "/api/v1/query?limit=10&tag=a&tag=b+c%21&flag&tag=%E2%9C%93", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.body, "{\"limit\":\"10\",\"tags\":[\"a\",\"b c!\",\"\xe2\x9c\x93\"],"
                             "\"count\":5,\"flag\":\"\"}");
    http_reply_free(&r);
    http_get(test_port, "/api/v1/query?tag=%ff", &r);
    expect_error(&r, 400, "invalid_query");
    http_reply_free(&r);
    http_get(test_port, "/api/v1/query?tag=%2", &r);
    expect_error(&r, 400, "invalid_query");
    http_reply_free(&r);
}

Test(http_bodies, cookies_and_headers, .init = start_default)
{
    const char *const hdrs[] = {"Cookie: a=1; theme=dark", NULL};
    http_call call = {.headers = hdrs};
    http_reply r;
    http_request(test_port, "/api/v1/cookie", &call, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.body, "{\"set\":true,\"refused\":true,\"theme\":\"dark\"}");
    char v[256];
    cr_assert_str_eq(http_reply_header(&r, "Set-Cookie", v, sizeof v),
                     "sb_session=abc123; Path=/; Max-Age=1800; HttpOnly; Secure; SameSite=Strict");
    cr_assert_str_eq(http_reply_header(&r, "Cache-Control", v, sizeof v), "private, max-age=60");
    cr_assert_null(http_reply_header(&r, "X-Evil", v, sizeof v));
    http_reply_free(&r);
}

/* ---- concurrency ----------------------------------------------------- */

static atomic_int answered_ok;

static void *client(void *arg)
{
    long t = (long)arg;
    void *h = http_handle_new();
    for (int i = 0; i < 25; i++) {
        char path[64], want[64];
        snprintf(path, sizeof path, "/api/v1/requests/t%ld-%d", t, i);
        snprintf(want, sizeof want, "\"id\":\"t%ld-%d\"", t, i);
        http_call call = {.handle = h};
        http_reply r;
        http_request(test_port, path, &call, &r);
        if (r.status == 200 && strstr(r.body, want) != NULL)
            atomic_fetch_add(&answered_ok, 1);
        http_reply_free(&r);
    }
    http_handle_free(h);
    return NULL;
}

Test(http_bodies, concurrent_requests_are_all_answered, .init = start_default)
{
    pthread_t th[8];
    for (long i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, client, (void *)i);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&answered_ok), 200);
}

/* ---- receive time limit ---------------------------------------------- */

Test(http_bodies, slow_uploads_are_cut_off, .init = start_short_timeout)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)test_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char *head = "POST /api/v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
    cr_assert_eq(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    long long start_ms = now_ms();
    int closed = 0;
    for (int i = 0; i < 40 && !closed; i++) {
        usleep(100000);
        if (send(fd, "xx", 2, MSG_NOSIGNAL) < 0)
            closed = 1;
        else {
            char buf[256];
            struct timeval tv = {0, 1000};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        }
    }
    close(fd);
    cr_assert(closed, "a 4 s trickle upload was not cut off");
    cr_assert_lt(now_ms() - start_ms, 3000);
    cr_assert_eq(atomic_load(&handler_calls), 0);
}

