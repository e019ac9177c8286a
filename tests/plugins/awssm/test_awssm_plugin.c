/*
 * tests/plugins/awssm/test_awssm_plugin.c — the awssm PROVIDER through the
 * real loader and host API against the AWS emulator (which verifies every
 * SigV4 signature): read of a JSON SecretString (MAP), a plain string
 * (SINGLE), SecretBinary (BINARY), by version id and by stage; the
 * compare-and-set write (merge, form kept, a concurrent writer's change
 * survives and the stale write conflicts, an idempotent replay, create);
 * describe; list with NextToken paging and the tag fence ANDed with a
 * selector; the tag fence on read; error mapping (throttling with
 * Retry-After, 5xx, access denied, a wrong secret key). Every test checks
 * that no secure memory leaks across the ABI.
 */
#include "abi_outputs.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awssm_test_support.h"

static long live_before;
static void setup(void)
{
    aw_emulator_start(NULL);
    live_before = sb_harness_live_secure_allocations();
}
static void teardown(void) { es_emulator_stop(); }

TestSuite(awssm_provider, .init = setup, .fini = teardown, .timeout = 120);

static void close_checked(sb_harness *h)
{
    sb_harness_close(h);
    cr_assert_eq(sb_harness_live_secure_allocations(), live_before, "secure memory leaked");
}

Test(awssm_provider, read_json_plain_and_binary_forms)
{
    char *v1 = aw_seed("app/db", "\"string\":\"{\\\"user\\\":\\\"u\\\",\\\"password\\\":\\\"p1\\\"}\"", NULL);
    free(aw_seed("app/plain", "\"string\":\"just text\"", NULL));
    free(aw_seed("app/bin", "\"binary_b64\":\"AP8BAg==\"", NULL));
    sb_harness *h = aw_open(AW_STATIC);
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(aw_read(h, "app/db", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    cr_assert_eq(host->bundle_shape(b), SB_SHAPE_MAP);
    char *pw = es_bundle_get(h, b, "password", NULL);
    cr_assert_str_eq(pw, "p1");
    cr_assert_str_eq(host->text_str(v.version, NULL), v1);
    cr_assert_gt(v.created_unix_ms, 1500000000000LL);
    free(pw);
    host->bundle_free(b);

    cr_assert_eq(aw_read(h, "app/plain", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    sb_value_kind kind = 0;
    char *val = es_bundle_get(h, b, "value", &kind);
    cr_assert_eq(host->bundle_shape(b), SB_SHAPE_SINGLE);
    cr_assert_eq(kind, SB_VALUE_STRING);
    cr_assert_str_eq(val, "just text");
    free(val);
    host->bundle_free(b);

    cr_assert_eq(aw_read(h, "app/bin", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    const char *k;
    const unsigned char *bytes;
    size_t len;
    cr_assert_eq(host->bundle_entry(b, 0, &k, &kind, &bytes, &len), 0);
    cr_assert_eq(kind, SB_VALUE_BINARY);
    cr_assert_eq(len, 4);
    cr_assert(memcmp(bytes, "\x00\xff\x01\x02", 4) == 0);
    host->bundle_free(b);

    cr_assert_eq(aw_read(h, "app/missing", NULL, &b, &v, &res), SB_E_NOT_FOUND);
    cr_assert_null(b);
    cr_assert_not_null(strstr(res.message, "ResourceNotFoundException"), "%s", res.message);
    free(v1);
    close_checked(h);
}

Test(awssm_provider, read_by_version_id_and_stage)
{
    char *v1 = aw_seed("s", "\"string\":\"one\"", NULL);
    es_admin_ok("POST", "put-value", "{\"secret_id\":\"s\",\"string\":\"two\"}");
    sb_harness *h = aw_open(AW_STATIC);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(aw_read(h, "s", v1, &b, &v, &res), SB_OK, "%s", res.message);
    char *val = es_bundle_get(h, b, "value", NULL);
    cr_assert_str_eq(val, "one");
    free(val);
    es_host(h)->bundle_free(b);
    cr_assert_eq(aw_read(h, "s", "AWSPREVIOUS", &b, &v, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(es_host(h)->text_str(v.version, NULL), v1);
    es_host(h)->bundle_free(b);
    cr_assert_eq(aw_read(h, "s", "NOSUCHSTAGE", &b, &v, &res), SB_E_NOT_FOUND);
    free(v1);
    close_checked(h);
}

Test(awssm_provider, cas_write_merges_keeps_form_and_conflicts)
{
    free(aw_seed("app/db", "\"string\":\"{\\\"user\\\":\\\"u\\\",\\\"password\\\":\\\"p1\\\"}\"",
                 "{\"team\":\"a\"}"));
    sb_harness *h = aw_open(AW_STATIC);
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info v = SB_TEST_VERSION_INFO, nv = SB_TEST_VERSION_INFO;
    sb_bundle *b = NULL;
    cr_assert_eq(aw_read(h, "app/db", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    char *read_version = strdup(host->text_str(v.version, NULL));
    cr_assert_eq(host->bundle_put(b, "password", SB_VALUE_STRING, (const unsigned char *)"p2", 2), 0);
    cr_assert_eq(aw_write(h, "app/db", b, read_version, &nv, &res), SB_OK, "%s", res.message);
    char *new_version = strdup(host->text_str(nv.version, NULL));
    cr_assert_str_neq(new_version, read_version);
    host->bundle_free(b);

    /* stored as a JSON SecretString again, AWSCURRENT moved, label tidied */
    cr_assert_eq(aw_read(h, "app/db", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    cr_assert_eq(host->bundle_shape(b), SB_SHAPE_MAP);
    char *pw = es_bundle_get(h, b, "password", NULL), *user = es_bundle_get(h, b, "user", NULL);
    cr_assert_str_eq(pw, "p2");
    cr_assert_str_eq(user, "u");
    cr_assert_str_eq(host->text_str(v.version, NULL), new_version);
    free(pw);
    free(user);
    char *log = aw_requests();
    cr_assert_not_null(strstr(log, "secretsmanager.UpdateSecretVersionStage"));
    cr_assert_null(strstr(log, "p2"), "a value reached the request log");
    free(log);
    sb_metadata_sink sinkfn = es_sink_collect;
    es_sink sink = {0};
    sb_secret_ref ref = {sizeof ref, 0, "app/db", NULL};
    cr_assert_eq(es_provider(h)->describe(sb_harness_instance(h), sb_harness_call(h, 10000), &ref,
                                          sinkfn, &sink, &res),
                 SB_OK, "%s", res.message);
    cr_assert_eq(sink.n, 1);
    cr_assert_str_eq(sink.items[0].version, new_version);
    cr_assert_str_eq(sink.items[0].labels, "team=a;");
    cr_assert_gt(sink.items[0].updated, 0);
    es_sink_free(&sink);

    /* a concurrent writer moves AWSCURRENT: the stale write conflicts and
     * the other writer's value survives */
    es_admin_ok("POST", "put-value", "{\"secret_id\":\"app/db\",\"string\":\"{\\\"user\\\":\\\"other\\\"}\"}");
    cr_assert_eq(aw_write(h, "app/db", b, new_version, &nv, &res), SB_E_CONFLICT);
    host->bundle_free(b);
    cr_assert_eq(aw_read(h, "app/db", NULL, &b, &v, &res), SB_OK);
    user = es_bundle_get(h, b, "user", NULL);
    cr_assert_str_eq(user, "other");
    free(user);
    host->bundle_free(b);
    free(read_version);
    free(new_version);
    close_checked(h);
}

Test(awssm_provider, replayed_write_is_idempotent_and_create)
{
    char *v1 = aw_seed("s", "\"string\":\"one\"", NULL);
    sb_harness *h = aw_open(AW_STATIC);
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info nv = SB_TEST_VERSION_INFO, nv2 = SB_TEST_VERSION_INFO;
    sb_bundle *b = host->bundle_new(SB_SHAPE_SINGLE);
    host->bundle_put(b, "value", SB_VALUE_STRING, (const unsigned char *)"two", 3);
    cr_assert_eq(aw_write(h, "s", b, v1, &nv, &res), SB_OK, "%s", res.message);
    /* the same job replays the same write (e.g. after a lost answer) */
    cr_assert_eq(aw_write(h, "s", b, v1, &nv2, &res), SB_OK, "%s", res.message);
    cr_assert_str_eq(host->text_str(nv.version, NULL), host->text_str(nv2.version, NULL));
    char *log = aw_requests();
    cr_assert_eq(es_count(log, "secretsmanager.PutSecretValue"), 1, "%s", log);
    free(log);
    /* a plain SecretString stays a plain string */
    sb_bundle *out = NULL;
    sb_version_info v = SB_TEST_VERSION_INFO;
    cr_assert_eq(aw_read(h, "s", NULL, &out, &v, &res), SB_OK);
    cr_assert_eq(host->bundle_shape(out), SB_SHAPE_SINGLE);
    host->bundle_free(out);
    sb_bundle *notext = host->bundle_new(SB_SHAPE_SINGLE);
    host->bundle_put(notext, "value", SB_VALUE_BINARY, (const unsigned char *)"\xff\xfe", 2);
    cr_assert_eq(aw_write(h, "s", notext, host->text_str(nv.version, NULL), &nv2, &res),
                 SB_E_INVALID, "non-UTF-8 bytes into a SecretString: %s", res.message);
    host->bundle_free(notext);

    cr_assert_eq(aw_write(h, "new/one", b, SB_CAS_CREATE, &nv, &res), SB_OK, "%s", res.message);
    cr_assert_eq(aw_write(h, "new/one", b, SB_CAS_CREATE, &nv, &res), SB_OK,
                 "a replayed create is recognised: %s", res.message);
    cr_assert_eq(aw_write(h, "s", b, SB_CAS_CREATE, &nv, &res), SB_E_CONFLICT);
    cr_assert_eq(aw_write(h, "s", b, NULL, &nv, &res), SB_E_INVALID);
    host->bundle_free(b);
    free(v1);
    close_checked(h);
}

/* The window between PutSecretValue and the stage move: AWS refuses the
 * move (InvalidParameterException, injected here) -> SB_E_CONFLICT, the
 * pending label is removed again and AWSCURRENT stays where it was. */
Test(awssm_provider, stage_move_refused_is_a_conflict)
{
    char *v1 = aw_seed("s", "\"string\":\"one\"", NULL);
    sb_harness *h = aw_open(AW_STATIC);
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info nv = SB_TEST_VERSION_INFO, v = SB_TEST_VERSION_INFO;
    es_admin_ok("POST", "faults",
                "{\"target\":\"UpdateSecretVersionStage\",\"type\":\"InvalidParameterException\","
                "\"message\":\"The staging label AWSCURRENT is currently attached to version x\"}");
    sb_bundle *b = host->bundle_new(SB_SHAPE_SINGLE);
    host->bundle_put(b, "value", SB_VALUE_STRING, (const unsigned char *)"two", 3);
    cr_assert_eq(aw_write(h, "s", b, v1, &nv, &res), SB_E_CONFLICT, "%s", res.message);
    host->bundle_free(b);
    char *log = aw_requests();
    cr_assert_eq(es_count(log, "secretsmanager.UpdateSecretVersionStage"), 2, "%s", log);
    free(log);
    sb_bundle *out = NULL;
    cr_assert_eq(aw_read(h, "s", NULL, &out, &v, &res), SB_OK);
    cr_assert_str_eq(host->text_str(v.version, NULL), v1);
    host->bundle_free(out);
    cr_assert_eq(aw_read(h, "s", "SBRIDGE_PENDING", &out, &v, &res), SB_E_NOT_FOUND,
                 "the pending label was left behind");
    free(v1);
    close_checked(h);
}

Test(awssm_provider, binary_stays_binary)
{
    char *v1 = aw_seed("bin", "\"binary_b64\":\"AAE=\"", NULL);
    sb_harness *h = aw_open(AW_STATIC);
    const sb_host_api *host = es_host(h);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_version_info nv = SB_TEST_VERSION_INFO, v = SB_TEST_VERSION_INFO;
    sb_bundle *map = es_bundle(h, "k", "v", NULL);
    cr_assert_eq(aw_write(h, "bin", map, v1, &nv, &res), SB_E_INVALID);
    host->bundle_free(map);
    sb_bundle *b = host->bundle_new(SB_SHAPE_SINGLE);
    host->bundle_put(b, "value", SB_VALUE_STRING, (const unsigned char *)"\x05\x06", 2);
    cr_assert_eq(aw_write(h, "bin", b, v1, &nv, &res), SB_OK, "%s", res.message);
    host->bundle_free(b);
    cr_assert_eq(aw_read(h, "bin", NULL, &b, &v, &res), SB_OK);
    sb_value_kind kind = 0;
    const char *k;
    const unsigned char *bytes;
    size_t len;
    cr_assert_eq(host->bundle_entry(b, 0, &k, &kind, &bytes, &len), 0);
    cr_assert_eq(kind, SB_VALUE_BINARY);
    cr_assert(len == 2 && bytes[0] == 5 && bytes[1] == 6);
    host->bundle_free(b);
    free(v1);
    close_checked(h);
}

Test(awssm_provider, list_pages_and_applies_fence_and_selector)
{
    /* in the fence team=a: s0 s2 s4 s6; s5 has key team and value a, but not as a pair */
    free(aw_seed("svc/s0", "\"string\":\"v\"", "{\"team\":\"a\",\"env\":\"prod\"}"));
    free(aw_seed("svc/s1", "\"string\":\"v\"", "{\"team\":\"b\",\"env\":\"prod\"}"));
    free(aw_seed("svc/s2", "\"string\":\"v\"", "{\"team\":\"a\",\"env\":\"dev\"}"));
    free(aw_seed("other/s3", "\"string\":\"v\"", "{\"team\":\"a\",\"env\":\"prod\"}"));
    free(aw_seed("svc/s4", "\"string\":\"v\"", "{\"team\":\"a\",\"env\":\"prod\"}"));
    free(aw_seed("svc/s5", "\"string\":\"v\"", "{\"team\":\"b\",\"owner\":\"a\"}"));
    free(aw_seed("svc/s6", "\"string\":\"v\"", "{\"team\":\"a\"}"));
    sb_harness *h = aw_open(AW_STATIC "tag_fence:\n  team: a\n");
    SB_TEST_RESULT res = SB_RESULT_INIT;
    es_sink sink = {0};
    sb_text *cursor = sb_test_text();
    sb_list_query q = {sizeof q, 2, "svc/", NULL, 0, NULL};
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
    cr_assert_eq(sink.n, 4, "got %zu", sink.n);
    cr_assert_geq(calls, 2, "the page size hint was not honoured");
    cr_assert_not_null(es_sink_find(&sink, "svc/s0"));
    cr_assert_not_null(es_sink_find(&sink, "svc/s6"));
    cr_assert_null(es_sink_find(&sink, "svc/s5"));
    cr_assert_null(es_sink_find(&sink, "other/s3"));
    cr_assert_not_null(strstr(es_sink_find(&sink, "svc/s0")->labels, "team=a;"));
    es_sink_free(&sink);

    /* a selector narrows inside the fence; it never widens it */
    sb_kv sel[] = {{"env", "prod"}};
    sb_list_query q2 = {sizeof q2, 0, "", sel, 1, NULL};
    cr_assert_eq(es_provider(h)->list(sb_harness_instance(h), sb_harness_call(h, 10000), &q2,
                                      es_sink_collect, &sink, cursor, &res),
                 SB_OK, "%s", res.message);
    cr_assert_eq(sink.n, 3); /* s0, other/s3, s4 — never s1 (team b) */
    cr_assert_null(es_sink_find(&sink, "svc/s1"));
    es_sink_free(&sink);
    sb_kv wider[] = {{"team", "b"}};
    sb_list_query q3 = {sizeof q3, 0, "", wider, 1, NULL};
    cr_assert_eq(es_provider(h)->list(sb_harness_instance(h), sb_harness_call(h, 10000), &q3,
                                      es_sink_collect, &sink, cursor, &res),
                 SB_OK);
    cr_assert_eq(sink.n, 0, "a selector replaced the fence");
    es_sink_free(&sink);

    /* the fence holds for read and describe too */
    sb_bundle *b = NULL;
    sb_version_info v = SB_TEST_VERSION_INFO;
    cr_assert_eq(aw_read(h, "svc/s1", NULL, &b, &v, &res), SB_E_DENIED);
    cr_assert_not_null(strstr(res.message, "tag fence"));
    cr_assert_eq(aw_read(h, "svc/s0", NULL, &b, &v, &res), SB_OK);
    es_host(h)->bundle_free(b);
    sb_bundle *w = es_bundle(h, "k", "v", NULL);
    sb_version_info nv = SB_TEST_VERSION_INFO;
    cr_assert_eq(aw_write(h, "svc/s1", w, "0123456789abcdef0123456789abcdef", &nv, &res), SB_E_DENIED);
    char *log = aw_requests();
    cr_assert_eq(es_count(log, "secretsmanager.PutSecretValue"), 0, "a write crossed the fence");
    free(log);
    es_host(h)->bundle_free(w);
    close_checked(h);
}

Test(awssm_provider, errors_map_to_statuses)
{
    free(aw_seed("s", "\"string\":\"v\"", NULL));
    sb_harness *h = aw_open(AW_STATIC);
    SB_TEST_RESULT res = SB_RESULT_INIT;
    sb_bundle *b = NULL;
    sb_version_info v = SB_TEST_VERSION_INFO;
    es_admin_ok("POST", "faults", "{\"target\":\"GetSecretValue\",\"retry_after\":2}");
    cr_assert_eq(aw_read(h, "s", NULL, &b, &v, &res), SB_E_THROTTLED, "%s", res.message);
    cr_assert_eq(res.retry_after_ms, 2000);
    es_admin_ok("POST", "faults", "{\"target\":\"GetSecretValue\",\"status\":500,\"type\":\"InternalServiceError\"}");
    cr_assert_eq(aw_read(h, "s", NULL, &b, &v, &res), SB_E_UNAVAILABLE, "%s", res.message);
    es_admin_ok("POST", "faults", "{\"target\":\"GetSecretValue\",\"type\":\"AccessDeniedException\",\"message\":\"User is not authorized\"}");
    cr_assert_eq(aw_read(h, "s", NULL, &b, &v, &res), SB_E_DENIED, "%s", res.message);
    cr_assert_eq(aw_read(h, "s", NULL, &b, &v, &res), SB_OK, "%s", res.message);
    es_host(h)->bundle_free(b);
    sb_harness_close(h);

    h = aw_open("credentials: static\naccess_key_id: " AW_AKID "\nsecret_access_key: wrong\n");
    b = NULL;
    cr_assert_eq(aw_read(h, "s", NULL, &b, &v, &res), SB_E_DENIED);
    cr_assert_not_null(strstr(res.message, "InvalidSignatureException"), "%s", res.message);
    cr_assert_null(strstr(res.message, "wrong"), "the secret key reached a message");
    close_checked(h);
}
