/*
 * gitops_test_util.h — what the GitOps tests share (test_api_gitops,
 * test_e2e_gitops): the argocd plugin loaded and started through the real
 * registry (as `sbridge server` does with gitops_observation.plugin), an
 * Argo CD endpoint and a mapping made through the API by the world's
 * admin, and the state of an observation.
 *
 * Header-only (static inline) on the globals of tenancy_test_util.h.
 */
#ifndef SB_TESTS_GITOPS_TEST_UTIL_H
#define SB_TESTS_GITOPS_TEST_UTIL_H

#include "config/settings.h"
#include "plugin/gitops_client.h"
#include "plugin/registry.h"
#include "tenancy_test_util.h"

static sb_settings gitops_settings;
static sb_registry gitops_registry;

/* The started GitOps plugin `name` from `file` in `dir`, loaded as
 * `sbridge server` loads gitops_observation.plugin (fails the test
 * otherwise). */
static inline const sb_plugin_slot *gitops_plugin_start_file(const char *dir, const char *name,
                                                            const char *file)
{
    char yaml[1024];
    int n = snprintf(yaml, sizeof yaml,
                     "role: server\nplugins:\n  directory: %s\n  load:\n    - name: %s\n"
                     "      file: %s\n      capabilities: [gitops]\n",
                     dir, name, file);
    sb_diags d;
    sb_diags_init(&d, "gitops test");
    cr_assert_eq(sb_settings_load_text(yaml, (size_t)n, "server", &gitops_settings, &d), 0);
    cr_assert_eq(sb_registry_load(&gitops_registry, &gitops_settings, NULL, &d), 0);
    sb_diags_free(&d);
    sb_error err = {0};
    cr_assert_eq(sb_registry_start(&gitops_registry, &err), 0, "%s", err.message);
    const sb_plugin_slot *slot = sb_gitops_client_plugin(&gitops_registry, name, &err);
    cr_assert_not_null(slot, "%s", err.message);
    return slot;
}

/* The started argocd plugin (fails the test otherwise). */
static inline const sb_plugin_slot *gitops_plugin_start(void)
{
    return gitops_plugin_start_file(SB_PLUGIN_OUT_DIR, "argocd", "argocd.so");
}

static inline void gitops_plugin_stop(void)
{
    sb_registry_stop(&gitops_registry);
    sb_registry_free(&gitops_registry);
    sb_settings_free(&gitops_settings);
}

/* POST /argocd-endpoints as the admin; its id into out. */
static inline void gitops_endpoint(const char *name, int port, const char *token, char *out)
{
    sb_api_response r;
    long st = callf(admin, "POST", "/api/v1/argocd-endpoints", &r,
                    "{\"name\":\"%s\",\"base_url\":\"http://127.0.0.1:%d\",\"token\":\"%s\"}", name,
                    port, token);
    cr_assert_eq(st, 201, "%s", r.body);
    id_of(&r, out);
}

/* POST /gitops-mappings of `application` to a binding or a connection
 * (`scope_key` "binding_id" or "connection_id"); its id into out. */
static inline void gitops_map(const char *endpoint, const char *application, const char *scope_key,
                              const char *scope_id, char *out)
{
    sb_api_response r;
    long st = callf(admin, "POST", "/api/v1/gitops-mappings", &r,
                    "{\"endpoint_id\":\"%s\",\"application\":\"%s\",\"%s\":\"%s\"}", endpoint,
                    application, scope_key, scope_id);
    cr_assert_eq(st, 201, "%s", r.body);
    id_of(&r, out);
}

/* The state of request `req`'s observation of `application` ("" none). */
static inline void gitops_state(const char *req, const char *application, char *out, size_t cap)
{
    char q[300];
    snprintf(q, sizeof q,
             "SELECT state FROM gitops_observations WHERE request_id = '%s' AND application = '%s'",
             req, application);
    out[0] = '\0';
    sb_api_harness_sql(h, q, out, cap);
}

#endif
