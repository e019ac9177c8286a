/*
 * tests/support/emulator_support.h — what plugin tests against an emulator
 * share: one emulator process per test (a Python script under the source
 * tree, started in the fixture with its port read from --port-file under a
 * deadline, killed with the test), libcurl helpers for the emulator's
 * control API (/_emulator/, header X-Emulator-Admin: 1) and raw calls, and
 * small helpers over the host API (bundles, reads, metadata sinks, temp
 * files) for a plugin opened through the real loader
 * (tests/support/plugin_harness.h).
 *
 * Everything here fails the current criterion test on error; helpers return
 * heap strings the caller frees. Used by tests/plugins/vault and
 * tests/plugins/awssm.
 */
#ifndef SB_TESTS_EMULATOR_SUPPORT_H
#define SB_TESTS_EMULATOR_SUPPORT_H

#include <curl/curl.h>
#include <sbridge/plugin.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "emulator_proc.h"
#include "plugin_harness.h"

/* Starts `python3 SB_SOURCE_DIR/<script_rel> --port 0 --port-file F` plus
 * extra arguments (NULL-terminated list; may be NULL). */
void es_emulator_start(const char *script_rel, const char *const *extra_args);
void es_emulator_stop(void);
int es_port(void);

/* Any number of further emulators (e.g. Argo CD beside a provider's): the
 * same start and stop on a process of the caller's (emulator_proc.h). */
void es_proc_start(es_proc *e, const char *script_rel, const char *const *extra_args);

/* One HTTP request to `url`; returns the status, *out gets the body (heap)
 * when out is non-NULL. */
long es_http(const char *method, const char *url, struct curl_slist *headers, const char *json,
             char **out);
/* POST/GET/DELETE /_emulator/<name>; returns the HTTP status, *out gets
 * the body (heap) when out is non-NULL. */
long es_admin(const char *method, const char *name, const char *json, char **out);
/* Like es_admin but fails the test unless the status is 200. */
void es_admin_ok(const char *method, const char *name, const char *json);

/* Host API helpers. */
const sb_host_api *es_host(sb_harness *h);
const sb_provider_ops *es_provider(sb_harness *h);
const sb_kms_ops *es_kms(sb_harness *h);
/* The value of `key` in the bundle as a NUL-terminated heap copy (test
 * only), or NULL when absent. */
char *es_bundle_get(sb_harness *h, const sb_bundle *b, const char *key, sb_value_kind *kind);
/* A MAP bundle from "k1", "v1", "k2", "v2", ..., NULL (STRING values). */
sb_bundle *es_bundle(sb_harness *h, ...);
/* Reads `path` through the plugin (fails the test unless SB_OK). */
sb_bundle *es_read_ok(sb_harness *h, const char *path, const char *version,
                      sb_version_info *v);

/* Collects emitted metadata (paths and labels as text) for list/describe. */
typedef struct es_item {
    char *path;
    char *version;
    char *labels; /* "k=v;k=v;" in emitted order */
    uint32_t flags;
    int64_t created, updated;
} es_item;
typedef struct es_sink {
    es_item *items;
    size_t n, cap;
    size_t stop_after; /* 0: never ask to stop */
} es_sink;
int es_sink_collect(void *sink, const sb_metadata *m);
void es_sink_free(es_sink *s);
const es_item *es_sink_find(const es_sink *s, const char *path);

/* Number of non-overlapping occurrences of needle in hay. */
size_t es_count(const char *hay, const char *needle);

/* Writes `text` to a new file in the test's temporary directory and
 * returns its absolute path (heap). */
char *es_temp_file(const char *name, const char *text);

#endif
