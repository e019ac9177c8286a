/* plugin/registry.c — see registry.h. */
#include "plugin/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/descriptor.h"
#include "plugin/host_api.h"
#include "plugin/instance_config.h"
#include "plugin/text.h"
#include "util/log.h"

const char *sb_registry_directory(const sb_settings *s, const char *override)
{
    if (override && *override)
        return override;
    const char *env = getenv("SBRIDGE_PLUGIN_DIR");
    if (env && *env)
        return env;
    if (s->plugins.directory)
        return s->plugins.directory;
    return sb_plugin_default_directory();
}

static sb_plugin_slot *find_plugin(sb_registry *r, const char *name)
{
    for (size_t i = 0; i < r->n_plugins; i++)
        if (r->plugins[i].loaded.desc && strcmp(r->plugins[i].loaded.desc->name, name) == 0)
            return &r->plugins[i];
    return NULL;
}

static void load_plugins(sb_registry *r, const sb_settings *s, const char *dir, sb_diags *d)
{
    const sb_plugin_load_settings *load = s->plugins.load.items;
    r->plugins = calloc(s->plugins.load.n ? s->plugins.load.n : 1, sizeof *r->plugins);
    for (size_t i = 0; i < s->plugins.load.n; i++) {
        const sb_plugin_load_settings *e = &load[i];
        if (e->name == NULL || e->file == NULL)
            continue; /* already reported by the schema */
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = load[j].name && strcmp(load[j].name, e->name) == 0;
        if (dup) {
            sb_diags_error(d, e->pos.line, e->pos.col,
                           "plugins.load[%zu]: plugin '%s' is listed twice", i, e->name);
            continue;
        }
        sb_error err;
        sb_plugin_slot *slot = &r->plugins[r->n_plugins];
        if (sb_plugin_load_file(dir, e->file, e->sha256, NULL, &slot->loaded, &err) != 0) {
            sb_diags_error(d, e->pos.line, e->pos.col, "plugins.load[%zu] (%s): %s", i, e->name,
                           err.message);
            continue;
        }
        const sb_plugin *desc = slot->loaded.desc;
        if (strcmp(desc->name, e->name) != 0) {
            sb_diags_error(d, e->pos.line, e->pos.col,
                           "plugins.load[%zu]: file %s is plugin '%s', not '%s'", i, e->file,
                           desc->name, e->name);
            sb_plugin_unload(&slot->loaded);
            continue;
        }
        if (find_plugin(r, desc->name)) {
            sb_diags_error(d, e->pos.line, e->pos.col,
                           "plugins.load[%zu]: a plugin named '%s' is already loaded", i, desc->name);
            sb_plugin_unload(&slot->loaded);
            continue;
        }
        int ok = 1;
        for (size_t k = 0; k < e->capabilities.n; k++) {
            uint64_t cap = sb_capability_from_name(e->capabilities.items[k]);
            if (cap == 0) {
                sb_diags_error(d, e->pos.line, e->pos.col,
                               "plugins.load[%zu].capabilities: '%s' is not one of provider, kms, "
                               "gitops, notifier",
                               i, e->capabilities.items[k]);
                ok = 0;
            } else if (!(desc->capabilities & cap)) {
                char have[64];
                sb_capabilities_format(desc->capabilities, have, sizeof have);
                sb_diags_error(d, e->pos.line, e->pos.col,
                               "plugins.load[%zu]: the config asks plugin '%s' for the %s capability, "
                               "but it only provides: %s",
                               i, desc->name, e->capabilities.items[k], have);
                ok = 0;
            }
        }
        char problems[1024];
        if (sb_plugin_schema_check(desc, problems, sizeof problems) != 0) {
            char *nl = strchr(problems, '\n');
            if (nl)
                *nl = '\0';
            sb_diags_error(d, e->pos.line, e->pos.col,
                           "plugins.load[%zu]: plugin '%s' declares a broken config schema: %s", i,
                           desc->name, problems);
            ok = 0;
        }
        if (!ok) {
            sb_plugin_unload(&slot->loaded);
            continue;
        }
        r->n_plugins++;
        sb_info("plugin", "loaded plugin %s %s (requires ABI %u.%u, built with %u.%u, sha256 %s) from %s",
                desc->name, desc->version, desc->abi_major, desc->requires_minor, desc->abi_major,
                desc->abi_minor, slot->loaded.sha256,
                slot->loaded.path);
    }
}

/* Names are unique per kind; checked on the settings so an instance whose
 * own config is wrong still counts. */
static int duplicate_name(const sb_instance_settings *list, size_t i, const char *path, const char *kind,
                          sb_diags *d)
{
    for (size_t j = 0; list[i].name && j < i; j++)
        if (list[j].name && strcmp(list[j].name, list[i].name) == 0) {
            sb_diags_error(d, list[i].pos.line, list[i].pos.col,
                           "%s: a %s named '%s' is already configured (line %d)", path, kind, list[i].name,
                           list[j].pos.line);
            return 1;
        }
    return 0;
}

static void add_instance(sb_registry *r, const sb_instance_settings *is, const char *kind,
                         uint64_t cap, const char *path, sb_diags *d)
{
    if (is->name == NULL || is->plugin == NULL)
        return;
    sb_plugin_slot *slot = find_plugin(r, is->plugin);
    if (slot == NULL) {
        sb_diags_error(d, is->pos.line, is->pos.col,
                       "%s: plugin '%s' is not loaded; list it under plugins.load", path, is->plugin);
        return;
    }
    if (!(slot->loaded.desc->capabilities & cap)) {
        sb_diags_error(d, is->pos.line, is->pos.col,
                       "%s: plugin '%s' has no %s capability", path, is->plugin, sb_capability_name(cap));
        return;
    }
    char cpath[192];
    snprintf(cpath, sizeof cpath, "%s.config", path);
    sb_config *cfg;
    if (sb_instance_config_build(slot->loaded.desc, is->name, is->config, cpath, d, &cfg) != 0)
        return;
    sb_instance *inst = &r->instances[r->n_instances++];
    memset(inst, 0, sizeof *inst);
    inst->name = is->name;
    inst->kind = kind;
    inst->capability = cap;
    inst->plugin = slot;
    inst->config = cfg;
    inst->fence = &is->fence;
    pthread_mutex_init(&inst->lock, NULL);
}

size_t sb_registry_load(sb_registry *r, const sb_settings *s, const char *plugin_dir_override,
                        sb_diags *d)
{
    memset(r, 0, sizeof *r);
    size_t before = d->n_errors;
    load_plugins(r, s, sb_registry_directory(s, plugin_dir_override), d);
    size_t total = s->providers.n + s->notifiers.n + s->gitops.n + 1;
    r->instances = calloc(total, sizeof *r->instances);
    const sb_instance_settings *list = s->providers.items;
    char path[64];
    for (size_t i = 0; i < s->providers.n; i++) {
        snprintf(path, sizeof path, "providers[%zu]", i);
        if (!duplicate_name(list, i, path, "provider", d))
            add_instance(r, &list[i], "provider", SB_CAP_PROVIDER, path, d);
    }
    list = s->notifiers.items;
    for (size_t i = 0; i < s->notifiers.n; i++) {
        snprintf(path, sizeof path, "notifiers[%zu]", i);
        if (!duplicate_name(list, i, path, "notifier", d))
            add_instance(r, &list[i], "notifier", SB_CAP_NOTIFIER, path, d);
    }
    list = s->gitops.items;
    for (size_t i = 0; i < s->gitops.n; i++) {
        snprintf(path, sizeof path, "gitops[%zu]", i);
        if (!duplicate_name(list, i, path, "gitops", d))
            add_instance(r, &list[i], "gitops", SB_CAP_GITOPS, path, d);
    }
    if (s->kms.pos.present)
        add_instance(r, &s->kms, "kms", SB_CAP_KMS, "kms", d);
    return d->n_errors - before;
}

int sb_registry_start(sb_registry *r, sb_error *err)
{
    for (size_t i = 0; i < r->n_plugins; i++) {
        sb_plugin_slot *p = &r->plugins[i];
        sb_result res = SB_RESULT_INIT;
        /* A failed init is not followed by fini (plugin.h, LIFECYCLE). */
        if (p->loaded.desc->init(sb_host_api_table(), &res) != SB_OK) {
            sb_error_set(err, 1, "plugin %s failed to initialise: %s", p->loaded.desc->name,
                         res.message);
            sb_result_release(&res);
            return -1;
        }
        sb_result_release(&res);
        p->initialized = 1;
    }
    for (size_t i = 0; i < r->n_instances; i++) {
        sb_instance *inst = &r->instances[i];
        sb_result res = SB_RESULT_INIT;
        if (inst->plugin->loaded.desc->instance_new(inst->config, &inst->handle, &res) != SB_OK) {
            inst->handle = NULL; /* instance_free only follows a successful instance_new */
            sb_error_set(err, 1, "%s '%s' (plugin %s) failed to start: %s", inst->kind, inst->name,
                         inst->plugin->loaded.desc->name, res.message);
            sb_result_release(&res);
            return -1;
        }
        sb_result_release(&res);
        sb_info("plugin", "started %s instance %s of plugin %s", inst->kind, inst->name,
                inst->plugin->loaded.desc->name);
    }
    return 0;
}

void sb_registry_stop(sb_registry *r)
{
    for (size_t i = r->n_instances; i-- > 0;) {
        sb_instance *inst = &r->instances[i];
        if (inst->handle)
            inst->plugin->loaded.desc->instance_free(inst->handle);
        inst->handle = NULL;
    }
    for (size_t i = r->n_plugins; i-- > 0;) {
        sb_plugin_slot *p = &r->plugins[i];
        if (p->initialized && p->loaded.desc->fini)
            p->loaded.desc->fini();
        p->initialized = 0;
    }
}

void sb_registry_free(sb_registry *r)
{
    sb_registry_stop(r);
    for (size_t i = 0; i < r->n_instances; i++) {
        sb_instance_config_free(r->instances[i].config);
        pthread_mutex_destroy(&r->instances[i].lock);
    }
    for (size_t i = 0; i < r->n_plugins; i++)
        sb_plugin_unload(&r->plugins[i].loaded);
    free(r->instances);
    free(r->plugins);
    memset(r, 0, sizeof *r);
}

sb_instance *sb_registry_instance(sb_registry *r, const char *kind, const char *name)
{
    for (size_t i = 0; i < r->n_instances; i++)
        if (strcmp(r->instances[i].kind, kind) == 0 && strcmp(r->instances[i].name, name) == 0)
            return &r->instances[i];
    return NULL;
}
