/*
 * tests/plugins/azurekv/test_azurekv_plugin.c — the azurekv PROVIDER through
 * the real loader and host API (libcurl, TLS verified against the emulator's
 * generated CA) against the Key Vault emulator: the challenge-first flow and
 * token reuse, read of a JSON object (MAP) and of plain text (SINGLE), by
 * version; the compare-and-set write (contentType and tags kept, a stale
 * version conflicts before any PUT, a writer right after ours is caught by
 * the re-check, create); describe from the versions list; list with nextLink
 * paging, the tag fence ANDed with a selector, a cursor, and a nextLink to
 * another host refused; error mapping (not found, forbidden, throttling with
 * and without Retry-After, the host's backoff absorbing one 429); token
 * expiry and refresh. Every test checks that no secure memory leaks across
 * the ABI.
 */
#include "abi_outputs.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azurekv_test_support.h"

static long live_before;
static void setup(void)
{
    kv_emulator_start();
    live_before = sb_harness_live_secure_allocations();
}
static void teardown(void) { es_emulator_stop(); }

TestSuite(azurekv_provider, .init = setup, .fini = teardown, .timeout = 120);

static void close_checked(sb_harness *h)
{
    sb_harness_close(h);
    cr_assert_eq(sb_harness_live_secure_allocations(), live_before, "secure memory leaked");
}

#define MAP_VALUE "\"{\\\"user\\\":\\\"u\\\",\\\"password\\\":\\\"p1\\\"}\""

Test(azurekv_provider, read_map_and_single_with_challenge_first)
{
    char *v1 = kv_seed("app-db", MAP_VALUE, "\"contentType\":\"application/json\"");
    char *vp = kv_seed("app-plain", "\"just {text\"", NULL);
    sb_harness *h = kv_open(KV_AUTH_SECRET);
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    cr_assert_eq(host->bundle_shape(b), SB_SHAPE_MAP);
    char *pw = es_bundle_get(h, b, "password", NULL);
    cr_assert_str_eq(pw, "p1");
    cr_assert_str_eq(host->text_str(v.version, NULL), v1);
    cr_assert_gt(v.created_unix_ms, 1500000000000LL);
    cr_assert_eq(v.created_unix_ms % 1000, 0, "Unix seconds became ms");
    free(pw);
    host->bundle_free(b);

    cr_assert_eq(kv_read(h, "app-plain", vp, &b, &v, &res), SB_OK, "%s", res.message);
    sb_value_kind kind = 0;
    char *val = es_bundle_get(h, b, "value", &kind);
    cr_assert_eq(host->bundle_shape(b), SB_SHAPE_SINGLE);
    cr_assert_eq(kind, SB_VALUE_STRING);
    cr_assert_str_eq(val, "just {text");
    free(val);
    host->bundle_free(b);

    /* the first request went without Authorization and without a body; then
     * exactly one token was fetched for the challenge's scope and tenant */
    char *log = kv_requests();
    cr_assert(strstr(log, "\"path\": \"/secrets/app-db\", \"op\": \"GetSecret\", \"status\": 401, "
                          "\"error\": \"Unauthorized\", \"authorization\": false") != NULL,
              "%s", log);
    cr_assert_eq(es_count(log, "\"status\": 401"), 1, "%s", log);
    free(log);
    char *tokens = kv_token_requests();
    cr_assert_eq(es_count(tokens, "\"grant_type\""), 1, "%s", tokens);
    cr_assert(strstr(tokens, "\"tenant\": \"" KV_TENANT "\"") != NULL, "%s", tokens);
    cr_assert(strstr(tokens, "\"scope\": \"https://vault.azure.net/.default\"") != NULL, "%s",
              tokens);
    free(tokens);
    free(v1);
    free(vp);
    close_checked(h);
}

Test(azurekv_provider, write_merges_and_keeps_content_type_and_tags)
{
    free(kv_seed("app-db", MAP_VALUE,
                 "\"contentType\":\"application/json\",\"tags\":{\"team\":\"a\",\"env\":\"prod\"}"));
    sb_harness *h = kv_open(KV_AUTH_SECRET);
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO, nv = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    cr_assert_eq(host->bundle_put(b, "password", SB_VALUE_STRING, (const unsigned char *)"p2", 2), 0);
    cr_assert_eq(kv_write(h, "app-db", b, host->text_str(v.version, NULL), &nv, &res), SB_OK, "%s",
                 res.message);
    host->bundle_free(b);
    cr_assert_str_neq(host->text_str(nv.version, NULL), host->text_str(v.version, NULL));

    sb_version_info after = SB_TEST_VERSION_INFO;
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &after, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(host->text_str(after.version, NULL), host->text_str(nv.version, NULL));
    char *user = es_bundle_get(h, b, "user", NULL), *pw = es_bundle_get(h, b, "password", NULL);
    cr_assert_str_eq(user, "u");
    cr_assert_str_eq(pw, "p2");
    free(user);
    free(pw);
    host->bundle_free(b);
    char *log = kv_requests();
    cr_assert(strstr(log, "\"contentType\": \"application/json\", \"tags\": {\"team\": \"a\", "
                          "\"env\": \"prod\"}") != NULL,
              "the PUT dropped contentType or tags: %s", log);
    cr_assert(strstr(log, "p2") == NULL);
    free(log);
    close_checked(h);
}

/* Seeds app-db, reads it through the plugin, lets another writer act through
 * the control API (`control` with `json`), then writes the value read back
 * with the version read. */
static sb_status write_back_after(sb_harness *h, const char *control, const char *json,
                                  sb_result *res)
{
    free(kv_seed("app-db", "\"v1\"", NULL));
    sb_version_info v = SB_TEST_VERSION_INFO, nv = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, res), SB_OK, "%s", res->message);
    es_admin_ok("POST", control, json);
    sb_status st = kv_write(h, "app-db", b, es_host(h)->text_str(v.version, NULL), &nv, res);
    es_host(h)->bundle_free(b);
    return st;
}

/* The current value of a single-value secret, read through the plugin (heap). */
static char *current_value(sb_harness *h, const char *name)
{
    sb_bundle *b = es_read_ok(h, name, NULL, NULL);
    char *val = es_bundle_get(h, b, "value", NULL);
    es_host(h)->bundle_free(b);
    return val;
}

Test(azurekv_provider, stale_version_conflicts_before_any_put)
{
    sb_harness *h = kv_open(KV_AUTH_SECRET);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(write_back_after(h, "secrets", "{\"name\":\"app-db\",\"value\":\"someone else\"}",
                                  &res),
                 SB_E_CONFLICT);
    cr_assert(strstr(res.message, "re-read") != NULL, "%s", res.message);
    char *log = kv_requests();
    cr_assert(strstr(log, "\"SetSecret\", \"status\": 200, \"error\": null, \"authorization\": "
                          "true") == NULL,
              "the plugin wrote despite the conflict: %s", log);
    free(log);
    char *val = current_value(h, "app-db"); /* the concurrent writer's value survived */
    cr_assert_str_eq(val, "someone else");
    free(val);
    close_checked(h);
}

Test(azurekv_provider, writer_right_after_ours_is_caught_by_the_recheck)
{
    sb_harness *h = kv_open(KV_AUTH_SECRET);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(write_back_after(h, "race", "{\"name\":\"app-db\",\"value\":\"theirs\"}", &res),
                 SB_E_CONFLICT, "%s", res.message);
    cr_assert(strstr(res.message, "right after") != NULL, "%s", res.message);
    char *val = current_value(h, "app-db");
    cr_assert_str_eq(val, "theirs");
    free(val);
    close_checked(h);
}

Test(azurekv_provider, create_only_when_absent_with_fence_tags)
{
    free(kv_seed("taken", "\"x\"", "\"tags\":{\"team\":\"a\"}"));
    sb_harness *h = kv_open(KV_AUTH_SECRET "tag_fence:\n  team: a\n");
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info nv = SB_TEST_VERSION_INFO;
    sb_bundle *b = es_bundle(h, "k", "v", NULL);
    cr_assert_eq(kv_write(h, "fresh", b, SB_CAS_CREATE, &nv, &res), SB_OK, "%s", res.message);
    cr_assert_eq(strlen(host->text_str(nv.version, NULL)), 32);
    cr_assert_eq(kv_write(h, "taken", b, SB_CAS_CREATE, &nv, &res), SB_E_CONFLICT);
    host->bundle_free(b);
    char *log = kv_requests();
    cr_assert(strstr(log, "\"contentType\": \"application/json\", \"tags\": {\"team\": \"a\"}") !=
                  NULL,
              "%s", log);
    free(log);
    /* the created secret reads back as a map, inside the fence */
    sb_version_info v = SB_TEST_VERSION_INFO;
    cr_assert_eq(kv_read(h, "fresh", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    char *val = es_bundle_get(h, b, "k", NULL);
    cr_assert_str_eq(val, "v");
    free(val);
    host->bundle_free(b);
    close_checked(h);
}

Test(azurekv_provider, fence_refuses_read_write_and_describe_outside)
{
    char *ver = kv_seed("other-team", "\"x\"", "\"tags\":{\"team\":\"b\"}");
    sb_harness *h = kv_open(KV_AUTH_SECRET "tag_fence:\n  team: a\n");
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(kv_read(h, "other-team", NULL, &b, &v, &res), SB_E_DENIED);
    cr_assert_null(b);
    cr_assert_eq(kv_read(h, "other-team", ver, &b, &v, &res), SB_E_DENIED);
    sb_bundle *w = es_bundle(h, "k", "v", NULL);
    cr_assert_eq(kv_write(h, "other-team", w, ver, &v, &res), SB_E_DENIED);
    host->bundle_free(w);
    es_sink sink = {0};
    sb_secret_ref ref = {sizeof ref, 0, "other-team", NULL};
    cr_assert_eq(es_provider(h)->describe(sb_harness_instance(h), sb_harness_call(h, 10000), &ref,
                                          es_sink_collect, &sink, &res),
                 SB_E_DENIED);
    cr_assert_eq(sink.n, 0);
    free(ver);
    close_checked(h);
}

Test(azurekv_provider, describe_from_versions)
{
    free(kv_seed("app-db", "\"v1\"", "\"tags\":{\"team\":\"old\"}"));
    char *v2 = kv_seed("app-db", "\"v2\"", "\"tags\":{\"team\":\"a\",\"env\":\"dev\"}");
    sb_harness *h = kv_open(KV_AUTH_SECRET);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    es_sink sink = {0};
    sb_secret_ref ref = {sizeof ref, 0, "app-db", NULL};
    cr_assert_eq(es_provider(h)->describe(sb_harness_instance(h), sb_harness_call(h, 10000), &ref,
                                          es_sink_collect, &sink, &res),
                 SB_OK, "%s", res.message);
    cr_assert_eq(sink.n, 1);
    cr_assert_str_eq(sink.items[0].path, "app-db");
    cr_assert_str_eq(sink.items[0].version, v2);
    cr_assert_str_eq(sink.items[0].labels, "team=a;env=dev;");
    cr_assert_gt(sink.items[0].created, 0);
    char *log = kv_requests();
    cr_assert(strstr(log, "\"GetSecretVersions\", \"status\": 200") != NULL, "%s", log);
    cr_assert(strstr(log, "\"op\": \"GetSecret\"") == NULL, "describe fetched a value: %s", log);
    free(log);
    es_sink_free(&sink);
    ref.path = "missing";
    cr_assert_eq(es_provider(h)->describe(sb_harness_instance(h), sb_harness_call(h, 10000), &ref,
                                          es_sink_collect, &sink, &res),
                 SB_E_NOT_FOUND);
    free(v2);
    close_checked(h);
}

Test(azurekv_provider, list_pages_fence_and_selector)
{
    for (int i = 0; i < 30; i++) {
        char name[32], tags[96];
        snprintf(name, sizeof name, "svc-%02d", i);
        snprintf(tags, sizeof tags, "\"tags\":{\"team\":\"%s\",\"env\":\"%s\"}",
                 i % 2 ? "a" : "b", i % 3 ? "dev" : "prod");
        free(kv_seed(name, "\"x\"", tags));
    }
    free(kv_seed("other-00", "\"x\"", "\"tags\":{\"team\":\"a\",\"env\":\"prod\"}"));
    sb_harness *h = kv_open(KV_AUTH_SECRET "tag_fence:\n  team: a\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    es_sink sink = {0};
    sb_kv sel[] = {{"env", "prod"}};
    sb_list_query q = {sizeof q, 100, "svc-", sel, 1, NULL};
    cr_assert_eq(kv_list(h, &q, &sink, NULL, &res), SB_OK, "%s", res.message);
    /* odd i (team a) and i % 3 == 0 (prod): 3, 9, 15, 21, 27 */
    cr_assert_eq(sink.n, 5);
    const char *want[] = {"svc-03", "svc-09", "svc-15", "svc-21", "svc-27"};
    for (size_t i = 0; i < 5; i++) {
        const es_item *it = es_sink_find(&sink, want[i]);
        cr_assert_not_null(it, "%s missing", want[i]);
        cr_assert(strstr(it->labels, "team=a;") != NULL);
        cr_assert_null(it->version);
        cr_assert_gt(it->updated, 0);
    }
    es_sink_free(&sink);
    char *log = kv_requests();
    cr_assert_eq(es_count(log, "\"op\": \"GetSecrets\", \"status\": 200"), 2,
                 "31 secrets should take two pages of 25: %s", log);
    free(log);
    close_checked(h);
}

/* Seeds secrets s-<from>..s-<to - 1> (two digits). */
static void seed_range(int from, int to)
{
    for (int i = from; i < to; i++) {
        char name[32];
        snprintf(name, sizeof name, "s-%02d", i);
        free(kv_seed(name, "\"x\"", NULL));
    }
}

Test(azurekv_provider, list_cursor_resumes)
{
    seed_range(0, 30);
    sb_harness *h = kv_open(KV_AUTH_SECRET);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    es_sink sink = {0};
    sb_list_query q = {sizeof q, 5, NULL, NULL, 0, NULL};
    char *cursor = NULL;
    cr_assert_eq(kv_list(h, &q, &sink, &cursor, &res), SB_OK, "%s", res.message);
    cr_assert_eq(sink.n, 25);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "https://127.0.0.1:%d/secrets?", kv_tls_port());
    cr_assert(strncmp(cursor, prefix, strlen(prefix)) == 0, "%s", cursor);
    q.cursor = cursor;
    cr_assert_eq(kv_list(h, &q, &sink, NULL, &res), SB_OK, "%s", res.message);
    cr_assert_eq(sink.n, 30);
    cr_assert_not_null(es_sink_find(&sink, "s-29"));
    free(cursor);
    /* a cursor pointing elsewhere is refused before any request */
    q.cursor = "https://evil.example/secrets?api-version=7.5";
    cr_assert_eq(kv_list(h, &q, &sink, NULL, &res), SB_E_INVALID);
    es_sink_free(&sink);
    close_checked(h);
}

Test(azurekv_provider, next_link_to_another_host_is_not_followed)
{
    es_admin_ok("POST", "nextlink-host", "{\"host\":\"127.0.0.1:1\"}");
    seed_range(0, 30);
    sb_harness *h = kv_open(KV_AUTH_SECRET);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    es_sink sink = {0};
    sb_list_query q = {sizeof q, 100, NULL, NULL, 0, NULL};
    cr_assert_eq(kv_list(h, &q, &sink, NULL, &res), SB_E_PROTOCOL);
    cr_assert(strstr(res.message, "outside the configured vault") != NULL, "%s", res.message);
    es_sink_free(&sink);
    close_checked(h);
}

Test(azurekv_provider, errors_are_mapped)
{
    free(kv_seed("app-db", "\"x\"", NULL));
    sb_harness *h = kv_open(KV_AUTH_SECRET);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(kv_read(h, "nope", NULL, &b, &v, &res), SB_E_NOT_FOUND);
    cr_assert(strstr(res.message, "SecretNotFound") != NULL, "%s", res.message);
    cr_assert_eq(kv_read(h, "bad_name", NULL, &b, &v, &res), SB_E_INVALID);
    cr_assert_eq(kv_read(h, "app-db", "../x", &b, &v, &res), SB_E_INVALID);

    /* throttled beyond the host's retries, with and without Retry-After */
    es_admin_ok("POST", "faults", "{\"target\":\"GetSecret\",\"count\":3,\"retry_after\":2}");
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_E_THROTTLED);
    cr_assert_eq(res.retry_after_ms, 2000);
    es_admin_ok("POST", "faults", "{\"target\":\"GetSecret\",\"count\":3}");
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_E_THROTTLED);
    cr_assert_eq(res.retry_after_ms, 0);
    cr_assert(strstr(res.message, "back off") != NULL, "%s", res.message);
    /* one 429 is absorbed by the host's backoff */
    es_admin_ok("POST", "faults", "{\"target\":\"GetSecret\",\"count\":1}");
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    es_host(h)->bundle_free(b);
    b = NULL;
    es_admin_ok("POST", "faults", "{\"target\":\"GetSecret\",\"count\":3,\"status\":503,"
                                  "\"code\":\"ServiceUnavailable\"}");
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_E_UNAVAILABLE);
    /* a PUT is not retried by the host: one 429 is THROTTLED */
    sb_bundle *w = es_bundle(h, "k", "v", NULL);
    es_admin_ok("POST", "faults", "{\"target\":\"SetSecret\",\"count\":1}");
    cr_assert_eq(kv_write(h, "new-one", w, SB_CAS_CREATE, &v, &res), SB_E_THROTTLED);
    es_host(h)->bundle_free(w);

    es_admin_ok("POST", "deny", "{\"principal\":\"" KV_CLIENT "\"}");
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_E_DENIED);
    cr_assert(strstr(res.message, "ForbiddenByRbac") != NULL, "%s", res.message);
    cr_assert_null(b);
    close_checked(h);
}

Test(azurekv_provider, slow_and_truncated_answers)
{
    free(kv_seed("app-db", "\"x\"", NULL));
    sb_harness *h = kv_open(KV_AUTH_SECRET "request_timeout: 1s\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = es_read_ok(h, "app-db", NULL, &v); /* challenge and token cached */
    es_host(h)->bundle_free(b);
    b = NULL;
    es_admin_ok("POST", "faults", "{\"target\":\"GetSecret\",\"delay_ms\":2500}");
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_E_TIMEOUT, "%s", res.message);
    cr_assert_null(b);
    /* half a body: the host retries the GET; when every answer is cut, UNAVAILABLE */
    es_admin_ok("POST", "faults", "{\"target\":\"GetSecret\",\"truncate\":true,\"count\":5}");
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_E_UNAVAILABLE, "%s", res.message);
    es_admin_ok("POST", "reset", "{}"); /* clears the remaining faults (and the secrets) */
    es_admin_ok("POST", "apps", "{\"client_id\":\"" KV_CLIENT "\",\"client_secret\":\"" KV_SECRET "\"}");
    free(kv_seed("app-db", "\"y\"", NULL));
    es_admin_ok("POST", "faults", "{\"target\":\"GetSecret\",\"truncate\":true,\"count\":1}");
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_OK, "one cut answer is retried: %s",
                 res.message);
    es_host(h)->bundle_free(b);
    close_checked(h);
}

Test(azurekv_provider, expired_token_is_refreshed_once)
{
    free(kv_seed("app-db", "\"x\"", NULL));
    sb_harness *h = kv_open(KV_AUTH_SECRET);
    const sb_host_api *host = es_host(h);
    sb_version_info v = SB_TEST_VERSION_INFO;
    host->bundle_free(es_read_ok(h, "app-db", NULL, &v));
    es_admin_ok("POST", "expire-tokens", "{}");
    host->bundle_free(es_read_ok(h, "app-db", NULL, &v));
    char *tokens = kv_token_requests();
    cr_assert_eq(es_count(tokens, "\"grant_type\""), 2, "%s", tokens);
    free(tokens);
    /* a token that lives 2 minutes is renewed at half its life, before Key Vault refuses it */
    es_admin_ok("POST", "token-lifetime", "{\"seconds\":2}");
    es_admin_ok("POST", "expire-tokens", "{}");
    host->bundle_free(es_read_ok(h, "app-db", NULL, &v)); /* 401, new 2 s token */
    struct timespec ts = {1, 200000000};
    nanosleep(&ts, NULL);
    host->bundle_free(es_read_ok(h, "app-db", NULL, &v)); /* renewed before use */
    char *log = kv_requests();
    cr_assert_eq(es_count(log, "\"status\": 401"), 3,
                 "the first probe and the two forced expiries, not the renewal: %s", log);
    free(log);
    close_checked(h);
}

Test(azurekv_provider, a_failed_renewal_keeps_the_current_token)
{
    free(kv_seed("app-db", "\"x\"", NULL));
    es_admin_ok("POST", "token-lifetime", "{\"seconds\":22}"); /* renewed after 11 s */
    sb_harness *h = kv_open(KV_AUTH_SECRET);
    const sb_host_api *host = es_host(h);
    sb_version_info v = SB_TEST_VERSION_INFO;
    host->bundle_free(es_read_ok(h, "app-db", NULL, &v));
    struct timespec ts = {11, 500000000};
    nanosleep(&ts, NULL);
    es_admin_ok("POST", "faults", "{\"target\":\"token\",\"status\":503,\"count\":10}");
    /* the renewal fails (503 x the host's retries); the token has ~10.5 s left */
    host->bundle_free(es_read_ok(h, "app-db", NULL, &v));
    char *log = kv_requests();
    cr_assert_geq(es_count(log, "\"op\": \"token\", \"status\": 503"), 1,
                  "no renewal was attempted: %s", log);
    free(log);
    /* a token that has expired is not kept: the call fails retryably */
    es_admin_ok("POST", "expire-tokens", "{}");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_bundle *b = NULL;
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_E_UNAVAILABLE, "%s", res.message);
    close_checked(h);
}

Test(azurekv_provider, challenge_is_verified_and_tenant_pinned)
{
    free(kv_seed("app-db", "\"x\"", NULL));
    char err[2048];
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "vault_url: https://127.0.0.1:%d\nauthority_host: https://127.0.0.1:%d\nca_file: "
             "%s\n" KV_AUTH_SECRET,
             kv_tls_port(), kv_tls_port(), kv_ca_file());
    sb_harness *h = sb_harness_open(SB_TEST_PLUGIN_PATH, yaml, err, sizeof err);
    cr_assert_not_null(h, "%s", err);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    /* 127.0.0.1 does not end with .vault.azure.net: refused as the SDKs do */
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_E_PROTOCOL);
    cr_assert(strstr(res.message, "does not match the vault") != NULL, "%s", res.message);
    close_checked(h);

    h = kv_open(KV_AUTH_SECRET "tenant_id: 00000000-0000-0000-0000-000000000000\n");
    cr_assert_eq(kv_read(h, "app-db", NULL, &b, &v, &res), SB_E_CONFIG);
    cr_assert(strstr(res.message, "belongs to tenant " KV_TENANT) != NULL, "%s", res.message);
    char *tokens = kv_token_requests();
    cr_assert_eq(es_count(tokens, "\"grant_type\""), 0, "no token for a foreign tenant: %s",
                 tokens);
    free(tokens);
    close_checked(h);
}

Test(azurekv_provider, https_only_config)
{
    char err[2048];
    const char *bad[] = {
        "vault_url: http://127.0.0.1:1\n" KV_AUTH_SECRET,
        "vault_url: https://127.0.0.1:1/path\n" KV_AUTH_SECRET,
        "vault_url: https://u@127.0.0.1:1\n" KV_AUTH_SECRET,
        "vault_url: https://127.0.0.1:1\nauthority_host: http://127.0.0.1:1\n" KV_AUTH_SECRET,
        "vault_url: https://127.0.0.1:1\nauth: client_secret\nclient_secret: x\n",
        "vault_url: https://127.0.0.1:1\nauth: client_secret\nclient_id: a\"b\nclient_secret: x\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sb_harness *h = sb_harness_open(SB_TEST_PLUGIN_PATH, bad[i], err, sizeof err);
        cr_assert_null(h, "accepted: %s", bad[i]);
        cr_assert(strstr(err, KV_SECRET) == NULL);
    }
}
