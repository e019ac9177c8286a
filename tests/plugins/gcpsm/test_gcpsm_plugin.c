/*
 * tests/plugins/gcpsm/test_gcpsm_plugin.c — the gcpsm PROVIDER through the
 * real loader and host API against the GCP emulator (which checks the bearer
 * token and the CRC32C of every addVersion): read of a JSON payload (MAP), a
 * text payload and a binary payload (SINGLE), by number and as the newest
 * enabled version; DISABLED / DESTROYED versions reported as SB_E_GONE with
 * their flags; the compare-and-set write (merge kept as JSON, raw form kept,
 * a concurrent writer's version makes a stale write conflict and adds
 * nothing, create with the label fence as labels); describe; list with
 * filter + pageToken paging and the label fence ANDed with a selector; the
 * label fence on read; a payload whose dataCrc32c does not match (PROTOCOL);
 * google.rpc.Status mapping (RESOURCE_EXHAUSTED with
 * Retry-After, UNAVAILABLE, PERMISSION_DENIED, NOT_FOUND). Every test checks
 * that no secure memory leaks across the ABI.
 */
#include "abi_outputs.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcpsm_test_support.h"

static long live_before;
static void setup(void)
{
    gc_emulator_start(NULL);
    live_before = sb_harness_live_secure_allocations();
}
static void teardown(void) { es_emulator_stop(); }

TestSuite(gcpsm_provider, .init = setup, .fini = teardown, .timeout = 120);

static void close_checked(sb_harness *h)
{
    sb_harness_close(h);
    cr_assert_eq(sb_harness_live_secure_allocations(), live_before, "secure memory leaked");
}

#define DB_JSON "{\\\"user\\\":\\\"u\\\",\\\"password\\\":\\\"p1\\\",\\\"port\\\":5432}"

Test(gcpsm_provider, read_json_text_and_binary_forms)
{
    gc_seed("db", NULL, "[{\"data\":\"" DB_JSON "\"}]");
    gc_seed("plain", NULL, "[{\"data\":\"just text\"}]");
    gc_seed("bin", NULL, "[{\"data_b64\":\"AP8BAg==\"}]");
    sb_harness *h = gc_open_sa(NULL);
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(gc_read(h, "db", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    cr_assert_eq(host->bundle_shape(b), SB_SHAPE_MAP);
    char *pw = es_bundle_get(h, b, "password", NULL);
    cr_assert_str_eq(pw, "p1");
    free(pw);
    sb_value_kind kind = 0;
    char *port = es_bundle_get(h, b, "port", &kind);
    cr_assert_eq(kind, SB_VALUE_JSON);
    cr_assert_str_eq(port, "5432");
    free(port);
    cr_assert_str_eq(host->text_str(v.version, NULL), "1");
    host->bundle_free(b);

    cr_assert_eq(gc_read(h, "plain", "1", &b, &v, &res), SB_OK, "%s", res.message);
    char *val = es_bundle_get(h, b, "value", &kind);
    cr_assert_eq(host->bundle_shape(b), SB_SHAPE_SINGLE);
    cr_assert_eq(kind, SB_VALUE_STRING);
    cr_assert_str_eq(val, "just text");
    free(val);
    host->bundle_free(b);

    cr_assert_eq(gc_read(h, "bin", "latest", &b, &v, &res), SB_OK, "%s", res.message);
    const char *k;
    const unsigned char *bytes;
    size_t len;
    cr_assert_eq(host->bundle_entry(b, 0, &k, &kind, &bytes, &len), 0);
    cr_assert_eq(kind, SB_VALUE_BINARY);
    cr_assert_eq(len, 4);
    cr_assert(memcmp(bytes, "\x00\xff\x01\x02", 4) == 0);
    host->bundle_free(b);

    cr_assert_eq(gc_read(h, "missing", NULL, &b, &v, &res), SB_E_NOT_FOUND);
    cr_assert_null(b);
    cr_assert_not_null(strstr(res.message, "NOT_FOUND"), "%s", res.message);
    cr_assert_eq(gc_read(h, "plain", "7", &b, &v, &res), SB_E_NOT_FOUND);
    cr_assert_eq(gc_read(h, "projects/x/secrets/plain", NULL, &b, &v, &res), SB_E_INVALID);
    close_checked(h);
}

Test(gcpsm_provider, disabled_and_destroyed_versions)
{
    gc_seed("s", NULL, "[{\"data\":\"one\"},{\"data\":\"two\"},{\"data\":\"three\"}]");
    es_admin_ok("POST", "version-state", "{\"secret_id\":\"s\",\"version\":3,\"state\":\"DISABLED\"}");
    es_admin_ok("POST", "version-state", "{\"secret_id\":\"s\",\"version\":2,\"state\":\"DESTROYED\"}");
    sb_harness *h = gc_open_sa(NULL);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    /* current: `latest` (3) is disabled, so the newest enabled version (1) */
    cr_assert_eq(gc_read(h, "s", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    char *val = es_bundle_get(h, b, "value", NULL);
    cr_assert_str_eq(val, "one");
    free(val);
    cr_assert_str_eq(es_host(h)->text_str(v.version, NULL), "1");
    es_host(h)->bundle_free(b);
    b = NULL;
    cr_assert_eq(gc_read(h, "s", "3", &b, &v, &res), SB_E_GONE, "%s", res.message);
    cr_assert_eq(v.flags, SB_VERSION_DELETED);
    cr_assert_not_null(strstr(res.message, "disabled"), "%s", res.message);
    cr_assert_null(b);
    cr_assert_eq(gc_read(h, "s", "2", &b, &v, &res), SB_E_GONE, "%s", res.message);
    cr_assert_eq(v.flags, SB_VERSION_DESTROYED);
    /* no enabled version left: the current read is GONE too */
    es_admin_ok("POST", "version-state", "{\"secret_id\":\"s\",\"version\":1,\"state\":\"DISABLED\"}");
    cr_assert_eq(gc_read(h, "s", NULL, &b, &v, &res), SB_E_GONE, "%s", res.message);
    cr_assert_eq(v.flags, SB_VERSION_DELETED);
    close_checked(h);
}

Test(gcpsm_provider, cas_write_merges_keeps_json_and_conflicts)
{
    gc_seed("db", "{\"team\":\"a\"}", "[{\"data\":\"" DB_JSON "\"}]");
    sb_harness *h = gc_open_sa(NULL);
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO, nv = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(gc_read(h, "db", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    cr_assert_eq(host->bundle_put(b, "password", SB_VALUE_STRING, (const unsigned char *)"p2", 2), 0);
    cr_assert_eq(gc_write(h, "db", b, "1", &nv, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(host->text_str(nv.version, NULL), "2");
    cr_assert_gt(nv.created_unix_ms, 1500000000000LL);
    /* stored as a JSON object payload, other keys and their types kept */
    char *raw = gc_payload("db", "2");
    cr_assert_not_null(strstr(raw, "\"dataCrc32c\": \""), "%s", raw);
    free(raw);
    sb_bundle *back = NULL;
    cr_assert_eq(gc_read(h, "db", NULL, &back, &v, &res), SB_OK, "%s", res.message);
    char *pw = es_bundle_get(h, back, "password", NULL), *user = es_bundle_get(h, back, "user", NULL);
    sb_value_kind kind = 0;
    char *port = es_bundle_get(h, back, "port", &kind);
    cr_assert_str_eq(pw, "p2");
    cr_assert_str_eq(user, "u");
    cr_assert_str_eq(port, "5432");
    cr_assert_eq(kind, SB_VALUE_JSON);
    free(pw);
    free(user);
    free(port);
    host->bundle_free(back);

    /* another writer adds version 3: a write based on 2 conflicts, adds nothing */
    es_admin_ok("POST", "add-version", "{\"secret_id\":\"db\",\"data\":\"{\\\"user\\\":\\\"other\\\"}\"}");
    cr_assert_eq(gc_write(h, "db", b, "2", &nv, &res), SB_E_CONFLICT);
    cr_assert_not_null(strstr(res.message, "changed since it was read"), "%s", res.message);
    char *log = gc_requests();
    cr_assert_eq(es_count(log, "\"op\": \"addVersion\""), 1, "only the first write added: %s", log);
    cr_assert_null(strstr(log, "p2"), "no value in the emulator's log");
    free(log);
    /* a disabled newest version does not count as the current one */
    es_admin_ok("POST", "version-state", "{\"secret_id\":\"db\",\"version\":3,\"state\":\"DISABLED\"}");
    cr_assert_eq(gc_write(h, "db", b, "2", &nv, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(host->text_str(nv.version, NULL), "4");
    host->bundle_free(b);
    close_checked(h);
}

Test(gcpsm_provider, raw_payload_form_is_kept)
{
    gc_seed("token", NULL, "[{\"data\":\"old-text\"}]");
    sb_harness *h = gc_open_sa(NULL);
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO, nv = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(gc_read(h, "token", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    cr_assert_eq(host->bundle_put(b, "value", SB_VALUE_STRING, (const unsigned char *)"new-text", 8), 0);
    cr_assert_eq(gc_write(h, "token", b, "1", &nv, &res), SB_OK, "%s", res.message);
    host->bundle_free(b);
    char *raw = gc_payload("token", "2");
    /* base64("new-text") = bmV3LXRleHQ=: the raw bytes, not a JSON document */
    cr_assert_not_null(strstr(raw, "\"data\": \"bmV3LXRleHQ=\""), "%s", raw);
    free(raw);
    close_checked(h);
}

Test(gcpsm_provider, create_with_fence_labels_and_conflict)
{
    sb_harness *h = gc_open_sa("label_fence:\n  env: prod\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info nv = SB_TEST_VERSION_INFO, v = SB_TEST_VERSION_INFO;
    sb_bundle *b = es_bundle(h, "k", "v1", NULL);
    cr_assert_eq(gc_write(h, "fresh", b, SB_CAS_CREATE, &nv, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(es_host(h)->text_str(nv.version, NULL), "1");
    cr_assert_eq(gc_write(h, "fresh", b, SB_CAS_CREATE, &nv, &res), SB_E_CONFLICT);
    cr_assert_not_null(strstr(res.message, "already exists"), "%s", res.message);
    /* a create retried after the secret was made but before its version: finished */
    gc_seed("half", "{\"env\":\"prod\"}", NULL);
    cr_assert_eq(gc_write(h, "half", b, SB_CAS_CREATE, &nv, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(es_host(h)->text_str(nv.version, NULL), "1");
    es_host(h)->bundle_free(b);
    sb_bundle *back = NULL;
    cr_assert_eq(gc_read(h, "fresh", NULL, &back, &v, &res), SB_OK, "%s", res.message);
    char *k = es_bundle_get(h, back, "k", NULL);
    cr_assert_str_eq(k, "v1");
    free(k);
    es_host(h)->bundle_free(back);
    es_sink sink = {0};
    sb_secret_ref ref = {sizeof ref, 0, "fresh", NULL};
    cr_assert_eq(es_provider(h)->describe(sb_harness_instance(h), sb_harness_call(h, 10000), &ref,
                                          es_sink_collect, &sink, &res),
                 SB_OK, "%s", res.message);
    cr_assert_eq(sink.n, 1);
    cr_assert_str_eq(sink.items[0].labels, "env=prod;");
    cr_assert_str_eq(sink.items[0].version, "1");
    cr_assert_gt(sink.items[0].created, 1500000000000LL);
    es_sink_free(&sink);
    close_checked(h);
}

Test(gcpsm_provider, label_fence_refuses_outsiders)
{
    gc_seed("inside", "{\"env\":\"prod\"}", "[{\"data\":\"a\"}]");
    gc_seed("outside", "{\"env\":\"dev\"}", "[{\"data\":\"b\"}]");
    sb_harness *h = gc_open_sa("label_fence:\n  env: prod\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(gc_read(h, "inside", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    es_host(h)->bundle_free(b);
    b = NULL;
    cr_assert_eq(gc_read(h, "outside", NULL, &b, &v, &res), SB_E_DENIED);
    cr_assert_not_null(strstr(res.message, "label fence"), "%s", res.message);
    sb_bundle *w = es_bundle(h, "k", "x", NULL);
    cr_assert_eq(gc_write(h, "outside", w, "1", &v, &res), SB_E_DENIED);
    es_host(h)->bundle_free(w);
    char *log = gc_requests();
    cr_assert_eq(es_count(log, "\"op\": \"access\""), 1, "the outsider was never accessed: %s", log);
    free(log);
    close_checked(h);
}

Test(gcpsm_provider, list_pages_with_fence_and_selector)
{
    for (int i = 0; i < 9; i++) {
        char id[16], labels[96];
        snprintf(id, sizeof id, "svc-%d", i);
        snprintf(labels, sizeof labels, "{\"team\":\"%s\"%s}", i % 2 ? "a" : "b",
                 i % 3 ? ",\"env\":\"prod\"" : "");
        gc_seed(id, labels, "[{\"data\":\"x\"}]");
    }
    gc_seed("other-1", "{\"team\":\"a\",\"env\":\"prod\"}", NULL);
    sb_harness *h = gc_open_sa("label_fence:\n  env: prod\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    es_sink sink = {0};
    sb_text *cursor = sb_test_text();
    sb_kv sel[1] = {{"team", "a"}};
    sb_list_query q = {sizeof q, 2, "svc-", sel, 1, NULL};
    int calls = 0;
    do {
        sb_status st = es_provider(h)->list(sb_harness_instance(h), sb_harness_call(h, 10000), &q,
                                            es_sink_collect, &sink, cursor, &res);
        cr_assert_eq(st, SB_OK, "%s", res.message);
        calls++;
        free((char *)q.cursor);
        q.cursor = es_host(h)->text_str(cursor, NULL)[0] ? strdup(es_host(h)->text_str(cursor, NULL)) : NULL;
    } while (q.cursor && calls < 20);
    free((char *)q.cursor);
    /* team=a AND env=prod AND svc-: 1, 5, 7 (3 has no env, 9 does not exist) */
    cr_assert_eq(sink.n, 3, "got %zu", sink.n);
    cr_assert_not_null(es_sink_find(&sink, "svc-1"));
    cr_assert_not_null(es_sink_find(&sink, "svc-5"));
    cr_assert_not_null(es_sink_find(&sink, "svc-7"));
    cr_assert_null(es_sink_find(&sink, "svc-3"));
    cr_assert_null(es_sink_find(&sink, "other-1"));
    cr_assert_not_null(strstr(es_sink_find(&sink, "svc-1")->labels, "team=a;"));
    cr_assert_not_null(strstr(es_sink_find(&sink, "svc-1")->labels, "env=prod;"));
    cr_assert_geq(calls, 2, "paged through next_cursor");
    char *log = gc_requests();
    cr_assert_not_null(strstr(log, "labels.env=\\\"prod\\\" AND labels.team=\\\"a\\\" AND name:svc-"),
                       "server-side filter: %s", log);
    cr_assert_not_null(strstr(log, "\"pageToken\": \""), "pageToken followed: %s", log);
    free(log);
    es_sink_free(&sink);
    close_checked(h);
}

Test(gcpsm_provider, fence_is_applied_client_side_whatever_the_server_returns)
{
    /* a fence value the filter cannot carry (not plain text) is still enforced */
    gc_seed("a1", "{\"env\":\"prod\"}", NULL);
    gc_seed("a2", "{\"env\":\"prod\",\"tier\":\"\"}", NULL);
    sb_harness *h = gc_open_sa("label_fence:\n  env: prod\n  tier: \"\"\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    es_sink sink = {0};
    sb_text *cursor = sb_test_text();
    sb_list_query q = {sizeof q, 0, "", NULL, 0, NULL};
    cr_assert_eq(es_provider(h)->list(sb_harness_instance(h), sb_harness_call(h, 10000), &q,
                                      es_sink_collect, &sink, cursor, &res),
                 SB_OK, "%s", res.message);
    cr_assert_eq(sink.n, 1);
    cr_assert_not_null(es_sink_find(&sink, "a2"));
    es_sink_free(&sink);
    close_checked(h);
}

Test(gcpsm_provider, google_rpc_status_mapping)
{
    gc_seed("s", NULL, "[{\"data\":\"v\"}]");
    sb_harness *h = gc_open_sa(NULL);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    es_admin_ok("POST", "faults", "{\"target\":\"access\",\"retry_after\":3}");
    cr_assert_eq(gc_read(h, "s", NULL, &b, &v, &res), SB_E_THROTTLED, "%s", res.message);
    cr_assert_eq(res.retry_after_ms, 3000);
    cr_assert_not_null(strstr(res.message, "RESOURCE_EXHAUSTED"), "%s", res.message);
    es_admin_ok("POST", "faults", "{\"target\":\"access\"}");
    cr_assert_eq(gc_read(h, "s", NULL, &b, &v, &res), SB_E_THROTTLED, "%s", res.message);
    cr_assert_eq(res.retry_after_ms, 2000, "no Retry-After: the service config's 2 s backoff (got %u: %s)", res.retry_after_ms, res.message);
    es_admin_ok("POST", "faults", "{\"target\":\"access\",\"status\":503,\"code\":\"UNAVAILABLE\"}");
    cr_assert_eq(gc_read(h, "s", NULL, &b, &v, &res), SB_E_UNAVAILABLE, "%s", res.message);
    es_admin_ok("POST", "faults", "{\"target\":\"access\",\"corrupt_crc\":true}");
    cr_assert_eq(gc_read(h, "s", NULL, &b, &v, &res), SB_E_PROTOCOL, "%s", res.message);
    cr_assert_not_null(strstr(res.message, "dataCrc32c"), "%s", res.message);
    cr_assert_null(b);
    es_admin_ok("POST", "deny", "{\"permission\":\"secretmanager.versions.access\",\"secret\":\"s\"}");
    cr_assert_eq(gc_read(h, "s", NULL, &b, &v, &res), SB_E_DENIED, "%s", res.message);
    cr_assert_not_null(strstr(res.message, "PERMISSION_DENIED"), "%s", res.message);
    cr_assert_null(b);
    close_checked(h);
}

Test(gcpsm_provider, oversized_write_is_refused_before_sending)
{
    gc_seed("big", NULL, "[{\"data\":\"v\"}]");
    sb_harness *h = gc_open_sa(NULL);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info nv = SB_TEST_VERSION_INFO;
    sb_bundle *b = es_host(h)->bundle_new(SB_SHAPE_SINGLE);
    unsigned char *blob = calloc(1, 70000);
    cr_assert_eq(es_host(h)->bundle_put(b, "value", SB_VALUE_BINARY, blob, 70000), 0);
    free(blob);
    cr_assert_eq(gc_write(h, "big", b, "1", &nv, &res), SB_E_TOO_LARGE, "%s", res.message);
    es_host(h)->bundle_free(b);
    close_checked(h);
}
