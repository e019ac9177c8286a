/*
 * plugin/synthetic_config.h — a configuration made up from a plugin's
 * schema, for the conformance kit.
 *
 * Contract: returns a YAML mapping that sets every required field (and
 * every field required under a condition that holds with the chosen
 * values) to a plausible, harmless value of its type: strings
 * "conformance", URLs https://127.0.0.1:9 (nothing listens there), paths
 * under /nonexistent, integers/durations at their minimum, enums at their
 * default or first value. NULL on allocation failure.
 */
#ifndef SB_PLUGIN_SYNTHETIC_CONFIG_H
#define SB_PLUGIN_SYNTHETIC_CONFIG_H

#include <sbridge/plugin.h>

#include "config/yaml_doc.h"

sb_ynode *sb_synthetic_config(const sb_plugin *d);

#endif
