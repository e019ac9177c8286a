/* test_http_client.c — the host's HTTP client for plugins (libcurl), over
 * real loopback HTTP against tests/support/http_fixture.py: the policies
 * it enforces whatever the plugin asks (no plain http off loopback, no
 * redirects, deadlines, size caps), retries with Retry-After, and that
 * response bodies land in secure memory. */
#include "../support/abi_outputs.h"
#include "../support/http_fixture_process.h"
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/http_client.h"
#include "util/redact.h"

static sb_test_http_fixture fixture;
static int port;
static const sb_host_api *host;

static void setup(void)
{
    sb_test_http_fixture_start(&fixture);
    host = sb_host_api_table();
    port = fixture.port;
}

static void teardown(void) { sb_test_http_fixture_stop(&fixture); }
TestSuite(http_client, .init = setup, .fini = teardown);

/* One request; lists_names_only marks the call as a provider list. */
static sb_status request(const char *method, const char *path, uint32_t flags, uint32_t timeout_ms,
                         uint32_t max_bytes, int64_t deadline_ms, int lists_names_only, sb_http_response *resp,
                         sb_result *res)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    sb_http_request req = {.struct_size = sizeof req, .flags = flags, .method = method, .url = url, .timeout_ms = timeout_ms, .max_response_bytes = max_bytes, .metric_op = "test"};
    sb_call_ctx call;
    sb_call_begin(&call, "test", "test", NULL, deadline_ms);
    call.lists_names_only = lists_names_only;
    memset(resp, 0, sizeof *resp);
    resp->struct_size = sizeof *resp;
    return host->http(&call.call, &req, resp, res);
}

static sb_status get(const char *path, uint32_t flags, uint32_t timeout_ms, uint32_t max_bytes,
                     int64_t deadline_ms, sb_http_response *resp, sb_result *res)
{
    return request("GET", path, flags, timeout_ms, max_bytes, deadline_ms, 0, resp, res);
}

Test(http_client, success_lands_in_secure_memory)
{
    sb_http_response resp;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(get("/big/100", 0, 0, 0, 5000, &resp, &res), SB_OK, "%s", res.message);
    cr_assert_eq(resp.status, 200);
    size_t len;
    const unsigned char *body = host->secure_data(resp.body, &len);
    cr_assert_eq(len, 100);
    cr_assert(sb_redact_in_region(body), "response bodies live in secure memory");
    cr_assert_str_eq(host->http_header(&resp, "content-length"), "100", "headers are case-insensitive");
    host->http_response_free(&resp);
}

static sb_status call_with(const char *method, const char *path, int lists_names_only, sb_http_response *resp,
                           sb_result *res)
{
    return request(method, path, 0, 0, 0, 5000, lists_names_only, resp, res);
}

Test(http_client, a_provider_list_answer_skips_secure_memory_and_its_buffer_is_reused)
{
    sb_http_response resp;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(call_with("LIST", "/big/300000", 1, &resp, &res), SB_OK, "%s", res.message);
    size_t len;
    const unsigned char *first = host->secure_data(resp.body, &len);
    cr_assert_eq(len, 300000, "a names-only body is complete (it grew past its first buffer)");
    cr_assert_eq(first[0], 'x');
    cr_assert_eq(first[len - 1], 'x');
    cr_assert_not(sb_redact_in_region(first), "a LIST answer of a provider list is plain heap memory");
    long live = sb_secure_live_allocations();
    host->http_response_free(&resp);
    cr_assert_eq(sb_secure_live_allocations(), live, "it never held a secure allocation");

    cr_assert_eq(call_with("LIST", "/big/100", 1, &resp, &res), SB_OK, "%s", res.message);
    const unsigned char *second = host->secure_data(resp.body, &len);
    cr_assert_eq(len, 100);
    cr_assert_eq(second, first, "the thread's released names-only buffer is reused");
    cr_assert_eq(second[100], '\0', "a reused buffer ends after the new body");
    host->http_response_free(&resp);
}

/* What a provider list may also fetch (a token, a secret's metadata) and
 * every other call's answers stay in sodium memory, and are zeroed when
 * released. */
static void assert_secure_and_zeroed(const char *method, int lists_names_only)
{
    sb_http_response resp;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(call_with(method, "/big/5000", lists_names_only, &resp, &res), SB_OK, "%s", res.message);
    size_t len;
    const unsigned char *body = host->secure_data(resp.body, &len);
    cr_assert_eq(len, 5000);
    cr_assert_eq(body[4999], 'x');
    cr_assert(sb_redact_in_region(body), "%s (provider list: %d) lands in secure memory", method, lists_names_only);
    host->http_response_free(&resp);
    if (!sb_secure_pooling())
        return; /* sanitizer builds unmap it: reading it would fault */
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(body[i], 0, "byte %zu of a released secure body is zero", i);
}

Test(http_client, value_bearing_answers_stay_in_secure_memory_and_are_zeroed)
{
    assert_secure_and_zeroed("GET", 1);  /* e.g. a token fetched during a list */
    assert_secure_and_zeroed("POST", 1); /* e.g. a login during a list */
    assert_secure_and_zeroed("LIST", 0); /* a LIST outside a provider list */
    assert_secure_and_zeroed("GET", 0);
}

Test(http_client, statuses_are_returned_not_mapped)
{
    sb_http_response resp;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(get("/status/404", 0, 0, 0, 5000, &resp, &res), SB_OK);
    cr_assert_eq(resp.status, 404);
    host->http_response_free(&resp);
}

Test(http_client, retry_after_seconds_is_parsed)
{
    sb_http_response resp;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(get("/status/429?retry_after=7", 0, 0, 0, 5000, &resp, &res), SB_OK);
    cr_assert_eq(resp.status, 429);
    cr_assert_eq(resp.retry_after_ms, 7000);
    cr_assert_eq(resp.attempts, 1, "no retries unless SB_HTTP_RETRY");
    host->http_response_free(&resp);
}

Test(http_client, retries_transient_failures_when_asked)
{
    sb_http_response resp;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(get("/flaky/a?fail=2", SB_HTTP_RETRY, 0, 0, 10000, &resp, &res), SB_OK, "%s", res.message);
    cr_assert_eq(resp.status, 200);
    cr_assert_eq(resp.attempts, 3);
    host->http_response_free(&resp);
    /* more failures than attempts: the last answer is returned */
    cr_assert_eq(get("/flaky/b?fail=9", SB_HTTP_RETRY, 0, 0, 10000, &resp, &res), SB_OK);
    cr_assert_eq(resp.status, 503);
    cr_assert_eq(resp.attempts, 3);
    host->http_response_free(&resp);
}

Test(http_client, redirects_are_not_followed)
{
    sb_http_response resp;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(get("/redirect", 0, 0, 0, 5000, &resp, &res), SB_OK);
    cr_assert_eq(resp.status, 302);
    host->http_response_free(&resp);
}

Test(http_client, response_size_is_capped)
{
    sb_http_response resp;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(get("/big/5000", 0, 0, 1000, 5000, &resp, &res), SB_E_TOO_LARGE);
    cr_assert_not_null(strstr(res.message, "response larger than 1000 bytes"), "%s", res.message);
    cr_assert_null(resp.body);
}

Test(http_client, timeouts_and_deadlines)
{
    sb_http_response resp;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cr_assert_eq(get("/slow/3000", 0, 0, 0, 300, &resp, &res), SB_E_TIMEOUT, "%s", res.message);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double took = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    cr_assert_lt(took, 2.0, "the call's deadline caps the request (took %.2fs)", took);
    cr_assert(SB_STATUS_IS_RETRYABLE(SB_E_TIMEOUT));
    cr_assert_eq(get("/slow/3000", 0, 200, 0, 10000, &resp, &res), SB_E_TIMEOUT, "request timeout applies");
}

Test(http_client, connection_refused_is_retryable_unavailable)
{
    sb_http_request req = {.struct_size = sizeof req, .method = "GET", .url = "http://127.0.0.1:9/", .timeout_ms = 2000};
    sb_call_ctx call;
    sb_call_begin(&call, "test", "test", NULL, 5000);
    sb_http_response resp = {sizeof resp, 0, 0, 0, 0, NULL, NULL};
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(host->http(&call.call, &req, &resp, &res), SB_E_UNAVAILABLE, "%s", res.message);
}

Test(http_client, plain_http_only_to_loopback_unless_allowed)
{
    sb_http_request req = {.struct_size = sizeof req, .method = "GET", .url = "http://example.invalid/", .timeout_ms = 1000};
    sb_call_ctx call;
    sb_call_begin(&call, "test", "test", NULL, 5000);
    sb_http_response resp = {sizeof resp, 0, 0, 0, 0, NULL, NULL};
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(host->http(&call.call, &req, &resp, &res), SB_E_CONFIG);
    cr_assert_not_null(strstr(res.message, "plain http to http://example.invalid/ refused"), "%s", res.message);
    req.url = "ftp://127.0.0.1/";
    cr_assert_eq(host->http(&call.call, &req, &resp, &res), SB_E_INVALID);
    req.url = NULL;
    cr_assert_eq(host->http(&call.call, &req, &resp, &res), SB_E_INVALID);
}

/* The URL policy is decided on libcurl's parse of the URL, not on its
 * prefix: each of these once passed a "starts with 127." check. */
static sb_status try_url(const char *url, uint32_t flags, sb_result *res)
{
    sb_http_request req = {.struct_size = sizeof req, .flags = flags, .method = "GET", .url = url, .timeout_ms = 1000};
    sb_call_ctx call;
    sb_call_begin(&call, "test", "test", NULL, 5000);
    sb_http_response resp = {sizeof resp, 0, 0, 0, 0, NULL, NULL};
    sb_result_release(res);
    sb_status st = host->http(&call.call, &req, &resp, res);
    if (st == SB_OK)
        host->http_response_free(&resp);
    return st;
}

Test(http_client, plain_http_bypasses_are_refused)
{
    static const char *const refused[] = {
        "http://127.0.0.1@example.invalid/",      /* userinfo: the host is example.invalid */
        "http://127.example.invalid/",            /* a name that starts like an address */
        "http://localhost.example.invalid/",
        "http://localhost@example.invalid:80/",
        "http://[::1]@example.invalid/",
        "HTTP://example.invalid/",                /* the scheme's case does not matter */
        "http://[::2]/",
        "http://128.0.0.1/",
    };
    SB_TEST_RESULT res = SB_RESULT_INIT;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sb_status st = try_url(refused[i], 0, &res);
        cr_assert(st == SB_E_CONFIG || st == SB_E_INVALID, "%s was let through (%d: %s)", refused[i], st, res.message);
    }
    cr_assert_eq(try_url("http://127.0.0.1@example.invalid/", 0, &res), SB_E_INVALID);
    cr_assert_not_null(strstr(res.message, "user information"), "%s", res.message);
    cr_assert_eq(try_url("https://user:pw@example.invalid/", 0, &res), SB_E_INVALID, "no credentials in URLs");
    cr_assert_null(strstr(res.message, "pw"), "the password is not echoed: %s", res.message);
    cr_assert_eq(try_url("http://127.example.invalid/", 0, &res), SB_E_CONFIG);
    cr_assert_not_null(strstr(res.message, "plain http to http://127.example.invalid/ refused"), "%s", res.message);
    cr_assert_eq(try_url("127.0.0.1/", 0, &res), SB_E_INVALID, "a URL without a scheme is not guessed");
    cr_assert_eq(try_url("http://127.example.invalid/", SB_HTTP_ALLOW_HTTP, &res), SB_E_UNAVAILABLE,
                 "explicitly allowed: the request is attempted (%s)", res.message);
}

Test(http_client, loopback_in_every_spelling_is_plain_http_ok)
{
    char url[128];
    const char *const hosts[] = {"127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "[::1]", "[0:0:0:0:0:0:0:1]"};
    SB_TEST_RESULT res = SB_RESULT_INIT;
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        /* port 9 (discard) is closed: the policy passed when the failure is the connection */
        snprintf(url, sizeof url, "http://%s:9/", hosts[i]);
        cr_assert_eq(try_url(url, 0, &res), SB_E_UNAVAILABLE, "%s: %s", url, res.message);
    }
    snprintf(url, sizeof url, "HTTP://127.0.0.1:%d/status/200", port);
    cr_assert_eq(try_url(url, 0, &res), SB_OK, "an upper-case scheme is still http: %s", res.message);
    cr_assert_eq(try_url("HTTPS://127.0.0.1:9/", 0, &res), SB_E_UNAVAILABLE, "%s", res.message);
}

Test(http_client, headers_and_bodies_are_sent)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", port);
    sb_kv headers[] = {{"X-Vault-Request", "true"}, {"X-Test", "yes"}};
    const char *body = "{\"a\":1}";
    sb_http_request req = {.struct_size = sizeof req, .method = "LIST", .url = url, .headers = headers, .n_headers = 2, .body = (const unsigned char *)body, .body_len = strlen(body), .timeout_ms = 2000};
    sb_call_ctx call;
    sb_call_begin(&call, "test", "test", NULL, 5000);
    sb_http_response resp = {sizeof resp, 0, 0, 0, 0, NULL, NULL};
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(host->http(&call.call, &req, &resp, &res), SB_OK, "%s", res.message);
    size_t len;
    const char *echo = (const char *)host->secure_data(resp.body, &len);
    cr_assert_not_null(strstr(echo, "\"method\": \"LIST\""), "%s", echo);
    cr_assert_not_null(strstr(echo, "\"X-Vault-Request\": \"true\""), "%s", echo);
    cr_assert_not_null(strstr(echo, "\"body_length\": 7"), "%s", echo);
    host->http_response_free(&resp);
}

Test(http_client, cancelled_calls_stop)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/status/200", port);
    sb_http_request req = {.struct_size = sizeof req, .method = "GET", .url = url, .timeout_ms = 2000};
    sb_call_ctx call;
    sb_call_begin(&call, "test", "test", NULL, 5000);
    sb_call_cancel(&call);
    sb_http_response resp = {sizeof resp, 0, 0, 0, 0, NULL, NULL};
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(host->http(&call.call, &req, &resp, &res), SB_E_CANCELLED, "%s", res.message);
    cr_assert_not_null(strstr(res.message, "call cancelled before GET"));
    cr_assert(SB_STATUS_IS_RETRYABLE(SB_E_CANCELLED), "a cancelled job is re-queued, not failed");
}

Test(http_client, tls_server_name_renames_the_host_but_not_the_connection)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", port);
    sb_http_request req = {.struct_size = sizeof req, .method = "GET", .url = url, .timeout_ms = 2000, .tls_server_name = "vault.internal"};
    sb_call_ctx call;
    sb_call_begin(&call, "test", "test", NULL, 5000);
    sb_http_response resp = {sizeof resp, 0, 0, 0, 0, NULL, NULL};
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(host->http(&call.call, &req, &resp, &res), SB_OK, "%s", res.message);
    size_t len;
    const char *echo = (const char *)host->secure_data(resp.body, &len);
    char want[64];
    snprintf(want, sizeof want, "\"Host\": \"vault.internal:%d\"", port);
    cr_assert_not_null(strstr(echo, want), "%s", echo);
    host->http_response_free(&resp);
    req.tls_server_name = "bad name!";
    cr_assert_eq(host->http(&call.call, &req, &resp, &res), SB_E_INVALID);
    cr_assert_not_null(strstr(res.message, "cannot use tls_server_name"), "%s", res.message);
}

/* A call carrying a rate gate: each request (retries included) waits its
 * turn; a pause longer than the call has left fails the request unsent. */
static sb_status paced_get(sb_rate_gate *gate, const char *path, uint32_t flags,
                           int64_t deadline_ms, sb_http_response *resp, sb_result *res,
                           int64_t *paced_ms)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    sb_http_request req = {.struct_size = sizeof req, .flags = flags, .method = "GET", .url = url, .metric_op = "test"};
    sb_call_ctx call;
    sb_call_begin(&call, "test", "paced", NULL, deadline_ms);
    call.gate = gate;
    memset(resp, 0, sizeof *resp);
    resp->struct_size = sizeof *resp;
    sb_status st = host->http(&call.call, &req, resp, res);
    *paced_ms = call.paced_ms;
    return st;
}

Test(http_client, requests_of_a_paced_call_keep_to_the_rate_gate)
{
    sb_rate_gate gate;
    sb_rate_gate_init(&gate, 4); /* 4 a second, bursting to 4 */
    int64_t start = sb_clock_monotonic_ms(), paced = 0, total = 0;
    for (int i = 0; i < 6; i++) {
        sb_http_response resp;
        SB_TEST_RESULT res = SB_RESULT_INIT;
        cr_assert_eq(paced_get(&gate, "/status/200", 0, 5000, &resp, &res, &paced), SB_OK);
        total += paced;
        host->http_response_free(&resp);
    }
    /* 4 at once, then one every 250 ms */
    int64_t elapsed = sb_clock_monotonic_ms() - start;
    cr_assert_geq(elapsed, 450, "6 requests at 4/s took only %lld ms", (long long)elapsed);
    cr_assert_geq(total, 200, "the waits were not counted (%lld ms)", (long long)total);

    /* retries are requests too: 3 attempts of a flaky path under a fresh 1/s gate */
    sb_rate_gate slow;
    sb_rate_gate_init(&slow, 1);
    sb_http_response resp;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    start = sb_clock_monotonic_ms();
    cr_assert_eq(paced_get(&slow, "/flaky/paced?fail=2", SB_HTTP_RETRY, 10000, &resp, &res, &paced),
                 SB_OK, "%s", res.message);
    cr_assert_eq(resp.attempts, 3);
    cr_assert_geq(sb_clock_monotonic_ms() - start, 1900, "the retries skipped the gate");
    host->http_response_free(&resp);

    /* a pause longer than the call's time left: refused without a request */
    sb_rate_gate_throttled(&slow, sb_clock_monotonic_ms(), 10000);
    SB_TEST_RESULT late = SB_RESULT_INIT;
    cr_assert_eq(paced_get(&slow, "/status/200", 0, 1000, &resp, &late, &paced), SB_E_TIMEOUT);
    cr_assert_not_null(strstr(late.message, "paused by the provider"), "%s", late.message);
    sb_rate_gate_destroy(&gate);
    sb_rate_gate_destroy(&slow);
}
