/* tests/plugins/azurekv/azurekv_test_support.c — see azurekv_test_support.h. */
#include "azurekv_test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SB_TEST_PLUGIN_PATH
#error "SB_TEST_PLUGIN_PATH must be defined by the build"
#endif

static int tls_port;
static char ca_file[512];

/* "key": value of a flat JSON answer (test only). */
static void json_field(const char *json, const char *key, char *out, size_t cap)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"%s\": ", key);
    const char *p = strstr(json, needle);
    cr_assert_not_null(p, "%s not in %s", key, json);
    p += strlen(needle);
    if (*p == '"')
        p++;
    size_t n = strcspn(p, "\",}");
    cr_assert_lt(n, cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

void kv_emulator_start(void)
{
    es_emulator_start("tests/emulators/azurekv/azurekv_emulator.py", NULL);
    char *info = NULL, port[16];
    cr_assert_eq(es_admin("GET", "info", NULL, &info), 200);
    json_field(info, "tls_port", port, sizeof port);
    json_field(info, "ca_file", ca_file, sizeof ca_file);
    tls_port = atoi(port);
    free(info);
    es_admin_ok("POST", "apps",
                "{\"client_id\":\"" KV_CLIENT "\",\"client_secret\":\"" KV_SECRET "\"}");
}

int kv_tls_port(void) { return tls_port; }
const char *kv_ca_file(void) { return ca_file; }

sb_harness *kv_try_open(const char *yaml_rest, char *err, size_t cap)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "vault_url: https://127.0.0.1:%d\nauthority_host: https://127.0.0.1:%d\n"
             "ca_file: %s\nverify_challenge_resource: false\n%s",
             tls_port, tls_port, ca_file, yaml_rest ? yaml_rest : "");
    return sb_harness_open(SB_TEST_PLUGIN_PATH, yaml, err, cap);
}

sb_harness *kv_open(const char *yaml_rest)
{
    char err[2048];
    sb_harness *h = kv_try_open(yaml_rest, err, sizeof err);
    cr_assert_not_null(h, "the harness refused the plugin/config: %s", err);
    return h;
}

char *kv_seed(const char *name, const char *value_json, const char *extra_json)
{
    char body[8192], *out = NULL;
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"value\":%s%s%s}", name, value_json,
             extra_json ? "," : "", extra_json ? extra_json : "");
    long st = es_admin("POST", "secrets", body, &out);
    cr_assert_eq(st, 200, "seed %s: %ld %s", name, st, out);
    char id[512];
    json_field(out, "id", id, sizeof id);
    free(out);
    return strdup(strrchr(id, '/') + 1);
}

sb_status kv_read(sb_harness *h, const char *path, const char *version, sb_bundle **out,
                  sb_version_info *v, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, path, version};
    v->struct_size = sizeof *v;
    return es_provider(h)->read(sb_harness_instance(h), sb_harness_call(h, 20000), &ref, out, v,
                                res);
}

sb_status kv_write(sb_harness *h, const char *path, const sb_bundle *b, const char *expected,
                   sb_version_info *v, sb_result *res)
{
    sb_secret_ref ref = {sizeof ref, 0, path, NULL};
    v->struct_size = sizeof *v;
    return es_provider(h)->write(sb_harness_instance(h), sb_harness_call(h, 20000), &ref, b,
                                 expected, v, res);
}

sb_status kv_list(sb_harness *h, const sb_list_query *q, es_sink *sink, char **next_cursor,
                  sb_result *res)
{
    const sb_host_api *host = es_host(h);
    sb_text *cursor = host->text_new();
    sb_status st = es_provider(h)->list(sb_harness_instance(h), sb_harness_call(h, 30000), q,
                                        es_sink_collect, sink, cursor, res);
    if (next_cursor)
        *next_cursor = strdup(host->text_str(cursor, NULL));
    host->text_free(cursor);
    return st;
}

char *kv_requests(void)
{
    char *body = NULL;
    cr_assert_eq(es_admin("GET", "requests", NULL, &body), 200);
    return body;
}

char *kv_token_requests(void)
{
    char *body = NULL;
    cr_assert_eq(es_admin("GET", "token-requests", NULL, &body), 200);
    return body;
}
