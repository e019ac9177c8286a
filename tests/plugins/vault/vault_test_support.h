/*
 * tests/plugins/vault/vault_test_support.h — what the Vault plugin tests
 * share: one Vault emulator process per test (started in the fixture, with
 * its port read from --port-file under a deadline, killed with the test),
 * libcurl helpers for the emulator's control API (/_emulator/, header
 * X-Emulator-Admin: 1) and for direct Vault calls made by "another client",
 * the plugin opened through the real loader (tests/support/plugin_harness.h),
 * and small helpers over the host API (bundles, secure buffers, JSON).
 *
 * Everything here fails the current criterion test on error; helpers return
 * heap strings the caller frees.
 */
#ifndef SB_TESTS_VAULT_SUPPORT_H
#define SB_TESTS_VAULT_SUPPORT_H

#include <sbridge/plugin.h>
#include <stddef.h>

#include "plugin_harness.h"

/* Starts the emulator with extra command-line arguments (NULL-terminated
 * list; may be NULL) and stops it at exit of the test process. */
void vt_emulator_start(const char *const *extra_args);
void vt_emulator_stop(void);
int vt_port(void);

/* POST/GET/DELETE /_emulator/<name>; returns the HTTP status, *out gets
 * the body (heap) when out is non-NULL. */
long vt_admin(const char *method, const char *name, const char *json, char **out);
/* Like vt_admin but fails the test unless the status is 200. */
void vt_admin_ok(const char *method, const char *name, const char *json);

/* A Vault API call as another client: `path` after /v1/, token and
 * namespace may be NULL; extra_header may be NULL ("Name: value"). */
long vt_vault(const char *method, const char *path, const char *token, const char *ns,
              const char *json, const char *extra_header, char **out);

/* Opens the plugin with the YAML config `address: http://127.0.0.1:PORT`
 * followed by `yaml_rest` (e.g. "auth: token\ntoken: root\n"). Fails the
 * test when the harness refuses. */
sb_harness *vt_open(const char *yaml_rest);
/* Same, but returns NULL and fills err instead of failing. */
sb_harness *vt_try_open(const char *yaml_rest, char *err, size_t err_len);

/* Host API helpers. */
const sb_host_api *vt_host(sb_harness *h);
const sb_provider_ops *vt_provider(sb_harness *h);
const sb_kms_ops *vt_kms(sb_harness *h);
/* The value of `key` in the bundle as a NUL-terminated heap copy (test
 * only), or NULL when absent. */
char *vt_bundle_get(sb_harness *h, const sb_bundle *b, const char *key, sb_value_kind *kind);
/* A MAP bundle from "k1", "v1", "k2", "v2", ..., NULL (STRING values). */
sb_bundle *vt_bundle(sb_harness *h, ...);

/* Reads `path` through the plugin (fails the test unless SB_OK). */
sb_bundle *vt_read_ok(sb_harness *h, const char *path, const char *version,
                      sb_version_info *v);

/* Collects emitted metadata (paths and labels as text) for list/describe. */
typedef struct vt_item {
    char *path;
    char *version;
    char *labels; /* "k=v;k=v;" in emitted order */
    uint32_t flags;
    int64_t created, updated;
} vt_item;
typedef struct vt_sink {
    vt_item *items;
    size_t n, cap;
    size_t stop_after; /* 0: never ask to stop */
} vt_sink;
int vt_sink_collect(void *sink, const sb_metadata *m);
void vt_sink_free(vt_sink *s);
const vt_item *vt_sink_find(const vt_sink *s, const char *path);

/* The emulator's request log as text; count entries matching method and a
 * path substring (NULL: any). */
char *vt_requests(void);
size_t vt_count_requests(sb_harness *h, const char *method, const char *path_part);

/* Number of non-overlapping occurrences of needle in hay. */
size_t vt_count(const char *hay, const char *needle);

/* Writes `text` to a new file in the test's temporary directory and
 * returns its absolute path (heap). */
char *vt_temp_file(const char *name, const char *text);

#endif
