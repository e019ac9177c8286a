/* tests/support/plugin_harness.c — see plugin_harness.h. */
#include "plugin_harness.h"

#include <libgen.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/diag.h"
#include "config/yaml_doc.h"
#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/http_client.h"
#include "plugin/instance_config.h"
#include "plugin/loader.h"
#include "plugin/text.h"

struct sb_harness {
    sb_loaded_plugin loaded;
    sb_config *config;
    void *instance;
    int initialized;
    sb_call_ctx call;
};

long sb_harness_live_secure_allocations(void) { return sb_secure_live_allocations(); }

/* ---- the host tables handed to init ---------------------------------------- */

static atomic_long batches;

long sb_harness_http_batches(void) { return atomic_load(&batches); }

static sb_status counted_batch(const sb_call *call, const sb_http_request *const *requests, size_t n,
                               sb_http_batch **out, sb_result *res)
{
    atomic_fetch_add(&batches, 1);
    return sb_host_api_table()->http_batch(call, requests, n, out, res);
}

/* host_minor 0: the table as a 1.0 host hands it over (it ends before the
 * 1.1 functions); otherwise the real table, its http_batch counted. */
static const sb_host_api *host_table(int host_minor)
{
    static sb_host_api v1_0, current;
    static int built;
    if (!built) {
        current = *sb_host_api_table();
        current.http_batch = counted_batch;
        v1_0 = current;
        v1_0.abi_minor = 0;
        v1_0.struct_size = (uint32_t)offsetof(sb_host_api, http_batch);
        built = 1;
    }
    return host_minor == 0 ? &v1_0 : &current;
}

sb_harness *sb_harness_open(const char *plugin_path, const char *yaml_config, char *err, size_t err_len)
{
    return sb_harness_open_minor(plugin_path, yaml_config, SB_PLUGIN_ABI_MINOR, err, err_len);
}

sb_harness *sb_harness_open_minor(const char *plugin_path, const char *yaml_config, int host_minor, char *err,
                                  size_t err_len)
{
    static int once;
    if (!once) {
        sb_crypto_init();
        sb_http_global_init();
        once = 1;
    }
    err[0] = '\0';
    sb_harness *h = calloc(1, sizeof *h);
    char *dir_copy = strdup(plugin_path), *file_copy = strdup(plugin_path);
    const char *dir = dirname(dir_copy), *file = basename(file_copy);
    sb_error e;
    sb_loader_abi abi = {SB_PLUGIN_ABI_MAJOR, host_minor};
    int ok = sb_plugin_load_file(dir, file, NULL, &abi, &h->loaded, &e) == 0;
    free(dir_copy);
    free(file_copy);
    if (!ok) {
        snprintf(err, err_len, "%s", e.message);
        free(h);
        return NULL;
    }
    sb_diags d;
    sb_diags_init(&d, "harness config");
    const char *text = yaml_config ? yaml_config : "";
    sb_ynode *tree = sb_yaml_load_buffer(text, strlen(text), &d);
    if (tree)
        sb_instance_config_build(h->loaded.desc, "harness", tree, "config", &d, &h->config);
    sb_yaml_free(tree);
    if (d.n_errors) {
        size_t len = 0;
        for (size_t i = 0; i < d.n && len < err_len; i++) {
            char line[600];
            sb_diags_format(&d, i, line, sizeof line);
            len += (size_t)snprintf(err + len, err_len - len, "%s\n", line);
        }
        sb_diags_free(&d);
        sb_harness_close(h);
        return NULL;
    }
    sb_diags_free(&d);
    sb_result res = SB_RESULT_INIT;
    if (h->loaded.desc->init(host_table(host_minor), &res) != SB_OK) {
        snprintf(err, err_len, "init failed: %s", res.message);
        sb_result_release(&res);
        sb_harness_close(h);
        return NULL;
    }
    h->initialized = 1;
    if (h->loaded.desc->instance_new(h->config, &h->instance, &res) != SB_OK) {
        snprintf(err, err_len, "instance_new failed: %s", res.message);
        sb_result_release(&res);
        sb_harness_close(h);
        return NULL;
    }
    sb_result_release(&res);
    return h;
}

void sb_harness_close(sb_harness *h)
{
    if (h == NULL)
        return;
    if (h->instance)
        h->loaded.desc->instance_free(h->instance);
    if (h->initialized && h->loaded.desc->fini)
        h->loaded.desc->fini();
    sb_instance_config_free(h->config);
    sb_plugin_unload(&h->loaded);
    free(h);
}

const sb_plugin *sb_harness_descriptor(const sb_harness *h) { return h->loaded.desc; }
const sb_host_api *sb_harness_host(const sb_harness *h)
{
    (void)h;
    return sb_host_api_table();
}
void *sb_harness_instance(const sb_harness *h) { return h->instance; }

const sb_call *sb_harness_call(sb_harness *h, int64_t timeout_ms)
{
    sb_call_begin(&h->call, h->loaded.desc->name, "harness", "harness-test", timeout_ms);
    return &h->call.call;
}
