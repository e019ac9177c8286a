/*
 * cli/cmd_dev.c — `sbridge dev`: a first look on one machine.
 *
 * Validates the dev config (the embedded one by default), loads and starts
 * every plugin and instance, lists what each provider holds (metadata and
 * labels only — never a value), runs a KMS wrap/unwrap round trip, then
 * runs the control plane in dev mode on a private embedded PostgreSQL until
 * Ctrl-C (--once stops after the plugin checks). The worker and agent join
 * it as their issues land.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/settings.h"
#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/registry.h"
#include "server/control_plane.h"
#include "util/log.h"

extern const char sb_embedded_dev_yaml[];
extern const unsigned long sb_embedded_dev_yaml_len;


/* Runs the control plane in dev mode until SIGINT/SIGTERM. The state
 * directory is dev.state_dir, or a fresh temporary one (removed at exit). */
static int run_control_plane(const sb_settings *s)
{
    char temp[64] = "";
    const char *state_dir = s->state_dir;
    if (state_dir == NULL) {
        snprintf(temp, sizeof temp, "/tmp/sbridge-dev-XXXXXX");
        if (mkdtemp(temp) == NULL) {
            perror("sbridge dev: cannot create a state directory");
            return 1;
        }
        state_dir = temp;
    }
    sigset_t set;
    sb_cli_block_signals(&set);
    sb_control_plane_options opts = {.dev_mode = 1, .state_dir = state_dir, .run_background = 1};
    sb_control_plane *cp;
    sb_error err;
    if (sb_control_plane_start(s, &opts, &cp, &err) != 0) {
        fprintf(stderr, "sbridge dev: %s\n", err.message);
        return 1;
    }
    printf("\nControl plane: %s  (state in %s)\n"
           "  health:  %s/healthz   API: %s/api/v1/openapi.json\n"
           "Press Ctrl-C to stop.\n",
           sb_control_plane_url(cp), state_dir, sb_control_plane_url(cp), sb_control_plane_url(cp));
    fflush(stdout);
    int sig = 0;
    do
        sigwait(&set, &sig);
    while (sig == SIGHUP);
    sb_control_plane_stop(cp, s->shutdown_grace_ms);
    if (temp[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", temp);
        if (system(cmd) != 0)
            fprintf(stderr, "sbridge dev: could not remove %s\n", temp);
    }
    return 0;
}

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
    int once = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0)
            once = 1;
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strcmp(argv[i], "--plugin-dir") == 0 && i + 1 < argc)
            plugin_dir = argv[++i];
        else
            return sb_cli_unknown_argument("dev", argv[i]);
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
        fflush(stdout);
        if (!once)
            rc = run_control_plane(&s);
    }
    sb_registry_free(&r);
    sb_settings_free(&s);
    return rc;
}
