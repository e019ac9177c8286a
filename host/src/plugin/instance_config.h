/*
 * plugin/instance_config.h — a plugin instance's configuration, validated
 * against the schema the plugin declares (sb_config_field[]).
 *
 * Contract: sb_plugin_schema_check lists every defect of a plugin's schema
 * (used before any YAML is validated against it, and by `plugin check`).
 * sb_instance_config_build validates one instance's `config:` mapping with
 * exactly the host's scalar rules (schema.h): unknown keys (with hints),
 * types, ranges, enums, URL/path flags, required fields, conditional
 * `when` fields, references; SECRET values stay in secure memory and are
 * registered for redaction. The result is the ABI's opaque sb_config,
 * read by plugins through host->config_*.
 */
#ifndef SB_PLUGIN_INSTANCE_CONFIG_H
#define SB_PLUGIN_INSTANCE_CONFIG_H

#include <sbridge/plugin.h>

#include "config/diag.h"
#include "config/yaml_doc.h"

/* Appends one line per problem to `problems` (may be NULL) and returns the
 * number found. */
size_t sb_plugin_schema_check(const sb_plugin *d, char *problems, size_t cap);

/* `node` may be NULL (no config section). `path` prefixes messages, e.g.
 * "providers[0].config". Returns 0 or the number of errors added. */
size_t sb_instance_config_build(const sb_plugin *d, const char *instance_name, const sb_ynode *node,
                                const char *path, sb_diags *diags, sb_config **out);
void sb_instance_config_free(sb_config *cfg);

/* Host API accessors (see sb_host_api). */
const char *sb_instance_config_string(const sb_config *cfg, const char *key);
int64_t sb_instance_config_int(const sb_config *cfg, const char *key);
int sb_instance_config_bool(const sb_config *cfg, const char *key);
size_t sb_instance_config_entries(const sb_config *cfg, const char *key, const sb_kv **entries);
const char *sb_instance_config_secret(const sb_config *cfg, const char *key);
const char *sb_instance_config_name(const sb_config *cfg);

#endif
