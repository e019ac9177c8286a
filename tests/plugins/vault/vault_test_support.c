/* tests/plugins/vault/vault_test_support.c — see vault_test_support.h. */
#include "abi_outputs.h"
#include "vault_test_support.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SB_TEST_PLUGIN_PATH
#error "SB_TEST_PLUGIN_PATH must be defined by the build"
#endif

void vt_emulator_start(const char *const *extra_args)
{
    es_emulator_start("tests/emulators/vault/vault_emulator.py", extra_args);
}

long vt_vault(const char *method, const char *path, const char *token, const char *ns,
              const char *json, const char *extra_header, char **out)
{
    char url[2048], line[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/%s", es_port(), path);
    /* extra_header "X-Vault-Request:" sends a request without that header. */
    int plain = extra_header && strncmp(extra_header, "X-Vault-Request:", 16) == 0;
    struct curl_slist *h = plain ? curl_slist_append(NULL, "Accept: */*")
                                 : curl_slist_append(NULL, "X-Vault-Request: true");
    if (token) {
        snprintf(line, sizeof line, "X-Vault-Token: %s", token);
        h = curl_slist_append(h, line);
    }
    if (ns) {
        snprintf(line, sizeof line, "X-Vault-Namespace: %s", ns);
        h = curl_slist_append(h, line);
    }
    if (extra_header && !plain)
        h = curl_slist_append(h, extra_header);
    long status = es_http(method, url, h, json, out);
    curl_slist_free_all(h);
    return status;
}

/* ---- the plugin --------------------------------------------------------------- */

static sb_harness *try_open_minor(const char *yaml_rest, int host_minor, char *err, size_t err_len)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, "address: http://127.0.0.1:%d\n%s", es_port(),
             yaml_rest ? yaml_rest : "");
    return sb_harness_open_minor(SB_TEST_PLUGIN_PATH, yaml, host_minor, err, err_len);
}

sb_harness *vt_try_open(const char *yaml_rest, char *err, size_t err_len)
{
    return try_open_minor(yaml_rest, SB_PLUGIN_ABI_MINOR, err, err_len);
}

sb_harness *vt_open_on_host_minor(const char *yaml_rest, int host_minor)
{
    char err[2048];
    sb_harness *h = try_open_minor(yaml_rest, host_minor, err, sizeof err);
    cr_assert_not_null(h, "the harness refused the plugin/config on a 1.%d host: %s", host_minor, err);
    return h;
}

sb_harness *vt_open(const char *yaml_rest) { return vt_open_on_host_minor(yaml_rest, SB_PLUGIN_ABI_MINOR); }

/* ---- request log -------------------------------------------------------------- */

char *vt_requests(void)
{
    char *body = NULL;
    long status = es_admin("GET", "requests", NULL, &body);
    cr_assert_eq(status, 200);
    return body;
}

size_t vt_count_requests(sb_harness *h, const char *method, const char *path_part)
{
    const sb_host_api *host = es_host(h);
    char *log = vt_requests();
    sb_json *doc = NULL;
    SB_TEST_RESULT res = SB_RESULT_INIT;
    cr_assert_eq(host->json_parse((const unsigned char *)log, strlen(log), &doc, &res), SB_OK,
                 "request log: %s", res.message);
    const sb_json_node *root = host->json_root(doc);
    size_t n = 0;
    for (size_t i = 0; i < host->json_count(root); i++) {
        const sb_json_node *e = host->json_member(root, i, NULL);
        const char *m = host->json_string(host->json_pointer(e, "/method"), NULL);
        const char *p = host->json_string(host->json_pointer(e, "/path"), NULL);
        if ((method == NULL || (m && strcmp(m, method) == 0)) &&
            (path_part == NULL || (p && strstr(p, path_part))))
            n++;
    }
    host->json_free(doc);
    free(log);
    return n;
}

