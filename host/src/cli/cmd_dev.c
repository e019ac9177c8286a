/*
 * cli/cmd_dev.c — `sbridge dev`: a first look on one machine.
 *
 * Today it proves the plugin host end to end on the embedded defaults:
 * validates the dev config, loads and starts every plugin and instance,
 * lists what each provider holds (metadata and labels only — never a
 * value), runs a KMS wrap/unwrap round trip, then stops cleanly. The
 * control plane, worker and agent join it as their issues land.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config/settings.h"
#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/registry.h"

extern const char sb_embedded_dev_yaml[];
extern const unsigned long sb_embedded_dev_yaml_len;

size_t sb_config_check_file(const char *file, const char *expected_role, const char *plugin_dir,
                            sb_settings *s, sb_registry *r, FILE *out);

static int print_secret(void *sink, const sb_metadata *m)
{
    int *count = sink;
    printf("    %-28s version %-4s", m->path, m->version ? m->version : "-");
    for (size_t i = 0; i < m->n_labels; i++)
        printf(" %s=%s", m->labels[i].key, m->labels[i].value);
    printf("\n");
    ++*count;
    return 0;
}

static void show_provider(sb_instance *inst)
{
    const sb_plugin *d = inst->plugin->loaded.desc;
    sb_call_ctx ctx;
    sb_call_begin(&ctx, d->name, inst->name, "dev", 10000);
    char cursor[SB_CURSOR_MAX] = "";
    /* The instance's fence is the selector: a list never leaves it. */
    sb_list_query q = {sizeof q, 100, "", inst->fence->items, inst->fence->n, NULL};
    sb_result res = SB_RESULT_INIT;
    int count = 0;
    printf("  provider %s (plugin %s %s):\n", inst->name, d->name, d->version);
    if (d->provider->list(inst->handle, &ctx.call, &q, print_secret, &count, cursor, &res) != SB_OK)
        printf("    list failed: %s\n", res.message);
    else
        printf("    %d secret%s\n", count, count == 1 ? "" : "s");
}

static void show_kms(sb_instance *inst)
{
    const sb_plugin *d = inst->plugin->loaded.desc;
    sb_call_ctx ctx;
    sb_call_begin(&ctx, d->name, inst->name, "dev", 10000);
    sb_secure_buf *pt = sb_secure_new(32), *ct = sb_secure_new(64), *back = sb_secure_new(32);
    unsigned char key[32];
    sb_host_api_table()->random_bytes(key, sizeof key);
    sb_secure_append(pt, key, sizeof key);
    char key_id[SB_KEY_ID_MAX] = "";
    sb_result res = SB_RESULT_INIT;
    int ok = d->kms->wrap(inst->handle, &ctx.call, pt, ct, key_id, &res) == SB_OK &&
             d->kms->unwrap(inst->handle, &ctx.call, ct->data, ct->len, key_id, back, &res) == SB_OK &&
             back->len == pt->len && memcmp(back->data, pt->data, pt->len) == 0;
    printf("  kms %s (plugin %s): %s%s%s\n", inst->name, d->name,
           ok ? "wrap/unwrap round trip ok, key " : "round trip FAILED: ", ok ? key_id : res.message, "");
    sb_secure_free(pt);
    sb_secure_free(ct);
    sb_secure_free(back);
}

int sb_cmd_dev(int argc, char **argv)
{
    const char *file = NULL, *plugin_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strcmp(argv[i], "--plugin-dir") == 0 && i + 1 < argc)
            plugin_dir = argv[++i];
        else
            return sb_cli_usage_error("dev", "unknown argument %s", argv[i]);
    }
    sb_settings s;
    sb_registry r;
    size_t errors;
    if (file) {
        errors = sb_config_check_file(file, "dev", plugin_dir, &s, &r, stderr);
    } else {
        sb_diags d;
        sb_diags_init(&d, "<embedded dev.yaml>");
        sb_settings_load_text(sb_embedded_dev_yaml, sb_embedded_dev_yaml_len, "dev", &s, &d);
        if (d.n_errors == 0) {
            sb_settings_apply_log_level(&s);
            sb_registry_load(&r, &s, plugin_dir, &d);
        }
        sb_diags_print(&d, stderr);
        errors = d.n_errors;
        sb_diags_free(&d);
        if (errors) {
            sb_registry_free(&r);
            sb_settings_free(&s);
        }
    }
    if (errors) {
        fprintf(stderr, "sbridge dev: the configuration has %zu error%s (listed above)\n", errors,
                errors == 1 ? "" : "s");
        return 1;
    }
    sb_error err;
    int rc = 0;
    if (sb_registry_start(&r, &err) != 0) {
        fprintf(stderr, "sbridge dev: %s\n", err.message);
        rc = 1;
    } else {
        printf("Secrets Bridge %s — dev mode\n\n%zu plugin%s loaded:\n", SB_VERSION_STRING, r.n_plugins,
               r.n_plugins == 1 ? "" : "s");
        for (size_t i = 0; i < r.n_plugins; i++)
            printf("  %-14s %-8s sha256 %.16s…  %s\n", r.plugins[i].loaded.desc->name,
                   r.plugins[i].loaded.desc->version, r.plugins[i].loaded.sha256,
                   r.plugins[i].loaded.desc->description);
        printf("\n");
        for (size_t i = 0; i < r.n_instances; i++) {
            if (r.instances[i].capability == SB_CAP_PROVIDER)
                show_provider(&r.instances[i]);
            else if (r.instances[i].capability == SB_CAP_KMS)
                show_kms(&r.instances[i]);
        }
        printf("\nThe control plane, worker and agent roles are not in this build yet;\n"
               "this run shows the plugin host working end to end.\n");
    }
    sb_registry_free(&r);
    sb_settings_free(&s);
    return rc;
}
