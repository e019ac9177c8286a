/*
 * plugin/inspect.h — `sbridge plugin inspect`: a plugin's descriptor for
 * humans (text) and tools (--json).
 *
 * Contract: prints identity, ABI, SHA-256, capabilities, provider features,
 * thread model and the config schema (type, required, default, range, enum
 * values, condition, help; secret fields marked and never given a value).
 */
#ifndef SB_PLUGIN_INSPECT_H
#define SB_PLUGIN_INSPECT_H

#include <stdio.h>

#include "plugin/loader.h"

void sb_inspect_text(const sb_loaded_plugin *p, FILE *out);
void sb_inspect_json(const sb_loaded_plugin *p, FILE *out);

#endif
