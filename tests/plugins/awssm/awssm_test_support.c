/* tests/plugins/awssm/awssm_test_support.c — see awssm_test_support.h. */
#include "awssm_test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SB_TEST_PLUGIN_PATH
#error "SB_TEST_PLUGIN_PATH must be defined by the build"
#endif

void aw_emulator_start(const char *const *extra_args)
{
    es_emulator_start("tests/emulators/awssm/awssm_emulator.py", extra_args);
}

sb_harness *aw_open(const char *yaml_rest)
{
    char yaml[4096], err[2048];
    int p = es_port();
    snprintf(yaml, sizeof yaml,
             "region: us-east-1\nendpoint: http://127.0.0.1:%d\nkms_endpoint: "
             "http://127.0.0.1:%d\nsts_endpoint: http://127.0.0.1:%d\nimds_endpoint: "
             "http://127.0.0.1:%d\n%s",
             p, p, p, p, yaml_rest ? yaml_rest : "");
    sb_harness *h = sb_harness_open(SB_TEST_PLUGIN_PATH, yaml, err, sizeof err);
    cr_assert_not_null(h, "the harness refused the plugin/config: %s", err);
    return h;
}

char *aw_seed(const char *name, const char *value_member, const char *tags_json)
{
    char body[4096], *out = NULL;
    snprintf(body, sizeof body, "{\"name\":\"%s\",%s,\"tags\":%s}", name, value_member,
             tags_json ? tags_json : "{}");
    long st = es_admin("POST", "secrets", body, &out);
    cr_assert_eq(st, 200, "seed %s: %ld %s", name, st, out);
    char *v = strstr(out, "\"VersionId\": \"");
    cr_assert_not_null(v, "%s", out);
    v += strlen("\"VersionId\": \"");
    char *copy = strndup(v, strcspn(v, "\""));
    free(out);
    return copy;
}

sb_status aw_read(sb_harness *h, const char *path, const char *version, sb_bundle **out,
                  sb_version_info *v, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, path, version};
    v->struct_size = sizeof *v;
    return es_provider(h)->read(sb_harness_instance(h), sb_harness_call(h, 10000), &ref, out, v,
                                res);
}

sb_status aw_write(sb_harness *h, const char *path, const sb_bundle *b, const char *expected,
                   sb_version_info *v, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, path, NULL};
    v->struct_size = sizeof *v;
    return es_provider(h)->write(sb_harness_instance(h), sb_harness_call(h, 10000), &ref, b,
                                 expected, v, res);
}

char *aw_requests(void)
{
    char *body = NULL;
    cr_assert_eq(es_admin("GET", "requests", NULL, &body), 200);
    return body;
}
