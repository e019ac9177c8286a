/*
 * tests/support/plugin_harness.h — drive one plugin through the real host:
 * the real loader (file checks, ABI checks), the real config validation
 * against the plugin's schema, the real host API table (secure memory,
 * JSON, bundles, HTTP via libcurl), init and instance_new.
 *
 * Used by plugin-level tests (tests/plugins/<name>/). Not part of sbridge.
 */
#ifndef SB_TESTS_PLUGIN_HARNESS_H
#define SB_TESTS_PLUGIN_HARNESS_H

#include <sbridge/plugin.h>
#include <stddef.h>

typedef struct sb_harness sb_harness;

/* Loads `plugin_path` (absolute path to the .so; its directory is used as
 * the plugin directory), validates `yaml_config` (the instance's `config:`
 * mapping as YAML text, e.g. "address: http://127.0.0.1:8200\nauth: token\n")
 * against the plugin schema, calls init and instance_new. Returns NULL and
 * writes every problem (one per line) to err on failure. */
sb_harness *sb_harness_open(const char *plugin_path, const char *yaml_config, char *err,
                            size_t err_len);
/* Same, on a host of ABI 1.<host_minor>: the loader checks the plugin
 * against that minor, and init receives the host table as such a host hands
 * it over (0: it ends before the functions 1.1 added). sb_harness_open is
 * the current minor. */
sb_harness *sb_harness_open_minor(const char *plugin_path, const char *yaml_config, int host_minor,
                                  char *err, size_t err_len);
/* How many times plugins called host->http_batch through these tables. */
long sb_harness_http_batches(void);
void sb_harness_close(sb_harness *h);

const sb_plugin *sb_harness_descriptor(const sb_harness *h);
const sb_host_api *sb_harness_host(const sb_harness *h);
void *sb_harness_instance(const sb_harness *h);
/* A fresh call context with the given timeout (owned by the harness; valid
 * until the next sb_harness_call or close). */
const sb_call *sb_harness_call(sb_harness *h, int64_t timeout_ms);
/* Number of live secure allocations (buffers, bundles, JSON documents) —
 * tests assert it returns to its earlier value (no leaks across the ABI). */
long sb_harness_live_secure_allocations(void);

#endif
