/* tests/plugins/gcpsm/gcpsm_test_support.c — see gcpsm_test_support.h. */
#include "gcpsm_test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SB_TEST_PLUGIN_PATH
#error "SB_TEST_PLUGIN_PATH must be defined by the build"
#endif

void gc_emulator_start(const char *const *extra_args)
{
    es_emulator_start("tests/emulators/gcpsm/gcpsm_emulator.py", extra_args);
}

char *gc_key_file(const char *email)
{
    char body[256], *out = NULL;
    snprintf(body, sizeof body, "{\"client_email\":\"%s\"}", email);
    long st = es_admin("POST", "service-account-keys", body, &out);
    cr_assert_eq(st, 200, "service-account-keys: %ld %s", st, out);
    cr_assert_not_null(strstr(out, "PRIVATE KEY"), "%s", out);
    char *path = es_temp_file("sa-key.json", out);
    free(out);
    return path;
}

sb_harness *gc_open(const char *yaml_rest)
{
    char yaml[4096], err[2048];
    snprintf(yaml, sizeof yaml, "project: test-project\nendpoint: http://127.0.0.1:%d\n%s",
             es_port(), yaml_rest ? yaml_rest : "");
    sb_harness *h = sb_harness_open(SB_TEST_PLUGIN_PATH, yaml, err, sizeof err);
    cr_assert_not_null(h, "the harness refused the plugin/config: %s", err);
    return h;
}

sb_harness *gc_open_sa(const char *yaml_extra)
{
    char *key = gc_key_file(GC_EMAIL), rest[2048];
    snprintf(rest, sizeof rest, "credentials: service_account\nservice_account_key_file: %s\n%s",
             key, yaml_extra ? yaml_extra : "");
    free(key);
    return gc_open(rest);
}

void gc_seed(const char *id, const char *labels_json, const char *versions_json)
{
    char body[8192], *out = NULL;
    snprintf(body, sizeof body, "{\"secret_id\":\"%s\",\"labels\":%s,\"versions\":%s}", id,
             labels_json ? labels_json : "{}", versions_json ? versions_json : "[]");
    long st = es_admin("POST", "secrets", body, &out);
    cr_assert_eq(st, 200, "seed %s: %ld %s", id, st, out);
    free(out);
}

sb_status gc_read(sb_harness *h, const char *path, const char *version, sb_bundle **out,
                  sb_version_info *v, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, path, version};
    v->struct_size = sizeof *v;
    return es_provider(h)->read(sb_harness_instance(h), sb_harness_call(h, 10000), &ref, out, v,
                                res);
}

sb_status gc_write(sb_harness *h, const char *path, const sb_bundle *b, const char *expected,
                   sb_version_info *v, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, path, NULL};
    v->struct_size = sizeof *v;
    return es_provider(h)->write(sb_harness_instance(h), sb_harness_call(h, 10000), &ref, b,
                                 expected, v, res);
}

char *gc_requests(void)
{
    char *body = NULL;
    cr_assert_eq(es_admin("GET", "requests", NULL, &body), 200);
    return body;
}

char *gc_stats(void)
{
    char *body = NULL;
    cr_assert_eq(es_admin("GET", "stats", NULL, &body), 200);
    return body;
}

char *gc_payload(const char *id, const char *version)
{
    char url[512], *out = NULL;
    es_admin_ok("POST", "tokens", "{\"token\":\"test-reader\"}");
    snprintf(url, sizeof url,
             "http://127.0.0.1:%d/v1/projects/test-project/secrets/%s/versions/%s:access",
             es_port(), id, version);
    struct curl_slist *hd = curl_slist_append(NULL, "Authorization: Bearer test-reader");
    long st = es_http("GET", url, hd, NULL, &out);
    curl_slist_free_all(hd);
    cr_assert_eq(st, 200, "%s", out);
    return out;
}
