/*
 * plugin/registry.h — the plugins and plugin instances of one process.
 *
 * Contract: sb_registry_load loads exactly the plugins a role's settings
 * list (plugins.load), from the configured directory only, applying every
 * loader rule; refuses duplicate plugin names, a descriptor name that
 * differs from the configured name, and capabilities the config asks for
 * (plugins.load[].capabilities, or implied by an instance's use) that the
 * plugin lacks; checks each plugin's schema; and validates every instance
 * config against its plugin's schema. All problems are reported as
 * diagnostics at their YAML positions. Nothing is initialised yet, so
 * `config check` can run this without side effects.
 *
 * sb_registry_start calls init once per plugin and instance_new per
 * instance, all from the calling thread, one after another (never
 * concurrently); it stops at the first failure. sb_registry_stop undoes it
 * in reverse: instance_free only for instances whose instance_new
 * succeeded, fini only for plugins whose init succeeded (a failed init is
 * never followed by fini). Name, version, required and built-with ABI and
 * SHA-256 of each loaded plugin are logged.
 */
#ifndef SB_PLUGIN_REGISTRY_H
#define SB_PLUGIN_REGISTRY_H

#include <pthread.h>
#include <sbridge/plugin.h>

#include "config/settings.h"
#include "plugin/loader.h"

typedef struct sb_plugin_slot {
    sb_loaded_plugin loaded;
    int initialized;
} sb_plugin_slot;

typedef struct sb_instance {
    const char *name;         /* borrowed from settings */
    const char *kind;         /* "provider", "kms", "notifier", "gitops" */
    uint64_t capability;      /* the capability this instance is used for */
    sb_plugin_slot *plugin;
    sb_config *config;
    const sb_strmap *fence;   /* providers: borrowed from settings */
    void *handle;             /* from instance_new */
    pthread_mutex_t lock;     /* held around calls for SB_THREAD_SERIAL */
} sb_instance;

typedef struct sb_registry {
    sb_plugin_slot *plugins;
    size_t n_plugins;
    sb_instance *instances;
    size_t n_instances;
} sb_registry;

/* plugin_dir_override: NULL, or a directory that replaces plugins.directory
 * (the --plugin-dir option / SBRIDGE_PLUGIN_DIR). Returns the error count. */
size_t sb_registry_load(sb_registry *r, const sb_settings *s, const char *plugin_dir_override,
                        sb_diags *d);
/* The directory plugins load from: the override, else SBRIDGE_PLUGIN_DIR,
 * else plugins.directory, else this install's (sb_plugin_default_directory). */
const char *sb_registry_directory(const sb_settings *s, const char *plugin_dir_override);
int sb_registry_start(sb_registry *r, sb_error *err);
void sb_registry_stop(sb_registry *r);
void sb_registry_free(sb_registry *r);

sb_instance *sb_registry_instance(sb_registry *r, const char *kind, const char *name);

#endif
