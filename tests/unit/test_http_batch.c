/* test_http_batch.c — host->http_batch (ABI 1.1): independent requests run
 * concurrently over real loopback HTTP against tests/support/http_fixture.py.
 * Outcomes come back in request order, one failing request fails only
 * itself, the parallelism bound holds (the fixture counts requests in
 * flight), bodies land in secure memory and are zeroed, and every URL is
 * held to the same policy as host->http (plain http only to loopback). */
#include "../support/abi_outputs.h"
#include "../support/http_fixture_process.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/http_batch.h"
#include "plugin/http_client.h"
#include "util/redact.h"

static sb_test_http_fixture fixture;
static const sb_host_api *host;

static void setup(void)
{
    sb_test_http_fixture_start(&fixture);
    host = sb_host_api_table();
}

static void teardown(void)
{
    sb_http_batch_set_parallelism(SB_HTTP_BATCH_DEFAULT_PARALLELISM);
    sb_test_http_fixture_stop(&fixture);
}
TestSuite(http_batch, .init = setup, .fini = teardown);

#define MAX_REQS 32

/* Requests built from "METHOD url-or-/path" specs; a /path is on the fixture. */
typedef struct reqs {
    char urls[MAX_REQS][256];
    sb_http_request req[MAX_REQS];
    const sb_http_request *ptr[MAX_REQS];
    size_t n;
} reqs;

static sb_http_request *add(reqs *r, const char *method, const char *where, uint32_t flags)
{
    cr_assert_lt(r->n, MAX_REQS);
    size_t i = r->n++;
    if (where[0] == '/')
        snprintf(r->urls[i], sizeof r->urls[i], "http://127.0.0.1:%d%s", fixture.port, where);
    else
        snprintf(r->urls[i], sizeof r->urls[i], "%s", where);
    r->req[i] = (sb_http_request){.struct_size = sizeof(sb_http_request), .flags = flags, .method = method,
                                  .url = r->urls[i], .timeout_ms = 5000, .metric_op = "test"};
    r->ptr[i] = &r->req[i];
    return &r->req[i];
}

static sb_http_batch *run_batch(reqs *r, int lists_names_only, int64_t deadline_ms)
{
    sb_call_ctx call;
    sb_call_begin(&call, "test", "batch", NULL, deadline_ms);
    call.lists_names_only = lists_names_only;
    sb_http_batch *b = NULL;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(host->http_batch(&call.call, r->ptr, r->n, &b, &res), SB_OK, "%s", res.message);
    cr_assert_not_null(b);
    return b;
}

/* The i-th outcome's body as text ("" when it failed). */
static const char *body_of(const sb_http_batch *b, size_t i, const sb_result **out)
{
    const sb_http_response *resp = NULL;
    const sb_result *r = host->http_batch_result(b, i, &resp);
    cr_assert_not_null(r, "outcome %zu", i);
    *out = r;
    if (resp == NULL)
        return "";
    size_t len;
    return (const char *)host->secure_data(resp->body, &len);
}

static int fixture_concurrency(void)
{
    reqs r = {0};
    add(&r, "GET", "/concurrency", 0);
    sb_http_batch *b = run_batch(&r, 0, 5000);
    const sb_result *res;
    int seen = atoi(body_of(b, 0, &res));
    host->http_batch_free(b);
    return seen;
}

Test(http_batch, outcomes_come_back_in_request_order_and_a_failure_is_only_its_own)
{
    reqs r = {0};
    add(&r, "GET", "/concurrent/400?id=slow-first", 0); /* finishes last */
    add(&r, "GET", "/concurrent/10?id=fast-second", 0);
    add(&r, "GET", "/status/503", 0);                    /* an HTTP status: the plugin maps it */
    add(&r, "GET", "http://127.0.0.1:9/", 0);            /* connection refused */
    add(&r, "GET", "http://example.invalid/", 0);        /* plain http off loopback */
    add(&r, "GET", "/big/5000", 0)->max_response_bytes = 1000;
    add(&r, "GET", "/concurrent/10?id=fast-last", 0);
    sb_http_batch *b = run_batch(&r, 0, 10000);
    const sb_result *res;
    cr_assert_str_eq(body_of(b, 0, &res), "slow-first");
    cr_assert_eq(res->status, SB_OK);
    cr_assert_str_eq(body_of(b, 1, &res), "fast-second");
    const sb_http_response *resp;
    res = host->http_batch_result(b, 2, &resp);
    cr_assert_eq(res->status, SB_OK);
    cr_assert_eq(resp->status, 503, "statuses are returned, not mapped");
    cr_assert_str_eq(host->http_header(resp, "content-length"), "6", "headers are read as http()'s");
    body_of(b, 3, &res);
    cr_assert_eq(res->status, SB_E_UNAVAILABLE, "%s", res->message);
    body_of(b, 4, &res);
    cr_assert_eq(res->status, SB_E_CONFIG, "%s", res->message);
    cr_assert_not_null(strstr(res->message, "plain http to http://example.invalid/ refused"), "%s", res->message);
    cr_assert_str_eq(body_of(b, 5, &res), "", "a failed request has no response");
    cr_assert_eq(res->status, SB_E_TOO_LARGE, "%s", res->message);
    cr_assert_not_null(strstr(res->message, "response larger than 1000 bytes"), "%s", res->message);
    cr_assert_str_eq(body_of(b, 6, &res), "fast-last");
    cr_assert_null(host->http_batch_result(b, 7, &resp), "past the end: no outcome");
    cr_assert_null(resp);
    host->http_batch_free(b);
}

Test(http_batch, no_more_requests_are_in_flight_than_the_bound)
{
    fixture_concurrency(); /* reset the fixture's count */
    sb_http_batch_set_parallelism(3);
    reqs r = {0};
    for (int i = 0; i < 12; i++)
        add(&r, "GET", "/concurrent/150", 0);
    sb_http_batch *b = run_batch(&r, 0, 20000);
    for (size_t i = 0; i < r.n; i++) {
        const sb_result *res;
        body_of(b, i, &res);
        cr_assert_eq(res->status, SB_OK, "request %zu: %s", i, res->message);
    }
    host->http_batch_free(b);
    int seen = fixture_concurrency();
    cr_assert_leq(seen, 3, "%d requests were in flight with a bound of 3", seen);
    cr_assert_geq(seen, 2, "the requests ran one at a time (%d in flight at most)", seen);

    sb_http_batch_set_parallelism(SB_HTTP_BATCH_DEFAULT_PARALLELISM);
    r = (reqs){0};
    for (int i = 0; i < 20; i++)
        add(&r, "GET", "/concurrent/150", 0);
    host->http_batch_free(run_batch(&r, 0, 20000));
    seen = fixture_concurrency();
    cr_assert_leq(seen, 8, "%d in flight with the default bound of 8", seen);
    cr_assert_geq(seen, 3, "%d in flight at most with the default bound of 8", seen);
}

/* Like host->http: every body is secure and zeroed on release, except a
 * LIST answer during a provider list (names only: plain memory). */
Test(http_batch, bodies_land_in_secure_memory_and_are_zeroed)
{
    reqs r = {0};
    add(&r, "GET", "/big/5000", 0);
    add(&r, "POST", "/big/5000", 0);
    add(&r, "LIST", "/big/5000", 0);
    sb_http_batch *b = run_batch(&r, 1, 5000); /* marked as a provider list */
    const unsigned char *bodies[3];
    for (size_t i = 0; i < 3; i++) {
        const sb_result *res;
        bodies[i] = (const unsigned char *)body_of(b, i, &res);
        cr_assert_eq(res->status, SB_OK, "%s", res->message);
        cr_assert_eq(strlen((const char *)bodies[i]), 5000);
    }
    cr_assert(sb_redact_in_region(bodies[0]), "a GET answer during a list is secure");
    cr_assert(sb_redact_in_region(bodies[1]), "a POST answer during a list is secure");
    cr_assert_not(sb_redact_in_region(bodies[2]), "a provider list's LIST answer is plain memory");
    long live = sb_secure_live_allocations();
    host->http_batch_free(b);
    cr_assert_lt(sb_secure_live_allocations(), live, "the secure bodies were released");
    if (sb_secure_pooling()) /* sanitizer builds unmap them: reading would fault */
        for (size_t i = 0; i < 2; i++)
            for (size_t j = 0; j < 5000; j++)
                cr_assert_eq(bodies[i][j], 0, "byte %zu of released body %zu is zero", j, i);

    r = (reqs){0};
    add(&r, "LIST", "/big/100", 0);
    b = run_batch(&r, 0, 5000); /* not a provider list: a LIST answer may hold values */
    const sb_result *res;
    cr_assert(sb_redact_in_region(body_of(b, 0, &res)));
    host->http_batch_free(b);
}

Test(http_batch, every_url_is_held_to_the_loopback_only_http_rule)
{
    static const char *const refused[] = {
        "http://127.0.0.1@example.invalid/", "http://127.example.invalid/", "http://localhost.example.invalid/",
        "HTTP://example.invalid/",           "http://[::2]/",               "http://128.0.0.1/",
    };
    reqs r = {0};
    add(&r, "GET", "/status/200", 0);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        add(&r, "GET", refused[i], 0);
    add(&r, "GET", "http://127.example.invalid/", SB_HTTP_ALLOW_HTTP); /* explicitly allowed: attempted */
    sb_http_batch *b = run_batch(&r, 0, 10000);
    const sb_result *res;
    body_of(b, 0, &res);
    cr_assert_eq(res->status, SB_OK, "the loopback request is unaffected by its neighbours: %s", res->message);
    for (size_t i = 1; i <= sizeof refused / sizeof refused[0]; i++) {
        body_of(b, i, &res);
        cr_assert(res->status == SB_E_CONFIG || res->status == SB_E_INVALID, "%s was let through (%d: %s)",
                  r.urls[i], res->status, res->message);
    }
    body_of(b, r.n - 1, &res);
    cr_assert_eq(res->status, SB_E_UNAVAILABLE, "%s", res->message);
    host->http_batch_free(b);
}

Test(http_batch, retries_deadlines_and_cancellation_apply_per_request)
{
    reqs r = {0};
    add(&r, "GET", "/flaky/batch?fail=2", SB_HTTP_RETRY);
    add(&r, "GET", "/flaky/batch-no-retry?fail=1", 0);
    sb_http_batch *b = run_batch(&r, 0, 10000);
    const sb_http_response *resp;
    const sb_result *res = host->http_batch_result(b, 0, &resp);
    cr_assert_eq(res->status, SB_OK, "%s", res->message);
    cr_assert_eq(resp->status, 200);
    cr_assert_eq(resp->attempts, 3);
    res = host->http_batch_result(b, 1, &resp);
    cr_assert_eq(resp->status, 503);
    cr_assert_eq(resp->attempts, 1, "no retries unless SB_HTTP_RETRY");
    host->http_batch_free(b);

    r = (reqs){0};
    add(&r, "GET", "/slow/3000", 0);
    add(&r, "GET", "/status/200", 0);
    int64_t start = sb_clock_monotonic_ms();
    b = run_batch(&r, 0, 400);
    cr_assert_lt(sb_clock_monotonic_ms() - start, 2000, "the call's deadline caps the batch");
    body_of(b, 0, &res);
    cr_assert_eq(res->status, SB_E_TIMEOUT, "%s", res->message);
    body_of(b, 1, &res);
    cr_assert_eq(res->status, SB_OK, "%s", res->message);
    host->http_batch_free(b);

    sb_call_ctx call;
    sb_call_begin(&call, "test", "batch", NULL, 5000);
    sb_call_cancel(&call);
    SB_TEST_RESULT outer = SB_RESULT_INIT;
    cr_assert_eq(host->http_batch(&call.call, r.ptr, r.n, &b, &outer), SB_OK, "%s", outer.message);
    for (size_t i = 0; i < r.n; i++) {
        body_of(b, i, &res);
        cr_assert_eq(res->status, SB_E_CANCELLED, "request %zu of a cancelled call: %s", i, res->message);
    }
    host->http_batch_free(b);
}

Test(http_batch, bad_arguments_send_nothing_and_say_why)
{
    reqs r = {0};
    add(&r, "GET", "/status/200", 0);
    sb_call_ctx call;
    sb_call_begin(&call, "test", "batch", NULL, 5000);
    sb_http_batch *b = (sb_http_batch *)&r; /* must be reset to NULL */
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(host->http_batch(&call.call, r.ptr, 0, &b, &res), SB_E_INVALID);
    cr_assert_null(b);
    cr_assert_not_null(strstr(res.message, "send 1 to 256 per batch"), "%s", res.message);
    cr_assert_eq(host->http_batch(&call.call, r.ptr, SB_HTTP_BATCH_MAX + 1, &b, &res), SB_E_INVALID);
    const sb_http_request *with_null[2] = {r.ptr[0], NULL};
    cr_assert_eq(host->http_batch(&call.call, with_null, 2, &b, &res), SB_E_INVALID);
    cr_assert_not_null(strstr(res.message, "request 1 is NULL"), "%s", res.message);
    cr_assert_eq(host->http_batch(NULL, r.ptr, 1, &b, &res), SB_E_INVALID);
    cr_assert_eq(host->http_batch(&call.call, r.ptr, 1, NULL, &res), SB_E_INVALID);
    host->http_batch_free(NULL);
    cr_assert_null(host->http_batch_result(NULL, 0, NULL));
}
