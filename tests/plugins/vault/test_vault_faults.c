/*
 * tests/plugins/vault/test_vault_faults.c — status mapping under the
 * emulator's fault injection (429 + Retry-After, 5xx, 412, latency past the
 * timeout, truncated and dropped answers, unexpected bodies), Transit KMS
 * wrap/unwrap, and negative tests showing that the emulator is strict
 * enough to catch plugin mistakes (missing data, wrong CAS body, wrong
 * path, missing headers) while the plugin's own requests pass.
 */
#include "abi_outputs.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault_test_support.h"

static void setup(void)
{
    vt_emulator_start(NULL);
    es_admin_ok("POST", "kv/secret/app/db", "{\"data\":{\"password\":\"fault-test-pw\"}}");
}
static void teardown(void) { es_emulator_stop(); }

TestSuite(vault_faults, .init = setup, .fini = teardown, .timeout = 120);

#define ROOT "token: root\n"

static void fault(const char *json) { es_admin_ok("POST", "faults", json); }

static sb_status read_with(sb_harness *h, int64_t timeout_ms, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, "app/db", NULL};
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *out = NULL;
    sb_result_release(res);
    sb_status st = es_provider(h)->read(sb_harness_instance(h), sb_harness_call(h, timeout_ms),
                                        &ref, &out, &v, res);
    if (st == SB_OK)
        es_host(h)->bundle_free(out);
    else
        cr_assert_null(out);
    cr_assert(strstr(res->message, "fault-test-pw") == NULL, "message leaks a value");
    return st;
}

static sb_status write_with(sb_harness *h, const char *expected, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, "app/db", NULL};
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = es_bundle(h, "password", "new-fault-pw", NULL);
    sb_result_release(res);
    sb_status st = es_provider(h)->write(sb_harness_instance(h), sb_harness_call(h, 5000), &ref,
                                         b, expected, &v, res);
    es_host(h)->bundle_free(b);
    cr_assert(strstr(res->message, "new-fault-pw") == NULL, "message leaks a value");
    return st;
}

/* Opens the plugin and makes the first (lookup-self) call succeed, so faults
 * aimed at KV paths hit only the operation under test. */
static sb_harness *open_warm(const char *yaml)
{
    sb_harness *h = vt_open(yaml);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_with(h, 5000, &res), SB_OK, "%s", res.message);
    return h;
}

/* ---- retryable statuses ------------------------------------------------------- */

Test(vault_faults, rate_limit_429_is_throttled_with_retry_after)
{
    sb_harness *h = open_warm(ROOT);
    long base = sb_harness_live_secure_allocations();
    fault("{\"method\":\"GET\",\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":429,"
          "\"retry_after\":\"7\",\"count\":10}");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_with(h, 5000, &res), SB_E_THROTTLED, "%s", res.message);
    cr_assert_eq(res.retry_after_ms, 7000);
    cr_assert(strstr(res.message, "rate limit"), "%s", res.message);
    cr_assert(SB_STATUS_IS_RETRYABLE(res.status));

    /* Writes are not retried by the host: one attempt, THROTTLED. */
    es_admin_ok("DELETE", "faults", NULL);
    fault("{\"method\":\"POST\",\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":429,"
          "\"retry_after\":\"2\"}");
    cr_assert_eq(write_with(h, "1", &res), SB_E_THROTTLED, "%s", res.message);
    cr_assert_eq(res.retry_after_ms, 2000);
    cr_assert_eq(vt_count_requests(h, "POST", "/v1/secret/data/app/db"), 1);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_faults, server_errors_are_unavailable)
{
    sb_harness *h = open_warm(ROOT);
    long base = sb_harness_live_secure_allocations();
    const long codes[] = {500, 502, 503, 504, 412};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char f[256];
        snprintf(f, sizeof f,
                 "{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":%ld,\"count\":10,"
                 "\"retry_after\":\"1\"}",
                 codes[i]);
        es_admin_ok("DELETE", "faults", NULL);
        fault(f);
        SB_TEST_RESULT res = SB_RESULT_INIT;
        cr_assert_eq(read_with(h, 20000, &res), SB_E_UNAVAILABLE, "HTTP %ld: %s", codes[i],
                     res.message);
        char want[32];
        snprintf(want, sizeof want, "HTTP %ld", codes[i]);
        cr_assert(strstr(res.message, want), "%s", res.message);
        cr_assert_eq(res.retry_after_ms, 1000, "HTTP %ld", codes[i]);
    }
    es_admin_ok("DELETE", "faults", NULL);
    /* A sealed Vault on a write. */
    fault("{\"method\":\"POST\",\"path_regex\":\"/v1/secret/data/\",\"status\":503}");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(write_with(h, "1", &res), SB_E_UNAVAILABLE, "%s", res.message);
    cr_assert(strstr(res.message, "sealed"), "Vault's own text is kept: %s", res.message);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_faults, one_503_on_a_read_is_absorbed_by_the_host_retry)
{
    sb_harness *h = open_warm(ROOT);
    fault("{\"method\":\"GET\",\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":503}");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_with(h, 5000, &res), SB_OK, "%s", res.message);
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/secret/data/app/db"), 3,
                 "warm-up, the 503 and the retry");
    sb_harness_close(h);
}

Test(vault_faults, latency_past_the_timeout_is_timeout)
{
    sb_harness *h = open_warm(ROOT "request_timeout: 1s\n");
    fault("{\"path_regex\":\"^/v1/secret/data/app/db$\",\"delay_ms\":2500}");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_with(h, 10000, &res), SB_E_TIMEOUT, "%s", res.message);
    cr_assert(SB_STATUS_IS_RETRYABLE(res.status));
    /* The call's own deadline caps a longer request timeout too. */
    fault("{\"path_regex\":\"^/v1/secret/data/app/db$\",\"delay_ms\":2500}");
    sb_harness_close(h);
    h = open_warm(ROOT "request_timeout: 30s\n");
    fault("{\"path_regex\":\"^/v1/secret/data/app/db$\",\"delay_ms\":2500}");
    cr_assert_eq(read_with(h, 800, &res), SB_E_TIMEOUT, "%s", res.message);
    sb_harness_close(h);
}

Test(vault_faults, truncated_and_dropped_answers)
{
    sb_harness *h = open_warm(ROOT);
    long base = sb_harness_live_secure_allocations();
    SB_TEST_RESULT res = SB_RESULT_INIT;
    /* Body cut short of its Content-Length. */
    fault("{\"path_regex\":\"^/v1/secret/data/app/db$\",\"truncate\":true,\"count\":10}");
    sb_status st = read_with(h, 10000, &res);
    cr_assert(st == SB_E_UNAVAILABLE || st == SB_E_PROTOCOL, "%d %s", st, res.message);
    es_admin_ok("DELETE", "faults", NULL);
    /* Connection dropped without an answer. */
    fault("{\"path_regex\":\"^/v1/secret/data/app/db$\",\"drop\":true,\"count\":10}");
    cr_assert_eq(read_with(h, 10000, &res), SB_E_UNAVAILABLE, "%s", res.message);
    es_admin_ok("DELETE", "faults", NULL);
    /* A 200 whose body is not a Vault answer / not JSON. */
    fault("{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":200,"
          "\"body\":{\"hello\":\"world\"}}");
    cr_assert_eq(read_with(h, 5000, &res), SB_E_PROTOCOL, "%s", res.message);
    fault("{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":200,\"body\":\"x\","
          "\"truncate\":true,\"count\":10}");
    st = read_with(h, 5000, &res);
    cr_assert(st == SB_E_UNAVAILABLE || st == SB_E_PROTOCOL, "%d %s", st, res.message);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_faults, client_errors_map_to_permanent_statuses)
{
    sb_harness *h = open_warm(ROOT);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    struct {
        const char *fault;
        sb_status want;
        const char *text;
    } cases[] = {
        {"{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":400,"
         "\"body\":{\"errors\":[\"invalid request: bad \\\"thing\\\"\\n\\tgiven\"]}}",
         SB_E_INVALID, "invalid request: bad \"thing\" given"},
        {"{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":403,"
         "\"body\":{\"errors\":[\"1 error occurred:\\n\\t* permission denied\\n\\n\"]}}",
         SB_E_DENIED, "permission denied"},
        {"{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":404,\"body\":{\"errors\":[]}}",
         SB_E_NOT_FOUND, "does not exist"},
        {"{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":405,"
         "\"body\":{\"errors\":[\"unsupported operation\"]}}",
         SB_E_UNSUPPORTED, "unsupported operation"},
        {"{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":413,"
         "\"body\":{\"errors\":[\"error parsing JSON\"]}}",
         SB_E_TOO_LARGE, "too large"},
        {"{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":418}", SB_E_PROTOCOL, "418"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        es_admin_ok("DELETE", "faults", NULL);
        fault(cases[i].fault);
        cr_assert_eq(read_with(h, 5000, &res), cases[i].want, "case %zu: %s", i, res.message);
        cr_assert(!SB_STATUS_IS_RETRYABLE(res.status));
        cr_assert(strstr(res.message, cases[i].text), "case %zu: %s", i, res.message);
    }
    /* Very long Vault errors are truncated. */
    char big[4096];
    int n = snprintf(big, sizeof big,
                     "{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":400,"
                     "\"body\":{\"errors\":[\"");
    for (int i = 0; i < 1000; i++)
        big[n++] = 'e';
    snprintf(big + n, sizeof big - (size_t)n, "\"]}}");
    es_admin_ok("DELETE", "faults", NULL);
    fault(big);
    cr_assert_eq(read_with(h, 5000, &res), SB_E_INVALID);
    cr_assert(strstr(res.message, "..."), "%s", res.message);
    cr_assert_lt(strlen(res.message), 200);
    sb_harness_close(h);
}

Test(vault_faults, list_faults_and_an_expired_deadline)
{
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "kv/secret/f/s%d", i);
        es_admin_ok("POST", name, "{\"data\":{\"k\":\"v\"}}");
    }
    sb_harness *h = open_warm(ROOT);
    es_sink s = {0};
    sb_text *next = sb_test_text();
    sb_list_query q = {sizeof q, 0, "f/", NULL, 0, NULL};
    SB_TEST_RESULT res = SB_RESULT_INIT;
    fault("{\"method\":\"LIST\",\"path_regex\":\"^/v1/secret/metadata/f/$\",\"status\":429,"
          "\"retry_after\":\"9\",\"count\":5}");
    cr_assert_eq(es_provider(h)->list(sb_harness_instance(h), sb_harness_call(h, 5000), &q,
                                      es_sink_collect, &s, next, &res),
                 SB_E_THROTTLED, "%s", res.message);
    cr_assert_eq(res.retry_after_ms, 9000);
    es_admin_ok("DELETE", "faults", NULL);
    /* A metadata GET fails in the middle of the walk. */
    fault("{\"method\":\"GET\",\"path_regex\":\"^/v1/secret/metadata/f/s3$\",\"status\":500}");
    cr_assert_eq(es_provider(h)->list(sb_harness_instance(h), sb_harness_call(h, 5000), &q,
                                      es_sink_collect, &s, next, &res),
                 SB_E_UNAVAILABLE, "%s", res.message);
    cr_assert_eq(s.n, 3, "items before the failure were emitted");
    cr_assert_str_eq(SB_TEST_STR(next), "");
    es_sink_free(&s);
    /* A call whose deadline has passed does nothing. */
    size_t before = vt_count_requests(h, NULL, NULL);
    cr_assert_eq(es_provider(h)->list(sb_harness_instance(h), sb_harness_call(h, 0), &q,
                                      es_sink_collect, &s, next, &res),
                 SB_E_TIMEOUT, "%s", res.message);
    cr_assert_eq(vt_count_requests(h, NULL, NULL), before);
    sb_harness_close(h);
}

/* ---- Transit KMS ---------------------------------------------------------------- */

static sb_secure_buf *secure_of(const sb_host_api *host, const void *bytes, size_t len)
{
    sb_secure_buf *b = host->secure_new(len);
    cr_assert_not_null(b);
    cr_assert_eq(host->secure_append(b, bytes, len), 0);
    return b;
}

Test(vault_faults, transit_wrap_unwrap_round_trip_and_key_versions)
{
    sb_harness *h = vt_open(ROOT);
    const sb_host_api *host = es_host(h);
    const sb_kms_ops *kms = es_kms(h);
    void *inst = sb_harness_instance(h);
    long base = sb_harness_live_secure_allocations();
    sb_text *key_id = sb_test_text();
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(kms->key_id(inst, sb_harness_call(h, 5000), key_id, &res), SB_OK);
    cr_assert_str_eq(SB_TEST_STR(key_id), "vault-transit:transit/sbridge");

    unsigned char dek[32 + 7];
    host->random_bytes(dek, sizeof dek);
    dek[3] = 0; /* binary, with a NUL */
    sb_secure_buf *pt = secure_of(host, dek, sizeof dek);
    sb_secure_buf *ct = host->secure_new(0);
    cr_assert_eq(kms->wrap(inst, sb_harness_call(h, 5000), pt, ct, key_id, &res), SB_OK, "%s",
                 res.message);
    cr_assert_str_eq(SB_TEST_STR(key_id), "vault-transit:transit/sbridge:v1");
    size_t clen = 0;
    const unsigned char *c = host->secure_data(ct, &clen);
    cr_assert(clen > 9 && memcmp(c, "vault:v1:", 9) == 0);
    cr_assert(memmem(c, clen, dek, 8) == NULL);

    sb_secure_buf *back = host->secure_new(0);
    cr_assert_eq(kms->unwrap(inst, sb_harness_call(h, 5000), c, clen, SB_TEST_STR(key_id), back, &res), SB_OK,
                 "%s", res.message);
    size_t blen = 0;
    const unsigned char *b = host->secure_data(back, &blen);
    cr_assert_eq(blen, sizeof dek);
    cr_assert_eq(memcmp(b, dek, sizeof dek), 0);

    /* Rotate: new wraps use v2, old ciphertexts still unwrap. */
    cr_assert_eq(vt_vault("POST", "transit/keys/sbridge/rotate", "root", NULL, "{}", NULL, NULL),
                 200);
    sb_text *key_id2 = sb_test_text();
    sb_secure_buf *ct2 = host->secure_new(0);
    cr_assert_eq(kms->wrap(inst, sb_harness_call(h, 5000), pt, ct2, key_id2, &res), SB_OK);
    cr_assert_str_eq(SB_TEST_STR(key_id2), "vault-transit:transit/sbridge:v2");
    host->secure_clear(back);
    cr_assert_eq(kms->unwrap(inst, sb_harness_call(h, 5000), c, clen, SB_TEST_STR(key_id), back, &res), SB_OK,
                 "%s", res.message);
    b = host->secure_data(back, &blen);
    cr_assert_eq(memcmp(b, dek, sizeof dek), 0);

    /* The Transit body was base64 plaintext; the log shows no raw DEK. */
    char *log = vt_requests();
    cr_assert(strstr(log, "\"plaintext\": \""), "%s", log);
    free(log);

    host->secure_free(pt);
    host->secure_free(ct);
    host->secure_free(ct2);
    host->secure_free(back);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_faults, transit_refuses_foreign_keys_and_bad_ciphertexts)
{
    sb_harness *h = vt_open(ROOT "transit_mount: /transit/\ntransit_key: app-key\n");
    const sb_host_api *host = es_host(h);
    const sb_kms_ops *kms = es_kms(h);
    void *inst = sb_harness_instance(h);
    long base = sb_harness_live_secure_allocations();
    sb_secure_buf *pt = secure_of(host, "0123456789abcdef", 16);
    sb_secure_buf *ct = host->secure_new(0);
    sb_secure_buf *out = host->secure_new(0);
    sb_text *key_id = sb_test_text();
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(kms->wrap(inst, sb_harness_call(h, 5000), pt, ct, key_id, &res), SB_OK, "%s",
                 res.message);
    cr_assert_str_eq(SB_TEST_STR(key_id), "vault-transit:transit/app-key:v1");
    size_t clen = 0;
    const unsigned char *c = host->secure_data(ct, &clen);
    size_t before = vt_count_requests(h, NULL, NULL);

    const char *foreign[] = {"vault-transit:transit/other-key", "vault-transit:transit2/app-key",
                             "aws-kms:arn:aws:kms:x", "vault-transit:transit/app-key:v2",
                             "vault-transit:transit/app-key:vx", "vault-transit:transit/app-keyx"};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        sb_result_release(&res);
        cr_assert_eq(kms->unwrap(inst, sb_harness_call(h, 5000), c, clen, foreign[i], out, &res),
                     SB_E_INVALID, "%s", foreign[i]);
    }
    const char *junk = "not-a-vault-ciphertext";
    cr_assert_eq(kms->unwrap(inst, sb_harness_call(h, 5000), (const unsigned char *)junk,
                             strlen(junk), "vault-transit:transit/app-key", out, &res),
                 SB_E_INVALID);
    cr_assert_eq(vt_count_requests(h, NULL, NULL), before, "refused before any request");

    /* A tampered ciphertext is refused by Vault (400) -> INVALID, buffer untouched. */
    char *tampered = malloc(clen + 1);
    memcpy(tampered, c, clen);
    tampered[clen] = '\0';
    tampered[clen - 3] = tampered[clen - 3] == 'A' ? 'B' : 'A';
    sb_result_release(&res);
    cr_assert_eq(kms->unwrap(inst, sb_harness_call(h, 5000), (unsigned char *)tampered, clen,
                             "vault-transit:transit/app-key:v1", out, &res),
                 SB_E_INVALID, "%s", res.message);
    size_t olen = 99;
    host->secure_data(out, &olen);
    cr_assert_eq(olen, 0, "a failed unwrap must not write plaintext");
    free(tampered);

    host->secure_free(pt);
    host->secure_free(ct);
    host->secure_free(out);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

/* ---- the emulator catches plugin mistakes ---------------------------------------- */

/* Each mistake a plugin could make, sent by hand, is rejected the way Vault
 * rejects it; the plugin's own requests for the same operations pass. */
Test(vault_faults, emulator_strictness_catches_wrong_requests)
{
    char *out = NULL;
    /* A write without "data". */
    cr_assert_eq(vt_vault("POST", "secret/data/app/db", "root", NULL, "{\"options\":{\"cas\":1}}",
                          NULL, &out),
                 400);
    cr_assert(strstr(out, "no data provided"), "%s", out);
    free(out);
    /* A CAS value that is not a number, and a stale one. */
    cr_assert_eq(vt_vault("POST", "secret/data/app/db", "root", NULL,
                          "{\"options\":{\"cas\":\"one\"},\"data\":{}}", NULL, &out),
                 400);
    cr_assert(strstr(out, "error parsing check-and-set parameter"), "%s", out);
    free(out);
    cr_assert_eq(vt_vault("POST", "secret/data/app/db", "root", NULL,
                          "{\"options\":{\"cas\":0},\"data\":{}}", NULL, &out),
                 400);
    cr_assert(strstr(out, "check-and-set parameter did not match the current version"), "%s",
              out);
    free(out);
    /* CAS placed at the top level instead of under options: required-CAS mounts
     * refuse it. */
    cr_assert_eq(vt_vault("POST", "secret/config", "root", NULL, "{\"cas_required\":true}", NULL,
                          NULL),
                 204);
    cr_assert_eq(vt_vault("POST", "secret/data/app/db", "root", NULL,
                          "{\"cas\":1,\"data\":{\"k\":\"v\"}}", NULL, &out),
                 400);
    cr_assert(strstr(out, "check-and-set parameter required"), "%s", out);
    free(out);
    /* A KV v1 path (no data/ segment) and a missing token. */
    cr_assert_eq(vt_vault("GET", "secret/app/db", "root", NULL, NULL, NULL, &out), 404);
    free(out);
    cr_assert_eq(vt_vault("GET", "secret/data/app/db", NULL, NULL, NULL, NULL, &out), 403);
    free(out);
    /* A namespace the token does not belong to. */
    es_admin_ok("POST", "namespaces", "{\"path\":\"ns1\"}");
    cr_assert_eq(vt_vault("GET", "secret/data/app/db", "root", "ns1", NULL, NULL, &out), 404);
    free(out);

    /* The plugin's write on the CAS-required mount passes, with the body
     * shape Vault wants. */
    sb_harness *h = vt_open(ROOT);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(write_with(h, "1", &res), SB_OK, "%s", res.message);
    char *log = vt_requests();
    cr_assert(strstr(log, "{\"options\": {\"cas\": 1}, \"data\": {\"password\": "), "%s", log);
    free(log);
    sb_harness_close(h);

    /* A misconfigured mount (a classic mistake: the data/ segment in it) fails. */
    h = vt_open(ROOT "kv_mount: secret/data\n");
    cr_assert_neq(read_with(h, 5000, &res), SB_OK);
    sb_harness_close(h);
}

/* ---- hostile or malformed answers are refused, never trusted ---------------------- */

static int collect_count(void *sink, const sb_metadata *m)
{
    (void)m;
    (*(size_t *)sink)++;
    return 0;
}

Test(vault_faults, malformed_answers_are_protocol_errors)
{
    sb_harness *h = open_warm(ROOT);
    const sb_host_api *host = es_host(h);
    void *inst = sb_harness_instance(h);
    long base = sb_harness_live_secure_allocations();
    SB_TEST_RESULT res = SB_RESULT_INIT;
    const char *reads[] = {
        "{\"data\":{\"data\":{\"k\":\"v\"},\"metadata\":{\"version\":-3}}}",
        "{\"data\":{\"data\":[1,2],\"metadata\":{\"version\":1}}}",
        "{\"data\":null}",
        "[]",
    };
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        char f[512];
        snprintf(f, sizeof f,
                 "{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":200,\"body\":%s}",
                 reads[i]);
        fault(f);
        cr_assert_eq(read_with(h, 5000, &res), SB_E_PROTOCOL, "case %zu: %s", i, res.message);
    }
    /* 404 with an envelope but no deletion. */
    fault("{\"path_regex\":\"^/v1/secret/data/app/db$\",\"status\":404,"
          "\"body\":{\"data\":{\"data\":null,\"metadata\":{\"version\":2}}}}");
    cr_assert_eq(read_with(h, 5000, &res), SB_E_PROTOCOL, "%s", res.message);

    /* custom_metadata that is not string -> string. */
    fault("{\"path_regex\":\"^/v1/secret/metadata/app/db$\",\"status\":200,"
          "\"body\":{\"data\":{\"current_version\":1,\"custom_metadata\":{\"a\":1}}}}");
    size_t n = 0;
    sb_secret_ref ref = {sizeof ref, 0, "app/db", NULL};
    cr_assert_eq(es_provider(h)->describe(inst, sb_harness_call(h, 5000), &ref, collect_count, &n,
                                          &res),
                 SB_E_PROTOCOL, "%s", res.message);
    cr_assert_eq(n, 0);

    /* LIST keys that would escape the folder are skipped, never requested. */
    fault("{\"method\":\"LIST\",\"path_regex\":\"^/v1/secret/metadata/app/$\",\"status\":200,"
          "\"body\":{\"data\":{\"keys\":[\"../../evil\",\"a/b\",\"..\",\".\",\"\",5,\"db\"]}}}");
    sb_list_query q = {sizeof q, 0, "app/", NULL, 0, NULL};
    sb_text *next = sb_test_text();
    cr_assert_eq(es_provider(h)->list(inst, sb_harness_call(h, 5000), &q, collect_count, &n, next,
                                      &res),
                 SB_OK, "%s", res.message);
    cr_assert_eq(n, 1, "only app/db is listed");
    cr_assert_eq(vt_count_requests(h, NULL, "evil"), 0);
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/secret/metadata/app/a"), 0);

    /* Transit answers that are not what Vault sends. */
    sb_secure_buf *pt = host->secure_new(0), *ct = host->secure_new(0), *out = host->secure_new(0);
    cr_assert_eq(host->secure_append(pt, "k", 1), 0);
    sb_text *key_id = sb_test_text();
    fault("{\"path_regex\":\"^/v1/transit/encrypt/sbridge$\",\"status\":200,"
          "\"body\":{\"data\":{\"ciphertext\":\"vault:vX:abc\"}}}");
    cr_assert_eq(es_kms(h)->wrap(inst, sb_harness_call(h, 5000), pt, ct, key_id, &res),
                 SB_E_PROTOCOL, "%s", res.message);
    cr_assert_str_eq(SB_TEST_STR(key_id), "");
    fault("{\"path_regex\":\"^/v1/transit/decrypt/sbridge$\",\"status\":200,"
          "\"body\":{\"data\":{\"plaintext\":\"@@@=\"}}}");
    const char *c = "vault:v1:AAAA";
    cr_assert_eq(es_kms(h)->unwrap(inst, sb_harness_call(h, 5000), (const unsigned char *)c,
                                   strlen(c), "vault-transit:transit/sbridge", out, &res),
                 SB_E_PROTOCOL, "%s", res.message);
    size_t olen = 9;
    host->secure_data(out, &olen);
    cr_assert_eq(olen, 0);
    size_t clen = 9;
    host->secure_data(ct, &clen);
    cr_assert_eq(clen, 0);
    host->secure_free(pt);
    host->secure_free(ct);
    host->secure_free(out);
    cr_assert_eq(sb_harness_live_secure_allocations(), base);
    sb_harness_close(h);
}

Test(vault_faults, a_login_answer_with_an_unusable_token_is_refused)
{
    es_admin_ok("POST", "policies",
                "{\"name\":\"kv-read\",\"paths\":{\"secret/data/*\":[\"read\"]}}");
    es_admin_ok("POST", "approle",
                "{\"role_id\":\"r\",\"secret_id\":\"s\",\"policies\":[\"kv-read\"]}");
    sb_harness *h = vt_open("auth: approle\nrole_id: r\nsecret_id: s\n");
    fault("{\"path_regex\":\"^/v1/auth/approle/login$\",\"status\":200,"
          "\"body\":{\"auth\":{\"client_token\":\"hvs.x\\r\\nX-Evil: 1\",\"lease_duration\":60}}}");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(read_with(h, 5000, &res), SB_E_PROTOCOL, "%s", res.message);
    cr_assert_eq(vt_count_requests(h, "GET", "/v1/secret/"), 0);
    fault("{\"path_regex\":\"^/v1/auth/approle/login$\",\"status\":200,\"body\":{\"auth\":null}}");
    cr_assert_eq(read_with(h, 5000, &res), SB_E_PROTOCOL, "%s", res.message);
    cr_assert_eq(read_with(h, 5000, &res), SB_OK, "%s", res.message);
    sb_harness_close(h);
}
