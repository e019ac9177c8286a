/*
 * tests/plugins/vault/vault_test_support.h — what the Vault plugin tests
 * share beyond tests/support/emulator_support.h: the Vault emulator
 * started with optional flags, direct Vault calls made by "another client",
 * the plugin opened with `address:` pointing at the emulator, and the
 * emulator's request log.
 */
#ifndef SB_TESTS_VAULT_SUPPORT_H
#define SB_TESTS_VAULT_SUPPORT_H

#include <sbridge/plugin.h>
#include <stddef.h>

#include "emulator_support.h"

/* Starts the Vault emulator with extra command-line arguments
 * (NULL-terminated list; may be NULL); es_emulator_stop stops it. */
void vt_emulator_start(const char *const *extra_args);

/* A Vault API call as another client: `path` after /v1/, token and
 * namespace may be NULL; extra_header may be NULL ("Name: value"). */
long vt_vault(const char *method, const char *path, const char *token, const char *ns,
              const char *json, const char *extra_header, char **out);

/* Opens the plugin with the YAML config `address: http://127.0.0.1:PORT`
 * followed by `yaml_rest` (e.g. "auth: token\ntoken: root\n"). Fails the
 * test when the harness refuses. */
sb_harness *vt_open(const char *yaml_rest);
/* Same, on a host of ABI 1.<host_minor> (0: the host table ends before
 * http_batch; see sb_harness_open_minor). */
sb_harness *vt_open_on_host_minor(const char *yaml_rest, int host_minor);
/* Same, but returns NULL and fills err instead of failing. */
sb_harness *vt_try_open(const char *yaml_rest, char *err, size_t err_len);

/* The emulator's request log as text; count entries matching method and a
 * path substring (NULL: any). */
char *vt_requests(void);
size_t vt_count_requests(sb_harness *h, const char *method, const char *path_part);

#endif
