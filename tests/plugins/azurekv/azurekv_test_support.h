/*
 * tests/plugins/azurekv/azurekv_test_support.h — what the azurekv plugin
 * tests share beyond tests/support/emulator_support.h: the Key Vault
 * emulator (https port for the vault and Entra ID, plain port for IMDS and
 * the control API), the plugin opened against it, seeding, and provider
 * calls with a result the test inspects.
 */
#ifndef SB_TESTS_AZUREKV_SUPPORT_H
#define SB_TESTS_AZUREKV_SUPPORT_H

#include <sbridge/plugin.h>

#include "emulator_support.h"

#define KV_TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define KV_CLIENT "app-1"
#define KV_SECRET "client-secret-for-tests"
#define KV_AUTH_SECRET "auth: client_secret\nclient_id: " KV_CLIENT "\nclient_secret: " KV_SECRET "\n"

/* Starts the emulator and registers KV_CLIENT with KV_SECRET. */
void kv_emulator_start(void);
int kv_tls_port(void);
const char *kv_ca_file(void);

/* Opens the plugin with vault_url, authority_host and imds_endpoint at the
 * emulator, its CA, verify_challenge_resource off, then `yaml_rest`. */
sb_harness *kv_open(const char *yaml_rest);
/* The same but returns NULL and the harness's error text in err. */
sb_harness *kv_try_open(const char *yaml_rest, char *err, size_t cap);

/* Sets a secret through the control API (`extra_json` e.g.
 * "\"tags\":{\"team\":\"a\"}" or NULL); returns its version id (heap). */
char *kv_seed(const char *name, const char *value_json, const char *extra_json);

sb_status kv_read(sb_harness *h, const char *path, const char *version, sb_bundle **out,
                  sb_version_info *v, sb_result *res);
sb_status kv_write(sb_harness *h, const char *path, const sb_bundle *b, const char *expected,
                   sb_version_info *v, sb_result *res);
/* Lists with `query` into sink; next_cursor (may be NULL) gets the cursor. */
sb_status kv_list(sb_harness *h, const sb_list_query *q, es_sink *sink, char **next_cursor,
                  sb_result *res);

/* The emulator's request log / token request log (JSON text, heap). */
char *kv_requests(void);
char *kv_token_requests(void);

#endif
